"""Slack incoming webhook channel: one Block Kit message per notification.

Payload (documented shape of ``chat.postMessage``-style incoming webhooks): ``text`` (the
fallback shown in notifications) and ``blocks``: a ``header`` (title, <= 150 chars), a
``section`` with ``fields`` (severity, rule, resource, counts ...; <= 10 fields), a
``section`` with the alert lines, a ``context`` with the evidence query, and an ``actions``
button linking to the evidence when a link exists. The webhook URL comes from
``webhook_url_env`` / ``webhook_url_file`` and is never logged. Slack answers 200 ``ok``;
429 carries ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

import orjson

from secpipe.respond._render import clip, evidence, facts, summary
from secpipe.respond.base import Notification, http_client, post_json, resolve_secret


def blocks(n: Notification) -> dict[str, Any]:
    """The Slack message for a notification."""
    link, query = evidence(n)
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(n.title(), 150), "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": clip(f"*{k}:*\n{v}", 2000)} for k, v in facts(n)[:10]]},
        {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(summary(n)), 3000)}},
    ]
    if query:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(f"Evidence query: `{query}`", 3000)}]})
    if link:
        out.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open evidence"}, "url": clip(link, 3000)}]})
    return {"text": clip(n.title(), 3000), "blocks": out}


class SlackChannel:
    """Posts Block Kit messages to a Slack incoming webhook."""

    def __init__(self, receiver: str, options: dict[str, Any], tls: dict[str, Any] | None = None) -> None:
        self.name = f"{receiver}/slack"
        self.options = options
        self.path = f"receivers.{receiver}.slack"
        resolve_secret(options, "webhook_url", self.path)  # fail at start-up, not at first alert
        self.client = http_client(tls, float(options.get("timeout_seconds", 10)))

    def send(self, notification: Notification) -> None:
        """POST the message; raises DeliveryError / DeliveryRejected."""
        url = resolve_secret(self.options, "webhook_url", self.path) or ""
        post_json(self.client, url, orjson.dumps(blocks(notification)), {}, self.name)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
