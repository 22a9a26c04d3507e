"""Columnar helpers for line-oriented text formats (syslog, Jenkins console logs).

Everything here works on whole Arrow arrays: lines are split by ``split_pattern``, regex
groups come from ``extract_regex``, JSON string literals are built with string kernels.
"""

from __future__ import annotations

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats.base import BOM

S = pa.string()


def split_lines(data: bytes) -> tuple[pa.Array, pa.Array]:
    """Newline framing in Arrow: (non-blank lines as binary without CR, their byte offsets).
    A UTF-8 byte-order mark opening the text (Windows editors and tools write one) is not part
    of the first line; offsets stay those of the whole text."""
    skip = 3 if data[:3] == BOM else 0
    arr = pa.array([data[skip:] if skip else data], pa.large_binary())
    parts = pc.split_pattern(arr, b"\n").flatten()
    lens = pc.binary_length(parts)
    offs = pc.subtract(pc.cumulative_sum(pc.add(lens, 1)), pc.add(lens, 1))
    if skip:
        offs = pc.add(offs, skip)
    parts = pc.replace_substring_regex(parts, rb"\r$", b"")
    keep = pc.greater(pc.binary_length(pc.replace_substring_regex(parts, rb"^\s+$", b"")), 0)
    return parts.filter(keep).cast(pa.binary()), offs.filter(keep)


def utf8_mask(lines: pa.Array) -> pa.Array | None:
    """None when every line is UTF-8 (one cast), else a boolean mask of the valid lines."""
    try:
        lines.cast(S)
        return None
    except pa.ArrowInvalid:
        pass
    good = []
    for b in lines.to_pylist():  # only on the rare path where some line is not UTF-8
        try:
            b.decode("utf-8")
            good.append(True)
        except UnicodeDecodeError:
            good.append(False)
    return pa.array(good)


def group(st: pa.Array, name: str) -> pa.Array:
    """A named group of an ``extract_regex`` result: null where the line did not match or the
    (optional) group did not take part (RE2 reports those as empty strings)."""
    col = pc.struct_field(st, name)
    return pc.if_else(pc.fill_null(pc.equal(col, ""), True), pa.scalar(None, col.type), col)


def json_string(arr: pa.Array) -> pa.Array:
    """Strings -> JSON string literals (quoted, escaped), columnar; null stays null."""
    out = pc.replace_substring(arr, "\\", "\\\\")
    out = pc.replace_substring(out, '"', '\\"')
    for ch, esc in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        out = pc.replace_substring(out, ch, esc)
    if pc.any(pc.match_substring_regex(out, r"[\x00-\x1f]")).as_py():
        out = pc.replace_substring_regex(out, r"[\x00-\x1f]", " ")
    return pc.binary_join_element_wise('"', out, '"', "")
