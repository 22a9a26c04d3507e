"""Retro-hunt: run rules over the lake (DuckDB over the Parquet views), write the findings.

For each lake view (one OCSF class) with at least one routed rule, rows (optionally only those
with ``time >= now - since``) stream out of DuckDB as Arrow batches of ``batch_rows`` and go
through the same :meth:`RuleSet.matches` as the stream, so a rule matches the same events in
both places and the findings get the same uids (the lake keeps one copy). Correlation rules
then run over all matches in time order (a window decided at close, ``lt: 2`` in 24h, only once
its end is before ``now``: a window still open at the hunt's time is undecided, and with
``since`` a window that began before it counts only the events after it). Findings of secpipe's
own detection views are not hunted again.

A lake stored with ``raw_data: false`` keeps only the OCSF columns: a rule whose fields have no
OCSF column there (the format's decoded originals, :data:`.reads.ORIGINAL_COLUMNS`, or the same
dotted OCSF path) is not run on those events — it would silently match nothing, or everything
through ``not filter`` — and :attr:`HuntResult.blind` names the rule and the missing fields.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe.detect.sigma.correlation import correlate_matches
from secpipe.detect.sigma.finding import findings
from secpipe.errors import SecpipeError
from secpipe.schema.ocsf import ocsf
from secpipe.store.lake import Lake
from secpipe.store.query import connect

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SKIP = {"detection_finding", "compliance_finding", "dead_letter"}


class HuntError(SecpipeError):
    """A hunt that cannot run (bad duration, no lake)."""


def parse_duration(text: str) -> float:
    """'90s', '15m', '24h', '7d', '2w' -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text or "")
    if not m:
        msg = f"bad duration {text!r} — write a number and a unit: 30m, 24h, 7d, 2w"
        raise HuntError(msg)
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class HuntResult:
    rules: int
    events_scanned: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    correlations: int = 0
    #: rule id -> fields it names that the lake could not give (stored without ``raw_data`` and
    #: no OCSF column for them): the rule was not run on those events
    blind: dict[str, list[str]] = field(default_factory=dict)


def hunt(ruleset: Any, data_dir: Path, since: str | None = None, *, batch_rows: int = 65536,
         write: bool = True, now: float | None = None) -> HuntResult:
    """Run ``ruleset`` over the lake under ``data_dir``; write findings to the lake."""
    data_dir = Path(data_dir)
    if not (data_dir / "lake").is_dir():
        msg = f"no lake under {data_dir} — give --data the data directory of `secpipe ingest`/`up`"
        raise HuntError(msg)
    res = HuntResult(rules=len(ruleset.rules))
    res.hits = {r.id: 0 for r in ruleset.rules}
    classes = set(ocsf()["classes"])
    con, views = connect(data_dir)
    lake = Lake(data_dir / "lake") if write else None
    pairs: list[tuple[pa.Table, pa.Table]] = []
    try:
        for view in views:
            if view in _SKIP or view not in classes or not ruleset.routed_class(view):
                continue
            where = ""
            if since:
                lo = int(((now if now is not None else time.time()) - parse_duration(since)) * 1000)
                where = f" WHERE time >= {lo}"
            reader = con.sql(f"SELECT * EXCLUDE (event_day) FROM {view}{where}").to_arrow_reader(batch_rows)
            for rb in reader:
                res.events_scanned += rb.num_rows
                tbl = pa.Table.from_batches([rb])
                m = ruleset.matches(tbl)
                if m.num_rows == 0:
                    continue
                for rid in m.column("rule_id").to_pylist():
                    res.hits[rid] = res.hits.get(rid, 0) + 1
                fb = findings(ruleset, tbl, m)
                if fb is not None:
                    res.findings += fb.num_rows
                    if lake is not None:
                        lake.append(fb)
                if ruleset.correlations:
                    # only the matched rows (all columns: a text record's group-by reads its OCSF
                    # columns), the matches renumbered to them
                    pairs.append((tbl.take(m.column("row")),
                                  m.set_column(m.schema.get_field_index("row"), "row",
                                               pa.array(range(m.num_rows), m.schema.field("row").type))))
        if ruleset.correlations and pairs:
            cb = correlate_matches(ruleset, pairs, now)
            if cb is not None:
                res.correlations = cb.num_rows
                if lake is not None:
                    lake.append(cb)
    finally:
        con.close()
        if lake is not None:
            lake.flush()
    res.blind = {rid: sorted(fields) for rid, fields in getattr(ruleset, "blind", {}).items()}
    return res
