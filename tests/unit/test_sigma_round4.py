"""Round 4 of Sigma rules: rules from outside SigmaHQ and the corners of the specification v2.

Rules from another public repository (tests/cases/sigma_holdout/wrg_*.yml, WRG-11/wrg-sigma-rules,
MIT) and rules written the way the specification and its modifiers appendix (v2.1.0) define each
construct; expectations come from the specification and from pySigma's reading of a rule
(``fieldref|contains`` = starts_with AND ends_with, ``them`` without ``_`` identifiers), never
from running secpipe. Every case is evaluated on both paths (distinct values and SQL).
"""

from __future__ import annotations

import ipaddress
import json
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
HEAD = "title: t\nid: 6a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3\nstatus: test\nlogsource: {product: secpipe, service: json}\nlevel: high\n"


def _rows(rs: RuleSet, events: list[dict]) -> list[int]:
    dec = formats.get("json").decode(b"\n".join(msgspec.json.encode(e) for e in events), "test")
    assert not dec.dead, dec.dead
    got = sorted({r for b in dec.batches for r in rs.matches(b).column("row").to_pylist()})
    ref = RuleSet(rs.rules, distinct_values=False)  # the SQL path: the reference evaluation
    assert got == sorted({r for b in dec.batches for r in ref.matches(b).column("row").to_pylist()})
    return got


def _rule(tmp_path: Path, detection: str, head: str = HEAD) -> RuleSet:
    p = tmp_path / "r.yml"
    p.write_text(head + "detection:\n" + textwrap.indent(textwrap.dedent(detection), "    "))
    return load_rules([p])


def _hits(tmp_path: Path, detection: str, events: list[dict]) -> list[int]:
    rs = _rule(tmp_path, detection)
    assert not rs.unsupported, rs.unsupported
    return _rows(rs, events)


# -- fieldref: with startswith / endswith / contains / neq ---------------------------------

FIELDS = [{"a": "C:\\Users\\bob\\evil.exe", "b": "bob"}, {"a": "bob.exe", "b": "BOB"}, {"a": "x", "b": "x"},
          {"a": "xbob", "b": "bob"}, {"a": "alice"}]


@pytest.mark.parametrize(("modifiers", "expected"), [
    ("fieldref", [2]),
    ("fieldref|contains", [0, 1, 2, 3]),  # pySigma: starts_with AND ends_with = anywhere in the value
    ("fieldref|startswith", [1, 2]),
    ("fieldref|endswith", [2, 3]),
    ("fieldref|neq", [0, 1, 3, 4]),  # appendix v2.1.0: neq with fieldref (a NOT: a missing b differs)
])
def test_fieldref_modifiers(tmp_path: Path, modifiers: str, expected: list[int]) -> None:
    assert _hits(tmp_path, f"sel:\n  a|{modifiers}: b\ncondition: sel\n", FIELDS) == expected


def test_fieldref_with_a_wildcard_is_refused_with_the_reason(tmp_path: Path) -> None:
    rs = _rule(tmp_path, "sel:\n  a|fieldref: 'b*'\ncondition: sel\n")
    assert not rs.rules and "must not contain wildcards" in rs.unsupported[0].reason


def test_dotted_key_spelling_beside_an_array_path(tmp_path: Path) -> None:
    # one record crosses an array along a.b, another holds the dotted name as ONE key: the list
    # read and the single-key spelling are combined (this raised a DuckDB binder error)
    events = [{"a": {"b": [{"c": "x"}, {"c": "y"}]}}, {"a.b.c": "x"}, {"a": {"b": {"c": "x"}}}, {"a.b.c": "z"},
              {"a": {"b": [{"d": 1}]}}]
    assert _hits(tmp_path, "sel:\n  a.b.c: x\ncondition: sel\n", events) == [0, 1, 2]
    assert _hits(tmp_path, "sel:\n  a.b.c|exists: true\ncondition: sel\n", events) == [0, 1, 2, 3]
    assert _hits(tmp_path, "sel:\n  a.b.c: null\ncondition: sel\n", events) == [4]


# -- cidr: IPv4 networks hold IPv4-mapped IPv6 addresses ------------------------------------

