"""``/v1/metrics`` counts the mapping passes of requests combined (runtime/combine.py) and the
requests they mapped: requests per pass is what decides a small ``_bulk`` request's fixed cost."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from secpipe.server.wire import accept_docs

RECORD = {"eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z", "eventSource": "s3.amazonaws.com",
          "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1",
          "userIdentity": {"type": "IAMUser", "principalId": "AID1", "arn": "arn:aws:iam::1:user/a", "accountId": "1"},
          "eventID": "e", "recipientAccountId": "1"}  # fmt: skip


def _doc(i: int) -> bytes:
    return json.dumps({**RECORD, "eventID": f"e-{i}"}, separators=(",", ":")).encode()


def _scrape(app: object, token: str) -> dict[str, float]:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:  # type: ignore[arg-type]
            return await client.get("/v1/metrics", headers={"Authorization": f"Bearer {token}"})

    r = asyncio.run(get())
    assert r.status_code == 200, r.text
    return {s.name: s.value for fam in text_string_to_metric_families(r.text) for s in fam.samples}


def test_passes_and_requests_mapped_are_counted(data_dir: Path) -> None:
    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    admin = tokens.create("a", "admin")
    ctx = AppContext(service=svc, tokens=tokens, limits=Limits())
    app = create_app(ctx)
    try:
        before = _scrape(app, admin)
        assert before["secpipe_mapping_passes_total"] == before["secpipe_mapped_requests_total"] == 0
        assert accept_docs(ctx, "t", "cloudtrail", [_doc(0), _doc(1)]) == [None, None]
        one = _scrape(app, admin)
        assert one["secpipe_mapping_passes_total"] == one["secpipe_mapped_requests_total"] == 1
        threads = [threading.Thread(target=accept_docs, args=(ctx, f"t{k}", "cloudtrail", [_doc(10 + k)]))
                   for k in range(4)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        m = _scrape(app, admin)
        assert m["secpipe_mapped_requests_total"] == 5  # every request in exactly one pass
        assert 2 <= m["secpipe_mapping_passes_total"] <= 5
        assert m["secpipe_inputs_total"] == 5
    finally:
        svc.close()
