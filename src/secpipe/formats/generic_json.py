"""Generic JSON: any JSON object becomes an OCSF Base Event (class_uid 0), nothing is lost.

The catch-all for wire ingest (an Elasticsearch ``_bulk`` document or a HEC event that no
specific format recognizes): it sniffs every JSON object or array at a low score (5), so
each specific format wins when it recognizes its input. It is a catch-all (``catch_all``):
file auto-detection skips it, so `secpipe ingest --format auto` dead-letters JSON no
specific format knows (use ``--format json`` to store such files as Base Events), but for the
shapes it claims: evtx records as JSON, and Zeek, Okta System Log, Route 53 Resolver and
Office 365 audit records, Wazuh's alerts of Windows events and Winlogbeat's documents, which
SigmaHQ's rules read here (:meth:`GenericJSON.claim`).

Accepted framings: one object, a JSON array of objects, NDJSON. A page of an API's answer whose
records this format claims is read as its records (:func:`_page_items`): the Admin SDK Reports API's
``activities.list`` page (``{"kind": "admin#reports#activities", "items": [...]}``; a page without
``items`` holds no activity), the OneLogin Events API's (``GET /api/1/events``: ``{"status": {...},
"pagination": {"before_cursor", "after_cursor", "previous_link", "next_link"}, "data": [...]}``) and an
Okta event hook's delivery (``{"eventType": "com.okta.event_hook", "cloudEventsVersion": "0.1", "data":
{"events": [...]}}``: System Log events, as the System Log API gives them) and an OData collection (Microsoft
Graph's answers: ``{"@odata.context", "value": [...], "@odata.nextLink"}``, no other key), one such page or one a
line.
Each object -> Base Event:
- ``time`` from the first present of ``@timestamp``, ``timestamp``, ``time``, ``eventTime``,
  ``event_time``, ``ts``, ``date``, ``datetime``, ``EventTime``, ``ISODATE``, ``created_at``,
  then the time keys of common security sources: ``TimeCreated`` (Windows events as JSON),
  ``UtcTime`` (Sysmon), ``TimeGenerated`` (Azure Monitor), ``createdDateTime`` /
  ``activityDateTime`` (Entra ID sign-ins / audits), ``CreationTime`` (Microsoft 365),
  ``published`` (Okta), ``Timestamp``, ``EventReceivedTime`` (NXLog), ``@t`` (Serilog CLEF),
  ``query_timestamp`` (Amazon Route 53 Resolver query logs), then an evtx record's
  ``Event.System.TimeCreated.#attributes.SystemTime`` (the evtx crate's JSON, ``evtx_dump``):
  ISO-8601 strings, or epoch numbers (seconds, milliseconds, microseconds or nanoseconds,
  told apart by magnitude), also when written as a string of digits. No usable time -> receipt time, labelled (see ``base_columns``).
- ``message`` from ``message`` / ``msg`` / ``MESSAGE`` / ``log`` / ``event`` (HEC) / ``Body``
  (OpenTelemetry log records; the Collector's ``elasticsearch`` exporter in its ``none`` and
  ``raw`` mapping modes) when a string, else from a HEC object event's own ``message`` /
  ``log`` / ``msg``, else from ``body.text`` (that exporter's ``otel`` mapping mode, its default);
  ``device.hostname`` (``type_id`` 0 Unknown) from a HEC object event's own host (those keys in ``event``: what
  it names wins over its envelope's ``host``), else ``host.name`` / ``host.hostname`` / ``hostname`` / ``HOST`` /
  ``host`` (string), else the OpenTelemetry resource's ``host.name`` (``resource.attributes``
  in the ``otel`` mode, ``Resource.host.name`` in ``none``).
- ``severity_id`` from an OpenTelemetry log record's SeverityNumber (``severity_number`` in the
  ``otel`` mode, ``SeverityNumber`` in ``none``/``raw``; what ``POST /v1/logs`` stores), by the
  log data model's ranges as its syslog mapping reads them, as the syslog format maps syslog's
  severities: TRACE/DEBUG/INFO 1-9 Informational, INFO2-4 (syslog notice) Low, WARN Medium,
  ERROR High, ERROR2-4 (critical, alert) Critical, FATAL Fatal; a record with no SeverityNumber
  by its SeverityText, where that is one of the model's short names or a level name its
  Appendix B maps (``Information``, ``Warning``, ``Critical``, ``notice``, ``emerg``...: the
  original level the data model keeps there); ``metadata.log_level`` its SeverityText. Any other
  object says nothing about severity: 0 (Unknown).
- the whole object (compact JSON) in ``unmapped`` and in ``raw_data``.
Zeek's logs (``conn``, ``dns``, ``http``, ``ssl``, ``ssh``, ``notice``: by ``_path`` or by their keys) are
stored as their OCSF classes instead, the record kept in ``unmapped`` all the same (:mod:`._zeek_classes`).
A JSON value that is not an object (a number, a string, an array element that is not an
object) is dead-lettered with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _winrecords, _zeek_classes
from secpipe.formats.base import (
    Decoded,
    RecordFormat,
    Records,
    base_columns,
    decode_typed,
    event_uids,
    parse_times,
    to_batch,
)


class _Host(msgspec.Struct):
    name: Any = None
    hostname: Any = None


class _Object(msgspec.Struct):
    at_timestamp: Any = msgspec.field(default=None, name="@timestamp")
    timestamp: Any = None
    time: Any = None
    eventTime: Any = None
    event_time: Any = None
    ts: Any = None
    date: Any = None
    datetime: Any = None
    EventTime: Any = None
    ISODATE: Any = None
    created_at: Any = None
    TimeCreated: Any = None  # Windows events as JSON (EVTX converters, winlogbeat-style flattening)
    UtcTime: Any = None  # Sysmon
    TimeGenerated: Any = None  # Azure Monitor / Sentinel tables
    createdDateTime: Any = None  # Entra ID (Azure AD) sign-ins
    activityDateTime: Any = None  # Entra ID directory audits
    CreationTime: Any = None  # Microsoft 365 management activity
    published: Any = None  # Okta System Log
    Timestamp: Any = None
    EventReceivedTime: Any = None  # NXLog
    at_t: Any = msgspec.field(default=None, name="@t")  # Serilog compact (CLEF)
    query_timestamp: Any = None  # Amazon Route 53 Resolver query logs
    utc_time: Any = None  # OpenCanary
    id: Any = None  # a Workspace activity's id.time (_activity_time)
    kind: Any = None  # a page of Workspace activities (_is_page)
    pagination: Any = None  # a page of OneLogin events (_is_page)
    cloudEventsVersion: Any = None  # an Okta event hook's delivery (_is_page)
    value: msgspec.Raw = msgspec.Raw(b"")  # an OData collection (_is_page): left undecoded
    Event: Any = None  # an evtx record as JSON: its time is Event.System.TimeCreated (_evtx_time)
    message: Any = None
    msg: Any = None
    MESSAGE: Any = None
    log: Any = None
    event: Any = None
    Body: Any = None
    body: Any = None  # OpenTelemetry Collector's elasticsearch exporter, otel mode: {"text": ...}
    host: Any = None
    hostname: Any = None
    HOST: Any = None
    resource: Any = None  # otel mode: {"attributes": {"host.name": ...}}
    resource_host: Any = msgspec.field(default=None, name="Resource.host.name")  # none mode
    severity_number: Any = None  # OpenTelemetry log records: otel mode
    severity_text: Any = None
    SeverityNumber: Any = None  # none and raw modes
    SeverityText: Any = None


#: the head of a Windows event record converted from evtx, alone or first of an array or NDJSON lines
_EVTX = re.compile(rb'\s*\[?\s*\{\s*"Event"\s*:\s*\{\s*"(?:#attributes|System|EventData)"')
#: the first record of a security source whose logs only this format reads, which SigmaHQ rules
#: name (products without a format of their own: :meth:`GenericJSON.claim`), by keys of its head:
#: - Zeek's JSON logs (``LogAscii::use_json``): the record opens with ``ts`` (or with ``_path``, as
#:   Corelight sensors write it) and holds the connection's ``id.orig_h`` (conn, dns, http, smb,
#:   dce_rpc, rdp, kerberos...), a ``uid``, the ``uids`` of a DHCP exchange, a ``fuid`` (files) or
#:   ``certificate.*`` (x509);
#: - the Okta System Log (``eventType``, the actor's ``alternateId``, ``displayMessage`` or
#:   ``legacyEventType``);
#: - Amazon Route 53 Resolver query logs (``query_name``, ``srcaddr``, ``query_timestamp``);
#: - the Office 365 Management Activity API (``CreationTime``, ``Operation``, ``Workload``,
#:   ``RecordType``);
#: - Wazuh's alerts (``alerts.json``) and archive (``archives.json``) of a Windows event its
#:   ``windows_eventchannel`` decoder read (``agent``, ``decoder``, the event as ``data.win``);
#: - the OpenTelemetry Collector's windowseventlog receiver's log body (``event_id``, ``channel``, ``provider``,
#:   ``system_time``: :mod:`._winrecords`);
#: - Winlogbeat's documents (its ``file`` output, an export of its index: ``winlog`` with the event's
#:   ``event_id`` and ``provider_name``; searched in the whole head, as the rendered ``message``
#:   before it may be long);
#: - Atlassian Data Center audit records (Bitbucket's, Jira's, Confluence's: the audit log file's
#:   ``auditType`` records and ``/rest/auditing/1.0/events``' entities, both with ``affectedObjects``,
#:   ``changedValues`` and ``extraAttributes``; SigmaHQ's ``product: bitbucket`` rules);
#: - Cowrie honeypot logs (``cowrie.json``: an ``eventid`` ``cowrie.*`` and its ``session``; SigmaHQ's
#:   ``product: cowrie`` rules);
#: - OpenCanary honeypot logs (``opencanary/logger.py``'s ``sanitizeLog``: a numeric ``logtype`` and
#:   ``local_time_adjusted``, the time as ``utc_time``; SigmaHQ's ``product: opencanary`` rules);
#: - Google Workspace activities of the Admin SDK Reports API (``activities.list``' items, ``kind``
#:   ``admin#reports#activity``, or their page, ``admin#reports#activities``; the time is ``id.time``;
#:   SigmaHQ's ``google_workspace.*`` rules);
#: - OneLogin's events (the Events API's Event resource: ``event_type_id``, ``account_id``, the actor's
#:   ``actor_user_id`` or ``actor_system``; its page likewise; SigmaHQ's ``product: onelogin`` rules);
#: - Microsoft Entra ID Protection's risk detections as Microsoft Graph gives them (``riskDetection``:
#:   ``riskEventType``, ``detectionTimingType``; its collection likewise; SigmaHQ's ``service: riskdetection`` rules).
#: (Azure Monitor and Entra ID records are the ``k8s_audit`` format's, :mod:`._cloud_audit`.)
_CLAIMED = tuple(tuple(re.compile(k) for k in keys) for keys in (
    (rb'^\s*\[?\s*\{\s*"(?:ts|_path)"\s*:', rb'"(?:id\.orig_h|uids?|fuid|certificate\.[a-z_]+)"\s*:'),
    (rb'"eventType"\s*:', rb'"alternateId"\s*:', rb'"(?:displayMessage|legacyEventType)"\s*:'),
    (rb'"query_name"\s*:', rb'"srcaddr"\s*:', rb'"query_timestamp"\s*:'),
    (rb'"CreationTime"\s*:', rb'"Operation"\s*:', rb'"Workload"\s*:', rb'"RecordType"\s*:'),
    (rb'"agent"\s*:\s*\{', rb'"decoder"\s*:\s*\{\s*"name"\s*:\s*"windows_eventchannel"', rb'"win"\s*:\s*\{'),
    (rb'"event_id"\s*:\s*\{', rb'"channel"\s*:', rb'"provider"\s*:\s*\{', rb'"system_time"\s*:'),
    (rb'"affectedObjects"\s*:\s*\[', rb'"changedValues"\s*:\s*\[', rb'"extraAttributes"\s*:\s*\['),
    (rb'"eventid"\s*:\s*"cowrie\.', rb'"session"\s*:'),
    (rb'"logtype"\s*:\s*\d', rb'"local_time_adjusted"\s*:'),
    (rb'"kind"\s*:\s*"admin#reports#activit(?:y|ies)"',),
    (rb'"event_type_id"\s*:', rb'"account_id"\s*:', rb'"actor_(?:user_id|system)"\s*:'),
    (rb'"riskEventType"\s*:', rb'"detectionTimingType"\s*:'),
))
_WINLOG = tuple(re.compile(k) for k in (rb'"winlog"\s*:\s*\{', rb'"event_id"\s*:', rb'"provider_name"\s*:'))
_TIME_FIELDS = ("at_timestamp", "timestamp", "time", "eventTime", "event_time", "ts", "date", "datetime",
                "EventTime", "ISODATE", "created_at", "TimeCreated", "UtcTime", "TimeGenerated", "createdDateTime",
                "activityDateTime", "CreationTime", "published", "Timestamp", "EventReceivedTime", "at_t",
                "query_timestamp", "utc_time")  # fmt: skip


def _evtx_time(event: Any) -> Any:
    """The time of an evtx record converted to JSON by the evtx crate (``evtx_dump``, Chainsaw):
    ``Event.System.TimeCreated.#attributes.SystemTime``, None for any other ``Event``."""
    if not isinstance(event, dict):
        return None
    created = (event.get("System") or {}).get("TimeCreated") if isinstance(event.get("System"), dict) else None
    attrs = created.get("#attributes") if isinstance(created, dict) else None
    return attrs.get("SystemTime") if isinstance(attrs, dict) else None


