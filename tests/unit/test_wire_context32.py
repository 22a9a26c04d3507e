"""Wire context, session 32: what a shipper's envelope says is kept with the records it carries.

- OTLP ``POST /v1/logs``: a record whose map body the generic ``json`` format claims (a Zeek log record a
  ``json_parser`` made the body; Okta, Office 365... records alike) was stored without the log record's
  ``attributes``, the resource's and the scope (the document around it was dropped, and no context hint was given
  to it as it is to a specific format's record). Now kept as for any format's record: the resource's host as
  ``device.hostname``, ``log.file.path`` as ``metadata.log_source``, ``attributes``/``resource``/``scope`` in
  ``unmapped``. The record: the first conn.log record of zeek-docs (tests/cases/zeek_tsv/zeek-docs-conn.json), put
  in an OTLP request as the OTLP specification's JSON encoding (kvlistValue, intValue as a string, doubleValue) and
  protobuf have it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson

from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from tests.unit.test_wire_context31 import _post
from tests.unit.test_wire_holdout30 import _rows

CASES = Path(__file__).parents[1] / "cases"
ZEEK = orjson.loads((CASES / "zeek_tsv" / "zeek-docs-conn.json").read_bytes().splitlines()[0])
RESOURCE = {"host.name": "sensor-01", "service.name": "zeek"}
ATTRS = {"log.file.path": "/opt/zeek/logs/current/conn.log", "log.file.name": "conn.log"}
SCOPE = {"name": "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"}


def _any(v: Any) -> dict[str, Any]:
    if isinstance(v, dict):
        return {"kvlistValue": {"values": _kv(v)}}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_any(x) for x in v]}}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}


def _kv(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any(v)} for k, v in d.items()]


def _assert_zeek_in_context(data_dir: Path) -> None:
    (row,) = _rows(data_dir, "network_activity")
    assert row["src_endpoint"]["ip"] == "192.168.4.76" and row["dst_endpoint"]["port"] == 53
    assert row["device"]["hostname"] == "sensor-01"
    assert row["metadata"]["log_source"] == ATTRS["log.file.path"]
    kept = orjson.loads(row["unmapped"])
    assert kept["attributes"] == ATTRS and kept["resource"] == {"attributes": RESOURCE}
    assert kept["scope"]["name"] == SCOPE["name"]
    assert kept["uid"] == ZEEK["uid"]  # the record's own unmapped keys stay


def test_otlp_json_map_body_of_a_claimed_record_keeps_its_envelope(tmp_path: Path) -> None:
    req = {"resourceLogs": [{"resource": {"attributes": _kv(RESOURCE)}, "scopeLogs": [{"scope": SCOPE, "logRecords": [
        {"timeUnixNano": "1591367999305988000", "body": _any(ZEEK), "attributes": _kv(ATTRS)}]}]}]}
    answer = _post(tmp_path, "/v1/logs", orjson.dumps(req), "application/json")
    assert answer.status_code == 200 and answer.json() == {}
    _assert_zeek_in_context(tmp_path)


def test_otlp_protobuf_map_body_of_a_claimed_record_keeps_its_envelope(tmp_path: Path) -> None:
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    req = {"resourceLogs": [{"resource": {"attributes": _kv(RESOURCE)}, "scopeLogs": [{"scope": SCOPE, "logRecords": [
        {"timeUnixNano": "1591367999305988000", "body": _any(ZEEK), "attributes": _kv(ATTRS)}]}]}]}
    body = ParseDict(req, ExportLogsServiceRequest()).SerializeToString()
    answer = _post(tmp_path, "/v1/logs", body, "application/x-protobuf")
    assert answer.status_code == 200
    _assert_zeek_in_context(tmp_path)


# Splunk HEC: an event object that is a Filebeat document (its own host, agent, log.file.path around the line) had its
# context replaced by the envelope's (host, source, index): the line's file, agent and input were lost, and the
# envelope's host named the device of a line that names none. The event's own wins; the envelope fills what it leaves
# out (kept as unmapped.hec). Envelopes as Splunk's HEC docs give them (event, time, host, source, sourcetype, index),
# around round 25's Filebeat 8.11 filestream documents (tests/cases/wire_holdout/filebeat-filestream-auth.ndjson) and
# an Apache access line of elastic/integrations' test-access-basic.log (tests/cases/holdout/SOURCE.md).
FILEBEAT = [orjson.loads(x) for x in (CASES / "wire_holdout" / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()]
ACCESS = (CASES / "holdout" / "elastic-apache-access-basic.log").read_text().splitlines()[1]
META = {"host": "splunk-hf-01", "source": "filebeat", "index": "main"}


def _hec(data_dir: Path, events: list[dict[str, Any]], sourcetype: str = "_json") -> None:
    body = b"".join(orjson.dumps({"event": e, "time": 1700489876.612, "sourcetype": sourcetype, **META}) for e in events)
    answer = _post(data_dir, "/services/collector/event", body, "application/json")
    assert answer.json() == {"text": "Success", "code": 0}


def test_hec_filebeat_event_keeps_its_own_context(tmp_path: Path) -> None:
    _hec(tmp_path, FILEBEAT)
    rows = _rows(tmp_path, "authentication")
    assert [r["user"]["name"] for r in rows] == ["vagrant", "test"]
    for row in rows:
        assert row["metadata"]["log_source"] == "/var/log/auth.log"
        kept = orjson.loads(row["unmapped"])
        assert kept["agent"] == FILEBEAT[0]["agent"] and kept["input"] == {"type": "filestream"}
        assert kept["hec"] == META


def test_hec_filebeat_event_names_its_device(tmp_path: Path) -> None:
    doc = FILEBEAT[0] | {"message": ACCESS, "host": {"name": "web-01"},
                         "log": {"offset": 0, "file": {"path": "/var/log/apache2/access.log"}}}
    unread = FILEBEAT[0] | {"message": "payment worker started", "host": {"name": "web-02"}}
    _hec(tmp_path, [doc, unread])
    (row,) = _rows(tmp_path, "http_activity")
    assert row["device"]["hostname"] == "web-01"  # the line names none: its document's host, not the envelope's
    assert row["metadata"]["log_source"] == "/var/log/apache2/access.log"
    assert orjson.loads(row["unmapped"])["hec"] == META
    (base,) = _rows(tmp_path, "base_event")  # stored whole (the envelope in unmapped): the event's host its device
    assert base["device"]["hostname"] == "web-02" and base["message"] == "payment worker started"


# A Zeek JSON log line a shipper read without parsing it (Filebeat's filestream input: the line as ``message``; the
# Collector's filelog receiver: the body text) was stored whole as a Base Event (the generic format claims Zeek's
# records, so the line was "no specific format's"), and a file of such Filebeat documents was dead-lettered by
# ``secpipe ingest --format auto``. The line is now read as a file of them is (Network Activity), with its
# envelope's context; the document's ECS host.name names the device of a record that names none (type Unknown).
# Documents: the filestream shape of tests/cases/wire_holdout/filebeat-filestream-auth.ndjson around the two conn.log
# records of zeek-docs (tests/cases/zeek_tsv/zeek-docs-conn.json).
ZEEK_LINES = (CASES / "zeek_tsv" / "zeek-docs-conn.json").read_text().splitlines()
CONN_LOG = "/opt/zeek/logs/current/conn.log"
ZEEK_DOCS = [FILEBEAT[0] | {"message": line, "host": {"name": "sensor-01"},
                            "log": {"offset": 0, "file": {"path": CONN_LOG}}} for line in ZEEK_LINES]


def _assert_zeek_rows(rows: list[dict[str, Any]]) -> None:
    assert sorted(r["src_endpoint"]["port"] for r in rows) == [36844, 46378]
    for row in rows:
        assert row["class_uid"] == 4001 and row["metadata"]["log_source"] == CONN_LOG
        assert row["device"]["hostname"] == "sensor-01" and row["device"]["type_id"] == 0
        assert orjson.loads(row["unmapped"])["agent"] == FILEBEAT[0]["agent"]


def test_filebeat_zeek_lines_over_bulk_are_network_activity(tmp_path: Path) -> None:
    body = b"".join(b'{"create":{"_index":"filebeat-8.11.0"}}\n' + orjson.dumps(d) + b"\n" for d in ZEEK_DOCS)
    assert _post(tmp_path, "/_bulk", body, "application/x-ndjson").json()["errors"] is False
    _assert_zeek_rows(_rows(tmp_path, "network_activity"))


def test_filebeat_output_file_of_zeek_lines(tmp_path: Path) -> None:
    from tests.unit.holdout_support import ingest_file

    (tmp_path / "filebeat.ndjson").write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in ZEEK_DOCS))
    dead, rows = ingest_file(tmp_path / "filebeat.ndjson", tmp_path / "data")
    assert not dead
    _assert_zeek_rows(rows)


def test_otlp_text_body_of_a_zeek_line(tmp_path: Path) -> None:
    recs = [{"timeUnixNano": "1591367999305988000", "body": {"stringValue": line},
             "attributes": _kv({"log.file.path": CONN_LOG})} for line in ZEEK_LINES]
    req = {"resourceLogs": [{"resource": {"attributes": _kv({"host.name": "sensor-01"})},
                             "scopeLogs": [{"scope": SCOPE, "logRecords": recs}]}]}
    assert _post(tmp_path, "/v1/logs", orjson.dumps(req), "application/json").json() == {}
    rows = _rows(tmp_path, "network_activity")
    assert sorted(r["src_endpoint"]["port"] for r in rows) == [36844, 46378]
    assert all(r["metadata"]["log_source"] == CONN_LOG and r["device"]["hostname"] == "sensor-01" for r in rows)


# OTLP JSON as senders wrote it before OTLP 0.15 (instrumentationLibraryLogs, instrumentationLibrary, the records as
# ``logs``) and with SeverityNumber by its enum name (proto3's JSON mapping has parsers take names): the request was
# answered 200 and nothing stored (its unknown keys ignored: no scopeLogs, no records). The logs line of the example
# in OpenTelemetry's "JSON serialization" (file storage) document, its ``resourceLogs`` as the request.
OLD_OTLP = (b'{"resourceLogs":[{"resource":{"attributes":[{"key":"resource-attr","value":{"stringValue":'
            b'"resource-attr-val-1"}}]},"instrumentationLibraryLogs":[{"instrumentationLibrary":{},"logs":[{"timeUnixNano":'
            b'"1581452773000000789","severityNumber":"SEVERITY_NUMBER_INFO","severityText":"Info","name":"logA","body":'
            b'{"stringValue":"This is a log message"},"attributes":[{"key":"app","value":{"stringValue":"server"}},{"key":'
            b'"instance_num","value":{"intValue":"1"}}],"droppedAttributesCount":1,"traceId":'
            b'"08040201000000000000000000000000","spanId":"0102040800000000"},{"timeUnixNano":"1581452773000000789",'
            b'"severityNumber":"SEVERITY_NUMBER_INFO","severityText":"Info","name":"logB","body":{"stringValue":'
            b'"something happened"},"attributes":[{"key":"customer","value":{"stringValue":"acme"}},{"key":"env","value":'
            b'{"stringValue":"dev"}}],"droppedAttributesCount":1,"traceId":"","spanId":""}]}]}]}')


def test_otlp_json_of_before_scope_logs(tmp_path: Path) -> None:
    assert _post(tmp_path, "/v1/logs", OLD_OTLP, "application/json").json() == {}
    rows = _rows(tmp_path, "base_event")
    assert sorted(r["message"] for r in rows) == ["This is a log message", "something happened"]
    assert {r["severity_id"] for r in rows} == {1} and {r["time"] for r in rows} == {1581452773000}
    first = orjson.loads(next(r for r in rows if r["message"] == "This is a log message")["unmapped"])
    assert first["attributes"] == {"app": "server", "instance_num": 1} and first["span_id"] == "0102040800000000"
    assert first["severity_number"] == 9


def test_hec_source_file_is_the_log_source(tmp_path: Path) -> None:
    """A HEC ``source`` that is a file path (what Splunk sets for a monitored file) is ``metadata.log_source``; one
    naming an app is not. Lines of elastic/integrations' system auth test log (tests/cases/holdout/SOURCE.md)."""
    lines = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()[1:3]
    body = b"".join(orjson.dumps({"event": line, "time": 1700489876, "host": "web-01", "source": src,
                                  "sourcetype": "linux_secure", "index": "os"})
                    for line, src in zip(lines, ("/var/log/secure", "auth-shipper"), strict=True))  # fmt: skip
    assert _post(tmp_path, "/services/collector/event", body, "application/json").json()["code"] == 0
    rows = _rows(tmp_path, "authentication")
    assert sorted(r["metadata"].get("log_source") or "" for r in rows) == ["", "/var/log/secure"]


