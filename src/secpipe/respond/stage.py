"""The ``alert`` stage: findings out of the chain into the durable alert pipeline.

``process(batch)`` passes every batch on unchanged; from finding batches it builds alerts,
counts them for threshold rules, routes them into their groups in the alert store and
returns threshold findings as an extra batch. The record survives a process crash at once
and power loss after :meth:`AlertStage.sync` (run by the pipeline after each lake commit,
before the input WAL segments are released; see ``respond.outbox``). Under ``secpipe up`` the service calls
:meth:`AlertStage.start`: a dispatcher thread turns due groups into outbox rows every
``tick_seconds`` (and at once when woken), and one worker per channel queue and per playbook
delivers them. :meth:`AlertStage.close` stops the threads; undelivered rows stay in the
outbox and go out at the next start. Without ``start`` (``secpipe ingest``) alerts are
stored and delivered by the next ``secpipe up``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe.errors import ConfigError
from secpipe.respond.base import Notification
from secpipe.respond.channels import build_channel
from secpipe.respond.delivery import RetryPolicy, TokenBucket, Worker
from secpipe.respond.dispatch import Dispatcher
from secpipe.respond.extract import alerts_from_batch, is_finding_batch
from secpipe.respond.finding import findings_batch
from secpipe.respond.options import AlertOptions
from secpipe.respond.outbox import OutboxStorageError, Row, Store
from secpipe.respond.playbooks import Executor, load_playbooks
from secpipe.respond.router import all_routes, build_route, seconds
from secpipe.respond.thresholds import ThresholdRule, observe

log = logging.getLogger("secpipe.respond")


def audit_record(data_dir: Path | str, actor: str, action: str, **details: Any) -> dict[str, Any]:
    """Write one audit entry through the tamper-evident log (``secpipe.security.audit``)."""
    from secpipe.security.audit import record

    return record(data_dir, actor, action, **details)


class AlertStage:
    """Routes findings to receivers and playbooks (see module docstring)."""

    def __init__(self, name: str, options: AlertOptions, data_dir: Path, clock: Any = time.time) -> None:
        self.name = name
        self.opts = options
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.store = Store(self.data_dir)
        # route ids start with the stage name: two alert stages sharing a data dir keep apart
        self.root = build_route(options.route, set(options.receivers), path=f"transforms.{name}.route", rid=name)
        self.playbooks = load_playbooks(options.playbooks, options.playbooks_file, f"transforms.{name}")
        for r in all_routes(self.root):
            for pb in r.playbooks:
                if pb not in self.playbooks:
                    msg = f"transforms.{name}.route"
                    raise ConfigError(msg, f"route {r.id} names unknown playbook {pb!r} — "
                                      f"known: {', '.join(self.playbooks) or 'none'}")
        self.thresholds = [ThresholdRule.build(t, f"transforms.{name}.thresholds[{i}]")
                           for i, t in enumerate(options.thresholds)]
        self.channels: dict[str, Any] = {}
        queues: dict[str, list[str]] = {}
        for rname, ropts in options.receivers.items():
            chans = ropts.channels()
            if not chans:
                msg = f"transforms.{name}.receivers.{rname}"
                raise ConfigError(msg, "a receiver needs at least one channel: "
                                  "slack, pagerduty, webhook, email or teams")
            for kind, copts in chans.items():
                ch = build_channel(kind, rname, copts, options.tls)
                self.channels[ch.name] = ch
                queues.setdefault(rname, []).append(ch.name)
        self.workers: dict[str, Worker] = {}
        self.wake = threading.Event()
        self.dispatcher = Dispatcher(self.store, self.root, queues,
                                     {n: p.approval_required for n, p in self.playbooks.items()}, clock, self._woken,
                                     seconds(options.resolve_timeout, f"transforms.{name}.resolve_timeout"))
        self.retention_ms = int(seconds(options.outbox_retention, f"transforms.{name}.outbox_retention") * 1000)
        self._pruned_at = 0.0
        self._checkpointed_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- chain --------------------------------------------------------------------------
    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Pass the batch on; enqueue its findings as alerts; add threshold findings."""
        if not is_finding_batch(batch):
            return [batch]
        alerts = alerts_from_batch(batch)
        out = [batch]
        now_ms = int(self.clock() * 1000)
        if self.thresholds:
            fired, rows = observe(self.store, self.thresholds, alerts, now_ms)
            alerts.extend(fired)
            if rows:
                out.append(findings_batch(rows, now_ms))
        if alerts and self.dispatcher.ingest(alerts, now_ms / 1000):
            self.wake.set()
        return out

    def sync(self) -> None:
        """Make every alert recorded so far durable (called by the pipeline before WAL release)."""
        self.store.sync()
        if self._thread is None:  # not started (`secpipe ingest`): nobody else checkpoints
            self.store.checkpoint()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the dispatcher and one worker per queue (rows of a dead process are recovered)."""
        n = self.store.recover()
        if n:
            log.warning("alert outbox: %d entries were in flight at an unclean stop; sending them again", n)
        for qname, ch in self.channels.items():
            ropts = self.opts.receivers[qname.split("/")[0]]
            bucket = TokenBucket(ropts.rate_limit.per_minute, ropts.rate_limit.burst) if ropts.rate_limit else None
            policy = RetryPolicy(ropts.max_attempts, ropts.backoff_base_seconds, ropts.backoff_max_seconds)
            self.workers[qname] = Worker(self.store, qname, _notify_handler(ch), policy, bucket, clock=self.clock)
        for pname, pb in self.playbooks.items():
            q = f"playbook:{pname}"
            self.workers[q] = Worker(self.store, q, Executor(pb, self.data_dir, self.opts.tls, audit_record),
                                     RetryPolicy(pb.max_attempts, 2.0, 300.0), TokenBucket(pb.rate_per_minute, pb.burst),
                                     threads=pb.concurrency, clock=self.clock)
        for w in self.workers.values():
            w.start()
        self._thread = threading.Thread(target=self._run, name=f"secpipe-alerts-{self.name}", daemon=True)
        self._thread.start()

    def _woken(self, queues: set[str]) -> None:
        for q in queues:
            w = self.workers.get(q)
            if w is not None:
                w.wake.set()

    def prune(self) -> int:
        """Delete old finished outbox rows (runs every 10 minutes under ``start``)."""
        now = int(self.clock() * 1000)
        return self.store.prune(now - self.retention_ms, now - 4 * self.retention_ms)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatcher.flush_due()
                if self.clock() - self._checkpointed_at > 5:
                    self._checkpointed_at = self.clock()
                    self.store.checkpoint()
                if self.clock() - self._pruned_at > 600:
                    self._pruned_at = self.clock()
                    self.prune()
            except OutboxStorageError as exc:  # disk full: nothing half-recorded, the groups stay due
                log.error("alert dispatcher: %s; retrying", exc)
            except Exception:  # keep dispatching: a bad group must not stop all alerting
                log.exception("alert dispatcher failed; retrying")
            self.wake.wait(self.opts.tick_seconds)
            self.wake.clear()
        self.store.close()  # this thread's connection

    def close(self) -> None:
        """Stop dispatching and delivering (pending rows stay in the outbox)."""
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(10)
        for w in self.workers.values():
            w.stop()
            if isinstance(w.handler, Executor):
                w.handler.close()
        self.workers.clear()
        for ch in self.channels.values():
            ch.close()


def _notify_handler(channel: Any) -> Any:
    def handle(row: Row) -> str:
        n = Notification.from_dict(row.payload)
        action = row.payload.get("action")
        if action:
            channel.send(n, action)
        else:
            channel.send(n)
        return ""

    return handle


def build_stage(name: str, options: dict[str, Any], data_dir: Path | None = None) -> AlertStage:
    """Factory registered as transform type ``alert``."""
    if data_dir is None:
        msg = f"transforms.{name}"
        raise ConfigError(msg, "the alert stage needs the pipeline's data_dir")
    return AlertStage(name, AlertOptions.model_validate(options), Path(data_dir))
