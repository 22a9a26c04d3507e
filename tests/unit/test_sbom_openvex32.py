"""OpenVEX documents (``govulncheck -format openvex``, ``vexctl``): each statement a Vulnerability Finding of the
sbom format (:mod:`secpipe.formats._openvex`, read as the CycloneDX VEX it stands for); they were "no format
matched". Inputs: govulncheck's own golden (``tests/cases/sbom32/SOURCES.md``) and the OpenVEX specification's
examples (openvex/spec OPENVEX-SPEC.md, Apache-2.0: the minimal v0.0.1 document, and a v0.2.0 statement with a
product's subcomponents as its Product struct fields describe it)."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.unit.holdout_support import auto_decoded, conformant_rows, ingest_file

GOVULNCHECK = Path(__file__).resolve().parents[1] / "cases" / "sbom32" / "govulncheck-source-call-openvex.json"
#: OPENVEX-SPEC.md, "Document": the minimal document (v0.0.1 shapes: the vulnerability and products as strings)
_MINIMAL = b"""{
  "@context": "https://openvex.dev/ns",
  "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
  "author": "Wolfi J Inkinson",
  "role": "Document Creator",
  "timestamp": "2023-01-08T18:02:03.647787998-06:00",
  "version": "1",
  "statements": [
    {
      "vulnerability": "CVE-2023-12345",
      "products": [
        "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
        "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"
      ],
      "status": "fixed"
    }
  ]
}"""


def test_govulncheck_openvex(tmp_path: Path) -> None:
    rows = conformant_rows(auto_decoded(GOVULNCHECK.read_bytes(), tmp_path, "sbom"))["vulnerability_finding"]
    assert [(r["vulnerabilities"][0]["cve"]["uid"], r["status_id"]) for r in rows] == [
        ("CVE-2020-14040", 3), ("CVE-2020-36067", 1), ("CVE-2021-38561", 1), ("CVE-2021-42248", 1)]  # fmt: skip
    first = rows[0]
    assert first["status_code"] == "not_affected"
    assert orjson.loads(rows[1]["unmapped"])["properties"] == [{"name": "openvex:status", "value": "affected"}]
    assert first["status_detail"] == "Govulncheck determined that the vulnerable code isn't called"
    assert orjson.loads(first["unmapped"])["analysis"]["justification"] == "vulnerable_code_not_present"
    v = first["vulnerabilities"][0]
    assert v["related_vulnerabilities"] == ["GO-2020-0015", "GHSA-5rcv-m4m3-hfh7"]
    assert v["desc"] == "Infinite loop when decoding some inputs in golang.org/x/text"
    assert first["finding_info"]["src_url"] == "https://pkg.go.dev/vuln/GO-2020-0015"
    assert first["metadata"]["product"]["name"] == "govulncheck"
    assert first["metadata"]["log_version"] == "OpenVEX-v0.2.0"
    assert first["time"] == 1704067200000  # 2024-01-01T00:00:00 (no offset: UTC)
    assert first["resources"][-1]["name"] == "Unknown Product"
    # the last vulnerability's second CVE alias is one of its related ids
    assert "CVE-2021-42836" in rows[3]["vulnerabilities"][0]["related_vulnerabilities"]


def test_spec_minimal_document(tmp_path: Path) -> None:
    rows = conformant_rows(auto_decoded(_MINIMAL, tmp_path, "sbom"))["vulnerability_finding"]
    assert len(rows) == 2  # one a product
    for r, arch in zip(rows, ("armv7", "x86_64"), strict=True):
        assert (r["status_id"], r["status_code"]) == (4, "resolved")
        [pkg] = r["vulnerabilities"][0]["affected_packages"]
        assert (pkg["name"], pkg["version"], pkg["purl"]) == ("git", "2.39.0-r1", f"pkg:apk/wolfi/git@2.39.0-r1?arch={arch}")
        assert r["metadata"]["product"]["name"] == "OpenVEX"
        assert r["time"] == 1673222523647


def test_subcomponents_and_statement_times(tmp_path: Path) -> None:
    # v0.2.0: the vulnerability sits in the product's subcomponents (their purls), a statement's own timestamp
    doc = orjson.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
                        "author": "sec@example.com", "timestamp": "2023-01-09T09:08:42-06:00", "version": 2,
                        "statements": [{"timestamp": "2023-01-08T18:02:03-06:00",
                                        "vulnerability": {"name": "CVE-2023-12345"},
                                        "products": [{"@id": "pkg:oci/app@sha256:abc",
                                                      "subcomponents": [{"@id": "pkg:apk/wolfi/git@2.39.0-r1"}]}],
                                        "status": "under_investigation"},
                                       {"vulnerability": {"name": "CVE-2023-12345"},
                                        "products": [{"@id": "pkg:oci/app@sha256:abc",
                                                      "subcomponents": [{"@id": "pkg:apk/wolfi/git@2.39.0-r1"}]}],
                                        "status": "affected", "action_statement": "Upgrade git to 2.39.1"}]})  # fmt: skip
    rows = conformant_rows(auto_decoded(doc, tmp_path, "sbom"))["vulnerability_finding"]
    assert [(r["status_id"], r["status_detail"]) for r in rows] == [(2, None), (1, "Upgrade git to 2.39.1")]
    assert [orjson.loads(r["unmapped"])["analysis"]["firstIssued"] for r in rows] == [
        "2023-01-08T18:02:03-06:00", "2023-01-09T09:08:42-06:00"]  # fmt: skip
    assert {r["vulnerabilities"][0]["affected_packages"][0]["name"] for r in rows} == {"git"}


def test_statements_not_a_list(tmp_path: Path) -> None:
    f = tmp_path / "vex.json"
    f.write_bytes(b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": {"status": "fixed"}}')
    dead, rows = ingest_file(f, tmp_path / "data")
    assert rows == [] and len(dead) == 1 and dead[0].startswith("not an OpenVEX document: its statements")
