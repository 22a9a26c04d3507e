"""Session 14 holdout: SigmaHQ rule shapes for CloudTrail / Kubernetes / GitHub / Linux builtin.

The published rules were read (SigmaHQ/sigma: rules/cloud/aws/cloudtrail, rules-placeholder,
rules/application/{kubernetes,github}/audit, rules/linux/builtin/**) and are not copied here:
each case writes a rule of the same shape (fields, modifiers, condition) from the Sigma
specification and runs it over real events (../shared/data/real: panther-analysis CloudTrail,
Kubernetes and GitHub audit samples) or a mutation of one. Both evaluation paths (distinct-value
fast path, SQL path) must agree.

- the taxonomy's generic ``src_ip`` (``src_ip|expand: '%Legitimate_IP_Ranges%'`` in the
  placeholder CloudTrail console-login rule) reads the caller's address of each product
  (CloudTrail ``sourceIPAddress``, Kubernetes ``sourceIPs``, GitHub ``actor_ip``): the filter
  excludes the listed addresses instead of never holding;
- a quoted ``'false'`` matches a JSON boolean false (S3 ``PublicAccessBlockConfiguration``);
  ``'NO'`` matches ``No`` (strings are case-insensitive); ``contains|all`` over a policy
  document held as a JSON string; numeric lists on ``responseStatus.code``.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.engine import RuleSet
from tests.unit.test_sigma_fields import _hits

CT = "panther-analysis/extracted/cloudtrail.json"
K8S = "panther-analysis/extracted/k8s_audit.jsonl"
GH = "panther-analysis/extracted/github_audit.jsonl"


def _rule(tmp_path: Path, product: str, service: str, detection: str) -> Path:
    p = tmp_path / "r.yml"
    p.write_text(f"title: t\nid: 0b6f3c1e-6d0a-4d7e-9a51-14c2f0e8a001\nstatus: test\n"
                 f"logsource: {{product: {product}, service: {service}}}\nlevel: low\ndetection:\n{detection}")
    return p


def _ct(real: Path, *idx: int) -> tuple[list[dict], bytes]:
    recs = json.loads((real / CT).read_text())["Records"]
    sel = [recs[i] for i in idx]
    return sel, msgspec.json.encode({"Records": sel})


_CONSOLE = """    selection:
        eventName: 'ConsoleLogin'
        responseElements.ConsoleLogin: 'Success'
    filter_main_ip:
        src_ip|expand: '%Legitimate_IP_Ranges%'
    condition: selection and not 1 of filter_main_*
"""


def test_src_ip_reads_cloudtrail_source_address(real: Path, tmp_path: Path) -> None:
    # real successful console logins (IAMUser and AssumedRole) from two different addresses
    recs, body = _ct(real, 40, 45)
    assert recs[0]["sourceIPAddress"] != recs[1]["sourceIPAddress"]
    rule = _rule(tmp_path, "aws", "cloudtrail", _CONSOLE)
    assert _hits(rule, "cloudtrail", body) == [0, 1]  # no values given: the filter holds nothing
    legit = {"Legitimate_IP_Ranges": [recs[0]["sourceIPAddress"]]}
    assert _hits(rule, "cloudtrail", body, legit) == [1]  # the listed address is excluded


def test_src_ip_own_field_still_read(real: Path, tmp_path: Path) -> None:
    # the mapping is one-to-many with the rule's own name first: a record carrying src_ip matches there
    recs, _ = _ct(real, 40)
    rec = dict(recs[0], src_ip="192.0.2.9")
    body = msgspec.json.encode({"Records": [rec]})
    rule = _rule(tmp_path, "aws", "cloudtrail", "    sel:\n        src_ip: '192.0.2.9'\n    condition: sel\n")
    assert _hits(rule, "cloudtrail", body) == [0]


def test_src_ip_reads_k8s_source_ips_and_github_actor_ip(real: Path, tmp_path: Path) -> None:
    k8s = (real / K8S).read_text().splitlines()
    first = json.loads(k8s[0])
    rule = _rule(tmp_path, "kubernetes", "audit",
                 f"    sel:\n        src_ip: '{first['sourceIPs'][0]}'\n    condition: sel\n")
    rows = _hits(rule, "k8s_audit", "\n".join(k8s).encode())
    expect = [i for i, line in enumerate(k8s) if first["sourceIPs"][0] in json.loads(line).get("sourceIPs", [])]
    assert rows == expect and 0 in rows
    gh = (real / GH).read_text().splitlines()
    ips = [(i, json.loads(line).get("actor_ip")) for i, line in enumerate(gh)]
    i, ip = next((i, ip) for i, ip in ips if ip)
    rule = _rule(tmp_path, "github", "audit", f"    sel:\n        src_ip: '{ip}'\n    condition: sel\n")
    assert _hits(rule, "github", "\n".join(gh).encode()) == [j for j, v in ips if v == ip]


def test_quoted_false_matches_json_boolean(real: Path, tmp_path: Path) -> None:
    # PutBucketVersioning record (real) turned into PutBucketPublicAccessBlock as S3 logs it
    recs, _ = _ct(real, 220)
    out = []
    for v in (False, True):
        conf = {"RestrictPublicBuckets": v, "BlockPublicPolicy": True, "BlockPublicAcls": True,
                "IgnorePublicAcls": True}
        out.append(dict(recs[0], eventName="PutBucketPublicAccessBlock", eventID=f"pab-{v}",
                        requestParameters={"bucketName": "b", "PublicAccessBlockConfiguration": conf}))
    body = msgspec.json.encode({"Records": out})
    rule = _rule(tmp_path, "aws", "cloudtrail", """    selection_event_name:
        eventName: 'PutBucketPublicAccessBlock'
    selection_weaken_restrict:
        requestParameters.PublicAccessBlockConfiguration.RestrictPublicBuckets: 'false'
    selection_weaken_acls:
        requestParameters.PublicAccessBlockConfiguration.BlockPublicAcls: 'false'
    condition: selection_event_name and 1 of selection_weaken_*
