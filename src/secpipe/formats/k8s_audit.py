"""Kubernetes audit events (``audit.k8s.io`` v1 and v1beta1 Event / EventList, or no apiVersion).

Accepted framings: one Event object, an EventList (``items``), a JSON array, NDJSON (the
audit log file backend) -- the webhook backend POSTs EventLists, which a receiver may log one
a line (each mapped as its events) -- and the log backend's
``legacy`` format (one ``<time> AUDIT: id="..." ...`` line per event, apiserver
``audit.EventString``): its fields become the Event fields they were printed from (id
auditID, stage, ip sourceIPs[0], method verb, user/groups, as/asgroups impersonatedUser,
user-agent, namespace objectRef.namespace, uri requestURI (``http_request.url.path`` and,
after ``?``, ``query_string``), response responseStatus.code;
``<none>``/``<self>``/``<lookup>``/``<unknown>``/``<deferred>`` mean unset) and the line is
kept as ``legacy_line`` in unmapped. Each event -> API Activity
(6003). An EventList whose ``items`` is null holds no events (Go writes an empty list that
way) and yields none. A JSON object whose ``kind`` is neither Event nor EventList, or that
has none of auditID/verb/requestURI, is not an audit event and is dead-lettered.

OpenShift's OAuth server writes its logins to its own audit log (``oauth-server/audit.log``) as
Events of an anonymous request annotated ``authentication.openshift.io/username`` (who tried) and
``authentication.openshift.io/decision`` (``allow``, ``deny``, ``error``): such an event is
Authentication (3002) Logon of that user, status Success for allow and Failure otherwise (the
word as ``status_detail``), with the client address, user agent and login URI, service
``oauth-server`` (:func:`_oauth_logins`; both paths feed it, after the split of the batch).

Managed clusters' audit records as their cloud delivers them -- AKS ``kube-audit`` Azure
Monitor records (the Event in ``properties.log`` is unwrapped), GKE's Google Cloud Audit Logs
entries, and the other Azure Monitor / Cloud Audit Logs records that share such a stream -- are
mapped by :mod:`secpipe.formats._cloud_audit` (after this format's own pass, from the records it
found to be no Event, so the Kubernetes path pays nothing).
Kubernetes (core ``v1`` and ``events.k8s.io/v1``) Events -- the components' reports about
objects, which share the kind ``Event`` but are no audit record (``kubectl get events -o json``,
event exporters) -- are Base Events mapped by :mod:`secpipe.formats._k8s_events`, from the records
this pass found to be no audit Event, as the cloud records are.
EKS audit logs delivered by a CloudWatch Logs subscription (``logEvents`` envelopes, directly
or as Firehose/Lambda write them), pulled through its API (``filter-log-events`` ...) or exported
to S3 (``<timestamp> <message>`` lines) are unwrapped first: each log event's ``message`` is an
Event (:mod:`secpipe.formats._cwlogs`).

Mapping: verb -> activity (create/post 1, get/list/watch/head/options 2, update/patch/put 3,
delete/deletecollection 4, other (bind, escalate, impersonate, approve ...) 99; a ``get`` of ``pods/exec``,
``pods/attach`` or ``pods/portforward``, kubectl 1.30+'s WebSocket stream, 1 as their ``create``); user -> actor.user (username, uid, groups; ``user.extra`` stays in unmapped);
impersonatedUser stays in unmapped;
sourceIPs[0] -> src_endpoint.ip (the rest -> src_endpoint.intermediate_ips); objectRef ->
resources[0] (resource type, ``resource/subresource`` for a subresource such as ``pods/exec``, name,
namespace, uid; a create names no object in objectRef, so
its name and uid are the created object's, ``responseObject.metadata``, as Falco's
``ka.resp.name``) and api.group/api.version; responseStatus
-> status (code >= 400 is Failure; without a code, its ``status`` "Success"/"Failure") with
code and message (the reason when there is no message; the Status' status/reason/details stay
in unmapped); the authorizer's audit annotations ``authorization.k8s.io/decision``
(allow/forbid) and ``authorization.k8s.io/reason`` -> ``authorizations[0]`` (decision
"allowed"/"denied", ``policy.desc`` the reason, ``policy.name`` the RBAC binding it names) and
``action_id`` Allowed/Denied;
requestReceivedTimestamp -> time
(stageTimestamp when absent), stageTimestamp -> end_time; auditID -> api.request.uid and
metadata.original_event_uid. annotations, objectRef, requestObject, responseObject, level,
stage stay in unmapped.

Two paths feed one builder (:func:`_ocsf`, field columns keyed by Event path -> OCSF batch),
so the mapping exists once. Native (:func:`_native`, when the Rust extension is built): the
batch is walked in Rust straight into Arrow columns, and ``unmapped`` is assembled from the
raw field texts with Arrow string kernels (one concatenation, each value copied once). A
second, cheaper walk takes user/objectRef/responseStatus as raw text: it declines a record
where one of them is duplicated (msgspec keeps the last; the column walk would merge both)
and tells an empty objectRef (a resource) from an absent one. msgspec (:func:`_batch`): the
fallback for a batch with an irregular record (wrong type, duplicate or escaped extra key,
...) and where the extension is absent; it dead-letters exactly the bad records. Guarantee:
both give identical batches and dead letters (tests/unit/test_k8s_audit_native.py, over the
real samples and mutated records).
"""

