"""Cisco Secure Firewall Threat Defense (FTD) connection events in syslog -> Network Activity (4001).

FTD's security event messages (Cisco Secure Firewall Threat Defense Syslog Messages, "Security Event
Syslog Messages"): 430002 (a connection's beginning) and 430003 (its end) write the connection event as
``Key: Value`` pairs joined by ``", "`` after the ``%FTD-<level>-<number>:`` mnemonic (also ``%ASA-`` on
an ASA with FirePOWER services, ``%NGIPS-`` on NGIPS sensors); a pair is written only when it has a value,
some keys hold a space (``Prefilter Policy``, ``Endpoint Profile``, ``Tunnel or Prefilter Rule``) and a
value may hold commas (``UserAgent``, ``URL``), so each mapped key is read by its name. Level is the
alert level set in the policy (1, Alert, unless changed), not an assessment of the connection.
"""

from __future__ import annotations

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._syslog_common import _I32, _I64, S, _nil_empty, _number, _traffic
from secpipe.formats._syslog_fw import _NF_PROTOCOLS, _ip6_short
from secpipe.formats._text import group, json_string

#: the message's code (``FTD-1-430003``; a header without a host leaves it as the TAG, ``%FTD-1-430003``)
_FTD_CODE = r"^%?(?:FTD|ASA|NGIPS)-(?:\w+-)?[0-7]-43000[23]$"
#: the keys read, each by ``(^|, )Key: value`` up to the next ``,`` (none of them holds a comma)
_FTD_KEYS = ("EventPriority", "FirstPacketSecond", "ConnectionID", "AccessControlRuleAction",
             "AccessControlRuleReason", "SrcIP", "DstIP", "SrcPort", "DstPort", "Protocol", "IngressInterface",
             "EgressInterface", "IngressZone", "EgressZone", "AccessControlRuleName", "User", "ApplicationProtocol",
             "ConnectionDuration", "InitiatorPackets", "ResponderPackets", "InitiatorBytes", "ResponderBytes")  # fmt: skip
#: AccessControlRuleAction -> (action_id, disposition_id), after the guide's table: Allow, Trust and
#: Fastpath let the connection through; Block and Interactive Block stopped it (with reset: the TCP
#: reset sent); Monitor (a rule that logs and passes the connection on) Observed, Logged; Default
#: Action (the policy's default, allow or block, not said) and anything else Unknown
_FTD_ACTIONS = {"Allow": (1, 1), "Trust": (1, 1), "Fastpath": (1, 1), "Block": (2, 2), "Interactive Block": (2, 2),
                "Block with reset": (2, 21), "Interactive Block with reset": (2, 21), "Monitor": (3, 17)}  # fmt: skip
_ACTION_NAMES = {0: "Unknown", 1: "Allowed", 2: "Denied", 3: "Observed"}
_DISPOSITION_NAMES = {0: "Unknown", 1: "Allowed", 2: "Blocked", 17: "Logged", 21: "Reset"}
#: EventPriority -> severity_id (Low, Medium, High)
_FTD_PRIORITY = {"Low": 2, "Medium": 3, "High": 4}
#: the User values that name no user
_NO_USER = pa.array(["No Authentication Required", "Not Found", "Pending", "Unknown"], S)
#: a key of the message (a capitalized word, up to three more words after it: ``Tunnel or Prefilter Rule``)
_KEY = r"[A-Z][A-Za-z0-9_]*(?: [A-Za-z][A-Za-z0-9_]*){0,3}"


def _lookup(values: pa.Array, table: dict[str, int], default: int) -> pa.Array:
    keys = pa.array(list(table), S)
    got = pc.take(pa.array(list(table.values()), _I32), pc.index_in(values, value_set=keys))
    return pc.fill_null(got, pa.scalar(default, _I32))


def _names(ids: pa.Array, names: dict[int, str]) -> pa.Array:
    return pc.take(pa.array([names.get(i) for i in range(max(names) + 1)], S), ids)


def _pairs(msg: pa.Array) -> pa.Array:
    """The message's pairs as a JSON object of strings (``{"Key":"value",...}``), columnar: the
    body JSON-escaped, each ``", Key: "`` made a member boundary."""
    body = pc.utf8_slice_codeunits(json_string(msg), 1, -1)  # the escaped text, without its quotes
    body = pc.replace_substring_regex(body, rf"^({_KEY}): ", r'"\1":"')
    body = pc.replace_substring_regex(body, rf", ({_KEY}): ", r'","\1":"')
    return pc.binary_join_element_wise("{", body, '"}', "")


