"""Push endpoints of tools that deliver by webhook: Kubernetes audit, Falco, OPA, GitHub,
GitLab, Alertmanager. Each stores the body with one :meth:`Service.accept` call (durable:
WAL fsync) before it answers, under the tool's format.

Routes and how each authenticates (recorded in ``ROUTE_POLICY``); a token route takes
``Authorization: Bearer <token>`` or Basic credentials with the token as password (or as
user, empty password), for senders configured with ``basic_auth`` (Alertmanager's
``http_config.basic_auth``, Prometheus-style clients):
- ``POST /v1/k8s/audit`` (format ``k8s_audit``, EventList): bearer token with ``ingest``
  (the API server's webhook kubeconfig sets ``users[].user.token``).
- ``POST /v1/falco`` (format ``falco``, one alert per POST): bearer token, or ``?token=``
  because Falco's ``http_output`` cannot set headers (``ingest.webhooks.falco_query_token``).
- ``POST /logs`` and ``POST /v1/opa/logs`` (format ``opa``, gzip JSON array): bearer token
  (OPA ``services[].credentials.bearer.token``).
- ``POST /v1/webhooks/alertmanager`` (format ``alertmanager``): bearer token
  (``http_config.authorization`` in the Alertmanager receiver).
- ``POST /v1/webhooks/github`` (format ``github``): policy ``secret``: the
  ``X-Hub-Signature-256`` HMAC-SHA256 of the body under ``ingest.webhooks.github.secret``,
  compared in constant time; a missing or bad signature answers 401 and stores nothing.
  Both hook content types: ``application/json`` and ``application/x-www-form-urlencoded``
  (``payload=<JSON>``; the signature covers the form body as sent).
  Deliveries are deduplicated by ``X-GitHub-Delivery`` (the last N ids in memory; after a
  restart, a redelivered body still collapses in the lake by event identity). The event
  name (``X-GitHub-Event``) reaches the format as ``webhook:github-event=<name>``.
- ``POST /v1/webhooks/gitlab`` (format ``gitlab``): policy ``secret``: ``X-Gitlab-Token``
  compared in constant time with ``ingest.webhooks.gitlab.token``, and/or, for a hook with a
  signing token (``ingest.webhooks.gitlab.signing_token``, ``whsec_...``), its Standard Webhooks
  signature (:func:`standard_signature`: ``webhook-signature`` over ``webhook-id``,
  ``webhook-timestamp`` within 5 minutes, and the body); deduplicated by
  ``Idempotency-Key`` (= ``webhook-id``) when GitLab sends it; source ``webhook:gitlab-event=<X-Gitlab-Event>``.
  GitLab disables a hook that fails four deliveries in a row, so a payload of which nothing
  could be read is answered ``202`` with ``"status": "dead_letter"`` and the reasons once it is
  durable in the dead-letter store (other routes answer such a body 400).
Falco, GitHub and GitLab send one payload a POST and wait for the answer: a payload the format
recognizes is answered once it is durable in the WAL and mapped just after with the others
(:meth:`secpipe.runtime.service.Service.accept_push`); ``accepted`` then counts the records taken,
and one the mapping cannot place is dead-lettered afterwards with its reason (``dead_letter``).
A webhook whose secret is not configured answers 503 naming the key to set. Secrets are
never logged. Body limits, gzip and JSON depth are enforced by
:func:`secpipe.server.wire.read_body_limited`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe.config.ingest import signing_key
from secpipe.server.http import AppContext, HTTPError, authenticate, basic_or_bearer, json_response, route
from secpipe.server.policy import SECRET
from secpipe.server.wire import check_depth, dead_letter, ingest_config, read_body_limited, resolve_format
from secpipe.server.workers import in_thread

R = TypeVar("R")

_EVENT_NAME = re.compile(r"^[A-Za-z0-9_ .:-]{1,64}$")


class Recent:
    """The last ``capacity`` delivery ids stored, and those being stored now.

    A delivery id is remembered only once its delivery was stored. A retry that arrives while
    the first attempt is still being stored (the sender timed out waiting for its answer) waits
    for that attempt: stored, the retry is answered as a duplicate; failed (disk full, a 5xx),
    the retry stores the delivery itself. Answering such a retry at once would acknowledge a
    delivery that the first attempt may yet fail to store, and the sender would not send it
    again. Used from the event loop only (async route handlers), so it needs no lock.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[str, asyncio.Future[None]] = {}

    async def once(self, key: str, store: Callable[[], Awaitable[R]]) -> R | None:
        """``await store()`` unless ``key`` was stored already (then None). An empty ``key``
        (the sender sent no id) is always stored."""
        if not key:
            return await store()
        while (pending := self._pending.get(key)) is not None:
            await asyncio.wait({pending})  # not cancelled with this request: the first goes on
        if key in self._ids:
            return None
        done = asyncio.get_running_loop().create_future()
        self._pending[key] = done
        try:
            result = await store()
            self._ids[key] = None
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return result
        finally:
            del self._pending[key]
            done.set_result(None)


