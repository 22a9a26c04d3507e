"""Round 28 of the holdout sweep, wire side: OpenTelemetry OTLP/HTTP logs (``POST /v1/logs``)
against one real ``secpipe up``, requests serialized by the official opentelemetry-proto classes
(what the Collector's ``otlphttp`` exporter and the SDKs' ``OTLPLogExporter`` send) and
opentelemetry-proto's own JSON example (samples and sources: tests/cases/wire_holdout/SOURCE.md).
There was no such route: the exporters got 404 and dropped every record.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("opentelemetry.proto")
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList  # noqa: E402
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs  # noqa: E402
from opentelemetry.proto.resource.v1.resource_pb2 import Resource  # noqa: E402

from tests.integration.wire_server import Server, start  # noqa: E402

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"
#: elastic/integrations system auth and kubernetes audit test lines (tests/cases/holdout/SOURCE.md)
AUTH = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()
K8S = (CASES / "holdout" / "elastic-k8s-audit-mixed.log").read_text().splitlines()
#: elastic/integrations aws cloudtrail test record (tests/cases/wire_holdout/SOURCE.md, round 26)
TRAIL = (WIRE / "elastic-cloudtrail-console-login.log").read_text().splitlines()[0]
#: elastic/integrations apache access test-access-basic.log line 1 (tests/cases/holdout)
ACCESS, ACCESS2 = (CASES / "holdout" / "elastic-apache-access-basic.log").read_text().splitlines()[:2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("wire_holdout28"))
    yield srv
    srv.stop()


def _kv(key: str, value: object) -> KeyValue:
    return KeyValue(key=key, value=_any(value))


def _any(value: object) -> AnyValue:
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=[_kv(k, v) for k, v in value.items()]))
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, list):
        any_list = AnyValue()
        any_list.array_value.values.extend(_any(v) for v in value)
        return any_list
    return AnyValue(string_value=str(value))


def _request(bodies: list[object], host: str = "web-7") -> ExportLogsServiceRequest:
    """What the Collector sends for records its filelog receiver read on ``host`` (resource
    attributes of the resourcedetection and k8sattributes processors)."""
    resource = Resource(attributes=[_kv("host.name", host), _kv("service.name", "auth"),
                                    _kv("k8s.namespace.name", "prod"), _kv("k8s.pod.name", "api-0")])  # fmt: skip
    records = [LogRecord(time_unix_nano=1700000000_000000000 + i, observed_time_unix_nano=1700000001_000000000,
                         severity_number=9, severity_text="INFO", body=_any(b),
                         trace_id=bytes(range(16)), span_id=bytes(range(8)),
                         attributes=[_kv("log.file.name", "auth.log")]) for i, b in enumerate(bodies)]  # fmt: skip
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource,
                                                                scope_logs=[ScopeLogs(log_records=records)])])


def _post(server: Server, body: bytes, kind: str, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/logs", content=body, timeout=60, headers={
        "Authorization": f"Bearer {server.ingest}", "Content-Type": kind, **headers})  # fmt: skip


def test_protobuf_request_of_syslog_audit_and_cloudtrail_bodies(server: Server) -> None:
    # string bodies: an auth.log line (its own host), an access line (no host: the resource's),
    # an audit.log line; map bodies: a CloudTrail record (ConsoleLogin: Authentication) and a tail
    # record as Fluent Bit's opentelemetry output sends it without logs_body_key ({"log": line})
    bodies: list[object] = [AUTH[0], ACCESS, K8S[0], json.loads(TRAIL), {"log": ACCESS2 + "\n"}]
    req = _request(bodies).SerializeToString()
    r = _post(server, gzip.compress(req), "application/x-protobuf", **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.content
    assert r.headers["content-type"] == "application/x-protobuf"
    assert not ExportLogsServiceResponse.FromString(r.content).HasField("partial_success")
    assert server.wait_rows("select count(*) from authentication", 2) == 2
    assert server.query("select device.hostname from http_activity") == [["web-7"], ["web-7"]]
    assert server.query("select api.operation from api_activity") == [[json.loads(K8S[0])["verb"]]]
    users = sorted(r[0] for r in server.query("select user.name from authentication"))
    assert users == sorted(["vagrant", json.loads(TRAIL)["userIdentity"]["userName"]])


def test_json_encoding_of_the_spec_example(server: Server) -> None:
    r = _post(server, (WIRE / "otlp-logs.json").read_bytes(), "application/json")
    assert r.status_code == 200 and r.json() == {}, r.text
    assert server.wait_rows("select count(*) from base_event where message = 'Example log record'", 1) == 1
    (row,) = server.query("select time_dt, unmapped from base_event where message = 'Example log record'")
    assert str(row[0]).startswith("2018-12-13")
    assert "my.service" in json.dumps(row[1]) and "5b8efff798038103d269b633813fc60c" in json.dumps(row[1])


def test_errors_in_the_spec_shape(server: Server) -> None:
    r = _post(server, b"\x0a\xff\xff", "application/x-protobuf")
    assert r.status_code == 400 and r.headers["content-type"] == "application/x-protobuf"
    assert b"ExportLogsServiceRequest" in r.content
    r = _post(server, b'{"resourceLogs": 7}', "application/json")
    assert r.status_code == 400 and r.json()["code"] == 3 and "ExportLogsServiceRequest" in r.json()["message"]
    r = _post(server, b"x", "text/plain")
    assert r.status_code == 415
    r = httpx.post(f"{server.url}/v1/logs", content=b"", headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 401 and r.json()["code"] == 16
