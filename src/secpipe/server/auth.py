"""API and ingest tokens: random, shown once, stored hashed, compared in constant time.

A token reads ``sp_<id>_<secret>``: ``id`` (8 hex chars) finds the record, the secret
(32 random bytes, urlsafe base64) is checked against its stored SHA-256 with
:func:`hmac.compare_digest`. A lookup of an unknown id still performs one comparison, so
timing does not reveal which ids exist. Tokens live in ``<data>/state/tokens.json``
(mode 0600) as {id, name, role, sha256, created}; the secret itself is never stored.
Roles are strings; what each role may do is decided by ``secpipe.server.policy``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from secpipe.errors import AuthError
from secpipe.store._durable import write_file_atomic

_DUMMY = hashlib.sha256(b"secpipe-no-such-token").hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A stored token (without its secret)."""

    id: str
    name: str
    role: str
    sha256: str
    created: float
    source: str | None = None  # ingest tokens may be bound to one source


def _version(st: os.stat_result) -> tuple[int, int, int]:
    """What tells one written tokens file from another: inode, mtime (ns), size."""
    return st.st_ino, st.st_mtime_ns, st.st_size


class TokenStore:
    """Tokens of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "state" / "tokens.json"
        self._lock = threading.Lock()
        self._tokens: dict[str, TokenInfo] = {}
        self._version: tuple[int, int, int] | None = None
        self._load()

    def _load(self) -> None:
        """Re-read the file when it changed (one stat a call: a token the CLI revokes is refused
        on the next request). A save replaces the file, so its inode changes with every write,
        even two within one mtime tick."""
        try:
            version = _version(os.stat(self.path))
        except FileNotFoundError:
            return
        if version != self._version:
            items = json.loads(self.path.read_text())
            self._tokens = {t["id"]: TokenInfo(**t) for t in items}
            self._version = version

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_file_atomic(self.path, json.dumps([asdict(t) for t in self._tokens.values()], indent=1).encode(),
                              self.path.with_suffix(".tmp"), 0o600)  # fmt: skip
        except OSError:  # disk full: memory goes back to what is on disk (a revoke that was not
            # saved must not look done here and come undone at restart)
            self._tokens, self._version = {}, None
            self._load()
            raise
        self._version = _version(os.stat(self.path))

    def create(self, name: str, role: str, source: str | None = None) -> str:
        """Create a token; returns the full token string (the only time it is visible)."""
        with self._lock:
            self._load()
            tid = secrets.token_hex(4)
            while tid in self._tokens:
                tid = secrets.token_hex(4)
            secret = secrets.token_urlsafe(32)
            self._tokens[tid] = TokenInfo(tid, name, role, hashlib.sha256(secret.encode()).hexdigest(), time.time(), source)
            self._save()
        return f"sp_{tid}_{secret}"

    def revoke(self, tid: str) -> bool:
        """Delete a token by id; True when it existed."""
        with self._lock:
            self._load()
            found = self._tokens.pop(tid, None) is not None
            if found:
                self._save()
            return found

    def set_role(self, name: str, role: str) -> int:
        """Give every token of ``name`` the role ``role``; returns how many changed."""
        with self._lock:
            self._load()
            changed = 0
            for tid, t in list(self._tokens.items()):
                if t.name == name and t.role != role:
                    self._tokens[tid] = replace(t, role=role)
                    changed += 1
            if changed:
                self._save()
            return changed

    def list(self) -> list[TokenInfo]:
        """Every stored token (no secrets)."""
        with self._lock:
            self._load()
            return list(self._tokens.values())

    def verify(self, token: str) -> TokenInfo:
        """The token's record, or AuthError; constant-time in the secret."""
        with self._lock:
            self._load()
            parts = token.split("_", 2) if token.startswith("sp_") else []
            tid, secret = (parts[1], parts[2]) if len(parts) == 3 else ("", token)
            info = self._tokens.get(tid)
        want = info.sha256 if info else _DUMMY
        got = hashlib.sha256(secret.encode()).hexdigest()
        if not hmac.compare_digest(want, got) or info is None:
            msg = "invalid token"
            raise AuthError(msg)
        return info
