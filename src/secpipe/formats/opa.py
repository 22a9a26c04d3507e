"""Open Policy Agent decision logs (one object, a JSON array as the decision-log service
receives it, or NDJSON as the console logger writes it).

Class: **API Activity (6003)**. An OPA decision is one policy query made over OPA's API by an
enforcement point (Envoy, Kubernetes admission, an application) and answered allow/deny.
OCSF 1.8.0's Authorize Session (3003) reports privileges assigned to a *new user session at
login*, and Authentication (3002) reports logons: neither fits a per-request policy decision.
API Activity carries exactly what a decision log holds: the API call (``api.operation`` = the
decision path, ``api.request.uid`` = decision_id, ``api.request.data`` = input,
``api.response.data`` = result) and its outcome as native attributes -- ``authorizations[]``
(Authorization Result: ``decision`` + ``policy``) and ``action_id`` Allowed (1) / Denied (2).

Shape: OPA's ``EventV1`` (``plugins/logs``): labels, decision_id, trace_id, span_id, revision
(deprecated), bundles, path (absent for ad-hoc queries, which carry ``query``), input, result,
mapped_result, nd_builtin_cache, erased, masked, error, requested_by, timestamp, metrics,
req_id, request_context, intermediate_results; input/result may be absent (erased or
undefined). The decision-log plugin POSTs gzip JSON arrays; the console logger writes one
object per line with logrus' ``msg``/``level``/``time`` added.

Mapping: ``timestamp`` (RFC 3339, or an epoch number: ``base.epoch_ms``) -> ``time``; decision from
``result`` (``true``/``false``, an object's
``allow``/``allowed`` boolean, or a Kubernetes AdmissionReview's ``response.allowed``) ->
``authorizations[0].decision`` ("allowed"/"denied"), ``action_id`` / ``action`` and
``disposition_id`` (Allowed 1 / Blocked 2); results that are not a yes/no answer keep action
Unknown. ``path`` (a leading slash dropped: OPA's docs tell receivers to tolerate slash-prefixed
paths, ``/http/example/authz/allow`` is ``http/example/authz/allow``) -> ``api.operation`` and ``policy.name``; bundle revisions
(``bundles.<name>.revision``, legacy ``revision``) -> ``policy.version`` (``name@revision``
joined by commas) and ``policy.uid``; ``input.method`` or Envoy's
``input.attributes.request.http.method`` -> ``activity_id`` (GET/HEAD Read, POST Create,
PUT/PATCH Update, DELETE Delete, else Other) and ``http_request.http_method``; for a Kubernetes
AdmissionReview input, ``input.request.operation`` -> ``activity_id`` (CREATE, UPDATE, DELETE;
CONNECT Other) and ``input.request.userInfo.username`` -> ``actor.user.name`` (else a string
``input.user``, as OPA's HTTP API authorization examples pass the caller); ``input.path`` (a
string, or a segment list joined as ``/a/b/c``; Envoy: ``input.attributes.request.http.path``)
-> ``http_request.url.path``; the Envoy
request's ``user-agent`` header -> ``http_request.user_agent``, its ``host`` (the authority, ``host[:port]``) and
``scheme`` -> ``http_request.url.hostname``/``port``/``scheme``, ``id`` (Envoy's request id) -> ``http_request.uid``,
``protocol`` (``HTTP/1.1``) -> ``http_request.version`` (``1.1``), and the checked service,
``input.attributes.destination.address.socketAddress`` -> ``dst_endpoint.ip``/``port`` (Envoy's
``AttributeContext``); the client: Envoy's
``input.attributes.source.address.socketAddress`` when present, else ``requested_by``
(``host:port``, the caller of OPA's API) -> ``src_endpoint.ip``/``port`` (a port outside 0-65535 is none);
``labels.id``/``labels.version`` -> ``metadata.product.uid``/``version``; ``error`` -> status
Failure with the error's ``message`` as ``status_detail`` and its ``code`` as ``status_code``
(the whole error stays in ``unmapped``), else Success; ``trace_id``/``span_id`` ->
``trace.uid``/``trace.span.uid``. ``decision_id`` is also ``metadata.original_event_uid``.
Everything else (labels, metrics, erased, masked, nd_builtin_cache, req_id,
intermediate_results ...) stays in ``unmapped``. A record without ``decision_id`` and ``path``
is dead-lettered, except OPA's own server log lines: the console logger writes decisions
(``"msg": "Decision Log"``) into the same stream as OPA's runtime log (logrus objects with a
``level`` and ``msg`` string and no ``decision_id``/``path``: "OPA is up to date.", "Returning
policy decision." ...); those lines are no decision events and are left out (neither stored
nor dead-lettered, and not counted as events), so a captured ``opa run`` output ingests whole.
OPA Gatekeeper's violation lines (its audit pod's and, with ``--log-denies``, its webhook's
zap JSON lines naming a ``constraint_kind``) and mutation lines (``--log-mutations``: ``event_type``
``mutation_applied``) are no server log line: they are mapped by :mod:`._gatekeeper` (audit
violations Compliance Findings, admission denials and mutations API Activity), and so
are the audit violations its constraints list in ``status.violations`` (``kubectl get constraints -o
json``), each read as the audit pod's line for it (:func:`._gatekeeper.constraint_violations`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _cri, _gatekeeper
from secpipe.formats._findings import CheckedTopFormat, TopLevel, nest, singleton_list, strs
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    Records,
    TimeField,
    base_columns,
    event_uids,
    parse_times,
    to_batch,
)
from secpipe.formats.base import text_or_none as _text


class _Bundle(msgspec.Struct):
    revision: str | None = None


class _Decision(msgspec.Struct):
    decision_id: str | None = None
    path: str | None = None
    query: str | None = None
    timestamp: TimeField = None
    requested_by: str | None = None
    revision: str | None = None
    bundles: dict[str, _Bundle] | None = None
    labels: dict[str, Any] | None = None
    input: Any = None
    result: Any = None
    error: Any = None
    trace_id: str | None = None
    span_id: str | None = None


class _LogLine(msgspec.Struct):
    """The keys telling OPA's own runtime log lines from decision events."""

    level: Any = None
    msg: Any = None
    decision_id: Any = None
    path: Any = None
    type: Any = None


