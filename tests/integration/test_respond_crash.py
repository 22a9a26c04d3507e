"""At-least-once alert delivery across a crash: `secpipe up` is SIGKILLed mid-delivery.

A real `secpipe up` runs a match rule and an alert route to a real loopback webhook that
answers slowly. After some alerts arrived the server is killed with SIGKILL, then started
again on the same data directory: every alert must arrive at least once, none lost.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
import yaml

from tests.helpers import Server
from tests.integration.respond_peer import Peer

N = 40


def config(data: Path) -> Path:
    cfg = {
        "data_dir": str(data),
        "transforms": {
            "rules": {"type": "match", "rules": [{"id": "deploy-created", "title": "Deployment created", "severity": "high",
                                                  "where": {"api.operation": "create", "resources.type": "deployments"},
                                                  "message": "created {resources.name}"}]},
            "alerts": {"type": "alert", "inputs": ["rules"],
                       "receivers": {"hook": {"webhook": {"url_env": "CRASH_HOOK_URL"}, "backoff_base_seconds": 0.1}},
                       "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s", "group_interval": "1s"}},
        },
    }
    path = data.parent / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def events(real: Path) -> bytes:
    ev = json.loads((real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text())
    out = []
    for i in range(N):
        e = dict(ev, auditID=f"crash-{i}", objectRef=dict(ev["objectRef"], name=f"app-{i}"))
        out.append(json.dumps(e))
    return "\n".join(out).encode()


def names(peer: Peer) -> list[str]:
    return [a["annotations"]["summary"].split()[-1] for s in list(peer.seen) for a in s.json()["alerts"]]


def test_sigkill_mid_delivery_loses_no_alert(tmp_path: Path, real: Path, monkeypatch) -> None:  # noqa: ANN001
    peer = Peer(delay=0.1)
    monkeypatch.setenv("CRASH_HOOK_URL", f"{peer.url}/hook")
    data = tmp_path / "data"
    cfg = config(data)
    srv = Server(data, "--config", str(cfg)).start()
    try:
        r = httpx.post(f"{srv.url}/v1/ingest/k8s_audit", content=events(real),
                       headers={"Authorization": f"Bearer {srv.ingest_token}"}, timeout=30)
        assert r.status_code == 200 and r.json()["accepted"] == N
        peer.wait(8, 20)
        srv.stop(signal.SIGKILL)
        got_before = len(peer.seen)
        assert got_before < N, "everything was delivered before the kill: slow the peer down"
        time.sleep(0.3)
        srv2 = Server(data, "--config", str(cfg), port=srv.port).start()
        try:
            deadline = time.time() + 30
            while time.time() < deadline and len(set(names(peer))) < N:
                time.sleep(0.1)
        finally:
            srv2.stop()
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)
        peer.close()
    got = names(peer)
    assert set(got) == {f"app-{i}" for i in range(N)}, f"lost: {sorted({f'app-{i}' for i in range(N)} - set(got))}"
    assert len(got) <= N + 2  # at-least-once: at most the in-flight ones come twice
