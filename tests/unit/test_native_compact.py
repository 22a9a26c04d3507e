"""The native compactor (`_fast.compact_each`, Rust `compact.rs`) against msgspec's formatter,
which it replaces where the text was decoded (so validated) already: byte-for-byte the same
on every JSON file of the real samples and on generated documents with arbitrary whitespace
between tokens, escapes and non-ASCII text in strings."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast
from tests.unit.native_support import JSON_SPACE, JSON_VALUES, spaced

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built")

_FMT = msgspec.json.format


def _real_json(real: Path) -> list[bytes]:
    out = []
    for p in sorted(real.rglob("*")):
        if p.is_file() and p.suffix in (".json", ".sarif", ".golden") and p.stat().st_size < 8 << 20:
            data = p.read_bytes()
            try:
                msgspec.json.decode(data)
            except msgspec.DecodeError:
                continue  # the intentionally invalid samples: not what the compactor is given
            out.append(data)
    return out


def test_every_real_json_file_compacts_as_msgspec_formats_it(real: Path) -> None:
    docs = _real_json(real)
    assert len(docs) > 100
    assert _fast.compact_each(docs) == [_FMT(d, indent=-1) for d in docs]


def test_raw_slices_of_a_decoded_report(real: Path) -> None:
    """What Snyk's decode hands it: msgspec.Raw views into the pretty report (no copy)."""
    reports = sorted((real / "snyk-to-html").rglob("*.json"))
    checked = 0
    for p in reports:
        try:
            doc = msgspec.json.decode(p.read_bytes())
        except msgspec.DecodeError:
            continue
        items = doc if isinstance(doc, list) else [doc]
        for it in items:
            if not isinstance(it, dict):
                continue
            vulns = msgspec.json.decode(msgspec.json.encode(it.get("vulnerabilities") or []), type=list[msgspec.Raw])
            raws = [msgspec.json.decode(_FMT(msgspec.json.encode(v), indent=2), type=msgspec.Raw) for v in vulns]
            assert _fast.compact_each(raws) == [_FMT(r, indent=-1) for r in raws]
            checked += len(raws)
    assert checked > 50


_json, _ws = JSON_VALUES, JSON_SPACE


@settings(max_examples=400, deadline=None)
@given(value=_json, ascii_only=st.booleans(), data=st.data())
def test_generated_documents_with_any_whitespace(value: object, ascii_only: bool, data: st.DataObject) -> None:
    # whitespace between tokens: the compact text re-emitted with runs inserted outside strings
    doc = spaced(json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":")), lambda: data.draw(_ws))
    assert _fast.compact_each([doc, memoryview(doc)]) == [_FMT(doc, indent=-1)] * 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_are_read_in_bounds(junk: bytes) -> None:
    """Not JSON (never given it, but): no crash, no byte invented, only whitespace dropped."""
    (out,) = _fast.compact_each([junk])
    assert len(out) <= len(junk)
    assert set(out) <= set(junk)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"}", b"{", b"\n", b"}\n{", b"a", b'"', b" "]), max_size=40))
def test_objects_array_is_the_replace_it_stands_for(parts: list[bytes]) -> None:
    """``objects_array`` (a stream of ``{..}\\n{..}`` messages as one array's text, govulncheck's
    decode) gives what ``bytes.replace`` gives, on any bytes: overlaps, ends, none found."""
    data = b"".join(parts)
    assert _fast.objects_array(data) == b"[" + data.replace(b"}\n{", b"},{") + b"]"
