"""Scanner formats against real samples of the holdout round 27 (``tests/cases/scanners27/SOURCES.md``).

Expected values are read in the samples, not computed by the parsers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners27"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _auto(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("snyk"), name
    return fmt.decode(doc, name)


def test_snyk_issues_api_package_vulnerability() -> None:
    # A Snyk REST Issues API page (GET /rest/orgs/{org}/issues) was refused as unrecognized input.
    d = _auto("snyk-issues-api-sca-single-defectdojo.json")
    assert not d.dead
    [r] = _rows(d)
    assert r["class_uid"] == 2002
    assert not check_rows("vulnerability_finding", [r])
    assert r["severity_id"] == 5  # effective_severity_level critical
    assert r["time_dt"].isoformat().startswith("2025-09-19T09:01:03.316")  # updated_at
    assert (r["status_id"], r["status_code"]) == (3, "ignored")  # "ignored": true -> Suppressed
    assert r["risk_score"] == 649
    fi = r["finding_info"]
    assert fi["uid"] == "834bd190-3f57-46bb-b9ef-e11fee859ab4"
    assert fi["title"] == "Heap-based Buffer Overflow"
    assert fi["types"] == ["package_vulnerability"]
    [v] = r["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2023-4863" and v["advisory"] is None
    assert v["cve"]["cwe"]["uid"] == "CWE-122"
    assert v["related_vulnerabilities"] == ["SNYK-PYTHON-PILLOW-5918878"]
    assert v["references"] == ["https://nvd.nist.gov/vuln/detail/CVE-2023-4863"]
    assert [(c["vendor_name"], c["base_score"], c["version"]) for c in v["cve"]["cvss"]] == [
        ("Snyk", 9.6, "3.1"),
        ("NVD", 8.8, "3.1"),
        ("Red Hat", 9.6, "3.1"),
        ("SUSE", 8.8, "3.1"),
    ]
    [p] = v["affected_packages"]
    assert (p["name"], p["version"]) == ("pillow", "9.5.0")
    assert v["is_fix_available"] is True  # is_pinnable, is_fixable_snyk
    assert v["is_exploit_available"] is True  # maturity High / Attacked
    [res] = r["resources"]
    assert (res["type"], res["uid"]) == ("project", "92867a20-30b8-44fd-a59f-da71d59b58f1")
    assert "3de2b524-eae7-4f3f-ba5f-1a07e1df44c2" in res["data"]
    assert '"reachability":"not-applicable"' in r["unmapped"]  # the coordinates, not placed


def test_snyk_issues_api_code_issues() -> None:
    d = _auto("snyk-issues-api-code-defectdojo.json")
    assert not d.dead
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {2007}
    assert not check_rows("application_security_posture_finding", rows)
    first, second = rows
    assert first["finding_info"]["product"]["name"] == "Snyk Code"
    [v] = first["vulnerabilities"]
    assert v["cwe"]["uid"] == "CWE-352" and v["advisory"] is None and v["cve"] is None
    assert v["related_vulnerabilities"] is None  # its one problem is the issue's own key
    [code] = v["affected_code"]
    assert code["file"]["path"] == "path/path/file.abc"
    assert (code["start_line"], code["end_line"], code["start_column"], code["end_column"]) == (65, 71, 9, 22)
    assert second["severity_id"] == 2 and second["status_id"] == 1  # low, open
    assert second["vulnerabilities"][0]["cwe"]["uid"] == "CWE-259"  # the first of its two classes


def test_snyk_issues_api_empty_page_holds_no_event() -> None:
    d = _auto("snyk-issues-api-empty-defectdojo.json")
    assert (d.dead, d.batches) == ([], [])


def test_snyk_issues_api_bad_issue_is_dead_lettered_alone() -> None:
    doc = (CASES / "snyk-issues-api-code-defectdojo.json").read_bytes()
    bad = doc.replace(b'"effective_severity_level":"low"', b'"effective_severity_level":3', 1)
    d = formats.get("snyk").decode(bad, "x")
    assert len(d.dead) == 1 and "effective_severity_level" in d.dead[0].reason
    assert [r["finding_info"]["uid"] for r in _rows(d)] == ["3916a413-2fca-45c9-a1bf-a1373258fe69"]


def _grype(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("grype"), name
    return fmt.decode(doc, name)


def test_grype_json_image_report() -> None:
    # Grype's JSON report (grype -o json) was refused as unrecognized input.
    d = _grype("grype-json-presenter-image.json")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("vulnerability_finding", rows)
    first, second = rows
    assert [r["class_uid"] for r in rows] == [2002, 2002]
    assert (first["severity_id"], second["severity_id"]) == (2, 5)  # Low, Critical
    assert first["finding_info"]["uid"] == "CVE-1999-0001|a246fd2054833c93"  # the id | Grype's package id
    assert first["metadata"]["product"]["name"] == "Grype"
    [v] = first["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-1999-0001" and v["advisory"] is None
    [c] = v["cve"]["cvss"]
    assert (c["version"], c["base_score"], c["vendor_name"]) == ("3.1", 8.2, "nvd")
    assert v["cve"]["epss"] == {"score": "0.03", "percentile": 0.42, "created_time": None}  # date 0001-01-01
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["type"], p["uid"]) == ("package-1", "1.1.1", "rpm", "a246fd2054833c93")
    assert p["fixed_in_version"] == "1.2.1, 2.1.3, 3.4.0" and p["path"] == "/foo/bar/somefile-1.txt"
    assert (v["is_fix_available"], v["fix_coverage_id"]) == (True, 1)  # state fixed
    s = second["vulnerabilities"][0]
    assert s["is_exploit_available"] is True  # knownExploited (CISA KEV)
    assert (s["is_fix_available"], s["fix_coverage_id"]) == (False, 0)  # state ""
    assert s["affected_packages"][0]["license"] == "Apache-2.0, MIT"
    assert s["affected_packages"][0]["purl"] == "pkg:deb/package-2@2.2.2"
    assert second["risk_score"] == 96  # risk 96.25
    [res] = first["resources"]
    assert (res["type"], res["name"]) == ("container_image", "user-input")
    assert res["uid"] == "sha256:ab5608d634db2716a297adbfa6a5dd5d8f8f5a7d0cab73649ea7fbb8c8da544f"
    assert "centos 8.0" in res["data"]  # the distro
    assert "secpipe:time_from_receipt" in first["metadata"]["labels"]  # descriptor timestamp ""
    assert '"matcher":"dpkg-matcher"' in first["unmapped"]  # matchDetails


def test_grype_related_nvd_record_gives_description_and_cvss() -> None:
    d = _grype("grype-0.28-check-all-fields-defectdojo.json")
    assert not d.dead
    deb, py = _rows(d)
    v = deb["vulnerabilities"][0]
    assert deb["severity_id"] == 1  # Negligible
    assert v["desc"].startswith("The krb5-send-pr script")  # only the related NVD record has one
    assert [(c["version"], c["base_score"], c["vendor_name"]) for c in v["cve"]["cvss"]] == [
        ("2.0", 2.1, "nvd")
    ]
    assert "https://security-tracker.debian.org/tracker/CVE-2004-0971" in v["references"]
    assert "http://www.securityfocus.com/bid/11289" in v["references"]
    assert (v["is_fix_available"], v["fix_coverage_id"]) == (False, 3)  # not-fixed
    assert deb["metadata"]["product"]["version"] == "0.28.0"
    w = py["vulnerabilities"][0]
    assert [c["version"] for c in w["cve"]["cvss"]] == ["2.0", "3.1"]
    assert (w["is_fix_available"], w["fix_coverage_id"]) == (False, 3)  # wont-fix, even with versions listed
    assert w["affected_packages"][0]["fixed_in_version"] == "fix_1, fix_2"


def test_grype_report_without_matches_holds_no_event() -> None:
    doc = (
        b'{"matches": [], "source": {"type": "directory", "target": "/tmp"}, "descriptor": {"name": "grype"}}'
    )
    assert formats.detect(doc) is formats.get("grype")
    d = formats.get("grype").decode(doc, "x")
    assert (d.dead, d.batches) == ([], [])


def test_grype_bad_match_is_dead_lettered_alone() -> None:
    doc = (CASES / "grype-json-presenter-image.json").read_bytes()
    bad = doc.replace(b'"severity": "Critical"', b'"severity": 5', 1)
    d = formats.get("grype").decode(bad, "x")
    assert len(d.dead) == 1 and "severity" in d.dead[0].reason
    assert [r["finding_info"]["uid"] for r in _rows(d)] == ["CVE-1999-0001|a246fd2054833c93"]


#: heads of scanner outputs no format reads (verbatim; their sources in the comments)
_UNREAD = {
    # SPDX 2.3 specification, the tag-value example document SPDX-Tools-v2.0 (its first tags, abridged)
    "an SPDX tag-value document": "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n"
    "DocumentName: SPDX-Tools-v2.0\n",
}


@pytest.mark.parametrize("what", sorted(_UNREAD))
def test_unread_scanner_output_is_named_in_its_dead_letter(what: str, tmp_path: Path) -> None:
    from secpipe.sources.files import read_documents

    f = tmp_path / "report.json"
    f.write_text(_UNREAD[what])
    [doc] = read_documents(str(f))
    assert doc.dead is not None and doc.dead.reason.startswith(
        f"unrecognized input: {what} is not a format secpipe reads"
    )


def test_other_unrecognized_json_keeps_the_plain_reason(tmp_path: Path) -> None:
    from secpipe.sources.files import read_documents

    f = tmp_path / "note.json"
    f.write_text('{"results": [1, 2], "dependencies": {"name": "x"}}')
    [doc] = read_documents(str(f))
    assert doc.dead is not None and doc.dead.reason.startswith("unrecognized input: no format matched")


def _sbom(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("sbom"), name
    return fmt.decode(doc, name)


def test_cyclonedx_xml_grype_report() -> None:
    # CycloneDX XML (here Grype's -o cyclonedx) was refused as unrecognized input.
    d = _sbom("cyclonedx-1.4-grype-log4j-defectdojo.xml")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("vulnerability_finding", rows)
    first, second = rows
    assert (first["severity_id"], second["severity_id"]) == (
        5,
        3,
    )  # critical, medium (the rating without a score)
    assert first["time_dt"].isoformat() == "2022-07-22T08:45:22+00:00"  # metadata timestamp +01:00
    assert (first["status_id"], first["status_code"]) == (2, "in_triage")  # In Progress
    product = first["metadata"]["product"]
    assert (product["name"], product["vendor_name"], product["version"]) == ("grype", "anchore", "0.41.0")
    v = first["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2021-44228"
    assert [(c["version"], c["base_score"]) for c in v["cve"]["cvss"]] == [("2.0", 10.0), ("3.1", 10.0)]
    [p] = v["affected_packages"]
    assert (p["name"], p["version"]) == ("log4j-core", "2.13.2")
    assert [r["type"] for r in first["resources"]] == ["file", "library"]  # the BOM subject, the component


def test_cyclonedx_xml_vex_example() -> None:
    d = _sbom("cyclonedx-1.4-valid-vulnerability-defectdojo.xml")
    assert not d.dead
    [r] = _rows(d)
    assert (r["status_id"], r["status_code"]) == (3, "not_affected")  # Suppressed
    v = r["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111"  # no CVE id: the advisory
    assert v["advisory"]["related_cwes"][0]["uid"] == "CWE-184"  # <cwes><cwe>184</cwe>: an integer in JSON
    assert v["related_vulnerabilities"][0] == "CVE-2018-7489"
    assert v["remediation"]["desc"].startswith("Upgrade com.fasterxml.jackson.core:jackson-databind")
    assert '"justification":"code_not_reachable"' in r["unmapped"]
    assert '"response":["will_not_fix","update"]' in r["unmapped"]  # <responses><response> is JSON's response


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ((b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x "y">]>'), "no DTD"),
        ((b"</bom>", b"</bomx>"), "not XML: mismatched tag"),
    ],
)
def test_cyclonedx_xml_refused_whole_with_the_reason(change: tuple[bytes, bytes], why: str) -> None:
    doc = (CASES / "cyclonedx-1.4-valid-vulnerability-defectdojo.xml").read_bytes().replace(*change)
    d = formats.get("sbom").decode(doc, "x")
    assert not d.batches and len(d.dead) == 1 and why in d.dead[0].reason


def _osv(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("osv_scanner"), name
    return fmt.decode(doc, name)


def test_osv_scanner_malicious_package_advisory() -> None:
    # OSV-Scanner's JSON report was refused as unrecognized input.
    d = _osv("osv-scanner-some-findings-defectdojo.json")
    assert not d.dead
    [r] = _rows(d)
    assert r["class_uid"] == 2002 and not check_rows("vulnerability_finding", [r])
    assert r["finding_info"]["uid"] == "MAL-2023-1035|npm/flot-axis@0.0.0|/tmp/components/yarn.lock"
    assert r["finding_info"]["title"] == "Malicious code in flot-axis (npm)"
    v = r["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "MAL-2023-1035" and v["cve"] is None  # no CVE among its ids and aliases
    assert v["related_vulnerabilities"] == ["GHSA-8348-2q94-ffjx"]
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["package_manager"]) == ("flot-axis", "0.0.0", "npm")
    assert p["fixed_in_version"] is None and v["is_fix_available"] is False  # introduced 0, no fix
    assert r["severity_id"] == 0  # no max_severity, no database severity
    assert (
        r["resources"][0]["type"] == "lockfile" and r["resources"][0]["name"] == "/tmp/components/yarn.lock"
    )
    assert r["finding_info"]["created_time"] is not None  # published 2023-08-01T05:29:33Z


def test_osv_scanner_group_max_severity_is_scored() -> None:
    [r] = _rows(_osv("osv-scanner-snapshot-max-severity.json"))
    assert r["severity_id"] == 5  # max_severity 9.0: Critical
    assert r["vulnerabilities"][0]["advisory"]["uid"] == "OSV-1"
    assert "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H" in r["raw_data"]  # no base score for cve.cvss


def test_osv_scanner_license_violations_are_compliance_findings() -> None:
    d = _osv("osv-scanner-snapshot-license-violations.json")
    rows = _rows(d)
    assert not d.dead and not check_rows("compliance_finding", rows)
    assert [(r["compliance"]["control"], r["compliance"]["status_id"]) for r in rows] == [
        ("MIT", 3),
        ("Apache-2.0", 3),
    ]
    assert rows[0]["finding_info"]["title"] == "MIT license"


def test_osv_scanner_bad_package_is_dead_lettered_alone() -> None:
    doc = (CASES / "osv-scanner-snapshot-license-violations.json").read_bytes()
    two = doc.replace(b'"packages": [\n', b'"packages": [\n        {"package": {"name": 5}},\n', 1)
    d = formats.get("osv_scanner").decode(two, "x")
    assert len(d.dead) == 1 and "name" in d.dead[0].reason
    assert len(_rows(d)) == 2


def _npm(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("npm_audit"), name
    return fmt.decode(doc, name)


def test_npm_audit_7_advisories_of_a_package() -> None:
    # npm audit --json was refused as unrecognized input (since 007955a with a reason naming it).
    d = _npm("npm-audit-7-one-vuln-defectdojo.json")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("vulnerability_finding", rows)
    assert [r["severity_id"] for r in rows] == [
        3,
        4,
    ]  # the advisories' own words (moderate, high), not the package's
    first = rows[0]
    assert first["finding_info"]["uid"] == "GHSA-gxpj-cx7g-858c|debug"
    v = first["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "GHSA-gxpj-cx7g-858c" and v["cve"] is None
    assert v["advisory"]["related_cwes"][0]["uid"] == "CWE-400"
    assert v["related_vulnerabilities"] == ["1094222"]  # npm's advisory number
    assert v["is_fix_available"] is True and v["remediation"]["desc"] == "update express to 4.18.3"
    assert v["affected_packages"] is None  # npm 7 names no installed version
    [res] = first["resources"]
    assert res["name"] == "debug" and '"range":"<=2.6.8"' in res["data"]
    assert '"vectorString":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"' in first["raw_data"]
    assert '"ms"' not in first["raw_data"]  # the raw data holds its own advisory only


def test_npm_audit_6_advisory_with_its_cve() -> None:
    d = _npm("npm-audit-6-one-vuln-defectdojo.json")
    assert not d.dead
    [r] = _rows(d)
    assert not check_rows("vulnerability_finding", [r])
    assert r["severity_id"] == 5 and r["finding_info"]["uid"] == "CVE-2017-16042|growl@1.9.2"
    v = r["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2017-16042" and v["cve"]["cwe"]["uid"] == "CWE-94"
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["fixed_in_version"]) == ("growl", "1.9.2", ">=1.10.2")
    assert v["dependency_chain"] == "mocha-jenkins-reporter>mocha>growl"
    assert r["finding_info"]["created_time"] is not None  # created 2016-09-06


def test_npm_audit_bad_entry_is_dead_lettered_alone() -> None:
    doc = (CASES / "npm-audit-7-one-vuln-defectdojo.json").read_bytes()
    bad = doc.replace(b'"vulnerabilities": {\n', b'"vulnerabilities": {\n    "x": {"via": 5},\n', 1)
    d = formats.get("npm_audit").decode(bad, "x")
    assert len(d.dead) == 1 and "(x)" in d.dead[0].reason
    assert len(_rows(d)) == 2


def test_pip_audit_report() -> None:
    # pip-audit -f json was refused as unrecognized input (since 007955a with a reason naming it).
    doc = (CASES / "pip-audit-many-vulns-new-defectdojo.json").read_bytes()
    assert formats.detect(doc) is formats.get("pip_audit")
    d = formats.get("pip_audit").decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("vulnerability_finding", rows)
    assert len(rows) == 7  # 1 aiohttp + 1 django + 1 lxml + 4 twisted; no finding for azure-devops (skipped)
    first = rows[0]
    assert first["finding_info"]["uid"] == "PYSEC-2021-76|aiohttp@3.6.2"
    v = first["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "PYSEC-2021-76" and v["cve"] is None
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["package_manager"], p["fixed_in_version"]) == (
        "aiohttp",
        "3.6.2",
        "PyPI",
        "3.7.4",
    )
    lxml = rows[2]["vulnerabilities"][0]
    assert lxml["is_fix_available"] is False and lxml["affected_packages"][0]["fixed_in_version"] is None
    assert rows[3]["raw_data"].count('"id":') == 1  # twisted's first vulnerability alone


def test_pip_audit_report_without_vulnerabilities_holds_no_event() -> None:
    # DefectDojo unittests/scans/pip_audit/zero_vulns_new.json (verbatim)
    doc = (
        b'{\n      "dependencies":[\n        {\n            "name": "adal",\n            "version": "1.2.2",\n'
        b'            "vulns": []\n        },\n        {\n            "name": "alabaster",\n'
        b'            "version": "0.7.12",\n            "vulns": []\n        },\n        {\n'
        b'            "name": "azure-devops",\n            "skip_reason": "Dependency not found on PyPI and could not be '
        b'audited: azure-devops (0.17.0)"\n        }\n    ]\n}\n'
    )
    assert formats.detect(doc) is formats.get("pip_audit")
    d = formats.get("pip_audit").decode(doc, "x")
    assert (d.dead, d.batches, d.events) == ([], [], 0)


def _dtrack(name: str) -> Decoded:
    doc = (CASES / name).read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("dependency_track"), name
    return fmt.decode(doc, name)


def test_dependency_track_export_with_a_cve() -> None:
    # A Dependency-Track findings export was refused (since 007955a with a reason naming it).
    d = _dtrack("dependency-track-4.10-defectdojo.json")
    assert not d.dead
    [r] = _rows(d)
    assert not check_rows("vulnerability_finding", [r])
    assert r["severity_id"] == 3 and r["time_dt"].isoformat() == "2024-02-03T09:59:36+00:00"
    assert r["metadata"]["product"]["version"] == "4.10.1"
    assert r["finding_info"]["uid"].startswith("1g2345tc-16rh-7te5-92b5-12345z6789fb:")  # the matrix
    v = r["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2023-45803" and v["cve"]["cwe"]["uid"] == "CWE-200"
    assert v["related_vulnerabilities"] == ["GHSA-g4mx-q9vg-27p4"]
    assert [(c["version"], c["base_score"]) for c in v["cve"]["cvss"]] == [("3.0", 4.2)]
    assert v["cve"]["epss"]["score"] == "0.00043" and v["cve"]["epss"]["percentile"] == 0.07756
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["purl"]) == ("urllib3", "1.26.16", "pkg:pypi/urllib3@1.26.16")
    assert r["resources"][0]["name"] == "blablabla-Requirements-txt"
    assert "OSSINDEX_ANALYZER" in r["unmapped"]  # the attribution


def test_dependency_track_npm_advisory_without_a_score() -> None:
    [r] = _rows(_dtrack("dependency-track-one-finding-defectdojo.json"))
    assert r["severity_id"] == 2 and r["status_code"] == "NOT_SET" and r["status_id"] == 1
    v = r["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "533" and v["cve"] is None  # npm's advisory, no CVE
    assert v["advisory"]["related_cwes"][0]["uid"] == "CWE-400"
    assert v["remediation"]["desc"] == "No direct patch is available..."
    assert "CVSS:4.0/AV:N" in r["raw_data"]  # vectors without a score stay in raw_data


def test_dependency_track_suppressed_and_resolved_analyses() -> None:
    doc = (CASES / "dependency-track-one-finding-defectdojo.json").read_bytes()
    for state, suppressed, status in (
        (b"NOT_AFFECTED", b"false", 3),
        (b"RESOLVED", b"false", 4),
        (b"NOT_SET", b"true", 3),
    ):
        got = doc.replace(b'"state": "NOT_SET"', b'"state": "' + state + b'"').replace(
            b'"isSuppressed": false', b'"isSuppressed": ' + suppressed
        )
        [r] = _rows(formats.get("dependency_track").decode(got, "x"))
        assert r["status_id"] == status, state


def test_govulncheck_stream_finding() -> None:
    # govulncheck -json was refused as unrecognized input (since 007955a with a reason naming it).
    doc = (CASES / "govulncheck-1.1.4-defectdojo.json").read_bytes()
    assert formats.detect(doc) is formats.get("govulncheck")
    d = formats.get("govulncheck").decode(doc, "x")
    assert not d.dead
    [r] = _rows(d)  # GO-2020-0015's OSV entry has no finding: no event
    assert not check_rows("vulnerability_finding", [r])
    assert r["finding_info"]["uid"] == "GO-2026-4918|golang.org/x/net@v0.25.0"
    assert r["finding_info"]["types"] == ["Vulnerability", "called"]
    assert r["message"].endswith(
        "(called: golang.org/x/net/http2.*clientConnReadLoop.processSettingsNoWrite)"
    )
    assert r["metadata"]["product"]["version"] == "v1.1.4"
    v = r["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "GO-2026-4918"
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["fixed_in_version"]) == ("golang.org/x/net", "v0.25.0", "v0.53.0")
    assert '"scan_level":"symbol"' in r["unmapped"]
    # the called trace's entry point: config.LoadConfig calls in at config/config.go:98:23 (the sample's last frame)
    assert v["affected_code"] == [{"file": {"name": "config.go", "path": "config/config.go", "type_id": 1, "type": "Regular File"},
                                   "start_line": 98, "start_column": 23}]  # fmt: skip
    assert v["dependency_chain"] == (
        "github.com/alielmi98/golang-expense-tracker-api/config.LoadConfig -> "
        "golang.org/x/net/http2.*clientConnReadLoop.processSettings -> golang.org/x/net/http2.*clientConnReadLoop.processSettingsNoWrite"
    )


def test_govulncheck_array_without_findings_holds_no_event() -> None:
    # DefectDojo unittests/scans/govulncheck/no_vulns_new_version.json (verbatim): the messages as a JSON array
    doc = (
        b'[\n  {\n    "config": {\n      "protocol_version": "v1.0.0",\n      "scanner_name": "govulncheck",\n'
        b'      "scanner_version": "v1.0.1",\n      "db": "https://vuln.go.dev",\n'
        b'      "db_last_modified": "2024-01-04T18:39:51Z",\n      "go_version": "go1.21.4",\n'
        b'      "scan_level": "symbol"\n    }\n  },\n  {\n    "progress": {\n      "message": "Scanning your code and '
        b'0 packages across 0 dependent modules for known vulnerabilities..."\n    }\n  }\n]'
    )
    assert formats.detect(doc) is formats.get("govulncheck")
    d = formats.get("govulncheck").decode(doc, "x")
    assert (d.dead, d.batches, d.events) == ([], [], 0)


def test_gitlab_code_quality_report_of_trivys_template() -> None:
    # A GitLab Code Quality report (here Trivy's gitlab-codequality template) was refused (since 007955a with a
    # reason naming it).
    doc = (CASES / "trivy-alpine-310-gitlab-codequality.golden").read_bytes()
    assert formats.detect(doc) is formats.get("code_quality")
    d = formats.get("code_quality").decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("application_security_posture_finding", rows)
    assert [r["severity_id"] for r in rows] == [2, 2, 2, 2]  # minor
    first = rows[0]
    assert first["finding_info"]["title"] == "CVE-2019-1549: openssl: information disclosure in fork()"
    assert first["finding_info"]["desc"].startswith("OpenSSL 1.1.1 introduced")  # content as text
    assert first["finding_info"]["analytic"]["uid"] == "container_scanning"
    assert first["finding_info"]["types"] == ["Security"]
    v = first["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2019-1549" and v["advisory"] is None
    [code] = v["affected_code"]
    assert (code["file"]["path"], code["start_line"], code["end_line"]) == ("libcrypto1.1-1.1.1c-r0", 1, 1)
    # the same fingerprint in two packages stays two findings
    uids = [r["finding_info"]["uid"] for r in rows]
    assert len(set(uids)) == 4 and uids[0].startswith("4fd5aebc601a7127e0a012b91569675cd8566e15|")


def test_snyk_issues_api_identity_does_not_depend_on_the_page() -> None:
    # the same issue on another page (pagination moved it) is the same event
    doc = (CASES / "snyk-issues-api-code-defectdojo.json").read_bytes()
    page = json.loads(doc)
    page["data"].reverse()
    fmt = formats.get("snyk")
    before = {r["finding_info"]["uid"]: r["metadata"]["uid"] for r in _rows(fmt.decode(doc, "x"))}
    after = {
        r["finding_info"]["uid"]: r["metadata"]["uid"]
        for r in _rows(fmt.decode(json.dumps(page).encode(), "y"))
    }
    assert before == after


def _govulncheck_rows(doc: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    d = formats.get("govulncheck").decode(doc, "x")
    rows = _rows(d)
    for r in rows:
        r.pop("time"), r.pop("time_dt")  # (the receipt time: govulncheck writes none)
    return rows, [x.reason for x in d.dead]


def test_govulncheck_layouts_read_alike() -> None:
    # The stream as govulncheck writes it (read in one pass), with CRLF line ends, and compact one a line
    # (read message by message) hold the same events.
    doc = (CASES / "govulncheck-1.1.4-defectdojo.json").read_bytes()
    crlf = doc.replace(b"\n", b"\r\n")
    lines = b"\n".join(json.dumps(o).encode() for o in json.loads(b"[" + doc.replace(b"}\n{", b"},{") + b"]"))
    want, dead = _govulncheck_rows(doc)
    assert len(want) == 1 and not dead
    assert _govulncheck_rows(crlf) == (want, [])
    assert _govulncheck_rows(lines) == (want, [])


def test_govulncheck_bad_message_is_dead_lettered_and_the_rest_goes_on() -> None:
    doc = (CASES / "govulncheck-1.1.4-defectdojo.json").read_bytes()
    want, _ = _govulncheck_rows(doc)
    msgs = doc.split(b"}\n{")
    finding = next(i for i, m in enumerate(msgs) if m.lstrip(b"{").lstrip().startswith(b'"finding"'))
    wrong = list(msgs)  # a second finding whose trace is not a list: that finding alone is dead-lettered
    wrong.insert(finding, b'"finding": {"osv": "GO-2026-0001", "trace": 7}')
    rows, dead = _govulncheck_rows(b"}\n{".join(wrong))
    assert rows == want and len(dead) == 1 and dead[0].startswith("not a govulncheck finding")
    osv = list(msgs)  # an OSV entry of the wrong shape: that message alone
    osv.insert(1, b'"osv": {"id": "GO-2026-0002", "aliases": "CVE-2026-1"}')
    rows, dead = _govulncheck_rows(b"}\n{".join(osv))
    assert rows == want and len(dead) == 1 and dead[0].startswith("not a govulncheck message")
