"""Alertmanager webhook alerts whose fields have another type than the payload's (session 36).

The webhook payload (version 4; Alertmanager's ``notify/webhook`` sends Go's ``template.Alert``) gives
each alert's ``status`` ("firing"/"resolved"), ``startsAt``, ``endsAt``, ``generatorURL`` and
``fingerprint`` as strings and its ``labels`` and ``annotations`` as string maps. An alert with a
number there (``{"status": 5}``) was stored, the number read as text; it is now dead-lettered with
msgspec's reason and the payload's other alerts are stored.

The payloads are real: prometheus-msteams' testdata (../shared/data/real/prometheus-msteams,
SOURCES.md there), one field of one alert changed per case.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats

SAMPLE = "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json"


def _decode(doc: dict[str, Any]) -> tuple[int, list[tuple[int, str]]]:
    out = formats.get("alertmanager").decode(json.dumps(doc).encode(), "test")
    return sum(b.num_rows for b in out.batches), [(d.offset, d.reason) for d in out.dead]


@pytest.mark.parametrize(("field", "value", "where"), [
    ("status", 5, "`$.status`"),
    ("startsAt", 1520422401, "`$.startsAt`"),
    ("endsAt", 0, "`$.endsAt`"),
    ("generatorURL", 7, "`$.generatorURL`"),
    ("fingerprint", 123456789, "`$.fingerprint`"),
    ("labels", {"alertname": "high_memory_load", "severity": 3}, "`$.labels[...]`"),
    ("labels", ["alertname"], "`$.labels`"),
    ("annotations", {"summary": 5}, "`$.annotations"),
])  # fmt: skip
def test_an_alert_of_the_wrong_type_is_refused_alone(real: Path, field: str, value: Any, where: str) -> None:
    base = json.loads((real / SAMPLE).read_text())
    assert base["version"] == "4" and len(base["alerts"]) == 2
    for i in (0, 1):
        doc = copy.deepcopy(base)
        doc["alerts"][i][field] = value
        rows, dead = _decode(doc)
        assert rows == 1, (field, dead)
        assert len(dead) == 1 and dead[0][0] == i
        assert dead[0][1].startswith("not an Alertmanager alert:") and where in dead[0][1], dead[0][1]


def test_every_alert_wrong_and_the_real_payloads_unchanged(real: Path) -> None:
    base = json.loads((real / SAMPLE).read_text())
    doc = copy.deepcopy(base)
    for a in doc["alerts"]:
        a["status"] = 1
    rows, dead = _decode(doc)
    assert rows == 0 and [off for off, _ in dead] == [0, 1] and all("`$.status`" in why for _, why in dead)
    # every real webhook payload of prometheus-msteams decodes whole, nothing refused
    n = 0
    for p in sorted((real / "prometheus-msteams").rglob("*.json")):
        doc = json.loads(p.read_text())
        if isinstance(doc, dict) and doc.get("alerts") and doc.get("version") == "4":
            assert _decode(doc) == (len(doc["alerts"]), []), p
            n += 1
    assert n >= 8
    # null where a string is due is no value (Go's zero values are "" and the zero time), not a refusal
    doc = copy.deepcopy(base)
    doc["alerts"][0].update(status=None, generatorURL=None, fingerprint=None)
    assert _decode(doc) == (2, [])
