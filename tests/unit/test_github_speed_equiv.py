"""GitHub webhook decoding after the speed work gives the same batches as before.

The columnar path (``formats._github_cols``, opt-in: one native pass per payload, API Activity
mapped with pyarrow.compute) against the per-record path (``GitHub.map_each``) on the
same split records, column by column (the first differing row is shown on failure): every
octokit/webhooks payload alone (with and without the ``X-GitHub-Event`` hint) and all of them
in one batch, the holdout webhook files, Panther's GitHub audit events, the benchmark corpus,
payloads mutated from the corpus, and payloads edited where the columnar mapping has its own
code (ids of every JSON type, times in every form, owners, empty names, forced pushes, pull
requests missing fields). Also: the vectorized time and id readers against ``_cicd.iso_ms``
and ``_cicd.sid``; ``_cicd._typed_resources`` against Arrow's own inference; the benchmark
corpus the same with the native extension and with ``SECPIPE_NATIVE=0``, and the same batched
as one payload at a time.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from secpipe.formats import _cicd, _fast, _github_cols, get
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded
from tests.unit.test_github_native import _mutate

needs_native = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

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


# --------------------------------------------------------------------------------------
# the columnar path against the per-record path
# --------------------------------------------------------------------------------------


def _first_diff(x: pa.Array, y: pa.Array) -> str:
    a, b = x.to_pylist(), y.to_pylist()
    for i, (u, v) in enumerate(zip(a, b, strict=False)):
        if u != v:
            return f"row {i}: columnar {u!r} != per-record {v!r}"
    return f"lengths {len(a)} != {len(b)}; types {x.type} / {y.type}"


def _same(col: Decoded, ref: Decoded, what: object) -> None:
    """Same dead letters, events and batches (column by column, the first differing row shown);
    rows stamped with the receipt time are compared without ``time``/``time_dt``."""
    assert [(d.reason, d.source, d.offset, bytes(d.raw)) for d in col.dead] == \
        [(d.reason, d.source, d.offset, bytes(d.raw)) for d in ref.dead], what
    assert col.events == ref.events, what
    assert [b.num_rows for b in col.batches] == [b.num_rows for b in ref.batches], what
    for x, y in zip(col.batches, ref.batches, strict=True):
        assert x.schema.names == y.schema.names, (what, x.schema.names, y.schema.names)
        for name in x.schema.names:
            a, b = x.column(name), y.column(name)
            if name in ("time", "time_dt"):
                own = pc.is_null(y.column("metadata").field("labels")) if "labels" in y.schema.field("metadata").type.names \
                    else pa.array([True] * y.num_rows)
                a, b = a.filter(own), b.filter(own)
            assert a.type == b.type, (what, name, a.type, b.type)
            assert a.equals(b), (what, name, _first_diff(a, b))
        assert x.schema == y.schema, what


def _both(doc: bytes, src: str = "test") -> tuple[Decoded, Decoded, bool]:
    """(columnar decode, per-record decode, whether the columnar path took the batch)."""
    recs = FMT.split_records(doc, src)
    col = Decoded(dead=list(recs.dead), events=recs.events)
    took = bool(recs.raws) and _github_cols.map_native(FMT, recs, col)
    if not took:  # declined (an irregular record): nothing was emitted, map_records takes the batch
        assert not col.batches and len(col.dead) == len(recs.dead)
        col = FMT.map_records(recs)
    return col, FMT.map_each(recs, Decoded(dead=list(recs.dead), events=recs.events)), took


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@needs_native
def test_columnar_is_per_record_on_real_samples(real: Path) -> None:
    files = sorted((real / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))
    assert len(files) >= 250
    took = 0
    for f in files:
        body = f.read_bytes()
        for src in (f"file:{f.name}", f"http:/github/webhook;github-event={f.parent.name}"):
            col, ref, ok = _both(body, src)
            _same(col, ref, (f.name, src))
            took += ok
    assert took == 2 * len(files)  # every payload of the corpus takes the columnar path
    col, ref, ok = _both(b"\n".join(_compact(json.loads(f.read_bytes())) for f in files))
    _same(col, ref, "octokit corpus, one batch")
    assert ok and not col.dead and sum(b.num_rows for b in col.batches) == len(files)
    holdout = Path(__file__).parents[1] / "cases" / "holdout"
    for name in ("github_webhook.jsonl", "github_webhook_comments.jsonl", "github_webhook_runs.jsonl",
                 "content_reference.created.payload.json"):  # fmt: skip
        col, ref, _ = _both((holdout / name).read_bytes(), name)
        _same(col, ref, name)
        assert col.batches
    audit = (real / "panther-analysis/extracted/github_audit.jsonl").read_bytes()
    col, ref, _ = _both(audit, "panther")
    _same(col, ref, "panther audit")
    assert sum(b.num_rows for b in col.batches) >= 50


@needs_native
def test_columnar_path_is_opt_in(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``SECPIPE_GITHUB_COLUMNAR=1`` makes ``map_records`` take the columnar path (its batches
    are identical by the tests here, so the path taken is told by a spy)."""
    recs = FMT.split_records(b"\n".join(_corpus(real, 30)), "bench")
    calls: list[int] = []
    native = _github_cols.map_native

    def spy(*args: Any) -> bool:
        calls.append(1)
        return native(*args)

    monkeypatch.setattr(_github_cols, "map_native", spy)
    FMT.map_records(recs)
    assert not calls
    monkeypatch.setenv("SECPIPE_GITHUB_COLUMNAR", "1")
    col = FMT.map_records(recs)
    assert calls == [1]
    _same(col, FMT.map_each(recs, Decoded(dead=list(recs.dead), events=recs.events)), "opt-in")


