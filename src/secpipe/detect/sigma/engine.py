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
4. values — ONE query pulls every field the rules name (:func:`.reads.read_values`), only on the rows a
   rule reading non-native fields may still match: ``json_extract_string(raw_data, [paths])``
   (in a batch with text records — syslog lines — under ``try``: a record whose original text
   is no JSON has no raw fields, its plain field names read its ``name=value`` pairs instead —
   auditd, useradd — or its XML elements — Sysmon for Linux's ``<Data Name="Image">`` — see
   :func:`.sqlgen.kv_sql`, before an OCSF column of the same name: a FortiGate line's own
   ``action=deny``, not the normalised OCSF ``action``; JSON-only batches pay for neither,
   batches without ``</`` for no XML)
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

A syslog line whose message is a JSON object (NXLog's Windows events: ``to_json()`` behind a
syslog header) is also evaluated as the JSON record it carries, by the rules of the ``json``
format (``product: windows`` and the other products routed there), on those rows only
(:func:`embedded_json`: one substring scan of a syslog batch finds them); a rule routed to both
formats matches such a line once. So is a line of Snare's Windows event (``MSWinEventLog<TAB>...``),
as the record NXLog's JSON would give of it (:func:`secpipe.formats._winevents.snare_record`:
``EventID``, ``Channel``, ``SourceName``, ``Hostname`` and the EventData names its message holds).

A batch without original records (a lake stored with ``raw_data: false``) runs only the rules
whose every field has an OCSF column there; the others are recorded in :attr:`RuleSet.blind`
(rule -> missing fields) instead of silently matching nothing, or everything through a
``not filter`` on a field that reads as absent.

Modules: :mod:`.reads` (steps 2-5: what the rules read), :mod:`.sqlgen` (the SQL text of
step 7 and of the reads), :mod:`.vector` (step 6); this module routes, plans and decodes.