from __future__ import annotations

import codecs
import itertools
import re
from typing import Annotated

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import json_object
from secpipe.formats import _cloud_audit, _cwlogs, _fast, _k8s_events, _pubsub
from secpipe.formats._findings import paused_gc
from secpipe.formats.base import (
    SMALL_ROWS,
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    parse_times,
    strs,
    to_batch,
    uid_prefix,
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


#: an int64 (msgspec alone would take a uint64): a code out of range is dead-lettered, not a crash
_Code = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Status(msgspec.Struct, gc=False):
    code: _Code | None = None
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
_DECISION_RE = rb'"authorization\.k8s\.io/decision":"(?P<v>(?:[^"\\]|\\.)*)"'
_REASON_RE = rb'"authorization\.k8s\.io/reason":"(?P<v>(?:[^"\\]|\\.)*)"'
_BINDING_RE = r'^RBAC: allowed by (?:Cluster)?RoleBinding "?(?P<v>[^" ]+)"?'
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


def _authorizations(annotations: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(authorizations column, decision column) from the authorizer's audit annotations (raw JSON objects)."""
    n = len(annotations)
    ann = annotations.cast(pa.binary())
    word = _annotation(ann, _DECISION_RE)
    if word.null_count == n:
        return pa.nulls(n, pa.list_(pa.struct([("decision", pa.string())]))), word
    decision = pc.coalesce(_DECISION_NAMES.take(pc.index_in(word, value_set=_DECISION_WORDS)), word)
    reason = _annotation(ann, _REASON_RE)
    # RBAC names the binding that allowed the request: the policy's name (OCSF needs a name or uid)
    binding = pc.struct_field(pc.extract_regex(reason, _BINDING_RE), "v")
    entry = pa.StructArray.from_arrays(
        [decision, pa.StructArray.from_arrays([binding, reason], names=["name", "desc"])], names=["decision", "policy"]
    )
    col = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), entry, mask=pc.is_null(decision))
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
    return _not_event(e.kind, bool(e.auditID or e.verb or e.requestURI))


def _not_event(kind: str | None, has_id: bool) -> str | None:
    """Why an object of this kind, with or without any of auditID/verb/requestURI, is not an audit event."""
    if kind not in (None, "Event"):
        return f"not a Kubernetes audit event: kind {kind!r} is not an audit Event"
    if not has_id:
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


_KEYS: tuple[bytes, ...] = (b'"requestURI"', b'"auditID"', b'"objectRef"', b'"stage"', b'"verb"')
_ESCAPED_KEYS = tuple(b'\\"' + k[1:-1] + b'\\"' for k in _KEYS)
#: an Event's own ``apiVersion`` (a JSON key, not the escaped text of one in a string: a shipper's
#: document holding an audit log line in its ``message`` is no audit event)
_API_VERSION = re.compile(rb'"apiVersion"\s*:\s*"audit\.k8s\.io/')
#: CloudWatch Logs log events with only their timestamp and message (a ``--query`` projection, a log
#: group's events saved one a line: :mod:`~secpipe.formats._cwlogs`), the first of them whole
_PROJECTED = re.compile(rb'\s*\[?\s*\{\s*(?:"timestamp"\s*:\s*\d+\s*,\s*"message"\s*:\s*"(?:[^"\\]++|\\.)*+"'
                        rb'|"message"\s*:\s*"(?:[^"\\]++|\\.)*+"\s*,\s*"timestamp"\s*:\s*\d+)\s*\}')


def _own_api_version(head: bytes) -> bool:
    """Whether the first 4 KiB of ``head`` hold an Event's own ``apiVersion`` (:data:`_API_VERSION`
    not preceded by a backslash); a byte search first, the pattern only where it may match."""
    if head.find(b"audit.k8s.io", 0, 4096) < 0:
        return False
    return any(m.start() == 0 or head[m.start() - 1] != 0x5C for m in _API_VERSION.finditer(head, 0, 4096))


def _in_log_events(h: bytes, head: bytes) -> bool:
    """Whether ``head`` (``h``: its first 8 KiB) holds CloudWatch Logs log events (the API's, a
    subscription's envelope, their projection, or a Logs Insights answer's ``@message`` fields),
    whose messages are audit Events as JSON text."""
    return (_PROJECTED.match(head) is not None or b'"logEvents"' in h or b'"ingestionTime"' in h  # (anchored: ~0.3 us)
            or b'"results"' in h and b'"field"' in h and b'"@message"' in h)


