"""The optional C accelerators of the protect stages (``_rewrite.c``), called through ctypes.

:func:`screen` is the redact stage's first pass: per row, whether ``redact.PREFILTER``
matches and how many AWS key ids it holds, in one pass without a regex engine (about 1.7x
faster than RE2's DFA plus the RE2 count on CloudTrail raw_data; the same answers, tests
compare them). :func:`replace_indexed` is the raw-text rewrite of ``_columns.replace_rows``:
per row and in order, ``text.replace(pattern, replacement)`` for each pair (the row's entry
of a pair of pattern and replacement columns: a field's distinct values, not a string a
row), in one C call per text column over the Arrow buffers: no Python
object per row, no copy into another engine, glibc ``memmem`` for the search (about 3x
faster than the DuckDB round trip on CloudTrail raw_data). Its output buffers (Arrow's
memory pool) start at 1.5x the input; when the C side reports one is too small (it never
writes past them) that one grows 4x and the call is repeated.

setup.py builds the extension wherever a C compiler is present (it is optional).
Guarantees: the same text as ``str.replace`` pair by pair and the same screen answers as
RE2 (tests compare the engines); nulls stay null; columns keep their type.
:func:`available` / :func:`screen_available` are False where the extension is missing, and
callers use the DuckDB / per-row Python / RE2 paths.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import logging
import os
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy
from secpipe.errors import SecpipeError

log = logging.getLogger(__name__)
_I64P = ctypes.POINTER(ctypes.c_int64)
_PP = ctypes.POINTER(ctypes.c_void_p)


class NativeUnavailableError(SecpipeError):
    """The compiled rewrite was called where it was not built."""


@functools.cache
def _library() -> ctypes.CDLL | None:
    """The built extension, or None where it was not built (or where the operator turned it
    off with ``SECPIPE_PROTECT_NATIVE=0``)."""
    if os.environ.get("SECPIPE_PROTECT_NATIVE", "1") == "0":
        return None
    spec = importlib.util.find_spec("secpipe.transforms.protect._rewrite")
    if spec is None or spec.origin is None:
        return None
    try:
        return ctypes.CDLL(spec.origin)
    except OSError as exc:  # a stale or foreign build: the engines without it give the same output
        log.warning("protect: the compiled rewrite %s does not load (%s); rebuild with pip install -e .", spec.origin, exc)
        return None


@functools.cache
def _function() -> Callable[..., int] | None:
    """``secpipe_replace_indexed`` from the built extension, or None (see :func:`_library`; an older build has
    none)."""
    lib = _library()
    if lib is None or not hasattr(lib, "secpipe_replace_indexed"):
        return None
    fn = lib.secpipe_replace_indexed
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_int64, _I64P, ctypes.c_void_p, ctypes.c_int32, _PP, _PP, _PP, _PP, _PP,
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
    """``col`` (string or large_string) with each row's pairs applied in order: a (pattern, replacement) a row."""
    every = np.arange(len(col), dtype=np.int32)
    return replace_indexed(col, [(every, p, r) for p, r in pairs])


def replace_indexed(col: pa.Array, pairs: list[tuple[np.ndarray, pa.Array, pa.Array]]) -> pa.Array:
    """``col`` (string or large_string) with each row's pairs applied in order (see module doc). A pair is (per row
    of ``col``, the position of its pattern and replacement, negative for none; patterns; replacements)."""
    fn = _function()
    if fn is None:
        msg = "the compiled rewrite is not built (no C compiler at install): callers check available() first"
        raise NativeUnavailableError(msg)
    n = len(col)
    if not n:
        return col
    toff, tdat = _parts(col)
    rows = [np.ascontiguousarray(ix, np.int32) for ix, _, _ in pairs]
    if any(len(ix) != n for ix in rows):
        msg = f"each pair's row positions must cover the column's {n} rows"
        raise ValueError(msg)
    parts = [(_parts(p), _parts(r)) for _, p, r in pairs]  # the arrays (and so their buffers) outlive the call
    k = len(parts)
    idx = (ctypes.c_void_p * k)(*[ix.ctypes.data for ix in rows])
    poff = (ctypes.c_void_p * k)(*[po.ctypes.data for (po, _), _ in parts])
    pdat = (ctypes.c_void_p * k)(*[pd for (_, pd), _ in parts])
    roff = (ctypes.c_void_p * k)(*[ro.ctypes.data for _, (ro, _) in parts])
    rdat = (ctypes.c_void_p * k)(*[rd for _, (_, rd) in parts])
    size_in = int(toff[-1] - toff[0])
    longest = int(np.diff(toff).max())
    cap, scap = size_in + size_in // 2 + 4096, 4 * longest + 8192
    while True:  # output from Arrow's memory pool: reused across batches, no fresh pages each time
        out_off = pa.allocate_buffer(8 * (n + 1))
        out = pa.allocate_buffer(cap)
        scratch = pa.allocate_buffer(scap)
        size = fn(n, toff.ctypes.data_as(_I64P), tdat, k, ctypes.cast(idx, _PP), ctypes.cast(poff, _PP),
                  ctypes.cast(pdat, _PP), ctypes.cast(roff, _PP), ctypes.cast(rdat, _PP),
                  ctypes.cast(out_off.address, _I64P), out.address, cap, scratch.address, scap)
        if size >= 0:
            break
        cap, scap = (4 * cap, scap) if size == -1 else (cap, 4 * scap)
    validity = col.is_valid().buffers()[1] if col.null_count else None
    large = not pa.types.is_string(col.type) or size >= 2**31
    offsets = out_off if large else pa.py_buffer(np.frombuffer(out_off, np.int64).astype(np.int32))
    typ = pa.large_string() if large else pa.string()
    new = pa.Array.from_buffers(typ, n, [validity, offsets, out.slice(0, size)], null_count=col.null_count)
    return new if new.type == col.type else new.cast(col.type)


