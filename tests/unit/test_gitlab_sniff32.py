"""The GitLab sniff's ``custom_message`` rule (session 32): a GitLab audit event's ``details.custom_message``
beside the event's own keys, not any record naming a ``custom_message``.

OneLogin's Events API records have a top-level ``custom_message`` too (null on most events): the record below
is written from the field list of OneLogin's Event model (``onelogin-python-sdk`` ``docs/Event.md``: account_id,
event_type_id, id, created_at, user_id, ipaddr, actor_user_id, custom_message, actor_user_name, user_name ...).
GitLab claimed it at 70 and dead-lettered it (not a GitLab record); the generic json format's catch-all
now takes it (a Base Event)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.gitlab import GitLab

CASES = Path(__file__).resolve().parents[1] / "cases"

ONELOGIN = {
    "id": 999999999, "created_at": "2024-05-02T11:20:09.000Z", "account_id": 123456, "user_id": 77777,
    "event_type_id": 5, "notes": None, "ipaddr": "203.0.113.7", "actor_user_id": 77777, "assuming_acting_user_id": None,
    "role_id": None, "app_id": None, "group_id": None, "otp_device_id": None, "policy_id": None, "actor_system": "",
    "custom_message": None, "role_name": None, "app_name": None, "group_name": None, "actor_user_name": "Jane Doe",
    "user_name": "Jane Doe", "policy_name": None, "otp_device_name": None, "operation_name": None,
    "directory_sync_run_id": None, "directory_id": None, "resolution": None, "client_id": None,
    "resource_type_id": None, "error_description": None,
}  # fmt: skip


def test_onelogin_event_is_not_gitlab() -> None:
    body = json.dumps(ONELOGIN).encode()
    assert GitLab().sniff(body) == 0
    fmt = formats.detect(body, catch_all=True)
    assert fmt is not None and fmt.name == "json"
    dec = fmt.decode(body, "onelogin.json")
    assert not dec.dead and sum(b.num_rows for b in dec.batches) == 1


def test_gitlab_audit_events_still_claimed() -> None:
    for name in ("cicd/gitlab_audit_stream.json", "holdout/gitlab_audit_stream_git_ops.jsonl",
                 "holdout/gitlab-audit-events-api.json"):  # fmt: skip
        head = (CASES / name).read_bytes()[:65536]
        assert GitLab().sniff(head) >= 70, name
        assert formats.detect(head).name == "gitlab", name
