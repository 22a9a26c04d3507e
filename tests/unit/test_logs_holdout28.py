"""Real samples secpipe was not developed against, round 28: syslog and text logs.

Expectations are written from the source documents (OpenSSH's log formats, the vendors' message
references) and the public test fixtures the lines come from, not from secpipe's output.
"""

from __future__ import annotations

from typing import Any

from secpipe import formats
from secpipe.formats.base import Decoded


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _decode(lines: list[str]) -> Decoded:
    return formats.get("syslog").decode("\n".join(lines).encode(), "test")


def test_sshd_preauth_disconnects_of_a_named_user_are_failed_logons() -> None:
    """fail2ban's sshd filter fixtures (fail2ban/fail2ban fail2ban/tests/files/logs/sshd: gh-2185,
    gh-2662, gh-2749 and the 'Disconnecting invalid user' case): OpenSSH names the user of a
    connection that ended before it authenticated ('authenticating user' / 'invalid user'); such a
    line is a Logon Failure of that user from that address. A user name holding 'IP port P' (the
    fixtures' injection checks) stays the user; a disconnect naming no user stays a Base Event."""
    lines = [
        "Mar 16 09:29:50 host sshd[19131]: Connection reset by authenticating user root 192.0.2.20 port 1558 [preauth]",
        "Jul 17 23:03:05 srv sshd[1296]: Connection closed by authenticating user root 192.0.2.10 port 46038 [preauth]",
        "Jul 17 23:04:01 srv sshd[1300]: Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
        "Mar 19 16:47:49 test sshd[5672]: Disconnecting invalid user admin 192.0.2.117 port 44004: Change of username or service "
        "not allowed: (admin,ssh-connection) -> (user,ssh-connection) [preauth]",
        "Mar 19 16:47:50 srv sshd[5672]: Disconnected from authenticating user admin 192.0.2.6 port 33553 [preauth]",
        "May 27 00:16:33 host sshd[2364]: Received disconnect from 198.51.100.76 port 58846:11: Bye Bye [preauth]",
        "Jul 18 17:19:11 srv sshd[2101]: Disconnected from 192.0.2.4 port 36985 [preauth]",
    ]
    d = _decode(lines)
    assert not d.dead and d.events == 7
    rows = {r["raw_data"]: r for r in _rows(d)}
    auth = [rows[line] for line in lines[:5]]
    assert {(r["class_uid"], r["activity_id"], r["status_id"], r["status"]) for r in auth} == {(3002, 1, 2, "Failure")}
    assert [(r["user"]["name"], r["src_endpoint"]["ip"], r["src_endpoint"]["port"]) for r in auth] == [
        ("root", "192.0.2.20", 1558), ("root", "192.0.2.10", 46038), ("test 127.0.0.1 port 12345", "192.0.2.11", 46039),
        ("admin", "192.0.2.117", 44004), ("admin", "192.0.2.6", 33553),
    ]  # fmt: skip
    assert auth[0]["status_detail"] == "disconnected before authentication"
    assert auth[3]["status_detail"].startswith("invalid user: Change of username or service not allowed")
    assert {rows[line]["class_uid"] for line in lines[5:]} == {0}
