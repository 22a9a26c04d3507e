"""A real `secpipe up` subprocess on a free loopback port, for the wire-ingest tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
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
    verify: Any = True  # an SSLContext trusting the server's certificate when it serves HTTPS

    def query(self, sql: str) -> list[list[Any]]:
        """Rows of a SQL query over the lake (admin token)."""
        r = httpx.post(f"{self.url}/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {self.admin}"},
                       verify=self.verify, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["rows"]

    def count(self, table: str, where: str) -> int:
        """``SELECT count(*) FROM table WHERE where``; 0 while the lake has no such table (a class no event of
        which was stored yet: a test run alone must not need another's events to ask for none)."""
        tables = self.query(f"SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'")
        return self.query(f"SELECT count(*) FROM {table} WHERE {where}")[0][0] if tables[0][0] else 0  # type: ignore[no-any-return]

    def wait_rows(self, sql: str, want: int, timeout: float = 60.0) -> int:
        """Poll ``SELECT count(*) ...`` until it reaches ``want`` (the lake commits on a timer)."""
        deadline = time.monotonic() + timeout
        got = -1
        while time.monotonic() < deadline:
            r = httpx.post(f"{self.url}/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {self.admin}"},
                           verify=self.verify, timeout=60)
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


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))  # fmt: skip
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def start(tmp: Path, config: str = "", *, taskset: str | None = None, data: Path | None = None,
          tls: bool = False) -> Server:
    """Start `secpipe up` with ``config`` (YAML text) and fresh tokens; waits for /healthz.

    ``tls``: serve HTTPS with a fresh self-signed certificate (``Server.verify`` trusts it).
    """
    data = data or tmp / "data"
    tokens = TokenStore(data)
    ingest = tokens.create("test-ingest", "ingest")
    admin = tokens.create("test-admin", "admin")
    viewer = tokens.create("test-viewer", "viewer")
    cfg = tmp / "pipeline.yaml"
    cfg.write_text(config or "{}\n")
    verify: Any = True
    scheme = "http"
    tls_args: list[str] = []
    if tls:
        cert, key = self_signed(tmp)
        tls_args = ["--tls-cert", str(cert), "--tls-key", str(key)]
        verify, scheme = ssl.create_default_context(cafile=str(cert)), "https"
    # the port is picked free before the server binds it, so another socket may take it meanwhile:
    # a server that exits because its port is in use is started again on a new free port
    tries = 0
    while True:
        tries += 1
        port = free_port()
        log = tmp / f"server-{port}.log"
        cmd = [sys.executable, "-m", "secpipe.cli.main", "up", "--config", str(cfg), "--data", str(data),
               "--listen", f"127.0.0.1:{port}", *tls_args]  # fmt: skip
        if taskset:
            cmd = ["taskset", "-c", taskset, *cmd]
        with open(log, "wb") as fh:
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        url = f"{scheme}://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # polled: a loaded host may take long to import and start
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                if httpx.get(f"{url}/healthz", timeout=1, verify=verify).status_code == 200:
                    return Server(url, data, ingest, admin, viewer, proc, log, verify)
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            proc.kill()
            msg = f"secpipe up did not answer on {url}: {log.read_text()[-2000:]}"
            raise RuntimeError(msg)
        if "address already in use" not in log.read_text().lower() or tries == 3:
            msg = f"secpipe up exited: {log.read_text()[-2000:]}"
            raise RuntimeError(msg)
