"""One bad line or event in a wire body: it alone is dead-lettered with its reason, the rest stored.

A real `secpipe up` on loopback. The good records are real (see tests/cases/wire_holdout/SOURCE.md
and tests/cases/holdout/SOURCE.md: Elastic Agent's journald documents and auth.log lines from
elastic/integrations; ../shared/data/real/panther-analysis's Kubernetes audit events); each body
holds one of them mutated (cut short) or a stray line.

- ``/v1/ingest/auto``: a Fluent Bit / Elastic Agent NDJSON body with a line that is no JSON is
  stored but for that line, which is dead-lettered with its line number (it refused the whole
  body; a line cut short was refused as "no format matched").
- Splunk HEC ``/services/collector/event``: Splunk indexes the events before a bad one and
  answers 400 with its code and ``invalid-event-number`` (docs.splunk.com "Troubleshoot HTTP Event
  Collector"; moby/moby#35862 shows ``{"text":"Invalid data format","code":6,"invalid-event-number":1}``
  with the event before it indexed). secpipe answers the same, stores every event it takes (those
  after the bad one too) and dead-letters the bad one; a sender that resends the body (moby's
  Splunk driver retries any error) stores nothing twice: the lake keeps one row per ``metadata.uid``.
- OTLP/HTTP JSON: a log record that is no object is the spec's partial success
  (``rejectedLogRecords``), the others stored.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.wire_server import Server, start

CASES = Path(__file__).parents[1] / "cases"
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
AUTH = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()
#: Panther's Kubernetes audit test events that carry an auditID (api.request.uid)
K8S = [ln for ln in (REAL / "panther-analysis" / "extracted" / "k8s_audit.jsonl").read_text().splitlines() if '"auditID"' in ln]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("bad_items"))
    try:
        yield srv
    finally:
        srv.stop()


def _metric(server: Server, name: str) -> float:
    r = httpx.get(f"{server.url}/v1/metrics", headers={"Authorization": f"Bearer {server.admin}"}, timeout=10)
    found = re.search(rf"^{name} (\S+)$", r.text, re.M)
    assert found is not None, r.text[:2000]
    return float(found.group(1))


def _settled(server: Server) -> None:
    """Wait until the lake has committed every pending row."""
    deadline = time.monotonic() + 30
    while _metric(server, "secpipe_lake_pending_rows") > 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_ingest_auto_ndjson_one_bad_line(server: Server) -> None:
    docs = (CASES / "wire_holdout" / "elastic-agent-journald-auth.ndjson").read_text().splitlines()
    cut = docs[2][: len(docs[2]) // 2]  # a line cut short
    body = "\n".join([docs[0], docs[1], cut, "-- journal rotated --", docs[2], docs[3]]) + "\n"
    r = httpx.post(f"{server.url}/v1/ingest/auto", content=body, headers={"Authorization": f"Bearer {server.ingest}"},
                   timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["events"], got["accepted"], got["dead_letter"]) == (6, 4, 2)
    assert [why.split(":")[0] for why in got["reasons"]] == ["line 3", "line 4"]
    assert all("invalid JSON" in why for why in got["reasons"])
    sql = "SELECT count(*) FROM authentication WHERE device.hostname IN ('vagrant-debian-12', 'bullseye')"
    assert server.wait_rows(sql, 4) == 4
    sql = "SELECT count(*) FROM dead_letter WHERE source LIKE 'http:%:auto' AND reason LIKE 'line _: invalid JSON%'"
    assert server.wait_rows(sql, 2) == 2
    rows = server.query("SELECT decode(raw) FROM dead_letter WHERE reason LIKE 'line 4: invalid JSON%'")
    assert rows == [["-- journal rotated --"]]


def test_ingest_auto_array_one_item_no_object(server: Server) -> None:
    # Fluent Bit's http output, format json: an array of {"date", "log"} records (a tail input's lines)
    records = [{"date": 1708894996.5, "log": AUTH[i]} for i in (15, 20)]
    body = json.dumps([records[0], 42, records[1]])
    r = httpx.post(f"{server.url}/v1/ingest/auto", content=body, headers={"Authorization": f"Bearer {server.ingest}"},
                   timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {"events": 3, "accepted": 2, "dead_letter": 1, "reasons": ["item 2: not a JSON object"]}
    sql = "SELECT count(*) FROM authentication WHERE message LIKE '%202.109.143.106%'"
    assert server.wait_rows(sql, 2) == 2


def _hec(server: Server, body: str) -> httpx.Response:
    return httpx.post(f"{server.url}/services/collector/event", content=body,
                      headers={"Authorization": f"Splunk {server.ingest}"}, timeout=60)  # fmt: skip


def test_hec_one_bad_event_rest_stored_retry_stores_nothing_twice(server: Server) -> None:
    lines = [AUTH[i] for i in (0, 1, 2, 3)]  # sshd: Accepted publickey, Accepted password, Invalid user, Failed password
    events = [json.dumps({"time": 1708560000 + n, "host": "hec-bad-35", "sourcetype": "linux_secure", "event": line})
              for n, line in enumerate(lines)]  # fmt: skip
    body = "\n".join([events[0], events[1], events[2][:40], events[3]])  # event 2 cut short
    r = _hec(server, body)
    assert r.status_code == 400 and r.json() == {"text": "Invalid data format", "code": 6, "invalid-event-number": 2}
    sql = "SELECT count(*) FROM authentication WHERE unmapped LIKE '%hec-bad-35%'"  # the envelope's host, in unmapped.hec
    assert server.wait_rows(sql, 3) == 3  # those before the bad event, and the one after it
    got = server.query("SELECT reason, decode(raw) FROM dead_letter WHERE source LIKE 'hec:%' AND reason LIKE '%event 2 of%'")
    assert len(got) == 1 and got[0][1] == events[2][:40]
    assert got[0][0].startswith("HEC Invalid data format (code 6): event 2 of the request: not JSON: ")
    _settled(server)
    duplicates = _metric(server, "secpipe_duplicates_total")
    assert _hec(server, body).json()["invalid-event-number"] == 2  # a sender's retry of the same body
    deadline = time.monotonic() + 30
    while _metric(server, "secpipe_duplicates_total") < duplicates + 3:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    _settled(server)
    assert server.query(sql)[0][0] == 3


def test_hec_event_without_event_field(server: Server) -> None:
    k8s = K8S[:3]
    events = [json.dumps({"sourcetype": "kube:apiserver:audit", "event": json.loads(e)}) for e in k8s]
    r = _hec(server, "".join([events[0], '{"time": 1700000000, "host": "x"}', events[1], '{"event": ""}', events[2]]))
    assert r.status_code == 400 and r.json() == {"text": "Event field is required", "code": 12, "invalid-event-number": 1}
    ids = ", ".join(f"'{json.loads(e)['auditID']}'" for e in k8s)
    assert server.wait_rows(f"SELECT count(*) FROM api_activity WHERE api.request.uid IN ({ids})", 3) == 3
    sql = "SELECT reason FROM dead_letter WHERE source LIKE 'hec:%' AND reason LIKE 'HEC Event field %' ORDER BY reason"
    assert server.wait_rows(sql.replace("SELECT reason", "SELECT count(*)").replace(" ORDER BY reason", ""), 2) == 2
    assert server.query(sql) == [["HEC Event field cannot be blank (code 13): event 3 of the request: a blank event"],
                                 ["HEC Event field is required (code 12): event 1 of the request: no event"]]


def test_otlp_json_record_that_is_no_object(server: Server) -> None:
    k8s = K8S[3:5]
    good = [{"timeUnixNano": "1731522850000000000", "body": {"stringValue": line}} for line in k8s]
    request = {"resourceLogs": [{"resource": {"attributes": [{"key": "host.name", "value": {"stringValue": "otlp-35"}}]},
                                 "scopeLogs": [{"scope": {"name": "filelog"}, "logRecords": [good[0], "oops", good[1]]}]}]}
    r = httpx.post(f"{server.url}/v1/logs", content=json.dumps(request), timeout=60,
                   headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json() == {"partialSuccess": {"rejectedLogRecords": "1", "errorMessage":
                        "resourceLogs[0].scopeLogs[0].logRecords[1]: a log record must be a JSON object, not str"}}
    ids = ", ".join(f"'{json.loads(e)['auditID']}'" for e in k8s)
    assert server.wait_rows(f"SELECT count(*) FROM api_activity WHERE api.request.uid IN ({ids})", 2) == 2
    sql = "SELECT count(*) FROM dead_letter WHERE source LIKE 'otlp:%' AND reason LIKE '%logRecords[1]%'"
    assert server.wait_rows(sql, 1) == 1


def test_hec_event_over_the_json_depth_limit(server: Server) -> None:
    k8s = K8S[5:7]
    events = [json.dumps({"sourcetype": "kube:apiserver:audit", "event": json.loads(e)}) for e in k8s]
    deep = '{"event":' + '{"a":' * 80 + "1" + "}" * 80 + "}"  # past server.max_json_depth (64 by default)
    r = _hec(server, "\n".join([events[0], deep, events[1]]))
    assert r.status_code == 400 and r.json() == {"text": "Invalid data format", "code": 6, "invalid-event-number": 1}
    ids = ", ".join(f"'{json.loads(e)['auditID']}'" for e in k8s)
    assert server.wait_rows(f"SELECT count(*) FROM api_activity WHERE api.request.uid IN ({ids})", 2) == 2
    sql = "SELECT count(*) FROM dead_letter WHERE source LIKE 'hec:%' AND reason LIKE '%event 1 of the request: JSON nesting depth%'"
    assert server.wait_rows(sql, 1) == 1
