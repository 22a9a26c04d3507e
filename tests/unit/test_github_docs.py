"""GitHub NDJSON documents kept whole (``GitHub.defer``) give what the split gives.

The contract (``formats/github.py``, "Speed:"): with the native scanner, a document of NDJSON
lines is not split into a bytes object a payload; its lines are checked (``HookScanner.lines``,
the check ``split_lines`` makes) and scanned where they lie. Its batches, dead letters (reasons,
offsets, order) and counts must be those of ``split_records`` + ``map_records``, with the native
extension and with ``SECPIPE_NATIVE=0``. Compared on octokit/webhooks payloads
(../shared/data/real/octokit-webhooks) written as NDJSON lines that hypothesis mutates: blank and
padded lines, CRLF, pretty-printed and non-object lines, invalid JSON, bytes that are not UTF-8,
objects back to back on one line; and on a batch mixing split and kept documents (``ingest``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import get
from secpipe.formats.base import RecordFormat, Records
from tests.unit.native_support import assert_same_decoded, native_mode

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("github")
CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
FILES = sorted(CORPUS.glob("*/*.json")) if CORPUS.is_dir() else []
PAYLOADS = [json.loads(f.read_bytes()) for f in FILES[::7]]


def _split(doc: bytes, src: str) -> Any:
    """What decoding gave before documents were kept whole: split, then map."""
    return RecordFormat.decode(FMT, doc, src)


@st.composite
def _line(draw: Callable[..., Any]) -> bytes:
    payload = draw(st.sampled_from(PAYLOADS))
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=draw(st.booleans())).encode()
    edit = draw(st.sampled_from(["none", "none", "none", "blank", "padded", "crlf", "pretty", "array", "scalar",
                                 "cut", "not-utf8", "back-to-back", "spaced"]))  # fmt: skip
    if edit == "blank":
        return draw(st.sampled_from([b"", b"  ", b"\t\r", b"\x0b"]))
    if edit == "padded":
        return b" \t" + text + b"  "
    if edit == "crlf":
        return text + b"\r"
    if edit == "pretty":
        return json.dumps(payload, indent=draw(st.sampled_from([None, 1]))).encode().replace(b"\n", b" ")
    if edit == "array":
        return b"[" + text + b"]"
    if edit == "scalar":
        return draw(st.sampled_from([b"1", b'"x"', b"null", b"true"]))
    if edit == "cut":
        return text[: draw(st.integers(1, len(text) - 1))]
    if edit == "not-utf8":
        at = draw(st.integers(2, len(text) - 2))
        return text.replace(b'":"', b'":"\xc3(', 1) if draw(st.booleans()) else text[:at] + b"\xff" + text[at:]
    if edit == "back-to-back":
        return text + text
    if edit == "spaced":
        return text.replace(b'":', b'": ', 3)
    return text


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(_line(), min_size=1, max_size=8), st.sampled_from([b"\n", b"\n\n", b""]),
       st.sampled_from(["file", "http;github-event=issues"]))  # fmt: skip
def test_kept_document_same_as_split(monkeypatch: pytest.MonkeyPatch, lines: list[bytes], end: bytes, src: str) -> None:
    doc = b"\n".join(lines) + end
    with native_mode(monkeypatch, True):
        kept, split = FMT.decode(doc, src), _split(doc, src)
    assert_same_decoded(kept, split, doc[:200])
    with native_mode(monkeypatch, False):
        assert FMT.defer(doc, src) is None
        reference = FMT.decode(doc, src)
    assert_same_decoded(kept, reference, doc[:200])


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
def test_corpus_document_is_kept_and_read_in_place() -> None:
    lines = [json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode() for p in PAYLOADS]
    doc = b"\n".join(lines) + b"\n"
    recs = FMT.defer(doc, "f")
    assert recs is not None and recs.docs == [(doc, "f")] and not recs.raws
    kept = FMT.map_records(recs)
    assert_same_decoded(kept, _split(doc, "f"), "corpus")
    assert kept.events == len(lines) and not kept.dead
    assert sum(b.num_rows for b in kept.batches) == len(lines)


def test_one_payload_is_split() -> None:
    """One payload (the HTTP route's body) or a single line is left to the split."""
    one = b'{"action":"created","sender":{"login":"a","id":1}}'
    assert FMT.defer(one, "h") is None and FMT.defer(one + b"\n", "h") is None
    assert FMT.defer(b"  " + one + b"\n" + one, "h") is None  # not a compact first line at byte 0
    assert FMT.defer(one + b"\n" + one, "h") is not None


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
def test_batch_of_split_and_kept_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    """``secpipe ingest`` accumulates split records and kept documents into one ``map_records``:
    the same batches, dead letters and counts as all of them split, the kept ones last (the
    records of kept documents follow those split, as CloudTrail's do)."""
    lines = [json.dumps(p, separators=(",", ":")).encode() for p in PAYLOADS[:12]]
    docs = [(b"\n".join([*lines[:5], b"{bad", b"7"]), "a"), (b"\n".join([lines[5], b"[]", *lines[6:9]]), "b"),
            (lines[9], "c"), (b"\n".join([*lines[9:], b'{"s":"\xff"}']), "d")]  # fmt: skip
    mixed, split = Records(), Records()
    with native_mode(monkeypatch, True):
        for i, (doc, src) in enumerate(docs):
            kept = FMT.defer(doc, src) if i % 2 else None
            mixed.extend(kept or FMT.split_records(doc, src))
        for doc, src in docs[::2] + docs[1::2]:
            split.extend(FMT.split_records(doc, src))
        assert len(mixed.docs) == 2
        got, want = FMT.map_records(mixed), FMT.map_records(split)
    assert_same_decoded(got, want, "batch")
    assert [d.reason[:20] for d in got.dead] == [d.reason[:20] for d in want.dead] and len(got.dead) == 4
