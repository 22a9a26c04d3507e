"""Host firewalls' packet logs in syslog -> Network Activity (4001): pf's ``filterlog`` CSV (pfSense,
OPNsense), Linux netfilter's ``LOG`` target lines (iptables/nftables, UFW, firewalld), Windows
Defender Firewall's ``pfirewall.log`` and sshd's refusals of connections (MaxStartups,
PerSourcePenalties); the IP protocol numbers and names the network readers share.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._syslog_common import _I32, _I64, S, _matches, _nil_empty, _number, _object
from secpipe.formats._text import group, json_string
from secpipe.formats.base import const

#: a pf ``filterlog`` line (pfSense and OPNsense, "Raw Filter Log Format"): ``rule,sub-rule,anchor,
#: tracker,interface,reason,action,direction,ip-version,`` then the IPv4 fields (``tos,ecn,ttl,id,
#: offset,flags,protocol-id,protocol,length,src,dst``) or the IPv6 ones (``class,flow-label,
#: hop-limit,protocol,protocol-id,length,src,dst``), then the protocol's (TCP and UDP: ``src-port,
#: dst-port,data-length``, TCP then ``flags,seq,ack,window,urg,options``)
_FILTERLOG = r"^\d*,[^,]*,[^,]*,[^,]*,[^,]+,[^,]*,(?:pass|block|reject),(?:in|out),[46],"
_PF_ACTION = {"pass": (1, "Allowed", 1, "Allowed"), "block": (2, "Denied", 2, "Blocked"), "reject": (2, "Denied", 25, "Rejected")}
_PF_ACTIONS = pa.array(list(_PF_ACTION), S)
_PF_PAD = "," * 16  # every line split into at least the fields read (a short line's missing ones empty)


def _filterlog(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are pf ``filterlog`` lines, their Network Activity columns with
    ``_activity`` and ``_filterlog`` for ``unmapped``), or None when there are none. A logged
    packet: activity Traffic; the rule's action (pass Allowed, block Denied / Blocked, reject
    Denied / Rejected); direction in Inbound, out Outbound; the IP version, protocol number and
    name, addresses and TCP/UDP ports, the IP length as ``traffic.bytes``; the rule's tracker id
    as ``firewall_rule.uid``; rule number, interface, reason, the TCP flags and ICMP type in ``unmapped``."""
    if app.null_count == len(app) or not _fast.contains_any(app.buffers()[2], (b"filterlog",)):
        return None
    hit = pc.fill_null(pc.and_(pc.equal(app, "filterlog"), pc.match_substring_regex(msg, _FILTERLOG)), False)
    if not pc.any(hit).as_py():
        return None
    m = msg.filter(hit)
    parts = pc.split_pattern(pc.binary_join_element_wise(m, _PF_PAD, ""), ",")
    none = pa.scalar(None, S)

    def at(i: int) -> pa.Array:
        return _nil_empty(pc.list_element(parts, i))

    v6 = pc.equal(at(8), "6")

    def pick(i4: int, i6: int) -> pa.Array:
        return pc.if_else(v6, at(i6), at(i4))

    proto = pc.utf8_lower(pick(16, 12))
    ported = pc.is_in(proto, value_set=pa.array(["tcp", "udp"], S))
    tcp = pc.equal(proto, "tcp")

    def port(i4: int, i6: int) -> pa.Array:
        text = pc.if_else(ported, pick(i4, i6), none)
        ok = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,5}$"), False)
        return pc.if_else(ok, text, none).cast(_I32)

    act = pc.index_in(at(6), value_set=_PF_ACTIONS)
    inbound = pc.equal(at(7), "in")
    length = pick(17, 14)
    length_ok = pc.fill_null(pc.match_substring_regex(length, r"^\d{1,9}$"), False)
    proto_num = pick(15, 13)
    num_ok = pc.fill_null(pc.match_substring_regex(proto_num, r"^\d{1,3}$"), False)

    def take(vals: list[Any], typ: pa.DataType) -> pa.Array:
        return pa.array(vals, typ).take(act)

    items = [("rule", json_string(at(0))), ("subrule", json_string(at(1))), ("anchor", json_string(at(2))),
             ("interface", json_string(at(4))), ("reason", json_string(at(5))),
             ("tcp_flags", json_string(pc.if_else(tcp, pick(23, 20), none))),
             ("icmp_type", json_string(pc.if_else(pc.starts_with(proto, "icmp"), pick(20, 17), none)))]  # fmt: skip
    cols = {
        "_activity": pa.array(np.full(len(m), 6, np.int32)),
        "_filterlog": _object(items, len(m)),
        "action_id": take([a[0] for a in _PF_ACTION.values()], _I32),
        "action": take([a[1] for a in _PF_ACTION.values()], S),
        "disposition_id": take([a[2] for a in _PF_ACTION.values()], _I32),
        "disposition": take([a[3] for a in _PF_ACTION.values()], S),
        "connection_info.direction_id": pc.if_else(inbound, pa.scalar(1, _I32), pa.scalar(2, _I32)),
        "connection_info.direction": pc.if_else(inbound, "Inbound", "Outbound"),
        "connection_info.protocol_ver_id": pc.if_else(v6, pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "connection_info.protocol_ver": pc.if_else(v6, "Internet Protocol version 6 (IPv6)", "Internet Protocol version 4 (IPv4)"),
        "connection_info.protocol_num": pc.if_else(num_ok, proto_num, none).cast(_I32),
        "connection_info.protocol_name": proto,
        "src_endpoint.ip": pick(18, 15),
        "src_endpoint.port": port(20, 17),
        "dst_endpoint.ip": pick(19, 16),
        "dst_endpoint.port": port(21, 18),
        "traffic.bytes": pc.if_else(length_ok, length, none).cast(pa.int64()),
        "firewall_rule.uid": at(3),
    }
    return hit, cols


#: a packet the Linux kernel's netfilter logged (iptables/ip6tables ``-j LOG``, ufw, firewalld,
#: nftables ``log``, EdgeOS/VyOS rule logging: ``nf_log_syslog``'s ``nf_log_dump_packet_common``):
#: ``[uptime] `` (dmesg's stamp, when the log keeps it), the rule's ``--log-prefix`` (up to 29
#: characters, any text: ``[UFW BLOCK] ``, ``iptables DROP_INPUT: ``, EdgeOS's ``[WAN_IN-10-D]``
#: glued to ``IN=``), ``IN=<if> OUT=<if> `` (one empty for a packet that enters or leaves the host,
#: both set for a forwarded one), a bridge's ``PHYSIN=``/``PHYSOUT=``, ``MAC=<dst>:<src>:<type>``,
#: ``SRC= DST= LEN=`` then the IPv4 (``TOS PREC TTL ID [DF]``) or IPv6 (``TC HOPLIMIT FLOWLBL``)
#: fields, ``PROTO=`` its name (or number) and, for TCP and UDP, ``SPT= DPT=``; an ICMP error's
#: quoted packet follows in ``[...]``, which the pattern does not read into
_NETFILTER = (
    r"^(?:\[ *\d+\.\d+\] ?)?(?P<prefix>[^=]*?) ?IN=(?P<in>\S*) OUT=(?P<out>\S*) (?:PHYSIN=\S* )?(?:PHYSOUT=\S* )?"
    r"(?:MAC=(?P<mac>\S*) )?SRC=(?P<src>[0-9A-Fa-f.:]+) DST=(?P<dst>[0-9A-Fa-f.:]+)(?: LEN=(?P<len>\d{1,5}))?"
    r"(?: [^\[]*?)? PROTO=(?P<proto>\w+)(?: SPT=(?P<spt>\d{1,5}) DPT=(?P<dpt>\d{1,5}))?"
    r"(?:[^\[]*? TYPE=(?P<type>\d{1,3}) CODE=(?P<code>\d{1,3}))?(?:[^\[]*? RES=0x[0-9a-f]+ (?P<flags>(?:[A-Z]{3} )*)URGP=)?"
)
#: what the rule did, read from its log prefix (the kernel logs no verdict): ufw's ``[UFW BLOCK]``
#: / ``[UFW ALLOW]`` / ``[UFW LIMIT BLOCK]``, firewalld's ``FINAL_REJECT:`` / ``filter_IN_public_DROP:``,
#: a custom ``DROP``/``DENY``/``ACCEPT``; EdgeOS/VyOS name the rule ``[<ruleset>-<rule>-<A|D|R>]``
#: (accept, drop, reject). Another prefix (ufw's ``[UFW AUDIT]``, none) leaves it Unknown. The
#: first that matches: (action_id, action, disposition_id, disposition).
_NF_VERDICTS = (
    (re.compile(r"(?i)reject|-R\]$"), (2, "Denied", 25, "Rejected")),
    (re.compile(r"(?i)drop|deny|denied|block|-D\]$"), (2, "Denied", 2, "Blocked")),
    (re.compile(r"(?i)accept|allow|pass|-A\]$"), (1, "Allowed", 1, "Allowed")),
)
_NF_UNKNOWN = (0, "Unknown", None, None)
#: IANA protocol numbers of the names the kernel writes after ``PROTO=``
_NF_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "esp": 50, "ah": 51, "gre": 47, "sctp": 132,
                 "udplite": 136, "igmp": 2}  # fmt: skip


