"""Unix hosts' authentication and account lines in syslog -> Authentication (3002), Account Change
(3001), Group Management (3006): sshd, sudo, su, PAM (pam_unix of any service), login, systemd-logind,
Dropbear, doas, polkit, Postfix/Dovecot SASL, and shadow-utils' user and group changes. Only the lines
of the programs each reader names are matched (see :mod:`.syslog` for the lines read).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._syslog_common import _I32, S, _is_ip, _nil, _nil_empty, _number
from secpipe.formats._text import group
from secpipe.formats.base import (
    const,
)

# --- authentication patterns (applied only to sshd/sudo/su lines) ------------------------
_SSH_RESULT = (
    r"^(?P<res>Accepted|Failed) (?P<method>[\w/-]+) for (?P<inv>invalid user )?(?P<user>.*?) "
    r"from (?P<ip>[0-9A-Fa-f.:]+) port (?P<port>\d+)"
)
_SSH_INVALID = r"^Invalid user (?P<user>.*?) from (?P<ip>[0-9A-Fa-f.:]+)(?: port (?P<port>\d+))?"
_SSH_MAXTRIES = (
    r"^(?:error: )?maximum authentication attempts exceeded for (?P<inv>invalid user )?(?P<user>\S*) "
    r"from (?P<ip>[0-9A-Fa-f.:]+) port (?P<port>\d+)"
)
_SSH_DISCONNECT = r"^Disconnected from user (?P<user>\S+) (?P<ip>[0-9A-Fa-f.:]+) port (?P<port>\d+)"
#: sshd ending a connection before its user authenticated (OpenSSH packet.c ``sshpkt_fmt_connection_id``:
#: "[invalid |authenticating ]user U IP port P", and its "Disconnected from %s", "Disconnecting %s:
#: %s", "Connection closed|reset by %s", "Received disconnect from %s:%u: %s"): a login that failed.
#: Anchored at the end, so a user name holding "IP port P" (fail2ban's injection cases) stays whole.
_SSH_PREAUTH = (
    r"^(?:Disconnected from|Disconnecting|Connection (?:closed|reset) by|Received disconnect from) "
    r"(?P<who>invalid|authenticating) user (?P<user>.*?) (?P<ip>[0-9A-Fa-f.:]+) port (?P<port>\d{1,5})"
    r"(?::\s*(?:\d+: ?)?(?P<why>.*?))?(?: \[preauth\])?\s*$"
)
_PAM_SESSION = (
    r"^pam_unix\((?P<svc>[^:)]+):session\): session (?P<oc>opened|closed) for user (?P<user>[^\s(]+)"
    r"(?:\(uid=\d+\))?(?: by (?P<by>[^\s(]*)(?:\(uid=\d+\))?)?"
)
_REPEATED = r"^message repeated (?P<n>\d{1,9}) times: \[ ?(?P<inner>.*)\]$"
#: sshd's PAM summary after the last try ("PAM 4 more authentication failures; logname= ... user=root")
_PAM_MORE = r"^(?:PAM |pam_unix\([^)]*\): )(?P<n>\d{1,9}) more authentication failures?;(?P<kv>.*)$"  # (older pam_unix wrote it itself)
#: sshd's PAM error ("error: PAM: Authentication failure for [illegal user ]U from H")
_SSH_PAM_ERROR = (
    r"^error: PAM: (?P<detail>[^;]+?) for (?P<inv>illegal user |invalid user )?(?P<user>\S+) from (?P<host>\S+?)\s*$"
)
#: a PAM module's failed authentication: pam_unix's, and SSSD's pam_sss (sss_client/pam_sss.c send_and_receive:
#: ``authentication %s; logname=%s uid=%lu euid=%d tty=%s ruser=%s rhost=%s user=%s[ seq=%lu]``; its
#: ``authentication success`` is no logon: the account phase after it may still refuse the user)
_PAM_FAIL = r"^pam_(?:unix|sss)\((?P<svc>[^:)]+):auth\): (?P<detail>authentication failure);(?P<kv>.*)$"
#: sshd refusing an account by its configuration (OpenSSH auth.c ``allowed_user``: "User %.100s from
#: %.100s not allowed because not listed in AllowUsers" / "... listed in DenyUsers" / "... none of
#: user's groups are listed in AllowGroups", "User %.100s not allowed because account is locked"
#: ...), and "ROOT LOGIN REFUSED FROM %.200s[ port %d]" (PermitRootLogin no): the login fails, as
#: "Invalid user" does
_SSH_DENIED = (
    r"^(?:User (?P<user>\S+) (?:from (?P<host>\S+) )?(?P<why>not allowed because .+?)|ROOT LOGIN REFUSED FROM (?P<host2>[^\s,]+?)"
    r"(?: port (?P<port>\d+))?)\.?\s*$"
)
_SUDO = (
    r"^\s*(?P<user>\S+) : (?:(?P<fail>\d+ incorrect password attempts?|user NOT in sudoers|command not allowed|"
    r"a password is required|[^;=]*not allowed[^;=]*)\s*; )?(?:TTY=(?P<tty>\S+) ; )?PWD=(?P<pwd>.*?) ; "
    r"USER=(?P<target>\S+) ;(?: GROUP=\S+ ;)?(?: TSID=\S+ ;)?(?: ENV=.*? ;)?(?: COMMAND=(?P<cmd>.*))?$"
)
_SU_FAIL = (
    r"^(?:FAILED SU \(to (?P<target2>\S+)\) (?P<user2>\S+) on (?P<tty2>\S+)|'su (?P<target>\S+)' failed for (?P<user>\S+) on (?P<tty>\S+)"
    r"|FAILED su for (?P<target3>\S+) by (?P<user3>\S+)|BAD SU (?P<user4>\S+) to (?P<target4>\S+)(?: on (?P<tty4>\S+))?$)"
)
#: su's own success lines: util-linux ``(to root) alice on pts/1``, shadow-utils ``Successful su for
#: root by alice``, the older sulog form ``+ /dev/pts/1 alice:root`` and the BSDs' ``alice to root on
#: /dev/ttyp1`` (FreeBSD su.c: ``%s to %s%s``, the tty's `` on TTY`` where it has one; its failure ``BAD SU
#: alice to root on TTY`` above)
_SU_OK = (
    r"^(?:\(to (?P<target>\S+)\) (?P<user>\S+) on (?P<tty>\S+)|Successful su for (?P<target2>\S+) by (?P<user2>\S+)"
    r"|\+ (?P<tty3>\S+) (?P<user3>[^\s:]+):(?P<target3>\S+)|(?P<user4>[^\s(+]\S*) to (?P<target4>\S+)(?: on (?P<tty4>\S+))?)$"
)
_AUTH_APPS = pa.array(["sshd", "sshd-session", "sudo", "su"], S)


def _old_pam(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(service, message) as the authentication patterns read them: the PAM of older Linux
    releases (Red Hat 9 era) tags its lines ``sshd(pam_unix)[pid]: authentication failure; ...``
    / ``su(pam_unix)[pid]: session opened for user ...``; such a line is read as the current
    ``pam_unix(sshd:auth): ...`` / ``pam_unix(su:session): ...`` of service sshd / su."""
    old = pc.extract_regex(app, r"^(?P<svc>[\w.-]+)\((?P<mod>pam_unix)\)$")
    if old.null_count == len(app):
        return app, msg
    svc = group(old, "svc")
    kind = pc.if_else(pc.fill_null(pc.starts_with(msg, "session "), False), ":session): ", ":auth): ")
    prefixed = pc.binary_join_element_wise(group(old, "mod"), "(", svc, kind, msg, "")
    return pc.coalesce(svc, app), pc.coalesce(prefixed, msg)