#: formats whose senders POST one payload at a time and wait for the answer: acknowledged once
#: in the WAL and mapped afterwards with the others (:meth:`Service.accept_push`)
PUSHED = frozenset({"falco", "github", "gitlab"})


async def _store(ctx: AppContext, fmt: str, source: str, body: bytes, *, refuse: bool = True) -> Response:
    """Store one body; a body of which nothing could be read is answered 400 with the reasons,
    or, with ``refuse=False``, 202 with the same reasons (it is durable in the dead-letter store
    either way)."""
    accept = ctx.service.accept_push if fmt in PUSHED else ctx.service.accept
    res = await in_thread(accept, fmt, source, body)
    if res.accepted == 0 and res.dead_letter:
        error = f"nothing in the body could be read: {res.reasons[0]}"
        if refuse:
            raise HTTPError(400, error, dead_letter=res.dead_letter, reasons=res.reasons)
        return json_response({"status": "dead_letter", "error": error, "events": res.events, "accepted": 0,
                              "dead_letter": res.dead_letter, "reasons": res.reasons}, 202)  # fmt: skip
    return json_response({"events": res.events, "accepted": res.accepted, "dead_letter": res.dead_letter})


def _form_payload(raw: bytes) -> bytes:
    """The JSON of a GitHub delivery sent as a form: ``payload=<url-encoded JSON>`` (the
    signature covers the form body as sent, checked before this)."""
    try:
        found = urllib.parse.parse_qs(raw.decode("utf-8"), strict_parsing=True).get("payload")
    except (UnicodeDecodeError, ValueError):
        found = None
    if not found:
        raise HTTPError(400, "form-encoded delivery without a payload field — set the hook's content type to JSON")
    return found[0].encode()


#: how far a Standard Webhooks ``webhook-timestamp`` may be from now (the specification's 5 minutes)
SIGNATURE_TOLERANCE_SECONDS = 300


