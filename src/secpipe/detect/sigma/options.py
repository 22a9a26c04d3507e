"""Options of the ``sigma`` transform (kept import-light: no pySigma/DuckDB here)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: how far ahead of the wall clock an event's time may be and still move a correlation's stream time
MAX_AHEAD_S = 300.0


class SigmaOptions(BaseModel):
    """Options of a ``type: sigma`` transform."""

    model_config = ConfigDict(extra="forbid")
    type: str = "sigma"
    inputs: list[str] = Field(default_factory=list)
    rules: list[str] = Field(..., min_length=1, description="Sigma rule files or directories")
    pipelines: list[str] = Field(default_factory=list, description="pySigma pipeline / fieldmappings YAML files")
    placeholders: dict[str, list[str]] = Field(default_factory=dict, description="values of %placeholders% (expand)")
    fail_on_unsupported: bool = False
    correlation_grace_seconds: float = Field(
        0.0, ge=0, description="how long past a correlation window's end to wait for late events before deciding a "
        "condition that needs the whole window (lt, lte, eq, neq): e.g. 900 for CloudTrail's delivery delay")
    correlation_max_ahead_seconds: float = Field(
        MAX_AHEAD_S, ge=0, description="an event stamped more than this ahead of the wall clock (a bad clock) does not "
        "move the correlations' stream time (closes no other group's window)")
