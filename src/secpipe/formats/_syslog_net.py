"""Network appliances' traffic and threat logs in syslog -> Network Activity (4001) / Detection Finding
(2004): Cisco ASA / FTD connection messages and IOS ACL logs, PAN-OS TRAFFIC and THREAT CSV, Junos
``RT_FLOW`` structured data and Meraki flows. Each reader looks at the lines its vendor's code or mark
selects; the rest is left to the others.
"""

from __future__ import annotations

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import captions, nest, objects_where, singleton_list
from secpipe.formats._syslog_common import (
    _I32,
    _I64,
    S,
    _is_ip,
    _matches,
    _nil_empty,
    _number,
    _object,
    _traffic,
)
from secpipe.formats._syslog_fw import (
    _NF_PROTOCOLS,
    _PROTOCOL_NAMES,
    _ip6_short,
)
from secpipe.formats._text import group, json_string
from secpipe.formats.base import (
    const,
)


def _junos_param(sd: pa.Array, name: str) -> pa.Array:
    """The value of PARAM ``name`` of the ``junos@...`` SD-ELEMENT (unescaped), columnar."""
    got = group(pc.extract_regex(sd, rf'\[junos@[^\s\]]* (?:[^\]"]*"(?:[^"\\]|\\.)*" )*?{name}="(?P<v>(?:[^"\\]|\\.)*)"'), "v")
    return pc.replace_substring_regex(got, r'\\(["\\\]])', r"\1")


#: Cisco ASA / FTD connection and access-list messages (Cisco Secure Firewall ASA Series Syslog
#: Messages) read into Network Activity, by the message number of ``%ASA-<sev>-<number>``; each
#: pattern runs over its messages only. An endpoint is ``interface:address/port`` (an address may
#: be a name the ``names`` command gave it), a bracketed mapped address or user may follow it. The
#: interface of traffic to the ASA itself is ``NP Identity Ifc`` (Cisco TAC document 116149).
_ASA_END = r"(?P<if{0}>NP Identity Ifc|[^:\s/]+)[:/](?P<ip{0}>[^/\s()]+)(?:/(?P<p{0}>\d{{1,5}})|\((?P<q{0}>\d{{1,5}})\))?(?: ?\([^)]*\))*"
_ASA_SPECS = (
    # 302013 / 302015 / 302017 Built {inbound|outbound} {TCP|UDP|GRE} connection id for
    # interface:real-address/real-port (mapped-address/mapped-port) ... to interface:... : for an
    # outbound connection the "for" side is the responder, for an inbound one the initiator
    ("built", ("302013", "302015", "302017"),
     r"^Built (?P<dir>inbound|outbound) (?P<proto>\w+) connection (?P<id>\d+) for " + _ASA_END.format(1) + " to " + _ASA_END.format(2)),
    # 302014 / 302016 / 302018 Teardown {TCP|UDP|GRE} connection id for ... to ... duration
    # hh:mm:ss bytes N [reason]: the sides in the Built message's order, its direction not said
    ("teardown", ("302014", "302016", "302018"),
     r"^Teardown (?P<proto>\w+) connection (?P<id>\d+) for " + _ASA_END.format(1) + " to " + _ASA_END.format(2)
     + r" duration (?P<h>\d{1,6}):(?P<m>\d\d):(?P<s>\d\d) bytes (?P<bytes>\d+)(?: (?P<reason>[^(]*[^(\s]))?"),
    # 106023 Deny protocol src interface:address/port dst interface:address/port [(type t, code c)]
    # by access-group "acl"
    ("deny", ("106023",),
     r"^Deny (?P<proto>\S+) src " + _ASA_END.format(1) + " dst " + _ASA_END.format(2) + r'.*? by access-group "(?P<acl>[^"]*)"'),
    # 106100 access-list acl {permitted|denied|est-allowed} protocol interface/address(port) -> interface/address(port)
    ("acl", ("106100",),
     r"^access-list (?P<acl>\S+) (?P<verdict>permitted|denied|est-allowed) (?P<proto>\S+) " + _ASA_END.format(1) + " -> " + _ASA_END.format(2)),
    # 106001 Inbound TCP connection denied from address/port to address/port flags ... on interface if;
    # 106006 / 106007 Deny inbound UDP from ...; 106015 Deny TCP (no connection) from ...
    ("denied_in", ("106001", "106006", "106007", "106015"),
     r"^(?:Inbound (?P<proto>TCP) connection denied|Deny inbound (?P<proto2>UDP)|Deny (?P<proto3>TCP) \(no connection\))"
     r" from (?P<ip1>[^/\s]+)/(?P<p1>\d{1,5}) to (?P<ip2>[^/\s]+)/(?P<p2>\d{1,5})(?:.*? on interface (?P<if1>[^\s.]+))?"),
)
_ASA_NUMBERS = pa.array([num for _kind, nums, _rx in _ASA_SPECS for num in nums], S)
_ASA_GROUPS = ("dir", "proto", "proto2", "proto3", "id", "if1", "ip1", "p1", "q1", "if2", "ip2", "p2", "q2",
               "h", "m", "s", "bytes", "reason", "acl", "verdict")  # fmt: skip


