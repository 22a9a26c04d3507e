"""github_actions: the native walks' batch (``_walked``) is the batch msgspec's path makes.

Round 29 maps a page of runs or jobs from native walks (two; one since session 30) and Arrow kernels (issue #3's floor of
50k events per CPU-second on one core); these tests hold it to the same stored rows as the
msgspec path (``map_top``, taken when ``_fast.extract`` declines) over the real answers of
``tests/cases/github_actions28`` (psf/requests runs, luoda2023 jobs: see SOURCES.md), with the
fields the mapping reads varied one at a time (empty, null, absent, another state, an
organization's repository, a triggering actor that is null or an object without a login).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats import github_actions as ga

CASES = Path(__file__).resolve().parents[1] / "cases" / "github_actions28"

EDITS: list[dict[str, Any]] = [
    {}, {"name": ""}, {"workflow_name": ""}, {"workflow_name": None, "display_title": ""}, {"display_title": "t"},
    {"path": ".github/workflows/"}, {"path": "x.yml@refs/heads/main"}, {"path": "@ref"}, {"path": None},
    {"name": None, "path": None}, {"status": None}, {"status": ""}, {"status": "weird"}, {"status": "in_progress"},
    {"status": "queued"}, {"conclusion": None}, {"conclusion": "failure"}, {"conclusion": "odd"}, {"conclusion": ""},
    {"conclusion": "skipped"}, {"triggering_actor": None}, {"triggering_actor": {}}, {"triggering_actor": {"node_id": "x"}},
    {"actor": None}, {"triggering_actor": {"login": "bot", "id": 5, "type": "Bot"}}, {"triggering_actor": {"login": "o", "type": ""}},
    {"triggering_actor": {"login": "o", "type": "Mannequin"}}, {"created_at": "2024-01-02 03:04:05 UTC"}, {"created_at": ""},
    {"created_at": None, "updated_at": None}, {"completed_at": "2024-01-02T03:04:05.123+02:00"}, {"started_at": "bad"},
    {"run_started_at": None}, {"updated_at": "2030-01-01T00:00:00Z"}, {"repository": None}, {"repository": {"owner": None}},
    {"repository": {"owner": {"login": "org", "type": "Organization"}}}, {"extra_new_key": [1, {"a": "b"}]},
]  # fmt: skip


def _items(name: str, key: str) -> list[dict[str, Any]]:
    return json.loads((CASES / name).read_bytes())[key]  # type: ignore[no-any-return]


def _varied(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each edit applied to a copy of a real item (``None``: the key null; ``name``: absent)."""
    out = []
    for j, edit in enumerate(EDITS):
        rec = copy.deepcopy(items[j % len(items)])
        rec["id"] += j
        for k, v in edit.items():
            if k == "name" and v is None:
                rec.pop(k)
            else:
                rec[k] = v
        out.append(rec)
    return out


def _rows(batches: list[pa.RecordBatch]) -> list[dict[str, Any]]:
    rows = [r for b in batches for r in pa.Table.from_batches([b]).to_pylist()]
    for r in rows:  # a record with no time of its own is stamped with the receipt time (not compared)
        if r["metadata"].get("labels"):
            r.pop("time"), r.pop("time_dt")
    return sorted(rows, key=lambda r: r["metadata"]["uid"])


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of ``data`` by the walks and by msgspec's path (the walks declining)."""
    fmt = formats.get("github_actions")
    walked = fmt.decode(data, "t")
    with monkeypatch.context() as m:
        m.setattr(_fast, "extract", lambda *a, **k: None)
        plain = fmt.decode(data, "t")
    assert not walked.dead and not plain.dead
    return _rows(walked.batches), _rows(plain.batches)


needs_native = pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")


