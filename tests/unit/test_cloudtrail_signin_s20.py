"""Session 20 (H4): the sign-in (Authentication) batch of a CloudTrail pass, a few rows, maps its
activity and assumed-role test value by value (no hash kernels building their value set at each call).

The helpers give the kernels' columns (random columns with nulls, unknown names and slices, on
both sides of the small-batch bound), and passes of Panther's real CloudTrail records with 0, 1,
a few and many sign-ins give the same batches as with the kernels (the bound forced to -1).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe import _compute as pc
from secpipe import formats
from secpipe.formats import base as fbase
from secpipe.formats import cloudtrail as ct
from secpipe.formats.base import json_array

_NAMES = [*ct._SIGN_IN_NAMES, "GetObject", "Logout", "", "é"]
_TYPES = ["AssumedRole", "FederatedUser", "IAMUser", "Root", "", "assumedrole"]


def _column(r: random.Random, n: int, words: list[str], nulls: float) -> pa.Array:
    arr = pa.array([None if r.random() < nulls else r.choice(words) for _ in range(n + 3)], pa.string())
    return arr.slice(r.randrange(4), n)


def _sizes() -> list[int]:
    return [0, 1, 2, 5, ct._FEW_ROWS, ct._FEW_ROWS + 1, 200]


def test_sign_in_activity_is_index_in_take_fill_null() -> None:
    r = random.Random(20)
    for n in _sizes():
        for nulls in (0.0, 0.2, 1.0):
            names = _column(r, n, _NAMES, nulls)
            want = pc.fill_null(ct._SIGN_IN_IDS.take(pc.index_in(names, ct._SIGN_IN_KEYS)), ct._OTHER)
            got = ct._sign_in_activity(names)
            assert got.type == pa.int32() and got.equals(want)


def test_assumed_is_is_in() -> None:
    r = random.Random(21)
    for n in _sizes():
        for nulls in (0.0, 0.2, 1.0):
            types = _column(r, n, _TYPES, nulls)
            want = pc.fill_null(pc.is_in(types, value_set=ct._ASSUMED), False)
            got = ct._assumed(types)
            assert got.type == pa.bool_() and got.null_count == 0 and got.equals(want)


def test_status_is_is_valid_or_told_then_if_else() -> None:
    r = random.Random(22)
    for n in _sizes():
        for nulls in (0.0, 0.5, 1.0):
            err = _column(r, n, ["AccessDenied", "x"], nulls)
            for told in (None, pa.array([r.random() < 0.3 for _ in range(n)], pa.bool_())):
                failed = pc.is_valid(err) if told is None else pc.or_(pc.is_valid(err), told)
                status_id, status = ct._status(err, told)
                assert status_id.type == pa.int32() and status.type == pa.string()
                assert status_id.equals(pc.if_else(failed, pa.scalar(2, pa.int32()), pa.scalar(1, pa.int32())))
                assert status.equals(pc.if_else(failed, "Failure", "Success"))


def _records(real: Path) -> tuple[list[dict], list[dict]]:
    recs = []
    for name in ("cloudtrail.json", "cloudtrail_scenarios.json"):
        d = json.loads((real / "panther-analysis/extracted" / name).read_bytes())
        recs += [x for x in (d["Records"] if isinstance(d, dict) else d) if isinstance(x, dict)]
    signs = [x for x in recs if ct.signs_in(x.get("eventSource"), x.get("eventName"))]
    return [x for x in recs if x not in signs], signs


def _pass(recs: list[dict]) -> list[pa.RecordBatch]:
    """The batches of a pass of four _bulk requests of these records (runtime/combine.py)."""
    from secpipe.formats.base import split_guarded as _split
    from secpipe.runtime.combine import Job, map_jobs

    fmt = formats.get("cloudtrail")
    docs = [json.dumps(x, separators=(",", ":")).encode() for x in recs]
    k = -(-len(docs) // 4)
    jobs = []
    for j in range(0, len(docs), k):
        body = json_array(docs[j : j + k])
        jobs.append(Job(fmt, f"es_bulk:{j}", body, _split(fmt, body, f"es_bulk:{j}")))
    out = map_jobs(jobs)
    assert not out.dead
    return out.batches


@pytest.mark.parametrize("signs", [0, 1, 5, 30])
def test_pass_batches_as_with_the_kernels(real: Path, signs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    api, sign_ins = _records(real)
    r = random.Random(signs)
    recs = [dict(x) for x in r.sample(api * 2, 200)] + [dict(r.choice(sign_ins)) for _ in range(signs)]
    for i, x in enumerate(recs):
        x["eventID"] = f"{x.get('eventID')}-{i}"  # distinct records (uids)
    r.shuffle(recs)
    # a record without a time is stamped with the time it is mapped: the same in both
    monkeypatch.setattr(fbase.time, "time", lambda: 1_700_000_000.0)
    new = _pass(recs)
    monkeypatch.setattr(ct, "_FEW_ROWS", -1)  # the kernels for every batch, as before
    old = _pass(recs)
    assert len(new) == len(old) == (2 if signs else 1)
    for a, b in zip(new, old, strict=True):
        assert a.schema.equals(b.schema)
        assert [c for c in a.schema.names if not a.column(c).equals(b.column(c))] == []
    assert sum(b.num_rows for b in new) == 200 + signs
