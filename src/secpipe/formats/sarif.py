"""SARIF 2.1.0 logs from any tool (Semgrep, CodeQL, Snyk Code, Trivy, sarif-sdk converters ...).

One event per ``runs[].results[]`` entry, as **Application Security Posture Finding (2007)**.
Why that class: SARIF results are mostly code defects found by static analysis and linters
(a SQL injection sink, a null dereference, a line too long), not weaknesses of a deployed
system. OCSF 1.8.0 describes 2007 as the notification about "any bug, defect, deficiency,
exploit, vulnerability, weakness" with "specific code defects", and gives it
``vulnerabilities[].affected_code[]`` (file, start/end line and column, rule) -- the exact shape
of a SARIF location. Vulnerability Finding (2002) has no code location, and Detection
Finding (2004) is for runtime detections.

Mapping: rule (from ``ruleId``/``rule.id``/``ruleIndex``, resolved in ``tool.driver.rules`` or
``tool.extensions[].rules``; a hierarchical ``ruleId`` such as ``CA5350/md5`` by its leading
components, §3.27.5) -> ``finding_info.analytic`` (uid, name, desc from
shortDescription/fullDescription, type Rule) and ``affected_code[0].rule``; result message
(``message.text``, else by its ``id`` the rule's ``messageStrings``, else its tool component's
``globalMessageStrings``, SARIF §3.11.7; with ``arguments``, ``{n}`` placeholders filled and ``{{``/``}}``
read as the braces they escape) -> ``message``; each location with a file -> an ``affected_code`` entry, in order
(a result lists several when it must be corrected at each, §3.27.12; its uid is made from the first) (``file.path`` from
``artifactLocation.uri`` or ``run.artifacts[index]``, lines, columns: in a line/column region an
absent ``endLine`` is ``startLine`` and an absent ``startColumn`` 1, SARIF §3.30.5-§3.30.7); tool driver name,
version (``version`` or ``semanticVersion``) and organization -> ``metadata.product`` and
``finding_info.product``; fingerprints and partialFingerprints (a value wrapped as
``{"value": ...}``, as Black Duck writes it, read as its string) -> ``finding_info.uid``
(first fingerprint value, else rule|file|partial values, else rule|file|line|ordinal; a uid
two results of a run share gets ``|file:line:column``, then ``#<occurrence>``) and
``finding_info.tags``; rule ``properties.tags`` -> ``finding_info.types``; CVE-looking rule ids
(Trivy SARIF; an id beginning with one, as Grype's ``<CVE id>-<package>`` and Checkov's
``<CVE id>_<package>@<version>``: that id) ->
``vulnerabilities[0].cve.uid``, a GHSA id the same way -> ``advisory`` (its CWE in ``related_cwes``); a rule
whose id names neither but one of whose tags is a CVE id (govulncheck: GO- rules tagged with their CVE aliases)
-> that CVE, the rule's id in ``related_vulnerabilities``; a rule's CWE (see :mod:`._sarif_ids`) -> ``cwe`` (``cve.cwe``
beside a CVE); a result with neither a CVE nor a CWE -> ``advisory`` (uid the rule id, title its short
description, ``src_url`` its ``helpUri``): OCSF 1.8.0 wants just one of advisory, cve, cwe per
vulnerability, and the rule is what such a finding answers to. A result naming no rule, CVE or
CWE (gitleaks 7, sarif-sdk's Static Driver Verifier) has a vulnerability of no identity.

OCSF conformance: a location's file is a source file, so ``file.type_id`` is 1 (Regular File);
a result with no file location (only logical locations, e.g. Contrast, FxCop engine errors) gets
no ``affected_code`` (OCSF requires its ``file``; the rule stays in ``finding_info.analytic``);
the first location's first logical location (§3.33: the namespace, type, function ... a result is on; what it
does not give itself taken from ``run.logicalLocations[index]``) -> a ``resources`` entry, type its ``kind``,
name its ``fullyQualifiedName`` (else ``name``), and it stands for the file in the uid of a result with none
(two results on two functions never share one);
``cve`` is emitted only with a CVE id (its required ``uid``).

Severity: a numeric ``security-severity`` rule/result property (CodeQL, Trivy; a severity word
there, as Semgrep's rules write it, stands for its band) gives CVSS
bands (>=9 Critical, >=7 High, >=4 Medium, >0 Low, 0 Informational); so does Qodana's own severity,
``qodanaSeverity`` (Critical, High, Moderate, Low, Info) in the result's properties or its rule's
``defaultConfiguration.parameters``, read after ``security-severity`` (Qodana's ``level`` is a coarser
copy: ``note`` for both Moderate and Info); otherwise ``level`` (result; when absent,
``none`` for a result whose ``kind`` is not ``fail`` (pass, open, review, informational,
notApplicable), else the rule's ``defaultConfiguration.level``, else ``warning``, as SARIF
§3.27.10 says): error High, warning Medium, note Low, none Informational. Suppressed results
(``suppressions`` non-empty and none of them ``underReview`` or ``rejected``: such a request does
not suppress, SARIF §3.35.3) get status Suppressed (3), ``baselineState: absent`` and ``kind: pass``
(the rule was evaluated and the target conforms, §3.27.9) Resolved (4), else New (1). ``time`` is the run's invocation end/start
time (receipt time, labelled, when absent or Go's zero time ``0001-01-01T00:00:00Z``, an unset one). Result keys not placed (codeFlows,
relatedLocations, properties ...) stay in ``unmapped``; a secret scanner's result (gitleaks, Nosey Parker,
Kingfisher ...: :data:`_SECRET_SCANNERS`) holds ``[REDACTED:<rule id>]`` in place of its snippet text and its
``properties.offender`` there and in ``raw_data`` (:mod:`._found_secrets`: the secret found; ``metadata.uid`` is still
the hash of the result as received), as does a Semgrep secret rule's (a ``secrets`` segment in its rule id, as the
registry's ``generic.secrets.*``: Semgrep's SARIF carries no other mark of one; its snippet is the matched lines).
The run's ``versionControlProvenance`` (the repositories it analyzed, §3.14.18)
-> ``resources`` of each of its findings: type ``repository``, name and uid ``repositoryUri``,
``data`` the entry's other properties (``revisionId``, ``branch``, ``revisionTag`` ...) as JSON.

Decoding: with the native extension (``_fast``) each run's results are walked once in Rust into
field columns; without it (or when a result is irregular) msgspec decodes them into structs
(:func:`_fields`); both feed one builder. Rule references are resolved once per distinct
reference, messages formatted once per distinct (message, rule) pair. A line or column number
beyond OCSF's int32 is left null.

A run's invocations' notifications of level error, and an invocation whose ``executionSuccessful`` is
false, are **Scan Activity (6007)** events, activity Error, status Failure (:mod:`._sarif_notifications`): a run that
failed does not read as a clean scan.

Dead letters: a log whose ``version`` is not 2.1.0 (SARIF 2.0.0 sarif-sdk spec examples, the
1.0 format) is dead-lettered whole with the reason and how to convert it; so is a result of the
wrong JSON shape, and an external property file (top-level ``results``, no ``runs``: its
results belong to the log that references it). A 2.1.0 log whose ``runs`` is null (SARIF
§3.13.4: the tool failed before any run) or absent holds no result: nothing is stored and
nothing is dead-lettered. Such a log is recognized by its ``$schema`` and ``version``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats import _found_secrets as found_secrets
from secpipe.formats._findings import (
    RESOURCES,
    SEVERITY_WORDS,
    Distinct,
    ReportFormat,
    S,
    captions,
    compact,
    distinct_uids,
    either,
    json_texts,
    nest,
    nonempty,
    only_where,
    or_null,
    paused_gc,
    record_bytes,
    reject_distinct,
    report_time,
    score_severity_ids,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
    unmapped_items,
)
from secpipe.formats._sarif_ids import CweTaxonomy, Fingerprints, fallback_uids, fingerprints
from secpipe.formats._sarif_notifications import run_notifications
from secpipe.formats._sarif_uris import base_uris, file_path
from secpipe.formats.base import (
    Decoded,
    Strict,
    TimeField,
    base_columns,
    const,
    decode_strict,
    event_uids,
    int32_or_none,
    not_utf8,
    to_batch,
    unmapped_from,
)


class _Text(msgspec.Struct):
    text: str | None = None
    markdown: str | None = None


class _Cfg(msgspec.Struct):
    level: str | None = None
    parameters: Any = None  # a property bag (§3.50.4); read leniently: only qodanaSeverity is used


class _Rule(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    shortDescription: _Text | None = None
    fullDescription: _Text | None = None
    helpUri: str | None = None
    defaultConfiguration: _Cfg | None = None
    messageStrings: dict[str, _Text] | None = None
    properties: dict[str, Any] | None = None
    relationships: Any = None  # links to taxa (a CWE taxonomy); read leniently (see _cwe_ref)


class _Component(msgspec.Struct):
    name: str | None = None
    version: str | None = None
    semanticVersion: str | None = None
    organization: str | None = None
    rules: list[_Rule] | None = None
    globalMessageStrings: Any = None  # message strings of no one rule (§3.19.22); read leniently


class _Tool(msgspec.Struct):
    driver: _Component | None = None
    extensions: list[_Component] | None = None


class _ArtLoc(msgspec.Struct):
    uri: str | None = None
    uriBaseId: str | None = None
    index: int | None = None


class _Artifact(msgspec.Struct):
    location: _ArtLoc | None = None


class _Invocation(msgspec.Struct):
    startTimeUtc: TimeField = None
    endTimeUtc: TimeField = None
    # how the run went (read leniently: see _sarif_notifications)
    executionSuccessful: Any = None
    exitCode: Any = None
    exitCodeDescription: Any = None
    exitSignalName: Any = None
    exitSignalNumber: Any = None
    toolExecutionNotifications: msgspec.Raw = msgspec.Raw(b"")
    toolConfigurationNotifications: msgspec.Raw = msgspec.Raw(b"")


class _Run(msgspec.Struct):
    tool: _Tool | None = None
    logicalLocations: Any = None  # read leniently (see _cached_logical)
    results: list[msgspec.Raw] | None = None
    artifacts: list[_Artifact] | None = None
    invocations: list[_Invocation] | None = None
    taxonomies: Any = None  # read leniently: only a CWE taxonomy's taxa are used (captions)
    versionControlProvenance: Any = None  # read leniently (see _repositories)
    originalUriBaseIds: Any = None  # read leniently (see _sarif_uris.base_uris)


class _Log(msgspec.Struct):
    version: Any = None
    runs: list[_Run] | None = None
    results: Any = None  # only an external property file (not a log) has top-level results


class _Head(msgspec.Struct):
    version: Any = None


class _Region(msgspec.Struct):
    startLine: int | None = None
    endLine: int | None = None
    startColumn: int | None = None
    endColumn: int | None = None


class _PhysLoc(msgspec.Struct):
    artifactLocation: _ArtLoc | None = None
    region: _Region | None = None


class _LogLoc(msgspec.Struct):
    name: str | None = None
    fullyQualifiedName: str | None = None
    kind: str | None = None
    index: int | None = None


class _Location(msgspec.Struct):
    physicalLocation: _PhysLoc | None = None
    logicalLocations: list[_LogLoc] | None = None


class _Message(msgspec.Struct):
    text: str | None = None
    id: str | None = None
    arguments: list[Any] | None = None


class _ToolRef(msgspec.Struct):
    index: int | None = None


class _RuleRef(msgspec.Struct):
    id: str | None = None
    index: int | None = None
    toolComponent: _ToolRef | None = None


_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


class _Result(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every SARIF 2.1.0 ``result`` property: mapped ones typed, the rest kept raw."""

    ruleId: str | None = None
    ruleIndex: int | None = None
    rule: _RuleRef | None = None
    level: str | None = None
    kind: str | None = None
    message: _R = _NONE  # decoded once per distinct message (see _batch)
    locations: list[_Location] | None = None
    fingerprints: Fingerprints | None = None
    partialFingerprints: Fingerprints | None = None
    suppressions: list[Any] | None = None
    baselineState: str | None = None
    properties: _R = _NONE
    analysisTarget: _R = _NONE
    guid: _R = _NONE
    correlationGuid: _R = _NONE
    occurrenceCount: _R = _NONE
    stacks: _R = _NONE
    codeFlows: _R = _NONE
    graphs: _R = _NONE
    graphTraversals: _R = _NONE
    relatedLocations: _R = _NONE
    rank: _R = _NONE
    attachments: _R = _NONE
    hostedViewerUri: _R = _NONE
    workItemUris: _R = _NONE
    provenance: _R = _NONE
    fixes: _R = _NONE
    taxa: _R = _NONE
    webRequest: _R = _NONE
    webResponse: _R = _NONE


