"""HTTP ingest against a real `secpipe up` on loopback."""

from __future__ import annotations

import gzip
import json
import signal
from pathlib import Path

import httpx

from tests.helpers import Server, query


def test_ingest_auth_limits_errors_and_durable_ack(real: Path, data_dir: Path) -> None:
    trail = (real / "panther-analysis/extracted/cloudtrail.json").read_bytes()
    with Server(data_dir) as srv:
        assert srv.ingest_token.startswith("sp_") and srv.admin_token.startswith("sp_")
        tokens = json.loads((data_dir / "state" / "tokens.json").read_text())
        assert srv.ingest_token not in json.dumps(tokens)  # only hashes are stored
        h = {"Authorization": f"Bearer {srv.ingest_token}"}
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.get("/healthz").json() == {"status": "ok"}
            assert c.post("/v1/ingest/cloudtrail", content=trail).status_code == 401
            r = c.post("/v1/ingest/cloudtrail", content=trail, headers={"Authorization": "Bearer sp_00000000_wrong"})
            assert r.status_code == 401 and r.json()["error"] == "invalid token"
            r = c.post("/v1/ingest/cloudtrail", content=trail, headers=h)
            assert r.status_code == 200 and r.json()["accepted"] == 271 and r.json()["dead_letter"] == 0
            # durable on ack: the WAL holds it before any lake commit
            assert any(p.stat().st_size > 0 for p in (data_dir / "wal").glob("seg-*.wal"))
            r = c.post("/v1/ingest/k8s_audit", headers={**h, "Content-Encoding": "gzip"},
                       content=gzip.compress((real / "panther-analysis/extracted/k8s_audit.jsonl").read_bytes()))
            assert r.status_code == 200 and r.json()["accepted"] == 112
            r = c.post("/v1/ingest/k8s_audit", content=b"this is not json", headers=h)
            assert r.status_code == 400 and "not a JSON object" in r.json()["error"]
            r = c.post("/v1/ingest/cloudtrail", content=gzip.compress(trail)[:500], headers={**h, "Content-Encoding": "gzip"})
            assert r.status_code == 400 and "gzip" in r.json()["error"]
            r = c.post("/v1/ingest/cloudtrail", content=b"x" * (33 << 20), headers=h)
            assert r.status_code == 413
            bomb = gzip.compress(b"{" + b" " * (300 << 20) + b"}")
            r = c.post("/v1/ingest/cloudtrail", content=bomb, headers={**h, "Content-Encoding": "gzip"})
            assert r.status_code == 413 and "decompressed" in r.json()["error"]
            assert c.post("/v1/ingest/nosuchformat", content=b"{}", headers=h).status_code == 404
            r = c.post("/v1/query", json={"sql": "SELECT 1"}, headers=h)
            assert r.status_code == 403  # an ingest token cannot query
        assert srv.stop(signal.SIGTERM) == 0
    assert not list((data_dir / "wal").glob("seg-*.wal")) or all(
        p.stat().st_size == 0 for p in (data_dir / "wal").glob("seg-*.wal"))
    n = query(data_dir, "SELECT count(*) AS n FROM api_activity")[0]["n"]
    assert n >= 257 + 100  # CloudTrail minus logins and duplicates, plus the k8s events
    reasons = [r["reason"] for r in query(data_dir, "SELECT reason FROM dead_letter")]
    assert any("not a JSON object" in x for x in reasons) and any("gzip" in x for x in reasons)


def test_query_api_with_admin_token(real: Path, data_dir: Path) -> None:
    with Server(data_dir) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        h = {"Authorization": f"Bearer {srv.ingest_token}"}
        raw = (real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes()
        assert c.post("/v1/ingest/auto", content=raw, headers=h).status_code == 200
        srv.stop(signal.SIGTERM)
    with Server(data_dir) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        assert srv.admin_token == ""  # tokens are printed only on first start
        tok = _token(data_dir, "admin")
        r = c.post("/v1/query", json={"sql": "SELECT api.operation AS op FROM api_activity"},
                   headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200 and r.json()["rows"] == [["StartInstances"]]


def _token(data_dir: Path, role: str) -> str:
    from secpipe.server.auth import TokenStore

    return TokenStore(data_dir).create(f"test-{role}", role)
