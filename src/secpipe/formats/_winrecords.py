"""Windows events kept as JSON records, mapped to their OCSF classes as NXLog's lines are.

The ``json`` format stores five shapes of a Windows event log record (and ``evtx_xml`` the first):

- the evtx crate's JSON of an evtx record (``evtx_dump``, Chainsaw, SigmaHQ's regression data; what
  ``evtx_xml`` makes of wevtutil's and Event Viewer's XML): ``{"Event": {"System": {"EventID",
  "Provider": {"#attributes": {"Name"}}, "Channel", "Computer", "TimeCreated": {"#attributes":
  {"SystemTime"}}...}, "EventData": {...}}}`` (an ``EventID`` with Qualifiers is ``{"#text": N}``;
  1102's Subject is in ``UserData.LogFileCleared``);
- Winlogbeat's documents (its ``file`` output, an export of its index): ``winlog.event_id`` /
  ``channel`` / ``provider_name`` / ``computer_name``, ``winlog.event_data`` and ``winlog.user_data``,
  the event's time ``@timestamp``;
- Wazuh's alerts and archives of its ``windows_eventchannel`` decoder: ``data.win.system.eventID`` /
  ``channel`` / ``providerName`` / ``computer`` / ``systemTime``, the EventData names with a
  lower-case first letter in ``data.win.eventdata``, their backslashes and quotes escaped once more
  (``C:\\\\Windows``, ``\\"``: read back);
- NXLog's own JSON (``to_json()`` of ``im_msvistalog``, sent over HTTP or written to a file): already
  the flat names;
- the OpenTelemetry Collector's ``windowseventlog`` receiver's log body (a map: ``event_id.id``, ``channel``,
  ``provider.name``, ``computer``, ``system_time``, ``event_data`` by name), as ``POST /v1/logs`` stores it.

Each is read into NXLog's names (``EventID``, ``Channel``, ``SourceName``, ``Hostname``,
``EventTime`` where the json format's time of the record is another, and the EventData / UserData
names flat), which :mod:`._winevents` maps: logons and
Kerberos / NTLM authentication, 4672's privileges, process creation, Sysmon's network connections,
account and group changes, a log cleared. :func:`by_class` splits a ``json`` batch so: those events'
rows become their class (its own columns over the Base Event's: the event's time where it has one,
the computer as the host where the record names none), the others stay Base Events; ``raw_data``
and ``unmapped`` keep the record as it came, which Sigma's Windows rules read. Only the records
whose text names one of those event ids (a byte search for each key, the id matched there) are
decoded again, and each column is built once, its rows grouped by class (:func:`classes`).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _winevents
from secpipe.formats.base import UNREADABLE, base_columns, json_value

#: where a record names its event id: NXLog and the evtx crate (``EventID``, with Qualifiers
#: ``{"#attributes": ..., "#text": N}``), Winlogbeat (``event_id``), Wazuh (``eventID``)
_KEYS = (b'"EventID"', b'"event_id"', b'"eventID"')
_IDS_AT = re.compile(rb'"(?:EventID|event_id|eventID)"\s*:\s*(?:\{(?:[^{}]|\{[^{}]*\})*"(?:#text|id)"\s*:\s*)?"?'
                     + _winevents.ID_NUMBERS.encode())
#: Wazuh's second escaping of a backslash or a quote in an EventData value
_WAZUH_ESCAPE = re.compile(r'\\([\\"])')


def _scalars(obj: Any, out: dict[str, Any]) -> None:
    """The members of an object (EventData, a UserData element) into ``out`` (:mod:`._winevents` reads
    only the text and numbers among them)."""
    if isinstance(obj, dict):
        out.update(obj)


def _attribute(obj: Any, name: str) -> Any:
    """An evtx JSON element's attribute (``{"#attributes": {name: ...}}``)."""
    attrs = obj.get("#attributes") if isinstance(obj, dict) else None
    return attrs.get(name) if isinstance(attrs, dict) else None


