"""The ``anomaly`` transform stage: learn per-entity baselines, emit Detection Findings.

Guarantees:
- The input batch passes through unchanged; findings come out as one extra
  ``detection_finding`` batch per input batch that produced any.
- Baselines live in ``<data_dir>/state/anomaly/<stage id>/`` (or ``state_dir``), are loaded
  when the stage is built and saved atomically at every pipeline flush (:meth:`sync`, called
  before the WAL segments of the flushed input are released), at most every
  ``checkpoint_seconds`` in between (by the injected clock), and on :meth:`close`. After a
  crash the learning since the last save is redone when the WAL is replayed; a finding
  raised again then carries the same uid, so the lake keeps one copy.
- Events stamped more than ``max_ahead_seconds`` past the wall clock (the injected clock; a
  host whose clock is years ahead) pass through but are left out of the baselines: one such
  event would move an entity's rate history to its window (dropping the entity's real
  history) and make the fleet's history look years old (warm at once).
- No finding before warm-up: a rate rule needs ``min_history`` active windows for the
  entity, a first-seen rule needs the entity to be ``warmup`` old (event time) with
  ``min_events`` earlier events, a rare rule needs ``warmup`` of fleet history and
  ``min_events`` fleet events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.anomaly import state as st
from secpipe.detect.anomaly.detectors import BatchView, Hit, detect_first_seen, detect_rare, detect_rate
from secpipe.detect.anomaly.finding import findings_batch
from secpipe.detect.anomaly.options import AnomalyOptions
from secpipe.schema.ocsf import class_of


class AnomalyStage:
    """Rate, first-seen and rare-value detection over OCSF batches, with saved baselines."""

    def __init__(
        self,
        name: str,
        options: AnomalyOptions,
        state_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.options = options
        self.state_dir = Path(state_dir)
        self.clock = clock
        self.baselines = st.load(self.state_dir)
        self._dirty = False
        self._saved_at = clock()

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Pass the batch on, plus a detection_finding batch when something deviated."""
        hits = self.observe(batch)
        out = [batch]
        if hits:
            out.append(findings_batch(self.name, hits, int(self.clock() * 1000)))
        if self._dirty and self.clock() - self._saved_at >= self.options.checkpoint_seconds:
            self.checkpoint()
        return out

    def observe(self, batch: pa.RecordBatch) -> list[Hit]:
        """Compare one batch with the baselines, learn from it, and return the anomalies."""
        if batch.num_rows == 0 or "time" not in batch.schema.names:
            return []
        if self.options.classes and class_of(batch) not in self.options.classes:
            return []
        batch = self._on_time(batch)
        if batch.num_rows == 0:
            return []
        view = BatchView.of(batch)
        o = self.options
        hits: list[Hit] = []
        for rate in o.rate:
            hits.extend(detect_rate(rate, view, self.baselines, o.max_evidence))
        for fs in o.first_seen:
            hits.extend(detect_first_seen(fs, view, self.baselines, o.max_evidence))
        for rare in o.rare:
            hits.extend(detect_rare(rare, view, self.baselines, o.max_evidence))
        self._dirty = True
        return hits

    def _on_time(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The rows not stamped past the wall clock plus ``max_ahead_seconds`` (the batch itself when
        none is: one max over the time column)."""
        times = batch.column("time").cast(pa.int64())  # as BatchView reads it
        bound = (self.clock() + self.options.max_ahead_seconds) * 1000
        top = pc.max(times).as_py()
        if top is None or top <= bound:
            return batch
        return batch.filter(pc.fill_null(pc.less_equal(times, bound), True))

    def checkpoint(self) -> None:
        """Save the baselines now (atomic)."""
        st.save(self.state_dir, self.baselines)
        self._dirty = False
        self._saved_at = self.clock()

    def sync(self) -> None:
        """Pipeline flush hook: save what was learned since the last checkpoint."""
        if self._dirty:
            self.checkpoint()

    def close(self) -> None:
        """Shutdown hook: save what was learned since the last checkpoint."""
        self.sync()


def build_stage(
    name: str,
    options: dict[str, Any] | AnomalyOptions,
    data_dir: Path | str | None = None,
    clock: Callable[[], float] = time.time,
) -> AnomalyStage:
    """Factory registered as transform type ``anomaly`` (options validated here)."""
    opts = options if isinstance(options, AnomalyOptions) else AnomalyOptions.model_validate(options)
    if opts.state_dir:
        where = Path(opts.state_dir)
    else:
        where = Path(data_dir if data_dir is not None else "./secpipe-data") / "state" / "anomaly" / name
    return AnomalyStage(name, opts, where, clock)
