"""GitHub webhook payloads as other versions of octokit/webhooks' examples write them (session 14).

Each payload is a real octokit example from shared/data/real, changed the way another version of
the same example (or GitHub's documented actions) has it; the expected values come from GitHub's
webhook documentation and OCSF 1.8.0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats import detect
from secpipe.formats.github import GitHub

HOOKS = "octokit-webhooks/payload-examples/api.github.com"


def mapped(payload: dict) -> dict:
    dec = GitHub().decode(json.dumps(payload).encode(), "test")
    assert dec.dead == [] and dec.events == 1
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    return row


def load(real: Path, rel: str) -> dict:
    return json.loads((real / HOOKS / rel).read_bytes())


@pytest.mark.parametrize(
    ("action", "activity_id", "status_id"),
    [("create", 1, 1), ("reopen", 2, 1), ("resolve", 3, 4), ("dismiss", 3, 3)],
)
def test_vulnerability_alert_without_state_takes_its_status_from_the_action(
    real: Path, action: str, activity_id: int, status_id: int
) -> None:
    """repository_vulnerability_alert's actions are create/dismiss/reopen/resolve (GitHub docs);
    the older example (create.with-gh-alert.payload.json) has no ``alert.state``: a created alert
    is New, not Unknown."""
    payload = load(real, "repository_vulnerability_alert/create.payload.json")
    del payload["alert"]["state"], payload["alert"]["number"], payload["alert"]["severity"]
    payload["action"] = action
    ev = mapped(payload)
    assert (ev["class_uid"], ev["activity_id"], ev["status_id"]) == (2002, activity_id, status_id)
    assert ev["finding_info"]["uid"].endswith("/vulnerability-alerts/91095730")  # the id, without a number


@pytest.mark.parametrize("action", ["auto_reopened", "reintroduced"])
def test_dependabot_alert_reopened_is_new(real: Path, action: str) -> None:
    payload = load(real, "dependabot_alert/created.payload.json")
    del payload["alert"]["state"]
    payload["action"] = action
    ev = mapped(payload)
    assert (ev["class_uid"], ev["status_id"], ev["status"]) == (2002, 1, "New")


@pytest.mark.parametrize("drop", [("sender", "pusher"), ("sender",), ("pusher",)])
def test_push_without_pusher_or_sender_is_a_push(real: Path, drop: tuple[str, ...]) -> None:
    """Only push has ``commits`` and ``ref`` at the top (GitHub's push payload); Panther's
    GitHub.Webhook test events (github_malicious_commit_content.yml) abridge it to ref, commits
    and repository. It was taken for ``public`` (a repository without an action)."""
    payload = load(real, "push/payload.json")
    pusher = payload["pusher"]
    for key in drop:
        del payload[key]
    ev = mapped(payload)
    assert (ev["class_uid"], ev["metadata"]["event_code"], ev["api"]["operation"]) == (6003, "push", "push")
    assert {"type": "git_ref", "name": payload["ref"]}.items() <= ev["resources"][1].items()
    who = (ev.get("actor") or {}).get("user")
    if "sender" not in drop:
        assert who["name"] == payload["sender"]["login"]
    elif "pusher" not in drop:  # the pusher is who acted when no sender is given
        assert (who["name"], who["email_addr"]) == (pusher["name"], pusher["email"])
    else:
        assert who is None


@pytest.mark.parametrize("kind", ["workflow_run", "workflow_job"])
def test_actions_payload_without_repository_or_sender_is_detected(real: Path, kind: str) -> None:
    """Panther's github_workflow_triggered_from_fork.yml tests abridge a workflow_run delivery to
    action, workflow and workflow_run (head_commit, head_repository with fork/full_name): no
    repository, sender or API URL. `--format auto` found no format and dead-lettered the file."""
    src = load(real, f"{kind}/completed.payload.json" if kind == "workflow_run" else f"{kind}/queued.payload.json")
    run = src[kind]
    keep = ("id", "name", "status", "conclusion", "event", "head_branch", "head_sha", "run_id", "head_commit")
    abridged = {k: run[k] for k in keep if k in run}
    if "head_repository" in run:
        abridged["head_repository"] = {k: run["head_repository"][k] for k in ("fork", "full_name")}
    payload = {"action": src["action"], **({"workflow": {"name": src["workflow"]["name"]}} if "workflow" in src else {}),
               kind: abridged}
    lines = b"".join(json.dumps(p).encode() + b"\n" for p in (payload, {**payload, "action": "in_progress"}))
    fmt = detect(lines)
    assert fmt is not None and fmt.name == "github"
    dec = fmt.decode(lines, "test")
    assert dec.dead == [] and dec.events == 2
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert [(r["class_uid"], r["metadata"]["event_code"]) for r in rows] == [(1006, kind)] * 2


@pytest.mark.parametrize("rel", ["team_add/payload.json", "team_add/with-installation.payload.json"])
def test_team_add_is_group_management(real: Path, rel: str) -> None:
    """team_add: "a team is added to a repository" (GitHub docs), what team.added_to_repository
    says today: Group Management, Assign Privileges on the repository. It was a generic API Activity."""
    payload = load(real, rel)
    ev = mapped(payload)
    assert (ev["class_uid"], ev["activity_id"], ev["metadata"]["event_code"]) == (3006, 1, "team_add")
    assert ev["group"]["name"] == payload["team"]["name"] and ev["group"]["type"] == "team"
    assert ev["resource"]["name"] == payload["repository"]["full_name"]


@pytest.mark.parametrize(
    ("rel", "activity_id"),
    [("repository/renamed.payload.json", 5), ("repository/transferred.payload.json", 5),
     ("repository/transferred.with-organization.payload.json", 5), ("repository/edited.payload.json", 3),
     ("repository/created.payload.json", 1)],
)
def test_repository_renamed_or_transferred_is_a_move(real: Path, rel: str, activity_id: int) -> None:
    """OCSF 1.8.0 Entity Management: activity 5 Move, "Move or rename an existing managed entity";
    a repository renamed or transferred to another owner was an Update."""
    ev = mapped(load(real, rel))
    assert (ev["class_uid"], ev["activity_id"], ev["type_uid"]) == (3004, activity_id, 300400 + activity_id)


AUDIT = "panther-analysis/extracted/github_audit.jsonl"


@pytest.mark.parametrize("absent", ["missing", "null"])
def test_audit_event_without_actor_is_stored_without_one(real: Path, absent: str) -> None:
    """An audit-log event GitHub records with no actor (an action of GitHub itself, or one whose
    actor account is gone) is still an audit event: stored as API Activity with no actor name,
    never dead-lettered. It is told from a webhook by its audit-only keys (``@timestamp``,
    ``_document_id``) and its dotted action (``repo.create``), which no webhook action has."""
    lines = [json.loads(x) for x in (real / AUDIT).read_bytes().splitlines() if x.strip()]
    for ev in lines:
        if "actor" not in ev or "_document_id" not in ev:
            continue
        if absent == "missing":
            del ev["actor"]
        else:
            ev["actor"] = None
        body = json.dumps(ev).encode()
        assert detect(body) is not None and detect(body).name == "github"
        row = mapped(ev)
        assert row["class_uid"] == 6003 and row["api"]["operation"] == ev["action"]
        user = (row.get("actor") or {}).get("user") or {}
        assert user.get("name") is None  # actor_id, when the event has one, still names the account
        assert user.get("uid") == (str(ev["actor_id"]) if ev.get("actor_id") is not None else None)
        # a batch of them, with events that have an actor: every one stored (native walk declines)
        with_actor = dict(ev, actor="octocat")
        dec = GitHub().decode(b"\n".join([json.dumps(with_actor).encode(), body] * 20), "test")
        assert dec.dead == [] and sum(b.num_rows for b in dec.batches) == 40
