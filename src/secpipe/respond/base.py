"""Contracts of the respond package: alerts, notifications, channels, secrets, errors.

An :class:`Alert` is one finding seen through routing eyes: a stable ``fingerprint``
(the finding uid), ``labels`` (what routes, groups and silences match on: severity, rule,
class, product, account, cluster, repository, resource, tags) and ``annotations`` (what
humans read: summary, description, link, evidence query). A :class:`Notification` is what a
channel sends: one alert group of one route, its alerts and their status.

A channel (``slack``, ``pagerduty``, ``webhook``, ``email``, ``teams``) implements
``send(notification)``. It raises :class:`DeliveryError` (transient: retried with backoff,
``retry_after`` honoured) or :class:`DeliveryRejected` (terminal: dead-lettered now).
Channels are built from the receiver config by ``respond.channels.build_channel``.

Secrets (webhook URLs, routing keys, passwords) are never config values: a config names an
environment variable (``*_env``) or a file (``*_file``) and :func:`resolve_secret` reads it
at delivery time. Errors and logs say which variable or file, never the value; channels pass
every message they raise through :func:`scrub` so a URL echoed by a library is removed.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from secpipe.errors import ConfigError, TerminalError, TransientError

# httpx logs every request URL at INFO; webhook URLs are secrets, so keep its logger quiet.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

#: OCSF severity_id -> the severity label routes match on.
SEVERITY_LABELS = {0: "unknown", 1: "informational", 2: "low", 3: "medium", 4: "high", 5: "critical", 6: "fatal"}


class DeliveryError(TransientError):
    """A delivery failed but may succeed later (network, 5xx, 429); ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryRejected(TerminalError):
    """The receiver refused the message for good (4xx other than 408/429): dead-letter it."""


@dataclass
class Alert:
    """One finding as routing sees it."""

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, Any] = field(default_factory=dict)
    status: str = "firing"  # or "resolved"
    starts_at: int = 0  # ms
    ends_at: int = 0  # ms, 0 while firing

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (stored in the outbox, sent by the generic webhook)."""
        return {"fingerprint": self.fingerprint, "status": self.status, "labels": self.labels,
                "annotations": self.annotations, "starts_at": self.starts_at, "ends_at": self.ends_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        """Inverse of :meth:`to_dict`."""
        return cls(d["fingerprint"], dict(d["labels"]), dict(d.get("annotations") or {}), d.get("status", "firing"),
                   int(d.get("starts_at") or 0), int(d.get("ends_at") or 0))


@dataclass
class Notification:
    """One alert group sent to one receiver channel."""

    receiver: str
    route: str
    group_key: str
    group_labels: dict[str, str]
    alerts: list[Alert]
    created_ms: int = 0

    @property
    def status(self) -> str:
        """``firing`` while any alert fires, else ``resolved``."""
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[Alert]:
        """The firing alerts."""
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def top_severity(self) -> str:
        """The highest severity label among the alerts (firing first)."""
        order = {v: k for k, v in SEVERITY_LABELS.items()}
        pool = self.firing or self.alerts
        return max((a.labels.get("severity", "unknown") for a in pool), key=lambda s: order.get(s, 0))

    def title(self) -> str:
        """One line: status, count, rule, severity."""
        a = (self.firing or self.alerts)[0]
        rule = a.labels.get("rule") or a.labels.get("title") or "finding"
        n = len(self.firing) if self.status == "firing" else len(self.alerts)
        return f"[{self.status.upper()}:{n}] {rule} ({self.top_severity})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"receiver": self.receiver, "route": self.route, "group_key": self.group_key,
                "group_labels": self.group_labels, "status": self.status, "created_ms": self.created_ms,
                "alerts": [a.to_dict() for a in self.alerts]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Notification:
        """Inverse of :meth:`to_dict`."""
        return cls(d["receiver"], d["route"], d["group_key"], dict(d["group_labels"]),
                   [Alert.from_dict(a) for a in d["alerts"]], int(d.get("created_ms") or 0))


class Channel(Protocol):
    """Sends notifications to one outside system."""

    name: str

    def send(self, notification: Notification) -> None:
        """Deliver or raise DeliveryError / DeliveryRejected."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def resolve_secret(options: dict[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    """The secret named by ``<key>_env`` or ``<key>_file`` (trailing newline stripped).

    A literal ``<key>`` is refused: secrets must not live in config files that get committed.
    """
    env, file = options.get(f"{key}_env"), options.get(f"{key}_file")
    if env:
        val = os.environ.get(env)
        if val:
            return val
        if required:
            msg = f"{path}.{key}_env"
            raise ConfigError(msg, f"environment variable {env} is empty or unset — export it")
        return None
    if file:
        p = Path(file)
        if not p.is_file():
            msg = f"{path}.{key}_file"
            raise ConfigError(msg, f"file not found: {p} — give the path of a file holding the {key}")
        return p.read_text(encoding="utf-8").strip()
    if required:
        raise ConfigError(path, f"give {key}_env (an environment variable) or {key}_file (a secret file)")
    return None


_URLISH = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every secret and every URL replaced, safe to log or store."""
    parts: list[str] = []
    for s in secrets:
        if not s:
            continue
        parts.append(s)
        if "://" in s:  # receivers echo paths and queries back: those carry the secret too
            u = urlsplit(s)
            parts += [p for p in (u.path, u.query, *u.path.split("/")) if len(p) >= 8]
    for p in sorted(set(parts), key=len, reverse=True):
        text = text.replace(p, "[REDACTED]")
    return _URLISH.sub("[URL]", text)


def http_client(tls: dict[str, Any] | None, timeout: float = 10.0) -> httpx.Client:
    """An HTTP client verifying TLS (system CAs, or ``tls.ca_bundle``); ``tls.verify: false`` only if said."""
    tls = tls or {}
    verify: Any = True
    if tls.get("ca_bundle"):
        import ssl

        verify = ssl.create_default_context(cafile=str(tls["ca_bundle"]))
    elif tls.get("verify") is False:
        verify = False
    return httpx.Client(verify=verify, timeout=timeout, follow_redirects=False)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` header (seconds or HTTP date) -> seconds, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import datetime as dt

    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def post_json(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], what: str,
              ok: tuple[int, ...] = (200, 201, 202, 204)) -> httpx.Response:
    """POST and classify the answer: 2xx ok; 408/429/5xx/network transient; other 4xx terminal."""
    try:
        resp = client.post(url, content=body, headers={"content-type": "application/json", **headers})
    except httpx.HTTPError as exc:
        msg = f"{what}: {type(exc).__name__}: {scrub(str(exc), url)}"
        raise DeliveryError(msg) from None
    check_status(resp, what, url, ok)
    return resp


def check_status(resp: httpx.Response, what: str, url: str, ok: tuple[int, ...] = (200, 201, 202, 204)) -> None:
    """Raise the right delivery error for a non-OK HTTP answer (body excerpt scrubbed)."""
    if resp.status_code in ok or 200 <= resp.status_code < 300:
        return
    detail = scrub(resp.text[:200], url)
    if resp.status_code in (408, 425, 429) or resp.status_code >= 500:
        msg = f"{what}: HTTP {resp.status_code} {detail}"
        raise DeliveryError(msg, retry_after_seconds(resp.headers.get("retry-after")))
    msg = f"{what}: HTTP {resp.status_code} {detail} — check the receiver configuration"
    raise DeliveryRejected(msg)
