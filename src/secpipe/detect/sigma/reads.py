"""What the rules of one batch read: the slim table, native columns, field values, list fields.

- :func:`slim_table`: only the columns the routed rules need, flat (``raw_data``, the OCSF
  columns a format decoded an original field into — :data:`ORIGINAL_COLUMNS` — and top-level
  OCSF columns rule fields name), so DuckDB converts no wide structs;
- :func:`candidates`: per rule, the rows it may match (dispatch field :data:`DISPATCH`, or the
  rule's formats in a multi-format batch);
- :func:`read_values`: ONE query for every field value the fast path compares (each record's
  JSON parsed once), plus which records hold a JSON array along some field path;
- :func:`list_fields`: the fields whose path crosses a JSON array in this batch, probed only on
  the records flagged by :func:`read_values`;
- :func:`text_records`: whether some record is no JSON (syslog lines): reads then run under
  ``try`` and plain field names fall back to ``name=value`` pairs.

Guarantee: a value read here is exactly what the SQL path (:mod:`.sqlgen`) compares, so both
evaluation paths give the same matches.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.sigma.compiler import KEYWORDS, sql_str
from secpipe.detect.sigma.fields import base, is_param, is_presence, split_path
from secpipe.detect.sigma.rules import Rule
from secpipe.detect.sigma.sqlgen import (
    KV_NAME,
    XML_TEXT,
    json_path,
    kv_sql,
    list_sql,
    ocsf_expr,
    present_sql,
    raw_read,
    safe,
    spellings,
)

#: format -> (dispatch field, ...): rules are grouped by the values this field must have.
DISPATCH = {"cloudtrail": "eventName"}


#: original fields a format already decoded into OCSF columns with the identical value: read
#: from the column (no JSON parse). First existing path wins.
ORIGINAL_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "cloudtrail": {"eventName": ("metadata.event_code",), "eventSource": ("api.service.name", "service.name"),
                   "awsRegion": ("cloud.region",), "userAgent": ("http_request.user_agent",),
                   "eventID": ("metadata.original_event_uid",), "eventVersion": ("metadata.log_version",),
                   "errorCode": ("status_code",), "errorMessage": ("status_detail",),
                   "userIdentity.type": ("actor.user.type", "user.type"),
                   "userIdentity.arn": ("actor.user.uid_alt", "user.uid_alt"),
                   "userIdentity.accessKeyId": ("actor.user.credential_uid", "user.credential_uid"),
                   "userIdentity.accountId": ("actor.user.account.uid", "user.account.uid"),
                   "userIdentity.invokedBy": ("actor.invoked_by",),
                   "userIdentity.sessionContext.sessionIssuer.arn": ("actor.session.issuer",)},
}


def slim_table(tbl: pa.Table, rules: list[Rule], names: list[str | None],
          logs: pa.Array | None) -> tuple[pa.Table, dict[str, str]]:
    """The columns the rules need, flat where possible (DuckDB then converts no wide structs):
    ``__i`` (row position), ``raw_data``, ``__log`` (multi-format batches), ``__n<k>`` for
    original fields a format decoded into an OCSF column (:data:`ORIGINAL_COLUMNS`), and the
    top-level OCSF columns that rule fields name. Returns (table, field -> native column)."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {"__i": pa.array(np.arange(tbl.num_rows, dtype=np.int32))}
    if "raw_data" in tbl.schema.names:
        cols["raw_data"] = tbl.column("raw_data")
    if len(names) > 1 and logs is not None:
        cols["__log"] = logs
    native: dict[str, str] = {}
    fields = {f for r in rules for f in r.compiled.fields}
    if len(names) == 1 and names[0] in ORIGINAL_COLUMNS:
        for k, (f, paths) in enumerate(ORIGINAL_COLUMNS[str(names[0])].items()):
            if f not in fields:
                continue
            for path in paths:
                arr = _flat(tbl, path)
                if arr is not None:
                    cols[f"__n{k}"] = arr
                    native[f] = f"__n{k}"
                    break
    tops = {base(f).split(".")[0] for f in fields if f != KEYWORDS and f not in native}
    if KEYWORDS in fields:
        tops.add("message")
    for t in sorted(tops):
        if t in tbl.schema.names and t not in cols:
            cols[t] = tbl.column(t)
    return pa.table(cols), native


def _flat(tbl: pa.Table, path: str) -> pa.Array | None:
    segs = path.split(".")
    if segs[0] not in tbl.schema.names:
        return None
    arr = tbl.column(segs[0]).combine_chunks()
    for s in segs[1:]:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(s) < 0:
            return None
        arr = pc.struct_field(arr, s)
    return None if pa.types.is_nested(arr.type) else arr.cast(pa.string())


