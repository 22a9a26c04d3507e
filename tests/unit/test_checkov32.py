"""Checkov's bare summary (``checkov -o json`` when no framework found anything to check) is an empty report: no
event and no dead letter, where it was "no format matched" (``tests/cases/checkov32/SOURCES.md``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.holdout_support import auto_decoded, ingest_file

CASE = Path(__file__).resolve().parents[1] / "cases" / "checkov32" / "checkov2-report-0-vuln-defectdojo.json"
#: Report.get_summary() as Checkov 3 writes it (checkov/common/output/report.py), json.dumps(..., indent=4)
_CURRENT = (b'{\n    "passed": 0,\n    "failed": 0,\n    "skipped": 0,\n    "parsing_errors": 0,\n    "resource_count": 0,\n'
            b'    "checkov_version": "3.2.255"\n}')  # fmt: skip


@pytest.mark.parametrize("doc", [CASE.read_bytes(), _CURRENT], ids=["defectdojo-2.1", "get_summary"])
def test_bare_summary_is_an_empty_report(doc: bytes, tmp_path: Path) -> None:
    d = auto_decoded(doc, tmp_path, "checkov")
    assert not d.dead and not d.batches
    f = tmp_path / "checkov.json"
    f.write_bytes(doc)
    assert ingest_file(f, tmp_path / "data") == ([], [])
