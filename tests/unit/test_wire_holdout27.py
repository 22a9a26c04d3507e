"""Round 27 of the holdout sweep, wire side: the host a shipper's document names stays with the
line it wraps (samples and sources: tests/cases/wire_holdout/SOURCE.md).

A line shipped inside a document (Vector's ``host`` + ``message``, Filebeat's ``host.name``, the
OpenTelemetry Collector's resource ``host.name``, a HEC envelope's ``host`` or ``?host=``) was
stored as the bare line: an access-log line, whose header names no host, lost the web server it
was read on (``device`` null), and the same line from two servers was one event.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.server.hec import build_items, raw_events
from secpipe.server.shipped import shipped_lines, text_lines
from secpipe.server.wire import ShippedLine

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"
#: elastic/integrations apache access test-access-basic.log lines 1 and 2 (tests/cases/holdout)
ACCESS = (CASES / "holdout" / "elastic-apache-access-basic.log").read_text().splitlines()


def _rows(line: bytes, source: str) -> list[dict]:
    dec = formats.get("syslog").decode(line, source)
    assert not dec.dead, dec.dead
    return [row for b in dec.batches for row in b.to_pylist()]


def test_vector_file_event_line_keeps_its_host() -> None:
    # Vector's file source example event (an Apache access line, host "my-host.local")
    doc = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()[0]
    names, docs = shipped_lines([None], [doc])
    assert names == ["syslog"] and isinstance(docs[0], ShippedLine) and docs[0].host == "my-host.local"
    (row,) = _rows(docs[0], "es_bulk:test;host=my-host.local")
    assert row["class_uid"] == 4002 and row["device"]["hostname"] == "my-host.local"
    (bare,) = _rows(docs[0], "es_bulk:test")
    assert bare["device"] is None or bare["device"]["hostname"] is None


def test_same_hostless_line_from_two_hosts_is_two_events() -> None:
    line = ACCESS[0].encode()
    a, b, none = (_rows(line, f"es_bulk:t{h}")[0]["metadata"]["uid"] for h in (";host=web-01", ";host=web-02", ""))
    assert len({a, b, none}) == 3
    assert _rows(line, "es_bulk:t;host=web-01")[0]["metadata"]["uid"] == a  # a redelivery still collapses


def test_line_naming_its_own_host_keeps_it_and_its_identity() -> None:
    # Filebeat filestream documents of two auth.log lines (host.name "localhost" as captured)
    doc = json.loads((WIRE / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()[0])
    doc["host"] = {"name": "filebeat-box"}
    names, docs = shipped_lines([None], [json.dumps(doc).encode()])
    assert names == ["syslog"] and docs[0].host == "filebeat-box"
    (own,) = _rows(docs[0], "es_bulk:t;host=filebeat-box")
    (plain,) = _rows(doc["message"].encode(), "es_bulk:t")
    assert own["device"]["hostname"] == "localhost" and own["metadata"]["uid"] == plain["metadata"]["uid"]


def test_otel_collector_resource_host_name() -> None:
    otel, none, _ecs = (WIRE / "otel-es-exporter-golden-logs.ndjson").read_bytes().splitlines()
    d_otel, d_none = json.loads(otel), json.loads(none)
    d_otel["body"]["text"], d_none["Body"] = ACCESS[0], ACCESS[1]
    names, docs = shipped_lines([None, None], [json.dumps(d).encode() for d in (d_otel, d_none)])
    assert names == ["syslog", "syslog"] and [d.host for d in docs] == ["prod-server-01", "prod-server-01"]


def test_hec_envelope_host_and_raw_query_host() -> None:
    # Fluent Bit's splunk output payloads: the nested tail record {"log": line}; with the envelope's
    # host (Splunk_Send_Raw's sample names "my-host"); a string event of Vector's splunk_hec_logs
    _raw, nested, typed = (WIRE / "fluent-bit-splunk-payloads.ndjson").read_bytes().splitlines()
    envs = [dict(json.loads(nested), host="my-host"), dict(json.loads(typed), host="slave22-fwd"),
            {"event": ACCESS[0], "host": "web-02", "time": 1704164645.5}]  # fmt: skip
    names, docs = build_items([json.dumps(e).encode() for e in envs], None, {})
    assert names == ["syslog"] * 3 and [d.host for d in docs] == ["my-host", "slave22-fwd", "web-02"]
    # one sourcetype for all (linux_secure -> syslog): the same
    _names, docs = build_items([json.dumps(dict(envs[2], sourcetype="linux_secure")).encode()], None, {})
    assert [d.host for d in docs] == ["web-02"]
    # /raw with JSON events: a wrapped line names its own host, else the query string's
    vector = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()[0]
    bare = json.dumps({"message": ACCESS[1]}).encode()
    names, docs = raw_events(vector + b"\n" + bare, {"host": "vector-host"})
    assert names == ["syslog", "syslog"] and [d.host for d in docs] == ["my-host.local", "vector-host"]


def test_a_host_that_is_no_host_name_is_no_hint() -> None:
    for host in ("web 01", "a;repeats=0:1", "", 42, {"name": "x"}, "x" * 254):
        assert ShippedLine(b"line", host).host is None
    doc = json.dumps({"message": ACCESS[0], "host": "evil;host=x"}).encode()
    assert text_lines([doc], "syslog")[0].host is None
    (row,) = _rows(ACCESS[0].encode(), "es_bulk:t;host=a b")
    assert row["device"] is None or row["device"]["hostname"] is None


def _entries(docs: list[bytes]) -> list[dict]:
    names, found = shipped_lines([None] * len(docs), docs)
    assert names == ["syslog"] * len(docs), names
    rows = []
    for line in found:
        dec = formats.get("syslog").decode(line, "es_bulk:test")
        assert not dec.dead, dec.dead
        rows += [row for b in dec.batches for row in b.to_pylist()]
    return rows


def test_syslog_messages_shippers_parsed_into_fields() -> None:
    # Elastic's syslog processor (log.syslog.*), Vector's syslog source, Fluent Bit's syslog-rfc3164
    # parser: the message is only the MSG part; the header the shipper read is the journal entry's
    elastic, vector, vector_sshd, fluent_bit = (WIRE / "shipper-syslog-records.ndjson").read_bytes().splitlines()
    rows = _entries([elastic, vector, vector_sshd, fluent_bit])
    got = [(r["class_name"], r["time_dt"].isoformat(), r["device"]["hostname"], r["actor"]["process"]["name"],
            r["actor"]["process"]["pid"], r["metadata"]["event_code"]) for r in rows]  # fmt: skip
    assert got == [
        ("Base Event", "2022-01-11T22:14:15.003000+00:00", "mymachine.example.com", "eventslog", 1024, "ID47"),
        ("Base Event", "2020-03-13T20:45:38.119000+00:00", "dynamicwireless.name", "non", 2426, "ID931"),
        ("Authentication", "2024-02-20T08:35:22+00:00", "slave22", "sshd", 5774, None),
        ("Authentication", "2024-02-21T21:54:44+00:00", "localhost", "sshd", 3402, None),
    ]
    assert [r["message"] for r in rows[:2]] == ["this is the message", json.loads(vector)["message"]]
    assert [(r["user"]["name"], r["status"], r["src_endpoint"]["ip"]) for r in rows[2:]] == [
        ("root", "Failure", "89.160.20.156"), ("vagrant", "Success", "10.0.2.2")]
    # the facility and severity: local4.notice (165), user.notice, auth.info
    assert [r["metadata"]["log_level"] for r in rows] == ["notice", "notice", "info", "info"]


def test_a_document_that_only_looks_like_a_parsed_syslog_message_is_not_one() -> None:
    for doc in ({"appname": "x", "message": "m"}, {"pri": "999", "ident": "a", "message": "m"},
                {"pri": "13", "ident": 5, "message": "m"}, {"source_type": "file", "appname": "a", "message": "m"}):
        names, _docs = shipped_lines([None], [json.dumps(doc).encode()])
        assert names == ["json"], doc


def test_lines_of_many_hosts_stay_one_body() -> None:
    # an aggregator relaying many hosts' lines: one decode, not one a host (each ~9 ms)
    from secpipe.server import wire

    class _Service:
        def __init__(self) -> None:
            self.sources: list[str] = []
            self.cpu = __import__("contextlib").nullcontext()

        def sender_stream(self, name: str, body: bytes, source: str) -> tuple[str, str]:
            return name, source

        def decode(self, name: str, body: bytes, source: str):  # noqa: ANN202
            self.sources.append(source)
            return None, formats.get(name).decode(body, source)

        def accept(self, *args: object) -> None:
            pass

    ctx = type("Ctx", (), {"service": _Service()})()
    few = [ShippedLine(ACCESS[0].encode(), f"web-{i % 2}") for i in range(6)]
    wire.accept_docs(ctx, "es_bulk:t", "syslog", few)
    assert sorted(ctx.service.sources) == ["es_bulk:t;host=web-0", "es_bulk:t;host=web-1"]
    ctx.service.sources.clear()
    many = [ShippedLine(ACCESS[0].encode(), f"web-{i}") for i in range(wire.MAX_HOSTS + 1)]
    wire.accept_docs(ctx, "es_bulk:t", "syslog", many)
    assert ctx.service.sources == ["es_bulk:t"]


def test_filebeat_document_of_a_kubernetes_audit_line_is_the_audit_event() -> None:
    # Filebeat's filestream document (captured shape) around a line of the API server's audit log
    # and around an AKS diagnostic record (elastic/integrations samples): the kubernetes audit sniff
    # finds audit.k8s.io in the escaped message too, so the document itself was taken for an audit
    # event and dead-lettered ("not a Kubernetes audit event"), in auto-detection and on a mapped index
    base = json.loads((WIRE / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()[0])
    lines = [(CASES / "holdout" / "elastic-k8s-audit-mixed.log").read_text().splitlines()[0],
             (CASES / "holdout" / "elastic-aks-kube-audit.log").read_text().splitlines()[0]]  # fmt: skip
    docs = [json.dumps({**base, "message": line}).encode() for line in lines]
    names, found = shipped_lines([None, None], docs)
    assert names == ["k8s_audit", "k8s_audit"] and found == [line.encode() for line in lines]
    assert text_lines(docs, "k8s_audit") == [line.encode() for line in lines]
    for record in found:
        dec = formats.get("k8s_audit").decode(record, "test")
        assert not dec.dead and sum(b.num_rows for b in dec.batches) == 1


def test_hec_event_object_wrapping_a_kubernetes_audit_line() -> None:
    # Fluent Bit's splunk output nests the tail record ({"log": line + "\n"}) under event, Vector's
    # JSON encoding sends {"message": line, "host": ...}: the audit event, not the object around it
    line = (CASES / "holdout" / "elastic-k8s-audit-mixed.log").read_text().splitlines()[0]
    envs = [{"event": {"log": line + "\n"}, "time": 1700000000}, {"event": {"message": line, "host": "cp-1"}}]
    names, docs = build_items([json.dumps(e).encode() for e in envs], None, {})
    assert names == ["k8s_audit", "k8s_audit"] and docs == [line.encode(), line.encode()]


def test_logstash_syslog_input_without_ecs() -> None:
    # Logstash's syslog input before ECS compatibility (Logstash 7's default): message is the MSG
    # part, the header in logsource/program/pid/priority; host is the sender's address
    (doc,) = (WIRE / "logstash-syslog-legacy.ndjson").read_bytes().splitlines()
    (row,) = _entries([doc])
    assert (row["class_name"], row["status"], row["user"]["name"], row["src_endpoint"]["ip"]) == (
        "Authentication", "Failure", "test", "10.0.2.2")
    assert (row["device"]["hostname"], row["actor"]["process"]["name"], row["actor"]["process"]["pid"]) == (
        "localhost", "sshd", 3430)
    assert row["time_dt"].isoformat() == "2025-02-21T21:56:12+00:00" and row["metadata"]["log_level"] == "info"
