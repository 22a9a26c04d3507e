"""SigmaHQ ``category: firewall`` rules on the firewall lines the syslog format stores as OCSF
Network Activity (round 27): Cisco ASA, PAN-OS TRAFFIC, Juniper SRX ``RT_FLOW``, Windows Firewall,
Meraki, pfSense filterlog. Their lines name the connection each its own way, so the taxonomy's
``src_ip``/``dst_ip``/``src_port``/``dst_port``/``proto`` (and ``action``'s verdict words) also read
the Network Activity columns, on Network Activity rows only: an sshd login's ``src_endpoint.ip`` is no
firewall connection.

Lines: tests/cases/holdout (SOURCE.md "Round 27 (logs)": Elastic integrations' cisco_asa, panw,
juniper_srx, cisco_meraki, pfsense test logs; ossec-docs' Windows Firewall samples; loghub's OpenSSH
sample). Rules: SigmaHQ's net_firewall_cleartext_protocols and rules written in the taxonomy's names.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.detect.sigma import RuleSet, load_rules
from tests.unit.holdout_support import sigma_rows as _rows

CASES = Path(__file__).resolve().parents[1] / "cases"
LOGS = CASES / "holdout"
CLEARTEXT = CASES / "sigma_holdout" / "net_firewall_cleartext_protocols.yml"


def _firewall_rule(tmp_path: Path, detection: str) -> RuleSet:
    p = tmp_path / "rule.yml"
    p.write_text("title: t\nid: 0d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f41\nlogsource:\n  category: firewall\n"
                 "detection:\n" + textwrap.indent(textwrap.dedent(detection), "  ") + "level: low\n")
    return load_rules([p])


@pytest.mark.parametrize(("log", "dns", "udp"), [
    # lines of each log (sigma_rows: a body stored in several classes, ASA's and OSSEC's lines no
    # connection's are Base Events); to port 53: 106023 (twice), 106100, 302016 (the server on 53 named first: an outbound teardown),
    # 106007, 302014; UDP: 106100, 302015/302016, 106007
    ("elastic-cisco-asa-connections.log", [2, 3, 5, 8, 9, 18], [5, 8, 9, 10]),
    ("elastic-juniper-srx-flow.log", [], [1, 3, 6]),
    ("ossec-windows-firewall.log", [], [1, 4]),  # DROP UDP 172.20.73.241 -> 239.255.255.250
    ("elastic-meraki-flows.log", [6, 8], [0, 5, 6, 8]),
    ("elastic-pfsense-filterlog-bsd.log", [], [2, 6, 14]),
])
def test_taxonomy_fields_read_network_activity_columns(tmp_path: Path, log: str, dns: list[int],
                                                       udp: list[int]) -> None:
    # none of these lines writes SRC=/DPT= or srcip=/dstport= pairs: nothing fired before
    body = (LOGS / log).read_bytes()
    assert _rows(_firewall_rule(tmp_path, "sel:\n  dst_port: 53\ncondition: sel\n"), body, "syslog") == dns
    assert _rows(_firewall_rule(tmp_path, "sel:\n  proto: udp\ncondition: sel\n"), body, "syslog") == udp


def test_cleartext_protocols_fires_on_allowed_connections() -> None:
    # SigmaHQ's rule wants dst_port in its list and action forward/accept: ASA's outbound and inbound
    # Built TCP connections to port 80 (Allowed) and the teardown of an outbound one to 80; SRX's session close to 80 and AppTrack create to 21;
    # not the denied ones (ASA 106015 to 5679 is no listed port anyway), nor PAN-OS's 443/ICMP
    rs = load_rules([CLEARTEXT])
    assert _rows(rs, (LOGS / "elastic-cisco-asa-connections.log").read_bytes(), "syslog") == [0, 1, 15]
    assert _rows(rs, (LOGS / "elastic-juniper-srx-flow.log").read_bytes(), "syslog") == [4, 5]
    assert _rows(rs, (LOGS / "elastic-panos-traffic.log").read_bytes(), "syslog") == []


def test_sshd_address_is_no_firewall_connection(tmp_path: Path) -> None:
    # loghub's OpenSSH lines carry the client's address in src_endpoint.ip (Authentication rows):
    # a firewall rule on src_ip must not fire on them
    body = (LOGS / "loghub_OpenSSH_head.log").read_bytes()
    dec = formats.get("syslog").decode(body, "test")
    assert any((e or {}).get("ip") for b in dec.batches for e in b.column("src_endpoint").to_pylist())
    rs = _firewall_rule(tmp_path, "sel:\n  src_ip|cidr: ['0.0.0.0/0', '::/0']\ncondition: sel\n")
    assert _rows(rs, body, "syslog") == []
    asa = (LOGS / "elastic-cisco-asa-connections.log").read_bytes()
    assert len(_rows(rs, asa, "syslog")) == 16  # every ASA connection line but the two without addresses
