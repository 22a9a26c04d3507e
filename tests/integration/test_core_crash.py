"""Crash safety: SIGKILL `secpipe up` mid-stream; every acknowledged event ends up in the lake once."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.helpers import Server, query

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_cloudtrail import records  # noqa: E402


def test_sigkill_mid_stream_loses_no_acknowledged_event(data_dir: Path) -> None:
    recs = list(records(30_000, seed=11))
    batches = [recs[i : i + 100] for i in range(0, len(recs), 100)]
    acked: list[str] = []
    stop = threading.Event()
    srv = Server(data_dir).start()

    def send() -> None:
        h = {"Authorization": f"Bearer {srv.ingest_token}"}
        with httpx.Client(base_url=srv.url, timeout=60) as c:  # a slow answer is not a dead server
            for b in batches:
                if stop.is_set():
                    return
                try:
                    r = c.post("/v1/ingest/cloudtrail", content=json.dumps({"Records": b}), headers=h)
                except httpx.HTTPError:
                    return  # the server is gone: this batch was never acknowledged
                if r.status_code == 200:
                    acked.extend(x["eventID"] for x in b)

    t = threading.Thread(target=send)
    t.start()
    deadline = time.monotonic() + 180  # polled: a loaded host takes long to acknowledge 8,000
    while len(acked) < 8_000 and t.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.stop(signal.SIGKILL) == -signal.SIGKILL  # mid-stream, no chance to flush
    stop.set()
    t.join(30)
    assert 8_000 <= len(acked) < len(recs), "the kill must land mid-stream"
    ingest_token = srv.ingest_token

    srv2 = Server(data_dir).start()  # replays the write-ahead log
    assert any("replayed" in line for line in srv2.output), srv2.output
    # and the pipeline keeps working after recovery
    with httpx.Client(base_url=srv2.url, timeout=60) as c:
        r = c.post("/v1/ingest/cloudtrail", content=json.dumps({"Records": recs[-100:]}),
                   headers={"Authorization": f"Bearer {ingest_token}"})
        assert r.status_code == 200
    assert srv2.stop(signal.SIGTERM) == 0

    rows = query(data_dir, "SELECT metadata.original_event_uid AS id, count(*) AS n FROM api_activity "
                           "GROUP BY 1 UNION ALL SELECT metadata.original_event_uid, count(*) FROM authentication GROUP BY 1")
    stored = {r["id"]: r["n"] for r in rows}
    missing = [i for i in acked if i not in stored]
    assert not missing, f"{len(missing)} acknowledged events lost"
    dupes = {k: v for k, v in stored.items() if v > 1}
    assert not dupes, f"events stored more than once: {list(dupes)[:5]}"
