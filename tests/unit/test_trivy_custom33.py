"""Trivy's custom resources (what a module read from the files it asked for: a result's ``CustomResources``, Class
``custom``) are kept, where they were dropped: as ``resources`` of each finding of their report (the facts the
module's post-scan judged the findings by), and, in a report with no finding, as File Query (5007) events.

Input: Trivy's own spring4shell golden (``tests/cases/scanners33/spring4shell-jre8.json.golden``, see SOURCES.md:
the module's Java and Tomcat versions beside CVE-2022-22965); that report with its finding's result left out; a
custom resource of the wrong shape built from Trivy's ``pkg/fanal/types.CustomResource`` (``{Type, FilePath,
Layer, Data}``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import _fast
from tests.unit.holdout_support import auto_decoded, conformant_rows

_GOLDEN = Path(__file__).parents[1] / "cases" / "scanners33" / "spring4shell-jre8.json.golden"
_FOUND = [("spring4shell/java-major-version", "/usr/local/openjdk-8/release", "1.8.0_322"),
          ("spring4shell/tomcat-version", "/usr/local/tomcat/RELEASE-NOTES", "8.5.77")]  # fmt: skip


def _custom(rows: list[dict]) -> list[list[tuple[str, str, str]]]:
    return [[(x["type"], x["name"], json.loads(x["data"])["Data"]) for x in r["resources"] if x["labels"] == ["custom"]]
            for r in rows]  # fmt: skip


def test_spring4shell_module_resources_are_the_findings_resources(tmp_path: Path) -> None:
    d = auto_decoded(_GOLDEN.read_bytes(), tmp_path, "trivy")
    assert not d.dead and d.events == 1
    [vuln] = conformant_rows(d)["vulnerability_finding"]
    assert _custom([vuln]) == [_FOUND]
    layer = json.loads(vuln["resources"][-1]["data"])["Layer"]
    assert layer["DiffID"].startswith("sha256:85595543")


def test_same_rows_compacted_and_without_the_native_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _GOLDEN.read_bytes()

    def rows(doc: bytes) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in ("time", "time_dt")}
                for r in conformant_rows(auto_decoded(doc, tmp_path, "trivy"))["vulnerability_finding"]]  # fmt: skip

    as_given = rows(doc)
    assert rows(json.dumps(json.loads(doc), separators=(",", ":")).encode()) == as_given
    monkeypatch.setattr(_fast, "_module", lambda: None)
    assert rows(doc) == as_given


def test_custom_resources_alone_are_file_queries(tmp_path: Path) -> None:
    report = json.loads(_GOLDEN.read_bytes())
    report["Results"] = [r for r in report["Results"] if r.get("Class") == "custom"]
    d = auto_decoded(json.dumps(report).encode(), tmp_path, "trivy")
    assert not d.dead and d.events == 2
    rows = conformant_rows(d)["file_query"]
    assert [(r["query_info"]["query_string"], r["file"]["path"], r["message"]) for r in rows] == [
        (t, p, f"{t}: {v}") for t, p, v in _FOUND]
    assert {r["query_info"]["name"] for r in rows} == {"spring4shell"}
    assert rows[0]["time_dt"].isoformat() == "2021-08-25T12:20:30+00:00"  # the report's CreatedAt
    assert json.loads(rows[0]["unmapped"])["ArtifactName"] == "testdata/fixtures/images/spring4shell-jre8.tar.gz"


def test_a_custom_resource_of_the_wrong_shape_alone_is_dead_lettered() -> None:
    report = json.loads(_GOLDEN.read_bytes())
    custom = next(r for r in report["Results"] if r.get("Class") == "custom")
    custom["CustomResources"].insert(1, {"Type": ["spring4shell/tomcat-version"], "FilePath": "/x", "Data": "9"})
    d = formats.get("trivy").decode(json.dumps(report).encode(), "s")
    assert d.events == 2
    assert len(d.dead) == 1 and "a Trivy custom resource" in d.dead[0].reason
    assert _custom([r for b in d.batches for r in b.to_pylist()]) == [_FOUND]
