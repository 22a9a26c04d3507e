"""Every HTTP route x every role against the policy, on a real server on loopback; masking,
reveal, tokens/users, audit of queries, rate limit, slow clients and TLS."""

from __future__ import annotations

import importlib
import pkgutil
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

import secpipe.server
import secpipe.sources
from secpipe.runtime.service import Service
from secpipe.security import audit
from secpipe.security.keys import generate_key
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from secpipe.server.policy import PERMISSIONS, ROLES, ROUTE_POLICY, SECRET, allowed
from secpipe.transforms.protect.tokenize import TokenizeStage
from tests.helpers import SECPIPE
from tests.integration._security_server import serve

for mod in [*pkgutil.walk_packages(secpipe.server.__path__, "secpipe.server."),
            *pkgutil.walk_packages(secpipe.sources.__path__, "secpipe.sources.")]:
    importlib.import_module(mod.name)  # every module that may add routes (helpers add them concurrently)


def _fill(path: str) -> str:
    """A concrete URL for a route template (ints for int converters, a real format name)."""

    def one(m: re.Match[str]) -> str:
        name, conv = m.group(1), (m.group(2) or "")[1:]
        if conv in ("int", "float"):
            return "1"
        return "cloudtrail" if name == "format" else "x"

    return re.sub(r"\{(\w+)(:\w+)?\}", one, path)


def test_every_route_x_every_role(data_dir: Path) -> None:
    tokens = TokenStore(data_dir)
    role_tokens = {role: tokens.create(f"t-{role}", role) for role in ROLES}
    with serve(data_dir) as (url, ctx), httpx.Client(base_url=url, timeout=30) as c:
        app_routes = [(m, r.path) for r in create_app(ctx).routes for m in (r.methods or []) if m != "HEAD"]
        assert len(app_routes) >= 10
        checked = 0
        for method, path in app_routes:
            perm = ROUTE_POLICY.get((method, path))
            assert perm is not None, f"route {method} {path} has no explicit policy"
            assert perm in (*PERMISSIONS, "public", SECRET), f"{method} {path}: unknown permission {perm!r}"
            target = _fill(path)
            anon = c.request(method, target, content=b"{}")
            if perm == "public":
                assert anon.status_code not in (401, 403), (method, path)
                continue
            if perm == SECRET:  # signature/shared-secret routes: refused (401/403, or 503 when unconfigured)
                assert anon.status_code in (401, 403, 503), (method, path, anon.status_code)
                continue
            assert anon.status_code in (401, 403), (method, path, anon.status_code)
            for role, tok in role_tokens.items():
                r = c.request(method, target, content=b"{}", headers={"Authorization": f"Bearer {tok}"})
                if allowed(role, perm):
                    assert r.status_code not in (401, 403, 429), (method, path, role, r.status_code, r.text[:200])
                else:
                    assert r.status_code == 403, (method, path, role, r.status_code, r.text[:200])
                checked += 1
        assert checked >= 5 * 8
    denied = [e for e in audit.AuditLog(data_dir).entries() if e["action"] == "auth.denied"]
    assert denied and all("token" not in str(e["details"].get("reason", "")).lower() or e["actor"] for e in denied)


def test_route_without_policy_is_refused(data_dir: Path) -> None:
    from starlette.routing import Route

    from secpipe.server import app as app_mod

    async def naked(_request):  # pragma: no cover - never served
        raise AssertionError

    app_mod.ROUTERS.append(lambda _ctx: [Route("/v1/naked", naked, methods=["GET"])])
    try:
        svc = Service(data_dir)
        ctx = AppContext(service=svc, tokens=TokenStore(data_dir), limits=Limits())
        with pytest.raises(RuntimeError, match="no entry"):
            create_app(ctx)
        svc.close()
    finally:
        app_mod.ROUTERS.pop()


