"""GitLab: audit events, API/production request logs, and webhooks (``object_kind``).

Input: one JSON object, an array, or NDJSON. Kinds of record, told apart by their keys:
- audit events: the streaming/API shape (``author_id``, ``entity_type``, ``event_type``,
  ``details``, ``target_*``, ``ip_address``, ``created_at``), the ``audit_json.log`` lines
  (``time``, ``change``/``from``/``to``), and a bare ``details``/``detail`` object (the shape
  Panther's GitLab.Audit tests use);
- request logs (``api_json.log``/``production_json.log``: ``method``, ``path``, ``params``
  as ``[{key, value}]``, ``status``, ``remote_ip``, ``ua``, ``username``);
- webhooks, by ``object_kind``: push, tag_push, merge_request, pipeline, deployment,
  vulnerability (mapped specifically) and every other kind (issue, note, build, release, ...) generically;
- REST API pipelines and jobs (``GET /projects/:id/pipelines``, ``/jobs``: no ``object_kind``, told
  by their ``web_url``), mapped as the pipeline and job webhooks: see :mod:`._gitlab_api`;
- system hooks, by ``event_name`` (project/user/group/key events, ``user_failed_login``,
  ``repository_update``): see :mod:`._gitlab_system`; the push and tag_push system hooks are the
  webhook shapes with ``event_name`` and no ``object_kind``, mapped as those webhooks;
- ``auth_json.log`` lines (``message`` ``Rack_Attack``, ``env`` the Rack::Attack match type:
  a request blocklisted, throttled or tracked) and ``application_json.log`` lines (``severity``,
  ``time``, ``message``, LabKit's ``meta.*`` context), the last kind tried; GitLab's other JSON logs
  ("Log system": a Rails ``severity`` word and ``time``, with a ``message`` or not, as
  integrations_json, git_json, sidekiq, exceptions_json, features_json write them; its Go services'
  ``level``, ``msg`` and ``time``: gitlab-shell, Gitaly, Workhorse, Pages) are read as such lines.
  ``production_json.log``'s ActionCable lines (no ``method`` or ``path``: a ``controller`` channel and
  its ``action``) are request logs too.
Webhook payload shapes follow GitLab's "Webhook events" documentation; the test payloads
for them were written from those docs (no GitLab instance runs here).

OCSF classes (why):
- sign-ins' audit events (details ``failed_login``: the method that failed, ``event_type``
  ``login_failed_with_standard_authentication``...; details ``with``: the method a user signed in
  with; both at the top of an ``audit_json.log`` line) -> Authentication (3002) Logon, Failure / Success, the user (a failed one's the name tried),
  the address, the method as ``auth_protocol`` (``two-factor...`` MFA): see :func:`_audit_login`;
- other audit events and request logs -> API Activity (6003): an action a user took through
  GitLab's UI/API on an entity; ``api.operation`` = event_type (or the custom message /
  change / ``add <what>`` / ``remove <what>`` of older details, or ``METHOD route``; a change is an
  Update), ``message`` = the details' ``custom_message`` when it is text, ``actor.user`` = author (``author_email`` its email;
  a deploy key or deploy token acting, GitLab's author id -3 / -2 and ``details.author_class`` ``DeployKey`` /
  ``DeployToken``, is no user: ``actor.user`` is the key's title with type Other (99) ``Deploy Key`` / ``Deploy Token``,
  as OCSF gives a principal none of its user types names, and no uid: GitLab's id there marks the kind, not the key),
  ``src_endpoint.ip``, ``resources``
  = entity and target; request logs add ``http_request`` and the HTTP status (>= 400 is a
  Failure); activity from the HTTP method or the event verb (``repository_git_operation``:
  from its ``custom_message`` Git service or verb: upload-pack/pull Read, receive-pack/push Update;
  ``repository_download_operation``, the UI's archive download, alike: Read;
  GitLab 14.x streamed these without ``event_type``: a ``custom_message`` object naming a Git
  service makes the event a ``repository_git_operation`` all the same).
- push, tag_push, merge_request and other webhooks -> API Activity (as GitHub's).
- pipeline -> Scheduled Job Activity (1006): a CI pipeline is a job run by GitLab's
  scheduler; status success -> Success, failed/canceled -> Failure; ``job.run_state`` from
  the pipeline status (the OCSF caption of ``run_state_id``); ``metadata.correlation_uid`` = pipeline id.
  A job hook (``object_kind`` ``build``: one CI job of a pipeline, its fields at the top) is
  Scheduled Job Activity alike, as GitHub's ``workflow_job``: ``job.name`` the job's
  ``build_name``, ``job.desc`` its stage and pipeline, status and run state from ``build_status``
  (``build_failure_reason`` stays in unmapped), created/started times, ``duration``, and the
  pipeline id as ``metadata.correlation_uid`` (the job's events join its pipeline's).
- ``auth_json.log`` -> HTTP Activity (4002): the request Rack::Attack acted on (method's
  activity, path and query, client, user where known), its match type as ``action`` /
  ``disposition`` (blocklist and throttle Denied / Blocked, track Observed / Logged, safelist
  Allowed), ``severity`` the GitLab severity.
- ``application_json.log``: the sign-in lines SessionsController writes (``Successful Login:
  username=U ip=A method=M admin=B``, ``Failed Login: ...``, ``User Logout: ...``) ->
  Authentication (3002) Logon / Logoff with the status, user (an admin ``type_id`` Admin), address
  and method (``two-factor...`` is MFA); every other line (``User "u" (mail) was created``,
  ``Project "p" was deleted``, a worker's message) -> Base Event (0): a free-text application
  message names no action OCSF could class reliably; ``meta.user``/``meta.user_id`` the actor.
  Both keep ``correlation_id`` as ``metadata.correlation_uid`` and the ``meta.*`` context in
  ``unmapped``. A Go service's line has its ``level`` as the severity, ``msg`` as the message and
  the ``username``/``user_id`` it names as the actor.
- Workhorse's and Pages' access log lines (``msg`` access: ``method``, ``uri``, ``status``,
  ``remote_ip``, ``host``, ``proto``, ``user_agent``, ``written_bytes``, ``duration_ms``) -> HTTP
  Activity (4002): the method's activity, path and query, client, the host that answered and its
  port, the status (400 and above a Failure), the bytes written, the duration.
- project and group access token hooks (``object_kind`` ``access_token``, ``event_name``
  ``expiring_access_token``; ``deploy_token`` alike) -> API Activity, activity Other: GitLab tells
  a token expires soon; the project or group and the token as ``resources``, the expiry date in
  the ``message``, the receipt time (the token's ``created_at`` is not the notice's time). A hook that
  names no user (these, release, milestone) has GitLab as ``actor.app_name``.
- deployment -> Application Lifecycle (6002) Install, with ``app`` = project at the
  deployed commit and the environment as ``app.feature.name``.
- vulnerability (GitLab 17.7+: a vulnerability created or its state changed) -> Vulnerability
  Finding (2002): ``finding_info.uid`` = the vulnerability's URL, ``types`` = its report type,
  the CVE (an identifier of ``external_type`` cve) and the other identifiers, the package,
  version and file of its location, severity from GitLab's word, status from its state
  (detected New, confirmed In Progress, dismissed Suppressed, resolved Resolved) and activity
  Create (detected), Close (dismissed, resolved) or Update. CVSS entries carry a vector and no
  score (OCSF ``cvss`` requires one): they stay in ``unmapped`` and ``raw_data``.
OCSF conformance: API Activity requires ``src_endpoint``; webhooks and some audit events carry
no caller address, and none names the device type, so every GitLab API Activity has
``src_endpoint.type_id`` 0 Unknown (plus the IP where the record gives one).
Times: ``created_at``/``time``/``finished_at``/``status_changed_at`` (a webhook of another
kind: its ``object_attributes``' update or creation time, else a job hook's
``build_finished_at``/``build_started_at``/``build_created_at``, else a release's top-level
``created_at``) in any of GitLab's
formats (ISO, ``YYYY-MM-DD hh:mm:ss UTC``, ``+0200`` offsets) or as an epoch number (seconds, or ms
past 1e10: the record decoded by msgspec, the native walk declines it); records without one get the
receipt time (labelled). A JSON object of none of these shapes is dead-lettered.

Performance: a batch of 64 or more records that are all webhooks is walked by the native
extension; smaller or mixed batches, and any batch the walker declines, are decoded with
msgspec. Either way webhooks are mapped column by column by the one mapping in
``_gitlab_native`` (same batches, tested both ways); audit events and request logs are
mapped here, one comprehension per column.
"""

