"""Scanner outputs of the holdout round 28 (``tests/cases/scanners28/SOURCES.md``).

Semgrep's, Gitleaks', Bandit's, Checkov's and tfsec's JSON and Kubernetes policy reports are read
by the semgrep, gitleaks, bandit, checkov, tfsec and policy_report formats. Native JSON of scanners whose SARIF the sarif format
reads and TruffleHog's JSON lines are
dead-lettered under ``--format auto`` with a reason that names the tool's output (and its SARIF
option), not "no format matched". Expected values are read in the samples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows
from secpipe.sources.files import read_documents

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners28"

#: (case file, what the reason names, what it says to ingest instead)
_NATIVE = [
    ("hadolint-defectdojo.json", "a Hadolint JSON report", "hadolint -f sarif"),
    ("dockle-defectdojo.json", "a Dockle JSON report", "dockle -f sarif"),
    ("kics-defectdojo.json", "a KICS JSON report", "--report-formats sarif"),
    ("trufflehog-defectdojo.json", "TruffleHog JSON lines", "TruffleHog writes no SARIF"),
]

def _reason(path: Path) -> str:
    [doc] = read_documents(str(path))
    assert doc.dead is not None
    return doc.dead.reason


@pytest.mark.parametrize(("name", "what", "instead"), _NATIVE)
def test_native_scanner_json_is_named_with_what_to_ingest(name: str, what: str, instead: str) -> None:
    reason = _reason(CASES / name)
    assert reason.startswith(f"unrecognized input: {what}"), reason
    assert "is not a format secpipe reads" in reason and instead in reason


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _semgrep(doc: bytes) -> Decoded:
    fmt = formats.detect(doc)
    assert fmt is formats.get("semgrep")
    return fmt.decode(doc, "x")


def test_semgrep_1_30_match() -> None:
    # semgrep --json 1.30 (keys sorted, a fingerprint, a CWE list, metadata.source): was "no format matched"
    d = _semgrep((CASES / "semgrep-1.30-defectdojo.json").read_bytes())
    assert not d.dead
    [r] = _rows(d)
    assert r["class_uid"] == 2007 and not check_rows("application_security_posture_finding", [r])
    assert (r["severity_id"], r["status_id"], r["confidence_id"]) == (
        3,
        1,
        2,
    )  # WARNING, is_ignored false, MEDIUM
    rule = "go.lang.security.audit.net.formatted-template-string.formatted-template-string"
    fi = r["finding_info"]
    assert fi["uid"].startswith("f900d4624c2a2c2c") and fi["uid"].endswith("_0")
    assert (fi["analytic"]["uid"], fi["analytic"]["type"]) == (rule, "Rule")
    assert fi["src_url"] == f"https://semgrep.dev/r/{rule}"
    assert fi["types"] == ["security"]
    assert r["message"].startswith("Found a formatted template string passed to 'template.HTML()'.")
    [v] = r["vulnerabilities"]
    assert v["cwe"] == {
        "uid": "CWE-79",
        "caption": "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    }
    assert v["cve"] is None and v["advisory"] is None
    assert v["references"] == ["https://golang.org/pkg/html/template/#HTML"]
    [c] = v["affected_code"]
    assert (c["file"]["path"], c["start_line"], c["start_column"], c["end_line"], c["end_column"]) == (
        "test.go",
        27,
        5,
        30,
        31,
    )
    assert c["rule"]["uid"] == rule
    assert '"metavars"' in r["unmapped"] and '"lines"' in r["unmapped"]


def test_semgrep_older_match_without_fingerprint() -> None:
    # an older semgrep --json: cwe as one string, no fingerprint, no confidence
    d = _semgrep((CASES / "semgrep-defectdojo.json").read_bytes())
    [r] = _rows(d)
    assert not check_rows("application_security_posture_finding", [r])
    rule = "java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle"
    path = "src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java"
    assert r["finding_info"]["uid"] == f"{rule}|{path}|64:4"
    assert r["vulnerabilities"][0]["cwe"] == {"uid": "CWE-696", "caption": "Incorrect Behavior Order"}
    assert r["confidence_id"] is None


def test_semgrep_oss_match_without_metadata_has_its_rule_as_advisory() -> None:
    # semgrep 1.147.0 --json with local rules, OSS (no login): "metadata": {}, severity CRITICAL, "requires
    # login" as fingerprint and lines; verbatim values of a published lab report's output (its second match)
    match = (
        '{"check_id": "sast.py-os-system-rce", "path": "vulnerable-app/app.py",'
        ' "start": {"line": 52, "col": 5, "offset": 1051}, "end": {"line": 52, "col": 19, "offset": 1065},'
        ' "extra": {"message": "RCE через os.system с данными пользователя.", "metadata": {}, "severity": "CRITICAL",'
        ' "fingerprint": "requires login", "lines": "requires login", "validation_state": "NO_VALIDATOR",'
        ' "engine_kind": "OSS"}}'
    )
    doc = (
        '{"version": "1.147.0", "results": [' + match + '], "errors": [], "paths": {"scanned":'
        ' ["vulnerable-app/app.py", "vulnerable-app/config.yaml"]}, "engine_requested": "OSS", "skipped_rules": []}'
    )
    [r] = _rows(_semgrep(doc.encode()))
    assert not check_rows("application_security_posture_finding", [r])
    assert (r["severity_id"], r["status_id"]) == (5, 1)
    assert r["metadata"]["product"]["version"] == "1.147.0"
    assert r["finding_info"]["uid"] == "sast.py-os-system-rce|vulnerable-app/app.py|52:5"
    assert r["message"] == "RCE через os.system с данными пользователя."
    [v] = r["vulnerabilities"]
    assert (v["advisory"]["uid"], v["cwe"], v["cve"]) == ("sast.py-os-system-rce", None, None)
    # a nosemgrep-marked match (semgrep --disable-nosem writes it with is_ignored true) is Suppressed
    ignored = doc.replace('"engine_kind": "OSS"}', '"engine_kind": "OSS", "is_ignored": true}')
    assert _rows(_semgrep(ignored.encode()))[0]["status_id"] == 3


def test_semgrep_empty_report_holds_no_event_and_a_bad_match_is_dead_lettered_alone() -> None:
    empty = b'{"version": "1.56.0", "results": [], "errors": [], "paths": {"scanned": ["app.py"]}}'
    d = _semgrep(empty)
    assert (d.dead, d.batches) == ([], [])
    doc = (CASES / "semgrep-1.30-defectdojo.json").read_text()
    two = doc.replace(
        '"results": [',
        '"results": [{"check_id": 5, "path": "a.py", "start": {"line": 1}, "extra": {"message": "x"}},',
        1,
    )
    d = formats.get("semgrep").decode(two.encode(), "x")
    assert len(d.dead) == 1 and "check_id" in d.dead[0].reason
    assert len(_rows(d)) == 1
    d = formats.get("semgrep").decode(b'{"results": {}}', "x")
    assert len(d.dead) == 1 and d.dead[0].reason.startswith("not a Semgrep JSON report")


#: gitleaks 7 (DefectDojo unittests/scans/gitleaks/version_7.5.0.json, its first leak verbatim)
_GITLEAKS7 = (
    b'[\n    {\n     "line": "      \\"raw_source_code_extract\\": \\"AKIAIOSFODNN7EXAMPLE\\",",\n'
    b'     "lineNumber": 13,\n     "offender": "AKIAIOSFODNN7EXAMPLE",\n'
    b'     "commit": "6d127980966808f7413935678e079dcd7fedf9c2",\n     "repo": ".",\n     "repoURL": "",\n'
    b'     "leakURL": "",\n     "rule": "AWS Access Key",\n'
    b'     "commitMessage": "feat: added GitLab secret detection report parser (#4605)",\n'
    b'     "author": "Bhurinat Wangsutthitham",\n     "email": "nate.bwangsut@gmail.com",\n'
    b'     "file": "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json",\n'
    b'     "date": "2021-07-15T22:00:32+07:00",\n     "tags": "key, AWS"\n    }\n]\n'
)
#: gitleaks 8.x (gitleaks/gitleaks testdata/expected/report/json_extra_simple.json, verbatim)
_GITLEAKS8_EXTRA = (
    b'[\n {\n  "Description": "",\n  "StartLine": 1,\n  "EndLine": 2,\n  "StartColumn": 1,\n  "EndColumn": 2,\n'
    b'  "Line": "whole line containing secret",\n  "Match": "line containing secret",\n  "Secret": "a secret",\n'
    b'  "File": "auth.py",\n  "SymlinkFile": "",\n  "Commit": "0000000000000000",\n  "Entropy": 0,\n'
    b'  "Author": "John Doe",\n  "Email": "johndoe@gmail.com",\n  "Date": "10-19-2003",\n  "Message": "opps",\n'
    b'  "Tags": [],\n  "RuleID": "test-rule",\n  "Fingerprint": ""\n }\n]\n'
)


def _gitleaks(doc: bytes) -> list[dict[str, Any]]:
    fmt = formats.detect(doc)
    assert fmt is formats.get("gitleaks")
    d = fmt.decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("application_security_posture_finding", rows)
    return rows


def test_gitleaks_8_leak_without_its_secret() -> None:
    # gitleaks 8 --report-format json: was "no format matched"
    [r] = _gitleaks((CASES / "gitleaks-defectdojo.json").read_bytes())
    assert (r["class_uid"], r["severity_id"], r["status_id"]) == (2007, 0, 1)
    commit = "69235ea9ea4d59e18e2cc3c295526de46aa1365c1f0c7a95a22ff1537acdf517"
    fi = r["finding_info"]
    assert fi["uid"] == f"{commit}:tests/api.py:generic-api-key:21"  # gitleaks' fingerprint form
    assert (fi["title"], fi["analytic"]["uid"]) == ("Generic API Key", "generic-api-key")
    assert r["message"] == "Generic API Key in tests/api.py"
    [v] = r["vulnerabilities"]
    assert v["advisory"] == {"uid": "generic-api-key", "title": "Generic API Key"}
    [c] = v["affected_code"]
    assert (c["file"]["path"], c["start_line"], c["end_line"], c["start_column"], c["end_column"]) == (
        "tests/api.py",
        21,
        21,
        10,
        46,
    )
    assert c["owner"] == {"name": "John Doe", "email_addr": "john.doe@example.com"}
    for text in (r["raw_data"], r["unmapped"]):
        assert "dfjksdjfs3294dfjlsdaf213" not in text and "[REDACTED:generic-api-key]" in text
    assert commit in r["unmapped"] and "2016-09-16T18:17:59Z" in r["unmapped"]


def test_gitleaks_8_line_and_empty_fingerprint() -> None:
    [r] = _gitleaks(_GITLEAKS8_EXTRA)
    assert r["finding_info"]["uid"] == "0000000000000000:auth.py:test-rule:1"
    assert r["finding_info"]["title"] == "test-rule"  # an empty Description
    assert (r["vulnerabilities"][0]["affected_code"][0]["end_line"]) == 2
    assert "a secret" not in r["raw_data"] and "containing secret" not in r["raw_data"]
    assert "containing secret" not in r["unmapped"]


def test_gitleaks_7_leak() -> None:
    [r] = _gitleaks(_GITLEAKS7)
    fi = r["finding_info"]
    path = "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json"
    assert fi["uid"] == f"6d127980966808f7413935678e079dcd7fedf9c2:{path}:AWS Access Key:13"
    assert fi["tags"] == [{"name": "tags", "value": "key, AWS"}]
    [c] = r["vulnerabilities"][0]["affected_code"]
    assert (c["file"]["path"], c["start_line"], c["owner"]["name"]) == (path, 13, "Bhurinat Wangsutthitham")
    assert "AKIAIOSFODNN7EXAMPLE" not in r["raw_data"] and "AKIAIOSFODNN7EXAMPLE" not in r["unmapped"]


def test_gitleaks_bad_leak_is_dead_lettered_alone() -> None:
    doc = (
        (CASES / "gitleaks-defectdojo.json")
        .read_text()
        .replace("[", '[{"RuleID": "x", "StartLine": "one"},', 1)
    )
    d = formats.get("gitleaks").decode(doc.encode(), "x")
    assert len(d.dead) == 1 and "StartLine" in d.dead[0].reason
    assert len(_rows(d)) == 1


def _policy(doc: bytes) -> list[dict[str, Any]]:
    fmt = formats.detect(doc)
    assert fmt is formats.get("policy_report")
    d = fmt.decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("compliance_finding", rows)
    return rows


def test_openreports_cluster_report_results() -> None:
    # Kyverno's openreports.io ClusterReport (2 fail, 2 pass): was "no format matched"
    rows = _policy((CASES / "kyverno-many-defectdojo.json").read_bytes())
    assert [(r["compliance"]["status_id"], r["compliance"]["status"]) for r in rows] == [
        (3, "Fail"),
        (3, "Fail"),
        (1, "Pass"),
        (1, "Pass"),
    ]
    r = rows[0]
    assert (r["class_uid"], r["severity_id"], r["status_id"]) == (2003, 4, 1)  # severity high; New
    assert r["time_dt"].isoformat() == "2026-08-10T15:31:05+00:00"  # timestamp.seconds 1786375865
    assert r["metadata"]["product"]["name"] == "kyverno"
    c = r["compliance"]
    assert (c["control"], c["category"], c["status_code"]) == (
        "require-pod-hardening",
        "Pod Security",
        "fail",
    )
    assert [(k["uid"], k["status"]) for k in c["checks"]] == [("require-run-as-non-root", "Fail")]
    assert r["resources"] == [
        {"type": "Pod", "name": "sample-app", "namespace": "sample-ns", "uid": None, "version": "v1"}
    ]
    assert (
        r["finding_info"]["uid"] == "require-pod-hardening|require-run-as-non-root|Pod/sample-ns/sample-app"
    )
    assert r["message"].startswith("validation error: Containers must set runAsNonRoot to true.")
    assert r["unmapped"] == '{"properties":{"process":"background scan"},"scored":true}'
    assert '"report":{"apiVersion":"openreports.io/v1alpha1","kind":"ClusterReport"' in r["raw_data"]
    assert len({x["metadata"]["uid"] for x in rows}) == 4


def test_kubectl_list_of_per_resource_policy_reports() -> None:
    # `kubectl get polr -A -o json`: a List of Kyverno 1.10+ per-resource wgpolicyk8s.io/v1alpha2 PolicyReports
    # (the resource in `scope`, results without resources; the shape kyverno.io/docs/policy-reports shows),
    # and a v1alpha1 report's `status` for the result
    doc = (
        b'{"apiVersion": "v1", "items": [{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",'
        b' "metadata": {"creationTimestamp": "2023-12-06T13:19:03Z", "name": "487df031-11d8-4ab4-b089-dfc0db1e533e",'
        b' "namespace": "kube-system", "uid": "0d8f6c1e-3a3e-4d6b-9a55-6f1c3c0f6f4a"},'
        b' "results": [{"category": "Pod Security Standards (Baseline)", "message": "validation rule'
        b' \'adding-capabilities\' passed.", "policy": "disallow-capabilities", "result": "pass",'
        b' "rule": "adding-capabilities", "scored": true, "severity": "medium", "source": "kyverno",'
        b' "timestamp": {"nanos": 0, "seconds": 1701868762}}],'
        b' "scope": {"apiVersion": "v1", "kind": "Pod", "name": "kube-apiserver-kind-control-plane",'
        b' "namespace": "kube-system", "uid": "5ee5e2a6-0e4b-4c3c-9b4e-1d0c9e8f7a61"},'
        b' "summary": {"error": 0, "fail": 0, "pass": 1, "skip": 0, "warn": 0}},'
        b' {"apiVersion": "wgpolicyk8s.io/v1alpha1", "kind": "ClusterPolicyReport", "metadata": {"name": "clusterpolicyreport"},'
        b' "results": [{"policy": "require-labels", "rule": "check-for-labels", "status": "warn",'
        b' "message": "label app.kubernetes.io/name is required", "resources": [{"kind": "Namespace", "name": "dev"}]}]}],'
        b' "kind": "List", "metadata": {"resourceVersion": ""}}'
    )
    first, second = _policy(doc)
    assert first["resources"][0]["name"] == "kube-apiserver-kind-control-plane"  # the report's scope
    assert first["resources"][0]["namespace"] == "kube-system"
    assert (first["compliance"]["status"], first["severity_id"]) == ("Pass", 3)
    assert first["time_dt"].isoformat() == "2023-12-06T13:19:22+00:00"
    assert (second["compliance"]["status_id"], second["compliance"]["status_code"]) == (2, "warn")
    assert second["time_dt"] is not None and "secpipe:time_from_receipt" in second["metadata"]["labels"]
    assert second["finding_info"]["uid"] == "require-labels|check-for-labels|Namespace//dev"


def test_policy_report_bad_result_is_dead_lettered_alone() -> None:
    doc = (
        (CASES / "kyverno-many-defectdojo.json")
        .read_text()
        .replace('"results": [', '"results": [{"policy": 5},', 1)
    )
    d = formats.get("policy_report").decode(doc.encode(), "x")
    assert len(d.dead) == 1 and "policy" in d.dead[0].reason
    assert len(_rows(d)) == 4
    d = formats.get("policy_report").decode(b'{"apiVersion": "wgpolicyk8s.io/v1alpha2", "results": 7}', "x")
    assert len(d.dead) == 1 and not d.batches


def test_npm_6_bulk_advisory_cvss_and_cwe_list_text() -> None:
    # npm 6 (bulk advisory endpoint) writes cvss {score, vectorString} and cwe as a JSON text list: both were dropped
    doc = (CASES / "npm-audit-6-bulk-cvss-defectdojo.json").read_bytes()
    assert formats.detect(doc) is formats.get("npm_audit")
    d = formats.get("npm_audit").decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("vulnerability_finding", rows)
    schema, forge = sorted(
        rows, key=lambda r: r["finding_info"]["uid"]
    )  # CVE-2021-3918|..., GHSA-gf8q-...|...
    [v] = schema["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2021-3918"
    assert v["cve"]["cvss"] == [
        {
            "version": "3.1",
            "base_score": 9.8,
            "vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "vendor_name": "npm",
        }
    ]
    assert v["cve"]["cwe"]["uid"] == "CWE-915"  # the first of "[\"CWE-915\",\"CWE-1321\"]"
    [w] = forge["vulnerabilities"]
    assert w["cve"] is None and w["advisory"]["uid"] == "GHSA-gf8q-jrpm-jvxq"  # no CVE; score 0, no vector
    assert w["advisory"]["related_cwes"] is None  # cwe "[]"


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        # (vector, the score its report gives beside it): npm 7 report (scanners27 npm-audit-7-one-vuln)
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        # npm 6 bulk-endpoint report (DefectDojo npm_audit/multiple_cwes.json)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N", 8.2),
        # osv-scanner's max_severity snapshot (scanners27 osv-scanner-snapshot-max-severity: 9.0)
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H", 9.0),
    ],
)
def test_cvss3_base_score_of_a_vector_is_the_one_its_report_gives(vector: str, score: float) -> None:
    from secpipe.formats._cvss import base_score

    assert base_score(vector) == (vector[5:8], score)


def test_cvss_base_score_none_for_other_versions_and_broken_vectors() -> None:
    from secpipe.formats._cvss import base_score

    assert base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") is None
    assert base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P") is None
    assert base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:X/C:H/I:H/A:H") is None
    assert base_score("CVSS:3.1/AV:N/AC:L") is None


def test_osv_scanner_cve_record_cvss_vector_with_its_base_score() -> None:
    # an OSV record's CVSS_V3 vector was left in raw_data (OSV gives no score); GitHub rates GHSA-25mq-v84q-4j7r 7.7
    doc = (CASES / "osv-scanner-cve-cvss-defectdojo.json").read_bytes()
    assert formats.detect(doc) is formats.get("osv_scanner")
    d = formats.get("osv_scanner").decode(doc, "x")
    assert not d.dead
    [r] = _rows(d)
    assert not check_rows("vulnerability_finding", [r])
    [v] = r["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2022-31090"
    assert v["cve"]["cvss"] == [
        {
            "version": "3.1",
            "base_score": 7.7,
            "vector_string": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N",
            "vendor_name": None,
        }
    ]


def _bandit(doc: bytes) -> list[dict[str, Any]]:
    fmt = formats.detect(doc)
    assert fmt is formats.get("bandit")
    d = fmt.decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("application_security_posture_finding", rows)
    return rows


def test_bandit_report_issue() -> None:
    # bandit -f json (DefectDojo's one_vuln): was "no format matched"
    [r] = _bandit((CASES / "bandit-defectdojo.json").read_bytes())
    assert (r["class_uid"], r["severity_id"], r["confidence_id"], r["status_id"]) == (2007, 2, 3, 1)
    assert r["time_dt"].isoformat() == "2020-12-30T10:03:39+00:00"  # generated_at
    fi = r["finding_info"]
    assert (fi["analytic"]["uid"], fi["analytic"]["name"]) == ("B101", "assert_used")
    assert fi["uid"] == "B101|one/one.py|2:None"
    assert fi["src_url"] == "https://bandit.readthedocs.io/en/latest/plugins/b101_assert_used.html"
    [v] = r["vulnerabilities"]
    assert v["cwe"] is None and v["advisory"]["uid"] == "B101"  # bandit before 1.7.5 names no CWE
    [c] = v["affected_code"]
    assert (c["file"]["path"], c["start_line"], c["end_line"]) == ("one/one.py", 2, 2)
    assert '"code":"1 import os' in r["unmapped"]


def test_bandit_1_7_10_issue_with_cwe_and_columns() -> None:
    # bandit 1.7.10 -f json result, verbatim (exasol/python-toolbox test/unit/security_test.py JSON_RESULTS[0])
    result = (
        b'{"code": "555                 subprocess.check_call(\\n556                     config.smv_postbuild_command,'
        b" cwd=current_cwd, shell=True\\n557                 )\\n558                 if config.smv_postbuild_export_pattern"
        b' != \\"\\":\\n559                     matches = find_matching_files_and_dirs(\\n", "col_offset": 16,'
        b' "end_col_offset": 17, "filename": "exasol/toolbox/sphinx/multiversion/main.py", "issue_confidence": "HIGH",'
        b' "issue_cwe": {"id": 78, "link": "https://cwe.mitre.org/data/definitions/78.html"}, "issue_severity": "HIGH",'
        b' "issue_text": "subprocess call with shell=True identified, security issue.", "line_number": 556,'
        b' "line_range": [555, 556, 557], "more_info":'
        b' "https://bandit.readthedocs.io/en/1.7.10/plugins/b602_subprocess_popen_with_shell_equals_true.html",'
        b' "test_id": "B602", "test_name": "subprocess_popen_with_shell_equals_true"}'
    )
    [r] = _bandit(b'{"results": [' + result + b"]}")
    assert (r["severity_id"], r["confidence_id"]) == (4, 3)
    assert "secpipe:time_from_receipt" in r["metadata"]["labels"]  # no generated_at
    [v] = r["vulnerabilities"]
    assert v["cwe"] == {"uid": "CWE-78", "src_url": "https://cwe.mitre.org/data/definitions/78.html"}
    assert v["advisory"] is None
    [c] = v["affected_code"]
    assert (c["start_line"], c["end_line"], c["start_column"], c["end_column"]) == (556, 557, 17, 18)
    assert (c["file"]["name"], c["rule"]["name"]) == ("main.py", "subprocess_popen_with_shell_equals_true")


def test_bandit_bad_issue_is_dead_lettered_alone() -> None:
    doc = (
        (CASES / "bandit-defectdojo.json")
        .read_text()
        .replace('"results": [', '"results": [{"line_number": "x"},', 1)
    )
    d = formats.get("bandit").decode(doc.encode(), "x")
    assert len(d.dead) == 1 and "line_number" in d.dead[0].reason
    assert len(_rows(d)) == 1


#: a passed check of DefectDojo's checkov-report-multiple-check_type.json (its first; code_block,
#: entity_tags and the null keys left out)
_CHECKOV_PASSED = {
    "check_id": "CKV_AWS_24",
    "check_name": "Ensure no security groups allow ingress from 0.0.0.0:0 to port 22",
    "check_result": {"result": "PASSED", "evaluated_keys": []},
    "file_path": "/aws/db-app.tf",
    "file_abs_path": "/infra/terraform/aws/db-app.tf",
    "repo_file_path": "/infra/terraform/aws/db-app.tf",
    "file_line_range": [116, 133],
    "resource": "aws_security_group.default",
    "check_class": "checkov.terraform.checks.resource.aws.SecurityGroupUnrestrictedIngress22",
    "guideline": "https://docs.bridgecrew.io/docs/networking_1-port-security",
}


def test_checkov_failed_check() -> None:
    # checkov -o json (one framework): was "no format matched"
    doc = (CASES / "checkov-defectdojo.json").read_bytes()
    assert formats.detect(doc) is formats.get("checkov")
    d = formats.get("checkov").decode(doc, "x")
    assert not d.dead
    [r] = _rows(d)
    assert not check_rows("application_security_posture_finding", [r])
    assert (r["class_uid"], r["severity_id"], r["status_id"]) == (2007, 4, 1)  # HIGH; failed -> New
    assert r["metadata"]["product"]["version"] == "2.2.34"
    fi = r["finding_info"]
    assert fi["analytic"]["uid"] == "CKV_GCP_28"
    assert fi["title"] == "Ensure that Cloud Storage bucket is not anonymously or publicly accessible"
    assert fi["types"] == ["Public", "terraform"]
    assert fi["uid"] == "CKV_GCP_28|/gcs.tf|google_storage_bucket_iam_binding.allow_public_read"
    assert r["resources"] == [
        {
            "type": "google_storage_bucket_iam_binding",
            "name": "google_storage_bucket_iam_binding.allow_public_read",
        }
    ]
    [v] = r["vulnerabilities"]
    assert v["advisory"]["src_url"] == "https://docs.bridgecrew.io/docs/bc_gcp_public_1"
    [c] = v["affected_code"]
    assert (c["file"]["path"], c["start_line"], c["end_line"]) == ("/gcs.tf", 17, 21)
    assert '"check_result":{"result":"FAILED"' in r["unmapped"]


def test_checkov_array_of_framework_reports_with_a_passed_check() -> None:
    failed = json.loads((CASES / "checkov-defectdojo.json").read_text())
    passed = {"check_type": "terraform", "results": {"passed_checks": [_CHECKOV_PASSED], "failed_checks": []}}
    d = formats.get("checkov").decode(json.dumps([passed, failed]).encode(), "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("application_security_posture_finding", rows)
    assert [(r["finding_info"]["analytic"]["uid"], r["status_id"], r["status"]) for r in rows] == [
        ("CKV_AWS_24", 4, "Resolved"),
        ("CKV_GCP_28", 1, "New"),
    ]
    assert (
        rows[0]["vulnerabilities"][0]["affected_code"][0]["file"]["path"] == "/infra/terraform/aws/db-app.tf"
    )
    assert rows[0]["severity_id"] == 0  # no severity without a platform key


def test_checkov_bad_check_is_dead_lettered_alone() -> None:
    doc = (
        (CASES / "checkov-defectdojo.json")
        .read_text()
        .replace('"failed_checks":[', '"failed_checks":[{"check_id": 7},', 1)
    )
    d = formats.get("checkov").decode(doc.encode(), "x")
    assert len(d.dead) == 1 and "check_id" in d.dead[0].reason
    assert len(_rows(d)) == 1


def _tfsec(doc: bytes) -> list[dict[str, Any]]:
    fmt = formats.detect(doc)
    assert fmt is formats.get("tfsec")
    d = fmt.decode(doc, "x")
    assert not d.dead
    rows = _rows(d)
    assert not check_rows("application_security_posture_finding", rows)
    return rows


def test_tfsec_legacy_result() -> None:
    # tfsec 0.x --format json (rule GEN003, severity WARNING, a "See <url> ..." link): was "no format matched"
    [r] = _tfsec((CASES / "tfsec-defectdojo.json").read_bytes())
    assert (r["severity_id"], r["status_id"]) == (3, 1)  # WARNING as its SARIF warning; passed false
    assert r["finding_info"]["uid"] == "GEN003|tfsec-test/identity.tf:226"
    assert r["finding_info"]["types"] == ["general"]
    [v] = r["vulnerabilities"]
    assert v["advisory"]["src_url"] == "https://tfsec.dev/docs/general/GEN003/"
    assert v["remediation"]["desc"] == "Don't include sensitive data in blocks"
    [c] = v["affected_code"]
    assert (c["file"]["path"], c["start_line"], c["end_line"]) == ("tfsec-test/identity.tf", 226, 226)


def test_tfsec_current_result() -> None:
    # tfsec --format json, rule ids of 0.58+ (DefectDojo many_findings_current.json, its first result verbatim)
    doc = (
        b'{"results": [{"rule_id": "aws-vpc-no-excessive-port-access", "legacy_rule_id": "AWS050",'
        b' "rule_description": "An ingress Network ACL rule allows ALL ports.", "rule_provider": "aws",'
        b' "impact": "All ports exposed for egressing data", "resolution": "Set specific allowed ports",'
        b' "links": ["https://tfsec.dev/docs/aws/vpc/no-excessive-port-access#aws/vpc",'
        b' "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/network_acl_rule#to_port",'
        b' "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html"],'
        b' "description": "Resource \'module.SUBNETS:aws_network_acl_rule.public_inbound[0]\' defines a fully open'
        b' ingress Network ACL rule with ALL ports open.", "severity": "CRITICAL", "status": "failed",'
        b' "location": {"filename": "/tmp/aws-eks/modules/vpc-subnets/resources.tf", "start_line": 155,'
        b' "end_line": 155}}]}'
    )
    [r] = _tfsec(doc)
    assert (r["severity_id"], r["status_id"]) == (5, 1)
    assert r["finding_info"]["analytic"]["uid"] == "aws-vpc-no-excessive-port-access"
    assert r["message"].startswith("Resource 'module.SUBNETS:aws_network_acl_rule.public_inbound[0]'")
    [v] = r["vulnerabilities"]
    assert v["references"][0] == "https://tfsec.dev/docs/aws/vpc/no-excessive-port-access#aws/vpc"
    assert '"legacy_rule_id":"AWS050"' in r["unmapped"]


def test_tfsec_bad_result_is_dead_lettered_alone() -> None:
    doc = (
        (CASES / "tfsec-defectdojo.json")
        .read_text()
        .replace('"results": [', '"results": [{"rule_id": 3},', 1)
    )
    d = formats.get("tfsec").decode(doc.encode(), "x")
    assert len(d.dead) == 1 and "rule_id" in d.dead[0].reason
    assert len(_rows(d)) == 1
    d = formats.get("tfsec").decode(b'{"results": null}', "x")
    assert (d.dead, d.batches) == ([], [])
