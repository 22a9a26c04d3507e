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
