"""Scanner formats against shapes found in other files and versions of the holdout's public
repositories (session 16).

Each case is built from a committed real sample (``tests/cases/``) reshaped as the producer's
documentation or source says it writes it; the expected values come from that documentation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded, decode_document
from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _sonar_page() -> dict[str, Any]:
    # SonarSource's /api/issues/search example (tests/cases/holdout/SOURCE.md)
    return json.loads((CASES / "holdout" / "sonarqube-issues-search-example.json").read_bytes())


def _changed_issue(issue: dict[str, Any], page: dict[str, Any]) -> bytes:
    """The answer of SonarQube's issue-changing endpoints (api/issues/do_transition, assign,
    add_comment, set_severity, set_tags, set_type: "the issue, its components, rules and users"):
    the changed ``issue`` (one object) beside the page's ``components``, ``rules`` and ``users``,
    pretty-printed as the Web API's examples are."""
    doc = {"issue": issue, "components": page["components"], "rules": page.get("rules", []), "users": page.get("users", [])}
    return json.dumps(doc, indent=2).encode()


def test_sonarqube_issue_change_answer_is_that_issue() -> None:
    page = _sonar_page()
    body = _changed_issue(page["issues"][0], page)
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "sonarqube"  # was None: not recognized, dead-lettered
    d = decode_document(fmt, body, "t")
    assert not d.dead and d.events == 1
    (r,) = _rows(d)
    (want,) = _rows(decode_document(fmt, json.dumps(page).encode(), "t"))
    # the same issue as the search page reads it: file, lines, severity, status, times, raw_data, uid
    assert r == want
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert code["file"]["path"] == "com.github.kevinsawicki.http.HttpRequest" and code["start_line"] == 2
    assert (r["finding_info"]["uid"], r["severity_id"], r["status_id"]) == ("01fc972e-2a3c-433e-bcae-0bd7f88f5123", 4, 3)


def test_sonarqube_do_transition_answer_takes_the_new_status() -> None:
    # do_transition "confirm" (SonarQube < 10.4): the answer's issue is CONFIRMED, unresolved
    page = _sonar_page()
    issue = {k: v for k, v in page["issues"][0].items() if k not in ("resolution", "simpleStatus")}
    issue.update(status="CONFIRMED", updateDate="2017-01-09T13:51:12+0100", transitions=["unconfirm", "resolve"])
    d = decode_document(formats.get("sonarqube"), _changed_issue(issue, page), "t")
    (r,) = _rows(d)
    assert (r["status_id"], r["status"], r["status_detail"]) == (2, "In Progress", "CONFIRMED")
    assert r["time"] == 1483966272000  # updateDate 2017-01-09T13:51:12+0100


def test_sonarqube_answer_with_a_null_issue_is_dead_lettered() -> None:
    d = decode_document(formats.get("sonarqube"), json.dumps({"issue": None, "components": []}).encode(), "t")
    assert not d.batches and len(d.dead) == 1


# --------------------------------------------------------------------------------------
# SARIF regions: the defaults of a line/column region
# --------------------------------------------------------------------------------------


