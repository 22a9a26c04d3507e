"""SQL over the lake with DuckDB: one view per OCSF class directory, plus ``dead_letter``.

Views read ``<lake>/<class>/event_day=*/part-*.parquet`` with Hive partitioning (so
``event_day`` is a column and filters on it prune files) and ``union_by_name`` (files of
one class written by different formats carry different field subsets; DuckDB unifies
nested structs by field name).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from secpipe.errors import SecpipeError

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


class QueryError(SecpipeError):
    """A query that DuckDB rejected; the message says why and lists the tables."""


def connect(data_dir: Path) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """An in-memory DuckDB connection with the lake's views; returns (conn, view names)."""
    data_dir = Path(data_dir)
    con = duckdb.connect(":memory:")
    views: list[str] = []
    lake = data_dir / "lake"
    if lake.is_dir():
        for d in sorted(p for p in lake.iterdir() if p.is_dir()):
            if _IDENT.match(d.name) and any(d.glob("event_day=*/part-*.parquet")):
                glob = str(d / "event_day=*" / "part-*.parquet").replace("'", "''")
                con.execute(
                    f"CREATE VIEW {d.name} AS SELECT * FROM read_parquet('{glob}', "
                    "hive_partitioning=true, union_by_name=true)"
                )
                views.append(d.name)
    dlq = data_dir / "dlq"
    if any(dlq.glob("day=*/part-*.parquet")):
        glob = str(dlq / "day=*" / "part-*.parquet").replace("'", "''")
        con.execute(
            f"CREATE VIEW dead_letter AS SELECT * EXCLUDE (day) FROM read_parquet('{glob}', hive_partitioning=true)"
        )
    else:
        con.execute(
            "CREATE VIEW dead_letter AS SELECT * FROM (SELECT NULL::TIMESTAMPTZ AS time, NULL::VARCHAR AS source, "
            "NULL::VARCHAR AS format, NULL::BIGINT AS offset, NULL::VARCHAR AS reason, NULL::BIGINT AS size, "
            "NULL::VARCHAR AS sha256, NULL::BLOB AS raw, NULL::VARCHAR AS blob) WHERE false"
        )
    views.append("dead_letter")
    return con, views


def run(data_dir: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one SQL statement over the lake; returns (column names, rows)."""
    con, views = connect(data_dir)
    try:
        rel = con.execute(sql)
        cols = [d[0] for d in rel.description] if rel.description else []
        return cols, rel.fetchall()
    except duckdb.Error as exc:
        msg = f"{exc}\nTables in this lake: {', '.join(views)}"
        raise QueryError(msg) from exc
    finally:
        con.close()
