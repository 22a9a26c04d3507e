"""The long-running pipeline behind `secpipe up`: WAL in front, lake behind, timed flushes.

Flow of one accepted input (:meth:`Service.accept`): decode (outside the lock) -> WAL append
-> pipeline submit (dead letters written now, batches buffered) -> group-committed fsync of
the WAL -> return counts; the caller acks the sender only then. Decoding is CPU-bound Python:
at most one input per usable CPU decodes at a time (:attr:`Service.cpu`), so concurrent
requests on a small machine run one after the other (cache-warm, no GIL ping-pong) while
the WAL fsyncs of earlier ones still overlap. A background thread
flushes the lake every ``max_seconds`` (or when ``max_rows`` are buffered): it rotates the
WAL, commits the lake, then releases the closed segments, so a segment is deleted only
when everything it holds is in the lake. When storage fails (disk full, I/O error) nothing
accepted is dropped: a refused WAL append leaves no bytes behind and the sender is told to
retry (HTTP 503); a failed lake commit keeps its rows buffered and its WAL segments, and the
flusher retries with back-off until it succeeds. Every ``compact_seconds`` the flusher also
merges the small part files commits leave (:mod:`secpipe.store.compact`). At start,
unreleased segments are replayed through the same decoders; event identity drops what the
lake already committed.

One payload a POST (:meth:`Service.accept_push`: Falco ``http_output``, GitHub and GitLab
webhooks): such senders wait for each answer, so nothing arrives together to be combined, and
mapping one record costs the fixed ~1-3 ms of a columnar batch (about a hundred Arrow calls).
A body the format recognizes (its ``sniff``) and that splits into records is acknowledged once
it is in the WAL (fsync), and mapped afterwards with the others that came meanwhile
(:data:`PUSH_LINGER_SECONDS`, or at once when :data:`PUSH_BACKLOG` are waiting), by the mapper
thread or by the next flush, which maps everything appended before its WAL rotation before it
commits and releases those segments. What the answer then counts is the records taken; a
record the mapping cannot place is dead-lettered afterwards, with its reason, as at replay. A
body the format does not recognize, or that does not split, is decoded before the answer as
before, so a misrouted or unreadable body still gets its 400 and reason.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secpipe import formats
from secpipe.formats import _context
from secpipe.formats.base import DeadLetter, Decoded, Format, RecordFormat, Records, guarded
from secpipe.runtime.combine import ARRIVALS, Combiner, Job, map_jobs, wal_record
from secpipe.runtime.pipeline import Pipeline
from secpipe.store import compact, dlq
from secpipe.store.wal import DAMAGED, WAL, WalRecord, now_ms
from secpipe.transforms.base import Stage

if TYPE_CHECKING:
    from secpipe.formats.syslog import Streams

log = logging.getLogger("secpipe.service")

#: how long an acknowledged one-payload POST waits for others to be mapped with (see module docstring)
PUSH_LINGER_SECONDS = 0.05
#: payloads waiting that are mapped at once, without lingering
PUSH_BACKLOG = 512


@dataclass
class ServiceStats:
    """Counters of the service's own work, for ``/v1/metrics`` (what the pipeline totals do not hold)."""

    started: float
    inputs: int = 0  # bodies accepted (durable)
    commits: int = 0
    commit_failures: int = 0
    last_commit: float = 0.0  # epoch seconds of the last successful lake commit
    compacted_files: int = 0  # part files merged away
    compaction_failures: int = 0
    mapping_passes: int = 0  # passes of record-format requests mapped together (runtime/combine.py)
    mapped_requests: int = 0  # requests those passes mapped


@dataclass
class Accepted:
    """What one input produced."""

    events: int
    accepted: int
    dead_letter: int
    reasons: list[str]


def decode_body(fmt_name: str, body: bytes, source: str) -> tuple[Format | None, Decoded]:
    """Decode one body with a named format or ``auto``; unknown content is dead-lettered. A
    source holding a shipper's context (``;ctx=``: an OpenTelemetry record's resource, a HEC
    envelope's fields) is decoded without it, its events stamped with it (:mod:`secpipe.formats._context`)."""
    if fmt_name == "auto":
        fmt = formats.detect(body[: 64 * 1024])
        if fmt is None:
            return None, Decoded(
                dead=[DeadLetter("unrecognized input: no format matched", source, 0, body, "auto")], events=1
            )
    else:
        fmt = formats.get(fmt_name)
    return fmt, _context.decode(fmt, body, source)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. under ``taskset``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity masks
        return os.cpu_count() or 1


