"""Round 3 of published Sigma rules (tests/cases/sigma_holdout, SigmaHQ): Zeek, auditd, web/proxy.

Events are written the way each source logs them (Zeek JSON logs, whose field names are ONE
key with a dot — ``{"id.orig_h": ...}``; auditd records as syslog lines; web server and proxy
fields as W3C names) and expectations are read from the rule and the Sigma specification.
Both evaluation paths (distinct values and SQL) must agree on every case.
"""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import msgspec
import pytest

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.engine import RuleSet

CASES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"
T0 = 1795946400.0  # 2026-11-29T10:00:00Z


def _rows(rs: RuleSet, fmt: str, body: bytes) -> list[int]:
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead, dec.dead
    got = sorted({r for b in dec.batches for r in rs.matches(b).column("row").to_pylist()})
    ref = RuleSet(rs.rules, distinct_values=False)  # the SQL path: the reference evaluation
    assert got == sorted({r for b in dec.batches for r in ref.matches(b).column("row").to_pylist()})
    return got


def _hits(rule: str | Path, events: list[dict] | list[str], fmt: str = "json") -> list[int]:
    rs = load_rules([CASES / rule if isinstance(rule, str) else rule])
    assert not rs.unsupported, rs.unsupported
    lines = [msgspec.json.encode(e) if isinstance(e, dict) else e.encode() for e in events]
    return _rows(rs, fmt, b"\n".join(lines))


# -- Zeek JSON logs: dotted field names are single keys --------------------------------

CONN = {"ts": 1795946400.12, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_p": 49213, "id.resp_h": "10.0.0.5",
        "id.resp_p": 3389, "proto": "tcp"}


def test_zeek_rdp_listener_reads_dotted_keys_and_cidr_lists() -> None:
    ips = ["203.0.113.9", "10.1.1.1", "fe80::1", "2620:83:8000::5", "fd12:3456::1", "::1", "2001:db8::7",
           "172.31.255.1", "172.32.0.1", "169.254.3.4", "192.168.7.7"]
    events = [dict(CONN, **{"id.orig_h": ip}) for ip in ips]
    # not in any listed private/loopback/link-local network: 203.0.113.9, 2001:db8::7, 172.32.0.1
    assert _hits("zeek_rdp_public_listener.yml", events) == [0, 6, 8]


def test_ipv6_cidr_matches_any_spelling_of_the_address() -> None:
    # the modifiers appendix: cidr "supports both IPv4 and IPv6 notations" -- an address, not a text
    private = ["0:0:0:0:0:0:0:1", "FE80:0000:0000:0000:0202:B3FF:FE1E:8329", "fd00:0:0:0:0:0:0:1", "2620:0083:8000:0000::5",
               "fe80::1%eth0"]
    public = ["2001:0db8:0000:0000:0000:0000:0000:0007", "2620:0083:8001::5", "fe00::1", "1::2::3"]
    events = [dict(CONN, **{"id.orig_h": ip}) for ip in private + public]
    assert _hits("zeek_rdp_public_listener.yml", events) == list(range(len(private), len(private) + len(public)))


def test_dotted_name_prefers_the_nested_path() -> None:
    both = dict(CONN, id={"orig_h": "10.0.0.1"}, **{"id.orig_h": "203.0.113.1"})
    nested = dict(CONN, id={"orig_h": "198.51.100.3"})
    assert _hits("zeek_rdp_public_listener.yml", [both, nested]) == [1]


DNS = {"ts": 1795946400.1, "uid": "C1", "id.orig_h": "10.0.0.8", "id.orig_p": 53211, "id.resp_h": "10.0.0.2",
       "id.resp_p": 53, "proto": "udp", "trans_id": 1, "query": "evil.example.com", "qclass": 1,
       "qclass_name": "C_INTERNET", "qtype": 1, "qtype_name": "A", "rcode": 0, "rcode_name": "NOERROR",
       "AA": False, "TC": False, "RD": True, "RA": True, "Z": 1, "answers": ["192.0.2.1"], "TTLs": [60.0],
       "rejected": False}


