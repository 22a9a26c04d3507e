"""trivy-operator / Starboard reports, session 32: every severity word they write maps to an OCSF
severity (samples: ``tests/cases/scanners31/SOURCES.md``)."""

from __future__ import annotations

from pathlib import Path

from secpipe import formats

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners31"


def test_starboard_danger_checks_are_high() -> None:
    """Starboard's ConfigAuditReports carry Polaris' two levels, ``warning`` and ``danger`` (the one
    that blocks, its ``dangerCount`` beside ``warningCount``): danger is High (4), where it was Unknown."""
    doc = (CASES / "trivy-operator-configauditreportlist.json").read_bytes()
    d = formats.get("trivy").decode(doc, "x")
    rows = [r for b in d.batches for r in b.to_pylist()]
    assert len(rows) == 5 and {(r["severity_id"], r["severity"]) for r in rows} == {(4, "High")}
    assert {c["severity"] for r in rows for c in r["compliance"]["checks"]} == {"High"}
    assert {'"Severity":"danger"' in r["raw_data"] for r in rows} == {True}  # Starboard's word kept
