"""GitHub alert webhooks as other versions of octokit/webhooks' examples write them (session 16).

Each payload is a real octokit example from shared/data/real, or one changed the way another
version of the same example (or GitHub's webhook documentation) has it: older code scanning alerts
give their location only in ``instances[]`` (``most_recent_instance`` came later); a dismissed
alert's action is ``closed_by_user``; newer Dependabot advisories rate CVSS in ``cvss_severities``
(v3 and v4, the deprecated ``cvss`` then scored 0) and add ``epss``. Expected values: GitHub's
webhook documentation and OCSF 1.8.0 (finding status 3 Suppressed, 4 Resolved).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from secpipe.formats import detect
from secpipe.formats.github import GitHub

HOOKS = "octokit-webhooks/payload-examples/api.github.com"


def load(real: Path, rel: str) -> dict:
    return json.loads((real / HOOKS / rel).read_bytes())


def mapped(payload: dict) -> dict:
    dec = GitHub().decode(json.dumps(payload).encode(), "test")
    assert dec.dead == [] and dec.events == 1
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    return row


@pytest.fixture(params=["native", "python"])
def path(request: pytest.FixtureRequest, python_only: Callable[[], None]) -> str:
    """Both decode paths (alerts are read by msgspec on both; the scan must not change that)."""
    if request.param == "python":
        python_only()
    return str(request.param)


def test_code_scanning_location_from_instances(real: Path, path: str) -> None:
    """The example without ``most_recent_instance`` (its 2021 shape) names the file and lines in
    ``instances[0].location``: they are the vulnerability's affected code; ``rule.full_description``
    is its description (``rule.name`` is empty there)."""
    payload = load(real, "code_scanning_alert/created.payload.json")
    assert "most_recent_instance" not in payload["alert"]
    vuln = mapped(payload)["vulnerabilities"][0]
    (code,) = vuln["affected_code"]
    assert code["file"]["path"] == "src/main/java/com/github/demo/service/BookService.java"
    assert (code["file"]["name"], code["start_line"], code["end_line"]) == ("BookService.java", 84, 84)
    assert vuln["desc"] == payload["alert"]["rule"]["full_description"]


def test_code_scanning_most_recent_instance_comes_first(real: Path, path: str) -> None:
    payload = load(real, "code_scanning_alert/created.payload.json")
    payload["alert"]["most_recent_instance"] = {"ref": "refs/heads/main", "location": {"path": "app/x.java", "start_line": 3, "end_line": 4}}
    (code,) = mapped(payload)["vulnerabilities"][0]["affected_code"]
    assert (code["file"]["path"], code["start_line"], code["end_line"]) == ("app/x.java", 3, 4)


def test_code_scanning_old_instances_without_location(real: Path, path: str) -> None:
    """The 2020 shape: instances with no location, no sender: no affected code, still stored."""
    payload = load(real, "code_scanning_alert/reopened.payload.json")
    payload.pop("sender", None)
    payload["alert"]["instances"] = [{"ref": "refs/heads/master", "analysis_key": "a.yml:upload", "environment": "{}", "state": "open"}]
    ev = mapped(payload)
    assert (ev["class_uid"], ev["status_id"]) == (2002, 1)
    assert "affected_code" not in ev["vulnerabilities"][0] or ev["vulnerabilities"][0]["affected_code"] is None


def test_code_scanning_closed_by_user_is_suppressed(real: Path, path: str) -> None:
    """``closed_by_user`` is a user dismissing the alert (state ``dismissed``, a dismissed reason):
    Suppressed, as a dismissed Dependabot or vulnerability alert; ``fixed`` stays Resolved."""
    ev = mapped(load(real, "code_scanning_alert/closed-by-user.payload.json"))
    assert (ev["status_id"], ev["status"], ev["activity_id"]) == (3, "Suppressed", 3)
    ev = mapped(load(real, "code_scanning_alert/fixed.payload.json"))
    assert (ev["status_id"], ev["status"]) == (4, "Resolved")


@pytest.mark.parametrize(
    ("action", "state", "resolution", "status_id"),
    [
        ("resolved", "resolved", "false_positive", 3),
        ("resolved", "resolved", "wont_fix", 3),
        ("resolved", "resolved", "used_in_tests", 3),
        ("resolved", "resolved", "revoked", 4),
        ("revoked", "resolved", "revoked", 4),
        ("reopened", "open", None, 1),
        ("created", None, None, 1),
    ],
)
def test_secret_scanning_status_from_state_and_resolution(
    real: Path, path: str, action: str, state: str | None, resolution: str | None, status_id: int
) -> None:
    payload = load(real, "secret_scanning_alert/reopened.payload.json")
    payload["action"] = action
    payload["alert"]["resolution"] = resolution
    if state is not None:
        payload["alert"]["state"] = state
    ev = mapped(payload)
    assert (ev["class_uid"], ev["status_id"]) == (2004, status_id)


def _newer_advisory(real: Path) -> dict:
    payload = load(real, "dependabot_alert/created.payload.json")
    adv = payload["alert"]["security_advisory"]
    adv["cvss"] = {"vector_string": None, "score": 0.0}
    adv["cvss_severities"] = {
        "cvss_v3": {"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", "score": 5.3},
        "cvss_v4": {"vector_string": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N", "score": 6.9},
    }
    adv["epss"] = {"percentage": 0.00045, "percentile": 0.16}
    return payload


def test_dependabot_cvss_severities_and_epss(real: Path, path: str) -> None:
    cve = mapped(_newer_advisory(real))["vulnerabilities"][0]["cve"]
    assert [(x["version"], x["base_score"]) for x in cve["cvss"]] == [("3.1", 5.3), ("4.0", 6.9)]
    assert cve["epss"]["score"] == "0.00045" and cve["epss"]["percentile"] == pytest.approx(0.16)


def test_dependabot_unscored_severities_give_no_cvss(real: Path, path: str) -> None:
    payload = _newer_advisory(real)
    adv = payload["alert"]["security_advisory"]
    adv["cvss_severities"] = {"cvss_v3": {"vector_string": None, "score": None}, "cvss_v4": {"score": 0}}
    del adv["epss"]
    cve = mapped(payload)["vulnerabilities"][0]["cve"]
    assert cve["uid"] == adv["cve_id"] and cve.get("cvss") is None and cve.get("epss") is None


def test_dependabot_older_cvss_kept(real: Path, path: str) -> None:
    payload = load(real, "dependabot_alert/created.payload.json")
    score = payload["alert"]["security_advisory"]["cvss"]["score"]
    cve = mapped(payload)["vulnerabilities"][0]["cve"]
    assert [x["base_score"] for x in cve["cvss"] or []] == ([score] if score else [])


def test_alert_batch_of_both_shapes(real: Path, path: str) -> None:
    """Alerts with and without the newer fields in one document are all stored, each its own way."""
    docs = [_newer_advisory(real), load(real, "dependabot_alert/fixed.payload.json"),
            load(real, "code_scanning_alert/created.payload.json"), load(real, "code_scanning_alert/fixed.payload.json")]  # fmt: skip
    dec = GitHub().decode(json.dumps(docs).encode(), "test")
    assert dec.dead == [] and dec.events == 4
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert sorted(r["status_id"] for r in rows) == [1, 1, 4, 4]
    assert sum(1 for r in rows if (r["vulnerabilities"][0].get("cve") or {}).get("epss")) == 1


@pytest.mark.parametrize("rel", ["pull_request/ready_for_review.payload.json", "pull_request/ready_for_review.with-organization.payload.json"])
def test_ready_for_review_is_an_update(real: Path, path: str, rel: str) -> None:
    """A draft pull request marked ready for review changes it (Update), as converted_to_draft
    does; ``ready`` is no ``read`` (it was Read)."""
    ev = mapped(load(real, rel))
    assert (ev["class_uid"], ev["activity_id"], ev["api"]["operation"]) == (6003, 3, "pull_request.ready_for_review")


@pytest.mark.parametrize(("action", "activity_id"), [("repo.download_zip", 2), ("git.clone", 2), ("read_only", 2), ("readme_updated", 3)])
def test_read_words(action: str, activity_id: int) -> None:
    from secpipe.formats import _cicd

    assert _cicd.verb_activity(action, 3) == activity_id


@pytest.mark.parametrize(
    ("rel", "activity_id"),
    [("create/payload.json", 1), ("create/with-organization.payload.json", 1), ("delete/payload.json", 4),
     ("delete/with-installation.payload.json", 4), ("fork/payload.json", 1), ("public/payload.json", 3)],
)  # fmt: skip
def test_event_types_without_action_take_their_own_verb(real: Path, path: str, rel: str, activity_id: int) -> None:
    """create/delete (a branch or tag created or deleted), fork (a repository made) and public (a
    repository made public) have no ``action``: the type says what was done (they were Other)."""
    ev = mapped(load(real, rel))
    event = rel.split("/", 1)[0]
    assert (ev["class_uid"], ev["activity_id"], ev["metadata"]["event_code"]) == (6003, activity_id, event)


@pytest.mark.parametrize(
    ("kind", "type_id", "caption"),
    [("User", 1, "User"), ("Bot", 4, "Service"), ("Organization", 99, "Organization"), ("Mannequin", 99, "Mannequin")],
)
@pytest.mark.parametrize("rel", ["push/payload.json", "issues/opened.payload.json", "member/added.payload.json", "code_scanning_alert/created.payload.json"])
def test_sender_account_type(real: Path, path: str, rel: str, kind: str, type_id: int, caption: str) -> None:
    """GitHub's ``sender.type`` (User, Bot: a GitHub App's account, Organization, Mannequin) is
    the actor's OCSF user type: a bot is a service account; the others keep GitHub's word (Other).
    Generic types (issues), typed mappings (push, member) and alerts alike, on both paths."""
    payload = load(real, rel)
    payload["sender"]["type"] = kind
    user = mapped(payload)["actor"]["user"]
    assert (user["name"], user["type_id"], user["type"]) == (payload["sender"]["login"], type_id, caption)


def test_sender_without_type(real: Path, path: str) -> None:
    payload = load(real, "issues/opened.payload.json")
    del payload["sender"]["type"]
    user = mapped(payload)["actor"]["user"]
    assert user.get("type_id") is None and user.get("type") is None


@pytest.mark.parametrize("drop", [("repository", "sender"), ("repository",), ()])
def test_ping_without_sender_or_repository_is_detected(real: Path, drop: tuple[str, ...]) -> None:
    """A ping names its hook (``zen``, ``hook_id``, ``hook``); a GitHub App's hook ping need not
    name a repository or sender: --format auto still finds GitHub, one event, none dead."""
    payload = load(real, "ping/with-app_id.payload.json")
    for key in drop:
        del payload[key]
    data = json.dumps(payload, indent=2).encode()
    fmt = detect(data)
    assert fmt is not None and fmt.name == "github"
    ev = mapped(payload)
    assert (ev["class_uid"], ev["metadata"]["event_code"]) == (6003, "ping")