class K8sAudit(RecordFormat):
    """Kubernetes API server audit events."""

    name = "k8s_audit"
    description = ("Kubernetes audit Event/EventList (audit.k8s.io v1, v1beta1, no apiVersion) -> API Activity; "
                   "Kubernetes (core) Events -> Base Event")
    framing = "lines"
    product = "Kubernetes"
    vendor = "Kubernetes"

    def sniff(self, head: bytes) -> int:
        """Recognize audit events by their characteristic keys."""
        nl = head.find(b"\n")  # the legacy log's first line, matched in place (no copy of the head)
        if _own_api_version(head) or _LEGACY.match(head, 0, nl if nl >= 0 else len(head)):
            return 95
        h, found = head[:8192], 0
        in_log_events = _in_log_events(h, head)
        if in_log_events and head.find(b"audit.k8s.io", 0, 4096) >= 0:
            return 95
        if b'"protoPayload"' in h and b'"k8s.io"' in h or b'"kube-audit' in h and b'"properties"' in h:
            return 80  # GKE's Cloud Audit Logs, AKS's Azure Monitor records (see _cloud_audit)
        if b'"reason"' in h and (b'"involvedObject"' in h or b'"regarding"' in h and b'"note"' in h):
            return 80  # Kubernetes (core) Events: kubectl get events -o json, event exporters (see _k8s_events)
        if (b'"protoPayload"' in h and b'google.cloud.audit.AuditLog"' in h
                or b'"operationName"' in h and (b'"resourceId"' in h and b'"category"' in h or b'"eventDataId"' in h)
                or b'"createdDateTime"' in h and b'"userPrincipalName"' in h and b'"appId"' in h
                or b'"activityDateTime"' in h and b'"initiatedBy"' in h and b'"targetResources"' in h):
            return 80  # other services' Cloud Audit Logs, Azure Monitor records, Entra ID logs: _cloud_audit reads them
        if (data := _pubsub.data_head(head)) is not None:  # a Pub/Sub message: what its data holds (a LogEntry)
            return 80 if self.sniff(data) else 0
        keys = _ESCAPED_KEYS if in_log_events else _KEYS  # log events: the Event's keys escaped (``\\"auditID\\"``)
        for i, k in enumerate(keys):
            found += k in h
            if found >= 3:
                return 80
            if found + 4 - i < 3:  # the keys left cannot make three
                return 0
        return 0

    envelope = "items"

    def map_records(self, records: Records) -> Decoded:
        """Map audit events to API Activity (the cyclic GC paused: no cycles are made, see
        :func:`~secpipe.formats._findings.paused_gc`)."""
        with paused_gc():
            out = self._map(_cwlogs.unwrap(records, self.name))
            if not out.dead:
                return out
            # records that are no audit Event may be one wrapped by a cloud (AKS, GKE): _cloud_audit, also
            # in a Pub/Sub message (a log sink's push subscription: _pubsub); or a Kubernetes (core) Event, a
            # component's report about an object: _k8s_events
            out = _pubsub.rescue(out, self.map_records, self.name, _cloud_audit.NOT_EVENT)
            return _k8s_events.rescue(_cloud_audit.rescue(out, self._map, self.name), self.name)

    def _map(self, records: Records) -> Decoded:
        if records.dead and any(d.raw[:4].isdigit() for d in records.dead):
            records = _take_legacy(_cwlogs.take_exported(records, self.name))
        out = Decoded(dead=records.dead, events=records.events)
        if not records.raws or _native(records, out, self):
            return out
        st = decode_strict(records.raws, records.locs, _Event, out, self.name, "a Kubernetes audit event")
        lists = [i for i, e in enumerate(st.recs) if e.kind == "EventList"]
        if lists:  # EventLists one a line: mapped as their events; one whose items is null holds none
            opened = self.open_envelopes([st.raws[i] for i in lists], [st.locs[i] for i in lists], out)
            out.events -= opened.count(False)
            st = st.take([i for i, e in enumerate(st.recs) if e.kind != "EventList"])
        st = st.reject([_why_not(e) for e in st.recs], out, self.name)
        if st.recs:
            out.batches.extend(_batch(st))
        return out


# ---------------------------------------------------------------------------------------
# Field columns (native walker or msgspec structs) -> one OCSF builder
# ---------------------------------------------------------------------------------------

#: string fields of _Event / _User / _ObjRef / _Status read as columns by both paths.
_TOP_STRS = ("kind", "apiVersion", "auditID", "verb", "requestURI", "userAgent", "requestReceivedTimestamp",
             "stageTimestamp", "timestamp", "p_event_time")  # fmt: skip
_REF_FIELDS = tuple(f.name for f in msgspec.structs.fields(_ObjRef))
_STATUS_STRS = ("message", "reason", "status")
_STR_LIST = pa.list_(pa.string())
_NULL = pa.scalar(None, pa.string())


