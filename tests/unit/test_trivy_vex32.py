"""Trivy's suppressed findings (``--show-suppressed``: a result's ``ExperimentalModifiedFindings``), not
stored before; reports built from Trivy's goldens as Trivy's filter builds them
(``tests/cases/scanners32/SOURCES.md``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from tests.unit.native_support import detected_both_ways
from tests.unit.test_trivy_operator31 import _rows  # (each class's rows checked against OCSF)

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners32"
_LISTS = {"vulnerability": "Vulnerabilities", "misconfiguration": "Misconfigurations", "secret": "Secrets"}


def _golden(name: str) -> dict[str, Any]:
    return json.loads((CASES / name).read_bytes())


def _suppress(report: dict[str, Any], result: int, type_: str, index: int, status: str, statement: str,
              source: str) -> dict[str, Any]:  # fmt: skip
    """The finding moved out of its result's list into ExperimentalModifiedFindings, as Trivy's
    ``types.NewModifiedFinding(finding, status, statement, source)`` (the list left out when empty)."""
    r = report["Results"][result]
    finding = r[_LISTS[type_]].pop(index)
    if not r[_LISTS[type_]]:
        del r[_LISTS[type_]]
    r.setdefault("ExperimentalModifiedFindings", []).append(
        {"Type": type_, "Status": status, "Statement": statement, "Source": source, "Finding": finding})
    return report


def _gomod_vex() -> dict[str, Any]:
    """gomod.json.golden scanned with Trivy's OpenVEX fixture (CVE-2022-23628 in opa: not_affected)."""
    return _suppress(_golden("gomod.json.golden"), 0, "vulnerability", 1, "not_affected",
                     "vulnerable_code_not_in_execute_path", "testdata/fixtures/vex/file/openvex.json")


