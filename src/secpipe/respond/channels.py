"""Channel registry: receiver config key -> channel class (explicit, imported on use)."""

from __future__ import annotations

import importlib
from typing import Any

from secpipe.errors import ConfigError
from secpipe.respond.base import Channel

#: channel type -> (module, class).
CHANNEL_TYPES: dict[str, tuple[str, str]] = {
    "slack": ("secpipe.respond.slack", "SlackChannel"),
    "pagerduty": ("secpipe.respond.pagerduty", "PagerDutyChannel"),
    "webhook": ("secpipe.respond.webhook", "WebhookChannel"),
    "email": ("secpipe.respond.email", "EmailChannel"),
    "teams": ("secpipe.respond.teams", "TeamsChannel"),
}


def build_channel(kind: str, receiver: str, options: dict[str, Any], tls: dict[str, Any] | None) -> Channel:
    """Instantiate one channel of a receiver."""
    if kind not in CHANNEL_TYPES:
        msg = f"receivers.{receiver}.{kind}"
        raise ConfigError(msg, f"unknown channel — one of: {', '.join(CHANNEL_TYPES)}")
    mod, cls = CHANNEL_TYPES[kind]
    return getattr(importlib.import_module(mod), cls)(receiver, options, tls)
