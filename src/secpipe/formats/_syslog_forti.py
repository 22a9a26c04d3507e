"""FortiGate's (FortiOS) log lines in syslog: the ``key=value`` message read for its own time and level,
traffic logs -> Network Activity (4001) and UTM logs (IPS, anti-virus, web filter, ...) -> Detection
Finding (2004), as the FortiOS Log Message Reference writes them. A value is read quoted or bare.
"""

from __future__ import annotations

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import captions, nest, objects_where, singleton_list
from secpipe.formats._syslog_common import _I32, _I64, S, _nil, _number, _object, _traffic
from secpipe.formats._syslog_fw import (
    _PROTOCOL_NAMES,
)
from secpipe.formats._syslog_header import (
    _own_time,
)
from secpipe.formats._text import group, json_string
from secpipe.formats.base import (
    const,
)

#: FortiOS log messages (FortiGate): ``key=value`` pairs opening with ``date=YYYY-MM-DD
#: time=hh:mm:ss`` (older firmware) or ``eventtime=...``, with ``logid``, ``level``, ``devname``;
#: a FortiOS log line: ``date= time=`` or ``eventtime=`` first, maybe after the keys some firmware
#: and FortiAnalyzer forwarding put before them (``logver``, ``timestamp``, ``devname``, ``devid``,
#: ``vd``, ``tz``: ``timestamp=1678299766 tz="UTC-5:00" devname=... date=...``)
_FORTIOS_MARK = (r'^(?:(?:logver|timestamp|devname|devid|vd|tz)=(?:"[^"]*"|[^\s"]+) )*'
                 r'(?:date=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d |eventtime=\d)')
_FORTIOS_HEAD = 400
_FV = r'(?:"[^"]*"|[^\s"]*)'  # a FortiOS value, quoted or not
_FORTIOS_ORDER = (
    r'^date=(?P<date>\S+) time=(?P<time>\S+)(?: devname="?(?P<dev>[^"\s]*)"?)?(?: devid=' + _FV + r')?'
    r'(?: eventtime=(?P<ev>\d{1,19}))?(?: tz="?(?P<tz>[+-]\d{4})"?)? logid="?(?P<logid>\d+)"? type=' + _FV
    + r' subtype=' + _FV + r' level="?(?P<level>[a-z]+)"?(?: vd=' + _FV + r')?(?: eventtime=(?P<ev2>\d{1,19}))?'
    r'(?: tz="?(?P<tz2>[+-]\d{4})"?)?'
)
#: FortiOS levels in syslog's severity order
_FORTIOS_LEVELS = pa.array(["emergency", "alert", "critical", "error", "warning", "notice", "information", "debug"], S)