Both paths give the same matches (the fast path reuses the SQL leaf text; see :mod:`.vector`
for why its 2-valued logic equals the SQL path's coalesced 3-valued logic, and why rows the
prefilter drops cannot match whatever their JSON holds); the output is (row, rule) matches
(:data:`MATCHES_SCHEMA`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import duckdb
import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.sigma import vector
from secpipe.detect.sigma.compiler import KEYWORDS
from secpipe.detect.sigma.fields import Vocabulary, base, is_param
from secpipe.detect.sigma.reads import (
    DISPATCH,
    candidates,
    list_fields,
    read_values,
    slim_table,
    text_records,
)
from secpipe.detect.sigma.rules import Rule
from secpipe.detect.sigma.sqlgen import TABLE, build_branch, evidence_sets, ocsf_expr
from secpipe.formats._fast import contains_any
from secpipe.store.lake import dedup_first

#: at most this many dispatch parts (one query branch each) per batch.
BRANCHES = 16
#: the format whose rules read the JSON record a syslog line carries as its message (:func:`embedded_json`)
EMBEDDED = "json"
#: the format whose lines may carry one, and that record in a line (group ``j``)
EMBEDDED_FROM = "syslog"
EMBEDDED_RE = r'^(?:.*?[\s:\]])?(?P<j>\{".*\})\s*$'
#: what a syslog line of Snare's Windows event holds (its record: :func:`secpipe.formats._winevents.snare_record`)
SNARE = "MSWinEventLog\t"


MATCHES_SCHEMA = pa.schema([("row", pa.int32()), ("rule_id", pa.string()), ("event_uid", pa.string()),
                            ("event_time", pa.int64()), ("event_class", pa.string()), ("evidence", pa.string())])


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
        #: rule id -> fields it names that batches without ``raw_data`` (a lake stored with
        #: ``raw_data: false``) could not give: the rule was not evaluated on them
        self.blind: dict[str, set[str]] = {}

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
        """Every (row, rule) match of the batch as a table (:data:`MATCHES_SCHEMA`); syslog lines
        whose message is a JSON object are also the JSON records they carry (:func:`embedded_json`)."""
        if batch.num_rows == 0 or not self.rules:
            return MATCHES_SCHEMA.empty_table()
        tbl = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        meta = tbl.column("metadata").combine_chunks() if "metadata" in tbl.schema.names else None
        logs = meta.field("log_name") if meta is not None and meta.type.get_field_index("log_name") >= 0 else None
        out = self._matches(tbl, logs)
        inner = embedded_json(tbl, logs)
        if inner is None:
            return out
        rows, records = inner
        got = self._matches(records, pa.array(np.full(records.num_rows, EMBEDDED, object), pa.string()))
        if got.num_rows == 0:
            return out
        got = got.set_column(0, "row", pc.take(rows, got.column("row")))
        both = pa.concat_tables([out, got]) if out.num_rows else got
        # a rule routed to both (linux, category-only) matches a line once
        keys = pc.binary_join_element_wise(both.column("row").cast(pa.string()), both.column("rule_id"), "\x00")
        first = dedup_first(keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys)
        return both if len(first) == both.num_rows else both.take(first)

    def _matches(self, tbl: pa.Table, logs: pa.Array | None) -> pa.Table:
        """The matches of one table whose records are of the formats ``logs`` names."""
        names = pc.unique(logs).to_pylist() if logs is not None else [None]
        cls = _class_name(tbl)
        rules = self.routed(names, cls)
        if not rules:
            return MATCHES_SCHEMA.empty_table()
        slim, native = slim_table(tbl, rules, names, logs)
        if "raw_data" not in tbl.schema.names or tbl.column("raw_data").null_count == tbl.num_rows:
            rules = self._readable(rules, tbl.schema, native)  # a lake stored without raw_data
            if not rules:
                return MATCHES_SCHEMA.empty_table()
        text = text_records(slim)
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

    def _readable(self, rules: list[Rule], schema: pa.Schema, native: dict[str, str]) -> list[Rule]:
        """The rules whose every field this batch can give without the original records: an
        OCSF column of the format (:data:`.reads.ORIGINAL_COLUMNS`) or of the same dotted path.
        The others are not evaluated (a missing field would read as absent: ``not filter``
        would hold for every event, ``selection`` for none) and :attr:`blind` keeps, per rule,
        the fields that were missing."""
        keep = []
        for r in rules:
            missing = [base(f) for f in r.compiled.fields  # (an event parameter is another reading of a rule field)
                       if not (f in native or base(f) in native or (f == KEYWORDS and "message" in schema.names)
                               or (f != KEYWORDS and ocsf_expr(schema, base(f)) is not None) or is_param(f))]
            if not missing:
                keep.append(r)
                continue
            with self._lock:
                self.blind.setdefault(r.id, set()).update("keywords" if f == KEYWORDS else f for f in missing)
        return keep

    def _evaluate(self, tbl: pa.Table, slim: pa.Table, native: dict[str, str], names: list[str | None],
                  cls: str | None, rules: list[Rule], text: int,
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
                pre = self._vector.prefilter(con, rules, nat, slim.num_rows, candidates(slim, names, native))
            values, arrays = read_values(con, slim, self._fields(rules), native, pre.rows, text, aliases)
            lists = list_fields(con, slim, self._fields(rules), native, arrays, text, aliases) if self.array_paths else {}

            other = {f for f in self._fields(rules) if f not in native and (f in lists or f not in values)}
            ok = [self._vector.supports(r, other) for r in rules]
            fast = [r for r, y in zip(rules, ok, strict=True) if y]
            if fast:
                with self._lock:
                    rows, ridx = self._vector.run(con, fast, values, pre)
                if len(rows):
                    ids = pa.array([r.id for r in fast], pa.string()).take(pa.array(ridx))
                    out.append(match_table(rows, ids, vector.evidence(con, fast, values, rows, ridx), tbl, cls))
            slow = [r for r, y in zip(rules, ok, strict=True) if not y]
            for j, (part, group, guards) in enumerate(self._groups(slim, slow, names, native) if slow else []):
                con.register(f"__g{j}", part)
                sql = self._branch(part.schema, group, lists, native, guards, text, aliases).replace(TABLE, f"__g{j}")
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
        _, set_of = evidence_sets(rules)  # rule k's evidence is column ev<set_of[k]> (sqlgen.build_branch)
        rows_out, rule_out, ev_out = [], [], []
        for q in range(0, len(rules), 64):
            mask = res.column(f"m{q // 64}").to_numpy()
            for k in range(q, min(q + 64, len(rules))):
                sel = np.nonzero((mask >> np.uint64(k - q)) & np.uint64(1))[0]
                if len(sel):
                    rows_out.append(rows_all[sel])
                    rule_out.append(np.full(len(sel), k, dtype=np.int64))
                    ev_out.append(res.column(f"ev{set_of[k]}").take(pa.array(sel)).combine_chunks())
        if not rows_out:
            return MATCHES_SCHEMA.empty_table()
        ids = pa.array([r.id for r in rules], pa.string()).take(pa.array(np.concatenate(rule_out)))
        ev = pa.concat_arrays(ev_out)
        return match_table(np.concatenate(rows_out), ids, ev, tbl, cls)

    def _branch(self, schema: pa.Schema, rules: list[Rule], lists: dict[str, frozenset[int]],
                native: dict[str, str], guards: tuple | None, kv: int = 0,
                aliases: dict[str, tuple[str, ...]] | None = None) -> str:
        key = (schema, tuple(id(r) for r in rules), tuple(sorted(lists.items())), guards, kv,
               tuple(sorted((aliases or {}).items())))
        with self._lock:
            sql = self._plans.get(key)
        if sql is None:
            sql = build_branch(schema, rules, lists, native, guards, kv, aliases or {})
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


def embedded_json(tbl: pa.Table, logs: pa.Array | None) -> tuple[pa.Array, pa.Table] | None:
    """(rows, their records) of the syslog lines whose message is a JSON object, as records of
    :data:`EMBEDDED`: the rows of ``tbl`` with that object as ``raw_data``. NXLog sends Windows
    events so (``to_json()`` behind ``to_syslog_bsd()`` / ``to_syslog_ietf()``: ``<14>Mar 14
    13:54:16 WKS10001 Microsoft-Windows-Security-Auditing[780]: {"EventID":4625,...}``), and the
    rules of their product read the event's fields as in the same event shipped as JSON (the
    routing of :mod:`.routing`: ``product: windows`` -> ``json``). The object is the line's text
    from the first ``{"`` after a space, ``:`` or ``]`` (not a brace inside an RFC 5424
    structured data value: ``ProviderGuid="{5484...}"``), when the line ends with the closing
    ``}``. A Snare line's record is the event it holds, as NXLog's JSON would give it
    (:func:`secpipe.formats._winevents.snare_record`). None when the batch holds no such line
    (a substring scan each)."""
    if logs is None or "raw_data" not in tbl.schema.names:
        return None
    lines = pc.equal(logs, EMBEDDED_FROM)
    if not pc.any(lines).as_py():
        return None
    raw = tbl.column("raw_data")
    chunks = raw.chunks if isinstance(raw, pa.ChunkedArray) else [raw]
    if any(c.buffers()[2] is not None and contains_any(c.buffers()[2], (SNARE.encode(),)) for c in chunks):
        snared = pc.fill_null(pc.and_(lines, pc.match_substring(raw, SNARE)), False)
    else:  # (one SIMD search of the text: most batches hold no Snare line)
        snared = pa.array(np.zeros(len(tbl), bool))
    maybe = pc.and_(pc.and_(lines, pc.match_substring(raw, '{"')), pc.invert(pc.starts_with(raw, "{")))
    rows = pc.indices_nonzero(pc.fill_null(pc.and_(maybe, pc.invert(snared)), False)).cast(pa.int32())
    got = pc.extract_regex(pc.take(raw, rows), EMBEDDED_RE)
    valid = pc.is_valid(got)
    rows, texts = pc.filter(rows, valid), pc.struct_field(pc.filter(got, valid), "j")
    snare = pc.indices_nonzero(snared).cast(pa.int32())
    if len(snare):  # Snare's lines of Windows events: the event as NXLog's JSON would give it
        from secpipe.formats._winevents import snare_record

        events = [snare_record(line) for line in pc.take(raw, snare).to_pylist()]
        kept = [e is not None for e in events]
        found = pa.array([msgspec.json.encode(e).decode() for e in events if e is not None], pa.string())
        rows = pa.concat_arrays([_array(rows), _array(pc.filter(snare, pa.array(kept)))])
        texts = pa.concat_arrays([_array(texts).cast(pa.string()), found])
    if len(rows) == 0:
        return None
    records = tbl.take(rows)
    at = records.schema.get_field_index("raw_data")
    return rows, records.set_column(at, "raw_data", texts)


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def match_table(rows: np.ndarray, ids: pa.Array, ev: pa.Array, tbl: pa.Table, cls: str | None) -> pa.Table:
    """(row, rule id, evidence) -> :data:`MATCHES_SCHEMA` with the event uid, time and class."""
    row = pa.array(rows.astype(np.int32))
    meta = tbl.column("metadata").combine_chunks() if "metadata" in tbl.schema.names else None
    uid = meta.field("uid").take(row) if meta is not None else pa.nulls(len(row), pa.string())
    times = tbl.column("time").combine_chunks().take(row).cast(pa.int64()) if "time" in tbl.schema.names \
        else pa.nulls(len(row), pa.int64())
    classes = pa.array([cls], pa.string()).take(pa.array(np.zeros(len(row), np.int32)))
    return pa.table([row, ids, uid, times, classes, ev], schema=MATCHES_SCHEMA)


def _class_name(tbl: pa.Table) -> str | None:
    if "class_uid" not in tbl.schema.names or tbl.num_rows == 0:
        return None
    from secpipe.schema.ocsf import class_name_of

    uid = tbl.column("class_uid")[0].as_py()
    return class_name_of(uid) if uid is not None else None


def _group(values: list[str]) -> list[tuple[str, np.ndarray]]:
    arr = np.asarray(values, dtype=object)
    return [(v, np.nonzero(arr == v)[0]) for v in dict.fromkeys(values)]
