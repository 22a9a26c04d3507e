"""Round 25 of the holdout sweep, wire side: request bodies real shippers and clients send,
against one real ``secpipe up`` (samples and sources: tests/cases/wire_holdout/SOURCE.md).

- The official Python client's bulk helper, fed the actions of its own documentation: an
  ``_id`` given as a number (``'_id': 42``) goes out as a JSON number, which Elasticsearch's
  bulk parser reads as its text; it failed the whole request (400, a malformed action line).
- Documents a shipper wraps one read line in (Filebeat's ``filestream`` ECS document with the
  line as ``message``, Vector's file source event): the line is stored in the class its format
  maps it to (sshd lines Authentication, access lines HTTP Activity), as HEC stores an event's
  text; they stayed generic Base Events, their line unparsed in ``message``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch, helpers

from tests.integration.wire_server import Server, start

CASES = Path(__file__).parents[1] / "cases" / "wire_holdout"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("wire_holdout25"), "ingest: {elasticsearch: {index_formats: {'auth-*': syslog}}}\n")
    yield srv
    srv.stop()


def _bulk(server: Server, index: str, docs: list[bytes], op: str = "create") -> dict:
    action = json.dumps({op: {"_index": index}}).encode()
    body = b"".join(action + b"\n" + d + b"\n" for d in docs)
    r = httpx.post(f"{server.url}/_bulk", content=body, timeout=60,
                   headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    return r.json()


def test_es_py_bulk_helper_numeric_ids(server: Server) -> None:
    actions = json.loads((CASES / "es-py-helpers-actions.json").read_text())
    es = Elasticsearch(server.url, bearer_auth=server.ingest, request_timeout=60)
    results = list(helpers.streaming_bulk(es, actions, index="index-name", raise_on_error=False))
    (ok0, item0), (ok1, item1), (ok2, item2), (ok3, item3) = results
    assert ok0 and ok1, (item0, item1)
    assert item0["index"]["_id"] == item1["index"]["_id"] == "42"  # ES answers the id as its text
    assert item0["index"]["status"] == 201 and item0["index"]["_index"] == "index-name"
    # delete and update (no upsert) of the same example: the lake is append-only (docs/wire-ingest.md)
    assert not ok2 and item2["delete"]["status"] == 400 and item2["delete"]["_id"] == "42"
    assert not ok3 and item3["update"]["status"] == 400
    # the refused update's body is data the lake did not take: dead-lettered with the reason
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE '%append-only: [update]%'", 1) == 1
    # the same document twice under id 42: one event (the lake drops the duplicate; ES too keeps
    # one document of that id)
    n = server.wait_rows("SELECT count(*) FROM base_event WHERE json_extract_string(unmapped, '$.title') = 'Hello World!'", 1)
    assert n == 1


def test_numeric_and_boolean_action_ids_and_a_bad_one(server: Server) -> None:
    body = (b'{"index":{"_index":"ids","_id":7}}\n{"k":"seven"}\n'
            b'{"create":{"_index":"ids","_id":1.5,"routing":3}}\n{"k":"one and a half"}\n'
            b'{"delete":{"_index":"ids","_id":true}}\n')
    r = httpx.post(f"{server.url}/_bulk", content=body, headers={"Authorization": f"Bearer {server.ingest}",
                   "Content-Type": "application/x-ndjson"}, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [items[0]["index"]["_id"], items[1]["create"]["_id"], items[2]["delete"]["_id"]] == ["7", "1.5", "true"]
    # an object or array is no id: the request is malformed, as ES answers (400, dead-lettered)
    r = httpx.post(f"{server.url}/_bulk", content=b'{"index":{"_index":"ids","_id":[7]}}\n{"k":"x"}\n',
                   headers={"Authorization": f"Bearer {server.ingest}"}, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["type"] == "parse_exception", r.text
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE reason LIKE 'Malformed action%$.index._id%'", 1) == 1


def test_filebeat_filestream_auth_lines_are_authentication(server: Server) -> None:
    docs = (CASES / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()
    answer = _bulk(server, "filebeat-8.11.0", docs)
    assert answer["errors"] is False and [i["create"]["status"] for i in answer["items"]] == [201, 201]
    assert server.wait_rows("SELECT count(*) FROM authentication WHERE src_endpoint.ip = '10.0.2.2'", 2) == 2
    rows = server.query("SELECT user.name, status, message FROM authentication WHERE src_endpoint.ip = '10.0.2.2' "
                        "ORDER BY user.name")  # fmt: skip
    assert rows[0][:2] == ["test", "Failure"] and rows[0][2] == "Invalid user test from 10.0.2.2"
    assert rows[1][:2] == ["vagrant", "Success"] and rows[1][2].startswith("Accepted publickey for vagrant")
    assert server.count("base_event", "message LIKE '%sshd[34%'") == 0


def test_vector_file_source_events(server: Server) -> None:
    docs = (CASES / "vector-file-source-docs.ndjson").read_bytes().splitlines()
    answer = _bulk(server, "vector-2020.10.10", docs, op="index")
    assert answer["errors"] is False
    assert server.wait_rows("SELECT count(*) FROM http_activity WHERE src_endpoint.ip = '53.126.150.246'", 1) == 1
    row = server.query("SELECT http_request.http_method, http_request.url.path, http_response.code, "
                       "strftime(time_dt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') FROM http_activity "
                       "WHERE src_endpoint.ip = '53.126.150.246'")[0]  # fmt: skip
    assert row == ["GET", "/disintermediate", 401, "2020-10-01T15:25:58"]  # 11:25:58 -0400
    # a line no specific format reads stays the generic document, with every field of the event
    n = server.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE '[2015-08-24 11:49:14,389]%'", 1)
    assert n == 1
    kept = server.query("SELECT json_extract_string(unmapped, '$.file') FROM base_event "
                        "WHERE message LIKE '[2015-08-24 11:49:14,389]%'")  # fmt: skip
    assert kept == [["/var/log/elasticsearch.log"]]


def test_fluent_bit_splunk_output_payloads(server: Server) -> None:
    raw, nested, typed = (CASES / "fluent-bit-splunk-payloads.ndjson").read_bytes().splitlines()
    for body in (raw, nested, typed):
        r = httpx.post(f"{server.url}/services/collector/event", content=body, timeout=60,
                       headers={"Authorization": f"Splunk {server.ingest}"})
        assert r.status_code == 200 and r.json() == {"text": "Success", "code": 0}, r.text
    # Splunk_Send_Raw: the envelope is kept, its string time read as epoch seconds
    assert server.wait_rows("SELECT count(*) FROM base_event WHERE device.hostname = 'my-host'", 1) == 1
    row = server.query("SELECT strftime(time_dt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S'), "
                       "json_extract_string(unmapped, '$.index') FROM base_event WHERE device.hostname = 'my-host'")[0]
    assert row == ["2018-09-03T17:17:38", "my-splunk-index"]
    # the default payload of a tail record: {"log": line} under event -> the sshd line, Authentication
    assert server.wait_rows("SELECT count(*) FROM authentication WHERE src_endpoint.ip = '192.168.33.1'", 1) == 1
    row = server.query("SELECT user.name, status FROM authentication WHERE src_endpoint.ip = '192.168.33.1'")[0]
    assert row == ["vagrant", "Success"]
    # the same with a sourcetype naming a text format (linux_secure -> syslog): the line, not the object
    assert server.wait_rows("SELECT count(*) FROM authentication WHERE src_endpoint.ip = '89.160.20.156'", 1) == 1
    row = server.query("SELECT user.name, status FROM authentication WHERE src_endpoint.ip = '89.160.20.156'")[0]
    assert row == ["root", "Failure"]


def test_index_mapped_to_syslog_reads_the_wrapped_line(server: Server) -> None:
    # index_formats names syslog for the index: the format reads the line the document wraps (the
    # port changed so the event is no duplicate of the one test_filebeat_filestream_auth_lines stored)
    doc = (CASES / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()[0].replace(b"63673", b"63674")
    answer = _bulk(server, "auth-2023.11.20", [doc])
    assert answer["errors"] is False
    assert server.wait_rows("SELECT count(*) FROM authentication WHERE message LIKE '%port 63674%'", 1) == 1


def test_fluent_bit_kinesis_firehose_records(server: Server) -> None:
    # Fluent Bit's kinesis_firehose output sends the whole record by default ({"log": line} from a
    # tail input) and the bare line with `log_key log`; Firehose delivers them base64 in the spec's body
    lines = (Path(__file__).parents[1] / "cases" / "holdout" / "elastic-system-auth.log").read_text().splitlines()
    whole, bare = json.dumps({"log": lines[15] + "\n"}).encode(), lines[20].encode()
    body = {"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "timestamp": 1578090901599,
            "records": [{"data": base64.b64encode(d).decode()} for d in (whole, bare)]}
    r = httpx.post(f"{server.url}/v1/firehose", json=body, timeout=60, headers={
        "X-Amz-Firehose-Request-Id": body["requestId"], "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Access-Key": server.ingest})
    assert r.status_code == 200 and r.json()["requestId"] == body["requestId"], r.text
    assert server.wait_rows("SELECT count(*) FROM authentication WHERE message LIKE '%202.109.143.106%'", 2) == 2
    rows = server.query("SELECT status, user.name FROM authentication WHERE message LIKE '%202.109.143.106%' "
                        "ORDER BY message")  # fmt: skip
    assert rows == [["Failure", "root"], ["Failure", "root"]]