def _fortios(f: dict[str, pa.Array]) -> None:
    """Read the FortiOS facts the header lacks into ``f``, in place, for messages that are FortiOS
    log lines: ``eventtime`` (epoch seconds, ms, us or ns by its digits) else ``date`` + ``time``
    (in ``tz`` when given, else UTC) as the time where no header gave one, ``level`` as the
    severity where no ``<PRI>`` gave one, ``logid`` as the event code, ``devname`` as the host where
    the header named none."""
    msg = f["msg"]
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b" logid=",)):
        return
    hit = pc.fill_null(pc.and_(pc.match_substring_regex(msg, _FORTIOS_MARK), pc.match_substring(msg, " logid=")), False)
    if not pc.any(hit).as_py():
        return
    # the keys read here open a FortiOS message, in an order each firmware keeps (date time
    # [devname devid] [eventtime tz] logid type subtype level vd [eventtime tz]): one pattern over
    # the message's head reads them; a line it does not fit is read key by key
    m = pc.utf8_slice_codeunits(pc.if_else(hit, msg, pa.scalar(None, S)), 0, _FORTIOS_HEAD)
    st = pc.extract_regex(m, _FORTIOS_ORDER)
    odd = pc.fill_null(pc.and_(hit, pc.is_null(st)), False)
    slow = pc.if_else(odd, m, pa.scalar(None, S)) if pc.any(odd).as_py() else None

    def key(name: str, *groups: str) -> pa.Array:
        got = pc.coalesce(*(group(st, g) for g in groups)) if len(groups) > 1 else group(st, groups[0])
        return got if slow is None else pc.coalesce(got, _forti_value(slow, name))

    ev = key("eventtime", "ev", "ev2")
    digits = pc.utf8_length(ev)
    ev_ms = None
    if ev.null_count < len(ev):
        num = pc.cast(pc.if_else(pc.fill_null(pc.match_substring_regex(ev, r"^\d{10,19}$"), False), ev, pa.scalar(None, S)), pa.int64())
        scale = pc.if_else(pc.greater_equal(digits, 18), pa.scalar(1_000_000, pa.int64()),
                           pc.if_else(pc.greater_equal(digits, 15), pa.scalar(1_000, pa.int64()), pa.scalar(1, pa.int64())))
        ev_ms = pc.if_else(pc.less(digits, 12), pc.multiply(num, 1000), pc.divide(num, scale))
    own = ev_ms
    if ev_ms is None or pc.any(pc.and_(hit, pc.is_null(ev_ms))).as_py():  # no eventtime: date + time in tz
        tz = key("tz", "tz", "tz2")
        zone = pc.if_else(pc.fill_null(pc.match_substring_regex(tz, r"^[+-]\d{4}$"), False), tz, pa.scalar("+0000", S))
        text = pc.binary_join_element_wise(key("date", "date"), key("time", "time"), zone, " ")
        dt_ms = pc.strptime(text, format="%Y-%m-%d %H:%M:%S %z", unit="ms", error_is_null=True).cast(pa.int64())
        own = dt_ms if ev_ms is None else pc.coalesce(ev_ms, dt_ms)
    f["times"] = _own_time(f, own)
    f["sev"] = pc.coalesce(f["sev"], pc.index_in(key("level", "level"), value_set=_FORTIOS_LEVELS))
    f["msgid"] = pc.coalesce(f["msgid"], key("logid", "logid"))
    f["host"] = pc.coalesce(f["host"], key("devname", "dev"))


def _forti_value(msg: pa.Array, key: str) -> pa.Array:
    """One FortiOS ``key=value`` (or ``key="value"``) of each message."""
    return _forti_spaced(pc.binary_join_element_wise(" ", msg, ""), key)


def _forti_spaced(spaced: pa.Array, key: str) -> pa.Array:
    """:func:`_forti_value` of messages each given a space first: the pattern then opens with the
    literal `` key=``, which RE2 looks for with a memchr-like scan (``(?:^| )key=`` took 2-3x
    as long over a traffic log's ~1 KB)."""
    got = pc.extract_regex(spaced, rf' {key}=(?:"(?P<q>[^"]*)"|(?P<v>[^\s"]+))')
    return _nil(pc.coalesce(group(got, "q"), group(got, "v")))


#: FortiOS traffic log ``action`` (FortiOS Log Message Reference, traffic logs: "Deny = blocked by
#: firewall policy. Start = session start log ... This means firewall allowed. All Others = allowed
#: by Firewall Policy and the status indicates how it was closed") -> (activity_id, allowed):
#: a denied session was Refused; a started one Open; a closed or timed-out one Close; one a reset
#: ended Reset; any other (accept, ip-conn, dns, ...) Traffic
_FORTI_ACTIONS = {"deny": (5, False), "start": (1, True), "close": (2, True), "timeout": (2, True),
                  "client-rst": (3, True), "server-rst": (3, True), "reset": (3, True)}  # fmt: skip
