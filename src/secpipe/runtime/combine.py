"""Requests of one record format that arrive together are mapped together.

Why: mapping a batch to OCSF costs a fixed ~2-4 ms (one Arrow kernel call per column, the
nested OCSF assembly) besides its per-record work. Shippers send small batches (Logstash
125 events a ``_bulk``, a webhook one payload a POST) from several connections at once, so
per-request mapping made that fixed cost dominate: CloudTrail over ``_bulk`` at 125 events a
request ran at ~12k events/s per core against ~33k at 1,000. Each lake commit also wrote one
Arrow chunk per request, which costs the Parquet writer about twice the time of few chunks.

How: a request's body is split into records by its caller, then queued per format. The
caller that next holds the decode gate (:attr:`Service.cpu`) takes every queued request of
that format, maps their records in one columnar pass, appends each body to the WAL, and
submits the batches once, all under the service lock; every caller then waits for its own
WAL fsync (group commit). A lone request is mapped on its own, as before.

Company is waited for while it is on its way or expected (:class:`Arrivals`, fed by the HTTP
layer: an ingest request counts from its start until it queues its records or ends): while
other ingest requests are being read, and while fewer requests are queued than were
recently inside the server at once (the senders' concurrency: four Logstash workers keep up
to four requests in flight, and each comes back right after its answer). The wait lasts at
most :data:`LINGER_SECONDS` after the last arrival (senders reaching the combiner one after
the other, as the event loop reads their bodies in turn, keep it going) and a bound in all,
both counted from the end of the last pass when that is later: while a pass holds the
decode gate the queued requests could not be mapped anyway, and the senders it answers
only then start back (on a busy core a request queued during a pass otherwise ran out of
linger before the pass ended, and two groups of senders kept alternating).
A single sender never waits (it has one request inside at a time); a wait that runs out with
nobody on the way caps the expectation at what came for a while (:data:`CAP_SECONDS`), so a
sender that went quiet costs a linger now and then, not on every request.

Why the expectation: on a busy single core, requests otherwise reach the gate one by one or
in alternating groups (while one group is mapped, the other is answered and comes back), and
each pass pays the fixed mapping cost for a fraction of the senders. CloudTrail over
``_bulk``, 125 events a request: 2 senders went from 1.4 to 2 requests a pass (~19k -> ~26k
events per CPU-second), 8 senders from ~3 to 8 (~28k -> ~39k); 4 senders had 2.4 a pass
before the lake's commits got cheaper (which had desynchronized them) and keep 4 now.

Guarantees:
- Each body is appended to the WAL as it was split (replay decodes it alone: the same
  events, the same uids). A request is acknowledged only after its own fsync.
- Dead letters go back to the request whose record they are (each record's source is tagged
  with its request while mapping; the tag is removed before anything is stored). If a dead
  letter cannot be traced to its request, the requests are mapped one by one instead.
- The events a pass read are the mapping's count, as a body decoded alone counts them: a
  CloudWatch Logs envelope the split took as one record is its log events, a line of OPA's
  own log is none (:attr:`Job.events`; a request mapped with others keeps its split's count,
  the pass's total is exact).
- A request whose WAL append fails (disk full) gets that error (HTTP 503: the sender
  retries); its dead letters are not stored. Its rows may still reach the lake with the
  others' (they are in the same batches); the retry then stores nothing twice (event
  identity). Rows of an acknowledged request are never left out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from secpipe.formats.base import DeadLetter, Decoded, RecordFormat, Records, guarded
from secpipe.store.wal import WalRecord, now_ms


@dataclass(eq=False)
class Job:
    """One request's body and records, and what became of them."""

    fmt: RecordFormat
    source: str
    body: bytes
    recs: Records
    dead: list[DeadLetter] = field(default_factory=list)
    #: records read, as its mapping counted them (set by :func:`map_jobs`; mapped with others: its split's count)
    events: int = 0
    seq: int = -1  # WAL sequence number once appended
    error: BaseException | None = None
    taken: bool = False  # a caller is mapping it (under the combiner's lock)
    finished: threading.Event = field(default_factory=threading.Event)


