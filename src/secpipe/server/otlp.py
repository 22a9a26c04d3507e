"""OpenTelemetry OTLP/HTTP logs: ``POST /v1/logs`` (the Collector's ``otlphttp`` exporter, the SDKs'
``OTLPLogExporter``), per the OTLP specification's "OTLP/HTTP" section.

- request: an ``ExportLogsServiceRequest`` (opentelemetry-proto ``collector/logs/v1``) as binary
  protobuf (``Content-Type: application/x-protobuf``, the exporters' default) or in OTLP's JSON
  encoding (``application/json``: the proto3 JSON mapping with lowerCamelCase keys, 64-bit
  integers as strings or numbers, enums as integers (or their names, as proto3's JSON mapping has parsers
  take them), trace and span ids as hex, not base64; OTLP before 0.15's ``instrumentationLibraryLogs``,
  ``instrumentationLibrary`` and ``logs``, which senders still write, read as the ScopeLogs they became);
  ``Content-Encoding`` gzip (or the other codecs every route reads) within the body and
  decompressed limits. Another content type is answered 415.
- answer: an ``ExportLogsServiceResponse`` in the request's encoding, 200; with
  ``partialSuccess`` (``rejectedLogRecords``, ``errorMessage``: the first reason) when records
  were dead-lettered (a JSON request's log record that is no object too, alone: the others are
  stored, as the spec's partial success has a server answer). A failure is a ``google.rpc.Status`` (``code``, ``message``) in the
  request's encoding with the spec's status: 400 (an unreadable request, not retried), 401/403,
  413, 415, and 429/503 with ``Retry-After`` (retried by the exporter).

Authentication: a secpipe token with ``ingest`` as ``Authorization: Bearer`` (the exporter's
``headers``). Each log record becomes the document the Collector's ``elasticsearch`` exporter
writes in its ``otel`` mapping mode (``@timestamp``, ``severity_*``, ``trace_id``/``span_id``
in hex, ``attributes``, ``resource.attributes``, ``scope``, ``body.text`` or
``body.structured``), read as the wire routes read shipped documents (``server.shipped``): a
string body that is a line or JSON record a format reads (a syslog line, a Kubernetes audit
event the ``filelog`` receiver read) is stored with that format, the resource's ``host.name``
the host of a line that names none; a map body a format recognizes (a CloudTrail record parsed
by ``json_parser``) is that record, one wrapping a line (Fluent Bit's ``opentelemetry`` output
sends a ``tail`` record, ``{"log": line}``, as the body) that line; any other record is stored whole (generic ``json``), its
resource and record attributes (``service.name``, ``k8s.*``) with it (the document itself is never
detected as a format's record: its attributes are no record's keys). A record of Falcosidekick's
OTLP logs output (the alert's output text, its rule, priority, source, tags and time as attributes)
is that Falco alert (:func:`_sidekick_alert`). The events of a record a
specific format reads keep their envelope too (:mod:`secpipe.formats._context`): the resource's host, cloud
and container attributes where the format left ``device``/``cloud`` empty, the record's ``log.file.path``
as ``metadata.log_source``, the record's attributes, the resource and the scope in ``unmapped``
(``attributes``, ``resource.attributes``, ``scope``, as the generic documents hold them).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe.formats.base import UNREADABLE, DeadLetter
from secpipe.server.http import STORE_ERRORS, AppContext, HTTPError, authenticate, route, store_failed
from secpipe.server.shipped import envelope_context, lines_in
from secpipe.server.wire import ShippedLine, accept_docs, check_depth, detect_many, read_body_limited
from secpipe.server.workers import in_thread

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
#: google.rpc.Code of each HTTP status this route answers with (the Status message's ``code``)
_CODES = {400: 3, 401: 16, 403: 7, 408: 4, 413: 8, 415: 3, 429: 8, 503: 14}


class _Scope(msgspec.Struct, rename="camel"):
    name: Any = None
    version: Any = None
    attributes: Any = None


class _Resource(msgspec.Struct, rename="camel"):
    attributes: Any = None


class _ScopeLogs(msgspec.Struct, rename="camel"):
    scope: _Scope | None = None
    log_records: list[Any] | None = None  # a record that is no object is refused alone (:func:`json_request`)
    # OTLP before 0.15's ScopeLogs (InstrumentationLibraryLogs; its records were ``logs`` before 0.12)
    instrumentation_library: _Scope | None = None
    logs: list[Any] | None = None


class _ResourceLogs(msgspec.Struct, rename="camel"):
    resource: _Resource | None = None
    scope_logs: list[_ScopeLogs] | None = None
    schema_url: Any = None
    instrumentation_library_logs: list[_ScopeLogs] | None = None  # OTLP before 0.15 (removed in 0.19)


class _Request(msgspec.Struct, rename="camel"):
    resource_logs: list[_ResourceLogs] | None = None


_JSON_REQUEST = msgspec.json.Decoder(_Request)


def _json_value(v: Any) -> Any:
    """An AnyValue of the JSON encoding as the plain value it holds (a kvlist a dict)."""
    if v.__class__ is not dict:
        return None
    for key, val in v.items():
        if key == "stringValue" or key == "boolValue" or key == "doubleValue":
            return val
        if key == "intValue":
            return int(val) if isinstance(val, str) and val.lstrip("-").isdigit() and len(val) < 19 else val
        if key == "bytesValue":
            return val  # base64 already
        if key == "arrayValue":
            return [_json_value(x) for x in _values(val)]
        if key == "kvlistValue":
            return _json_attrs(_values(val))
    return None


def _values(v: Any) -> list[Any]:
    """The ``values`` of an ArrayValue or KeyValueList, or the list itself where a sender leaves
    the message out (opentelemetry-proto's own ``examples/events.json`` does, in ``kvlistValue``)."""
    if v.__class__ is dict:
        v = v.get("values")
    return v if isinstance(v, list) else []


def _json_attrs(kvs: Any) -> dict[str, Any]:
    if not isinstance(kvs, list):
        return {}
    return {kv["key"]: _json_value(kv.get("value")) for kv in kvs if kv.__class__ is dict and isinstance(kv.get("key"), str)}


def _nanos(v: Any) -> int:
    """A ``fixed64`` time in nanoseconds (a JSON number, or a string of digits as the proto3 JSON mapping
    writes 64-bit integers); 0 (no time) for what is none, past 2**64 too (it holds no fixed64)."""
    if isinstance(v, str):
        v = int(v) if v.isdigit() and len(v) <= 20 else 0
    return v if v.__class__ is int and 0 < v < 1 << 64 else 0


#: SeverityNumber's enum value names (logs.proto), which the proto3 JSON mapping has parsers take for the numbers
#: (the Collector's own file exporter wrote them so: ``"severityNumber": "SEVERITY_NUMBER_INFO"``)
_SEVERITY_NAMES = {f"SEVERITY_NUMBER_{name}{k if k > 1 else ''}": 4 * i + k
                   for i, name in enumerate(("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")) for k in range(1, 5)}


def _json_record(r: dict[str, Any]) -> dict[str, Any]:
    """A log record of the JSON encoding -> its fields (:func:`_document`'s input)."""
    severity = r.get("severityNumber")
    return {
        "time": _nanos(r.get("timeUnixNano")), "observed": _nanos(r.get("observedTimeUnixNano")),
        "severity_number": _SEVERITY_NAMES.get(severity, severity) if isinstance(severity, str) else severity,
        "severity_text": r.get("severityText"),
        "trace_id": _hex(r.get("traceId")), "span_id": _hex(r.get("spanId")), "event_name": r.get("eventName"),
        "attributes": _json_attrs(r.get("attributes")), "body": _json_value(r.get("body")),
    }  # fmt: skip


def _hex(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else None


def json_records(body: bytes) -> list[dict[str, Any]]:
    """The documents (:func:`_document`) of a request in the JSON encoding; ValueError when it is
    none (:func:`json_request`), or holds a log record that is no object."""
    records, odd = json_request(body)
    if odd:
        raise ValueError(odd[0][0])
    return records


def json_request(body: bytes) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
    """The documents (:func:`_document`) of a request in the JSON encoding, and the log records
    that are no JSON object (why, and the record), which the route refuses alone (the spec's
    partial success); ValueError when the request is none: an object of other keys only (a
    traces request, a Vector event its ``opentelemetry`` sink sends in the ``json`` codec) is
    refused rather than answered as an empty request (its unknown keys ignored, as the spec has
    receivers do, it would be one, and its data lost)."""
    try:
        req = _JSON_REQUEST.decode(body)
        empty = req.resource_logs is None and not msgspec.json.decode(body)
    except (*UNREADABLE, msgspec.ValidationError, UnicodeDecodeError) as exc:  # (nested past msgspec's guard too)
        raise ValueError(str(exc)) from None
    if req.resource_logs is None and not empty:  # unknown keys only: no logs request
        msg = "no resourceLogs"
        raise ValueError(msg)
    out = []
    odd: list[tuple[str, bytes]] = []
    for i, rl in enumerate(req.resource_logs or []):
        resource = _json_attrs(rl.resource.attributes) if rl.resource else {}
        for j, sl in enumerate((rl.scope_logs or []) + (rl.instrumentation_library_logs or [])):
            sc = sl.scope or sl.instrumentation_library or _Scope()
            scope = {"name": sc.name, "version": sc.version, "attributes": _json_attrs(sc.attributes)}
            for k, r in enumerate((sl.log_records or []) + (sl.logs or [])):
                if r.__class__ is dict:
                    out.append(_document(resource, scope, _json_record(r)))
                else:
                    odd.append((f"resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]: a log record must be a JSON object,"
                                f" not {type(r).__name__}", msgspec.json.encode(r)))  # fmt: skip
    return out, odd


def _pb_value(v: Any) -> Any:
    """An AnyValue message as the plain value it holds (a kvlist a dict, bytes in base64)."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return _pb_attrs(v.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, kind)


def _pb_attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in kvs}


def protobuf_records(body: bytes) -> list[dict[str, Any]]:
    """The documents (:func:`_document`) of a binary protobuf request; ValueError when it is none."""
    return _pb_documents(_pb_request(body))


def _pb_request(body: bytes) -> Any:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    try:
        return ExportLogsServiceRequest.FromString(body)
    except (DecodeError, RecursionError) as exc:
        raise ValueError(str(exc) or "unreadable protobuf") from None


#: what opens an OTLP logs request in the JSON encoding (``resourceLogs`` first, as every encoder writes it)
_JSON_HEAD = re.compile(rb'\s*\{\s*"resourceLogs"\s*:\s*\[')


def message_records(value: bytes) -> list[dict[str, Any]] | None:
    """The documents of a message that is an OTLP logs request, None for any other value: what
    the OpenTelemetry Collector's ``kafka`` exporter writes to its logs topic, one request a
    message (``encoding: otlp_proto``, its default: pdata's ``LogsData``, wire-equal to
    ``ExportLogsServiceRequest``; ``otlp_json``). A binary value is taken for one only when it
    parses whole with no field the logs messages do not define (a trace or metrics request
    shares the opening field; it would parse into records of misread fields) and holds a record."""
    if _JSON_HEAD.match(value):
        try:
            return json_records(value)
        except ValueError:
            return None
    if value[:1] != b"\x0a":  # field 1 (resource_logs), length-delimited
        return None
    try:
        req = _pb_request(value)
    except ValueError:
        return None
    req.DiscardUnknownFields()
    if req.ByteSize() != len(value) or not any(sl.log_records for rl in req.resource_logs for sl in rl.scope_logs):
        return None
    return _pb_documents(req)


def _pb_documents(req: Any) -> list[dict[str, Any]]:
    out = []
    for rl in req.resource_logs:
        resource = _pb_attrs(rl.resource.attributes)
        for sl in rl.scope_logs:
            scope = {"name": sl.scope.name, "version": sl.scope.version, "attributes": _pb_attrs(sl.scope.attributes)}
            for r in sl.log_records:
                out.append(_document(resource, scope, {
                    "time": r.time_unix_nano, "observed": r.observed_time_unix_nano,
                    "severity_number": r.severity_number, "severity_text": r.severity_text,
                    "trace_id": r.trace_id.hex(), "span_id": r.span_id.hex(), "event_name": r.event_name,
                    "attributes": _pb_attrs(r.attributes),
                    "body": _pb_value(r.body) if r.HasField("body") else None,
                }))  # fmt: skip
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _rfc3339(nanos: int) -> str | None:
    if not nanos:
        return None
    return (_EPOCH + dt.timedelta(microseconds=nanos // 1000)).isoformat().replace("+00:00", "Z")


def _document(resource: dict[str, Any], scope: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """A log record as the Collector's ``elasticsearch`` exporter writes it (``otel`` mode): the
    record's time (its observed time when it has none), empty fields left out."""
    body = rec["body"]
    doc = {
        "@timestamp": _rfc3339(rec["time"] or rec["observed"]), "observed_timestamp": _rfc3339(rec["observed"]),
        "severity_number": rec["severity_number"], "severity_text": rec["severity_text"],
        "trace_id": rec["trace_id"], "span_id": rec["span_id"], "event_name": rec["event_name"],
        "attributes": rec["attributes"], "resource": {"attributes": resource} if resource else None,
        "scope": {k: v for k, v in scope.items() if v} or None,
        "body": None if body is None else {"text": body} if isinstance(body, str) else {"structured": body},
    }  # fmt: skip
    return {k: v for k, v in doc.items() if v not in (None, "", 0, {})}


def resolve(records: list[dict[str, Any]], docs: list[bytes]) -> tuple[list[str | None], list[bytes]]:
    """Per record (``docs``: ``records`` encoded) the format that reads it and what it reads, as
    the wire routes read shipped documents (see module docstring); None: generic, the document."""
    names: list[str | None] = [None] * len(docs)
    docs = list(docs)
    maps = [i for i, r in enumerate(records) if r.get("body", {}).get("structured").__class__ is dict]
    if maps:  # a map body a specific format reads (a record a json_parser parsed): that record
        inner = [orjson.dumps(records[i]["body"]["structured"]) for i in maps]
        rest = []
        for i, raw, fmt in zip(maps, inner, detect_many(inner, catch_all=False), strict=True):
            if fmt is not None:
                names[i], docs[i] = fmt.name, raw
            else:
                rest.append(i)
        if rest:  # a map wrapping one read line (Fluent Bit's opentelemetry output sends a tail record
            # {"log": line} as the body when it has no logs_body_key): the line, the resource's host its host
            wrapped = [orjson.dumps({"resource": records[i].get("resource"), **records[i]["body"]["structured"]})
                       for i in rest]  # fmt: skip
            for i, hit in zip(rest, lines_in(wrapped), strict=True):
                if hit is not None:
                    names[i], docs[i] = hit
    for i, r in enumerate(records):
        if names[i] is None and (alert := _sidekick_alert(r)) is not None:
            names[i], docs[i] = "falco", alert
    rest = [i for i, name in enumerate(names) if name is None]
    whole: set[int] = set()  # the documents stored whole, generic: their envelope is in them already
    if rest:  # the exporter's document around a line a format reads: that line; else the document,
        # generic (never detected whole: a format's sniffer would take the keys of its attributes for its own)
        for i, hit in zip(rest, lines_in([docs[i] for i in rest]), strict=True):
            if hit is None:
                whole.add(i)
            names[i], docs[i] = hit if hit is not None else ("json", docs[i])
    return names, _in_context(records, names, docs, whole)


def resolve_guarded(records: list[dict[str, Any]], docs: list[bytes]) -> tuple[list[str | None], list[bytes]]:
    """:func:`resolve`, where a record nested past what orjson writes (254 levels: its TypeError
    "Recursion limit reached"; a file's or a Kafka message's request, which no server limit
    checked) is read as the generic document it is, as a record no format reads is, and the
    others as :func:`resolve` reads them (each alone, on the path of a batch that raised only)."""
    try:
        return resolve(records, docs)
    except TypeError:
        pass
    names: list[str | None] = []
    out: list[bytes] = []
    for rec, doc in zip(records, docs, strict=True):
        try:
            name, got = resolve([rec], [doc])
        except TypeError:
            name, got = ["json"], [doc]
        names += name
        out += got
    return names, out


#: Go's ``time.Time.String()`` (``2024-05-07 18:54:19.34108118 +0000 UTC``): date, time, offset
_GO_TIME = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d{1,9})?) ([+-]\d\d)(\d\d)\b")


