"""Loading Sigma rules: parse (pySigma), validate, apply pipelines, route, compile.

:func:`load_rules` reads rule files and directories (``*.yml``/``*.yaml``, recursively, one or
many documents per file), parses them with :class:`sigma.collection.SigmaCollection`, applies
the processing pipelines (pySigma pipeline YAML, or the short form ``fieldmappings: {sigma:
target}``) and then secpipe's built-in mappings (:mod:`.mappings`: Kubernetes rules' ``apiGroup``,
``hostPath``, ``capabilities``), validates each rule with pySigma's core validators, decides which secpipe formats
it sees from its ``logsource`` (:data:`ROUTES`), and compiles its condition to SQL
(:mod:`secpipe.detect.sigma.compiler`). A rule that cannot be used is kept in
``RuleSet.unsupported`` with the exact reason; one bad file never stops the others.

Routing: ``product``/``service`` name a source; without a product (or with ``product:
secpipe``), ``category`` may name an OCSF class (``api_activity``) which then restricts the rule
to that class (with another product it is the Sigma taxonomy's category, which restricts
nothing: ``product: windows, category: authentication`` runs on every json event); ``product: secpipe,
service: <format>`` routes to any secpipe format by name. A product with no dedicated source
(okta, azure, gcp, windows...) routes to the catch-all ``json`` format (and, when the rule
searches keywords, to ``syslog`` lines too), a category-only
logsource (``webserver``, ``proxy``...) to ``json`` and ``syslog``; the rule then carries a
warning saying so. There, a rule whose condition holds for an event without any of its fields
(``not selection``, ``field: null``) also requires one of its fields to be present: events of
every other source share the catch-all format, and one that has none of the rule's fields is
not from the rule's log source. A ``product: linux`` (or ``unix``) rule whose ``service`` is one
program's (sshd, sudo, su, cron, vsftpd, clamav: :data:`SERVICE_PROGRAMS`) runs only on the
events of that program (the syslog TAG, ``actor.process.name``) or of none named: a cron rule
that is the bare keyword ``REPLACE`` fired on apt's and dpkg's lines. The program field then
shows in the finding's evidence. Likewise a ``product: linux`` rule of a Sysmon category
(``process_creation``, ``network_connection``, ``file_event``...: :data:`SYSMON_EVENT_IDS`) runs
only on events with that category's Sysmon ``EventID`` or with none. GCP and Azure
rules also run on the records the ``k8s_audit`` format reads for those clouds (:data:`SHARED_ROUTES`).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import (
    SigmaAuthorError,
    SigmaCorrelationConditionError,
    SigmaCorrelationTypeError,
    SigmaDateError,
    SigmaDescriptionError,
    SigmaError,
    SigmaFalsePositivesError,
    SigmaFieldsError,
    SigmaIdentifierError,
    SigmaLevelError,
    SigmaLicenseError,
    SigmaLogsourceError,
    SigmaModifiedError,
    SigmaReferencesError,
    SigmaRelatedError,
    SigmaScopeError,
    SigmaStatusError,
    SigmaTagError,
    SigmaTaxonomyError,
)
from sigma.filters import SigmaFilter
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule
from sigma.validation import SigmaValidator
from sigma.validators.base import SigmaValidationIssueSeverity
from sigma.validators.core import validators as core_validators

from secpipe.detect.sigma.compiler import (
    KEYWORDS,
    Compiled,
    F,
    L,
    Leaf,
    UnsupportedRule,
    compile_condition,
    holds_without_fields,
    require_a_field,
    required_values,
    sql_str,
)
from secpipe.detect.sigma.legacy import EXTREMA, TYPE, has_aggregation, split_aggregation
from secpipe.detect.sigma.mappings import absence_of_all
from secpipe.detect.sigma.placeholders import expand_cidr_placeholders
from secpipe.errors import SecpipeError

# The Sigma specification lists utf16le as an alias of wide; this pySigma release lacks it.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)

#: (product, service) -> secpipe format names (metadata.log_name). service None = any service.
ROUTES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("aws", "cloudtrail"): ("cloudtrail",),
    ("aws", None): ("cloudtrail",),
    ("kubernetes", "audit"): ("k8s_audit",),
    ("kubernetes", None): ("k8s_audit", "falco"),
    ("github", None): ("github",),
    ("gitlab", None): ("gitlab",),
    ("jenkins", None): ("jenkins", "jenkins_log"),
    # syslog lines, and JSON events (EDR / auditbeat / Sysmon for Linux) kept as they came
    ("linux", None): ("syslog", "json"),
    ("unix", None): ("syslog", "json"),
    ("syslog", None): ("syslog",),
    ("falco", None): ("falco",),
    ("opa", None): ("opa",),
    ("trivy", None): ("trivy",),
    ("snyk", None): ("snyk",),
    ("sarif", None): ("sarif",),
    ("sonarqube", None): ("sonarqube",),
    ("alertmanager", None): ("alertmanager",),
    ("prometheus", None): ("alertmanager",),
    ("json", None): ("json",),
}
#: (product, service) -> (secpipe formats, what of them) for clouds without a format of their own
#: whose records one secpipe format reads beside others': Google Cloud Audit Logs and Azure
#: Monitor records are read by ``k8s_audit`` (:mod:`secpipe.formats._cloud_audit`,
#: as GKE's and AKS's audit streams carry them) and kept whole by ``json``. The rule runs on both;
#: as on the catch-all, a condition that holds without the rule's fields needs one of them.
SHARED_ROUTES: dict[tuple[str, str | None], tuple[tuple[str, ...], str]] = {
    ("gcp", None): (("json", "k8s_audit"), "Google Cloud Audit Logs records"),
    ("azure", None): (("json", "k8s_audit"), "Azure Monitor records (Activity Log, Entra ID sign-in and audit logs)"),
}
#: Linux ``service`` -> the programs that log as it (syslog TAG/APP-NAME, lower-cased): such a
#: rule runs only on the lines those programs wrote, and on lines and events that name no
#: program. Services whose programs are many or unknown (auth, syslog, auditd, ...) are not scoped.
SERVICE_PROGRAMS: dict[str, tuple[str, ...]] = {
    "sshd": ("sshd", "sshd-session", "sshd-auth"),  # OpenSSH 9.8 logs sessions as sshd-session, 10.0 adds sshd-auth
    "sudo": ("sudo",),
    "su": ("su",),
    "cron": ("cron", "crond", "anacron"),
    "vsftpd": ("vsftpd",),
    "clamav": ("clamd", "freshclam", "clamav-milter", "clamonacc"),
}
#: the event field holding the program of a syslog line
PROGRAM_FIELD = "actor.process.name"
#: ``product: linux`` taxonomy category -> the Sysmon for Linux event IDs of its events (Sysmon's
#: event schema: 1 ProcessCreate, 3 NetworkConnect, 5 ProcessTerminate, 9 RawAccessRead, 11
#: FileCreate, 23 FileDelete, 26 FileDeleteDetected). Sysmon writes each event with its
#: ``EventID`` (read from the XML of a syslog line, or a JSON key): a ``process_creation`` rule
#: must not match the network connection of the same ``Image``. Events without an EventID
#: (auditd lines, other sources' JSON) are still read.
SYSMON_EVENT_IDS: dict[str, tuple[str, ...]] = {
    "process_creation": ("1",), "network_connection": ("3",), "process_termination": ("5",),
    "raw_access_thread": ("9",), "file_event": ("11",), "file_delete": ("23", "26")}
EVENT_ID_FIELD = "EventID"
#: key fields rules are dispatched on (engine.DISPATCH says which format column holds them).
DISPATCH_FIELDS = ("eventName",)
#: custom attributes keeping a rule's non-UUID ``id`` and what :func:`parse_collection` repaired
ORIGINAL_ID = "x-secpipe-original-id"
NOTES = "x-secpipe-notes"
#: metadata errors that do not change what a rule matches -> the attribute to repair or leave out
_METADATA: dict[type, str] = {
    SigmaIdentifierError: "id", SigmaRelatedError: "related", SigmaDateError: "date", SigmaModifiedError: "modified",
    SigmaAuthorError: "author", SigmaDescriptionError: "description", SigmaReferencesError: "references",
    SigmaFalsePositivesError: "falsepositives", SigmaLicenseError: "license", SigmaScopeError: "scope",
    SigmaStatusError: "status", SigmaLevelError: "level", SigmaTagError: "tags", SigmaFieldsError: "fields",
    SigmaTaxonomyError: "taxonomy"}
_RELATED_TYPES = {"derived", "obsolete", "merged", "renamed", "similar", "correlation"}
_ID_NS = uuid.UUID("0b9f3a4e-7c1d-4e2f-8a5b-6c7d8e9f0a1b")
LEVELS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

# Validators whose findings are about style or metadata, not about what a rule matches.
_STYLE = {"identifier_existence", "identifier_uniqueness", "duplicate_references", "duplicate_title",
          "date_existence", "description_existence", "description_length", "level_existence",
          "duplicate_filename", "filename_length", "custom_attributes", "duplicate_tag", "namespace_tag",
          "tag_format", "tlptag", "tlpv1_tag", "tlpv2_tag", "cvetag", "stptag", "detection_tag",
          # these download MITRE ATT&CK / D3FEND / CAR catalogues at first use (no network here)
          "attacktag", "d3_fendtag", "cartag"}


#: HIGH validation issues about query backends that this engine evaluates correctly: ``windash``
#: with ``all`` keeps each value's dash permutations OR-linked inside the AND of the values
#: (:func:`.compiler._value`), so the rule means what it says; ``all`` without ``contains``
#: (``startswith|all``, ``endswith|all``, ``re|all``...) is the specification's AND of the
#: values, which the engine evaluates as written (plain equality to two different values can
#: never hold: such a rule loads with the validator's warning and matches nothing).
_EVALUATED = {"WindowsDashCombinedWithAllModifierIssue", "AllWithoutContainsModifierIssue",
              # the condition alone says what matches (pySigma converts such a rule as written);
              # an unreferenced search identifier stays a warning
              "DanglingDetectionIssue"}


class RuleLoadError(SecpipeError):
    """A rule path or pipeline that cannot be read."""


@dataclass(slots=True)
class Rule:
    """One compiled detection rule."""

    id: str
    title: str
    level: str
    tags: list[str]
    path: str
    formats: tuple[str, ...] | None  # None: every format
    classes: tuple[str, ...] | None  # None: every OCSF class
    compiled: Compiled
    sigma: SigmaRule
    name: str | None = None
    fields: list[str] = field(default_factory=list)  # the rule's `fields:` (evidence)
    warnings: list[str] = field(default_factory=list)
    #: dispatch field -> the lower-cased values it must have for the rule to match (see engine)
    required: dict[str, frozenset[str] | None] = field(default_factory=dict)
    #: False when a correlation with ``generate: false`` (the default) refers to the rule: its
    #: matches feed the correlation but are not reported as findings of their own.
    output: bool = True

    @property
    def severity_id(self) -> int:
        return LEVELS.get(self.level, 3)


@dataclass(slots=True)
class Unsupported:
    """A rule (or file) that cannot be evaluated, with the exact reason."""

    rule: str
    reason: str


@dataclass
class Loaded:
    """What :func:`load_files` read: compiled rules, correlation rules, the unsupported."""

    rules: list[Rule] = field(default_factory=list)
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)
    total: int = 0
    filters: list[SigmaFilter] = field(default_factory=list)  # meta filters (applied to the rules)


def rule_files(paths: list[str | Path]) -> list[Path]:
    """Every rule file under the given files/directories, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml") and q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            msg = f"rule path not found: {p} — give a Sigma rule file or a directory of them"
            raise RuleLoadError(msg)
    return out