def test_fluent_bit_kubernetes_metadata_names_the_device(tmp_path: Path) -> None:
    """Fluent Bit's es output of a container's line, with its kubernetes filter's metadata (the docs' fields: host,
    pod_id, container_name, docker_id, container_image): the kube-apiserver writing its audit log to stdout
    (``--audit-log-path=-``), the line Falco's exec trace (tests/cases/holdout/exec_pod.json). The audit event names
    no device: the node and the apiserver's container are its device."""
    line = (CASES / "holdout" / "exec_pod.json").read_text().strip()
    kube = {"pod_name": "kube-apiserver-node-1", "namespace_name": "kube-system",
            "pod_id": "0b8d3b52-6d7f-4b1a-9a0e-2f9c5d2f1e11", "host": "node-1", "container_name": "kube-apiserver",
            "docker_id": "3f1c2a9e8b7d", "container_image": "registry.k8s.io/kube-apiserver:v1.30.0"}  # fmt: skip
    doc = {"@timestamp": "2018-10-26T13:38:34.902Z", "log": line + "\n", "stream": "stdout", "kubernetes": kube}
    body = b'{"create":{"_index":"logstash-2018.10.26"}}\n' + orjson.dumps(doc) + b"\n"
    assert _post(tmp_path, "/_bulk", body, "application/x-ndjson").json()["errors"] is False
    (row,) = _rows(tmp_path, "api_activity")
    dev = row["device"]
    assert (dev["hostname"], dev["type_id"]) == ("node-1", 0)
    box = dev["container"]
    assert (box["name"], box["uid"], box["pod_uuid"]) == ("kube-apiserver", "3f1c2a9e8b7d", kube["pod_id"])
    assert box["image"]["name"] == kube["container_image"]
    assert orjson.loads(row["unmapped"])["kubernetes"] == kube


