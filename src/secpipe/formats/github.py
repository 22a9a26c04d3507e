"""GitHub: webhook payloads (every event type) and organization/enterprise audit-log events.

Input: one payload (as GitHub POSTs it), a JSON array or NDJSON of payloads, or audit-log
NDJSON (``action``, ``actor``, ``@timestamp``/``created_at``, ...). One record = one event.
A REST API code scanning, Dependabot or secret scanning alert (``GET /repos/{owner}/{repo}/code-scanning/alerts``,
``.../dependabot/alerts``, ``.../secret-scanning/alerts`` and the organization's lists: an array of the alerts
themselves, or one alert got by number) is read as the ``alert`` of a code_scanning_alert / dependabot_alert /
secret_scanning_alert payload
(:func:`rest_alert`): no sender or action, the repository the organization's list names, else the
one of the alert's ``html_url``; ``api.service.name`` "GitHub REST API". Recognized by a code
scanning alert's ``most_recent_instance``, ``rule``, ``tool`` and ``number``, a Dependabot alert's
``security_vulnerability``, ``dependency`` and ``number``, a secret scanning alert's ``secret_type``,
``locations_url`` and ``number``.

Event type of a webhook: GitHub sends it in the ``X-GitHub-Event`` header. The HTTP route
passes it in the source string: a source containing ``github-event=<name>`` (for example
``http:/github/webhook;github-event=push``) names the type of every payload in that body. A
file has no header, so the type is inferred from the payload shape (:func:`infer_event`:
``commits`` with ``pusher`` or ``ref`` -> push, ``pull_request``, ``workflow_run``, ``deployment_status``,
``alert`` with ``secret_type`` -> secret_scanning_alert, ...); the inference matches the
event type of every payload in the octokit/webhooks corpus; types beyond it are told by the
main object GitHub documents for them (content_reference, repository_advisory, repository_ruleset,
projects_v2, personal_access_token_request, custom_property(_values), installation_target,
sub_issues, secret_scanning_alert_location, deployment_protection_rule; security_and_analysis
is ``changes`` without an action, branch_protection_configuration a repository with action
enabled/disabled). A payload whose shape names no
type (only a repository and an action that no repository event has, as in Panther's
GitHub.Webhook test events) is mapped generically with ``api.operation`` = the action and no
``metadata.event_code``, not guessed as another type. A record with ``sender`` (or
``hook``/``repository``/``organization`` objects) is a webhook; one with a string
``actor`` and an ``action`` is an audit-log event; anything else is dead-lettered.

OCSF classes (why):
- push, pull_request* and every type without a specific mapping -> API Activity (6003): a
  change made through GitHub's API/UI by ``sender``, on the repository (``resources``).
  ``api.operation`` is ``<event>.<action>``; activity from the action verb
  (created/opened -> Create, deleted/removed -> Delete, else Update; push: new ref Create,
  deleted ref Delete, else Update; security_and_analysis, which has no action, Update).
- workflow_run, workflow_job -> Scheduled Job Activity (1006): a workflow is a job a
  scheduler runs on triggers; ``job.name``, ``job.file.path``, ``job.run_state``; requested
  /queued/waiting -> Create, in_progress -> Start, completed -> Update with the conclusion
  as status (success -> Success, failure/cancelled/timed_out/... -> Failure);
  ``metadata.correlation_uid`` = run id, so a run and its jobs correlate.
- deployment, deployment_status -> Application Lifecycle (6002) Install: the repository's
  application (``app``: name = repository, version = commit sha, uid = deployment id) is
  being installed into an environment; deployment_status state -> status.
- repository, branch_protection_rule -> Entity Management (3004): admin actions on a managed
  entity (a branch protection rule is a policy: ``entity.type_id`` 5 Policy).
- member -> User Access Management (3005): a collaborator gains/loses repository privileges
  (``privileges`` = the permission, ``resource`` = repository).
- organization, team, membership, team_add -> Group Management (3006): members added/removed/invited
  to an organization or team (group), teams created/deleted, team access to repositories.
- secret_scanning_alert -> Detection Finding (2004): a detected exposed secret (severity
  High: GitHub gives none, and a leaked credential is high by default). A REST API alert carries the
  secret itself (``secret``, unless fetched with ``hide_secret=true``): its ``raw_data`` holds
  ``[REDACTED:<secret_type>]`` in its place (:func:`_hide_secret`), so the lake does not spread the
  credential the finding reports (``metadata.uid`` is still the hash of the alert as received).
- code_scanning_alert, dependabot_alert, repository_vulnerability_alert -> Vulnerability
  Finding (2002) with ``vulnerabilities[]`` (CVE/GHSA, CWE, CVSS, affected package or code
  location) and finding status from the alert state (a dismissed alert, a code scanning
  ``closed_by_user`` or a secret resolved as false positive/won't fix/used in tests, is
  Suppressed; fixed/resolved is Resolved), else, in older deliveries without a state, from the
  action. Older code scanning payloads give the location only in ``instances[]`` (before
  ``most_recent_instance``); newer Dependabot advisories rate CVSS in ``cvss_severities`` (v3 and
  v4, the deprecated ``cvss`` then scored 0) and add ``epss`` (``cve.epss``).
- audit-log events -> API Activity: ``api.operation`` = action, ``actor.user`` = actor,
  ``src_endpoint.ip``/country, ``http_request.user_agent``, repository/user/org/team resources
  (``team`` is ``org/team`` as team events write it, top-level or, in the older export, in
  ``data``; it also stays in ``unmapped``); the
  activity from the action verb, else from GitHub's ``operation_type`` (create, access, modify,
  remove; transfer and restore are updates), as audit-log streaming writes for every event;
  status Failure for an action GitHub's event reference names a refused or failed attempt
  (``protected_branch.rejected_ref_update``, ``pre_receive_hook.rejected_push``,
  ``user.failed_login``), else from an API request's HTTP code (400 or more), else none.

Actor: a webhook's ``sender`` (login, id) with its GitHub account type as ``actor.user.type_id``:
User 1 User, Bot (a GitHub App's account) 4 Service, Organization/Enterprise/Mannequin 99 Other
with GitHub's word as ``type``. An audit event's ``actor`` the same way from audit-log streaming's
``actor_is_bot`` (true: 4 Service; false: 1 User) and ``actor_is_agent`` (an AI agent such as
Copilot's: 99 Other, type "Agent"); neither given: no type.

OCSF conformance (what the source cannot give): API Activity requires ``src_endpoint``, but a
webhook carries no address of the caller (GitHub delivers it from its own servers), so webhook
API Activity has ``src_endpoint.type_id`` 0 Unknown and nothing else; audit events give
``actor_ip`` when the organization enabled it, and also say nothing of the device type (0
Unknown). Vulnerability alerts carry the vulnerable range and the fixed version, never the
installed version OCSF requires of ``affected_packages``, so none is emitted: the package (name,
ecosystem, manifest path, fixed version, vulnerable range) goes to ``unmapped.affected_package``;
a job named by neither workflow nor payload is named ``<event> <id>`` (OCSF requires
``job.name``); a workflow's file is a Regular File (``job.file.type_id`` 1) and
no ``job.file`` without a path; ``job.run_state`` is the OCSF caption of ``run_state_id``
(GitHub's status word is in ``raw_data``, the conclusion in ``status_detail``); a branch
protection rule is ``entity.type`` Policy. ``privileges`` stays absent where the member payload
names no new permission (``added`` without ``changes``, ``edited`` with only the old one).

Time: the event's own time where the payload has one (push: ``repository.pushed_at``; else
the primary object's ``updated_at``/``created_at``; audit: ``@timestamp``/``created_at``);
many webhook types carry none and get the receipt time with the ``secpipe:time_from_receipt``
label. ``unmapped`` keeps the top-level keys the class does not place; ``raw_data`` the
whole canonical payload.

Speed: with the native extension a webhook payload is read by one native pass and mapped from it
(:mod:`secpipe.formats._github_scan`, where the time goes); the typed views msgspec decodes otherwise
are in :mod:`secpipe.formats._github_views`.
Audit-log events (small, ~300 bytes) are mapped in columns with the extension (``_github_audit``:
one native walk a batch, or a kept document's lines where they lie, then Arrow kernels) for
batches of ``_github_audit.MIN_ROWS`` records or more; the msgspec path above maps smaller ones,
the batches the walk declines and everything without the extension.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _cicd as c
from secpipe.formats import _github_audit as _audit
from secpipe.formats import _github_map as m
from secpipe.formats._github_scan import (
    _HEAD,
    _PR_RANGE,
    _SCAN_UNCHECKED,
    _TIME_SLOT,
    _Probe,
    _ScannedTop,
    _scanner,
    view_of,
)
from secpipe.formats._github_views import (
    _ALERT,
    _AUDIT,
    _HOOK,
    _HOOK_BASE,
    _REST_ALERT,
    _REST_REPO,
    _TIMES,
    _TYPED_PRIMARY,
    _Alert,
    _Hook,
    _HookBase,
    _loose_times,
    _Times,
    _times_first,
)
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    _ndjson_line,
    _printed_object,
    uid_hasher,
)


def rest_alert(keys: AbstractSet[str]) -> str | None:
    """The webhook event type of a REST API alert record, else None: an element of
    ``GET /repos/{owner}/{repo}/code-scanning/alerts`` or ``.../dependabot/alerts`` (or the
    organization's list, or one alert got by number) is the alert itself, no webhook envelope, no
    ``action`` or ``sender``: a code scanning alert's ``number``, ``rule``, ``tool`` and
    ``most_recent_instance`` (or ``instances_url``) at the top level; a Dependabot alert's ``number``,
    ``dependency`` and ``security_vulnerability``; a secret scanning alert's (``.../secret-scanning/alerts``)
    ``number``, ``secret_type`` and ``locations_url``."""
    if "number" not in keys or "action" in keys or "sender" in keys or "alert" in keys:
        return None
    if "rule" in keys and "tool" in keys and ("most_recent_instance" in keys or "instances_url" in keys):
        return "code_scanning_alert"
    if "security_vulnerability" in keys and "dependency" in keys:
        return "dependabot_alert"
    if "secret_type" in keys and "locations_url" in keys:
        return "secret_scanning_alert"
    return None


#: the top-level ``"secret":`` key of a REST API secret scanning alert (a quote inside a string is escaped)
_SECRET_KEY = re.compile(rb'(?<!\\)"secret"\s*:\s*')


def _hide_secret(raw: Any, top: dict[str, msgspec.Raw], hook: _Hook) -> bytes:
    """A REST API secret scanning alert with its ``secret`` value replaced by ``"[REDACTED:<secret_type>]"``
    (the alert as it came where that value is not a string)."""
    value, text = bytes(top["secret"]), bytes(raw)
    if not value.startswith(b'"'):
        return text
    kind = (hook.alert.secret_type if hook.alert is not None else None) or "secret"
    mask = msgspec.json.encode(f"[REDACTED:{kind}]")
    for key in _SECRET_KEY.finditer(text):
        if text.startswith(value, key.end()):
            return text[: key.end()] + mask + text[key.end() + len(value) :]
    return text


def _rest_hook(raw: Any) -> _Hook:
    """A REST API alert record as the webhook view its mapping reads: the record is the alert;
    an organization's list names its repository beside it."""
    return _Hook(alert=_REST_ALERT.decode(raw), repository=_REST_REPO.decode(raw).repository)

# ---------------------------------------------------------------------------------------
# Event type inference (files carry no X-GitHub-Event header)
# ---------------------------------------------------------------------------------------

_SINGLE_KEYS = {
    "sub_issue": "sub_issues", "content_reference": "content_reference", "repository_advisory": "repository_advisory",
    "repository_ruleset": "repository_ruleset", "projects_v2": "projects_v2",
    "projects_v2_status_update": "projects_v2_status_update",
    "personal_access_token_request": "personal_access_token_request", "definition": "custom_property",
    "new_property_values": "custom_property_values", "target_type": "installation_target",
    "check_run": "check_run", "check_suite": "check_suite", "discussion": "discussion", "issue": "issues",
    "label": "label", "marketplace_purchase": "marketplace_purchase", "merge_group": "merge_group",
    "milestone": "milestone", "blocked_user": "org_block", "registry_package": "registry_package",
    "package": "package", "project_card": "project_card", "project_column": "project_column",
    "projects_v2_item": "projects_v2_item", "project": "project", "release": "release",
    "security_advisory": "security_advisory", "sponsorship": "sponsorship", "forkee": "fork", "pages": "gollum",
    "key": "deploy_key", "rule": "branch_protection_rule", "repositories_added": "installation_repositories",
    "client_payload": "repository_dispatch", "starred_at": "star", "inputs": "workflow_dispatch",
    "membership": "organization", "invitation": "organization",
}  # fmt: skip
#: objects only GitHub webhook payloads hold beside a repository with a ``full_name``
_HOOK_OBJECTS = (b'"pusher"', b'"pull_request"', b'"workflow_run"', b'"workflow_job"', b'"check_run"',
                 b'"check_suite"', b'"deployment_status"')  # fmt: skip
#: objects (named as no other source names a key) of payloads that may come without repository or sender
_ACTIONS_OBJECTS = (b'"workflow_run"', b'"workflow_job"', b'"check_run"', b'"check_suite"', b'"deployment_status"')
_REPO_ACTIONS = frozenset({"created", "deleted", "archived", "unarchived", "edited", "renamed", "transferred", "publicized", "privatized"})


def _alert_kind(alert: _Alert | None) -> str:
    if alert is None:
        return "code_scanning_alert"
    if alert.secret_type is not None or alert.resolution is not None and alert.rule is None:
        return "secret_scanning_alert"
    if alert.rule is not None or alert.tool is not None:
        return "code_scanning_alert"
    if alert.security_advisory is not None or alert.dependency is not None:
        return "dependabot_alert"
    return "repository_vulnerability_alert"


#: top-level keys of the audit log (its REST API, streaming, Panther's copy) that no webhook payload has
_AUDIT_ONLY = frozenset({"@timestamp", "_document_id", "at_sign_timestamp"})


def _is_audit(top: Mapping[str, msgspec.Raw]) -> bool:
    """Whether a record (its top-level raw map) is an audit-log event: no ``sender``, an ``action``,
    and a string ``actor``; or no actor (absent or null: an action of GitHub itself, or of an
    account since deleted), the audit log's own keys and a dotted action (``repo.create``;
    webhook actions are single words), stored with no actor.user, not dead-lettered."""
    action = top.get("action")
    if "sender" in top or action is None:
        return False
    actor = top.get("actor")
    if actor is not None:
        head = bytes(memoryview(actor)[:1])
        if head != b"n":  # not null
            return head == b'"'
    return bool(top.keys() & _AUDIT_ONLY) and b"." in bytes(action)


def infer_event(keys: AbstractSet[str], hook: _HookBase | None = None) -> str:
    """The X-GitHub-Event name of a payload, from its top-level keys (and the alert shape)."""
    rest = rest_alert(keys)
    if rest is not None:
        return rest
    if "commits" in keys and ("pusher" in keys or "ref" in keys):  # only push has both at the top
        return "push"
    if "zen" in keys:
        return "ping"
    if "hook_id" in keys and "hook" in keys:
        return "meta"
    if "pull_request" in keys:
        for key, name in (("review", "pull_request_review"), ("thread", "pull_request_review_thread"), ("comment", "pull_request_review_comment")):
            if key in keys:
                return name
        return "pull_request"
    if "deployment_status" in keys:
        return "deployment_status"
    if "reviewers" in keys or "workflow_job_run" in keys or "requestor" in keys:
        return "deployment_review"
    if "deployment_callback_url" in keys:
        return "deployment_protection_rule"
    for key in ("workflow_job", "deployment", "workflow_run"):
        if key in keys:
            return key
    if "alert" in keys:
        return "secret_scanning_alert_location" if "location" in keys else _alert_kind(hook.alert if hook else None)
    if "comment" in keys:
        return "issue_comment" if "issue" in keys else ("discussion_comment" if "discussion" in keys else "commit_comment")
    if "member" in keys:
        return "membership" if "team" in keys else "member"
    if "team" in keys:
        return "team" if "action" in keys else "team_add"
    for key, name in _SINGLE_KEYS.items():
        if key in keys:
            return name
    if "ref_type" in keys:
        return "create" if "master_branch" in keys else "delete"
    if "sha" in keys and "state" in keys and "context" in keys:
        return "status"
    if "build" in keys:
        return "page_build"
    if "status" in keys:
        return "repository_import"
    if "repositories" in keys or "requester" in keys or ("installation" in keys and "repository" not in keys and "action" in keys and "organization" not in keys):
        return "installation"
    action = hook.action if hook else None
    if "changes" in keys:
        if "action" not in keys:
            return "security_and_analysis"
        return "repository" if "repository" in keys else "organization"
    if action == "revoked":
        return "github_app_authorization"
    if action == "started":
        return "watch"
    if "repository" in keys:  # public: the only repository-only payload without an action
        if action in ("enabled", "disabled"):
            return "branch_protection_configuration"
        return "repository" if action in _REPO_ACTIONS else "public" if action is None else "unknown"
    if "organization" in keys and action:
        return "organization"
    return "unknown"


def event_hint(source: str) -> str | None:
    """The ``X-GitHub-Event`` value the HTTP route put in the source (``github-event=<name>``)."""
    _, sep, rest = source.partition("github-event=")
    if not sep:
        return None
    name = rest.split(";", 1)[0].split("&", 1)[0].split(",", 1)[0].strip()
    return name or None


class GitHub(RecordFormat):
    """GitHub webhooks and audit log."""

    name = "github"
    description = "GitHub webhook payloads (all event types) and organization audit-log events -> OCSF per type"
    framing = "document"
    product = "GitHub"
    vendor = "GitHub"

    def sniff(self, head: bytes) -> int:
        """Webhook payloads (sender + repository/organization) or audit-log events."""
        h = head[:65536]
        if b'"sender"' in h and b"github.com" in h:  # (api.github.com holds github.com)
            return 92
        if b'"GitHub.Webhook"' in h:  # Panther's p_log_type of webhook payloads
            return 85
        if b'"repository"' in h and b'"full_name"' in h and any(k in h for k in _HOOK_OBJECTS):
            return 70  # senderless payloads (abridged, or as a log pipeline stored them)
        if b'"zen"' in h and b'"hook_id"' in h and b'"hook"' in h:
            return 80  # a ping (GitHub's own keys), also as a GitHub App's hook sends it: no sender or repository
        if b'"most_recent_instance"' in h and b'"rule"' in h and b'"tool"' in h and b'"number"' in h:
            return 80  # REST API code scanning alerts (a list, or one alert): the alert objects bare
        if b'"security_vulnerability"' in h and b'"dependency"' in h and b'"number"' in h:
            return 80  # REST API Dependabot alerts, the same
        if b'"secret_type"' in h and b'"locations_url"' in h and b'"number"' in h:
            return 80  # REST API secret scanning alerts, the same
        if b'"action"' not in h:  # every rule below needs it
            return 0
        if any(k in h for k in _ACTIONS_OBJECTS):
            return 70  # GitHub-only objects, in payloads abridged to them (Panther's workflow_run tests)
        if b'"security_advisory"' in h and b'"ghsa_id"' in h:
            return 85
        if b"api.github.com/" in h and (
            b'"repository"' in h or b'"organization"' in h or b'"installation"' in h
        ):  # payloads GitHub sends without a sender (e.g. early code_scanning_alert deliveries)
            return 80
        if b'"actor"' in h and (
            b'"programmatic_access_type"' in h or b'"actor_location"' in h
            or (b'"org"' in h and b'"repo"' in h) or b'"at_sign_timestamp"' in h or b'"@timestamp"' in h
        ):  # fmt: skip
            return 75
        if b'"GitHub.Audit"' in h or (b'"_document_id"' in h and (b'"@timestamp"' in h or b'"at_sign_timestamp"' in h)):
            return 75  # audit events with no actor (see _is_audit)
        return 0

    @c.gc_paused
    def map_records(self, recs: Records) -> Decoded:
        """Map webhook payloads and audit events into their OCSF classes.

        One pass over the records: each payload is scanned natively (keys, typed view values,
        unmapped, SHA-256 for ``metadata.uid``) and mapped from the scan, or, when the scan
        declines it or there is no extension, read as a top-level raw map and as the typed view
        with msgspec, mapped and hashed (hashlib, SHA-NI); either way one payload after the
        other while its bytes are in the CPU cache (a pass per step over a batch of 10 KB
        payloads reads it from memory each time: 3.7 us a payload more). Dead letters
        are reported in the same order as ever: not JSON, then not GitHub, then not a valid
        webhook payload, then not a valid audit event.

        A kept document's lines are checked by the scan itself (``HookScanner.scan_checked``, see
        :meth:`_read_docs`); when a line turns out not to be a compact JSON object in UTF-8, the
        records are read again with every line checked first (``_Unchecked``), as they always were.
        One kept document alone (a decode's) is not even bounded first: each line is found by the
        walk that reads it (``HookScanner.scan_line``: the walk ends where the line's object does),
        so its bytes are read from memory once, not once for the lines' bounds and again to scan
        (a document of one line, or whose first line looks like audit events, goes the way above).
        """
        out = Decoded(dead=list(recs.dead), events=recs.events)
        if len(recs.docs) == 1 and not recs.raws and self._audit_doc(recs.docs[0][0], out):
            return out
        if not recs.docs:
            return self._map(recs, out, lazy=False)
        try:
            return self._map(recs, out, lazy=True)
        except _Unchecked:
            return self._map(recs, Decoded(dead=list(recs.dead), events=recs.events), lazy=False)

    def _map(self, recs: Records, out: Decoded, *, lazy: bool) -> Decoded:
        """:meth:`map_records` after its audit document check; ``lazy``: a kept document's lines
        may be left to the scan's check (raises ``_Unchecked`` when one is not a good line)."""
        spans: list[tuple[Any, ...] | None] | None = None  # where a record of a kept document lies
        scanner = _scanner()
        # one kept document read line by line by the scan, which finds each line's end as it walks
        # (HookScanner.scan_line): no pass over the document for its lines' bounds first
        line: Any = None
        if lazy and len(recs.docs) == 1 and not recs.raws and hasattr(scanner, "scan_line"):
            doc, source = recs.docs[0]
            view: Any = memoryview(doc)  # (its slices are the records: bytes to the code below)
            pos = 0
            if not _audit.likely([view[: doc.find(b"\n")]]):  # its first line (defer: a "{" at 0, a newline)
                line = scanner.scan_line  # (else _read_docs', and the audit walk's path below, with checked lines)
                recs, spans = Records([], []), []
        if recs.docs:
            recs, spans = self._read_docs(recs, out, lazy=lazy)
        if not recs.raws and line is None:
            return out
        not_json: list[DeadLetter] = []
        not_github: list[DeadLetter] = []
        not_hook: list[DeadLetter] = []
        audits: dict[int, dict[str, msgspec.Raw]] = {}
        # by class: its rows as (record, row, time, activity, severity), in order, and its unmapped column's number
        # in the scanner (HookScanner.sink_new; None without the extension: the rows' own unmapped is taken)
        groups: dict[str, tuple[list[tuple[int, dict[str, Any], int | None, int, int]], int | None]] = {}
        hints: dict[str, str | None] = {}
        top_of, hook_of, lean_of, name = c.TOP.decode, _HOOK.decode, _HOOK_BASE.decode, self.name
        # a webhook's SHA-256 (metadata.uid), hashed with the reads (by record: lines read one by one are not counted first)
        digests: Any = {} if line is not None else [b""] * len(recs.raws)
        hasher = uid_hasher(name).copy
        scan = scanner.scan_head if scanner is not None else None
        checked: Any = getattr(scanner, "scan_checked", None)
        # a scan's digest is made with the next scan's, two records at once (HookScanner.digests)
        # each batch's unmapped written into its column as its rows are added (HookScanner.rest_into, sink_add)
        size = 0  # the input's bytes (what a class's unmapped column reserves is its share of them last time)

        def new_sink(cls: str) -> int | None:
            share = _SINK_SHARE.get(cls)
            return None if scanner is None else scanner.sink_new(None if share is None else int(size * share))  # type: ignore[no-any-return]

        if scanner is not None:
            scanner.digests()  # (none left over from a pass that raised _Unchecked)
            size = len(doc) if line is not None else sum(map(len, recs.raws))
            scanner.sink_open(min(size, _SINK_START))
            into, add_unmapped = scanner.rest_into, scanner.sink_add

        def put(cls: str, i: int, row: dict[str, Any], when: int | None, act: int, sev: int) -> None:
            """Add a row mapped off the scan path (its unmapped in the row) to its class's group."""
            grp = groups.get(cls)
            if grp is None:
                grp = groups[cls] = ([], new_sink(cls))
            grp[0].append((i, row, when, act, sev))
            if grp[1] is not None:
                add_unmapped(grp[1], row.get("unmapped"))
        scanned: list[int] = []  # the records given values by a scan, in order
        todo: Any = range(len(recs.raws)) if line is None else itertools.count()
        walked = None  # the audit events mapped in columns (_github_audit), the other records left to do
        if len(recs.raws) >= _audit.MIN_ROWS and _audit.likely(recs.raws):
            if spans is not None and any(w is not None and len(w) == 4 for w in spans):
                raise _Unchecked  # the audit walk takes checked records only
            walked = _audit.walk(self, recs.raws)
            if walked is not None:
                todo = walked[1]
        raws, locs = recs.raws, recs.locs
        # a generic payload whose template id the scanner kept (HookScanner.keep, by _from_scan) is answered with its
        # row and time at once, its unmapped written into the api_activity column (scan_kept): no _from_scan
        kept = getattr(scanner, "scan_kept", None) if line is not None and event_hint(source) is None else None
        for i in todo:
            if line is not None:  # the next line of the one kept document (its check too)
                if kept is not None:
                    api = groups.get("api_activity")
                    got = kept(doc, pos, _HEAD, None if api is None else api[1])
                else:
                    got = line(doc, pos, _HEAD, True, False)
                if got is None:
                    break
                if len(got) == 6:  # (a kept template's answer, scan_kept's; scan_line's has 5 items)
                    off, start, end, pos, (slot, row, act), when = got
                    raws.append(view[start:end])
                    locs.append((source, off))
                    scanned.append(i)
                    if slot is not None and (when is None or when is False):
                        when = _slot_time(scanner, slot, when)
                    if api is None:  # (its column made now: nothing was written)
                        api = groups["api_activity"] = ([], new_sink("api_activity"))
                        into(api[1], _REST)
                    api[0].append((i, row, when, act, 1))
                    continue
                off, start, end, pos, got = got
                raws.append(raw := view[start:end])
                locs.append((src := source, off))
                if got is None and scanner.line_flags(doc, start, end) != _LINE_OK | _LINE_UTF8:
                    raise _Unchecked
            else:
                raw, (src, off) = raws[i], locs[i]
                where = spans[i] if spans is not None else None
                if scan is None:
                    got = None
                elif where is None:
                    got = scan(raw, 0, len(raw), _HEAD, True, False)
                elif len(where) == 3:
                    got = scan(*where, _HEAD, True, False)
                else:  # a line of a kept document that only the scan checks (_read_docs, lazy)
                    doc, start, end, _ = where
                    got = checked(doc, start, end, _HEAD, True, False)
                    if got is None and scanner.line_flags(doc, start, end) != _LINE_OK | _LINE_UTF8:
                        raise _Unchecked
            if got is not None:
                scanned.append(i)
                hint = hints[src] if src in hints else hints.setdefault(src, event_hint(src))
                mapped = _from_scan(got, hint, raw, scanner)
                if mapped is not None:  # read by the native scan alone
                    cls, row, when, act, sev, more = mapped
                    grp = groups.get(cls)
                    if grp is None:
                        grp = groups[cls] = ([], new_sink(cls))
                    grp[0].append((i, row, when, act, sev))
                    if type(more) is list:  # the scan's unmapped but these keys, written into the column
                        into(grp[1], more)
                    else:
                        add_unmapped(grp[1], more)
                    continue
            try:
                top = top_of(raw)
            except msgspec.DecodeError as exc:
                not_json.append(DeadLetter(f"not a JSON object: {exc}", src, off, raw, name))
                continue
            if _is_audit(top):
                audits[i] = top
                continue
            hook: _HookBase
            rest = rest_alert(top.keys())
            if rest is not None:  # a REST API alert record: the alert itself is the record
                try:
                    hook = _rest_hook(raw)
                except msgspec.ValidationError as exc:
                    not_hook.append(DeadLetter(f"not a GitHub REST API alert: {exc}", src, off, raw, name))
                    continue
                cls, row, when, act, sev = m.map_hook(rest, hook, {})  # (its keys are the alert's: none unmapped)
                row["api.service.name"] = "GitHub REST API"
                put(cls, i, row, when, act, sev)
                if got is None:
                    h = hasher()
                    h.update(raw)
                    digests[i] = h.digest()
                if "secret" in top:
                    raws[i] = _hide_secret(raw, top, hook)
                continue
            if "sender" not in top and infer_event(top.keys()) == "unknown":
                not_github.append(DeadLetter(
                    "not a GitHub webhook payload (no sender or known event object) "
                    "nor an audit-log event (no action + actor)", src, off, raw, name))  # fmt: skip
                continue
            try:
                hook = hook_of(raw)
            except msgspec.ValidationError:
                try:
                    hook = lean_of(raw)
                except msgspec.ValidationError as exc:  # the reason of the view that failed
                    not_hook.append(DeadLetter(f"not a GitHub webhook payload: {exc}", src, off, raw, name))
                    continue
            hint = hints[src] if src in hints else hints.setdefault(src, event_hint(src))
            event = hint or infer_event(top.keys(), hook)
            cls, row, when, act, sev = m.map_hook(event, hook, top)
            if when is None:
                when = _primary_time(event, top, hook)
            put(cls, i, row, when, act, sev)
            if got is not None:
                continue
            h = hasher()
            h.update(raw)
            digests[i] = h.digest()
        if line is not None:
            if len(raws) < 2:  # one line: read as split_json_records reads such a document (_read_docs)
                raise _Unchecked
            out.events += len(raws)
        if scanned and len(scanned) == len(raws) and type(digests) is dict:  # every record scanned (a kept document)
            digests = scanner.digests()  # (in record order: ``scanned`` is 0, 1, ... then)
        elif scanned:
            for i, d in zip(scanned, scanner.digests(), strict=True):
                digests[i] = d
        out.dead += not_json + not_github + not_hook
        for cls, (entries, sink) in groups.items():
            idx, rows, times, acts, sevs = map(list, zip(*entries, strict=True))
            rec = [recs.raws[i] for i in idx]  # (not ``raws``: the audit events below read all of them)
            out.batches.append(_build_batch(
                cls, kind=name, product=self.product, vendor=self.vendor, raws=rec, times=times,
                activity=acts, severity=sevs, rows=rows, checked=True, uids=_uid_strings([digests[i] for i in idx], scanner),
                # records that are views of their documents (spans): raw_data is copied from them
                raw_data=None if spans is None else _raw_column(rec),
                unmapped=None if sink is None else _column(scanner.sink_take(sink), len(idx), cls, size)))  # fmt: skip
        if audits and walked is not None and walked[0] is not None:
            # the walk set aside audit events without an actor (_is_audit, rare): all the audit
            # events then go one way, the msgspec path's, as one batch in record order
            aside = set(walked[1])
            audits.update((i, top_of(raws[i])) for i in range(len(raws)) if i not in aside)
            audits = dict(sorted(audits.items()))
        elif walked is not None and walked[0] is not None:
            out.batches.append(walked[0])
        if audits:
            self._audits(list(audits), audits, recs, out)
        return out

    def _audit_doc(self, data: bytes, out: Decoded) -> bool:
        """Map a kept document of audit-log events in columns (``_github_audit.walk_doc``) into
        ``out``; False when it is not only such events (nothing done: the document is read as before)."""
        if not _audit.likely([data]) or data.count(b"\n", 0, 1 << 17) + 1 < _audit.MIN_ROWS:
            return False  # (newlines counted in the first 128 KB: a guess for speed alone)
        got = _audit.walk_doc(self, data)
        if got is None:
            return False
        out.batches.append(got[0])
        out.events += got[1]
        return True

    def defer(self, data: bytes, source: str) -> Records | None:
        """A document of NDJSON lines is kept whole when the native scanner is there: its lines
        are then checked and scanned where they lie (:meth:`_read_docs`), no bytes object made
        of each (the split's copy of every payload)."""
        if data[:1] == b"{" and 0 <= data.find(b"\n") < len(data) - 1 and _scanner() is not None:
            return Records(docs=[(data, source)])
        return None

    def split_records(self, data: bytes, source: str) -> Records:
        """:meth:`RecordFormat.split_records`; a body that is one compact JSON object in UTF-8 (as GitHub
        POSTs a payload) is told so by the native line check (``HookScanner.line_flags``, ~4 us for 10 KB)
        and is its own record, as the split gives it (no formatting pass and envelope read, ~20 us)."""
        scanner = _scanner() if data[:1] == b"{" and type(data) is bytes else None
        if scanner is not None and scanner.line_flags(data, 0, len(data)) == _LINE_OK | _LINE_UTF8:
            return Records([data], [(source, 0)], [], 1)
        return super().split_records(data, source)

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document (kept whole when :meth:`defer` takes it)."""
        return self.map_records(self.defer(data, source) or self.split_records(data, source))

    def _read_docs(self, recs: Records, out: Decoded, *, lazy: bool = False) -> tuple[Records, list[tuple[Any, ...] | None]]:
        """``recs`` with the records of its kept documents appended, and where each of those lies
        (None for the records already split); the documents' dead letters and counts go to ``out``.

        A document is read as ``base.split_json_records`` reads NDJSON: its lines checked by the
        native pass ``split_lines`` makes (``HookScanner.lines``: the same check, spans instead of
        copies), the others formatted by msgspec line by line, then records that are not UTF-8
        dead-lettered, in that order. One that is not such a document (its first line is not a
        compact JSON object, or it has one line: ``split_json_records`` then reads it whole) is split.

        ``lazy``: a document whose first line is a compact object in UTF-8 is taken in by its lines'
        bounds alone (``HookScanner.line_bounds``), none of the others checked: each is checked by the
        scan that reads it (``scan_checked``, the same check in the same walk: the document's bytes
        are read once, not once to check and once to scan). Where such a record lies is then
        (document, start, end, 0); the caller reads the documents again without ``lazy`` when a line
        is not a compact object in UTF-8 (dead letters, counts and records are then this path's).
        """
        raws: list[Any] = list(recs.raws)
        locs = list(recs.locs)
        spans: list[tuple[Any, ...] | None] = [None] * len(raws)
        scanner = _scanner()
        for data, source in recs.docs:
            bounds = scanner.line_bounds(data) if lazy and hasattr(scanner, "scan_checked") else []
            if len(bounds) >= 2 and scanner.line_flags(data, bounds[0][1], bounds[0][2]) == _LINE_OK | _LINE_UTF8:
                view = memoryview(data)
                raws += [view[start:end] for _, start, end in bounds]
                locs += [(source, off) for off, _, _ in bounds]
                spans += [(data, start, end, 0) for _, start, end in bounds]
                out.events += len(bounds)
                continue
            got = scanner.lines(data) if scanner is not None else []
            if len(got) < 2 or not got[0][3] & _LINE_OK:
                split = self.split_records(data, source)
                raws += split.raws
                locs += split.locs
                spans += [None] * len(split.raws)
                out.dead += split.dead
                out.events += split.events
                continue
            view = memoryview(data)
            if min(map(_FLAGS, got)) == _LINE_OK | _LINE_UTF8:  # every line a compact object in UTF-8 (the common case)
                raws += [view[start:end] for _, start, end, _ in got]
                locs += [(source, off) for off, _, _, _ in got]
                spans += [(data, start, end) for _, start, end, _ in got]
                out.events += len(got)
                continue
            kept: list[Any] = []
            offs: list[int] = []
            where: list[tuple[bytes, int, int] | None] = []
            dead: list[DeadLetter] = []
            past = 0  # the end of the last object printed over several lines (base._printed_object)
            for off, start, end, flags in got:
                if off < past:
                    continue
                if flags & _LINE_OK:
                    kept.append(view[start:end] if flags & _LINE_UTF8 else None)  # None: not UTF-8, seen below
                    offs.append(off)
                    where.append((data, start, end))
                    continue
                stop = data.find(b"\n", off)
                stop = len(data) if stop < 0 else stop
                n = len(kept)
                past = _printed_object(data, off, stop, kept, offs, dead, source, self.name)
                if not past:
                    _ndjson_line(data[off:stop].strip(), off, kept, offs, dead, source, self.name)
                where += [None] * (len(kept) - n)
            for k, rec in enumerate(kept):  # base._utf8_only: the records not UTF-8, in order
                if rec is None or (type(rec) is bytes and not rec.isascii()):
                    _d, start, end = where[k] or (None, 0, 0)
                    text = rec if rec is not None else data[start:end]
                    try:
                        text.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        dead.append(DeadLetter(f"not valid UTF-8 at byte {exc.start}", source, offs[k], text, self.name))
                        kept[k] = None
                    else:
                        kept[k] = rec if rec is not None else view[start:end]
            for rec, off, w in zip(kept, offs, where, strict=True):
                if rec is None:
                    continue
                raws.append(rec)
                locs.append((source, off))
                spans.append(w)
            out.dead += dead
            out.events += len(kept) - kept.count(None) + len(dead)
        return Records(raws, locs), spans

    def _typed(self, idx: list[int], recs: Records, one: msgspec.json.Decoder, what: str,
               out: Decoded) -> tuple[list[int], list[Any]]:  # fmt: skip
        keep, typed = [], []
        dec = one.decode
        for i in idx:
            try:
                typed.append(dec(recs.raws[i]))
                keep.append(i)
            except msgspec.ValidationError as exc:
                src, off = recs.locs[i]
                out.dead.append(DeadLetter(f"not {what}: {exc}", src, off, recs.raws[i], self.name))
        return keep, typed

    def _audits(self, idx: list[int], tops: dict[int, dict[str, msgspec.Raw]], recs: Records, out: Decoded) -> None:
        idx, audits = self._typed(idx, recs, _AUDIT, "a GitHub audit-log event", out)
        if not idx:
            return
        cols, times, acts = m.audit_columns(audits, [tops[i] for i in idx])
        out.batches.append(c.columns_batch("api_activity", fmt=self, raws=[recs.raws[i] for i in idx], times=times,
                                           activity=acts, severity=1, columns=cols, checked=True))  # fmt: skip


_LINE_OK, _LINE_UTF8 = 1, 2  # HookScanner.lines flags


class _Unchecked(Exception):  # noqa: N818 - a signal, not an error
    """A line left to the scan's check is not a compact JSON object in UTF-8 (``GitHub._map``)."""
_FLAGS = operator.itemgetter(3)  # of a HookScanner.lines item


def _column(buffers: tuple[Any, Any, Any, int], n: int, cls: str = "", size: int = 0) -> pa.Array:
    """The string column of ``n`` values from a column's buffers (``HookScanner.sink_take``); its share of the
    input's ``size`` bytes is what ``cls``'s next column reserves (``_SINK_SHARE``)."""
    offsets, data, valid, nulls = buffers
    data = pa.py_buffer(data)
    if size:
        _SINK_SHARE[cls] = data.size / size
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), data, None if valid is None else pa.py_buffer(valid), nulls)


