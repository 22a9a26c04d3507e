"""``_bulk`` of a record format over a real ``secpipe up``, four senders at once: every
acknowledged record reaches the lake exactly once through a SIGKILL amid the requests (WAL
replay).

Records: Panther's real CloudTrail sample (panther-analysis, ../shared/data/real), each copy
given a distinct eventID so none is a redelivery.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.helpers import Server, query

ACTION = b'{"index":{"_index":"ct-s19"}}\n'


def _bodies(real: Path, n: int, per: int) -> list[list[bytes]]:
    base = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    docs = [json.dumps({**base[i % len(base)], "eventID": f"kill-{i}"}, separators=(",", ":")).encode() for i in range(n)]
    return [docs[i : i + per] for i in range(0, n, per)]


def test_sigkill_after_bulk_answers_loses_nothing(data_dir: Path, real: Path) -> None:
    config = data_dir.parent / "secpipe.yaml"
    config.write_text('ingest:\n  elasticsearch: {index_formats: {"ct-*": cloudtrail}}\n')
    reqs = _bodies(real, 40_000, 125)
    acked: list[int] = []
    stop = threading.Event()
    srv = Server(data_dir, "--config", str(config)).start()
    token = srv.ingest_token

    def send(k: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=60, auth=("elastic", token)) as c:
            for i in range(k, len(reqs), 4):
                if stop.is_set():
                    return
                try:
                    r = c.post("/_bulk", content=b"".join(ACTION + d + b"\n" for d in reqs[i]),
                               headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
                except httpx.HTTPError:
                    return  # the server is gone: this request was never acknowledged
                if r.status_code == 200 and not r.json()["errors"]:
                    acked.append(i)

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(send, k) for k in range(4)]
        deadline = time.monotonic() + 120
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert srv.stop(signal.SIGKILL) == -signal.SIGKILL  # right after answers, before their linger ends
        stop.set()
        for f in futures:
            f.result()
    assert 40 <= len(acked) < len(reqs), "the kill must land mid-stream"

    srv2 = Server(data_dir, "--config", str(config)).start()  # replays the write-ahead log
    assert any("replayed" in line for line in srv2.output), srv2.output
    assert srv2.stop(signal.SIGTERM) == 0
    rows = query(data_dir, "SELECT json_extract_string(raw_data, '$.eventID') AS id, count(*) AS n FROM "
                           "(SELECT raw_data FROM api_activity UNION ALL SELECT raw_data FROM authentication) GROUP BY 1")
    stored = {r["id"]: r["n"] for r in rows}
    want = [f"kill-{i * 125 + j}" for i in acked for j in range(125)]
    missing = [e for e in want if e not in stored]
    assert not missing, f"{len(missing)} acknowledged records lost"
    assert not {e: n for e, n in stored.items() if n > 1}, "records stored more than once"