def _instant(value: Any) -> float | None:
    """A Java ``Instant`` as Jackson writes it (``{"epochSecond": s, "nano": n}``: the Atlassian audit log
    file's ``timestamp``) -> epoch seconds; None for anything else."""
    if not isinstance(value, dict):
        return None
    sec, nano = value.get("epochSecond"), value.get("nano", 0)
    if type(sec) is not int or type(nano) is not int or not 0 <= nano < 10**9:
        return None
    return sec + nano / 1e9


def _activity_time(value: Any) -> Any:
    """The time of a Google Workspace activity (Admin SDK Reports API: ``id.time``, RFC 3339), else None."""
    time = value.get("time") if isinstance(value, dict) and "applicationName" in value else None
    return time if isinstance(time, str) else None


#: the ``kind`` of a Reports API ``activities.list`` page
_WORKSPACE_PAGE = "admin#reports#activities"
#: the ``eventType`` of an Okta event hook's delivery
_OKTA_HOOK = "com.okta.event_hook"


class _Page(msgspec.Struct):
    """A page of the Reports API (``items``), of OneLogin's Events API (``status``, ``data``) or an
    Okta event hook's delivery (``eventType``, ``data.events``)."""

    kind: Any = None
    items: list[msgspec.Raw] | None = None
    status: Any = None
    eventType: Any = None
    data: msgspec.Raw = msgspec.Raw(b"null")


