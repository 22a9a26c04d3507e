"""A flush spanning several days: each day's rows go to its partition, whole and in order.

``_by_day`` slices runs of one day (no copy) and chains a day's runs; rows interleaved
across days in many short runs are filtered. Both are checked against a per-day filter, the
definition, and a multi-day flush is read back from the lake partition by partition.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.store import lake as L

DAY = 86_400_000


def _table(days: list[int], chunk: int) -> pa.Table:
    n = len(days)
    t = pa.table({"time": pa.array([d * DAY + i for i, d in enumerate(days)], pa.int64()),
                  "v": pa.array([f"row{i}" for i in range(n)])})  # fmt: skip
    return pa.Table.from_batches(t.to_batches(max_chunksize=max(chunk, 1))) if n else t


@given(st.lists(st.integers(20_000, 20_004), max_size=400), st.integers(1, 64), st.booleans())
@settings(max_examples=300, deadline=None)
def test_rows_per_day_are_what_a_filter_gives(days: list[int], chunk: int, runs: bool) -> None:
    days = sorted(days) if runs else days  # in time order (the usual case) or interleaved
    table = _table(days, chunk)
    daynum = pc.floor(pc.divide(table.column("time").cast(pa.float64()), float(DAY))).cast(pa.int64())
    got = L._by_day(table, daynum)
    first_seen = list(dict.fromkeys(days))
    assert list(got) == first_seen
    for d in first_seen:
        assert got[d].equals(table.filter(pc.equal(daynum, d)))


def test_many_short_runs_are_filtered() -> None:
    days = [20_000 + (i % 2) for i in range(2 * L._MAX_RUNS)]
    table = _table(days, 100)
    daynum = pc.divide(table.column("time"), DAY)
    got = L._by_day(table, daynum)
    assert [t.num_rows for t in got.values()] == [L._MAX_RUNS, L._MAX_RUNS]
    for d, t in got.items():  # filtered (as many chunks as the table), not chained from 256 slices
        assert t.equals(table.filter(pc.equal(daynum, d)))
        assert t.column("time").num_chunks == table.column("time").num_chunks


def test_a_multi_day_flush_lands_in_each_days_partition(tmp_path: Path) -> None:
    from secpipe.formats import get

    raws = [(f'{{"eventVersion":"1.08","eventTime":"2026-11-0{d}T23:59:5{i}Z","eventSource":"s3.amazonaws.com",'
             f'"eventName":"GetObject","awsRegion":"us-east-1","eventID":"e{d}{i}"}}').encode()
            for d in (1, 2, 3) for i in range(3)]  # fmt: skip
    batch = get("cloudtrail").decode(b'{"Records":[' + b",".join(raws) + b"]}", "t.json").batches[0]
    lake = L.Lake(tmp_path / "lake")
    lake.append(batch)
    res = lake.flush()
    assert res.stored == {"api_activity": 9}
    for d in (1, 2, 3):
        part = pq.read_table(tmp_path / "lake" / "api_activity" / f"event_day=2026-11-0{d}")
        assert part.column("metadata").combine_chunks().field("original_event_uid").to_pylist() == [f"e{d}{i}" for i in range(3)]
