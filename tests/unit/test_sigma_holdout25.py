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


# -- Entra ID records exported by diagnostic settings: columns under properties ----------------
# SigmaHQ's azure signinlogs/auditlogs rules name the Log Analytics columns (UserAgent, Category,
# OperationName); an exported record (Azure Monitor's common schema, {"records": [...]}) keeps
# time, operationName, category, resultType... at its top and the other columns in properties.

def _exported_signin(user: str, agent: str, i: int) -> dict:
    """An Entra ID sign-in record as diagnostic settings export it (SignInLogs category)."""
    return {"time": f"2026-03-25T10:00:0{i}.0000000Z", "resourceId": "/tenants/aaaa-bbbb/providers/Microsoft.aadiam",
            "operationName": "Sign-in activity", "operationVersion": "1.0", "category": "SignInLogs",
            "tenantId": "aaaa-bbbb", "resultType": "0", "resultSignature": "None", "durationMs": 0,
            "callerIpAddress": "203.0.113.5", "correlationId": f"c{i}", "identity": user, "Level": 4, "location": "US",
            "properties": {"id": f"s{i}", "createdDateTime": f"2026-03-25T10:00:0{i}Z", "userPrincipalName": user,
                           "appDisplayName": "OfficeHome", "ipAddress": "203.0.113.5", "clientAppUsed": "Browser",
                           "userAgent": agent, "status": {"errorCode": 0}, "isInteractive": True}}


def _exported_audit(activity: str, category: str, result: str, i: int) -> dict:
    """An Entra ID audit record as diagnostic settings export it (AuditLogs category)."""
    return {"time": f"2026-03-25T11:00:0{i}.0000000Z", "resourceId": "/tenants/aaaa-bbbb/providers/Microsoft.aadiam",
            "operationName": activity, "operationVersion": "1.0", "category": "AuditLogs", "tenantId": "aaaa-bbbb",
            "resultSignature": "None", "durationMs": 0, "callerIpAddress": "203.0.113.9", "correlationId": f"a{i}",
            "Level": 4, "properties": {"id": f"Directory_{i}", "category": category, "correlationId": f"a{i}",
                                       "result": result, "resultReason": "", "activityDisplayName": activity,
                                       "activityDateTime": f"2026-03-25T11:00:0{i}Z", "loggedByService": "Core Directory",
                                       "operationType": "Read" if activity.startswith("Read") else "Update",
                                       "initiatedBy": {"user": {"userPrincipalName": "admin@contoso.com"}},
                                       "targetResources": [{"type": "Device", "displayName": "LAPTOP-1"}]}}


def _azure_rows(rule: str, records: list[dict]) -> list[int]:
    rs = load_rules([RULES / rule])
    assert not rs.unsupported, rs.unsupported
    return _rows(rs, msgspec.json.encode({"records": records}), "k8s_audit")


def test_signin_rule_reads_the_exported_properties() -> None:
    records = [_exported_signin("alice@contoso.com", "axios/1.7.7", 0),
               _exported_signin("bob@contoso.com", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", 1)]
    assert _azure_rows("azure_ad_signin_axios_user_agent.yml", records) == [0]
    # a Log Analytics export writes the columns at the top: read there as before
    columns = [{"TimeGenerated": "2026-03-25T10:00:00Z", "UserAgent": "axios/1.7.7", "ResultType": "0"},
               {"TimeGenerated": "2026-03-25T10:00:01Z", "UserAgent": "Mozilla/5.0", "ResultType": "0"}]
    rs = load_rules([RULES / "azure_ad_signin_axios_user_agent.yml"])
    assert _rows(rs, _ndjson(columns)) == [0]


def test_audit_rules_on_exported_audit_records() -> None:
    records = [_exported_audit("Read BitLocker key", "KeyManagement", "success", 0),
               _exported_audit("Read BitLocker key", "DeviceManagement", "success", 1),  # other category
               _exported_audit("Disable Strong Authentication", "UserManagement", "success", 2),
               _exported_audit("Disable Strong Authentication", "UserManagement", "failure", 3)]
    assert _azure_rows("azure_ad_bitlocker_key_retrieval.yml", records) == [0]
    # a rule that names the exported path (properties.result) reads it as written
    assert _azure_rows("azure_mfa_disabled.yml", records) == [2]


def test_correlation_groups_by_an_exported_property(tmp_path: Path) -> None:
    from secpipe.detect.sigma.correlation import CorrelationEngine

    rule = tmp_path / "c.yml"
    rule.write_text((RULES / "azure_ad_signin_axios_user_agent.yml").read_text() + textwrap.dedent("""\
        ---
        title: axios sign-ins against many accounts
        id: 5c7e9a1b-3d5f-4b7c-9e1a-2b4d6f8a0c3e
        correlation:
            type: value_count
            rules: [ea1a07f0-3dac-47a2-aeb4-86f5379ba2b4]
            group-by: [IPAddress]
            timespan: 10m
            condition: {gte: 3, field: UserPrincipalName}
        level: high
    """))
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported

    def fired(users: list[str]) -> int:
        body = msgspec.json.encode({"records": [_exported_signin(u, "axios/1.7.7", i) for i, u in enumerate(users)]})
        eng = CorrelationEngine(rs, None, clock=lambda: 1774432800.0)
        n = 0
        for b in formats.get("k8s_audit").decode(body, "t").batches:
            out = eng.process(b, rs.matches(b))
            n += 0 if out is None else out.num_rows
        return n

    assert fired(["a@contoso.com", "b@contoso.com", "c@contoso.com"]) == 1
    assert fired(["a@contoso.com", "a@contoso.com", "a@contoso.com"]) == 0


def test_absence_needs_every_spelling_absent(tmp_path: Path) -> None:
    # a field read at the top or under properties is missing only when missing at both
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: sign-ins without a user agent
        id: 6d8f0a2c-4e6b-4d8f-a0c2-3e5a7c9b1d4f
        logsource: {product: azure, service: signinlogs}
        detection:
            selection:
                ResultType: 0
            no_agent:
                userAgent: null
            no_app:
                AppDisplayName|exists: false
            condition: selection and (not no_agent or no_app)
        level: low
    """))
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported
    with_agent = _exported_signin("a@contoso.com", "axios/1.7.7", 0)
    without = _exported_signin("b@contoso.com", "", 1)
    del without["properties"]["userAgent"]
    no_app = _exported_signin("c@contoso.com", "", 2)
    del no_app["properties"]["userAgent"], no_app["properties"]["appDisplayName"]
    body = msgspec.json.encode({"records": [with_agent, without, no_app]})
    assert _rows(rs, body, "k8s_audit") == [0, 2]