class Service:
    """Pipeline + WAL + flusher for one data directory.

    ``cpu``: the decode gate (one slot per usable CPU); hold it for CPU-bound work on an
    input (format detection, :meth:`decode`), never while waiting for I/O.
    """

    def __init__(self, data_dir: Path, stages: list[Stage] | None = None, *, max_rows: int = 500_000,
                 max_seconds: float = 2.0, compact_seconds: float = 300.0, raw_data: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.pipeline = Pipeline(self.data_dir, stages, max_rows=max_rows, max_seconds=max_seconds, raw_data=raw_data)
        self.compact_seconds = compact_seconds  # 0: never merge small lake files
        self._compacted = time.monotonic()
        self.stats = ServiceStats(started=time.time())
        self.wal = WAL(self.data_dir / "wal")
        self._lock = threading.Lock()
        self.cpu = threading.BoundedSemaphore(usable_cpus())
        self._combiner = Combiner()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pushed: list[Job] = []  # acknowledged one-payload bodies not yet mapped (in the WAL)
        self._push_wake = threading.Condition(self._lock)
        self._push_map = threading.Lock()  # held from taking pushed jobs until their batches are submitted
        self._mapper: threading.Thread | None = None
        self._syslog_streams: Streams | None = None  # made with the first syslog body (imports syslog)
        self.replayed = self._replay()

    def _replay(self) -> int:
        """Decode the unreleased WAL segments again into the lake; their dead letters that the
        store already holds (written when first accepted) are not written twice."""
        n = 0
        closed = self.wal.rotate()
        stored: Counter[tuple[str, str, int, str]] | None = None
        for rec in self.wal.replay():
            if rec.format == DAMAGED:  # bytes of a damaged frame: kept, with why, not guessed at
                reason = f"write-ahead log frame damaged (magic/length/crc32 check failed) at byte {rec.received_ms}"
                log.error("%s of %s: %d byte(s) dead-lettered", reason, rec.source, len(rec.body))
                dec = Decoded(dead=[DeadLetter(reason, rec.source, rec.received_ms, rec.body, "wal")], events=1)
            elif rec.format == "kafka-poll":  # a Kafka source's poll (sources/kafka_batch.py)
                from secpipe.sources.kafka_batch import replay

                dec = replay(rec.body)
                n += 1
            else:
                _fmt, dec = decode_body(rec.format, rec.body, rec.source)
                n += 1
            if dec.dead:
                stored = self.pipeline.dlq.stored() if stored is None else stored
                dec.dead = [d for d in dec.dead if not _take(stored, dlq.identity(d))]
            self.pipeline.submit(dec)
        self.pipeline.flush()
        self.wal.release(closed)
        if n:
            log.warning("replayed %d WAL record(s) after an unclean stop", n)
        return n

    def start(self) -> None:
        """Start the background flusher, then every stage's background work (``start()`` hook)."""
        self._thread = threading.Thread(target=self._run, name="secpipe-flusher", daemon=True)
        self._thread.start()
        self._mapper = threading.Thread(target=self._map_pushed_loop, name="secpipe-mapper", daemon=True)
        self._mapper.start()
        for st in self.pipeline.stages:
            hook = getattr(st, "start", None)
            if callable(hook):
                hook()

    def _run(self) -> None:
        failures = 0
        while not self._stop.wait(min(0.25 * 2 ** min(failures, 5), 5.0)):
            if not self.pipeline.lake.due():
                continue
            try:
                self.flush()
            except OSError as exc:  # disk full, I/O error: the rows stay buffered, the WAL keeps them
                failures += 1
                self.stats.commit_failures += 1
                log.error("lake commit failed, %d row(s) kept and retried: %s", self.pipeline.lake.pending_rows, exc)
            else:
                if failures:
                    log.warning("lake commit succeeded again after %d failed attempt(s)", failures)
                failures = 0
                self._compact_when_due()

    def _compact_when_due(self) -> None:
        """Merge the lake's small files every ``compact_seconds`` (outside the ingest lock:
        compaction only replaces committed files; the dedup index reads around it)."""
        if not self.compact_seconds or time.monotonic() - self._compacted < self.compact_seconds:
            return
        self._compacted = time.monotonic()
        lake, dlq = self.pipeline.lake, self.pipeline.dlq
        try:
            for res in (compact.compact(lake.root, lake.cipher, compression=lake.compression),
                        compact.compact(dlq.root, dlq.cipher, partitions=compact.DLQ_PARTITIONS)):
                self.stats.compacted_files += res.files_in - res.files_out
        except OSError as exc:  # disk full: the small files stay, nothing is lost; next time
            self.stats.compaction_failures += 1
            log.error("compaction failed, the small files are kept: %s", exc)

    def decode(self, fmt_name: str, body: bytes, source: str) -> tuple[Format | None, Decoded]:
        """:func:`decode_body` through the decode gate (:attr:`cpu`)."""
        with self.cpu:
            return decode_body(fmt_name, body, source)

    def sender_stream(self, fmt_name: str, body: bytes, source: str) -> tuple[str, str]:
        """(format name, source) to accept a body a sender POSTed under: a syslog body (named,
        or found by ``auto``) is one more batch of that sender's stream, its source hinted with
        the repeats it holds (:class:`~secpipe.formats.syslog.Streams`); any other is as given,
        an ``auto`` body under the format detection found (so the decode does not detect again)."""
        if fmt_name not in ("auto", "syslog"):
            return fmt_name, source
        if fmt_name == "auto":
            with self.cpu:
                found = formats.detect(body[: 64 * 1024])
            if found is None:
                return fmt_name, source  # the decode dead-letters it as unrecognized
            if found.name != "syslog":
                return found.name, source
        if self._syslog_streams is None:
            from secpipe.formats.syslog import Streams

            with self._lock:
                if self._syslog_streams is None:
                    self._syslog_streams = Streams()
        return "syslog", self._syslog_streams.source(body, source)

    def accept(self, fmt_name: str, source: str, body: bytes, decoded: Decoded | None = None, *,
               sender: bool = False) -> Accepted:
        """Make one input durable and process it; returns when it is safe to ack. ``sender``:
        the body is one a sender POSTed (see :meth:`sender_stream`)."""
        ARRIVALS.arrived()  # not coming to the combiner: nobody should wait for it
        if sender and decoded is None:
            fmt_name, source = self.sender_stream(fmt_name, body, source)
        if decoded is None:
            _fmt, decoded = self.decode(fmt_name, body, source)
        with self._lock:
            seq = self.wal.append(WalRecord(fmt_name, source, now_ms(), body))
            self.pipeline.submit(decoded)
            self.stats.inputs += 1
        self.wal.sync(seq)
        rows = sum(b.num_rows for b in decoded.batches)
        return Accepted(decoded.events, rows, len(decoded.dead), [d.reason for d in decoded.dead[:5]])

    def accept_many(self, records: list[WalRecord], decoded: Decoded) -> None:
        """Make several inputs durable with one WAL sync and submit what they decoded to (one
        pass over a poll's Kafka messages: :mod:`secpipe.sources.kafka_batch`); returns when
        it is safe to acknowledge them (commit their offsets)."""
        ARRIVALS.arrived()  # not coming to the combiner
        with self._lock:
            seq = 0
            for rec in records:
                seq = self.wal.append(rec)
            self.pipeline.submit(decoded)
            self.stats.inputs += len(records)
        if seq:
            self.wal.sync(seq)

    def accept_push(self, fmt_name: str, source: str, body: bytes) -> Accepted:
        """Like :meth:`accept` for one payload a POST: acknowledged once in the WAL, mapped
        afterwards with the payloads that came meanwhile (see module docstring). A body the
        format does not recognize or that does not split into records goes through :meth:`accept`."""
        fmt = formats.get(fmt_name)
        if not isinstance(fmt, RecordFormat) or self._mapper is None or not fmt.sniff(body[: 64 * 1024]):
            return self.accept(fmt_name, source, body)
        with self.cpu:
            res = guarded(fmt, body, source, lambda: fmt.split_records(body, source))
        if not isinstance(res, Records) or not res.raws:
            return self.accept(fmt_name, source, body)
        ARRIVALS.arrived()  # not coming to the combiner
        job = Job(fmt, source, body, res)
        with self._lock:
            job.seq = self.wal.append(wal_record(job))
            self._pushed.append(job)
            self.stats.inputs += 1
            self._push_wake.notify()
        self.wal.sync(job.seq)
        return Accepted(res.events, len(res.raws), len(res.dead), [d.reason for d in res.dead[:5]])

    @property
    def pushed_waiting(self) -> int:
        """Payloads :meth:`accept_push` acknowledged that are not mapped yet (a gauge for /v1/metrics)."""
        return len(self._pushed)

    def _map_pushed_loop(self) -> None:
        """The mapper thread: maps acknowledged payloads a linger after the first came."""
        while not self._stop.is_set():
            jobs: list[Job] = []
            with self._lock:
                while not self._pushed and not self._stop.is_set():
                    self._push_wake.wait()
            deadline = time.monotonic() + PUSH_LINGER_SECONDS
            while len(self._pushed) < PUSH_BACKLOG and not self._stop.is_set() and time.monotonic() < deadline:
                time.sleep(min(0.005, PUSH_LINGER_SECONDS))
            try:
                with self._push_map:
                    with self._lock:
                        jobs, self._pushed = self._pushed, []
                    self._submit_pushed(jobs)
            except Exception as exc:  # storage failed: the jobs wait again (and are in the WAL)
                log.error("storing %d acknowledged payload(s) failed, retried: %s", len(jobs), exc)
                self._stop.wait(1.0)

    def _submit_pushed(self, jobs: list[Job]) -> None:
        """Map ``jobs`` (one pass per format, through the decode gate) and submit their batches
        and dead letters (caller holds :attr:`_push_map`)."""
        groups: dict[str, list[Job]] = {}
        for job in jobs:
            groups.setdefault(job.fmt.name, []).append(job)
        left = list(groups.values())
        while left:
            try:
                with self.cpu:
                    decoded = map_jobs(left[0])
                decoded.dead = [dl for job in left[0] for dl in job.dead]  # (events: the mapping's count)
                with self._lock:
                    self.pipeline.submit(decoded)
            except BaseException:  # storage failed: what was not submitted waits again, before newer ones
                with self._lock:  # (a segment is released only once its jobs were submitted)
                    self._pushed[:0] = [job for group in left for job in group]
                raise
            left.pop(0)

    def accept_records(self, fmt: RecordFormat, source: str, body: bytes, recs: Records) -> Decoded:
        """Like :meth:`accept` for a body already split into ``recs`` (``fmt.split_records(body)``):
        requests of the same format waiting for the decode gate together are mapped in one pass
        (:mod:`secpipe.runtime.combine`). Returns this request's dead letters and events (its
        batches went to the pipeline with the others')."""
        job = Job(fmt, source, body, recs)
        self._combiner.run(job, self.cpu, self._accept_jobs)
        self.wal.sync(job.seq)
        return Decoded(dead=job.dead, events=job.events)

    def _accept_jobs(self, jobs: list[Job]) -> None:
        decoded = map_jobs(jobs)
        with self._lock:
            for job in jobs:
                try:
                    job.seq = self.wal.append(wal_record(job))
                except OSError as exc:  # disk full: this sender retries (503); the others go on
                    job.error = exc
            ok = [job for job in jobs if job.error is None]
            self.stats.mapping_passes += 1
            self.stats.mapped_requests += len(jobs)
            if ok:
                decoded.dead = [dl for job in ok for dl in job.dead]
                decoded.events -= sum(job.events for job in jobs if job.error is not None)
                self.pipeline.submit(decoded)
                self.stats.inputs += len(ok)

    def dead_letter(self, letters: list[DeadLetter]) -> int:
        """Persist dead letters of an input that could not even be decoded (durable now)."""
        with self._lock:
            return self.pipeline.dlq.write(letters)

    def flush(self) -> None:
        """Commit the lake and release the WAL segments it covers: the pushed payloads appended
        before the rotation are mapped and submitted first, so a released segment holds nothing
        that is not in the lake."""
        with self._push_map:
            with self._lock:
                closed = self.wal.rotate()
                jobs, self._pushed = self._pushed, []
            if jobs:
                self._submit_pushed(jobs)
            with self._lock:
                self.pipeline.flush()
                self.wal.release(closed)
                self.stats.commits += 1
                self.stats.last_commit = time.time()

    def close(self) -> None:
        """Stop the flusher, commit everything, close the WAL."""
        self._stop.set()
        with self._lock:
            self._push_wake.notify_all()
        for thread in (self._thread, self._mapper):
            if thread:
                thread.join()
        self.flush()
        self.wal.close()
        for st in self.pipeline.stages:  # background work of stages (alert delivery...) stops last
            hook = getattr(st, "close", None)
            if callable(hook):
                hook()


def _take(counts: Counter[tuple[str, str, int, str]], key: tuple[str, str, int, str]) -> bool:
    """Take one of ``key`` from ``counts``; False when none is left."""
    if counts[key] <= 0:
        return False
    counts[key] -= 1
    return True
