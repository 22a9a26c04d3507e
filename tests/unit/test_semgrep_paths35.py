"""Semgrep JSON reports without ``paths`` are detected; ``paths.skipped`` (``--verbose``) is stored.

Inputs: the report semgrep/semgrep issue #2128 quotes (Semgrep 0.3x, a scan that failed: ``results`` and one
``errors`` entry, no ``paths``), verbatim; a real Semgrep 1.30 report (tests/cases/scanners28, DefectDojo's unit
test file) with the skipped targets ``semgrep --verbose`` adds in the shape semgrep-interfaces
``semgrep_output_v1.atd`` gives them (``scanned_and_skipped``: ``skipped_target`` path, reason, details, rule_id) and
Semgrep's ``target_manager.py`` writes them (``size_limit_bytes`` beside ``exceeded_size_limit``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.schema.ocsf import validate_batch

CASES = Path(__file__).parents[1] / "cases"
#: semgrep/semgrep#2128 (2020-11-26), the "Error Result" of the issue, verbatim
ISSUE_2128 = (b'{"results": [], "errors": [{"type": "SemgrepError", "code": 2, "message": "unexpected non-json output while '
              b'invoking semgrep-core:\\n\\n\\nAn error occurred while invoking the semgrep engine; please help us fix this '
              b'by creating an issue at https://github.com/returntocorp/semgrep"}]}')  # fmt: skip
SKIPPED = [
    {"path": "vendor/jquery.min.js", "reason": "semgrepignore_patterns_match"},
    {"path": "static/bundle.js", "reason": "exceeded_size_limit", "size_limit_bytes": 1000000},
    {"path": "test.go", "reason": "analysis_failed_parser_or_internal_error",
     "details": "Timeout", "rule_id": "go.lang.security.audit.x"},
]  # fmt: skip


def _by_class(data: bytes) -> tuple[dict[str, list[dict[str, Any]]], Any]:
    fmt = formats.detect(data[:65536])
    assert fmt is not None and fmt.name == "semgrep"
    d = fmt.decode(data, "semgrep.json")
    out: dict[str, list[dict[str, Any]]] = {}
    for b in d.batches:
        cls = b.column("class_name")[0].as_py().lower().replace(" ", "_")
        assert validate_batch(cls, b.schema) == []
        out.setdefault(cls, []).extend(b.to_pylist())
    return out, d


def _report(skipped: Any) -> bytes:
    doc = json.loads((CASES / "scanners28" / "semgrep-1.30-defectdojo.json").read_bytes())
    doc["paths"] = {"scanned": doc["paths"]["scanned"], "skipped": skipped}
    return json.dumps(doc, indent=2).encode()


def test_a_report_without_paths_is_detected_and_its_error_stored() -> None:
    rows, d = _by_class(ISSUE_2128)
    assert not d.dead and d.events == 1
    (err,) = rows["scan_activity"]
    assert (err["activity_name"], err["status"], err["status_code"], err["status_detail"]) == \
        ("Error", "Failure", "2", "SemgrepError")  # fmt: skip
    assert err["message"].startswith("unexpected non-json output while invoking semgrep-core")


def test_skipped_targets_are_one_scan_activity_beside_the_findings() -> None:
    rows, d = _by_class(_report(SKIPPED))
    assert not d.dead and d.events == 2
    (finding,) = rows["application_security_posture_finding"]  # the report's match, as without --verbose
    (scan,) = rows["scan_activity"]
    assert (scan["activity_id"], scan["activity_name"], scan["status"]) == (2, "Completed", "Success")
    assert (scan["num_files"], scan["num_skipped_items"], scan["num_detections"]) == (1, 3, 1)
    assert scan["severity"] == "Low"  # Semgrep failed on a target it meant to scan
    assert json.loads(scan["unmapped"]) == {"skipped": SKIPPED}  # each with its reason, as written
    assert json.loads(scan["raw_data"])["skipped"] == SKIPPED and scan["scan"]["name"] == "Semgrep"
    assert "secpipe:time_from_receipt" in scan["metadata"]["labels"]
    again, _ = _by_class(_report(SKIPPED))
    assert again["scan_activity"][0]["metadata"]["uid"] == scan["metadata"]["uid"]  # the same report: the same uid
    other, _ = _by_class(_report(SKIPPED[:2]))
    assert other["scan_activity"][0]["severity"] == "Informational"
    assert other["scan_activity"][0]["metadata"]["uid"] != scan["metadata"]["uid"]


def test_no_skipped_list_no_scan_activity() -> None:
    rows, d = _by_class((CASES / "scanners28" / "semgrep-1.30-defectdojo.json").read_bytes())  # the "_comment" form
    assert set(rows) == {"application_security_posture_finding"} and d.events == 1
    rows, d = _by_class(_report([]))
    assert set(rows) == {"application_security_posture_finding"} and d.events == 1


def test_a_bad_skipped_list_is_dead_lettered_and_the_findings_stay() -> None:
    for bad in ({"path": "x"}, [{"reason": "always_skipped"}], ["a.py"]):
        rows, d = _by_class(_report(bad))
        assert len(rows["application_security_posture_finding"]) == 1 and "scan_activity" not in rows
        (dead,) = d.dead
        assert dead.reason.startswith("not a Semgrep paths object") and b'"skipped"' in dead.raw
        assert d.events == 2


def test_other_results_and_errors_reports_are_not_semgrep() -> None:
    semgrep = formats.get("semgrep")
    neo4j = b'{"results": [], "errors": [{"code": "Neo.ClientError.Statement.SyntaxError", "message": "bad"}]}'
    assert semgrep.sniff(neo4j) == 0
    assert semgrep.sniff(b'{"errors": [], "results": []}') == 0  # Bandit's and others' empty reports
    assert semgrep.sniff(b'{"results": [], "errors": [{"filename": "a.py", "reason": "syntax error"}]}') == 0
