"""Findings from real formats -> alerts: labels, fingerprints, firing/resolved."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.respond.extract import alerts_from_batch, is_finding_batch


def am(real: Path, status: str) -> list:
    p = json.loads((real / "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json").read_text())
    if status == "resolved":
        p["status"] = "resolved"
        for a in p["alerts"]:
            a["status"], a["endsAt"] = "resolved", "2018-03-07T11:40:00Z"
    return alerts_from_batch(formats.get("alertmanager").decode(json.dumps(p).encode(), "t").batches[0])


def test_alertmanager_firing_and_resolved_share_the_fingerprint(real: Path) -> None:
    firing, resolved = am(real, "firing"), am(real, "resolved")
    assert [a.status for a in firing] == ["firing", "firing"] and [a.status for a in resolved] == ["resolved"] * 2
    assert [a.fingerprint for a in firing] == [a.fingerprint for a in resolved]
    assert firing[0].fingerprint != firing[1].fingerprint
    a = firing[0]
    # labels from the payload (alertname) plus the routing labels; summary from annotations
    assert a.labels["alertname"] == "high_memory_load" and a.labels["rule"] == "high_memory_load"
    assert a.labels["product"] == "Alertmanager" and a.labels["class"] == "detection_finding"
    assert a.annotations["summary"] == "Server High Memory usage"
    assert a.annotations["description"] == "10.80.40.11 reported high memory usage with 23.28%."
    assert resolved[0].ends_at > 0


def test_vulnerability_findings_from_trivy(real: Path) -> None:
    b = formats.get("trivy").decode((real / "trivy/alpine-39-high-critical.json.golden").read_bytes(), "t").batches[0]
    alerts = alerts_from_batch(b)
    assert len(alerts) == 2 and {a.labels["severity"] for a in alerts} == {"critical"}
    a = alerts[0]
    assert a.labels["class"] == "vulnerability_finding" and a.labels["product"] == "Trivy"
    assert a.labels["image"] == "ghcr.io/aquasecurity/trivy-test-images:alpine-39"
    assert a.labels["rule"] == "CVE-2019-14697" and a.annotations["cve"] == "CVE-2019-14697"
    assert a.annotations["link"] == "https://avd.aquasec.com/nvd/cve-2019-14697"
    assert a.fingerprint == b.column("finding_info")[0]["uid"].as_py()
    assert "Vulnerability" in a.labels["tags"].split(",")


def test_non_findings_are_ignored_without_reading_rows(real: Path) -> None:
    ev = (real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_bytes()
    b = formats.get("k8s_audit").decode(ev, "t").batches[0]
    assert not is_finding_batch(b) and alerts_from_batch(b) == []
