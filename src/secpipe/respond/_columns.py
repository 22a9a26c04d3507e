"""Reading nested OCSF columns by dotted path, vectorized (struct fields, first list element)."""

from __future__ import annotations

import pyarrow as pa

from secpipe import _compute as pc


def column(batch: pa.RecordBatch, path: str) -> pa.Array | None:
    """The column at ``a.b.c`` (lists: their first element), or None when the batch lacks it."""
    parts = path.split(".")
    if parts[0] not in batch.schema.names:
        return None
    arr: pa.Array = batch.column(parts[0])
    for p in parts[1:]:
        if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            arr = pc.list_element(pc.if_else(pc.greater(pc.list_value_length(arr), 0), arr, pa.scalar(None, arr.type)), 0)
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(p) < 0:
            return None
        arr = pc.struct_field(arr, p)
    return arr
