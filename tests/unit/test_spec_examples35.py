"""Official examples of the formats' specifications and documentation, run as given (session 35).

Each test names the example it copies (abridged where it says so); expected values were read from
the specification text cited beside it and the OCSF 1.8.0 schema, not from the mapping.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from secpipe import formats
from tests.unit.native_support import same_both_ways
from tests.unit.spec_support import detected, rows

# microsoft/sarif-tutorials samples/DefaultRuleConfiguration.sarif (commit 403dd17359, MIT; the
# "properties" comments left out): "This result is an error according to the default rule
# configuration." Its results name rules (TUT1001, TUT1002) the run does not define, and point by
# ruleIndex at the rules it does (TUT0001 error, TUT0002 warning). SARIF 2.1.0 §3.27.6: ruleIndex is
# the index of the rule's descriptor in the tool component's rules; §3.27.10: a result without
# ``level`` takes its rule's defaultConfiguration.level (§3.50.3), else "warning".
SARIF_DEFAULT_RULE_CONFIGURATION = {
    "$schema": "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.5.json",
    "version": "2.1.0",
    "runs": [{
        "tool": {"driver": {"name": "SarifSamples", "rules": [
            {"id": "TUT0001", "defaultConfiguration": {"level": "error"}},
            {"id": "TUT0002", "defaultConfiguration": {"level": "warning"}},
        ]}},
        "results": [
            {"ruleId": "TUT1001", "ruleIndex": 0,
             "message": {"text": "This result is an error according to the default rule configuration."},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///C:/code/myProject/io/kb.c"}}}]},
            {"ruleId": "TUT1002", "ruleIndex": 1,
             "message": {"text": "This result is a warning according to the default rule configuration."},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///C:/code/myProject/io/file.c"}}}]},
        ],
        "columnKind": "utf16CodeUnits",
    }],
}  # fmt: skip


def test_sarif_rule_index_resolves_a_rule_id_the_run_does_not_define() -> None:
    doc = json.dumps(SARIF_DEFAULT_RULE_CONFIGURATION).encode()
    assert detected(doc) == "sarif"
    res = formats.get("sarif").decode(doc, "spec")
    assert res.dead == []
    error, warning = rows(res)
    # before: the unknown ruleId left both results without a rule, both "warning" (Medium)
    assert (error["severity_id"], error["severity"]) == (4, "High")
    assert (warning["severity_id"], warning["severity"]) == (3, "Medium")
    # the result's own ruleId stays what it reports
    assert error["finding_info"]["analytic"]["uid"] == "TUT1001"
    assert error["vulnerabilities"][0]["affected_code"][0]["file"]["path"] == "C:/code/myProject/io/kb.c"


def test_sarif_rule_id_still_wins_over_an_index_that_disagrees() -> None:
    # a ruleId the run defines decides, whatever the index says (Snyk Code's ruleIndex can point
    # elsewhere; SARIF §3.27.5: ruleId identifies the rule)
    log = json.loads(json.dumps(SARIF_DEFAULT_RULE_CONFIGURATION))
    log["runs"][0]["results"][1]["ruleId"] = "TUT0002"
    log["runs"][0]["results"][1]["ruleIndex"] = 0
    _, warning = rows(formats.get("sarif").decode(json.dumps(log).encode(), "spec"))
    assert warning["severity"] == "Medium"


# GitLab merge request 89350 ("Event type information in streaming audit event for project download",
# https://gitlab.com/gitlab-org/gitlab/-/merge_requests/89350): the UI's repository download streams
# as ``repository_download_operation``, its details' custom_message "Repository Download Started",
# an unauthenticated user as author_id -1 / "An unauthenticated user". The body is that of merge
# request 88509's example (https://gitlab.com/gitlab-org/gitlab/-/merge_requests/88509, the same
# event streamed) with the download's type, message and author; GitLab's audit event schema
# (https://docs.gitlab.com/user/compliance/audit_event_schema) types ``id`` as a string.
GITLAB_DOWNLOAD = {
    "id": "1653461355", "author_id": -1, "entity_id": 6, "entity_type": "Project",
    "details": {"author_name": "An unauthenticated user", "target_id": 6, "target_type": "Project",
                "target_details": "Flight", "custom_message": "Repository Download Started",
                "ip_address": "127.0.0.1", "entity_path": "flightjs/Flight"},
    "ip_address": "127.0.0.1", "author_name": "An unauthenticated user", "entity_path": "flightjs/Flight",
    "target_details": "Flight", "created_at": "2022-05-25T06:49:15.213Z", "target_type": "Project",
    "target_id": 6, "event_type": "repository_download_operation",
}  # fmt: skip


def test_gitlab_repository_download_is_a_read_with_its_message() -> None:
    doc = json.dumps(GITLAB_DOWNLOAD).encode()
    assert detected(doc) == "gitlab"
    (r,) = rows(formats.get("gitlab").decode(doc, "spec"))
    assert (r["class_uid"], r["metadata"]["event_code"]) == (6003, "repository_download_operation")
    # before: activity Other (neither "repository" nor "operation" is a verb) and no message
    assert (r["activity_id"], r["type_uid"]) == (2, 600302)
    assert r["message"] == "Repository Download Started"
    assert r["time"] == 1653461355213 and r["src_endpoint"]["ip"] == "127.0.0.1"
    assert (r["actor"]["user"]["name"], r["actor"]["user"]["uid"]) == ("An unauthenticated user", "-1")


def test_gitlab_git_operation_object_message_is_no_sentence() -> None:
    # merge request 88509's example as given: custom_message an object naming the Git service
    ev = GITLAB_DOWNLOAD | {"event_type": "repository_git_operation", "author_id": 1, "author_name": "Administrator"}
    ev["details"] = GITLAB_DOWNLOAD["details"] | {"custom_message": {"protocol": "ssh", "action": "git-upload-pack"}}
    (r,) = rows(formats.get("gitlab").decode(json.dumps(ev).encode(), "spec"))
    assert r["activity_id"] == 2 and r.get("message") is None
    assert json.loads(r["unmapped"])["details"]["custom_message"] == {"protocol": "ssh", "action": "git-upload-pack"}


# GitLab "Webhook events", "Push events" payload example (gitlab-org/gitlab
# doc/user/project/integrations/webhook_events.md; project and repository abridged, one commit of
# two): the pusher is named at the top, ``user_email`` among them.
GITLAB_PUSH = {
    "object_kind": "push", "event_name": "push", "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
    "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "ref": "refs/heads/master", "ref_protected": True,
    "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "user_id": 4, "user_name": "John Smith",
    "user_username": "jsmith", "user_email": "john@example.com", "project_id": 15,
    "project": {"id": 15, "name": "Diaspora", "web_url": "http://example.com/mike/diaspora", "namespace": "Mike",
                "path_with_namespace": "mike/diaspora", "default_branch": "master"},
    "commits": [{"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "message": "fixed readme", "title": "fixed readme",
                 "timestamp": "2012-01-03T23:36:29+02:00", "author": {"name": "GitLab dev user",
                 "email": "gitlabdev@dv6700.(none)"}, "added": ["CHANGELOG"], "modified": [], "removed": []}],
    "total_commits_count": 4,
}  # fmt: skip


@pytest.mark.parametrize("copies", [1, 70])  # one hook (msgspec), a batch the native walker takes
def test_gitlab_push_hook_keeps_the_pushers_email(copies: int, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = b"\n".join([json.dumps(GITLAB_PUSH).encode()] * copies)
    assert detected(doc) == "gitlab"
    found = rows(same_both_ways("gitlab", doc, monkeypatch, "push"))
    assert len(found) == copies
    user = found[0]["actor"]["user"]
    # before: user_email was counted as mapped but placed nowhere (lost)
    assert (user["name"], user["full_name"], user["uid"], user["email_addr"]) == ("jsmith", "John Smith", "4",
                                                                                   "john@example.com")
    assert found[0]["message"] == "jsmith pushed 4 commit(s) to refs/heads/master"
    # the webhook documentation's "[REDACTED]" (no public email) is no address
    redacted = json.dumps(GITLAB_PUSH | {"user_email": "[REDACTED]"}).encode()
    assert rows(formats.get("gitlab").decode(redacted, "spec"))[0]["actor"]["user"].get("email_addr") is None


# GitLab "System hooks" (doc/administration/system_hooks.md) "Group renamed" and "Project created"
# examples, and "Webhook events" (doc/user/project/integrations/webhook_events.md) group member
# examples "Add member to group" / "Update member access level or expiration date" / "An access
# request is denied", as given. Their created_at/updated_at are the named object's own timestamps
# (Gitlab::HookData builders): a rename happened when the group was last saved, not when it was made.
GITLAB_SYSTEM = [
    {"event_name": "group_rename", "created_at": "2017-10-30T15:09:00Z", "updated_at": "2017-11-01T10:23:52Z",
     "name": "Better Name", "path": "better-name", "full_path": "parent-group/better-name", "group_id": 64,
     "old_path": "old-name", "old_full_path": "parent-group/old-name"},
    {"created_at": "2012-07-21T07:30:54Z", "updated_at": "2012-07-21T07:38:22Z", "event_name": "project_create",
     "name": "StoreCloud", "owner_email": "johnsmith@example.com", "owner_name": "John Smith",
     "owners": [{"name": "John", "email": "user1@example.com"}], "path": "storecloud",
     "path_with_namespace": "jsmith/storecloud", "project_id": 74, "project_namespace_id": 23,
     "project_visibility": "private"},
] + [
    {"created_at": "2020-12-11T04:57:22Z", "updated_at": updated, "group_name": "webhook-test",
     "group_path": "webhook-test", "group_id": 100, "user_username": "test_user", "user_name": "Test User",
     "user_email": "testuser@webhooktest.com", "user_id": 64, "group_access": access, "group_plan": None,
     "expires_at": expires, "event_name": event}
    for event, updated, access, expires in [
        ("user_add_to_group", "2020-12-11T04:57:22Z", "Guest", "2020-12-14T00:00:00Z"),
        ("user_update_for_group", "2020-12-12T08:48:19Z", "Developer", "2020-12-20T00:00:00Z"),
        ("user_access_request_denied_for_group", "2020-12-12T08:52:34Z", "Guest", "2020-12-14T00:00:00Z"),
    ]
]  # fmt: skip


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def test_gitlab_system_and_member_hooks_are_timed_by_the_change() -> None:
    doc = b"\n".join(json.dumps(e).encode() for e in GITLAB_SYSTEM)
    assert detected(doc) == "gitlab"
    res = formats.get("gitlab").decode(doc, "spec")
    assert res.dead == []
    got = {r["metadata"]["event_code"]: r for r in rows(res)}
    # before: every one was timed by created_at (a rename by the group's creation, 2017-10-30)
    when = {k: (r["time"], r["activity_id"]) for k, r in got.items()}
    assert when == {
        "group_rename": (_ms("2017-11-01T10:23:52+00:00"), 3),
        "project_create": (_ms("2012-07-21T07:30:54+00:00"), 1),
        "user_add_to_group": (_ms("2020-12-11T04:57:22+00:00"), 1),
        "user_update_for_group": (_ms("2020-12-12T08:48:19+00:00"), 3),
        # was activity Other: GitLab deletes a denied access request
        "user_access_request_denied_for_group": (_ms("2020-12-12T08:52:34+00:00"), 4),
    }
    # the time key read leaves unmapped, the other stays
    left = json.loads(got["group_rename"]["unmapped"])
    assert left["created_at"] == "2017-10-30T15:09:00Z" and "updated_at" not in left
    assert "created_at" not in json.loads(got["project_create"]["unmapped"])
