"""GitLab: audit events, API/production request logs, and webhooks (``object_kind``).

Input: one JSON object, an array, or NDJSON. Kinds of record, told apart by their keys:
- audit events: the streaming/API shape (``author_id``, ``entity_type``, ``event_type``,
  ``details``, ``target_*``, ``ip_address``, ``created_at``), the ``audit_json.log`` lines
  (``time``, ``change``/``from``/``to``), and a bare ``details``/``detail`` object (the shape
  Panther's GitLab.Audit tests use);
- request logs (``api_json.log``/``production_json.log``: ``method``, ``path``, ``params``
  as ``[{key, value}]``, ``status``, ``remote_ip``, ``ua``, ``username``);
- webhooks, by ``object_kind``: push, tag_push, merge_request, pipeline, deployment
  (mapped specifically) and every other kind (issue, note, build, release, ...) generically.
Webhook payload shapes follow GitLab's "Webhook events" documentation; the test payloads
for them were written from those docs (no GitLab instance runs here).

OCSF classes (why):
- audit events and request logs -> API Activity (6003): an action a user took through
  GitLab's UI/API on an entity; ``api.operation`` = event_type (or the custom message /
  change, or ``METHOD route``), ``actor.user`` = author, ``src_endpoint.ip``, ``resources``
  = entity and target; request logs add ``http_request`` and the HTTP status (>= 400 is a
  Failure); activity from the HTTP method or the event verb.
- push, tag_push, merge_request and other webhooks -> API Activity (as GitHub's).
- pipeline -> Scheduled Job Activity (1006): a CI pipeline is a job run by GitLab's
  scheduler; status success -> Success, failed/canceled -> Failure; ``job.run_state`` from
  the pipeline status; ``metadata.correlation_uid`` = pipeline id.
- deployment -> Application Lifecycle (6002) Install, with ``app`` = project at the
  deployed commit and the environment as ``app.feature.name``.
Times: ``created_at``/``time``/``finished_at``/``status_changed_at`` in any of GitLab's
formats (ISO, ``YYYY-MM-DD hh:mm:ss UTC``, ``+0200`` offsets); records without one get the
receipt time (labelled). A JSON object of none of these shapes is dead-lettered.
"""

from __future__ import annotations

from typing import Any

import msgspec

from secpipe.formats import _cicd as c
from secpipe.formats.base import DeadLetter, Decoded, RecordFormat, Records

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
    created_at: str | None = None
    updated_at: str | None = None
    finished_at: str | None = None
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


_NO_DETAILS = _Details()


class _Rec(msgspec.Struct, gc=False):
    object_kind: str | None = None
    event_name: str | None = None
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
    # webhooks
    user: _User | None = None
    user_name: str | None = None
    user_username: str | None = None
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
    status_changed_at: str | None = None


_REC = msgspec.json.Decoder(_Rec)
_METHOD_ACTIVITY = {"POST": 1, "PUT": 3, "PATCH": 3, "GET": 2, "HEAD": 2, "DELETE": 4}
_ZERO_SHA = "0" * 40
_PIPE_STATE = {"created": 1, "waiting_for_resource": 1, "preparing": 1, "pending": 2, "running": 3, "success": 4,
               "failed": 4, "canceled": 4, "skipped": 4, "manual": 1, "scheduled": 1}  # fmt: skip
_PIPE_ACTIVITY = {"created": 1, "pending": 1, "waiting_for_resource": 1, "preparing": 1, "running": 6}
_OK = {"success": 1, "failed": 2, "canceled": 2, "running": 0, "pending": 0}
_MR_ACTIVITY = {"open": 1, "reopen": 1, "close": 3, "merge": 3, "update": 3, "approved": 3, "unapproved": 3}


def _kind(r: _Rec) -> str | None:
    if r.object_kind:
        return "hook"
    if r.author_id is not None or r.entity_type or r.event_type or r.details is not None or r.detail is not None:
        return "audit"
    if r.path is not None and (len(r.params) > 0 or r.method is not None):
        return "request"
    return None


