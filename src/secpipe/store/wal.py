"""Write-ahead log: accepted input is durable before the sender gets its answer.

Segments ``<root>/seg-<n>.wal`` hold framed records: ``b"SPW1"``, payload length (u32),
crc32 of the payload (u32), payload (msgspec: format, source, received_ms, body).

Guarantees:
- :meth:`WAL.append` returns a sequence number; :meth:`WAL.sync` returns once everything up
  to it is fsynced. Concurrent callers share fsyncs (group commit): one fsync covers every
  record written before it started, so a burst of requests costs one or two fsyncs.
- :meth:`WAL.rotate` starts a new segment and returns the closed ones; the caller releases
  them (:meth:`WAL.release`) only after every sink committed what they hold.
- :meth:`WAL.replay` yields the records of unreleased segments in order. A torn tail (crash
  mid-write) ends a segment at its last whole record; nothing before it is lost. A damaged
  frame in the middle (media error) does not hide the records after it: its bytes come back
  as a :data:`DAMAGED` record, which the service dead-letters.
- A record is written with one unbuffered ``writev``; when that fails (disk full, I/O
  error) the segment is cut back to where the record began and the error is raised, so a
  refused record leaves no torn bytes for the records after it to hide behind at replay,
  and no buffered bytes of one request can fail another request's write.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from secpipe.security import crypto
from secpipe.store._files import fsync_dir

_MAGIC = b"SPW1"
_HEAD = struct.Struct("<4sII")


@dataclass(slots=True)
class WalRecord:
    """One accepted input."""

    format: str
    source: str
    received_ms: int
    body: bytes


class WAL:
    """Segmented, group-committed write-ahead log."""

    def __init__(self, root: Path, segment_bytes: int = 256 << 20) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._cond = threading.Condition(threading.Lock())
        self._written = 0  # last sequence number written
        self._synced = 0  # last sequence number fsynced
        self._syncing = False
        segs = self.segments()
        self._n = (int(segs[-1].stem.split("-")[1]) + 1) if segs else 1
        self.cipher = crypto.for_data_dir(self.root.parent)  # None unless the data dir is encrypted
        self._dek: bytes | None = None
        self._size = 0  # bytes in the open segment
        self._fh = self._open()

    def segments(self) -> list[Path]:
        """Unreleased segment files, oldest first."""
        return sorted(self.root.glob("seg-*.wal"))

    def _open(self):  # type: ignore[no-untyped-def]
        path = self.root / f"seg-{self._n:012d}.wal"
        fh = open(path, "ab", buffering=0)  # noqa: SIM115  (unbuffered: see _write)
        self._size = os.fstat(fh.fileno()).st_size
        if self.cipher is not None:  # encrypted segment: header with its wrapped data key first
            self._dek, head = self.cipher.new_dek()
            self._write(fh, [head])
            os.fsync(fh.fileno())
        fsync_dir(self.root)
        return fh

    def _write(self, fh, parts: list[bytes]) -> None:  # type: ignore[no-untyped-def]
        """Append ``parts`` whole, or cut the segment back to where they began and raise."""
        start, total = self._size, sum(len(x) for x in parts)
        try:
            done = os.writev(fh.fileno(), parts)
            while done < total:  # a short write (signal, nearly full disk): write the rest
                rest = b"".join(parts)[done:]
                done += os.write(fh.fileno(), rest)
        except BaseException:
            os.ftruncate(fh.fileno(), start)
            raise
        self._size = start + total

    def append(self, rec: WalRecord) -> int:
        """Write one record (not yet durable); returns its sequence number.

        Unencrypted, the body is never copied: the frame head and the msgpack prefix are
        written, then the body itself, with the crc32 run over both.
        """
        if self.cipher is not None:
            return self._append_sealed(rec)
        prefix = msgspec.msgpack.encode((rec.format, rec.source, rec.received_ms, b""))[:-2] + _bin_head(len(rec.body))
        crc = zlib.crc32(rec.body, zlib.crc32(prefix))
        head = _HEAD.pack(_MAGIC, len(prefix) + len(rec.body), crc) + prefix
        with self._lock:
            self._write(self._fh, [head, rec.body])
            return self._appended()

    def _append_sealed(self, rec: WalRecord) -> int:
        payload = msgspec.msgpack.encode((rec.format, rec.source, rec.received_ms, rec.body))
        with self._lock:
            payload = crypto.Cipher.seal_record(self._dek, payload)  # type: ignore[arg-type]
            self._write(self._fh, [_HEAD.pack(_MAGIC, len(payload), zlib.crc32(payload)), payload])
            return self._appended()

    def _appended(self) -> int:
        """Count a record just written (lock held); rotate a full segment."""
        self._written += 1
        seq = self._written
        if self._size >= self.segment_bytes:
            self._rotate_locked()
        return seq

    def sync(self, seq: int) -> None:
        """Block until record ``seq`` is on disk (group commit)."""
        while True:
            with self._cond:
                if self._synced >= seq:
                    return
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
            try:
                with self._lock:
                    target = self._written
                    fd = os.dup(self._fh.fileno())
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            finally:
                with self._cond:
                    self._syncing = False
                    self._synced = max(self._synced, target)
                    self._cond.notify_all()

    def _rotate_locked(self) -> None:
        os.fsync(self._fh.fileno())
        self._synced = max(self._synced, self._written)
        old, size = self._fh, self._size
        self._n += 1
        try:
            self._fh = self._open()
        except BaseException:  # no new segment (disk full): go on writing the old one
            (self.root / f"seg-{self._n:012d}.wal").unlink(missing_ok=True)
            self._n, self._size = self._n - 1, size
            raise
        old.close()

    def rotate(self) -> list[Path]:
        """Close the current segment (fsynced) and start a new one; returns the closed ones."""
        with self._lock:
            self._rotate_locked()
            current = self.root / f"seg-{self._n:012d}.wal"
            return [p for p in self.segments() if p != current]

    def release(self, segments: list[Path]) -> None:
        """Delete segments whose records every sink has committed."""
        for p in segments:
            p.unlink(missing_ok=True)
        fsync_dir(self.root)

    def replay(self) -> Iterator[WalRecord]:
        """Records of every segment except the open one, oldest first."""
        current = self.root / f"seg-{self._n:012d}.wal"
        for seg in self.segments():
            if seg == current:
                continue
            yield from read_segment(seg, self.cipher)

    def close(self) -> None:
        """Flush, fsync and close the open segment."""
        with self._lock:
            os.fsync(self._fh.fileno())
            self._fh.close()


#: ``WalRecord.format`` of the bytes of a damaged frame that whole frames follow (see read_segment)
DAMAGED = ""


def read_segment(path: Path, cipher: crypto.Cipher | None = None) -> Iterator[WalRecord]:
    """Whole records of one segment, in order.

    A torn tail (a crash mid-write: a record never acknowledged) ends the segment. A damaged
    frame that whole frames follow (a bad sector, a bit flip: acknowledged records) does not
    hide them: reading resumes at the next frame whose magic, length and crc32 check, and the
    bytes in between come back as one record of format :data:`DAMAGED` (source
    ``wal:<segment>``, ``received_ms`` = their offset) for the caller to dead-letter.
    An encrypted segment (SPE1 header) needs ``cipher``; its records are decrypted here.
    """
    data = path.read_bytes()
    pos = 0
    dek = None
    if crypto.is_sealed(data):
        if cipher is None:
            msg = f"{path} is encrypted but no master key is configured — set ${crypto.DEFAULT_KEY_ENV}"
            raise crypto.CryptoError(msg)
        sealed = crypto.parse_header(data, str(path))
        dek, pos = cipher.unwrap(sealed), sealed.body_offset
    while pos + _HEAD.size <= len(data):
        if not _whole_frame(data, pos):
            nxt = _next_frame(data, pos + 1)
            if nxt is None:
                return  # torn tail
            yield WalRecord(DAMAGED, f"wal:{path.name}", pos, data[pos:nxt])
            pos = nxt
        _magic, n, _crc = _HEAD.unpack_from(data, pos)
        start = pos + _HEAD.size
        payload = data[start : start + n]
        if dek is not None:
            payload = crypto.Cipher.open_record(dek, payload)
        fmt, src, received, body = msgspec.msgpack.decode(payload)
        yield WalRecord(fmt, src, received, body)
        pos = start + n


def _whole_frame(data: bytes, pos: int) -> bool:
    if pos + _HEAD.size > len(data):
        return False
    magic, n, crc = _HEAD.unpack_from(data, pos)
    start = pos + _HEAD.size
    return magic == _MAGIC and start + n <= len(data) and zlib.crc32(data[start : start + n]) == crc


def _next_frame(data: bytes, pos: int) -> int | None:
    """Offset of the next whole frame at or after ``pos``, or None."""
    while (pos := data.find(_MAGIC, pos)) != -1:
        if _whole_frame(data, pos):
            return pos
        pos += 1
    return None


def _bin_head(n: int) -> bytes:
    """msgpack ``bin`` header of an ``n``-byte string (what msgspec writes before the bytes)."""
    if n < 1 << 8:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 1 << 16:
        return b"\xc5" + n.to_bytes(2, "big")
    return b"\xc6" + n.to_bytes(4, "big")


def now_ms() -> int:
    """Current time in ms since the epoch."""
    return int(time.time() * 1000)
