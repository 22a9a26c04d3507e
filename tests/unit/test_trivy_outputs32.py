"""Trivy's other outputs, session 32 (``tests/cases/scanners32/SOURCES.md``): a GitHub dependency snapshot
(``trivy --format github``) holds no finding; its dead letter says so and what to ingest instead."""

from __future__ import annotations

from pathlib import Path

from secpipe import formats
from secpipe.sources.files import read_documents

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners32"


def test_github_dependency_snapshot_is_named() -> None:
    path = CASES / "trivy-alpine-310.gsbom.golden"
    assert formats.detect(path.read_bytes()) is None  # (a package list: no format reads it)
    [doc] = read_documents(str(path))
    assert doc.dead is not None
    assert doc.dead.reason == (
        "unrecognized input: a GitHub dependency snapshot is not a format secpipe reads: it lists packages, no finding: "
        "ingest the scanner's findings instead (`trivy --format json` or `--format cyclonedx`, `syft -o cyclonedx-json` "
        "scanned by Grype)")  # fmt: skip