def test_viewer_sees_masked_analyst_sees_tokens_and_reveals(data_dir: Path, real: Path, monkeypatch) -> None:
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", generate_key())
    stage = TokenizeStage("tok", {"type": "tokenize", "fields": {"actor.user.name": "reversible"}})
    tokens = TokenStore(data_dir)
    ingest, viewer, analyst = (tokens.create(f"t-{r}", r) for r in ("ingest", "viewer", "analyst"))
    body = (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    with serve(data_dir, stages=[stage]) as (url, ctx), httpx.Client(base_url=url, timeout=30) as c:
        assert c.post("/v1/ingest/cloudtrail", content=body, headers={"Authorization": f"Bearer {ingest}"}).status_code == 200
        ctx.service.flush()
        sql = ("SELECT actor.user.name AS n, actor.user.uid AS u, src_endpoint.ip AS ip, raw_data FROM api_activity "
               "WHERE actor.user.uid IS NOT NULL AND src_endpoint.ip IS NOT NULL ORDER BY metadata.uid LIMIT 20")
        v = c.post("/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {viewer}"}).json()
        a = c.post("/v1/query", json={"sql": sql}, headers={"Authorization": f"Bearer {analyst}"}).json()
        assert len(v["rows"]) == len(a["rows"]) > 5
        for (vn, vu, vip, vraw), (an, au, aip, araw) in zip(v["rows"], a["rows"], strict=True):
            assert vraw is None and araw is not None  # viewers never see the original event
            for masked, plain in ((vu, au), (vip, aip)):
                assert masked != plain and len(masked) == len(plain)
                assert masked == ("*" * (len(plain) - 4) + plain[-4:] if len(plain) > 4 else "*" * len(plain))
            if an is not None:
                assert an.startswith("tokr:") and vn == an  # tokens are shown as they are
        # viewers cannot escape the masked tables
        for evil in ("SELECT * FROM read_parquet('" + str(data_dir) + "/lake/*/*/*.parquet')",
                     "SET enable_external_access=true", "COPY api_activity TO '/tmp/x.csv'"):
            r = c.post("/v1/query", json={"sql": evil}, headers={"Authorization": f"Bearer {viewer}"})
            assert r.status_code == 400, evil
        # analysts are sandboxed to the lake too
        r = c.post("/v1/query", json={"sql": "SELECT * FROM read_csv('/etc/passwd')"},
                   headers={"Authorization": f"Bearer {analyst}"})
        assert r.status_code == 400
        tok = next(row[0] for row in a["rows"] if row[0])
        r = c.post("/v1/reveal", json={"token": tok, "reason": "incident 42"}, headers={"Authorization": f"Bearer {viewer}"})
        assert r.status_code == 403
        r = c.post("/v1/reveal", json={"token": tok, "reason": "incident 42"}, headers={"Authorization": f"Bearer {analyst}"})
        assert r.status_code == 200 and not r.json()["value"].startswith("tok")
    entries = list(audit.AuditLog(data_dir).entries())
    queries = [e for e in entries if e["action"] == "query" and "rows" in e["details"]]
    assert {(e["actor"], e["details"]["masked"]) for e in queries} >= {("t-viewer", True), ("t-analyst", False)}
    assert any(e["details"].get("rows") == len(a["rows"]) for e in queries)
    reveals = [e for e in entries if e["action"] == "reveal" and e["actor"] == "t-analyst"]
    assert reveals and reveals[0]["details"]["reason"] == "incident 42"
    assert audit.verify(data_dir).ok


def test_tokens_and_users_api_and_cli(data_dir: Path) -> None:
    admin = TokenStore(data_dir).create("root", "admin")
    with serve(data_dir) as (url, _ctx), httpx.Client(base_url=url, timeout=30) as c:
        h = {"Authorization": f"Bearer {admin}"}
        assert c.post("/v1/users", json={"name": "alice", "role": "viewer"}, headers=h).status_code == 201
        tok = c.post("/v1/tokens", json={"user": "alice"}, headers=h).json()["token"]
        ing = c.post("/v1/tokens", json={"source": "fluentbit"}, headers=h).json()["token"]
        listed = c.get("/v1/tokens", headers=h).json()["tokens"]
        assert {t["role"] for t in listed if t["name"] in ("alice", "ingest:fluentbit")} == {"viewer", "ingest"}
        assert tok not in str(listed) and tok.split("_", 2)[2] not in (data_dir / "state" / "tokens.json").read_text()
        assert c.post("/v1/query", json={"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {tok}"}).status_code == 200
        assert c.post("/v1/query", json={"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {ing}"}).status_code == 403
        r = c.post("/v1/ingest/cloudtrail", content=b'{"Records": []}', headers={"Authorization": f"Bearer {ing}"})
        assert r.status_code in (200, 400)
        subprocess.run([*SECPIPE, "users", "set-role", "alice", "--role", "ingest", "--data", str(data_dir)], check=True,
                       capture_output=True)
        assert c.post("/v1/query", json={"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {tok}"}).status_code == 403
        tid = tok.split("_", 2)[1]
        assert c.delete(f"/v1/tokens/{tid}", headers=h).status_code == 200
        assert c.post("/v1/query", json={"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {tok}"}).status_code == 401
    out = subprocess.run([*SECPIPE, "tokens", "create", "--name", "svc", "--role", "auditor", "--data", str(data_dir)],
                         check=True, capture_output=True, text=True).stdout.strip()
    assert out.startswith("sp_")
    listed = subprocess.run([*SECPIPE, "tokens", "list", "--json", "--data", str(data_dir)], check=True,
                            capture_output=True, text=True).stdout
    assert '"svc"' in listed and out not in listed
    actions = [e["action"] for e in audit.AuditLog(data_dir).entries()]
    for a in ("user.create", "token.create", "user.role", "token.revoke", "token.use"):
        assert a in actions