def _preauth_detail(pre: pa.Array) -> pa.Array:
    """Why a pre-authentication disconnect failed: an invalid user, else that it never
    authenticated; then the reason sshd or the client gave (``Bye Bye``, ``Change of username or
    service not allowed: ...``)."""
    said = pc.if_else(pc.equal(group(pre, "who"), "invalid"), "invalid user", "disconnected before authentication")
    return pc.coalesce(pc.binary_join_element_wise(said, _nil(group(pre, "why")), ": "), said)


def _auth(msg: pa.Array, app: pa.Array) -> dict[str, Any]:
    """Authentication fields of sshd/sudo/su lines; ``_matched`` marks lines that are auth events.

    A line rsyslog collapsed (``message repeated N times: [ <message>]``, RepeatedMsgReduction)
    is the repeated message, ``count`` N (the number of further occurrences it stands for)."""
    n = len(msg)
    repeated = pc.extract_regex(msg, _REPEATED)
    count = pc.cast(group(repeated, "n"), _I32) if repeated.null_count < n else pa.nulls(n, _I32)
    if repeated.null_count < n:
        msg = pc.coalesce(group(repeated, "inner"), msg)
    more = pc.extract_regex(msg, _PAM_MORE)
    if more.null_count < n:  # the failures PAM summarizes, read as one pam_unix failure line standing for N
        count = pc.coalesce(count, pc.cast(group(more, "n"), _I32))
        msg = pc.coalesce(pc.binary_join_element_wise("pam_unix(", app, ":auth): authentication failure;",
                                                      group(more, "kv"), ""), msg)  # fmt: skip
    is_sshd = pc.fill_null(pc.starts_with(app, "sshd"), False)
    is_sudo = pc.fill_null(pc.equal(app, "sudo"), False)
    none = pa.scalar(None, S)

    def on(mask: pa.Array, arr: pa.Array) -> pa.Array:
        return pc.if_else(mask, arr, none)

    res = pc.extract_regex(msg, _SSH_RESULT)
    inv = pc.extract_regex(msg, _SSH_INVALID)
    mx = pc.extract_regex(msg, _SSH_MAXTRIES)
    disc = pc.extract_regex(msg, _SSH_DISCONNECT)
    pre = pc.extract_regex(msg, _SSH_PREAUTH)
    sess = pc.extract_regex(msg, _PAM_SESSION)
    pfail = pc.extract_regex(msg, _PAM_FAIL)
    sudo = pc.extract_regex(msg, _SUDO)
    su = pc.extract_regex(msg, _SU_FAIL)
    su_ok = pc.extract_regex(msg, _SU_OK)
    perr = pc.extract_regex(msg, _SSH_PAM_ERROR)
    deny = pc.extract_regex(msg, _SSH_DENIED)
    ok_deny = pc.and_(deny.is_valid(), is_sshd)
    deny_host = pc.coalesce(group(deny, "host"), group(deny, "host2"))
    deny_ip = pc.fill_null(pc.match_substring_regex(deny_host, r"^[0-9A-Fa-f.:]+$"), False)
    ok_perr = pc.and_(perr.is_valid(), is_sshd)
    perr_host = group(perr, "host")
    perr_ip = pc.fill_null(pc.match_substring_regex(perr_host, r"^[0-9A-Fa-f.:]+$"), False)
    ok_res = pc.and_(res.is_valid(), is_sshd)
    ok_inv = pc.and_(inv.is_valid(), is_sshd)
    ok_mx = pc.and_(mx.is_valid(), is_sshd)
    ok_disc = pc.and_(disc.is_valid(), is_sshd)
    ok_pre = pc.and_(pre.is_valid(), is_sshd)
    ok_sess = sess.is_valid()
    ok_pf = pfail.is_valid()
    ok_sudo = pc.and_(sudo.is_valid(), is_sudo)
    ok_su = su.is_valid()
    ok_su_ok = pc.and_(su_ok.is_valid(), pc.fill_null(pc.equal(app, "su"), False))
    sess_open = pc.equal(group(sess, "oc"), "opened")
    kv = group(pfail, "kv")
    pf_user = group(pc.extract_regex(kv, r"\suser=(?P<v>\S+)"), "v")
    pf_ruser = group(pc.extract_regex(kv, r"ruser=(?P<v>\S+)"), "v")
    pf_rhost = group(pc.extract_regex(kv, r"rhost=(?P<v>\S+)"), "v")
    pf_tty = group(pc.extract_regex(kv, r"tty=(?P<v>\S+)"), "v")
    sudo_fail = pc.is_valid(group(sudo, "fail"))
    user = pc.coalesce(
        on(ok_res, group(res, "user")), on(ok_inv, group(inv, "user")), on(ok_mx, group(mx, "user")),
        on(ok_disc, group(disc, "user")), on(ok_pre, group(pre, "user")), on(ok_sess, group(sess, "user")), on(ok_pf, pc.coalesce(pf_user, pf_ruser)),
        on(ok_sudo, group(sudo, "target")),
        on(ok_su, pc.coalesce(group(su, "target"), group(su, "target2"), group(su, "target3"), group(su, "target4"))),
        on(ok_su_ok, pc.coalesce(group(su_ok, "target"), group(su_ok, "target2"), group(su_ok, "target3"), group(su_ok, "target4"))),
        on(ok_perr, group(perr, "user")),
        on(ok_deny, pc.coalesce(group(deny, "user"), pc.if_else(pc.is_valid(group(deny, "host2")), "root", none))),
    )  # fmt: skip
    actor = pc.coalesce(
        on(pc.and_(ok_sess, pc.invert(is_sshd)), _nil(group(sess, "by"))), on(ok_sudo, group(sudo, "user")),
        on(ok_su, pc.coalesce(group(su, "user"), group(su, "user2"), group(su, "user3"), group(su, "user4"))),
        on(ok_su_ok, pc.coalesce(group(su_ok, "user"), group(su_ok, "user2"), group(su_ok, "user3"), group(su_ok, "user4"))),
        on(pc.and_(ok_pf, pc.invert(is_sshd)), pf_ruser),
    )  # fmt: skip
    rhost_ip = pc.fill_null(pc.match_substring_regex(pf_rhost, r"^[0-9A-Fa-f.:]+$"), False)
    ip = pc.coalesce(
        on(ok_res, group(res, "ip")), on(ok_inv, group(inv, "ip")), on(ok_mx, group(mx, "ip")),
        on(ok_disc, group(disc, "ip")), on(ok_pre, group(pre, "ip")), on(ok_pf, pc.if_else(rhost_ip, pf_rhost, none)),
        on(ok_perr, pc.if_else(perr_ip, perr_host, none)), on(ok_deny, pc.if_else(deny_ip, deny_host, none)),
    )  # fmt: skip
    # PAM's rhost: the name when sshd resolved it
    rhost_name = pc.coalesce(on(ok_pf, pc.if_else(rhost_ip, none, pf_rhost)), on(ok_perr, pc.if_else(perr_ip, none, perr_host)),
                             on(ok_deny, pc.if_else(deny_ip, none, deny_host)))
    port = pc.coalesce(on(ok_res, group(res, "port")), on(ok_inv, group(inv, "port")), on(ok_mx, group(mx, "port")), on(ok_disc, group(disc, "port")),
                       on(ok_pre, group(pre, "port")), on(ok_deny, group(deny, "port")))
    failed = pc.fill_null(
        pc.or_kleene(
            pc.or_kleene(pc.and_(ok_res, pc.equal(group(res, "res"), "Failed")), pc.or_(pc.or_(ok_inv, ok_mx), pc.or_(ok_deny, ok_pre))),
            pc.or_kleene(pc.or_kleene(ok_pf, ok_perr), pc.or_kleene(pc.and_(ok_sudo, sudo_fail), ok_su)),
        ),
        False,
    )
    detail = pc.coalesce(
        on(pc.and_(ok_res, pc.is_valid(group(res, "inv"))), pa.array(["invalid user"] * n, S)),
        on(ok_inv, pa.array(["invalid user"] * n, S)),
        on(ok_mx, pa.array(["maximum authentication attempts exceeded"] * n, S)),
        on(ok_pf, group(pfail, "detail")), on(ok_sudo, group(sudo, "fail")),
        on(ok_su, pa.array(["su failed"] * n, S)),
        on(ok_perr, group(perr, "detail")),
        on(ok_deny, pc.coalesce(group(deny, "why"), pa.array(["root login refused"] * n, S))),
        on(ok_pre, _preauth_detail(pre)),
    )
    matched = pc.fill_null(
        pc.or_(pc.or_(pc.or_(pc.or_(ok_res, ok_inv), pc.or_(ok_deny, ok_pre)), pc.or_(ok_mx, ok_disc)),
               pc.or_(pc.or_(pc.or_(ok_sess, ok_pf), ok_perr), pc.or_(pc.or_(ok_sudo, ok_su), ok_su_ok))),
        False,
    )
    logoff = pc.or_(ok_disc, pc.and_(ok_sess, pc.invert(pc.fill_null(sess_open, False))))
    activity = pc.if_else(
        pc.invert(is_sshd), pa.scalar(7, _I32), pc.if_else(logoff, pa.scalar(2, _I32), pa.scalar(1, _I32))
    )
    return {
        "_matched": matched,
        "user": user,
        "actor": actor,
        "ip": ip,
        "rhost": rhost_name,
        "count": count,
        "port": port,
        "method": on(ok_res, group(res, "method")),
        "failed": failed,
        "detail": detail,
        "activity": activity,
        "cmd": on(ok_sudo, _nil(group(sudo, "cmd"))),
        "tty": pc.coalesce(on(ok_sudo, group(sudo, "tty")), on(ok_su, pc.coalesce(group(su, "tty"), group(su, "tty2"), group(su, "tty4"))),
                           on(ok_su_ok, pc.coalesce(group(su_ok, "tty"), group(su_ok, "tty3"), group(su_ok, "tty4"))),
                           on(ok_pf, _nil(pf_tty))),
    }


