"""Windows events exported as XML, read as the evtx JSON records the ``json`` format maps.

Windows renders an event log record as XML in the event schema
(``http://schemas.microsoft.com/win/2004/08/events/event``): ``wevtutil qe <log> /f:xml`` writes one
``<Event>`` a line, PowerShell's ``Get-WinEvent | % ToXml()`` one string an event, Event Viewer's
"Save as XML" an ``<Events>`` document (with ``RenderingInfo`` when rendered). Sigma's Windows rules
read the same records converted from evtx to JSON by the evtx crate (``evtx_dump``, Chainsaw,
SigmaHQ's regression data), which the ``json`` format stores. Each ``<Event>`` here becomes that JSON
record, ``{"Event": {"#attributes": {"xmlns": ...}, "System": ..., "EventData": ...}}``, and is mapped
by the ``json`` format (:meth:`secpipe.formats.generic_json.GenericJSON.map_records`): the same rows,
the same Sigma fields, as the event exported to JSON.

The evtx crate's layout: an element with children is an object of them (a repeated name a list), its
attributes under ``#attributes``; a leaf is its text, or ``{"#attributes", "#text"}`` with
attributes; an empty leaf without attributes is null (``<Correlation/>``). ``EventData``'s named
``<Data Name="X">`` are its keys (empty -> null), unnamed ``<Data>`` (the classic logs') the
``Data.#text`` value (a list when several). XML carries no types: the ``System`` integers the evtx
crate writes as numbers (``EventID`` and its ``Qualifiers``, ``Version``, ``Level``, ``Task``,
``Opcode``, ``EventRecordID``, ``Execution``'s ``ProcessID`` / ``ThreadID``) are numbers here too;
``EventData`` values stay text.

Framing: the text is cut before each ``<Event`` start tag and each piece, up to its last
``</Event>``, is parsed alone (the ``<Events>`` wrapper and XML declarations, of concatenated
exports too, fall between pieces), so one broken event is dead-lettered with the parser's reason
and its neighbours are kept. UTF-16 exports (a BOM) are read.

Safety: a document with a DTD or an entity declaration (``<!DOCTYPE``, ``<!ENTITY``) is refused whole
(Windows writes none; no entity is ever expanded). Cost: ElementTree's C parser and one Python step
per element: XML exports are an interchange form, not a stream.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

import msgspec

from secpipe.formats.base import BOM, DeadLetter, Decoded, Format, Records
from secpipe.formats.generic_json import GenericJSON

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
#: an XML document's opening (a declaration, DTD, comment, ``<Events>`` or ``<Event>``: not a syslog ``<PRI>``)
_OPENING = re.compile(rb"\s*<(?:\?xml|!DOCTYPE|!--|Events?[\s>/])")
#: an event of the Windows event schema, in the first 4 KiB
_HEAD = re.compile(rb"<Event\s+xmlns\s*=\s*[\"']" + re.escape(_NS.encode()) + rb"[\"']")
#: where each event starts (``<Event>`` or ``<Event xmlns=...>``; not ``<Events>`` / ``<EventData>``)
_START = re.compile(r"<Event(?=[\s>/])")
_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)\b")
#: System elements (and attributes) the evtx crate writes as numbers
_INTS = frozenset({"EventID", "Version", "Level", "Task", "Opcode", "EventRecordID", "Qualifiers",
                   "ProcessID", "ThreadID"})  # fmt: skip
#: the json format's mapping, which stores the records
_JSON = GenericJSON()


class EvtxXML(Format):
    """Windows event log records as XML (wevtutil, Get-WinEvent ToXml, Event Viewer's Save as XML)."""

    name = "evtx_xml"
    description = "Windows events as XML (wevtutil /f:xml, Event Viewer export) -> the json format's evtx records"
    product = "Windows Event Log"
    vendor = "Microsoft"

    def sniff(self, head: bytes) -> int:
        """High for XML whose first 4 KiB hold an ``<Event>`` of the Windows event schema."""
        head = _text_head(head)
        return 90 if _OPENING.match(head) and _HEAD.search(head[:4096]) else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Each ``<Event>`` as its evtx JSON record, mapped by the ``json`` format."""
        import xml.etree.ElementTree as ET  # (here: auto-detection imports this module, not the parser)

        text = _decode(data)
        if text is None or _DTD.search(text):
            reason = ("Windows event XML that is not UTF-8 or UTF-16 (a BOM)" if text is None else
                      "Windows event XML with a DTD or entity declaration (<!DOCTYPE/<!ENTITY refused)")
            return Decoded(dead=[DeadLetter(reason, source, 0, data, self.name)], events=1)
        recs = Records()
        starts = [m.start() for m in _START.finditer(text)]
        for i, (a, b) in enumerate(itertools.pairwise([*starts, len(text)])):  # (none: no start)
            piece = _piece(text, a, b)
            recs.events += 1
            try:
                recs.raws.append(msgspec.json.encode(_record(ET.fromstring(piece))))
                recs.locs.append((source, i))
            except (ET.ParseError, ValueError) as exc:
                recs.dead.append(DeadLetter(f"invalid Windows event XML (event {i}): {exc}", source, i,
                                            piece.encode(), self.name))
        if not starts:
            recs.events = 1
            recs.dead.append(DeadLetter("no <Event> element of the Windows event schema", source, 0, data, self.name))
        return _JSON.map_records(recs)


def _piece(text: str, start: int, end: int) -> str:
    """The event that starts at ``start``: up to its last ``</Event>`` before ``end`` (what follows
    is a wrapper's close, or the next export's declaration and ``<Events>``)."""
    close = text.rfind("</Event>", start, end)
    return text[start : close + 8] if close >= 0 else text[start:end]


def _text_head(head: bytes) -> bytes:
    """``head`` as UTF-8-ish bytes to match on: a UTF-16 export's head decoded."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head[: len(head) & ~1].decode("utf-16", "replace").encode()
    return head.removeprefix(BOM)


def _decode(data: bytes) -> str | None:
    """The document's text (UTF-8, or UTF-16 with a BOM); None when it is neither."""
    try:
        return data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _local(tag: str) -> str:
    """An ElementTree name without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def _record(event: ET.Element) -> dict[str, Any]:
    """The evtx crate's JSON of one ``<Event>``."""
    if _local(event.tag) != "Event":
        msg = f"root element {event.tag!r} is not an Event"
        raise ValueError(msg)
    body: dict[str, Any] = {}
    if event.tag.startswith("{"):
        body["#attributes"] = {"xmlns": event.tag[1:].partition("}")[0]}
    for child in event:
        name = _local(child.tag)
        value = _event_data(child) if name == "EventData" else _node(child, numbers=name == "System")
        _put(body, name, value)
    return {"Event": body}


def _put(obj: dict[str, Any], name: str, value: Any) -> None:
    """Add a child to an object: a repeated name becomes a list."""
    if name not in obj:
        obj[name] = value
    elif isinstance(obj[name], list):
        obj[name].append(value)
    else:
        obj[name] = [obj[name], value]


def _scalar(name: str, text: str, numbers: bool) -> Any:
    return int(text) if numbers and name in _INTS and text.isdigit() else text


def _node(el: ET.Element, *, numbers: bool = False) -> Any:
    """An element as the evtx crate writes it (module docstring); ``numbers``: within ``System``."""
    attrs = {_local(k): _scalar(_local(k), v, numbers) for k, v in el.attrib.items()}
    children = list(el)
    if children:
        obj: dict[str, Any] = {"#attributes": attrs} if attrs else {}
        for child in children:
            _put(obj, _local(child.tag), _node(child, numbers=numbers))
        return obj
    text = _scalar(_local(el.tag), el.text, numbers) if el.text else None
    if not attrs:
        return text
    return {"#attributes": attrs} if text is None else {"#attributes": attrs, "#text": text}


def _event_data(el: ET.Element) -> Any:
    """``EventData``: named ``<Data>`` as keys, unnamed ones as ``Data.#text``, others as elements."""
    obj: dict[str, Any] = {"#attributes": dict(el.attrib)} if el.attrib else {}
    unnamed: list[str | None] = []
    for child in el:
        tag = _local(child.tag)
        if tag == "Data" and "Name" in child.attrib:
            obj[child.attrib["Name"]] = child.text or None
        elif tag == "Data":
            unnamed.append(child.text or None)
        else:
            _put(obj, tag, _node(child))
    if unnamed:
        obj["Data"] = {"#text": unnamed if len(unnamed) > 1 else unnamed[0]}
    return obj or None
