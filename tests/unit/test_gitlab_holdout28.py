"""GitLab REST API pipelines and jobs (``GET /projects/:id/pipelines``, ``/jobs``), session 28.

CI dashboards and exporters poll these endpoints instead of receiving webhooks; their answers
were dead-lettered ('no format matched'). Payloads: the "List project pipelines" example of
GitLab's Pipelines API documentation (docs.gitlab.com/api/pipelines), and python-gitlab's
fixtures of the same documentation (python-gitlab/python-gitlab ``tests/unit/objects/
test_pipelines.py`` ``pipeline_content``, ``test_jobs.py`` ``job_content``).
"""

from __future__ import annotations

import json

from secpipe import formats
from secpipe.formats.gitlab import GitLab

DOCS_PIPELINES = [
    {"id": 47, "iid": 12, "project_id": 1, "status": "pending", "source": "push", "ref": "new-pipeline",
     "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "name": "Build pipeline",
     "web_url": "https://example.com/foo/bar/pipelines/47", "created_at": "2016-08-11T11:28:34.085Z",
     "updated_at": "2016-08-11T11:32:35.169Z"},
    {"id": 48, "iid": 13, "project_id": 1, "status": "pending", "source": "web", "ref": "new-pipeline",
     "sha": "eb94b618fb5865b26e80fdd8ae531b7a63ad851a", "name": "Build pipeline",
     "web_url": "https://example.com/foo/bar/pipelines/48", "created_at": "2016-08-12T10:06:04.561Z",
     "updated_at": "2016-08-12T10:09:56.223Z"},
]  # fmt: skip

PIPELINE = {
    "id": 46, "project_id": 1, "status": "pending", "ref": "main", "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
    "before_sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "tag": False, "yaml_errors": None,
    "user": {"name": "Administrator", "username": "root", "id": 1, "state": "active",
             "avatar_url": "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
             "web_url": "http://localhost:3000/root"},
    "created_at": "2016-08-11T11:28:34.085Z", "updated_at": "2016-08-11T11:32:35.169Z", "started_at": None,
    "finished_at": "2016-08-11T11:32:35.145Z", "committed_at": None, "duration": None, "queued_duration": 0.010,
    "coverage": None, "web_url": "https://example.com/foo/bar/pipelines/46",
}  # fmt: skip

JOB = {
    "commit": {"author_email": "admin@example.com", "author_name": "Administrator"}, "coverage": None,
    "allow_failure": False, "created_at": "2015-12-24T15:51:21.880Z", "started_at": "2015-12-24T17:54:30.733Z",
    "finished_at": "2015-12-24T17:54:31.198Z", "duration": 0.465, "queued_duration": 0.010,
    "artifacts_expire_at": "2016-01-23T17:54:31.198Z", "tag_list": ["docker runner", "macos-10.15"], "id": 1,
    "name": "rubocop", "pipeline": {"id": 1, "project_id": 1}, "ref": "main", "artifacts": [], "runner": None,
    "stage": "test", "status": "failed", "tag": False, "web_url": "https://example.com/foo/bar/-/jobs/1",
    "user": {"id": 1},
}  # fmt: skip


def _rows(body: bytes) -> list[dict]:
    dec = GitLab().decode(body, "test")
    assert dec.dead == []
    return [r for b in dec.batches for r in b.to_pylist()]


def test_pipeline_list_is_scheduled_job_activity_as_the_pipeline_webhook() -> None:
    rows = _rows(json.dumps(DOCS_PIPELINES).encode())
    assert [r["class_uid"] for r in rows] == [1006, 1006]
    first = rows[0]
    assert first["job"]["name"] == "Build pipeline"
    assert first["job"]["desc"] == "push on new-pipeline (a91957a858320c0e17f3a0eca7cfacbff50ea29a)"
    assert (first["job"]["run_state_id"], first["job"]["run_state"], first["status_detail"]) == (2, "Queued", "pending")
    assert first["metadata"]["correlation_uid"] == "47" and first["activity_id"] == 1  # pending: Create
    assert first["time"] == 1470915155169  # updated_at: the list gives no finished_at
    assert first["job"]["created_time"] == 1470914914085 and "secpipe:time_from_receipt" not in (first["metadata"].get("labels") or [])


def test_single_pipeline_names_its_user_and_project() -> None:
    (row,) = _rows(json.dumps(PIPELINE).encode())
    assert row["job"]["name"] == "foo/bar pipeline"  # no pipeline name: the project path of its link
    assert row["actor"]["user"] == {"name": "root", "full_name": "Administrator", "uid": "1"}
    assert row["job"]["user"]["name"] == "root"
    assert row["time"] == 1470915155145  # finished_at
    assert json.loads(row["unmapped"])["before_sha"] == "a91957a858320c0e17f3a0eca7cfacbff50ea29a"


def test_job_is_scheduled_job_activity_as_the_job_webhook() -> None:
    (row,) = _rows(json.dumps(JOB).encode())
    assert (row["job"]["name"], row["job"]["desc"]) == ("rubocop", "foo/bar pipeline 1, stage test")
    assert (row["status"], row["status_id"], row["status_detail"]) == ("Failure", 2, "failed")
    assert row["metadata"]["correlation_uid"] == "1" and row["metadata"]["event_code"] == "build"
    assert (row["time"], row["job"]["last_run_time"], row["duration"]) == (1450979671198, 1450979670733, 465)
    assert json.loads(row["unmapped"])["tag_list"] == ["docker runner", "macos-10.15"]


def test_auto_detection() -> None:
    for doc in (DOCS_PIPELINES, PIPELINE, [JOB]):
        assert formats.detect(json.dumps(doc, indent=2).encode()).name == "gitlab"
