"""Real samples secpipe was not developed against, third round (``tests/cases/holdout``, see its SOURCE.md).

As in ``test_formats_holdout.py``: each file is ingested by auto-detection and checked against
what the file itself holds and against the format's specification mapped to OCSF 1.8.0. The
expectations were written from the source documents and the schema, not from secpipe's output.

Regressions covered (each was wrong or missing on the real file): SARIF results identified by
partial fingerprints alone got the first partial value as ``finding_info.uid``, so CodeQL's line
hash made one finding of the same rule in two files (and of two rules on one line); the CWE of
a SARIF result (CodeQL ``external/cwe/cwe-NNN`` tags, Snyk Code ``properties.cwe``, Flawfinder
rule relationships into the CWE taxonomy, result ``taxa``) was not mapped to the vulnerability.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import _fast
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import CASES, _auto, _rows

NATIVE = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")


def _cwe(r: dict[str, Any]) -> dict[str, Any] | None:
    return r["vulnerabilities"][0]["cwe"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------
# SARIF: identity from partial fingerprints
# --------------------------------------------------------------------------------------

CODEQL = "codeql-output-vulpy.sarif"
GH_DOCS = "github-docs-sarif-all-properties.sarif"
FLAWFINDER = "flawfinder.sarif"


def test_sarif_codeql_same_line_hash_in_two_files_is_two_findings() -> None:
    name, d = _auto(CODEQL)
    assert name == "sarif" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 4
    uids = [r["finding_info"]["uid"] for r in rows]
    # good/ and bad/ copies of one line share CodeQL's primaryLocationLineHash: still two findings
    assert len(set(uids)) == 4
    # rule, file, then the partial fingerprints in key order (primaryLocationLineHash, primaryLocationStartColumnFingerprint)
    assert uids[0] == "py/unreachable-statement|good/mod_mfa.py|d6bd3070be542edc:1|0"
    assert uids[1] == "py/unreachable-statement|bad/mod_mfa.py|d6bd3070be542edc:1|0"
    tags = {t["name"]: t["value"] for t in rows[3]["finding_info"]["tags"]}
    assert tags == {"partialFingerprint:primaryLocationLineHash": "2b43957e7f3d7581:1",
                    "partialFingerprint:primaryLocationStartColumnFingerprint": "0"}  # fmt: skip
    r = rows[2]
    assert r["metadata"]["product"] == {"name": "CodeQL", "vendor_name": "GitHub", "version": "2.5.4"}
    assert r["severity_id"] == 2  # no result level: the rule's default "note" -> Low
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["start_column"], code["end_column"]) == ("good/libposts.py", 28, 5, 9)
    assert r["message"] == "The value assigned to local variable 'rows' is never used."


def test_sarif_github_docs_example_ids() -> None:
    """GitHub's "all supported SARIF properties" example: a rule without descriptions, results
    with one or two partial fingerprints."""
    name, d = _auto(GH_DOCS)
    assert name == "sarif" and not d.dead
    rows = _rows(d)
    assert [r["finding_info"]["uid"] for r in rows] == [
        "3f292041e51d22005ce48f39df3585d44ce1b0ad|main.js|39fa2ee980eb94b0:1|4",
        "d5b664aefd5ca4b21b52fdc1d744d7d6ab6886d0|src/promises.js|5061c3315a741b7d:1|7",
        "R01|full.sarif|ABC:2",
    ]
    assert [r["severity_id"] for r in rows] == [2, 3, 4]  # note (rule default), warning (default), error
    assert rows[0]["finding_info"]["analytic"]["name"] == "js/unused-local-variable"
    assert rows[2]["finding_info"]["title"] == "R01"
    assert all(_cwe(r) is None for r in rows)  # no CWE named anywhere
    assert rows[0]["metadata"]["product"]["version"] == "2.0.0"  # semanticVersion


def test_sarif_full_fingerprint_still_wins() -> None:
    """A producer's full fingerprint is its identity of the result, as before; where two results
    share it (Flawfinder's context hash: equal for two identical source lines, which Flawfinder
    reports as two results) each gets its location appended (session 9: distinct findings,
    distinct uids)."""
    _, d = _auto(FLAWFINDER)
    rows = _rows(d)
    assert [r["finding_info"]["uid"] for r in rows] == [
        "e6c1ad2b1d96ffc4035ed8df070600566ad240b8ded025dac30620f3fd4aa9fd|src/tree/param.cc:29:10",
        "e6c1ad2b1d96ffc4035ed8df070600566ad240b8ded025dac30620f3fd4aa9fd|src/tree/param.cc:75:10",
        "b1699f70cbe95f1be3407d87c85c98bf7097f3f33cf818154d5e61eee41843f2",
    ]
    assert len({r["metadata"]["uid"] for r in rows}) == 3  # still three stored events (lines 29, 75, 242)


def _log(results: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None, **run: Any) -> dict[str, Any]:
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T", "rules": rules or []}}, "results": results, **run}]}


def _loc(uri: str, line: int) -> list[dict[str, Any]]:
    return [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}]


def test_sarif_partial_fingerprint_edge_cases() -> None:
    res: list[dict[str, Any]] = [
        {"ruleId": "a", "message": {"text": "m"}, "locations": _loc("x.py", 1), "partialFingerprints": {"z": "2", "b": "1"}},
        {"ruleId": "a", "message": {"text": "m"}, "locations": _loc("x.py", 2), "partialFingerprints": {"p": ""}},
        {"ruleId": "a", "message": {"text": "m"}, "locations": _loc("x.py", 3), "partialFingerprints": {},
         "fingerprints": {"f": ""}},
        {"message": {"text": "m"}, "partialFingerprints": {"p": "h"}},
        {"ruleId": "a", "message": {"text": "m"}, "locations": _loc("x.py", 5), "fingerprints": {"f": "F"},
         "partialFingerprints": {"p": "h"}},
    ]  # fmt: skip
    d = formats.get("sarif").decode(json.dumps(_log(res)).encode(), "src")
    assert not d.dead
    assert [r["finding_info"]["uid"] for r in _rows(d)] == [
        "a|x.py|1|2",  # keys in order: b, z
        "a|x.py|2|0.1",  # only empty values: rule|file|line|run.ordinal as without fingerprints
        "a|x.py|3|0.2",
        "None|None|h",
        "F",
    ]


# --------------------------------------------------------------------------------------
# SARIF: CWE
# --------------------------------------------------------------------------------------


def test_sarif_codeql_cwe_tags() -> None:
    _, d = _auto(CODEQL)
    assert [_cwe(r) for r in _rows(d)] == [{"uid": "CWE-561", "caption": None}] * 2 + [{"uid": "CWE-563", "caption": None}] * 2
    assert all(r["vulnerabilities"][0]["cve"] is None for r in _rows(d))


def test_sarif_flawfinder_cwe_relationships() -> None:
    name, d = _auto(FLAWFINDER)
    assert name == "sarif" and not d.dead and d.events == 3
    rows = _rows(d)
    # rule relationships[].target into the CWE taxonomy; the first listed is the finding's
    assert [_cwe(r)["uid"] for r in rows] == ["CWE-327", "CWE-327", "CWE-120"]  # type: ignore[index]
    assert [r["severity_id"] for r in rows] == [4, 3, 2]  # rule default error, warning, note
    assert rows[0]["metadata"]["product"]["name"] == "Flawfinder"


def test_sarif_snyk_code_cwe_property(real: Any) -> None:
    data = (real / "snyk-to-html" / "test-code-openrefine.json").read_bytes()
    doc = json.loads(data)
    rules = {r["id"]: r["properties"].get("cwe") for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    d = formats.get("sarif").decode(data, "src")
    rows = _rows(d)
    assert len(rows) == len(doc["runs"][0]["results"]) == 27
    for res, r in zip(doc["runs"][0]["results"], rows, strict=True):
        want = rules[res["ruleId"]]
        assert _cwe(r) == ({"uid": want[0], "caption": None} if want else None), res["ruleId"]
    assert {_cwe(r)["uid"] for r in rows if _cwe(r)} >= {"CWE-916"}  # type: ignore[index]


def test_sarif_semgrep_tags_and_taxa() -> None:
    """Semgrep's ``CWE-89: text`` tag (the text is the caption); a result's own ``taxa`` (§3.27.8)
    into the run's CWE taxonomy (by ``toolComponent.index``, taxon by id or by index) win over
    its rule's; a CVE rule keeps its weakness under ``cve.cwe`` (just one of cve / cwe)."""
    rules = [
        {"id": "sqli", "properties": {"tags": ["security", "CWE-89: Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')", "OWASP-A03:2021 - Injection"]}},
        {"id": "CVE-2021-44228", "properties": {"tags": ["external/cwe/cwe-502"]}},
        {"id": "plain", "properties": {"tags": ["cwe", "owasp", "cwe-x"]}},
    ]  # fmt: skip
    taxonomies = [{"name": "OWASP"}, {"name": "CWE", "guid": "25F72D7E-8A92-459D-AD67-64853F788765",
                                      "taxa": [{"id": "79", "name": "Cross-site Scripting"}, {"id": "CWE-22"}]}]  # fmt: skip
    res: list[dict[str, Any]] = [
        {"ruleId": "sqli", "message": {"text": "m"}, "locations": _loc("a.py", 1)},
        {"ruleId": "CVE-2021-44228", "message": {"text": "m"}, "locations": _loc("a.py", 2)},
        {"ruleId": "plain", "message": {"text": "m"}, "locations": _loc("a.py", 3)},
        {"ruleId": "sqli", "message": {"text": "m"}, "taxa": [{"id": "A1", "toolComponent": {"index": 0}},
                                                            {"id": "79", "toolComponent": {"index": 1}}]},
        {"ruleId": "plain", "message": {"text": "m"}, "taxa": [{"index": 1, "toolComponent": {"index": 1}}]},
        {"ruleId": "plain", "message": {"text": "m"}, "taxa": [{"id": "CWE-0416", "toolComponent": {"name": "CWE"}}]},
        {"ruleId": "plain", "message": {"text": "m"}, "taxa": [{"id": "79", "toolComponent": {"name": "OWASP"}}, 7]},
    ]  # fmt: skip
    d = formats.get("sarif").decode(json.dumps(_log(res, rules, taxonomies=taxonomies)).encode(), "src")
    assert not d.dead
    rows = _rows(d)
    sqli = {"uid": "CWE-89", "caption": "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"}
    assert [_cwe(r) for r in rows] == [
        sqli, None, None, {"uid": "CWE-79", "caption": "Cross-site Scripting"}, {"uid": "CWE-22", "caption": None},
        {"uid": "CWE-416", "caption": None}, None,
    ]  # fmt: skip
    assert rows[1]["vulnerabilities"][0]["cve"] == {"uid": "CVE-2021-44228", "cwe": {"uid": "CWE-502", "caption": None}}
    assert rows[0]["vulnerabilities"][0]["cve"] is None