#: Falco's priority names (falco_common.cpp), as Falcosidekick's ``Priority.String()`` writes them (any case)
_FALCO_PRIORITIES = frozenset({"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"})


def _sidekick_alert(rec: dict[str, Any]) -> bytes | None:
    """The Falco alert of a record Falcosidekick's OTLP logs output sends (falcosecurity/falcosidekick
    ``outputs/otlp_logs.go``: the alert's ``output`` as the body, its ``priority``, ``source``,
    ``rule``, ``hostname``, ``tags`` (joined by commas) and time (Go's ``time.String()``) as the
    record's attributes), as Falco's JSON alert; None for any other record."""
    attrs, body = rec.get("attributes"), rec.get("body", {}).get("text")
    if attrs.__class__ is not dict or not isinstance(body, str):
        return None
    rule, priority, source = attrs.get("rule"), attrs.get("priority"), attrs.get("source")
    if not (isinstance(rule, str) and isinstance(source, str) and str(priority).lower() in _FALCO_PRIORITIES):
        return None
    tags, at = attrs.get("tags"), attrs.get("timestamp")
    m = _GO_TIME.match(at) if isinstance(at, str) else None
    alert = {
        "output": body, "priority": priority, "rule": rule, "source": source, "hostname": attrs.get("hostname"),
        "tags": [t for t in tags.split(",") if t] if isinstance(tags, str) else None,
        "time": f"{m[1]}T{m[2]}{m[3]}:{m[4]}" if m else rec.get("@timestamp"),
    }  # fmt: skip
    return orjson.dumps({k: v for k, v in alert.items() if v is not None})


