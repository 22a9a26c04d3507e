"""Snyk audit logs: Group and Organization events of user-initiated activity.

Accepted input: what the Snyk audit-log APIs return and what exporters write from them.
- v1 API (``POST /v1/org/{id}/audit``, ``/v1/group/{id}/audit``): a JSON array of events with
  camelCase keys ``created``, ``event``, ``groupId``, ``orgId``, ``projectId``, ``userId``,
  ``content``; one event per line (NDJSON) as log shippers and Panther store them.
- REST API (``GET /rest/orgs/{id}/audit_logs/search``, ``/rest/groups/{id}/audit_logs/search``):
  the JSON:API document ``{"data": {"items": [...], "links": {...}}}`` (or ``{"data": [...]}``)
  or its items (an empty page is no event, not a dead letter), with
  snake_case keys ``created``, ``event``, ``group_id``, ``org_id``, ``project_id``,
  ``user_id``, ``content``.
An event needs ``event`` (a dotted name such as ``org.user.role.edit``); anything else is
dead-lettered with the reason.

Class: **API Activity (6003)**, as for the GitHub and GitLab audit logs: each event is one
action a user (or service account) took through Snyk's UI or API on a Group, an
Organization or a Project. The event name is ``api.operation`` and ``metadata.event_code``;
its last part gives ``activity_id`` (``add``/``create``/``invite`` Create,
``edit`` Update, ``remove``/``delete``/``revoke`` Delete, ``access`` Read, other verbs such as
``stop_monitor`` or ``sync`` Other). Snyk records completed actions, so ``status`` is
Success. ``userId`` -> ``actor.user.uid``; the Group, Organization and Project are
``resources`` (types ``Snyk Group``/``Snyk Organization``/``Snyk Project``; ``content.orgName``
or ``content.projectName`` name them when given); the Group (Snyk's top-level account; else
the Organization) is ``metadata.tenant_uid``; ``api.service.name`` is ``Snyk``;
``src_endpoint`` is of type Unknown (OCSF requires it; no caller address is recorded). ``created`` is the time (Snyk
writes UTC, v1 without a zone: ``2023-04-11 23:32:14.173``); an event without one gets the
receipt time and the ``secpipe:time_from_receipt`` label. ``content`` (the before/after of a
change, the invited e-mail, ...) stays whole in ``unmapped``.

Written by hand on the CI/CD helpers (:mod:`._cicd`): the events are small and few (an API
page holds at most 100), so one msgspec decode per batch and a comprehension per column is
the whole cost.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _cicd as c
from secpipe.formats._findings import CheckedRecordFormat
from secpipe.formats.base import UNREADABLE, Records, text_or_none


class _Event(msgspec.Struct, gc=False):
    event: Any = None
    created: Any = None
    groupId: Any = None  # noqa: N815 - the v1 API's key
    orgId: Any = None  # noqa: N815
    projectId: Any = None  # noqa: N815
    userId: Any = None  # noqa: N815
    group_id: Any = None
    org_id: Any = None
    project_id: Any = None
    user_id: Any = None
    content: Any = None


_MAPPED = frozenset({"event", "created", "groupId", "orgId", "projectId", "userId", "group_id", "org_id", "project_id",
                     "user_id"})  # fmt: skip
_REST = msgspec.json.Decoder(dict[str, Any])
_ENC = msgspec.json.Encoder()
#: an audit action as GitHub names them (a dotted lower-case name), not Snyk's free-text content.action
_DOTTED_ACTION = re.compile(rb'"action"\s*:\s*"[a-z0-9_]+\.[a-z0-9_.]+"')
_SNYK_EVENT = re.compile(rb'"event"\s*:\s*"(?:org|group|account)\.[a-z_]+|"event"\s*:\s*"api\.access"')


def _name(content: Any, key: str) -> str | None:
    return text_or_none(content.get(key)) if isinstance(content, dict) else None


class SnykAudit(CheckedRecordFormat):
    """Snyk Group and Organization audit logs (API v1 and REST)."""

    name = "snyk_audit"
    record_type = _Event
    what = "a Snyk audit-log event"
    invalid_reason = "not a Snyk audit-log event: no dotted `event` name (such as org.user.add)"
    description = "Snyk Group/Organization audit logs (API v1 array or NDJSON, REST audit_logs/search) -> API Activity (6003)"
    framing = "lines"
    product = "Snyk"
    vendor = "Snyk"

    def sniff(self, head: bytes) -> int:
        """An ``"event": "org.…"`` (``group.``, ``account.``, ``api.access``) beside Snyk's id keys, and
        no action named as GitHub's audit log names them (``"action": "org.add_member"``: it has
        ``org_id`` and sometimes an ``event`` too). Snyk's own ``content.action`` is free text
        (``"Retrieve files"``, ``"Cloned repo: ..."``, on its project file events)."""
        h = head[:8192]
        if not _SNYK_EVENT.search(h) or _DOTTED_ACTION.search(h):
            return 0
        return 85 if any(k in h for k in (b'"orgId"', b'"groupId"', b'"org_id"', b'"group_id"')) else 0

    def split_records(self, data: bytes, source: str) -> Records:
        """Events of an array, NDJSON or one object; a REST search page gives its ``data.items``
        (or ``data`` when it is the list). An empty page (no audit event in the searched window)
        reads as no record and no dead letter, as an empty CloudTrail ``Records`` file does, so
        the summary's ``events`` stays stored + duplicates + dead-lettered."""
        head = data.lstrip()[:4096]
        if head[:1] == b"{" and b'"data"' in head:
            try:
                doc = _REST.decode(data)
            except UNREADABLE:  # (not UTF-8: a key or string's bytes) read as records below
                doc = None
            page = doc.get("data") if isinstance(doc, dict) else None
            items = page.get("items") if isinstance(page, dict) else page
            if isinstance(items, list):
                raws = [_ENC.encode(x) for x in items]
                return Records(raws, [(source, i) for i in range(len(raws))], [], len(raws))
        return super().split_records(data, source)

    def is_valid(self, rec: _Event) -> bool:
        """A dotted event name."""
        return isinstance(rec.event, str) and "." in rec.event

    def map_valid(self, evs: list[_Event], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        sid = c.sid
        orgs = [sid(e.orgId if e.orgId is not None else e.org_id) for e in evs]
        groups = [sid(e.groupId if e.groupId is not None else e.group_id) for e in evs]
        projects = [sid(e.projectId if e.projectId is not None else e.project_id) for e in evs]
        names = [e.event for e in evs]
        n = len(evs)
        cols: dict[str, Any] = {
            "api.operation": names,
            "api.service.name": ["Snyk"] * n,
            "metadata.event_code": names,
            "metadata.tenant_uid": [g or o for o, g in zip(orgs, groups, strict=True)],
            "actor.user.uid": [sid(e.userId if e.userId is not None else e.user_id) for e in evs],
            # OCSF requires src_endpoint in API Activity; Snyk names no caller address (as GitHub webhooks)
            "src_endpoint.type_id": [0] * n,
            "src_endpoint.type": ["Unknown"] * n,
            "status_id": [1] * n,
            "status": ["Success"] * n,
            "resources": c.resources_column([
                (("Snyk Group", None, g), ("Snyk Organization", _name(e.content, "orgName"), o),
                 ("Snyk Project", _name(e.content, "projectName"), p))
                for e, g, o, p in zip(evs, groups, orgs, projects, strict=True)
            ]),  # fmt: skip
            "unmapped": c.unmapped_rest(tops, _MAPPED),
        }
        return c.columns_batch(
            "api_activity", fmt=self, raws=raws, times=[c.iso_ms(e.created) for e in evs],
            activity=[c.verb_activity(x) for x in names], severity=1, columns=cols, checked=True,
        )  # fmt: skip