@NATIVE
def test_sarif_cwe_and_ids_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (CODEQL, GH_DOCS, FLAWFINDER):
        doc = json.loads((CASES / name).read_text())
        same_both_ways("sarif", json.dumps(doc).encode(), monkeypatch, name)
        mutated = copy.deepcopy(doc)
        res = mutated["runs"][0]["results"]
        res[0]["taxa"] = [{"id": "CWE-20", "toolComponent": {"name": "CWE"}}]
        res[-1]["partialFingerprints"] = {"b": "2", "a": "1", "c": ""}
        res[-1].pop("fingerprints", None)
        same_both_ways("sarif", json.dumps(mutated).encode(), monkeypatch, (name, "mutated"))


# --------------------------------------------------------------------------------------
# Trivy before 0.20 (an array of results)
# --------------------------------------------------------------------------------------


def test_trivy_pre_020_array_output() -> None:
    """``trivy --format json`` before 0.20 printed the results alone: each vulnerability is a
    finding, the image is named by the OS result's Target, the time is the receipt time."""
    name, d = _auto("client_server_alpine-39.json.golden")
    assert name == "trivy" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 2
    r = rows[1]
    assert r["class_uid"] == 2002 and r["severity_id"] == 2  # LOW
    assert r["metadata"]["labels"] == ["secpipe:time_from_receipt"] and r["metadata"]["log_version"] is None
    assert [(x["type"], x["name"]) for x in r["resources"]] == [
        (None, "testdata/fixtures/alpine-39.tar.gz"), ("alpine", "testdata/fixtures/alpine-39.tar.gz (alpine 3.9.4)")]  # fmt: skip
    v = r["vulnerabilities"][0]
    assert v["cve"]["uid"] == "CVE-2019-1547"
    assert {(c["version"], c["base_score"]) for c in v["cve"]["cvss"]} == {("2.0", 7.5), ("3.0", 9.8)}
    pkg = v["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"], pkg["type"]) == ("libcrypto1.1", "1.1.1b-r1", "1.1.1d-r0", "alpine")
    assert r["finding_info"]["first_seen_time"] == 1565108100000  # PublishedDate 2019-08-06T16:15:00Z