from __future__ import annotations

import itertools
import operator
import re
import sys
from typing import Any

import msgspec

from secpipe.formats import _cicd as c
from secpipe.formats import _fast, _gitlab_api, _gitlab_native, _gitlab_system
from secpipe.formats.base import DeadLetter, Decoded, RecordFormat, Records, TimeField, const

_NO_RAW = msgspec.Raw(b"")


class _User(msgspec.Struct, gc=False):
    id: Any = None
    name: str | None = None
    username: str | None = None
    email: str | None = None


class _Project(msgspec.Struct, gc=False):
    id: Any = None
    name: str | None = None
    path_with_namespace: str | None = None
    web_url: str | None = None
    visibility_level: int | None = None


class _Attrs(msgspec.Struct, gc=False):
    id: Any = None
    iid: Any = None
    name: str | None = None
    title: str | None = None
    state: str | None = None
    action: str | None = None
    status: str | None = None
    ref: str | None = None
    sha: str | None = None
    source: str | None = None
    source_branch: str | None = None
    target_branch: str | None = None
    url: str | None = None
    created_at: TimeField = None
    updated_at: TimeField = None
    finished_at: TimeField = None
    duration: float | None = None


class _Details(msgspec.Struct, gc=False):
    custom_message: msgspec.Raw = _NO_RAW
    author_name: str | None = None
    target_id: int | str | None = None
    target_type: str | None = None
    target_details: msgspec.Raw = _NO_RAW
    ip_address: str | None = None
    entity_path: str | None = None
    change: str | None = None
    event_name: str | None = None
    # the AuditEventService's details before event_type: ``add``/``remove`` name what was added or
    # removed (``{"add": "group"}``, ``{"remove": "user_access"}``), ``change`` what changed (from/to)
    add: str | None = None
    remove: str | None = None
    author_email: str | None = None
    # who acted (GitLab 15.3+, Gitlab::Audit::Auditor): "User", or a non-user author's, "DeployKey", "DeployToken"
    author_class: str | None = None
    # a sign-in's audit event: ``failed_login`` the method that failed (``STANDARD``, ``OTP``, a provider),
    # ``with`` the one that succeeded (``standard``, ``two-factor``, ``two-factor-via-webauthn-device``, a provider)
    failed_login: msgspec.Raw = _NO_RAW
    with_: msgspec.Raw = msgspec.field(default=_NO_RAW, name="with")


_NO_DETAILS = _Details()


class _Rec(msgspec.Struct, gc=False):
    object_kind: str | None = None
    event_name: str | None = None
    action: str | None = None  # webhooks that name it at the top (release, milestone)
    # audit
    id: int | str | None = None
    author_id: int | str | None = None
    author_name: str | None = None
    entity_id: int | str | None = None
    entity_type: str | None = None
    entity_path: str | None = None
    event_type: str | None = None
    target_id: int | str | None = None
    target_type: str | None = None
    target_details: msgspec.Raw = _NO_RAW
    # an ``audit_json.log`` sign-in's method at the top (the API and streaming put it in ``details``)
    failed_login: msgspec.Raw = _NO_RAW
    with_: msgspec.Raw = msgspec.field(default=_NO_RAW, name="with")
    ip_address: str | None = None
    change: str | None = None
    details: _Details | None = None
    detail: _Details | None = None
    created_at: str | int | float | None = None
    time: str | int | float | None = None
    # request logs
    method: str | None = None
    path: str | None = None
    route: str | None = None
    status: int | str | None = None
    remote_ip: str | None = None
    ua: str | None = None
    user_id: int | str | None = None
    username: str | None = None
    correlation_id: str | None = None
    params: msgspec.Raw = _NO_RAW
    # application_json.log / auth_json.log lines (any type: other records may hold these keys)
    severity: Any = None
    message: Any = None
    env: Any = None
    request_method: Any = None
    # the Go services' JSON logs (gitlab-shell, Gitaly, Workhorse, Pages: logrus through LabKit)
    level: Any = None
    msg: Any = None
    controller: Any = None  # production_json.log: the Rails controller (or an ActionCable channel)
    # webhooks
    user: _User | None = None
    user_name: str | None = None
    user_username: str | None = None
    user_email: str | None = None  # push and tag push hooks name the pusher at the top
    project: _Project | None = None
    object_attributes: _Attrs | None = None
    ref: str | None = None
    before: str | None = None
    after: str | None = None
    checkout_sha: str | None = None
    total_commits_count: int | None = None
    deployment_id: int | str | None = None
    environment: str | None = None
    short_sha: str | None = None
    status_changed_at: TimeField = None
    build_created_at: TimeField = None  # job ("build") hooks: times at the top, no object_attributes
    build_started_at: TimeField = None
    build_finished_at: TimeField = None
    build_name: str | None = None
    build_stage: str | None = None
    build_status: str | None = None
    build_duration: float | None = None
    pipeline_id: int | str | None = None
    web_url: Any = None  # REST API pipelines and jobs (any type: another record may hold the key)


