"""Kafka source without a broker: a poll's messages decoded, tagged and dead-lettered
(sources/kafka_batch.py), made durable before their offsets are committed (sources/kafka.py,
against an in-memory consumer), replayed from the WAL with their tags, and its config checked.
The real broker runs in tests/integration/test_kafka_broker.py.

Samples: panther-labs/panther-analysis k8s audit test events
(``../shared/data/real/panther-analysis/extracted/k8s_audit.jsonl``), aquasecurity/trivy's
``integration/testdata/alpine-39-high-critical.json.golden`` (``../shared/data/real/trivy``),
and an sshd line as Fluent Bit's tail input ships it (``{"log": line}``).
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from secpipe.config.models import check
from secpipe.runtime.service import Service
from secpipe.sources.files import FileRepeats
from secpipe.sources.kafka import KafkaSource, consumer_config
from secpipe.sources.kafka_batch import NO_FORMAT, WAL_FORMAT, Message, decode_messages, replay
from secpipe.sources.kafka_options import KafkaSourceOptions
from secpipe.store.query import run

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
K8S = (REAL / "panther-analysis" / "extracted" / "k8s_audit.jsonl").read_bytes().splitlines()
TRIVY = (REAL / "trivy" / "alpine-39-high-critical.json.golden").read_bytes()
SSHD = b'{"log": "May  5 10:57:32 web-12 sshd[88]: Accepted password for bob from 10.0.0.1 port 22 ssh2\\n"}'


def _rows(dec: Any) -> list[dict[str, Any]]:
    return [row for b in dec.batches for row in b.to_pylist()]


def _stored(wal: list[Any]) -> list[list[Any]]:
    """The messages a poll's WAL record keeps: [topic, partition, offset, key, timestamp, format, hint, value, headers]."""
    assert [w.format for w in wal] == [WAL_FORMAT]
    return list(msgspec.msgpack.decode(wal[0].body))


def test_each_event_keeps_its_topic_partition_offset_key_and_time() -> None:
    msgs = [Message("k8s-audit", 2, 40 + i, K8S[i], f"node-{i}".encode(), 1731522850000 + i) for i in range(5)]
    dec, wal = decode_messages(msgs, lambda topic: "auto")
    rows = _rows(dec)
    assert dec.events == 5 and not dec.dead and len(rows) == 5
    by_uid = {r["metadata"]["loggers"][0]["event_uid"]: r for r in rows}
    assert sorted(by_uid) == [f"k8s-audit-2@{40 + i}" for i in range(5)]
    for i in range(5):
        row = by_uid[f"k8s-audit-2@{40 + i}"]
        assert json.loads(row["raw_data"]) == json.loads(K8S[i])  # the row of that message, not another's
        assert row["metadata"]["loggers"][0] | {"event_uid": None} == {
            "name": "kafka", "log_provider": "Apache Kafka", "log_name": "k8s-audit", "event_uid": None,
            "logged_time": 1731522850000 + i}  # fmt: skip
        assert row["metadata"]["tags"] == [{"name": "kafka.key", "value": f"node-{i}"}]
    assert wal[0].source == "kafka:k8s-audit/2@40;messages=5"
    assert _stored(wal)[0] == ["k8s-audit", 2, 40, b"node-0", 1731522850000, "k8s_audit", "", K8S[0], None, None]


