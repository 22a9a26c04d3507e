"""Loading Sigma rules: parse (pySigma), validate, apply pipelines, route, compile.

:func:`load_rules` reads rule files and directories (``*.yml``/``*.yaml``, recursively, one or
many documents per file), parses them with :class:`sigma.collection.SigmaCollection`, applies
the processing pipelines (pySigma pipeline YAML, or the short form ``fieldmappings: {sigma:
target}``) and then secpipe's built-in mappings (:mod:`.mappings`: Kubernetes rules' ``apiGroup``,
``hostPath``, ``capabilities``), validates each rule with pySigma's core validators, decides which secpipe formats
it sees from its ``logsource`` (:data:`.routing.ROUTES`), and compiles its condition to SQL
(:mod:`secpipe.detect.sigma.compiler`). A rule that cannot be used is kept in
``RuleSet.unsupported`` with the exact reason; one bad file never stops the others.

Routing by ``logsource`` is :mod:`.routing`; reading a rule file into a pySigma collection (and
repairing what does not change what a rule matches) is :mod:`.parsing`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
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
    UnsupportedRule,
    compile_condition,
    holds_without_fields,
    require_a_field,
    required_values,
)
from secpipe.detect.sigma.legacy import has_aggregation, split_aggregation
from secpipe.detect.sigma.mappings import (
    absence_of_all,
    dns_root_dot,
    network_rows_only,
    uri_extension,
    workspace_application,
)
from secpipe.detect.sigma.parsing import NOTES, ORIGINAL_ID, explain, parse_collection
from secpipe.detect.sigma.routing import FALLBACK_CATEGORY, FALLBACK_PRODUCT, route, scope_rule
from secpipe.errors import SecpipeError

# The Sigma specification lists utf16le as an alias of wide; this pySigma release lacks it.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)

#: key fields rules are dispatched on (engine.DISPATCH says which format column holds them).
DISPATCH_FIELDS = ("eventName",)
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


def _validator() -> SigmaValidator:
    return SigmaValidator([cls for name, cls in core_validators.items() if name not in _STYLE])


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
        msg = f"invalid rule: {explain(rule.errors[0])}"
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
    scope_rule(rule, compiled[0])
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
            out.unsupported.append(Unsupported(str(path), f"not a Sigma rule file: {explain(exc)}"))
            continue
        parsed.append((path, coll))
        # pySigma also lists each rule's and filter's own errors here: those are reported with their rule
        owned = {id(e) for item in (*coll.rules, *coll.filters) for e in getattr(item, "errors", None) or []}
        for err in getattr(coll, "errors", None) or []:  # a document pySigma could not place in the collection
            if id(err) in owned:
                continue
            out.total += 1
            out.unsupported.append(Unsupported(str(path), f"not a Sigma rule: {explain(err)}"))
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
                out.unsupported.append(Unsupported(label, f"invalid rule: {explain(rule.errors[0])}"))
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
        dns_root_dot(search)
        uri_extension(search)
        workspace_application(search)
        if pipeline is not None:
            pipeline.apply(search)
            absence_of_all(search)
            network_rows_only(search)
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