def test_trivy_pre_020_mixed_targets() -> None:
    name, d = _auto("trivy-legacy-mix.json")
    assert name == "trivy" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 7  # 1 composer + 1 npm + 5 alpine; the three targets with null hold none
    assert {r["resources"][0]["name"] for r in rows} == {"trivy-ci-test"}  # the OS result's image
    assert [r["resources"][1]["name"] for r in rows][:3] == ["php-app/composer.lock", "node-app/package-lock.json",
                                                             "trivy-ci-test (alpine 3.7.1)"]  # fmt: skip
    # a vulnerability without VulnerabilityID: kept (it is in the report), no cve object (OCSF requires its uid)
    odd = rows[0]
    assert odd["vulnerabilities"][0]["cve"] is None
    assert odd["vulnerabilities"][0]["affected_packages"][0]["name"] == "simplito/elliptic-php"
    assert odd["finding_info"]["uid"] == "None|simplito/elliptic-php|php-app/composer.lock"
    assert odd["message"] == "simplito/elliptic-php in php-app/composer.lock"
    lodash = rows[1]["vulnerabilities"][0]
    assert lodash["cve"]["uid"] == "CVE-2018-16487" and lodash["cve"]["cwe"] == {"uid": "CWE-190"}
    assert rows[1]["severity_id"] == 4