def _batch(st: Strict) -> list[pa.RecordBatch]:
    """The msgspec path: field columns from the typed records, then :func:`_ocsf`."""
    evs: list[_Event] = st.recs
    users = [e.user or _User() for e in evs]
    refs = [e.objectRef or _ObjRef() for e in evs]
    stat = [e.responseStatus or _Status() for e in evs]
    f = {k: strs([getattr(e, k) for e in evs]) for k in _TOP_STRS}
    f["user.username"] = strs([u.username for u in users])
    f["user.uid"] = strs([u.uid for u in users])
    f["user.groups"] = pa.array([u.groups for u in users], _STR_LIST)
    f["sourceIPs"] = pa.array([e.sourceIPs for e in evs], _STR_LIST)
    for k in _REF_FIELDS:
        f[f"objectRef.{k}"] = strs([getattr(r, k) for r in refs])
    f["objectRef"] = pa.array([e.objectRef is not None for e in evs], pa.bool_())
    f["responseStatus.code"] = pa.array([s.code for s in stat], pa.int64())
    for k in _STATUS_STRS:
        f[f"responseStatus.{k}"] = strs([getattr(s, k) for s in stat])
    f["annotations"] = pa.array([bytes(e.annotations) or None for e in evs], pa.binary()).cast(pa.string())
    f["responseObject"] = pa.array([bytes(e.responseObject) or None for e in evs], pa.binary()).cast(pa.string())
    f["unmapped"] = unmapped_from(st, _UNMAPPED, [_more(e) for e in evs])
    return _ocsf(f, st.raws)


def _nonempty(col: pa.Array) -> pa.Array:
    """True where a string is present and not empty (Python truthiness, as ``a or b`` uses it)."""
    return pc.fill_null(pc.not_equal(col, ""), False)


def _or(a: pa.Array, b: pa.Array) -> pa.Array:
    """``a or b`` of two string columns."""
    return pc.if_else(_nonempty(a), a, b)