class _HookData(msgspec.Struct):
    events: list[msgspec.Raw] | None = None


class _OData(msgspec.Struct, forbid_unknown_fields=True):
    """An OData collection (Microsoft Graph's answers): its items, its annotations and nothing else."""

    value: list[msgspec.Raw] | None = None
    context: Any = msgspec.field(default=None, name="@odata.context")
    next_link: Any = msgspec.field(default=None, name="@odata.nextLink")
    delta_link: Any = msgspec.field(default=None, name="@odata.deltaLink")
    count: Any = msgspec.field(default=None, name="@odata.count")


_PAGE = msgspec.json.Decoder(_Page)
_ODATA = msgspec.json.Decoder(_OData)
_HOOK_DATA = msgspec.json.Decoder(_HookData)
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])


def _is_page(rec: _Object) -> bool:
    """A record that may be a page of records (:func:`_page_items`)."""
    return rec.kind == _WORKSPACE_PAGE or rec.cloudEventsVersion is not None or memoryview(rec.value)[:1] == b"[" or (
        rec.pagination.__class__ is dict and ("after_cursor" in rec.pagination or "next_link" in rec.pagination))


def _page_items(raw: bytes) -> list[bytes] | None:
    """The records of a page (module docstring), as compact as the page; None when ``raw`` is no page."""
    try:
        if raw.find(b'"value"') >= 0 and (odata := _ODATA.decode(raw)).value is not None:
            return [bytes(r) for r in odata.value]
    except msgspec.DecodeError:  # another key beside the collection's: no OData collection
        pass
    try:
        page = _PAGE.decode(raw)
        if page.kind == _WORKSPACE_PAGE:
            return [bytes(r) for r in page.items or ()]
        if page.eventType == _OKTA_HOOK:
            events = _HOOK_DATA.decode(page.data).events
            return None if events is None else [bytes(r) for r in events]
        if page.status.__class__ is dict:
            return [bytes(r) for r in _RAWS.decode(page.data)]
    except msgspec.DecodeError:  # a "data" that is no list of records (an object): kept whole
        return None
    return None


