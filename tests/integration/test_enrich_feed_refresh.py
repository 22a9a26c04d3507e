"""Feed refresh over a real HTTP server on 127.0.0.1: 200, 304 (ETag / If-Modified-Since),
an error status, a corrupt body, recovery, and a restart from the on-disk cached copy."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from secpipe.transforms.enrich.intel.feeds import IntelStore
from secpipe.transforms.enrich.options import FeedOptions


class FeedServer:
    """Serves one body with an ETag; ``mode`` switches to error / corrupt responses."""

    def __init__(self) -> None:
        self.body = b""
        self.etag = '"v1"'
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append({"path": self.path, "if_none_match": self.headers.get("If-None-Match"),
                                       "if_modified_since": self.headers.get("If-Modified-Since")})
                if outer.mode == "error":
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"maintenance")
                    return
                if outer.mode == "ok" and self.headers.get("If-None-Match") == outer.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                body = outer.body if outer.mode == "ok" else b'{"type": "bundle", "objects": [{"type": "indic'
                self.send_response(200)
                self.send_header("ETag", outer.etag)
                self.send_header("Last-Modified", "Sat, 28 Nov 2026 10:00:00 GMT")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    s = FeedServer()
    yield s
    s.close()


def _bundle(*ips: str) -> bytes:
    objs = [{"type": "indicator", "id": f"indicator--{i}", "pattern": f"[ipv4-addr:value = '{ip}']", "pattern_type": "stix"}
            for i, ip in enumerate(ips)]
    return json.dumps({"type": "bundle", "objects": objs}).encode()


def _values(store: IntelStore) -> set[str]:
    return set(store.index.table.column("value").to_pylist())


def test_refresh_lifecycle(server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    opts = FeedOptions(name="remote", url=server.url, format="stix", refresh=60)
    store = IntelStore([opts], [], state_dir=tmp_path / "state", clock=lambda: now[0])
    server.body = _bundle("198.51.100.1", "198.51.100.2")

    assert store.refresh() is True  # 200
    assert _values(store) == {"198.51.100.1", "198.51.100.2"}
    assert server.requests[-1]["if_none_match"] is None

    assert store.refresh() is False  # not due yet: no request
    assert len(server.requests) == 1

    now[0] += 61
    assert store.refresh() is False  # 304 Not Modified
    assert server.requests[-1]["if_none_match"] == '"v1"'
    assert server.requests[-1]["if_modified_since"] == "Sat, 28 Nov 2026 10:00:00 GMT"
    st = store.status()[0]
    assert st["not_modified"] == 1 and st["error"] is None and st["indicators"] == 2

    now[0] += 61
    server.mode = "error"
    with caplog.at_level("WARNING", logger="secpipe.enrich.intel"):
        assert store.refresh() is False  # 503: keep the last good copy
    st = store.status()[0]
    assert "HTTP 503" in st["error"] and st["indicators"] == 2
    assert _values(store) == {"198.51.100.1", "198.51.100.2"}
    assert "keeping the last good copy" in caplog.text

    now[0] += 61
    server.mode = "corrupt"
    assert store.refresh() is False  # 200 with a truncated body: keep the last good copy
    st = store.status()[0]
    assert "not valid JSON" in st["error"]
    assert _values(store) == {"198.51.100.1", "198.51.100.2"}

    now[0] += 61
    server.mode, server.etag, server.body = "ok", '"v2"', _bundle("203.0.113.9")
    assert store.refresh() is True  # recovered with new content
    assert _values(store) == {"203.0.113.9"}
    assert store.status()[0]["error"] is None
    status_file = json.loads((tmp_path / "state/status.json").read_text())
    assert status_file["feeds"][0]["indicators"] == 1

    # Restart while the server is down: the feed starts from the cached copy and says so.
    server.mode = "error"
    again = IntelStore([opts], [], state_dir=tmp_path / "state", clock=lambda: now[0])
    again.refresh(force=True)
    st = again.status()[0]
    assert st["from_cache"] is True and "HTTP 503" in st["error"]
    assert _values(again) == {"203.0.113.9"}


def test_file_feed_rereads_only_on_change(tmp_path: Path) -> None:
    p = tmp_path / "list.txt"
    p.write_text("1.2.3.4\n")
    now = [0.0]
    store = IntelStore([FeedOptions(name="f", path=str(p), refresh=1)], [], clock=lambda: now[0])
    assert store.refresh() is True
    now[0] += 2
    assert store.refresh() is False
    p.write_text("1.2.3.4\n5.6.7.8\n")
    now[0] += 2
    assert store.refresh() is True
    assert _values(store) == {"1.2.3.4", "5.6.7.8"}
    p.write_text('{"type": "bundle", "objects": [')  # broken edit: keep the last good copy
    now[0] += 2
    store.refresh()
    assert _values(store) == {"1.2.3.4", "5.6.7.8"} and store.status()[0]["error"]


def test_background_thread_refreshes(server: FeedServer) -> None:
    server.body = _bundle("198.51.100.7")
    store = IntelStore([FeedOptions(name="r", url=server.url, format="stix", refresh=0.05)], [])
    store.refresh(force=True)
    store.start(poll_seconds=0.05)
    try:
        server.etag, server.body = '"v9"', _bundle("198.51.100.8")
        deadline = time.monotonic() + 30  # polled: ends as soon as the thread has refreshed
        while _values(store) != {"198.51.100.8"} and time.monotonic() < deadline:
            threading.Event().wait(0.05)
    finally:
        store.stop()
    assert _values(store) == {"198.51.100.8"}
