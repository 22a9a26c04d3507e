"""Many-document requests (``_bulk``, HEC) of a record format: acknowledged once split and in
the WAL, mapped afterwards with other requests' records (``Service.accept_deferred``).

What is stored (lake rows, dead letters and their reasons) is what the per-request path
(mapped before the answer, ``Service.accept_records``) stores; a document that is no JSON still
fails its item before the answer; a record the mapping refuses is dead-lettered after it;
acknowledged records waiting for the mapper are bounded (back-pressure). A document msgspec
cannot read the keys of (auto-detection's shapes) fails alone.

Records: Panther's real CloudTrail sample (panther-analysis, ../shared/data/real), each copy
given a distinct eventID so none is a redelivery.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from secpipe.runtime import service as service_mod
from secpipe.runtime.service import Service
from secpipe.server.http import AppContext, Limits
from secpipe.server.wire import accept_docs

NOT_JSON = b'{"eventVersion": "1.08", this is not json'
NOT_CLOUDTRAIL = b'{"eventVersion":"1.08","hello":"world"}'  # JSON, but no eventName/eventSource


def _records(real: Path, n: int, tag: str) -> list[bytes]:
    base = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    return [json.dumps({**base[i % len(base)], "eventID": f"{tag}-{i}"}, separators=(",", ":")).encode()
            for i in range(n)]  # fmt: skip


def _ctx(svc: Service) -> AppContext:
    return AppContext(service=svc, tokens=None, limits=Limits())


def _lake(data: Path) -> list[tuple[str, str]]:
    """(class folder, uid) of every stored row, sorted."""
    rows = []
    for f in sorted((data / "lake").glob("*/*/*.parquet")):
        uids = pq.read_table(f, columns=["metadata"]).column("metadata").combine_chunks().field("uid").to_pylist()
        rows += [(f.parent.parent.name, u) for u in uids]
    return sorted(rows)


def _requests(real: Path) -> list[list[bytes]]:
    docs = _records(real, 600, "s19")
    reqs = [docs[i : i + 125] for i in range(0, len(docs), 125)]
    reqs[1] = [*reqs[1][:3], NOT_JSON, *reqs[1][3:]]
    reqs[2] = [*reqs[2][:7], NOT_CLOUDTRAIL, *reqs[2][7:]]
    return reqs


def test_deferred_stores_what_the_per_request_path_stores(tmp_path: Path, real: Path) -> None:
    """Same lake rows and dead letters; the no-JSON item fails at once on both paths, the
    refused record only on the per-request one (the deferred path dead-letters it after)."""
    reqs = _requests(real)
    out = {}
    for started in (False, True):
        data = tmp_path / f"data-{started}"
        svc = Service(data)
        if started:
            svc.start()
        try:
            reasons = [accept_docs(_ctx(svc), "es_bulk:test", "cloudtrail", docs) for docs in reqs]
        finally:
            svc.close()
        out[started] = (reasons, _lake(data), svc.pipeline.dlq.stored())
    (ref, ref_rows, ref_dead), (got, rows, dead) = out[False], out[True]
    assert ref_rows == rows and len(rows) == 600
    assert ref_dead == dead and sum(dead.values()) == 2
    for r_ref, r_got, docs in zip(ref, got, reqs, strict=True):
        for a, b, doc in zip(r_ref, r_got, docs, strict=True):
            if doc == NOT_CLOUDTRAIL:  # refused by the mapping: after the answer when deferred
                assert a is not None and "eventName" in a and b is None
            elif doc == NOT_JSON:
                assert a is not None and a == b
            else:
                assert a is None and b is None


def test_answer_comes_before_the_mapping(data_dir: Path, real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "PUSH_LINGER_SECONDS", 30.0)
    svc = Service(data_dir)
    svc.start()
    try:
        assert accept_docs(_ctx(svc), "es_bulk:test", "cloudtrail", _records(real, 125, "early")) == [None] * 125
        assert svc.pushed_waiting == 1 and svc.pipeline.lake.pending_rows == 0  # durable in the WAL only
        assert len(svc.wal.segments()) == 1 and svc.wal.segments()[0].stat().st_size > 125 * 500
        svc.flush()  # a lake commit maps what is waiting first
        assert svc.pushed_waiting == 0
    finally:
        svc.close()
    assert len(_lake(data_dir)) == 125


def test_back_pressure_when_too_many_records_wait(data_dir: Path, real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past PUSH_MAX_WAITING records a request is answered once the mapper took them (at
    most PUSH_MAX_WAIT_SECONDS later: its body is durable already)."""
    monkeypatch.setattr(service_mod, "PUSH_MAX_WAITING", 100)
    monkeypatch.setattr(service_mod, "PUSH_MAX_WAIT_SECONDS", 0.5)
    svc = Service(data_dir)
    svc.start()
    ctx = _ctx(svc)
    try:
        with svc._push_map:  # the mapper cannot take anything meanwhile
            t0 = time.monotonic()
            assert accept_docs(ctx, "es_bulk:test", "cloudtrail", _records(real, 50, "a")) == [None] * 50
            assert time.monotonic() - t0 < 0.4  # under the bound: no wait
            t0 = time.monotonic()
            assert accept_docs(ctx, "es_bulk:test", "cloudtrail", _records(real, 125, "b")) == [None] * 125
            assert time.monotonic() - t0 >= 0.5  # over it and nobody mapping: waited the longest wait
        done = threading.Event()

        def send() -> None:
            accept_docs(ctx, "es_bulk:test", "cloudtrail", _records(real, 125, "c"))
            done.set()

        t = threading.Thread(target=send)
        t0 = time.monotonic()
        t.start()
        assert done.wait(10) and time.monotonic() - t0 < 0.5 + 0.4  # the mapper catches up: answered
        t.join()
    finally:
        svc.close()
    assert len(_lake(data_dir)) == 300


def test_auto_detected_document_with_a_key_not_utf8_fails_alone(data_dir: Path, real: Path) -> None:
    """msgspec raises UnicodeDecodeError (not DecodeError) for such a key: the shapes of the
    whole request raised, and the request failed (a 500) instead of that one item."""
    svc = Service(data_dir)
    try:
        docs = [*_records(real, 3, "utf8"), b'{"\xed\xa0\x80":null,"message":"x"}']
        reasons = accept_docs(_ctx(svc), "es_bulk:test", [None] * len(docs), docs)
        assert reasons[:3] == [None] * 3 and reasons[3] is not None
    finally:
        svc.close()
    assert len(_lake(data_dir)) == 3


@pytest.mark.parametrize("odd", [b"", b'{"a":1},{"b":2}'])
def test_auto_detected_documents_that_join_into_another_array_fail_alone(data_dir: Path, real: Path,
                                                                         odd: bytes) -> None:
    """Shapes came from the documents joined as one JSON array: an empty document, or one of two
    objects, made a list of another length and the whole request failed."""
    svc = Service(data_dir)
    try:
        docs = [odd] if not odd else [*_records(real, 3, "join"), odd]
        reasons = accept_docs(_ctx(svc), "es_bulk:test", [None] * len(docs), docs)
        assert reasons[:-1] == [None] * (len(docs) - 1) and reasons[-1] is not None
    finally:
        svc.close()
