"""Syslog lines repeated verbatim across batches of one stream are all kept (session 18).

sshd writes each failed password of one connection alike (same second, PID, port and text),
so those lines are byte for byte equal and only their ordinal tells them apart. The ordinal
was counted per decoded batch: a copy in the next file chunk, the next tail poll or the next
listener batch hashed like the first one and the lake dropped it as a duplicate (a repro of
session 17 lost 22 of 60 lines across a chunk boundary). Each reader now keeps a
``Repeats`` per stream; a re-read of the same file still collapses onto what is stored.

The lines are the real OpenSSH log of ``tests/cases/holdout`` (loghub, see its SOURCE.md);
the senders are util-linux ``logger`` over UDP and TCP, the file source, ``secpipe ingest``'s
file reader and HTTP bodies to a real ``secpipe up``.
"""

from __future__ import annotations

import functools
import signal
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import syslog
from secpipe.runtime import batch
from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from secpipe.runtime.service import Service
from secpipe.sources.files import read_documents
from secpipe.sources.tail import FileSource
from tests.helpers import Server
from tests.integration.test_syslog_listener import lake_rows, listener, log, needs_logger, wait_for

CASES = Path(__file__).parents[1] / "cases" / "holdout"
LINES = (CASES / "loghub_OpenSSH_head.log").read_bytes().splitlines()
FAILED = next(x for x in LINES if b"Failed password" in x)


def _stored(data: Path) -> list[dict]:
    return lake_rows(data, "authentication") + lake_rows(data, "base_event")


def _log(copies: int, between: int = 40) -> bytes:
    """The real log's lines, then ``copies`` times: ``between`` distinct lines (the real ones,
    numbered so they differ) and the failed password line."""
    out = list(LINES)
    for k in range(copies):
        out += [b"%s #%d.%d" % (LINES[i % len(LINES)], k, i) for i in range(between)]
        out.append(FAILED)
    return b"\n".join(out) + b"\n"


