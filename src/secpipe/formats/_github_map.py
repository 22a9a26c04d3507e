"""Per-event-type OCSF mappers for GitHub webhooks and audit-log events (see formats.github).

Each mapper takes a typed payload view and returns ``(class, leaves, time_ms, activity_id,
severity_id)``; leaves are ``{OCSF dotted path: value}`` with None meaning "not present".
"""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any

import msgspec

from secpipe.formats import _cicd as c
from secpipe.formats.base import int32_or_none

#: top-level keys every webhook mapping places
_COMMON = frozenset({"sender", "repository", "organization", "installation", "enterprise", "action"})

_RUN_STATE = {"requested": 1, "pending": 1, "waiting": 1, "queued": 2, "in_progress": 3, "completed": 4}
_RUN_STATE_CAPTION = {1: "Ready", 2: "Queued", 3: "Running", 4: "Stopped"}  # OCSF job.run_state_id
_RUN_ACTIVITY = {"requested": 1, "queued": 1, "waiting": 1, "in_progress": 6, "completed": 2}
_FAIL_CONCLUSIONS = frozenset({"failure", "cancelled", "timed_out", "startup_failure", "action_required", "stale"})
_DEPLOY_STATUS = {"success": 1, "failure": 2, "error": 2, "inactive": 99}
#: an alert event's action -> finding activity / status. repository_vulnerability_alert's actions are
#: verbs (create, dismiss, reopen, resolve); its older deliveries carry no ``alert.state``, so the
#: action alone gives the status. dependabot_alert's auto_reopened/reintroduced reopen an alert.
_FINDING_ACTIVITY = {"created": 1, "create": 1, "fixed": 3, "closed_by_user": 3, "resolved": 3, "resolve": 3,
                     "revoked": 3, "dismiss": 3, "dismissed": 3, "auto_dismissed": 3}  # fmt: skip
_FINDING_STATUS = {"open": 1, "created": 1, "create": 1, "reopened": 1, "reopen": 1, "reopened_by_user": 1,
                   "auto_reopened": 1, "reintroduced": 1, "fixed": 4, "resolved": 4, "resolve": 4,
                   "closed_by_user": 4, "dismissed": 3, "dismiss": 3, "auto_dismissed": 3}  # fmt: skip
#: secret scanning resolutions that leave the secret in place (GitHub: false_positive, wont_fix,
#: used_in_tests; revoked and pattern_deleted/pattern_edited end the finding)
_SUPPRESSED_RESOLUTIONS = frozenset({"false_positive", "wont_fix", "used_in_tests"})
_GROUP_ACTIVITY = {
    "member_added": 3, "member_removed": 4, "added": 3, "removed": 4, "created": 6, "deleted": 5,
    "added_to_repository": 1, "removed_from_repository": 2,
}  # fmt: skip
_ENTITY_ACTIVITY = {"created": 1, "deleted": 4, "renamed": 5, "transferred": 5}  # OCSF 1.8.0: 5 Move "Move or rename"


def _repo_resource(h: Any) -> dict[str, Any] | None:
    """The repository as a ``resources[]`` item (what ``c.resource`` builds, written out: it
    runs for nearly every payload)."""
    r = h.repository
    if r is None:
        return None
    name = r.full_name or r.name
    if name is None and r.id is None:
        return None
    item: dict[str, Any] = {"type": "repository", "name": c.sid(name), "uid": c.sid(r.id)}
    labels = [x for x in (r.visibility, "private" if r.private else None) if x]
    if labels:
        item["labels"] = labels
    if r.owner is not None:
        item["owner"] = {"name": r.owner.login}
    return item


@functools.cache
def _mapped_keys(more: tuple[str, ...]) -> frozenset[str]:
    return _COMMON | frozenset(more)


def _unmapped(top: dict[str, msgspec.Raw], *more: str, add: dict[str, Any] | None = None) -> bytes | None:
    """``unmapped`` of a webhook: the top-level keys but the common ones and ``more``, in
    document order (``c.unmapped_of``'s JSON; deleting from a copy beats filtering into a new dict),
    then ``add`` (values the mapping read but OCSF has no conformant place for). ``top`` may
    also be the native scan's view of the payload (``github._ScannedTop``), which gives the same JSON."""
    if type(top) is not dict:
        return top.unmapped(more, add)  # type: ignore[attr-defined,no-any-return]
    keep = dict(top)
    for k in keep.keys() & _mapped_keys(more):
        del keep[k]
    if add:
        keep.update(add)
    return _ENC(keep) if keep else None


_ENC = msgspec.json.Encoder().encode