def text_records(slim: pa.Table) -> int:
    """0 when every record's original text is a JSON object, else 1 (syslog lines, console logs),
    or :data:`~.sqlgen.XML_TEXT` when some record also holds an XML element's end (``</``: Sysmon
    for Linux lines), whose elements :func:`~.sqlgen.kv_sql` then reads."""
    if "raw_data" not in slim.schema.names:
        return 0
    raw = slim.column("raw_data")
    if pc.all(pc.fill_null(pc.starts_with(raw, "{"), True)).as_py():
        return 0
    return XML_TEXT if pc.any(pc.fill_null(pc.match_substring(raw, "</"), False)).as_py() else 1


def read_values(con: duckdb.DuckDBPyConnection, slim: pa.Table, fields: list[str], native: dict[str, str],
            rows: np.ndarray | None = None, kv: int = 0,
            aliases: dict[str, tuple[str, ...]] | None = None) -> tuple[dict[str, pa.Array], pa.Array | None]:
    """(field -> value column, per record: has an array at some prefix of a field path) of the
    batch (``__b``); the second is None without raw fields.

    A value is what the SQL path compares: the native column, else the record's JSON path with
    the scalar OCSF column of the same dotted path as fallback (one query, each record parsed
    once). Fields whose OCSF fallback is a list get no value (SQL path). The array test parses
    only records with a ``[`` in their text (an array cannot be written without one). With
    ``rows`` (a mask), only those records are read; the others get NULL values and no array.
    With ``kv`` (some records are text, :func:`text_records`), a plain field name reads the
    record's ``name=value`` pair (:func:`kv_sql`), before the OCSF column. A field's other spellings (``aliases``)
    are read after its own; a presence pseudo-field reads the JSON type (:mod:`.fields`)."""
    values = {f: slim.column(c).combine_chunks() for f, c in native.items() if f in fields}
    todo = [f for f in fields if f != KEYWORDS and f not in native and not is_param(f)]  # parameters: SQL path
    if not todo:
        return values, None
    n = slim.num_rows
    has_raw = "raw_data" in slim.schema.names
    cols, scalar = [], []
    paths: list[str] = []
    types: list[str] = []
    for k, f in enumerate(todo):
        if has_raw:
            cols.append(f"{raw_read(f, aliases, paths, types)} AS r{k}")
        o = ocsf_expr(slim.schema, base(f))
        if o is not None and (not o[1] or is_presence(f)):
            cols.append(f"{present_sql(*o) if is_presence(f) else o[0]} AS o{k}")
        if o is None or not o[1] or is_presence(f):
            scalar.append(k)
            if kv and has_raw and KV_NAME.match(base(f)):
                kvs = kv_sql(base(f), kv == XML_TEXT)
                cols.append(f"{present_sql(kvs, False) if is_presence(f) else kvs} AS v{k}")
    if not cols or (rows is not None and not rows.any()):
        return values | {todo[k]: pa.nulls(n, pa.string()) for k in scalar}, pa.array(np.zeros(n, dtype=bool))
    src, where = "__b", ""
    if rows is not None and not rows.all():  # filtered by DuckDB: no copy of the records
        con.register("__s", slim.append_column("__m", pa.array(rows)))
        src, where = "__s", " WHERE __m"
        cols.append("__i")
    inner = "*"
    if has_raw:
        prefixes = list_sql(list(dict.fromkeys(json_path(".".join(p.split(".")[:i + 1]))
                                                for f in todo for p in spellings(f, aliases)
                                                for i in range(p.count(".") + 1))))
        reads = [f"{safe(f'json_extract_string(raw_data, {list_sql(paths)})', kv)} AS __j"] if paths else []
        reads += [f"{safe(f'json_type(raw_data, {list_sql(types)})', kv)} AS __t"] if types else []
        inner = (f"*, {', '.join(reads)}, "
                 f"coalesce(list_contains(CASE WHEN contains(raw_data, '[') THEN {safe(f'json_type(raw_data, {prefixes})', kv)} END, "
                 f"'ARRAY'), false) AS __arr")
        cols.append("__arr")
    res = con.sql(f"SELECT {', '.join(cols)} FROM (SELECT {inner} FROM {src}{where})").to_arrow_table()
    got = {name: res.column(name).combine_chunks() for name in res.schema.names}
    if where:  # back to batch rows: NULL (no array) where not read
        pos = np.full(n, -1, dtype=np.int64)
        pos[got.pop("__i").to_numpy(zero_copy_only=False)] = np.arange(res.num_rows)
        scatter = pa.array(pos, mask=pos < 0)
        got = {name: a.take(scatter) for name, a in got.items()}
    for k in scalar:
        parts = [a for a in (got.get(f"r{k}"), got.get(f"v{k}"), got.get(f"o{k}")) if a is not None]
        values[todo[k]] = pc.coalesce(*parts) if len(parts) > 1 else parts[0] if parts else pa.nulls(n, pa.string())
    arrays = got.get("__arr")
    return values, pc.fill_null(arrays, False) if arrays is not None else None


