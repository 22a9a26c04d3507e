"""macOS unified-log lines and Solaris message IDs in syslog input (session 32).

Lines: Wazuh's sshd decoder tests (wazuh/wazuh ``ruleset/testing/tests/sshd.ini``): macOS's ``log show
--style syslog`` lines (``2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: ...``: a space for
the ``T``, the zone's offset without a colon, two spaces) and a Solaris line whose text opens with
syslogd's message ID (``[ID 800047 auth.notice]``). Before: the macOS lines had no header read (the
whole line the message, the receipt time, no authentication), and the Solaris failed login stayed a
Base Event (its text did not open with sshd's words).
"""

from __future__ import annotations

from typing import Any

from secpipe import formats

MACOS = [
    "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: error: PAM: unknown user for illegal user badguy from 192.168.33.1",
    "2020-03-25 07:46:15.205351-0700  localhost sshd[6738]: User root from 192.168.33.1 not allowed because not listed in AllowUsers",
]
SOLARIS = "Aug 18 07:30:25 192.168.1.5 sshd[20247]: [ID 800047 auth.notice] Failed none for root from 192.168.1.1 port 36942 ssh2"


def _rows(lines: list[str]) -> list[dict[str, Any]]:
    data = "\n".join(lines).encode()
    assert formats.detect(data) is formats.get("syslog")
    dec = formats.get("syslog").decode(data, "test")
    assert not dec.dead
    return sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: lines.index(r["raw_data"]))


def test_macos_log_show_lines() -> None:
    unknown, denied = _rows(MACOS)
    assert (unknown["class_name"], unknown["status"], unknown["user"]["name"]) == ("Authentication", "Failure", "badguy")
    assert unknown["time"] == 1584971262801  # 06:47:42.801612 at -07:00
    assert (unknown["device"]["hostname"], unknown["actor"]["process"]["pid"]) == ("localhost", 3186)
    assert (denied["user"]["name"], denied["src_endpoint"]["ip"]) == ("root", "192.168.33.1")


def test_solaris_message_id() -> None:
    (row,) = _rows([SOLARIS])
    assert (row["class_name"], row["status"], row["user"]["name"], row["auth_protocol"]) == ("Authentication", "Failure", "root", "none")
    assert row["message"] == "Failed none for root from 192.168.1.1 port 36942 ssh2"
    assert row["metadata"]["event_code"] == "800047"
    assert (row["severity_id"], row["metadata"]["log_level"]) == (2, "notice")  # auth.notice: no <PRI> gave one
