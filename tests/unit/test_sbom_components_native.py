"""sbom: affected packages resolved from natively walked components equal the msgspec path's.

``_sbom_components``: with the extension the ``components`` array is walked into columns and
refs resolved with Arrow; without it (``SECPIPE_NATIVE=0``) components are decoded into structs
and each ref resolved in Python. Every BOM here is decoded both ways and the batches and dead
letters compared (``native_support``), on BOMs built to hit each resolution rule: nested
components, BOM-links, refs held by the metadata component's tree (also one that is a BOM-link
whose fragment a component holds), purl-only refs, group names (maven / others), Trivy
properties given, empty, null or repeated, duplicated bom-refs (the first met wins), and
components of the wrong shape (dead-lettered alone the same way, the findings kept).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _fast, _sbom_components
from tests.unit.native_support import same_both_ways

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom"
SERIAL = "urn:uuid:3ff14136-e09f-4df9-80ea-000000000001"
T = "aquasecurity:trivy:"


def _comp(ref: str, name: str, **kw: Any) -> dict[str, Any]:
    props = [{"name": f"{T}PkgID", "value": f"{name}@1"}, {"name": f"{T}PkgType", "value": "debian"}]
    return {"bom-ref": ref, "type": "library", "name": name, "version": "1.0", "purl": ref, "properties": props, **kw}


def _vuln(i: int, *refs: str) -> dict[str, Any]:
    return {"id": f"CVE-2024-{i}", "ratings": [{"severity": "high"}], "affects": [{"ref": r} for r in refs]}


def _bom(comps: list[Any], refs: list[list[str]], meta_comp: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"timestamp": "2024-05-01T10:00:00+00:00"}
    if meta_comp is not None:
        meta["component"] = meta_comp
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": SERIAL, "version": 1, "metadata": meta,
            "components": comps, "vulnerabilities": [_vuln(i, *r) for i, r in enumerate(refs)]}  # fmt: skip


def _cases() -> list[tuple[str, dict[str, Any]]]:
    a, b = _comp("pkg:deb/debian/a@1.0", "a"), _comp("pkg:deb/debian/b@1.0", "b")
    nested = _comp("os", "debian", components=[_comp("pkg:deb/debian/n@1.0", "n", components=[_comp("deep", "d")])])
    image = {"bom-ref": "img", "type": "container", "name": "alpine:3", "purl": "pkg:oci/alpine@sha256%3Aab",
             "properties": [{"name": f"{T}ImageID", "value": "sha256:ab"}],
             "components": [_comp("in-meta", "m"), _comp("both", "meta-wins")]}  # fmt: skip
    link = f"{SERIAL}/1#pkg:deb/debian/a@1.0"
    out = [
        ("plain", _bom([a, b], [["pkg:deb/debian/a@1.0"], ["pkg:deb/debian/b@1.0", "pkg:deb/debian/a@1.0"], []])),
        ("nested", _bom([a, nested], [["pkg:deb/debian/n@1.0"], ["deep"], ["os"]])),
        ("bom-link", _bom([a], [[link], [f"{SERIAL}/1#missing"], ["urn:cdx:x/1#pkg:npm/%40s/p@2"]])),
        ("metadata component", _bom([a, _comp("x#both", "c")], [["in-meta"], ["img"], ["urn:cdx:s/1#both"]], image)),
        ("meta ref over fragment", _bom([_comp("both", "comp")], [["urn:cdx:q/1#both"]],
                                        {**image, "bom-ref": "urn:cdx:q/1#both"})),
        ("purl only", _bom([], [["pkg:maven/org.x/y@2.1?type=jar"], ["pkg:golang/github.com/a/b@v1"], ["not-a-purl"]])),
        ("no components", {k: v for k, v in _bom([], [["pkg:deb/debian/a@1.0"]]).items() if k != "components"}),
        ("components null", {**_bom([], [["pkg:deb/debian/a@1.0"]]), "components": None}),  # none: findings kept
        ("duplicate bom-ref", _bom([a, {**b, "bom-ref": "pkg:deb/debian/a@1.0"}, _comp("os2", "o", components=[
            {**b, "bom-ref": "pkg:deb/debian/a@1.0", "name": "nested-dup"}])], [["pkg:deb/debian/a@1.0"]])),
    ]  # fmt: skip
    groups = [
        {**a, "group": "org.apache", "purl": "pkg:maven/org.apache/a@1.0"},
        {**b, "group": "@scope", "purl": "pkg:npm/%40scope/b@1.0"},
        {**_comp("g3", "c"), "group": ""},
        {**_comp("g4", ""), "group": "grp"},
    ]
    out.append(("groups", _bom(groups, [["pkg:deb/debian/a@1.0"], ["pkg:deb/debian/b@1.0"], ["g3"], ["g4"]])))
    props = [
        {**_comp("p1", "p1"), "properties": [{"name": f"{T}PkgType", "value": ""}, {"name": f"{T}PkgID", "value": ""}]},
        {**_comp("p2", "p2"), "properties": [{"name": f"{T}PkgType", "value": None}, {"name": f"{T}PkgType", "value": "npm"},
                                             {"name": f"{T}FilePath", "value": ""}, {"name": f"{T}FilePath", "value": "x"}]},
        {**_comp("p3", "p3"), "properties": None, "purl": None},
        {**_comp("p4", "p4"), "properties": [], "purl": ""},
        {**_comp("p5", "p5"), "properties": [{"value": "v"}, {"name": f"{T}PkgID"}], "purl": "pkg:pypi/p5@1"},
        {"bom-ref": "p6"},
        {"name": "no-ref", "components": [_comp("p7", "p7")]},
    ]  # fmt: skip
    out.append(("properties", _bom(props, [[f"p{i}"] for i in range(1, 8)])))
    bad = [("name", 7), ("properties", "x"), ("properties", [1]), ("components", {"a": 1}), ("components", [3]),
           ("components", [{"name": 5}]), ("bom-ref", ["x"]), ("version", None)]  # fmt: skip
    for key, value in bad:
        out.append((f"{key}={value!r}", _bom([a, {**b, key: value}], [["pkg:deb/debian/a@1.0"]])))
    return out


@pytest.mark.parametrize(("what", "bom"), _cases(), ids=[w for w, _b in _cases()])
def test_resolution_rules_same_both_ways(what: str, bom: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    out = same_both_ways("sbom", json.dumps(bom, indent=2).encode(), monkeypatch, what)
    assert out.events >= 1
    if what == "components null":  # a null holds no component: the findings are kept, nothing dead-lettered
        assert not out.dead and out.batches[0].num_rows == 1
    if what in ("name=7", "components=[{'name': 5}]", "version=None"):  # a number is read as its text (session 37)
        assert not out.dead and out.batches[0].num_rows == 1
    elif "=" in what:  # a value of another wrong type: the component alone is dead-lettered (session 37)
        assert [d.offset for d in out.dead] == [1] and out.batches[0].num_rows == 1


def test_regular_bom_takes_the_native_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolution rules above are exercised on the native path, not only by its fallback."""
    taken: list[bool] = []
    table = _sbom_components.component_table

    def spy(raw: Any, **kw: Any) -> Any:
        got = table(raw, **kw)
        if _fast.available():  # (the msgspec side of each comparison has no extension)
            taken.append(got is not None)
        return got

    monkeypatch.setattr("secpipe.formats.sbom.component_table", spy)
    for what, bom in _cases()[:7]:
        same_both_ways("sbom", json.dumps(bom).encode(), monkeypatch, what)
    assert taken == [True] * 7


def test_mutated_components_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trivy's CycloneDX sample with one component's field given each JSON type, removed, or nested."""
    doc = json.loads((CASES / "fluentd-multiple-lockfiles-short.cdx.json.golden").read_text())
    rnd = random.Random(11)
    odd: list[Any] = [None, 7, "", "x\u00e9", [], ["a"], {}, {"k": "v"}, [{"name": "n"}]]
    checked = 0
    for ci in range(len(doc["components"])):
        comp = doc["components"][ci]
        for key in [*comp, "group", "components"]:
            for value in [*rnd.sample(odd, 3), "__drop__"]:
                m = copy.deepcopy(doc)
                if value == "__drop__":
                    m["components"][ci].pop(key, None)
                else:
                    m["components"][ci][key] = value
                same_both_ways("sbom", json.dumps(m).encode(), monkeypatch, (ci, key, value))
                checked += 1
    assert checked > 40