def _first(rec: _Object, names: tuple[str, ...]) -> Any:
    for n in names:
        v = getattr(rec, n)
        if v is not None and not isinstance(v, dict | list | bool):
            return v
    return None


_MESSAGE_FIELDS = ("message", "msg", "MESSAGE", "log", "event", "Body")


def _inner_message(event: Any) -> str | None:
    """The message of a HEC event sent as an object (``{"event": {"message"|"log"|"msg": ...}}``)."""
    if isinstance(event, dict):
        for k in ("message", "log", "msg"):
            if isinstance(event.get(k), str):
                return event[k]  # type: ignore[no-any-return]
    return None


def _epoch_ms(values: list[float | None]) -> pa.Array:
    """Epoch numbers of any common unit -> ms (unit told apart by magnitude)."""
    a = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    mag = np.abs(a)
    scale = np.where(mag < 1e11, 1e3, np.where(mag < 1e14, 1.0, np.where(mag < 1e17, 1e-3, 1e-6)))
    ms = a * scale
    mask = np.isnan(ms) | (np.abs(ms) > 4e14)  # beyond year ~14000: not a time
    return pa.array(np.where(mask, 0, ms).astype(np.int64), pa.int64(), mask=mask)


def _body_text(body: Any) -> str | None:
    """The text body of an OpenTelemetry log record as the Collector's ``elasticsearch``
    exporter writes it in its ``otel`` mapping mode (``{"body": {"text": ...}}``)."""
    text = body.get("text") if isinstance(body, dict) else None
    return text if isinstance(text, str) else None


