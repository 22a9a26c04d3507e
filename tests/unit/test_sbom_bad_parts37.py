"""A CycloneDX BOM with one component (or vulnerability) of the wrong JSON type keeps the rest.

CycloneDX 1.6's schema types a component's ``bom-ref``, ``type``, ``group``, ``name``, ``version`` and
``purl`` as strings (``version`` "should ideally comply with semantic versioning but is not enforced": free
text) and ``properties`` as an array of ``{name, value}`` strings. A number written there is read as its
text exactly as written (``1.10`` stays ``"1.10"``, another version than ``1.1``); any other wrong type
dead-letters that component alone, with its path, and the BOM's other components and vulnerabilities go on.
The input is Trivy's golden (tests/cases/sbom/SOURCE.md), mutated in memory. Each case runs on the native
path and on the msgspec one (``python_only``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded

GOLDEN = Path(__file__).resolve().parents[1] / "cases" / "sbom" / "fluentd-multiple-lockfiles-short.cdx.json.golden"
LIBIDN = "pkg:deb/debian/libidn2-0@2.0.5-1?distro=debian-10.2"  # components[2], affected by CVE-2019-18224


def _doc() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())


def _decode(doc: dict[str, Any] | bytes) -> Decoded:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return formats.get("sbom").decode(data, "bom.json")


def _by_cve(res: Decoded) -> dict[str, dict[str, Any]]:
    return {r["vulnerabilities"][0]["cve"]["uid"]: r for b in res.batches for r in b.to_pylist()}


@pytest.fixture(params=["native", "msgspec"])
def path(request: pytest.FixtureRequest, python_only: Callable[[], None]) -> str:
    if request.param == "msgspec":
        python_only()
    return str(request.param)


def test_a_number_for_a_component_version_is_its_text_as_written(path: str) -> None:
    doc = _doc()
    assert doc["components"][2]["bom-ref"] == LIBIDN
    doc["components"][2]["version"] = "@V@"
    data = json.dumps(doc).replace('"@V@"', "2.10").encode()  # a JSON number: 2.10, not 2.1
    res = _decode(data)
    assert not res.dead and res.events == 3
    pkg = _by_cve(res)["CVE-2019-18224"]["vulnerabilities"][0]["affected_packages"][0]
    assert pkg["name"] == "libidn2-0" and pkg["version"] == "2.10"


def test_a_number_for_a_property_value_is_its_text(path: str) -> None:
    doc = _doc()
    props = doc["components"][2]["properties"]
    at = next(i for i, p in enumerate(props) if p["name"] == "aquasecurity:trivy:PkgID")
    props[at]["value"] = "@V@"
    res = _decode(json.dumps(doc).replace('"@V@"', "1e3").encode())
    assert not res.dead and res.events == 3
    assert _by_cve(res)["CVE-2019-18224"]["vulnerabilities"][0]["affected_packages"][0]["uid"] == "1e3"


def test_a_component_of_the_wrong_type_is_dead_lettered_alone(path: str) -> None:
    doc = _doc()
    doc["components"][2]["name"] = {"first": "libidn2"}
    res = _decode(doc)
    assert len(res.dead) == 1 and res.events == 4  # three findings stored, one component dead-lettered
    d = res.dead[0]
    assert d.offset == 2 and d.format == "sbom"
    assert "CycloneDX component" in d.reason and "`$.components[2].name`" in d.reason and "`object`" in d.reason
    assert json.loads(d.raw) == doc["components"][2]  # its bytes, nothing else
    rows = _by_cve(res)
    assert set(rows) == {"CVE-2019-18224", "CVE-2019-18276", "CVE-2020-8165"}
    # the bad component's ref is unresolved: a package URL, so its purl is read (nothing invented)
    lib = rows["CVE-2019-18224"]
    assert lib["vulnerabilities"][0]["affected_packages"][0]["purl"] == LIBIDN
    assert lib["resources"][1]["uid"] == LIBIDN
    # the others are resolved from their components as before
    bash = rows["CVE-2019-18276"]["vulnerabilities"][0]["affected_packages"][0]
    assert bash["name"] == "bash" and bash["version"] == "5.0-4" and bash["type"] == "debian"


def test_the_same_rows_as_without_the_bad_component(path: str) -> None:
    bad, gone = _doc(), _doc()
    bad["components"][1]["properties"] = {"name": "aquasecurity:trivy:PkgType"}  # an object, not an array
    del gone["components"][1]
    got, want = _decode(bad), _decode(gone)
    assert [d.offset for d in got.dead] == [1] and "`$.components[1].properties`" in got.dead[0].reason
    assert not want.dead
    drop = ("raw_data",)  # (the same vulnerabilities: raw_data and uids equal too)
    assert [{k: v for k, v in r.items() if k not in drop} for b in got.batches for r in b.to_pylist()] == \
        [{k: v for k, v in r.items() if k not in drop} for b in want.batches for r in b.to_pylist()]


@pytest.mark.parametrize("item", [None, "pkg:deb/debian/x@1", 7, True])
def test_an_item_that_is_no_object_is_dead_lettered_alone(path: str, item: Any) -> None:
    doc = _doc()
    doc["components"].insert(1, item)
    res = _decode(doc)
    assert [d.offset for d in res.dead] == [1] and "`$.components[1]`" in res.dead[0].reason
    assert res.events == 4 and len(_by_cve(res)) == 3


def test_a_nested_component_of_the_wrong_type_leaves_its_parent(path: str) -> None:
    doc = _doc()
    doc["components"][1]["components"] = [{"bom-ref": "inner-ok", "name": "ok", "version": "1"},
                                          {"bom-ref": "inner-bad", "name": ["x"]}]
    doc["vulnerabilities"][1]["affects"].append({"ref": "inner-ok"})
    res = _decode(doc)
    assert len(res.dead) == 1 and res.dead[0].offset == 1
    assert "`$.components[1].components[1].name`" in res.dead[0].reason
    assert json.loads(res.dead[0].raw) == {"bom-ref": "inner-bad", "name": ["x"]}
    rows = [r for b in res.batches for r in b.to_pylist()]
    names = {r["vulnerabilities"][0]["affected_packages"][0]["name"] for r in rows
             if r["vulnerabilities"][0]["affected_packages"]}
    assert {"bash", "ok"} <= names  # the parent and its good child resolve


def test_components_that_are_no_array_are_dead_lettered_and_the_findings_kept(path: str) -> None:
    doc = _doc()
    doc["components"] = {"bom-ref": "x"}
    res = _decode(doc)
    assert len(res.dead) == 1 and "`$.components`" in res.dead[0].reason
    assert json.loads(res.dead[0].raw) == {"bom-ref": "x"}
    rows = _by_cve(res)
    assert len(rows) == 3  # refs are package URLs: read from the purl
    assert rows["CVE-2019-18276"]["vulnerabilities"][0]["affected_packages"][0]["name"] == "bash"


def test_a_bad_metadata_component_is_dead_lettered_and_the_findings_kept(path: str) -> None:
    doc = _doc()
    doc["metadata"]["component"]["version"] = ["1"]
    res = _decode(doc)
    assert len(res.dead) == 1 and "`$.metadata.component.version`" in res.dead[0].reason
    assert json.loads(res.dead[0].raw) == doc["metadata"]["component"]
    rows = _by_cve(res)
    assert len(rows) == 3
    # no subject: resources hold the affected component alone
    assert [x["uid"] for x in rows["CVE-2019-18276"]["resources"]] == ["pkg:deb/debian/bash@5.0-4?distro=debian-10.2"]


def test_a_metadata_timestamp_of_the_wrong_type_still_refuses_the_bom(path: str) -> None:
    # the findings' time comes from it: without it they would take a time the BOM does not give
    doc = _doc()
    doc["metadata"]["timestamp"] = {"at": 1}
    res = _decode(doc)
    assert len(res.dead) == 1 and res.dead[0].offset == 0 and not res.batches
    assert "`$.metadata.timestamp`" in res.dead[0].reason


@pytest.mark.parametrize(("key", "value"), [("ratings", {"a": 1}), ("cwes", ["79"]), ("affects", [{"x": 1}]),
                                            ("source", "nvd")])
def test_a_vulnerability_of_the_wrong_type_is_dead_lettered_alone(path: str, key: str, value: Any) -> None:
    doc = _doc()
    doc["vulnerabilities"][1][key] = value
    res = _decode(doc)
    assert [d.offset for d in res.dead] == [1] and "CycloneDX vulnerability" in res.dead[0].reason
    assert json.loads(res.dead[0].raw) == doc["vulnerabilities"][1]
    assert set(_by_cve(res)) == {"CVE-2019-18224", "CVE-2020-8165"}


def test_an_inventory_bom_with_a_bad_component_holds_no_event_and_no_dead_letter(path: str) -> None:
    # without vulnerabilities the components are not read (sbom's docstring): nothing to refuse
    doc = _doc()
    doc["vulnerabilities"] = []
    doc["components"][2]["name"] = {"x": 1}
    res = _decode(doc)
    assert not res.dead and not res.batches and res.events == 0
