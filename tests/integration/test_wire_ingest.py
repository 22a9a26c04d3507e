"""Wire-compatible ingest against a real `secpipe up` on loopback, with real clients.

Peers: the official ``elasticsearch`` Python client (bulk helper), httpx for HEC and the
webhooks (GitHub/GitLab/Falco/OPA/Alertmanager/K8s send plain HTTPS POSTs; their senders do
not run here, so the payloads are their real captured bodies from ../shared/data/real).
syslog-ng's ``elasticsearch-http()`` destination is in test_wire_syslog_ng.py.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch, helpers

from tests.integration.wire_server import Server, start

GITHUB_SECRET = "gh-test-secret-123"
GITLAB_TOKEN = "gl-test-token-456"
CONFIG = f"""
server: {{max_body_bytes: 2000000, max_decompressed_bytes: 4000000, max_json_depth: 40, request_timeout_seconds: 2}}
ingest:
  elasticsearch: {{index_formats: {{"ct-*": cloudtrail}}}}
  webhooks:
    github: {{secret: "${{WIRE_TEST_GH_SECRET}}"}}
    gitlab: {{token: "{GITLAB_TOKEN}"}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch_module.setenv("WIRE_TEST_GH_SECRET", GITHUB_SECRET)
    srv = start(tmp_path_factory.mktemp("wire"), CONFIG)
    yield srv
    srv.stop()
    assert GITHUB_SECRET not in srv.log.read_text() and GITLAB_TOKEN not in srv.log.read_text()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _ct_records(real: Path) -> list[dict]:
    return json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]


def _count(server: Server, table: str, where: str) -> int:
    return server.query(f"SELECT count(*) FROM {table} WHERE {where}")[0][0]


# --------------------------------------------------------------------------------------
# Elasticsearch
# --------------------------------------------------------------------------------------


def test_es_client_info_and_bulk_helper(server: Server, real: Path) -> None:
    es = Elasticsearch(server.url, basic_auth=("elastic", server.ingest))
    info = es.info()
    assert info["version"]["number"] == "8.19.0" and info["tagline"] == "You Know, for Search"
    assert es.license.get()["license"]["status"] == "active"
    recs = _ct_records(real)
    marker = "wire-es-generic"
    actions = [{"_index": "ct-2024", "_source": r} for r in recs]
    actions += [{"_index": "app-logs", "_op_type": "create",
                 "_source": {"@timestamp": "2024-03-01T10:00:00Z", "message": f"{marker} {i}", "host": {"name": "web-1"}}}
                for i in range(40)]  # fmt: skip
    ok, errors = helpers.bulk(es, actions, chunk_size=100)
    assert ok == len(actions) and errors == []
    distinct = len({json.dumps(r, sort_keys=True) for r in recs})
    got = server.wait_rows("SELECT count(*) FROM api_activity WHERE metadata.log_name = 'cloudtrail'", 1)
    assert got >= 1
    n = server.wait_rows(f"SELECT count(*) FROM base_event WHERE message LIKE '{marker}%'", 40)
    assert n == 40
    ct = server.query("SELECT count(*) FROM api_activity WHERE metadata.log_name='cloudtrail'")[0][0]
    auth = server.query("SELECT count(*) FROM authentication WHERE metadata.log_name='cloudtrail'")[0][0]
    assert ct + auth == distinct
    row = server.query(f"SELECT time_dt, device.hostname, class_uid FROM base_event WHERE message = '{marker} 3'")[0]
    assert row[0].startswith("2024-03-01") and row[1] == "web-1" and row[2] == 0


