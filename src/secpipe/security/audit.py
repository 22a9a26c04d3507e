"""Tamper-evident audit log: append-only, hash-chained, optionally Ed25519-signed.

Layout: ``<data>/state/audit/audit.jsonl``, one JSON object per line::

    {"seq": 7, "ts": 1764400000000, "actor": "alice", "action": "query",
     "details": {"sql": "...", "rows": 3}, "prev": "<hash of entry 6>",
     "hash": "<sha256 of this entry without hash/sig>", "sig": "<ed25519 over hash>"}

and ``<data>/state/audit/head`` holding ``<seq> <hash>`` of the last entry.

Guarantees:
- Each entry's ``hash`` is SHA-256 over its canonical JSON (sorted keys, no ``hash``/``sig``),
  which includes ``prev``, the previous entry's hash; the first entry's ``prev`` is 64 zeros.
  Editing, removing, inserting or reordering any entry breaks the chain at that point, and
  :func:`verify` names the first broken line and sequence number.
- Removing entries from the end is caught by the ``head`` anchor (and by signatures when
  the anchor is rewritten too, since the attacker cannot sign a new head entry without the
  key). A signing key (``SECPIPE_AUDIT_KEY``: path to an Ed25519 private key, PEM or raw 32
  bytes) makes every entry carry a signature checked by ``verify`` with the public key.
- Appends are serialized across threads and processes (``flock``) and fsynced before
  :func:`record` returns, so an audited action is on disk before it is acknowledged.
- A refused append (disk full, I/O error, in the log or in the ``head`` anchor) is cut back
  before the error is raised: no half entry, and no entry the anchor does not cover, stays
  behind to break the chain; the next append (once space is back) continues it. A torn last line left by a crash or power loss mid-write (no final newline) is moved,
  byte for byte, to ``audit.torn`` by the next append, which first records an
  ``audit.torn_tail`` entry with its size and SHA-256: the log verifies again, and the cut is
  itself on the chain. Until then :func:`verify` reports it as an incomplete last entry.
- Secrets never go in: callers pass what happened (who, action, SQL, row counts, ids),
  and values of keys that look like secrets (``token``, ``password``, ``secret``, ``api_key``)
  are replaced by ``[REDACTED]``.

API for other modules: ``record(data_dir, actor, action, **details)``.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from secpipe.errors import SecpipeError
from secpipe.store._durable import write_file_atomic

GENESIS = "0" * 64
KEY_ENV = "SECPIPE_AUDIT_KEY"
_SECRET_KEYS = ("token", "password", "passwd", "secret", "api_key", "private_key", "authorization")
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()

#: actions other modules record (free-form strings are allowed; these are the common ones).
ACTIONS = (
    "auth.login", "auth.denied", "token.use", "token.create", "token.revoke", "user.create", "user.delete",
    "query", "reveal", "config.change", "rule.change", "silence.change", "playbook.change", "playbook.run",
    "export", "retention.run", "retention.delete", "keys.rotate",
)  # fmt: skip


class AuditError(SecpipeError):
    """The audit log could not be written or read."""


def audit_dir(data_dir: Path | str) -> Path:
    """Where a data directory keeps its audit log."""
    return Path(data_dir) / "state" / "audit"


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k not in ("hash", "sig")}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 (hex) of an entry's canonical form (without ``hash`` and ``sig``)."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


def scrub(value: Any, key: str = "") -> Any:
    """JSON-able copy of ``value`` with the values of secret-looking keys replaced."""
    if any(s in key.lower() for s in _SECRET_KEYS) and value is not None and not isinstance(value, bool | int):
        return "[REDACTED]"
    if isinstance(value, dict):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [scrub(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def load_signing_key(path: str | os.PathLike[str] | None = None) -> Ed25519PrivateKey | None:
    """The Ed25519 private key from ``path`` or ``$SECPIPE_AUDIT_KEY`` (None when unset)."""
    src = path or os.environ.get(KEY_ENV)
    if not src:
        return None
    p = Path(src)
    if not p.is_file():
        msg = f"audit signing key not found: {p} — set {KEY_ENV} to an Ed25519 key file (PEM or raw 32 bytes)"
        raise AuditError(msg)
    data = p.read_bytes()
    if len(data) == 32:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        msg = f"{p}: not an Ed25519 private key — create one with `secpipe audit keygen`"
        raise AuditError(msg) from exc
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{p}: the key is not Ed25519 — create one with `secpipe audit keygen`"
        raise AuditError(msg)
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """An Ed25519 public key (PEM) or the public half of a private key file."""
    data = Path(path).read_bytes()
    try:
        pub = serialization.load_pem_public_key(data)
    except ValueError:
        priv = load_signing_key(path)
        assert priv is not None
        return priv.public_key()
    if not isinstance(pub, Ed25519PublicKey):
        msg = f"{path}: not an Ed25519 public key"
        raise AuditError(msg)
    return pub


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """Write a new Ed25519 key pair (private key mode 0600)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def _last_line(fh: Any) -> bytes:
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    pos = end
    chunk = b""
    while pos > 0:
        step = min(4096, pos)
        pos -= step
        fh.seek(pos)
        chunk = fh.read(step) + chunk
        lines = chunk.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            return lines[-1]
    return b""


