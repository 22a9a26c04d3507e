"""What a scan left unscanned while it succeeded is stored: a Semgrep error of level ``warn`` / ``info`` and a SARIF
notification of level ``warning`` / ``note`` is a Scan Activity (6007), activity Completed, status Success (the scan
ran to its end), ``status_detail`` / ``message`` what it did not fully read, the file it names in ``unmapped``; a
failure stays activity Error, status Failure; a SARIF notification of level ``none`` is not stored.

Inputs: ``tests/cases/scanners34/semgrep-action-syntax-warnings.json`` (Semgrep's own fixture of a run's errors: a TSX
file Semgrep Core could not parse, three rules, level warn; see SOURCES.md); the same errors in the SARIF Semgrep
writes for them (its formatter's ``_semgrep_error_to_sarif_notification``: ``descriptor.id`` the error type,
``message.text`` its message, warn -> ``warning``, info -> ``note``, ``executionSuccessful`` true); semgrep-interfaces
``semgrep_output_v1.atd`` ``error_severity`` (error "always an error", warn "only an error if strict is set", info
"nothing may be wrong"); SARIF 2.1.0 §3.58.6 (notification level; absent: warning) and CodeQL's per-file
notifications of level none."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from tests.unit.holdout_support import auto_decoded, conformant_rows

_CASES = Path(__file__).parents[1] / "cases" / "scanners34"
_WARNINGS = _CASES / "semgrep-action-syntax-warnings.json"
_FILE = "frontend/src/r2components/table/DataTable.tsx"


def _as_sarif(errors: list[dict], results: list[dict] | None = None) -> dict:
    """The SARIF ``semgrep --sarif`` writes for these errors (see the module docstring)."""
    notes = [{"descriptor": {"id": e["type"]}, "message": {"text": e.get("message") or e.get("long_msg") or e.get("short_msg", "")},
              "level": {"error": "error", "warn": "warning", "info": "note"}[e["level"]]} for e in errors]  # fmt: skip
    run = {"tool": {"driver": {"name": "Semgrep OSS", "semanticVersion": "1.40.0", "rules": []}}, "results": results or [],
           "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}]}  # fmt: skip
    return {"$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0", "runs": [run]}  # fmt: skip


def test_semgrep_syntax_warnings_are_coverage_gaps() -> None:
    d = formats.get("semgrep").decode(_WARNINGS.read_bytes(), "s")
    assert not d.dead and d.events == 3
    rows = conformant_rows(d)["scan_activity"]
    assert {(r["activity_name"], r["type_uid"], r["status"], r["severity"], r["status_detail"], r["status_code"])
            for r in rows} == {("Completed", 600702, "Success", "Low", "Syntax error", "3")}  # fmt: skip
    assert [json.loads(r["unmapped"])["rule_id"] for r in rows] == [
        "javascript.jsonwebtoken.security.jwt-hardcode.hardcoded-jwt-secret",
        "javascript.lang.correctness.useless-eqeq.eqeq-is-bad",
        "typescript.react.security.react-markdown-insecure-html.react-markdown-insecure-html",
    ]
    assert {json.loads(r["unmapped"])["path"] for r in rows} == {_FILE}
    assert rows[1]["message"] == ("Semgrep Core WARN - Syntax error: When running javascript.lang.correctness.useless-eqeq."
                                  f"eqeq-is-bad on {_FILE}: `}}: DataTableProps<` was unexpected")  # fmt: skip
    assert len({r["metadata"]["uid"] for r in rows}) == 3
    assert {r["scan"]["name"] for r in rows} == {"Semgrep"}


def test_semgrep_warnings_beside_a_match_and_a_failure(tmp_path: Path) -> None:
    errors = json.loads(_WARNINGS.read_bytes())["errors"][:1]
    errors.append({"code": 2, "level": "error", "type": ["PatternParseError", ["$X ==="]], "rule_id": "r",
                   "message": "Pattern could not be parsed as Python"})  # fmt: skip
    errors.append({"code": 0, "level": "INFO", "type": "Timeout", "path": "c.js", "rule_id": "r"})  # any case
    errors.append({"code": 9, "level": "fatal", "type": "Fatal error", "message": "boom"})  # no level Semgrep has: a failure
    match = {"check_id": "python.lang.security.audit.eval-detected", "path": "a.py",
             "start": {"line": 1, "col": 1, "offset": 0}, "end": {"line": 1, "col": 9, "offset": 8},
             "extra": {"message": "eval", "severity": "WARNING", "metadata": {}, "lines": "eval(x)"}}  # fmt: skip
    doc = {"version": "1.90.0", "results": [match], "errors": errors, "paths": {"scanned": ["a.py", _FILE]}}
    d = auto_decoded(json.dumps(doc).encode(), tmp_path, "semgrep")
    assert not d.dead and d.events == 5
    by_class = conformant_rows(d)
    assert len(by_class["application_security_posture_finding"]) == 1
    assert [(r["activity_name"], r["status"], r["severity"], r["status_detail"]) for r in by_class["scan_activity"]] == [
        ("Completed", "Success", "Low", "Syntax error"),
        ("Error", "Failure", "Medium", "PatternParseError"),
        ("Completed", "Success", "Informational", "Timeout"),
        ("Error", "Failure", "Unknown", "Fatal error"),
    ]


def test_sarif_warnings_are_coverage_gaps(tmp_path: Path) -> None:
    log = _as_sarif(json.loads(_WARNINGS.read_bytes())["errors"])
    d = auto_decoded(json.dumps(log).encode(), tmp_path, "sarif")
    assert not d.dead and d.events == 3
    rows = conformant_rows(d)["scan_activity"]
    assert {(r["activity_name"], r["status"], r["severity"], r["status_detail"]) for r in rows} == {
        ("Completed", "Success", "Low", "Syntax error")}  # fmt: skip
    assert {r["metadata"]["product"]["name"] for r in rows} == {"Semgrep OSS"}
    assert all(_FILE in r["message"] for r in rows)


def test_sarif_notes_stored_level_none_not(tmp_path: Path) -> None:
    """CodeQL lists a level-none notification for each file it extracted: none is stored, however many; a note is."""
    extracted = [{"descriptor": {"id": "js/diagnostics/successfully-extracted-files"}, "level": "none", "message": {"text": ""},
                  "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"src/f{i}.js"}}}]} for i in range(5000)]  # fmt: skip
    result = {"ruleId": "js/xss", "message": {"text": "m"},
              "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/f0.js"}, "region": {"startLine": 3}}}]}
    log = _as_sarif([], [result])
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"] = extracted
    d = auto_decoded(json.dumps(log).encode(), tmp_path, "sarif")
    assert not d.dead and d.events == 1 and list(conformant_rows(d)) == ["application_security_posture_finding"]
    inv = log["runs"][0]["invocations"][0]
    inv["toolExecutionNotifications"] = [*extracted[:2], {"level": "note", "message": {"text": "Scanned 2 files"}},
                                         {"level": "warning", "descriptor": {"id": "js/diagnostics/extraction-errors"},
                                          "message": {"text": "A parse error occurred: Unexpected token."},
                                          "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/bad.js"}}}]}]  # fmt: skip
    inv["toolConfigurationNotifications"] = [{"level": "none", "message": {"text": "x"}}]
    d = formats.get("sarif").decode(json.dumps(log).encode(), "s")
    assert not d.dead and d.events == 3
    rows = conformant_rows(d)["scan_activity"]
    assert [(r["activity_name"], r["status"], r["severity"], r["status_detail"], r["message"]) for r in rows] == [
        ("Completed", "Success", "Informational", None, "Scanned 2 files"),
        ("Completed", "Success", "Low", "js/diagnostics/extraction-errors", "A parse error occurred: Unexpected token."),
    ]
    assert json.loads(rows[1]["unmapped"])["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/bad.js"


def test_sarif_unknown_level_is_a_failure_and_bad_items_dead_letter_alone() -> None:
    log = _as_sarif([])
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"] = [
        {"level": "fatal", "message": {"text": "the analyzer crashed"}},  # no SARIF level: taken for an error
        ["not", "a", "notification"],
        {"level": "warning", "message": {"text": "skipped big.min.js"}},
    ]
    log["runs"][0]["invocations"][0]["toolConfigurationNotifications"] = {"not": "a list"}
    d = formats.get("sarif").decode(json.dumps(log).encode(), "s")
    assert d.events == 4 and len(d.dead) == 2
    assert "not a SARIF notification (an object)" in d.dead[0].reason and "toolExecutionNotifications[1]" in d.dead[0].reason
    assert "not a SARIF notification list" in d.dead[1].reason
    rows = conformant_rows(d)["scan_activity"]
    assert [(r["activity_name"], r["status"], r["severity"], r["message"]) for r in rows] == [
        ("Error", "Failure", "Unknown", "the analyzer crashed"),
        ("Completed", "Success", "Low", "skipped big.min.js"),
    ]
