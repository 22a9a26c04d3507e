"""The one transform contract used by `secpipe up`, `secpipe ingest`, Kafka and Spark.

A stage takes one OCSF batch (one class) and returns the batches to pass on: usually the
same batch transformed, possibly plus derived batches (a detection stage returns the input
and a ``detection_finding`` batch). Stages must be vectorized over the batch and must not
keep references to batches after returning. Registry: ``STAGES`` maps config ``type:``
strings to stage classes; each package that defines stages adds its entries there.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class Stage(Protocol):
    """A vectorized transform step."""

    name: str

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Transform one batch; return what continues down the chain."""
        ...


#: config ``type:`` -> factory(name, options) building a Stage. A factory that also takes a
#: ``data_dir`` keyword gets the pipeline's data directory (for state it must keep).
STAGES: dict[str, Any] = {}


def lazy_stage(module: str, attr: str) -> Any:
    """A factory that imports ``module.attr`` on first use (keeps this module import-light)."""

    def factory(name: str, options: dict[str, Any], data_dir: Any = None) -> Stage:
        import importlib

        build = getattr(importlib.import_module(module), attr)
        return build(name, options, data_dir=data_dir)

    return factory


STAGES["sigma"] = lazy_stage("secpipe.detect.sigma.stage", "build_stage")
STAGES["anomaly"] = lazy_stage("secpipe.detect.anomaly", "build_stage")
STAGES["compliance"] = lazy_stage("secpipe.detect.compliance.stage", "build_stage")
STAGES["tokenize"] = lazy_stage("secpipe.transforms.protect.tokenize", "make_tokenize")
STAGES["mask"] = lazy_stage("secpipe.transforms.protect.mask", "make_mask")
STAGES["redact"] = lazy_stage("secpipe.transforms.protect.redact", "make_redact")
STAGES["threat_intel"] = lazy_stage("secpipe.transforms.enrich.intel.stage", "build_stage")
STAGES["geoip"] = lazy_stage("secpipe.transforms.enrich.geoip", "build_stage")
STAGES["lookup"] = lazy_stage("secpipe.transforms.enrich.lookup", "build_stage")
STAGES["alert"] = lazy_stage("secpipe.respond.stage", "build_stage")
STAGES["match"] = lazy_stage("secpipe.respond.match", "build_stage")
STAGES["deploy_risk"] = lazy_stage("secpipe.respond.deploy_risk", "build_stage")


def run_chain(stages: list[Stage], batch: pa.RecordBatch) -> list[pa.RecordBatch]:
    """Run a batch through every stage in order; derived batches go through later stages."""
    batches = [batch]
    for st in stages:
        nxt: list[pa.RecordBatch] = []
        for b in batches:
            nxt.extend(st.process(b))
        batches = nxt
    return batches
