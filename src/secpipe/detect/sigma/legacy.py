"""Sigma 1.x aggregation conditions (``selection | count(field) by group > N``) as correlations.

The pipe syntax was removed from the Sigma specification in favour of correlation rules and
pySigma refuses it, yet many published rules still use it. :func:`split_aggregation` turns such
a rule into what the specification says it means: the rule's search (the condition before the
pipe) plus a correlation rule over its matches:

- ``count()`` -> ``event_count``; ``count(field)`` and the early specification's
  ``distcount(field)`` -> ``value_count`` of ``field`` (distinct values); ``sum(field)`` /
  ``avg(field)`` / ``min(field)`` / ``max(field)`` -> ``value_sum`` / ``value_avg`` /
  ``value_min`` / ``value_max`` (the last two as :mod:`.rules` loads the correlation
  specification's ``value_min`` / ``value_max``: type ``value_sum``, the real type in
  :data:`TYPE`); every function but ``count`` needs its field;
- ``by a[, b]`` -> ``group-by``; ``>``, ``>=``, ``<``, ``<=``, ``=``/``==``, ``!=`` -> ``gt``...;
- ``timeframe`` (top level or inside ``detection``) -> ``timespan``; without one the window is
  :data:`DEFAULT_TIMESPAN` and the rule carries a warning saying so.

``search | near id1 and id2`` (Sigma 1.x: the primary search "in the temporal context" of the
searches named after ``near``, within the ``timeframe``) -> ``temporal``: one search per part
(the primary keeps the rule's id, each named identifier becomes a search with an id derived
from the rule's) and a temporal correlation over them, no ``group-by`` as ``near`` had none.
``and not id3`` (an event that must NOT occur in the window) has no correlation equivalent:
such a rule is refused with that reason.

Guarantees: the correlation has ``generate: false`` (as an aggregation rule never reported
single events, neither does its search), a stable id derived from the rule's id (or, for a
rule without one, from its file and title), and the rule's title, level and tags.
"""

from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path
from typing import Any

from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from secpipe.detect.sigma.compiler import UnsupportedRule

#: correlation window of an aggregation rule that names no ``timeframe``.
DEFAULT_TIMESPAN = "1d"

_AGG = re.compile(r"^(?P<expr>.*?)\s*\|\s*(?P<fn>\w+)\s*\(\s*(?P<field>[^()\s]*)\s*\)"
                  r"(?:\s+by\s+(?P<group>[^<>=!]+?))?\s*(?P<op>>=|<=|==|!=|=|>|<)\s*(?P<n>-?\d+(?:\.\d+)?)\s*$",
                  re.IGNORECASE | re.DOTALL)
_NEAR = re.compile(r"\|\s*near\b", re.IGNORECASE)
_NEAR_SPLIT = re.compile(r"^(?P<expr>.*?)\s*\|\s*near\s+(?P<rest>.+?)\s*$", re.IGNORECASE | re.DOTALL)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_OPS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "eq", "==": "eq", "!=": "neq"}
_TYPES = {"count": "event_count", "distcount": "value_count", "sum": "value_sum", "avg": "value_avg",
          "min": "value_min", "max": "value_max"}
#: correlation types this pySigma release does not parse: loaded as value_sum, the real type in TYPE
EXTREMA = ("value_max", "value_min")
TYPE = "x-secpipe-correlation-type"
_NS = uuid.UUID("6f1d8a52-3c4e-4b1a-9d2e-5a7b8c9d0e1f")


def has_aggregation(rule: SigmaRule) -> bool:
    """True when one of the rule's conditions uses the Sigma 1.x pipe aggregation."""
    return any("|" in c for c in rule.detection.condition)


def split_aggregation(rule: SigmaRule, path: Path) -> tuple[SigmaCorrelationRule, list[str], list[SigmaRule]]:
    """Rewrite ``rule`` in place to its search and return the correlation over it, warnings, and the
    further searches the correlation refers to (``near``'s identifiers; none for the others)."""
    if any(_NEAR.search(c) for c in rule.detection.condition):
        return _split_near(rule, path)
    parsed = []
    for cond in rule.detection.condition:
        m = _AGG.match(cond)
        if m is None:
            msg = (f"condition {cond!r} is neither a Sigma condition nor a count()/sum()/avg() aggregation "
                   "— rewrite it as a Sigma correlation rule")
            raise UnsupportedRule(msg)
        parsed.append(m)
    if len(parsed) > 1 and len({m.group(0)[m.start("fn"):] for m in parsed}) > 1:
        msg = "conditions with different aggregations — split the rule into one rule per aggregation"
        raise UnsupportedRule(msg)
    m = parsed[0]
    fn, fld = m.group("fn").lower(), m.group("field")
    if fn not in _TYPES:
        msg = (f"aggregation {fn}() is none of the specification's count(), distcount(), min(), max(), avg(), "
               "sum()")
        raise UnsupportedRule(msg)
    kind = "value_count" if fn == "count" and fld else _TYPES[fn]
    if fn != "count" and not fld:
        msg = f"aggregation {fn}() needs a field — write {fn}(field)"
        raise UnsupportedRule(msg)
    warnings: list[str] = []
    timespan = _timeframe(rule)
    if timespan is None:
        timespan = DEFAULT_TIMESPAN
        warnings.append(f"aggregation without timeframe: counted over {DEFAULT_TIMESPAN} windows")
    ref = _ref(rule, path)
    condition: dict[str, Any] = {_OPS[m.group("op")]: _number(m.group("n"))}
    if fld and kind != "event_count":
        condition["field"] = fld
    corr = _correlation(rule, f"aggregation\0{ref}", {"type": kind, "rules": [ref], "timespan": timespan,
                                                      "condition": condition, "generate": False})
    if kind in EXTREMA:
        corr[TYPE], corr["correlation"]["type"] = kind, "value_sum"
    if m.group("group"):
        corr["correlation"]["group-by"] = [g.strip() for g in m.group("group").split(",") if g.strip()]
    rule.detection.condition = [p.group("expr") for p in parsed]
    rule.detection.__post_init__()  # re-parse the conditions
    return SigmaCorrelationRule.from_dict(corr), warnings, []


