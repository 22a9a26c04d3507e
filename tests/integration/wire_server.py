"""A real `secpipe up` subprocess on a free loopback port, for the wire-ingest tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from secpipe.server.auth import TokenStore


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running server: its URL, tokens and data directory."""

    url: str
    data: Path
    ingest: str
    admin: str
    viewer: str
    proc: subprocess.Popen[bytes]
    log: Path

    def query(self, sql: str) -> list[list[Any]]:
        """Rows of a SQL query over the lake (admin token)."""
        r = httpx.post(f"{self.url}/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {self.admin}"})
        assert r.status_code == 200, r.text
        return r.json()["rows"]

    def wait_rows(self, sql: str, want: int, timeout: float = 20.0) -> int:
        """Poll ``SELECT count(*) ...`` until it reaches ``want`` (the lake commits on a timer)."""
        deadline = time.monotonic() + timeout
        got = -1
        while time.monotonic() < deadline:
            r = httpx.post(f"{self.url}/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {self.admin}"})
            if r.status_code == 200:
                got = r.json()["rows"][0][0]
                if got >= want:
                    return got
            time.sleep(0.2)
        return got

    def stop(self) -> None:
        """SIGTERM and wait (the lake is committed on the way out)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start(tmp: Path, config: str = "", *, taskset: str | None = None, data: Path | None = None) -> Server:
    """Start `secpipe up` with ``config`` (YAML text) and fresh tokens; waits for /healthz."""
    data = data or tmp / "data"
    tokens = TokenStore(data)
    ingest = tokens.create("test-ingest", "ingest")
    admin = tokens.create("test-admin", "admin")
    viewer = tokens.create("test-viewer", "viewer")
    cfg = tmp / "pipeline.yaml"
    cfg.write_text(config or "{}\n")
    port = free_port()
    log = tmp / f"server-{port}.log"
    cmd = [sys.executable, "-m", "secpipe.cli.main", "up", "--config", str(cfg), "--data", str(data),
           "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    if taskset:
        cmd = ["taskset", "-c", taskset, *cmd]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"secpipe up exited: {log.read_text()[-2000:]}"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, data, ingest, admin, viewer, proc, log)
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    msg = f"secpipe up did not answer on {url}: {log.read_text()[-2000:]}"
    raise RuntimeError(msg)
