"""Grype, OSV-Scanner and Dependency-Track: the fields now decoded once per distinct value (Grype's
``relatedVulnerabilities``, Dependency-Track's ``aliases``) and the per-report constants, checked on
real samples (``tests/cases/scanners27/SOURCES.md``) varied as the tools write them: one CVE matched
in several packages (the same related record every time), findings of two lockfiles, and a value of
the wrong shape in one record (dead-lettered alone with msgspec's reason at its path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners27"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _grype(matches: list[dict[str, Any]]) -> Decoded:
    doc = json.loads((CASES / "grype-0.28-check-all-fields-defectdojo.json").read_text())
    return formats.get("grype").decode(json.dumps({**doc, "matches": matches}, indent=1).encode(), "x")


def test_grype_cve_in_several_packages_shares_its_nvd_record_row_by_row() -> None:
    # Grype repeats CVE-2004-0971's Debian record and its related NVD record for every krb5 binary package.
    doc = json.loads((CASES / "grype-0.28-check-all-fields-defectdojo.json").read_text())
    deb, py = doc["matches"]
    k5 = json.loads(json.dumps(deb))
    k5["artifact"] |= {"name": "libk5crypto3", "purl": "pkg:deb/debian/libk5crypto3@1.17-3+deb10u3?arch=amd64"}
    own = json.loads(json.dumps(deb))  # the same id, with a description and URL of its own and no related record
    own["vulnerability"] |= {"description": "Debian's own text", "urls": ["https://example.org/own"]}
    own["relatedVulnerabilities"] = []
    d = _grype([deb, py, k5, own])
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("vulnerability_finding", rows)
    a, b, c, e = (r["vulnerabilities"][0] for r in rows)
    for v in (a, c):
        assert v["desc"].startswith("The krb5-send-pr script")  # the related NVD record's
        assert [(x["version"], x["base_score"], x["vendor_name"]) for x in v["cve"]["cvss"]] == [("2.0", 2.1, "nvd")]
        assert v["references"][0] == "https://security-tracker.debian.org/tracker/CVE-2004-0971"
        assert "http://www.securityfocus.com/bid/11289" in v["references"]
    assert [p["affected_packages"][0]["name"] for p in (a, c)] == ["libgssapi-krb5-2", "libk5crypto3"]
    assert (b["cve"]["uid"], b["related_vulnerabilities"]) == ("CVE-2021-32626", None)  # redis: no related record
    assert (e["desc"], e["references"], e["cve"]["cvss"]) == ("Debian's own text", ["https://example.org/own"], None)


def test_grype_related_record_of_the_wrong_shape_dead_letters_its_match_alone() -> None:
    doc = json.loads((CASES / "grype-0.28-check-all-fields-defectdojo.json").read_text())
    deb, py = doc["matches"]
    bad = json.loads(json.dumps(deb))
    bad["relatedVulnerabilities"][0]["namespace"] = 3
    d = _grype([bad, py])
    [dead] = d.dead
    assert dead.reason == ("not a Grype match: Expected `str | null`, got `int` - at "
                           "`$.relatedVulnerabilities[0].namespace`")  # fmt: skip
    assert [r["finding_info"]["uid"].split("|")[0] for r in _rows(d)] == [py["vulnerability"]["id"]]
    one = json.loads(json.dumps(deb))
    one["relatedVulnerabilities"] = "CVE-2004-0971"
    d = _grype([py, one])
    assert [x.reason for x in d.dead] == ["not a Grype match: Expected `array | null`, got `str` - at "
                                          "`$.relatedVulnerabilities`"]  # fmt: skip
    assert len(_rows(d)) == 1


def test_dependency_track_aliases_per_finding() -> None:
    doc = json.loads((CASES / "dependency-track-4.10-defectdojo.json").read_text())
    [f] = doc["findings"]
    other = json.loads(json.dumps(f))
    other["vulnerability"] |= {"vulnId": "GHSA-v845-jxx5-vc9f", "aliases": [{"ghsaId": "GHSA-v845-jxx5-vc9f",
                                                                             "cveId": "CVE-2023-43804"}]}  # fmt: skip
    other["matrix"] += "-2"
    none = json.loads(json.dumps(f))
    none["vulnerability"] |= {"vulnId": "GHSA-g4mx-q9vg-27p4", "aliases": None}
    none["matrix"] += "-3"
    bad = json.loads(json.dumps(f))
    bad["vulnerability"]["aliases"] = [{"cveId": 7}]
    body = json.dumps({**doc, "findings": [f, other, bad, f | {"matrix": f["matrix"] + "-4"}, none]}, indent=2)
    d = formats.get("dependency_track").decode(body.encode(), "x")
    assert [x.reason for x in d.dead] == ["not a Dependency-Track finding: Expected `str | null`, got `int` - at "
                                          "`$.vulnerability.aliases[0].cveId`"]  # fmt: skip
    assert d.dead[0].offset == 2
    got = [(v["cve"] and v["cve"]["uid"], v["advisory"] and v["advisory"]["uid"], v["related_vulnerabilities"])
           for v in (r["vulnerabilities"][0] for r in _rows(d))]  # fmt: skip
    assert got == [
        ("CVE-2023-45803", None, ["GHSA-g4mx-q9vg-27p4"]),
        ("CVE-2023-43804", None, ["GHSA-v845-jxx5-vc9f"]),  # the alias CVE; the GHSA id is related
        ("CVE-2023-45803", None, ["GHSA-g4mx-q9vg-27p4"]),
        (None, "GHSA-g4mx-q9vg-27p4", None),  # no alias: the id is the advisory
    ]


def test_osv_scanner_findings_of_two_lockfiles_keep_their_sources() -> None:
    doc = json.loads((CASES / "osv-scanner-some-findings-defectdojo.json").read_text())
    [res] = doc["results"]
    npm = json.loads(json.dumps(res))
    npm["source"] = {"path": "/tmp/app/package-lock.json", "type": "lockfile"}
    bad = {"package": {"name": "x", "version": "1", "ecosystem": "npm"}, "vulnerabilities": {"id": "GHSA-x"}}
    npm["packages"].append(bad)
    d = formats.get("osv_scanner").decode(json.dumps({"results": [res, npm]}).encode(), "x")
    assert len(d.dead) == 1 and "vulnerabilities" in d.dead[0].reason
    rows = _rows(d)
    assert [r["resources"][0]["name"] for r in rows] == ["/tmp/components/yarn.lock", "/tmp/app/package-lock.json"]
    assert [r["finding_info"]["uid"].split("|")[-1] for r in rows] == [r["resources"][0]["name"] for r in rows]