def load_pipeline(spec: str | Path | dict[str, Any]) -> ProcessingPipeline:
    """A pySigma processing pipeline from YAML text/file/dict; ``fieldmappings:`` short form accepted."""
    if isinstance(spec, dict):
        data = spec
    else:
        p = Path(spec)
        text = p.read_text(encoding="utf-8") if p.is_file() else str(spec)
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            msg = f"pipeline {spec!s:.80} is not a YAML mapping — give a pySigma pipeline or fieldmappings"
            raise RuleLoadError(msg)
    if "fieldmappings" in data and "transformations" not in data:
        data = {"name": data.get("name", "fieldmappings"), "priority": 10, "transformations": [
            {"id": "secpipe_fieldmap", "type": "field_name_mapping", "mapping": data["fieldmappings"]}]}
    try:
        return ProcessingPipeline.from_dict(data)
    except (SigmaError, KeyError, TypeError, ValueError) as exc:
        msg = f"invalid processing pipeline: {exc} — see pySigma's pipeline YAML format"
        raise RuleLoadError(msg) from exc


#: where a rule goes whose logsource names no secpipe source: events kept as their original JSON
#: (``json``) and, for a category-only logsource (``webserver``, ``proxy``...), syslog lines.
FALLBACK_PRODUCT = ("json",)
FALLBACK_CATEGORY = ("json", "syslog")


