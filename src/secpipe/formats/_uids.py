"""Event identity: ``metadata.uid`` from SHA-256 of the kind, an optional context and the
record's canonical bytes (first 128 bits, hex). Re-exported by :mod:`secpipe.formats.base`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe.formats import _fast


def event_uids(kind: str, raws: Sequence[bytes], contexts: Sequence[str] | None = None) -> pa.Array:
    """Stable event identity: SHA-256 of the kind and the record's canonical JSON bytes, first 128 bits in hex.

    ``raws`` must be canonical already (``split_json_records`` makes them whitespace-free),
    so a pretty-printed redelivery of the same record collapses, and two different records
    never do (a cryptographic hash: nobody can craft a record that suppresses another).
    ``contexts`` (one per record) go into the hash between the kind and the record: a scanner
    finding is identified within its report context (target, project, rule). With the native
    extension (``_fast``) one call hashes the batch; without it, one hashlib call per record
    (SHA-NI where the CPU has it), the hex digits made for the whole batch at once with numpy.
    """
    n = len(raws)
    if not n:
        return pa.array([], pa.string())
    prefix = uid_prefix(kind)
    native = _fast.uids(prefix, raws if isinstance(raws, list) else list(raws),
                        None if contexts is None else [c.encode() for c in contexts])  # fmt: skip
    if native is not None:
        return native
    import hashlib  # here: the native path needs no OpenSSL (loading it is ~11 M instructions a start)

    sha = hashlib.sha256
    if contexts is None:
        digests = [sha(prefix + r).digest() for r in raws]
    else:
        digests = []
        for ctx, raw in zip(contexts, raws, strict=True):
            h = sha(prefix + ctx.encode() + b"\0")
            h.update(raw)  # no copy of the (large) record
            digests.append(h.digest())
    return uid_column(digests)


def uid_hasher(kind: str) -> Any:
    """A hashlib SHA-256 object fed with :func:`event_uids`' prefix for ``kind``: ``.copy()``,
    ``.update(record)``, ``.digest()`` give a record's digest for :func:`uid_column` (for a format
    that hashes each record while it reads it, its bytes still in the CPU cache)."""
    import hashlib  # here, not at the top: see event_uids

    return hashlib.sha256(uid_prefix(kind))


def uid_prefix(kind: str) -> bytes:
    """What :func:`event_uids` hashes before a record of ``kind`` (for a walker that makes the
    uids itself: ``_fast.extract(..., uid_prefix=)``)."""
    return kind.encode() + b"\0"


def uid_column(digests: Sequence[bytes]) -> pa.Array:
    """``metadata.uid`` from SHA-256 digests (see :func:`event_uids`): the first 128 bits in hex."""
    n = len(digests)
    if not n:
        return pa.array([], pa.string())
    first = np.frombuffer(b"".join(digests), np.uint8).reshape(n, 32)[:, :16]
    chars = _HEX[first].reshape(n, 32)  # two hex digits per byte
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), n, [None, pa.py_buffer(np.ascontiguousarray(chars))])
    return fixed.cast(pa.binary()).cast(pa.string())


_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint8).reshape(256, 2)