@NATIVE
def test_trivy_pre_020_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("client_server_alpine-39.json.golden", "trivy-legacy-mix.json"):
        same_both_ways("trivy", (CASES / name).read_bytes(), monkeypatch, name)


def test_trivy_pre_020_not_json_is_dead_lettered() -> None:
    d = formats.get("trivy").decode(b'[{"Target": "x", "Type": "npm", "Vulnerabilities": [', "src")
    assert not d.batches and len(d.dead) == 1 and "before 0.20" in d.dead[0].reason


# --------------------------------------------------------------------------------------
# syslog: Elastic's system/auth pipeline test logs
# --------------------------------------------------------------------------------------


def _auth_rows(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["message"]: r for r in rows if r["class_uid"] == 3002}


def test_syslog_elastic_auth_lines() -> None:
    name, d = _auto("elastic-system-auth.log")
    assert name == "syslog" and not d.dead
    rows = _rows(d)
    lines = (CASES / "elastic-system-auth.log").read_text().splitlines()
    assert d.events == len(rows) == len(lines) == 22
    auth = _auth_rows(rows)
    assert len(auth) == 14
    r = auth["Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2: RSA 39:33:99:e9:a0:dc:f2:33:a3:e5:72:3b:7c:3a:56:84"]
    assert (r["activity_id"], r["status_id"], r["user"]["name"], r["src_endpoint"]["ip"], r["src_endpoint"]["port"],
            r["auth_protocol"]) == (1, 1, "vagrant", "10.0.2.2", 63673, "publickey")  # fmt: skip
    r = auth["tsg : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls"]
    assert (r["activity_id"], r["status_id"], r["user"]["name"], r["actor"]["user"]["name"], r["status_detail"]) == (
        7, 2, "root", "tsg", "user NOT in sudoers")  # fmt: skip
    r = auth["alice : PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id"]  # sudo without a TTY
    assert (r["status_id"], r["user"]["name"], r["actor"]["user"]["name"]) == (1, "root", "alice")
    # the RFC 5424 line and the non-auth lines are Base Events with their header
    rfc = next(r for r in rows if r["metadata"]["log_format"] == "RFC 5424")
    assert rfc["time"] == 1695895812175  # 2023-09-28T12:10:12.175599+02:00
    assert (rfc["device"]["hostname"], rfc["actor"]["process"]["name"], rfc["actor"]["process"]["pid"]) == (
        "test.lab.com", "systemd", 153589)  # fmt: skip
    assert rfc["severity_id"] == 1 and rfc["metadata"]["log_level"] == "info"  # <30>: daemon.info
    iso = next(r for r in rows if r["message"].startswith("pam_faillock"))
    assert iso["time"] == 1779040801000 and iso["device"]["hostname"] == "host12345"  # 2026-05-17T18:00:01+00:00


