"""Prometheus's ``GET /api/v1/alerts`` answer -> one Detection Finding per active alert.

Cases are built to the Prometheus HTTP API's shape (``{"status": "success", "data": {"alerts":
[...]}}``, each alert ``labels``, ``annotations``, ``state``, ``activeAt``, ``value``) from the
alerts of a real Alertmanager 0.27 answer recorded by prymitive/karma
(tests/cases/holdout/karma-alertmanager-v2-alerts-groups.json, see tests/cases/holdout/SOURCE.md):
the same label sets, so the finding uid can be checked against the ``fingerprint`` Alertmanager
itself computed for them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import detect, get
from secpipe.formats.base import decode_document
from secpipe.formats.prometheus_alerts import fingerprint

CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"


def _am_alerts() -> list[dict[str, Any]]:
    groups = json.loads((CASES / "karma-alertmanager-v2-alerts-groups.json").read_bytes())
    return [a for g in groups for a in g["alerts"]]


def _answer(alerts: list[dict[str, Any]], *, sorted_keys: bool = False) -> bytes:
    doc = {"status": "success", "data": {"alerts": alerts}}
    return json.dumps(doc, indent=2, sort_keys=sorted_keys).encode()


def _prom(a: dict[str, Any], state: str = "firing", **more: Any) -> dict[str, Any]:
    return {"labels": a["labels"], "annotations": a["annotations"], "state": state, "activeAt": a["startsAt"],
            "value": "1e+00", **more}  # fmt: skip


def test_fingerprint_is_alertmanagers() -> None:
    for a in _am_alerts():
        assert fingerprint(a["labels"]) == a["fingerprint"]


@pytest.mark.parametrize("sorted_keys", [False, True])  # Prometheus writes status first; its docs print keys sorted
def test_alerts_answer_maps_each_alert(sorted_keys: bool) -> None:
    am = _am_alerts()
    doc = _answer([_prom(am[0]), _prom(am[1], "pending", keepFiringSince="2024-01-01T00:00:00Z")], sorted_keys=sorted_keys)
    fmt = detect(doc)
    assert fmt is not None and fmt.name == "alertmanager"
    dec = decode_document(fmt, doc, "prometheus.json")
    assert dec.dead == [] and dec.events == 2
    rows = dec.batches[0].to_pylist()
    for row, a, state in zip(rows, am[:2], ("firing", "pending"), strict=True):
        assert row["class_uid"] == 2004 and row["activity_id"] == 1
        assert (row["status_id"], row["status_detail"]) == (1, state)
        fi = row["finding_info"]
        assert fi["uid"] == a["fingerprint"]  # what Alertmanager calls this alert once it is notified
        assert fi["analytic"]["name"] == a["labels"]["alertname"]
        assert fi["title"] == (a["annotations"].get("summary") or a["labels"]["alertname"])
        assert {t["name"]: t["value"] for t in fi["tags"]} == a["labels"]
        assert row["metadata"]["product"]["name"] == "Prometheus" and row["metadata"]["log_name"] == "api/v1/alerts"
        assert json.loads(row["raw_data"])["state"] == state
        assert json.loads(row["unmapped"])["value"] == "1e+00"
    assert json.loads(rows[1]["unmapped"])["keepFiringSince"] == "2024-01-01T00:00:00Z"
    assert rows[0]["time"] == rows[0]["start_time"] == rows[0]["finding_info"]["created_time"]


def test_a_bad_alert_is_dead_lettered_alone_and_an_empty_answer_says_why() -> None:
    am = _am_alerts()
    dec = decode_document(get("alertmanager"), _answer([_prom(am[0]), {**_prom(am[1]), "labels": "oops"}]), "p")
    assert sum(b.num_rows for b in dec.batches) == 1 and len(dec.dead) == 1 and dec.events == 2
    assert "labels" in dec.dead[0].reason
    dec = decode_document(get("alertmanager"), _answer([]), "p")
    assert dec.batches == [] and "without alerts" in dec.dead[0].reason


def test_alertmanager_payloads_are_not_taken_for_it(real: Path) -> None:
    webhook = (real / "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json").read_bytes()
    dec = decode_document(get("alertmanager"), webhook, "am")
    assert dec.dead == [] and dec.batches[0].column("metadata").field("product").field("name")[0].as_py() == "Alertmanager"
