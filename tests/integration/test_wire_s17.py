"""The wire endpoints under bad and unusual input (session 17), against a real `secpipe up`
and a real syslog listener.

Raw sockets play the misbehaving clients (a slowloris, a header flood, a sender that hangs
up mid-body, syslog frames over the limit or lines that start with digits); curl, httpx and
util-linux ``logger`` the well-behaved ones (keep-alive, chunked bodies, ``Expect:
100-continue``, a 64 KB octet-counted message). After each misbehaviour the server must
still serve others and lose nothing it has read.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.dataset as ds
import pytest

from secpipe.runtime.service import Service
from secpipe.sources.syslog import ListenerConfig, SyslogListener
from tests.integration.test_syslog_listener import lake_rows, wait_for
from tests.integration.wire_server import Server, start

CONFIG = "server: {max_body_bytes: 200000, max_decompressed_bytes: 400000, request_timeout_seconds: 2}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("wire17"), CONFIG)
    yield srv
    srv.stop()


def _connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s


def _read_until_close(s: socket.socket, limit: float = 10.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes (or ``limit`` s), and when it closed."""
    t0 = time.monotonic()
    out = b""
    s.settimeout(limit)
    while True:
        try:
            got = s.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not got:
            break
        out += got
    return out, time.monotonic() - t0


def _response(s: socket.socket, limit: float = 10.0) -> tuple[bytes, bytes]:
    """One HTTP response read from ``s``: its head (status line, headers) and its body (by Content-Length)."""
    s.settimeout(limit)
    data = b""
    while b"\r\n\r\n" not in data:
        got = s.recv(65536)
        assert got, f"the connection closed after {data!r}"
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length.group(1)) and (got := s.recv(65536)):
        body += got
    return head, body