def route(rule: SigmaRule | SigmaCorrelationRule) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, str | None]:
    """(formats, classes, note) a rule applies to, from its logsource.

    A product (or a category-only logsource) secpipe has no dedicated source for is not an
    error: Sigma rules name original fields, which the catch-all ``json`` format keeps as they
    came (and keyword rules read syslog lines), so the rule runs there and ``note`` says so.
    """
    from secpipe import formats as fmts
    from secpipe.schema.ocsf import ocsf

    ls = rule.logsource  # type: ignore[union-attr]
    product = (ls.product or "").lower() or None
    service = (ls.service or "").lower() or None
    category = (ls.category or "").lower() or None
    classes = (category,) if category and category in ocsf()["classes"] else None
    if product == "secpipe" or (product is None and service in fmts.REGISTRY):
        if service and service not in fmts.REGISTRY:
            msg = f"logsource service {service!r} is no secpipe format — one of: {', '.join(sorted(fmts.REGISTRY))}"
            raise UnsupportedRule(msg)
        return ((service,) if service else None), classes, None
    if product is None:
        if classes:
            return None, classes, None
        what = category or service
        if what is None:
            msg = "logsource names neither product, service nor category — add product (aws, kubernetes, github, linux, ...)"
            raise UnsupportedRule(msg)
        return FALLBACK_CATEGORY, classes, (f"logsource {what!r} has no dedicated secpipe source: the rule runs on "
                                            f"events ingested as {' and '.join(FALLBACK_CATEGORY)}")
    # with a product, ``category`` is the Sigma taxonomy's (``authentication``, ``process_creation``),
    # not an OCSF class: events of the catch-all formats are ``base_event``, and the rule's
    # fields decide what matches
    hit = ROUTES.get((product, service)) or ROUTES.get((product, None))
    shared = SHARED_ROUTES.get((product, service)) or (SHARED_ROUTES.get((product, None)) if hit is None else None)
    if shared is not None:
        fmts_, what = shared
        return fmts_, None, (f"logsource product {product!r} has no dedicated secpipe source: the rule runs on "
                             f"{what} (read by the {fmts_[1]} format) and on events ingested with the {fmts_[0]} format")
    if hit is None:
        return FALLBACK_PRODUCT, None, (f"logsource product {product!r} has no dedicated secpipe source: the rule "
                                        f"runs on events ingested with the {FALLBACK_PRODUCT[0]} format")
    return hit, None, None