def _asa_teardown_sides(kinds: pa.Array, teardown: pa.Array, g: dict[str, pa.Array],
                        host: pa.Array | None) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(each message's direction, whether a teardown's is known, whether an unknown one is taken
    as naming the responder first). A Teardown names its sides in
    its Built's order (the lower-security side first: the responder of an outbound connection, the
    initiator of an inbound one; Cisco TAC's "How do you interpret the syslogs ... builds or tears
    down connections", document 116149) but not the direction: it takes the direction of the
    Built of the same connection (device and id) in the batch; without one, a first side on a
    well-known port (below 1024) and a second on another is taken as an outbound connection's
    responder (the server the inside client reached), its direction and assignment still unknown."""
    key = g["id"] if host is None else pc.binary_join_element_wise(pc.fill_null(host, ""), g["id"], "|")
    built = pc.equal(kinds, "built")
    known_dir = pc.take(g["dir"].filter(built), pc.index_in(key, value_set=key.filter(built)))
    known = pc.fill_null(pc.and_(teardown, pc.is_valid(known_dir)), False)
    p1, p2 = (pc.coalesce(g["p" + i], g["q" + i]).cast(_I32) for i in "12")
    served = pc.fill_null(pc.and_(pc.less(p1, 1024), pc.greater_equal(p2, 1024)), False)
    guessed = pc.and_(pc.and_(teardown, pc.invert(known)), served)
    return pc.if_else(known, known_dir, g["dir"]), known, guessed


def _asa_connections(msgid: pa.Array, msg: pa.Array, host: pa.Array | None = None) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the Cisco ASA/FTD messages that report a connection or an access-list verdict, their
    Network Activity columns with ``_activity`` and ``_asa`` for ``unmapped``), or None when there
    are none. Built: Open, Allowed, direction Inbound/Outbound, initiator as the source; Teardown:
    Close (Reset where a reset ended it), Allowed, the ``duration`` and ``bytes``, the reason, the
    sides as :func:`_asa_teardown_sides` orders them; 106023 and
    106001/106006/106007/106015: Refuse, Denied / Blocked (the access group as the rule);
    106100: the access list's verdict (denied Refuse, permitted Traffic). The connection id is
    ``connection_info.uid``; the interfaces (``nameif``) and the reason in ``unmapped.asa``."""
    if msgid.null_count == len(msgid) or not _fast.contains_any(msgid.buffers()[2], (b"-302", b"-106")):
        return None
    number = pc.utf8_slice_codeunits(msgid, -6)
    cisco = pc.fill_null(pc.match_substring_regex(msgid, r"^(?:ASA|FTD)-(?:\w+-)?[0-7]-\d{6}$"), False)
    hit = pc.and_(cisco, pc.is_in(number, value_set=_ASA_NUMBERS))
    if not pc.any(hit).as_py():
        return None
    kinds = pa.nulls(len(msg), S)
    got: dict[str, pa.Array] = {g: pa.nulls(len(msg), S) for g in _ASA_GROUPS}
    for kind, nums, rx in _ASA_SPECS:
        mine = pc.and_(hit, pc.is_in(number, value_set=pa.array(nums, S)))
        if not pc.any(mine).as_py():
            continue
        st = pc.extract_regex(pc.if_else(mine, msg, pa.scalar(None, S)), rx)
        ok = pc.is_valid(st)
        kinds = pc.if_else(ok, kind, kinds)
        names = {f.name for f in st.type}
        for name in _ASA_GROUPS:
            if name in names:
                got[name] = pc.if_else(ok, group(st, name), got[name])
    hit = pc.is_valid(kinds)
    if not pc.any(hit).as_py():
        return None
    kinds = kinds.filter(hit)
    g = {k: _nil_empty(v.filter(hit)) for k, v in got.items()}
    n = len(kinds)
    none = pa.scalar(None, S)
    teardown = pc.equal(kinds, "teardown")
    g["dir"], known, served = _asa_teardown_sides(kinds, teardown, g, None if host is None else host.filter(hit))
    outbound = pc.fill_null(pc.equal(g["dir"], "outbound"), False)
    swap = pc.or_(outbound, served)  # an outbound Built (and its Teardown) names the responder first
    sides = {}
    for side, first, second in (("src", "1", "2"), ("dst", "2", "1")):
        addr = pc.if_else(swap, g["ip" + second], g["ip" + first])
        port = pc.if_else(swap, pc.coalesce(g["p" + second], g["q" + second]), pc.coalesce(g["p" + first], g["q" + first]))
        nic = pc.if_else(swap, g["if" + second], g["if" + first])
        ip = _is_ip(addr)
        sides[side] = (pc.if_else(ip, _ip6_short(pc.if_else(ip, addr, none)), none), pc.if_else(ip, none, addr), port.cast(_I32), nic)
    denied = pc.or_(pc.is_in(kinds, value_set=pa.array(["deny", "denied_in"], S)), pc.fill_null(pc.equal(g["verdict"], "denied"), False))
    reset = pc.fill_null(pc.match_substring(g["reason"], "Reset"), False)
    activity = pc.if_else(denied, pa.scalar(5, _I32), pc.if_else(pc.equal(kinds, "built"), pa.scalar(1, _I32), pc.if_else(
        pc.equal(kinds, "teardown"), pc.if_else(reset, pa.scalar(3, _I32), pa.scalar(2, _I32)), pa.scalar(6, _I32))))
    direction = pc.if_else(pc.equal(kinds, "denied_in"), pa.scalar(1, _I32), pc.coalesce(
        pc.if_else(outbound, pa.scalar(2, _I32), pc.if_else(pc.equal(g["dir"], "inbound"), pa.scalar(1, _I32), pa.scalar(None, _I32))),
        pa.scalar(0, _I32)))
    proto = pc.utf8_lower(pc.coalesce(g["proto"], g["proto2"], g["proto3"]))
    numbered = pc.fill_null(pc.match_substring_regex(proto, r"^\d{1,3}$"), False)
    proto_num = pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32), pc.index_in(proto, value_set=pa.array(list(_NF_PROTOCOLS), S)))
    secs = pc.add(pc.add(pc.multiply(g["h"].cast(_I64), 3600), pc.multiply(g["m"].cast(_I64), 60)), g["s"].cast(_I64))
    items = [("src_interface", json_string(sides["src"][3])), ("dst_interface", json_string(sides["dst"][3])),
             ("reason", json_string(g["reason"]))]  # fmt: skip
    cols = {
        "_activity": activity,
        "_asa": _object(items, n),
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "action": pc.if_else(denied, "Denied", "Allowed"),
        "disposition_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "disposition": pc.if_else(denied, "Blocked", "Allowed"),
        "is_src_dst_assignment_known": pc.or_(pc.invert(teardown), known),
        "connection_info.uid": g["id"],
        "connection_info.direction_id": direction,
        "connection_info.direction": pc.take(pa.array(["Unknown", "Inbound", "Outbound"], S), direction),
        "connection_info.protocol_num": pc.coalesce(pc.if_else(numbered, proto, none).cast(_I32), proto_num),
        "connection_info.protocol_name": pc.if_else(numbered, none, proto),
        "src_endpoint.ip": sides["src"][0],
        "src_endpoint.hostname": sides["src"][1],
        "src_endpoint.port": sides["src"][2],
        "dst_endpoint.ip": sides["dst"][0],
        "dst_endpoint.hostname": sides["dst"][1],
        "dst_endpoint.port": sides["dst"][2],
        "traffic.bytes": _number(g["bytes"], _I64),
        "duration": pc.multiply(secs, 1000),
        "firewall_rule.name": g["acl"],
    }
    return hit, cols


