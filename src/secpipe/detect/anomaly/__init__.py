"""Anomaly detection: per-entity baselines for rates, first-seen values and rare values.

Three detectors, configured per transform (see :mod:`.options`):

- **rate** -- events per entity per window (e.g. API calls per principal per hour) against
  the entity's own history of active windows; alerts when the modified z-score
  ``0.6745 * (count - median) / MAD`` reaches the threshold.
- **first_seen** -- a value never seen for the entity: a new IP, country, ASN or user agent
  for a principal, a new API operation for a role.
- **rare** -- a value (or tuple, e.g. service + operation) seen fewer than ``max_count``
  times across the whole fleet.

The batch is grouped once per detector with Arrow; Python walks distinct groups only.
Baselines persist under the data dir (:mod:`.state`), every detector has a warm-up, and
every finding is an OCSF Detection Finding whose message states baseline and deviation.
"""

from __future__ import annotations

from typing import Any

from secpipe.detect.anomaly.options import AnomalyOptions, FirstSeenRule, RareRule, RateRule, parse_duration


def __getattr__(name: str) -> Any:
    """The stage loads on first use: config validation imports only the options (PEP 562)."""
    if name in ("AnomalyStage", "build_stage"):
        from secpipe.detect.anomaly import stage

        return getattr(stage, name)
    raise AttributeError(name)


__all__ = [
    "AnomalyOptions",
    "AnomalyStage",
    "FirstSeenRule",
    "RareRule",
    "RateRule",
    "build_stage",
    "parse_duration",
]
