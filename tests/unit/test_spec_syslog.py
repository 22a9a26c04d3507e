"""Syslog shapes from the RFCs and the producing tools' documentation, beyond the visible samples.

Sources (expected values written from these texts and the OCSF 1.8.0 schema):
- RFC 5424 section 6 (VERSION 1-3 digits, NILVALUE ``-``, SD-PARAM escapes ``\\"``, ``\\\\``,
  ``\\]``; a backslash before any other character is kept), section 6.5 examples.
- RFC 3164 section 5.4 examples (``<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!``: no TAG).
- RFC 6587 section 3.4.1 (octet counting: ``MSG-LEN SP SYSLOG-MSG``).
- syslog-ng ``frac-digits()`` (fractional seconds in BSD timestamps); util-linux/BSD ``logger``
  (``<13>Mmm dd hh:mm:ss tag: msg``, no hostname).
- Cisco IOS ``service timestamps log datetime msec [year] [show-timezone]`` and
  ``service sequence-numbers``; NX-OS ``YYYY Mmm dd hh:mm:ss host %FAC-SEV-MNEMONIC: text``;
  ASA ``logging timestamp`` + ``logging device-id`` (``Mmm dd YYYY hh:mm:ss host : %ASA-6-302013: ...``).
- ArcSight CEF (``CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension``;
  severity 0-3 Low, 4-6 Medium, 7-8 High, 9-10 Very-High; ``\\=`` escape in extensions) and
  IBM LEEF 1.0 (tab-separated attributes) / 2.0 (delimiter field).
"""

from __future__ import annotations

import datetime as dt
import json

from secpipe import formats
from tests.unit.spec_support import detected, rows


def _ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


def _one(line: bytes) -> dict:
    res = formats.get("syslog").decode(line + b"\n", "spec")
    assert not res.dead, [d.reason for d in res.dead]
    (r,) = rows(res)
    return r


def test_rfc5424_structured_data_escapes_and_three_digit_version() -> None:
    r = _one(b'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
             b'[exampleSDID@32473 iut="3" eventSource="App\\]x" path="C:\\\\tmp\\d"][examplePriority@32473 class="high"]')  # fmt: skip
    assert r["time"] == _ms(2003, 10, 11, 22, 14, 15) + 3 and r["metadata"]["event_code"] == "ID47"
    sd = json.loads(r["unmapped"])["structured_data"]
    assert sd == {"exampleSDID@32473": {"iut": "3", "eventSource": "App]x", "path": "C:\\tmp\\d"},
                  "examplePriority@32473": {"class": "high"}}
    assert r["message"] is None
    r = _one(b"<14>100 2024-03-01T10:00:00.5+02:00 h app 12 - - future version")
    assert r["metadata"]["log_format"] == "RFC 5424" and r["time"] == _ms(2024, 3, 1, 8, 0, 0) + 500


def test_rfc5424_nilvalues_everywhere() -> None:
    r = _one(b"<13>1 - - - - - - only a message")
    assert r["message"] == "only a message" and r["device"] is None  # no field: no object
    assert r["actor"] is None and r["metadata"]["labels"] == ["secpipe:time_from_receipt"]


