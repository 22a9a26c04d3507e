"""What a SARIF result's rule says of it (for :mod:`.sarif`): rules resolved once per distinct reference, the
values each rule gives its findings (descriptions, CVE / GHSA / CWE, tags, help link), severities from property bags
and levels, and messages formatted from their strings (SARIF 2.1.0 §3.11.7, §3.27.5, §3.49)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import SEVERITY_WORDS, Distinct, S, severity_ids, str_lists, strs
from secpipe.formats._sarif_model import REF_INTS, Message, Result, Rule, RuleRef, Text, ToolRef
from secpipe.formats._sarif_run import RunCtx

_PROPS = msgspec.json.Decoder(dict[str, Any])


def result_props(raw: msgspec.Raw) -> dict[str, Any] | None:
    """A result's properties, parsed only when they carry a severity (:data:`SEVERITY_KEYS`).
    A property bag that is no object (SARIF 2.1.0 §3.8 requires one) gives no severity; the
    result is kept with the bag in ``unmapped`` as it came, as when it names no severity."""
    if not raw or not any(k.encode() in bytes(raw) for k in SEVERITY_KEYS):
        return None
    try:
        return _PROPS.decode(raw)
    except msgspec.ValidationError:
        return None


_LEVEL_WORD = {"error": "high", "warning": "medium", "note": "low", "none": "informational"}
_PLACEHOLDER = re.compile(r"\{(\d+)\}|\{\{|\}\}")
#: a rule id that is a CVE or GHSA id, or begins with one (Grype's rule ids are
#: ``<vulnerability id>-<package name>``: CVE-2021-44228-log4j-core; Checkov's SCA ones
#: ``<id>_<package>@<version>``); group 1 the id. A CVE id is CVE-YYYY-NNNN+ (digits only, so it
#: ends where they do), a GHSA id three groups of four characters (then not one more letter or digit).
_CVE = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}(?![0-9a-z]))", re.IGNORECASE)


def _text(t: Text | None) -> str | None:
    return None if t is None else (t.text or t.markdown or None)


def _fmt_message(msg: Message | None, rule: Rule, strings: Any = None) -> str | None:
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
SEVERITY_KEYS = ("security-severity", "qodanaSeverity")


def security_severity(*props: Any) -> float | None:
    """The first severity of ``props`` (property bags; one not a dict is skipped), each read by
    :data:`SEVERITY_KEYS`, as a 0-10 score: a number, or a severity word as some producers write it
    (Semgrep's rules, several SARIF converters: ``"HIGH"``; Qodana's ``"Moderate"``), which gives
    the lowest score of its band (:func:`score_severity_ids`) by the project's severity words; any
    other value is skipped."""
    for p in props:
        if not p or not isinstance(p, dict):
            continue
        for key in SEVERITY_KEYS:
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


def level_severity_id(level: str) -> int:
    return severity_ids([_LEVEL_WORD.get(level, level)])[0].as_py()  # type: ignore[no-any-return]


def rule_groups(run: RunCtx, f: dict[str, Any]) -> tuple[np.ndarray, list[tuple[Rule, str | None]]]:
    """Each result's group of equal rule references, and per group (rule, rule id): the rule is
    resolved once per distinct (ruleId, rule.id, ruleIndex, rule.index, toolComponent) reference."""
    keys = [f[k] for k in ("ruleId", "rule.id", *REF_INTS)]
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


def _rule_groups_slow(run: RunCtx, keys: list[pa.Array]) -> tuple[np.ndarray, list[tuple[Rule, str | None]]]:
    seen: dict[tuple[Any, ...], int] = {}
    group = np.fromiter((seen.setdefault(t, len(seen)) for t in zip(*(c.to_pylist() for c in keys), strict=True)),
                        np.int64, len(keys[0]))  # fmt: skip
    return group, [_resolve(run, *ref) for ref in seen]


def _resolve(run: RunCtx, rule_id: str | None, ref_id: str | None, index: int | None, ref_index: int | None,
             component: int | None) -> tuple[Rule, str | None]:
    """(rule, rule id) of one result reference, as :meth:`RunCtx.rule` resolves it."""
    ref = RuleRef(ref_id, ref_index, None if component is None else ToolRef(component))
    res = Result(ruleId=rule_id, ruleIndex=index, rule=ref)
    rule = run.rule(res)
    return rule, rule_id or ref_id or rule.id


def per_rule(run: RunCtx, rules: list[tuple[Rule, str | None]]) -> dict[str, pa.Array]:
    """One row per rule group: the rule-derived values of its findings."""
    rs = [r for r, _ in rules]
    cwes = [run.cwe.of_rule(ru.relationships, ru.properties) for ru in rs]
    rids = [rid for _, rid in rules]
    tagged = [None if rid and _CVE.match(rid) else _tagged_cve(ru.properties) for rid, ru in zip(rids, rs, strict=True)]
    return {
        "rid": strs(rids),
        "level": strs([ru.defaultConfiguration.level if ru.defaultConfiguration else None for ru in rs]),
        "score": pa.array([security_severity(ru.properties, ru.defaultConfiguration.parameters if ru.defaultConfiguration
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


def result_cwes(run: RunCtx, taxa: pa.Array, props: pa.Array, per: dict[str, pa.Array],
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


def messages(run: RunCtx, msgs: Distinct, group: np.ndarray, rules: list[tuple[Rule, str | None]]) -> pa.Array:
    """Result messages, formatted once per distinct (message, rule group) pair."""
    key = np.asarray(msgs.idx, np.int64) * len(rules) + group
    uniq, inverse = np.unique(key, return_inverse=True)
    texts = []
    for k in uniq.tolist():
        rule = rules[k % len(rules)][0]
        texts.append(_fmt_message(msgs.values[k // len(rules)], rule, run.strings(rule)))
    return strs(texts).take(pa.array(inverse.astype(np.int32)))


__all__ = ["SEVERITY_KEYS", "level_severity_id", "messages", "per_rule", "result_cwes", "result_props", "rule_groups", "security_severity"]
