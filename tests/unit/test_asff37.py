"""asff (session 37): a document's findings are walked once in class order and each class's batch takes
its run of the shared columns; vulnerabilities, compliance, types, severity numbers and the recommendation
are read from the walk, not typed by msgspec. Checked here: the native walk and msgspec's path
(``SECPIPE_NATIVE=0``) agree on findings whose walked fields hold values ASFF allows or msgspec refuses
(the real samples of tests/cases/scanners30, one field changed in one finding of three), and a document of
mixed classes gives each class the rows that class's findings give alone, in their order."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _asff_vulns, _fast, asff, get
from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners30"
KINDS = ["asff-guardduty-defectdojo.json", "asff-securityhub-config-one-finding-defectdojo.json",
         "asff-inspector-ec2-cve-defectdojo.json", "asff-trivy-alpine-310.golden.json"]  # fmt: skip


def _finding(name: str) -> dict[str, Any]:
    doc = json.loads((CASES / name).read_text())
    return (doc if isinstance(doc, list) else doc.get("Findings") or doc["findings"])[0]  # type: ignore[no-any-return]


def _vuln(**fields: Any) -> dict[str, Any]:
    v = copy.deepcopy(_finding(KINDS[2])["Vulnerabilities"][0])
    v.update(fields)
    return {"Vulnerabilities": [v]}


VARIANTS: dict[str, dict[str, Any]] = {
    "scores: float, absent, null": _vuln(Cvss=[{"BaseScore": 7.25, "Version": "3.1"}, {"Source": "x"},
                                               {"BaseScore": None}], EpssScore=0.00045),  # fmt: skip
    "packages of every shape": _vuln(VulnerablePackages=[{"Name": "a", "Epoch": "12", "FixedInVersion": ""}, {}],
                                     ReferenceUrls=[], RelatedVulnerabilities=["GHSA-1"], FixAvailable="no"),  # fmt: skip
    "an advisory, no vendor": _vuln(Id="GHSA-abcd", Vendor=None),
    "vulnerabilities null or empty": {"Vulnerabilities": None},
    "two vulnerabilities": {"Vulnerabilities": [{"Id": "CVE-2020-0001"}, {"Id": "ALAS-1", "Title": "t"}]},
    "compliance in full": {"Compliance": {"Status": "failed", "SecurityControlId": "IAM.1", "RelatedRequirements": ["R1"],
                                          "AssociatedStandards": [{"StandardsId": "s"}, {}],
                                          "StatusReasons": [{"ReasonCode": "C"}, {"Description": "d"}]}},  # fmt: skip
    "compliance empty": {"Compliance": {}},
    "types from the provider": {"Types": [], "FindingProviderFields": {"Types": ["a/b"], "Severity": {"Label": ""}}},
    "severity from Normalized": {"Severity": {"Normalized": 95}, "FindingProviderFields": None},
    "recommendation URL only": {"Remediation": {"Recommendation": {"Url": "https://example.com/fix"}}},
    # refused by msgspec: the batch goes to msgspec's path, which dead-letters each such finding
    "a score a string": _vuln(Cvss=[{"BaseScore": "9.8"}]),
    "an EPSS score true": _vuln(EpssScore=True),
    "a package null": _vuln(VulnerablePackages=[None]),
    "vendor a string": _vuln(Vendor="NVD"),
    "vulnerabilities an object": {"Vulnerabilities": {}},
    "compliance a string": {"Compliance": "PASSED"},
    "a reason code a number": {"Compliance": {"StatusReasons": [{"ReasonCode": 3}]}},
    "a type null": {"Types": ["a", None]},
    "Normalized a string": {"Severity": {"Normalized": "50"}},
    "the provider's Normalized a string": {"FindingProviderFields": {"Severity": {"Normalized": "x"}}},
    "recommendation a string": {"Remediation": {"Recommendation": "x"}},
}


@pytest.mark.parametrize("trivy", [False, True], ids=["no trivy", "with trivy"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_walked_fields_agree_with_msgspec(variant: str, trivy: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # (a Trivy template's finding among the vulnerability findings types them all by msgspec: without one,
    # the walked vulnerabilities are the ones compared)
    kinds = KINDS if trivy else KINDS[:3]
    findings = []
    for i in range(24):
        f = copy.deepcopy(_finding(kinds[i % len(kinds)]))
        f["Id"] = f"{f['Id']}-{i}"
        if i % 3 == 0:
            f.update(copy.deepcopy(VARIANTS[variant]))
        findings.append(f)
    got = same_both_ways("asff", json.dumps({"Findings": findings}, indent=2).encode(), monkeypatch, variant)
    assert sum(b.num_rows for b in got.batches) + len(got.dead) == 24


def test_mixed_classes_take_their_own_rows() -> None:
    fmt = get("asff")
    kinds = [_finding(KINDS[2]), _finding(KINDS[1]), _finding(KINDS[0])]  # (vulnerability, compliance, detection)
    order = [2, 0, 1, 1, 0, 2, 0, 2, 1, 0, 0, 1, 2, 2, 1, 0, 1, 2, 0, 1]
    findings = []
    for i, k in enumerate(order):
        f = copy.deepcopy(kinds[k])
        f["Id"] = f"{f['Id']}-{i}"
        findings.append(f)
    mixed = fmt.decode(json.dumps({"Findings": findings}).encode(), "s")
    assert [b.num_rows for b in mixed.batches] == [order.count(k) for k in range(3)]
    for k, batch in enumerate(mixed.batches):
        alone = fmt.decode(json.dumps({"Findings": [f for f, x in zip(findings, order, strict=True) if x == k]}).encode(), "s")
        assert len(alone.batches) == 1
        assert batch.equals(alone.batches[0])


def test_walked_vulnerabilities_are_taken() -> None:
    if not _fast.available():
        pytest.skip("no native extension")
    raws = [json.dumps(dict(_finding(KINDS[2]), Id=f"x{i}"), separators=(",", ":")).encode() for i in range(20)]
    cols = asff._walked(raws, "asff", None)
    assert cols is not None
    fs = [asff._REST.decode(r) for r in raws]
    assert _asff_vulns.walked_vulnerabilities(len(fs), cols, asff._shared(fs, cols)) is not None
