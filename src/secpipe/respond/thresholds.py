"""Threshold rules on finding counts: "more than N matching findings per window per key".

Rule (under ``thresholds:`` of the alert stage)::

    - name: critical-burst
      match: {severity: critical}          # label matchers, as in routes (match / match_re)
      group_by: [repository]               # one counter per distinct value
      window: 1h                           # tumbling windows aligned to the epoch
      count_gt: 10                         # fires when the count exceeds this
      severity: high                       # severity of the threshold alert (default critical)

Counters live in the alert store (``threshold_counts``), updated in one transaction per
batch, so a restart keeps counting where it stopped. A rule fires at most once per key and
window; the alert's fingerprint is a hash of (rule, key, window start), so a WAL replay after
a crash yields the same alert and the router deduplicates it. Each firing also becomes a
``detection_finding`` row (returned by the stage, stored in the lake).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from secpipe.errors import ConfigError
from secpipe.respond.base import SEVERITY_LABELS, Alert
from secpipe.respond.finding import FindingRow, stable_uid
from secpipe.respond.outbox import Store
from secpipe.respond.router import Matcher, seconds

_SEV_ID = {v: k for k, v in SEVERITY_LABELS.items()}


@dataclass
class ThresholdRule:
    """One checked rule."""

    name: str
    matcher: Matcher
    group_by: tuple[str, ...]
    window: float
    count_gt: int
    severity: str

    @classmethod
    def build(cls, raw: dict[str, Any], path: str) -> ThresholdRule:
        """From config; names the key path on errors."""
        known = {"name", "match", "match_re", "group_by", "window", "count_gt", "severity"}
        for k in raw:
            if k not in known:
                msg = f"{path}.{k}"
                raise ConfigError(msg, f"unknown key — one of: {', '.join(sorted(known))}")
        for k in ("name", "count_gt"):
            if k not in raw:
                msg = f"{path}.{k}"
                raise ConfigError(msg, "required key is missing — add it")
        sev = str(raw.get("severity", "critical"))
        if sev not in _SEV_ID:
            msg = f"{path}.severity"
            raise ConfigError(msg, f"one of: {', '.join(_SEV_ID)}")
        return cls(str(raw["name"]), Matcher.build(raw.get("match"), raw.get("match_re"), path),
                   tuple(raw.get("group_by") or ()), seconds(raw.get("window", "1h"), f"{path}.window"),
                   int(raw["count_gt"]), sev)


def observe(store: Store, rules: list[ThresholdRule], alerts: list[Alert], now_ms: int) -> tuple[list[Alert], list[FindingRow]]:
    """Count firing alerts per rule/key/window; returns the threshold alerts and findings that fire now."""
    counts: dict[tuple[str, str, int], int] = {}
    keys: dict[tuple[str, str, int], tuple[ThresholdRule, dict[str, str]]] = {}
    for rule in rules:
        win = int(rule.window * 1000)
        start = now_ms - now_ms % win
        for a in alerts:
            if a.status != "firing" or not rule.matcher.matches(a.labels):
                continue
            glabels = {k: a.labels.get(k, "") for k in rule.group_by}
            k = (rule.name, orjson.dumps(glabels, option=orjson.OPT_SORT_KEYS).decode(), start)
            counts[k] = counts.get(k, 0) + 1
            keys[k] = (rule, glabels)
    if not counts:
        return [], []
    fired: list[Alert] = []
    rows: list[FindingRow] = []
    with store.tx() as c:
        for (name, key, start), n in counts.items():
            c.execute("INSERT INTO threshold_counts (rule, key, window_ms, count) VALUES (?,?,?,?) ON CONFLICT"
                      " (rule, key, window_ms) DO UPDATE SET count = count + excluded.count", (name, key, start, n))
            total, done = c.execute("SELECT count, fired FROM threshold_counts WHERE rule=? AND key=? AND window_ms=?",
                                    (name, key, start)).fetchone()
            rule, glabels = keys[(name, key, start)]
            if total > rule.count_gt and not done:
                c.execute("UPDATE threshold_counts SET fired=1 WHERE rule=? AND key=? AND window_ms=?", (name, key, start))
                uid = stable_uid("threshold", name, key, str(start))
                scope = ", ".join(f"{k}={v}" for k, v in glabels.items()) or "all findings"
                msg = (f"{total} findings matched threshold rule {name} ({scope}) in the window starting "
                       f"{start} ms; limit {rule.count_gt} per {int(rule.window)}s")
                labels = {"severity": rule.severity, "rule": f"threshold/{name}", "rule_uid": name,
                          "title": f"Threshold exceeded: {name}", "class": "detection_finding", "product": "secpipe",
                          "tags": "threshold", **{k: v for k, v in glabels.items() if v}}
                fired.append(Alert(uid, labels, {"summary": msg, "evidence_query": "SELECT * FROM detection_finding "
                                                 f"WHERE time >= {start} AND time < {start + int(rule.window * 1000)}"},
                                   "firing", now_ms))
                rows.append(FindingRow(uid, now_ms, _SEV_ID[rule.severity], f"Threshold exceeded: {name}", msg, name,
                                       f"threshold/{name}", ["Threshold"], details={"count": total, "limit": rule.count_gt,
                                       "window_start_ms": start, "window_seconds": rule.window, "group": glabels}))
        c.execute("DELETE FROM threshold_counts WHERE window_ms < ?", (now_ms - 7 * 86400_000,))
    return fired, rows
