"""evtx_xml's native scan (round 29, ``native/src/evtx_xml.rs``): events in Windows' own layout are
read in Rust straight to their compact JSON records. Every record it gives must be the bytes the
Python fast path encodes (and its ``SystemTime`` the one ``_time`` reads); every event it hands back
must be one the Python path reads otherwise; a document's rows and dead letters must be those
without the extension.

Events: tests/cases/evtx_xml (SOURCES.md: Microsoft's, OSSEM's, ATC's and SigmaHQ's event XML, an
Event Viewer export), the benchmark's wevtutil and Event Viewer documents of them, and the variants
of test_evtx_xml_holdout29 (entities, CRLF in values, empty Data, what XML refuses).
"""

from __future__ import annotations

import itertools
import re

import msgspec
import pytest

from secpipe import formats
from secpipe.formats import _fast, evtx_xml
from tests.unit.test_evtx_xml_holdout29 import SAMPLES, _compact, _event
from tests.unit.test_evtx_xml_holdout29 import test_anything_else_goes_to_the_parser as _refused
from tests.unit.test_evtx_xml_holdout29 import test_variants_are_read_as_the_parser_reads_them as _variants

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built")

BASE = _compact(_event("sigmahq-wocao-sysmon1.xml"))


def _python(piece: str) -> tuple[bytes, str | None] | None:
    """The Python fast path's record (JSON) and time, None where it hands the event to the parser."""
    (ok,) = evtx_xml._matches([piece], piece)
    rec = ok and evtx_xml._fast(piece)
    return (msgspec.json.encode(rec), evtx_xml._time(rec["Event"])) if rec else None


def _pieces() -> list[str]:
    events = [f(_event(n)) for n in SAMPLES for f in (str, _compact, lambda e: e.replace("\n", "\r\n"))]
    marks = [*_variants.pytestmark[0].args[1], *_refused.pytestmark[0].args[1]]
    return events + [BASE.replace(old, new, 1) for old, new in marks] + [
        BASE.replace("<Level>4</Level>", "<Level>\u0663</Level>"),  # an Arabic-Indic digit: str.isdigit, int()
        BASE.replace("<EventRecordID>", "<EventRecordID>0009999999999999999999"),  # past int64
        BASE.replace("<Task>1</Task>", "<Task>007</Task>"),
        BASE.replace("<Data Name='Product'>", "<Data Name='Pro\\duct'>\"\t\\ \u2028\x7f"),
        BASE.replace("</Event>", "</Event >\n"),  # not the end of the text: the parser's
    ]


def test_each_event_is_the_python_fast_paths_record() -> None:
    for piece in _pieces():
        records, times, rest = _fast.evtx_xml_scan(piece)
        want = _python(piece)
        if records[0] is None:
            assert rest == [(0, piece)]
            if want is not None:  # only where Python's int() could decide otherwise
                assert re.search(r">(\u0663|\d{19,})<", piece), piece
        else:
            assert (records[0], times[0]) == want, piece


def test_a_non_ascii_character_after_event_leaves_the_framing_to_python() -> None:
    assert _fast.evtx_xml_scan(BASE.replace("<Event ", "<Event\u2003", 1)) is None
    assert _fast.evtx_xml_scan(BASE.replace("<Event ", "<Event\x1c", 1)) is not None


@pytest.mark.parametrize("shape", ["lines", "document", "mixed"])
def test_documents_decode_as_without_the_extension(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = _pieces()
    body = {"lines": "\r\n".join(pieces) + "\r\n",
            "document": '<?xml version="1.0" encoding="utf-8"?>\r\n<Events>' + "".join(pieces) + "</Events>",
            "mixed": "".join(itertools.chain.from_iterable(zip(pieces, itertools.cycle([" x <Eventx/> ", "<Event/>"]), strict=False)))}[shape]
    fmt = formats.get("evtx_xml")
    got = fmt.decode(body.encode(), "d.xml")
    monkeypatch.setattr(_fast, "evtx_xml_scan", lambda text: None)
    want = fmt.decode(body.encode(), "d.xml")
    assert got.events == want.events
    assert [(d.reason, d.offset, d.raw) for d in got.dead] == [(d.reason, d.offset, d.raw) for d in want.dead]
    assert len(got.batches) == len(want.batches) == 5  # Base Events and the Windows events' classes (session 31)
    drop = ["time", "time_dt"]  # a record without a time gets the receipt time
    assert [b.drop_columns(drop).to_pylist() for b in got.batches] == [b.drop_columns(drop).to_pylist() for b in want.batches]