def _validator() -> SigmaValidator:
    return SigmaValidator([cls for name, cls in core_validators.items() if name not in _STYLE])


def parse_collection(text: str, placeholders: Mapping[str, list[str]] | None = None) -> SigmaCollection:
    """The rules, correlations and filters of one file (errors collected per rule).

    A rule whose only errors are in metadata that does not change what it matches is not lost
    to them: the specification recommends, but does not require, UUIDs as identifiers (pySigma
    refuses any other ``id``), and published rules carry typos such as ``related`` types or
    dates. Such a rule is parsed again with a UUID derived from its ``id`` (``uuid5``; the id
    stays its ``name``, so correlations and filters still find it, and its secpipe rule id),
    invalid ``related`` entries dropped and any other invalid metadata attribute left out; what
    was changed is kept for :func:`compile_rule`, which reports it as warnings. An extended
    correlation condition written with upper-case ``AND``/``OR``/``NOT`` (as the specification
    does) is read with pySigma's lower-case operators; a correlation in the meta-rule draft's
    spelling (``ordered: true``, ``field`` beside ``condition``) as the specification writes it.
    A network placeholder (``field|cidr|expand: '%name%'``) takes the values of ``placeholders``
    before pySigma parses it (:mod:`.placeholders`).
    """
    if "cidr" in text and "expand" in text:
        docs = list(yaml.safe_load_all(text))
        if [_cidr_placeholders(d, placeholders or {}) for d in docs].count(True):
            text = yaml.safe_dump_all(docs, sort_keys=False)
    if "ordered:" in text or "correlation:" in text and "field:" in text:
        drafts = list(yaml.safe_load_all(text))
        if [_draft_correlation(d) for d in drafts].count(True):
            text = yaml.safe_dump_all(drafts, sort_keys=False)
    try:
        coll = SigmaCollection.from_yaml(text, collect_errors=True, collect_filters=True, resolve_references=False)
    except (AttributeError, TypeError) as exc:  # pySigma reads an id, a document as a mapping unchecked
        docs = list(yaml.safe_load_all(text))
        odd = next((f"document {i + 1} is a YAML {type(d).__name__}, not a mapping — a Sigma rule file holds "
                    "one rule (title, logsource, detection...) per YAML document"
                    for i, d in enumerate(docs) if d is not None and not isinstance(d, dict)), None)
        if odd is not None or not [_scalars_as_text(d) for d in docs].count(True):
            msg = odd or f"pySigma could not read it: {exc}"
            raise SigmaError(msg) from exc
        text = yaml.safe_dump_all(docs, sort_keys=False)
        coll = SigmaCollection.from_yaml(text, collect_errors=True, collect_filters=True, resolve_references=False)
    except SigmaCorrelationConditionError as exc:
        docs = list(yaml.safe_load_all(text))
        if "exactly one condition item" not in str(exc) or not any(_split_range(d) for d in docs):
            raise
        coll = SigmaCollection.from_dicts(docs, collect_errors=True, collect_filters=True, resolve_references=False)
        text = yaml.safe_dump_all(docs, sort_keys=False)
    items = [*coll.rules, *coll.filters]
    if not any(r.errors and all(_repairable(e) for e in r.errors) for r in items):
        return coll
    docs = list(yaml.safe_load_all(text))
    rule_docs = [d for d in docs if isinstance(d, dict) and d.get("action") is None]  # not global/reset/repeat
    rule_docs = [d for d in rule_docs if "filter" not in d] + [d for d in rule_docs if "filter" in d]
    if len(rule_docs) != len(items):
        return coll
    for doc, item in zip(rule_docs, items, strict=True):
        if item.errors and all(_repairable(e) for e in item.errors):
            _repair(doc, item.errors)
    return SigmaCollection.from_dicts(docs, collect_errors=True, collect_filters=True, resolve_references=False)