def test_zeek_dns_z_flag_numbers_lists_and_escaped_backslash() -> None:
    events = [DNS, dict(DNS, Z=0), dict(DNS, query="1.0.0.10.in-addr.arpa"),
              dict(DNS, answers=["ns1.example", "abc\\x00"]),  # '\\x00' in the rule: a literal backslash
              dict(DNS, **{"id.resp_p": 137}), dict(DNS, qtype_name="MX"), dict(DNS, answers=["x", "y"]),
              dict(DNS, query="localhost")]
    assert _hits("zeek_dns_susp_zbit_flag.yml", events) == [0, 6]


def test_zeek_http_omigod_list_of_header_names() -> None:
    http = {"ts": 1.0, "uid": "C2", "id.orig_h": "198.51.100.7", "id.orig_p": 40000, "id.resp_h": "10.0.0.9",
            "id.resp_p": 5986, "trans_depth": 1, "method": "POST", "host": "10.0.0.9", "uri": "/wsman",
            "user_agent": "python", "request_body_len": 1543, "response_body_len": 2000, "status_code": 200,
            "client_header_names": ["HOST", "CONTENT-TYPE", "CONTENT-LENGTH"]}
    events = [http, dict(http, client_header_names=["HOST", "AUTHORIZATION"]), dict(http, request_body_len=0),
              dict(http, status_code=401), dict(http, uri="/wsman/x")]
    assert _hits("zeek_http_omigod_no_auth_rce.yml", events) == [0]


def test_zeek_kerberos_and_smb_files() -> None:
    krb = {"ts": 1.0, "uid": "C3", "id.orig_h": "10.0.0.8", "id.resp_h": "10.0.0.2", "id.resp_p": 88,
           "request_type": "TGS", "client": "alice/CORP.LOCAL", "service": "MSSQLSvc/db01.corp.local:1433",
           "success": True, "cipher": "rc4-hmac"}
    assert _hits("zeek_susp_kerberos_rc4.yml", [krb, dict(krb, service="$WS01$"),
                                                 dict(krb, cipher="aes256-cts-hmac-sha1-96")]) == [0]
    smb = {"ts": 1.0, "uid": "C4", "id.orig_h": "10.0.0.8", "id.resp_h": "10.0.0.2", "id.resp_p": 445,
           "action": "SMB::FILE_OPEN", "path": "\\\\10.0.0.2\\IPC$", "name": "svc-stdin", "size": 0}
    events = [smb, dict(smb, name="PSEXESVC-WS01-1234-stdin"), dict(smb, name="svc-log"),
              dict(smb, path="\\\\10.0.0.2\\C$")]
    assert _hits("zeek_smb_converted_win_susp_psexec.yml", events) == [0]


def test_correlation_groups_by_a_dotted_key(tmp_path: Path) -> None:
    rule = tmp_path / "scan.yml"
    rule.write_text(textwrap.dedent("""\
        title: Many RDP connections from one source
        id: 0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5
        status: test
        logsource: {product: zeek, service: rdp}
        detection:
            selection:
                id.resp_p: 3389
            timeframe: 5m
            condition: selection | count(id.resp_h) by id.orig_h > 2
        level: medium
        """))
    rs = load_rules([rule])
    eng = CorrelationEngine(rs, None, clock=lambda: T0)
    fired = []
    for i, (src, dst) in enumerate([("203.0.113.1", "10.0.0.1"), ("203.0.113.2", "10.0.0.2"),
                                    ("203.0.113.1", "10.0.0.3"), ("203.0.113.2", "10.0.0.2"),
                                    ("203.0.113.1", "10.0.0.4")]):
        ev = dict(CONN, ts=T0 + i, **{"id.orig_h": src, "id.resp_h": dst})
        b = formats.get("json").decode(msgspec.json.encode(ev), "t").batches[0]
        if eng.process(b, rs.matches(b)) is not None:
            fired.append(i)
    assert fired == [4]  # 3 distinct destinations from 203.0.113.1; 203.0.113.2 reached only one


# -- auditd records as syslog lines ------------------------------------------------------

AU = "<14>Nov 29 10:00:00 host audit[123]: "


