"""Delivery workers: one thread per outbox queue, retries with backoff, dead letters.

Each queue (``<receiver>/<channel>``, ``playbook:<name>``) has its own worker threads, so a
receiver that is down or slow only delays its own rows. A worker claims the oldest ready row
(leased in the database), waits for its receiver's rate limit (a token bucket: rows are
delayed, never dropped), calls the handler, and then:

- success -> ``delivered``;
- :class:`~secpipe.respond.base.DeliveryError` (network, 5xx, 408, 429) -> back to
  ``pending`` after ``Retry-After`` when the receiver sent one, else exponential backoff with
  full jitter (``base * 2**(attempt-1)``, capped, times a random factor in [0.5, 1]);
- :class:`~secpipe.respond.base.DeliveryRejected` (or any terminal error, e.g. an unset secret) or ``max_attempts`` reached -> ``dead``
  (listed by ``secpipe alerts list --state dead``, replayable with ``secpipe alerts replay ID``).

A row is marked delivered only after the handler returned, so a crash in between sends it
again after restart: at-least-once. When the outcome cannot be recorded (disk full:
:class:`~secpipe.respond.outbox.OutboxStorageError`) the worker keeps it and retries the
write with back-off until it succeeds, so a row sent once is not sent again while the process
lives; a store error while claiming only delays the queue (the thread never dies of it).
Error texts stored and logged are scrubbed of URLs.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secpipe.errors import SecpipeError, TerminalError, TransientError
from secpipe.respond.base import DeliveryError, scrub
from secpipe.respond.outbox import OutboxStorageError, Row, Store

log = logging.getLogger("secpipe.respond.delivery")
Clock = Callable[[], float]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst``; :meth:`take` says how long to wait."""

    def __init__(self, per_minute: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self.tokens = self.burst
        self.clock = clock
        self.last = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token; returns 0 when granted, else the seconds to wait before retrying."""
        with self._lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate if self.rate > 0 else 3600.0


@dataclass
class RetryPolicy:
    """How often and how fast to retry one queue."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    max_seconds: float = 300.0
    max_retry_after: float = 3600.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds before the next attempt (``attempt`` = attempts made so far, >= 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        cap = min(self.max_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return cap * rng.uniform(0.5, 1.0)


Handler = Callable[[Row], str]


class Worker:
    """Drains one queue."""

    def __init__(self, store: Store, queue: str, handler: Handler, policy: RetryPolicy,
                 bucket: TokenBucket | None = None, threads: int = 1, lease_seconds: float = 120.0,
                 clock: Clock = time.time) -> None:
        self.store = store
        self.queue = queue
        self.handler = handler
        self.policy = policy
        self.bucket = bucket
        self.threads = threads
        self.lease_ms = int(lease_seconds * 1000)
        self.clock = clock
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self.rng = random.Random()

    def start(self) -> None:
        """Start the worker threads."""
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"secpipe-deliver-{self.queue}-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the in-flight row (left pending or retried, never lost)."""
        self.stop_event.set()
        self.wake.set()
        for t in self._threads:
            t.join(timeout)

    def _loop(self) -> None:
        failures = 0
        while not self.stop_event.is_set():
            try:
                busy = self.run_once()
                failures = 0
            except (TransientError, OSError, SecpipeError) as exc:  # store full, a handler's I/O error:
                failures += 1  # the row's lease brings it back; back off (a ready row would make it spin)
                wait = min(5.0, 0.25 * 2 ** min(failures, 5))
                if isinstance(exc, TransientError | OSError):
                    log.error("delivery worker %s: %s; retrying in %.1fs", self.queue, exc, wait)
                else:
                    log.exception("delivery worker %s: store error; retrying in %.1fs", self.queue, wait)
                self.stop_event.wait(wait)
                continue
            if not busy:
                nxt = self.store.next_ready_ms(self.queue)
                wait = 0.5 if nxt is None else max(0.0, min(0.5, nxt / 1000 - self.clock()))
                self.wake.wait(wait)
                self.wake.clear()
        self.store.close()  # this thread's connection

    def run_once(self) -> bool:
        """Claim and handle one row; False when nothing was ready."""
        now = self.clock()
        row = self.store.claim(self.queue, int(now * 1000), self.lease_ms)
        if row is None:
            return False
        if self.bucket is not None:
            wait = self.bucket.take()
            while wait > 0 and not self.stop_event.is_set():
                self.stop_event.wait(min(wait, 1.0))
                wait = self.bucket.take()
            if self.stop_event.is_set():
                self._record(self.store.retry, row.id, int(self.clock() * 1000), "stopped before sending")
                return False
        self.handle(row)
        return True

    def _record(self, op: Callable[..., Any], *args: Any) -> None:
        """Write a row's outcome, retrying while the store cannot be written (disk full).

        Gives up only when the worker stops: the row then stays ``running`` and the next
        start sends it again (:meth:`Store.recover`), the documented at-least-once.
        """
        wait = 0.1
        while True:
            try:
                op(*args)
                return
            except OutboxStorageError as exc:
                if self.stop_event.is_set():
                    log.error("%s: outcome of entry %d not recorded before stop (sent again at the next start): %s",
                              self.queue, args[0], exc)
                    raise
                log.error("%s: outcome of entry %d not recorded, retrying in %.1fs: %s", self.queue, args[0], wait, exc)
                self.stop_event.wait(wait)
                wait = min(wait * 2, 5.0)

    def handle(self, row: Row) -> None:
        """Deliver one claimed row and record the outcome."""
        try:
            note = self.handler(row)
        except TerminalError as exc:  # DeliveryRejected, or a config problem (secret unset)
            msg = scrub(str(exc))
            log.warning("%s: entry %d rejected, dead-lettered: %s", self.queue, row.id, msg)
            self._record(self.store.dead, row.id, int(self.clock() * 1000), msg)
            return
        except DeliveryError as exc:
            msg = scrub(str(exc))
            if row.attempts >= self.policy.max_attempts:
                log.warning("%s: entry %d failed %d times, dead-lettered: %s", self.queue, row.id, row.attempts, msg)
                self._record(self.store.dead, row.id, int(self.clock() * 1000), f"{row.attempts} attempts; last: {msg}")
                return
            delay = self.policy.delay(row.attempts, exc.retry_after, self.rng)
            log.info("%s: entry %d attempt %d failed (%s); retry in %.1fs", self.queue, row.id, row.attempts, msg, delay)
            self._record(self.store.retry, row.id, int((self.clock() + delay) * 1000), msg)
            return
        self._record(self.store.done, row.id, int(self.clock() * 1000), note or "")
