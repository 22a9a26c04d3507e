"""numpy arrays as Arrow arrays without ``pa.array``, and per-row tests of Arrow arrays read from their buffers.

``pa.array`` on a numpy array imports ``numpy.ma`` the first time (~20 ms, at every start of
a short run); the arrays the hot paths hand over are plain 1-d ints or bools, whose buffers
Arrow takes as they are (bools bit-packed). Same values as ``pa.array(values)``.

:func:`nonempty` and :func:`valid_rows` read a column's offsets and validity bitmap with numpy,
where the kernels (``not_equal``, ``fill_null``, ``is_valid``) cost ~10-40 us each a batch, the
fixed cost of a small one; the same answers.

:func:`json_object` makes a column of JSON objects from columns of JSON texts (each member's
value copied once, one concatenation a batch; k8s_audit's ``unmapped``, CloudTrail's
``unmapped.userIdentity``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-d numpy array of ints or bools (no nulls) as an Arrow array."""
    if values.dtype == np.bool_:
        packed = np.packbits(values, bitorder="little")
        return pa.BooleanArray.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(packed)])
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


_STRING_ID = pa.string().id
_EMPTY = pa.scalar("", pa.string())


def nonempty(col: pa.Array) -> pa.Array:
    """True where a string is present and not empty (Python truthiness, as ``a or b`` uses it)."""
    if col.type.id != _STRING_ID:
        return pc.fill_null(pc.not_equal(col, _EMPTY), False)
    return from_numpy(nonempty_rows(col))


def nonempty_rows(col: pa.Array) -> np.ndarray:
    """:func:`nonempty` of a string column as numpy, from its offsets and validity bitmap."""
    n = len(col)
    if col.null_count == n:
        return np.zeros(n, bool)
    offsets = np.frombuffer(col.buffers()[1], np.int32, n + 1, col.offset * 4)
    rows = offsets[1:] != offsets[:-1]
    if col.null_count:
        rows &= valid_rows(col)
    return rows


def valid_rows(col: pa.Array) -> np.ndarray:
    """Per row, whether ``col`` (which has nulls) holds a value: its validity bitmap read with numpy."""
    n, off = len(col), col.offset
    bits = np.frombuffer(col.buffers()[0], np.uint8, (off + n + 7) // 8)
    return np.unpackbits(bits, count=off + n, bitorder="little")[off:].astype(bool)


_NULL_STR = pa.scalar(None, pa.string())


def json_object(items: list[tuple[str | None, pa.Array]], present: pa.Array | None = None) -> pa.Array:
    """``{"key":value,...}`` of each row's non-null items (JSON texts), in one concatenation
    that copies each value once; an item with key None holds members (``"a":1,"b":2``)
    copied as they are. Null where the row has no item (or, with ``present``, where it is
    false: ``{}`` where it is true and the row has no item)."""
    seen: pa.Array | None = None
    parts: list[pa.Array] = []
    for key, value in items:
        has = pc.is_valid(value)
        bare, after = (f'"{key}":', f',"{key}":') if key is not None else ("", ",")
        prefix = pc.if_else(seen, after, bare) if seen is not None else pa.scalar(bare)
        parts += [pc.if_else(has, prefix, _NULL_STR), value]
        seen = has if seen is None else pc.or_(seen, has)
    assert seen is not None
    valid = seen if present is None else present
    brace = pc.if_else(valid, "{", _NULL_STR), pc.if_else(valid, "}", _NULL_STR)
    out = pc.binary_join_element_wise(brace[0], *parts, brace[1], "", null_handling="replace", null_replacement="")
    nulls = len(out) - pc.sum(valid).as_py() if len(out) else 0
    if not nulls:
        return out
    _validity, offsets, data = out.buffers()
    return pa.StringArray.from_buffers(len(out), offsets, data, valid.buffers()[1], nulls)
