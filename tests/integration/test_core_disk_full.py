"""Disk full under `secpipe up`: refused requests say "retry later", and nothing acknowledged is lost.

The data directory is a real 6 MB tmpfs (``mount -t tmpfs``; needs root, as CI has: skipped
with the reason otherwise). Events stream over HTTP until the disk fills: the server must
answer 503 with a reason (not 500), keep every acknowledged event (in its WAL and its lake
buffer) while the lake cannot be committed, and commit them once space is back. Then it is
killed with SIGKILL and restarted, so the WAL written around the failures is replayed too:
every acknowledged event is in the lake exactly once. ``secpipe ingest`` on a full disk exits
1 with the reason and a JSON summary, leaves no temp files, and a re-run stores the rest.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import faults_disk
from tests.helpers import SECPIPE, Server, query

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_cloudtrail import records  # noqa: E402


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with faults_disk.small_disk(tmp_path, size="6m") as mnt:
        yield mnt


def _resize(mnt: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mnt)], check=True)


def test_disk_full_answers_retry_later_and_loses_nothing(small_disk: Path) -> None:
    data = small_disk / "data"
    recs = list(records(12_000, seed=23))
    batches = [recs[i : i + 200] for i in range(0, len(recs), 200)]
    srv = Server(data).start()  # embedded default: the lake commits every 2 s
    token = srv.ingest_token
    acked: list[str] = []
    refused: list[httpx.Response] = []

    def send(client: httpx.Client, batch: list[dict[str, object]]) -> None:
        r = client.post("/v1/ingest/cloudtrail", content=json.dumps({"Records": batch}),
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code in (200, 503), (r.status_code, r.text[:300])
        if r.status_code == 200:
            acked.extend(str(x["eventID"]) for x in batch)
        else:
            refused.append(r)

    with contextlib.ExitStack() as stack:  # the server stops even when an assert fails
        stack.callback(srv.__exit__)
        c = stack.enter_context(httpx.Client(base_url=srv.url, timeout=30))
        send(c, batches[0])
        # 1 MB left: the WAL and the lake run out of space within a few batches however fast
        # the flusher commits and releases WAL segments (a slow host commits between requests)
        filler = faults_disk.fill(small_disk)
        filler.leave(1 << 20)
        sent = 1
        while sent < 45 and len(refused) < 3:
            send(c, batches[sent])
            sent += 1
        assert refused, "the disk never filled: nothing was refused"
        assert acked, "nothing was accepted before the disk filled"
        body = refused[0].json()
        assert "retry later" in body["error"] and refused[0].headers["retry-after"]
        filler.free()
        _resize(small_disk, "256m")
        for b in batches[sent:]:
            send(c, b)
        assert len(acked) > 8_000 and len(refused) < 40, (len(acked), len(refused))
        log = "\n".join(srv.output)
        assert srv.stop(signal.SIGKILL) == -signal.SIGKILL

    with Server(data) as srv2:  # replays the WAL written around the failures
        assert srv2.stop(signal.SIGTERM) == 0
    rows = query(data, "SELECT metadata.original_event_uid AS id, count(*) AS n FROM api_activity GROUP BY 1 "
                       "UNION ALL SELECT metadata.original_event_uid, count(*) FROM authentication GROUP BY 1")  # fmt: skip
    stored = {r["id"]: r["n"] for r in rows}
    missing = [i for i in acked if i not in stored]
    assert not missing, f"{len(missing)} acknowledged events lost; server log:\n{log[-2000:]}"
    assert not {k: v for k, v in stored.items() if v > 1}, "events stored more than once"
    assert "Traceback" not in log, log[-3000:]



def test_batch_ingest_on_a_full_disk_fails_clearly_and_resumes(small_disk: Path, tmp_path: Path) -> None:
    src = tmp_path / "trail.json"
    src.write_text(json.dumps({"Records": list(records(20_000, seed=5))}))  # ~25 MB of JSON, ~5 MB of Parquet
    _resize(small_disk, "2m")
    data = small_disk / "batch"
    run = subprocess.run([*SECPIPE, "ingest", "--json", "--data", str(data), str(src)], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "No space left on device" in run.stderr
    summary = json.loads(run.stdout)
    assert "run the same command again" in summary["error"] and summary["events"] == 20_000
    assert not list(data.rglob(".tmp-*")), "a failed write must not leave its temp file taking space"
    _resize(small_disk, "256m")
    again = subprocess.run([*SECPIPE, "ingest", "--json", "--data", str(data), str(src)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    done = json.loads(again.stdout)
    assert sum(done["stored"].values()) + done["duplicates"] == 20_000
    assert query(data, "SELECT count(*) AS n FROM api_activity")[0]["n"] + query(
        data, "SELECT count(*) AS n FROM authentication")[0]["n"] == 20_000
