"""Session 19: a kept NDJSON document of webhooks is checked by the scan that reads it.

The contract (``formats/github.py``, ``GitHub._read_docs`` with ``lazy``, ``GitHub._map``): the lines
of a kept document are taken in by their bounds alone (``HookScanner.line_bounds``, the spans
``HookScanner.lines`` gives), and each is checked by ``HookScanner.scan_checked``, the walk of
``scan_head`` that also validates every byte as ``lines`` does. So ``scan_checked`` gives values only
for a line ``lines`` flags a compact object in UTF-8 (3), and then the values ``scan_head`` gives; a
line it refuses is checked alone (``line_flags``: ``lines``' flags of one line), and a bad one makes
the decode read the documents again with every line checked first. Compared here: hypothesis-made
byte mutations of real octokit payloads (``scan_checked`` against ``lines`` and ``scan_head``), and
decodes of documents with bad lines of every kind, with the scan's check and with the old check
first, and without the extension (``SECPIPE_NATIVE=0``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import get, github
from secpipe.formats.base import Decoded, Records
from tests.unit.native_support import assert_same_decoded

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
FMT = get("github")


def _scanner():  # type: ignore[no-untyped-def]
    scanner = github._scanner()
    if scanner is None or not hasattr(scanner, "scan_checked"):
        pytest.skip("no native extension with scan_checked")
    return scanner


def _lines() -> list[bytes]:
    """One compact line per octokit payload (UTF-8 text, as GitHub sends it), in a stable order."""
    files = sorted(CORPUS.glob("*/*.json"))
    assert len(files) >= 250
    return [json.dumps(json.loads(f.read_bytes()), separators=(",", ":"), ensure_ascii=False).encode() for f in files]


LINES = _lines()
#: bytes that matter to the check: structure, quotes, escapes, controls, digits, literals, bad UTF-8
_PIECES = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"\\u", b"\\ud83d", b"\\ude00", b"\\n", b"\\x", b"\x00",
           b"\x1f", b" ", b"\t", b"0", b"01", b"-", b"1e", b".", b"true", b"nul", b"\xff", b"\xc3", b"\xc3\xa9",
           b'"a":1', b'"action":"x"', b"[" * 70, b"]" * 70]  # fmt: skip


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A real payload line with a few spans replaced by pieces that matter to JSON."""
    line = bytearray(draw(st.sampled_from(LINES)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(line)))
        cut = draw(st.integers(0, 3))
        line[at : at + cut] = draw(st.sampled_from(_PIECES))
    return bytes(line)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_scan_checked_is_lines_then_scan_head(line: bytes) -> None:
    scanner = _scanner()
    doc = b"  \n" + line + b"\r\n"
    (off, start, end, flags), = scanner.lines(doc)  # fmt: skip
    assert scanner.line_bounds(doc) == [(off, start, end)]
    assert scanner.line_flags(doc, start, end) == flags
    got = scanner.scan_checked(doc, start, end, github._HEAD)
    if got is None:
        return  # the caller asks line_flags: a bad line reads the documents again, a good one goes msgspec's way
    assert flags == 3  # values only for a compact JSON object in UTF-8
    values = scanner.values()
    assert scanner.scan_head(doc, start, end, github._HEAD) == got
    assert scanner.values() == values


def test_scan_checked_reads_the_corpus_as_scan_head() -> None:
    scanner = _scanner()
    doc = b"\n".join(LINES)
    for _, start, end, flags in scanner.lines(doc):
        assert flags == 3
        want = scanner.scan_head(doc, start, end, github._HEAD)
        assert scanner.scan_checked(doc, start, end, github._HEAD) == want


def _decode_checked_first(doc: bytes) -> Decoded:
    """The decode with every line of a kept document checked before it is scanned (the old path)."""
    recs = Records(docs=[(doc, "s")])
    return FMT._map(recs, Decoded(dead=[], events=0), lazy=False)