def _ftd_connections(msgid: pa.Array, app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the FTD 430002 / 430003 connection events, their Network Activity columns with ``_activity``,
    ``_severity`` and ``_ftd`` for ``unmapped``), or None when there are none. 430002 Open, 430003
    Close, a blocked one (Block, Interactive Block, with reset) Refuse; AccessControlRuleAction the
    action and disposition (:data:`_FTD_ACTIONS`); SrcIP / SrcPort / IngressInterface / IngressZone the
    source (the initiator), the Dst / Egress ones the destination; Protocol; ConnectionID
    ``connection_info.uid``; AccessControlRuleName ``firewall_rule.name``, AccessControlRuleReason its
    ``desc``; the initiator's bytes and packets out, the responder's in, their sums;
    ConnectionDuration (s) the duration; FirstPacketSecond the start time; User the actor (not
    ``No Authentication Required``, ``Not Found``, ``Pending``, ``Unknown``); ApplicationProtocol
    ``app_name``; EventPriority the severity (Low, Medium, High; else
    Informational: the syslog level is the policy's alert level, not the event's). Every pair of the
    message (policies, client, URL, DNS query, VRFs ...) stays in ``unmapped.ftd``."""
    code = pc.coalesce(msgid, app)
    if code.null_count == len(code) or not _fast.contains_any(pc.cast(code, S).buffers()[2], (b"-43000",)):
        return None
    hit = pc.fill_null(pc.match_substring_regex(code, _FTD_CODE), False)
    if not pc.any(hit).as_py():
        return None
    text = msg.filter(hit)
    end = pc.ends_with(code.filter(hit), "430003")
    g = {k: _nil_empty(group(pc.extract_regex(text, rf"(?:^|, ){k}: (?P<v>[^,]*)"), "v")) for k in _FTD_KEYS}
    act = g["AccessControlRuleAction"]
    action = _lookup(act, {k: a for k, (a, _d) in _FTD_ACTIONS.items()}, 0)
    disposition = _lookup(act, {k: d for k, (_a, d) in _FTD_ACTIONS.items()}, 0)
    blocked = pc.equal(action, 2)
    activity = pc.if_else(blocked, pa.scalar(5, _I32), pc.if_else(end, pa.scalar(2, _I32), pa.scalar(1, _I32)))
    proto = pc.utf8_lower(g["Protocol"])
    numbered = pc.fill_null(pc.match_substring_regex(proto, r"^\d{1,3}$"), False)
    none = pa.scalar(None, S)
    proto_num = pc.take(pa.array(list(_NF_PROTOCOLS.values()), _I32), pc.index_in(proto, value_set=pa.array(list(_NF_PROTOCOLS), S)))
    src, dst = _ip6_short(g["SrcIP"]), _ip6_short(g["DstIP"])
    v6 = pc.fill_null(pc.match_substring(src, ":"), False)
    out_b, in_b = _number(g["InitiatorBytes"], _I64), _number(g["ResponderBytes"], _I64)
    out_p, in_p = _number(g["InitiatorPackets"], _I64), _number(g["ResponderPackets"], _I64)
    user = g["User"]
    user = pc.if_else(pc.fill_null(pc.is_in(user, value_set=_NO_USER), False), none, user)
    first = pc.strptime(g["FirstPacketSecond"], format="%Y-%m-%dT%H:%M:%SZ", unit="ms", error_is_null=True).cast(_I64)
    cols = {
        "_activity": activity,
        "_severity": _lookup(g["EventPriority"], _FTD_PRIORITY, 1),
        "_ftd": _pairs(text),
        "action_id": action,
        "action": _names(action, _ACTION_NAMES),
        "disposition_id": disposition,
        "disposition": _names(disposition, _DISPOSITION_NAMES),
        "connection_info.uid": g["ConnectionID"],
        "connection_info.protocol_num": pc.coalesce(pc.if_else(numbered, proto, none).cast(_I32), proto_num),
        "connection_info.protocol_name": pc.if_else(numbered, none, proto),
        "connection_info.protocol_ver_id": pc.if_else(pc.is_valid(src), pc.if_else(v6, pa.scalar(6, _I32), pa.scalar(4, _I32)),
                                                      pa.scalar(None, _I32)),  # fmt: skip
        "src_endpoint.ip": src,
        "src_endpoint.port": _number(g["SrcPort"], _I32),
        "src_endpoint.interface_name": g["IngressInterface"],
        "src_endpoint.zone": g["IngressZone"],
        "dst_endpoint.ip": dst,
        "dst_endpoint.port": _number(g["DstPort"], _I32),
        "dst_endpoint.interface_name": g["EgressInterface"],
        "dst_endpoint.zone": g["EgressZone"],
        "firewall_rule.name": g["AccessControlRuleName"],
        "firewall_rule.desc": g["AccessControlRuleReason"],
        **_traffic(out_b, in_b, out_p, in_p),
        "duration": pc.multiply(_number(g["ConnectionDuration"], _I64), 1000),
        "start_time": first,
        "actor.user.name": user,
        "app_name": g["ApplicationProtocol"],
    }
    return hit, cols

__all__ = ["_ftd_connections"]
