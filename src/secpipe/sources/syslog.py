"""Syslog listener: UDP (RFC 5426), TCP (RFC 6587: newline or octet-counted) and TLS (RFC 5425).

Runs one asyncio loop in its own thread. Messages are grouped per connection (TCP/TLS) or
per sender (UDP) and handed to ``Service.accept("syslog", source, body)`` in small batches:
when a batch reaches ``batch_max_messages`` or ``batch_max_bytes``, or ``batch_max_seconds``
after its first message. The body re-frames the batch with octet counting (RFC 6587 3.4.1),
so a message containing a newline survives intact, and the source string says so
(``syslog+tcp://127.0.0.1:5514/peer=127.0.0.1:40522;framing=octet-counted``); the syslog
format reads that hint.

Framing on a stream is detected per message (RFC 6587 3.4): a message that starts with
digits and a space is octet-counted (``<len> <msg>``), anything else runs to the next LF (a
trailing CR is dropped; NUL also ends a message, as some old senders use it), including a
line that starts with digits not followed by a space (a message without PRI opening with an
ISO time or an epoch: rsyslog too falls back to LF framing on an invalid count). A message
over ``max_message_bytes`` is dead-lettered with the reason and its first bytes; an
octet-counted one is skipped by its count and the connection read on (ending it would lose
what the sender had written after it); a frame cut by the connection's end is dead-lettered.

Guarantees: a TCP/TLS sender is read no faster than batches are made durable (the reader
awaits each accept, so back-pressure reaches the sender through TCP flow control). A batch
the service cannot store for now (disk full, I/O error: ``OSError`` or a
:class:`~secpipe.errors.TransientError`) is kept and offered again with back-off (50 ms up
to 5 s) while reading from that connection pauses (a dead letter too): the sender's socket buffer fills and it
blocks or queues (rsyslog keeps the messages in its action queue), and everything is stored
once, in order, when space is back — never read, acknowledged by TCP and then dropped. Only
a stop during such an outage loses the batches still held (logged with their size); UDP has
no flow control and no acknowledgement, so datagrams that arrive while the process is down
or the kernel buffer is full are lost, as with any UDP syslog receiver. A UDP batch the
service cannot store (disk full, store failure) cannot be asked for again either: it is
dropped and counted (:attr:`SyslogListener.udp_dropped`, ``secpipe_syslog_udp_dropped_total``
in ``GET /v1/metrics``), and each burst of drops is logged twice, never per datagram and never
with message bodies: when it starts (why) and when storing works again or the listener stops
(how many datagrams from how many senders over how long). On stop, servers close, every
pending batch is accepted (open TCP/TLS connections are ended first, so the batch each has
read is stored; bytes still in a socket's kernel buffer are not read), then the loop ends.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from secpipe.errors import SecpipeError, TransientError
from secpipe.formats.base import DeadLetter
from secpipe.formats.syslog import Repeats

log = logging.getLogger("secpipe.sources.syslog")


#: a TLS client must finish its handshake within this (asyncio's default holds a silent one 60 s)
TLS_HANDSHAKE_SECONDS = 10.0


class SyslogListenerError(SecpipeError):
    """The listener could not start (bad address, port in use, unreadable TLS files)."""


class Acceptor(Protocol):
    """What the listener feeds (``runtime.service.Service`` satisfies it)."""

    def accept(self, fmt_name: str, source: str, body: bytes) -> Any:
        """Make one body durable and process it."""

    def dead_letter(self, letters: list[DeadLetter]) -> int:
        """Persist dead letters."""


@dataclass
class ListenerConfig:
    """Listener settings (built from the config model ``SyslogSourceOptions``)."""

    host: str = "127.0.0.1"
    port: int = 5514
    protocol: str = "udp"
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    max_message_bytes: int = 64 * 1024
    batch_max_messages: int = 1000
    batch_max_bytes: int = 1 << 20
    batch_max_seconds: float = 0.2
    fmt: str = "syslog"


@dataclass
class _DropBurst:
    """UDP datagrams dropped since the store last failed (logged as one burst)."""

    count: int = 0
    senders: set[str] = field(default_factory=set)
    started: float = 0.0


@dataclass
class _Batch:
    msgs: list[bytes] = field(default_factory=list)
    size: int = 0
    timer: asyncio.TimerHandle | None = None


def _frame(msgs: list[bytes]) -> bytes:
    return b"".join(b"%d %s" % (len(m), m) for m in msgs)


class SyslogListener:
    """A running syslog receiver; :meth:`start` binds, :meth:`stop` drains and closes."""

    def __init__(self, name: str, cfg: ListenerConfig, service: Acceptor) -> None:
        self.name = name
        self.cfg = cfg
        self.service = service
        self.port = cfg.port
        self.accepted = 0  # messages handed to the service
        self._repeats = Repeats()  # verbatim repeats across batches (formats.syslog module docstring)
        self.received = 0  # TCP/TLS messages read (stored once their batch is accepted)
        self.udp_dropped = 0  # UDP datagrams the service could not store (the sender cannot resend them)
        self._burst = _DropBurst()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._udp: dict[str, _Batch] = {}
        self._pending: set[asyncio.Future[Any]] = set()
        self._clients: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}  # open TCP/TLS connections

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a background thread; returns once the socket is bound."""
        self._thread = threading.Thread(target=self._run, name=f"secpipe-syslog-{self.name}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        log.info("syslog source %s listening on %s %s:%d", self.name, self.cfg.protocol, self.cfg.host, self.port)

    def stop(self) -> None:
        """Stop accepting, hand every pending batch to the service, end the thread."""
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            return  # never started, or stopped already (its loop is closed)
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(30)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except (OSError, ssl.SSLError, SyslogListenerError) as exc:
            if not self._ready.is_set():
                self._error = exc if isinstance(exc, SyslogListenerError) else SyslogListenerError(
                    f"sources.{self.name}: cannot listen on {self.cfg.protocol} {self.cfg.host}:{self.cfg.port}: {exc} "
                    "— choose a free port (ports below 1024 need root) or fix the TLS files"
                )  # fmt: skip
                self._ready.set()
            else:
                log.exception("syslog source %s failed", self.name)
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        cfg = self.cfg
        closer: Callable[[], Any]
        if cfg.protocol == "udp":
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(cfg.host, cfg.port))
            self.port = transport.get_extra_info("sockname")[1]
            closer = transport.close
        elif cfg.protocol in ("tcp", "tls"):
            ctx = self._tls_context() if cfg.protocol == "tls" else None
            server = await asyncio.start_server(self._client, cfg.host, cfg.port, ssl=ctx, limit=cfg.max_message_bytes + 64,
                                                ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS if ctx is not None else None)
            self.port = server.sockets[0].getsockname()[1]
            closer = server.close
        else:
            msg = f"sources.{self.name}.protocol: {cfg.protocol!r} — use udp, tcp or tls"
            raise SyslogListenerError(msg)
        self._ready.set()
        await self._stopping.wait()
        closer()
        # connections still open (rsyslog keeps its connection): end them, so each client stores
        # the batch it has read and TCP-acknowledged (it was lost with the loop)
        for writer in list(self._clients.values()):
            writer.transport.abort()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        for peer in list(self._udp):
            await self._flush_udp(peer)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        self._burst_ended("the listener stopped")

    def _tls_context(self) -> ssl.SSLContext:
        cfg = self.cfg
        if not cfg.cert or not cfg.key:
            msg = f"sources.{self.name}.tls: protocol tls needs tls.cert and tls.key (PEM files)"
            raise SyslogListenerError(msg)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(cfg.cert, cfg.key)
            if cfg.ca:
                ctx.load_verify_locations(cfg.ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as exc:
            msg = f"sources.{self.name}.tls: cannot load {cfg.cert} / {cfg.key}: {exc} — give PEM certificate and key paths"
            raise SyslogListenerError(msg) from exc
        return ctx

    # --- delivery --------------------------------------------------------------------------

    def _source(self, peer: str) -> str:
        return f"syslog+{self.cfg.protocol}://{self.cfg.host}:{self.port}/peer={peer};framing=octet-counted"

    def _batch(self, peer: str, msgs: list[bytes]) -> tuple[str, bytes]:
        """(source, body) of a batch: the body octet-counted, the source hinted with the copies
        of its messages the listener took before (the listener is one stream for every sender:
        a UDP sender's port changes with each ``logger`` call)."""
        body = _frame(msgs)
        source = self._source(peer)
        return (self._repeats.source(body, source) if self.cfg.fmt == "syslog" else source), body

    async def _deliver(self, peer: str, msgs: list[bytes], batch: tuple[str, bytes] | None = None) -> None:
        if not msgs:
            return
        source, body = batch or self._batch(peer, msgs)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.service.accept, self.cfg.fmt, source, body)
        self.accepted += len(msgs)

    async def _store(self, peer: str, msgs: list[bytes]) -> None:
        """:meth:`_deliver`, retried with back-off while storage fails (see module docstring);
        the batch is framed and counted once, whatever the tries."""
        if msgs:
            await self._retrying(f"{len(msgs)} message(s) from {peer}", self._deliver, peer, msgs, self._batch(peer, msgs))

    async def _retrying(self, what: str, op: Callable[..., Any], *args: Any) -> None:
        wait = 0.05
        while True:
            try:
                await op(*args)
                return
            except (OSError, TransientError) as exc:
                stopping = self._stopping
                if stopping is None or stopping.is_set():
                    log.error("syslog source %s: stopping; %s could not be stored: %s", self.name, what, exc)
                    raise
                log.error("syslog source %s: %s not stored yet, reading paused, retry in %.2fs: %s",
                          self.name, what, wait, exc)
                try:
                    await asyncio.wait_for(stopping.wait(), wait)
                except TimeoutError:
                    pass  # waited the back-off; offer the batch again
                wait = min(wait * 2, 5.0)

    async def _dead(self, peer: str, reason: str, raw: bytes) -> None:
        letter = DeadLetter(reason, self._source(peer), 0, raw, self.cfg.fmt)

        async def write() -> None:
            await asyncio.get_running_loop().run_in_executor(None, self.service.dead_letter, [letter])

        await self._retrying(f"a dead letter from {peer}", write)

    # --- UDP ---------------------------------------------------------------------------------

    def _datagram(self, data: bytes, peer: str) -> None:
        msg = data.rstrip(b"\r\n\x00")
        if not msg:
            return
        if len(msg) > self.cfg.max_message_bytes:  # as on a stream (RFC 5426 3.2 lets a receiver discard it)
            limit = self.cfg.max_message_bytes
            self._spawn(self._dead(peer, f"syslog message of {len(msg)} bytes exceeds max_message_bytes={limit}", msg))
            return
        b = self._udp.setdefault(peer, _Batch())
        b.msgs.append(msg)
        b.size += len(msg)
        if len(b.msgs) >= self.cfg.batch_max_messages or b.size >= self.cfg.batch_max_bytes:
            self._spawn(self._flush_udp(peer))
        elif b.timer is None:
            b.timer = asyncio.get_running_loop().call_later(self.cfg.batch_max_seconds, lambda: self._spawn(self._flush_udp(peer)))

    async def _flush_udp(self, peer: str) -> None:
        b = self._udp.pop(peer, None)
        if b is None:
            return
        if b.timer is not None:
            b.timer.cancel()
        try:
            await self._deliver(peer, b.msgs)
        except (OSError, SecpipeError) as exc:  # no flow control, no resend: count the loss, log the burst
            self._dropped(peer, len(b.msgs), exc)
            return
        self._burst_ended("storing works again")

    def _dropped(self, peer: str, n: int, exc: BaseException) -> None:
        self.udp_dropped += n
        burst = self._burst
        if not burst.count:
            burst.started = time.monotonic()
            log.error("syslog source %s: cannot store UDP datagrams (%s: %s) — dropping them until the store "
                      "recovers (free space or fix the store; UDP senders cannot resend; counted in "
                      "secpipe_syslog_udp_dropped_total)", self.name, type(exc).__name__, exc)  # fmt: skip
        burst.count += n
        burst.senders.add(peer)

    def _burst_ended(self, why: str) -> None:
        burst = self._burst
        if burst.count:
            log.error("syslog source %s: %s; %d UDP datagram(s) from %d sender(s) were dropped over %.1fs",
                      self.name, why, burst.count, len(burst.senders), time.monotonic() - burst.started)
            self._burst = _DropBurst()

    def _spawn(self, coro: Any) -> None:
        fut = asyncio.ensure_future(coro)
        self._pending.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: asyncio.Future[Any]) -> None:
        self._pending.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            log.error("syslog source %s: delivery failed: %s", self.name, fut.exception())

    # --- TCP / TLS -----------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        addr = writer.get_extra_info("peername")
        peer = f"{addr[0]}:{addr[1]}" if addr else "unknown"
        conn = _Conn(self, peer)
        me = asyncio.current_task()
        if me is not None:
            self._clients[me] = writer
        ticker = asyncio.ensure_future(conn.tick())
        try:
            while True:
                # never cancel a read half-way (it would lose the bytes of a partial frame):
                # time-based flushes run in the ticker, size-based ones here (back-pressure).
                msg = await self._read_one(reader, peer)
                if msg is None:
                    break
                if msg:
                    self.received += 1
                    await conn.add(msg)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            log.info("syslog source %s: connection from %s ended: %s", self.name, peer, exc)
        except (SecpipeError, OSError) as exc:  # the service could not store a batch: drop the connection
            log.error("syslog source %s: closing %s, a batch could not be stored: %s", self.name, peer, exc)
        finally:
            ticker.cancel()
            try:
                await conn.flush()
            except (SecpipeError, OSError) as exc:
                log.error("syslog source %s: last batch from %s could not be stored: %s", self.name, peer, exc)
            writer.close()
            if me is not None:
                self._clients.pop(me, None)

    async def _read_one(self, reader: asyncio.StreamReader, peer: str) -> bytes | None:
        """The next message (b"" for a skipped one), None at end of stream."""
        first = await reader.read(1)
        if not first:
            return None
        if first in (b"\n", b"\x00"):  # an empty message, or a trailer some senders put after an octet frame
            return b""
        if not first.isdigit():
            return await self._read_line(reader, peer, first)
        # digits then a space: an octet count (RFC 6587 3.4.1). The count is read a byte at a
        # time (the reader buffers; no syscall per byte) so that a line which merely starts with
        # a digit (an ISO time, an epoch: a message without PRI) is not consumed past its end
        count = first
        c = await reader.read(1)
        while c.isdigit() and len(count) < 10:
            count += c
            c = await reader.read(1)
        if c != b" " or len(count) > 9:
            # not a count: the bytes start a newline-framed message (RFC 6587 3.4.2), as rsyslog
            # falls back to LF framing on an invalid octet count; the connection goes on
            if c in (b"", b"\n"):
                return count.rstrip(b"\r\x00")
            return await self._read_line(reader, peer, count + c)
        head = count + c
        n = int(count)
        if n > self.cfg.max_message_bytes:
            # the frame's end is known: keep its start in the dead letter, skip the rest, read on
            # (ending the connection lost what the sender had already written after it)
            try:
                keep = await reader.readexactly(self.cfg.max_message_bytes)
            except asyncio.IncompleteReadError as exc:
                keep = exc.partial
            skip = n - len(keep)
            while skip > 0 and (chunk := await reader.read(min(skip, 1 << 16))):
                skip -= len(chunk)
            what = "" if skip <= 0 else f", truncated: {n - skip} of {n} bytes before the connection closed"
            await self._dead(peer, f"syslog message of {n} bytes exceeds max_message_bytes={self.cfg.max_message_bytes}"
                                   f" (its first {len(keep)} bytes kept){what}", head + keep)  # fmt: skip
            return b"" if skip <= 0 else None
        try:
            return (await reader.readexactly(n)).rstrip(b"\r\n")
        except asyncio.IncompleteReadError as exc:
            await self._dead(peer, f"truncated octet-counted frame: {len(exc.partial)} of {n} bytes before the connection closed", exc.partial)
            return None

    async def _read_line(self, reader: asyncio.StreamReader, peer: str, first: bytes) -> bytes:
        """The newline-framed message that starts with ``first`` (already read)."""
        limit = self.cfg.max_message_bytes
        try:
            line = first + await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = first + exc.partial  # last message without a trailing LF
        except asyncio.LimitOverrunError:
            chunk = first + await reader.read(limit)
            await self._dead(peer, f"syslog line longer than max_message_bytes={limit}", chunk)
            await self._skip_line(reader)
            return b""
        line = line.rstrip(b"\r\n\x00")
        if len(line) > limit:  # the reader's buffer limit has some slack over max_message_bytes
            await self._dead(peer, f"syslog line longer than max_message_bytes={limit}", line)
            return b""
        return line

    async def _skip_line(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                await reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return


class _Conn:
    """The pending batch of one TCP/TLS connection; flushes are serialized (WAL order kept)."""

    def __init__(self, owner: SyslogListener, peer: str) -> None:
        self.owner = owner
        self.peer = peer
        self.batch: list[bytes] = []
        self.size = 0
        self.deadline: float | None = None
        self.lock = asyncio.Lock()
        self.timed: asyncio.Future[None] | None = None  # the ticker's flush under way

    async def add(self, msg: bytes) -> None:
        self.batch.append(msg)
        self.size += len(msg)
        cfg = self.owner.cfg
        if self.deadline is None:
            self.deadline = asyncio.get_running_loop().time() + cfg.batch_max_seconds
        if len(self.batch) >= cfg.batch_max_messages or self.size >= cfg.batch_max_bytes:
            await self.flush()

    async def flush(self) -> None:
        async with self.lock:
            batch, self.batch, self.size, self.deadline = self.batch, [], 0, None
            await self.owner._store(self.peer, batch)

    async def tick(self) -> None:
        loop = asyncio.get_running_loop()
        step = max(0.01, self.owner.cfg.batch_max_seconds / 4)
        while True:
            await asyncio.sleep(step)
            if self.deadline is not None and loop.time() >= self.deadline:
                # shielded: the connection's end cancels the ticker, never a store half-way (the
                # batch was stored but not counted, or dropped while a retry waited for space);
                # the last flush takes the lock after this one, so the WAL order holds
                self.timed = asyncio.ensure_future(self._timed_flush())
                await asyncio.shield(self.timed)

    async def _timed_flush(self) -> None:
        try:
            await self.flush()
        except (SecpipeError, OSError) as exc:
            log.error("syslog source %s: batch from %s could not be stored: %s", self.owner.name, self.peer, exc)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SyslogListener) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.owner._datagram(data, f"{addr[0]}:{addr[1]}")


def split_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) -> (host, port)."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        msg = f"listen {listen!r}: give HOST:PORT, e.g. 127.0.0.1:5514"
        raise SyslogListenerError(msg)
    return host.strip("[]"), int(port)


def from_options(name: str, options: Any, service: Acceptor) -> SyslogListener:
    """Build a listener from a validated ``SyslogSourceOptions``."""
    host, port = split_listen(options.listen)
    tls = options.tls
    cfg = ListenerConfig(
        host=host, port=port, protocol=options.protocol,
        cert=tls.cert if tls else None, key=tls.key if tls else None, ca=tls.ca if tls else None,
        max_message_bytes=options.max_message_bytes, batch_max_messages=options.batch_max_messages,
        batch_max_bytes=options.batch_max_bytes, batch_max_seconds=options.batch_max_seconds, fmt=options.format,
    )  # fmt: skip
    return SyslogListener(name, cfg, service)
