"""asff's two paths: findings typed by msgspec only for the fields read as values and walked natively
for the rest (strings, resources, unmapped, raw_data, uids), against msgspec typing them whole
(``SECPIPE_NATIVE=0``): same batches, same dead letters. Each document holds at least 16 findings,
so the native path is the one taken where the extension is built; the variants are the real samples'
findings (tests/cases/scanners30) with one field given a value ASFF's syntax allows (null, empty, a
number account id, a Tags map) or one msgspec refuses, so that a batch the walk or the partial
typing cannot decide goes to msgspec's path whole and is dead-lettered there with its reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _fast
from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners30"


def _finding(name: str) -> dict[str, Any]:
    doc = json.loads((CASES / name).read_text())
    return (doc if isinstance(doc, list) else doc.get("Findings") or doc["findings"])[0]  # type: ignore[no-any-return]


KINDS = ["asff-guardduty-defectdojo.json", "asff-securityhub-config-one-finding-defectdojo.json",
         "asff-inspector-ec2-cve-defectdojo.json", "asff-trivy-alpine-310.golden.json"]  # fmt: skip
VARIANTS: dict[str, dict[str, Any]] = {
    "as it is": {},
    "no product name": {"ProductName": None, "CompanyName": ""},
    "product from the ARN": {"ProductName": None, "ProductFields": {}, "ProductArn": "arn:aws:securityhub:x::product/acme/scan"},
    "account id a number": {"AwsAccountId": 123456789012},
    "workflow null, region empty": {"Workflow": None, "Region": ""},
    "resources null": {"Resources": None},
    "resources with tags": {"Resources": [{"Type": "Other", "Id": "r1", "Region": "", "Partition": "aws",
                                           "Tags": {"team": "a", "n": 1}, "Details": None}, {"Type": "Other"}]},
    "no UpdatedAt": {"UpdatedAt": None},
    "product fields not all strings": {"ProductFields": {"ControlId": 5, "aws/securityhub/ProductName": ""}},
    "severity from Normalized": {"Severity": {"Normalized": 75}, "FindingProviderFields": {"Severity": {"Label": ""}}},
    "severity from the provider": {"Severity": {"Label": ""}, "FindingProviderFields": {"Severity": {"Label": "HIGH"}}},
    # refused by msgspec: each finding dead-lettered with its reason, whichever path reads the batch
    "title a number": {"Title": 5},
    "workflow a string": {"Workflow": "NEW"},
    "tags a list": {"Resources": [{"Type": "Other", "Tags": []}]},
    "product fields not an object": {"ProductFields": "x"},
    "no Id and a title of the wrong type": {"Id": None, "Title": 5},
    "no time and a resource of the wrong type": {"CreatedAt": None, "UpdatedAt": None, "Resources": ["x"]},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_native_and_msgspec_paths_agree(variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    findings = []
    for i in range(20):
        f = copy.deepcopy(_finding(KINDS[i % len(KINDS)]))
        f["Id"] = f"{f['Id']}-{i}"
        if i % 3 == 0:  # one finding in three: the variant (the others stay good, in every class)
            f.update(VARIANTS[variant])
        findings.append(f)
    doc = json.dumps({"Findings": findings}, indent=2).encode()
    got = same_both_ways("asff", doc, monkeypatch, variant)
    assert sum(b.num_rows for b in got.batches) + len(got.dead) == 20


def test_the_native_path_is_taken() -> None:
    if not _fast.available():
        pytest.skip("no native extension")
    from secpipe.formats import asff

    raws = [json.dumps(_finding(k), separators=(",", ":")).encode() for k in KINDS]
    cols = asff._walked(raws, "asff", "x")
    assert cols is not None
    assert cols["Id"].to_pylist() == [json.loads(r)["Id"] for r in raws]
    assert cols["uids"].equals(asff.event_uids("asff", raws))
