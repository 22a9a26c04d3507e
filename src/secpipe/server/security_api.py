"""HTTP routes of the security surfaces: audit log, reveal, tokens, users, retention, config.

``GET /v1/audit`` and ``GET /v1/audit/verify`` (audit.read); ``POST /v1/reveal`` (reveal,
audited, needs a ``reason``); ``GET|POST /v1/tokens``, ``DELETE /v1/tokens/{token_id}``,
``GET|POST /v1/users`` (tokens.manage; a new token is in the answer once); ``GET
/v1/retention`` (policy + dry run) and ``POST /v1/retention/apply`` (retention.manage);
``GET /v1/config`` (config.read; values of secret-looking keys are redacted). Blocking work
runs in a worker thread; every change is audited by the store it goes through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe.errors import ConfigError, SecpipeError
from secpipe.security import audit
from secpipe.security.keys import load_keyring
from secpipe.security.users import UserStore
from secpipe.server.http import AppContext, HTTPError, authenticate, json_response, read_body, route
from secpipe.server.workers import in_thread
from secpipe.store import retention


async def _json(request: Request, ctx: AppContext) -> dict[str, Any]:
    try:
        obj = orjson.loads(await read_body(request, ctx.limits))
    except orjson.JSONDecodeError:
        raise HTTPError(400, "send a JSON object") from None
    if not isinstance(obj, dict):
        raise HTTPError(400, "send a JSON object")
    return obj


def _tokenize_keys(ctx: AppContext) -> tuple[str, str | None]:
    cfg = ctx.extras.get("config")
    for raw in (getattr(cfg, "transforms", None) or {}).values():
        if isinstance(raw, dict) and raw.get("type") == "tokenize":
            return raw.get("key_env", "SECPIPE_TOKENIZE_KEY"), raw.get("key_file")
    return "SECPIPE_TOKENIZE_KEY", None


def routes(ctx: AppContext) -> list[Route]:
    """The security routes."""
    service_dir = getattr(ctx.service, "data_dir", None)

    def data_dir() -> Path:
        if service_dir is None:
            msg = "the security API needs a service with a data directory (ctx.service.data_dir is unset)"
            raise RuntimeError(msg)
        return service_dir

    async def audit_list(request: Request) -> Response:
        authenticate(ctx, request, "audit.read")
        action = request.query_params.get("action")
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            raise HTTPError(400, "limit must be an integer") from None
        entries = await in_thread(lambda: [e for e in audit.AuditLog(data_dir(), from_env=False).entries()
                                                   if action is None or str(e.get("action", "")).startswith(action)])
        return json_response({"entries": entries[-limit:] if limit > 0 else entries})

    async def audit_verify(request: Request) -> Response:
        authenticate(ctx, request, "audit.read")
        res = await in_thread(audit.verify, data_dir())
        return json_response({"ok": res.ok, "entries": res.entries, "problems": res.problems})

    async def reveal(request: Request) -> Response:
        info = authenticate(ctx, request, "reveal")
        body = await _json(request, ctx)
        token, reason = body.get("token"), body.get("reason")
        if not isinstance(token, str) or not isinstance(reason, str) or not reason.strip():
            raise HTTPError(400, 'send {"token": "tokr:...", "reason": "why you need the value"}')
        from secpipe.transforms.protect.tokenize import reveal as do_reveal

        try:
            ring = load_keyring(*_tokenize_keys(ctx), "tokenize")
            value = do_reveal(token, ring)
        except (ConfigError, SecpipeError) as exc:
            await in_thread(audit.record, data_dir(), info.name, "reveal", subject=token, reason=reason,
                                    error=str(exc)[:200])
            raise HTTPError(400, str(exc)) from None
        await in_thread(audit.record, data_dir(), info.name, "reveal", subject=token, reason=reason, via="api")
        return json_response({"value": value})

    async def tokens_list(request: Request) -> Response:
        authenticate(ctx, request, "tokens.manage")
        toks = ctx.tokens.list()
        return json_response({"tokens": [{"id": t.id, "name": t.name, "role": t.role, "source": t.source,
                                          "created": t.created} for t in toks]})

    async def tokens_create(request: Request) -> Response:
        info = authenticate(ctx, request, "tokens.manage")
        body = await _json(request, ctx)
        store = UserStore(data_dir())
        try:
            tok = await in_thread(lambda: store.create_token(
                user=body.get("user"), name=body.get("name"), role=body.get("role"), source=body.get("source"),
                actor=info.name))
        except SecpipeError as exc:
            raise HTTPError(400, str(exc)) from None
        return json_response({"token": tok, "note": "shown only now"}, status=201)

    async def tokens_revoke(request: Request) -> Response:
        info = authenticate(ctx, request, "tokens.manage")
        tid = request.path_params["token_id"]
        if not await in_thread(UserStore(data_dir()).revoke_token, tid, info.name):
            raise HTTPError(404, f"no token {tid}")
        return json_response({"revoked": tid})

    async def users_list(request: Request) -> Response:
        authenticate(ctx, request, "tokens.manage")
        return json_response({"users": UserStore(data_dir()).list()})

    async def users_add(request: Request) -> Response:
        info = authenticate(ctx, request, "tokens.manage")
        body = await _json(request, ctx)
        try:
            user = await in_thread(UserStore(data_dir()).add, str(body.get("name", "")), str(body.get("role", "")),
                                           info.name)
        except SecpipeError as exc:
            raise HTTPError(400, str(exc)) from None
        return json_response(user, status=201)

    def _policy() -> retention.RetentionPolicy:
        cfg = ctx.extras.get("config")
        return retention.load_policy(data_dir(), getattr(cfg, "security", None) or {})

    async def retention_show(request: Request) -> Response:
        info = authenticate(ctx, request, "retention.manage")
        pol = _policy()
        res = await in_thread(lambda: retention.apply(data_dir(), pol, dry_run=True, actor=info.name))
        return json_response({"policy": pol.model_dump(), "plan": res.summary()})

    async def retention_apply(request: Request) -> Response:
        info = authenticate(ctx, request, "retention.manage")
        pol = _policy()
        res = await in_thread(lambda: retention.apply(data_dir(), pol, actor=info.name))
        return json_response(res.summary())

    async def config_show(request: Request) -> Response:
        authenticate(ctx, request, "config.read")
        cfg = ctx.extras.get("config")
        dump = cfg.model_dump(mode="json") if cfg is not None else {}
        return json_response({"config": audit.scrub(dump)})

    return [
        route("GET", "/v1/audit", "audit.read", audit_list),
        route("GET", "/v1/audit/verify", "audit.read", audit_verify),
        route("POST", "/v1/reveal", "reveal", reveal),
        route("GET", "/v1/tokens", "tokens.manage", tokens_list),
        route("POST", "/v1/tokens", "tokens.manage", tokens_create),
        route("DELETE", "/v1/tokens/{token_id}", "tokens.manage", tokens_revoke),
        route("GET", "/v1/users", "tokens.manage", users_list),
        route("POST", "/v1/users", "tokens.manage", users_add),
        route("GET", "/v1/retention", "retention.manage", retention_show),
        route("POST", "/v1/retention/apply", "retention.manage", retention_apply),
        route("GET", "/v1/config", "config.read", config_show),
    ]