def _group(rec: dict[str, Any]) -> tuple[int, bytes]:
    """The resource (its attributes object, one a ``ResourceLogs``) and scope of a record (:func:`_document`)."""
    return id(rec.get("resource", {}).get("attributes")), orjson.dumps(rec.get("scope"))


def _in_context(records: list[dict[str, Any]], names: list[str | None], docs: list[bytes],
                whole: set[int]) -> list[bytes]:  # fmt: skip
    """The documents a format reads apart from their record (``whole``: the records stored whole, generic), each with
    the context hint of its record's envelope
    (:mod:`secpipe.formats._context`, :func:`~secpipe.server.shipped.envelope_context`): the resource's
    host, cloud and container attributes in their OCSF places (:data:`~secpipe.formats._context.OTEL_PLACES`),
    the ``log.file.path`` attribute as ``metadata.log_source``, and ``attributes``, ``resource``
    (``resource.attributes``) and ``scope`` in ``unmapped``, where the generic documents keep them. The
    attributes are those every such record of its resource and scope shares (the filelog receiver's
    ``log.file.path``/``log.file.name``): one hint, made once, for the records of one envelope; an attribute
    of each record's own (``log.file.record_number``, a Falcosidekick alert's rule and time) would make a body of
    each record, decoded alone (2,000 syslog records: 0.4 s of CPU as one body, 20 s as 2,000)."""
    read = [i for i, name in enumerate(names) if name is not None and i not in whole]
    common: dict[tuple[int, bytes], dict[str, Any]] = {}  # per resource and scope: the attributes all its records share
    keys = {i: _group(records[i]) for i in read}
    for i in read:
        rec = records[i]
        key = keys[i]
        attrs = rec.get("attributes") or {}
        if key not in common:
            common[key] = dict(attrs)
        elif common[key]:
            common[key] = {k: v for k, v in common[key].items() if k in attrs and attrs[k] == v}
    hints: dict[tuple[int, bytes], str | None] = {}  # per resource and scope: its envelope's hint, made once
    for i in read:
        key = keys[i]
        if key not in hints:
            rec = records[i]
            env: dict[str, Any] = {k: rec[k] for k in ("resource", "scope") if k in rec}
            if common[key]:
                env["attributes"] = common[key]
            hints[key] = envelope_context(orjson.dumps(env)) if env else None
        found = hints[key]
        if found is None:
            continue
        doc = docs[i]
        docs[i] = ShippedLine(doc, getattr(doc, "host", None), getattr(doc, "at", None), found)
    return docs


