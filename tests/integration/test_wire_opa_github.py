"""Real peers built from Go modules: OPA shipping decision logs to ``POST /logs``, Prometheus
Alertmanager posting firing and resolved notifications to ``/v1/webhooks/alertmanager``; and
every octokit webhook event type delivered to ``/v1/webhooks/github`` with a valid signature.

OPA and Alertmanager are built with ``go install`` (see .ci/system-deps); each test is
skipped with the reason when its binary is not found.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.wire_server import Server, free_port, start

SECRET = "octokit-corpus-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("gh"), f"ingest: {{webhooks: {{github: {{secret: {SECRET}}}}}}}\n")
    yield srv
    srv.stop()


def _binary(name: str) -> str | None:
    for cand in (os.environ.get(f"SECPIPE_{name.upper()}"), shutil.which(name), str(Path.home() / "go/bin" / name)):
        if cand and Path(cand).is_file():
            return cand
    return None


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 60  # polled: a cap for a loaded host
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)


def test_github_every_octokit_event_type(server: Server, real: Path) -> None:
    root = real / "octokit-webhooks/payload-examples/api.github.com"
    failed = {}
    n = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for k, payload in enumerate(sorted(folder.glob("*.json"))):
            body = payload.read_bytes()
            sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            r = httpx.post(f"{server.url}/v1/webhooks/github", content=body,
                           headers={"X-Hub-Signature-256": sig, "X-GitHub-Event": folder.name,
                                    "X-GitHub-Delivery": f"{folder.name}-{k}", "Content-Type": "application/json"})  # fmt: skip
            n += 1
            if r.status_code != 200 or r.json().get("accepted", 0) < 1:
                failed[f"{folder.name}/{payload.name}"] = r.text[:200]
    assert n > 100
    assert not failed, failed


def test_github_form_encoded_delivery(server: Server, real: Path) -> None:
    """A hook set to ``Content type: application/x-www-form-urlencoded``: the body is
    ``payload=<url-encoded JSON>`` and X-Hub-Signature-256 signs that form body."""
    import urllib.parse

    payload = (real / "octokit-webhooks/payload-examples/api.github.com/member/added.payload.json").read_text()
    body = urllib.parse.urlencode({"payload": payload}).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": sig, "X-GitHub-Event": "member", "X-GitHub-Delivery": "form-1",
               "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    r = httpx.post(f"{server.url}/v1/webhooks/github", content=body, headers=headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    bad = b"nopayload=1"
    sig = "sha256=" + hmac.new(SECRET.encode(), bad, hashlib.sha256).hexdigest()
    r = httpx.post(f"{server.url}/v1/webhooks/github", content=bad,
                   headers={**headers, "X-Hub-Signature-256": sig, "X-GitHub-Delivery": "form-2"})
    assert r.status_code == 400 and "payload" in r.json()["error"]
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE 'form-encoded delivery%'", 1) == 1


def test_real_opa_decision_logs(server: Server, tmp_path: Path) -> None:
    opa = _binary("opa")
    if opa is None:
        pytest.skip("no opa binary: build it with `go install github.com/open-policy-agent/opa@v0.70.0`")
    (tmp_path / "policy.rego").write_text(
        "package example\n\nimport rego.v1\n\ndefault allow := false\n\nallow if input.user == \"alice\"\n")
    (tmp_path / "opa.yaml").write_text(f"""
services:
  secpipe:
    url: {server.url}
    credentials:
      bearer:
        token: "{server.ingest}"
decision_logs:
  service: secpipe
  reporting:
    min_delay_seconds: 1
    max_delay_seconds: 1
labels:
  app: wire-test
""")
    port = free_port()
    proc = subprocess.Popen([opa, "run", "--server", "--addr", f"127.0.0.1:{port}", "--config-file",
                             str(tmp_path / "opa.yaml"), str(tmp_path / "policy.rego")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_port(port)
        for user in ("alice", "bob", "alice", "mallory"):
            r = httpx.post(f"http://127.0.0.1:{port}/v1/data/example/allow", json={"input": {"user": user}})
            assert r.status_code == 200
        n = server.wait_rows("SELECT count(*) FROM api_activity WHERE metadata.log_name = 'opa' "
                             "AND json_extract_string(unmapped, '$.labels.app') = 'wire-test'", 4, timeout=30)  # fmt: skip
        if n != 4:
            n = server.wait_rows("SELECT count(*) FROM api_activity WHERE metadata.log_name = 'opa'", 4, timeout=5)
        assert n == 4, server.log.read_text()[-2000:]
        denied = server.query("SELECT count(*) FROM api_activity WHERE metadata.log_name = 'opa' AND action_id = 2")
        assert denied[0][0] == 2
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_real_alertmanager_webhook(server: Server, tmp_path: Path, auth: str) -> None:
    """Alertmanager's two ways to authenticate a webhook: ``authorization`` (Bearer) and
    ``basic_auth`` (the token as password)."""
    am = _binary("alertmanager")
    if am is None:
        pytest.skip("no alertmanager binary: `go install github.com/prometheus/alertmanager/cmd/alertmanager@v0.27.0`")
    http_config = (f'{{authorization: {{type: Bearer, credentials: "{server.ingest}"}}}}' if auth == "bearer"
                   else f'{{basic_auth: {{username: alertmanager, password: "{server.ingest}"}}}}')  # fmt: skip
    (tmp_path / "am.yml").write_text(f"""
route: {{receiver: secpipe, group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
receivers:
  - name: secpipe
    webhook_configs:
      - url: {server.url}/v1/webhooks/alertmanager
        send_resolved: true
        http_config: {http_config}
""")
    port = free_port()
    proc = subprocess.Popen([am, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    api = f"http://127.0.0.1:{port}/api/v2/alerts"
    name = f"WireTestDiskFull{auth.title()}"
    alert = {"labels": {"alertname": name, "severity": "critical", "instance": "db-1"},
             "annotations": {"summary": "wire-test disk almost full"}}
    try:
        _wait_port(port)
        assert httpx.post(api, json=[alert]).status_code == 200
        sql = f"SELECT count(*) FROM detection_finding WHERE metadata.log_name = 'alertmanager' AND raw_data LIKE '%{name}%'"
        assert server.wait_rows(sql, 1, timeout=30) >= 1
        ended = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        assert httpx.post(api, json=[{**alert, "endsAt": ended}]).status_code == 200
        assert server.wait_rows(sql + " AND status_id = 4", 1, timeout=30) >= 1
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
