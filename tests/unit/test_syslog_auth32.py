"""Syslog authentications of switch ports, logind logouts and polkit (session 32).

- Cisco 802.1X / MAB / session manager outcomes -> Authentication Logon. Lines: Wazuh's ruleset test
  (wazuh/wazuh ``ruleset/testing/tests/cisco_ios.ini``, "cisco switch" log 3: ``%DOT1X-5-FAIL`` of an
  ``Unknown MAC``), a stacked switch's MAB failures quoted in jkougoulos/9to5tail's README.md; the IOS XE
  and session manager lines are written from the system message text those carry (``Switch N R0/0:
  smd:`` first on IOS XE 16+, ``Failure Reason:`` last; ``%AUTHMGR-7-RESULT``'s ``Authentication result
  '%s' from '%s' for client (%s) on Interface %s AuditSessionID %s``). They were Base Events.
- systemd-logind's ``Session %s logged out. Waiting for processes to exit.`` and systemd 256's ``New
  session '%s' of user '%s' with class '%s' and type '%s'.`` (src/login/logind-session.c); the logout
  line as HackTheBox's "Brutus" auth.log holds it (quoted in public write-ups). They were Base Events.
- polkitd's ``Operator of %s successfully authenticated as %s to gain TEMPORARY|ONE-SHOT authorization for
  action %s for %s [%s] (owned by %s)`` / ``... FAILED to authenticate ...`` (polkit's
  polkitbackendinteractiveauthority.c); lines as users' auth.log files quoted on forums hold them, the
  failure's message from Red Hat's RHEL 9 smart-card troubleshooting guide behind a syslog header. They
  were Base Events.
"""

from __future__ import annotations

import json
from typing import Any

from secpipe import formats

WAZUH_DOT1X = "Apr 30 15:10:58: %DOT1X-5-FAIL: Authentication failed for client (Unknown MAC) on Interface Fa0/3 AuditSessionID"
STACK_MAB = ("Jan  6 10:44:04 10.4.2.5 979748: Jan  6 10:44:03.405: %MAB-SW1-5-FAIL: Authentication failed for client "
             "(ac57.acc9.9813) on Interface Gi117/2/0/39 AuditSessionID 0A30FE01000062523E6FDEC4")  # fmt: skip
IOSXE_DOT1X = ("<189>1234: sw1: Mar  3 10:12:13.123: %DOT1X-5-FAIL: Switch 2 R0/0: smd:  Authentication failed for client "
               "(002A.C102.3EB4) on Interface Gi4/0/22 AuditSessionID 0C65633E00032EF22F9CBDFE")  # fmt: skip
SESSION_MGR = ("<189>1235: sw1: Mar  3 10:12:14.123: %SESSION_MGR-5-FAIL: Chassis 2 R0/0: wncd: Authorization failed or "
               "unapplied for client (00e0.db47.858a) on Interface capwap_90000004 AuditSessionID 0C65633E00032EF22F9CBDFE. "
               "Failure Reason: VLAN Failure. Failed attribute name Vlan123.")  # fmt: skip
RESULT = ("<189>1236: sw1: Mar  3 10:12:15.123: %AUTHMGR-7-RESULT: Authentication result 'no-response' from 'dot1x' for "
          "client (0050.5687.0001) on Interface Gi1/0/1 AuditSessionID 0A0A0A0A0000001234567890")  # fmt: skip
MAB_OK = ("<189>1237: sw1: Mar  3 10:12:16.123: %MAB-5-SUCCESS: Authentication successful for client (0050.5687.0001) on "
          "Interface Gi1/0/1 AuditSessionID 0A0A0A0A0000001234567890")  # fmt: skip
START = ("<189>1238: sw1: Mar  3 10:12:17.123: %AUTHMGR-5-START: Starting 'mab' for client (0050.5687.0001) on Interface "
         "Gi1/0/1 AuditSessionID 0A0A0A0A0000001234567890")  # fmt: skip

BRUTUS_LOGOUT = "Mar  6 06:37:24 ip-172-31-35-28 systemd-logind[411]: Session 37 logged out. Waiting for processes to exit."
LOGIND_256 = "Mar  6 06:40:01 host systemd-logind[411]: New session '5' of user 'alice' with class 'user' and type 'tty'."
POLKIT_OK = ("Jan 31 06:36:36 centOSlearning polkitd[635]: Operator of unix-process:9028:5251384 successfully authenticated "
             "as unix-user:sunnylinux to gain ONE-SHOT authorization for action org.freedesktop.systemd1.manage-units for "
             "system-bus-name::1.510 [systemctl start php] (owned by unix-user:sunnylinux)")  # fmt: skip
POLKIT_SESSION = ("Sep 19 16:01:47 jamz-Lenovo-G570 polkitd(authority=local): Operator of unix-session:c2 successfully "
                  "authenticated as unix-user:jamz to gain TEMPORARY authorization for action "
                  "org.debian.apt.install-or-remove-packages for system-bus-name::1.458 [/usr/bin/python3 "
                  "/usr/bin/update-manager --no-update --no-focus-on-map] (owned by unix-user:jamz)")  # fmt: skip
