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
from tests.unit.native_support import same_both_ways

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_sarif_black_duck_wrapped_fingerprints(monkeypatch: pytest.MonkeyPatch) -> None:
    # Black Duck writes each fingerprint as {"value": "<sha256>"} (DefectDojo PR 15080), where
    # SARIF §3.27.16 has the string: every result was a dead letter ("Expected `str`, got `object`")
    body = (HOLDOUT / "blackduck-nested-fingerprints.sarif").read_bytes()
    assert formats.detect(body) is formats.get("sarif")
    dec = same_both_ways("sarif", body, monkeypatch, "blackduck")
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
    assert formats.detect(body) is formats.get("sarif")
    dec = same_both_ways("sarif", body, monkeypatch, "njsscan")
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
        ("file:///src/index.js", 235, 9, 34)  # fmt: skip


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