def _list_parts(col: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A list<string> column's (first items, the other items (null where none))."""
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
    flat = col.flatten()
    starts = np.zeros(len(col) + 1, np.int32)
    np.cumsum(lengths, out=starts[1:])
    has = lengths > 0
    first = flat.take(pa.array(np.minimum(starts[:-1], max(len(flat) - 1, 0)), mask=~has))
    keep = np.ones(len(flat), np.bool_)
    keep[starts[:-1][has]] = False
    rest_offsets = np.zeros(len(col) + 1, np.int32)
    np.cumsum(np.maximum(lengths - 1, 0), out=rest_offsets[1:])
    rest = pa.ListArray.from_arrays(pa.array(rest_offsets), flat.filter(pa.array(keep)), type=_STR_LIST,
                                    mask=pa.array(lengths <= 1))  # fmt: skip
    return first, rest


#: OpenShift's OAuth server annotates each login it decides (openshift/oauth-server ``pkg/audit``)
_OAUTH_DECISION_RE = rb'"authentication\.openshift\.io/decision":"(?P<v>(?:[^"\\]|\\.)*)"'
_OAUTH_USER_RE = rb'"authentication\.openshift\.io/username":"(?P<v>(?:[^"\\]|\\.)*)"'
_OAUTH_DECISIONS = pa.array(["allow", "deny", "error"], pa.string())


def _ocsf(f: dict[str, pa.Array], raws: list[bytes], walked: tuple[pa.Array, pa.Array] | None = None) -> list[pa.RecordBatch]:
    """The OCSF batches from audit Event field columns (keyed by Event path; see :func:`_batch`
    and :func:`_native`): API Activity, and Authentication for the logins OpenShift's OAuth
    server decided (:func:`_oauth_logins`); ``walked``: the records' (raw_data, uids) the native
    walk made (else made here from ``raws``)."""
    ann = f["annotations"]
    data = ann.buffers()[2]
    if data is None or not _fast.contains_any(data, (b"authentication.openshift.io/decision",)):
        return [_api_activity(f, raws, walked)]
    decision = _annotation(ann.cast(pa.binary()), _OAUTH_DECISION_RE)
    login = pc.fill_null(pc.is_in(decision, value_set=_OAUTH_DECISIONS), False)
    if not pc.any(login).as_py():
        return [_api_activity(f, raws, walked)]

    def part(mask: pa.Array) -> tuple[dict[str, pa.Array], list[bytes], tuple[pa.Array, pa.Array] | None]:
        keep = mask.to_numpy(zero_copy_only=False)
        return ({k: v.filter(mask) for k, v in f.items()}, list(itertools.compress(raws, keep)),
                None if walked is None else (walked[0].filter(mask), walked[1].filter(mask)))  # fmt: skip

    rest = pc.invert(login)
    out = [_api_activity(*part(rest))] if pc.any(rest).as_py() else []
    return [*out, _oauth_logins(*part(login))]


def _oauth_logins(f: dict[str, pa.Array], raws: list[bytes], walked: tuple[pa.Array, pa.Array] | None) -> pa.RecordBatch:
    """OpenShift OAuth server login events (its own audit log, ``oauth-server/audit.log``: the
    request is anonymous, the annotations ``authentication.openshift.io/username`` and
    ``/decision`` name who tried and the outcome) -> Authentication (3002) Logon: the user, status
    Success for ``allow``, Failure for ``deny`` and ``error`` (the word is ``status_detail``), the
    client address and user agent, the login URI, service ``oauth-server``."""
    n = len(raws)
    ann = f["annotations"].cast(pa.binary())
    decision = _annotation(ann, _OAUTH_DECISION_RE)
    ok = pc.equal(decision, "allow")
    start = parse_times(f["requestReceivedTimestamp"])
    end = parse_times(f["stageTimestamp"])
    cols = base_columns(
        "authentication", kind=K8sAudit.name, product=K8sAudit.product, vendor=K8sAudit.vendor,
        uids=event_uids(K8sAudit.name, raws) if walked is None else walked[1],
        times_ms=pc.coalesce(start, end, parse_times(_or(f["timestamp"], f["p_event_time"]))),
        raws=raws if walked is None else walked[0], activity_id=1, severity_id=1,
    )  # fmt: skip
    first_ip, other_ips = _list_parts(f["sourceIPs"])
    uri = pc.extract_regex(f["requestURI"], _URI)
    cols.update({
        "start_time": start,
        "end_time": end,
        "user.name": _annotation(ann, _OAUTH_USER_RE),
        "status_id": pc.if_else(ok, pa.scalar(1, pa.int32()), pa.scalar(2, pa.int32())),
        "status": pc.if_else(ok, "Success", "Failure"),
        "status_detail": pc.if_else(ok, _NULL, decision),
        "status_code": f["responseStatus.code"].cast(pa.string()),
        "metadata.original_event_uid": f["auditID"],
        "metadata.log_version": f["apiVersion"],
        "metadata.event_code": f["verb"],
        "src_endpoint.ip": first_ip,
        "src_endpoint.intermediate_ips": other_ips,
        "http_request.user_agent": f["userAgent"],
        "http_request.http_method": pc.utf8_upper(f["verb"]),
        "http_request.url.path": pc.struct_field(uri, "path"),  # null where there is no requestURI (.field gives "")
        "http_request.url.query_string": _or(uri.field("query"), pa.nulls(n, pa.string())),
        "service.name": const("oauth-server", n),
        "is_remote": pc.if_else(pc.is_valid(first_ip), True, pa.scalar(None, pa.bool_())),
        "unmapped": f["unmapped"],
    })  # fmt: skip
    return to_batch("authentication", cols)


def _api_activity(f: dict[str, pa.Array], raws: list[bytes], walked: tuple[pa.Array, pa.Array] | None = None) -> pa.RecordBatch:
    """The OCSF API Activity batch from audit Event field columns (see :func:`_ocsf`)."""
    n = len(raws)
    verbs = f["verb"]
    activity = _streams_created(f, pc.fill_null(_VERB_VALS.take(pc.index_in(verbs, value_set=_VERB_KEYS)),
                                                pa.scalar(99, pa.int32())))
    start = parse_times(f["requestReceivedTimestamp"])
    end = parse_times(f["stageTimestamp"])
    other = parse_times(_or(f["timestamp"], f["p_event_time"]))
    codes = f["responseStatus.code"]
    words = f["responseStatus.status"]
    failed = pc.fill_null(pc.coalesce(pc.greater_equal(codes, 400), pc.equal(words, "Failure")), False)
    has_status = pc.or_(pc.is_valid(codes), pc.is_in(words, value_set=_STATUS_WORDS))
    status_id = pc.if_else(has_status, pc.if_else(failed, pa.scalar(2, pa.int32()), pa.scalar(1, pa.int32())),
                           pa.scalar(0, pa.int32()))  # fmt: skip
    cols = base_columns(
        "api_activity",
        kind=K8sAudit.name,
        product=K8sAudit.product,
        vendor=K8sAudit.vendor,
        uids=event_uids(K8sAudit.name, raws) if walked is None else walked[1],
        times_ms=pc.coalesce(start, end, other),
        raws=raws if walked is None else walked[0],
        activity_id=activity,
        severity_id=1,
    )
    first_ip, other_ips = _list_parts(f["sourceIPs"])
    authz, decided = _authorizations(f["annotations"])
    allowed, denied = pc.equal(decided, "allowed"), pc.equal(decided, "denied")
    zero = pa.scalar(0, pa.int32())
    action_id = pc.if_else(allowed, pa.scalar(1, pa.int32()), pc.if_else(denied, pa.scalar(2, pa.int32()), zero))
    uri = pc.extract_regex(f["requestURI"], _URI)  # requestURI is a path with an optional ?query
    cols.update(
        {
            "start_time": start,
            "end_time": end,
            "status_id": status_id,
            "status": pc.if_else(has_status, pc.if_else(failed, "Failure", "Success"), "Unknown"),
            "status_code": codes.cast(pa.string()),
            "status_detail": _or(f["responseStatus.message"], f["responseStatus.reason"]),
            "metadata.original_event_uid": f["auditID"],
            "metadata.log_version": f["apiVersion"],
            "metadata.event_code": verbs,
            "actor.user.name": f["user.username"],
            "actor.user.uid": f["user.uid"],
            "actor.user.groups": _named(f["user.groups"]),
            "src_endpoint.ip": first_ip,
            "src_endpoint.intermediate_ips": other_ips,
            # OCSF requires src_endpoint: an event naming no source IP gets the endpoint type Unknown
            "src_endpoint.type_id": pc.if_else(pc.is_null(first_ip), pa.scalar(0, pa.int32()), pa.scalar(None, pa.int32())),
            "src_endpoint.type": pc.if_else(pc.is_null(first_ip), "Unknown", pa.scalar(None, pa.string())),
            "http_request.user_agent": f["userAgent"],
            "http_request.url.path": pc.struct_field(uri, "path"),  # null where there is no requestURI (.field gives "")
            "http_request.url.query_string": _or(uri.field("query"), pa.nulls(n, pa.string())),  # "?" alone: none
            "api.operation": verbs,
            "api.service.name": const("kube-apiserver", n),
            "api.request.uid": f["auditID"],
            "api.group.name": f["objectRef.apiGroup"],
            "api.version": f["objectRef.apiVersion"],
            "resources": _resources(f),
            "authorizations": authz,
            "action_id": pc.fill_null(action_id, 0),
            "action": pc.fill_null(pc.if_else(allowed, "Allowed", pc.if_else(denied, "Denied", "Unknown")), "Unknown"),
            "unmapped": f["unmapped"],
        }
    )
    return to_batch("api_activity", cols)


#: the pod subresources that open a stream into a container (``kubectl exec``, ``attach``, ``port-forward``)
_STREAMS = pa.array(["exec", "attach", "portforward"], pa.string())


def _streams_created(f: dict[str, pa.Array], activity: pa.Array) -> pa.Array:
    """``activity`` with a ``get`` of ``pods/exec``, ``pods/attach`` or ``pods/portforward`` a Create (1), as their
    ``create``: kubectl 1.30+ opens these streams over WebSocket, an HTTP GET the apiserver logs with verb ``get``
    (SPDY's was a POST, verb ``create``); the same exec into a container either way (the verb as logged stays
    ``api.operation``). A batch naming no subresource costs one null count."""
    sub = f["objectRef.subresource"]
    if sub.null_count == len(sub):
        return activity
    stream = pc.and_(pc.and_(pc.equal(f["verb"], "get"), pc.equal(f["objectRef.resource"], "pods")),
                     pc.is_in(sub, value_set=_STREAMS))
    return pc.if_else(pc.fill_null(stream, False), pa.scalar(1, pa.int32()), activity)


_STATUS_WORDS = pa.array(["Success", "Failure"])
_URI = r"(?s)^(?P<path>[^?]*)(?:\?(?P<query>.*))?$"



def _named(groups: pa.Array) -> pa.Array:
    """list<string> -> list<struct<name>> (actor.user.groups; null where the list is null or empty)."""
    lengths = pc.fill_null(pc.list_value_length(groups), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(groups) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    items = pa.StructArray.from_arrays([groups.flatten()], names=["name"])
    return pa.ListArray.from_arrays(pa.array(offsets), items, type=_GROUPS, mask=pa.array(lengths == 0))


class _Meta(msgspec.Struct, gc=False):
    name: object = None
    uid: object = None


class _Created(msgspec.Struct, gc=False):
    metadata: _Meta | None = None


#: the response objects' metadata only (msgspec skips the rest of each object unparsed)
_CREATED = msgspec.json.Decoder(list[_Created | None])


def _created(f: dict[str, pa.Array]) -> tuple[pa.Array, pa.Array]:
    """(name, uid) of the object a create made, from ``responseObject.metadata``, where objectRef
    names none (the server picks the name of a ``generateName`` object); null elsewhere. The
    response objects concerned are decoded in one call; a value of another shape names nothing."""
    n = len(f["verb"])
    need = pc.fill_null(pc.and_(pc.is_null(f["objectRef.name"]), pc.is_valid(f["responseObject"])), False)
    need = pc.and_(need, pc.fill_null(pc.equal(f["verb"], "create"), False))
    if not pc.any(need).as_py():
        return pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    rows = np.flatnonzero(need.to_numpy(zero_copy_only=False))
    texts = f["responseObject"].take(pa.array(rows)).to_pylist()
    try:
        objs = _CREATED.decode(("[" + ",".join(texts) + "]").encode())
    except msgspec.DecodeError:  # some response is no object (or its metadata none): it alone names nothing
        objs = [_created_one(t) for t in texts]
    names: list[str | None] = [None] * n
    uids: list[str | None] = [None] * n
    for i, o in zip(rows.tolist(), objs, strict=True):
        meta = o.metadata if o is not None else None
        if meta is not None:
            names[i] = meta.name if isinstance(meta.name, str) and meta.name else None
            uids[i] = meta.uid if isinstance(meta.uid, str) and meta.uid else None
    return pa.array(names, pa.string()), pa.array(uids, pa.string())


_ONE = msgspec.json.Decoder(_Created | None)


def _created_one(text: str) -> _Created | None:
    try:
        return _ONE.decode(text)
    except msgspec.DecodeError:
        return None


def _resource_type(resource: pa.Array, sub: pa.Array) -> pa.Array:
    """``resource/subresource`` where the Event names a subresource (``pods/exec``, ``pods/attach``,
    ``pods/portforward``, ``pods/log``, ``deployments/scale``, ``serviceaccounts/token``...: the
    apiserver's and RBAC's own notation, and the OCSF project's EKS mapping's ``resources[].type``),
    else the resource; ``resource`` itself when no Event of the batch names one."""
    if sub.null_count == len(sub):
        return resource
    return pc.coalesce(pc.binary_join_element_wise(resource, sub, "/"), resource)


def _resources(f: dict[str, pa.Array]) -> pa.Array:
    """resources: one item (type, name, namespace, uid) from objectRef where the Event has one,
    else null; a create's object named by its response (see :func:`_created`)."""
    has = f["objectRef"]
    keep = has.to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(has) + 1, np.int32)
    np.cumsum(keep, out=offsets[1:])
    made, made_uid = _created(f)
    name = pc.coalesce(f["objectRef.name"], made)
    uid = pc.coalesce(f["objectRef.uid"], pc.if_else(pc.is_null(f["objectRef.name"]), made_uid, _NULL))
    fields = [c.filter(has) for c in (_resource_type(f["objectRef.resource"], f["objectRef.subresource"]), name,
                                       f["objectRef.namespace"], uid)]
    items = pa.StructArray.from_arrays(fields, names=["type", "name", "namespace", "uid"])
    return pa.ListArray.from_arrays(pa.array(offsets), items, type=_RES, mask=pc.invert(has))


# ---------------------------------------------------------------------------------------
# The native path
# ---------------------------------------------------------------------------------------

_ALL_FIELDS = tuple(f.name for f in msgspec.structs.fields(_Event))
_SPEC = _fast.Spec(
    (
        *((k, _fast.STR) for k in _TOP_STRS),
        ("user.username", _fast.STR), ("user.uid", _fast.STR), ("user.groups[]", _fast.LIST),
        ("user.groups[].@", _fast.STR), ("user.extra", _fast.RAW),
        ("sourceIPs[]", _fast.LIST), ("sourceIPs[].@", _fast.STR),
        *((f"objectRef.{k}", _fast.STR) for k in _REF_FIELDS),
        ("responseStatus.code", _fast.INT), *((f"responseStatus.{k}", _fast.STR) for k in _STATUS_STRS),
        ("responseStatus.details", _fast.RAW),
        *((k, _fast.RAW) for k in _UNMAPPED),
    ),
    (),  # unmapped is assembled here (objectRef and the Status' rest go between the raw fields and extra keys)
    _ALL_FIELDS,
)  # fmt: skip

#: the object-valued fields as raw text: a second walk over the batch finds a duplicated one
#: (msgspec keeps the last; the walker would merge both) and tells ``"objectRef":{}`` (an
#: Event with an empty objectRef, which maps to a resource) from an absent or null one.
_OBJECTS = _fast.Spec((("user", _fast.RAW), ("objectRef", _fast.RAW), ("responseStatus", _fast.RAW)), (), _ALL_FIELDS)


def _native(records: Records, out: Decoded, fmt: K8sAudit) -> bool:
    """The native path (``_fast``): the batch's field columns in one Rust pass, then
    :func:`_ocsf`. False when it does not apply (no extension, an irregular record): the
    msgspec path then decodes the batch."""
    raws = records.raws
    # raw_data and uids made in the walk, each record still in the CPU cache
    cols = _fast.extract(raws, _SPEC, whole=True, uid_prefix=_UID_PREFIX)
    objects = _fast.extract(raws, _OBJECTS) if cols is not None else None
    if cols is None or objects is None:
        return False
    if len(raws) <= SMALL_ROWS:  # a few events (the webhook's small EventLists): value by value
        from secpipe.formats import _k8s_small  # (it reads this module's tables)

        small = _k8s_small.api_activity(cols, objects, raws)
        if small is not None:
            out.batches.append(small)
            return True
    walked = None if cols.raw is None or cols.uids is None else (cols.raw, cols.uids)
    f = {k: v for k, v in cols.strings.items() if "[]" not in k}
    for name in ("user.groups", "sourceIPs"):
        offsets, mask = cols.lists[name + "[]"]
        f[name] = pa.ListArray.from_arrays(pa.array(offsets), cols.strings[name + "[].@"], type=_STR_LIST,
                                           mask=None if mask is None else pa.array(mask))  # fmt: skip
    ref = objects.strings["objectRef"]
    f["objectRef"] = pc.fill_null(pc.not_equal(ref, "null"), False)
    f["unmapped"] = _unmapped(f, cols.unmapped, pc.any(pc.match_substring(ref, "\\")).as_py() is True)
    kind = f["kind"]
    is_list = pc.fill_null(pc.equal(kind, "EventList"), False)
    other_kind = pc.fill_null(pc.not_equal(kind, "Event"), False)
    has_id = pc.or_(pc.or_(_nonempty(f["auditID"]), _nonempty(f["verb"])), _nonempty(f["requestURI"]))
    drop = pc.or_(other_kind, pc.invert(has_id))
    if pc.any(drop).as_py():  # rare: dead letters and EventLists (their events mapped apart) one by one
        lists = np.flatnonzero(is_list.to_numpy(zero_copy_only=False)).tolist()
        if lists:
            opened = fmt.open_envelopes([raws[i] for i in lists], [records.locs[i] for i in lists], out)
            out.events -= opened.count(False)  # an EventList whose items is null holds no events
        bad = np.flatnonzero(pc.and_(drop, pc.invert(is_list)).to_numpy(zero_copy_only=False))
        for i, k, h in zip(bad, kind.take(bad).to_pylist(), has_id.take(bad).to_pylist(), strict=True):
            # a record msgspec cannot read at all (a lone surrogate in a field the walk passes over)
            # is dead-lettered with the msgspec path's reason
            unread = Decoded()
            decode_strict([raws[i]], [records.locs[i]], _Event, unread, K8sAudit.name, "a Kubernetes audit event")
            if unread.dead:
                out.dead.extend(unread.dead)
                continue
            why = _not_event(k, h)
            assert why is not None  # a dropped row is not an Event, or has no id
            out.dead.append(DeadLetter(why, records.locs[i][0], records.locs[i][1], raws[i], K8sAudit.name))
        keep = pc.invert(drop)
        kept = pa.RecordBatch.from_arrays(list(f.values()), names=list(f)).filter(keep)
        f = dict(zip(kept.schema.names, kept.columns, strict=True))
        raws = list(itertools.compress(raws, keep.to_numpy(zero_copy_only=False)))
        if not raws:
            return True
        if walked is not None:
            walked = (walked[0].filter(keep), walked[1].filter(keep))
    out.batches.extend(_ocsf(f, raws, walked))
    return True


_UID_PREFIX = uid_prefix(K8sAudit.name)


_ESCAPE_RE = r'[\x00-\x1f"\\]'


def _quoted(col: pa.Array) -> pa.Array:
    """Strings that need no escape as JSON string literals."""
    return pc.binary_join_element_wise('"', col, '"', "")


def _json_strings(col: pa.Array) -> pa.Array:
    """Each string as msgspec encodes it (JSON string literal; null stays null); values that
    need escapes are encoded once per distinct value."""
    quoted = _quoted(col)
    escape = pc.fill_null(pc.match_substring_regex(col, _ESCAPE_RE), False)
    if not pc.any(escape).as_py():
        return quoted
    dic = pc.dictionary_encode(pc.if_else(escape, col, _NULL))
    encoded = [None if v is None else _ENC.encode(v).decode() for v in dic.dictionary.to_pylist()]
    return pc.if_else(escape, pa.array(encoded, pa.string()).take(dic.indices), quoted)


def _unmapped(f: dict[str, pa.Array], extras: pa.Array, escapes: bool = True) -> pa.Array:
    """``unmapped`` as :func:`unmapped_from` writes it on the msgspec path: the raw fields in
    declaration order, objectRef re-encoded (its known fields, nulls left out), user.extra, the
    Status' rest, then the extra top-level keys (sorted, from the walker). ``escapes``: whether
    an objectRef string may need escaping when re-encoded (an objectRef holds a backslash: an
    unescaped JSON string has no quote, backslash or control character)."""
    text = _json_strings if escapes else _quoted
    ref = json_object([(k, text(f[f"objectRef.{k}"])) for k in _REF_FIELDS], present=f["objectRef"])
    text = _json_strings
    status, reason, details = (f[f"responseStatus.{k}"] for k in ("status", "reason", "details"))
    has_rest = pc.or_(pc.or_(_nonempty(status), _nonempty(reason)), pc.is_valid(details))
    rest = json_object([("status", text(status)), ("reason", text(reason)), ("details", details)], present=has_rest)
    user = json_object([("extra", f["user.extra"])])
    items: list[tuple[str | None, pa.Array]] = [(k, f[k]) for k in _UNMAPPED]
    items += [("objectRef", ref), ("user", user), ("responseStatus", rest)]
    items.append((None, pc.utf8_slice_codeunits(extras, start=1, stop=-1)))
    return json_object(items)