#: Cisco IOS / IOS XE access-list log messages (the System Message Guide's SEC-6-IPACCESSLOGP, DP
#: (ICMP type/code), NP (a protocol number), RP, SP (IGMP type) and S (a standard list: the source
#: alone); IPv6's IPV6_ACL-6-ACCESSLOG* and older IPV6-6-ACCESSLOG*; IOS XE's forwarding manager
#: FMANFP-6-IPACCESSLOG* / IPV6ACCESSLOG*, which puts ``R0/0: fman_fp_image: `` first). Extended:
#: ``list ACL permitted|denied PROTO SRC[(PORT)] [(IF MAC) ]-> DST[(PORT)][ (TYPE[/CODE])], N packet[s]``
#: (``log-input`` adds the input interface and source MAC; FMANFP writes the MAC before the source and
#: the interface before the arrow); standard: ``list ACL permitted|denied SRC N packet[s]``. The rate
#: limiter's IPACCESSLOGRL names no packet. IOS XR's ACL-IPV4_ACL-6-IPACCESSLOGP writes
#: ``access-list ACL permit|deny PROTO SRC(PORT) -> DST(PORT), N packet``.
_IOS_ACL_CODE = r"^[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)?-[0-7]-(?:IP|IPV6)?ACCESSLOG(?:[DNRS]?P|S)$"
_IOS_ACL = (
    r"^(?:[\w/]+: +fman_fp_image: +)?(?:access-)?list (?P<acl>\S+) (?P<verdict>permitted|denied|permit|deny) (?:(?P<proto>[A-Za-z][\w-]*|\d{1,3}) )?"
    r"(?:(?P<mac>[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}) )?(?P<src>[0-9A-Fa-f.:]+)(?:\((?P<sport>\d{1,5})\))?"
    r"(?: \((?P<nic>[^\s)]+)(?: (?P<nicmac>[0-9A-Fa-f.:-]+))? ?\)| (?P<nic2>[A-Za-z][^\s>]*?))? ?"
    r"(?:-> (?P<dst>[0-9A-Fa-f.:]+)(?:\((?P<dport>\d{1,5})\))?(?: \((?P<type>\d{1,3})(?:/(?P<code>\d{1,3}))?\))?, ?| )"
    r"(?P<pkts>\d{1,10}) packets?$"
)
#: the protocol words of an ACL entry with their IANA numbers (``ip`` / ``ipv6`` match any: none)
_IOS_PROTOCOLS = {**_NF_PROTOCOLS, "ospf": 89, "eigrp": 88, "pim": 103, "nos": 94, "pcp": 108, "ipinip": 4}


