"""The ASGI app: core routes plus every protocol module's routes.

Core routes: ``GET /healthz`` (public), ``POST /v1/ingest/{format}`` (ingest),
``POST /v1/query`` (query). Protocol modules (Elasticsearch _bulk, Splunk HEC, webhooks...)
add theirs through :data:`ROUTERS`: each is ``f(ctx) -> list[Route]`` built with
:func:`secpipe.server.http.route`, so every route has a recorded policy. A request no route
takes (404, or 405 with ``Allow``) is answered in JSON in the shape its client reads: Splunk's
``{"text", "code"}`` under ``/services/collector``, Elasticsearch's error object on the paths
the ES API owns (everything but ``/v1/...`` and secpipe's own routes, as ES's ``/{index}`` does),
``{"error": ...}`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

from secpipe import formats
from secpipe.errors import LimitExceeded, UnknownFormatError
from secpipe.formats.base import DeadLetter
from secpipe.respond import api as respond_api
from secpipe.security.crypto import CryptoError
from secpipe.security.limits import check_json_limits
from secpipe.server import es_bulk, firehose, hec, metrics, otlp, security_api, webhooks
from secpipe.server.http import (
    AppContext,
    HTTPError,
    authenticate,
    json_response,
    read_body,
    route,
    unrouted_message,
)
from secpipe.server.policy import ROUTE_POLICY, allowed
from secpipe.server.shipped import accept_wrapped
from secpipe.server.wire import read_body_limited
from secpipe.server.workers import in_thread

#: extra route builders, registered by protocol modules.
ROUTERS: list[Callable[[AppContext], list[Route]]] = [es_bulk.routes, hec.routes, webhooks.routes, firehose.routes, otlp.routes,
                                                      respond_api.routes, security_api.routes, metrics.routes]


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
        source = f"http:{info.source or info.name}:{name}"
        # size, gzip, time (408), depth and string-length limits; every refusal is dead-lettered
        body = await read_body_limited(ctx, request, source, name, json_body=False)
        if body[:1] in (b"{", b"[") or body.lstrip()[:1] in (b"{", b"["):
            try:
                check_json_limits(body, ctx.limits.max_json_depth, ctx.limits.max_string_bytes)
            except LimitExceeded as exc:
                await in_thread(ctx.service.dead_letter, [DeadLetter(str(exc), source, 0, body, name)])
                raise HTTPError(413 if "string" in exc.what else 400, str(exc)) from None
        wrapped = await in_thread(accept_wrapped, ctx, source, name, body)
        if wrapped is not None:  # records a shipper's HTTP output wraps read lines in
            events, why = wrapped
            refused = [r for r in why if r is not None]
            accepted, dead, reasons = events - len(refused), len(refused), refused[:5]
        else:
            res = await in_thread(ctx.service.accept, name, source, body, sender=True)
            events, accepted, dead, reasons = res.events, res.accepted, res.dead_letter, res.reasons
        if accepted == 0 and dead:
            raise HTTPError(400, f"nothing in the body could be read: {reasons[0]}", dead_letter=dead, reasons=reasons)
        return json_response({"events": events, "accepted": accepted, "dead_letter": dead, "reasons": reasons})

    async def query(request: Request) -> Response:
        info = authenticate(ctx, request, "query")
        from secpipe.security import audit
        from secpipe.store.query import QueryError, plain, run

        try:
            payload = orjson.loads(await read_body(request, ctx.limits))
            sql = payload["sql"]
            if not isinstance(sql, str):
                raise TypeError(sql)
        except (ValueError, KeyError, TypeError):
            raise HTTPError(400, 'send JSON {"sql": "SELECT ..."}') from None
        restricted = not allowed(info.role, "query.sensitive")
        try:
            cols, rows = await in_thread(run, ctx.service.data_dir, sql, restricted=restricted, sandbox=True)
        except (QueryError, CryptoError) as exc:
            await in_thread(audit.record, ctx.service.data_dir, info.name, "query", sql=sql, error=str(exc)[:200])
            raise HTTPError(400, str(exc)) from None
        await in_thread(audit.record, ctx.service.data_dir, info.name, "query", sql=sql, rows=len(rows),
                                role=info.role, masked=restricted)
        return json_response({"columns": cols, "rows": [[plain(v) for v in r] for r in rows]})

    return [
        route("GET", "/healthz", "public", healthz),
        route("POST", "/v1/ingest/{format}", "ingest", ingest),
        route("PUT", "/v1/ingest/{format}", "ingest", ingest),  # Fluent Bit's http output: http_method PUT
        route("POST", "/v1/query", "query", query),
    ]


def create_app(ctx: AppContext) -> Starlette:
    """Build the app; refuses to start if a route has no policy entry."""
    routes = core_routes(ctx)
    own = list(routes)  # secpipe's routes (not a wire protocol's): their 404/405 are {"error"}
    for builder in ROUTERS:
        built = builder(ctx)
        routes.extend(built)
        if builder not in (es_bulk.routes, hec.routes):
            own.extend(built)
    # routes that match any name (``catch_all``, e.g. the ES index-level ``/{index}``) go last,
    # so they never shadow a route of a later router
    routes.sort(key=lambda r: bool(getattr(r, "catch_all", False)))
    for r in routes:
        for m in r.methods or []:
            if m != "HEAD" and (m, r.path) not in ROUTE_POLICY:
                msg = f"route {m} {r.path} has no entry in secpipe.server.policy.ROUTE_POLICY"
                raise RuntimeError(msg)
    specific = [r for r in routes if not getattr(r, "catch_all", False)]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _unrouted(own, specific)})
    app.router = _Router(routes)  # as Starlette's (no lifespan handlers given), with the matches remembered
    app.state.ctx = ctx
    return app


class _Router(Router):
    """Starlette's router, which remembers the route each HTTP method and path went to.

    Starlette tries the routes in order until one matches fully: ~20 regex matches before a
    ``POST /_bulk`` (~25 us of a request). A match depends only on the method and the path (and
    the root path), so the first route that took them takes them again: it is matched alone
    (for its path parameters) and handled as the loop would. What no route takes fully (404,
    405) goes through the loop every time.
    """

    _KEPT = 4096  # (method, path) pairs remembered; a path names an index, so there are few

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__(routes=routes)
        self._first: dict[tuple[str, str, str], BaseRoute] = {}

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Router.app with the first full match of a (method, path) remembered."""
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        key = (scope["method"], scope["path"], scope.get("root_path", ""))
        route = self._first.get(key)
        if route is None:
            route = next((r for r in self.routes if r.matches(scope)[0] is Match.FULL), None)
            if route is None:
                await super().app(scope, receive, send)  # a 404 or 405
                return
            if len(self._first) >= self._KEPT:
                self._first.clear()
            self._first[key] = route
        _match, child_scope = route.matches(scope)  # FULL: it took this method and path before
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)