@needs_native
def test_columnar_is_per_record_on_bench_corpus(real: Path) -> None:
    col, ref, ok = _both(b"\n".join(_corpus(real, 1500)), "bench")
    assert ok
    _same(col, ref, "bench corpus")
    assert sum(b.num_rows for b in col.batches) == 1500


@needs_native
def test_columnar_is_per_record_on_mutated_payloads(real: Path) -> None:
    rng = random.Random(20261130)
    payloads = [json.loads(f.read_bytes()) for f in sorted((real / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))]
    lines = [json.dumps(_mutate(rng, rng.choice(payloads)), ensure_ascii=rng.random() < 0.5).encode() for _ in range(800)]
    took = 0
    for n in range(0, len(lines), 50):
        col, ref, ok = _both(b"\n".join(lines[n:n + 50]), f"batch{n}")
        _same(col, ref, n)
        took += ok
    for n, line in enumerate(lines[:120]):
        col, ref, ok = _both(line, "alone;github-event=issues" if n % 3 == 0 else "alone")
        _same(col, ref, n)
        took += ok
    assert took >= 30  # (seeded: the same count every run) many mutations are irregular: the per-record path takes those


#: values the columnar mapping reads in its own way (ids, times, names, flags)
_ODD: tuple[Any, ...] = (None, "", "x", "é\"\\✓\n", 0, -0.0, 7, -7, 12345678901234567890, 1.5, 1e300, True, False,
                         "2024-05-06T07:08:09Z", "2024-02-30T00:00:00Z", "2024-05-06T07:08:09+02:00",
                         "2024-05-06 07:08:09.123456789 UTC", 1700000000, 1700000000123, [], {}, {"login": None})  # fmt: skip
#: (object or None for top level, field) the columnar mapping reads
_EDITS = (
    ("sender", "login"), ("sender", "id"), ("repository", "id"), ("repository", "name"), ("repository", "full_name"),
    ("repository", "visibility"), ("repository", "private"), ("repository", "owner"), ("repository", "pushed_at"),
    ("organization", "login"), ("organization", "id"), ("pull_request", "id"), ("pull_request", "number"),
    ("pull_request", "title"), ("pull_request", "state"), ("pull_request", "merged"), ("pull_request", "html_url"),
    ("pull_request", "updated_at"), ("pull_request", "created_at"), ("pull_request", "head"), ("issue", "updated_at"),
    ("issue", "created_at"), ("release", "created_at"), ("installation", "created_at"), ("review", "submitted_at"),
    ("pusher", "name"), ("head_commit", "timestamp"), (None, "ref"), (None, "after"), (None, "forced"),
    (None, "created"), (None, "deleted"), (None, "commits"), (None, "action"), (None, "sender"), (None, "organization"),
    (None, "repository"), (None, "pull_request"), (None, "workflow"), (None, "alert"),
)  # fmt: skip


