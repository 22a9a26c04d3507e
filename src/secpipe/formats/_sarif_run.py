"""One SARIF run's context (for :mod:`.sarif`): its rule lookup tables and tool identity, artifacts, invocation
time, CWE taxonomy, the repositories it analyzed and its logical locations, read once per run."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe.formats._findings import strs
from secpipe.formats._sarif_config import (
    Key,
    default_enabled,
    disabled_rules,
    enabled_overrides,
    invocation_indexes,
    overrides,
)
from secpipe.formats._sarif_ids import CweTaxonomy
from secpipe.formats._sarif_model import NO_RULE, Component, Result, Rule, Run, Tool
from secpipe.formats._sarif_uris import base_uris, file_path


class RunCtx:
    """Rule lookup tables and tool identity of one run."""

    def __init__(self, run: Run) -> None:
        tool = run.tool or Tool()
        self.driver = tool.driver or Component()
        self.components = [self.driver, *(tool.extensions or [])]
        self.by_id: dict[str, Rule] = {}
        self.owner: dict[int, Component] = {}  # id(rule) -> the tool component defining it
        for comp in reversed(self.components):
            for r in comp.rules or []:
                self.owner[id(r)] = comp
                if r.id:
                    self.by_id[r.id] = r
        self.bases = base_uris(run.originalUriBaseIds)
        self.artifacts = [file_path(a.location.uri, a.location.uriBaseId, self.bases) if a.location and a.location.uri
                          else None for a in run.artifacts or []]  # fmt: skip
        #: per invocation, the levels its ruleConfigurationOverrides give (rule -> level; see _sarif_config)
        self.overrides = [overrides(i.ruleConfigurationOverrides, self.components, "rules") for i in run.invocations or ()]
        #: per invocation, the rules its ruleConfigurationOverrides enable or disable (rule -> enabled)
        self.switched = [enabled_overrides(i.ruleConfigurationOverrides, self.components, "rules")
                         for i in run.invocations or ()]  # fmt: skip
        #: whether any rule is disabled by default (most runs: none, and :meth:`disabled` costs nothing)
        self.off_by_default = any(default_enabled(r) is False for c in self.components for r in c.rules or ())
        inv = run.invocations[0] if run.invocations else None
        self.time = (inv.endTimeUtc or inv.startTimeUtc) if inv else None
        self.cwe = CweTaxonomy(run.taxonomies)
        self.repos = repositories(run.versionControlProvenance)
        self.logical = cached_logical(run.logicalLocations)

    def rule(self, res: Result) -> Rule:
        ref = res.rule
        idx = res.ruleIndex if res.ruleIndex is not None else (ref.index if ref else None)
        comp = self.driver
        if ref and ref.toolComponent and ref.toolComponent.index is not None:
            ci = ref.toolComponent.index + 1  # extensions follow the driver
            comp = self.components[ci] if 0 <= ci < len(self.components) else comp
        rid = res.ruleId or (ref.id if ref else None)
        got = comp.rules[idx] if idx is not None and comp.rules and 0 <= idx < len(comp.rules) else None
        # Producers disagree with themselves (Snyk Code's ruleIndex can point elsewhere):
        # the spec makes ruleId authoritative, so the index is trusted first only when it agrees.
        if got is not None and (rid is None or got.id is None or got.id == rid or rid.split("/", 1)[0] == got.id):
            return got
        # ruleId is a hierarchical string whose leading components are the rule's id (§3.27.5):
        # "CA5350/md5" is a violation of rule CA5350 (and rule ids hold "/" themselves: "js/xss")
        while rid:
            if (named := self.by_id.get(rid)) is not None:
                return named
            rid = rid.rsplit("/", 1)[0] if "/" in rid else None
        # a ruleId naming no rule of the run leaves the index the one reference that resolves
        # (sarif-tutorials' DefaultRuleConfiguration.sarif: ruleId TUT1001, ruleIndex 0 -> TUT0001)
        return got if got is not None else NO_RULE

    def override_levels(self, rules: list[tuple[Rule, str | None]], group: np.ndarray, raws: list[bytes]) -> pa.Array | None:
        """Per result, the level its invocation's ``ruleConfigurationOverrides`` give its rule (null where none does;
        None when no invocation overrides a level): ``rules`` and ``group`` as :func:`._sarif_rules.rule_groups`
        gives them."""
        if not any(self.overrides):
            return None
        keys = self._keys(rules)
        invs = invocation_indexes(raws, len(self.overrides))
        if len(set(invs)) == 1:  # one invocation for all: a level per rule group
            over = self.overrides[invs[0]] if invs[0] is not None else {}
            return strs([over.get(k) if k is not None else None for k in keys]).take(pa.array(group, pa.int32()))
        return strs([self.overrides[i].get(k) if i is not None and (k := keys[g]) is not None else None
                     for i, g in zip(invs, group.tolist(), strict=True)])  # fmt: skip

    def _keys(self, rules: list[tuple[Rule, str | None]]) -> list[Key | None]:
        """Where each rule group's rule is (a rule the run does not list known by its id alone, as an override
        naming it by id is)."""
        where: dict[int, Key] = {id(r): (ci, di) for ci, c in enumerate(self.components) for di, r in enumerate(c.rules or ())}
        return [where.get(id(rule)) or ((0, rid) if rid else None) for rule, rid in rules]

    def disabled(self, rules: list[tuple[Rule, str | None]], group: np.ndarray, raws: list[bytes]) -> pa.Array | None:
        """Per result, whether the configuration disabled its rule (``enabled: false`` in its invocation's override,
        else in the rule's ``defaultConfiguration``: :mod:`._sarif_config`), for ``finding_info.analytic.state_id``
        Suppressed; None when no rule of the run is disabled anywhere. ``rules`` and ``group`` as
        :func:`._sarif_rules.rule_groups` gives them."""
        if not self.off_by_default and not any(False in s.values() for s in self.switched):
            return None
        keys = self._keys(rules)
        defaults = [default_enabled(rule) for rule, _rid in rules]
        invs = invocation_indexes(raws, len(self.switched)) if self.switched else [None] * len(raws)
        per_inv = {i: disabled_rules(keys, defaults, self.switched[i] if i is not None else {}) for i in set(invs)}
        if len(per_inv) == 1:  # one invocation for all: per rule group
            (off,) = per_inv.values()
            return pa.array(off, pa.bool_()).take(pa.array(group, pa.int32()))
        return pa.array([per_inv[i][g] for i, g in zip(invs, group.tolist(), strict=True)], pa.bool_())

    def strings(self, rule: Rule) -> Any:
        """``globalMessageStrings`` of the tool component defining ``rule`` (the driver's for none)."""
        return self.owner.get(id(rule), self.driver).globalMessageStrings


def cached_logical(entries: Any) -> list[tuple[str | None, ...]]:
    """``run.logicalLocations`` (SARIF §3.14.17) as (fullyQualifiedName, name, kind) per index; an
    entry that is no object, or a property that is no non-empty string, gives None there."""
    out = []
    for e in entries if isinstance(entries, list) else []:
        d = e if isinstance(e, dict) else {}
        out.append(tuple(v if isinstance(v := d.get(k), str) and v else None for k in LOG_FIELDS))
    return out


def repositories(vcp: Any) -> list[dict[str, Any]] | None:
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


#: the properties of a logical location that are read (SARIF 2.1.0 §3.33)
LOG_FIELDS = ("fullyQualifiedName", "name", "kind")


__all__ = ["LOG_FIELDS", "RunCtx", "cached_logical", "repositories"]
