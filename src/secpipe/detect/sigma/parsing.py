"""Reading a Sigma rule file into a pySigma collection, repairing what does not change what a rule matches.

:func:`parse_collection` is what :mod:`.rules` loads each file with: metadata errors (an ``id`` that
is no UUID, ``related`` typos, invalid dates...) are repaired or left out and reported as the
rule's warnings (:data:`NOTES`), and the spellings of the specification's examples and drafts
(upper-case correlation operators, range conditions, ``ordered: true``, value_max/value_min,
network placeholders) are read as pySigma parses them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from sigma.collection import SigmaCollection
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

from secpipe.detect.sigma.legacy import EXTREMA, TYPE
from secpipe.detect.sigma.placeholders import expand_cidr_placeholders

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
                                             "collections); leave it out of a rule",
          # YAML reads a plain value that begins with '*' as an alias (older published rules wrote
          # unquoted wildcard patterns: - *tasklist)
          "found undefined alias": "a YAML value that begins with '*' is an alias of an anchor: quote the value "
                                   "('*tasklist') to write a Sigma wildcard pattern"}


def explain(err: Exception) -> str:
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
