"""Scanner formats against real samples of the holdout round 25 (``tests/cases/holdout/SOURCE.md``,
"Round 25 (scanners)").

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
from tests.conftest import REAL
from tests.unit.native_support import detected_both_ways

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
_JUST_ONE = "vulnerabilities constraint just_one ['advisory', 'cve', 'cwe'] 0 present"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _decode(fmt: str, body: bytes) -> Decoded:
    dec = formats.get(fmt).decode(body, "t")
    assert not dec.dead
    return dec


def test_qodana_severity_is_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # Qodana writes its severity (Critical, High, Moderate, Low, Info) as the result's
    # properties.qodanaSeverity and the rule's defaultConfiguration.parameters.qodanaSeverity; its
    # SARIF level is a coarser copy (note for Info and Moderate alike). qodana-cli's mocked C++ results.
    body = (HOLDOUT / "qodana-cpp-mocked-results.sarif.json").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "qodana")
    assert dec.events == 3 and not dec.dead
    got = {r["message"]: r for r in _rows(dec)}
    want = {  # message: (level in the sample, qodanaSeverity -> severity_id)
        "Local variable 'result' can be made const": ("note", 1),  # Info
        "Local variable 'z' is never used": ("warning", 4),  # High
        "Parameter 'message' is copied for each invocation, consider passing by const reference": ("note", 1),  # Info
    }
    assert set(got) == set(want)
    for msg, (level, sev) in want.items():
        r = got[msg]
        assert json.loads(r["raw_data"])["level"] == level
        assert (r["severity_id"], r["vulnerabilities"][0]["severity"]) == (sev, r["severity"]), msg
        assert r["metadata"]["product"]["name"] == "QDCPP" and r["metadata"]["product"]["version"] == "253.29649"
    z = got["Local variable 'z' is never used"]["vulnerabilities"][0]
    # main.cpp is relative to SRCROOT, originalUriBaseIds' internal/core/testdata/cpp-project/ (itself relative
    # to PROJECTROOT, which names no uri: the path stays relative to the repository root), SARIF §3.14.14
    assert (z["affected_code"][0]["file"]["path"], z["affected_code"][0]["start_line"]) == \
        ("internal/core/testdata/cpp-project/main.cpp", 26)  # fmt: skip


def test_qodana_rule_severity_when_the_result_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # without the result's own qodanaSeverity its rule's default one decides (Moderate: Medium, 3),
    # not the rule's default level (note: Low)
    log = json.loads((HOLDOUT / "qodana-cpp-mocked-results.sarif.json").read_bytes())
    res = log["runs"][0]["results"][2]
    del res["properties"]["qodanaSeverity"]
    del res["level"]
    dec = detected_both_ways("sarif", json.dumps(log).encode(), monkeypatch, "qodana rule severity")
    got = {r["finding_info"]["analytic"]["uid"]: r["severity_id"] for r in _rows(dec)}
    assert got == {"CppLocalVariableMayBeConst": 1, "CppDeclaratorNeverUsed": 4, "CppPassValueParameterByConstReference": 3}


def test_code_finding_rule_is_its_advisory() -> None:
    # OCSF 1.8.0's vulnerability object holds just one of advisory, cve, cwe; a code finding with
    # no CVE or CWE names its rule, which is its advisory (uid the rule id)
    log = _rows(_decode("sarif", (HOLDOUT / "qodana-cpp-mocked-results.sarif.json").read_bytes()))
    v = log[0]["vulnerabilities"][0]
    assert v["advisory"]["uid"] == "CppLocalVariableMayBeConst"
    assert v["advisory"]["title"] == "Local variable can be made const"
    assert v["cve"] is None and v["cwe"] is None
    # GitLab's deprecated SAST array: Bandit's B108, Find Security Bugs' PREDICTABLE_RANDOM
    gl = _rows(_decode("gitlab_security", (HOLDOUT / "gitlabhq-gl-sast-report-deprecated.json").read_bytes()))
    advs = [(r["vulnerabilities"][0]["advisory"] or {}).get("uid") for r in gl]
    assert advs[:3] == ["B108", "PREDICTABLE_RANDOM", "B404"]
    assert gl[0]["vulnerabilities"][0]["advisory"]["title"] == "Bandit Test ID B108"
    # a GitHub code_scanning_alert webhook whose rule has no CWE tag: CodeQL's java/sql-injection
    hook = REAL / "octokit-webhooks/payload-examples/api.github.com/code_scanning_alert/created.payload.json"
    gh = _rows(formats.get("github").decode(hook.read_bytes(), "t"))
    assert gh[0]["vulnerabilities"][0]["advisory"] == {**gh[0]["vulnerabilities"][0]["advisory"], "uid": "java/sql-injection",
                                                       "title": "Query built from user-controlled sources"}
    for cls, rows in (("application_security_posture_finding", log), ("application_security_posture_finding", gl),
                      ("vulnerability_finding", gh)):
        assert _JUST_ONE not in check_rows(cls, rows)


def test_sonarqube_issue_rule_is_its_advisory() -> None:
    body = (HOLDOUT / "sonarqube-do-transition-example.json").read_bytes()
    rows = _rows(_decode("sonarqube", body))
    rule = json.loads(body)["issue"]["rule"]
    assert [r["vulnerabilities"][0]["advisory"]["uid"] for r in rows] == [rule]
    assert _JUST_ONE not in check_rows("application_security_posture_finding", rows)


def test_gitlab_cvss_vectors_without_a_cve_stay_in_unmapped() -> None:
    # GitLab's schema 15 gives each vulnerability cvss_vectors ([{vendor, vector}]); OCSF 1.8.0 has
    # a cvss only in cve, which requires a CVE id: a Gemnasium-only advisory's vectors were dropped
    # (typed, so not in unmapped, and nowhere else). DefectDojo's 2-vulnerability report, each given
    # the vectors the schema describes: the first names no CVE, the second CVE-2020-29652.
    rep = json.loads((HOLDOUT / "gl-dependency-scanning-report-2-vuln-defectdojo.json").read_bytes())
    v31 = {"vendor": "GitLab", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}
    odd = {"vendor": "NVD", "vector": "not a vector"}
    rep["vulnerabilities"][0]["cvss_vectors"] = [v31]
    rep["vulnerabilities"][1]["cvss_vectors"] = [v31, odd]
    rows = _rows(_decode("gitlab_security", json.dumps(rep).encode()))
    by_adv = {(r["vulnerabilities"][0]["advisory"] or {}).get("uid"): r for r in rows}
    gem = by_adv["7368f513-0aa9-4e34-a08d-40ea81f48e0e"]
    assert gem["vulnerabilities"][0]["cve"] is None
    assert json.loads(gem["unmapped"])["cvss_vectors"] == [v31]
    crypto = by_adv[None]
    cve = crypto["vulnerabilities"][0]["cve"]
    assert cve["uid"] == "CVE-2020-29652"
    assert [(c["version"], c["vector_string"], c["vendor_name"]) for c in cve["cvss"]] == [("3.1", v31["vector"], "GitLab")]
    # the vector of no known version was not placed: the vulnerability's vectors stay in unmapped too
    assert json.loads(crypto["unmapped"])["cvss_vectors"] == [v31, odd]
    # without vectors nothing changes: no cvss_vectors key in unmapped
    plain = _rows(_decode("gitlab_security", (HOLDOUT / "gl-dependency-scanning-report-2-vuln-defectdojo.json").read_bytes()))
    assert all("cvss_vectors" not in json.loads(r["unmapped"] or "{}") for r in plain)


def test_trivy_sbom_scan_bom_ref_stays_in_unmapped(monkeypatch: pytest.MonkeyPatch) -> None:
    # `trivy sbom` names each vulnerable package's bom-ref in the SBOM it scanned
    # (PkgIdentifier.BOMRef) beside its PURL and UID; OCSF's affected package has no place for the
    # bom-ref (nor for the UID beside the PkgID, which is the package's uid): both were dropped
    body = (HOLDOUT / "trivy-sbom-minikube-kbom.json").read_bytes()
    dec = detected_both_ways("trivy", body, monkeypatch, "trivy sbom kbom")
    assert dec.events == 1 and not dec.dead
    (r,) = _rows(dec)
    pkg = r["vulnerabilities"][0]["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["purl"], pkg["uid"]) == (
        "k8s.io/kubelet", "1.27.0", "pkg:k8s/k8s.io%2Fkubelet@1.27.0", "k8s.io/kubelet@1.27.0")
    assert json.loads(r["unmapped"])["PkgIdentifier"] == {
        "PURL": "pkg:k8s/k8s.io%2Fkubelet@1.27.0", "UID": "4cb15d0a98eeae67", "BOMRef": "pkg:k8s/k8s.io%2Fkubelet@1.27.0"}
    assert set(json.loads(r["unmapped"])) == {"Layer", "DataSource", "VendorSeverity", "PkgIdentifier"}
    assert r["vulnerabilities"][0]["cve"]["uid"] == "CVE-2023-2431"
    assert r["resources"][0]["type"] == "cyclonedx" and r["resources"][0]["name"] == "testdata/fixtures/sbom/minikube-kbom.json"


def test_trivy_package_identifier_placed_whole_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    # without a PkgID the UID is the package's uid and a PURL its purl: nothing stays unplaced
    rep = json.loads((HOLDOUT / "trivy-sbom-minikube-kbom.json").read_bytes())
    v = rep["Results"][1]["Vulnerabilities"][0]
    del v["PkgID"], v["PkgIdentifier"]["BOMRef"]
    dec = detected_both_ways("trivy", json.dumps(rep).encode(), monkeypatch, "identifier placed")
    (r,) = _rows(dec)
    assert r["vulnerabilities"][0]["affected_packages"][0]["uid"] == "4cb15d0a98eeae67"
    assert "PkgIdentifier" not in json.loads(r["unmapped"])


def test_github_code_scanning_rest_alert_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # GET /repos/{owner}/{repo}/code-scanning/alerts answers a JSON array of the alerts themselves
    # (no webhook envelope: no action, sender or repository). It was refused by --format auto and,
    # with --format github, mapped as a branch_protection_rule (its top-level "rule").
    body = (HOLDOUT / "pygithub-code-scanning-alerts.json").read_bytes()
    dec = detected_both_ways("github", body, monkeypatch, "code scanning REST alerts")
    assert dec.events == 2 and not dec.dead
    rows = {r["finding_info"]["uid"]: r for r in _rows(dec)}
    assert set(rows) == {"matt-davis27/PyGithub/code-scanning/14", "matt-davis27/PyGithub/code-scanning/13"}
    fixed, open_ = rows["matt-davis27/PyGithub/code-scanning/14"], rows["matt-davis27/PyGithub/code-scanning/13"]
    assert (fixed["class_uid"], open_["class_uid"]) == (2002, 2002)
    assert (fixed["status"], fixed["status_detail"], open_["status"], open_["status_detail"]) == ("Resolved", "fixed", "New", "open")
    assert fixed["severity_id"] == 3  # security_severity_level medium
    assert fixed["finding_info"]["analytic"]["uid"] == "actions/missing-workflow-permissions"
    assert fixed["finding_info"]["src_url"] == "https://github.com/matt-davis27/PyGithub/security/code-scanning/14"
    v = open_["vulnerabilities"][0]
    assert v["cwe"]["uid"] == "CWE-275" and v.get("advisory") is None
    code = v["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["end_line"]) == (".github/workflows/top-issues.yaml", 9, 23)
    assert fixed["resources"][0]["type"] == "repository" and fixed["resources"][0]["name"] == "matt-davis27/PyGithub"
    assert fixed["metadata"]["event_code"] == "code_scanning_alert"
    assert fixed["api"]["service"]["name"] == "GitHub REST API"
    assert json.loads(fixed["raw_data"])["number"] == 14
    assert fixed.get("unmapped") is None  # the record is the alert (a webhook's "alert" is mapped whole too)


def test_github_rest_alert_of_the_wrong_shape_is_a_dead_letter() -> None:
    alerts = json.loads((HOLDOUT / "pygithub-code-scanning-alerts.json").read_bytes())
    alerts[0]["most_recent_instance"]["location"] = "ci.yml:169"
    dec = formats.get("github").decode(json.dumps(alerts).encode(), "t")
    assert dec.events == 2 and len(dec.dead) == 1 and "not a GitHub REST API alert" in dec.dead[0].reason
    assert [r["finding_info"]["uid"] for r in _rows(dec)] == ["matt-davis27/PyGithub/code-scanning/13"]


def test_grype_sarif_rule_id_names_its_cve(monkeypatch: pytest.MonkeyPatch) -> None:
    # Grype's SARIF rule ids are "<vulnerability id>-<package name>" (CVE-1999-0001-package-1):
    # the CVE was not recognized (only a rule id that is a CVE id was), so the finding named no
    # CVE and its rule id stood as the advisory
    body = (HOLDOUT / "grype-sarif-presenter-image.sarif").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "grype sarif")
    assert dec.events == 2 and not dec.dead
    got = {r["finding_info"]["analytic"]["uid"]: r for r in _rows(dec)}
    assert {k: r["vulnerabilities"][0]["cve"]["uid"] for k, r in got.items()} == {
        "CVE-1999-0001-package-1": "CVE-1999-0001", "CVE-1999-0002-package-2": "CVE-1999-0002"}
    assert all(r["vulnerabilities"][0].get("advisory") is None for r in got.values())
    # security-severity "4.0" -> Medium, "1.0" -> Low (the rule's property, not its words)
    assert [got[k]["severity_id"] for k in sorted(got)] == [3, 2]
    code = got["CVE-1999-0001-package-1"]["vulnerabilities"][0]["affected_code"][0]
    assert code["file"]["path"] == "image/somefile-1.txt"
    assert _JUST_ONE not in check_rows("application_security_posture_finding", list(got.values()))


def test_sarif_rule_id_like_a_cve_but_not_one_names_none() -> None:
    log = json.loads((HOLDOUT / "grype-sarif-presenter-image.sarif").read_bytes())
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    results = log["runs"][0]["results"]
    rules[0]["id"] = results[0]["ruleId"] = "CVE-1999-01"  # too few digits
    rules[1]["id"] = results[1]["ruleId"] = "CVE-1999-00021"  # a 5-digit CVE: itself
    rows = {r["finding_info"]["analytic"]["uid"]: r for r in _rows(_decode("sarif", json.dumps(log).encode()))}
    assert rows["CVE-1999-01"]["vulnerabilities"][0].get("cve") is None
    assert rows["CVE-1999-00021"]["vulnerabilities"][0]["cve"]["uid"] == "CVE-1999-00021"


def test_checkov_sca_sarif_rule_id_names_its_cve(monkeypatch: pytest.MonkeyPatch) -> None:
    # Checkov's SCA image SARIF: rule ids "<CVE id>_<package>@<version>"; a license finding's
    # rule (no CVE) is its advisory; a result with an external suppression is Suppressed
    body = (HOLDOUT / "checkov-sca-image-sarif.sarif").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "checkov sca sarif")
    assert dec.events == 3 and not dec.dead
    got = {r["finding_info"]["analytic"]["uid"]: r for r in _rows(dec)}
    perl = got["CVE-2020-16156_perl@5.34.0-3ubuntu1"]
    pcre = got["CVE-2022-1586_pcre2@10.39-3build1"]
    lic = got["Apache-2.0-Fake_perl@5.34.0-3ubuntu1"]
    assert perl["vulnerabilities"][0]["cve"]["uid"] == "CVE-2020-16156" and perl["severity_id"] == 4  # 7.8
    assert pcre["vulnerabilities"][0]["cve"]["uid"] == "CVE-2022-1586" and pcre["severity_id"] == 5  # 9.1
    assert (pcre["status_id"], pcre["status"]) == (3, "Suppressed")
    assert lic["vulnerabilities"][0].get("cve") is None
    assert lic["vulnerabilities"][0]["advisory"]["uid"] == "Apache-2.0-Fake_perl@5.34.0-3ubuntu1"
    assert lic["severity_id"] == 4  # level error
    assert _JUST_ONE not in check_rows("application_security_posture_finding", list(got.values()))


def test_github_dependabot_rest_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    # GET /repos/{owner}/{repo}/dependabot/alerts/{number} answers the alert itself (the list: an
    # array of them); it was refused by --format auto and, with --format github, taken for a
    # security_advisory event (its top-level security_advisory)
    body = (HOLDOUT / "pygithub-dependabot-alert.json").read_bytes()
    dec = detected_both_ways("github", body, monkeypatch, "dependabot REST alert")
    assert dec.events == 1 and not dec.dead
    (r,) = _rows(dec)
    assert (r["class_uid"], r["metadata"]["event_code"]) == (2002, "dependabot_alert")
    assert r["finding_info"]["uid"] == "coopernetes/PyGithub/dependabot/1"
    assert (r["status"], r["status_detail"]) == ("Suppressed", "dismissed")  # dismissed: tolerable_risk
    assert r["severity_id"] == 3  # security_vulnerability.severity medium
    v = r["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2024-22195" and v["related_vulnerabilities"] == ["GHSA-h5c8-rqwp-cp95"]
    assert v["cve"]["cwe"]["uid"] == "CWE-79" and v["cve"]["cvss"][0]["base_score"] == 5.4
    assert json.loads(r["unmapped"])["affected_package"] == {
        "name": "jinja2", "package_manager": "pip", "fixed_in_version": "3.1.3", "path": "requirements/docs.txt",
        "vulnerable_version_range": "< 3.1.3"}
    assert r["resources"][0]["name"] == "coopernetes/PyGithub"
    # as one element of a list (GET .../dependabot/alerts) the same
    listed = formats.get("github").decode(b"[" + body.strip() + b"]", "t")
    assert [x["finding_info"]["uid"] for x in _rows(listed)] == ["coopernetes/PyGithub/dependabot/1"]

