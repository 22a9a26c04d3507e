"""UDP syslog datagrams a real ``secpipe up`` cannot store (its data directory on a full
tmpfs) are dropped, since a UDP sender cannot resend: they are counted in ``GET /v1/metrics``
(``secpipe_syslog_udp_dropped_total{source}``) and each burst is logged when it starts and,
with the count, when storing works again; never one line per datagram, never a body."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.faults_disk import fill, small_disk
from tests.helpers import Server, free_port


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(srv: Server) -> tuple[dict[str, float], float]:
    """(dropped per source, events read)."""
    r = httpx.get(f"{srv.url}/v1/metrics", headers={"Authorization": f"Bearer {srv.admin_token}"}, timeout=10)
    assert r.status_code == 200, r.text
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    fam = fams["secpipe_syslog_udp_dropped"]
    assert fam.type == "counter" and "cannot resend" in fam.documentation
    dropped = {s.labels["source"]: s.value for s in fam.samples if s.name.endswith("_total")}
    return dropped, fams["secpipe_events"].samples[0].value


def _until(cond: Callable[[], bool], what: str, timeout: float = 60) -> None:  # polled: a cap for a loaded host
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_udp_datagrams_dropped_on_a_full_store_are_counted_and_logged_per_burst(tmp_path: Path) -> None:
    port = _udp_port()
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(f"sources:\n  edge:\n    type: syslog\n    protocol: udp\n    listen: 127.0.0.1:{port}\n"
                   "    batch_max_seconds: 0.05\n")
    with small_disk(tmp_path, "16m") as mnt, Server(mnt / "data", "--config", str(cfg), port=free_port()) as srv:
        assert _scrape(srv)[0] == {"edge": 0}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"<13>Nov 29 07:00:00 h app: before the outage", ("127.0.0.1", port))
            _until(lambda: _scrape(srv)[1] == 1, "the first message stored")
            filler = fill(mnt)
            try:
                n = 40
                for i in range(n):
                    # 3 KB each: the page slack the filler leaves in the open WAL segment takes one at most
                    udp.sendto(b"<13>Nov 29 07:00:01 h app: SECRET-BODY-%d %s" % (i, b"x" * 3000), ("127.0.0.1", port))
                    time.sleep(0.01)
                # every datagram is either read (the last bytes of a page may still take a few) or counted
                _until(lambda: sum(_scrape(srv)[0].values()) + _scrape(srv)[1] - 1 == n, f"{n}: {_scrape(srv)}")
                n_dropped = int(_scrape(srv)[0]["edge"])
                assert n_dropped >= n - 2
                starts = [x for x in srv.output if "cannot store UDP datagrams" in x]
                assert len(starts) == 1, srv.output  # one line for the burst, not one per batch
            finally:
                filler.free()
            udp.sendto(b"<13>Nov 29 07:00:02 h app: after the outage", ("127.0.0.1", port))
            _until(lambda: any("storing works again" in x for x in srv.output), "end-of-burst line")
    ended = [x for x in srv.output if "storing works again" in x]
    assert len(ended) == 1 and f"{n_dropped} UDP datagram(s) from 1 sender(s) were dropped" in ended[0]
    assert "secpipe_syslog_udp_dropped_total" in starts[0]
    assert not any("SECRET-BODY" in x for x in srv.output)  # no message bodies in logs
