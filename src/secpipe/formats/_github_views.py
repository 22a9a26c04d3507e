"""GitHub webhooks and audit-log events: the typed views msgspec decodes (only the fields the
mappings read; msgspec skips the rest in C), for :mod:`secpipe.formats.github`.

``_Hook`` is a webhook payload as the mappings (:mod:`secpipe.formats._github_map`) read it;
``_HookBase`` the same without the main objects of the generically mapped types (a payload whose such
value msgspec cannot hold is read as ``_HookBase``); ``_Alert`` the alert of the alert events and of
REST API alert records; ``_Audit`` an audit-log event; ``_Times`` the times of a payload's main object.
The native scan (:mod:`secpipe.formats._github_scan`) reads the same fields, its plan written out
from these structs, so a payload takes either path with the same view.
"""

from __future__ import annotations

from typing import Any

import msgspec

from secpipe.formats import _cicd as c
from secpipe.formats.base import TimeField


class _User(msgspec.Struct, gc=False):
    login: str | None = None
    id: Any = None
    type: str | None = None
    name: str | None = None
    email: str | None = None


class _Owner(msgspec.Struct, gc=False):
    login: str | None = None


class _Repo(msgspec.Struct, gc=False):
    id: Any = None
    name: str | None = None
    full_name: str | None = None
    private: bool | None = None
    visibility: str | None = None
    html_url: str | None = None
    owner: _Owner | None = None
    pushed_at: Any = None
    updated_at: Any = None


class _Org(msgspec.Struct, gc=False):
    login: str | None = None
    id: Any = None


class _Ref(msgspec.Struct, gc=False):
    ref: str | None = None
    sha: str | None = None


class _PR(msgspec.Struct, gc=False):
    id: Any = None
    number: int | None = None
    title: str | None = None
    state: str | None = None
    merged: bool | None = None
    html_url: str | None = None
    created_at: TimeField = None
    updated_at: TimeField = None
    head: _Ref | None = None
    base: _Ref | None = None


class _Run(msgspec.Struct, gc=False):
    id: Any = None
    run_id: Any = None
    name: str | None = None
    workflow_name: str | None = None
    display_title: str | None = None
    path: str | None = None
    event: str | None = None
    status: str | None = None
    conclusion: str | None = None
    head_branch: str | None = None
    head_sha: str | None = None
    html_url: str | None = None
    created_at: TimeField = None
    updated_at: TimeField = None
    run_started_at: TimeField = None
    started_at: TimeField = None
    completed_at: TimeField = None
    run_number: int | None = None
    run_attempt: int | None = None
    runner_name: str | None = None
    actor: _User | None = None


class _Workflow(msgspec.Struct, gc=False):
    id: Any = None
    name: str | None = None
    path: str | None = None


class _Deployment(msgspec.Struct, gc=False):
    id: Any = None
    sha: str | None = None
    ref: str | None = None
    task: str | None = None
    environment: str | None = None
    state: str | None = None
    description: str | None = None
    created_at: TimeField = None
    updated_at: TimeField = None
    target_url: str | None = None
    creator: _User | None = None


class _Team(msgspec.Struct, gc=False):
    id: Any = None
    name: str | None = None
    slug: str | None = None
    permission: str | None = None
    privacy: str | None = None


class _Membership(msgspec.Struct, gc=False):
    role: str | None = None
    state: str | None = None
    user: _User | None = None


class _Invitation(msgspec.Struct, gc=False):
    id: Any = None
    login: str | None = None
    email: str | None = None
    role: str | None = None
    created_at: TimeField = None


class _Perm(msgspec.Struct, gc=False):
    to: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")


class _Changes(msgspec.Struct, gc=False):
    permission: _Perm | None = None
    old_permission: _Perm | None = None
    role_name: _Perm | None = None


class _Rule(msgspec.Struct, gc=False):
    id: Any = None
    name: str | None = None
    created_at: TimeField = None
    updated_at: TimeField = None


