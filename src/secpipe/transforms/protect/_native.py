"""The optional C accelerator of the raw-text rewrite (``_rewrite.c``), called through ctypes.

Design: ``_columns.replace_rows`` applies, per row and in order, ``text.replace(pattern,
replacement)`` for each (pattern, replacement) column pair. When the extension was built
(setup.py builds it wherever a C compiler is present; it is optional), one C call per text
column does that over the Arrow buffers directly: no Python object per row, no copy into
another engine, and glibc ``memmem`` for the search (about 3x faster than the DuckDB
round trip on CloudTrail raw_data). Output buffers (Arrow's memory pool) start at 1.5x the input; when the C
side reports one is too small (it never writes past them) that one grows 4x and the call
is repeated.

Guarantees: the same text as ``str.replace`` pair by pair (tests compare both engines with
a reference); nulls stay null; the column keeps its type. :func:`available` is False where
the extension is missing, and callers use the DuckDB / per-row Python paths.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import logging
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from secpipe.errors import SecpipeError

log = logging.getLogger(__name__)
_I64P = ctypes.POINTER(ctypes.c_int64)
_PP = ctypes.POINTER(ctypes.c_void_p)


class NativeUnavailableError(SecpipeError):
    """The compiled rewrite was called where it was not built."""


@functools.cache
def _function() -> Callable[..., int] | None:
    """``secpipe_replace_rows`` from the built extension, or None where it was not built."""
    spec = importlib.util.find_spec("secpipe.transforms.protect._rewrite")
    if spec is None or spec.origin is None:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError as exc:  # a stale or foreign build: the engines without it give the same output
        log.warning("protect: the compiled rewrite %s does not load (%s); rebuild with pip install -e .", spec.origin, exc)
        return None
    fn = lib.secpipe_replace_rows
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_int64, _I64P, ctypes.c_void_p, ctypes.c_int32, _PP, _PP, _PP, _PP,
                   _I64P, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
    return fn  # type: ignore[no-any-return]


def available() -> bool:
    """True when the compiled rewrite can be used."""
    return _function() is not None


_EMPTY = np.zeros(1, np.uint8)


def _parts(arr: pa.Array) -> tuple[np.ndarray, int]:
    """(int64 offsets of the rows into the data buffer, data address) of a string / large_string array."""
    bufs = arr.buffers()
    dtype = np.int32 if pa.types.is_string(arr.type) else np.int64
    offsets = np.frombuffer(bufs[1], dtype)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = bufs[2]
    return offsets, data.address if data is not None and data.size else _EMPTY.ctypes.data


def replace_rows(col: pa.Array, pairs: list[tuple[pa.Array, pa.Array]]) -> pa.Array:
    """``col`` (string or large_string) with each row's pairs applied in order (see module doc)."""
    fn = _function()
    if fn is None:
        msg = "the compiled rewrite is not built (no C compiler at install): callers check available() first"
        raise NativeUnavailableError(msg)
    n = len(col)
    toff, tdat = _parts(col)
    parts = [(_parts(p), _parts(r)) for p, r in pairs]  # the arrays (and so their buffers) outlive the call
    k = len(parts)
    poff = (ctypes.c_void_p * k)(*[po.ctypes.data for (po, _), _ in parts])
    pdat = (ctypes.c_void_p * k)(*[pd for (_, pd), _ in parts])
    roff = (ctypes.c_void_p * k)(*[ro.ctypes.data for _, (ro, _) in parts])
    rdat = (ctypes.c_void_p * k)(*[rd for _, (_, rd) in parts])
    size_in = int(toff[-1] - toff[0]) if n else 0
    longest = int(np.diff(toff).max()) if n else 0
    cap, scap = size_in + size_in // 2 + 4096, 4 * longest + 8192
    while True:  # output from Arrow's memory pool: reused across batches, no fresh pages each time
        out_off = pa.allocate_buffer(8 * (n + 1))
        out = pa.allocate_buffer(cap)
        scratch = pa.allocate_buffer(scap)
        size = fn(n, toff.ctypes.data_as(_I64P), tdat, k, ctypes.cast(poff, _PP), ctypes.cast(pdat, _PP),
                  ctypes.cast(roff, _PP), ctypes.cast(rdat, _PP), ctypes.cast(out_off.address, _I64P), out.address,
                  cap, scratch.address, scap)
        if size >= 0:
            break
        cap, scap = (4 * cap, scap) if size == -1 else (cap, 4 * scap)
    validity = col.is_valid().buffers()[1] if col.null_count else None
    large = not pa.types.is_string(col.type) or size >= 2**31
    offsets = out_off if large else pa.py_buffer(np.frombuffer(out_off, np.int64).astype(np.int32))
    typ = pa.large_string() if large else pa.string()
    new = pa.Array.from_buffers(typ, n, [validity, offsets, out.slice(0, size)], null_count=col.null_count)
    return new if new.type == col.type else new.cast(col.type)
