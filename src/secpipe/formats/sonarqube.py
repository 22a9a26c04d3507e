"""SonarQube Web API JSON: ``/api/issues/search`` (``issues[]``) and ``/api/hotspots/search``
(``hotspots[]``) responses, one page per document.

Class: Application Security Posture Finding (2007), like SARIF: SonarQube issues are code
defects (bugs, vulnerabilities, code smells) at a file and line, which 2007 models with
``vulnerabilities[].affected_code[]``. One event per issue or hotspot.

Issues: ``key`` -> ``finding_info.uid``; ``rule`` -> ``finding_info.analytic.uid``,
``affected_code[0].rule.uid`` and ``vulnerabilities[0].advisory.uid`` (OCSF 1.8.0 wants one of
advisory, cve, cwe per vulnerability; an issue names its rule, no CVE or CWE); ``message`` -> ``message``/``finding_info.title``; ``type`` (BUG,
VULNERABILITY, CODE_SMELL) and ``tags`` -> ``finding_info.types``; ``severity`` (BLOCKER Critical,
CRITICAL High, MAJOR Medium, MINOR Low, INFO Informational) or, on 10.x, the highest
``impacts[].severity`` (BLOCKER/HIGH/MEDIUM/LOW/INFO) -> ``severity_id``; ``status``/
``issueStatus`` + ``resolution`` -> status (OPEN/REOPENED New, CONFIRMED In Progress,
RESOLVED/CLOSED Resolved, FALSE-POSITIVE/WONTFIX/ACCEPTED Suppressed); ``component`` ->
``affected_code[0].file.path`` (``components[].path``, else the key after the ``project`` key and
a colon: project keys may hold colons, as Maven's ``groupId:artifactId``; ``file.type_id`` 1
Regular File; an issue on no file, such as a project-level one (the component is the project
key, or a component the page lists with a qualifier other than FIL/UTS), gets no
``affected_code``: OCSF requires its ``file``);
``textRange``/``line`` -> lines and offsets; ``project`` -> ``resources[0]``;
``author``/``assignee`` -> ``affected_code[0].owner`` / ``assignee`` (its name and email from the
page's ``users`` list, ``additionalFields=users``, where the login is there); the page's ``rules``
list (``additionalFields=rules``: key, name) names each issue's rule (``finding_info.analytic.name``,
``affected_code[0].rule.name``);
``creationDate``/``updateDate``/``closeDate`` -> ``finding_info`` created/modified/last_seen
and ``time`` (update, else creation); an epoch number there is read as seconds or ms (``base.epoch_ms``).

Hotspots: ``ruleKey`` as the rule; ``vulnerabilityProbability`` (HIGH/MEDIUM/LOW) as severity;
``securityCategory`` -> ``vulnerabilities[0].category``; ``status`` TO_REVIEW New, REVIEWED +
``resolution`` FIXED Resolved, SAFE Suppressed, ACKNOWLEDGED In Progress; type "SECURITY_HOTSPOT".

Keys not placed (flows, effort, debt, hash, impacts, cleanCode*, ...) stay in ``unmapped``.
A ``/api/hotspots/show`` response (one hotspot with its component, project and rule as objects)
is read as a one-hotspot search page (its rule's name names the rule, its ``users`` the assignee;
the rule's name and the changelog, comments and users also stay in ``unmapped``; ``raw_data`` is
that hotspot). The issue-changing endpoints (``do_transition``,
``assign``, ``add_comment``, ``set_severity``, ``set_tags``, ``set_type``, ``edit_comment``,
``delete_comment``) answer with the changed issue as ``issue`` beside the page's ``components``,
``rules`` and ``users``: read as a one-issue search page with those (the issue as it stands after the change).
A document with neither ``issues``, ``hotspots`` nor ``issue`` is dead-lettered.

SonarQube's Generic Issue Import Format (``sonar.externalIssuesReportPaths``: issues another tool
wrote with ``engineId``, ``ruleId``, ``primaryLocation`` {``message``, ``filePath``, ``textRange``},
``severity``/``type``, or in the 10.3+ form beside a ``rules`` list with each rule's engine, name,
type and impacts) is read as search issues: the file is ``filePath``, the severity the issue's own
severity or impacts else its rule's, the engine ``metadata.product.name`` (no vendor), status New
(SonarQube opens an imported issue), uid ``ruleId|filePath|startLine``; ``effortMinutes``,
``secondaryLocations`` ... stay in ``unmapped``. Recognized by issues with a ``primaryLocation``.

sonar-report's JSON (soprasteria/sonar-report ``--save-report-json``, the report DefectDojo's
"SonarQube Scan" reads) is an issues list too, recognized by its top-level ``sonarComponent``
(the project key): its issues' ``component`` is the file path with the project key already cut
off, so it is the file (``affected_code[0].file``) and ``sonarComponent`` the project
(``resources[0]``); its ``rules`` map (rule key -> name, htmlDesc, severity) names the rule
(``finding_info.analytic.name``, ``affected_code[0].rule.name``); an issue whose key is in
``hotspotKeys`` is a security hotspot (type "SECURITY_HOTSPOT"). Its ``date`` is a display string
("Thursday, Jan 18, 2024"), not a time: the events get the receipt time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    ReportFormat,
    S,
    TopLevel,
    captions,
    decode_top,
    distinct_uids,
    nest,
    only_where,
    singleton_list,
    strs,
)
from secpipe.formats.base import (
    Decoded,
    TimeField,
    base_columns,
    event_uids,
    int32_or_none,
    parse_times,
    text_or_none,
    to_batch,
)


class _Component(msgspec.Struct):
    key: str | None = None
    qualifier: str | None = None
    path: str | None = None
    name: str | None = None
    longName: str | None = None


class _Page(msgspec.Struct):
    issues: list[msgspec.Raw] | None = None
    issue: msgspec.Raw = msgspec.Raw(b"")  # an issue-changing endpoint's answer: the issue it changed
    hotspots: list[msgspec.Raw] | None = None
    components: list[_Component] | None = None
    # sonar-report's JSON (soprasteria/sonar-report ``--save-report-json``): the project key, and
    # the rules its issues name as ``{rule key: {name, htmlDesc, severity}}``
    sonarComponent: str | None = None
    rules: Any = None  # (the Web API's ``additionalFields=rules``: a list of {key, name, lang ...})
    users: Any = None  # (``additionalFields=users``: a list of {login, name, email, active})
    hotspotKeys: Any = None  # (sonar-report lists its security hotspots among its issues: their keys)


class _Range(msgspec.Struct):
    startLine: int | None = None
    endLine: int | None = None
    startOffset: int | None = None
    endOffset: int | None = None


class _Impact(msgspec.Struct):
    softwareQuality: str | None = None
    severity: str | None = None


class _Issue(msgspec.Struct):
    key: str | None = None
    rule: str | None = None
    ruleKey: str | None = None
    severity: str | None = None
    vulnerabilityProbability: str | None = None
    securityCategory: str | None = None
    component: str | None = None
    project: str | None = None
    line: int | None = None
    textRange: _Range | None = None
    status: str | None = None
    issueStatus: str | None = None
    resolution: str | None = None
    message: str | None = None
    author: str | None = None
    assignee: str | None = None
    tags: list[str] | None = None
    type: str | None = None
    impacts: list[_Impact] | None = None
    creationDate: TimeField = None
    updateDate: TimeField = None
    closeDate: TimeField = None


_MAPPED = frozenset({
    "key", "rule", "ruleKey", "severity", "vulnerabilityProbability", "securityCategory", "component", "project", "line",
    "textRange", "status", "issueStatus", "resolution", "message", "author", "assignee", "tags", "type",
    "creationDate", "updateDate", "closeDate",
})  # fmt: skip
#: SonarQube's Generic Issue Import Format (``sonar.externalIssuesReportPaths``): an issue of another
#: tool (``engineId``), its rule, location and, before SonarQube 10.3, its own severity and type.
class _TextRange(msgspec.Struct):
    startLine: int | None = None
    endLine: int | None = None
    startColumn: int | None = None
    endColumn: int | None = None


class _Primary(msgspec.Struct):
    message: str | None = None
    filePath: str | None = None
    textRange: _TextRange | None = None


class _External(msgspec.Struct):
    ruleId: str | None = None
    engineId: str | None = None
    severity: str | None = None
    type: str | None = None
    primaryLocation: _Primary | None = None
    impacts: list[_Impact] | None = None


class _ExternalRule(msgspec.Struct):
    """A rule of the 10.3+ form (``rules[]`` beside the issues): the issues take their engine,
    name, type and impacts from it."""

    id: str | None = None
    name: str | None = None
    engineId: str | None = None
    severity: str | None = None
    type: str | None = None
    impacts: list[_Impact] | None = None


class _Probe(msgspec.Struct):
    key: Any = None
    primaryLocation: Any = None


_PROBE = msgspec.json.Decoder(_Probe)
_EXT_MAPPED = frozenset({"ruleId", "engineId", "severity", "type", "primaryLocation", "impacts"})
_SEV = {"BLOCKER": 5, "CRITICAL": 4, "HIGH": 4, "MAJOR": 3, "MEDIUM": 3, "MINOR": 2, "LOW": 2, "INFO": 1}
_STATUS = {"OPEN": 1, "REOPENED": 1, "TO_REVIEW": 1, "CONFIRMED": 2, "ACKNOWLEDGED": 2, "RESOLVED": 4, "CLOSED": 4,
           "FIXED": 4, "FALSE-POSITIVE": 3, "FALSE_POSITIVE": 3, "WONTFIX": 3, "ACCEPTED": 3, "SAFE": 3}  # fmt: skip
_CLS = "application_security_posture_finding"


def _severity(i: _Issue) -> int:
    if i.vulnerabilityProbability:
        return _SEV.get(i.vulnerabilityProbability.upper(), 0)
    if i.impacts:
        return max(_SEV.get((x.severity or "").upper(), 0) for x in i.impacts)
    return _SEV.get((i.severity or "").upper(), 0)


def _status(i: _Issue) -> int:
    for v in (i.resolution, i.issueStatus, i.status):
        if v and v.upper() in _STATUS:
            return _STATUS[v.upper()]
    return 0


def _file_of(component: str | None, project: str | None) -> str | None:
    """The file part of a component key ``<project key>:<path>``. A project key may hold colons
    itself (Maven's ``groupId:artifactId``), so the project's key is cut off when it is the prefix;
    otherwise the part after the first colon. A component that is the project itself, or a key
    without a colon (a project or module, never ``<project>:<path>``), is no file."""
    if not component or component == project:
        return None
    if project and component.startswith(project + ":"):
        return component[len(project) + 1 :] or None
    return component.split(":", 1)[1] or None if ":" in component else None


def _file(key: tuple[str | None, str | None], paths: dict[str, str | None]) -> tuple[str | None, str | None]:
    """(file path, file name) of an issue's (component, project): the page's ``components[]``
    path where it lists the component (``""``: listed as no file), else :func:`_file_of`."""
    component, project = key
    p = paths.get(component or "")
    f = _file_of(component, project) if p is None else p or None
    return f, f.rsplit("/", 1)[-1] if f else None


def _severity_key(i: _Issue) -> tuple[str | None, str | None] | None:
    return None if i.impacts else (i.vulnerabilityProbability, i.severity)


def _status_key(i: _Issue) -> tuple[str | None, str | None, str | None]:
    return i.resolution, i.issueStatus, i.status


def _per_issue(iss: list[_Issue], fn: Callable[[_Issue], int], key: Callable[[_Issue], Hashable | None]) -> list[int]:
    """``fn`` of each issue, computed once per distinct ``key`` (None: the issue on its own):
    a page repeats a few severity and status words over hundreds of issues."""
    memo: dict[Hashable, int] = {}
    out = []
    for i in iss:
        k = key(i)
        if k is None:
            out.append(fn(i))
        elif (v := memo.get(k)) is not None:
            out.append(v)
        else:
            out.append(memo.setdefault(k, fn(i)))
    return out


_RESOURCES = pa.list_(pa.struct([("type", S), ("uid", S), ("name", S)]))


def _projects(project: pa.Array) -> pa.Array:
    """``resources``: the issue's project (type ``project``), none where it names no project."""
    valid = project.is_valid()
    kind = pc.if_else(valid, pa.scalar("project", S), pa.scalar(None, S))
    items = pa.StructArray.from_arrays([kind, project, project], fields=list(_RESOURCES.value_type))
    return singleton_list(items, valid)


def _component(obj: dict[str, Any]) -> _Component | None:
    """A shown hotspot's component or project, None when a field is not of its type (as absent:
    a ValidationError here raised out of the decode and lost the document)."""
    try:
        return msgspec.convert(obj, _Component)
    except msgspec.ValidationError:
        return None


def _shown_hotspot(data: bytes) -> _Page | None:
    """A ``/api/hotspots/show`` response (one hotspot; its component, project and rule as objects)
    as a one-hotspot search page; None for any other document."""
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):  # not a document this can be: the page decode decides
        return None
    if not (isinstance(doc, dict) and isinstance(doc.get("key"), str) and isinstance(doc.get("rule"), dict)
            and isinstance(doc.get("component"), dict)):  # fmt: skip
        return None
    comp, rule = doc.pop("component"), doc.pop("rule")
    proj = doc.pop("project", None)
    proj = proj if isinstance(proj, dict) else {}
    hotspot = {"key": doc.pop("key"), "component": comp.get("key"), "project": proj.get("key"),
               "ruleKey": rule.get("key"), "ruleName": rule.get("name"), "securityCategory": rule.get("securityCategory"),
               "vulnerabilityProbability": rule.get("vulnerabilityProbability"), **doc}  # fmt: skip
    hotspot = {k: v for k, v in hotspot.items() if v is not None}
    comps = [x for c in (comp, proj) if c and (x := _component(c)) is not None]
    return _Page(hotspots=[msgspec.Raw(msgspec.json.encode(hotspot))], components=comps, rules=[rule],
                 users=doc.get("users"))  # (the rule and the users name the rule and the assignee)


