"""Session 22: the fixed costs of a small batch (one webhook a POST) made once, same batches.

The contracts (``formats/base.py``, ``formats/_cicd.py``, ``formats/github.py``):
- ``base.small_base_columns`` gives the columns ``base.base_columns`` gives for the same rows (names,
  order, types, values; the receipt time and its label for a row without a time), whatever the
  class, activity and severity ids and times, and whether its per-key part was made before.
- ``_cicd.leaves_batch`` of one row keeps a leaf's one-row column and a ``resources`` column for the
  next row with the same value: a batch is the one built without that (cold, warm, or after the
  store was cleared when full).
- ``schema.ocsf.assemble`` of a one-row batch keeps what conforming a column a format kept
  (``ocsf.keep``) and building an object's struct of such columns gave, by their identity: a batch
  is the one assembled without that memo (cold, warm, or after it was cleared when full).
- ``GitHub.split_records`` of a body that is one compact JSON object in UTF-8 gives what
  ``RecordFormat.split_records`` gives (records, offsets, dead letters, count) without the split;
  any other body goes the split's way.
"""

from __future__ import annotations

import importlib
import json
import random
import types
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, base, github
from secpipe.formats.base import RecordFormat, base_columns, small_base_columns

ocsf = importlib.import_module("secpipe.schema.ocsf")  # (the package's ``ocsf`` is a function)
CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
PAYLOADS = [json.loads(f.read_bytes()) for f in sorted(CORPUS.glob("*/*.json"))]
CLASSES = ("api_activity", "scheduled_job_activity", "vulnerability_finding", "detection_finding", "entity_management",
           "group_management", "user_access", "application_lifecycle")  # fmt: skip


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "time", types.SimpleNamespace(time=lambda: 1764600000.123))


def _same(got: dict[str, pa.Array], want: dict[str, pa.Array]) -> None:
    assert list(got) == list(want)
    for k in want:
        assert got[k].type == want[k].type, k
        assert got[k].equals(want[k]), k


@pytest.mark.parametrize("seed", range(40))
def test_small_base_columns_is_base_columns(seed: int, fixed_clock: None) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, base.SMALL_ROWS)
    cls = rng.choice(CLASSES)
    acts = [rng.choice((0, 1, 2, 3, 4, 6, 99)) for _ in range(n)]
    sevs = [rng.choice((0, 1, 2, 4, 5)) for _ in range(n)]
    times = [None if rng.random() < 0.4 else rng.randint(0, 2**41) for _ in range(n)]
    uids = pa.array([f"{rng.getrandbits(128):032x}" for _ in range(n)], pa.string())
    want = base_columns(cls, kind="github", product="GitHub", vendor="GitHub", uids=uids, times_ms=pa.array(times, pa.int64()),
                        raws=None, activity_id=pa.array(acts, pa.int32()), severity_id=pa.array(sevs, pa.int32()))  # fmt: skip
    for _ in range(2):  # its per-key part made, then taken from the cache
        got = small_base_columns(cls, kind="github", product="GitHub", vendor="GitHub", uids=uids, times=times,
                                 activity=acts, severity=sevs)  # fmt: skip
        _same(got, want)
    assert ("metadata.labels" in want) == (None in times)


def _reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every small-batch shortcut off: the batches as the code before them built them."""
    monkeypatch.setattr(_cicd, "SMALL_ROWS", 0)
    monkeypatch.setattr(_cicd, "_one_row", lambda cls, path, value: pa.array([value], _cicd._type(cls, path)))

    def resources(cls: str, vals: Any) -> pa.Array:
        got = _cicd._simple_resources(vals)
        got = _cicd._typed_resources(vals) if got is None else got
        return pa.array(vals, _cicd._type(cls, "resources")) if got is None else got

    monkeypatch.setattr(_cicd, "_one_resources", resources)
    monkeypatch.setattr(github.GitHub, "split_records", RecordFormat.split_records)
    monkeypatch.setattr(ocsf, "_KEPT", _NoMemo())


class _NoMemo(dict):  # type: ignore[type-arg]
    """``ocsf._KEPT`` that never holds a column (so assemble remembers nothing)."""

    def get(self, *args: Any) -> None:  # type: ignore[override]
        return None


def _bodies() -> list[bytes]:
    out = [json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode() for p in PAYLOADS]
    out += [json.dumps(p, indent=2).encode() for p in PAYLOADS[:5]]  # pretty-printed: the split's way
    out.append(out[0] + b"\n" + out[1])  # two payloads: a kept document, small_base_columns of 2 rows
    return out


def test_one_payload_batches_are_the_reference(monkeypatch: pytest.MonkeyPatch, fixed_clock: None) -> None:
    fmt = github.GitHub()
    bodies = _bodies()
    _cicd._ONES.clear()
    cold = [fmt.decode(b, "http:/github/webhook") for b in bodies]
    warm = [fmt.decode(b, "http:/github/webhook") for b in bodies]
    assert len(_cicd._ONES) > 0
    _cicd._ONES.clear()
    _cicd._ONES.update({("x", "y", int, i): pa.array([i]) for i in range(_cicd._ONES_MAX)})
    ocsf._KEPT.clear()
    ocsf._ONE_ROW.clear()
    dummies = [pa.array([i]) for i in range(ocsf._KEPT_MAX)]
    ocsf._KEPT.update({id(a): a for a in dummies})
    full = [fmt.decode(b, "http:/github/webhook") for b in bodies]  # the store cleared on the first new value
    assert not any(k[0] == "x" for k in _cicd._ONES)
    assert not any(ocsf.kept(a) for a in dummies)
    with monkeypatch.context() as mp:
        _reference(mp)
        ref = [fmt.decode(b, "http:/github/webhook") for b in bodies]
    labelled = 0
    for got_all in (cold, warm, full):
        for got, want in zip(got_all, ref, strict=True):
            assert [(d.reason, d.offset) for d in got.dead] == [(d.reason, d.offset) for d in want.dead]
            assert got.events == want.events
            assert len(got.batches) == len(want.batches)
            for g, w in zip(got.batches, want.batches, strict=True):
                assert g.schema.equals(w.schema, check_metadata=True)
                assert g.equals(w)
                labelled += "labels" in g.schema.field("metadata").type.names
    assert labelled  # rows without a time of their own among them (the receipt time's label)


def test_split_records_of_one_compact_object(monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = github.GitHub()
    p = _bodies()[0]
    bodies = [*_bodies(), p + b" ", b" " + p, p[:-1], b'{"a":"\xff"}', b'{"a":1}{"b":2}',
              b'{"a":"\\ud800"}', b'{"a": 1}', b"{}", b'{"Records":[{"a":1}]}', b'{"a":1.0E5,"b":"\\u00e9","c":"\xc3\xa9"}',
              b'{"sender":{"login":"x"},"a":' + b"[" * 3000 + b"]" * 3000 + b"}"]  # fmt: skip
    for body in bodies:
        got = fmt.split_records(body, "s")
        want = RecordFormat.split_records(fmt, body, "s")
        assert got.raws == want.raws
        assert got.locs == want.locs
        assert got.dead == want.dead
        assert got.events == want.events