def _unrouted(own: list[Route], specific: list[Route]) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The answer to what no route takes (Starlette's 404/405), in the owning protocol's shape.

    ``own``: secpipe's routes; ``specific``: every route but the ES index-level catch-alls, which
    match any path (so Starlette answers 405 "Allow: PUT" for any unknown path): outside the ES
    namespace an unknown path is a 404.
    """

    async def answer(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status, headers = exc.status_code, dict(exc.headers or {})
        if "Allow" in headers:  # Starlette joins a set: one order every time
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        msg = unrouted_message(request, status, headers.get("Allow")) if status in (404, 405) else str(exc.detail)
        path = request.url.path
        hec_path = path == "/services/collector" or path.startswith("/services/collector/")
        es_path = not hec_path and not path.startswith("/v1/") and not any(r.path_regex.match(path) for r in own)
        if status == 405 and not es_path and not any(r.path_regex.match(path) for r in specific):
            status = 404  # only an ES catch-all took the path
            headers.pop("Allow", None)
            msg = unrouted_message(request, status, None)
        if hec_path:
            return json_response({"text": msg, "code": status}, status, headers)
        if es_path:
            if status == 405:  # Elasticsearch's own wording, which its clients log
                msg = f"Incorrect HTTP method for uri [{path}] and method [{request.method}], allowed: [{headers.get('Allow', '')}]"
            elif status == 404:
                msg = f"no handler found for uri [{path}] and method [{request.method}]"
            resp = es_bulk.es_response(es_bulk.es_error(status, msg), status, request)
            resp.headers.update(headers)
            return resp
        return json_response({"error": msg}, status, headers)

    return answer

