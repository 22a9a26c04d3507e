"""CI/CD formats, holdout round 30: variants real deployments emit that round 29 mapped badly.

- github_actions: a page of runs or jobs holding one lone surrogate escape (legal JSON, RFC 8259
  §8.2: what JavaScript's JSON.stringify writes for a title cut inside an emoji) was dead-lettered
  whole by the split; it is now read with U+FFFD in its place, as every JSON document is
  (``base.lone_surrogates_mended``): every run is stored. Pages: the real answers of
  ``tests/cases/github_actions28`` (see its SOURCES.md).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe import formats
from secpipe.formats import _fast

CASES = Path(__file__).resolve().parents[1] / "cases"


def _rows(out: Any) -> list[dict[str, Any]]:
    return [r for b in out.batches for r in pa.Table.from_batches([b]).to_pylist()]


def _page(case: str, key: str, n: int) -> dict[str, Any]:
    """A real page with ``n`` items (the first repeated, each its own id)."""
    doc = json.loads((CASES / "github_actions28" / case).read_bytes())
    first = doc[key][0]
    doc[key] = [dict(copy.deepcopy(first), id=first["id"] + i) for i in range(n)]
    return doc  # type: ignore[no-any-return]


def _with_surrogate(doc: dict[str, Any], key: str, at: int, indent: int | None) -> bytes:
    """``doc`` as JSON, its item ``at``'s name ending in a lone high surrogate escape."""
    doc = copy.deepcopy(doc)
    doc[key][at]["name"] += "@@CUT@@"
    text = json.dumps(doc, indent=indent, separators=None if indent else (",", ":"))
    return text.replace("@@CUT@@", "\\ud83d").encode()


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize(("case", "key"), [("runs-psf-requests.json", "workflow_runs"), ("jobs-luoda.json", "jobs")])
@pytest.mark.parametrize("indent", [2, None])
def test_github_actions_lone_surrogate_is_read_as_the_replacement_character(
    case: str, key: str, indent: int | None, native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if native and not _fast.available():
        pytest.skip("the native extension is not built")
    if not native:
        monkeypatch.setattr(_fast, "_module", lambda: None)
    fmt = formats.get("github_actions")
    doc = _page(case, key, 4)
    out = fmt.decode(_with_surrogate(doc, key, 1, indent), "page.json")
    assert out.events == 4 and not out.dead
    want = fmt.decode(_with_surrogate(doc, key, 1, indent).replace(b"\\ud83d", b"\\ufffd"), "page.json")
    assert _rows(out) == _rows(want) and len(_rows(out)) == 4  # every run, the escape read as U+FFFD


def test_github_actions_lone_surrogate_in_paginated_pages() -> None:
    """``gh api --paginate``: pages one a line or pretty back to back; every item of every page kept."""
    fmt = formats.get("github_actions")
    doc = _page("runs-psf-requests.json", "workflow_runs", 3)
    for indent, sep in ((None, b"\n"), (None, b""), (2, b"\n")):
        good = json.dumps(doc, indent=indent, separators=None if indent else (",", ":")).encode()
        out = fmt.decode(good + sep + _with_surrogate(doc, "workflow_runs", 2, indent) + sep, "pages.json")
        assert out.events == 6 and not out.dead
        assert sum(b.num_rows for b in out.batches) == 6


def test_github_actions_paired_surrogates_and_other_damage_unchanged() -> None:
    """An emoji written as a surrogate pair is text (mapped); a page damaged otherwise is still one dead letter."""
    fmt = formats.get("github_actions")
    doc = _page("runs-psf-requests.json", "workflow_runs", 2)
    paired = _with_surrogate(doc, "workflow_runs", 0, 2).replace(b"\\ud83d", b"\\ud83d\\ude80")
    out = fmt.decode(paired, "page.json")
    assert not out.dead and _rows(out)[0]["job"]["name"].endswith("\U0001f680")
    broken = _with_surrogate(doc, "workflow_runs", 0, 2).replace(b'"run_number": 8000', b'"run_number": 80 00', 1)
    out = fmt.decode(broken, "page.json")
    assert len(out.dead) == 1 and not out.batches


#: what the Audit Trail plugin's Elasticsearch logger posts (jenkinsci/audit-trail-plugin,
#: ElasticSearchAuditLogger.ElasticSearchSender.getHttpPost: ``{"message": <the message a log file
#: line holds after its time>, "@timestamp": FastDateFormat("yyyy-MM-dd'T'HH:mm:ssZ")}``), the
#: messages those of the real log file tests/cases/holdout/jenkins-audit-trail-khannashiv.log
ES_DOCS = [
    {"message": "/job/monitor-jenkins-grafana-prometheus/configSubmit by user2 from [0:0:0:0:0:0:0:1]",
     "@timestamp": "2026-01-08T00:28:02+0530"},
    {"message": "/job/monitor-jenkins-grafana-prometheus/configSubmit by user2 from [0:0:0:0:0:0:0:1]",
     "@timestamp": "2026-01-08T00:28:02+0530"},
    {"message": "job/monitor-jenkins-grafana-prometheus/ #49 Started by user user2, Parameters:[]",
     "@timestamp": "2026-01-08T00:28:04+0530"},
    {"message": "monitor-jenkins-grafana-prometheus #49 Started by user user2, Parameters:[] on Built-In Node;"
                "Slave-Agent-Node-1 started at 2026-01-07T18:58:04Z completed in 160980ms completed: SUCCESS",
     "@timestamp": "2026-01-08T00:30:45+0530"},
    {"message": "Failed login attempt for user 'user2'", "@timestamp": "2026-01-08T00:31:00+0530"},
    {"message": "user2 used credentials of 'deploy-key' in 'monitor-jenkins-grafana-prometheus'",
     "@timestamp": "2026-01-08T00:31:02+0530"},
]  # fmt: skip


def test_jenkins_audit_trail_elasticsearch_documents() -> None:
    """The plugin's Elasticsearch documents, one a line (as an ES export or a shipper writes them),
    map as the log file's lines do, at their ``@timestamp``; --format auto finds them."""
    body = "\n".join(json.dumps(d, separators=(",", ":")) for d in ES_DOCS).encode()
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "jenkins"
    out = fmt.decode(body, "es.json")
    assert not out.dead and out.events == 6
    rows = _rows(out)
    assert len({r["metadata"]["uid"] for r in rows}) == 6  # the two identical configSubmit documents: two events
    at = {r["message"]: r for r in rows}
    req = at[ES_DOCS[0]["message"]]
    assert (req["class_uid"], req["api"]["operation"], req["actor"]["user"]["name"], req["src_endpoint"]["ip"]) == (
        6003, "configSubmit", "user2", "0:0:0:0:0:0:0:1")
    assert req["resources"][0]["name"] == "monitor-jenkins-grafana-prometheus"
    assert req["time"] == 1767812282000  # 2026-01-08T00:28:02+05:30
    end = at[ES_DOCS[3]["message"]]
    assert (end["class_uid"], end["status_id"], end["duration"], end["metadata"]["correlation_uid"]) == (
        1006, 1, 160980, "monitor-jenkins-grafana-prometheus#49")
    assert at[ES_DOCS[2]["message"]]["activity_id"] == 6
    login = at[ES_DOCS[4]["message"]]
    assert (login["class_uid"], login["status_id"], login["user"]["name"]) == (3002, 2, "user2")
    assert at[ES_DOCS[5]["message"]]["class_uid"] == 0  # another message: a Base Event with it
    assert json.loads(req["raw_data"]) == ES_DOCS[0]


def test_jenkins_generic_message_documents_not_claimed() -> None:
    """A log document whose message is no Audit Trail message is not Jenkins' (the json catch-all's)."""
    doc = b'{"message":"GET /health 200 by curl","@timestamp":"2026-01-08T00:28:02+0530"}'
    assert formats.get("jenkins").sniff(doc) == 0
    fmt = formats.detect(doc)
    assert fmt is None or fmt.name != "jenkins"


def _job_log_rows(data: bytes, source: str) -> list[dict[str, Any]]:
    out = formats.get("github_actions_log").decode(data, source)
    assert not out.dead
    rows = _rows(out)
    assert out.events == len(rows)
    return rows


def test_github_actions_job_log_real() -> None:
    """A real job log (tests/cases/github_actions_log30, see SOURCES.md): --format auto finds it,
    one event a line at the runner's time, the job from the archive's file name, each line's step
    (the last ``Run ...`` group, ``Post job cleanup``) and open group."""
    data = (CASES / "github_actions_log30" / "0_build.txt").read_bytes()
    fmt = formats.detect(data)
    assert fmt is not None and fmt.name == "github_actions_log"
    rows = _job_log_rows(data, "logs_123/0_build.txt")
    assert len(rows) == len([ln for ln in data.splitlines() if ln.strip()])
    assert {r["job"]["name"] for r in rows} == {"build"} and {r["class_uid"] for r in rows} == {1006}
    first = rows[0]
    assert (first["time"], first["message"]) == (1655717277871, "Requested labels: ubuntu-latest")
    by = {r["message"]: json.loads(r["unmapped"]) for r in rows}
    assert by["Ubuntu"] == {"line": 8, "step": None, "group": "Operating System", "command": None}
    assert by["  repository: AndreiBakaushyn/Demo_repository"]["step"] == "Run actions/checkout@v2"
    assert by["git version 2.36.1"]["step"] == "Post job cleanup"  # the last line of that text wins in `by`
    assert by["Syncing repository: AndreiBakaushyn/Demo_repository"] == {
        "line": 27, "step": "Run actions/checkout@v2", "group": None, "command": None}
    assert by["##[endgroup]"]["command"] == "endgroup"
    assert rows[-1]["raw_data"] == "2022-06-20T09:28:13.3513764Z Cleaning up orphan processes"
    assert {r["severity_id"] for r in rows} == {1} and not any(r["status_id"] for r in rows)


def test_github_actions_job_log_levels_and_api_source() -> None:
    """``##[error]`` / ``##[warning]`` / ``##[notice]`` lines (the runner's rendering of workflow
    commands, GitHub docs "Workflow commands for GitHub Actions"); the runner's failed step line
    ``Process completed with exit code <n>.`` is status Failure; the API's URL gives the job id;
    the ``Complete job name:`` line the job's name; ANSI colours leave the message."""
    log = (
        b"2026-07-14T10:33:26.1000000Z Complete job name: Lint\n"
        b"2026-07-14T10:33:26.1000000Z ##[group]Run golangci/golangci-lint-action@v6\n"
        b"2026-07-14T10:33:26.2000000Z ##[endgroup]\n"
        b"2026-07-14T10:34:38.3855791Z ##[error]internal/shopify/browser/totp.go:59:1: File is not properly formatted (golines)\n"
        b"2026-07-14T10:34:38.3860000Z ##[warning]Node.js 16 actions are deprecated.\n"
        b"2026-07-14T10:34:38.3870000Z ##[notice]\x1b[36;1mcache hit\x1b[0m\n"
        b"2026-07-14T10:34:38.3892817Z ##[error]Process completed with exit code 1.\n"
        b"2026-07-14T10:34:39.1468558Z Cleaning up orphan processes\n"
    )
    rows = _job_log_rows(log, "https://api.github.com/repos/o/r/actions/jobs/87061580817/logs")
    assert [r["severity_id"] for r in rows] == [1, 1, 1, 4, 3, 2, 4, 1]
    assert [r["status_id"] for r in rows] == [None] * 6 + [2, None]
    assert rows[6]["status_detail"] == "Process completed with exit code 1."
    assert rows[5]["message"] == "cache hit"
    assert {r["job"]["name"] for r in rows} == {"Lint"}
    assert {r["metadata"]["correlation_uid"] for r in rows} == {"87061580817"}
    assert json.loads(rows[3]["unmapped"])["step"] == "Run golangci/golangci-lint-action@v6"


def test_github_actions_job_log_sniff_leaves_other_text() -> None:
    """Lines with an ISO time but none the runner writes (a container's ``docker logs -t``) are not a job log."""
    docker = b"2024-01-01T00:00:00.000000000Z starting server\n2024-01-01T00:00:01.000000000Z listening on :8080\n"
    assert formats.get("github_actions_log").sniff(docker) == 0
    jenkins = b"Started by user admin\nRunning as SYSTEM\n[Pipeline] Start of Pipeline\nFinished: SUCCESS\n"
    assert formats.detect(jenkins) is formats.get("jenkins_log")


#: the gh CLI's JSON of runs and jobs (cli/cli pkg/cmd/run/shared: ``RunFields``; ``gh run view
#: --json jobs``: databaseId, name, status, conclusion, url, startedAt, completedAt, steps), the run
#: the real page tests/cases/github_actions28/runs-psf-requests.json holds, written as gh writes it
GH_RUN = {
    "attempt": 1, "conclusion": "success", "createdAt": "2026-10-05T00:08:34Z", "databaseId": 37246313776,
    "displayTitle": "Lock Threads", "event": "schedule", "headBranch": "main",
    "headSha": "611c6162cbc4ac2020a2f91c7cfa4f3abf9bbb60", "name": "Lock Threads", "number": 8000,
    "startedAt": "2026-10-05T00:08:34Z", "status": "completed", "updatedAt": "2026-10-05T00:08:44Z",
    "url": "https://github.com/psf/requests/actions/runs/37246313776", "workflowDatabaseId": 12530612,
    "workflowName": "Lock Threads",
}  # fmt: skip
GH_JOB = {
    "completedAt": "2026-10-05T00:08:43Z", "conclusion": "failure", "databaseId": 105498765432, "name": "lock",
    "startedAt": "2026-10-05T00:08:38Z", "status": "completed",
    "steps": [{"conclusion": "success", "name": "Set up job", "number": 1, "status": "completed"},
              {"conclusion": "failure", "name": "Run dessant/lock-threads@v5", "number": 2, "status": "completed"}],
    "url": "https://github.com/psf/requests/actions/runs/37246313776/job/105498765432",
}  # fmt: skip


def test_github_actions_gh_cli_runs_map_as_the_rest_run() -> None:
    """``gh run list --json <RunFields>`` (an array): found by --format auto, the run's row the
    REST API's run gives (name, title, state, status, times, ids), the rest of gh's keys unmapped."""
    body = json.dumps([GH_RUN]).encode()
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "github_actions"
    out = fmt.decode(body, "runs.json")
    assert not out.dead
    (row,) = _rows(out)
    rest = _rows(fmt.decode((CASES / "github_actions28" / "runs-psf-requests.json").read_bytes(), "page.json"))[0]
    for key in ("class_uid", "activity_id", "time", "status_id", "status_detail"):
        assert row[key] == rest[key], key
    assert {k: row["job"][k] for k in ("name", "desc", "created_time", "last_run_time", "run_state_id")} == {
        k: rest["job"][k] for k in ("name", "desc", "created_time", "last_run_time", "run_state_id")}
    assert (row["metadata"]["original_event_uid"], row["metadata"]["correlation_uid"]) == ("37246313776", "37246313776")
    assert json.loads(row["unmapped"])["headSha"] == GH_RUN["headSha"]


def test_github_actions_gh_cli_jobs() -> None:
    """``gh run view <id> --json jobs``: each job of ``{"jobs": [...]}`` is the run's job (its run id from its url)."""
    body = json.dumps({"jobs": [GH_JOB]}, indent=2).encode()
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "github_actions"
    out = fmt.decode(body, "jobs.json")
    assert not out.dead
    (row,) = _rows(out)
    assert (row["metadata"]["event_code"], row["metadata"]["correlation_uid"], row["metadata"]["original_event_uid"]) == (
        "workflow_job", "37246313776", "105498765432")
    assert (row["job"]["name"], row["status_id"], row["start_time"], row["end_time"]) == (
        "lock", 2, 1791158918000, 1791158923000)
    bad = dict(GH_JOB, url="https://github.com/psf/requests/pull/1")  # a job naming no run: not one
    out = fmt.decode(json.dumps({"jobs": [bad]}).encode(), "jobs.json")
    assert len(out.dead) == 1 and not out.batches


def test_github_actions_job_log_gh_run_view() -> None:
    """``gh run view --log``: each line behind its job's and step's names (tab-separated; gh's
    ``UNKNOWN STEP`` for a line it places in no step); a run's jobs one after the other, a job's
    groups and steps not carried into the next. Lines of tests/cases/github_actions_log30 so printed."""
    real = (CASES / "github_actions_log30" / "0_build.txt").read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines()
    body = b"\n".join(
        [b"build\tSet up job\t" + ln for ln in real[:3]]
        + [b"build\tRun actions/checkout@v2\t" + ln for ln in real[20:23]]
        + [b"lint\tUNKNOWN STEP\t2022-06-20T09:29:13.1296509Z ##[error]Process completed with exit code 2."]
    )
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "github_actions_log"
    rows = _job_log_rows(body, "run.log")
    assert [r["job"]["name"] for r in rows] == ["build"] * 6 + ["lint"]
    units = [json.loads(r["unmapped"]) for r in rows]
    assert [u["step"] for u in units] == ["Set up job"] * 3 + ["Run actions/checkout@v2"] * 3 + [None]
    assert units[4]["group"] == "Run actions/checkout@v2" and units[6]["group"] is None
    assert rows[0]["message"] == "Requested labels: ubuntu-latest" and rows[0]["time"] == 1655717277871
    assert rows[6]["status_id"] == 2


#: GitLab sign-in audit events as the API and streaming send them: a failed login as GitLab's
#: UnauthenticatedSecurityEventAuditor records it (gitlab-org/gitlab!129595: details failed_login
#: STANDARD, author_name/target_details the address tried, author_id -1, instance scope), with the
#: streaming-only fields of docs.gitlab.com/user/compliance/audit_event_schema; a sign-in as
#: AuditEventService#for_authentication records it (details ``with`` the method, target the user)
GL_FAILED = {
    "id": 731, "author_id": -1, "entity_id": 1, "entity_type": "Gitlab::Audit::InstanceScope",
    "details": {"failed_login": "STANDARD", "author_name": "victim@bar.com", "target_details": "victim@bar.com",
                "custom_message": "STANDARD login failed", "ip_address": "127.0.0.1", "entity_path": "gitlab_instance"},
    "ip_address": "127.0.0.1", "author_name": "victim@bar.com", "entity_path": "gitlab_instance",
    "target_details": "victim@bar.com", "created_at": "2023-08-17T11:37:03.246Z", "target_type": None, "target_id": None,
    "event_type": "login_failed_with_standard_authentication",
}  # fmt: skip
GL_SIGNIN = {
    "id": 1, "author_id": 1, "entity_id": 1, "entity_type": "User",
    "details": {"with": "two-factor", "author_name": "Administrator", "target_id": 1, "target_type": "User",
                "target_details": "Administrator", "ip_address": "127.0.0.1", "entity_path": "Administrator"},
    "created_at": "2019-08-30T07:00:41.885Z",
}  # fmt: skip


def test_gitlab_sign_in_audit_events_are_authentication() -> None:
    """A failed login's audit event is Authentication Logon Failure (the name tried, the address,
    the method), a sign-in's Success with MFA for two-factor; they were API Activity without status."""
    body = b"\n".join(json.dumps(d).encode() for d in (GL_FAILED, GL_SIGNIN, _GL_CHANGE))
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "gitlab"
    out = fmt.decode(body, "audit.json")
    assert not out.dead
    rows = _rows(out)
    auth = [r for r in rows if r["class_uid"] == 3002]
    assert [(r["activity_id"], r["status_id"], r["user"]["name"], r["src_endpoint"]["ip"], r["auth_protocol"])
            for r in auth] == [(1, 2, "victim@bar.com", "127.0.0.1", "STANDARD"), (1, 1, "Administrator", "127.0.0.1", "two-factor")]  # fmt: skip
    assert auth[0]["status_detail"] == "STANDARD login failed" and auth[0]["user"].get("uid") is None
    assert (auth[1]["is_mfa"], auth[1]["user"]["uid"]) == (True, "1")
    assert auth[0]["metadata"]["event_code"] == "login_failed_with_standard_authentication"
    assert [r["class_uid"] for r in rows if r["class_uid"] != 3002] == [6003]  # a change stays API Activity


#: GitLab's audit events API documentation's example of a project setting change
_GL_CHANGE = {
    "id": 2, "author_id": 1, "entity_id": 7, "entity_type": "Project",
    "details": {"change": "prevent merge request approval from reviewers", "from": "", "to": "true",
                "author_name": "Administrator", "target_id": 7, "target_type": "Project",
                "target_details": "twitter/typeahead-js", "ip_address": "127.0.0.1", "entity_path": "twitter/typeahead-js"},
    "created_at": "2020-05-26T22:55:04.230Z",
}  # fmt: skip


def test_github_actions_lone_surrogate_and_bytes_not_utf8_in_one_page() -> None:
    """A page holding a lone surrogate escape in one job and bytes that are no UTF-8 in another (the
    mutation fuzzer's json-many, seed 221, on jobs-luoda.json): the page read with U+FFFD in place of
    the escape, the job that is not UTF-8 dead-lettered with the reason, the others mapped (an Arrow
    error stopped the decode)."""
    fmt = formats.get("github_actions")
    doc = _page("jobs-luoda.json", "jobs", 3)
    sha = doc["jobs"][2]["head_sha"].encode()
    head, _, tail = _with_surrogate(doc, "jobs", 0, None).rpartition(sha)  # the last job's (all share one sha)
    body = head + sha[:8] + b"\xed\xa0\x80" + tail
    out = fmt.decode(body, "page.json")
    assert [d.reason.split(" at ")[0] for d in out.dead] == ["not valid UTF-8"]
    assert sum(b.num_rows for b in out.batches) == 2
