"""SARIF results located by logical locations alone (SARIF 2.1.0 §3.28.4, §3.33): the construct a result is on
(its fully qualified name and kind, taken from ``run.logicalLocations[index]`` where the result gives only part of
it) is kept as the finding's resource, and tells apart the uids of results no file tells apart.

Inputs: the head of sarif-sdk's FxCop converter output (``tests/cases/scanners33/fxcop-sarifsdktest-head.sarif``,
see that folder's SOURCES.md: FxCop's results on namespaces, three of them sharing the partial fingerprint
``Sarif#Namespace``), and the SARIF 2.1.0 spec's XML example of §3.33.7 (``logicalLocation.kind``), whose results
give a fully qualified name and an index into the run's cached logical locations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats import _fast
from tests.unit.holdout_support import auto_decoded, conformant_rows

_FXCOP = Path(__file__).parents[1] / "cases" / "scanners33" / "fxcop-sarifsdktest-head.sarif"
_CLS = "application_security_posture_finding"


def _rows(doc: bytes, tmp_path: Path) -> list[dict]:
    return conformant_rows(auto_decoded(doc, tmp_path, "sarif"))[_CLS]


def test_fxcop_namespace_results_keep_their_namespace(tmp_path: Path) -> None:
    rows = _rows(_FXCOP.read_bytes(), tmp_path)
    assert [r["finding_info"]["uid"] for r in rows] == [
        "CA1704|Microsoft.CodeAnalysis.Sarif|Sarif#Namespace",
        "CA1020|Microsoft.CodeAnalysis.Sarif.Baseline|None|0.1",
        "CA1704|Microsoft.CodeAnalysis.Sarif.Baseline|Sarif#Namespace",
        "CA1020|Microsoft.CodeAnalysis.Sarif.Baseline.DefaultBaseline|None|0.3",
        "CA1704|Microsoft.CodeAnalysis.Sarif.Baseline.DefaultBaseline|Sarif#Namespace",
    ]
    assert [(x["type"], x["name"]) for r in rows for x in r["resources"]] == [
        ("namespace", "Microsoft.CodeAnalysis.Sarif"),
        ("namespace", "Microsoft.CodeAnalysis.Sarif.Baseline"),
        ("namespace", "Microsoft.CodeAnalysis.Sarif.Baseline"),
        ("namespace", "Microsoft.CodeAnalysis.Sarif.Baseline.DefaultBaseline"),
        ("namespace", "Microsoft.CodeAnalysis.Sarif.Baseline.DefaultBaseline"),
    ]
    assert all(r["vulnerabilities"][0].get("affected_code") is None for r in rows)  # no file: no affected_code


def test_fxcop_rows_the_same_without_the_native_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _FXCOP.read_bytes()

    def timeless() -> list[dict]:  # the log has no invocation time: each read is stamped with its receipt time
        return [{k: v for k, v in r.items() if k not in ("time", "time_dt")} for r in _rows(doc, tmp_path)]

    native = timeless()
    monkeypatch.setattr(_fast, "_module", lambda: None)
    assert timeless() == native


def _spec_xml_log() -> dict:
    """§3.33.7's EXAMPLE 1 (errors on an XML document's order number and total), as a log: two results with no
    fingerprint and no file, each naming its construct by fully qualified name and index; its kind is the run's."""
    cached = [
        {"name": "orders", "fullyQualifiedName": "/orders", "kind": "element"},
        {"name": "order[1]", "fullyQualifiedName": "/orders/order[1]", "kind": "element", "parentIndex": 0},
        {"name": "number", "fullyQualifiedName": "/orders/order[1]/@number", "kind": "attribute", "parentIndex": 1},
        {"name": "text", "fullyQualifiedName": "/orders/order[1]/text()", "kind": "text", "parentIndex": 1},
    ]
    results = [
        {"ruleId": "XML1001", "message": {"text": "The order number is blank."},
         "locations": [{"logicalLocations": [{"fullyQualifiedName": "/orders/order[1]/@number", "index": 2}]}]},
        {"ruleId": "XML1001", "message": {"text": "The total is negative."},
         "locations": [{"logicalLocations": [{"index": 3}]}]},
    ]  # fmt: skip
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "OrderChecker"}}, "results": results,
                                          "logicalLocations": cached}]}  # fmt: skip


def test_cached_logical_location_gives_name_and_kind(tmp_path: Path) -> None:
    rows = _rows(json.dumps(_spec_xml_log()).encode(), tmp_path)
    assert [r["resources"] for r in rows] == [
        [{"type": "attribute", "name": "/orders/order[1]/@number", "uid": None, "labels": None, "data": None}],
        [{"type": "text", "name": "/orders/order[1]/text()", "uid": None, "labels": None, "data": None}],
    ]
    uids = [r["finding_info"]["uid"] for r in rows]
    assert uids == ["XML1001|/orders/order[1]/@number|None|0.0", "XML1001|/orders/order[1]/text()|None|0.1"]


def test_same_fingerprint_on_two_constructs_is_two_findings(tmp_path: Path) -> None:
    """Two results of one rule with one partial fingerprint (FxCop's UniqueId names the word, not the place) on two
    constructs: their uids differ by the construct, not by their order in the log."""
    log = _spec_xml_log()
    for r in log["runs"][0]["results"]:
        r["partialFingerprints"] = {"UniqueId": "blank#Value"}
    first = [r["finding_info"]["uid"] for r in _rows(json.dumps(log).encode(), tmp_path)]
    log["runs"][0]["results"].reverse()
    again = [r["finding_info"]["uid"] for r in _rows(json.dumps(log).encode(), tmp_path)]
    assert first == ["XML1001|/orders/order[1]/@number|blank#Value", "XML1001|/orders/order[1]/text()|blank#Value"]
    assert again == first[::-1]
