"""CI/CD and Snyk formats: the same output with the native extension and without it, over the
real samples (octokit webhook payloads, Panther GitHub/GitLab audit events, the GitLab/Jenkins
cases written from vendor docs, the snyk-to-html reports), and GitLab's one webhook mapping fed
by both of its column sources (Arrow columns of a walked batch, Python lists of decoded
structs for a single payload) giving the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _fast, _gitlab_native, base, get
from tests.unit.native_support import same_both_ways

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

CASES = Path(__file__).resolve().parents[1] / "cases"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
HOOKS = ("gitlab_push.json", "gitlab_merge_request.json", "gitlab_pipeline.json", "gitlab_deployment.json")


def _samples(real: Path) -> list[tuple[str, Path]]:
    out = [("github", p) for p in sorted((real / "octokit-webhooks").rglob("*.json"))]
    out += [("github", real / "panther-analysis/extracted/github_audit.jsonl"),
            ("gitlab", real / "panther-analysis/extracted/gitlab.jsonl")]  # fmt: skip
    out += [("gitlab", p) for p in sorted((CASES / "cicd").glob("gitlab_*"))]
    out += [("jenkins", p) for p in sorted((CASES / "cicd").glob("jenkins_*.json"))]
    out += [("snyk", p) for p in sorted((real / "snyk-to-html").glob("*.json"))]
    return out


def test_real_samples_same_both_ways(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples = _samples(real)
    assert len(samples) > 280  # the octokit corpus is there
    for fmt, path in samples:
        same_both_ways(fmt, path.read_bytes(), monkeypatch, path.name)
    # all the octokit payloads as one NDJSON document: every GitHub class in one decode
    octokit = [json.loads(p.read_bytes()) for f, p in samples if f == "github" and p.suffix == ".json"]
    doc = b"\n".join(json.dumps(x, separators=(",", ":")).encode() for x in octokit)
    d = same_both_ways("github", doc, monkeypatch, "octokit corpus")
    assert not d.dead
    assert sum(b.num_rows for b in d.batches) == len(octokit)


def _pruned(v: object) -> object:
    """A row without null leaves (a batch has the columns of all its rows)."""
    if isinstance(v, dict):
        return {k: p for k, x in v.items() if (p := _pruned(x)) is not None and p != {}}
    if isinstance(v, list):
        return [_pruned(x) for x in v]
    return v


def _rows(batches: list[pa.RecordBatch]) -> list[dict]:
    rows = []
    for b in batches:
        for r in b.to_pylist():
            if "secpipe:time_from_receipt" in (r["metadata"].get("labels") or []):
                r["time"] = r["time_dt"] = None
            rows.append(_pruned(r))
    return rows


def test_gitlab_one_mapping_arrow_and_lists() -> None:
    """A walked batch (Arrow columns) and each of its payloads alone (lists) give the same rows."""
    protos = [json.loads((CASES / "cicd" / name).read_bytes()) for name in HOOKS]
    protos.append({"object_kind": "issue", "user": {"id": 1, "name": "A", "username": "a", "email": "a-at-example"},
                   "project": {"id": 2, "name": "p"}, "object_attributes": {"id": 9, "iid": 3, "title": "t", "action": "open"}})
    protos.append({"object_kind": "push", "before": "0" * 40, "after": "a" * 40, "ref": "refs/heads/x", "user_id": "7"})
    recs = []
    for i in range(_gitlab_native.MIN_BATCH * 2):
        rec = dict(protos[i % len(protos)])
        rec["_seq"] = i
        recs.append(json.dumps(rec, separators=(",", ":")).encode())
    fmt = get("gitlab")
    assert _gitlab_native.decode_hooks(recs, lambda: [_cicd.TOP.decode(r) for r in recs]) is not None  # walked
    walked = fmt.decode(b"\n".join(recs), "src")
    assert not walked.dead and len(walked.batches) == len(protos) - 1  # the two pushes are one group
    alone = [fmt.decode(r, "src") for r in recs]
    by_uid = {r["metadata"]["uid"]: r for r in _rows(walked.batches)}
    single = _rows([b for d in alone for b in d.batches])
    assert len(single) == len(by_uid) == len(recs)
    for r in single:
        assert r == by_uid[r["metadata"]["uid"]]


def test_uids_hashed_while_reading_are_event_uids(real: Path) -> None:
    """GitHub hashes each payload as it reads it (``base.uid_hasher`` + ``uid_column``): the same
    ``metadata.uid`` as ``event_uids`` (native SHA-256 here), on the octokit payloads."""
    raws = [json.dumps(json.loads(p.read_bytes()), separators=(",", ":")).encode()
            for p in sorted((real / "octokit-webhooks").rglob("*.json"))]  # fmt: skip
    seeded = base.uid_hasher("github")
    digests = []
    for raw in raws:
        h = seeded.copy()
        h.update(raw)
        digests.append(h.digest())
    assert base.uid_column(digests).equals(base.event_uids("github", raws))
    assert base.uid_column([]).equals(base.event_uids("github", []))