_UNMAPPED = (
    "properties", "analysisTarget", "guid", "correlationGuid", "occurrenceCount", "stacks", "codeFlows", "graphs",
    "graphTraversals", "relatedLocations", "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance",
    "fixes", "taxa", "webRequest", "webResponse",
)  # fmt: skip
_PROPS = msgspec.json.Decoder(dict[str, Any])


def _result_props(raw: msgspec.Raw) -> dict[str, Any] | None:
    """A result's properties, parsed only when they carry a severity (:data:`_SEVERITY_KEYS`).
    A property bag that is no object (SARIF 2.1.0 §3.8 requires one) gives no severity; the
    result is kept with the bag in ``unmapped`` as it came, as when it names no severity."""
    if not raw or not any(k.encode() in bytes(raw) for k in _SEVERITY_KEYS):
        return None
    try:
        return _PROPS.decode(raw)
    except msgspec.ValidationError:
        return None


class _TypedRun(msgspec.Struct, gc=False):
    results: list[_Result] | None = None


class _TypedLog(msgspec.Struct, gc=False):
    """The log again with every result typed: one C call for all runs (no per-result join)."""

    runs: list[_TypedRun] | None = None


_LOG = msgspec.json.Decoder(_Log)
_HEAD = msgspec.json.Decoder(_Head)
_SARIF_SCHEMA = re.compile(rb'"\$schema"\s*:\s*"[^"]*sarif[^"]*"', re.IGNORECASE)
_TYPED_LOG = msgspec.json.Decoder(_TypedLog)
_LEVEL_WORD = {"error": "high", "warning": "medium", "note": "low", "none": "informational"}
_PLACEHOLDER = re.compile(r"\{(\d+)\}|\{\{|\}\}")
#: a rule id that is a CVE or GHSA id, or begins with one (Grype's rule ids are
#: ``<vulnerability id>-<package name>``: CVE-2021-44228-log4j-core; Checkov's SCA ones
#: ``<id>_<package>@<version>``); group 1 the id. A CVE id is CVE-YYYY-NNNN+ (digits only, so it
#: ends where they do), a GHSA id three groups of four characters (then not one more letter or digit).
_CVE = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}(?![0-9a-z]))", re.IGNORECASE)
_NO_RULE = _Rule()


