"""SPDX 3 JSON-LD documents: the Security profile's vulnerabilities and VEX / CVSS assessments as Vulnerability
Findings (sbom format, :mod:`secpipe.formats._spdx3`); they were dead-lettered as "not a format secpipe reads".

Inputs: the SPDX project's own example (``tests/cases/sbom32/SOURCES.md``), and documents built from the SPDX 3.0.1
model (Security profile classes and their JSON-LD syntax examples) in the shape Yocto's ``create-spdx-3.0``
writes (openembedded-core ``meta/lib/oe/sbom30.py``: ``new_cve_vuln``, ``new_vex_patched_relationship``,
``new_vex_unpatched_relationship``, ``new_vex_ignored_relationship``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from secpipe import formats
from tests.unit.holdout_support import auto_decoded, conformant_rows, ingest_file

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom32"
LITE = CASES / "spdx-examples-lite-1-3-with-vex.spdx.json"
DOC = "http://spdx.org/spdxdocs/core-image-minimal-0d3c/"


def _yocto() -> bytes:
    """A Yocto-shaped SPDX 3.0.1 document: busybox with one CVE patched, one unpatched (with a CVSS v3.1
    assessment, the model's example values), one ignored; zlib associated with a CVE no VEX names."""

    def vuln(cve: str) -> dict[str, Any]:
        return {"type": "security_Vulnerability", "spdxId": f"{DOC}vulnerability/{cve}", "creationInfo": "_:ci",
                "externalIdentifier": [{"type": "ExternalIdentifier", "externalIdentifierType": "cve", "identifier": cve,
                                        "identifierLocator": [f"https://cveawg.mitre.org/api/cve/{cve}",
                                                              f"https://www.cve.org/CVERecord?id={cve}"]}]}  # fmt: skip

    def vex(kind: str, rel: str, cve: str, **extra: str) -> dict[str, Any]:
        return {"type": f"security_Vex{kind}VulnAssessmentRelationship", "spdxId": f"{DOC}vex-{rel}/{cve}",
                "creationInfo": "_:ci", "from": f"{DOC}vulnerability/{cve}", "to": [f"{DOC}package/busybox"],
                "relationshipType": rel, "security_vexVersion": "1.0.0", **extra}  # fmt: skip

    graph = [
        {"type": "CreationInfo", "@id": "_:ci", "specVersion": "3.0.1", "created": "2024-11-05T09:12:44Z",
         "createdBy": [f"{DOC}agent/openembedded"], "createdUsing": [f"{DOC}tool/oe-spdx-creator"]},
        {"type": "Tool", "spdxId": f"{DOC}tool/oe-spdx-creator", "creationInfo": "_:ci", "name": "oe-spdx-creator"},
        {"type": "SpdxDocument", "spdxId": f"{DOC}document", "creationInfo": "_:ci",
         "rootElement": [f"{DOC}sbom"], "profileConformance": ["core", "security", "software"]},
        {"type": "software_Sbom", "spdxId": f"{DOC}sbom", "creationInfo": "_:ci", "rootElement": [f"{DOC}image"],
         "software_sbomType": ["build"]},
        {"type": "software_Package", "spdxId": f"{DOC}image", "creationInfo": "_:ci", "name": "core-image-minimal",
         "software_packageVersion": "1.0", "software_primaryPurpose": "operatingSystem"},
        {"type": "software_Package", "spdxId": f"{DOC}package/busybox", "creationInfo": "_:ci", "name": "busybox",
         "software_packageVersion": "1.36.1", "software_primaryPurpose": "application",
         "externalIdentifier": [{"type": "ExternalIdentifier", "externalIdentifierType": "packageUrl",
                                 "identifier": "pkg:yocto/core/busybox@1.36.1"}]},
        {"type": "software_Package", "spdxId": f"{DOC}package/zlib", "creationInfo": "_:ci", "name": "zlib",
         "software_packageVersion": "1.3.1", "software_packageUrl": "pkg:yocto/core/zlib@1.3.1"},
        vuln("CVE-2022-28391"), vuln("CVE-2023-42366"), vuln("CVE-2021-42380"), vuln("CVE-2023-45853"),
        vex("Fixed", "fixedIn", "CVE-2022-28391"),
        vex("Affected", "affects", "CVE-2023-42366", security_actionStatement="Mitigation action unknown"),
        vex("NotAffected", "doesNotAffect", "CVE-2021-42380", security_justificationType="vulnerableCodeNotPresent",
            security_impactStatement="not-applicable-config: the applet is not built"),
        {"type": "security_CvssV3VulnAssessmentRelationship", "spdxId": f"{DOC}cvssv3/CVE-2023-42366",
         "creationInfo": "_:ci", "relationshipType": "hasAssessmentFor", "from": f"{DOC}vulnerability/CVE-2023-42366",
         "to": [f"{DOC}package/busybox"], "security_score": 6.8, "security_severity": "medium",
         "security_vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"},
        {"type": "Relationship", "spdxId": f"{DOC}rel/zlib-vuln", "creationInfo": "_:ci",
         "relationshipType": "hasAssociatedVulnerability", "from": f"{DOC}package/zlib",
         "to": [f"{DOC}vulnerability/CVE-2023-45853"]},
    ]  # fmt: skip
    return orjson.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph})


