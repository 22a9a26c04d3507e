"""Sigma matches -> OCSF Detection Finding (2004) batch, one row per (rule, event).

The finding uid is md5(kind, rule id, event uid) (computed by DuckDB, vectorized): the same event matched again (a
redelivery, a restart, a retro-hunt over events the stream already saw) yields the same uid
and the lake keeps one copy; within a batch duplicates are dropped here. Carried: rule id
(``finding_info.analytic.uid``), title, level -> ``severity_id``, tags (ATT&CK tags ->
``attacks[]`` and ``finding_info.attacks[]`` with tactic/technique/sub-technique),
the event's uid (``finding_info.related_events``) and time (``time``, ``start_time``), and
evidence: the values of the fields the rule names, read from the matched event
(``evidences[].data`` JSON). The rest of the rule's metadata (:func:`rule_meta`): every tag as
``finding_info.tags`` (``{name: namespace, value: name}``: ``attack`` / ``t1078``), ``cve.`` tags
as ``vulnerabilities[].cve.uid`` (``CVE-2021-44228``), ``related`` rules as
``finding_info.analytic.related_analytics`` (their id; the relation in ``unmapped``), ``status`` as
the analytic's state (stable/test Active, experimental Experimental, deprecated/unsupported
Other), and ``references``, ``falsepositives``, ``author``, ``related`` and ``status`` as written
in ``unmapped`` (``rule_*``). Per-rule values are built once per rule and taken by index;
evidence comes from the engine (the matched fields as JSON, built by DuckDB for matched rows only).
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import duckdb
import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.sigma.compiler import KEYWORDS
from secpipe.detect.sigma.fields import is_evidence
from secpipe.formats.base import base_columns, to_batch
from secpipe.schema.attack import ATTACKS, attacks_of
from secpipe.store.lake import dedup_first

KIND = "secpipe.sigma"
_RELATED = pa.list_(pa.struct([("uid", pa.string())]))
_EVIDENCE = pa.list_(pa.struct([("data", pa.string())]))
TAGS = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))
VULNERABILITIES = pa.list_(pa.struct([("cve", pa.struct([("uid", pa.string())]))]))
ANALYTICS = pa.list_(pa.struct([("uid", pa.string()), ("type_id", pa.int32()), ("type", pa.string())]))
#: a Sigma rule's ``status`` -> the OCSF analytic ``state_id`` and ``state``
STATES = {"stable": (1, "Active"), "test": (1, "Active"), "experimental": (3, "Experimental"),
          "deprecated": (99, "Deprecated"), "unsupported": (99, "Unsupported")}
_CVE = re.compile(r"(\d{4})[-.](\d{4,})")


def rule_meta(sigma: Any) -> dict[str, Any]:
    """The OCSF values of a Sigma rule's (or correlation's) metadata, and its ``unmapped`` extras
    (module docstring)."""
    tags = list(sigma.tags or [])
    cves = [f"CVE-{m.group(1)}-{m.group(2)}" for t in tags
            if str(t.namespace).lower() == "cve" and (m := _CVE.fullmatch(str(t.name)))]
    related = list(getattr(sigma.related, "related", None) or [])
    status = str(sigma.status).lower() if sigma.status is not None else None
    state = STATES.get(status or "")
    extra = {"rule_status": status, "rule_author": sigma.author, "rule_references": list(sigma.references or []),
             "rule_falsepositives": list(sigma.falsepositives or []),
             "rule_related": [{"id": str(r.id), "type": str(r.type)} for r in related]}
    return {
        "finding_info.tags": [{"name": str(t.namespace), "value": str(t.name)} for t in tags] or None,
        "vulnerabilities": [{"cve": {"uid": c}} for c in dict.fromkeys(cves)] or None,
        "finding_info.analytic.related_analytics": [{"uid": str(r.id), "type_id": 1, "type": "Rule"}
                                                    for r in related] or None,
        "finding_info.analytic.state_id": state[0] if state else None,
        "finding_info.analytic.state": state[1] if state else None,
        "unmapped": {k: v for k, v in extra.items() if v},
    }


#: the Arrow type of each OCSF column of :func:`rule_meta`
META_TYPES = {"finding_info.tags": TAGS, "vulnerabilities": VULNERABILITIES,
              "finding_info.analytic.related_analytics": ANALYTICS,
              "finding_info.analytic.state_id": pa.int32(), "finding_info.analytic.state": pa.string()}


def _dig(doc: Any, path: str) -> Any:
    """The value at a dotted path of one decoded record (arrays transparent): the path as
    spelled, else the same path with keys of another case (as the engine reads fields, see
    :mod:`.fields`)."""
    got = _walk(doc, path, _exact)
    return got if got is not None else _walk(doc, path, _any_case)


def _exact(node: dict, seg: str) -> Any:
    return node.get(seg)


def _any_case(node: dict, seg: str) -> Any:
    if seg in node:
        return node[seg]
    low = seg.lower()
    return next((v for k, v in node.items() if isinstance(k, str) and k.lower() == low and v is not None), None)


def _walk(doc: Any, path: str, get: Any) -> Any:
    return _walk_keys(doc, path.split("."), get)


def _walk_keys(cur: Any, segs: list[str], get: Any) -> Any:
    """The value at ``segs`` under ``cur``: each key nested first, then (for a key written with
    its dots, ``{"id.orig_h": ...}``) joined with the keys after it (:mod:`.fields`)."""
    if not segs:
        return cur
    if isinstance(cur, list):
        got = [_walk_keys(c, segs, get) for c in cur]
        got = [c for c in got if c is not None]
        return got or None
    if not isinstance(cur, dict):
        return None
    for j in range(1, len(segs) + 1):
        nxt = get(cur, ".".join(segs[:j]))
        if nxt is not None:
            got = _walk_keys(nxt, segs[j:], get)
            if got is not None:
                return got
    return None


def evidence(rule: Any, raw: str | None) -> str:
    """JSON of {field: value} for the fields a rule names, read from one original record."""
    names = [f for f in rule.compiled.fields if is_evidence(f)] + [f for f in rule.fields if f not in rule.compiled.fields]
    doc: Any = None
    if raw:
        try:
            doc = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            doc = None
    data = {n: _dig(doc, n) for n in names} if isinstance(doc, dict) else {}
    if KEYWORDS in rule.compiled.fields and raw:
        data["raw_data"] = raw[:512]
    return msgspec.json.encode(data).decode()


_DB: list[duckdb.DuckDBPyConnection] = []
_DB_LOCK = threading.Lock()


def _cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on one shared in-memory DuckDB (opening a database per batch costs more than the hashing)."""
    with _DB_LOCK:
        if not _DB:
            _DB.append(duckdb.connect(":memory:"))
        return _DB[0].cursor()