def test_syslog_sshd_pam_error_and_summary() -> None:
    """sshd's ``error: PAM: ... for illegal user U from H`` and ``PAM N more authentication
    failures`` (RHEL) are authentication failures; the summary stands for N failures."""
    _, d = _auto("elastic-system-auth.log")
    auth = _auth_rows(_rows(d))
    r = auth["error: PAM: User not known to the underlying authentication module for illegal user test from test.example.com"]
    assert (r["activity_id"], r["status_id"], r["user"]["name"], r["src_endpoint"]["hostname"], r["src_endpoint"]["ip"]) == (
        1, 2, "test", "test.example.com", None)  # fmt: skip
    assert r["status_detail"] == "User not known to the underlying authentication module"
    r = auth["PAM 4 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=202.109.143.106  user=root"]
    assert (r["status_id"], r["user"]["name"], r["src_endpoint"]["ip"], r["count"], r["status_detail"]) == (
        2, "root", "202.109.143.106", 4, "authentication failure")  # fmt: skip
    one = auth["pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=202.109.143.106  user=root"]
    assert one["count"] is None
    raw = (b"Feb 22 16:45:26 h sshd[1]: error: PAM: Authentication failure for root from 203.0.113.9\n"
           b"Feb 22 16:45:27 h cron[2]: error: PAM: Authentication failure for root from 203.0.113.9\n")  # fmt: skip
    rows = _rows(formats.get("syslog").decode(raw, "src"))
    assert [(r["class_uid"], (r.get("src_endpoint") or {}).get("ip")) for r in rows] == [(3002, "203.0.113.9"), (0, None)]


# --------------------------------------------------------------------------------------
# Snyk: exploit maturity and CVSS versions of newer reports
# --------------------------------------------------------------------------------------

SNYK_REACH = "test-report-with-reachability.json"


def test_snyk_exploit_maturity_levels(real: Any) -> None:
    """Newer reports rate exploit maturity in ``exploitDetails.maturityLevels`` (CVSS v4 primary,
    v3 secondary) and may leave ``exploit`` out: the primary level, else the one given, decides."""
    d = formats.get("snyk").decode((real / "snyk-to-html" / "test-exploit-maturity.json").read_bytes(), "src")
    got = {r["finding_info"]["uid"].split("|")[0]: r["vulnerabilities"][0]["is_exploit_available"] for r in _rows(d)}
    assert got == {
        "test-vuln-primary-exploit": True,  # primary: Proof of Concept
        "test-vuln-secondary-exploit": True,  # secondary only: High
        "test-vuln-old-exploit-field": False,  # exploit: Not Defined
        "test-vuln-no-exploit": None,
        "test-vuln-empty-maturity-levels": None,
        "test-vuln-maturity-levels-no-level": None,
    }


def test_snyk_report_with_reachability() -> None:
    name, d = _auto(SNYK_REACH)
    assert name == "snyk" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 3
    by_id = {r["finding_info"]["uid"].split("|")[0]: r for r in rows}
    xss = by_id["npm:sanitize-html:20141024"]["vulnerabilities"][0]
    # cvssVersion "CVSSv31" is CVSS 3.1 (OCSF writes the version number)
    assert [(c["version"], c["base_score"], c["vendor_name"]) for c in xss["cve"]["cvss"]] == [("3.1", 4.3, "Snyk"), ("3.1", 6.1, "NVD")]
    assert (xss["cve"]["uid"], xss["cve"]["cwe"]["uid"], xss["is_exploit_available"]) == ("CVE-2016-1000237", "CWE-79", False)
    assert "GHSA-3j7m-hmh3-9jmp" in xss["related_vulnerabilities"]
    assert json.loads(by_id["npm:sanitize-html:20141024"]["unmapped"])["reachability"] == "reachable"
    grunt = by_id["SNYK-JS-GRUNT-2635969"]
    assert grunt["vulnerabilities"][0]["is_exploit_available"] is True  # primary maturity: proof of concept
    pkg = grunt["vulnerabilities"][0]["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"], pkg["package_manager"]) == ("grunt", "1.4.1", "1.5.0", "npm")
    lic = by_id["snyk:lic:npm:fuzzball:GPL-2.0"]
    assert lic["class_uid"] == 2003 and lic["severity_id"] == 4


