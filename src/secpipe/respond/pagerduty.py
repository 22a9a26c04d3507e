"""PagerDuty Events API v2 channel: trigger, acknowledge and resolve alert groups.

One PagerDuty alert per secpipe alert group: ``dedup_key`` is a stable hash of the route and
the group key, so every notification of a group (new alerts, repeats, resolve) lands on the
same PagerDuty alert. Body (documented Events v2 shape): ``routing_key``, ``event_action``
(``trigger`` / ``acknowledge`` / ``resolve``), ``dedup_key``, and for ``trigger`` a
``payload`` with ``summary`` (<= 1024 chars), ``source``, ``severity`` (critical, error,
warning, info), ``timestamp`` (ISO 8601), ``component``, ``group``, ``class`` and
``custom_details``, plus ``client`` and ``links``. Severity mapping: critical/fatal ->
critical, high -> error, medium -> warning, anything lower -> info. The routing key comes
from ``routing_key_env`` / ``routing_key_file``; ``url`` defaults to the public endpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson

from secpipe.respond._render import clip, evidence, facts, summary
from secpipe.respond.base import Notification, http_client, post_json, resolve_secret

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITY = {"fatal": "critical", "critical": "critical", "high": "error", "medium": "warning"}


def dedup_key(n: Notification) -> str:
    """Stable per alert group (route + group labels)."""
    return hashlib.sha256(f"{n.route}\0{n.group_key}".encode()).hexdigest()[:40]


def event(n: Notification, routing_key: str, action: str | None = None) -> dict[str, Any]:
    """The Events v2 body for a notification (``action`` overrides trigger/resolve)."""
    action = action or ("trigger" if n.status == "firing" else "resolve")
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key(n)}
    if action != "trigger":
        return body
    a = n.firing[0] if n.firing else n.alerts[0]
    lab = a.labels
    ts = dt.datetime.fromtimestamp((a.starts_at or n.created_ms) / 1000, dt.UTC).isoformat().replace("+00:00", "Z")
    details: dict[str, Any] = dict(facts(n))
    details["alerts"] = summary(n, 20)
    link, query = evidence(n)
    if query:
        details["evidence_query"] = query
    body["payload"] = {
        "summary": clip(n.title() + (f": {a.annotations.get('summary')}" if a.annotations.get("summary") else ""), 1024),
        "source": lab.get("resource") or lab.get("image") or lab.get("repository") or lab.get("product") or "secpipe",
        "severity": SEVERITY.get(n.top_severity, "info"),
        "timestamp": ts,
        "component": lab.get("resource_type") or lab.get("class", ""),
        "group": lab.get("repository") or lab.get("account") or lab.get("cluster") or lab.get("product", ""),
        "class": lab.get("rule") or lab.get("class", ""),
        "custom_details": details,
    }
    body["client"] = "secpipe"
    if link:
        body["links"] = [{"href": link, "text": "Evidence"}]
    return body


class PagerDutyChannel:
    """Sends Events API v2 events."""

    def __init__(self, receiver: str, options: dict[str, Any], tls: dict[str, Any] | None = None) -> None:
        self.name = f"{receiver}/pagerduty"
        self.options = options
        self.path = f"receivers.{receiver}.pagerduty"
        self.url = str(options.get("url") or DEFAULT_URL)
        resolve_secret(options, "routing_key", self.path)
        self.client = http_client(tls, float(options.get("timeout_seconds", 10)))

    def send(self, notification: Notification, action: str | None = None) -> None:
        """POST one event; 202 is success."""
        key = resolve_secret(self.options, "routing_key", self.path) or ""
        post_json(self.client, self.url, orjson.dumps(event(notification, key, action)), {}, self.name, ok=(202, 200))

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
