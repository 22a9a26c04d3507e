"""Sigma condition trees -> DuckDB SQL boolean expressions (compiled once per rule).

pySigma parses a rule and applies every value modifier (contains/startswith/endswith add
wildcards, base64/base64offset/utf16*/wide/windash rewrite or expand values, ``all`` links
values with AND, ``cased``/``re``/``cidr``/``gt``... change the value type); this module walks
the resulting condition tree (OR/AND/NOT, selectors already expanded) and turns each leaf into
one SQL predicate over *field tokens*. A token is replaced per batch by a column reference
(:mod:`secpipe.detect.sigma.engine` decides whether the field is a scalar or a list column),
so one compiled rule serves every batch schema.

Semantics (documented guarantees):

- strings match case-insensitively unless ``|cased``; ``*``/``?`` are wildcards, ``\\*``
  ``\\?`` ``\\\\`` escapes; ``|re`` is case-sensitive RE2 (flags i/m/s via ``|re|i`` ...);
- a keyword (field-less value) is a case-insensitive substring search of the original record
  text (``raw_data``), so ``keywords: ['rm -rf']`` finds it anywhere in the line; a keyword
  with quotes, backslashes or control characters also matches its JSON-escaped form (the text
  of a JSON record: ``C:\\Windows`` is written ``C:\\\\Windows`` there);
- a missing field never matches a value, so ``not selection`` is true for an event that
  lacks the field (each leaf is ``coalesce(pred, false)``: no SQL three-valued surprises);
- ``field: null`` matches a missing or JSON-null field; ``|exists: true/false`` tests presence
  of the key, whatever its value (a key holding JSON null exists: :mod:`.fields`);
- a field name is read as spelled, and where a record lacks that spelling, with another case
  (``eventtype`` finds ``eventType``; :mod:`.fields` says why);
- numbers compare numerically and textually (``5`` matches ``5`` and ``"5"``); ``gt/gte/lt/
  lte`` compare numerically; a time modifier (``|hour``, ``|minute``, ``|day``, ``|week``,
  ``|month``, ``|year``) takes that part of the field's date (its text as written, no time zone
  conversion, as the modifiers appendix says), alone or compared (``|hour|gte: 17``); ``|cidr`` matches IPv4 text by network prefix and an IPv6
  address in any of its spellings (leading zeros, ``::`` anywhere, either case) by its bits;
  an IPv4 network also holds the IPv4-mapped IPv6 addresses of its addresses (``::ffff:10.0.0.1``
  is 10.0.0.1 arriving on a dual-stack socket, RFC 4291 2.5.5.2), as address-typed backends
  (Elasticsearch ``ip`` fields) match them;
- ``|fieldref`` compares with the other field's value (case-insensitively); with
  ``|startswith``/``|endswith``/``|contains`` that value is a prefix/suffix/substring;
- a list-valued field (a JSON array along the path, an OCSF list) matches when any element does;
- a placeholder no pipeline gave values (``|expand: '%name%'``) is an empty value list: it
  matches nothing (so ``not filter`` on it keeps every event) and the rule carries a note.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaQueryExpression,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from secpipe.detect.sigma.fields import base, presence
from secpipe.errors import SecpipeError

#: tokens in leaf templates: the field value, its lower-cased value.
F, L = "\x01F\x01", "\x01L\x01"
#: wrappers of NOT operands in skeletons (:func:`rule_sql` turns them into coalesce(..., false)).
NOT_OPEN, NOT_CLOSE = "\x05", "\x06"
#: the keyword target (original record text), as a pseudo-field name.
KEYWORDS = "\x00raw"


class UnsupportedRule(SecpipeError):
    """A rule uses something the engine cannot evaluate; the message says what and how to fix it."""


@dataclass(slots=True)
class Leaf:
    """One predicate over one field (``other`` is the second field of a fieldref)."""

    field: str
    template: str
    null_test: bool = False  # a presence test: on list fields, "missing" means empty or null
    other: str | None = None


@dataclass(slots=True)
class Compiled:
    """A rule condition as an SQL skeleton with ``\x02N\x02`` leaf slots, and its leaves."""

    skeleton: str
    leaves: list[Leaf] = field(default_factory=list)
    #: what the compilation had to decide for the rule (e.g. placeholders without values)
    notes: list[str] = field(default_factory=list)
    _fields: tuple[int, list[str]] | None = field(default=None, repr=False, compare=False)

    @property
    def fields(self) -> list[str]:
        """The fields the leaves read, in order (computed once per leaf count: read per batch)."""
        if self._fields is None or self._fields[0] != len(self.leaves):
            out: dict[str, None] = {}
            for leaf in self.leaves:
                out[leaf.field] = None
                if leaf.other:
                    out[leaf.other] = None
            self._fields = (len(self.leaves), list(out))
        return self._fields[1]


def sql_str(s: str) -> str:
    """An SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def _like(parts: Sequence[object], lower: bool) -> tuple[str, str]:
    """(kind, literal) for a SigmaString: kind eq|contains|starts|ends|like."""
    out: list[str] = []
    plain: list[str] = []
    for p in parts:
        if p is SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif p is SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        elif isinstance(p, str):
            text = p.lower() if lower else p
            plain.append(text)
            out.append(text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        else:
            msg = f"unresolved placeholder %{getattr(p, 'name', p)}% — give its values in the 'placeholders' option"
            raise UnsupportedRule(msg)
    kinds = ["%" if x == "%" else "_" if x == "_" else "s" for x in out]
    if "_" not in kinds:
        body = [i for i, k in enumerate(kinds) if k == "s"]
        stars = [i for i, k in enumerate(kinds) if k == "%"]
        text = "".join(plain)
        if not stars:
            return "eq", text
        if len(body) <= 1:
            if not body:
                return "any", ""
            i = body[0]
            if stars == [i - 1, i + 1]:
                return "contains", text
            if stars == [i + 1]:
                return "starts", text
            if stars == [i - 1]:
                return "ends", text
    return "like", "".join(out)


def string_pred(value: SigmaString, col: str, *, keyword: bool = False) -> str:
    """Predicate template of a (possibly wildcarded) string value."""
    cased = isinstance(value, SigmaCasedString)
    parts = list(value.s)
    if keyword:  # a keyword is a substring search unless it is anchored with wildcards itself
        if not parts or parts[0] is not SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] is not SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
    kind, lit = _like(parts, lower=not cased)
    c = col if cased else (L if col == F else col)
    q = sql_str(lit)
    return {
        "eq": f"{c} = {q}",
        "any": f"{c} IS NOT NULL",
        "contains": f"contains({c}, {q})",
        "starts": f"starts_with({c}, {q})",
        "ends": f"ends_with({c}, {q})",
        "like": f"{c} LIKE {q} ESCAPE '\\'",
    }[kind]


