"""A SARIF run's invocation notifications of level error, and an invocation that failed, are stored as
Scan Activity (6007) events, so a run that failed does not read as a clean scan (a log with no result stored
nothing).

Inputs, built from the producers' and the spec's text: the SARIF Semgrep writes for the errors of its own e2e
snapshot ``tests/cases/scanners33/semgrep-0.42-missing-field.json`` (its formatter's
``_semgrep_error_to_sarif_notification``: ``descriptor.id`` the error type, ``message.text`` its message, else
``long_msg``, else ``short_msg``; level error / warning / note; ``executionSuccessful`` true, ``results`` empty);
SARIF 2.1.0 §3.20 invocations (``executionSuccessful`` false with ``exitCode`` / ``exitCodeDescription``) and §3.58
notifications (``level`` absent: warning; only an error a failure; ``timeUtc``)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from tests.unit.holdout_support import auto_decoded, conformant_rows

_SEMGREP = Path(__file__).parents[1] / "cases" / "scanners33" / "semgrep-0.42-missing-field.json"


def _semgrep_sarif() -> dict:
    errors = json.loads(_SEMGREP.read_bytes())["errors"]
    notes = [{"descriptor": {"id": e["type"]}, "message": {"text": e.get("message") or e.get("long_msg") or e.get("short_msg", "")},
              "level": {"error": "error", "warn": "warning", "info": "note"}[e["level"]]} for e in errors]  # fmt: skip
    run = {"tool": {"driver": {"name": "Semgrep OSS", "semanticVersion": "0.42", "rules": []}}, "results": [],
           "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}]}  # fmt: skip
    return {"$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0", "runs": [run]}  # fmt: skip


def test_semgrep_sarif_errors_are_failed_scans(tmp_path: Path) -> None:
    d = auto_decoded(json.dumps(_semgrep_sarif()).encode(), tmp_path, "sarif")
    assert not d.dead and d.events == 2
    rows = conformant_rows(d)["scan_activity"]
    assert [(r["status"], r["status_detail"], r["severity"], r["message"]) for r in rows] == [
        ("Failure", "InvalidRuleSchemaError", "Medium", "One of these properties is missing: 'severity'"),
        ("Failure", "SemgrepError", "Medium", "invalid configuration file found (1 configs were invalid)"),
    ]
    assert {r["metadata"]["product"]["name"] for r in rows} == {"Semgrep OSS"}
    assert {r["metadata"]["product"]["version"] for r in rows} == {"0.42"}


def test_failed_invocation_errors_warnings_and_notes(tmp_path: Path) -> None:
    log = _semgrep_sarif()
    inv = log["runs"][0]["invocations"][0]
    inv["toolExecutionNotifications"] = [
        {"message": {"text": "Could not process some files due to syntax errors"}},  # (level absent: a warning)
        {"level": "note", "message": {"text": "Scanned 12 files"}},
        {"level": "none", "descriptor": {"id": "cli/expected-extracted-files"}, "message": {"text": ""}},
        "not a notification",
        {"level": "error", "descriptor": {"id": "OutOfMemory"}, "message": {"text": "Out of memory analyzing a.py"},
         "timeUtc": "2024-05-01T10:00:00Z", "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]},
    ]
    log["runs"][0]["invocations"].append({"executionSuccessful": False, "exitCode": 2,
                                          "exitCodeDescription": "fatal: no rules could be loaded",
                                          "endTimeUtc": "2024-05-01T10:01:00Z"})  # fmt: skip
    d = formats.get("sarif").decode(json.dumps(log).encode(), "s")
    assert d.events == 3 and len(d.dead) == 1 and "not a SARIF notification" in d.dead[0].reason
    rows = conformant_rows(d)["scan_activity"]
    assert [(r["severity"], r["status_detail"], r["status_code"], r["message"], r["time_dt"].isoformat()) for r in rows] == [
        ("Medium", "OutOfMemory", None, "Out of memory analyzing a.py", "2024-05-01T10:00:00+00:00"),
        ("Medium", None, "2", "fatal: no rules could be loaded", "2024-05-01T10:01:00+00:00"),
    ]
    assert "locations" in json.loads(rows[0]["unmapped"])
    assert json.loads(rows[1]["raw_data"]) == {"executionSuccessful": False, "exitCode": 2,
                                               "exitCodeDescription": "fatal: no rules could be loaded"}  # fmt: skip


def test_results_beside_a_clean_invocation_are_unchanged(tmp_path: Path) -> None:
    log = _semgrep_sarif()
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"] = []
    log["runs"][0]["results"] = [{"ruleId": "r", "message": {"text": "m"},
                                  "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]}]  # fmt: skip
    d = auto_decoded(json.dumps(log).encode(), tmp_path, "sarif")
    assert d.events == 1 and list(conformant_rows(d)) == ["application_security_posture_finding"]