def test_auditd_keyword_all_lists_with_a_field_selection() -> None:
    lines = [AU + 'type=EXECVE msg=audit(1795946400.1:2): argc=4 a0="dd" a1="if=/dev/zero" a2="bs=1" a3="count=1"',
             AU + 'type=EXECVE msg=audit(1795946400.1:3): argc=4 a0="dd" a1="if=/dev/zero" a2="of=/tmp/x" a3="count=1"',
             AU + 'type=EXECVE msg=audit(1795946400.1:4): argc=4 a0="truncate" a1="-s" a2="+1" a3="/tmp/bin"',
             AU + 'type=SYSCALL msg=audit(1795946400.1:5): comm="dd" exe="/usr/bin/dd" a0="if="']
    assert _hits("lnx_auditd_binary_padding.yml", lines, "syslog") == [0, 2]


def test_auditd_regex_arguments_numbers_and_one_record_per_event() -> None:
    lines = [AU + 'type=EXECVE msg=audit(1795946400.1:6): argc=2 a0="mkdir" a1="/tmp/.hidden"',
             AU + 'type=EXECVE msg=audit(1795946400.1:7): argc=3 a0="touch" a1="-a" a2=".secret"',
             AU + 'type=EXECVE msg=audit(1795946400.1:8): argc=2 a0="mkdir" a1="../up"',
             AU + 'type=EXECVE msg=audit(1795946400.1:9): argc=2 a0="cat" a1="/tmp/.hidden"']
    assert _hits("lnx_auditd_hidden_files_directories.yml", lines, "syslog") == [0, 1]
    mknod = [AU + 'type=SYSCALL msg=audit(1795946400.1:10): arch=c000003e syscall=133 success=yes exit=0 comm="mknod"',
             AU + 'type=SYSCALL msg=audit(1795946400.1:11): arch=c000003e syscall=1330 success=yes exit=0 comm="x"']
    assert _hits("lnx_auditd_special_file_creation_via_mknod_syscall.yml", mknod, "syslog") == [0]
    # `proctitle and syscall` needs type PROCTITLE and SYSCALL in ONE event: no single record is both
    pk = [AU + 'type=PROCTITLE msg=audit(1795946400.1:12): proctitle="(null)"',
          AU + 'type=SYSCALL msg=audit(1795946400.1:12): syscall=59 comm="pkexec" exe="/usr/bin/pkexec"']
    assert _hits("lnx_auditd_cve_2021_4034.yml", pk, "syslog") == []


# -- web server / proxy fields, aggregations --------------------------------------------

def test_webserver_and_proxy_rules() -> None:
    w = {"cs-method": "POST", "cs-uri-stem": "/login/", "cs-uri-query": "login_only=1",
         "cs-uri": "/login/?login_only=1", "cs-user-agent": "curl/8"}
    events = [w, dict(w, **{"cs-user-agent": "zgrab/0.x"}), dict(w, **{"cs-method": "GET", "cs-uri": "/x?a=%0D%0aSet-Cookie"}),
              dict(w, **{"cs-method": "GET"})]
    assert _hits("web_cpanel_crlf_login_cve_2026_41940.yml", events) == [0, 2]
    ua = [{"c-useragent": "", "c-uri": "http://x"}, {"c-useragent": "Mozilla"}, {"c-uri": "http://y"}, {"c-useragent": None}]
    assert _hits("proxy_empty_ua.yml", ua) == [0]  # '' is the empty string, not a missing or null field
    uris = [{"c-uri": "http://r.example/?u=" + base64.b64encode(b"xhttps://evil.example/").decode()},
            {"c-uri": "http://r.example/?u=" + base64.b64encode(b"http://a").decode()}, {"c-uri": "http://r.example/?u=plain"}]
    assert _hits("proxy_base64_encoded_url.yml", uris) == [0, 1]


def _fired(rule: str, bodies: list[bytes], fmt: str, now: float = T0 + 60) -> list[int]:
    """Indexes of the events (one per batch) at which a correlation of ``rule`` fired; ``now``
    is the wall clock (windows whose newest event is older than ``now - timespan`` expire)."""
    rs = load_rules([CASES / rule])
    assert not rs.unsupported, rs.unsupported
    eng = CorrelationEngine(rs, None, clock=lambda: now)
    out = []
    for i, body in enumerate(bodies):
        b = formats.get(fmt).decode(body, "t").batches[0]
        if eng.process(b, rs.matches(b)) is not None:
            out.append(i)
    return out