def test_file_chunks_are_one_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``secpipe ingest``'s reader cuts a file at line ends (8 MiB; 4 KiB here): every copy of
    the repeated line is stored, and ingesting the file again stores nothing new."""
    monkeypatch.setattr(batch, "read_documents", functools.partial(read_documents, chunk=4096))
    path = tmp_path / "auth.log"
    path.write_bytes(_log(60))
    total = len(_log(60).splitlines())
    data = tmp_path / "data"
    pipe = Pipeline(data)
    ingest_files(pipe, [str(path)], "syslog")
    pipe.flush()
    rows = _stored(data)
    assert len(rows) == total
    assert sum(r["raw_data"] == FAILED.decode() for r in rows) == 60 + LINES.count(FAILED)
    assert len({r["metadata"]["uid"] for r in rows}) == total
    pipe2 = Pipeline(data)
    ingest_files(pipe2, [str(path)], "syslog")
    res = pipe2.flush()
    assert len(_stored(data)) == total and sum(res.stored.values()) == 0


def test_stream_hint_survives_a_replay() -> None:
    """The hint travels in the batch's source (what the WAL keeps): decoding the same batch
    under the same source gives the same ids, and a batch with copies from before gets ids of
    its own."""
    fmt = syslog.Syslog()
    one = FAILED + b"\n"
    reps = syslog.Repeats()
    first, second = reps.source(one, "f"), reps.source(one, "f")
    assert first == "f" and second == "f;repeats=0:1"
    uid = [fmt.decode(one, s).batches[0].column("metadata").to_pylist()[0]["uid"] for s in (first, second, second)]
    assert uid[0] != uid[1] and uid[1] == uid[2]
    d = fmt.decode(b"\x00bad\n" + one, "f;repeats=9:1")  # the hint's offset names no line: no base
    assert not d.dead
    assert fmt.decode(one, "f;repeats=x").batches[0].column("metadata").to_pylist()[0]["uid"] == uid[0]


def test_tail_polls_are_one_stream(data_dir: Path, tmp_path: Path) -> None:
    """The file source reads what was appended since its last poll: a copy written after a
    poll is another event."""
    svc = Service(data_dir)
    path = tmp_path / "auth.log"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    src = FileSource("auth", [str(path)], "syslog", svc, poll_seconds=0.05)
    try:
        assert src.poll() == 1
        for _ in range(5):
            with path.open("ab") as fh:
                fh.write(FAILED + b"\n")
            assert src.poll() == 1
    finally:
        src.stop()
        svc.close()
    rows = _stored(data_dir)
    assert len(rows) == len(LINES) + 5
    assert sum(r["raw_data"] == FAILED.decode() for r in rows) == 5 + LINES.count(FAILED)


@needs_logger
@pytest.mark.parametrize("transport", ["-d", "-T"])
def test_listener_batches_are_one_stream(data_dir: Path, transport: str) -> None:
    """Four ``logger`` runs, the same message without a timestamp (``--rfc5424=notime``): four
    senders (each run has its own source port), four batches, four events."""
    svc = Service(data_dir)
    lst = listener(svc, "udp" if transport == "-d" else "tcp")
    try:
        for n in range(1, 5):
            log(lst.port, transport, "--rfc5424=notime", "-t", "sshd",
                "Failed password for root from 203.0.113.9 port 4242 ssh2")  # fmt: skip
            wait_for(lambda n=n: lst.accepted >= n)
    finally:
        lst.stop()
        svc.flush()
        svc.close()
    rows = lake_rows(data_dir, "authentication")
    assert len(rows) == 4 and len({r["metadata"]["uid"] for r in rows}) == 4
    assert {r["status"] for r in rows} == {"Failure"}


def _uids(d) -> list[str]:  # noqa: ANN001
    return sorted(u for b in d.batches for u in b.column("metadata").field("uid").to_pylist())


@settings(max_examples=60, deadline=None)
@given(picks=st.lists(st.integers(0, 6), min_size=2, max_size=30), cut=st.integers(1, 29),
       crlf=st.booleans(), blank=st.booleans(), octets=st.booleans())  # fmt: skip
def test_batches_of_a_stream_hash_as_one_batch(picks: list[int], cut: int, crlf: bool, blank: bool, octets: bool) -> None:
    """Cut a stream anywhere between messages: the two batches, each hinted by one
    ``Repeats``, get exactly the ids the whole stream gets as one batch (CRLF line ends, blank
    lines, a byte-order mark, octet counting)."""
    msgs = [LINES[i] for i in picks]
    cut = min(cut, len(msgs) - 1)
    fmt = syslog.Syslog()
    if octets:
        src = "tcp;framing=octet-counted"
        parts = [b"".join(b"%d %s" % (len(m), m) for m in ms) for ms in (msgs[:cut], msgs[cut:])]
    else:
        src, end = "auth.log", b"\r\n" if crlf else b"\n"
        parts = [b"".join(m + end + (b"  \n" if blank else b"") for m in ms) for ms in (msgs[:cut], msgs[cut:])]
        parts[0] = b"\xef\xbb\xbf" + parts[0]
    whole = _uids(fmt.decode(parts[0] + parts[1], src))
    reps = syslog.Repeats()
    split = sorted(_uids(fmt.decode(parts[0], reps.source(parts[0], src))) + _uids(fmt.decode(parts[1], reps.source(parts[1], src))))
    assert split == whole and len(whole) == len(msgs)


def test_http_bodies_of_one_sender_are_one_stream(data_dir: Path) -> None:
    """A shipper POSTing log lines in batches (``/v1/ingest/syslog`` on a real ``secpipe up``):
    a copy in its next body is another event, while the same body sent again (a retry after
    a lost answer) collapses onto what the first one stored."""
    first = b"\n".join(LINES[:3] + [FAILED]) + b"\n"
    second = b"\n".join([FAILED, LINES[6]]) + b"\n"
    with Server(data_dir) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        h = {"Authorization": f"Bearer {srv.ingest_token}"}
        for body in (first, second, second, first):
            r = c.post("/v1/ingest/syslog", content=body, headers=h)
            assert r.status_code == 200, r.text
        assert srv.stop(signal.SIGTERM) == 0
    rows = _stored(data_dir)
    assert len(rows) == 6
    assert sum(r["raw_data"] == FAILED.decode() for r in rows) == 2
