"""Kubernetes audit events (``audit.k8s.io`` v1 and v1beta1 Event / EventList, or no apiVersion).

Accepted framings: one Event object, an EventList (``items``), a JSON array, NDJSON (the
audit log file backend) -- the webhook backend POSTs EventLists -- and the log backend's
``legacy`` format (one ``<time> AUDIT: id="..." ...`` line per event, apiserver
``audit.EventString``): its fields become the Event fields they were printed from (id
auditID, stage, ip sourceIPs[0], method verb, user/groups, as/asgroups impersonatedUser,
user-agent, namespace objectRef.namespace, uri requestURI, response responseStatus.code;
``<none>``/``<self>``/``<lookup>``/``<unknown>``/``<deferred>`` mean unset) and the line is
kept as ``legacy_line`` in unmapped. Each event -> API Activity
(6003). An EventList whose ``items`` is null holds no events (Go writes an empty list that
way) and yields none. A JSON object whose ``kind`` is neither Event nor EventList, or that
has none of auditID/verb/requestURI, is not an audit event and is dead-lettered.

Mapping: verb -> activity (create/post 1, get/list/watch/head/options 2, update/patch/put 3,
delete/deletecollection 4, other (bind, escalate, impersonate, approve ...) 99); user -> actor.user (username, uid, groups; ``user.extra`` stays in unmapped);
impersonatedUser stays in unmapped;
sourceIPs[0] -> src_endpoint.ip (the rest -> src_endpoint.intermediate_ips); objectRef ->
resources[0] (resource type, name, namespace, uid) and api.group/api.version; responseStatus
-> status (code >= 400 is Failure; without a code, its ``status`` "Success"/"Failure") with
code and message (the reason when there is no message; the Status' status/reason/details stay
in unmapped); the authorizer's audit annotations ``authorization.k8s.io/decision``
(allow/forbid) and ``authorization.k8s.io/reason`` -> ``authorizations[0]`` (decision
"allowed"/"denied", ``policy.desc`` the reason) and ``action_id`` Allowed/Denied;
requestReceivedTimestamp -> time
(stageTimestamp when absent), stageTimestamp -> end_time; auditID -> api.request.uid and
metadata.original_event_uid. annotations, objectRef, requestObject, responseObject, level,
stage stay in unmapped.
"""

from __future__ import annotations

import codecs
import re

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats._findings import paused_gc
from secpipe.formats.base import (
    Decoded,
    RecordFormat,
    Records,
    Strict,
    base_columns,
    decode_strict,
    event_uids,
    parse_times,
    strs,
    to_batch,
    unmapped_from,
)

_NONE = msgspec.Raw(b"")


class _User(msgspec.Struct, gc=False):
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None
    extra: msgspec.Raw = _NONE


class _ObjRef(msgspec.Struct, omit_defaults=True, gc=False):
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    apiGroup: str | None = None
    apiVersion: str | None = None
    subresource: str | None = None
    resourceVersion: str | None = None


class _Status(msgspec.Struct, gc=False):
    code: int | None = None
    message: str | None = None
    reason: str | None = None
    status: str | None = None
    details: msgspec.Raw = _NONE


