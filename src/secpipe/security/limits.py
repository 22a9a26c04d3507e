"""Structural limits on JSON input: nesting depth and string length, checked vectorized.

A body is refused before any decoder sees it when an object/array nests deeper than
``max_depth`` or one string (key or value) is longer than ``max_string`` bytes. The scan is
numpy over the bytes: escapes are blanked, quote parity marks what is inside strings, the
running sum of brackets outside strings is the depth, and the distance between paired
quotes is each string's length. Bodies too small to break a limit skip the scan.
"""

from __future__ import annotations

import re

import numpy as np

from secpipe.errors import LimitExceeded

_ESCAPE = re.compile(rb"\\.", re.DOTALL)


def check_json_limits(data: bytes, max_depth: int, max_string: int) -> None:
    """Raise LimitExceeded when ``data`` (JSON / NDJSON text) breaks a limit."""
    deep = data.count(b"{") + data.count(b"[") > max_depth
    long = len(data) > max_string
    if not deep and not long:
        return
    if b"\\" in data:
        data = _ESCAPE.sub(b"__", data)
    a = np.frombuffer(data, np.uint8)
    quotes = np.flatnonzero(a == 34)
    if long and len(quotes) >= 2:
        pairs = len(quotes) // 2 * 2
        longest = int((quotes[1:pairs:2] - quotes[0:pairs:2] - 1).max(initial=0))
        if len(quotes) % 2:  # an unterminated string runs to the end
            longest = max(longest, len(a) - int(quotes[-1]) - 1)
        if longest > max_string:
            what = f"JSON string of {longest} bytes"
            raise LimitExceeded(what, max_string)
    if deep:
        outside = (np.cumsum(a == 34, dtype=np.int64) & 1) == 0
        step = ((a == 123) | (a == 91)).astype(np.int8) - ((a == 125) | (a == 93)).astype(np.int8)
        depth = int(np.cumsum(step * outside, dtype=np.int64).max(initial=0))
        if depth > max_depth:
            what = f"JSON nesting depth {depth}"
            raise LimitExceeded(what, max_depth)
