"""The kafka source against a real Apache Kafka 4.1 broker (KRaft, one node: kafka/broker.py),
fed by confluent-kafka's Producer, run inside `secpipe up`.

- real samples on three topics (the audit one named k8s_audit, the others auto-detected):
  panther-labs/panther-analysis k8s audit events one a message with keys, the same as one NDJSON
  message, aquasecurity/trivy's alpine-39 report, a Fluent Bit-wrapped sshd line, and two bad
  messages -> the lake and the dead-letter store;
- `secpipe ingest --kafka` reads a topic to its end and a second run of its group reads only what
  came since; no reachable broker is exit 2;
- producer-compressed batches (lz4, zstd) read as any other;
- a SASL/PLAIN login from the client properties, its password from the environment, and TLS
  verified with the CA they name;
- `secpipe up` killed (SIGKILL) mid-stream and started again: the lake holds exactly the events
  a file ingest of the same CloudTrail records stores (no loss, no duplicates); a clean restart
  then reads nothing again (the group's committed offsets are at the end of the topic).

Marked slow (make test-slow). Without Java or the broker's jars it is skipped with the reason,
except in CI (CI=true), where it fails: .ci/system-deps fetches the jars.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import cli, ingest
from tests.integration import wire_server
from tests.integration.kafka import broker as kafka_broker

pytestmark = pytest.mark.slow

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
K8S = (REAL / "panther-analysis" / "extracted" / "k8s_audit.jsonl").read_bytes().splitlines()
CLOUDTRAIL = REAL / "panther-analysis" / "extracted" / "cloudtrail.json"
TRIVY = (REAL / "trivy" / "alpine-39-high-critical.json.golden").read_bytes()
SSHD = b'{"log": "May  5 10:57:32 web-12 sshd[88]: Accepted password for bob from 10.0.0.1 port 22 ssh2\\n"}'


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kafka_broker.Broker]:
    reason = kafka_broker.unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Kafka broker in CI: {reason}")
        pytest.skip(reason)
    b = kafka_broker.start(tmp_path_factory.mktemp("kafka"))
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def bootstrap(kafka: kafka_broker.Broker) -> str:
    return kafka.bootstrap


def _produce(bootstrap: str, topic: str, values: list[bytes], keys: list[bytes | None] | None = None,
             compression: str = "none") -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                  "compression.type": compression})  # fmt: skip
    for i, v in enumerate(values):
        p.produce(topic, value=v, key=keys[i] if keys else None)
        p.poll(0)
    assert p.flush(30) == 0


def _config(bootstrap: str, topics: list[str], group: str, topic_formats: str = "{}") -> str:
    return ("sinks: {lake: {type: lake, max_seconds: 0.3}}\n"
            f"sources:\n  bus: {{type: kafka, brokers: '{bootstrap}', topics: {json.dumps(topics)}, group_id: {group},"
            f" topic_formats: {topic_formats}, batch_max_messages: 40, batch_max_seconds: 0.2}}\n")  # fmt: skip


def _committed(bootstrap: str, group: str, topic: str) -> tuple[int, int]:
    """(the group's committed offset, the end of the topic) of partition 0."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
        _low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        return got, high
    finally:
        c.close()


def _count(srv: Any, sql: str) -> int:
    rows = srv.query(sql)
    return int(rows[0][0])


def test_secpipe_up_consumes_real_samples_and_dead_letters_bad_messages(tmp_path: Path, bootstrap: str) -> None:
    _produce(bootstrap, "k8s-audit", K8S[:20], [f"node-{i}".encode() for i in range(20)])
    _produce(bootstrap, "k8s-audit", [b"\n".join(K8S[20:25]),  # NDJSON: five events in one message
                                      b'{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": '])  # cut short
    _produce(bootstrap, "scans", [TRIVY, b'{"service": "billing", "msg": "ok"}'], compression="lz4")
    _produce(bootstrap, "edge", [SSHD], compression="zstd")  # batches compressed by the producer
    # the audit topic's format named (some of Panther's test events are too sparse to be told
    # apart alone: no apiVersion, no auditID); the others auto-detected per message
    cfg = _config(bootstrap, ["k8s-audit", "scans", "edge"], "it-samples", "{k8s-audit: k8s_audit}")
    srv = wire_server.start(tmp_path, cfg)
    try:
        assert srv.wait_rows("SELECT count(*) FROM api_activity", 25) == 25
        assert srv.wait_rows("SELECT count(*) FROM dead_letter", 2) == 2
        assert srv.wait_rows("SELECT count(*) FROM authentication", 1) == 1
        vulns = srv.wait_rows("SELECT count(*) FROM vulnerability_finding", 1)
        assert vulns >= 1
        keyed = srv.query("SELECT metadata.loggers[1].log_name, metadata.loggers[1].event_uid, metadata.tags[1].value "
                          "FROM api_activity WHERE metadata.tags IS NOT NULL ORDER BY metadata.loggers[1].event_uid")
        assert sorted(keyed, key=lambda r: int(r[1].rsplit("@", 1)[1])) == [
            ["k8s-audit", f"k8s-audit-0@{i}", f"node-{i}"] for i in range(20)]  # fmt: skip
        assert _count(srv, "SELECT count(*) FROM api_activity WHERE metadata.loggers[1].event_uid = 'k8s-audit-0@20'") == 5
        assert srv.query("SELECT user.name, metadata.loggers[1].event_uid FROM authentication") == [["bob", "edge-0@0"]]
        dead = sorted(srv.query('SELECT source, "offset", reason FROM dead_letter'))
        assert [d[:2] for d in dead] == [["kafka:k8s-audit/0@21", 21], ["kafka:scans/0@1", 1]]
        assert "JSON" in dead[0][2] and dead[1][2].startswith("unrecognized input: no format matched")
        metrics = httpx.get(f"{srv.url}/v1/metrics", headers={"Authorization": f"Bearer {srv.admin}"}, timeout=10).text
        assert 'secpipe_kafka_messages_total{source="bus"} 25.0' in metrics, metrics
        assert 'secpipe_kafka_running{source="bus"} 1.0' in metrics
    finally:
        srv.stop()
    assert srv.proc.returncode == 0, srv.log.read_text()[-3000:]
    for topic in ("k8s-audit", "scans", "edge"):
        got, end = _committed(bootstrap, "it-samples", topic)
        assert got == end, (topic, got, end)


def test_kill_mid_stream_and_restart_loses_nothing_and_stores_nothing_twice(tmp_path: Path, bootstrap: str) -> None:
    records = json.loads(CLOUDTRAIL.read_bytes())["Records"]
    values = [json.dumps(r).encode() for r in records]
    want = ingest(tmp_path / "ref", CLOUDTRAIL)["stored"]  # what a file ingest of the same records stores
    data = tmp_path / "data"
    cfg = _config(bootstrap, ["cloudtrail"], "it-restart")
    half = len(values) // 2
    _produce(bootstrap, "cloudtrail", values[:half])
    srv = wire_server.start(tmp_path, cfg, data=data)
    try:
        deadline = time.monotonic() + 60
        while _committed(bootstrap, "it-restart", "cloudtrail")[0] <= 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        _produce(bootstrap, "cloudtrail", values[half:])
        srv.proc.send_signal(signal.SIGKILL)  # mid-stream: offsets committed for part, the lake not yet committed
        srv.proc.wait(10)
        got, end = _committed(bootstrap, "it-restart", "cloudtrail")
        assert 0 < got and end == len(values)
    finally:
        srv.stop()
    srv = wire_server.start(tmp_path, cfg, data=data)  # replays the WAL, resumes at the committed offsets
    try:
        total = sum(want.values())
        classes = sorted(want)
        count = " + ".join(f"(SELECT count(*) FROM {c})" for c in classes)
        assert srv.wait_rows(f"SELECT {count}", total) == total
        time.sleep(1.0)  # anything read twice would be committed by now (the lake commits every 0.3 s)
        stored = {c: _count(srv, f"SELECT count(*) FROM {c}") for c in classes}
        distinct = {c: _count(srv, f"SELECT count(DISTINCT metadata.uid) FROM {c}") for c in classes}
        untagged = sum(_count(srv, f"SELECT count(*) FROM {c} WHERE metadata.loggers IS NULL") for c in classes)
    finally:
        srv.stop()
    assert stored == want and distinct == want, srv.log.read_text()[-3000:]
    assert untagged == 0
    assert _committed(bootstrap, "it-restart", "cloudtrail") == (len(values), len(values))
    srv = wire_server.start(tmp_path, cfg, data=data)  # a clean restart reads nothing again
    try:
        time.sleep(3.0)
        again = {c: _count(srv, f"SELECT count(*) FROM {c}") for c in classes}
    finally:
        srv.stop()
    assert again == want


def _ingest_kafka(data: Path, bootstrap: str, *args: str) -> tuple[int, dict[str, Any]]:
    pr = cli("ingest", "--kafka", bootstrap, "--data", str(data), "--json", "--idle", "20", *args, check=False)
    return pr.returncode, (json.loads(pr.stdout) if pr.stdout.strip() else {"stderr": pr.stderr})


def test_ingest_kafka_reads_to_the_end_and_a_second_run_only_what_came_since(tmp_path: Path, bootstrap: str) -> None:
    data = tmp_path / "data"
    args = ("--topic", "cli-audit=k8s_audit", "--group", "it-cli")
    _produce(bootstrap, "cli-audit", K8S[30:60])
    code, first = _ingest_kafka(data, bootstrap, *args)
    assert code == 0 and first["messages"] == first["events"] == 30, first
    assert sum(first["stored"].values()) + first["duplicates"] == 30 and first["dead_letter"] == 0
    assert first["seconds"] < 20  # ended at the topic's end, not after --idle
    code, again = _ingest_kafka(data, bootstrap, *args)
    assert code == 0 and again["messages"] == again["events"] == 0, again
    _produce(bootstrap, "cli-audit", [K8S[60], b'{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": '])
    code, third = _ingest_kafka(data, bootstrap, *args)
    assert code == 3 and third["messages"] == 2 and third["dead_letter"] == 1, third
    dead = json.loads(cli("query", "--data", str(data), "--format", "json",
                          'SELECT source, "offset" FROM dead_letter').stdout)  # fmt: skip
    assert dead == [{"source": "kafka:cli-audit/0@31", "offset": 31}]
    pr = cli("ingest", "--kafka", f"127.0.0.1:{kafka_broker.free_port()}", "--topic", "x", "--idle", "2",
             "--data", str(tmp_path / "none"), check=False)  # fmt: skip
    assert pr.returncode == 2 and "no partition of x was assigned" in pr.stderr, pr.stderr


def test_sasl_login_from_client_properties(tmp_path: Path, kafka: kafka_broker.Broker,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """SASL/PLAIN over the broker's SASL_PLAINTEXT listener, the password from the environment
    (``${KAFKA_PASSWORD}`` in the config); a wrong one stores nothing and says why in the log."""
    _produce(kafka.bootstrap, "sasl-audit", K8S[70:75])
    cfg = ("sinks: {lake: {type: lake, max_seconds: 0.3}}\nsources:\n"
           f"  bus: {{type: kafka, brokers: '{kafka.sasl_bootstrap}', topics: [sasl-audit], group_id: it-sasl,"
           " topic_formats: {sasl-audit: k8s_audit}, batch_max_seconds: 0.2, client: {security.protocol: SASL_PLAINTEXT,"
           " sasl.mechanism: PLAIN, sasl.username: secpipe, sasl.password: '${KAFKA_PASSWORD}'}}\n")  # fmt: skip
    monkeypatch.setenv("KAFKA_PASSWORD", "not-" + kafka.password)
    srv = wire_server.start(tmp_path / "refused", cfg)
    try:
        deadline = time.monotonic() + 30
        while "sasl authentication error" not in srv.log.read_text().lower() and time.monotonic() < deadline:
            time.sleep(0.2)
        stored = srv.query("SELECT count(*) FROM dead_letter")[0][0] if (srv.data / "dlq").exists() else 0
    finally:
        srv.stop()
    assert "sasl authentication error" in srv.log.read_text().lower(), srv.log.read_text()[-2000:]
    assert stored == 0 and not (srv.data / "lake" / "api_activity").exists()
    monkeypatch.setenv("KAFKA_PASSWORD", kafka.password)
    srv = wire_server.start(tmp_path / "allowed", cfg)
    try:
        assert srv.wait_rows("SELECT count(*) FROM api_activity", 5) == 5
    finally:
        srv.stop()


def test_tls_verified_with_the_ca_from_client_properties(tmp_path: Path, kafka: kafka_broker.Broker) -> None:
    """An SSL listener (a self-signed certificate for 127.0.0.1): the source verifies it with
    ``ssl.ca.location``; without that CA the handshake fails, nothing is stored, the log says why."""
    _produce(kafka.bootstrap, "tls-audit", K8S[80:84])

    def cfg(client: str) -> str:
        return ("sinks: {lake: {type: lake, max_seconds: 0.3}}\nsources:\n"
                f"  bus: {{type: kafka, brokers: '{kafka.tls_bootstrap}', topics: [tls-audit], group_id: it-tls,"
                f" topic_formats: {{tls-audit: k8s_audit}}, batch_max_seconds: 0.2, client: {client}}}\n")  # fmt: skip

    srv = wire_server.start(tmp_path / "unverified", cfg("{security.protocol: SSL}"))
    try:
        deadline = time.monotonic() + 30
        while "certificate verify failed" not in srv.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        srv.stop()
    assert "certificate verify failed" in srv.log.read_text(), srv.log.read_text()[-2000:]
    assert not (srv.data / "lake" / "api_activity").exists()
    srv = wire_server.start(tmp_path / "verified", cfg(f"{{security.protocol: SSL, ssl.ca.location: '{kafka.ca}'}}"))
    try:
        assert srv.wait_rows("SELECT count(*) FROM api_activity", 4) == 4
    finally:
        srv.stop()
