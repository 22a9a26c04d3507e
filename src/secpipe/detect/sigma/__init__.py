"""Sigma detection: rules compiled to vectorized DuckDB predicates, run once per batch.

Public API (stable; other packages — compliance packs, respond — build on it)::

    from secpipe.detect.sigma import load_rules, RuleSet

    rs = load_rules(["rules/sigma"], pipelines=["map.yml"], placeholders={"admins": ["root"]})
    rs.rules            # [Rule(id, title, level, tags, path, formats, classes, ...)]
    rs.unsupported      # [Unsupported(rule=path, reason=text)]
    rs.correlations     # pySigma SigmaCorrelationRule objects (see .correlation)
    m = rs.matches(batch)   # pa.Table: row, rule_id, event_uid, event_time, event_class
    rs.masks(batch)         # {rule_id: np.ndarray[bool]} for rules that matched
    findings(rs, batch, m)  # OCSF detection_finding RecordBatch (None when nothing matched)

``batch`` is any OCSF RecordBatch/Table from secpipe formats (or a lake query): rules see the
original record (``raw_data`` JSON, dotted paths) first and the OCSF columns second, and only
rules whose ``logsource`` routes to the batch's ``metadata.log_name`` (and class) run; a
product with no dedicated source routes to the catch-all ``json`` format. Meta filters
(``filter:`` documents) apply across rule files; Sigma 1.x ``| count() by`` aggregations load
as correlation rules (:mod:`.legacy`). See :mod:`.rules` for loading, :mod:`.compiler` for the
matching semantics, :mod:`.engine` for evaluation (:mod:`.vector`: the distinct-value fast
path), :mod:`.stage` for the ``sigma`` transform, :mod:`.correlation` for correlation rules and
:mod:`.hunt` for retro-hunts over the lake.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"RuleSet": "engine", "MATCHES_SCHEMA": "engine", "findings": "finding", "Rule": "rules",
         "Unsupported": "rules", "load_rules": "rules"}


def __getattr__(name: str) -> Any:  # keeps `import secpipe.detect.sigma.options` light (no duckdb/pySigma)
    if name in _LAZY:
        return getattr(importlib.import_module(f"secpipe.detect.sigma.{_LAZY[name]}"), name)
    raise AttributeError(name)


__all__ = ["MATCHES_SCHEMA", "Rule", "RuleSet", "Unsupported", "findings", "load_rules"]
