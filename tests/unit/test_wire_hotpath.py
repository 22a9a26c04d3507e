"""The wire-ingest fast paths give the same answers as the general ones.

Covers: ``_bulk`` bodies with identical action lines (:class:`Uniform`, answered from a bytes
template), JSON depth bounded per NDJSON line / per HEC event on bodies past the numpy
threshold, WAL frames written without copying the body (same bytes as a whole-record
encode, every msgpack ``bin`` size), and the service's decode gate.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from pathlib import Path

import msgspec
import orjson
import pytest

from secpipe.runtime.service import Service, usable_cpus
from secpipe.server.es_bulk import (
    Uniform,
    _answer,
    _created,
    _parse_slow,
    bulk_lines,
    parse_bulk,
    parse_lines,
)
from secpipe.server.hec import HecError, _split, build_items
from secpipe.server.http import AppContext, HTTPError, Limits
from secpipe.server.wire import _BIG, accept_docs, check_depth, check_parts_depth, json_depth
from secpipe.store.wal import _HEAD, _MAGIC, WAL, WalRecord, read_segment


def _deep(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


def _padding(count: int) -> list[bytes]:
    """Shallow documents (depth 3) that push a body past the numpy threshold."""
    return [json.dumps({"x": [1, {"y": "z" * 3000}], "n": i}).encode() for i in range(count)]


def test_identical_action_lines_parse_as_uniform_with_the_same_items() -> None:
    docs = [b'{"m":1}', b'{"m":2}', b"not json", b'"s"']
    body = b"".join(b'{"create":{"_index":"logs-a","_id":"k"}}\r\n' + d + b"\r\n" for d in docs) + b"\n\n"
    parsed = parse_lines(bulk_lines(body), "dflt")
    assert isinstance(parsed, Uniform)
    assert (parsed.op, parsed.index, parsed.id, parsed.docs) == ("create", "logs-a", "k", docs)
    assert parse_bulk(body, "dflt") == _parse_slow(bulk_lines(body), "dflt")
    # the index comes from the path when the action names none; mixed actions are not uniform
    assert parse_lines([b'{"index":{}}', b"{}"], "from-path") == Uniform("index", "from-path", None, [b"{}"])
    mixed = parse_lines([b'{"index":{}}', b"{}", b'{"create":{}}', b"{}"], "i")
    assert not isinstance(mixed, Uniform) and [m[0] for m in mixed] == ["index", "create"]
    # an identical but unusable action (delete) still goes the general way
    assert parse_bulk(b'{"delete":{"_id":"1"}}\n{"delete":{"_id":"1"}}\n', "i") == [("delete", "i", "1", None)] * 2
    with pytest.raises(HTTPError):  # odd line count: the general parser reports the missing document
        parse_bulk(b'{"index":{}}\n{}\n{"index":{}}\n', "i")


@pytest.mark.parametrize(("index", "doc_id"), [("cloud%trail-\"b\"", None), ("i", "id-%s-\u00e9"), ("j", "")])
def test_created_template_equals_the_general_answer(index: str, doc_id: str | None) -> None:
    bulk = Uniform("index", index, doc_id, [b"{}"] * 300)
    fast = orjson.loads(_created(bulk, time.perf_counter()))
    slow = _answer(bulk.items(), {}, time.perf_counter())
    assert fast["errors"] is False and isinstance(fast["took"], int)
    ids = [item["index"].pop("_id") for item in fast["items"]]
    want_ids = [item["index"].pop("_id") for item in slow["items"]]
    assert fast["items"] == slow["items"]
    if doc_id:
        assert ids == want_ids == [doc_id] * 300
    else:  # generated: a per-request prefix plus the item number, unique within the answer
        assert len(set(ids)) == 300 and all(i.endswith(f"{n:06x}") for n, i in enumerate(ids))


@pytest.mark.parametrize("pad", [1, 40])  # below and past the numpy threshold
def test_ndjson_depth_is_the_deepest_line(pad: int) -> None:
    for depth in (10, 40, 41, 70):
        lines = [*_padding(pad), _deep(depth), *_padding(pad)]
        body = b"\n".join(lines) + b"\n"
        assert (len(body) >= _BIG) == (pad == 40)
        if depth <= 40:
            check_depth(body, 40, ndjson=True)
            continue
        with pytest.raises(HTTPError) as err:
            check_depth(body, 40, ndjson=True)
        assert err.value.status == 400 and f"nesting depth {depth} exceeds the limit of 40" in str(err.value)
        with pytest.raises(HTTPError):  # the whole-text scan agrees on valid NDJSON
            check_depth(body, 40)
    # lines are separate texts: 30 lines each opening one bracket never add up to depth 30
    check_depth(b'{"a":1}\n' * 30 + b"[1]\n" * 30 + b"x" * _BIG, 5, ndjson=True)
    assert json_depth(b'{"a":1}\n' * 30) == 1


def test_big_ndjson_body_with_many_brackets_but_shallow_lines_passes() -> None:
    line = json.dumps([[{"k": [i]} for i in range(50)]]).encode()  # 101 brackets, depth 4
    body = b"\n".join([line] * 200)
    assert len(body) >= _BIG and json_depth(line) == 4
    check_depth(body, 4, ndjson=True)
    with pytest.raises(HTTPError) as err:
        check_depth(body, 3, ndjson=True)
    assert "nesting depth 4 exceeds" in str(err.value)


@pytest.mark.parametrize("pretty", [False, True])
def test_hec_events_depth_per_event(pretty: bool) -> None:
    def envelope(event: bytes) -> bytes:
        return b'{\n  "event": ' + event + b',\n  "fields": {"a": [1]}\n}\n' if pretty else b'{"event":' + event + b"}"

    shallow = [envelope(p) for p in _padding(40)]
    limits = Limits(max_json_depth=40)
    raws, array = _split(b"".join(shallow), limits)
    assert len(raws) == 40 and msgspec.json.decode(array) == [json.loads(r) for r in raws]
    body = b"".join([*shallow[:20], envelope(_deep(39)), *shallow[20:]])  # envelope adds one level: 40
    assert len(_split(body, limits)[0]) == 41
    body = b"".join([*shallow[:20], envelope(_deep(45)), *shallow[20:]])
    with pytest.raises(HTTPError) as err:
        _split(body, limits)
    assert err.value.status == 400 and "nesting depth 46" in str(err.value)
    check_parts_depth(array, raws, 40)
    with pytest.raises(HTTPError):
        check_parts_depth(array, raws, 2)


def test_hec_body_deeper_than_the_decoder_recursion_guard_is_a_400() -> None:
    with pytest.raises(HTTPError) as err:
        _split(b'{"event":' + _deep(5000) + b"}", Limits(max_json_depth=64))
    assert err.value.status == 400


@pytest.mark.parametrize("size", [0, 1, 255, 256, 65535, 65536, 3 << 20])
def test_wal_frame_is_the_whole_record_encoding(tmp_path: Path, size: int) -> None:
    body = (bytes(range(256)) * (size // 256 + 1))[:size]
    wal = WAL(tmp_path / "wal")
    seq = wal.append(WalRecord("cloudtrail", "es_bulk:tök", 1_700_000_000_123, body))
    wal.sync(seq)
    wal.close()
    (seg,) = wal.segments()
    payload = msgspec.msgpack.encode(("cloudtrail", "es_bulk:tök", 1_700_000_000_123, body))
    assert seg.read_bytes() == _HEAD.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
    (rec,) = read_segment(seg)
    assert rec == WalRecord("cloudtrail", "es_bulk:tök", 1_700_000_000_123, body)


def test_decode_gate_holds_decodes_back_while_every_slot_is_taken(data_dir: Path) -> None:
    svc = Service(data_dir)
    try:
        slots = usable_cpus()
        for _ in range(slots):
            assert svc.cpu.acquire(timeout=1)
        done = threading.Event()
        out: list[object] = []

        def decode() -> None:
            out.append(svc.decode("json", b'{"message":"gated"}', "test"))
            done.set()

        t = threading.Thread(target=decode)
        t.start()
        assert not done.wait(0.3)  # no slot free: the decode waits
        svc.cpu.release()
        assert done.wait(10)
        t.join()
        for _ in range(slots - 1):
            svc.cpu.release()
        _fmt, decoded = out[0]  # type: ignore[misc]
        assert decoded.events == 1 and sum(b.num_rows for b in decoded.batches) == 1
    finally:
        svc.close()


def test_accept_docs_one_name_for_all_and_dead_letters_per_item(data_dir: Path, real: Path) -> None:
    svc = Service(data_dir)
    ctx = AppContext(service=svc, tokens=None, limits=Limits())
    records = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    good = [json.dumps(r).encode() for r in records if r.get("eventName") and r.get("eventSource")][:4]
    docs = [good[0], b'{"eventVersion":"1.08"}', good[1], b"{broken", good[2]]
    reasons = accept_docs(ctx, "test", "cloudtrail", docs)
    assert [r is None for r in reasons] == [True, False, True, False, True]
    assert "eventName" in (reasons[1] or "")
    assert accept_docs(ctx, "test", "cloudtrail", good[3:]) == [None]
    svc.close()


def test_hec_build_items_one_name_or_one_per_event() -> None:
    ct = json.dumps({"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "GetObject"}).encode()
    one = [b'{"sourcetype":"aws:cloudtrail","event":' + ct + b"}"] * 3
    assert build_items(one, None, {}) == ("cloudtrail", [ct] * 3)
    generic = [b'{"sourcetype":"json","event":{"a":1}}', b'{"sourcetype":"json","event":"text"}']
    assert build_items(generic, None, {}) == (["json", "json"], generic)  # whole envelopes, nothing detected
    mixed = [one[0], b'{"event":"a plain line"}', b'{"sourcetype":"mine","event":' + ct + b"}"]
    names, docs = build_items(mixed, None, {"mine": "cloudtrail"})
    assert names == ["cloudtrail", "json", "cloudtrail"] and docs == [ct, mixed[1], ct]
    for events, code, n in (([b"1", b"null", b'""'], 12, 1), ([b"1", b"{}", b"null"], 13, 1), ([b'""'], 13, 0)):
        with pytest.raises(HecError) as err:
            build_items([b'{"event":' + e + b"}" for e in events], None, {})
        assert err.value.body["code"] == code and err.value.body["invalid-event-number"] == n