def list_fields(con: duckdb.DuckDBPyConnection, tbl: pa.Table, fields: list[str],
                 native: dict[str, str], arrays: pa.Array | None = None,
                 text: int = 0, aliases: dict[str, tuple[str, ...]] | None = None) -> dict[str, frozenset[int]]:
    """Raw fields whose path (in any of its spellings, ``aliases``) crosses (or ends in) a
    JSON array in this batch -> segment indexes to wildcard. Only records whose text
    contains every key of a field's path are probed, and with ``arrays`` (from
    :func:`read_values`: the record has an array at some probed path) only those records."""
    if "raw_data" not in tbl.schema.names:
        return {}
    probes: list[tuple[str, str, int]] = []
    need: dict[str, None] = {}
    for name in fields:
        if name == KEYWORDS or name in native or is_param(name):
            continue
        for path in spellings(name, aliases):
            segs = path.split(".")
            keys = split_path(path)
            probes.extend((name, path, i) for i in range(len(segs)))
            # a path can only exist in records whose text holds every one of its keys
            need["(" + " AND ".join(f"contains(raw_data, {sql_str(chr(34) + k + chr(34))})" for k in dict.fromkeys(keys)) + ")"] = None
    if not probes:
        return {}
    src = "__b"
    if arrays is not None:  # only records with an array at some probed path can flag one
        if not pc.any(arrays).as_py():
            return {}
        con.register("__a", tbl.select(["raw_data"]).filter(arrays))
        src = "__a"
    paths = [json_path(prefix(p, i)) for _, p, i in probes]
    aggs = ", ".join(f"bool_or(t[{k + 1}] = 'ARRAY')" for k in range(len(probes)))
    types = safe(f"json_type(raw_data, {list_sql(paths)})", text)
    sql = f"SELECT {aggs} FROM (SELECT {types} AS t FROM {src} WHERE {' OR '.join(need)})"
    row = con.sql(sql).fetchall()[0]
    out: dict[str, set[int]] = {}
    for k, flag in enumerate(row):
        if flag:
            name, _, seg = probes[k]
            out.setdefault(name, set()).add(seg)
    while True:  # an array inside array items (``alloweds[*].ports``): probed through the wildcards found
        deeper = [(name, path, i, frozenset(s for s in out[name] if s < i)) for name, path, i in probes
                  if name in out and i not in out[name] and any(s < i for s in out[name])]
        if not deeper:
            break
        aggs = ", ".join(
            f"bool_or(list_contains({safe(f'json_type(raw_data, {sql_str(json_path(prefix(path, i), set(wild)))})', text)}, 'ARRAY'))"
            for _, path, i, wild in deeper)
        row = con.sql(f"SELECT {aggs} FROM {src} WHERE {' OR '.join(need)}").fetchall()[0]
        found = [(name, i) for (name, _, i, _), flag in zip(deeper, row, strict=True) if flag]
        if not found:
            break
        for name, i in found:
            out[name].add(i)
    return {k: frozenset(v) for k, v in out.items()}


def prefix(path: str, i: int) -> str:
    """The first ``i + 1`` keys of a dotted path."""
    return ".".join(path.split(".")[: i + 1])


def candidates(slim: pa.Table, names: list[str | None], native: dict[str, str]) -> Callable[[Rule], np.ndarray | None]:
    """rule -> the rows it may match: with a single format that has a dispatch field, the rows
    whose (lower-cased) key is one of the rule's required values (None when the batch has
    none of them); in a multi-format batch the rows of the rule's formats; else every row."""
    n = slim.num_rows
    every = np.arange(n, dtype=np.int64)
    key = DISPATCH.get(str(names[0])) if len(names) == 1 else None
    if "__log" in slim.schema.names:
        logs = slim.column("__log").combine_chunks()
        by_formats: dict[tuple[str, ...], np.ndarray | None] = {}

        def of_formats(r: Rule) -> np.ndarray | None:
            if r.formats is None:
                return every
            if r.formats not in by_formats:
                sel = np.nonzero(pc.fill_null(pc.is_in(logs, value_set=pa.array(r.formats, pa.string())), False)
                                 .to_numpy(zero_copy_only=False))[0]
                by_formats[r.formats] = sel if len(sel) else None
            return by_formats[r.formats]

        return of_formats
    if key is None or key not in native:
        return lambda r: every
    enc = slim.column(native[key]).combine_chunks().dictionary_encode()
    low = pc.utf8_lower(enc.dictionary).to_pylist()
    idx = pc.fill_null(enc.indices, len(low)).to_numpy(zero_copy_only=False)
    order = np.argsort(idx, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(idx, minlength=len(low) + 1))])
    slots: dict[str, list[int]] = {}
    for j, v in enumerate(low):
        slots.setdefault(v, []).append(j)
    by_set: dict[frozenset[str], np.ndarray | None] = {}

    def dispatched(r: Rule) -> np.ndarray | None:
        need = r.required.get(key)
        if need is None:
            return every
        if need not in by_set:
            parts = [order[starts[j]:starts[j + 1]] for v in need for j in slots.get(v, ())]
            by_set[need] = np.concatenate(parts) if parts else None
        return by_set[need]

    return dispatched