def regex_pred(value: SigmaRegularExpression, col: str) -> str:
    flags = {SigmaRegularExpressionFlag.IGNORECASE: "i", SigmaRegularExpressionFlag.MULTILINE: "m",
             SigmaRegularExpressionFlag.DOTALL: "s"}
    prefix = "".join(sorted(flags[f] for f in value.flags))
    rx = value.regexp
    pattern = (f"(?{prefix})" if prefix else "") + (rx.to_plain() if isinstance(rx, SigmaString) else str(rx))
    check_re2(pattern)
    return f"regexp_matches({col}, {sql_str(pattern)})"


@functools.lru_cache(maxsize=4096)
def check_re2(pattern: str) -> None:
    """Raise UnsupportedRule unless DuckDB's RE2 accepts the pattern (no look-around, backrefs)."""
    try:
        rel = duckdb.sql(f"SELECT regexp_matches('', {sql_str(pattern)})")
        if rel is None:  # a SELECT always yields a relation
            msg = f"DuckDB returned no result for the RE2 check of {pattern!r}"
            raise RuntimeError(msg)
        rel.fetchall()
    except duckdb.Error as exc:
        msg = f"regular expression {pattern!r} is not RE2 syntax ({str(exc).splitlines()[0][:120]}) — rewrite it without look-around or back-references"
        raise UnsupportedRule(msg) from exc


def ipv6_hex(col: str) -> str:
    """SQL: the 32 hex digits of an IPv6 address written in any valid text form (leading zeros
    or not, ``::`` anywhere, lower case ``col``), NULL for anything else (IPv4, zone ids)."""
    left = f"list_filter(string_split(split_part({col}, '::', 1), ':'), lambda s: s <> '')"
    right = f"list_filter(string_split(split_part({col}, '::', 2), ':'), lambda s: s <> '')"
    groups = f"list_concat({left}, list_transform(range(8 - len({left}) - len({right})), lambda i: '0'), {right})"
    valid = (f"regexp_full_match({col}, '[0-9a-f:]{{2,39}}') AND NOT regexp_matches({col}, '^:[^:]|[^:]:$') "
             f"AND (NOT contains({col}, '::') OR (length({col}) - length(replace({col}, '::', '')) = 2 "
             f"AND len({left}) + len({right}) <= 7)) "
             f"AND len({groups}) = 8 AND list_max(list_transform({groups}, lambda g: length(g))) <= 4")
    return f"CASE WHEN {valid} THEN array_to_string(list_transform({groups}, lambda g: lpad(g, 4, '0')), '') END"


