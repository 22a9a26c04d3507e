"""The three detectors: rate (robust z-score), first-seen values, rare values.

Each detector groups the batch once with Arrow (``group_by`` over entity/value columns,
counting events and collecting row indexes), then walks the *distinct* groups in Python to
compare them with the baseline and update it. Event rows are never visited one by one;
evidence uids (the first ``max_evidence`` per group) are gathered with one ``take``.

Time is event time (the OCSF ``time`` column), so a backfill learns and alerts exactly as
the live stream would; windows are aligned on the epoch (``time // window``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.anomaly.options import SEVERITY_IDS, FirstSeenRule, RareRule, RateRule
from secpipe.detect.anomaly.state import Baselines

#: scale of the modified z-score (Iglewicz & Hoaglin): 0.6745 * (x - median) / MAD.
Z_SCALE = 0.6745
SEP = "\x1f"


@dataclass
class Hit:
    """One anomaly, with the baseline it deviates from; becomes one Detection Finding."""

    kind: str  # rate | first_seen | rare
    rule: str
    severity_id: int
    analytic_type_id: int  # OCSF analytic.type_id: 2 Behavioral, 3 Statistical
    title: str
    message: str
    targets: list[dict[str, str]]
    baseline: dict[str, Any]
    anomaly: dict[str, Any]
    first_ms: int
    last_ms: int
    count: int
    evidence: list[str]
    details: dict[str, Any]
    key: tuple[str, ...] = field(default=())


@dataclass
class BatchView:
    """The columns of one batch the detectors read, resolved once."""

    batch: pa.RecordBatch
    times: pa.Array
    uids: pa.Array
    rows: pa.Array

    @classmethod
    def of(cls, batch: pa.RecordBatch) -> BatchView:
        """Resolve ``time`` and ``metadata.uid`` of an OCSF batch."""
        n = batch.num_rows
        times = batch.column("time").cast(pa.int64())
        uids = column(batch, "metadata.uid")
        if uids is None:
            uids = pa.nulls(n, pa.string())
        return cls(batch, times, uids, pa.array(range(n), pa.int64()))

    def strings(self, paths: list[str]) -> pa.Array | None:
        """The first non-null of ``paths`` per row, as strings (None when no path exists)."""
        cols = [c for c in (column(self.batch, p) for p in paths) if c is not None]
        cols = [c.cast(pa.string()) for c in cols if _scalar(c.type)]
        if not cols:
            return None
        return cols[0] if len(cols) == 1 else pc.coalesce(*cols)

    def evidence(self, groups: pa.ChunkedArray, limit: int) -> pa.ListArray:
        """Per group (a list of row indexes), the metadata.uid of its first ``limit`` rows."""
        lists = pc.list_slice(groups.combine_chunks(), 0, limit)
        offsets = pc.subtract(lists.offsets, lists.offsets[0])
        return pa.ListArray.from_arrays(offsets, self.uids.take(lists.flatten()))


def column(batch: pa.RecordBatch, path: str) -> pa.Array | None:
    """The array at an OCSF dotted path in a nested batch, or None when it is absent."""
    parts = path.split(".")
    if parts[0] not in batch.schema.names:
        return None
    arr = batch.column(parts[0])
    for p in parts[1:]:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(p) < 0:
            return None
        arr = pc.struct_field(arr, [p])
    return arr


def _scalar(t: pa.DataType) -> bool:
    return not (pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t))


def _nonempty(arr: pa.Array) -> pa.Array:
    return pc.and_(pc.is_valid(arr), pc.fill_null(pc.not_equal(arr, ""), False))


def iso(ms: int) -> str:
    """Epoch ms -> ``2026-11-29T07:00:00Z``."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def span(seconds: float) -> str:
    """A duration for people: ``45s``, ``12m``, ``1h``, ``3.5h``, ``9d``, ``2.9d``."""
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 7200:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 120:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"


def _pattern(param: str, kind: str, pattern: str, values: Sequence[tuple[str, int | None]]) -> dict[str, Any]:
    """An OCSF baseline/anomaly object: what was observed, and the observations."""
    return {"observation_parameter": param, "observation_type": kind, "observed_pattern": pattern,
            "observations": [{"value": v, "count": c} for v, c in values]}


# ---------------------------------------------------------------------------------------
# rate
# ---------------------------------------------------------------------------------------


def robust_z(x: float, history: list[int], min_mad: float) -> tuple[float, float, float]:
    """(median, MAD, modified z-score of x) of a history; the MAD is floored at ``min_mad``."""
    med = statistics.median(history)
    mad = statistics.median([abs(h - med) for h in history])
    return med, mad, Z_SCALE * (x - med) / max(mad, min_mad)


