"""Falco alerts: ``json_output`` lines (NDJSON file/stdout output) and the ``http_output`` payload.

Each alert -> Detection Finding (2004), activity Create, status New. Record framing: one alert
object (http_output POSTs one per request), a JSON array, or NDJSON lines; records from many
documents are mapped together in one columnar pass (:class:`RecordFormat`).

Shape (falcosecurity/falco ``userspace/engine/formats.cpp``): ``time``, ``rule``, ``priority``,
``source`` and ``hostname`` are always written; ``output`` (``json_include_output_property``),
``tags`` (``json_include_tags_property``), ``message`` (``json_include_message_property``: the
output without the time/priority prefix) and ``output_fields``
(``json_include_output_fields_property``) are each optional. Falcosidekick forwards the same
object plus ``uuid`` (and its custom fields inside ``output_fields``); its CloudEvents output
in structured mode wraps that object as ``data`` of an envelope (``specversion``, ``id``,
``source``, ``type`` ``falco.rule.output.v1``): the alert is taken from ``data`` (the envelope
attributes describe the transport, not the alert).

Mapping: ``rule`` -> ``finding_info.title`` and ``finding_info.analytic`` (name, type Rule);
``priority`` -> ``severity_id`` (Emergency Fatal, Alert/Critical Critical, Error High, Warning
Medium, Notice Low, Informational/Debug Informational); ``output`` (or ``message`` when the
output property is switched off) -> ``message`` and ``finding_info.desc``; ``tags`` (empty ones
dropped) -> ``finding_info.types``, its ATT&CK ones (``T1059``, ``T1552.001``, ``mitre_execution``) also
-> ``attacks`` and ``finding_info.attacks`` (technique, sub-technique, tactic; as Sigma findings have
them); ``time`` -> ``time``; ``uuid`` -> ``finding_info.uid`` and
``metadata.original_event_uid`` (the event uid otherwise); ``source`` (syscall, k8s_audit,
aws_cloudtrail ...) -> ``metadata.log_source`` and ``finding_info.analytic.category``;
``hostname`` -> ``device.hostname``. From ``output_fields``:
``container.id/name/image.repository/image.tag/image.id`` -> ``evidences[0].container`` (uid, name,
image name/tag/uid: Detection Finding does not take the ``container`` profile that tags
``device.container``, and Evidence Artifacts' ``container`` is untagged),
``k8s.ns.name``/``k8s.pod.name``/``k8s.pod.uid`` -> ``resources[0]`` (type ``pod``, only when
the alert has Kubernetes context); ``proc.name/cmdline/pid/exepath`` (``path``), ``proc.pname``/``ppid``
(``ancestry[0]``, the direct parent: ``parent_process`` would need the pid Falco's outputs rarely
print, OCSF's process asks for a pid or uid) and ``user.name``/``uid`` -> ``evidences[0].process``. Plugin sources: the k8saudit target (``ka.target.resource``/``name``/
``namespace``) -> ``resources[0]`` when there is no pod context; the acting user
(``ka.user.name``, ``ct.user``, ``okta.actor.name``, ``github.user``, ``gcp.user``) ->
``evidences[0].actor.user.name`` (``gcp.user``, the caller's principal email, also ``email_addr``); the caller
address (``ct.srcip``, ``okta.client.ip``, ``gcp.callerIP``, or a syscall connection's ``fd.cip``, port
``fd.cport``) -> ``evidences[0].src_endpoint`` (``fd.sip``/``fd.sport`` -> ``dst_endpoint``); where those are not
printed, a socket's ``fd.name`` (its connection tuple ``cip:cport->sip:sport``, as libsinsp's
``ipv4tuple_to_string``/``ipv6tuple_to_string`` write it, IPv6 unbracketed; what Falco's stock network rules print
as ``connection=%fd.name``) gives both ends (a port resolved to a service name is none); a file's ``fd.name``
(an absolute path, what the stock file rules print as ``file=%fd.name``) -> ``evidences[0].file`` (path, name,
``type_id`` from ``fd.type``: file Regular File, directory Folder, unix Local Socket, pipe Named Pipe, else
Unknown); the call
(``ka.verb``, ``ct.name``, ``gcp.methodName``) -> ``evidences[0].api.operation``, its service (``gcp.serviceName``,
CloudTrail's ``ct.src``) -> ``api.service.name`` (no ``api`` object for an alert without a call: OCSF requires
``operation``); the caller's user agent (``ct.useragent``, ``okta.useragent.raw``, ``gcp.userAgent``) ->
``evidences[0].http_request.user_agent`` (also ``ka.useragent``); the k8saudit request URI (``ka.uri``) ->
``http_request.url.path`` and ``query_string``, its ``ka.response.code`` -> ``evidences[0].http_response.code``.
Field names are the plugins' (falcosecurity/plugins
``plugins/{cloudtrail,okta,gcpaudit}`` README field tables).
The whole ``output_fields`` object is kept verbatim as JSON in ``evidences[0].data``. Other
top-level keys stay in ``unmapped``.

Falco's ``syslog_output`` with ``json_output`` writes each alert as a syslog message whose text
is the JSON alert; a file of such lines (``<5>2024-08-07T13:49:16Z host Falco[1]: {...}``, the
RFC 3164 ``Aug  7 13:49:16 host falco: {...}`` form, RFC 5424 ``... falco 1 - - {...}``) is read
by blanking each line's syslog header (up to the ``falco`` tag, replaced by spaces, so every
offset stays where it was): the alert carries its own time, host and priority, and the header
is transport metadata. Likewise a node's container log file of the Falco pod (Kubernetes' CRI logging
format: ``2024-05-07T18:54:19.341081180Z stdout F {...}`` a line) is read with the runtime's header of
each line blanked (:mod:`._cri`).

Falco's metrics snapshots (``metrics.output_rule: true``: the rule ``Falco internal: metrics
snapshot``, source ``internal``, written through the same outputs as the alerts) are Falco's own
health counters, not detections: each is a Base Event (activity Unknown) with its host, time,
``falco.version`` as ``metadata.product.version``, and the counters (``output_fields``: event
drops, memory, rule match counts) kept whole in ``unmapped``, where a query of sensor health
finds them (``scap.n_drops`` above 0: syscalls Falco never evaluated).

An object without a ``rule`` string, or with neither ``priority`` nor ``output``, is not a
Falco alert and is dead-lettered. Falco's own log lines (``falco_logger`` on stderr: ``Mon Feb 10
09:15:35 2025: Loaded event sources: syscall, k8s_audit``, or the ISO 8601 time to the second)
are no alerts: in a captured ``kubectl logs`` of a Falco pod they come between the JSON alerts,
and are left out (neither stored nor dead-lettered, and not counted as events), as OPA's
runtime log lines are.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _cri
from secpipe.formats._findings import (
    CheckedTopFormat,
    S,
    TopLevel,
    nest,
    only_where,
    severity_ids,
    severity_list,
    singleton_list,
    str_lists,
    strs,
)
from secpipe.formats.base import (
    SMALL_ROWS,
    Decoded,
    Records,
    Typed,
    base_columns,
    event_uids,
    int32_or_none,
    parse_times,
    small_base_columns,
    string_column,
    to_batch,
)
from secpipe.schema.attack import ATTACKS, attack_tags, attacks_of
from secpipe.schema.ocsf import assemble, keep, object_rows

#: the ``output_fields`` the mapping reads (values of any JSON type, as Falco writes them);
#: a struct, so the other fields of each alert are skipped instead of built into a dict.
_FIELD_KEYS = {
    "ns": "k8s.ns.name", "pod": "k8s.pod.name", "pod_uid": "k8s.pod.uid", "ka_type": "ka.target.resource",
    "ka_name": "ka.target.name", "ka_ns": "ka.target.namespace", "proc_name": "proc.name", "cmdline": "proc.cmdline",
    "pid": "proc.pid", "user": "user.name", "fd_sip": "fd.sip", "cid": "container.id", "cname": "container.name",
    "image_repo": "container.image.repository", "image": "container.image", "image_tag": "container.image.tag",
    "image_id": "container.image.id",
    "ka_user": "ka.user.name", "ct_user": "ct.user", "okta_actor": "okta.actor.name", "github_user": "github.user",
    "ct_srcip": "ct.srcip", "okta_ip": "okta.client.ip", "fd_cip": "fd.cip", "ka_verb": "ka.verb", "ct_name": "ct.name",
    "exepath": "proc.exepath", "pname": "proc.pname", "ppid": "proc.ppid", "uid": "user.uid", "cport": "fd.cport",
    "sport": "fd.sport", "gcp_user": "gcp.user", "gcp_ip": "gcp.callerIP", "gcp_method": "gcp.methodName",
    "gcp_service": "gcp.serviceName", "ct_src": "ct.src", "gcp_ua": "gcp.userAgent", "ct_ua": "ct.useragent",
    "okta_ua": "okta.useragent.raw", "ka_ua": "ka.useragent", "ka_uri": "ka.uri", "ka_code": "ka.response.code",
    "fd_name": "fd.name", "fd_type": "fd.type",
}  # fmt: skip
#: ``fd.type`` (libsinsp's fd type names) -> OCSF file ``type_id``
_FILE_TYPES = {"file": 1, "directory": 2, "unix": 5, "pipe": 6}
_FILE_TYPE_NAMES = {0: "Unknown", 1: "Regular File", 2: "Folder", 5: "Local Socket", 6: "Named Pipe"}
#: the numeric fields (read as integers, whatever JSON type Falco gave them)
_INTS = ("pid", "ppid", "cport", "sport", "ka_code")
_Fields = msgspec.defstruct("_Fields", [(k, Any, msgspec.field(default=None, name=v)) for k, v in _FIELD_KEYS.items()],
                            gc=False)  # fmt: skip
_NO_FIELDS = _Fields()


class _Alert(msgspec.Struct):
    rule: str | None = None
    priority: str | None = None
    output: str | None = None
    message: str | None = None
    time: str | None = None
    hostname: str | None = None
    source: str | None = None
    tags: list[str] | None = None
    uuid: str | None = None
    output_fields: _Fields | None = None  # type: ignore[valid-type]


_FIELDS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_MAPPED = frozenset({"rule", "priority", "output", "message", "time", "hostname", "source", "tags", "uuid", "output_fields"})
#: Falco's priority names (falco_common.cpp), as Falco writes them and Falcosidekick lowercases them.
_PRIORITY = re.compile(
    rb'"rule" ?: ?"[^"]+"[^\n]*?"priority" ?: ?"(?i:emergency|alert|critical|error|warning|notice|informational|info|debug)"|'
    rb'"priority" ?: ?"(?i:emergency|alert|critical|error|warning|notice|informational|info|debug)"[^\n]*?"rule" ?: ?"[^"]+"'
)


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
#: a JSON head's tokens for :func:`_alert_keys`: an object key (a string and its ``:``), any other string (a value: its
#: braces are no structure; a raw newline ends it, as JSON strings hold none), the brackets, and a line that starts
#: with ``{`` (a new record: whatever text came before, such as Falco's own log lines, left its brackets open)
_TOKENS = re.compile(rb'"((?:[^"\\\n]|\\.)*)"\s*:|"(?:[^"\\\n]|\\.)*"|[{}\[\]]|\n(?=\{)')
_ALERT_KEYS = frozenset((b"rule", b"priority", b"output", b"output_fields"))


def _alert_keys(head: bytes) -> set[bytes]:
    """The keys of Falco's alert (rule, priority, output, output_fields) that ``head`` holds where an alert's own keys
    stand: at the top level of a record (an NDJSON line, an element of a top-level array) or of the ``data`` object of
    a structured-mode CloudEvent (Falcosidekick's CloudEvents output). Another document's nested object with such keys
    (a rule list's items, an app's ``alert: {rule, priority}``) is no Falco alert."""
    found: set[bytes] = set()
    envelope = b'"specversion"' in head
    stack: list[bytes | None] = []  # per open container: b"{" / b"[" at the record's root, b"data" for a data object
    key: bytes | None = None
    for m in _TOKENS.finditer(head):
        tok = m.group()
        if m.group(1) is not None:
            key = m.group(1)
            if key in _ALERT_KEYS and stack and all(s is not None for s in stack):
                found.add(key)
            continue
        c = tok[:1]
        if c == b"\n":
            stack.clear()
        elif c in b"{[":
            root = not stack or (stack == [b"["] and c == b"{")
            data = (envelope and c == b"{" and key == b"data" and stack[-1:] == [b"{"]
                    and all(s is not None for s in stack))
            stack.append(c if root else b"data" if data else None)
        elif c in b"}]":
            if stack:
                stack.pop()
        key = None
    return found


#: a syslog header in front of a JSON alert: optional <PRI> (and RFC 5424 version), then anything
#: without braces or quotes up to the falco program tag and its ``:`` (RFC 3164) or ``- -`` (5424).
_SYSLOG_HEAD = re.compile(
    rb"^[ \t]*(?:<\d{1,3}>\d?)?[^{}\"\n]{0,255}?\b[Ff]alco(?:\[\d+\])?(?::|(?: \d+| -)? - (?:- |\[[^\n]*?\] ))[ \t]*(?=\{)",
    re.MULTILINE,
)


def _blank_syslog_headers(data: bytes) -> bytes:
    """``data`` with the syslog header of every syslog-wrapped alert line replaced by spaces."""
    return _SYSLOG_HEAD.sub(lambda m: b" " * (m.end() - m.start()), data)


def _unwrap(raw: bytes) -> bytes:
    """The ``data`` object of a structured-mode CloudEvent, else the record itself."""
    if b'"specversion"' not in raw:
        return raw
    try:
        data = _TOP.decode(raw).get("data")
    except msgspec.DecodeError:  # not an object: left for the decoder to dead-letter
        return raw
    return bytes(data) if data is not None and bytes(data)[:1] == b"{" else raw


def _strs(values: Any) -> list[str | None]:
    """Values as text: None for an absent or null value or Falco's ``<NA>``, else ``str(value)``."""
    return [None if v is None or v == "<NA>" else v if type(v) is str else str(v) for v in values]


def _first(*columns: list[str | None]) -> list[str | None]:
    """Per row, the first non-empty value of the columns (None when there is none)."""
    out = columns[0]
    for col in columns[1:]:
        out = [a or b for a, b in zip(out, col, strict=True)]
    return [v or None for v in out]


def _int(v: Any) -> int | None:
    """An int32 field's value (a pid, ppid, port), None when absent, not a number or out of range."""
    try:
        i = None if v is None else int(v)
    except (TypeError, ValueError):
        return None
    return int32_or_none(i)


@functools.lru_cache(maxsize=4096)
def _fd_tuple(name: str) -> tuple[str, int | None, str, int | None] | None:
    """``fd.name`` of an IPv4/IPv6 socket, ``cip:cport->sip:sport`` -> (cip, cport, sip, sport); None for
    any other fd (a file path, a server socket's ``ip:port``, a unix socket's ``<hex>-><hex> path``). A
    port libsinsp resolved to a service name (``-R``) is None. Cached: an alert names few connections."""
    client, arrow, server = name.partition("->")
    if not arrow:
        return None
    ends = []
    for side in (client, server):
        ip, colon, port = side.strip().rpartition(":")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return None
        ends.append((ip, int(port) if colon and port.isdecimal() and port.isascii() and int(port) < 65536 else None))
    return ends[0][0], ends[0][1], ends[1][0], ends[1][1]


def _int_column(values: list[Any]) -> pa.Array:
    """An int32 column of :func:`_int` values (a field no alert prints costs no call per alert)."""
    if all(v is None for v in values):
        return pa.nulls(len(values), pa.int32())
    return pa.array([_int(v) for v in values], pa.int32())


#: a line of Falco's text output (``json_output: false``, Falco's default, also what its
#: ``http_output`` then POSTs as text/plain): ``<time>: <Priority> <output>``
#: a line of Falco's own log on stderr (``falco_logger``): ``<time>: <message>``, the time as
#: asctime writes it (``Mon Feb 10 09:15:35 2025``) or, with ``time_format_iso_8601``, ISO 8601
#: to the second with the zone offset (an alert's time has nanoseconds and a priority follows)
_LOG_LINE = re.compile(
    rb"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}): [^{\n][^\n]*\Z"
)
_TEXT_ALERT = re.compile(rb"\s*\S+: (?:Emergency|Alert|Critical|Error|Warning|Notice|Informational|Info|Debug) \S")
_TEXT_REASON = ("a Falco text alert (json_output: false): secpipe reads Falco's JSON output; set json_output: true "
                "(and json_include_output_property: true) in falco.yaml. ")


#: the rule of Falco's metrics snapshots (falcosecurity/falco ``userspace/falco/stats_writer.cpp``)
SNAPSHOT_RULE = "Falco internal: metrics snapshot"


class _Version(msgspec.Struct, gc=False):
    version: Any = msgspec.field(default=None, name="falco.version")


_VERSION = msgspec.json.Decoder(_Version)


def _falco_version(fields: str | None) -> str | None:
    """``falco.version`` of a snapshot's ``output_fields`` text (None where it names none)."""
    try:
        v = _VERSION.decode(fields).version if fields else None
    except msgspec.DecodeError:  # output_fields that is no object: the snapshot names no version
        return None
    return v if isinstance(v, str) and v else None


def _with_fields(unmapped: str | None, fields: str | None) -> str | None:
    """A snapshot's ``unmapped`` JSON with its ``output_fields`` (the counters) put first."""
    if fields is None:
        return unmapped
    head = '{"output_fields":' + fields
    return head + "}" if unmapped is None else head + "," + unmapped[1:]


class Falco(CheckedTopFormat):
    """Falco runtime security alerts."""

    name = "falco"
    record_type = _Alert
    what = "a Falco alert"
    invalid_reason = "not a Falco alert: no `rule` with a `priority` or `output`"
    description = "Falco alerts (json_output NDJSON, http_output payload) -> Detection Finding (2004)"
    framing = "lines"
    mapped = _MAPPED
    top_fields = ("output_fields",)
    product = "Falco"
    vendor = "Falcosecurity"

    def map_records(self, recs: Records) -> Decoded:
        """Map alert records, unwrapping Falcosidekick's structured CloudEvents first (done here,
        not in ``split_records``, so the wire edge keeps its one-array fast path)."""
        if any(b'"specversion"' in r for r in recs.raws):
            recs.raws = [_unwrap(r) for r in recs.raws]
        return super().map_records(recs)

    def split_records(self, data: bytes, source: str) -> Records:
        """Split alerts; lines of Falco's syslog output first lose their syslog header."""
        first = data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
        if first.isdigit():  # a node's container log: the runtime's headers (:mod:`._cri`)
            data = _cri.blank_headers(data)
            first = data.lstrip(b" \t\r\n")[:1]
        if first and first not in b"{[" and b"alco" in data[:4096]:
            data = _blank_syslog_headers(data)
        recs = super().split_records(data, source)
        if recs.dead:  # Falco's own log lines in a captured stdout+stderr (kubectl logs): no alerts
            keep = [d for d in recs.dead if not _LOG_LINE.match(d.raw.lstrip(b" "))]
            recs.events -= len(recs.dead) - len(keep)
            recs.dead = keep
        if recs.dead and first and first not in b"{[":
            whole = _TEXT_ALERT.match(data) is not None  # (also after Falco's own log lines)
            for dl in recs.dead:  # say what to change, not only that it is no JSON
                if whole or _TEXT_ALERT.match(dl.raw):
                    dl.reason = _TEXT_REASON + dl.reason
        return recs

    def sniff(self, head: bytes) -> int:
        """Recognize the alert keys."""
        h = head[:8192]
        rule, priority, output, fields = (k in h for k in (b'"rule"', b'"priority"', b'"output"', b'"output_fields"'))
        if rule + priority + output + fields >= 3 or (rule and priority):  # cheap: most heads stop here
            top = _alert_keys(h)  # the keys must be an alert's own, not a nested object's
            rule, priority, output, fields = (k in top for k in (b"rule", b"priority", b"output", b"output_fields"))
        if rule + priority + output + fields >= 3:
            return 85
        if rule and priority and _PRIORITY.search(h):  # both branches of _PRIORITY hold both keys
            return 80
        return 0

    def is_valid(self, rec: _Alert) -> bool:
        """A record must carry the format's identifying keys (``output`` may be switched off)."""
        return bool(rec.rule) and (rec.output is not None or rec.priority is not None)

    def _map_kept(self, typed: Typed, top: TopLevel, keep: list[int]) -> pa.RecordBatch | list[pa.RecordBatch]:
        """The alerts' Detection Finding batch, and the metrics snapshots' Base Event batch."""
        snaps = [i for i in keep if typed.recs[i].rule == SNAPSHOT_RULE]
        if not snaps:
            return super()._map_kept(typed, top, keep)
        out = [self._snapshots([typed.recs[i] for i in snaps], top.take(snaps), [typed.raws[i] for i in snaps])]
        alerts = [i for i in keep if typed.recs[i].rule != SNAPSHOT_RULE]
        if alerts:
            out.insert(0, self.map_top([typed.recs[i] for i in alerts], top.take(alerts), [typed.raws[i] for i in alerts]))
        return out

    def _snapshots(self, al: list[_Alert], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
        """Metrics snapshots (few: one per host and interval) as Base Events, value by value."""
        cls = "base_event"
        fields = top.raw["output_fields"].to_pylist()
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
            times_ms=parse_times(strs([a.time for a in al])), raws=raws, activity_id=0,
            severity_id=severity_ids(strs([a.priority for a in al])),
        )  # fmt: skip
        cols.update({
            "message": strs([a.message if a.output is None else a.output for a in al]),
            "metadata.event_code": strs([a.rule for a in al]),
            "metadata.log_source": strs([a.source for a in al]),
            "metadata.product.version": strs([_falco_version(f) for f in fields]),
            "device.hostname": strs([a.hostname for a in al]),
            "device.type_id": pa.array([None if a.hostname is None else 0 for a in al], pa.int32()),
            "device.type": strs([None if a.hostname is None else "Unknown" for a in al]),
            "unmapped": strs([_with_fields(u, f) for u, f in zip(top.unmapped.to_pylist(), fields, strict=True)]),
        })  # fmt: skip
        return to_batch(cls, cols)

    def map_top(self, al: list[_Alert], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
        if len(al) <= SMALL_ROWS:  # one alert a POST (http_output): plain Python, no kernel call a field
            return _map_small(self, al, top, raws)
        cls = "detection_finding"
        uids = event_uids(self.name, raws)
        prio = strs([a.priority for a in al])
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=uids,
            times_ms=parse_times(strs([a.time for a in al])), raws=raws, activity_id=1, severity_id=severity_ids(prio),
        )  # fmt: skip
        of: list[Any] = [a.output_fields or _NO_FIELDS for a in al]  # a struct made by defstruct
        get = {k: _strs([getattr(f, k) for f in of]) for k in _FIELD_KEYS if k not in (*_INTS, "image_repo", "image")}
        num = {k: _int_column([getattr(f, k) for f in of]) for k in _INTS}
        rule = strs([a.rule for a in al])
        output = strs([a.message if a.output is None else a.output for a in al])
        ns = strs(get["ns"])
        pod = strs(get["pod"])
        has_pod = pc.fill_null(pc.or_kleene(pc.is_valid(ns), pc.is_valid(pod)), False)
        ka_type = strs(get["ka_type"])
        ka_name = strs(get["ka_name"])
        ka_ns = strs(get["ka_ns"])
        has_ka = pc.or_(pc.or_(pc.is_valid(ka_type), pc.is_valid(ka_name)), pc.is_valid(ka_ns))
        res = nest({
            "type": pc.if_else(has_pod, pa.scalar("pod", S), ka_type),
            "name": pc.if_else(has_pod, pod, ka_name),
            "namespace": pc.if_else(has_pod, ns, ka_ns),
            "uid": strs(get["pod_uid"]),
        })  # fmt: skip
        ends = [_fd_tuple(x) if x else None for x in get["fd_name"]]  # (cip, cport, sip, sport) of a socket
        if any(ends):
            get["fd_cip"] = _first(get["fd_cip"], [e and e[0] for e in ends])
            get["fd_sip"] = _first(get["fd_sip"], [e and e[2] for e in ends])
            num["cport"] = pc.coalesce(num["cport"], pa.array([e and e[1] for e in ends], pa.int32()))
            num["sport"] = pc.coalesce(num["sport"], pa.array([e and e[3] for e in ends], pa.int32()))
        paths = [x if x and x[:1] == "/" and "->" not in x else None for x in get["fd_name"]]  # a file's fd.name
        file_type = [None if p is None else _FILE_TYPES.get(t or "", 0) for p, t in zip(paths, get["fd_type"], strict=True)]
        path_col = strs(paths)
        op = strs(_first(get["ka_verb"], get["ct_name"], get["gcp_method"]))
        uri = [u.partition("?") if u else None for u in get["ka_uri"]]  # the request URI: path?query
        url_path = strs([u[0] or None if u else None for u in uri])
        pname = strs(get["pname"])
        parent = nest({"name": pname, "pid": num["ppid"]})  # a process entity: OCSF's parent_process needs a pid
        evid = nest({
            "process.name": strs(get["proc_name"]),
            "process.cmd_line": strs(get["cmdline"]),
            "process.pid": num["pid"],
            "process.path": strs(get["exepath"]),
            "process.ancestry": singleton_list(parent, pc.is_valid(pname)),  # an entity needs a name (or uid)
            "process.user.name": strs(get["user"]),
            "process.user.uid": strs(get["uid"]),  # uint32 in Falco (4294967295: none), kept as written
            "actor.user.name": strs(_first(get["ka_user"], get["ct_user"], get["okta_actor"], get["github_user"],
                                           get["gcp_user"])),
            # gcp.user is the caller's principalEmail (as the GCP audit log mapping reads it)
            "actor.user.email_addr": strs([u if u and "@" in u else None for u in get["gcp_user"]]),
            "src_endpoint.ip": strs(_first(get["ct_srcip"], get["okta_ip"], get["gcp_ip"], get["fd_cip"])),
            "src_endpoint.port": num["cport"],
            "dst_endpoint.ip": strs(get["fd_sip"]),
            "dst_endpoint.port": num["sport"],
            "api": only_where(nest({"operation": op, "service.name": strs(_first(get["gcp_service"], get["ct_src"]))}),
                              op),
            "http_request.user_agent": strs(_first(get["ct_ua"], get["okta_ua"], get["gcp_ua"], get["ka_ua"])),
            "http_request.url": only_where(nest({"path": url_path, "query_string": strs([u[2] or None if u else None
                                                                                          for u in uri])}), url_path),
            "http_response": only_where(nest({"code": num["ka_code"]}), num["ka_code"]),
            "file": only_where(nest({
                "path": path_col, "name": strs([p.rstrip("/").rpartition("/")[2] or p if p else None for p in paths]),
                "type_id": pa.array(file_type, pa.int32()),
                "type": strs([None if t is None else _FILE_TYPE_NAMES[t] for t in file_type]),
            }), path_col),
            "container.uid": strs(get["cid"]),
            "container.name": strs(get["cname"]),
            "container.image.name": strs(_strs([f.image_repo or f.image for f in of])),
            "container.image.tag": strs(get["image_tag"]),
            "container.image.uid": strs(get["image_id"]),
            "data": top.raw["output_fields"],
        })  # fmt: skip
        orig = strs([a.uuid for a in al])
        cols.update(_alert_columns(al, rule, output, orig, pc.coalesce(orig, strs(uids)), strs([a.source for a in al]),
                                   _attacks([a.tags for a in al])))  # fmt: skip
        cols.update({
            "resources": singleton_list(res, pc.or_(has_pod, has_ka)),
            "evidences": singleton_list(evid),
            "unmapped": top.unmapped,
        })  # fmt: skip
        return to_batch(cls, cols)


def _alert_columns(al: list[_Alert], rule: pa.Array, output: pa.Array, orig: pa.Array, finding_uid: pa.Array,
                   source: pa.Array, attacks: pa.Array) -> dict[str, pa.Array]:  # fmt: skip
    """The alerts' finding columns after the base ones, but their resources, evidences and unmapped (both paths)."""
    n = len(al)
    return {
        "status_id": pa.array([1] * n, pa.int32()),
        "status": strs(["New"] * n),
        "message": output,
        "metadata.original_event_uid": orig,
        "metadata.log_source": source,
        "metadata.event_code": rule,
        "finding_info.uid": finding_uid,
        "finding_info.title": rule,
        "finding_info.desc": output,
        # an empty tag (a rule's ``tags: [""]``, as Falco writes it) names no type
        "finding_info.types": str_lists([[t for t in a.tags if t] if a.tags else a.tags for a in al]),
        "finding_info.attacks": attacks,
        "attacks": attacks,
        "finding_info.analytic.name": rule,
        "finding_info.analytic.category": source,
        "finding_info.analytic.type_id": pa.array([1] * n, pa.int32()),
        "finding_info.analytic.type": strs(["Rule"] * n),
        "device.hostname": strs([a.hostname for a in al]),
        # device.type_id is required (OCSF 1.8.0): Unknown, where the alert names a device at all
        "device.type_id": pa.array([None if a.hostname is None else 0 for a in al], pa.int32()),
        "device.type": strs([None if a.hostname is None else "Unknown" for a in al]),
    }


#: the leaves of ``evidences`` and ``resources`` as :meth:`Falco.map_top` nests them (the small path's types)
_EVID_LEAVES = (
    "process.name", "process.cmd_line", "process.pid", "process.path", "process.ancestry.name", "process.ancestry.pid",
    "process.user.name", "process.user.uid", "actor.user.name", "actor.user.email_addr", "src_endpoint.ip",
    "src_endpoint.port", "dst_endpoint.ip", "dst_endpoint.port", "api.operation", "api.service.name",
    "http_request.user_agent", "http_request.url.path", "http_request.url.query_string", "http_response.code",
    "file.path", "file.name", "file.type_id", "file.type", "container.uid", "container.name", "container.image.name",
    "container.image.tag", "container.image.uid", "data",
)  # fmt: skip
_RES_LEAVES = ("type", "name", "namespace", "uid")
_CLS = "detection_finding"
_MADE = frozenset(("evidences", "resources"))


def _or(*values: str | None) -> str | None:
    """:func:`_first` of one row."""
    out = values[0]
    for v in values[1:]:
        out = out or v
    return out or None


def _map_small(fmt: Falco, al: list[_Alert], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
    """:meth:`Falco.map_top` of a few alerts, value by value in Python: the same batch (the tests compare
    them), where the columnar path's ~50 kernel calls and nested columns cost ~1.5 ms for one alert."""
    n = len(al)
    uids = event_uids(fmt.name, raws)
    uid_list = uids.to_pylist()
    cols = small_base_columns(
        _CLS, kind=fmt.name, product=fmt.product, vendor=fmt.vendor, uids=uids,
        times=parse_times(strs([a.time for a in al])).to_pylist(), activity=(1,) * n,
        severity=severity_list([a.priority for a in al]),
    )  # fmt: skip
    cols["raw_data"] = string_column(list(raws))
    of: list[Any] = [a.output_fields or _NO_FIELDS for a in al]
    data = top.raw["output_fields"].to_pylist()
    rows = [{k: None if (v := getattr(f, k)) is None or v == "<NA>" else v if type(v) is str else str(v)
             for k in _TEXT_KEYS} for f in of]  # fmt: skip
    nums = [{k: _int(getattr(f, k)) for k in _INTS} for f in of]
    ends = [_fd_tuple(g["fd_name"]) if g["fd_name"] else None for g in rows]
    if any(ends):  # as map_top: the tuple's ends fill in where the fields are not printed, in every row
        for g, m, e in zip(rows, nums, ends, strict=True):
            g["fd_cip"] = _or(g["fd_cip"], e and e[0])
            g["fd_sip"] = _or(g["fd_sip"], e and e[2])
            if m["cport"] is None and e:
                m["cport"] = e[1]
            if m["sport"] is None and e:
                m["sport"] = e[3]
    resources: list[Any] = []
    evidences: list[Any] = []
    for g, m, f, d in zip(rows, nums, of, data, strict=True):
        has_pod = g["ns"] is not None or g["pod"] is not None
        if has_pod:
            resources.append([{"type": "pod", "name": g["pod"], "namespace": g["ns"], "uid": g["pod_uid"]}])
        elif g["ka_type"] is not None or g["ka_name"] is not None or g["ka_ns"] is not None:
            resources.append([{"type": g["ka_type"], "name": g["ka_name"], "namespace": g["ka_ns"], "uid": g["pod_uid"]}])
        else:
            resources.append(None)
        x = g["fd_name"]
        path = x if x and x[:1] == "/" and "->" not in x else None
        ftype = None if path is None else _FILE_TYPES.get(g["fd_type"] or "", 0)
        op = _or(g["ka_verb"], g["ct_name"], g["gcp_method"])
        uri = g["ka_uri"].partition("?") if g["ka_uri"] else None
        url_path = uri[0] or None if uri else None
        pname, gcp_user, code = g["pname"], g["gcp_user"], m["ka_code"]
        image = f.image_repo or f.image
        evidences.append([{
            "process": {
                "name": g["proc_name"], "cmd_line": g["cmdline"], "pid": m["pid"], "path": g["exepath"],
                "ancestry": None if pname is None else [{"name": pname, "pid": m["ppid"]}],
                "user": {"name": g["user"], "uid": g["uid"]},
            },
            "actor": {"user": {"name": _or(g["ka_user"], g["ct_user"], g["okta_actor"], g["github_user"], gcp_user),
                               "email_addr": gcp_user if gcp_user and "@" in gcp_user else None}},
            "src_endpoint": {"ip": _or(g["ct_srcip"], g["okta_ip"], g["gcp_ip"], g["fd_cip"]), "port": m["cport"]},
            "dst_endpoint": {"ip": g["fd_sip"], "port": m["sport"]},
            "api": None if op is None else {"operation": op, "service": {"name": _or(g["gcp_service"], g["ct_src"])}},
            "http_request": {
                "user_agent": _or(g["ct_ua"], g["okta_ua"], g["gcp_ua"], g["ka_ua"]),
                "url": None if url_path is None else {"path": url_path, "query_string": uri[2] or None if uri else None},
            },
            "http_response": None if code is None else {"code": code},
            "file": None if path is None else {
                "path": path, "name": path.rstrip("/").rpartition("/")[2] or path, "type_id": ftype,
                "type": _FILE_TYPE_NAMES[ftype],  # type: ignore[index]  # (an int where there is a path)
            },
            "container": {
                "uid": g["cid"], "name": g["cname"],
                "image": {"name": None if image is None or image == "<NA>" else image if type(image) is str else str(image),
                          "tag": g["image_tag"], "uid": g["image_id"]},
            },
            "data": d,
        }])  # fmt: skip
    rule = strs([a.rule for a in al])
    output = strs([a.message if a.output is None else a.output for a in al])
    orig_list = [a.uuid for a in al]
    attacks = _one_attacks(tuple(al[0].tags or ())) if n == 1 else _attacks([a.tags for a in al])
    cols.update(_alert_columns(
        al, rule, output, strs(orig_list), strs([o if o is not None else u for o, u in zip(orig_list, uid_list, strict=True)]),
        strs([a.source for a in al]), attacks,
    ))  # fmt: skip
    cols.update({
        "resources": object_rows(_CLS, "resources", _RES_LEAVES, resources),
        "evidences": object_rows(_CLS, "evidences", _EVID_LEAVES, evidences),
        "unmapped": top.unmapped,
    })  # fmt: skip
    return assemble(_CLS, cols, _MADE)


#: the text fields of ``output_fields`` (the others are :data:`_INTS` and the image's two names)
_TEXT_KEYS = tuple(k for k in _FIELD_KEYS if k not in (*_INTS, "image_repo", "image"))


@functools.lru_cache(maxsize=1024)
def _one_attacks(tags: tuple[str, ...]) -> pa.Array:
    """:func:`_attacks` of one alert of these tags, made once and kept (:func:`~secpipe.schema.ocsf.keep`: a rule's
    alerts share their tags, and :func:`~secpipe.schema.ocsf.assemble` conforms the column once)."""
    return keep(_attacks([list(tags)]))


def _attacks(tags: list[list[str] | None]) -> pa.Array:
    """``attacks`` of each alert from its rule's ATT&CK tags (``T1059``, ``mitre_execution``): made
    once a distinct tag list (an alert's tags are its rule's: a batch holds few) and taken by index."""
    at: dict[tuple[str, ...], int] = {}
    idx = [at.setdefault(tuple(t) if t else (), len(at)) for t in tags]
    distinct = [attacks_of(attack_tags(list(k))) or None for k in at]
    return pa.array(distinct, ATTACKS).take(pa.array(idx, pa.int32()))


__all__ = ["Falco"]
