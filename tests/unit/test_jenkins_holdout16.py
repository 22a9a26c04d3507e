"""Jenkins job names as build URLs write them (session 16).

Jenkins percent-encodes each job name in its URLs (``Util.rawEncode``: ``Build my project`` is
``job/Build%20my%20project/``); real ``/api/json`` answers (a WorkflowRun of a job with spaces in
its name) gave ``job.name`` ``Build%20my%20project``, and the console log of the same build a
``jenkins_log`` build id of the encoded name, so the two did not correlate with the name Jenkins
shows. The build is the documented API shape of tests/cases/cicd/jenkins_api_build.json with such a
URL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats.jenkins import Jenkins, job_from_url
from secpipe.formats.jenkins_log import build_id

BUILD = Path(__file__).resolve().parent.parent / "cases" / "cicd" / "jenkins_api_build.json"


def build_with_url(url: str) -> dict:
    doc = json.loads(BUILD.read_bytes())
    doc["url"] = url
    return doc


@pytest.mark.parametrize(
    ("url", "job"),
    [
        ("https://ci.example.com/job/Build%20my%20awesome%20project/19/", "Build my awesome project"),
        ("https://ci.example.com/job/team%20a/job/d%C3%A9ploiement/7/", "team a/déploiement"),
        ("https://ci.example.com/job/payments/job/deploy/42/", "payments/deploy"),
    ],
)
def test_job_name_from_an_encoded_build_url(url: str, job: str) -> None:
    dec = Jenkins().decode(json.dumps(build_with_url(url)).encode(), "test")
    assert dec.dead == [] and dec.events == 1
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    assert (row["job"]["name"], row["metadata"]["correlation_uid"]) == (job, f"{job}#42")  # the build's number
    assert job_from_url(url) == job


def test_console_log_of_the_same_build_correlates() -> None:
    url = "https://ci.example.com/job/team%20a/job/d%C3%A9ploiement/7/"
    assert build_id(url + "consoleText") == ("team a/déploiement", "7")
    assert build_id("jobs/team a/jobs/deploy/builds/7/log") == ("team a/deploy", "7")  # a JENKINS_HOME path: as written
