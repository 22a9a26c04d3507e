"""Sigma matches -> OCSF Detection Finding (2004) batch, one row per (rule, event).

The finding uid is blake2b(kind, rule id, event uid): the same event matched again (a
redelivery, a restart, a retro-hunt over events the stream already saw) yields the same uid
and the lake keeps one copy; within a batch duplicates are dropped here. Carried: rule id
(``finding_info.analytic.uid``), title, level -> ``severity_id``, tags (ATT&CK tags ->
``attacks[]`` and ``finding_info.attacks[]`` with tactic/technique/sub-technique),
the event's uid (``finding_info.related_events``) and time (``time``, ``start_time``), and
evidence: the values of the fields the rule names, read from the matched event
(``evidences[].data`` JSON). Per-rule values are built once per rule and taken by index;
evidence is built only for matched rows (a small set).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.detect.sigma.compiler import KEYWORDS
from secpipe.formats.base import base_columns, to_batch

KIND = "secpipe.sigma"
TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"), "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"), "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"), "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"), "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"), "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"), "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"), "impact": ("TA0040", "Impact"),
}
_UID = pa.struct([("uid", pa.string()), ("name", pa.string())])
_ATTACK = pa.struct([("tactic", _UID), ("technique", _UID), ("sub_technique", _UID)])
_ATTACKS = pa.list_(_ATTACK)
_RELATED = pa.list_(pa.struct([("uid", pa.string())]))
_EVIDENCE = pa.list_(pa.struct([("data", pa.string())]))


def attacks_of(tags: list[str]) -> list[dict[str, Any]]:
    """ATT&CK tags (attack.tXXXX[.YYY], attack.<tactic>) -> OCSF attack objects."""
    tactics, techniques = [], []
    for t in tags:
        t = t.lower()
        if not t.startswith("attack."):
            continue
        v = t[7:].replace("_", "-")
        if v in TACTICS:
            tactics.append({"uid": TACTICS[v][0], "name": TACTICS[v][1]})
        elif v[:1] == "t" and v[1:5].isdigit():
            techniques.append(v.upper())
    tactic = tactics[0] if tactics else None
    out = []
    for tech in techniques:
        base = tech.split(".")[0]
        out.append({"tactic": tactic, "technique": {"uid": base, "name": None},
                    "sub_technique": {"uid": tech, "name": None} if "." in tech else None})
    if not out and tactic:
        out = [{"tactic": t, "technique": None, "sub_technique": None} for t in tactics]
    return out


def finding_uid(rule_id: str, event_uid: str | None) -> str:
    return hashlib.blake2b(f"{KIND}\0{rule_id}\0{event_uid or ''}".encode(), digest_size=16).hexdigest()


def _dig(doc: Any, path: str) -> Any:
    cur = doc
    for seg in path.split("."):
        if isinstance(cur, list):
            cur = [c.get(seg) if isinstance(c, dict) else None for c in cur]
            cur = [c for c in cur if c is not None] or None
        elif isinstance(cur, dict):
            cur = cur.get(seg)
        else:
            return None
        if cur is None:
            return None
    return cur


def evidence(rule: Any, raw: str | None) -> str:
    """JSON of {field: value} for the fields a rule names, read from one original record."""
    names = [f for f in rule.compiled.fields if f != KEYWORDS] + [f for f in rule.fields if f not in rule.compiled.fields]
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


def findings(ruleset: Any, batch: pa.RecordBatch | pa.Table, matches: pa.Table, *,
             created_ms: int | None = None) -> pa.RecordBatch | None:
    """Detection findings of ``matches`` (from ``ruleset.matches(batch)``); None when empty."""
    if matches.num_rows == 0:
        return None
    rule_ids = matches.column("rule_id").to_pylist()
    event_uids = matches.column("event_uid").to_pylist()
    uids = [finding_uid(r, e) for r, e in zip(rule_ids, event_uids, strict=True)]
    _, first = np.unique(np.asarray(uids, dtype=object), return_index=True)
    if len(first) != len(uids):
        keep = np.sort(first)
        matches = matches.take(pa.array(keep))
        rule_ids = [rule_ids[i] for i in keep]
        event_uids = [event_uids[i] for i in keep]
        uids = [uids[i] for i in keep]
    n = matches.num_rows
    order = list(dict.fromkeys(rule_ids))
    idx = pa.array([order.index(r) for r in rule_ids] if len(order) > 1 else [0] * n, pa.int32())
    rules = [ruleset.by_id[r] for r in order]
    s = pa.string()

    def per_rule(values: list[Any], type_: pa.DataType) -> pa.Array:
        return pa.array(values, type_).take(idx)

    rows = matches.column("row")
    raws: list[str | None]
    if "raw_data" in batch.schema.names:
        raws = pc.take(batch.column("raw_data"), rows).to_pylist()
    else:
        raws = [None] * n
    times = matches.column("event_time").combine_chunks()
    created = created_ms if created_ms is not None else int(time.time() * 1000)
    cols = base_columns("detection_finding", kind=KIND, product="secpipe", vendor="secpipe", uids=uids,
                        times_ms=times, raws=None, activity_id=1,
                        severity_id=per_rule([r.severity_id for r in rules], pa.int32()))
    titles = per_rule([r.title for r in rules], s)
    attacks = per_rule([attacks_of(r.tags) or None for r in rules], _ATTACKS)
    ev_class = matches.column("event_class").combine_chunks()
    cols.update({
        "message": pc.binary_join_element_wise(pa.scalar("Sigma rule matched: "), titles, ""),
        "status_id": pa.array(np.ones(n, np.int32)), "status": pa.array(["New"] * n, s),
        "is_alert": pa.array(np.ones(n, bool)),
        "count": pa.array(np.ones(n, np.int32)),
        "start_time": times, "end_time": times,
        "attacks": attacks,
        "finding_info.uid": pa.array(uids, s),
        "finding_info.title": titles,
        "finding_info.desc": per_rule([(r.sigma.description or r.title) for r in rules], s),
        "finding_info.types": per_rule([["Sigma"] for _ in rules], pa.list_(s)),
        "finding_info.attacks": attacks,
        "finding_info.created_time": pa.array(np.full(n, created, np.int64)),
        "finding_info.first_seen_time": times, "finding_info.last_seen_time": times,
        "finding_info.related_events_count": pa.array(np.ones(n, np.int32)),
        "finding_info.related_events": pa.array([[{"uid": e}] for e in event_uids], _RELATED),
        "finding_info.analytic.uid": pa.array(rule_ids, s),
        "finding_info.analytic.name": titles,
        "finding_info.analytic.type_id": pa.array(np.ones(n, np.int32)),
        "finding_info.analytic.type": pa.array(["Rule"] * n, s),
        "evidences": pa.array([[{"data": evidence(ruleset.by_id[r], raw)}] for r, raw in zip(rule_ids, raws, strict=True)],
                              _EVIDENCE),
        "unmapped": pa.array([msgspec.json.encode({"rule_id": r, "rule_level": ruleset.by_id[r].level,
                                                   "rule_tags": ruleset.by_id[r].tags, "rule_path": ruleset.by_id[r].path,
                                                   "event_uid": e, "event_class": c}).decode()
                              for r, e, c in zip(rule_ids, event_uids, ev_class.to_pylist(), strict=True)], s),
    })
    return to_batch("detection_finding", cols)
