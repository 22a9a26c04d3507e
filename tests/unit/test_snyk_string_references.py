"""Snyk issues whose ``references`` are bare URL strings (as `snyk iac test --json` writes them).

The report is the real multi-project fixture of snyk-to-html with one issue's reference objects
replaced by their URLs, the shape IaC issues have.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe.formats.snyk import Snyk


def test_string_references_are_kept_as_urls(real: Path) -> None:
    report = json.loads((real / "snyk-to-html/multi-test-report.json").read_bytes())
    vuln = next(v for p in report for v in p["vulnerabilities"] if v.get("references"))
    urls = [r["url"] for r in vuln["references"]]
    vuln["references"] = urls
    dec = Snyk().decode(json.dumps(report).encode(), "snyk")
    assert dec.dead == []
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert len(rows) == sum(len(p["vulnerabilities"]) for p in report)
    row = next(r for r in rows if r["vulnerabilities"][0]["references"] == urls)
    assert row["finding_info"]["uid"]