def _build_batch(cls: str, *, rows: list[dict[str, Any]], unmapped: pa.Array | None = None, **common: Any) -> pa.RecordBatch:
    """``_cicd.build_batch`` of rows many of which are one dict (a generic payload's row is its template's,
    ``_github_map.generic_scanned``): the layouts and columns are read from each distinct row once and
    then taken for every row (``operator.itemgetter`` of their positions: a C loop), not by a ``dict.get`` a
    row and key. The same columns (tuples where ``build_batch`` gives lists), the same batch."""
    ids = list(map(id, rows))
    first = dict(zip(ids, rows, strict=True))  # (the rows hold them: an id stands for one object throughout)
    if len(first) * 4 > len(rows) * 3:  # few shared: build_batch's way
        return c.build_batch(cls, rows=rows, unmapped=unmapped, **common)
    distinct = list(first.values())
    where = dict(zip(first, range(len(first)), strict=True))
    pos = list(map(where.__getitem__, ids))
    take = operator.itemgetter(*pos)  # (rows > distinct >= 1: a tuple each call)
    layouts = dict.fromkeys(map(tuple, distinct))  # in order of first appearance, as over every row
    keys: dict[str, None] = {}
    for layout in layouts:  # the keys in order of first appearance
        keys.update(dict.fromkeys(layout))
    get = dict.get
    index: pa.Array | None = None
    columns: dict[str, Any] = {}
    for k in keys:
        if k == "unmapped" and unmapped is not None:
            columns[k] = unmapped
            continue
        vals = list(map(get, distinct, itertools.repeat(k)))
        if k in _ROW_VALUES or all(v is None for v in vals):  # (an all-None column is left out all the same)
            columns[k] = take(vals)
            continue
        # a leaf converted once a distinct value and taken for every row (Arrow's take: the same column as
        # pa.array over every row's value gives, with no Python object visited again)
        if index is None:
            index = pa.array(pos, pa.int32())
        columns[k] = pa.array(vals, c._type(cls, k)).take(index)
    return c.leaves_batch(cls, columns=columns, **common)


