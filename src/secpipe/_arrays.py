"""numpy arrays as Arrow arrays without ``pa.array``.

``pa.array`` on a numpy array imports ``numpy.ma`` the first time (~20 ms, at every start of
a short run); the arrays the hot paths hand over are plain 1-d ints or bools, whose buffers
Arrow takes as they are (bools bit-packed). Same values as ``pa.array(values)``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-d numpy array of ints or bools (no nulls) as an Arrow array."""
    if values.dtype == np.bool_:
        packed = np.packbits(values, bitorder="little")
        return pa.BooleanArray.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(packed)])
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])
