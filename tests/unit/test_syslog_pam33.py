"""Session 33: SSSD's pam_sss authentication failures are Logon Failures, as pam_unix's are.

The lines are written to the format SSSD's ``src/sss_client/pam_sss.c`` (``send_and_receive``) logs
through ``pam_vsyslog`` (``pam_sss(<service>:auth): authentication failure|success; logname=%s uid=%lu
euid=%d tty=%s ruser=%s rhost=%s user=%s``, newer releases adding `` seq=%lu``), the PAM prefix as
Linux-PAM's pam_vsyslog writes it. They were Base Events.
"""

from __future__ import annotations

from secpipe import formats

LINES = (
    "Dec  1 10:00:00 host sshd[200]: pam_sss(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.5 user=alice\n"
    "Dec  1 10:00:01 host sshd[201]: pam_sss(sshd:auth): authentication success; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.5 user=alice\n"
    "Dec  1 10:00:02 host sudo[202]: pam_sss(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/1 ruser=bob rhost= user=bob\n"
    "Dec  1 10:00:03 host login[203]: pam_sss(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=tty1 ruser= rhost= user=carol seq=12\n"
)  # fmt: skip


def test_pam_sss_failures() -> None:
    dec = formats.get("syslog").decode(LINES.encode(), "test")
    assert not dec.dead
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["time"])
    got = [(r["class_uid"], r.get("status"), (r.get("user") or {}).get("name"), ((r.get("src_endpoint") or {}).get("ip")),
            (r.get("service") or {}).get("name")) for r in rows]  # fmt: skip
    assert got == [
        (3002, "Failure", "alice", "192.0.2.5", "sshd"),
        (0, None, None, None, None),  # a success of the auth phase only: the account phase may still refuse
        (3002, "Failure", "bob", None, "sudo"),
        (3002, "Failure", "carol", None, "login"),
    ]