#: correlation condition operators (the specification's "map of condition criteria")
_CONDITION_OPS = ("gt", "gte", "lt", "lte", "eq", "neq")
#: custom attribute keeping every criterion of a range condition (``gt: 100`` AND ``lte: 200``)
RANGE = "x-secpipe-condition"


def _split_range(doc: object) -> bool:
    """A correlation whose condition has several criteria (the specification's range, "101 to
    200" = ``gt: 100, lte: 200``: all must hold) keeps the first for pySigma, which accepts one,
    and all of them in :data:`RANGE` for :mod:`.correlation`. True when ``doc`` was changed."""
    if not isinstance(doc, dict) or not isinstance(corr := doc.get("correlation"), dict):
        return False
    cond = corr.get("condition")
    if not isinstance(cond, dict):
        return False
    ops = [k for k in cond if k in _CONDITION_OPS]
    if len(ops) < 2:
        return False
    doc[RANGE] = {k: cond[k] for k in ops}
    corr["condition"] = {k: v for k, v in cond.items() if k not in ops[1:]}
    return True


def _scalars_as_text(doc: object) -> bool:
    """An ``id`` written as a number (``id: 1``) is read as its text, which then takes the
    repair of any id that is no UUID: pySigma calls string methods on it and failed with an
    AttributeError that stopped the whole load. True when ``doc`` was changed."""
    if isinstance(doc, dict) and isinstance(doc.get("id"), int | float) and not isinstance(doc["id"], bool):
        doc["id"] = str(doc["id"])
        return True
    return False


def _cidr_placeholders(doc: object, placeholders: Mapping[str, list[str]]) -> bool:
    notes: list[str] = []
    changed = expand_cidr_placeholders(doc, placeholders, notes)
    if notes and isinstance(doc, dict):
        doc[NOTES] = [*(doc.get(NOTES) or []), *notes]
    return changed


def _draft_correlation(doc: object) -> bool:
    """The meta-rule draft's spelling of a correlation (sigma-specification appendix_meta_rules,
    v2.0.0), as published rules still write it: ``ordered: true`` on a ``temporal`` correlation
    ("the events should occur in the given order") is the specification's ``temporal_ordered``;
    a value_count ``field`` beside ``condition`` is the condition's ``field``. True when ``doc``
    was changed."""
    if not isinstance(doc, dict) or not isinstance(corr := doc.get("correlation"), dict):
        return False
    changed = False
    if "ordered" in corr:
        if corr.pop("ordered") is True and corr.get("type") == "temporal":
            corr["type"] = "temporal_ordered"
        changed = True
    cond = corr.get("condition")
    if "field" in corr and isinstance(cond, dict) and "field" not in cond:
        cond["field"] = corr.pop("field")
        changed = True
    return changed


def _derived_uuid(value: object) -> str | None:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return str(uuid.uuid5(_ID_NS, str(value)))
    return None


#: pySigma messages that do not say what to change -> what to change
_HINTS = {"Unsupported type": "a detection's values must be strings, numbers, booleans, null or lists of them "
                               "(a Sigma 1.x 'aggregation' block is no detection: write a correlation rule)",
          "Unknown modifier": "see the Sigma modifiers appendix (contains, startswith, endswith, all, re, cidr, ...)",
          "collection action 'correlation'": "this is the pre-release draft format of Sigma meta rules (action: correlation, rule: "
                                             "[files]); write it as a correlation rule of the Sigma correlation "
                                             "specification: a 'correlation:' block with type (temporal_ordered for "
                                             "ordered: true), rules (the referenced rules' names or ids), group-by, "
                                             "timespan and condition",
          "Unknown Sigma collection action": "a document's 'action' must be global, reset or repeat (Sigma "
                                             "collections); leave it out of a rule"}


def _explain(err: Exception) -> str:
    text = str(err)
    hint = next((h for k, h in _HINTS.items() if k in text), None)
    return f"{text} — {hint}" if hint else text


def _repairable(err: Exception) -> bool:
    return type(err) in _METADATA or _upper_operators(err) or _extremum(err) or _listed_logsource(err)


#: logsource attributes a rule may list several values of (``category: [endpoint, network]``)
_LISTABLE = ("category", "service")


def _listed_logsource(err: Exception) -> bool:
    """A ``category`` or ``service`` given as a list (published keyword rule sets do so); the
    specification and pySigma want one string."""
    return isinstance(err, SigmaLogsourceError) and any(f"source {k} must be string" in str(err) for k in _LISTABLE)


def _extremum(err: Exception) -> bool:
    """A correlation of the specification's tests' value_max / value_min (over ``condition.field``),
    which this pySigma release does not parse: loaded as value_sum, the real type kept in
    :data:`.legacy.TYPE` (as Sigma 1.x ``min()`` / ``max()`` aggregations are)."""
    return isinstance(err, SigmaCorrelationTypeError) and any(f"'{x}'" in str(err) for x in EXTREMA)