#: the columns ``_build_batch`` gives ``leaves_batch`` as row values, not as an array: ``resources`` (converted
#: once a distinct list there), ``unmapped`` made of the rows (none made natively: ``bytes_column``)
_ROW_VALUES = frozenset({"resources", "unmapped"})


def _uid_strings(digests: list[bytes], scanner: Any) -> pa.Array:
    """``_cicd.uid_strings`` of a batch's SHA-256 digests; more than a few are put in hex natively
    (``HookScanner.uid_hex``: the same column, where numpy's table lookup and two casts cost ~1.7k
    instructions a payload)."""
    hexed = getattr(scanner, "uid_hex", None)
    if hexed is None or len(digests) <= c._SMALL:
        return c.uid_strings(digests)
    offsets, data, _valid, _nulls = hexed(digests)
    return pa.StringArray.from_buffers(len(digests), pa.py_buffer(offsets), pa.py_buffer(data))


def _raw_column(raws: list[Any]) -> pa.Array:
    """The raw_data column of records some of which are views of their documents (memoryview):
    each copied once into one buffer (``_cicd.copied_strings``: no bytes object made of a view
    first). The records are UTF-8 (checked as read)."""
    return c.copied_strings(raws)


_PRIMARY = {"issues": "issue", "fork": "forkee", "org_block": "blocked_user", "deploy_key": "key", "pull_request_review": "review",
            "issue_comment": "comment", "discussion_comment": "comment", "commit_comment": "comment", "page_build": "build"}



