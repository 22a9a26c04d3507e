"""HTTP API of alerting: silences, the outbox (dead letters, replay), playbook approvals.

Routes (every one authenticated; permissions from ``server.policy``):

- ``GET  /v1/alerts`` (findings.read): outbox counts and rows (``?state=dead``).
- ``POST /v1/alerts/{id}/replay`` (silences.write): a dead entry goes back to pending.
- ``GET  /v1/silences`` (findings.read), ``POST /v1/silences`` (silences.write):
  ``{"match": {...}, "match_re": {...}, "duration": "2h" | "ends_ms": ..., "comment": "..."}``,
  ``DELETE /v1/silences/{id}`` (silences.write): expire now.
- ``POST /v1/playbooks/jobs/{id}/approve`` and ``/reject`` (playbooks.run).

Every change (silence created/expired, replay, approval, rejection) is written to the
tamper-evident audit log with the token name as actor before the answer is sent.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe.errors import SecpipeError
from secpipe.respond import admin
from secpipe.respond.outbox import OutboxError
from secpipe.server.http import AppContext, HTTPError, authenticate, json_response, read_body, route
from secpipe.server.workers import in_thread


def routes(ctx: AppContext) -> list[Route]:
    """Alerting routes for the app."""

    def data_dir() -> Any:
        return ctx.service.data_dir

    async def call(fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return await in_thread(fn, data_dir(), *args, **kw)
        except SecpipeError as exc:
            raise HTTPError(404 if isinstance(exc, OutboxError) and str(exc).startswith("no ") else 400, str(exc)) from None

    async def list_alerts(request: Request) -> Response:
        authenticate(ctx, request, "findings.read")
        state = request.query_params.get("state")
        return json_response(await call(admin.outbox_summary, state=state, limit=int(request.query_params.get("limit", 100))))

    async def replay(request: Request) -> Response:
        info = authenticate(ctx, request, "silences.write")
        return json_response(await call(admin.replay, int(request.path_params["id"]), actor=info.name))

    async def list_silences(request: Request) -> Response:
        authenticate(ctx, request, "findings.read")
        return json_response({"silences": await call(admin.list_silences, active=request.query_params.get("active") == "1")})

    async def add_silence(request: Request) -> Response:
        info = authenticate(ctx, request, "silences.write")
        raw = await read_body(request, ctx.limits)  # size (413), time (408) and gzip limits as every route
        try:
            body = orjson.loads(raw)
        except ValueError:
            raise HTTPError(400, 'send JSON {"match": {"rule": "..."}, "duration": "2h", "comment": "why"}') from None
        if not isinstance(body, dict):
            raise HTTPError(400, "the body must be a JSON object")
        return json_response(await call(admin.add_silence, body.get("match") or {}, body.get("match_re") or {},
                                        body.get("duration"), str(body.get("comment") or ""), actor=info.name,
                                        ends_ms=body.get("ends_ms")), 201)

    async def expire_silence(request: Request) -> Response:
        info = authenticate(ctx, request, "silences.write")
        return json_response(await call(admin.expire_silence, request.path_params["id"], actor=info.name))

    async def approve(request: Request) -> Response:
        info = authenticate(ctx, request, "playbooks.run")
        return json_response(await call(admin.decide, int(request.path_params["id"]), True, actor=info.name))

    async def reject(request: Request) -> Response:
        info = authenticate(ctx, request, "playbooks.run")
        return json_response(await call(admin.decide, int(request.path_params["id"]), False, actor=info.name))

    return [
        route("GET", "/v1/alerts", "findings.read", list_alerts),
        route("POST", "/v1/alerts/{id:int}/replay", "silences.write", replay),
        route("GET", "/v1/silences", "findings.read", list_silences),
        route("POST", "/v1/silences", "silences.write", add_silence),
        route("DELETE", "/v1/silences/{id}", "silences.write", expire_silence),
        route("POST", "/v1/playbooks/jobs/{id:int}/approve", "playbooks.run", approve),
        route("POST", "/v1/playbooks/jobs/{id:int}/reject", "playbooks.run", reject),
    ]
