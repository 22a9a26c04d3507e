"""GitHub webhook speed work (session 10): the faster builders give the same columns.

What changed: ``_cicd._typed_resources`` converts the ``resources`` items with their Arrow type
given (one ``pa.array`` call) instead of one column per field; a batch of at most
``_cicd._SMALL`` records (one webhook a POST) gets its raw_data, unmapped and uid columns from
one ``pa.array`` call instead of the bulk builders. Checked here: ``_typed_resources`` against
the per-field construction it replaced (written out below as the reference) over generated
items, the small-batch builders against the bulk ones, and the decode of the benchmark corpus
in batches on both sides of the threshold against one batch of all of it.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, get
from secpipe.formats._uids import uid_column
from secpipe.formats.base import string_column
from tests.unit.native_support import assert_same_decoded, native_mode
from tests.unit.test_github_speed_equiv import _corpus, _rows

FMT = get("github")


def _per_field(vals: list[Any]) -> pa.Array | None:
    """The construction ``_typed_resources`` had before: a typed column per item field, then
    the struct and list arrays (None where an item has another key or value type)."""
    items: list[dict[str, Any]] = []
    offsets = [0]
    valid: list[bool] = []
    for v in vals:
        if v is not None:
            items.extend(v)
        offsets.append(len(items))
        valid.append(v is not None)
    order: dict[str, None] = {}
    for item in items:
        order.update(dict.fromkeys(item))
    if not order.keys() <= {"type", "name", "uid", "data", "labels", "owner"}:
        return None
    children = []
    try:
        for k in order:
            col = [i.get(k) for i in items]
            if k == "labels":
                children.append(pa.array(col, pa.list_(pa.string())))
            elif k == "owner":
                if any(o is not None and (type(o) is not dict or o.keys() != {"name"}) for o in col):
                    return None
                names = pa.array([None if o is None else o["name"] for o in col], pa.string())
                children.append(pa.StructArray.from_arrays([names], names=["name"], mask=pa.array([o is None for o in col])))
            else:
                children.append(pa.array(col, pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    struct = pa.StructArray.from_arrays(children, names=list(order)) if order else pa.array([{}] * len(items))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), struct, mask=pa.array([not x for x in valid]))


_VALUES: list[Any] = [None, "a", "o/r", "", "é", 1, 2.5, True, b"x", ["x"], ["x", None], [], [1], "xy",
                      {"name": "o"}, {"name": None}, {"name": 1}, {"n": "o"}, {"name": "o", "x": 1}]  # fmt: skip
_KEYS = ["type", "name", "uid", "data", "labels", "owner"]


def _generated(seed: int, n: int) -> list[list[Any]]:
    rng = random.Random(seed)
    cases: list[list[Any]] = [[[{}], [{}]], [[{}], None], [None, []], [[{"type": "a", "labels": "xy"}]],
                              [None, [], [{"type": "a", "name": None, "uid": None, "owner": None}]]]  # fmt: skip
    for _ in range(n):
        vals: list[Any] = []
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            if r < 0.15:
                vals.append(None)
            elif r < 0.25:
                vals.append([])
            else:
                vals.append([{k: rng.choice(_VALUES) if rng.random() < 0.3 else rng.choice(["s", None])
                              for k in rng.sample(_KEYS, rng.randint(0, 6))} for _ in range(rng.randint(1, 3))])  # fmt: skip
        cases.append(vals)
    return cases


def test_typed_resources_same_as_per_field_columns() -> None:
    typed = 0
    for vals in _generated(11, 4000):
        want = _per_field(vals)
        got = _cicd._typed_resources(vals)
        if want is None:
            assert got is None, vals
            continue
        typed += 1
        assert got is not None, vals
        assert got.type == want.type, vals
        assert got.equals(want), vals
    assert typed > 500  # the generator reaches the typed (not refused) case often


def test_typed_resources_of_github_items() -> None:
    vals: list[Any] = [
        [{"type": "repository", "name": "o/r", "uid": "1", "owner": {"name": "o"}}, {"type": "organization", "name": "o", "uid": "9"}],
        None,
        [{"type": "repository", "name": "o/p", "uid": "2", "labels": ["private", "internal"]}],
        [{"type": "pull_request", "name": "#1 t", "uid": None, "data": '{"state":"open"}'}],
    ]  # fmt: skip
    got = _cicd._typed_resources(vals)
    assert got is not None
    assert got.type == pa.list_(pa.struct([("type", pa.string()), ("name", pa.string()), ("uid", pa.string()),
                                           ("owner", pa.struct([("name", pa.string())])), ("labels", pa.list_(pa.string())),
                                           ("data", pa.string())]))  # fmt: skip
    assert got.to_pylist() == [
        [{"type": "repository", "name": "o/r", "uid": "1", "owner": {"name": "o"}, "labels": None, "data": None},
         {"type": "organization", "name": "o", "uid": "9", "owner": None, "labels": None, "data": None}],
        None,
        [{"type": "repository", "name": "o/p", "uid": "2", "owner": None, "labels": ["private", "internal"], "data": None}],
        [{"type": "pull_request", "name": "#1 t", "uid": None, "owner": None, "labels": None, "data": '{"state":"open"}'}],
    ]  # fmt: skip


@pytest.mark.parametrize("n", [0, 1, 2, 16, 17])
def test_small_builders_are_the_bulk_ones(n: int) -> None:
    values: list[bytes | None] = [None if i % 5 == 3 else f'{{"v":"{i} é"}}'.encode() * (i % 4) for i in range(n)]
    small = _cicd.checked_strings(values)
    bulk = string_column(values, checked=True)
    assert small.type == bulk.type == pa.string() and small.equals(bulk)
    digests = [hashlib.sha256(b"%d" % i).digest() for i in range(n)]
    small_uids = _cicd.uid_strings(digests)
    bulk_uids = uid_column(digests)
    assert small_uids.type == bulk_uids.type and small_uids.equals(bulk_uids)
    assert small_uids.to_pylist() == [d[:16].hex() for d in digests]


@pytest.mark.parametrize("size", [1, _cicd._SMALL, _cicd._SMALL + 1])
def test_batches_around_the_small_threshold_are_one_batch(real: Path, size: int) -> None:
    """Payloads decoded ``size`` at a time (small builders below the threshold, bulk above)
    give the rows of all of them decoded together."""
    recs = _corpus(real, 300)
    together = _rows(FMT.decode(b"\n".join(recs), "bench"))
    parts: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(recs), size):
        for cls, rows in _rows(FMT.decode(b"\n".join(recs[start:start + size]), "bench")).items():
            parts.setdefault(cls, []).extend(rows)
    assert together.keys() == parts.keys()
    for cls in together:
        assert together[cls] == parts[cls], cls
    assert sum(map(len, together.values())) == 300


def test_utf8_corpus_same_with_and_without_native(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark corpus as GitHub sends it (UTF-8 text, not ``\\u`` escapes: the
    dependabot_alert example has an emoji), so the batch takes the UTF-8 check's slow path:
    the same batches with the native extension and without."""
    files = sorted((real / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))
    payloads = [json.loads(f.read_bytes()) for f in files]
    recs = [json.dumps({**payloads[i % len(payloads)], "_bench_seq": i}, separators=(",", ":"), ensure_ascii=False).encode()
            for i in range(600)]  # fmt: skip
    doc = b"\n".join(recs)
    assert not doc.isascii()
    with native_mode(monkeypatch, True):
        native = FMT.decode(doc, "bench")
    with native_mode(monkeypatch, False):
        reference = FMT.decode(doc, "bench")
    assert_same_decoded(native, reference, "UTF-8 bench corpus")
    assert not native.dead and sum(b.num_rows for b in native.batches) == 600
    alone: dict[str, list[dict[str, Any]]] = {}  # one payload a call (the small builders)
    sample = [r for r in recs[: len(payloads)] if not r.isascii()] + recs[:60]
    assert not sample[0].isascii()
    for r in sample:
        for cls, rows in _rows(FMT.decode(r, "bench")).items():
            alone.setdefault(cls, []).extend(rows)
    assert _rows(FMT.decode(b"\n".join(sample), "bench")) == alone
