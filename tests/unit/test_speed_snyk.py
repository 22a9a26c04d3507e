"""Snyk's speed path keeps its output (issue 3's per-format floor).

A regular report is decoded as it came and each issue compacted on its own, with ``raw_data``
made by the native walk (``whole``); ``ReportFormat``'s path compacts the whole report and
slices it. Both must give the same batches and dead letters, with the extension and without
it, on the real snyk-to-html reports (pretty-printed as the CLI writes them, and compact), on
a bench-shaped report, and on reports with mutated issues (which send the report to the
msgspec path, whose typed issues must be slices of the compact report).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import get
from secpipe.formats._findings import ReportFormat
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded, native_mode

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _both(doc: bytes, monkeypatch: pytest.MonkeyPatch, native: bool) -> tuple[Decoded, Decoded]:
    """(the format's decode, ReportFormat's decode) of ``doc`` with the extension on or off."""
    with native_mode(monkeypatch, native):
        fmt = get("snyk")
        return fmt.decode(doc, "src"), ReportFormat.decode(fmt, doc, "src")


def _check(doc: bytes, monkeypatch: pytest.MonkeyPatch, what: object) -> int:
    rows = 0
    for native in (True, False):
        got, want = _both(doc, monkeypatch, native)
        assert_same_decoded(got, want, (what, native))
        rows += sum(b.num_rows for b in got.batches)
    return rows


def _reports(real: Path) -> list[tuple[str, Any]]:
    out = []
    for p in sorted((real / "snyk-to-html").glob("*.json")):
        try:
            out.append((p.name, json.loads(p.read_text())))
        except ValueError:
            continue
    return out


def test_regular_reports_same_as_whole_report_path(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 0
    for name, rep in _reports(real):
        rows += _check(json.dumps(rep, indent=2).encode(), monkeypatch, name)
        rows += _check(json.dumps(rep, separators=(",", ":"), ensure_ascii=False).encode(), monkeypatch, name)
    sys.path.insert(0, str(BENCH))
    try:
        import formats_scanners_bench
    finally:
        sys.path.remove(str(BENCH))
    rows += _check(formats_scanners_bench.gen_snyk(1500)[0], monkeypatch, "bench")
    assert rows > 3000


def test_mutated_issues_same_as_whole_report_path(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = json.loads((real / "snyk-to-html/multi-test-report.json").read_text())
    for p in base:
        del p["vulnerabilities"][3:]
    checked = 0
    for key in ("from", "identifiers", "description", "cvssScore", "upgradePath", "type", "version", "semver"):
        for v in (None, 7, "", "x\u00e9\"\\", [], {}, ["a", 1]):
            m = copy.deepcopy(base)
            m[0]["vulnerabilities"][1][key] = v
            _check(json.dumps(m, indent=2).encode(), monkeypatch, (key, v))
            checked += 1
    m = copy.deepcopy(base)
    m[0]["vulnerabilities"][0]["zExtra"] = {"a": [1, "b"]}
    _check(json.dumps(m, indent=1).encode(), monkeypatch, "extra key")
    bad = copy.deepcopy(base)
    bad[1] = {"ok": False, "error": "could not test", "path": "x"}  # an untested project: ReportFormat's path
    _check(json.dumps(bad, indent=2).encode(), monkeypatch, "untested")
    _check(b"\xef\xbb\xbf" + json.dumps(base, indent=2).encode(), monkeypatch, "byte-order mark")
    assert checked == 56
