"""Every Sigma value modifier and condition form, on hand-written events (json format).

Events are decoded by the real ``json`` format (raw_data = the record), the rule is compiled
and evaluated by the engine; expectations are written from the Sigma specification.
"""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import msgspec
import pytest

from secpipe import formats
from secpipe.detect.sigma import findings, load_rules

EVENTS = [
    {"id": 0, "cmd": "powershell.exe -enc SQBFAFgA", "user": "Alice", "path": "C:\\Windows\\System32\\cmd.exe",
     "ip": "10.1.2.3", "port": 443, "count": "7", "msg": "line one\nLine Two", "src": "alice", "dst": "alice"},
    {"id": 1, "cmd": "cmd.exe /c whoami", "user": "bob", "path": "/usr/bin/curl", "ip": "192.168.0.9",
     "port": 22, "count": "12", "msg": "nothing", "src": "bob", "dst": "carol", "nullish": None,
     "tags": ["red", "blue"], "obj": {"inner": {"leaf": "Deep"}}},
    {"id": 2, "cmd": "net user /add eve", "user": "EVE", "path": "a*b?c\\d", "ip": "2001:db8::1",
     "port": 8080, "msg": "aGVsbG8gd29ybGQ=", "src": "x", "items": [{"k": "v1"}, {"k": "v2"}]},
]


def _rule(detection: str, tmp_path: Path, name: str = "r.yml", extra: str = "") -> Path:
    text = textwrap.dedent("""\
        title: t
        id: 5f1a1111-2222-4333-8444-555566667777
        status: test
        logsource: {product: secpipe, service: json}
        level: high
        tags: [attack.execution, attack.t1059.001]
        detection:
        """) + textwrap.indent(textwrap.dedent(detection), "    ") + extra
    p = tmp_path / name
    p.write_text(text)
    return p


def _batch(events=EVENTS):
    body = b"\n".join(msgspec.json.encode(e) for e in events)
    dec = formats.get("json").decode(body, "test")
    assert not dec.dead and len(dec.batches) == 1
    return dec.batches[0]


def hits(detection: str, tmp_path: Path, **kw) -> list[int]:
    rs = load_rules([_rule(detection, tmp_path)], **kw)
    assert not rs.unsupported, rs.unsupported
    b = _batch()
    m = rs.matches(b)
    return sorted(set(m.column("row").to_pylist()))


