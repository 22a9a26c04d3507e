"""Gzip inflation via ISA-L (``isal``, ~3x zlib's speed) with zlib's API; zlib if unavailable.

ISA-L's ``isal_zlib`` mirrors :mod:`zlib`'s decompressobj (``decompress(data, max_length)``,
``unconsumed_tail``, ``unused_data``, ``eof``), so callers use one code path. Reading gzip is
a measurable share of CloudTrail ingest (AWS delivers every file gzipped).
"""

from __future__ import annotations

import types
import zlib
from typing import Any

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


def decompress(data: bytes) -> bytes:
    """One whole gzip member, inflated."""
    return bytes(_impl.decompress(data, 16 + 15))