def finding_uids(matches: pa.Table) -> pa.Array:
    """md5 hex of (kind, rule id, event uid) per match, computed by DuckDB (vectorized)."""
    con = _cursor()
    try:
        con.register("m", matches.select(["rule_id", "event_uid"]))
        pre = f"{KIND}\x00"
        return con.sql(f"SELECT md5(concat('{pre}', rule_id, chr(0), coalesce(event_uid, ''))) FROM m").to_arrow_table().column(0).combine_chunks()
    finally:
        con.close()


def _single_lists(values: pa.Array, name: str) -> pa.Array:
    """[{name: v}] per row, built from offsets (no Python objects)."""
    n = len(values)
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), pa.StructArray.from_arrays([values], [name]))


def findings(ruleset: Any, batch: pa.RecordBatch | pa.Table, matches: pa.Table, *,
             created_ms: int | None = None) -> pa.RecordBatch | None:
    """Detection findings of ``matches`` (from ``ruleset.matches(batch)``); None when empty."""
    silent = [r.id for r in ruleset.rules if not r.output]
    if silent and matches.num_rows:  # base rules of generate: false correlations report nothing
        matches = matches.filter(pc.invert(pc.is_in(matches.column("rule_id"), value_set=pa.array(silent, pa.string()))))
    if matches.num_rows == 0:
        return None
    uids = finding_uids(matches)
    first = dedup_first(uids)
    if len(first) != len(uids):
        matches = matches.take(first)
        uids = uids.take(first)
    n = matches.num_rows
    rule_col = matches.column("rule_id").combine_chunks()
    order = pc.unique(rule_col)
    idx = pc.index_in(rule_col, value_set=order)
    rules = [ruleset.by_id[r] for r in order.to_pylist()]
    s = pa.string()

    def per_rule(values: list[Any], type_: pa.DataType) -> pa.Array:
        return pa.array(values, type_).take(idx)

    if "evidence" in matches.schema.names:
        ev = matches.column("evidence").combine_chunks()
    else:
        ev = pa.nulls(n, s)
    if ev.null_count:  # keyword-only rules and rows without evidence: read the original record
        rows = matches.column("row").combine_chunks()
        raws = pc.take(batch.column("raw_data"), rows).to_pylist() if "raw_data" in batch.schema.names else [None] * n
        ids = rule_col.to_pylist()
        filled = [e if e is not None else evidence(ruleset.by_id[r], raw)
                  for e, r, raw in zip(ev.to_pylist(), ids, raws, strict=True)]
        ev = pa.array(filled, s)
    times = matches.column("event_time").combine_chunks()
    created = created_ms if created_ms is not None else int(time.time() * 1000)
    cols = base_columns("detection_finding", kind=KIND, product="secpipe", vendor="secpipe", uids=uids,
                        times_ms=times, raws=None, activity_id=1,
                        severity_id=per_rule([r.severity_id for r in rules], pa.int32()))
    titles = per_rule([r.title for r in rules], s)
    attacks = per_rule([attacks_of(r.tags) or None for r in rules], ATTACKS)
    meta = [rule_meta(r.sigma) for r in rules]
    event_uids = matches.column("event_uid").combine_chunks()
    ones = pa.array(np.ones(n, np.int32))
    cols.update({
        "message": pc.binary_join_element_wise(pa.scalar("Sigma rule matched: "), titles, ""),
        "status_id": ones, "status": per_rule(["New"] * len(rules), s),
        "is_alert": pa.array(np.ones(n, bool)),
        "count": ones,
        "start_time": times, "end_time": times,
        "attacks": attacks,
        "finding_info.uid": uids,
        "finding_info.title": titles,
        "finding_info.desc": per_rule([(r.sigma.description or r.title) for r in rules], s),
        "finding_info.types": per_rule([["Sigma"] for _ in rules], pa.list_(s)),
        "finding_info.attacks": attacks,
        "finding_info.created_time": pa.array(np.full(n, created, np.int64)),
        "finding_info.first_seen_time": times, "finding_info.last_seen_time": times,
        "finding_info.related_events_count": ones,
        "finding_info.related_events": _single_lists(event_uids, "uid"),
        "finding_info.analytic.uid": rule_col,
        "finding_info.analytic.name": titles,
        "finding_info.analytic.type_id": ones,
        "finding_info.analytic.type": per_rule(["Rule"] * len(rules), s),
        "evidences": _single_lists(ev, "data"),
        "unmapped": per_rule([msgspec.json.encode({"rule_level": r.level, "rule_tags": r.tags, "rule_path": r.path,
                                                   **m["unmapped"]}).decode() for r, m in zip(rules, meta, strict=True)], s),
        **{k: per_rule(v, t) for k, t in META_TYPES.items() if any(v := [m[k] for m in meta])},
    })
    return to_batch("detection_finding", cols)
