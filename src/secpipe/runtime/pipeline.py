"""The embedded pipeline: decoded documents -> transform chain -> lake, dead letters -> DLQ.

Used identically by ``secpipe ingest`` (batch) and ``secpipe up`` (server). Dead letters are
written (fsynced) as soon as a document is submitted; OCSF batches are buffered by the lake
and committed on :meth:`Pipeline.flush`. Not thread-safe: callers serialize access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from secpipe.formats.base import Decoded
from secpipe.store.dlq import DeadLetterStore
from secpipe.store.lake import FlushResult, Lake
from secpipe.transforms.base import Stage, run_chain


@dataclass
class Totals:
    """Running counts of one pipeline's work."""

    events: int = 0
    dead_letter: int = 0
    stored: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def add_flush(self, res: FlushResult) -> None:
        """Count what a lake flush committed."""
        for k, v in res.stored.items():
            self.stored[k] = self.stored.get(k, 0) + v
        self.duplicates += res.duplicates


class Pipeline:
    """One data directory's lake, dead-letter store and transform chain."""

    def __init__(self, data_dir: Path, stages: list[Stage] | None = None, *, max_rows: int = 500_000,
                 max_seconds: float = 10.0, raw_data: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.lake = Lake(self.data_dir / "lake", max_rows=max_rows, max_seconds=max_seconds, raw_data=raw_data)
        self.dlq = DeadLetterStore(self.data_dir / "dlq")
        self.stages: list[Stage] = list(stages or [])
        self.totals = Totals()

    def submit(self, decoded: Decoded) -> None:
        """Process one decoded document: stages, lake buffer, dead letters (durable now)."""
        self.totals.events += decoded.events
        if decoded.dead:
            self.totals.dead_letter += self.dlq.write(decoded.dead)
        for batch in decoded.batches:
            for out in run_chain(self.stages, batch) if self.stages else [batch]:
                res = self.lake.append(out)
                if res is not None:
                    self.totals.add_flush(res)

    def flush(self) -> FlushResult:
        """Commit everything buffered to the lake, then make stage state durable (``sync()`` hook).

        Callers release WAL segments only after this returns, so a stage that keeps its own
        store (the alert outbox) is fsynced before the input it was derived from is dropped.
        """
        res = self.lake.flush()
        self.totals.add_flush(res)
        for st in self.stages:
            hook = getattr(st, "sync", None)
            if callable(hook):
                hook()
        return res