@NATIVE
def test_snyk_maturity_same_both_ways(monkeypatch: pytest.MonkeyPatch, real: Any) -> None:
    doc = json.loads((CASES / SNYK_REACH).read_text())
    same_both_ways("snyk", json.dumps(doc).encode(), monkeypatch, SNYK_REACH)
    odd = copy.deepcopy(doc)
    odd["vulnerabilities"][0]["exploitDetails"] = "not an object"  # kept in unmapped, no maturity from it
    odd["vulnerabilities"][1]["exploitDetails"]["maturityLevels"] = [7, {"level": None}, {"type": "primary", "level": "Mature"}]
    odd["vulnerabilities"][1]["cvssSources"][0]["cvssVersion"] = "CVSSv4"
    odd["vulnerabilities"][1]["cvssSources"][0]["vector"] = None
    d = same_both_ways("snyk", json.dumps(odd).encode(), monkeypatch, "odd")
    rows = {r["finding_info"]["uid"].split("|")[0]: r["vulnerabilities"][0] for r in _rows(d) if r["class_uid"] == 2002}
    assert rows["npm:sanitize-html:20141024"]["is_exploit_available"] is None
    assert rows["SNYK-JS-GRUNT-2635969"]["is_exploit_available"] is True
    assert rows["SNYK-JS-GRUNT-2635969"]["cve"]["cvss"][0]["version"] == "4.0"
    same_both_ways("snyk", (real / "snyk-to-html" / "test-exploit-maturity.json").read_bytes(), monkeypatch, "maturity")


# --------------------------------------------------------------------------------------
# syslog: RFC 3164 timestamps around the new year
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "line", "want"), [
    ("2025-01-01T00:00:30", "Dec 31 23:59:59", "2024-12-31T23:59:59"),  # read just after midnight: last year's
    ("2024-12-31T23:59:50", "Jan  1 00:00:05", "2025-01-01T00:00:05"),  # the sender's clock runs ahead: next year's
    ("2024-12-31T12:00:00", "Jan 15 08:00:00", "2024-01-15T08:00:00"),  # far ahead in the next year: this year's
    ("2025-06-01T00:00:00", "Jun  2 00:00:00", "2025-06-02T00:00:00"),  # within a day ahead: this year's
    ("2025-06-01T00:00:00", "Jun  3 00:00:00", "2024-06-03T00:00:00"),  # more than a day ahead: last year's
    ("2025-01-01T00:00:10", "Feb 29 10:00:00", "2024-02-29T10:00:00"),  # the latest Feb 29 not ahead
])  # fmt: skip
def test_syslog_bsd_year_around_new_year(monkeypatch: pytest.MonkeyPatch, now: str, line: str, want: str) -> None:
    import datetime as dt

    from secpipe.formats import _syslog_header

    clock = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC).timestamp()
    monkeypatch.setattr(_syslog_header, "_clock", lambda: clock)
    d = formats.get("syslog").decode(f"<13>{line} host app[1]: text\n".encode(), "src")
    (r,) = _rows(d)
    assert r["time_dt"] == dt.datetime.fromisoformat(want).replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------
# Kubernetes audit: the object a create made
# --------------------------------------------------------------------------------------

PSP = "falco-psp-host_ipc.json"


def test_k8s_audit_create_names_the_created_object() -> None:
    """A pod created from a ReplicaSet's ``generateName``: objectRef has no name (the server picks
    it), the response object does; the resource is that pod (Falco's ``ka.resp.name``)."""
    name, d = _auto(PSP)
    assert name == "k8s_audit" and not d.dead
    (r,) = _rows(d)
    assert r["resources"] == [{"type": "pods", "name": "nginx-deployment-755c58cb7c-vrx4n", "namespace": "default",
                               "uid": "cd67586f-9232-11e9-b061-08002760e39e"}]  # fmt: skip
    assert (r["activity_id"], r["api"]["operation"], r["status_id"], r["actor"]["user"]["name"]) == (
        1, "create", 1, "system:serviceaccount:kube-system:replicaset-controller")  # fmt: skip
    assert r["authorizations"][0]["policy"]["name"] == "system:controller:replicaset-controller"
    assert r["time"] == 1560908250360  # requestReceivedTimestamp 2019-06-19T01:37:30.360992Z


