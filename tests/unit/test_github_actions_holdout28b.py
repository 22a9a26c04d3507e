"""GitHub Actions REST API answers (workflow runs and jobs) -> Scheduled Job Activity.

Samples: ``tests/cases/github_actions28/SOURCES.md`` (real answers of ``/actions/runs`` and
``/actions/runs/{id}/jobs``); webhook parity against octokit's payload examples. They were
dead-lettered ("no format matched") before the github_actions format. Expected values are read in
the samples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "github_actions28"
OCTOKIT = Path("/work/shared/data/real/octokit-webhooks/payload-examples/api.github.com")
#: what the webhook rows report too: an actor (OCSF's host profile) asks for a device
_WEBHOOK_PROBLEMS = {"required device missing"}


def _decode(data: bytes) -> Decoded:
    fmt = formats.detect(data[:65536])
    assert fmt is not None
    assert fmt.name == "github_actions"
    return fmt.decode(data, "t")


def _rows(out: Decoded) -> list[dict[str, Any]]:
    rows = [r for b in out.batches for r in b.to_pylist()]
    assert set(check_rows("scheduled_job_activity", rows)) <= _WEBHOOK_PROBLEMS
    return rows


def _page(name: str) -> dict[str, Any]:
    return json.loads((CASES / name).read_bytes())


def test_runs_page() -> None:
    out = _decode((CASES / "runs-psf-requests.json").read_bytes())
    assert not out.dead
    [r] = _rows(out)
    run = _page("runs-psf-requests.json")["workflow_runs"][0]
    assert r["class_uid"] == 1006
    assert r["activity_id"] == 2  # status completed
    assert r["job"]["name"] == "Lock Threads"
    assert r["job"]["desc"] == "Lock Threads"
    assert r["job"]["file"]["path"] == ".github/workflows/lock-issues.yml"
    assert r["job"]["file"]["name"] == "lock-issues.yml"
    assert r["job"]["run_state_id"] == 4
    assert r["job"]["user"]["name"] == "nateprewitt"
    assert r["actor"]["user"] == {**r["actor"]["user"], "name": "nateprewitt", "uid": "5271761", "type_id": 1}
    assert (r["status_id"], r["status"], r["status_detail"]) == (1, "Success", "success")
    assert r["metadata"]["tenant_uid"] == "psf"  # the owning organization
    assert r["metadata"]["correlation_uid"] == r["metadata"]["original_event_uid"] == "37246313776"
    assert r["metadata"]["event_code"] == "workflow_run"
    assert r["time_dt"].isoformat() == "2026-10-05T00:08:44+00:00"  # updated_at (a run has no completed_at)
    assert r["job"]["created_time"] == r["job"]["last_run_time"] == 1791158914000  # 2026-10-05T00:08:34Z
    assert json.loads(r["raw_data"]) == run
    unmapped = json.loads(r["unmapped"])
    assert unmapped["head_branch"] == "main"
    assert unmapped["head_sha"] == run["head_sha"]
    assert unmapped["repository"]["full_name"] == "psf/requests"


def test_single_run_is_the_page_item() -> None:
    """``GET .../actions/runs/{id}`` answers the run object alone: the same event as in the page."""
    run = _page("runs-psf-requests.json")["workflow_runs"][0]
    [single] = _rows(_decode(json.dumps(run, indent=2).encode()))
    [paged] = _rows(_decode((CASES / "runs-psf-requests.json").read_bytes()))
    assert single["metadata"]["uid"] == paged["metadata"]["uid"]
    assert single["job"] == paged["job"]


def test_jobs_page() -> None:
    out = _decode((CASES / "jobs-luoda.json").read_bytes())
    assert not out.dead
    failed, skipped = _rows(out)
    assert failed["job"]["name"] == skipped["job"]["name"] == "Build LDesk macOS DMG"  # the workflow, as the webhook
    assert (failed["job"]["desc"], skipped["job"]["desc"]) == ("build-dmg", "build-ios")
    assert (failed["status_id"], failed["status_detail"]) == (2, "failure")
    assert (skipped["status_id"], skipped["status_detail"]) == (1, "skipped")
    assert failed["metadata"]["correlation_uid"] == "30207029289"  # the run
    assert failed["metadata"]["original_event_uid"] == "89806783177"
    assert failed["metadata"]["event_code"] == "workflow_job"
    assert failed["time_dt"].isoformat() == "2026-07-26T15:10:21+00:00"  # completed_at
    assert failed["start_time"] == failed["job"]["last_run_time"] == 1785077608000  # started_at 14:53:28Z
    assert failed["end_time"] == 1785078621000  # completed_at 15:10:21Z
    assert json.loads(failed["unmapped"])["steps"][1]["conclusion"] == "failure"


def test_jobs_one_a_line_and_single_job() -> None:
    jobs = _page("jobs-luoda.json")["jobs"]
    lines = b"\n".join(json.dumps(j).encode() for j in jobs)
    assert [r["job"]["desc"] for r in _rows(_decode(lines))] == ["build-dmg", "build-ios"]
    [one] = _rows(_decode(json.dumps(jobs[0], indent=2).encode()))
    assert one["metadata"]["original_event_uid"] == "89806783177"


def test_empty_page_is_no_event() -> None:
    out = _decode(b'{\n  "total_count": 0,\n  "workflow_runs": [\n\n  ]\n}\n')
    assert (out.events, out.dead, out.batches) == (0, [], [])


def test_paginated_pages_back_to_back() -> None:
    """``gh api --paginate`` prints each page's object in turn (pretty, no separator)."""
    page = (CASES / "jobs-luoda.json").read_bytes().strip()
    out = _decode(page + page)
    assert [r["job"]["desc"] for r in _rows(out)] == ["build-dmg", "build-ios"] * 2


