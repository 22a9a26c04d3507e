"""Alertmanager labels of a small batch (session 35): ``finding_info.tags`` of one notification's few alerts is made
in one conversion (``alertmanager_api._few_tags``), the same column ``_findings.kv_list`` makes for a large batch.

Labels from real webhook payloads (prometheus-msteams' testdata, ../shared/data/real, SOURCES.md there); Alertmanager
labels are strings, the other values (a number, a list, null: what another sender might put there) are compared too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats._findings import kv_list
from secpipe.formats.alertmanager_api import _few_tags

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "prometheus-msteams"


@pytest.mark.skipif(not REAL.exists(), reason="the real samples are not here")
def test_few_tags_equal_kv_list() -> None:
    payloads = [json.loads(p.read_text()) for p in sorted(REAL.rglob("*.json"))]
    batches = [[a.get("labels") or {} for a in doc["alerts"]] for doc in payloads if isinstance(doc, dict) and doc.get("alerts")]
    assert len(batches) >= 8
    batches.append([{"alertname": "x", "n": 3, "on": True, "l": [1, "a"], "none": None}, {}, {"a": ""}])
    for labels in batches:
        for lbs in (labels[:1], labels[:16]):
            few, ref = _few_tags(lbs), kv_list(lbs)
            assert few.type == ref.type
            assert few.to_pylist() == ref.to_pylist()
            assert few.equals(ref)
