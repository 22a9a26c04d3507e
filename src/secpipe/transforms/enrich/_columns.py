"""Read and write nested OCSF fields of an assembled batch, column-wise.

Design: enrichment stages compute flat columns keyed by dotted OCSF paths
(``src_endpoint.location.country``) and merge them into the batch's existing struct columns
with :func:`set_fields`, which rebuilds only the structs on the way to each new leaf and keeps
every other child as is. A path segment ending in ``[]`` (``resources[].owner.name``) writes
into the elements of a ``list<struct>`` column: the value array is then aligned with the
flattened list elements. Every new leaf is type-checked against the OCSF class (the same
``arrow_type`` that ``assemble`` uses), so an enrichment can never put a field OCSF does
not have. :func:`append_lists` concatenates per-row lists (``metadata.labels``,
``enrichments``) without a Python loop over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.schema.ocsf import _leaf as conform


def field_values(batch: pa.RecordBatch, path: str) -> tuple[pa.Array, np.ndarray] | None:
    """Values at a dotted path and the batch row of each (``[]`` flattens list elements).

    None when the batch has no such field.
    """
    parts = path.split(".")
    rows = np.arange(batch.num_rows, dtype=np.int64)
    if parts[0].rstrip("[]") not in batch.schema.names:
        return None
    arr: pa.Array = batch.column(parts[0].rstrip("[]"))
    for i, part in enumerate(parts):
        if i:
            t = arr.type
            if not pa.types.is_struct(t) or t.get_field_index(part.rstrip("[]")) < 0:
                return None
            arr = pc.struct_field(arr, part.rstrip("[]"))
        if part.endswith("[]"):
            if not pa.types.is_list(arr.type):
                return None
            rows = rows[pc.list_parent_indices(arr).to_numpy()]
            arr = pc.list_flatten(arr)
    return arr, rows


def get_field(batch: pa.RecordBatch, path: str) -> pa.Array | None:
    """The array at a dotted path (``[]`` segments flatten list elements); None if absent."""
    got = field_values(batch, path)
    return None if got is None else got[0]


def _ocsf_path(path: str) -> str:
    return path.replace("[]", "")


def _merge(arr: pa.Array | None, tree: dict[str, Any], n: int) -> pa.Array:
    """Merge a tree of new leaves into a struct array (None: build a new struct)."""
    names: list[str] = []
    children: list[pa.Array] = []
    mask = None
    if arr is not None and pa.types.is_struct(arr.type):
        mask = arr.is_null() if arr.null_count else None
        for i in range(arr.type.num_fields):
            f = arr.type.field(i)
            if f.name in tree:
                continue
            names.append(f.name)
            children.append(pc.struct_field(arr, f.name))
    for key, sub in tree.items():
        base = key.rstrip("[]")
        existing = None
        if arr is not None and pa.types.is_struct(arr.type) and arr.type.get_field_index(base) >= 0:
            existing = pc.struct_field(arr, base)
        names.append(base)
        children.append(_node(existing, key, sub, n))
    if arr is None or mask is not None:
        # A struct is present where any of its (new) leaves has a value.
        anyvalid = None
        for key in tree if arr is not None else names:
            v = children[names.index(key.rstrip("[]"))].is_valid()
            anyvalid = v if anyvalid is None else pc.or_(anyvalid, v)
        if anyvalid is not None:
            inv = pc.invert(anyvalid)
            mask = inv if mask is None else pc.and_(mask, inv)
    return pa.StructArray.from_arrays(children, names=names, mask=mask)


def _node(existing: pa.Array | None, key: str, sub: Any, n: int) -> pa.Array:
    if not isinstance(sub, dict):
        return sub
    if key.endswith("[]"):
        if existing is None or not pa.types.is_list(existing.type):
            msg = f"{key}: cannot write list elements where the batch has no list"
            raise ValueError(msg)
        values = pc.list_flatten(existing)
        merged = _merge(values, sub, len(values))
        return pa.ListArray.from_arrays(_offsets(existing), merged, mask=existing.is_null() if existing.null_count else None)
    return _merge(existing, sub, n)


def _offsets(lists: pa.Array) -> pa.Array:
    """Offsets of a list array relative to its flattened values (handles sliced arrays)."""
    off = lists.offsets.to_numpy()
    return pa.array(off - off[0], pa.int32())


def set_fields(batch: pa.RecordBatch, class_name: str, cols: dict[str, pa.Array]) -> pa.RecordBatch:
    """Write flat dotted-path columns into the batch (replacing leaves that already exist)."""
    if not cols:
        return batch
    tree: dict[str, Any] = {}
    for path, value in cols.items():
        arr = conform(class_name, _ocsf_path(path), value)
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = arr
    n = batch.num_rows
    names = list(batch.schema.names)
    arrays = list(batch.columns)
    for key, sub in tree.items():
        base = key.rstrip("[]")
        if base in names:
            i = names.index(base)
            arrays[i] = _node(arrays[i], key, sub, n)
        else:
            names.append(base)
            arrays.append(_node(None, key, sub, n))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def append_lists(current: pa.Array | None, new: pa.Array) -> pa.Array:
    """Row-wise concatenation of two list arrays (null + list = list; null + null = null)."""
    if current is None or current.null_count == len(current):
        return new
    if new.null_count == len(new):
        return current
    if current.type != new.type:
        current, new = _unify(current, new)
    a_off = _offsets(current).to_numpy()
    b_off = _offsets(new).to_numpy()
    a_len = np.diff(a_off)
    b_len = np.diff(b_off)
    out_len = a_len + b_len
    out_off = np.concatenate(([0], np.cumsum(out_len))).astype(np.int32)
    a_vals = pc.list_flatten(current)
    b_vals = pc.list_flatten(new)
    # Index into concat(a_vals, b_vals): row r takes a[a_off[r]:..] then b[b_off[r]:..].
    total = int(out_off[-1])
    row = np.repeat(np.arange(len(out_len)), out_len)
    pos = np.arange(total) - out_off[:-1][row]
    from_a = pos < a_len[row]
    take = np.where(from_a, a_off[:-1][row] + pos, len(a_vals) + b_off[:-1][row] + pos - a_len[row])
    values = pa.concat_arrays([a_vals, b_vals]).take(pa.array(take, pa.int64()))
    valid = pc.or_(current.is_valid(), new.is_valid())
    return pa.ListArray.from_arrays(pa.array(out_off), values, mask=pc.invert(valid))


def _unify(a: pa.Array, b: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Give two list<struct> arrays the same child fields (missing ones become null)."""
    ta, tb = a.type.value_type, b.type.value_type
    if not (pa.types.is_struct(ta) and pa.types.is_struct(tb)):
        return a, b.cast(a.type)
    fields = {f.name: f for f in ta}
    for f in tb:
        fields.setdefault(f.name, f)
    target = pa.list_(pa.struct(list(fields.values())))

    def widen(arr: pa.Array) -> pa.Array:
        vals = pc.list_flatten(arr)
        children = [pc.struct_field(vals, name) if vals.type.get_field_index(name) >= 0 else pa.nulls(len(vals), f.type)
                    for name, f in fields.items()]
        st = pa.StructArray.from_arrays(children, names=list(fields))
        return pa.ListArray.from_arrays(_offsets(arr), st, mask=arr.is_null() if arr.null_count else None).cast(target)

    return widen(a), widen(b)


def rows_to_lists(n: int, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """Group ``values`` (one per entry of ``rows``) into a list per batch row (null if none)."""
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=n)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    mask = pa.array(counts == 0)
    return pa.ListArray.from_arrays(pa.array(offsets), values.take(pa.array(order)), mask=mask)


def add_labels(batch: pa.RecordBatch, class_name: str, rows: np.ndarray, labels: pa.Array) -> pa.RecordBatch:
    """Append ``labels[i]`` to ``metadata.labels`` of row ``rows[i]``."""
    if not len(rows):
        return batch
    new = rows_to_lists(batch.num_rows, rows, labels.cast(pa.string()))
    cur = get_field(batch, "metadata.labels")
    return set_fields(batch, class_name, {"metadata.labels": append_lists(cur, new)})