#: Postfix smtpd's SASL results (``warning: HOST[IP]: SASL MECH authentication failed: why`` and a
#: queue id's ``client=HOST[IP], sasl_method=MECH, sasl_username=U``) and Dovecot's login and
#: authentication results (``imap-login: Login: user=<U>, method=M, rip=IP, lip=IP``, ``Aborted login
#: | Disconnected[: why] (auth failed, N attempts...): user=<U>, method=M, rip=...``, the auth
#: process's ``pam|passwd-file|sql|ldap(U,IP[,session]): why``)
_POSTFIX_FAIL = (r"^warning: (?P<host>[^\s\[]+)\[(?P<ip>[0-9A-Fa-f.:]+)\](?::\d+)?: SASL (?P<mech>[\w-]+) authentication "
                 r"failed: ?(?P<why>.*?)\s*$")
_POSTFIX_OK = (r"^[0-9A-Za-z]+: client=(?P<host>[^\s\[]+)\[(?P<ip>[0-9A-Fa-f.:]+)\](?::\d+)?, sasl_method=(?P<mech>[\w-]+), "
               r"sasl_username=(?P<user>[^\s,]+)")
_DOVECOT_LOGIN = (
    r"^(?:(?P<svc>imap|pop3|submission|managesieve|lmtp)-login: )?(?:Info: )?(?:(?P<ok>Login)|Aborted login|Login aborted|Disconnected)"
    r"(?:: [^(]*?)? ?(?:\((?P<why>auth failed[^)]*)\))?: user=<(?P<user>[^>]*)>,(?: method=(?P<mech>[\w-]+),)? "
    r"rip=(?P<ip>[0-9A-Fa-f.:]+)(?:, lip=(?P<lip>[0-9A-Fa-f.:]+))?"
)
_DOVECOT_AUTH = (r"^(?:dovecot: )?auth(?:-worker)?(?:\([^)]*\))?: (?:Info: )?(?P<db>pam|passwd-file|passwd|shadow|sql|ldap|"
                 r"checkpassword|bsdauth)\((?P<user>[^,()]+),(?P<ip>[0-9A-Fa-f.:]+)(?:,[^)]*)?\): (?P<why>.+?)\s*$")