_REC = msgspec.json.Decoder(_Rec)
_METHOD_ACTIVITY = {"POST": 1, "PUT": 3, "PATCH": 3, "GET": 2, "HEAD": 2, "DELETE": 4}
_PIPE_STATE = {"created": 1, "waiting_for_resource": 1, "preparing": 1, "pending": 2, "running": 3, "success": 4,
               "failed": 4, "canceled": 4, "skipped": 4, "manual": 1, "scheduled": 1}  # fmt: skip
_RUN_STATE_CAPTION = {1: "Ready", 2: "Queued", 3: "Running", 4: "Stopped"}  # OCSF job.run_state_id


def hook_class(kind: str, has_attributes: bool) -> str:
    """The OCSF class of a webhook of ``kind`` (``has_attributes``: it holds ``object_attributes``)."""
    if kind == "pipeline" and has_attributes or kind == "build":
        return "scheduled_job_activity"
    if kind == "vulnerability" and has_attributes:
        return "vulnerability_finding"
    return "application_lifecycle" if kind == "deployment" else "api_activity"


def run_state(status: str | None) -> str | None:
    """``job.run_state``: the OCSF caption of the status's ``run_state_id``; GitLab's own word
    where it maps to 99 Other (the word is also ``status_detail``)."""
    return _RUN_STATE_CAPTION.get(_PIPE_STATE.get(status or "", 99), status)


_PIPE_ACTIVITY = {"created": 1, "pending": 1, "waiting_for_resource": 1, "preparing": 1, "running": 6}
_OK = {"success": 1, "failed": 2, "canceled": 2, "running": 0, "pending": 0}
#: a webhook's ``action`` -> activity (merge requests' words; an emoji hook's ``award`` adds a reaction,
#: its ``revoke`` removes one: verb_activity reads the other kinds' create/update/delete words)
_MR_ACTIVITY = {"open": 1, "reopen": 1, "close": 3, "merge": 3, "update": 3, "approved": 3, "unapproved": 3,
                "approval": 3, "unapproval": 3, "award": 1, "revoke": 4}  # fmt: skip
#: the activity of a kind whose hook names no action: a feature flag hook is sent when the flag is turned on or off
_KIND_ACTIVITY = {"feature_flag": 3}


_SYSTEM_PUSH = frozenset({"push", "tag_push"})
#: a REST API pipeline's or job's own link, as JSON text (``"web_url": "https://h/g/p/-/jobs/7"``)
_API_LINK = re.compile(rb'"web_url"\s*:\s*"https?://[^"]+?/(?:pipelines|jobs)/\d+/?"')


def _kind(r: _Rec) -> str | None:
    if r.object_kind or r.event_name in _SYSTEM_PUSH and r.project is not None:
        return "hook"  # a push/tag system hook is the webhook shape named by event_name alone
    if r.event_name in _gitlab_system.EVENTS:
        return "system"
    if r.author_id is not None or r.entity_type or r.event_type or r.details is not None or r.detail is not None:
        return "audit"
    if r.message == "Rack_Attack" and type(r.env) is str:
        return "rack_attack"
    if r.msg == "access" and type(r.method) is str and r.time is not None and type(r.level) is str:
        return "go_access"  # Workhorse's and Pages' access log lines
    if r.path is not None and (len(r.params) > 0 or r.method is not None) or (
            type(r.controller) is str and r.status is not None and len(r.params) > 0):  # fmt: skip
        return "request"  # (an ActionCable line of production_json.log has no method or path: a channel's)
    if r.time is not None and (type(r.severity) is str and (type(r.message) is str or r.severity.upper() in _SEVERITY)
                               or type(r.level) is str and type(r.msg) is str and r.level.upper() in _SEVERITY):  # fmt: skip
        return "app"
    if type(r.web_url) is str and type(r.status) is str and r.id is not None:
        return _gitlab_api.kind(r.web_url)  # a REST API pipeline or job
    return None


#: keys of a GitLab audit event beside its ``custom_message`` (streamed, REST API or Panther's): the sniff's check
_AUDIT_KEYS = (b'"author_name"', b'"author_id"', b'"entity_path"', b'"entity_type"', b'"target_details"')


