"""Kubernetes Events (core ``v1`` and ``events.k8s.io/v1``) that reach the Kubernetes audit format.

What they are: the status reports cluster components write about objects (the kubelet's
``Pulling``/``BackOff``/``Killing``, the scheduler's ``FailedScheduling``, a controller's
``FailedCreate`` when admission forbids a pod): ``kubectl get events -o json`` (a ``List`` or
``EventList`` of them), the API's ``/api/v1/events``, and the exporters that ship them to a SIEM
one a line (kubernetes-event-exporter, Fluent Bit's ``kubernetes_events`` input; a watch stream's
``{"type": "ADDED", "object": {...}}`` is read as its object). They share the
kind ``Event`` with audit Events but hold none of auditID/verb/requestURI: the audit pass
dead-letters them as no audit event and :func:`rescue` takes them from there (the audit hot path
pays nothing).

Class: Base Event (0). An Event is a component's free-text report about an object, with a
machine reason and a type (Normal/Warning), not an action OCSF classes (the API calls that
changed the object are in the audit log): the same choice as GitLab's application log lines.
Mapping: ``message`` (``events.k8s.io``: ``note``) -> ``message``; ``reason`` -> ``metadata.event_code``
and ``status_detail``; ``type`` Warning -> severity Medium (3), else Informational (1); the
reporting component (``source.component``, ``reportingComponent``/``reportingController``,
``deprecatedSource.component``) -> ``actor.app_name``; the node (``source.host``,
``deprecatedSource.host``, else ``reportingInstance``) -> ``device.hostname``; ``count`` (``series.count``,
``deprecatedCount``) -> ``count``; first/last timestamps -> ``start_time``/``end_time``; ``metadata.uid``
-> ``metadata.original_event_uid``. Time: the last occurrence (``series.lastObservedTime``,
``lastTimestamp``/``deprecatedLastTimestamp``), else ``eventTime``, else the first, else the
object's ``creationTimestamp``. The object the Event is about (``involvedObject``, ``regarding``:
kind, namespace, name, uid, fieldPath) has no place in Base Event and stays in ``unmapped``
with the other keys.

Gatekeeper's violation Events (``--emit-audit-events``: reason ``AuditViolation``;
``--emit-admission-events``: ``FailedAdmission``, ``WarningAdmission``, ``DryrunViolation``) carry the
violation log line's fields as annotations (``constraint_kind``, ``resource_name``, ``event_type`` ...):
each is read as that line (:func:`_gatekeeper_line`) and mapped by :mod:`._gatekeeper` (an audit
violation a Compliance Finding, an admission one API Activity), as its log line would be.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _gatekeeper
from secpipe.formats.base import Decoded, base_columns, event_uids, parse_times, to_batch
from secpipe.formats.base import object_or_empty as _d
from secpipe.formats.base import text_or_none as _s

#: the audit pass's reason for an object of kind Event (or none) without auditID/verb/requestURI
_NOT_EVENT = "not a Kubernetes audit event: no auditID, verb or requestURI"
_S = pa.string()
_WATCH = frozenset({"ADDED", "MODIFIED", "DELETED"})
_ANY = msgspec.json.Decoder()
_ENC = msgspec.json.Encoder().encode
_MAPPED = frozenset({"message", "note", "reason", "type", "count", "deprecatedCount", "firstTimestamp",
                     "deprecatedFirstTimestamp", "lastTimestamp", "deprecatedLastTimestamp", "eventTime",
                     "reportingComponent", "reportingController", "reportingInstance"})  # fmt: skip


def _event(raw: bytes) -> dict[str, Any] | None:
    """The record as Python values when it is a Kubernetes Event (cheap byte test first)."""
    if b'"involvedObject"' not in raw and b'"regarding"' not in raw:
        return None
    try:
        doc = _ANY.decode(raw)
    except msgspec.DecodeError:
        return None
    # a "type" of another JSON type makes no watch event (a list or an object, not hashable, raised TypeError)
    if isinstance(doc, dict) and _s(doc.get("type")) in _WATCH and isinstance(doc.get("object"), dict):
        doc = doc["object"]  # a watch event (``--output-watch-events``, the API's watch stream)
    if not isinstance(doc, dict) or doc.get("kind", "Event") != "Event" or not isinstance(doc.get("reason"), str):
        return None
    return doc if isinstance(doc.get("involvedObject"), dict) or isinstance(doc.get("regarding"), dict) else None


def rescue(out: Decoded, fmt: str) -> Decoded:
    """Map the Kubernetes Events among ``out``'s "no audit event" dead letters; the others stay."""
    keep, docs, raws = [], [], []
    gk: tuple[list[bytes], list[tuple[str, int]]] = ([], [])
    for d in out.dead:
        doc = _event(d.raw) if d.reason == _NOT_EVENT else None
        if doc is None:
            keep.append(d)
        elif (line := _gatekeeper_line(doc)) is not None:
            gk[0].append(line)
            gk[1].append((d.source, d.offset))
        else:
            docs.append(doc)
            raws.append(d.raw)
    if docs or gk[0]:
        out.dead = keep
    if docs:
        out.batches.append(_batch(docs, raws, fmt))
    if gk[0]:
        _gatekeeper.decode(*gk, out, fmt)
    return out


