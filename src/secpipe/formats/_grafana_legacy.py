"""Grafana's legacy alerting webhook (dashboard alerts, Grafana up to 10; removed in 11): one
notification a POST, ``{title, ruleId, ruleName, ruleUrl, state, evalMatches, orgId, dashboardId,
panelId, tags, message, imageUrl}`` (``pkg/services/alerting/notifiers/webhook.go``; Grafana's
``alerting/notifications.md`` prints the example). Read by the ``alertmanager`` format, beside
Grafana Alerting's Alertmanager-shaped payload.

Each notification -> one Detection Finding (2004): ``ruleName`` is the Rule (``finding_info.analytic``
name, ``ruleId`` its uid) and the title, ``message`` the description and message, ``ruleUrl`` the
source URL, ``tags`` the finding's tags (their ``severity``, if any, the severity in the shared
words; otherwise Unknown, as an Alertmanager alert without one). ``state`` (``alerting``, ``ok``,
``pending``, ``no_data``, ``paused``) is ``status_detail``: ``ok`` is Resolved with activity
Close, ``paused`` Other (the rule was switched off), the others New with activity Create, as a
firing alert. ``finding_info.uid`` is ``<orgId>/<ruleId>`` (the alert rule: each state change of
it is a new notification of the same finding). The payload carries no time: the receipt time is
taken and labelled so. ``title`` (``[Alerting] <ruleName>``), ``evalMatches`` (the values that
tripped it), the dashboard and panel ids and ``imageUrl`` stay in ``unmapped``. Input: one payload,
a JSON array of them or one a line (a receiver's log); an entry of another shape is dead-lettered.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import S, kv_list, severity_list, strs
from secpipe.formats.base import (
    Decoded,
    Format,
    base_columns,
    decode_strict,
    event_uids,
    split_json_records,
    to_batch,
    unmapped_from,
)


class _Notification(msgspec.Struct, gc=False):
    ruleName: str | None = None
    ruleId: int | str | None = None
    ruleUrl: str | None = None
    state: str | None = None
    message: str | None = None
    orgId: int | str | None = None
    tags: dict[str, Any] | None = None
    title: msgspec.Raw = msgspec.Raw(b"")
    evalMatches: msgspec.Raw = msgspec.Raw(b"")
    dashboardId: msgspec.Raw = msgspec.Raw(b"")
    panelId: msgspec.Raw = msgspec.Raw(b"")
    imageUrl: msgspec.Raw = msgspec.Raw(b"")


_UNMAPPED = ("title", "evalMatches", "dashboardId", "panelId", "imageUrl")
#: the keys of a legacy notification and of no Alertmanager-shaped payload
_KEYS = (b'"ruleName"', b'"evalMatches"', b'"state"')
_WHAT = "a Grafana legacy alert notification"


def looks_legacy(head: bytes) -> bool:
    """Whether ``head`` opens legacy alerting webhook payloads (their own keys, no ``alerts``)."""
    h = head[:8192]
    return all(k in h for k in _KEYS) and b'"alerts"' not in h


def decode_legacy(fmt: Format, data: bytes, source: str) -> Decoded:
    """Map legacy notifications (see module docstring)."""
    raws, offsets, dead = split_json_records(data, source, fmt.name)
    out = Decoded(dead=dead, events=len(raws) + len(dead))
    st = decode_strict(raws, [(source, o) for o in offsets], _Notification, out, fmt.name, _WHAT)
    st = st.reject([None if n.ruleName and n.state else f"not {_WHAT}: no `ruleName` and `state`" for n in st.recs],
                   out, fmt.name)  # fmt: skip
    if st.recs:
        out.batches.append(_batch(fmt, st.recs, st.raws, unmapped_from(st, _UNMAPPED)))
    return out


def _batch(fmt: Format, ns: list[_Notification], raws: list[bytes], unmapped: pa.Array) -> pa.RecordBatch:
    cls = "detection_finding"
    n = len(ns)
    states = [(x.state or "").lower() for x in ns]
    tags = [x.tags or {} for x in ns]
    rule = strs([x.ruleName for x in ns])
    rule_id = strs([None if x.ruleId is None else str(x.ruleId) for x in ns])
    cols = base_columns(
        cls, kind=fmt.name, product="Grafana", vendor="Grafana Labs", uids=event_uids(fmt.name, raws),
        times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=pa.array([_ACTIVITY.get(s, 1) for s in states], pa.int32()),
        severity_id=pa.array(severity_list([None if (v := t.get("severity")) is None else str(v) for t in tags]), pa.int32()),
    )  # fmt: skip
    status = [_STATUS.get(s, 1) for s in states]
    cols.update({
        "status_id": pa.array(status, pa.int32()),
        "status": strs([_STATUS_NAME[s] for s in status]),
        "status_detail": strs([x.state for x in ns]),
        "message": strs([x.message or x.ruleName for x in ns]),
        "finding_info.uid": strs([f"{x.orgId if x.orgId is not None else ''}/{x.ruleId}" if x.ruleId is not None
                                  else None for x in ns]),  # fmt: skip
        "finding_info.title": rule,
        "finding_info.desc": strs([x.message or None for x in ns]),
        "finding_info.src_url": strs([x.ruleUrl or None for x in ns]),
        "finding_info.tags": kv_list(tags),
        "finding_info.analytic.name": rule,
        "finding_info.analytic.uid": rule_id,
        "finding_info.analytic.type_id": pa.array([1] * n, pa.int32()),
        "finding_info.analytic.type": pa.array(["Rule"] * n, S),
        "unmapped": unmapped,
    })  # fmt: skip
    cols["finding_info.uid"] = pa.array([u or m for u, m in zip(cols["finding_info.uid"].to_pylist(),
                                                                 cols["metadata.uid"].to_pylist(), strict=True)], S)
    return to_batch(cls, cols)


_ACTIVITY = {"ok": 3, "paused": 99}
_STATUS = {"ok": 4, "paused": 99}
_STATUS_NAME = {1: "New", 4: "Resolved", 99: "Other"}
