"""Pipeline config: a Vector-like topology of sources, transforms and sinks wired by ``inputs``.

Shape (see examples/pipeline.yaml)::

    data_dir: ./secpipe-data
    server: {listen: "127.0.0.1:8088", max_body_bytes: 33554432}
    sources:    {<id>: {type: http|file|syslog|kafka|..., ...}}
    transforms: {<id>: {type: <stage type>, inputs: [<id>...], ...}}
    sinks:      {<id>: {type: lake|..., inputs: [<id>...], ...}}

Every model forbids unknown keys. Component options are validated by the model that the
component's ``type`` registers (:data:`COMPONENTS`), so a new source/transform/sink type
brings its own schema. ``${NAME}`` in any string is replaced by the environment variable
NAME (``${NAME:-default}`` gives a default); an unset variable without a default is an
error naming the key path. Errors always name the exact key path and say how to fix it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from secpipe._lazy import LazyRegistry
from secpipe.config.ingest import IngestConfig
from secpipe.errors import ConfigError
from secpipe.security.tls import TlsConfig


class Strict(BaseModel):
    """Base for config models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ServerConfig(Strict):
    """The HTTP server of `secpipe up`."""

    listen: str = "127.0.0.1:8088"
    max_body_bytes: int = Field(32 << 20, gt=0)
    max_decompressed_bytes: int = Field(256 << 20, gt=0)
    max_json_depth: int = Field(64, gt=0)
    max_string_bytes: int = Field(8 << 20, gt=0)
    request_timeout_seconds: float = Field(30.0, gt=0)
    rate_per_token: float = Field(1000.0, ge=0)  # requests/s per token, 0 = unlimited
    rate_burst: float = Field(2000.0, ge=1)
    tls: TlsConfig | None = None


class LakeOptions(Strict):
    """Lake sink: commit batches by size and by time; merge small files (store.compact).

    ``max_seconds``: how long accepted rows may wait before a commit (`secpipe up`; batch
    ingest commits at the end). ``compact_seconds``: how often `secpipe up` merges the small
    part files of each day partition (0: never). ``raw_data: false`` stores events without
    their original record (smaller lake; Sigma rules on raw fields then see OCSF fields only).
    """

    type: str = "lake"
    inputs: list[str] = Field(default_factory=list)
    max_rows: int = Field(500_000, gt=0)
    max_seconds: float = Field(2.0, gt=0)
    compact_seconds: float = Field(300.0, ge=0)
    raw_data: bool = True


class FileSourceOptions(Strict):
    """Files tailed or read once (see sources.tail)."""

    type: str = "file"
    paths: list[str]
    format: str = "auto"
    follow: bool = True
    poll_seconds: float = Field(1.0, gt=0)


class HttpSourceOptions(Strict):
    """The HTTP ingest edge (shares the server)."""

    type: str = "http"
    listen: str | None = None
    tls: dict[str, Any] | None = None


#: component type -> options model (sources, transforms and sinks share this namespace); a
#: model's module is imported when its type is first asked for: the option modules hold ~40
#: pydantic models, and building their validators is most of what importing them costs, so a
#: config of a redact and a tokenize stage does not build sigma's, alerting's or enrichment's.
COMPONENTS: Mapping[str, type[BaseModel]] = LazyRegistry({
    "lake": (__name__, "LakeOptions"),
    "file": (__name__, "FileSourceOptions"),
    "http": (__name__, "HttpSourceOptions"),
    "syslog": ("secpipe.sources.syslog_options", "SyslogSourceOptions"),
    "kafka": ("secpipe.sources.kafka_options", "KafkaSourceOptions"),
    "anomaly": ("secpipe.detect.anomaly.options", "AnomalyOptions"),
    "compliance": ("secpipe.detect.compliance.options", "ComplianceOptions"),
    "sigma": ("secpipe.detect.sigma.options", "SigmaOptions"),
    "tokenize": ("secpipe.transforms.protect.options", "TokenizeOptions"),
    "mask": ("secpipe.transforms.protect.options", "MaskOptions"),
    "redact": ("secpipe.transforms.protect.options", "RedactOptions"),
    "threat_intel": ("secpipe.transforms.enrich.options", "ThreatIntelOptions"),
    "geoip": ("secpipe.transforms.enrich.options", "GeoIPOptions"),
    "lookup": ("secpipe.transforms.enrich.options", "LookupOptions"),
    "alert": ("secpipe.respond.options", "AlertOptions"),
    "match": ("secpipe.respond.options", "MatchOptions"),
    "deploy_risk": ("secpipe.respond.options", "DeployRiskOptions"),
})


