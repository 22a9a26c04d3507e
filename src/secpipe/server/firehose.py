"""Amazon Data Firehose HTTP endpoint delivery: ``POST /v1/firehose`` and ``/v1/firehose/{format}``.

A Firehose stream whose destination is "HTTP endpoint" POSTs its buffered records to one URL
(the AWS guide's "HTTP endpoint delivery request and response specifications", protocol 1.0):

- request: ``Content-Type: application/json``, optionally ``Content-Encoding: gzip``; the body
  ``{"requestId": "<guid>", "timestamp": <ms>, "records": [{"data": "<base64>"}, ...]}``;
  headers ``X-Amz-Firehose-Request-Id`` (the same on every attempt of one request),
  ``X-Amz-Firehose-Access-Key`` (the secret configured on the stream, copied verbatim),
  ``X-Amz-Firehose-Source-Arn``, ``X-Amz-Firehose-Protocol-Version: 1.0`` and
  ``X-Amz-Firehose-Common-Attributes`` (``{"commonAttributes": {name: value}}``).
- answer: ``application/json``, never compressed, ``{"requestId": <the request's>,
  "timestamp": <ms>}`` with 200 (the only success), or with ``errorMessage`` added and a 4xx/5xx
  status: Firehose retries every failure but 413 (a permanent one) until the stream's retry
  duration runs out, then writes the records to its S3 backup.

Authentication: a secpipe token with ``ingest``, set as the stream's access key (the
``X-Amz-Firehose-Access-Key`` header) or sent as ``Authorization`` (Bearer/Basic, for a proxy
in front), checked in constant time like every token (:meth:`TokenStore.verify`).

Each record's data is one payload a producer put: a CloudWatch Logs subscription envelope
(gzip-compressed as subscriptions write it, or inflated when the stream decompresses), a JSON
document, NDJSON or text lines. Its base64 is decoded, gzip inflated within what is left of
``max_decompressed_bytes`` for the request (a bomb is refused, that record alone), and JSON
limits are checked per record. A ``CONTROL_MESSAGE`` envelope (CloudWatch checking the
destination) holds no event and is skipped. The payloads go through :func:`wire.accept_docs`
under the route's format (``auto``: detected per payload shape), grouped into one durable body
per format: the answer leaves after the WAL fsync. A record that cannot be read is
dead-lettered alone with its reason; the others are stored, and the request is answered 200
(retrying it would only dead-letter the same record again). A body that is not the spec's
shape is dead-lettered whole and answered 400; so is one that names ``requestId``,
``timestamp`` or ``records`` twice: RFC 8259 leaves the reading of a repeated name to the
parser (a decoder keeps the last ``records`` list, dropping the first unseen), so such a body has
no one meaning. A record naming ``data`` twice is dead-lettered alone, for the same reason.

Retries: the same request id from the same token is answered 200 at once for the last
``max_deliveries_remembered`` ids stored (as GitHub deliveries; a retry that arrives while its
first attempt is still being stored waits for that attempt's outcome); after a restart, a resent record
collapses in the lake by event identity (``metadata.uid`` hashes the record).

``commonAttributes`` reach the source string (``firehose:<sender>;attrs=<compact JSON>``, at
most 1 KiB, entries holding ``;`` or ``=`` left out): the dead letters and the WAL name the
stream's parameters.
"""

from __future__ import annotations

import binascii
import json
import time
from typing import Any

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe import formats
from secpipe._gzip import gunzip_limited
from secpipe.errors import LimitExceeded
from secpipe.formats import _cwlogs
from secpipe.formats.base import DeadLetter, not_utf8
from secpipe.server.http import (
    STORE_ERRORS,
    AppContext,
    HTTPError,
    authenticate,
    basic_or_bearer,
    route,
    store_failed,
)
from secpipe.server.shipped import shipped_lines, text_lines
from secpipe.server.webhooks import Recent
from secpipe.server.wire import (
    accept_docs,
    check_depth,
    ingest_config,
    read_body_limited,
    resolve_format,
)
from secpipe.server.workers import in_thread


class _Record(msgspec.Struct, gc=False):
    data: str


class _Request(msgspec.Struct, gc=False):
    requestId: str
    timestamp: int
    records: list[_Record]


class _Attributes(msgspec.Struct, gc=False):
    commonAttributes: dict[str, str]


_REQUEST = msgspec.json.Decoder(_Request)
_ATTRIBUTES = msgspec.json.Decoder(_Attributes)
_GZIP = b"\x1f\x8b"
_MAX_ATTRS = 1024
_MAX_MESSAGE = 8192  # errorMessage: kept short, Firehose logs it


