"""evtx_xml's native scan (round 33): ``native/src/evtx_xml.rs`` skips the bytes it writes as they are 8
at a time (SWAR) in character data, attribute values and the JSON strings it writes. Every record it
gives must be the Python fast path's wherever a character it stops at (a quote, a backslash, a control
character, a CR, an entity or character reference, a non-ASCII character, U+FFFE/U+FFFF's first byte,
``]]>``) stands in an 8-byte block; every event it hands back one the Python path reads.

Events: SigmaHQ's wocao record (tests/cases/evtx_xml, SOURCES.md) as wevtutil writes it, with each of
those characters put at each place of two blocks of a Data value and of an attribute value.
"""

from __future__ import annotations

import pytest

from secpipe.formats import _fast
from tests.unit.test_evtx_xml_native_holdout29 import BASE, _python

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built")

#: what the scan stops at in a value (as XML text: the record holds the character it stands for)
_STOPS = ['"', "\\", "\t", "\r\n", "\r", "&amp;", "&lt;", "&quot;", "\x7f", "é", "\u2028", "\ufffd", "\ufffe", "\uffff", "\x01", "&#65;", "]]>"]


@pytest.mark.parametrize("where", ["Data", "attribute"])
def test_scan_stops_in_every_place_of_a_block(where: str) -> None:
    for stop in _STOPS:
        for at in range(17):
            text = "x" * at + stop + "y" * (16 - at)
            if where == "Data":
                piece = BASE.replace("<Data Name='Product'>", f"<Data Name='Product'>{text}", 1)
            else:
                piece = BASE.replace("UserID='", f"UserID='{text.replace(chr(39), '')}", 1)
            records, times, rest = _fast.evtx_xml_scan(piece)
            want = _python(piece)
            if records[0] is None:
                assert rest == [(0, piece)] and want is None, (stop, at)
            else:
                assert (records[0], times[0]) == want, (stop, at)
