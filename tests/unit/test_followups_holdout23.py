"""Real samples secpipe was not developed against, round 23 follow-ups (``tests/cases/holdout``,
see its SOURCE.md "Round 23 (follow-ups)").

Expectations are written from the source documents and the format specifications (GitHub's
audit-log event reference), not from secpipe's output.

Regressions covered: a GitHub audit-log action GitHub documents as a refused attempt
(``protected_branch.rejected_ref_update``: "a branch update attempt was rejected") had no
status; it is a Failure, on the column path and the msgspec path alike.
"""

from __future__ import annotations

import pytest

from secpipe.formats import _fast
from secpipe.formats._github_map import action_failed
from tests.unit.test_formats_holdout import CASES, _auto, _rows

GITHUB_REJECTED = "elastic-github-audit-rejected-ref-update.log"


def test_github_audit_rejected_ref_update_is_a_failure() -> None:
    name, d = _auto(GITHUB_REJECTED)
    assert name == "github" and not d.dead and d.events == 4
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {6003}
    by_op: dict[str, list[dict]] = {}
    for r in rows:
        by_op.setdefault(r["api"]["operation"], []).append(r)
    rejected = by_op["protected_branch.rejected_ref_update"]
    assert len(rejected) == 2
    for r in rejected:
        assert (r["status_id"], r["status"]) == (2, "Failure")
        assert r["actor"]["user"]["name"] == "github-actor"
        assert r["src_endpoint"]["location"]["country"] == "US"
        assert {x["type"]: x["name"] for x in r["resources"]} == {
            "repository": "Example-Org/repo-123", "organization": "Example-Org"}
    assert sorted(r["time"] for r in rejected) == [1611616633246, 1614195224710]
    # the others say nothing of an outcome: no status is made up
    for op in ("protected_branch.create", "workflows.delete_workflow_run"):
        (r,) = by_op[op]
        assert r["status_id"] is None and r["status"] is None


@pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")
def test_github_audit_failed_actions_same_on_both_paths() -> None:
    from tests.unit.test_github_audit_columns import _both

    lines = (CASES / GITHUB_REJECTED).read_bytes().splitlines()
    extra = [b'{"actor":"a","action":"pre_receive_hook.rejected_push","created_at":1}',
             b'{"actor":"a","action":"user.failed_login","created_at":2}',
             b'{"actor":"a","action":"api.request","status_code":404,"created_at":3}',
             b'{"actor":"a","action":"user.two_factor_challenge_failure","created_at":4}']  # fmt: skip
    d = _both(b"\n".join(lines + extra), "failed actions")
    got = {r["api"]["operation"]: r["status_id"] for r in _rows(d)}
    assert got == {"protected_branch.rejected_ref_update": 2, "protected_branch.create": None,
                   "workflows.delete_workflow_run": None, "pre_receive_hook.rejected_push": 2,
                   "user.failed_login": 2, "api.request": 2, "user.two_factor_challenge_failure": 2}  # fmt: skip


def test_github_action_failed_words() -> None:
    assert action_failed("protected_branch.rejected_ref_update")
    assert action_failed("user.two_factor_challenge_failure")
    # an owner's decision on a request is done, not failed; a word inside another is not the word
    assert not action_failed("personal_access_token.request_denied")
    assert not action_failed("org.oauth_app_access_denied")
    assert not action_failed("user.two_factor_challenge_success")
    assert not action_failed("rejected")
    assert not action_failed(None)
