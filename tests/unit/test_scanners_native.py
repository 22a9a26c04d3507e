"""Scanner reports (trivy, snyk, sbom) decoded with the native walker (``_fast``) against the msgspec path.

The contract (``formats/_fast.py``): both paths give the same batches and the same dead
letters. Compared on the real samples (Trivy's goldens, snyk-to-html's reports, the CycloneDX
cases), on reports built the way the benchmarks build them, and on reports whose findings are
mutated: every field given each JSON type, null or removed; extra, escaped, non-ASCII and
duplicated keys; escapes in strings. A mutated finding sits among regular ones (an irregular
finding sends the whole report to the msgspec path). Rows stamped with the receipt time
(every Snyk event) are compared without ``time``/``time_dt`` (``native_support.assert_same_decoded``).
"""

from __future__ import annotations

import copy
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _fast, _findings, snyk, trivy
from tests.unit.native_support import same_both_ways as _same

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom"
BENCH = Path(__file__).resolve().parents[2] / "bench"


def _trivy_files(real: Path) -> list[Path]:
    return sorted((real / "trivy").glob("*.json.golden"))


def _snyk_files(real: Path) -> list[Path]:
    return sorted((real / "snyk-to-html").glob("*.json"))


def _sbom_files() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.suffix in (".json", ".golden"))


def test_real_samples_same_both_ways(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 0
    for fmt, paths in (("trivy", _trivy_files(real)), ("snyk", _snyk_files(real)), ("sbom", _sbom_files())):
        assert paths, fmt
        for p in paths:
            out = _same(fmt, p.read_bytes(), monkeypatch, p)
            rows += sum(b.num_rows for b in out.batches)
    assert rows > 300


def _bench() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        import formats_sbom_bench
        import formats_scanners_bench
    finally:
        sys.path.remove(str(BENCH))
    return formats_scanners_bench, formats_sbom_bench


def test_bench_shaped_reports_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    scanners, sbom = _bench()
    walked: list[bool] = []
    extract = _fast.extract

    def spy(raws: list[bytes], spec: _fast.Spec, **kw: Any) -> _fast.Columns | None:
        cols = extract(raws, spec, **kw)
        walked.append(cols is not None)
        return cols

    def walk_spy(name: str) -> Any:  # Snyk's and Trivy's fused walks (walk_issues, walk_report)
        def call(*args: Any, **kw: Any) -> Any:
            got = getattr(_findings, name)(*args, **kw)
            walked.append(got is not None)
            return got

        return call

    monkeypatch.setattr(_fast, "extract", spy)
    for mod in (snyk, trivy):
        for name in ("walk_issues", "walk_report"):
            monkeypatch.setattr(mod, name, walk_spy(name))
    for fmt, doc in (("trivy", scanners.gen_trivy(3000)[0]), ("snyk", scanners.gen_snyk(2500)[0]),
                     ("sbom", sbom.gen_bom(2000)[0])):  # fmt: skip
        out = _same(fmt, doc, monkeypatch, fmt)
        assert sum(b.num_rows for b in out.batches) >= 2000
        assert any(walked), f"{fmt}: the native walker did not take the report"
        walked.clear()


_ODD: list[Any] = [None, 7, -1.5, True, False, "", "x\u00e9\"\\\n\u2603", [], ["a", 1], {}, {"k": "v"}, [{"a": None}]]


def _mutants(item: dict[str, Any], rnd: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """The item with one field changed to each odd value, removed, one extra key, nested fields changed."""
    for key in item:
        for v in rnd.sample(_ODD, 4):
            m = dict(item)
            m[key] = v
            yield f"{key}={v!r}", m
        m = dict(item)
        del m[key]
        yield f"-{key}", m
        sub = item[key]
        if isinstance(sub, dict) and sub:
            inner = rnd.choice(list(sub))
            for v in (None, 3, "z\u00e9", [], {}):
                m = copy.deepcopy(item)
                m[key][inner] = v
                yield f"{key}.{inner}={v!r}", m
        if isinstance(sub, list) and sub:
            for v in (None, 3, "z", {"url": 4}, {}):
                m = copy.deepcopy(item)
                m[key] = [*sub, v]
                yield f"{key}[+{v!r}]", m
    yield "extra", {**item, "zExtra": {"a": [1, "b"]}, "aExtra": "\u00e9"}


def _raw_variants(text: str) -> Iterator[tuple[str, str]]:
    """The JSON text of one item with an escaped key, a duplicated key and escaped values."""
    yield "escaped key", text.replace('{"', '{"\\u0041', 1)
    first = text[1:].split(",", 1)[0]
    yield "duplicate key", "{" + first + "," + text[1:]
    yield "escaped values", text.replace("a", "\\u0061")


def _items(doc: Any, fmt: str) -> list[tuple[list[Any], int]]:
    """(list, index) of every finding of a report."""
    out = []
    if fmt == "trivy":
        for r in doc.get("Results") or []:
            for k in ("Vulnerabilities", "Misconfigurations", "Secrets"):
                out.extend((r[k], i) for i in range(len(r.get(k) or [])))
    elif fmt == "snyk":
        for p in doc if isinstance(doc, list) else [doc]:
            for k in ("vulnerabilities", "infrastructureAsCodeIssues"):
                out.extend((p[k], i) for i in range(len(p.get(k) or [])))
    else:
        out.extend((doc["vulnerabilities"], i) for i in range(len(doc.get("vulnerabilities") or [])))
    return out


def _trim(doc: Any, fmt: str, keep: int = 4) -> Any:
    """The report with at most ``keep`` findings per list (mutants are decoded many times)."""
    for lst, _i in _items(doc, fmt):
        del lst[keep:]
    return doc


def _mutation_cases(real: Path) -> list[tuple[str, Path, int]]:
    return [("trivy", real / "trivy/debian-stretch.json.golden", 2), ("trivy", real / "trivy/helm_testchart.json.golden", 1),
            ("trivy", real / "trivy/secrets.json.golden", 1), ("snyk", real / "snyk-to-html/multi-test-report.json", 2),
            ("sbom", CASES / "fluentd-multiple-lockfiles-short.cdx.json.golden", 2),
            ("sbom", CASES / "vex.json", 1)]  # fmt: skip


@pytest.mark.timeout(900)  # CPU-heavy (tens of CPU-seconds): a loaded CI host stretched it past the default 300 s
def test_mutated_findings_same_both_ways(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(7)
    checked = 0
    for fmt, path, picks in _mutation_cases(real):
        base = _trim(json.loads(path.read_text()), fmt)
        items = _items(base, fmt)
        assert items, path
        for lst, i in rnd.sample(items, min(picks, len(items))):
            orig = lst[i]
            for what, m in _mutants(orig, rnd):
                lst[i] = m
                _same(fmt, json.dumps(base).encode(), monkeypatch, (path.name, what))
                checked += 1
            lst[i] = "\u0000MARK"
            text = json.dumps(base)
            for what, variant in _raw_variants(json.dumps(orig)):
                _same(fmt, text.replace('"\\u0000MARK"', variant).encode(), monkeypatch, (path.name, what))
                checked += 1
            lst[i] = orig
    assert checked > 300
