"""Storage failures (disk full, I/O errors) inside the WAL and the lake lose nothing.

- A WAL append whose write fails leaves no bytes behind: the records appended after it (once
  space is back) are replayed, not hidden behind a torn frame.
- A WAL rotation that cannot open its new segment keeps writing the old one.
- A lake commit that fails keeps its rows buffered; the next flush commits them, once.
- A damaged WAL frame (media error) is dead-lettered; the records after it are replayed.
The integration test ``test_core_disk_full.py`` runs the same on a real full tmpfs.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats import get
from secpipe.runtime.service import Service
from secpipe.security import crypto
from secpipe.store import _files
from secpipe.store.lake import Lake
from secpipe.store.query import run
from secpipe.store.wal import WAL, WalRecord, read_segment


def _rec(i: int) -> WalRecord:
    return WalRecord("json", f"test:{i}", 1_700_000_000_000 + i, b'{"n": %d}' % i)


def test_failed_wal_append_leaves_no_torn_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = WAL(tmp_path)
    wal.sync(wal.append(_rec(1)))
    real = os.writev

    def half_then_full(fd: int, parts: list[bytes]) -> int:
        os.write(fd, b"".join(parts)[:7])  # part of the frame reaches the file, then ENOSPC
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "writev", half_then_full)
    with pytest.raises(OSError, match="No space"):
        wal.append(_rec(2))
    monkeypatch.setattr(os, "writev", real)
    wal.sync(wal.append(_rec(3)))
    closed = wal.rotate()
    assert [r.source for r in wal.replay()] == ["test:1", "test:3"]
    wal.release(closed)
    wal.close()


def test_wal_rotation_without_space_keeps_the_old_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = WAL(tmp_path)
    wal.sync(wal.append(_rec(1)))
    real_open = WAL._open

    def no_space(self: WAL):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(WAL, "_open", no_space)
    with pytest.raises(OSError):
        wal.rotate()
    monkeypatch.setattr(WAL, "_open", real_open)
    wal.sync(wal.append(_rec(2)))  # still writable: the same segment
    assert len(wal.segments()) == 1
    wal.rotate()
    assert [r.source for r in wal.replay()] == ["test:1", "test:2"]
    wal.close()


def test_failed_lake_commit_keeps_rows_for_the_next_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"\n".join(b'{"eventVersion":"1.08","eventTime":"2024-01-0%dT00:00:00Z","eventSource":"s3.amazonaws.com",'
                      b'"eventName":"GetObject","awsRegion":"us-east-1","eventID":"e%d"}' % (1 + i % 3, i) for i in range(30))  # fmt: skip
    decoded = get("cloudtrail").decode(b'{"Records":[' + body.replace(b"\n", b",") + b"]}", "test")
    assert sum(b.num_rows for b in decoded.batches) == 30
    lake = Lake(tmp_path / "lake")
    for b in decoded.batches:
        lake.append(b)
    real = _files.write_parquet
    calls = {"n": 0}

    def second_day_fails(table: pa.Table, sink: object, compression: str = "zstd") -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the first day is committed, the second hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        real(table, sink, compression)

    monkeypatch.setattr(_files, "write_parquet", second_day_fails)
    with pytest.raises(OSError):
        lake.flush()
    assert lake.pending_rows == 20  # the two days not committed are kept
    assert not list((tmp_path / "lake").rglob(".tmp-*")), "a failed write must not leave its temp file"
    res = lake.flush()
    assert res.stored == {"api_activity": 20} and res.duplicates == 0
    stored = pa.concat_tables(crypto.read_parquet(f, None) for f in sorted((tmp_path / "lake").rglob("*.parquet")))
    assert stored.num_rows == 30
    assert len(set(stored.column("metadata").combine_chunks().field("uid").to_pylist())) == 30


def test_damaged_wal_frame_hides_no_later_record(tmp_path: Path, real: Path) -> None:
    """A bit flip in an acknowledged record (media error) costs that record, kept as a dead
    letter with its bytes, not the records after it; a torn tail still ends the segment."""
    records = json.loads((real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())["Records"]
    bodies = [json.dumps({"Records": records[i : i + 10]}).encode() for i in (0, 10, 20)]
    data = tmp_path / "data"
    wal = WAL(data / "wal")
    for i, b in enumerate(bodies):
        wal.sync(wal.append(WalRecord("cloudtrail", f"test:{i}", 1_700_000_000_000, b)))
    wal.close()
    (seg,) = WAL(data / "wal").segments()[:1]
    raw = bytearray(seg.read_bytes())
    second = raw.find(b"SPW1", 1)
    raw[second + 200] ^= 0x01  # inside the second record's body
    seg.write_bytes(bytes(raw) + b"SPW1\x00\x00")  # and a torn tail after the third
    assert [r.format or "DAMAGED" for r in read_segment(seg)] == ["cloudtrail", "DAMAGED", "cloudtrail"]
    svc = Service(data)  # replays the WAL
    svc.close()
    totals = svc.pipeline.totals  # records 1-10 and 21-30 (one repeats: a duplicate)
    assert sum(totals.stored.values()) + totals.duplicates == 20 and totals.dead_letter == 1
    (row,) = run(data, "SELECT reason, source, raw FROM dead_letter")[1]
    assert "damaged" in row[0] and row[1] == f"wal:{seg.name}" and bytes(row[2]).startswith(b"SPW1")
