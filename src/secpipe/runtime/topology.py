"""Build the transform chain from a pipeline config.

Transforms are wired by ``inputs``; the embedded runtime runs them as one chain in
dependency order (a transform after every transform it reads from), which is the same
order `secpipe ingest`, `secpipe up`, a Kafka processor and a Spark job use. Each
transform's ``type`` names a factory in :data:`secpipe.transforms.base.STAGES`; the factory
gets the transform's id and its validated options dict.
"""

from __future__ import annotations

import inspect
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from secpipe.config.models import PipelineConfig
from secpipe.errors import ConfigError
from secpipe.runtime import memory
from secpipe.transforms.base import STAGES, Stage

#: stage types that rewrite text columns batch after batch (raw_data among them): their
#: processes run without transparent huge pages (see :mod:`secpipe.runtime.memory`)
_REWRITING = frozenset({"redact", "tokenize", "mask"})


def build_stages(cfg: PipelineConfig, data_dir: Path | None = None) -> list[Stage]:
    """Instantiate every configured transform, in dependency order.

    ``data_dir`` overrides the config's (``--data`` on the command line) for stages that keep
    state there.
    """
    state_dir = Path(data_dir) if data_dir is not None else Path(cfg.data_dir)
    graph: dict[str, set[str]] = {}
    for name, raw in cfg.transforms.items():
        graph[name] = {i for i in raw.get("inputs", []) if i in cfg.transforms}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        msg = f"inputs form a cycle: {' -> '.join(exc.args[1])} — break the loop"
        raise ConfigError("transforms", msg) from exc  # noqa: EM101
    if any(cfg.transforms[name].get("type") in _REWRITING for name in order):
        memory.no_huge_pages()
    stages: list[Stage] = []
    for name in order:
        raw = cfg.transforms[name]
        factory = STAGES.get(raw.get("type", ""))
        if factory is None:
            known = ", ".join(sorted(STAGES)) or "none registered"
            msg = f"unknown transform type {raw.get('type')!r} — known: {known}"
            raise ConfigError(f"transforms.{name}.type", msg)  # noqa: EM102
        if "data_dir" in inspect.signature(factory).parameters:
            stages.append(factory(name, raw, data_dir=state_dir))
        else:
            stages.append(factory(name, raw))
    return stages
