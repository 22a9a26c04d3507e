"""The exact requests real shippers make, replayed against a real `secpipe up` on loopback.

Filebeat, Logstash, Fluent Bit and Vector do not install here (no Debian, PyPI or npm
package: ``apt-cache policy filebeat logstash fluent-bit vector`` finds none), so each test
sends, byte for byte where it matters, what that client's source sends, and then judges the
answer with that client's own rules for accepted / retried / dropped. Sources read:

- Filebeat (libbeat ``outputs/elasticsearch/client.go``): ``publishEvents`` posts ``/_bulk``
  with ``filter_path=errors,items.*.error,items.*.status``; ``bulkCollectPublishFails`` reads
  ``items`` in order: status < 300 acked, 409 duplicate, other 4xx (not 429) dropped as
  non-indexable, 429 and 5xx retried. ``esleg/eslegclient/connection.go``: Basic auth whenever
  username or password is set, ``Accept: application/json``, ``Ping`` = ``GET /`` reading
  ``version.number``; ``createEventBulkMeta``: ``create`` actions for ES >= 7.5.
- Logstash (``logstash-output-elasticsearch``): ``HEAD /`` health check, ``GET /`` with the
  ``X-Elastic-Product: Elasticsearch`` check for ES >= 7.14, ``GET /_license`` (status
  ``active``), bulk with gzip (compression_level 1 by default) and the same ``filter_path``;
  per item 200/201 ok, 409 conflict, 400/404 dead-letter queue, others retried. ILM rollover
  mode: ``HEAD /_ilm/policy/<p>``, ``HEAD /<alias>``, ``PUT /<logstash-{now/d}-000001>``.
- Fluent Bit (``plugins/out_es/es_conf.c``): URI ``<path>/_bulk`` or
  ``<path>/_bulk/?pipeline=<p>``; ``Content-Type: application/x-ndjson``, Basic from
  ``HTTP_User``/``HTTP_Passwd``; action ``{"create":{"_index":..,"_type":"_doc"}}`` unless
  ``Suppress_Type_Name``; ``es.c``: status != 200 retries, and a response cut by
  ``Buffer_Size`` counts as success only if it holds ``"errors":false,"items":[``.
- Vector (``src/sinks/elasticsearch/common.rs``): ``GET /`` for ``version.number`` (api_version
  auto), health check ``GET /_cluster/health`` must be 200, bulk to ``/_bulk?timeout=60s``
  (plus ``pipeline``), ``compression`` gzip or zlib (``Content-Encoding: deflate``).
  ``splunk_hec`` sink: ``X-Splunk-Request-Channel`` with a random UUID, ``ackId`` in the
  answer, then ``POST /services/collector/ack`` ``{"acks":[..]}`` on the same channel,
  health check ``GET /services/collector/health/1.0``.
- Splunk HEC reference (docs.splunk.com "Format events for HTTP Event Collector",
  "Troubleshoot HTTP Event Collector", "About HTTP Event Collector Indexer Acknowledgment"):
  events concatenated with or without whitespace, ``time`` epoch seconds as a number or
  string, codes 2/3/4/5/6/9/10/16/17, acks per channel.

Three real clients do run here, built from Go modules (slow tests): ``go_filebeat/`` ships
through libbeat v7.17.28's ``outputs/elasticsearch`` client (Filebeat's own output code),
``go_otel_es/`` through the OpenTelemetry Collector's ``elasticsearch`` exporter (the
official go-elasticsearch client and go-docappender's bulk indexer) and ``go_otel_hec/``
through its ``splunk_hec`` exporter (contrib v0.115.0; their go.sum files were recorded
without the checksum database, which does not serve those modules here, so those builds run
with ``GOSUMDB=off`` against the committed go.sum).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.wire_server import Server, start

FILTER = "errors,items.*.error,items.*.status"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("shippers"),
                "ingest: {elasticsearch: {version: '8.17.0'}, hec: {allow_query_string_auth: true}}\n")
    yield srv
    srv.stop()


def _go_build(folder: str, binary: Path, *, checksum_db: bool = True) -> Path:
    """Build the Go driver in tests/integration/<folder> (modules from the Go proxy). Without
    ``checksum_db`` the modules are checked against the committed go.sum only (the checksum
    database does not serve every module here)."""
    env = None if checksum_db else {**os.environ, "GOSUMDB": "off"}
    build = subprocess.run([_go(), "build", "-o", str(binary), "."], cwd=Path(__file__).parent / folder,
                           capture_output=True, text=True, timeout=1500, env=env)  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    return binary


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _ndjson(action: dict, docs: list[dict]) -> bytes:
    line = json.dumps(action, separators=(",", ":"))
    return "".join(f"{line}\n{json.dumps(d, separators=(',', ':'))}\n" for d in docs).encode()


def _go() -> str:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).is_file():
        pytest.skip("no Go toolchain to build Filebeat's output client")
    return go


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a cold Go build (the go build below allows 1,500 s), not pytest's 300 s
def test_real_filebeat_output_client(tmp_path: Path) -> None:
    """libbeat's Elasticsearch client (what Filebeat 7.17.28 runs) ships to secpipe: Basic
    auth with gzip level 1, ``api_key`` auth, a bad password (Connect fails with 401), and
    documents secpipe dead-letters (an index mapped to cloudtrail), which Filebeat must drop
    as non-indexable rather than retry for ever."""
    binary = _go_build("go_filebeat", tmp_path / "fbdrive", checksum_db=True)
    srv = start(tmp_path, "ingest: {elasticsearch: {version: '8.17.0', index_formats: {'ct-*': cloudtrail}}}\n")
    try:
        def ship(user: str, password: str, api_key: str, index: str, marker: str, n: int, level: int) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(binary), srv.url, user, password, api_key, index, marker, str(n), str(level)],
                                  capture_output=True, text=True, timeout=120)  # fmt: skip

        ok = {"signals": ["ack"], "retry_events": 0, "failed": 0, "dropped": 0}
        run = ship("elastic", srv.ingest, "", "filebeat-7.17.28", "fbreal-basic", 50, 1)
        assert run.returncode == 0 and json.loads(run.stdout) == {**ok, "acked": 50}, run.stderr[-2000:]
        run = ship("", "", f"key-id:{srv.ingest}", "filebeat-7.17.28", "fbreal-apikey", 20, 0)
        assert run.returncode == 0 and json.loads(run.stdout) == {**ok, "acked": 20}, run.stderr[-2000:]
        run = ship("elastic", "sp_00000000_wrong", "", "filebeat-7.17.28", "fbreal-bad", 1, 0)
        assert run.returncode == 3 and "401" in run.stderr
        run = ship("elastic", srv.ingest, "", "ct-logs", "fbreal-not-cloudtrail", 5, 0)
        assert run.returncode == 0 and json.loads(run.stdout) == {**ok, "acked": 0, "dropped": 5}, run.stderr[-2000:]
        assert srv.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE 'fbreal-%'", 70) == 70
        assert srv.wait_rows("SELECT count(*) FROM dead_letter WHERE source LIKE 'es_bulk:%'", 5) == 5
    finally:
        srv.stop()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a cold Go build (the go build below allows 1,500 s), not pytest's 300 s
def test_real_otel_collector_elasticsearch_exporter(tmp_path: Path) -> None:
    """The Collector's elasticsearch exporter: the go-elasticsearch product check, gzip, and
    go-docappender's ``_bulk`` with ``filter_path=items.*._index,items.*.status,
    items.*.error.type,items.*.error.reason``, read per document; Basic and ``api_key`` auth;
    documents secpipe dead-letters come back to it as failed documents; a bad password fails
    the flush with 401."""
    binary = _go_build("go_otel_es", tmp_path / "otelesdrive", checksum_db=False)
    srv = start(tmp_path, "ingest: {elasticsearch: {index_formats: {'ct-*': cloudtrail}}}\n")
    try:
        def ship(user: str, password: str, api_key: str, index: str, marker: str, n: int) -> dict:
            run = subprocess.run([str(binary), srv.url, user, password, api_key, index, marker, str(n)],
                                 capture_output=True, text=True, timeout=120)  # fmt: skip
            assert run.returncode == 0, run.stderr[-2000:]
            return json.loads(run.stdout)

        ok = {"consume_error": "", "failed_docs": 0, "flush_errors": 0}
        assert ship("elastic", srv.ingest, "", "logs-otel-default", "otel-es-basic", 40) == {**ok, "sent": 40}
        assert ship("", "", srv.ingest, "otel-apikey", "otel-es-apikey", 10) == {**ok, "sent": 10}
        assert ship("elastic", srv.ingest, "", "ct-otel", "otel-es-not-cloudtrail", 3) == {**ok, "failed_docs": 3, "sent": 3}
        bad = ship("elastic", "sp_00000000_wrong", "", "x", "otel-es-bad", 1)
        assert "401" in bad["consume_error"] and bad["flush_errors"] == 1
        assert srv.wait_rows("SELECT count(*) FROM base_event WHERE unmapped LIKE '%otel-es-%'", 50) == 50
        assert srv.wait_rows("SELECT count(*) FROM dead_letter WHERE source LIKE 'es_bulk:%'", 3) == 3
    finally:
        srv.stop()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a cold Go build (the go build below allows 1,500 s), not pytest's 300 s
def test_real_otel_collector_splunk_hec_exporter(tmp_path: Path) -> None:
    """The Collector's splunk_hec exporter (gzip, ``Authorization: Splunk``, its own event
    encoding: time as float seconds, resource/log attributes as ``fields``) to
    ``/services/collector`` and ``/services/collector/event``; a bad token is an error there."""
    binary = _go_build("go_otel_hec", tmp_path / "oteldrive", checksum_db=False)
    srv = start(tmp_path, "")
    try:
        def ship(path: str, token: str, marker: str) -> dict:
            run = subprocess.run([str(binary), srv.url + path, token, marker, "30"], capture_output=True, text=True,
                                 timeout=120)  # fmt: skip
            assert run.returncode == 0, run.stderr[-2000:]
            return json.loads(run.stdout)

        assert ship("/services/collector", srv.ingest, "otel-hec-a") == {"sent": 30}
        assert ship("/services/collector/event", srv.ingest, "otel-hec-b") == {"sent": 30}
        assert "403" in ship("/services/collector", "sp_00000000_wrong", "otel-hec-c")["error"]
        assert srv.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE 'otel-hec-%'", 60) == 60
        time_ms, host, unmapped = srv.query("SELECT time, device.hostname, unmapped FROM base_event "
                                            "WHERE message = 'otel-hec-a 3'")[0]  # fmt: skip
        assert time_ms == 1764410403250 and host == "otel-host"
        assert json.loads(unmapped)["fields"] == {"service": "driver"} and json.loads(unmapped)["sourcetype"] == "otel:log"
    finally:
        srv.stop()


def _filebeat_outcome(answer: dict, n: int) -> dict[str, int]:
    """libbeat ``bulkCollectPublishFails``: how Filebeat counts each item of the answer."""
    out = {"acked": 0, "duplicates": 0, "dropped": 0, "retried": 0}
    items = answer["items"]  # bulkReadToItems: no "items" array is a parse failure
    assert len(items) == n
    for item in items:
        assert len(item) == 1  # bulkReadItemStatus: exactly one action key per item
        status = next(iter(item.values()))["status"]
        if status < 300:
            out["acked"] += 1
        elif status == 409:
            out["duplicates"] += 1
        elif status < 500 and status != 429:
            out["dropped"] += 1
        else:
            out["retried"] += 1
    return out


def _count(server: Server, where: str, want: int) -> int:
    return server.wait_rows(f"SELECT count(*) FROM base_event WHERE {where}", want)


# --------------------------------------------------------------------------------------
# Filebeat 8
# --------------------------------------------------------------------------------------


def test_filebeat_handshake_setup_and_filtered_bulk(server: Server) -> None:
    auth = {**_basic("elastic", server.ingest), "Accept": "application/json"}
    root = httpx.get(f"{server.url}/", headers=auth)
    assert root.status_code == 200 and root.json()["version"]["number"] == "8.17.0"
    mon = httpx.get(f"{server.url}/_xpack?filter_path=features.monitoring.enabled", headers=auth)
    assert mon.json() == {"features": {"monitoring": {"enabled": True}}}  # Beats' monitoring probe
    lic = httpx.get(f"{server.url}/_license?human=false", headers=auth).json()["license"]
    assert lic["status"] == "active" and lic["type"] and lic["uid"]
    # template and ILM set-up (libbeat template/load.go, idxmgmt/lifecycle): check, then install
    assert httpx.head(f"{server.url}/_index_template/filebeat-8.17.0", headers=auth).status_code == 404
    tpl = {"index_patterns": ["filebeat-8.17.0"], "data_stream": {}, "priority": 150,
           "template": {"settings": {"index": {"lifecycle": {"name": "filebeat"}}}}}  # fmt: skip
    assert httpx.put(f"{server.url}/_index_template/filebeat-8.17.0", json=tpl, headers=auth).status_code == 200
    assert httpx.head(f"{server.url}/_index_template/filebeat-8.17.0", headers=auth).status_code == 200
    listed = httpx.get(f"{server.url}/_index_template", headers=auth).json()["index_templates"]
    assert "filebeat-8.17.0" in [t["name"] for t in listed]
    assert httpx.get(f"{server.url}/_data_stream", headers=auth).json() == {"data_streams": []}
    assert httpx.get(f"{server.url}/_ilm/policy/filebeat", headers=auth).status_code == 404
    policy = {"policy": {"phases": {"hot": {"actions": {"rollover": {"max_age": "30d"}}}}}}
    assert httpx.put(f"{server.url}/_ilm/policy/filebeat", json=policy, headers=auth).status_code == 200

    docs = [{"@timestamp": f"2026-11-29T10:00:0{i}.000Z", "message": f"filebeat-marker {i}",
             "host": {"name": "fb-host"}, "agent": {"type": "filebeat", "version": "8.17.0"}}
            for i in range(5)]  # fmt: skip
    body = gzip.compress(_ndjson({"create": {"_index": "filebeat-8.17.0"}}, docs), 1)
    r = httpx.post(f"{server.url}/_bulk?filter_path={FILTER}", content=body,
                   headers={**auth, "Content-Type": "application/json; charset=UTF-8", "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["x-elastic-product"] == "Elasticsearch"
    # exactly what ES answers under that filter_path: no took, no _id, one status per item
    assert r.json() == {"errors": False, "items": [{"create": {"status": 201}}] * 5}
    assert _filebeat_outcome(r.json(), 5) == {"acked": 5, "duplicates": 0, "dropped": 0, "retried": 0}
    assert _count(server, "message LIKE 'filebeat-marker %'", 5) == 5


def test_filebeat_mixed_answer_drops_only_the_bad_item(server: Server) -> None:
    auth = _basic("filebeat_writer", server.ingest)
    body = (b'{"create":{"_index":"filebeat-8.17.0"}}\n{"message":"fb-mixed ok 1"}\n'
            b'{"create":{"_index":"filebeat-8.17.0"}}\n{"message": broken json}\n'
            b'{"delete":{"_index":"filebeat-8.17.0","_id":"x1"}}\n'
            b'{"create":{"_index":"filebeat-8.17.0"}}\n{"message":"fb-mixed ok 2"}\n')  # fmt: skip
    r = httpx.post(f"{server.url}/_bulk", params={"filter_path": FILTER}, content=body, headers=auth)
    answer = r.json()
    assert r.status_code == 200 and answer["errors"] is True
    assert [next(iter(i))for i in answer["items"]] == ["create", "create", "delete", "create"]
    bad = answer["items"][1]["create"]
    assert bad["status"] == 400 and bad["error"]["type"] and bad["error"]["reason"]
    assert set(bad) == {"status", "error"}  # the filter keeps only these
    assert _filebeat_outcome(answer, 4) == {"acked": 2, "duplicates": 0, "dropped": 2, "retried": 0}
    assert _count(server, "message LIKE 'fb-mixed ok %'", 2) == 2
    assert server.wait_rows("SELECT count(*) FROM dead_letter WHERE source LIKE 'es_bulk:%'", 1) >= 1


def test_basic_auth_token_as_user_apikey_and_bearer(server: Server) -> None:
    body = _ndjson({"index": {"_index": "auth-variants"}}, [{"message": "auth-variant"}])
    key = base64.b64encode(f"key-id:{server.ingest}".encode()).decode()
    for headers in (_basic(server.ingest, ""), _basic("elastic", server.ingest), {"Authorization": f"ApiKey {key}"},
                    {"Authorization": f"ApiKey {server.ingest}"}, {"Authorization": f"Bearer {server.ingest}"}):
        r = httpx.post(f"{server.url}/_bulk", content=body, headers=headers)
        assert r.status_code == 200 and r.json()["errors"] is False, headers
    for headers in (_basic("elastic", ""), _basic("elastic", "sp_00000000_nope"), {"Authorization": "ApiKey !!"}):
        r = httpx.post(f"{server.url}/_bulk", content=body, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["type"] == "security_exception"


# --------------------------------------------------------------------------------------
# Logstash 8
# --------------------------------------------------------------------------------------


def _logstash_is_elasticsearch(resp: httpx.Response) -> bool:
    """logstash-output-elasticsearch ``Pool#elasticsearch?``: ES >= 7.14 needs the product header."""
    number = resp.json()["version"]["number"]
    major, minor = (int(x) for x in number.split(".")[:2])
    if (major, minor) >= (7, 14):
        return resp.headers.get("x-elastic-product") == "Elasticsearch"
    return resp.json()["version"].get("build_flavor") == "default" and resp.json()["tagline"] == "You Know, for Search"


