"""Email channel against a real SMTP server (aiosmtpd) that requires STARTTLS.

The server presents a self-signed certificate for 127.0.0.1 generated here; the channel
verifies it through ``tls.ca_bundle`` (and refuses it without), then sends a
multipart/alternative message with a plain-text and an HTML part.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
import time
from pathlib import Path

import pytest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from secpipe.respond.base import Alert, DeliveryError, Notification  # noqa: E402
from secpipe.respond.email import EmailChannel  # noqa: E402


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cpath, kpath = tmp / "cert.pem", tmp / "key.pem"
    cpath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kpath.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    return cpath, kpath


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes, bool]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.ssl is not None))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_login(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN201
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"secpipe" and auth_data.password == b"pa55-w0rd"
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 235 / 535


@pytest.fixture
def smtp(tmp_path: Path):
    cert, key = self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    sink = Sink()
    port = free_port()
    ctl = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                                         authenticator=check_login, auth_require_tls=True)
    ctl.start()
    yield sink, port, cert
    ctl.stop()


def note() -> Notification:
    alerts = [Alert("f1", {"severity": "critical", "rule": "sigma/aws-root-login", "resource": "root", "class":
                           "detection_finding"}, {"summary": "root <login> & co", "evidence_query": "SELECT 1",
                                                  "link": "https://example.org/e?a=1&b=2"}),
              Alert("f2", {"severity": "high", "rule": "sigma/aws-root-login"}, {"summary": "second"}, "resolved")]
    return Notification("mail", "root", "k", {"rule": "sigma/aws-root-login"}, alerts, 1)


def test_email_over_starttls_multipart(smtp) -> None:  # noqa: ANN001
    sink, port, cert = smtp
    ch = EmailChannel("mail", {"host": "127.0.0.1", "port": port, "from": "secpipe@example.org",
                               "to": ["soc@example.org", "oncall@example.org"]}, {"ca_bundle": str(cert)})
    ch.send(note())
    deadline = time.time() + 30
    while not sink.messages and time.time() < deadline:
        time.sleep(0.05)
    mail_from, rcpts, content, over_tls = sink.messages[0]
    assert over_tls  # the server required STARTTLS and the session was upgraded
    assert mail_from == "secpipe@example.org" and rcpts == ["soc@example.org", "oncall@example.org"]
    msg = email.message_from_bytes(content)
    assert msg["Subject"] == "[secpipe] [FIRING:1] sigma/aws-root-login (critical)"
    assert msg.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "Severity: critical" in parts["text/plain"] and "[critical] root <login> & co" in parts["text/plain"]
    assert "RESOLVED [high] second" in parts["text/plain"]
    assert "root &lt;login&gt; &amp; co" in parts["text/html"] and "<login>" not in parts["text/html"]
    assert 'href="https://example.org/e?a=1&amp;b=2"' in parts["text/html"]


def test_email_login_with_password_from_a_secret_file(smtp, tmp_path: Path) -> None:  # noqa: ANN001
    from secpipe.respond.base import DeliveryRejected

    sink, port, cert = smtp
    pw = tmp_path / "smtp_password"
    pw.write_text("pa55-w0rd\n")
    opts = {"host": "127.0.0.1", "port": port, "from": "a@example.org", "to": ["b@example.org"],
            "username": "secpipe", "password_file": str(pw)}
    EmailChannel("mail", opts, {"ca_bundle": str(cert)}).send(note())
    assert len(sink.messages) == 1
    pw.write_text("wrong")
    with pytest.raises(DeliveryRejected, match="SMTP 535") as err:
        EmailChannel("mail", opts, {"ca_bundle": str(cert)}).send(note())
    assert "wrong" not in str(err.value) and "pa55" not in str(err.value)


def test_email_refuses_unverified_certificate(smtp) -> None:  # noqa: ANN001
    _sink, port, _cert = smtp
    ch = EmailChannel("mail", {"host": "127.0.0.1", "port": port, "from": "a@example.org", "to": ["b@example.org"]}, None)
    with pytest.raises(DeliveryError, match="SSLCertVerificationError|certificate verify failed"):
        ch.send(note())


def test_email_over_implicit_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    sink = Sink()
    port = free_port()
    ctl = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port, ssl_context=ctx)
    ctl.start()
    try:
        EmailChannel("mail", {"host": "127.0.0.1", "port": port, "ssl": True, "from": "a@example.org",
                              "to": "b@example.org"}, {"ca_bundle": str(cert)}).send(note())
    finally:
        ctl.stop()
    assert len(sink.messages) == 1 and sink.messages[0][1] == ["b@example.org"]
