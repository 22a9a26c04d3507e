"""Lines a shipper wraps in its own documents, read as the lines they are.

Shippers send each line they read inside a document of their own: an ECS ``message`` (Filebeat,
Elastic Agent, Logstash, Vector), with the whole raw line in ``event.original`` where the shipper
split it (Logstash's ECS inputs); Fluent Bit's ``log``; the OpenTelemetry Collector's
``elasticsearch`` exporter's log body (``body.text``, ``Body``); a journal entry as the ``journald``
input of Filebeat and Elastic Agent ships it; a syslog message the shipper received and parsed
into fields (Elastic's ``syslog`` processor, Vector's ``syslog`` source, Fluent Bit's syslog
parsers), read as the journal entry of its header (:func:`journal_entry`; the RFC 5424 structured data
Elastic's processor parsed kept as the syslog format keeps a line's, ``unmapped.structured_data``). The wire routes (``_bulk``, HEC, Firehose,
``/v1/ingest``) store such a document as the line (or journal entry) it wraps, with the format
that reads it, so an sshd login is Authentication rather than a Base Event holding the line:
:func:`shipped_lines` (documents to auto-detect), :func:`lines_in` (HEC event objects),
:func:`text_lines` (documents bound for a text format), :func:`accept_wrapped` (a body of JSON
records posted to ``/v1/ingest``). Only documents the generic ``json`` format alone recognizes
are looked at; a cheap byte test (:data:`LINE_KEYS`) comes before any decoding. The host the
document names (ECS ``host.name``, Vector's ``host``, the OpenTelemetry resource's ``host.name``)
stays with the line (:class:`~secpipe.server.wire.ShippedLine`): the host of a line whose header
names none, such as an access-log line.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
from collections.abc import Sequence
from typing import Any

import msgspec

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats._context import Context, hint, otel_fields
from secpipe.formats.base import UNREADABLE, DeadLetter, Format, RecordFormat
from secpipe.server.http import AppContext
from secpipe.server.wire import ShippedLine, accept_docs, by_host, detect_many


class _Shipped(msgspec.Struct):
    """The fields a shipper puts a line it read in: ECS ``event.original`` (the raw record:
    Logstash's ECS inputs put the whole line there and only its MSG part in ``message``),
    ``message`` (ECS: Filebeat, Elastic Agent, Logstash; Vector's events), ``log`` (Fluent
    Bit's tail and Docker inputs), and the OpenTelemetry Collector's ``elasticsearch`` exporter's
    log body: ``body.text`` (its ``otel`` mapping mode, the default) or ``Body`` (``none``/``raw``)."""

    event: Any = None
    message: Any = None
    log: Any = None
    body: Any = None
    Body: Any = None
    def text(self) -> Any:
        """The first of those fields present as a string (None when there is none)."""
        if self.event.__class__ is dict and isinstance(self.event.get("original"), str):
            return self.event["original"]
        if isinstance(self.message, str):
            return self.message
        if isinstance(self.log, str):
            return self.log
        if self.body.__class__ is dict and isinstance(self.body.get("text"), str):
            return self.body["text"]
        return self.Body if isinstance(self.Body, str) else None


_SHIPPED = msgspec.json.Decoder(_Shipped)


def _host_name(host: Any) -> Any:
    """A shipper's host name: ECS ``host.hostname`` (what the hostname command returns), else ``host.name`` (which may
    be an FQDN or a name the user gave: OCSF's ``device.name``, :data:`_ECS_HOST_PLACES`) of a host object (Filebeat,
    Elastic Agent); Vector's ``host`` string as it is."""
    return host.get("hostname") or host.get("name") if host.__class__ is dict else host


class _ShipperHost(msgspec.Struct):
    """Where a shipper names the host it read a line on, and the time (decoded only for a
    document whose line a format may read: :func:`_line_and_host`)."""

    host: Any = None
    resource: Any = None
    resource_host: Any = msgspec.field(default=None, name="Resource.host.name")
    at_timestamp: Any = msgspec.field(default=None, name="@timestamp")
    timestamp: Any = None
    date: Any = None

    def name(self) -> Any:
        """The host's name (:func:`_host_name`: ECS ``host.hostname``, else ``host.name``; Vector's ``host``), else the
        OpenTelemetry resource's ``host.name`` (``resource.attributes`` in the Collector's ``elasticsearch``
        exporter's ``otel`` mode, the flat ``Resource.host.name`` in ``none``)."""
        if self.host is not None:
            return _host_name(self.host)
        if self.resource.__class__ is dict:
            return _obj(self.resource.get("attributes")).get("host.name")
        return self.resource_host

    def at(self) -> int | None:
        """The document's time, epoch ms: ECS ``@timestamp`` (Filebeat, Elastic Agent, Logstash,
        Fluent Bit's ``es`` output, the OpenTelemetry Collector's ``elasticsearch`` exporter),
        Vector's ``timestamp``, Fluent Bit's ``date`` (its ``http`` output); None without one."""
        v = self.at_timestamp if self.at_timestamp is not None else self.timestamp if self.timestamp is not None else self.date
        if v.__class__ is str:
            try:
                when = dt.datetime.fromisoformat(v)
            except ValueError:
                return None
            return int(when.timestamp() * 1000) if when.tzinfo is not None else None
        micros = _micros(v)
        return None if micros is None else micros // 1000


_SHIPPER_HOST = msgspec.json.Decoder(_ShipperHost)
#: the keys :func:`lines_in` reads, as they appear in a document (a cheap test before decoding)
LINE_KEYS = (b'"message"', b'"log"', b'"original"', b'"body"', b'"Body"')
#: what a line of a line format can open with (a cheap gate before detection, ~1 us against
#: ~60 us a detection): a syslog PRI, an RFC 3164 or ISO-8601 time stamp, CEF/LEEF, a JSON
#: object, or the client, ident and user of an access-log line before its ``[10/Oct/2000:`` time
_LINE_START = re.compile(r"<\d{1,3}>|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d |\d{4}-\d\d-\d\dT\d\d:\d\d|CEF:|LEEF:|\{"
                         r"|(?:\S+ ){2,4}\[\d\d/[A-Z][a-z]{2}/\d{4}:")


def line_of(doc: bytes) -> str | None:
    """The one line a JSON object wraps as a shipper does (:meth:`_Shipped.text`: ECS
    ``event.original``, else ``message``, ``log``, the OpenTelemetry ``body.text`` or ``Body``)
    without the trailing newline Fluent Bit's Docker input keeps; None when there is none or it
    holds several lines (a stack trace is no record of a line format)."""
    shipped = _shipped(doc)
    return None if shipped is None else _one_line(shipped)


def _shipped(doc: bytes) -> _Shipped | None:
    try:
        return _SHIPPED.decode(doc)
    except UNREADABLE:
        return None


def _one_line(shipped: _Shipped) -> str | None:
    text = shipped.text()
    if text is None:
        return None
    text = text.rstrip("\r\n")
    return text if text and "\n" not in text else None


def _line_and_host(doc: bytes, start: re.Pattern[str] | None = None) -> ShippedLine | None:
    """:func:`line_of` with the host and the time the document names (:meth:`_ShipperHost.name`,
    :meth:`_ShipperHost.at`) and the context hint of the rest of its envelope (:func:`envelope_hint`);
    with ``start``, None for a line that does not match it (its host is not decoded then)."""
    line = line_of(doc)
    if line is None or (start is not None and not start.match(line)):
        return None
    try:
        found = _SHIPPER_HOST.decode(doc)
        context = envelope_hint(doc, strict=True)
    except UNREADABLE:  # a host or context value _Shipped skipped (not UTF-8, not its shape)
        return None
    return ShippedLine(line.encode("utf-8", "surrogatepass"), found.name(), found.at(), context)


#: the most envelopes one call keeps (:func:`_bounded`): the documents of one envelope are decoded together, those
#: of another apart (a shipper's lines of a few files and hosts share a few)
MAX_ENVELOPES = 16


def _bounded(lines: dict[int, bytes]) -> None:
    """Leave out the envelopes' context hints (the lines keep their hosts and times) when the lines name more than
    :data:`MAX_ENVELOPES`: envelopes that differ from line to line (a shipper's field of each line's own) would make
    a body of each line, decoded alone (~50x the CPU)."""
    hints = {getattr(line, "context", None) for line in lines.values()}
    if len(hints - {None}) <= MAX_ENVELOPES:
        return
    for i, line in lines.items():
        if getattr(line, "context", None) is not None:
            lines[i] = ShippedLine(bytes(line), line.host, line.at)  # type: ignore[attr-defined]


#: the keys of a shipper's document that are its line's own, not where the line came from: the line, its times, ids
#: and severity (ECS, Vector, Fluent Bit; the OpenTelemetry log record as POST /v1/logs and the Collector's
#: ``elasticsearch`` exporter write it); of ECS ``log`` and ``event`` only what the lines of one file share is context
_PER_LINE = frozenset({"message", "log", "event", "body", "Body", "@timestamp", "timestamp", "date", "@version", "_id",
                       "observed_timestamp", "severity_number", "severity_text", "trace_id", "span_id", "event_name",
                       "SeverityNumber", "SeverityText", "Timestamp", "ObservedTimestamp", "TraceId", "SpanId"})
_TOP_RAW = msgspec.json.Decoder(dict[str, msgspec.Raw])
_LOG_CONTEXT = ("file",)  # ECS log.file (path, inode, device id), not log.offset or log.level
_EVENT_CONTEXT = ("module", "dataset", "timezone")  # a Filebeat module's fileset, not event.original/created/ingested


def envelope_hint(doc: bytes, *, strict: bool = False, own: frozenset[str] = _PER_LINE,
                  more: dict[str, Any] | None = None) -> str | None:
    """The context hint (:mod:`secpipe.formats._context`) of what a shipper's document says around its line: its other
    keys in ``unmapped`` as the document holds them (Filebeat's ``host``, ``agent``, ``input``, ``ecs``, ``fileset``,
    ``event.module``/``event.dataset``, ``log.file.path``; an OpenTelemetry record's ``attributes``, ``resource`` and
    ``scope``; Fluent Bit's ``kubernetes``), the file it was read from as ``metadata.log_source`` (OCSF: "a file path",
    ECS ``log.file.path``, the OpenTelemetry semantic conventions' ``log.file.path`` attribute, Vector's file source's
    ``file``), the OpenTelemetry resource's host, cloud and container attributes in their places (:func:`otel_fields`)
    and else the document's host (ECS ``host.name``, Vector's ``host``) as ``device.hostname``, ECS's host object's
    ``name`` and ``id`` as ``device.name`` and ``device.uid`` (:data:`_ECS_HOST_PLACES`), the container ECS names
    (Filebeat's ``add_docker_metadata`` / ``add_kubernetes_metadata``: ``container.*``, ``kubernetes.pod.uid``:
    :data:`_ECS_CONTAINER_PLACES`) and Fluent Bit's and Vector's ``kubernetes`` metadata (node, pod uid, container) in ``device``
    (:data:`_KUBE_PLACES`), for a record format's events that name no device (a line format's take their host from
    the line, or the ``;host=`` hint).
    None when there is nothing more. The lines of one file share their envelope, so its hint is made once.
    ``own``: the document's keys that are its line's own (:data:`_PER_LINE`; a journal entry's: :data:`_JOURNALD_OWN`);
    ``more``: what else goes to ``unmapped`` (a parsed syslog message's structured data: :func:`journal_entry`).
    A value that is not UTF-8 (the top-level values are read raw, unchecked) gives no hint, or with ``strict``
    raises UnicodeDecodeError (the document is then no shipped line: dead-lettered, as a host value that is not)."""
    try:  # the top level only: the values as their raw JSON
        d = _TOP_RAW.decode(doc)
        env: dict[str, Any] = {k: v for k, v in d.items() if k not in own}
        for key, keep in (("log", _LOG_CONTEXT), ("event", _EVENT_CONTEXT)):
            if key in d and bytes(d[key])[:1] == b"{":
                part = {k: v for k, v in _TOP_RAW.decode(d[key]).items() if k in keep}
                if part:
                    env[key] = part
    except UNREADABLE:
        return None
    for key, value in (more or {}).items():  # (a key the document holds itself keeps it: this one takes its ECS name)
        env["log.syslog." + key if key in env else key] = value
    if not env:
        return None
    try:
        return envelope_context(msgspec.json.encode(env))
    except UnicodeDecodeError:
        if strict:
            raise
        return None


#: where OCSF places the metadata Fluent Bit's kubernetes filter adds to a container's record (its ``kubernetes``
#: object: the node as ``host``, the pod's uid, the container's name, id and image) and Vector's ``kubernetes_logs``
#: source (``kubernetes.pod_node_name``, ``pod_uid``, ``container_name``, ``container_id``, ``container_image``)
_KUBE_PLACES = {"host": "device.hostname", "pod_node_name": "device.hostname", "pod_id": "device.container.pod_uuid",
                "pod_uid": "device.container.pod_uuid", "container_name": "device.container.name",
                "docker_id": "device.container.uid", "container_id": "device.container.uid",
                "container_image": "device.container.image.name"}  # fmt: skip
#: a container's id as Kubernetes' ContainerStatus writes it (Vector's ``container_id``): ``<runtime>://<id>``
_RUNTIME_ID = re.compile(r"([a-z][a-z0-9+.-]*)://(.+)")


#: where OCSF places ECS ``host`` fields (what Beats' ``add_host_metadata`` and Elastic Agent write): ECS ``host.name``
#: ("name of the host": the hostname, an FQDN or a name the user gave) is the device's ``name`` (OCSF: "the alternate
#: device name, ordinarily as assigned by an administrator") besides its ``hostname``; ``host.id`` ("unique host id",
#: the machine id) its ``uid``
_ECS_HOST_PLACES = {"name": "device.name", "id": "device.uid"}
#: where OCSF places ECS ``container`` fields (Beats' ``add_docker_metadata``, ``add_kubernetes_metadata``) and the pod
#: of ``kubernetes.pod.uid``; ECS ``kubernetes.container.name`` where ``container.name`` is not given
_ECS_CONTAINER_PLACES = {("container", "id"): "device.container.uid", ("container", "name"): "device.container.name",
                         ("container", "runtime"): "device.container.runtime",
                         ("container", "image", "name"): "device.container.image.name",
                         ("kubernetes", "pod", "uid"): "device.container.pod_uuid",
                         ("kubernetes", "container", "name"): "device.container.name"}  # fmt: skip


def _ecs_fields(d: dict[str, Any], fields: dict[str, str]) -> None:
    """The ECS ``host`` and container fields of an envelope ``d`` in ``fields`` where their OCSF place is not filled."""
    host = d.get("host")
    if host.__class__ is dict:
        for key, place in _ECS_HOST_PLACES.items():
            if place not in fields and isinstance(v := host.get(key), str) and v:
                fields[place] = v
    for keys, place in _ECS_CONTAINER_PLACES.items():
        v = d
        for key in keys:
            v = _obj(v).get(key)
        if place not in fields and isinstance(v, str) and v:
            fields[place] = v


@functools.lru_cache(maxsize=256)
def envelope_context(env: bytes) -> str:
    """The context hint of an envelope (JSON of the keys :func:`envelope_hint` keeps), made once per envelope; its
    objects' keys in order (:func:`_in_order`: a Beat writes a document's keys in no set order, and the documents of
    one envelope are one body only if their hints are one)."""
    d = _in_order(msgspec.json.decode(env))
    resource = _obj(_obj(d.get("resource")).get("attributes"))
    fields = otel_fields(resource) if resource else {}
    host = _host_name(d.get("host"))  # the device a record names none of
    if "device.hostname" not in fields and isinstance(host, str) and host:
        fields["device.hostname"] = host
    _ecs_fields(d, fields)
    kube = _obj(d.get("kubernetes"))  # Fluent Bit's kubernetes filter: the node and the container that logged
    for key, place in _KUBE_PLACES.items():
        if place not in fields and isinstance(v := kube.get(key), str) and v:
            if (m := _RUNTIME_ID.fullmatch(v)) is not None and key == "container_id":  # the id, and its runtime
                v = m.group(2)
                fields.setdefault("device.container.runtime", m.group(1))
            fields[place] = v
    path = _obj(_obj(d.get("log")).get("file")).get("path") or _obj(d.get("attributes")).get("log.file.path")
    if path is None and d.get("source_type") in ("file", "kubernetes_logs"):  # Vector's file and kubernetes_logs sources
        path = d.get("file")
    if isinstance(path, str) and path:
        fields["metadata.log_source"] = path
    return hint(Context(fields, d))


def _in_order(v: Any) -> Any:
    """``v`` with the keys of every object in it sorted."""
    if v.__class__ is dict:
        return {k: _in_order(v[k]) for k in sorted(v)}
    return [_in_order(x) for x in v] if v.__class__ is list else v


class _Journald(msgspec.Struct):
    """A journal entry as Filebeat's and Elastic Agent's ``journald`` input ship it (ECS): the
    input's translated fields (``MESSAGE`` -> ``message``, ``SYSLOG_IDENTIFIER``/``SYSLOG_PID``/
    ``PRIORITY``/``SYSLOG_FACILITY`` -> ``syslog.*``, the last two also ``log.syslog.priority`` and
    ``log.syslog.facility.code``, ``_HOSTNAME`` -> ``host.hostname``, ``_COMM``/``_PID`` ->
    ``journald.process.name``/``journald.pid``, ``_SYSTEMD_UNIT`` -> ``systemd.unit``: :data:`_JOURNAL_FIELDS`), the
    entry's time as ``@timestamp``; also a syslog message a shipper received and parsed into fields (:func:`journal_entry`)."""

    at_timestamp: Any = msgspec.field(default=None, name="@timestamp")
    message: Any = None
    journald: Any = None
    syslog: Any = None
    log: Any = None
    host: Any = None
    process: Any = None
    systemd: Any = None
    container: Any = None
    message_id: Any = None
    # Vector's syslog source
    source_type: Any = None
    timestamp: Any = None
    appname: Any = None
    hostname: Any = None
    procid: Any = None
    msgid: Any = None
    severity: Any = None
    facility: Any = None
    # Fluent Bit's syslog-rfc3164/rfc5424 parsers (in_syslog); its http output's time key
    pri: Any = None
    ident: Any = None
    pid: Any = None
    date: Any = None
    # Logstash's syslog input without ECS compatibility (the default before Logstash 8)
    logsource: Any = None
    program: Any = None
    priority: Any = None


_JOURNALD = msgspec.json.Decoder(_Journald)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: the keys that mark a document :func:`journal_entry` reads (a cheap test before decoding)
ENTRY_KEYS = (b'"journald"', b'"appname"', b'"ident"', b'"logsource"')
#: syslog's severity and facility names as Vector's syslog source writes them (RFC 5424 6.2.1 order)
_SEVERITIES = {n: i for i, n in enumerate(("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"))}
_FACILITIES = {n: i for i, n in enumerate((
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp",
    "audit", "alert", "clockd", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"))}


def _obj(v: Any) -> dict[str, Any]:
    return v if v.__class__ is dict else {}


def _micros(at: Any) -> int | None:
    """An RFC 3339 time (with its offset) or epoch seconds as microseconds since the epoch."""
    if isinstance(at, int | float) and not isinstance(at, bool):
        return int(at * 1_000_000) if 0 < at < 1e11 else None
    if not isinstance(at, str):
        return None
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        return None
    return None if when.tzinfo is None else (when - _EPOCH) // dt.timedelta(microseconds=1)


def _header(d: _Journald) -> dict[str, Any] | None:
    """The journal fields of the syslog header a shipper parsed into the document's fields (the
    message's own PRI, host, program, pid, msgid and time), None when ``d`` is no such document:
    Elastic's ``syslog`` processor (Filebeat, Elastic Agent's Custom TCP/UDP Logs): ``log.syslog.*``;
    Vector's ``syslog`` source (``source_type`` syslog): ``appname``, ``hostname``, ``procid``,
    ``msgid``, ``severity``/``facility`` by name, ``timestamp``; Fluent Bit's syslog parsers:
    ``pri``, ``host``, ``ident``, ``pid``, ``msgid``, the time as ``@timestamp`` or ``date``;
    Logstash's ``syslog`` input without ECS compatibility: ``priority``, ``logsource``, ``program``,
    ``pid``, the time parsed into ``@timestamp`` (``host`` is the peer's address)."""
    lsl = _obj(_obj(d.log).get("syslog"))
    if "appname" in lsl or "hostname" in lsl:
        return {
            "SYSLOG_IDENTIFIER": lsl.get("appname"), "SYSLOG_PID": lsl.get("procid"), "MESSAGE_ID": lsl.get("msgid"),
            "PRIORITY": _obj(lsl.get("severity")).get("code"), "SYSLOG_FACILITY": _obj(lsl.get("facility")).get("code"),
            "_HOSTNAME": lsl.get("hostname"), "at": d.at_timestamp,
        }  # fmt: skip
    if d.source_type == "syslog":
        return {
            "SYSLOG_IDENTIFIER": d.appname, "SYSLOG_PID": d.procid, "MESSAGE_ID": d.msgid,
            "PRIORITY": _SEVERITIES.get(d.severity) if isinstance(d.severity, str) else None,
            "SYSLOG_FACILITY": _FACILITIES.get(d.facility) if isinstance(d.facility, str) else None,
            "_HOSTNAME": d.hostname if d.hostname is not None else d.host, "at": d.timestamp,
        }  # fmt: skip
    if isinstance(d.pri, str | int) and str(d.pri).isdigit() and int(d.pri) < 192 and isinstance(d.ident, str):
        pri = int(d.pri)
        return {
            "SYSLOG_IDENTIFIER": d.ident, "SYSLOG_PID": d.pid, "MESSAGE_ID": d.msgid, "PRIORITY": pri % 8,
            "SYSLOG_FACILITY": pri // 8, "_HOSTNAME": d.host,
            "at": d.at_timestamp if d.at_timestamp is not None else d.date,
        }  # fmt: skip
    if isinstance(d.logsource, str) and isinstance(d.program, str):
        prio = d.priority if d.priority.__class__ is int and 0 <= d.priority < 192 else None
        return {
            "SYSLOG_IDENTIFIER": d.program, "SYSLOG_PID": d.pid, "_HOSTNAME": d.logsource, "at": d.at_timestamp,
            "PRIORITY": None if prio is None else prio % 8, "SYSLOG_FACILITY": None if prio is None else prio // 8,
        }  # fmt: skip
    return None


def journal_entry(doc: bytes) -> bytes | None:
    """The ``journalctl -o json`` entry behind a document the ``journald`` input of Filebeat or
    Elastic Agent shipped (:class:`_Journald`, :func:`_journald_fields`), or behind a syslog message a
    shipper received and parsed into fields (:func:`_header`), which the syslog format reads as the
    journal entry it is (its identifier, pid, priority, facility, host and time: an sshd login is
    Authentication); None when ``doc`` is no such document. The message is only the MSG part of a
    syslog line, so it alone is no line a format reads. A journald document's entry is a
    :class:`~secpipe.server.wire.ShippedLine` with the shipper's host, time and context (its
    ``host``, ``agent``, ``input``...: :func:`envelope_hint`), as a line a Beat read from a file is."""
    try:
        d = _JOURNALD.decode(doc)
    except UNREADABLE:
        return None
    if not isinstance(d.message, str):
        return None
    if d.journald.__class__ is not dict:
        head = _header(d)
        if head is None:
            return None
        at = _micros(head.pop("at"))
        fields = {"MESSAGE": d.message, **head, "__REALTIME_TIMESTAMP": at}
        try:  # what the shipper says beside the header it parsed (Vector's structured data and source_ip, tags...)
            context = envelope_hint(doc, strict=True, own=_HEADER_OWN, more=_structured_data(d))
        except UNREADABLE:
            return None
    else:
        try:
            fields = _journald_fields(d)
            context = envelope_hint(doc, strict=True, own=_JOURNALD_OWN)
        except UNREADABLE:  # a value _Journald skipped that is not UTF-8
            return None
        micros = fields["__REALTIME_TIMESTAMP"]
        # keys sorted: the entry (and so its metadata.uid) is the same whatever order the shipper wrote its keys in
        entry = msgspec.json.encode({k: v for k, v in fields.items() if v is not None}, order="sorted")
        return ShippedLine(entry, _host_name(d.host),
                           None if micros is None else int(micros) // 1000, context)  # fmt: skip
    entry = msgspec.json.encode({k: str(v) for k, v in fields.items() if isinstance(v, str | int) and not isinstance(v, bool)})
    return entry if context is None else ShippedLine(entry, None, None, context)


def _structured_data(d: _Journald) -> dict[str, Any] | None:
    """The RFC 5424 STRUCTURED-DATA Elastic's ``syslog`` processor parsed (``log.syslog.structured_data``:
    ``{SD-ID: {PARAM-NAME: value}}``) as the syslog format keeps a line's: ``unmapped.structured_data``, the same
    object (the journal entry the message becomes has no field for it, and ``log`` is the line's own: the
    document's other keys are its context). None when the document holds no such object."""
    sd = _obj(_obj(_obj(d.log).get("syslog")).get("structured_data"))
    return {"structured_data": sd} if sd else None


#: the keys of a syslog message a shipper parsed into fields that are its header's (:func:`_header`: Elastic's
#: ``log.syslog``, Vector's, Fluent Bit's and Logstash's names, Logstash's labels of its priority), not the shipper's:
#: the rest (Vector's ``source_ip`` and structured data parameters, ``tags``, ``type``...) is the context of its line
_HEADER_OWN = _PER_LINE | {"appname", "hostname", "procid", "msgid", "severity", "facility", "source_type", "host", "pri",
                           "ident", "pid", "logsource", "program", "priority", "facility_label", "severity_label"}  # fmt: skip
#: the keys of a document of the ``journald`` input that are its entry's own (the input's translation of the
#: journal fields: :data:`_JOURNAL_FIELDS`), not the shipper's: the rest (``host``, ``agent``, ``input``, ``ecs``,
#: ``data_stream``, ``tags``) is the context of its line, as a Beat's document around a line read from a file
_JOURNALD_OWN = _PER_LINE | {"journald", "systemd", "syslog", "process", "user", "container", "message_id"}
#: the journal fields (systemd.journal-fields(7)) behind the ``journald`` input's ECS fields, elastic/beats
#: ``filebeat/input/journald/pkg/journalfield/default.go`` read backwards: journal field -> the document's paths, the
#: first present taken (Elastic's journald integration documents ``log.syslog.identifier``/``pid`` too)
_JOURNAL_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    name: tuple(tuple(path.split(".")) for path in paths.split()) for name, paths in (
        ("SYSLOG_IDENTIFIER", "syslog.identifier log.syslog.identifier"), ("SYSLOG_PID", "syslog.pid log.syslog.pid"),
        ("PRIORITY", "syslog.priority log.syslog.priority"),
        ("SYSLOG_FACILITY", "syslog.facility log.syslog.facility.code"), ("MESSAGE_ID", "message_id"),
        ("_PID", "journald.pid process.pid"), ("_UID", "journald.uid"), ("_GID", "journald.gid"),
        ("_COMM", "journald.process.name"), ("_EXE", "journald.process.executable"),
        ("_CMDLINE", "journald.process.command_line"), ("_CAP_EFFECTIVE", "journald.process.capabilities"),
        ("_AUDIT_LOGINUID", "journald.audit.login_uid"), ("_AUDIT_SESSION", "journald.audit.session"),
        ("_BOOT_ID", "journald.host.boot_id"), ("_HOSTNAME", "host.hostname host.name"),
        ("_SYSTEMD_UNIT", "systemd.unit"), ("_SYSTEMD_USER_UNIT", "systemd.user_unit"), ("_SYSTEMD_SLICE", "systemd.slice"),
        ("_SYSTEMD_USER_SLICE", "systemd.user_slice"), ("_SYSTEMD_CGROUP", "systemd.cgroup"),
        ("_SYSTEMD_SESSION", "systemd.session"), ("_SYSTEMD_OWNER_UID", "systemd.owner_uid"),
        ("_SYSTEMD_INVOCATION_ID", "systemd.invocation_id"), ("_TRANSPORT", "systemd.transport"), ("UNIT", "journald.unit"),
        ("CODE_FILE", "journald.code.file"), ("CODE_FUNC", "journald.code.func"), ("CODE_LINE", "journald.code.line"),
        ("COREDUMP_UNIT", "journald.coredump.unit"), ("COREDUMP_USER_UNIT", "journald.coredump.user_unit"),
        ("_KERNEL_DEVICE", "journald.kernel.device"), ("_KERNEL_SUBSYSTEM", "journald.kernel.subsystem"),
        ("_UDEV_SYSNAME", "journald.kernel.device_name"), ("_UDEV_DEVNODE", "journald.kernel.device_node_path"),
        ("_UDEV_DEVLINK", "journald.kernel.device_symlinks"), ("OBJECT_PID", "journald.object.pid"),
        ("OBJECT_UID", "journald.object.uid"), ("OBJECT_GID", "journald.object.gid"),
        ("OBJECT_COMM", "journald.object.process.name"), ("OBJECT_EXE", "journald.object.process.executable"),
        ("OBJECT_CMDLINE", "journald.object.process.command_line"),
        ("OBJECT_AUDIT_LOGINUID", "journald.object.audit.login_uid"), ("OBJECT_AUDIT_SESSION", "journald.object.audit.session"),
        ("OBJECT_SYSTEMD_UNIT", "journald.object.systemd.unit"), ("OBJECT_SYSTEMD_USER_UNIT", "journald.object.systemd.user_unit"),
        ("OBJECT_SYSTEMD_SESSION", "journald.object.systemd.session"),
        ("OBJECT_SYSTEMD_OWNER_UID", "journald.object.systemd.owner_uid"), ("CONTAINER_ID", "container.id_truncated"),
        ("CONTAINER_ID_FULL", "container.id"), ("CONTAINER_NAME", "container.name"), ("CONTAINER_TAG", "container.log.tag"),
        ("CONTAINER_PARTIAL_MESSAGE", "container.partial"), ("IMAGE_NAME", "container.image.name"),
    )
}  # fmt: skip
#: the trusted journal fields (systemd.journal-fields(7)) the input has no name for: it puts them in ``journald.custom``
#: as every field it does not know, its leading underscores cut and lower-cased; the others are user fields
_TRUSTED = frozenset({"SELINUX_CONTEXT", "STREAM_ID", "LINE_BREAK", "NAMESPACE", "RUNTIME_SCOPE", "SOURCE_BOOTTIME_TIMESTAMP",
                      "AUDIT_TYPE", "AUDIT_TYPE_NAME", "AUDIT_ID", "FSUID"})  # fmt: skip


def _trie(paths: list[tuple[tuple[str, ...], str]]) -> dict[str, Any]:
    """Paths -> names as nested dicts (a name at each path's end)."""
    out: dict[str, Any] = {}
    for path, name in paths:
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = name
    return out


#: :data:`_JOURNAL_FIELDS` as one trie of the document's paths: a field's name at its first path, the name with
#: a ``+`` before it at the others (taken where the first is not in the document)
_PATHS = _trie([(path, name if i == 0 else "+" + name) for name, paths in _JOURNAL_FIELDS.items()
                for i, path in enumerate(paths)])  # fmt: skip


def _collect(trie: dict[str, Any], obj: dict[str, Any], fields: dict[str, Any], then: dict[str, Any]) -> None:
    """The values of ``obj`` at the paths of ``trie`` into ``fields`` by their names (a field's other paths'
    into ``then``): a walk of the document's own keys (a few a document)."""
    for key, v in obj.items():
        node = trie.get(key)
        if node is None:
            continue
        if node.__class__ is dict:
            if v.__class__ is dict:
                _collect(node, v, fields, then)
        elif (v := v if v.__class__ is str else _journal_value(v)) is not None:
            if node[0] == "+":
                then[node[1:]] = v
            else:
                fields[node] = v


def _journald_fields(d: _Journald) -> dict[str, Any]:
    """A ``journald`` input's document as the journal entry it was: each field :data:`_JOURNAL_FIELDS`
    names, the ``journald.custom`` ones by their journal names, the message and the time (``@timestamp``,
    the entry's realtime stamp)."""
    doc = {"journald": d.journald, "systemd": d.systemd, "syslog": d.syslog, "log": d.log, "process": d.process,
           "host": d.host, "container": d.container, "message_id": d.message_id}  # fmt: skip
    fields: dict[str, Any] = {"MESSAGE": d.message}
    then: dict[str, Any] = {}
    _collect(_PATHS, doc, fields, then)
    for name, v in then.items():
        fields.setdefault(name, v)
    for key, v in _obj(d.journald.get("custom")).items():
        name = key.upper()
        name = "_" + name if name in _TRUSTED or name.startswith("AUDIT_FIELD_") else name
        if name not in fields and (v := _journal_value(v)) is not None:
            fields[name] = v
    at = _micros(d.at_timestamp) if isinstance(d.at_timestamp, str) else None
    fields["__REALTIME_TIMESTAMP"] = None if at is None else str(at)
    return fields


def _journal_value(v: Any) -> str | list[str] | None:
    """A journal field's value as ``journalctl -o json`` writes it: text (a number as its digits), a
    field given more than once as the list of its values; None for anything else."""
    if isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return v
    return None


def lines_in(docs: Sequence[bytes]) -> list[tuple[str, bytes] | None]:
    """For JSON objects only the generic ``json`` format recognizes: (format name, line) when
    the line the object wraps (:func:`line_of`) is one a specific format reads, else None. A JSON
    line the generic format claims (:meth:`~secpipe.formats.generic_json.GenericJSON.claim`: a Zeek
    log's record, which Filebeat's filestream input or the Collector's filelog receiver ships as
    its message) is ``json``'s: such a line is mapped as a file of them is (Zeek's to its classes).

    A shipper wraps each line it reads in its own document (ECS ``message``: Filebeat,
    Logstash, Elastic Agent, Vector, with the whole raw line in ``event.original`` where the
    shipper split it; ``log``: Fluent Bit; ``body.text``/``Body``: the OpenTelemetry
    Collector's ``elasticsearch`` exporter), in a ``_bulk`` item or a HEC event
    object: the line is stored with that format (an sshd line is Authentication, not a Base
    Event holding it), as HEC stores an event's text; the host the document names comes with
    it (:class:`~secpipe.server.wire.ShippedLine`: the device of a line that names none), the
    shipper's other fields (file path, agent, module and dataset) as its context (:func:`envelope_hint`). A multi-line message (a stack trace) is no record of a line format.
    A journal entry the ``journald`` input of Filebeat or Elastic Agent shipped is that entry
    (:func:`journal_entry`), which the syslog format reads.
    """
    out: list[tuple[str, bytes] | None] = [None] * len(docs)
    lines: dict[int, bytes] = {}
    entries = _fast.contains_any(b"".join(docs), ENTRY_KEYS)  # one C pass, not one a document
    for i, doc in enumerate(docs):
        entry = journal_entry(doc) if entries and any(k in doc for k in ENTRY_KEYS) else None
        if entry is not None:
            lines[i] = entry
            continue
        found = _line_and_host(doc, _LINE_START)
        if found is not None:
            lines[i] = found
    if lines:
        idx = list(lines)
        _bounded(lines)
        for i, fmt in zip(idx, _detect_lines([lines[i] for i in idx]), strict=True):
            if fmt is not None:  # (``json`` only for a record it claims: a Zeek, Okta, Office 365 log line)
                out[i] = (fmt.name, lines[i])
    return out


#: a line's shape for :func:`_detect_lines`: the class of its first byte (A upper-case letter, a
#: lower-case, 0 digit) and its punctuation and spaces without the letters and digits between them
#: (``May  5 10:57:32 web-12 sshd[88]:`` -> ``A  :: - []:``): host names, pids and numbers of any
#: length alike; one ``translate`` (a run-collapsing regex was ~8 us a line)
_SHAPE = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", b"A" * 26 + b"a" * 26 + b"0" * 10)
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: how much of a line its shape covers: a syslog header (PRI, time, host, tag), an access line's
#: client, user, time and request, an auditd record's type and stamp
_SHAPE_BYTES = 96


def _detect_lines(lines: list[bytes]) -> list[Format | None]:
    """The format of each shipped line (no catch-all), detected once per line shape.

    Detecting a line runs every format's sniffer (~60-70 us); a shipper's lines of one file share
    their header's layout, which is what the line formats' sniffers read, so lines whose first
    :data:`_SHAPE_BYTES` bytes have the same shape (:data:`_SHAPE`) share the format detected on
    the first of them. JSON objects go by their keys
    (:func:`detect_many`)."""
    out: list[Format | None] = [None] * len(lines)
    objs = [n for n, line in enumerate(lines) if line[:1] == b"{"]
    for n, fmt in zip(objs, detect_many([lines[n] for n in objs], catch_all=False), strict=True):
        out[n] = fmt
    by_shape: dict[bytes, Format | None] = {}
    for n, line in enumerate(lines):
        if line[:1] == b"{":
            continue
        key = line[:1].translate(_SHAPE) + line[:_SHAPE_BYTES].translate(None, _ALNUM)
        if key not in by_shape:
            by_shape[key] = formats.detect(line[: 64 * 1024], catch_all=False)
        out[n] = by_shape[key]
    return out


def shipped_lines(names: list[str | None], docs: list[bytes]) -> tuple[list[str | None], list[bytes]]:
    """The documents to auto-detect (``names`` None) that are a shipper's wrapping of one line
    a specific format reads -> that line, with that format's name (:func:`lines_in`).

    Filebeat, Logstash and Vector ship each line they read as the ``message`` of an ECS
    document, Fluent Bit as its ``log``; Elasticsearch parses it only in an ingest pipeline
    (the Filebeat modules'). Such a document is detected as generic ``json`` (its own keys
    are the shipper's), so an sshd line of ``/var/log/auth.log`` would stay a Base Event. The
    other names come back resolved (``json`` for the generic ones) so they are not detected again.
    The OpenTelemetry Collector's ``elasticsearch`` exporter's ``otel`` documents are read by
    what they wrap only (:func:`_otel_records`): a map body by the format that reads it, a text
    body's line as above, else the document is generic.
    """
    auto = [i for i, n in enumerate(names) if n is None]
    joined = b"".join([docs[i] for i in auto]) if auto else b""
    if not auto or not _fast.contains_any(joined, LINE_KEYS):  # one pass, ~0.2 us a doc
        return names, docs
    cand = [i for i in auto if any(k in docs[i] for k in LINE_KEYS)]
    names, docs = list(names), list(docs)
    generic: list[int] = []
    otel = _otel_records(docs, cand) if _fast.contains_any(joined, _OTEL_BODY) else {}
    if otel:  # never detected whole: what they wrap is
        cand = [i for i in cand if i not in otel]
        maps = {i: rec for i, rec in otel.items() if rec is not None}
        for (i, rec), fmt in zip(maps.items(), detect_many(list(maps.values()), catch_all=False), strict=True):
            if fmt is not None:  # the record (with its resource's context: _otel_records)
                names[i], docs[i] = fmt.name, rec
        generic += [i for i in otel if names[i] is None]
        for i in generic:
            names[i] = "json"
    for i, fmt in zip(cand, detect_many([docs[i] for i in cand]), strict=True):
        if fmt is not None:  # None: left to accept_docs, which dead-letters it
            names[i] = fmt.name
            if fmt.name == "json":
                generic.append(i)
    for i, found in zip(generic, lines_in([docs[i] for i in generic]), strict=True):
        if found is not None:
            names[i], docs[i] = found
    return names, docs


#: how the OpenTelemetry Collector's ``elasticsearch`` exporter (``otel`` mapping mode) opens a
#: log record's body (a cheap test before decoding)
_OTEL_BODY = (b'"body":{', b'"body": {')


class _OtelDoc(msgspec.Struct):
    """The ``elasticsearch`` exporter's document of a log record in its ``otel`` mapping mode:
    ``body`` ``{"text": ...}`` or ``{"structured": ...}`` beside ``resource``, ``scope``,
    ``attributes``, ``severity_number``."""

    body: Any = None
    resource: Any = None
    scope: Any = None
    severity_number: Any = None


_OTEL_DOC = msgspec.json.Decoder(_OtelDoc)


def _otel_records(docs: list[bytes], idx: list[int]) -> dict[int, bytes | None]:
    """Of the documents ``idx``, those that are the ``elasticsearch`` exporter's ``otel`` documents:
    the record a structured (map) body holds (JSON, for detection; a :class:`ShippedLine` with the
    context hint of its envelope, :func:`envelope_hint`: its resource, attributes and scope),
    None for a text body (its line is looked for as a shipper's). Such a document is never
    detected whole: a format's sniffer would take its attributes' keys (a ``rule`` and a
    ``priority``: Falco's) or its body's (a CloudTrail record's, which ``json_parser`` made the
    body) for its own record's."""
    out: dict[int, bytes | None] = {}
    for i in idx:
        if not any(k in docs[i] for k in _OTEL_BODY):
            continue
        try:
            d = _OTEL_DOC.decode(docs[i])
        except UNREADABLE:
            continue
        body = d.body
        if body.__class__ is not dict or len(body) != 1 or (d.resource is None and d.scope is None
                                                            and d.severity_number is None):  # fmt: skip
            continue
        if body.get("structured").__class__ is dict:
            rec = msgspec.json.encode(body["structured"])
            found = envelope_hint(docs[i])  # its resource, attributes and scope
            out[i] = rec if found is None else ShippedLine(rec, None, None, found)
        elif isinstance(body.get("text"), str):
            out[i] = None
    return out


def shipped_bodies(docs: list[bytes], source: str) -> tuple[list[tuple[Format, str, bytes]], list[int]]:
    """A file's shipper documents (``secpipe ingest --format auto`` and the file source: a
    Filebeat or Logstash output file, a Vector file sink's JSON) read as the wire routes read
    them (:func:`shipped_lines`): (format, source, body) per format and host, the body the
    records or lines of that format one a line, the source with ``;host=`` where the documents
    name a host (:func:`~secpipe.server.wire.by_host`); and the indexes of the documents no
    specific format reads (a file's catch-all ``json`` is no format: they are dead-lettered)."""
    names, found = shipped_lines([None] * len(docs), docs)
    # a document stored whole as generic json is no format's; a record or line json claims, taken out of one, is
    whole = [name is None or name == "json" and found[i] is docs[i] for i, name in enumerate(names)]
    rest = [i for i, w in enumerate(whole) if w]
    return grouped([None if w else name for name, w in zip(names, whole, strict=True)], found, source,
                   contexts=True), rest


def grouped(names: Sequence[str | None], docs: Sequence[bytes], source: str, *,
            contexts: bool = False) -> list[tuple[Format, str, bytes]]:  # fmt: skip
    """The documents with a format name (None: left out) as (format, source, body) per format and
    host: the body the documents one a line, the source with ``;host=`` where they name a host
    (:func:`~secpipe.server.wire.by_host`), and per context hint with ``contexts``."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name is not None:
            groups.setdefault(name, []).append(i)
    bodies: list[tuple[Format, str, bytes]] = []
    for name, idx in groups.items():
        fmt = formats.get(name)
        for src, part in by_host(fmt, source, docs, idx, contexts=contexts):
            bodies.append((fmt, src, b"\n".join([docs[i] for i in part])))
    return bodies


#: the formats that read text lines, not JSON objects (a HEC sourcetype such as ``linux_secure``,
#: an ``index_formats`` entry)
TEXT_FORMATS = frozenset({"syslog"})


def text_lines(docs: list[bytes], names: str | Sequence[str | None], whole: bytes | None = None) -> list[bytes]:
    """Documents bound for a format (by a HEC sourcetype or an index's configured format) sent
    as a shipper's object wrapping the record, as that record, which is what the format reads:
    for a text format the line (:func:`line_of`: Fluent Bit's ``{"log": line}``, an ECS
    ``message``) or the journal entry (:func:`journal_entry`); for a JSON record format the
    JSON text the object wraps (Elastic Agent's AWS inputs put each CloudTrail record in
    ``message``) when the format recognizes it and not the object itself. Others unchanged.
    ``names``: each document's format, or one format for all of them; ``whole``: bytes holding
    every document (the request body), scanned instead of joining them."""
    if isinstance(names, str):  # one format for all (a mapped index): C scans, no loop over the documents
        if names not in formats.REGISTRY:
            return docs
        hits = _holding(docs, LINE_KEYS if names in TEXT_FORMATS else _JSON_TEXT, whole)
        if not hits:
            return docs
        docs = list(docs)
        for n in hits:
            if docs[n][:1] == b"{":
                docs[n] = _unwrapped(docs[n], names)
        return docs
    objs = [n for n, name in enumerate(names) if name in formats.REGISTRY and docs[n][:1] == b"{"]
    if not objs or not _fast.contains_any(b"".join([docs[n] for n in objs]), LINE_KEYS):
        return docs
    docs = list(docs)
    for n in objs:
        keys = LINE_KEYS if names[n] in TEXT_FORMATS else _JSON_TEXT
        if any(k in docs[n] for k in keys):  # no document decoded that holds none of them
            docs[n] = _unwrapped(docs[n], str(names[n]))
    return docs


def _holding(docs: Sequence[bytes], keys: tuple[bytes, ...], whole: bytes | None = None) -> list[int]:
    """The indexes of the documents holding any of ``keys``, found by searching them joined
    (a C search from one hit to the next document; no Python step per document without one);
    ``whole`` (bytes holding them all) is scanned first, so a batch without any costs no join."""
    if whole is not None and not _fast.contains_any(whole, keys):
        return []
    joined = b"".join(docs)
    if whole is None and not _fast.contains_any(joined, keys):
        return []
    ends = list(itertools.accumulate(map(len, docs)))
    found: set[int] = set()
    for key in keys:
        at = joined.find(key)
        while at != -1:
            n = bisect.bisect_right(ends, at)
            found.add(n)
            at = joined.find(key, ends[n])
    return sorted(found)


#: a shipper's field holding a JSON record as text (``"message":"{\"...``): what a document
#: wrapping a JSON record holds (compact, or with a space as Python's json writes it)
_JSON_TEXT = tuple(k + sep + b'"{\\"' for k in (b'"message"', b'"original"', b'"log"') for sep in (b":", b": "))


def _unwrapped(doc: bytes, name: str) -> bytes:
    """:func:`text_lines` of one document bound for format ``name``."""
    if name in TEXT_FORMATS:
        entry = journal_entry(doc) if any(k in doc for k in ENTRY_KEYS) else None
        if entry is not None:
            return entry
        found = _line_and_host(doc)
        return doc if found is None else found
    fmt = formats.get(name)
    line = line_of(doc) if isinstance(fmt, RecordFormat) else None
    if line is None or line[:1] != "{":
        return doc
    # the wrapped record, when the format knows it at least as surely as the document around it; with the
    # document's host, time and context (:func:`_line_and_host`), as a line a format is detected for has them
    wrapped = line.encode("utf-8", "surrogatepass")
    inner = fmt.sniff(wrapped[: 64 * 1024])
    if not (inner > 0 and inner >= fmt.sniff(doc[: 64 * 1024])):
        return doc
    found = _line_and_host(doc)
    return wrapped if found is None else found


_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


def json_objects(body: bytes) -> tuple[list[bytes], Sequence[int]] | None:
    """The JSON objects of a body that is an array of objects or objects one a line (what the
    HTTP outputs of shippers post: Fluent Bit's ``http`` output in its ``json`` and ``json_lines``
    formats, Vector's ``http`` sink), with the line of each (1 the first; an array's: the item's
    number); None for any other body (a pretty-printed object too). A few of the lines or items
    may be no object (a line cut short, a stray text line, a number): they come back with the
    others, for the caller to dead-letter alone; a body most of whose lines or items are no
    object is none."""
    text = body.strip()
    numbers: Sequence[int]
    if text[:1] == b"[":
        try:
            parts = [bytes(p) for p in _RAW_LIST.decode(text)]
        except UNREADABLE:
            return None
        numbers = range(1, len(parts) + 1)
    else:
        lines = [ln.strip() for ln in body.split(b"\n")]
        parts = [ln for ln in lines if ln]
        if len(parts) == len(lines) or len(parts) == len(lines) - 1 and not lines[-1]:  # no blank line but the last
            numbers = range(1, len(parts) + 1)
        else:
            numbers = [n for n, ln in enumerate(lines, 1) if ln]
    if 2 * sum(p[:1] == b"{" for p in parts) <= len(parts):
        return None
    return parts, numbers


def _not_json(doc: bytes) -> str | None:
    """Why a document is no JSON object (msgspec's message), None when it is one."""
    try:
        if not isinstance(msgspec.json.decode(doc), dict):
            return "not a JSON object"
    except UNREADABLE as exc:
        return f"invalid JSON: {exc}"
    return None


#: why ``/v1/ingest/auto`` refuses a record no specific format reads (as file auto-detection does)
NO_FORMAT = "unrecognized input: no format matched"


def accept_wrapped(ctx: AppContext, source: str, name: str, body: bytes) -> tuple[int, list[str | None]] | None:
    """A body of JSON records (:func:`json_objects`) sent to ``/v1/ingest/auto`` or to a text
    format's route, read as the wire routes read documents: a record that wraps one read line
    (Fluent Bit's ``{"date": ..., "log": line}``, an ECS ``message``: :func:`shipped_lines`,
    :func:`text_lines`) is that line with the format that reads it. Returns the records and, per
    record, None (stored) or why it was dead-lettered; None when the body is no such body, or
    (``auto``) when a specific format reads it whole or no record wraps a line: the caller then
    reads it as a file. Blocking (decode + WAL fsync).

    Records that wrap a JSON record as text (``{"log": "<a Kubernetes audit event>"}``) are read
    as those records, on ``auto`` and on a record format's route alike."""
    holds_json = _fast.contains_any(body, _JSON_TEXT)
    if name != "auto" and name not in TEXT_FORMATS and not (holds_json and name in formats.REGISTRY):
        return None
    found_docs = json_objects(body)
    if found_docs is None:
        return None
    docs, numbers = found_docs
    if name != "auto":
        lines = text_lines(docs, name)
        if all(a is b for a, b in zip(lines, docs, strict=True)):
            return None
        return len(docs), accept_docs(ctx, source, name, lines)
    if formats.detect(body[: 64 * 1024]) is not None:
        return None
    names, found = shipped_lines([None] * len(docs), docs)
    take = [i for i, n in enumerate(names) if n not in (None, "json")]
    if not take:
        return None
    reasons: list[str | None] = [NO_FORMAT] * len(docs)
    for i, why in zip(take, accept_docs(ctx, source, [names[i] for i in take], [found[i] for i in take]), strict=True):
        reasons[i] = why
    refused = []
    where = "item" if body.lstrip()[:1] == b"[" else "line"
    for i, why in enumerate(reasons):
        if why == NO_FORMAT:  # a record no format reads; one that is no JSON object said so, and where
            unread = _not_json(docs[i])
            if unread is not None:
                reasons[i] = why = f"{where} {numbers[i]}: {unread}"
            refused.append(DeadLetter(why, source, i, docs[i], name))
    if refused:
        ctx.service.dead_letter(refused)
    return len(docs), reasons
