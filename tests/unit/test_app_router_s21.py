"""The app's router remembers the route each (method, path) went to (server/app.py ``_Router``):
it must hand every request to the route Starlette's own loop picks, with the same path
parameters, asked once or again, and leave what no route takes fully (404, 405) to the loop."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Router

from secpipe.config.models import PipelineConfig
from secpipe.server.app import _Router, create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")


def _fill(path: str) -> list[str]:
    """Concrete paths a route pattern takes (and near misses: trailing slash, one more segment)."""
    one = re.sub(r"\{[^}:]+:path\}", "a/b-c", path)
    one = re.sub(r"\{[^}]+\}", "logs-x.2026", one)
    return [one, one.rstrip("/") + "/" if one != "/" else "/x/", one + "/extra"]


def _paths(app: Any) -> list[str]:
    out = {"/", "/nope", "/_bulk", "/_bulk/", "/x/_bulk", "/x/_bulk/", "/_doc", "/v1/nope", "/services/collector",
           "/services/collector/event/1.0", "/%20odd/_doc/1", "/a/b/c/d", ""}  # fmt: skip
    for r in app.routes:
        out.update(_fill(r.path))
    return sorted(out)


def _recorder(router: Router, seen: list[tuple[Any, ...]]) -> None:
    """Every route's handle (and the 404 default) records what it was given instead of answering."""
    for r in router.routes:
        async def handle(scope: dict[str, Any], _receive: Any, _send: Any, r: Any = r) -> None:
            seen.append((id(r), scope["route"] is r, dict(scope.get("path_params", {})), scope.get("endpoint")))

        r.handle = handle  # type: ignore[method-assign]

    async def default(scope: dict[str, Any], _receive: Any, _send: Any) -> None:
        seen.append(("default", scope["path"]))

    router.default = default  # type: ignore[method-assign]


def _ask(router: Router, method: str, path: str, root: str = "", seen: list[tuple[Any, ...]] | None = None) -> None:
    scope = {"type": "http", "method": method, "path": root + path, "root_path": root, "query_string": b"",
             "headers": []}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:  # a redirect (redirect_slashes) is answered by the router
        if seen is not None:
            seen.append(("sent", message.get("status"), tuple(message.get("headers", ()))))

    asyncio.run(router.app(scope, receive, send))


@pytest.mark.parametrize("root", ["", "/proxy"])
def test_remembered_routes_are_the_loops(data_dir: Path, root: str) -> None:
    ctx = AppContext(service=None, tokens=TokenStore(data_dir), limits=Limits(), extras={"config": PipelineConfig()})
    app = create_app(ctx)
    memo = app.router
    assert isinstance(memo, _Router)
    plain = Router(routes=list(memo.routes))  # the same route objects: handle is patched on them once
    got: list[tuple[Any, ...]] = []
    want: list[tuple[Any, ...]] = []
    asked = 0
    for method in METHODS:
        for path in _paths(app):
            for _ in range(3):  # first time the loop, then the remembered route
                _recorder(plain, want)
                _ask(plain, method, path, root, want)
                _recorder(memo, got)
                _ask(memo, method, path, root, got)
                asked += 1
                assert got[-1] == want[-1], (method, path)
    assert len(got) == len(want) >= asked
    assert memo._first  # something was remembered (every _bulk path, for one)
    assert ("POST", root + "/_bulk", root) in memo._first


def test_remembered_routes_are_bounded(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = AppContext(service=None, tokens=TokenStore(data_dir), limits=Limits(), extras={"config": PipelineConfig()})
    memo = create_app(ctx).router
    assert isinstance(memo, _Router)
    monkeypatch.setattr(_Router, "_KEPT", 8)
    seen: list[tuple[Any, ...]] = []
    _recorder(memo, seen)
    for i in range(50):
        _ask(memo, "POST", f"/index-{i}/_bulk")
        assert seen[-1][2] == {"index": f"index-{i}"}
        assert len(memo._first) <= 8
