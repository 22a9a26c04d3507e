"""Test helpers: run the secpipe CLI as a subprocess and read its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SECPIPE = [sys.executable, "-m", "secpipe.cli.main"]


def cli(*args: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``secpipe ARGS`` and return the completed process (text mode)."""
    pr = subprocess.run([*SECPIPE, *args], capture_output=True, text=stdin is None, input=stdin, timeout=600)
    if check and pr.returncode != 0:
        msg = f"secpipe {' '.join(args)} exited {pr.returncode}: {pr.stderr}"
        raise AssertionError(msg)
    return pr


def ingest(data: Path, *paths: str | Path, fmt: str = "auto") -> dict[str, Any]:
    """``secpipe ingest --json`` and its summary (exit 3, records dead-lettered, is a summary too)."""
    pr = cli("ingest", "--format", fmt, "--data", str(data), "--json", *map(str, paths), check=False)
    if pr.returncode not in (0, 3):
        msg = f"secpipe ingest exited {pr.returncode}: {pr.stderr}"
        raise AssertionError(msg)
    summary: dict[str, Any] = json.loads(pr.stdout.strip().splitlines()[-1])
    assert summary["exit_code"] == pr.returncode == (3 if summary["dead_letter"] else 0), summary
    return summary


def query(data: Path, sql: str) -> list[dict[str, Any]]:
    """``secpipe query --format json``."""
    pr = cli("query", "--data", str(data), "--format", "json", sql)
    return json.loads(pr.stdout)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(AssertionError):
    """``secpipe up`` could not bind its port: something took it after :func:`free_port` chose it."""


class Server:
    """A real `secpipe up` subprocess on loopback; tokens parsed from its first-start output."""

    def __init__(self, data: Path, *extra: str, port: int | None = None) -> None:
        self.data = data
        self.port = port or free_port()
        self._fixed_port = port is not None
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.ingest_token = ""
        self.admin_token = ""
        self.output: list[str] = []

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        """Start and wait until /healthz answers.

        The port is picked free before the server binds it, so another socket may take it
        meanwhile: a server that exits because its port is in use is started again on a new
        free port (a port given by the test is never changed)."""
        tries = 1
        while True:
            try:
                return self._start(timeout)
            except PortTaken:
                if self._fixed_port or tries == 3:
                    raise
                tries += 1
                self.port = free_port()
                self.output = []

    def _start(self, timeout: float) -> Server:
        import threading
        import time

        import httpx

        self.proc = subprocess.Popen(
            [*SECPIPE, "up", "--data", str(self.data), "--listen", f"127.0.0.1:{self.port}", *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.proc.stdout is not None
        stream = self.proc.stdout

        def pump() -> None:
            for line in stream:
                self.output.append(line)
                if line.startswith("ingest token:"):
                    self.ingest_token = line.split()[-1]
                elif line.startswith("admin token:"):
                    self.admin_token = line.split()[-1]

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.2)  # the pump thread reads the last lines
                msg = f"secpipe up exited {self.proc.returncode}: {''.join(self.output)}"
                if "address already in use" in msg.lower():
                    raise PortTaken(msg)
                raise AssertionError(msg)
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        msg = f"secpipe up did not answer /healthz: {''.join(self.output)}"
        raise AssertionError(msg)

    def stop(self, sig: int | None = None, timeout: float = 30.0) -> int:
        """Stop with ``sig`` (default SIGTERM); returns the exit code."""
        import signal

        assert self.proc is not None
        self.proc.send_signal(sig or signal.SIGTERM)
        return self.proc.wait(timeout)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.stop()
