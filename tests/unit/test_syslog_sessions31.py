"""Linux console logins and PAM sessions of other services -> Authentication (round 31).

Lines constructed from their programs' format strings (no real corpus here holds them):
systemd-logind's ``New session %s of user %s.`` / ``Removed session %s.`` (src/login/logind-session.c,
SD_MESSAGE_SESSION_START / _STOP), shadow-utils login's ``FAILED LOGIN (%u)%s FOR '%s', %s`` (the
``%s`` `` on '%s'`` and `` from '%s'``) and ``ROOT LOGIN %s`` (src/login.c), and pam_unix's ``session
opened for user %s(uid=%lu) by %s(uid=%lu)`` / ``session closed for user %s`` / ``authentication
failure; logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s  user=%s`` (pam_unix_sess.c,
pam_unix_auth.c) as login, cron, systemd-user and vsftpd write them. They were Base Events: only the
sshd, sudo and su TAGs' lines were read as authentications.
"""

from __future__ import annotations

import json

from secpipe import formats

LINES = b"""\
Dec  1 10:00:00 host1 systemd-logind[812]: New session 12 of user bob.
Dec  1 10:00:02 host1 systemd-logind[812]: Removed session 12.
Dec  1 10:00:06 host1 login[321]: FAILED LOGIN (2) on '/dev/tty1' FOR 'root', Authentication failure
Dec  1 10:00:07 host1 login[321]: ROOT LOGIN  on '/dev/tty1'
Dec  1 10:00:08 host1 login[321]: pam_unix(login:session): session opened for user root(uid=0) by LOGIN(uid=0)
Dec  1 10:00:09 host1 CRON[999]: pam_unix(cron:session): session closed for user root
Dec  1 10:00:11 host1 systemd[1]: pam_unix(systemd-user:session): session opened for user bob(uid=1000) by (uid=0)
Dec  1 10:00:19 host1 vsftpd[12]: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=bob rhost=192.0.2.77  user=bob
Dec  1 10:00:20 host1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by bob(uid=1000)
Dec  1 10:00:21 host1 systemd-logind[812]: Session 12 logged out. Waiting for processes to exit.
"""


def test_logind_login_and_pam_sessions_are_authentication() -> None:
    dec = formats.get("syslog").decode(LINES, "test")
    assert not dec.dead
    order = LINES.decode().splitlines()
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: order.index(r["raw_data"]))
    got = [(r["class_uid"], r["activity_name"], r.get("status"), (r.get("user") or {}).get("name"),
            (r.get("service") or {}).get("name")) for r in rows]  # fmt: skip
    assert got == [
        (3002, "Logon", "Success", "bob", "systemd-logind"),
        (3002, "Logoff", "Success", None, "systemd-logind"),
        (3002, "Logon", "Failure", "root", "login"),
        (3002, "Logon", "Success", "root", "login"),
        (3002, "Logon", "Success", "root", "login"),
        (3002, "Logoff", "Success", "root", "cron"),
        (3002, "Logon", "Success", "bob", "systemd-user"),
        (3002, "Logon", "Failure", "bob", "vsftpd"),
        (3002, "Account Switch", "Success", "root", "sudo"),  # sudo's own lines: an account switch, as before
        # the logout is a Logoff too (session 32): a session whose processes outlive it (KillUserProcesses=no,
        # a tmux left running) may stay "closing" and be removed much later or never (logind-session.c)
        (3002, "Logoff", "Success", None, "systemd-logind"),
    ]
    assert rows[0]["session"]["uid"] == rows[1]["session"]["uid"] == "12"
    failed = rows[2]
    assert failed["status_detail"] == "Authentication failure" and failed["count"] == 2
    assert json.loads(failed["unmapped"])["tty"] == "/dev/tty1"
    assert rows[7]["src_endpoint"]["ip"] == "192.0.2.77" and rows[7]["status_detail"] == "authentication failure"