#: events whose time is at the payload's top level, not in a main object (a commit status, a star)
_TOP_TIMES = {"status": ("updated_at", "created_at"), "star": ("starred_at",)}


def _top_value(raw: Any) -> Any:
    """A top-level raw JSON value decoded (None where absent or unreadable: it stays in raw_data)."""
    if raw is None:
        return None
    try:
        return msgspec.json.decode(bytes(raw))
    except msgspec.DecodeError:
        return None


def _primary_time(event: str, top: dict[str, msgspec.Raw], hook: _HookBase) -> int | None:
    """``updated_at``/``created_at`` of the payload's main object, if it has one (of the payload
    itself for :data:`_TOP_TIMES`' events)."""
    at_top = _TOP_TIMES.get(event)
    if at_top is not None:
        return c.first_time(*(_top_value(top.get(k)) for k in at_top))
    key = _PRIMARY.get(event, event)
    if key in _TYPED_PRIMARY and isinstance(hook, _Hook):  # decoded with the payload
        t = getattr(hook, key)
        return _times_first(t) if isinstance(t, _Times) else None
    if key == "repository" and hook.repository is not None:  # (the view holds its first time: no decode)
        ms = c.iso_ms(hook.repository.updated_at)
        if ms is not None:
            return ms
    raw = top.get(key)
    if raw is None or bytes(memoryview(raw)[:1]) != b"{":
        return None
    try:
        t = _TIMES.decode(raw)
    except msgspec.ValidationError:  # a value msgspec cannot hold (1e400, legal JSON): the others still count
        t = _loose_times(raw)
    return _times_first(t) if t else None