""")
    assert _hits(rule, "cloudtrail", body) == [0]


def test_console_login_without_mfa_any_case(real: Path, tmp_path: Path) -> None:
    # 40: MFAUsed No (match); 42: MFAUsed Yes; 43: failure with MFA
    _, body = _ct(real, 40, 42, 43)
    for value in ("'No'", "'NO'"):
        rule = _rule(tmp_path, "aws", "cloudtrail",
                     f"    selection:\n        eventName: 'ConsoleLogin'\n        additionalEventData.MFAUsed: {value}\n"
                     "    condition: selection\n")
        assert _hits(rule, "cloudtrail", body) == [0]


@pytest.mark.parametrize(("doc", "expected"), [
    ('{"Effect": "Allow", "Action": "*", "Resource": "*"}', True),
    ('{"Effect": "Deny", "Action": "*", "Resource": "*"}', False),
])
def test_inline_policy_contains_all(real: Path, tmp_path: Path, doc: str, expected: bool) -> None:
    recs, _ = _ct(real, 97)  # real PutUserPolicy (a Deny-all document); the document replaced
    rec = dict(recs[0], requestParameters=dict(recs[0]["requestParameters"], policyDocument=doc))
    body = msgspec.json.encode({"Records": [rec]})
    rule = _rule(tmp_path, "aws", "cloudtrail", """    selection:
        eventSource: iam.amazonaws.com
        eventName: [PutUserPolicy, PutRolePolicy, PutGroupPolicy]
        requestParameters.policyDocument|contains|all:
            - '"Effect": "Allow"'
            - '"Action": "*"'
            - '"Resource": "*"'
    condition: selection
