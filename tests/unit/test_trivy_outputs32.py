"""Trivy's other outputs, session 32 (``tests/cases/scanners32/SOURCES.md``): a GitHub dependency snapshot
(``trivy --format github``) holds no finding, its dead letter says so and what to ingest instead, as do
those of Trivy's table and JUnit outputs; a ``trivy k8s`` resource's Metadata list."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.schema.conformance import check_rows
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


@pytest.mark.parametrize(("name", "what"), [("trivy-table-dependency-tree.txt", "a Trivy table report"),
                                            ("trivy-alpine-310.junit.golden", "a Trivy JUnit report (contrib/junit.tpl)")])
def test_trivy_human_outputs_are_named(name: str, what: str) -> None:
    [doc] = read_documents(str(CASES / name))
    assert doc.dead is not None
    assert doc.dead.reason == (f"unrecognized input: {what} is not a format secpipe reads: "
                               "run trivy with `--format json`: the trivy format reads it")  # fmt: skip


def test_k8s_report_resource_metadata_list() -> None:
    """Trivy 0.4x+ writes a k8s resource's Metadata as a list, one per image of the workload
    (``pkg/k8s/report/report.go``: ``Metadata []types.Metadata``): each such resource was dead-lettered
    as a broken part (an object was expected). Built around Trivy's alpine-39-high-critical golden."""
    g = json.loads((CASES / "alpine-39-high-critical.json.golden").read_bytes())
    other = copy.deepcopy(g["Metadata"]) | {"ImageID": "sha256:" + "0" * 64, "RepoTags": ["nginx:1.25"]}
    doc = {"ClusterName": "kind", "Resources": [
        {"Namespace": "default", "Kind": "Deployment", "Name": "one", "Metadata": [g["Metadata"]], "Results": g["Results"]},
        {"Namespace": "default", "Kind": "Deployment", "Name": "two", "Metadata": [g["Metadata"], other], "Results": g["Results"]}]}  # fmt: skip
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "x")
    assert not d.dead and d.events == 4
    rows = [r for b in d.batches for r in b.to_pylist()]
    assert not check_rows("vulnerability_finding", rows)
    one, two = rows[0]["resources"][0], rows[2]["resources"][0]
    assert (one["name"], one["uid"], one["labels"]) == ("one", g["Metadata"]["ImageID"], g["Metadata"]["RepoTags"])
    # two images: every tag, no one image id; their OS (the same) kept
    assert (two["name"], two["uid"], two["labels"]) == ("two", None, [*g["Metadata"]["RepoTags"], "nginx:1.25"])
    assert json.loads(two["data"])["os"] == g["Metadata"]["OS"]