def test_ndjson_value_shipper_line_report_and_tombstone() -> None:
    msgs = [Message("mixed", 0, 7, b"\n".join(K8S[:3]) + b"\n"),  # NDJSON: three events in one message
            Message("mixed", 0, 8, SSHD),  # Fluent Bit's {"log": line}: read as the sshd line
            Message("mixed", 0, 9, TRIVY),  # a whole scanner report
            Message("mixed", 0, 10, None)]  # a tombstone (compacted topic): no event
    dec, wal = decode_messages(msgs, lambda topic: "auto")
    rows = _rows(dec)
    assert not dec.dead
    k8s = [r for r in rows if r["metadata"]["product"]["name"] == "Kubernetes"]
    assert len(k8s) == 3 and {r["metadata"]["loggers"][0]["event_uid"] for r in k8s} == {"mixed-0@7"}
    auth = [r for r in rows if r["class_uid"] == 3002]
    assert [(a["user"]["name"], a["metadata"]["loggers"][0]["event_uid"]) for a in auth] == [("bob", "mixed-0@8")]
    vulns = [r for r in rows if r["class_uid"] == 2002]
    assert vulns and {v["metadata"]["loggers"][0]["event_uid"] for v in vulns} == {"mixed-0@9"}
    assert all("tags" not in r["metadata"] or r["metadata"]["tags"] is None for r in rows)  # no keys
    assert [(m[2], m[5]) for m in _stored(wal)] == [(7, "k8s_audit"), (8, "syslog"), (9, "trivy")]


def test_bad_messages_are_dead_lettered_with_their_coordinates_and_the_rest_goes_on() -> None:
    msgs = [Message("k8s", 1, 100, K8S[0]),
            Message("k8s", 1, 101, b'{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": '),  # cut short
            Message("k8s", 1, 102, b'{"service": "billing", "msg": "ok"}'),  # JSON no format reads
            Message("k8s", 1, 103, K8S[1])]
    dec, _wal = decode_messages(msgs, lambda topic: "auto")
    assert len(_rows(dec)) == 2 and dec.events == 4
    dead = sorted((d.source, d.offset, d.reason) for d in dec.dead)
    assert [(s, o) for s, o, _r in dead] == [("kafka:k8s/1@101", 101), ("kafka:k8s/1@102", 102)]
    assert dead[1][2] == NO_FORMAT
    named, _ = decode_messages(msgs[1:2], lambda topic: "k8s_audit")  # the topic's format named
    assert [(d.source, d.offset, d.format) for d in named.dead] == [("kafka:k8s/1@101", 101, "k8s_audit")]
    assert "JSON" in named.dead[0].reason


def test_a_poll_record_replays_to_the_same_events() -> None:
    msgs = [Message("logs.prod_eu-1", 3, 12, b"\n".join(K8S[:3]), b"host;key=1 \xc3\xa9\xff", 1700000000123),
            Message("logs.prod_eu-1", 3, 13, SSHD), Message("logs.prod_eu-1", 4, 2, TRIVY),
            Message("logs.prod_eu-1", 4, 3, b'{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": ')]  # fmt: skip
    dec, wal = decode_messages(msgs, lambda topic: "auto", FileRepeats())
    again = replay(wal[0].body)
    def key(r: dict[str, Any]) -> tuple[Any, ...]:  # (not time: some events take the receipt time)
        return r["class_uid"], r["metadata"]["uid"], r["metadata"]["loggers"], r["metadata"].get("tags"), r["raw_data"]

    assert len(_rows(dec)) == 6 and [key(r) for r in _rows(again)] == [key(r) for r in _rows(dec)]
    assert [(d.source, d.offset, d.reason) for d in again.dead] == [(d.source, d.offset, d.reason) for d in dec.dead]


def test_replay_after_a_crash_tags_the_events_again(tmp_path: Path) -> None:
    msgs = [Message("k8s", 0, i, K8S[i], b"k", 1731522850000) for i in range(3)]
    first = Service(tmp_path)
    first.accept_many(*reversed(decode_messages(msgs, lambda t: "auto")))  # in the WAL, not in the lake
    first.wal.close()  # the process dies here: nothing committed
    again = Service(tmp_path)
    assert again.replayed == 1  # the poll: one record
    again.close()
    _cols, rows = run(tmp_path, "SELECT metadata.loggers[1].event_uid, metadata.tags[1].value FROM api_activity ORDER BY 1")
    assert rows == [("k8s-0@0", "k"), ("k8s-0@1", "k"), ("k8s-0@2", "k")]


