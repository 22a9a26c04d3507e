"""Published Sigma rules the engine used to refuse or crash on (tests/cases/sigma_holdout, SigmaHQ).

Each rule is loaded as published and evaluated on events written from the rule and the real
log format of its source (CloudTrail records, syslog lines as sshd / NetworkManager / auditd
write them, Okta system log JSON): one event that must match and a near miss that must not.
Expectations follow the Sigma specification (rules, correlations, filters, modifiers).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec
import pytest

from secpipe import formats
from secpipe.detect.sigma import findings, load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.options import SigmaOptions
from secpipe.detect.sigma.stage import SigmaStage

CASES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"


def _ct(n: int = 1, **fields: object) -> bytes:
    recs = []
    for i in range(n):
        rec = {"eventVersion": "1.08", "eventTime": f"2026-11-29T10:{i // 60:02d}:{i % 60:02d}Z",
               "eventSource": "iam.amazonaws.com", "eventName": "GetUser", "awsRegion": "us-east-1",
               "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15", "eventID": f"e{i}",
               "eventType": "AwsApiCall", "recipientAccountId": "111122223333",
               "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}}
        rec.update(fields)
        recs.append(rec)
    return msgspec.json.encode({"Records": recs})


def _hits(rule: str | list[Path], fmt: str, body: bytes, **kw: object) -> list[int]:
    rs = load_rules([CASES / rule] if isinstance(rule, str) else rule, **kw)
    assert not rs.unsupported, rs.unsupported
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead, dec.dead
    return sorted({r for b in dec.batches for r in rs.matches(b).column("row").to_pylist()})


def _syslog(*lines: str) -> bytes:
    return "\n".join(lines).encode()


def _fired(rs: object, events: list[dict]) -> list[int]:
    """Indexes of the json events at which a correlation of ``rs`` fired (one event per batch)."""
    eng = CorrelationEngine(rs, None, clock=lambda: 1795946400.0)
    out = []
    for i, ev in enumerate(events):
        b = formats.get("json").decode(msgspec.json.encode(ev), "t").batches[0]
        if eng.process(b, rs.matches(b)) is not None:  # type: ignore[attr-defined]
            out.append(i)
    return out


# -- Sigma 1.x aggregations become correlation rules ---------------------------------

def test_count_by_becomes_an_event_count_correlation() -> None:
    rs = load_rules([CASES / "aws_secretsmanager_mass_secret_retrieval.yml"])
    assert not rs.unsupported and len(rs.rules) == 1 and len(rs.correlations) == 1
    (corr,) = rs.correlations
    assert corr.type.name == "EVENT_COUNT" and corr.group_by == ["userIdentity.arn"] and not corr.generate
    assert corr.condition.op.name == "GT" and corr.condition.count == 20
    assert rs.rules[0].output is False  # the search alone reports nothing

    def fired(n: int) -> int:
        stage = SigmaStage("s", SigmaOptions(rules=[str(CASES / "aws_secretsmanager_mass_secret_retrieval.yml")]),
                           clock=lambda: 1795946400.0)
        body = _ct(n, eventSource="secretsmanager.amazonaws.com", eventName="GetSecretValue")
        out = stage.process(formats.get("cloudtrail").decode(body, "t").batches[0])
        assert len(out) <= 2  # the batch and, at most, the correlation's finding (no base findings)
        return out[1].num_rows if len(out) == 2 else 0

    assert fired(21) == 1  # > 20 by one identity within the window
    assert fired(20) == 0


def test_count_of_a_field_becomes_value_count() -> None:
    rs = load_rules([CASES / "lnx_auth_susp_failed_logons_single_source.yml"])
    (corr,) = rs.correlations
    assert corr.type.name == "VALUE_COUNT" and corr.condition.fieldref == "pam_user"
    assert corr.group_by == ["pam_rhost"] and corr.timespan.seconds == 86400  # timeframe inside detection
    assert not rs.rules[0].warnings or "timeframe" not in " ".join(rs.rules[0].warnings)

    def fired(users: list[str]) -> list[int]:
        return _fired(rs, [{"time": f"2026-11-29T10:00:{i:02d}Z", "pam_message": "authentication failure",
                            "pam_user": u, "pam_rhost": "198.51.100.4"} for i, u in enumerate(users)])

    assert fired(["root", "admin", "oracle", "test"]) == [3]  # 4 distinct users > 3
    assert fired(["root"] * 6) == []


def test_aggregations_without_timeframe_in_global_action_files() -> None:
    rs = load_rules([CASES / "lnx_auditd_cve_2021_3156_sudo_buffer_overflow.yml"])
    assert not rs.unsupported and len(rs.rules) == 2 and len(rs.correlations) == 2
    assert all("timeframe" in " ".join(r.warnings) for r in rs.rules)
    assert {c.timespan.seconds for c in rs.correlations} == {86400}


# -- metadata that does not change what a rule matches -------------------------------

def test_non_uuid_id_keeps_its_id_and_matches() -> None:
    rs = load_rules([CASES / "lnx_syslog_ssh_bruteforce.yml"])
    assert rs.rules[0].id == "8d9c5b6a-9b42-4d71-9b3f-sshbruteforce01" and "no UUID" in rs.rules[0].warnings[0]
    body = _syslog("<38>1 2026-11-29T10:00:00Z host sshd 4242 - - Failed password for invalid user admin from 203.0.113.5 port 5555 ssh2",
                   "<38>1 2026-11-29T10:00:01Z host sshd 4242 - - Accepted publickey for deploy from 10.0.0.8 port 5555 ssh2")
    assert _hits("lnx_syslog_ssh_bruteforce.yml", "syslog", body) == [0]


def test_unknown_related_type_is_dropped_and_escaped_wildcard_is_literal() -> None:
    rs = load_rules([CASES / "proxy_hktl_cobalt_strike_malleable_c2_requests.yml"])
    assert "obsoletes" in rs.rules[0].warnings[0]
    events = [{"cs-method": "GET", "c-uri": "/personal/x?manifest=wac", "cs-host": "onedrive.live.com"},
              {"cs-method": "GET", "c-uri": "/personal/xxmanifest=wac", "cs-host": "onedrive.live.com"},
              {"cs-method": "GET", "c-uri": "https://onedrive.live.com/?manifest=wac", "cs-host": "onedrive.live.com"},
              {"c-useragent": "Mozilla/4.0 (compatible; MSIE 6.0;Windows NT 5.1)"}]
    body = b"\n".join(msgspec.json.encode(e) for e in events)
    # \? is a literal question mark; the third is removed by filter_main_onedrive
    assert _hits("proxy_hktl_cobalt_strike_malleable_c2_requests.yml", "json", body) == [0, 3]


def test_placeholder_without_values_filters_nothing() -> None:
    rs = load_rules([CASES / "aws_cloudtrail_console_susp_login.yml"])
    assert not rs.unsupported and "%Legitimate_Countries%" in " ".join(rs.rules[0].warnings)
    body = _ct(2, eventName="ConsoleLogin", eventSource="signin.amazonaws.com")
    recs = msgspec.json.decode(body)["Records"]
    recs[1]["eventName"] = "GetUser"
    assert _hits("aws_cloudtrail_console_susp_login.yml", "cloudtrail", msgspec.json.encode({"Records": recs})) == [0]


# -- syslog: text records -----------------------------------------------------------

def test_field_rules_on_syslog_lines() -> None:
    body = _syslog(
        '<30>Nov 29 10:00:01 host NetworkManager[812]: <info>  [1700000000.1] audit: op="connection-activate" '
        'uuid="5c2" name="Hotspot" pid=1 uid=1000 result="success"',
        '<30>Nov 29 10:00:02 host NetworkManager[812]: <info>  [1700000000.2] audit: op="connection-activate" '
        'uuid="5c2" name="Hotspot" pid=1 uid=1000 result="fail"',
        "<13>Nov 29 10:00:03 host app: {not json at all")
    assert _hits("lnx_networkmanager_hotspot_activation.yml", "syslog", body) == [0]


def test_auditd_fields_of_syslog_lines() -> None:
    body = _syslog(
        '<14>Nov 29 10:00:00 host audit[123]: type=EXECVE msg=audit(1795946400.123:456): argc=4 a0="cp" a1="-i" a2="/bin/sh" a3="/usr/sbin/crond"',
        '<14>Nov 29 10:00:00 host audit[123]: type=EXECVE msg=audit(1795946400.123:457): argc=4 a0="cp" a1="-i" a2="/bin/sh" a3="/tmp/cron"',
        '<14>Nov 29 10:00:01 host audit[123]: type=PATH msg=audit(1795946401.1:458): item=0 name="/etc/ld.so.preload" inode=1 nametype=NORMAL',
        '<14>Nov 29 10:00:01 host audit[123]: type=PATH msg=audit(1795946401.1:459): item=0 name="/etc/ld.so.preload.bak" nametype=CREATE')
    assert _hits("lnx_auditd_masquerading_crond.yml", "syslog", body) == [0]
    assert _hits("lnx_auditd_ld_so_preload_mod.yml", "syslog", body) == [2]


def test_keyword_selections_on_syslog_lines() -> None:
    body = _syslog("<86>Dec 21 17:13:54 testserver useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john, shell=/bin/bash",
                   "<86>Dec 21 17:24:40 testserver useradd[1337]: new user: name=bob, UID=1000, GID=100, home=/home/bob, shell=/bin/bash")
    assert _hits("lnx_privileged_user_creation.yml", "syslog", body) == [0]


# -- products without a dedicated source run on json-format events ----------------

def test_okta_rule_on_okta_json() -> None:
    def ev(behaviors: str) -> bytes:
        return msgspec.json.encode({"eventtype": "policy.evaluate_sign_on", "published": "2026-11-29T10:00:00Z",
                                    "target": {"displayname": "Okta Admin Console"},
                                    "debugcontext": {"debugdata": {"behaviors": behaviors}}})
    body = ev("{New Geo-Location=POSITIVE, New Device=NEGATIVE}") + b"\n" + ev("{New Geo-Location=NEGATIVE}")
    rs = load_rules([CASES / "okta_new_behaviours_admin_console.yml"])
    assert rs.rules[0].formats == ("json",) and "okta" in rs.rules[0].warnings[-1]
    assert _hits("okta_new_behaviours_admin_console.yml", "json", body) == [0]


# -- correlation features -------------------------------------------------------------

def test_correlation_file_with_keywords_exists_and_cidr() -> None:
    rs = load_rules([CASES / "correlation_lnx_sshd_brute_force_attempt.yml"])
    assert not rs.unsupported and len(rs.rules) == 1 and len(rs.correlations) == 1
    base = {"deviceProcessName": "sshd", "host": "web1", "message": "Failed password for root from x"}
    events = [base | {"user_name": "root", "client_ip": "203.0.113.5"},
              base | {"user_name": "root", "client_ip": "10.0.0.5"},  # private range: filtered
              base | {"user_name": "root"},  # client_ip|exists: true
              base | {"user_name": "root", "client_ip": "2001:db8::5"},
              base | {"user_name": "root", "client_ip": "fe80::1"}]
    body = b"\n".join(msgspec.json.encode(e) for e in events)
    b = formats.get("json").decode(body, "t").batches[0]
    m = rs.matches(b)
    assert sorted(m.column("row").to_pylist()) == [0, 3]
    assert findings(rs, b, m) is None  # generate: false — the base rule feeds the correlation only


def _numeric(kind: str, cond: str) -> str:
    return textwrap.dedent(f"""\
        title: transfer
        name: transfer
        id: 6e0c8f52-1111-4a2b-9c3d-000000000001
        status: test
        logsource: {{product: secpipe, service: json}}
        detection:
          sel: {{action: upload}}
          condition: sel
        level: low
        ---
        title: big transfers
        id: 6e0c8f52-1111-4a2b-9c3d-000000000002
        status: test
        correlation:
          type: {kind}
          rules: [transfer]
          group-by: [user]
          timespan: 1h
          condition: {cond}
        level: high
        """)


@pytest.mark.parametrize(("kind", "cond", "fired"), [
    # a's transfers 30, 50 fire (the group then starts over: 10 alone does not); b's is no number
    ("value_sum", "{gte: 80, field: bytes}", [1]),  # 30 + 50
    ("value_avg", "{gt: 35, field: bytes}", [1]),  # (30 + 50) / 2 = 40
    ("value_median", "{gte: 40, field: bytes}", [1]),  # median(30, 50) = 40
    ("value_percentile", "{gte: 49, field: bytes, percentile: 95}", [1]),  # p95(30, 50) = 49
])
def test_numeric_value_correlations(tmp_path: Path, kind: str, cond: str, fired: list[int]) -> None:
    (tmp_path / "r.yml").write_text(_numeric(kind, cond))
    rs = load_rules([tmp_path / "r.yml"])
    assert not rs.unsupported and len(rs.correlations) == 1
    events = [{"time": f"2026-11-29T10:00:0{i}Z", "action": "upload", "user": user, "bytes": n}
              for i, (user, n) in enumerate([("a", 30), ("a", 50), ("a", 10), ("b", "n/a")])]
    assert _fired(rs, events) == fired


# -- meta filters (Sigma filters specification) -----------------------------------------

def test_meta_filter_in_another_file_applies_by_rule_id(tmp_path: Path) -> None:
    flt = tmp_path / "mf_jump_hosts.yml"
    flt.write_text(textwrap.dedent("""\
        title: Filter the jump hosts
        description: failed logins from the bastion network are expected
        logsource:
            product: linux
            service: syslog
        filter:
            rules:
                - 8d9c5b6a-9b42-4d71-9b3f-sshbruteforce01
            selection:
                message|contains: 'from 10.'
            condition: not selection
        """))
    body = _syslog("<38>1 2026-11-29T10:00:00Z host sshd 4242 - - Failed password for root from 203.0.113.5 port 5555 ssh2",
                   "<38>1 2026-11-29T10:00:01Z host sshd 4242 - - Failed password for root from 10.0.0.8 port 5555 ssh2")
    assert _hits([CASES / "lnx_syslog_ssh_bruteforce.yml", flt], "syslog", body) == [0]
    assert _hits([CASES / "lnx_syslog_ssh_bruteforce.yml"], "syslog", body) == [0, 1]
    other = tmp_path / "other.yml"  # a rule the filter does not name keeps every match
    other.write_text((CASES / "lnx_syslog_ssh_bruteforce.yml").read_text().replace(
        "8d9c5b6a-9b42-4d71-9b3f-sshbruteforce01", "0e3b8c2d-5a4f-4e6b-9c7d-8e9f0a1b2c3d"))
    assert _hits([other, flt], "syslog", body) == [0, 1]


# -- modifiers of the specification (v2.1) not covered by test_sigma_language -------------

SPEC_EVENTS = [
    {"user": "Alice", "cmd": "cmd.exe /c whoami", "n": 5, "t": "2026-11-29T10:15:00Z"},
    {"user": "bob", "cmd": "net user -add eve", "n": "12", "t": "2026-11-29T23:59:00Z", "empty": ""},
    {"user": "EVE", "cmd": "net user \u2014ADD eve", "n": 0, "t": "2025-01-01T00:00:00Z", "flag": True},
    {"user": "carol", "cmd": "net user", "t": "2025-06-01T08:00:00Z"},
]


@pytest.mark.parametrize(("detection", "expected"), [
    ("sel: {user|neq: bob}\ncondition: sel", [0, 2, 3]),
    ("sel: {n|neq: 5}\ncondition: sel", [1, 2, 3]),  # a missing field is no value equal to 5
    ("sel: {t|hour: 23}\ncondition: sel", [1]),
    ("sel: {t|minute: 15}\ncondition: sel", [0]),
    ("sel: {t|year: 2025}\ncondition: sel", [2, 3]),
    ("sel: {t|month: 6}\ncondition: sel", [3]),
    ("sel: {empty: ''}\ncondition: sel", [1]),
    ("sel: {flag: true}\ncondition: sel", [2]),
    # windash with all: every value must be there, each in any of its dash spellings
    ("sel: {cmd|windash|contains|all: [' -add', 'net']}\ncondition: sel", [1, 2]),
    ("keywords:\n  '|all': [net, eve]\ncondition: keywords", [1, 2]),
    ("keywords:\n  '|cased': [EVE]\ncondition: keywords", [2]),
])
def test_spec_modifiers(tmp_path: Path, detection: str, expected: list[int]) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text("title: t\nid: 5f1a1111-2222-4333-8444-555566667777\nstatus: test\n"
                    "logsource: {product: secpipe, service: json}\nlevel: high\ndetection:\n"
                    + textwrap.indent(detection, "    ") + "\n")
    body = b"\n".join(msgspec.json.encode(e) for e in SPEC_EVENTS)
    assert _hits([rule], "json", body) == expected


RECON = "".join(
    f"title: recon {k}\nname: recon_cmd_{k}\nid: 7d1b0e2c-3a9f-4c11-9d64-000000000a0{i}\nstatus: test\n"
    f"logsource: {{product: linux, category: process_creation}}\n"
    f"detection: {{sel: {{CommandLine{mod}: '{cmd}'}}, condition: sel}}\nlevel: low\n---\n"
    for i, (k, mod, cmd) in enumerate([("a", "|contains", "whoami"), ("b", "|contains", "uname -a"), ("c", "", "id")], 1))


@pytest.mark.parametrize(("correlation", "commands", "fired"), [
    # the specification's example, upper-case operators included (sigma-specification tests/schema)
    ("type: temporal_ordered\n  rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]\n"
     "  condition: recon_cmd_a AND recon_cmd_b AND recon_cmd_c", ["whoami", "uname -a", "id"], [2]),
    ("type: temporal_ordered\n  rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]\n"
     "  condition: recon_cmd_a AND recon_cmd_b AND recon_cmd_c", ["id", "uname -a", "whoami"], []),
    ("type: temporal\n  condition: recon_cmd_a and (recon_cmd_b or recon_cmd_c)", ["uname -a", "id", "whoami"], [2]),
    ("type: temporal\n  condition: recon_cmd_a and (recon_cmd_b or recon_cmd_c)", ["uname -a", "id"], []),
    ("type: temporal\n  condition: recon_cmd_b and not recon_cmd_a", ["whoami", "uname -a"], []),
])
def test_extended_temporal_conditions(tmp_path: Path, correlation: str, commands: list[str], fired: list[int]) -> None:
    (tmp_path / "r.yml").write_text(RECON + "title: recon\nid: 7d1b0e2c-3a9f-4c11-9d64-000000000a04\ncorrelation:\n  "
                                    + correlation + "\n  group-by: [ComputerName]\n  timespan: 5m\nlevel: high\n")
    rs = load_rules([tmp_path / "r.yml"])
    assert not rs.unsupported and len(rs.correlations) == 1
    assert not any(r.output for r in rs.rules if r.name in correlation)  # generate: false (the default)
    events = [{"time": f"2026-11-29T10:00:0{i}Z", "ComputerName": "h1", "CommandLine": cmd} for i, cmd in enumerate(commands)]
    assert _fired(rs, events) == fired


@pytest.mark.parametrize(("keyword", "expected"), [
    ("'C:\\Windows\\Temp'", [0]),  # JSON text: C:\\Windows\\Temp
    ("'echo \"x\"'", [0]),  # JSON text: echo \"x\"
    ("'C:\\Windows\\Temp*.bat'", [0]),  # a wildcard inside the escaped text
    ("'C:\\Windows\\Tmp'", []),
])
def test_keywords_match_json_escaped_text(tmp_path: Path, keyword: str, expected: list[int]) -> None:
    rule = tmp_path / "k.yml"
    rule.write_text("title: t\nid: 5f1a1111-2222-4333-8444-555566667777\nstatus: test\n"
                    "logsource: {product: secpipe, service: json}\nlevel: high\n"
                    f"detection:\n    keywords: [{keyword}]\n    condition: keywords\n")
    body = b"\n".join(msgspec.json.encode({"cmd": c}) for c in ['echo "x" > C:\\Windows\\Temp\\a.bat', "echo x"])
    assert _hits([rule], "json", body) == expected


def test_a_record_that_only_looks_like_json_does_not_stop_the_batch(tmp_path: Path) -> None:
    """JSON reads run without ``try`` when every record starts with ``{``; a text record that
    does but is no JSON (a console line) makes the batch run again with safe reads."""
    import pyarrow as pa

    rule = tmp_path / "r.yml"
    rule.write_text("title: t\nid: 5f1a1111-2222-4333-8444-555566667777\nstatus: test\n"
                    "logsource: {product: secpipe, service: json}\nlevel: high\n"
                    "detection:\n    sel: {user: bob}\n    condition: sel\n")
    rs = load_rules([rule])
    b = formats.get("json").decode(b'{"user": "bob"}\n{"user": "eve"}', "t").batches[0]
    assert rs.matches(b).column("row").to_pylist() == [0]
    broken = b.set_column(b.schema.get_field_index("raw_data"), "raw_data",
                          pa.array(['{"user": "bob"}', '{user=bob, not json'], pa.string()))
    assert rs.matches(broken).column("row").to_pylist() == [0]
