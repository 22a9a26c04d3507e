"""Jenkins Audit Trail log files read columnar (``formats._jenkins_audit``): the cases the
per-line reader had and the columnar one must keep, and the job-name reading of request URIs.

Lines are in the plugin's own layouts (jenkinsci/audit-trail-plugin ``AuditTrailFilter``,
``AuditTrailRunListener``, ``AuthenticationAuditListener``; the real file in
tests/cases/holdout/jenkins-audit-trail-khannashiv.log shows them as written)."""

from __future__ import annotations

import datetime as dt
import json

from secpipe import formats
from secpipe.formats.base import TIME_FROM_RECEIPT


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC).timestamp() * 1000)


def _rows(lines: list[str]) -> list[dict]:
    body = "\n".join(lines).encode()
    d = formats.get("jenkins_log").decode(body, "audit.log")
    assert not d.dead and d.events == len(lines)
    return [r for b in d.batches for r in b.to_pylist()]


def test_job_named_job_and_views() -> None:
    """The step after each ``job`` step is a name, even the name ``job``; ``view/<name>`` pairs and
    prefixes before the first job are skipped; the job ends where the operation begins."""
    lines = [
        "Mar 3, 2025 9:00:00,001 AM /job/job/configSubmit by admin from 10.0.0.1",
        "Mar 3, 2025 9:00:00,002 AM /job/team/job/job/doDelete by admin from 10.0.0.1",
        "Mar 3, 2025 9:00:00,003 AM /view/all/job/api/build by admin from 10.0.0.1",
        "Mar 3, 2025 9:00:00,004 AM /me/my-views/view/all/job/api/job/main/build by admin from 10.0.0.1",
        "Mar 3, 2025 9:00:00,005 AM /job/a%20b/disable by admin from 10.0.0.1",
        "Mar 3, 2025 9:00:00,006 AM job/job/ #3 Started by user admin",
    ]
    by_msg = {r["message"]: r for r in _rows(lines)}
    names = [by_msg[line[27:]]["resources"][0]["name"] for line in lines[:5]]
    assert names == ["job", "team/job", "api", "api/main", "a b"]
    assert [by_msg[line[27:]]["activity_id"] for line in lines[:5]] == [3, 4, 1, 1, 3]
    assert by_msg["job/job/ #3 Started by user admin"]["metadata"]["correlation_uid"] == "job#3"


def test_finalized_results_parameters_and_order() -> None:
    """A result the plugin's table does not name is Other (99); ``Parameters:[]`` is kept as empty
    parameters, no ``Parameters:`` part as none; a class's rows keep the file's order."""
    lines = [
        "Mar 3, 2025 9:00:01,000 AM job/app/ #1 Started by user bob, Parameters:[]",
        "Mar 3, 2025 9:00:02,000 AM Successful login for user 'bob'",
        "Mar 3, 2025 9:00:03,000 AM app #1 Started by user bob, Parameters:[] on node built-in started at "
        "2025-03-03T09:00:01Z completed in 2000ms completed: SUCCESS",
        "Mar 3, 2025 9:00:04,000 AM app #2 Started by timer on built-in started at 2025-03-03T09:00:03Z "
        "completed in 1000ms completed: CANCELLED_BY_POLICY",
        "Mar 3, 2025 9:00:05,000 AM job/app/ #3 Started by upstream project \"lib\" build number 7",
    ]
    rows = _rows(lines)
    jobs = [r for r in rows if r["class_uid"] == 1006]
    assert [r["metadata"]["correlation_uid"] for r in jobs] == ["app#1", "app#1", "app#2", "app#3"]
    assert [(r["activity_id"], r["status_id"], r["status"]) for r in jobs] == [
        (6, None, None), (2, 1, "Success"), (2, 99, "Other"), (6, None, None)]
    assert json.loads(jobs[0]["unmapped"]) == {"causes": "Started by user bob", "parameters": ""}
    assert json.loads(jobs[3]["unmapped"]) == {"causes": 'Started by upstream project "lib" build number 7'}
    assert json.loads(jobs[2]["unmapped"]) == {"causes": "Started by timer", "node": "built-in",
                                              "started_at": "2025-03-03T09:00:03Z"}  # fmt: skip
    assert jobs[1]["job"]["user"]["name"] == "bob" and jobs[2]["job"]["user"] is None
    assert jobs[1]["duration"] == 2000 and jobs[1]["job"]["last_run_time"] == _ms("2025-03-03T09:00:01")
    # the finalized lines' local times agree with their UTC starts: read as UTC
    assert [r["time"] for r in jobs][:2] == [_ms("2025-03-03T09:00:01"), _ms("2025-03-03T09:00:03")]
    (login,) = [r for r in rows if r["class_uid"] == 3002]
    assert login["user"]["name"] == "bob" and login["status_id"] == 1


def test_lines_without_time_go_to_dead_letter_with_offsets() -> None:
    body = b"Mar 3, 2025 9:00:01,000 AM Logout for user 'bob'\nnot a line\r\nMar 3, 2025 9:61:01,000 AM Logout for user 'x'\n"
    d = formats.get("jenkins_log").decode(body, "audit.log")
    assert [(x.raw, x.offset) for x in d.dead] == [(b"not a line", body.index(b"not a"))]
    rows = [r for b in d.batches for r in b.to_pylist()]
    assert len(rows) == 2
    # 9:61 is no clock time: kept, stamped with the receipt time and labelled so
    bad = [r for r in rows if r["message"].endswith("'x'")][0]
    assert bad["metadata"]["labels"] == [TIME_FROM_RECEIPT]
