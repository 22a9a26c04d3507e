"""Evaluate the compliance packs with the Sigma engine, on batches or over the lake.

The packs are ordinary Sigma rules: :func:`ruleset` loads them with
:func:`secpipe.detect.sigma.load_rules` (routing by logsource, compiled to vectorized
predicates), and :meth:`RuleSet.matches` gives (rule, event uid, event time, class) rows that
:func:`~secpipe.detect.compliance.findings.compliance_findings` turns into Compliance
Findings. Over the lake, only the classes the controls need are read, in Arrow record
batches of bounded size (``batch_rows``), so memory does not grow with the lake.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from secpipe.detect.compliance.catalog import Control
from secpipe.detect.compliance.findings import MATCHES_SCHEMA, compliance_findings
from secpipe.detect.sigma import RuleSet, load_rules
from secpipe.store.query import connect


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> RuleSet:
    return load_rules(list(paths))


def ruleset(controls: list[Control]) -> RuleSet:
    """The compiled Sigma rules of these controls (cached per rule-file set)."""
    return _load(tuple(sorted(str(r.path) for c in controls for r in c.rules)))


def _matches(rs: RuleSet, batch: pa.RecordBatch | pa.Table) -> pa.Table:
    m = rs.matches(batch)
    return m.select(MATCHES_SCHEMA.names).cast(MATCHES_SCHEMA)


def evaluate_batches(controls: list[Control], batches: Iterable[pa.RecordBatch]) -> dict[str, set[str]]:
    """Control id -> uids of the events (of ``batches``) that violate it."""
    rs = ruleset(controls)
    control_of = {r.id: c.id for c in controls for r in c.rules}
    out: dict[str, set[str]] = defaultdict(set)
    for b in batches:
        m = _matches(rs, b)
        for rid, uid in zip(m.column("rule_id").to_pylist(), m.column("event_uid").to_pylist(), strict=True):
            if rid in control_of:
                out[control_of[rid]].add(uid)
    return dict(out)


@dataclass
class Evaluation:
    """What one evaluation over the lake found."""

    findings: pa.RecordBatch | None
    events: int = 0
    per_control: dict[str, int] = field(default_factory=dict)

    def violations_by_control(self) -> dict[str, int]:
        """Violations per control id (only controls with any)."""
        return dict(sorted(self.per_control.items()))


def evaluate_lake(data_dir: Path, controls: list[Control], *, batch_rows: int = 65_536,
                  now: float | None = None) -> Evaluation:
    """Run the packs over every lake event of the classes/sources the controls need."""
    rs = ruleset(controls)
    need: dict[str, set[str | None]] = defaultdict(set)
    for c in controls:
        for d in c.data:
            need[d.class_name].add(d.source)
    con, views = connect(Path(data_dir))
    parts: list[pa.Table] = []
    events = 0
    try:
        for cls in sorted(need):
            if cls not in views:
                continue
            sources = need[cls]
            where = ""
            if None not in sources:
                quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(s for s in sources if s))
                where = f" WHERE metadata.log_name IN ({quoted})"
            reader = con.sql(f"SELECT * EXCLUDE (event_day) FROM {cls}{where}").to_arrow_reader(batch_rows)
            for batch in reader:
                events += batch.num_rows
                m = _matches(rs, batch)
                if m.num_rows:
                    parts.append(m)
    finally:
        con.close()
    matches = pa.concat_tables(parts) if parts else MATCHES_SCHEMA.empty_table()
    created = int((time.time() if now is None else now) * 1000)
    batch = compliance_findings(controls, matches, created)
    per: dict[str, int] = defaultdict(int)
    if batch is not None:
        for cid in batch.column("compliance").field("control").to_pylist():
            per[cid] += 1
    return Evaluation(batch, events, dict(per))