def _netfilter(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are netfilter packet logs, their Network Activity columns with
    ``_activity`` and ``_netfilter`` for ``unmapped``), or None when there are none. Activity
    Traffic; the verdict the prefix names (see :data:`_NF_VERDICTS`); direction Inbound where
    only ``IN`` is set, Outbound where only ``OUT`` is, Unknown for a forwarded packet; IP version
    by the address; protocol name and number, addresses, TCP/UDP ports, ``LEN`` as
    ``traffic.bytes``; the prefix (brackets and colon off; a relay's TAG where the line has
    none) as ``firewall_rule.name``; the interfaces, MAC header, TCP flags and ICMP type/code in
    ``unmapped.netfilter``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b" SRC=",)):
        return None
    cand = pc.fill_null(pc.match_substring(msg, "OUT="), False)
    if (found := _matches(cand, msg, _NETFILTER)) is None:
        return None
    hit, got = found
    n = len(got)
    none = pa.scalar(None, S)
    prefix = _nil_empty(pc.utf8_trim(group(got, "prefix"), " :"))
    tag = app.filter(hit)
    prefix = pc.coalesce(prefix, pc.if_else(pc.fill_null(pc.equal(tag, "kernel"), True), none, tag))
    rule = _nil_empty(pc.utf8_trim(pc.replace_substring_regex(prefix, r"^\[(.*)\]$", r"\1"), " :"))
    # the verdict of each distinct prefix (a log holds a few rules' prefixes)
    prefixes = pc.dictionary_encode(pc.fill_null(prefix, ""))
    verdicts = [next((v for rx, v in _NF_VERDICTS if rx.search(p)), _NF_UNKNOWN) for p in prefixes.dictionary.to_pylist()]
    [action_id, action, disposition_id, disposition] = (
        pc.take(pa.array(col, typ), prefixes.indices) for col, typ in zip(zip(*verdicts, strict=True), (_I32, S, _I32, S), strict=True))
    nic_in, nic_out = _nil_empty(group(got, "in")), _nil_empty(group(got, "out"))
    inbound = pc.and_(pc.is_valid(nic_in), pc.is_null(nic_out))
    outbound = pc.and_(pc.is_null(nic_in), pc.is_valid(nic_out))
    direction = pc.if_else(inbound, pa.scalar(1, _I32), pc.if_else(outbound, pa.scalar(2, _I32), pa.scalar(0, _I32)))
    src, dst = _ip6_short(group(got, "src")), _ip6_short(group(got, "dst"))
    v6 = pc.match_substring(src, ":")
    proto = pc.utf8_lower(group(got, "proto"))
    numbered = pc.fill_null(pc.match_substring_regex(proto, r"^\d{1,3}$"), False)
    proto_num = pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32), pc.index_in(proto, value_set=pa.array(list(_NF_PROTOCOLS), S)))
    proto_num = pc.coalesce(pc.if_else(numbered, proto, none).cast(_I32), proto_num)
    items = [("in", json_string(nic_in)), ("out", json_string(nic_out)), ("mac", json_string(_nil_empty(group(got, "mac")))),
             ("tcp_flags", json_string(_nil_empty(pc.utf8_rtrim(group(got, "flags"), " ")))),
             ("icmp_type", json_string(group(got, "type"))), ("icmp_code", json_string(group(got, "code")))]  # fmt: skip
    cols = {
        "_activity": pa.array(np.full(n, 6, np.int32)),
        "_netfilter": _object(items, n),
        "action_id": action_id,
        "action": action,
        "disposition_id": disposition_id,
        "disposition": disposition,
        "connection_info.direction_id": direction,
        "connection_info.direction": pc.take(pa.array(["Unknown", "Inbound", "Outbound"], S), direction),
        "connection_info.protocol_ver_id": pc.if_else(v6, pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "connection_info.protocol_ver": pc.if_else(v6, "Internet Protocol version 6 (IPv6)", "Internet Protocol version 4 (IPv4)"),
        "connection_info.protocol_num": proto_num,
        "connection_info.protocol_name": pc.if_else(numbered, none, proto),
        "src_endpoint.ip": src,
        "src_endpoint.port": group(got, "spt").cast(_I32),
        "dst_endpoint.ip": dst,
        "dst_endpoint.port": group(got, "dpt").cast(_I32),
        "traffic.bytes": group(got, "len").cast(pa.int64()),
        "firewall_rule.name": rule,
    }
    return hit, cols


def _ip6_short(ip: pa.Array) -> pa.Array:
    """IPv6 addresses in their RFC 5952 text (the kernel writes all eight groups in full,
    ``fe80:0000:...:790a``, where every other source and an analyst's query write ``fe80::...``);
    IPv4 ones as they are. Each distinct IPv6 address is rewritten once."""
    v6 = pc.fill_null(pc.match_substring(ip, ":"), False)
    if not pc.any(v6).as_py():
        return ip
    seen = pc.unique(ip.filter(v6))
    short = pa.array([_short6(a) for a in seen.to_pylist()], S)
    return pc.if_else(v6, pc.take(short, pc.index_in(ip, value_set=seen)), ip)


def _short6(text: str) -> str:
    """One IPv6 address in its RFC 5952 text; anything that is none as it is."""
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        return text


#: IANA protocol numbers -> the names other sources write
_PROTOCOL_NAMES = {num: name for name, num in _NF_PROTOCOLS.items()}


#: a Windows Defender Firewall log line (``pfirewall.log``, W3C-like with the fixed ``#Fields: date
#: time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype
#: icmpcode info path`` and, since Windows 10, ``pid``; ``-`` where a field has no value)
_WINFW = (
    r"^(?P<d>\d{4}-\d\d-\d\d) (?P<t>\d\d:\d\d:\d\d) (?P<action>ALLOW|DROP|OPEN|CLOSE|OPEN-INBOUND) (?P<proto>\S+) "
    r"(?P<src>[0-9A-Fa-f.:]+) (?P<dst>[0-9A-Fa-f.:]+) (?P<sport>\S+) (?P<dport>\S+) (?P<size>\S+) (?P<flags>\S+) \S+ \S+ \S+ "
    r"(?P<itype>\S+) (?P<icode>\S+) (?P<info>\S+) (?P<path>\S+)(?: (?P<pid>\S+))?\s*$"
)
#: action -> (activity_id, denied): ALLOW and DROP log a packet (Traffic), XP's OPEN/CLOSE a session
_WINFW_ACTIONS = {"ALLOW": (6, False), "DROP": (6, True), "OPEN": (1, False), "OPEN-INBOUND": (1, False), "CLOSE": (2, False)}


def _windows_firewall(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are Windows Firewall log lines, their Network Activity columns with
    ``_activity``, ``_windows_firewall`` for ``unmapped`` and ``_time``), or None when there are none: the
    action (DROP Denied / Blocked; ALLOW, OPEN, CLOSE Allowed; OPEN Open, CLOSE Close, the others
    Traffic), the path the direction (RECEIVE Inbound, SEND Outbound), protocol, addresses and
    ports, the size as ``traffic.bytes``, the pid as the actor process's; the line's date and time
    (the host's local time, no zone: UTC) as the time; TCP flags, ICMP type and code, info and path
    in ``unmapped.windows_firewall``."""
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], (b" DROP ", b" ALLOW ", b" OPEN", b" CLOSE ")):
        return None
    cand = pc.fill_null(pc.match_substring_regex(msg, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]"), False)
    if (found := _matches(cand, msg, _WINFW)) is None:
        return None
    hit, got = found
    none = pa.scalar(None, S)

    def given(name: str) -> pa.Array:  # "-" is the log's absent value
        v = group(got, name)
        return pc.if_else(pc.fill_null(pc.equal(v, "-"), True), none, v)

    at = pc.index_in(group(got, "action"), value_set=pa.array(list(_WINFW_ACTIONS), S))
    activity = pc.take(pa.array([a for a, _ in _WINFW_ACTIONS.values()], _I32), at)
    denied = pc.take(pa.array([d for _, d in _WINFW_ACTIONS.values()], pa.bool_()), at)
    path = group(got, "path")
    direction = pc.if_else(pc.equal(path, "RECEIVE"), pa.scalar(1, _I32), pc.if_else(pc.equal(path, "SEND"), pa.scalar(2, _I32), pa.scalar(0, _I32)))
    proto = pc.utf8_lower(given("proto"))
    numbered = pc.fill_null(pc.match_substring_regex(proto, r"^\d{1,3}$"), False)
    proto_num = pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32), pc.index_in(proto, value_set=pa.array(list(_NF_PROTOCOLS), S)))
    src = _ip6_short(group(got, "src"))
    items = [(k, json_string(given(g))) for k, g in (("tcp_flags", "flags"), ("icmp_type", "itype"), ("icmp_code", "icode"),
                                                      ("info", "info"), ("path", "path"))]  # fmt: skip
    cols = {
        "_activity": activity,
        "_windows_firewall": _object(items, len(got)),
        "_time": pc.strptime(pc.binary_join_element_wise(group(got, "d"), group(got, "t"), " "), format="%Y-%m-%d %H:%M:%S",
                             unit="ms", error_is_null=True).cast(_I64),  # fmt: skip
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "action": pc.if_else(denied, "Denied", "Allowed"),
        "disposition_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "disposition": pc.if_else(denied, "Blocked", "Allowed"),
        "connection_info.direction_id": direction,
        "connection_info.direction": pc.take(pa.array(["Unknown", "Inbound", "Outbound"], S), direction),
        "connection_info.protocol_num": pc.coalesce(pc.if_else(numbered, proto, none).cast(_I32), proto_num),
        "connection_info.protocol_name": pc.if_else(numbered, none, proto),
        "connection_info.protocol_ver_id": pc.if_else(pc.match_substring(src, ":"), pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "src_endpoint.ip": src,
        "src_endpoint.port": _number(group(got, "sport"), _I32),
        "dst_endpoint.ip": _ip6_short(group(got, "dst")),
        "dst_endpoint.port": _number(group(got, "dport"), _I32),
        "traffic.bytes": _number(group(got, "size"), _I64),
        "actor.process.pid": _number(group(got, "pid"), _I32),
    }
    return hit, cols


#: sshd's listener refusing a connection before it forks a session (OpenSSH sshd.c ``drop_connection``:
#: ``drop connection #%d from [%s]:%d on [%s]:%d %s``, the number the unauthenticated connections in
#: flight, then the reason: srclimit.c's ``penalty: failed authentication``, ``penalty: exceeded
#: LoginGraceTime``, ``penalty: connections without attempting authentication``, ``penalty: attempted
#: authentication by invalid user``, ``penalty: caused crash``, ``penalty: connection prohibited by
#: RefuseConnection``, ``too many penalised addresses`` (PerSourcePenalties, OpenSSH 9.8+), or ``past
#: Maxstartups``; before 9.8 the line was ``... past MaxStartups`` alone; Debian's builds have written
#: ``Maxstartups``; a client's port left out, as a published capture shows, is read without it)
_SSHD_DROP = (
    r"^drop connection #(?P<n>\d{1,9}) from \[(?P<src>[^\]\s]+)\](?::(?P<sport>\d{1,5}))? on \[(?P<dst>[^\]\s]+)\]:"
    r"(?P<dport>\d{1,5}) (?P<why>\S.*?)\s*$"
)
_SSHD_APPS = pa.array(["sshd", "sshd-session"], S)


def _sshd_lines(app: pa.Array, msg: pa.Array, needle: bytes, regex: str) -> tuple[pa.Array, pa.Array] | None:
    """(sshd's messages holding ``needle`` that ``regex`` takes, its groups for them), or None."""
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], (needle,)):
        return None
    return _matches(pc.fill_null(pc.is_in(app, value_set=_SSHD_APPS), False), msg, regex)


def _drop_lines(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(sshd's ``drop connection`` lines, their Network Activity columns with ``_activity`` and
    ``_sshd`` for ``unmapped``), or None when there are none: a TCP connection to the SSH server
    refused before any authentication (no user to name: not an Authentication), as a firewall's
    deny is -- activity Refuse, Denied / Blocked, direction Inbound; the client the source, the
    server's address and port the destination, the reason (a PerSourcePenalties penalty, MaxStartups)
    as ``status_detail``; the count of unauthenticated connections in ``unmapped.sshd.startups``."""
    if (found := _sshd_lines(app, msg, b"drop connection #", _SSHD_DROP)) is None:
        return None
    hit, got = found
    n = len(got)
    src = _ip6_short(group(got, "src"))
    cols = {
        "_activity": const(5, n, _I32),
        "activity_name": const("Refuse", n),
        "_sshd": _object([("startups", group(got, "n"))], n),
        "action_id": const(2, n, _I32),
        "action": const("Denied", n),
        "disposition_id": const(2, n, _I32),
        "disposition": const("Blocked", n),
        "status_detail": group(got, "why"),
        "connection_info.direction_id": const(1, n, _I32),
        "connection_info.direction": const("Inbound", n),
        "connection_info.protocol_num": const(6, n, _I32),
        "connection_info.protocol_name": const("tcp", n),
        "connection_info.protocol_ver_id": pc.if_else(pc.match_substring(src, ":"), pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "src_endpoint.ip": src,
        "src_endpoint.port": _number(group(got, "sport"), _I32),
        "dst_endpoint.ip": _ip6_short(group(got, "dst")),
        "dst_endpoint.port": _number(group(got, "dport"), _I32),
    }
    return hit, cols


#: sshd's PerSourcePenalties recording a penalty on a client's address (OpenSSH 9.8+ srclimit.c
#: ``srclimit_penalise``, its function name before the text): ``ipv4: new 192.0.2.7/32 active penalty of
#: 30.000 seconds for penalty: failed authentication`` (``deferred`` below the activation threshold, logged at
#: VERBOSE), ``192.0.2.7/32: activating ipv4 penalty of 45.000 seconds for ...`` (a deferred one grown past
#: it), ``ipv4 penalty table full, cannot penalise 192.0.2.7/32 for ...`` (not recorded). 9.8 wrote the
#: seconds without decimals; a capture cut after "seconds" is read without its reason.
_SSHD_PENALTY = (
    r"^srclimit_penalise: (?:"
    r"(?P<fam>ipv[46]): new (?P<src>[^\s/]+)/(?P<bits>\d{1,3}) (?P<state>active|deferred) penalty of "
    r"(?P<secs>\d{1,9}(?:\.\d{1,6})?) seconds"
    r"|(?P<src2>[^\s/]+)/(?P<bits2>\d{1,3}): (?P<state2>activating) (?P<fam2>ipv[46]) penalty of "
    r"(?P<secs2>\d{1,9}(?:\.\d{1,6})?) seconds"
    r"|(?P<fam3>ipv[46]) penalty (?P<state3>table full), cannot penalise (?P<src3>[^\s/]+)/(?P<bits3>\d{1,3})"
    r")(?: for (?P<why>\S.*?))?\s*$"
)


def _penalty_lines(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(sshd's ``srclimit_penalise`` lines, their Network Activity columns), or None when there are none: the
    SSH server's decision about a client's inbound connections, as an IPS's block is -- activity Other named
    ``Penalty``; a new active or an activating penalty Denied / Blocked (sshd refuses the address's connections
    for its time: the ``drop connection`` lines that follow), a deferred one Observed / Logged, one the full
    table kept out Observed / No Action; the client's address the source (its mask length, the penalty's state,
    seconds and address family in ``unmapped.sshd``), the reason ``status_detail``, direction Inbound, TCP."""
    if (found := _sshd_lines(app, msg, b"srclimit_penalise: ", _SSHD_PENALTY)) is None:
        return None
    hit, got = found
    n = len(got)

    def pick(name: str) -> pa.Array:
        return pc.coalesce(*(_nil_empty(group(got, name + k)) for k in ("", "2", "3") if name + k in _PENALTY_GROUPS))

    src, state = _ip6_short(pick("src")), pick("state")
    blocked = pc.is_in(state, value_set=pa.array(["active", "activating"], S))
    logged = pc.equal(state, "deferred")
    items = [("penalty", json_string(state)), ("seconds", pick("secs")), ("masklen", pick("bits")),
             ("family", json_string(pick("fam")))]  # fmt: skip
    cols = {
        "_activity": const(99, n, _I32),
        "activity_name": const("Penalty", n),
        "_sshd": _object(items, n),
        "action_id": pc.if_else(blocked, pa.scalar(2, _I32), pa.scalar(3, _I32)),
        "action": pc.if_else(blocked, "Denied", "Observed"),
        "disposition_id": pc.if_else(blocked, pa.scalar(2, _I32), pc.if_else(logged, pa.scalar(17, _I32), pa.scalar(16, _I32))),
        "disposition": pc.if_else(blocked, "Blocked", pc.if_else(logged, "Logged", "No Action")),
        "status_detail": _nil_empty(group(got, "why")),
        "connection_info.direction_id": const(1, n, _I32),
        "connection_info.direction": const("Inbound", n),
        "connection_info.protocol_num": const(6, n, _I32),
        "connection_info.protocol_name": const("tcp", n),
        "connection_info.protocol_ver_id": pc.if_else(pc.equal(pick("fam"), "ipv6"), pa.scalar(6, _I32), pa.scalar(4, _I32)),
        "src_endpoint.ip": src,
    }  # fmt: skip
    return hit, cols


_PENALTY_GROUPS = frozenset(re.findall(r"\(\?P<(\w+)>", _SSHD_PENALTY))


def _sshd_drops(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """sshd's refusals (:func:`_drop_lines`) and penalties (:func:`_penalty_lines`) as one reader: (their
    lines, their Network Activity columns in the lines' order), or None when there are none."""
    found = [x for x in (_drop_lines(app, msg), _penalty_lines(app, msg)) if x is not None]
    if len(found) < 2:
        return found[0] if found else None
    (h1, c1), (h2, c2) = found
    hit = pc.or_(h1, h2)
    first = h1.filter(hit)  # each taken line: a drop (else a penalty)
    at1 = pc.subtract(pc.cumulative_sum(first.cast(pa.int64())), 1)
    at2 = pc.subtract(pc.cumulative_sum(pc.invert(first).cast(pa.int64())), 1)
    none = pa.scalar(None, pa.int64())
    take1, take2 = pc.if_else(first, at1, none), pc.if_else(first, none, at2)
    cols = {}
    for key in dict.fromkeys([*c1, *c2]):
        a = c1[key].take(take1) if key in c1 else None
        b = c2[key].take(take2) if key in c2 else None
        cols[key] = b if a is None else a if b is None else pc.if_else(first, a, b)
    return hit, cols
