"""GitLab audit events whose author is a deploy key or a deploy token, not a user (session 36).

GitLab writes a Git operation made with a deploy key with author id -3 and ``details.author_class`` ``DeployKey``,
the key's title as ``author_name`` (``Gitlab::Audit::DeployKeyAuthor``; -2 and ``DeployToken`` for a deploy token,
``Gitlab::Audit::DeployTokenAuthor``). It was stored as a user of uid "-3". OCSF 1.8.0's ``user.type_id`` names
User, Admin, System and Service accounts: a deploy key is none of them, so it is Other (99) with ``type``
``Deploy Key``; no uid (GitLab's -3 marks the kind of author, the same for every key).

Input: GitLab's documented streaming payloads, ``tests/cases/holdout/gitlab_audit_stream_git_ops.jsonl``
(``doc/administration/audit_event_streaming.md``, "Example payloads for SSH events" and "with Deploy Key"; SOURCE.md there).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.test_gitlab_holdout16 import path, rows

__all__ = ["path"]  # the native / msgspec fixture, shared

GIT_OPS = Path(__file__).resolve().parent.parent / "cases" / "holdout" / "gitlab_audit_stream_git_ops.jsonl"


def test_a_deploy_key_is_no_user(path: str) -> None:
    docs = [json.loads(x) for x in GIT_OPS.read_text().splitlines()]
    assert docs[2]["author_id"] == -3 and docs[2]["details"]["author_class"] == "DeployKey"
    users = [r["actor"]["user"] for r in rows(docs)]
    assert [(u["name"], u["uid"], u.get("type_id"), u.get("type")) for u in users] == [
        ("Administrator", "1", None, None),
        ("Administrator", "1", None, None),
        ("deploy-key-name", None, 99, "Deploy Key"),
    ]


def test_deploy_token_and_the_author_id_alone(path: str) -> None:
    key = json.loads(GIT_OPS.read_text().splitlines()[2])
    token = json.loads(json.dumps(key))
    token["author_id"], token["details"]["author_class"] = -2, "DeployToken"
    token["author_name"] = token["details"]["author_name"] = "gitlab+deploy-token-1"
    older = json.loads(json.dumps(key))  # a payload without author_class: the id tells the kind
    del older["details"]["author_class"]
    unnamed = json.loads(json.dumps(key))  # GitLab's DeployKeyAuthor is "Deploy Key" when it has no name
    del unnamed["author_name"], unnamed["details"]["author_name"]
    users = [r["actor"]["user"] for r in rows([token, older, unnamed])]
    assert [(u["name"], u.get("uid"), u["type_id"], u["type"]) for u in users] == [
        ("gitlab+deploy-token-1", None, 99, "Deploy Token"),
        ("deploy-key-name", None, 99, "Deploy Key"),
        ("Deploy Key", None, 99, "Deploy Key"),
    ]