def test_malformed_run_dead_lettered_alone() -> None:
    page = _page("runs-psf-requests.json")
    good = page["workflow_runs"][0]
    page["workflow_runs"] = [{**good, "status": 3}, {"name": "CI", "status": "queued"}, good]
    out = _decode(json.dumps(page).encode())
    assert [r["metadata"]["original_event_uid"] for r in _rows(out)] == ["37246313776"]
    reasons = sorted(d.reason for d in out.dead)
    assert len(reasons) == 2
    assert "$.status" in reasons[0] or "$.status" in reasons[1]
    assert any("no `id` with `workflow_id`" in x for x in reasons)


@pytest.mark.skipif(not OCTOKIT.is_dir(), reason="octokit webhook examples not present")
def test_webhooks_stay_github() -> None:
    """A workflow_run/workflow_job webhook holds the same object under a key, with action and sender."""
    seen = 0
    for p in sorted(OCTOKIT.rglob("*.json")):
        data = p.read_bytes()
        assert formats.get("github_actions").sniff(data[:65536]) == 0, p
        if p.parent.name in ("workflow_run", "workflow_job"):
            fmt = formats.detect(data[:65536])
            assert fmt is not None and fmt.name == "github", p
            seen += 1
    assert seen >= 10


@pytest.mark.skipif(not OCTOKIT.is_dir(), reason="octokit webhook examples not present")
@pytest.mark.parametrize(("event", "case"), [("workflow_job", "completed.failure.with-organization"),
                                             ("workflow_run", "completed")])  # fmt: skip
def test_query_alike_webhook(event: str, case: str) -> None:
    """The webhook's run or job object read as an API answer maps to the webhook row's job and status."""
    data = (OCTOKIT / event / f"{case}.payload.json").read_bytes()
    [hook] = [r for b in formats.get("github").decode(data, "t").batches for r in b.to_pylist()]
    obj = json.loads(data)[event]
    [api] = _rows(formats.get("github_actions").decode(json.dumps(obj).encode(), "t"))
    # the run webhook names the workflow by its ``workflow`` object, which an API answer has not
    keys = ("name",) * (event == "workflow_job") + ("desc", "run_state_id", "run_state", "created_time", "last_run_time")
    for key in keys:
        assert api["job"].get(key) == hook["job"].get(key), key
    assert (api["job"].get("user") or {}).get("name") == (hook["job"].get("user") or {}).get("name")
    for key in ("status_id", "status", "status_detail", "time", "activity_id"):
        assert api[key] == hook[key], key
    assert api["metadata"]["correlation_uid"] == hook["metadata"]["correlation_uid"]