#: OCSF severity_id of each OpenTelemetry SeverityNumber 0-24 (module docstring)
_OTEL_SEVERITY = np.array([0] + [1] * 9 + [2] * 3 + [3] * 4 + [4] + [5] * 3 + [6] * 4, np.int32)


#: SeverityNumber of a SeverityText without one: the data model's short names (TRACE ... FATAL4)
#: and the source levels its Appendix B maps (syslog, Windows Event Log, .NET ILogger, log4j,
#: Python logging, zap...), by lower-case name
_TEXT_SEVERITY = {
    **{f"{name}{k if k > 1 else ''}": 4 * i + k for i, name in enumerate(("trace", "debug", "info", "warn", "error", "fatal"))
       for k in range(1, 5)},
    "verbose": 1, "finest": 1, "finer": 5, "fine": 6, "config": 7, "informational": 9, "information": 9,
    "notice": 10, "warning": 13, "err": 17, "severe": 17, "crit": 18, "critical": 18, "dpanic": 18,
    "alert": 19, "panic": 19, "emerg": 21, "emergency": 21,
}  # fmt: skip


def _severity(rec: _Object) -> int:
    """An OpenTelemetry log record's SeverityNumber, 0 where it has none (or not one of 1-24),
    else that of its SeverityText (:data:`_TEXT_SEVERITY`)."""
    n = rec.severity_number if rec.severity_number is not None else rec.SeverityNumber
    if n.__class__ is int and 0 < n < 25:
        return n  # type: ignore[no-any-return]
    text = _log_level(rec)
    return _TEXT_SEVERITY.get(text.lower(), 0) if text is not None else 0


