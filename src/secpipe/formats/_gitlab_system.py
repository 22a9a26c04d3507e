"""GitLab system hooks: instance-wide events an administrator's system hook POSTs.

GitLab's "System hooks" documentation: every payload has ``event_name`` (and, unlike group and
project webhooks, no ``object_kind``, except the push/tag_push/merge_request system hooks,
which are the webhook shapes and mapped as webhooks). The events: ``project_create``,
``project_destroy``, ``project_rename``, ``project_transfer``, ``project_update``,
``user_add_to_team``/``user_remove_from_team``/``user_update_for_team`` (project members),
``user_create``, ``user_destroy``, ``user_rename``, ``user_failed_login``, ``key_create``,
``key_destroy``, ``group_create``, ``group_destroy``, ``group_rename``,
``user_add_to_group``/``user_remove_from_group``/``user_update_for_group``, the access requests
(``user_access_request_to_group``/``_to_project``, ``user_access_request_revoked_for_group``/
``_for_project``; a group webhook's ``user_access_request_denied_for_group``, GitLab 17.4+) and
``repository_update``. Group webhooks send the member and project events in the same shapes, and
the subgroup events (``subgroup_create``/``subgroup_destroy``: the subgroup's ``full_path`` and
``group_id``, its parent's ``parent_full_path`` and ``parent_group_id``).

Mapping: ``user_failed_login`` -> Authentication (3002) Logon, status Failure, ``user`` = the
account (username, id, email; its ``state``, e.g. blocked, as ``status_detail``). Every other
event -> API Activity (6003): ``api.operation`` = ``metadata.event_code`` = event_name, activity
from its verb (create/add 1, destroy/remove 4, rename/transfer/update 3); ``resources`` = the
project (path with namespace, id; a project event's owner, ``owner_name`` or the first of
``owners``, as its ``owner``), the group (full path, id), the user (username, id) and the SSH key
(id) the event names. A system hook names the acting user only for
``repository_update`` (``actor.user``); for the others GitLab itself is the reporting actor
(``actor.app_name`` GitLab: OCSF API Activity requires an actor). An access request made is a
Create, one revoked or denied a Delete (GitLab removes the request).

Time: a hook's ``created_at``/``updated_at`` are the timestamps of the object it names (GitLab's
``Gitlab::HookData`` builders send the project's, member's, user's own), not of the event: a
creation (``*_create``, ``user_add_to_*``, an access request made) happened at ``created_at``;
any other event at the object's last change, ``updated_at`` (a rename, transfer or update saves
it; a project being destroyed is first marked pending deletion; a blocked user's failed sign-in
counts the attempt on the account, whose ``created_at`` is when the account was made, years
before perhaps); either in any of GitLab's time formats, else the receipt time (labelled). The
time key read leaves ``unmapped``; the other stays there. Keys not placed stay in ``unmapped``
(the SSH ``key`` itself among them: it is public).

Volume: system hooks are one POST per event, so records are read key by key from their
top-level raw maps (no columnar path is needed).
"""

from __future__ import annotations

from typing import Any

import msgspec

from secpipe.formats import _cicd as c

#: GitLab's system hook event names (the repository/merge/push system hooks with object_kind are webhooks)
EVENTS = frozenset({
    "project_create", "project_destroy", "project_rename", "project_transfer", "project_update",
    "user_add_to_team", "user_remove_from_team", "user_update_for_team", "user_create", "user_destroy",
    "user_rename", "user_failed_login", "key_create", "key_destroy", "group_create", "group_destroy", "group_rename",
    "user_add_to_group", "user_remove_from_group", "user_update_for_group", "repository_update",
    "user_access_request_to_group", "user_access_request_to_project", "user_access_request_revoked_for_group",
    "user_access_request_revoked_for_project", "user_access_request_denied_for_group",
    "subgroup_create", "subgroup_destroy",
})  # fmt: skip
#: sniff hints: the event names as they appear in a document
HINTS = tuple(f'"event_name": "{e}"'.encode() for e in EVENTS) + tuple(f'"event_name":"{e}"'.encode() for e in EVENTS)

_MAPPED = frozenset({
    "event_name", "project_id", "path_with_namespace", "project_path_with_namespace", "group_id",
    "full_path", "group_path", "user_id", "username", "user_username",
})  # fmt: skip
_KEY_MAPPED = _MAPPED | {"id"}
_GROUP_MAPPED = _MAPPED | {"path"}
_SUBGROUP_MAPPED = _MAPPED | {"parent_full_path", "parent_group_id"}
_REPO_MAPPED = _MAPPED | {"user_name"}
_AUTH_MAPPED = frozenset({"event_name", "user_id", "username", "email", "name", "state"})


def _v(top: dict[str, msgspec.Raw], key: str) -> Any:
    """The value of ``key``; None also for a number JSON allows but Python's JSON reader does not
    hold (a number past float64: msgspec's "Number out of range"), kept in raw_data."""
    raw = top.get(key)
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


