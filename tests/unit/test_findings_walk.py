"""The fused issue walk (``_findings.walk_issues``, Rust ``report.rs``) against the paths it replaces.

Snyk's and Trivy's decodes walk a report's issues (Trivy: its vulnerabilities, the report read as
it came) in one native pass (compacted, walked, raw_data and uid made together). The reference is
the path it replaces (Snyk: ``compact_each``, ``extract``, ``uids`` per issue; Trivy: the report
compacted whole, then ``extract`` and ``uids``), taken with ``walk_issues`` turned off: the same
batches (time columns aside, which are the receipt time) and dead letters on every real
snyk-to-html report and Trivy golden, and on generated reports with arbitrary whitespace, escapes,
non-ASCII text, license issues keyed first or last and IaC projects. The call itself is checked
against the compactor and ``uids``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast, _findings, get, snyk, trivy
from secpipe.formats.base import Decoded, event_uids
from tests.unit.native_support import assert_same_decoded

pytestmark = pytest.mark.skipif(not (_fast.available() and hasattr(_fast._module(), "walk_issues")),
                                reason="native extension (with walk_issues) not built")  # fmt: skip


def _both(doc: bytes, monkeypatch: pytest.MonkeyPatch, fmt: str = "snyk") -> tuple[Decoded, Decoded, list[bool]]:
    """(fused walk, the path it replaces, whether each fused call applied)."""
    mod = snyk if fmt == "snyk" else trivy
    used: list[bool] = []
    calls = [name for name in ("walk_issues", "walk_report") if hasattr(mod, name)]

    def spy(name: str) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            got = getattr(_findings, name)(*args, **kw)
            used.append(got is not None)
            return got

        return call

    with monkeypatch.context() as m:
        for name in calls:
            m.setattr(mod, name, spy(name))
        fused = get(fmt).decode(doc, "src")
    with monkeypatch.context() as m:
        for name in calls:
            m.setattr(mod, name, lambda *a, **k: None)
        reference = get(fmt).decode(doc, "src")
    return fused, reference, used


def test_real_reports(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    walked = 0
    for p in sorted((real / "snyk-to-html").glob("*.json")):
        fused, reference, used = _both(p.read_bytes(), monkeypatch)
        assert_same_decoded(fused, reference, p.name)
        walked += sum(used)
    assert walked >= 8  # the reports with issues took the fused walk


def _issues(real: Path) -> list[dict[str, Any]]:
    out = []
    for p in sorted((real / "snyk-to-html").glob("*.json")):
        try:
            d = json.loads(p.read_text())
        except ValueError:
            continue
        for proj in d if isinstance(d, list) else [d]:
            if isinstance(proj, dict):
                out.extend(proj.get("vulnerabilities") or [])
    return out


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


def _mutated(data: st.DataObject, pool: list[dict[str, Any]], desc: str, title: str) -> dict[str, Any]:
    """A real issue of ``pool`` with its description (escapes, non-ASCII) and title maybe redrawn."""
    v = dict(data.draw(st.sampled_from(pool)))
    if data.draw(st.booleans()):
        v[desc] = data.draw(_TEXT) + "\n\t\"q\" \\ " + data.draw(_TEXT)
    if data.draw(st.booleans()):
        v[title] = data.draw(_TEXT)
    return v


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_reports(real: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject) -> None:
    """Real issues, mutated (texts with escapes and non-ASCII, license issues keyed first or
    last, IaC projects), in pretty or compact reports with random indentation."""
    pool = _issues(real)
    projects = []
    for k in range(data.draw(st.integers(1, 3))):
        vulns = []
        for _ in range(data.draw(st.integers(0, 6))):
            v = _mutated(data, pool, "description", "title")
            if data.draw(st.integers(0, 3)) == 0:  # a license issue, its `license` key first or not
                v = {"license": "GPL-3.0", **v, "type": "license"} if data.draw(st.booleans()) else {**v, "type": "license"}
            vulns.append(v)
        proj: dict[str, Any] = {"vulnerabilities": vulns, "projectName": f"p{k}", "path": f"/src/{k}", "ok": False}
        if data.draw(st.integers(0, 4)) == 0:
            proj["infrastructureAsCodeIssues"] = [{"id": "SNYK-CC-K8S-1", "title": data.draw(_TEXT), "severity": "low",
                                                   "msg": "spec.x", "path": ["a", 1], "publicId": "SNYK-CC-K8S-1"}]  # fmt: skip
        projects.append(proj)
    doc: Any = projects if len(projects) > 1 or data.draw(st.booleans()) else projects[0]
    indent = data.draw(st.sampled_from([None, 0, 1, 2, 4, 9]))
    text = json.dumps(doc, indent=indent, ensure_ascii=data.draw(st.booleans()))
    if data.draw(st.booleans()):  # (a raw newline is only ever between tokens: strings escape theirs)
        text = text.replace("\n", "\r\n\t")
    fused, reference, used = _both(text.encode(), monkeypatch)
    assert_same_decoded(fused, reference, text[:200])
    if any(p["vulnerabilities"] or p.get("infrastructureAsCodeIssues") for p in projects):
        assert any(used)


def _small_trivy(real: Path) -> str:
    doc = json.loads((real / "trivy/debian-stretch.json.golden").read_text())
    doc["Results"] = [dict(r, Vulnerabilities=(r.get("Vulnerabilities") or [])[:2]) for r in doc["Results"]]
    doc["Results"].append({"Target": "s.sh", "Class": "secret", "Secrets": [{"RuleID": "aws", "Severity": "HIGH", "StartLine": 1}]})
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _small_report(real: Path) -> str:
    doc = json.loads((real / "snyk-to-html/test-report.json").read_text())
    doc["vulnerabilities"] = [dict(v, cvssScore=5.3) for v in doc["vulnerabilities"][:3]]
    doc["infrastructureAsCodeIssues"] = [{"id": "SNYK-CC-1", "title": "t", "severity": "low", "msg": "m", "path": ["a", 1]}]
    doc["applications"] = [{"vulnerabilities": doc["vulnerabilities"][:1], "projectName": "app", "targetFile": "go.mod"}]
    return json.dumps(doc, indent=2, ensure_ascii=False)


_BYTES = st.sampled_from([" ", "\n", "\"", ",", ":", "}", "]", "{", "[", "1", "a", "\\", "\t", "\x0c", "\u00e9", "-"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_corrupted_report_is_decided_as_the_usual_path_decides_it(real: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     data: st.DataObject) -> None:
    """Bytes deleted, inserted or replaced anywhere in a Snyk or Trivy report (also inside the
    issues, where the walk alone checks the text: ``1 2`` must not compact to ``12``): the same
    batches or dead letters."""
    fmt = data.draw(st.sampled_from(["snyk", "trivy"]))
    text = _small_report(real) if fmt == "snyk" else _small_trivy(real)
    for _ in range(data.draw(st.integers(1, 2))):
        at = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = "" if op == "delete" else data.draw(_BYTES)
        text = text[:at] + piece + text[at + (op != "insert"):]
    fused, reference, _used = _both(text.encode(), monkeypatch, fmt)
    assert_same_decoded(fused, reference, text)


@pytest.mark.parametrize("edit", [
    ('"vulnerabilities": [', '"vulnerabilities": [], "vulnerabilities": ['),  # a key twice: msgspec keeps the last
    ('"vulnerabilities": [', '"vuln\\u0065rabilities": ['),  # an escaped key
    ('"cvssScore": 5.3', '"cvssScore": 5 .3'),  # whitespace inside a number
    ('"isPatchable": false', '"isPatchable": fal se'),
    ('"title": "', '"title": "" "'),  # two strings side by side
    ('"applications": [', '"applications": [], "x": ['),
])
def test_edits_the_walk_must_not_hide(real: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str]) -> None:
    text = _small_report(real)
    assert edit[0] in text
    fused, reference, _used = _both(text.replace(edit[0], edit[1], 1).encode(), monkeypatch)
    assert_same_decoded(fused, reference, edit)


def test_lists_out_of_project_order_are_left_to_the_usual_path(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """IaC issues written before the vulnerabilities, applications before their project's issues:
    the issues are numbered in project order all the same."""
    doc = json.loads(_small_report(real))
    reordered = {"infrastructureAsCodeIssues": doc["infrastructureAsCodeIssues"], "applications": doc["applications"],
                 **{k: v for k, v in doc.items() if k not in ("infrastructureAsCodeIssues", "applications")}}  # fmt: skip
    fused, reference, _used = _both(json.dumps([reordered, doc], indent=1).encode(), monkeypatch)
    assert_same_decoded(fused, reference, "reordered")
    assert sum(b.num_rows for b in fused.batches) == 2 * (3 + 1 + 1)


def test_the_call_compacts_splits_and_hashes() -> None:
    """Per class: the compact issues (as ``compact_each`` gives them) as raw_data, their uids as
    ``event_uids`` makes them with context ``group context + ordinal``, and the walked split."""
    vuln = {"id": "V1", "type": "vuln", "description": "a\nb \"c\" ü"}
    lic = {"license": "MIT", "id": "L1", "type": "license"}
    lic_last = {"id": "L2", "type": "license"}  # guessed a vulnerability, walked a license
    not_lic = {"license": "x", "id": "V2"}  # guessed a license, walked a vulnerability
    texts = [json.dumps(x, indent=3, ensure_ascii=False).encode() for x in (vuln, lic, lic_last, not_lic)]
    raws = [msgspec.json.decode(t, type=msgspec.Raw) for t in texts]
    groups: list[_findings.IssueGroup] = [(b"ctx-a\0", False, raws[:3]), (b"ctx-b\0", False, raws[3:]),
                                          (b"ctx-c\0", True, [raws[0]])]  # fmt: skip
    got = _findings.walk_issues(groups, snyk._SPEC, "snyk", ("type", "license", b'{"license":'), ("x", "y"))
    assert got is not None
    (first, c1), (second, c2) = got
    assert (first, second) == ([0, 3], [1, 2, 4])
    compact = _fast.compact_each(raws)
    assert compact is not None
    assert compact == [msgspec.json.format(t, indent=-1) for t in texts]
    assert c1.raw is not None and c2.raw is not None and c1.uids is not None and c2.uids is not None
    assert c1.raw.to_pylist() == [compact[0].decode(), compact[3].decode()]
    assert c2.raw.to_pylist() == [compact[1].decode(), compact[2].decode(), compact[0].decode()]
    ctx = ["ctx-a\x000", "ctx-a\x001", "ctx-a\x002", "ctx-b\x000", "ctx-c\x000"]
    everything = event_uids("snyk", [*compact, compact[0]], ctx).to_pylist()
    assert c1.uids.to_pylist() == [everything[0], everything[3]]
    assert c2.uids.to_pylist() == [everything[1], everything[2], everything[4]]
    assert c1.strings["id"].to_pylist() == ["V1", "V2"]
    assert c1.strings["description"].to_pylist() == [vuln["description"], None]


@pytest.mark.parametrize("bad", [b'{"id": "x", "id": "y"}', b'{"id": 1}', b'{"description": ["x"]}', b'[1, 2]'])
def test_an_irregular_issue_leaves_it_to_the_caller(bad: bytes) -> None:
    raws = [msgspec.json.decode(b'{"id": "ok"}', type=msgspec.Raw), msgspec.json.decode(bad, type=msgspec.Raw)]
    assert _findings.walk_issues([(b"c\0", False, raws)], snyk._SPEC, "snyk", None, ("x", "y")) is None


def test_trivy_real_reports(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    walked = 0
    for p in sorted((real / "trivy").rglob("*.json*")):
        fused, reference, used = _both(p.read_bytes(), monkeypatch, "trivy")
        assert_same_decoded(fused, reference, p.name)
        walked += sum(used)
    assert walked >= 30


@pytest.mark.parametrize("edit", [
    ('"Results": [', '"Results": [], "Results": ['),  # a key twice: msgspec keeps the last
    ('"Vulnerabilities": [', '"Vulnerabilit\\u0069es": ['),  # an escaped key
    ('"Vulnerabilities": [', '"Vulnerabilities": [], "Vulnerabilities": ['),
    ('"V3Score": 7.8', '"V3Score": 7 .8'),  # whitespace inside a number
])
def test_trivy_edits_the_walk_must_not_hide(real: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str]) -> None:
    text = _small_trivy(real)
    assert edit[0] in text
    fused, reference, _used = _both(text.replace(edit[0], edit[1], 1).encode(), monkeypatch, "trivy")
    assert_same_decoded(fused, reference, edit)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_trivy_generated_reports(real: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject) -> None:
    """A real image report with mutated vulnerabilities and a misconfiguration and a secret, in
    pretty or compact text with random indentation (with and without a byte-order mark)."""
    doc = json.loads((real / "trivy/debian-stretch.json.golden").read_text())
    pool = [v for r in doc["Results"] for v in r.get("Vulnerabilities") or []]
    results = []
    for k in range(data.draw(st.integers(1, 3))):
        vulns = []
        for _ in range(data.draw(st.integers(0, 5))):
            vulns.append(_mutated(data, pool, "Description", "Title"))
        results.append({"Target": f"t{k}", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns})
    if data.draw(st.booleans()):
        results.append({"Target": "x.yaml", "Class": "config", "Misconfigurations": [
            {"ID": "KSV001", "Title": data.draw(_TEXT), "Severity": "LOW", "Status": "FAIL", "Message": "m"}]})
        results.append({"Target": "s.sh", "Class": "secret", "Secrets": [
            {"RuleID": "aws", "Title": "key", "Severity": "HIGH", "StartLine": 1, "EndLine": 1, "Match": "***"}]})
    doc["Results"] = results
    indent = data.draw(st.sampled_from([None, 0, 1, 2, 4]))
    text = json.dumps(doc, indent=indent, ensure_ascii=data.draw(st.booleans()))
    if data.draw(st.booleans()):
        text = text.replace("\n", "\r\n\t")
    body = (b"\xef\xbb\xbf" if data.draw(st.integers(0, 5)) == 0 else b"") + text.encode()
    fused, reference, used = _both(body, monkeypatch, "trivy")
    assert_same_decoded(fused, reference, text[:200])
    if any(r.get("Vulnerabilities") for r in results):
        assert any(used)


def test_uids_of_a_walked_report_are_those_of_the_walked_issues() -> None:
    """``walk_report`` + ``issue_uids`` give the raw_data and uids ``walk_issues`` gives."""
    issues = [{"id": "V1", "description": "a\nb"}, {"license": "MIT", "id": "L1", "type": "license"}, {"id": "V2"}]
    iac = [{"id": "C1", "msg": "m"}]
    doc = {"vulnerabilities": issues, "x": [1, {"y": " "}], "infrastructureAsCodeIssues": iac}
    text = json.dumps(doc, indent=4).encode()
    walked = _findings.walk_report(text, snyk._SPEC, snyk._SPLIT, ("x", "y"))
    assert walked is not None
    skeleton, lists, classes = walked
    assert json.loads(skeleton) == {**doc, "vulnerabilities": [], "infrastructureAsCodeIssues": []}
    assert lists == [(0, -1, 0, 3), (0, -1, 1, 1)]
    raws = [msgspec.json.decode(json.dumps(x, indent=2), type=msgspec.Raw) for x in (*issues, *iac)]
    groups: list[_findings.IssueGroup] = [(b"A\0", False, raws[:3]), (b"B\0", True, raws[3:])]
    reference = _findings.walk_issues(groups, snyk._SPEC, "snyk", snyk._SPLIT, ("x2", "y2"))
    assert reference is not None
    for (sel, cols), (ref_sel, ref) in zip(classes, reference, strict=True):
        assert sel == ref_sel
        assert cols.raw is not None and ref.raw is not None and ref.uids is not None
        assert cols.raw.equals(ref.raw)
        assert _findings.issue_uids("snyk", [b"A\0", b"B\0"], [3, 1], sel, cols.raw).equals(ref.uids)
        assert all(cols.strings[k].equals(ref.strings[k]) for k in cols.strings)


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_a_body_that_is_not_bytes_decodes_the_same(real: Path, wrap: Any) -> None:
    """The walk borrows ``bytes`` only: any other buffer takes the usual path, with the same result."""
    for fmt, text in (("snyk", _small_report(real)), ("trivy", _small_trivy(real))):
        body = text.encode()
        assert_same_decoded(get(fmt).decode(wrap(body), "src"), get(fmt).decode(body, "src"), (fmt, wrap))


def test_compact_each_is_msgspecs_format(real: Path) -> None:
    """``compact_each`` (report.rs's SSE2 compactor, which the fused walks use too) gives
    ``msgspec.json.format(x, indent=-1)``'s bytes, for every real JSON sample as bytes and for
    each finding of the real Trivy reports as ``msgspec.Raw`` slices."""
    if not _fast.available():
        pytest.skip("no extension")
    docs = []
    for p in sorted(real.rglob("*")):
        if p.is_file() and p.suffix in (".json", ".sarif", ".golden") and p.stat().st_size < 8 << 20:
            try:
                msgspec.json.decode(p.read_bytes())
            except msgspec.DecodeError:
                continue
            docs.append(p.read_bytes())
    assert len(docs) > 100
    assert _fast.compact_each(docs) == [msgspec.json.format(d, indent=-1) for d in docs]
    raws = [x for p in sorted((real / "trivy").glob("*.json.golden")) for r in trivy._PRETTY.decode(p.read_bytes()).Results or ()
            for x in (*(r.Vulnerabilities or ()), *(r.Misconfigurations or ()), *(r.Secrets or ()))]  # fmt: skip
    assert len(raws) > 50
    assert _fast.compact_each(raws) == [msgspec.json.format(bytes(x), indent=-1) for x in raws]


@settings(max_examples=200, deadline=None)
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
                        lambda c: st.lists(c, max_size=4) | st.dictionaries(_TEXT, c, max_size=4), max_leaves=20),
       indent=st.sampled_from([None, 0, 1, 3, 8, 17]), ascii_=st.booleans())
def test_compact_each_on_generated_text(doc: Any, indent: int | None, ascii_: bool) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_).encode()
    assert _fast.compact_each([text]) == [msgspec.json.format(text, indent=-1)]
