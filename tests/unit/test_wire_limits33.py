"""HTTP endpoint limits, session 33 (issue #3: bad input gets a clear error, is dead-lettered, the rest goes on).

Found by probing a ``secpipe up`` server by hand (body size, compression bombs, JSON depth, slow and broken
bodies) on every ingest endpoint; each answer is checked here in-process (httpx's ASGI transport) with small limits.

- HEC ``/services/collector/raw``: a body of JSON lines nested past ``server.max_json_depth`` (or with a string
  past ``server.max_string_bytes``) was answered 400/413 but not dead-lettered (``/event`` and every other
  endpoint keep a refused body with its reason).
- A body the server's HTTP parser refuses while its endpoint is reading it (a broken chunk-size line) was answered
  400 "Invalid HTTP request received" and dead-lettered as "the client closed the connection": the client did not,
  the server did. Now the answer names what httptools found (RFC 9112 7.1's chunk-size) and the dead letter says
  the same. A real uvicorn server in a thread here (the protocol is not in the ASGI app).
- Those answers of the server's own (400 unparsable, 408 headers too slow, 431 headers too big, 501 a transfer
  coding) took the shape of Splunk's and Elasticsearch's paths only: Firehose's endpoint (the HTTP endpoint
  delivery spec: ``{"requestId", "timestamp", "errorMessage"}``) and OTLP/HTTP's ``/v1/logs`` (a
  ``google.rpc.Status``, protobuf unless the request is JSON) got ``{"error"}``.
- ``_bulk``: one document nested past ``server.max_json_depth`` (or with a string past ``server.max_string_bytes``)
  had the whole request refused (400/413) and dead-lettered, its other documents with it (Filebeat drops a batch
  refused so). Elasticsearch parses each document on its own and fails only that item (400,
  ``document_parsing_exception``; its depth limit ``index.mapping.depth.limit``): now so here, the document
  dead-lettered alone with the reason; an action line over the limits still refuses the request.
- Bytes that are no request pipelined behind a whole one (RFC 9112 9.2) were refused (400) before that request was
  answered, and the connection closed under its answer: the client got the 400 for it (and its events were stored).
  Now its answer goes first, then the 400 (9.3.2: answers in the order of the requests).
- A raw snappy block whose length preamble (a varint of at most 32 bits, snappy's format_description.txt) runs
  on past 5 bytes was refused as "without a length preamble".
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from secpipe.server.http import Limits, unsnappy_limited
from secpipe.server.protocol import guarded_protocol
from secpipe.store.query import run
from tests.unit.test_wire_context31 import _app, _post

LIMITS = Limits(max_body_bytes=1 << 20, max_decompressed_bytes=4 << 20, max_json_depth=64, max_string_bytes=1 << 16)


def _dead(data_dir: Path) -> list[tuple[str, bytes]]:
    return [(r[0], bytes(r[1])) for r in run(data_dir, "select reason, raw from dead_letter")[1]]


def test_hec_raw_refused_json_lines_are_dead_lettered(tmp_path: Path) -> None:
    deep = b'{"event":' * 80 + b"1" + b"}" * 80 + b"\n"
    long = b'{"event":"' + b"x" * 70000 + b'"}\n'
    for n, (body, status, why) in enumerate([(deep, 400, "JSON nesting depth 80"), (long, 413, "JSON string")]):
        data = tmp_path / str(n)
        answer = _post(data, "/services/collector/raw", b'{"event":"fine"}\n' + body, "text/plain", LIMITS)
        assert answer.status_code == status and answer.json()["code"] == 6, answer.text
        ((reason, raw),) = _dead(data)
        assert reason.startswith(why) and raw == b'{"event":"fine"}\n' + body


def test_otlp_refuses_a_content_type_it_does_not_read_and_keeps_the_body(tmp_path: Path) -> None:
    """A body of another Content-Type than OTLP's two is refused 415 and dead-lettered with why (session 35:
    it was refused unread, nothing kept)."""
    body = b'{"resourceLogs": []}'
    answer = _post(tmp_path, "/v1/logs", body, "text/plain", LIMITS)
    assert answer.status_code == 415, answer.text
    ((reason, raw),) = _dead(tmp_path)
    assert reason == "unsupported Content-Type 'text/plain': send application/x-protobuf or application/json"
    assert raw == body


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """uvicorn with secpipe's protocol on a free loopback port: (port, ingest token, data dir)."""
    svc, app, token = _app(tmp_path, LIMITS)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="error", http=guarded_protocol(5.0), lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1], token, tmp_path
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()
        svc.close()


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        out = b""
        while got := s.recv(65536):
            out += got
    return out