def _text(t: _Text | None) -> str | None:
    return None if t is None else (t.text or t.markdown or None)


def _fmt_message(msg: _Message | None, rule: _Rule, strings: Any = None) -> str | None:
    """A result's message string (SARIF §3.11.7 lookup): its text, else the one its ``id`` names
    in the rule's ``messageStrings``, else in the rule's tool component's ``globalMessageStrings``
    (``strings``); with ``arguments``, ``{n}`` placeholders filled and ``{{``/``}}`` read as the
    braces they escape (§3.11.5), as .NET's String.Format that SARIF's placeholders follow does."""
    if msg is None:
        return None
    text = msg.text
    if text is None and msg.id and rule.messageStrings and msg.id in rule.messageStrings:
        text = _text(rule.messageStrings[msg.id])
    if text is None and msg.id and isinstance(strings, dict) and isinstance(got := strings.get(msg.id), dict):
        text = next((t for t in (got.get("text"), got.get("markdown")) if isinstance(t, str) and t), None)
    if text and msg.arguments:
        args = msg.arguments

        def fill(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return m.group(0)[0]  # {{ -> {, }} -> }
            i = int(m.group(1))
            return str(args[i]) if i < len(args) else m.group(0)

        text = _PLACEHOLDER.sub(fill, text)
    return text


#: property-bag keys naming a result's or rule's severity, in the order they are read: CodeQL's
#: ``security-severity`` (a CVSS-like score), then Qodana's ``qodanaSeverity`` (Critical, High,
#: Moderate, Low, Info: the severity Qodana reports, of which its ``level`` is a coarser copy)
_SEVERITY_KEYS = ("security-severity", "qodanaSeverity")


def _security_severity(*props: Any) -> float | None:
    """The first severity of ``props`` (property bags; one not a dict is skipped), each read by
    :data:`_SEVERITY_KEYS`, as a 0-10 score: a number, or a severity word as some producers write it
    (Semgrep's rules, several SARIF converters: ``"HIGH"``; Qodana's ``"Moderate"``), which gives
    the lowest score of its band (:func:`score_severity_ids`) by the project's severity words; any
    other value is skipped."""
    for p in props:
        if not p or not isinstance(p, dict):
            continue
        for key in _SEVERITY_KEYS:
            if key not in p:
                continue
            value = p[key]
            band = _BAND_SCORES.get(SEVERITY_WORDS.get(value.strip().lower(), -1)) if isinstance(value, str) else None
            if band is not None:
                return band
            try:
                return float(value)
            except (TypeError, ValueError):
                continue
    return None


#: a severity word's id (:data:`SEVERITY_WORDS`) -> the lowest score of its band
_BAND_SCORES = {5: 9.0, 4: 7.0, 3: 4.0, 2: 0.1, 1: 0.0}


class _RunCtx:
    """Rule lookup tables and tool identity of one run."""

    def __init__(self, run: _Run) -> None:
        tool = run.tool or _Tool()
        self.driver = tool.driver or _Component()
        self.components = [self.driver, *(tool.extensions or [])]
        self.by_id: dict[str, _Rule] = {}
        self.owner: dict[int, _Component] = {}  # id(rule) -> the tool component defining it
        for comp in reversed(self.components):
            for r in comp.rules or []:
                self.owner[id(r)] = comp
                if r.id:
                    self.by_id[r.id] = r
        self.bases = base_uris(run.originalUriBaseIds)
        self.artifacts = [file_path(a.location.uri, a.location.uriBaseId, self.bases) if a.location and a.location.uri
                          else None for a in run.artifacts or []]  # fmt: skip
        inv = run.invocations[0] if run.invocations else None
        self.time = (inv.endTimeUtc or inv.startTimeUtc) if inv else None
        self.cwe = CweTaxonomy(run.taxonomies)
        self.repos = _repositories(run.versionControlProvenance)
        self.logical = _cached_logical(run.logicalLocations)

    def rule(self, res: _Result) -> _Rule:
        ref = res.rule
        idx = res.ruleIndex if res.ruleIndex is not None else (ref.index if ref else None)
        comp = self.driver
        if ref and ref.toolComponent and ref.toolComponent.index is not None:
            ci = ref.toolComponent.index + 1  # extensions follow the driver
            comp = self.components[ci] if 0 <= ci < len(self.components) else comp
        rid = res.ruleId or (ref.id if ref else None)
        if idx is not None and comp.rules and 0 <= idx < len(comp.rules):
            got = comp.rules[idx]
            # Producers disagree with themselves (Snyk Code's ruleIndex can point elsewhere):
            # the spec makes ruleId authoritative, so the index is trusted only when it agrees.
            if rid is None or got.id is None or got.id == rid or rid.split("/", 1)[0] == got.id:
                return got
        # ruleId is a hierarchical string whose leading components are the rule's id (§3.27.5):
        # "CA5350/md5" is a violation of rule CA5350 (and rule ids hold "/" themselves: "js/xss")
        while rid:
            if (named := self.by_id.get(rid)) is not None:
                return named
            rid = rid.rsplit("/", 1)[0] if "/" in rid else None
        return _NO_RULE

    def strings(self, rule: _Rule) -> Any:
        """``globalMessageStrings`` of the tool component defining ``rule`` (the driver's for none)."""
        return self.owner.get(id(rule), self.driver).globalMessageStrings


#: secret scanners writing SARIF (driver names lower case, letters only): their results' snippet text (gitleaks 8: the
#: secret; 7: the line holding it) and gitleaks 7's properties.offender are the secrets found
_SECRET_SCANNERS = frozenset({"gitleaks", "betterleaks", "noseyparker", "kingfisher", "trufflehog", "detectsecrets",
                              "ggshield", "secretlint"})
_SCANNER_NAME = re.compile(r"[^a-z]")
#: a snippet's text (after its other simple members) or an offender property, as JSON text
_FOUND_SECRET = found_secrets.value_after(
    rb'"offender"\s*:\s*|"snippet"\s*:\s*\{(?:\s*"[A-Za-z]+"\s*:\s*(?:' + found_secrets.STRING + rb'|\{[^{}]*\})\s*,)*'
    rb'\s*"text"\s*:\s*')
_ANALYTIC_TYPE = 1  # OCSF analytic.type_id Rule
_REGULAR_FILE = 1  # OCSF file.type_id Regular File: a source file the result points at


class Sarif(ReportFormat):
    """SARIF 2.1.0 static-analysis logs."""

    name = "sarif"
    report_type = _Head
    what = "a SARIF log"
    description = "SARIF 2.1.0 from any tool -> Application Security Posture Finding (2007); other versions dead-lettered"
    framing = "document"
    product = "SARIF"
    vendor = "OASIS"

    def sniff(self, head: bytes) -> int:
        """Recognize a SARIF log (any version: non-2.1.0 ones are dead-lettered with the reason)."""
        h = head[:8192]
        if b'"runs"' in h and (b"sarif" in h.lower() or b'"version"' in h):
            return 90
        if b'"$schema"' in h and b'"version"' in h and _SARIF_SCHEMA.search(h):  # a log without runs
            return 90
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one SARIF log: compacted once, then read as a whole log (the version check
        reads the same decode; only a log that does not fit the 2.1.0 shape is read again
        for its version alone)."""
        with paused_gc():
            try:
                compacted = compact(data)
            except msgspec.DecodeError as exc:
                return self.dead(f"not {self.what}: {exc}", source, data)
            orig, data = data, compacted
            try:
                log: _Log | None = _LOG.decode(data)
                invalid = None
            except msgspec.DecodeError as exc:
                log, invalid = None, exc
            if log is None:
                try:
                    version = _HEAD.decode(data).version
                except msgspec.DecodeError as exc:
                    return self.dead(f"not {self.what}: {exc}", source, data)
            else:
                version = log.version
            if version != "2.1.0":
                return self.dead(
                    f"SARIF version {version!r} is not supported: secpipe reads SARIF 2.1.0 only; convert the log "
                    "with the SARIF Multitool (`sarif transform --sarif-output-version Current`)", source, data)  # fmt: skip
            if log is None:
                return self.dead(f"not a SARIF log: invalid SARIF 2.1.0 structure: {invalid}", source, data)
            return self.map_report(log, data, source, orig)

    def map_report(self, log: _Log, data: bytes, source: str, orig: bytes | None = None) -> Decoded:
        """Map one decoded SARIF 2.1.0 log (``data`` is its compact bytes, ``orig`` as it came) into findings."""
        if log.runs is None and log.results is not None:
            return self.dead("a SARIF external property file, not a SARIF log: its results belong to the log "
                             "that references it (`externalPropertyFileReferences`); send that log", source, data)
        out = Decoded()
        typed: list[_TypedRun] | None = None
        tried = False
        for ri, run in enumerate(log.runs or []):
            if run.invocations:  # what the run says went wrong in it
                drv = (run.tool or _Tool()).driver or _Component()
                out.extend(run_notifications(self.name, drv.name or self.product, drv.organization or drv.name or self.vendor,
                                             drv.version or drv.semanticVersion, run.invocations, ri, source))  # fmt: skip
            res: list[Any] = run.results or []  # msgspec.Raw slices of the compact log
            out.events += len(res)
            if not res:
                continue
            if _fast.available():
                raws = record_bytes(res)
                native = _native(raws)
                if native is not None:
                    f, msgs = native
                    out.batches.append(self._batch(_RunCtx(run), ri, list(range(len(raws))), raws, f, msgs))
                    continue
            if not tried:
                tried = True
                try:
                    typed = _TYPED_LOG.decode(data).runs
                except msgspec.DecodeError:  # some result has an unknown key or a wrong type: isolate it below
                    typed = None
            trs = typed[ri].results if typed is not None and ri < len(typed) else None
            if trs is not None and len(trs) == len(res):
                st = Strict(trs, [None] * len(res), res, [(source, i) for i in range(len(res))])
                ords = list(range(len(res)))
            else:
                raws = [bytes(r) for r in res]
                st = decode_strict(raws, [(source, i) for i in range(len(raws))], _Result, out, self.name, "a SARIF result")
                pos = {id(r): i for i, r in enumerate(raws)}
                ords = [pos[id(r)] for r in st.raws]
            if any(not_utf8(bytes(r)) is not None for r in st.raws):
                # the native path refuses the log whole when a result of the right shape is no UTF-8
                # (raw_data's check, before the message is read): the same here
                whole = data if orig is None else orig
                return self.dead(not_utf8(whole) or "not valid UTF-8 (a JSON document must be UTF-8, RFC 8259)",
                                 source, whole)  # fmt: skip
            distinct = {"message": Distinct([r.message for r in st.recs], _Message | None, "message")}
            st, distinct, kept = reject_distinct(st, distinct, out, self.name, "a SARIF result")
            if kept is not None:
                ords = [ords[i] for i in kept]
            if st.recs:
                raws = record_bytes(st.raws)
                out.batches.append(self._batch(_RunCtx(run), ri, ords, raws, _fields(st), distinct["message"]))
        return out

    def _batch(self, run: _RunCtx, ri: int, ords: list[int], raws: list[bytes], f: dict[str, Any],
               msgs: Distinct) -> pa.RecordBatch:
        """The findings of one run from its result field columns (see :func:`_fields`, :func:`_native`)."""
        n = len(raws)
        cls = "application_security_posture_finding"
        group, rules = _rule_groups(run, f)
        per = _per_rule(run, rules)
        take = pa.array(group, pa.int32())
        rid_arr = per["rid"].take(take)
        # §3.27.10: no level and a kind other than "fail" (pass, open, review, ...) -> "none",
        # else the rule's default level, else "warning"
        not_fail = pc.fill_null(pc.and_(nonempty(f["kind"]), pc.not_equal(f["kind"], "fail")), False)
        levels = either(f["level"], pc.if_else(not_fail, pa.scalar("none", S), per["level"].take(take)))
        levels = pc.fill_null(or_null(levels), "warning")
        sev = _distinct_map(levels, lambda lv: _level_sev(lv), pa.int32())
        scores = pc.coalesce(f["score"], per["score"].take(take))
        if scores.null_count < n:
            sev = pc.if_else(scores.is_null(), sev, score_severity_ids(scores))
        drv = run.driver
        pre = f"{drv.name}\0{ri}\0"
        ctx = [pre + str(i) for i in ords]
        stored, unmapped = raws, f["unmapped"]
        scanner = _SCANNER_NAME.sub("", (drv.name or "").lower())
        if scanner in _SECRET_SCANNERS:  # the secrets found stay out of the lake
            stored, unmapped = found_secrets.hide(raws, unmapped, (b'"snippet"', b'"offender"'), _FOUND_SECRET,
                                                  rid_arr.to_pylist())
        elif scanner.startswith("semgrep"):  # a Semgrep secret rule's snippet is the matched line, secret and all
            rids = rid_arr.to_pylist()
            rows = [i for i, r in enumerate(rids) if r and "secrets" in r.split(".")]
            if rows:
                stored, unmapped = found_secrets.hide(raws, unmapped, (b'"snippet"',), _FOUND_SECRET, rids, rows)
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws, ctx),
            times_ms=const(report_time(run.time), n, pa.int64()), raws=stored, activity_id=1,
            severity_id=sev,
        )  # fmt: skip
        version = drv.version or drv.semanticVersion
        cols["metadata.product.name"] = const(drv.name or self.product, n, S)
        cols["metadata.product.vendor_name"] = const(drv.organization or drv.name or self.vendor, n, S)
        cols["metadata.product.version"] = const(version, n, S)
        cols["metadata.log_name"] = const(self.name, n, S)
        paths = either(_paths(run, f["uri"], f["base"]), _artifact_uris(run, f["artifact"]))
        construct, construct_kind = _logical(run, f)
        # a result on a namespace, type or function alone (FxCop, Roslyn, Contrast ...) is told apart by that construct
        place = either(paths, construct)
        short = per["short"].take(take)
        full = per["full"].take(take)
        rule_names = either(per["name"].take(take), rid_arr)
        ruled = pc.or_(pc.is_valid(rid_arr), pc.is_valid(rule_names))
        first_fp, partial, tags = fingerprints(f["fingerprints"], f["partialFingerprints"])
        uid = first_fp
        if uid.null_count:
            # partial fingerprints identify a result only with its rule and file (CodeQL's line hash
            # is the same for every rule matching one line, and for equal lines in two files)
            by_partial = pc.binary_join_element_wise(rid_arr, place, partial, "|", null_handling="replace",
                                                     null_replacement="None")  # fmt: skip
            uid = either(uid, pc.if_else(partial.is_valid(), by_partial, pa.scalar(None, S)))
        if uid.null_count:
            uid = either(uid, fallback_uids(rid_arr, place, f["startLine"], ri, ords))
        # producers repeat fingerprints across results (Flawfinder hashes the line text, gitleaks'
        # partial fingerprints are the commit's): a shared uid gets the result's location
        where = pc.binary_join_element_wise(paths, f["startLine"].cast(S), f["startColumn"].cast(S), ":",
                                            null_handling="replace", null_replacement="None")  # fmt: skip
        if construct.null_count < n:  # ... and the construct it is on (two members on one line)
            where = pc.if_else(construct.is_valid(), pc.binary_join_element_wise(where, construct, "|"), where)
        uid = distinct_uids(uid, where)
        suppressed = f["suppressed"]
        # a result that is gone from the baseline, or of kind "pass" (the rule was evaluated and the
        # target conforms, §3.27.9: CIS-CAT and other compliance tools report them), is Resolved
        gone = pc.or_kleene(pc.equal(f["baselineState"], "absent"), pc.equal(f["kind"], "pass"))
        status_id = pc.if_else(suppressed, 3, pc.if_else(pc.fill_null(gone, False), 4, 1))
        status_id = status_id.cast(pa.int32())
        if f.get("locations") is None:  # one location a result at most: its first is its affected code
            affected = singleton_list(_code(paths, f, rid_arr, rule_names, short), paths.is_valid())
        else:  # every location of a result is where it occurred (SARIF §3.27.12): one affected_code each
            offsets, locs = f["locations"]
            affected = _all_code(run, offsets, locs, rid_arr, rule_names, short)
        named = per["cve"].take(take)  # the CVE or GHSA id the rule id is or begins with
        cwe, cwe_cap = _cwes(run, f["taxa"], f["props"], per, take)
        none_s = pa.scalar(None, S)
        # a cve's uid is a CVE id: a GitHub advisory id (GHSA-...) is the finding's advisory, its weakness in related_cwes
        ghsa = pc.fill_null(pc.starts_with(pc.utf8_upper(named), "GHSA-"), False)
        cve = pc.if_else(ghsa, none_s, named)
        # OCSF 1.8.0: just one of advisory / cve / cwe per vulnerability: beside a CVE, its weakness is cve.cwe
        has_cve = cve.is_valid()
        on_cve = pc.if_else(has_cve, cwe, none_s)
        alone = pc.if_else(pc.or_(has_cve, ghsa), none_s, cwe)
        on_adv = pc.if_else(ghsa, cwe, none_s)
        # neither: the rule is the advisory the finding answers to (its id, title and help link)
        adv = pc.if_else(ghsa, named, pc.if_else(pc.or_(has_cve, cwe.is_valid()), none_s, rid_arr))
        vuln = nest({
            "title": short,
            "desc": full,
            "severity": captions(cls, "severity_id", sev),
            "cve": only_where(nest({"uid": cve, "cwe": only_where(nest({"uid": on_cve, "caption": cwe_cap}), on_cve)}), cve),
            "cwe": only_where(nest({"uid": alone, "caption": cwe_cap}), alone),
            "advisory": only_where(nest({"uid": adv, "title": short, "src_url": per["url"].take(take),
                                         "related_cwes": singleton_list(nest({"uid": on_adv, "caption": cwe_cap}), on_adv.is_valid())}),
                                   adv),  # fmt: skip
            "references": per["references"].take(take),
            "related_vulnerabilities": per["related"].take(take),
            "affected_code": affected,
        })  # fmt: skip
        message = _messages(run, msgs, group, rules)
        cols.update({
            "status_id": status_id,
            "status": captions(cls, "status_id", status_id),
            "message": message,
            "finding_info.uid": uid,
            # a result naming no rule (gitleaks 7: "AWS Access Key secret detected") is titled by its message
            "finding_info.title": pc.coalesce(short, rid_arr, message),
            "finding_info.desc": full,
            "finding_info.types": per["types"].take(take),
            "finding_info.tags": tags,
            "finding_info.src_url": per["url"].take(take),
            "finding_info.product.name": const(drv.name, n, S),
            "finding_info.product.version": const(version, n, S),
            "finding_info.product.vendor_name": const(drv.organization, n, S),
            "finding_info.analytic.uid": rid_arr,
            "finding_info.analytic.name": rule_names,
            "finding_info.analytic.desc": short,
            # a Rule only where the result names its rule (an analytic needs a name or uid, OCSF 1.8.0)
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(_ANALYTIC_TYPE, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, "Rule", pa.scalar(None, S)),
            "vulnerabilities": singleton_list(vuln),
            # the result's kind (fail, pass, open, review, ...: §3.27.9) has no OCSF attribute (it
            # decides level and status above): kept as given
            "unmapped": unmapped_items(unmapped, _kind_items(f["kind"])),
        })  # fmt: skip
        if construct.null_count < n:  # the construct each result is on, then the run's repositories
            repos = run.repos or []
            cols["resources"] = pa.array([[{"type": k, "name": q, "uid": None, "labels": None, "data": None}, *repos]
                                          if q else run.repos
                                          for q, k in zip(construct.to_pylist(), construct_kind.to_pylist(), strict=True)],
                                         RESOURCES)  # fmt: skip
        elif run.repos:  # the repositories the run analyzed (versionControlProvenance)
            cols["resources"] = pa.array([run.repos] * n, RESOURCES)
        return to_batch(cls, cols)


def _cached_logical(entries: Any) -> list[tuple[str | None, ...]]:
    """``run.logicalLocations`` (SARIF §3.14.17) as (fullyQualifiedName, name, kind) per index; an
    entry that is no object, or a property that is no non-empty string, gives None there."""
    out = []
    for e in entries if isinstance(entries, list) else []:
        d = e if isinstance(e, dict) else {}
        out.append(tuple(v if isinstance(v := d.get(k), str) and v else None for k in _LOG_FIELDS))
    return out


def _logical(run: _RunCtx, f: dict[str, Any]) -> tuple[pa.Array, pa.Array]:
    """(fully qualified name, kind) of each result's first logical location, null where it has none.
    A result's logical location with an ``index`` takes the properties of ``run.logicalLocations[index]``
    it does not give itself (§3.33.3); its fully qualified name is ``fullyQualifiedName``, else ``name``
    (a top-level location's defaults to it, §3.33.5). Resolved once per distinct reference."""
    cols = [f["logical." + k] for k in (*_LOG_FIELDS, "index")]
    n = len(cols[0])
    if all(c.null_count == n for c in cols):
        return pa.nulls(n, S), pa.nulls(n, S)
    got: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}
    names, kinds = [], []
    for ref in zip(*(c.to_pylist() for c in cols), strict=True):
        if (hit := got.get(ref)) is None:
            fqn, name, kind, index = ref
            cached = run.logical[index] if index is not None and 0 <= index < len(run.logical) else (None, None, None)
            hit = got[ref] = (fqn or cached[0] or name or cached[1] or None, kind or cached[2] or None)
        names.append(hit[0])
        kinds.append(hit[1])
    return strs(names), strs(kinds)


def _code(paths: pa.Array, region: dict[str, pa.Array], rid: pa.Array, names: pa.Array, short: pa.Array) -> pa.Array:
    """``affected_code`` entries of locations (``paths`` and ``region``'s int64 line/column columns)."""
    has_file = paths.is_valid()
    start_line = _int32(region["startLine"])
    return nest({
        "file.path": paths,
        "file.name": _distinct_map(paths, _file_name, S),
        "file.type_id": pc.if_else(has_file, pa.scalar(_REGULAR_FILE, pa.int32()), pa.scalar(None, pa.int32())),
        "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), pa.scalar(None, S)),
        "start_line": start_line,
        # a line/column region's absent endLine is its startLine and its absent startColumn 1
        # (SARIF 2.1.0 §3.30.5-§3.30.7); an absent endColumn (the end of that line) stays unknown
        "end_line": _int32(pc.coalesce(region["endLine"], region["startLine"])),
        "start_column": pc.coalesce(_int32(region["startColumn"]), pc.if_else(start_line.is_valid(), _ONE, _NULL32)),
        "end_column": _int32(region["endColumn"]),
        "rule.uid": rid,
        "rule.name": names,
        "rule.desc": short,
    })  # fmt: skip


def _all_code(run: _RunCtx, offsets: np.ndarray, locs: dict[str, pa.Array], rid: pa.Array, names: pa.Array,
              short: pa.Array) -> pa.Array:  # fmt: skip
    """``affected_code`` of every location of each result (``offsets``: result i's locations are
    ``offsets[i]:offsets[i+1]`` of the per-location columns ``locs``), those with a file, in order."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.int32), np.diff(offsets))
    at = pa.array(rows)
    paths = either(_paths(run, locs["uri"], locs["base"]), _artifact_uris(run, locs["artifact"]))
    code = _code(paths, locs, rid.take(at), names.take(at), short.take(at))
    keep = np.asarray(paths.is_valid().to_numpy(zero_copy_only=False), bool)
    counts = np.bincount(rows[keep], minlength=len(offsets) - 1)
    off = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=off[1:])
    return pa.ListArray.from_arrays(pa.array(off), code.filter(pa.array(keep)), mask=pa.array(counts == 0))


def _repositories(vcp: Any) -> list[dict[str, Any]] | None:
    """``resources``: the repositories a run analyzed (SARIF §3.14.18 ``versionControlProvenance``,
    §3.23 versionControlDetails), one per entry with its required ``repositoryUri``: type
    ``repository``, name and uid the URI, ``data`` the entry's other properties as given
    (``revisionId``, ``branch``, ``revisionTag``, ``asOfTimeUtc`` ...). None when the run names none."""
    if not isinstance(vcp, list):
        return None
    out = [{"type": "repository", "name": d["repositoryUri"], "uid": d["repositoryUri"], "labels": None,
            "data": msgspec.json.encode({k: v for k, v in d.items() if k != "repositoryUri"}).decode() if len(d) > 1 else None}
           for d in vcp if isinstance(d, dict) and isinstance(d.get("repositoryUri"), str) and d["repositoryUri"]]  # fmt: skip
    return out or None


#: the rule reference and first-location fields of a result (both paths give them as these columns).
_REF_INTS = ("ruleIndex", "rule.index", "rule.toolComponent.index")
_LOC_INTS = ("startLine", "endLine", "startColumn", "endColumn")
_PHYS = "locations[].physicalLocation."
#: a location's logical locations (SARIF §3.28.4) and the properties of one that are read (§3.33)
_LOGICAL = "locations[].logicalLocations[]"
_LOG_FIELDS = ("fullyQualifiedName", "name", "kind")
#: the native walker's spec of ``_Result``: typed fields as columns, raw ones to ``unmapped``.
_SPEC = _fast.Spec(
    (("ruleId", _fast.STR), ("rule.id", _fast.STR), *((k, _fast.INT) for k in _REF_INTS), ("level", _fast.STR),
     ("kind", _fast.STR), ("baselineState", _fast.STR), ("message", _fast.RAW), ("fingerprints", _fast.RAW),
     ("partialFingerprints", _fast.RAW), ("suppressions", _fast.RAW), ("properties", _fast.RAW), ("taxa", _fast.RAW),
     ("locations[]", _fast.LIST), (_PHYS + "artifactLocation.uri", _fast.STR), (_PHYS + "artifactLocation.uriBaseId", _fast.STR),
     (_PHYS + "artifactLocation.index", _fast.INT), *((_PHYS + "region." + k, _fast.INT) for k in _LOC_INTS),
     (_LOGICAL, _fast.LIST), *((f"{_LOGICAL}.{k}", _fast.STR) for k in _LOG_FIELDS), (_LOGICAL + ".index", _fast.INT)),
    _UNMAPPED, tuple(f.encode_name for f in msgspec.structs.fields(_Result)),
)  # fmt: skip
_FPS = msgspec.json.Decoder(list[Fingerprints | None])
_SUPPRESSIONS = msgspec.json.Decoder(list[list[Any] | None])


def _native(raws: list[bytes]) -> tuple[dict[str, Any], Distinct] | None:
    """A run's result field columns in one native pass, or None when the msgspec path must decide
    (no extension, an irregular result, a message, fingerprint or suppression of the wrong type)."""
    cols = _fast.extract(raws, _SPEC)
    if cols is None:
        return None
    s = cols.strings
    msgs = Distinct.from_column(s["message"], _Message | None, "message")
    if msgs.errors:
        return None
    try:
        fps = _decode_column(s["fingerprints"], _FPS)
        pfps = _decode_column(s["partialFingerprints"], _FPS)
        sup = s["suppressions"]
        suppressed = pa.array([_suppressed(x) for x in _decode_column(sup, _SUPPRESSIONS)], pa.bool_()) if sup.null_count < len(sup) \
            else pa.repeat(pa.scalar(False), len(sup))
    except msgspec.DecodeError:
        return None
    f: dict[str, Any] = {k: s[k] for k in ("ruleId", "rule.id", *_REF_INTS, "level", "kind", "baselineState")}
    offsets, _mask = cols.lists["locations[]"]
    first = pa.array(offsets[:-1], pa.int32(), mask=offsets[1:] == offsets[:-1])
    f["uri"] = s[_PHYS + "artifactLocation.uri"].take(first)
    f["base"] = s[_PHYS + "artifactLocation.uriBaseId"].take(first)
    f["artifact"] = s[_PHYS + "artifactLocation.index"].take(first)
    for k in _LOC_INTS:
        f[k] = s[_PHYS + "region." + k].take(first)
    f["locations"] = None
    if len(s[_PHYS + "artifactLocation.uri"]) > int(np.count_nonzero(offsets[1:] > offsets[:-1])):  # 2+ in a result
        f["locations"] = (offsets, {"uri": s[_PHYS + "artifactLocation.uri"], "base": s[_PHYS + "artifactLocation.uriBaseId"],
                                    "artifact": s[_PHYS + "artifactLocation.index"],
                                    **{k: s[_PHYS + "region." + k] for k in _LOC_INTS}})  # fmt: skip
    # the first location's first logical location: its items start at inner[first location]
    inner, _mask = cols.lists[_LOGICAL]
    at = np.minimum(offsets[:-1], len(inner) - 2)
    has = (offsets[1:] > offsets[:-1]) & (inner[at + 1] > inner[at])
    first_logical = pa.array(inner[at], pa.int32(), mask=~has)
    for k in (*_LOG_FIELDS, "index"):
        f["logical." + k] = s[f"{_LOGICAL}.{k}"].take(first_logical)
    props = s["properties"]
    has = pc.fill_null(pc.match_substring_regex(props, "|".join(_SEVERITY_KEYS)), False)
    score: list[float | None] = [None] * len(raws)
    if pc.any(has).as_py():
        for i in np.flatnonzero(has.to_numpy(zero_copy_only=False)).tolist():
            score[i] = _security_severity(_result_props(msgspec.Raw(props[i].as_py().encode())))
    f["score"] = pa.array(score, pa.float64())
    f["fingerprints"], f["partialFingerprints"], f["suppressed"] = fps, pfps, suppressed
    f["taxa"] = s["taxa"]
    f["props"] = props
    f["unmapped"] = cols.unmapped
    return f, msgs


#: suppression statuses that leave a result unsuppressed (SARIF 2.1.0 §3.35.3)
_NOT_SUPPRESSING = frozenset({"underReview", "rejected"})


def _suppressed(sups: list[Any] | None) -> bool:
    """Whether a result is suppressed: it has suppressions and none of them is ``underReview`` or
    ``rejected`` (a suppression under review or rejected does not suppress; sarif-tutorials,
    "Determining suppression status"). Logs of the 2.1.0 pre-release schemas rtm.1 to rtm.4 (also
    version "2.1.0") name that property ``state``: the SARIF SDK reads it as ``status`` (its
    PrereleaseCompatibilityTransformer), and so does this."""
    if not sups:
        return False
    return not any(isinstance(x, dict) and x.get("status", x.get("state")) in _NOT_SUPPRESSING for x in sups)


def _decode_column(col: pa.Array, dec: msgspec.json.Decoder) -> list[Any]:
    """A column of raw JSON texts (null where absent) decoded in one call: one value per row."""
    if col.null_count == len(col):
        return [None] * len(col)
    joined = pc.binary_join_element_wise(pc.fill_null(col, "null"), pa.scalar(","), "")
    buf = joined.buffers()
    off = np.frombuffer(buf[1], np.int32, len(joined) + 1, joined.offset * 4)
    text = buf[2].to_pybytes()[off[0] : off[-1] - 1]
    return dec.decode(b"[" + text + b"]")  # type: ignore[no-any-return]


def _fields(st: Strict) -> dict[str, Any]:
    """The msgspec path's result field columns, as :func:`_native` gives them."""
    rs: list[_Result] = st.recs
    refs = [r.rule or _NO_REF for r in rs]
    f: dict[str, Any] = {"ruleId": strs([r.ruleId for r in rs]), "rule.id": strs([x.id for x in refs]),
                         "ruleIndex": _ref_ints([r.ruleIndex for r in rs]),
                         "rule.index": _ref_ints([x.index for x in refs]),
                         "rule.toolComponent.index": _ref_ints([x.toolComponent.index if x.toolComponent else None
                                                                for x in refs]),
                         "level": strs([r.level for r in rs]), "kind": strs([r.kind for r in rs]),
                         "baselineState": strs([r.baselineState for r in rs])}  # fmt: skip
    locs = [(r.locations[0].physicalLocation if r.locations and r.locations[0].physicalLocation else _PhysLoc()) for r in rs]
    arts = [p.artifactLocation or _NO_ART for p in locs]
    regions = [p.region or _Region() for p in locs]
    logical = [r.locations[0].logicalLocations[0] if r.locations and r.locations[0].logicalLocations else _NO_LOGICAL
               for r in rs]  # fmt: skip
    for k in _LOG_FIELDS:
        f["logical." + k] = strs([getattr(g, k) for g in logical])
    f["logical.index"] = _ref_ints([g.index for g in logical])
    f["uri"] = strs([a.uri for a in arts])
    f["base"] = strs([a.uriBaseId for a in arts])
    f["artifact"] = _ref_ints([a.index for a in arts])
    for k in _LOC_INTS:
        f[k] = pa.array([None if v is not None and not _MIN <= v <= _MAX else v for v in (getattr(g, k) for g in regions)],
                        pa.int64())  # fmt: skip
    f["locations"] = None
    if any(r.locations and len(r.locations) > 1 for r in rs):  # every location, as the native path gives them
        every = [loc.physicalLocation or _PhysLoc() for r in rs for loc in r.locations or ()]
        at = [p.artifactLocation or _NO_ART for p in every]
        reg = [p.region or _Region() for p in every]
        f["locations"] = (np.cumsum([0, *(len(r.locations or ()) for r in rs)]),
                          {"uri": strs([a.uri for a in at]), "base": strs([a.uriBaseId for a in at]),
                           "artifact": _ref_ints([a.index for a in at]),
                           **{k: pa.array([None if v is not None and not _MIN <= v <= _MAX else v
                                           for v in (getattr(g, k) for g in reg)], pa.int64()) for k in _LOC_INTS}})  # fmt: skip
    f["score"] = pa.array([_security_severity(_result_props(r.properties)) for r in rs], pa.float64())
    f["fingerprints"] = [r.fingerprints for r in rs]
    f["partialFingerprints"] = [r.partialFingerprints for r in rs]
    f["suppressed"] = pa.array([_suppressed(r.suppressions) for r in rs], pa.bool_())
    f["taxa"] = strs([bytes(r.taxa).decode() if r.taxa else None for r in rs])
    f["props"] = strs([bytes(r.properties).decode() if r.properties else None for r in rs])
    f["unmapped"] = unmapped_from(st, _UNMAPPED)
    return f


_NO_REF = _RuleRef()
_NO_LOGICAL = _LogLoc()
_MIN, _MAX = -(2**63), 2**63 - 1


def _ref_ints(values: list[int | None]) -> pa.Array:
    """Indexes (rule, tool component, artifact) as int64; one beyond int64 indexes nothing: -2."""
    return pa.array([v if v is None or _MIN <= v <= _MAX else -2 for v in values], pa.int64())


_ONE = pa.scalar(1, pa.int32())
_NULL32 = pa.scalar(None, pa.int32())


def _int32(col: pa.Array) -> pa.Array:
    """Line or column numbers (int64) as OCSF's int32, each by :func:`~.base.int32_or_none` (a value beyond
    int32 left null): cast whole when its least and greatest values are int32 (as real ones are)."""
    low, high = pc.min_max(col).values()
    if low.as_py() is None or (int32_or_none(low.as_py()) is not None and int32_or_none(high.as_py()) is not None):
        return col.cast(pa.int32())
    return pa.array([int32_or_none(v) for v in col.to_pylist()], pa.int32())


_NO_ART = _ArtLoc()


def _level_sev(level: str) -> int:
    return severity_ids([_LEVEL_WORD.get(level, level)])[0].as_py()  # type: ignore[no-any-return]


def _file_name(path: str | None) -> str | None:
    """The last segment of a path (a Windows path's, ``C:\\src\\a.c``, where it has no ``/``)."""
    if not path:
        return None
    return path.rsplit("/", 1)[-1] if "/" in path or "\\" not in path else path.rsplit("\\", 1)[-1]


def _distinct_map(col: pa.Array, fn: Any, type_: pa.DataType) -> pa.Array:
    """``fn`` applied once per distinct value of a string column (nulls stay null)."""
    enc = pc.dictionary_encode(col)
    return pa.array([fn(v) for v in enc.dictionary.to_pylist()], type_).take(enc.indices)


def _rule_groups(run: _RunCtx, f: dict[str, Any]) -> tuple[np.ndarray, list[tuple[_Rule, str | None]]]:
    """Each result's group of equal rule references, and per group (rule, rule id): the rule is
    resolved once per distinct (ruleId, rule.id, ruleIndex, rule.index, toolComponent) reference."""
    keys = [f[k] for k in ("ruleId", "rule.id", *_REF_INTS)]
    n = len(keys[0])
    code = np.zeros(n, np.int64)
    width = 1
    for col in keys:
        enc = pc.dictionary_encode(col)
        size = len(enc.dictionary) + 1
        code += width * (pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1)
        width *= size
        if width >= 2**62:  # too many distinct references to pack: group the per-row tuples instead
            return _rule_groups_slow(run, keys)
    uniq, first, group = np.unique(code, return_index=True, return_inverse=True)
    rows = [c.take(pa.array(first)).to_pylist() for c in keys]
    return group, [_resolve(run, *ref) for ref in zip(*rows, strict=True)]


def _rule_groups_slow(run: _RunCtx, keys: list[pa.Array]) -> tuple[np.ndarray, list[tuple[_Rule, str | None]]]:
    seen: dict[tuple[Any, ...], int] = {}
    group = np.fromiter((seen.setdefault(t, len(seen)) for t in zip(*(c.to_pylist() for c in keys), strict=True)),
                        np.int64, len(keys[0]))  # fmt: skip
    return group, [_resolve(run, *ref) for ref in seen]


def _resolve(run: _RunCtx, rule_id: str | None, ref_id: str | None, index: int | None, ref_index: int | None,
             component: int | None) -> tuple[_Rule, str | None]:
    """(rule, rule id) of one result reference, as :meth:`_RunCtx.rule` resolves it."""
    ref = _RuleRef(ref_id, ref_index, None if component is None else _ToolRef(component))
    res = _Result(ruleId=rule_id, ruleIndex=index, rule=ref)
    rule = run.rule(res)
    return rule, rule_id or ref_id or rule.id


def _per_rule(run: _RunCtx, rules: list[tuple[_Rule, str | None]]) -> dict[str, pa.Array]:
    """One row per rule group: the rule-derived values of its findings."""
    rs = [r for r, _ in rules]
    cwes = [run.cwe.of_rule(ru.relationships, ru.properties) for ru in rs]
    rids = [rid for _, rid in rules]
    tagged = [None if rid and _CVE.match(rid) else _tagged_cve(ru.properties) for rid, ru in zip(rids, rs, strict=True)]
    return {
        "rid": strs(rids),
        "level": strs([ru.defaultConfiguration.level if ru.defaultConfiguration else None for ru in rs]),
        "score": pa.array([_security_severity(ru.properties, ru.defaultConfiguration.parameters if ru.defaultConfiguration
                                              else None) for ru in rs], pa.float64()),
        "short": strs([_text(ru.shortDescription) or ru.name for ru in rs]),
        "full": strs([_text(ru.fullDescription) for ru in rs]),
        "name": strs([ru.name for ru in rs]),
        "url": strs([ru.helpUri for ru in rs]),
        "references": str_lists([[ru.helpUri] if ru.helpUri else None for ru in rs]),
        "cve": strs([m.group(1) if rid and (m := _CVE.match(rid)) else tagged for rid, tagged in zip(rids, tagged, strict=True)]),
        # the rule's own id beside the CVE a tag named (govulncheck's GO- id)
        "related": str_lists([[rid] if t and rid else None for rid, t in zip(rids, tagged, strict=True)]),
        "types": pa.array([_tags(ru.properties) for ru in rs], pa.list_(S)),
        "cwe": strs([c[0] if c else None for c in cwes]),
        "cwe_caption": strs([c[1] if c else None for c in cwes]),
    }


#: a tag that is a CVE id, whole (govulncheck tags each of its rules, named by their GO- id, with the CVE aliases)
_CVE_TAG = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)