class _Report:
    """What a sonar-report JSON document (soprasteria/sonar-report ``--save-report-json``) says
    beside its issues: its issues' ``component`` is the file's path with the project key cut off
    (``component.split(":").pop()``), the project is the report's ``sonarComponent``, and its
    ``rules`` map names each rule; its ``hotspotKeys`` say which of the issues are security hotspots."""

    def __init__(self, page: _Page) -> None:
        self.project = page.sonarComponent
        rules = page.rules if isinstance(page.rules, dict) else {}
        keys = page.hotspotKeys if isinstance(page.hotspotKeys, list) else []
        self.hotspots = {k for k in keys if isinstance(k, str)}
        self.names = _rule_names(rules)

    def issue(self, i: _Issue) -> _Issue:
        """The issue with its project and its file as ``<project>:<path>`` (as the Web API gives it);
        an issue on the project itself keeps no file."""
        project = i.project or self.project
        comp = i.component
        if comp and comp != project and project and not comp.startswith(project + ":"):
            comp = f"{project}:{comp}"
        return msgspec.structs.replace(i, project=project, component=comp)



def _rule_names(rules: Any) -> dict[str, str]:
    """Rule key -> name: sonar-report's ``rules`` map, or the Web API's ``rules`` list (a search
    with ``additionalFields=rules``, an issue-changing endpoint's answer)."""
    if isinstance(rules, dict):
        return {k: v["name"] for k, v in rules.items() if isinstance(v, dict) and isinstance(v.get("name"), str)}
    if isinstance(rules, list):
        return {r["key"]: r["name"] for r in rules
                if isinstance(r, dict) and isinstance(r.get("key"), str) and isinstance(r.get("name"), str)}  # fmt: skip
    return {}


