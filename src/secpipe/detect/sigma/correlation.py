"""Sigma correlation rules over the stream (persisted state) and over the lake.

Supported types: ``event_count`` (events of the referenced rules per group within
``timespan``), ``value_count`` (distinct values of ``condition.field``), ``value_sum`` /
``value_avg`` / ``value_median`` / ``value_percentile`` / ``value_max`` / ``value_min`` (of the numeric values of
``condition.field``; non-numeric values are left out), ``temporal`` (every
referenced rule matched within ``timespan``, any order; with an extended ``condition`` such as
``rule_a and (rule_b or not rule_c)``, that expression over the rules seen) and
``temporal_ordered`` (matched in the listed order, and the extended condition if any). ``group-by`` fields and ``aliases`` are read from the matched events' original
records. Input is the base-rule *matches* (a few rows per batch), so the per-match Python here is
off the per-event hot path.

State: per correlation and group, the (time, rule, value) entries inside the window. It is
written atomically (tmp + rename) to ``<data_dir>/state/sigma/<stage>.json`` after every batch
that changed it and read back on start, so a restart continues the windows where they were.
Entries older than ``clock() - timespan`` (and older than the group's newest event minus the
timespan) are pruned. A correlation that fires emits one detection finding (uid = hash of the
correlation id, group and window start) and clears its group, so it fires again only on new
events. Over the lake (:func:`correlate_matches`) the same engine runs on all matches ordered
by time with in-memory state.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.correlations import SigmaCorrelationConditionOperator as Op

from secpipe.detect.sigma.finding import KIND, _dig
from secpipe.detect.sigma.rules import RANGE, TYPE
from secpipe.formats.base import base_columns, to_batch
from secpipe.store._durable import write_file_atomic

_OPS = {Op.LT: lambda a, b: a < b, Op.LTE: lambda a, b: a <= b, Op.GT: lambda a, b: a > b,
        Op.GTE: lambda a, b: a >= b, Op.EQ: lambda a, b: a == b, Op.NEQ: lambda a, b: a != b}
#: value_* aggregations of ``condition.field`` over the window's events (numbers; others are skipped)
_NUMERIC = {SigmaCorrelationType.VALUE_SUM: lambda v, p: float(np.sum(v)),
            SigmaCorrelationType.VALUE_AVG: lambda v, p: float(np.mean(v)),
            SigmaCorrelationType.VALUE_MEDIAN: lambda v, p: float(np.median(v)),
            SigmaCorrelationType.VALUE_PERCENTILE: lambda v, p: float(np.percentile(v, p))}
#: value_max / value_min (loaded as value_sum by :mod:`.rules`, the type kept in ``rules.TYPE``)
_EXTREMA = {"value_max": lambda v, p: float(np.max(v)), "value_min": lambda v, p: float(np.min(v))}
SUPPORTED = {SigmaCorrelationType.EVENT_COUNT, SigmaCorrelationType.VALUE_COUNT, SigmaCorrelationType.TEMPORAL,
             SigmaCorrelationType.TEMPORAL_ORDERED, *_NUMERIC}
_RELATED = pa.list_(pa.struct([("uid", pa.string())]))


class Correlation:
    """One correlation rule, resolved against the loaded base rules."""

    def __init__(self, rule: SigmaCorrelationRule, refs: list[list[str]]) -> None:
        self.rule = rule
        self.id = _corr_id(rule)
        self.inner: list[Correlation] = []  # the correlations among the referenced rules
        self.type = rule.type
        self.refs = refs  # per referenced rule: the base rule ids it stands for
        self.window_ms = int(rule.timespan.seconds * 1000)
        self.group_by = list(rule.group_by or [])
        cond = rule.condition
        self.op = getattr(cond, "op", Op.GTE)
        self.count = getattr(cond, "count", len(refs))
        #: the numeric aggregation of value_* types (value_max / value_min: see ``rules.TYPE``)
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
        self.level = rule.level.name.lower() if rule.level else "medium"
        self.type_name = str((rule.custom_attributes or {}).get(TYPE) or rule.type.name.lower())
        #: False when another correlation with ``generate: false`` refers to this one: its firings
        #: feed that correlation but are not reported on their own
        self.output = True

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
    return got


class CorrelationEngine:
    """Stateful evaluation of correlation rules on base-rule matches."""

    def __init__(self, ruleset: Any, state_path: Path | None, clock: Any = None) -> None:
        self.ruleset = ruleset
        self.correlations, self.unsupported = resolve(ruleset)
        self.path = state_path
        self.clock = clock or time.time
        self.state: dict[str, dict[str, list[list[Any]]]] = {}
        if self.path is not None and self.path.is_file():
            self.state = msgspec.json.decode(self.path.read_bytes())
        self._wanted = {rid for c in self.correlations for ids in c.refs for rid in ids}

    # -- stream ---------------------------------------------------------------------
    def process(self, batch: pa.RecordBatch | pa.Table, matches: pa.Table) -> pa.RecordBatch | None:
        """Feed one batch's matches; returns the findings of correlations that fired (and report)."""
        events = self.events(batch, matches)
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
        raws = (pc.take(batch.column("raw_data"), m.column("row")).to_pylist() if "raw_data" in batch.schema.names
                else [None] * m.num_rows)
        out = []
        for rid, uid, t, raw in zip(m.column("rule_id").to_pylist(), m.column("event_uid").to_pylist(),
                                    m.column("event_time").to_pylist(), raws, strict=True):
            doc = _document(raw)
            out.append({"rule": rid, "uid": uid, "time": t or 0, "doc": doc})
        out.sort(key=lambda e: e["time"])
        return out

    def _field(self, c: Correlation, e: dict[str, Any], name: str) -> Any:
        alias = c.aliases.get(name)
        if alias:
            for ref, ids in zip(c.rule.rules or [], c.refs, strict=True):
                if e["rule"] in ids and str(ref.reference) in alias:
                    name = alias[str(ref.reference)]
                    break
        v = _dig(e["doc"], name)
        return None if v is None else (v if isinstance(v, str) else msgspec.json.encode(v).decode())

    def feed(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Advance the windows with events (time-ordered); returns fired correlations.

        Correlations run in dependency order: one that fires is an event (at the time and with
        the original record of the match that completed it) for the correlations referring to it."""
        fired = []
        now_ms = int(self.clock() * 1000)
        chained: list[dict[str, Any]] = []
        for c in self.correlations:
            groups = self.state.setdefault(c.id, {})
            feed = events
            if chained and c.inner:
                feed = sorted([*events, *chained], key=lambda e: e["time"])
            for e in feed:
                idx = next((i for i, ids in enumerate(c.refs) if e["rule"] in ids), None)
                if idx is None:
                    continue
                key = msgspec.json.encode([self._field(c, e, g) for g in c.group_by]).decode()
                value = self._field(c, e, c.field) if c.field else None
                entries = groups.setdefault(key, [])
                entries.append([e["time"], idx, value, e["uid"]])
                lo = e["time"] - c.window_ms
                entries[:] = [x for x in entries if x[0] >= lo]
                if self._met(c, entries):
                    fired.append({"corr": c, "group": key, "entries": list(entries)})
                    groups.pop(key, None)
                    chained.append({"rule": c.id, "uid": e["uid"], "time": e["time"], "doc": e["doc"]})
            for key in [k for k, v in groups.items() if not v or max(x[0] for x in v) < now_ms - c.window_ms]:
                groups.pop(key)
        return fired

    def _met(self, c: Correlation, entries: list[list[Any]]) -> bool:
        if c.type == SigmaCorrelationType.EVENT_COUNT:
            return c.holds(len(entries))
        if c.type == SigmaCorrelationType.VALUE_COUNT:
            return c.holds(len({x[2] for x in entries if x[2] is not None}))
        if c.type in _NUMERIC and c.aggregate is not None:
            nums = [f for f in (_float(x[2]) for x in entries) if f is not None]
            return bool(nums) and c.holds(c.aggregate(np.array(nums), c.percentile or 50))
        seen = [x[1] for x in entries]
        if c.expr is not None and not _holds(c.expr, {c.names[i] for i in seen}):
            return False
        if c.type == SigmaCorrelationType.TEMPORAL:
            return c.expr is not None or set(range(len(c.refs))) <= set(seen)
        want = 0  # temporal_ordered: the refs appear as a subsequence in time order
        for s in seen:
            if s == want:
                want += 1
                if want == len(c.refs):
                    return True
        return False

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(self.path, msgspec.json.encode(self.state), self.path.with_suffix(".tmp"))


def _document(raw: str | None) -> dict[str, Any]:
    """The original record as a dict ({} for text records such as syslog lines)."""
    if not raw or raw[:1] != "{":
        return {}
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _float(value: Any) -> float | None:
    """A correlation value as a number (None for a missing or non-numeric value)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def correlation_findings(fired: list[dict[str, Any]]) -> pa.RecordBatch:
    """One detection finding per fired correlation."""
    n = len(fired)
    uids, titles, sev, first, last, related, rids, unm = [], [], [], [], [], [], [], []
    from secpipe.detect.sigma.rules import LEVELS

    for f in fired:
        c, ents = f["corr"], f["entries"]
        start = min(x[0] for x in ents)
        uids.append(hashlib.blake2b(f"{KIND}\0corr\0{c.id}\0{f['group']}\0{start}".encode(), digest_size=16).hexdigest())
        titles.append(c.rule.title)
        sev.append(LEVELS.get(c.level, 3))
        first.append(start)
        last.append(max(x[0] for x in ents))
        related.append([{"uid": x[3]} for x in ents])
        rids.append(c.id)
        unm.append(msgspec.json.encode({"correlation": c.type_name, "group_by": c.group_by,
                                        "group": msgspec.json.decode(f["group"]), "events": len(ents)}).decode())
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


def correlate_matches(ruleset: Any, pairs: list[tuple[pa.Table, pa.Table]]) -> pa.RecordBatch | None:
    """Run correlations over (batch, matches) pairs from the lake, in time order, fresh state."""
    eng = CorrelationEngine(ruleset, None, clock=lambda: 0.0)
    events = [e for b, m in pairs for e in eng.events(b, m)]
    events.sort(key=lambda e: e["time"])
    fired = [f for f in eng.feed(events) if f["corr"].output]
    return correlation_findings(fired) if fired else None
