"""Sigma correlation rules over the stream (persisted state) and over the lake.

Supported types: ``event_count`` (events of the referenced rules per group within
``timespan``), ``value_count`` (distinct values of ``condition.field``), ``value_sum`` /
``value_avg`` / ``value_median`` / ``value_percentile`` / ``value_max`` / ``value_min`` (of the numeric values of
``condition.field``; non-numeric values are left out), ``temporal`` (the number of distinct
referenced rules matched within ``timespan``, any order: by default all of them; with an extended
``condition`` such as ``rule_a and (rule_b or not rule_c)``, that expression over the rules seen) and
``temporal_ordered`` (the number of referenced rules matched in the listed order, i.e. the longest
prefix of ``rules`` seen as a time-ordered sequence, events of one time stamp in the log's order;
and the extended condition if any). ``group-by``
fields and ``aliases`` are read from the matched events' original records (a text record, a
syslog line: from a plain name's ``name=value`` pair of the text, then from the OCSF columns its
format decoded, by dotted OCSF path such as ``src_endpoint.ip``, as the rules read it; a JSON
record: from the record, then, as the rules read it too, from the OCSF columns its format decoded,
so a journald entry's ``host`` is its ``device.hostname`` and a CloudTrail record's
``src_country`` the geoip transform's; a field the built-in mappings of the base rule's product
move, such as Kubernetes ``namespace``, also from where they point, ``objectRef.namespace``, and
a Google Workspace rule's field from the event parameter of that name, ``group_email`` from
``protoPayload.metadata.event[].parameter[]``'s ``GROUP_EMAIL``, or a Reports API activity's
``events[].parameters[]``: one value, several as a list). Input is the base-rule
*matches* (a few rows per batch), so the per-match Python here is off the per-event hot path.

Two evaluation modes, by what the condition can tell before the window ends:

* **At once** (``gt`` / ``gte`` on counts and aggregates, ``lt`` / ``lte`` on ``value_min``, an
  extended temporal condition without ``not``): once true, more events cannot make it false, so
  the correlation fires on the event that makes it true, over a sliding window (entries older
  than the event minus ``timespan`` drop out; an event that comes late, older than the group's
  newest, counts only with the events of a ``timespan`` holding it), and clears its group.
* **At window close** (any ``lt`` / ``lte`` / ``eq`` / ``neq``, also in a range such as
  ``gte: 3, lt: 10``; ``gt`` / ``gte`` / ``eq`` / ``neq`` on ``value_min``; an extended condition
  with ``not``): "fewer than 2 in 24h" can only be decided when the 24h are over. A group's
  windows follow from its events in time order, whatever order they came in: the first opens at
  its earliest event and covers ``[start, start + timespan]``, the next opens at its first event
  past that, and so on (an event that comes late, older than the window's start, opens the window
  itself: as in time order). A window closes when the *watermark* passes its end plus ``grace``
  (the ``correlation_grace_seconds`` option: how late an event may come and still count). The
  watermark is the stream's own time: the highest event time the engine has seen (every row of every batch, not only
  matches), advanced by the wall time that has passed since that high mark last moved. So a
  replay of old logs, however fast, closes windows on the logs' times only (batch after batch),
  and a quiet live stream (or a restart after downtime) still closes them as wall time passes. Event
  times more than ``correlation_max_ahead_seconds`` (default 300) past the wall clock (a bad
  clock, a misread year or zone) do not move the watermark: one such event does not close every
  open window nor expire every group of the at-once mode; it counts in its own group at its own
  time. An event of the group past the end does not close the window before then: it opens the
  next, and the events of the grace still join theirs. At close the condition is
  evaluated once over the window's events: it fires one finding (with the measured value and the
  window in ``unmapped``) or nothing. An event that comes after its window was decided (later than
  the grace) counts in none: not in a later window, which would then span more than the timespan
  (kept out until a window opening after the decided one would be decided too). A group
  with no matching event opens no window: "no backup at all" is not detected (Sigma's event
  queries cannot express the absence of every event either).

An event a group already holds for the same rule (its ``metadata.uid``: the same event delivered
again, by a shipper's retry or a file read twice) is not counted again.

State: per correlation and group, the (time, rule, value, uid) entries inside the window (of the
at-close mode: of its undecided windows), plus the end of the at-close groups' last decided window
and the watermark. It is written atomically (tmp + rename) to
``<data_dir>/state/sigma/<stage>.json`` after every batch and read back on start, so a restart
continues the windows where they were: a window still open at shutdown is decided after the
restart, on the first batch once the watermark is past its end. A group of the at-once mode is
dropped once its newest entry is older than the watermark minus ``timespan`` (and entries older
than the group's newest event minus the timespan): on the stream's time, as windows close, so a
replay of old logs (or lines of a zone west of UTC read as UTC) counts across its batches, which
the wall clock would empty after each one. A finding's uid is a hash of the correlation id, group and window
start, so it fires again only on new events. Over the lake (:func:`correlate_matches`) the same
engine runs on all matches ordered by time with in-memory state; there the watermark is the
hunt's ``now`` or its last match, whichever is later (however far ahead: the lake's events are
all there): windows whose end is before it are decided, later ones are still undecided and
reported nowhere.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import time
from pathlib import Path
from typing import Any

import msgspec
import msgspec.structs
import numpy as np
import pyarrow as pa
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.correlations import SigmaCorrelationConditionOperator as Op

from secpipe import _compute as pc
from secpipe.detect.sigma.engine import EMBEDDED_FROM, EMBEDDED_RE, SNARE
from secpipe.detect.sigma.fields import PARAM, base, is_param
from secpipe.detect.sigma.finding import ATTACKS, KIND, META_TYPES, _dig, _exact, _walk, attacks_of, rule_meta
from secpipe.detect.sigma.legacy import TYPE
from secpipe.detect.sigma.mappings import alternatives, mapping_key
from secpipe.detect.sigma.options import MAX_AHEAD_S
from secpipe.detect.sigma.parsing import RANGE
from secpipe.detect.sigma.sqlgen import (
    AUDIT_HEX,
    AUDIT_HEX_FIELDS,
    AUDIT_SYSCALL,
    KV_NAME,
    XML_ENTITIES,
    audit_hex_record,
    kv_pattern,
    xml_pattern,
)
from secpipe.detect.sigma.syscalls import syscall_name
from secpipe.formats.base import base_columns, to_batch
from secpipe.store._durable import write_file_atomic

_OPS = {Op.LT: lambda a, b: a < b, Op.LTE: lambda a, b: a <= b, Op.GT: lambda a, b: a > b,
        Op.GTE: lambda a, b: a >= b, Op.EQ: lambda a, b: a == b, Op.NEQ: lambda a, b: a != b}
#: value_* aggregations of ``condition.field`` over the window's events (numbers; others are skipped)
_NUMERIC = {SigmaCorrelationType.VALUE_SUM: lambda v, p: float(np.sum(v)),
            SigmaCorrelationType.VALUE_AVG: lambda v, p: float(np.mean(v)),
            SigmaCorrelationType.VALUE_MEDIAN: lambda v, p: float(np.median(v)),
            SigmaCorrelationType.VALUE_PERCENTILE: lambda v, p: float(np.percentile(v, p))}
#: value_max / value_min (loaded as value_sum by :mod:`.parsing`, the type kept in ``legacy.TYPE``)
_EXTREMA = {"value_max": lambda v, p: float(np.max(v)), "value_min": lambda v, p: float(np.min(v))}
SUPPORTED = {SigmaCorrelationType.EVENT_COUNT, SigmaCorrelationType.VALUE_COUNT, SigmaCorrelationType.TEMPORAL,
             SigmaCorrelationType.TEMPORAL_ORDERED, *_NUMERIC}
_RELATED = pa.list_(pa.struct([("uid", pa.string())]))
#: criteria that more events can turn false again, so they are decided at window close: for the
#: counts and aggregates (which grow, or need not shrink) and for value_min (which only shrinks)
_RISING = {Op.LT, Op.LTE, Op.EQ, Op.NEQ}
_FALLING = {Op.GT, Op.GTE, Op.EQ, Op.NEQ}
#: keys of the persisted state that are no correlation id: open windows' starts, the watermark
_DECIDED, _HIGH, _HIGH_AT = "secpipe:decided", "secpipe:watermark", "secpipe:watermark_at"
#: what a state written before the at-close windows followed from their groups' entries held instead
#: of :data:`_DECIDED` (each open window's start: now its group's first entry)
_OLD_WINDOWS = "secpipe:windows"
#: the keys down to a Workspace LogEntry's events and the key of their parameters, then a Reports API
#: activity's (:data:`.sqlgen.PARAMS_PATHS`), where an event parameter is read from
_PARAMS = ((("protoPayload", "metadata", "event"), "parameter"), (("events",), "parameters"))
_EMBEDDED = re.compile(EMBEDDED_RE)


class Correlation:
    """One correlation rule, resolved against the loaded base rules."""

    def __init__(self, rule: SigmaCorrelationRule, refs: list[list[str]]) -> None:
        self.rule = rule
        self.id = _corr_id(rule)
        self.inner: list[Correlation] = []  # the correlations among the referenced rules
        self.type = rule.type
        self.refs = refs  # per referenced rule: the base rule ids it stands for
        #: base rule id -> position of the first referenced rule it stands for
        self.index: dict[str, int] = {}
        for i, ids in enumerate(refs):
            for rid in ids:
                self.index.setdefault(rid, i)
        self.window_ms = int(rule.timespan.seconds * 1000)
        self.group_by = list(rule.group_by or [])
        cond = rule.condition
        self.op = getattr(cond, "op", Op.GTE)
        self.count = getattr(cond, "count", len(refs))
        #: the numeric aggregation of value_* types (value_max / value_min: see ``legacy.TYPE``)
        self.aggregate = _EXTREMA.get(str((rule.custom_attributes or {}).get(TYPE)), _NUMERIC.get(rule.type))
        #: every criterion of the condition (several for a range, ``gt: 100, lte: 200``: all hold)
        extra = (rule.custom_attributes or {}).get(RANGE)
        self.criteria = ([(Op[str(k).upper()], v) for k, v in extra.items()] if isinstance(extra, dict)
                         else [(self.op, self.count)])
        ref = getattr(cond, "fieldref", None)
        self.field = ref[0] if isinstance(ref, list) else ref
        #: extended temporal condition (``rule_a and (rule_b or rule_c)``): its parse tree and the
        #: reference names, in the order of ``refs``
        self.expr = cond.parsed if isinstance(cond, SigmaExtendedCorrelationCondition) else None
        self.names = referenced(rule)
        self.percentile = getattr(cond, "percentile", None)
        self.aliases = {a.alias: {str(k.reference): v for k, v in a.mapping.items()} for a in rule.aliases}
        #: alias -> {id of a base rule (or inner correlation) it names: the field read}: set by :func:`resolve`
        self.alias_fields: dict[str, dict[str, str]] = {}
        self.level = rule.level.name.lower() if rule.level else "medium"
        self.type_name = str((rule.custom_attributes or {}).get(TYPE) or rule.type.name.lower())
        #: False when another correlation with ``generate: false`` refers to this one: its firings
        #: feed that correlation but are not reported on their own
        self.output = True
        #: decided when the window closes (see the module docstring), not on the event that makes it true
        self.deferred = (_has_not(self.expr) if self.expr is not None
                         else any(op in (_FALLING if self.type_name == "value_min" else _RISING) for op, _ in self.criteria))

    def holds(self, value: float) -> bool:
        """The condition's criteria on a count / aggregated value."""
        return all(_OPS[op](value, n) for op, n in self.criteria)


