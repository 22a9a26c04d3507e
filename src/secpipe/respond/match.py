"""The ``match`` stage: simple built-in rules -> ``detection_finding`` rows.

A rule names dotted OCSF paths and the values they must equal (all conditions must hold,
any listed value matches)::

    rules:
      - id: ct-delete-trail
        title: CloudTrail logging disabled
        severity: critical
        where: {api.operation: [DeleteTrail, StopLogging]}
        message: "{api.operation} by {actor.user.name}"

Matching is vectorized (``pyarrow.compute.is_in`` per condition, ANDed); only the matching
rows (few) are read as Python values to fill the message template and build findings. The
finding uid is a hash of the rule id and the event's ``metadata.uid``, so a redelivered
event gives the same finding. This stage is small on purpose: the Sigma engine is the full
detection language; ``match`` serves quick rules and the alert latency benchmark.
"""

from __future__ import annotations

import re
import time
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.respond._columns import column
from secpipe.respond.finding import FindingRow, findings_batch, stable_uid
from secpipe.respond.options import MatchOptions, MatchRule

_SEV = {"informational": 1, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def _fill(values: dict[str, Any], m: re.Match[str]) -> str:
    v = values.get(m.group(1))
    return "-" if v is None else str(v)


class MatchStage:
    """Applies simple equality rules to every batch."""

    def __init__(self, name: str, options: MatchOptions) -> None:
        self.name = name
        self.rules = options.rules

    def _mask(self, batch: pa.RecordBatch, rule: MatchRule) -> pa.Array | None:
        mask = None
        for path, want in rule.where.items():
            col = column(batch, path)
            if col is None:
                return None
            vals = want if isinstance(want, list) else [want]
            try:
                cond = pc.is_in(col, value_set=pa.array(vals).cast(col.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                return None
            mask = cond if mask is None else pc.and_(mask, cond)
        return mask

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Pass the batch on, plus a finding batch when any rule matched."""
        rows: list[FindingRow] = []
        for rule in self.rules:
            mask = self._mask(batch, rule)
            if mask is None or not pc.any(mask).as_py():
                continue
            idx = pc.indices_nonzero(pc.fill_null(mask, False))
            fields = set(_FIELD.findall(rule.message or "")) | {"metadata.uid", "time"}
            res = batch.column("resources").take(idx).to_pylist() if "resources" in batch.schema.names else [None] * len(idx)
            values = {f: (c.take(idx).to_pylist() if (c := column(batch, f)) is not None else [None] * len(idx))
                      for f in fields}
            for i in range(len(idx)):
                v = {f: values[f][i] for f in fields}
                msg = _FIELD.sub(partial(_fill, v), rule.message or rule.title)
                uid = stable_uid("match", rule.id, str(v["metadata.uid"]))
                rows.append(FindingRow(uid, int(v["time"] or time.time() * 1000), _SEV.get(rule.severity, 4), rule.title,
                                       msg, rule.id, f"{self.name}/{rule.id}", list(rule.tags), res[i] or [],
                                       related=[str(v["metadata.uid"])] if v["metadata.uid"] else []))
        if not rows:
            return [batch]
        return [batch, findings_batch(rows, int(time.time() * 1000))]


def build_stage(name: str, options: dict[str, Any], data_dir: Path | None = None) -> MatchStage:
    """Factory registered as transform type ``match``."""
    return MatchStage(name, MatchOptions.model_validate(options))
