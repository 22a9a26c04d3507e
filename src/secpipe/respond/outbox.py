"""The persistent alert store: group state, outbox queues, silences, threshold counters.

One SQLite database at ``<data>/state/alerts/alerts.db`` in WAL mode with
``synchronous=NORMAL`` plus an explicit :meth:`Store.sync` (fsync of the database's WAL). Why SQLite rather than an append-only log: the outbox needs per-row
state changes (pending -> running -> delivered / dead, attempt counts, next retry time,
approvals, replays) and indexed "what is due now per queue" lookups; SQLite's WAL gives an
fsynced commit per transaction (group state, outbox rows and resolved-alert cleanup change
together or not at all), concurrent readers (the CLI and the HTTP API read while `secpipe up`
writes) and crash recovery we do not have to write.

Guarantees:
- An alert recorded by :meth:`Store.upsert_alerts` survives a process crash when the call
  returns (the commit is in the SQLite WAL file). It survives power loss once
  :meth:`Store.sync` ran: the pipeline calls it (through the stage's ``sync`` hook) after
  each lake commit and before it releases the input WAL segments, so until then the input
  events are still in secpipe's own fsynced WAL and a restart derives the alerts again.
  Commits are ordered: after a power loss a prefix of them survives, never a mix. Why not
  ``synchronous=FULL``: an fsync per commit cost ~8 ms per ingest request under the
  service lock and capped streaming alerting at ~50 events/s.
- A notification becomes an outbox row in the same transaction that records the group as
  notified, so a crash never loses one and never records a send that was not queued.
- A row is marked delivered only after the channel accepted it: a crash in between sends it
  again after restart (at-least-once). :meth:`Store.recover` returns rows left ``running``
  by a dead process to ``pending``.
- Each queue (``<receiver>/<channel>`` or ``playbook:<name>``) is claimed independently, so
  one failing receiver never holds another's rows back.
- Storage failures (disk full, I/O error, a lock held too long) raise
  :class:`OutboxStorageError`, a :class:`~secpipe.errors.TransientError`: the transaction is
  rolled back (nothing half-recorded, the connection stays usable) and the caller retries —
  an ingest request is answered "retry later", a delivery worker keeps the outcome of a sent
  row and records it once space is back (it does not send it again).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from secpipe.errors import SecpipeError, TransientError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_groups (
  route TEXT NOT NULL, group_key TEXT NOT NULL, receiver TEXT NOT NULL, group_labels TEXT NOT NULL,
  created_ms INTEGER NOT NULL, next_flush_ms INTEGER NOT NULL, last_notify_ms INTEGER NOT NULL DEFAULT 0,
  last_sent TEXT NOT NULL DEFAULT '', PRIMARY KEY (route, group_key));
CREATE INDEX IF NOT EXISTS groups_due ON alert_groups (next_flush_ms);
CREATE TABLE IF NOT EXISTS group_alerts (
  route TEXT NOT NULL, group_key TEXT NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL,
  alert TEXT NOT NULL, updated_ms INTEGER NOT NULL, PRIMARY KEY (route, group_key, fingerprint));
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, lease_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL, done_ms INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS outbox_ready ON outbox (queue, state, next_ms);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state);
CREATE TABLE IF NOT EXISTS silences (
  id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_ms INTEGER NOT NULL, ends_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL, comment TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS threshold_counts (
  rule TEXT NOT NULL, key TEXT NOT NULL, window_ms INTEGER NOT NULL, count INTEGER NOT NULL,
  fired INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (rule, key, window_ms));
"""

_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()

#: outbox row states.
STATES = ("pending", "running", "delivered", "dead", "approval", "rejected")


class OutboxError(SecpipeError):
    """An outbox operation that cannot be done (unknown id, wrong state)."""


class OutboxStorageError(TransientError, OSError):
    """The alert database could not be written (disk full, I/O error): nothing was recorded, retry.

    Also an ``OSError`` (``errno`` ENOSPC / EIO), so every place that already treats a storage
    failure as "keep the input, retry" (the service's flusher, the sources, ``secpipe ingest``,
    HTTP 503) treats a full alert store the same way.
    """

    def __init__(self, path: Path, exc: sqlite3.Error) -> None:
        self.message = (f"alert store {path}: {exc} — free space on {path.parent} (or fix the disk); "
                        "nothing was recorded, retry later")
        super().__init__(self.message)
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
            self.errno = errno.ENOSPC if code == sqlite3.SQLITE_FULL else errno.EIO
            self.strerror = f"{os.strerror(self.errno)} (alert store)"

    def __str__(self) -> str:
        return self.message