def referenced(rule: SigmaCorrelationRule) -> list[str]:
    """The rule names/ids a correlation refers to: its ``rules``, else those its extended
    ``condition`` names."""
    if rule.rules:
        return [str(r.reference) for r in rule.rules]
    cond = rule.condition
    return [str(n) for n in cond.get_referenced_rules()] if isinstance(cond, SigmaExtendedCorrelationCondition) else []


def _holds(node: Any, seen: set[str]) -> bool:
    """An extended correlation condition over the set of referenced rules seen in the window."""
    if isinstance(node, SigmaRuleReference):
        return str(node.reference) in seen
    if isinstance(node, CorrelationConditionNOT):
        return not _holds(node.args[0], seen)
    results = (_holds(a, seen) for a in node.args)
    return all(results) if isinstance(node, CorrelationConditionAND) else any(results)


def _has_not(node: Any) -> bool:
    """Whether an extended condition negates a rule (decidable only once the window is over)."""
    if isinstance(node, CorrelationConditionNOT):
        return True
    return any(_has_not(a) for a in getattr(node, "args", ()))


def _corr_id(rule: SigmaCorrelationRule) -> str:
    return str(rule.id) if rule.id else (rule.name or rule.title)


def resolve(ruleset: Any) -> tuple[list[Correlation], list[tuple[str, str]]]:
    """Correlations whose referenced rules are loaded, each after the correlations it refers
    to (the specification lets a correlation refer to another: "chain multiple correlations");
    (path-less) reasons for the others, including reference cycles."""
    by_name: dict[str, list[str]] = {}
    for r in ruleset.rules:
        by_name.setdefault(r.id, []).append(r.id)
        # a rule whose published id is no UUID was parsed with a derived one (rules.parse_collection),
        # which is what a correlation pySigma built from it (a Sigma 1.x aggregation) names
        for key in {r.name, str(r.sigma.id) if r.sigma.id is not None else None} - {None, r.id}:
            by_name.setdefault(key, []).append(r.id)  # type: ignore[arg-type]
    corr_names: dict[str, SigmaCorrelationRule] = {}
    for c in ruleset.correlations:
        for key in (str(c.id) if c.id else None, c.name):
            if key:
                corr_names.setdefault(key, c)
    out: list[Correlation] = []
    bad: list[tuple[str, str]] = []
    done: dict[int, Correlation | None] = {}  # id(rule) -> resolved (None: refused)
    active: set[int] = set()

    def visit(c: SigmaCorrelationRule) -> Correlation | None:
        if id(c) in done:
            return done[id(c)]
        if id(c) in active:
            bad.append((c.title, "correlation rules refer to each other in a cycle — break the cycle"))
            done[id(c)] = None
            return None
        active.add(id(c))
        got = _resolve_one(c, by_name, corr_names, visit, bad)
        active.discard(id(c))
        if id(c) not in done:
            done[id(c)] = got
            if got is not None:
                out.append(got)
        return done[id(c)]

    for c in ruleset.correlations:
        visit(c)
    silent = {inner.id for c in out if not c.rule.generate for inner in c.inner}
    for c in out:
        c.output = c.id not in silent
    return out, bad


