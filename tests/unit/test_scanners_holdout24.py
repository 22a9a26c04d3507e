"""Scanner formats against real samples of the holdout round 24 (``tests/cases/holdout/SOURCE.md``,
"Round 24 (scanners)").

Expected values are read in the samples, not computed by the parsers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from tests.unit.native_support import detected_both_ways, same_both_ways

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def test_trivy_vulnerability_status_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # Trivy 0.44+ writes each vulnerability's vendor Status (its filtering docs: unknown,
    # not_affected, affected, fixed, under_investigation, will_not_fix, fix_deferred, end_of_life);
    # it was only in unmapped. DefectDojo's all_statuses.json has one finding of each word.
    body = (HOLDOUT / "trivy-all-statuses-defectdojo.json").read_bytes()
    dec = detected_both_ways("trivy", body, monkeypatch, "all statuses")
    assert dec.events == 8 and not dec.dead
    rows = _rows(dec)
    # (Debian's TEMP- id is no CVE: that finding's vulnerability names it as its advisory, OCSF 1.8.0)
    got = {(r["vulnerabilities"][0]["cve"] or r["vulnerabilities"][0]["advisory"])["uid"]: r for r in rows}
    want = {  # id: (Status, status_id, fix_coverage_id, fix_coverage, is_fix_available)
        "CVE-2011-3374": ("unknown", 1, 0, "Unknown", False),
        "CVE-2019-18276": ("not_affected", 3, 99, "not_affected", False),
        "TEMP-0841856-B18BAF": ("affected", 1, 3, "None", False),
        # "fixed" without a FixedVersion (as the sample has it): a fix exists, its version unnamed
        "CVE-2018-1000876": ("fixed", 1, 1, "Complete", True),
        "CVE-2018-12697": ("under_investigation", 1, 0, "Unknown", False),
        "CVE-2018-12698": ("will_not_fix", 1, 3, "None", False),
        "CVE-2018-12699": ("fix_deferred", 1, 3, "None", False),
        "CVE-2018-12934": ("end_of_life", 1, 3, "None", False),
    }
    assert set(got) == set(want)
    for vid, (word, status_id, cover, caption, fix) in want.items():
        r = got[vid]
        vuln = r["vulnerabilities"][0]
        assert r["status_code"] == word, vid
        assert (r["status_id"], r["status"]) == (status_id, "Suppressed" if status_id == 3 else "New"), vid
        assert (vuln["fix_coverage_id"], vuln["fix_coverage"], vuln["is_fix_available"]) == (cover, caption, fix), vid
        assert "Status" not in json.loads(r["unmapped"]), vid  # mapped now; Layer, DataSource... stay
        assert set(json.loads(r["unmapped"])) >= {"Layer", "DataSource", "VendorSeverity"}
        assert json.loads(r["raw_data"])["Status"] == word
    bash = got["CVE-2019-18276"]
    assert bash["vulnerabilities"][0]["affected_packages"][0]["name"] == "bash"
    assert bash["resources"][1]["name"] == "noppaknopsta/example-app:main-159 (debian 10.13)"


def test_trivy_status_absent_or_new_word(monkeypatch: pytest.MonkeyPatch) -> None:
    # reports before Trivy 0.44 have no Status: fix availability from FixedVersion alone, as before;
    # a word Trivy may add later is fix coverage Other (99) with the word
    rep = json.loads((HOLDOUT / "trivy-all-statuses-defectdojo.json").read_bytes())
    vulns = rep["Results"][0]["Vulnerabilities"]
    del vulns[0]["Status"]
    vulns[2]["Status"] = ""
    vulns[5]["Status"] = "out_of_support"
    vulns[6]["FixedVersion"] = "2.31.1-17"  # fix_deferred but a version named: a fix is available
    dec = same_both_ways("trivy", json.dumps(rep).encode(), monkeypatch, "statuses edited")
    assert dec.events == 8 and not dec.dead
    got = {(r["vulnerabilities"][0]["cve"] or r["vulnerabilities"][0]["advisory"])["uid"]: r for r in _rows(dec)}
    for vid in ("CVE-2011-3374", "TEMP-0841856-B18BAF"):
        v = got[vid]["vulnerabilities"][0]
        assert (got[vid]["status_code"], v["fix_coverage_id"], v["fix_coverage"], v["is_fix_available"]) == (None, None, None, False)
    v = got["CVE-2018-12698"]["vulnerabilities"][0]
    assert (v["fix_coverage_id"], v["fix_coverage"]) == (99, "out_of_support")
    assert got["CVE-2018-12699"]["vulnerabilities"][0]["is_fix_available"] is True


def test_trivy_status_of_another_type_is_a_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    # an object where Trivy writes a word: that finding dead-lettered with its path, the rest stored
    # (a number is read as its text, as for the other string fields)
    rep = json.loads((HOLDOUT / "trivy-all-statuses-defectdojo.json").read_bytes())
    rep["Results"][0]["Vulnerabilities"][1]["Status"] = {"value": "not_affected"}
    dec = same_both_ways("trivy", json.dumps(rep).encode(), monkeypatch, "object status")
    assert dec.events == 8 and len(dec.dead) == 1 and "$.Status" in dec.dead[0].reason
    assert len(_rows(dec)) == 7


def test_snyk_container_nearest_fixed_in_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # snyk container test --json of alpine:3.12.1 (snyk/cli's basic-apk fixture): an OS package's
    # fix is only in nearestFixedInVersion (no fixedIn), "Fixed in: 1.1.24-r10" in the CLI's text
    # output; it stayed in unmapped and the finding said no fix was available
    body = (HOLDOUT / "snyk-cli-basic-apk-results.json").read_bytes()
    dec = detected_both_ways("snyk", body, monkeypatch, "basic apk")
    assert dec.events == 3 and not dec.dead
    rows = _rows(dec)
    for r in rows:
        vuln = r["vulnerabilities"][0]
        assert vuln["cve"]["uid"] == "CVE-2020-28928"
        assert vuln["is_fix_available"] is True  # isUpgradable and isPatchable are false
        pkg = vuln["affected_packages"][0]
        assert (pkg["name"], pkg["version"], pkg["fixed_in_version"]) == ("musl", "1.1.24-r9", "1.1.24-r10")
        assert "nearestFixedInVersion" not in json.loads(r["unmapped"])
        assert r["resources"][0]["name"] == "docker-image|alpine"
        assert r["finding_info"]["product"]["name"] == "Snyk Container"
    assert rows[2]["vulnerabilities"][0]["dependency_chain"] == (
        "docker-image|alpine@3.12.1 > libc-dev/libc-utils@0.7.2-r3 > musl/musl-utils@1.1.24-r9"
    )


def test_snyk_fixed_in_still_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # fixedIn, where given, is the fixed version; an empty nearestFixedInVersion names no fix
    rep = json.loads((HOLDOUT / "snyk-cli-basic-apk-results.json").read_bytes())
    vulns = rep[0]["vulnerabilities"]
    vulns[0]["fixedIn"] = ["1.1.24-r10", "1.2.2-r0"]
    vulns[1]["nearestFixedInVersion"] = ""
    dec = same_both_ways("snyk", json.dumps(rep).encode(), monkeypatch, "fixedIn")
    got = [r["vulnerabilities"][0] for r in _rows(dec)]
    assert got[0]["affected_packages"][0]["fixed_in_version"] == "1.1.24-r10, 1.2.2-r0"
    assert (got[1]["affected_packages"][0]["fixed_in_version"], got[1]["is_fix_available"]) == (None, False)


def test_sonarqube_rules_and_users_lists_name_rule_and_assignee() -> None:
    # SonarQube's do_transition example answer (the issue beside the page's components, rules and
    # users lists, as /api/issues/search gives them with additionalFields=rules,users): the rule's
    # name and the assignee's name and email were left out
    body = (HOLDOUT / "sonarqube-do-transition-example.json").read_bytes()
    assert formats.detect(body) is formats.get("sonarqube")
    dec = formats.get("sonarqube").decode(body, "t")
    assert dec.events == 1 and not dec.dead
    (r,) = _rows(dec)
    assert r["finding_info"]["analytic"] == {
        "uid": "squid:S2301", "name": "Public methods should not contain selector arguments", "type_id": 1, "type": "Rule",
    }  # fmt: skip
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert code["rule"] == {"uid": "squid:S2301", "name": "Public methods should not contain selector arguments"}
    assert code["file"]["path"] == "src/main/java/org/sonarlint/intellij/core/ServerIssueUpdater.java"
    assert code["owner"]["name"] == "john.smith@email.com"  # author
    assignee = {k: v for k, v in r["assignee"].items() if v is not None}
    assert assignee == {"name": "john.smith", "full_name": "John Smith", "email_addr": "john.smith@email.com"}
    assert (r["status_id"], r["status_detail"]) == (2, "CONFIRMED")


def test_sonarqube_search_example_rule_name_and_unknown_assignee() -> None:
    # the issues search example (round 1) lists its rules; its users list holds no assignee of an issue
    body = (HOLDOUT / "sonarqube-issues-search-example.json").read_bytes()
    (r,) = _rows(formats.get("sonarqube").decode(body, "t"))
    assert r["finding_info"]["analytic"]["name"] == 'Unused "private" methods should be removed'
    assert not any((r.get("assignee") or {}).values())
    # a rules list of other shapes names nothing, and is no error
    doc = json.loads(body)
    doc["rules"] = [{"key": "java:S1144"}, "java:S1144", {"key": 7, "name": "x"}]
    doc["users"] = {"admin": "Administrator"}
    dec = formats.get("sonarqube").decode(json.dumps(doc).encode(), "t")
    assert not dec.dead and _rows(dec)[0]["finding_info"]["analytic"]["name"] is None


def test_sonarqube_shown_hotspot_names_its_rule_and_assignee() -> None:
    body = (HOLDOUT / "sonarqube-hotspots-show-example.json").read_bytes()
    (r,) = _rows(formats.get("sonarqube").decode(body, "t"))
    assert r["finding_info"]["analytic"]["name"] == "rule-name"
    assert (r["assignee"]["name"], r["assignee"]["full_name"]) == ("joe", "Joe")


def test_gitlab_deprecated_sast_array() -> None:
    # GitLab's own fixture of the deprecated SAST report (GitLab 11.x, before schema 2.0): a bare
    # array of vulnerabilities, which GitLab's parser reads as the report's vulnerabilities; it was
    # unrecognized by --format auto and "Expected `object`, got `array`" with --format gitlab_security
    body = (HOLDOUT / "gitlabhq-gl-sast-report-deprecated.json").read_bytes()
    assert formats.detect(body) is formats.get("gitlab_security")
    dec = formats.get("gitlab_security").decode(body, "t")
    assert dec.events == 4 and not dec.dead
    rows = _rows(dec)
    assert {r["class_uid"] for r in rows} == {2007}  # category sast: code findings
    first = rows[0]
    assert first["finding_info"]["uid"] == (
        "python/hardcoded/hardcoded-tmp.py:52865813c884a507be1f152d654245af34aba8a391626d01f1ab6d3f52ec8779:B108"
    )
    assert first["finding_info"]["title"] == "Probable insecure usage of temp file/directory."
    assert first["metadata"]["product"]["name"] == "Bandit"
    assert first["finding_info"]["analytic"]["uid"] == "B108"
    code = first["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["end_line"]) == ("python/hardcoded/hardcoded-tmp.py", 1, 1)
    assert json.loads(first["unmapped"])["priority"] == "Medium"  # the deprecated keys are kept
    assert [r["severity_id"] for r in rows] == [3, 3, 2, 0]  # Medium, Medium, Low, none (Flawfinder)
    assert rows[1]["finding_info"]["title"] == "Predictable pseudorandom number generator"
    flaw = rows[3]["vulnerabilities"][0]
    assert flaw["cwe"]["uid"] == "CWE-119"
    assert flaw["remediation"]["desc"].startswith("Perform bounds checking")
    assert "secpipe:time_from_receipt" in first["metadata"]["labels"]


def test_gitlab_deprecated_array_malformed_is_one_dead_letter() -> None:
    body = (HOLDOUT / "gitlabhq-gl-sast-report-deprecated.json").read_bytes()
    cut = body[: len(body) // 2]
    dec = formats.get("gitlab_security").decode(cut, "t")
    assert dec.events == 1 and not dec.batches and len(dec.dead) == 1
    assert dec.dead[0].reason.startswith("not a GitLab security report (a deprecated array of vulnerabilities)")
    assert dec.dead[0].raw == cut
    # an array item of the wrong shape alone is dead-lettered, the others stored
    items = json.loads(body)
    items[1]["identifiers"] = "PREDICTABLE_RANDOM"
    dec = formats.get("gitlab_security").decode(json.dumps(items).encode(), "t")
    assert dec.events == 4 and len(dec.dead) == 1 and len(_rows(dec)) == 3


def test_trivy_version_is_the_product_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # Trivy 0.50+ writes the version that made the report as Trivy.Version (0.69.1 here, a filesystem
    # scan of a jar with CVSS 4.0 ratings, Fingerprints and a ReportID); it was not stored
    body = (HOLDOUT / "trivy-0.69-cvssv4-defectdojo.json").read_bytes()
    dec = same_both_ways("trivy", body, monkeypatch, "trivy 0.69")
    assert dec.events == 2 and not dec.dead
    rows = _rows(dec)
    for r in rows:
        assert r["metadata"]["product"] == {"name": "Trivy", "vendor_name": "Aqua Security", "version": "0.69.1"}
        assert r["finding_info"]["product"] == {"name": "Trivy", "version": "0.69.1"}
        assert r["metadata"]["correlation_uid"] == "019c8e79-cf0f-75cc-8c6e-b806652074c5"
    first = rows[0]
    assert first["finding_info"]["uid"] == "sha256:e57258930e76fa6f68fd091192d82af0c355c745b9e1472000db245e96a5191c"
    cvss = {c["vendor_name"]: (c["version"], c["base_score"]) for c in first["vulnerabilities"][0]["cve"]["cvss"]}
    assert cvss == {"ghsa": ("4.0", 6.3), "redhat": ("3.1", 5.3)}
    # a cosign vulnerability record's report has no Trivy key: the record's scanner.version
    (c,) = _rows(formats.get("trivy").decode((HOLDOUT / "trivy-cosign-vuln-docs.json").read_bytes(), "c"))
    assert c["metadata"]["product"]["version"] == "v0.30.1-8-gf9cb8a28"
    # a Trivy key of another shape names no version and refuses nothing
    doc = json.loads(body)
    doc["Trivy"] = {"Version": 69}
    dec = formats.get("trivy").decode(json.dumps(doc).encode(), "t")
    assert not dec.dead and _rows(dec)[0]["metadata"]["product"].get("version") is None


def test_snyk_iac_report_with_empty_vulnerabilities_is_snyk_iac(monkeypatch: pytest.MonkeyPatch) -> None:
    # snyk/cli's iac-test-output fixture: a newer `snyk iac test --json` writes "vulnerabilities": []
    # beside infrastructureAsCodeIssues; its findings were labelled Snyk Open Source
    body = (HOLDOUT / "snyk-cli-iac-json-output-for-file.json").read_bytes()
    dec = detected_both_ways("snyk", body, monkeypatch, "iac file")
    assert dec.events == 3 and not dec.dead
    rows = _rows(dec)
    assert {r["class_uid"] for r in rows} == {2003}
    assert {r["finding_info"]["product"]["name"] for r in rows} == {"Snyk IaC"}
    assert [r["compliance"]["control"] for r in rows] == ["SNYK-CC-AWS-422", "SNYK-CC-AWS-408", "SNYK-CC-TF-55"]
    assert [r["severity_id"] for r in rows] == [2, 3, 3]
    assert rows[0]["resources"][0]["name"] == "fixtures"
    assert json.loads(rows[2]["unmapped"])["lineNumber"] == 183
    # the round-1 snyk-to-html IaC sample (also with vulnerabilities: []) is Snyk IaC too
    old = _rows(formats.get("snyk").decode((HOLDOUT / "iac-test-report.json").read_bytes(), "t"))
    assert {r["finding_info"]["product"]["name"] for r in old} == {"Snyk IaC"}


def test_sarif_version_control_provenance_is_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    # Microsoft DevSkim 1.0.70's SARIF as MegaLinter 10 printed it: the run names the repository
    # and commit it analyzed (SARIF §3.14.18 versionControlProvenance); that was dropped
    body = (HOLDOUT / "devskim-megalinter.sarif").read_bytes()
    dec = detected_both_ways("sarif", body, monkeypatch, "devskim")
    assert dec.events == 2 and not dec.dead
    rows = _rows(dec)
    for r in rows:
        (repo,) = r["resources"]
        assert (repo["type"], repo["name"], repo["uid"]) == (
            "repository", "https://github.com/chirag127/Stochastic-Thinking-MCP-Server",
            "https://github.com/chirag127/Stochastic-Thinking-MCP-Server",
        )  # fmt: skip
        assert json.loads(repo["data"]) == {
            "revisionId": "7d8cafcc82b1932f7b72d00c1d023d3280bf3b14",
            "branch": "dependabot/github_actions/oxsecurity/megalinter-10",
        }
        assert r["metadata"]["product"]["version"] == "1.0.70+d69541fde7"
        assert r["severity_id"] == 2  # level note
    assert [r["vulnerabilities"][0]["affected_code"][0]["start_line"] for r in rows] == [16669, 16665]
    # an entry without its required repositoryUri names no repository; a run without any, none
    log = json.loads(body)
    log["runs"][0]["versionControlProvenance"] = [{"revisionId": "7d8c"}, "x", {"repositoryUri": 7}]
    dec = formats.get("sarif").decode(json.dumps(log).encode(), "t")
    assert not dec.dead and all(not r.get("resources") for r in _rows(dec))


def test_sonarqube_generic_issue_import_format() -> None:
    # pylint-sonarjson's README output: SonarQube's Generic Issue Import Format (the JSON other tools
    # write for sonar.externalIssuesReportPaths); it was unrecognized
    body = (HOLDOUT / "pylint-sonarjson-readme.json").read_bytes()
    assert formats.detect(body) is formats.get("sonarqube")
    dec = formats.get("sonarqube").decode(body, "t")
    assert dec.events == 1 and not dec.dead
    (r,) = _rows(dec)
    assert r["class_uid"] == 2007
    assert r["metadata"]["product"]["name"] == "PYLINT"  # the engine that found it
    assert (r["severity_id"], r["status_id"]) == (1, 1)  # INFO; an imported issue is New
    assert r["message"] == "Missing module docstring"
    assert r["finding_info"]["types"] == ["CODE_SMELL"]
    assert r["finding_info"]["analytic"]["uid"] == "C0114"
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["start_column"]) == ("my_file.py", 1, 0)
    assert json.loads(r["unmapped"]) == {"effortMinutes": 10}
    assert "secpipe:time_from_receipt" in r["metadata"]["labels"]


def test_sonarqube_generic_issue_import_format_with_rules() -> None:
    # the SonarQube 10.3+ form of the same report: the rule (engine, name, impacts) beside the issues
    doc = json.loads((HOLDOUT / "pylint-sonarjson-readme.json").read_bytes())
    issue = doc["issues"][0]
    for k in ("engineId", "type", "severity"):
        del issue[k]
    doc["rules"] = [{"id": "C0114", "name": "missing-module-docstring", "description": "Missing module docstring",
                     "engineId": "PYLINT", "cleanCodeAttribute": "CONVENTIONAL", "type": "CODE_SMELL",
                     "impacts": [{"softwareQuality": "MAINTAINABILITY", "severity": "LOW"}]}]  # fmt: skip
    doc["issues"].append(dict(issue, primaryLocation={"message": "m", "filePath": "b.py"}, ruleId="W0611"))
    dec = formats.get("sonarqube").decode(json.dumps(doc).encode(), "t")
    assert dec.events == 2 and not dec.dead
    a, b = _rows(dec)
    assert a["metadata"]["product"]["name"] == "PYLINT" and a["severity_id"] == 2  # the rule's LOW impact
    assert a["finding_info"]["analytic"]["name"] == "missing-module-docstring"
    assert a["finding_info"]["types"] == ["CODE_SMELL"]
    # a rule the report does not list: no engine (SonarQube the product), no severity
    assert (b["metadata"]["product"]["name"], b["severity_id"]) == ("SonarQube", 0)
    assert b["vulnerabilities"][0]["affected_code"][0]["file"]["path"] == "b.py"
    # an issue of the wrong shape alone is dead-lettered
    doc["issues"][1]["primaryLocation"] = "b.py"
    dec = formats.get("sonarqube").decode(json.dumps(doc).encode(), "t")
    assert dec.events == 2 and len(dec.dead) == 1 and len(_rows(dec)) == 1
