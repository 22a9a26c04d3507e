"""GitHub webhook decoding after the speed work gives the same batches as before.

What changed: ``_cicd._typed_resources`` finds the struct field order from the items' key
layouts (C-level). Checked here: ``_typed_resources`` against Arrow's own inference; decode of
the benchmark corpus (octokit payloads, each varied by a sequence number) the same with the
native extension and with ``SECPIPE_NATIVE=0``, and the same batched as one payload at a time
(the per-class grouping, resources and unmapped columns of a mixed batch = each payload alone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from secpipe.formats import _cicd, _fast, get
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded

FMT = get("github")


def _corpus(real: Path, n: int) -> list[bytes]:
    """The benchmark's webhook corpus (bench/formats_cicd_bench.py: github_webhooks)."""
    files = sorted((real / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))
    assert len(files) >= 250
    payloads = [json.loads(f.read_bytes()) for f in files]
    out = []
    for i in range(n):
        rec = dict(payloads[i % len(payloads)])
        rec["_bench_seq"] = i
        out.append(json.dumps(rec, separators=(",", ":")).encode())
    return out


def test_typed_resources_is_arrows_inference() -> None:
    vals: list[Any] = [
        [{"type": "repository", "name": "o/r", "uid": "1", "owner": {"name": "o"}}],
        None,
        [{"type": "repository", "name": "o/p", "uid": "2", "labels": ["private"]},
         {"type": "organization", "name": "o", "uid": "9"}],
        [{"type": "pull_request", "name": "#1 t", "uid": "3", "data": "{}"}],
        [],
    ]  # fmt: skip
    got = _cicd._typed_resources(vals)
    assert got is not None
    want = pa.array(vals)
    assert got.type == want.type  # struct fields in first-seen order
    assert got.to_pylist() == want.to_pylist()


def _rows(d: Decoded) -> dict[str, list[dict[str, Any]]]:
    """Rows by class, with the receipt time of rows that have no time of their own removed."""
    out: dict[str, list[dict[str, Any]]] = {}
    for b in d.batches:
        meta = b.schema.field("metadata").type
        own = pc.is_null(b.column("metadata").field("labels")).to_pylist() if "labels" in meta.names else [True] * b.num_rows
        rows = b.drop_columns(["time", "time_dt"]).to_pylist()
        times = b.column("time").to_pylist()
        for r, t, keep in zip(rows, times, own, strict=True):
            r["time"] = t if keep else None
            r["metadata"] = {k: v for k, v in r["metadata"].items() if v is not None}
            out.setdefault(str(r["class_uid"]), []).append(_pruned(r))
    return out


def _pruned(v: Any) -> Any:
    """A row without null leaves (a batch has the columns of all its rows)."""
    if isinstance(v, dict):
        return {k: _pruned(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_pruned(x) for x in v]
    return v


def test_bench_corpus_same_with_and_without_native(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _fast.available():
        pytest.skip("native extension not built (or SECPIPE_NATIVE=0)")
    doc = b"\n".join(_corpus(real, 1500))
    native = FMT.decode(doc, "bench")
    monkeypatch.setenv("SECPIPE_NATIVE", "0")
    _fast._module.cache_clear()
    try:
        reference = FMT.decode(doc, "bench")
    finally:
        monkeypatch.delenv("SECPIPE_NATIVE")
        _fast._module.cache_clear()
    assert_same_decoded(native, reference, "bench corpus")
    assert not native.dead and sum(b.num_rows for b in native.batches) == 1500


def test_bench_corpus_batched_is_each_payload_alone(real: Path) -> None:
    recs = _corpus(real, 600)
    batched = _rows(FMT.decode(b"\n".join(recs), "bench"))
    alone: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        for cls, rows in _rows(FMT.decode(r, "bench")).items():
            alone.setdefault(cls, []).extend(rows)
    assert batched.keys() == alone.keys()
    for cls in batched:
        assert batched[cls] == alone[cls], cls
    assert sum(map(len, batched.values())) == 600


def test_time_beyond_int64_is_no_time() -> None:
    """A numeric time past what an int64 column holds (it crashed the batch) gives no time:
    the payload keeps the receipt time, labelled so."""
    assert _cicd.iso_ms(12345678901234567890) is None and _cicd.iso_ms(1e300) is None and _cicd.iso_ms(-1e300) is None
    assert _cicd.iso_ms(1700000000) == 1_700_000_000_000
    payload = {"action": "created", "issue": {"created_at": 12345678901234567890}, "repository": {"id": 1, "full_name": "o/r"},
               "sender": {"login": "x", "id": 1}}  # fmt: skip
    d = FMT.decode(json.dumps(payload, separators=(",", ":")).encode(), "test")
    assert not d.dead and d.batches[0].num_rows == 1
    assert d.batches[0].column("metadata").field("labels").to_pylist() == [["secpipe:time_from_receipt"]]