def _region_rows(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    d = same_both_ways("sarif", json.dumps(doc).encode(), monkeypatch, "regions")
    out = []
    for r in _rows(d):
        code = (r["vulnerabilities"][0]["affected_code"] or [{}])[0]
        out.append(tuple(code.get(k) for k in ("start_line", "end_line", "start_column", "end_column")))
    return out


def test_sarif_region_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # SARIF 2.1.0 §3.30.5-§3.30.8: in a region given by line/column, an absent startColumn is 1 and
    # an absent endLine is startLine; an absent endColumn (one past the line's last character) is
    # unknown without the file. sarif-sdk's MSBuild converter output has five region shapes.
    doc = json.loads((CASES / "holdout" / "SomeErrors.txt.sarif").read_bytes())
    results = doc["runs"][0]["results"]
    regions = [res["locations"][0]["physicalLocation"]["region"] for res in results if res.get("locations")]
    want = [(g["startLine"], g.get("endLine", g["startLine"]), g.get("startColumn", 1), g.get("endColumn"))
            for g in regions]  # fmt: skip
    assert len({tuple(sorted(g)) for g in regions}) == 5  # startLine alone, with endLine, with columns ...
    assert "locations" not in results[-1]  # (its last result has no location: no line either)
    # endLine and startColumn were null when absent
    assert _region_rows(doc, monkeypatch) == [*want, (None, None, None, None)]


def test_sarif_region_without_lines_has_no_line_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # a region given by offsets only (§3.30.9-§3.30.10), or none at all, names no line or column
    doc = json.loads((CASES / "holdout" / "SomeErrors.txt.sarif").read_bytes())
    res = doc["runs"][0]["results"]
    res[0]["locations"][0]["physicalLocation"]["region"] = {"charOffset": 17, "charLength": 3}
    res[1]["locations"][0]["physicalLocation"]["region"] = {"byteOffset": 40}
    del res[2]["locations"][0]["physicalLocation"]["region"]
    assert _region_rows(doc, monkeypatch)[:3] == [(None, None, None, None)] * 3


# --------------------------------------------------------------------------------------
# SARIF message strings: the lookup of §3.11.7 and the placeholders of §3.11.5
# --------------------------------------------------------------------------------------


def _messages(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    d = same_both_ways("sarif", json.dumps(doc).encode(), monkeypatch, "messages")
    return [r["message"] for r in _rows(d)]


def test_sarif_message_from_global_message_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A message given by `id` is looked up in its rule's messageStrings, then in the tool
    # component's globalMessageStrings (§3.11.7, §3.19.22); with arguments, {n} is filled and
    # {{ }} are the escaped braces (§3.11.5). sarif-sdk's MSBuild log, its messages made ids.
    doc = json.loads((CASES / "holdout" / "SomeErrors.txt.sarif").read_bytes())
    driver, results = doc["runs"][0]["tool"]["driver"], doc["runs"][0]["results"]
    driver["globalMessageStrings"] = {
        "note": {"text": "This is a {0}."},
        "file": {"markdown": "cannot open file '{0}' {{link}}", "text": "cannot open file '{0}' {{link}}"},
    }
    results[2]["message"] = {"id": "note", "arguments": ["note"]}
    results[6]["message"] = {"id": "file", "arguments": ["somelib.lib"]}
    results[3]["message"] = {"id": "absent"}  # found nowhere: no message
    results[4]["message"] = {"text": "{{not a placeholder}}"}  # no arguments: the text as given
    got = _messages(doc, monkeypatch)
    assert got[2] == "This is a note."  # was None: only rules' messageStrings were read
    assert got[6] == "cannot open file 'somelib.lib' {link}"
    assert (got[3], got[4]) == (None, "{{not a placeholder}}")


def test_sarif_global_message_strings_of_the_wrong_shape_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((CASES / "holdout" / "SomeErrors.txt.sarif").read_bytes())
    doc["runs"][0]["results"][2]["message"] = {"id": "note"}
    for bad in (["note"], {"note": "This is a note."}, {"note": {"text": 7}}):
        doc["runs"][0]["tool"]["driver"]["globalMessageStrings"] = bad
        got = _messages(doc, monkeypatch)  # the log is read, not refused
        assert len(got) == 7 and got[2] is None


def test_sarif_hierarchical_rule_id_names_its_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # §3.27.5: ruleId is a hierarchical string whose leading components are the rule's id
    # ("CA5350/md5" violates CA5350); CodeQL's rule ids hold "/" themselves. CodeQL's vulpy log
    # (its ruleIndex values point past the abridged rules list, so the id decides).
    doc = json.loads((CASES / "holdout" / "codeql-output-vulpy.sarif").read_bytes())
    results = doc["runs"][0]["results"]
    results[2]["ruleId"] = "py/unused-local-variable/tuple-unpacking"
    d = same_both_ways("sarif", json.dumps(doc).encode(), monkeypatch, "hierarchical ruleId")
    rows = _rows(d)
    got, plain = rows[2], rows[3]  # the same rule, with and without a sub-component
    assert got["finding_info"]["title"] == plain["finding_info"]["title"] == "Unused local variable"
    assert got["severity_id"] == plain["severity_id"] == 2  # the rule's default level note: Low
    assert got["finding_info"]["analytic"]["uid"] == "py/unused-local-variable/tuple-unpacking"  # as reported


# --------------------------------------------------------------------------------------
# Snyk compliance checks: severity as OCSF states it
# --------------------------------------------------------------------------------------

_SNYK_SEV = {"low": 2, "medium": 3, "high": 4, "critical": 5}


def _checks(doc: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    d = same_both_ways("snyk", json.dumps(doc).encode(), monkeypatch, "snyk checks")
    return [(r["severity_id"], r["compliance"]["checks"][0]["severity"], r["compliance"]["checks"][0]["severity_id"])
            for r in _rows(d) if r["class_uid"] == 2003]  # fmt: skip


def test_snyk_iac_check_severity_is_the_caption_of_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    # OCSF 1.8.0 check object: severity is "normalized to the caption of the severity_id value",
    # as Trivy's checks are; it was Snyk's lower-case word, with no severity_id
    doc = json.loads((CASES / "holdout" / "iac-test-report.json").read_bytes())
    words = [i["severity"] for p in doc for i in p.get("infrastructureAsCodeIssues") or []]
    assert sorted(words) == ["high", "low", "medium"]
    want = sorted((_SNYK_SEV[w], w.capitalize(), _SNYK_SEV[w]) for w in words)
    assert sorted(_checks(doc, monkeypatch)) == want


def test_snyk_license_check_severity_is_the_caption_of_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    # a license policy issue as `snyk test --json` lists it among the vulnerabilities (type license)
    doc = json.loads((CASES / "holdout" / "test-sca-with-exploit-details.json").read_bytes())
    doc["vulnerabilities"].append({
        "id": "snyk:lic:npm:adm-zip:GPL-2.0", "type": "license", "license": "GPL-2.0", "title": "GPL-2.0 license",
        "severity": "critical", "packageManager": "npm", "language": "js", "packageName": "adm-zip",
        "semver": {"vulnerable": ["*"]}, "from": ["goof@1.0.1", "adm-zip@0.4.7"], "upgradePath": [],
        "version": "0.4.7", "name": "adm-zip", "isUpgradable": False, "isPatchable": False,
    })  # fmt: skip
    assert _checks(doc, monkeypatch) == [(5, "Critical", 5)]


# --------------------------------------------------------------------------------------
# Trivy licenses: a license the policy passes is no open finding
# --------------------------------------------------------------------------------------


def test_trivy_passing_license_is_resolved_like_a_passing_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # A misconfiguration whose Status is PASS is finding status Resolved (4); a license whose
    # category the policy passes (notice, permissive, unencumbered: compliance Pass) was New (1),
    # an open finding for every permissive license of a scan. devtron's `trivy fs --scanners license`.
    doc = json.loads((CASES / "holdout" / "trivy-fs-licenses-devtron.json").read_bytes())
    lics = doc["Results"][-1]["Licenses"]
    assert [x["Category"] for x in lics] == ["notice"] * 3
    lics[1]["Category"], lics[2]["Category"] = "forbidden", "reciprocal"
    d = same_both_ways("trivy", json.dumps(doc).encode(), monkeypatch, "trivy licenses")
    got = {(r["compliance"]["status"], r["status_id"], r["status"]) for r in _rows(d) if r["finding_info"]["types"] == ["License"]}
    assert got == {("Pass", 4, "Resolved"), ("Fail", 1, "New"), ("reciprocal", 1, "New")}
