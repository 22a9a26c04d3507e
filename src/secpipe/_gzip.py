"""Gzip inflation via ISA-L (``isal``, ~3x zlib's speed) with zlib's API; zlib if unavailable.

ISA-L's ``isal_zlib`` mirrors :mod:`zlib`'s decompressobj (``decompress(data, max_length)``,
``unconsumed_tail``, ``unused_data``, ``eof``), so callers use one code path. Reading gzip is
a measurable share of CloudTrail ingest (AWS delivers every file gzipped).

:func:`gunzip_limited` never holds more than a limit (1 MiB at a time): HTTP bodies and the
gzip inside records (Lambda's ``awslogs.data``, Firehose records) are refused past it.
"""

from __future__ import annotations

import types
import zlib
from typing import Any

from secpipe.errors import LimitExceeded

_impl: types.ModuleType
try:
    from isal import isal_zlib as _impl
except ImportError:  # pragma: no cover - isal is a declared dependency
    _impl = zlib

#: exceptions a corrupt stream raises (zlib's and ISA-L's).
ERRORS: tuple[type[Exception], ...] = (zlib.error, _impl.error) if _impl is not zlib else (zlib.error,)


def decompressobj() -> Any:
    """A decompressor for one gzip member (header and trailer checked)."""
    return _impl.decompressobj(16 + 15)


GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952 2.3.1: ID1 ID2, the first two bytes of every member


def not_a_member(data: bytes | memoryview) -> bool:
    """Whether ``data`` (what follows a gzip member, or a whole body) cannot begin a member: its first
    bytes are not gzip's magic (a member cut inside its magic is truncated, not this)."""
    return not GZIP_MAGIC.startswith(bytes(data[:2]))


def gunzip_limited(data: bytes, limit: int) -> bytes:
    """Inflate gzip (multi-member) without ever holding more than ``limit`` bytes. Data that does
    not begin as a member does (RFC 1952 2.3.1: 1f 8b) is refused as not gzip, and bytes after
    the last member that are not one as trailing garbage (gzip(1) warns of them, Go's reader refuses
    them), each said so, not as a corrupt stream."""
    out: list[bytes] = []
    size = len(data)
    while data:
        if not_a_member(data):
            if len(data) == size:
                msg = "not gzip: the data does not begin with gzip's magic bytes 1f 8b"
            else:
                msg = f"trailing garbage: {len(data)} bytes after the gzip data (from byte {size - len(data)}) are not a gzip member"
            raise ValueError(msg)
        data = inflate_member(decompressobj(), data, limit, out, "gzip")
    return b"".join(out)


def inflate_member(z: Any, data: bytes, limit: int, out: list[bytes], kind: str) -> bytes:
    """Inflate one compressed stream into ``out`` (1 MiB at a time, never past ``limit`` in
    all of ``out``); returns the bytes after the stream (the next gzip member)."""
    size = sum(map(len, out))
    try:
        while data:
            piece = z.decompress(data, 1 << 20)
            data = z.unconsumed_tail
            size += len(piece)
            if size > limit:
                what = "decompressed body"
                raise LimitExceeded(what, limit)
            out.append(piece)
            if z.eof:
                break
    except ERRORS as exc:
        msg = f"corrupt {kind} stream: {exc}"
        raise ValueError(msg) from exc
    if not z.eof:
        msg = f"truncated {kind} stream"
        raise ValueError(msg)
    return z.unused_data  # type: ignore[no-any-return]
