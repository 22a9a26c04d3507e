"""Golden and dead-letter tests for the scanner formats: trivy, snyk, sarif, sonarqube.

Expected values were written by reading the source samples (../shared/data/real, cited per
test) and the OCSF 1.8.0 schema, not by running the code.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.base import Decoded

CASES = Path(__file__).resolve().parents[1] / "cases"
SARIF_V2 = "sarif-sdk/src/Test.FunctionalTests.Sarif/v2"


def _decode(name: str, path: Path) -> Decoded:
    return formats.get(name).decode(path.read_bytes(), str(path))


def _rows(res: Decoded, class_uid: int) -> list[dict]:
    out = []
    for b in res.batches:
        if b.column("class_uid")[0].as_py() == class_uid:
            out.extend(b.to_pylist())
    return out


def test_trivy_vulnerability_golden(real: Path) -> None:
    # trivy/alpine-39-high-critical.json.golden: 2 vulnerabilities in one os-pkgs result.
    res = _decode("trivy", real / "trivy/alpine-39-high-critical.json.golden")
    assert not res.dead
    rows = _rows(res, 2002)
    assert len(rows) == 2
    r = rows[0]
    assert r["class_name"] == "Vulnerability Finding" and r["type_uid"] == 200201
    assert r["severity_id"] == 5 and r["severity"] == "Critical"  # "Severity": "CRITICAL"
    assert r["time"] == 1629894030000  # CreatedAt 2021-08-25T12:20:30Z
    assert r["metadata"]["product"]["name"] == "Trivy"
    v = r["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2019-14697"
    assert v["cve"]["cwe"]["uid"] == "CWE-787"  # the CVE's weakness (OCSF 1.8.0: just one of advisory / cve / cwe)
    assert v["is_fix_available"] is True
    cvss = {(c["version"], c["vendor_name"]): (c["base_score"], c["vector_string"]) for c in v["cve"]["cvss"]}
    assert cvss[("3.0", "nvd")] == (9.8, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert cvss[("2.0", "nvd")] == (7.5, "AV:N/AC:L/Au:N/C:P/I:P/A:P")
    pkg = v["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"]) == ("musl", "1.1.20-r4", "1.1.20-r5")
    assert pkg["type"] == "alpine" and pkg["purl"].startswith("pkg:apk/alpine/musl@1.1.20-r4")
    art, target = r["resources"]
    assert art["type"] == "container_image" and art["name"] == "testdata/fixtures/images/alpine-39.tar.gz"
    assert art["labels"] == ["ghcr.io/aquasecurity/trivy-test-images:alpine-39"]
    assert target["name"] == "testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4)"
    assert r["finding_info"]["uid"] == "sha256:294b2f8c416dd7b50971286b95e1f2685d7daf3c18957237fa7dc666178b6183"
    assert json.loads(r["unmapped"])["DataSource"]["ID"] == "alpine"
    assert json.loads(r["raw_data"])["VulnerabilityID"] == "CVE-2019-14697"


def test_trivy_misconfiguration_and_secret_golden(real: Path) -> None:
    # trivy/dockerfile.json.golden: one FAIL misconfiguration DS-0002 (HIGH).
    rows = _rows(_decode("trivy", real / "trivy/dockerfile.json.golden"), 2003)
    assert len(rows) == 1
    c = rows[0]
    assert c["compliance"]["status"] == "Fail" and c["compliance"]["status_id"] == 3
    assert c["compliance"]["checks"][0]["uid"] == "DS-0002"
    assert c["severity_id"] == 4
    assert c["finding_info"]["title"] == "Image user should not be 'root'"
    assert c["remediation"]["desc"] == "Add 'USER <non root user name>' line to the Dockerfile"
    assert c["resources"][1]["name"] == "Dockerfile" and c["resources"][0]["type"] == "repository"
    # trivy/secrets.json.golden: two secrets in deploy.sh -> Data Security Finding.
    rows = _rows(_decode("trivy", real / "trivy/secrets.json.golden"), 2006)
    assert [s["data_security"]["detection_pattern"] for s in rows] == ["aws-access-key-id", "mysecret"]
    assert [s["severity_id"] for s in rows] == [5, 4]
    assert rows[0]["file"]["path"] == "deploy.sh"
    assert rows[0]["data_security"]["pattern_match"] == "export AWS_ACCESS_KEY_ID=********************"
    assert json.loads(rows[0]["unmapped"])["StartLine"] == 3
    # the line number is the JSON text, not the repr of the raw value (was "<msgspec.Raw object at 0x...>")
    assert [s["message"] for s in rows] == ["AWS Access Key ID in deploy.sh:3", "My Secret in deploy.sh:7"]
    assert rows[0]["finding_info"]["uid"] == "aws-access-key-id|deploy.sh|3"


def test_trivy_same_cve_in_two_images_stays_two_events(real: Path) -> None:
    doc = json.loads((real / "trivy/alpine-39-high-critical.json.golden").read_text())
    a = formats.get("trivy").decode(json.dumps(doc).encode(), "a")
    doc["ArtifactName"] = "other-image"
    b = formats.get("trivy").decode(json.dumps(doc).encode(), "b")
    ua = set(a.batches[0].column("metadata").field("uid").to_pylist())
    ub = set(b.batches[0].column("metadata").field("uid").to_pylist())
    assert ua.isdisjoint(ub)
    again = formats.get("trivy").decode(json.dumps(doc, indent=4).encode(), "c")  # pretty redelivery collapses
    assert set(again.batches[0].column("metadata").field("uid").to_pylist()) == ub


def test_trivy_dead_letters() -> None:
    fmt = formats.get("trivy")
    res = fmt.decode(b'{"SchemaVersion": 2, "Results": [', "trunc")
    assert not res.batches and len(res.dead) == 1 and "not a Trivy JSON report" in res.dead[0].reason
    bad = {"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-1", "Severity": "LOW"}, {"VulnerabilityID": ["CVE-2"]}]}]}  # fmt: skip
    res = fmt.decode(json.dumps(bad).encode(), "shape")
    assert sum(b.num_rows for b in res.batches) == 1
    assert len(res.dead) == 1 and "VulnerabilityID" in res.dead[0].reason


def test_snyk_single_and_multi_project_golden(real: Path) -> None:
    # snyk-to-html/test-report.json: one npm project, 33 vulnerabilities.
    res = _decode("snyk", real / "snyk-to-html/test-report.json")
    rows = _rows(res, 2002)
    assert len(rows) == 33 and not res.dead
    r = rows[0]
    v = r["vulnerabilities"][0]
    assert v["title"] == "Regular Expression Denial of Service (ReDoS)"
    assert r["severity_id"] == 3  # medium
    # identifiers.CVE is empty: the issue is Snyk's own advisory (OCSF 1.8.0: just one of advisory / cve / cwe)
    assert v["cve"] is None and v["cwe"] is None
    assert v["advisory"]["uid"] == "npm:brace-expansion:20170302"
    assert "SNYK-JS-BRACEEXPANSION-10483" in v["related_vulnerabilities"]
    assert v["advisory"]["related_cwes"] == [{"uid": "CWE-400"}]
    # no cve to hold a rating: the CVSSv3 vector stays in unmapped (and raw_data)
    assert json.loads(r["unmapped"])["CVSSv3"] == "CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert '"CVSSv3":"CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"' in r["raw_data"]
    assert v["dependency_chain"].startswith("goof@0.0.3 > tap@5.8.0 > nyc@6.6.1")
    pkg = v["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["package_manager"]) == ("brace-expansion", "1.1.4", "npm")
    assert v["is_fix_available"] is True  # isUpgradable
    assert "secpipe:time_from_receipt" in r["metadata"]["labels"]  # snyk reports carry no scan time
    # multi-test-report.json: an array of 2 projects, 139 issues (license issues -> Compliance Finding).
    res = _decode("snyk", real / "snyk-to-html/multi-test-report.json")
    assert sum(b.num_rows for b in res.batches) == 139 and not res.dead
    lic = _rows(res, 2003)
    assert lic and all(x["finding_info"]["types"] == ["License"] for x in lic)


def test_snyk_dead_letters(real: Path) -> None:
    res = _decode("snyk", real / "snyk-to-html/lodash.patched.vuln.json")  # a single vuln object
    assert not res.batches and "not a snyk test --json report" in res.dead[0].reason
    res = _decode("snyk", real / "snyk-to-html/invalid-input.json")  # CLI text output
    assert not res.batches and res.dead and "not a snyk test --json report" in res.dead[0].reason


def test_snyk_iac_issues() -> None:
    doc = {"ok": False, "projectType": "k8sconfig", "targetFile": "pod.yaml", "packageManager": "k8sconfig",
           "infrastructureAsCodeIssues": [{"id": "SNYK-CC-K8S-1", "publicId": "SNYK-CC-K8S-1",
           "title": "Container is running in privileged mode", "severity": "high", "msg": "spec.containers[0].securityContext.privileged",
           "iacDescription": {"issue": "Container is running in privileged mode", "resolve": "Remove privileged: true"},
           "lineNumber": 12, "path": ["spec", "containers[0]"]}]}  # fmt: skip
    res = formats.get("snyk").decode(json.dumps(doc).encode(), "iac")
    (r,) = _rows(res, 2003)
    assert r["compliance"]["checks"][0]["uid"] == "SNYK-CC-K8S-1" and r["severity_id"] == 4
    assert r["remediation"]["desc"] == "Remove privileged: true"
    assert r["finding_info"]["types"] == ["Misconfiguration"]


def test_sarif_golden(real: Path) -> None:
    # Pylint-01.json.sarif (sarif-sdk converter output): 72 results, no rules, no levels.
    res = _decode("sarif", real / SARIF_V2 / "ConverterTestData/Pylint/Pylint-01.json.sarif")
    rows = _rows(res, 2007)
    assert len(rows) == 72 and not res.dead
    r = rows[0]
    assert r["class_name"] == "Application Security Posture Finding"
    assert r["message"] == "Line too long (110/100)"
    assert r["severity_id"] == 3  # SARIF default level "warning"
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert code["file"]["path"] == "test.py" and code["start_line"] == 18
    assert code["rule"]["uid"] == "C0301(line-too-long)"
    assert r["metadata"]["product"]["name"] == "Pylint"
    # test-code-openrefine.json (Snyk Code): rules in tool.driver.rules, fingerprints.
    rows = _rows(_decode("sarif", real / "snyk-to-html/test-code-openrefine.json"), 2007)
    assert len(rows) == 27
    r = rows[0]
    assert r["finding_info"]["analytic"]["uid"] == "java/InsecureHash"
    assert r["finding_info"]["title"] == "Use of Password Hash With Insufficient Computational Effort"
    assert r["finding_info"]["uid"] == "219c469cf8eadc81b53c6e1771a9737d7661f327ad9724a330fb890fec679924"
    tags = {t["name"]: t["value"] for t in r["finding_info"]["tags"]}
    assert tags["fingerprint:0"] == r["finding_info"]["uid"]
    assert r["vulnerabilities"][0]["affected_code"][0]["start_line"] == 51
    assert r["metadata"]["product"]["name"] == "SnykCode" and r["metadata"]["product"]["version"] == "1.0.0"
    assert "codeFlows" in json.loads(r["unmapped"])


def test_sarif_trivy_security_severity_and_cve(real: Path) -> None:
    rows = _rows(_decode("sarif", real / "trivy/sarif/alpine-310.sarif.golden"), 2007)
    assert len(rows) == 4
    first = rows[0]
    assert first["vulnerabilities"][0]["cve"]["uid"] == "CVE-2019-1549"
    assert first["vulnerabilities"][0]["affected_code"][0]["file"]["path"] == "testdata/fixtures/images/alpine-310.tar.gz"


def test_sarif_v2_0_0_dead_lettered(real: Path) -> None:
    for name in ("Comprehensive.sarif", "RecommendedWithSource.sarif", "RuleMetadata.sarif"):
        res = _decode("sarif", real / SARIF_V2 / "SpecExamples" / name)
        assert not res.batches and len(res.dead) == 1
        assert "SARIF version '2.0.0' is not supported" in res.dead[0].reason


def test_sarif_malformed() -> None:
    fmt = formats.get("sarif")
    assert "not a SARIF log" in fmt.decode(b'{"version": "2.1.0", "runs": [', "t").dead[0].reason
    assert "at `$.runs`" in fmt.decode(b'{"version": "2.1.0", "runs": 3}', "t").dead[0].reason
    empty = fmt.decode(b'{"version": "2.1.0"}', "t")  # no runs: no result, nothing to dead-letter
    assert not empty.batches and not empty.dead
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"ruleId": "a", "message": {"text": "ok"}}, {"ruleId": {"id": 5}, "message": {"text": "bad"}}]}]}  # fmt: skip
    res = fmt.decode(json.dumps(log).encode(), "t")
    assert sum(b.num_rows for b in res.batches) == 1 and len(res.dead) == 1


def test_sonarqube_issues_golden() -> None:
    # Hand-written from the documented /api/issues/search shape (tests/cases/sonarqube/SOURCE.md).
    res = _decode("sonarqube", CASES / "sonarqube/issues_search.json")
    rows = _rows(res, 2007)
    assert len(rows) == 2 and not res.dead
    a, b = rows
    assert a["finding_info"]["uid"] == "AU-Tpxb--iU5OvuD2FLy"
    assert a["severity_id"] == 4  # impacts[].severity HIGH (10.x) wins over deprecated BLOCKER
    assert a["status_id"] == 1 and a["status"] == "New"
    code = a["vulnerabilities"][0]["affected_code"][0]
    assert code["file"]["path"] == "src/main/java/com/acme/UserDao.java"
    assert (code["start_line"], code["end_line"], code["start_column"], code["end_column"]) == (42, 43, 8, 61)
    assert code["rule"]["uid"] == "javasecurity:S3649" and code["owner"]["name"] == "dev@acme.example"
    assert a["finding_info"]["types"] == ["VULNERABILITY", "cwe", "owasp-a1"]
    assert a["time"] == 1715666400000  # updateDate 2024-05-14T08:00:00+0200
    assert a["resources"][0]["uid"] == "acme"
    assert b["severity_id"] == 2 and b["status_id"] == 3  # MINOR; FALSE-POSITIVE -> Suppressed
    assert b["vulnerabilities"][0]["affected_code"][0]["file"]["path"] == "src/main/java/com/acme/App.java"


def test_sonarqube_hotspots_golden() -> None:
    rows = _rows(_decode("sonarqube", CASES / "sonarqube/hotspots_search.json"), 2007)
    assert [r["finding_info"]["analytic"]["uid"] for r in rows] == ["java:S4790", "java:S4502"]
    assert [r["severity_id"] for r in rows] == [3, 4]
    assert [r["status_id"] for r in rows] == [1, 3]  # TO_REVIEW -> New, REVIEWED/SAFE -> Suppressed
    assert rows[0]["vulnerabilities"][0]["category"] == "weak-cryptography"
    assert rows[0]["finding_info"]["types"] == ["SECURITY_HOTSPOT"]


def test_sonarqube_dead_letters() -> None:
    fmt = formats.get("sonarqube")
    assert "no `issues` or `hotspots`" in fmt.decode(b'{"paging": {}}', "t").dead[0].reason
    assert "not a SonarQube search response" in fmt.decode(b"{oops", "t").dead[0].reason
    res = fmt.decode(b'{"issues": [{"key": "k", "rule": "r"}, {"key": 1}]}', "t")
    assert sum(b.num_rows for b in res.batches) == 1 and len(res.dead) == 1


def test_fields_decoded_per_distinct_value_keep_rows_and_dead_letter_bad_types() -> None:
    # Description/References/CVSS (trivy), description/identifiers/from (snyk) and message (sarif)
    # are decoded once per distinct value: each row must still get its own value, and a value of
    # the wrong type dead-letters only its finding, with the field's path in the reason.
    vulns = [
        {"VulnerabilityID": "CVE-1", "Description": "same", "References": ["https://a"], "CVSS": {"nvd": {"V3Score": 9.8}}},
        {"VulnerabilityID": "CVE-2", "Description": "same", "References": ["https://b", "https://c"]},
        {"VulnerabilityID": "CVE-3", "Description": 5},
        {"VulnerabilityID": "CVE-4", "Description": "other", "References": ["https://a"], "CVSS": {"nvd": {"V3Score": "x"}}},
    ]  # fmt: skip
    rep = {"SchemaVersion": 2, "ArtifactName": "img", "Results": [{"Target": "t", "Vulnerabilities": vulns}]}
    res = formats.get("trivy").decode(json.dumps(rep).encode(), "r")
    rows = _rows(res, 2002)
    assert [r["vulnerabilities"][0]["cve"]["uid"] for r in rows] == ["CVE-1", "CVE-2"]
    assert [r["vulnerabilities"][0]["desc"] for r in rows] == ["same", "same"]
    assert [r["vulnerabilities"][0]["references"] for r in rows] == [["https://a"], ["https://b", "https://c"]]
    assert rows[0]["vulnerabilities"][0]["cve"]["cvss"][0]["base_score"] == 9.8
    assert rows[1]["vulnerabilities"][0]["cve"]["cvss"] is None
    reasons = sorted(d.reason for d in res.dead)
    assert len(reasons) == 2 and "at `$.CVSS[...].V3Score`" in reasons[0] and "at `$.Description`" in reasons[1]
    assert all(r.startswith("not a Trivy vulnerability: Expected") for r in reasons)

    issues = [
        {"id": "SNYK-1", "title": "t", "description": "d", "identifiers": {"CVE": ["CVE-9"], "CWE": ["CWE-79"]},
         "from": ["app@1", "lib@2"], "packageName": "lib", "version": "2"},
        {"id": "SNYK-2", "title": "t", "description": "d", "identifiers": {"CVE": ["CVE-9"], "CWE": ["CWE-79"]},
         "from": ["app@1", "other@3", "lib@2"], "packageName": "lib", "version": "2"},
        {"id": "SNYK-3", "title": "t", "description": ["not text"], "packageName": "lib", "version": "2"},
    ]  # fmt: skip
    res = formats.get("snyk").decode(json.dumps({"vulnerabilities": issues, "projectName": "p"}).encode(), "s")
    rows = _rows(res, 2002)
    assert [r["finding_info"]["uid"] for r in rows] == ["SNYK-1|app@1>lib@2", "SNYK-2|app@1>other@3>lib@2"]
    assert [r["vulnerabilities"][0]["related_vulnerabilities"] for r in rows] == [["SNYK-1"], ["SNYK-2"]]
    assert {r["vulnerabilities"][0]["cve"]["cwe"]["uid"] for r in rows} == {"CWE-79"}
    assert len(res.dead) == 1 and res.dead[0].offset == 2 and "at `$.description`" in res.dead[0].reason
    assert type(res.dead[0].raw) is bytes and json.loads(res.dead[0].raw)["id"] == "SNYK-3"  # the issue's own bytes

    results = [{"ruleId": "r", "message": {"text": "hello {0}", "arguments": ["x"]}},
               {"ruleId": "r", "message": {"text": "hello {0}", "arguments": ["x"]}},
               {"ruleId": "r", "message": "plain text is not a message object"}]  # fmt: skip
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": results}]}
    res = formats.get("sarif").decode(json.dumps(log).encode(), "l")
    assert [r["message"] for b in res.batches for r in b.to_pylist()] == ["hello x", "hello x"]
    assert len(res.dead) == 1 and "at `$.message`" in res.dead[0].reason
