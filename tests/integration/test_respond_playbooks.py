"""Playbooks end to end: routes trigger them, actions hit real loopback peers and real processes.

Checks templating and escaping (URL percent-encoding, JSON bodies, argv without a shell),
dry-run, approval, concurrency and rate caps, and that every execution is in the
tamper-evident audit log with what, when, why and the result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from secpipe.errors import ConfigError
from secpipe.respond import admin
from secpipe.respond.finding import FindingRow, findings_batch
from secpipe.respond.options import AlertOptions
from secpipe.respond.playbooks import TemplateError, render_argv
from secpipe.respond.stage import AlertStage
from secpipe.security.audit import AuditLog, verify
from tests.integration.respond_peer import Peer

EVIL = 'bob"; rm -rf / $(id) & x=1/2?'


def finding(uid: str, resource: str = EVIL, sev: int = 5):  # noqa: ANN201
    return findings_batch([FindingRow(uid, 1_764_400_000_000 + len(uid), sev, "Suspicious login", f"login by {resource}",
                                      "susp-login", "sigma/susp-login", ["Detection"],
                                      [{"type": "user", "name": resource}])], 0)


def stage(tmp_path: Path, hook: Peer, playbooks: dict) -> AlertStage:
    opts = AlertOptions.model_validate({
        "type": "alert", "tick_seconds": 0.02, "playbooks": playbooks,
        "receivers": {"hook": {"webhook": {"url": "unused", "url_env": "PB_HOOK"}}},
        "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s", "playbooks": list(playbooks)}})
    return AlertStage("alerts", opts, tmp_path / "data")


def audit_runs(data: Path) -> list[dict]:
    return [e for e in AuditLog(data, from_env=False).entries() if e["action"] == "playbook.run"]


def wait_for(cond, timeout: float = 30.0) -> None:  # noqa: ANN001  (polled: a cap for a loaded host)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    msg = "condition not met in time"
    raise AssertionError(msg)


@pytest.fixture
def hook(monkeypatch):  # noqa: ANN001, ANN201
    p = Peer()
    monkeypatch.setenv("PB_HOOK", f"{p.url}/notify")
    yield p
    p.close()


def test_http_and_command_actions_escape_values_and_are_audited(tmp_path: Path, hook: Peer, monkeypatch) -> None:  # noqa: ANN001
    idp = Peer(default=(204, {}, b""))
    monkeypatch.setenv("IDP_TOKEN", "Bearer idp-secret-token")
    out = tmp_path / "argv.json"
    pb = {"disable-user": {"actions": [
        {"type": "http", "method": "POST", "url": f"{idp.url}/users/{{{{ labels.resource }}}}/disable?x=1",
         "header_envs": {"Authorization": "IDP_TOKEN"},
         "body": {"user": "{{ labels.resource }}", "reason": "{{ labels.rule }}", "fp": "{{ fingerprint }}"}},
        {"type": "command", "argv": [sys.executable, "-c", "import sys, json; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))",
                                     str(out), "user={{ labels.resource }}", "{{ labels.severity }}"]},
    ]}}
    st = stage(tmp_path, hook, pb)
    st.start()
    try:
        st.process(finding("f-1"))
        req = idp.wait(1)[0]
        wait_for(lambda: out.exists() and st.store.counts().get("delivered", 0) == 2)
    finally:
        st.close()
        idp.close()
    assert req.method == "POST"
    assert req.path == "/users/bob%22%3B%20rm%20-rf%20%2F%20%24%28id%29%20%26%20x%3D1%2F2%3F/disable?x=1"
    assert req.json() == {"user": EVIL, "reason": "sigma/susp-login", "fp": "f-1"}
    assert req.headers["authorization"] == "Bearer idp-secret-token"
    assert json.loads(out.read_text()) == [f"user={EVIL}", "critical"]  # one argv element each, no shell
    runs = audit_runs(tmp_path / "data")
    assert [r["details"]["what"]["type"] for r in runs] == ["http", "command"]
    http_run, cmd_run = runs
    assert http_run["details"]["result"] == "HTTP 204" and http_run["details"]["dry_run"] is False
    assert http_run["details"]["what"]["target"].endswith("/disable") and "?x=1" not in json.dumps(http_run)
    assert http_run["details"]["why"]["rule"] == "sigma/susp-login" and http_run["details"]["why"]["fingerprint"] == "f-1"
    assert cmd_run["details"]["result"] == "exit 0" and cmd_run["details"]["what"]["argv"][-2] == f"user={EVIL}"
    assert "idp-secret-token" not in (tmp_path / "data/state/audit/audit.jsonl").read_text()
    assert verify(tmp_path / "data").ok


def test_dry_run_executes_nothing_but_audits(tmp_path: Path, hook: Peer) -> None:
    target = Peer()
    marker = tmp_path / "ran"
    pb = {"tag-it": {"dry_run": True, "actions": [
        {"type": "tag", "url": f"{target.url}/tags", "labels": {"quarantine": "true", "finding": "{{ fingerprint }}"}},
        {"type": "command", "argv": ["/usr/bin/touch", str(marker)]}]}}
    st = stage(tmp_path, hook, pb)
    st.start()
    try:
        st.process(finding("f-2", "web-1"))
        wait_for(lambda: len(audit_runs(tmp_path / "data")) == 2)
    finally:
        st.close()
        target.close()
    assert target.seen == [] and not marker.exists()
    runs = audit_runs(tmp_path / "data")
    assert {r["details"]["result"] for r in runs} == {"dry-run"}
    assert runs[0]["details"]["body"]["labels"] == {"quarantine": "true", "finding": "f-2"}
    assert runs[0]["details"]["body"]["resource"]["resource"] == "web-1"


def test_approval_required_waits_for_an_approver(tmp_path: Path, hook: Peer) -> None:
    target = Peer()
    pb = {"isolate": {"approval_required": True, "actions": [{"type": "http", "url": f"{target.url}/isolate",
                                                               "body": {"host": "{{ labels.resource }}"}}]}}
    st = stage(tmp_path, hook, pb)
    data = tmp_path / "data"
    st.start()
    try:
        st.process(finding("f-3", "host-9"))
        wait_for(lambda: bool(st.store.rows(state="approval")))
        time.sleep(0.3)
        assert target.seen == []  # nothing runs before approval
        job = st.store.rows(state="approval")[0]
        admin.decide(data, job.id, True, actor="alice")
        target.wait(1)
        st.process(finding("f-4", "host-10"))
        wait_for(lambda: len(st.store.rows(state="approval")) == 1)
        rejected = admin.decide(data, st.store.rows(state="approval")[0].id, False, actor="bob")
        assert rejected["state"] == "rejected"
        with pytest.raises(ConfigError, match="not waiting for approval"):
            admin.decide(data, job.id, True, actor="alice")
    finally:
        st.close()
        target.close()
    assert target.seen[0].json() == {"host": "host-9"} and len(target.seen) == 1
    entries = list(AuditLog(data, from_env=False).entries())
    decisions = [(e["actor"], e["details"]["op"]) for e in entries if e["action"] == "playbook.change"]
    assert decisions == [("alice", "approve"), ("bob", "reject")]
    run = [e for e in entries if e["action"] == "playbook.run"][0]
    assert run["details"]["why"]["approved_by"] == "alice" and run["details"]["result"] == "HTTP 200"


def test_concurrency_and_rate_caps(tmp_path: Path, hook: Peer) -> None:
    slow = Peer(delay=0.3)
    pb = {"slow": {"concurrency": 2, "rate_per_minute": 6000, "burst": 10,
                   "actions": [{"type": "http", "url": f"{slow.url}/x", "body": {"fp": "{{ fingerprint }}"}}]}}
    st = stage(tmp_path, hook, pb)
    st.start()
    try:
        t0 = time.time()
        for i in range(6):
            st.process(finding(f"c-{i}", f"h{i}"))
        seen = slow.wait(6, 60)
    finally:
        st.close()
        slow.close()
    arrivals = sorted(s.at - t0 for s in seen)
    assert arrivals[-1] >= 0.85  # 6 jobs x 0.3 s over 2 workers
    assert all(arrivals[i + 2] - arrivals[i] >= 0.25 for i in range(len(arrivals) - 2))  # never 3 at once
    # rate cap: 120/min with burst 1 -> one run per 0.5 s; the peer stamps each request when
    # it answers, so a loaded host can stamp the first one late: 0.3 s of slack on 1.5 s
    fast = Peer()
    pb2 = {"rated": {"concurrency": 4, "rate_per_minute": 120, "burst": 1,
                     "actions": [{"type": "http", "url": f"{fast.url}/y", "body": {}}]}}
    st2 = stage(tmp_path / "b", hook, pb2)
    st2.start()
    try:
        for i in range(4):
            st2.process(finding(f"r-{i}", f"h{i}"))
        seen2 = fast.wait(4, 60)
    finally:
        st2.close()
        fast.close()
    at = sorted(s.at for s in seen2)
    assert at[-1] - at[0] >= 1.2  # 3 gaps of 0.5 s (at 4 runs at once, unlimited, they would all come together)


def test_argv_refuses_option_like_values_and_missing_values(tmp_path: Path, hook: Peer) -> None:
    with pytest.raises(TemplateError, match="starts with '-'"):
        render_argv(["/bin/echo", "{{ labels.resource }}"], {"labels": {"resource": "--help"}})
    with pytest.raises(TemplateError, match=r"labels.nope"):
        render_argv(["/bin/echo", "{{ labels.nope }}"], {"labels": {}})
    pb = {"bad": {"actions": [{"type": "command", "argv": ["/bin/echo", "{{ labels.account }}"]}]}}
    st = stage(tmp_path, hook, pb)
    st.start()
    try:
        st.process(finding("m-1", "x"))
        wait_for(lambda: bool(st.store.rows(state="dead")))
    finally:
        st.close()
    assert "labels.account" in st.store.rows(state="dead")[0].last_error
    with pytest.raises(ConfigError, match=r"playbooks.p.actions\[0\].argv"):
        stage(tmp_path, hook, {"p": {"actions": [{"type": "command", "argv": "rm -rf /"}]}})
