"""Protocol pieces of the wire edge without a server: ES ``filter_path``, the ``_bulk`` answer
under a filter, HEC indexer acknowledgement and raw-text events.

Expected values follow the protocol references, not the code: Elasticsearch "Common options
/ Response filtering" (``filter_path``: dotted paths, ``*`` and ``**`` wildcards, ``-``
exclusions, arrays transparent, empty objects dropped) and Splunk "About HTTP Event
Collector Indexer Acknowledgment" (ackIds per channel from 0, ``true`` once, then gone).
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from secpipe.server.es_bulk import Uniform, _answer, _created, _upserted
from secpipe.server.es_filter import apply_filter
from secpipe.server.hec import AckLedger, raw_line_events

ANSWER = {
    "took": 7, "errors": True,
    "items": [
        {"create": {"_index": "fb", "_id": "a", "_version": 1, "result": "created", "status": 201}},
        {"create": {"_index": "fb", "_id": "b", "status": 400, "error": {"type": "document_parsing_exception", "reason": "bad"}}},
    ],
}  # fmt: skip


@pytest.mark.parametrize(("spec", "want"), [
    ("errors,items.*.error,items.*.status",  # Filebeat's and Logstash's filter
     {"errors": True, "items": [{"create": {"status": 201}},
                                {"create": {"status": 400, "error": {"type": "document_parsing_exception", "reason": "bad"}}}]}),
    ("took", {"took": 7}),
    ("items.*.error.type", {"items": [{"create": {"error": {"type": "document_parsing_exception"}}}]}),
    ("**.status", {"items": [{"create": {"status": 201}}, {"create": {"status": 400}}]}),
    ("items.*.res*", {"items": [{"create": {"result": "created"}}]}),
    ("-items", {"took": 7, "errors": True}),
    ("items.*._id,-items.*.status", {"items": [{"create": {"_id": "a"}}, {"create": {"_id": "b"}}]}),
    ("nothing.here", {}),
])  # fmt: skip
def test_filter_path_rules(spec: str, want: dict) -> None:
    assert apply_filter(ANSWER, spec) == want


def test_filter_path_leaves_the_answer_untouched() -> None:
    before = orjson.dumps(ANSWER)
    apply_filter(ANSWER, "errors,-items")
    assert orjson.dumps(ANSWER) == before


@pytest.mark.parametrize("doc_id", [None, "fixed-id"])
@pytest.mark.parametrize("spec", ["errors,items.*.error,items.*.status", "took,items.*._id", "items.**._seq_no",
                                  "-items.*._shards", "errors"])  # fmt: skip
def test_created_template_under_a_filter_equals_the_filtered_general_answer(doc_id: str | None, spec: str) -> None:
    bulk = Uniform("create", "logs-x-default", doc_id, [b'{"a":1}', b'{"a":2}', b'{"a":3}'])
    fast = orjson.loads(_created(bulk, time.perf_counter(), spec))
    general = apply_filter(_answer(bulk.items(), {}, time.perf_counter()), spec)
    if doc_id is None:  # generated ids differ between two answers: each is unique, then set aside
        for answer in (fast, general):
            ids = [i["create"].pop("_id") for i in answer.get("items", []) if "_id" in i["create"]]
            assert len(set(ids)) == len(ids)
    fast.pop("took", None), general.pop("took", None)
    assert fast == general


def test_filebeat_filter_answer_bytes_are_compact() -> None:
    bulk = Uniform("create", "filebeat-8.17.0", None, [b"{}"] * 2)
    body = _created(bulk, time.perf_counter(), "errors,items.*.error,items.*.status")
    assert body == b'{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}'


def test_upsert_lines() -> None:
    assert _upserted(b'{"doc":{"log":"x"},"doc_as_upsert":true}') == b'{"log":"x"}'
    assert _upserted(b'{"doc":{"log":"x"}}') is None  # a partial update: nothing to store
    assert _upserted(b'{"script":{"source":"ctx._source.n++"},"upsert":{"n":1}}') is None
    assert _upserted(b"not json") is None and _upserted(None) is None


def test_ack_ledger_per_channel_true_once() -> None:
    acks = AckLedger()
    assert [acks.issue("c1") for _ in range(3)] == [0, 1, 2]
    assert acks.issue("c2") == 0
    assert acks.query("c1", [0, 2, 7]) == {"0": True, "2": True, "7": False}
    assert acks.query("c1", [0, 1]) == {"0": False, "1": True}
    assert acks.query("c2", [0]) == {"0": True}
    assert acks.query("unknown", [0]) == {"0": False}


def test_ack_ledger_is_bounded() -> None:
    acks = AckLedger(max_channels=2, max_ids=3)
    ids = [acks.issue("a") for _ in range(5)]
    assert acks.query("a", ids) == {"0": False, "1": False, "2": True, "3": True, "4": True}
    acks.issue("b"), acks.issue("c"), acks.issue("d")  # "b" is the least recently used: dropped
    assert acks.query("b", [0]) == {"0": False}
    assert acks.query("d", [0]) == {"0": True}


def test_raw_text_lines_become_envelopes() -> None:
    docs = raw_line_events(b"first line\r\n\n  \nsecond \xff line\n", {"host": "h1", "sourcetype": "app:text"})
    assert [orjson.loads(d) for d in docs] == [{"event": "first line", "host": "h1", "sourcetype": "app:text"},
                                               {"event": "second \ufffd line", "host": "h1", "sourcetype": "app:text"}]


def test_store_failure_is_a_retry_answer_in_each_protocol(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request whose data cannot be made durable (the disk is full) is not acknowledged:
    ES answers 503 in its error shape and HEC 503 code 9, which Filebeat, Logstash, Fluent
    Bit and Vector all retry; nothing is acknowledged and no ackId is handed out."""
    import asyncio

    import httpx

    from secpipe.runtime.service import Service
    from secpipe.server.app import create_app
    from secpipe.server.auth import TokenStore
    from secpipe.server.http import AppContext, Limits

    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    token = tokens.create("t", "ingest")

    def disk_full(*_args: object, **_kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(svc.wal, "append", disk_full)  # where every accepted body is made durable
    app = create_app(AppContext(service=svc, tokens=tokens, limits=Limits()))

    async def send() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            es = await client.post("/_bulk", content=b'{"index":{"_index":"x"}}\n{"message":"m"}\n',
                                   headers={"Authorization": f"Bearer {token}", "X-Opaque-Id": "req-7"})
            hec = await client.post("/services/collector/event", content=b'{"event":"m"}',
                                    headers={"Authorization": f"Splunk {token}",
                                             "X-Splunk-Request-Channel": "0f0c4a52-6f4e-4d7e-9c38-6d1e2a9b7c10"})
            return es, hec

    try:
        es, hec = asyncio.run(send())
    finally:
        svc.close()
    assert es.status_code == 503 and es.json()["error"]["type"] == "unavailable_exception"
    assert "retry later" in es.json()["error"]["reason"] and es.headers["x-opaque-id"] == "req-7"
    assert hec.status_code == 503 and hec.json() == {"text": "Server is busy", "code": 9}