class _Event(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every audit.k8s.io Event field (v1 and v1beta1): mapped ones typed, the rest raw."""

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
    level: msgspec.Raw = _NONE
    stage: msgspec.Raw = _NONE
    impersonatedUser: msgspec.Raw = _NONE
    annotations: msgspec.Raw = _NONE
    requestObject: msgspec.Raw = _NONE
    responseObject: msgspec.Raw = _NONE
    metadata: msgspec.Raw = _NONE


#: raw fields kept in ``unmapped``; objectRef is added re-encoded (it carries subresource and
#: resourceVersion, which the mapping does not place).
_UNMAPPED = ("level", "stage", "impersonatedUser", "annotations", "requestObject", "responseObject", "metadata")
_ENC = msgspec.json.Encoder()

#: resource verbs, plus the lowercased HTTP methods that are the verb of non-resource requests
#: (``/healthz``, ``/version``, ``/metrics``: post, put, head, options).
_VERB_ACTIVITY = {"create": 1, "get": 2, "list": 2, "watch": 2, "update": 3, "patch": 3, "delete": 4, "deletecollection": 4,
                  "post": 1, "put": 3, "head": 2, "options": 2}  # fmt: skip
_VERB_KEYS = pa.array(list(_VERB_ACTIVITY), pa.string())
_VERB_VALS = pa.array(list(_VERB_ACTIVITY.values()), pa.int32())

_GROUPS = pa.list_(pa.struct([("name", pa.string())]))
_RES = pa.list_(
    pa.struct([("type", pa.string()), ("name", pa.string()), ("namespace", pa.string()), ("uid", pa.string())])
)
_DECISION_RE = rb'"authorization\.k8s\.io/decision":"(?P<v>[^"]*)"'
_REASON_RE = rb'"authorization\.k8s\.io/reason":"(?P<v>(?:[^"\\]|\\.)*)"'
_DECISION_WORDS = pa.array(["allow", "forbid"], pa.string())
_DECISION_NAMES = pa.array(["allowed", "denied"], pa.string())
_QUOTED = msgspec.json.Decoder(str)


def _annotation(ann: pa.Array, pattern: bytes) -> pa.Array:
    """One string annotation's value (JSON-unescaped) out of raw annotation objects, columnar;
    escapes are decoded once per distinct escaped value."""
    col = pc.struct_field(pc.extract_regex(ann, pattern), "v").cast(pa.string())
    escaped = pc.fill_null(pc.match_substring(col, "\\"), False)
    if pc.any(escaped).as_py():
        dic = pc.dictionary_encode(pc.if_else(escaped, col, pa.scalar(None, pa.string())))
        plain = [None if v is None else _QUOTED.decode(('"' + v + '"').encode()) for v in dic.dictionary.to_pylist()]
        col = pc.if_else(escaped, pa.array(plain, pa.string()).take(dic.indices), col)
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _authorizations(evs: list[_Event]) -> tuple[pa.Array, pa.Array]:
    """(authorizations column, decision column) from the authorizer's audit annotations."""
    n = len(evs)
    ann = pa.array([bytes(e.annotations) for e in evs], pa.binary())
    word = _annotation(ann, _DECISION_RE)
    if word.null_count == n:
        return pa.nulls(n, pa.list_(pa.struct([("decision", pa.string())]))), word
    decision = pc.coalesce(_DECISION_NAMES.take(pc.index_in(word, value_set=_DECISION_WORDS)), word)
    entry = pa.StructArray.from_arrays(
        [decision, pa.StructArray.from_arrays([_annotation(ann, _REASON_RE)], names=["desc"])], names=["decision", "policy"]
    )
    col = pa.ListArray.from_arrays(pa.array(range(n + 1), pa.int32()), entry, mask=pc.is_null(decision))
    return col, decision


def _more(e: _Event) -> bytes | None:
    """Unmapped items the typed struct does not keep raw: objectRef, user.extra, the Status' rest."""
    items = []
    if e.objectRef:
        items.append(b'"objectRef":' + _ENC.encode(e.objectRef))
    if e.user is not None and e.user.extra:
        items.append(b'"user":{"extra":' + bytes(e.user.extra) + b"}")
    st = e.responseStatus
    if st is not None and (st.status or st.reason or st.details):
        items.append(b'"responseStatus":' + _ENC.encode(_StatusRest(st.status, st.reason, st.details)))
    return b",".join(items) if items else None


class _StatusRest(msgspec.Struct, omit_defaults=True, gc=False):
    status: str | None = None
    reason: str | None = None
    details: msgspec.Raw = _NONE


def _why_not(e: _Event) -> str | None:
    """Why a decoded object is not an audit event (None when it is one)."""
    if e.kind not in (None, "Event"):
        return f"not a Kubernetes audit event: kind {e.kind!r} is not an audit Event"
    if not (e.auditID or e.verb or e.requestURI):
        return "not a Kubernetes audit event: no auditID, verb or requestURI"
    return None



_LEGACY = re.compile(rb"^\s*(\d{4}-\d\d-\d\dT[^ ]+) AUDIT: (.*?)\s*$", re.S)
_LEGACY_KV = re.compile(rb'([\w-]+)="((?:[^"\\]|\\.)*)"')
_QUOTED_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"')
_UNSET = {"<none>", "<self>", "<lookup>", "<unknown>", "<deferred>"}


def _go_unquote(v: str) -> str:
    """The text of a Go ``%q`` string body (JSON-compatible escapes; ``\\xhh`` handled too)."""
    if "\\" not in v:
        return v
    try:
        return msgspec.json.decode(('"' + v + '"').encode(), type=str)
    except msgspec.DecodeError:  # Go-only escapes such as \x1b
        return codecs.decode(v.encode("latin-1", "backslashreplace"), "unicode_escape")


def _legacy_event(line: bytes) -> bytes | None:
    """A legacy-format audit line (``--audit-log-format=legacy``, apiserver ``audit.EventString``:
    ``<RFC3339Nano> AUDIT: id=".." stage=".." ip=".." method=".." user=".." groups=".." as=".."
    asgroups=".." user-agent=".." namespace=".." uri=".." response=".."``) as an Event object
    holding exactly those fields, plus the line itself as ``legacy_line``; None if not one."""
    m = _LEGACY.match(line)
    if m is None:
        return None
    try:
        text = line.decode()
        kv = {k.decode(): _go_unquote(v.decode()) for k, v in _LEGACY_KV.findall(m.group(2))}
    except (UnicodeDecodeError, ValueError):
        return None
    kv = {k: v for k, v in kv.items() if v not in _UNSET}
    if "id" not in kv:
        return None
    ev: dict[str, object] = {"auditID": kv["id"], "requestReceivedTimestamp": m.group(1).decode()}
    for key, field in (("stage", "stage"), ("method", "verb"), ("user-agent", "userAgent"), ("uri", "requestURI")):
        if key in kv:
            ev[field] = kv[key]
    if "ip" in kv:
        ev["sourceIPs"] = [kv["ip"]]
    for who, groups, field in (("user", "groups", "user"), ("as", "asgroups", "impersonatedUser")):
        if who in kv:
            ev[field] = {"username": kv[who]}
            if groups in kv:
                ev[field]["groups"] = [_go_unquote(g) for g in _QUOTED_ITEM.findall(kv[groups])]  # type: ignore[index]
    if "namespace" in kv:
        ev["objectRef"] = {"namespace": kv["namespace"]}
    if kv.get("response", "").isdigit():
        ev["responseStatus"] = {"code": int(kv["response"])}
    ev["legacy_line"] = text.strip()
    return msgspec.json.encode(ev)


def _take_legacy(records: Records) -> Records:
    """Records whose legacy-format lines (dead-lettered by the JSON splitter) become events."""
    dead = []
    for d in records.dead:
        ev = _legacy_event(d.raw) if d.raw[:4].isdigit() else None
        if ev is None:
            dead.append(d)
        else:
            records.raws.append(ev)
            records.locs.append((d.source, d.offset))
    records.dead = dead
    return records


class K8sAudit(RecordFormat):
    """Kubernetes API server audit events."""

    name = "k8s_audit"
    description = "Kubernetes audit Event/EventList (audit.k8s.io v1, v1beta1, no apiVersion) -> API Activity"
    framing = "lines"
    product = "Kubernetes"
    vendor = "Kubernetes"

    def sniff(self, head: bytes) -> int:
        """Recognize audit events by their characteristic keys."""
        if b"audit.k8s.io" in head[:4096] or _LEGACY.match(head.split(b"\n", 1)[0]):
            return 95
        keys = sum(k in head[:8192] for k in (b'"auditID"', b'"verb"', b'"requestURI"', b'"objectRef"', b'"stage"'))
        return 80 if keys >= 3 else 0

    envelope = "items"

    def map_records(self, records: Records) -> Decoded:
        """Map audit events to API Activity (the cyclic GC paused: no cycles are made, see
        :func:`~secpipe.formats._findings.paused_gc`)."""
        with paused_gc():
            return self._map(records)

    def _map(self, records: Records) -> Decoded:
        if records.dead and any(d.raw[:4].isdigit() for d in records.dead):
            records = _take_legacy(records)
        out = Decoded(dead=records.dead, events=records.events)
        if not records.raws:
            return out
        st = decode_strict(records.raws, records.locs, _Event, out, self.name, "a Kubernetes audit event")
        lists = [i for i, e in enumerate(st.recs) if e.kind == "EventList"]
        if lists:  # an EventList with ``items: null``: a list of no events
            out.events -= len(lists)
            st = st.take([i for i, e in enumerate(st.recs) if e.kind != "EventList"])
        st = st.reject([_why_not(e) for e in st.recs], out, self.name)
        if st.recs:
            out.batches.append(self._batch(st))
        return out

    def _batch(self, st: Strict) -> pa.RecordBatch:
        evs: list[_Event] = st.recs
        raws = st.raws
        users = [e.user or _User() for e in evs]
        refs = [e.objectRef or _ObjRef() for e in evs]
        stat = [e.responseStatus or _Status() for e in evs]
        verbs = strs([e.verb for e in evs])
        activity = pc.fill_null(_VERB_VALS.take(pc.index_in(verbs, value_set=_VERB_KEYS)), pa.scalar(99, pa.int32()))
        start = parse_times(strs([e.requestReceivedTimestamp for e in evs]))
        end = parse_times(strs([e.stageTimestamp for e in evs]))
        other = parse_times(strs([e.timestamp or e.p_event_time for e in evs]))
        codes = pa.array([s.code for s in stat], pa.int32())
        words = strs([s.status for s in stat])
        failed = pc.fill_null(pc.coalesce(pc.greater_equal(codes, 400), pc.equal(words, "Failure")), False)
        has_status = pc.or_(pc.is_valid(codes), pc.is_in(words, value_set=pa.array(["Success", "Failure"])))
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
        authz, decided = _authorizations(evs)
        allowed, denied = pc.equal(decided, "allowed"), pc.equal(decided, "denied")
        has_ref = [e.objectRef is not None for e in evs]
        cols.update(
            {
                "start_time": start,
                "end_time": end,
                "status_id": status_id,
                "status": pc.if_else(has_status, pc.if_else(failed, "Failure", "Success"), "Unknown"),
                "status_code": codes.cast(pa.string()),
                "status_detail": strs([s.message or s.reason for s in stat]),
                "metadata.original_event_uid": strs([e.auditID for e in evs]),
                "metadata.log_version": strs([e.apiVersion for e in evs]),
                "metadata.event_code": verbs,
                "actor.user.name": strs([u.username for u in users]),
                "actor.user.uid": strs([u.uid for u in users]),
                "actor.user.groups": pa.array([[{"name": g} for g in u.groups] if u.groups else None for u in users], _GROUPS),
                "src_endpoint.ip": strs([x[0] if x else None for x in ips]),
                "src_endpoint.intermediate_ips": pa.array([x[1:] or None for x in ips], pa.list_(pa.string())),
                "http_request.user_agent": strs([e.userAgent for e in evs]),
                "http_request.url.path": strs([e.requestURI for e in evs]),
                "api.operation": verbs,
                "api.service.name": strs(["kube-apiserver"] * len(evs)),
                "api.request.uid": strs([e.auditID for e in evs]),
                "api.group.name": strs([r.apiGroup for r in refs]),
                "api.version": strs([r.apiVersion for r in refs]),
                "resources": pa.array(
                    [
                        [{"type": r.resource, "name": r.name, "namespace": r.namespace, "uid": r.uid}] if h else None
                        for r, h in zip(refs, has_ref, strict=True)
                    ],
                    _RES,
                ),
                "authorizations": authz,
                "action_id": pc.fill_null(pc.if_else(allowed, pa.scalar(1, pa.int32()), pc.if_else(denied, pa.scalar(2, pa.int32()),
                                                                                                   pa.scalar(0, pa.int32()))), 0),
                "action": pc.fill_null(pc.if_else(allowed, "Allowed", pc.if_else(denied, "Denied", "Unknown")), "Unknown"),
                "unmapped": unmapped_from(st, _UNMAPPED, [_more(e) for e in evs]),
            }
        )
        return to_batch("api_activity", cols)
