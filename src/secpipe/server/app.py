"""The ASGI app: core routes plus every protocol module's routes.

Core routes: ``GET /healthz`` (public), ``POST /v1/ingest/{format}`` (ingest),
``POST /v1/query`` (query). Protocol modules (Elasticsearch _bulk, Splunk HEC, webhooks...)
add theirs through :data:`ROUTERS`: each is ``f(ctx) -> list[Route]`` built with
:func:`secpipe.server.http.route`, so every route has a recorded policy.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe import formats
from secpipe.errors import UnknownFormatError
from secpipe.formats.base import DeadLetter
from secpipe.respond import api as respond_api
from secpipe.server import es_bulk, hec, webhooks
from secpipe.server.http import AppContext, HTTPError, authenticate, inflate, json_response, read_raw, route
from secpipe.server.policy import ROUTE_POLICY

#: extra route builders, registered by protocol modules.
ROUTERS: list[Callable[[AppContext], list[Route]]] = [es_bulk.routes, hec.routes, webhooks.routes, respond_api.routes]


def core_routes(ctx: AppContext) -> list[Route]:
    """Health, generic ingest and query."""

    async def healthz(_request: Request) -> Response:
        return json_response({"status": "ok"})

    async def ingest(request: Request) -> Response:
        info = authenticate(ctx, request, "ingest")
        name = request.path_params["format"]
        if name != "auto":
            try:
                formats.get(name)
            except UnknownFormatError as exc:
                raise HTTPError(404, str(exc)) from None
        source = f"http:{info.name}:{name}"
        raw = await read_raw(request, ctx.limits)
        try:
            body = inflate(request, raw, ctx.limits)
        except HTTPError as exc:
            if exc.status == 400:  # unreadable (e.g. truncated gzip): keep what we got
                await run_in_threadpool(ctx.service.dead_letter, [DeadLetter(str(exc), source, 0, raw, name)])
            raise
        res = await run_in_threadpool(ctx.service.accept, name, source, body)
        if res.accepted == 0 and res.dead_letter:
            raise HTTPError(400, f"nothing in the body could be read: {res.reasons[0]}", dead_letter=res.dead_letter,
                            reasons=res.reasons)
        return json_response({"events": res.events, "accepted": res.accepted, "dead_letter": res.dead_letter,
                              "reasons": res.reasons})

    async def query(request: Request) -> Response:
        authenticate(ctx, request, "query")
        from secpipe.store.query import QueryError, run

        try:
            payload = await request.json()
            sql = payload["sql"]
        except (ValueError, KeyError, TypeError):
            raise HTTPError(400, 'send JSON {"sql": "SELECT ..."}') from None
        try:
            cols, rows = await run_in_threadpool(run, ctx.service.data_dir, sql)
        except QueryError as exc:
            raise HTTPError(400, str(exc)) from None
        from secpipe.cli.query import _plain

        return json_response({"columns": cols, "rows": [[_plain(v) for v in r] for r in rows]})

    return [
        route("GET", "/healthz", "public", healthz),
        route("POST", "/v1/ingest/{format}", "ingest", ingest),
        route("POST", "/v1/query", "query", query),
    ]


def create_app(ctx: AppContext) -> Starlette:
    """Build the app; refuses to start if a route has no policy entry."""
    routes = core_routes(ctx)
    for builder in ROUTERS:
        routes.extend(builder(ctx))
    for r in routes:
        for m in r.methods or []:
            if m != "HEAD" and (m, r.path) not in ROUTE_POLICY:
                msg = f"route {m} {r.path} has no entry in secpipe.server.policy.ROUTE_POLICY"
                raise RuntimeError(msg)
    app = Starlette(routes=routes)
    app.state.ctx = ctx
    return app