def _users(users: Any) -> dict[str, tuple[str | None, str | None]]:
    """Login -> (name, email) of the Web API's ``users`` list (``additionalFields=users``)."""
    if not isinstance(users, list):
        return {}
    return {u["login"]: (text_or_none(u.get("name")), text_or_none(u.get("email")))
            for u in users if isinstance(u, dict) and isinstance(u.get("login"), str)}  # fmt: skip


def _external(raw: msgspec.Raw) -> bool:
    """Whether a page's issue is a Generic Issue Import Format one (a ``primaryLocation``, no ``key``)."""
    try:
        probe = _PROBE.decode(raw)
    except msgspec.DecodeError:
        return False
    return probe.key is None and isinstance(probe.primaryLocation, dict)


def _external_rule(obj: Any) -> _ExternalRule | None:
    """A 10.3+ generic report's rule, None when it is not of that shape (it names nothing then)."""
    try:
        return msgspec.convert(obj, _ExternalRule)
    except msgspec.ValidationError:
        return None


class SonarQube(ReportFormat):
    """SonarQube issues and security hotspots search responses."""

    name = "sonarqube"
    report_type = _Page
    what = "a SonarQube search response"
    description = ("SonarQube /api/issues/search and /api/hotspots/search JSON, and the Generic Issue Import Format "
                   "-> Application Security Posture Finding (2007)")
    framing = "document"
    product = "SonarQube"
    vendor = "SonarSource"

    def sniff(self, head: bytes) -> int:
        """Recognize a search response page."""
        h = head[:8192]
        if (b'"issues"' in h or b'"hotspots"' in h) and b'"paging"' in h or (
            b'"hotspots"' in h and b'"vulnerabilityProbability"' in h
        ):
            return 85
        if (b'"issues"' in h or b'"issue"' in h) and b'"rule"' in h and b'"component"' in h:
            return 80  # (``issue``: an issue-changing endpoint's answer)
        if b'"vulnerabilityProbability"' in h and b'"securityCategory"' in h and b'"canChangeStatus"' in h:
            return 80  # /api/hotspots/show
        if b'"issues"' in h and b'"primaryLocation"' in h and (b'"ruleId"' in h or b'"engineId"' in h):
            return 80  # a Generic Issue Import Format report
        return 0

    def map_report(self, page: _Page, data: bytes, source: str) -> Decoded:
        """Decode one response page (or a Generic Issue Import Format report)."""
        if page.issues and page.hotspots is None and _external(page.issues[0]):
            return self._external(page, source)
        if page.issues is None and page.hotspots is None:
            if page.issue:  # /api/issues/do_transition, assign, add_comment ...: one issue
                page = _Page(issues=[page.issue], components=page.components, rules=page.rules, users=page.users)
            else:
                page = _shown_hotspot(data) or page
        if page.issues is None and page.hotspots is None:
            why = "not a SonarQube search response: no `issues` or `hotspots` (save /api/issues/search or /api/hotspots/search)"
            return self.dead(why, source, data)
        raws = [bytes(r) for r in (page.issues or [])] + [bytes(r) for r in (page.hotspots or [])]
        hot = [False] * len(page.issues or []) + [True] * len(page.hotspots or [])
        out = Decoded(events=len(raws))
        if not raws:
            return out
        typed, top = decode_top(raws, list(range(len(raws))), _Issue, _MAPPED, (), out, source, self.name,
                                "a SonarQube issue")  # fmt: skip
        if typed.recs:
            pos = {id(r): i for i, r in enumerate(raws)}
            ords = [pos[id(r)] for r in typed.raws]
            # a component listed as no file (TRK project, BRC module, DIR directory ...) gives no file path
            paths = {c.key: c.path if c.qualifier in (None, "FIL", "UTS") else "" for c in page.components or [] if c.key}
            report = _Report(page) if page.sonarComponent else None
            names = report.names if report else _rule_names(page.rules)
            batch = self._batch(typed.recs, top, typed.raws, [hot[o] for o in ords], ords, paths, report, names,
                                _users(page.users))  # fmt: skip
            out.batches.append(batch)
        return out

    def _external(self, page: _Page, source: str) -> Decoded:
        """A Generic Issue Import Format report: each issue as the search API would give it (rule,
        message, file and text range; severity, type and impacts its own, else its rule's), its tool
        (``engineId``, else its rule's) the product; no key, so its uid is rule|file|line."""
        raws = [bytes(r) for r in page.issues or []]
        out = Decoded(events=len(raws))
        typed, top = decode_top(raws, list(range(len(raws))), _External, _EXT_MAPPED, (), out, source, self.name,
                                "a SonarQube external issue")  # fmt: skip
        if not typed.recs:
            return out
        rules = {r.id: r for r in map(_external_rule, page.rules if isinstance(page.rules, list) else []) if r and r.id}
        iss, engines = [], []
        for x in typed.recs:
            rule = rules.get(x.ruleId or "") or _ExternalRule()
            loc = x.primaryLocation or _Primary()
            rng = loc.textRange or _TextRange()
            iss.append(_Issue(
                key=f"{x.ruleId}|{loc.filePath}|{rng.startLine}", rule=x.ruleId, severity=x.severity or rule.severity,
                type=x.type or rule.type, impacts=x.impacts or rule.impacts, message=loc.message, component=loc.filePath,
                textRange=_Range(rng.startLine, rng.endLine, rng.startColumn, rng.endColumn),
            ))  # fmt: skip
            engines.append(x.engineId or rule.engineId)
        names = {k: r.name for k, r in rules.items() if r.name}
        pos = {id(r): i for i, r in enumerate(raws)}
        ords = [pos[id(r)] for r in typed.raws]
        paths: dict[str, str | None] = {i.component: i.component for i in iss if i.component}  # (the file itself)
        out.batches.append(self._batch(iss, top, typed.raws, [False] * len(iss), ords, paths, None, names, None, engines))
        return out

    def _batch(
        self, iss: list[_Issue], top: TopLevel, raws: list[bytes], hot: list[bool], ords: list[int],
        paths: dict[str, str | None], report: _Report | None = None, names: dict[str, str] | None = None,
        users: dict[str, tuple[str | None, str | None]] | None = None, engines: list[str | None] | None = None,
    ) -> pa.RecordBatch:
        sev = pa.array(_per_issue(iss, _severity, _severity_key), pa.int32())
        created = parse_times([i.creationDate for i in iss])
        updated = parse_times([i.updateDate for i in iss])
        cols = base_columns(
            _CLS, kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, raws, [str(o) for o in ords]),
            times_ms=pc.coalesce(updated, created), raws=raws, activity_id=1, severity_id=sev,
        )  # fmt: skip
        if engines is not None:  # external issues: their tool is the product (SonarQube only imported them)
            engine = strs(engines)
            cols["metadata.product.name"] = pc.fill_null(engine, self.product)
            cols["metadata.product.vendor_name"] = pc.if_else(engine.is_valid(), pa.scalar(None, S), self.vendor)
        rules = strs([i.rule or i.ruleKey for i in iss])
        rule_names = strs([names.get(i.rule or i.ruleKey or "") for i in iss]) if names else pa.nulls(len(iss), S)
        who = [users.get(i.assignee or "", (None, None)) for i in iss] if users else [(None, None)] * len(iss)
        ranges = [i.textRange or _Range() for i in iss]
        # (path, name) once per distinct component: a page holds many issues of each file
        where: dict[tuple[str | None, str | None], tuple[str | None, str | None]] = {}
        if report is not None:  # sonar-report: the component is the file's path already, the project the report's
            iss = [report.issue(i) for i in iss]
            hot = [h or i.key in report.hotspots for i, h in zip(iss, hot, strict=True)]
        files = [where.get(k) or where.setdefault(k, _file(k, paths)) for k in [(i.component, i.project) for i in iss]]
        file_paths = strs([f for f, _n in files])
        has_file = file_paths.is_valid()
        code = nest({
            "file.path": file_paths,
            "file.name": strs([n for _f, n in files]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", pa.string()), pa.scalar(None, pa.string())),
            # a line or offset beyond int32 (the OCSF column) is none, as elsewhere (base.int32_or_none)
            "start_line": pa.array([int32_or_none(r.startLine or i.line) for r, i in zip(ranges, iss, strict=True)], pa.int32()),
            "end_line": pa.array([int32_or_none(r.endLine) for r in ranges], pa.int32()),
            "start_column": pa.array([int32_or_none(r.startOffset) for r in ranges], pa.int32()),
            "end_column": pa.array([int32_or_none(r.endOffset) for r in ranges], pa.int32()),
            "rule.uid": rules,
            "rule.name": rule_names,
            "owner.name": strs([i.author or None for i in iss]),  # ("" when SonarQube knows no author)
        })  # fmt: skip
        message = strs([i.message for i in iss])
        types = [["SECURITY_HOTSPOT" if h else (i.type or "ISSUE"), *(i.tags or [])] for i, h in zip(iss, hot, strict=True)]
        vuln = nest({
            "title": message,
            "severity": captions(_CLS, "severity_id", sev),
            "category": strs([i.securityCategory for i in iss]),
            # the rule is the advisory the issue answers to: OCSF 1.8.0 wants one of advisory, cve, cwe
            # per vulnerability, and an issue names no CVE or CWE
            "advisory": only_where(nest({"uid": rules, "title": rule_names}), rules),
            "affected_code": singleton_list(code, has_file),  # OCSF affected_code requires its file
        })  # fmt: skip
        status_id = pa.array(_per_issue(iss, _status, _status_key), pa.int32())
        if engines is not None:  # an imported issue has no status: what its tool found is New (as SonarQube opens it)
            status_id = pc.if_else(pc.equal(status_id, 0), pa.scalar(1, pa.int32()), status_id)
        cols.update({
            "status_id": status_id,
            "status": captions(_CLS, "status_id", status_id),
            "status_detail": strs([i.resolution or i.issueStatus or i.status for i in iss]),
            "message": message,
            "finding_info.uid": distinct_uids(strs([i.key for i in iss])),  # a key repeated in one answer: #1, #2
            "finding_info.title": message,
            "finding_info.types": pa.array(types, pa.list_(S)),
            "finding_info.created_time": created,
            "finding_info.modified_time": updated,
            "finding_info.last_seen_time": parse_times([i.closeDate for i in iss]),
            "finding_info.analytic.uid": rules,
            "finding_info.analytic.name": rule_names,
            # a Rule only where the issue names its rule (an analytic needs a name or uid, OCSF 1.8.0)
            "finding_info.analytic.type_id": pc.if_else(pc.is_valid(rules), pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(pc.is_valid(rules), "Rule", pa.scalar(None, pa.string())),
            "assignee.name": strs([i.assignee for i in iss]),
            "assignee.full_name": strs([n for n, _e in who]),  # the assignee's entry in ``users``
            "assignee.email_addr": strs([e for _n, e in who]),
            "resources": _projects(strs([i.project or None for i in iss])),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": top.unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


__all__ = ["SonarQube"]