class _Msg:
    def __init__(self, m: Message) -> None:
        self.m = m

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self.m.topic

    def partition(self) -> int:
        return self.m.partition

    def offset(self) -> int:
        return self.m.offset

    def value(self) -> bytes | None:
        return self.m.value

    def key(self) -> bytes | None:
        return self.m.key

    def headers(self) -> list[tuple[str, bytes | None]] | None:
        return self.m.headers

    def timestamp(self) -> tuple[int, int]:
        return (1, self.m.timestamp_ms or 0)


class _Consumer:
    """In memory: what a confluent_kafka.Consumer is asked (no broker in unit tests)."""

    def __init__(self, batches: list[list[Message]]) -> None:
        self.batches = batches
        self.commits: list[list[tuple[str, int, int]]] = []

    def consume(self, num_messages: int, timeout: float) -> list[_Msg]:
        return [_Msg(m) for m in self.batches.pop(0)] if self.batches else []

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        assert asynchronous is False
        self.commits.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])


class _Cpu:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _Service:
    """Accepts after ``fail`` refusals (disk full); records when it did, for the commit order."""

    def __init__(self, fail: int, consumer: _Consumer) -> None:
        self.fail, self.consumer = fail, consumer
        self.cpu = _Cpu()
        self.stored: list[int] = []

    def accept_many(self, wal: list[Any], decoded: Any) -> None:
        if self.fail:
            self.fail -= 1
            raise OSError(28, "No space left on device")
        self.stored.append(len(self.consumer.commits))  # commits made before this store


def _source(consumer: _Consumer, service: Any) -> KafkaSource:
    opts = KafkaSourceOptions(brokers="127.0.0.1:9092", topics=["k8s"])
    src = KafkaSource("bus", opts, service, consumer=lambda conf: consumer)
    src._consumer = consumer
    return src


def test_offsets_are_committed_only_after_the_batch_is_durable() -> None:
    batch = [Message("k8s", 0, 5, K8S[0]), Message("k8s", 1, 9, K8S[1]), Message("k8s", 0, 6, K8S[2])]
    consumer = _Consumer([batch])
    service = _Service(fail=2, consumer=consumer)
    src = _source(consumer, service)
    src._stop.wait = lambda timeout: False  # type: ignore[method-assign]  # no real pause between retries
    assert src.poll_once() == 3
    assert service.stored == [0]  # stored (after two refusals) before any commit
    assert consumer.commits == [[("k8s", 0, 7), ("k8s", 1, 10)]]  # the offset after each partition's last


def test_a_store_still_refused_at_stop_commits_nothing() -> None:
    consumer = _Consumer([[Message("k8s", 0, 5, K8S[0])]])
    service = _Service(fail=10, consumer=consumer)
    src = _source(consumer, service)
    src._stop.set()
    with pytest.raises(OSError):
        src.poll_once()
    assert consumer.commits == []


