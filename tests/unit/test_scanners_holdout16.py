"""Scanner formats against shapes found in other files and versions of the holdout's public
repositories (session 16).

Each case is built from a committed real sample (``tests/cases/``) reshaped as the producer's
documentation or source says it writes it; the expected values come from that documentation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.formats.base import Decoded, decode_document

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
