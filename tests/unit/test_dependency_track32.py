"""Dependency-Track: the REST API's findings array (``GET /api/v1/finding/project/{uuid}``: the finding objects an FPF
export wraps, with no ``meta`` or ``project``) is read as the export's findings (it was "no format matched"), and an
analysis' ``detail`` is the finding's ``status_detail`` (``tests/cases/dependency_track32/SOURCES.md``)."""

from __future__ import annotations

from pathlib import Path

import orjson

from secpipe import formats
from tests.unit.holdout_support import auto_decoded, conformant_rows

CASES = Path(__file__).resolve().parents[1] / "cases"


def test_rest_api_findings_array(tmp_path: Path) -> None:
    fpf = orjson.loads((CASES / "scanners27" / "dependency-track-4.10-defectdojo.json").read_bytes())
    api = orjson.dumps(fpf["findings"], option=orjson.OPT_INDENT_2)
    [r] = conformant_rows(auto_decoded(api, tmp_path, "dependency_track"))["vulnerability_finding"]
    [want] = conformant_rows(auto_decoded(orjson.dumps(fpf), tmp_path, "dependency_track"))["vulnerability_finding"]
    # the same finding as in the export, but for what only the export's meta and project say
    assert r["vulnerabilities"] == want["vulnerabilities"]
    assert r["finding_info"]["uid"] == want["finding_info"]["uid"]
    assert r["vulnerabilities"][0]["cve"]["uid"] == "CVE-2023-45803"
    # the project named by the component's uuid of it; no export time: the receipt time
    [project] = r["resources"]
    assert (project["type"], project["uid"], project["name"]) == ("project", fpf["findings"][0]["component"]["project"], None)
    assert r["metadata"]["labels"] == ["secpipe:time_from_receipt"]


def test_analysis_detail() -> None:
    doc = (CASES / "dependency_track32" / "one-finding-with-analysis-detail-defectdojo.json").read_bytes()
    d = formats.get("dependency_track").decode(doc, "x")
    [r] = d.batches[0].to_pylist()
    assert (r["status_id"], r["status_code"]) == (2, "IN_TRIAGE")
    assert r["status_detail"] == "Reviewed and confirmed vulnerable. Upgrade scheduled for next sprint."
    assert r["resources"][0]["name"] == "test-app"
