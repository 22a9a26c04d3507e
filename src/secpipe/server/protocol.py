"""uvicorn's httptools protocol with the two limits it lacks: header time and header size.

uvicorn (0.54) times out only an idle keep-alive connection *after* a response: a connection
that opens and sends nothing, or sends its request line and headers a byte at a time
(slowloris), is held forever, and httptools (llhttp) puts no bound on the header block, so one
connection streaming headers grows the server's memory without limit (200 MB of headers: +200
MB RSS). Both happen before routing and authentication, so anyone who reaches the port can do
it. :func:`guarded_protocol` subclasses the protocol (uvicorn takes a protocol class as
``Config(http=...)``; the parser callbacks are its documented hooks) and adds:

- a header deadline: the request line and headers must be complete within ``header_timeout``
  seconds of the connection opening or of the previous response; past it the connection is
  answered 408 and closed (the body has its own deadline, ``server.request_timeout_seconds``
  in :func:`secpipe.server.wire.read_body_limited`);
- a header size bound: past ``max_header_bytes`` (URL and every header name and value) the
  request is answered 431 and the connection closed, as Elasticsearch (``http.max_header_size``)
  and Splunk answer an oversized header block;
- a transfer coding other than ``chunked`` (``Transfer-Encoding: gzip, chunked``) is answered 501
  (RFC 9112 6.1): httptools removes only the chunking, so the body was read still compressed;
- ``Expect: 100-continue`` answered early (401, 413... before the body was asked for) closes the
  connection: the client does not send the body then, and uvicorn read the next request as it;
- a refusal of what follows a whole request still being answered (pipelined bytes that are no
  request) is sent after that request's answer, as RFC 9112 9.3.2 orders answers: it went first,
  and the connection closed under the answer, which the client never got.

A request refused while its endpoint is still reading the body (a broken chunk) is told why
(:data:`secpipe.server.http.REFUSED` in its scope): the endpoint dead-letters what it read with
that reason, not as a client that went away.

The answers come with ``Connection: close`` (uvicorn's own 400 to a request httptools cannot
parse too, which was text/plain), in the shape of the protocol whose path the request
line named, when it got that far (no route has run yet, so the path and the headers read are all
there is): Splunk's ``{"text", "code"}`` under ``/services/collector``, OTLP's ``google.rpc.Status``
on ``/v1/logs`` (protobuf unless the request said JSON), Firehose's ``{"requestId", "timestamp",
"errorMessage"}`` under ``/v1/firehose``, Elasticsearch's error object on ``/`` and on paths with
a ``/_`` segment (every ES API: ``/_bulk``, ``/{index}/_doc``...), else ``{"error"}``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from secpipe.server import firehose, otlp
from secpipe.server.es_bulk import es_error
from secpipe.server.http import REFUSED

#: header block bound: Elasticsearch's ``http.max_header_size`` is 16 KB, nginx's 4 x 8 KB;
#: 64 KiB leaves room for long bearer tokens and proxies' headers.
MAX_HEADER_BYTES = 64 << 10
_log = logging.getLogger("secpipe.server")


def _shaped(url: bytes, headers: list[tuple[bytes, bytes]], status: int, message: str) -> tuple[bytes, str, str]:
    """The error body for a request to ``url`` with ``headers`` (as far as they were read), its
    content type, and extra header lines."""
    path = url.split(b"?", 1)[0]
    if path == b"/services/collector" or path.startswith(b"/services/collector/"):
        return orjson.dumps({"text": message, "code": 6}), _JSON, ""  # as hec.py answers its own limits
    if path == b"/v1/logs":  # a google.rpc.Status in the request's encoding, as otlp.py answers
        kind = next((v for n, v in headers if n == b"content-type"), b"").split(b";")[0].strip().lower()
        answer = otlp.status(status, message, proto=kind != _JSON.encode())
        return bytes(answer.body), answer.media_type or _JSON, ""
    if path == b"/v1/firehose" or path.startswith(b"/v1/firehose/"):  # the endpoint's {requestId, timestamp, errorMessage}
        request_id = next((v for n, v in headers if n == b"x-amz-firehose-request-id"), b"")
        return bytes(firehose.answer(request_id.decode("latin-1"), status, message).body), _JSON, ""
    if path == b"/" or b"/_" in path:
        return orjson.dumps(es_error(status, message)), _JSON, "x-elastic-product: Elasticsearch\r\n"
    return orjson.dumps({"error": message}), _JSON, ""


_JSON = "application/json"


class _Cycle(RequestResponseCycle):
    """A request whose final answer, sent before the body was asked for with ``100 Continue``,
    closes the connection: the client then never sends that body (RFC 9110 10.1.1), but the
    parser still waits for Content-Length bytes, so the next request on the connection was
    swallowed as this one's body and went unanswered."""

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start" and self.waiting_for_100_continue and not self.response_started:
            self.keep_alive = False  # answered with "connection: close", then closed
        await super().send(message)


class GuardedHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol with a header deadline and a header size bound (module docstring)."""

    header_timeout: float = 30.0
    max_header_bytes: int = MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = False  # between a request's first byte and its headers' end
        self._refused = False
        self._deferred: bytes | None = None  # a refusal sent once the request before it is answered

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, status: int, reason: str, message: str) -> None:
        """Answer ``status`` and close: the request is not read any further."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._disarm()
        client = "%s:%d" % self.client if self.client else "?"  # noqa: UP031
        _log.warning("HTTP connection from %s closed: %s", client, message)
        body, kind, extra = _shaped(bytes(getattr(self, "url", b"") or b""), getattr(self, "headers", None) or [],
                                    status, message)
        head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: {kind}\r\n{extra}"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")  # fmt: skip
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.more_body:  # its endpoint reads the body: told why, it dead-letters what it read with that
                cycle.scope[REFUSED] = message  # type: ignore[literal-required]
            else:  # a whole request before this is still being answered: its answer goes first (RFC 9112 9.3.2)
                self._deferred = head.encode() + body
                return
        self.transport.write(head.encode() + body)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what httptools cannot parse (a broken chunk size, Content-Length
        twice or with Transfer-Encoding: request smuggling shapes), in JSON like every other, with
        what httptools found (uvicorn calls this while handling its error)."""
        exc = sys.exc_info()[1]
        why = str(exc) if isinstance(exc, httptools.HttpParserError) and str(exc) else msg.rstrip(".")
        self._refuse(400, "Bad Request", f"{why}: the request is not valid HTTP/1.1 (RFC 9112)")

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self._in_headers:  # idle (no request begun) or a body still arriving after the answer
            if not self.transport.is_closing():
                self.transport.close()
            return
        self._refuse(408, "Request Timeout",
                     f"the request headers did not arrive within {self.header_timeout:g}s (server.request_timeout_seconds)")

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self.max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large",
                         f"the request line and headers exceed {self.max_header_bytes} bytes")

    # asyncio.Protocol / uvicorn hooks
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # answered and closing: what the client still sends is dropped
            return
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        self._in_headers = True
        if self._header_timer is None:  # a pipelined request: its own deadline from now
            self._arm()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        if not self._refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_headers = False
        codings = [c.strip().lower() for n, v in self.headers if n == b"transfer-encoding" for c in v.split(b",")]
        if any(c not in (b"chunked", b"identity", b"") for c in codings):  # httptools only removes chunked
            self._refuse(501, "Not Implemented", f"Transfer-Encoding {b', '.join(codings).decode('latin-1')!r} is not "
                         "supported: send the body chunked or with Content-Length, compressed with Content-Encoding")
        if not self._refused:
            super().on_headers_complete()
            if self.expect_100_continue and type(self.cycle) is RequestResponseCycle:
                self.cycle.__class__ = _Cycle  # built by the base class: same state, one method more

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._deferred is not None:  # what followed that request was refused (see _refuse): now, and closed
            answer, self._deferred = self._deferred, None
            if not self.transport.is_closing():
                self.transport.write(answer)
                self.transport.close()
            return
        if not self.pipeline and not self.transport.is_closing():
            self._arm()  # the next request's headers: a deadline from now


def guarded_protocol(header_timeout: float, max_header_bytes: int = MAX_HEADER_BYTES) -> type[GuardedHttpTools]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    return type("GuardedHttpTools", (GuardedHttpTools,),
                {"header_timeout": float(header_timeout), "max_header_bytes": int(max_header_bytes)})
