"""Real samples secpipe was not developed against, round 27: cloud, Kubernetes, runtime and CI/CD
formats (``tests/cases/holdout``, see its SOURCE.md heading "Round 27 (cloud and runtime)").

Expectations are written from the source documents and the producers' own references, not from
secpipe's output.
"""

from __future__ import annotations

import json

from secpipe import formats
from tests.unit.test_formats_holdout import CASES, _auto, _rows


def test_falco_metrics_snapshot_is_a_base_event_not_a_finding() -> None:
    """Falco's metrics snapshot (falco-website "Falco Metrics": ``metrics.output_rule: true``
    writes rule ``Falco internal: metrics snapshot``, source ``internal``, through the alert
    outputs) is Falco's own health counters, not a detection: it was a Detection Finding titled
    after that rule. It is a Base Event of its host with Falco's version, its counters kept.

    Sample: falcosecurity/falco-website ``content/en/docs/concepts/metrics/_index.md`` (commit
    0fc3d3dde2), the first ``json`` example ("Base / Wrapper Fields"), re-serialised compact."""
    name, d = _auto("falco-website-metrics-snapshot.jsonl")
    assert name == "falco" and not d.dead and d.events == 1
    (snap,) = _rows(d)
    assert snap["class_uid"] == 0 and snap["severity_id"] == 1  # Informational
    assert snap["time"] == 1726240940545  # 2024-09-13T15:22:20.545718604Z
    assert snap["message"] == "Falco metrics snapshot"
    assert snap["device"]["hostname"] == "test"
    assert snap["metadata"]["product"]["version"] == "0.39.0"
    assert snap["metadata"]["log_source"] == "internal"
    counters = json.loads(snap["unmapped"])["output_fields"]
    assert counters["scap.n_drops_perc"] == 0.0 and counters["falco.num_evts"] == 537963


def test_falco_alerts_and_snapshots_in_one_stream_split_by_class() -> None:
    """A Falco json_output stream holds the snapshots among the alerts (elastic/integrations'
    Falco alerts after the docs' snapshot): the alerts stay Detection Findings, in their order."""
    data = (CASES / "falco-website-metrics-snapshot.jsonl").read_bytes() + (CASES / "elastic-falco-alerts.log").read_bytes()
    d = formats.get("falco").decode(data, "mixed")
    assert not d.dead and d.events == 8
    classes = [b.column("class_uid")[0].as_py() for b in d.batches]
    assert classes == [2004, 0]
    assert d.batches[0].num_rows == 7 and d.batches[1].num_rows == 1
    assert "Falco internal: metrics snapshot" not in d.batches[0].column("metadata").field("event_code").to_pylist()