def _upper_operators(err: Exception) -> bool:
    """pySigma parses extended correlation conditions with lower-case operators only; the
    specification writes ``rule_a AND rule_b``."""
    return isinstance(err, SigmaCorrelationConditionError) and "extended condition" in str(err)


def _repair(doc: dict[str, Any], errors: Sequence[Exception]) -> None:
    notes = []
    for err in errors:
        if _listed_logsource(err):
            ls = doc.get("logsource") or {}
            for key in _LISTABLE:
                vals = ls.get(key)
                if isinstance(vals, list) and vals and all(isinstance(v, str) for v in vals):
                    ls[key] = vals[0]
                    notes.append(f"logsource {key} {vals!r} is a list: read as {vals[0]!r} (the specification "
                                 f"wants one {key})")
            continue
        if _extremum(err):
            corr = doc.get("correlation") or {}
            doc[TYPE] = str(corr.get("type"))
            corr["type"] = "value_sum"
            continue
        if _upper_operators(err):
            corr = doc.get("correlation") or {}
            if isinstance(corr.get("condition"), str):
                corr["condition"] = re.sub(r"(?i)\b(and|or|not)\b", lambda m: m.group(1).lower(), corr["condition"])
            continue
        key = _METADATA[type(err)]
        if key == "id":
            new = _derived_uuid(doc["id"])
            doc[ORIGINAL_ID] = str(doc["id"])
            doc.setdefault("name", str(doc["id"]))
            doc["id"] = new
            notes.append(f"id {doc[ORIGINAL_ID]!r} is no UUID: parsed as {new}")
        elif key == "related":
            keep = []
            for rel in doc.get("related") or []:
                if not isinstance(rel, dict) or str(rel.get("type", "")).lower() not in _RELATED_TYPES:
                    notes.append(f"related entry {rel!r} ignored: {err}")
                    continue
                if (new := _derived_uuid(rel.get("id"))) is not None:
                    rel["id"] = new
                keep.append(rel)
            doc["related"] = keep
        elif doc.pop(key, None) is not None:
            notes.append(f"{key} ignored: {err}")
    doc[NOTES] = [*(doc.get(NOTES) or []), *notes]


def rule_id(rule: SigmaRule | SigmaCorrelationRule, path: Path) -> str:
    original = (rule.custom_attributes or {}).get(ORIGINAL_ID)
    if original:
        return str(original)
    if rule.id:
        return str(rule.id)
    return "sha-" + hashlib.blake2b(f"{path}\0{rule.title}".encode(), digest_size=8).hexdigest()


def compile_rule(rule: SigmaRule, path: Path, validator: SigmaValidator | None = None) -> Rule:
    """Compile one parsed (pipeline-processed) rule; raises UnsupportedRule with the reason."""
    if rule.errors:
        msg = f"invalid rule: {_explain(rule.errors[0])}"
        raise UnsupportedRule(msg)
    warnings = [str(n) for n in (rule.custom_attributes or {}).get(NOTES) or []]
    for issue in (validator or _validator()).validate_rule(rule):
        text = f"{type(issue).__name__}: {issue.description}"
        if issue.severity == SigmaValidationIssueSeverity.HIGH and type(issue).__name__ not in _EVALUATED:
            msg = f"validation failed — {text}"
            raise UnsupportedRule(msg)
        warnings.append(text)
    formats, classes, note = route(rule)
    conds = rule.detection.parsed_condition
    try:
        trees = [c.parsed for c in conds]
    except SigmaError as exc:
        msg = f"condition does not parse: {exc}"
        raise UnsupportedRule(msg) from exc
    compiled = [compile_condition(t) for t in trees]
    if formats == FALLBACK_PRODUCT and any(KEYWORDS in c.fields for c in compiled):
        # a keyword searches the record's text: a product without a dedicated source (mod_security,
        # apache, vsftpd...) writes text lines as often as JSON, so its keyword rules read both
        formats = FALLBACK_CATEGORY
        note = (f"logsource product {rule.logsource.product!r} has no dedicated secpipe source: the rule runs on "
                f"events ingested as {' and '.join(FALLBACK_CATEGORY)} (it searches keywords)")
    if note:
        warnings.append(note)
    warnings.extend(n for c in compiled for n in c.notes if n not in warnings)
    required: dict[str, frozenset[str] | None] = {}
    for key in DISPATCH_FIELDS:
        sets = [required_values(t, key) for t in trees]
        required[key] = None if any(x is None for x in sets) else frozenset().union(*sets)  # type: ignore[arg-type]
    if len(compiled) > 1:  # several conditions: any of them
        merged = Compiled("")
        parts = []
        for c in compiled:
            base = len(merged.leaves)
            merged.leaves.extend(c.leaves)
            merged.notes.extend(n for n in c.notes if n not in merged.notes)
            sk = c.skeleton
            for i in reversed(range(len(c.leaves))):
                sk = sk.replace(f"\x02{i}\x02", f"\x02{i + base}\x02")
            parts.append(sk)
        merged.skeleton = "(" + " OR ".join(parts) + ")"
        compiled = [merged]
    programs = _service_programs(rule)
    if programs:
        _scope(compiled[0], programs)
    event_ids = _sysmon_event_ids(rule)
    if event_ids:
        _scope(compiled[0], event_ids, EVENT_ID_FIELD)
    if note and holds_without_fields(compiled[0]):  # a catch-all format holds every other source's events
        require_a_field(compiled[0])
        warnings.append("its condition also holds for an event without any of its fields: it runs only on events "
                        "that have at least one of them")
    return Rule(
        id=rule_id(rule, path), title=rule.title, level=rule.level.name.lower() if rule.level else "medium",
        tags=[str(t) for t in rule.tags], path=str(path), formats=formats, classes=classes,
        compiled=compiled[0], sigma=rule, name=rule.name, fields=list(rule.fields or []), warnings=warnings,
        required=required,
    )