def _log_level(rec: _Object) -> str | None:
    """An OpenTelemetry log record's SeverityText (either mode's key), None where it has none."""
    text = rec.severity_text if rec.severity_text is not None else rec.SeverityText
    return text if isinstance(text, str) and text else None


def _host(rec: _Object) -> str | None:
    own = _event_host(rec.event)  # a HEC event object naming its host (a Filebeat document): its own, not the envelope's
    if own is not None:
        return own
    h = rec.host
    if isinstance(h, dict):
        v = h.get("name") or h.get("hostname")
        return v if isinstance(v, str) else None
    for v in (rec.hostname, rec.HOST, h):
        if isinstance(v, str):
            return v
    attrs = rec.resource.get("attributes") if isinstance(rec.resource, dict) else None
    for v in (attrs.get("host.name") if isinstance(attrs, dict) else None, rec.resource_host):
        if isinstance(v, str):
            return v
    return None


def _event_host(event: Any) -> str | None:
    """The host a HEC event object names itself (``host.name``/``host.hostname``, ``hostname``, ``host``)."""
    if event.__class__ is not dict:
        return None
    h = event.get("host")
    for v in (h.get("name") or h.get("hostname") if h.__class__ is dict else None, event.get("hostname"), h):
        if isinstance(v, str) and v:
            return v
    return None


