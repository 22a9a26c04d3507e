"""Trivy's custom resources (what a module read from the files it asked for: a result's ``CustomResources``, Class
``custom``) are stored as File Query (5007) events, where they were dropped.

Input: Trivy's own spring4shell golden (``tests/cases/scanners33/spring4shell-jre8.json.golden``, see SOURCES.md:
the module's Java and Tomcat versions); a custom resource of the wrong shape built from Trivy's
``pkg/fanal/types.CustomResource`` (``{Type, FilePath, Layer, Data}``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import _fast
from tests.unit.holdout_support import auto_decoded, conformant_rows

_GOLDEN = Path(__file__).parents[1] / "cases" / "scanners33" / "spring4shell-jre8.json.golden"


def _queries(doc: bytes, tmp_path: Path) -> list[dict]:
    d = auto_decoded(doc, tmp_path, "trivy")
    assert not d.dead and d.events == 3
    rows = conformant_rows(d)
    assert len(rows["vulnerability_finding"]) == 1
    return rows["file_query"]


def test_spring4shell_module_resources_are_file_queries(tmp_path: Path) -> None:
    rows = _queries(_GOLDEN.read_bytes(), tmp_path)
    assert [(r["file"]["path"], r["query_info"], r["message"]) for r in rows] == [
        ("/usr/local/openjdk-8/release",
         {"name": "spring4shell", "query_string": "spring4shell/java-major-version", "data": '"1.8.0_322"'},
         "spring4shell/java-major-version: 1.8.0_322"),
        ("/usr/local/tomcat/RELEASE-NOTES",
         {"name": "spring4shell", "query_string": "spring4shell/tomcat-version", "data": '"8.5.77"'},
         "spring4shell/tomcat-version: 8.5.77"),
    ]  # fmt: skip
    first = rows[0]
    assert (first["activity_name"], first["query_result"], first["severity"]) == ("Query", "Exists", "Informational")
    assert first["time_dt"].isoformat() == "2021-08-25T12:20:30+00:00"  # the report's CreatedAt
    assert first["metadata"]["correlation_uid"] == "017b7d41-e09f-7000-80ea-000000000001"
    kept = json.loads(first["unmapped"])
    assert kept["ArtifactName"] == "testdata/fixtures/images/spring4shell-jre8.tar.gz"
    assert kept["Layer"]["DiffID"].startswith("sha256:ba40706e")


def test_same_events_compacted_and_without_the_native_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _GOLDEN.read_bytes()
    as_given = _queries(doc, tmp_path)
    assert _queries(json.dumps(json.loads(doc), separators=(",", ":")).encode(), tmp_path) == as_given
    monkeypatch.setattr(_fast, "_module", lambda: None)
    assert _queries(doc, tmp_path) == as_given


def test_a_custom_resource_of_the_wrong_shape_alone_is_dead_lettered() -> None:
    report = json.loads(_GOLDEN.read_bytes())
    custom = next(r for r in report["Results"] if r.get("Class") == "custom")
    custom["CustomResources"].insert(1, {"Type": ["spring4shell/tomcat-version"], "FilePath": "/x", "Data": "9"})
    d = formats.get("trivy").decode(json.dumps(report).encode(), "s")
    assert d.events == 4
    assert len(d.dead) == 1 and "a Trivy custom resource" in d.dead[0].reason
    files = [r["file"]["path"] for b in d.batches if b.schema.names.count("query_info") for r in b.to_pylist()]
    assert files == ["/usr/local/openjdk-8/release", "/usr/local/tomcat/RELEASE-NOTES"]
