"""Cisco IOS / IOS XE syslog: access-list logs, logins and the headers of real devices (round 31).

Lines: Elastic's Cisco IOS integration tests (tests/cases/holdout/elastic-cisco-ios-*.log, see
SOURCE.md). Access-list logs were Base Events (no addresses, ports or verdict), SEC_LOGIN logins and
SYS LOGOUT were Base Events, and these headers lost their time, host or sequence number: a message
count before a relay's header, ``host: seq:``, two numbers, an IPv6 host, ``UTC+1``, ``mdt``, the
uptime and lines without a mnemonic. A zero-padded sequence number (``service sequence-numbers``:
``007439``) was written into ``unmapped`` as a JSON number with leading zeros: not JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from secpipe import formats

CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"
UTC = dt.UTC


def _rows(name: str) -> list[dict]:
    data = (CASES / name).read_bytes()
    dec = formats.get("syslog").decode(data, "test")
    assert not dec.dead and dec.events == len(data.splitlines())
    order = data.decode().splitlines()
    return sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: order.index(r["raw_data"]))


def _when(row: dict) -> dt.datetime:
    return dt.datetime.fromtimestamp(row["time"] / 1000, UTC)


def test_access_list_logs_are_network_activity() -> None:
    rows = [r for r in _rows("elastic-cisco-ios-acl-login.log") if "ACCESSLOG" in (r["metadata"]["event_code"] or "")]
    assert len(rows) == 12 and sum(r["class_uid"] == 4001 for r in rows) == 11  # IPACCESSLOGRL (rate limited) names no packet
    tcp = next(r for r in rows if "list 150 denied tcp" in r["raw_data"])
    assert (tcp["activity_name"], tcp["action"], tcp["disposition"]) == ("Refuse", "Denied", "Blocked")
    assert (tcp["src_endpoint"]["ip"], tcp["src_endpoint"]["port"]) == ("192.168.100.12", 59832)
    assert (tcp["dst_endpoint"]["ip"], tcp["dst_endpoint"]["port"]) == ("81.2.69.144", 80)
    assert tcp["connection_info"]["protocol_num"] == 6 and tcp["connection_info"]["protocol_name"] == "tcp"
    assert tcp["firewall_rule"]["name"] == "150" and tcp["traffic"]["packets"] == 1
    assert tcp["connection_info"]["direction_id"] == 0  # a list may filter either way
    permitted = next(r for r in rows if "internet_in_gig0 permitted" in r["raw_data"])  # IOS XE, after "R0/0: fman_fp_image: "
    assert (permitted["activity_name"], permitted["action"]) == ("Traffic", "Allowed")
    assert permitted["src_endpoint"]["port"] == 59144 and permitted["dst_endpoint"]["port"] == 1103
    icmp = next(r for r in rows if "IPACCESSLOGDP" in r["raw_data"])
    assert icmp["connection_info"]["protocol_num"] == 1 and json.loads(icmp["unmapped"])["ios"] == {"type": "3", "code": "4"}
    numbered = next(r for r in rows if "IPACCESSLOGNP" in r["raw_data"])  # protocol 0: a number, no name
    assert numbered["connection_info"]["protocol_num"] == 0 and numbered["connection_info"]["protocol_name"] is None
    v6 = next(r for r in rows if "IPV6-6-ACCESSLOGP" in r["raw_data"])
    assert v6["connection_info"]["protocol_ver_id"] == 6 and v6["traffic"]["packets"] == 9
    anyv6 = next(r for r in rows if "denied ipv6 ::" in r["raw_data"])  # "ipv6" matches any protocol: none named
    assert anyv6["src_endpoint"]["ip"] == "::" and anyv6["connection_info"]["protocol_name"] is None
    mac = next(r for r in rows if "00-00-5E-00-53-23" in r["raw_data"])  # MAC before the source, interface before the arrow
    assert mac["src_endpoint"]["ip"] == "198.51.100.10" and mac["dst_endpoint"]["port"] == 45240
    assert json.loads(mac["unmapped"])["ios"] == {"input_interface": "TenGigabitEthernet0/1/1", "mac": "00-00-5E-00-53-23"}
    assert mac["device"]["hostname"] == "BGP-BETA" and _when(mac) == dt.datetime(_when(mac).year, 6, 26, 14, 44, 58, 802000, UTC)


def test_logins_and_logouts_are_authentication() -> None:
    rows = [r for r in _rows("elastic-cisco-ios-acl-login.log") if r["class_uid"] == 3002]
    assert len(rows) == 4
    ok, out, asr_ok, asr_out = rows
    assert (ok["activity_name"], ok["status"], ok["user"]["name"]) == ("Logon", "Success", "john.smith")
    assert ok["src_endpoint"]["ip"] == "10.2.55.3" and ok["dst_endpoint"]["port"] == 22
    assert ok["dst_endpoint"]["hostname"] == "192.168.100.2"
    assert _when(ok) == dt.datetime(2021, 3, 24, 19, 6, 3, tzinfo=UTC)  # "at 12:06:03 MST ... 2021": the year the header lacks
    assert (out["activity_name"], out["user"]["name"], out["src_endpoint"]["ip"]) == ("Logoff", "john.smith", "10.5.36.9")
    assert json.loads(out["unmapped"])["tty"] == "5"
    assert asr_ok["user"]["name"] == "username" and asr_ok["device"]["hostname"] == "ASR920"
    assert _when(asr_ok) == dt.datetime(2022, 1, 27, 7, 57, 58, tzinfo=UTC)  # the uptime stamp has no time: the message's
    assert json.loads(asr_out["unmapped"])["sequence"] == 7438  # "007438": padded, a number


def test_login_failed_from_the_message_format() -> None:
    """SEC_LOGIN-4-LOGIN_FAILED as the System Message Guide writes it (``Login failed [user: %s]
    [Source: %s] [localport: %u] [Reason: %s] at %s``; constructed: Elastic's tests hold none), one
    with a user and one without (``[user: ]``)."""
    lines = (b"<188>327: Apr 20 12:56:35.697 NZST: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] "
             b"[Source: 192.0.2.7] [localport: 22] [Reason: Login Authentication Failed] at 12:56:35 NZST Wed Apr 20 2016\n"
             b"<188>328: Apr 20 12:56:39.754 NZST: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: ] "
             b"[Source: 192.0.2.7] [localport: 23] [Reason: Login Authentication Failed] at 12:56:39 NZST Wed Apr 20 2016\n")  # fmt: skip
    dec = formats.get("syslog").decode(lines, "test")
    named, unnamed = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["time"])
    for r in (named, unnamed):
        assert (r["class_uid"], r["activity_name"], r["status"]) == (3002, "Logon", "Failure")
        assert r["status_detail"] == "Login Authentication Failed" and r["src_endpoint"]["ip"] == "192.0.2.7"
    assert named["user"]["name"] == "admin" and unnamed.get("user") is None
    assert _when(named) == dt.datetime(2016, 4, 20, 0, 56, 35, tzinfo=UTC)  # NZST +12:00
    assert unnamed["dst_endpoint"]["port"] == 23


def test_headers_of_real_devices() -> None:
    got = [((r.get("device") or {}).get("hostname"), json.loads(r["unmapped"] or "{}").get("sequence"), _when(r),
            r["metadata"]["event_code"]) for r in _rows("elastic-cisco-ios-headers.log")]  # fmt: skip
    at = dt.datetime(2023, 7, 14, 8, 23, 43, 398000, UTC)
    assert got[:8] == [
        ("sw01", 3132779, at, "FOO-6-BAR"),  # count, relay's stamp and address, origin-id host, sequence
        ("sw01", 3132779, at, "FOO-6-BAR"),
        (None, 3132513, at, "FOO-6-BAR"),  # a host without a colon, then the sequence number
        (None, 3132779, at, "FOO-6-BAR"),
        ("sw01", 3132807, at, "FOO-6-BAR"),
        (None, 3132513, at, "FOO-6-BAR"),  # two numbers: the count and the sequence number, no host
        ("sw01", 2361044, at, "FOO-6-BAR"),
        (None, None, at, "FOO-6-BAR"),  # "UTC:" after the stamp is its zone, not a host
    ]
    ips = [(r.get("device") or {}).get("ip") for r in _rows("elastic-cisco-ios-headers.log")]
    assert ips[:5] == ["192.168.100.2", "192.168.100.2", "192.168.100.2", "2a02:cf40::", None]  # an address: device.ip
    uptime = got[8]
    assert uptime[:2] == ("sw01", 3132513) and uptime[3] == "FOO-6-BAR"  # "2y10w": no wall time, the receipt's
    assert got[9][:3] == ("3router", 3132807, at) and got[10][:3] == ("4firewall.local", 3132517, at)
    year = got[11][2].year
    assert got[11][2] == dt.datetime(year, 5, 6, 15, 13, 9, 123000, UTC)  # UTC+1
    assert got[12][2] == dt.datetime(year, 5, 6, 8, 43, 9, 123000, UTC)  # UTC+07:30
    assert got[13][:3] == (None, 3352457, dt.datetime(2023, 8, 12, 18, 14, 24, 412000, UTC))  # mdt: -06:00
    ntp, repeated = got[14], got[15]  # no mnemonic: the header still read
    assert ntp[:2] == ("rt401-rk30409", 2637085) and repeated[:2] == ("rt401-rk30409", None)
    assert ntp[2] == repeated[2] == dt.datetime(ntp[2].year, 8, 18, 5, 15, 4, 461000, UTC)  # CEST +02:00


def test_ios_xr_header_and_access_list_log() -> None:
    """IOS XR (Elastic's cisco_ios test-syslog.log, its 19th and 20th lines, verbatim): the node
    before the stamp, ``process[pid]:`` after it, a space before the code's colon; its access-list
    log says ``access-list ACL deny|permit``. Both were read as a BSD line whose TAG is the node."""
    lines = (b"<190>Oct 7 07:19:44 internet-primary-mgmt RP/0/RP0/CPU0:Oct 7 07:19:43.630 UTC: ipv4_acl_mgr[310]: "
             b"%ACL-IPV4_ACL-6-IPACCESSLOGP : access-list outgoing-to-VCS-GW deny tcp 89.160.20.128(39527) -> "
             b"89.160.20.128(1830), 1 packet\n"
             b"<190>Oct 7 08:16:04 irgendwo12-mgmt LC/0/0/CPU0:Oct 7 08:16:04.041 UTC: nfsvr[244]: "
             b"%MGBL-NETFLOW-6-INFO_CACHE_SIZE_EXCEEDED : Cache size of 10000 for monitor FM has been exceeded\n")  # fmt: skip
    dec = formats.get("syslog").decode(lines, "test")
    acl, netflow = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["time"])
    assert acl["class_uid"] == 4001 and (acl["activity_name"], acl["action"]) == ("Refuse", "Denied")
    assert acl["firewall_rule"]["name"] == "outgoing-to-VCS-GW" and acl["dst_endpoint"]["port"] == 1830
    assert acl["actor"]["process"] == {"name": "ipv4_acl_mgr", "pid": 310}
    assert acl["device"]["hostname"] == "internet-primary-mgmt"
    assert _when(acl) == dt.datetime(_when(acl).year, 10, 7, 7, 19, 43, 630000, UTC)  # the device's stamp, not the relay's
    assert netflow["metadata"]["event_code"] == "MGBL-NETFLOW-6-INFO_CACHE_SIZE_EXCEEDED"
    assert netflow["message"] == "Cache size of 10000 for monitor FM has been exceeded"


def test_a_tag_of_digits_is_the_sequence_number() -> None:
    """A router's sequence-numbered message without a mnemonic behind a relay's BSD header (OSSEC's
    Cisco IOS log samples, ossec/ossec-docs ``docs/docs/log_samples/cisco/cisco_ios.rst``, verbatim):
    the number was the program (``actor.process.name`` 93)."""
    lines = (b"Sep  7 06:20:59 RouterName 93: SSH2 0: Unexpected message received\n"
             b"Sep  6 09:25:12 RouterName 89: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (1.1.1.1)\n")
    dec = formats.get("syslog").decode(lines, "test")
    ssh, config = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["raw_data"], reverse=True)
    assert json.loads(ssh["unmapped"])["sequence"] == 93 and ssh.get("actor") is None
    assert ssh["message"] == "SSH2 0: Unexpected message received" and ssh["device"]["hostname"] == "RouterName"
    assert json.loads(config["unmapped"])["sequence"] == 89 and config["metadata"]["event_code"] == "SYS-5-CONFIG_I"