@dataclass
class Row:
    """One outbox row."""

    id: int
    queue: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_ms: int
    created_ms: int
    done_ms: int
    last_error: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (payload included)."""
        return self.__dict__.copy()


def db_path(data_dir: Path | str) -> Path:
    """Where a data directory keeps the alert store."""
    return Path(data_dir) / "state" / "alerts" / "alerts.db"


class Store:
    """Thread-safe access to the alert database (one connection per thread)."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = db_path(data_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with _LOCKS_GUARD:
            self._wlock = _WRITE_LOCKS.setdefault(str(self.path.resolve()), threading.Lock())
        try:
            self._con().executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:
            raise OutboxStorageError(self.path, exc) from exc

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA busy_timeout=30000")
            # no checkpoint inside a commit (it would run on the ingest path); see checkpoint()
            con.execute("PRAGMA wal_autocheckpoint=0")
            self._local.con = con
        return con

    def sync(self) -> None:
        """fsync the database's WAL and main file (everything committed so far is durable)."""
        for p in (self.path.with_name(self.path.name + "-wal"), self.path):
            if p.exists():
                fd = os.open(p, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file (run off the ingest path, by the dispatcher thread)."""
        try:
            self._con().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as exc:
            raise OutboxStorageError(self.path, exc) from exc

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def tx(self) -> _Tx:
        """``with store.tx() as c:`` — one IMMEDIATE transaction, committed on exit.

        Writers of one process take a process-wide lock per database first: SQLite's own busy
        handler sleeps 10-100 ms when a write lock is taken, which would stall the ingest path
        behind a delivery worker; the in-process lock hands over in microseconds.
        """
        return _Tx(self._con(), self._wlock, self.path)

    # -- groups -------------------------------------------------------------------------
    def upsert_alerts(self, items: list[tuple[str, str, str, dict[str, str], float, dict[str, Any]]], now_ms: int) -> int:
        """Record alerts in their groups; returns how many changed (new or new status).

        ``items``: (route id, group key, receiver, group labels, group_wait seconds, alert dict).
        A repeat with an unchanged status only refreshes ``updated_ms`` (dedup).
        """
        changed = 0
        with self.tx() as c:
            for route, key, receiver, glabels, wait, alert in items:
                c.execute(
                    "INSERT OR IGNORE INTO alert_groups (route, group_key, receiver, group_labels, created_ms, next_flush_ms)"
                    " VALUES (?,?,?,?,?,?)",
                    (route, key, receiver, orjson.dumps(glabels).decode(), now_ms, now_ms + int(wait * 1000)),
                )
                cur = c.execute("SELECT status FROM group_alerts WHERE route=? AND group_key=? AND fingerprint=?",
                                (route, key, alert["fingerprint"])).fetchone()
                if cur is not None and cur[0] == alert["status"]:
                    c.execute("UPDATE group_alerts SET updated_ms=? WHERE route=? AND group_key=? AND fingerprint=?",
                              (now_ms, route, key, alert["fingerprint"]))
                    continue
                if cur is None and alert["status"] == "resolved":
                    continue  # resolving something never seen here: nothing to tell
                c.execute("INSERT OR REPLACE INTO group_alerts VALUES (?,?,?,?,?,?)",
                          (route, key, alert["fingerprint"], alert["status"], orjson.dumps(alert).decode(), now_ms))
                changed += 1
        return changed

    def due_groups(self, now_ms: int, limit: int = 500, scope: str | None = None,
                   ) -> list[tuple[str, str, str, dict[str, str], int, str]]:
        """Groups whose next flush time has come: (route, key, receiver, labels, last_notify_ms, last_sent).

        ``scope``: only routes of that tree (the root id and its ``root.N...`` descendants).
        """
        where, args = "", cast(tuple[Any, ...], ())
        if scope is not None:
            where, args = " AND (route = ? OR substr(route, 1, ?) = ?)", (scope, len(scope) + 1, scope + ".")
        rows = self._con().execute(
            "SELECT route, group_key, receiver, group_labels, last_notify_ms, last_sent FROM alert_groups"
            f" WHERE next_flush_ms <= ?{where} ORDER BY next_flush_ms LIMIT ?", (now_ms, *args, limit)).fetchall()
        return [(r[0], r[1], r[2], orjson.loads(r[3]), r[4], r[5]) for r in rows]

    def next_due_ms(self) -> int | None:
        """The earliest next flush time of any group."""
        row = self._con().execute("SELECT MIN(next_flush_ms) FROM alert_groups").fetchone()
        return row[0] if row else None

    def group_alerts(self, route: str, key: str) -> list[dict[str, Any]]:
        """The alerts of one group."""
        rows = self._con().execute("SELECT alert FROM group_alerts WHERE route=? AND group_key=? ORDER BY fingerprint",
                                   (route, key)).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    # -- outbox -------------------------------------------------------------------------
    @staticmethod
    def insert(c: sqlite3.Connection, queue: str, kind: str, payload: dict[str, Any], now_ms: int,
               state: str = "pending") -> int:
        """Insert one outbox row inside an open transaction; returns its id."""
        cur = c.execute("INSERT INTO outbox (queue, kind, payload, state, next_ms, created_ms) VALUES (?,?,?,?,?,?)",
                        (queue, kind, orjson.dumps(payload).decode(), state, now_ms, now_ms))
        return int(cur.lastrowid or 0)

    def enqueue(self, queue: str, kind: str, payload: dict[str, Any], now_ms: int, state: str = "pending") -> int:
        """Insert one outbox row in its own transaction."""
        with self.tx() as c:
            return self.insert(c, queue, kind, payload, now_ms, state)

    def recover(self) -> int:
        """Rows left ``running`` by a process that died go back to ``pending``."""
        with self.tx() as c:
            return c.execute("UPDATE outbox SET state='pending', lease_ms=0 WHERE state='running'").rowcount

    def claim(self, queue: str, now_ms: int, lease_ms: int) -> Row | None:
        """Take the oldest ready row of ``queue`` (or one whose lease expired) and lease it."""
        with self.tx() as c:
            r = c.execute(
                "UPDATE outbox SET state='running', lease_ms=?, attempts=attempts+1 WHERE id = ("
                " SELECT id FROM outbox WHERE queue=? AND ((state='pending' AND next_ms<=?) OR"
                " (state='running' AND lease_ms<?)) ORDER BY next_ms, id LIMIT 1)"
                " RETURNING id, queue, kind, payload, state, attempts, next_ms, created_ms, done_ms, last_error",
                (now_ms + lease_ms, queue, now_ms, now_ms)).fetchone()
        return _row(r) if r else None

    def next_ready_ms(self, queue: str) -> int | None:
        """When the next pending row of ``queue`` becomes ready."""
        r = self._con().execute("SELECT MIN(next_ms) FROM outbox WHERE queue=? AND state='pending'", (queue,)).fetchone()
        return r[0] if r else None

    def done(self, row_id: int, now_ms: int, note: str = "") -> None:
        """Mark delivered."""
        with self.tx() as c:
            c.execute("UPDATE outbox SET state='delivered', done_ms=?, last_error=? WHERE id=?", (now_ms, note, row_id))

    def retry(self, row_id: int, next_ms: int, error: str) -> None:
        """Back to pending, ready at ``next_ms``."""
        with self.tx() as c:
            c.execute("UPDATE outbox SET state='pending', next_ms=?, lease_ms=0, last_error=? WHERE id=?",
                      (next_ms, error, row_id))

    def dead(self, row_id: int, now_ms: int, error: str) -> None:
        """Move to the dead-letter list."""
        with self.tx() as c:
            c.execute("UPDATE outbox SET state='dead', done_ms=?, last_error=? WHERE id=?", (now_ms, error, row_id))

    def get(self, row_id: int) -> Row:
        """One row by id."""
        r = self._con().execute("SELECT id, queue, kind, payload, state, attempts, next_ms, created_ms, done_ms,"
                                " last_error FROM outbox WHERE id=?", (row_id,)).fetchone()
        if r is None:
            msg = f"no outbox entry {row_id} — list them with `secpipe alerts list`"
            raise OutboxError(msg)
        return _row(r)

    def rows(self, state: str | None = None, queue: str | None = None, limit: int = 100) -> list[Row]:
        """Outbox rows, newest first."""
        where, args = [], []
        if state:
            where.append("state=?")
            args.append(state)
        if queue:
            where.append("queue=?")
            args.append(queue)
        sql = ("SELECT id, queue, kind, payload, state, attempts, next_ms, created_ms, done_ms, last_error FROM outbox"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
        return [_row(r) for r in self._con().execute(sql, (*args, limit)).fetchall()]

    def prune(self, before_ms: int, dead_before_ms: int) -> int:
        """Delete finished rows (delivered/rejected before ``before_ms``, dead before ``dead_before_ms``)."""
        with self.tx() as c:
            n = c.execute("DELETE FROM outbox WHERE (state IN ('delivered', 'rejected') AND done_ms < ?) OR"
                          " (state = 'dead' AND done_ms < ?)", (before_ms, dead_before_ms)).rowcount
        return int(n)

    def counts(self) -> dict[str, int]:
        """Rows per state."""
        return dict(self._con().execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())

    def transition(self, row_id: int, from_states: tuple[str, ...], to_state: str, now_ms: int) -> Row:
        """Move a row between states (replay: dead -> pending; approve: approval -> pending)."""
        row = self.get(row_id)
        if row.state not in from_states:
            msg = f"outbox entry {row_id} is {row.state!r}; only {'/'.join(from_states)} entries can go to {to_state!r}"
            raise OutboxError(msg)
        with self.tx() as c:
            c.execute("UPDATE outbox SET state=?, attempts=CASE WHEN ?='pending' THEN 0 ELSE attempts END, next_ms=?,"
                      " lease_ms=0 WHERE id=?", (to_state, to_state, now_ms, row_id))
        return self.get(row_id)

    # -- silences -----------------------------------------------------------------------
    def add_silence(self, matchers: dict[str, Any], starts_ms: int, ends_ms: int, created_by: str, comment: str,
                    now_ms: int) -> str:
        """Store a silence; returns its id."""
        sid = uuid.uuid4().hex[:12]
        with self.tx() as c:
            c.execute("INSERT INTO silences VALUES (?,?,?,?,?,?,?)",
                      (sid, orjson.dumps(matchers).decode(), starts_ms, ends_ms, created_by, comment, now_ms))
        return sid

    def expire_silence(self, sid: str, now_ms: int) -> None:
        """End a silence now."""
        with self.tx() as c:
            n = c.execute("UPDATE silences SET ends_ms=? WHERE id=? AND ends_ms>?", (now_ms, sid, now_ms)).rowcount
        if n == 0:
            msg = f"no active silence {sid!r} — list them with `secpipe alerts silence list`"
            raise OutboxError(msg)

    def silences(self, active_at: int | None = None) -> list[dict[str, Any]]:
        """Silences (only those active at ``active_at`` when given)."""
        sql = "SELECT id, matchers, starts_ms, ends_ms, created_by, comment, created_ms FROM silences"
        args: tuple[Any, ...] = ()
        if active_at is not None:
            sql += " WHERE starts_ms<=? AND ends_ms>?"
            args = (active_at, active_at)
        rows = self._con().execute(sql + " ORDER BY created_ms", args).fetchall()
        return [{"id": r[0], "matchers": orjson.loads(r[1]), "starts_ms": r[2], "ends_ms": r[3], "created_by": r[4],
                 "comment": r[5], "created_ms": r[6]} for r in rows]


class _Tx:
    """One IMMEDIATE transaction; a storage failure (statement or COMMIT) rolls it back.

    SQLite may or may not have rolled back by itself after SQLITE_FULL / SQLITE_IOERR; a
    COMMIT that failed can leave the transaction open, and every later ``BEGIN`` on this
    connection would then fail ("cannot start a transaction within a transaction") until
    restart. So the rollback is explicit whenever a transaction is still open.
    """

    def __init__(self, con: sqlite3.Connection, lock: threading.Lock, path: Path) -> None:
        self.con = con
        self.lock = lock
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.lock.release()
            raise OutboxStorageError(self.path, exc) from exc
        except BaseException:
            self.lock.release()
            raise
        return self.con

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                try:
                    self.con.execute("COMMIT")
                except sqlite3.OperationalError as err:
                    self._rollback()
                    raise OutboxStorageError(self.path, err) from err
                return
            self._rollback()
            if isinstance(exc, sqlite3.OperationalError):
                raise OutboxStorageError(self.path, exc) from exc
        finally:
            self.lock.release()

    def _rollback(self) -> None:
        if self.con.in_transaction:
            self.con.execute("ROLLBACK")


def _row(r: tuple[Any, ...]) -> Row:
    return Row(r[0], r[1], r[2], orjson.loads(r[3]), r[4], r[5], r[6], r[7], r[8], r[9])
