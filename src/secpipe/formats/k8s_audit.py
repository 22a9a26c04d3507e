"""Kubernetes audit events (``audit.k8s.io`` v1 and v1beta1 Event / EventList, or no apiVersion).

Accepted framings: one Event object, an EventList (``items``), a JSON array, NDJSON (the
audit log file backend) -- the webhook backend POSTs EventLists. Each event -> API Activity
(6003). A JSON object whose ``kind`` is neither Event nor EventList, or that has none of
auditID/verb/requestURI, is not an audit event and is dead-lettered.

Mapping: verb -> activity (create 1, get/list/watch 2, update/patch 3, delete/deletecollection 4,
other 99); user -> actor.user (username, uid, groups); impersonatedUser stays in unmapped;
sourceIPs[0] -> src_endpoint.ip (the rest -> src_endpoint.intermediate_ips); objectRef ->
resources[0] (resource type, name, namespace, uid) and api.group/api.version; responseStatus
-> status (code >= 400 is Failure) with code and message; requestReceivedTimestamp -> time
(stageTimestamp when absent), stageTimestamp -> end_time; auditID -> api.request.uid and
metadata.original_event_uid. annotations, objectRef, requestObject, responseObject, level,
stage stay in unmapped.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    base_columns,
    decode_typed,
    event_uids,
    parse_times,
    to_batch,
    unmapped_json,
)


class _User(msgspec.Struct):
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None


class _ObjRef(msgspec.Struct):
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    apiGroup: str | None = None
    apiVersion: str | None = None
    subresource: str | None = None


class _Status(msgspec.Struct):
    code: int | None = None
    message: str | None = None
    reason: str | None = None
    status: str | None = None


class _Event(msgspec.Struct):
    kind: str | None = None
    apiVersion: str | None = None
    auditID: str | None = None
    verb: str | None = None
    requestURI: str | None = None
    user: _User | None = None
    sourceIPs: list[str] | None = None
    userAgent: str | None = None
    objectRef: _ObjRef | None = None
    responseStatus: _Status | None = None
    requestReceivedTimestamp: str | None = None
    stageTimestamp: str | None = None
    timestamp: str | None = None
    p_event_time: str | None = None


_MAPPED = frozenset(
    {"kind", "apiVersion", "auditID", "verb", "requestURI", "user", "sourceIPs", "userAgent",
     "responseStatus", "requestReceivedTimestamp", "stageTimestamp"}
)  # fmt: skip

_VERB_ACTIVITY = {"create": 1, "get": 2, "list": 2, "watch": 2, "update": 3, "patch": 3, "delete": 4, "deletecollection": 4}
_VERB_KEYS = pa.array(list(_VERB_ACTIVITY), pa.string())
_VERB_VALS = pa.array(list(_VERB_ACTIVITY.values()), pa.int32())

_GROUPS = pa.list_(pa.struct([("name", pa.string())]))
_RES = pa.list_(
    pa.struct([("type", pa.string()), ("name", pa.string()), ("namespace", pa.string()), ("uid", pa.string())])
)


def _s(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.string())


class K8sAudit(RecordFormat):
    """Kubernetes API server audit events."""

    name = "k8s_audit"
    description = "Kubernetes audit Event/EventList (audit.k8s.io v1, v1beta1, no apiVersion) -> API Activity"
    framing = "lines"
    product = "Kubernetes"
    vendor = "Kubernetes"

    def sniff(self, head: bytes) -> int:
        """Recognize audit events by their characteristic keys."""
        if b"audit.k8s.io" in head[:4096]:
            return 95
        keys = sum(k in head[:8192] for k in (b'"auditID"', b'"verb"', b'"requestURI"', b'"objectRef"', b'"stage"'))
        return 80 if keys >= 3 else 0

    envelope = "items"

    def map_records(self, records: Records) -> Decoded:
        """Map audit events to API Activity."""
        out = Decoded(dead=records.dead, events=records.events)
        if not records.raws:
            return out
        typed = decode_typed(records.raws, records.locs, _Event, out, "", self.name, "a Kubernetes audit event")
        keep = [
            i
            for i, e in enumerate(typed.recs)
            if e.kind in (None, "Event") and (e.auditID or e.verb or e.requestURI)
        ]
        if len(keep) != len(typed.recs):
            ks = set(keep)
            for i, e in enumerate(typed.recs):
                if i not in ks:
                    why = f"kind {e.kind!r} is not an audit Event" if e.kind not in (None, "Event") else "no auditID, verb or requestURI"
                    out.dead.append(DeadLetter(f"not a Kubernetes audit event: {why}", *typed.locs[i], typed.raws[i], self.name))
        if keep:
            out.batches.append(
                self._batch([typed.recs[i] for i in keep], [typed.tops[i] for i in keep], [typed.raws[i] for i in keep])
            )
        return out

    def _batch(self, evs: list[_Event], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        users = [e.user or _User() for e in evs]
        refs = [e.objectRef or _ObjRef() for e in evs]
        stat = [e.responseStatus or _Status() for e in evs]
        verbs = _s([e.verb for e in evs])
        activity = pc.fill_null(_VERB_VALS.take(pc.index_in(verbs, value_set=_VERB_KEYS)), pa.scalar(99, pa.int32()))
        start = parse_times(_s([e.requestReceivedTimestamp for e in evs]))
        end = parse_times(_s([e.stageTimestamp for e in evs]))
        other = parse_times(_s([e.timestamp or e.p_event_time for e in evs]))
        codes = pa.array([s.code for s in stat], pa.int32())
        failed = pc.fill_null(pc.greater_equal(codes, 400), False)
        has_status = pc.is_valid(codes)
        status_id = pc.if_else(has_status, pc.if_else(failed, pa.scalar(2, pa.int32()), pa.scalar(1, pa.int32())), pa.scalar(0, pa.int32()))
        cols = base_columns(
            "api_activity",
            kind=self.name,
            product=self.product,
            vendor=self.vendor,
            uids=event_uids(self.name, raws),
            times_ms=pc.coalesce(start, end, other),
            raws=raws,
            activity_id=activity,
            severity_id=1,
        )
        ips = [e.sourceIPs or [] for e in evs]
        has_ref = [e.objectRef is not None for e in evs]
        cols.update(
            {
                "start_time": start,
                "end_time": end,
                "status_id": status_id,
                "status": pc.if_else(has_status, pc.if_else(failed, "Failure", "Success"), "Unknown"),
                "status_code": codes.cast(pa.string()),
                "status_detail": _s([s.message or s.reason for s in stat]),
                "metadata.original_event_uid": _s([e.auditID for e in evs]),
                "metadata.log_version": _s([e.apiVersion for e in evs]),
                "metadata.event_code": verbs,
                "actor.user.name": _s([u.username for u in users]),
                "actor.user.uid": _s([u.uid for u in users]),
                "actor.user.groups": pa.array([[{"name": g} for g in u.groups] if u.groups else None for u in users], _GROUPS),
                "src_endpoint.ip": _s([x[0] if x else None for x in ips]),
                "src_endpoint.intermediate_ips": pa.array([x[1:] or None for x in ips], pa.list_(pa.string())),
                "http_request.user_agent": _s([e.userAgent for e in evs]),
                "http_request.url.path": _s([e.requestURI for e in evs]),
                "api.operation": verbs,
                "api.service.name": _s(["kube-apiserver"] * len(evs)),
                "api.request.uid": _s([e.auditID for e in evs]),
                "api.group.name": _s([r.apiGroup for r in refs]),
                "api.version": _s([r.apiVersion for r in refs]),
                "resources": pa.array(
                    [
                        [{"type": r.resource, "name": r.name, "namespace": r.namespace, "uid": r.uid}] if h else None
                        for r, h in zip(refs, has_ref, strict=True)
                    ],
                    _RES,
                ),
                "unmapped": unmapped_json(tops, _MAPPED),
            }
        )
        return to_batch("api_activity", cols)
