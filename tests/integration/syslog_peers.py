"""Helpers for the syslog listener tests: a test CA + server certificate, an rsyslog relay."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
RSYSLOG_MODULES = Path("/usr/lib/x86_64-linux-gnu/rsyslog")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A currently free loopback port."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_certs(out: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for localhost/127.0.0.1 (PEM files in ``out``)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secpipe test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = {"ca": out / "ca.pem", "cert": out / "server.pem", "key": out / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))  # fmt: skip
    return paths


def _udp_bound(port: int) -> bool:
    """Whether some socket is bound to UDP 127.0.0.1:``port`` (Linux: /proc/net/udp)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as fh:
        return any(line.split()[1] == want for line in fh.readlines()[1:])


class Rsyslog:
    """rsyslogd in the foreground: receives UDP on ``in_port``, forwards to the listener."""

    def __init__(self, work: Path, target_port: int, *, driver: str | None = None, ca: Path | None = None,
                 framing: str = "octet-counted") -> None:
        self.work = work
        self.in_port = free_port(socket.SOCK_DGRAM)
        work.mkdir(parents=True, exist_ok=True)
        glob = f'global(workDirectory="{work}"'
        fwd = (f'action(type="omfwd" target="127.0.0.1" port="{target_port}" protocol="tcp" '
               f'TCP_Framing="{framing}" template="RSYSLOG_SyslogProtocol23Format"')  # fmt: skip
        if driver:
            glob += f' defaultNetstreamDriverCAFile="{ca}"'
            fwd += f' StreamDriver="{driver}" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"'
        conf = work / "rsyslog.conf"
        conf.write_text(
            f'{glob})\nmodule(load="imudp")\ninput(type="imudp" address="127.0.0.1" port="{self.in_port}")\n'
            f'*.* {fwd} action.resumeRetryCount="-1" queue.type="LinkedList")\n'
        )
        self.proc = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(conf), "-i", str(work / "rsyslogd.pid"), "-M", str(RSYSLOG_MODULES)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        # ready once its UDP input is bound (a fixed sleep raced a loaded host: the first
        # datagrams went to a closed port and were lost)
        deadline = time.monotonic() + 60
        while not _udp_bound(self.in_port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                msg = f"rsyslogd did not bind udp 127.0.0.1:{self.in_port}: {self.proc.communicate()[0].decode(errors='replace')}"
                raise AssertionError(msg)
            time.sleep(0.05)

    def stop(self) -> str:
        """Stop this rsyslogd (SIGTERM to the process it started) and return its output."""
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out.decode(errors="replace")