def test_es_go_client_bulk_indexer(server: Server, tmp_path: Path) -> None:
    """The official Go client (go-elasticsearch v8, its product check and esutil.BulkIndexer)."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).is_file():
        pytest.skip("no Go toolchain to build the go-elasticsearch client")
    src = Path(__file__).parent / "go_esbulk"
    binary = tmp_path / "esbulk"
    build = subprocess.run([go, "build", "-o", str(binary), "."], cwd=src, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    run = subprocess.run([str(binary), server.url, server.ingest, "go-logs", "go-bulk-marker", "300"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == {"indexed": 0, "created": 300, "failed": 0}  # create actions, all 201
    assert server.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE 'go-bulk-marker %'", 300) == 300


def test_es_bulk_per_item_errors_and_dlq(server: Server) -> None:
    body = b"\n".join([
        b'{"index":{"_index":"mixed","_id":"a1"}}', b'{"message":"fine one","@timestamp":"2024-01-01T00:00:00Z"}',
        b'{"index":{"_index":"mixed","_id":"a2"}}', b'{"message": this is not json',
        b'{"delete":{"_index":"mixed","_id":"a3"}}',
        b'{"create":{"_index":"mixed"}}', b'"just a string"',
    ]) + b"\n"  # fmt: skip
    r = httpx.post(f"{server.url}/_bulk", content=body, auth=("elastic", server.ingest),
                   headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.headers["x-elastic-product"] == "Elasticsearch"
    out = r.json()
    assert out["errors"] is True and isinstance(out["took"], int)
    items = out["items"]
    assert [next(iter(i)) for i in items] == ["index", "index", "delete", "create"]
    assert items[0]["index"]["status"] == 201 and items[0]["index"]["_id"] == "a1"
    assert items[1]["index"]["status"] == 400 and items[1]["index"]["error"]["type"] == "document_parsing_exception"
    assert items[2]["delete"]["status"] == 400 and "append-only" in items[2]["delete"]["error"]["reason"]
    assert items[3]["create"]["status"] == 400
    n = server.wait_rows("SELECT count(*) FROM dead_letter WHERE source LIKE 'es_bulk:%' AND decode(raw) LIKE '%this is not json%'", 1)
    assert n == 1


def test_es_bulk_malformed_action_is_a_400_and_dead_lettered(server: Server) -> None:
    body = b'{"index":{}}\n{"a":1}\n{not an action}\n{"b":2}\n'
    r = httpx.post(f"{server.url}/logs-x/_bulk", content=body, headers={"Authorization": f"ApiKey {server.ingest}"})
    assert r.status_code == 400
    err = r.json()
    assert err["status"] == 400 and "Malformed action/metadata line [3]" in err["error"]["reason"]
    assert err["error"]["root_cause"][0]["type"] == err["error"]["type"]
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE 'Malformed action%'", 1) >= 1


def test_es_auth_schemes(server: Server) -> None:
    ndjson = b'{"index":{"_index":"auth-test"}}\n{"message":"auth"}\n'
    key = base64.b64encode(f"someid:{server.ingest}".encode()).decode()
    for headers in ({"Authorization": f"ApiKey {key}"}, {"Authorization": f"Bearer {server.ingest}"}):
        assert httpx.post(f"{server.url}/_bulk", content=ndjson, headers=headers).status_code == 200
    r = httpx.post(f"{server.url}/_bulk", content=ndjson)
    assert r.status_code == 401 and r.json()["error"]["type"] == "security_exception"
    assert "Basic" in r.headers["www-authenticate"]
    r = httpx.post(f"{server.url}/_bulk", content=ndjson, auth=("elastic", "sp_00000000_wrong"))
    assert r.status_code == 401
    r = httpx.post(f"{server.url}/_bulk", content=ndjson, auth=("elastic", server.viewer))
    assert r.status_code == 403


def test_es_probes_templates_ilm(server: Server) -> None:
    auth = ("elastic", server.ingest)
    assert httpx.head(f"{server.url}/", auth=auth).status_code == 200
    assert httpx.get(f"{server.url}/_cluster/health", auth=auth).json()["status"] == "green"
    assert httpx.head(f"{server.url}/_cat/health", auth=auth).status_code == 200
    assert httpx.get(f"{server.url}/_nodes/http", auth=auth).json()["_nodes"]["total"] == 1
    assert httpx.get(f"{server.url}/_xpack", auth=auth).json()["features"]["ilm"]["available"] is True
    assert httpx.get(f"{server.url}/_index_template/filebeat-8.17.0", auth=auth).status_code == 404
    tpl = {"index_patterns": ["filebeat-8.17.0*"], "data_stream": {}, "priority": 150}
    assert httpx.put(f"{server.url}/_index_template/filebeat-8.17.0", json=tpl, auth=auth).json() == {"acknowledged": True}
    got = httpx.get(f"{server.url}/_index_template/filebeat-8.17.0", auth=auth).json()
    assert got["index_templates"][0]["index_template"] == tpl
    cat = httpx.get(f"{server.url}/_cat/templates/filebeat*?format=json", auth=auth).json()
    assert cat[0]["name"] == "filebeat-8.17.0"
    pol = {"policy": {"phases": {"hot": {"actions": {}}}}}
    assert httpx.put(f"{server.url}/_ilm/policy/filebeat", json=pol, auth=auth).status_code == 200
    assert httpx.get(f"{server.url}/_ilm/policy/filebeat", auth=auth).json()["filebeat"]["policy"] == pol["policy"]
    assert httpx.get(f"{server.url}/_ilm/policy/nope", auth=auth).status_code == 404


def test_es_limits(server: Server) -> None:
    auth = ("elastic", server.ingest)
    bomb = gzip.compress(b'{"index":{}}\n{"a":"' + b"A" * 5_000_000 + b'"}\n')
    r = httpx.post(f"{server.url}/_bulk", content=bomb, auth=auth, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "content_too_long_exception"
    r = httpx.post(f"{server.url}/_bulk", content=b"x" * 2_100_000, auth=auth)
    assert r.status_code == 413
    deep = b'{"index":{}}\n' + b'{"a":' * 50 + b"1" + b"}" * 50 + b"\n"
    r = httpx.post(f"{server.url}/_bulk", content=deep, auth=auth)  # the document's item fails, as Elasticsearch's
    item = r.json()["items"][0]["index"]
    assert r.status_code == 200 and item["status"] == 400 and "nesting depth 50" in item["error"]["reason"]
    r = httpx.post(f"{server.url}/_bulk", content=b"\x1f\x8b\x08\x00garbage", auth=auth, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE '%nesting depth 50%'", 1) == 1
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE '%decompressed body%'", 1) >= 1


def test_slow_client_gets_408(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(f"POST /_bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.ingest}\r\n"
                  "Content-Length: 1000\r\nContent-Type: application/x-ndjson\r\n\r\n{\"index\"".encode())
        s.settimeout(10)
        t0 = time.monotonic()
        head = s.recv(4096)
    assert b" 408 " in head.split(b"\r\n")[0] and time.monotonic() - t0 < 8


# --------------------------------------------------------------------------------------
# Splunk HEC
# --------------------------------------------------------------------------------------


def test_hec_event_concatenated_gzip_and_sourcetype(server: Server, real: Path) -> None:
    with_id = {r["eventID"]: r for r in _ct_records(real) if r.get("eventID") and r.get("eventName")}
    recs = list(with_id.values())[:20]
    parts = [json.dumps({"time": 1700000000.25, "host": "hec-host", "sourcetype": "aws:cloudtrail", "event": r})
             for r in recs]  # fmt: skip
    parts += [json.dumps({"time": 1700000001, "host": "h2", "source": "app", "event": f"hec-plain-line {i}"}) for i in range(7)]
    body = "".join(parts[:10]) + "\n" + " ".join(parts[10:])  # no separator, newline and spaces
    r = httpx.post(f"{server.url}/services/collector/event", content=gzip.compress(body.encode()),
                   headers={"Authorization": f"Splunk {server.ingest}", "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json() == {"text": "Success", "code": 0}
    assert server.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE 'hec-plain-line%'", 7) == 7
    row = server.query("SELECT time, unmapped FROM base_event WHERE message = 'hec-plain-line 3'")[0]
    assert row[0] == 1700000001000 and json.loads(row[1])["host"] == "h2"
    ids = {r["eventID"] for r in recs}
    ids_sql = ",".join(f"'{i}'" for i in ids)
    n = server.wait_rows(
        "SELECT count(DISTINCT metadata.original_event_uid) FROM (SELECT metadata FROM api_activity UNION ALL "
        f"SELECT metadata FROM authentication) WHERE metadata.original_event_uid IN ({ids_sql})", len(ids))
    assert n == len(ids)


def test_hec_splunk_handler_client(server: Server) -> None:
    """splunk-handler (a Python logging handler for HEC) batches events back to back, no separator."""
    import logging

    from splunk_handler import SplunkHandler

    host, port = server.url.removeprefix("http://").split(":")
    handler = SplunkHandler(host=host, port=int(port), token=server.ingest, index="main", protocol="http",
                            verify=True, flush_interval=0.1, sourcetype="app:log", hostname="hec-client-host")
    logger = logging.getLogger("wire-test-splunk-handler")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for i in range(25):
            logger.info("splunk-handler-marker %d", i)
        handler.wait_until_empty()
    finally:
        logger.removeHandler(handler)
        handler.close()
    n = server.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE 'splunk-handler-marker%'", 25)
    assert n == 25
    row = server.query("SELECT unmapped FROM base_event WHERE message = 'splunk-handler-marker 7'")[0]
    assert json.loads(row[0])["host"] == "hec-client-host"


def test_hec_errors_raw_health_ack(server: Server) -> None:
    url = f"{server.url}/services/collector"
    auth = {"Authorization": f"Splunk {server.ingest}"}
    assert httpx.post(f"{url}/event", content=b'{"event":"x"}').json() == {"text": "Token is required", "code": 2}
    r = httpx.post(f"{url}/event", content=b'{"event":"x"}', headers={"Authorization": "Splunk sp_0_bad"})
    assert r.status_code == 403 and r.json()["code"] == 4
    r = httpx.post(f"{url}/event", content=b'{"event":"a"}{"time":1}', headers=auth)
    assert r.status_code == 400 and r.json() == {"text": "Event field is required", "code": 12, "invalid-event-number": 1}
    r = httpx.post(f"{url}/event", content=b'{"event":""}', headers=auth)
    assert r.json()["code"] == 13
    r = httpx.post(f"{url}/event", content=b'{"event":"a"}{"event": broken', headers=auth)
    assert r.status_code == 400 and r.json()["code"] == 6 and r.json()["invalid-event-number"] == 1
    assert httpx.post(f"{url}/event", content=b"", headers=auth).json()["code"] == 5
    bomb = gzip.compress(b'{"event":"' + b"A" * 5_000_000 + b'"}')
    r = httpx.post(f"{url}/event", content=bomb, headers={**auth, "Content-Encoding": "gzip"})
    assert r.status_code == 413 and r.json()["code"] == 6 and "decompressed" in r.json()["text"]
    r = httpx.post(f"{server.url}/v1/k8s/audit", content=b"[" * 60 + b"]" * 60,
                   headers={"Authorization": f"Bearer {server.ingest}"})
    assert r.status_code == 400 and "nesting depth 60" in r.json()["error"]
    r = httpx.get(f"{url}/health", headers=auth)
    assert r.json() == {"text": "HEC is healthy", "code": 17}
    c1 = "0f0c4a52-6f4e-4d7e-9c38-6d1e2a9b7c10"  # a channel is a GUID (Splunk refuses others: code 11)
    r = httpx.post(url, content=b'{"event":{"message":"with-channel"}}', headers={**auth, "X-Splunk-Request-Channel": c1})
    ack = r.json()["ackId"]
    chan = {**auth, "X-Splunk-Request-Channel": c1}  # Splunk answers ack queries per channel
    assert httpx.post(f"{url}/ack", json={"acks": [ack]}, headers=chan).json() == {"acks": {str(ack): True}}
    k8s = b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"hec-raw-1","verb":"get","requestURI":"/api",' \
          b'"stageTimestamp":"2024-01-01T00:00:00Z"}\n'
    r = httpx.post(f"{url}/raw?sourcetype=kube:apiserver:audit", content=k8s, headers=auth)
    assert r.json() == {"text": "Success", "code": 0}
    assert server.wait_rows("SELECT count(*) FROM api_activity WHERE api.request.uid = 'hec-raw-1'", 1) == 1
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE 'HEC Event field is required%'", 1) == 1


# --------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------


def _gh(server: Server, body: bytes, event: str, delivery: str, secret: str = GITHUB_SECRET) -> httpx.Response:
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(f"{server.url}/v1/webhooks/github", content=body,
                      headers={"X-Hub-Signature-256": sig, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                               "Content-Type": "application/json"})  # fmt: skip


def test_github_signature_and_dedupe(server: Server, real: Path) -> None:
    body = (real / "octokit-webhooks/payload-examples/api.github.com/push/payload.json").read_bytes()
    assert _gh(server, body, "push", "d-1", secret="wrong").status_code == 401
    r = httpx.post(f"{server.url}/v1/webhooks/github", content=body, headers={"X-GitHub-Event": "push"})
    assert r.status_code == 401
    r = _gh(server, body, "push", "d-1")
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    again = _gh(server, body, "push", "d-1")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    n = server.wait_rows("SELECT count(*) FROM dead_letter WHERE source LIKE 'webhook:github%'", 0)
    assert n == 0
    assert _gh(server, body, "push", "d-2").json()["accepted"] == 1  # same body: collapses by identity in the lake


def test_gitlab_token(server: Server) -> None:
    body = json.dumps({"object_kind": "push", "event_name": "push", "before": "a" * 40, "after": "b" * 40,
                       "ref": "refs/heads/main", "user_username": "jsmith", "project_id": 15,
                       "project": {"path_with_namespace": "group/proj", "web_url": "https://gitlab.example.com/group/proj"},
                       "commits": [], "total_commits_count": 0}).encode()  # fmt: skip
    url = f"{server.url}/v1/webhooks/gitlab"
    h = {"X-Gitlab-Event": "Push Hook", "Content-Type": "application/json"}
    assert httpx.post(url, content=body, headers={**h, "X-Gitlab-Token": "nope"}).status_code == 401
    assert httpx.post(url, content=body, headers=h).status_code == 401
    r = httpx.post(url, content=body, headers={**h, "X-Gitlab-Token": GITLAB_TOKEN, "Idempotency-Key": "k1"})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    dup = httpx.post(url, content=body, headers={**h, "X-Gitlab-Token": GITLAB_TOKEN, "Idempotency-Key": "k1"})
    assert dup.json().get("status") == "duplicate"
    # a payload nothing can be read from: dead-lettered and answered 202 (GitLab disables a hook
    # after 4 failed deliveries in a row), four times over: never a failure GitLab would count
    odd = json.dumps({"message": "no object_kind, no event_name"}).encode()
    for i in range(4):
        r = httpx.post(url, content=odd, headers={**h, "X-Gitlab-Token": GITLAB_TOKEN, "Idempotency-Key": f"odd-{i}"})
        assert r.status_code == 202 and r.json()["status"] == "dead_letter" and r.json()["dead_letter"] == 1, r.text
        assert "could be read" in r.json()["error"] and r.json()["reasons"]


@pytest.mark.slow  # builds k8s.io/apiserver: minutes on a cold Go module cache
@pytest.mark.timeout(1200)  # the go build below allows 900 s; pytest's default 300 s cut it short
def test_k8s_apiserver_audit_webhook_backend(tmp_path: Path) -> None:
    """The API server's own audit webhook backend (k8s.io/apiserver), built from Go modules.

    client-go sends kubeconfig credentials only over TLS, so this server serves HTTPS.
    """
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).is_file():
        pytest.skip("no Go toolchain to build k8s.io/apiserver's audit webhook backend")
    binary = tmp_path / "k8swh"
    build = subprocess.run([go, "build", "-o", str(binary), "."], cwd=Path(__file__).parent / "go_k8s_audit",
                           capture_output=True, text=True, timeout=900)  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    server = start(tmp_path / "srv", tls=True)
    try:
        ca = base64.b64encode((tmp_path / "srv" / "server.pem").read_bytes()).decode()
        kubeconfig = tmp_path / "webhook.kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "default",
            "clusters": [{"name": "secpipe", "cluster": {"server": f"{server.url}/v1/k8s/audit",
                                                         "certificate-authority-data": ca}}],
            "users": [{"name": "secpipe", "user": {"token": server.ingest}}],
            "contexts": [{"name": "default", "context": {"cluster": "secpipe", "user": "secpipe"}}],
        }))  # fmt: skip
        run = subprocess.run([str(binary), str(kubeconfig), "k8s-webhook-test", "25"], capture_output=True,
                             text=True, timeout=120)  # fmt: skip
        assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[:2000]
        sql = "SELECT count(*) FROM api_activity WHERE api.request.uid LIKE 'k8s-webhook-test-%'"
        assert server.wait_rows(sql, 25) == 25
        row = server.query("SELECT actor.user.name, src_endpoint.ip, activity_id FROM api_activity "
                           "WHERE api.request.uid = 'k8s-webhook-test-3'")[0]  # fmt: skip
        assert row == ["system:serviceaccount:default:webhook-test", "10.0.0.7", 2]
    finally:
        server.stop()


def test_token_webhooks(server: Server, real: Path) -> None:
    bearer = {"Authorization": f"Bearer {server.ingest}"}
    k8s = [json.loads(line) for line in (real / "panther-analysis/extracted/k8s_audit.jsonl").read_text().splitlines()[:5]]
    event_list = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": k8s}
    assert httpx.post(f"{server.url}/v1/k8s/audit", json=event_list).status_code == 401
    r = httpx.post(f"{server.url}/v1/k8s/audit", json=event_list, headers=bearer)
    assert r.status_code == 200 and r.json()["events"] == 5, r.text
    falco = (real / "falco/test/output_files/single_rule_with_cat_write.json").read_text().splitlines()[0]
    r = httpx.post(f"{server.url}/v1/falco?token={server.ingest}", content=falco.encode())
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    opa = gzip.compress((real / "opa-docs/management-decision-logs.example1.json").read_bytes())
    r = httpx.post(f"{server.url}/logs", content=opa, headers={**bearer, "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json()["accepted"] >= 1, r.text
    am = (real / "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json").read_bytes()
    r = httpx.post(f"{server.url}/v1/webhooks/alertmanager", content=am, headers=bearer)
    assert r.status_code == 200 and r.json()["accepted"] >= 1, r.text
    r = httpx.post(f"{server.url}/v1/webhooks/alertmanager", content=b'{"not": "an alert"', headers=bearer)
    assert r.status_code == 400
