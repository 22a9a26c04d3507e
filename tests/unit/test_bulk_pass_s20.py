"""Session 20 (H1): the fixed cost of a CloudTrail mapping pass (a ``_bulk`` request of 125
records meets three others in a pass, which maps them in two batches: API Activity and sign-ins).

Each shortcut gives the same column as the kernel calls it replaces (compared here on random
columns with nulls, empty strings and slices), and a mixed pass gives the msgspec path's batches.
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from secpipe import _arrays
from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats import base as fbase
from secpipe.formats import cloudtrail as ct

_WORDS = ["", "a", "AssumedRole", "FederatedUser", "IAMUser", "true", "TRUE", "false", "x" * 40, "é"]


def _column(r: random.Random, n: int, nulls: float, words: list[str] = _WORDS) -> pa.Array:
    arr = pa.array([None if r.random() < nulls else r.choice(words) for _ in range(n + 3)], pa.string())
    off = r.randrange(4)
    return arr.slice(off, n)  # sliced: offsets and bitmaps that do not start at 0


def _cases(seed: int = 20, count: int = 300) -> list[tuple[pa.Array, ...]]:
    r = random.Random(seed)
    out = []
    for _ in range(count):
        n = r.choice([0, 1, 2, 7, 8, 9, 63, 64, 65, 130, 500])
        nulls = r.choice([0.0, 0.0, 0.1, 0.5, 1.0])
        out.append((_column(r, n, nulls), _column(r, n, r.choice([0.0, 0.3, 1.0])), _column(r, n, nulls)))
    return out


def test_hex_column_is_the_cast_it_replaces() -> None:
    for n in (0, 1, 2, 125, 1 << 16, (1 << 16) + 1):
        hexes = bytes(random.Random(n).choice(b"0123456789abcdef") for _ in range(32 * n))
        fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), n, [None, pa.py_buffer(hexes)])
        old = fixed.cast(pa.binary()).cast(pa.string())
        new = _fast._hex_column(hexes, n)
        new.validate(full=True)
        assert new.equals(old) and new.type == pa.string()
    with pytest.raises(ValueError, match="32 characters"):
        _fast._hex_column(b"abc", 1)


def test_valid_rows_is_is_valid() -> None:
    for a, _b, _c in _cases():
        if a.null_count:
            assert (_arrays.valid_rows(a) == a.is_valid().to_numpy(zero_copy_only=False)).all()


def test_blank_and_nonempty_rows_as_the_kernels_give_them() -> None:
    for a, _b, _c in _cases():
        blank = ct._blank(a)
        assert blank.equals(pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a))
        assert (_arrays.nonempty_rows(a) == pc.fill_null(pc.not_equal(a, ""), False).to_numpy(zero_copy_only=False)).all()


def test_shortcuts_of_ocsf_give_the_kernel_results() -> None:
    for a, b, c in _cases():
        principal = ct._blank(a)
        assert ct._first_present(principal, b, c).equals(pc.coalesce(principal, ct._blank(b), c))
        assert ct._is_true(a).equals(pc.equal(pc.utf8_lower(a), pa.scalar("true", pa.string())))
        assumed = pc.is_in(a, value_set=ct._ASSUMED)
        assert assumed.null_count == 0  # is_in answers false for a null: the fill_null it skips was a no-op
        assert assumed.equals(pc.fill_null(assumed, False))
        if a.null_count == 0:  # src_endpoint.type_id/type of a batch where every record names its caller
            unknown = pc.is_null(a)
            assert pa.nulls(len(a), pa.int32()).equals(pc.if_else(unknown, pa.scalar(0, pa.int32()),
                                                                  pa.scalar(None, pa.int32())))
            assert pa.nulls(len(a), pa.string()).equals(pc.if_else(unknown, pa.scalar("Unknown"),
                                                                   pa.scalar(None, pa.string())))


def test_unfit_as_the_kernels_give_it() -> None:
    r = random.Random(5)
    for name, source, _c in _cases():
        insight = _column(r, len(name), r.choice([1.0, 1.0, 0.9, 0.0]), ['{"a":1}'])
        cols = _fast.Columns({"eventName": name, "eventSource": source, "insightDetails": insight}, {},
                             pa.nulls(len(name), pa.string()), [])  # fmt: skip
        ok = pc.and_(pc.and_(_arrays.nonempty(name), _arrays.nonempty(source)), pc.is_null(insight))
        assert (ct._unfit(cols) == ~ok.to_numpy(zero_copy_only=False)).all()


def test_activity_over_distinct_names_is_name_by_name() -> None:
    r = random.Random(7)
    names = [*ct._VERB_ACT, "ConsoleLogin", "batchGetThing", "Describe", "", "123", "ÉtéList"]
    for n in (1, 64, 65, 200, 512, 513):
        for nulls in (0.0, 0.2):
            col = pa.array([None if r.random() < nulls else r.choice(names) for _ in range(n)], pa.string())
            want = pa.array([ct._activity_of(x) for x in col.to_pylist()], pa.int32())
            assert ct._activity(col).equals(want), n


def test_type_uids_as_cast_and_add() -> None:
    for ids in (pa.array([1, 2, 99, 0], pa.int32()), pa.array([1, None, 3], pa.int32()), pa.array([], pa.int32()),
                pa.array([5, 6, 7, 8, 9], pa.int32()).slice(2), pa.array([1, 2], pa.int64())):  # fmt: skip
        want = pc.add(ids.cast(pa.int64()), pa.scalar(300_300, pa.int64()))
        got = fbase._type_uids(ids, 3003)
        assert got.type == pa.int64() and got.equals(want)


@pytest.mark.parametrize("present", [0.75, 1.0])
def test_same_batches_for_mixed_passes(present: float) -> None:
    """A pass of several requests with sign-in records, missing callers and blank identities maps
    to the batches the msgspec path gives (each column; the shortcuts are on the native path)."""
    import json

    from secpipe import formats
    from secpipe.formats.base import json_array
    from secpipe.formats.base import split_guarded as _split
    from secpipe.runtime.combine import Job, map_jobs
    from secpipe.schema.ocsf import class_of

    r = random.Random(11)
    fmt = formats.get("cloudtrail")
    recs = []
    for i in range(300):
        rec = {"eventVersion": "1.08", "eventTime": f"2024-05-01T10:{i % 60:02d}:00Z", "eventSource": "s3.amazonaws.com",
               "eventName": r.choice(["GetObject", "PutObject", "ListBuckets", "ConsoleLogin"]),
               "awsRegion": "us-east-1", "eventID": f"id-{i}", "requestID": f"r{i}",
               "userIdentity": {"type": r.choice(["IAMUser", "AssumedRole"]), "arn": r.choice(["", "arn:aws:iam::1:u"]),
                                "accountId": "1", "userName": r.choice(["bob", ""])}}  # fmt: skip
        if rec["eventName"] == "ConsoleLogin":
            rec["eventSource"] = "signin.amazonaws.com"
        if r.random() < present:  # 1.0: every record names its caller and principal (the shortcuts)
            rec["userIdentity"]["principalId"] = r.choice(["AIDA1", "AIDA2"] if present == 1.0 else ["AIDA1", ""])
        if r.random() < present:
            rec["sourceIPAddress"] = r.choice(["10.0.0.1", "ec2.amazonaws.com", "::1"])
        recs.append(json.dumps(rec, separators=(",", ":")).encode())
    jobs = []
    for k in range(0, 300, 75):
        body = json_array(recs[k : k + 75])
        jobs.append(Job(fmt, f"s{k}", body, _split(fmt, body, f"s{k}")))
    native = map_jobs(jobs)
    both = [raw for job in jobs for raw in job.recs.raws]
    st = fbase.decode_strict(both, [("s", i) for i in range(len(both))], ct._Record, fbase.Decoded(), "cloudtrail", "x")
    signs = np.array([ct.signs_in(x.eventSource, x.eventName) for x in st.recs])
    slow = {"api_activity": ct._batch("api_activity", st.take(np.flatnonzero(~signs).tolist())),
            "authentication": ct._batch("authentication", st.take(np.flatnonzero(signs).tolist()))}
    assert len(native.batches) == 2
    for b in native.batches:
        want = slow[class_of(b)]
        assert b.num_rows == want.num_rows and b.schema.equals(want.schema)
        for name in b.schema.names:
            assert b.column(name).equals(want.column(name)), name
