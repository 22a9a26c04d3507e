"""Encryption at rest: file-level envelope encryption with AES-256-GCM.

Why envelope encryption of whole files rather than Parquet modular encryption: one
mechanism covers every store (lake and dead-letter Parquet, dead-letter blobs, WAL
segments, state files), a key rotation only rewrites a ~150-byte header per file (the data
is never re-encrypted), and readers need no KMS plumbing: DuckDB gets the decrypted Arrow
data (``store.query``), the lake's dedup reads decrypted columns. The cost is that DuckDB
cannot prune inside an encrypted file; each file is decrypted whole when a query reads
its class.

Sealed file layout (``SPE1``)::

    b"SPE1" | u16 header length | header JSON {"v":1,"kid":<master key id>,"dek":<b64 wrapped>}
    | 12-byte nonce | AES-256-GCM(data key, body, aad=b"SPE1") (ciphertext + 16-byte tag)

Every file has its own random 256-bit data key (DEK); the DEK is wrapped with the master
key named by ``kid`` (AES-256-GCM, nonce || ciphertext, aad=b"secpipe-dek:"+kid). A file
whose body or wrapped key was altered fails to open (InvalidTag -> :class:`CryptoError`).
WAL segments use the same header once at the start of the segment and then seal each
record's payload with the segment DEK (fresh nonce per record).

Enabling: ``secpipe keys init --data DIR`` writes ``<data>/state/encryption.json``
({"enabled": true, "key_env": ..., "key_file": ...}); every store of that data directory
then encrypts what it writes and decrypts what it reads, whichever command runs. The
master key ring comes from ``$SECPIPE_MASTER_KEY`` and/or the key file (see
:mod:`secpipe.security.keys`); the last key is active, older ones stay for reading until
``secpipe keys rotate`` has re-wrapped every file to the active key.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from secpipe.errors import SecpipeError
from secpipe.security._settings import settings_path
from secpipe.security.keys import Keyring, load_keyring

if TYPE_CHECKING:  # pyarrow and cryptography load where used: `secpipe keys`/`--help` need neither
    import pyarrow as pa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SPE1"
_LEN = struct.Struct("<H")
_SEAL_CHUNK = 1 << 20  # what Cipher.seal_to encrypts and writes at a time
DEFAULT_KEY_ENV = "SECPIPE_MASTER_KEY"
_CACHE: dict[str, tuple[float, Cipher | None]] = {}
_CACHE_LOCK = threading.Lock()


class CryptoError(SecpipeError):
    """Data cannot be decrypted (wrong or missing key, or it was altered)."""


@functools.cache
def _aead() -> tuple[type[AESGCM], type[Exception]]:
    """``cryptography``'s AES-GCM and its tag error, imported when a key is first used: a data
    directory that is not encrypted never needs them (~30 ms off every command's start)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM, InvalidTag


@dataclass
class Sealed:
    """A parsed header: master key id, wrapped DEK, and where the body starts."""

    kid: str
    wrapped: bytes
    body_offset: int


class Cipher:
    """Seal and open bytes with per-file data keys wrapped by a master key ring."""

    def __init__(self, ring: Keyring) -> None:
        self.ring = ring

    # -- data keys ---------------------------------------------------------------------
    def new_dek(self) -> tuple[bytes, bytes]:
        """(data key, header bytes with that key wrapped by the active master key)."""
        dek = _aead()[0].generate_key(256)
        return dek, self.header(dek, self.ring.active_kid)

    def header(self, dek: bytes, kid: str) -> bytes:
        """The SPE1 header carrying ``dek`` wrapped by master key ``kid``."""
        nonce = os.urandom(12)
        wrapped = nonce + _aead()[0](self.ring.get(kid)).encrypt(nonce, dek, b"secpipe-dek:" + kid.encode())
        import orjson  # imported by the first use of a key, as cryptography is (~12 ms of every start)

        head = orjson.dumps({"v": 1, "kid": kid, "dek": base64.b64encode(wrapped).decode()})
        return MAGIC + _LEN.pack(len(head)) + head

    def unwrap(self, sealed: Sealed) -> bytes:
        """The data key of a parsed header."""
        key = self.ring.keys.get(sealed.kid)
        if key is None:
            msg = (f"data was encrypted under master key {sealed.kid!r}, which is not in the key ring "
                   f"({', '.join(self.ring.keys)}) — add that key to ${DEFAULT_KEY_ENV} or the key file")
            raise CryptoError(msg)
        AESGCM, InvalidTag = _aead()
        try:
            return AESGCM(key).decrypt(sealed.wrapped[:12], sealed.wrapped[12:], b"secpipe-dek:" + sealed.kid.encode())
        except InvalidTag as exc:
            msg = "wrapped data key does not decrypt: the file header was altered or the key is wrong"
            raise CryptoError(msg) from exc

    # -- whole files -------------------------------------------------------------------
    def seal(self, data: bytes | memoryview) -> bytes:
        """Encrypt ``data`` into an SPE1 blob with a fresh data key.

        The ciphertext is written straight into the output buffer (``encrypt_into``): one
        pass over the data, no copy of it.
        """
        dek, head = self.new_dek()
        nonce = os.urandom(12)
        start = len(head) + len(nonce)
        out = bytearray(start + len(data) + 16)  # + GCM tag
        out[: len(head)] = head
        out[len(head) : start] = nonce
        _aead()[0](dek).encrypt_into(nonce, data, MAGIC, memoryview(out)[start:])
        return out  # type: ignore[return-value]  # a bytearray: bytes-like, written as is

    def seal_to(self, data: bytes | memoryview, fh: BinaryIO) -> None:
        """Write :meth:`seal` of ``data`` to the binary file ``fh``, encrypted and written a
        chunk at a time (AES-GCM streamed: the same ciphertext and tag as the one-shot call).

        A lake file is tens of MB: sealed whole, its ciphertext buffer was zeroed, filled, then
        copied by the kernel into the page cache from memory long out of the CPU cache (0.1 s
        of a 200 MB protected ingest); a chunk is written while it is still in the cache.
        """
        from cryptography.hazmat.primitives.ciphers import Cipher as Aes
        from cryptography.hazmat.primitives.ciphers import algorithms, modes

        dek, head = self.new_dek()
        nonce = os.urandom(12)
        enc = Aes(algorithms.AES(dek), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(MAGIC)
        fh.write(head + nonce)
        view = memoryview(data).cast("B")
        out = bytearray(min(len(view), _SEAL_CHUNK) + 15)  # update_into wants the block size - 1 more
        for i in range(0, len(view), _SEAL_CHUNK):
            n = enc.update_into(view[i : i + _SEAL_CHUNK], out)
            fh.write(memoryview(out)[:n])
        enc.finalize()
        fh.write(enc.tag)

    def open(self, blob: bytes, where: str = "data") -> bytes:
        """Decrypt an SPE1 blob; CryptoError when it was altered or the key is missing."""
        sealed = parse_header(blob, where)
        dek = self.unwrap(sealed)
        body = memoryview(blob)[sealed.body_offset :]  # no copy of the ciphertext
        AESGCM, InvalidTag = _aead()
        try:
            return AESGCM(dek).decrypt(bytes(body[:12]), body[12:], MAGIC)
        except InvalidTag as exc:
            msg = f"{where}: encrypted content was altered or truncated (authentication failed)"
            raise CryptoError(msg) from exc

    def rewrap(self, blob: bytes, where: str = "data") -> bytes | None:
        """``blob`` with its data key re-wrapped under the active key (None if already so)."""
        sealed = parse_header(blob, where)
        if sealed.kid == self.ring.active_kid:
            return None
        dek = self.unwrap(sealed)
        return self.header(dek, self.ring.active_kid) + blob[sealed.body_offset :]

    # -- records (WAL) -----------------------------------------------------------------
    @staticmethod
    def seal_record(dek: bytes, payload: bytes) -> bytes:
        """One record sealed with a segment's data key (nonce || ciphertext)."""
        nonce = os.urandom(12)
        return nonce + _aead()[0](dek).encrypt(nonce, payload, b"SPE1-record")

    @staticmethod
    def open_record(dek: bytes, sealed: bytes) -> bytes:
        """Inverse of :meth:`seal_record`; CryptoError when altered."""
        AESGCM, InvalidTag = _aead()
        try:
            return AESGCM(dek).decrypt(sealed[:12], sealed[12:], b"SPE1-record")
        except InvalidTag as exc:
            msg = "WAL record was altered (authentication failed)"
            raise CryptoError(msg) from exc


def is_sealed(head: bytes) -> bool:
    """True when bytes start with the SPE1 magic."""
    return head[:4] == MAGIC


def parse_header(blob: bytes, where: str = "data") -> Sealed:
    """Parse an SPE1 header at the start of ``blob``."""
    if blob[:4] != MAGIC or len(blob) < 6:
        msg = f"{where}: not an encrypted secpipe file"
        raise CryptoError(msg)
    (n,) = _LEN.unpack_from(blob, 4)
    import orjson

    try:
        head = orjson.loads(blob[6 : 6 + n])
        return Sealed(str(head["kid"]), base64.b64decode(head["dek"]), 6 + n)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        msg = f"{where}: encryption header is corrupt"
        raise CryptoError(msg) from exc


# -- per data directory -----------------------------------------------------------------

def enable(data_dir: Path | str, key_env: str = DEFAULT_KEY_ENV, key_file: str | None = None) -> Cipher:
    """Turn encryption on for a data directory (the key must be available now)."""
    cipher = Cipher(load_keyring(key_env, key_file, "security.encryption"))
    p = settings_path(data_dir)
    p.parent.mkdir(parents=True, exist_ok=True)
    import orjson

    from secpipe.store._durable import write_file_atomic

    # atomic: a full disk must not leave an empty settings file
    write_file_atomic(p, orjson.dumps({"enabled": True, "key_env": key_env, "key_file": key_file}),
                      p.with_name(p.name + ".tmp"))  # fmt: skip
    with _CACHE_LOCK:
        _CACHE.pop(str(Path(data_dir).resolve()), None)
    return cipher


def for_data_dir(data_dir: Path | str) -> Cipher | None:
    """The cipher of a data directory, or None when it is not encrypted (cached by mtime)."""
    key = str(Path(data_dir).resolve())
    p = settings_path(data_dir)
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        return None
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit and hit[0] == mtime:
            return hit[1]
    import orjson

    conf: dict[str, Any] = orjson.loads(p.read_bytes())
    cipher = None
    if conf.get("enabled"):
        cipher = Cipher(load_keyring(conf.get("key_env") or DEFAULT_KEY_ENV, conf.get("key_file"), "security.encryption"))
    with _CACHE_LOCK:
        _CACHE[key] = (mtime, cipher)
    return cipher


def reset_cache() -> None:
    """Forget loaded key rings (after the environment changed, e.g. in tests)."""
    with _CACHE_LOCK:
        _CACHE.clear()


# -- helpers for stores -------------------------------------------------------------------

def parquet_bytes(table: pa.Table, compression: str = "zstd") -> memoryview:
    """A table serialized as Parquet in memory (a view of the written buffer, not a copy).

    Arrow's own in-memory stream: a Python ``BytesIO`` grew by an eighth at a time (a copy of
    the whole file each time) and cost a Python call per write."""
    import pyarrow as pa

    from secpipe.store._files import write_parquet  # the lake's writer options, sealed or not

    sink = pa.BufferOutputStream()
    write_parquet(table, sink, compression)
    return memoryview(sink.getvalue())


def read_parquet(path: Path, cipher: Cipher | None, columns: list[str] | None = None) -> pa.Table:
    """Read a Parquet file that may be sealed (sealed files need ``cipher``)."""
    import pyarrow.parquet as pq

    with open(path, "rb") as fh:
        head = fh.read(4)
        if not is_sealed(head):
            return pq.read_table(path, columns=columns)
        fh.seek(0)
        blob = fh.read()
    if cipher is None:
        msg = f"{path} is encrypted but no master key is configured — set ${DEFAULT_KEY_ENV}"
        raise CryptoError(msg)
    return pq.read_table(io.BytesIO(cipher.open(blob, str(path))), columns=columns)


def read_bytes(path: Path, cipher: Cipher | None) -> bytes:
    """A file's plain bytes (decrypted when sealed)."""
    blob = Path(path).read_bytes()
    if not is_sealed(blob):
        return blob
    if cipher is None:
        msg = f"{path} is encrypted but no master key is configured — set ${DEFAULT_KEY_ENV}"
        raise CryptoError(msg)
    return cipher.open(blob, str(path))


def sealed_files(data_dir: Path | str) -> Iterator[Path]:
    """Every file under the data directory that may be sealed (lake, dlq, wal, state)."""
    root = Path(data_dir)
    for sub in ("lake", "dlq", "wal", "state"):
        base = root / sub
        if base.is_dir():
            for p in base.rglob("*"):
                if p.is_file() and not p.name.startswith(".tmp-"):
                    yield p
