"""Sigma rules from SigmaHQ's rules-placeholder / rules-emerging-threats / rules-threat-hunting (twenty-fifth round).

Rules: tests/cases/sigma_holdout (see SOURCE.md "Round 25 (sigma)"). Events are written as their
sources log them (the Sigma taxonomy's firewall fields as JSON), expectations from the Sigma
specification and its modifiers appendix.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.engine import RuleSet

CASES = Path(__file__).resolve().parents[1] / "cases"
RULES = CASES / "sigma_holdout"


def _rows(rs: RuleSet, body: bytes, fmt: str = "json") -> list[int]:
    """Rows of the decoded body the rules match (both evaluation paths agree)."""
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead, dec.dead
    got = []
    for ruleset in (rs, RuleSet(rs.rules, distinct_values=False)):
        got.append(sorted({r for b in dec.batches for r in ruleset.matches(b).column("row").to_pylist()}))
    assert got[0] == got[1]
    return got[0]


def _ndjson(events: list[dict]) -> bytes:
    return b"\n".join(msgspec.json.encode(e) for e in events)


# -- a network placeholder: field|cidr|expand ----------------------------------------------
# SigmaHQ rules-placeholder/network/firewall/net_firewall_tftp_config_exfil_from_management_segment.yml
# names the management networks by a placeholder (src_ip|cidr|expand: '%management_networks%');
# pySigma parses a cidr value when it reads the rule, so the rule was refused as an invalid CIDR.

TFTP = RULES / "net_firewall_tftp_config_exfil_from_management_segment.yml"
FIREWALL = [
    {"src_ip": "10.20.0.5", "src_port": 50123, "dst_ip": "203.0.113.7", "dst_port": 69, "proto": "udp"},
    {"src_ip": "10.20.0.5", "src_port": 50124, "dst_ip": "10.1.1.1", "dst_port": 69, "proto": "udp"},  # internal
    {"src_ip": "10.30.0.5", "src_port": 50125, "dst_ip": "203.0.113.7", "dst_port": 69, "proto": "udp"},  # not mgmt
    {"src_ip": "10.20.0.5", "src_port": 50126, "dst_ip": "203.0.113.7", "dst_port": 53, "proto": "udp"},  # DNS
    {"src_ip": "fd00:20::5", "src_port": 50127, "dst_ip": "2001:db8::7", "dst_port": 69, "proto": "UDP"},
]


def test_cidr_placeholder_takes_the_given_networks() -> None:
    rs = load_rules([TFTP], placeholders={"management_networks": ["10.20.0.0/24", "fd00:20::/32"]})
    assert not rs.unsupported, rs.unsupported
    assert _rows(rs, _ndjson(FIREWALL)) == [0, 4]


def test_cidr_placeholder_without_values_matches_nothing() -> None:
    rs = load_rules([TFTP])
    assert not rs.unsupported, rs.unsupported
    assert any("%management_networks% has no values" in w for w in rs.rules[0].warnings)
    assert _rows(rs, _ndjson(FIREWALL)) == []


def test_cidr_placeholder_value_that_is_no_network_is_refused_once() -> None:
    rs = load_rules([TFTP], placeholders={"management_networks": ["mgmt-lan"]})
    assert rs.total == 1 and not rs.rules
    (u,) = rs.unsupported
    assert "Invalid CIDR expression: 'mgmt-lan'" in u.reason


def test_cidr_placeholder_beside_a_network(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: jump hosts or the management networks
        id: 4b6d8f0a-2c4e-4a6b-8d0f-1a3c5e7f9b2d
        logsource: {category: firewall}
        detection:
            selection:
                src_ip|expand|cidr: ['192.0.2.0/28', '%management_networks%', '%jump_hosts%']
            condition: selection
        level: low
    """))
    rs = load_rules([rule], placeholders={"management_networks": ["10.20.0.0/24"]})
    assert not rs.unsupported, rs.unsupported
    assert any("%jump_hosts%" in w and "only the given networks" in w for w in rs.rules[0].warnings)
    events = [{"src_ip": "192.0.2.3"}, {"src_ip": "10.20.0.9"}, {"src_ip": "198.51.100.1"}]
    assert _rows(rs, _ndjson(events)) == [0, 1]


# -- odd rule files are refused with a reason, never a crash -------------------------------

def test_numeric_id_and_condition_are_read_as_text(tmp_path: Path) -> None:
    # pySigma called string methods on them (AttributeError / TypeError stopped the whole load)
    num_id = tmp_path / "a.yml"
    num_id.write_text("title: numbered\nid: 1\nlogsource: {product: linux}\n"
                      "detection: {sel: {CommandLine|contains: whoami}, condition: sel}\nlevel: low\n")
    float_id = tmp_path / "b.yml"
    float_id.write_text("title: numbered twice\nid: 2.5\nlogsource: {product: linux}\n"
                        "detection: {sel: {CommandLine|contains: id}, condition: sel}\nlevel: low\n")
    num_cond = tmp_path / "c.yml"
    num_cond.write_text("title: numeric condition\nlogsource: {product: linux}\n"
                        "detection: {'5': {CommandLine: x}, sel: {CommandLine: y}, condition: 5}\nlevel: low\n")
    bad_cond = tmp_path / "d.yml"
    bad_cond.write_text("title: missing search\nlogsource: {product: linux}\n"
                        "detection: {sel: {CommandLine: y}, condition: [sel, 3]}\nlevel: low\n")
    rs = load_rules([tmp_path])
    assert rs.total == 4
    assert {r.title: r.id for r in rs.rules if r.id in ("1", "2.5")} == {"numbered": "1", "numbered twice": "2.5"}
    (u,) = rs.unsupported
    assert u.rule.endswith("d.yml") and "Detection '3' not defined" in u.reason
    cond = next(r for r in rs.rules if r.title == "numeric condition")
    assert not any("upper case" in w for w in cond.warnings)
    assert _rows(load_rules([num_cond]), b'{"CommandLine": "x"}\n{"CommandLine": "y"}') == [0]


def test_rules_check_counts_an_invalid_rule_once(tmp_path: Path) -> None:
    _register()
    bad = tmp_path / "bad.yml"
    bad.write_text(TFTP.read_text().replace("'%management_networks%'", "'10.20.0.0/33'"))
    out = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert out.stdout.splitlines()[0] == "0/1 rules supported"
    assert out.stdout.count("UNSUPPORTED") == 1 and "Invalid CIDR expression: '10.20.0.0/33'" in out.stdout