class AuditLog:
    """The audit log of one data directory."""

    def __init__(self, data_dir: Path | str, signing_key: Ed25519PrivateKey | None = None, *,
                 from_env: bool = True) -> None:
        self.dir = audit_dir(data_dir)
        self.path = self.dir / "audit.jsonl"
        self.head = self.dir / "head"
        self.signing_key = signing_key if signing_key is not None or not from_env else load_signing_key()
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(str(self.path.resolve()), threading.Lock())

    def record(self, actor: str, action: str, **details: Any) -> dict[str, Any]:
        """Append one entry (fsynced); returns it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "r+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    torn = self._cut_torn_tail(fh)
                    last = _last_line(fh)
                    if last:
                        try:
                            prev = orjson.loads(last)
                            seq, prev_hash = int(prev["seq"]) + 1, str(prev["hash"])
                        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                            msg = f"{self.path}: last entry is unreadable — run `secpipe audit verify`"
                            raise AuditError(msg) from exc
                    else:
                        seq, prev_hash = 1, GENESIS
                    out = b""
                    if torn is not None:
                        cut = self._entry(seq, prev_hash, "system", "audit.torn_tail", torn)
                        out, seq, prev_hash = orjson.dumps(cut) + b"\n", seq + 1, cut["hash"]
                    entry = self._entry(seq, prev_hash, actor, action, details)
                    end = self._append(fh.fileno(), out + orjson.dumps(entry) + b"\n")
                    try:
                        self._write_head(seq, entry["hash"])
                    except OSError:  # no head for it: take the entry back, the record is all or nothing
                        os.ftruncate(fh.fileno(), end)
                        os.fsync(fh.fileno())
                        raise
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return entry

    def _entry(self, seq: int, prev_hash: str, actor: str, action: str, details: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": seq, "ts": int(time.time() * 1000), "actor": str(actor), "action": str(action),
            "details": scrub(details), "prev": prev_hash,
        }  # fmt: skip
        entry["hash"] = entry_hash(entry)
        if self.signing_key is not None:
            sig = self.signing_key.sign(entry["hash"].encode())
            entry["sig"] = base64.b64encode(sig).decode()
        return entry

    @staticmethod
    def _append(fd: int, data: bytes) -> int:
        """Write and fsync ``data`` at the end; on failure cut the file back (no half entry left).

        Returns the size before the append.
        """
        end = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, end)
            raise
        return end

    def _cut_torn_tail(self, fh: Any) -> dict[str, Any] | None:
        """Move a last line without its newline (a write cut by a crash) to ``audit.torn``."""
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return None
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return None
        start = size
        while start > 0:
            step = min(4096, start)
            fh.seek(start - step)
            chunk = fh.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                start = start - step + nl + 1
                break
            start -= step
        fh.seek(start)
        tail = fh.read(size - start)
        torn = self.dir / "audit.torn"
        fd = os.open(torn, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self._append(fd, tail + b"\n")
        finally:
            os.close(fd)
        os.ftruncate(fh.fileno(), start)
        os.fsync(fh.fileno())
        return {"bytes": len(tail), "sha256": hashlib.sha256(tail).hexdigest(), "offset": start,
                "moved_to": torn.name, "why": "last entry incomplete (a write cut by a crash or power loss)"}

    def _write_head(self, seq: int, digest: str) -> None:
        # on failure the temp file is removed: the entry is in the log; the next append rewrites the head
        write_file_atomic(self.head, f"{seq} {digest}\n".encode(), self.head.with_suffix(".tmp"))

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, oldest first (lines that are not JSON raise AuditError)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    msg = f"{self.path}:{n}: not a JSON entry — the log was edited; run `secpipe audit verify`"
                    raise AuditError(msg) from exc


@dataclass
class VerifyResult:
    """Outcome of :func:`verify`: ok, entries checked, and the problems found (where + what)."""

    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)
    signed: int = 0


def verify(data_dir: Path | str, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Check the whole chain (and signatures when a public key is given)."""
    log = AuditLog(data_dir, from_env=False)
    res = VerifyResult(ok=True, entries=0)
    prev_hash, want_seq = GENESIS, 1
    if not log.path.exists():
        return res
    with open(log.path, "rb") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                res.problems.append(f"line {line_no}: blank line inserted")
                continue
            try:
                e = orjson.loads(line)
                seq, digest = int(e["seq"]), str(e["hash"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                if not line.endswith(b"\n"):
                    res.problems.append(f"line {line_no}: incomplete last entry (a write cut by a crash) — the next "
                                        "audited action moves it to audit.torn and records that on the chain")
                    continue
                res.problems.append(f"line {line_no}: not a valid entry (edited or corrupted)")
                prev_hash, want_seq = "", want_seq + 1
                continue
            res.entries += 1
            where = f"line {line_no} (seq {seq})"
            if not hmac.compare_digest(entry_hash(e), digest):
                res.problems.append(f"{where}: content does not match its hash — entry was edited")
            if seq != want_seq:
                kind = "removed" if seq > want_seq else "reordered or duplicated"
                res.problems.append(f"{where}: expected seq {want_seq} — entries {kind}")
            if prev_hash and e.get("prev") != prev_hash:
                res.problems.append(f"{where}: prev does not match the hash of the entry before — chain broken")
            if public_key is not None:
                sig = e.get("sig")
                if not sig:
                    res.problems.append(f"{where}: unsigned entry")
                else:
                    try:
                        public_key.verify(base64.b64decode(sig), digest.encode())
                        res.signed += 1
                    except (InvalidSignature, ValueError):
                        res.problems.append(f"{where}: bad signature")
            prev_hash, want_seq = digest, seq + 1
    if log.head.exists():
        parts = log.head.read_text().split()
        if len(parts) == 2 and parts[0].isdigit():
            head_seq, head_hash = int(parts[0]), parts[1]
            if head_seq != want_seq - 1 or head_hash != prev_hash:
                res.problems.append(
                    f"end of log: head anchor says seq {head_seq} but the log ends at seq {want_seq - 1} "
                    "— entries removed from the end (or the log was rewritten)"
                )
        else:
            res.problems.append("head anchor is unreadable")
    elif res.entries:
        res.problems.append("head anchor missing")
    res.ok = not res.problems
    return res


def record(data_dir: Path | str, actor: str, action: str, **details: Any) -> dict[str, Any]:
    """Append one audit entry for ``data_dir`` (signed when ``$SECPIPE_AUDIT_KEY`` is set).

    ``actor`` is who (token name, user, ``system``), ``action`` what (see :data:`ACTIONS`),
    ``details`` the context (SQL, row count, rule id, file...) — never secret values.
    """
    return AuditLog(data_dir).record(actor, action, **details)