def _service_programs(rule: SigmaRule) -> tuple[str, ...]:
    """The programs a ``product: linux|unix`` rule's ``service`` names (:data:`SERVICE_PROGRAMS`)."""
    ls = rule.logsource
    if (ls.product or "").lower() not in ("linux", "unix"):
        return ()
    return SERVICE_PROGRAMS.get((ls.service or "").lower(), ())


def _sysmon_event_ids(rule: SigmaRule) -> tuple[str, ...]:
    """The Sysmon event IDs a ``product: linux`` rule's ``category`` names (:data:`SYSMON_EVENT_IDS`)."""
    ls = rule.logsource
    if (ls.product or "").lower() not in ("linux", "unix"):
        return ()
    return SYSMON_EVENT_IDS.get((ls.category or "").lower(), ())


def _scope(compiled: Compiled, values: tuple[str, ...], field: str = PROGRAM_FIELD) -> None:
    """AND ``compiled`` with "the event has no ``field``, or one of ``values``": a cron rule's
    keyword must not fire on what apt or dpkg logged (the program), a process_creation rule on
    Sysmon's other events (the EventID). Lines without a TAG and JSON events (which keep no
    syslog program) are still read, as before."""
    lits = ", ".join(map(sql_str, values))
    compiled.leaves.append(Leaf(field, f"({F} IS NULL OR {L} IN ({lits}))"))
    compiled.skeleton = f"({compiled.skeleton} AND \x02{len(compiled.leaves) - 1}\x02)"


def load_files(paths: list[str | Path], pipelines: list[Any] | None = None,
               placeholders: dict[str, list[str]] | None = None) -> Loaded:
    """Read, process and compile every rule under ``paths``.

    Sigma meta filters (``filter:`` documents) found in any of the files apply to the rules of
    every file (by logsource and rule reference, as pySigma applies them within one file);
    Sigma 1.x aggregations become correlation rules (:mod:`.legacy`); correlations with
    ``generate: false`` (the default) mark the rules they refer to as not reported.
    """
    pipeline = _pipeline(pipelines, placeholders)
    # a network placeholder takes its values where value_placeholders would: the pipelines' vars
    networks = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in (pipeline.vars or {}).items()}
    validator = _validator()
    out = Loaded()
    parsed: list[tuple[Path, SigmaCollection]] = []
    for path in rule_files(paths):
        try:
            coll = parse_collection(path.read_text(encoding="utf-8"), networks)
        except (SigmaError, yaml.YAMLError, UnicodeDecodeError) as exc:
            out.total += 1
            out.unsupported.append(Unsupported(str(path), f"not a Sigma rule file: {exc}"))
            continue
        parsed.append((path, coll))
        # pySigma also lists each rule's and filter's own errors here: those are reported with their rule
        owned = {id(e) for item in (*coll.rules, *coll.filters) for e in getattr(item, "errors", None) or []}
        for err in getattr(coll, "errors", None) or []:  # a document pySigma could not place in the collection
            if id(err) in owned:
                continue
            out.total += 1
            out.unsupported.append(Unsupported(str(path), f"not a Sigma rule: {_explain(err)}"))
        for flt in coll.filters:
            out.total += 1
            if flt.errors:
                out.unsupported.append(Unsupported(f"{path}#{flt.title}", f"invalid meta filter: {flt.errors[0]}"))
            else:
                out.filters.append(flt)
    for path, coll in parsed:
        for rule in coll.rules:
            out.total += 1
            label = str(path) if len(coll.rules) == 1 else f"{path}#{rule.title}"
            if getattr(rule, "errors", None):
                out.unsupported.append(Unsupported(label, f"invalid rule: {_explain(rule.errors[0])}"))
                continue
            try:
                _load_one(rule, path, pipeline, validator, out)
            except UnsupportedRule as exc:
                out.unsupported.append(Unsupported(label, str(exc)))
            except SigmaError as exc:
                out.unsupported.append(Unsupported(label, f"pySigma rejected it: {exc}"))
    _silence_referenced(out)
    return out