""")
    assert _hits(rule, "cloudtrail", body) == ([0] if expected else [])


def test_k8s_response_code_numbers(real: Path, tmp_path: Path) -> None:
    lines = (real / K8S).read_text().splitlines()
    rule = _rule(tmp_path, "kubernetes", "audit",
                 "    selection:\n        responseStatus.code:\n            - 401\n            - 403\n"
                 "    condition: selection\n")
    expect = [i for i, line in enumerate(lines)
              if json.loads(line).get("responseStatus", {}).get("code") in (401, 403)]
    assert expect and _hits(rule, "k8s_audit", "\n".join(lines).encode()) == expect


# -- Sigma 1.x '| near' as a temporal correlation (SigmaHQ's 2021 Lambda created-or-invoked rule) --

_NEAR = """    selection1:
        eventSource: lambda.amazonaws.com
        eventName|startswith: CreateFunction
    selection2:
        eventSource: lambda.amazonaws.com
        eventName|startswith: Invoke
{timeframe}    condition: selection1 | near selection2
"""


def _near_fired(real: Path, tmp_path: Path, names_minutes: list[tuple[str, int]], timeframe: str) -> list[int]:
    from secpipe.detect.sigma.options import SigmaOptions
    from secpipe.detect.sigma.stage import SigmaStage

    recs, _ = _ct(real, 125)  # real lambda DeleteFunction record, renamed and re-timed
    rule = _rule(tmp_path, "aws", "cloudtrail", _NEAR.format(timeframe=timeframe))
    stage = SigmaStage("s", SigmaOptions(rules=[str(rule)]), clock=lambda: 1795946400.0)
    out = []
    for i, (name, minute) in enumerate(names_minutes):
        rec = dict(recs[0], eventName=name, eventID=f"near-{i}", eventTime=f"2026-11-29T{minute // 60:02d}:{minute % 60:02d}:00Z")
        res = stage.process(formats.get("cloudtrail").decode(msgspec.json.encode({"Records": [rec]}), "t").batches[0])
        assert len(res) <= 2  # the batch and at most the correlation's finding: the searches report nothing alone
        if len(res) == 2 and res[1].num_rows:
            out.append(i)
    return out


def test_near_loads_as_temporal_correlation(tmp_path: Path) -> None:
    rs = load_rules([_rule(tmp_path, "aws", "cloudtrail", _NEAR.format(timeframe="    timeframe: 10m\n"))])
    assert not rs.unsupported and len(rs.rules) == 2 and len(rs.correlations) == 1
    (corr,) = rs.correlations
    assert corr.type.name == "TEMPORAL" and corr.timespan.seconds == 600 and not corr.generate
    assert {r.reference for r in corr.rules} == {r.id for r in rs.rules}
    assert all(r.output is False for r in rs.rules)
    assert not any("Dangling" in w for r in rs.rules for w in r.warnings)


def test_near_fires_when_both_searches_match_within_the_window(real: Path, tmp_path: Path) -> None:
    tf = "    timeframe: 10m\n"
    assert _near_fired(real, tmp_path, [("CreateFunction20150331", 600), ("Invoke", 605)], tf) == [1]
    assert _near_fired(real, tmp_path, [("Invoke", 600), ("CreateFunction20150331", 603)], tf) == [1]  # unordered
    assert _near_fired(real, tmp_path, [("CreateFunction20150331", 600), ("CreateFunction20150331", 601)], tf) == []
    assert _near_fired(real, tmp_path, [("CreateFunction20150331", 600), ("Invoke", 660)], tf) == []  # 60 min apart


def test_near_without_timeframe_warns_of_the_default_window(tmp_path: Path) -> None:
    rs = load_rules([_rule(tmp_path, "aws", "cloudtrail", _NEAR.format(timeframe=""))])
    assert not rs.unsupported and rs.correlations[0].timespan.seconds == 86400
    assert any("near without timeframe" in w for w in rs.rules[0].warnings)


def test_near_naming_no_search_identifier_is_refused(tmp_path: Path) -> None:
    rs = load_rules([_rule(tmp_path, "aws", "cloudtrail", _NEAR.format(timeframe="").replace(
        "near selection2", "near selection9"))])
    assert not rs.rules and "selection9" in rs.unsupported[0].reason


# -- ATT&CK v19 tactic tags in published rules ------------------------------------------------

@pytest.mark.parametrize(("tags", "tactic"), [
    (["attack.defense-impairment", "attack.t1685"], ("TA0112", "Defense Impairment")),
    (["attack.stealth", "attack.t1078.004"], ("TA0005", "Stealth")),
    (["attack.defense_evasion", "attack.t1562"], ("TA0005", "Defense Evasion")),
    (["attack.Privilege.Escalation", "attack.T1548.001"], ("TA0004", "Privilege Escalation")),
])
def test_attack_tactics_of_published_tags(tags: list[str], tactic: tuple[str, str]) -> None:
    from secpipe.detect.sigma.finding import attacks_of

    (att,) = attacks_of(tags)
    assert (att["tactic"]["uid"], att["tactic"]["name"]) == tactic
    assert att["technique"]["uid"] == tags[1].split(".")[1].upper()[:5]


def test_github_audit_stream_finding_names_defense_impairment(real: Path, tmp_path: Path) -> None:
    import pyarrow as pa

    from secpipe.detect.sigma import findings

    lines = (real / GH).read_text().splitlines()
    line = json.dumps(dict(json.loads(lines[0]), action="audit_log_streaming.destroy"))  # real event, action set
    p = tmp_path / "gh.yml"
    p.write_text("title: GitHub audit log streaming changed\nid: 0b6f3c1e-6d0a-4d7e-9a51-14c2f0e8a002\nstatus: test\n"
                 "tags: [attack.defense-impairment, attack.t1685]\nlogsource: {product: github, service: audit}\n"
                 "level: high\ndetection:\n    selection:\n        action|startswith: 'audit_log_streaming'\n"
                 "    condition: selection\n")
    rs = load_rules([p])
    batch = formats.get("github").decode(line.encode(), "t").batches[0]
    (f,) = pa.Table.from_batches([findings(rs, batch, rs.matches(batch))]).to_pylist()
    assert f["severity_id"] == 4 and f["class_uid"] == 2004
    assert f["finding_info"]["attacks"][0]["tactic"] == {"uid": "TA0112", "name": "Defense Impairment"}


# -- one field in two spellings (SigmaHQ rules are camelCase; older ones lower-cased names) --------

def test_two_spellings_of_one_field_in_one_batch(real: Path, tmp_path: Path) -> None:
    # the SQL path packed the evidence with struct_pack, whose named arguments DuckDB compares
    # case-insensitively: eventName and eventname in one batch raised a BinderException
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    a.write_text("title: a\nid: 0b6f3c1e-6d0a-4d7e-9a51-14c2f0e8a0a1\nstatus: test\n"
                 "logsource: {product: aws, service: cloudtrail}\nlevel: low\ndetection:\n"
                 "    sel:\n        eventName|endswith: 'Login'\n    condition: sel\n")
    b.write_text("title: b\nid: 0b6f3c1e-6d0a-4d7e-9a51-14c2f0e8a0a2\nstatus: test\n"
                 "logsource: {product: aws, service: cloudtrail}\nlevel: low\ndetection:\n"
                 "    sel:\n        eventname: consolelogin\n        eventName: ConsoleLogin\n    condition: sel\n")
    recs = json.loads((real / CT).read_text())["Records"]
    logins = [i for i, r in enumerate(recs) if r.get("eventName") == "ConsoleLogin"]
    rs = load_rules([a, b])
    assert not rs.unsupported
    dec = formats.get("cloudtrail").decode((real / CT).read_bytes(), CT)
    got = []
    for sql_only in (False, True):
        engine = RuleSet(rs.rules, distinct_values=False) if sql_only else rs
        ms = [engine.matches(x) for x in dec.batches]
        got.append(sorted((r, e) for m in ms for r, e in zip(m.column("rule_id").to_pylist(),
                                                             m.column("evidence").to_pylist(), strict=True)))
        evs = [json.loads(e) for r, e in got[-1] if r.endswith("a2")]
        assert len(evs) == len(logins) and all(e == {"eventname": "ConsoleLogin", "eventName": "ConsoleLogin"}
                                               for e in evs)
    assert got[0] == got[1]


def test_sql_path_evidence_holds_only_the_rules_fields(real: Path, tmp_path: Path) -> None:
    # list-valued fields (sourceIPs) keep rules on the SQL path; its evidence packed every field of
    # every rule of the batch, so a finding showed other rules' fields (nulls) as its evidence
    lines = (real / K8S).read_text().splitlines()
    ip = json.loads(lines[0])["sourceIPs"][0]
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    a.write_text("title: a\nid: 0b6f3c1e-6d0a-4d7e-9a51-14c2f0e8a0b1\nstatus: test\n"
                 "logsource: {product: kubernetes, service: audit}\nlevel: low\ndetection:\n"
                 f"    sel:\n        sourceIPs: '{ip}'\n        verb: get\n    condition: sel\n")
    b.write_text("title: b\nid: 0b6f3c1e-6d0a-4d7e-9a51-14c2f0e8a0b2\nstatus: test\n"
                 "logsource: {product: kubernetes, service: audit}\nlevel: low\ndetection:\n"
                 "    sel:\n        sourceIPs|cidr: '0.0.0.0/0'\n        userAgent|contains: 'python'\n    condition: sel\n")
    rs = load_rules([a, b])
    dec = formats.get("k8s_audit").decode("\n".join(lines).encode(), K8S)
    own = {r.id: {"sourceIPs", "verb"} if r.title == "a" else {"sourceIPs", "userAgent"} for r in rs.rules}
    got = []
    for sql_only in (False, True):
        engine = RuleSet(rs.rules, distinct_values=False) if sql_only else rs
        pairs = sorted((row, rid, ev) for m in (engine.matches(x) for x in dec.batches)
                       for row, rid, ev in zip(m.column("row").to_pylist(), m.column("rule_id").to_pylist(),
                                               m.column("evidence").to_pylist(), strict=True))
        assert {rid for _, rid, _ in pairs} == set(own)  # both rules match real events
        assert all(set(json.loads(ev)) == own[rid] for _, rid, ev in pairs), pairs[:3]
        got.append(pairs)
    assert got[0] == got[1]
