"""Round 26 of the holdout sweep, wire side: request bodies real shippers send, against one
real ``secpipe up`` (samples and sources: tests/cases/wire_holdout/SOURCE.md).

- The OpenTelemetry Collector's ``elasticsearch`` exporter, whose default mapping mode is now
  ``otel``: a log record's text is ``body.text`` and the host is the resource's ``host.name``
  (``Resource.host.name`` in the ``none`` mode). Its own golden documents were Base Events with
  no message and no host; an auth.log line the Collector's filelog receiver read stayed a Base
  Event instead of Authentication.
- Filebeat's and Elastic Agent's ``journald`` input ship a journal entry as ECS fields (``message``
  only the MSG part, ``syslog.identifier``, ``syslog.priority``, ``host.hostname``): it is read as
  the journal entry it is, as the syslog format reads ``journalctl -o json`` (Authentication for
  sshd and sudo); they were Base Events.
- Fluent Bit's ``http`` output (``format json``, the default, and ``json_lines``) posts records
  ``{"date": <epoch>, "log": line}`` to ``/v1/ingest``: ``auto`` refused the whole body (no format
  reads such a record as a file), ``syslog`` stored a Base Event holding the JSON; each record's
  line is now read as on ``_bulk``, a record wrapping none is still refused with the reason.
- Vector's ``splunk_hec_logs`` sink with ``endpoint_target: raw`` and a JSON codec posts its
  events to ``/services/collector/raw`` JSON-encoded and back to back (``logs/encoder.rs``): the
  whole body was one Base Event holding the JSON text; each event is now an event object, as on
  ``/services/collector/event`` (a wrapped line read with its format).
- An index mapped to a format (``ingest.elasticsearch.index_formats``) gets the record a shipper's
  document wraps: a CloudTrail record Elastic Agent's ``aws-s3`` input ships as ``message`` was
  refused 400 (the CloudTrail format read the wrapper); a journald entry bound for ``syslog`` is the
  entry, not its bare MSG (tests/unit/test_wire_shipped26.py).
- Logstash's syslog input with ECS compatibility (the default since Logstash 8) keeps the
  received line whole in ``event.original`` and only its MSG part in ``message``: the line (with
  its PRI, time, host and program) is the record, so an sshd login is Authentication.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.wire_server import Server, start

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("wire_holdout26"),
                "ingest: {elasticsearch: {index_formats: {'logs-aws.cloudtrail-*': cloudtrail, 'auth-*': syslog}}}\n")
    yield srv
    srv.stop()


def _bulk(server: Server, index: str, docs: list[bytes]) -> dict:
    action = json.dumps({"create": {"_index": index}}).encode()
    body = b"".join(action + b"\n" + d + b"\n" for d in docs)
    r = httpx.post(f"{server.url}/_bulk", content=body, timeout=60,
                   headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["errors"] is False and {i["create"]["status"] for i in answer["items"]} == {201}, answer
    return answer


def test_otel_collector_es_exporter_golden_documents(server: Server) -> None:
    otel, none, ecs = (WIRE / "otel-es-exporter-golden-logs.ndjson").read_bytes().splitlines()
    _bulk(server, "logs-generic-default", [otel, none, ecs])
    sql = "SELECT count(*) FROM base_event WHERE unmapped LIKE '%example.com/api/v1/users%'"
    assert server.wait_rows(sql, 3) == 3
    rows = server.query("SELECT message, device.hostname, strftime(time_dt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') "
                        "FROM base_event WHERE unmapped LIKE '%example.com/api/v1/users%'")  # fmt: skip
    # otel mode: body.text and resource.attributes["host.name"]; none mode: Body and
    # "Resource.host.name"; ecs mode: message and host.name. @timestamp "1705314600000.0" is epoch ms
    assert rows == [["Sample log message with important information", "prod-server-01", "2024-01-15T10:30:00"]] * 3


def test_otel_collector_filelog_auth_lines_are_authentication(server: Server) -> None:
    otel, none, _ecs = (WIRE / "otel-es-exporter-golden-logs.ndjson").read_bytes().splitlines()
    auth = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()
    doc_otel, doc_none = json.loads(otel), json.loads(none)
    doc_otel["body"]["text"] = auth[3]  # what the filelog receiver reads is the record's body
    doc_none["Body"] = auth[15]
    _bulk(server, "logs-generic.otel-default", [json.dumps(d).encode() for d in (doc_otel, doc_none)])
    ips = "('89.160.20.156', '202.109.143.106')"
    assert server.wait_rows(f"SELECT count(*) FROM authentication WHERE src_endpoint.ip IN {ips}", 2) == 2
    rows = server.query(f"SELECT src_endpoint.ip, user.name, status, device.hostname FROM authentication "
                        f"WHERE src_endpoint.ip IN {ips} ORDER BY src_endpoint.ip")  # fmt: skip
    # Feb 20 08:35:22 slave22 sshd[5774]: Failed password for root from 89.160.20.156 port 29160 ssh2
    # Feb 22 16:45:20 slave22 sshd[2738]: Failed password for root from 202.109.143.106 port 1786 ssh2
    assert rows == [["202.109.143.106", "root", "Failure", "slave22"], ["89.160.20.156", "root", "Failure", "slave22"]]
    assert server.count("base_event", "message LIKE '%Failed password for root%'") == 0


def test_logstash_syslog_input_ecs_event_original(server: Server) -> None:
    asa, sshd = (WIRE / "logstash-syslog-ecs.ndjson").read_bytes().splitlines()
    _bulk(server, "logs-generic-default", [asa, sshd])
    # the whole line (event.original), not the MSG part Logstash left in message: Authentication
    ip = "192.168.33.1"
    assert server.wait_rows(f"SELECT count(*) FROM authentication WHERE src_endpoint.ip = '{ip}'", 1) == 1
    row = server.query(f"SELECT user.name, status, device.hostname, metadata.product.name FROM authentication "
                       f"WHERE src_endpoint.ip = '{ip}'")[0]  # fmt: skip
    assert row == ["vagrant", "Success", "localhost", "syslog"]
    # the ASA line is the syslog record too (Network Activity since b53fde9): its host and PRI (164:
    # local4.warning) kept; the host is an IP address, so device.ip and no hostname (since 75b9851)
    sql = "SELECT count(*) FROM network_activity WHERE message LIKE 'Deny udp src DRAC%'"
    assert server.wait_rows(sql, 1) == 1
    row = server.query("SELECT device.ip, device.hostname, severity_id, metadata.product.name FROM network_activity "
                       "WHERE message LIKE 'Deny udp src DRAC%'")[0]  # fmt: skip
    assert row == ["1.2.3.4", None, 3, "syslog"]


def test_elastic_agent_journald_documents(server: Server) -> None:
    docs = (WIRE / "elastic-agent-journald-auth.ndjson").read_bytes().splitlines()
    _bulk(server, "logs-system.auth-default", docs)
    # the journal entry (SYSLOG_IDENTIFIER sshd/sudo, PRIORITY, _HOSTNAME, the entry's time) the
    # journald input shipped, read as the syslog format reads journalctl -o json: Authentication
    sql = "SELECT count(*) FROM authentication WHERE device.hostname IN ('vagrant-debian-12', 'bullseye')"
    assert server.wait_rows(sql, 4) == 4
    rows = server.query("SELECT strftime(time_dt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S'), user.name, "
                        "src_endpoint.ip, status, device.hostname, severity_id FROM authentication "
                        "WHERE device.hostname IN ('vagrant-debian-12', 'bullseye') ORDER BY time_dt")  # fmt: skip
    assert rows[:3] == [
        ["2024-09-22T02:54:37", "vagrant", "10.0.2.2", "Success", "vagrant-debian-12", 1],
        ["2024-10-01T14:03:58", "test", "192.168.42.119", "Failure", "vagrant-debian-12", 1],
        ["2024-10-01T14:06:26", "root", "192.168.42.119", "Failure", "vagrant-debian-12", 1],
    ]
    # sudo logs "user NOT in sudoers" at LOG_ALERT (journald PRIORITY 1): Critical
    assert [rows[3][i] for i in (0, 3, 4, 5)] == ["2024-11-04T21:24:41", "Failure", "bullseye", 5]


def test_fluent_bit_http_output_records(server: Server) -> None:
    # fluent/fluent-bit-docs pipeline/outputs/http.md: format json (an array) or json_lines,
    # json_date_key "date" (json_date_format double: epoch seconds), the tail input's key "log"
    auth = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()
    headers = {"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json"}
    array = json.dumps([{"date": 1708894996.5, "log": auth[9]}, {"date": 1708894996.5, "cpu_p": 0.25}]).encode()
    r = httpx.post(f"{server.url}/v1/ingest/auto", content=array, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json() == {"events": 2, "accepted": 1, "dead_letter": 1, "reasons": ["unrecognized input: no format matched"]}
    lines = b"".join(json.dumps({"date": 1708894996.5, "log": auth[i] + "\n"}).encode() + b"\n" for i in (2, 21))
    r = httpx.put(f"{server.url}/v1/ingest/syslog", content=lines, headers=headers, timeout=60)  # http_method PUT
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    # Feb 22 11:47:05 localhost useradd[6995]: new user: name=apache, UID=48, ... (auth[9], the array)
    # Feb 21 21:56:12 localhost sshd[3430]: Invalid user test from 10.0.2.2
    # Feb 22 17:04:51 slave22 sudo:     tsg : TTY=pts/0 ; PWD=/home/tsg ; USER=root ; COMMAND=/bin/cp /var/log/secure .
    sql = ("SELECT count(*) FROM authentication WHERE message LIKE 'Invalid user test from 10.0.2.2%' "
           "OR message LIKE 'tsg : TTY=pts/0 ;%'")  # fmt: skip
    assert server.wait_rows(sql, 2) == 2
    sql = "SELECT count(*) FROM dead_letter WHERE source LIKE 'http:%:auto' AND decode(raw) LIKE '%cpu_p%'"
    assert server.wait_rows(sql, 1) == 1
    sql = "SELECT count(*) FROM dead_letter WHERE source LIKE 'http:%:auto' AND decode(raw) LIKE '%useradd%'"
    assert server.query(sql)[0][0] == 0


def test_falcosidekick_payload_on_es_doc_api_hec_and_webhook(server: Server) -> None:
    # falcosecurity/falcosidekick outputs/client_test.go falcoTestInput (types.FalcoPayload): its
    # elasticsearch output posts it to /<index>-<date>/_doc, its splunk output wraps it as
    # {"event": payload, "sourcetype": "falcosidekick"}, its webhook output posts it as is
    payload = json.loads('{"output":"This is a test from falcosidekick","priority":"Debug","rule":"Test rule", '
                         '"time":"2001-01-01T01:10:00Z","source":"syscalls","output_fields": {"proc.name":'
                         '"falcosidekick", "proc.tty": 1234}, "tags":["test","example"], "hostname":"test-host"}')
    headers = {"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json; charset=utf-8"}
    r = httpx.post(f"{server.url}/falco-2001.01.01/_doc", json={**payload, "uuid": "es-0001"}, headers=headers)
    # the Index API's answer (ES docs-index_): created, 201, no bulk item "status" in it
    assert r.status_code == 201 and r.json()["result"] == "created" and "status" not in r.json(), r.text
    r = httpx.post(f"{server.url}/services/collector/event", headers={"Authorization": f"Splunk {server.ingest}"},
                   json={"event": {**payload, "uuid": "hec-0001"}, "sourcetype": "falcosidekick"})
    assert r.status_code == 200 and r.json() == {"text": "Success", "code": 0}, r.text
    r = httpx.post(f"{server.url}/v1/falco", json={**payload, "uuid": "hook-0001"}, headers=headers)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    sql = "SELECT count(*) FROM detection_finding WHERE finding_info.title = 'Test rule'"
    assert server.wait_rows(sql, 3) == 3
    rows = server.query("SELECT finding_info.uid, severity_id, device.hostname, "
                        "strftime(time_dt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') FROM detection_finding "
                        "WHERE finding_info.title = 'Test rule' ORDER BY finding_info.uid")  # fmt: skip
    assert rows == [[uid, 1, "test-host", "2001-01-01T01:10:00"] for uid in ("es-0001", "hec-0001", "hook-0001")]


def test_vector_hec_raw_endpoint_json_events(server: Server) -> None:
    # vectordotdev/vector src/sinks/splunk_hec/logs/encoder.rs: EndpointTarget::Raw encodes each
    # event with the codec and joins them with nothing between; host/source/sourcetype go in the
    # query string. The events: Vector's file source events of round 25's sample (an Apache line)
    docs = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()
    generic = b'{"file":"/var/log/app.log","host":"my-host.local","message":"app started","source_type":"file"}'
    r = httpx.post(f"{server.url}/services/collector/raw", content=docs[0] + generic,
                   params={"host": "vector-host", "sourcetype": "vector"},
                   headers={"Authorization": f"Splunk {server.ingest}",
                            "X-Splunk-Request-Channel": "3c1f6a5e-9d1c-4b56-9a53-6a1bbd3d5a55"})  # fmt: skip
    assert r.status_code == 200 and r.json()["code"] == 0, r.text
    sql = "SELECT count(*) FROM http_activity WHERE src_endpoint.ip = '53.126.150.246'"
    assert server.wait_rows(sql, 1) == 1
    # an event no format reads: the generic event object with the query string's metadata
    sql = "SELECT count(*) FROM base_event WHERE message = 'app started'"
    assert server.wait_rows(sql, 1) == 1
    row = server.query("SELECT device.hostname, json_extract_string(unmapped, '$.event.file'), "
                       "json_extract_string(unmapped, '$.host') FROM base_event WHERE message = 'app started'")[0]
    # the host the event names itself is its device (session 32: the event's own wins, the envelope's is kept)
    assert row == ["my-host.local", "/var/log/app.log", "vector-host"]


def test_mapped_index_gets_the_wrapped_record(server: Server) -> None:
    # elastic/integrations aws/cloudtrail test-console-login-json.log line 2 (verbatim), as the
    # aws-s3 input ships a CloudTrail log file's record: the record's JSON text as message
    record = (CASES / "wire_holdout" / "elastic-cloudtrail-console-login.log").read_text().strip()
    doc = {"@timestamp": "2014-07-08T17:35:27.000Z", "message": record, "input": {"type": "aws-s3"},
           "log": {"file": {"path": "https://trail-bucket.s3.us-east-2.amazonaws.com/AWSLogs/111122223333/"
                                    "CloudTrail/us-east-2/2014/07/08/x.json.gz"}, "offset": 0}}  # fmt: skip
    _bulk(server, "logs-aws.cloudtrail-default", [json.dumps(doc).encode(), record.encode()])
    sql = "SELECT count(*) FROM authentication WHERE user.name = 'JaneDoe'"
    assert server.wait_rows(sql, 1) == 1  # the wrapper and the bare record: one event (same identity)
    row = server.query("SELECT status, src_endpoint.ip, metadata.product.name FROM authentication "
                       "WHERE user.name = 'JaneDoe'")[0]  # fmt: skip
    assert row == ["Failure", "89.160.20.156", "CloudTrail"]