CASES = {
    "plain_case_insensitive": ("sel: {user: alice}\ncondition: sel", [0]),
    "list_is_or": ("sel: {user: [alice, eve]}\ncondition: sel", [0, 2]),
    "wildcard_star": ("sel: {cmd: 'net*eve'}\ncondition: sel", [2]),
    "wildcard_question": ("sel: {user: 'b?b'}\ncondition: sel", [1]),
    "escaped_wildcards": ("sel: {path: 'a\\*b\\?c\\d'}\ncondition: sel", [2]),
    "contains": ("sel: {cmd|contains: WHOAMI}\ncondition: sel", [1]),
    "startswith": ("sel: {cmd|startswith: 'NET '}\ncondition: sel", [2]),
    "endswith": ("sel: {path|endswith: '\\cmd.exe'}\ncondition: sel", [0]),
    "contains_all": ("sel: {cmd|contains|all: [net, add]}\ncondition: sel", [2]),
    "contains_all_negative": ("sel: {cmd|contains|all: [net, whoami]}\ncondition: sel", []),
    "cased": ("sel: {user|cased: EVE}\ncondition: sel", [2]),
    "cased_negative": ("sel: {user|cased: eve}\ncondition: sel", []),
    "re": ("sel: {cmd|re: '^cmd\\.exe /c \\w+$'}\ncondition: sel", [1]),
    "re_case_sensitive": ("sel: {user|re: '^alice$'}\ncondition: sel", []),
    "re_i": ("sel: {user|re|i: '^alice$'}\ncondition: sel", [0]),
    "re_m": ("sel: {msg|re|m: '^Line Two$'}\ncondition: sel", [0]),
    "re_s": ("sel: {msg|re|s: 'one.Line'}\ncondition: sel", [0]),
    "cidr_v4": ("sel: {ip|cidr: 10.0.0.0/8}\ncondition: sel", [0]),
    "cidr_v4_list": ("sel: {ip|cidr: [192.168.0.0/16, 172.16.0.0/12]}\ncondition: sel", [1]),
    "cidr_v6": ("sel: {ip|cidr: '2001:db8::/32'}\ncondition: sel", [2]),
    "base64": ("sel: {msg|base64: hello world}\ncondition: sel", [2]),
    "base64offset_contains": ("sel: {msg|base64offset|contains: world}\ncondition: sel", [2]),
    "utf16le_base64": ("sel: {cmd|wide|base64offset|contains: IEX}\ncondition: sel", [0]),
    "utf16_base64": ("sel: {cmd|utf16|base64offset|contains: IEX}\ncondition: sel", []),
    "utf16be_base64": ("sel: {cmd|utf16be|base64offset|contains: IEX}\ncondition: sel", []),
    "utf16le_alias": ("sel: {cmd|utf16le|base64offset|contains: IEX}\ncondition: sel", [0]),
    "windash": ("sel: {cmd|windash|contains: ' -c '}\ncondition: sel", [1]),
    # the modifiers appendix: exists "only verifies the presence of a field, not its value, be it empty or null"
    "exists_true": ("sel: {nullish|exists: true}\ncondition: sel", [1]),
    "exists_false_json_null": ("sel: {nullish|exists: false}\ncondition: sel", [0, 2]),
    "exists_true_present": ("sel: {tags|exists: true}\ncondition: sel", [1]),
    "exists_false": ("sel: {count|exists: false}\ncondition: sel", [2]),
    "null": ("sel: {count: null}\ncondition: sel", [2]),
    "null_json_null": ("sel: {nullish: null}\ncondition: sel", [0, 1, 2]),
    "gt": ("sel: {port|gt: 443}\ncondition: sel", [2]),
    "gte": ("sel: {port|gte: 443}\ncondition: sel", [0, 2]),
    "lt": ("sel: {port|lt: 443}\ncondition: sel", [1]),
    "lte_string_number": ("sel: {count|lte: 7}\ncondition: sel", [0]),
    "number_equals": ("sel: {port: 22}\ncondition: sel", [1]),
    "fieldref": ("sel: {src|fieldref: dst}\ncondition: sel", [0]),
    "fieldref_startswith": ("sel: {user|fieldref|startswith: src}\ncondition: sel", [0, 1]),
    "keyword": ("keywords: ['whoami']\ncondition: keywords", [1]),
    "keyword_list": ("keywords: ['whoami', 'net user']\ncondition: keywords", [1, 2]),
    "keyword_wildcard": ("keywords: ['*powershell*-enc*']\ncondition: keywords", [0]),
    "nested_path": ("sel: {obj.inner.leaf: deep}\ncondition: sel", [1]),
    "array_any_element": ("sel: {tags: blue}\ncondition: sel", [1]),
    "array_of_objects": ("sel: {items.k: v2}\ncondition: sel", [2]),
    "and": ("a: {user: bob}\nb: {port: 22}\ncondition: a and b", [1]),
    "or": ("a: {user: bob}\nb: {port: 443}\ncondition: a or b", [0, 1]),
    "not": ("a: {user: bob}\ncondition: not a", [0, 2]),
    "not_missing_field": ("a: {count: 7}\ncondition: not a", [1, 2]),
    "parentheses": ("a: {user: bob}\nb: {port: 443}\nc: {ip|cidr: 10.0.0.0/8}\ncondition: (a or b) and not c", [1]),
    "one_of_pattern": ("sel_a: {user: bob}\nsel_b: {user: eve}\nother: {user: alice}\ncondition: 1 of sel_* and not other", [1, 2]),
    "all_of_pattern": ("sel_a: {user: bob}\nsel_b: {port: 22}\nother: {user: alice}\ncondition: all of sel_* and not other", [1]),
    "one_of_them": ("a: {user: bob}\nb: {user: eve}\ncondition: 1 of them", [1, 2]),
    "all_of_them": ("a: {user: bob}\nb: {port: 22}\ncondition: all of them", [1]),
    "any_of_them": ("a: {user: bob}\nb: {port: 8080}\ncondition: any of them", [1, 2]),
    "map_list_is_or": ("sel:\n  - {user: bob}\n  - {port: 8080}\ncondition: sel", [1, 2]),
    "ocsf_field": ("sel: {metadata.log_name: json, user: eve}\ncondition: sel", [2]),
    "star_matches_present": ("sel: {count: '*'}\ncondition: sel", [0, 1]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_language(name: str, tmp_path: Path) -> None:
    detection, expected = CASES[name]
    assert hits(detection, tmp_path) == expected


def test_expand_placeholder(tmp_path: Path) -> None:
    det = "sel: {user|expand: '%admins%'}\ncondition: sel"
    assert hits(det, tmp_path, placeholders={"admins": ["alice", "eve"]}) == [0, 2]
    # Without values the placeholder is an empty value list (Sigma: expansion is the pipeline's
    # job): the rule loads with a note, the selection matches nothing and a filter on it
    # excludes nothing.
    rs = load_rules([_rule(det, tmp_path)])
    assert not rs.unsupported and "%admins%" in rs.rules[0].warnings[0]
    assert hits(det, tmp_path) == []
    assert hits("sel: {user: [alice, bob]}\nflt: {user|expand: '%admins%'}\ncondition: sel and not flt",
                tmp_path) == [0, 1]


def test_field_mapping_pipeline(tmp_path: Path) -> None:
    pipe = tmp_path / "map.yml"
    pipe.write_text("fieldmappings:\n  UserName: user\n")
    assert hits("sel: {UserName: bob}\ncondition: sel", tmp_path, pipelines=[str(pipe)]) == [1]
    full = tmp_path / "pipe.yml"
    full.write_text("name: p\npriority: 20\ntransformations:\n  - id: m\n    type: field_name_mapping\n    mapping: {Who: user}\n")
    assert hits("sel: {Who: eve}\ncondition: sel", tmp_path, pipelines=[str(full)]) == [2]


def test_base64_values_are_the_encoding(tmp_path: Path) -> None:
    assert base64.b64encode(b"hello world").decode() == EVENTS[2]["msg"]


def test_unsupported_reasons(tmp_path: Path) -> None:
    look = _rule("sel: {user|re: '(?<=a)b'}\ncondition: sel", tmp_path, "look.yml")
    win = tmp_path / "win.yml"
    win.write_text(_rule("sel: {user: a}\ncondition: sel", tmp_path).read_text().replace(
        "{product: secpipe, service: json}", "{product: windows, category: process_creation}"))
    rs = load_rules([look, win])
    reasons = {Path(u.rule).name: u.reason for u in rs.unsupported}
    assert "(?<=" in reasons["look.yml"]
    # a product with no dedicated source is no error: the rule runs on json-format events
    (rule,) = rs.rules
    assert rule.formats == ("json",) and "windows" in rule.warnings[0]


def test_routing_keeps_other_formats_out(tmp_path: Path) -> None:
    p = _rule("sel: {user: bob}\ncondition: sel", tmp_path)
    p.write_text(p.read_text().replace("{product: secpipe, service: json}", "{product: aws, service: cloudtrail}"))
    rs = load_rules([p])
    assert rs.matches(_batch()).num_rows == 0


def test_finding_fields(tmp_path: Path) -> None:
    rs = load_rules([_rule("sel: {user: bob}\ncondition: sel", tmp_path)])
    b = _batch()
    fb = findings(rs, b, rs.matches(b))
    row = fb.to_pylist()[0]
    assert row["class_uid"] == 2004 and row["severity_id"] == 4
    assert row["finding_info"]["analytic"]["uid"] == "5f1a1111-2222-4333-8444-555566667777"
    assert row["finding_info"]["related_events"] == [{"uid": b.column("metadata").field("uid")[1].as_py()}]
    assert row["time"] == b.column("time")[1].as_py()
    assert row["attacks"][0]["technique"]["uid"] == "T1059"
    assert row["attacks"][0]["sub_technique"]["uid"] == "T1059.001"
    assert row["attacks"][0]["tactic"]["name"] == "Execution"
    assert msgspec.json.decode(row["evidences"][0]["data"]) == {"user": "bob"}
    again = findings(rs, b, rs.matches(b))
    assert again.column("metadata").field("uid").to_pylist() == fb.column("metadata").field("uid").to_pylist()