class PipelineConfig(Strict):
    """A whole pipeline."""

    data_dir: str = "./secpipe-data"
    server: ServerConfig = Field(default_factory=ServerConfig)
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    transforms: dict[str, dict[str, Any]] = Field(default_factory=dict)
    sinks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    detect: dict[str, Any] = Field(default_factory=dict)
    respond: dict[str, Any] = Field(default_factory=dict)
    security: dict[str, Any] = Field(default_factory=dict)
    enrich: dict[str, Any] = Field(default_factory=dict)
    ingest: IngestConfig = Field(default_factory=IngestConfig)

    def lake_options(self) -> LakeOptions:
        """The options of the pipeline's lake sink (the first ``type: lake``), else the defaults."""
        for raw in self.sinks.values():
            if raw.get("type") == "lake":
                return LakeOptions.model_validate(raw)
        return LakeOptions()

    def component(self, section: str, name: str) -> BaseModel:
        """The validated options model of one component."""
        raw = getattr(self, section)[name]
        return COMPONENTS[raw["type"]].model_validate(raw)


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(value: Any, path: str) -> Any:
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            msg = f"environment variable {name} is not set — export {name} or write ${{{name}:-default}}"
            raise ConfigError(path, msg)

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _loc(prefix: str, loc: tuple[Any, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fix_hint(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key — remove it or check its spelling"
    if kind == "missing":
        return "required key is missing — add it"
    return f"{err.get('msg', 'invalid value')} — got {err.get('input')!r}"


def _errors(prefix: str, exc: ValidationError) -> list[ConfigError]:
    return [ConfigError(_loc(prefix, tuple(e["loc"])), _fix_hint(dict(e))) for e in exc.errors()]


def check(data: Any) -> tuple[PipelineConfig | None, list[ConfigError]]:
    """Validate a parsed config; returns (config or None, every error found)."""
    if not isinstance(data, dict):
        return None, [ConfigError("", "the config must be a YAML mapping of keys (data_dir, sources, ...)")]
    errors: list[ConfigError] = []
    try:
        data = _interpolate(data, "")
    except ConfigError as exc:
        return None, [exc]
    try:
        cfg = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        return None, _errors("", exc)
    ids: set[str] = set()
    for section in ("sources", "transforms", "sinks"):
        for name, raw in getattr(cfg, section).items():
            path = f"{section}.{name}"
            if name in ids:
                errors.append(ConfigError(path, "component id used twice — ids must be unique across sections"))
            ids.add(name)
            if not isinstance(raw, dict) or "type" not in raw:
                errors.append(ConfigError(f"{path}.type", f"missing — one of: {', '.join(sorted(COMPONENTS))}"))
                continue
            model = COMPONENTS.get(raw["type"])
            if model is None:
                errors.append(ConfigError(f"{path}.type", f"unknown type {raw['type']!r} — one of: {', '.join(sorted(COMPONENTS))}"))
                continue
            try:
                model.model_validate(raw)
            except ValidationError as exc:
                errors.extend(_errors(path, exc))
    for section in ("transforms", "sinks"):
        for name, raw in getattr(cfg, section).items():
            for i, inp in enumerate(raw.get("inputs", []) if isinstance(raw, dict) else []):
                if inp not in ids or inp == name:
                    errors.append(ConfigError(f"{section}.{name}.inputs[{i}]", f"{inp!r} is not a source or transform id — known: {', '.join(sorted(ids - {name}))}"))
    return (cfg if not errors else None), errors


def load_config(path: str | Path) -> PipelineConfig:
    """Load and validate a config file; raises the first ConfigError (all via validate_file)."""
    cfg, errors = validate_file(path)
    if errors:
        raise errors[0]
    assert cfg is not None
    return cfg


def validate_file(path: str | Path) -> tuple[PipelineConfig | None, list[ConfigError]]:
    """Read a YAML file and validate it, collecting every error."""
    p = Path(path)
    if not p.is_file():
        return None, [ConfigError("", f"config file not found: {p} — give the path of a YAML file")]
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [ConfigError("", f"not valid YAML{where}: {getattr(exc, 'problem', exc)} — fix the syntax")]
    return check(data)
