"""Sources: files (batch and tail), HTTP, syslog, Kafka.

:data:`STARTERS` maps a config ``type`` to a factory ``(id, options, service) -> running
source`` for the sources `secpipe up` runs beside the HTTP server; each returned object has
``start()`` (binds, returns when serving) and ``stop()`` (drains into the service, returns
when done). :func:`start_sources` starts every configured one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Running(Protocol):
    """A started source."""

    def start(self) -> None:
        """Begin serving."""

    def stop(self) -> None:
        """Drain and stop."""


def _syslog(name: str, options: Any, service: Any) -> Running:
    from secpipe.sources.syslog import from_options

    return from_options(name, options, service)


def _file(name: str, options: Any, service: Any) -> Running:
    from secpipe.sources.tail import from_options

    return from_options(name, options, service)


def _kafka(name: str, options: Any, service: Any) -> Running:
    from secpipe.sources.kafka import from_options

    return from_options(name, options, service)


#: source type -> factory(id, validated options, service)
STARTERS: dict[str, Callable[[str, Any, Any], Running]] = {
    "syslog": _syslog,
    "file": _file,
    "kafka": _kafka,
}


def start_sources(cfg: Any, service: Any) -> list[Running]:
    """Start every configured source with a starter; on failure stop the ones started."""
    started: list[Running] = []
    try:
        for name, raw in cfg.sources.items():
            if raw.get("type") in STARTERS:
                src = STARTERS[raw["type"]](name, cfg.component("sources", name), service)
                src.start()
                started.append(src)
    except BaseException:
        stop_sources(started)
        raise
    return started


def stop_sources(started: list[Running]) -> None:
    """Stop sources in reverse start order."""
    for src in reversed(started):
        src.stop()
