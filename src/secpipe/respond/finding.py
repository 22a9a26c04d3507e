"""Small ``detection_finding`` batches built by respond stages (thresholds, deploy risk, match rules).

Rows are few (one per fired rule or scored deployment), so they are built from Python dicts
with :func:`~secpipe.formats.base.rows_to_columns`. The finding uid is the caller's stable
key (rule + window, deployment event uid + rule), so a replay after restart yields the same
uid: the lake keeps one copy and the alert router deduplicates the repeat.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from secpipe.formats.base import base_columns, rows_to_columns, to_batch

KIND = "secpipe.respond"
_RES = pa.list_(pa.struct([("type", pa.string()), ("name", pa.string()), ("uid", pa.string()),
                           ("namespace", pa.string()), ("labels", pa.list_(pa.string()))]))
_RELATED = pa.list_(pa.struct([("uid", pa.string())]))


def stable_uid(*parts: str) -> str:
    """blake2b-128 of the parts (never Python's ``hash``)."""
    return hashlib.blake2b("\0".join((KIND, *parts)).encode(), digest_size=16).hexdigest()


@dataclass
class FindingRow:
    """One finding to emit."""

    uid: str
    time_ms: int
    severity_id: int
    title: str
    message: str
    rule_uid: str
    rule_name: str
    types: list[str] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    risk_score: int | None = None


def findings_batch(rows: list[FindingRow], created_ms: int) -> pa.RecordBatch:
    """Assemble rows into one ``detection_finding`` batch."""
    cols = base_columns("detection_finding", kind=KIND, product="secpipe", vendor="secpipe",
                        uids=[r.uid for r in rows], times_ms=pa.array([r.time_ms for r in rows], pa.int64()),
                        raws=None, activity_id=1, severity_id=pa.array([r.severity_id for r in rows], pa.int32()))
    extra = rows_to_columns(
        ({"message": r.message, "status_id": 1, "status": "New", "is_alert": True,
          "finding_info.uid": r.uid, "finding_info.title": r.title, "finding_info.desc": r.message,
          "finding_info.types": r.types or None, "finding_info.created_time": created_ms,
          "finding_info.analytic.uid": r.rule_uid, "finding_info.analytic.name": r.rule_name,
          "finding_info.analytic.type_id": 1, "finding_info.analytic.type": "Rule",
          "finding_info.related_events": [{"uid": u} for u in r.related] or None,
          "resources": [{"type": x.get("type"), "name": x.get("name"), "uid": x.get("uid"),
                         "namespace": x.get("namespace"), "labels": x.get("labels")} for x in r.resources] or None,
          "risk_score": r.risk_score,
          "unmapped": orjson.dumps(r.details, option=orjson.OPT_SORT_KEYS).decode() if r.details else None}
         for r in rows),
        types={"status_id": pa.int32(), "finding_info.analytic.type_id": pa.int32(), "risk_score": pa.int32(),
               "finding_info.created_time": pa.int64(), "resources": _RES, "finding_info.related_events": _RELATED,
               "finding_info.types": pa.list_(pa.string())},
    )
    if all(r.risk_score is None for r in rows):
        extra.pop("risk_score")
    cols.update(extra)
    return to_batch("detection_finding", cols)
