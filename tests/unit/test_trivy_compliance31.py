"""Trivy compliance reports (``trivy image|k8s|aws --compliance <spec> --format json``): dead-lettered
as no Trivy report before; Trivy's own fixtures (``tests/cases/scanners31/SOURCES.md``). Expected
values are read in the samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners31"


def _decode(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("trivy")
    return fmt.decode(doc, name)


def _rows(d: Decoded) -> dict[str, list[dict[str, Any]]]:
    assert not d.dead, d.dead
    out: dict[str, list[dict[str, Any]]] = {}
    for b in d.batches:
        rows = b.to_pylist()
        cls = rows[0]["class_name"].lower().replace(" ", "_")
        assert not check_rows(cls, rows)
        out.setdefault(cls, []).extend(rows)
    return out


def test_report_all_each_finding_names_its_control() -> None:
    d = _decode("trivy-compliance-all.json")
    [a, b] = _rows(d)["compliance_finding"]
    assert d.events == 2
    assert [r["compliance"]["control"] for r in (a, b)] == ["1.0", "1.1"]
    assert [r["compliance"]["checks"][0]["uid"] for r in (a, b)] == ["AVD-KSV012", "AVD-KSV013"]
    assert a["compliance"]["standards"] == ["NSA"] and a["compliance"]["status"] == "Fail"
    assert a["policy"] == {"uid": "1.0", "name": "Non-root containers", "desc": None, "version": None,
                           "group": {"uid": "1234", "name": "NSA"}}  # fmt: skip
    assert [r["severity"] for r in (a, b)] == ["Medium", "Low"]  # the check gives none: the control's
    assert json.loads(a["unmapped"])["RelatedResources"] == ["https://example.com"]
    assert "secpipe:time_from_receipt" in a["metadata"]["labels"]


def test_early_lower_case_report_with_vulnerability_and_empty_control() -> None:
    rows = _rows(_decode("trivy-compliance-vuln-config-early.json"))
    [misconf, empty] = sorted(rows["compliance_finding"], key=lambda r: r["compliance"]["control"])
    [vuln] = rows["vulnerability_finding"]
    assert misconf["compliance"]["control"] == "1.0" and misconf["compliance"]["status"] == "Pass"
    assert misconf["compliance"]["checks"][0]["uid"] == "AVD-KSV-0001" and misconf["severity"] == "Medium"
    assert misconf["resources"][1]["name"] == "Deployment/metrics-server"
    # a control without results (results: null) passed; it is its own event
    assert empty["compliance"] | {"checks": None} == empty["compliance"] | {
        "control": "1.1", "status": "Pass", "status_id": 1, "desc": "Check that container root file system is immutable",
        "standards": ["nsa"], "checks": None}  # fmt: skip
    assert empty["status"] == "Resolved" and empty["severity"] == "Low"
    assert empty["finding_info"]["uid"] == "1234|1.1"
    assert json.loads(empty["raw_data"])["id"] == "1.1"
    # the vulnerability keeps its class; its control is its policy, the control's severity where it has none
    assert vuln["vulnerabilities"][0]["advisory"]["uid"] == "DLA-2424-1"
    assert vuln["vulnerabilities"][0]["affected_packages"][0]["fixed_in_version"] == "2020d-0+deb9u1"
    assert vuln["policy"]["uid"] == "1.2" and vuln["policy"]["desc"] == "Bad tzdata package"
    assert vuln["severity"] == "Critical"
    assert vuln["resources"][0]["name"] == "rancher/metrics-server:v0.3.6"
    assert json.loads(vuln["unmapped"])["RelatedResources"] == ["http://related-resource/"]


def test_summary_reports_one_event_per_control() -> None:
    for name in ("trivy-compliance-summary-totals.json", "trivy-compliance-summary-status.json"):
        [a, b] = _rows(_decode(name))["compliance_finding"]
        assert [r["compliance"]["control"] for r in (a, b)] == ["1.0", "1.1"], name
        assert [r["compliance"]["status"] for r in (a, b)] == ["Fail", "Fail"], name
        assert [r["severity"] for r in (a, b)] == ["Medium", "Low"]
        assert a["finding_info"]["title"] == "Non-root containers" and a["status"] == "New"


def test_summary_manual_and_passing_controls() -> None:
    """Trivy's summary.go: TotalFail left out for a manual control, 0 when the control passed."""
    doc = {"ID": "k8s-cis-1.23", "Title": "CIS Kubernetes Benchmarks v1.23", "SummaryControls": [
        {"ID": "5.4.2", "Name": "Consider external secret storage (Manual)", "Severity": "MEDIUM"},
        {"ID": "5.7.4", "Name": "The default namespace should not be used", "Severity": "MEDIUM", "TotalFail": 0}]}
    [manual, passed] = _rows(formats.get("trivy").decode(json.dumps(doc).encode(), "x"))["compliance_finding"]
    assert manual["compliance"]["status_id"] == 0 and manual["status"] == "New"
    assert passed["compliance"]["status"] == "Pass" and passed["status"] == "Resolved"


def test_bad_control_dead_lettered_alone() -> None:
    doc = json.loads((CASES / "trivy-compliance-all.json").read_text())
    doc["Results"][0]["Severity"] = 3
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "x")
    [dead] = d.dead
    assert "Trivy compliance control" in dead.reason and "severity" in dead.reason
    assert [r["compliance"]["control"] for b in d.batches for r in b.to_pylist()] == ["1.1"]
    assert d.events == 2
    doc["Results"][0]["Severity"] = "MEDIUM"
    doc["Results"][1]["Results"][0]["Target"] = 5  # a result of the wrong shape: that one alone
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "x")
    assert [x.reason for x in d.dead] == ["not a Trivy result (control 1.1): Expected `str | null`, got `int` - at `$.Target`"]
    assert [r["compliance"]["control"] for b in d.batches for r in b.to_pylist()] == ["1.0"]
    d = formats.get("trivy").decode(b'{"ID": "x", "RelatedResources": [], "Results": 7}', "x")
    assert "not a Trivy compliance report" in d.dead[0].reason