POLKIT_FAILED = ("Mar  6 06:41:00 ws1 polkitd[1020]: Operator of unix-session:c2 FAILED to authenticate to gain authorization "
                 "for action org.debian.pcsc-lite.access_pcsc for unix-process:4800:14441 [/usr/libexec/gsd-smartcard] "
                 "(owned by unix-user:group)")  # fmt: skip


def _rows(*lines: str) -> list[dict[str, Any]]:
    dec = formats.get("syslog").decode("\n".join(lines).encode(), "test")
    assert not dec.dead
    rows = [r for b in dec.batches for r in b.to_pylist()]
    return sorted(rows, key=lambda r: lines.index(r["raw_data"]))


def test_port_authentications_are_logons_of_the_client_mac() -> None:
    wazuh, stack, iosxe, mgr, result, ok, start = _rows(WAZUH_DOT1X, STACK_MAB, IOSXE_DOT1X, SESSION_MGR, RESULT, MAB_OK, START)
    for row in (wazuh, stack, iosxe, mgr, result, ok):
        assert (row["class_name"], row["activity_name"]) == ("Authentication", "Logon"), row["raw_data"]
    assert [r["status"] for r in (wazuh, stack, iosxe, mgr, result, ok)] == ["Failure"] * 5 + ["Success"]
    assert wazuh["dst_endpoint"]["interface_name"] == "Fa0/3" and (wazuh.get("src_endpoint") or {}).get("mac") is None
    assert (wazuh["auth_protocol"], wazuh["auth_protocol_id"]) == ("EAP", 9)
    assert stack["src_endpoint"]["mac"] == "ac:57:ac:c9:98:13" and stack["session"]["uid"] == "0A30FE01000062523E6FDEC4"
    assert (stack["auth_protocol"], stack["auth_protocol_id"]) == ("RADIUS", 10)  # MAB: RADIUS checks the MAC
    assert (iosxe["src_endpoint"]["mac"], iosxe["dst_endpoint"]["interface_name"]) == ("00:2a:c1:02:3e:b4", "Gi4/0/22")
    assert mgr["status_detail"] == "VLAN Failure" and mgr["dst_endpoint"]["interface_name"] == "capwap_90000004"
    assert (result["status_detail"], result["auth_protocol"]) == ("no-response", "EAP")
    assert start["class_name"] == "Base Event"  # a start has no outcome


def test_logind_logout_and_quoted_new_session() -> None:
    logout, new = _rows(BRUTUS_LOGOUT, LOGIND_256)
    assert (logout["class_name"], logout["activity_name"], logout["session"]["uid"]) == ("Authentication", "Logoff", "37")
    assert (new["activity_name"], new["user"]["name"], new["session"]["uid"]) == ("Logon", "alice", "5")


def test_polkit_authentications() -> None:
    ok, session, failed = _rows(POLKIT_OK, POLKIT_SESSION, POLKIT_FAILED)
    assert (ok["class_name"], ok["activity_name"], ok["status"]) == ("Authentication", "Logon", "Success")
    assert ok["user"]["name"] == "sunnylinux" and ok["actor"]["user"]["name"] == "sunnylinux"
    assert ok["status_detail"] == "gained ONE-SHOT authorization for action org.freedesktop.systemd1.manage-units"
    assert ok["service"]["name"] == "polkit" and json.loads(ok["unmapped"])["command"] == "systemctl start php"
    assert session["session"]["uid"] == "c2"  # the logind session whose operator authenticated
    assert (failed["status"], failed.get("user")) == ("Failure", None)  # the line names no identity tried
    assert failed["actor"]["user"]["name"] == "group"
    assert failed["status_detail"] == "failed to gain authorization for action org.debian.pcsc-lite.access_pcsc"


#: Wazuh's cisco_ios.ini "cisco switch" log 2 (IOS's SSH server: a user's authentication succeeded); the
#: failure and the session's end written from the same messages' texts (``... Failed``, ``SSH2_CLOSE: SSH2
#: Session from A (tty = N) for user 'U' using ... closed``)
IOS_SSH = [
    "4423: Aug 23 00:16:18.200: %SSH-5-SSH2_USERAUTH: User 'user' authentication for SSH2 Session from x.x.x.x (tty = 0) "
    "using crypto cipher 'aes111-sdf0', hmac 'hmac-sha1' Succeeded",
    "<189>12: rtr1: Aug 12 15:29:52.123: %SSH-5-SSH2_USERAUTH: User 'admin' authentication for SSH2 Session from "
    "10.109.21.149 (tty = 0) using crypto cipher 'aes256-ctr', hmac 'hmac-sha1' Failed",
    "<189>13: rtr1: Aug 12 15:31:52.123: %SSH-5-SSH2_CLOSE: SSH2 Session from 10.109.21.149 (tty = 0) for user 'admin' "
    "using crypto cipher 'aes256-ctr', hmac 'hmac-sha1' closed",
]


def test_ios_ssh_server_authentications() -> None:
    ok, failed, closed = _rows(*IOS_SSH)
    assert [(r["activity_name"], r["status"], r["user"]["name"]) for r in (ok, failed, closed)] == [
        ("Logon", "Success", "user"), ("Logon", "Failure", "admin"), ("Logoff", "Success", "admin")]
    assert failed["src_endpoint"]["ip"] == "10.109.21.149" and json.loads(failed["unmapped"])["tty"] == "0"