def _split_near(rule: SigmaRule, path: Path) -> tuple[SigmaCorrelationRule, list[str], list[SigmaRule]]:
    """``primary | near id1 and id2``: the primary search, one search per identifier, and a
    ``temporal`` correlation over them within the timeframe."""
    if len(rule.detection.condition) != 1 or (m := _NEAR_SPLIT.match(rule.detection.condition[0])) is None:
        msg = f"rule {rule.title!r}: a '| near' condition must be the rule's only condition, 'search | near id [and id]...'"
        raise UnsupportedRule(msg)
    parts = _AND.split(m.group("rest"))
    if any(p.lower().startswith("not ") for p in parts):
        msg = (f"rule {rule.title!r} uses '| near ... and not': an event that must not occur in the window has no "
               "correlation equivalent — drop that part or write the correlation by hand")
        raise UnsupportedRule(msg)
    unknown = [p for p in parts if p not in rule.detection.detections or p == "timeframe"]
    if unknown:
        msg = f"rule {rule.title!r}: '| near' names {', '.join(unknown)}, which are not search identifiers of the rule"
        raise UnsupportedRule(msg)
    warnings = [f"'| near' read as a temporal correlation: {m.group('expr')} and {', '.join(parts)} within the window"]
    timespan = _timeframe(rule)
    if timespan is None:
        timespan = DEFAULT_TIMESPAN
        warnings.append(f"near without timeframe: searched within {DEFAULT_TIMESPAN} windows")
    ref = _ref(rule, path)
    extras: list[SigmaRule] = []
    for ident in parts:
        other = copy.deepcopy(rule)
        other.id, other.name = uuid.uuid5(_NS, f"near\0{ref}\0{ident}"), None
        other.title = f"{rule.title} ({ident})"
        other.detection.detections = {ident: other.detection.detections[ident]}
        other.detection.condition = [ident]
        other.detection.__post_init__()
        extras.append(other)
    expr = m.group("expr")
    if not re.search(r"\bof\b", expr, re.IGNORECASE):  # the identifiers only near names are not the primary's
        for ident in parts:
            if not re.search(rf"(?<![\w*]){re.escape(ident)}(?![\w*])", expr):
                rule.detection.detections.pop(ident, None)
    rule.detection.condition = [expr]
    rule.detection.__post_init__()
    refs = [ref, *(str(e.id) for e in extras)]
    corr = _correlation(rule, f"near\0{ref}", {"type": "temporal", "rules": refs, "timespan": timespan,
                                               "generate": False})
    return SigmaCorrelationRule.from_dict(corr), warnings, extras


def _ref(rule: SigmaRule, path: Path) -> str:
    """How a correlation refers to ``rule`` (its id, else a name derived from its file and title)."""
    if rule.id is None and rule.name is None:
        rule.name = "agg-" + uuid.uuid5(_NS, f"{path}\0{rule.title}").hex[:16]
    return str(rule.id) if rule.id is not None else str(rule.name)


def _correlation(rule: SigmaRule, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """The correlation document of ``rule``'s aggregation: its title, level, tags and a stable id."""
    corr: dict[str, Any] = {"title": rule.title, "id": str(uuid.uuid5(_NS, key)), "status": "experimental",
                            "correlation": body}
    if rule.level is not None:
        corr["level"] = rule.level.name.lower()
    if rule.tags:
        corr["tags"] = [str(t) for t in rule.tags]
    return corr


def _timeframe(rule: SigmaRule) -> str | None:
    """The rule's ``timeframe`` (removed from its detections when it was put there)."""
    det = rule.detection.detections.pop("timeframe", None)
    if det is not None:
        item = det.detection_items[0] if det.detection_items else None
        values = getattr(item, "value", None) or []
        return str(values[0].to_plain()) if values else None
    tf = rule.custom_attributes.get("timeframe") if rule.custom_attributes else None
    return str(tf) if tf else None


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)
