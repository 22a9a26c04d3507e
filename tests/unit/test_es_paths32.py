"""Elasticsearch's typed Index API with an id, as ES 8 serves it (elastic/elasticsearch ``RestIndexAction``: the
``/{index}/{type}/{id}`` and ``/{index}/{type}/{id}/_create`` routes are deprecated ``RestApiVersion.V_7`` ones,
taken only by a request asking for 7.x compatibility, ``compatible-with=7``; the typeless forms are
``/{index}/_doc/{id}`` and ``/{index}/_create/{id}``). Any authenticated POST to an unrouted three-segment path
(``/api/v1/query``, another product's API) was taken for one, stored and answered 201 created: now 404 in ES's error
shape, as every path no route takes, and nothing is stored. The two-segment ``POST /{index}/{type}`` (Jenkins' Audit
Trail plugin, test_es_typed_doc30) and the typeless forms are unchanged."""

from __future__ import annotations

from pathlib import Path

import orjson

from secpipe.store.query import run
from tests.unit.test_es_typed_doc30 import AUDIT, _send

COMPAT = "application/vnd.elasticsearch+json; compatible-with=7"  # what the 8.x clients send in compatibility mode


def test_unrouted_three_segment_path_is_not_a_typed_index(tmp_path: Path) -> None:
    body = orjson.dumps(AUDIT)
    answers = _send(tmp_path, [("POST", "/api/v1/query", b'{"query": "up"}'), ("PUT", "/jenkins-audit/jenkinslog/7", body),
                               ("POST", "/jenkins-audit/jenkinslog/8", body)])  # fmt: skip
    assert [a.status_code for a in answers] == [404, 404, 404]
    err = answers[0].json()
    assert err["status"] == 404 and err["error"]["reason"] == "no handler found for uri [/api/v1/query] and method [POST]"
    assert answers[0].headers["x-elastic-product"] == "Elasticsearch"
    _, tables = run(tmp_path, "select count(*) from information_schema.tables where table_name = 'api_activity'")
    assert tables == [(0,)]  # nothing stored


def test_typed_forms_with_an_id_under_7x_compatibility(tmp_path: Path) -> None:
    body = orjson.dumps(AUDIT)
    answers = _send(tmp_path, [("PUT", "/jenkins-audit/jenkinslog/7", body),
                               ("POST", "/jenkins-audit/jenkinslog/8/_create", body)], COMPAT)  # fmt: skip
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["_id"] == "7" and answers[1].json()["_id"] == "8"
    assert answers[1].json()["result"] == "created"
    plain = _send(tmp_path, [("POST", "/jenkins-audit/jenkinslog", body), ("PUT", "/jenkins-audit/_doc/9", body),
                             ("PUT", "/jenkins-audit/_create/10", body)])  # fmt: skip
    assert [a.status_code for a in plain] == [201, 201, 201]
    _, rows = run(tmp_path, "select actor.user.name from api_activity")
    assert rows == [("user2",)]  # one document: one event
