"""Anomaly hits -> one OCSF Detection Finding (2004) batch.

Each finding says what deviated and from what: ``message`` and ``finding_info.desc`` give
the sentence ("alice made 340 events in 1.0h ...; baseline ... median 12, MAD 3, robust z
73.7"), ``anomaly_analyses`` carries the baseline and the anomaly as OCSF observations,
``finding_info.related_events`` lists the evidence event uids, and ``unmapped`` keeps the
numbers as JSON. The finding uid is a hash of the stage, the rule and what alerted (entity
and window, entity and value, value and prior count), so replaying the same input after a
restart produces the same uid and the lake keeps one copy.
"""

from __future__ import annotations

import hashlib

import msgspec
import pyarrow as pa

from secpipe.detect.anomaly.detectors import Hit
from secpipe.formats.base import base_columns, to_batch

KIND = "secpipe.anomaly"
_ANALYTIC_TYPES = {2: "Behavioral", 3: "Statistical"}

_OBS = pa.list_(pa.struct([("value", pa.string()), ("count", pa.int32())]))
_PATTERN = pa.struct(
    [("observation_parameter", pa.string()), ("observation_type", pa.string()), ("observed_pattern", pa.string()), ("observations", _OBS)]
)
_ANALYSES = pa.list_(
    pa.struct(
        [
            ("analysis_targets", pa.list_(pa.struct([("name", pa.string()), ("type", pa.string())]))),
            ("baselines", pa.list_(_PATTERN)),
            ("anomalies", pa.list_(_PATTERN)),
        ]
    )
)
_RELATED = pa.list_(pa.struct([("uid", pa.string())]))


def finding_uid(stage: str, key: tuple[str, ...]) -> str:
    """Deterministic finding identity (blake2b-128 of the stage name and the hit key)."""
    raw = "\0".join((KIND, stage, *key)).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def findings_batch(stage: str, hits: list[Hit], created_ms: int) -> pa.RecordBatch:
    """Assemble hits into a ``detection_finding`` RecordBatch (a small batch: rows are built in Python)."""
    n = len(hits)
    uids = [finding_uid(stage, h.key) for h in hits]
    cols = base_columns(
        "detection_finding",
        kind=KIND,
        product="secpipe",
        vendor="secpipe",
        uids=uids,
        times_ms=pa.array([h.last_ms for h in hits], pa.int64()),
        raws=None,
        activity_id=1,
        severity_id=pa.array([h.severity_id for h in hits], pa.int32()),
    )
    s = pa.string()
    cols.update(
        {
            "message": pa.array([h.message for h in hits], s),
            "status_id": pa.array([1] * n, pa.int32()),
            "status": pa.array(["New"] * n, s),
            "is_alert": pa.array([True] * n, pa.bool_()),
            "count": pa.array([h.count for h in hits], pa.int32()),
            "start_time": pa.array([h.first_ms for h in hits], pa.int64()),
            "end_time": pa.array([h.last_ms for h in hits], pa.int64()),
            "finding_info.uid": pa.array(uids, s),
            "finding_info.title": pa.array([h.title for h in hits], s),
            "finding_info.desc": pa.array([h.message for h in hits], s),
            "finding_info.types": pa.array([["Anomaly", h.kind] for h in hits], pa.list_(s)),
            "finding_info.created_time": pa.array([created_ms] * n, pa.int64()),
            "finding_info.first_seen_time": pa.array([h.first_ms for h in hits], pa.int64()),
            "finding_info.last_seen_time": pa.array([h.last_ms for h in hits], pa.int64()),
            "finding_info.related_events_count": pa.array([len(h.evidence) for h in hits], pa.int32()),
            "finding_info.related_events": pa.array([[{"uid": u} for u in h.evidence] for h in hits], _RELATED),
            "finding_info.analytic.uid": pa.array([h.rule for h in hits], s),
            "finding_info.analytic.name": pa.array([f"{stage}/{h.rule}" for h in hits], s),
            "finding_info.analytic.type_id": pa.array([h.analytic_type_id for h in hits], pa.int32()),
            "finding_info.analytic.type": pa.array([_ANALYTIC_TYPES[h.analytic_type_id] for h in hits], s),
            "anomaly_analyses": pa.array(
                [[{"analysis_targets": h.targets, "baselines": [h.baseline], "anomalies": [h.anomaly]}] for h in hits],
                _ANALYSES,
            ),
            "unmapped": pa.array([msgspec.json.encode(h.details).decode() for h in hits], s),
        }
    )
    return to_batch("detection_finding", cols)
