"""Jenkins Pipeline Stage View REST API runs (``wfapi``), session 28.

``/job/<job>/<n>/wfapi/describe`` and ``/job/<job>/wfapi/runs`` are what the Stage View, dashboards
and CI exporters poll for Pipeline builds; they were dead-lettered ('no format matched', and as no
Jenkins build with ``--format jenkins``). Payloads: the plugin's own documentation
(jenkinsci/pipeline-stage-view-plugin ``rest-api/README.md``: the ``wfapi/runs`` sample, old
timestamp ids, and the failed-stage node sample), a ci.jenkins.io run kept in
janfaracik/pipeline-stage-view-plugin ``ui/src/main/frontend/components/Stageview.tsx`` (stage list
cut to its first stage, its flow nodes left out), and the ``openshift.io/jenkins-status-json``
annotation OpenShift's Jenkins sync writes on a Build (absolute link, null links).
"""

from __future__ import annotations

import json

from secpipe import formats
from secpipe.formats.jenkins import Jenkins

README_RUNS = [
    {"_links": {"self": {"href": "/jenkins/job/Test%20Workflow/16/wfapi/describe"},
                "pendingInputActions": {"href": "/jenkins/job/Test%20Workflow/16/wfapi/pendingInputActions"}},
     "id": "2014-10-16_13-07-52", "name": "#16", "status": "PAUSED_PENDING_INPUT", "startTimeMillis": 1413461275770,
     "endTimeMillis": 1413461285999, "durationMillis": 10229,
     "stages": [{"_links": {"self": {"href": "/jenkins/job/Test%20Workflow/16/execution/node/5/wfapi/describe"}},
                 "id": "5", "name": "Build", "status": "SUCCESS", "startTimeMillis": 1413461275770,
                 "durationMillis": 5228}]},
    {"_links": {"self": {"href": "/jenkins/job/Test%20Workflow/15/wfapi/describe"},
                "artifacts": {"href": "/jenkins/job/Test%20Workflow/15/wfapi/artifacts"}},
     "id": "2014-10-16_12-45-06", "name": "#15", "status": "SUCCESS", "startTimeMillis": 1413459910289,
     "endTimeMillis": 1413459937070, "durationMillis": 26781,
     "stages": [{"_links": {"self": {"href": "/jenkins/job/Test%20Workflow/15/execution/node/5/wfapi/describe"}},
                 "id": "5", "name": "Build", "status": "SUCCESS", "startTimeMillis": 1413459910289,
                 "durationMillis": 6754}]},
]  # fmt: skip

CI_JENKINS_IO = {
    "_links": {"self": {"href": "/job/Core/job/jenkins/job/master/5198/wfapi/describe"},
               "changesets": {"href": "/job/Core/job/jenkins/job/master/5198/wfapi/changesets"},
               "artifacts": {"href": "/job/Core/job/jenkins/job/master/5198/wfapi/artifacts"}},
    "id": "5198", "name": "#5198", "status": "SUCCESS", "startTimeMillis": 1689684105340,
    "endTimeMillis": 1689694355006, "durationMillis": 10249666, "queueDurationMillis": 5, "pauseDurationMillis": 0,
    "stages": [{"_links": {"self": {"href": "/job/Core/job/jenkins/job/master/5198/execution/node/5/wfapi/describe"}},
                "id": "5", "name": "Record build", "execNode": "", "status": "SUCCESS",
                "startTimeMillis": 1689684106059, "durationMillis": 72836, "pauseDurationMillis": 0}],
}  # fmt: skip

OPENSHIFT_STATUS_JSON = (
    b'{"_links":{"self":{"href":"https://jenkins-mobile-console.192.168.42.205.nip.io/job/mobile-console/job/'
    b'mobile-console-bc1/1/wfapi/describe"},"changesets":null,"pendingInputActions":null,"nextPendingInputAction":null,'
    b'"artifacts":null},"id":"1","name":"#1","status":"NOT_EXECUTED","startTimeMillis":1562082081214,'
    b'"endTimeMillis":1562082125379,"durationMillis":44165,"queueDurationMillis":995,"pauseDurationMillis":0,'
    b'"stages":[]}'
)

FAILED_STAGE_NODE = {
    "_links": {"self": {"href": "/jenkins/job/Test%20Workflow/17/execution/node/8/wfapi/describe"}},
    "id": "8", "name": "Test", "status": "FAILED", "startTimeMillis": 1413462240994, "durationMillis": 5030,
    "stageFlowNodes": [{"id": "9", "name": "Shell Script", "status": "FAILED",
                        "error": {"message": "script returned exit code 1", "type": "hudson.AbortException"},
                        "startTimeMillis": 1413462240999, "durationMillis": 4999, "parentNodes": ["8"]}],
}  # fmt: skip


def _rows(body: bytes) -> list[dict]:
    dec = Jenkins().decode(body, "test")
    assert dec.dead == []
    return [r for b in dec.batches for r in b.to_pylist()]


def test_runs_answer_is_one_build_each_numbered_by_its_link() -> None:
    rows = _rows(json.dumps(README_RUNS).encode())
    assert [r["job"]["name"] for r in rows] == ["Test Workflow", "Test Workflow"]
    assert [r["metadata"]["correlation_uid"] for r in rows] == ["Test Workflow#16", "Test Workflow#15"]
    paused, done = rows
    # waiting for input: a running build, timed at its start, no result yet
    assert (paused["job"]["run_state_id"], paused["status_id"], paused["duration"]) == (3, None, None)
    assert paused["time"] == 1413461275770 and paused["job"]["desc"] == "#16"
    assert (done["job"]["run_state_id"], done["status"], done["status_detail"]) == (4, "Success", "SUCCESS")
    assert done["time"] == 1413459937070 == done["job"]["last_run_time"] + done["duration"]
    assert json.loads(done["unmapped"])["stages"][0]["name"] == "Build"


def test_describe_of_a_folder_job_and_an_absolute_link() -> None:
    (row,) = _rows(json.dumps(CI_JENKINS_IO).encode())
    assert (row["job"]["name"], row["metadata"]["correlation_uid"]) == ("Core/jenkins/master", "Core/jenkins/master#5198")
    assert row["time"] == 1689694355006 and row["duration"] == 10249666 and row["class_uid"] == 1006
    (row,) = _rows(OPENSHIFT_STATUS_JSON)
    assert row["job"]["name"] == "mobile-console/mobile-console-bc1"
    assert (row["status"], row["status_detail"], row["severity_id"]) == ("Other", "NOT_EXECUTED", 1)


def test_failed_run_word_and_auto_detection() -> None:
    failed = dict(CI_JENKINS_IO, status="FAILED")
    (row,) = _rows(json.dumps(failed).encode())
    assert (row["status"], row["status_detail"], row["severity_id"]) == ("Failure", "FAILED", 4)
    assert formats.detect(json.dumps(README_RUNS, indent=4).encode()[:4096]).name == "jenkins"


def test_a_stage_node_is_no_build() -> None:
    dec = Jenkins().decode(json.dumps(FAILED_STAGE_NODE).encode(), "test")
    assert dec.batches == [] and len(dec.dead) == 1 and "Stage View run" in dec.dead[0].reason