def test_count_by_source_over_a_timeframe() -> None:
    def ev(i: int, ip: str) -> bytes:
        return msgspec.json.encode({"timestamp": f"2026-11-29T10:00:{i:02d}Z", "src_ip": ip, "action": "deny"})
    bodies = [ev(i, "198.51.100.1") for i in range(11)] + [ev(20 + i, "198.51.100.2") for i in range(10)]
    assert _fired("web_safeline_blocked_attack_rate.yml", bodies, "json") == [10]  # > 10 denies from one IP


def test_keyword_count_of_an_unknown_product_reads_syslog_lines() -> None:
    rs = load_rules([CASES / "modsec_mulitple_blocks.yml"])
    assert rs.rules[0].formats == ("json", "syslog") and "keywords" in rs.rules[0].warnings[-1]
    lines = [f"<11>Nov 29 10:00:{i:02d} web httpd[1]: [client 198.51.100.{i}] ModSecurity: Access denied with code 403"
             .encode() for i in range(7)]
    assert _fired("modsec_mulitple_blocks.yml", lines, "syslog") == [6]  # the 7th block: count() > 6
    # a field rule of an unknown product stays on json events
    assert load_rules([CASES / "zeek_susp_kerberos_rc4.yml"]).rules[0].formats == ("json",)


# -- modifiers: all without contains --------------------------------------------------

@pytest.mark.parametrize(("detection", "expected"), [
    ("sel: {path|startswith|all: ['c:\\windows', 'c:\\windows\\system32']}", [0]),
    ("sel: {path|endswith|all: ['.exe', 'shell.exe']}", [0]),
    ("sel: {path|re|all: ['^C:', 'exe$']}", [0, 1]),
    ("sel: {path|all: ['a', 'b']}", []),  # equal to two different values at once: never
])
def test_all_without_contains(tmp_path: Path, detection: str, expected: list[int]) -> None:
    rule = tmp_path / "all.yml"
    rule.write_text("title: t\nid: 5f1a1111-2222-4333-8444-555566667777\nstatus: test\n"
                    "logsource: {product: secpipe, service: json}\nlevel: high\ndetection:\n"
                    f"    {detection}\n    condition: sel\n")
    rs = load_rules([rule])
    assert not rs.unsupported and "AllWithoutContainsModifierIssue" in rs.rules[0].warnings[0]
    events = [{"path": "C:\\Windows\\System32\\WindowsPowerShell\\powershell.exe"}, {"path": "C:\\Temp\\a.exe"},
              {"path": "/usr/bin/sh"}]
    assert _rows(rs, "json", b"\n".join(msgspec.json.encode(e) for e in events)) == expected


# -- correlation specification: chained correlations, range conditions ---------------------

def _logon(i: int, event_id: int, user: str) -> bytes:
    return msgspec.json.encode({"TimeCreated": f"2026-11-29T10:00:{i:02d}Z", "EventID": event_id, "User": user})


def test_correlation_chained_on_a_correlation() -> None:
    rule = "spec_correlation_failed_logins_then_success.yml"
    rs = load_rules([CASES / rule])
    eng = CorrelationEngine(rs, None)
    assert not eng.unsupported and [c.rule.title for c in eng.correlations][0] == "Multiple failed logons"
    assert [c.output for c in eng.correlations] == [False, True]  # the inner one feeds the outer (generate: false)
    failed_then_ok = [_logon(i, 4625, "bob") for i in range(10)] + [_logon(10, 4624, "alice"), _logon(11, 4624, "bob")]
    assert _fired(rule, failed_then_ok, "json") == [11]
    assert _fired(rule, [_logon(0, 4624, "bob")] + [_logon(1 + i, 4625, "bob") for i in range(10)], "json") == []  # wrong order
    assert _fired(rule, [_logon(i, 4625, "bob") for i in range(9)] + [_logon(9, 4624, "bob")], "json") == []  # 9 < 10
    assert _fired(rule, [_logon(i, 4625, "bob") for i in range(10)] + [_logon(10, 4624, "eve")], "json") == []  # other user


