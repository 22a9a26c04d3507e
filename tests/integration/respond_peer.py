"""A real HTTP receiver on loopback for the alerting tests (Slack/PagerDuty/Teams/webhook stand-in).

It records every request (method, path, headers, body, arrival time) and answers from a
script of responses (status, headers, body), then with ``default``. Each request is handled
on its own thread, like a real server.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """One received request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Peer:
    """The receiver: ``url``, ``seen`` requests, scripted ``responses``."""

    default: tuple[int, dict[str, str], bytes] = (200, {}, b"ok")
    responses: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        peer = self
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # answer at once: headers and body are separate writes (Nagle)
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else b""
                if peer.delay:
                    time.sleep(peer.delay)
                with peer.cond:
                    peer.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                          body, time.time()))
                    status, headers, out = peer.responses.pop(0) if peer.responses else peer.default
                    peer.cond.notify_all()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET = _handle

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait(self, n: int, timeout: float = 30.0) -> list[Seen]:
        """Block until ``n`` requests arrived (AssertionError on timeout); returns as soon as they are
        there, so the cap is generous for a loaded host."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.seen) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    msg = f"expected {n} requests, got {len(self.seen)}"
                    raise AssertionError(msg)
                self.cond.wait(left)
            return list(self.seen)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
