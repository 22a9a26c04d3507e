"""Null OCSF objects stay queryable when files of one class have different layouts.

assemble() stores an object with no field as null; DuckDB's ``union_by_name`` scan cannot fill
a struct field that one file lacks under such a null object (an internal "flat vector" error
on 2.0.1), so the lake's views scan each file layout apart and union them by name.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from secpipe.store.query import connect

S = pa.string()


def test_null_objects_across_layouts_by_hand(tmp_path: Path) -> None:
    # file a: x null in row 2 and no x.other; file b: x.other a struct
    a = pa.StructArray.from_arrays([pa.array(["a", None])], names=["name"], mask=pa.array([False, True]))
    b = pa.StructArray.from_arrays([pa.array(["c"]), pa.array([{"uid": "2"}], pa.struct([("uid", S)]))],
                                   names=["name", "other"])  # fmt: skip
    for day, col in (("2026-01-01", a), ("2026-01-02", b)):
        part = tmp_path / "lake" / "api_activity" / f"event_day={day}"
        part.mkdir(parents=True)
        pq.write_table(pa.table({"x": col, "y": pa.array(range(len(col)))}), part / "part-0.parquet")
    con, _views = connect(tmp_path)
    got = con.sql("SELECT x, y, CAST(event_day AS VARCHAR) FROM api_activity ORDER BY event_day, y").fetchall()
    assert got == [({"name": "a", "other": None}, 0, "2026-01-01"), (None, 1, "2026-01-01"),
                   ({"name": "c", "other": {"uid": "2"}}, 0, "2026-01-02")]  # fmt: skip
    # the partition column still prunes
    assert con.sql("SELECT count(*) FROM api_activity WHERE event_day = '2026-01-02'").fetchall() == [(1,)]


def test_cloudtrail_and_k8s_events_query_together(real: Path, tmp_path: Path) -> None:
    pipe = Pipeline(tmp_path)
    ingest_files(pipe, [str(real / "falco/test/trace_files/plugins/alice_start_instances.json")], "cloudtrail")
    ingest_files(pipe, [str(real / "panther-analysis/extracted/k8s_audit.jsonl")], "k8s_audit")
    pipe.flush()
    con, _views = connect(tmp_path)
    ((n, actors, sessions),) = con.sql(
        "SELECT count(*), count(actor), count(actor.session) FROM api_activity").fetchall()  # fmt: skip
    assert n == pipe.totals.stored["api_activity"] and 0 < actors <= n
    assert sessions < n  # k8s events have no actor.session: null, not an empty object
    rows = con.sql("SELECT metadata.profiles FROM api_activity").fetchall()
    assert all("datetime" in p for (p,) in rows)