class GenericJSON(RecordFormat):
    """Any JSON object, kept whole as a Base Event."""

    name = "json"
    description = "Any JSON object (catch-all; specific formats win) -> Base Event with the object in unmapped"
    framing = "lines"
    product = "Generic JSON"
    vendor = "secpipe"

    catch_all = True

    def sniff(self, head: bytes) -> int:
        """A low score for anything that starts like a JSON object or array (higher for a
        Windows event converted from evtx: :meth:`claim`)."""
        if _EVTX.match(head):
            return 60
        return 5 if head.lstrip()[:1] in (b"{", b"[") else 0

    def claim(self, head: bytes) -> int:
        """A Windows event log record as evtx converters write it (the evtx crate's evtx_dump,
        Chainsaw, SigmaHQ's regression data: ``{"Event": {"#attributes"|"System"|"EventData": ...}}``),
        or the first record of another source only this format reads and SigmaHQ's rules name
        (Zeek, Okta, Route 53 Resolver, Office 365, Wazuh, Atlassian audit, Cowrie, OpenCanary, Workspace
        activities: :data:`_CLAIMED`, in its
        first 4 KiB; Winlogbeat: :data:`_WINLOG`, in the head): claimed by ``--format auto`` too."""
        if _EVTX.match(head):
            return 60
        first = head[:4096]
        if first.lstrip()[:1] not in (b"{", b"["):
            return 0
        return 60 if any(all(k.search(first) for k in keys) for keys in _CLAIMED) or all(
            k.search(head) for k in _WINLOG) else 0

    def map_records(self, records: Records, parsed: list[Any] | None = None) -> Decoded:
        """Map JSON objects to Base Events, Zeek's logs to their OCSF classes (:mod:`._zeek_classes`;
        ``parsed``: the records as Python values already, one per record, as :mod:`.zeek_tsv` has them)."""
        out = Decoded(dead=records.dead, events=records.events)
        if not records.raws:
            return out
        typed = decode_typed(records.raws, records.locs, _Object, out, "", self.name, "a JSON object")
        recs, raws = typed.recs, typed.raws
        if any(r.kind == _WORKSPACE_PAGE or r.pagination is not None or r.cloudEventsVersion is not None or len(r.value)
               for r in recs):  # pages: their records mapped with them
            recs, raws = self._open_pages(typed, out)
            parsed = None
        if not recs:
            return out
        # Windows events (evtx JSON, Winlogbeat, Wazuh, NXLog): their rows grouped by class (:mod:`._winrecords`)
        grouped = _winrecords.classes(raws) if parsed is None else None
        if grouped is not None:
            recs, raws = [recs[i] for i in grouped.order], [raws[i] for i in grouped.order]
        picked = [_first(r, _TIME_FIELDS) for r in recs]
        picked = [_evtx_time(r.Event) if v is None and r.Event is not None else v for v, r in zip(picked, recs, strict=True)]
        picked = [(_instant(r.timestamp) if type(r.timestamp) is dict else _activity_time(r.id)) if v is None else v
                  for v, r in zip(picked, recs, strict=True)]
        strs = pa.array([v if isinstance(v, str) else None for v in picked], pa.string())
        nums = [float(v) if isinstance(v, int | float) else None for v in picked]
        times = parse_times(strs)
        numeric = pc.fill_null(pc.match_substring_regex(strs, r"^-?\d{9,19}(?:\.\d+)?$"), False)
        if pc.any(numeric).as_py():  # epoch numbers written as strings ("1709287200", "1709287200.5")
            as_num = pc.if_else(numeric, strs, pa.scalar(None, pa.string())).cast(pa.float64()).to_pylist()
            times = pc.coalesce(times, _epoch_ms(as_num))
        if any(v is not None for v in nums):
            times = pc.coalesce(times, _epoch_ms(nums))
        raw_text = pa.array(raws, pa.binary()).cast(pa.string())
        sev = [_severity(r) for r in recs]
        cols = base_columns(
            "base_event",
            kind=self.name,
            product=self.product,
            vendor=self.vendor,
            uids=event_uids(self.name, raws),
            times_ms=times,
            raws=None,
            activity_id=pa.array(np.zeros(len(recs), np.int32)),
            severity_id=pa.array(_OTEL_SEVERITY[sev]) if any(sev) else 0,
        )
        msgs = [_first(r, _MESSAGE_FIELDS) or _inner_message(r.event) or _body_text(r.body) for r in recs]
        hosts = pa.array([_host(r) for r in recs], pa.string())
        cols.update(
            {
                "message": pa.array([m if isinstance(m, str) else None for m in msgs], pa.string()),
                "device.hostname": hosts,
                "unmapped": raw_text,
                "raw_data": raw_text,
            }
        )
        if hosts.null_count < len(hosts):  # device.type_id is required (OCSF 1.8.0): Unknown, where a host is named
            named = pc.is_valid(hosts)
            cols["device.type_id"] = pc.if_else(named, pa.scalar(0, pa.int32()), pa.scalar(None, pa.int32()))
            cols["device.type"] = pc.if_else(named, "Unknown", pa.scalar(None, pa.string()))
        if any(sev):  # OpenTelemetry log records: their SeverityText
            cols["metadata.log_level"] = pa.array([_log_level(r) for r in recs], pa.string())
        zeek: Sequence[int] = range(len(raws))
        if parsed is None or len(parsed) != len(raws):  # (a record the decode refused: the records read again)
            zeek = _zeek_classes.candidates(raws)
            parsed = _zeek_classes.decoded(raws, zeek)
        if zeek:  # Zeek's logs as their OCSF classes; the other records stay Base Events
            rest = _zeek_classes.split(parsed, zeek, cols, times, self.name, out)
            if rest is None:
                return out
            cols, raw_text = rest, rest["raw_data"]
        # the Windows events as their OCSF classes (:mod:`._winrecords`)
        for cls, part in _winrecords.by_class(cols, grouped, kind=self.name, product=self.product, vendor=self.vendor):
            out.batches.append(to_batch(cls, part))
        return out

    def _open_pages(self, typed: Any, out: Decoded) -> tuple[list[Any], list[bytes]]:
        """Map the records of the pages among ``typed``'s records into ``out`` (each page counted
        as the records it holds: :meth:`open_envelopes`); the other records (and a page that is
        none) are given back."""
        pages = [i for i, rec in enumerate(typed.recs) if _is_page(rec)]
        opened = self.open_envelopes([typed.raws[i] for i in pages], [typed.locs[i] for i in pages], out, _page_items)
        shut = {i for i, was in zip(pages, opened, strict=True) if was}
        keep = [i for i in range(len(typed.recs)) if i not in shut]
        return [typed.recs[i] for i in keep], [typed.raws[i] for i in keep]
