"""Round 29 of the holdout sweep, wire side, against one real ``secpipe up`` (samples and
sources: tests/cases/wire_holdout/SOURCE.md).

- OTLP/HTTP log records no format reads keep their SeverityNumber as the Base Event's
  ``severity_id`` (it was 0, Unknown, for an ERROR or FATAL record too).
- The OpenTelemetry Collector's HTTP exporters (confighttp) name their ``compression`` as the
  ``Content-Encoding``: ``zlib``, ``x-snappy-framed`` and ``lz4`` were answered 415 (the exporter
  drops the data: 4xx is not retried). Bodies here are compressed by independent encoders
  (Python's zlib, cramjam's snappy framing and LZ4 frame) as the Collector's writers compress them
  (open-telemetry/opentelemetry-collector config/confighttp/compressor.go: zlib.NewWriterLevel
  for zlib and deflate, snappy.NewBufferedWriter for x-snappy-framed, pierrec/lz4 NewWriter for lz4).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import cramjam
import httpx
import pytest

pytest.importorskip("opentelemetry.proto")
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest  # noqa: E402
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue  # noqa: E402
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs  # noqa: E402
from opentelemetry.proto.resource.v1.resource_pb2 import Resource  # noqa: E402

from tests.integration.wire_server import Server, start  # noqa: E402

#: elastic/integrations system auth test lines (tests/cases/holdout/SOURCE.md)
AUTH = (Path(__file__).parents[1] / "cases" / "holdout" / "elastic-system-auth.log").read_text().splitlines()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("wire_holdout29"))
    yield srv
    srv.stop()


def test_otlp_protobuf_records_keep_their_severity(server: Server) -> None:
    # what an SDK's OTLPLogExporter sends for an application's log calls (severity number and
    # text as the SDKs' logging bridges set them: Python's logging WARNING -> WARN 13, ERROR ->
    # ERROR 17, CRITICAL -> FATAL 21)
    levels = [(9, "INFO"), (13, "WARNING"), (17, "ERROR"), (21, "CRITICAL")]
    records = [LogRecord(time_unix_nano=1700000000_000000000 + n, severity_number=n, severity_text=text,
                         body=AnyValue(string_value=f"payment worker {text.lower()} ({n})"))
               for n, text in levels]  # fmt: skip
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="payments"))])
    req = ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])])
    r = httpx.post(f"{server.url}/v1/logs", content=req.SerializeToString(), timeout=60, headers={
        "Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-protobuf"})  # fmt: skip
    assert r.status_code == 200, r.content
    sql = "select message, severity_id, severity, metadata.log_level from base_event where message like 'payment worker%'"
    assert server.wait_rows(f"select count(*) from ({sql})", 4) == 4
    assert sorted(server.query(sql), key=lambda row: row[1]) == [
        ["payment worker info (9)", 1, "Informational", "INFO"],
        ["payment worker warning (13)", 3, "Medium", "WARNING"],
        ["payment worker error (17)", 4, "High", "ERROR"],
        ["payment worker critical (21)", 6, "Fatal", "CRITICAL"],
    ]


@pytest.mark.parametrize(("encoding", "compress"), [
    ("zlib", zlib.compress),
    ("x-snappy-framed", lambda b: bytes(cramjam.snappy.compress(b))),
    ("lz4", lambda b: bytes(cramjam.lz4.compress(b))),
])  # fmt: skip
def test_collector_compressions_of_otlphttp(server: Server, encoding: str, compress: object) -> None:
    # the filelog receiver's record of an auth.log line (the line its body, host.name from resourcedetection)
    line = AUTH[{"zlib": 1, "x-snappy-framed": 3, "lz4": 15}[encoding]]
    resource = Resource(attributes=[KeyValue(key="host.name", value=AnyValue(string_value="web-7"))])
    record = LogRecord(time_unix_nano=1700000000_000000000, body=AnyValue(string_value=line))
    req = ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=[record])])])
    body = compress(req.SerializeToString())  # type: ignore[operator]
    r = httpx.post(f"{server.url}/v1/logs", content=body, timeout=60, headers={
        "Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-protobuf",
        "Content-Encoding": encoding})  # fmt: skip
    assert r.status_code == 200, r.content
    port = line.split(" port ")[1].split()[0]
    assert server.wait_rows(f"select count(*) from authentication where raw_data like '%port {port} %'", 1) == 1


def test_json_without_resource_logs_is_refused_not_dropped(server: Server) -> None:
    # what Vector's opentelemetry sink posts in its json codec (its events as they are: a file
    # source event of tests/cases/wire_holdout/vector-file-source-docs.ndjson) and a traces
    # request sent to the logs path: both were answered 200 as an empty request, their data lost
    vector_event = (Path(__file__).parents[1] / "cases" / "wire_holdout" / "vector-file-source-docs.ndjson").read_bytes()
    vector_event = vector_event.splitlines()[0]
    traces = b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "GET /", "traceId": "5b8efff798038103d269b633813fc60c"}]}]}]}'
    for body in (vector_event, traces):
        r = httpx.post(f"{server.url}/v1/logs", content=body, timeout=60, headers={
            "Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 400 and "no resourceLogs" in r.json()["message"], r.text
    assert server.wait_rows("select count(*) from dead_letter where reason like '%no resourceLogs%'", 2) == 2
    # an empty request is one
    r = httpx.post(f"{server.url}/v1/logs", content=b"{}", timeout=60, headers={
        "Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 200 and r.json() == {}


def test_hec_sc4s_nix_syslog_and_splunk_kubernetes_audit(server: Server) -> None:
    # Splunk Connect for Syslog's HEC event of an sshd line (sourcetype nix:syslog, source
    # program:<PROGRAM>, index osnix: splunk/splunk-connect-for-syslog's tests; the event its
    # program header and message, host and time in the envelope) and a Kubernetes audit event of
    # panther-labs/panther-analysis too sparse to be detected alone (no apiVersion, no auditID) as
    # Splunk Connect for Kubernetes sends the audit log (sourcetype kube:apiserver-audit)
    k8s = (Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "panther-analysis" / "extracted"
           / "k8s_audit.jsonl").read_bytes().splitlines()[18]  # fmt: skip
    events = [
        {"time": "1700000000.000", "host": "web-12", "source": "program:sshd", "sourcetype": "nix:syslog",
         "index": "osnix", "event": "sshd[88]: Accepted password for bob from 10.0.0.1 port 22 ssh2",
         "fields": {"sc4s_vendor": "nix", "sc4s_product": "syslog"}},
        {"time": 1700000001, "host": "cp-1", "source": "/var/log/kube-apiserver-audit.log",
         "sourcetype": "kube:apiserver-audit", "index": "k8s", "event": json.loads(k8s)},
    ]  # fmt: skip
    r = httpx.post(f"{server.url}/services/collector/event", content="".join(json.dumps(e) for e in events),
                   headers={"Authorization": f"Splunk {server.ingest}"}, timeout=60)  # fmt: skip
    assert r.status_code == 200 and r.json()["code"] == 0, r.text
    sql = "select user.name, device.hostname, time_dt from authentication where user.name = 'bob'"
    assert server.wait_rows(f"select count(*) from ({sql})", 1) == 1
    ((user, host, at),) = server.query(sql)
    assert (user, host, str(at)[:19]) == ("bob", "web-12", "2023-11-14T22:13:20")
    verb = json.loads(k8s)["verb"]
    assert server.wait_rows(f"select count(*) from api_activity where api.operation = '{verb}'", 1) == 1