class GitLab(RecordFormat):
    """GitLab audit events, request logs and webhooks."""

    name = "gitlab"
    description = ("GitLab audit events, api_json/production_json request logs, auth_json/application_json logs, "
                   "webhooks (push, merge_request, pipeline, deployment, ...)")
    framing = "document"
    product = "GitLab"
    vendor = "GitLab"

    def sniff(self, head: bytes) -> int:
        """``object_kind`` webhooks, audit events, request-log lines with key/value params."""
        h = head[:65536]
        if b'"object_kind"' in h and (b'"project"' in h or b'"object_attributes"' in h or b'"user_username"' in h):
            return 92
        if b'"author_id"' in h and b'"entity_type"' in h:
            return 88
        if any(k in h for k in _gitlab_system.HINTS):
            return 85
        if (b'"custom_message"' in h and any(k in h for k in _AUDIT_KEYS)) or (b'"target_details"' in h and b'"detail' in h):
            return 70  # an audit event's details.custom_message (OneLogin's events have one too, with none of these)
        if b'"params"' in h and b'"path"' in h and b'"key"' in h and b'"value"' in h:
            return 65
        if b'"message"' in h and (b'"Rack_Attack"' in h or b'"meta.feature_category"' in h or b'"meta.caller_id"' in h):
            return 60  # auth_json.log, application_json.log (LabKit's meta.* context)
        if b'"web_url"' in h and b'"status"' in h and _API_LINK.search(h):
            return 60  # REST API pipelines and jobs
        if b'"service_class"' in h and b'"project_path"' in h or b'"gl_project_path"' in h or b'"grpc.request.glProjectPath"' in h:
            return 60  # integrations_json.log; gitlab-shell's and Gitaly's logs of Git commands
        if b'"correlation_id"' in h and b'"time"' in h and (b'"severity"' in h or b'"level"' in h and b'"msg"' in h):
            return 40  # GitLab's other JSON logs: LabKit's correlation_id beside a Rails severity or a Go level
        return 0

    @c.gc_paused
    def map_records(self, recs: Records) -> Decoded:
        """Map each record by kind; unknown shapes are dead-lettered.

        A large batch of webhooks only is walked natively (:func:`_gitlab_native.decode_hooks`);
        in a mixed batch the webhooks (records holding ``"object_kind"``) are, when there are
        enough of them, and the other records are decoded with msgspec. Batches come in order of
        their group's first record either way, and hooks are never dead letters on the native
        path (it declines a batch with a record msgspec would refuse), so the output is the same.
        """
        out = Decoded(dead=list(recs.dead), events=recs.events)
        if not recs.raws:
            return out
        native = _gitlab_native.decode_hooks(recs.raws, lambda: _tops(recs.raws))
        if native is not None:  # a large batch of webhooks only: walked natively, mapped by column
            out.batches.extend(self._hooks_batch(h, recs.raws) for h in native)
            return out
        if (mixed := self._mixed(recs, out)) is not None:
            return mixed
        idx, typed, tops, groups = self._groups(recs, out)
        for key, members in groups.items():
            out.batches.append(self._group_batch(key, members, recs.raws, idx, typed, tops))
        return out

    def _mixed(self, recs: Records, out: Decoded) -> Decoded | None:
        """A mixed batch's webhooks walked natively and the rest decoded with msgspec, or None
        (too few webhooks, the walker declines them, or a group of the rest has the key of a
        webhook group: a system push hook named by ``event_name`` alone)."""
        n = len(recs.raws)
        hooks = list(itertools.compress(range(n), map(operator.contains, recs.raws, itertools.repeat(b'"object_kind"'))))
        if not _gitlab_native.MIN_BATCH <= len(hooks) < n or not _fast.available():
            return None
        sub = [recs.raws[i] for i in hooks]
        native = _gitlab_native.decode_hooks(sub, lambda: _tops(sub))
        if native is None:
            return None
        taken = set(hooks)
        rest_at = [i for i in range(n) if i not in taken]
        rest = Records([recs.raws[i] for i in rest_at], [recs.locs[i] for i in rest_at])
        scratch = Decoded()
        idx, typed, tops, groups = self._groups(rest, scratch)
        if groups.keys() & {(h.cls, h.kind) for h in native}:
            return None
        out.dead.extend(scratch.dead)
        firsts = [(hooks[int(h.rows[0])], self._hooks_batch(h, sub)) for h in native]
        firsts += [(rest_at[idx[members[0]]], self._group_batch(key, members, rest.raws, idx, typed, tops))
                   for key, members in groups.items()]  # fmt: skip
        out.batches.extend(b for _first, b in sorted(firsts, key=operator.itemgetter(0)))
        return out

    def _groups(self, recs: Records, out: Decoded) -> tuple[list[int], list[_Rec], list[dict[str, msgspec.Raw]],
                                                             dict[tuple[str, str], list[int]]]:  # fmt: skip
        """Records decoded with msgspec and grouped by (class, kind) in order of first appearance
        (positions into the decoded records); unknown shapes are dead-lettered."""
        idx, typed, tops = c.decode_batch(recs, _Rec, "a GitLab record", out, self.name)
        groups: dict[tuple[str, str], list[int]] = {}
        for n, r in enumerate(typed):
            kind = _kind(r)
            if kind is None:
                src, off = recs.locs[idx[n]]
                out.dead.append(DeadLetter(
                    "not a GitLab audit event (author_id/entity_type/details), request log (method/path), "
                    "webhook (object_kind), system hook (event_name), REST API pipeline or job (status + its "
                    "web_url) nor auth/application log line (severity/time/message)", src, off, recs.raws[idx[n]], self.name))  # fmt: skip
                continue
            if kind == "hook":
                kind = r.object_kind or r.event_name or ""
                cls = hook_class(kind, r.object_attributes is not None)
            elif kind == "system":
                cls = "authentication" if r.event_name == "user_failed_login" else "api_activity"
            elif kind == "app":
                cls = "authentication" if type(r.message) is str and _LOGIN.match(r.message) else "base_event"
            elif kind in ("rack_attack", "go_access"):
                cls = "http_activity"
            elif kind in ("api_pipeline", "api_job"):
                cls = "scheduled_job_activity"
            elif kind == "audit" and _sign_in(r) is not None:
                cls, kind = "authentication", "audit_login"
            else:
                cls = "api_activity"
            g = groups.get((cls, kind))
            if g is None:
                g = groups[(cls, kind)] = []
            g.append(n)
        return idx, typed, tops, groups

    def _group_batch(self, key: tuple[str, str], members: list[int], raws: list[bytes], idx: list[int],
                     typed: list[_Rec], tops: list[dict[str, msgspec.Raw]]) -> Any:  # fmt: skip
        """One group of msgspec-decoded records mapped column by column."""
        cls, kind = key
        rs = [typed[n] for n in members]
        ts = [tops[n] for n in members]
        mapper = {"audit": _audit, "audit_login": _audit_login, "request": _request, "system": _system, "app": _app,
                  "rack_attack": _rack_attack, "go_access": _go_access, "api_pipeline": _api,
                  "api_job": _api}.get(kind, _hook)  # fmt: skip
        cols, times, acts = mapper(rs, ts, cls, kind)
        return self._batch(cls, raws, [idx[n] for n in members], cols, times, acts)

    def _batch(self, cls: str, raws: list[bytes], rows: list[int], cols: dict[str, Any], times: Any, acts: Any,
               raw_data: Any = None, uids: Any = None) -> Any:  # fmt: skip
        severity = cols.pop("severity_id", 1)  # a finding's own; every other GitLab record is Informational
        return c.leaves_batch(cls, kind=self.name, product=self.product, vendor=self.vendor,
                              raws=[raws[i] for i in rows] if raw_data is None or uids is None else (), times=times,
                              activity=acts, severity=severity, columns=_endpoint(cls, cols, len(times)),
                              raw_data=raw_data, uids=uids)  # fmt: skip

    def _hooks_batch(self, h: _gitlab_native.Hooks, raws: list[bytes]) -> Any:
        """The batch of one group of walked webhooks (its raw_data and uids made in the walk)."""
        return self._batch(h.cls, raws, h.rows.tolist(), h.leaves, h.times, h.acts, h.raw, h.uids)


