"""Evaluating compiled rules over an OCSF batch: vectorized DuckDB/numpy work, never a per-event loop.

Per batch:

1. routing — rules whose logsource matches the batch's distinct ``metadata.log_name`` values
   (a handful) and class are chosen;
2. a slim Arrow table is built with only what those rules read (``raw_data``, flat copies of
   the OCSF columns a format already decoded an original field into — :data:`ORIGINAL_COLUMNS`,
   e.g. CloudTrail ``eventName`` = ``metadata.event_code`` — and top-level OCSF columns rule
   fields name), so DuckDB converts no wide structs;
3. prefilter (:meth:`.vector.Vector.prefilter`) — each rule's candidate rows: with a dispatch
   field (:data:`DISPATCH`, CloudTrail ``eventName``) only the rows holding a value the rule
   requires (a rule whose values are absent is skipped), then narrowed by Kleene evaluation
   over the native columns (every other leaf unknown);
4. values — ONE query pulls every field the rules name (:func:`_values`), only on the rows a
   rule reading non-native fields may still match: ``json_extract_string(raw_data, [paths])``
   (in a batch with text records — syslog lines — under ``try``: a record whose original text
   is no JSON has no raw fields, its plain field names read its ``name=value`` pairs instead —
   auditd, useradd — see :func:`_kv_sql`; JSON-only batches pay for neither)
   (each record parsed once) with the OCSF column of the same dotted path as fallback, plus
   whether the record has a JSON array at some prefix of those paths (``json_type``, only on
   records whose text has a ``[``);
5. list fields — paths that cross (or end in) a JSON array in those rows, probed exactly on
   the records flagged in 4, become list columns: any element may match;
6. fast path (:mod:`.vector`) for every rule over scalar fields: leaf predicates evaluated once
   per distinct field value (cached across batches), condition trees with numpy over the
   rule's rows from 3; evidence is the JSON of the rule's fields;
7. SQL path for the rest (keywords, field references, list fields): rows split by dispatch
   value into at most :data:`BRANCHES` parts, one query per part with a cheap three-valued
   prefilter on native columns, each rule one boolean packed into 64-bit masks decoded with
   numpy; evidence is the JSON of the part's fields.

Both paths give the same matches (the fast path reuses the SQL leaf text; see :mod:`.vector`
for why its 2-valued logic equals the SQL path's coalesced 3-valued logic, and why rows the
prefilter drops cannot match whatever their JSON holds); the output is (row, rule) matches
(:data:`MATCHES_SCHEMA`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.detect.sigma import vector
from secpipe.detect.sigma.compiler import KEYWORDS, NOT_CLOSE, NOT_OPEN, F, L, Leaf, sql_str
from secpipe.detect.sigma.fields import Vocabulary, base, is_evidence, is_presence
from secpipe.detect.sigma.rules import Rule

#: original fields a format already decoded into OCSF columns with the identical value: read
#: from the column (no JSON parse). First existing path wins.
ORIGINAL_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "cloudtrail": {"eventName": ("metadata.event_code",), "eventSource": ("api.service.name", "service.name"),
                   "awsRegion": ("cloud.region",), "userAgent": ("http_request.user_agent",),
                   "eventID": ("metadata.original_event_uid",), "eventVersion": ("metadata.log_version",),
                   "errorCode": ("status_code",), "errorMessage": ("status_detail",),
                   "userIdentity.type": ("actor.user.type", "user.type"),
                   "userIdentity.arn": ("actor.user.uid_alt", "user.uid_alt"),
                   "userIdentity.principalId": ("actor.user.uid", "user.uid"),
                   "userIdentity.accessKeyId": ("actor.user.credential_uid", "user.credential_uid"),
                   "userIdentity.accountId": ("actor.user.account.uid", "user.account.uid"),
                   "userIdentity.invokedBy": ("actor.invoked_by",),
                   "userIdentity.sessionContext.sessionIssuer.arn": ("actor.session.issuer",)},
}

#: at most this many dispatch parts (one query branch each) per batch.
BRANCHES = 16
#: format -> (dispatch field, ...): rules are grouped by the values this field must have.
DISPATCH = {"cloudtrail": "eventName"}

MATCHES_SCHEMA = pa.schema([("row", pa.int32()), ("rule_id", pa.string()), ("event_uid", pa.string()),
                            ("event_time", pa.int64()), ("event_class", pa.string()), ("evidence", pa.string())])


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(name: str, wild: set[int] | None = None) -> str:
    segs = name.split(".")
    out = "$"
    for i, s in enumerate(segs):
        out += "." + _ident(s)
        if wild and i in wild:
            out += "[*]"
    return out


def _ocsf_expr(schema: pa.Schema, name: str) -> tuple[str, bool] | None:
    """SQL for an OCSF dotted path in this batch schema: (expr, is_list), or None."""
    segs = name.split(".")
    if segs[0] not in schema.names:
        return None
    typ = schema.field(segs[0]).type
    expr = _ident(segs[0])
    is_list = False
    depth = 0
    for s in segs[1:]:
        while pa.types.is_list(typ) or pa.types.is_large_list(typ):
            typ = typ.value_type
            depth += 1
            var = f"x{depth}"
            expr = f"list_transform({expr}, lambda {var}: {var}"  # closed below
            is_list = True
        if not pa.types.is_struct(typ) or typ.get_field_index(s) < 0:
            return None
        typ = typ.field(s).type
        expr += "." + _ident(s)
    expr += ")" * depth
    if depth > 1:
        expr = f"flatten({expr})" if depth == 2 else None  # type: ignore[assignment]
        if expr is None:
            return None
    if pa.types.is_list(typ):
        if is_list:
            return None
        return f"list_transform({expr}, lambda v: CAST(v AS VARCHAR))", True
    if pa.types.is_struct(typ) or pa.types.is_map(typ):
        return None
    if is_list:
        return f"list_transform({expr}, lambda v: CAST(v AS VARCHAR))", True
    return f"CAST({expr} AS VARCHAR)", False


_TABLE = "\x03T\x03"  # placeholder in cached branch SQL


class RuleSet:
    """Compiled rules evaluated together over batches. Thread-safe (one DuckDB cursor per call)."""

    def __init__(self, rules: list[Rule], *, unsupported: list | None = None, correlations: list | None = None,
                 array_paths: bool = True, total: int | None = None, distinct_values: bool = True) -> None:
        """``distinct_values=False`` puts every rule on the SQL path (the reference evaluation)."""
        self.rules = rules
        self.total = len(rules) + len(unsupported or []) + len(correlations or []) if total is None else total
        self.unsupported = unsupported or []
        self.correlations = correlations or []
        self.array_paths = array_paths
        self.by_id = {r.id: r for r in rules}
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET threads TO 1")
        self._con.execute("SET disabled_optimizers = 'in_clause'")
        self._plans: dict[tuple, str] = {}
        self._lock = threading.Lock()
        self._vector = vector.Vector(rules if distinct_values else [])
        self._field_lists: dict[tuple[int, ...], list[str]] = {}
        self._vocab = Vocabulary()

    # -- routing --------------------------------------------------------------------
    def routed(self, log_names: Iterable[str | None], class_name: str | None) -> list[Rule]:
        names = set(log_names)
        return [r for r in self.rules
                if (r.formats is None or names.intersection(r.formats))
                and (r.classes is None or class_name in r.classes)]

    def routed_class(self, class_name: str) -> list[Rule]:
        """Rules that may see events of an OCSF class (any format)."""
        return [r for r in self.rules if r.classes is None or class_name in r.classes]

    # -- evaluation -----------------------------------------------------------------
    def matches(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        """Every (row, rule) match of the batch as a table (:data:`MATCHES_SCHEMA`)."""
        if batch.num_rows == 0 or not self.rules:
            return MATCHES_SCHEMA.empty_table()
        tbl = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        meta = tbl.column("metadata").combine_chunks() if "metadata" in tbl.schema.names else None
        logs = meta.field("log_name") if meta is not None and meta.type.get_field_index("log_name") >= 0 else None
        names = pc.unique(logs).to_pylist() if logs is not None else [None]
        cls = _class_name(tbl)
        rules = self.routed(names, cls)
        if not rules:
            return MATCHES_SCHEMA.empty_table()
        slim, native = _slim(tbl, rules, names, logs)
        text = _text_records(slim)
        raw = slim.column("raw_data") if "raw_data" in slim.schema.names else None
        todo = [f for f in self._fields(rules) if f != KEYWORDS and f not in native]
        aliases = self._vocab.variants(str(names[0]) if len(names) == 1 else None, raw, todo)
        try:
            out = self._evaluate(tbl, slim, native, names, cls, rules, text, aliases)
        except duckdb.InvalidInputException:
            if text:
                raise
            out = self._evaluate(tbl, slim, native, names, cls, rules, True, aliases)  # a '{...' record that is no JSON
        if not out:
            return MATCHES_SCHEMA.empty_table()
        return pa.concat_tables(out) if len(out) > 1 else out[0]

    def _evaluate(self, tbl: pa.Table, slim: pa.Table, native: dict[str, str], names: list[str | None],
                  cls: str | None, rules: list[Rule], text: bool,
                  aliases: dict[str, tuple[str, ...]] | None = None) -> list[pa.Table]:
        """The match tables of one batch. ``text``: some records are no JSON (their raw fields
        are read under ``try`` and from ``name=value`` pairs); JSON-only batches skip both.
        ``aliases``: event field -> its other spellings in these records (:mod:`.fields`)."""
        con = self._con.cursor()
        out: list[pa.Table] = []
        try:
            con.register("__b", slim)
            nat = {f: slim.column(c).combine_chunks() for f, c in native.items()}
            with self._lock:
                pre = self._vector.prefilter(con, rules, nat, slim.num_rows, _candidates(slim, names, native))
            values, arrays = _values(con, slim, self._fields(rules), native, pre.rows, text, aliases)
            lists = self._list_fields(con, slim, rules, native, arrays, text, aliases) if self.array_paths else {}

            other = {f for f in self._fields(rules) if f not in native and (f in lists or f not in values)}
            ok = [self._vector.supports(r, other) for r in rules]
            fast = [r for r, y in zip(rules, ok, strict=True) if y]
            if fast:
                with self._lock:
                    rows, ridx = self._vector.run(con, fast, values, pre)
                if len(rows):
                    ids = pa.array([r.id for r in fast], pa.string()).take(pa.array(ridx))
                    out.append(_match_table(rows, ids, vector.evidence(con, fast, values, rows, ridx), tbl, cls))
            slow = [r for r, y in zip(rules, ok, strict=True) if not y]
            for j, (part, group, guards) in enumerate(self._groups(slim, slow, names, native) if slow else []):
                con.register(f"__g{j}", part)
                sql = self._branch(part.schema, group, lists, native, guards, text, aliases).replace(_TABLE, f"__g{j}")
                res = con.sql(sql).to_arrow_table()
                if res.num_rows:
                    out.append(self._pairs(res, group, tbl, cls))
        finally:
            con.close()
        return out

    def masks(self, batch: pa.RecordBatch | pa.Table) -> dict[str, np.ndarray]:
        """rule id -> boolean mask over the batch rows (rules with no match are absent)."""
        m = self.matches(batch)
        out: dict[str, np.ndarray] = {}
        rows = m.column("row").to_numpy()
        for rid, idx in _group(m.column("rule_id").to_pylist()):
            mask = np.zeros(batch.num_rows, dtype=bool)
            mask[rows[idx]] = True
            out[rid] = mask
        return out

    def _groups(self, slim: pa.Table, rules: list[Rule], names: list[str | None],
                native: dict[str, str]) -> list[tuple[pa.Table, list[Rule], tuple | None]]:
        """(rows, rules) parts of the batch: rules that require values of the dispatch field meet
        only the rows holding one of those values (rows are split by value: a loop over distinct
        values, not rows); the other rules form one part over every row."""
        key = DISPATCH.get(str(names[0])) if len(names) == 1 else None
        if key is None or key not in native:
            return [(slim, rules, None)]
        generic = [r for r in rules if r.required.get(key) is None]
        specific = [r for r in rules if r.required.get(key) is not None]
        if not specific:
            return [(slim, rules, None)]
        low = pc.utf8_lower(slim.column(native[key]).combine_chunks())
        present = pc.unique(low).drop_null()
        gid_of_value = np.full(len(present) + 1, -1, dtype=np.int64)  # last slot: null key
        seen: dict[tuple[int, ...], int] = {}
        sets: list[list[Rule]] = []
        for j, v in enumerate(present.to_pylist()):
            idx = tuple(i for i, r in enumerate(specific) if v in r.required[key])  # type: ignore[operator]
            if idx:
                if idx not in seen:
                    seen[idx] = len(sets)
                    sets.append([specific[i] for i in idx])
                gid_of_value[j] = seen[idx]
        out: list[tuple[pa.Table, list[Rule], tuple | None]] = [(slim, generic, None)] if generic else []
        if not sets:
            return out
        pos = pc.fill_null(pc.index_in(low, value_set=present), len(present)).to_numpy(zero_copy_only=False)
        gid = gid_of_value[pos]
        counts = np.bincount(gid[gid >= 0], minlength=len(sets))
        # Pack the rule sets into at most BRANCHES parts (largest first, into the lightest part):
        # a part's rules are guarded by `__gid IN (...)` when they do not apply to all its rows.
        nparts = min(BRANCHES, len(sets))
        part_of = np.zeros(len(sets), dtype=np.int64)
        load = np.zeros(nparts)
        for g in np.argsort(-counts, kind="stable"):
            k = int(np.argmin(load))
            part_of[g] = k
            load[k] += counts[g] + 1
        rows_part = np.where(gid >= 0, part_of[np.maximum(gid, 0)], -1)
        order = np.argsort(rows_part, kind="stable")
        bounds = np.searchsorted(rows_part[order], np.arange(nparts + 1))
        keep = order[bounds[0]:]  # rows with part -1: no specific rule can match them
        ordered = slim.take(pa.array(keep.astype(np.int64)))
        ordered = ordered.append_column("__gid", pa.array(gid[keep].astype(np.int32)))
        base = bounds[0]
        for k in range(nparts):
            if bounds[k + 1] == bounds[k]:
                continue
            members = [g for g in range(len(sets)) if part_of[g] == k and counts[g]]
            rules_k: dict[int, list[int]] = {}
            for g in members:
                for r in sets[g]:
                    rules_k.setdefault(id(r), []).append(g)
            by_id = {id(r): r for g in members for r in sets[g]}
            group = [by_id[i] for i in rules_k]
            guards = tuple(None if len(gs) == len(members) else tuple(gs) for gs in rules_k.values())
            out.append((ordered.slice(bounds[k] - base, bounds[k + 1] - bounds[k]), group, guards))
        return out

    def _pairs(self, res: pa.Table, rules: list[Rule], tbl: pa.Table, cls: str | None) -> pa.Table:
        """Decode the per-row rule bitmasks of one part into (row, rule) matches."""
        rows_all = res.column("__i").to_numpy()
        ev_all = res.column("ev").combine_chunks()
        rows_out, rule_out, ev_out = [], [], []
        for q in range(0, len(rules), 64):
            mask = res.column(f"m{q // 64}").to_numpy()
            for k in range(q, min(q + 64, len(rules))):
                sel = np.nonzero((mask >> np.uint64(k - q)) & np.uint64(1))[0]
                if len(sel):
                    rows_out.append(rows_all[sel])
                    rule_out.append(np.full(len(sel), k, dtype=np.int64))
                    ev_out.append(sel)
        if not rows_out:
            return MATCHES_SCHEMA.empty_table()
        ids = pa.array([r.id for r in rules], pa.string()).take(pa.array(np.concatenate(rule_out)))
        ev = ev_all.take(pa.array(np.concatenate(ev_out)))
        return _match_table(np.concatenate(rows_out), ids, ev, tbl, cls)

    def _branch(self, schema: pa.Schema, rules: list[Rule], lists: dict[str, frozenset[int]],
                native: dict[str, str], guards: tuple | None, kv: bool = False,
                aliases: dict[str, tuple[str, ...]] | None = None) -> str:
        key = (schema, tuple(id(r) for r in rules), tuple(sorted(lists.items())), guards, kv,
               tuple(sorted((aliases or {}).items())))
        with self._lock:
            sql = self._plans.get(key)
        if sql is None:
            sql = _build_branch(schema, rules, lists, native, guards, kv, aliases or {})
            with self._lock:
                if len(self._plans) > 4096:
                    self._plans.clear()
                self._plans[key] = sql
        return sql

    # -- planning -------------------------------------------------------------------
    def _fields(self, rules: list[Rule]) -> list[str]:
        """The fields the rules name, in order (cached per rule list: routing repeats itself)."""
        key = tuple(map(id, rules))
        got = self._field_lists.get(key)
        if got is None:
            out: dict[str, None] = {}
            for r in rules:
                out.update(dict.fromkeys(r.compiled.fields))
            got = list(out)
            with self._lock:
                if len(self._field_lists) > 64:
                    self._field_lists.clear()
                self._field_lists[key] = got
        return got

    def _list_fields(self, con: duckdb.DuckDBPyConnection, tbl: pa.Table, rules: list[Rule],
                     native: dict[str, str], arrays: pa.Array | None = None,
                     text: bool = False, aliases: dict[str, tuple[str, ...]] | None = None) -> dict[str, frozenset[int]]:
        """Raw fields whose path (in any of its spellings, ``aliases``) crosses (or ends in) a
        JSON array in this batch -> segment indexes to wildcard. Only records whose text
        contains every key of a field's path are probed, and with ``arrays`` (from
        :func:`_values`: the record has an array at some probed path) only those records."""
        if "raw_data" not in tbl.schema.names:
            return {}
        probes: list[tuple[str, str, int]] = []
        need: dict[str, None] = {}
        for name in self._fields(rules):
            if name == KEYWORDS or name in native:
                continue
            for path in _spellings(name, aliases):
                segs = path.split(".")
                probes.extend((name, path, i) for i in range(len(segs)))
                # a path can only exist in records whose text holds every one of its keys
                need["(" + " AND ".join(f"contains(raw_data, {sql_str(chr(34) + k + chr(34))})" for k in dict.fromkeys(segs)) + ")"] = None
        if not probes:
            return {}
        src = "__b"
        if arrays is not None:  # only records with an array at some probed path can flag one
            if not pc.any(arrays).as_py():
                return {}
            con.register("__a", tbl.select(["raw_data"]).filter(arrays))
            src = "__a"
        paths = [_json_path(".".join(p.split(".")[: i + 1])) for _, p, i in probes]
        aggs = ", ".join(f"bool_or(t[{k + 1}] = 'ARRAY')" for k in range(len(probes)))
        types = _safe(f"json_type(raw_data, {_list_sql(paths)})", text)
        sql = f"SELECT {aggs} FROM (SELECT {types} AS t FROM {src} WHERE {' OR '.join(need)})"
        row = con.sql(sql).fetchall()[0]
        out: dict[str, set[int]] = {}
        for k, flag in enumerate(row):
            if flag:
                name, _, seg = probes[k]
                out.setdefault(name, set()).add(seg)
        return {k: frozenset(v) for k, v in out.items()}


def _spellings(name: str, aliases: dict[str, tuple[str, ...]] | None) -> list[str]:
    """The paths a (pseudo-)field is read from: its own spelling first, then the other cases
    records use (:mod:`.fields`)."""
    b = base(name)
    return [b, *(aliases or {}).get(b, ())]


def _raw_read(name: str, aliases: dict[str, tuple[str, ...]] | None, paths: list[str], types: list[str]) -> str:
    """SQL for a field's raw value from the batch's two JSON reads (``__j``: the strings at
    ``paths``, ``__t``: the JSON types at ``types``): its spellings coalesced in order; a presence
    pseudo-field reads types (a JSON null is present)."""
    target, col = (types, "__t") if is_presence(name) else (paths, "__j")
    parts = []
    for path in _spellings(name, aliases):
        target.append(_json_path(path))
        parts.append(f"{col}[{len(target)}]")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _present(expr: str, is_list: bool) -> str:
    """A presence pseudo-field's value from an OCSF / key=value expression: present when set."""
    return f"CASE WHEN len({expr}) > 0 THEN 'present' END" if is_list else f"CASE WHEN {expr} IS NOT NULL THEN 'present' END"


