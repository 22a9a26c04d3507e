"""Shared HTTP plumbing for every route: auth, body limits, gzip, JSON errors.

Routes are declared with :func:`route` which records the permission they need in
``policy.ROUTE_POLICY``; :func:`authenticate` accepts ``Authorization: Bearer <token>``
(and the schemes a protocol module passes, e.g. ``Splunk``), checks it in constant time and
checks the role. Bodies are read in chunks and refused past ``max_body_bytes`` (413); a client that closes
the connection mid-body is an HTTPError too (its answer goes nowhere, nothing is stored);
``Content-Encoding: gzip`` (and ``deflate``) is inflated incrementally and refused past
``max_decompressed_bytes`` (413), so a compression bomb never expands in memory.
Every error answer is JSON: an endpoint's :class:`HTTPError` and, through
:func:`unrouted_message`, the router's own 404 (no such path) and 405 (known path, other
method; with ``Allow``), which the app answers in the shape of the protocol that owns the path.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
import pyarrow as pa
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe._gzip import gunzip_limited, inflate_member
from secpipe.errors import AuthError, LimitExceeded, TransientError
from secpipe.runtime.combine import ARRIVALS
from secpipe.security.guard import AuthAuditor, RateLimiter, retry_after
from secpipe.server.auth import TokenInfo, TokenStore
from secpipe.server.policy import ROUTE_POLICY, allowed


@dataclass
class Limits:
    """Per-request limits."""

    max_body_bytes: int = 32 << 20
    max_decompressed_bytes: int = 256 << 20
    max_json_depth: int = 64
    max_string_bytes: int = 8 << 20  # longest JSON string in an ingest body
    rate_per_token: float = 1000.0  # requests/s per token (0 = unlimited); 429 + Retry-After past it
    rate_burst: float = 2000.0


@dataclass
class AppContext:
    """What route modules get: the service, tokens, limits, and a bag for extensions."""

    service: Any
    tokens: TokenStore
    limits: Limits
    extras: dict[str, Any] = field(default_factory=dict)


class HTTPError(Exception):
    """An error answer: status code and a JSON body."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}
        self.headers: dict[str, str] | None = None


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialized with orjson."""
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json", headers=headers)


#: scope key the server's protocol sets when it refuses a request whose body is still being read
#: (:mod:`secpipe.server.protocol`): why, so the endpoint dead-letters the body with that reason
REFUSED = "secpipe.refused"

#: What storing a request's data can raise when the data did not become durable (disk full,
#: WAL I/O error, a busy resource): every endpoint answers 503 "retry later" (the protocol
#: modules in their own shape) and logs why.
STORE_ERRORS: tuple[type[BaseException], ...] = (OSError, TransientError)
_log = logging.getLogger("secpipe.server")


def store_failed(exc: BaseException) -> str:
    """Log why a request was not stored (the client is told to retry); the reason to send."""
    _log.error("ingest request not stored, the client is told to retry: %s: %s", type(exc).__name__, exc)
    return f"the data could not be stored ({type(exc).__name__}): nothing was kept, retry later"


def unrouted_message(request: Request, status: int, allow: str | None) -> str:
    """What a 404 (no route) or 405 (the path's route takes other methods) answer says."""
    method, path = request.method, request.url.path
    if status == 405:
        return f"method {method} is not allowed on {path} — send {allow or 'another method'}"
    if status == 404:
        return f"no endpoint {method} {path} — check the path (the API is listed in README.md and docs/)"
    return HTTPStatus(status).phrase


def route(method: str, path: str, permission: str,
          endpoint: Callable[[Request], Awaitable[Response]]) -> Route:
    """A Starlette route whose required permission is recorded in the policy table."""
    ROUTE_POLICY[(method, path)] = permission

    async def guarded(request: Request) -> Response:
        try:
            if permission == "ingest":  # on its way to the combiner: others may wait for it
                with ARRIVALS.request():
                    return await endpoint(request)
            return await endpoint(request)
        except HTTPError as exc:
            return json_response(exc.body, exc.status, headers=exc.headers)
        except STORE_ERRORS as exc:  # disk full, I/O error: nothing was kept, the sender retries
            return json_response({"error": store_failed(exc)}, 503, headers={"Retry-After": "5"})

    return Route(path, guarded, methods=[method])


def bearer(request: Request, schemes: tuple[str, ...] = ("Bearer",)) -> str:
    """The token from the Authorization header in one of ``schemes``; HTTPError 401 if absent."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not value or scheme.lower() not in {s.lower() for s in schemes}:
        raise HTTPError(401, f"missing credentials: send 'Authorization: {schemes[0]} <token>'")
    return value.strip()


def basic_or_bearer(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>`` or of Basic credentials (the token as
    password, or as user with an empty password: Prometheus/Alertmanager ``basic_auth`` and
    most webhook senders can send only that); HTTPError 401 otherwise."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value.strip():
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise HTTPError(401, "unreadable Basic credentials: send base64(user:token)") from None
        return password or user
    return bearer(request)


def authenticate(ctx: AppContext, request: Request, permission: str, token: str | None = None,
                 schemes: tuple[str, ...] = ("Bearer",)) -> TokenInfo:
    """Check the request's token and that its role has ``permission``."""
    guard = _guards(ctx)
    remote = request.client.host if request.client else None
    tok = token if token is not None else bearer(request, schemes)
    try:
        info = ctx.tokens.verify(tok)
    except AuthError:
        guard[1].denied("(invalid token)", "invalid token", request.scope["path"], remote)
        raise HTTPError(401, "invalid token") from None
    wait = guard[0].check(info.id)
    if wait:
        exc = HTTPError(429, f"too many requests for this token (server.rate_per_token) — retry in {wait:.2f}s")
        exc.headers = {"Retry-After": retry_after(wait)}
        raise exc
    if not allowed(info.role, permission):
        guard[1].denied(info.name, f"role {info.role} lacks {permission}", request.scope["path"], remote)
        raise HTTPError(403, f"role {info.role!r} may not {permission}")
    guard[1].used(info.id, info.name, info.role, request.scope["path"])
    request.state.token = info
    return info


def _guards(ctx: AppContext) -> tuple[RateLimiter, AuthAuditor]:
    """The context's rate limiter and auth auditor (created on first use)."""
    g = ctx.extras.get("_guards")
    if g is None:
        g = ctx.extras["_guards"] = (RateLimiter(ctx.limits.rate_per_token, ctx.limits.rate_burst),
                                     AuthAuditor(getattr(ctx.service, "data_dir", None)))
    return g


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, inflated if gzip, within the limits (413), in time (408) and readable (400)."""
    ctx = getattr(request.app.state, "ctx", None)
    timeout = request_timeout(ctx) if isinstance(ctx, AppContext) else _DEFAULT_TIMEOUT
    return inflate(request, await read_raw_within(request, limits, timeout), limits)


_DEFAULT_TIMEOUT = 30.0


def request_timeout(ctx: AppContext) -> float:
    """Seconds a client has to send its whole body (``server.request_timeout_seconds``)."""
    server = getattr(ctx.extras.get("config"), "server", None)
    return float(getattr(server, "request_timeout_seconds", _DEFAULT_TIMEOUT))


async def read_raw_within(request: Request, limits: Limits, timeout: float) -> bytes:
    """:func:`read_raw` within ``timeout`` seconds; HTTPError 408 for a client that sends too slowly."""
    try:
        async with asyncio.timeout(timeout):
            return await read_raw(request, limits)
    except TimeoutError:
        msg = f"client did not send the body within {timeout:g}s (server.request_timeout_seconds)"
        raise HTTPError(408, msg) from None


async def read_raw(request: Request, limits: Limits) -> bytes:
    """The request body as sent, refused (413) past ``max_body_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise HTTPError(413, f"body of {declared} bytes exceeds the limit of {limits.max_body_bytes}")
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise HTTPError(413, f"body exceeds the limit of {limits.max_body_bytes} bytes")
            parts.append(chunk)
    except ClientDisconnect:  # nobody to answer; the error still reaches the dead letters and the log
        of = f" of {declared}" if declared else ""
        if refused := request.scope.get(REFUSED):  # the server closed it: its answer said why
            raise HTTPError(400, f"{refused}, after {size}{of} bytes of the body: nothing was stored") from None
        raise HTTPError(400, f"the client closed the connection after {size}{of} bytes of the body: "
                             "nothing was stored") from None
    return b"".join(parts)


def inflate(request: Request, body: bytes, limits: Limits) -> bytes:
    """Apply Content-Encoding (gzip, deflate/zlib, zstd, snappy, lz4) within ``max_decompressed_bytes``; 400/413/415 on failure."""
    enc = request.headers.get("content-encoding", "").lower().strip()
    codec = _INFLATE.get(enc)
    if codec is not None:
        try:
            body = codec[1](body, limits.max_decompressed_bytes)
        except LimitExceeded as exc:
            raise HTTPError(413, str(exc)) from None
        except ValueError as exc:
            raise HTTPError(400, f"unreadable {codec[0]} body: {exc}") from None
    elif enc not in ("", "identity"):
        raise HTTPError(415, f"unsupported Content-Encoding {enc!r}: send gzip, deflate, zstd, snappy, lz4 or identity")
    return body


def inflate_deflate_limited(data: bytes, limit: int) -> bytes:
    """Inflate a ``deflate`` body (zlib-wrapped as HTTP says, or raw as some senders send)
    without ever holding more than ``limit`` bytes."""
    raw = data[:1] and (data[0] & 0x0F != 8 or ((data[0] << 8) | (data[1:2] or b"\0")[0]) % 31 != 0)
    out: list[bytes] = []
    inflate_member(zlib.decompressobj(-15 if raw else 15), data, limit, out, "deflate")
    return b"".join(out)


def unzstd_limited(data: bytes, limit: int) -> bytes:
    """Decompress zstd (RFC 8878; frames back to back too) 1 MiB at a time, never past
    ``limit`` bytes (Arrow's streaming zstd codec, already a dependency)."""
    return _unstream_limited(data, limit, "zstd")


def unlz4_limited(data: bytes, limit: int) -> bytes:
    """Decompress the LZ4 frame format (what the OpenTelemetry Collector's ``compression: lz4``
    sends, pierrec/lz4's writer) as :func:`unzstd_limited` does zstd."""
    return _unstream_limited(data, limit, "lz4")


def _unstream_limited(data: bytes, limit: int, codec: str) -> bytes:
    out: list[bytes] = []
    size = 0
    try:
        stream = pa.input_stream(pa.BufferReader(data), compression=codec)
        while piece := stream.read(1 << 20):
            size += len(piece)
            if size > limit:
                msg = "decompressed body"
                raise LimitExceeded(msg, limit)
            out.append(piece)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(str(exc)) from None
    return b"".join(out)


_SNAPPY_STREAM = b"\xff\x06\x00\x00sNaPpY"  # the framing format's stream identifier chunk


def unsnappy_limited(data: bytes, limit: int) -> bytes:
    """Decompress snappy: the raw block format (Vector's and Prometheus remote write's), or
    the framing format (``framing_format.txt``: chunks of at most 64 KiB, as ``snzip`` and
    the Go/Java stream writers give) when it opens with the stream identifier. Every size is
    known before anything is inflated, so ``limit`` is checked first. The framing's masked
    CRC-32C is not verified (no CRC-32C in the standard library; TCP/TLS carry the body)."""
    if not data.startswith(_SNAPPY_STREAM):
        return _snappy_block(data, limit)
    out: list[bytes] = []
    size, pos = 0, 0
    while pos < len(data):
        if pos + 4 > len(data):
            msg = f"snappy frame header cut at byte {pos}"
            raise ValueError(msg)
        kind, length = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "little")
        body = data[pos + 4 : pos + 4 + length]
        if len(body) < length:
            msg = f"snappy chunk at byte {pos} is cut ({len(body)} of {length} bytes)"
            raise ValueError(msg)
        pos += 4 + length
        if kind in (0x00, 0x01):
            if length < 4:
                msg = f"snappy data chunk at byte {pos - 4 - length} has no checksum"
                raise ValueError(msg)
            if (_snappy_size(body[4:]) if kind == 0x00 else length - 4) > _SNAPPY_CHUNK:
                msg = f"snappy data chunk at byte {pos - 4 - length} holds more than {_SNAPPY_CHUNK} bytes"
                raise ValueError(msg)  # framing_format.txt 4.2/4.3: a broken stream, not a big body
            piece = _snappy_block(body[4:], _SNAPPY_CHUNK) if kind == 0x00 else body[4:]
            size += len(piece)
            if size > limit:
                msg = "decompressed body"
                raise LimitExceeded(msg, limit)
            out.append(piece)
        elif kind == 0xFF:
            if body != b"sNaPpY":
                msg = "bad snappy stream identifier"
                raise ValueError(msg)
        elif kind < 0x80:
            msg = f"reserved unskippable snappy chunk type 0x{kind:02x}"
            raise ValueError(msg)
    return b"".join(out)