#: the compiled screens, newest first: ``secpipe_screen4`` knows ``redact.NEWER_ANCHORS`` too (session 33), an extension
#: built before it has ``secpipe_screen3`` and :func:`screen_rows` looks for those with one RE2 pass
_SCREENS = ("secpipe_screen4", "secpipe_screen3")


@functools.cache
def _screen_function() -> Callable[..., int] | None:
    """``secpipe_screen4`` or ``secpipe_screen3`` from the built extension, or None (see :func:`_library`). The name
    changes with the anchors the screen knows (``redact.SPECIFIC_RE2``): a build from an older source would miss the
    newer ones, so it is not used (the RE2 screen gives the right rows until the extension is rebuilt); screen3's
    misses, ``redact.NEWER_ANCHORS``, are looked for by :func:`screen_rows` itself (screen4 finds them in its pass:
    the redact stage ~0.45 us an event less over the benchmark's CloudTrail records)."""
    lib = _library()
    if lib is None:
        return None
    fn = next((getattr(lib, name) for name in _SCREENS if hasattr(lib, name)), None)
    if fn is None:  # built from an older source: the RE2 screen gives the same rows
        log.warning("protect: %s has no secret screen (an older build); rebuild with pip install -e .", lib._name)
        return None
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_int64, _I64P, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, _I64P, ctypes.c_int32,
                   ctypes.c_double, ctypes.c_int64]
    return fn  # type: ignore[no-any-return]


@functools.cache
def _screen_knows_newer() -> bool:
    """Does the compiled screen look for ``redact.NEWER_ANCHORS`` itself (``secpipe_screen4``)?"""
    lib = _library()
    return lib is not None and hasattr(lib, _SCREENS[0])


def _add_newer(col: pa.Array, hit: np.ndarray) -> None:
    """Mark 1 in ``hit`` the rows (0 there) where one of ``redact.NEWER_ANCHORS`` stands: their space-led superset
    (``NEWER_SCREEN``: RE2 skips to each space with memchr) first over the column's text as one string (no match, the
    usual case: done in ~10 ms per 100 MB, where a pass a row took ~15), then over the rows, and the exact anchors over
    the rows it finds alone. A row marked 2 (GENERIC: the specific anchors not looked for) keeps its mark."""
    from secpipe.transforms.protect.redact import NEWER_RE2, NEWER_SCREEN

    offsets, _address = _parts(col)
    data = col.buffers()[2]
    size = int(offsets[-1] - offsets[0])
    if data is None or not size:
        return
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(np.array([0, size], np.int64)),
                                                          data.slice(int(offsets[0]), size)])
    if not pc.match_substring_regex(whole, NEWER_SCREEN)[0].as_py():  # (a null row's bytes, a match across rows: a superset)
        return
    near = pc.fill_null(pc.match_substring_regex(col, NEWER_SCREEN), False)
    if not pc.any(near).as_py():
        return
    idx = pc.indices_nonzero(near)
    exact = pc.fill_null(pc.match_substring_regex(col.take(idx), NEWER_RE2), False).to_numpy(zero_copy_only=False)
    rows = idx.to_numpy()[exact]
    hit[rows[hit[rows] == 0]] = 1


def screen(col: pa.Array, anchors: bool, generic: bool | tuple[float, int] = True) -> tuple[pa.Array, pa.Array]:
    """Per row of a string column: (does redact.PREFILTER match, number of AWS_KEY matches): :func:`screen_rows`
    without which anchor."""
    hit, keys = screen_rows(col, anchors, generic)
    return pc.not_equal(hit, 0), keys