def test_k8s_audit_created_object_only_for_creates(real: Any) -> None:
    """Every Falco k8s trace: a resource keeps objectRef's name where it has one; only creates
    without one take the response object's."""
    for path in sorted((real / "falco" / "test" / "trace_files" / "k8s_audit").glob("*.json")):
        d = formats.get("k8s_audit").decode(path.read_bytes(), path.name)
        for r, line in zip(_rows(d), [x for x in path.read_text().splitlines() if x.strip()], strict=False):
            ev = json.loads(line)
            ref = ev.get("objectRef") or {}
            res = (r["resources"] or [{}])[0]
            if ref.get("name"):
                assert res["name"] == ref["name"], path.name
            elif ev.get("verb") == "create" and isinstance(ev.get("responseObject"), dict):
                assert res["name"] == ev["responseObject"]["metadata"]["name"], path.name


@NATIVE
def test_k8s_audit_created_object_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    ev = json.loads((CASES / PSP).read_text())
    variants = [ev]
    for resp in (None, "text", [1], {"metadata": None}, {"metadata": {"name": 7, "uid": ""}}, {"kind": "Status"}):
        e = copy.deepcopy(ev)
        e["responseObject"] = resp
        variants.append(e)
    named = copy.deepcopy(ev)
    named["objectRef"]["name"] = "given"
    variants.append(named)
    doc = "\n".join(json.dumps(v) for v in variants).encode()
    d = same_both_ways("k8s_audit", doc, monkeypatch, "variants")
    names = [r["resources"][0]["name"] for r in _rows(d)]
    assert names == ["nginx-deployment-755c58cb7c-vrx4n", None, None, None, None, None, None, "given"]


# --------------------------------------------------------------------------------------
# SonarQube: issues on the project itself
# --------------------------------------------------------------------------------------

SONAR_API = "sonarqube-findings-over-api-defectdojo.json"


def test_sonarqube_project_level_issues_have_no_file() -> None:
    """Dependency-Check issues sit on the project (component = project key, qualifier TRK): no
    file, so no affected_code (OCSF requires its file); file issues keep theirs."""
    name, d = _auto(SONAR_API)
    assert name == "sonarqube" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 5
    codes = [(r["vulnerabilities"][0]["affected_code"] or [None])[0] for r in rows]
    assert [c["file"]["path"] if c else None for c in codes] == [
        None, "src/app/pages/fjiowefjewio/fjwieof/fjiwoe/details.html", "src/app/services/fjweiofwefjiofiwofjwof.fjewoi",
        None, None]  # fmt: skip
    assert codes[1]["owner"] == {"name": "name.name@name.de"} and (codes[1]["start_line"], codes[1]["end_column"]) == (59, 113)
    assert [r["severity_id"] for r in rows] == [3, 2, 2, 3, 4]  # MAJOR, MINOR, MINOR, MAJOR, CRITICAL
    assert all(r["resources"][0]["uid"] == "testapplication" for r in rows)
    # two issues share a key (as in the source); both are stored, told apart by their content
    assert len({r["metadata"]["uid"] for r in rows}) == 5


@pytest.mark.parametrize(("component", "project", "path"), [
    ("proj", "proj", None), ("proj", None, None), ("proj:src/a.py", "proj", "src/a.py"),
    ("g:a:src/a.py", "g:a", "src/a.py"), ("other:src/b.py", "proj", "src/b.py"), (None, "proj", None),
])  # fmt: skip
def test_sonarqube_file_of_component(component: str | None, project: str | None, path: str | None) -> None:
    from secpipe.formats.sonarqube import _file_of

    assert _file_of(component, project) == path


# --------------------------------------------------------------------------------------
# GitLab: audit_json.log and api_json/production_json.log lines (Elastic's pipeline tests)
# --------------------------------------------------------------------------------------