def test_config() -> None:
    ok = {"sources": {"bus": {"type": "kafka", "brokers": "k1:9093", "topics": ["falco", "^ci-.*"],
                              "topic_formats": {"falco": "falco"},
                              "client": {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512"}}}}
    cfg, errors = check(ok)
    assert not errors and cfg is not None
    bad = {"sources": {"bus": {"type": "kafka", "brokers": "k1:9093", "topics": [],
                               "client": {"enable.auto.commit": True}}}}
    _cfg, errors = check(bad)
    text = " | ".join(str(e) for e in errors)
    assert "sources.bus.topics" in text and "sources.bus.client" in text and "enable.auto.commit" in text
    conf = consumer_config(KafkaSourceOptions.model_validate(ok["sources"]["bus"]))
    assert conf["security.protocol"] == "SASL_SSL" and conf["enable.auto.commit"] is False
    assert conf["bootstrap.servers"] == "k1:9093" and conf["group.id"] == "secpipe"
    assert conf["logger"].name == "secpipe.sources.kafka"  # librdkafka's lines through logging, not stderr
    with pytest.raises(Exception, match="no_such_format"):
        KafkaSource("bus", KafkaSourceOptions(brokers="k", topics=["t"], format="no_such_format"), None,
                    consumer=lambda conf: None)  # fmt: skip


def test_kafka_connect_json_converter_envelopes_are_read_as_their_payload() -> None:
    """Kafka Connect's JsonConverter (schemas.enable=true, its default) wraps each record as
    ``{"schema": ..., "payload": ...}`` (apache/kafka connect/json JsonConverterTest.java:
    stringToConnect, nullSchemaPrimitiveToConnect, bytesToConnect); a FileStreamSource connector
    tailing auth.log writes each line as a string payload of schema {"type":"string","optional":false}."""
    line = "May  5 10:57:32 web-12 sshd[88]: Accepted password for bob from 10.0.0.1 port 22 ssh2"
    string = json.dumps({"schema": {"type": "string", "optional": False}, "payload": line}).encode()
    struct = b'{ "schema": null, "payload": ' + K8S[0] + b" }"
    raw = json.dumps({"schema": {"type": "bytes"}, "payload": base64.b64encode(K8S[1]).decode()}).encode()
    empty = b'{ "schema": { "type": "boolean", "optional": true }, "payload": null }'
    msgs = [Message("connect", 0, 1, string), Message("connect", 0, 2, struct), Message("connect", 0, 3, raw),
            Message("connect", 0, 4, empty)]  # fmt: skip
    dec, wal = decode_messages(msgs, lambda topic: "auto")
    rows = _rows(dec)
    assert not dec.dead and dec.events == 3
    assert [(r["user"]["name"], r["metadata"]["loggers"][0]["event_uid"]) for r in rows if r["class_uid"] == 3002] == [
        ("bob", "connect-0@1")]  # fmt: skip
    k8s = sorted(r["metadata"]["loggers"][0]["event_uid"] for r in rows if r["class_uid"] == 6003)
    assert k8s == ["connect-0@2", "connect-0@3"]
    assert [m[7] for m in _stored(wal)] == [line.encode(), K8S[0], K8S[1]]  # replay reads the payloads as stored


def test_gzip_values_are_inflated_and_a_corrupt_one_dead_lettered() -> None:
    """A CloudWatch Logs subscription delivers its DATA_MESSAGE envelopes gzip-compressed (AWS
    CloudWatch Logs docs, "Using CloudWatch Logs subscription filters"); relayed to Kafka as
    they are (a Kinesis source connector), each is a gzip value. The envelope here holds two
    real EKS audit Events (tests/cases/holdout/eks_audit_cloudwatch_envelopes.jsonl)."""
    envelope = (Path(__file__).parent.parent / "cases" / "holdout" / "eks_audit_cloudwatch_envelopes.jsonl").read_bytes()
    data = envelope.splitlines()[1]
    msgs = [Message("cwl", 0, 1, gzip.compress(data)), Message("cwl", 0, 2, gzip.compress(data)[:-9])]
    dec, wal = decode_messages(msgs, lambda topic: "auto")
    rows = _rows(dec)
    assert len(rows) == 2 and {r["metadata"]["loggers"][0]["event_uid"] for r in rows} == {"cwl-0@1"}
    assert [(d.source, d.offset, d.format) for d in dec.dead] == [("kafka:cwl/0@2", 2, "gzip")]
    assert dec.dead[0].reason.startswith("gzip value could not be inflated") and dec.events == 3
    assert [m[7] for m in _stored(wal)] == [data]


def test_syslog_lines_repeated_in_other_messages_stay_distinct_and_replay_alike(tmp_path: Path) -> None:
    """A line repeated verbatim (same second, same text: loghub's OpenSSH sample has runs of
    them) in later messages and polls is one more event, as in a tailed file; each copy is
    tagged with its own message, and a WAL replay of the messages one by one gives the same
    metadata.uid to each (so a crash neither loses nor duplicates them)."""
    lines = (Path(__file__).parent.parent / "cases" / "holdout" / "loghub_OpenSSH_head.log").read_bytes().splitlines()
    one, two = lines[0], lines[1]
    polls = [[Message("ssh", 0, 1, one), Message("ssh", 0, 2, one), Message("ssh", 1, 3, one + b"\n" + two)],
             [Message("ssh", 0, 4, one), Message("ssh", 0, 5, two + b"\n" + two + b"\n" + one)]]  # fmt: skip
    repeats = FileRepeats(1 << 14)
    first = Service(tmp_path)
    seen = []
    for poll in polls:
        dec, wal = decode_messages(poll, lambda t: "syslog", repeats)
        seen += [(r["metadata"]["uid"], r["metadata"]["loggers"][0]["event_uid"]) for r in _rows(dec)]
        first.accept_many(wal, dec)
    first.wal.close()  # a crash: the lake has nothing yet
    assert len(seen) == len({uid for uid, _m in seen}) == 8
    assert sorted(m for _u, m in seen) == ["ssh-0@1", "ssh-0@2", "ssh-0@4", "ssh-0@5", "ssh-0@5", "ssh-0@5", "ssh-1@3",
                                           "ssh-1@3"]  # fmt: skip
    again = Service(tmp_path)
    assert again.replayed == 2
    again.close()
    stored = []
    for cls in sorted(p.name for p in (tmp_path / "lake").iterdir()):
        stored += run(tmp_path, f"SELECT metadata.uid, metadata.loggers[1].event_uid FROM {cls}")[1]
    assert sorted(stored) == sorted(seen)



def test_a_poll_whose_decoding_raises_is_dead_lettered_and_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decoder bug must not stop the partition at that poll forever (read again at each start)."""
    import secpipe.sources.kafka as kafka_module

    def broken(*args: Any) -> None:
        msg = "mapping bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(kafka_module, "decode_messages", broken)
    batch = [Message("k8s", 0, 5, K8S[0]), Message("k8s", 0, 6, None)]
    consumer = _Consumer([batch])
    got: list[Any] = []
    service = _Service(fail=0, consumer=consumer)
    service.accept_many = lambda wal, decoded: got.append((wal, decoded))  # type: ignore[method-assign]
    assert _source(consumer, service).poll_once() == 2
    (wal, decoded), = got
    assert wal == [] and [(d.source, d.offset, d.raw, d.reason) for d in decoded.dead] == [
        ("kafka:k8s/0@5", 5, K8S[0], "decoder error: RuntimeError: mapping bug")]  # fmt: skip
    assert consumer.commits == [[("k8s", 0, 7)]]


def test_vector_native_json_log_events_are_read_as_their_fields() -> None:
    """Vector's kafka sink with encoding.codec = "native_json" (Vector to Vector through Kafka)
    writes each log event in Vector's data model, ``{"log": {...}}`` (vector.dev, "Log events"):
    its message is the line the file source read."""
    event = {"log": {"file": "/var/log/auth.log", "host": "web-12", "source_type": "file",
                     "message": "May  5 10:57:32 web-12 sshd[88]: Accepted password for bob from 10.0.0.1 port 22 ssh2",
                     "timestamp": "2024-05-05T10:57:32Z"}}  # fmt: skip
    other = b'{"log": {"a": 1}, "level": "info"}'  # another key beside log: not Vector's native event
    dec, _wal = decode_messages([Message("vec", 0, 1, json.dumps(event).encode()), Message("vec", 0, 2, other)],
                                lambda topic: "auto")  # fmt: skip
    assert [(r["class_uid"], r["user"]["name"]) for r in _rows(dec)] == [(3002, "bob")]
    assert [(d.offset, d.reason) for d in dec.dead] == [(2, NO_FORMAT)]
