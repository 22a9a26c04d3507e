"""Round 28 of the holdout sweep, wire side (samples and sources: tests/cases/wire_holdout/SOURCE.md).

A file of a shipper's documents (Filebeat's or Elastic Agent's output file, Vector's file sink
with the JSON codec, Logstash's ``json_lines``) under ``secpipe ingest --format auto`` or the file
source is read as the wire routes read the same documents (``server.shipped``): the line or record
each wraps with the format that reads it. It was dead-lettered whole ("no format matched", or "not
a Kubernetes audit event": the audit sniff found audit.k8s.io in the escaped ``message``).
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats import _context
from secpipe.sources.files import read_documents

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"
#: elastic/integrations kubernetes audit test log lines (tests/cases/holdout/SOURCE.md)
K8S = (CASES / "holdout" / "elastic-k8s-audit-mixed.log").read_text().splitlines()
#: Filebeat 8.11's filestream document (round 25's captured shape) around auth.log lines
FILEBEAT = (WIRE / "filebeat-filestream-auth.ndjson").read_bytes()


def _read(path: Path) -> tuple[dict[str, list[dict]], list[tuple[str, int]]]:
    """Rows per OCSF class and the dead letters (reason, offset) of one file read with auto-detection."""
    rows: dict[str, list[dict]] = {}
    dead: list[tuple[str, int]] = []
    for doc in read_documents(str(path)):
        if doc.dead is not None:
            dead.append((doc.dead.reason, doc.dead.offset))
            continue
        assert doc.fmt is not None
        dec = _context.decode(doc.fmt, doc.data, doc.source)  # as secpipe ingest: the shipper's context stamped
        dead += [(d.reason, d.offset) for d in dec.dead]
        for b in dec.batches:
            for row in b.to_pylist():
                rows.setdefault(row["class_name"], []).append(row)
    return rows, dead


def test_filebeat_output_file_of_auth_log_lines(tmp_path: Path) -> None:
    path = tmp_path / "filebeat-20231120.ndjson"
    path.write_bytes(FILEBEAT)
    rows, dead = _read(path)
    assert not dead
    auth = rows["Authentication"]
    assert [(r["status"], r["user"]["name"], r["device"]["hostname"]) for r in auth] == [
        ("Success", "vagrant", "localhost"), ("Failure", "test", "localhost")]


def test_filebeat_output_file_of_kubernetes_audit_lines(tmp_path: Path) -> None:
    base = json.loads(FILEBEAT.splitlines()[0])
    docs = [json.dumps({**base, "message": line, "log": {"file": {"path": "/var/log/kube-apiserver/audit.log"}}})
            for line in K8S[:2]]
    assert formats.get("k8s_audit").sniff(docs[0].encode()) == 0  # the escaped apiVersion is no event's
    path = tmp_path / "filebeat.ndjson"
    path.write_text("\n".join(docs) + "\n")
    rows, dead = _read(path)
    assert not dead
    raw = formats.get("k8s_audit").decode("\n".join(K8S[:2]).encode(), "t")
    want = [r["api"]["operation"] for b in raw.batches for r in b.to_pylist()]
    assert [r["api"]["operation"] for r in rows["API Activity"]] == want and len(want) == 2


def test_vector_file_sink_and_journald_documents(tmp_path: Path) -> None:
    # Vector's file event (its docs' Apache access example, host my-host.local) and Elastic Agent's
    # journald documents; the second Vector line (an Elasticsearch log line) no format reads
    path = tmp_path / "mixed.ndjson"
    vector = (WIRE / "vector-file-source-docs.ndjson").read_bytes()
    path.write_bytes(vector + (WIRE / "elastic-agent-journald-auth.ndjson").read_bytes())
    rows, dead = _read(path)
    (http,) = rows["HTTP Activity"]
    assert http["device"]["hostname"] == "my-host.local"
    assert len(rows["Authentication"]) == 4
    assert [off for _why, off in dead] == [vector.index(b"\n") + 1]
    assert dead[0][0].startswith("unrecognized input: no format matched")


def test_fluent_bit_file_output_default_format(tmp_path: Path) -> None:
    # fluent/fluent-bit plugins/out_file/file.c: "%s: [%f, %s]\n" (tag, time, record); a tail
    # input's record {"log": line} keeps the line's newline. One line, no newline at the end
    auth = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()
    path = tmp_path / "tail.0"
    path.write_text("\n".join(f"tail.0: [{1700000000 + i}.000000, {json.dumps({'log': line + chr(10)})}]"
                              for i, line in enumerate(auth[:3])))
    rows, dead = _read(path)
    assert not dead and len(rows["Authentication"]) == 3
    path.write_text(f"tail.0: [1700000000.500000, {json.dumps({'log': auth[0]})}]")
    rows, dead = _read(path)
    assert not dead and len(rows["Authentication"]) == 1


def test_generic_json_with_a_message_is_still_unrecognized_whole(tmp_path: Path) -> None:
    path = tmp_path / "app.ndjson"
    path.write_text('{"level":"info","message":"server started","port":8080}\n' * 3)
    rows, dead = _read(path)
    assert not rows and len(dead) == 1 and dead[0][0].startswith("unrecognized input")


def test_cloudwatch_projection_of_audit_events_is_still_an_audit_stream() -> None:
    # aws logs filter-log-events --query 'events[].{timestamp: timestamp, message: message}'
    head = json.dumps([{"timestamp": 1700000000000, "message": K8S[0]}], indent=4).encode()
    assert formats.get("k8s_audit").sniff(head) == 95
    assert formats.detect(head).name == "k8s_audit"


def test_otlp_json_encoding_as_the_spec_examples_write_it() -> None:
    # opentelemetry-proto examples/logs.json (int64 as numbers, upper-case hex ids) and events.json
    # (int64 as strings, a kvlistValue given as its list of values)
    from secpipe.server.otlp import json_records

    (log,) = json_records((WIRE / "otlp-logs.json").read_bytes())
    assert (log["@timestamp"], log["trace_id"], log["span_id"]) == (
        "2018-12-13T14:51:00.300000Z", "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174")
    assert log["resource"] == {"attributes": {"service.name": "my.service"}}
    assert log["attributes"]["array.attribute"] == ["many", "values"]
    assert log["attributes"]["map.attribute"] == {"some.map.key": "some value"}
    assert log["body"] == {"text": "Example log record"} and log["scope"]["name"] == "my.library"
    (event,) = json_records((WIRE / "otlp-events.json").read_bytes())
    assert event["severity_number"] == 9 and event["@timestamp"] == "2018-12-13T14:51:00.300000Z"
    assert event["body"]["structured"]["type"] == 0 and event["body"]["structured"]["title"] == "Free Online GUID Generator"


def test_otlp_answers() -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    from secpipe.server.otlp import _answer, status

    assert json.loads(_answer([None, "bad", "worse"], proto=False).body) == {
        "partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "bad"}}
    resp = ExportLogsServiceResponse.FromString(bytes(_answer([None, "bad"], proto=True).body))
    assert (resp.partial_success.rejected_log_records, resp.partial_success.error_message) == (1, "bad")
    assert _answer([None], proto=True).body == b""
    # google.rpc.Status {code: 8, message: "too big"} as protoc encodes it
    assert bytes(status(413, "too big", proto=True).body) == b"\x08\x08\x12\x07too big"


def test_tailed_filebeat_output_file(tmp_path: Path) -> None:
    # the file source with format auto tailing Filebeat's output file as it grows (the same path
    # as read_documents: sources.files.shipped_chunk); it dead-lettered every chunk
    from secpipe.runtime.service import Service
    from secpipe.sources.tail import FileSource
    from secpipe.store.query import run

    log = tmp_path / "filebeat" / "filebeat-20231120.ndjson"
    log.parent.mkdir()
    first, second = FILEBEAT.splitlines(keepends=True)
    log.write_bytes(first)
    svc = Service(tmp_path / "data")
    try:
        source = FileSource("fb", [str(log.parent)], "auto", svc, poll_seconds=0.05)
        source.poll()
        with open(log, "ab") as fh:
            fh.write(second)
        source.poll()
        svc.flush()
        _cols, rows = run(svc.data_dir, "SELECT status, user.name, device.hostname FROM authentication ORDER BY status DESC")
        assert [tuple(r) for r in rows] == [("Success", "vagrant", "localhost"), ("Failure", "test", "localhost")]
        _cols, dead = run(svc.data_dir, "SELECT count(*) FROM dead_letter")
        assert dead == [[0]] or dead == [(0,)]
    finally:
        svc.close()


def test_otlp_json_file_of_the_collector_file_exporter(tmp_path: Path) -> None:
    # the Collector's file exporter writes one OTLP JSON request a line (pdata's JSON marshaller);
    # a record without a time takes its observed time; a syslog body is its event, with the
    # resource's host; the file was dead-lettered whole
    line = (WIRE / "otel-pdata-logs.ndjson").read_text().strip()
    auth = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()[0]
    req = json.loads(line)
    req["resourceLogs"][0]["resource"]["attributes"].append({"key": "host.name", "value": {"stringValue": "vm-1"}})
    req["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = [{"timeUnixNano": "1700000000000000000",
                                                             "body": {"stringValue": auth}}]  # fmt: skip
    path = tmp_path / "logs.json"
    path.write_text(line + "\n" + json.dumps(req) + "\n" + "{not json\n")
    rows, dead = _read(path)
    base = rows["Base Event"]
    assert [r["message"] for r in base] == ["Message Body"] * 3
    assert [r["time_dt"].isoformat() for r in base[:2]] == ["2022-01-26T23:44:33.066000+00:00"] * 2
    (login,) = rows["Authentication"]
    assert (login["user"]["name"], login["device"]["hostname"]) == ("vagrant", "localhost")
    assert len(dead) == 1 and dead[0][0].startswith("not an OTLP ExportLogsServiceRequest")
    assert dead[0][1] == len(line) + 1 + len(json.dumps(req)) + 1


def test_tailed_collector_file_exporter_output(tmp_path: Path) -> None:
    # the Collector's file exporter appends a request a line to a file the file source tails
    from secpipe.runtime.service import Service
    from secpipe.sources.tail import FileSource
    from secpipe.store.query import run

    line = (WIRE / "otel-pdata-logs.ndjson").read_text().strip()
    log = tmp_path / "otel" / "logs.json"
    log.parent.mkdir()
    log.write_text(line + "\n")
    svc = Service(tmp_path / "data")
    try:
        source = FileSource("otel", [str(log.parent)], "auto", svc, poll_seconds=0.05)
        source.poll()
        with open(log, "a") as fh:
            fh.write(line.replace("Message Body", "Second Body") + "\n")
        source.poll()
        svc.flush()
        _cols, rows = run(svc.data_dir, "SELECT message, count(*) FROM base_event GROUP BY 1 ORDER BY 1")
        assert [tuple(r) for r in rows] == [("Message Body", 3), ("Second Body", 3)]
    finally:
        svc.close()


def test_array_and_search_answer_of_shipper_documents(tmp_path: Path) -> None:
    # Filebeat's documents as a JSON array (jq -s), printed back to back (its file output with
    # codec.json.pretty: true) and as an Elasticsearch search answer saved from
    # the index Filebeat wrote (the Search API's response shape: took, timed_out, hits.total,
    # hits.hits[]._index/_id/_score/_source); both were dead-lettered whole
    docs = [json.loads(line) for line in FILEBEAT.splitlines()]
    answer = {"took": 3, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
              "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": 1.0,
                       "hits": [{"_index": ".ds-filebeat-8.11.0-2023.11.20-000001", "_id": str(i), "_score": 1.0,
                                 "_source": d} for i, d in enumerate(docs)]}}  # fmt: skip
    pretty = "".join(json.dumps(d, indent=2) + "\n" for d in docs)  # Filebeat's file output, codec.json.pretty
    for name, text in (("array.json", json.dumps(docs, indent=2)), ("search.json", json.dumps(answer, indent=2)),
                       ("pretty.json", pretty)):  # fmt: skip
        path = tmp_path / name
        path.write_text(text)
        rows, dead = _read(path)
        assert not dead and [r["user"]["name"] for r in rows["Authentication"]] == ["vagrant", "test"], name


def test_shipper_document_not_utf8_is_dead_lettered_and_the_rest_goes_on(tmp_path: Path) -> None:
    # A byte that is not UTF-8 in a value the line's reader skips (the shipper's host.ip) crashed the whole
    # ingest run (UnicodeDecodeError out of the host's decode): that document alone is dead-lettered.
    lines = (WIRE / "logstash-syslog-ecs.ndjson").read_bytes().splitlines()
    bad = lines[0].replace(b'"127.0.0.1"', b'"127.0.0\xed\xa0\x80.1"')
    assert bad != lines[0]
    path = tmp_path / "shipped.ndjson"
    path.write_bytes(b"\n".join([bad, *lines[1:]]) + b"\n")
    rows, dead = _read(path)
    assert len(dead) == 1 and dead[0][1] == 0
    assert sum(map(len, rows.values())) == len(lines) - 1
