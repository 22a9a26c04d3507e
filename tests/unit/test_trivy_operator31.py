"""trivy-operator's reports (aquasecurity.github.io/v1alpha1 custom resources), detected as nothing
before; samples: trivy-operator's test fixtures (``tests/cases/scanners31/SOURCES.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners31"


def _auto(doc: bytes) -> Decoded:
    fmt = formats.detect(doc)
    assert fmt is formats.get("trivy")
    return fmt.decode(doc, "x")


def _rows(d: Decoded) -> list[dict[str, Any]]:
    out = []
    for b in d.batches:
        rows = b.to_pylist()
        assert not check_rows(rows[0]["class_name"].lower().replace(" ", "_"), rows)
        out.extend(rows)
    return out


def test_vulnerability_report_list() -> None:
    d = _auto((CASES / "trivy-operator-vulnerabilityreportlist.json").read_bytes())
    assert not d.dead and d.events == 3
    rows = _rows(d)
    assert [r["vulnerabilities"][0]["cve"]["uid"] for r in rows] == ["CVE-2019-18276", "CVE-2021-3995", "CVE-2016-2781"]
    r = rows[0]
    assert r["class_name"] == "Vulnerability Finding" and r["severity"] == "Low"
    pkg = r["vulnerabilities"][0]["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"]) == ("bash", "5.0-6ubuntu1.1", "5.0-6ubuntu1.2")
    assert rows[2]["vulnerabilities"][0]["affected_packages"][0]["fixed_in_version"] is None
    w = r["resources"][0]
    assert (w["type"], w["name"], w["namespace"]) == ("Pod", "tt-reg", "default")
    assert w["labels"] == ["index.docker.io/josedonizetti/trivy:secrettest"]
    assert r["resources"][1]["name"] == "index.docker.io/josedonizetti/trivy:secrettest"  # (target "": the image)
    assert r["time"] == 1666383095000  # updateTimestamp 2022-10-21T20:11:35Z
    assert r["metadata"]["product"]["version"] == "0.31.3"
    assert r["metadata"]["correlation_uid"] == "f2bc818e-5f94-4bae-979a-479bc06dc9ca"
    assert r["finding_info"]["src_url"] == "https://avd.aquasec.com/nvd/cve-2019-18276"
    assert json.loads(r["unmapped"]) == {"score": 7.8}


def test_config_audit_report_list() -> None:
    d = _auto((CASES / "trivy-operator-configauditreportlist.json").read_bytes())
    assert not d.dead and d.events == 5  # `checks` only: the Starboard-era podChecks repeat them
    rows = _rows(d)
    assert [r["compliance"]["control"] for r in rows] == ["KSV014", "KSV014", "KSV013", "KSV013", "KSV014"]
    assert {r["compliance"]["status"] for r in rows} == {"Fail"} and {r["status"] for r in rows} == {"New"}
    assert rows[3]["compliance"]["status_detail"] == "Container 'rss-reader' of Pod 'rss-site' should specify an image tag"
    assert [(r["resources"][0]["type"], r["resources"][0]["name"]) for r in rows[3:]] == [
        ("Pod", "rss-site"), ("ReplicaSet", "memcached-sample-6c765df685")]  # fmt: skip
    assert rows[4]["time"] == 1645694009000


def test_single_exposed_secret_report_and_foreign_items() -> None:
    """A report as trivy-operator's webhook posts it (fields per pkg/apis/aquasecurity/v1alpha1's
    ExposedSecretReport), then in a List beside an object of another kind (dead-lettered alone)."""
    report = {"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ExposedSecretReport",
              "metadata": {"name": "replicaset-app-7d9f-app", "namespace": "shop", "uid": "6c1e0d53-2b0e-4d8a-9a35-1c1f3f1f0a11",
                           "labels": {"trivy-operator.resource.kind": "ReplicaSet", "trivy-operator.resource.name": "app-7d9f",
                                      "trivy-operator.resource.namespace": "shop", "trivy-operator.container.name": "app"}},
              "report": {"updateTimestamp": "2024-05-02T10:00:00Z",
                         "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.50.1"},
                         "registry": {"server": "ghcr.io"}, "artifact": {"repository": "acme/app", "tag": "1.2.3"},
                         "summary": {"criticalCount": 1, "highCount": 0, "mediumCount": 0, "lowCount": 0},
                         "secrets": [{"target": "/app/.env", "ruleID": "aws-access-key-id", "title": "AWS Access Key ID",
                                      "category": "AWS", "severity": "CRITICAL", "match": "AWS_ACCESS_KEY_ID=********************"}]}}  # fmt: skip
    [r] = _rows(_auto(json.dumps(report).encode()))
    assert r["class_name"] == "Data Security Finding" and r["severity"] == "Critical"
    assert r["data_security"]["detection_pattern"] == "aws-access-key-id" and r["file"]["path"] == "/app/.env"
    assert (r["resources"][0]["type"], r["resources"][0]["name"], r["resources"][0]["namespace"]) == ("ReplicaSet", "app-7d9f", "shop")
    assert r["resources"][0]["labels"] == ["ghcr.io/acme/app:1.2.3"]
    listed = {"apiVersion": "v1", "kind": "List", "items": [report, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}]}
    d = _auto(json.dumps(listed).encode())
    assert len(_rows(d)) == 1 and d.events == 2
    [dead] = d.dead
    assert "no trivy-operator report" in dead.reason and "ConfigMap" in dead.reason and dead.offset == 1


def test_cluster_compliance_report_early_summary() -> None:
    rows = _rows(_auto((CASES / "trivy-operator-clustercompliancereport-early.json").read_bytes()))
    assert [(r["compliance"]["control"], r["compliance"]["status"], r["severity"]) for r in rows] == [
        ("1.7", "Pass", "Medium"), ("1.1", "Fail", "Low")]  # fmt: skip
    assert rows[1]["compliance"]["status_detail"] == "3 failed" and rows[1]["policy"]["group"]["uid"] == "nsa"
    assert rows[0]["time"] == 1647199770000  # status.updateTimestamp 2022-03-13T19:29:30Z


def test_cluster_compliance_report_detail() -> None:
    """status.detailReport as pkg/apis/aquasecurity/v1alpha1 (compliance_types.go) defines it: a failed
    check per target, the ``{"success": true}`` placeholder of a control nothing failed."""
    report = {"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ClusterComplianceReport",
              "metadata": {"name": "k8s-nsa-1.0"},
              "spec": {"cron": "0 */6 * * *", "reportType": "all", "compliance": {"id": "k8s-nsa-1.0", "title": "National Security Agency - Kubernetes Hardening Guidance v1.0"}},
              "status": {"updateTimestamp": "2024-05-02T06:00:00Z", "summary": {"failCount": 1, "passCount": 1},
                         "detailReport": {"id": "k8s-nsa-1.0", "title": "National Security Agency - Kubernetes Hardening Guidance v1.0",
                                          "version": "1.0", "relatedVersion": ["https://www.nsa.gov/Press-Room/News-Highlights/Article/Article/2716980/"],
                                          "results": [
                                              {"id": "1.0", "name": "Non-root containers", "severity": "MEDIUM",
                                               "checks": [{"checkID": "KSV012", "target": "Deployment/web", "title": "Runs as root user",
                                                           "severity": "MEDIUM", "category": "Kubernetes Security Check",
                                                           "messages": ["Container 'web' of Deployment 'web' should set 'securityContext.runAsNonRoot' to true"],
                                                           "remediation": "Set 'containers[].securityContext.runAsNonRoot' to true.",
                                                           "success": False}]},
                                              {"id": "1.1", "name": "Immutable container file systems", "severity": "LOW",
                                               "checks": [{"severity": "", "success": True}]}]}}}  # fmt: skip
    rows = _rows(_auto(json.dumps(report).encode()))
    [failed] = [r for r in rows if r["compliance"]["control"] == "1.0"]
    [passed] = [r for r in rows if r["compliance"]["control"] == "1.1"]
    assert failed["compliance"]["checks"][0]["uid"] == "KSV012" and failed["compliance"]["status"] == "Fail"
    assert failed["resources"][1]["name"] == "Deployment/web" and failed["policy"]["name"] == "Non-root containers"
    assert failed["time"] == 1714629600000
    assert passed["compliance"]["status"] == "Pass" and passed["finding_info"]["uid"] == "k8s-nsa-1.0|1.1"
    assert json.loads(passed["unmapped"])["RelatedResources"][0].startswith("https://www.nsa.gov/")