def _mail_auth(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the lines that are Postfix SASL or Dovecot login / authentication results, their
    Authentication fields), or None: Logon, Failure for a failed SASL exchange, a login aborted or
    disconnected after ``auth failed`` and an auth process's failure (its reason the detail);
    the user (none in Postfix's failure), the client address (and name) the source, Dovecot's
    ``lip`` the destination, the SASL mechanism or login method the protocol, the service the
    login process (imap, pop3, ...) or the TAG (``postfix/submission/smtpd``)."""
    tags = app.buffers()[2]  # the programs first: most batches hold neither
    if app.null_count == len(app) or tags is None or not _fast.contains_any(tags, (b"smtpd", b"dovecot", b"auth", b"-login")):
        return None
    none = pa.scalar(None, S)
    smtpd = pc.fill_null(pc.match_substring_regex(app, r"(?:^|/)smtpd$"), False)
    dovecot = pc.fill_null(pc.match_substring_regex(app, r"^(?:dovecot|dovecot-auth|auth|auth-worker|[a-z0-9]+-login)$"), False)
    pf_bad = pc.extract_regex(pc.if_else(smtpd, msg, none), _POSTFIX_FAIL)
    pf_ok = pc.extract_regex(pc.if_else(smtpd, msg, none), _POSTFIX_OK)
    dv = pc.extract_regex(pc.if_else(dovecot, msg, none), _DOVECOT_LOGIN)
    # a Dovecot login line is a result only when it logged in or says its authentication failed
    dv_ok = pc.fill_null(pc.and_(dv.is_valid(), pc.or_(pc.is_valid(group(dv, "ok")), pc.is_valid(group(dv, "why")))), False)
    da = pc.extract_regex(pc.if_else(pc.and_(dovecot, pc.invert(dv_ok)), msg, none), _DOVECOT_AUTH)
    hit = pc.fill_null(pc.or_(pc.or_(pf_bad.is_valid(), pf_ok.is_valid()), pc.or_(dv_ok, da.is_valid())), False)
    if not pc.any(hit).as_py():
        return None
    pf_bad, pf_ok, dv, da, app = pf_bad.filter(hit), pf_ok.filter(hit), dv.filter(hit), da.filter(hit), app.filter(hit)
    dv_ok = dv_ok.filter(hit)
    dv = pc.if_else(dv_ok, dv, pa.scalar(None, dv.type))
    n = len(app)
    host = pc.coalesce(group(pf_bad, "host"), group(pf_ok, "host"))
    failed = pc.fill_null(pc.or_(pc.or_(pf_bad.is_valid(), da.is_valid()), pc.is_valid(group(dv, "why"))), False)
    svc = pc.coalesce(group(dv, "svc"), pc.if_else(pc.is_valid(da), "dovecot", none), app)
    return hit, {
        "user": pc.coalesce(group(pf_ok, "user"), group(dv, "user"), group(da, "user")), "actor": pa.nulls(n, S),
        "ip": pc.coalesce(group(pf_bad, "ip"), group(pf_ok, "ip"), group(dv, "ip"), group(da, "ip")),
        "rhost": pc.if_else(pc.fill_null(pc.equal(host, "unknown"), True), none, host),
        "count": pa.nulls(n, _I32), "port": pa.nulls(n, S),
        "method": pc.coalesce(group(pf_bad, "mech"), group(pf_ok, "mech"), group(dv, "mech")),
        "failed": failed, "detail": pc.coalesce(pc.binary_join_element_wise("SASL authentication failed", group(pf_bad, "why"), ": "),
                                                group(dv, "why"), group(da, "why")),
        "activity": const(1, n, _I32), "cmd": pa.nulls(n, S), "tty": pa.nulls(n, S), "service": svc,
        "dst_ip": group(dv, "lip"),
    }  # fmt: skip


#: the PAM sessions and failures of services other than sshd, sudo and su (``login``, ``gdm-password``,
#: ``systemd-user``, ``cron``, ``vsftpd``, ...: pam_unix writes the same lines for every service) and
#: the console logins and sessions of a Linux host: shadow-utils login's ``FAILED LOGIN (N) on 'TTY'[
#: from 'HOST'] FOR 'USER', REASON`` and ``ROOT LOGIN  on 'TTY'[ from 'HOST']`` (login.c), and
#: systemd-logind's ``New session ID of user USER.`` / ``Removed session ID.`` (logind's
#: SD_MESSAGE_SESSION_START / _STOP)
_LOGIN_FAILED = r"^FAILED LOGIN \((?P<n>\d+)\) on '(?P<tty>[^']*)'(?: from '(?P<host>[^']*)')? FOR '(?P<user>[^']*)', (?P<why>.+)$"
_LOGIN_ROOT = r"^ROOT LOGIN +on '(?P<tty>[^']*)'(?: from '(?P<host>[^']*)')?$"
#: (systemd 256 quotes them: ``New session '5' of user 'alice' with class 'user' and type 'tty'.``; a
#: session whose processes may outlive it is first ``Session ID logged out. Waiting for processes to
#: exit.``, logind's session_stop_scope, then removed)
_LOGIND = (r"^(?:New session (?P<new>\S+) of user (?P<user>[^\s.]+(?:\.[^\s.]+)*)\."
           r"|New session '(?P<new2>[^']+)' of user '(?P<user2>[^']+)' with class '[^']*' and type '[^']*'\."
           r"|Removed session (?P<gone>\S+?)\.|Session (?P<out>\S+) logged out\. Waiting for processes to exit\.)$")
#: PAM services whose session is an account switch (their TAG's own lines go to :func:`_auth`)
_SWITCH_SERVICES = pa.array(["su", "su-l", "sudo", "sudo-i", "runuser", "runuser-l"], S)


def _session_auth(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(the PAM lines of the services above, login's and systemd-logind's, their
    Authentication fields), or None: a PAM session opened / closed Logon / Logoff Success and an
    ``auth`` failure Logon Failure (the PAM service the service, ``rhost`` the source, the tty);
    login's failure Logon Failure (its reason the detail, ``N`` the count), a root login Logon; a
    logind session's start Logon, its logout and removal Logoff (``session.uid`` the session's id). Lines of
    the sshd, sudo and su TAGs are :func:`_auth`'s, and a PAM session of su/sudo under another TAG
    (an account switch) stays where it was."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b"pam_unix(", b"pam_sss(", b"LOGIN ", b"session ", b"Session ")):
        return None
    none = pa.scalar(None, S)
    theirs = pc.fill_null(pc.is_in(app, value_set=_AUTH_APPS), False)
    pam = pc.fill_null(pc.and_(pc.or_(pc.starts_with(msg, "pam_unix("), pc.starts_with(msg, "pam_sss(")), pc.invert(theirs)), False)
    login = pc.fill_null(pc.or_(pc.starts_with(msg, "FAILED LOGIN ("), pc.starts_with(msg, "ROOT LOGIN ")), False)
    logind = pc.fill_null(pc.equal(app, "systemd-logind"), False)
    if not pc.any(pc.or_(pc.or_(pam, login), logind)).as_py():
        return None
    text = pc.if_else(pam, msg, none)  # each grammar runs over the lines that can be its own only
    sess = pc.extract_regex(text, _PAM_SESSION)
    pfail = pc.extract_regex(text, _PAM_FAIL)
    switch = pc.fill_null(pc.is_in(pc.coalesce(group(sess, "svc"), group(pfail, "svc")), value_set=_SWITCH_SERVICES), False)
    sess = pc.if_else(switch, pa.scalar(None, sess.type), sess)
    pfail = pc.if_else(switch, pa.scalar(None, pfail.type), pfail)
    text = pc.if_else(login, msg, none)
    lfail = pc.extract_regex(text, _LOGIN_FAILED)
    root = pc.extract_regex(text, _LOGIN_ROOT)
    logind = pc.extract_regex(pc.if_else(logind, msg, none), _LOGIND)
    hit = pc.fill_null(pc.or_(pc.or_(pc.or_(sess.is_valid(), pfail.is_valid()), pc.or_(lfail.is_valid(), root.is_valid())),
                              logind.is_valid()), False)  # fmt: skip
    if not pc.any(hit).as_py():
        return None
    sess, pfail, lfail, root, logind = (x.filter(hit) for x in (sess, pfail, lfail, root, logind))
    n = len(sess)
    kv = group(pfail, "kv")
    rhost = pc.coalesce(_nil_empty(group(pc.extract_regex(kv, r"rhost=(?P<v>\S+)"), "v")), _nil_empty(group(lfail, "host")),
                        _nil_empty(group(root, "host")))  # fmt: skip
    rhost_ip = _is_ip(rhost)
    failed = pc.or_(pfail.is_valid(), lfail.is_valid())
    logoff = pc.or_(pc.fill_null(pc.equal(group(sess, "oc"), "closed"), False),
                    pc.or_(pc.is_valid(group(logind, "gone")), pc.is_valid(group(logind, "out"))))
    pf_user = pc.coalesce(group(pc.extract_regex(kv, r"\suser=(?P<v>\S+)"), "v"), group(pc.extract_regex(kv, r"ruser=(?P<v>\S+)"), "v"))
    session = pc.coalesce(group(logind, "new"), group(logind, "new2"), group(logind, "gone"), group(logind, "out"))
    return hit, {
        "user": _nil_empty(pc.coalesce(group(sess, "user"), pf_user, group(lfail, "user"), pc.if_else(root.is_valid(), "root", none),
                                       group(logind, "user"), group(logind, "user2"))),
        "actor": pa.nulls(n, S), "ip": pc.if_else(rhost_ip, rhost, none), "rhost": pc.if_else(rhost_ip, none, rhost),
        "count": _number(group(lfail, "n"), _I32), "port": pa.nulls(n, S), "method": pa.nulls(n, S), "failed": failed,
        "detail": pc.coalesce(group(pfail, "detail"), group(lfail, "why")),
        "activity": pc.if_else(logoff, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "cmd": pa.nulls(n, S),
        "tty": pc.coalesce(_nil_empty(group(pc.extract_regex(kv, r"tty=(?P<v>\S+)"), "v")), group(lfail, "tty"), group(root, "tty")),
        "service": pc.coalesce(group(sess, "svc"), group(pfail, "svc"), app.filter(hit)),
        "_cols": {"session.uid": session},
    }  # fmt: skip


def _program_lines(app: pa.Array, msg: pa.Array, tag: str, marks: tuple[bytes, ...], regex: str,
                   prefix: bool = False) -> tuple[pa.Array, pa.Array] | None:
    """(the mask of the lines of the program ``tag`` (a TAG that opens with it, ``prefix``) whose MSG
    ``regex`` reads, those lines' groups), or None: a SIMD test of the MSGs for ``marks`` first."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, marks):
        return None
    theirs = pc.fill_null(pc.starts_with(app, tag) if prefix else pc.equal(app, tag), False)
    found = pc.extract_regex(pc.if_else(theirs, msg, pa.scalar(None, S)), regex)
    hit = found.is_valid()
    if not pc.any(hit).as_py():
        return None
    return hit, found.filter(hit)


#: Dropbear's (the SSH server of OpenWrt and other embedded systems) authentication lines, as svr-auth.c,
#: svr-authpasswd.c and svr-authpubkey.c log them: ``Password auth succeeded for 'U' from A:P``, ``Pubkey auth
#: succeeded for 'U' with [ALGO ]key FP from A:P``, ``Bad password attempt for 'U' from A:P``, ``Login attempt
#: for nonexistent user from A:P``, ``Max auth tries reached - user 'U' from A:P`` (A an address: IPv6 bare)
_DROPBEAR = (r"^(?:(?P<ok>Password|Pubkey) auth succeeded for '(?P<u1>[^']*)'(?: with .*?)?|(?P<bad>Bad password) attempt "
             r"for '(?P<u2>[^']*)'|Login attempt for (?P<none>nonexistent user)|Max auth tries reached - user '(?P<u3>[^']*)')"
             r" from \[?(?P<ip>[0-9A-Fa-f.:]+?)\]?:(?P<port>\d{1,5})$")


def _dropbear_auth(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(Dropbear's authentication results, their Authentication fields), or None: Logon Success
    (the method: password, publickey) or Failure (a bad password, a user that does not exist, too
    many tries: the detail); the user, the client's address and port."""
    lines = _program_lines(app, msg, "dropbear", (b"auth succeeded for '", b"attempt for ", b"Max auth tries"), _DROPBEAR)
    if lines is None:
        return None
    hit, found = lines
    n = len(found)
    none = pa.nulls(n, S)
    ok = group(found, "ok")
    method = pc.coalesce(pc.if_else(pc.equal(ok, "Pubkey"), "publickey", pc.utf8_lower(ok)),
                         pc.if_else(pc.is_valid(group(found, "bad")), "password", pa.scalar(None, S)))  # fmt: skip
    detail = pc.coalesce(group(found, "none"), pc.if_else(pc.is_valid(group(found, "u3")), "maximum authentication attempts reached",
                                                          pa.scalar(None, S)))  # fmt: skip
    return hit, {
        "user": _nil_empty(pc.coalesce(group(found, "u1"), group(found, "u2"), group(found, "u3"))), "actor": none,
        "ip": group(found, "ip"), "rhost": none, "count": pa.nulls(n, _I32), "port": group(found, "port"), "method": method,
        "failed": pc.is_null(ok), "detail": detail, "activity": pa.array(np.ones(n, np.int32)), "cmd": none, "tty": none,
    }  # fmt: skip


#: OpenBSD doas's lines (doas.c): ``U ran command CMD as T from CWD`` (older ``U ran command as T: CMD``),
#: ``failed auth for U`` (a wrong password) and ``command not permitted for U: CMD`` (older ``failed
#: command for U: CMD``: no rule allows it)
_DOAS = (r"^(?:(?P<u1>\S+) ran command (?:(?P<c1>.+) as (?P<t1>\S+) from \S.*|as (?P<t2>\S+): (?P<c2>.+))"
         r"|failed auth for (?P<u2>\S+)|(?:command not permitted|failed command) for (?P<u3>[^\s:]+): (?P<c3>.+))$")


def _doas_auth(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(doas's lines, their Authentication fields), or None: Account Switch as sudo's lines are, the
    invoker the actor, the account run as the user (a failed authentication names none), Success for
    a command run, Failure for a wrong password or a command no rule permits (the detail), the command
    in ``unmapped.command``."""
    lines = _program_lines(app, msg, "doas", (b"ran command ", b" for "), _DOAS)
    if lines is None:
        return None
    hit, found = lines
    n = len(found)
    none = pa.nulls(n, S)
    wrong, denied = pc.is_valid(group(found, "u2")), pc.is_valid(group(found, "u3"))
    return hit, {
        "user": pc.coalesce(group(found, "t1"), group(found, "t2")),
        "actor": pc.coalesce(group(found, "u1"), group(found, "u2"), group(found, "u3")), "ip": none, "rhost": none,
        "count": pa.nulls(n, _I32), "port": none, "method": none, "failed": pc.or_(wrong, denied),
        "detail": pc.if_else(wrong, "failed auth", pc.if_else(denied, "command not permitted", pa.scalar(None, S))),
        "activity": pa.array(np.full(n, 7, np.int32)), "cmd": pc.coalesce(group(found, "c1"), group(found, "c2"), group(found, "c3")),
        "tty": none,
    }  # fmt: skip


#: polkit's authentication results (polkitbackendinteractiveauthority.c: the operator of a session or
#: process authenticated, as an identity, to gain an authorization for an action a program asked)
_POLKIT = (r"^Operator of (?P<scope>\S+) (?:successfully authenticated as (?:unix-user:)?(?P<user>\S+) to gain "
           r"(?P<kind>TEMPORARY|ONE-SHOT) |(?P<failed>FAILED) to authenticate to gain )authorization for action "
           r"(?P<action>\S+) for \S+ \[(?P<cmd>.*)\] \(owned by (?:unix-user:)?(?P<owner>[^)]*)\)$")


def _polkit_auth(app: pa.Array, msg: pa.Array) -> tuple[pa.Array, dict[str, Any]] | None:
    """(polkitd's authentication results, their Authentication fields), or None: Logon (as the PAM
    ``polkit-1`` lines it follows), Success for ``successfully authenticated as`` the user, Failure
    for ``FAILED to authenticate`` (the line names no identity tried: the PAM line before it does);
    the subject's owner the actor, the action in the detail, the program's command line in
    ``unmapped.command``, a ``unix-session:ID`` scope the logind ``session.uid``, service polkit."""
    lines = _program_lines(app, msg, "polkitd", (b"Operator of ",), _POLKIT, prefix=True)
    if lines is None:
        return None
    hit, found = lines
    n = len(found)
    none = pa.nulls(n, S)
    failed = pc.is_valid(group(found, "failed"))
    action = group(found, "action")
    gained = pc.binary_join_element_wise("gained ", group(found, "kind"), " authorization for action ", action, "")
    scope = pc.extract_regex(group(found, "scope"), r"^unix-session:(?P<id>\S+)$")
    return hit, {
        "user": _nil_empty(group(found, "user")), "actor": _nil_empty(group(found, "owner")), "ip": none, "rhost": none,
        "count": pa.nulls(n, _I32), "port": none, "method": none, "failed": failed,
        "detail": pc.if_else(failed, pc.binary_join_element_wise("failed to gain authorization for action ", action, ""), gained),
        "activity": pa.array(np.ones(n, np.int32)), "cmd": _nil_empty(group(found, "cmd")), "tty": none,
        "service": pa.array(["polkit"] * n, S), "_cols": {"session.uid": group(scope, "id")},
    }  # fmt: skip


#: the shadow-utils and PAM lines that record a change to an account or a group (the messages
#: shadow's useradd, userdel, usermod, groupadd, groupdel and gpasswd and pam_unix's chauthtok
#: write to the auth log): (OCSF class, activity_id, pattern with ``user``/``uid``/``group``/
#: ``gid``/``actor`` groups). groupadd also writes ``group added to /etc/group: ...`` and userdel
#: and usermod a ``... shadow group ...`` line for the same change: those stay Base Events, so a
#: change is one event.
_ACCOUNT_LINES = (
    ("account_change", 1, r"^new user: name=(?P<user>[^,\s]+), UID=(?P<uid>\d+)"),
    ("account_change", 6, r"^delete user '(?P<user>[^']+)'$"),
    ("account_change", 3, r"^pam_unix\([\w-]+:chauthtok\): password changed for (?P<user>\S+)$"),
    ("account_change", 9, r"^lock user '(?P<user>[^']+)' password$"),
    ("account_change", 12, r"^unlock user '(?P<user>[^']+)' password$"),
    ("group_management", 6, r"^new group: name=(?P<group>[^,\s]+), GID=(?P<gid>\d+)"),
    ("group_management", 5, r"^(?:group '(?P<group>[^']+)' removed(?: from /etc/group)?|removed group '(?P<group2>[^']+)'(?: owned by '[^']*')?)$"),
    ("group_management", 3, r"^(?:add '(?P<user>[^']+)' to group '(?P<group>[^']+)'|user (?P<user2>\S+) added by (?P<actor>\S+) to group (?P<group2>\S+))$"),
    ("group_management", 4, r"^(?:delete '(?P<user>[^']+)' from group '(?P<group>[^']+)'|user (?P<user2>\S+) removed by (?P<actor>\S+) from group (?P<group2>\S+))$"),
)
_ACCOUNT_APPS = pa.array(["useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd", "chpasswd"], S)


def _account_changes(app: pa.Array, msg: pa.Array) -> list[tuple[str, pa.Array, dict[str, pa.Array]]]:
    """[(OCSF class, the messages of that class, their columns with ``_activity``)] for the lines
    of :data:`_ACCOUNT_LINES`: a user created (with its uid), deleted, its password changed,
    locked or unlocked -> Account Change (3001); a group created (with its gid) or deleted, a user
    added to or removed from it (gpasswd names who did it: the actor) -> Group Management
    (3006); each a Success (the tools log what they did)."""
    if app.null_count == len(app):
        return []
    cand = pc.fill_null(pc.is_in(app, value_set=_ACCOUNT_APPS), False)
    if not pc.any(cand).as_py():
        return []
    out = []
    n = len(msg)
    some = pc.if_else(cand, msg, pa.scalar(None, S))
    for cls in ("account_change", "group_management"):
        hit = pa.array(np.zeros(n, bool))
        activity = pa.nulls(n, _I32)
        got = {k: pa.nulls(n, S) for k in ("user", "uid", "group", "gid", "actor")}
        for kind, act, rx in _ACCOUNT_LINES:
            if kind != cls:
                continue
            st = pc.extract_regex(some, rx)
            ok = pc.fill_null(pc.and_(pc.is_valid(st), pc.invert(hit)), False)
            if not pc.any(ok).as_py():
                continue
            names = {f.name for f in st.type}
            hit = pc.or_(hit, ok)
            activity = pc.if_else(ok, pa.scalar(act, _I32), activity)
            for key in got:
                found = [group(st, k) for k in (key, key + "2") if k in names]
                if found:
                    got[key] = pc.if_else(ok, pc.coalesce(*found), got[key])
        if not pc.any(hit).as_py():
            continue
        m = int(pc.sum(hit).as_py())
        cols = {"_activity": activity.filter(hit), "status_id": pa.array(np.ones(m, np.int32)), "status": pa.array(["Success"] * m, S),
                "user.name": got["user"].filter(hit), "user.uid": got["uid"].filter(hit)}  # fmt: skip
        if cls == "group_management":
            cols.update({"group.name": got["group"].filter(hit), "group.uid": got["gid"].filter(hit),
                         "actor.user.name": got["actor"].filter(hit)})  # fmt: skip
        out.append((cls, hit, cols))
        some = pc.if_else(hit, pa.scalar(None, S), some)
    return out
