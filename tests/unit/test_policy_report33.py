"""A vulnerability scanner's policy report results are Vulnerability Findings (:mod:`secpipe.formats.policy_report`).

The report is written as trivy-operator-polr-adapter writes one for a Trivy Operator VulnerabilityReport
(fjogeleit/trivy-operator-polr-adapter ``pkg/adapters/vulnr/mapper.go``: source ``Trivy Vulnerability``, category
``Vulnerability Scan``, the vulnerability id as policy, its title as message, properties ``resource``,
``installedVersion``, ``fixedVersion``, ``primaryLink``, ``<source>.v3_score`` / ``v3_vector``, ``score``...);
the vulnerability is Trivy's own record of CVE-2023-0286 in libssl3.
"""

from __future__ import annotations

import json

from secpipe import formats

REPORT = {
    "apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
    "metadata": {"name": "trivy-vuln-polr-replicaset-nginx-6d4cf56db6", "namespace": "default",
                 "creationTimestamp": "2023-03-01T10:00:00Z"},
    "scope": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "nginx-6d4cf56db6", "namespace": "default",
              "uid": "0f1b4c62-6d0e-4a47-9b38-0f2a1c0e6a11"},
    "summary": {"pass": 0, "fail": 1, "warn": 0, "error": 0, "skip": 0},
    "results": [
        {"policy": "CVE-2023-0286", "message": "openssl: X.400 address type confusion in X.509 GeneralName",
         "result": "fail", "severity": "high", "category": "Vulnerability Scan", "source": "Trivy Vulnerability",
         "timestamp": {"seconds": 1677664800, "nanos": 0},
         "properties": {"artifact.repository": "library/nginx", "artifact.tag": "1.23.3", "registry.server": "index.docker.io",
                        "resource": "libssl3", "installedVersion": "3.0.7-r0", "fixedVersion": "3.0.8-r0",
                        "primaryLink": "https://avd.aquasec.com/nvd/cve-2023-0286", "score": "7.4",
                        "nvd.v3_score": "7.4", "nvd.v3_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
                        "resultID": "5d8b9b3b0f0e6d0c9a7f1e2d3c4b5a69788766554"}},
        {"policy": "disallow-latest-tag", "rule": "require-image-tag", "result": "pass", "category": "Best Practices",
         "source": "kyverno", "message": "validation rule 'require-image-tag' passed."},
    ],
}


def test_vulnerability_scan_results_are_vulnerability_findings() -> None:
    dec = formats.get("policy_report").decode(json.dumps(REPORT).encode(), "t")
    assert dec.dead == [] and dec.events == 2
    rows = {r["class_name"]: r for b in dec.batches for r in b.to_pylist()}
    assert sorted(rows) == ["Compliance Finding", "Vulnerability Finding"]
    vf = rows["Vulnerability Finding"]
    (v,) = vf["vulnerabilities"]
    assert (vf["severity"], vf["metadata"]["product"]["name"], vf["resources"][0]["name"]) == (
        "High", "Trivy Vulnerability", "nginx-6d4cf56db6")
    assert v["cve"]["uid"] == "CVE-2023-0286"
    assert v["cve"]["cvss"] == [{"version": "3.1", "base_score": 7.4, "vendor_name": "nvd",
                                 "vector_string": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"}]
    pkg = v["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"], v["is_fix_available"]) == (
        "libssl3", "3.0.7-r0", "3.0.8-r0", True)
    assert v["references"] == ["https://avd.aquasec.com/nvd/cve-2023-0286"]
    assert json.loads(vf["unmapped"])["properties"]["artifact.tag"] == "1.23.3"  # the rest stays in unmapped
    assert rows["Compliance Finding"]["compliance"]["control"] == "disallow-latest-tag"
