"""GitLab group webhooks that other versions of GitLab's "Webhook events" page document (session 16).

GitLab 17.4+ sends a member event when a group access request is denied
(``user_access_request_denied_for_group``), and group webhooks send subgroup events
(``subgroup_create``/``subgroup_destroy``): the subgroup's ``full_path``/``group_id``, its parent's
``parent_full_path``/``parent_group_id``. Both were dead-lettered. The payloads are built from
the documented system-hook examples in tests/cases/holdout/gitlab_system_hooks.jsonl (GitLab's
docs), changed field by field to the documented group-webhook shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from secpipe.formats import detect
from secpipe.formats.gitlab import GitLab

HOOKS = Path(__file__).resolve().parent.parent / "cases" / "holdout" / "gitlab_system_hooks.jsonl"


def documented(event_name: str) -> dict:
    return next(d for d in map(json.loads, HOOKS.read_text().splitlines()) if d["event_name"] == event_name)


def subgroup(event_name: str) -> dict:
    """A subgroup event: the group_create example's group as the subgroup of a parent group."""
    d = documented("group_create")
    return {"created_at": d["created_at"], "updated_at": d["updated_at"], "event_name": event_name, "name": "subgroup1",
            "path": "subgroup1", "full_path": f"{d['path']}/subgroup1", "group_id": 10, "parent_group_id": d["group_id"],
            "parent_name": d["name"], "parent_path": d["path"], "parent_full_path": d["path"]}  # fmt: skip


def denied() -> dict:
    return {**documented("user_access_request_to_group"), "event_name": "user_access_request_denied_for_group"}


def rows(docs: list[dict]) -> list[dict]:
    dec = GitLab().decode("\n".join(json.dumps(d) for d in docs).encode(), "test")
    assert dec.dead == [] and dec.events == len(docs)
    return [r for b in dec.batches for r in b.to_pylist()]


@pytest.fixture(params=["native", "python"])
def path(request: pytest.FixtureRequest, python_only: Callable[[], None]) -> str:
    if request.param == "python":
        python_only()
    return str(request.param)


# a creation at created_at 2012-07-21T07:30:54Z, a removal at the group's last change, updated_at
# 07:38:22Z (session 35: the hook's times are the group's own; it was created_at for both)
@pytest.mark.parametrize(("event_name", "activity_id", "time"),
                         [("subgroup_create", 1, 1342855854000), ("subgroup_destroy", 4, 1342856302000)])
def test_subgroup_events(path: str, event_name: str, activity_id: int, time: int) -> None:
    (ev,) = rows([subgroup(event_name)])
    assert (ev["class_uid"], ev["activity_id"], ev["api"]["operation"]) == (6003, activity_id, event_name)
    assert ev["metadata"]["event_code"] == event_name
    assert [(r["type"], r["name"], r["uid"]) for r in ev["resources"]] == [
        ("group", "storecloud/subgroup1", "10"), ("parent group", "storecloud", "78")]  # fmt: skip
    assert ev["time"] == time
    assert "parent_full_path" not in (ev["unmapped"] or "") and "parent_name" in ev["unmapped"]


def test_access_request_denied(path: str) -> None:
    doc = denied()
    (ev,) = rows([doc])
    assert (ev["class_uid"], ev["api"]["operation"]) == (6003, "user_access_request_denied_for_group")
    assert {(r["type"], r["name"], r["uid"]) for r in ev["resources"]} == {
        ("group", doc["group_path"], str(doc["group_id"])), ("user", doc["user_username"], str(doc["user_id"]))}  # fmt: skip


def test_group_webhook_batch_with_the_documented_hooks(path: str) -> None:
    """The new events beside the documented ones, one document: all stored, none dead."""
    docs = [json.loads(x) for x in HOOKS.read_text().splitlines()] + [subgroup("subgroup_create"), denied()]
    assert len(rows(docs)) == len(docs)


@pytest.mark.parametrize("doc", [subgroup("subgroup_destroy"), denied()], ids=["subgroup", "denied"])
def test_detected_as_gitlab(doc: dict) -> None:
    data = json.dumps(doc, indent=2).encode()
    fmt = detect(data)
    assert fmt is not None and fmt.name == "gitlab"


