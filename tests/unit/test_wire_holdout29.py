"""Round 29 of the holdout sweep, wire side (samples and sources: tests/cases/wire_holdout/SOURCE.md).

- OpenTelemetry log records stored whole (``POST /v1/logs``, the Collector's ``elasticsearch``
  exporter's documents): their SeverityNumber is the Base Event's ``severity_id`` (it was 0,
  Unknown, for every record, an ERROR or FATAL one too) and their SeverityText ``metadata.log_level``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa

from secpipe import formats
from secpipe.server.otlp import json_records

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"


def _levels(t: pa.Table) -> list[str | None]:
    return [m["log_level"] for m in t.column("metadata").to_pylist()]


def _mapped(body: bytes) -> pa.Table:
    dec = formats.get("json").decode(body, "test")
    assert not dec.dead
    return pa.Table.from_batches(dec.batches)


def test_otel_es_exporter_documents_keep_their_severity() -> None:
    # the exporter's golden otel and none documents (severity_number / SeverityNumber 9, INFO);
    # its ecs document names none of those fields: Unknown
    t = _mapped((WIRE / "otel-es-exporter-golden-logs.ndjson").read_bytes())
    assert t.column("severity_id").to_pylist() == [1, 1, 0]
    assert t.column("severity").to_pylist()[:2] == ["Informational", "Informational"]
    assert _levels(t) == ["INFO", "INFO", None]


def test_otlp_severity_ranges_as_the_log_data_model_maps_syslog() -> None:
    # OTel log data model: SeverityNumber 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR,
    # 21-24 FATAL; its syslog mapping (Appendix B): Debug DEBUG, Informational INFO, Notice INFO2,
    # Warning WARN, Error ERROR, Critical ERROR2, Alert ERROR3, Emergency FATAL. OCSF as the syslog
    # format maps those severities (info/debug 1, notice 2, warning 3, err 4, crit/alert 5, emerg 6).
    numbers = [1, 5, 9, 10, 13, 17, 18, 19, 21, 24, 0]
    request = {"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1700000000000000000", "severityNumber": n, "severityText": f"S{n}",
         "body": {"stringValue": f"record {n}"}} for n in numbers]}]}]}  # fmt: skip
    docs = json_records(orjson.dumps(request))
    t = _mapped(b"\n".join(orjson.dumps(d) for d in docs))
    assert t.column("severity_id").to_pylist() == [1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 0]
    assert _levels(t)[4] == "S13"


def test_otlp_severity_text_alone() -> None:
    # opentelemetry-proto examples/logs.json: severityText "Information", no severityNumber (the
    # data model keeps a source's own level there: its Appendix B maps .NET's Information to INFO,
    # syslog's Critical to ERROR2, zap's DPanic to ERROR2); a text it names nothing of stays Unknown
    (log,) = json_records((WIRE / "otlp-logs.json").read_bytes())
    texts = ["Information", "WARNING", "critical", "DPanic", "emerg", "ERROR3", "loud"]
    t = _mapped(b"\n".join(orjson.dumps(log | {"severity_text": x}) for x in texts))
    assert t.column("severity_id").to_pylist() == [1, 3, 5, 5, 6, 5, 0]
    assert _levels(t) == texts


def test_otlp_spec_event_example_is_informational() -> None:
    (event,) = json_records((WIRE / "otlp-events.json").read_bytes())
    t = _mapped(orjson.dumps(event))
    assert t.column("severity_id").to_pylist() == [1]


# Kafka source: message headers (sources/kafka_batch.py). They were dropped: an analyst lost what
# the producer said of each record (the sending host or pipeline, a content type).
#: rsyslog's omkafka KafkaHeader example (rsyslog.com doc reference/parameters/omkafka-kafkaheader:
#: kafkaHeader=["foo=bar","answer=42"]) on an auth.log line as omkafka sends it; Filebeat's
#: output.kafka.headers example (elastic.co filebeat kafka-output: key "some-key", value
#: "some value") on a filestream document (round 25's filebeat-filestream-auth.ndjson line 1)
RSYSLOG_HEADERS = [("foo", b"bar"), ("answer", b"42")]
AUTH_LINE = (CASES / "holdout" / "elastic-system-auth.log").read_bytes().splitlines()[0]
FILEBEAT_DOC = (WIRE / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()[0]


def _kafka_tags(dec: Any) -> dict[str, Any]:
    rows = [r for b in dec.batches for r in b.to_pylist()]
    return {r["metadata"]["loggers"][0]["event_uid"]: r["metadata"].get("tags") for r in rows}


def test_kafka_headers_are_kept_as_tags_and_replayed_from_the_wal() -> None:
    from secpipe.sources.kafka_batch import Message, decode_messages, replay

    msgs = [
        Message("syslog", 0, 5, AUTH_LINE, None, 1700000000000, RSYSLOG_HEADERS),
        # a repeated key, a null value and a value that is not UTF-8 (Kafka headers are bytes)
        Message("beats", 1, 9, FILEBEAT_DOC, b"web-7", 1700000000001,
                [("some-key", b"some value"), ("some-key", b"again"), ("trace", None), ("bin", b"\xff\x01")]),
        Message("beats", 1, 10, FILEBEAT_DOC, None, 1700000000002, None),
    ]
    dec, wal = decode_messages(msgs[:2], lambda topic: "auto")
    assert not dec.dead
    want = {
        "syslog-0@5": [{"name": "kafka.header.foo", "value": "bar"}, {"name": "kafka.header.answer", "value": "42"}],
        "beats-1@9": [{"name": "kafka.key", "value": "web-7"},
                      {"name": "kafka.header.some-key", "value": "some value"},
                      {"name": "kafka.header.some-key", "value": "again"},
                      {"name": "kafka.header.trace", "value": None},
                      {"name": "kafka.header.bin", "value": "\\xff\x01"}],
    }  # fmt: skip
    assert _kafka_tags(dec) == want
    assert _kafka_tags(replay(wal[0].body)) == want
    # a message with neither key nor headers has no tags
    dec, _wal = decode_messages(msgs[2:], lambda topic: "auto")
    assert _kafka_tags(dec) == {"beats-1@10": None}


def test_kafka_wal_record_written_before_headers_replays() -> None:
    # a poll's WAL record as round 28 wrote it: 8 fields a message
    from secpipe.sources.kafka_batch import replay

    old = msgspec.msgpack.encode([["syslog", 0, 5, b"k", 1700000000000, "syslog", "", AUTH_LINE]])
    assert _kafka_tags(replay(old)) == {"syslog-0@5": [{"name": "kafka.key", "value": "k"}]}


def test_kafka_source_reads_the_headers_of_the_consumer_messages() -> None:
    from secpipe.sources.kafka import KafkaSource
    from secpipe.sources.kafka_batch import Message
    from secpipe.sources.kafka_options import KafkaSourceOptions
    from tests.unit.test_kafka_holdout28 import _Consumer

    stored: list[Any] = []

    class _Svc:
        cpu = contextlib.nullcontext()

        def accept_many(self, wal: list[Any], decoded: Any) -> None:
            stored.append(decoded)

    consumer = _Consumer([[Message("syslog", 0, 5, AUTH_LINE, None, 1700000000000, RSYSLOG_HEADERS)]])
    opts = KafkaSourceOptions(brokers="b:9092", topics=["syslog"])
    src = KafkaSource("k", opts, _Svc(), consumer=lambda conf: consumer)
    src._consumer = consumer
    assert src.poll_once() == 1
    assert _kafka_tags(stored[0])["syslog-0@5"][1] == {"name": "kafka.header.answer", "value": "42"}


# The OpenTelemetry Collector's confighttp encodings (open-telemetry/opentelemetry-collector
# config/configcompression: zlib, x-snappy-framed, lz4 besides gzip, deflate, snappy, zstd) were 415.
class _Req:
    def __init__(self, enc: str) -> None:
        self.headers = {"content-encoding": enc}


def _inflated(enc: str, body: bytes, limit: int = 1 << 20) -> tuple[int, Any]:
    from secpipe.server.http import HTTPError, Limits, inflate

    try:
        return 200, inflate(_Req(enc), body, Limits(max_decompressed_bytes=limit))  # type: ignore[arg-type]
    except HTTPError as exc:
        return exc.status, exc.body["error"]


def test_collector_encodings_inflate_within_the_limit() -> None:
    import zlib

    import cramjam

    data = FILEBEAT_DOC * 200
    for enc, body in (("zlib", zlib.compress(data)), ("x-snappy-framed", bytes(cramjam.snappy.compress(data))),
                      ("lz4", bytes(cramjam.lz4.compress(data)))):  # fmt: skip
        assert _inflated(enc, body) == (200, data)
        assert _inflated(enc, body, len(data) - 1)[0] == 413
        assert _inflated(enc, body[: len(body) // 2])[0] == 400  # cut short
    assert _inflated("lz4", b"not an lz4 frame")[0] == 400


# Kafka source: the OpenTelemetry Collector's kafka exporter writes one OTLP logs request a message
# to its logs topic (opentelemetry-collector-contrib exporter/kafkaexporter README: topic
# otlp_logs, encoding otlp_proto by default, or otlp_json). Each message was dead-lettered as no
# format's (auto) or stored as one generic JSON event (format json); it is read as POST /v1/logs reads it.
def _otlp_request(bodies: list[str], host: str = "web-7") -> Any:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    resource = Resource(attributes=[KeyValue(key="host.name", value=AnyValue(string_value=host))])
    records = [LogRecord(time_unix_nano=1700000000_000000000 + i, severity_number=9, body=AnyValue(string_value=b))
               for i, b in enumerate(bodies)]  # fmt: skip
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])])


def test_kafka_otlp_proto_and_json_messages_are_their_records() -> None:
    from secpipe.sources.kafka_batch import Message, decode_messages, replay

    auth = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()
    proto = _otlp_request([auth[1], auth[3], "payment worker started"]).SerializeToString()
    spec_json = orjson.dumps(orjson.loads((WIRE / "otlp-logs.json").read_bytes()))  # one line, as otlp_json writes it
    msgs = [Message("otlp_logs", 0, 7, proto, None, 1700000000000, [("source", b"collector-1")]),
            Message("otlp_logs", 0, 8, spec_json)]
    for fmt in ("auto", "json"):
        dec, wal = decode_messages(msgs, lambda topic, fmt=fmt: fmt)  # type: ignore[misc]
        assert not dec.dead and dec.events == 4
        rows = [r for b in dec.batches for r in b.to_pylist()]
        auth_rows = sorted((r["user"]["name"], r["metadata"]["loggers"][0]["event_uid"]) for r in rows if r["class_uid"] == 3002)
        assert auth_rows == [("root", "otlp_logs-0@7"), ("vagrant", "otlp_logs-0@7")]
        base = sorted((r["message"], r["severity_id"], r["metadata"]["loggers"][0]["event_uid"]) for r in rows
                      if r["class_uid"] == 0)  # fmt: skip
        assert base == [("Example log record", 1, "otlp_logs-0@8"), ("payment worker started", 1, "otlp_logs-0@7")]
        again = [r for b in replay(wal[0].body).batches for r in b.to_pylist()]
        assert sorted(r["metadata"]["uid"] for r in again) == sorted(r["metadata"]["uid"] for r in rows)


def test_kafka_otlp_traces_are_not_read_as_logs() -> None:
    # the kafka exporter's otlp_spans topic: an ExportTraceServiceRequest opens with the same
    # field (resource_spans) and parses as a logs request of misread fields
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    from secpipe.sources.kafka_batch import NO_FORMAT, Message, decode_messages

    # (a span without a name: a named one fails to parse as logs anyway; this one parses into a
    # record holding only a trace_id of the span's attribute bytes)
    attr = KeyValue(key="http.method", value=AnyValue(string_value="GET"))
    span = Span(trace_id=bytes(range(16)), span_id=bytes(range(8)), start_time_unix_nano=1, end_time_unix_nano=2,
                attributes=[attr])  # fmt: skip
    traces = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    dec, _wal = decode_messages([Message("otlp_spans", 0, 1, traces.SerializeToString())], lambda topic: "auto")
    assert not dec.batches and [d.reason for d in dec.dead] == [NO_FORMAT]


# HEC sourcetypes real senders set: Splunk Connect for Syslog's nix:syslog (its generic *nix
# sourcetype: splunk/splunk-connect-for-syslog tests search sourcetype="nix:syslog"
# source="program:<PROGRAM>" index=osnix), the Splunk Add-on for Unix and Linux's
# linux_messages_syslog, and kube:apiserver-audit (Splunk Connect for Kubernetes' kube-audit log
# and the Splunk OpenTelemetry Collector chart's com.splunk.sourcetype for the audit log:
# signalfx/splunk-otel-collector-chart docs/advanced-configuration.md). They were unknown: SC4S's
# lines became Base Events holding the envelope, a sparse audit event too.
def test_hec_sourcetypes_of_sc4s_unix_add_on_and_splunk_kubernetes() -> None:
    from secpipe.server.hec import _format_of

    assert [_format_of(st, {}) for st in ("nix:syslog", "linux_messages_syslog", "kube:apiserver-audit")] == [
        "syslog", "syslog", "k8s_audit"]


def test_syslog_line_without_a_time_takes_its_documents() -> None:
    # SC4S's nix:syslog event text: the program header and message, its time in the HEC envelope
    # (;at=, as the wire routes hint a shipped line's document time); a line with its own stamp keeps it
    body = b"sshd[88]: Accepted password for bob from 10.0.0.1 port 22 ssh2\n" + AUTH_LINE + b"\n"
    dec = formats.get("syslog").decode(body, "hec:test;at=1700000000000;host=web-12")
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["raw_data"])
    assert [(r["user"]["name"], str(r["time_dt"])[:19], r["device"]["hostname"]) for r in rows] == [
        ("vagrant", "2023-02-21 21:54:44", "localhost"), ("bob", "2023-11-14 22:13:20", "web-12")]
