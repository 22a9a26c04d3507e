"""`secpipe up` with alerting while its disk is full (real tmpfs), then SIGKILL and restart.

A match rule turns Kubernetes audit events into findings, the alert stage routes them to a
real loopback webhook that answers slowly. Mid-delivery the data disk is filled: ingest
requests are answered 503 "retry later" (never 500), the dispatcher and the delivery worker
hit the full alert store. When space is back every alert of an acknowledged event is
delivered by the same process (the worker did not die: before the fix its thread ended on
``sqlite3.OperationalError`` and the queue stalled until a restart), then SIGKILL and a
restart deliver nothing twice beyond the rows in flight at the kill (at-least-once).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.faults_disk import fill, small_disk
from tests.helpers import Server
from tests.integration.respond_peer import Peer


def _events(real: Path, start: int, n: int) -> bytes:
    ev = json.loads((real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text())
    return "\n".join(json.dumps(dict(ev, auditID=f"full-{i}", objectRef=dict(ev["objectRef"], name=f"app-{i}")))
                     for i in range(start, start + n)).encode()  # fmt: skip


def _names(peer: Peer) -> list[str]:
    return [a["annotations"]["summary"].split()[-1] for s in list(peer.seen) for a in s.json()["alerts"]]


def test_alerts_survive_a_full_disk_and_sigkill(tmp_path: Path, real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(delay=0.05)
    monkeypatch.setenv("FULL_HOOK_URL", f"{peer.url}/hook")
    cfg = tmp_path / "pipeline.yaml"
    with small_disk(tmp_path, "16m") as mnt:
        data = mnt / "data"
        cfg.write_text(yaml.safe_dump({"data_dir": str(data), "transforms": {
            "rules": {"type": "match", "rules": [{"id": "deploy", "title": "Deployment created", "severity": "high",
                                                  "where": {"api.operation": "create", "resources.type": "deployments"},
                                                  "message": "created {resources.name}"}]},
            "alerts": {"type": "alert", "inputs": ["rules"], "tick_seconds": 0.2,
                       "receivers": {"hook": {"webhook": {"url_env": "FULL_HOOK_URL"}, "backoff_base_seconds": 0.1,
                                              "max_attempts": 50}},
                       "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s", "group_interval": "1s"}},
        }}))  # fmt: skip
        srv = Server(data, "--config", str(cfg)).start()
        acked: set[str] = set()
        codes: list[int] = []
        try:
            with httpx.Client(base_url=srv.url, timeout=30,
                              headers={"Authorization": f"Bearer {srv.ingest_token}"}) as c:  # fmt: skip
                def send(start: int, n: int) -> None:
                    r = c.post("/v1/ingest/k8s_audit", content=_events(real, start, n))
                    codes.append(r.status_code)
                    assert r.status_code in (200, 503), r.text[:300]
                    if r.status_code == 200:
                        acked.update(f"app-{i}" for i in range(start, start + n))

                send(0, 40)
                peer.wait(5, 60)  # deliveries are going on
                filler = fill(mnt)
                for k in range(4):
                    send(40 + 10 * k, 10)
                time.sleep(2.0)  # the dispatcher and the worker meet the full disk meanwhile
                assert 503 in codes, codes
                filler.free()
                send(100, 10)
            deadline = time.monotonic() + 90  # polled: a cap for a loaded host
            while time.monotonic() < deadline and not acked <= set(_names(peer)):
                time.sleep(0.1)
            missing = acked - set(_names(peer))
            log = "".join(srv.output)
            assert not missing, f"{len(missing)} alerts not delivered after space came back:\n{log[-3000:]}"
            assert "Traceback" not in log and "Exception in thread" not in log, log[-3000:]
            before = len(_names(peer))
            assert srv.stop(signal.SIGKILL) == -signal.SIGKILL
            srv2 = Server(data, "--config", str(cfg), port=srv.port).start()
            time.sleep(2.0)
            assert srv2.stop() == 0
        finally:
            if srv.proc and srv.proc.poll() is None:
                srv.stop(signal.SIGKILL)
            peer.close()
    got = _names(peer)
    assert set(got) >= acked
    assert len(got) - before <= 2, "alerts delivered again after the restart beyond the in-flight ones"