class GitLab(RecordFormat):
    """GitLab audit events, request logs and webhooks."""

    name = "gitlab"
    description = "GitLab audit events, api_json/production_json request logs, webhooks (push, merge_request, pipeline, deployment, ...)"
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
        if b'"custom_message"' in h or (b'"target_details"' in h and b'"detail' in h):
            return 70
        if b'"params"' in h and b'"path"' in h and b'"key"' in h and b'"value"' in h:
            return 65
        return 0

    @c.gc_paused
    def map_records(self, recs: Records) -> Decoded:
        """Map each record by kind; unknown shapes are dead-lettered."""
        out = Decoded(dead=list(recs.dead), events=recs.events)
        if not recs.raws:
            return out
        idx, typed, tops = c.decode_each(recs, _REC, "a GitLab record", out, self.name)
        groups: dict[tuple[str, str], c.Group] = {}
        for i, r, top in zip(idx, typed, tops, strict=True):
            kind = _kind(r)
            if kind is None:
                src, off = recs.locs[i]
                out.dead.append(DeadLetter(
                    "not a GitLab audit event (author_id/entity_type/details), request log (method/path) "
                    "nor webhook (object_kind)", src, off, recs.raws[i], self.name))  # fmt: skip
                continue
            cls, row, when, act = _audit(r, top) if kind == "audit" else _request(r, top) if kind == "request" else _hook(r, top)
            # one group per (class, kind): rows of one kind share a key layout (fast transpose)
            c.group(groups, (cls, kind if kind != "hook" else r.object_kind or "")).add(i, row, when, act, 1)
        c.emit(groups, self, recs, out)
        return out


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


def _audit(r: _Rec, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int]:
    d = r.details or r.detail or _NO_DETAILS
    op = r.event_type or d.event_name or _text(d.custom_message) or r.change or d.change
    row = {
        "api.operation": op,
        "api.service.name": "GitLab",
        "metadata.event_code": r.event_type,
        "metadata.original_event_uid": c.sid(r.id),
        "actor.user.name": r.author_name or d.author_name,
        "actor.user.uid": c.sid(r.author_id),
        "src_endpoint.ip": r.ip_address or d.ip_address,
        "resources": c.compact([
            c.resource(r.entity_type or "entity", r.entity_path or d.entity_path, r.entity_id),
            c.resource(r.target_type or d.target_type or "target", _text(r.target_details) or _text(d.target_details), r.target_id or d.target_id),
        ]),  # fmt: skip
        "unmapped": c.unmapped_of(top, _AUDIT_MAPPED),
    }
    return "api_activity", row, c.first_time(r.created_at, r.time), c.verb_activity((op or "").replace(" ", "_").split("_", 1)[0])


_REQ_MAPPED = frozenset({"method", "path", "route", "status", "remote_ip", "ua", "user_id", "username", "correlation_id", "time"})


def _request(r: _Rec, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int]:
    status = r.status if isinstance(r.status, int) else None
    failed = status is not None and status >= 400
    row = {
        "api.operation": r.route or (f"{r.method} {r.path}" if r.method else r.path),
        "api.service.name": "GitLab",
        "api.request.uid": r.correlation_id,
        "http_request.http_method": r.method,
        "http_request.url.path": r.path,
        "http_request.user_agent": r.ua,
        "src_endpoint.ip": r.remote_ip,
        "actor.user.name": r.username,
        "actor.user.uid": c.sid(r.user_id),
        "status_code": c.sid(status),
        "status_id": None if status is None else (2 if failed else 1),
        "status": None if status is None else ("Failure" if failed else "Success"),
        "unmapped": c.unmapped_of(top, _REQ_MAPPED),
    }
    return "api_activity", row, c.iso_ms(r.time), _METHOD_ACTIVITY.get((r.method or "").upper(), 99)


_HOOK_COMMON = frozenset({"object_kind", "event_name", "user", "user_id", "user_name", "user_username", "user_email",
                          "user_avatar", "project", "project_id"})  # fmt: skip


