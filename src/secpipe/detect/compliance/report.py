"""The compliance report of one framework: per control pass / fail / no data, with evidence.

Status of a control, over the whole lake:

- **fail** -- at least one Compliance Finding of the control (a violation);
- **pass** -- the lake holds events the control needs (its ``data`` classes and sources)
  and none of them violates it;
- **no data** -- the lake has no event the control could be evaluated on, so nothing can be
  concluded (an auditor must not read that as a pass).

Violations are the union, by finding uid, of the findings passed in (the packs evaluated
over the lake just now) and those already stored in the lake's ``compliance_finding`` table
by the in-stream stage (``metadata.log_name = secpipe.compliance``). A framework other than
the pack's own (PCI DSS, HIPAA, NIST, SOC 2) also gets a roll-up per requirement id: fail if
any mapped control fails, pass if none fails and at least one has data, else no data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from secpipe.detect.compliance.catalog import Control, controls_for, framework
from secpipe.detect.compliance.findings import KIND
from secpipe.store.query import connect

PASS, FAIL, NO_DATA = "pass", "fail", "no data"
#: violation columns the report reads.
VIOLATION_COLUMNS = ("control", "event_uid", "time", "finding_uid")


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


def _iso(ms: int | None) -> str | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_inventory(con: duckdb.DuckDBPyConnection, views: list[str], classes: set[str]) -> dict[tuple[str, str], dict[str, int]]:
    """(class, source) -> {events, first, last} for the classes the controls need."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for cls in sorted(classes & set(views)):
        rows = con.execute(
            f"SELECT metadata.log_name, count(*), min(time), max(time) FROM {cls} GROUP BY 1"  # view names are checked identifiers
        ).fetchall()
        for source, n, first, last in rows:
            out[(cls, source or "")] = {"events": int(n), "first": int(first), "last": int(last)}
    return out


def stored_violations(con: duckdb.DuckDBPyConnection, views: list[str]) -> pa.Table:
    """Compliance findings the stream already wrote to the lake."""
    empty = pa.table({c: pa.array([], pa.int64() if c == "time" else pa.string()) for c in VIOLATION_COLUMNS})
    if "compliance_finding" not in views:
        return empty
    try:
        return con.sql(
            "SELECT compliance.control AS control, finding_info.related_events[1].uid AS event_uid, time, "
            f"metadata.uid AS finding_uid FROM compliance_finding WHERE metadata.log_name = '{KIND}'"
        ).to_arrow_table()
    except duckdb.BinderException:
        return empty  # files of other producers only: they lack the fields we read


def violations_of(batch: pa.RecordBatch | None) -> pa.Table:
    """The report's violation columns from a compliance_finding batch."""
    if batch is None or batch.num_rows == 0:
        return pa.table({c: pa.array([], pa.int64() if c == "time" else pa.string()) for c in VIOLATION_COLUMNS})
    info = batch.column("finding_info")
    related = info.field("related_events")
    return pa.table(
        {
            "control": batch.column("compliance").field("control"),
            "event_uid": related.flatten().field("uid"),
            "time": batch.column("time"),
            "finding_uid": batch.column("metadata").field("uid"),
        }
    )


def _bucket(first: dt.date, last: dt.date) -> str:
    days = (last - first).days
    return "day" if days <= 62 else ("week" if days <= 400 else "month")