def _resolve_one(c: SigmaCorrelationRule, by_name: dict[str, list[str]], corr_names: dict[str, SigmaCorrelationRule],
                 visit: Any, bad: list[tuple[str, str]]) -> Correlation | None:
    if c.type not in SUPPORTED:
        bad.append((c.title, f"correlation type {c.type.name.lower()} is not supported — use event_count, value_count, value_sum, value_avg, value_median, value_percentile, temporal or temporal_ordered"))
        return None
    names = referenced(c)
    refs: list[list[str]] = []
    inner: list[Correlation] = []
    for n in names:
        ids = list(by_name.get(n, []))
        other = corr_names.get(n)
        if other is not None and other is not c:
            sub = visit(other)
            if sub is None:
                bad.append((c.title, f"referenced correlation {n} cannot run — see its own reason"))
                return None
            ids.append(sub.id)
            inner.append(sub)
        refs.append(ids)
    missing = [n for n, ids in zip(names, refs, strict=True) if not ids]
    if missing:
        bad.append((c.title, f"referenced rule(s) {', '.join(missing)} not loaded — add them to the rule paths"))
        return None
    got = Correlation(c, refs)
    got.inner = inner
    # an alias names a rule by its name or id, whichever the rules list uses (the specification's
    # aliases name rules, which its rules list may give by id)
    subs = {k: [sub.id] for sub in inner for k in (sub.rule.name, str(sub.rule.id) if sub.rule.id else None, sub.id) if k}
    got.alias_fields = {alias: {rid: f for key, f in m.items() for rid in by_name.get(key, subs.get(key, []))}
                        for alias, m in got.aliases.items()}
    return got