def _s(top: dict[str, msgspec.Raw], *keys: str) -> str | None:
    """The first of ``keys`` holding a non-empty string."""
    for k in keys:
        v = _v(top, k)
        if isinstance(v, str) and v:
            return v
    return None


def _activity(event: str) -> int:
    if event.startswith("user_access_request_"):  # _to_group/_to_project made; _revoked_/_denied_ removed
        return 1 if event.startswith("user_access_request_to_") else 4
    verb = event.split("_", 1)[1] if event.startswith(("project_", "user_", "key_", "group_", "subgroup_", "repository_")) else event
    return c.verb_activity(verb)


def _owner(top: dict[str, msgspec.Raw]) -> dict[str, str] | None:
    """A project event's owner (``resources[].owner``): ``owner_name`` (system hooks), else the
    first of ``owners`` (system hooks and group webhooks' project events: [{name, email}])."""
    name = _s(top, "owner_name")
    if name is None:
        owners = _v(top, "owners")
        first = owners[0] if isinstance(owners, list) and owners else None
        name = first.get("name") if isinstance(first, dict) and isinstance(first.get("name"), str) else None
    return {"name": name} if name else None


def _time_key(event: str) -> str:
    """The key holding the time of ``event`` (see the module docstring)."""
    return "created_at" if event != "user_failed_login" and _activity(event) == 1 else "updated_at"


def _time(top: dict[str, msgspec.Raw], event: str) -> int | None:
    return c.first_time(_v(top, _time_key(event)))


def _unmapped(top: dict[str, msgspec.Raw], event: str, mapped: frozenset[str]) -> bytes | None:
    return c.unmapped_pop(top, mapped | {_time_key(event)} if _time(top, event) is not None else mapped)


def api_columns(tops: list[dict[str, msgspec.Raw]]) -> tuple[dict[str, Any], list[int | None], list[int]]:
    """API Activity leaves, times and activity ids of system hook events (not user_failed_login)."""
    events = [_s(t, "event_name") or "" for t in tops]
    times = [_time(t, e) for t, e in zip(tops, events, strict=True)]
    res, sid = c.resource, c.sid
    resources = []
    actor_name, actor_uid, actor_app = [], [], []
    for e, t in zip(events, tops, strict=True):
        project = _v(t, "project")
        project = project if isinstance(project, dict) else {}
        user_uid = sid(_v(t, "user_id"))
        username = _s(t, "user_username", "username")
        resources.append(c.compact([
            res("project", _s(t, "path_with_namespace", "project_path_with_namespace") or project.get("path_with_namespace"),
                sid(_v(t, "project_id")), owner=_owner(t) if e.startswith("project_") else None),
            res("group", _s(t, "full_path", "group_path") or (_s(t, "path") if e.startswith("group_") else None),
                sid(_v(t, "group_id"))),
            None if e == "repository_update" else res("user", username, user_uid),
            res("key", None, sid(_v(t, "id"))) if e.startswith("key_") else None,
            res("parent group", _s(t, "parent_full_path"), sid(_v(t, "parent_group_id"))) if e.startswith("subgroup_") else None,
        ]))  # fmt: skip
        if e == "repository_update":  # the one system hook that names who acted
            actor_name.append(_s(t, "user_name"))
            actor_uid.append(user_uid)
            actor_app.append(None if user_uid or _s(t, "user_name") else "GitLab")
        else:
            actor_name.append(None)
            actor_uid.append(None)
            actor_app.append("GitLab")
    cols = {
        "api.operation": events,
        "api.service.name": ["GitLab system hooks"] * len(tops),
        "metadata.event_code": events,
        "actor.user.name": actor_name,
        "actor.user.uid": actor_uid,
        "actor.app_name": actor_app,
        "resources": resources,
        "unmapped": [_unmapped(t, e, _REPO_MAPPED if e == "repository_update" else _KEY_MAPPED if e.startswith("key_")
                                 else _SUBGROUP_MAPPED if e.startswith("subgroup_")
                                 else _GROUP_MAPPED if e.startswith("group_") and "full_path" not in t else _MAPPED)
                     for e, t in zip(events, tops, strict=True)],  # fmt: skip
    }
    return cols, times, [_activity(e) for e in events]


def auth_columns(tops: list[dict[str, msgspec.Raw]]) -> tuple[dict[str, Any], list[int | None], list[int]]:
    """Authentication leaves, times and activity ids of ``user_failed_login`` events."""
    n = len(tops)
    times = [_time(t, "user_failed_login") for t in tops]
    cols = {
        "user.name": [_s(t, "username", "name") for t in tops],
        "user.uid": [c.sid(_v(t, "user_id")) for t in tops],
        "user.full_name": [_s(t, "name") for t in tops],
        "user.email_addr": [_s(t, "email") for t in tops],
        "metadata.event_code": ["user_failed_login"] * n,
        "status_id": [2] * n,
        "status": ["Failure"] * n,
        "status_detail": [_s(t, "state") for t in tops],
        "service.name": ["GitLab"] * n,
        "unmapped": [_unmapped(t, "user_failed_login", _AUTH_MAPPED) for t in tops],
    }
    return cols, times, [1] * n  # Logon