def test_gitlab_elastic_log_lines() -> None:
    name, d = _auto("elastic-gitlab-logs.jsonl")
    assert name == "gitlab" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 5 and [r["class_uid"] for r in rows] == [3002, 6003, 6003, 6003, 6003]
    signin, visibility, api, graphql, root = rows
    # an audit_json.log sign-in (``with`` the method): Authentication Logon (session 30; it was API
    # Activity named by its controller action); meta.remote_ip is the caller
    assert (signin["activity_id"], signin["status_id"], signin["auth_protocol"]) == (1, 1, "standard")
    assert signin["src_endpoint"]["ip"] == "208.58.198.174"
    assert (signin["user"]["name"], signin["user"]["uid"]) == ("Administrator", "1")
    assert visibility["api"]["operation"] == "visibility" and visibility["resources"][1]["name"] == "namespace2/project2"
    # remote_ip "81.2.69.144, 127.0.0.1": the client, then the proxy
    assert api["src_endpoint"]["ip"] == "81.2.69.144"
    assert (api["api"]["operation"], api["http_request"]["http_method"], api["actor"]["user"]["name"]) == (
        "/api/:version/projects", "GET", "root")  # fmt: skip
    assert graphql["src_endpoint"]["ip"] == "192.168.65.1" and graphql["activity_id"] == 1  # POST
    assert root["src_endpoint"]["ip"] is None and root["status_id"] == 1  # 302 is no failure


@pytest.mark.parametrize(("value", "ip"), [
    ("81.2.69.144, 127.0.0.1", "81.2.69.144"), ("127.0.0.1", "127.0.0.1"), ("", None), (None, None), (" ,1.2.3.4", None),
])  # fmt: skip
def test_gitlab_first_remote_ip(value: str | None, ip: str | None) -> None:
    from secpipe.formats.gitlab import _first_ip

    assert _first_ip(value) == ip


# --------------------------------------------------------------------------------------
# OPA: slash-prefixed decision paths
# --------------------------------------------------------------------------------------


def test_opa_slash_prefixed_path_is_the_same_decision() -> None:
    """OPA's decision-log docs: "Receivers should tolerate slash-prefixed paths"."""
    lines = [
        {"decision_id": "c1", "path": "/http/example/authz/allow", "input": {"method": "POST", "path": "/salary/bob"},
         "result": False, "requested_by": "[::1]:59943", "timestamp": "2018-01-01T00:00:00.000000Z", "req_id": 7},
        {"decision_id": "c2", "path": "http/example/authz/allow", "result": "true", "timestamp": "2018-01-01T00:00:01Z"},
        {"decision_id": "c3", "path": "/", "result": True, "timestamp": "2018-01-01T00:00:02Z"},
    ]  # fmt: skip
    d = formats.get("opa").decode("\n".join(json.dumps(x) for x in lines).encode(), "src")
    assert not d.dead
    rows = _rows(d)
    assert [r["api"]["operation"] for r in rows] == ["http/example/authz/allow", "http/example/authz/allow", None]
    assert [(r["authorizations"] or [{}])[0].get("decision") for r in rows] == ["denied", "allowed", "allowed"]
    assert rows[0]["http_request"]["url"]["path"] == "/salary/bob" and rows[0]["activity_id"] == 1


def test_trivy_report_id_correlates_findings() -> None:
    name, d = _auto("trivy-config-report-id-defectdojo.json")
    assert name == "trivy" and not d.dead
    (r,) = _rows(d)
    assert r["metadata"]["correlation_uid"] == "019bdfd9-f774-7da7-917a-6b15e3b0b2a0"
    assert r["class_uid"] == 2003 and r["severity_id"] == 2 and r["compliance"]["status_id"] == 3  # LOW, FAIL
    assert r["compliance"]["checks"][0]["uid"] == "AVD-AWS-0143"
    assert r["time"] == 1768987162484  # CreatedAt 2026-01-21T10:19:22.484900675+01:00
    assert [(x["type"], x["name"]) for x in r["resources"]] == [("filesystem", "tofu/clusters/sandbox"),
                                                                ("terraform", "../../aws-credentials/main.tf"),
                                                                ("iam", "module.aws_credentials")]  # fmt: skip
    # (session 31: CauseMetadata's Resource is the resource at fault, after the artifact and the target)
    assert json.loads(r["resources"][2]["data"]) == {"provider": "AWS", "service": "iam", "start_line": 20, "end_line": 24}
    assert r["resources"][2]["labels"] == ["AWS"]
    older = formats.get("trivy").decode((CASES / "trivy-legacy-mix.json").read_bytes(), "src")
    assert all(x["metadata"]["correlation_uid"] is None for x in _rows(older))