def ipv6_in(net: ipaddress.IPv6Network, col: str) -> str:
    """SQL: the IPv6 address text in ``col`` lies in ``net`` (compared as bits: the first
    prefixlen // 4 hex digits equal, the next digit within the remaining bits' range)."""
    digits = net.network_address.exploded.replace(":", "")
    k, r = divmod(net.prefixlen, 4)
    h = ipv6_hex(col)
    tests = [f"starts_with({h}, {sql_str(digits[:k])})"] if k else [f"{h} IS NOT NULL"]
    if r:
        top = int(digits[k], 16) >> (4 - r)
        allowed = [f"{d:x}" for d in range(16) if d >> (4 - r) == top]
        tests.append(f"substr({h}, {k + 1}, 1) IN ({', '.join(map(sql_str, allowed))})")
    return "(" + " AND ".join(tests) + ")"


#: the dotted IPv4 part of an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``, zero groups spelt out or not)
_MAPPED_V4 = r"^(?:(?:0{1,4}:){5}|::(?:0{1,4}:){0,4})ffff:([0-9]{1,3}(?:\.[0-9]{1,3}){3})$"


def ipv4_mapped_in(net: ipaddress.IPv4Network, patterns: Sequence[str]) -> str:
    """SQL: the lower-cased text in ``L`` is the IPv4-mapped IPv6 address of an address in
    ``net``: its dotted form (``::ffff:10.0.0.1``, ``0:0:0:0:0:ffff:10.0.0.1``) by the same
    prefix patterns as a plain IPv4 address, its hexadecimal form (``::ffff:a00:1``) by bits."""
    dotted = f"nullif(regexp_extract({L}, {sql_str(_MAPPED_V4)}, 1), '')"
    tests = " OR ".join(string_pred(SigmaString(p), dotted) for p in patterns)
    mapped = ipaddress.IPv6Network(f"::ffff:{net.network_address}/{96 + net.prefixlen}")
    return f"({tests} OR {ipv6_in(mapped, L)})"


def _num(v: float | int) -> str:
    return repr(float(v)) if isinstance(v, float) else str(int(v))


def _date_part(value: SigmaTimestampPart) -> str:
    """SQL of the part of the field's date a time modifier (``|hour``, ``|month``...) takes."""
    return f"date_part('{value.timestamp_part.name.lower()}', TRY_CAST({F} AS TIMESTAMP))"


_CMP = {CompareOperators.LT: "<", CompareOperators.LTE: "<=", CompareOperators.GT: ">", CompareOperators.GTE: ">=",
        CompareOperators.NEQ: "<>"}


def value_leaf(name: str, value: object) -> Leaf | str:
    """A field/value pair -> a Leaf (or an SQL fragment for an expansion of several leaves)."""
    if isinstance(value, SigmaExists):  # reads the key's JSON type: present even when null
        return Leaf(presence(name), f"{F} IS NOT NULL" if value.exists else f"{F} IS NULL")
    if isinstance(value, SigmaNull):
        return Leaf(name, f"{F} IS NULL", null_test=True)
    if isinstance(value, SigmaRegularExpression):
        return Leaf(name, regex_pred(value, F))
    if isinstance(value, SigmaCIDRExpression):
        pats = value.expand("*")
        ors = " OR ".join(string_pred(SigmaString(p), F) for p in pats)
        if isinstance(value.network, ipaddress.IPv6Network):  # any IPv6 spelling, by its 128 bits
            ors += f" OR {ipv6_in(value.network, L)}"
        else:  # the IPv4-mapped IPv6 address (RFC 4291 2.5.5.2) of an address in the network
            ors += f" OR {ipv4_mapped_in(value.network, pats)}"
        return Leaf(name, f"({ors})")
    if isinstance(value, SigmaCompareExpression):
        bound = value.number
        if isinstance(bound, SigmaTimestampPart):  # ``|hour|gte: 8``: the date's part compared
            return Leaf(name, f"{_date_part(bound)} {_CMP[value.op]} {_num(bound.number)}")
        return Leaf(name, f"TRY_CAST({F} AS DOUBLE) {_CMP[value.op]} {_num(bound.number)}")
    if isinstance(value, SigmaTimestampPart):
        return Leaf(name, f"{_date_part(value)} = {_num(value.number)}")
    if isinstance(value, SigmaBool):
        return Leaf(name, f"{L} = {'true' if value.boolean else 'false'!r}")
    if isinstance(value, SigmaNumber):
        n = value.number
        return Leaf(name, f"({F} = {sql_str(str(n))} OR TRY_CAST({F} AS DOUBLE) = {_num(n)})")
    if isinstance(value, SigmaFieldReference):
        other = value.field
        # pySigma marks |contains as starts_with AND ends_with: the other field's value anywhere
        tmpl = ("contains({L}, {O})" if value.starts_with and value.ends_with else "starts_with({L}, {O})"
                if value.starts_with else "ends_with({L}, {O})" if value.ends_with else "{L} = {O}")
        return Leaf(name, tmpl.replace("{L}", L).replace("{O}", "\x01O\x01"), other=other)
    if isinstance(value, SigmaString):
        return Leaf(name, string_pred(value, F))
    if isinstance(value, SigmaQueryExpression):
        msg = f"query expression {value.expr!r} is backend-specific — replace the placeholder by values"
        raise UnsupportedRule(msg)
    msg = f"value type {type(value).__name__} of field {name!r} is not supported"
    raise UnsupportedRule(msg)