def test_rfc3164_example_without_tag_and_logger_without_hostname() -> None:
    r = _one(b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!")
    assert r["device"]["ip"] == "10.0.0.99" and r["message"] == "Use the BFG!"
    assert r["metadata"]["log_format"] == "RFC 3164" and r["severity_id"] == 2  # user.notice
    r = _one(b"<13>Mar  1 10:00:00 2024 alice: hello")  # not a year: "2024" is the hostname slot
    assert r["actor"]["process"]["name"] == "alice"
    r = _one(b"<13>Mar  1 10:00:00 root: hello from logger")
    assert r["device"] is None and r["actor"]["process"]["name"] == "root"


def test_bsd_timestamps_with_year_and_fraction() -> None:
    assert _one(b"<13>Mar  1 2024 10:00:00 host app[1]: year after day")["time"] == _ms(2024, 3, 1, 10)
    assert _one(b"<13>2024 Mar  1 10:00:00 host app[1]: year first")["time"] == _ms(2024, 3, 1, 10)
    r = _one(b"<13>Mar  1 2024 10:00:00.123456 host app[1]: frac")
    assert r["time"] == _ms(2024, 3, 1, 10) + 123 and r["actor"]["process"]["pid"] == 1
    head = b"Mar  1 2024 10:00:00.250 web1 nginx[7]: GET /\n"
    assert detected(head) == "syslog"


def test_cisco_ios_nxos_asa() -> None:
    r = _one(b"<189>52: router1: *Mar  1 2024 00:01:23.456 UTC: %SYS-5-CONFIG_I: Configured from console by vty0")
    assert r["metadata"]["event_code"] == "SYS-5-CONFIG_I" and r["message"] == "Configured from console by vty0"
    assert r["device"]["hostname"] == "router1" and r["time"] == _ms(2024, 3, 1, 0, 1, 23) + 456
    assert r["severity_id"] == 2 and json.loads(r["unmapped"]) == {"facility": "local7", "sequence": 52}
    r = _one(b"<189>2024 Mar  1 00:01:23 switch1 %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up")
    assert r["device"]["hostname"] == "switch1" and r["metadata"]["event_code"] == "ETHPORT-5-IF_UP"
    r = _one(b"<166>Mar 01 2024 10:00:00 fw01 : %ASA-6-302013: Built outbound TCP connection 1 for outside:10.0.0.1/443")
    assert r["device"]["hostname"] == "fw01" and r["metadata"]["event_code"] == "ASA-6-302013"
    assert r["time"] == _ms(2024, 3, 1, 10) and r["severity_id"] == 1  # local4.info
    r = _one(b"<166>%ASA-4-106023: Deny tcp src outside:1.2.3.4/1 dst inside:10.0.0.2/22")
    assert r["metadata"]["event_code"] == "ASA-4-106023" and r["message"].startswith("Deny tcp")
    assert detected(b"52: *Mar  1 00:01:23.456: %SYS-5-CONFIG_I: Configured from console\n") == "syslog"
    r = _one(b"<189>Mar  1 2024 00:01:24 10.0.0.1 53: *Mar  1 2024 00:01:23.456: %LINK-3-UPDOWN: Interface Gi0/1, changed")
    assert r["device"]["ip"] == "10.0.0.1" and json.loads(r["unmapped"])["sequence"] == 53  # relay header first
    assert r["time"] == _ms(2024, 3, 1, 0, 1, 23) + 456  # the device's own time


def test_cef_over_rfc3164_and_rfc5424() -> None:
    r = _one(b"<134>Mar  1 2024 10:00:00 fw CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|"
             b"src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=a \\= b")  # fmt: skip
    assert r["actor"] is None  # "CEF" is the payload, not a TAG (and an object with no field is absent)
    assert r["metadata"]["product"] == {"name": "threatmanager", "vendor_name": "Security", "version": "1.0"}
    assert r["metadata"]["event_code"] == "100" and r["metadata"]["log_format"] == "CEF"
    assert r["message"] == "worm successfully stopped" and r["severity_id"] == 5  # 10: Very-High
    assert r["raw_data"].endswith("spt=1232 msg=a \\= b")
    cef = json.loads(r["unmapped"])["cef"]
    assert cef["extension"] == {"src": "10.0.0.1", "dst": "2.1.2.2", "spt": "1232", "msg": "a = b"}
    assert cef["device_vendor"] == "Security" and cef["severity"] == "10"
    r = _one(b"<134>1 2024-03-01T10:00:00Z fw app - - - CEF:0|V\\|X|P|2|sig-7|Port scan|Medium|src=10.0.0.9")
    assert r["metadata"]["product"]["vendor_name"] == "V|X" and r["severity_id"] == 3
    assert r["actor"]["process"]["name"] == "app" and r["time"] == _ms(2024, 3, 1, 10)


def test_bare_cef_and_leef_lines() -> None:
    doc = (b"CEF:0|Vendor|Product|1.0|100|Bare event|3|rt=1709287200123 src=10.0.0.1\n"
           b"LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=8\n"
           b"LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5\n")  # fmt: skip
    assert detected(doc) == "syslog"
    res = formats.get("syslog").decode(doc, "spec")
    cef, leef1, leef2 = rows(res)
    assert cef["time"] == 1709287200123 and cef["severity_id"] == 2  # 3: Low
    assert leef1["metadata"]["event_code"] == "15345" and leef1["severity_id"] == 4  # sev 8: High
    assert json.loads(leef1["unmapped"])["leef"]["extension"] == {"src": "192.0.2.0", "dst": "172.50.123.1", "sev": "8"}
    assert json.loads(leef2["unmapped"])["leef"]["extension"] == {"src": "10.0.1.8", "dst": "10.0.0.5", "sev": "5"}


def test_octet_counted_frames_with_bom_and_embedded_newline() -> None:
    m1 = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8"
    m2 = b"<13>Mar  1 2024 10:00:00 host app: first line\nsecond line"
    doc = b"%d %s%d %s" % (len(m1), m1, len(m2), m2)
    assert detected(doc) == "syslog"
    a, b = sorted(rows(formats.get("syslog").decode(doc, "spec")), key=lambda r: r["time"])
    assert a["message"] == "'su root' failed for lonvick on /dev/pts/8" and a["class_uid"] == 3002
    assert b["message"] == "first line\nsecond line"


def test_bad_pri_and_words_are_kept_whole() -> None:
    # RFC 3164 4.3.3: a message with no PRI, or an unidentifiable one, is relayed whole as CONTENT
    res = formats.get("syslog").decode(b"just some words\n<999>Mar  1 10:00:00 h t: x\n", "spec")
    assert res.dead == []
    assert sorted(r["message"] for r in rows(res)) == ["<999>Mar  1 10:00:00 h t: x", "just some words"]


def test_non_numeric_procid_is_kept() -> None:
    # RFC 5424 6.2.6: PROCID "is often used to provide the process name or process ID"
    r = _one(b"<13>1 2024-03-01T10:00:00Z h app worker-1 - - m")
    assert r["actor"]["process"]["pid"] is None and json.loads(r["unmapped"])["procid"] == "worker-1"


def test_ipv6_hostname() -> None:
    # rsyslog/syslog-ng write the sender's address as HOSTNAME when it has no name (RFC 3164 4.1.2)
    r = _one(b"<13>Mar  1 2024 10:00:00 2001:db8::1 app[3]: msg")
    assert r["device"]["ip"] == "2001:db8::1" and r["actor"]["process"]["name"] == "app"


def test_origin_sd_element_gives_the_device_ip() -> None:
    # RFC 5424 7.2: origin (ip, enterpriseId, software, swVersion); 7.1: timeQuality
    r = _one(b'<13>1 2024-03-01T10:00:00Z h app - - [timeQuality tzKnown="1" isSynced="1"]'
             b'[origin software="rsyslogd" swVersion="8.2" ip="192.0.2.7" ip="192.0.2.8"] m')  # fmt: skip
    assert r["device"]["ip"] == "192.0.2.7"
    sd = json.loads(r["unmapped"])["structured_data"]
    assert sd["timeQuality"] == {"tzKnown": "1", "isSynced": "1"}
    assert sd["origin"] == {"software": "rsyslogd", "swVersion": "8.2", "ip": ["192.0.2.7", "192.0.2.8"]}
