"""Storage failures (disk full, I/O errors) inside the WAL and the lake lose nothing.

- A WAL append whose write fails leaves no bytes behind: the records appended after it (once
  space is back) are replayed, not hidden behind a torn frame.
- A WAL rotation that cannot open its new segment keeps writing the old one.
- A lake commit that fails keeps its rows buffered; the next flush commits them, once.
The integration test ``test_core_disk_full.py`` runs the same on a real full tmpfs.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats import get
from secpipe.store import _files
from secpipe.store import lake as lake_mod
from secpipe.store.lake import Lake
from secpipe.store.wal import WAL, WalRecord


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
    stored = pa.concat_tables(lake_mod.crypto.read_parquet(f, None) for f in sorted((tmp_path / "lake").rglob("*.parquet")))
    assert stored.num_rows == 30
    assert len(set(stored.column("metadata").combine_chunks().field("uid").to_pylist())) == 30
