"""Alertmanager's speed path keeps its output (issue 3's per-format floor, 100-alert webhooks).

``_findings.finding_base`` memoizes the columns of ``base_columns`` that depend only on the
class, product and the rows' activity/severity ids: it must give exactly ``base_columns``'
columns, in the same order, on a memo miss and on a hit, and hand rows without their own time
to ``base_columns``. The webhook decoder takes one typed decode of the payload where the native
split gives the alerts' bytes, else ``ReportFormat``'s path: both give the same batches and dead
letters on the real samples, bench-shaped payloads and mutated alerts. An alert whose
``annotations`` is not an object is dead-lettered alone (it used to fail the whole payload);
``null`` annotations read as none.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _fast, _findings, get
from secpipe.formats.base import base_columns
from tests.unit.native_support import same_both_ways

BENCH = Path(__file__).resolve().parents[2] / "bench"
HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout" / "grafana_webhook_notifier.json"


def _samples(real: Path) -> list[Path]:
    return sorted((real / "prometheus-msteams").rglob("*.json")) + [HOLDOUT]


def _base_args(n: int, seed: int) -> dict[str, Any]:
    return {
        "kind": "alertmanager", "product": "Alertmanager" if seed % 2 else "Grafana Alerting", "vendor": "Prometheus",
        "uids": pa.array([f"{seed:04x}{i:028x}" for i in range(n)], pa.string()),
        "times_ms": pa.array([1_700_000_000_000 + seed * 1000 + i for i in range(n)], pa.int64()),
        "raws": [json.dumps({"i": i, "seed": seed, "t": "é"}).encode() for i in range(n)],
    }  # fmt: skip


@pytest.mark.parametrize("n", [1, 3, 100])
def test_finding_base_is_base_columns(n: int) -> None:
    for seed in range(4):  # the first call of each key builds the memo, the next ones hit it
        args = _base_args(n, seed % 2)
        act = [3 if (i + seed) % 3 == 0 else 1 for i in range(n)]
        sev = [(i * 7 + seed) % 7 for i in range(n)]
        got = _findings.finding_base("detection_finding", **args, activity_ids=act, severity=sev)
        want = base_columns("detection_finding", **args, activity_id=pa.array(act, pa.int32()),
                            severity_id=pa.array(sev, pa.int32()))  # fmt: skip
        assert list(got) == list(want)
        for k, col in want.items():
            assert got[k].equals(col), k


def test_finding_base_leaves_receipt_time_rows_to_base_columns() -> None:
    args = _base_args(3, 1)
    args["times_ms"] = pa.array([None, 5, None], pa.int64())
    got = _findings.finding_base("detection_finding", **args, activity_ids=[1, 1, 1], severity=[2, 2, 2])
    assert got["metadata.labels"].to_pylist() == [["secpipe:time_from_receipt"], None, ["secpipe:time_from_receipt"]]
    assert got["time"].to_pylist()[1] == 5 and got["time"].null_count == 0


def test_memo_is_bounded() -> None:
    for i in range(_findings._MEMO_MAX + 10):
        _findings.memo_columns(("test", i), lambda: {"x": pa.array([1])})
    assert len(_findings._MEMO) <= _findings._MEMO_MAX


def _bench_payloads() -> list[bytes]:
    sys.path.insert(0, str(BENCH))
    try:
        import formats_scanners_bench
    finally:
        sys.path.remove(str(BENCH))
    return formats_scanners_bench.gen_alertmanager(300)


def _mutants(base: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    odd: list[Any] = [None, 7, "", "é\"\\\n", [], {}, {"k": "v"}, True]
    for j in (0, 1):
        for key in ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint", "zExtra"):
            for v in odd:
                m = copy.deepcopy(base)
                m["alerts"][j][key] = v
                out.append((f"{j}.{key}={v!r}", m))
        for lab in ("severity", "alertname"):
            for v in (None, 3, "", "WARNING", {"a": 1}):
                m = copy.deepcopy(base)
                m["alerts"][j].setdefault("labels", {})[lab] = v
                out.append((f"{j}.labels.{lab}={v!r}", m))
    for key in ("status", "groupKey", "commonLabels", "version", "orgId", "receiver"):
        for v in (None, 3, "", {"severity": "critical"}):
            m = copy.deepcopy(base)
            m[key] = v
            out.append((f"{key}={v!r}", m))
    return out


def test_native_and_python_paths_agree(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _fast.available():
        pytest.skip("native extension not built (or SECPIPE_NATIVE=0)")
    rows = 0
    for p in _samples(real):
        rows += sum(b.num_rows for b in same_both_ways("alertmanager", p.read_bytes(), monkeypatch, p).batches)
    for i, doc in enumerate(_bench_payloads()):
        rows += sum(b.num_rows for b in same_both_ways("alertmanager", doc, monkeypatch, f"bench {i}").batches)
    base = json.loads((real / "prometheus-msteams/alert/testdata/prom_post_request_12_alerts.json").read_text())
    for what, m in _mutants(base):
        same_both_ways("alertmanager", json.dumps(m).encode(), monkeypatch, what)
        same_both_ways("alertmanager", json.dumps(m, indent=2).encode(), monkeypatch, what)
    assert rows >= 300


def test_annotations_that_are_not_an_object_dead_letter_that_alert_only(real: Path) -> None:
    base = json.loads((real / "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json").read_text())
    bad = copy.deepcopy(base)
    bad["alerts"][1]["annotations"] = ["not", "an", "object"]
    out = get("alertmanager").decode(json.dumps(bad).encode(), "hook")
    assert out.events == 2
    assert [(d.offset, d.source) for d in out.dead] == [(1, "hook")]
    assert "Expected `object`, got `array` - at `$.annotations`" in out.dead[0].reason
    assert json.loads(out.dead[0].raw)["annotations"] == ["not", "an", "object"]
    (batch,) = out.batches
    assert batch.num_rows == 1
    assert batch.column("finding_info").field("analytic").field("name").to_pylist() == ["high_memory_load"]


def test_null_annotations_read_as_none(real: Path) -> None:
    base = json.loads((real / "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json").read_text())
    base["alerts"][0]["annotations"] = None
    out = get("alertmanager").decode(json.dumps(base).encode(), "hook")
    assert not out.dead
    (batch,) = out.batches
    info = batch.column("finding_info")
    name = base["alerts"][0]["labels"]["alertname"]
    assert info.field("title").to_pylist()[0] == name  # no summary: the alert name
    assert info.field("desc").to_pylist()[0] is None
    assert json.loads(batch.column("unmapped").to_pylist()[0])["annotations"] is None