def _load_one(rule: SigmaRule | SigmaCorrelationRule, path: Path, pipeline: ProcessingPipeline | None,
              validator: SigmaValidator, out: Loaded) -> None:
    """Filter, process and compile one parsed rule into ``out`` (raises UnsupportedRule)."""
    if isinstance(rule, SigmaCorrelationRule):
        if pipeline is not None:
            pipeline.apply(rule)
        out.correlations.append(rule)
        return
    lowered = _lower_operators(rule)
    corr, notes, extras = (split_aggregation(rule, path) if has_aggregation(rule)
                           else (None, _drop_timeframe(rule), []))
    compiled = []
    for one in (rule, *extras):  # extras: the further searches of a '| near' correlation
        search: SigmaRule = one
        for flt in out.filters:
            search = flt.apply_on_rule(search)  # type: ignore[assignment]
        if pipeline is not None:
            pipeline.apply(search)
            absence_of_all(search)
        compiled.append(compile_rule(search, path, validator))
    compiled[0].warnings.extend(lowered + notes)
    out.rules.extend(compiled)
    if corr is not None:
        out.correlations.append(corr)


_OPERATOR = re.compile(r"\b(and|or|not|of|them|all)\b", re.IGNORECASE)


def _lower_operators(rule: SigmaRule) -> list[str]:
    """A condition written with upper-case operators (``sel AND NOT filter``, ``1 OF them``), as
    the correlation examples of the specification write them, is read with the lower-case
    operators pySigma's grammar knows; a search identifier of that spelling is left alone."""
    names = set(rule.detection.detections)

    def low(m: re.Match[str]) -> str:
        return m.group(0) if m.group(0) in names else m.group(0).lower()

    given = list(rule.detection.condition)
    text = [str(c) for c in given]  # a condition written as a number (``condition: 5``) is its text
    conds = [_OPERATOR.sub(low, c) for c in text]
    if conds == given:
        return []
    rule.detection.condition = conds
    rule.detection.__post_init__()  # re-parse the conditions
    return [] if conds == text else ["condition operators written in upper case are read as and/or/not/of/them/all"]


def _drop_timeframe(rule: SigmaRule) -> list[str]:
    """A Sigma 1.x ``timeframe`` (deprecated; inside ``detection`` or beside it) of a rule without
    an aggregation bounds nothing: it is no search identifier (``1 of them`` must not search
    for its text), so it is removed, and the rule loads with a warning saying so."""
    det = rule.detection.detections.pop("timeframe", None)
    if det is None and not (rule.custom_attributes or {}).get("timeframe"):
        return []
    return ["timeframe ignored: it is deprecated and only bounded Sigma 1.x aggregations — "
            "write a correlation rule with a timespan to count events over time"]


def _silence_referenced(out: Loaded) -> None:
    """Rules a ``generate: false`` correlation refers to (by id or name) report no findings."""
    from secpipe.detect.sigma.correlation import referenced

    refs = {n for c in out.correlations if not c.generate for n in referenced(c)}
    for r in out.rules:
        if r.id in refs or (r.name is not None and r.name in refs):
            r.output = False


def _pipeline(pipelines: list[Any] | None, placeholders: dict[str, list[str]] | None) -> ProcessingPipeline:
    from secpipe.detect.sigma.mappings import builtin_pipeline

    items = [load_pipeline(p) for p in pipelines or []]
    if placeholders:
        items.append(ProcessingPipeline.from_dict({"name": "placeholders", "priority": 5, "transformations": [
            {"id": "secpipe_placeholders", "type": "value_placeholders", "include": list(placeholders)}],
            "vars": {k: list(v) for k, v in placeholders.items()}}))
    items.append(builtin_pipeline())  # after the user's: a field they mapped is not mapped again
    total = items[0]
    for p in items[1:]:
        total = total + p
    return total


def load_rules(paths: Sequence[str | Path] | str | Path, *, pipelines: list[Any] | None = None,
               placeholders: dict[str, list[str]] | None = None, array_paths: bool = True) -> Any:
    """Load and compile every rule under ``paths`` into a :class:`~secpipe.detect.sigma.engine.RuleSet`."""
    from secpipe.detect.sigma.engine import RuleSet

    if isinstance(paths, str | Path):
        paths = [paths]
    loaded = load_files(list(paths), pipelines, placeholders)
    return RuleSet(loaded.rules, unsupported=loaded.unsupported, correlations=loaded.correlations,
                   array_paths=array_paths, total=loaded.total)
