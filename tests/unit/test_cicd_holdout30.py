"""CI/CD formats, holdout round 30: variants real deployments emit that round 29 mapped badly.

- jenkins: the Audit Trail plugin's Elasticsearch documents (``{"message", "@timestamp"}``) were
  no format's (dead-lettered by --format auto); they map as the plugin's log file lines do.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe import formats

CASES = Path(__file__).resolve().parents[1] / "cases"


def _rows(out: Any) -> list[dict[str, Any]]:
    return [r for b in out.batches for r in pa.Table.from_batches([b]).to_pylist()]


def _page(case: str, key: str, n: int) -> dict[str, Any]:
    """A real page with ``n`` items (the first repeated, each its own id)."""
    doc = json.loads((CASES / "github_actions28" / case).read_bytes())
    first = doc[key][0]
    doc[key] = [dict(copy.deepcopy(first), id=first["id"] + i) for i in range(n)]
    return doc  # type: ignore[no-any-return]


def _with_surrogate(doc: dict[str, Any], key: str, at: int, indent: int | None) -> bytes:
    """``doc`` as JSON, its item ``at``'s name ending in a lone high surrogate escape."""
    doc = copy.deepcopy(doc)
    doc[key][at]["name"] += "@@CUT@@"
    text = json.dumps(doc, indent=indent, separators=None if indent else (",", ":"))
    return text.replace("@@CUT@@", "\\ud83d").encode()


#: what the Audit Trail plugin's Elasticsearch logger posts (jenkinsci/audit-trail-plugin,
#: ElasticSearchAuditLogger.ElasticSearchSender.getHttpPost: ``{"message": <the message a log file
#: line holds after its time>, "@timestamp": FastDateFormat("yyyy-MM-dd'T'HH:mm:ssZ")}``), the
#: messages those of the real log file tests/cases/holdout/jenkins-audit-trail-khannashiv.log
ES_DOCS = [
    {"message": "/job/monitor-jenkins-grafana-prometheus/configSubmit by user2 from [0:0:0:0:0:0:0:1]",
     "@timestamp": "2026-01-08T00:28:02+0530"},
    {"message": "/job/monitor-jenkins-grafana-prometheus/configSubmit by user2 from [0:0:0:0:0:0:0:1]",
     "@timestamp": "2026-01-08T00:28:02+0530"},
    {"message": "job/monitor-jenkins-grafana-prometheus/ #49 Started by user user2, Parameters:[]",
     "@timestamp": "2026-01-08T00:28:04+0530"},
    {"message": "monitor-jenkins-grafana-prometheus #49 Started by user user2, Parameters:[] on Built-In Node;"
                "Slave-Agent-Node-1 started at 2026-01-07T18:58:04Z completed in 160980ms completed: SUCCESS",
     "@timestamp": "2026-01-08T00:30:45+0530"},
    {"message": "Failed login attempt for user 'user2'", "@timestamp": "2026-01-08T00:31:00+0530"},
    {"message": "user2 used credentials of 'deploy-key' in 'monitor-jenkins-grafana-prometheus'",
     "@timestamp": "2026-01-08T00:31:02+0530"},
]  # fmt: skip


def test_jenkins_audit_trail_elasticsearch_documents() -> None:
    """The plugin's Elasticsearch documents, one a line (as an ES export or a shipper writes them),
    map as the log file's lines do, at their ``@timestamp``; --format auto finds them."""
    body = "\n".join(json.dumps(d, separators=(",", ":")) for d in ES_DOCS).encode()
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "jenkins"
    out = fmt.decode(body, "es.json")
    assert not out.dead and out.events == 6
    rows = _rows(out)
    assert len({r["metadata"]["uid"] for r in rows}) == 6  # the two identical configSubmit documents: two events
    at = {r["message"]: r for r in rows}
    req = at[ES_DOCS[0]["message"]]
    assert (req["class_uid"], req["api"]["operation"], req["actor"]["user"]["name"], req["src_endpoint"]["ip"]) == (
        6003, "configSubmit", "user2", "0:0:0:0:0:0:0:1")
    assert req["resources"][0]["name"] == "monitor-jenkins-grafana-prometheus"
    assert req["time"] == 1767812282000  # 2026-01-08T00:28:02+05:30
    end = at[ES_DOCS[3]["message"]]
    assert (end["class_uid"], end["status_id"], end["duration"], end["metadata"]["correlation_uid"]) == (
        1006, 1, 160980, "monitor-jenkins-grafana-prometheus#49")
    assert at[ES_DOCS[2]["message"]]["activity_id"] == 6
    login = at[ES_DOCS[4]["message"]]
    assert (login["class_uid"], login["status_id"], login["user"]["name"]) == (3002, 2, "user2")
    assert at[ES_DOCS[5]["message"]]["class_uid"] == 0  # another message: a Base Event with it
    assert json.loads(req["raw_data"]) == ES_DOCS[0]


def test_jenkins_generic_message_documents_not_claimed() -> None:
    """A log document whose message is no Audit Trail message is not Jenkins' (the json catch-all's)."""
    doc = b'{"message":"GET /health 200 by curl","@timestamp":"2026-01-08T00:28:02+0530"}'
    assert formats.get("jenkins").sniff(doc) == 0
    fmt = formats.detect(doc)
    assert fmt is None or fmt.name != "jenkins"
