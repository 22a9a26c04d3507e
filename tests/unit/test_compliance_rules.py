"""Every shipped compliance control against true and false positives from the real samples.

Cases live in ``tests/rules/compliance/cases.yml`` (expectations written by reading the rule and
the event). Each sample is decoded by the real secpipe format and the packs are evaluated
by the Sigma engine over the whole sample; the selected records must (or must not) be in
the control's matches.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from secpipe.detect.compliance.catalog import load_controls
from secpipe.detect.compliance.evaluate import evaluate_batches
from secpipe.formats import get
from secpipe.formats.base import split_json_records, split_lines

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "rules" / "compliance" / "cases.yml").read_text())
CONTROLS = load_controls()


def _uids(batches) -> list[str]:
    return [u for b in batches for u in b.column("metadata").field("uid").to_pylist()]


def _records(data: bytes, fmt: str) -> list[bytes]:
    if fmt == "cloudtrail":
        raws, _, dead = split_json_records(data, "t", fmt, envelope="Records")
        assert not dead
        return raws
    return [line for _, line in split_lines(data)]


def _uid_of(raw: bytes, fmt: str) -> str:
    doc = b'{"Records":[' + raw + b"]}" if fmt == "cloudtrail" else raw
    dec = get(fmt).decode(doc, "t")
    assert not dec.dead, dec.dead
    (uid,) = _uids(dec.batches)
    return uid


def _by_vuln(batches, ids: list[str]) -> list[str]:
    out = []
    for b in batches:
        if b.column("class_uid")[0].as_py() != 2002:
            continue
        for row in b.select(["metadata", "vulnerabilities"]).to_pylist():
            if row["vulnerabilities"][0]["cve"]["uid"] in ids:
                out.append(row["metadata"]["uid"])
    return out


def _expected(case, real: Path, data: bytes, batches) -> tuple[list[str], list[str]]:
    fmt = case["format"]
    match, no_match = case.get("match", []), case.get("no_match", [])
    if "select_rule" in case:
        labels = [json.loads(x) for x in (real / case["sample"].replace(".jsonl", ".labels.jsonl")).read_text().splitlines()]
        recs = _records(data, fmt)
        picked = [(i, lab["expected_result"]) for i, lab in enumerate(labels) if lab["rule_id"] == case["select_rule"]]
        assert picked and any(t for _, t in picked) and not all(t for _, t in picked)
        return [_uid_of(recs[i], fmt) for i, t in picked if t], [_uid_of(recs[i], fmt) for i, t in picked if not t]
    if match == "all":
        return _uids(batches), []
    if match == "none":
        return [], _uids(batches)
    if case.get("select_vuln"):
        return _by_vuln(batches, match), _by_vuln(batches, no_match)
    recs = _records(data, fmt)
    return [_uid_of(recs[i], fmt) for i in match], [_uid_of(recs[i], fmt) for i in no_match]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['control']}:{Path(c['sample']).name}" for c in CASES])
def test_control_on_real_samples(case, real):
    data = (real / case["sample"]).read_bytes()
    dec = get(case["format"]).decode(data, case["sample"])
    assert dec.batches, f"{case['sample']} decoded to nothing: {dec.dead[:1]}"
    tps, fps = _expected(case, real, data, dec.batches)
    assert tps or fps
    matched = evaluate_batches(CONTROLS, dec.batches).get(case["control"], set())
    assert set(tps) <= matched, f"missed true positives: {sorted(set(tps) - matched)}"
    assert not set(fps) & matched, f"false positives: {sorted(set(fps) & matched)}"


def test_every_control_has_true_and_false_positives():
    have_tp = {c["control"] for c in CASES if c.get("match") not in (None, [], "none") or "select_rule" in c}
    have_fp = {c["control"] for c in CASES if c.get("no_match") or c.get("match") == "none" or "select_rule" in c}
    ids = {c.id for c in CONTROLS}
    assert ids <= have_tp, f"controls without a true positive: {sorted(ids - have_tp)}"
    assert ids <= have_fp, f"controls without a false positive: {sorted(ids - have_fp)}"


def test_cases_reference_only_shipped_controls():
    assert {c["control"] for c in CASES} <= {c.id for c in CONTROLS}


def _maker():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "rules" / "compliance" / "make_ruletests.py"
    spec = importlib.util.spec_from_file_location("make_ruletests", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, path.with_name("ruletests.yml")


def test_rules_test_file_is_current_and_passes(real):
    """``secpipe rules test tests/rules/compliance`` (the Sigma helper's format) passes, and its
    inline events are exactly the records cases.yml selects from the real samples."""
    from secpipe.detect.sigma.ruletest import run_tests

    mod, path = _maker()
    assert path.read_text() == mod.render(real), "run python tests/rules/compliance/make_ruletests.py"
    results = run_tests([path])
    assert len(results) == len(CASES)
    assert [r.errors for r in results if not r.passed] == []