def standard_signature(request: Request, body: bytes, key: bytes, now: float) -> None:
    """Check a Standard Webhooks signature (what GitLab sends for a hook with a signing token):
    ``webhook-signature`` holds one or more space-separated ``v1,<base64>`` entries, each the
    HMAC-SHA256 under ``key`` of ``<webhook-id>.<webhook-timestamp>.<body>``; one must match
    (compared in constant time) and the timestamp (Unix seconds) be within
    :data:`SIGNATURE_TOLERANCE_SECONDS` of ``now`` (a replayed delivery is refused). HTTPError
    401 otherwise."""
    wid = request.headers.get("webhook-id", "")
    stamp = request.headers.get("webhook-timestamp", "")
    sigs = request.headers.get("webhook-signature", "")
    if not wid or not sigs or not stamp.isdigit():
        raise HTTPError(401, "missing webhook-id, webhook-timestamp or webhook-signature — check the webhook signing token")
    if abs(now - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise HTTPError(401, "webhook-timestamp more than 5 minutes from now — a replayed delivery, or a clock off")
    want = base64.b64encode(hmac.new(key, f"{wid}.{stamp}.".encode() + body, hashlib.sha256).digest())
    found = [sig.encode() for v, _, sig in (part.partition(",") for part in sigs.split()) if v == "v1"]
    if not any([hmac.compare_digest(sig, want) for sig in found]):  # (every entry compared)
        raise HTTPError(401, "invalid webhook-signature — check the webhook signing token")


def _event_name(request: Request, header: str) -> str:
    name = request.headers.get(header, "")
    if not _EVENT_NAME.match(name):
        raise HTTPError(400, f"missing or malformed {header} header")
    return name


def routes(ctx: AppContext) -> list[Route]:
    """The webhook routes."""
    conf = ingest_config(ctx).webhooks
    github_seen = Recent(conf.github.max_deliveries_remembered)
    gitlab_seen = Recent(conf.github.max_deliveries_remembered)

    def token_push(fmt: str, kind: str, *, query_token: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def push(request: Request) -> Response:
            token = request.query_params.get("token") if query_token and "authorization" not in request.headers else None
            info = authenticate(ctx, request, "ingest", token=token or basic_or_bearer(request))
            resolve_format(fmt)
            source = f"{kind}:{info.source or info.name}"
            return await _store(ctx, fmt, source, await read_body_limited(ctx, request, source, fmt))

        return push

    async def github(request: Request) -> Response:
        secret = conf.github.secret
        if secret is None:
            raise HTTPError(503, "GitHub webhooks are not configured — set ingest.webhooks.github.secret")
        resolve_format("github")
        raw = await read_body_limited(ctx, request, "webhook:github", "github", json_body=False, dead_letters=False)
        sent = request.headers.get("x-hub-signature-256", "")
        want = "sha256=" + hmac.new(secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sent.encode(), want.encode()):
            raise HTTPError(401, "missing or invalid X-Hub-Signature-256 — check the webhook secret")
        event = _event_name(request, "x-github-event")
        source = f"webhook:github-event={event}"
        try:
            if request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
                raw = _form_payload(raw)  # the hook's "Content type: application/x-www-form-urlencoded"
            check_depth(raw, ctx.limits.max_json_depth, ctx.limits.max_string_bytes)
        except HTTPError as exc:
            await dead_letter(ctx, str(exc), source, raw, "github")
            raise
        delivery = request.headers.get("x-github-delivery", "")
        return await _deduped(github_seen, delivery, "github", source, raw)

    async def gitlab(request: Request) -> Response:
        token, signing = conf.gitlab.token, conf.gitlab.signing_token
        if token is None and signing is None:
            raise HTTPError(503, "GitLab webhooks are not configured — set ingest.webhooks.gitlab.token "
                                 "(or signing_token)")  # fmt: skip
        if token is not None:
            sent = request.headers.get("x-gitlab-token", "")
            if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
                raise HTTPError(401, "missing or invalid X-Gitlab-Token — check the webhook secret token")
        resolve_format("gitlab")
        event = _event_name(request, "x-gitlab-event")
        source = f"webhook:gitlab-event={event}"
        if signing is None:
            body = await read_body_limited(ctx, request, source, "gitlab")
        else:  # the signature covers the body: read it before anything is stored of a stranger's
            body = await read_body_limited(ctx, request, source, "gitlab", json_body=False, dead_letters=token is not None)
            standard_signature(request, body, signing_key(signing) or b"", time.time())
            try:
                check_depth(body, ctx.limits.max_json_depth, ctx.limits.max_string_bytes)
            except HTTPError as exc:
                await dead_letter(ctx, str(exc), source, body, "gitlab")
                raise
        # GitLab disables a hook after 4 failed deliveries in a row (all the later events lost at
        # the sender): a payload nothing could be read from is answered 202 once dead-lettered
        delivery = request.headers.get("idempotency-key") or request.headers.get("webhook-id", "")
        return await _deduped(gitlab_seen, delivery, "gitlab", source, body, refuse=False)

    async def _deduped(seen: Recent, key: str, fmt: str, source: str, body: bytes, *, refuse: bool = True) -> Response:
        answer = await seen.once(key, lambda: _store(ctx, fmt, source, body, refuse=refuse))
        return answer if answer is not None else json_response({"status": "duplicate", "delivery": key})

    return [
        route("POST", "/v1/k8s/audit", "ingest", token_push("k8s_audit", "k8s_audit_webhook")),
        route("POST", "/v1/falco", "ingest", token_push("falco", "falco_http", query_token=conf.falco_query_token)),
        route("POST", "/logs", "ingest", token_push("opa", "opa_decision_logs")),
        route("POST", "/v1/opa/logs", "ingest", token_push("opa", "opa_decision_logs")),
        route("POST", "/v1/webhooks/alertmanager", "ingest", token_push("alertmanager", "alertmanager")),
        route("POST", "/v1/webhooks/github", SECRET, github),
        route("POST", "/v1/webhooks/gitlab", SECRET, gitlab),
    ]

