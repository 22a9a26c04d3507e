"""SQL over the lake with DuckDB: one view per OCSF class directory, plus ``dead_letter``.

Views read ``<lake>/<class>/event_day=*/part-*.parquet`` with Hive partitioning (so
``event_day`` is a column and filters on it prune files), unified by name (files of one
class written by different formats carry different field subsets; DuckDB unifies nested
structs by field name): one scan per file layout, joined with ``UNION ALL BY NAME`` (see
:func:`_class_scan`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from secpipe.errors import SecpipeError
from secpipe.security import crypto

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_EMPTY_DLQ = (
    "CREATE VIEW dead_letter AS SELECT * FROM (SELECT NULL::TIMESTAMPTZ AS time, NULL::VARCHAR AS source, "
    "NULL::VARCHAR AS format, NULL::BIGINT AS offset, NULL::VARCHAR AS reason, NULL::BIGINT AS size, "
    "NULL::VARCHAR AS sha256, NULL::BLOB AS raw, NULL::VARCHAR AS blob) WHERE false"
)


class QueryError(SecpipeError):
    """A query that DuckDB rejected; the message says why and lists the tables."""


def connect(data_dir: Path) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """An in-memory DuckDB connection with the lake's views; returns (conn, view names)."""
    data_dir = Path(data_dir)
    con = duckdb.connect(":memory:")
    cipher = crypto.for_data_dir(data_dir)
    if cipher is not None:
        return con, _encrypted_views(con, data_dir, cipher)
    views: list[str] = []
    lake = data_dir / "lake"
    if lake.is_dir():
        for d in sorted(p for p in lake.iterdir() if p.is_dir()):
            if _IDENT.match(d.name) and any(d.glob("event_day=*/part-*.parquet")):
                con.execute(f"CREATE VIEW {d.name} AS {_class_scan(con, d)}")
                views.append(d.name)
    dlq = data_dir / "dlq"
    if any(dlq.glob("day=*/part-*.parquet")):
        glob = str(dlq / "day=*" / "part-*.parquet").replace("'", "''")
        con.execute(
            f"CREATE VIEW dead_letter AS SELECT * EXCLUDE (day) FROM read_parquet('{glob}', hive_partitioning=true)"
        )
    else:
        con.execute(_EMPTY_DLQ)
    views.append("dead_letter")
    return con, views


def _class_scan(con: duckdb.DuckDBPyConnection, d: Path) -> str:
    """The SELECT over one class directory's files: one ``read_parquet`` per file layout, the
    layouts joined with ``UNION ALL BY NAME``.

    DuckDB's ``union_by_name`` scan cannot fill a struct-typed field that a file lacks under an
    object that is null in some of its rows ("Operation requires a flat vector"; seen on 2.0.1),
    and OCSF events have null objects; a scan per layout never fills a field, and the union by
    name of the scans unifies the structs. One layout (the common case) is one plain scan.
    """
    glob = str(d / "event_day=*" / "part-*.parquet").replace("'", "''")
    rows = con.execute(
        "SELECT file_name, string_agg(name || ':' || coalesce(type, '') || ':' || coalesce(num_children, 0), ',' "
        f"ORDER BY column_id) FROM parquet_schema('{glob}') GROUP BY file_name ORDER BY file_name"
    ).fetchall()
    layouts: dict[str, list[str]] = {}
    for name, sig in rows:
        layouts.setdefault(sig, []).append(name)
    if len(layouts) <= 1:
        return f"SELECT * FROM read_parquet('{glob}', hive_partitioning=true, union_by_name=true)"
    scans = []
    for files in layouts.values():
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        scans.append(f"SELECT * FROM read_parquet([{listed}], hive_partitioning=true, union_by_name=true)")
    return " UNION ALL BY NAME ".join(scans)


def _encrypted_views(con: duckdb.DuckDBPyConnection, data_dir: Path, cipher: crypto.Cipher) -> list[str]:
    """Views over an encrypted lake: each sealed file is decrypted into Arrow and handed to DuckDB.

    Files of one class are unified by field name (as ``union_by_name`` does), and the Hive
    partition value becomes the ``event_day`` column, so SQL is the same as over a plain lake.
    """
    views: list[str] = []

    def load(files: list[Path], part_key: str) -> pa.Table:
        tables = []
        for f in files:
            t = crypto.read_parquet(f, cipher)
            value = f.parent.name.split("=", 1)[1]
            tables.append(t.append_column(part_key, pa.array([value] * t.num_rows, pa.string())))
        return pa.concat_tables(tables, promote_options="permissive")

    lake = data_dir / "lake"
    if lake.is_dir():
        for d in sorted(p for p in lake.iterdir() if p.is_dir()):
            files = sorted(d.glob("event_day=*/part-*.parquet"))
            if _IDENT.match(d.name) and files:
                con.register(f"__enc_{d.name}", load(files, "event_day"))
                con.execute(f"CREATE VIEW {d.name} AS SELECT * REPLACE (CAST(event_day AS DATE) AS event_day) "
                            f"FROM __enc_{d.name}")
                views.append(d.name)
    files = sorted((data_dir / "dlq").glob("day=*/part-*.parquet"))
    if files:
        con.register("__enc_dead_letter", load(files, "day"))
        con.execute("CREATE VIEW dead_letter AS SELECT * EXCLUDE (day) FROM __enc_dead_letter")
    else:
        con.execute(_EMPTY_DLQ)
    views.append("dead_letter")
    return views


def run(data_dir: Path, sql: str, *, restricted: bool = False,
        sandbox: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one SQL statement over the lake; returns (column names, rows).

    ``sandbox``: SQL may read only the lake and DLQ (no other files, no settings changes);
    the server always sets it. ``restricted``: roles without ``query.sensitive`` see masked
    data only (see :mod:`secpipe.security.masking`); implies the sandbox.
    """
    from secpipe.security import masking

    if restricted:
        con = duckdb.connect(":memory:")
        views = masking.masked_views(con, Path(data_dir), sql)
    else:
        con, views = connect(data_dir)
        if sandbox:
            masking.lock_to(con, [Path(data_dir) / "lake", Path(data_dir) / "dlq"])
    try:
        rel = con.execute(sql)
        cols = [d[0] for d in rel.description] if rel.description else []
        return cols, rel.fetchall()
    except duckdb.Error as exc:
        msg = f"{exc}\nTables in this lake: {', '.join(views)}"
        raise QueryError(msg) from exc
    finally:
        con.close()


def plain(v: Any) -> Any:
    """A query result value as plain JSON-able Python (bytes, datetimes, decimals, nested)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal | uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    return v
