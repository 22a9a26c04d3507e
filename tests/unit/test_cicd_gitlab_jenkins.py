"""GitLab and Jenkins formats: golden events, sniffing, dead letters.

Inputs: Panther's GitLab test events (real, Apache-2.0) and payloads written from GitLab's and
Jenkins' documentation (tests/cases/cicd/SOURCE.md). Expected values were written by reading
each input and the OCSF 1.8.0 classes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from secpipe.formats import detect
from secpipe.formats.base import TIME_FROM_RECEIPT
from secpipe.formats.gitlab import GitLab
from secpipe.formats.jenkins import Jenkins, job_from_url
from secpipe.formats.jenkins_log import JenkinsLog, build_id
from secpipe.schema.ocsf import class_name_of, validate_batch
from tests.conftest import CASES

CICD = CASES / "cicd"


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def rows(fmt, data: bytes, source: str = "t") -> list[dict]:
    dec = fmt.decode(data, source)
    assert dec.dead == []
    out = []
    for b in dec.batches:
        assert validate_batch(class_name_of(b.column("class_uid")[0].as_py()), b.schema) == []
        out.extend(b.to_pylist())
    return out


def case(name: str) -> bytes:
    return (CICD / name).read_bytes()


# --- GitLab ----------------------------------------------------------------------------


def test_gitlab_panther_events(real: Path) -> None:
    data = (real / "panther-analysis/extracted/gitlab.jsonl").read_bytes()
    assert detect(data[:65536]).name == "gitlab"
    evs = rows(GitLab(), data)
    assert len(evs) == 6 and all(e["class_uid"] == 6003 for e in evs)
    hello, reset1, reset2, cats, pw1, _pw2 = evs
    assert hello["api"]["operation"] == "hello world" and hello["activity_id"] == 99
    assert TIME_FROM_RECEIPT in hello["metadata"]["labels"]
    assert reset1["resources"] == [{"type": "target", "name": "example@test.com", "uid": None}]
    assert reset2["resources"][0]["name"] == '["example@test.com", "example2@test.com"]'
    assert cats["api"]["operation"] == "/cats" and cats["http_request"]["url"]["path"] == "/cats"
    assert json.loads(cats["unmapped"])["params"][0] == {"key": "authenticity_token", "value": "[FILTERED]"}
    assert pw1["http_request"]["url"]["path"] == "/users/password"


def test_gitlab_audit_stream_event() -> None:
    (ev,) = rows(GitLab(), case("gitlab_audit_stream.json"))
    assert ev["api"]["operation"] == "repository_git_operation" and ev["metadata"]["event_code"] == "repository_git_operation"
    assert ev["actor"]["user"] == {"name": "Administrator", "uid": "1"}
    assert ev["src_endpoint"]["ip"] == "127.0.0.1" and ev["time"] == ms("2022-05-25T06:49:15.213Z")
    assert ev["metadata"]["original_event_uid"] == "1653461355"
    assert ev["resources"] == [
        {"type": "Project", "name": "flightjs/Flight", "uid": "6"},
        {"type": "Project", "name": "Flight", "uid": "6"},
    ]
    assert json.loads(ev["unmapped"])["details"]["custom_message"] == {"protocol": "ssh", "action": "git-upload-pack"}


def test_gitlab_api_log_failure() -> None:
    (ev,) = rows(GitLab(), case("gitlab_api_json.log"))
    assert ev["activity_id"] == 4 and ev["status_id"] == 2 and ev["status_code"] == "403"
    assert ev["api"]["operation"] == "/api/:version/projects/:id/protected_branches/:name"
    assert ev["http_request"]["http_method"] == "DELETE" and ev["http_request"]["user_agent"] == "curl/8.4.0"
    assert ev["actor"]["user"] == {"name": "mallory", "uid": "7"} and ev["src_endpoint"]["ip"] == "198.51.100.20"
    assert ev["api"]["request"]["uid"] == "01HQX7Z9K2" and ev["time"] == ms("2024-03-01T10:00:00.123Z")


def test_gitlab_push() -> None:
    data = case("gitlab_push.json")
    assert detect(data).name == "gitlab"
    (ev,) = rows(GitLab(), data)
    assert ev["class_uid"] == 6003 and ev["activity_id"] == 3 and ev["api"]["operation"] == "push"
    assert ev["actor"]["user"]["name"] == "jsmith" and ev["actor"]["user"]["full_name"] == "John Smith"
    assert ev["actor"]["user"]["uid"] == "4"
    assert ev["resources"] == [
        {"type": "project", "name": "mike/diaspora", "uid": "15"},
        {"type": "git_ref", "name": "refs/heads/master", "uid": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"},
    ]
    assert ev["message"] == "jsmith pushed 1 commit(s) to refs/heads/master"


def test_gitlab_merge_request() -> None:
    (ev,) = rows(GitLab(), case("gitlab_merge_request.json"))
    assert ev["class_uid"] == 6003 and ev["activity_id"] == 1 and ev["api"]["operation"] == "merge_request.open"
    assert ev["resources"][1] == {"type": "merge_request", "name": "!1 MS-Viewport", "uid": "99"}
    assert ev["time"] == ms("2013-12-03T17:23:34Z") and ev["actor"]["user"]["email_addr"] == "admin@example.com"


def test_gitlab_pipeline_failed() -> None:
    (ev,) = rows(GitLab(), case("gitlab_pipeline.json"))
    assert ev["class_uid"] == 1006 and ev["status_id"] == 2 and ev["status_detail"] == "failed"
    assert ev["time"] == ms("2016-08-12T15:26:29+00:00") and ev["duration"] == 63000
    assert ev["job"]["name"] == "Pipeline for branch: master" and ev["job"]["run_state_id"] == 4
    assert ev["job"]["created_time"] == ms("2016-08-12T15:23:28+00:00") and ev["job"]["user"]["name"] == "root"
    assert ev["metadata"]["correlation_uid"] == "31"


def test_gitlab_deployment() -> None:
    (ev,) = rows(GitLab(), case("gitlab_deployment.json"))
    assert ev["class_uid"] == 6002 and ev["activity_id"] == 1 and ev["status_id"] == 1
    assert ev["app"] == {"name": "root/test-deployment-webhooks", "uid": "15", "version": "279484c0", "feature": {"name": "staging"}}
    assert ev["time"] == ms("2021-04-28T21:50:00+02:00")


def test_gitlab_dead_letters() -> None:
    good = case("gitlab_audit_stream.json").strip()
    dec = GitLab().decode(good + b'\n{"foo": 1}\nnot json\n' + good, "t")
    assert sum(b.num_rows for b in dec.batches) == 2 and len(dec.dead) == 2
    assert any("not a GitLab audit event" in d.reason for d in dec.dead)


# --- Jenkins ---------------------------------------------------------------------------


def test_jenkins_api_build() -> None:
    data = case("jenkins_api_build.json")
    assert detect(data).name == "jenkins"
    (ev,) = rows(Jenkins(), data)
    assert ev["class_uid"] == 1006 and ev["activity_id"] == 2 and ev["severity_id"] == 4
    assert ev["status_id"] == 2 and ev["status_detail"] == "FAILURE" and ev["duration"] == 93512
    assert ev["time"] == 1764400000000 + 93512
    assert ev["job"]["name"] == "payments/deploy" and ev["job"]["desc"] == "payments » deploy #42"
    assert ev["job"]["user"]["name"] == "alice" and ev["job"]["run_state_id"] == 4
    assert ev["metadata"]["correlation_uid"] == "payments/deploy#42"
    assert job_from_url("https://ci/job/a/job/b/7/") == "a/b"


def test_jenkins_notification_phases() -> None:
    data = case("jenkins_notification.json")
    assert detect(data).name == "jenkins"
    (done,) = rows(Jenkins(), data)
    assert done["activity_id"] == 2 and done["status_id"] == 1 and done["job"]["name"] == "asgard"
    # the plugin's JobListener sends COMPLETED with timestamp = start + duration: the event time as
    # is, the start 12 s (its duration) before it
    assert done["metadata"]["correlation_uid"] == "asgard#18" and done["time"] == 1764400000000
    assert done["job"]["last_run_time"] == 1764400000000 - 12000 and done["duration"] == 12000
    assert json.loads(done["unmapped"])["build"]["scm"]["branch"] == "origin/master"
    started = json.loads(data)
    started["build"].update(phase="STARTED", status=None)
    (ev,) = rows(Jenkins(), json.dumps(started).encode())
    assert ev["activity_id"] == 6 and ev["job"]["run_state_id"] == 3 and ev.get("status_id") is None
    assert ev["time"] == 1764400000000


def test_jenkins_dead_letter() -> None:
    dec = Jenkins().decode(b'{"name": "x", "build": {"phase": 3}}\n{"name": "y"}', "t")
    assert dec.batches == [] and len(dec.dead) == 2


def test_jenkins_console_log() -> None:
    data = case("jenkins_console.log")
    assert detect(data).name == "jenkins_log"
    src = "/var/lib/jenkins/jobs/payments/jobs/deploy/builds/42/log"
    evs = rows(JenkinsLog(), data, src)
    assert len(evs) == 22
    assert {e["metadata"]["correlation_uid"] for e in evs} == {"payments/deploy#42"}
    stages = [json.loads(e["unmapped"]).get("stage") for e in evs]
    assert stages[7:10] == ["Checkout"] * 3 and stages[10] is None
    assert stages[12:17] == ["Build"] * 5 and stages[17:] == [None] * 5
    assert evs[0]["activity_id"] == 6 and evs[0]["message"] == "Started by user Alice"
    err = evs[15]
    assert err["message"] == "ERROR: make: *** [build] Error 2" and err["severity_id"] == 4
    last = evs[-1]
    assert last["status_id"] == 2 and last["status_detail"] == "FAILURE" and last["activity_id"] == 2
    assert len({e["metadata"]["uid"] for e in evs}) == 22  # repeated lines stay distinct


def test_jenkins_console_timestamps_and_notes() -> None:
    data = (b"[2024-05-01T10:00:00.123Z] Started by timer\n"
            b"[2024-05-01T10:00:01.000Z] \x1b[8mha:////4AAAAB+LCAAA\x1b[0m\x1b[32mok\x1b[0m\n"
            b"[2024-05-01T10:00:02.000Z] Finished: SUCCESS\n")  # fmt: skip
    evs = rows(JenkinsLog(), data, "http://ci/job/nightly/9/consoleText")
    assert [e["time"] for e in evs] == [ms("2024-05-01T10:00:00.123Z"), ms("2024-05-01T10:00:01Z"), ms("2024-05-01T10:00:02Z")]
    assert evs[1]["message"] == "ok" and evs[2]["status_id"] == 1
    assert evs[0]["metadata"]["correlation_uid"] == "nightly#9"
    assert build_id("upload;jenkins-build=team/app#5") == ("team/app", "5")


@pytest.mark.parametrize("line", [b"Started by user x\n\xff\xfe broken\n"])
def test_jenkins_console_dead_letter(line: bytes) -> None:
    dec = JenkinsLog().decode(line, "t")
    assert sum(b.num_rows for b in dec.batches) == 1 and len(dec.dead) == 1 and "UTF-8" in dec.dead[0].reason


@pytest.mark.parametrize(
    ("phase", "last_run", "time"),
    [("QUEUED", None, 1764400000000), ("STARTED", 1764400000000, 1764400000000),
     ("COMPLETED", 1764400000000 - 12000, 1764400000000), ("FINALIZED", None, 1764400000000)],
)
def test_jenkins_notification_time_is_the_phase_time(phase: str, last_run: int | None, time: int) -> None:
    """notification-plugin's JobListener: QUEUED at now - time in queue, STARTED at the start,
    COMPLETED at start + duration, FINALIZED at now; BuildState.timestamp is that phase time."""
    payload = json.loads(case("jenkins_notification.json"))
    payload["build"]["phase"] = phase
    (ev,) = rows(Jenkins(), json.dumps(payload).encode())
    assert ev["time"] == time and ev["job"].get("last_run_time") == last_run


def test_jenkins_notification_string_timestamp() -> None:
    """An older plugin's BuildState wrote the build time as SimpleDateFormat
    ``yyyy-MM-dd'T'HH:mm:ss.Sz`` (UTC as +00:00; ``S`` unpadded milliseconds); it was
    dead-lettered (``timestamp`` must be an int)."""
    payload = json.loads(case("jenkins_notification.json"))
    payload["build"]["timestamp"] = "2025-11-29T07:06:40.5+00:00"  # 5 ms past the second
    (ev,) = rows(Jenkins(), json.dumps(payload).encode())
    start = 1764400000000 + 5
    assert ev["job"]["last_run_time"] == start and ev["time"] == start + 12000  # COMPLETED: start + duration
