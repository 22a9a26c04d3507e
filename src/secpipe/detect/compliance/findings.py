"""Rule matches -> OCSF Compliance Findings (2003), one per (control, matched event).

Input is a table of matches (``rule_id``, ``event_uid``, ``event_time`` ms, ``event_class``)
as the Sigma engine reports them. Columns are built with Arrow: per-rule values (control
id, title, standards, requirements, severity) are taken from a small per-rule array by
index, so the cost per match is a ``take``, not a Python object. The finding uid is
blake2b(control id, event uid): evaluating the same events in the stream and again over
the lake yields the same finding, which the lake stores once.

Fields: ``compliance.control`` (secpipe control id), ``compliance.desc`` (control title),
``compliance.category`` (pack), ``compliance.standards`` (framework titles),
``compliance.requirements`` ("CIS AWS 4.3", "PCI DSS 10.2.1.2", "HIPAA 164.312(b)", ...),
``compliance.status_id`` 3 Fail; ``finding_info`` names the rule (analytic, type Rule) and
lists the matched event in ``related_events``; ``message`` says which control the event
violates; ``unmapped`` keeps the event uid and class as JSON.
"""

from __future__ import annotations

import hashlib

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.compliance.catalog import Control
from secpipe.formats.base import base_columns, const, to_batch

KIND = "secpipe.compliance"
LEVELS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

MATCHES_SCHEMA = pa.schema(
    [("rule_id", pa.string()), ("event_uid", pa.string()), ("event_time", pa.int64()), ("event_class", pa.string())]
)


def finding_uids(control_ids: pa.Array, event_uids: pa.Array) -> list[str]:
    """blake2b-128 of (kind, control id, event uid) per row."""
    pre = KIND.encode() + b"\0"
    return [
        hashlib.blake2b(pre + c.encode() + b"\0" + (e or "").encode(), digest_size=16).hexdigest()
        for c, e in zip(control_ids.to_pylist(), event_uids.to_pylist(), strict=True)
    ]


def compliance_findings(controls: list[Control], matches: pa.Table, created_ms: int) -> pa.RecordBatch | None:
    """One compliance_finding row per match of a control's rule (None when nothing matched)."""
    pairs = [(r, c) for c in controls for r in c.rules]
    by_rule = {r.id: i for i, (r, _) in enumerate(pairs)}
    if matches.num_rows == 0:
        return None
    rule_ids = matches.column("rule_id").combine_chunks()
    idx = pc.index_in(rule_ids, value_set=pa.array(list(by_rule), pa.string()))
    keep = pc.is_valid(idx)
    if not pc.any(keep).as_py():
        return None
    matches = matches.filter(keep)
    idx = idx.filter(keep)
    n = matches.num_rows
    events = matches.column("event_uid").combine_chunks()
    times = matches.column("event_time").combine_chunks().cast(pa.int64())
    classes = matches.column("event_class").combine_chunks()
    s = pa.string()

    def per_rule(values: list, type_: pa.DataType) -> pa.Array:
        return pa.array(values, type_).take(idx)

    ids = per_rule([c.id for _, c in pairs], s)
    titles = per_rule([c.title for _, c in pairs], s)
    uids = finding_uids(ids, events)
    cols = base_columns(
        "compliance_finding",
        kind=KIND,
        product="secpipe",
        vendor="secpipe",
        uids=uids,
        times_ms=times,
        raws=None,
        activity_id=1,
        severity_id=per_rule([LEVELS.get(r.level, 3) for r, _ in pairs], pa.int32()),
    )
    message = pc.binary_join_element_wise(
        ids, pa.scalar(" violated: "), titles, pa.scalar(" — "), classes, pa.scalar(" event "), events, ""
    )
    enc = msgspec.json.encode
    unmapped = pa.array(
        [enc({"event_uid": e, "event_class": c}).decode() for e, c in zip(events.to_pylist(), classes.to_pylist(), strict=True)],
        s,
    )
    one = pa.array([1] * n, pa.int32()) if n else pa.array([], pa.int32())
    related = pa.ListArray.from_arrays(
        pa.array(range(0, n + 1), pa.int32()), pa.StructArray.from_arrays([events], names=["uid"])
    )
    cols.update(
        {
            "message": message,
            "status_id": one,
            "status": const("New", n),
            "compliance.control": ids,
            "compliance.desc": titles,
            "compliance.category": per_rule([c.pack for _, c in pairs], s),
            "compliance.standards": per_rule([c.standards() for _, c in pairs], pa.list_(s)),
            "compliance.requirements": per_rule([c.requirements() for _, c in pairs], pa.list_(s)),
            "compliance.status_id": const(3, n, pa.int32()),
            "compliance.status": const("Fail", n),
            "compliance.status_detail": message,
            "finding_info.uid": pa.array(uids, s),
            "finding_info.title": per_rule([r.title for r, _ in pairs], s),
            "finding_info.desc": per_rule([r.description for r, _ in pairs], s),
            "finding_info.types": const(["Compliance"], n, pa.list_(s)),
            "finding_info.created_time": const(created_ms, n, pa.int64()),
            "finding_info.first_seen_time": times,
            "finding_info.last_seen_time": times,
            "finding_info.related_events": related,
            "finding_info.related_events_count": one,
            "finding_info.analytic.uid": rule_ids.filter(keep),
            "finding_info.analytic.name": per_rule([r.title for r, _ in pairs], s),
            "finding_info.analytic.type_id": one,
            "finding_info.analytic.type": const("Rule", n),
            "unmapped": unmapped,
        }
    )
    return to_batch("compliance_finding", cols)
