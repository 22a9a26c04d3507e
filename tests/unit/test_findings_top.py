"""``_findings.decode_top``: the records' top level (``unmapped``, raw fields) walked natively
gives the same columns as msgspec's path (each record's top-level map, ``unmapped_json``,
``raw_json_col``), on the real OPA, Falco and SonarQube samples (replicated past the native
path's minimum batch, and mutated: unknown keys of every JSON type, JSON null, escaped and
duplicate keys, non-ASCII text) and on generated records (hypothesis).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _findings, opa, sonarqube
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded

pytestmark = pytest.mark.skipif(not _findings._fast.available(), reason="the native extension is not built")

OPA = "opa-docs/management-decision-logs.example1.json"
FALCO = "falco/test/output_files/single_rule_with_cat_write.json"
SONAR = Path(__file__).resolve().parents[1] / "cases" / "sonarqube"


def _both(fmt: str, doc: bytes, monkeypatch: pytest.MonkeyPatch, *, walked: bool = True) -> Decoded:
    """Decode ``doc`` with the native top level and with msgspec's path; assert they agree
    (``walked``: the first did take the native path)."""
    from secpipe import formats

    calls: list[int] = []
    with monkeypatch.context() as m:
        m.setattr(_findings.TopLevel, "from_tops", _counted(_findings.TopLevel.from_tops, calls))
        native = formats.get(fmt).decode(doc, "src")
    assert (not calls) is walked
    with monkeypatch.context() as m:
        m.setattr(_findings, "_TOP_NATIVE_MIN", 10**9)
        reference = formats.get(fmt).decode(doc, "src")
    assert_same_decoded(native, reference, fmt)
    return native


def _counted(fn: Any, calls: list[int]) -> Any:
    def wrapper(*a: Any) -> Any:
        calls.append(1)
        return fn(*a)

    return staticmethod(wrapper)


def _mutations(rec: dict[str, Any], i: int) -> dict[str, Any]:
    r = copy.deepcopy(rec)
    r[f"zz_extra{i % 3}"] = [{"a": i}, None, "é\u2028", 1.5, True][i % 5]
    if i % 4 == 0:
        r["aa_first"] = {"nested": {"deep": [i, "x"]}}
    if i % 7 == 0:
        r["input"] = None
    if i % 5 == 0:
        r["result"] = "allow"
    return r


def test_opa_real_replicated(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    protos = json.loads((real / OPA).read_text())
    recs = [_mutations({**protos[i % len(protos)], "decision_id": f"id-{i}"}, i) for i in range(40)]
    res = _both("opa", "\n".join(json.dumps(r, ensure_ascii=i % 2 == 0) for i, r in enumerate(recs)).encode(), monkeypatch)
    assert sum(b.num_rows for b in res.batches) == 40
    unmapped = res.batches[0].column("unmapped").to_pylist()
    assert json.loads(unmapped[0])["zz_extra0"] == {"a": 0}  # the mutation is there, not only null columns


def test_opa_declined_records(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An escaped or duplicate key: the walker declines the batch and msgspec's path maps it."""
    protos = json.loads((real / OPA).read_text())
    lines = [json.dumps({**protos[0], "decision_id": f"id-{i}"}) for i in range(20)]
    lines[3] = lines[3][:-1] + ', "x\\u0079": 1}'
    lines[5] = lines[5][:-1] + ', "dup": 1, "dup": 2}'
    lines[7] = '{"decision_id": 5, "path": "p"}'  # a record of the wrong type: dead-lettered both ways
    res = _both("opa", "\n".join(lines).encode(), monkeypatch, walked=False)
    assert len(res.dead) == 1


def test_falco_real_replicated(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    protos = [json.loads(x) for x in (real / FALCO).read_text().splitlines() if x.strip()]
    recs = []
    for i in range(30):
        a = copy.deepcopy(protos[i % len(protos)])
        a["output_fields"]["proc.pid"] = i
        if i % 6 == 0:
            a["output_fields"] = None
        if i % 4 == 1:
            a["hostname_extra"] = {"k": [1, {"z": None}]}
        recs.append(a)
    res = _both("falco", "\n".join(map(json.dumps, recs)).encode(), monkeypatch)
    assert sum(b.num_rows for b in res.batches) == 30


@pytest.mark.parametrize("name", ["issues_search.json", "hotspots_search.json"])
def test_sonarqube_real_replicated(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    page = json.loads((SONAR / name).read_text())
    key = "issues" if "issues" in page else "hotspots"
    items = page[key]
    page[key] = [_mutations({**items[i % len(items)], "key": f"K{i}"}, i) for i in range(25)]
    res = _both("sonarqube", json.dumps(page, indent=1).encode(), monkeypatch)
    assert sum(b.num_rows for b in res.batches) == 25


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_KEYS = st.sampled_from(["input", "result", "labels", "extra", "é", "a b", "Z", "decision_id", "path", "zz"]) | st.text(max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(_KEYS, _JSON, max_size=6), min_size=16, max_size=24))
def test_top_level_generated(records: list[dict[str, Any]]) -> None:
    """Generated records: the native top level equals msgspec's (records msgspec cannot type are skipped)."""
    raws = [msgspec.json.encode(r) for r in records]
    locs = list(range(len(raws)))
    try:
        msgspec.json.decode(b"[" + b",".join(raws) + b"]", type=list[opa._Decision])
    except msgspec.DecodeError:
        return  # not typed: both take msgspec's path
    typed, top = _findings.decode_top(raws, locs, opa._Decision, opa._MAPPED, ("input", "result"), Decoded(), "s", "opa", "x")
    ref_typed = _findings.decode_typed(raws, locs, opa._Decision, Decoded(), "s", "opa", "x")
    ref = _findings.TopLevel.from_tops(ref_typed.tops, opa._MAPPED, ("input", "result"))
    assert top.unmapped.equals(ref.unmapped)
    assert top.raw.keys() == ref.raw.keys()
    for k in ref.raw:
        assert top.raw[k].equals(ref.raw[k]), k
    assert typed.recs == ref_typed.recs


_WORDS = st.sampled_from([None, "", "OPEN", "closed", "FALSE-POSITIVE", "BLOCKER", "high", "MINOR", "INFO", "SAFE", "x"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.builds(
    sonarqube._Issue, severity=_WORDS, vulnerabilityProbability=_WORDS, status=_WORDS, issueStatus=_WORDS,
    resolution=_WORDS, component=st.sampled_from([None, "", "p", "p:a/b.java", "p:q:c.py", "q:d", "p:"]),
    project=st.sampled_from([None, "", "p", "p:q"]),
    impacts=st.none() | st.lists(st.builds(sonarqube._Impact, severity=_WORDS), max_size=2),
), max_size=30))  # fmt: skip
def test_sonarqube_per_distinct(iss: list[Any]) -> None:
    """SonarQube's severity, status and file computed once per distinct key equal the per-issue functions."""
    assert sonarqube._per_issue(iss, sonarqube._severity, sonarqube._severity_key) == [sonarqube._severity(i) for i in iss]
    assert sonarqube._per_issue(iss, sonarqube._status, sonarqube._status_key) == [sonarqube._status(i) for i in iss]
    paths = {"p:a/b.java": "a/b.java", "q:d": ""}
    for i in iss:
        f, name = sonarqube._file((i.component, i.project), paths)
        p = paths.get(i.component or "")
        want = sonarqube._file_of(i.component, i.project) if p is None else p or None
        assert (f, name) == (want, want.rsplit("/", 1)[-1] if want else None)