class CorrelationEngine:
    """Stateful evaluation of correlation rules on base-rule matches."""

    def __init__(self, ruleset: Any, state_path: Path | None, clock: Any = None, grace_s: float = 0.0,
                 ahead_s: float = MAX_AHEAD_S) -> None:
        self.ruleset = ruleset
        self.correlations, self.unsupported = resolve(ruleset)
        self.path = state_path
        self.clock = clock or time.time
        self.grace_ms = int(grace_s * 1000)
        self.ahead_ms = ahead_s * 1000
        self.state: dict[str, dict[str, list[list[Any]]]] = {}
        #: per deferred correlation: group -> the end (ms) of its last window decided (an event of a time
        #: up to it comes too late: that window was decided without it)
        self.decided: dict[str, dict[str, int]] = {}
        #: the highest event time seen (ms) and the wall time (ms) it last moved at: the watermark
        self.high = 0
        self.high_at = 0
        if self.path is not None and self.path.is_file():
            saved: dict[str, Any] = msgspec.json.decode(self.path.read_bytes())
            self.decided = saved.pop(_DECIDED, None) or {}
            saved.pop(_OLD_WINDOWS, None)
            self.high = int(saved.pop(_HIGH, None) or 0)
            self.high_at = int(saved.pop(_HIGH_AT, None) or 0)
            self.state = saved
            for groups in self.state.values():  # kept in time order (a state written before it was, too)
                for entries in groups.values():
                    entries.sort(key=_time)
        self._wanted = {rid for c in self.correlations for ids in c.refs for rid in ids}
        self._deferred = any(c.deferred for c in self.correlations)
        #: every field a correlation reads (group-by, condition field, alias targets)
        names = {n for c in self.correlations for n in [*c.group_by, c.field] if n}
        names |= {f for c in self.correlations for m in c.aliases.values() for f in m.values()}
        #: base rule id -> {field: the other event fields it is read from} (the built-in mappings of
        #: the rule's product, :mod:`.mappings`: a rule that matched through them groups the same way)
        self._alts: dict[str, dict[str, list[str]]] = {}
        for r in ruleset.rules:
            product = mapping_key(getattr(getattr(r, "sigma", None), "logsource", None))
            if r.id in self._wanted and product is not None:
                self._alts[r.id] = {k: alts for k in names if (alts := alternatives(product, k))}
        read = {a for m in self._alts.values() for alts in m.values() for a in alts}
        # an event parameter (a Workspace rule's field, :mod:`.fields`) is read from the record's events
        names |= {a for a in read if not is_param(a)} | ({p[0][0] for p in _PARAMS} if any(map(is_param, read)) else set())
        #: decodes only the top-level keys those fields start with (exact spelling): see :meth:`_value`
        firsts = sorted({str(n).split(".")[0] for n in names})
        self._partial = msgspec.json.Decoder(msgspec.defstruct(
            "CorrelationFields", [(f"f{i}", Any, msgspec.UNSET) for i in range(len(firsts))],
            rename={f"f{i}": k for i, k in enumerate(firsts)}))
        self._firsts = firsts

    # -- stream ---------------------------------------------------------------------
    def process(self, batch: pa.RecordBatch | pa.Table, matches: pa.Table) -> pa.RecordBatch | None:
        """Feed one batch's matches; returns the findings of correlations that fired (and report)."""
        events = self.events(batch, matches)
        if "time" in batch.schema.names and batch.num_rows:
            self._advance(self._top(batch.column("time")))
        fired = [f for f in self.feed(events) if f["corr"].output]
        self.save()
        return correlation_findings(fired) if fired else None

    def events(self, batch: pa.RecordBatch | pa.Table, matches: pa.Table) -> list[dict[str, Any]]:
        """Matches of referenced rules as dicts (time, rule, uid, doc), in time order."""
        if matches.num_rows == 0 or not self.correlations:
            return []
        keep = pc.is_in(matches.column("rule_id"), value_set=pa.array(sorted(self._wanted), pa.string()))
        m = matches.filter(keep)
        if m.num_rows == 0:
            return []
        rows = m.column("row")
        raws = (pc.take(batch.column("raw_data"), rows).to_pylist() if "raw_data" in batch.schema.names
                else [None] * m.num_rows)
        if any(raw is not None and raw[:1] != "{" and ('{"' in raw or SNARE in raw) for raw in raws):
            logs = _log_names(batch, rows)
            raws = [_carried(raw) if log == EMBEDDED_FROM else raw for raw, log in zip(raws, logs, strict=True)]
        # text records (syslog lines): group-by / field values come from the OCSF columns the format
        # decoded (dotted OCSF paths such as src_endpoint.ip), then from name=value pairs of the text
        text = [i for i, raw in enumerate(raws) if raw is not None and raw[:1] != "{"]
        ocsf_rows: dict[int, dict[str, Any]] = {}
        if text:
            cols = [n for n in batch.schema.names if n != "raw_data"]
            at = pc.take(rows, pa.array(text, pa.int64()))
            got = batch.select(cols).take(at.combine_chunks() if isinstance(at, pa.ChunkedArray) else at).to_pylist()
            ocsf_rows = dict(zip(text, got, strict=True))
        out = []
        records: dict[int, dict[str, Any]] = {}  # row -> the record's decoded parts and field values read
        ocsf = batch.select([n for n in batch.schema.names if n != "raw_data"])  # read only when a record lacks a field
        for i, (row, rid, uid, t, raw) in enumerate(zip(rows.to_pylist(), m.column("rule_id").to_pylist(),
                                                        m.column("event_uid").to_pylist(),
                                                        m.column("event_time").to_pylist(), raws, strict=True)):
            if i in ocsf_rows:
                out.append({"rule": rid, "uid": uid, "time": t or 0, "seq": row, "doc": ocsf_rows[i], "text": raw})
                continue
            rec = records.get(row)
            if rec is None:  # one decode per record, however many rules matched it
                rec = records[row] = self._record(raw)
                rec["ocsf"] = (ocsf, row)
            out.append({"rule": rid, "uid": uid, "time": t or 0, "seq": row, "rec": rec})
        out.sort(key=_order)
        return out

    def _record(self, raw: str | None) -> dict[str, Any]:
        """A JSON record's top-level values under the keys the correlations read (``part``), the
        whole record decoded only if a read needs it (``full``), and the values read (``read``)."""
        if not raw or raw[:1] != "{":
            return {"part": {}, "full": {}, "read": {}}
        try:
            got = self._partial.decode(raw)
        except msgspec.DecodeError:  # not an object, bad JSON...: as the whole-record decode sees it
            return {"part": {}, "full": _document(raw), "read": {}}
        part = {k: v for k, v in zip(self._firsts, msgspec.structs.astuple(got), strict=True) if v is not msgspec.UNSET}
        return {"part": part, "full": None, "raw": raw, "read": {}}

    @staticmethod
    def _value(e: dict[str, Any], path: str) -> Any:
        """``_dig(record, path)`` without decoding the whole record where it can: the exact
        spelling read from the keys decoded up front gives the same value as from the whole
        record (the exact reading comes first, nested keys before a dotted one); only when it
        finds nothing is the record decoded whole and read again (other key case, dotted keys)."""
        rec = e.get("rec")
        if rec is None:
            return _dig(e["doc"], path)
        v = _walk(rec["part"], path, _exact)
        if v is None:
            if rec["full"] is None:
                rec["full"] = _document(rec["raw"])
            v = _dig(rec["full"], path)
        return v

    def _param(self, e: dict[str, Any], name: str) -> Any:
        """The values of the event parameter pseudo-field ``name`` in a JSON record (None when it
        has none): one value alone, several as a list."""
        rec = e.get("rec")
        if rec is None:
            return None
        got = _param_values(rec["part"], base(name)[len(PARAM):].lower())
        return None if not got else got[0] if len(got) == 1 else got

    def _field(self, c: Correlation, e: dict[str, Any], name: str) -> Any:
        alias = c.alias_fields.get(name)
        if alias:
            name = alias.get(e["rule"], name)
        alts = self._alts.get(e["rule"], {}).get(name, ())
        key = (name, e["rule"]) if alts else name
        read = e["rec"]["read"] if "rec" in e else None
        if read is not None and key in read:
            return read[key]
        # a text record's own name=value pair first (as the rules read it), then its OCSF columns
        v = _kv(e["text"], name) if "text" in e and KV_NAME.match(name) else None
        if v is None:
            v = self._value(e, name)
        for alt in alts:
            if v is not None:
                break
            v = self._param(e, alt) if is_param(alt) else self._value(e, alt)
        if v is None and "rec" in e and "ocsf" in e["rec"]:
            v = _ocsf_value(e["rec"], (name, *(a for a in alts if not is_param(a))))
        v = None if v is None else (v if isinstance(v, str) else msgspec.json.encode(v).decode())
        if read is not None:
            read[key] = v
        return v

    def _bound(self) -> float:
        """The latest event time (ms) that moves the stream's time: the wall clock's plus ``ahead_s``."""
        return self.clock() * 1000 + self.ahead_ms

    def _top(self, times: pa.Array | pa.ChunkedArray) -> int:
        """The latest of ``times`` (ms) not past :meth:`_bound` (0 for none): one max, and a filter
        only when some time is past it."""
        top, bound = pc.max(times).as_py(), self._bound()
        if top is not None and top > bound:
            top = pc.max(pc.filter(times, pc.less_equal(times, bound))).as_py()
        return int(top or 0)

    def _advance(self, top: int) -> None:
        """Raise the event-time high mark to ``top`` (and note the wall time it moved at)."""
        if top > self.high:
            self.high, self.high_at = top, int(self.clock() * 1000)

    def watermark(self) -> int:
        """The stream's time (ms): the event-time high mark plus the wall time since it moved."""
        return self.high + max(0, int(self.clock() * 1000) - self.high_at) if self.high_at else self.high

    def feed(self, events: list[dict[str, Any]], until: int | None = None) -> list[dict[str, Any]]:
        """Advance the windows with events (time-ordered); returns fired correlations.

        Windows decided at close whose end (plus grace) is before the watermark, or before
        ``until`` (ms) when given, are decided. Correlations run in dependency order: one that
        fires is an event (at the time and with the original record of the match that completed
        it; a window decided at close: at the time of its last event, with its group's values as
        the record) for the correlations referring to it."""
        fired: list[dict[str, Any]] = []
        bound = self._bound()
        self._advance(max((e["time"] for e in events if e["time"] <= bound), default=0))
        mark = self.watermark() if until is None else max(self.high, until)
        expire = mark if self.high else int(self.clock() * 1000)  # events without a time: the wall clock's
        chained: list[dict[str, Any]] = []
        for c in self.correlations:
            groups = self.state.setdefault(c.id, {})
            feed = events
            if chained and c.inner:
                feed = sorted([*events, *chained], key=_order)
            if c.deferred:
                self._feed_windows(c, groups, feed, mark, fired, chained)
                continue
            for e in feed:
                idx = c.index.get(e["rule"])
                if idx is None:
                    continue
                key = msgspec.json.encode([self._field(c, e, g) for g in c.group_by]).decode()
                value = self._field(c, e, c.field) if c.field else None
                entries = groups.setdefault(key, [])
                if not _add(entries, [e["time"], idx, value, e["uid"]]):
                    continue
                del entries[:bisect.bisect_left(entries, e["time"] - c.window_ms, key=_time)]
                met = self._span_met(c, entries, e["time"])
                if met is not None:
                    fired.append({"corr": c, "group": key, "entries": met})
                    groups.pop(key, None)
                    chained.append({**e, "rule": c.id})
            for key in [k for k, v in groups.items() if not v or v[-1][0] < expire - c.window_ms]:
                groups.pop(key)
        return fired

    def _span_met(self, c: Correlation, entries: list[list[Any]], t: int) -> list[list[Any]] | None:
        """The group's entries of one ``timespan`` holding the event at ``t`` on which the condition
        holds (None if none): all of them when it is the newest (the others are at most a timespan
        older); a late event (a later batch's, delivered late) in the spans starting at each entry of
        the timespan before it, so three events over eight minutes are no "3 in 5m" whatever order
        they came in (the at-once conditions only grow with more events: the longest spans suffice).
        ``entries``: in time order, none older than ``t`` minus the timespan."""
        if entries[-1][0] <= t:
            return list(entries) if self._met(c, entries) else None
        for start in sorted({x[0] for x in entries[:bisect.bisect_right(entries, t, key=_time)]}):
            span = entries[bisect.bisect_left(entries, start, key=_time):
                           bisect.bisect_right(entries, start + c.window_ms, key=_time)]
            if self._met(c, span):
                return span
        return None

    def _feed_windows(self, c: Correlation, groups: dict[str, list[list[Any]]], feed: list[dict[str, Any]],
                      watermark: int, fired: list[dict[str, Any]], chained: list[dict[str, Any]]) -> None:
        """The at-close mode: events join their group's entries, in time order whatever order they
        came in; the group's windows follow from them (the first starts at its earliest entry and
        covers a ``timespan``, the next at the first entry past it...), and each is decided once the
        watermark has passed its end plus grace. An event of a time up to the end of a window the
        group already decided comes too late and counts in none (it would have been in that one)."""
        decided = self.decided.setdefault(c.id, {})
        for e in feed:
            idx = c.index.get(e["rule"])
            if idx is None:
                continue
            key = msgspec.json.encode([self._field(c, e, g) for g in c.group_by]).decode()
            if key in decided and e["time"] <= decided[key]:
                continue
            _add(groups.setdefault(key, []), [e["time"], idx, self._field(c, e, c.field) if c.field else None, e["uid"]])
        for key in list(groups):
            entries = groups[key]
            while entries and entries[0][0] + c.window_ms + self.grace_ms < watermark:
                start = entries[0][0]
                cut = bisect.bisect_right(entries, start + c.window_ms, key=_time)
                self._close(c, key, start, entries[:cut], fired, chained)
                del entries[:cut]
                decided[key] = start + c.window_ms
            if not entries:
                del groups[key]
        # a decided end is kept until a window opening right after it would be decided too
        for key in [k for k, end in decided.items() if k not in groups and end + c.window_ms + self.grace_ms < watermark]:
            del decided[key]

    def _close(self, c: Correlation, key: str, start: int, entries: list[list[Any]],
               fired: list[dict[str, Any]], chained: list[dict[str, Any]]) -> None:
        """Decide one window: fire once if the condition holds over all its events."""
        if not entries or not self._met(c, entries):
            return
        fired.append({"corr": c, "group": key, "entries": entries, "start": start,
                      "end": start + c.window_ms, "value": self._measure(c, entries)})
        doc = dict(zip(c.group_by, msgspec.json.decode(key), strict=True))
        chained.append({"rule": c.id, "uid": entries[-1][3], "time": entries[-1][0], "doc": doc})

    def _measure(self, c: Correlation, entries: list[list[Any]]) -> float | None:
        """What the condition's criteria compare: the count, distinct values, aggregate, or (temporal
        types) the number of referenced rules seen (in order: the longest prefix of ``rules``)."""
        if c.type == SigmaCorrelationType.EVENT_COUNT:
            return len(entries)
        if c.type == SigmaCorrelationType.VALUE_COUNT:
            return len({x[2] for x in entries if x[2] is not None})
        if c.type in _NUMERIC and c.aggregate is not None:
            nums = [f for f in (_float(x[2]) for x in entries) if f is not None]
            return c.aggregate(np.array(nums), c.percentile or 50) if nums else None
        if c.type == SigmaCorrelationType.TEMPORAL:
            return len({x[1] for x in entries})
        want = 0  # temporal_ordered: the refs appear as a subsequence in time order (an entry can come
        # late: a chained correlation decided at its window's close, an event of a later batch)
        for x in sorted(entries, key=lambda x: x[0]):
            if x[1] == want:
                want += 1
                if want == len(c.refs):
                    break
        return want

    def _met(self, c: Correlation, entries: list[list[Any]]) -> bool:
        if c.expr is not None:
            if not _holds(c.expr, {c.names[x[1]] for x in entries}):
                return False
            return c.type == SigmaCorrelationType.TEMPORAL or self._measure(c, entries) == len(c.refs)
        value = self._measure(c, entries)
        return value is not None and c.holds(value)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc: dict[str, Any] = dict(self.state)
        doc[_HIGH], doc[_HIGH_AT] = self.high, self.high_at
        if self._deferred:
            doc[_DECIDED] = self.decided
        write_file_atomic(self.path, msgspec.json.encode(doc), self.path.with_suffix(".tmp"))