def _alive(server: Server) -> None:
    r = httpx.post(f"{server.url}/_bulk", content=b'{"index":{}}\n{"message":"still serving"}\n',
                   headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["errors"] is False, r.text


def test_headers_sent_a_byte_at_a_time_are_cut_at_the_deadline(server: Server) -> None:
    """A slowloris (headers trickling in, each before the previous read times out) was held forever."""
    with _connect(server) as s:
        s.sendall(b"POST /_bulk HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        s.settimeout(0.5)
        head = b""
        while time.monotonic() - t0 < 8 and not head:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                head = s.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
        waited = time.monotonic() - t0
        head += _read_until_close(s, 5)[0]  # the rest of the answer, then the close
    assert head.startswith(b"HTTP/1.1 408 "), head
    answer = json.loads(head.split(b"\r\n\r\n", 1)[1])  # an ES path: ES's error object
    assert answer["error"]["type"] == "timeout_exception" and answer["status"] == 408
    assert answer["error"]["reason"].startswith("the request headers did not arrive")
    assert 1.5 < waited < 6
    _alive(server)


def test_a_connection_that_never_sends_is_closed(server: Server) -> None:
    with _connect(server) as s:
        got, waited = _read_until_close(s)
    assert got == b"" and waited < 6  # nothing begun: closed without an answer, like an idle keep-alive


def test_an_endless_header_block_is_refused_431(server: Server) -> None:
    """httptools bounds no header block: 200 MB of headers on one connection cost 200 MB of RSS."""
    with _connect(server) as s:
        s.sendall(b"POST /services/collector/event HTTP/1.1\r\nHost: x\r\n")
        pad = b"X-Pad: " + b"a" * 8000 + b"\r\n"
        sent = 0
        try:
            for _ in range(2000):  # 16 MB unless the server stops reading
                s.sendall(pad)
                sent += len(pad)
        except OSError:
            pass
        got, _waited = _read_until_close(s, 5)
    assert got.startswith(b"HTTP/1.1 431 "), got[:200]
    answer = json.loads(got.split(b"\r\n\r\n", 1)[1])  # a HEC path: Splunk's shape
    assert answer == {"text": "the request line and headers exceed 65536 bytes", "code": 6}
    assert sent < 4 << 20
    _alive(server)


def test_long_headers_within_the_bound_are_served(server: Server) -> None:
    r = httpx.get(f"{server.url}/", headers={"Authorization": f"Bearer {server.ingest}", "X-Long": "b" * 30000})
    assert r.status_code == 200 and r.json()["version"]["number"]


def test_keep_alive_requests_each_get_a_deadline(server: Server) -> None:
    """Requests on one connection, spaced by less than the deadline each, are all served."""
    body = b'{"index":{}}\n{"message":"keep-alive"}\n'
    req = (f"POST /_bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.ingest}\r\n"
           f"Content-Type: application/x-ndjson\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    with _connect(server) as s:
        for _ in range(3):
            s.sendall(req)
            head, body = _response(s)
            assert head.startswith(b"HTTP/1.1 200 ") and json.loads(body)["errors"] is False, head
            time.sleep(1.2)  # 3 x 1.2 s > the 2 s deadline: each request has its own
        got, waited = _read_until_close(s)
    assert got == b"" and waited < 4


def test_a_slow_body_on_the_query_api_gets_408(server: Server) -> None:
    """The wire endpoints had a body deadline; /v1/query and the security API had none (a sender
    could hold the request open for ever)."""
    with _connect(server) as s:
        s.sendall(f"POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.admin}\r\n"
                  "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sql\"".encode())
        t0 = time.monotonic()
        head, body = _response(s)
    assert head.startswith(b"HTTP/1.1 408 ") and time.monotonic() - t0 < 6, head
    assert "did not send the body within 2s" in json.loads(body)["error"]


def test_an_early_answer_to_expect_100_continue_closes_the_connection(server: Server) -> None:
    """A 401 sent before the body was asked for: the client keeps its body (RFC 9110 10.1.1) and
    may send its next request on the connection, which the server read as the first one's body
    and never answered. Now the answer says ``connection: close`` and the connection closes."""
    with _connect(server) as s:
        s.sendall(b"POST /_bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
                  b"Expect: 100-continue\r\nContent-Length: 300\r\n\r\n")
        time.sleep(0.3)
        s.sendall(f"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.ingest}\r\n\r\n".encode())
        got, waited = _read_until_close(s)
    head = got.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 401 ") and b"connection: close" in head
    assert got.count(b"HTTP/1.1 ") == 1 and waited < 1.5  # closed at once, not after the 2 s deadline


def test_client_gone_mid_body_is_a_dead_letter_not_a_traceback(server: Server) -> None:
    part = b'{"index":{}}\n{"message":"cut'
    with _connect(server) as s:
        s.sendall(f"POST /_bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.ingest}\r\n"
                  "Content-Type: application/x-ndjson\r\nContent-Length: 5000\r\n\r\n".encode() + part)
        time.sleep(0.3)
    where = f"reason LIKE 'the client closed the connection after {len(part)} of 5000 bytes%'"
    assert server.wait_rows(f"SELECT count(*) FROM dead_letter WHERE {where}", 1, timeout=20) == 1
    assert "Exception in ASGI application" not in server.log.read_text()
    _alive(server)
    assert server.wait_rows("SELECT count(*) FROM base_event WHERE raw_data LIKE '%still serving%'", 1) >= 1
    assert server.query("SELECT count(*) FROM base_event WHERE raw_data LIKE '%\"cut%'")[0][0] == 0


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_chunked_and_expect_100_continue(server: Server, tmp_path: Path) -> None:
    """curl sends ``Expect: 100-continue`` for bodies over 1 MB (and when asked); chunked with ``-T -``."""
    body = tmp_path / "bulk.ndjson"
    auth = f"Authorization: Bearer {server.ingest}"
    for n, extra in enumerate((["-H", "Expect: 100-continue"], ["-H", "Transfer-Encoding: chunked"])):
        body.write_bytes(b"".join(b'{"index":{}}\n{"message":"curl %d"}\n' % (i + 40 * n) for i in range(40)))
        out = subprocess.run(["curl", "-sS", "-H", auth, "-H", "Content-Type: application/x-ndjson", *extra,
                              "--data-binary", f"@{body}", f"{server.url}/_bulk"],
                             capture_output=True, check=True, timeout=30).stdout  # fmt: skip
        answer = json.loads(out)
        assert answer["errors"] is False and len(answer["items"]) == 40
    assert server.wait_rows("SELECT count(*) FROM base_event WHERE raw_data LIKE '%\"curl %'", 80) == 80


@pytest.mark.parametrize("head", [b"Content-Length: 4\r\nTransfer-Encoding: chunked",  # smuggling shapes
                                  b"Content-Length: 28\r\nContent-Length: 5"])  # fmt: skip
def test_unparseable_http_is_a_json_400_and_closes(server: Server, head: bytes) -> None:
    """uvicorn answered these text/plain; every secpipe error answer is JSON."""
    body = b'{"index":{}}\n{"message":"x"}\n'
    with _connect(server) as s:
        s.sendall(b"POST /_bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.ingest.encode() + b"\r\n"
                  + head + b"\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        got, _waited = _read_until_close(s, 5)
    status, _, rest = got.partition(b"\r\n")
    assert status == b"HTTP/1.1 400 Bad Request" and b"connection: close" in rest.lower()
    answer = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert answer["status"] == 400 and "not valid HTTP/1.1" in answer["error"]["reason"]
    _alive(server)


def test_a_transfer_coding_other_than_chunked_is_501(server: Server) -> None:
    """RFC 9112 6.1: httptools removes only the chunking, so a gzip transfer-coded body reached the
    endpoint still compressed (HEC raw stored it as text lines)."""
    body = gzip.compress(b"<13>Nov 29 07:00:00 h app: transfer-coded\n")
    with _connect(server) as s:
        s.sendall(f"POST /services/collector/raw HTTP/1.1\r\nHost: x\r\nAuthorization: Splunk {server.ingest}\r\n"
                  "Transfer-Encoding: gzip, chunked\r\n\r\n".encode() + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        got, _waited = _read_until_close(s, 5)
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501 ") and b"connection: close" in head.lower()
    assert json.loads(rest)["text"].startswith("Transfer-Encoding 'gzip, chunked' is not supported")
    _alive(server)


def test_a_leading_utf8_bom_is_no_content(server: Server) -> None:
    """RFC 8259 8.1: a parser may ignore a BOM (Elasticsearch's Jackson does; PowerShell 5's
    ``Out-File -Encoding utf8`` writes one). _bulk answered "Malformed action/metadata line [1]"
    and HEC "Invalid data format" to the whole body."""
    bom = b"\xef\xbb\xbf"
    r = httpx.post(f"{server.url}/_bulk", content=bom + b'{"index":{}}\n{"message":"bom bulk"}\n',
                   headers={"Authorization": f"Bearer {server.ingest}", "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["errors"] is False, r.text
    r = httpx.post(f"{server.url}/services/collector/event", content=bom + b'{"event":{"message":"bom hec"}}',
                   headers={"Authorization": f"Splunk {server.ingest}"})
    assert r.status_code == 200 and r.json() == {"text": "Success", "code": 0}, r.text
    sql = "SELECT count(*) FROM base_event WHERE message IN ('bom bulk', 'bom hec')"
    assert server.wait_rows(sql, 2) == 2


# --------------------------------------------------------------------------------------
# Syslog over TCP (RFC 6587 framing)
# --------------------------------------------------------------------------------------


@pytest.fixture
def syslog_tcp(data_dir: Path) -> Iterator[tuple[SyslogListener, Service]]:
    svc = Service(data_dir)
    lst = SyslogListener("s17", ListenerConfig(port=0, protocol="tcp", batch_max_seconds=0.05, max_message_bytes=1000), svc)
    lst.start()
    yield lst, svc
    lst.stop()
    svc.close()


def _send_and_stop(lst: SyslogListener, svc: Service, *parts: bytes, want: int) -> None:
    with socket.create_connection(("127.0.0.1", lst.port)) as s:
        for part in parts:
            s.sendall(part)
            time.sleep(0.05)
    wait_for(lambda: lst.accepted >= want)
    lst.stop()
    svc.flush()


def _letters(data: Path) -> list[dict]:
    dlq = data / "dlq"
    return ds.dataset(str(dlq), format="parquet").to_table().to_pylist() if dlq.exists() else []


def _octet(msg: bytes) -> bytes:
    return b"%d %s" % (len(msg), msg)


def test_an_octet_frame_over_the_limit_is_skipped_and_the_connection_read_on(
        syslog_tcp: tuple[SyslogListener, Service], data_dir: Path) -> None:
    """The whole frame is known by its count: skipping it keeps the stream in step. Ending the
    connection (as before) lost every message the sender had written after it."""
    lst, svc = syslog_tcp
    big = b"<13>Nov 29 07:00:00 h app: " + b"y" * 3000
    _send_and_stop(lst, svc, _octet(b"<13>Nov 29 07:00:00 h app: before"), _octet(big)[:1500], _octet(big)[1500:],
                   _octet(b"<13>Nov 29 07:00:01 h app: after"), want=2)
    assert sorted(r["message"] for r in lake_rows(data_dir, "base_event")) == ["after", "before"]
    (letter,) = _letters(data_dir)
    assert letter["reason"] == f"syslog message of {len(big)} bytes exceeds max_message_bytes=1000 (its first 1000 bytes kept)"
    assert letter["raw"] == _octet(big)[: len(b"%d " % len(big)) + 1000]


@pytest.mark.parametrize("line", [b"2024-05-01T10:00:00Z web1 app: iso time, no PRI",
                                  b"1700000000123 web1 app: epoch milliseconds first",
                                  b"12345678901234 eleven digits then a space",
                                  b"42"])  # fmt: skip
def test_a_line_that_starts_with_digits_is_a_line(syslog_tcp: tuple[SyslogListener, Service], data_dir: Path,
                                                  line: bytes) -> None:
    """RFC 6587 3.4: octet counting is digits *and a space*; anything else is LF-framed (rsyslog falls
    back the same way). Such a line was a "broken octet-counted frame" that ended the connection."""
    lst, svc = syslog_tcp
    _send_and_stop(lst, svc, line + b"\n", b"<13>Nov 29 07:00:01 h app: next\n", want=2)
    messages = [r["message"] for r in lake_rows(data_dir, "base_event")]
    assert "next" in messages and len(messages) == 2
    assert any(line.endswith(m.encode()) for m in messages if m != "next"), messages
    assert _letters(data_dir) == []


def test_a_newline_after_each_octet_frame_is_no_message(syslog_tcp: tuple[SyslogListener, Service], data_dir: Path) -> None:
    """``LEN MSG\\n``: a trailer after an octet-counted frame was read as the first byte of a
    newline-framed line, which then ran to the *next* frame's end (its count inside the message)."""
    lst, svc = syslog_tcp
    frames = [_octet(b"<13>Nov 29 07:00:0%d h app: framed %d" % (i, i)) + b"\n" for i in range(3)]
    _send_and_stop(lst, svc, b"".join(frames), want=3)
    assert sorted(r["message"] for r in lake_rows(data_dir, "base_event")) == ["framed 0", "framed 1", "framed 2"]
    assert _letters(data_dir) == []


def test_a_line_just_over_the_limit_is_a_dead_letter(syslog_tcp: tuple[SyslogListener, Service], data_dir: Path) -> None:
    """The reader's buffer has slack over max_message_bytes: a line within it was stored whole."""
    lst, svc = syslog_tcp
    long = b"<13>Nov 29 07:00:00 h app: " + b"z" * 1000
    _send_and_stop(lst, svc, long + b"\n<13>Nov 29 07:00:01 h app: after\n", want=1)
    assert [r["message"] for r in lake_rows(data_dir, "base_event")] == ["after"]
    (letter,) = _letters(data_dir)
    assert letter["reason"] == "syslog line longer than max_message_bytes=1000" and letter["raw"] == long


@pytest.mark.skipif(shutil.which("logger") is None, reason="util-linux logger not installed")
def test_logger_64k_octet_counted_message_split_across_reads(data_dir: Path) -> None:
    """util-linux logger with --size 65536: one 64 KB frame (the default max_message_bytes),
    arriving in many TCP reads, then a non-UTF-8 message from a raw socket."""
    svc = Service(data_dir)
    lst = SyslogListener("s17", ListenerConfig(port=0, protocol="tcp", batch_max_seconds=0.05), svc)
    lst.start()
    try:
        text = "x" * (65536 - 100)
        subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(lst.port), "-T", "--octet-count", "--size", "65536",
                        "-t", "big", text], check=True, timeout=10)  # fmt: skip
        with socket.create_connection(("127.0.0.1", lst.port)) as s:
            s.sendall(_octet(b"<13>Nov 29 07:00:01 h app: caf\xe9 \xff end"))
        wait_for(lambda: lst.accepted >= 2)
    finally:
        lst.stop()
        svc.flush()
        svc.close()
    messages = sorted(r["message"] for r in lake_rows(data_dir, "base_event"))
    assert messages == ["caf\\xe9 \\xff end", text]
    assert _letters(data_dir) == []


def test_a_udp_datagram_over_the_limit_is_a_dead_letter(data_dir: Path) -> None:
    """max_message_bytes held on TCP/TLS only: a bigger datagram was stored whole."""
    svc = Service(data_dir)
    lst = SyslogListener("s17", ListenerConfig(port=0, protocol="udp", batch_max_seconds=0.05, max_message_bytes=200), svc)
    lst.start()
    big = b"<13>Nov 29 07:00:00 h app: " + b"u" * 300
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(big, ("127.0.0.1", lst.port))
            s.sendto(b"<13>Nov 29 07:00:01 h app: small", ("127.0.0.1", lst.port))
        wait_for(lambda: lst.accepted >= 1)
        time.sleep(0.3)
    finally:
        lst.stop()
        svc.flush()
        svc.close()
    assert [r["message"] for r in lake_rows(data_dir, "base_event")] == ["small"]
    (letter,) = _letters(data_dir)
    assert letter["reason"] == f"syslog message of {len(big)} bytes exceeds max_message_bytes=200" and letter["raw"] == big