def _store(ctx: AppContext, source: str, records: list[dict[str, Any]], docs: list[bytes]) -> list[str | None]:
    """Store the documents (:func:`resolve`); per record None (stored) or why it was
    dead-lettered. Blocking (decode + WAL fsync)."""
    with ctx.service.cpu:
        names, docs = resolve_guarded(records, docs)
    return accept_docs(ctx, source, names, docs, contexts=True)


def status(code: int, message: str, proto: bool, headers: dict[str, str] | None = None) -> Response:
    """A failure as the spec answers it: a ``google.rpc.Status`` in the request's encoding."""
    grpc = _CODES.get(code, 2)  # 2: UNKNOWN
    if proto:  # field 1 code (varint), field 2 message (bytes)
        text = message.encode()
        body = b"\x08" + _varint(grpc) + b"\x12" + _varint(len(text)) + text
        return Response(body, status_code=code, media_type=PROTOBUF, headers=headers)
    return Response(orjson.dumps({"code": grpc, "message": message}), status_code=code, media_type=JSON, headers=headers)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _answer(reasons: list[str | None], proto: bool) -> Response:
    """``ExportLogsServiceResponse``: empty, or ``partialSuccess`` naming the records refused."""
    refused = [r for r in reasons if r is not None]
    if proto:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

        resp = ExportLogsServiceResponse()
        if refused:
            resp.partial_success.rejected_log_records = len(refused)
            resp.partial_success.error_message = refused[0]
        return Response(resp.SerializeToString(), media_type=PROTOBUF)
    body = {"partialSuccess": {"rejectedLogRecords": str(len(refused)), "errorMessage": refused[0]}} if refused else {}
    return Response(orjson.dumps(body), media_type=JSON)