Columns = tuple[dict[str, Any], Any, Any]  # leaves, times (list or Arrow), activity ids (list, Arrow or one int)


def _endpoint(cls: str, cols: dict[str, Any], n: int) -> dict[str, Any]:
    """``cols`` with ``src_endpoint.type_id`` 0 Unknown for API Activity (OCSF requires
    ``src_endpoint``; GitLab gives an address at most, never the kind of device)."""
    if cls == "api_activity":
        cols["src_endpoint.type_id"] = [0] * n
        cols["src_endpoint.type"] = ["Unknown"] * n
    return cols


_AUDIT_MAPPED = frozenset({
    "id", "author_id", "author_name", "entity_id", "entity_type", "entity_path", "event_type", "target_id", "target_type",
    "target_details", "ip_address", "created_at", "time",
})  # fmt: skip


def _text(v: Any) -> str | None:
    """A string value as is, any other JSON value (raw) as compact JSON text."""
    if type(v) is str:
        return v or None
    if v is None:
        return None
    if isinstance(v, msgspec.Raw):
        if not v:
            return None
        raw = bytes(v)
        if raw[:1] == b'"':
            return _text(msgspec.json.decode(raw))
        return None if raw == b"null" else raw.decode()
    return v if isinstance(v, str) else msgspec.json.encode(v).decode()


def _sentence(v: Any) -> str | None:
    """A ``custom_message`` that is text (an object, as Git operations write, is none)."""
    return _text(v) if type(v) is str or isinstance(v, msgspec.Raw) and bytes(v)[:1] == b'"' else None


#: GitLab's authors that are credentials, not users (``Gitlab::Audit::NullAuthor.for``: author id -2 a deploy token's,
#: -3 a deploy key's; ``details.author_class`` names them too) -> OCSF ``user.type`` (type_id 99 Other)
_CREDENTIAL_AUTHORS = {"DeployKey": "Deploy Key", "DeployToken": "Deploy Token"}
_CREDENTIAL_IDS = {"-3": "DeployKey", "-2": "DeployToken"}


def _credential(author_id: str | None, d: _Details) -> str | None:
    """The OCSF ``user.type`` of an audit event's author that is a deploy key or token, else None."""
    if d.author_class is not None:
        return _CREDENTIAL_AUTHORS.get(d.author_class)
    return _CREDENTIAL_AUTHORS.get(_CREDENTIAL_IDS.get(author_id or "", ""))