_SNAPPY_CHUNK = 65536  # the most a framing-format data chunk may hold, uncompressed


def _snappy_size(data: bytes) -> int:
    """The uncompressed size a raw snappy block's varint preamble says."""
    size, shift, i = 0, 0, 0
    while True:
        if i >= min(len(data), 5):  # format_description.txt: a varint of at most 32 bits
            msg = ("snappy block's length preamble runs past 5 bytes (more than 32 bits)" if i == 5 else
                   "snappy block without a length preamble")
            raise ValueError(msg)
        b = data[i]
        size |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return size
        shift += 7


def _snappy_block(data: bytes, limit: int) -> bytes:
    """One raw snappy block: its varint preamble says the size, checked against ``limit``."""
    size = _snappy_size(data)
    if size > limit:
        msg = "decompressed body"
        raise LimitExceeded(msg, limit)
    try:
        out = pa.decompress(data, decompressed_size=size, codec="snappy", asbytes=True)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(str(exc)) from None
    return bytes(out)


#: Content-Encoding -> (name in errors, bounded inflate). ``deflate`` is Vector's
#: ``compression: zlib``; Elasticsearch accepts it too; zstd and snappy are the other codecs
#: Vector's and Fluent Bit's HTTP outputs offer. The OpenTelemetry Collector's HTTP exporters
#: (``otlphttp``, ``elasticsearch``, ``splunk_hec``: confighttp) name their ``compression`` as
#: the encoding: ``zlib`` (zlib-wrapped, as its ``deflate``), ``x-snappy-framed`` (the framing
#: format), ``lz4`` (the LZ4 frame format) besides gzip, deflate, zstd and snappy.
_INFLATE = {"gzip": ("gzip", gunzip_limited), "x-gzip": ("gzip", gunzip_limited),
            "deflate": ("deflate", inflate_deflate_limited), "x-deflate": ("deflate", inflate_deflate_limited),
            "zlib": ("zlib", inflate_deflate_limited), "zstd": ("zstd", unzstd_limited),
            "snappy": ("snappy", unsnappy_limited), "x-snappy-framed": ("snappy", unsnappy_limited),
            "lz4": ("lz4", unlz4_limited)}
