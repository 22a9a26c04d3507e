"""GitLab audit events as GitLab's "Audit event streaming examples" document them (session 14).

Each event is tests/cases/cicd/gitlab_audit_stream.json (GitLab's documented streaming example)
with the ``event_type`` and ``details.custom_message`` of another documented example
(doc/administration/audit_event_streaming/examples.md): merge request create, project group
link create/update/destroy, merge request approval, the UI's repository download.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats.gitlab import GitLab

CASE = Path(__file__).resolve().parent.parent / "cases" / "cicd" / "gitlab_audit_stream.json"


@pytest.mark.parametrize(
    ("event_type", "message", "activity_id"),
    [
        ("merge_request_create", "Added merge request", 1),  # was 3: "merge" read as the verb
        ("project_group_link_create", "Added project group link", 1),  # was 99
        ("project_group_link_update", "Changed project group link profile group_access from Developer to Guest", 3),
        ("project_group_link_destroy", "Removed project group link", 4),
        ("audit_operation", "Approved merge request", 3),  # a generic type: the message's verb
        ("repository_git_operation", "Repository Download Started", 2),  # the UI download reads
        ("project_fork_operation", "Forked project to another-group/example-project-forked", 99),
    ],
)
def test_audit_activity_from_the_event_type_verb(event_type: str, message: str, activity_id: int) -> None:
    ev = json.loads(CASE.read_bytes())
    ev["event_type"] = event_type
    ev["details"]["custom_message"] = message
    dec = GitLab().decode(json.dumps(ev).encode(), "test")
    assert dec.dead == [] and dec.events == 1
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    assert (row["class_uid"], row["metadata"]["event_code"], row["activity_id"]) == (6003, event_type, activity_id)


# GitLab "Webhook events" documentation: release and milestone events name what happened in a
# top-level ``action`` (release: create/update/delete; milestone: create/close/reopen), not in
# object_attributes.action as issue and merge request events do.
_RELEASE = {"id": 1, "created_at": "2020-11-02 12:55:12 UTC", "description": "v1.1 has been released",
            "name": "v1.1", "released_at": "2020-11-02 12:55:12 UTC", "tag": "v1.1",
            "object_kind": "release", "project": {"id": 2, "name": "release-webhook-example",
                                                   "path_with_namespace": "gitlab-org/release-webhook-example"},
            "url": "https://example.com/gitlab-org/release-webhook-example/-/releases/v1.1", "action": "create"}  # fmt: skip
_MILESTONE = {"object_kind": "milestone", "event_type": "milestone",
              "project": {"id": 1, "name": "Gitlab Test", "path_with_namespace": "gitlabhq/gitlab-test"},
              "object_attributes": {"id": 61, "iid": 10, "title": "v1.0", "description": "First stable release",
                                    "state": "active", "created_at": "2025-06-16 14:10:57 UTC",
                                    "updated_at": "2025-06-16 14:10:57 UTC", "project_id": 1},
              "action": "create"}  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "action", "activity_id"),
    [(_RELEASE, "create", 1), (_RELEASE, "update", 3), (_RELEASE, "delete", 4),
     (_MILESTONE, "create", 1), (_MILESTONE, "close", 3), (_MILESTONE, "reopen", 1)],
)  # fmt: skip
def test_release_and_milestone_hooks_take_their_top_level_action(
    payload: dict, action: str, activity_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.native_support import same_both_ways

    kind = payload["object_kind"]
    one = dict(payload, action=action)
    rows = [r for b in GitLab().decode(json.dumps(one).encode(), "t").batches for r in b.to_pylist()]
    assert len(rows) == 1
    assert rows[0]["activity_id"] == activity_id and rows[0]["api"]["operation"] == f"{kind}.{action}"
    assert "action" not in json.loads(rows[0]["unmapped"] or "{}")  # mapped, not left over
    # a batch large enough for the native walk: the same columns both ways
    doc = b"\n".join(json.dumps(dict(one, id=i)).encode() for i in range(80))
    d = same_both_ways("gitlab", doc, monkeypatch, kind)
    assert not d.dead and sum(b.num_rows for b in d.batches) == 80
