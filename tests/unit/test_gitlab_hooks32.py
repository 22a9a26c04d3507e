"""GitLab webhooks GitLab's "Webhook events" documentation lists, checked kind by kind (session 32).

Payloads: the examples of that page (gitlab-org/gitlab ``doc/user/project/integrations/webhook_events.md``:
"Project and group access token events", "Release events", "Milestone events", "Tag events",
"Feature flag events", "Merge request events" with its documented ``approval`` action, "Project
events"), abridged to the keys the mapping reads; the ``deploy_token`` hook is the same shape
(GitLab's ``ResourceDeployTokenPayload``, merge request 196804's example). Before: a token hook was
timed by the token's creation and named no actor, a release and a milestone no actor either (OCSF API
Activity requires one), a release had no resource of its own, a tag push whose user is named by
``user_name`` alone said "None pushed", a merge request ``approval`` and a feature flag toggle were
activity Other, and a project event's owner was dropped.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from secpipe import formats
from secpipe.formats import _fast, _gitlab_native
from secpipe.schema.conformance import check_rows
from tests.unit.holdout_support import ADDRESS_ONLY, auto_decoded
from tests.unit.native_support import same_both_ways

PROJECT = {"id": 7, "name": "Flight", "web_url": "https://example.com/flightjs/Flight", "namespace": "Flightjs",
           "visibility_level": 0, "path_with_namespace": "flightjs/Flight", "default_branch": "master"}  # fmt: skip
TOKEN_ATTRS = {"user_id": 90, "created_at": "2024-01-24 16:27:40 UTC", "id": 25, "name": "acd", "expires_at": "2024-01-26"}
PROJECT_TOKEN = {"object_kind": "access_token", "project": PROJECT, "object_attributes": TOKEN_ATTRS,
                 "event_name": "expiring_access_token"}  # fmt: skip
GROUP_TOKEN = {"object_kind": "access_token",
               "group": {"group_name": "Twitter", "group_path": "twitter", "group_id": 35, "full_path": "twitter"},
               "object_attributes": TOKEN_ATTRS, "event_name": "expiring_access_token"}  # fmt: skip
DEPLOY_TOKEN = {"object_kind": "deploy_token", "project": PROJECT, "event_name": "expiring_deploy_token",
                "object_attributes": {"id": 79, "name": "ci-deploy", "expires_at": "2025-07-20"}}  # fmt: skip
RELEASE = {"id": 1, "created_at": "2020-11-02 12:55:12 UTC", "description": "v1.1 has been released", "name": "v1.1",
           "released_at": "2020-11-02 12:55:12 UTC", "tag": "v1.1", "object_kind": "release", "project": PROJECT,
           "url": "https://example.com/gitlab-org/release-webhook-example/-/releases/v1.1", "action": "create",
           "commit": {"id": "ee0a3fb31ac16e11b9dbb596ad16d4af654d08f8", "title": "Release v1.1",
                      "author": {"name": "Example User", "email": "user@example.com"}}}  # fmt: skip
MILESTONE = {"object_kind": "milestone", "event_type": "milestone", "project": PROJECT,
             "object_attributes": {"id": 61, "iid": 10, "title": "v1.0", "state": "active",
                                   "created_at": "2025-06-16 14:10:57 UTC", "updated_at": "2025-06-16 14:10:57 UTC"},
             "action": "create"}  # fmt: skip
TAG_PUSH = {"object_kind": "tag_push", "event_name": "tag_push", "before": "0" * 40,
            "after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", "ref": "refs/tags/v1.0.0", "ref_protected": True,
            "user_id": 1, "user_name": "John Smith", "project_id": 1, "project": PROJECT, "commits": [],
            "total_commits_count": 0}  # fmt: skip
USER = {"id": 1, "name": "Administrator", "username": "root", "email": "admin@example.com"}
FEATURE_FLAG = {"object_kind": "feature_flag", "project": PROJECT, "user": USER, "user_url": "http://example.com/root",
                "object_attributes": {"id": 6, "name": "test-feature-flag", "description": "d", "active": True}}  # fmt: skip
MR_APPROVAL = {"object_kind": "merge_request", "event_type": "merge_request", "user": USER, "project": PROJECT,
               "object_attributes": {"id": 99, "iid": 1, "title": "MS-Viewport", "created_at": "2013-12-03T17:23:34Z",
                                     "updated_at": "2013-12-03T17:23:34Z", "state": "opened", "action": "approval"}}  # fmt: skip
PROJECT_EVENT = {"event_name": "project_create", "created_at": "2024-10-07T10:43:48Z", "updated_at": "2024-10-07T10:43:48Z",
                 "name": "project1", "path": "project1", "path_with_namespace": "group1/project1", "project_id": 22,
                 "project_namespace_id": 32, "owners": [{"name": "John", "email": "user1@example.com"}],
                 "project_visibility": "private"}  # fmt: skip


def _rows(*payloads: dict[str, Any]) -> list[dict[str, Any]]:
    dec = formats.get("gitlab").decode(b"\n".join(json.dumps(p).encode() for p in payloads), "test")
    assert dec.dead == []
    return [r for b in dec.batches for r in b.to_pylist()]


def test_access_token_hooks_name_the_token_and_its_project_or_group() -> None:
    project, group, deploy = _rows(PROJECT_TOKEN, GROUP_TOKEN, DEPLOY_TOKEN)
    assert project["class_uid"] == 6003 and project["api"]["operation"] == "expiring_access_token"
    assert project["actor"] == {"app_name": "GitLab"}  # no user acts: GitLab sends the notice
    assert project["resources"] == [{"type": "project", "name": "flightjs/Flight", "uid": "7"},
                                    {"type": "access_token", "name": "acd", "uid": "25"}]  # fmt: skip
    assert project["message"] == "Access token acd of project flightjs/Flight expires on 2024-01-26"
    assert group["resources"][0] == {"type": "group", "name": "twitter", "uid": "35"}
    assert group["message"] == "Access token acd of group twitter expires on 2024-01-26"
    # the token's created_at is not when the notice was sent: the receipt time, labelled
    assert project["time"] != 1706113660000 and "secpipe:time_from_receipt" in project["metadata"]["labels"]
    assert deploy["api"]["operation"] == "expiring_deploy_token"
    assert deploy["message"] == "Deploy token ci-deploy of project flightjs/Flight expires on 2025-07-20"


def test_release_and_milestone_hooks_have_gitlab_as_actor_and_their_own_resource() -> None:
    release, milestone = _rows(RELEASE, MILESTONE)
    assert release["actor"] == {"app_name": "GitLab"} and milestone["actor"] == {"app_name": "GitLab"}
    assert {"type": "release", "name": "v1.1", "uid": "1"} in release["resources"]
    assert (release["activity_name"], release["time"]) == ("Create", 1604321712000)
    assert {"type": "milestone", "name": "v1.0", "uid": "61"} in milestone["resources"]


def test_tag_push_named_by_user_name_alone() -> None:
    (row,) = _rows(TAG_PUSH)
    assert row["message"] == "John Smith pushed 0 commit(s) to refs/tags/v1.0.0"
    assert row["actor"]["user"] == {"full_name": "John Smith", "uid": "1"} and "app_name" not in row["actor"]
    nobody = {k: v for k, v in TAG_PUSH.items() if not k.startswith("user_")}
    (row,) = _rows(nobody)
    assert row["message"] == "Pushed 0 commit(s) to refs/tags/v1.0.0" and row["actor"] == {"app_name": "GitLab"}


def test_merge_request_approval_and_feature_flag_toggle_are_updates() -> None:
    approval, unapproval, flag = _rows(MR_APPROVAL, _with_action(MR_APPROVAL, "unapproval"), FEATURE_FLAG)
    assert [r["activity_name"] for r in (approval, unapproval, flag)] == ["Update", "Update", "Update"]
    assert approval["api"]["operation"] == "merge_request.approval"


def test_project_event_owner_is_the_project_resource_owner() -> None:
    (row,) = _rows(PROJECT_EVENT)
    assert row["resources"] == [{"type": "project", "name": "group1/project1", "uid": "22", "owner": {"name": "John"}}]


def test_every_payload_taken_by_auto_detection_and_conformant(tmp_path: Path) -> None:
    payloads = [PROJECT_TOKEN, GROUP_TOKEN, DEPLOY_TOKEN, RELEASE, MILESTONE, TAG_PUSH, FEATURE_FLAG, MR_APPROVAL, PROJECT_EVENT]
    dec = auto_decoded(b"\n".join(json.dumps(p).encode() for p in payloads), tmp_path, "gitlab")
    assert not dec.dead and sum(b.num_rows for b in dec.batches) == len(payloads)
    for b in dec.batches:  # what test_ocsf_conformance allows GitLab aside (no cloud, an endpoint without name)
        problems = {k for k in check_rows("api_activity", b.to_pylist()) if k != "required cloud missing" and ADDRESS_ONLY not in k}
        assert not problems, problems


def _with_action(payload: dict[str, Any], action: str) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    out["object_attributes"]["action"] = action
    return out


@pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")
@pytest.mark.parametrize("payload", [PROJECT_TOKEN, GROUP_TOKEN, RELEASE, MILESTONE, TAG_PUSH, FEATURE_FLAG],
                         ids=lambda p: p["object_kind"] + ("_group" if "group" in p else ""))  # fmt: skip
def test_walked_natively_the_same(payload: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    n = _gitlab_native.MIN_BATCH
    recs = [payload, *({**payload, "_seq": i} for i in range(n - 1))]
    raws = [json.dumps(r, separators=(",", ":")).encode() for r in recs]  # compact, as GitLab sends them
    assert _gitlab_native.decode_hooks(raws, lambda: [msgspec.json.decode(r, type=dict[str, msgspec.Raw]) for r in raws])
    doc = b"\n".join(raws)
    dec = same_both_ways("gitlab", doc, monkeypatch, payload["object_kind"])
    assert not dec.dead and sum(b.num_rows for b in dec.batches) == n