_LOG_LINE = msgspec.json.Decoder(_LogLine)
_DECISION_TYPE = "openpolicyagent.org/decision_logs"


def _constraints(recs: Records, fmt: str) -> Records:
    """``recs`` with each Gatekeeper constraint document replaced by its audit violation lines
    (:func:`._gatekeeper.constraint_violations`); one holding none is dead-lettered with the reason."""
    out = Records(dead=recs.dead, events=recs.events)
    for raw, loc in zip(recs.raws, recs.locs, strict=True):
        lines = _gatekeeper.constraint_violations(raw)
        if lines is None:
            out.raws.append(raw)
            out.locs.append(loc)
        elif not lines:
            out.dead.append(DeadLetter(_gatekeeper.NO_VIOLATIONS, loc[0], loc[1], raw, fmt))
        else:
            out.raws.extend(lines)
            out.locs.extend([loc] * len(lines))
            out.events += len(lines) - 1  # the document counted as one
    return out


def _server_log_line(raw: bytes) -> bool:
    """Whether a record is a line of OPA's runtime log (not a decision) in a console stream."""
    if b'"msg"' not in raw or b'"level"' not in raw:
        return False
    try:
        r = _LOG_LINE.decode(raw)
    except msgspec.DecodeError:  # not an object: left for the decoder to dead-letter
        return False
    return (isinstance(r.level, str) and isinstance(r.msg, str) and r.decision_id is None and r.path is None
            and r.type != _DECISION_TYPE)  # fmt: skip


_MAPPED = frozenset({"decision_id", "path", "query", "timestamp", "requested_by", "revision", "bundles", "input", "result",
                     "trace_id", "span_id"})  # fmt: skip
_METHOD_ACTIVITY = {"GET": 2, "HEAD": 2, "OPTIONS": 2, "POST": 1, "PUT": 3, "PATCH": 3, "DELETE": 4}
#: Kubernetes admission operations (AdmissionRequest.operation) -> activity.
_ADMISSION_ACTIVITY = {"CREATE": 1, "UPDATE": 3, "DELETE": 4}


