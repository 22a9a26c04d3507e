"""Requests mapped together (runtime/combine.py): each keeps its own dead letters and WAL
record, every good record is stored once, and a restart replays each body alone to the
same events.

Records: the real CloudTrail record of falco's plugin trace (StartInstances), with its
eventID varied so each request's records are distinct events; one request carries a record
whose eventName has the wrong JSON type (a mapping-time dead letter), another a line that
is not JSON (a split-time dead letter).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.runtime import combine
from secpipe.runtime.service import Service
from secpipe.store import query


def _bodies(real: Path) -> list[bytes]:
    base = json.loads((real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes())["Records"][0]
    bodies = []
    for k in range(4):
        lines = [json.dumps({**base, "eventID": f"req{k}-{i}"}).encode() for i in range(3)]
        if k == 1:
            lines[1] = json.dumps({**base, "eventID": "req1-bad", "eventName": {"not": "text"}}).encode()
        if k == 2:
            lines[2] = b'{"eventVersion": "1.08", "eventName": '  # cut short: not JSON
        bodies.append(b"\n".join(lines))
    return bodies


def _count(data: Path, sql: str) -> list[dict]:
    cols, rows = query.run(data, sql)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_requests_queued_together_are_mapped_once_and_answered_apart(tmp_path: Path, real: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = formats.get("cloudtrail")
    assert isinstance(fmt, formats.base.RecordFormat)
    calls: list[int] = []
    mapper = type(fmt).map_records

    def counted(self: object, recs: formats.base.Records) -> Decoded:
        calls.append(len(recs.raws))
        return mapper(self, recs)  # type: ignore[arg-type]

    monkeypatch.setattr(type(fmt), "map_records", counted)
    svc = Service(tmp_path)
    results: dict[int, Decoded] = {}

    def send(k: int, body: bytes) -> None:
        recs = fmt.split_records(body, f"req{k}")
        results[k] = svc.accept_records(fmt, f"req{k}", body, recs)

    held = 0
    while svc.cpu.acquire(blocking=False):  # every slot of the gate busy: the four requests queue behind it
        held += 1
    threads = [threading.Thread(target=send, args=(k, b)) for k, b in enumerate(_bodies(real))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60  # a cap for a loaded host: the loop ends as soon as all four are queued
    while len(svc._combiner._queued.get("cloudtrail", [])) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(svc._combiner._queued.get("cloudtrail", [])) == 4, "the four requests did not queue behind the gate"
    for _ in range(held):
        svc.cpu.release()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert calls == [11], "one mapping pass over the 11 readable records of the four requests"
    assert {k: r.events for k, r in results.items()} == {0: 3, 1: 3, 2: 3, 3: 3}
    assert not results[0].dead and not results[3].dead
    (bad1,) = results[1].dead
    assert bad1.source == "req1" and b"req1-bad" in bad1.raw and "eventName" in bad1.reason
    (bad2,) = results[2].dead
    assert bad2.source == "req2" and "JSON" in bad2.reason
    svc.flush()
    rows = _count(tmp_path, "select metadata.original_event_uid as id from api_activity order by id")
    good = sorted(f"req{k}-{i}" for k in range(4) for i in range(3))
    good.remove("req1-1")
    good.remove("req2-2")
    assert [r["id"] for r in rows] == good
    dead = _count(tmp_path, "select source from dead_letter order by source")
    assert [r["source"] for r in dead] == ["req1", "req2"]
    svc.close()


def test_a_restart_replays_each_combined_body_alone(tmp_path: Path, real: Path) -> None:
    fmt = formats.get("cloudtrail")
    assert isinstance(fmt, formats.base.RecordFormat)
    svc = Service(tmp_path)
    jobs = [combine.Job(fmt, f"req{k}", b, fmt.split_records(b, f"req{k}")) for k, b in enumerate(_bodies(real))]
    svc._accept_jobs(jobs)  # four requests mapped in one pass and logged, not committed
    for job in jobs:
        svc.wal.sync(job.seq)
    assert [j.seq for j in jobs] == sorted({j.seq for j in jobs}), "one WAL record per request"
    svc.wal.close()  # no commit: as after a crash, the next start replays the WAL
    again = Service(tmp_path)
    again.close()
    rows = _count(tmp_path, "select count(*) as n, count(distinct metadata.uid) as u from api_activity")
    assert rows == [{"n": 10, "u": 10}]
    # dead letters are durable at accept time; the replay finds them stored and does not write them again
    dead = _count(tmp_path, "select source, count(*) as n from dead_letter group by source order by source")
    assert dead == [{"source": "req1", "n": 1}, {"source": "req2", "n": 1}]


def test_a_replay_keeps_identical_dead_letters_it_had_not_stored(tmp_path: Path, real: Path) -> None:
    """Two requests with the same bad record from the same source are two dead letters; a crash
    after only the first was stored leaves the replay to write the second, and only it."""
    fmt = formats.get("cloudtrail")
    assert isinstance(fmt, formats.base.RecordFormat)
    body = _bodies(real)[2]  # one record is not JSON
    svc = Service(tmp_path)
    first = combine.Job(fmt, "same", body, fmt.split_records(body, "same"))
    svc._accept_jobs([first])
    svc.wal.sync(first.seq)
    seq = svc.wal.append(combine.wal_record(first))  # the same body logged again, then the crash came before its dead letter was written
    svc.wal.sync(seq)
    svc.wal.close()
    Service(tmp_path).close()
    dead = _count(tmp_path, "select source, count(*) as n, count(distinct sha256) as d from dead_letter group by source")
    assert dead == [{"source": "same", "n": 2, "d": 1}]
