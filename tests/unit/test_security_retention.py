"""Retention: TTL per class deletes whole day partitions, legal hold blocks it, everything audited."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from secpipe.errors import ConfigError
from secpipe.runtime.pipeline import Pipeline
from secpipe.security import audit
from secpipe.store import retention
from tests.helpers import SECPIPE


@pytest.fixture
def lake(data_dir: Path, real: Path) -> Path:
    from secpipe import formats

    pipe = Pipeline(data_dir)
    pipe.submit(formats.get("cloudtrail").decode((real / "panther-analysis/extracted/cloudtrail.json").read_bytes(), "t"))
    pipe.submit(formats.get("k8s_audit").decode((real / "panther-analysis/extracted/k8s_audit.jsonl").read_bytes(), "t"))
    pipe.flush()
    return data_dir


def _days(data_dir: Path, cls: str) -> list[dt.date]:
    return sorted(p.day for p in retention.partitions(data_dir) if p.cls == cls)


def test_ttl_deletes_only_old_partitions_and_audits(lake: Path) -> None:
    days = _days(lake, "api_activity")
    assert len(days) > 3
    cutoff = days[len(days) // 2]
    today = cutoff + dt.timedelta(days=10)
    pol = retention.RetentionPolicy(classes={"api_activity": 10})
    plan = retention.apply(lake, pol, dry_run=True, today=today)
    assert plan.deleted and _days(lake, "api_activity") == days  # dry run deletes nothing
    res = retention.apply(lake, pol, today=today, actor="tester")
    left = _days(lake, "api_activity")
    assert left == [d for d in days if d >= cutoff]  # the cutoff day itself is kept
    assert {p.day for p in res.deleted} == {d for d in days if d < cutoff}
    assert _days(lake, "authentication")  # classes without a TTL are untouched
    entries = list(audit.AuditLog(lake).entries())
    deletes = [e for e in entries if e["action"] == "retention.delete"]
    assert sorted(e["details"]["day"] for e in deletes) == sorted(d.isoformat() for d in days if d < cutoff)
    assert all(e["actor"] == "tester" and e["details"]["cls"] == "api_activity" for e in deletes)
    runs = [e for e in entries if e["action"] == "retention.run"]
    assert [r["details"]["dry_run"] for r in runs] == [True, False]
    assert audit.verify(lake).ok


def test_legal_hold_blocks_and_release(lake: Path) -> None:
    days = _days(lake, "api_activity")
    today = days[-1] + dt.timedelta(days=400)
    retention.update_state(lake, hold="api_activity")
    pol = retention.load_policy(lake, {"retention": {"classes": {"api_activity": 30}}})
    res = retention.apply(lake, pol, today=today)
    assert not res.deleted and len(res.held) == len(days)
    assert _days(lake, "api_activity") == days
    retention.update_state(lake, release="api_activity")
    res = retention.apply(lake, retention.load_policy(lake, {"retention": {"classes": {"api_activity": 30}}}), today=today)
    assert len(res.deleted) == len(days) and not _days(lake, "api_activity")


def test_default_ttl_and_dead_letters(lake: Path) -> None:
    from secpipe.formats.base import DeadLetter
    from secpipe.store.dlq import DeadLetterStore

    DeadLetterStore(lake / "dlq").write([DeadLetter("bad", "t", 0, b"x")])
    today = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=5)
    res = retention.apply(lake, retention.RetentionPolicy(default_days=2), today=today)
    assert {p.cls for p in res.deleted} >= {"api_activity", "dead_letter"}
    assert not retention.partitions(lake)


def test_bad_policy_names_the_key(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="security.retention.classes"):
        retention.load_policy(data_dir, {"retention": {"classes": {"api_activity": "ninety"}}})


def test_cli(lake: Path) -> None:
    def run(*args: str) -> str:
        return subprocess.run([*SECPIPE, "retention", *args, "--data", str(lake)], check=True, capture_output=True,
                              text=True).stdout

    run("set", "api_activity", "30")
    out = json.loads(run("apply", "--dry-run", "--json"))
    assert out["dry_run"] and out["deleted"] and _days(lake, "api_activity")
    run("hold", "api_activity", "--reason", "litigation 7")
    out = json.loads(run("apply", "--json"))
    assert not out["deleted"] and out["held"]
    assert "api_activity" in run("show")


def test_scheduler_runs(lake: Path) -> None:
    sched = retention.RetentionScheduler(lake, {"retention": {"classes": {"api_activity": 1}, "interval_seconds": 60}})
    cutoff = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)  # before the run: a midnight meanwhile only deletes more
    sched.start()
    sched.stop()
    assert sched.runs == 1 and all(d >= cutoff for d in _days(lake, "api_activity"))
