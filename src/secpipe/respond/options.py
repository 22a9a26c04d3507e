"""Config models of the respond stages (registered in ``config.models.COMPONENTS``).

Shape of an ``alert`` transform::

    transforms:
      alerts:
        type: alert
        inputs: [sigma, anomaly]
        receivers:
          secops:
            slack: {webhook_url_env: SLACK_WEBHOOK}
            rate_limit: {per_minute: 30, burst: 10}
          oncall: {pagerduty: {routing_key_file: /run/secrets/pd_key}}
        route:
          receiver: secops
          group_by: [rule]
          group_wait: 30s
          group_interval: 5m
          repeat_interval: 4h
          routes:
            - {match: {severity: [critical]}, receiver: oncall, continue: true, playbooks: [isolate]}
        playbooks: {isolate: {...}}          # see respond.playbooks
        thresholds: [{name: crit-burst, match: {severity: critical}, group_by: [repository], window: 1h, count_gt: 10}]
        tls: {ca_bundle: /etc/ssl/corp-ca.pem}

Channel and route details are checked when the stage is built (errors name the key path).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RateLimit(_Strict):
    """Per-receiver token bucket: sends are delayed, never dropped."""

    per_minute: float = Field(60.0, gt=0)
    burst: int = Field(10, gt=0)


class ReceiverOptions(_Strict):
    """One receiver: any of the channels, each with its own queue and worker."""

    slack: dict[str, Any] | None = None
    pagerduty: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None
    email: dict[str, Any] | None = None
    teams: dict[str, Any] | None = None
    rate_limit: RateLimit | None = None
    max_attempts: int = Field(8, gt=0)
    backoff_base_seconds: float = Field(1.0, gt=0)
    backoff_max_seconds: float = Field(300.0, gt=0)

    def channels(self) -> dict[str, dict[str, Any]]:
        """Configured channels by type."""
        return {k: v for k in ("slack", "pagerduty", "webhook", "email", "teams") if (v := getattr(self, k)) is not None}


class AlertOptions(_Strict):
    """The ``alert`` stage."""

    type: str = "alert"
    inputs: list[str] = Field(default_factory=list)
    receivers: dict[str, ReceiverOptions]
    route: dict[str, Any]
    playbooks: dict[str, Any] = Field(default_factory=dict)
    playbooks_file: str | None = None
    thresholds: list[dict[str, Any]] = Field(default_factory=list)
    tls: dict[str, Any] | None = None
    tick_seconds: float = Field(0.05, gt=0)
    #: a firing alert not seen again for this long leaves its group quietly (no "resolved":
    #: the source never said the condition cleared), so one-shot detections stop repeating.
    resolve_timeout: str = "24h"
    #: delivered/rejected outbox rows older than this are deleted (dead letters: 4x as long).
    outbox_retention: str = "7d"


class MatchRule(_Strict):
    """A simple built-in rule: every ``where`` path equals one of its values."""

    id: str
    title: str
    severity: str = "high"
    where: dict[str, Any]
    message: str | None = None
    tags: list[str] = Field(default_factory=list)


class MatchOptions(_Strict):
    """The ``match`` stage (simple rules -> detection findings)."""

    type: str = "match"
    inputs: list[str] = Field(default_factory=list)
    rules: list[MatchRule]


class DeployRiskOptions(_Strict):
    """The ``deploy_risk`` stage."""

    type: str = "deploy_risk"
    inputs: list[str] = Field(default_factory=list)
    lookback: str = "24h"
    min_score: int = Field(0, ge=0, le=100)
    high_risk_score: int = Field(60, ge=0, le=100)
    weights: dict[str, int] = Field(default_factory=lambda: {"critical_vuln": 25, "high_vuln": 10, "detection": 10,
                                                                 "missing_review": 20})