def test_hec_raw_query_string_is_the_lines_context(tmp_path: Path) -> None:
    """``/services/collector/raw?host=&source=&sourcetype=&index=`` (Splunk's raw endpoint: the query string is the
    metadata of every line): a file path source is ``metadata.log_source`` and the rest is kept in ``unmapped.hec``, as
    an event envelope's; it was dropped (host aside)."""
    body = "\n".join((CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()[1:3]).encode()
    query = "?host=web-01&source=/var/log/secure&sourcetype=linux_secure&index=os"
    assert _post(tmp_path, "/services/collector/raw" + query, body, "text/plain").json()["code"] == 0
    rows = _rows(tmp_path, "authentication")
    assert len(rows) == 2 and {r["metadata"]["log_source"] for r in rows} == {"/var/log/secure"}
    assert all(orjson.loads(r["unmapped"])["hec"] == {"host": "web-01", "source": "/var/log/secure", "index": "os"}
               for r in rows)  # fmt: skip


# A wrapper bound for a format by its index (ingest.elasticsearch.index_formats) or its HEC sourcetype kept none of its
# context (the auto-detected ones did): a Filebeat document's file, agent and host were dropped once its line or
# record was taken out (the record formats' unwrapping gave the bare record; the mapped _bulk path took no contexts).


def _mapped_bulk(data_dir: Path, index: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    from types import SimpleNamespace

    from secpipe.config.ingest import ElasticsearchIngest, IngestConfig

    svc, tokens = Service(data_dir), TokenStore(data_dir)
    token = tokens.create("fb", "ingest")
    conf = IngestConfig(elasticsearch=ElasticsearchIngest(index_formats={"auth-*": "syslog", "k8s-audit": "k8s_audit"}))
    app = create_app(AppContext(service=svc, tokens=tokens, limits=Limits(), extras={"config": SimpleNamespace(ingest=conf)}))
    body = b"".join(orjson.dumps({"create": {"_index": index}}) + b"\n" + orjson.dumps(d) + b"\n" for d in docs)

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post("/_bulk", content=body, headers={"Authorization": f"Bearer {token}",
                                                                     "Content-Type": "application/x-ndjson"})

    try:
        return asyncio.run(send()).json()
    finally:
        svc.close()


def test_mapped_index_wrappers_keep_their_context(tmp_path: Path) -> None:
    assert _mapped_bulk(tmp_path, "auth-2023.11.20", FILEBEAT)["errors"] is False
    audit = FILEBEAT[0] | {"message": (CASES / "holdout" / "exec_pod.json").read_text().strip(), "host": {"name": "cp-1"},
                           "log": {"offset": 0, "file": {"path": "/var/log/kubernetes/audit.log"}}}  # fmt: skip
    assert _mapped_bulk(tmp_path, "k8s-audit", [audit])["errors"] is False
    for row in _rows(tmp_path, "authentication"):
        assert row["metadata"]["log_source"] == "/var/log/auth.log"
        assert orjson.loads(row["unmapped"])["agent"] == FILEBEAT[0]["agent"]
    (row,) = _rows(tmp_path, "api_activity")
    assert row["metadata"]["log_source"] == "/var/log/kubernetes/audit.log" and row["device"]["hostname"] == "cp-1"


def test_hec_sourcetype_record_keeps_its_wrapper_context(tmp_path: Path) -> None:
    audit = FILEBEAT[0] | {"message": (CASES / "holdout" / "exec_pod.json").read_text().strip(), "host": {"name": "cp-1"},
                           "log": {"offset": 0, "file": {"path": "/var/log/kubernetes/audit.log"}}}  # fmt: skip
    _hec(tmp_path, [audit], "kube:apiserver:audit")
    (row,) = _rows(tmp_path, "api_activity")
    assert row["device"]["hostname"] == "cp-1" and row["metadata"]["log_source"] == "/var/log/kubernetes/audit.log"
    kept = orjson.loads(row["unmapped"])
    assert kept["hec"] == META and kept["agent"] == FILEBEAT[0]["agent"]


def _windows_body(data_list: bool) -> dict[str, Any]:
    """The windowseventlog receiver's log body of Microsoft's 4624 example (tests/cases/evtx_xml/ms-docs-4624.xml),
    built as its ``EventXML.parseBody`` (opentelemetry-collector-contrib pkg/stanza/operator/input/windows/xml.go)
    builds it; ``data_list``: EventData as its later versions give it (``{"data": [{name: value}, ...]}``)."""
    import xml.etree.ElementTree as ET

    ns = {"e": "http://schemas.microsoft.com/win/2004/08/events/event"}
    root = ET.parse(CASES / "evtx_xml" / "ms-docs-4624.xml").getroot()  # noqa: S314 (a test's own sample)
    sys_, data = root.find("e:System", ns), root.findall("e:EventData/e:Data", ns)
    assert sys_ is not None
    text = {k: (sys_.findtext(f"e:{k}", namespaces=ns) or "").strip() for k in ("EventID", "Computer", "Channel",
                                                                                   "Level", "Task", "Opcode")}
    prov, created = sys_.find("e:Provider", ns), sys_.find("e:TimeCreated", ns)
    assert prov is not None and created is not None
    named = {d.get("Name"): (d.text or "").strip() for d in data}
    return {"event_id": {"qualifiers": 0, "id": int(text["EventID"])},
            "provider": {"name": prov.get("Name"), "guid": prov.get("Guid"), "event_source": ""},
            "system_time": created.get("SystemTime"), "computer": text["Computer"], "channel": text["Channel"],
            "record_id": 211, "level": text["Level"], "message": "", "task": text["Task"], "opcode": text["Opcode"],
            "keywords": ["0x8020000000000000"],
            "event_data": {"data": [{k: v} for k, v in named.items()]} if data_list else named}  # fmt: skip


def test_otlp_windows_event_log_receiver_logon(tmp_path: Path) -> None:
    """The Collector's windowseventlog receiver sends each event as a map body: a 4624 logon was a Base Event."""
    recs = [{"timeUnixNano": "1447287875079785200", "body": _any(_windows_body(v))} for v in (False, True)]
    req = {"resourceLogs": [{"resource": {"attributes": _kv({"host.name": "WIN-GG82ULGC9GO"})},
                             "scopeLogs": [{"logRecords": recs}]}]}  # fmt: skip
    assert _post(tmp_path, "/v1/logs", orjson.dumps(req), "application/json").json() == {}
    rows = _rows(tmp_path, "authentication")
    assert len(rows) == 2
    for row in rows:
        assert row["user"]["name"] == "Administrator" and row["src_endpoint"]["ip"] == "127.0.0.1"
        assert row["time"] == 1447287875079 and row["device"]["hostname"] == "WIN-GG82ULGC9GO"
