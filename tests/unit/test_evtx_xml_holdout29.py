"""evtx_xml's fast path (round 29): events in Windows' own layout are read without a parse tree
(one RE2 check of every event, then regular expressions), and the rows built without decoding the
JSON records again. Every record must be the one ElementTree's path builds, every row the one the
json format maps, and anything the fast path does not read exactly must go to the parser (or be
dead-lettered with its reason).

Events: tests/cases/evtx_xml (SOURCES.md): Microsoft's 4624/4625/4672/4688 event XML, OSSEM's
Sysmon 3 and 11, ATC's System 7045, SigmaHQ's wocao record (Sysmon 1) as wevtutil writes it, an
Event Viewer export; the variants below are those events with what real exports hold (entities,
CRLF inside values, empty and self-closing Data, quotes, pretty-printing) or what XML refuses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pytest

from secpipe import formats
from secpipe.formats import evtx_xml
from secpipe.formats.base import Records

XML = Path(__file__).resolve().parents[1] / "cases" / "evtx_xml"
SAMPLES = sorted(p.name for p in XML.glob("*.xml"))


def _compact(text: str) -> str:
    """The event as wevtutil writes it: no whitespace between elements, single-quoted attributes."""
    text = re.sub(r">\s+<", "><", text.strip())
    return re.sub(r"<[^>]*>", lambda m: re.sub(r'="([^"]*)"', r"='\1'", m[0]), text)


def _parsed(piece: str) -> dict:
    return evtx_xml._record(ET.fromstring(piece))


def _read(piece: str) -> dict | None:
    """The fast path's record, None where it hands the event to the parser."""
    (ok,) = evtx_xml._matches([piece], piece)
    return evtx_xml._fast(piece) if ok else None


def _event(name: str) -> str:
    text = (XML / name).read_text()
    return text[text.index("<Event ") : text.rindex("</Event>") + 8]


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_is_read_fast_as_the_parser_reads_it(name: str) -> None:
    for piece in (_event(name), _compact(_event(name)), _event(name).replace("\n", "\r\n")):
        got = _read(piece)
        if name == "eventviewer-dns-4013.xml":  # RenderingInfo, an EventData attribute: the parser's
            assert got is None
            continue
        assert got is not None, name
        assert got == _parsed(piece), name
        assert orjson.dumps(got) == orjson.dumps(_parsed(piece))  # same key order, same JSON


@pytest.mark.parametrize(("old", "new"), [
    # what Windows writes inside values: the predefined entities, CRLF lines (a 4104 script block),
    # empty and self-closing Data, non-ASCII text, whitespace-only text
    ("<Data Name='CommandLine'>", "<Data Name='CommandLine'>cmd /c &quot;a&amp;b&quot; &lt;x&gt; &apos;y&apos; "),
    ("<Data Name='CommandLine'>", "<Data Name='CommandLine'>line one\r\nline two\rthree\n"),
    ("<Data Name='Company'>", "<Data Name='Company'>Soci\u00e9t\u00e9 \u65e5\u672c "),
    ("<Data Name='RuleName'>technique_id=T1059.003,technique_name=Windows Command Shell</Data>",
     "<Data Name='RuleName'></Data><Data Name='Empty'/><Data Name = 'Spaced' /><Data Name='Blank'> </Data>"),
    ("<Data Name='Product'>", "<Data Name=\"Product\">"),
    ("<Level>4</Level>", "<Level> 4</Level>"),  # not a number: text, as the parser path keeps it
    ("<EventID>1</EventID>", "<EventID Qualifiers='16384'>1</EventID>"),
    ("<Computer>SigmaCatchVm</Computer>", "<Computer>Sigma&amp;Catch</Computer>"),
    ("<Data Name='Product'>", "<Data Name='Product'>x</Data><Data Name='Product'>"),  # a repeated Name: the last
    ("<EventData>", "<EventData >\r\n  "),
])
def test_variants_are_read_as_the_parser_reads_them(old: str, new: str) -> None:
    base = _compact(_event("sigmahq-wocao-sysmon1.xml"))
    assert old in base
    piece = base.replace(old, new, 1)
    got = _read(piece)
    assert got is not None
    assert orjson.dumps(got) == orjson.dumps(_parsed(piece))


