"""Linux audit records (auditd's ``audit.log``, or a syslog MSG that holds one) mapped to OCSF.

USER_AUTH / USER_LOGIN / USER_LOGOUT records that name a user -> Authentication (3002); a SYSCALL
record of execve/execveat -> Process Activity (1007) Launch, its command line from the event's EXECVE
(else PROCTITLE) record. Field values auditd hex-encoded are decoded; ``?`` and the unset id
(4294967295) are no value. See :mod:`.syslog` for the record layout.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._syslog_common import _I32, S, _nil_empty, _number, _object
from secpipe.formats._text import group, json_string
from secpipe.formats.base import (
    const,
)

#: Linux audit record types that report a user's authentication (the Linux Audit documentation's
#: record types: USER_AUTH "a user-space user authentication attempt", USER_LOGIN "a user logs
#: in", USER_LOGOUT "a user logs out") -> OCSF activity (1 Logon, 2 Logoff)
_AUDIT_AUTH = {"USER_AUTH": 1, "USER_LOGIN": 1, "USER_LOGOUT": 2}
_AUDIT_AUTH_TYPES = pa.array(list(_AUDIT_AUTH), S)
#: the user-space message's fields (``msg='... acct="alice" exe="/usr/sbin/sshd" hostname=?
#: addr=192.0.2.1 terminal=ssh res=failed'``): ``acct`` quoted, or hex-encoded when it holds a
#: space or a quote (auditd's encoding of untrusted strings); ``?`` where there is none
_AUDIT_FIELDS = {
    "acct": r'\bacct=(?:"(?P<v>[^"]*)"|(?P<hex>(?:[0-9A-F]{2})+)(?:[\s\']|$))',
    "id": r"\bid=(?P<v>\d{1,10})\b",
    "addr": r"\baddr=(?P<v>[0-9A-Fa-f.:]*[0-9A-Fa-f])(?:[\s\']|$)",
    "hostname": r"\bhostname=(?P<v>[^\s\'?][^\s\']*)",
    "terminal": r"\bterminal=(?P<v>[^\s\'?][^\s\']*)",
    "exe": r'\bexe="(?:[^"]*/)?(?P<v>[^"/]+)"',
    "res": r"\bres=(?P<v>success|failed)\b",
}


#: the system calls that execute a program, as ``arch:syscall`` (the kernel's AUDIT_ARCH_* and the
#: call's number on it: x86_64 execve 59 / execveat 322, i386 11 / 358, aarch64 221 / 281); an
#: ENRICHED log names the call (``syscall=execve``)
_AUDIT_EXEC = pa.array(["c000003e:59", "c000003e:322", "40000003:11", "40000003:358", "c00000b7:221", "c00000b7:281",
                        "c000003e:execve", "c000003e:execveat", "40000003:execve", "c00000b7:execve"], S)  # fmt: skip
_AUDIT_SYSCALL = r"\barch=(?P<arch>[0-9a-f]{8}) syscall=(?P<sc>\w+)"
_AUDIT_NUMS = {k: rf"\s{k}=(?P<v>-?\d{{1,20}})\b" for k in ("pid", "ppid", "uid", "auid", "exit", "ses")}
_AUDIT_STRS = {k: rf'\s{k}=(?:"(?P<v>[^"]*)"|(?P<hex>(?:[0-9A-F]{{2}})+)(?:\s|$)|(?P<raw>\S+))' for k in ("comm", "exe", "tty", "key")}
_AUDIT_ARG = re.compile(r'\ba(\d{1,5})=(?:"([^"]*)"|((?:[0-9A-F]{2})+)(?=\s|$)|(\S*))')
_AUDIT_UNSET = ("4294967295", "-1")


def _audit_text(v: str | None, hexed: str | None, raw: str | None) -> str | None:
    """An auditd string field: quoted, hex-encoded (a value with a space, quote or control
    character), or bare (``(none)``, ``(null)``: no value)."""
    if v is not None:
        return v
    if hexed:
        return bytes.fromhex(hexed).decode("utf-8", "backslashreplace")
    return None if raw in (None, "", "(none)", "(null)", "?") else raw


def _audit_cmdlines(msgid: pa.Array, audit_id: pa.Array, msg: pa.Array) -> dict[str, str]:
    """Each audit event's command line from its EXECVE record (``a0``, ``a1``, ... quoted or hex),
    else its PROCTITLE (hex with NUL-separated arguments, or quoted), by the event id."""
    out: dict[str, str] = {}
    for kind in ("PROCTITLE", "EXECVE"):  # EXECVE last: it wins
        mine = pc.fill_null(pc.equal(msgid, kind), False)
        if not pc.any(mine).as_py():
            continue
        for eid, text in zip(audit_id.filter(mine).to_pylist(), msg.filter(mine).to_pylist(), strict=True):
            if eid is None or text is None:
                continue
            if kind == "EXECVE":
                args = sorted((int(i), _audit_text(q or None, h or None, r) or q or "") for i, q, h, r in _AUDIT_ARG.findall(text))
                line = " ".join(a for _i, a in args)
            else:
                got = re.search(r'\bproctitle=(?:"([^"]*)"|((?:[0-9A-F]{2})+))', text)
                line = "" if got is None else (got.group(1) or bytes.fromhex(got.group(2)).replace(b"\0", b" ").decode("utf-8", "backslashreplace"))
            if line:
                out[eid] = line
    return out


def _audit_process(msgid: pa.Array, audit_id: pa.Array | None, msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the audit SYSCALL records of a program's execution, ``execve``/``execveat`` by the
    architecture's call number or an ENRICHED log's name, their Process Activity columns with
    ``_activity`` Launch and ``_audit`` for ``unmapped``), or None: ``pid``, ``comm`` (the name),
    ``exe`` (the file), ``ppid`` (the parent), ``uid`` (the process's user), ``auid`` (the login
    user, the actor; unset ``4294967295`` none), the command line of the event's EXECVE record
    (else its PROCTITLE) in the batch, ``success`` the status and ``exit`` the exit code; ``tty``,
    ``ses``, ``key`` in ``unmapped.audit``. The event's other records stay Base Events."""
    if audit_id is None:
        return None
    sys_ = pc.fill_null(pc.and_(pc.is_valid(audit_id), pc.equal(msgid, "SYSCALL")), False)
    if not pc.any(sys_).as_py():
        return None
    st = pc.extract_regex(pc.if_else(sys_, msg, pa.scalar(None, S)), _AUDIT_SYSCALL)
    call = pc.binary_join_element_wise(group(st, "arch"), group(st, "sc"), ":")
    hit = pc.fill_null(pc.is_in(call, value_set=_AUDIT_EXEC), False)
    if not pc.any(hit).as_py():
        return None
    cmds = _audit_cmdlines(msgid, audit_id, msg)
    text, ids = msg.filter(hit), audit_id.filter(hit)
    n = len(text)
    num = {k: group(pc.extract_regex(text, rx), "v") for k, rx in _AUDIT_NUMS.items()}
    strs = {}
    for k, rx in _AUDIT_STRS.items():
        got = pc.extract_regex(text, rx)
        strs[k] = pa.array([_audit_text(v, h, r) for v, h, r in zip(group(got, "v").to_pylist(), group(got, "hex").to_pylist(),
                                                                    group(got, "raw").to_pylist(), strict=True)], S)  # fmt: skip
    auid = pc.if_else(pc.fill_null(pc.is_in(num["auid"], value_set=pa.array(_AUDIT_UNSET, S)), True), pa.scalar(None, S), num["auid"])
    success = pc.equal(group(pc.extract_regex(text, r"\bsuccess=(?P<v>yes|no)\b"), "v"), "yes")
    exe = strs["exe"]
    exe_name = group(pc.extract_regex(exe, r"(?P<v>[^/]+)$"), "v")
    status_id = pc.if_else(pc.is_null(success), pa.scalar(0, _I32), pc.if_else(success, pa.scalar(1, _I32), pa.scalar(2, _I32)))
    items = [(k, json_string(v)) for k, v in (("tty", strs["tty"]), ("ses", num["ses"]), ("key", strs["key"]))]
    return hit, {
        "_activity": const(1, n, _I32),
        "_audit": _object(items, n),
        "process.pid": _number(num["pid"], _I32),
        "process.name": strs["comm"],
        "process.cmd_line": pa.array([cmds.get(i) for i in ids.to_pylist()], S),
        "process.file.path": exe,
        "process.file.name": exe_name,
        "process.file.type_id": pc.if_else(pc.is_valid(exe_name), pa.scalar(1, _I32), pa.scalar(None, _I32)),
        "process.parent_process.pid": _number(num["ppid"], _I32),
        "process.user.uid": num["uid"],
        "actor.user.uid": auid,
        "status_id": status_id,
        "status": pc.take(pa.array(["Unknown", "Success", "Failure"], S), status_id),
        "exit_code": _number(num["exit"], _I32),
    }