def test_correlation_cycle_is_refused(tmp_path: Path) -> None:
    rule = tmp_path / "cycle.yml"
    rule.write_text(textwrap.dedent("""\
        title: a
        name: corr_a
        correlation: {type: temporal, rules: [corr_b, base], group-by: [User], timespan: 5m}
        ---
        title: b
        name: corr_b
        correlation: {type: temporal, rules: [corr_a, base], group-by: [User], timespan: 5m}
        ---
        title: base
        name: base
        id: 2b3c4d5e-0000-4000-8000-000000000009
        logsource: {product: windows, service: security}
        detection: {sel: {EventID: 4624}, condition: sel}
        """))
    eng = CorrelationEngine(load_rules([rule]), None)
    assert not eng.correlations and any("cycle" in why for _, why in eng.unsupported)


def test_correlation_range_condition() -> None:
    rule = "spec_correlation_range_condition.yml"
    rs = load_rules([CASES / rule])
    assert not rs.unsupported and len(rs.correlations) == 1
    # `lte` is decided when the group's 1 h window closes (sigma correlation specification: the
    # count *within the given time frame*): here when a later event (any event) moves time past it
    later = msgspec.json.encode({"TimeCreated": "2026-11-29T11:30:00Z", "EventID": 4624, "User": "bob"})
    now = T0 + 5400  # the wall clock at the later event (one past it moves no stream time)
    assert _fired(rule, [_logon(i, 4625, "bob") for i in range(3)] + [later], "json", now) == [3]  # 3: > 2 and <= 4
    assert _fired(rule, [_logon(i, 4625, "bob") for i in range(3)], "json", now) == []  # the window is still open
    assert _fired(rule, [_logon(i, 4625, "bob") for i in range(6)] + [later], "json", now) == []  # 6 > 4
    assert _fired(rule, [_logon(i, 4625, "bob" if i % 2 else "eve") for i in range(4)] + [later], "json", now) == []


def test_correlation_field_aliases() -> None:
    def err(i: int, src: str, dst: str) -> bytes:
        return msgspec.json.encode({"@timestamp": f"2026-11-29T10:00:{i:02d}Z", "http": {"response": {"status_code": 500}},
                                    "source": {"ip": src}, "destination": {"ip": dst}})

    def conn(i: int, src: str, dst: str) -> bytes:
        return msgspec.json.encode({"@timestamp": f"2026-11-29T10:00:{i:02d}Z", "source": {"ip": src},
                                    "destination": {"ip": dst},
                                    "event": {"category": "network", "type": "connection", "outcome": "success"}})

    rule = "spec_correlation_field_aliases.yml"
    # internal_ip = the error's destination = the connection's source (and remote_ip the other way)
    now = T0 + 5  # the window is 10 s
    assert _fired(rule, [err(0, "198.51.100.7", "10.0.0.9"), conn(3, "10.0.0.9", "198.51.100.7")], "json", now) == [1]
    assert _fired(rule, [err(0, "198.51.100.7", "10.0.0.9"), conn(3, "198.51.100.7", "10.0.0.9")], "json", now) == []
    assert _fired(rule, [err(0, "198.51.100.7", "10.0.0.9"), conn(30, "10.0.0.9", "198.51.100.7")], "json", now) == []


def test_ipv6_network_test_agrees_with_ipaddress() -> None:
    import ipaddress
    import random

    import duckdb
    import pyarrow as pa

    from secpipe.detect.sigma.compiler import ipv6_in

    rnd = random.Random(7)
    nets = [ipaddress.IPv6Network(n) for n in ("2001:db8::/32", "2001:db8::/33", "2001:db8:8000::/33", "fc00::/7",
                                               "::1/128", "fe80::/10", "2001:db8:0:1::/64", "2001:db8::/127", "::/0")]
    addrs = [ipaddress.IPv6Address(rnd.getrandbits(128)) for _ in range(50)]
    for n in nets:
        base, top = int(n.network_address), int(n.broadcast_address)
        addrs += [ipaddress.IPv6Address(base + rnd.randrange(min(n.num_addresses, 2**64))) for _ in range(20)]
        addrs += [ipaddress.IPv6Address(max(base - 1, 0)), ipaddress.IPv6Address((top + 1) % 2**128)]
    texts = [t for a in addrs for t in (str(a), a.exploded)] + ["10.0.0.1", "1::2::3", "12345::1", ":1:2:3:4:5:6:7", "x"]
    con = duckdb.connect()
    con.register("t", pa.table({"v": texts}))
    for n in nets:
        got = [r[0] for r in con.sql(f"SELECT coalesce({ipv6_in(n, 'v')}, false) FROM t").fetchall()]
        want = [_in(t, n) for t in texts]
        assert got == want, n


