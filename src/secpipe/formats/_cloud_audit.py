"""Managed-cluster audit records that reach the Kubernetes audit format wrapped by their cloud.

A managed cluster's audit trail reaches a team through its cloud's log service, and unified
Kubernetes detections (Panther's EKS/AKS/GKE rules) read all three from one stream:

- **Azure Monitor** resource logs of AKS (``category`` ``kube-audit`` / ``kube-audit-admin``)
  carry the apiserver's audit Event as a JSON string in ``properties.log`` (or as the object a
  shipper that decoded it leaves there). The Event is
  unwrapped and mapped as any other (the wrapper is transport metadata; ``raw_data`` and the
  event uid are the Event's, as CloudTrail's EventBridge unwrapping does).
- **Google Cloud Audit Logs** ``LogEntry`` records (``protoPayload`` of type AuditLog; GKE's
  have ``serviceName`` ``k8s.io``) -> API Activity (6003): ``methodName`` -> ``api.operation``
  and the activity (its last word: create/insert Create, get/list/watch Read,
  update/patch/set Update, delete Delete, else Other), ``serviceName`` -> ``api.service.name``,
  ``authenticationInfo.principalEmail`` -> ``actor.user`` (name and email; a caller with no email,
  as Workload and Workforce Identity Federation's are, by its ``principalSubject``),
  ``requestMetadata.callerIp`` (the proto's JSON name; ``callerIP`` also read)/``callerSuppliedUserAgent``
  -> ``src_endpoint.ip`` / ``http_request.user_agent``, ``resourceName`` -> ``resources[0]`` (type = ``resource.type``),
  ``authorizationInfo[]`` -> ``authorizations[]`` (granted -> "allowed"/"denied", the
  permission as ``policy.name``), ``status`` (google.rpc.Status: code 0 or absent Success,
  else Failure) -> status, code and message, ``insertId`` -> ``metadata.original_event_uid``,
  ``severity`` -> ``severity_id``, ``resource.labels.project_id`` -> ``cloud.project_uid``, its
  ``region``/``zone``/``location`` -> ``cloud.region``/``cloud.zone``. The payload's members not placed
  (``request``, ``response``, ``metadata``, ``requestMetadata.requestAttributes``, ...) stay in
  ``unmapped.protoPayload``.
- **Azure Monitor** Activity Log and other resource-log records (``operationName`` with
  ``category``/``resourceId``) -> API Activity: ``operationName`` -> ``api.operation`` (its
  last segment write Update, delete Delete, read Read, action Other) and its provider
  namespace -> ``api.service.name``, ``caller``/``identity`` claims -> ``actor.user.name`` (the
  ``objectidentifier`` claim, else the RBAC evidence's ``principalId``, -> ``uid``, its
  ``principalType`` -> ``type``; the ``appid`` claim -> ``actor.app_uid``),
  ``callerIpAddress`` -> ``src_endpoint.ip``, ``resultType`` (Success/Failed/...) -> status,
  ``resourceId`` -> ``resources[0].uid``, ``correlationId`` -> ``metadata.correlation_uid``,
  ``level`` -> ``severity_id``, the subscription in ``resourceId`` -> ``cloud.account.uid``. An
  Activity Log event as the REST API answers it (``az monitor activity-log list``,
  ``Get-AzActivityLog``: ``operationName``, ``status``, ``category`` as ``{"value",
  "localizedValue"}``, ``eventTimestamp``, ``httpRequest.clientIpAddress``, ``eventDataId`` ->
  ``metadata.original_event_uid``) is read the same way (:func:`_rest_activity`); it was
  recognized by no format.

- **Microsoft Entra ID** sign-ins as Azure Monitor exports them (``category`` ``SignInLogs``,
  ``NonInteractiveUserSignInLogs``, ``ServicePrincipalSignInLogs``, ``ManagedIdentitySignInLogs``...;
  ``properties`` holds the Graph ``signIn`` resource) -> Authentication (3002) Logon: the user
  (``userPrincipalName``, ``userId``, ``userDisplayName``; a service principal's or managed
  identity's sign-in: ``servicePrincipalName``/``Id``, type Service), status from the error code
  (``status.errorCode``, else ``resultType``: 0 Success, any other Failure, ``failureReason`` the
  detail), ``ipAddress`` and ``location`` -> ``src_endpoint``, ``userAgent``, the app signed in to
  (``appDisplayName``/``appId``, else the resource) -> ``service``, ``riskLevelDuringSignIn`` ->
  ``risk_level_id``, ``authenticationProtocol``, ``authenticationRequirement`` -> ``is_mfa`` (of a
  successful sign-in), ``tenantId`` -> ``cloud.org.uid``; product Entra ID. ``resultType`` holds
  the error code here, not a word: read as the Activity Log's, every failed sign-in was a Success.
  A sign-in as Microsoft Graph gives it (``/auditLogs/signIns``, the Entra admin center's JSON
  download: the ``signIn`` itself, no Azure Monitor wrapper; :func:`_is_graph_signin`) is mapped
  the same way, as its own ``properties``.
- **Microsoft Entra ID** directory audits as Azure Monitor exports them (``category``
  ``AuditLogs``; ``properties`` holds the Graph ``directoryAudit``) -> API Activity: the actor from
  ``initiatedBy`` (a user, or an app as type Service), ``result`` -> status, ``operationType`` ->
  activity, ``loggedByService`` -> ``api.service.name``, ``targetResources[]`` -> ``resources``
  (see :func:`_directory_audit`): read as an Activity Log record, it had no actor, status Unknown
  and the tenant as its only resource. A ``directoryAudit`` as Microsoft Graph gives it
  (``/auditLogs/directoryAudits``, no wrapper) is mapped the same way, as its own ``properties``.

Azure Monitor records may come in the ``{"records": [...]}`` envelope diagnostic settings write to
Event Hubs, and REST list answers in pages (Graph's ``{"@odata.context", "@odata.nextLink",
"value": [...]}``, Resource Manager's ``{"value": [...], "nextLink"}``): each record is unwrapped
and counted as its own event.

Both clouds' records get ``cloud.provider`` and their own product (Google Cloud Audit Logs,
Azure Monitor, Entra ID); keys not placed stay in ``unmapped``. Where: :func:`rescue` runs after the
Kubernetes pass on the records it dead-lettered as "no audit event", so the Kubernetes hot path
pays nothing; anything it does not recognize keeps its dead letter.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    Records,
    base_columns,
    event_uids,
    parse_times,
    to_batch,
    unmapped_json,
)
from secpipe.formats.base import object_or_empty as _d
from secpipe.formats.base import text_or_none as _s

#: the Kubernetes pass's reason for a JSON object that is no audit event (k8s_audit._not_event)
NOT_EVENT = "not a Kubernetes audit event: no auditID, verb or requestURI"
S = pa.string()
_KUBE_AUDIT = frozenset({"kube-audit", "kube-audit-admin"})
_VERB = re.compile(r"[A-Za-z]+$")
_GCP_ACT = {"create": 1, "insert": 1, "add": 1, "get": 2, "list": 2, "watch": 2, "read": 2, "search": 2,
            "update": 3, "patch": 3, "set": 3, "setiampolicy": 3, "replace": 3, "delete": 4, "remove": 4}  # fmt: skip
_AZ_ACT = {"write": 3, "delete": 4, "read": 2}
_GCP_SEV = {"DEBUG": 1, "INFO": 1, "NOTICE": 2, "WARNING": 3, "ERROR": 4, "CRITICAL": 5, "ALERT": 5, "EMERGENCY": 6}
#: an Activity Log event's resultType (the REST API's status.value) that tells the outcome; the
#: others tell a step of the operation or a state (Start, Started, Accept, In Progress, Active,
#: Resolved, Updated...: Azure Monitor's schema, "Typical values include Started, In Progress,
#: Succeeded, Failed, Active, and Resolved"): status Other with the word itself, not a Success
_AZ_STATUS = {"success": (1, "Success"), "succeeded": (1, "Success"), "failure": (2, "Failure"), "failed": (2, "Failure")}
_AZ_SEV = {"verbose": 1, "informational": 1, "warning": 3, "error": 4, "critical": 5}
_AUTHZ = pa.list_(pa.struct([("decision", S), ("policy", pa.struct([("name", S), ("desc", S)]))]))
_RES = pa.list_(pa.struct([("type", S), ("name", S), ("uid", S)]))
_GCP_MAPPED = frozenset({"protoPayload", "timestamp", "insertId", "severity"})
_AZ_MAPPED = frozenset({"time", "operationName", "resultType", "callerIpAddress", "correlationId", "level", "caller",
                        "resourceId", "eventTimestamp", "eventDataId"})  # fmt: skip
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANY = msgspec.json.Decoder()
_ENC = msgspec.json.Encoder().encode
#: AuditLog keys placed whole (``@type`` names the payload's type, as an Event's ``kind``), and
#: the members placed of the objects whose other members stay in ``unmapped.protoPayload``
_PP_PLACED = frozenset({"@type", "methodName", "serviceName", "resourceName"})
_PP_MEMBERS = (("authenticationInfo", frozenset({"principalEmail"})),
               ("requestMetadata", frozenset({"callerIp", "callerIP", "callerSuppliedUserAgent"})),
               ("status", frozenset({"code", "message"})))  # fmt: skip
_AUTHZ_PLACED = frozenset({"granted", "permission", "resource"})
_CALLER_IPS = frozenset({"callerIp", "callerIP"})


def rescue(out: Decoded, remap: Callable[[Records], Decoded], fmt: str) -> Decoded:
    """Map the cloud-wrapped records among ``out``'s "no audit event" dead letters (see module
    docstring); ``remap`` maps unwrapped Events as the Kubernetes pass does."""
    keep, inner, gcp, azure, signins, audits = [], Records(), [], [], [], []
    for d in _unwrap_records(out):
        doc = _cloud_doc(d.raw) if d.reason == NOT_EVENT else None
        if doc is None:
            keep.append(d)
            continue
        log = doc.get("properties", {}).get("log") if isinstance(doc.get("properties"), dict) else None
        if isinstance(log, str | dict) and isinstance(cat := doc.get("category"), str) and cat in _KUBE_AUDIT:
            try:  # the Event as a JSON string (as Azure writes it), or as the object a shipper decoded it to
                inner.raws.append(msgspec.json.format(log.encode(), indent=-1) if isinstance(log, str) else _ENC(log))
                inner.locs.append((d.source, d.offset))
            except msgspec.DecodeError:
                keep.append(d)
        elif _is_gcp(doc):
            gcp.append((doc, d.raw))
        elif (event := _rest_activity(doc)) is not None:
            azure.append((event, d.raw))
        elif _is_signin(doc):
            signins.append((doc, d.raw))
        elif _is_graph_signin(doc):  # as Microsoft Graph gives it: the signIn itself, as properties
            signins.append(({"properties": doc}, d.raw))
        elif isinstance(doc.get("activityDateTime"), str) and isinstance(doc.get("initiatedBy"), dict):
            audits.append(({"properties": doc}, d.raw))  # a Graph directoryAudit, likewise
        elif doc.get("category") == "AuditLogs" and isinstance(doc.get("properties"), dict):
            audits.append((doc, d.raw))
        elif isinstance(doc.get("operationName"), str) and ("category" in doc or "resourceId" in doc):
            azure.append((doc, d.raw))
        else:
            keep.append(d)
    out.dead = keep
    if inner.raws:
        sub = remap(inner)  # its events are the wrappers already counted
        out.batches.extend(sub.batches)
        out.dead.extend(sub.dead)
    for rows, build in ((gcp, _gcp), (azure, _azure), (signins, _signin), (audits, _directory_audit)):
        if rows:
            out.batches.append(build([r[0] for r in rows], [r[1] for r in rows], fmt))
    return out


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    records: list[msgspec.Raw]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])


def _unwrap_records(out: Decoded) -> list[DeadLetter]:
    """``out``'s dead letters, an Azure Monitor ``{"records": [...]}`` envelope (as diagnostic
    settings deliver resource logs to Event Hubs) replaced by one per record, each its own event."""
    dead: list[DeadLetter] = []
    for d in out.dead:
        items = _envelope_items(d.raw) if d.reason == NOT_EVENT else None
        if items is None:
            dead.append(d)
            continue
        out.events += len(items) - 1  # the envelope was counted as one event
        dead.extend(replace(d, raw=msgspec.json.format(bytes(r), indent=-1)) for r in items)
    return dead


def _envelope_items(raw: bytes) -> list[msgspec.Raw] | None:
    """The records of an Azure Monitor ``{"records": [...]}`` envelope or of a REST list page
    (``value`` beside only ``nextLink``, as Resource Manager pages the Activity Log, and
    annotations, as Microsoft Graph writes ``@odata.context``, ``@odata.nextLink``...), else None."""
    try:
        if raw.startswith(b'{"records":'):
            return _ENVELOPE.decode(raw).records
        if raw.startswith((b'{"value":', b'{"@', b'{"nextLink":')):
            top = _TOP.decode(raw)
            if "value" in top and all(k in ("value", "nextLink") or k.startswith("@") for k in top):
                return _ITEMS.decode(top["value"])
    except (msgspec.DecodeError, msgspec.ValidationError):  # not the envelope: stays as it is
        return None
    return None


_CLOUD_KEYS = (b'"protoPayload"', b'"operationName"', b'"createdDateTime"', b'"activityDateTime"')


def _cloud_doc(raw: bytes) -> dict[str, Any] | None:
    """The record as Python values when it looks like a cloud audit record (cheap byte test first)."""
    if not any(key in raw for key in _CLOUD_KEYS):
        return None
    try:
        doc = _ANY.decode(raw)
    except msgspec.DecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def _is_gcp(doc: dict[str, Any]) -> bool:
    """A LogEntry whose payload is an AuditLog (typed, or naming its method or service)."""
    pp = doc.get("protoPayload")
    return isinstance(pp, dict) and (
        "AuditLog" in str(pp.get("@type", "")) or isinstance(pp.get("methodName"), str) or isinstance(pp.get("serviceName"), str)
    )


def _unknown_endpoint(ips: list[str | None]) -> dict[str, Any]:
    """src_endpoint type Unknown where no caller address is given (OCSF requires the endpoint)."""
    return {"src_endpoint.type_id": pa.array([0 if ip is None else None for ip in ips], pa.int32()),
            "src_endpoint.type": ["Unknown" if ip is None else None for ip in ips]}  # fmt: skip


def _address(v: Any) -> tuple[str | None, int | None]:
    """(IP address, port) of a caller's address as the clouds write it: an IPv4 or IPv6 address, or one with its
    port (Azure Storage's ``callerIpAddress`` is "the IP address of the requester, including the port number":
    ``10.50.0.204:38208``, ``[2001:db8::1]:443``); (None, None) for anything else, which OCSF's ``ip`` (``ip_t``)
    cannot hold: a network in CIDR form (``10.0.0.0/24``), a name (Google's ``private``, ``gce-internal-ip``), a
    redacted address. Such a value is kept in ``unmapped`` (:func:`_kept_caller`)."""
    text = _s(v)
    if text is None:
        return None, None
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port: str | None = rest[1:] if rest.startswith(":") else rest or None
    elif text.count(":") == 1:  # IPv4:port (an IPv6 address has two colons at least)
        host, _, port = text.partition(":")
    else:
        host, port = text, None
    if port is not None and not (port.isascii() and port.isdigit() and int(port) < 65536):
        return None, None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None, None
    return host, None if port is None else int(port)


def _kept_caller(raws: list[bytes], mapped: frozenset[str], given: list[Any]) -> pa.Array | None:
    """``unmapped`` of records whose ``callerIpAddress`` (``given``) is not placed where it is no address
    (:func:`_address`): the key kept there, not dropped as mapped; None (the mapped keys' default) when every one
    given was placed."""
    odd = [_s(g) is not None and _address(g)[0] is None for g in given]
    if not any(odd):
        return None
    tops = [_TOP.decode(r) for r in raws]
    return pc.if_else(pa.array(odd), unmapped_json(tops, mapped - {"callerIpAddress"}), unmapped_json(tops, mapped))


def _batch(fmt: str, raws: list[bytes], times: list[str | None], acts: list[int], sev: list[int],
           product: str, vendor: str, cols: dict[str, Any], mapped: frozenset[str],
           unmapped: pa.Array | None = None, cls: str = "api_activity") -> pa.RecordBatch:
    base = base_columns(cls, kind=fmt, product=product, vendor=vendor, uids=event_uids(fmt, raws),
                        times_ms=parse_times(pa.array(times, S)), raws=raws, activity_id=pa.array(acts, pa.int32()),
                        severity_id=pa.array(sev, pa.int32()))  # fmt: skip
    base["unmapped"] = unmapped_json([_TOP.decode(r) for r in raws], mapped) if unmapped is None else unmapped
    for k, v in cols.items():
        base[k] = v if isinstance(v, pa.Array) else pa.array(v, pa.int32() if k.endswith("_id") else S)
    return to_batch(cls, base)


def _gcp(docs: list[dict[str, Any]], raws: list[bytes], fmt: str) -> pa.RecordBatch:
    pp = [_d(d.get("protoPayload")) for d in docs]
    labels = [_d(_d(d.get("resource")).get("labels")) for d in docs]
    method = [_s(p.get("methodName")) for p in pp]
    status = [_d(p.get("status")) for p in pp]
    code = [s.get("code") if isinstance(s.get("code"), int) else None for s in status]
    auth = [_d(p.get("authenticationInfo")) for p in pp]
    email = [_s(a.get("principalEmail")) for a in auth]
    who = [e or _s(a.get("principalSubject")) for e, a in zip(email, auth, strict=True)]  # a federated caller
    meta = [_d(p.get("requestMetadata")) for p in pp]
    ips = [_address(m.get("callerIp"))[0] or _address(m.get("callerIP"))[0] for m in meta]  # callerIp: the proto's JSON name
    authz = [[{"decision": "allowed" if a.get("granted") else "denied", "policy": {"name": _s(a.get("permission")),
                                                                                   "desc": _s(a.get("resource"))}}
              for a in p.get("authorizationInfo") or () if isinstance(a, dict)] or None
             if isinstance(p.get("authorizationInfo"), list) else None for p in pp]  # fmt: skip
    cols = {
        "api.operation": method,
        "api.service.name": [_s(p.get("serviceName")) for p in pp],
        "api.request.uid": [_s(d.get("insertId")) for d in docs],
        "metadata.original_event_uid": [_s(d.get("insertId")) for d in docs],
        "actor.user.name": who,
        "actor.user.email_addr": [e if e and "@" in e else None for e in email],
        "src_endpoint.ip": ips,
        **_unknown_endpoint(ips),
        "http_request.user_agent": [_s(m.get("callerSuppliedUserAgent")) for m in meta],
        "resources": pa.array([[{"type": _s(_d(d.get("resource")).get("type")), "name": _s(p.get("resourceName")),
                                 "uid": None}] if _s(p.get("resourceName")) else None
                               for d, p in zip(docs, pp, strict=True)], _RES),  # fmt: skip
        "authorizations": pa.array(authz, _AUTHZ),
        "status_id": [2 if c else 1 for c in code],
        "status": ["Failure" if c else "Success" for c in code],
        "status_code": [None if c is None else str(c) for c in code],
        "status_detail": [_s(s.get("message")) for s in status],
        "cloud.provider": ["GCP"] * len(docs),
        "cloud.project_uid": [_s(lb.get("project_id")) for lb in labels],
        "cloud.region": [_gcp_place(lb)[0] for lb in labels],
        "cloud.zone": [_gcp_place(lb)[1] for lb in labels],
    }
    acts = [_GCP_ACT.get(_last_word(m), 99) for m in method]
    sev = [_GCP_SEV.get(str(d.get("severity", "")).upper(), 1) for d in docs]
    times = [_s(d.get("timestamp")) or _s(d.get("receiveTimestamp")) for d in docs]
    unmapped = []
    for raw, p in zip(raws, pp, strict=True):
        top = _TOP.decode(raw)
        extra: dict[str, Any] = {k: top[k] for k in sorted(top.keys() - _GCP_MAPPED)}
        if rest := _pp_unplaced(p):
            extra["protoPayload"] = rest
        unmapped.append(_ENC(dict(sorted(extra.items()))) if extra else None)
    return _batch(fmt, raws, times, acts, sev, "Google Cloud Audit Logs", "Google", cols, _GCP_MAPPED,
                  pa.array(unmapped, pa.binary()).cast(S))


_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")  # us-central1-a: the region us-central1, zone a


def _gcp_place(labels: dict[str, Any]) -> tuple[str | None, str | None]:
    """(region, zone) of a monitored resource's labels: ``region``/``zone`` as given, else its
    ``location`` (a zone, as a zonal GKE cluster's, gives its region too; a region or a
    multi-region, as a bucket's ``us``, is the region)."""
    zone = _s(labels.get("zone"))
    region = _s(labels.get("region"))
    where = _s(labels.get("location"))
    if zone is None and where and _ZONE.match(where):
        zone = where
    if region is None:
        m = _ZONE.match(zone or "")
        region = m.group(1) if m else where if where != zone else None
    return region, zone


def _pp_unplaced(pp: dict[str, Any]) -> dict[str, Any]:
    """What the mapping does not place of an AuditLog payload (``request``, ``response``,
    ``metadata``, ``serviceData``, ``requestMetadata.requestAttributes``, ...; a member counts as
    placed only when it is a string, or the status code an integer)."""
    rest = {k: v for k, v in pp.items() if k not in _PP_PLACED or not isinstance(v, str)}
    for key, placed in _PP_MEMBERS:
        if isinstance(sub := rest.pop(key, None), dict):
            left = {k: v for k, v in sub.items()
                    if k not in placed or not (isinstance(v, int) if k == "code" else isinstance(v, str) and v)
                    or k in _CALLER_IPS and _address(v)[0] is None}  # (a caller address that is none: not placed)
            if left:
                rest[key] = left
        elif sub is not None:
            rest[key] = sub
    authz = rest.get("authorizationInfo")
    if isinstance(authz, list) and all(isinstance(a, dict) and a.keys() <= _AUTHZ_PLACED for a in authz):
        del rest["authorizationInfo"]
    return rest


def _last_word(method: str | None) -> str:
    """``io.k8s.core.v1.pods.list`` -> list; ``v1.compute.instances.insert`` -> insert; CamelCase
    verbs (``SetIamPolicy``) lower-cased."""
    m = _VERB.search((method or "").rsplit(".", 1)[-1])
    return m.group(0).lower() if m else ""


def _rest_activity(doc: dict[str, Any]) -> dict[str, Any] | None:
    """An Activity Log event as the Azure Monitor REST API answers it (``az monitor activity-log
    list``, ``Get-AzActivityLog``: ``operationName``, ``status`` and ``category`` are
    ``{"value", "localizedValue"}`` objects, the time ``eventTimestamp``, the caller's address in
    ``httpRequest``) in the diagnostic settings' names :func:`_azure` reads; None for any other record."""
    op = doc.get("operationName")
    if not (isinstance(op, dict) and ("eventDataId" in doc or "eventTimestamp" in doc)):
        return None
    return {**doc, "operationName": op.get("value"), "time": doc.get("eventTimestamp"),
            "resultType": _d(doc.get("status")).get("value"), "category": _d(doc.get("category")).get("value"),
            "callerIpAddress": _d(doc.get("httpRequest")).get("clientIpAddress"), "identity": {"claims": doc.get("claims")},
            "resourceId": _s(doc.get("resourceId")) or _s(doc.get("resourceUri"))}  # fmt: skip


def _azure(docs: list[dict[str, Any]], raws: list[bytes], fmt: str) -> pa.RecordBatch:
    ops = [_s(d.get("operationName")) for d in docs]
    result = [_s(d.get("resultType")) for d in docs]
    outcome = [_AZ_STATUS.get(r.lower(), (99, r)) if r else (0, "Unknown") for r in result]
    rid = [_s(d.get("resourceId")) for d in docs]
    claims = [_d(_d(d.get("identity")).get("claims")) for d in docs]
    # who the role assignment that allowed the call was for (Azure RBAC's evidence): a service
    # principal's calls name no caller and carry no name claim
    evidence = [_d(_d(_d(d.get("identity")).get("authorization")).get("evidence")) for d in docs]
    kinds = [_PRINCIPAL_TYPES.get(str(e.get("principalType"))) for e in evidence]
    callers = [_address(d.get("callerIpAddress")) for d in docs]
    cols = {
        "api.operation": ops,
        "api.service.name": [o.split("/", 1)[0] if o and "/" in o else None for o in ops],
        "actor.user.name": [_s(d.get("caller")) or _s(c.get("name")) or _s(c.get(_UPN)) for d, c in zip(docs, claims, strict=True)],
        "actor.user.uid": [_s(c.get(_OID)) or (_s(e.get("principalId")) if k else None)
                           for c, e, k in zip(claims, evidence, kinds, strict=True)],  # fmt: skip
        "actor.user.type_id": [k[0] if k else None for k in kinds],
        "actor.user.type": [k[1] if k else None for k in kinds],
        "actor.app_uid": [_s(c.get("appid")) for c in claims],
        "src_endpoint.ip": [ip for ip, _ in callers],
        "src_endpoint.port": pa.array([port for _, port in callers], pa.int32()),
        **_unknown_endpoint([ip for ip, _ in callers]),
        "resources": pa.array([[{"type": None, "name": None, "uid": r}] if r else None for r in rid], _RES),
        "status_id": [o[0] for o in outcome],
        "status": [o[1] for o in outcome],
        "status_detail": result,
        "metadata.correlation_uid": [_s(d.get("correlationId")) for d in docs],
        "metadata.original_event_uid": [_s(d.get("eventDataId")) for d in docs],
        "http_request.http_method": [_s(_d(d.get("httpRequest")).get("method")) for d in docs],
        "cloud.provider": ["Azure"] * len(docs),
        "cloud.account.uid": [_subscription(r) for r in rid],
    }
    acts = [_AZ_ACT.get((o or "").rsplit("/", 1)[-1].lower(), 99) for o in ops]
    sev = [_azure_severity(d) for d in docs]
    return _batch(fmt, raws, [_s(d.get("time")) for d in docs], acts, sev, "Azure Monitor", "Microsoft", cols, _AZ_MAPPED,
                  _kept_caller(raws, _AZ_MAPPED, [d.get("callerIpAddress") for d in docs]))


_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
#: the RBAC evidence's principal types that are the caller itself (a group's assignment names the group)
_PRINCIPAL_TYPES = {"User": (1, "User"), "ServicePrincipal": (4, "Service")}
_SIGNIN_MAPPED = frozenset({"time", "operationName", "category", "resultType", "resultDescription", "callerIpAddress",
                            "correlationId", "Level", "level", "identity", "tenantId"})  # fmt: skip
#: the identities that sign in without a user: a service principal's or a managed identity's app
_APP_SIGNINS = frozenset({"serviceprincipalsigninlogs", "managedidentitysigninlogs", "microsoftserviceprincipalsigninlogs"})
_RISK = {"none": 0, "low": 1, "medium": 2, "high": 3}
_RISK_NAMES = ("Info", "Low", "Medium", "High")
_PROTOCOL = {"oauth2": (6, "OAUTH 2.0"), "saml20": (5, "SAML")}


def _is_signin(doc: dict[str, Any]) -> bool:
    """A Microsoft Entra ID sign-in record (category ``SignInLogs``, ``NonInteractiveUserSignInLogs``,
    ``ServicePrincipalSignInLogs``, ``ManagedIdentitySignInLogs``..., or the older ``SignIn``)."""
    cat = doc.get("category")
    return isinstance(cat, str) and (cat.lower().endswith("signinlogs") or cat == "SignIn")


def _is_graph_signin(doc: dict[str, Any]) -> bool:
    """A Microsoft Graph ``signIn`` (``/auditLogs/signIns``, the Entra admin center's JSON
    download): ``createdDateTime``, ``appId``, a ``status`` object, a user or service principal."""
    return (isinstance(doc.get("createdDateTime"), str) and "appId" in doc and isinstance(doc.get("status"), dict)
            and ("userPrincipalName" in doc or "servicePrincipalId" in doc))  # fmt: skip


def _app_signin(doc: dict[str, Any], props: dict[str, Any]) -> bool:
    """A service principal's or managed identity's sign-in: by its Azure Monitor category, or by
    the Graph (beta) ``signInEventTypes``."""
    kinds = props.get("signInEventTypes")
    return str(doc.get("category", "")).lower() in _APP_SIGNINS or (
        isinstance(kinds, list) and any(k in ("servicePrincipal", "managedIdentity") for k in kinds))


def _signin(docs: list[dict[str, Any]], raws: list[bytes], fmt: str) -> pa.RecordBatch:
    """Entra ID sign-ins as Azure Monitor delivers them (``properties`` holds the Graph signIn
    resource) -> Authentication (3002) Logon: the user (a service principal's or managed identity's
    sign-in: the app, type Service), the outcome (``status.errorCode`` 0, else ``resultType`` "0",
    is Success; any other code Failure, its ``failureReason`` the detail), client address, place
    and user agent, the app signed in to as ``service``, risk during sign-in, protocol, MFA."""
    props = [_d(d.get("properties")) for d in docs]
    apps = [_app_signin(d, p) for d, p in zip(docs, props, strict=True)]
    codes = [_signin_code(d, p) for d, p in zip(docs, props, strict=True)]
    ips = [_address(p.get("ipAddress"))[0] or _address(d.get("callerIpAddress"))[0] for d, p in zip(docs, props, strict=True)]
    places = [_d(p.get("location")) for p in props]
    coords = [_d(pl.get("geoCoordinates")) if _s(pl.get("countryOrRegion")) else {} for pl in places]
    risk = [_RISK.get(str(p.get("riskLevelDuringSignIn", "")).lower()) for p in props]
    proto = [_s(p.get("authenticationProtocol")) for p in props]
    mfa = [_s(p.get("authenticationRequirement")) for p in props]
    devices = [_d(p.get("deviceDetail")) for p in props]
    # what was signed in to: a user's app, else (and for an app signing in as itself) the resource
    service = [(_s(p.get("appDisplayName")), _s(p.get("appId"))) if _s(p.get("appDisplayName")) and not app
               else (_s(p.get("resourceDisplayName")), _s(p.get("resourceId"))) for p, app in zip(props, apps, strict=True)]  # fmt: skip
    cols = {
        "metadata.event_code": [_s(d.get("category")) for d in docs],
        "metadata.original_event_uid": [_s(p.get("id")) for p in props],
        "metadata.correlation_uid": [_s(d.get("correlationId")) or _s(p.get("correlationId"))
                                     for d, p in zip(docs, props, strict=True)],  # fmt: skip
        "user.name": [_s(p.get("servicePrincipalName")) or _s(p.get("appDisplayName")) if app
                      else _s(p.get("userPrincipalName")) or _s(d.get("identity"))
                      for d, p, app in zip(docs, props, apps, strict=True)],  # fmt: skip
        "user.uid": [_s(p.get("servicePrincipalId" if app else "userId")) for p, app in zip(props, apps, strict=True)],
        "user.full_name": [None if app else _s(p.get("userDisplayName")) for p, app in zip(props, apps, strict=True)],
        "user.type_id": [4 if app else 1 for app in apps],
        "user.type": ["Service" if app else "User" for app in apps],
        "status_id": [0 if c is None else 1 if c == "0" else 2 for c in codes],
        "status": ["Unknown" if c is None else "Success" if c == "0" else "Failure" for c in codes],
        "status_code": codes,
        "status_detail": [None if c in (None, "0") else _s(_d(p.get("status")).get("failureReason")) or _s(d.get("resultDescription"))
                          for d, p, c in zip(docs, props, codes, strict=True)],  # fmt: skip
        "src_endpoint.ip": ips,
        **_unknown_endpoint(ips),
        "src_endpoint.location.city": [_s(pl.get("city")) for pl in places],
        "src_endpoint.location.region": [_s(pl.get("state")) for pl in places],
        "src_endpoint.location.country": [c if len(c := str(pl.get("countryOrRegion") or "")) == 2 else None
                                           for pl in places],  # ISO 3166-1 alpha-2, as OCSF wants it  # fmt: skip
        "src_endpoint.location.lat": pa.array([_num(c.get("latitude")) for c in coords], pa.float64()),
        "src_endpoint.location.long": pa.array([_num(c.get("longitude")) for c in coords], pa.float64()),
        "http_request.user_agent": [_s(p.get("userAgent")) for p in props],
        "device.uid": [_s(dev.get("deviceId")) for dev in devices],
        "device.name": [_s(dev.get("displayName")) for dev in devices],
        "device.type_id": [0 if _s(dev.get("deviceId")) or _s(dev.get("displayName")) else None for dev in devices],
        "device.type": ["Unknown" if _s(dev.get("deviceId")) or _s(dev.get("displayName")) else None for dev in devices],
        "service.name": [name for name, _ in service],
        "service.uid": [uid for _, uid in service],
        "session.uid": [_s(p.get("sessionId")) for p in props],
        "risk_level_id": [r for r in risk],
        "risk_level": [None if r is None else _RISK_NAMES[r] for r in risk],
        "auth_protocol_id": [None if not p or p == "none" else _PROTOCOL.get(p.lower(), (99, p))[0] for p in proto],
        "auth_protocol": [None if not p or p == "none" else _PROTOCOL.get(p.lower(), (99, p))[1] for p in proto],
        "is_mfa": pa.array([None if m is None else m == "multiFactorAuthentication" and c == "0"
                            for m, c in zip(mfa, codes, strict=True)], pa.bool_()),  # fmt: skip
        "cloud.provider": ["Azure"] * len(docs),
        "cloud.org.uid": [_s(d.get("tenantId")) for d in docs],
    }
    times = [_iso(d.get("time"), p.get("createdDateTime")) for d, p in zip(docs, props, strict=True)]
    sev = [_azure_severity(d) for d in docs]
    return _batch(fmt, raws, times, [1] * len(docs), sev, "Entra ID", "Microsoft", cols, _SIGNIN_MAPPED,
                  _kept_caller(raws, _SIGNIN_MAPPED, [d.get("callerIpAddress") for d in docs]), cls="authentication")


_AUDIT_MAPPED = frozenset({"time", "operationName", "category", "callerIpAddress", "correlationId", "Level", "level",
                           "identity", "tenantId"})  # fmt: skip
_AUDIT_ACT = {"add": 1, "update": 3, "assign": 3, "unassign": 3, "delete": 4}


def _directory_audit(docs: list[dict[str, Any]], raws: list[bytes], fmt: str) -> pa.RecordBatch:
    """Entra ID directory audit records as Azure Monitor exports them (``category`` ``AuditLogs``;
    ``properties`` holds the Graph ``directoryAudit``) -> API Activity: who acted (``initiatedBy``:
    a user by UPN, id, display name and address, or an app by name and service principal id, type
    Service; else ``identity``), ``result`` (success/failure) with ``resultReason``, the activity from
    ``operationType`` (Add Create, Update/Assign/Unassign Update, Delete Delete), ``loggedByService``
    as the service, ``targetResources[]`` as the resources; product Entra ID."""
    props = [_d(d.get("properties")) for d in docs]
    users = [_d(_d(p.get("initiatedBy")).get("user")) for p in props]
    apps = [_d(_d(p.get("initiatedBy")).get("app")) for p in props]
    result = [str(p.get("result", "")).lower() for p in props]
    ips = [_address(d.get("callerIpAddress"))[0] or _address(u.get("ipAddress"))[0] for d, u in zip(docs, users, strict=True)]
    cols = {
        "api.operation": [_s(d.get("operationName")) or _s(p.get("activityDisplayName")) for d, p in zip(docs, props, strict=True)],
        "api.service.name": [_s(p.get("loggedByService")) for p in props],
        "metadata.event_code": [_s(p.get("category")) for p in props],
        "metadata.original_event_uid": [_s(p.get("id")) for p in props],
        "metadata.correlation_uid": [_s(d.get("correlationId")) or _s(p.get("correlationId"))
                                     for d, p in zip(docs, props, strict=True)],  # fmt: skip
        "actor.user.name": [_s(u.get("userPrincipalName")) or _s(a.get("displayName")) or _s(a.get("servicePrincipalName"))
                            or _s(d.get("identity")) for d, u, a in zip(docs, users, apps, strict=True)],  # fmt: skip
        "actor.user.uid": [_s(u.get("id")) or _s(a.get("servicePrincipalId")) for u, a in zip(users, apps, strict=True)],
        "actor.user.full_name": [_s(u.get("displayName")) for u in users],
        "actor.user.type_id": [1 if u else 4 if a else None for u, a in zip(users, apps, strict=True)],
        "actor.user.type": ["User" if u else "Service" if a else None for u, a in zip(users, apps, strict=True)],
        "src_endpoint.ip": ips,
        **_unknown_endpoint(ips),
        "http_request.user_agent": [_s(p.get("userAgent")) for p in props],
        "resources": pa.array([[{"type": _s(t.get("type")) or _s(t.get("Type")),
                                 "name": _s(t.get("displayName")) or _s(t.get("userPrincipalName")), "uid": _s(t.get("id"))}
                                for t in p.get("targetResources") or () if isinstance(t, dict)] or None
                               if isinstance(p.get("targetResources"), list) else None for p in props], _RES),  # fmt: skip
        "status_id": [1 if r == "success" else 2 if r == "failure" else 0 for r in result],
        "status": ["Success" if r == "success" else "Failure" if r == "failure" else "Unknown" for r in result],
        "status_detail": [_s(p.get("resultReason")) for p in props],
        "cloud.provider": ["Azure"] * len(docs),
        "cloud.org.uid": [_s(d.get("tenantId")) for d in docs],
    }
    acts = [_AUDIT_ACT.get(str(p.get("operationType", "")).lower(), 99) for p in props]
    times = [_iso(d.get("time"), p.get("activityDateTime")) for d, p in zip(docs, props, strict=True)]
    return _batch(fmt, raws, times, acts, [_azure_severity(d) for d in docs], "Entra ID", "Microsoft", cols, _AUDIT_MAPPED,
                  _kept_caller(raws, _AUDIT_MAPPED, [d.get("callerIpAddress") for d in docs]))


def _signin_code(doc: dict[str, Any], props: dict[str, Any]) -> str | None:
    """The sign-in's error code as text ("0": it succeeded): ``properties.status.errorCode``, else
    ``resultType`` (Azure Monitor writes the same code there as a string)."""
    code = _d(props.get("status")).get("errorCode")
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    return _s(doc.get("resultType"))


def _iso(*times: Any) -> str | None:
    """The first of ``times`` written as ISO 8601, else the first given: Azure Monitor sometimes
    writes a record's ``time`` in the US form (``11/14/2025 1:48:53 AM``), which the Graph
    resource's own ``createdDateTime``/``activityDateTime`` beside it gives in ISO 8601."""
    given = [t for t in times if isinstance(t, str) and t]
    return next((t for t in given if t[:4].isdigit()), given[0] if given else None)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _azure_severity(doc: dict[str, Any]) -> int:
    """severity_id of an Azure Monitor record's level: a name (``level``: Informational, Warning...)
    or the number resource logs write (``Level``: 1 Critical, 2 Error, 3 Warning, 4 Informational,
    5 Verbose, as an int or a string)."""
    level = doc.get("level", doc.get("Level"))
    return _AZ_SEV.get(_AZ_LEVELS.get(str(level), str(level)).lower(), 1)


_AZ_LEVELS = {"1": "critical", "2": "error", "3": "warning", "4": "informational", "5": "verbose"}


def _subscription(resource_id: str | None) -> str | None:
    """The subscription id in ``/subscriptions/<id>/resourceGroups/...``."""
    parts = (resource_id or "").split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" and parts[2] else None
