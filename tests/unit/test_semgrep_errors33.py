"""A Semgrep JSON report's ``errors`` are stored, so a scan that failed does not read as a clean one: each is a
Scan Activity (6007), activity Error, status Failure, its message, type and code kept.

Inputs: two of Semgrep's own e2e snapshots of failed scans (``tests/cases/scanners33``, see SOURCES.md: a rule
whose pattern does not parse; a rule missing ``severity`` and the configuration error it causes), and errors
built from semgrep-interfaces' ``cli_output.atd`` (``cli_error``: ``type`` a name or ``["PartialParsing",
[locations]]``, ``level`` error / warn / info: only an error is a failure of the scan) beside a match."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.holdout_support import auto_decoded, conformant_rows

_CASES = Path(__file__).parents[1] / "cases" / "scanners33"


def test_rule_parse_error_is_a_failed_scan(tmp_path: Path) -> None:
    d = auto_decoded((_CASES / "semgrep-0.42-rule-parse-error.json").read_bytes(), tmp_path, "semgrep")
    assert not d.dead and d.events == 1
    [row] = conformant_rows(d)["scan_activity"]
    assert (row["activity_name"], row["status"], row["status_code"], row["status_detail"], row["severity"]) == (
        "Error", "Failure", "2", "Rule parse error", "Medium")  # fmt: skip
    assert row["message"].startswith("Rule parse error in rule rules.syntax.eqeq-is-bad:\n Invalid pattern for Python")
    assert json.loads(row["unmapped"]) == {"rule_id": "rules.syntax.eqeq-is-bad"}
    assert row["metadata"]["product"] == {"name": "Semgrep", "vendor_name": "Semgrep", "version": "0.42"}


def test_schema_error_and_config_error(tmp_path: Path) -> None:
    d = auto_decoded((_CASES / "semgrep-0.42-missing-field.json").read_bytes(), tmp_path, "semgrep")
    rows = conformant_rows(d)["scan_activity"]
    assert [(r["status_detail"], r["status_code"], r["message"]) for r in rows] == [
        ("InvalidRuleSchemaError", "4", "One of these properties is missing: 'severity'"),
        ("SemgrepError", "7", "invalid configuration file found (1 configs were invalid)"),
    ]
    spans = json.loads(rows[0]["unmapped"])["spans"]
    assert spans[0]["file"] == "rules/syntax/missing-field.yaml"


def test_errors_beside_a_match_warnings_and_one_of_the_wrong_shape(tmp_path: Path) -> None:
    match = {"check_id": "python.lang.security.audit.eval-detected", "path": "a.py",
             "start": {"line": 1, "col": 1, "offset": 0}, "end": {"line": 1, "col": 9, "offset": 8},
             "extra": {"message": "eval", "severity": "WARNING", "metadata": {}, "lines": "eval(x)"}}
    partial = {"code": 3, "level": "warn", "path": "b.sh",
               "type": ["PartialParsing", [{"path": "b.sh", "start": {"line": 105, "col": 39}, "end": {"line": 105, "col": 50}}]]}
    info = {"code": 0, "level": "info", "type": "Timeout", "path": "c.js", "rule_id": "r"}
    pattern = {"code": 2, "level": "error", "type": ["PatternParseError", ["$X ==="]], "rule_id": "r",
               "message": "Pattern could not be parsed as Python"}
    doc = {"version": "1.90.0", "results": [match], "errors": [partial, "not an error object", info, pattern],
           "paths": {"scanned": ["a.py", "b.sh", "c.js"]}}  # fmt: skip
    d = auto_decoded(json.dumps(doc).encode(), tmp_path, "semgrep")
    assert d.events == 3  # the match, the error, the dead letter: a warning or info is no failure of the scan
    assert len(d.dead) == 1 and "a Semgrep error" in d.dead[0].reason
    by_class = conformant_rows(d)
    assert len(by_class["application_security_posture_finding"]) == 1
    scans = by_class["scan_activity"]
    assert [(r["status_detail"], r["severity"], r["message"]) for r in scans] == [
        ("PatternParseError", "Medium", "Pattern could not be parsed as Python")]