def _time(entry: list[Any]) -> Any:
    """An entry's time (the sort key of a group's entries)."""
    return entry[0]


def _add(entries: list[list[Any]], entry: list[Any]) -> bool:
    """Put a (time, rule, value, uid) entry in its group's time-ordered entries, after those of its
    time (a late event in its place); False, leaving them, when the group already holds this event
    for this rule (its ``metadata.uid``: the same event delivered again, by a shipper's retry or a
    file read twice, counts once)."""
    t, idx, _, uid = entry
    at = bisect.bisect_right(entries, t, key=_time)
    if uid is not None:
        i = at
        while i and entries[i - 1][0] == t:
            i -= 1
            if entries[i][3] == uid and entries[i][1] == idx:
                return False
    entries.insert(at, entry)
    return True


def _order(e: dict[str, Any]) -> tuple[int, float]:
    """Where an event (or a correlation's firing) stands in time: its time, then its place in the
    log (``seq``: the row of its batch), as events of one second of a syslog file must be taken in
    the order they were written whatever the order of the rules that matched them (the matches
    come rule by rule). A firing takes the place of the event that completed it; one decided at
    its window's close has none and comes after the events of its time."""
    return e["time"], e.get("seq", math.inf)


def _carried(raw: str | None) -> str | None:
    """The JSON record a syslog line carries as its message (the engine's ``embedded_json``:
    NXLog's Windows events; a Snare line's event as NXLog's JSON would give it), which the rules
    read; else the record as it is."""
    if raw is not None and SNARE in raw:
        from secpipe.formats._winevents import snare_record

        event = snare_record(raw)
        return raw if event is None else msgspec.json.encode(event).decode()
    if raw is None or raw[:1] == "{" or '{"' not in raw:
        return raw
    got = _EMBEDDED.match(raw)
    return got.group("j") if got else raw


