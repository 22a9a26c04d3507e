"""Snyk REST audit-log search pages through the real ``secpipe ingest``: an empty page (no
event in the searched window, ``{"data": {"items": []}}`` or ``{"data": []}``) is no event and
no dead letter, as an empty CloudTrail ``Records`` file is, so the summary's ``events`` is
always stored + duplicates + dead-lettered and a CI job does not fail (exit 3) on it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import SECPIPE

CASES = Path(__file__).resolve().parents[1] / "cases" / "snyk_audit"
SNAKE = {"groupId": "group_id", "orgId": "org_id", "projectId": "project_id", "userId": "user_id"}


def _summary(data: Path, doc: Path) -> tuple[int, dict[str, object]]:
    pr = subprocess.run([*SECPIPE, "ingest", "--json", "--format", "snyk_audit", "--data", str(data), str(doc)],
                        capture_output=True, text=True, timeout=120)
    return pr.returncode, json.loads(pr.stdout)


def _consistent(out: dict[str, object]) -> bool:
    stored = sum(out["stored"].values())  # type: ignore[attr-defined]
    return out["events"] == stored + out["duplicates"] + out["dead_letter"]  # type: ignore[operator]


@pytest.mark.parametrize("page", [
    {"data": {"items": [], "links": {"self": "/orgs/o/audit_logs/search?version=2024-10-15"}}, "jsonapi": {"version": "1.0"}},
    {"data": [], "links": {"self": "/groups/g/audit_logs/search?version=2024-10-15"}},
])  # fmt: skip
def test_an_empty_page_is_no_event_and_no_dead_letter(tmp_path: Path, page: dict[str, object]) -> None:
    doc = tmp_path / "page.json"
    doc.write_text(json.dumps(page))
    rc, out = _summary(tmp_path / "d", doc)
    assert (rc, out["events"], out["dead_letter"], out["stored"]) == (0, 0, 0, {})


def test_pages_with_items_count_every_item(tmp_path: Path) -> None:
    events = [json.loads(x) for x in (CASES / "panther_snyk_audit.jsonl").read_bytes().splitlines()]
    items = [{SNAKE.get(k, k): v for k, v in e.items()} for e in events]
    bad = {"created": "2024-01-01T00:00:00Z", "org_id": "o"}  # no event name: dead-lettered, and counted
    for i, page in enumerate([{"data": {"items": [*items, bad]}}, {"data": [*items, bad]}]):
        doc = tmp_path / f"p{i}.json"
        doc.write_text(json.dumps(page))
        rc, out = _summary(tmp_path / f"d{i}", doc)
        assert rc == 3 and out["events"] == len(items) + 1 and out["dead_letter"] == 1 and _consistent(out), out
        assert out["stored"] == {"api_activity": len(items)}