GIT_OPS = Path(__file__).resolve().parent.parent / "cases" / "holdout" / "gitlab_audit_stream_git_ops.jsonl"


@pytest.mark.parametrize(("line", "activity_id"), [(0, 2), (1, 3), (2, 2)])
def test_git_operation_streamed_without_event_type(path: str, line: int, activity_id: int) -> None:
    """GitLab 14.x streamed Git operations without ``event_type`` (its "Example responses for SSH
    events"; the type came in 15.0): the ``custom_message`` object names the Git service, so the
    event is a repository_git_operation (fetch Read, push Update), not an operation named by the
    message's JSON text with activity Other."""
    doc = json.loads(GIT_OPS.read_text().splitlines()[line])
    del doc["event_type"]
    (ev,) = rows([doc])
    assert (ev["api"]["operation"], ev["activity_id"]) == ("repository_git_operation", activity_id)
    assert ev["actor"]["user"]["name"] == doc["author_name"] and ev["src_endpoint"]["ip"] == "127.0.0.1"


def test_text_custom_message_without_event_type_is_unchanged(path: str, real: Path) -> None:
    """Panther's GitLab.Audit events (a text ``custom_message``, no type) keep the message as the operation."""
    docs = [json.loads(x) for x in (real / "panther-analysis/extracted/gitlab.jsonl").read_text().splitlines()[:3]]
    assert [r["api"]["operation"] for r in rows(docs)] == [d["detail"]["custom_message"] for d in docs]


PIPELINE = Path(__file__).resolve().parent.parent / "cases" / "cicd" / "gitlab_pipeline.json"


def job_hook(**times: str | None) -> dict:
    """A job event as GitLab's "Webhook events" page documents it (``object_kind`` build: the job's
    fields at the top, ``build_*``, no ``object_attributes``), on the pipeline case's project."""
    pipe = json.loads(PIPELINE.read_bytes())
    return {"object_kind": "build", "ref": pipe["object_attributes"].get("ref"), "tag": False,
            "sha": pipe["object_attributes"].get("sha"), "build_id": 1977, "build_name": "test", "build_stage": "test",
            "build_status": "success", "build_duration": 83.0, "build_allow_failure": False,
            "pipeline_id": pipe["object_attributes"].get("id"), "project_id": pipe["project"]["id"],
            "project_name": pipe["project"].get("path_with_namespace"), "user": pipe["user"], **times}  # fmt: skip


def release_hook() -> dict:
    """A release event as documented: the release's fields (``created_at`` among them) at the top."""
    pipe = json.loads(PIPELINE.read_bytes())
    return {"id": 1, "created_at": "2020-11-02 12:55:12 UTC", "description": "v1.1 has been released", "name": "v1.1",
            "released_at": "2020-11-02 12:55:12 UTC", "tag": "v1.1", "object_kind": "release", "project": pipe["project"],
            "url": "https://example.com/-/releases/v1.1", "action": "create"}  # fmt: skip


@pytest.mark.parametrize("copies", [1, 70], ids=["msgspec", "walked"])  # 64 or more webhooks are walked natively
def test_job_and_release_hooks_take_their_own_time(path: str, copies: int) -> None:
    """A job hook's time is its finish (else start, else creation) time, a release's its
    created_at; they were stored with the receipt time."""
    done = job_hook(build_created_at="2021-02-23T02:41:37.886Z", build_started_at="2021-02-23T02:41:38Z",
                    build_finished_at="2021-02-23T02:43:01Z")  # fmt: skip
    created = job_hook(build_created_at="2021-02-23T02:41:37.886Z", build_started_at=None, build_finished_at=None)
    evs = rows([done, created, release_hook()] * copies)
    got = [(e["metadata"]["event_code"], e["time"], "secpipe:time_from_receipt" in (e["metadata"].get("labels") or []))
           for e in evs]  # fmt: skip
    assert sorted(set(got)) == [("build", 1614048097886, False), ("build", 1614048181000, False),
                                ("release", 1604321712000, False)]  # fmt: skip
    assert len(got) == 3 * copies