def _edit(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    p = json.loads(json.dumps(payload))
    for _ in range(rng.randint(1, 3)):
        obj, key = rng.choice(_EDITS)
        value = rng.choice(_ODD)
        if obj is None:
            p[key] = value
        elif isinstance(p.get(obj), dict):
            p[obj][key] = value
    return p


@needs_native
def test_columnar_is_per_record_on_edited_fields(real: Path) -> None:
    """Each mapped field given each JSON type, odd times, ids and names, alone and in batches
    (the regular ones take the columnar path; the irregular ones the per-record path)."""
    rng = random.Random(30)
    base = [json.loads(f.read_bytes()) for f in sorted((real / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))
            if f.parent.name in ("push", "pull_request", "issues", "release", "installation", "pull_request_review", "star",
                                 "secret_scanning_alert_location", "create")]  # fmt: skip
    lines = [_compact(_edit(rng, rng.choice(base))) for _ in range(1200)]
    took = 0
    for n in range(0, len(lines), 40):
        col, ref, ok = _both(b"\n".join(lines[n:n + 40]), f"edited{n}")
        _same(col, ref, n)
        took += ok
    for n, line in enumerate(lines[:300]):
        col, ref, ok = _both(line, "one;github-event=push" if n % 4 == 0 else "one")
        _same(col, ref, n)
        took += ok
    assert took >= 100


def test_time_and_id_readers_are_iso_ms_and_sid() -> None:
    rng = random.Random(5)
    texts: list[str | None] = ["2019-05-15T15:20:33Z", "2020-02-29T00:00:00Z", "2019-02-29T00:00:00Z", "0000-01-01T00:00:00Z",
                               "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2019-12-31T23:59:60Z", "1900-02-29T00:00:00Z",
                               "2000-02-29T00:00:00Z", "1969-12-31T23:59:59Z", "2019-05-15T15:20:33+02:00", "x", "", None]  # fmt: skip
    texts += [f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}T{rng.randint(0, 25):02d}:"
              f"{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d}Z" for _ in range(3000)]  # fmt: skip
    got = _github_cols._ms(pa.array(texts, pa.string()), False).to_pylist()
    assert got == [_cicd.iso_ms(v) for v in texts]
    values: list[Any] = [*texts, 1557933633, 0, -5, 12345678901, 9999999999, 10000000001, 1.5, True, False, [], {}, "é\"",
                         2**70, -0.0]  # fmt: skip
    raws = [None if v is None else msgspec.json.encode(v).decode() for v in values] + ["-0", "null", '"\\u00e9"']
    decoded = [None if r is None else msgspec.json.decode(r) for r in raws]
    assert _github_cols._ms(pa.array(raws, pa.string()), True).to_pylist() == [_cicd.iso_ms(v) for v in decoded]
    assert _github_cols._sid_raw(pa.array(raws, pa.string())).to_pylist() == [_cicd.sid(v) for v in decoded]


def test_time_beyond_int64_is_no_time() -> None:
    """A numeric time past what an int64 column holds (it crashed the batch) gives no time:
    the payload keeps the receipt time, labelled so."""
    assert _cicd.iso_ms(12345678901234567890) is None and _cicd.iso_ms(1e300) is None and _cicd.iso_ms(-1e300) is None
    assert _cicd.iso_ms(1700000000) == 1_700_000_000_000
    payload = {"action": "created", "issue": {"created_at": 12345678901234567890}, "repository": {"id": 1, "full_name": "o/r"},
               "sender": {"login": "x", "id": 1}}  # fmt: skip
    d = FMT.decode(_compact(payload), "test")
    assert not d.dead and d.batches[0].num_rows == 1
    assert d.batches[0].column("metadata").field("labels").to_pylist() == [["secpipe:time_from_receipt"]]
