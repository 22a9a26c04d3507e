"""Scanner formats against real samples of the holdout round 26 (``tests/cases/holdout/SOURCE.md``,
"Round 26 (scanners)").

Expected values are read in the samples, not computed by the parsers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows
from tests.unit.native_support import detected_both_ways

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
_JUST_ONE = "vulnerabilities constraint just_one"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _no_just_one(cls: str, rows: list[dict[str, Any]]) -> bool:
    return not any(k.startswith(_JUST_ONE) for k in check_rows(cls, rows))


def test_snyk_issue_without_cve_is_snyk_advisory(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Jenkins Snyk plugin's fixture (snyk test --json of a Maven project): the first issue names
    # CVE-2016-3092, the second none ("CVE": []). A Snyk id was stored as cve.uid; OCSF 1.8.0 gives a
    # vendor advisory id advisory.uid, and a vulnerability just one of advisory / cve / cwe.
    body = (HOLDOUT / "jenkins-snyk-plugin-report-with-vulns.json").read_bytes()
    dec = detected_both_ways("snyk", body, monkeypatch, "jenkins snyk report")
    assert dec.events == 2 and not dec.dead
    rows = {r["finding_info"]["uid"].split("|")[0]: r for r in _rows(dec)}
    cve_row, own = rows["SNYK-JAVA-COMMONSFILEUPLOAD-30082"], rows["SNYK-JAVA-COMMONSFILEUPLOAD-31540"]
    v = cve_row["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2016-3092" and v["cve"]["cwe"] == {"uid": "CWE-20"}
    assert v.get("advisory") is None and v["related_vulnerabilities"] == ["SNYK-JAVA-COMMONSFILEUPLOAD-30082"]
    assert [(c["base_score"], c["vector_string"]) for c in v["cve"]["cvss"]] == [
        (7.5, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")]  # fmt: skip
    assert "CVSSv3" not in json.loads(cve_row["unmapped"])
    w = own["vulnerabilities"][0]
    assert w.get("cve") is None and w.get("cwe") is None
    assert w["advisory"]["uid"] == "SNYK-JAVA-COMMONSFILEUPLOAD-31540"
    assert w["advisory"]["title"] == "Information Disclosure"
    assert w["advisory"]["related_cwes"] == [{"uid": "CWE-200"}]
    assert w["advisory"]["created_time"] == 1487318748497  # publicationTime 2017-02-17T08:05:48.497Z
    # the rating has no OCSF place outside a cve: kept in unmapped as the issue gives it
    aside = json.loads(own["unmapped"])
    assert (aside["CVSSv3"], aside["cvssScore"]) == ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", 6.5)
    assert own["severity_id"] == 3 and cve_row["severity_id"] == 4
    assert _no_just_one("vulnerability_finding", list(rows.values()))


def test_sarif_kind_is_not_a_vulnerability_category(monkeypatch: pytest.MonkeyPatch) -> None:
    # OCSF's vulnerability.category is the vulnerability's category as the tool reports it; SARIF's
    # result kind ("fail", "pass", "open" ...: whether the rule failed, §3.27.9) is none: it decides
    # level and status and is kept in unmapped. Qodana writes kind "fail" on each result.
    body = (HOLDOUT / "qodana-cpp-mocked-results.sarif.json").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "qodana")
    rows = _rows(dec)
    assert len(rows) == 3
    for r in rows:
        assert r["vulnerabilities"][0].get("category") is None
        assert json.loads(r["unmapped"])["kind"] == json.loads(r["raw_data"])["kind"] == "fail"


def test_sarif_uri_base_ids_resolve_into_paths(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sarif-sdk's Fortify FPR conversion: the run's artifacts[0] is "Helpers/DBHelper.cs" relative to
    # SRCROOT, which originalUriBaseIds defines as file:///C:/projects/myproject/src/ (§3.4.4, §3.14.14);
    # the path was the relative uri alone
    body = (real / "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/FortifyFpr/"
            "OneResultWithTwoTraces.fpr.sarif").read_bytes()  # fmt: skip
    dec = detected_both_ways("sarif", body, monkeypatch, "fortify")
    (r,) = _rows(dec)
    file = r["vulnerabilities"][0]["affected_code"][0]["file"]
    assert (file["path"], file["name"]) == ("C:/projects/myproject/src/Helpers/DBHelper.cs", "DBHelper.cs")


def test_sarif_base_without_uri_leaves_the_path_relative(real: Path) -> None:
    # Contrast Security's WebGoat conversion: SITE_ROOT is defined by a description only (no uri):
    # "/webgoat/Content/ForgotPassword.aspx" stays as given
    body = (real / "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/ContrastSecurity/"
            "WebGoat.xml.sarif").read_bytes()  # fmt: skip
    rows = _rows(formats.get("sarif").decode(body, "t"))
    paths = {c["file"]["path"] for r in rows for c in r["vulnerabilities"][0]["affected_code"] or ()}
    assert "/webgoat/Content/ForgotPassword.aspx" in paths and not any("SITE_ROOT" in p for p in paths)


def test_bicep_lint_file_uri_is_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # bicep lint --diagnostics-format sarif on a GitHub runner: an absolute file URI with a "./"
    # segment (RFC 3986 §5.2.4 removes it), no rule list, a charOffset beside startLine
    body = (HOLDOUT / "bicep-lint-johnnyreilly.sarif").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "bicep")
    (r,) = _rows(dec)
    assert r["metadata"]["product"]["name"] == "bicep" and r["severity_id"] == 3  # no level: warning
    v = r["vulnerabilities"][0]
    code = v["affected_code"][0]
    assert code["file"]["path"] == "/home/runner/work/blog.johnnyreilly.com/blog.johnnyreilly.com/infra/main.bicep"
    assert (code["file"]["name"], code["start_line"]) == ("main.bicep", 19)
    assert v["advisory"]["uid"] == "no-unused-vars" and r["message"].startswith('Variable "unusedVar" is declared')
    assert r.get("unmapped") is None  # the result has no other key (its kind is absent)


def test_github_secret_scanning_rest_alert_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # GET /repos/{owner}/{repo}/secret-scanning/alerts answers an array of the alerts themselves (no
    # webhook envelope); it was refused as "not a GitHub webhook payload"
    body = (HOLDOUT / "pygithub-secret-scanning-alerts.json").read_bytes()
    dec = detected_both_ways("github", body, monkeypatch, "secret scanning REST alerts")
    assert dec.events == 1 and not dec.dead
    (r,) = _rows(dec)
    assert r["class_uid"] == 2004 and r["metadata"]["event_code"] == "secret_scanning_alert"
    assert r["finding_info"]["uid"] == "owner/private-repo/secret-scanning/2"
    assert r["finding_info"]["title"] == "Secret detected: Adafruit IO Key"
    assert r["finding_info"]["types"] == ["secret_scanning", "adafruit_io_key"]
    assert r["finding_info"]["src_url"] == "https://github.com/owner/private-repo/security/secret-scanning/2"
    # resolved as a false positive: suppressed, at its resolved_at
    assert (r["status"], r["status_detail"]) == ("Suppressed", "false_positive")
    assert r["time"] == 1604717233000 and r["finding_info"]["created_time"] == 1604688531000
    assert r["resources"] == [{"type": "repository", "name": "owner/private-repo"}]
    assert r["api"]["service"]["name"] == "GitHub REST API"


def test_github_secret_scanning_rest_alert_of_the_wrong_shape_is_a_dead_letter() -> None:
    alerts = json.loads((HOLDOUT / "pygithub-secret-scanning-alerts.json").read_bytes())
    alerts.append({**alerts[0], "number": 3, "created_at": ["2020-11-06"]})
    dec = formats.get("github").decode(json.dumps(alerts).encode(), "t")
    assert dec.events == 2 and len(dec.dead) == 1 and "not a GitHub REST API alert" in dec.dead[0].reason
    assert [r["finding_info"]["uid"] for r in _rows(dec)] == ["owner/private-repo/secret-scanning/2"]


def test_trivy_vulnerability_id_that_is_no_cve_is_the_advisory(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Trivy's golden nuget report: VulnerabilityID GHSA-5crp-9r3c-p9vr (GitHub's advisory id, no CVE)
    # was stored as cve.uid; a cve object's uid is a CVE id, and OCSF 1.8.0 gives a vulnerability just
    # one of advisory / cve / cwe
    body = (real / "trivy/nuget.json.golden").read_bytes()
    dec = detected_both_ways("trivy", body, monkeypatch, "trivy nuget")
    (r,) = _rows(dec)
    v = r["vulnerabilities"][0]
    assert v.get("cve") is None and v.get("cwe") is None
    adv = v["advisory"]
    assert (adv["uid"], adv["title"]) == ("GHSA-5crp-9r3c-p9vr", "Improper Handling of Exceptional Conditions in Newtonsoft.Json")
    assert adv["src_url"] == "https://github.com/advisories/GHSA-5crp-9r3c-p9vr"
    assert adv["related_cwes"] == [{"uid": "CWE-755"}]
    assert adv["created_time"] == 1655910527000  # PublishedDate 2022-06-22T15:08:47Z
    # its GHSA rating: no OCSF place outside a cve, kept in unmapped as Trivy gives it
    assert json.loads(r["unmapped"])["CVSS"] == {"ghsa": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "V3Score": 7.5}}
    assert r["severity_id"] == 4 and v["affected_packages"][0]["name"] == "Newtonsoft.Json"
    assert _no_just_one("vulnerability_finding", [r])


def test_grype_cyclonedx_image_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # Grype's CycloneDX 1.6 presenter: a tools.components entry whose maker is its "author", Syft's
    # component properties (syft:package:type, syft:location:0:path) and no metadata.component (no
    # BOM subject: resources held an empty first entry)
    body = (HOLDOUT / "grype-cyclonedx-presenter-image.json").read_bytes()
    dec = detected_both_ways("sbom", body, monkeypatch, "grype cyclonedx")
    assert dec.events == 2 and not dec.dead
    rows = {r["vulnerabilities"][0]["cve"]["uid"]: r for r in _rows(dec)}
    one, two = rows["CVE-1999-0001"], rows["CVE-1999-0002"]
    assert one["metadata"]["product"] == {"name": "grype", "vendor_name": "anchore", "version": "[not provided]"}
    assert one["time"] == 1740513967000  # 2025-02-25T15:06:07-05:00
    assert one["resources"] == [{"type": "library", "name": "package-1", "uid": "9baa2db122fea516", "labels": None, "data": None}]
    pkg = one["vulnerabilities"][0]["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["type"], pkg["path"]) == ("package-1", "1.1.1", "rpm", "/foo/bar/somefile-1.txt")
    assert (one["severity_id"], two["severity_id"]) == (2, 5)  # the ratings' severity words (low, critical)
    assert two["vulnerabilities"][0]["affected_packages"][0]["purl"] == "pkg:deb/package-2@2.2.2"


def test_cyclonedx_vulnerability_id_that_is_no_cve_is_the_advisory(monkeypatch: pytest.MonkeyPatch) -> None:
    # the same Grype BOM with its first vulnerability named by a GitHub advisory id (as Grype names a
    # GHSA-only match): no cve (its uid is a CVE id; OCSF 1.8.0: just one of advisory / cve / cwe)
    bom = json.loads((HOLDOUT / "grype-cyclonedx-presenter-image.json").read_bytes())
    bom["vulnerabilities"][0]["id"] = "GHSA-5crp-9r3c-p9vr"
    bom["vulnerabilities"][0]["cwes"] = [755]
    dec = detected_both_ways("sbom", json.dumps(bom).encode(), monkeypatch, "grype cyclonedx ghsa")
    r = next(r for r in _rows(dec) if r["vulnerabilities"][0].get("cve") is None)
    adv = r["vulnerabilities"][0]["advisory"]
    assert (adv["uid"], adv["desc"], adv["related_cwes"]) == ("GHSA-5crp-9r3c-p9vr", "1999-01 description", [{"uid": "CWE-755"}])
    assert json.loads(r["unmapped"])["ratings"] == bom["vulnerabilities"][0]["ratings"]
    assert _no_just_one("vulnerability_finding", _rows(dec))


@pytest.mark.parametrize(("uri", "path", "name"), [
    ("infra/my%20main.bicep", "infra/my main.bicep", "my main.bicep"),  # a relative reference, percent-decoded
    ("C:\\work\\infra\\main.bicep", "C:\\work\\infra\\main.bicep", "main.bicep"),  # Bandit on Windows: a raw path
    ("file:///C:/work/infra/main%2Bx.bicep", "C:/work/infra/main+x.bicep", "main+x.bicep"),
])  # fmt: skip
def test_sarif_uri_forms_as_paths(uri: str, path: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the bicep sample's location written as other producers write theirs (SARIF §3.4.3: a URI reference)
    log = json.loads((HOLDOUT / "bicep-lint-johnnyreilly.sarif").read_bytes())
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = uri
    dec = detected_both_ways("sarif", json.dumps(log).encode(), monkeypatch, uri)
    (r,) = _rows(dec)
    file = r["vulnerabilities"][0]["affected_code"][0]["file"]
    assert (file["path"], file["name"]) == (path, name)


def test_sarif_ghsa_rule_id_is_the_advisory(monkeypatch: pytest.MonkeyPatch) -> None:
    # Grype's SARIF names a rule "<vulnerability id>-<package>": for a GitHub-advisory-only match
    # that id is a GHSA id, which was stored as cve.uid (a cve's uid is a CVE id): the advisory
    text = (HOLDOUT / "grype-sarif-presenter-image.sarif").read_text().replace("CVE-1999-0001", "GHSA-5crp-9r3c-p9vr")
    dec = detected_both_ways("sarif", text.encode(), monkeypatch, "grype sarif ghsa")
    got = {r["finding_info"]["analytic"]["uid"]: r["vulnerabilities"][0] for r in _rows(dec)}
    ghsa, cve = got["GHSA-5crp-9r3c-p9vr-package-1"], got["CVE-1999-0002-package-2"]
    assert ghsa.get("cve") is None and ghsa["advisory"]["uid"] == "GHSA-5crp-9r3c-p9vr"
    assert ghsa["advisory"]["title"] == "GHSA-5crp-9r3c-p9vr low vulnerability for package-1 package"
    assert cve["cve"]["uid"] == "CVE-1999-0002" and cve.get("advisory") is None
    assert _no_just_one("application_security_posture_finding", _rows(dec))