_BAD = {
    "not JSON": b'{"action":"x",}',
    "spaces (not compact)": b'{"sender": {"login": "octocat"}, "action": "opened"}',
    "an array": b"[1,2]",
    "a string": b'"x"',
    "a control character": LINES[3].replace(b'"action":"', b'"action":"\x01', 1),
    "not UTF-8": LINES[5].replace(b'"action":"', b'"action":"\xff', 1),
    "a number with a leading zero": LINES[7].replace(b'{"', b'{"n":[01],"', 1),
    "a cut line": LINES[9][:-40],
}


@pytest.mark.parametrize("what", list(_BAD))
def test_a_bad_line_reads_as_before(what: str, python_only) -> None:  # type: ignore[no-untyped-def]
    _scanner()
    doc = b"\n".join([*LINES[:40], _BAD[what], *LINES[40:80]])
    got = FMT.decode(doc, "s")
    # the bad line is a dead letter, but the spaced-out object, which msgspec formats
    assert len(got.dead) == (0 if what.startswith("spaces") else 1)
    assert sum(b.num_rows for b in got.batches) == (81 if what.startswith("spaces") else 80)
    assert_same_decoded(got, _decode_checked_first(doc), what)
    python_only()
    assert_same_decoded(got, FMT.decode(doc, "s"), what)


def test_lines_only_the_scan_checks_read_as_before(python_only) -> None:  # type: ignore[no-untyped-def]
    """Good lines the scan declines (a duplicate key, surrogate escapes, deep nesting: msgspec's path),
    blank and CRLF lines, a number in every JSON form: the same as the old check and as without the extension."""
    _scanner()
    odd = [
        LINES[1].replace(b"{", b'{"action":"x",', 1),
        LINES[2].replace(b'"action":"', b'"action":"\\ud83d\\ude00', 1),
        LINES[4].replace(b"{", b'{"zz":"\\ud83d\\ude00",', 1),
        LINES[6].replace(b"{", b'{"deep":' + b"[" * 100 + b"]" * 100 + b",", 1),
        LINES[8].replace(b"{", b'{"n":[-0,1.5e+3,2E-7,0.25,-12],"t":[true,false,null],"e":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9",', 1),
    ]
    doc = b"\r\n".join([*LINES[:30], b"", *odd, b"   ", *LINES[30:60]]) + b"\n"
    got = FMT.decode(doc, "s")
    assert not got.dead
    assert sum(b.num_rows for b in got.batches) == 65
    assert_same_decoded(got, _decode_checked_first(doc), "odd lines")
    python_only()
    assert_same_decoded(got, FMT.decode(doc, "s"), "odd lines")


class _CountingTop:
    """``_cicd.TOP`` counting its decodes (the msgspec path's top-level raw map)."""

    def __init__(self, real: object) -> None:
        self.real, self.calls = real, 0

    def decode(self, raw: object) -> object:
        self.calls += 1
        return self.real.decode(raw)  # type: ignore[attr-defined]


def test_alerts_read_their_top_level_from_the_scan(monkeypatch: pytest.MonkeyPatch, python_only) -> None:  # type: ignore[no-untyped-def]
    """An alert's typed view is msgspec's (lists of structs, floats), its top-level map the scan's:
    no second msgspec decode of the payload, the same batches as the msgspec path."""
    _scanner()
    from secpipe.formats import _cicd

    files = sorted(p for kind in ("code_scanning_alert", "dependabot_alert", "secret_scanning_alert",
                                  "repository_vulnerability_alert") for p in (CORPUS / kind).glob("*.json"))  # fmt: skip
    assert len(files) >= 10
    doc = b"\n".join(json.dumps(json.loads(p.read_bytes()), separators=(",", ":")).encode() for p in files)
    counting = _CountingTop(_cicd.TOP)
    monkeypatch.setattr(_cicd, "TOP", counting)
    got = FMT.decode(doc, "s")
    assert counting.calls == 0
    assert sum(b.num_rows for b in got.batches) == len(files)
    monkeypatch.setattr(_cicd, "TOP", counting.real)
    python_only()
    assert_same_decoded(got, FMT.decode(doc, "s"), "alerts")
