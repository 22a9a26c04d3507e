"""Prometheus's ``GET /api/v1/rules`` answer: the active alerts of its alerting rules (session 18).

Prometheus's HTTP API (``web/api/v1/api.go``) answers ``{"status": "success", "data": {"groups":
[{"name", "file", "rules": [...]}]}}``; an alerting rule (``"type": "alerting"``) lists its active
alerts in ``alerts``, each of ``/api/v1/alerts``' shape; a recording rule holds none. Before, no
format recognized the answer. The alerts are built from the real alerts of prometheus-msteams'
Alertmanager payload (``prometheus-msteams/alert/testdata/large_prom_post_request.json``: their
labels, annotations, start time), five to a rule (a first rule of 400 alerts too: its ``type`` lies
past the sniffed head).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe.formats import detect
from secpipe.formats.base import Decoded, decode_document
from secpipe.formats.prometheus_alerts import fingerprint

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
PAYLOAD = json.loads((REAL / "prometheus-msteams/alert/testdata/large_prom_post_request.json").read_bytes())


def _prom(a: dict[str, Any], state: str) -> dict[str, Any]:
    return {"labels": a["labels"], "annotations": a["annotations"], "state": state, "activeAt": a["startsAt"],
            "value": "1e+00"}  # fmt: skip


def _rules() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A rules answer: an alerting rule per alertname with its alerts (every third pending), an
    inactive alerting rule and a recording rule (no alert); and the alerts in answer order."""
    # (the payload's alerts are all NodeEvent: one rule of that name per 5 of them, as the same alert
    # defined per environment in several rule files gives)
    chunks = [PAYLOAD["alerts"][i:i + 5] for i in range(0, len(PAYLOAD["alerts"]), 5)]
    rules: list[dict[str, Any]] = [
        {"state": "firing", "name": chunk[0]["labels"]["alertname"], "query": "up == 0", "duration": 300,
         "labels": {"severity": "page"}, "annotations": chunk[0]["annotations"], "health": "ok",
         "alerts": [_prom(a, "pending" if j % 3 == 0 else "firing") for j, a in enumerate(chunk)],
         "evaluationTime": 0.0012, "lastEvaluation": "2019-01-09T15:21:40.341Z", "type": "alerting"}
        for chunk in chunks
    ]  # fmt: skip
    rules.insert(1, {"state": "inactive", "name": "Quiet", "query": "vector(0) > 1", "duration": 0, "labels": {},
                     "annotations": {}, "alerts": [], "health": "ok", "type": "alerting"})  # fmt: skip
    rules.append({"name": "job:up:sum", "query": "sum by (job) (up)", "health": "ok", "type": "recording"})
    doc = {"status": "success", "data": {"groups": [
        {"name": "infra", "file": "/etc/prometheus/rules.yml", "rules": rules[:2], "interval": 60},
        {"name": "rest", "file": "/etc/prometheus/rules.yml", "rules": rules[2:], "interval": 60}]}}  # fmt: skip
    return doc, [a for r in rules for a in r.get("alerts") or ()]


def _decode(doc: dict[str, Any]) -> Decoded:
    body = json.dumps(doc, indent=2).encode()
    fmt = detect(body[:8192])
    assert fmt is not None and fmt.name == "alertmanager"
    return decode_document(fmt, body, "rules.json")


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def test_rules_answer_maps_the_active_alerts() -> None:
    doc, alerts = _rules()
    assert len(alerts) == len(PAYLOAD["alerts"]) >= 10
    d = _decode(doc)
    assert d.dead == [] and d.events == len(alerts)
    rows = _rows(d)
    assert len(rows) == len(alerts)
    for row, a in zip(rows, alerts, strict=True):
        assert row["class_uid"] == 2004 and row["activity_id"] == 1
        assert (row["status_id"], row["status_detail"]) == (1, a["state"])
        assert row["finding_info"]["uid"] == fingerprint(a["labels"])
        assert row["finding_info"]["analytic"]["name"] == a["labels"]["alertname"]
        assert row["finding_info"]["title"] == a["annotations"]["summary"]
        assert row["metadata"]["log_name"] == "api/v1/rules" and row["metadata"]["product"]["name"] == "Prometheus"
        assert json.loads(row["raw_data"]) == a
    # the same alert read from /api/v1/alerts is the same event
    same = _decode({"status": "success", "data": {"alerts": alerts}})
    assert [r["metadata"]["uid"] for r in _rows(same)] == [r["metadata"]["uid"] for r in rows]


def test_rules_answer_long_first_rule() -> None:
    doc, alerts = _rules()
    first = doc["data"]["groups"][0]["rules"][0]
    first["alerts"] = first["alerts"] * 80
    d = _decode(doc)
    assert not d.dead and sum(b.num_rows for b in d.batches) == len(alerts) + 79 * 5


def test_rules_without_active_alert_and_broken_rule() -> None:
    doc, _ = _rules()
    quiet = {"status": "success", "data": {"groups": [{"name": "g", "rules": [doc["data"]["groups"][0]["rules"][1],
                                                                            doc["data"]["groups"][1]["rules"][-1]]}]}}  # fmt: skip
    d = _decode(quiet)
    assert not d.batches and len(d.dead) == 1 and "without alerts" in d.dead[0].reason
    broken = doc["data"]["groups"][1]["rules"][0]
    lost = len(broken["alerts"])
    broken["alerts"] = {"not": "a list"}  # one broken rule: dead alone, the other rules' alerts stored
    d = _decode(doc)
    assert [x.reason.split(":")[0] for x in d.dead] == ["not a Prometheus rule"]
    assert lost and sum(b.num_rows for b in d.batches) == len(PAYLOAD["alerts"]) - lost
    assert d.events == len(PAYLOAD["alerts"]) - lost + 1