_FORTI_ACTION_NAMES = pa.array(list(_FORTI_ACTIONS), S)
#: the keys of a traffic log read here. FortiOS writes some of them side by side in every
#: firmware's traffic logs (``srcip`` [``srcname``] ``srcport``, ``dstip dstport``, ``sessionid
#: proto action policyid``, ``duration sentbyte rcvdbyte [sentpkt] [rcvdpkt]``): each run is one
#: pattern (one pass over the lines); a line a run does not fit is read key by key.
_FORTI_RUNS = (
    (r' srcip=(?P<srcip>[0-9A-Fa-f.:]+)(?: srcname="[^"]*")?(?: srcport=(?P<srcport>\d+))?', ("srcip", "srcport")),
    (r' dstip=(?P<dstip>[0-9A-Fa-f.:]+)(?: dstport=(?P<dstport>\d+))?', ("dstip", "dstport")),
    (r' sessionid=(?P<sessionid>\d+) proto=(?P<proto>\d+) action="?(?P<action>[\w-]+)"? policyid=(?P<policyid>\d+)',
     ("sessionid", "proto", "action", "policyid")),
    (r' duration=(?P<duration>\d+) sentbyte=(?P<sentbyte>\d+) rcvdbyte=(?P<rcvdbyte>\d+)'
     r'(?: sentpkt=(?P<sentpkt>\d+))?(?: rcvdpkt=(?P<rcvdpkt>\d+))?', ("duration", "sentbyte", "rcvdbyte", "sentpkt", "rcvdpkt")),
)
#: the keys read one by one
_FORTI_KEYS = ("policyname", "user", "app", "srcmac", "srcintf", "dstintf")
def _fortigate_traffic(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are FortiOS traffic logs, ``type="traffic"``: a session a policy
    allowed or denied, their Network Activity columns with ``_activity`` and ``_fortios`` for
    ``unmapped``), or None when there are none. The ``action`` gives the activity and the
    verdict (:data:`_FORTI_ACTIONS`: deny Denied / Blocked, every other Allowed); ``srcip`` /
    ``srcport`` / ``srcmac`` the source, ``dstip`` / ``dstport`` the destination, ``proto`` the
    protocol number (and its name), ``sessionid`` the connection's uid, ``policyid`` /
    ``policyname`` the firewall rule, ``sentbyte`` / ``rcvdbyte`` / ``sentpkt`` / ``rcvdpkt`` the
    traffic out and in (and their sums), ``duration`` (seconds) the duration, ``user`` the actor,
    ``app`` the application; the interfaces in ``unmapped.fortios``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b'type="traffic"', b" type=traffic ")):
        return None
    hit = pc.fill_null(pc.and_(pc.match_substring_regex(msg, r'(?:^| )type="?traffic"?(?: |$)'), pc.match_substring(msg, "srcip=")), False)
    if not pc.any(hit).as_py():
        return None
    m = msg.filter(hit)
    n = len(m)
    spaced = pc.binary_join_element_wise(" ", m, "")
    v = {key: _forti_spaced(spaced, key) for key in _FORTI_KEYS}
    for pattern, keys in _FORTI_RUNS:
        st = pc.extract_regex(spaced, pattern)
        odd = pc.is_null(st)  # a line whose keys stand apart (or lack the run's first one)
        slow = pc.if_else(odd, spaced, pa.scalar(None, S)) if pc.any(odd).as_py() else None
        for key in keys:
            got = _nil(group(st, key))
            v[key] = got if slow is None else pc.coalesce(got, _forti_spaced(slow, key))

    def number(key: str, typ: pa.DataType = _I64) -> pa.Array:
        return _number(v[key], typ)

    action = pc.utf8_lower(v["action"])
    known = pc.index_in(action, value_set=_FORTI_ACTION_NAMES)
    activity = pc.coalesce(pc.take(pa.array([a for a, _ in _FORTI_ACTIONS.values()], _I32), known), pa.scalar(6, _I32))
    denied = pc.fill_null(pc.equal(action, "deny"), False)
    proto = number("proto", _I32)
    names = pa.array(list(_PROTOCOL_NAMES.values()), S)
    sent, rcvd = number("sentbyte"), number("rcvdbyte")
    pkts_out, pkts_in = number("sentpkt"), number("rcvdpkt")
    items = [(k, json_string(v[k])) for k in ("srcintf", "dstintf")]
    cols = {
        "_activity": activity,
        "_fortios": _object(items, n),
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "action": pc.if_else(denied, "Denied", "Allowed"),
        "disposition_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "disposition": pc.if_else(denied, "Blocked", "Allowed"),
        "connection_info.uid": v["sessionid"],
        "connection_info.protocol_num": proto,
        "connection_info.protocol_name": pc.take(names, pc.index_in(proto, value_set=pa.array(list(_PROTOCOL_NAMES), _I32))),
        "connection_info.protocol_ver_id": pc.if_else(pc.match_substring(v["srcip"], ":"), pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "src_endpoint.ip": v["srcip"],
        "src_endpoint.port": number("srcport", _I32),
        "src_endpoint.mac": v["srcmac"],
        "dst_endpoint.ip": v["dstip"],
        "dst_endpoint.port": number("dstport", _I32),
        "firewall_rule.uid": v["policyid"],
        "firewall_rule.name": v["policyname"],
        **_traffic(sent, rcvd, pkts_out, pkts_in),
        "duration": pc.multiply(number("duration"), 1000),
        "actor.user.name": v["user"],
        "app_name": v["app"],
    }
    cols["connection_info.protocol_ver"] = pc.if_else(pc.equal(cols["connection_info.protocol_ver_id"], 6),
                                                      "Internet Protocol version 6 (IPv6)", "Internet Protocol version 4 (IPv4)")
    return hit, cols


#: the keys of a FortiOS UTM log read here (FortiOS Log Message Reference: virus, ips, anomaly,
#: webfilter, app-ctrl, dlp, ... logs), one pass each over the UTM lines only
_FORTI_UTM_KEYS = ("subtype", "eventtype", "action", "severity", "virus", "virusid", "attack", "attackid", "app", "appid",
                   "appcat", "catdesc", "msg", "logdesc", "incidentserialno", "srcip", "srcport", "dstip", "dstport",
                   "sessionid", "proto", "user", "hostname", "url", "filename", "profile", "direction", "ref", "srcintf",
                   "dstintf", "policyid")  # fmt: skip
_FORTI_UTM_SEVERITY = pa.array(["info", "low", "medium", "high", "critical"], S)
#: a UTM log's ``action`` -> (action_id, disposition_id): the traffic went on (pass, passthrough:
#: Allowed; detected, monitored, log-only: Allowed, Detected) or was stopped (blocked, dropped,
#: deny, clear_session: Blocked; reset*: Reset); another is Unknown
_FORTI_UTM_ACTIONS = {"pass": (1, 1), "passthrough": (1, 1), "pass_session": (1, 1), "permit": (1, 1), "allow": (1, 1),
                      "exempt": (1, 1), "detected": (1, 15), "monitored": (1, 15), "log-only": (1, 15),
                      "blocked": (2, 2), "block": (2, 2), "dropped": (2, 2), "drop_session": (2, 2), "deny": (2, 2),
                      "clear_session": (2, 2), "reset": (2, 21), "reset_client": (2, 21), "reset_server": (2, 21)}  # fmt: skip


def _fortigate_utm(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are FortiOS UTM logs, ``type="utm"``: a security profile's detection,
    their Detection Finding columns with ``_activity``, ``_severity``, ``_fortios`` for
    ``unmapped`` and ``_time`` (none: :func:`_fortios` read the time), or None when there are none.
    The title is what was found: the ``virus``, the IPS ``attack``, the web filter's category
    (``catdesc``), the ``app``, else the ``msg``; the analytic its name and id (``virusid``,
    ``attackid``, ``appid``); the subtype the finding's type, ``msg`` its description,
    ``incidentserialno`` its uid; an IPS ``severity`` the severity (else the line's ``level``);
    ``action`` the action and disposition (:data:`_FORTI_UTM_ACTIONS`). The evidence holds the
    source and destination, session and protocol, the user, the URL (``hostname`` + ``url``) and
    the file name; event type, profile, direction, reference, interfaces and policy in
    ``unmapped.fortios``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b'type="utm"', b" type=utm ")):
        return None
    hit = pc.fill_null(pc.match_substring_regex(msg, r'(?:^| )type="?utm"?(?: |$)'), False)
    if not pc.any(hit).as_py():
        return None
    spaced = pc.binary_join_element_wise(" ", msg.filter(hit), "")
    v = {key: _forti_spaced(spaced, key) for key in _FORTI_UTM_KEYS}
    n = len(spaced)
    subtype = pc.utf8_lower(v["subtype"])
    web = pc.fill_null(pc.equal(subtype, "webfilter"), False)
    name = pc.coalesce(v["virus"], v["attack"], pc.if_else(web, v["catdesc"], pa.scalar(None, S)), v["app"])
    action = pc.utf8_lower(v["action"])
    known = pc.index_in(action, value_set=pa.array(list(_FORTI_UTM_ACTIONS), S))
    action_id = pc.coalesce(pc.take(pa.array([a for a, _d in _FORTI_UTM_ACTIONS.values()], _I32), known), pa.scalar(0, _I32))
    disposition_id = pc.coalesce(pc.take(pa.array([d for _a, d in _FORTI_UTM_ACTIONS.values()], _I32), known), pa.scalar(0, _I32))
    proto = _number(v["proto"], _I32)
    url = v["url"]
    absolute = pc.fill_null(pc.match_substring_regex(url, r"^[a-z][a-z0-9+.-]*://"), False)
    url = pc.if_else(absolute, url, pc.coalesce(pc.binary_join_element_wise(v["hostname"], url, ""), url))
    evidence = nest({
        "src_endpoint.ip": v["srcip"], "src_endpoint.port": _number(v["srcport"], _I32),
        "dst_endpoint.ip": v["dstip"], "dst_endpoint.port": _number(v["dstport"], _I32), "dst_endpoint.hostname": v["hostname"],
        "connection_info.uid": v["sessionid"], "connection_info.protocol_num": proto,
        "connection_info.protocol_name": pc.take(pa.array(list(_PROTOCOL_NAMES.values()), S),
                                                 pc.index_in(proto, value_set=pa.array(list(_PROTOCOL_NAMES), _I32))),
        "connection_info.direction_id": const(0, n, _I32),
        "actor.user.name": v["user"], "url.url_string": url, "file.name": v["filename"], "file.type_id": const(1, n, _I32),
    })  # fmt: skip
    evidence = objects_where(evidence, {"actor": v["user"], "url": url, "file": v["filename"]})
    items = [(k, json_string(v[k])) for k in ("eventtype", "profile", "direction", "ref", "srcintf", "dstintf", "policyid", "appcat")]
    none = pa.scalar(None, S)
    return hit, {
        "_activity": const(1, n, _I32),
        "_severity": pc.add(pc.index_in(pc.utf8_lower(v["severity"]), value_set=_FORTI_UTM_SEVERITY), 1),
        "_fortios": _object(items, n),
        "_time": pa.nulls(n, _I64),
        "action_id": action_id,
        "action": captions("detection_finding", "action_id", action_id),
        "disposition_id": disposition_id,
        "disposition": captions("detection_finding", "disposition_id", disposition_id),
        "is_alert": const(True, n, pa.bool_()),
        "finding_info.uid": v["incidentserialno"],
        "finding_info.title": pc.coalesce(name, v["msg"], v["logdesc"], subtype),
        "finding_info.desc": v["msg"],
        "finding_info.types": singleton_list(subtype, pc.is_valid(subtype)),
        "finding_info.analytic.name": name,
        "finding_info.analytic.uid": pc.coalesce(v["virusid"], v["attackid"], v["appid"]),
        "finding_info.analytic.type_id": const(1, n, _I32),
        "finding_info.analytic.type": pc.if_else(pc.is_valid(name), "Rule", none),
        "evidences": singleton_list(evidence),
    }