@needs_native
@pytest.mark.parametrize(("case", "key"), [("runs-psf-requests.json", "workflow_runs"), ("jobs-luoda.json", "jobs")])
def test_walked_page_is_msgspec_page(case: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    items = _varied(_items(case, key))
    page = json.dumps({"total_count": len(items), key: items}, indent=2).encode()
    walked, plain = _both(page, monkeypatch)
    assert len(walked) == len(EDITS)
    assert walked == plain


@needs_native
def test_walked_mixed_and_single(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs and jobs in one batch (NDJSON) and a single run take the walks with the same rows."""
    mixed = _varied(_items("runs-psf-requests.json", "workflow_runs"))[:20] + _varied(_items("jobs-luoda.json", "jobs"))[:20]
    walked, plain = _both(b"\n".join(json.dumps(r).encode() for r in mixed), monkeypatch)
    assert len(walked) == 40 and walked == plain
    walked, plain = _both((CASES / "runs-psf-requests.json").read_bytes(), monkeypatch)
    assert len(walked) == 1 and walked == plain


@needs_native
def test_real_pages_are_walked() -> None:
    """The real pages take the walks (a regression to msgspec's path would go unseen otherwise)."""
    for case, key in (("runs-psf-requests.json", "workflow_runs"), ("jobs-luoda.json", "jobs")):
        raws = [json.dumps(r, separators=(",", ":")).encode() for r in _items(case, key)]
        assert ga._walked(raws) is not None


@needs_native
def test_bad_records_take_msgspec_path() -> None:
    """A value of another type (also under a key the walk reads and keeps in unmapped) or a record that
    is neither run nor job: the batch takes msgspec's path, which dead-letters exactly it."""
    fmt = formats.get("github_actions")
    runs = _varied(_items("runs-psf-requests.json", "workflow_runs"))
    for field, value in (("workflow_id", "12"), ("repository", {"owner": {"id": "x"}}), ("triggering_actor", [1])):
        bad = copy.deepcopy(runs)
        bad[3][field] = value
        out = fmt.decode(json.dumps({"workflow_runs": bad}).encode(), "t")
        assert [d.offset for d in out.dead] == [3], field
        assert "Expected" in out.dead[0].reason
        assert sum(b.num_rows for b in out.batches) == len(runs) - 1
    bad = copy.deepcopy(runs)
    del bad[5]["workflow_id"]
    out = fmt.decode(json.dumps({"workflow_runs": bad}).encode(), "t")
    assert [(d.offset, d.reason) for d in out.dead] == [(5, ga.GitHubActions.invalid_reason)]


#: what round 28's mapping (msgspec records, Python a row) stored for some of the edited runs
#: (job.name, job.desc, job.file.path, job.run_state_id, status_id, actor.user.name, metadata.tenant_uid)
RUN_ROWS = {
    "{}": ("Lock Threads", "Lock Threads", ".github/workflows/lock-issues.yml", 4, 1, "nateprewitt", "psf"),
    "{'name': ''}": ("lock-issues.yml", "Lock Threads", ".github/workflows/lock-issues.yml", 4, 1, "nateprewitt", "psf"),
    "{'workflow_name': None, 'display_title': ''}": ("Lock Threads", None, ".github/workflows/lock-issues.yml", 4, 1, "nateprewitt", "psf"),
    "{'path': 'x.yml@refs/heads/main'}": ("Lock Threads", "Lock Threads", "x.yml", 4, 1, "nateprewitt", "psf"),
    "{'name': None, 'path': None}": ("workflow_run 37246313785", "Lock Threads", None, 4, 1, "nateprewitt", "psf"),
    "{'status': 'weird'}": ("Lock Threads", "Lock Threads", ".github/workflows/lock-issues.yml", 99, 1, "nateprewitt", "psf"),
    "{'conclusion': 'odd'}": ("Lock Threads", "Lock Threads", ".github/workflows/lock-issues.yml", 4, 99, "nateprewitt", "psf"),
    "{'triggering_actor': None}": ("Lock Threads", "Lock Threads", ".github/workflows/lock-issues.yml", 4, 1, "nateprewitt", "psf"),
    "{'triggering_actor': {}}": ("Lock Threads", "Lock Threads", ".github/workflows/lock-issues.yml", 4, 1, None, "psf"),
    "{'repository': {'owner': {'login': 'org', 'type': 'Organization'}}}": (
        "Lock Threads", "Lock Threads", ".github/workflows/lock-issues.yml", 4, 1, "nateprewitt", "org"),
}  # fmt: skip


@needs_native
def test_walked_rows_as_round_28_stored_them() -> None:
    runs = _varied(_items("runs-psf-requests.json", "workflow_runs"))
    out = formats.get("github_actions").decode(json.dumps({"workflow_runs": runs}).encode(), "t")
    rows = [r for b in out.batches for r in pa.Table.from_batches([b]).to_pylist()]
    got = {
        str(edit): (r["job"]["name"], r["job"]["desc"], (r["job"]["file"] or {}).get("path"), r["job"]["run_state_id"],
                    r["status_id"], ((r.get("actor") or {}).get("user") or {}).get("name"), r["metadata"].get("tenant_uid"))
        for edit, r in zip(EDITS, rows, strict=True)
    }  # fmt: skip
    assert {k: got[k] for k in RUN_ROWS} == RUN_ROWS