def _log_names(batch: pa.RecordBatch | pa.Table, rows: Any) -> list[str | None]:
    """The format (``metadata.log_name``) of each of ``rows``."""
    if "metadata" not in batch.schema.names:
        return [None] * len(rows)
    meta = batch.column("metadata")
    meta = meta.combine_chunks() if isinstance(meta, pa.ChunkedArray) else meta
    if meta.type.get_field_index("log_name") < 0:
        return [None] * len(rows)
    return pc.take(meta.field("log_name"), rows).to_pylist()


def _document(raw: str | None) -> dict[str, Any]:
    """The original record as a dict ({} for text records such as syslog lines, or bad JSON)."""
    if not raw or raw[:1] != "{":
        return {}
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _param_values(part: dict[str, Any], want: str) -> list[str]:
    """The values of the event parameters named ``want`` (lower case) in a record's top-level keys
    ``part``: a Workspace LogEntry's ``protoPayload``, a Reports API activity's ``events`` (a list,
    or one event), as the rules read them (:func:`.sqlgen.param_sql`: ``value``, ``boolValue`` or
    ``intValue``; each element of ``multiStrValue`` / ``multiValue`` / ``multiIntValue``), as text."""
    out: list[str] = []
    for path, key in _PARAMS:
        events = part.get(path[0])
        for step in path[1:]:
            events = events.get(step) if isinstance(events, dict) else None
        for event in events if isinstance(events, list) else [events]:
            for p in (event.get(key) if isinstance(event, dict) else None) or []:
                if not isinstance(p, dict) or str(p.get("name", "")).lower() != want:
                    continue
                many = next((p[k] for k in ("multiStrValue", "multiValue", "multiIntValue") if k in p), None)
                one = next((p[k] for k in ("value", "boolValue", "intValue") if p.get(k) is not None), None)
                vals = many if isinstance(many, list) else [one]
                out += [msgspec.json.encode(v).decode() if isinstance(v, bool) else str(v) for v in vals if v is not None]
    return out