_KEYS = ("requestId", "timestamp", "records")


class _Object(dict[str, Any]):
    """A JSON object as :func:`json.loads` reads it, with the names it holds more than once."""

    repeated: frozenset[str] = frozenset()
    pairs: list[tuple[str, Any]]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        obj.repeated = frozenset(k for i, (k, _) in enumerate(pairs) if any(k == q for q, _ in pairs[:i]))
        obj.pairs = pairs
    return obj


def _repeated(body: bytes, req: _Request) -> tuple[str | None, dict[int, bytes]]:
    """The envelope name given twice (None if none), and the records naming ``data`` twice
    (index → the record as sent).

    Without a backslash in the body no name is escaped and no string holds a quote, so each
    name appears literally once per object that holds it: when the counts match, nothing is
    repeated and the body is not read again (the common case, a few ``bytes.count`` passes)."""
    if b"\\" not in body and all(body.count(f'"{k}"'.encode()) == 1 for k in _KEYS) \
            and body.count(b'"data"') == len(req.records):
        return None, {}
    top = json.loads(body, object_pairs_hook=_object)
    twice = [k for k in _KEYS if k in top.repeated]
    if twice:
        return twice[0], {}
    bad = {i: b"{" + b", ".join(orjson.dumps(k) + b": " + orjson.dumps(v) for k, v in rec.pairs) + b"}"
           for i, rec in enumerate(top["records"]) if "data" in rec.repeated}
    return None, bad


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def answer(request_id: str, status: int = 200, error: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """The spec's answer: ``{"requestId", "timestamp"}`` plus ``errorMessage`` on a failure."""
    body: dict[str, Any] = {"requestId": request_id, "timestamp": _now_ms()}
    if error is not None:
        body["errorMessage"] = error[:_MAX_MESSAGE]
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _attributes(request: Request) -> str:
    """``;attrs=<compact JSON>`` of the X-Amz-Firehose-Common-Attributes header ('' when absent,
    unreadable or longer than 1 KiB)."""
    raw = request.headers.get("x-amz-firehose-common-attributes", "")
    if not raw or len(raw) > 4 * _MAX_ATTRS:
        return ""
    try:
        attrs = _ATTRIBUTES.decode(raw).commonAttributes
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ""
    # entries holding ";" or "=" are left out: formats read hints of their own there (";repeats=", "framing=")
    kept = {k: v for k, v in attrs.items() if not any(c in k or c in v for c in ";=\0")}
    text = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode() if kept else ""
    return f";attrs={text}" if text and len(text) <= _MAX_ATTRS else ""


class _Payloads:
    """The records' payloads (decoded base64, inflated gzip) and the records that failed."""

    def __init__(self, ctx: AppContext, source: str, fmt: str) -> None:
        self.ctx, self.source, self.fmt = ctx, source, fmt
        self.docs: list[bytes] = []
        self.dead: list[DeadLetter] = []
        self.budget = ctx.limits.max_decompressed_bytes

    def repeated(self, index: int, raw: bytes) -> None:
        """Record ``index`` names ``data`` more than once: which payload it means is unknown."""
        self._fail(index, f"record {index}: names \"data\" more than once; JSON leaves which one counts to the "
                          "reader, so the record has no one payload (a Firehose record holds one \"data\")", raw)

    def add(self, index: int, data: str) -> None:
        try:
            payload = binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            self._fail(index, f"record {index}: data is not base64: {exc}", data.encode())
            return
        if payload[:2] == _GZIP:
            try:
                payload = gunzip_limited(payload, self.budget)
            except LimitExceeded as exc:
                self._fail(index, f"record {index}: {exc} (server.max_decompressed_bytes, the request's records together)", payload)
                return
            except ValueError as exc:
                self._fail(index, f"record {index}: unreadable gzip data: {exc}", payload)
                return
            self.budget -= len(payload)
        if not payload.strip() or _cwlogs.is_control(payload):
            return  # an empty record, CloudWatch's reachability check: no event
        if payload.lstrip()[:1] in (b"{", b"["):
            try:
                check_depth(payload, self.ctx.limits.max_json_depth, self.ctx.limits.max_string_bytes)
            except HTTPError as exc:
                self._fail(index, f"record {index}: {exc}", payload)
                return
        self.docs.append(payload)

    def _fail(self, index: int, reason: str, raw: bytes) -> None:
        self.dead.append(DeadLetter(reason, self.source, index, raw, self.fmt))


def routes(ctx: AppContext) -> list[Route]:
    """``POST /v1/firehose`` (format ``auto``) and ``POST /v1/firehose/{format}``."""
    seen = Recent(ingest_config(ctx).webhooks.github.max_deliveries_remembered)

    async def deliver(request: Request) -> Response:
        request_id = request.headers.get("x-amz-firehose-request-id", "")
        try:
            return await _deliver(request, request_id)
        except HTTPError as exc:
            return answer(request_id, exc.status, str(exc), exc.headers)
        except STORE_ERRORS as exc:  # disk full, I/O error: nothing was kept, Firehose retries
            return answer(request_id, 503, store_failed(exc), {"Retry-After": "5"})

    async def _deliver(request: Request, request_id: str) -> Response:
        key = (request.headers.get("x-amz-firehose-access-key") or "").strip()
        if not key and "authorization" not in request.headers:
            raise HTTPError(401, "missing credentials: set the Firehose stream's access key to a secpipe ingest token "
                                 "(sent as X-Amz-Firehose-Access-Key), or send Authorization: Bearer <token>")
        info = authenticate(ctx, request, "ingest", token=key or basic_or_bearer(request))
        name = request.path_params.get("format", "auto")
        if name != "auto":
            try:
                resolve_format(name)
            except HTTPError as exc:
                raise HTTPError(404, str(exc)) from None
        version = request.headers.get("x-amz-firehose-protocol-version", "1.0")
        if version != "1.0":
            raise HTTPError(400, f"unsupported X-Amz-Firehose-Protocol-Version {version!r}: this endpoint speaks 1.0")
        source = f"firehose:{info.source or info.name}{_attributes(request)}"
        body = await read_body_limited(ctx, request, source, name)
        try:
            req = _REQUEST.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:  # (msgspec: a string not UTF-8)
            err = not_utf8(body) if isinstance(exc, UnicodeDecodeError) else exc
            why = f"not a Firehose HTTP endpoint delivery request ({{requestId, timestamp, records: [{{data}}]}}): {err}"
            await in_thread(ctx.service.dead_letter, [DeadLetter(why, source, 0, body, name)])
            raise HTTPError(400, why) from None
        twice, bad = _repeated(body, req)
        if twice is not None:
            why = (f"not a Firehose HTTP endpoint delivery request: the body names {twice!r} more than once; JSON "
                   "leaves which one counts to the reader (one would drop records unseen), so it is refused whole")
            await in_thread(ctx.service.dead_letter, [DeadLetter(why, source, 0, body, name)])
            raise HTTPError(400, why)
        request_id = request_id or req.requestId
        # a retry of a request already stored is answered at once (None); one that comes while
        # the first attempt is still being stored waits for that attempt's outcome
        await seen.once(f"{info.id}:{request_id}", lambda: in_thread(_store, ctx, source, name, req, bad))
        return answer(request_id)

    return [
        route("POST", "/v1/firehose", "ingest", deliver),
        route("POST", "/v1/firehose/{format}", "ingest", deliver),
    ]


def _store(ctx: AppContext, source: str, name: str, req: _Request, repeated: dict[int, bytes]) -> None:
    """Decode the records' payloads and store them durably (blocking: a worker thread);
    ``repeated``: the records naming ``data`` twice, dead-lettered as sent."""
    payloads = _Payloads(ctx, source, name)
    for i, rec in enumerate(req.records):
        if i in repeated:
            payloads.repeated(i, repeated[i])
        else:
            payloads.add(i, rec.data)
    if payloads.dead:
        ctx.service.dead_letter(payloads.dead)
    if payloads.docs:
        if name != "auto":  # a text format (syslog) reads the line a shipper's record wraps
            accept_docs(ctx, source, name, text_lines(payloads.docs, name))
            return
        # a record a shipper wraps one read line in (Fluent Bit's kinesis_firehose {"log": line},
        # Vector's {"message": line}): the line, with the format that reads it
        names, docs = shipped_lines(_names(ctx, payloads.docs), payloads.docs)
        accept_docs(ctx, source, names, docs)


def _names(ctx: AppContext, docs: list[bytes]) -> list[str | None]:
    """Per payload, the format detected on it when it is a CloudWatch Logs envelope, else None
    (:func:`wire.accept_docs` detects those once per JSON shape): every envelope has the same
    keys whatever its log events hold (CloudTrail, EKS audit, syslog lines), so the shape of
    one says nothing of the next."""
    names: list[str | None] = [None] * len(docs)
    with ctx.service.cpu:
        for i, doc in enumerate(docs):
            if b'"logEvents"' in doc[:4096]:
                found = formats.detect(doc[: 64 * 1024], catch_all=True)
                names[i] = found.name if found is not None else None
    return names
