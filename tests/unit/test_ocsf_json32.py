"""OCSF events as JSON (``formats/ocsf_json.py``), session 32: a string attribute's text is stored as
it came. Arrow's JSON reader takes any ISO-8601-like string for a timestamp, so a string attribute
holding one (``message``, ``metadata.event_code``, an item of ``finding_info.types``) was stored
rewritten (``2024-01-02 03:04:05``); a ``*_dt`` attribute's text is still read as its time.
Records built from the Okta sample of ``tests/cases/cloud31`` (SOURCES.md) and OCSF 1.8.0's
attribute types (``message``/``event_code``/``types``: string_t; ``created_time_dt``: datetime_t)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"


def _finding(**extra: object) -> dict:
    return {"class_uid": 2004, "activity_id": 1, "severity_id": 2, "time": 1735570800,
            "metadata": {"product": {"name": "x"}, "event_code": "2024-01-02", "version": "1.4.0"},
            "finding_info": {"uid": "f-1", "title": "t", "types": ["2024-01-02T03:04:05Z", "IAM"],
                             "created_time_dt": "2024-12-30T17:00:00+02:00"}, **extra}  # fmt: skip


def test_date_like_text_of_a_string_attribute_kept() -> None:
    doc = json.dumps(_finding(message="2024-01-02T03:04:05Z")).encode() + b"\n"
    [b] = formats.get("ocsf").decode(doc, "x").batches
    [r] = b.to_pylist()
    assert r["message"] == "2024-01-02T03:04:05Z"
    assert r["metadata"]["event_code"] == "2024-01-02"
    assert r["finding_info"]["types"] == ["2024-01-02T03:04:05Z", "IAM"]
    assert r["finding_info"]["created_time_dt"].isoformat() == "2024-12-30T15:00:00+00:00"  # a date-time still its time


def test_date_like_record_uid_kept_in_unmapped() -> None:
    okta = json.loads((CASES / "ocsf-okta-authentication.ocsf").read_text())
    okta["metadata"]["uid"] = "2024-08-13T15:58:20"
    okta["actor"]["user"]["name"] = "2024-08-13"
    [b] = formats.get("ocsf").decode(json.dumps(okta).encode(), "x").batches
    [r] = b.to_pylist()
    assert json.loads(r["unmapped"])["metadata.uid"] == "2024-08-13T15:58:20"
    assert r["actor"]["user"]["name"] == "2024-08-13"


def test_extension_classes_decoded() -> None:
    # OCSF 1.8.0's Windows extension classes (win/registry_key_activity 201001 ...): the narrow typed
    # decode named its Structs after the class, '/' and all, and their annotations did not evaluate
    # (NameError: the whole document dead-lettered as a decoder error)
    from secpipe.formats.base import decode_document
    from secpipe.schema.ocsf import ocsf

    classes = {name: c["uid"] for name, c in ocsf()["classes"].items() if "/" in name}
    assert len(classes) >= 5
    for name, uid in classes.items():
        rec = {"class_uid": uid, "activity_id": 1, "metadata": {"product": {"name": "x"}, "version": "1.8.0"},
               "time": 1735570800}  # fmt: skip
        d = decode_document(formats.get("ocsf"), json.dumps(rec).encode(), "x")
        assert not d.dead, (name, d.dead[0].reason)
        [b] = d.batches
        assert b.column("class_uid").to_pylist() == [uid]
