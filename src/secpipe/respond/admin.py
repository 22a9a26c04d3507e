"""Operator actions on the alert store, shared by the CLI and the HTTP API (each audited).

Silence changes are recorded as ``silence.change``, replays and approvals as
``playbook.change`` / ``alert.replay`` in the tamper-evident audit log
(:mod:`secpipe.security.audit`), with the acting user or token name.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from secpipe.errors import ConfigError
from secpipe.respond.dispatch import silence_matcher
from secpipe.respond.outbox import Store
from secpipe.respond.router import seconds
from secpipe.respond.stage import audit_record


def _now_ms() -> int:
    return int(time.time() * 1000)


def outbox_summary(data_dir: Path, state: str | None = None, limit: int = 100) -> dict[str, Any]:
    """Counts per state and the newest rows (optionally of one state)."""
    st = Store(data_dir)
    return {"counts": st.counts(), "entries": [r.to_dict() for r in st.rows(state=state, limit=limit)]}


def replay(data_dir: Path, row_id: int, actor: str) -> dict[str, Any]:
    """A dead entry back to pending (attempts reset); audited."""
    row = Store(data_dir).transition(row_id, ("dead",), "pending", _now_ms())
    audit_record(data_dir, actor, "alert.replay", id=row_id, queue=row.queue)
    return row.to_dict()


def add_silence(data_dir: Path, match: dict[str, Any], match_re: dict[str, Any], duration: Any, comment: str,
                actor: str, ends_ms: int | None = None) -> dict[str, Any]:
    """Create a silence (needs at least one matcher, a duration or end, and a comment); audited."""
    if not match and not match_re:
        msg = "silence.match"
        raise ConfigError(msg, "give at least one matcher, e.g. rule=ssh-brute-force")
    if not comment:
        msg = "silence.comment"
        raise ConfigError(msg, "say why this is silenced (it goes to the audit log)")
    now = _now_ms()
    if ends_ms is None:
        if duration is None:
            msg = "silence.duration"
            raise ConfigError(msg, "give a duration (e.g. 2h) or ends_ms")
        ends_ms = now + int(seconds(duration, "silence.duration") * 1000)
    if int(ends_ms) <= now:
        msg = "silence.duration"
        raise ConfigError(msg, "the silence would already be over — give a positive duration")
    matchers = {"match": match, "match_re": match_re}
    silence_matcher({"matchers": matchers})  # validates regexes before storing
    st = Store(data_dir)
    sid = st.add_silence(matchers, now, int(ends_ms), actor, comment, now)
    audit_record(data_dir, actor, "silence.change", op="create", id=sid, matchers=matchers, ends_ms=int(ends_ms),
                 comment=comment)
    return {"id": sid, "matchers": matchers, "starts_ms": now, "ends_ms": int(ends_ms), "comment": comment}


def expire_silence(data_dir: Path, sid: str, actor: str) -> dict[str, Any]:
    """End a silence now; audited."""
    now = _now_ms()
    Store(data_dir).expire_silence(sid, now)
    audit_record(data_dir, actor, "silence.change", op="expire", id=sid)
    return {"id": sid, "ends_ms": now}


def list_silences(data_dir: Path, active: bool = False) -> list[dict[str, Any]]:
    """All silences, or the active ones."""
    return Store(data_dir).silences(active_at=_now_ms() if active else None)


def decide(data_dir: Path, row_id: int, approve: bool, actor: str) -> dict[str, Any]:
    """Approve (-> pending, runs) or reject a playbook job waiting for approval; audited."""
    st = Store(data_dir)
    row = st.get(row_id)
    if row.kind != "playbook":
        msg = "id"
        raise ConfigError(msg, f"entry {row_id} is a {row.kind} entry, not a playbook job")
    if approve:
        with st.tx() as c:  # record the approver in the job so the execution audit says who approved
            payload = {**row.payload, "approved_by": actor}
            n = c.execute("UPDATE outbox SET payload=? WHERE id=? AND state='approval'",
                          (orjson.dumps(payload).decode(), row_id)).rowcount
        if n == 0:
            msg = "id"
            raise ConfigError(msg, f"job {row_id} is {row.state!r}, not waiting for approval")
    out = st.transition(row_id, ("approval",), "pending" if approve else "rejected", _now_ms())
    audit_record(data_dir, actor, "playbook.change", op="approve" if approve else "reject", id=row_id,
                 playbook=row.payload.get("playbook"), fingerprints=[a.get("fingerprint") for a in row.payload.get("alerts", [])])
    return out.to_dict()


def acknowledge(data_dir: Path, row_id: int, actor: str) -> dict[str, Any]:
    """Queue a PagerDuty ``acknowledge`` for the alert group of a delivered/dead notification; audited."""
    st = Store(data_dir)
    row = st.get(row_id)
    if row.kind != "notify" or not row.queue.endswith("/pagerduty"):
        msg = "id"
        raise ConfigError(msg, f"entry {row_id} ({row.queue}) is not a PagerDuty notification — pick one from "
                                "`secpipe alerts`")
    new_id = st.enqueue(row.queue, "notify", {**row.payload, "action": "acknowledge"}, _now_ms())
    audit_record(data_dir, actor, "alert.acknowledge", id=row_id, queued=new_id, queue=row.queue)
    return st.get(new_id).to_dict()
