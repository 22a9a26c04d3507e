"""Real samples secpipe was not developed against, fourth round (``tests/cases/holdout``, see its SOURCE.md).

As in ``test_formats_holdout.py``: each file is ingested by auto-detection and checked against
what the file itself holds and against the format's specification mapped to OCSF 1.8.0. The
expectations were written from the source documents and the schema, not from secpipe's output.

Regressions covered (each was wrong or missing on the real file): CloudTrail records of IAM
Identity Center users (``"arn": ""``, ``"accessKeyId": ""``, the user only in
``onBehalfOf.userId``) got empty strings as the actor's uid, ARN and credential; sign-in service
events that report their outcome in ``serviceEventDetails`` (``{"CredentialVerification":
"Failure"}``, no errorCode) were stored as successes; GitHub ``api.request`` audit events (REST API
calls) lost their HTTP method, path and response code (activity Other, no status), and the
organization/repository ids of audit events were not the resources' uids.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from secpipe import formats
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import CASES, _auto, _rows


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000)


# --------------------------------------------------------------------------------------
# CloudTrail: IAM Identity Center users and sign-in service events
# --------------------------------------------------------------------------------------

IDC = "elastic-cloudtrail-user-authentication.log"


def test_cloudtrail_identity_center_user_authentication() -> None:
    name, d = _auto(IDC)
    assert name == "cloudtrail" and not d.dead and d.events == 1
    [r] = _rows(d)
    # a sign-in step: Authentication, Logon (the user signed in after every challenge)
    assert r["class_uid"] == 3002 and r["metadata"]["event_code"] == "UserAuthentication"
    assert (r["activity_id"], r["activity_name"]) == (1, "Logon")
    assert r["time"] == _ms("2025-09-22T12:29:21+00:00")
    user = r["user"]
    # userIdentity: type IdentityCenterUser, arn "", accessKeyId "", onBehalfOf.userId "redacted"
    assert user["type"] == "IdentityCenterUser"
    assert user["uid"] == "redacted"  # the identity-store user, not the empty principal
    assert user["uid_alt"] is None and user["credential_uid"] is None
    assert user["account"]["uid"] == "redacted"
    # serviceEventDetails {"UserAuthentication": "Success"}, no errorCode
    assert (r["status_id"], r["status"]) == (1, "Success")
    assert r["service"]["name"] == "signin.amazonaws.com"


def _idc_record() -> dict[str, Any]:
    return json.loads((CASES / IDC).read_text())  # type: ignore[no-any-return]


def _sign_in_variants() -> list[dict[str, Any]]:
    """The real record as the other sign-in steps write it (AWS "sign-in events": the step's
    outcome under its own name in serviceEventDetails)."""
    base = _idc_record()
    failed = copy.deepcopy(base)
    failed["eventName"] = "CredentialVerification"
    failed["serviceEventDetails"] = {"CredentialVerification": "Failure"}
    other_key = copy.deepcopy(base)  # a Failure under another name is not this event's outcome
    other_key["serviceEventDetails"] = {"CredentialChallenge": "Failure", "UserAuthentication": "Success"}
    errored = copy.deepcopy(base)
    errored["errorCode"] = "AccessDenied"
    null_details = copy.deepcopy(base)
    null_details["serviceEventDetails"] = None
    return [base, failed, other_key, errored, null_details]


def test_cloudtrail_sign_in_outcome_from_service_event_details() -> None:
    doc = {"Records": _sign_in_variants()}
    d = formats.get("cloudtrail").decode(json.dumps(doc).encode(), "signin")
    assert not d.dead and d.events == 5
    assert [r["status_id"] for r in _rows(d)] == [1, 2, 1, 2, 1]
    assert [r["status_code"] for r in _rows(d)] == [None, None, None, "AccessDenied", None]


def test_cloudtrail_identity_fields_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    same_both_ways("cloudtrail", (CASES / IDC).read_bytes(), monkeypatch, IDC)
    records = _sign_in_variants()
    console = copy.deepcopy(records[0])  # a ConsoleLogin of the same user (Authentication batch)
    console.update(eventName="ConsoleLogin", responseElements={"ConsoleLogin": "Success"})
    blank = copy.deepcopy(records[0])  # every identity string empty
    blank["userIdentity"] = {"type": "Unknown", "principalId": "", "arn": "", "accountId": "", "accessKeyId": ""}
    named = copy.deepcopy(records[0])  # an ordinary IAM user beside them
    named["userIdentity"] = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::1:user/a",
                             "accountId": "1", "accessKeyId": "AKIAEXAMPLE", "userName": "a"}  # fmt: skip
    doc = json.dumps({"Records": [*records, console, blank, named]}).encode()
    d = same_both_ways("cloudtrail", doc, monkeypatch, "identity variants")
    rows = _rows(d)
    assert len(rows) == 8 and not d.dead
    assert {r["class_uid"] for r in rows} == {3002}  # every one a sign-in step: the user is ``user``
    unknown = next(r for r in rows if r["user"]["type"] == "Unknown")
    assert unknown["user"]["uid"] is None and unknown["user"]["account"] is None
    iam = next(r for r in rows if r["user"]["type"] == "IAMUser")
    assert iam["user"]["uid"] == "AIDAEXAMPLE" and iam["user"]["credential_uid"] == "AKIAEXAMPLE"


def _list_objects() -> dict[str, Any]:
    """An S3 ``ListObjects`` data event as CloudTrail writes it: the objects read are named by
    their key prefix (``resources[].ARNPrefix``), the bucket by its ARN."""
    rec = _idc_record()
    rec.update(eventSource="s3.amazonaws.com", eventName="ListObjects", eventType="AwsApiCall",
               eventCategory="Data", serviceEventDetails=None, resources=[
                   {"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::databackup-123456789010/"},
                   {"accountId": "123456789010", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::databackup-123456789010"},
               ])  # fmt: skip
    return rec


def test_cloudtrail_resource_arn_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.dumps({"Records": [_list_objects(), _idc_record()]}).encode()
    d = same_both_ways("cloudtrail", doc, monkeypatch, "ARNPrefix")
    listed, other = _rows(d)
    assert [(x["type"], x["uid"]) for x in listed["resources"]] == [
        ("AWS::S3::Object", "arn:aws:s3:::databackup-123456789010/"),
        ("AWS::S3::Bucket", "arn:aws:s3:::databackup-123456789010"),
    ]
    assert listed["resources"][1]["owner"]["account"]["uid"] == "123456789010"
    assert other["class_uid"] == 3002 and "resources" not in other  # the sign-in step names no resource


# --------------------------------------------------------------------------------------
# GitHub audit log: API request events
# --------------------------------------------------------------------------------------

GH_API = "elastic-github-api-request-events.log"


def test_github_api_request_audit_event() -> None:
    name, d = _auto(GH_API)
    assert name == "github" and not d.dead and d.events == 2
    api, repo = _rows(d)
    assert api["class_uid"] == 6003 and api["api"]["operation"] == "api.request"
    assert api["time"] == 1741611465102  # @timestamp (ms)
    # request_method GET, route /repos/{owner}/{repo}/pulls, status_code 200
    assert api["activity_id"] == 2  # Read
    assert api["http_request"]["http_method"] == "GET"
    assert api["http_request"]["url"]["path"] == "/repos/{owner}/{repo}/pulls"
    assert api["http_response"]["code"] == 200
    assert (api["status_id"], api["status"], api["status_code"]) == (1, "Success", "200")
    assert api["resources"] == [{"type": "organization", "name": "user-delete", "uid": "3333333"}]
    assert api["actor"]["user"] == {**api["actor"]["user"], "name": "user_actor", "uid": "11111"}
    kept = json.loads(api["unmapped"])  # the token's hash and scopes are not placed
    assert kept["hashed_token"] == "E8Fzcgs3TQXqhrKKC/qNR+2XZnaK3ykQBSAt1kPMiJs=" and kept["token_id"] == 555555
    # repo.create: operation_type create; no request fields, so no status is claimed
    assert repo["activity_id"] == 1 and repo["status_id"] is None and repo["http_response"] is None
    assert repo["resources"] == [
        {"type": "repository", "name": "user-delete/private-repo", "uid": "4444444"},
        {"type": "organization", "name": "user-delete", "uid": "3333333"},
    ]


@pytest.mark.parametrize(("fields", "activity", "status", "path"), [
    ({"request_method": "DELETE", "status_code": 404, "url_path": "/repos/o/r"}, 4, 2, "/repos/o/r"),
    ({"request_method": "post", "status_code": 201, "route": "/orgs/{org}/repos"}, 1, 1, "/orgs/{org}/repos"),
    ({"request_method": "PATCH", "status_code": 503}, 3, 2, None),
    ({"request_method": "GET", "status_code": "200"}, 2, None, None),  # not GitHub's type: left unmapped
    ({"request_method": None, "status_code": None}, 99, None, None),
])  # fmt: skip
def test_github_api_request_fields(fields: dict[str, Any], activity: int, status: int | None, path: str | None) -> None:
    rec = json.loads((CASES / GH_API).read_text().splitlines()[0])
    for k in ("request_method", "route", "status_code"):
        rec.pop(k)
    rec.update(fields)
    d = formats.get("github").decode(json.dumps(rec).encode(), "audit")
    [r] = _rows(d)
    assert r["activity_id"] == activity and r.get("status_id") == status
    assert ((r["http_request"] or {}).get("url") or {}).get("path") == path
    if fields.get("status_code") == "200":
        assert json.loads(r["unmapped"])["status_code"] == "200"


# --------------------------------------------------------------------------------------
# Jenkins: job and folder documents of the JSON API
# --------------------------------------------------------------------------------------

CHECKMK = "checkmk-jenkins-jobs-section.json"


def test_jenkins_folder_listing_of_last_builds() -> None:
    """A folder's jobs with their ``lastBuild`` (Checkmk's query): one build event per built job."""
    name, d = _auto(CHECKMK)
    assert name == "jenkins" and not d.dead and d.events == 3  # Job1 was never built ("lastBuild": "null")
    rows = _rows(d)
    assert [r["job"]["name"] for r in rows] == ["project/Job", "project/Job2", "project/Job3"]
    assert [r["metadata"]["correlation_uid"] for r in rows] == ["project/Job#53", "project/Job2#30", "project/Job3#26"]
    assert [r["status_id"] for r in rows] == [1, 1, 2]  # SUCCESS, SUCCESS, FAILURE
    assert [r["duration"] for r in rows] == [507524, 212036, 193715]
    assert rows[0]["time"] == 1637059997346 + 507524  # finished: start + duration
    assert rows[2]["severity_id"] == 4  # FAILURE


def _job_doc(builds: list[dict[str, Any]], key: str = "builds") -> dict[str, Any]:
    return {"_class": "hudson.model.FreeStyleProject", "name": "BuildControl_A", "url": "http://kiki:8080/job/BuildControl_A/",
            key: builds, "nextBuildNumber": 6}  # fmt: skip


def _build(n: int, result: str | None, **more: Any) -> dict[str, Any]:
    return {"_class": "hudson.model.FreeStyleBuild", "number": n, "result": result, "building": result is None,
            "timestamp": 1476800867225 + n, "duration": 5012, **more}  # fmt: skip


@pytest.mark.parametrize("key", ["builds", "allBuilds"])
def test_jenkins_job_document_builds(key: str) -> None:
    """``/job/x/api/json?depth=1`` (builds with url) and ``?tree=builds[number,result,...]`` (no url)."""
    doc = _job_doc([_build(5, "SUCCESS", url="http://kiki:8080/job/BuildControl_A/5/"), _build(4, "FAILURE"),
                    _build(6, None)], key)  # fmt: skip
    d = formats.get("jenkins").decode(json.dumps(doc).encode(), "job")
    assert not d.dead and d.events == 3
    rows = _rows(d)
    assert [r["metadata"]["correlation_uid"] for r in rows] == ["BuildControl_A#5", "BuildControl_A#4", "BuildControl_A#6"]
    assert [r["status_id"] for r in rows] == [1, 2, None] and rows[2]["job"]["run_state_id"] == 3  # building
    assert json.loads(rows[0]["raw_data"])["url"] == "http://kiki:8080/job/BuildControl_A/5/"  # kept as listed


def test_jenkins_job_document_edge_cases() -> None:
    fmt = formats.get("jenkins")
    refs = _job_doc([{"_class": "hudson.model.FreeStyleBuild", "number": 2, "url": "http://kiki:8080/job/BuildControl_A/2/"}])
    d = fmt.decode(json.dumps(refs).encode(), "depth0")  # depth=0: references only
    assert d.events == 1 and not d.batches and "?depth=1" in d.dead[0].reason
    never = fmt.decode(json.dumps(_job_doc([])).encode(), "never")  # never built: nothing happened
    assert (never.events, never.dead, never.batches) == (0, [], [])
    root = {"_class": "hudson.model.Hudson", "jobs": [
        {"_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": "team", "jobs": [_job_doc([_build(1, "ABORTED")])]},
        {"_class": "hudson.model.FreeStyleProject", "name": "solo", "builds": [_build(9, "SUCCESS"), "not a build"]},
    ]}  # fmt: skip
    d = fmt.decode(json.dumps(root).encode(), "root")
    assert d.events == 3 and len(d.dead) == 1  # the string item is no build
    assert [r["job"]["name"] for r in _rows(d)] == ["BuildControl_A", "solo"]  # the job's url names it
    single = _build(3, "SUCCESS", url="http://kiki:8080/job/x/3/")  # a build document as before
    assert _rows(fmt.decode(json.dumps(single).encode(), "one"))[0]["job"]["name"] == "x"


# --------------------------------------------------------------------------------------
# Syslog: a line repeated verbatim is an event each time
# --------------------------------------------------------------------------------------


def _uids(d: Any) -> list[str]:
    return [r["metadata"]["uid"] for r in _rows(d)]


def test_syslog_verbatim_repeats_are_distinct_events() -> None:
    """sshd writes each failed password of one connection alike (same PID, port, second); with
    repeated-message reduction off (rsyslog's default) the lines are byte for byte equal, and
    each is an attempt: none may collapse into another, while a re-read of the log still does."""
    lines = (CASES / "loghub_OpenSSH_head.log").read_bytes().splitlines()
    failed = next(x for x in lines if b"Failed password" in x)
    doc = b"\n".join([lines[0], failed, failed, lines[1], failed]) + b"\n"
    fmt = formats.get("syslog")
    d = fmt.decode(doc, "auth.log")
    assert not d.dead and d.events == 5
    uids = _uids(d)
    assert len(set(uids)) == 5
    assert _uids(fmt.decode(doc, "auth.log")) == uids  # stable: the same log read again collapses
    alone = _uids(fmt.decode(failed + b"\n", "one.log"))
    assert alone[0] in uids  # the first occurrence keeps the line's own identity
    attempts = [r for r in _rows(d) if r["class_uid"] == 3002 and r["message"].startswith("Failed password")]
    assert len(attempts) == 3 and all(r["status_id"] == 2 for r in attempts)


def test_jenkins_blue_ocean_runs() -> None:
    """Blue Ocean REST API runs: ``id`` is the build number, ``state``/``result`` the run state."""
    name, d = _auto("blueocean-run-running.json")
    assert name == "jenkins" and not d.dead and d.events == 1
    [r] = _rows(d)
    # RUNNING, result UNKNOWN: a started build with no outcome yet
    assert (r["activity_id"], r["job"]["run_state_id"], r.get("status_id")) == (6, 3, None)
    assert r["job"]["name"] == "quicker" and r["metadata"]["correlation_uid"] == "quicker#12"
    assert r["time"] == _ms("2016-05-19T22:05:39.303+01:00")  # startTime
    # a page whose runs were trimmed of pipeline and _links: OCSF requires job.name, so each
    # run is dead-lettered with the reason (the same runs with their pipeline are builds)
    name, d = _auto("akeneo-blueocean-runs-page.json")
    assert name == "jenkins" and d.events == 2 and not d.batches
    assert all("Blue Ocean run" in x.reason for x in d.dead) and len(d.dead) == 2
    page = json.loads((CASES / "akeneo-blueocean-runs-page.json").read_text())
    for run in page:
        run["pipeline"] = "master"
    failed, passed = _rows(formats.get("jenkins").decode(json.dumps(page).encode(), "runs"))
    assert [failed["status_id"], passed["status_id"]] == [2, 1] and failed["severity_id"] == 4
    assert failed["duration"] == 13376772
    assert failed["time"] == _ms("2018-03-30T03:40:02.523+00:00") + 13376772  # finished: start + duration
    assert failed["metadata"]["correlation_uid"] == "master#2"


def test_jenkins_blue_ocean_job_from_link() -> None:
    run = json.loads((CASES / "blueocean-run-running.json").read_text())
    run.update(state="FINISHED", result="SUCCESS", durationInMillis=17882,
               _links={"self": {"href": "/blue/rest/organizations/jenkins/pipelines/CloudBeers/pipelines/PR-demo/branches/quicker/runs/12/"}},
               causes=[{"_class": "hudson.model.Cause$UserIdCause", "shortDescription": "Started by user admin", "userId": "admin"}])  # fmt: skip
    [r] = _rows(formats.get("jenkins").decode(json.dumps(run).encode(), "run"))
    assert r["job"]["name"] == "CloudBeers/PR-demo/quicker" and r["job"]["user"]["name"] == "admin"
    assert (r["status_id"], r["activity_id"], r["job"]["run_state_id"]) == (1, 2, 4)
    run.update(startTime="not a time", id="x12")
    d = formats.get("jenkins").decode(json.dumps(run).encode(), "bad")
    assert not d.batches and "Blue Ocean" in d.dead[0].reason  # no build number: not a build


@pytest.mark.parametrize(("line", "status", "target", "actor", "tty"), [
    # util-linux su (su-common.c): success and failure
    ("Oct 23 11:05:25 ghost-root su[2048]: (to root) ghost on pts/0", 1, "root", "ghost", "pts/0"),
    ("Oct 20 16:05:40 host su[49237]: FAILED SU (to root) kiosk on pts/1", 2, "root", "kiosk", "pts/1"),
    # shadow-utils su (su.c): success, failure, and its sulog line
    ("Mar  1 10:00:13 h su[124]: Successful su for root by alice", 1, "root", "alice", None),
    ("Mar  1 10:00:02 h su[123]: FAILED su for root by user1", 2, "root", "user1", None),
    ("Mar  1 10:00:14 h su[125]: + /dev/pts/1 alice:root", 1, "root", "alice", "/dev/pts/1"),
])  # fmt: skip
def test_syslog_su_outcome_lines(line: str, status: int, target: str, actor: str, tty: str | None) -> None:
    """su's own lines are an account switch (Authentication, activity Account Switch): the user
    switched to, who switched, and whether it worked."""
    d = formats.get("syslog").decode(line.encode() + b"\n", "auth.log")
    [r] = _rows(d)
    assert (r["class_uid"], r["activity_id"], r["status_id"]) == (3002, 7, status)
    assert r["user"]["name"] == target and r["actor"]["user"]["name"] == actor
    assert json.loads(r["unmapped"] or "{}").get("tty") == tty
    assert r["account_switch_type"] == "Substitute User"
