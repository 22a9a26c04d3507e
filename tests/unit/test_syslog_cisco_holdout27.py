"""Cisco IOS / NX-OS / ASA messages with an empty sequence number or a zone in their stamp (round 27).

Lines: Graylog2/graylog2-server, ``graylog2-server/src/test/java/org/graylog2/syslog4j/server/impl/
event/CiscoSyslogServerEventTest.java`` (testCisco1-6, testDefaultTimeZoneUtcIfNotConfigured), verbatim,
with the times, hosts and levels that test expects. NX-OS writes ``<PRI>: `` (no sequence number):
the PRI was read as the host (``device.hostname = '<190>'``) and the PRI's severity lost; its
``CET`` was ignored (the local 09:22:34 stored as UTC).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from secpipe import formats

UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1))
NXOS = ("<190>: 2016 Mar 06 09:22:34 CET: %AUTHPRIV-6-SYSTEM_MSG: START: rsync pid=4311 from=::ffff:IP "
        "- xinetd[6219]")


def _row(line: str) -> dict:
    dec = formats.get("syslog").decode(line.encode(), "test")
    assert not dec.dead, dec.dead
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    return row


@pytest.mark.parametrize(("line", "when", "host", "sev", "seq"), [
    (NXOS, dt.datetime(2016, 3, 6, 9, 22, 34, tzinfo=CET), None, 1, None),  # local7.info
    ("<190>: 2016 Mar 06 09:22:34: %AUTHPRIV-6-SYSTEM_MSG: START: rsync pid=4311 from=::ffff:IP - xinetd[6219]",
     dt.datetime(2016, 3, 6, 9, 22, 34, tzinfo=UTC), None, 1, None),  # no zone: UTC
    ('<134>: 2016 Mar  6 12:53:10 UTC: %POLICY_ENGINE-6-POLICY_LOOKUP_EVENT: policy=POLICYNAME rule=RULENAME '
     'action=Permit direction=egress src.net.ip-address=IP src.net.port=38321 dst.net.ip-address=IP dst.net.port=5666 '
     'net.protocol=6 net.ethertype=800 net.service="protocol 6 port 5666"',
     dt.datetime(2016, 3, 6, 12, 53, 10, tzinfo=UTC), None, 1, None),
    ("<166>Mar 06 2016 12:53:10 DEVICENAME : %ASA-6-302013: Built inbound TCP connection 723494125 for "
     "FRONTEND:IP/11288 (IP/11288) to BACKEND:IP/27180 (IP/27180)",
     dt.datetime(2016, 3, 6, 12, 53, 10, tzinfo=UTC), "DEVICENAME", 1, None),
    ("<186>1541800: Feb 27 06:08:59.485: %HARDWARE-2-FAN_ERROR: Fan Failure", None, None, 5, 1541800),
    ("<190>530470: *Sep 28 17:13:35.098: %SEC-6-IPACCESSLOGP: list MGMT_IN denied udp IP(49964) -> IP(161), "
     "11 packets", None, None, 1, 530470),
])
def test_cisco_header(line: str, when: dt.datetime | None, host: str | None, sev: int, seq: int | None) -> None:
    row = _row(line)
    if when is not None:
        assert row["time"] == int(when.timestamp() * 1000)
    assert (row.get("device") or {}).get("hostname") == host
    assert row["severity_id"] == sev
    code = row["metadata"]["event_code"]
    assert line.endswith(f"%{code}: {row['message']}")
    assert json.loads(row["unmapped"]).get("sequence") == seq


def test_cisco_zone_named_by_journal_abbreviations() -> None:
    # a zone Cisco's ``clock timezone`` may name, as journalctl's abbreviations (EDT: -04:00)
    row = _row("<189>12: router1: *Mar  1 2024 18:46:11.123 EDT: %SYS-5-CONFIG_I: Configured from console by vty0")
    assert row["time"] == int(dt.datetime(2024, 3, 1, 22, 46, 11, 123000, tzinfo=UTC).timestamp() * 1000)
    assert row["device"]["hostname"] == "router1"
