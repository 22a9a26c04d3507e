"""Alerting through a real `secpipe up`: authenticated silence API, audit, CLI dead letters and replay."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import yaml

from secpipe.respond.outbox import Store
from secpipe.security.audit import AuditLog
from tests.helpers import Server, cli
from tests.integration.respond_peer import Peer


def config(data: Path) -> Path:
    cfg = {"data_dir": str(data), "transforms": {
        "rules": {"type": "match", "rules": [{"id": "deploy-created", "title": "Deployment created", "severity": "high",
                                              "where": {"api.operation": "create"}, "message": "created {resources.name}"}]},
        "alerts": {"type": "alert", "inputs": ["rules"], "receivers": {"hook": {"webhook": {"url_env": "API_HOOK_URL"}}},
                   "route": {"receiver": "hook", "group_by": ["rule"], "group_wait": "0s", "group_interval": "1s"}}}}
    path = data.parent / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def event(real: Path, name: str) -> bytes:
    ev = json.loads((real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text())
    return json.dumps(dict(ev, auditID=name, objectRef=dict(ev["objectRef"], name=name))).encode()


def _alerts_when(url: str, headers: dict[str, str], cond, timeout: float = 30.0) -> dict:  # noqa: ANN001
    """``GET /v1/alerts`` polled until ``cond`` holds (its last answer in the failure message)."""
    deadline = time.monotonic() + timeout
    while True:
        summary = httpx.get(f"{url}/v1/alerts", headers=headers, timeout=30).json()
        if cond(summary):
            return summary
        assert time.monotonic() < deadline, summary
        time.sleep(0.1)


def test_silence_api_auth_audit_and_effect(tmp_path: Path, real: Path, monkeypatch) -> None:  # noqa: ANN001
    peer = Peer()
    monkeypatch.setenv("API_HOOK_URL", f"{peer.url}/hook")
    data = tmp_path / "data"
    with Server(data, "--config", str(config(data))) as srv:
        admin = {"Authorization": f"Bearer {srv.admin_token}"}
        ingest = {"Authorization": f"Bearer {srv.ingest_token}"}
        body = {"match": {"rule": "rules/deploy-created"}, "duration": "1h", "comment": "planned rollout"}
        assert httpx.post(f"{srv.url}/v1/silences", json=body).status_code == 401
        assert httpx.post(f"{srv.url}/v1/silences", json=body, headers=ingest).status_code == 403
        assert httpx.post(f"{srv.url}/v1/silences", json={"match": {}, "duration": "1h", "comment": "x"},
                          headers=admin).status_code == 400
        r = httpx.post(f"{srv.url}/v1/silences", json=body, headers=admin)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        listed = httpx.get(f"{srv.url}/v1/silences?active=1", headers=admin).json()["silences"]
        assert [s["id"] for s in listed] == [sid] and listed[0]["created_by"] == "default-admin"
        assert httpx.post(f"{srv.url}/v1/ingest/k8s_audit", content=event(real, "app-1"), headers=ingest).status_code == 200
        time.sleep(1.5)
        assert peer.seen == []  # silenced
        assert httpx.delete(f"{srv.url}/v1/silences/{sid}", headers=admin).status_code == 200
        assert httpx.delete(f"{srv.url}/v1/silences/{sid}", headers=admin).status_code == 404
        got = peer.wait(1, 30)  # delivered at the next group_interval after the silence ended
        assert got[0].json()["alerts"][0]["annotations"]["summary"] == "created app-1"
        # the outbox marks the entry delivered once the receiver's answer is back: after the peer saw it
        summary = _alerts_when(srv.url, admin, lambda s: s["counts"] == {"delivered": 1})
        assert httpx.get(f"{srv.url}/v1/alerts", headers=ingest).status_code == 403
        # replay and approval endpoints: a dead entry goes back out; wrong ids and kinds are refused
        st = Store(data)
        rid = st.enqueue("hook/webhook", "notify", summary["entries"][0]["payload"], 0)
        st.dead(rid, 0, "HTTP 410 gone")
        assert httpx.post(f"{srv.url}/v1/alerts/{rid}/replay", headers=ingest).status_code == 403
        r = httpx.post(f"{srv.url}/v1/alerts/{rid}/replay", headers=admin)
        assert r.status_code == 200 and r.json()["state"] == "pending"
        peer.wait(2, 30)
        assert httpx.post(f"{srv.url}/v1/alerts/999999/replay", headers=admin).status_code == 404
        r = httpx.post(f"{srv.url}/v1/playbooks/jobs/{rid}/approve", headers=admin)
        assert r.status_code == 400 and "not a playbook job" in r.json()["error"]
    peer.close()
    changes = [(e["actor"], e["details"]["op"]) for e in AuditLog(data, from_env=False).entries()
               if e["action"] == "silence.change"]
    assert changes == [("default-admin", "create"), ("default-admin", "expire")]
    replays = [e["details"]["id"] for e in AuditLog(data, from_env=False).entries() if e["action"] == "alert.replay"]
    assert len(replays) == 1


def test_cli_lists_dead_letters_and_replays(tmp_path: Path) -> None:
    data = tmp_path / "data"
    st = Store(data)
    rid = st.enqueue("ops/slack", "notify", {"status": "firing", "alerts": []}, 1)
    st.claim("ops/slack", 10, 1000)
    st.dead(rid, 20, "HTTP 404 no_service — check the receiver configuration")
    out = json.loads(cli("alerts", "--data", str(data), "--state", "dead", "--json").stdout)
    assert out["counts"] == {"dead": 1} and out["entries"][0]["id"] == rid
    assert cli("alerts", "--data", str(data)).stdout.startswith("outbox: dead 1")
    r = cli("alerts", "replay", str(rid), "--data", str(data), "--actor", "carol")
    assert f"entry {rid} (ops/slack) is pending again" in r.stdout
    assert st.get(rid).state == "pending" and st.get(rid).attempts == 0
    again = cli("alerts", "replay", str(rid), "--data", str(data), check=False)
    assert again.returncode == 2 and "only dead entries" in again.stderr
    s = json.loads(cli("alerts", "silence", "add", "-m", "severity=low", "--duration", "30m", "--comment", "noise",
                       "--data", str(data), "--actor", "carol", "--json").stdout)
    assert json.loads(cli("alerts", "silence", "list", "--data", str(data), "--json").stdout)[0]["id"] == s["id"]
    cli("alerts", "silence", "expire", s["id"], "--data", str(data), "--actor", "carol")
    assert json.loads(cli("alerts", "silence", "list", "--data", str(data), "--json").stdout) == []
    acts = [(e["actor"], e["action"]) for e in AuditLog(data, from_env=False).entries()]
    assert acts == [("carol", "alert.replay"), ("carol", "silence.change"), ("carol", "silence.change")]


def test_alertmanager_firing_then_resolved_through_secpipe_up(tmp_path: Path, real: Path, monkeypatch) -> None:  # noqa: ANN001
    """Real Alertmanager payloads in, PagerDuty Events v2 out: trigger, then resolve with the same dedup_key."""
    pd = Peer(default=(202, {"content-type": "application/json"}, b'{"status":"success","message":"Event processed"}'))
    key = tmp_path / "pd_key"
    key.write_text("R0UT1NGKEY0000000000000000000001")
    data = tmp_path / "data"
    cfg = {"data_dir": str(data), "transforms": {"alerts": {
        "type": "alert", "receivers": {"pd": {"pagerduty": {"routing_key_file": str(key), "url": f"{pd.url}/v2/enqueue"}}},
        "route": {"receiver": "pd", "group_by": ["alertname"], "group_wait": "0s", "group_interval": "500ms"}}}}
    path = tmp_path / "am.yaml"
    path.write_text(yaml.safe_dump(cfg))
    payload = json.loads((real / "prometheus-msteams/alert/testdata/prom_post_request.json").read_text())
    resolved = json.loads(json.dumps(payload))
    resolved["status"] = "resolved"
    for a in resolved["alerts"]:
        a["status"], a["endsAt"] = "resolved", "2018-03-07T12:00:00Z"
    try:
        with Server(data, "--config", str(path)) as srv:
            h = {"Authorization": f"Bearer {srv.ingest_token}"}
            assert httpx.post(f"{srv.url}/v1/ingest/alertmanager", json=payload, headers=h).status_code == 200
            trig = pd.wait(1, 30)[0].json()
            assert httpx.post(f"{srv.url}/v1/ingest/alertmanager", json=payload, headers=h).status_code == 200  # repeat
            assert httpx.post(f"{srv.url}/v1/ingest/alertmanager", json=resolved, headers=h).status_code == 200
            seen = pd.wait(2, 30)
            time.sleep(1.0)
    finally:
        pd.close()
    assert len(pd.seen) == 2  # the repeat was deduplicated
    assert trig["event_action"] == "trigger" and trig["payload"]["class"] == payload["alerts"][0]["labels"]["alertname"]
    assert seen[1].json() == {"routing_key": "R0UT1NGKEY0000000000000000000001", "event_action": "resolve",
                              "dedup_key": trig["dedup_key"]}