def detect_rate(rule: RateRule, view: BatchView, st: Baselines, max_evidence: int) -> list[Hit]:
    """Windows in which an entity's event count deviates from its own history."""
    ent = view.strings(rule.entity)
    if ent is None:
        return []
    key = rule.key()
    w = int(rule.window * 1000)
    tbl = pa.table({"e": ent, "b": pc.divide(view.times, w), "t": view.times, "i": view.rows}).filter(_nonempty(ent))
    if tbl.num_rows == 0:
        return []
    g = tbl.group_by(["e", "b"], use_threads=False).aggregate([("t", "min"), ("t", "max"), ("i", "count"), ("i", "list")])
    g = g.take(pc.sort_indices(g, [("b", "ascending"), ("e", "ascending")]))
    hist_all = st.rate.setdefault(key, {})
    alerted_all = st.alerted.setdefault(key, {})
    rows = view.evidence(g.column("i_list"), max_evidence)
    hits: list[Hit] = []
    touched: set[str] = set()
    for j, (e, b, tmin, tmax, c) in enumerate(
        zip(*(g.column(n).to_pylist() for n in ("e", "b", "t_min", "t_max", "i_count")), strict=True)
    ):
        hist = hist_all.setdefault(e, {})
        touched.add(e)
        now = hist.get(b, 0) + c
        hist[b] = now
        base = [v for k, v in hist.items() if b - rule.history <= k < b]
        done = alerted_all.setdefault(e, [])
        if len(base) < rule.min_history or now < rule.min_count or b in done:
            continue
        med, mad, z = robust_z(now, base, rule.min_mad)
        if z < rule.threshold:
            continue
        done.append(b)
        start = b * w
        path = "|".join(rule.entity)
        msg = (
            f"{e} made {now} events in {span(rule.window)} from {iso(start)}; baseline over {len(base)} active "
            f"windows: median {med:g}, MAD {mad:g}, robust z {z:.1f} (alerts at {rule.threshold:g})"
        )
        hits.append(
            Hit(
                kind="rate", rule=key, severity_id=SEVERITY_IDS[rule.severity], analytic_type_id=3,
                title=f"Unusual event rate for {e}", message=msg,
                targets=[{"name": e, "type": path}],
                baseline=_pattern(path, "events per window",
                                  f"median {med:g}, MAD {mad:g} over {len(base)} windows of {span(rule.window)}",
                                  [(iso(k * w), v) for k, v in sorted(hist.items()) if k < b][-24:]),
                anomaly=_pattern(path, "events per window", f"{now} events, robust z {z:.1f}", [(iso(start), now)]),
                first_ms=tmin, last_ms=tmax, count=now, evidence=[u for u in rows[j].as_py() if u],
                details={"detector": "rate", "entity_path": path, "entity": e, "window_start": iso(start),
                         "window_seconds": rule.window, "count": now, "median": med, "mad": mad,
                         "robust_z": round(z, 3), "threshold": rule.threshold, "baseline_windows": len(base)},
                key=(key, e, str(b)),
            )
        )  # fmt: skip
    for e in touched:
        hist = hist_all[e]
        floor = max(hist) - rule.history
        for k in [k for k in hist if k < floor]:
            del hist[k]
        alerted_all[e] = [k for k in alerted_all.get(e, []) if k >= floor]
    return hits


# ---------------------------------------------------------------------------------------
# first seen
# ---------------------------------------------------------------------------------------


