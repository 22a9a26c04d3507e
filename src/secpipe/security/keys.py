"""Key rings for tokenization and encryption at rest, loaded from the environment or a file.

A key ring is an ordered set of 32-byte keys, each with a short id (``kid``); the LAST key
is active (used for new tokens / new data keys), older ones stay readable so tokens and
files made before a rotation still verify, reveal and decrypt.

Sources (either or both; the file's keys come first, the env key is appended):
- an environment variable whose value is ``<kid>:<key>`` or just ``<key>``, several joined
  by commas;
- a file with one ``<kid> <key>`` (or ``<key>``) per line, ``#`` comments allowed.

``<key>`` is 64 hex digits or base64 of at least 32 bytes (``secpipe keys generate`` prints
one). Without an explicit kid, the kid is the first 8 hex digits of SHA-256(key), so the
same key always has the same id and a new key gets a new one. Keys never appear in errors
or logs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from secpipe.errors import ConfigError

_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def derive_kid(key: bytes) -> str:
    """The default id of a key: 8 hex digits of its SHA-256."""
    import hashlib  # here: a data directory without keys never loads OpenSSL (secpipe.formats._uids)

    return hashlib.sha256(b"secpipe-kid\0" + key).hexdigest()[:8]


def generate_key() -> str:
    """A fresh random 32-byte key as base64 (what ``secpipe keys generate`` prints)."""
    import secrets  # here: it loads random and its set-up (~4 ms), which only key generation needs

    return base64.b64encode(secrets.token_bytes(32)).decode()


def parse_key(text: str, where: str) -> bytes:
    """Key bytes from 64+ hex digits or base64 (>= 32 bytes); ConfigError otherwise."""
    text = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64,}", text) and len(text) % 2 == 0:
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None,
                                   validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < 32:
        msg = "not a key of at least 32 bytes (64 hex digits or base64) — create one with `secpipe keys generate`"
        raise ConfigError(where, msg)
    return raw


@dataclass
class Keyring:
    """Ordered keys by id; the last one is active."""

    keys: dict[str, bytes] = field(default_factory=dict)

    @property
    def active_kid(self) -> str:
        """Id of the key used for new tokens and new data keys."""
        return next(reversed(self.keys))

    @property
    def active(self) -> bytes:
        """The active key."""
        return self.keys[self.active_kid]

    def get(self, kid: str, where: str = "key id") -> bytes:
        """The key with id ``kid``; ConfigError naming the fix when the ring lacks it."""
        try:
            return self.keys[kid]
        except KeyError:
            msg = f"key {kid!r} is not in the key ring (have: {', '.join(self.keys)}) — add the old key to the key file"
            raise ConfigError(where, msg) from None

    def add(self, entry: str, where: str) -> None:
        """Add one ``kid:key`` / ``kid key`` / ``key`` entry (it becomes the active key)."""
        entry = entry.strip()
        kid = None
        for sep in (":", " ", "\t"):
            head, found, tail = entry.partition(sep)
            if found and _KID.match(head) and len(tail.strip()) >= 32:
                kid, entry = head, tail.strip()
                break
        key = parse_key(entry, where)
        kid = kid or derive_kid(key)
        self.keys.pop(kid, None)
        self.keys[kid] = key


def load_keyring(env: str | None, file: str | os.PathLike[str] | None, where: str) -> Keyring:
    """Keys from ``file`` then ``$env``; ConfigError (naming ``where``) when there are none."""
    ring = Keyring()
    if file:
        p = Path(file)
        if not p.is_file():
            msg = f"file not found: {p} — give a key file or use the env variable"
            key_path = f"{where}.key_file"
            raise ConfigError(key_path, msg)
        data = p.read_bytes()
        if len(data) == 32 and not data.isascii():
            ring.keys[derive_kid(data)] = data
        else:
            for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    ring.add(line, f"{p}:{n}")
    value = os.environ.get(env) if env else None
    if value:
        for part in value.split(","):
            if part.strip():
                ring.add(part, f"${env}")
    if not ring.keys:
        msg = f"no key: set ${env} or key_file (create a key with `secpipe keys generate`)"
        raise ConfigError(where, msg)
    return ring