ADDRESSES = ["10.1.2.3", "11.0.0.1", "::ffff:10.0.0.1", "::FFFF:10.200.0.9", "0:0:0:0:0:ffff:10.9.9.9",
             "0000:0000:0000:0000:0000:ffff:10.0.0.7", "::ffff:a00:1", "::ffff:0a0b:0c0d", "::ffff:11.0.0.1",
             "::ffff:b00:1", "::1", "2001:db8::ffff:10.0.0.1", "::ffff:10.0.0.1x", "::ffff:172.31.0.1",
             "::ffff:ac1f:1", "::ffff:172.32.0.1", "172.16.5.5", "64:ff9b::10.0.0.1"]
NETWORKS = ["10.0.0.0/8", "172.16.0.0/12"]


def _in_networks(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    v4 = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip
    return v4 is not None and any(v4 in ipaddress.ip_network(n) for n in NETWORKS)


def test_ipv4_cidr_holds_ipv4_mapped_ipv6_addresses(tmp_path: Path) -> None:
    # RFC 4291 2.5.5.2: ::ffff:a.b.c.d IS the IPv4 address (a dual-stack socket's peer); the
    # reference is Python's ipaddress (ipv4_mapped), not the engine
    expected = [i for i, a in enumerate(ADDRESSES) if _in_networks(a)]
    assert expected == [0, 2, 3, 4, 5, 6, 7, 13, 14, 16]
    nets = "".join(f"\n    - {n}" for n in NETWORKS)
    assert _hits(tmp_path, f"sel:\n  src|cidr:{nets}\ncondition: sel\n", [{"src": a} for a in ADDRESSES]) == expected


def test_ipv4_cidr_on_a_list_field(tmp_path: Path) -> None:
    events = [{"ips": ["203.0.113.1", "::ffff:10.0.0.1"]}, {"ips": ["::ffff:203.0.113.1"]}]
    assert _hits(tmp_path, "sel:\n  ips|cidr: 10.0.0.0/8\ncondition: sel\n", events) == [0]


def test_logsource_category_list_and_field_names_with_spaces(tmp_path: Path) -> None:
    # the shape of a published keyword rule set (mthcht/ThreatHunting-Keywords-sigma-rules, which has
    # no licence, so not copied): a category LIST, a list of maps, field names with a space, '*' inside
    head = HEAD.replace("logsource: {product: secpipe, service: json}", "logsource:\n  category:\n  - endpoint\n  - network")
    rs = _rule(tmp_path, "selection:\n- ParentCommandLine: ['*encrypted PasteBin*', '*https://0bin.net/paste/*+*']\n"
               "- Product Name: ['*encrypted PasteBin*']\n- process.command_line: ['*https://0bin.net/paste/*+*']\n"
               "condition: selection\n", head)
    assert not rs.unsupported and rs.rules[0].formats == ("json", "syslog")
    assert "is a list: read as 'endpoint'" in rs.rules[0].warnings[0]
    events = [{"ParentCommandLine": "curl https://0bin.net/paste/ab+cd"}, {"Product Name": "0bin - encrypted pastebin"},
              {"process": {"command_line": "x https://0bin.net/paste/q+1"}}, {"ParentCommandLine": "https://0bin.net/paste/ab"},
              {"Product": "encrypted PasteBin"}]
    assert _rows(rs, events) == [0, 1, 2]


# -- deprecated syntax: timeframe, near ---------------------------------------------------

def test_timeframe_without_aggregation_is_no_search_identifier(tmp_path: Path) -> None:
    # Sigma 1.x put `timeframe` beside the search identifiers; `1 of them` must not search its text
    rs = _rule(tmp_path, "sel:\n  user: bob\ntimeframe: 5m\ncondition: 1 of them\n")
    assert not rs.unsupported and any("timeframe ignored" in w for w in rs.rules[0].warnings)
    assert _rows(rs, [{"user": "bob"}, {"user": "5m"}, {"note": "5m"}]) == [0]
    top = _rule(tmp_path, "sel:\n  user: bob\ncondition: sel\n", HEAD + "timeframe: 1h\n")
    assert not top.unsupported and any("timeframe ignored" in w for w in top.rules[0].warnings)


def test_near_and_not_is_refused_naming_rule_and_reason(tmp_path: Path) -> None:
    # '| near' loads as a temporal correlation (test_sigma_holdout14); 'and not' (absence) cannot
    rs = _rule(tmp_path, "sel1:\n  a: x\nsel2:\n  b: y\nsel3:\n  c: z\ntimeframe: 1m\n"
               "condition: sel1 | near sel2 and not sel3\n", HEAD.replace("title: t", "title: Two steps"))
    assert not rs.rules
    reason = rs.unsupported[0].reason
    assert "'Two steps'" in reason and "near" in reason and "and not" in reason


# -- condition grammar ----------------------------------------------------------------------

GRAMMAR = [{"a": "x"}, {"b": "y"}, {"a": "x", "b": "y"}, {"a": "x", "c": "z"}, {"c": "z"}, {}]


@pytest.mark.parametrize(("detection", "expected"), [
    ("s1: {a: x}\ns2: {b: y}\ncondition: not 1 of s*", [4, 5]),
    ("s1: {a: x}\ns2: {b: y}\ncondition: not all of s*", [0, 1, 3, 4, 5]),
    ("selection_a: {a: x}\nfilter: {b: y}\ncondition: all of selection* and not filter", [0, 3]),
    ("s1: {a: x}\ns2: {b: y}\ns3: {c: z}\ncondition: ((s1 or (s2)) and not (not (s3)))", [3]),
    ("s1: {a: x}\ns2: {b: y}\ns3: {c: z}\ncondition: s1 and not (s2 or s3) or s2 and not s1", [0, 1]),
    # `them` leaves out identifiers that start with '_' (specification); they can be named
    ("sel: {a: x}\n_ctx: {b: y}\ncondition: all of them", [0, 2, 3]),
    ("sel: {a: x}\n_ctx: {b: y}\ncondition: 1 of them and not _ctx", [0, 3]),
    ("selection: {a: x}\n_selection2: {b: y}\ncondition: 1 of selection*", [0, 2, 3]),
    ("selection: {a: x}\n_sel: {b: y}\ncondition: 1 of _sel*", [1, 2]),
])
def test_condition_grammar(tmp_path: Path, detection: str, expected: list[int]) -> None:
    assert _hits(tmp_path, detection, GRAMMAR) == expected


def test_upper_case_condition_operators(tmp_path: Path) -> None:
    # pySigma's grammar knows lower-case operators; the specification's correlation examples write
    # AND/OR/NOT, and rules carry them over: they are read as operators, with a warning
    rs = _rule(tmp_path, "s1: {a: x}\ns2: {b: y}\nAll_c: {c: z}\ncondition: s1 AND NOT s2 OR ALL OF All_c\n")
    assert not rs.unsupported and any("upper case" in w for w in rs.rules[0].warnings)
    # (s1 and not s2) or all of All_c: the identifier keeps its spelling
    assert _rows(rs, GRAMMAR) == [0, 3, 4]


def test_unreferenced_identifier_loads_with_a_warning(tmp_path: Path) -> None:
    # the condition alone says what matches (pySigma converts such rules); the validator's
    # finding is kept as a warning
    rs = _rule(tmp_path, "sel: {a: x}\nunused: {b: y}\ncondition: sel\n")
    assert not rs.unsupported and any("DanglingDetectionIssue" in w for w in rs.rules[0].warnings)
    assert _rows(rs, GRAMMAR) == [0, 2, 3]


# -- modifiers of the appendix v2.1.0 not covered by earlier rounds ----------------------------

MODS = [{"v": "6", "s": "Admin", "t": "2026-11-29T10:05:00Z", "m": "line1\nFOO=1"},
        {"v": 4, "s": "admin", "t": "2025-02-03T23:59:00Z", "m": "foo=1"},
        {"v": "x", "s": "root", "t": "not a date", "m": "a\nb"},
        {"v": "5.5", "s": "", "t": "2026-01-05T00:00:00Z"}]


@pytest.mark.parametrize(("detection", "expected"), [
    ("sel: {v|gt: 5}", [0, 3]),  # numbers held in strings compare numerically; 'x' is no number
    ("sel: {v|lte: 5.5}", [1, 3]),
    ("sel: {v|neq: 4}", [0, 2, 3]),  # neq: NOT equal (pySigma), 'x' differs from 4
    ("sel: {s|neq: admin}", [2, 3]),  # v2.1.0: neq on strings, case-insensitive like equality
    ("sel: {s|neq|cased: admin}", [0, 2, 3]),
    ("sel: {s|cased: Admin}", [0]),
    ("sel: {s|exists: true}", [0, 1, 2, 3]),
    ("sel: {m|exists: false}", [3]),
    ("sel: {m|re: '^FOO'}", []),  # case-sensitive, ^ anchors the whole value
    ("sel: {m|re|m: '^FOO'}", [0]),
    ("sel: {m|re|i|m: '^foo'}", [0, 1]),
    ("sel: {m|re|s: 'a.b'}", [2]),
    ("sel: {m|re: 'a.b'}", []),
    ("sel: {t|year: 2026}", [0, 3]),
    ("sel: {t|week: 48}", [0]),
    ("sel: {t|day: 3}", [1]),
    ("sel: {t|hour: 23}", [1]),
])
def test_appendix_modifiers(tmp_path: Path, detection: str, expected: list[int]) -> None:
    assert _hits(tmp_path, detection + "\ncondition: sel\n", MODS) == expected


# -- correlations: multiple group-by fields, generate ------------------------------------------

def _fired(rs: RuleSet, events: list[dict]) -> list[int]:
    eng = CorrelationEngine(rs, None, clock=lambda: T0 + 60)
    assert not eng.unsupported, eng.unsupported
    out = []
    for i, ev in enumerate(events):
        b = formats.get("json").decode(msgspec.json.encode(ev), "t").batches[0]
        if eng.process(b, rs.matches(b)) is not None:
            out.append(i)
    return out


def _failed(i: int, ip: str, logon_type: int = 3, user: str = "bob") -> dict:
    return {"TimeCreated": f"2026-11-29T10:00:{i:02d}Z", "EventID": 4625, "LogonType": logon_type,
            "SourceIP": ip, "TargetUserName": user}


def test_wrg_lapsus_correlation_counts_by_source() -> None:
    rs = load_rules([CASES / "wrg_lapsus_t1110_correlation.yml"])
    assert not rs.unsupported and len(rs.correlations) == 1
    # `category: authentication` is the Sigma taxonomy's, not the OCSF class: json events are base_event
    assert rs.rules[0].formats == ("json",) and rs.rules[0].classes is None
    assert rs.rules[0].output is False  # generate: false (the default): the base rule reports nothing
    events = [_failed(i, "198.51.100.1" if i % 2 else "198.51.100.2") for i in range(21)]
    assert _fired(rs, events) == [20]  # the 11th failure from .2 (events 0, 2, ..., 20); .1 had 10
    other_type = [_failed(i, "198.51.100.3", logon_type=5) for i in range(12)]  # LogonType 5: not listed
    assert _fired(rs, other_type) == []


def test_correlation_with_two_group_by_fields_and_generate(tmp_path: Path) -> None:
    text = (CASES / "wrg_lapsus_t1110_correlation.yml").read_text()
    text = text.replace("  - SourceIP\n", "  - SourceIP\n  - TargetUserName\n").replace("    gt: 10\n", "    gte: 3\n")
    (tmp_path / "two.yml").write_text(text)
    rs = load_rules([tmp_path / "two.yml"])
    assert rs.correlations[0].group_by == ["SourceIP", "TargetUserName"]
    events = [_failed(0, "198.51.100.1"), _failed(1, "198.51.100.1", user="eve"), _failed(2, "198.51.100.1"),
              _failed(3, "198.51.100.2"), _failed(4, "198.51.100.1", user="eve"), _failed(5, "198.51.100.1")]
    assert _fired(rs, events) == [5]  # the third of (198.51.100.1, bob); eve and .2 stay below 3
    (tmp_path / "two.yml").write_text(text.replace("  timespan: 10m\n", "  timespan: 10m\n  generate: true\n"))
    assert load_rules([tmp_path / "two.yml"]).rules[0].output is True  # generate: the base rule reports too


def test_aggregation_of_a_rule_whose_id_is_no_uuid(tmp_path: Path) -> None:
    # a Sigma 1.x count() by ... with a non-UUID id (as rules unified from several vendors carry):
    # the derived correlation refers to the rule under the UUID the parser gave it
    (tmp_path / "mfa.yml").write_text(textwrap.dedent("""\
        title: MFA push rejections from one user
        id: f7c3d9a1-0602-4de0-b8c7-unified-t1078004
        status: test
        logsource:
            product: azure
            service: signinlogs
        detection:
            selection_mfa_denied:
                ResultType:
                    - 500121
                    - 50074
            selection_mfa_status:
                Status: 'Failure'
                AuthenticationRequirement: 'multiFactorAuthentication'
            condition: selection_mfa_denied or selection_mfa_status | count() by UserPrincipalName > 5
            timeframe: 10m
        level: high
        """))
    rs = load_rules([tmp_path / "mfa.yml"])
    assert not rs.unsupported and rs.rules[0].id == "f7c3d9a1-0602-4de0-b8c7-unified-t1078004"

    def ev(i: int, user: str, code: int = 500121) -> dict:
        return {"createdDateTime": f"2026-11-29T10:00:{i:02d}Z", "UserPrincipalName": user, "ResultType": code}

    assert _fired(rs, [ev(i, "bob@example.com") for i in range(6)]) == [5]  # > 5 within 10 minutes
    assert _fired(rs, [ev(i, "bob@example.com" if i % 2 else "eve@example.com") for i in range(8)]) == []
    assert _fired(rs, [ev(i, "bob@example.com", 0) for i in range(8)]) == []


# -- a rule with an empty product, on JSON events and on the real samples ------------------------

def test_wrg_rules_on_json_and_not_on_the_real_samples(real: Path) -> None:
    rs = load_rules([CASES / "wrg_aws_api_mcp_server_policy_load_failure.yml"])
    assert not rs.unsupported and rs.rules[0].formats == ("json", "syslog")
    logs = [{"Message": "Failed to load security policy from /etc/mcp/policy.json: invalid JSON", "level": "ERROR"},
            {"Message": "No security policy file found at /etc/mcp/policy.json, not applying any additional security "
                        "policies"}]
    assert _rows(rs, logs) == [0]
    rs = load_rules([CASES / "wrg_aws_api_mcp_server_policy_load_failure.yml", CASES / "wrg_lapsus_t1110_correlation.yml"])
    for sample in ("cloudtrail.json", "k8s_audit.jsonl", "github_audit.jsonl", "gitlab.jsonl"):  # no other source's event
        body = (real / "panther-analysis" / "extracted" / sample).read_bytes()
        dec = formats.get("json").decode(body, "real")
        assert sum(rs.matches(b).num_rows for b in dec.batches) == 0, sample


# -- a lake stored without raw_data: rules read OCSF columns, or are reported as blind -----------

def test_hunt_on_a_lake_without_raw_data(real: Path, tmp_path: Path) -> None:
    from secpipe.detect.sigma.hunt import hunt
    from secpipe.store.lake import Lake

    ct = "sigmahq-sigma/rules/cloud/aws/cloudtrail/"
    rules = [real / ct / f"{n}.yml" for n in ("aws_update_login_profile", "aws_sts_getcalleridentity_trufflehog",
                                                "aws_enum_buckets")]
    dec = formats.get("cloudtrail").decode((real / "panther-analysis/extracted/cloudtrail.json").read_bytes(), "real")
    hits = {}
    for keep in (True, False):
        lake = Lake(tmp_path / str(keep) / "lake", raw_data=keep)
        for b in dec.batches:
            lake.append(b)
        lake.flush()
        res = hunt(load_rules(rules), tmp_path / str(keep), write=False)
        hits[keep] = ({rid: n for rid, n in res.hits.items() if n}, res.blind)
    with_raw, (without, blind) = hits[True][0], hits[False]
    login = "055fb148-60f8-462d-ad16-26926ce050f1"
    assert with_raw[login] == 3 and hits[True][1] == {}
    # its filter compares userIdentity.arn with requestParameters.userName, which only raw_data holds:
    # run without it, `not filter` would hold for every UpdateLoginProfile — the rule is reported instead
    assert login not in without and blind == {login: ["requestParameters.userName"]}
    # eventSource, eventName, userAgent, userIdentity.type have OCSF columns: the same hits as with raw_data
    assert {k: v for k, v in with_raw.items() if k != login} == without and without
    from typer.testing import CliRunner

    from secpipe.cli.main import _register, app

    _register()
    args = ["hunt", "--rules", str(rules[0]), "--data", str(tmp_path / "False")]
    doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert doc["blind"] == {login: ["requestParameters.userName"]} and doc["findings"] == 0
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0 and "not run on events stored without raw_data" in out.stderr