def test_rate_limit_429_with_retry_after(data_dir: Path) -> None:
    tok = TokenStore(data_dir).create("burst", "viewer")
    # one request per 100 s past a burst of 3: the bucket cannot refill during the test, however slow
    # the host answers (at 1/s, six queries taking a second each were all allowed)
    with serve(data_dir, Limits(rate_per_token=0.01, rate_burst=3)) as (url, _), httpx.Client(base_url=url, timeout=30) as c:
        h = {"Authorization": f"Bearer {tok}"}
        codes = [c.post("/v1/query", json={"sql": "SELECT 1"}, headers=h) for _ in range(6)]
        assert [r.status_code for r in codes] == [200, 200, 200, 429, 429, 429]
        assert 1 <= int(codes[3].headers["Retry-After"]) <= 100


@pytest.mark.parametrize(("path", "role"), [("/v1/ingest/cloudtrail", "ingest"), ("/v1/silences", "admin")])
def test_slow_client_times_out(data_dir: Path, path: str, role: str) -> None:
    """A body sent too slowly gets 408 on every route that reads one (the silences route read
    its body with no deadline and no size limit until session 18)."""
    tok = TokenStore(data_dir).create("slow", role)

    class Cfg:
        class server:  # noqa: N801 - mimics the config shape read by the server
            request_timeout_seconds = 1.0

    with serve(data_dir) as (url, ctx):
        ctx.extras["config"] = Cfg()
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode()
                      + b"\r\nContent-Length: 1000\r\n\r\n{\"Rec")
            t0 = time.monotonic()
            answer = s.recv(4096)
            assert time.monotonic() - t0 < 8
        assert b" 408 " in answer.split(b"\r\n", 1)[0]


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    """A CA, a server cert for 127.0.0.1 and a client cert (made with cryptography)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    d = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("secpipe test CA")).issuer_name(name("secpipe test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for cn in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
             .not_valid_after(now + dt.timedelta(days=2)))
        if cn == "server":
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                critical=False)
        else:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        (d / f"{cn}.pem").write_bytes(b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        write_key(key, d / f"{cn}.key")
    return {k: d / k for k in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def test_tls_and_mutual_tls(data_dir: Path, certs: dict[str, Path]) -> None:
    from secpipe.security.tls import TlsConfig, client_context, uvicorn_options

    tls = TlsConfig(cert=str(certs["server.pem"]), key=str(certs["server.key"]), client_ca=str(certs["ca.pem"]))
    with serve(data_dir, **uvicorn_options(tls)) as (url, _):
        good = client_context(str(certs["ca.pem"]), client_cert=str(certs["client.pem"]), client_key=str(certs["client.key"]))
        with httpx.Client(base_url=url, verify=good) as c:
            assert c.get("/healthz").status_code == 200
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            with httpx.Client(base_url=url, verify=client_context(str(certs["ca.pem"]))) as c:  # no client cert
                c.get("/healthz")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            with httpx.Client(base_url=url, verify=client_context()) as c:  # system store: unknown CA
                c.get("/healthz")
    assert client_context().verify_mode == ssl.CERT_REQUIRED and client_context().check_hostname
