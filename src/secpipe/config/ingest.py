"""Config of the wire-compatible ingest endpoints (the ``ingest:`` section).

Shape::

    ingest:
      elasticsearch:
        version: "8.19.0"                        # what GET / reports: Beats/Logstash refuse an older ES
        index_formats: {"cloudtrail-*": cloudtrail, "k8s-audit": k8s_audit}
      hec:
        sourcetype_formats: {"my:audit": k8s_audit}   # added to the built-in map
      webhooks:
        github: {secret: "${GITHUB_WEBHOOK_SECRET}"}  # X-Hub-Signature-256 HMAC key
        gitlab: {token: "${GITLAB_WEBHOOK_TOKEN}"}    # expected X-Gitlab-Token; and/or signing_token: whsec_...

Secrets are ``SecretStr``: they never appear in a repr, a log line or an error message.
A webhook whose secret is not configured answers 503 and says which key to set.
Index names may be ``fnmatch`` patterns; the first matching entry wins; an index with no
entry gets per-document auto-detection (``json`` catches what nothing else recognizes).
"""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_formats(mapping: dict[str, str]) -> dict[str, str]:
    from secpipe import formats  # lazy: formats import the schema, config must stay light

    bad = sorted({f for f in mapping.values() if f not in formats.REGISTRY})
    if bad:
        msg = f"unknown format(s) {', '.join(map(repr, bad))} — one of: {', '.join(sorted(formats.REGISTRY))}"
        raise ValueError(msg)
    return mapping


class ElasticsearchIngest(_Strict):
    """The Elasticsearch-compatible API (``/_bulk`` and the probes shippers send)."""

    enabled: bool = True
    version: str = "8.19.0"
    cluster_name: str = "secpipe"
    index_formats: dict[str, str] = Field(default_factory=dict)

    _check_formats = field_validator("index_formats")(_known_formats)


class HecIngest(_Strict):
    """The Splunk HTTP Event Collector API."""

    enabled: bool = True
    sourcetype_formats: dict[str, str] = Field(default_factory=dict)
    # Splunk's allowQueryStringAuth: the token may come as ``?token=`` (senders that cannot set
    # headers). Off by default, as in Splunk: a token in a URL ends up in proxy and shell logs.
    # Off answers Splunk's code 16.
    allow_query_string_auth: bool = False

    _check_formats = field_validator("sourcetype_formats")(_known_formats)


class GithubWebhook(_Strict):
    """GitHub webhooks: HMAC-SHA256 secret shared with the GitHub hook settings."""

    secret: SecretStr | None = None
    max_deliveries_remembered: int = Field(100_000, gt=0)


class GitlabWebhook(_Strict):
    """GitLab webhooks: the secret token set on the GitLab hook (sent as ``X-Gitlab-Token``), and
    or instead its signing token (``whsec_<base64 of 32 bytes>``: the HMAC key of the Standard
    Webhooks ``webhook-signature`` GitLab sends with it)."""

    token: SecretStr | None = None
    signing_token: SecretStr | None = None

    @field_validator("signing_token")
    @classmethod
    def _whsec(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and signing_key(v) is None:
            msg = "not a signing token: give the hook's whsec_<base64> value as GitLab shows it"
            raise ValueError(msg)
        return v


def signing_key(token: SecretStr) -> bytes | None:
    """The HMAC key of a Standard Webhooks signing token (``whsec_`` and the key in base64), None
    when it is none."""
    text = token.get_secret_value()
    if not text.startswith("whsec_"):
        return None
    try:
        key = base64.b64decode(text.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        return None
    return key or None


class WebhooksIngest(_Strict):
    """Push endpoints of tools that cannot always send a secpipe token."""

    github: GithubWebhook = Field(default_factory=GithubWebhook)
    gitlab: GitlabWebhook = Field(default_factory=GitlabWebhook)
    falco_query_token: bool = True  # Falco http_output cannot set headers: allow ?token=


class IngestConfig(_Strict):
    """Every wire-compatible ingest endpoint."""

    elasticsearch: ElasticsearchIngest = Field(default_factory=ElasticsearchIngest)
    hec: HecIngest = Field(default_factory=HecIngest)
    webhooks: WebhooksIngest = Field(default_factory=WebhooksIngest)