@pytest.mark.parametrize(("old", "new"), [
    ("<Data Name='Product'>", "<Data Name='Product'>&#65;"),  # a character reference
    ("<Data Name='Product'>", "<Data Name='Product'><![CDATA[x]]>"),
    ("<Data Name='Product'>", "<Data Name='Product'><!-- c -->"),
    ("<Data Name='Product'>", "<Data Name='Product' Type='x'>"),
    ("<Data Name='Product'>", "<Data>"),  # unnamed
    ("<Keywords>", "<Keywords>0x1</Keywords><Keywords>"),  # a repeated System child: a list
    ("<Security UserID='S-1-5-18'/>", "<Security UserID='S-1-5-18' xmlns='urn:x'/>"),
    ("<Provider Name=", "<Provider Guid='{1}' Guid="),  # a repeated attribute: not XML
    ("<Provider Name='", "<Provider Name='a\tb "),  # the parser normalizes a tab in an attribute
    ("<Provider Name='", "<Provider Name='a&gt;"),
    ("</EventData>", "</EventData><RenderingInfo Culture='en-US'><Level>Information</Level></RenderingInfo>"),
    ("</EventData>", "</EventData><UserData><x>1</x></UserData>"),
    ("<System>", "<System><Extra>1</Extra>"),  # not a System child of the schema
    ("<Data Name='Product'>", "<Data Name='Product'>a ]]> b"),  # not allowed in character data
    ("<Data Name='Product'>", "<Data Name='Product'>a \x01 b"),  # not an XML character
    ("<Data Name='Product'>", "<Data Name='Product'>a & b"),  # a bare ampersand
    ("</EventData>", "</EventDat>"),
    ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>", "<Event>"),
    ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>", "<Event xmlns=''>"),
])
def test_anything_else_goes_to_the_parser(old: str, new: str) -> None:
    base = _compact(_event("sigmahq-wocao-sysmon1.xml"))
    assert old in base
    piece = base.replace(old, new, 1)
    assert _read(piece) is None
    # through decode: the parser's record, or its reason as a dead letter
    dec = formats.get("evtx_xml").decode(piece.encode(), "v.xml")
    try:
        want = [orjson.dumps(_parsed(piece)).decode()]
    except (ET.ParseError, ValueError):
        assert [d.reason.startswith("invalid Windows event XML (event 0)") for d in dec.dead] == [True]
        return
    assert [r for b in dec.batches for r in b.column("raw_data").to_pylist()] == want


def test_rows_are_the_json_formats_rows() -> None:
    """The batch built here is the one GenericJSON.map_records makes of the same records (but the
    receipt time of a record without a time, which is now)."""
    events = [_compact(_event(n)) for n in SAMPLES] + [_event(n) for n in SAMPLES]
    body = ("\r\n".join(events) + "\r\n").encode()
    dec = formats.get("evtx_xml").decode(body, "mix.xml")
    assert not dec.dead and dec.events == len(events)
    raws = [r.encode() for b in dec.batches for r in b.column("raw_data").to_pylist()]
    want = formats.get("json").map_records(Records(raws=raws, locs=[("mix.xml", i) for i in range(len(raws))],
                                                   events=len(raws)))
    assert [b.schema for b in dec.batches] == [b.schema for b in want.batches]
    assert [b.to_pylist() for b in dec.batches] == [b.to_pylist() for b in want.batches]
    # (the Windows events of the mix as their classes, session 31: the rest Base Events)
    assert sorted(b.column("class_uid")[0].as_py() for b in dec.batches) == [0, 1007, 3002, 3003, 4001]


def test_a_time_the_json_format_reads_otherwise_goes_to_its_mapping() -> None:
    # a SystemTime that is not ISO-8601 (epoch digits): the json format's own reading decides
    piece = _compact(_event("ms-docs-4624.xml"))
    piece = re.sub(r"SystemTime='[^']*'", "SystemTime='1709287200'", piece)
    dec = formats.get("evtx_xml").decode(piece.encode(), "e.xml")
    (batch,) = dec.batches
    assert batch.column("time").to_pylist() == [1709287200000]