def _in(text: str, net: object) -> bool:
    import ipaddress

    try:
        return ipaddress.IPv6Address(text) in net  # type: ignore[operator]
    except ValueError:
        return False


# -- cloud audit logs (json format): arrays inside arrays, placeholders ------------------

def _mod(doc: dict, path: str, value: object) -> dict:
    out = msgspec.json.decode(msgspec.json.encode(doc))
    node = out
    *head, last = path.split(".")
    for k in head:
        node = node[k]
    node[last] = value
    return out


def test_gcp_firewall_rule_reads_ports_inside_allowed_entries() -> None:
    # a GCP audit record as the Elastic integration writes it: alloweds[] items each with ports[]
    fw = {"@timestamp": "2026-11-29T10:00:00Z", "gcp": {"audit": {
        "method_name": "v1.compute.firewalls.insert",
        "request": {"source_ranges": ["0.0.0.0/0"], "alloweds": [{"IPProtocol": "tcp", "ports": ["80", "22"]}],
                    "direction": "INGRESS"}}}}
    events = [fw, _mod(fw, "gcp.audit.request.alloweds", [{"IPProtocol": "tcp", "ports": ["2222"]}]),
              _mod(fw, "gcp.audit.request.source_ranges", ["10.0.0.0/8"]),
              _mod(fw, "gcp.audit.method_name", "v1.compute.firewalls.delete"),
              _mod(fw, "gcp.audit.request.alloweds", [{"IPProtocol": "udp"}, {"IPProtocol": "tcp", "ports": [22]}])]
    assert _hits("gcp_compute_firewall_ingress_allow_all_ssh.yml", events) == [0, 4]


def test_gworkspace_drive_event_list() -> None:
    def ev(visibility: str) -> dict:
        return {"protoPayload": {"metadata": {"event": [{"eventName": "change_acl_editors", "visibility": visibility}]}}}
    events = [ev("people_with_link"), ev("private"), ev("public_on_the_web"),
              {"protoPayload": {"metadata": {"event": [{"eventName": "download", "visibility": "people_with_link"}]}}}]
    assert _hits("gcp_gworkspace_drive_file_shared_externally.yml", events) == [0, 2]


def test_m365_inbox_rule_with_and_without_the_placeholder(tmp_path: Path) -> None:
    rule = {"CreationTime": "2026-11-29T10:00:00", "Operation": "New-InboxRule", "Workload": "Exchange",
            "Parameters": [{"Name": "Name", "Value": "x"}, {"Name": "ForwardTo", "Value": "bob@evil.example"}]}
    events = [rule, _mod(rule, "Parameters", [{"Name": "ForwardTo", "Value": "bob@contoso.com"}]),
              _mod(rule, "Operation", "Get-InboxRule"), _mod(rule, "Parameters", [{"Name": "MoveToFolder", "Value": "Archive"}])]
    body = b"\n".join(msgspec.json.encode(e) for e in events)
    bare = load_rules([CASES / "m365_audit_inbox_rule_external_forward.yml"])
    assert "internal_domains" in " ".join(bare.rules[0].warnings)
    assert _rows(bare, "json", body) == [0, 1]  # no values: the filter excludes nothing
    mapped = load_rules([CASES / "m365_audit_inbox_rule_external_forward.yml"], placeholders={"internal_domains": ["contoso.com"]})
    assert _rows(mapped, "json", body) == [0]


def test_m365_teams_guest_urls() -> None:
    t = {"user": {"email": "attacker@evil.onmicrosoft.com"}, "o365": {"audit": {"MessageURLs": ["https://x.example/a.exe"]}}}
    events = [t, _mod(t, "o365.audit.MessageURLs", ["anydesk.com"]), _mod(t, "user.email", "a@contoso.com"),
              _mod(t, "o365.audit.MessageURLs", ["https://x/a.pdf", "atera.com"]), _mod(t, "o365.audit.MessageURLs", ["https://x/a.pdf"])]
    assert _hits("microsoft365_teams_guest_rmm_deployment.yml", events) == [0, 1, 3]