def compile_condition(tree: object) -> Compiled:
    """Compile a pySigma (postprocessed) condition tree."""
    out = Compiled("")
    out.skeleton = _walk(tree, out)
    return out


def _slot(out: Compiled, leaf: Leaf) -> str:
    out.leaves.append(leaf)
    return f"\x02{len(out.leaves) - 1}\x02"


def _walk(node: object, out: Compiled) -> str:
    if isinstance(node, ConditionOR):
        merged = _in_list(node)
        if merged is not None:
            return _slot(out, merged)
    if isinstance(node, ConditionOR | ConditionAND):
        op = " OR " if isinstance(node, ConditionOR) else " AND "
        parts = [_walk(a, out) for a in node.args if a is not None]
        return "(" + op.join(parts) + ")" if parts else "FALSE"
    if isinstance(node, ConditionNOT):
        return f"(NOT {NOT_OPEN}{_walk(node.args[0], out)}{NOT_CLOSE})"
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _value(node.field, node.value, out)
    if isinstance(node, ConditionValueExpression):
        return _keyword(node.value, out)
    if node is None:
        return "FALSE"
    msg = f"condition element {type(node).__name__} is not supported"
    raise UnsupportedRule(msg)


def _in_list(node: ConditionOR) -> Leaf | None:
    """``field: [a, b, c]`` (plain case-insensitive strings) as one ``IN`` leaf."""
    args = [a for a in node.args if a is not None]
    eqs = [a for a in args if isinstance(a, ConditionFieldEqualsValueExpression)]
    if len(args) < 2 or len(eqs) != len(args):
        return None
    names = {a.field for a in eqs}
    vals = [a.value for a in eqs]
    if len(names) != 1 or not all(type(v) is SigmaString and not v.contains_special() for v in vals):
        return None
    lits = ", ".join(sql_str(v.to_plain().lower()) for v in vals)
    return Leaf(names.pop(), f"{L} IN ({lits})")


def _value(name: str, value: object, out: Compiled) -> str:
    if isinstance(value, SigmaExpansion):  # base64offset/windash: always OR-linked
        return "(" + " OR ".join(_value(name, v, out) for v in value.values) + ")"
    if _unresolved(value, out):
        return "FALSE"
    return _slot(out, value_leaf(name, value))  # type: ignore[arg-type]


def _unresolved(value: object, out: Compiled) -> bool:
    """A value with a placeholder no pipeline expanded (``|expand: '%name%'`` without values)
    stands for an empty value list: it matches nothing, so a filter built on it excludes
    nothing. The rule loads with a note naming the placeholder."""
    if not isinstance(value, SigmaString) or not value.contains_placeholder():
        return False
    names = [p.name for p in value.s if isinstance(p, Placeholder)]
    note = (f"placeholder %{', %'.join(names)}% has no values: it matches nothing — give its values in the "
            "'placeholders' option")
    if note not in out.notes:
        out.notes.append(note)
    return True


