"""SARIF decoded with the native walker (``_fast``) against the msgspec path.

The contract (``formats/_fast.py``): both paths give the same batches and the same dead
letters. Compared on the real samples (the sarif-sdk converter outputs, Snyk Code and Trivy
SARIF logs), on documents built the way the benchmark
builds them, and on documents whose records are mutated: every field the mapping reads given
each JSON type, null, empty or removed; extra, escaped, non-ASCII and duplicated keys;
escapes in strings. A mutated record sits among regular ones (an irregular record sends its
whole run to the msgspec path). Compared with ``tests/unit/native_support.py``.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _fast
from tests.unit.native_support import same_both_ways as _same

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def walked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each native extraction applied (True) or sent its records to msgspec (False)."""
    seen: list[bool] = []
    extract = _fast.extract

    def spy(raws: list[bytes], spec: _fast.Spec, aside: tuple[str, str] | None = None) -> _fast.Columns | None:
        cols = extract(raws, spec, aside)
        seen.append(cols is not None)
        return cols

    monkeypatch.setattr(_fast, "extract", spy)
    return seen


def _bench() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        import formats_scanners_bench
    finally:
        sys.path.remove(str(BENCH))
    return formats_scanners_bench


# ---------------------------------------------------------------------------------------
# SARIF
# ---------------------------------------------------------------------------------------


def _sarif_files(real: Path) -> list[Path]:
    return [*sorted((real / "sarif-sdk").rglob("*.sarif")),
            *sorted((real / "snyk-to-html").glob("test-code-*.json")), real / "trivy/sarif/alpine-310.sarif.golden"]  # fmt: skip


def test_sarif_real_samples_same_both_ways(real: Path, monkeypatch: pytest.MonkeyPatch, walked: list[bool]) -> None:
    rows = 0
    files = _sarif_files(real)
    assert len(files) >= 16
    for p in files:
        rows += sum(b.num_rows for b in _same("sarif", p.read_bytes(), monkeypatch, p).batches)
    assert rows > 300
    assert walked.count(True) >= 12  # the native path did run (not only the fallback)


def test_sarif_bench_shaped_logs_same_both_ways(monkeypatch: pytest.MonkeyPatch, walked: list[bool]) -> None:
    for doc in _bench().gen_sarif(3000):
        _same("sarif", doc, monkeypatch, "bench")
    assert walked and all(walked)


#: values a mutated SARIF result field takes (each JSON type, null, empty, edge values).
_ANY: list[Any] = [None, "", "x", "CVE-2024-1234", "ghsa-abcd-efgh", "é\\\"\n\u2028", 0, 1, -1, 2**40, 2**70, 1.5, True,
                   [], [1], ["a"], [{}], {}, {"a": "b"}, {"text": "t"}]  # fmt: skip