def test_vex_not_affected_vulnerability(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _rows(formats.get("trivy").decode((CASES / "gomod.json.golden").read_bytes(), "x"))
    d = detected_both_ways("trivy", json.dumps(_gomod_vex(), indent=2).encode(), monkeypatch, "gomod-vex")
    assert not d.dead and d.events == 5
    rows = _rows(d)
    [r] = [r for r in rows if r["status_id"] != 1]
    assert len(rows) == 5
    [was] = [p for p in plain if p["vulnerabilities"][0]["cve"] and p["vulnerabilities"][0]["cve"]["uid"] == "CVE-2022-23628"]
    assert (r["status_id"], r["status"], r["status_code"]) == (3, "Suppressed", "not_affected")
    assert r["status_detail"] == "vulnerable_code_not_in_execute_path"
    assert json.loads(r["unmapped"])["ModifiedFinding"] == {
        "Type": "vulnerability", "Status": "not_affected", "Statement": "vulnerable_code_not_in_execute_path",
        "Source": "testdata/fixtures/vex/file/openvex.json"}  # fmt: skip
    entry = json.loads(r["raw_data"])
    assert entry["Source"] == "testdata/fixtures/vex/file/openvex.json" and entry["Finding"] == json.loads(was["raw_data"])
    # the finding as reported, but another event: its finding uid kept, its event uid its own
    for k in ("class_uid", "severity_id", "time", "resources", "vulnerabilities", "message"):
        assert r[k] == was[k], k
    assert r["finding_info"]["uid"] == was["finding_info"]["uid"]
    assert r["metadata"]["uid"] != was["metadata"]["uid"]
    assert r["metadata"]["uid"] not in {p["metadata"]["uid"] for p in plain}
    compact = _rows(formats.get("trivy").decode(json.dumps(_gomod_vex(), separators=(",", ":")).encode(), "x"))
    assert [x["metadata"]["uid"] for x in compact] == [x["metadata"]["uid"] for x in rows]  # however it was printed
    # the findings left in the report are the plain report's events (but CVE-2021-38561, whose ordinal
    # in its result moved up with the entry's: an event uid hashes it)
    left = {x["metadata"]["uid"] for x in rows if x is not r} - {p["metadata"]["uid"] for p in plain}
    assert [x["vulnerabilities"][0]["cve"]["uid"] for x in rows if x["metadata"]["uid"] in left] == ["CVE-2021-38561"]


def test_ignored_misconfiguration_secret_and_vex_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _suppress(_golden("dockerfile.json.golden"), 0, "misconfiguration", 0, "ignored", "", ".trivyignore")
    [m] = _rows(detected_both_ways("trivy", json.dumps(conf).encode(), monkeypatch, "dockerfile"))
    assert (m["class_name"], m["status"], m["status_code"], m["status_detail"]) == (
        "Compliance Finding", "Suppressed", "ignored", None)  # fmt: skip
    assert (m["compliance"]["control"], m["compliance"]["status"], m["severity"]) == ("DS-0002", "Fail", "High")
    sec = _suppress(_golden("secrets.json.golden"), 0, "secret", 1, "ignored", "a test fixture, no secret",
                    ".trivyignore.yaml")  # fmt: skip
    rows = _rows(detected_both_ways("trivy", json.dumps(sec).encode(), monkeypatch, "secrets"))
    assert [(r["data_security"]["detection_pattern"], r["status"]) for r in rows] == [
        ("aws-access-key-id", "New"), ("mysecret", "Suppressed")]  # fmt: skip
    assert rows[1]["status_detail"] == "a test fixture, no secret" and rows[1]["file"]["path"] == "deploy.sh"
    fixed = _suppress(_golden("gomod.json.golden"), 1, "vulnerability", 0, "fixed", "", "CycloneDX VEX")
    [r] = [r for r in _rows(formats.get("trivy").decode(json.dumps(fixed).encode(), "x")) if r["status_id"] != 1]
    assert (r["status_id"], r["status"], r["status_code"]) == (4, "Resolved", "fixed")  # the product holds the fix
    assert r["resources"][1]["name"] == "submod/go.mod"


def test_bad_entries_dead_lettered_alone() -> None:
    doc = _gomod_vex()
    mods = doc["Results"][0]["ExperimentalModifiedFindings"]
    mods += [{"Type": "custom", "Finding": {}}, {"Type": "vulnerability", "Status": "ignored", "Finding": "CVE-2021-38561"},
             "ignored"]  # fmt: skip
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "x")
    assert [x.reason for x in d.dead] == [
        "not a Trivy modified finding (Type 'custom' is none of vulnerability, misconfiguration, secret, license)",
        "not a Trivy modified finding (its Finding is no object)",
        "not a Trivy modified finding (Expected `object`, got `str`)"]  # fmt: skip
    assert [x.offset for x in d.dead] == [1, 2, 3] and json.loads(d.dead[0].raw) == mods[1]
    assert d.events == 5 + 3 and sum(b.num_rows for b in d.batches) == 5
    # a list of them that is no list (an object): dead-lettered, its report's findings stored as before
    doc["Results"][1]["ExperimentalModifiedFindings"] = mods[0]
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "x")
    assert d.dead[-1].reason == "not Trivy's modified findings (Expected `array | null`, got `object`)"
    assert d.dead[-1].offset == 1 and json.loads(d.dead[-1].raw) == mods[0]
    assert d.events == 5 + 4 and sum(b.num_rows for b in d.batches) == 5


def test_k8s_report_suppressed_finding_keeps_its_workload() -> None:
    g = _gomod_vex()
    result = g["Results"][0]
    doc = {"ClusterName": "prod", "Resources": [{"Namespace": "shop", "Kind": "Deployment", "Name": name,
                                                 "Results": [copy.deepcopy(result)]} for name in ("api", "web")]}  # fmt: skip
    rows = _rows(formats.get("trivy").decode(json.dumps(doc).encode(), "x"))
    hidden = [r for r in rows if r["status"] == "Suppressed"]
    assert len(rows) == 6 and [(r["resources"][0]["name"], r["resources"][0]["namespace"]) for r in hidden] == [
        ("api", "shop"), ("web", "shop")]  # fmt: skip
    assert len({r["metadata"]["uid"] for r in hidden}) == 2  # one entry in two workloads: two events
    # a resource of the wrong shape is dead-lettered whole (its entries with it), the others' stored
    doc["Resources"][1]["Namespace"] = ["shop"]
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "x")
    assert [json.loads(x.raw)["Name"] for x in d.dead] == ["web"]
    assert [(r["resources"][0]["name"], r["status"]) for r in _rows(d)] == [("api", "New")] * 2 + [("api", "Suppressed")]
