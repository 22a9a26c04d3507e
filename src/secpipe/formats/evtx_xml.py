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
``</Event>``, is read alone (the ``<Events>`` wrapper and XML declarations, of concatenated
exports too, fall between pieces), so one broken event is dead-lettered with the parser's reason
and its neighbours are kept. UTF-16 exports (a BOM) are read.

Reading: an event in Windows' own layout (``<Event xmlns=..>``, a ``<System>`` of the schema's leaf
elements, an ``<EventData>`` of named ``<Data>`` only, the five predefined entities, nothing XML
refuses) is recognized by one RE2 expression that only such well-formed XML matches (Arrow's regex
kernel: one call for all the events of a document), and its values are taken out with regular
expressions, no tree: each ``System`` child is read once and kept by its text (most repeat from
event to event: the provider, channel, computer, level...), the ``Data`` become the ``EventData``
object in one ``findall``. Anything else (``RenderingInfo``, ``UserData``, unnamed ``<Data>``,
comments, CDATA, character references, a repeated element or attribute, a broken event) goes to
ElementTree's parser, which builds the same record or gives the reason it is not XML. With the native
extension (``native/src/evtx_xml.rs``) the framing, the grammar's check and the record's JSON text are
one Rust pass over the document: each event in that layout comes back as its compact record (the bytes
``msgspec`` encodes of the dict built here) and its ``SystemTime``, and only the events it hands back
(the grammar's refusals, what the regex path declines, an integer field Python's ``int`` could read
otherwise) take the path above. Cost: ~10 us an event natively against ~38 us on the regex path
(benchmark, loaded machine, ~100k events per CPU-s against ~26k), now mostly hashing and the batch;
without the extension (``SECPIPE_NATIVE=0``) the same rows. The rows are
the ones the ``json`` format makes of these records (``map_records``: Base Events, the time
``System.TimeCreated``'s ``SystemTime``; the Windows security events it maps as their OCSF classes,
:mod:`._winrecords`), built here without decoding the JSON again but for those events; a batch with
a time that is not ISO-8601 goes to ``map_records`` itself.

Safety: a document with a DTD or an entity declaration (``<!DOCTYPE``, ``<!ENTITY``) is refused whole
(Windows writes none; no entity is ever expanded).
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast as native
from secpipe.formats import _winrecords
from secpipe.formats.base import (
    BOM,
    DeadLetter,
    Decoded,
    Format,
    Records,
    base_columns,
    event_uids,
    parse_times,
    string_column,
    to_batch,
)
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

# The fast path (module docstring). Its grammar, an RE2 expression (Arrow's regex kernels: one call checks
# every event of a document): the System children the event schema has, attribute values without
# references, ``>`` or characters the parser would normalize (tab, CR, LF), character data with the
# predefined entities only; no character XML does not allow. (``]]>`` in character data: :func:`_matches`.)
_S = r"[ \t\r\n]"
_CHARS = r"[^<&\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"
_TEXT = rf"(?:{_CHARS}|&(?:lt|gt|amp|quot|apos);)*"
_VALUE = r"""(?:'[^'<>&\x00-\x1f\x{FFFE}\x{FFFF}]*'|"[^"<>&\x00-\x1f\x{FFFE}\x{FFFF}]*")"""
_LEAF = rf"<@(?:{_S}+[A-Za-z_][\w.-]*{_S}*={_S}*{_VALUE})*{_S}*(?:/>|>{_TEXT}</@{_S}*>)"  # (@: the name)
_SYSTEM = "|".join(_LEAF.replace("@", name) for name in ("Provider", "EventID", "Version", "Level", "Task", "Opcode", "Keywords",
                                                   "TimeCreated", "EventRecordID", "Correlation", "Execution",
                                                   "Channel", "Computer", "Security"))  # fmt: skip
_NAMED = r"""(?:'[^'"<>&\x00-\x1f\x{FFFE}\x{FFFF}]*'|"[^'"<>&\x00-\x1f\x{FFFE}\x{FFFF}]*")"""
_DATA = rf"<Data{_S}+Name{_S}*={_S}*{_NAMED}{_S}*(?:/>|>{_TEXT}</Data{_S}*>)"
_URI = r"""(?:'[^'<>&\x00-\x1f\x{FFFE}\x{FFFF}]+'|"[^"<>&\x00-\x1f\x{FFFE}\x{FFFF}]+")"""
_GRAMMAR = (rf"^<Event{_S}+xmlns{_S}*={_S}*{_URI}{_S}*>{_S}*<System{_S}*>(?:{_S}*(?:{_SYSTEM}))*{_S}*</System{_S}*>{_S}*"
            rf"(?:<EventData{_S}*>(?:{_S}*{_DATA})*{_S}*</EventData{_S}*>{_S}*|<EventData{_S}*/>{_S}*)?</Event{_S}*>$")
