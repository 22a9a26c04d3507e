"""The alert outbox on a real full disk (a size-limited tmpfs): retryable errors, nothing half
recorded, workers that survive, and a row sent once is not sent again.

Findings these tests pin (each failed before its fix):
- a full disk raised ``sqlite3.OperationalError`` out of the store (an HTTP 500 with a
  traceback on ingest, and a dead file-source thread) instead of a retryable
  :class:`~secpipe.errors.TransientError` (HTTP 503 "retry later");
- a delivery worker that could not claim a ready row retried at once, in a loop (a core
  spinning, an error logged per spin, for as long as the disk stayed full);
- a delivery worker whose ``done`` write hit the full disk died (the exception escaped its
  thread): its queue was never drained again until a restart, and the row that had already
  been sent was sent a second time after the restart;
- a playbook command that ran while the audit log could not be written was dead-lettered as
  "cannot run" (the ``OSError`` of the audit write was taken for the command's own).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from secpipe.errors import TransientError
from secpipe.respond.base import DeliveryError
from secpipe.respond.delivery import RetryPolicy, Worker
from secpipe.respond.outbox import OutboxStorageError, Row, Store
from secpipe.respond.playbooks import Executor, Playbook
from secpipe.respond.stage import audit_record
from secpipe.security.audit import verify
from tests.faults_disk import fill, small_disk


def _alert(i: int) -> tuple[str, str, str, dict[str, str], float, dict[str, object]]:
    labels = {"rule": f"r{i}", "pad": "x" * 3000}  # a few KB per alert: each commit needs new pages
    alert = {"fingerprint": f"fp{i}", "status": "firing", "labels": labels, "annotations": {}, "starts_at": 0, "ends_at": 0}
    return ("root", f"g{i}", "team", {"rule": f"r{i}"}, 0.0, alert)


def test_full_disk_is_a_retryable_error_and_rolls_back(tmp_path: Path) -> None:
    with small_disk(tmp_path, "4m") as mnt:
        store = Store(mnt / "data")
        assert store.upsert_alerts([_alert(0)], 1000) == 1
        filler = fill(mnt)
        with pytest.raises(OutboxStorageError) as err:
            for i in range(1, 50):  # a commit that needs a new page fails
                store.upsert_alerts([_alert(i)], 1000 + i)
        assert isinstance(err.value, TransientError) and "free space" in str(err.value)
        assert isinstance(err.value.__cause__, sqlite3.OperationalError)
        failed = next(i for i in range(1, 50) if not store.group_alerts("root", f"g{i}"))
        filler.free()
        # the connection is not left inside a half transaction: the same thread writes again
        assert store.upsert_alerts([_alert(failed)], 5000) == 1
        assert store.group_alerts("root", f"g{failed}")[0]["fingerprint"] == f"fp{failed}"
        store.close()


def test_worker_survives_a_full_disk_and_sends_each_row_once(tmp_path: Path) -> None:
    with small_disk(tmp_path, "4m") as mnt:
        store = Store(mnt / "data")
        ids = [store.enqueue("team/webhook", "notify", {"n": i, "pad": "y" * 3000}, 0) for i in range(12)]
        sent: list[int] = []
        fillers = []

        def handler(row: Row) -> str:  # the receiver: accepts every row; the disk fills meanwhile
            sent.append(row.payload["n"])
            if len(sent) == 3:
                fillers.append(fill(mnt))
                threading.Timer(1.5, fillers[0].free).start()
            return ""

        w = Worker(store, "team/webhook", handler, RetryPolicy(max_attempts=3, base_seconds=0.01))
        w.start()
        try:
            deadline = time.monotonic() + 20
            while store.counts().get("delivered", 0) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.05)
            alive = all(t.is_alive() for t in w._threads)
        finally:
            w.stop()
        assert fillers, "the disk was never filled"
        assert alive, "the delivery worker died on the full disk"
        assert store.counts() == {"delivered": len(ids)}
        assert sorted(sent) == list(range(12)), f"rows sent more than once or lost: {sent}"
        store.close()


def test_worker_backs_off_while_it_cannot_claim(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "secpipe.respond.delivery")
    with small_disk(tmp_path, "4m") as mnt:
        store = Store(mnt / "data")
        for i in range(3):
            store.enqueue("team/webhook", "notify", {"n": i}, 0)
        filler = fill(mnt)
        sent: list[int] = []
        w = Worker(store, "team/webhook", lambda row: sent.append(row.payload["n"]) or "", RetryPolicy())
        t0 = time.monotonic()
        w.start()
        try:
            # rows are ready but cannot be claimed (the lease is a write): the worker logs and backs off
            def errors() -> list[logging.LogRecord]:
                return [r for r in caplog.records if r.name == "secpipe.respond.delivery"]

            while not errors() and time.monotonic() < t0 + 30:  # its first attempt (a loaded host is slow)
                time.sleep(0.05)
            time.sleep(max(0.0, t0 + 1.5 - time.monotonic()))
            n = len(errors())
            assert 0 < n < 10, f"{n} errors logged in {time.monotonic() - t0:.1f} s: the worker spins"
            filler.free()
            deadline = time.monotonic() + 15
            while store.counts().get("delivered", 0) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            w.stop()
        assert sorted(sent) == [0, 1, 2]
        store.close()


def test_playbook_run_not_audited_on_a_full_disk_is_retried_not_rejected(tmp_path: Path) -> None:
    with small_disk(tmp_path, "2m") as mnt:
        data = mnt / "data"
        pb = Playbook("isolate", [{"type": "command", "argv": ["true"]}])
        ex = Executor(pb, data, None, audit_record)
        job = {"alerts": [{"fingerprint": "fp1", "labels": {"rule": "r1"}}], "route": "root", "receiver": "team"}
        row = Row(1, "playbook:isolate", "playbook", job, "running", 1, 0, 0, 0, "")
        assert ex(row) == "exit 0"
        filler = fill(mnt)
        with pytest.raises(DeliveryError, match="audit log could not be written"):
            ex(row)  # the command ran but is not on the audit log: retried, never "cannot run" (terminal)
        filler.free()
        assert ex(row) == "exit 0"
        ex.close()
        res = verify(data)
        assert res.ok and res.entries == 2, res.problems
