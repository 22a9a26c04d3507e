"""The ``sigma`` transform stage: rules over each batch, findings as a derived batch.

``process(batch)`` returns ``[batch]`` or ``[batch, detection_finding batch]``; finding
batches themselves pass through untouched (no rule sees its own findings). Correlation rules
in the same rule paths run on the stage's matches with state persisted under
``<data_dir>/state/sigma/<stage>.json`` (see :mod:`.correlation`). A correlation decided at
window close (``lt``/``lte``/``eq``/``neq``) is decided by a later ``process()`` (any batch: its event
times, or the wall clock, close the window), including after a restart: open windows are state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.finding import findings
from secpipe.detect.sigma.options import SigmaOptions
from secpipe.detect.sigma.rules import load_rules
from secpipe.schema.ocsf import class_uid

_FINDING = class_uid("detection_finding")


class SigmaStage:
    """Vectorized Sigma evaluation of each batch."""

    def __init__(self, name: str, options: SigmaOptions, data_dir: Path | None = None, clock: Any = None) -> None:
        self.name = name
        self.options = options
        self.ruleset = load_rules(options.rules, pipelines=list(options.pipelines), placeholders=options.placeholders or None)
        if options.fail_on_unsupported and self.ruleset.unsupported:
            from secpipe.errors import ConfigError

            u = self.ruleset.unsupported[0]
            msg = f"transforms.{name}.rules"
            raise ConfigError(msg, f"{u.rule}: {u.reason} — fix the rule or unset fail_on_unsupported")
        state = Path(data_dir) / "state" / "sigma" / f"{name}.json" if data_dir is not None else None
        self.correlation = (CorrelationEngine(self.ruleset, state, clock=clock, grace_s=options.correlation_grace_seconds,
                                              ahead_s=options.correlation_max_ahead_seconds)
                            if self.ruleset.correlations else None)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        if batch.num_rows == 0 or ("class_uid" in batch.schema.names and batch.column("class_uid")[0].as_py() == _FINDING):
            return [batch]
        m = self.ruleset.matches(batch)
        out = [batch]
        fb = findings(self.ruleset, batch, m)
        if fb is not None:
            out.append(fb)
        if self.correlation is not None:
            cb = self.correlation.process(batch, m)
            if cb is not None:
                out.append(cb)
        return out


def build_stage(name: str, options: dict[str, Any], data_dir: Any = None) -> SigmaStage:
    """Factory registered as ``STAGES["sigma"]``."""
    return SigmaStage(name, SigmaOptions.model_validate(options), Path(data_dir) if data_dir is not None else None)
