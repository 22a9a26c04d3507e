"""`snyk test --all-projects --json` lists the projects it could not test as error entries.

Such an entry is ``{"ok": false, "error": "...", "path": "..."}`` (the Snyk CLI's error
output, as its users' tests record it). The projects Snyk did test are stored; the untested
ones hold no issues and are logged; a report of only errors is dead-lettered with Snyk's own
words. Both decode paths (native and msgspec) agree.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from secpipe.formats import detect, get
from secpipe.formats.base import decode_document

_UNTESTED = {"ok": False, "error": "Could not detect supported target files", "path": "assets/"}


@pytest.mark.parametrize("native", [True, False])
def test_tested_projects_are_stored_untested_ones_logged(real: Path, native: bool, python_only,  # type: ignore[no-untyped-def]
                                                         caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    if not native:
        python_only()
    report = json.loads((real / "snyk-to-html/test-report-remediation-missing-patch.json").read_bytes())
    doc = json.dumps([report, _UNTESTED], indent=2).encode()
    with caplog.at_level(logging.WARNING, "secpipe.formats.snyk"):
        dec = decode_document(get("snyk"), doc, "reports/all-projects.json")
    assert dec.dead == []
    assert sum(b.num_rows for b in dec.batches) == len(report["vulnerabilities"])
    assert "assets/ was not tested: Could not detect supported target files" in caplog.text


@pytest.mark.parametrize("doc", [_UNTESTED, [_UNTESTED, dict(_UNTESTED, path="docs/")]])
def test_a_report_of_errors_only_is_dead_lettered_with_snyks_words(doc: object) -> None:
    dec = decode_document(get("snyk"), json.dumps(doc).encode(), "src")
    assert dec.batches == [] and len(dec.dead) == 1
    assert dec.dead[0].reason.startswith("snyk test tested nothing (assets/: Could not detect supported target files")


@pytest.mark.parametrize("doc", [_UNTESTED, [_UNTESTED, dict(_UNTESTED, path="docs/")], dict(_UNTESTED, code=3)])
def test_auto_detection_names_snyk_for_a_file_but_not_for_a_shipped_log_line(doc: object) -> None:
    """`secpipe ingest --format auto` dead-letters such a file with Snyk's words (it was "no
    format matched"); a wire endpoint (catch-all) still stores a log line of that common shape
    as a generic event, not refused as a failed Snyk run."""
    for data in (json.dumps(doc).encode(), json.dumps(doc, indent=2).encode()):
        assert detect(data).name == "snyk"  # type: ignore[union-attr]
        assert detect(data, catch_all=True).name == "json"  # type: ignore[union-attr]
    assert detect(b'{"ok": false, "error": "timeout"}') is None  # no path: not Snyk's answer