class _Package(msgspec.Struct, gc=False):
    ecosystem: str | None = None
    name: str | None = None


class _Patched(msgspec.Struct, gc=False):
    identifier: str | None = None


class _SecVuln(msgspec.Struct, gc=False):
    package: _Package | None = None
    severity: str | None = None
    vulnerable_version_range: str | None = None
    first_patched_version: _Patched | None = None


class _Cvss(msgspec.Struct, gc=False):
    score: float | None = None
    vector_string: str | None = None


class _CvssSeverities(msgspec.Struct, gc=False):
    cvss_v3: _Cvss | None = None
    cvss_v4: _Cvss | None = None


class _Epss(msgspec.Struct, gc=False):
    percentage: float | None = None
    percentile: float | None = None


class _Cwe(msgspec.Struct, gc=False):
    cwe_id: str | None = None
    name: str | None = None


class _Url(msgspec.Struct, gc=False):
    url: str | None = None


class _Advisory(msgspec.Struct, gc=False):
    ghsa_id: str | None = None
    cve_id: str | None = None
    summary: str | None = None
    description: str | None = None
    severity: str | None = None
    cvss: _Cvss | None = None
    cvss_severities: _CvssSeverities | None = None
    epss: _Epss | None = None
    cwes: list[_Cwe] | None = None
    references: list[_Url] | None = None
    published_at: TimeField = None
    updated_at: TimeField = None


class _Dependency(msgspec.Struct, gc=False):
    package: _Package | None = None
    manifest_path: str | None = None
    scope: str | None = None


class _ARule(msgspec.Struct, gc=False):
    id: str | None = None
    name: str | None = None
    severity: str | None = None
    security_severity_level: str | None = None
    full_description: str | None = None
    description: str | None = None
    tags: list[str] | None = None


class _Tool(msgspec.Struct, gc=False):
    name: str | None = None
    version: str | None = None


class _Location(msgspec.Struct, gc=False):
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None


class _Instance(msgspec.Struct, gc=False):
    ref: str | None = None
    location: _Location | None = None


class _Alert(msgspec.Struct, gc=False):
    id: Any = None
    number: int | None = None
    state: str | None = None
    html_url: str | None = None
    created_at: TimeField = None
    updated_at: TimeField = None
    fixed_at: TimeField = None
    dismissed_at: TimeField = None
    resolved_at: TimeField = None
    secret_type: str | None = None
    secret_type_display_name: str | None = None
    resolution: str | None = None
    rule: _ARule | None = None
    tool: _Tool | None = None
    most_recent_instance: _Instance | None = None
    instances: list[_Instance] | None = None
    security_advisory: _Advisory | None = None
    security_vulnerability: _SecVuln | None = None
    dependency: _Dependency | None = None
    affected_package_name: str | None = None
    affected_range: str | None = None
    fixed_in: str | None = None
    external_identifier: str | None = None
    external_reference: str | None = None
    ghsa_id: str | None = None
    severity: str | None = None


class _Times(msgspec.Struct, gc=False):
    updated_at: Any = None
    created_at: Any = None
    submitted_at: Any = None
    completed_at: Any = None  # a check run names no updated/created time, only its run's
    started_at: Any = None


#: the main object of an event type mapped generically, read for its time in the same pass
_Primary = _Times | list[Any] | str | int | float | bool | None


class _HeadCommit(msgspec.Struct, gc=False):
    id: str | None = None
    timestamp: TimeField = None


class _HookBase(msgspec.Struct, gc=False):
    sender: _User | None = None
    action: str | None = None
    repository: _Repo | None = None
    organization: _Org | None = None
    installation: _Org | None = None
    ref: str | None = None
    before: str | None = None
    after: str | None = None
    created: bool | None = None
    deleted: bool | None = None
    forced: bool | None = None
    pusher: _User | None = None
    commits: list[msgspec.Raw] | None = None
    head_commit: _HeadCommit | None = None
    pull_request: _PR | None = None
    workflow_run: _Run | None = None
    workflow_job: _Run | None = None
    workflow: _Workflow | str | None = None
    deployment: _Deployment | None = None
    deployment_status: _Deployment | None = None
    member: _User | None = None
    membership: _Membership | None = None
    invitation: _Invitation | None = None
    team: _Team | None = None
    changes: _Changes | None = None
    rule: _Rule | None = None
    alert: _Alert | None = None


