"""An in-process secpipe HTTP server (real uvicorn on a loopback port) for the security tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits


@contextmanager
def serve(data_dir: Path, limits: Limits | None = None, stages: Any = None, **ssl_opts: Any) -> Iterator[tuple[str, AppContext]]:
    """Run the app on 127.0.0.1:<free port>; yields (base url, context); stops and closes on exit."""
    svc = Service(data_dir, stages)
    ctx = AppContext(service=svc, tokens=TokenStore(data_dir), limits=limits or Limits())
    app = create_app(ctx)
    # the server gets its socket already bound: no free port to pick and lose to another socket
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           **ssl_opts))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    deadline = time.monotonic() + 60  # polled: a loaded host may take long
    while not server.started:
        assert t.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    scheme = "https" if ssl_opts else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}", ctx
    finally:
        server.should_exit = True
        t.join(30)
        sock.close()
        svc.close()
