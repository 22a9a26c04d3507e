"""A CloudTrail file (``{"Records": [...]}``, pretty or compact) or a JSON array of records holding one
lone surrogate escape (legal JSON, RFC 8259 §8.2; JavaScript's JSON.stringify writes one for a string
cut inside an emoji) is read with U+FFFD in its place, as ``decode_document`` reads a document
(test_formats_fuzz_s17): every record is stored. Read by a record format's own split (``secpipe ingest``,
the file source), msgspec refused the whole document, which was dead-lettered whole (H2's round-30
report). Input: Panther's real CloudTrail records (../shared/data/real/panther-analysis/extracted/cloudtrail.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats.base import split_json_records

BAD = '"userAgent":"aws-cli/2.13.5 \\ud83d"'  # a user agent cut inside an emoji


def _records(real: Path) -> list[dict]:
    return json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"][:6]


def _with(text: str, value: str) -> str:
    """``text`` with the first record's userAgent replaced by ``value``."""
    at = text.index('"userAgent"')
    end = text.index('"', text.index(":", at) + 3) + 1
    return text[:at] + value + text[end:]


@pytest.mark.parametrize("layout", ["pretty", "compact", "array"])
def test_a_lone_surrogate_is_read_as_the_replacement_character(real: Path, layout: str) -> None:
    recs = _records(real)
    doc: object = recs if layout == "array" else {"Records": recs}
    text = json.dumps(doc, indent=2) if layout == "pretty" else json.dumps(doc, separators=(",", ":"))
    body = _with(text, BAD)
    assert body.count("\\ud83d") == 1
    fmt = formats.get("cloudtrail")
    got = fmt.decode(body.encode(), "t.json")
    want = fmt.decode(_with(text, BAD.replace("\\ud83d", "\\ufffd")).encode(), "t.json")
    assert not got.dead and not want.dead and sum(b.num_rows for b in got.batches) == len(recs)
    rows = [[r for b in d.batches for r in b.to_pylist()] for d in (got, want)]
    assert rows[0] == rows[1] and any("\\ufffd" in r["raw_data"] for r in rows[0])


def test_a_document_damaged_otherwise_stays_one_dead_letter_with_its_own_bytes(real: Path) -> None:
    text = json.dumps({"Records": _records(real)})
    body = _with(text, BAD)[:-2].encode()  # cut short as well
    recs, _, dead = split_json_records(body, "t.json", "cloudtrail", "Records")
    assert not recs and len(dead) == 1 and dead[0].raw == body