def _tagged_cve(properties: dict[str, Any] | None) -> str | None:
    """The first tag of a rule's property bag that is a CVE id (for a rule whose id names none), else None."""
    return next((t for t in _tags(properties) or () if _CVE_TAG.match(t)), None)


def _tags(properties: dict[str, Any] | None) -> list[str] | None:
    """A property bag's ``tags`` (SARIF 2.1.0 §3.8.2: an array of strings), None when absent,
    empty or not an array (the log keeps it in ``raw_data``; its results are still read)."""
    tags = (properties or {}).get("tags")
    return [str(t) for t in tags] or None if isinstance(tags, list) else None


def _paths(run: _RunCtx, uris: pa.Array, bases: pa.Array) -> pa.Array:
    """Each first location's path (:func:`._sarif_uris.file_path`), once per distinct (uri, uriBaseId)."""
    if uris.null_count == len(uris):
        return uris
    key = pc.binary_join_element_wise(uris, pc.fill_null(bases, ""), "\0")
    enc = pc.dictionary_encode(key)
    got = []
    for k in enc.dictionary.to_pylist():
        uri, base = k.rsplit("\0", 1)
        got.append(file_path(uri, base or None, run.bases) if uri else uri)
    return pa.array(got, S).take(enc.indices)


def _kind_items(kinds: pa.Array) -> pa.Array:
    """``"kind":<value>`` items for ``unmapped`` (null where a result has none)."""
    if kinds.null_count == len(kinds):
        return kinds
    return pc.binary_join_element_wise('"kind":', json_texts(kinds), "")