def _values(con: duckdb.DuckDBPyConnection, slim: pa.Table, fields: list[str], native: dict[str, str],
            rows: np.ndarray | None = None, kv: bool = False,
            aliases: dict[str, tuple[str, ...]] | None = None) -> tuple[dict[str, pa.Array], pa.Array | None]:
    """(field -> value column, per record: has an array at some prefix of a field path) of the
    batch (``__b``); the second is None without raw fields.

    A value is what the SQL path compares: the native column, else the record's JSON path with
    the scalar OCSF column of the same dotted path as fallback (one query, each record parsed
    once). Fields whose OCSF fallback is a list get no value (SQL path). The array test parses
    only records with a ``[`` in their text (an array cannot be written without one). With
    ``rows`` (a mask), only those records are read; the others get NULL values and no array.
    With ``kv`` (some records are text, :func:`_text_records`), a plain field name falls back to
    the record's ``name=value`` pair (:func:`_kv_sql`). A field's other spellings (``aliases``)
    are read after its own; a presence pseudo-field reads the JSON type (:mod:`.fields`)."""
    values = {f: slim.column(c).combine_chunks() for f, c in native.items() if f in fields}
    todo = [f for f in fields if f != KEYWORDS and f not in native]
    if not todo:
        return values, None
    n = slim.num_rows
    has_raw = "raw_data" in slim.schema.names
    cols, scalar = [], []
    paths: list[str] = []
    types: list[str] = []
    for k, f in enumerate(todo):
        if has_raw:
            cols.append(f"{_raw_read(f, aliases, paths, types)} AS r{k}")
        o = _ocsf_expr(slim.schema, base(f))
        if o is not None and (not o[1] or is_presence(f)):
            cols.append(f"{_present(*o) if is_presence(f) else o[0]} AS o{k}")
        if o is None or not o[1] or is_presence(f):
            scalar.append(k)
            if kv and has_raw and _KV_NAME.match(base(f)):
                kvs = _kv_sql(base(f))
                cols.append(f"{_present(kvs, False) if is_presence(f) else kvs} AS v{k}")
    if not cols or (rows is not None and not rows.any()):
        return values | {todo[k]: pa.nulls(n, pa.string()) for k in scalar}, pa.array(np.zeros(n, dtype=bool))
    src, where = "__b", ""
    if rows is not None and not rows.all():  # filtered by DuckDB: no copy of the records
        con.register("__s", slim.append_column("__m", pa.array(rows)))
        src, where = "__s", " WHERE __m"
        cols.append("__i")
    inner = "*"
    if has_raw:
        prefixes = _list_sql(list(dict.fromkeys(_json_path(".".join(p.split(".")[:i + 1]))
                                                for f in todo for p in _spellings(f, aliases)
                                                for i in range(p.count(".") + 1))))
        reads = [f"{_safe(f'json_extract_string(raw_data, {_list_sql(paths)})', kv)} AS __j"] if paths else []
        reads += [f"{_safe(f'json_type(raw_data, {_list_sql(types)})', kv)} AS __t"] if types else []
        inner = (f"*, {', '.join(reads)}, "
                 f"coalesce(list_contains(CASE WHEN contains(raw_data, '[') THEN {_safe(f'json_type(raw_data, {prefixes})', kv)} END, "
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
        parts = [a for a in (got.get(f"r{k}"), got.get(f"o{k}"), got.get(f"v{k}")) if a is not None]
        values[todo[k]] = pc.coalesce(*parts) if len(parts) > 1 else parts[0] if parts else pa.nulls(n, pa.string())
    arrays = got.get("__arr")
    return values, pc.fill_null(arrays, False) if arrays is not None else None


def _candidates(slim: pa.Table, names: list[str | None], native: dict[str, str]) -> Callable[[Rule], np.ndarray | None]:
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


def _match_table(rows: np.ndarray, ids: pa.Array, ev: pa.Array, tbl: pa.Table, cls: str | None) -> pa.Table:
    """(row, rule id, evidence) -> :data:`MATCHES_SCHEMA` with the event uid, time and class."""
    row = pa.array(rows.astype(np.int32))
    meta = tbl.column("metadata").combine_chunks() if "metadata" in tbl.schema.names else None
    uid = meta.field("uid").take(row) if meta is not None else pa.nulls(len(row), pa.string())
    times = tbl.column("time").combine_chunks().take(row).cast(pa.int64()) if "time" in tbl.schema.names \
        else pa.nulls(len(row), pa.int64())
    classes = pa.array([cls], pa.string()).take(pa.array(np.zeros(len(row), np.int32)))
    return pa.table([row, ids, uid, times, classes, ev], schema=MATCHES_SCHEMA)


def _slim(tbl: pa.Table, rules: list[Rule], names: list[str | None],
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


#: field names that may be read from a text record's ``name=value`` pairs (no dotted paths)
_KV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _safe(expr: str, text: bool) -> str:
    """A JSON read of ``raw_data``: under ``try`` when some records are text (NULL for them)."""
    return f"try({expr})" if text else expr


def _text_records(slim: pa.Table) -> bool:
    """True when some record's original text is no JSON object (syslog lines, console logs)."""
    if "raw_data" not in slim.schema.names:
        return False
    return not pc.all(pc.fill_null(pc.starts_with(slim.column("raw_data"), "{"), True)).as_py()


def _kv_sql(name: str) -> str:
    """``name``'s value in a text record written as ``name=value`` or ``name="value"`` (auditd,
    key=value syslog messages: ``type=EXECVE ... a0="cp"``, ``useradd: name=john, UID=0``), NULL
    in JSON records and where the pair is absent. The name is matched case-sensitively at the
    start of the text or after a space or ``:;,[]`` delimiter."""
    pattern = r"(?:^|[\s:;,\[\]])" + re.escape(name) + r'=("[^"]*"|[^\s,;]*)'
    return (f"CASE WHEN NOT starts_with(raw_data, '{{') THEN "
            f"nullif(trim(regexp_extract(raw_data, {sql_str(pattern)}, 1), '\"'), '') END")


def _list_sql(items: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in items) + "]"


def _class_name(tbl: pa.Table) -> str | None:
    if "class_uid" not in tbl.schema.names or tbl.num_rows == 0:
        return None
    from secpipe.schema.ocsf import class_name_of

    uid = tbl.column("class_uid")[0].as_py()
    return class_name_of(uid) if uid is not None else None


def _group(values: list[str]) -> list[tuple[str, np.ndarray]]:
    arr = np.asarray(values, dtype=object)
    return [(v, np.nonzero(arr == v)[0]) for v in dict.fromkeys(values)]


def _kleene(rules: list[Rule], native: dict[str, str]) -> str:
    """A cheap row filter over native columns: JSON leaves become NULL, so under SQL's
    three-valued logic ``expr IS NOT FALSE`` keeps every row some rule could match."""
    exprs = []
    for r in rules:
        sql = r.compiled.skeleton
        usable = False
        for i, leaf in reversed(list(enumerate(r.compiled.leaves))):
            ok = leaf.field in native and leaf.other is None
            usable |= ok
            rep = f"coalesce({leaf.template.replace(F, native[leaf.field]).replace(L, 'lower(' + native[leaf.field] + ')')}, false)" \
                if ok else "NULL"
            sql = sql.replace(f"\x02{i}\x02", rep)
        if not usable:
            return "TRUE"
        exprs.append(f"({rule_sql(sql, kleene=True)}) IS NOT FALSE")
    return "(" + " OR ".join(exprs) + ")" if exprs else "TRUE"


def _build_branch(schema: pa.Schema, rules: list[Rule], lists: dict[str, frozenset[int]],
                  native: dict[str, str], guards: tuple | None = None, kv: bool = False,
                  aliases: dict[str, tuple[str, ...]] | None = None) -> str:
    """SQL over one part of the batch (table ``_TABLE``) and its rules: ``__i``, the part id
    (``_GROUP``) and ``m``, the list of {k: rule index in the part, e: evidence JSON} of the
    rules the row matches. Rows no rule could match (cheap three-valued prefilter on native
    columns) are dropped before any JSON is parsed; each predicate is computed once. A field
    is read in its own spelling, then its ``aliases``; a presence pseudo-field is a scalar
    (present or NULL) also through arrays (:mod:`.fields`)."""
    fields: dict[str, None] = {}
    for r in rules:
        fields.update(dict.fromkeys(r.compiled.fields))
    has_raw = "raw_data" in schema.names
    col_of: dict[str, tuple[str, bool]] = {}  # field -> (column id, is_list)
    multi = "__log" in schema.names
    inner: list[str] = ["__i"] + (["__log"] if multi else [])
    paths: list[str] = []
    types: list[str] = []
    reads_at = len(inner)
    middle: list[str] = ["__i"] + (["__log"] if multi else [])
    for n, f in enumerate(fields):
        cid = f"c{n}"
        if f == KEYWORDS:
            src = "raw_data" if has_raw else ("message" if "message" in schema.names else "NULL::VARCHAR")
            inner.append(f"{src} AS __k")
            middle.append(f"__k AS {cid}, lower(__k) AS {cid}l")
            col_of[f] = (cid, False)
            continue
        if f in native:
            inner.append(f"{native[f]} AS __n{n}")
            middle.append(f"__n{n} AS {cid}")
            col_of[f] = (cid, False)
            continue
        ocsf = _ocsf_expr(schema, base(f))
        if f in lists and has_raw and is_presence(f):
            wild = set(lists[f])
            tests = [t for p in _spellings(f, aliases) for t in (
                f"{_safe(f'json_type(raw_data, {sql_str(_json_path(p))})', kv)} IS NOT NULL",
                f"len({_safe(f'json_type(raw_data, {sql_str(_json_path(p, wild))})', kv)}) > 0")]
            expr = f"CASE WHEN {' OR '.join(tests)} THEN 'present' END"
            if ocsf is not None:
                expr = f"coalesce({expr}, {_present(*ocsf)})"
            inner.append(f"{expr} AS __w{n}")
            middle.append(f"__w{n} AS {cid}")
            col_of[f] = (cid, False)
            continue
        if f in lists and has_raw:
            opts = []
            for j, p in enumerate(_spellings(f, aliases)):
                inner.append(f"{_safe(f'json_extract_string(raw_data, {sql_str(_json_path(p, set(lists[f])))})', kv)} AS __w{n}_{j}")
                inner.append(f"{_safe(f'json_extract_string(raw_data, {sql_str(_json_path(p))})', kv)} AS __p{n}_{j}")
                opts.append(f"CASE WHEN len(__w{n}_{j}) > 0 THEN __w{n}_{j} WHEN __p{n}_{j} IS NULL THEN NULL ELSE [__p{n}_{j}] END")
            expr = opts[0] if len(opts) == 1 else f"coalesce({', '.join(opts)})"
            if ocsf is not None:
                o = ocsf[0] if ocsf[1] else f"[{ocsf[0]}]"
                inner.append(f"{o} AS __o{n}")
                expr = f"coalesce({expr}, __o{n})"
            middle.append(f"{expr} AS {cid}, list_transform({expr}, lambda x: lower(x)) AS {cid}l")
            col_of[f] = (cid, True)
            continue
        raw = _raw_read(f, aliases, paths, types) if has_raw else None
        if ocsf is not None and is_presence(f):
            ocsf = (_present(*ocsf), False)
        if ocsf is not None and ocsf[1]:  # OCSF list column
            inner.append(f"{ocsf[0]} AS __o{n}")
            expr = f"coalesce(CASE WHEN {raw} IS NULL THEN NULL ELSE [{raw}] END, __o{n})" if raw else f"__o{n}"
            middle.append(f"{expr} AS {cid}, list_transform({expr}, lambda x: lower(x)) AS {cid}l")
            col_of[f] = (cid, True)
            continue
        if ocsf is not None:
            inner.append(f"{ocsf[0]} AS __o{n}")
            expr = f"coalesce({raw}, __o{n})" if raw else f"__o{n}"
        else:
            expr = raw or "NULL::VARCHAR"
        if kv and has_raw and _KV_NAME.match(base(f)):
            kvs = _kv_sql(base(f))
            inner.append(f"{_present(kvs, False) if is_presence(f) else kvs} AS __v{n}")
            expr = f"coalesce({expr}, __v{n})"
        middle.append(f"{expr} AS {cid}")
        col_of[f] = (cid, False)
    reads = [f"{_safe(f'json_extract_string(raw_data, {_list_sql(paths)})', kv)} AS __j"] if paths else []
    reads += [f"{_safe(f'json_type(raw_data, {_list_sql(types)})', kv)} AS __t"] if types else []
    inner[reads_at:reads_at] = reads
    outer_cols = ["__i"] + (["__log"] if multi else [])
    for f, (cid, is_list) in col_of.items():
        outer_cols.append(cid)
        outer_cols.append(f"{cid}l" if is_list or f == KEYWORDS else f"lower({cid}) AS {cid}l")
    preds = []
    for k, r in enumerate(rules):
        sql = r.compiled.skeleton
        for i, leaf in reversed(list(enumerate(r.compiled.leaves))):
            sql = sql.replace(f"\x02{i}\x02", _leaf_sql(leaf, col_of))
        sql = rule_sql(sql)
        if multi and r.formats is not None:
            sql = f"(__log IN ({', '.join(sql_str(x) for x in r.formats)}) AND {sql})"
        if guards is not None and guards[k] is not None:
            sql = f"(CASE WHEN __gid IN ({', '.join(map(str, guards[k]))}) THEN {sql} ELSE false END)"
        preds.append(f"{sql} AS r{k}")
    carry = [c for f, (c, _) in col_of.items() if f != KEYWORDS]
    filt = _kleene(rules, native) if native else "TRUE"
    if "__gid" in schema.names:
        inner.append("__gid")
        middle.append("__gid")
        outer_cols.append("__gid")
    masks = []
    for q in range(0, len(rules), 64):
        bits = [f"(r{k}::UBIGINT << {k - q})" for k in range(q, min(q + 64, len(rules)))]
        masks.append(f"({' | '.join(bits)}) AS m{q // 64}")
    ev_fields = [f for f in col_of if is_evidence(f)]
    ev = (f"to_json(struct_pack({', '.join(f'{_ident(f)} := {col_of[f][0]}' for f in ev_fields)}))::VARCHAR"
          if ev_fields else "NULL::VARCHAR")
    # MATERIALIZED: each predicate is computed once (an inlined subquery would let the optimizer
    # push the any-hit filter down and evaluate every predicate twice).
    return (f"WITH p AS MATERIALIZED (SELECT __i, {', '.join(preds + carry)} FROM (SELECT {', '.join(outer_cols)} FROM "
            f"(SELECT {', '.join(middle)} FROM (SELECT {', '.join(inner)} FROM {_TABLE} WHERE {filt})))) "
            f"SELECT __i, {', '.join(masks)}, {ev} AS ev FROM p WHERE {' OR '.join(f'r{k}' for k in range(len(rules)))}")


def _leaf_sql(leaf: Leaf, col_of: dict[str, tuple[str, bool]]) -> str:
    """One leaf over the part's columns; NULL when the field is missing (see :func:`rule_sql`)."""
    cid, is_list = col_of[leaf.field]
    tmpl = leaf.template
    if leaf.other is not None:
        ocid, olist = col_of[leaf.other]
        if olist or is_list:
            other = f"{ocid}l[1]" if olist else f"{ocid}l"
            if is_list:
                return f"list_bool_or(list_transform({cid}l, lambda y: {tmpl.replace(L, 'y').replace(chr(1) + 'O' + chr(1), other)}))"
            return f"({tmpl.replace(L, cid + 'l').replace(chr(1) + 'O' + chr(1), other)})"
        return f"({tmpl.replace(L, cid + 'l').replace(chr(1) + 'O' + chr(1), ocid + 'l')})"
    if not is_list:
        return f"({tmpl.replace(F, cid).replace(L, cid + 'l')})"
    if leaf.null_test:
        neg = "IS NOT NULL" in tmpl
        return f"({cid} IS NOT NULL AND len({cid}) > 0)" if neg else f"({cid} IS NULL OR len({cid}) = 0)"
    body = tmpl.replace(F, "y").replace(L, "lower(y)")
    return f"list_bool_or(list_transform({cid}, lambda y: {body}))"


def rule_sql(skeleton: str, kleene: bool = False) -> str:
    """Finish a rule's SQL: NOT operands and the whole rule are ``coalesce(x, false)``. With
    three-valued logic a missing field (NULL leaf) then counts as "no match" exactly as if every
    leaf were coalesced (AND/OR are monotone), with far fewer expression nodes. For the
    ``kleene`` prefilter NULL must flow through NOT, so the wrappers are left out."""
    if kleene:
        return skeleton.replace(NOT_OPEN, "(").replace(NOT_CLOSE, ")")
    return "coalesce(" + skeleton.replace(NOT_OPEN, "coalesce(").replace(NOT_CLOSE, ", false)") + ", false)"
