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
