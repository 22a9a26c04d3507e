"""The distinct-value fast path (detect/sigma/vector.py) against the SQL path (the reference).

Every language case, the SigmaHQ CloudTrail rules (plus variants that only change values) on
the real panther-analysis CloudTrail sample, a tiny value cache and a multi-format batch must
give the same (row, rule) matches with ``distinct_values`` on and off.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pytest
import yaml

from secpipe import formats
from secpipe.detect.sigma import findings, load_rules, vector
from secpipe.detect.sigma.engine import RuleSet
from tests.unit.test_sigma_language import CASES, _batch, _rule

AWS = "sigmahq-sigma/rules/cloud/aws/cloudtrail"
CT = "panther-analysis/extracted/cloudtrail.json"


def _pairs(rs: RuleSet, batch: pa.RecordBatch | pa.Table) -> set[tuple[int, str]]:
    m = rs.matches(batch)
    out = set(zip(m.column("row").to_pylist(), m.column("rule_id").to_pylist(), strict=True))
    assert len(out) == m.num_rows  # no duplicate (row, rule)
    return out


def _both(rs: RuleSet) -> tuple[RuleSet, RuleSet]:
    return rs, RuleSet(rs.rules, distinct_values=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_language_case_same_on_both_paths(name: str, tmp_path: Path) -> None:
    fast, sql = _both(load_rules([_rule(CASES[name][0], tmp_path)]))
    b = _batch()
    assert _pairs(fast, b) == _pairs(sql, b)
    assert sorted({r for r, _ in _pairs(fast, b)}) == CASES[name][1]


def test_scalar_rules_take_the_fast_path(tmp_path: Path) -> None:
    rs = load_rules([_rule("sel: {user: bob}\ncondition: sel", tmp_path)])
    assert rs._vector.supports(rs.rules[0], set())
    assert not rs._vector.supports(rs.rules[0], {"user"})  # a list field in this batch: SQL path
    ref = load_rules([_rule("sel: {src|fieldref: dst}\ncondition: sel", tmp_path, "f.yml")])
    assert not ref._vector.supports(ref.rules[0], set())  # field references: SQL path


def _variants(src: Path, out: Path, n: int) -> None:
    """Each SigmaHQ rule plus ``n`` variants with other eventName/eventSource values."""
    r = random.Random(3)
    names = ["ConsoleLogin", "GetObject", "AssumeRole", "PutBucketPolicy", "CreateUser", "DeleteTrail",
             "StopLogging", "CreateAccessKey", "RunInstances", "PutBucketVersioning", "UpdateLoginProfile"]
    sources = ["s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com", "ec2.amazonaws.com",
               "signin.amazonaws.com", "cloudtrail.amazonaws.com"]

    def mutate(det: object) -> object:
        if isinstance(det, dict):
            return {k: (r.sample(names, r.randint(1, 3)) if k.split("|")[0] == "eventName" else
                        r.choice(sources) if k.split("|")[0] == "eventSource" else mutate(v)) for k, v in det.items()}
        if isinstance(det, list):
            return [mutate(x) for x in det]
        return det

    for k, p in enumerate(sorted(src.glob("*.yml"))):
        doc = yaml.safe_load(p.read_text())
        (out / p.name).write_text(yaml.safe_dump(doc))
        for v in range(n):
            d = dict(doc, id=f"00000000-0000-4000-8000-{k:06d}{v:06d}", detection=mutate(doc["detection"]))
            (out / f"v{v}_{p.name}").write_text(yaml.safe_dump(d))


def _cloudtrail(real: Path) -> list[pa.RecordBatch]:
    recs = json.loads((real / CT).read_text())["Records"]
    dec = formats.get("cloudtrail").decode(msgspec.json.encode({"Records": recs}), "test")
    assert not dec.dead
    return dec.batches


def test_sigmahq_cloudtrail_same_on_both_paths(real: Path, tmp_path: Path) -> None:
    _variants(real / AWS, tmp_path, 3)
    fast, sql = _both(load_rules([tmp_path]))
    assert len(fast.rules) >= 100 and not fast.unsupported
    batches = _cloudtrail(real)
    total = 0
    for _ in range(2):  # the second pass reads the value cache
        for b in batches:
            got = _pairs(fast, b)
            assert got == _pairs(sql, b)
            total += len(got)
    assert total > 0
    # findings built from fast-path matches carry the rule's own fields as evidence
    b = max(batches, key=lambda x: x.num_rows)
    m = fast.matches(b)
    fb = findings(fast, b, m)
    assert fb is not None and 0 < fb.num_rows <= m.num_rows  # duplicate events give one finding
    for rid, ev in zip(m.column("rule_id").to_pylist(), m.column("evidence").to_pylist(), strict=True):
        assert set(msgspec.json.decode(ev)) <= set(fast.by_id[rid].compiled.fields)


@pytest.mark.timeout(900)  # CPU-heavy (tens of CPU-seconds): a loaded CI host stretched it past the default 300 s
def test_tiny_value_cache_starts_over(real: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector, "CACHE_VALUES", 5)
    monkeypatch.setattr(vector, "EVAL_CELLS", 200)  # leaf truths computed in slices of a few values
    _variants(real / AWS, tmp_path, 1)
    fast, sql = _both(load_rules([tmp_path]))
    for b in _cloudtrail(real) * 2:
        assert _pairs(fast, b) == _pairs(sql, b)


def test_multi_format_batch(tmp_path: Path) -> None:
    """Rows of two log names in one batch: a rule routed to one format only sees its rows."""
    b = pa.Table.from_batches([_batch()])
    meta = b.column("metadata").combine_chunks()
    names = pa.array(["json", "other", "json"])
    fields = [meta.field(i) if meta.type.field(i).name != "log_name" else names for i in range(meta.type.num_fields)]
    b = b.set_column(b.schema.get_field_index("metadata"), "metadata",
                     pa.StructArray.from_arrays(fields, fields=list(meta.type)))
    p = _rule("sel: {user: [alice, bob, eve]}\ncondition: sel", tmp_path)
    fast, sql = _both(load_rules([p]))
    assert _pairs(fast, b) == _pairs(sql, b)
    assert sorted(r for r, _ in _pairs(fast, b)) == [0, 2]


def test_parse_skeletons() -> None:
    assert vector.parse("\x020\x02") == ("leaf", 0)
    assert vector.parse("((\x020\x02 OR \x021\x02) AND (NOT \x05\x022\x02\x06))") == \
        ("and", [("or", [("leaf", 0), ("leaf", 1)]), ("not", ("leaf", 2))])
    assert vector.parse("FALSE") == ("false",)
    with pytest.raises(ValueError, match="mixed AND/OR"):
        vector.parse("(\x020\x02 OR \x021\x02 AND \x022\x02)")
    with pytest.raises(ValueError, match="unexpected shape"):
        vector.parse("(\x020\x02 XOR \x021\x02)")
    t = vector.parse("((\x020\x02 OR \x021\x02) AND (NOT \x05\x022\x02\x06))")
    cols = [np.array([1, 0, 1, 0], bool), np.array([0, 1, 1, 0], bool), np.array([0, 0, 1, 1], bool)]
    assert vector.evaluate(t, lambda i: cols[i], 4).tolist() == [True, True, False, False]


def test_evaluate3_unknown_leaves() -> None:
    t = vector.parse("((\x020\x02 AND \x021\x02) OR (NOT \x05\x022\x02\x06))")
    known = {0: np.array([1, 1, 0, 0], bool), 2: np.array([1, 1, 1, 0], bool)}
    maybe, sure = vector.evaluate3(t, lambda i: known.get(i), 4)
    assert maybe.tolist() == [True, True, False, True]  # leaf 1 unknown: rows 0-1 may match
    assert sure.tolist() == [False, False, False, True]  # row 3: NOT leaf 2 holds whatever leaf 1 is


def _ct(name: str, params: object) -> dict:
    return {"eventVersion": "1.08", "eventTime": "2024-01-02T03:04:05Z", "eventSource": "s3.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "accountId": "1"},
            "eventID": f"id-{name}-{json.dumps(params)}", "requestParameters": params}


def test_native_prefilter_with_list_fields(tmp_path: Path) -> None:
    """eventName (a native column) narrows the rows read from JSON; a path crossing an array in
    those rows is still a list field (any element matches) on both paths."""
    recs = [_ct("RunInstances", {"items": [{"k": "v1"}, {"k": "v2"}]}), _ct("GetObject", {"items": {"k": "v2"}}),
            _ct("GetObject", {"items": [{"k": "v0"}, {"k": "v2"}]}), _ct("GetObject", {"items": {"k": "v1"}}),
            _ct("DeleteBucket", {"items": {"k": "v1"}})]
    dec = formats.get("cloudtrail").decode(msgspec.json.encode({"Records": recs}), "test")
    assert not dec.dead and len(dec.batches) == 1
    b = dec.batches[0]
    head = "title: t\nstatus: test\nlogsource: {product: aws, service: cloudtrail}\nlevel: low\n"
    rules = {"get": ("GetObject", "v2", [1, 2]), "run": ("RunInstances", "v1", [0]), "del": ("DeleteBucket", "v2", [])}
    for i, (key, (name, value, _)) in enumerate(rules.items()):
        (tmp_path / f"{key}.yml").write_text(
            head + f"id: 00000000-0000-4000-8000-00000000000{i}\n"
            f"detection:\n  sel: {{eventName: {name}, requestParameters.items.k: {value}}}\n  condition: sel\n")
    fast, sql = _both(load_rules([tmp_path]))
    got = _pairs(fast, b)
    assert got == _pairs(sql, b)
    for i, (_, _, rows) in enumerate(rules.values()):
        assert sorted(r for r, rid in got if rid.endswith(f"0{i}")) == rows


def test_threads_share_the_value_cache(real: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent batches on one rule set (the cache restarting all the time) match as the SQL path."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(vector, "CACHE_VALUES", 7)
    _variants(real / AWS, tmp_path, 1)
    fast, sql = _both(load_rules([tmp_path]))
    batches = _cloudtrail(real) * 3
    want = [_pairs(sql, b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: _pairs(fast, b), batches))
    assert got == want


@pytest.mark.parametrize(("rules", "sample", "fmt"), [
    ("sigmahq-sigma/rules/application/kubernetes", "panther-analysis/extracted/k8s_audit.jsonl", "k8s_audit"),
    ("sigmahq-sigma/rules/application/github", "panther-analysis/extracted/github_audit.jsonl", "github"),
    ("sigmahq-sigma/rules/cloud", "panther-analysis/extracted/cloudtrail.json", "cloudtrail"),
])
def test_sigmahq_rules_on_their_samples_same_on_both_paths(real: Path, rules: str, sample: str, fmt: str) -> None:
    fast, sql = _both(load_rules([real / rules]))
    assert fast.rules and not fast.unsupported
    dec = formats.get(fmt).decode((real / sample).read_bytes(), "test")
    assert dec.batches
    found = 0
    for b in dec.batches:
        got = _pairs(fast, b)
        assert got == _pairs(sql, b)
        found += len(got)
    assert found > 0