def screen_rows(col: pa.Array, anchors: bool, generic: bool | tuple[float, int] = True) -> tuple[pa.Array, pa.Array]:
    """Per row of a string column: (which redact.PREFILTER anchor matches: 0 none, 2 GENERIC, 1 another; the
    number of AWS_KEY matches).

    One C pass over the text: the same rows as RE2 with PREFILTER and the same counts as
    ``count_substring_regex(AWS_KEY)`` (tests compare them). With ``anchors`` False only
    key ids are counted (first column all False); with it, a row stops at its first anchor
    (its key count is then not used). GENERIC is tried first: 2 also says that no other anchor
    was looked for, 1 and 0 that GENERIC (as ``generic`` counts it) is not in the row. Null rows
    give (0, 0).

    ``generic``: PREFILTER's GENERIC anchor as RE2 matches it (True), not at all (False), or
    (min_entropy, min_len): only in a row that ``redact.plausible_words`` keeps with those
    options (the redact stage drops the others at that test; CloudTrail's S3 paths and ARNs
    match GENERIC in ~6% of records, none of them plausible).
    """
    fn = _screen_function()
    if fn is None:
        msg = "the compiled screen is not built (no C compiler at install): callers check available() first"
        raise NativeUnavailableError(msg)
    n = len(col)
    if not n:
        return pa.array([], pa.uint8()), pa.array([], pa.int64())
    toff, tdat = _parts(col)
    hit = np.zeros(n, np.uint8)
    keys = np.zeros(n, np.int64)
    mode, (entropy, least) = (2, generic) if isinstance(generic, tuple) else (int(generic), (0.0, 0))
    fn(n, toff.ctypes.data_as(_I64P), tdat, int(anchors), hit.ctypes.data, keys.ctypes.data_as(_I64P), mode,
       float(entropy), int(least))
    if anchors and not _screen_knows_newer():
        _add_newer(col, hit)
    if col.null_count:  # whatever bytes a null slot spans are not text
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        hit[~valid] = 0
        keys[~valid] = 0
    return from_numpy(hit), from_numpy(keys)


def screen_available() -> bool:
    """True when the compiled secret screen can be used."""
    return _screen_function() is not None


@functools.cache
def _leak_function() -> Callable[..., int] | None:
    """``secpipe_key_leak`` from the built extension, or None (see :func:`_library`; an older build has none)."""
    lib = _library()
    if lib is None or not hasattr(lib, "secpipe_key_leak"):
        return None
    fn = lib.secpipe_key_leak
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_int64, _I64P, ctypes.c_void_p, ctypes.c_int32, _I64P, ctypes.c_void_p, ctypes.c_void_p]
    return fn  # type: ignore[no-any-return]


def leak_available() -> bool:
    """True when the compiled key-id leak test can be used."""
    return _leak_function() is not None


def key_leaks(col: pa.Array, contexts: tuple[str, ...]) -> pa.Array:
    """Per row of a string column: does an AWS key id (``redact.AWS_KEY``) stand where the text before it does not
    end with one of ``contexts`` (the rows ``_not_after(contexts) + AWS_KEY`` matches in RE2; null rows False)."""
    fn = _leak_function()
    if fn is None:
        msg = "the compiled key-id leak test is not built: callers check leak_available() first"
        raise NativeUnavailableError(msg)
    n = len(col)
    leak = np.zeros(n, np.bool_)
    if n:
        toff, tdat = _parts(col)
        texts = [c.encode() for c in contexts]
        coff = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(c) for c in texts], out=coff[1:])
        cdat = b"".join(texts) or b"\0"
        fn(n, toff.ctypes.data_as(_I64P), tdat, len(texts), coff.ctypes.data_as(_I64P), cdat, leak.ctypes.data)
        if col.null_count:
            leak &= col.is_valid().to_numpy(zero_copy_only=False)
    return from_numpy(leak)


@functools.cache
def _ip4_functions() -> tuple[Callable[..., int], Callable[..., int]] | None:
    """``secpipe_ip4_parse`` and ``secpipe_ip4_format`` from the built extension, or None (see :func:`_library`;
    an older build has neither)."""
    lib = _library()
    if lib is None or not hasattr(lib, "secpipe_ip4_format"):
        return None
    parse, fmt = lib.secpipe_ip4_parse, lib.secpipe_ip4_format
    parse.restype = fmt.restype = ctypes.c_int64
    parse.argtypes = [ctypes.c_int64, _I64P, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    fmt.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    return parse, fmt


def ip4_available() -> bool:
    """True when the compiled IPv4 parsing and printing can be used."""
    return _ip4_functions() is not None


def ip4_parse(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a string column (no nulls): (the address as a uint32, 0 where not one; is the text a dotted IPv4
    address ``inet_pton(AF_INET)`` accepts)."""
    fns = _ip4_functions()
    if fns is None:
        msg = "the compiled IPv4 parsing is not built: callers check ip4_available() first"
        raise NativeUnavailableError(msg)
    n = len(col)
    addr = np.zeros(n, np.uint32)
    ok = np.zeros(n, np.bool_)
    if n:
        toff, tdat = _parts(col)
        fns[0](n, toff.ctypes.data_as(_I64P), tdat, addr.ctypes.data, ok.ctypes.data)
    return addr, ok


def ip4_format(addr: np.ndarray) -> pa.Array:
    """The dotted text of each uint32 address (``inet_ntop(AF_INET)``'s), as a string array."""
    fns = _ip4_functions()
    if fns is None:
        msg = "the compiled IPv4 printing is not built: callers check ip4_available() first"
        raise NativeUnavailableError(msg)
    addr = np.ascontiguousarray(addr, np.uint32)
    n = len(addr)
    offsets = np.zeros(n + 1, np.int32)
    data = np.empty(15 * n + 1, np.uint8)
    size = fns[1](n, addr.ctypes.data, offsets.ctypes.data, data.ctypes.data)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data[:size])])
