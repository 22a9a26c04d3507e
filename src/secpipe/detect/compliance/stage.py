"""The ``compliance`` transform: evaluate the compliance packs on every batch in the stream.

Config::

    transforms:
      compliance:
        type: compliance
        inputs: [edge]
        packs: [cis-aws, k8s, cicd]     # default: every pack
        rules_dir: ./rules/compliance   # default: the shipped packs

Guarantees: the input batch passes through unchanged; each match of a control's rule adds
one row to a ``compliance_finding`` batch returned after it. The finding uid is control x
event, so the same violation found again (a replayed WAL, ``secpipe compliance scan`` over
the lake) is stored once. Rules route by source (``metadata.log_name``), so findings secpipe
itself made (``secpipe.*``) are never evaluated; scanner findings (Trivy, GitHub) are.
Stateless: nothing to save across restarts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe.detect.compliance.catalog import PACKS, load_controls
from secpipe.detect.compliance.evaluate import ruleset
from secpipe.detect.compliance.findings import compliance_findings
from secpipe.detect.compliance.options import ComplianceOptions
from secpipe.errors import ConfigError


class ComplianceStage:
    """In-stream evaluation of the compliance packs."""

    def __init__(self, name: str, options: ComplianceOptions, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.options = options
        self.clock = clock
        unknown = sorted(set(options.packs) - set(PACKS))
        if unknown:
            where = f"transforms.{name}.packs"
            raise ConfigError(where, f"unknown pack(s) {', '.join(unknown)} — use {', '.join(PACKS)}")
        controls = load_controls(Path(options.rules_dir) if options.rules_dir else None)
        self.controls = [c for c in controls if not options.packs or c.pack in options.packs]
        self.rules = ruleset(self.controls)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Pass the batch on, plus its Compliance Findings."""
        if batch.num_rows == 0:
            return [batch]
        found = compliance_findings(self.controls, self.rules.matches(batch), int(self.clock() * 1000))
        return [batch] if found is None else [batch, found]


def build_stage(name: str, options: dict[str, Any] | ComplianceOptions, data_dir: Any = None) -> ComplianceStage:
    """Factory registered as transform type ``compliance``."""
    opts = options if isinstance(options, ComplianceOptions) else ComplianceOptions.model_validate(options)
    return ComplianceStage(name, opts)