def _artifact_uris(run: _RunCtx, index: pa.Array) -> pa.Array:
    """``run.artifacts[index].location.uri`` (null for an absent or out-of-range index)."""
    arts = strs(run.artifacts)
    if not len(arts) or index.null_count == len(index):
        return pa.nulls(len(index), S)
    ok = pc.and_(pc.greater_equal(index, 0), pc.less(index, len(arts)))
    return arts.take(pc.if_else(ok, index, pa.scalar(None, pa.int64())))


def _cwes(run: _RunCtx, taxa: pa.Array, props: pa.Array, per: dict[str, pa.Array],
          take: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(CWE id, caption) per result: its own ``taxa``, else its own ``properties`` (``cwe``,
    ``tags``), else its rule's (see :mod:`._sarif_ids`)."""
    own, own_cap = run.cwe.column(taxa)
    bag, bag_cap = run.cwe.properties_column(props)
    if bag.null_count < len(bag):
        mine = own.is_valid()
        own, own_cap = pc.if_else(mine, own, bag), pc.if_else(mine, own_cap, bag_cap)
    rule, rule_cap = per["cwe"].take(take), per["cwe_caption"].take(take)
    if own.null_count == len(own):
        return rule, rule_cap
    mine = own.is_valid()
    return pc.if_else(mine, own, rule), pc.if_else(mine, own_cap, rule_cap)


def _messages(run: _RunCtx, msgs: Distinct, group: np.ndarray, rules: list[tuple[_Rule, str | None]]) -> pa.Array:
    """Result messages, formatted once per distinct (message, rule group) pair."""
    key = np.asarray(msgs.idx, np.int64) * len(rules) + group
    uniq, inverse = np.unique(key, return_inverse=True)
    texts = []
    for k in uniq.tolist():
        rule = rules[k % len(rules)][0]
        texts.append(_fmt_message(msgs.values[k // len(rules)], rule, run.strings(rule)))
    return strs(texts).take(pa.array(inverse.astype(np.int32)))


__all__ = ["Sarif"]