_SARIF_FIELDS: dict[str, list[Any]] = {
    "ruleId": _ANY,
    "ruleIndex": _ANY,
    "rule": [*_ANY, {"id": "r"}, {"index": 0}, {"index": 99}, {"id": 3}, {"toolComponent": {"index": 0}},
             {"toolComponent": {"index": -1}}, {"toolComponent": {"index": "0"}}, {"toolComponent": None}],
    "level": [*_ANY, "error", "note", "none", "warning", "ERROR"],
    "kind": _ANY,
    "message": [*_ANY, {"id": "default", "arguments": ["a", 1, None]}, {"text": "{0} and {1} {7}", "arguments": ["a"]},
                {"text": 5}, {"id": 1}, {"arguments": "x"}, {"text": "t", "markdown": "m", "extra": [1]}],
    "locations": [*_ANY, [None], [{"physicalLocation": None}], [{"physicalLocation": {}}],
                  [{"physicalLocation": {"artifactLocation": {"index": 0}, "region": {"startLine": 3, "endColumn": 9}}}],
                  [{"physicalLocation": {"artifactLocation": {"index": 99}}}],
                  [{"physicalLocation": {"artifactLocation": {"uri": "", "index": 0}}}],
                  [{"physicalLocation": {"artifactLocation": {"uri": "a/b/c.py"}, "region": {"startLine": "3"}}}],
                  [{"physicalLocation": {"region": {"startLine": 2**40}}}], [{"physicalLocation": {"region": {"endLine": 2**70}}}],
                  [{"physicalLocation": {"artifactLocation": {"index": 2**70}}}],
                  [{"physicalLocation": {"artifactLocation": {"uri": "x"}}}, {"physicalLocation": {"artifactLocation": {"uri": "y"}}}]],
    "fingerprints": [*_ANY, {"a": ""}, {"a": "1", "b": "2"}, {"a": 1}, {"é": "ü"}],
    "partialFingerprints": [*_ANY, {"p": ""}, {"p/v1": "x", "q": "y"}, {"p": None}],
    "suppressions": [*_ANY, [{"kind": "inSource"}], [None]],
    "baselineState": [*_ANY, "absent", "new", "unchanged"],
    "properties": [*_ANY, {"security-severity": "9.1"}, {"security-severity": 5}, {"security-severity": "high"},
                   {"nested": {"security-severity": "7.0"}}, {"tags": ["a"]}],
    "codeFlows": _ANY,
    "guid": _ANY,
    "fixes": _ANY,
    "extraKey": _ANY,
    "zzExtra": _ANY,
}


def _mutations(rng: random.Random, result: dict[str, Any]) -> list[tuple[str, bytes | None]]:
    """(what, compact JSON of the mutated result) -- bytes for edits JSON cannot express
    (escaped or duplicated keys)."""
    out: list[tuple[str, bytes | None]] = []
    for key, values in _SARIF_FIELDS.items():
        for v in values:
            r = dict(result)
            r[key] = v
            out.append((f"{key}={v!r}", json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode()))
        if key in result:
            r = dict(result)
            del r[key]
            out.append((f"-{key}", json.dumps(r, separators=(",", ":")).encode()))
    text = json.dumps(result, separators=(",", ":"))
    for key in ("ruleId", "level", "message", "properties"):
        if f'"{key}":' in text:
            escaped = f'"\\u00{ord(key[0]):02x}{key[1:]}":'
            out.append((f"escaped {key}", text.replace(f'"{key}":', escaped, 1).encode()))
            body = text[1:]
            out.append((f"duplicate {key}", ("{" + f'"{key}":null,' + body).encode()))
    return out


def _sarif_log(results: list[Any], template: dict[str, Any]) -> bytes:
    log = copy.deepcopy(template)
    log["runs"] = [dict(log["runs"][0], results=[])]
    parts = [r if isinstance(r, bytes) else json.dumps(r, separators=(",", ":")).encode() for r in results]
    body = json.dumps(log, separators=(",", ":")).encode()
    return body.replace(b'"results":[]', b'"results":[' + b",".join(parts) + b"]", 1)


@pytest.mark.timeout(900)  # CPU-heavy (tens of CPU-seconds): a loaded CI host stretched it past the default 300 s
def test_sarif_mutated_results_same_both_ways(real: Path, monkeypatch: pytest.MonkeyPatch, walked: list[bool]) -> None:
    rng = random.Random(7)
    templates = []
    for p in _sarif_files(real):
        log = json.loads(p.read_text())
        run = log["runs"][0]
        if run.get("results"):
            templates.append((p.name, log, run["results"]))
    cases = 0
    for name, log, results in rng.sample(templates, 3):
        base = results[:3]
        for what, raw in _mutations(rng, results[0]):
            for doc in (_sarif_log([raw], log), _sarif_log([*base, raw, *base], log)):
                _same("sarif", doc, monkeypatch, (name, what))
                cases += 1
    assert cases > 300
    assert True in walked and False in walked  # both paths were taken