def test_a_broken_chunk_is_dead_lettered_with_the_parsers_reason(server: tuple[int, str, Path]) -> None:
    port, token, data = server
    head = (f"POST /v1/ingest/auto HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    answer = _exchange(port, head + b"5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n")  # "zz": no chunk-size (hex digits)
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400 ")
    why = "Invalid character in chunk size: the request is not valid HTTP/1.1 (RFC 9112)"
    assert json.loads(body) == {"error": why}
    deadline = time.monotonic() + 10
    while not (dead := _dead(data)) and time.monotonic() < deadline:  # the endpoint's task ends after the answer
        time.sleep(0.05)
    assert [r for r, _ in dead] == [f"{why}, after 5 bytes of the body: nothing was stored"]


def test_the_servers_own_answers_take_firehoses_and_otlps_shapes(server: tuple[int, str, Path]) -> None:
    port, token, _data = server
    broken = b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"

    def refused(path: str, headers: str) -> tuple[bytes, bytes]:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{headers}".encode()
        status, _, body = _exchange(port, head + broken).partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 400 "), status
        return status.lower(), body

    why = "Invalid character in chunk size: the request is not valid HTTP/1.1 (RFC 9112)"
    status, body = refused("/v1/firehose", "X-Amz-Firehose-Request-Id: ed4acda5-034f-9f42-bba1-f29aea6d7d8f\r\n")
    answer = json.loads(body)
    assert answer.pop("timestamp") > 1.7e12 and b"content-type: application/json" in status
    assert answer == {"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "errorMessage": why}
    status, body = refused("/v1/logs", "Content-Type: application/json\r\n")
    assert json.loads(body) == {"code": 3, "message": why}  # google.rpc.Code INVALID_ARGUMENT
    status, body = refused("/v1/logs", "Content-Type: application/x-protobuf\r\n")
    assert b"content-type: application/x-protobuf" in status
    assert body == b"\x08\x03\x12" + bytes([len(why)]) + why.encode()  # Status{code: 3, message} as protoc writes it


def test_a_snappy_length_preamble_past_32_bits_is_said_so() -> None:
    with pytest.raises(ValueError, match=r"^snappy block's length preamble runs past 5 bytes \(more than 32 bits\)$"):
        unsnappy_limited(b"\x80\x80\x80\x80\x80\x80\x01" + b"\0" * 8, 1 << 20)  # 2^42: a 7-byte varint
    with pytest.raises(ValueError, match="^snappy block without a length preamble$"):
        unsnappy_limited(b"\x80\x80", 1 << 20)  # cut inside it


def test_bulk_document_over_the_limits_fails_its_item_alone(tmp_path: Path) -> None:
    act = b'{"create":{"_index":"logs-generic-default"}}\n'
    lines = [b"<38>Nov 29 07:00:00 web-01 sshd[1]: Accepted password for alice from 10.0.0.1 port 22 ssh2",
             b"<38>Nov 29 07:00:05 web-01 sshd[2]: Accepted password for bob from 10.0.0.2 port 22 ssh2"]
    deep = b'{"message":' + b"[" * 80 + b"]" * 80 + b"}"
    long = b'{"message":"' + b"x" * 70000 + b'"}'
    docs = [json.dumps({"message": lines[0].decode()}).encode(), deep, long, json.dumps({"message": lines[1].decode()}).encode()]
    body = b"".join(act + d + b"\n" for d in docs)
    answer = _post(tmp_path, "/_bulk", body, "application/x-ndjson", LIMITS)
    assert answer.status_code == 200, answer.text  # red before: 400 for the whole request
    items = [it["create"] for it in answer.json()["items"]]
    assert [it["status"] for it in items] == [201, 400, 400, 201] and answer.json()["errors"] is True
    assert items[1]["error"]["reason"].startswith("JSON nesting depth 81 exceeds the limit of 64")
    assert items[2]["error"]["reason"].startswith("JSON string of 70000 bytes exceeds the limit of 65536")
    assert sorted(_dead(tmp_path)) == sorted([(items[1]["error"]["reason"], deep), (items[2]["error"]["reason"], long)])
    _cols, rows = run(tmp_path, "select user.name from authentication order by time")
    assert rows == [("alice",), ("bob",)]
    # an action line over the limits: the request refused whole, as before
    action = b'{"create":' + b"{" * 70 + b"}" * 70 + b"}\n"
    answer = _post(tmp_path / "again", "/_bulk", action + docs[0] + b"\n", "application/x-ndjson", LIMITS)
    assert answer.status_code == 400 and "nesting depth" in answer.json()["error"]["reason"]


def test_a_refusal_of_pipelined_bytes_follows_the_answer_before_it(server: tuple[int, str, Path]) -> None:
    port, token, _data = server
    event = b'{"event":"pipelined","sourcetype":"_json"}'
    request = (f"POST /services/collector/event HTTP/1.1\r\nHost: x\r\nAuthorization: Splunk {token}\r\n"
               f"Content-Length: {len(event)}\r\n\r\n").encode() + event
    got = _exchange(port, request + b"GARBAGE / HTTP/1.1\r\n\r\n")  # one write: the bytes behind the request
    first, _, rest = got.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 "), got  # red before: the 400 came first, alone
    n = int(next(ln.split(b":")[1] for ln in first.split(b"\r\n") if ln.lower().startswith(b"content-length")))
    assert json.loads(rest[:n]) == {"text": "Success", "code": 0}
    second, _, body = rest[n:].partition(b"\r\n\r\n")
    assert second.startswith(b"HTTP/1.1 400 ") and b"connection: close" in second.lower()
    assert json.loads(body)["error"].endswith("the request is not valid HTTP/1.1 (RFC 9112)")
