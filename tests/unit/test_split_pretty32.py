"""A pretty-printed JSON array document is checked, compacted and split in one native pass
(``_fast.compact_doc`` with no key, ``native/src/compact_doc.rs``) where ``msgspec.json.format`` of the
whole document and a decode of it into its items were two: the same records, byte for byte, and the
same dead letters for a damaged document. Documents: Prowler's json-ocsf sample (``tests/cases/cloud31``,
SOURCES.md) and arrays built per RFC 8259 (escapes, nesting, numbers, whitespace of every kind)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from secpipe.formats import _fast
from secpipe.formats.base import split_json_records

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"
BUILT = b'[\r\n\t{"a" : "\\u00e9\\"\\\\ \xc3\xa9", "b":[ 1, -2.5e-3 , true,null ,{ }] } ,\n  [ ] , "s" ,\n 0 ]\n'


def _msgspec_items(doc: bytes) -> list[bytes]:
    return [msgspec.json.format(x, indent=-1) for x in msgspec.json.decode(doc, type=list[msgspec.Raw])]


@pytest.mark.parametrize("doc", [(CASES / "ocsf-prowler-api-manual.ocsf.json").read_bytes(), BUILT, b" [ ] ",
                                 json.dumps([{"k": i, "v": [i] * 3} for i in range(50)], indent=3).encode()])  # fmt: skip
def test_same_records_as_msgspec(doc: bytes) -> None:
    got = _fast.compact_doc(doc, "")
    if got is None or got[1] is None:
        pytest.skip("extension without a top-level array split in compact_doc")
    assert got[1] == _msgspec_items(doc)
    recs, offsets, dead = split_json_records(doc, "x", "json")
    assert recs == _msgspec_items(doc) and offsets == list(range(len(recs))) and not dead


@pytest.mark.parametrize("doc", [b'[\n {"a": 1},\n {"a": 2\n]', b'[\n 1,\n]', b'[\n "\\ud800"\n]', b'[\n {"a": 1}\n] x'])
def test_damaged_documents_as_before(doc: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    native = split_json_records(doc, "x", "json")
    monkeypatch.setattr(_fast, "compact_doc", lambda doc, key: None)
    before = split_json_records(doc, "x", "json")
    assert native[0] == before[0] and native[1] == before[1]
    assert [(d.reason, d.offset, d.raw) for d in native[2]] == [(d.reason, d.offset, d.raw) for d in before[2]]


def test_an_object_document_gives_no_items() -> None:
    got = _fast.compact_doc(b'{\n "v": [1]\n}', "")
    assert got is None or got[1] is None