def _by_cve(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["vulnerabilities"][0]["cve"]["uid"]: r for r in rows}


def test_spdx_example_vex_history(tmp_path: Path) -> None:
    # the SPDX project's own example: one CVE of my-package under investigation, then affected, then fixed
    d = auto_decoded(LITE.read_bytes(), tmp_path, "sbom")
    assert not d.dead
    rows = conformant_rows(d)["vulnerability_finding"]
    assert [(r["status_id"], r["status_code"]) for r in rows] == [(2, "in_triage"), (1, "exploitable"), (4, "resolved")]
    # each assessment keeps the day it was made (its creationInfo: 05-06, 05-07, 05-08)
    assert [orjson.loads(r["unmapped"])["analysis"]["firstIssued"] for r in rows] == [
        "2024-05-06T00:00:00Z", "2024-05-07T00:00:00Z", "2024-05-08T00:00:00Z"]  # fmt: skip
    for r in rows:
        [v] = r["vulnerabilities"]
        assert v["cve"]["uid"] == "CVE-1234-1234"
        assert v["cve"]["created_time"] == 1714953600000  # security_publishedTime 2024-05-06
        assert v["cve"]["modified_time"] == 1715126400000  # security_modifiedTime 2024-05-08
        assert r["time"] == 1715126400000  # the document's creationInfo.created
        assert r["metadata"]["product"]["name"] == "SPDX"
        assert r["metadata"]["log_version"] == "SPDX-3.0.0"
        assert r["message"] == "CVE-1234-1234 in my-package"
        [pkg] = v["affected_packages"]
        assert (pkg["name"], pkg["version"]) == ("my-package", "v1.1")
        assert pkg["purl"] == "pkg:github/example/my-package/releases/tag/v1.0"
    assert len({r["metadata"]["uid"] for r in rows}) == 3