def map_hook(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    """Map one webhook payload of type ``event``."""
    fn = _MAPPERS.get(event)
    if fn is None:
        return _generic_hook(event, h, top)
    cls, row, when, act, sev = fn(event, h, top)
    s = h.sender
    if s is not None:
        row["actor.user.name"] = s.login
        row["actor.user.uid"] = c.sid(s.id)
        _sender_type(row, s.type)
    elif event == "push" and h.pusher is not None:  # a senderless push (as Panther's test events): who pushed
        row["actor.user.name"] = h.pusher.name
        row["actor.user.email_addr"] = h.pusher.email
    if h.organization is not None:
        row["metadata.tenant_uid"] = c.sid(h.organization.login)
    known = event != "unknown"  # a type the payload shape does not tell: the action alone is known
    row["api.operation"] = (f"{event}.{h.action}" if known else h.action) if h.action else event
    row["api.service.name"] = "GitHub webhooks"
    row["metadata.event_code"] = event if known else None
    if cls == "api_activity":  # OCSF requires src_endpoint; a webhook names no caller address
        row["src_endpoint.type_id"] = 0
        row["src_endpoint.type"] = "Unknown"
    return cls, row, when, act, sev


#: GitHub's account type of a sender -> OCSF user type: a GitHub App's bot account is a service
#: account (4 Service); an organization, enterprise or mannequin (an imported user's placeholder)
#: acting is none of OCSF's types (99 Other, GitHub's word kept as ``type``)
_USER_TYPE = {"User": (1, "User"), "Bot": (4, "Service")}


def _sender_type(row: dict[str, Any], kind: str | None) -> None:
    """``actor.user.type_id``/``type`` of a webhook's sender from its GitHub account ``type``."""
    if kind:
        row["actor.user.type_id"], row["actor.user.type"] = _USER_TYPE.get(kind, (99, kind))


def _generic_hook(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    """:func:`map_hook` of a type without a specific mapping (most payloads), written out: the
    same row, keys in the same order, with no call per step."""
    r, o, s, action = h.repository, h.organization, h.sender, h.action
    items = []
    if r is not None and (item := _repo_resource(h)) is not None:
        items.append(item)
    if o is not None and (o.login is not None or o.id is not None):
        items.append({"type": "organization", "name": c.sid(o.login), "uid": c.sid(o.id)})
    row: dict[str, Any] = {"resources": items or None, "unmapped": _unmapped(top)}
    if s is not None:
        row["actor.user.name"] = s.login
        row["actor.user.uid"] = c.sid(s.id)
        _sender_type(row, s.type)
    if o is not None:
        row["metadata.tenant_uid"] = c.sid(o.login)
    return "api_activity", row, None, _generic_tail(row, event, action), 1


def _generic_tail(row: dict[str, Any], event: str, action: str | None) -> int:
    """The keys a generically mapped webhook's row ends with; its activity id."""
    known = event != "unknown"
    row["api.operation"] = (f"{event}.{action}" if known else action) if action else event
    row["api.service.name"] = "GitHub webhooks"
    row["metadata.event_code"] = event if known else None
    row["src_endpoint.type_id"] = 0
    row["src_endpoint.type"] = "Unknown"
    return c.verb_activity(action, 3) if action else _ACTIONLESS.get(event, 99)


#: activity of the event types that have no action, from what GitHub documents of each: a branch
#: or tag created (create) or deleted (delete), a repository forked (a new repository), made public
#: (an Update); security_and_analysis reports a settings change (``changes.from``), an Update
_ACTIONLESS = {"create": 1, "delete": 4, "fork": 1, "public": 3, "security_and_analysis": 3}


def _push(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    act = 1 if h.created else 4 if h.deleted else 3
    n = len(h.commits or [])
    who = (h.pusher.name if h.pusher else None) or (h.sender.login if h.sender else "someone")
    verb = "force-pushed" if h.forced else "pushed"
    row = {
        "resources": c.compact([_repo_resource(h), c.resource("git_ref", h.ref, h.after, labels=["forced"] if h.forced else None)]),
        "message": f"{who} {verb} {n} commit(s) to {h.ref}",
        "unmapped": _unmapped(top, "ref", "after", "pusher"),
    }
    r = h.repository
    when = c.first_time(r.pushed_at if r else None, h.head_commit.timestamp if h.head_commit else None)
    return "api_activity", row, when, act, 1


def _pull_request(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    pr = h.pull_request
    row = {
        "resources": c.compact([_repo_resource(h), c.resource("pull_request", f"#{pr.number} {pr.title}", pr.id,
                                                                data=c.json_or_none({"state": pr.state, "merged": pr.merged,
                                                                                     "head": pr.head.ref if pr.head else None,
                                                                                     "base": pr.base.ref if pr.base else None,
                                                                                     "url": pr.html_url}))]),  # fmt: skip
        "unmapped": _unmapped(top, "number"),
    }
    act = 1 if h.action in ("opened", "reopened") else c.verb_activity(h.action, 3)
    return "api_activity", row, c.first_time(pr.updated_at, pr.created_at), act, 1


def _run(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    run = h.workflow_run if event == "workflow_run" else h.workflow_job
    wf = h.workflow if not isinstance(h.workflow, str) else None
    status = None if run.conclusion is None else (1 if run.conclusion in ("success", "neutral", "skipped") else 2 if run.conclusion in _FAIL_CONCLUSIONS else 99)
    state = run.status or h.action
    run_state = _RUN_STATE.get(state or "", 99)
    path = (wf.path if wf else None) or run.path
    actor = run.actor
    row = {
        # OCSF requires job.name: a payload naming neither workflow nor job is named by its id
        "job.name": (wf.name if wf else None) or run.workflow_name or run.name or " ".join(filter(None, (event, c.sid(run.id)))),
        "job.desc": run.display_title or (run.name if event == "workflow_job" else None),
        "job.file": {"path": path, "name": path.rsplit("/", 1)[-1] or None, "type_id": 1, "type": "Regular File"} if path else None,
        "job.created_time": c.iso_ms(run.created_at),
        "job.last_run_time": c.first_time(run.run_started_at, run.started_at),
        "job.run_state_id": run_state,
        "job.run_state": state if run_state == 99 else _RUN_STATE_CAPTION[run_state],
        "job.user.name": actor.login if actor else None,
        "status_id": status,
        "status": c.STATUS.get(status) if status else None,
        "status_detail": run.conclusion,
        "metadata.correlation_uid": c.sid(run.run_id if event == "workflow_job" else run.id),
        "unmapped": _unmapped(top, "workflow"),
    }
    when = c.first_time(run.completed_at, run.updated_at, run.started_at, run.created_at)
    return "scheduled_job_activity", row, when, _RUN_ACTIVITY.get(h.action or "", 99), 1


def _deployment(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    d = h.deployment
    st = h.deployment_status
    r = h.repository
    status = _DEPLOY_STATUS.get(st.state or "", 0) if st is not None else None
    row = {
        "app.name": r.full_name if r else None,
        "app.uid": c.sid(d.id) if d else None,
        "app.version": d.sha if d else None,
        "app.feature.name": (st.environment if st else None) or (d.environment if d else None),
        "status_id": status,
        "status": c.STATUS.get(status) if status is not None else None,
        "status_detail": st.state if st else None,
        "message": (st.description if st else None) or (d.description if d else None) or None,
        "unmapped": _unmapped(top),
    }
    when = c.first_time(st.updated_at, st.created_at) if st else c.first_time(d.updated_at, d.created_at) if d else None
    return "application_lifecycle", row, when, 1, 1


def _entity(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    r = h.repository
    if event == "branch_protection_rule" and h.rule is not None:
        ent = {"entity.name": h.rule.name, "entity.uid": c.sid(h.rule.id), "entity.type": "Policy",
               "entity.type_id": 5, "entity.data": c.json_or_none({"repository": r.full_name if r else None})}  # fmt: skip
        when = c.first_time(h.rule.updated_at, h.rule.created_at)
        more: tuple[str, ...] = ("rule",)
    else:
        ent = {"entity.name": r.full_name if r else None, "entity.uid": c.sid(r.id) if r else None,
               "entity.type": "repository", "entity.type_id": 99}  # fmt: skip
        when = c.first_time(r.updated_at) if r is not None and h.action in ("created", "edited", "renamed") else None
        more = ()
    ent["unmapped"] = _unmapped(top, *more)
    return "entity_management", ent, when, _ENTITY_ACTIVITY.get(h.action or "", 3), 1


def _member(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    mem = h.member
    ch = h.changes
    perm = None
    if ch is not None:
        p = ch.permission or ch.role_name
        perm = p.to if p else None
    r = h.repository
    row = {
        "user.name": mem.login if mem else None,
        "user.uid": c.sid(mem.id) if mem else None,
        "privileges": [perm] if perm else None,
        "resource.type": "repository" if r else None,
        "resource.name": r.full_name if r else None,
        "resource.uid": c.sid(r.id) if r else None,
        "unmapped": _unmapped(top, "member"),
    }
    return "user_access", row, None, 2 if h.action == "removed" else 1, 1


def _group(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    t = h.team
    o = h.organization
    row: dict[str, Any] = {}
    if t is not None and event in ("team", "membership", "team_add"):
        row.update({"group.name": t.name, "group.uid": c.sid(t.id), "group.type": "team",
                    "group.privileges": [t.permission] if t.permission else None})  # fmt: skip
    elif o is not None:
        row.update({"group.name": o.login, "group.uid": c.sid(o.id), "group.type": "organization"})
    who = h.member or (h.membership.user if h.membership else None)
    when = None
    if who is not None:
        row.update({"user.name": who.login, "user.uid": c.sid(who.id)})
    elif h.invitation is not None:
        inv = h.invitation
        row.update({"user.name": inv.login, "user.uid": c.sid(inv.id), "user.email_addr": inv.email})
        when = c.iso_ms(inv.created_at)
    r = h.repository
    if r is not None and event in ("team", "team_add"):
        row.update({"resource.type": "repository", "resource.name": r.full_name, "resource.uid": c.sid(r.id)})
    row["unmapped"] = _unmapped(top, "team", "member", "membership", "invitation")
    # team_add (no action): "a team is added to a repository", as team's added_to_repository
    act = _GROUP_ACTIVITY["added_to_repository"] if event == "team_add" else _GROUP_ACTIVITY.get(h.action or "", 99)
    return "group_management", row, when, act, 1


def _finding_common(h: Any, uid: str, title: str | None, types: list[str], a: Any) -> dict[str, Any]:
    # the alert's state after the event, else (older deliveries without one) the action's verb: a
    # code scanning alert ``closed_by_user`` is dismissed (Suppressed), not fixed; a secret alert
    # resolved as a false positive, won't fix or used in tests is suppressed too
    st = _FINDING_STATUS.get(a.state or "") or _FINDING_STATUS.get(h.action or "", 0)
    if st == 4 and a.resolution in _SUPPRESSED_RESOLUTIONS:
        st = 3
    return {
        "finding_info.uid": uid,
        "finding_info.title": title,
        "finding_info.types": types,
        "finding_info.src_url": a.html_url,
        "finding_info.created_time": c.iso_ms(a.created_at),
        "finding_info.modified_time": c.first_time(a.updated_at, a.fixed_at, a.dismissed_at, a.resolved_at),
        "status_id": st,
        "status": c.FINDING_STATUS.get(st),
        "status_detail": a.resolution or a.state,
        "resources": c.compact([_repo_resource(h)]),
        "unmapped": None,
    }


def _advisory_cvss(adv: Any) -> list[dict[str, Any]] | None:
    """``cve.cvss`` of a Dependabot advisory: ``cvss`` (older payloads), else each version of
    ``cvss_severities`` (GitHub's newer shape, ``cvss_v3`` and ``cvss_v4``; the deprecated
    ``cvss`` then has score 0); a score of 0 or none is no rating."""
    sev = adv.cvss_severities
    out = [{"base_score": cv.score, "vector_string": cv.vector_string,
            "version": (cv.vector_string or "CVSS:").split("/")[0][5:] or None}
           for cv in ((adv.cvss,) if adv.cvss and adv.cvss.score else (sev.cvss_v3, sev.cvss_v4) if sev else ())
           if cv and cv.score]  # fmt: skip
    return out or None


def _epss(e: Any) -> dict[str, Any] | None:
    """``cve.epss`` from a Dependabot advisory's ``epss`` (OCSF: the probability as a string)."""
    return {"score": str(e.percentage), "percentile": e.percentile} if e and e.percentage is not None else None


def _repo_of_url(url: str | None) -> str:
    """``owner/repo`` of an alert's ``html_url`` (``https://github.com/<owner>/<repo>/security/...``,
    GitHub Enterprise Server's the same under its host), "" when it names none."""
    parts = (url or "").split("://", 1)[-1].split("/")
    return f"{parts[1]}/{parts[2]}" if len(parts) > 3 and parts[1] and parts[2] else ""


def _alert(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
    a = h.alert
    # the repository's name; a REST API alert of a repository's own list names none but in its URL
    repo = h.repository.full_name if h.repository else _repo_of_url(a.html_url)
    when = c.first_time(a.updated_at, a.fixed_at, a.dismissed_at, a.resolved_at, a.created_at)
    act = _FINDING_ACTIVITY.get(h.action or "", 2)
    if event == "secret_scanning_alert":
        row = _finding_common(h, f"{repo}/secret-scanning/{a.number}", f"Secret detected: {a.secret_type_display_name or a.secret_type}",
                              ["secret_scanning", a.secret_type or "secret"], a)  # fmt: skip
        if not row["resources"] and repo and h.repository is None:  # a REST API alert: the repository of its URL
            row["resources"] = [{"type": "repository", "name": repo}]
        row["unmapped"] = _unmapped(top, "alert")
        return "detection_finding", row, when, act, 4
    vuln: dict[str, Any]
    package: dict[str, Any] | None = None
    if event == "code_scanning_alert":
        rule = a.rule
        level = (rule.security_severity_level or rule.severity) if rule else None
        # the alert's location: most_recent_instance, or in older payloads (before GitHub added it)
        # the first of ``instances`` that has one
        loc = next((i.location for i in (a.most_recent_instance, *(a.instances or ())) if i and i.location and i.location.path), None)
        cwes = [t.rsplit("-", 1)[-1] for t in (rule.tags or []) if "cwe-" in t] if rule else []
        cwe_uid = f"CWE-{int(cwes[0])}" if cwes and cwes[0].isdigit() else None
        vuln = {
            "title": rule.description if rule else None,
            "desc": (rule.full_description or rule.name or None) if rule else None, "severity": level,
            "vendor_name": a.tool.name if a.tool else None,
            "cwe": {"uid": cwe_uid} if cwe_uid else None,
            # no CWE: the rule is the advisory the alert answers to (OCSF 1.8.0 wants one of advisory,
            # cve, cwe per vulnerability)
            "advisory": {"uid": rule.id, "title": rule.description} if rule and rule.id and not cwe_uid else None,
            "affected_code": [{"file": {"path": loc.path, "name": (loc.path or "").rsplit("/", 1)[-1], "type_id": 1},
                               "start_line": int32_or_none(loc.start_line), "end_line": int32_or_none(loc.end_line)}] if loc and loc.path else None,
        }  # fmt: skip
        row = _finding_common(h, f"{repo}/code-scanning/{a.number}", vuln["title"], ["code_scanning"], a)
        row["finding_info.analytic"] = {"uid": rule.id, "name": rule.name or None, "type_id": 1} if rule else None
    elif event == "dependabot_alert":
        adv = a.security_advisory
        sv = a.security_vulnerability
        level = (sv.severity if sv else None) or (adv.severity if adv else None)
        fixed = sv.first_patched_version.identifier if sv and sv.first_patched_version else None
        # OCSF 1.8.0 allows just one of cve / advisory / cwe per vulnerability: the CVE when there is
        # one (its weakness as cve.cwe, the GHSA id among related_vulnerabilities), else the GHSA
        # advisory (the weakness as related_cwes), else the weakness alone
        cve_id, ghsa = (adv.cve_id, adv.ghsa_id) if adv else (None, None)
        cwe = {"uid": adv.cwes[0].cwe_id, "caption": adv.cwes[0].name} if adv and adv.cwes else None
        vuln = {
            "title": adv.summary if adv else None, "desc": adv.description if adv else None, "severity": level,
            "vendor_name": "GitHub",
            "cve": {k: v for k, v in (("uid", cve_id), ("cwe", cwe), ("cvss", _advisory_cvss(adv)), ("epss", _epss(adv.epss)))
                    if v is not None} if adv and cve_id else None,
            "advisory": {"uid": ghsa, "title": adv.summary, "created_time": c.iso_ms(adv.published_at),
                         "modified_time": c.iso_ms(adv.updated_at), "related_cwes": [cwe] if cwe else None}
            if adv and ghsa and not cve_id else None,
            "related_vulnerabilities": [ghsa] if cve_id and ghsa else None,
            "cwe": cwe if not cve_id and not ghsa else None,
            "references": [u.url for u in adv.references if u.url] if adv and adv.references else None,
            "is_fix_available": fixed is not None,
        }  # fmt: skip
        dep = a.dependency
        pkg = (sv.package if sv else None) or (dep.package if dep else None)
        package = {"name": pkg.name, "package_manager": pkg.ecosystem, "fixed_in_version": fixed,
                   "path": dep.manifest_path if dep else None,
                   "vulnerable_version_range": sv.vulnerable_version_range if sv else None} if pkg else None  # fmt: skip
        row = _finding_common(h, f"{repo}/dependabot/{a.number}", vuln["title"], ["dependabot"], a)
    else:  # repository_vulnerability_alert
        level = a.severity
        ident = a.external_identifier
        vuln = {
            "title": f"{a.affected_package_name} {a.affected_range}: {ident or a.ghsa_id}", "severity": level,
            "vendor_name": "GitHub",
            # just one of cve / advisory (OCSF 1.8.0): the CVE, the GHSA id then among related_vulnerabilities
            "cve": {"uid": ident} if ident and ident.startswith("CVE-") else None,
            "advisory": {"uid": a.ghsa_id} if a.ghsa_id and not (ident and ident.startswith("CVE-")) else None,
            "related_vulnerabilities": [a.ghsa_id] if a.ghsa_id and ident and ident.startswith("CVE-") else None,
            "references": [a.external_reference] if a.external_reference else None,
            "is_fix_available": a.fixed_in is not None,
        }  # fmt: skip
        package = {"name": a.affected_package_name, "fixed_in_version": a.fixed_in,
                   "vulnerable_version_range": a.affected_range} if a.affected_package_name else None  # fmt: skip
        row = _finding_common(h, f"{repo}/vulnerability-alerts/{a.number or a.id}", vuln["title"], ["repository_vulnerability_alert"], a)
    if not row["resources"] and repo and h.repository is None:
        row["resources"] = [{"type": "repository", "name": repo}]
    given = {k: v for k, v in vuln.items() if v is not None}
    # none when the payload names nothing of one (another alert sent under this event's header):
    # an object with no attribute is no vulnerability, and Parquet cannot store an empty struct
    row["vulnerabilities"] = [given] if given else None
    # OCSF affected_packages requires the installed version, which an alert never names
    row["unmapped"] = _unmapped(top, "alert", add={"affected_package": package} if package else None)
    return "vulnerability_finding", row, when, act, c.SEVERITY.get((level or "").lower(), 0)


#: the event types :func:`_pull_request` maps (also from the native scan: :func:`pull_request_scanned`)
PR_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment", "pull_request_review_thread")
_MAPPERS = {
    "push": _push,
    **dict.fromkeys(PR_EVENTS, _pull_request),
    "workflow_run": _run, "workflow_job": _run,
    "deployment": _deployment, "deployment_status": _deployment,
    "repository": _entity, "branch_protection_rule": _entity,
    "member": _member,
    "organization": _group, "team": _group, "membership": _group, "team_add": _group,
    "secret_scanning_alert": _alert, "code_scanning_alert": _alert, "dependabot_alert": _alert,
    "repository_vulnerability_alert": _alert,
}  # fmt: skip


def _safe(mapper: Any) -> Any:
    """Fall back to the generic mapping when the payload lacks the type's main object (its row
    is complete: :func:`map_hook` then sets the same common keys to the same values)."""
    key = {"_push": None, "_pull_request": "pull_request", "_run": None, "_deployment": None, "_alert": "alert"}
    need = key.get(mapper.__name__)

    def wrapped(event: str, h: Any, top: dict[str, msgspec.Raw]) -> tuple[str, dict[str, Any], int | None, int, int]:
        if need is not None and getattr(h, need) is None:
            return _generic_hook(event, h, top)
        if mapper is _run and (h.workflow_run if event == "workflow_run" else h.workflow_job) is None:
            return _generic_hook(event, h, top)
        return mapper(event, h, top)  # type: ignore[no-any-return]

    return wrapped


_MAPPERS = {k: _safe(v) for k, v in _MAPPERS.items()}

#: the typed view's fields each mapping reads (with :func:`_safe`) beyond ``SCAN_HEAD``'s objects (sender, action,
#: repository, organization, installation: all that :func:`map_hook`, :func:`_generic_hook` and the caller's
#: ``_primary_time`` read); an alert's ``alert`` is decoded by the caller. A view built from the native scan needs
#: no other field (``_github_scan.view_of``)
VIEW_READS: dict[str, tuple[str, ...]] = {
    "push": ("ref", "after", "created", "deleted", "forced", "pusher", "commits", "head_commit"),
    **dict.fromkeys(PR_EVENTS, ("pull_request",)),
    "workflow_run": ("workflow_run", "workflow"), "workflow_job": ("workflow_job", "workflow"),
    "deployment": ("deployment", "deployment_status"), "deployment_status": ("deployment", "deployment_status"),
    "repository": ("rule",), "branch_protection_rule": ("rule",),
    "member": ("member", "changes"),
    **dict.fromkeys(("organization", "team", "membership", "team_add"), ("team", "member", "membership", "invitation")),
}  # fmt: skip

# --- audit log ------------------------------------------------------------------------

_AUDIT_MAPPED = frozenset({
    "action", "actor", "actor_id", "actor_ip", "actor_location", "user", "org", "repo", "repository", "user_agent",
    "created_at", "@timestamp", "_document_id", "actor_is_bot", "actor_is_agent",
})  # fmt: skip


def actor_type(is_bot: Any, is_agent: Any) -> tuple[int, str] | None:
    """``actor.user.type_id``/``type`` of an audit event's actor from GitHub's ``actor_is_bot`` and
    ``actor_is_agent`` (streamed audit events; JSON booleans): an AI agent (Copilot's) is Other (99)
    "Agent", a bot (a GitHub App's account, as a webhook's Bot sender) Service (4), an actor neither
    a bot nor an agent User (1); none without either flag (older exports)."""
    if is_agent is True:
        return 99, "Agent"
    if is_bot is True:
        return 4, "Service"
    if is_bot is False and is_agent in (False, None):
        return 1, "User"
    return None


class _Request(msgspec.Struct, gc=False):
    """What an audit event says of the HTTP request behind it (GitHub's ``api.request`` events
    for REST API calls, also on some web and Git events): method, path, response code."""

    request_method: str | None = None
    url_path: str | None = None
    route: str | None = None
    status_code: Annotated[int, msgspec.Meta(ge=-(2**31), lt=2**31)] | None = None  # OCSF's int32 (else left unmapped)
    org_id: int | str | None = None
    repo_id: int | str | None = None
    user_id: int | str | None = None


_REQUEST_KEYS = ("request_method", "url_path", "route", "status_code", "org_id", "repo_id", "user_id")
_REQUEST_NONE = _Request()
_METHOD_ACTIVITY = {"GET": 2, "HEAD": 2, "OPTIONS": 2, "POST": 1, "PUT": 3, "PATCH": 3, "DELETE": 4}


def _request(top: dict[str, msgspec.Raw]) -> _Request:
    """The request fields of one audit event (``_REQUEST_NONE`` when it has none, as most do),
    deleted from ``top`` as they are placed (``route``, a path template, also stays in
    ``unmapped``); a field of another JSON type than GitHub writes is left there."""
    if not any(k in top for k in _REQUEST_KEYS):
        return _REQUEST_NONE
    picked: dict[str, Any] = {}
    for k in _REQUEST_KEYS:
        raw = top.get(k)
        if raw is None:
            continue
        try:
            value = msgspec.json.decode(raw)
            msgspec.convert({k: value}, _Request)  # the field's own type
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        picked[k] = value
        if k != "route":
            del top[k]
    return msgspec.convert(picked, _Request)


class _Data(msgspec.Struct, gc=False):
    team: Any = None


_DATA = msgspec.json.Decoder(_Data)


def _team(a: Any) -> str | None:
    """The team of a team event: ``team``, else ``data.team`` (the older export nests it there;
    ``data`` is raw JSON: a ``team`` msgspec cannot read is none)."""
    t = a.team
    if t is None and a.data and memoryview(a.data)[0] == 0x7B:  # {
        try:
            t = _DATA.decode(a.data).team
        except msgspec.DecodeError:
            t = None
    return t if isinstance(t, str) and t else None


def _sid(v: int | str | None) -> str | None:
    return None if v is None or v == "" else str(v)


def audit_columns(audits: list[Any], tops: list[dict[str, msgspec.Raw]]) -> tuple[dict[str, Any], list[int | None], list[int]]:
    """Columns of API Activity for audit-log events (one comprehension per field)."""
    repos = [a.repo or (a.repository if isinstance(a.repository, str) else None) for a in audits]
    actions = [a.action for a in audits]
    reqs = [_request(t) for t in tops]  # before unmapped_pop empties the maps
    codes = [q.status_code for q in reqs]
    # an action GitHub names as a refused attempt, else an HTTP client or server error
    failed = [True if action_failed(x) else None if y is None else y >= 400 for x, y in zip(actions, codes, strict=True)]
    cols: dict[str, Any] = {
        "api.operation": actions,
        "api.service.name": [(x or "").split(".", 1)[0] or None for x in actions],
        "metadata.event_code": actions,
        "metadata.original_event_uid": [a.document_id for a in audits],
        "metadata.tenant_uid": [a.org or a.business for a in audits],
        "actor.user.name": [a.actor for a in audits],
        "actor.user.uid": [None if a.actor_id is None else str(a.actor_id) for a in audits],
        "actor.user.type_id": [t[0] if (t := actor_type(a.actor_is_bot, a.actor_is_agent)) else None for a in audits],
        "actor.user.type": [t[1] if (t := actor_type(a.actor_is_bot, a.actor_is_agent)) else None for a in audits],
        "src_endpoint.ip": [a.actor_ip or None for a in audits],
        "src_endpoint.location.country": [a.actor_location.country_code if a.actor_location else None for a in audits],
        "src_endpoint.type_id": [0] * len(audits),  # the caller's device type is never given
        "src_endpoint.type": ["Unknown"] * len(audits),
        "http_request.user_agent": [a.user_agent or None for a in audits],
        "http_request.http_method": [q.request_method.upper() if q.request_method else None for q in reqs],
        "http_request.url.path": [q.url_path or q.route or None for q in reqs],
        "http_response.code": codes,
        "status_id": [None if f is None else 2 if f else 1 for f in failed],
        "status": [None if f is None else "Failure" if f else "Success" for f in failed],
        "status_code": [None if x is None else str(x) for x in codes],
        "resources": c.resources_column([
            (("repository", r, _sid(q.repo_id)), ("user", a.user or None, _sid(q.user_id)),
             ("organization", a.org, _sid(q.org_id)), ("team", _team(a), None))
            for a, r, q in zip(audits, repos, reqs, strict=True)
        ]),  # fmt: skip
        "unmapped": [c.unmapped_pop(t, _AUDIT_MAPPED) for t in tops],
    }
    first = c.first_time
    times = [first(a.timestamp, a.created_at, a.at_sign_timestamp, a.p_event_time) for a in audits]
    verb = c.verb_activity
    acts = [_OPERATION_TYPE.get(a.operation_type, 99) if (v := verb(x)) == 99 else v
            for a, x in zip(audits, actions, strict=True)]  # fmt: skip
    # an API request event (``api.request``) says what it did by its HTTP method
    return cols, times, [_METHOD_ACTIVITY.get(q.request_method.upper(), 99) if v == 99 and q.request_method else v
                         for v, q in zip(acts, reqs, strict=True)]  # fmt: skip


#: words of an audit-log action's verb that GitHub's audit-log event reference gives to an attempt
#: that did not happen (``protected_branch.rejected_ref_update`` "a branch update attempt was
#: rejected", ``pre_receive_hook.rejected_push``, ``user.failed_login``,
#: ``user.two_factor_challenge_failure``). A ``*_denied`` action is an owner's decision on a
#: request (``personal_access_token.request_denied``): done, not failed.
_FAILED_WORDS = frozenset({"rejected", "failed", "failure"})


def action_failed(action: str | None) -> bool:
    """Whether an audit-log action names a refused or failed attempt (its status is Failure)."""
    if not action or "." not in action:
        return False
    return not _FAILED_WORDS.isdisjoint(action.rsplit(".", 1)[1].split("_"))


#: GitHub's own classification of an audit-log event (``operation_type``) -> API Activity id, for
#: actions whose verb says nothing (``org.block_user`` is a create, ``org.unblock_user`` a remove).
_OPERATION_TYPE = {"create": 1, "access": 2, "modify": 3, "remove": 4, "transfer": 3, "restore": 3}


# --- generic webhooks from the native scan -------------------------------------------

#: what the native scan reads of every payload (``_columnar.hook_scan``: path, mode), in the
#: order :func:`generic_scanned` unpacks it; ``github`` appends the other typed fields it checks
SCAN_HEAD = (
    ("sender", "o"), ("sender.login", "s"), ("sender.id", "a"), ("sender.type", "s"), ("sender.name", "s"),
    ("sender.email", "s"), ("action", "s"),
    ("repository", "o"), ("repository.id", "a"), ("repository.name", "s"), ("repository.full_name", "s"),
    ("repository.private", "B"), ("repository.visibility", "s"), ("repository.html_url", "s"),
    ("repository.owner", "o"), ("repository.owner.login", "s"), ("repository.pushed_at", "A"),
    ("repository.updated_at", "A"),
    ("organization", "o"), ("organization.login", "s"), ("organization.id", "a"),
    ("installation", "o"), ("installation.login", "s"), ("installation.id", "a"),
)  # fmt: skip
ACTION = 6


#: a generic payload's ``resources`` by what the scan read of its repository and organization: one
#: list a value, shared by every row with it (repositories and organizations repeat from payload to
#: payload), which ``_cicd.leaves_batch`` then converts once (``_cicd._shared_resources``); not mutated
_RESOURCES: dict[tuple[Any, ...], list[dict[str, Any]] | None] = {}
_RESOURCES_MAX = 4096
_NONE = object()


def _scanned_repo(r_id: str | None, r_name: str | None, r_full: str | None, r_private: bool | None, r_vis: str | None,
                  owner: Any, owner_login: str | None) -> dict[str, Any] | None:  # fmt: skip
    """:func:`_repo_resource` of a repository object from a native scan's values (ids as their text)."""
    name = r_full or r_name
    if name is None and r_id is None:
        return None
    item: dict[str, Any] = {"type": "repository", "name": name or None, "uid": r_id or None}
    labels = [x for x in (r_vis, "private" if r_private else None) if x]
    if labels:
        item["labels"] = labels
    if owner is not None:
        item["owner"] = {"name": owner_login}
    return item


def _scanned_resources(r: Any, r_id: str | None, r_name: str | None, r_full: str | None, r_private: bool | None,
                       r_vis: str | None, owner: Any, owner_login: str | None, o: Any, o_login: str | None,
                       o_id: str | None) -> list[dict[str, Any]] | None:  # fmt: skip
    """:func:`_generic_hook`'s ``resources`` from a native scan's values: the repository, the organization."""
    items = []
    if r is not None and (item := _scanned_repo(r_id, r_name, r_full, r_private, r_vis, owner, owner_login)) is not None:
        items.append(item)
    if o is not None and (o_login is not None or o_id is not None):
        items.append({"type": "organization", "name": o_login or None, "uid": o_id or None})
    return items or None


def generic_scanned(event: str, v: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """:func:`_generic_hook`'s row and activity from a native scan's values ``v`` (ids come as
    strings, so ``c.sid`` is ``x or None``), but ``unmapped`` (None there: the caller writes the
    scan's into the batch's column, ``HookScanner.rest_into``): same keys, same order. The row
    depends only on the event type and the values ``_TEMPLATE_KEY`` picks (sender, action,
    repository, organization), which repeat: it is made once for them (at most ``_TEMPLATES_MAX``
    kept, then cleared) and shared by every such payload's row (rows are not mutated once made)."""
    key = (event, _TEMPLATE_KEY(v))
    return _TEMPLATES.get(key) or _template(key, v)


def _template(key: tuple[str, tuple[Any, ...]], v: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """:func:`_generic_template` of the event ``key[0]`` and the values ``v``, made and kept under ``key``."""
    if len(_TEMPLATES) >= _TEMPLATES_MAX:
        _TEMPLATES.clear()
    got = _TEMPLATES[key] = _generic_template(key[0], v)
    return got


#: the values of ``SCAN_HEAD`` a generic row is made of (not the sender's name and email, the
#: repository's URL and times, the installation): also what the scan's template id is made of (``HookScanner.template``)
TEMPLATE_SLOTS = (0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 14, 15, 18, 19, 20)
_TEMPLATE_KEY = operator.itemgetter(*TEMPLATE_SLOTS)
_TEMPLATES: dict[tuple[str, tuple[Any, ...]], tuple[dict[str, Any], int]] = {}
_TEMPLATES_MAX = 4096


def _generic_template(event: str, v: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """:func:`generic_scanned`'s row (``unmapped`` None) and activity, made."""
    (s, s_login, s_id, s_type, _, _, action, r, r_id, r_name, r_full, r_private, r_vis, _, owner, owner_login, _, _,
     o, o_login, o_id) = v[:21]  # fmt: skip
    key = (r, r_id, r_name, r_full, r_private, r_vis, owner, owner_login, o, o_login, o_id)
    items = _RESOURCES.get(key, _NONE)
    if items is _NONE:
        if len(_RESOURCES) >= _RESOURCES_MAX:
            _RESOURCES.clear()
        items = _RESOURCES[key] = _scanned_resources(*key)
    row: dict[str, Any] = {"resources": items, "unmapped": None}
    if s is not None:
        row["actor.user.name"] = s_login
        row["actor.user.uid"] = s_id or None
        _sender_type(row, s_type)
    if o is not None:
        row["metadata.tenant_uid"] = o_login or None
    return row, _generic_tail(row, event, action)


# --- pull requests from the native scan -----------------------------------------------

#: what the native scan reads of ``pull_request`` (its spec range, in this order: ``_github_scan`` checks it)
PR_SCAN = ("pull_request", "pull_request.id", "pull_request.number", "pull_request.title", "pull_request.state",
           "pull_request.merged", "pull_request.html_url", "pull_request.created_at", "pull_request.updated_at",
           "pull_request.head", "pull_request.head.ref", "pull_request.head.sha", "pull_request.base",
           "pull_request.base.ref", "pull_request.base.sha")  # fmt: skip
#: a pull request payload's ``resources`` by the values it is made of (the repository's, the pull request's): a
#: pull request has many events (synchronize, labeled, review_requested ...), so one list serves several payloads
_PR_RESOURCES: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
_PR_KEY = operator.itemgetter(1, 2, 3, 4, 5, 6, 9, 10, 12, 13)
_REPO_KEY = operator.itemgetter(8, 9, 10, 11, 12, 14, 15)


def pull_request_scanned(event: str, v: tuple[Any, ...], p: tuple[Any, ...]) -> tuple[dict[str, Any], int, int] | None:
    """:func:`map_hook`'s row, time and activity of a pull_request* payload (:func:`_pull_request`) from a native
    scan: ``v`` the ``SCAN_HEAD`` values, ``p`` the ``PR_SCAN`` ones; ``unmapped`` None (the caller writes the
    top-level entries but the common ones and ``number`` into the batch's column). The row is
    :func:`generic_scanned`'s (same keys in the same order) with the repository and the pull request as
    ``resources``. None when the payload has no ``pull_request`` object, or none
    of its times is readable (the caller maps its typed view: the generic mapping, or the main object read again)."""
    if not p[0]:
        return None
    when = c.first_time(p[8], p[7])
    if when is None:
        return None
    r = _REPO_KEY(v) if v[7] else None
    where = (r, _PR_KEY(p))
    items = _PR_RESOURCES.get(where)
    if items is None:
        if len(_PR_RESOURCES) >= _RESOURCES_MAX:
            _PR_RESOURCES.clear()
        repo = None if r is None else _scanned_repo(*r)
        data = c.json_or_none({"state": p[4], "merged": p[5], "head": p[10] if p[9] else None,
                               "base": p[13] if p[12] else None, "url": p[6]})  # fmt: skip
        pr = {"type": "pull_request", "name": f"#{p[2]} {p[3]}", "uid": p[1] or None, "data": data}
        items = _PR_RESOURCES[where] = [repo, pr] if repo else [pr]
    key = (event, _TEMPLATE_KEY(v))
    row = (_TEMPLATES.get(key) or _template(key, v))[0].copy()
    row["resources"] = items
    action = v[ACTION]
    return row, when, 1 if action in ("opened", "reopened") else c.verb_activity(action, 3)