_PR_EVENTS = frozenset(m.PR_EVENTS)
_NUMBER = ["number"]  # the key a pull request mapping places beyond the common ones
_REST: list[str] = []  # (no key beyond the common ones)

def _slot_time(scanner: Any, slot: int, when: Any) -> int | None:
    """The time of the main object at spec value ``slot`` when ``HookScanner.when`` did not parse it
    (``when``: False, or None when none of its updated/submitted/created times is set)."""
    if when is False:  # a time not in GitHub's own form: read as the msgspec path reads it
        when = c.first_time(*scanner.slots(slot + 1, slot + 4))
    if when is None:  # no updated/submitted/created time (a check run): its completion or start
        when = c.first_time(*scanner.slots(slot + 4, slot + 6))
    return when  # type: ignore[no-any-return]


#: (template id of the scan, event hint) -> (spec index of the main object, row, activity) of a generically mapped
#: payload (:func:`_from_scan`): the id stands for the key layout (so the route) and the values the row is made of
_GENERIC: dict[tuple[int | None, str | None], tuple[int | None, dict[str, Any], int]] = {}

def _keep(scanner: Any, tid: int, known: tuple[int | None, dict[str, Any], int]) -> None:
    """Hand a generic template's (main object's slot, row, activity) to the scanner that gave its id
    (``HookScanner.keep``): ``GitHub._map`` reads a kept document with ``scan_kept``, which answers a later
    payload with that id with them and its time at once, its ``unmapped`` written into the batch's column
    (no keys or values tuple, no :func:`_from_scan`). Ids are unique in the process and the rows never
    change, so what a scanner keeps stays right when ``_GENERIC`` is emptied."""
    if hasattr(scanner, "keep"):
        scanner.keep(tid, known, known[0])


