"""What a role without ``query.sensitive`` (viewer, auditor) sees: masked or tokenized fields only.

A restricted query never touches the lake files from SQL: the classes the statement names
are read here (decrypted if sealed), masked in Arrow, registered in DuckDB under the class
names, and DuckDB's file access is then switched off and the configuration locked, so no
SQL (``read_parquet``, ``COPY``, ``ATTACH``, ``SET``) can reach the unmasked data.

Masking: ``raw_data`` and ``unmapped`` become null (they hold the original event); the dead
letters' ``raw`` bytes become null; every sensitive string leaf (user names, uids, emails,
credential ids, IPs, host names, account ids — see :func:`is_sensitive`) keeps only its last
4 characters (``********9012``), except values that already are secpipe tokens (``tok:``,
``tokr:``), which are safe to show and still joinable.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.security import crypto
from secpipe.transforms.protect._columns import get_path, map_distinct, set_path, string_leaves
from secpipe.transforms.protect.mask import mask_value
from secpipe.transforms.protect.options import MaskRule

HIDDEN = ("raw_data", "unmapped")
_ANYWHERE = {"ip", "hostname", "email_addr", "full_name", "credential_uid", "user_agent"}
_UNDER_USER = {"name", "uid", "uid_alt", "display_name"}
_RULE = MaskRule(keep_first=0, keep_last=4, char="*")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def is_sensitive(path: str) -> bool:
    """True for string leaves that identify a person, credential, host or account."""
    parts = path.split(".")
    last = parts[-1]
    if last in _ANYWHERE:
        return True
    if last in _UNDER_USER and any(p in ("user", "users", "owner") for p in parts[:-1]):
        return True
    return len(parts) >= 2 and parts[-2] == "account" and last in ("uid", "name")


def _mask(v: str) -> str:
    return v if v.startswith(("tok:", "tokr:")) else mask_value(v, _RULE)


def mask_table(table: pa.Table) -> pa.Table:
    """The table with raw columns nulled and sensitive leaves masked."""
    batch = table.combine_chunks().to_batches()
    if not batch:
        return table
    b = pa.Table.from_batches(batch).combine_chunks().to_batches()[0] if len(batch) > 1 else batch[0]
    for name in (*HIDDEN, "raw"):
        i = b.schema.get_field_index(name)
        if i >= 0:
            b = b.set_column(i, b.schema.field(i), pa.nulls(b.num_rows, b.schema.field(i).type))
    for path in list(string_leaves(b.schema)):
        if is_sensitive(path):
            arr = get_path(b, path)
            if arr is not None and arr.null_count < len(arr):
                b = set_path(b, path, map_distinct(arr, _mask)[0])
    return pa.Table.from_batches([b])


def masked_views(con: duckdb.DuckDBPyConnection, data_dir: Path, sql: str) -> list[str]:
    """Register masked tables for the classes ``sql`` names; then lock DuckDB down."""
    cipher = crypto.for_data_dir(data_dir)
    words = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
    views: list[str] = []
    lake = data_dir / "lake"
    sources: list[tuple[str, list[Path], str]] = []
    if lake.is_dir():
        for d in sorted(p for p in lake.iterdir() if p.is_dir() and _IDENT.match(p.name)):
            files = sorted(d.glob("event_day=*/part-*.parquet"))
            if files:
                views.append(d.name)
                sources.append((d.name, files, "event_day"))
    dlq = sorted((data_dir / "dlq").glob("day=*/part-*.parquet"))
    views.append("dead_letter")
    if dlq:
        sources.append(("dead_letter", dlq, "day"))
    for name, files, key in sources:
        if name not in words:
            continue
        tables = []
        for f in files:
            t = crypto.read_parquet(f, cipher)
            tables.append(t.append_column(key, pa.array([f.parent.name.split("=", 1)[1]] * t.num_rows, pa.string())))
        table = mask_table(pa.concat_tables(tables, promote_options="permissive"))
        if key == "event_day":
            table = table.set_column(table.schema.get_field_index(key), key, pc.cast(table.column(key), pa.date32()))
        else:
            table = table.drop_columns([key])
        con.register(name, table)
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return views


def lock_to(con: duckdb.DuckDBPyConnection, dirs: list[Path]) -> None:
    """Let SQL read only under ``dirs`` (the lake and the DLQ), then lock the configuration."""
    allowed = ", ".join("'" + str(d.resolve()).replace("'", "''") + "/'" for d in dirs)
    con.execute(f"SET allowed_directories=[{allowed}]")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
