"""Every error a real ``secpipe up`` answers is JSON, including the router's own 404 (no such
path) and 405 (known path, other method): ``{"error": ...}`` on secpipe's API, Splunk's
``{"text", "code"}`` under ``/services/collector`` and Elasticsearch's error object on the
paths the ES-compatible API owns, so each protocol's client can read it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import Server


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Server:
    with Server(tmp_path_factory.mktemp("ops-http")) as s:
        yield s


def _ask(srv: Server, method: str, path: str) -> httpx.Response:
    r = httpx.request(method, srv.url + path, headers={"Authorization": f"Bearer {srv.admin_token}"}, timeout=10)
    assert r.headers["content-type"].startswith("application/json"), (method, path, r.headers, r.text)
    return r


@pytest.mark.parametrize(("method", "path", "status", "allow"), [
    ("GET", "/v1/no-such-endpoint", 404, None),
    ("POST", "/v1/no-such-endpoint", 404, None),  # not 405 "Allow: PUT" from the ES catch-all
    ("DELETE", "/v1/query", 405, "POST"),
    ("GET", "/v1/ingest/cloudtrail", 405, "POST"),
    ("POST", "/healthz", 405, "GET, HEAD"),
])  # fmt: skip
def test_secpipe_api_errors_are_json(srv: Server, method: str, path: str, status: int, allow: str | None) -> None:
    r = _ask(srv, method, path)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error"} and path in body["error"]
    assert r.headers.get("allow") == allow
    if allow:
        assert f"not allowed on {path} — send {allow}" in body["error"]


def test_hec_paths_answer_in_splunk_shape(srv: Server) -> None:
    r = _ask(srv, "GET", "/services/collector/event")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert set(r.json()) == {"text", "code"} and r.json()["code"] == 405
    r = _ask(srv, "GET", "/services/collector/nope")
    assert r.status_code == 404 and r.json()["code"] == 404 and "/services/collector/nope" in r.json()["text"]


def test_es_paths_answer_in_elasticsearch_shape(srv: Server) -> None:
    r = _ask(srv, "GET", "/my-index/_search")
    assert r.status_code == 405 and r.headers["x-elastic-product"] == "Elasticsearch"
    body = r.json()
    assert body["status"] == 405
    assert body["error"]["reason"] == "Incorrect HTTP method for uri [/my-index/_search] and method [GET], allowed: [PUT]"
    assert body["error"]["root_cause"][0]["reason"] == body["error"]["reason"]
    r = _ask(srv, "DELETE", "/my-index")
    assert r.status_code == 405 and r.json()["status"] == 405 and "allowed: [GET, HEAD]" in r.json()["error"]["reason"]


def test_endpoint_errors_keep_their_shape(srv: Server, tmp_path: Path) -> None:
    r = httpx.post(f"{srv.url}/v1/query", content=b"{}", timeout=10)
    assert r.status_code == 401 and set(r.json()) == {"error"}
    r = httpx.post(f"{srv.url}/services/collector/event", content=b"{}", timeout=10)
    assert r.status_code == 401 and r.json()["code"] == 2
