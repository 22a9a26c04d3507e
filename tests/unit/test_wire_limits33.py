"""HTTP endpoint limits, session 33 (issue #3: bad input gets a clear error, is dead-lettered, the rest goes on).

Found by probing a ``secpipe up`` server by hand (body size, compression bombs, JSON depth, slow and broken
bodies) on every ingest endpoint; each answer is checked here in-process (httpx's ASGI transport) with small limits.

- HEC ``/services/collector/raw``: a body of JSON lines nested past ``server.max_json_depth`` (or with a string
  past ``server.max_string_bytes``) was answered 400/413 but not dead-lettered (``/event`` and every other
  endpoint keep a refused body with its reason).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from secpipe.store.query import run

LIMITS = Limits(max_body_bytes=1 << 20, max_decompressed_bytes=4 << 20, max_json_depth=64, max_string_bytes=1 << 16)


def _post(data_dir: Path, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    token = tokens.create("t", "ingest")
    app = create_app(AppContext(service=svc, tokens=tokens, limits=LIMITS))

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post(path, content=body, headers={"Authorization": f"Splunk {token}", **headers})

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def _dead(data_dir: Path) -> list[tuple[str, bytes]]:
    return [(r[0], bytes(r[1])) for r in run(data_dir, "select reason, raw from dead_letter")[1]]


def test_hec_raw_refused_json_lines_are_dead_lettered(tmp_path: Path) -> None:
    deep = b'{"event":' * 80 + b"1" + b"}" * 80 + b"\n"
    long = b'{"event":"' + b"x" * 70000 + b'"}\n'
    for n, (body, status, why) in enumerate([(deep, 400, "JSON nesting depth 80"), (long, 413, "JSON string")]):
        data = tmp_path / str(n)
        answer = _post(data, "/services/collector/raw", b'{"event":"fine"}\n' + body, {})
        assert answer.status_code == status and answer.json()["code"] == 6, answer.text
        ((reason, raw),) = _dead(data)
        assert reason.startswith(why) and raw == b'{"event":"fine"}\n' + body
