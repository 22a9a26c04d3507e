"""Logins reported by network devices and appliances, and Snare's Windows logon events -> Authentication
(3002): Junos OS, pfSense's webConfigurator and OpenVPN, Cisco ASA / FTD, Cisco IOS (SEC_LOGIN, SSH),
Cisco 802.1X / MAB port authentication and FortiGate administrator logins. See :mod:`.syslog`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast, _journal
from secpipe.formats._findings import captions
from secpipe.formats._syslog_common import _I32, S, _is_ip, _nil, _nil_empty
from secpipe.formats._syslog_forti import _forti_value
from secpipe.formats._syslog_header import (
    _bsd_times,
)
from secpipe.formats._syslog_net import (
    _junos_param,
)
from secpipe.formats._text import group

#: Junos OS system log messages that report an authentication (Junos's System Log Explorer):
#: MSGID -> (failed, activity). ``SSHD_LOGIN_FAILED``: "Login failed for user '<username>' from host
#: '<source-address>'" (sshd, remote); ``LOGIN_FAILED``: "Login failed for user <username> from host
#: <source-address>" (login, a console or telnet login); ``UI_LOGIN_EVENT``: "User '<username>'
#: login, class '<class-name>' [<pid>], ssh-connection '<src> <sport> <dst> <dport>', client-mode
#: '<mode>'" (mgd: a management session opened) and ``UI_LOGOUT_EVENT`` "User '<username>' logout"
#: (Logoff); ``DOT1XD_USR_AUTHENTICATED``: a supplicant (or a MAC, ``user-type`` MAC-RADIUS)
#: authenticated by 802.1X on a switch port. In RFC 5424 (``structured-data``) the user and source
#: are in the ``junos@`` element; in a BSD line (a Junos log file, a relay) the MSGID opens the MSG
#: (``mgd[88299]: UI_LOGIN_EVENT: User 'support' login, ...``) and the text gives them.
_JUNOS_AUTH = {"SSHD_LOGIN_FAILED": (True, 1), "LOGIN_FAILED": (True, 1), "UI_LOGIN_EVENT": (False, 1),
               "UI_LOGOUT_EVENT": (False, 2), "DOT1XD_USR_AUTHENTICATED": (False, 1)}  # fmt: skip
_JUNOS_IDS = pa.array(list(_JUNOS_AUTH), S)
_JUNOS_FAILED = pa.array([k for k, (failed, _a) in _JUNOS_AUTH.items() if failed], S)
_JUNOS_LOGOFF = pa.array([k for k, (_f, act) in _JUNOS_AUTH.items() if act == 2], S)
#: the words of those messages' texts (a SIMD test before any regex over a batch's MSGs)
_JUNOS_MARKS = (b"LOGIN_FAILED", b"UI_LOGIN_EVENT", b"UI_LOGOUT_EVENT")
#: a Junos authentication message's text, its MSGID first in a BSD line: the user and the source
_JUNOS_TEXT = (
    r"^(?:(?P<id>[A-Z][A-Z0-9_]{2,31}): )?(?:User '(?P<u1>[^']*)' log(?:in|out)\b"
    r"(?:.*?, ssh-connection '(?P<ip1>[0-9A-Fa-f.:]+) (?P<port1>\d{1,5}) )?"
    r"|Login failed for user (?:'(?P<u2>[^']*)'|(?P<u3>\S+)) from host (?:'(?P<h2>[^']*)'|(?P<h3>\S+)))"
)
#: the OCSF ``auth_protocol_id`` and caption of a Junos 802.1X ``user-type`` (MAC-RADIUS: the MAC
#: checked by RADIUS); another type is 99 Other with its own word (``user-type`` stays in unmapped)
_JUNOS_PROTOCOL = {"MAC-RADIUS": (10, "RADIUS")}


def _junos_auth(msgid: pa.Array, sd: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the lines that are Junos authentication messages naming a user, their Authentication
    fields as :func:`_auth` gives them), or None when there are none (a test of the MSGIDs, and
    of the MSGs' bytes for the BSD form)."""
    n = len(msgid)
    ids = pc.if_else(pc.fill_null(pc.is_in(msgid, value_set=_JUNOS_IDS), False), msgid, pa.scalar(None, S))
    text = None
    if msg.null_count < n and _fast.contains_any(msg.buffers()[2], _JUNOS_MARKS):
        text = pc.extract_regex(msg, _JUNOS_TEXT)
        told = group(text, "id")  # a BSD line: the MSGID opens the MSG
        told = pc.if_else(pc.fill_null(pc.is_in(told, value_set=_JUNOS_IDS), False), told, pa.scalar(None, S))
        ids = pc.coalesce(ids, pc.if_else(pc.is_null(msgid), told, pa.scalar(None, S)))
    known = pc.is_valid(ids)
    if not pc.any(known).as_py():
        return None
    user = _junos_param(sd, "username")
    ip = _junos_param(sd, "source-address")
    port = pa.nulls(n, S)
    if text is not None:
        user = pc.coalesce(user, group(text, "u1"), group(text, "u2"), group(text, "u3"))
        ip = pc.coalesce(ip, group(text, "ip1"), group(text, "h2"), group(text, "h3"))
        port = group(text, "port1")
    conn = _junos_param(sd, "ssh-connection")  # UI_LOGIN_EVENT's "<src> <sport> <dst> <dport>"
    if conn.null_count < n:
        parts = pc.extract_regex(conn, r"^(?P<ip>[0-9A-Fa-f.:]+) (?P<port>\d{1,5}) ")
        ip, port = pc.coalesce(ip, group(parts, "ip")), pc.coalesce(group(parts, "port"), port)
    hit = pc.and_(known, pc.fill_null(pc.greater(pc.utf8_length(user), 0), False))
    if not pc.any(hit).as_py():
        return None
    ids, user, sd, ip, port = ids.filter(hit), user.filter(hit), sd.filter(hit), ip.filter(hit), port.filter(hit)
    n = len(ids)
    none = pa.nulls(n, S)
    failed = pc.fill_null(pc.is_in(ids, value_set=_JUNOS_FAILED), False)
    logoff = pc.fill_null(pc.is_in(ids, value_set=_JUNOS_LOGOFF), False)
    address = pc.fill_null(pc.match_substring_regex(ip, r"^[0-9A-Fa-f.:]+$"), False)
    kind = _junos_param(sd, "user-type").to_pylist()
    known_kind = [_JUNOS_PROTOCOL.get(k) if k else None for k in kind]
    return hit, {
        "user": user, "actor": none, "ip": pc.if_else(address, ip, none),
        "rhost": pc.if_else(pc.and_(pc.is_valid(ip), pc.invert(address)), ip, none),  # LOGIN_FAILED's host by name
        "count": pa.nulls(n, _I32), "port": port,
        "method": pa.array([p[1] if p else k for k, p in zip(kind, known_kind, strict=True)], S),
        "protocol_id": pa.array([p[0] if p else None for p in known_kind], _I32),
        "mac": _junos_param(sd, "mac-address"), "failed": failed, "detail": none,
        "activity": pc.if_else(logoff, pa.scalar(2, _I32), pa.scalar(1, _I32)), "cmd": none, "tty": none,
    }  # fmt: skip


