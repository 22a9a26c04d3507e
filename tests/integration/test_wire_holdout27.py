"""Round 27 of the holdout sweep, wire side: the host a shipper's document names is the device of
the line it wraps when the line names none, against one real ``secpipe up`` (the pieces:
tests/unit/test_wire_holdout27.py; samples: tests/cases/wire_holdout/SOURCE.md); and the syslog
listener gives a message that names no host its sender's address, with util-linux ``logger``."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secpipe.runtime.service import Service
from tests.integration.test_syslog_listener import lake_rows, listener, log, needs_logger, service, wait_for
from tests.integration.wire_server import Server, start

__all__ = ["service"]  # the listener tests' fixture

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("wire_holdout27"))
    yield srv
    srv.stop()


def test_access_line_from_two_shippers_keeps_each_host(server: Server) -> None:
    # Vector's file source example event (an Apache access line read on "my-host.local"), through
    # _bulk; the same line as Vector's splunk_hec_logs sends it from another host (a string event)
    doc = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()[0]
    body = b'{"create":{"_index":"vector-2020.10.10"}}\n' + doc + b"\n"
    r = httpx.post(f"{server.url}/_bulk", content=body, timeout=60,
                   headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["errors"] is False, r.text
    event = {"event": json.loads(doc)["message"], "host": "web-02", "sourcetype": "access_combined", "time": 1601565958}
    r = httpx.post(f"{server.url}/services/collector/event", content=json.dumps(event), timeout=60,
                   headers={"Authorization": f"Splunk {server.ingest}"})
    assert r.status_code == 200 and r.json()["code"] == 0, r.text
    sql = "SELECT count(*) FROM http_activity WHERE src_endpoint.ip = '53.126.150.246'"
    assert server.wait_rows(sql, 2) == 2
    rows = server.query("SELECT device.hostname, http_request.url.path FROM http_activity "
                        "WHERE src_endpoint.ip = '53.126.150.246' ORDER BY 1")  # fmt: skip
    assert rows == [["my-host.local", "/disintermediate"], ["web-02", "/disintermediate"]]


@needs_logger
@pytest.mark.parametrize("transport", ["-d", "-T"])
def test_listener_gives_a_hostless_message_its_senders_address(service: Service, data_dir: Path,
                                                               transport: str) -> None:
    # util-linux logger --rfc5424=nohost sends HOSTNAME "-" (RFC 5424 NILVALUE: the sender does not
    # know its name); rsyslog stores fromhost-ip then, secpipe stored no device at all
    lst = listener(service, "udp" if transport == "-d" else "tcp")
    try:
        log(lst.port, transport, "--rfc5424=nohost", "-t", "myapp", "no host named")
        log(lst.port, transport, "--rfc5424", "-t", "myapp", "host named")
        wait_for(lambda: lst.accepted >= 2)
    finally:
        lst.stop()
    service.flush()
    rows = {r["message"]: r["device"] for r in lake_rows(data_dir, "base_event")}
    assert rows["no host named"]["ip"] == "127.0.0.1" and rows["no host named"]["hostname"] is None
    assert rows["host named"]["hostname"] == socket.gethostname() and rows["host named"]["ip"] is None


def test_hec_health_answers_a_probe_without_a_token(server: Server) -> None:
    # Splunk's services/collector/health is for load balancers: no token needed (it was 401 code 2)
    for path in ("/services/collector/health", "/services/collector/health/1.0"):
        r = httpx.get(f"{server.url}{path}", timeout=30)
        assert r.status_code == 200 and r.json() == {"text": "HEC is healthy", "code": 17}, r.text
    r = httpx.get(f"{server.url}/services/collector/health", headers={"Authorization": "Splunk wrong"}, timeout=30)
    assert r.status_code == 403 and r.json()["code"] == 4
    r = httpx.get(f"{server.url}/services/collector/health", headers={"Authorization": f"Splunk {server.ingest}"},
                  timeout=30)
    assert r.status_code == 200 and r.json()["code"] == 17


def test_fluent_bit_http_records_of_kubernetes_audit_lines(server: Server) -> None:
    # Fluent Bit's http output (format json, json_date_key date) of a tail input on the API server's
    # audit log (elastic/integrations test-audit.log's three Events): each record's line is the
    # audit event; the body was taken whole for audit events and refused (400, all dead-lettered)
    lines = (CASES / "holdout" / "elastic-k8s-audit-mixed.log").read_text().splitlines()[:3]
    body = json.dumps([{"date": 1708894996.5, "log": line + "\n"} for line in lines])
    for route in ("auto", "k8s_audit"):
        r = httpx.post(f"{server.url}/v1/ingest/{route}", content=body, timeout=60,
                       headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["accepted"] == 3 and r.json()["dead_letter"] == 0, r.text
    # the sample's 2nd and 3rd lines are the same event (one row: the lake keeps one copy)
    sql = "SELECT count(*) FROM api_activity WHERE api.request.uid = 'abcde12345'"
    assert server.wait_rows(sql, 2) == 2
    rows = server.query("SELECT api.operation, http_request.url.path FROM api_activity "
                        "WHERE api.request.uid = 'abcde12345' ORDER BY 2")  # fmt: skip
    assert rows == [["get", "/api/v1/namespaces/default/pods"],
                    ["get", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/elastic-agent-cluster-test"]]
