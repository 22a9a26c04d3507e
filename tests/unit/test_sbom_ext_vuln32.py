"""CycloneDX 1.0-1.3 BOMs stating vulnerabilities with the vulnerability extension 1.0 (``v:vulnerabilities`` inside a
component, CycloneDX/specification ``schema/ext/vulnerability-1.0.xsd``) are read as findings; they held no event.

Samples (tests/cases/sbom32/SOURCES.md): Grype 0.33.1's ``-o cyclonedx`` BOM 1.2 of an image (VMware Tanzu's docs,
trimmed to three of its components), and KICS' ``--report-formats cyclonedx`` example (Checkmarx/kics docs/results.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.holdout_support import auto_decoded, conformant_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom32"


def _rows(name: str, tmp_path: Path) -> list[dict]:
    d = auto_decoded((CASES / name).read_bytes(), tmp_path, "sbom")
    assert not d.dead
    return conformant_rows(d)["vulnerability_finding"]


def test_grype_cyclonedx_12_vulnerabilities(tmp_path: Path) -> None:
    rows = _rows("grype-0.33.1-kube-rbac-proxy.cdx12.xml", tmp_path)
    assert [r["vulnerabilities"][0]["cve"]["uid"] for r in rows] == ["CVE-2022-21698", "CVE-2015-5237", "CVE-2021-22570"]
    first, _, third = rows
    assert first["severity_id"] == 4 and first["metadata"]["product"]["name"] == "grype"
    assert first["time"] == 1647974596000  # metadata.timestamp 2022-03-22T14:43:16-04:00
    v = first["vulnerabilities"][0]
    assert [(c["version"], c["base_score"], c["vector_string"]) for c in v["cve"]["cvss"]] == [
        ("2.0", 5.0, "AV:N/AC:L/Au:N/C:N/I:N/A:P"), ("3.0", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")]
    assert v["references"][2] == "https://github.com/prometheus/client_golang/security/advisories/GHSA-cg3q-j54f-5p7p"
    assert v["desc"].startswith("client_golang is the instrumentation library")
    [pkg] = v["affected_packages"]
    assert (pkg["name"], pkg["version"]) == ("github.com/prometheus/client_golang", "v1.7.1")
    # the component has no bom-ref: its first vulnerability's ref stands for it; another's own ref is kept
    [pkg3] = third["vulnerabilities"][0]["affected_packages"]
    assert (pkg3["name"], pkg3["version"]) == ("google.golang.org/protobuf", "v1.24.0")
    assert json.loads(third["unmapped"])["properties"] == [
        {"name": "cdx:ext:vulnerability:ref", "value": "urn:uuid:93fb4bdb-96cc-41ec-b024-9e258b8da7c7"}]


def test_kics_cyclonedx_vulnerability(tmp_path: Path) -> None:
    [r] = _rows("kics-results-doc.cdx13.xml", tmp_path)
    v = r["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "e38a8e0a-b88b-4902-b3fe-b0fcb17d5c10" and v["advisory"]["src_url"] == "https://kics.io/"
    assert r["severity_id"] == 1  # severity None
    assert v["remediation"]["desc"].startswith("In line 1, a result was found. 'aws_guardduty_detector[{{negative1}}]")
    [pkg] = v["affected_packages"]
    assert pkg["name"] == "assets/queries/terraform/aws/guardduty_detector_disabled/test/negative.tf"
    assert json.loads(r["raw_data"])["source"] == {"name": "KICS", "url": "https://kics.io/"}
