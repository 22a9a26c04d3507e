"""Retention: per-class TTLs that delete whole day partitions, with legal holds, audited.

Policy (config ``security.retention``, overridable per data directory with
``secpipe retention set/hold/release``, stored in ``<data>/state/retention.json``)::

    security:
      retention:
        default_days: null          # classes without a TTL are kept forever
        classes: {api_activity: 90, detection_finding: 365, dead_letter: 30}
        legal_hold: [authentication]
        interval_seconds: 3600      # how often `secpipe up` applies it

Guarantees:
- Only whole partitions go: ``lake/<class>/event_day=D`` is deleted when ``D`` is older than
  ``today - ttl`` (UTC; a partition of exactly the cutoff day is kept). Dead letters are
  the class ``dead_letter`` (``dlq/day=D``).
- A class under legal hold is never deleted; the run reports it as held.
- Every deleted partition is an audit entry (``retention.delete``: class, day, files,
  bytes) written before the files go, and every run (``retention.run``, also dry runs)
  records what it did, so the log shows what was removed and why.
- The clock is injectable (``today``) so tests need no waiting.
- A partition is deleted under the lake's maintenance lock, so a compaction
  (:mod:`secpipe.store.compact`) never merges it while it goes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from secpipe.errors import ConfigError
from secpipe.security import audit
from secpipe.store import compact
from secpipe.store._durable import write_file_atomic


class RetentionPolicy(BaseModel):
    """TTL days per class, legal holds, and the scheduler interval."""

    model_config = ConfigDict(extra="forbid")

    default_days: int | None = Field(None, gt=0)
    classes: dict[str, int] = Field(default_factory=dict)
    legal_hold: list[str] = Field(default_factory=list)
    interval_seconds: float = Field(3600.0, gt=0)

    def ttl(self, cls: str) -> int | None:
        """Days a class is kept (None = forever)."""
        return self.classes.get(cls, self.default_days)


def _state_path(data_dir: Path) -> Path:
    return Path(data_dir) / "state" / "retention.json"


def load_policy(data_dir: Path, config: dict[str, Any] | None = None) -> RetentionPolicy:
    """The config's policy with the data directory's overrides (TTLs and holds) applied."""
    raw = dict((config or {}).get("retention") or {})
    try:
        pol = RetentionPolicy.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(x) for x in err["loc"])
        where = f"security.retention.{path}"
        raise ConfigError(where, f"{err['msg']} — fix the retention policy") from exc
    p = _state_path(data_dir)
    if p.exists():
        st = orjson.loads(p.read_bytes())
        pol.classes.update({k: int(v) for k, v in st.get("classes", {}).items()})
        pol.legal_hold = sorted(set(pol.legal_hold) | set(st.get("legal_hold", [])) - set(st.get("released", [])))
    return pol


def update_state(data_dir: Path, *, ttl: tuple[str, int] | None = None, hold: str | None = None,
                 release: str | None = None) -> dict[str, Any]:
    """Change the data directory's overrides; returns the new state."""
    p = _state_path(data_dir)
    st: dict[str, Any] = orjson.loads(p.read_bytes()) if p.exists() else {}
    classes, holds, released = st.setdefault("classes", {}), set(st.get("legal_hold", [])), set(st.get("released", []))
    if ttl:
        classes[ttl[0]] = ttl[1]
    if hold:
        holds.add(hold)
        released.discard(hold)
    if release:
        holds.discard(release)
        released.add(release)
    st["legal_hold"], st["released"] = sorted(holds), sorted(released)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(p, orjson.dumps(st), p.with_suffix(".tmp"))
    return st


@dataclass
class Partition:
    """One day partition of one class."""

    cls: str
    day: dt.date
    path: Path
    files: int
    bytes: int


@dataclass
class RetentionResult:
    """What a run deleted (or would delete), kept, and skipped for legal hold."""

    deleted: list[Partition] = field(default_factory=list)
    held: list[Partition] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {
            "dry_run": self.dry_run,
            "deleted": [{"class": p.cls, "day": p.day.isoformat(), "files": p.files, "bytes": p.bytes} for p in self.deleted],
            "held": [{"class": p.cls, "day": p.day.isoformat()} for p in self.held],
        }


def partitions(data_dir: Path) -> list[Partition]:
    """Every day partition of the lake and the DLQ."""
    out: list[Partition] = []
    data_dir = Path(data_dir)
    candidates = [(d.name, d, "event_day=") for d in sorted((data_dir / "lake").glob("*")) if d.is_dir()]
    candidates.append(("dead_letter", data_dir / "dlq", "day="))
    for cls, base, prefix in candidates:
        for part in sorted(base.glob(f"{prefix}*")):
            try:
                day = dt.date.fromisoformat(part.name[len(prefix):])
            except ValueError:
                continue
            files = [f for f in part.iterdir() if f.is_file()]
            out.append(Partition(cls, day, part, len(files), sum(f.stat().st_size for f in files)))
    return out


def apply(data_dir: Path, policy: RetentionPolicy, *, dry_run: bool = False, today: dt.date | None = None,
          actor: str = "system") -> RetentionResult:
    """Delete every partition past its class TTL (not held); audited."""
    today = today or dt.datetime.now(dt.UTC).date()
    res = RetentionResult(dry_run=dry_run)
    for part in partitions(data_dir):
        ttl = policy.ttl(part.cls)
        if ttl is None or part.day >= today - dt.timedelta(days=ttl):
            continue
        if part.cls in policy.legal_hold:
            res.held.append(part)
            continue
        res.deleted.append(part)
        if not dry_run:
            audit.record(data_dir, actor, "retention.delete", cls=part.cls, day=part.day.isoformat(), ttl_days=ttl,
                         files=part.files, bytes=part.bytes)
            base = Path(data_dir) / ("dlq" if part.cls == "dead_letter" else "lake")
            with compact.maintenance_lock(base):  # never while a compaction merges it
                shutil.rmtree(part.path)
    audit.record(data_dir, actor, "retention.run", dry_run=dry_run, deleted=len(res.deleted), held=len(res.held),
                 today=today.isoformat())
    return res


class RetentionScheduler:
    """Applies the policy every ``interval_seconds`` in a daemon thread (used by `secpipe up`)."""

    def __init__(self, data_dir: Path, config: dict[str, Any] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.config = config
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        """Start applying; the first run is immediate."""
        self._thread = threading.Thread(target=self._run, name="secpipe-retention", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            pol = load_policy(self.data_dir, self.config)
            if pol.classes or pol.default_days:
                apply(self.data_dir, pol, actor="scheduler")
                self.runs += 1
            if self._stop.wait(pol.interval_seconds):
                return

    def stop(self) -> None:
        """Stop the thread (waits for a run in progress)."""
        self._stop.set()
        if self._thread:
            self._thread.join()