def _ocsf_value(rec: dict[str, Any], paths: tuple[str, ...]) -> Any:
    """The first of ``paths`` set in the OCSF columns of a JSON record's row (decoded to a dict
    once per record, on the first read that finds nothing in the record itself)."""
    doc = rec.get("doc")
    if doc is None:
        tbl, row = rec["ocsf"]
        doc = rec["doc"] = tbl.slice(row, 1).to_pylist()[0]
    for path in paths:
        v = _dig(doc, path)
        if v is not None:
            return v
    return None


def _kv(text: str, name: str) -> str | None:
    """``name``'s value in a text record, an XML element (``<Data Name="name">v</Data>``, entities
    decoded) or a ``name=value`` / ``name="value"`` pair: what the rules read for the name there
    (:func:`.sqlgen.kv_sql`, the same patterns; None when absent or empty)."""
    if "</" in text:
        got = re.search(xml_pattern(name), text)
        if got and got.group(1):
            v = got.group(1)
            for entity, char in XML_ENTITIES:
                v = v.replace(entity, char)
            return v
    got = re.search(kv_pattern(name), text)
    if got is None and name == AUDIT_SYSCALL:  # the call's name of its number (sqlgen.kv_sql)
        return syscall_name(_kv(text, "syscall"), _kv(text, "arch"))
    if got and AUDIT_HEX_FIELDS.match(name) and audit_hex_record(name) in text and re.fullmatch(AUDIT_HEX, got.group(1)):
        try:
            return bytes.fromhex(got.group(1)).decode().replace("\x00", " ")
        except UnicodeDecodeError:
            return got.group(1)
    return (got.group(1).strip('"') or None) if got else None


