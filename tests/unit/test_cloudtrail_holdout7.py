"""CloudTrail records whose top-level keys are not in CloudTrail's case (seventh holdout round).

Panther's data lake holds CloudTrail as columns of a case-insensitive SQL table, and some of
its rule tests (``aws_ipset_modified.yml``) give such rows with the column names lower-cased:
``eventname``, ``eventsource``, ``awsregion``, ``eventtime`` beside ``p_*`` fields. Panther's
detections read events case-insensitively. The records here are real Panther test events of
``shared/data/real`` with their top-level keys re-cased (a spec-built mutation, not the
third-party file).

Regression covered: such a file was not recognized as CloudTrail and such records were
dead-lettered as having no eventName/eventSource.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import _rows


def _records(real: Path) -> list[dict[str, Any]]:
    data = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())
    recs: list[dict[str, Any]] = data["Records"]
    return recs


def _recase(rec: dict[str, Any], how: str) -> dict[str, Any]:
    """The record with its top-level keys lower- or upper-cased (nested objects as they are)."""
    return {(k.lower() if how == "lower" else k.upper()): copy.deepcopy(v) for k, v in rec.items()}


#: what a record's mapping must not change when only its keys' case does
_SAME = ("class_uid", "activity_id", "time", "status_id", "api", "cloud", "actor", "user", "src_endpoint",
         "http_request", "resources")  # fmt: skip


def _compact(rec: dict[str, Any]) -> str:
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("how", ["lower", "upper"])
def test_recased_keys_map_as_the_record(real: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    recs = _records(real)
    timed = [r for r in recs if r.get("eventTime")]  # (without one, the time is the receipt's)
    picked = [timed[0], next(r for r in timed if r.get("eventName") == "ConsoleLogin"),
              next(r for r in timed if r.get("errorCode"))]  # fmt: skip
    recased = [_recase(r, how) for r in picked]
    doc = json.dumps({"Records": [*recased, recs[1]]}).encode()
    d = same_both_ways("cloudtrail", doc, monkeypatch, f"{how}-cased keys")
    assert not d.dead
    rows = {r["raw_data"]: r for r in _rows(d)}
    assert len(rows) == 4
    want = {r["raw_data"]: r for r in _rows(formats.get("cloudtrail").decode(json.dumps({"Records": picked}).encode(), "w"))}
    for orig, rec in zip(picked, recased, strict=True):
        got, ref = rows[_compact(rec)], want[_compact(orig)]
        for key in _SAME:
            assert got.get(key) == ref.get(key), key
        assert got["metadata"]["event_code"] == orig["eventName"] and got["metadata"]["uid"] != ref["metadata"]["uid"]


def test_recased_ndjson_and_file_are_recognized(real: Path) -> None:
    rec = _recase(_records(real)[0], "lower")
    for body in (json.dumps({"Records": [rec]}).encode(), (json.dumps(rec) + "\n").encode() * 2):
        fmt = formats.detect(body)
        assert fmt is not None and fmt.name == "cloudtrail"


def test_ambiguous_or_mistyped_recased_records_stay_dead(real: Path) -> None:
    """Two keys that differ only in case (which is meant is not known), or a re-cased record
    whose eventName is no string (nor a number, read as its text): dead-lettered, each as it came."""
    base = _recase(_records(real)[0], "lower")
    twice = dict(base, EventName="Other")
    typed = dict(base, eventname=True)
    doc = json.dumps({"Records": [twice, typed, base]}).encode()
    d = formats.get("cloudtrail").decode(doc, "t")
    assert len(_rows(d)) == 1 and len(d.dead) == 2
    assert sorted(x.raw for x in d.dead) == sorted(_compact(r).encode() for r in (twice, typed))


def test_panther_resource_arn(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Panther's CloudTrail events name a resource's ARN ``arn`` (its GreyNoise and sign-in rule
    tests): it is the resource's uid as ``ARN`` is; ``ARN`` first where both are written."""
    rec = next(r for r in _records(real) if r.get("resources") and r["resources"][0].get("ARN"))
    low = copy.deepcopy(rec)
    low["resources"] = [{("arn" if k == "ARN" else k): v for k, v in x.items()} for x in rec["resources"]]
    both = copy.deepcopy(rec)
    both["resources"] = [dict(x, arn="arn:aws:s3:::other") for x in rec["resources"]]
    doc = json.dumps({"Records": [low, both, rec]}).encode()
    d = same_both_ways("cloudtrail", doc, monkeypatch, "resource arn")
    rows = {r["raw_data"]: r for r in _rows(d)}
    want = [x["ARN"] for x in rec["resources"]]
    for r in (low, both, rec):
        assert [x["uid"] for x in rows[_compact(r)]["resources"]] == want