_PUSH_MAPPED = _HOOK_COMMON | {"ref", "after"}


def _actor(r: _Rec) -> dict[str, Any]:
    u = r.user
    return {
        "actor.user.name": (u.username if u else None) or r.user_username,
        "actor.user.full_name": (u.name if u else None) or r.user_name,
        "actor.user.uid": c.sid(u.id if u else r.user_id),
        "actor.user.email_addr": u.email if u and u.email and "@" in u.email else None,
    }


def _project(r: _Rec) -> dict[str, Any] | None:
    p = r.project
    return None if p is None else c.resource("project", p.path_with_namespace or p.name, p.id)


def _hook(r: _Rec, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int]:
    kind = r.object_kind or ""
    a = r.object_attributes
    row: dict[str, Any] = {"metadata.event_code": kind, "api.service.name": "GitLab webhooks"}
    row.update(_actor(r))
    p = r.project
    when: int | None = None
    if kind == "pipeline" and a is not None:
        ok = _OK.get(a.status or "")
        row.update({
            "job.name": a.name or (f"{p.path_with_namespace} pipeline" if p else "pipeline"),
            "job.desc": f"{a.source or 'pipeline'} on {a.ref} ({a.sha})" if a.ref else None,
            "job.run_state_id": _PIPE_STATE.get(a.status or "", 99), "job.run_state": a.status,
            "job.created_time": c.iso_ms(a.created_at), "job.user.name": row["actor.user.name"],
            "status_id": ok if ok else None, "status": c.STATUS.get(ok) if ok else None,
            "status_detail": a.status, "metadata.correlation_uid": c.sid(a.id),
            "duration": int(a.duration * 1000) if a.duration else None,
            "api.operation": f"pipeline.{a.status}", "unmapped": c.unmapped_of(top, _HOOK_COMMON),
        })  # fmt: skip
        act = _PIPE_ACTIVITY.get(a.status or "", 2)
        return "scheduled_job_activity", row, c.first_time(a.finished_at, a.updated_at, a.created_at), act
    if kind == "deployment":
        ok = _OK.get(r.status if isinstance(r.status, str) else "")
        row.update({
            "app.name": p.path_with_namespace if p else None, "app.uid": c.sid(r.deployment_id),
            "app.version": r.short_sha, "app.feature.name": r.environment,
            "status_id": ok if ok is not None else None, "status": c.STATUS.get(ok) if ok is not None else None,
            "status_detail": r.status if isinstance(r.status, str) else None, "api.operation": f"deployment.{r.status}",
            "unmapped": c.unmapped_of(top, _HOOK_COMMON),
        })  # fmt: skip
        return "application_lifecycle", row, c.iso_ms(r.status_changed_at), 1
    if kind in ("push", "tag_push"):
        act = 1 if r.before == _ZERO_SHA else 4 if r.after == _ZERO_SHA else 3
        row.update({
            "resources": c.compact([_project(r), c.resource("git_ref", r.ref, r.after)]),
            "message": f"{row['actor.user.name']} pushed {r.total_commits_count or 0} commit(s) to {r.ref}",
            "api.operation": kind, "unmapped": c.unmapped_of(top, _PUSH_MAPPED),
        })  # fmt: skip
        return "api_activity", row, None, act
    title = (a.title or a.name) if a else None
    res = c.resource(kind, f"!{a.iid} {title}" if kind == "merge_request" and a and a.iid else title, a.id) if a else None
    action = a.action if a else None
    row.update({
        "resources": c.compact([_project(r), res]),
        "api.operation": f"{kind}.{action}" if action else kind,
        "unmapped": c.unmapped_of(top, _HOOK_COMMON),
    })  # fmt: skip
    act = _MR_ACTIVITY.get(action or "", c.verb_activity(action)) if action else 99
    if a is not None:
        when = c.first_time(a.updated_at, a.created_at)
    return "api_activity", row, when, act
