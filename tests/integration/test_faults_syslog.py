"""The syslog listener on a real full disk (tmpfs): TCP senders are held back, nothing is lost.

Finding (failed before the fix): a batch the service could not store (disk full) was dropped
— read off the socket (so TCP had acknowledged it to the sender), logged, and gone: on the
size path the connection was closed too, on the time path the connection even stayed open.
rsyslog cannot resend what TCP acknowledged, so those messages were lost for good. Now the
listener keeps the batch, stops reading that connection and offers the batch again with
back-off; the sender's socket fills and rsyslog queues in its action queue; when space is
back everything is stored once, in order.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from secpipe.runtime.service import Service
from secpipe.sources.syslog import ListenerConfig, SyslogListener
from tests.faults_disk import Filler, fill, small_disk
from tests.helpers import query
from tests.integration.syslog_peers import RSYSLOGD, Rsyslog
from tests.integration.test_syslog_listener import lake_rows, wait_for

needs_rsyslog = pytest.mark.skipif(not Path(RSYSLOGD).exists(), reason="rsyslog not installed (see .ci/system-deps)")


@pytest.fixture
def full(tmp_path: Path) -> Iterator[tuple[Service, Path, Filler]]:
    with small_disk(tmp_path, "8m") as mnt:
        data = mnt / "data"
        svc = Service(data)
        filler = fill(mnt)
        try:
            yield svc, data, filler
        finally:
            filler.free()
            svc.close()


def _listener(svc: Service, **kw: object) -> SyslogListener:
    lst = SyslogListener("faults", ListenerConfig(port=0, protocol="tcp", batch_max_seconds=0.05, **kw), svc)  # type: ignore[arg-type]
    lst.start()
    return lst


def _stored(svc: Service, data: Path) -> list[str]:
    svc.flush()
    return [r["message"] for r in lake_rows(data, "base_event")]


@pytest.mark.parametrize("batch", [1000, 20])  # time-based flushes only / size-based flushes too
def test_tcp_batches_wait_for_space_instead_of_being_dropped(full: tuple[Service, Path, Filler], batch: int) -> None:
    svc, data, filler = full
    lst = _listener(svc, batch_max_messages=batch)
    n = 300
    try:
        with socket.create_connection(("127.0.0.1", lst.port)) as s:
            s.sendall(b"".join(b"<13>Nov 29 07:00:00 h app: msg-%d\n" % i for i in range(n)))
            time.sleep(1.0)  # the disk is full: nothing can be stored yet
            assert lst.accepted == 0
            filler.free()
            wait_for(lambda: lst.accepted >= n, timeout=20)
    finally:
        lst.stop()
    msgs = _stored(svc, data)
    assert sorted(msgs) == sorted(f"msg-{i}" for i in range(n)), f"{n - len(set(msgs))} lost, {len(msgs) - len(set(msgs))} twice"


@needs_rsyslog
def test_rsyslog_is_held_back_and_delivers_everything_once(full: tuple[Service, Path, Filler], tmp_path: Path) -> None:
    svc, data, filler = full
    lst = _listener(svc, batch_max_messages=50)
    relay = Rsyslog(tmp_path / "rsyslog", lst.port)
    n = 400
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            for i in range(n):
                u.sendto(b"<13>Nov 29 07:00:00 h app: relayed-%d" % i, ("127.0.0.1", relay.in_port))
                if i % 50 == 49:
                    time.sleep(0.02)  # imudp's socket buffer is not flooded (UDP would drop, by design)
        time.sleep(1.5)
        assert lst.accepted == 0
        filler.free()
        wait_for(lambda: lst.accepted >= n, timeout=30)
    finally:
        out = relay.stop()
        lst.stop()
    msgs = _stored(svc, data)
    assert sorted(msgs) == sorted(f"relayed-{i}" for i in range(n)), out[-2000:]


def test_dead_letter_on_a_full_disk_waits_too(full: tuple[Service, Path, Filler]) -> None:
    svc, data, filler = full
    lst = _listener(svc, max_message_bytes=200)
    try:
        with socket.create_connection(("127.0.0.1", lst.port)) as s:
            s.sendall(b"<13>Nov 29 07:00:00 h app: " + b"L" * 500 + b"\n")  # too long: dead-lettered
            s.sendall(b"".join(b"<13>Nov 29 07:00:00 h app: after-%d\n" % i for i in range(50)))
            time.sleep(1.0)
            filler.free()
            wait_for(lambda: lst.accepted >= 50, timeout=20)
    finally:
        lst.stop()
    assert sorted(_stored(svc, data)) == sorted(f"after-{i}" for i in range(50))
    (dead,) = query(data, "SELECT reason FROM dead_letter")
    assert "max_message_bytes=200" in dead["reason"]