#: longest wait for other ingest requests on their way or expected before mapping without
#: them, counted from the last arrival (senders reaching the combiner one after the other keep
#: the pass waiting), and at most the second figure in all. Senders on a busy core come back
#: several milliseconds apart (their own CPU, the scheduler's slices): with 5 ms (20 in all) the
#: lingers ran out, the cap below set in, and 4 Logstash-like senders of 125 records were mapped
#: one to three requests a pass instead of four (~15-20% more server CPU an event)
LINGER_SECONDS = (0.01, 0.04)
#: how long the peak of concurrent ingest requests is remembered (two half-windows)
WINDOW_SECONDS = 1.0
#: how long a linger that ran out caps the expected company at what came: the first time,
#: and doubled on each linger that runs out again uncapped (a lasting mismatch), up to the second
CAP_SECONDS = (0.05, 1.0)


class Arrivals:
    """How many ingest requests are on their way to the combiner, and how many are usually
    inside the server at once (process-wide hints: they only decide how long to linger)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.cond = threading.Condition()
        self.coming = 0  # started, records not yet queued
        self.inside = 0  # started, not yet answered
        self._peaks = [0, 0]  # most requests inside at once, this half-window and the one before
        self._half = 0  # the current half-window's number
        self._cap = (0, 0.0)  # (expected at most, until): set when a linger ran out
        self._cap_for = CAP_SECONDS[0]  # how long the next cap lasts
        self._arrival = 0.0  # when a request last arrived (queued its records or went elsewhere)
        self.passing = 0  # mapping passes running (they hold the decode gate)
        self._passed = 0.0  # when the last pass ended

    def expected(self, now: float) -> int:
        """How many requests a pass may expect: the recent peak inside, capped after a linger ran out
        (lock held)."""
        half = int(now * 2 / WINDOW_SECONDS)
        if half != self._half:
            self._peaks = [self.inside, self._peaks[0] if half == self._half + 1 else 0]
            self._half = half
        peak = max(self._peaks)
        return min(peak, self._cap[0]) if now < self._cap[1] else peak

    @contextmanager
    def request(self) -> Iterator[None]:
        """Count the current (ingest) request as on its way while the block runs, or until
        :meth:`arrived` is called from it (the context flows into its worker threads)."""
        mark = [True]
        with self.cond:
            self.coming += 1
            self.inside += 1
            self.expected(self.clock())  # the current half-window
            self._peaks[0] = max(self._peaks[0], self.inside)
        token = _ON_ITS_WAY.set(mark)
        try:
            yield
        finally:
            _ON_ITS_WAY.reset(token)
            self._done(mark)
            with self.cond:
                self.inside -= 1

    def arrived(self) -> None:
        """The current request has queued its records (or will not): stop counting it."""
        mark = _ON_ITS_WAY.get(None)
        if mark is not None:
            self._done(mark)

    def _done(self, mark: list[bool]) -> None:
        with self.cond:
            if mark[0]:
                mark[0] = False
                self.coming -= 1
                self._arrival = self.clock()
                if not self.coming:  # while others are still coming, every waiter waits on
                    self.cond.notify_all()

    def wait(self, job: Job, linger: tuple[float, float], queued: Callable[[], int]) -> None:
        """Wait while other requests are on their way, or while fewer than expected are
        ``queued()``: at most ``linger[0]`` after the last arrival and ``linger[1]`` in all,
        and not once another caller took ``job`` into its pass. While a pass runs (it holds
        the gate, so ``job`` could not be mapped anyway) the linger does not count: it counts
        from the end of the last pass, when the requests that pass answered start back."""
        now = start = self.clock()
        with self.cond:
            while not job.taken and (self.passing or self.coming or queued() < self.expected(now)):
                if self.passing:
                    self.cond.wait(linger[1])  # woken when the pass ends
                    now = self.clock()
                    continue
                base = max(start, self._passed)
                left = min(base + linger[1], max(base, self._arrival) + linger[0]) - now
                if left <= 0:
                    if not self.coming:  # the expected company did not come: expect what did for a while
                        self._cap = (queued(), now + self._cap_for)
                        self._cap_for = min(self._cap_for * 2, CAP_SECONDS[1])
                    return
                self.cond.wait(left)
                now = self.clock()
            if not job.taken and now >= self._cap[1]:  # the expected company came, uncapped
                self._cap_for = CAP_SECONDS[0]

    @contextmanager
    def mapping(self) -> Iterator[None]:
        """A pass runs while the block does (the waiters' lingers count from its end)."""
        with self.cond:
            self.passing += 1
        try:
            yield
        finally:
            with self.cond:
                self.passing -= 1
                self._passed = self.clock()
                self.cond.notify_all()

    def notify(self) -> None:
        """Wake the waiters (jobs were done)."""
        with self.cond:
            self.cond.notify_all()


_ON_ITS_WAY: ContextVar[list[bool] | None] = ContextVar("secpipe_ingest_on_its_way", default=None)
ARRIVALS = Arrivals()


class Combiner:
    """The queue of split requests per format (see module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, list[Job]] = {}
        self._count = 0  # jobs queued, every format

    def run(self, job: Job, gate: threading.BoundedSemaphore, accept: Callable[[list[Job]], None]) -> None:
        """Queue ``job``; map and ``accept`` it (with whatever else is queued) unless another
        caller takes it first, then wait until it is done. Raises the job's error."""
        with self._lock:
            self._queued.setdefault(job.fmt.name, []).append(job)
            self._count += 1
        ARRIVALS.arrived()
        ARRIVALS.wait(job, LINGER_SECONDS, lambda: self._count)
        with gate:
            with self._lock:  # a job taken by a caller still mapping it is not taken again
                jobs = [] if job.taken else self._queued.pop(job.fmt.name, [])
                self._count -= len(jobs)
                for j in jobs:
                    j.taken = True
            if jobs:
                try:
                    with ARRIVALS.mapping():
                        accept(jobs)
                except BaseException as exc:
                    for j in jobs:
                        j.error = j.error or exc
                    raise
                finally:
                    for j in jobs:
                        j.finished.set()
        job.finished.wait()
        if job.error is not None:
            raise job.error


def map_jobs(jobs: list[Job]) -> Decoded:
    """Map the jobs' records in one pass (one format); each job's dead letters go to ``job.dead``,
    its events to ``job.events``.

    Returns the batches of all jobs and the events the mapping read of them all (the caller counts
    the dead letters of the jobs it keeps). The mapping's count is not the splits' where it opens a
    record into several events or finds one no event: a CloudWatch Logs envelope, an EventList a
    line, OPA's runtime log lines; the pass's count is exact, a job's keeps its split's.
    """
    if len(jobs) == 1:
        return _one_by_one(jobs)
    fmt = jobs[0].fmt
    both = Records(events=sum(job.recs.events for job in jobs))
    for k, job in enumerate(jobs):
        tag = f"{k}\0"
        both.raws.extend(job.recs.raws)
        both.locs.extend([(tag + src, off) for src, off in job.recs.locs])
    try:
        dec = fmt.map_records(both)
    except Exception:  # a decoder bug: find whose records, one request at a time
        return _one_by_one(jobs)
    found: list[list[DeadLetter]] = [list(job.recs.dead) for job in jobs]  # split-time letters first, as alone
    for dl in dec.dead:
        tag, sep, src = dl.source.partition("\0")
        if not sep or not tag.isdigit() or int(tag) >= len(jobs):  # not from a tagged record: map one by one
            return _one_by_one(jobs)
        dl.source = src
        found[int(tag)].append(dl)
    for job, dead in zip(jobs, found, strict=True):
        job.dead = dead
        job.events = job.recs.events
    return Decoded(batches=dec.batches, events=dec.events)


def _one_by_one(jobs: list[Job]) -> Decoded:
    """Each job mapped alone; one whose mapping raises is dead-lettered whole (as ``decode_document``)."""
    out = Decoded()
    for job in jobs:
        dec = guarded(job.fmt, job.body, job.source, lambda job=job: job.fmt.map_records(job.recs))  # type: ignore[misc]
        job.dead, job.events = dec.dead, dec.events
        out.batches.extend(dec.batches)
        out.events += dec.events
    return out


def wal_record(job: Job) -> WalRecord:
    """The WAL record of a job's body (replayed alone with the same format)."""
    return WalRecord(job.fmt.name, job.source, now_ms(), job.body)