def _audit_auth(msgid: pa.Array, audit_id: pa.Array | None, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the audit records (bare or as a syslog MSG) that report an authentication and name its
    user (``acct``) or uid (``id``), their Authentication fields as :func:`_auth` gives them), or None."""
    if audit_id is None:
        return None
    known = pc.fill_null(pc.and_(pc.is_valid(audit_id), pc.is_in(msgid, value_set=_AUDIT_AUTH_TYPES)), False)
    if not pc.any(known).as_py():
        return None
    text = msg.filter(known)
    got = {k: pc.extract_regex(text, rx) for k, rx in _AUDIT_FIELDS.items()}
    hexed = group(got["acct"], "hex")
    user = _nil_empty(group(got["acct"], "v"))
    if hexed.null_count < len(hexed):  # decoded once per distinct value
        names = {h: bytes.fromhex(h).decode("utf-8", "backslashreplace") for h in pc.unique(hexed).to_pylist() if h}
        user = pc.coalesce(user, pa.array([names.get(h) if h else None for h in hexed.to_pylist()], S))
    uid = group(got["id"], "v")
    sub = pc.or_(pc.is_valid(user), pc.is_valid(uid))
    hit = pc.is_in(pa.array(np.arange(len(msgid))), value_set=pc.indices_nonzero(known).filter(sub))
    if not pc.any(hit).as_py():
        return None
    user, uid = user.filter(sub), uid.filter(sub)
    val = {k: group(v, "v").filter(sub) for k, v in got.items()}
    n = len(user)
    none = pa.nulls(n, S)
    logoff = pc.equal(msgid.filter(hit), "USER_LOGOUT")
    return hit, {
        "user": user, "uid": uid, "actor": none, "ip": val["addr"], "rhost": val["hostname"],
        "count": pa.nulls(n, _I32), "port": none, "method": none,
        "failed": pc.fill_null(pc.equal(val["res"], "failed"), False), "detail": none,
        "activity": pc.if_else(logoff, pa.scalar(2, _I32), pa.scalar(1, _I32)), "cmd": none, "tty": val["terminal"],
        "service": val["exe"],
    }  # fmt: skip
