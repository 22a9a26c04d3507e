"""Holdout sweep round 27: a secret scanner's findings keep the secret they found out of the lake.

GitLab secret detection reports carry the secret in each vulnerability's ``raw_source_code_extract``; gitleaks'
SARIF in each result's ``snippet.text`` (gitleaks 8: the secret itself) and gitleaks 7's ``properties.offender``.
They were stored verbatim in ``raw_data`` and ``unmapped`` when no redact stage was configured, handing the leaked
credential to every reader of the lake (GitHub's REST secret scanning alerts are masked since ab59eec). Samples:
DefectDojo's gitlab_secret_detection_report_1_vuln.json and gitleaks 7.5.0 SARIF, gitleaks' own
testdata/expected/report/sarif_simple.sarif (tests/cases/holdout/SOURCE.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"


def _rows(fmt: str, data: bytes) -> list[dict]:
    decoded = formats.get(fmt).decode(data, "report.json")
    assert not decoded.dead
    return [r for b in decoded.batches for r in b.to_pylist()]


def test_gitlab_secret_detection_keeps_the_extract_out() -> None:
    body = (HOLDOUT / "gl-secret-detection-report-1-vuln-defectdojo.json").read_bytes()
    (row,) = _rows("gitlab_security", body)
    assert b"AKIAIOSFODNN7EXAMPLE" in body
    assert "AKIAIOSFODNN7EXAMPLE" not in row["raw_data"] and "AKIAIOSFODNN7EXAMPLE" not in row["unmapped"]
    assert json.loads(row["raw_data"])["raw_source_code_extract"] == "[REDACTED:AWS]"
    assert json.loads(row["unmapped"])["raw_source_code_extract"] == "[REDACTED:AWS]"
    # every other byte as received; the uid is the hash of the finding as received (another secret, another uid)
    assert row["raw_data"] == json.dumps(json.loads(body)["vulnerabilities"][0], separators=(",", ":")).replace(
        "AKIAIOSFODNN7EXAMPLE", "[REDACTED:AWS]")
    (other,) = _rows("gitlab_security", body.replace(b"AKIAIOSFODNN7EXAMPLE", b"AKIAI44QH8DHBEXAMPLE"))
    assert other["raw_data"] == row["raw_data"] and other["metadata"]["uid"] != row["metadata"]["uid"]


def test_gitlab_extract_key_inside_a_string_and_pretty_printed() -> None:
    doc = json.loads((HOLDOUT / "gl-secret-detection-report-1-vuln-defectdojo.json").read_bytes())
    doc["vulnerabilities"][0]["description"] = 'found as "raw_source_code_extract": "AWS"'
    (row,) = _rows("gitlab_security", json.dumps(doc, indent=2).encode())
    raw = json.loads(row["raw_data"])
    assert raw["raw_source_code_extract"] == "[REDACTED:AWS]" and raw["description"] == doc["vulnerabilities"][0]["description"]


def test_gitleaks_sarif_results_keep_the_secret_out() -> None:
    rows = _rows("sarif", (HOLDOUT / "gitleaks-7.5.0-defectdojo.sarif").read_bytes())
    assert len(rows) == 8
    for row in rows:
        raw = json.loads(row["raw_data"])
        assert raw["properties"]["offender"] == "[REDACTED:secret]"  # gitleaks 7 names no rule in a result
        assert raw["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == "[REDACTED:secret]"
        assert json.loads(row["unmapped"])["properties"]["offender"] == "[REDACTED:secret]"
        assert "AKIAIOSFODNN7EXAMPLE" not in row["raw_data"] + row["unmapped"]
    (v8,) = _rows("sarif", (HOLDOUT / "gitleaks-sarif-simple.sarif").read_bytes())
    assert "a secret" not in v8["raw_data"]
    region = json.loads(v8["raw_data"])["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 1, "endLine": 2, "endColumn": 2, "snippet": {"text": "[REDACTED:test-rule]"}}


def test_other_tools_snippets_stay() -> None:
    doc = json.loads((HOLDOUT / "gitleaks-sarif-simple.sarif").read_bytes())
    doc["runs"][0]["tool"]["driver"]["name"] = "Semgrep OSS"  # a code scanner's snippet is the code it points at
    (row,) = _rows("sarif", json.dumps(doc).encode())
    assert json.loads(row["raw_data"])["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == "a secret"