def _keyword(value: object, out: Compiled) -> str:
    if isinstance(value, SigmaExpansion):
        return "(" + " OR ".join(_keyword(v, out) for v in value.values) + ")"
    if _unresolved(value, out):
        return "FALSE"
    if isinstance(value, SigmaRegularExpression):
        return _slot(out, Leaf(KEYWORDS, regex_pred(value, F)))
    if isinstance(value, SigmaString):
        pred = string_pred(value, F, keyword=True)
        escaped = _json_escaped(value)
        if escaped is not None:  # a JSON record's text holds the value escaped
            pred = f"({pred} OR {string_pred(escaped, F, keyword=True)})"
        return _slot(out, Leaf(KEYWORDS, pred))
    if isinstance(value, SigmaNumber | SigmaBool):
        return _slot(out, Leaf(KEYWORDS, string_pred(SigmaString(str(value)), F, keyword=True)))
    msg = f"keyword value of type {type(value).__name__} is not supported — bind it to a field"
    raise UnsupportedRule(msg)


def _json_escaped(value: SigmaString) -> SigmaString | None:
    """The keyword as it is written inside a JSON string (``"`` -> ``\\"``, ``\\`` -> ``\\\\``,
    control characters), or None when escaping changes nothing."""
    parts = [json.dumps(p, ensure_ascii=False)[1:-1] if isinstance(p, str) else p for p in value.s]
    if parts == list(value.s):
        return None
    out = copy.copy(value)
    out.s = parts
    return out


def rule_sql(skeleton: str, kleene: bool = False) -> str:
    """Finish a rule's SQL: NOT operands and the whole rule are ``coalesce(x, false)``. With
    three-valued logic a missing field (NULL leaf) then counts as "no match" exactly as if every
    leaf were coalesced (AND/OR are monotone), with far fewer expression nodes. For the
    ``kleene`` prefilter NULL must flow through NOT, so the wrappers are left out."""
    if kleene:
        return skeleton.replace(NOT_OPEN, "(").replace(NOT_CLOSE, ")")
    return "coalesce(" + skeleton.replace(NOT_OPEN, "coalesce(").replace(NOT_CLOSE, ", false)") + ", false)"


def holds_without_fields(compiled: Compiled) -> bool:
    """True when the condition holds for an event that has none of the fields it names (every
    leaf evaluated on a missing field, e.g. ``not selection``, ``field: null``)."""
    sql = compiled.skeleton
    for i, leaf in reversed(list(enumerate(compiled.leaves))):
        body = leaf.template.replace(F, "NULL::VARCHAR").replace(L, "NULL::VARCHAR").replace("\x01O\x01", "NULL::VARCHAR")
        sql = sql.replace(f"\x02{i}\x02", f"coalesce(({body}), false)")
    rel = duckdb.sql(f"SELECT {rule_sql(sql)}")
    if rel is None:  # a SELECT always yields a relation
        msg = "DuckDB returned no result for a constant condition"
        raise RuntimeError(msg)
    return bool(rel.fetchall()[0][0])


def require_a_field(compiled: Compiled) -> None:
    """AND the condition with "the event has at least one of the rule's fields" (presence, a
    JSON null counts). For a rule routed to a catch-all format, whose condition would otherwise
    hold for every event of any other source that lacks its fields."""
    names = [base(f) for f in compiled.fields if f != KEYWORDS]
    if not names:
        return
    slots = [_slot(compiled, Leaf(presence(f), f"{F} IS NOT NULL")) for f in dict.fromkeys(names)]
    compiled.skeleton = f"({compiled.skeleton} AND ({' OR '.join(slots)}))"


def required_values(node: object, name: str) -> frozenset[str] | None:
    """Lower-cased values ``name`` must equal for the condition to hold (None: no such constraint).

    A sound necessary condition used to dispatch rules by a key field (e.g. CloudTrail
    ``eventName``): AND takes the tightest constrained child, OR needs every child constrained,
    NOT and anything else give no constraint.
    """
    if isinstance(node, ConditionOR):
        sets = [required_values(a, name) for a in node.args if a is not None]
        if not sets or any(s is None for s in sets):
            return None
        return frozenset().union(*sets)  # type: ignore[arg-type]
    if isinstance(node, ConditionAND):
        known = [s for s in (required_values(a, name) for a in node.args if a is not None) if s is not None]
        if not known:
            return None
        return frozenset.intersection(*known)
    if isinstance(node, ConditionFieldEqualsValueExpression) and node.field == name:
        return _plain_values(node.value)
    return None


def _plain_values(value: object) -> frozenset[str] | None:
    if isinstance(value, SigmaExpansion):
        parts = [_plain_values(v) for v in value.values]
        return None if any(p is None for p in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(value, SigmaString) and not value.contains_special():
        return frozenset([value.to_plain().lower()])
    return None
