"""Microsoft Teams channel: an Adaptive Card posted to an incoming webhook (Workflows).

Body (documented Teams webhook shape): ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <AdaptiveCard>}]}``;
the card (schema ``http://adaptivecards.io/schemas/adaptive-card.json``, version 1.4) has a
title ``TextBlock``, a ``FactSet`` (severity, rule, resource, counts ...), the alert lines,
the evidence query and an ``Action.OpenUrl`` to the evidence when a link exists. The URL
comes from ``webhook_url_env`` / ``webhook_url_file``.
"""

from __future__ import annotations

from typing import Any

import orjson

from secpipe.respond._render import clip, evidence, facts, summary
from secpipe.respond.base import Notification, http_client, post_json, resolve_secret

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
_COLOR = {"critical": "Attention", "fatal": "Attention", "high": "Attention", "medium": "Warning"}


def card(n: Notification) -> dict[str, Any]:
    """The Teams message for a notification."""
    link, query = evidence(n)
    color = "Good" if n.status == "resolved" else _COLOR.get(n.top_severity, "Default")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True, "color": color, "text": clip(n.title(), 300)},
        {"type": "FactSet", "facts": [{"title": k, "value": clip(v, 500)} for k, v in facts(n)]},
        {"type": "TextBlock", "wrap": True, "text": clip("\n\n".join(summary(n)), 3000)},
    ]
    if query:
        body.append({"type": "TextBlock", "wrap": True, "isSubtle": True, "fontType": "Monospace",
                     "text": clip(f"Evidence query: {query}", 2000)})
    content: dict[str, Any] = {"$schema": CARD_SCHEMA, "type": "AdaptiveCard", "version": "1.4", "body": body}
    if link:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Open evidence", "url": link}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}]}


class TeamsChannel:
    """Posts Adaptive Cards to a Teams incoming webhook."""

    def __init__(self, receiver: str, options: dict[str, Any], tls: dict[str, Any] | None = None) -> None:
        self.name = f"{receiver}/teams"
        self.options = options
        self.path = f"receivers.{receiver}.teams"
        resolve_secret(options, "webhook_url", self.path)
        self.client = http_client(tls, float(options.get("timeout_seconds", 10)))

    def send(self, notification: Notification) -> None:
        """POST the card (Teams answers 200 or 202)."""
        url = resolve_secret(self.options, "webhook_url", self.path) or ""
        post_json(self.client, url, orjson.dumps(card(notification)), {}, self.name)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