def _audit(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    ds = [r.details or r.detail or _NO_DETAILS for r in rs]
    # GitLab 14.x streamed Git operations without ``event_type`` (it came in 15.0): their
    # ``custom_message`` object names the Git service, and they are repository_git_operation events
    types = [r.event_type or ("repository_git_operation" if _git_activity(d.custom_message, objects_only=True) != 99 else None)
             for r, d in zip(rs, ds, strict=True)]  # fmt: skip
    # (audit_json.log lines with neither event nor change, such as a sign-in ``with`` a method, name
    # the controller action that wrote them in ``meta.caller_id``)
    ops = [e or d.event_name or _text(d.custom_message) or r.change or d.change
           or (d.add and f"add {d.add}") or (d.remove and f"remove {d.remove}") or _text(t.get("meta.caller_id"))
           for r, d, t, e in zip(rs, ds, tops, types, strict=True)]  # fmt: skip
    sid, res = c.sid, c.resource
    uids = [sid(r.author_id) for r in rs]
    keys = [_credential(u, d) for u, d in zip(uids, ds, strict=True)]
    cols = {
        "api.operation": ops,
        "api.service.name": const("GitLab", len(rs)),
        # the sentence GitLab shows for the event ("Repository Download Started", "Added merge request")
        "message": [_sentence(d.custom_message) for d in ds],
        "metadata.event_code": [r.event_type for r in rs],
        "metadata.original_event_uid": [sid(r.id) for r in rs],
        # (an unnamed deploy key is "Deploy Key", as GitLab's DeployKeyAuthor names it)
        "actor.user.name": [r.author_name or d.author_name or k for r, d, k in zip(rs, ds, keys, strict=True)],
        "actor.user.uid": [None if k else u for u, k in zip(uids, keys, strict=True)],
        "actor.user.email_addr": [d.author_email for d in ds],
        "src_endpoint.ip": [r.ip_address or d.ip_address or _text(t.get("meta.remote_ip"))
                            for r, d, t in zip(rs, ds, tops, strict=True)],  # fmt: skip
        "resources": [c.compact([
            res(r.entity_type or "entity", r.entity_path or d.entity_path, r.entity_id),
            res(r.target_type or d.target_type or "target", _text(r.target_details) or _text(d.target_details), r.target_id or d.target_id),
        ]) for r, d in zip(rs, ds, strict=True)],  # fmt: skip
        "unmapped": c.unmapped_rest(tops, _AUDIT_MAPPED),
    }
    if any(keys):  # a deploy key or token acted: a principal of none of OCSF's user types
        cols["actor.user.type_id"] = [99 if k else None for k in keys]
        cols["actor.user.type"] = keys
    times = [c.first_time(r.created_at, r.time) for r in rs]
    acts = [3 if not r.event_type and op is not None and op == (r.change or d.change) else  # what changed: Update
            _audit_activity(r.event_type, op if not r.event_type else _text(d.custom_message))
            for r, d, op in zip(rs, ds, ops, strict=True)]  # fmt: skip
    for n, (d, e) in enumerate(zip(ds, types, strict=True)):
        if e in _GIT_EVENTS:  # a clone/fetch/download reads, a push updates
            acts[n] = _git_activity(d.custom_message)
    return cols, times, acts


def _sign_in(r: _Rec) -> tuple[bool, str] | None:
    """(failed, method) of a sign-in's audit event (its details' ``failed_login`` or ``with``; an
    ``audit_json.log`` line's at its top), else None."""
    d = r.details or r.detail or _NO_DETAILS
    failed = _text(d.failed_login) or _text(r.failed_login)
    if failed:
        return True, failed
    ok = _text(d.with_) or _text(r.with_)
    return (False, ok) if ok else None


def _audit_login(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """Sign-ins' audit events (``AuditEventService.for_authentication``, the
    ``UnauthenticatedSecurityEventAuditor``'s failed logins: ``event_type``
    ``login_failed_with_standard_authentication``...) -> Authentication Logon: Failure for a
    ``failed_login`` (the user is the name tried: ``author_name``, ``target_details``), Success
    for a ``with`` (the author); the method as ``auth_protocol`` (a ``two-factor...`` one MFA),
    the address, ``custom_message`` (``STANDARD login failed``) as ``status_detail``."""
    ds = [r.details or r.detail or _NO_DETAILS for r in rs]
    signs = [_sign_in(r) or (False, None) for r in rs]
    failed = [f for f, _m in signs]
    method = [m for _f, m in signs]
    sid = c.sid
    cols = {
        "user.name": [r.author_name or d.author_name or _text(r.target_details) or _text(d.target_details)
                      for r, d in zip(rs, ds, strict=True)],  # fmt: skip
        "user.uid": [None if sid(r.author_id) in (None, "-1") else sid(r.author_id) for r in rs],
        "src_endpoint.ip": [r.ip_address or d.ip_address or _text(t.get("meta.remote_ip"))
                            for r, d, t in zip(rs, ds, tops, strict=True)],  # fmt: skip
        "status_id": [2 if f else 1 for f in failed],
        "status": ["Failure" if f else "Success" for f in failed],
        "status_detail": [_text(d.custom_message) for d in ds],
        "is_mfa": [None if f or m is None else m.lower().startswith("two-factor") for f, m in zip(failed, method, strict=True)],
        "auth_protocol": method,
        "auth_protocol_id": [None if m is None else 99 for m in method],
        "service.name": const("GitLab", len(rs)),
        "metadata.event_code": [r.event_type for r in rs],
        "metadata.original_event_uid": [sid(r.id) for r in rs],
        "unmapped": c.unmapped_rest(tops, _AUDIT_MAPPED),
    }
    return cols, [c.first_time(r.created_at, r.time) for r in rs], [1] * len(rs)


def _audit_activity(event_type: str | None, op: str | None) -> int:
    """Activity of an audit event. GitLab's ``event_type`` names are ``<object>_<verb>``
    (``merge_request_create``, ``project_group_link_destroy``; audit event streaming examples) or,
    in older types, ``<verb>_<object>`` (``add_gpg_key``, ``delete_epic``): its last word, else its
    first. A ``custom_message`` (or other operation text) is a sentence that starts with its verb
    (``Added merge request``, ``Removed project group link``) or ends with it (``Project archived``):
    it tells the activity of a generic type (``audit_operation`` with ``Approved merge request``)
    and of events without a type."""
    verb = c.verb_activity
    if event_type:
        words = event_type.lower().split("_")
        act = verb(words[-1])
        if act == 99:
            act = verb(words[0])
        if act != 99:
            return act
    text = (op or "").replace(" ", "_")
    act = verb(text.split("_", 1)[0])
    return act if act != 99 else verb(text)  # or the past participle ending it: ``Project archived``


#: the audit event types of repository reads and writes: Git over SSH/HTTP, and (GitLab 15.1 on, merge
#: request 89350) the UI's archive download, ``custom_message`` "Repository Download Started"
_GIT_EVENTS = frozenset({"repository_git_operation", "repository_download_operation"})

#: ``repository_git_operation`` audit events: the Git service (SSH/HTTP ``action``) or ``verb`` -> activity
_GIT_OPERATION = {"git-upload-pack": 2, "git-upload-archive": 2, "git-receive-pack": 3, "pull": 2, "clone": 2,
                  "fetch": 2, "push": 3, "archive": 2, "download": 2}  # fmt: skip


def _git_activity(message: msgspec.Raw, *, objects_only: bool = False) -> int:
    """Activity of a Git operation from its ``custom_message`` object (99 Other when it names none;
    ``objects_only``: a text message, which other events write too, names none)."""
    raw = bytes(message) if message else b""
    if raw[:1] == b'"' and not objects_only:  # the UI's "Repository Download Started": its Git verb among its words
        words = str(msgspec.json.decode(raw)).lower().split()
        return next((a for w in words if (a := _GIT_OPERATION.get(w, 99)) != 99), 99)
    if raw[:1] != b"{":
        return 99
    try:  # the two members read alone: another holding a number beyond float64 (1e400) raised out of the decode
        msg = _GIT_MESSAGE.decode(raw)
    except msgspec.DecodeError:  # action or verb so written: it names none
        return 99
    return _GIT_OPERATION.get(str(msg.action or msg.verb or "").lower(), 99)


class _GitMessage(msgspec.Struct, gc=False):
    action: Any = None
    verb: Any = None


_GIT_MESSAGE = msgspec.json.Decoder(_GitMessage)


def _system(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """System hook events (:mod:`._gitlab_system`)."""
    return (_gitlab_system.auth_columns if cls == "authentication" else _gitlab_system.api_columns)(tops)


def _api(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """REST API pipelines and jobs (:mod:`._gitlab_api`), with the webhooks' status tables."""
    return _gitlab_api.columns(tops, kind, sys.modules[__name__])


def _first_ip(value: str | None) -> str | None:
    """The client address of a ``remote_ip`` that may list proxies after it (comma-separated)."""
    return value.split(",", 1)[0].strip() or None if value else None


_REQ_MAPPED = frozenset({"method", "path", "route", "status", "remote_ip", "ua", "user_id", "username", "correlation_id", "time"})


def _http_status(status: list[int | None]) -> dict[str, list[Any]]:
    """``status_code``, ``status_id`` and ``status`` of HTTP status codes (400 and above a Failure)."""
    failed = [s is not None and s >= 400 for s in status]
    return {
        "status_code": [c.sid(s) for s in status],
        "status_id": [None if s is None else (2 if f else 1) for s, f in zip(status, failed, strict=True)],
        "status": [None if s is None else ("Failure" if f else "Success") for s, f in zip(status, failed, strict=True)],
    }


def _request(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    status = [r.status if isinstance(r.status, int) else None for r in rs]
    cols = {
        "api.operation": [r.route or (f"{r.method} {r.path}" if r.method else r.path)
                          or (f"{r.controller}#{r.action}" if type(r.controller) is str else None) for r in rs],  # fmt: skip
        "api.service.name": const("GitLab", len(rs)),
        "api.request.uid": [r.correlation_id for r in rs],
        "http_request.http_method": [r.method for r in rs],
        "http_request.url.path": [r.path for r in rs],
        "http_request.user_agent": [r.ua for r in rs],
        # remote_ip lists the client then the proxies it came through ("81.2.69.144, 127.0.0.1")
        "src_endpoint.ip": [_first_ip(r.remote_ip) for r in rs],
        "actor.user.name": [r.username for r in rs],
        "actor.user.uid": [c.sid(r.user_id) for r in rs],
        **_http_status(status),
        "unmapped": c.unmapped_rest(tops, _REQ_MAPPED),
    }
    iso = c.iso_ms
    return cols, [iso(r.time) for r in rs], [_METHOD_ACTIVITY.get((r.method or "").upper(), 99) for r in rs]


#: application_json.log's sign-in lines (SessionsController: ``Gitlab::AppLogger.info``)
_LOGIN = re.compile(
    r"(?:(?P<ok>Successful Login)|(?P<failed>Failed Login)|(?P<out>User Logout)): username=(?P<user>.*?) ip=(?P<ip>\S+)"
    r"(?: method=(?P<method>\S+))?(?: admin=(?P<admin>true|false))?$"
)
#: GitLab's (Ruby Logger's) severity words and its Go services' (logrus) levels -> OCSF severity_id, as
#: syslog's levels map
_SEVERITY = {"DEBUG": 1, "INFO": 1, "WARN": 3, "ERROR": 4, "FATAL": 6, "UNKNOWN": 0, "TRACE": 1, "WARNING": 3, "PANIC": 6}
_APP_MAPPED = frozenset({"severity", "time", "message", "correlation_id", "level", "msg"})
_APP_ACTOR = _APP_MAPPED | {"meta.user", "meta.user_id", "username", "user_id"}  # a Base Event's actor


def _app(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """``application_json.log`` lines (``severity``, ``time``, ``message``, LabKit's ``meta.*``
    context). Sign-ins (``Successful Login: username=U ip=A method=M admin=B``, ``Failed Login:
    username=U ip=A``, ``User Logout: ...``) are Authentication: Logon / Logoff, the status, the
    user (an admin's ``type_id`` Admin), the address; a ``two-factor...`` method is MFA. Every
    other line is a Base Event: the message, the severity, ``meta.user``/``meta.user_id`` as
    the actor. The request's ``correlation_id`` is ``metadata.correlation_uid``."""
    n = len(rs)
    meta_user = [_text(t.get("meta.user")) for t in tops]
    meta_uid = [_text(t.get("meta.user_id")) for t in tops]
    cols: dict[str, Any] = {
        "severity_id": [_SEVERITY.get(str(r.severity if type(r.severity) is str else r.level).upper(), 0) for r in rs],
        "message": [r.message if type(r.message) is str else r.msg if type(r.msg) is str and r.msg else None for r in rs],
        "metadata.correlation_uid": [r.correlation_id for r in rs],
        "unmapped": c.unmapped_rest(tops, _APP_MAPPED if cls == "authentication" else _APP_ACTOR),
    }
    times = [c.iso_ms(r.time) for r in rs]
    if cls != "authentication":  # the request's user (LabKit's meta.*), else the one a Go service names
        cols.update({"actor.user.name": [m or r.username for m, r in zip(meta_user, rs, strict=True)],
                     "actor.user.uid": [m or c.sid(r.user_id) for m, r in zip(meta_uid, rs, strict=True)]})  # fmt: skip
        return cols, times, 0
    ms = [_LOGIN.match(r.message) for r in rs]
    failed = [m is not None and m["failed"] is not None for m in ms]
    admin = [None if m is None or m["admin"] is None else m["admin"] == "true" for m in ms]
    method = [None if m is None else m["method"] for m in ms]
    cols.update({
        "user.name": [m["user"] if m else None for m in ms],
        "user.uid": [u if m and u and m["user"] == name else None for m, u, name in zip(ms, meta_uid, meta_user, strict=True)],
        "user.type_id": [None if a is None else 2 if a else 1 for a in admin],
        "user.type": [None if a is None else "Admin" if a else "User" for a in admin],
        "src_endpoint.ip": [(m["ip"] if m else None) or _text(t.get("meta.remote_ip")) for m, t in zip(ms, tops, strict=True)],
        "status_id": [2 if f else 1 for f in failed],
        "status": ["Failure" if f else "Success" for f in failed],
        "is_mfa": [None if v is None else v.startswith("two-factor") for v in method],
        "auth_protocol": method,
        "auth_protocol_id": [None if v is None else 99 for v in method],
        "service.name": const("GitLab", n),
    })  # fmt: skip
    return cols, times, [2 if m and m["out"] else 1 for m in ms]


#: Rack::Attack's match types (``rack.attack.match_type``) -> (action_id, action, disposition_id, disposition):
#: a blocklisted or throttled request is refused, a tracked one only logged, a safelisted one let through
_RACK = {"blocklist": (2, "Denied", 2, "Blocked"), "throttle": (2, "Denied", 2, "Blocked"),
         "track": (3, "Observed", 17, "Logged"), "safelist": (1, "Allowed", 1, "Allowed")}  # fmt: skip
_HTTP_ACTIVITY = {"CONNECT": 1, "DELETE": 2, "GET": 3, "HEAD": 4, "OPTIONS": 5, "POST": 6, "PUT": 7, "TRACE": 8, "PATCH": 9}
_RACK_MAPPED = frozenset({"severity", "time", "message", "correlation_id", "remote_ip", "request_method", "path",
                          "user_id", "username"})  # fmt: skip


def _rack_attack(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """``auth_json.log`` lines: GitLab's Rack::Attack log of a request it blocklisted, throttled or
    tracked (``message`` Rack_Attack, ``env`` the match type, ``matched`` the rule) -> HTTP
    Activity: the method's activity, the path and query, the client, the user where known, the
    match type as the action and disposition (``env`` and ``matched`` stay in ``unmapped``)."""
    methods = [str(r.request_method).upper() if type(r.request_method) is str else None for r in rs]
    parts = [(r.path or "").partition("?") for r in rs]
    rack = [_RACK.get(str(r.env), (99, "Other", 99, "Other")) for r in rs]
    cols: dict[str, Any] = {
        "severity_id": [_SEVERITY.get(str(r.severity).upper(), 0) for r in rs],
        "message": [r.message for r in rs],
        "http_request.http_method": methods,
        "http_request.url.path": [p[0] or None for p in parts],
        "http_request.url.query_string": [p[2] or None for p in parts],
        "src_endpoint.ip": [_first_ip(r.remote_ip) for r in rs],
        "actor.user.name": [r.username for r in rs],
        "actor.user.uid": [c.sid(r.user_id) for r in rs],
        "action_id": [a[0] for a in rack],
        "action": [a[1] for a in rack],
        "disposition_id": [a[2] for a in rack],
        "disposition": [a[3] for a in rack],
        "metadata.correlation_uid": [r.correlation_id for r in rs],
        "unmapped": c.unmapped_rest(tops, _RACK_MAPPED),
    }
    return cols, [c.iso_ms(r.time) for r in rs], [_HTTP_ACTIVITY.get(m or "", 0 if m is None else 99) for m in methods]


_ACCESS_MAPPED = frozenset({"level", "msg", "time", "method", "uri", "status", "remote_ip", "user_agent", "referrer", "proto",
                            "host", "written_bytes", "duration_ms", "content_type", "correlation_id"})  # fmt: skip


def _go_access(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """Workhorse's and Pages' access log lines (``msg`` access, LabKit's access logger: ``method``,
    ``uri``, ``status``, ``remote_ip``, ``host``, ``proto``, ``user_agent``, ``referrer``,
    ``written_bytes``, ``duration_ms``) -> HTTP Activity: the method's activity, the path and query,
    the client, the host that answered (its port), the status (400 and above a Failure), the bytes
    written, the duration; ``level`` the severity."""
    parts = [(_text(t.get("uri")) or "").partition("?") for t in tops]
    host = [(_text(t.get("host")) or "").rpartition(":") for t in tops]
    status = [r.status if type(r.status) is int else None for r in rs]
    methods = [str(r.method).upper() for r in rs]
    version = [_text(t.get("proto")) for t in tops]

    def number(t: dict[str, msgspec.Raw], key: str) -> int | None:
        raw = t.get(key)
        try:
            v = msgspec.json.decode(raw) if raw is not None else None
        except msgspec.DecodeError:
            return None
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) and -(2**63) < v < 2**63 else None

    cols: dict[str, Any] = {
        "severity_id": [_SEVERITY.get(str(r.level).upper(), 0) for r in rs],
        "message": [r.msg for r in rs],
        "http_request.http_method": methods,
        "http_request.url.path": [p[0] or None for p in parts],
        "http_request.url.query_string": [p[2] or None for p in parts],
        "http_request.user_agent": [_text(t.get("user_agent")) for t in tops],
        "http_request.referrer": [_text(t.get("referrer")) for t in tops],
        "http_request.version": [v.removeprefix("HTTP/") if v else None for v in version],
        "http_response.code": status,
        "http_response.length": [number(t, "written_bytes") for t in tops],
        "http_response.content_type": [_text(t.get("content_type")) for t in tops],
        "src_endpoint.ip": [_first_ip(r.remote_ip) for r in rs],
        "dst_endpoint.hostname": [(h[0] if h[1] and h[2].isdigit() else h[2]) or None for h in host],
        "dst_endpoint.port": [int(h[2]) if h[1] and h[2].isdigit() and int(h[2]) < 65536 else None for h in host],
        "duration": [number(t, "duration_ms") for t in tops],
        **_http_status(status),
        "metadata.correlation_uid": [r.correlation_id for r in rs],
        "unmapped": c.unmapped_rest(tops, _ACCESS_MAPPED),
    }
    return cols, [c.iso_ms(r.time) for r in rs], [_HTTP_ACTIVITY.get(m, 99) for m in methods]


_HOOK_COMMON = frozenset({"object_kind", "event_name", "user", "user_id", "user_name", "user_username", "user_email",
                          "user_avatar", "project", "project_id", "action"})  # fmt: skip


_PUSH_MAPPED = _HOOK_COMMON | {"ref", "after"}
_JOB_MAPPED = _HOOK_COMMON | {"build_name", "build_stage", "build_status", "build_created_at", "build_started_at",
                              "build_finished_at", "build_duration", "pipeline_id"}  # fmt: skip


def _hook(rs: list[_Rec], tops: list[dict[str, msgspec.Raw]], cls: str, kind: str) -> Columns:
    """Columns of one webhook kind: the one webhook mapping (``_gitlab_native.hook_columns``)
    over the decoded structs."""
    cols, times, acts = _gitlab_native.hook_columns(_gitlab_native.StructCols(rs), tops, cls, kind, sys.modules[__name__])
    return _gitlab_native.typed_leaves(cls, cols), times, acts


def _tops(raws: list[bytes]) -> list[dict[str, msgspec.Raw]] | None:
    """The records' top-level raw maps, one C call each (cheaper than joining them first; None
    when one is not a JSON object)."""
    try:
        return list(map(c.TOP.decode, raws))
    except msgspec.DecodeError:
        return None
