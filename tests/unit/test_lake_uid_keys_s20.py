"""``lake.uid_keys`` reads a string column of 32-byte uids where it lies (session 20).

The lookup keys of a flush's uids (``S32`` values and the uint64 of their first 16 hex
digits) were made by a cast to ``binary(32)`` after length kernels, and a nibble table; a
string column now gives them from its offsets and data (no copy) and ``binascii.unhexlify``.
The keys must be the very same, or absent exactly when they were (any uid not 32 characters
or not lowercase hex in its first 16), for any column: sliced, with nulls, non-ASCII,
uppercase, other string types. A 32-character uid of more than 32 bytes, on which the cast
raised, now gets no keys (compared as strings, as every other odd shape).
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pyarrow as pa
import pytest

from secpipe import _compute as pc
from secpipe.store import lake
from secpipe.store.lake import UidIndex, uid_keys


def _before(uids: pa.Array) -> tuple[np.ndarray | None, np.ndarray | None]:
    """uid_keys until session 20 (its s32 and hi)."""
    if uids.null_count or len(uids) == 0:
        return None, None
    lengths = pc.utf8_length(uids)
    if pc.min(lengths).as_py() != 32 or pc.max(lengths).as_py() != 32:
        return None, None
    fixed = uids.cast(pa.binary()).cast(pa.binary(32))
    s32 = np.frombuffer(fixed.buffers()[1], dtype="S32", count=len(fixed), offset=fixed.offset * 32)
    nib = lake._NIBBLE[s32.view(np.uint8).reshape(len(s32), 32)[:, :16]]
    if nib.max() > 15:
        return None, None
    return s32, np.ascontiguousarray((nib[:, 0::2] << 4) | nib[:, 1::2]).view(">u8").ravel().astype(np.uint64)


def _hex(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()[:32]


def _columns() -> list[pa.Array]:
    rng = random.Random(20)
    good = [_hex(i) for i in range(5000)]
    cols = [pa.array(good), pa.array(good).slice(7, 3000), pa.array(good[:1]), pa.array([], pa.string()),
            pa.array(good, pa.large_string()), pa.chunked_array([good[:10], good[10:20]]).combine_chunks()]  # fmt: skip
    for bad in ("A" + good[0][1:], good[0][:15] + "g" + good[0][16:], good[0][:20] + "G" * 12, good[0][:31],
                good[0] + "0", "é" * 32, good[0][:16] + "é" * 8, good[0][:30] + "é", "0" * 16 + "\x00" * 16,
                " " * 32, good[0][:16] + "ÿ" * 16):  # fmt: skip
        rows = list(good[:50])
        rows[rng.randrange(50)] = bad
        cols.append(pa.array(rows))
        cols.append(pa.array(rows).slice(1))
    cols.append(pa.array([*good[:5], None]))
    return cols


def test_same_keys_as_before() -> None:
    for col in _columns():
        keys = uid_keys(col)
        try:
            s32, hi = _before(col)
        except pa.ArrowInvalid:  # 32 characters, more bytes: the cast raised
            s32, hi = None, None
        assert keys.uids is col
        if s32 is None:
            assert keys.s32 is None and keys.hi is None, col
            continue
        assert keys.s32 is not None and keys.hi is not None
        assert keys.s32.tolist() == s32.tolist()
        assert keys.hi.dtype == hi.dtype and keys.hi.tolist() == hi.tolist()


def test_index_answers_the_same() -> None:
    """Membership through the new keys: committed uids found, others not, sliced or not."""
    uids = pa.array([_hex(i) for i in range(20_000)])
    index = UidIndex()
    index.add(uid_keys(uids.slice(0, 12_000)))
    asked = uids.slice(6_000, 14_000)
    hit = index.contains(uid_keys(asked))
    assert hit.tolist() == [i < 12_000 for i in range(6_000, 20_000)]


@pytest.mark.parametrize("n", [1, 2, 1000])
def test_keys_view_the_column(n: int) -> None:
    col = pa.array([_hex(i) for i in range(n + 3)]).slice(3)
    keys = uid_keys(col)
    assert keys.s32 is not None and keys.s32.tolist() == [_hex(i).encode() for i in range(3, n + 3)]
    assert keys.hi is not None and keys.hi.tolist() == [int(_hex(i)[:16], 16) for i in range(3, n + 3)]
