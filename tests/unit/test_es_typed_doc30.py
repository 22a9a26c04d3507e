"""The typed Index API of Elasticsearch 6 and earlier (``POST /{index}/{type}``, ``PUT /{index}/{type}/{id}``):
Jenkins' Audit Trail plugin posts each audit document to the URL its setup names, ``https://es/<index>/<type>/``
(jenkinsci/audit-trail-plugin ``ElasticSearchAuditLogger``: ``{"message": ..., "@timestamp": ...}``; H2's
round 30 report), which secpipe answered 404, losing the events. Such a document is stored as
``/{index}/_doc`` stores it; the other routes keep their paths (OTLP, webhooks), and ES's own endpoints
(``_search``) and secpipe's and HEC's namespaces (``/v1/...``, ``/services/...``) are not taken for one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson

from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from secpipe.store.query import run

#: an Audit Trail plugin document: the plugin's layout, the message of a real audit log line
#: (tests/cases/holdout/jenkins-audit-trail-khannashiv.log, as test_cicd_holdout30's ES_DOCS)
AUDIT = {"message": "/job/monitor-jenkins-grafana-prometheus/configSubmit by user2 from [0:0:0:0:0:0:0:1]",
         "@timestamp": "2026-01-08T00:28:02+0530"}


def _send(data_dir: Path, calls: list[tuple[str, str, bytes]], kind: str = "application/json") -> list[httpx.Response]:
    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    token = tokens.create("jenkins", "ingest")
    app = create_app(AppContext(service=svc, tokens=tokens, limits=Limits()))

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [await client.request(m, p, content=b, headers={"Authorization": f"Bearer {token}",
                                                                      "Content-Type": kind})
                    for m, p, b in calls]  # fmt: skip

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def test_typed_index_api_stores_the_document(tmp_path: Path) -> None:
    body = orjson.dumps(AUDIT)
    answers = _send(tmp_path, [("POST", "/jenkins-audit/jenkinslog/", body), ("POST", "/jenkins-audit/jenkinslog", body),
                               ("PUT", "/jenkins-audit/jenkinslog/7", body), ("POST", "/jenkins-audit/_search", b"{}"),
                               ("POST", "/v1/no-such-endpoint", body), ("POST", "/services/nope", body)])
    # (a typed id form only as ES 8 serves it, to a client asking for 7.x compatibility: test_es_paths32)
    answers[2:3] = _send(tmp_path, [("PUT", "/jenkins-audit/jenkinslog/7", body)],
                         "application/vnd.elasticsearch+json; compatible-with=7")
    assert [a.status_code for a in answers] == [201, 201, 201, 405, 404, 405]  # (/services/nope: as before)
    assert answers[0].json()["result"] == "created" and answers[2].json()["_id"] == "7"
    # ES's own endpoints and secpipe's and HEC's namespaces are no typed Index API
    assert answers[3].json()["error"]["type"] and answers[3].headers["allow"] == "PUT"
    assert "/v1/no-such-endpoint" in answers[4].json()["error"]
    _, rows = run(tmp_path, "select raw_data, api.operation, actor.user.name from api_activity")
    assert len(rows) == 1  # the same document three times: one event (metadata.uid is the record's)
    assert all(orjson.loads(r[0]) == AUDIT and r[1:] == ("configSubmit", "user2") for r in rows)


def test_unauthenticated_typed_post_is_refused(tmp_path: Path) -> None:
    svc = Service(tmp_path)
    app = create_app(AppContext(service=svc, tokens=TokenStore(tmp_path), limits=Limits()))

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post("/jenkins-audit/jenkinslog/", content=orjson.dumps(AUDIT))

    try:
        assert asyncio.run(send()).status_code == 401
    finally:
        svc.close()