def test_yocto_shaped_document(tmp_path: Path) -> None:
    d = auto_decoded(_yocto(), tmp_path, "sbom")
    assert not d.dead
    rows = conformant_rows(d)["vulnerability_finding"]
    got = _by_cve(rows)
    assert len(rows) == 4
    fixed, affected, ignored, plain = (got[c] for c in ("CVE-2022-28391", "CVE-2023-42366", "CVE-2021-42380",
                                                         "CVE-2023-45853"))  # fmt: skip
    assert (fixed["status_id"], affected["status_id"], ignored["status_id"], plain["status_id"]) == (4, 1, 3, 1)
    assert ignored["status_detail"] == "not-applicable-config: the applet is not built"
    assert orjson.loads(ignored["unmapped"])["analysis"]["justification"] == "vulnerableCodeNotPresent"
    assert affected["status_detail"] == "Mitigation action unknown"
    # the CVSS assessment: severity and the cve's cvss
    assert (affected["severity_id"], affected["severity"]) == (3, "Medium")
    [cvss] = affected["vulnerabilities"][0]["cve"]["cvss"]
    assert (cvss["version"], cvss["base_score"]) == ("3.1", 6.8)
    assert cvss["vector_string"] == "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"
    assert fixed["severity_id"] == 0  # no rating: Unknown
    # the CVE's first locator is its source; the tool that created the document the product
    assert fixed["finding_info"]["src_url"] == "https://cveawg.mitre.org/api/cve/CVE-2022-28391"
    assert {r["metadata"]["product"]["name"] for r in rows} == {"oe-spdx-creator"}
    assert {r["metadata"]["log_version"] for r in rows} == {"SPDX-3.0.1"}
    assert fixed["time"] == 1730797964000  # 2024-11-05T09:12:44Z
    # the packages: busybox (purl from its packageUrl identifier), zlib (software_packageUrl); the image the subject
    bb = fixed["vulnerabilities"][0]["affected_packages"][0]
    assert (bb["name"], bb["version"], bb["purl"]) == ("busybox", "1.36.1", "pkg:yocto/core/busybox@1.36.1")
    z = plain["vulnerabilities"][0]["affected_packages"][0]
    assert (z["name"], z["version"], z["purl"]) == ("zlib", "1.3.1", "pkg:yocto/core/zlib@1.3.1")
    assert fixed["resources"][0]["name"] == "core-image-minimal"
    assert fixed["message"] == "CVE-2022-28391 in busybox in core-image-minimal"


def test_unprefixed_names_and_inline_elements(tmp_path: Path) -> None:
    # SPDX 3.0.0-era examples write types and properties without the profile prefix, one value for a list,
    # and JSON-LD lets an element stand inline where a reference is expected
    doc = orjson.dumps({"@context": "https://spdx.github.io/spdx-spec/v3.0/model/spdx-context.jsonld", "@graph": [
        {"type": "Vulnerability", "spdxId": "urn:v1", "name": "GHSA-xxxx-yyyy-zzzz", "summary": "prototype pollution",
         "publishedTime": "2024-01-02T00:00:00Z"},
        {"type": "VexNotAffectedVulnAssessmentRelationship", "spdxId": "urn:a1", "from": "urn:v1",
         "to": {"type": "Package", "spdxId": "urn:p1", "name": "lodash", "packageVersion": "4.17.21"},
         "relationshipType": "doesNotAffect", "justificationType": "componentNotPresent"},
    ]})  # fmt: skip
    d = auto_decoded(doc, tmp_path, "sbom")
    [r] = conformant_rows(d)["vulnerability_finding"]
    v = r["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "GHSA-xxxx-yyyy-zzzz" and v["cve"] is None
    assert v["desc"] == "prototype pollution"
    assert (v["affected_packages"][0]["name"], v["affected_packages"][0]["version"]) == ("lodash", "4.17.21")
    assert r["status_id"] == 3


def test_no_security_elements_and_bad_graph(tmp_path: Path) -> None:
    # a document of no Security element holds no event (as an SPDX 2 one); a @graph that is no list of objects
    # is dead-lettered whole with the reason
    head = b'{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":'
    inventory = head + (b'[{"type":"CreationInfo","@id":"_:creationinfo","createdBy":["http://spdx.example.com/Agent/'
                        b'JoshuaWatt"],"specVersion":"3.0.1","created":"2024-03-06T00:00:00Z"}]}')  # fmt: skip
    d = auto_decoded(inventory, tmp_path, "sbom")
    assert not d.dead and not d.batches
    f = tmp_path / "bad.json"
    f.write_bytes(head + b'{"type":"Tool"}}')
    dead, rows = ingest_file(f, tmp_path / "data")
    assert rows == [] and len(dead) == 1
    assert "not an SPDX 3 JSON-LD document" in dead[0] and "@graph" in dead[0]
    assert formats.detect(head + b"[]}") is formats.get("sbom")