def routes(ctx: AppContext) -> list[Route]:
    """``POST /v1/logs``."""

    async def export(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        proto = kind != JSON
        try:
            info = authenticate(ctx, request, "ingest")
            source = f"otlp:{info.source or info.name}"
            if kind not in (PROTOBUF, JSON):  # refused, and kept with why (read within the limits first)
                why = f"unsupported Content-Type {kind!r}: send {PROTOBUF} or {JSON}"
                body = await read_body_limited(ctx, request, source, "auto", json_body=False)
                await in_thread(ctx.service.dead_letter, [DeadLetter(why, source, 0, body, "auto")])
                raise HTTPError(415, why)
            return await _export(request, source, proto)
        except HTTPError as exc:
            return status(exc.status, str(exc), proto, exc.headers)
        except STORE_ERRORS as exc:  # disk full, I/O error: nothing was kept, the exporter retries
            return status(503, store_failed(exc), proto, {"Retry-After": "5"})

    async def _export(request: Request, source: str, proto: bool) -> Response:
        body = await read_body_limited(ctx, request, source, "auto", json_body=not proto)
        odd: list[tuple[str, bytes]] = []
        try:
            records, odd = (protobuf_records(body), odd) if proto else json_request(body)
            docs = [orjson.dumps(r) for r in records]
            if proto and docs:  # (a JSON body's nesting was checked as it was read)
                check_depth(b"\n".join(docs), ctx.limits.max_json_depth, ctx.limits.max_string_bytes, ndjson=True)
        except (ValueError, HTTPError, TypeError) as exc:  # (TypeError: orjson's, past 254 levels of a request
            # read with server.max_json_depth above them)
            why = f"not an OTLP ExportLogsServiceRequest ({'protobuf' if proto else 'JSON'}): {exc}"
            await in_thread(ctx.service.dead_letter, [DeadLetter(why, source, 0, body, "auto")])
            raise HTTPError(exc.status if isinstance(exc, HTTPError) else 400, why) from None
        reasons = await in_thread(_store, ctx, source, records, docs) if records else []
        if odd:  # refused alone, after the others are durable; counted in partialSuccess
            await in_thread(ctx.service.dead_letter, [DeadLetter(why, source, n, raw, "auto")
                                                              for n, (why, raw) in enumerate(odd)])
            refused: list[str | None] = [why for why, _raw in odd]
            reasons = refused + reasons
        return _answer(reasons, proto)

    return [route("POST", "/v1/logs", "ingest", export)]