# -- catch-all routing: a rule whose condition holds without its fields -------------------

@pytest.mark.parametrize("sample", ["k8s_audit.jsonl", "github_audit.jsonl", "gitlab.jsonl", "snyk_audit.jsonl"])
def test_negative_rule_of_another_source_stays_off_real_json_events(real: Path, sample: str) -> None:
    # `not selection` holds for any event without id.orig_h; ingested with the catch-all json
    # format, the real Kubernetes/GitHub/GitLab/Snyk records are no Zeek RDP log
    rs = load_rules([CASES / "zeek_rdp_public_listener.yml"])
    assert "at least one of them" in rs.rules[0].warnings[-1]
    body = (real / "panther-analysis" / "extracted" / sample).read_bytes()
    assert _rows(rs, "json", body) == []


def test_positive_rules_get_no_field_guard(tmp_path: Path) -> None:
    rs = load_rules([CASES / "zeek_susp_kerberos_rc4.yml"])
    assert not any("at least one" in w for w in rs.rules[0].warnings)
    null_rule = tmp_path / "null.yml"
    null_rule.write_text("title: t\nid: 5f1a1111-2222-4333-8444-555566667778\nstatus: test\nlogsource: {product: zeek}\n"
                         "detection:\n    sel: {id.orig_h: null}\n    condition: sel\n")
    rs = load_rules([null_rule])  # field: null holds for a missing field: guarded like `not`
    events = [dict(CONN, **{"id.orig_h": None}), {"kind": "Event", "verb": "get"}, CONN]
    # the rule's only field must be there (JSON null counts): an event without it is another source's
    assert _rows(rs, "json", b"\n".join(msgspec.json.encode(e) for e in events)) == [0]


def test_threat_hunting_and_compliance_rules() -> None:
    flows = [{"destination": {"port": 23}, "source": {"port": 50000}}, {"destination": {"port": 443}},
             {"destination": {"port": "3306"}}, {"destination.port": 21}, {"source": {"port": 23}}]
    assert _hits("netflow_cleartext_protocols.yml", flows) == [0, 2, 3]  # service-only logsource: json and syslog
    signins = [{"ResultType": "70044", "AutonomousSystemNumber": 16509}, {"ResultType": 70044, "AutonomousSystemNumber": "24940"},
               {"ResultType": "0", "AutonomousSystemNumber": 16509}, {"ResultType": "50089", "AutonomousSystemNumber": 7922}]
    assert _hits("azure_signin_token_rejected_hosting_asn.yml", signins) == [0, 1]
    onelogin = [{"event_type_id": 532}, {"event_type_id": 5}, {"event_type_id": "551"}, {"event_type_id": 5532}]
    assert _hits("onelogin_user_account_locked.yml", onelogin) == [0, 2]  # `1 of selection*`
    qualys = [{"event": {"category": "security policy"}, "host": {"scan": {"vuln_name": "Firewall Product Not Detected on x"}}},
              {"event": {"category": "Vulnerability"}, "host": {"scan": {"vuln_name": "Firewall Product Not Detected"}}}]
    assert _hits("qualys_host_without_firewall.yml", qualys) == [0]


def test_value_max_and_value_min_correlations() -> None:
    rule = "spec_correlation_value_max_min.yml"
    rs = load_rules([CASES / rule])
    assert not rs.unsupported and len(rs.correlations) == 2

    def ev(i: int, value: object, f1: str = "a") -> bytes:
        return msgspec.json.encode({"ts": f"2026-11-29T10:00:{i:02d}Z", "action": "transfer", "field1": f1, "field2": "x",
                                    "numeric_value": value})

    assert _fired(rule, [ev(0, 10), ev(1, 99), ev(2, "120"), ev(3, 5)], "json") == [2]  # max 120 >= 100
    assert _fired(rule, [ev(0, 10), ev(1, "n/a"), ev(2, -3, "b"), ev(3, 150, "c")], "json") == [2, 3]  # min -3 < 0; max 150
    assert _fired(rule, [ev(0, 10), ev(1, 99.5)], "json") == []
