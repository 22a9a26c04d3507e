"""Scanner formats against real samples of the holdout round 23 (``tests/cases/holdout/SOURCE.md``,
"Round 23 (scanners)"): a Black Duck SARIF export, njsscan's SARIF, sonar-report's JSON.

Expected values are read in the samples, not computed by the parsers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded, decode_document
from tests.unit.native_support import detected_both_ways, same_both_ways

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_sarif_black_duck_wrapped_fingerprints(monkeypatch: pytest.MonkeyPatch) -> None:
    # Black Duck writes each fingerprint as {"value": "<sha256>"} (DefectDojo PR 15080), where
    # SARIF §3.27.16 has the string: every result was a dead letter ("Expected `str`, got `object`")
    body = (HOLDOUT / "blackduck-nested-fingerprints.sarif").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "blackduck")
    assert dec.events == 2 and not dec.dead
    rows = _rows(dec)
    assert [r["finding_info"]["uid"] for r in rows] == ["a" * 64, "d" * 64]
    assert rows[0]["finding_info"]["tags"] == [{"name": "fingerprint:csvRowSha256", "value": "a" * 64}]
    assert [r["severity"] for r in rows] == ["Medium", "Low"]  # level warning, note
    assert rows[0]["metadata"]["product"]["name"] == "Example-Application"
    assert rows[0]["finding_info"]["analytic"]["uid"] == "BDSA-2020-1001 (CVE-2020-11022)"
    vuln = rows[0]["vulnerabilities"][0]
    assert vuln["desc"] == "jQuery is vulnerable to XSS via the HTML passed to certain jQuery methods."
    assert vuln["cwe"]["uid"] == "CWE-79"
    assert vuln["affected_code"][0]["file"]["path"] == "npm/example-frontend-lib@1.0.0"
    assert json.loads(rows[1]["unmapped"])["properties"]["remediationStatus"] == "Ignored"


def test_sarif_fingerprint_of_another_type_is_still_a_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    log = json.loads((HOLDOUT / "blackduck-nested-fingerprints.sarif").read_bytes())
    log["runs"][0]["results"][1]["fingerprints"] = {"csvRowSha256": 7}
    body = json.dumps(log).encode()
    dec = same_both_ways("sarif", body, monkeypatch, "number fingerprint")
    assert dec.events == 2 and len(dec.dead) == 1 and "fingerprints" in dec.dead[0].reason
    assert [r["finding_info"]["uid"] for r in _rows(dec)] == ["a" * 64]


def test_sarif_njsscan_cwe_in_result_properties(monkeypatch: pytest.MonkeyPatch) -> None:
    # njsscan (libsast) names the weakness in each result's properties, not in its rule
    body = (HOLDOUT / "njsscan-defectdojo.sarif").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "njsscan")
    rows = _rows(dec)
    assert dec.events == 2 and not dec.dead
    assert [r["vulnerabilities"][0]["cwe"] for r in rows] == [
        {"uid": "CWE-327", "caption": "Use of a Broken or Risky Cryptographic Algorithm"},
        {"uid": "CWE-798", "caption": "Use of Hard-coded Credentials"},
    ]
    assert [r["time"] for r in rows] == [_ms("2021-03-23T00:10:48")] * 2  # invocations[0].endTimeUtc
    assert [r["severity"] for r in rows] == ["Medium", "High"]  # no level: warning; "error"
    assert rows[1]["metadata"]["product"]["version"] == "0.2.3"
    code = rows[1]["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["start_column"], code["end_column"]) == \
        ("/src/index.js", 235, 9, 34)  # fmt: skip  (the file URI file:///src/index.js as the path it names)


def test_sarif_result_taxa_still_win_over_its_properties() -> None:
    log = json.loads((HOLDOUT / "njsscan-defectdojo.sarif").read_bytes())
    log["runs"][0]["results"][0]["taxa"] = [{"id": "CWE-330", "toolComponent": {"name": "CWE"}}]
    rows = _rows(decode_document(formats.get("sarif"), json.dumps(log).encode(), "t"))
    assert [r["vulnerabilities"][0]["cwe"]["uid"] for r in rows] == ["CWE-330", "CWE-798"]


def test_sonar_report_json() -> None:
    # soprasteria/sonar-report --save-report-json: components are paths already, project and rule names beside
    body = (HOLDOUT / "sonar-report-single-finding.json").read_bytes()
    fmt = formats.get("sonarqube")
    assert formats.detect(body) is fmt
    dec = decode_document(fmt, body, "t")
    assert dec.events == 1 and not dec.dead
    row = _rows(dec)[0]
    assert row["finding_info"]["uid"] == "AYvNd32RyD1npIoQXyT1"
    assert row["severity"] == "High"  # CRITICAL
    assert row["finding_info"]["types"] == ["SECURITY_HOTSPOT"]  # its key is in hotspotKeys
    assert row["finding_info"]["analytic"]["name"] == "Disabling CSRF protections is security-sensitive"
    assert row["resources"] == [{"type": "project", "uid": "vulnerable-flask-app", "name": "vulnerable-flask-app"}]
    code = row["vulnerabilities"][0]["affected_code"][0]
    assert code["file"]["path"] == "vulnerable-flask-app.py" and code["start_line"] == 8
    assert code["rule"]["uid"] == "python:S4502"
    assert row["message"] == "Make sure disabling CSRF protection is safe here."


def test_sonar_report_issue_on_the_project_has_no_file() -> None:
    doc = json.loads((HOLDOUT / "sonar-report-single-finding.json").read_bytes())
    doc["issues"][0]["component"] = doc["sonarComponent"]
    row = _rows(decode_document(formats.get("sonarqube"), json.dumps(doc).encode(), "t"))[0]
    assert not row["vulnerabilities"][0]["affected_code"]


def _gitlab(name: str) -> Decoded:
    body = (HOLDOUT / name).read_bytes()
    fmt = formats.get("gitlab_security")
    assert formats.detect(body) is fmt
    return decode_document(fmt, body, "t")


def test_gitlab_sast_report() -> None:
    dec = _gitlab("gl-sast-report-cwe-defectdojo.json")
    rows = _rows(dec)
    assert dec.events == 3 and not dec.dead and {r["class_uid"] for r in rows} == {2007}
    assert [r["vulnerabilities"][0]["cwe"]["uid"] for r in rows] == ["CWE-79", "CWE-89", "CWE-943"]  # "79", 89, name
    first = rows[0]
    assert first["finding_info"]["uid"] == "38e1bf843be70b01cd6847ba877897acb4185d3445256f818871a4b66c0af712"
    assert first["finding_info"]["title"] == "Servlet reflected cross site scripting vulnerability"
    assert first["finding_info"]["types"] == ["sast"]
    assert first["finding_info"]["analytic"]["uid"] == "XSS_REQUEST_PARAMETER_TO_SERVLET_WRITER"
    assert [r["severity"] for r in rows] == ["High", "Medium", "High"]
    assert first["time"] == _ms("2020-12-21T17:38:43")  # scan.end_time, no zone: UTC
    assert (first["metadata"]["product"]["name"], first["metadata"]["product"]["version"]) == ("Find Security Bugs", "4.2.0")
    assert first["metadata"]["log_version"] == "3.0.0"
    code = rows[2]["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["end_line"]) == ("routes/likeProductReviews.js", 13, 56)
    assert json.loads(first["unmapped"])["location"]["method"] == "doPost"  # not placed: kept


def test_gitlab_container_scanning_report() -> None:
    rows = _rows(_gitlab("gl-container-scanning-report-1-vuln-defectdojo.json"))
    assert len(rows) == 1
    row = rows[0]
    assert row["class_uid"] == 2002 and row["severity"] == "High"
    vuln = row["vulnerabilities"][0]
    assert vuln["cve"]["uid"] == "CVE-2019-3462"
    assert vuln["affected_packages"][0]["name"] == "apt" and vuln["affected_packages"][0]["version"] == "1.4.8"
    assert vuln["remediation"]["desc"] == "Upgrade apt from 1.4.8 to 1.4.9" and vuln["is_fix_available"]
    assert len(vuln["references"]) == 11  # the links; the identifier's url is the first of them
    image = row["resources"][0]
    assert image["type"] == "container_image" and image["name"].startswith("registry.gitlab.com/gitlab-org/")
    assert json.loads(image["data"]) == {"operating_system": "debian:9.4"}
    assert row["metadata"]["product"]["name"] == "Trivy" and row["finding_info"]["types"] == ["container_scanning"]
    assert row["time"] == _ms("2021-04-14T19:46:18")


def test_gitlab_dependency_scanning_report() -> None:
    rows = _rows(_gitlab("gl-dependency-scanning-report-2-vuln-defectdojo.json"))
    assert [r["class_uid"] for r in rows] == [2002, 2002]
    assert [r["severity_id"] for r in rows] == [0, 4]  # "Unknown", "High"
    assert not rows[0]["vulnerabilities"][0]["affected_packages"]  # its package is {}: OCSF needs name and version
    # no CVE, no CWE: its Gemnasium identifier is the advisory
    assert rows[0]["vulnerabilities"][0]["advisory"] == {"uid": "7368f513-0aa9-4e34-a08d-40ea81f48e0e",
                                                         "title": "Gemnasium-7368f513-0aa9-4e34-a08d-40ea81f48e0e"}
    assert rows[1]["vulnerabilities"][0]["advisory"] is None  # (its CVE instead)
    pkg = rows[1]["vulnerabilities"][0]["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["path"]) == ("golang.org/x/crypto", "v0.0.0-20190308221718-c2843e01d9a2", "service/go.sum")
    assert rows[1]["vulnerabilities"][0]["cve"]["uid"] == "CVE-2020-29652"
    assert rows[1]["metadata"]["product"]["name"] == "Gemnasium"


def test_gitlab_schema_2_report_without_scan() -> None:
    row = _rows(_gitlab("gl-sast-report-v2.3-defectdojo.json"))[0]
    # no id: the legacy compare key `cve` identifies it; no scan: no kind, code finding (a file, empty package)
    assert row["class_uid"] == 2007 and row["severity"] == "Critical"
    assert row["finding_info"]["uid"].startswith("docker-compose.override.unit_tests.yml:4dd25cfea7294af8")
    code = row["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"]) == ("docker-compose.override.unit_tests.yml", 19)
    assert "secpipe:time_from_receipt" in row["metadata"]["labels"]


def test_gitlab_report_bad_vulnerability_is_dead_lettered_alone() -> None:
    doc = json.loads((HOLDOUT / "gl-sast-report-cwe-defectdojo.json").read_bytes())
    doc["vulnerabilities"][1]["location"]["start_line"] = "136"
    dec = decode_document(formats.get("gitlab_security"), json.dumps(doc).encode(), "t")
    assert dec.events == 3 and len(dec.dead) == 1 and "start_line" in dec.dead[0].reason
    assert len(_rows(dec)) == 2
    dec = decode_document(formats.get("gitlab_security"), b'{"version": "15.0.0", "vulnerabilities": [', "t")
    assert not dec.batches and len(dec.dead) == 1 and "not a GitLab security report" in dec.dead[0].reason


def test_gitlab_report_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    # 16 vulnerabilities and more take the native top-level walk: the same events as msgspec's
    doc = json.loads((HOLDOUT / "gl-sast-report-cwe-defectdojo.json").read_bytes())
    doc["vulnerabilities"] = [dict(v, id=f"{v['id']}-{i}") for i in range(7) for v in doc["vulnerabilities"]]
    dec = same_both_ways("gitlab_security", json.dumps(doc).encode(), monkeypatch, "gitlab sast x7")
    assert dec.events == 21 and not dec.dead and len(_rows(dec)) == 21


def _cosign_rows(body: bytes) -> list[dict[str, Any]]:
    fmt = formats.get("trivy")
    assert formats.detect(body) is fmt
    dec = decode_document(fmt, body, "t")
    assert dec.events == 1 and not dec.dead
    return _rows(dec)


def test_trivy_cosign_vuln_record() -> None:
    # Trivy's docs (supply-chain/attestation/vuln.md): `trivy image --format cosign-vuln` output,
    # the report as scanner.result; Trivy 0.30 wrote no CreatedAt in it: the record's scanFinishedOn
    body = (HOLDOUT / "trivy-cosign-vuln-docs.json").read_bytes()
    row = _cosign_rows(body)[0]
    assert row["time"] == _ms("2022-07-24T08:14:04.864")  # 17:14:04.864682+09:00
    assert not row["metadata"].get("labels")
    assert row["vulnerabilities"][0]["cve"]["uid"] == "CVE-2021-36159" and row["severity"] == "Critical"
    assert row["vulnerabilities"][0]["affected_packages"][0]["name"] == "apk-tools"
    assert row["resources"][0]["name"] == "alpine:3.10"
    # the same record attested by cosign: an in-toto statement with the record as its predicate
    statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
                 "subject": [{"name": "index.docker.io/library/alpine", "digest": {"sha256": "451eee8bedcb2f029756dc3e9d73bab0e7943c1ac55cff3a4861c52a0fdd3e98"}}],
                 "predicate": json.loads(body)}  # fmt: skip
    again = _cosign_rows(json.dumps(statement, indent=2).encode())[0]
    assert again["finding_info"]["uid"] == row["finding_info"]["uid"] and again["time"] == row["time"]


def test_trivy_cosign_record_keeps_the_report_time() -> None:
    doc = json.loads((HOLDOUT / "trivy-cosign-vuln-docs.json").read_bytes())
    doc["scanner"]["result"]["CreatedAt"] = "2022-07-24T08:00:00Z"
    assert _cosign_rows(json.dumps(doc).encode())[0]["time"] == _ms("2022-07-24T08:00:00")


def test_gitlab_secret_detection_and_dast_reports() -> None:
    secret = _rows(_gitlab("gl-secret-detection-report-1-vuln-defectdojo.json"))[0]
    assert secret["class_uid"] == 2007 and secret["finding_info"]["types"] == ["secret_detection"]
    assert secret["metadata"]["product"]["name"] == "Gitleaks" and secret["severity"] == "Critical"
    code = secret["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["rule"]["uid"]) == ("README.md", 5, "AWS")
    # the secret found stays out of the lake (round 27: raw_source_code_extract masked, test_found_secrets_holdout27)
    assert json.loads(secret["unmapped"])["raw_source_code_extract"] == "[REDACTED:AWS]"
    dast = _rows(_gitlab("gl-dast-report-1-vuln-defectdojo.json"))[0]
    # no scan, no name: titled by its ZAP plugin identifier; its time is discovered_at; no file
    assert dast["class_uid"] == 2007 and dast["finding_info"]["title"] == "PII Disclosure"
    assert dast["time"] == _ms("2021-04-23T15:46:40.615") == dast["finding_info"]["first_seen_time"]
    assert dast["vulnerabilities"][0]["cwe"]["uid"] == "CWE-359"  # "type": "CWE"
    assert not dast["vulnerabilities"][0]["affected_code"]
    assert json.loads(dast["unmapped"])["location"]["path"] == "/v1/trees"


def test_gitlab_report_without_vulnerabilities_is_recognized() -> None:
    # nothing found: no event and no dead letter (it was "unrecognized input")
    dec = _gitlab("gl-container-scanning-report-0-vuln-defectdojo.json")
    assert dec.events == 0 and not dec.dead and not dec.batches


def test_gitlab_legacy_cve_key_holding_a_cve_id() -> None:
    # schema 2.x container scanning wrote the CVE itself in `cve` (later the compare key) and
    # could leave identifiers empty; a compare key is not taken for a CVE
    doc = json.loads((HOLDOUT / "gl-container-scanning-report-1-vuln-defectdojo.json").read_bytes())
    vuln = doc["vulnerabilities"][0]
    vuln.update(cve="CVE-2019-3462", identifiers=[])
    row = _rows(decode_document(formats.get("gitlab_security"), json.dumps(doc).encode(), "t"))[0]
    assert row["vulnerabilities"][0]["cve"]["uid"] == "CVE-2019-3462"
    assert row["finding_info"]["uid"] == "df52bc8ce9a2ae56bbcb0c4ecda62123fbd6f69b"  # still its id
    rows = _rows(_gitlab("gl-dependency-scanning-report-2-vuln-defectdojo.json"))
    assert rows[0]["vulnerabilities"][0]["cve"] is None  # "service/go.sum:gopkg.in/yaml.v2:gemnasium:...": no CVE


def test_gitlab_semgrep_sast_report_of_gitlab_fixtures() -> None:
    row = _rows(_gitlab("gitlabhq-gl-sast-report-semgrep-for-gosec.json"))[0]
    assert row["finding_info"]["title"] == "Key Exchange without Entity Authentication"  # legacy `message`, no name
    assert row["finding_info"]["analytic"]["uid"] == "gosec.G106-1"
    assert row["vulnerabilities"][0]["cwe"]["uid"] == "CWE-322" and row["vulnerabilities"][0]["cve"] is None  # "cve": ""
    assert row["metadata"]["product"]["name"] == "Semgrep" and row["time"] == _ms("2022-03-15T20:37:05")
    code = row["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"]) == ("og.go", 8)
    assert "tracking" in json.loads(row["unmapped"])


def test_gitlab_dast_report_whose_evidence_fills_the_head() -> None:
    # keys sorted as in DefectDojo's cut: the evidence (a response body here of 9 KB) comes before
    # identifiers, location and severity; discovered_at before it still names the report
    doc = json.loads((HOLDOUT / "gl-dast-report-1-vuln-defectdojo.json").read_bytes())
    vuln = doc["vulnerabilities"][0]
    vuln["evidence"]["response"]["body"] = "x" * 9000
    body = json.dumps(doc, indent=2, sort_keys=True).encode()
    assert body.find(b'"identifiers"') > 8192
    assert formats.detect(body) is formats.get("gitlab_security")


@pytest.mark.parametrize(("word", "severity_id"), [("HIGH", 4), ("Critical", 5), ("medium", 3), ("Low", 2), ("INFO", 1)])
def test_sarif_security_severity_written_as_a_word(word: str, severity_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Semgrep's rules (DefectDojo unittests/scans/sarif/issue_10191.json, Semgrep 1.69) and several
    # SARIF converters write security-severity as a word, where GitHub's code scanning reads a
    # number: the word is the band (it fell back to the level, here "note", so Low for every one)
    log = {
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "Semgrep OSS", "rules": [
                {"id": "r1", "defaultConfiguration": {"level": "note"}, "properties": {"security-severity": word}},
            ]}},
            "results": [{"ruleId": "r1", "message": {"text": "m"},
                         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]}],
        }],
    }
    dec = same_both_ways("sarif", json.dumps(log).encode(), monkeypatch, "semgrep-word")
    assert dec.events == 1 and not dec.dead
    assert _rows(dec)[0]["severity_id"] == severity_id