#: in an event the grammar matched: its xmlns, each System child, its parts, their attributes, each
#: Data's Name and text
_XMLNS = re.compile(r"""<Event\s+xmlns\s*=\s*(?:'([^']*)'|"([^"]*)")""")
_CHILD = re.compile(r"<\w[^>]*+>(?:[^<]*+</[^>]*+>)?")
_PARTS = re.compile(r"<([\w.-]+)([^>]*?)\s*(?:/>|>([^<]*)<)")
_SIMPLE = re.compile(r"""<([\w.-]+)(?:>([^<]*)</[\w.-]+>|\s+([\w.-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")\s*/>)""")
_ATTRS = re.compile(r"""([\w.-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")""")
_DATAS = re.compile(r"""Name\s*+=\s*+['"]([^'"]*+)['"]\s*+(?:/>|>([^<]*+))""")
#: System children read (their text -> (name, value)): most repeat from event to event, not these
_CHILDREN: dict[str, tuple[str, Any]] = {}
_UNIQUE = frozenset({"TimeCreated", "EventRecordID"})


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
        if text is None or ("!" in text and _DTD.search(text)):  # (a "!" first: memchr, ~20x the regex's speed)
            reason = ("Windows event XML that is not UTF-8 or UTF-16 (a BOM)" if text is None else
                      "Windows event XML with a DTD or entity declaration (<!DOCTYPE/<!ENTITY refused)")
            return Decoded(dead=[DeadLetter(reason, source, 0, data, self.name)], events=1)
        scan = native.evtx_xml_scan(text)
        if scan is None:
            starts = [m.start() for m in _START.finditer(text)]
            pieces = [_piece(text, a, b) for a, b in itertools.pairwise([*starts, len(text)])]
            scan = [None] * len(pieces), [None] * len(pieces), list(enumerate(pieces))
        raws, times, rest = scan
        recs = Records(events=len(raws))
        for (i, piece), ok in zip(rest, _matches([p for _, p in rest], text), strict=True):
            try:
                rec = (ok and _fast(piece)) or _record(ET.fromstring(piece))
            except (ET.ParseError, ValueError) as exc:
                recs.dead.append(DeadLetter(f"invalid Windows event XML (event {i}): {exc}", source, i,
                                            piece.encode(), self.name))
                continue
            raws[i], times[i] = msgspec.json.encode(rec), _time(rec["Event"])
        if rest:  # some read above, some dead
            kept = [i for i, raw in enumerate(raws) if raw is not None]
            raws, times = [raws[i] for i in kept], [times[i] for i in kept]
            recs.locs = [(source, i) for i in kept]
        else:
            recs.locs = list(zip(itertools.repeat(source), range(len(raws)), strict=False))
        recs.raws = raws  # type: ignore[assignment]
        if not recs.events:
            recs.events = 1
            recs.dead.append(DeadLetter("no <Event> element of the Windows event schema", source, 0, data, self.name))
        return _rows(recs, times)


def _rows(recs: Records, times: list[Any]) -> Decoded:
    """The rows the ``json`` format makes of these records (``GenericJSON.map_records``: a Base
    Event of the record, its time ``SystemTime``), without decoding them again; where a time is
    not ISO-8601, the json format's own reading."""
    out = Decoded(dead=recs.dead, events=recs.events)
    strs = pa.array(times, pa.string())
    times_ms = parse_times(strs)
    if times_ms.null_count != strs.null_count:
        return _JSON.map_records(recs)
    if not recs.raws:
        return out
    raws = recs.raws
    grouped = _winrecords.classes(raws)  # the Windows events' rows grouped by class, as the json format's
    if grouped is not None:
        raws, times_ms = [raws[i] for i in grouped.order], times_ms.take(pa.array(grouped.order))
    raw_text = string_column(raws, checked=True)
    cols = base_columns("base_event", kind=_JSON.name, product=_JSON.product, vendor=_JSON.vendor,
                        uids=event_uids(_JSON.name, raws), times_ms=times_ms, raws=None,
                        activity_id=pa.array(np.zeros(len(raws), np.int32)), severity_id=0)
    none = pa.nulls(len(raws), pa.string())  # no top-level message or host: only "Event"
    cols.update({"message": none, "device.hostname": none, "unmapped": raw_text, "raw_data": raw_text})
    for cls, part in _winrecords.by_class(cols, grouped, kind=_JSON.name, product=_JSON.product, vendor=_JSON.vendor):
        out.batches.append(to_batch(cls, part))
    return out