#: (key layout, action, event hint) -> how such a payload is mapped (:func:`_route`)
_ROUTES: dict[tuple[tuple[str, ...], str | None, str | None], tuple[frozenset[str] | None, str, int | None, bool]] = {}
_CACHE_MAX = 4096


def _route(keys: tuple[str, ...], action: str | None, hint: str | None) -> tuple[frozenset[str] | None, str, int | None, bool]:
    """(key set, or None when such a payload takes the msgspec path; event type, or "" when the
    typed view is msgspec's (a key the scan does not read: ``alert``); spec index of its main
    object, whose times follow it; whether it is mapped generically from the scan's values)."""
    ks = frozenset(keys)
    if rest_alert(ks) is not None:  # a REST API alert: the msgspec path's (_rest_hook)
        return None, "", None, False
    # a payload without sender is a webhook when it has no actor and its shape names a type
    hook = "sender" in ks or ("actor" not in ks and not ks & _AUDIT_ONLY and infer_event(ks) != "unknown")
    if not hook:
        return None, "", None, False
    if ks & _SCAN_UNCHECKED:
        return ks, "", None, False
    event = hint or infer_event(ks, _Probe(action))  # type: ignore[arg-type]
    key = _PRIMARY.get(event, event)
    slot = _TIME_SLOT.get(key)
    return ks, event, slot, event not in m._MAPPERS and (slot is not None or key not in ks) and event not in _TOP_TIMES