class _System(msgspec.Struct):
    EventID: Any = None
    Provider: Any = None
    Channel: Any = None
    Computer: Any = None
    TimeCreated: Any = None


class _Event(msgspec.Struct):
    System: _System | None = None
    EventData: Any = None
    UserData: Any = None


class _Record(msgspec.Struct):
    """What :func:`flat` reads of a record (the evtx crate's record typed: the System values only)."""

    Event: _Event | None = None
    winlog: Any = None
    data: Any = None
    EventID: Any = None
    event_id: Any = None  # the OpenTelemetry Collector's windowseventlog receiver
    channel: Any = None
    provider: Any = None
    computer: Any = None
    system_time: Any = None
    event_data: Any = None


_DECODER = msgspec.json.Decoder(_Record)


def _evtx(event: _Event, system: _System) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _scalars(event.EventData, out)
    user = event.UserData
    for element in user.values() if isinstance(user, dict) else ():
        _scalars(element, out)
    eid = system.EventID
    # (no EventTime: the json format's time of the record is its SystemTime already)
    out.update(EventID=eid.get("#text") if isinstance(eid, dict) else eid, Channel=system.Channel,
               SourceName=_attribute(system.Provider, "Name"), Hostname=system.Computer)
    return out


def _winlogbeat(winlog: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _scalars(winlog.get("event_data"), out)
    _scalars(winlog.get("user_data"), out)
    # (no EventTime: the json format's time of the document is its @timestamp, the event's time)
    out.update(EventID=winlog.get("event_id"), Channel=winlog.get("channel"), SourceName=winlog.get("provider_name"),
               Hostname=winlog.get("computer_name"))
    return out


def _wazuh(win: dict[str, Any]) -> dict[str, Any]:
    data = win.get("eventdata")
    out = {k[:1].upper() + k[1:]: _WAZUH_ESCAPE.sub(r"\1", v) if isinstance(v, str) and "\\" in v else v
           for k, v in (data.items() if isinstance(data, dict) else ()) if not isinstance(v, dict | list)}
    system = win.get("system")
    system = system if isinstance(system, dict) else {}
    out.update(EventID=system.get("eventID"), Channel=system.get("channel"), SourceName=system.get("providerName"),
               Hostname=system.get("computer"), EventTime=system.get("systemTime"))
    return out


def _otel(record: _Record) -> dict[str, Any]:
    """The windowseventlog receiver's body (pkg/stanza ``EventXML.parseBody``): ``event_data`` the EventData
    by name (or, in later versions, its ``data`` list of one-name objects), ``system_time`` the event's time."""
    out: dict[str, Any] = {}
    data = record.event_data
    items = data.get("data") if isinstance(data, dict) else None
    for item in items if isinstance(items, list) else [data]:
        _scalars(item, out)
    provider = record.provider
    out.update(EventID=record.event_id.get("id"), Channel=record.channel, Hostname=record.computer,
               SourceName=provider.get("name") if isinstance(provider, dict) else None, EventTime=record.system_time)
    return out


def flat(text: str | bytes | memoryview) -> dict[str, Any] | None:
    """A Windows event record's JSON text (module docstring) in NXLog's flat names; None for any
    other object (or no JSON)."""
    try:
        record = _DECODER.decode(text)
    except msgspec.ValidationError:  # an "Event" or "System" that is no object: not the evtx crate's
        record = _Record()
    except UNREADABLE:
        return None
    event = record.Event
    if event is not None and event.System is not None:
        return _evtx(event, event.System)
    winlog = record.winlog
    if isinstance(winlog, dict) and "event_id" in winlog:
        return _winlogbeat(winlog)
    data = record.data
    if isinstance(data, dict) and isinstance(data.get("win"), dict):
        return _wazuh(data["win"])
    if isinstance(record.event_id, dict) and "id" in record.event_id and record.channel is not None:
        return _otel(record)
    if record.EventID is None:
        return None
    nxlog = json_value(text)  # NXLog's own JSON: the EventData names beside EventID (none msgspec refuses: stays Base)
    return nxlog if isinstance(nxlog, dict) else None


class Classes(NamedTuple):
    """The Windows events of a batch of records by class: ``order`` the records' positions grouped
    (each class's in their order, then the others'), ``found`` each class with its number of records
    and their columns (:func:`._winevents.classed`), ``rest`` the number of the others."""

    order: list[int]
    found: list[tuple[str, int, dict[str, pa.Array]]]
    rest: int


def _candidate(raw: bytes) -> bool:
    """Whether a record's text names one of the event ids :mod:`._winevents` maps where a Windows
    record keeps it (a search for each key's first place, the id matched there)."""
    for key in _KEYS:
        at = raw.find(key)
        if at >= 0 and _IDS_AT.match(raw, at):
            return True
    return False


def classes(raws: list[bytes]) -> Classes | None:
    """The Windows events among JSON records (``raws``, their texts) by class; None where there are
    none. The caller builds its columns in ``order`` and hands them to :func:`by_class`."""
    found_events: dict[int, dict[str, Any]] = {}
    for i, raw in enumerate(raws):
        if _candidate(raw):
            event = flat(raw)
            if event is not None:
                found_events[i] = event
    found = _winevents.classed(len(raws), found_events) if found_events else []
    if not found:
        return None
    group = np.full(len(raws), len(found), np.int64)
    for k, (_cls, hit, _mapped) in enumerate(found):
        group[hit.to_numpy(zero_copy_only=False)] = k
    counts = np.bincount(group, minlength=len(found) + 1).tolist()
    order = np.argsort(group, kind="stable").tolist()
    return Classes(order, [(cls, counts[k], mapped) for k, (cls, _hit, mapped) in enumerate(found)], counts[-1])


def by_class(cols: dict[str, pa.Array], grouped: Classes | None, *, kind: str, product: str,
             vendor: str | None) -> list[tuple[str, dict[str, pa.Array]]]:
    """[(OCSF class, its columns)] of a batch of Base Event columns (``cols``, their rows in the
    ``order`` of ``grouped``, :func:`classes`): the Windows events among them as their classes
    (module docstring), the rest as they are. Each class's columns are slices of ``cols``."""
    if grouped is None or len(grouped.order) != len(cols["metadata.uid"]):  # (rows another reader took: as they are)
        return [("base_event", cols)]
    out = []
    start = 0
    for cls, count, mapped in grouped.found:
        sub = {c: v.slice(start, count) for c, v in cols.items()}
        start += count
        own = mapped.pop("_time")
        host = pc.coalesce(sub["device.hostname"], mapped.pop("_host"))
        part = sub | base_columns(cls, kind=kind, product=product, vendor=vendor, uids=sub["metadata.uid"],
                                  times_ms=pc.coalesce(own, sub["time"]), raws=None, activity_id=mapped.pop("_activity"),
                                  severity_id=sub["severity_id"])  # fmt: skip
        if "metadata.labels" in sub:  # the receipt time's label, where the event has no time of its own
            part["metadata.labels"] = pc.if_else(pc.is_valid(own), pa.scalar(None, sub["metadata.labels"].type),
                                                 sub["metadata.labels"])
        named = pc.is_valid(host)
        part.update({"device.hostname": host, "device.type_id": pc.if_else(named, pa.scalar(0, pa.int32()), pa.scalar(None, pa.int32())),
                     "device.type": pc.if_else(named, "Unknown", pa.scalar(None, pa.string()))})  # fmt: skip
        part.update(mapped)
        out.append((cls, part))
    if grouped.rest:
        out.append(("base_event", {c: v.slice(start, grouped.rest) for c, v in cols.items()}))
    return out
