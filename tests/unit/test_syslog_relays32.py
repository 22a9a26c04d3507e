"""Syslog headers of a wireless controller and of a relay (session 32).

- Cisco AireOS wireless controllers (WLC) write each message behind their task's name, ``*task: Mmm dd
  hh:mm:ss.mmm: %FAC-SEV-MNEMONIC: file.c:line text``, and may open the code with ``#``. Lines: Splunk
  Connect for Syslog's Cisco tests (splunk/splunk-connect-for-syslog ``tests/test_cisco_ios.py``, the
  WLC line in its header comment), a controller's log quoted on the Cisco community forum ("WLC reports
  the following in the logs", 2024), Trellix's "Cisco Wireless LAN Controller log format and field
  mapping" sample (``#LWAPP-4-...``). Before: with a ``<PRI>`` and a host the line was no Cisco message
  (no time, no code, the header in the message); without, the task was read as the host.
- Kiwi Syslog relays add ``Original Address=<sender>`` straight after the ``<PRI>`` (Kiwi Syslog Daemon's
  help, "Source IP address"), Kiwi Syslog NG its own RFC 5424 header without structured data after the
  tag. Line: Elastic's Cisco IOS pipeline test ``packages/cisco_ios/data_stream/log/_dev/test/pipeline/
  test-kiwi.log`` (elastic/integrations); the older form is written from Kiwi's help page. Before: the
  whole line was a message with no time, host or code.
"""

from __future__ import annotations

from typing import Any

from secpipe import formats

SC4S_WLC = ("<132>xxxxx: *spamApTask1: May 26 18:52:01.958: %CAPWAP-4-DISC_INTF_ERR2: [PA]capwap_ac_sm.c:2053 Ignoring "
            "Primary discovery request received on a wrong VLAN (202) on interface (8) from AP 00:b7:00:00:00:00")  # fmt: skip
FORUM_WLC = ("*spamApTask7: Oct 24 17:58:48.994: %CAPWAP-3-DTLS_CLOSED_ERR: capwap_ac_sm.c:7126 c4:b3:6a:a5:b0:80: DTLS "
             "connection closed forAP 10:0:4:31 (5256), Controller: 10:0:4:10 (5246) AP Message Timeout")  # fmt: skip
TRELLIX_WLC = ("<180>ABCDE12345: *CDP Main: Nov 09 16:02:36.289: #LWAPP-4-AP_DUPLEX_MISMATCH: spam_api.c:7755 Duplex "
               "mismatch discovered on GigabitEthernet0 (not full duplex), with ABCDE12345 FastEthernet0/1 (full duplex) "
               "for AP ABCDE12345")  # fmt: skip
ELASTIC_KIWI = ("<190>Original Address=192.168.0.1 1 2025-06-23T16:13:32.168Z syslog-host-1 Kiwi_SyslogNet_Server 3356 "
                "MSGOUT TEST-HOST-1: *Jun 23 15:52:38.534: %SYS-6-LOGOUT: User test-user has exited tty session "
                "1(192.168.0.1)")  # fmt: skip
KIWI_DAEMON = "<38>original address=logginghost.company.com Mar  3 10:12:13 sshd[812]: Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2"


def _rows(*lines: str) -> list[dict[str, Any]]:
    data = "\n".join(lines).encode()
    assert formats.detect(data) is formats.get("syslog")
    dec = formats.get("syslog").decode(data, "test")
    assert not dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def test_wlc_task_header() -> None:
    sc4s, forum, trellix = _rows(SC4S_WLC, FORUM_WLC, TRELLIX_WLC)
    assert sc4s["metadata"]["event_code"] == "CAPWAP-4-DISC_INTF_ERR2"
    assert (sc4s["device"]["hostname"], sc4s["actor"]["process"]["name"]) == ("xxxxx", "spamApTask1")
    assert sc4s["message"].startswith("[PA]capwap_ac_sm.c:2053 Ignoring Primary discovery request")
    assert "secpipe:time_from_receipt" not in (sc4s["metadata"].get("labels") or [])
    assert forum["actor"]["process"]["name"] == "spamApTask7" and (forum.get("device") or {}).get("hostname") is None
    assert forum["metadata"]["event_code"] == "CAPWAP-3-DTLS_CLOSED_ERR" and forum["severity_id"] == 4  # SEV 3: err
    assert (trellix["metadata"]["event_code"], trellix["actor"]["process"]["name"]) == ("LWAPP-4-AP_DUPLEX_MISMATCH", "CDP Main")
    assert trellix["device"]["hostname"] == "ABCDE12345"


def test_kiwi_relay_tag_names_the_device() -> None:
    ng, daemon = _rows(ELASTIC_KIWI, KIWI_DAEMON)
    # the Kiwi NG header goes: the device's own message is read (an IOS logout), its stamp in the relay's year
    assert (ng["class_name"], ng["activity_name"], ng["user"]["name"]) == ("Authentication", "Logoff", "test-user")
    assert ng["time"] == 1750693958534  # 2025-06-23T15:52:38.534Z
    assert (ng["device"]["hostname"], ng["device"]["ip"]) == ("TEST-HOST-1", "192.168.0.1")
    assert ng["raw_data"] == ELASTIC_KIWI and ng["metadata"]["event_code"] == "SYS-6-LOGOUT"
    assert (daemon["class_name"], daemon["user"]["name"]) == ("Authentication", "deploy")
    assert daemon["device"]["hostname"] == "logginghost.company.com" and daemon["severity_id"] == 1  # <38>: auth.info
