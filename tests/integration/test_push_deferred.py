"""One payload a POST (Falco ``http_output``): acknowledged once in the WAL, mapped afterwards
(``Service.accept_push``). Every acknowledged alert reaches the lake exactly once, through a
clean stop and through a SIGKILL between the answer and the mapping; a body the format does
not recognize is still refused before the answer.

Alerts: the real ``single_rule_with_cat_write.json`` Falco output (falcosecurity/falco test
data, ../shared/data/real/falco), each given a distinct ``proc.pid`` so none is a redelivery.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.helpers import Server, query


def _alerts(real: Path, n: int) -> list[bytes]:
    lines = [json.loads(x) for x in (real / "falco/test/output_files/single_rule_with_cat_write.json").read_bytes().splitlines() if x.strip()]
    out = []
    for i in range(n):
        alert = dict(lines[i % len(lines)])
        alert["output_fields"] = {**alert["output_fields"], "proc.pid": 100_000 + i}
        out.append(json.dumps(alert, separators=(",", ":")).encode())
    return out


def _stored_pids(data: Path) -> dict[int, int]:
    rows = query(data, "SELECT CAST(json_extract(raw_data, '$.output_fields.\"proc.pid\"') AS BIGINT) AS pid, "
                       "count(*) AS n FROM detection_finding GROUP BY 1")  # fmt: skip
    return {r["pid"]: r["n"] for r in rows}


def test_sequential_falco_alerts_stored_once(data_dir: Path, real: Path) -> None:
    alerts = _alerts(real, 200)
    srv = Server(data_dir).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60, headers={"Authorization": f"Bearer {srv.ingest_token}"}) as c:
            for body in alerts:
                r = c.post("/v1/falco", content=body)
                assert r.status_code == 200 and r.json() == {"events": 1, "accepted": 1, "dead_letter": 0}, r.text
            # valid JSON that is not a Falco alert is decoded before the answer, as before: a 400 with why
            r = c.post("/v1/falco", content=b'{"hello": "world"}')
            assert r.status_code == 400 and "nothing in the body could be read" in r.json()["error"], r.text
    finally:
        assert srv.stop(signal.SIGTERM) == 0
    assert _stored_pids(data_dir) == {100_000 + i: 1 for i in range(200)}


def test_sigkill_after_ack_before_mapping_loses_nothing(data_dir: Path, real: Path) -> None:
    alerts = _alerts(real, 3000)
    acked: list[int] = []
    stop = threading.Event()
    srv = Server(data_dir).start()
    token = srv.ingest_token

    def send() -> None:
        with httpx.Client(base_url=srv.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
            for i, body in enumerate(alerts):
                if stop.is_set():
                    return
                try:
                    r = c.post("/v1/falco", content=body)
                except httpx.HTTPError:
                    return  # the server is gone: this alert was never acknowledged
                if r.status_code == 200:
                    acked.append(100_000 + i)

    t = threading.Thread(target=send)
    t.start()
    deadline = time.monotonic() + 120
    while len(acked) < 300 and t.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.stop(signal.SIGKILL) == -signal.SIGKILL  # right after answers, before their linger ends
    stop.set()
    t.join(30)
    assert 300 <= len(acked) < len(alerts), "the kill must land mid-stream"

    srv2 = Server(data_dir).start()  # replays the write-ahead log
    assert any("replayed" in line for line in srv2.output), srv2.output
    assert srv2.stop(signal.SIGTERM) == 0
    stored = _stored_pids(data_dir)
    missing = [p for p in acked if p not in stored]
    assert not missing, f"{len(missing)} acknowledged alerts lost"
    assert not {p: n for p, n in stored.items() if n > 1}, "alerts stored more than once"