def _bucket_start(d: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return d - dt.timedelta(days=d.weekday())
    if unit == "month":
        return d.replace(day=1)
    return d


def _next(d: dt.date, unit: str) -> dt.date:
    if unit == "day":
        return d + dt.timedelta(days=1)
    if unit == "week":
        return d + dt.timedelta(days=7)
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def timeline(times: list[int]) -> dict[str, Any]:
    """Violations per day, week or month (by span), every bucket of the span listed."""
    if not times:
        return {"bucket": "day", "series": []}
    days = [_day(t) for t in times]
    first, last = min(days), max(days)
    unit = _bucket(first, last)
    counts: dict[dt.date, int] = defaultdict(int)
    for d in days:
        counts[_bucket_start(d, unit)] += 1
    series = []
    cur = _bucket_start(first, unit)
    while cur <= last:
        series.append({"start": cur.isoformat(), "violations": counts.get(cur, 0)})
        cur = _next(cur, unit)
    return {"bucket": unit, "series": series}


def build_report(
    data_dir: Path,
    name: str,
    controls: list[Control],
    evaluated: pa.Table,
    *,
    generated_at: dt.datetime | None = None,
    max_evidence: int = 1000,
) -> dict[str, Any]:
    """The report (a JSON-ready dict) of framework ``name``; see the module docstring."""
    fw = framework(name)
    chosen = controls_for(name, controls)
    con, views = connect(Path(data_dir))
    try:
        inventory = data_inventory(con, views, {d.class_name for c in chosen for d in c.data})
        stored = stored_violations(con, views)
    finally:
        con.close()
    merged: dict[str, tuple[str, str, int]] = {}
    for tbl in (stored, evaluated):
        for control, event, t, fuid in zip(*(tbl.column(c).to_pylist() for c in VIOLATION_COLUMNS), strict=True):
            merged.setdefault(fuid, (control, event, t))
    per_control: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for control, event, t in merged.values():
        per_control[control].append((t, event))
    rows: list[dict[str, Any]] = []
    all_times: list[int] = []
    for c in chosen:
        hits = sorted(per_control.get(c.id, []))
        all_times.extend(t for t, _ in hits)
        have: list[dict[str, Any]] = [
            {"class": cls, "source": src, **stats}
            for (cls, src), stats in sorted(inventory.items())
            if any(d.class_name == cls and (d.source is None or d.source == src) for d in c.data)
        ]
        events = sum(h["events"] for h in have)
        status = FAIL if hits else (PASS if events else NO_DATA)
        rows.append(
            {
                "control": c.id,
                "title": c.title,
                "rules": [{"id": r.id, "title": r.title, "level": r.level, "file": r.path.name} for r in c.rules],
                "requirements": list(c.frameworks[name]),
                "mappings": {k: list(v) for k, v in c.frameworks.items()},
                "status": status,
                "violations": len(hits),
                "evidence": [e for _, e in hits[:max_evidence]],
                "evidence_truncated": len(hits) > max_evidence,
                "first_violation": _iso(hits[0][0]) if hits else None,
                "last_violation": _iso(hits[-1][0]) if hits else None,
                "data": {
                    "needs": [{"class": d.class_name, "source": d.source} for d in c.data],
                    "events": events,
                    "first": _iso(min((h["first"] for h in have), default=None)),
                    "last": _iso(max((h["last"] for h in have), default=None)),
                },
            }
        )
    summary = {
        "controls": len(rows),
        PASS: sum(r["status"] == PASS for r in rows),
        FAIL: sum(r["status"] == FAIL for r in rows),
        NO_DATA: sum(r["status"] == NO_DATA for r in rows),
        "violations": sum(r["violations"] for r in rows),
    }
    report: dict[str, Any] = {
        "framework": fw.name,
        "title": fw.title,
        "description": fw.description,
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": summary,
        "controls": rows,
        "timeline": timeline(sorted(all_times)),
    }
    if name not in {c.pack for c in chosen}:
        report["requirements"] = _rollup(name, rows)
    return report


def _natural(req: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-()]+", req) if p)


def _rollup(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_req: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        for req in r["requirements"]:
            by_req[req].append(r)
    out = []
    for req in sorted(by_req, key=_natural):
        rs = by_req[req]
        statuses = {r["status"] for r in rs}
        status = FAIL if FAIL in statuses else (PASS if PASS in statuses else NO_DATA)
        out.append(
            {
                "requirement": req,
                "status": status,
                "controls": [r["control"] for r in rs],
                "violations": sum(r["violations"] for r in rs),
            }
        )
    return out
