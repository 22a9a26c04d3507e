"""Every location of a SARIF result is an ``affected_code`` entry (SARIF 2.1.0 §3.27.12: a result lists more than
one location when the condition must be corrected at each of them), where only the first was; the finding's uid
is still made from the first.

Input: sarif-sdk's Contrast Security converter output ``WebGoat.xml.sarif`` (``../shared/data/real/sarif-sdk``,
see its SOURCES.md: results listing up to 22 pages), and a result built from §3.28 whose second location is a
logical one alone (no file: no entry)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import _fast

_WEBGOAT = "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/ContrastSecurity/WebGoat.xml.sarif"


def _code(doc: bytes) -> list[list[tuple[str, int | None]]]:
    d = formats.get("sarif").decode(doc, "s")
    assert not d.dead
    return [[(c["file"]["path"], c.get("start_line")) for c in r["vulnerabilities"][0].get("affected_code") or []]
            for b in d.batches for r in b.to_pylist()]  # fmt: skip


def test_every_page_of_a_contrast_result(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (real / _WEBGOAT).read_bytes()
    log = json.loads(doc)
    want = [[p["physicalLocation"]["artifactLocation"]["uri"] for p in r.get("locations") or ()
             if "physicalLocation" in p] for r in log["runs"][0]["results"]]  # fmt: skip
    got = _code(doc)
    assert [[p for p, _ in c] for c in got] == want
    assert [len(c) for c in got][:4] == [1, 15, 22, 22]
    monkeypatch.setattr(_fast, "_module", lambda: None)
    assert _code(doc) == got


def test_a_location_with_no_file_is_no_entry() -> None:
    res = {"ruleId": "r", "message": {"text": "m"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": 3}}},
        {"logicalLocations": [{"fullyQualifiedName": "f", "kind": "function"}]},
        {"physicalLocation": {"artifactLocation": {"uri": "b.c"}, "region": {"startLine": 9, "endLine": 11}}}]}
    one = {"ruleId": "r", "message": {"text": "n"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "c.c"}}}]}
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [res, one, {"ruleId": "r", "message": {"text": "o"}}]}]}
    assert _code(json.dumps(log).encode()) == [[("a.c", 3), ("b.c", 9)], [("c.c", None)], []]