class _Hook(_HookBase, gc=False):
    """_HookBase plus the main objects of generically mapped types (any JSON value is accepted:
    only an object has times). A payload whose such value msgspec cannot hold (a number out of
    range) is read as _HookBase, and its time found as before (see :func:`_primary_time`)."""

    issue: _Primary = None
    discussion: _Primary = None
    release: _Primary = None
    check_run: _Primary = None
    check_suite: _Primary = None
    project_card: _Primary = None
    projects_v2_item: _Primary = None
    project_column: _Primary = None
    project: _Primary = None
    label: _Primary = None
    milestone: _Primary = None
    marketplace_purchase: _Primary = None
    blocked_user: _Primary = None
    security_advisory: _Primary = None
    forkee: _Primary = None
    package: _Primary = None
    registry_package: _Primary = None
    sponsorship: _Primary = None
    key: _Primary = None
    merge_group: _Primary = None
    comment: _Primary = None  # issue, discussion and commit comments: the comment's own times
    build: _Primary = None  # page_build


class _Loc(msgspec.Struct, gc=False):
    country_code: str | None = None


class _Audit(msgspec.Struct, gc=False):
    action: str | None = None
    actor: str | None = None
    actor_id: Any = None
    actor_ip: str | None = None
    actor_location: _Loc | None = None
    actor_is_bot: Any = None  # streamed events: JSON booleans (another value is no type)
    actor_is_agent: Any = None
    user: str | None = None
    org: str | None = None
    repo: str | None = None
    repository: Any = None
    business: str | None = None
    team: Any = None  # ``org/team`` of team events (a string; other types stay in unmapped only)
    # the older audit-log export's per-event fields, read for ``data.team`` alone (``_github_map._team``):
    # kept raw, so a value the mapping never reads (a number beyond float64) does not refuse the event
    data: msgspec.Raw = msgspec.Raw(b"")
    user_agent: str | None = None
    created_at: Any = None
    timestamp: Any = msgspec.field(default=None, name="@timestamp")
    at_sign_timestamp: Any = None
    p_event_time: Any = None
    document_id: str | None = msgspec.field(default=None, name="_document_id")
    operation_type: str | None = None


_HOOK = msgspec.json.Decoder(_Hook)
_HOOK_BASE = msgspec.json.Decoder(_HookBase)

class _RestRepo(msgspec.Struct, gc=False):
    repository: _Repo | None = None  # (an organization's alert list names each alert's repository)


_REST_ALERT = _ALERT = msgspec.json.Decoder(_Alert)
_REST_REPO = msgspec.json.Decoder(_RestRepo)
_AUDIT = msgspec.json.Decoder(_Audit)
_TIMES = msgspec.json.Decoder(_Times)


_TYPED_PRIMARY = frozenset(_Hook.__struct_fields__) - frozenset(_HookBase.__struct_fields__)


def _times_first(t: _Times) -> int | None:
    """The main object's time: updated, submitted, created, else (a check run) completed or started."""
    return c.first_time(t.updated_at, t.submitted_at, t.created_at, t.completed_at, t.started_at)


_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _loose_times(raw: msgspec.Raw) -> _Times | None:
    """``raw``'s times read one by one: one that cannot be read is none (it stays in raw_data)."""
    try:
        members = _MEMBERS.decode(raw)
    except msgspec.DecodeError:
        return None
    got: dict[str, Any] = {}
    for name in _Times.__struct_fields__:
        try:
            got[name] = msgspec.json.decode(members[name]) if name in members else None
        except msgspec.DecodeError:
            got[name] = None
    return _Times(**got)
