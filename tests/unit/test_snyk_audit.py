"""Snyk audit logs -> API Activity: golden records from Panther's real Snyk test events.

Expected values are read off the events (tests/cases/snyk_audit/, see SOURCE.md) and the
OCSF 1.8.0 API Activity class: the event name is the operation, its verb the activity
(``edit`` Update 3, ``stop_monitor`` Other 99, ``create`` Create 1), ``created`` (UTC, no zone
in API v1) the time, the user the actor, the Group/Organization/Project the resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from secpipe.formats import detect, get
from secpipe.formats.base import TIME_FROM_RECEIPT

CASES = Path(__file__).resolve().parents[1] / "cases" / "snyk_audit"
GROUP = "8fffffff-1555-4444-b000-b55555555555"
ORG = "21111111-a222-4eee-8ddd-a99999999999"


def _rows(data: bytes) -> list[dict[str, Any]]:
    out = get("snyk_audit").decode(data, "test")
    assert not out.dead, [d.reason for d in out.dead]
    return [r for b in out.batches for r in b.to_pylist()]


def test_real_events_golden() -> None:
    data = (CASES / "panther_snyk_audit.jsonl").read_bytes()
    assert detect(data[:4096]).name == "snyk_audit"
    rows = _rows(data)
    assert [r["api"]["operation"] for r in rows] == [
        "group.feature_flags.edit", "group.sso.edit", "org.project.stop_monitor", "org.project.ignore.create"]  # fmt: skip
    flags, sso, stop, ignore = rows
    for r in rows:
        assert (r["class_uid"], r["category_uid"], r["metadata"]["product"]["name"]) == (6003, 6, "Snyk")
        assert r["type_uid"] == 600300 + r["activity_id"]
        assert r["metadata"]["tenant_uid"] == GROUP and r["status_id"] == 1 and r["status"] == "Success"
        assert r["metadata"]["event_code"] == r["api"]["operation"]
        assert json.loads(r["raw_data"]) == json.loads(data.splitlines()[rows.index(r)])
    assert (flags["activity_id"], flags["activity_name"]) == (3, "Update")
    assert flags["time"] == 1681255934173  # 2023-04-11 23:32:14.173 UTC
    assert flags["actor"]["user"]["uid"] == "05555555-3333-4ddd-8ccc-755555555555"
    assert flags["resources"] == [{"type": "Snyk Group", "name": None, "uid": GROUP},
                                  {"type": "Snyk Organization", "name": None, "uid": ORG}]  # fmt: skip
    assert flags["unmapped"] is None
    # no `created`: kept with the receipt time, labelled
    assert TIME_FROM_RECEIPT in sso["metadata"]["labels"]
    assert json.loads(sso["unmapped"]) == {"content": {"unknown": "contents"}}
    assert (stop["activity_id"], stop["activity_name"]) == (99, "Other")
    assert stop["time"] == 1680190698580  # 2023-03-30 15:38:18.58
    assert stop["resources"][-1] == {"type": "Snyk Project", "name": None, "uid": "05555555-8555-2333-5aaa-600000000000"}
    assert json.loads(stop["unmapped"])["content"]["targetFile"] == "go.mod"
    assert (ignore["activity_id"], ignore["activity_name"]) == (1, "Create")
    assert ignore["actor"]["user"]["uid"] == "05555555-3333-4ddd-8ccc-75555555555"
    assert json.loads(ignore["unmapped"])["content"]["issueId"] == "SNYK-JS-UNDICI-3323845"


def test_v1_array_and_rest_search_page() -> None:
    """The v1 API answers a JSON array; the REST search answers ``{"data": {"items": [...]}}``
    with snake_case keys (Snyk's AuditLogSearch schema). Both give the same events."""
    events = [json.loads(x) for x in (CASES / "panther_snyk_audit.jsonl").read_bytes().splitlines()]
    snake = {"groupId": "group_id", "orgId": "org_id", "projectId": "project_id", "userId": "user_id"}
    items = [{snake.get(k, k): v for k, v in e.items()} for e in events]
    page = {"data": {"items": items, "links": {"next": "/orgs/x/audit_logs/search?cursor=abc"}}, "jsonapi": {"version": "1.0"}}
    v1 = _rows(msgspec.json.encode(events))
    rest = _rows(msgspec.json.encode(page))
    def view(r: dict[str, Any]) -> dict[str, Any]:
        own_time = r["metadata"]["labels"] is None  # else the receipt time, which differs between calls
        return {"activity_id": r["activity_id"], "time": r["time"] if own_time else None, "resources": r["resources"],
                "op": r["api"]["operation"], "user": r["actor"]["user"]["uid"], "unmapped": r["unmapped"]}

    assert [view(r) for r in v1] == [view(r) for r in rest] and len(v1) == 4


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"created": "2023-04-11 23:32:14.173", "groupId": "g"}', "no dotted `event` name"),
    (b'{"event": "org.user.add", "orgId": "o"', "invalid JSON"),
    (b'{"event": ["org.user.add"], "orgId": "o"}', "no dotted `event` name"),
])  # fmt: skip
def test_malformed_events_are_dead_lettered(body: bytes, reason: str) -> None:
    out = get("snyk_audit").decode(body, "test")
    assert not out.batches and len(out.dead) == 1
    assert reason.lower() in out.dead[0].reason.lower()
