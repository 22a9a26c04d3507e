"""Structural limits on JSON input: nesting depth and string length, checked vectorized.

A body is refused before any decoder sees it when an object/array nests deeper than
``max_depth`` or one string (key or value) is longer than ``max_string`` bytes. The scan is
one native pass each (the ``_columnar`` extension), or numpy over the bytes without it:
escapes are blanked, quote parity marks what is inside strings, the running sum of brackets
outside strings is the depth, and the distance between paired quotes is each string's
length (an unterminated last string runs to the end). Bodies too small to break a limit skip
the scan.
"""

from __future__ import annotations

import re

import numpy as np

from secpipe.errors import LimitExceeded
from secpipe.formats import _fast

_ESCAPE = re.compile(rb"\\.", re.DOTALL)


def check_json_limits(data: bytes, max_depth: int, max_string: int) -> None:
    """Raise LimitExceeded when ``data`` (JSON / NDJSON text) breaks a limit."""
    if len(data) > max_string and (longest := _longest_string(data)) > max_string:
        what = f"JSON string of {longest} bytes"
        raise LimitExceeded(what, max_string)
    if len(data) > max_depth and data.count(b"{") + data.count(b"[") > max_depth and (depth := _depth(data)) > max_depth:
        what = f"JSON nesting depth {depth}"
        raise LimitExceeded(what, max_depth)


def _longest_string(data: bytes) -> int:
    """The longest string of JSON text ``data`` in bytes as written (one native pass, else numpy)."""
    native = _fast.json_longest_string(data)
    if native is not None:
        return native
    a = _unescaped(data)
    quotes = np.flatnonzero(a == 34)
    pairs = len(quotes) // 2 * 2
    longest = int((quotes[1:pairs:2] - quotes[0:pairs:2] - 1).max(initial=0))
    if len(quotes) % 2:  # an unterminated string runs to the end
        longest = max(longest, len(a) - int(quotes[-1]) - 1)
    return longest


def _depth(data: bytes) -> int:
    """The deepest nesting of JSON text ``data`` (one native pass, else :func:`json_depth`)."""
    native = _fast.json_depth(data)
    return json_depth(data) if native is None else native


def _unescaped(data: bytes) -> np.ndarray:
    """``data``'s bytes with every escape (a backslash and the byte after it) blanked."""
    return np.frombuffer(_ESCAPE.sub(b"__", data) if b"\\" in data else data, np.uint8)


_STRUCTURE = bytes(b for b in range(256) if b not in b'"{}[]')  # bytes to delete: all but these


def json_depth(data: bytes) -> int:
    """Maximum nesting depth of JSON text (objects and arrays; several documents allowed), as
    ``_fast.json_depth`` counts it natively.

    Vectorized: escapes are dropped, then everything but quotes and brackets (one C pass,
    ~10x shorter), then adjacent quote pairs (empty strings now; removing two adjacent quotes
    never moves anything in or out of a string), which usually leaves brackets only. Any
    string still holding brackets is masked by the parity of quotes. The depth is the
    running sum of opening minus closing brackets outside strings.
    """
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)
    s = data.translate(None, _STRUCTURE).replace(b'""', b"")
    if not s:
        return 0
    a = np.frombuffer(s, np.uint8)
    step = ((a == 123) | (a == 91)).astype(np.int8) - ((a == 125) | (a == 93)).astype(np.int8)
    if b'"' in s:
        step *= (np.cumsum((a == 34).view(np.uint8), dtype=np.uint8) & 1) == 0
    return int(np.cumsum(step, dtype=np.int32).max(initial=0))