def _ios_acl(msgid: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the Cisco IOS / IOS XE access-list log messages, their Network Activity columns with
    ``_activity`` and ``_ios`` for ``unmapped``), or None when there are none: denied Refuse,
    Denied / Blocked; permitted Traffic, Allowed (as the ASA's 106100); the list as
    ``firewall_rule.name``, protocol (an IPv6 list's ``icmp`` is ICMPv6), addresses and ports, the
    packets counted as ``traffic.packets``; the direction is not said (a list may filter either
    way). The input interface and MAC (``log-input``) and the ICMP / IGMP type and code stay in
    ``unmapped.ios``."""
    if msgid.null_count == len(msgid) or not _fast.contains_any(msgid.buffers()[2], (b"ACCESSLOG",)):
        return None
    mine = pc.fill_null(pc.match_substring_regex(msgid, _IOS_ACL_CODE), False)
    if (found := _matches(mine, msg, _IOS_ACL)) is None:
        return None
    hit, got = found
    g = {name: _nil_empty(group(got, name)) for name in (
        "acl", "verdict", "proto", "mac", "src", "sport", "nic", "nicmac", "nic2", "dst", "dport", "type", "code", "pkts")}
    n = len(got)
    none = pa.scalar(None, S)
    src, dst = _ip6_short(g["src"]), _ip6_short(g["dst"])
    v6 = pc.fill_null(pc.or_(pc.match_substring(src, ":"), pc.match_substring(dst, ":")), False)
    proto = pc.utf8_lower(g["proto"])
    numbered = pc.fill_null(pc.match_substring_regex(proto, r"^\d{1,3}$"), False)
    names = pa.array(list(_IOS_PROTOCOLS), S)
    proto_num = pc.take(pa.array(list(_IOS_PROTOCOLS.values()), _I32), pc.index_in(proto, value_set=names))
    icmp6 = pc.and_(v6, pc.fill_null(pc.equal(proto, "icmp"), False))
    proto_num = pc.coalesce(pc.if_else(numbered, proto, none).cast(_I32), pc.if_else(icmp6, pa.scalar(58, _I32), proto_num))
    denied = pc.starts_with(g["verdict"], "den")
    items = [("input_interface", json_string(pc.coalesce(g["nic"], g["nic2"]))), ("mac", json_string(pc.coalesce(g["nicmac"], g["mac"]))),
             ("type", json_string(g["type"])), ("code", json_string(g["code"]))]  # fmt: skip
    cols = {
        "_activity": pc.if_else(denied, pa.scalar(5, _I32), pa.scalar(6, _I32)),
        "_ios": _object(items, n),
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "action": pc.if_else(denied, "Denied", "Allowed"),
        "disposition_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "disposition": pc.if_else(denied, "Blocked", "Allowed"),
        "connection_info.protocol_ver_id": pc.if_else(v6, pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "connection_info.protocol_ver": pc.if_else(v6, "Internet Protocol version 6 (IPv6)", "Internet Protocol version 4 (IPv4)"),
        "connection_info.protocol_num": proto_num,
        "connection_info.protocol_name": pc.if_else(pc.or_(numbered, pc.fill_null(pc.is_in(proto, value_set=pa.array(["ip", "ipv6"], S)), False)),
                                                    none, proto),
        "src_endpoint.ip": src,
        "src_endpoint.port": g["sport"].cast(_I32),
        "dst_endpoint.ip": dst,
        "dst_endpoint.port": g["dport"].cast(_I32),
        "traffic.packets": g["pkts"].cast(_I64),
        "firewall_rule.name": g["acl"],
    }  # fmt: skip
    return hit, cols


#: a PAN-OS traffic log (the syslog field order of PAN-OS 8.1 to 11.x, "Traffic Log Fields"):
#: ``FUTURE_USE, Receive Time, Serial Number, TRAFFIC, subtype, FUTURE_USE, Generated Time, ...``
_PANOS_TRAFFIC = r"^[^,]*,\d{4}/\d\d/\d\d \d\d:\d\d:\d\d,[^,]*,TRAFFIC,"
#: the fields read (0-based positions of the CSV)
_PANOS_AT = {"generated": 6, "src": 7, "dst": 8, "nat_src": 9, "nat_dst": 10, "rule": 11, "src_user": 12, "app": 14,
             "from_zone": 16, "to_zone": 17, "inbound_if": 18, "outbound_if": 19, "session": 22, "sport": 24,
             "dport": 25, "proto": 29, "action": 30, "bytes": 31, "bytes_out": 32, "bytes_in": 33, "packets": 34,
             "elapsed": 36, "packets_out": 44, "packets_in": 45, "end_reason": 46}  # fmt: skip
_PANOS_PAD = "," * 48  # every line split into at least the fields read (a short line's missing ones empty)
#: the subtype (start, end, drop, deny) -> the activity: a session's start Open, its end Close, a
#: session the policy dropped or denied Refuse
_PANOS_ACTIVITY = {"start": 1, "end": 2, "drop": 5, "deny": 5}


def _panos_traffic(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are PAN-OS traffic logs, their Network Activity columns with
    ``_activity``, ``_panos`` for ``unmapped`` and ``_time``), or None when there are none. The
    subtype gives the activity (:data:`_PANOS_ACTIVITY`, else Traffic), the ``Action`` the verdict
    (allow Allowed; deny, drop, reset-client/server/both Denied / Blocked); source and destination
    addresses, ports and zones, the protocol, the session id as ``connection_info.uid``, the rule
    as ``firewall_rule.name``, the source user as the actor, the application as ``app_name``, the
    bytes and packets (sent out, received in), the elapsed seconds as the duration; the Generated
    Time (it has the year a BSD header lacks; no zone: UTC, as a BSD header's) as the time where
    the header has none or no year; NAT addresses, interfaces and the session end reason in
    ``unmapped.panos``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b",TRAFFIC,",)):
        return None
    hit = pc.fill_null(pc.match_substring_regex(msg, _PANOS_TRAFFIC), False)
    if not pc.any(hit).as_py():
        return None
    parts = pc.split_pattern(pc.binary_join_element_wise(msg.filter(hit), _PANOS_PAD, ""), ",", max_splits=len(_PANOS_PAD))
    f = {key: _nil_empty(pc.list_element(parts, i)) for key, i in _PANOS_AT.items()}

    def number(key: str, typ: pa.DataType = _I64) -> pa.Array:
        return _number(f[key], typ)

    subtype = pc.utf8_lower(pc.list_element(parts, 4))
    activity = pc.coalesce(pc.take(pa.array(list(_PANOS_ACTIVITY.values()), _I32),
                                   pc.index_in(subtype, value_set=pa.array(list(_PANOS_ACTIVITY), S))), pa.scalar(6, _I32))
    allowed = pc.fill_null(pc.equal(f["action"], "allow"), False)
    proto = pc.utf8_lower(f["proto"])
    own = pc.strptime(f["generated"], format="%Y/%m/%d %H:%M:%S", unit="ms", error_is_null=True).cast(_I64)
    items = [(k, json_string(f[k])) for k in ("nat_src", "nat_dst", "inbound_if", "outbound_if", "end_reason")]
    n = len(proto)
    cols = {
        "_activity": activity,
        "_panos": _object(items, n),
        "_time": own,
        "action_id": pc.if_else(allowed, pa.scalar(1, _I32), pa.scalar(2, _I32)),
        "action": pc.if_else(allowed, "Allowed", "Denied"),
        "disposition_id": pc.if_else(allowed, pa.scalar(1, _I32), pa.scalar(2, _I32)),
        "disposition": pc.if_else(allowed, "Allowed", "Blocked"),
        "connection_info.uid": f["session"],
        "connection_info.protocol_name": proto,
        "connection_info.protocol_num": pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32),
                                                pc.index_in(proto, value_set=pa.array(list(_NF_PROTOCOLS), S))),
        "src_endpoint.ip": f["src"],
        "src_endpoint.port": number("sport", _I32),
        "src_endpoint.zone": f["from_zone"],
        "dst_endpoint.ip": f["dst"],
        "dst_endpoint.port": number("dport", _I32),
        "dst_endpoint.zone": f["to_zone"],
        "firewall_rule.name": f["rule"],
        "actor.user.name": f["src_user"],
        "app_name": f["app"],
        "traffic.bytes": number("bytes"),
        "traffic.bytes_out": number("bytes_out"),
        "traffic.bytes_in": number("bytes_in"),
        "traffic.packets": number("packets"),
        "traffic.packets_out": number("packets_out"),
        "traffic.packets_in": number("packets_in"),
        "duration": pc.multiply(number("elapsed"), 1000),
    }
    return hit, cols


#: a PAN-OS threat log (the syslog CSV of PAN-OS 8.1 to 11.x, "Threat Log Fields": the traffic log's
#: first 30 fields, then ``Action, URL/Filename, Threat ID, Category, Severity, Direction, Sequence
#: Number, ...``); a field may be quoted (``"consent.cmp.oath.com/"``) and hold commas, so the
#: fields are read by a pattern, not split; a log of an older release may end after the Severity.
_PV = r'(?:"[^"]*"|[^,"]*)'  # a PAN-OS CSV field, quoted or not
_PANOS_THREAT_AT = {"serial": 2, "subtype": 4, "generated": 6, "src": 7, "dst": 8, "nat_src": 9, "nat_dst": 10, "rule": 11,
                    "src_user": 12, "dst_user": 13, "app": 14, "from_zone": 16, "to_zone": 17, "session": 22, "repeat": 23,
                    "sport": 24, "dport": 25, "proto": 29, "action": 30, "target": 31, "threat": 32, "category": 33,
                    "severity": 34, "direction": 35, "seq": 36}  # fmt: skip
_PANOS_THREAT = "^" + ",".join(
    "THREAT" if at == 3 else f"(?P<{k}>{_PV})" if k else _PV
    for at, k in ((at, next((k for k, i in _PANOS_THREAT_AT.items() if i == at), None)) for at in range(37))
).replace(",(?P<direction>", "(?:,(?P<direction>", 1) + ")?(?:,.*)?$"
_PANOS_SEVERITY = pa.array(["informational", "low", "medium", "high", "critical"], S)
#: the Action of a threat log -> (action_id, disposition_id): the traffic went on (allow, alert,
#: continue, override: Allowed; an alert is the detection's own disposition) or was stopped
#: (deny, drop, block-*, sinkhole: Blocked; reset-*: Reset)
_PANOS_THREAT_ACTIONS = {"allow": (1, 1), "continue": (1, 1), "override": (1, 1), "alert": (1, 19),
                         "reset-client": (2, 21), "reset-server": (2, 21), "reset-both": (2, 21)}
_PANOS_FILES = pa.array(["file", "virus", "wildfire", "wildfire-virus"], S)


def _panos_threat(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are PAN-OS threat logs, their Detection Finding columns with
    ``_activity``, ``_severity``, ``_panos`` for ``unmapped`` and ``_time``), or None when there
    are none. Subtypes url, virus, spyware, vulnerability, file, scan, flood, packet, wildfire ...:
    the threat (``Name(ID)``) as the finding's title and the analytic (name and id), the subtype
    as its type, the log's Severity (informational..critical) as the severity, the Action as the
    action and disposition (:data:`_PANOS_THREAT_ACTIONS`, any other Denied / Blocked), the
    device serial and Sequence Number as the finding's uid; one evidence with the source and
    destination (address, port, zone), the session and protocol, the source user as the actor,
    the destination user, the URL (url subtype) or the file's name (file, virus, wildfire). A URL
    log (threat ``(9999)``) is titled by its URL category. The Generated Time is the time as the
    traffic log's; NAT addresses, rule, application, category, direction and repeat count in
    ``unmapped.panos``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b",THREAT,",)):
        return None
    st = pc.extract_regex(msg, _PANOS_THREAT)
    hit = pc.fill_null(pc.and_(st.is_valid(), pc.match_substring_regex(group(st, "generated"), r"^\d{4}/\d\d/\d\d ")), False)
    if not pc.any(hit).as_py():
        return None
    st = st.filter(hit)
    f = {k: _nil_empty(pc.utf8_trim(group(st, k), '"')) for k in _PANOS_THREAT_AT}
    n = len(st)
    none = pa.scalar(None, S)
    threat = pc.extract_regex(f["threat"], r"^(?P<name>.*?)\s*\((?P<id>\d+)\)$")
    name = pc.coalesce(group(threat, "name"), pc.if_else(pc.is_valid(group(threat, "id")), none, f["threat"]))
    subtype = pc.utf8_lower(f["subtype"])
    title = pc.coalesce(name, pc.binary_join_element_wise(subtype, f["category"], ": "), subtype)
    action = pc.utf8_lower(f["action"])
    known = pc.index_in(action, value_set=pa.array(list(_PANOS_THREAT_ACTIONS), S))
    action_id = pc.coalesce(pc.take(pa.array([a for a, _d in _PANOS_THREAT_ACTIONS.values()], _I32), known), pa.scalar(2, _I32))
    disposition_id = pc.coalesce(pc.take(pa.array([d for _a, d in _PANOS_THREAT_ACTIONS.values()], _I32), known), pa.scalar(2, _I32))
    proto = pc.utf8_lower(f["proto"])
    is_url = pc.fill_null(pc.equal(subtype, "url"), False)
    is_file = pc.fill_null(pc.is_in(subtype, value_set=_PANOS_FILES), False)
    url = pc.if_else(is_url, f["target"], none)
    file_name = pc.if_else(is_file, f["target"], none)
    evidence = nest({
        "src_endpoint.ip": f["src"], "src_endpoint.port": _number(f["sport"], _I32), "src_endpoint.zone": f["from_zone"],
        "dst_endpoint.ip": f["dst"], "dst_endpoint.port": _number(f["dport"], _I32), "dst_endpoint.zone": f["to_zone"],
        "connection_info.uid": f["session"], "connection_info.protocol_name": proto,
        "connection_info.protocol_num": pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32),
                                                pc.index_in(proto, value_set=pa.array(list(_NF_PROTOCOLS), S))),
        "connection_info.direction_id": const(0, n, _I32),
        "actor.user.name": f["src_user"], "user.name": f["dst_user"],
        "url.url_string": url, "file.name": file_name, "file.type_id": const(1, n, _I32),
    })  # fmt: skip
    evidence = objects_where(evidence, {"actor": f["src_user"], "user": f["dst_user"], "url": url, "file": file_name})
    items = [(k, json_string(f[k])) for k in ("nat_src", "nat_dst", "rule", "app", "category", "direction", "repeat")]
    own = pc.strptime(f["generated"], format="%Y/%m/%d %H:%M:%S", unit="ms", error_is_null=True).cast(_I64)
    return hit, {
        "_activity": const(1, n, _I32),
        "_severity": pc.add(pc.index_in(pc.utf8_lower(f["severity"]), value_set=_PANOS_SEVERITY), 1),
        "_panos": _object(items, n),
        "_time": own,
        "action_id": action_id,
        "action": captions("detection_finding", "action_id", action_id),
        "disposition_id": disposition_id,
        "disposition": captions("detection_finding", "disposition_id", disposition_id),
        "is_alert": const(True, n, pa.bool_()),
        "finding_info.uid": pc.binary_join_element_wise(f["serial"], f["seq"], "-"),
        "finding_info.title": title,
        "finding_info.types": singleton_list(subtype, pc.is_valid(subtype)),
        "finding_info.analytic.name": name,
        "finding_info.analytic.uid": group(threat, "id"),
        "finding_info.analytic.type_id": const(1, n, _I32),
        "finding_info.analytic.type": pc.if_else(pc.is_valid(name), "Rule", none),
        "evidences": singleton_list(evidence),
    }


#: Junos SRX session logs (``RT_FLOW`` in structured-data form, the ``junos@`` SD-ELEMENT; the
#: ``_LS`` forms are a logical system's): MSGID -> activity (session created Open, closed Close,
#: denied Refuse, an AppTrack volume update Traffic)
_JUNOS_FLOW = {"RT_FLOW_SESSION_CREATE": 1, "RT_FLOW_SESSION_CLOSE": 2, "RT_FLOW_SESSION_DENY": 5,
               "APPTRACK_SESSION_CREATE": 1, "APPTRACK_SESSION_CLOSE": 2, "APPTRACK_SESSION_VOL_UPDATE": 6}  # fmt: skip
_JUNOS_FLOW_IDS = pa.array([*_JUNOS_FLOW, *(k + "_LS" for k in _JUNOS_FLOW)], S)
_JUNOS_FLOW_ACTS = pa.array([*_JUNOS_FLOW.values(), *_JUNOS_FLOW.values()], _I32)
#: the PARAMs read (``N/A``, ``None`` and ``UNKNOWN`` are no value)
_JUNOS_FLOW_PARAMS = ("source-address", "source-port", "destination-address", "destination-port", "protocol-id",
                      "policy-name", "source-zone-name", "destination-zone-name", "session-id-32", "packets-from-client",
                      "bytes-from-client", "packets-from-server", "bytes-from-server", "elapsed-time", "username",
                      "application")  # fmt: skip


def _junos_flow(msgid: pa.Array, sd: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the Junos SRX session logs, their Network Activity columns with ``_activity``), or None
    when there are none: the activity by the MSGID (:data:`_JUNOS_FLOW`), a denied session Denied
    / Blocked, every other Allowed; addresses, ports and zones, ``protocol-id``, ``session-id-32``
    as ``connection_info.uid``, ``policy-name`` as the firewall rule, the client's packets and
    bytes out and the server's in, ``elapsed-time`` (seconds) as the duration, ``username`` the
    actor, ``application`` the app; the whole element (NAT, the close or deny reason) stays in
    ``unmapped.structured_data``."""
    if msgid.null_count == len(msgid) or not _fast.contains_any(msgid.buffers()[2], (b"_SESSION_",)):
        return None
    at = pc.index_in(msgid, value_set=_JUNOS_FLOW_IDS)
    hit = pc.and_(pc.is_valid(at), pc.fill_null(pc.starts_with(sd, "[junos@"), False))
    if not pc.any(hit).as_py():
        return None
    sd = sd.filter(hit)
    p = {}
    for name in _JUNOS_FLOW_PARAMS:
        got = _junos_param(sd, name)
        p[name] = pc.if_else(pc.fill_null(pc.is_in(pc.utf8_trim_whitespace(got), value_set=pa.array(["N/A", "None", "UNKNOWN", ""], S)), False),
                             pa.scalar(None, S), got)  # fmt: skip

    def number(key: str, typ: pa.DataType = _I64) -> pa.Array:
        return _number(p[key], typ)

    activity = pc.take(_JUNOS_FLOW_ACTS, at.filter(hit))
    denied = pc.equal(activity, 5)
    proto = number("protocol-id", _I32)
    out_b, in_b = number("bytes-from-client"), number("bytes-from-server")
    out_p, in_p = number("packets-from-client"), number("packets-from-server")
    cols = {
        "_activity": activity,
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "action": pc.if_else(denied, "Denied", "Allowed"),
        "disposition_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "disposition": pc.if_else(denied, "Blocked", "Allowed"),
        "connection_info.uid": p["session-id-32"],
        "connection_info.protocol_num": proto,
        "connection_info.protocol_name": pc.take(pa.array(list(_PROTOCOL_NAMES.values()), S),
                                                 pc.index_in(proto, value_set=pa.array(list(_PROTOCOL_NAMES), _I32))),
        "src_endpoint.ip": p["source-address"],
        "src_endpoint.port": number("source-port", _I32),
        "src_endpoint.zone": p["source-zone-name"],
        "dst_endpoint.ip": p["destination-address"],
        "dst_endpoint.port": number("destination-port", _I32),
        "dst_endpoint.zone": p["destination-zone-name"],
        "firewall_rule.name": p["policy-name"],
        "actor.user.name": p["username"],
        "app_name": p["application"],
        **_traffic(out_b, in_b, out_p, in_p),
        "duration": pc.multiply(number("elapsed-time"), 1000),
    }
    return hit, cols


#: a Cisco Meraki flow or firewall message (event types ``flows``, ``firewall``, ``vpn_firewall``,
#: ``cellular_firewall``, ..., ``ip_flow_start`` / ``ip_flow_end``; Meraki's "Syslog Event Types and
#: Log Samples"): ``[allow|deny ]src=A dst=A [mac=M] protocol=P [sport=N dport=N] [type=N]
#: [translated_{src|dst}_ip=A translated_port=N] [pattern: <the rule>]``
_MERAKI_FLOW = (
    r"^(?:(?P<verdict>allow|deny) )?src=(?P<src>[0-9A-Fa-f.:]+) dst=(?P<dst>[0-9A-Fa-f.:]+)(?: mac=(?P<mac>\S+))? "
    r"protocol=(?P<proto>\S+)(?: sport=(?P<sport>\d+))?(?: dport=(?P<dport>\d+))?(?: type=(?P<itype>\d+))?"
    r"(?: translated_(?:src|dst)_ip=(?P<tip>\S+))?(?: translated_port=(?P<tport>\d+))?(?: pattern: (?P<pattern>.*))?$"
)
_MERAKI_TYPES = pa.array(["flows", "firewall", "vpn_firewall", "cellular_firewall", "bridge_anyconnect_client_vpn_firewall",
                          "ip_flow_start", "ip_flow_end"], S)  # fmt: skip


def _meraki_flows(msgid: pa.Array, msg: pa.Array, fmt: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the Cisco Meraki flow and firewall messages, their Network Activity columns with
    ``_activity`` and ``_meraki`` for ``unmapped``), or None when there are none: ``ip_flow_start``
    Open, ``ip_flow_end`` Close, the others Traffic; the verdict (``allow``/``deny`` after the type,
    else the rule's ``pattern:``: ``allow ...``/``deny ...``, the older numeric ``0 ...`` (allow) /
    ``1 ...`` (deny), ``Group Policy Allow``) Allowed or Denied / Blocked, Unknown where neither
    says; addresses,
    ports, protocol (name or number), ``mac`` as the source's MAC, the rule as
    ``firewall_rule.name``; the NAT translation and ICMP type in ``unmapped.meraki``."""
    if fmt.null_count == len(fmt) or not _fast.contains_any(msg.buffers()[2] or b"", (b"src=",)):
        return None
    mine = pc.fill_null(pc.and_(pc.equal(fmt, "Cisco Meraki"), pc.is_in(msgid, value_set=_MERAKI_TYPES)), False)
    if (found := _matches(mine, msg, _MERAKI_FLOW)) is None:
        return None
    hit, got = found
    kind = msgid.filter(hit)
    none = pa.scalar(None, S)
    said = pc.utf8_lower(pc.coalesce(group(got, "verdict"), _nil_empty(group(got, "pattern"))))
    denied = pc.fill_null(pc.match_substring_regex(said, r"^(?:deny|1 )|\bdeny\b"), False)
    allowed = pc.and_(pc.invert(denied), pc.fill_null(pc.match_substring_regex(said, r"^(?:allow|0 )|\ballow\b"), False))
    known = pc.or_(denied, allowed)
    activity = pc.if_else(pc.equal(kind, "ip_flow_start"), pa.scalar(1, _I32),
                          pc.if_else(pc.equal(kind, "ip_flow_end"), pa.scalar(2, _I32), pa.scalar(6, _I32)))
    proto = pc.utf8_lower(group(got, "proto"))
    numbered = pc.fill_null(pc.match_substring_regex(proto, r"^\d{1,3}$"), False)
    named = pc.if_else(pc.equal(proto, "icmp6"), "icmpv6", proto)
    proto_num = pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32), pc.index_in(named, value_set=pa.array(list(_NF_PROTOCOLS), S)))
    src = _ip6_short(group(got, "src"))
    items = [("translated_ip", json_string(_nil_empty(group(got, "tip")))), ("translated_port", json_string(_nil_empty(group(got, "tport")))),
             ("icmp_type", json_string(_nil_empty(group(got, "itype"))))]  # fmt: skip
    cols = {
        "_activity": activity,
        "_meraki": _object(items, len(got)),
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pc.if_else(allowed, pa.scalar(1, _I32), pa.scalar(0, _I32))),
        "action": pc.if_else(denied, "Denied", pc.if_else(allowed, "Allowed", "Unknown")),
        "disposition_id": pc.if_else(known, pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)), pa.scalar(None, _I32)),
        "disposition": pc.if_else(known, pc.if_else(denied, "Blocked", "Allowed"), none),
        "connection_info.protocol_num": pc.coalesce(pc.if_else(numbered, proto, none).cast(_I32), proto_num),
        "connection_info.protocol_name": pc.if_else(numbered, none, named),
        "connection_info.protocol_ver_id": pc.if_else(pc.match_substring(src, ":"), pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "src_endpoint.ip": src,
        "src_endpoint.port": _number(group(got, "sport"), _I32),
        "src_endpoint.mac": _nil_empty(group(got, "mac")),
        "dst_endpoint.ip": _ip6_short(group(got, "dst")),
        "dst_endpoint.port": _number(group(got, "dport"), _I32),
        "firewall_rule.name": _nil_empty(group(got, "pattern")),
    }
    return hit, cols
