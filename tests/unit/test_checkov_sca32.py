"""Checkov's SCA checks (``--framework sca_package`` / ``sca_image``, with a platform key): the vulnerability a check
names is its finding's cve (or advisory), with the package, fixed version, CVSS and description, where the check id
stood for it alone.

Input built from Checkov's SCA record (checkov/common/sca/output.py ``create_report_cve_record``; the values of the
package and license records of bridgecrewio/whorf's ``tests/conftest.py`` fixtures, Apache-2.0) as
``checkov -o json`` writes a record (its ``__dict__``; a Severity as its name, a CheckResult as its value)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.unit.holdout_support import auto_decoded, conformant_rows

_FILE = "/13b390aa-ea59-48ef-9fb8-069bf0430dce-req.yaml (nginx lines:1-98 (sha256:1403e55ab3))"
_PACKAGE: dict[str, Any] = {
    "check_id": "BC_VUL_1", "bc_check_id": "BC_CVE_2022_3970", "check_name": "SCA package scan",
    "check_result": {"result": "FAILED"}, "code_block": [[0, "tiff: 4.2.0-1+deb11u1"]], "evaluations": None,
    "check_class": "checkov.common.bridgecrew.vulnerability_scanning.image_scanner.ImageScanner",
    "file_abs_path": "/path/to/13b390aa-ea59-48ef-9fb8-069bf0430dce-req.yaml", "file_line_range": [0, 0],
    "file_path": _FILE, "resource": f"{_FILE[1:]}.tiff", "severity": "CRITICAL",
    "vulnerability_details": {
        "id": "CVE-2022-3970", "severity": "critical", "package_name": "tiff", "package_version": "4.2.0-1+deb11u1",
        "package_type": "os", "link": "https://security-tracker.debian.org/tracker/CVE-2022-3970", "cvss": 9.8,
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "description": "A vulnerability was found in LibTIFF.",
        "risk_factors": ["Attack vector: network", "Critical severity", "Recent vulnerability", "Attack complexity: low"],
        "published_date": "2022-11-13T08:15:00Z", "licenses": "Unknown", "root_package_name": None,
        "root_package_version": None, "status": "open", "lowest_fixed_version": "N/A", "fixed_versions": [],
    },
}  # fmt: skip
_LICENSE: dict[str, Any] = {
    "check_id": "BC_LIC_2", "bc_check_id": "BC_LIC_2", "check_name": "SCA license", "check_result": {"result": "FAILED"},
    "code_block": [[0, "gettext: 0.21-4"]], "evaluations": None, "file_line_range": [0, 0], "file_path": _FILE,
    "resource": f"{_FILE[1:]}.gettext",
    "vulnerability_details": {"package_name": "gettext", "package_version": "0.21-4", "license": "GPL",
                              "status": "FAILED", "policy": "BC_LIC_2", "package_type": "os"},
}  # fmt: skip


def _report(*checks: dict[str, Any]) -> bytes:
    return orjson.dumps({"check_type": "sca_image", "results": {"failed_checks": list(checks)},
                         "summary": {"passed": 0, "failed": len(checks), "skipped": 0, "parsing_errors": 0,
                                     "resource_count": 1, "checkov_version": "2.2.94"}}, option=orjson.OPT_INDENT_2)  # fmt: skip


def test_sca_vulnerability_and_license(tmp_path: Path) -> None:
    rows = conformant_rows(auto_decoded(_report(_PACKAGE, _LICENSE), tmp_path, "checkov"))
    vuln, lic = rows["application_security_posture_finding"]
    [v] = vuln["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2022-3970" and v["advisory"] is None
    [cvss] = v["cve"]["cvss"]
    assert (cvss["version"], cvss["base_score"]) == ("3.1", 9.8)
    assert v["cve"]["created_time"] == 1668327300000
    assert v["desc"] == "A vulnerability was found in LibTIFF."
    [pkg] = v["affected_packages"]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"]) == ("tiff", "4.2.0-1+deb11u1", None)
    assert v["references"] == ["https://security-tracker.debian.org/tracker/CVE-2022-3970"]
    assert vuln["severity_id"] == 5
    # a license check keeps the check as its advisory, with the package it names
    [lv] = lic["vulnerabilities"]
    assert lv["advisory"]["uid"] == "BC_LIC_2" and lv["cve"] is None
    assert (lv["affected_packages"][0]["name"], lv["affected_packages"][0]["version"]) == ("gettext", "0.21-4")


def test_sca_advisory_id_and_severity_from_details(tmp_path: Path) -> None:
    details = {**_PACKAGE["vulnerability_details"], "id": "GHSA-m5q9-6jq4-qcfp", "lowest_fixed_version": "4.5.0",
               "vector": None}  # fmt: skip
    check = {**_PACKAGE, "severity": None, "vulnerability_details": details}
    [r] = conformant_rows(auto_decoded(_report(check), tmp_path, "checkov"))["application_security_posture_finding"]
    [v] = r["vulnerabilities"]
    assert v["advisory"]["uid"] == "GHSA-m5q9-6jq4-qcfp" and v["cve"] is None
    assert v["advisory"]["src_url"] == "https://security-tracker.debian.org/tracker/CVE-2022-3970"
    assert v["affected_packages"][0]["fixed_in_version"] == "4.5.0"
    assert r["severity_id"] == 5  # the details' severity where the check names none