def _float(value: Any) -> float | None:
    """A correlation value as a number (None for a missing or non-numeric value)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def correlation_findings(fired: list[dict[str, Any]]) -> pa.RecordBatch:
    """One detection finding per fired correlation, with the correlation rule's description, ATT&CK
    tags and other metadata as a base rule's finding has them (:func:`.finding.rule_meta`)."""
    n = len(fired)
    uids, titles, sev, first, last, related, rids, unm, descs, attacks = [], [], [], [], [], [], [], [], [], []
    meta: dict[str, list[Any]] = {k: [] for k in META_TYPES}
    from secpipe.detect.sigma.rules import LEVELS

    for f in fired:
        c, ents = f["corr"], f["entries"]
        m = rule_meta(c.rule)
        for k in META_TYPES:
            meta[k].append(m[k])
        tags = [str(t) for t in c.rule.tags or []]
        descs.append(c.rule.description or c.rule.title)
        attacks.append(attacks_of(tags) or None)
        start = f.get("start", min(x[0] for x in ents))
        uids.append(hashlib.blake2b(f"{KIND}\0corr\0{c.id}\0{f['group']}\0{start}".encode(), digest_size=16).hexdigest())
        titles.append(c.rule.title)
        sev.append(LEVELS.get(c.level, 3))
        first.append(start)
        last.append(max(x[0] for x in ents))
        related.append([{"uid": x[3]} for x in ents])
        rids.append(c.id)
        info = {"correlation": c.type_name, "group_by": c.group_by, "group": msgspec.json.decode(f["group"]),
                "events": len(ents), "rule_level": c.level, "rule_tags": tags, **m["unmapped"]}
        if "end" in f:  # decided at window close: the window and the value its condition held on
            info.update({"window": {"start": f["start"], "end": f["end"]}, "value": f["value"]})
        unm.append(msgspec.json.encode(info).decode())
    s = pa.string()
    cols = base_columns("detection_finding", kind=KIND, product="secpipe", vendor="secpipe", uids=uids,
                        times_ms=pa.array(last, pa.int64()), raws=None, activity_id=1,
                        severity_id=pa.array(sev, pa.int32()))
    cols.update({
        "message": pa.array([f"Sigma correlation fired: {t}" for t in titles], s),
        "status_id": pa.array([1] * n, pa.int32()), "status": pa.array(["New"] * n, s),
        "is_alert": pa.array([True] * n), "count": pa.array([len(r) for r in related], pa.int32()),
        "start_time": pa.array(first, pa.int64()), "end_time": pa.array(last, pa.int64()),
        "finding_info.uid": pa.array(uids, s), "finding_info.title": pa.array(titles, s),
        "finding_info.desc": pa.array(descs, s), "attacks": pa.array(attacks, ATTACKS),
        "finding_info.attacks": pa.array(attacks, ATTACKS),
        **{k: pa.array(v, META_TYPES[k]) for k, v in meta.items()},
        "finding_info.types": pa.array([["Sigma", "Correlation"]] * n, pa.list_(s)),
        "finding_info.first_seen_time": pa.array(first, pa.int64()),
        "finding_info.last_seen_time": pa.array(last, pa.int64()),
        "finding_info.related_events_count": pa.array([len(r) for r in related], pa.int32()),
        "finding_info.related_events": pa.array(related, _RELATED),
        "finding_info.analytic.uid": pa.array(rids, s), "finding_info.analytic.name": pa.array(titles, s),
        "finding_info.analytic.type_id": pa.array([1] * n, pa.int32()), "finding_info.analytic.type": pa.array(["Rule"] * n, s),
        "unmapped": pa.array(unm, s),
    })
    return to_batch("detection_finding", cols)


def correlate_matches(ruleset: Any, pairs: list[tuple[pa.Table, pa.Table]], now: float | None = None) -> pa.RecordBatch | None:
    """Run correlations over (batch, matches) pairs from the lake, in time order, fresh state.

    Windows decided at close are decided when their end is before ``now`` (seconds; the wall
    clock when None) or before the last match, however far past ``now``: those still open are
    undecided, no finding."""
    at = time.time() if now is None else now
    eng = CorrelationEngine(ruleset, None, clock=lambda: at, ahead_s=math.inf)  # the lake's last match may be past now
    events = [e for b, m in pairs for e in eng.events(b, m)]
    events.sort(key=lambda e: e["time"])  # ties keep the batches' order, and each batch's (events())
    for i, e in enumerate(events):
        e["seq"] = i
    fired = [f for f in eng.feed(events, until=int(at * 1000)) if f["corr"].output]
    return correlation_findings(fired) if fired else None