def test_logstash_health_check_data_stream_bulk(server: Server) -> None:
    auth = _basic("logstash_internal", server.ingest)
    assert httpx.head(f"{server.url}/", headers=auth).status_code == 200
    assert _logstash_is_elasticsearch(httpx.get(f"{server.url}/", headers=auth))
    assert httpx.get(f"{server.url}/_license", headers=auth).json()["license"]["status"] == "active"
    docs = [{"@timestamp": "2026-11-29T10:00:00.000Z", "message": f"logstash-ds {i}",
             "data_stream": {"type": "logs", "dataset": "generic", "namespace": "default"}} for i in range(4)]
    body = gzip.compress(_ndjson({"create": {"_index": "logs-generic-default"}}, docs), 1)
    r = httpx.post(f"{server.url}/_bulk?filter_path={FILTER}", content=body,
                   headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json() == {"errors": False, "items": [{"create": {"status": 201}}] * 4}
    assert _count(server, "message LIKE 'logstash-ds %'", 4) == 4


def test_logstash_ilm_rollover_alias_setup(server: Server) -> None:
    auth = _basic("logstash_internal", server.ingest)
    xpack = httpx.get(f"{server.url}/_xpack", headers=auth).json()
    assert xpack["features"]["ilm"] == {"available": True, "enabled": True}
    assert httpx.head(f"{server.url}/_ilm/policy/logstash-policy", headers=auth).status_code == 404
    pol = {"policy": {"phases": {"hot": {"actions": {"rollover": {"max_size": "50gb"}}}}}}
    assert httpx.put(f"{server.url}/_ilm/policy/logstash-policy", json=pol, headers=auth).status_code == 200
    assert httpx.head(f"{server.url}/_ilm/policy/logstash-policy", headers=auth).status_code == 200
    assert httpx.head(f"{server.url}/logstash", headers=auth).status_code == 404
    # the rollover index name is date math, sent URL-escaped: <logstash-{now/d}-000001>
    r = httpx.put(f"{server.url}/%3Clogstash-%7Bnow%2Fd%7D-000001%3E",
                  json={"aliases": {"logstash": {"is_write_index": True}}}, headers=auth)
    assert r.status_code == 200 and r.json()["acknowledged"] is True
    again = httpx.put(f"{server.url}/%3Clogstash-%7Bnow%2Fd%7D-000001%3E", json={}, headers=auth)
    assert again.status_code == 400  # Logstash reads 400 as "already exists" and goes on
    assert httpx.head(f"{server.url}/logstash", headers=auth).status_code == 200
    assert "logstash" in next(iter(httpx.get(f"{server.url}/_alias/logstash", headers=auth).json().values()))["aliases"]
    body = _ndjson({"index": {"_index": "logstash"}}, [{"message": "logstash-ilm 1"}, {"message": "logstash-ilm 2"}])
    r = httpx.post(f"{server.url}/_bulk?filter_path={FILTER}", content=body, headers=auth)
    assert r.json() == {"errors": False, "items": [{"index": {"status": 201}}] * 2}
    assert _count(server, "message LIKE 'logstash-ilm %'", 2) == 2


# --------------------------------------------------------------------------------------
# Fluent Bit
# --------------------------------------------------------------------------------------


def test_fluent_bit_pipeline_uri_type_name_and_truncated_answer_check(server: Server) -> None:
    headers = {**_basic("fluent", server.ingest), "Content-Type": "application/x-ndjson", "User-Agent": "Fluent-Bit"}
    docs = [{"@timestamp": "2026-11-29T10:00:00.000Z", "log": f"fluent-bit-line {i}", "stream": "stdout"}
            for i in range(3)]  # fmt: skip
    body = _ndjson({"create": {"_index": "fluent-bit", "_type": "_doc"}}, docs)
    r = httpx.post(f"{server.url}/_bulk/?pipeline=my-pipeline", content=body, headers=headers)
    assert r.status_code == 200  # not a redirect: Fluent Bit follows none and retries anything but 200
    assert b'"errors":false,"items":[' in r.content  # es.c's check when Buffer_Size cuts the answer
    body = _ndjson({"create": {"_index": "fluent-bit", "_type": "_doc"}}, [{**d, "stream": "stderr"} for d in docs])
    r = httpx.post(f"{server.url}/fluent-bit/_bulk/", content=gzip.compress(body), headers={**headers, "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json()["errors"] is False
    # Write_Operation upsert: update + doc_as_upsert with a generated id
    upsert = (b'{"update":{"_index":"fluent-bit","_id":"6a4e9c1e-0000-4000-8000-000000000001"}}\n'
              b'{"doc":{"log":"fluent-bit-upsert 1"},"doc_as_upsert":true}\n'
              b'{"update":{"_index":"fluent-bit","_id":"6a4e9c1e-0000-4000-8000-000000000002"}}\n'
              b'{"doc":{"log":"fluent-bit-partial"}}\n')  # fmt: skip
    r = httpx.post(f"{server.url}/_bulk", content=upsert, headers=headers)
    items = r.json()["items"]
    assert items[0]["update"]["status"] == 201 and items[0]["update"]["_id"].endswith("01")
    assert items[1]["update"]["status"] == 400 and "doc_as_upsert" in items[1]["update"]["error"]["reason"]
    assert _count(server, "message LIKE 'fluent-bit-line %'", 6) == 6
    assert _count(server, "message = 'fluent-bit-upsert 1'", 1) == 1


# --------------------------------------------------------------------------------------
# Vector elasticsearch sink
# --------------------------------------------------------------------------------------


def test_vector_version_health_and_bulk(server: Server) -> None:
    auth = _basic("vector", server.ingest)
    assert int(httpx.get(f"{server.url}/", headers=auth).json()["version"]["number"].split(".")[0]) == 8
    assert httpx.get(f"{server.url}/_cluster/health", headers=auth).status_code == 200
    docs = [{"message": f"vector-es {i}", "timestamp": "2026-11-29T10:00:00Z", "host": "vec-host"} for i in range(3)]
    r = httpx.post(f"{server.url}/_bulk?timeout=60s&pipeline=vec", content=_ndjson({"index": {"_index": "vector-2026.11.29"}}, docs),
                   headers={**auth, "Content-Type": "application/x-ndjson"})
    answer = r.json()
    assert r.status_code == 200 and answer["errors"] is False and isinstance(answer["took"], int)
    assert all(i["index"]["status"] == 201 and i["index"]["result"] == "created" and i["index"]["_id"]
               for i in answer["items"])  # fmt: skip
    # data_stream mode: create actions to logs-<dataset>-<namespace>
    ds = [{"message": "vector-es data-stream", "data_stream": {"type": "logs", "dataset": "vector", "namespace": "default"}}]
    r = httpx.post(f"{server.url}/_bulk?timeout=60s", content=_ndjson({"create": {"_index": "logs-vector-default"}}, ds),
                   headers=auth)
    assert r.json()["items"][0]["create"]["_index"] == "logs-vector-default"
    # compression = "zlib": Content-Encoding deflate
    zdocs = [{"message": f"vector-es zlib {i}"} for i in range(2)]
    r = httpx.post(f"{server.url}/_bulk?timeout=60s", content=zlib.compress(_ndjson({"index": {"_index": "vector-z"}}, zdocs)),
                   headers={**auth, "Content-Encoding": "deflate"})
    assert r.status_code == 200 and r.json()["errors"] is False
    r = httpx.post(f"{server.url}/_bulk", content=b"\x78\x9cgarbage", headers={**auth, "Content-Encoding": "deflate"})
    assert r.status_code == 400 and "deflate" in r.json()["error"]["reason"]
    r = httpx.post(f"{server.url}/_bulk", content=b"x", headers={**auth, "Content-Encoding": "br"})
    assert r.status_code == 415
    assert _count(server, "message LIKE 'vector-es %'", 6) == 6


def test_single_document_apis(server: Server) -> None:
    auth = _basic("elastic", server.ingest)
    r = httpx.put(f"{server.url}/docs-idx/_doc/id-1", json={"message": "doc-api put"}, headers=auth)
    assert r.status_code == 201 and r.json()["_id"] == "id-1" and r.json()["result"] == "created"
    r = httpx.post(f"{server.url}/docs-idx/_create/id-2", json={"message": "doc-api create"}, headers=auth)
    assert r.status_code == 201 and r.json()["_id"] == "id-2"
    r = httpx.post(f"{server.url}/docs-idx/_doc", json={"message": "doc-api post"}, headers=auth)
    assert r.status_code == 201 and r.json()["_id"]
    assert httpx.post(f"{server.url}/docs-idx/_doc", content=b"", headers=auth).status_code == 400
    assert _count(server, "message LIKE 'doc-api %'", 3) == 3


def test_empty_bulk_and_filter_path_variants(server: Server) -> None:
    auth = _basic("elastic", server.ingest)
    r = httpx.post(f"{server.url}/_bulk", content=b"\n", headers=auth)
    assert r.status_code == 400 and "no requests added" in r.json()["error"]["reason"]
    body = _ndjson({"index": {"_index": "fp", "_id": "fixed"}}, [{"message": "fp-variant"}] * 2)
    assert httpx.post(f"{server.url}/_bulk?filter_path=took", content=body, headers=auth).json().keys() == {"took"}
    got = httpx.post(f"{server.url}/_bulk?filter_path=items.*._id,-items.*.status", content=body, headers=auth).json()
    assert got == {"items": [{"index": {"_id": "fixed"}}] * 2}
    got = httpx.post(f"{server.url}/_bulk?filter_path=items.**._seq_no", content=body, headers=auth).json()
    assert got == {"items": [{"index": {"_seq_no": 0}}, {"index": {"_seq_no": 1}}]}


def test_falcosidekick_elasticsearch_and_webhook_outputs(server: Server, real: Path) -> None:
    """Falcosidekick's Elasticsearch output posts each Falco alert to ``/<index>-<date>/_doc``
    (Basic or ``APIKey``), after ``PUT /_index_template/falco`` when ``createindextemplate``
    is on; its webhook output posts the same payload with custom headers (a bearer token)."""
    lines = (real / "falco/test/output_files/single_rule_with_cat_write.json").read_text().splitlines()
    alerts = [json.loads(line) for line in lines[:2]]
    headers = {"Authorization": f"APIKey {server.ingest}", "Content-Type": "application/json"}
    r = httpx.put(f"{server.url}/_index_template/falco", json={"index_patterns": ["falco-*"]}, headers=headers)
    assert r.status_code == 200
    r = httpx.post(f"{server.url}/falco-2026.11.29/_doc", json={**alerts[0], "hostname": "sidekick-es"}, headers=headers)
    assert r.status_code == 201 and r.json()["result"] == "created"
    r = httpx.post(f"{server.url}/v1/falco", json={**alerts[-1], "hostname": "sidekick-webhook"},
                   headers={"Authorization": f"Bearer {server.ingest}"})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    n = server.wait_rows("SELECT count(*) FROM detection_finding WHERE raw_data LIKE '%sidekick-%'", 2)
    assert n == 2


# --------------------------------------------------------------------------------------
# Splunk HEC: Vector splunk_hec_logs, Fluent Bit out_splunk, OTel splunk_hec exporter
# --------------------------------------------------------------------------------------


def test_vector_hec_channel_acks(server: Server) -> None:
    url = f"{server.url}/services/collector"
    channel = str(uuid.uuid4())
    auth = {"Authorization": f"Splunk {server.ingest}", "X-Splunk-Request-Channel": channel}
    assert httpx.get(f"{url}/health/1.0", headers=auth).json() == {"text": "HEC is healthy", "code": 17}
    ids = []
    for batch in range(3):
        events = [{"event": {"message": f"vector-hec {batch}-{i}", "level": "info"}, "fields": {"env": "test"},
                   "time": 1764410400.125, "host": "vec-hec", "source": "vector", "sourcetype": "_json", "index": "main"}
                  for i in range(2)]  # fmt: skip
        body = "".join(json.dumps(e, separators=(",", ":")) for e in events)  # Vector: no separator
        r = httpx.post(f"{url}/event", content=body, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["text"] == "Success" and r.json()["code"] == 0
        ids.append(r.json()["ackId"])
    assert ids == [0, 1, 2]  # per channel, from 0
    r = httpx.post(f"{url}/ack", json={"acks": [0, 2, 99]}, headers=auth)
    assert r.json() == {"acks": {"0": True, "2": True, "99": False}}
    assert httpx.post(f"{url}/ack", json={"acks": [0, 1]}, headers=auth).json() == {"acks": {"0": False, "1": True}}
    other = {**auth, "X-Splunk-Request-Channel": str(uuid.uuid4())}
    assert httpx.post(f"{url}/event", content=b'{"event":"other-chan"}', headers=other).json()["ackId"] == 0
    assert httpx.post(f"{url}/ack?channel={channel}", json={"acks": [3]}, headers={"Authorization": auth["Authorization"]}).json() == {"acks": {"3": False}}
    no_chan = httpx.post(f"{url}/ack", json={"acks": [0]}, headers={"Authorization": auth["Authorization"]})
    assert no_chan.status_code == 400 and no_chan.json() == {"text": "Data channel is missing", "code": 10}
    assert httpx.post(f"{url}/ack", content=b'{"acks":"x"}', headers=auth).json()["code"] == 6
    # an object event is stored with its whole envelope (time, host, fields kept)
    assert _count(server, "unmapped LIKE '%vector-hec %'", 6) == 6
    row = server.query("SELECT time, device.hostname, unmapped FROM base_event WHERE unmapped LIKE '%vector-hec 1-1%'")[0]
    assert row[0] == 1764410400125 and row[1] == "vec-hec" and json.loads(row[2])["fields"] == {"env": "test"}


def test_fluent_bit_and_otel_hec_bodies(server: Server) -> None:
    url = f"{server.url}/services/collector"
    auth = {"Authorization": f"Splunk {server.ingest}"}
    # Fluent Bit out_splunk: one {"time","event"} record per line, gzip (compress gzip)
    records = [{"time": 1764410400.5 + i, "event": {"log": f"fb-hec {i}", "kubernetes": {"pod_name": "p"}}} for i in range(3)]
    body = gzip.compress("\n".join(json.dumps(r) for r in records).encode())
    r = httpx.post(f"{url}/event", content=body, headers={**auth, "Content-Encoding": "gzip"})
    assert r.json() == {"text": "Success", "code": 0}
    # OTel/HEC reference: time as a string of epoch seconds, string events, whitespace between
    body = b'{"time":"1764410401.250","event":"hec-string-time","host":"otel"}  \r\n {"time":"1764410402","event":"hec-int-string-time"}'
    assert httpx.post(f"{url}/event/1.0", content=body, headers=auth).json()["code"] == 0
    assert _count(server, "unmapped LIKE '%fb-hec %'", 3) == 3
    assert server.query("SELECT time FROM base_event WHERE unmapped LIKE '%fb-hec 2%'")[0][0] == 1764410402500
    assert _count(server, "message LIKE 'hec-%string-time'", 2) == 2
    times = dict(server.query("SELECT message, time FROM base_event WHERE message LIKE 'hec-%string-time'"))
    assert times == {"hec-string-time": 1764410401250, "hec-int-string-time": 1764410402000}


def test_hec_query_token_and_error_codes(server: Server) -> None:
    url = f"{server.url}/services/collector"
    r = httpx.post(f"{url}/event?token={server.ingest}", content=b'{"event":"hec-query-token"}')
    assert r.status_code == 200 and r.json() == {"text": "Success", "code": 0}
    r = httpx.post(f"{url}/raw?token={server.ingest}&channel={uuid.uuid4()}&host=raw-host&sourcetype=app:text",
                   content=b"hec raw line one\n\nhec raw line two\n")
    assert r.status_code == 200 and r.json() == {"text": "Success", "code": 0, "ackId": 0}
    assert _count(server, "message LIKE 'hec raw line %'", 2) == 2
    assert server.query("SELECT device.hostname FROM base_event WHERE message = 'hec raw line two'")[0][0] == "raw-host"
    cases = [
        ({}, b'{"event":"x"}', 401, {"text": "Token is required", "code": 2}),
        ({"Authorization": "Splunk"}, b'{"event":"x"}', 401, {"text": "Invalid authorization", "code": 3}),
        ({"Authorization": "Splunk sp_00000000_wrong"}, b'{"event":"x"}', 403, {"text": "Invalid token", "code": 4}),
        ({"Authorization": f"Splunk {server.ingest}"}, b"   ", 400, {"text": "No data", "code": 5}),
        ({"Authorization": f"Splunk {server.ingest}"}, b'{"event":"x"} nope', 400, {"text": "Invalid data format", "code": 6, "invalid-event-number": 1}),
        ({"Authorization": f"Splunk {server.ingest}"}, b'{"time":1}', 400, {"text": "Event field is required", "code": 12, "invalid-event-number": 0}),
    ]  # fmt: skip
    for headers, body, status, want in cases:
        r = httpx.post(f"{url}/event", content=body, headers=headers)
        assert (r.status_code, r.json()) == (status, want), (headers, body)
    # the health probe needs no token (Splunk answers a load balancer's probe), a wrong one is refused
    assert httpx.get(f"{url}/health").json() == {"text": "HEC is healthy", "code": 17}
    assert httpx.get(f"{url}/health", headers={"Authorization": "Splunk nope"}).json()["code"] == 4
    assert _count(server, "message = 'hec-query-token'", 1) == 1


def test_query_token_refused_when_off_and_rate_limit_shapes(tmp_path: Path) -> None:
    """Splunk code 16 when query-string auth is off (the default); over the token's rate ES answers 429
    es_rejected_execution_exception and HEC 503 code 9, both with Retry-After (every
    shipper above retries those and never drops the data)."""
    cfg = "server: {rate_per_token: 0.01, rate_burst: 2}\n"  # 1 per 100 s: no refill during the test, however slow the host
    srv = start(tmp_path, cfg)
    try:
        r = httpx.post(f"{srv.url}/services/collector/event?token={srv.ingest}", content=b'{"event":"x"}')
        assert r.status_code == 400 and r.json() == {"text": "Query string authorization is not enabled", "code": 16}
        auth = _basic("elastic", srv.ingest)
        seen = [httpx.post(f"{srv.url}/_bulk", content=b'{"index":{}}\n{"m":1}\n', headers=auth) for _ in range(3)]
        limited = seen[-1]
        assert limited.status_code == 429 and float(limited.headers["retry-after"]) > 0
        assert limited.json()["error"]["type"] == "es_rejected_execution_exception" and limited.json()["status"] == 429
        r = httpx.post(f"{srv.url}/services/collector/event", content=b'{"event":"x"}',
                       headers={"Authorization": f"Splunk {srv.ingest}"})
        assert r.status_code == 503 and r.json() == {"text": "Server is busy", "code": 9} and r.headers["retry-after"]
    finally:
        srv.stop()