#: pfSense's authentication messages: the webConfigurator's (``auth.inc``/``authgui.inc`` through
#: PHP, ``php-fpm[pid]: /index.php: ...``) ``Successful login for user 'U' from: A (<auth server>)``,
#: ``User logged out for user 'U' from: A``, ``webConfigurator authentication error for user 'U'
#: from: A``; and its OpenVPN user-authentication script's (``openvpn[pid]: user 'U' authenticated``,
#: ``... could not authenticate.``)
_PFSENSE_GUI = (
    r"^(?:\S+\.php: )?(?:(?P<ok>Successful login)|(?P<out>User logged out)|(?P<bad>webConfigurator authentication error))"
    r" for user '(?P<user>[^']*)' from: (?P<ip>[0-9A-Fa-f.:]+)(?: \((?P<src>[^)]*)\))?$"
)
_PFSENSE_VPN = r"^user '(?P<user>[^']*)' (?:(?P<ok>authenticated)|(?P<bad>could not authenticate))\.?$"
#: an authentication server's type (pfSense names it ``<type>/<name>``) -> OCSF auth_protocol_id
_PFSENSE_PROTOCOL = {"RADIUS": 10, "LDAP": 12}


def _pfsense_auth(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the lines that are pfSense webConfigurator or OpenVPN authentications, their
    Authentication fields), or None: Logon (a logout Logoff), Failure for the authentication
    error and ``could not authenticate``, the user, the address, the service (webConfigurator,
    openvpn), the authentication server's type as the protocol (RADIUS, LDAP; another source,
    ``Local Database``, as Other named by it)."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b" for user '", b"user '")):
        return None
    gui = pc.extract_regex(msg, _PFSENSE_GUI)
    vpn = pc.extract_regex(pc.if_else(pc.fill_null(pc.equal(app, "openvpn"), False), msg, pa.scalar(None, S)), _PFSENSE_VPN)
    hit = pc.or_(gui.is_valid(), vpn.is_valid())
    if not pc.any(hit).as_py():
        return None
    gui, vpn = gui.filter(hit), vpn.filter(hit)
    n = len(gui)
    none = pa.nulls(n, S)
    is_gui = gui.is_valid()
    failed = pc.fill_null(pc.or_(pc.is_valid(group(gui, "bad")), pc.is_valid(group(vpn, "bad"))), False)
    src = group(gui, "src")
    kind = pc.utf8_upper(group(pc.extract_regex(src, r"^(?P<k>[A-Za-z]+)/"), "k"))
    proto = pa.array([_PFSENSE_PROTOCOL.get(k) if k else None for k in kind.to_pylist()], _I32)
    method = pc.if_else(pc.is_valid(proto), kind, src)
    return hit, {
        "user": pc.coalesce(group(gui, "user"), group(vpn, "user")), "actor": none, "ip": group(gui, "ip"), "rhost": none,
        "count": pa.nulls(n, _I32), "port": none, "method": method,
        "protocol_id": pc.if_else(pc.is_valid(proto), proto, pc.if_else(pc.is_valid(src), pa.scalar(99, _I32), pa.scalar(None, _I32))),
        "failed": failed, "detail": none,
        "activity": pc.if_else(pc.fill_null(pc.is_valid(group(gui, "out")), False), pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "cmd": none, "tty": none, "service": pc.if_else(is_gui, "webConfigurator", "openvpn"),
    }  # fmt: skip


#: the remote logon types of Windows (Network, NetworkCleartext, RemoteInteractive, CachedRemoteInteractive)
_WIN_REMOTE = {3, 8, 10, 12}


#: Snare's Windows event line (``MSWinEventLog<TAB>criticality<TAB>log<TAB>counter<TAB>date<TAB>
#: EventID<TAB>source<TAB>user<TAB>SID type<TAB>event type<TAB>computer<TAB>category<TAB>data<TAB>
#: expanded description[<TAB>counter]``; the description's lines joined by spaces), maybe after the
#: host and a tab as Snare writes it without a syslog header
_SNARE = (r"^(?:\S+[\t ])?MSWinEventLog\t\d+\t(?P<log>[^\t]*)\t\d*\t[^\t]*\t(?P<id>46(?:2[45]|34|4[78]))\t[^\t]*\t[^\t]*\t"
          r"[^\t]*\t(?P<etype>[^\t]*)\t(?P<comp>[^\t]*)\t[^\t]*\t[^\t]*\t(?P<desc>[^\t]*)")
#: the account a logon event is about: 4624's New Logon, 4625's Account For Which Logon Failed,
#: 4648's Account Whose Credentials Were Used, else (4634, 4647) the Subject
_SNARE_ACCOUNT = r":\s+(?:Security ID:\s*(?P<sid>\S*)\s+)?Account Name:\s*(?P<user>.*?)\s+Account Domain:\s*(?P<dom>.*?)(?:\s\s|$)"
_SNARE_TARGET = r"(?:New Logon|Account For Which Logon Failed|Account Whose Credentials Were Used)" + _SNARE_ACCOUNT
_SNARE_SUBJECT = r"Subject" + _SNARE_ACCOUNT
_SNARE_NAMED = r"Account Name:\s*(?P<user>\S+)"  # a description without the blocks (one account named)
_SNARE_FIELDS = {"logon_type": r"Logon Type:\s*(?P<v>\d+)", "ip": r"(?:Source )?Network Address:\s*(?P<v>[0-9A-Fa-f.:]+)",
                 "port": r"(?:Source )?Port:\s*(?P<v>\d+)", "ws": r"Workstation Name:\s*(?P<v>\S+)",
                 "process": r"Logon Process:\s*(?P<v>\S+)", "package": r"Authentication Package:\s*(?P<v>\S+)",
                 "reason": r"Failure Reason:\s*(?P<v>.*?)(?:\s\s|$)", "status": r"\sStatus:\s*(?P<v>0x[0-9A-Fa-f]+)",
                 "substatus": r"Sub Status:\s*(?P<v>0x[0-9A-Fa-f]+)"}  # fmt: skip


def _snare_auth(msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the lines that are Snare's Windows logon events, their Authentication fields), or None:
    4624 / 4648 Logon, 4625 Logon Failure, 4634 / 4647 Logoff, read from the expanded description
    as :mod:`._winevents` reads NXLog's fields (the target account, the Subject of an
    explicit-credential logon as the actor, logon type, source address, port and workstation,
    logon process, package, a failure's reason and status)."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b"MSWinEventLog\t",)):
        return None
    st = pc.extract_regex(msg, _SNARE)
    hit = pc.fill_null(st.is_valid(), False)
    if not pc.any(hit).as_py():
        return None
    st = st.filter(hit)
    desc = group(st, "desc")
    ev = group(st, "id")
    n = len(st)
    subject = pc.extract_regex(desc, _SNARE_SUBJECT)
    tgt = pc.extract_regex(desc, _SNARE_TARGET)
    v = {k: _nil(group(pc.extract_regex(desc, rx), "v")) for k, rx in _SNARE_FIELDS.items()}
    # an empty Workstation Name: the next label's first word follows it
    v["ws"] = pc.if_else(pc.fill_null(pc.is_in(v["ws"], value_set=pa.array(["Source", "Network", "Detailed"], S)), False),
                         pa.scalar(None, S), v["ws"])
    failed = pc.fill_null(pc.or_(pc.equal(ev, "4625"), pc.match_substring(pc.utf8_lower(group(st, "etype")), "fail")), False)
    logoff = pc.fill_null(pc.is_in(ev, value_set=pa.array(["4634", "4647"], S)), False)
    logon = pc.cast(v["logon_type"], _I32)
    known_types = pa.array([0, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13], _I32)
    logon_ids = pc.if_else(pc.or_(pc.is_null(logon), pc.is_in(logon, value_set=known_types)), logon, pa.scalar(99, _I32))
    package = v["package"]
    pkg = pc.utf8_lower(package)
    code = pc.coalesce(pc.if_else(pc.fill_null(pc.equal(v["substatus"], "0x0"), True), pa.scalar(None, S), v["substatus"]), v["status"])
    port = pc.if_else(pc.fill_null(pc.equal(v["port"], "0"), True), pa.scalar(None, S), v["port"])
    explicit = pc.fill_null(pc.equal(ev, "4648"), False)
    return hit, {
        "user": _nil(pc.coalesce(group(tgt, "user"), group(subject, "user"), group(pc.extract_regex(desc, _SNARE_NAMED), "user"))),
        "uid": _nil(pc.coalesce(group(tgt, "sid"), group(subject, "sid"))),
        "actor": pc.if_else(explicit, _nil(group(subject, "user")), pa.scalar(None, S)),
        "ip": v["ip"], "rhost": v["ws"], "count": pa.nulls(n, _I32), "port": port,
        "method": package, "protocol_id": pc.if_else(pc.equal(pkg, "ntlm"), pa.scalar(1, _I32), pc.if_else(
            pc.equal(pkg, "kerberos"), pa.scalar(2, _I32), pc.if_else(pc.is_valid(pkg), pa.scalar(99, _I32), pa.scalar(None, _I32)))),
        "failed": failed, "detail": pc.if_else(failed, v["reason"], pa.scalar(None, S)),
        "activity": pc.if_else(logoff, pa.scalar(2, _I32), pa.scalar(1, _I32)), "cmd": pa.nulls(n, S), "tty": pa.nulls(n, S),
        "service": v["process"], "_host": _nil(group(st, "comp")),
        "_cols": {
            "logon_type_id": logon_ids, "logon_type": captions("authentication", "logon_type_id", logon_ids),
            "user.domain": _nil(pc.coalesce(group(tgt, "dom"), group(subject, "dom"))), "status_code": pc.if_else(failed, code, pa.scalar(None, S)),
            "is_remote": pc.if_else(pc.is_null(logon), pa.scalar(None, pa.bool_()), pc.is_in(logon, value_set=pa.array(sorted(_WIN_REMOTE), _I32))),
            "metadata.event_code": ev,
        },
    }  # fmt: skip


#: Cisco ASA / FTD authentication messages (Cisco Secure Firewall ASA Series Syslog Messages):
#: 605004 / 605005 "Login denied|permitted from src/port to interface:dst/service for user 'U'" (a
#: management login: ssh, https, telnet; or "from serial to console"), 113004 / 113005 "AAA user
#: authentication Successful|Rejected : [reason = R :] server = S : user = U[ : user IP = A]" (113012 /
#: 113015 the same against the local database; a user the ASA hides is ``*****``: none),
#: 611101 / 611102 "User authentication succeeded|failed: IP address: A, Uname: U" and 611103
#: "User logged out: Uname: U"
_ASA_AUTH_NUMBERS = pa.array(["605004", "605005", "113004", "113005", "113012", "113015", "611101", "611102", "611103"], S)
_ASA_LOGIN = (r"^Login (?P<res>permitted|denied) from (?P<src>[^/\s]+)(?:/(?P<sport>\d{1,5}))? to (?P<if>[^:\s]+)"
              r"(?::(?P<dst>[^/\s]+)/(?P<svc>\S+))? for user ['\"]?(?P<user>[^'\"]*?)['\"]?\s*$")
_ASA_AAA = (r"^AAA user authentication (?P<res>Successful|Rejected)\s*:(?:\s*reason = (?P<why>[^:]*?)\s*:)?\s*server = "
            r"(?P<server>[^\s:]+)\s*:\s*user = (?P<user>.*?)(?:\s*:\s*user IP = (?P<ip>[0-9A-Fa-f.:]+))?\s*$")
_ASA_AAA = _ASA_AAA.replace(r"server = (?P<server>[^\s:]+)", r"(?:server = (?P<server>[^\s:]+)|local database)")
_ASA_USER = (r"^User (?:authentication (?P<res>succeeded|failed): IP(?: address)?\s*[:,]\s*(?P<ip>[0-9A-Fa-f.:]+)\s*[,:]\s*"
             r"Uname: (?P<user>\S+)|logged out: Uname: (?P<out>\S+))")


def _asa_auth(msgid: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the Cisco ASA / FTD messages that report a login or a user authentication, their
    Authentication fields), or None: 605005 / 113004 / 113012 / 611101 Logon, 605004 / 113005 /
    113015 / 611102 Logon Failure (the AAA reason the detail), 611103 Logoff; the user, the source address (and
    port), the ASA's address a management login reached as the destination, its service (ssh,
    https, console) the service, else the message's own (``asa``)."""
    if msgid.null_count == len(msgid) or not _fast.contains_any(msgid.buffers()[2], (b"-605", b"-113", b"-611")):
        return None
    number = pc.utf8_slice_codeunits(msgid, -6)
    cisco = pc.fill_null(pc.match_substring_regex(msgid, r"^(?:ASA|FTD)-(?:\w+-)?[0-7]-\d{6}$"), False)
    mine = pc.and_(cisco, pc.is_in(number, value_set=_ASA_AUTH_NUMBERS))
    if not pc.any(mine).as_py():
        return None
    text = pc.if_else(mine, msg, pa.scalar(None, S))
    login, aaa, user = (pc.extract_regex(text, rx) for rx in (_ASA_LOGIN, _ASA_AAA, _ASA_USER))
    hit = pc.fill_null(pc.or_(pc.or_(login.is_valid(), aaa.is_valid()), user.is_valid()), False)
    if not pc.any(hit).as_py():
        return None
    login, aaa, user = login.filter(hit), aaa.filter(hit), user.filter(hit)
    n = len(login)
    res = pc.coalesce(group(login, "res"), group(aaa, "res"), group(user, "res"))
    failed = pc.fill_null(pc.is_in(res, value_set=pa.array(["denied", "Rejected", "failed"], S)), False)
    src = group(login, "src")
    src_ip = pc.if_else(_is_ip(src), src, pa.scalar(None, S))
    named = _nil(pc.coalesce(group(login, "user"), group(aaa, "user"), group(user, "user"), group(user, "out")))
    hidden = pc.fill_null(pc.match_substring_regex(named, r"^\*+$"), False)
    return hit, {
        "user": pc.if_else(hidden, pa.scalar(None, S), named),
        "actor": pa.nulls(n, S), "ip": pc.coalesce(src_ip, group(aaa, "ip"), group(user, "ip")), "rhost": pa.nulls(n, S),
        "count": pa.nulls(n, _I32), "port": group(login, "sport"), "method": pa.nulls(n, S), "failed": failed,
        "detail": group(aaa, "why"),
        "activity": pc.if_else(pc.is_valid(group(user, "out")), pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "cmd": pa.nulls(n, S), "tty": pa.nulls(n, S),
        "service": pc.coalesce(pc.utf8_lower(group(login, "svc")), pc.if_else(pc.fill_null(pc.equal(group(login, "if"), "console"), False),
                                                                             "console", pa.scalar(None, S)), pa.scalar("asa", S)),
        "dst_ip": group(login, "dst"),
    }  # fmt: skip


#: Cisco IOS login messages (the Login Enhancements' SEC_LOGIN facility and a session's end):
#: ``%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: U] [Source: A] [localport: P] at T``,
#: ``%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: U] [Source: A] [localport: P] [Reason: R] at T``
#: (``[user: ]`` when none was given) and ``%SYS-6-LOGOUT: User U has exited tty session N(A)``
_IOS_LOGIN = (r"(?i)^Login (?:(?P<ok>Success)|failed) \[user: ?(?P<user>[^\]]*)\] \[Source: ?(?P<src>[^\]\s]*)\] "
              r"\[localport: ?(?P<lport>\d{1,5})\](?: \[Reason: ?(?P<why>[^\]]*)\])?")
_IOS_LOGOUT = r"^User (?P<user>\S+) has exited tty session (?P<tty>\d+)\((?P<src>[^)\s]*)\)"
#: the SSH server's outcome of a user's authentication (``SSH-5-SSH2_USERAUTH: User 'U' authentication for
#: SSH2 Session from A (tty = N) using crypto cipher 'C', hmac 'H' Succeeded|Failed``) and a session's end
#: (``SSH-5-SSH2_CLOSE: SSH2 Session from A (tty = N) for user 'U' using crypto cipher ... closed``)
_IOS_SSH = (r"^(?:User '(?P<u1>[^']*)' authentication for SSH2 Session from (?P<s1>[^\s(]+) \(tty = (?P<t1>\d+)\)"
            r".* (?P<res>Succeeded|Failed)|SSH2 Session from (?P<s2>[^\s(]+) \(tty = (?P<t2>\d+)\) for user '(?P<u2>[^']*)'.* closed)$")
#: the login's time the message ends with (``at 14:35:19 UTC Sat Dec 3 2016``): its year and zone
_IOS_AT = r" at (?P<hms>\d\d:\d\d:\d\d) (?P<tz>\S+) [A-Za-z]{3} (?P<md>[A-Za-z]{3} +\d{1,2}) (?P<y>\d{4})$"


def _ios_auth(msgid: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the Cisco IOS login and logout messages, their Authentication fields), or None:
    SEC_LOGIN LOGIN_SUCCESS Logon, LOGIN_FAILED Logon Failure (its reason the detail), SYS LOGOUT
    Logoff; SSH SSH2_USERAUTH Logon Success / Failure, SSH2_CLOSE Logoff; the user, the source address, the router's ``localport`` as the destination port,
    the tty session of a logout in ``unmapped.tty``; a login's own time (``at ...``, with the year
    and zone a header's stamp lacks; an unknown zone taken as UTC) as ``_time``."""
    if msgid.null_count == len(msgid) or not _fast.contains_any(msgid.buffers()[2], (b"SEC_LOGIN-", b"-LOGOUT", b"SSH-")):
        return None
    code = pc.utf8_upper(msgid)
    login = pc.fill_null(pc.match_substring_regex(code, r"^SEC_LOGIN-[0-7]-LOGIN_(?:SUCCESS|FAILED)$"), False)
    logout = pc.fill_null(pc.match_substring_regex(code, r"^SYS-[0-7]-LOGOUT$"), False)
    ssh = pc.fill_null(pc.match_substring_regex(code, r"^SSH-[0-7]-SSH2_(?:USERAUTH|CLOSE)$"), False)
    if not pc.any(pc.or_(pc.or_(login, logout), ssh)).as_py():
        return None
    none = pa.scalar(None, S)
    ins = pc.extract_regex(pc.if_else(login, msg, none), _IOS_LOGIN)
    outs = pc.extract_regex(pc.if_else(logout, msg, none), _IOS_LOGOUT)
    sshs = pc.extract_regex(pc.if_else(ssh, msg, none), _IOS_SSH)
    hit = pc.or_(pc.or_(ins.is_valid(), outs.is_valid()), sshs.is_valid())
    if not pc.any(hit).as_py():
        return None
    ins, outs, sshs = ins.filter(hit), outs.filter(hit), sshs.filter(hit)
    n = len(ins)
    closed = pc.is_valid(group(sshs, "s2"))
    out = pc.or_(outs.is_valid(), closed)
    src = pc.coalesce(_nil_empty(group(ins, "src")), _nil_empty(group(outs, "src")), group(sshs, "s1"), group(sshs, "s2"))
    at = pc.extract_regex(msg.filter(hit), _IOS_AT)
    own = _bsd_times(pc.binary_join_element_wise(group(at, "y"), group(at, "md"), group(at, "hms"), " "))
    own = pc.subtract(own, pc.fill_null(_journal.zone_offsets(pc.utf8_upper(group(at, "tz"))), 0))
    return hit, {
        "user": pc.coalesce(_nil_empty(pc.utf8_trim_whitespace(group(ins, "user"))), group(outs, "user"),
                            _nil_empty(group(sshs, "u1")), _nil_empty(group(sshs, "u2"))),
        "actor": pa.nulls(n, S), "ip": pc.if_else(_is_ip(src), src, none), "rhost": pc.if_else(_is_ip(src), none, src),
        "count": pa.nulls(n, _I32), "port": pa.nulls(n, S), "method": pa.nulls(n, S),
        "failed": pc.or_(pc.and_(ins.is_valid(), pc.is_null(group(ins, "ok"))), pc.fill_null(pc.equal(group(sshs, "res"), "Failed"), False)),
        "detail": _nil_empty(group(ins, "why")),
        "activity": pc.if_else(out, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "cmd": pa.nulls(n, S), "tty": pc.coalesce(group(outs, "tty"), group(sshs, "t1"), group(sshs, "t2")),
        "_cols": {"dst_endpoint.port": group(ins, "lport").cast(_I32)}, "_time": own,
    }  # fmt: skip


#: Cisco's port-based network access control messages (IOS, IOS XE, a Catalyst 9800 controller): a
#: client of a switch port authenticated by 802.1X (DOT1X, EAP) or by its MAC address (MAB, checked by
#: RADIUS), the session manager's outcome (AUTHMGR; IOS XE's SESSION_MGR), as the system message guides
#: word them: ``Authentication successful|failed for client (MAC) on Interface IF AuditSessionID ID``,
#: ``Authorization succeeded|failed or unapplied for client (...) ...``, ``Authentication result 'R' from
#: 'METHOD' for client (...) ...``, ``Exhausted all authentication methods for client (...) ...``; IOS XE
#: puts its process first (``Switch 2 R0/0: smd:  Authentication failed ...``) and may end with ``.
#: Failure Reason: R.``; a stack member names itself in the code (``%MAB-SW1-5-FAIL``)
_NAC_CODE = r"^(?P<fac>DOT1X|MAB|AUTHMGR|SESSION_MGR)(?:-[A-Za-z0-9_]+)?-[0-7]-(?:FAIL|SUCCESS|RESULT|NOMOREMETHODS)$"
_NAC_TEXT = (
    r"^(?:(?:Switch|Chassis) \d+ R\d+/\d+: [\w-]+: +)?"
    r"(?:Authentication (?P<res>successful|failed)|Authorization (?P<authz>succeeded|failed or unapplied)"
    r"|Authentication result '(?P<result>[^']*)' from '(?P<method>[^']*)'|(?P<exhausted>Exhausted all authentication methods))"
    r" for client \((?:MAC )?(?P<client>[^)]*)\)(?: with reason \((?P<why>[^)]*)\))?(?: on Interface (?P<ifname>[^\s,]+))?"
    r"(?: AuditSessionID (?P<sid>[0-9A-Fa-f]+))?(?:.*?Failure Reason: (?P<reason>[^.]+))?"
)
#: the method (the code's facility, or the one AUTHMGR names) -> OCSF auth_protocol_id and caption:
#: 802.1X carries EAP; MAB has RADIUS check the MAC address (as Junos' MAC-RADIUS)
_NAC_PROTOCOL = {"DOT1X": (9, "EAP"), "MAB": (10, "RADIUS")}


def _cisco_mac(text: pa.Array) -> pa.Array:
    """A MAC address as OCSF writes it (``00:23:b5:3e:3e:12``) from Cisco's dotted form
    (``0023.b53e.3e12``); a colon or dash form is kept; anything else (``Unknown MAC``) is none."""
    dotted = pc.extract_regex(text, r"^(?P<a>[0-9A-Fa-f]{2})(?P<b>[0-9A-Fa-f]{2})\.(?P<c>[0-9A-Fa-f]{2})(?P<d>[0-9A-Fa-f]{2})"
                                    r"\.(?P<e>[0-9A-Fa-f]{2})(?P<f>[0-9A-Fa-f]{2})$")  # fmt: skip
    joined = pc.binary_join_element_wise(*(group(dotted, k) for k in "abcdef"), ":")
    plain = pc.fill_null(pc.match_substring_regex(text, r"^(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$"), False)
    return pc.coalesce(pc.utf8_lower(joined), pc.if_else(plain, text, pa.scalar(None, S)))


def _nac_auth(msgid: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(Cisco's 802.1X / MAB / session manager outcomes, their Authentication fields), or None:
    Logon, Failure for a failed authentication, an authorization failed or unapplied, a result other
    than ``success``, all methods exhausted; the client's MAC as ``src_endpoint.mac``, the switch port
    as ``dst_endpoint.interface_name``, the AuditSessionID as ``session.uid``, EAP (802.1X) or RADIUS
    (MAB) the protocol, the reason or result the detail. The client is a device, named by its MAC:
    the line names no user."""
    if msgid.null_count == len(msgid) or not _fast.contains_any(msgid.buffers()[2], (b"DOT1X-", b"MAB-", b"AUTHMGR-", b"SESSION_MGR-")):
        return None
    code = pc.extract_regex(pc.utf8_upper(msgid), _NAC_CODE)
    text = pc.extract_regex(pc.if_else(code.is_valid(), msg, pa.scalar(None, S)), _NAC_TEXT)
    hit = text.is_valid()
    if not pc.any(hit).as_py():
        return None
    code, text = code.filter(hit), text.filter(hit)
    n = len(text)
    none = pa.nulls(n, S)
    res, authz, result = group(text, "res"), group(text, "authz"), _nil_empty(group(text, "result"))
    failed = pc.fill_null(pc.or_kleene(pc.or_kleene(pc.equal(res, "failed"), pc.equal(authz, "failed or unapplied")),
                                       pc.or_kleene(pc.not_equal(result, "success"), pc.is_valid(group(text, "exhausted")))),
                          False)  # fmt: skip
    method = pc.coalesce(pc.utf8_upper(_nil_empty(group(text, "method"))), group(code, "fac"))
    kinds = [_NAC_PROTOCOL.get(m or "") for m in method.to_pylist()]
    detail = pc.coalesce(_nil_empty(group(text, "reason")), _nil_empty(group(text, "why")), result,
                         pc.if_else(pc.is_valid(group(text, "exhausted")), "Exhausted all authentication methods", none),
                         pc.if_else(pc.equal(authz, "failed or unapplied"), "Authorization failed or unapplied", none))  # fmt: skip
    return hit, {
        "user": none, "actor": none, "ip": none, "rhost": none, "count": pa.nulls(n, _I32), "port": none,
        "method": pa.array([k[1] if k else None for k in kinds], S),
        "protocol_id": pa.array([k[0] if k else None for k in kinds], _I32),
        "mac": _cisco_mac(group(text, "client")), "failed": failed, "detail": detail,
        "activity": pa.array(np.ones(n, np.int32)), "cmd": none, "tty": none,
        "_cols": {"dst_endpoint.interface_name": _nil_empty(group(text, "ifname")), "session.uid": _nil_empty(group(text, "sid"))},
    }  # fmt: skip


#: FortiGate's administrator login events (FortiOS Log Reference, type event / subtype system):
#: logid 0100032001 "Admin login successful", 0100032002 "Admin login failed", 0100032003 "Admin
#: logout successful"; the MSG is FortiOS's ``key=value`` pairs (a value quoted when it is a string)
_FORTI_LOGIN = {"0100032001": (False, 1), "0100032002": (True, 1), "0100032003": (False, 2)}
_FORTI_IDS = pa.array(list(_FORTI_LOGIN), S)


def _fortigate_auth(msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the FortiGate administrator login / logout events, their Authentication fields), or None:
    Logon (logout Logoff), Failure for a failed login with its ``reason`` as the detail, the
    ``user``, ``srcip`` the source, ``dstip`` the FortiGate's address, ``method`` (https, ssh,
    console ...) the protocol named by it, service ``FortiGate``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b"logid=\"01000320", b"logid=01000320")):
        return None
    ids = _forti_value(msg, "logid")
    hit = pc.fill_null(pc.is_in(ids, value_set=_FORTI_IDS), False)
    if not pc.any(hit).as_py():
        return None
    m, ids = msg.filter(hit), ids.filter(hit).to_pylist()
    n = len(ids)
    none = pa.nulls(n, S)
    failed = pa.array([_FORTI_LOGIN[i][0] for i in ids], pa.bool_())
    ip = _forti_value(m, "srcip")
    method = _forti_value(m, "method")
    return hit, {
        "user": _forti_value(m, "user"), "actor": none,
        "ip": pc.if_else(pc.fill_null(pc.match_substring_regex(ip, r"^[0-9A-Fa-f.:]+$"), False), ip, none),
        "rhost": none, "count": pa.nulls(n, _I32), "port": none, "method": method,
        "failed": failed, "detail": pc.if_else(failed, _forti_value(m, "reason"), none),
        "activity": pa.array([_FORTI_LOGIN[i][1] for i in ids], _I32), "cmd": none, "tty": none,
        "service": pa.array(["FortiGate"] * n, S), "dst_ip": _forti_value(m, "dstip"),
    }  # fmt: skip


#: PAN-OS SYSTEM logs of subtype ``auth`` (PAN-OS Administrator's Guide, "System Log Fields": FUTURE_USE,
#: Receive Time, Serial Number, Type, Subtype, FUTURE_USE, Generated Time, Virtual System, Event ID, Object,
#: FUTURE_USE, FUTURE_USE, Module, Severity, Description, Sequence Number, Action Flags, ...), Event ID
#: ``auth-fail`` / ``auth-success``; the Description (quoted where it holds a comma) says ``failed
#: authentication for user 'U'.  Reason: R. ... From: A.`` / ``authenticated for user 'U'. ... From: A.``
_PANOS_AUTH = (r"^[^,]*,\d{4}/\d\d/\d\d \d\d:\d\d:\d\d,[^,]*,SYSTEM,auth,[^,]*,[^,]*,[^,]*,(?P<eid>auth-fail|auth-success),"
               r'(?:[^,]*,){4}[^,]*,(?:"(?P<q>[^"]*)"|(?P<d>[^"].*?)),\d+,0x[0-9A-Fa-f]+,')
_PANOS_DESC = (r"(?:failed authentication|authenticated) for user '(?P<user>[^']*)'\.?(?:.*?Reason: (?P<why>.+?)\.(?:\s|$))?"
               r"(?:.*From: (?P<ip>[0-9A-Fa-f.:]+?)\.?$)?")


def _panos_auth(msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the PAN-OS ``auth-fail`` / ``auth-success`` SYSTEM logs, their Authentication fields), or None:
    Logon Failure (the Reason the detail) / Success, the user, ``From`` the source, service ``PAN-OS``."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b",SYSTEM,auth,",)):
        return None
    found = pc.extract_regex(msg, _PANOS_AUTH)
    hit = found.is_valid()
    if not pc.any(hit).as_py():
        return None
    found = found.filter(hit)
    n = len(found)
    none = pa.nulls(n, S)
    desc = pc.extract_regex(pc.coalesce(group(found, "q"), group(found, "d")), _PANOS_DESC)
    failed = pc.equal(group(found, "eid"), "auth-fail")
    return hit, {
        "user": _nil_empty(group(desc, "user")), "actor": none, "ip": group(desc, "ip"), "rhost": none,
        "count": pa.nulls(n, _I32), "port": none, "method": none, "failed": failed,
        "detail": pc.if_else(failed, group(desc, "why"), none), "activity": pa.array(np.ones(n, np.int32)),
        "cmd": none, "tty": none, "service": pa.array(["PAN-OS"] * n, S), "dst_ip": none,
    }  # fmt: skip
