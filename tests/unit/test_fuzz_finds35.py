"""What the session-35 fuzz found (``python -m tests.unit.mutate`` seeds 3314 up, the wire-route fuzz of
:mod:`tests.unit.wire_mutate`, and probes of the fields the session's commits began to read), each failing before
its fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import _journal
from secpipe.formats.base import Decoded, Records
from secpipe.formats.cloudtrail import CloudTrail
from secpipe.runtime.batch import ingest_files
from tests.unit import mutate
from tests.unit.test_journal_fields35 import CASES, EXPORT, _rows


def _decoded(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any]:
    return _rows(b"".join(json.dumps(e).encode() + b"\n" for e in entries))


def test_a_journal_executable_naming_no_file_is_no_file() -> None:
    """systemd's documented export entries as ``journalctl -o json`` lines (tests/cases/holdout/
    systemd-journal-export-format.txt), ``_EXE`` of the first made ``""`` or ``/usr/libexec/`` (a path naming
    no file): since cde716ec read ``_EXE`` as ``actor.process.file``, a document whose every ``_EXE`` named no file
    had a path column but no name column, and the decode stopped with KeyError 'actor.process.file.name': the
    whole document dead-lettered as a decoder error. Such a path is none now (an OCSF File has a name; the value
    stays in raw_data); the other entry's file is kept."""
    _raws, _offs, entries, _bad = _journal.export_entries(EXPORT)
    for exe in ("", "/usr/libexec/", "/"):
        alone = dict(entries[0], _EXE=exe)
        rows, d = _decoded([alone])
        assert not d.dead and d.events == 1
        assert "file" not in (rows[0]["actor"]["process"] or {}) or rows[0]["actor"]["process"]["file"] is None
        rows, d = _decoded([alone, entries[1]])
        assert not d.dead and d.events == 2
        assert rows[0]["actor"]["process"].get("file") is None
        assert rows[1]["actor"]["process"]["file"] == {"path": "/usr/bin/bash", "name": "bash", "type_id": 1}


def test_a_grype_image_whose_tags_are_no_list_has_no_labels() -> None:
    """Grype's own JSON presenter snapshot of an image scan (tests/cases/scanners27/grype-json-presenter-image.json)
    with ``source.target.tags`` (Syft's ImageMetadata ``tags``: a list of strings) another type (json-key seed 3320
    round 3417 made it 2**63): an integer stopped the decode with TypeError ('int' object is not iterable), the
    whole report lost; a string was read as a list of its characters. Only a list gives labels now."""
    doc = json.loads((CASES / "scanners27" / "grype-json-presenter-image.json").read_bytes())
    for tags, labels in ((2**63, None), (5, None), ("v1.0", None), ({"a": "b"}, None), (["v1.0", 3, "latest"], ["v1.0", "latest"])):
        doc["source"]["target"]["tags"] = tags
        d = formats.get("grype").decode(json.dumps(doc).encode(), "grype.json")
        assert not d.dead and d.events == len(doc["matches"])
        rows = [r for b in d.batches for r in b.to_pylist()]
        assert {json.dumps(r["resources"][0].get("labels")) for r in rows} == {json.dumps(labels)}


def test_a_mapping_that_raises_in_secpipe_ingest_loses_one_record_not_the_run(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``secpipe ingest`` maps the records of many files in one pass (runtime/batch.py) and did not guard it: a
    mapping that raised (the Kubernetes Events' TypeError of test_k8s_events_holdout28, found by json-key) stopped
    the run, every file's records lost, where the server's combined mapping dead-letters the request alone. The
    records are now mapped in halves down to the one that raises, dead-lettered alone with the reason at its
    offset; the other records of the batch are stored. (AWS's documented CloudTrail records, two files of them
    pretty-printed; the mapping made to raise on one record.)"""
    doc = json.loads((CASES / "runtime27" / "aws-docs-cloudtrail-vpce-web-identity.json").read_bytes())
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(doc, indent=2))
    doc["Records"] = [dict(r, eventID=f"{r['eventID']}-b") for r in doc["Records"]]
    doc["Records"][2]["eventID"] = "fuzz-bad"
    b.write_text(json.dumps(doc, indent=2))
    real = CloudTrail.map_records
    BUG = "a decoder bug"  # noqa: N806

    def buggy(self: CloudTrail, recs: Records) -> Decoded:
        if any(b'"fuzz-bad"' in r for r in recs.raws):
            raise ValueError(BUG)
        return real(self, recs)

    monkeypatch.setattr(CloudTrail, "map_records", buggy)
    monkeypatch.setattr(CloudTrail, "defer", lambda self, data, source: None)  # records split, not documents kept whole
    pipe = mutate._Collect()
    ingest_files(pipe, [str(a), str(b)], "cloudtrail")  # type: ignore[arg-type]
    out = pipe.out
    assert (sum(x.num_rows for x in out.batches), len(out.dead), out.events) == (7, 1, 8)
    (dead,) = out.dead
    assert dead.reason == "decoder error: ValueError: a decoder bug" and b'"fuzz-bad"' in dead.raw
    assert (dead.source, dead.offset) == (str(b), 2)  # the record's place as the split gives it (its index here)


def test_a_sarif_suppression_whose_status_is_no_text_does_not_lose_the_log() -> None:
    """Checkov's SARIF of an SCA image scan (tests/cases/holdout/checkov-sca-image-sarif.sarif: its third result has
    an ``external`` suppression) with the suppression's ``status`` (SARIF 2.1.0 §3.35.3: accepted, underReview,
    rejected) an object: looking it up among the statuses that do not suppress raised TypeError (unhashable), the
    whole log dead-lettered as a decoder error (a static hunt for json-key's k8s find). A status that is no
    text is none, as an absent one: the suppression suppresses; the other results are as before."""
    data = (CASES / "holdout" / "checkov-sca-image-sarif.sarif").read_bytes()
    before = formats.get("sarif").decode(data, "checkov.sarif")
    doc = json.loads(data)
    for status in ({"a": 1}, ["rejected"], 5):
        doc["runs"][0]["results"][2]["suppressions"][0]["status"] = status
        got = formats.get("sarif").decode(json.dumps(doc).encode(), "checkov.sarif")
        assert not got.dead and got.events == before.events == 3
        assert [r["status_id"] for b in got.batches for r in b.to_pylist()] == \
            [r["status_id"] for b in before.batches for r in b.to_pylist()]  # fmt: skip