def _dig(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _method(inp: Any) -> str | None:
    if not isinstance(inp, dict):
        return None
    m = inp.get("method")
    if m is None:
        m = _dig(inp, "attributes", "request", "http", "method")
    return str(m).upper() if isinstance(m, str) else None


def _activity(method: str | None, inp: Any) -> int:
    if method:
        return _METHOD_ACTIVITY.get(method, 99)
    op = _dig(inp, "request", "operation")
    return _ADMISSION_ACTIVITY.get(op, 99) if isinstance(op, str) else 99


def _http_path(inp: Any) -> str | None:
    """``input.path`` (a string, or the segment list of OPA's HTTP API authorization examples:
    ``["finance", "salary", "alice"]`` is ``/finance/salary/alice``), else Envoy's request path."""
    if not isinstance(inp, dict):
        return None
    p = inp.get("path")
    if type(p) is list and p and all(type(x) is str for x in p):
        return "/" + "/".join(p)
    return _text(p) or _text(_dig(inp, "attributes", "request", "http", "path"))


def _user(inp: Any) -> str | None:
    """The caller: an AdmissionReview's ``request.userInfo.username``, else a string ``input.user``
    (as OPA's HTTP API authorization examples pass the authenticated user)."""
    if type(inp) is not dict:
        return None
    if "request" in inp and (name := _text(_dig(inp, "request", "userInfo", "username"))):
        return name
    return _text(inp.get("user"))


def _source(d: _Decision) -> tuple[str | None, int | None]:
    """The client: Envoy's downstream address when the input is an Envoy check, else requested_by."""
    sock = _dig(d.input, "attributes", "source", "address", "socketAddress")
    if isinstance(sock, dict) and isinstance(sock.get("address"), str):
        return sock["address"], _port(sock.get("portValue"))
    return _endpoint(d.requested_by)


def _envoy_http(d: _Decision) -> dict[str, Any]:
    """Envoy's ``input.attributes.request.http`` (the ext_authz CheckRequest's HTTP request), else {}."""
    if type(d.input) is not dict or "attributes" not in d.input:
        return {}
    h = _dig(d.input, "attributes", "request", "http")
    return h if type(h) is dict else {}


def _destination(d: _Decision) -> tuple[str | None, int | None]:
    """The service Envoy checks the request for: ``input.attributes.destination.address.socketAddress``."""
    if type(d.input) is not dict or "attributes" not in d.input:
        return None, None
    sock = _dig(d.input, "attributes", "destination", "address", "socketAddress")
    if isinstance(sock, dict) and isinstance(sock.get("address"), str):
        return sock["address"], _port(sock.get("portValue"))
    return None, None


def _port(v: Any) -> int | None:
    """A TCP port (0-65535), else None: a value out of range is no port (and would not fit the column)."""
    return v if type(v) is int and 0 <= v <= 65535 else None


def _allowed(result: Any) -> bool | None:
    if isinstance(result, bool):
        return result
    if isinstance(result, str) and result.lower() in ("true", "false"):
        return result.lower() == "true"
    if isinstance(result, dict):
        for k in ("allow", "allowed"):
            if isinstance(result.get(k), bool):
                return bool(result[k])
        if result.get("kind") == "AdmissionReview" and isinstance(_dig(result, "response", "allowed"), bool):
            return bool(result["response"]["allowed"])
    return None


def _endpoint(addr: str | None) -> tuple[str | None, int | None]:
    if not addr:
        return None, None
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        return addr.strip("[]"), None
    return host.strip("[]") or None, _port(int(port))


_SCISSORS = re.compile(rb"(?m)^[ \t]*-{3,}[ \t]*8<[ \t]*-{3,}[ \t]*\r?\n")


class Opa(CheckedTopFormat):
    """OPA decision logs."""

    name = "opa"
    record_type = _Decision
    what = "an OPA decision log"
    invalid_reason = "not an OPA decision log: no `decision_id` or `path`"
    description = ("OPA decision logs (object, array, NDJSON) -> API Activity (6003) with authorization result; "
                   "Gatekeeper violation log lines and constraint status -> Compliance Finding (audit) / API Activity "
                   "(admission)")
    framing = "lines"
    mapped = _MAPPED
    top_fields = ("input", "result")
    product = "Open Policy Agent"
    vendor = "OPA"

    def sniff(self, head: bytes) -> int:
        """Recognize decision-log keys."""
        h = head[:8192]
        if b'"decision_id"' in h and any(k in h for k in (b'"path"', b'"result"', b'"query"', b'"labels"')):
            return 90
        if _gatekeeper.is_violation(h) and b'"constraint_name"' in h and b'"resource_kind"' in h:
            return 80  # Gatekeeper's violation lines (its audit pod's, its webhook's --log-denies)
        if b'"constraints.gatekeeper.sh/' in h and b'"violations"' in h:
            return 80  # Gatekeeper constraints with their audit results (kubectl get constraints -o json)
        if _gatekeeper.is_mutation(h) and b'"Mutation Id"' in h:
            return 80  # Gatekeeper's mutation lines (its webhook's --log-mutations)
        return 0

    def split_records(self, data: bytes, source: str) -> Records:
        """Split decisions; a document that only parses without its "8<" cut lines is read without them.

        OPA's documentation elides parts of long decisions with a ``---- 8< ----`` line, and
        such examples get copied into test corpora and tickets verbatim. Nothing else is relaxed.
        A node's container log of the OPA or Gatekeeper pod is read without the runtime's line headers
        (:mod:`._cri`).
        """
        data = _cri.blank_headers(data)
        recs = super().split_records(data, source)
        if b'"constraints.gatekeeper.sh/' in data:
            recs = _constraints(recs, self.name)
        if recs.dead and b"8<" in data:
            cut = _SCISSORS.sub(b"", data)
            if cut != data:
                again = super().split_records(cut, source)
                if not again.dead:
                    return again
        return recs

    def map_records(self, recs: Records) -> Decoded:
        """Map decisions and Gatekeeper's violation lines (:mod:`._gatekeeper`), leaving out OPA's
        runtime log lines interleaved in console output."""
        gk: list[int] = []
        gk_recs: tuple[list[bytes], list[tuple[str, int]]] = ([], [])
        if any(b'"msg"' in r for r in recs.raws):
            gk = [i for i, r in enumerate(recs.raws) if _gatekeeper.is_line(r)]
            taken = set(gk)
            keep = [i for i, r in enumerate(recs.raws) if i not in taken and not _server_log_line(r)]
            if len(keep) < len(recs.raws):
                gk_recs = ([recs.raws[i] for i in gk], [recs.locs[i] for i in gk])
                recs = Records([recs.raws[i] for i in keep], [recs.locs[i] for i in keep], recs.dead,
                               recs.events - (len(recs.raws) - len(keep)))  # fmt: skip
        out = super().map_records(recs)
        if gk:
            out.events += len(gk)
            _gatekeeper.decode(*gk_recs, out, self.name)
        return out

    def is_valid(self, rec: _Decision) -> bool:
        """A record must carry the format's identifying keys."""
        return bool(rec.decision_id or rec.path)

    def map_top(self, ds: list[_Decision], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
        n = len(ds)
        cls = "api_activity"
        for d in ds:  # OPA: "receivers should tolerate slash-prefixed paths" (the same decision path)
            if d.path and d.path[:1] == "/":
                d.path = d.path.lstrip("/") or None
        methods = [_method(d.input) for d in ds]
        allowed = [_allowed(d.result) for d in ds]
        act = pa.array([_activity(m, d.input) for m, d in zip(methods, ds, strict=True)], pa.int32())
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
            times_ms=parse_times([d.timestamp for d in ds]), raws=raws, activity_id=act, severity_id=1,
        )  # fmt: skip
        # bundles built without a revision (EventV1's revision is omitempty: {"authz": {}}) name no version
        revs = [
            ",".join(f"{k}@{b.revision}" for k, b in sorted(d.bundles.items()) if b.revision) or None if d.bundles
            else d.revision or None
            for d in ds
        ]
        callers = {rb: _endpoint(rb) for rb in {d.requested_by for d in ds}}  # few distinct callers
        ends = [_source(d) if type(d.input) is dict and "attributes" in d.input else callers[d.requested_by] for d in ds]
        errs = [d.error if isinstance(d.error, dict) else {} for d in ds]
        failed = [d.error is not None for d in ds]
        decision = ["allowed" if a else "denied" if a is False else None for a in allowed]
        paths = [d.path for d in ds]
        # one authorization where the decision has a result or a policy path (built from columns:
        # a nested dict a decision cost ~6% of the mapping)
        has = [bool(dec or p) for dec, p in zip(decision, paths, strict=True)]
        auth = singleton_list(nest({"decision": strs(decision), "policy.name": strs(paths), "policy.version": strs(revs)}),
                              None if all(has) else pa.array(has, pa.bool_()))  # fmt: skip
        labels = [d.labels or {} for d in ds]
        inputs = top.raw["input"]
        envoy = [_envoy_http(d) for d in ds]
        url_paths = [_http_path(d.input) for d in ds]
        # Envoy's host (the :authority, host[:port]) and scheme name the URL only beside its path (OCSF url)
        hosts = [_endpoint(_text(h.get("host"))) if p else (None, None) for h, p in zip(envoy, url_paths, strict=True)]
        dests = [_destination(d) for d in ds]
        cols.update({
            "status_id": pa.array([2 if f else 1 for f in failed], pa.int32()),
            "status": strs(["Failure" if f else "Success" for f in failed]),
            "status_detail": strs([_text(e.get("message")) or (d.error if isinstance(d.error, str) else None)
                                   for e, d in zip(errs, ds, strict=True)]),
            "status_code": strs([_text(e.get("code")) for e in errs]),
            "action_id": pa.array([1 if a else 2 if a is False else 0 for a in allowed], pa.int32()),
            "action": strs(["Allowed" if a else "Denied" if a is False else "Unknown" for a in allowed]),
            "disposition_id": pa.array([1 if a else 2 if a is False else 0 for a in allowed], pa.int32()),
            "disposition": strs(["Allowed" if a else "Blocked" if a is False else "Unknown" for a in allowed]),
            "authorizations": auth,
            "policy.name": strs(paths),
            "policy.version": strs(revs),
            "policy.uid": strs([d.revision for d in ds]),
            "metadata.original_event_uid": strs([d.decision_id for d in ds]),
            "metadata.product.uid": strs([None if lb.get("id") is None else str(lb["id"]) for lb in labels]),
            "metadata.product.version": strs([None if lb.get("version") is None else str(lb["version"]) for lb in labels]),
            "api.operation": strs([d.path or d.query for d in ds]),
            "api.service.name": strs(["opa"] * n),
            "api.request.uid": strs([d.decision_id for d in ds]),
            "api.request.data": inputs,
            "api.response.data": top.raw["result"],
            "http_request.http_method": strs(methods),
            "actor.user.name": strs([_user(d.input) for d in ds]),
            "http_request.url.path": strs(url_paths),
            "http_request.url.hostname": strs([h[0] for h in hosts]),
            "http_request.url.port": pa.array([h[1] for h in hosts], pa.int32()),
            "http_request.url.scheme": strs([_text(h.get("scheme")) if p else None
                                             for h, p in zip(envoy, url_paths, strict=True)]),
            "http_request.user_agent": strs([_text(_dig(h, "headers", "user-agent")) for h in envoy]),
            "http_request.uid": strs([_text(h.get("id")) for h in envoy]),  # Envoy's request id (x-request-id)
            # Envoy's protocol "HTTP/1.1" is HTTP version 1.1
            "http_request.version": strs([v.removeprefix("HTTP/") if (v := _text(h.get("protocol"))) else None
                                          for h in envoy]),
            "dst_endpoint.ip": strs([e[0] for e in dests]),
            "dst_endpoint.port": pa.array([e[1] for e in dests], pa.int32()),
            "trace.uid": strs([d.trace_id or None for d in ds]),
            "trace.span.uid": strs([d.span_id or None for d in ds]),
            "src_endpoint.ip": strs([e[0] for e in ends]),
            "src_endpoint.port": pa.array([e[1] for e in ends], pa.int32()),
            "unmapped": top.unmapped,
        })  # fmt: skip
        return to_batch(cls, cols)


__all__ = ["Opa"]
