"""Round 29, kafka source against a real Apache Kafka broker (tests/integration/kafka/broker.py),
fed by confluent-kafka's Producer with message headers, run inside `secpipe up`: each event keeps
its message's headers in ``metadata.tags`` (they were dropped). Headers: rsyslog omkafka's
``KafkaHeader`` documented example (``["foo=bar","answer=42"]``, rsyslog.com
doc/reference/parameters/omkafka-kafkaheader) on the elastic/integrations auth.log line 1
(tests/cases/holdout/SOURCE.md) as omkafka sends it. Marked slow, skipped as test_kafka_broker is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import wire_server
from tests.integration.test_kafka_broker import _config, kafka  # noqa: F401  (the broker fixture)

pytestmark = pytest.mark.slow

AUTH_LINE = (Path(__file__).parents[1] / "cases" / "holdout" / "elastic-system-auth.log").read_bytes().splitlines()[0]


def test_message_headers_are_kept_as_tags(tmp_path: Path, kafka: object) -> None:  # noqa: F811
    from confluent_kafka import Producer

    bootstrap = kafka.bootstrap  # type: ignore[attr-defined]
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    p.produce("rsyslog", value=AUTH_LINE, headers=[("foo", b"bar"), ("answer", b"42")])
    assert p.flush(30) == 0
    srv = wire_server.start(tmp_path, _config(bootstrap, ["rsyslog"], "it-headers", "{rsyslog: syslog}"))
    try:
        assert srv.wait_rows("SELECT count(*) FROM authentication", 1) == 1
        assert srv.query("SELECT metadata.tags FROM authentication") == [[[
            {"name": "kafka.header.foo", "value": "bar"}, {"name": "kafka.header.answer", "value": "42"}]]]
    finally:
        srv.stop()


def test_collector_kafka_exporter_otlp_proto_messages(tmp_path: Path, kafka: object) -> None:  # noqa: F811
    # the Collector's kafka exporter: one ExportLogsServiceRequest (pdata LogsData) a message on
    # otlp_logs, records of auth.log lines its filelog receiver read
    from confluent_kafka import Producer
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    lines = (Path(__file__).parents[1] / "cases" / "holdout" / "elastic-system-auth.log").read_text().splitlines()
    resource = Resource(attributes=[KeyValue(key="host.name", value=AnyValue(string_value="web-7"))])
    records = [LogRecord(time_unix_nano=1700000000_000000000, body=AnyValue(string_value=lines[i])) for i in (1, 3)]
    req = ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])])
    bootstrap = kafka.bootstrap  # type: ignore[attr-defined]
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    p.produce("otlp_logs", value=req.SerializeToString())
    assert p.flush(30) == 0
    srv = wire_server.start(tmp_path, _config(bootstrap, ["otlp_logs"], "it-otlp"))
    try:
        assert srv.wait_rows("SELECT count(*) FROM authentication", 2) == 2
        assert sorted(srv.query("SELECT user.name, metadata.loggers[1].event_uid FROM authentication")) == [
            ["root", "otlp_logs-0@0"], ["vagrant", "otlp_logs-0@0"]]
        assert srv.query("SELECT count(*) FROM dead_letter") == [[0]]
    finally:
        srv.stop()
