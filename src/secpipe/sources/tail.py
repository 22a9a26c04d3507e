"""File source: tails growing files, reads finished files (gzip, CloudTrail trees) once.

Config: ``sources: {x: {type: file, paths: [...], format: auto|<name>, follow: true}}``.
``paths`` are files, directories (read recursively) or globs (``**`` allowed), e.g.
``/logs/AWSLogs/**/*.json.gz`` for CloudTrail as AWS delivers it
(``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz``; ``CloudTrail-Digest``
files are integrity digests, not events, and are skipped).

Two kinds of files:
- *read once*: gzip files and files of ``document`` formats (a CloudTrail file, a scanner
  report). Read whole (:func:`secpipe.sources.files.read_documents`) once their size has
  stopped changing for one poll, then remembered by (inode, size): each is read once.
- *tailed*: everything else (line formats: NDJSON, syslog, audit logs). Whole lines are read
  from the checkpointed offset as the file grows; a partial last line waits for its newline.
  Rotation by rename+create: the old inode is drained (through the open handle, or after a
  restart by finding the inode among its directory's files) and kept being read for
  ``rotate_wait`` seconds, since writers go on writing to it until they reopen; then its last
  partial line is taken and it is forgotten. The new file is read from 0 meanwhile. Rotation by copytruncate: a size below the offset, or a changed
  fingerprint (hash of the first KiB), restarts the file at 0. A node's container log (``/var/log/containers``,
  Kubernetes' CRI format: each line behind the runtime's ``<time> <stream> <F|P>`` header) with ``format: auto``
  is read as the lines the pod wrote (:mod:`secpipe.formats._cri`), where a format recognizes them: each chunk
  unwrapped, a line's ``P`` parts kept together.

Guarantees: a chunk is handed to :meth:`Service.accept` (durable: WAL fsync) *before* its
new offset is checkpointed (``<data>/state/sources/<id>.json``, written atomically), so a
crash never loses data. A crash between the two re-reads at most that chunk after restart,
and event identity (``metadata.uid`` = hash of the record) makes the lake drop the copy: no
duplicates. Syslog lines repeated verbatim across chunks or polls stay distinct events: each
file is one stream with its own :class:`~secpipe.sources.files.FileRepeats` (in memory, the
last 4,096 to 8,192 distinct lines, 2 MiB of them at most: a few MiB a tailed file; forgotten with the file). A chunk that cannot be stored (disk full: the WAL, the dead-letter store or the
alert store refuses it) leaves its offset where it was; the next poll reads it again, until
it is stored. Lines written between the last read and a copytruncate are in the rotated copy,
not here (as with every copytruncate tailer); prefer rename rotation.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from secpipe import formats
from secpipe.errors import SecpipeError, TransientError
from secpipe.formats import _cri
from secpipe.formats.base import DeadLetter
from secpipe.sources.files import (
    GZIP_MAGIC,
    OTLP,
    SHIPPED,
    FileRepeats,
    otlp_chunk,
    otlp_head,
    read_documents,
    shipped_chunk,
    shipped_head,
)
from secpipe.store._durable import write_file_atomic

log = logging.getLogger("secpipe.sources.tail")

FINGERPRINT_BYTES = 1024
_ROTATED = "\x00rotated:"  # state key of a rotated-away inode: <path>\0rotated:<inode>
_CRI = "cri:"  # a checkpoint's format of a CRI container log: the format of the lines it wraps after it


class FileSourceError(SecpipeError):
    """The file source cannot run (e.g. its state file is unreadable)."""


@dataclass
class FileState:
    """Checkpoint of one path."""

    dev: int
    ino: int
    offset: int = 0
    fp: str = ""  # sha256 of the first fp_len bytes
    fp_len: int = 0
    format: str = ""
    once: bool = False
    size: int = 0  # read-once files: size when read
    drain_until: float = 0.0  # a rotated-away file: keep reading it until then (epoch s)


@dataclass
class _Open:
    fh: BinaryIO
    dev: int
    ino: int


def _fingerprint(fh: BinaryIO, n: int) -> str:
    fh.seek(0)
    return hashlib.sha256(fh.read(n)).hexdigest()


class FileSource:
    """One configured file source (see module docstring)."""

    def __init__(self, name: str, paths: list[str], fmt: str, service: Any, *, follow: bool = True,
                 poll_seconds: float = 1.0, chunk: int = 8 << 20, rotate_wait: float = 5.0) -> None:
        if fmt != "auto":
            formats.get(fmt)  # unknown format: fail at start, with the list of known ones
        self.name = name
        self.paths = paths
        self.fmt = fmt
        self.service = service
        self.follow = follow
        self.poll_seconds = poll_seconds
        self.chunk = chunk
        self.rotate_wait = rotate_wait
        self.state_path = Path(service.data_dir) / "state" / "sources" / f"{name}.json"
        self.files: dict[str, FileState] = self._load()
        self._open: dict[str, _Open] = {}
        self._sizes: dict[str, int] = {}  # read-once candidates: size seen at the last poll
        self._repeats: dict[tuple[int, int], FileRepeats] = {}  # syslog repeat counts per (dev, inode)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dirty = False

    # -- state ---------------------------------------------------------------------------

    def _load(self) -> dict[str, FileState]:
        if not self.state_path.exists():
            return {}
        try:
            raw = json.loads(self.state_path.read_text())
            return {p: FileState(**s) for p, s in raw["files"].items()}
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"file source {self.name}: unreadable checkpoint {self.state_path}: {exc} — fix or delete it (files are then re-read; the lake drops what it already has)"
            raise FileSourceError(msg) from exc

    def save(self) -> None:
        """Write the checkpoint atomically (tmp + fsync + rename)."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        doc = json.dumps({"version": 1, "files": {p: asdict(s) for p, s in self.files.items()}}).encode()
        write_file_atomic(self.state_path, doc, self.state_path.with_suffix(".tmp"))
        self._dirty = False

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Poll in a background thread."""
        self._thread = threading.Thread(target=self._run, name=f"secpipe-file-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except (OSError, TransientError):  # disk full, the alert store full: the offsets did not move
                log.exception("file source %s: poll failed; retrying", self.name)
            self._stop.wait(self.poll_seconds)

    def stop(self) -> None:
        """Stop polling, checkpoint, close handles."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self._dirty:
            self.save()
        for o in self._open.values():
            o.fh.close()
        self._open.clear()

    def expand(self) -> list[str]:
        """Files the configured paths currently name (sorted, digests skipped)."""
        out: set[str] = set()
        for p in self.paths:
            if any(c in p for c in "*?["):
                out.update(f for f in glob.glob(p, recursive=True) if os.path.isfile(f))
            elif os.path.isdir(p):
                out.update(str(f) for f in Path(p).rglob("*") if f.is_file() and not f.name.startswith("."))
            elif os.path.isfile(p):
                out.add(p)
        return sorted(f for f in out if "CloudTrail-Digest" not in f)

    def poll(self) -> int:
        """One pass over every file; returns the number of inputs accepted."""
        n = 0
        for key in [k for k in self.files if _ROTATED in k]:
            n += self._drain_rotated(key)
        paths = self.expand()
        gone = [p for p, rec in self.files.items() if rec.once and not os.path.exists(p)]
        for p in gone:  # a read-once file deleted (retention): forget it, the state stays small
            del self.files[p]
            self._dirty = True
        for path in paths:
            if self._stop.is_set():
                break
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            if st.st_size == 0 and path not in self.files:
                continue  # nothing to classify yet (a document being created, a new log)
            n += self._once(path, st) if self._is_once(path) else self._tail(path, st)
        if self._dirty:
            self.save()
        return n

    def _is_once(self, path: str) -> bool:
        rec = self.files.get(path)
        if rec is not None:
            return rec.once
        if path.endswith(".gz"):
            return True
        if not self.follow:
            return True
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024)
        if head[:2] == GZIP_MAGIC:
            return True
        fmt = formats.get(self.fmt) if self.fmt != "auto" else formats.detect(head)
        return fmt is not None and fmt.framing == "document"

    # -- read-once files -----------------------------------------------------------------

    def _once(self, path: str, st: os.stat_result) -> int:
        rec = self.files.get(path)
        if rec is not None and rec.once and rec.ino == st.st_ino and rec.size == st.st_size:
            return 0
        if self._sizes.get(path) != st.st_size:  # still being written: read when it settles
            self._sizes[path] = st.st_size
            return 0
        self._sizes.pop(path, None)
        n = 0
        source = f"file:{path}"
        repeats = FileRepeats(path=path)
        for doc in read_documents(path, self.fmt):
            if doc.dead is not None:
                self.service.dead_letter([doc.dead])
                continue
            assert doc.fmt is not None
            self.service.accept(doc.fmt.name, repeats.source(doc.fmt.name, doc.data, doc.source), doc.data)
            n += 1
        self.files[path] = FileState(st.st_dev, st.st_ino, st.st_size, once=True, size=st.st_size,
                                     format=self.fmt)  # fmt: skip
        log.debug("file source %s: read %s once (%d inputs)", self.name, source, n)
        self._dirty = True
        return n

    # -- tailed files --------------------------------------------------------------------

    def _tail(self, path: str, st: os.stat_result) -> int:
        rec = self.files.get(path)
        n = 0
        if rec is not None and (rec.dev, rec.ino) != (st.st_dev, st.st_ino):
            # rename+create: the old inode keeps being read for rotate_wait seconds (writers
            # go on writing to it until they reopen), then its last partial line is taken.
            key = f"{path}{_ROTATED}{rec.ino}"
            rec.drain_until = time.time() + self.rotate_wait
            self.files[key] = rec
            old = self._open.pop(path, None)
            if old is not None:
                self._open[key] = old
            n += self._drain_rotated(key)
            rec = None
        opened = self._open.get(path)
        if opened is not None and (opened.dev, opened.ino) != (st.st_dev, st.st_ino):
            opened.fh.close()
            opened = None
        if opened is None:
            opened = _Open(open(path, "rb"), st.st_dev, st.st_ino)  # noqa: SIM115 - kept open across polls
            self._open[path] = opened
        if rec is None:
            rec = FileState(st.st_dev, st.st_ino)
            self.files[path] = rec
            self._dirty = True
        size = os.fstat(opened.fh.fileno()).st_size
        if size < rec.offset or (rec.fp_len and _fingerprint(opened.fh, rec.fp_len) != rec.fp):
            log.info("file source %s: %s was truncated or replaced; reading it from the start", self.name, path)
            rec.offset, rec.fp, rec.fp_len = 0, "", 0
            self._dirty = True
        return n + self._read_lines(path, opened.fh, rec, final=False)

    def _drain_rotated(self, key: str) -> int:
        """Read a rotated-away inode (renamed or deleted); forget it once its wait is over."""
        rec = self.files[key]
        path = key.split(_ROTATED, 1)[0]
        opened = self._open.get(key)
        if opened is None:
            fh = _find_inode(os.path.dirname(path) or ".", rec.dev, rec.ino)
            if fh is None:
                log.warning("file source %s: the rotated file of %s is gone; reading the new one", self.name, path)
                del self.files[key]
                self._dirty = True
                return 0
            opened = self._open[key] = _Open(fh, rec.dev, rec.ino)
        final = time.time() >= rec.drain_until
        n = self._read_lines(path, opened.fh, rec, final=final)
        if final:
            opened.fh.close()
            del self._open[key]
            del self.files[key]
            self._repeats.pop((rec.dev, rec.ino), None)
            self._dirty = True
        return n

    def _format_for(self, head: bytes, rec: FileState) -> str | None:
        if rec.format:
            return rec.format
        if self.fmt != "auto":
            rec.format = self.fmt
        else:
            if _cri.is_cri(head):  # a node's container log: the format of the lines the pod wrote, where one reads them
                inner = formats.detect(_cri.unwrap(head[: _cri.whole_lines(head)]))
                if inner is not None:
                    rec.format = _CRI + inner.name
                    return rec.format
            found = formats.detect(head)  # (after: a container log read unwrapped is not detected as it is too)
            rec.format = found.name if found is not None else OTLP if otlp_head(head) else SHIPPED if shipped_head(head) else ""
        return rec.format or None

    def _read_lines(self, path: str, fh: BinaryIO, rec: FileState, *, final: bool) -> int:
        """Accept whole lines from ``rec.offset``; ``final`` also takes a last partial line."""
        n = 0
        source = f"file:{path}"
        while not self._stop.is_set():
            fh.seek(rec.offset)
            data = fh.read(self.chunk)
            if not data:
                break
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) < self.chunk and not final:
                    break  # a partial line: wait for its newline
                cut = len(data)  # no newline in a whole chunk, or the file is finished
            elif len(data) < self.chunk and final:
                cut = len(data)
            name = self._format_for(data[:cut], rec)
            if name is not None and name.startswith(_CRI):  # (:mod:`secpipe.formats._cri`: whole lines, unwrapped)
                whole = cut if final and cut == len(data) else _cri.whole_lines(data, cut)
                if whole == 0 and not final and len(data) < self.chunk:
                    break  # a line's parts: wait for its last record
                cut = whole or cut
                name, body = name[len(_CRI):], _cri.unwrap(data[:cut])
            else:
                body = data[:cut]
            if name is None:
                self.service.dead_letter([DeadLetter("unrecognized input: no format matched (set format: NAME on the source)",
                                                     source, rec.offset, body, "auto")])  # fmt: skip
            elif name in (SHIPPED, OTLP):  # a shipper's documents: each the line or record it wraps
                bodies, dead = (shipped_chunk if name == SHIPPED else otlp_chunk)(body, source, rec.offset)
                if dead:
                    self.service.dead_letter(dead)
                for fmt, src, part in bodies:
                    self.service.accept(fmt.name, src, part)
                n += 1
            elif body.strip():
                repeats = self._repeats.setdefault((rec.dev, rec.ino), FileRepeats(1 << 12))
                self.service.accept(name, repeats.source(name, body, source), body)
                n += 1
            rec.offset += cut
            if rec.fp_len < FINGERPRINT_BYTES:
                rec.fp_len = min(FINGERPRINT_BYTES, rec.offset)
                rec.fp = _fingerprint(fh, rec.fp_len)
            self._dirty = True  # a refused save (disk full) is done again at the end of the next poll
            self.save()  # checkpoint only after the data is durable
        return n


def _find_inode(folder: str, dev: int, ino: int) -> BinaryIO | None:
    """An open handle on the file of ``folder`` with this inode (a renamed log), or None."""
    for entry in os.scandir(folder):
        try:
            est = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if (est.st_dev, est.st_ino) == (dev, ino) and entry.is_file():
            return open(entry.path, "rb")  # noqa: SIM115 - the caller keeps and closes it
    return None


def from_options(name: str, options: Any, service: Any) -> FileSource:
    """A FileSource from validated ``FileSourceOptions``."""
    return FileSource(name, list(options.paths), options.format, service, follow=options.follow,
                      poll_seconds=options.poll_seconds)  # fmt: skip
