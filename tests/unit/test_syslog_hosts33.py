"""Session 33: a syslog header's host that is an IP address is the device's ``device.ip``.

RFC 5424 section 6.2.4 lets HOSTNAME be an IP address, RFC 3164 section 4.1.2 the same, and a
Cisco device writes its address where ``logging origin-id ip`` is set (the Cisco IOS system message
format, ``seq: origin-id: *timestamp: %FACILITY-SEVERITY-MNEMONIC: text``) or a relay's BSD header
names it by address. The lines below are written to those formats (the two Cisco headers as issue #3
gives them); a relay's address with the device's own name after it is in Elastic's Cisco IOS test
log (tests/cases/holdout/elastic-cisco-ios-headers.log, checked in test_syslog_cisco_ios31).
"""

from __future__ import annotations

from pathlib import Path

from secpipe import formats

CASES = Path(__file__).parent.parent / "cases" / "syslog33"


def _devices(text: str) -> list[tuple[str | None, str | None]]:
    dec = formats.get("syslog").decode(text.encode(), "test")
    assert not dec.dead
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: text.index(r["raw_data"]))
    return [((r.get("device") or {}).get("hostname"), (r.get("device") or {}).get("ip")) for r in rows]


def test_cisco_header_address_is_the_device_ip() -> None:
    lines = ("<189>123: 10.1.1.1: *Mar  1 00:00:00.123: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.5)\n"
             "Mar  1 00:00:00 10.1.1.2 %SEC-6-IPACCESSLOGP: list 101 denied tcp 10.0.0.1(1234) -> 10.0.0.2(80), 1 packet\n"
             "<189>124: sw01: *Mar  1 00:00:01.123: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.5)\n"
             # an IPv6 origin-id after the count: a number's colon has a space after it (else "2001:" was the
             # sequence number and "db8::5" the host)
             "<189>125: 2001:db8::5: *Mar  1 00:00:02.123: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.5)\n")  # fmt: skip
    assert _devices(lines) == [(None, "10.1.1.1"), (None, "10.1.1.2"), ("sw01", None), (None, "2001:db8::5")]


def test_bsd_and_5424_hostname_address() -> None:
    lines = ("<34>Oct 11 22:14:15 192.0.2.7 sshd[12]: Accepted password for bob from 192.0.2.9 port 22 ssh2\n"
             "<34>Oct 11 22:14:16 300.1.2.3 app: not an address: a name\n"
             "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.\n"
             # the origin SD-ELEMENT's ip (RFC 5424 section 7.2.1) comes first; the HOSTNAME then stays the name
             '<165>1 2003-10-11T22:14:15.003Z 192.0.2.3 evntslog - ID47 [origin ip="192.0.2.4"] text\n')  # fmt: skip
    assert _devices(lines) == [(None, "192.0.2.7"), ("300.1.2.3", None), (None, "192.0.2.1"), ("192.0.2.3", "192.0.2.4")]


def test_asa_ftd_rfc3339_stamp() -> None:
    """An ASA / FTD with ``logging timestamp rfc5424`` (Elastic's Cisco FTD test-sgt.log, verbatim): the
    stamp is RFC 3339, then the device id and `` : %FTD-6-430003``. The mnemonic was not read (no event
    code, no severity): the line was a BSD line whose TAG never came."""
    data = (CASES / "elastic-cisco-ftd-sgt.log").read_bytes()
    dec = formats.get("syslog").decode(data, "test")
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["time"])
    got = [(r["metadata"]["event_code"], r["severity_id"], r["device"]["hostname"], r["time"]) for r in rows]
    # severity: the connection events' own EventPriority (Low), not the syslog level (test_syslog_net34)
    assert got == [("FTD-6-430003", 2, "firepower", 1756728000000), ("FTD-6-430002", 2, "firepower", 1756735200000)]
    assert all(r["message"].startswith("EventPriority: Low, DeviceUUID: ") for r in rows)