def detect_first_seen(rule: FirstSeenRule, view: BatchView, st: Baselines, max_evidence: int) -> list[Hit]:
    """Values an entity has never shown before, once the entity has a warmed-up history."""
    ent = view.strings(rule.entity)
    if ent is None:
        return []
    hits: list[Hit] = []
    entity_path = "|".join(rule.entity)
    warm_ms = rule.warmup * 1000
    for path in rule.values:
        val = view.strings([path])
        if val is None:
            continue
        key = rule.key(path)
        tbl = pa.table({"e": ent, "v": val, "t": view.times, "i": view.rows}).filter(pc.and_(_nonempty(ent), _nonempty(val)))
        if tbl.num_rows == 0:
            continue
        ents = st.entities.setdefault(key, {})
        before: dict[str, list[int] | None] = {}
        ge = tbl.group_by("e", use_threads=False).aggregate([("t", "min"), ("i", "count")])
        for e, tmin, c in zip(*(ge.column(n).to_pylist() for n in ("e", "t_min", "i_count")), strict=True):
            prev = ents.get(e)
            before[e] = None if prev is None else list(prev)
            ents[e] = [min(prev[0], tmin), prev[1] + c] if prev else [tmin, c]
        g = tbl.group_by(["e", "v"], use_threads=False).aggregate([("t", "min"), ("t", "max"), ("i", "count"), ("i", "list")])
        g = g.take(pc.sort_indices(g, [("t_min", "ascending"), ("e", "ascending"), ("v", "ascending")]))
        rows = view.evidence(g.column("i_list"), max_evidence)
        seen = st.seen.setdefault(key, {})
        for j, (e, v, tmin, tmax, c) in enumerate(
            zip(*(g.column(n).to_pylist() for n in ("e", "v", "t_min", "t_max", "i_count")), strict=True)
        ):
            known = seen.setdefault(e, {})
            if v in known:
                continue
            prev = before[e]
            first = ents[e][0]
            age = (tmin - first) / 1000
            if prev is not None and tmin - first >= warm_ms and prev[1] >= rule.min_events and known:
                sample = list(itertools.islice(reversed(known), 5))[::-1]
                msg = (
                    f"{e} used a new {path} {v!r}: first time in {span(age)} of history for this {entity_path} "
                    f"({prev[1]} earlier events, {len(known)} known values, latest: {', '.join(sample)})"
                )
                hits.append(
                    Hit(
                        kind="first_seen", rule=key, severity_id=SEVERITY_IDS[rule.severity], analytic_type_id=2,
                        title=f"New {path} for {e}", message=msg,
                        targets=[{"name": e, "type": entity_path}],
                        baseline=_pattern(path, "values seen", f"{len(known)} values since {iso(first)}",
                                          [(x, None) for x in sample]),
                        anomaly=_pattern(path, "new value", f"first seen {iso(tmin)}", [(v, c)]),
                        first_ms=tmin, last_ms=tmax, count=c, evidence=[u for u in rows[j].as_py() if u],
                        details={"detector": "first_seen", "entity_path": entity_path, "entity": e, "value_path": path,
                                 "value": v, "history_seconds": age, "entity_events": prev[1], "known_values": len(known)},
                        key=(key, e, v),
                    )
                )  # fmt: skip
            known[v] = tmin
            while len(known) > rule.max_values:
                del known[next(iter(known))]
    return hits


# ---------------------------------------------------------------------------------------
# rare
# ---------------------------------------------------------------------------------------


def detect_rare(rule: RareRule, view: BatchView, st: Baselines, max_evidence: int) -> list[Hit]:
    """Values (or value tuples) seen fewer than ``max_count`` times across the whole fleet."""
    cols = [view.strings([p]) for p in rule.values]
    if any(c is None for c in cols):
        return []
    names = [f"k{i}" for i in range(len(cols))]
    valid = _nonempty(cols[0])
    for c in cols[1:]:
        valid = pc.and_(valid, _nonempty(c))
    tbl = pa.table({**dict(zip(names, cols, strict=True)), "t": view.times, "i": view.rows}).filter(valid)
    if tbl.num_rows == 0:
        return []
    key = rule.key()
    fleet = st.fleet.get(key)
    counts = st.rare.setdefault(key, {})
    g = tbl.group_by(names, use_threads=False).aggregate([("t", "min"), ("t", "max"), ("i", "count"), ("i", "list")])
    rows = view.evidence(g.column("i_list"), max_evidence)
    label = " ".join(rule.values)
    hits: list[Hit] = []
    parts_cols = [g.column(n).to_pylist() for n in names]
    for j, (tmin, tmax, c) in enumerate(zip(*(g.column(n).to_pylist() for n in ("t_min", "t_max", "i_count")), strict=True)):
        parts = [col[j] for col in parts_cols]
        k = SEP.join(parts)
        prior = counts.get(k, 0)
        counts[k] = prior + c
        if fleet is None or prior >= rule.max_count or fleet[2] < rule.min_events or tmin - fleet[0] < rule.warmup * 1000:
            continue
        shown = " ".join(parts)
        msg = (
            f"{label} {shown!r} is rare across the fleet: seen {prior} time(s) before in {fleet[2]} events over "
            f"{span((fleet[1] - fleet[0]) / 1000)} (rare below {rule.max_count}); {c} event(s) now"
        )
        hits.append(
            Hit(
                kind="rare", rule=key, severity_id=SEVERITY_IDS[rule.severity], analytic_type_id=3,
                title=f"Rare {label}: {shown}", message=msg,
                targets=[{"name": shown, "type": label}],
                baseline=_pattern(label, "fleet-wide count", f"{fleet[2]} events since {iso(fleet[0])}", [(shown, prior)]),
                anomaly=_pattern(label, "rare value", f"seen {prior} time(s) before", [(shown, c)]),
                first_ms=tmin, last_ms=tmax, count=c, evidence=[u for u in rows[j].as_py() if u],
                details={"detector": "rare", "value_paths": rule.values, "values": parts, "prior_count": prior,
                         "fleet_events": fleet[2], "max_count": rule.max_count},
                key=(key, k, str(prior)),
            )
        )  # fmt: skip
    tmin_b = pc.min(tbl.column("t")).as_py()
    tmax_b = pc.max(tbl.column("t")).as_py()
    n = tbl.num_rows
    st.fleet[key] = [min(fleet[0], tmin_b), max(fleet[1], tmax_b), fleet[2] + n] if fleet else [tmin_b, tmax_b, n]
    return hits