def _gatekeeper_line(doc: dict[str, Any]) -> bytes | None:
    """A Gatekeeper violation Event (``--emit-audit-events``, ``--emit-admission-events``: its
    annotations are the violation log line's fields) as that line, else None: the constraint's
    message is the text after ``Message:``, the time the audit's ``auditTimestamp`` else the Event's."""
    ann = _d(_d(doc.get("metadata")).get("annotations"))
    if not isinstance(ann.get("constraint_kind"), str) or not isinstance(ann.get("event_type"), str):
        return None
    text = _s(doc.get("message")) or ""
    line: dict[str, str | None] = {k: v for k, v in ann.items() if isinstance(v, str)}
    line["msg"] = text.partition(", Message: ")[2] or text or None
    line["ts"] = ann.get("auditTimestamp") or _s(doc.get("lastTimestamp")) or _s(doc.get("eventTime")) or _s(
        _d(doc.get("metadata")).get("creationTimestamp"))  # fmt: skip
    return _ENC(line)


def _int(value: Any) -> int | None:
    """A count (OCSF ``count`` is an integer): none when it is no JSON integer or past int32."""
    return value if type(value) is int and -(2**31) <= value < 2**31 else None


def _batch(docs: list[dict[str, Any]], raws: list[bytes], fmt: str) -> pa.RecordBatch:
    src = [_d(d.get("source")) or _d(d.get("deprecatedSource")) for d in docs]
    series = [_d(d.get("series")) for d in docs]
    first = [_s(d.get("firstTimestamp")) or _s(d.get("deprecatedFirstTimestamp")) for d in docs]
    last = [_s(d.get("lastTimestamp")) or _s(d.get("deprecatedLastTimestamp")) for d in docs]
    times = [_s(s.get("lastObservedTime")) or la or _s(d.get("eventTime")) or fi
             or _s(_d(d.get("metadata")).get("creationTimestamp"))
             for d, s, fi, la in zip(docs, series, first, last, strict=True)]  # fmt: skip
    reasons = [_s(d.get("reason")) for d in docs]
    base = base_columns(
        "base_event", kind=fmt, product="Kubernetes", vendor="Kubernetes", uids=event_uids(fmt, raws),
        times_ms=parse_times(pa.array(times, _S)), raws=raws, activity_id=pa.array([0] * len(docs), pa.int32()),
        severity_id=pa.array([3 if d.get("type") == "Warning" else 1 for d in docs], pa.int32()),
    )  # fmt: skip
    cols: dict[str, pa.Array] = {
        "message": pa.array([_s(d.get("message")) or _s(d.get("note")) for d in docs], _S),
        "metadata.event_code": pa.array(reasons, _S),
        "status_detail": pa.array(reasons, _S),
        "metadata.original_event_uid": pa.array([_s(_d(d.get("metadata")).get("uid")) for d in docs], _S),
        "actor.app_name": pa.array([_s(s.get("component")) or _s(d.get("reportingComponent"))
                                    or _s(d.get("reportingController")) for d, s in zip(docs, src, strict=True)], _S),  # fmt: skip
        "device.hostname": pa.array([_s(s.get("host")) or _s(d.get("reportingInstance"))
                                     for d, s in zip(docs, src, strict=True)], _S),  # fmt: skip
        "count": pa.array([_int(s.get("count")) or _int(d.get("count")) or _int(d.get("deprecatedCount"))
                           for d, s in zip(docs, series, strict=True)], pa.int32()),  # fmt: skip
        "start_time": parse_times(pa.array(first, _S)),
        "end_time": parse_times(pa.array(last, _S)),
    }
    base.update({k: v for k, v in cols.items() if v.null_count < len(v)})
    rest = [{k: v for k, v in d.items() if k not in _MAPPED} for d in docs]  # (a watch event's: its object's)
    base["unmapped"] = pa.array([_ENC(r) if r else None for r in rest], pa.binary()).cast(_S)
    return to_batch("base_event", base)