def _time(event: dict[str, Any]) -> Any:
    """``System.TimeCreated``'s ``SystemTime``, where the json format reads an evtx record's time."""
    created = event["System"].get("TimeCreated") if isinstance(event.get("System"), dict) else None
    attrs = created.get("#attributes") if isinstance(created, dict) else None
    return attrs.get("SystemTime") if isinstance(attrs, dict) else None


def _matches(pieces: list[str], text: str) -> list[bool]:
    """Which events the fast path reads: the grammar's, less those with ``]]>`` (not allowed in
    character data; where the grammar has no word for it)."""
    if not pieces:
        return []
    fast = pc.match_substring_regex(pa.array(pieces, pa.string()), _GRAMMAR).to_pylist()
    if "]]>" in text:
        return [ok and "]]>" not in piece for ok, piece in zip(fast, pieces, strict=True)]
    return fast  # type: ignore[no-any-return]


def _fast(piece: str) -> dict[str, Any] | None:
    """The record of an event the grammar matched; None where the parser's path builds it
    (a System child repeated, an ``xmlns`` or repeated attribute)."""
    m = _XMLNS.match(piece)
    start = piece.index(">", piece.index("<System", m.end())) + 1  # type: ignore[union-attr]
    end = piece.index("</System", start)
    pairs = [_CHILDREN.get(c) or _child(c) for c in _CHILD.findall(piece, start, end)]
    system: dict[str, Any] = dict(pairs) if None not in pairs else {}  # type: ignore[arg-type]
    if len(system) != len(pairs):
        return None
    body: dict[str, Any] = {"#attributes": {"xmlns": m[1] or m[2]}, "System": system}  # type: ignore[index]
    start = piece.find("<EventData", end)
    if start >= 0:
        start = piece.index(">", start)
        if piece[start - 1] == "/":
            body["EventData"] = None
        else:
            named = _DATAS.findall(piece, start)
            if "&" in piece or "\r" in piece:
                data = {k: _text(v) or None for k, v in named}
            else:
                data = dict(named)
                if "" in data.values():
                    data = {k: v or None for k, v in data.items()}
            body["EventData"] = data or None
    return {"Event": body}


def _child(child: str) -> tuple[str, Any] | None:
    """A System child (its XML) as its name and value, kept for the next event; None for one with an
    ``xmlns`` or repeated attribute."""
    simple = _SIMPLE.fullmatch(child)  # text alone, or one attribute (TimeCreated, EventRecordID...)
    if simple is not None and simple[3] != "xmlns":
        tag, text, name, q1, q2 = simple.groups()
        value = ({"#attributes": {name: _scalar(name, q2 if q1 is None else q1, True)}} if name else
                 _scalar(tag, _text(text), True) if text else None)
        return _keep(child, tag, value)
    tag, attrs, text = _PARTS.match(child).groups()  # type: ignore[union-attr]
    value = _scalar(tag, _text(text), True) if text else None
    if attrs:
        pairs = _ATTRS.findall(attrs)
        named = {k: _scalar(k, q1 or q2, True) for k, q1, q2 in pairs}
        if len(named) != len(pairs) or "xmlns" in named:
            return None
        value = {"#attributes": named} if value is None else {"#attributes": named, "#text": value}
    return _keep(child, tag, value)


def _keep(child: str, tag: str, value: Any) -> tuple[str, Any]:
    """A System child's name and value, kept by its text unless it differs in every event."""
    if tag not in _UNIQUE:
        if len(_CHILDREN) >= 65536:
            _CHILDREN.clear()
        _CHILDREN[child] = (tag, value)
    return tag, value


def _text(text: str) -> str:
    """Character data as the parser reports it: line ends as LF, the predefined entities replaced."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
                .replace("&amp;", "&"))
    return text


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
