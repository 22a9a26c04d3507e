"""Config of the ``anomaly`` transform (pydantic, unknown keys are errors).

Example::

    transforms:
      ueba:
        type: anomaly
        inputs: [edge]
        classes: [api_activity, authentication]
        rate:
          - {entity: [actor.user.name, user.name], window: 1h, threshold: 3.5, min_history: 24}
        first_seen:
          - {entity: actor.user.name, values: [src_endpoint.ip, http_request.user_agent], warmup: 7d}
          - {id: role-new-api, entity: actor.session.issuer, values: [api.operation], warmup: 3d}
        rare:
          - {values: [api.service.name, api.operation], max_count: 3, warmup: 7d, min_events: 10000}

Paths are OCSF dotted paths into the batch. ``entity`` may list alternatives: the first
non-null one per event is used (``actor.user.name`` in API Activity, ``user.name`` in
Authentication). Durations are ``<number><s|m|h|d|w>`` or seconds.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> float:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"7d"``, ``"2w"`` or a number of seconds -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        msg = f"not a duration: {value!r} — write e.g. 30s, 15m, 1h, 7d or 2w"
        raise ValueError(msg)
    return float(m.group(1)) * _UNIT[m.group(2)]


Seconds = Annotated[float, BeforeValidator(parse_duration)]
Severity = Literal["informational", "low", "medium", "high", "critical"]

#: severity name -> OCSF severity_id.
SEVERITY_IDS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _paths(v: object) -> object:
    return [v] if isinstance(v, str) else v


Paths = Annotated[list[str], BeforeValidator(_paths)]


class _Rule(_Strict):
    id: str | None = Field(None, description="Stable rule id (keys the saved baseline); derived from the config when absent.")
    severity: Severity = "medium"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[A-Za-z0-9_.:-]+$", v):
            msg = "use letters, digits and . _ : - only"
            raise ValueError(msg)
        return v


class RateRule(_Rule):
    """Events per entity per window, against the entity's own history (robust z-score)."""

    entity: Paths = Field(min_length=1)
    window: Seconds = Field(3600.0, gt=0)
    threshold: float = Field(3.5, gt=0, description="Modified z-score 0.6745*(x-median)/MAD that alerts.")
    min_history: int = Field(24, ge=1, description="Warm-up: active windows in the baseline before any finding.")
    history: int = Field(168, ge=2, description="Windows of history kept per entity.")
    min_count: int = Field(10, ge=1, description="Windows with fewer events never alert.")
    min_mad: float = Field(1.0, gt=0, description="Floor of the MAD, so a flat baseline does not divide by zero.")

    def key(self) -> str:
        """The rule id, or one derived from what defines the baseline."""
        return self.id or f"rate:{'|'.join(self.entity)}:{int(self.window)}"


class FirstSeenRule(_Rule):
    """A value never seen before for this entity (new IP, country, ASN, user agent, API).

    Alerts only for an entity already known (seen in an earlier batch), at least ``warmup``
    old and with ``min_events`` earlier events, that has shown some other value of that path
    before: the first sighting of an entity, or of a field it never carried, is learned.
    """

    entity: Paths = Field(min_length=1)
    values: list[str] = Field(min_length=1)
    warmup: Seconds = Field(7 * 86400.0, ge=0, description="Entity age (event time) before new values alert.")
    min_events: int = Field(0, ge=0, description="Entity events seen before new values alert.")
    max_values: int = Field(10_000, ge=1, description="Values remembered per entity; the oldest are forgotten.")

    def key(self, path: str) -> str:
        """State key of one value path."""
        return f"{self.id}/{path}" if self.id else f"first_seen:{'|'.join(self.entity)}:{path}"


class RareRule(_Rule):
    """A value (or tuple of values) seen fewer than ``max_count`` times across the fleet."""

    values: list[str] = Field(min_length=1)
    max_count: int = Field(3, ge=1, description="Alert while the value had been seen fewer times than this.")
    warmup: Seconds = Field(7 * 86400.0, ge=0, description="Fleet history (event time) before rare values alert.")
    min_events: int = Field(1000, ge=0, description="Fleet events seen before rare values alert.")

    def key(self) -> str:
        """The rule id, or one derived from the value paths."""
        return self.id or f"rare:{'|'.join(self.values)}"


class AnomalyOptions(_Strict):
    """Options of the ``anomaly`` transform."""

    type: Literal["anomaly"] = "anomaly"
    inputs: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list, description="OCSF class names to watch; empty means all.")
    state_dir: str | None = Field(None, description="Where baselines are saved; default <data_dir>/state/anomaly/<id>.")
    checkpoint_seconds: float = Field(5.0, ge=0, description="Save baselines at most this often (0: after every batch).")
    max_evidence: int = Field(20, ge=1, description="Event uids listed per finding.")
    max_ahead_seconds: float = Field(
        300.0, ge=0, description="Events stamped more than this past the wall clock (a bad clock) pass through "
        "unlearned: they would move an entity's baseline horizon, or the fleet's history, years on.")
    rate: list[RateRule] = Field(default_factory=list)
    first_seen: list[FirstSeenRule] = Field(default_factory=list)
    rare: list[RareRule] = Field(default_factory=list)
