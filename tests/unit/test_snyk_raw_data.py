"""Snyk: ``raw_data`` and identity of each issue, on the native and the msgspec path.

``raw_data`` is each issue's compact JSON text (non-ASCII text kept as UTF-8), in report
order within each class batch; ``metadata.uid`` tells the same issue apart per project and
per position; license issues are split into compliance findings whether or not Snyk wrote
``license`` as their first key. Expectations are written from the report below.
"""

from __future__ import annotations

import json

import pytest

from secpipe.formats import _fast
from tests.unit.native_support import decode_with, same_both_ways

VULN = {"id": "SNYK-JS-LODASH-1", "title": "Prototype Pollution – ünïcode", "severity": "high", "packageName": "lodash",
        "version": "4.17.4", "description": "## Überblick\n`merge` — “quoted”", "from": ["app@1.0.0", "lodash@4.17.4"],
        "identifiers": {"CVE": ["CVE-2019-10744"], "CWE": ["CWE-400"]}}  # fmt: skip
LICENSE_LAST = {"id": "snyk:lic:npm:left-pad:WTFPL", "title": "WTFPL license", "severity": "medium", "packageName": "left-pad",
                "version": "1.3.0", "from": ["app@1.0.0", "left-pad@1.3.0"], "type": "license", "license": "WTFPL"}  # fmt: skip


def _report() -> tuple[bytes, list[dict[str, object]]]:
    p1 = {"vulnerabilities": [VULN, dict(VULN, version="4.17.5"), LICENSE_LAST], "projectName": "app", "path": "/src/app",
          "packageManager": "npm", "ok": False}  # fmt: skip
    p2 = {"vulnerabilities": [VULN], "projectName": "api", "path": "/src/api", "packageManager": "npm", "ok": False}
    return json.dumps([p1, p2], ensure_ascii=False, indent=2).encode(), [p1, p2]


def _compact(issue: object) -> str:
    return json.dumps(issue, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("native", [True, False])
def test_raw_data_is_each_issue_compact_in_order(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if native and not _fast.available():
        pytest.skip("native extension not built (or SECPIPE_NATIVE=0)")
    doc, (p1, p2) = _report()
    d = decode_with("snyk", doc, monkeypatch, native)
    assert not d.dead
    by_class = {b.column("class_uid")[0].as_py(): b for b in d.batches}
    vulns, comp = by_class.get(2002), by_class.get(2003)
    assert vulns is not None and comp is not None
    expect = [_compact(VULN), _compact(dict(VULN, version="4.17.5")), _compact(VULN)]
    assert vulns.column("raw_data").to_pylist() == expect
    assert comp.column("raw_data").to_pylist() == [_compact(LICENSE_LAST)]
    uids = vulns.column("metadata").field("uid").to_pylist()
    assert len(set(uids)) == 3  # the same issue text in two projects stays two events
    assert [r[0]["name"] for r in vulns.column("resources").to_pylist()] == ["app", "app", "api"]


def test_both_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    if not _fast.available():
        pytest.skip("native extension not built (or SECPIPE_NATIVE=0)")
    doc, _ = _report()
    same_both_ways("snyk", doc, monkeypatch, "non-ASCII report, license issue keyed last")
