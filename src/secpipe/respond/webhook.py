"""Generic webhook channel: the notification as JSON, signed with HMAC-SHA256.

Body: ``{"version": "1", "receiver", "route", "group_key", "group_labels", "status",
"created_ms", "alerts": [{"fingerprint", "status", "labels", "annotations", "starts_at",
"ends_at"}]}``. Headers: ``X-Secpipe-Timestamp`` (unix seconds) and, when a secret is
configured (``secret_env`` / ``secret_file``), ``X-Secpipe-Signature: sha256=<hex>`` =
HMAC-SHA256(secret, timestamp + "." + body) — receivers verify with a constant-time compare
(:func:`verify`) and reject stale timestamps. Custom ``headers`` are sent as given;
``header_envs`` maps header names to environment variables for secret header values.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

import orjson

from secpipe.errors import ConfigError
from secpipe.respond.base import Notification, http_client, post_json, resolve_secret

SIG_HEADER = "X-Secpipe-Signature"
TS_HEADER = "X-Secpipe-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp.body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300.0,
           now: float | None = None) -> bool:
    """Receiver-side check: signature matches (constant time) and the timestamp is fresh."""
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > max_age:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel:
    """POSTs notification JSON to a URL."""

    def __init__(self, receiver: str, options: dict[str, Any], tls: dict[str, Any] | None = None) -> None:
        self.name = f"{receiver}/webhook"
        self.options = options
        self.path = f"receivers.{receiver}.webhook"
        resolve_secret(options, "url", self.path)
        self.headers = {str(k): str(v) for k, v in (options.get("headers") or {}).items()}
        self.header_envs = {str(k): str(v) for k, v in (options.get("header_envs") or {}).items()}
        self.client = http_client(tls, float(options.get("timeout_seconds", 10)))

    def body(self, notification: Notification) -> bytes:
        """The JSON body."""
        return orjson.dumps({"version": "1", **notification.to_dict()})

    def send(self, notification: Notification) -> None:
        """POST the JSON with its signature."""
        url = resolve_secret(self.options, "url", self.path) or ""
        secret = resolve_secret(self.options, "secret", self.path, required=False)
        body = self.body(notification)
        ts = str(int(time.time()))
        headers = dict(self.headers)
        for name, env in self.header_envs.items():
            val = os.environ.get(env)
            if not val:
                msg = f"{self.path}.header_envs.{name}"
                raise ConfigError(msg, f"environment variable {env} is empty or unset")
            headers[name] = val
        headers[TS_HEADER] = ts
        if secret:
            headers[SIG_HEADER] = sign(secret, ts, body)
        post_json(self.client, url, body, headers, self.name)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