def _from_scan(got: tuple[Any, ...], hint: str | None, raw: bytes, scanner: Any) -> tuple[str, dict[str, Any], int | None, int, int, Any] | None:
    """(class, row, time, activity, severity) of a webhook from its native scan (``scanner.scan_head``:
    the values of ``m.SCAN_HEAD`` in ``got``, the others kept by the scanner), as the msgspec path
    gives them: a generically mapped type straight from the scan's values (its main object's time
    parsed natively, ``HookScanner.when``, where it is in GitHub's form), the others through their
    mapping with the typed view built from every value (an alert's, which holds what the scan does
    not read, decoded by msgspec: the top-level map is still the scan's); None when the payload is not
    a webhook, or its view not msgspec's ``_Hook`` (the caller's msgspec path). Last, its ``unmapped``: the JSON
    (or None), or a list of keys: the scan's top-level entries but the common ones and those, which the caller
    writes into the batch's column (``HookScanner.rest_into``); the row's own ``unmapped`` is then None. The scan
    need not have made its ``unmapped`` (``scan_head``'s ``rest=False``): the mappings that read it ask the scanner."""
    keys, _rest, _digest, v = got
    tid = v[_HEAD] if len(v) > _HEAD else None  # the scan's template id (HookScanner.template), when it gives one
    known = _GENERIC.get((tid, hint))
    if known is not None:  # a generic payload with the key layout and template values of one seen before
        slot, row, act = known
        when = None
        if slot is not None:
            when = scanner.when(slot)
            if when is False or when is None:
                when = _slot_time(scanner, slot, when)
        return "api_activity", row, when, act, 1, _REST
    action = v[m.ACTION]
    route = _ROUTES.get((keys, action, hint))
    if route is None:
        if len(_ROUTES) >= _CACHE_MAX:
            _ROUTES.clear()
        route = _ROUTES[keys, action, hint] = _route(keys, action, hint)
    keyset, event, slot, generic = route
    if keyset is None:
        return None
    if not event:  # an alert (lists of structs, floats): msgspec reads the alert, the rest is the scan's
        top = _ScannedTop(scanner, raw, keyset)
        try:
            alert = _ALERT.decode(top.get("alert"))  # type: ignore[arg-type]
        except msgspec.ValidationError:  # the caller's msgspec path (which tries _HookBase then)
            return None
        event = hint or infer_event(keyset, _Probe(action, alert))  # type: ignore[arg-type]
        view: _HookBase = view_of(scanner, v, m.VIEW_READS.get(event, ()))  # (the fields its mapping reads)
        view.alert = alert
        cls, row, when, act, sev = m.map_hook(event, view, top)  # type: ignore[arg-type]
        return cls, row, _primary_time(event, top, view) if when is None else when, act, sev, row.get("unmapped")  # type: ignore[arg-type]
    if generic:
        when = None
        if slot is not None:
            when = scanner.when(slot)
            if when is False or when is None:
                when = _slot_time(scanner, slot, when)
        row, act = m.generic_scanned(event, v)
        if tid is not None:  # the same layout and template values next time: this row (same route: same event)
            if len(_GENERIC) >= _CACHE_MAX:
                _GENERIC.clear()
            _GENERIC[tid, hint] = known = (slot, row, act)
            if hint is None:
                _keep(scanner, tid, known)
        return "api_activity", row, when, act, 1, _REST
    if event in _PR_EVENTS:  # the pull request's values alone, no typed view
        pr = m.pull_request_scanned(event, v, scanner.slots(*_PR_RANGE))
        if pr is not None:
            return "api_activity", pr[0], pr[1], pr[2], 1, _NUMBER
    top = _ScannedTop(scanner, raw, keyset)
    if event not in m._MAPPERS:  # mapped generically, its time read from the payload (_primary_time)
        row, act = m.generic_scanned(event, v)
        return "api_activity", row, _primary_time(event, top, view_of(scanner, v, ())), act, 1, _REST  # type: ignore[arg-type]
    hook = view_of(scanner, v, m.VIEW_READS.get(event, ()))
    cls, row, when, act, sev = m.map_hook(event, hook, top)  # type: ignore[arg-type]
    if when is None:
        when = _primary_time(event, top, hook)  # type: ignore[arg-type]
    return cls, row, when, act, sev, row.get("unmapped")


#: what an unmapped column reserves at first (then grown as a Vec grows) for a class not seen yet; then its share of
#: the input last time (``_SINK_SHARE``). A reservation of the whole input for each class, or doubling past what is
#: needed, asks the heap for regions the last batches' freed columns do not fit (secpipe's allocator settings keep
#: freed pages): with the previous decode's batches alive, +170-200 MB of peak RSS and ~6x the page faults
_SINK_START = 4 << 20
_SINK_SHARE: dict[str, float] = {}
