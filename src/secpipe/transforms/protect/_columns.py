"""Column plumbing for the protect stages: read and replace nested string leaves of a batch.

OCSF batches nest fields in struct columns (``actor.user.name`` is leaf ``name`` of struct
``user`` of struct ``actor``). :func:`get_path` reads a leaf as a flat array (null where any
parent is null); :func:`set_path` returns a new batch where that leaf is replaced, rebuilding
only the structs on the path (siblings and validity bitmaps are reused, nothing is copied
per row). :func:`string_leaves` lists every string leaf path (not inside lists).
:func:`map_distinct` applies a Python function to the DISTINCT values of a string array
only, then scatters the results back with one vectorized ``take``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc


def _child(arr: pa.Array, name: str) -> pa.Array | None:
    if not pa.types.is_struct(arr.type) or arr.type.get_field_index(name) < 0:
        return None
    return pc.struct_field(arr, name)


def get_path(batch: pa.RecordBatch, path: str) -> pa.Array | None:
    """The leaf at dotted ``path`` as a flat array, or None when the batch lacks it."""
    head, *rest = path.split(".")
    idx = batch.schema.get_field_index(head)
    if idx < 0:
        return None
    arr: pa.Array | None = batch.column(idx)
    for name in rest:
        arr = _child(arr, name) if arr is not None else None
    return arr


def _replace(arr: pa.Array, names: list[str], value: pa.Array) -> pa.Array:
    if not names:
        return value
    st = arr.type
    i = st.get_field_index(names[0])
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    children = [arr.field(j) for j in range(st.num_fields)]  # offset-aware; the mask below keeps parent nulls
    children[i] = _replace(children[i], names[1:], value)
    fields = [st.field(j) if j != i else st.field(j).with_type(children[i].type) for j in range(st.num_fields)]
    mask = arr.is_null() if arr.null_count else None
    return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


def set_path(batch: pa.RecordBatch, path: str, value: pa.Array) -> pa.RecordBatch:
    """A new batch with the leaf at ``path`` replaced by ``value`` (same length)."""
    head, *rest = path.split(".")
    idx = batch.schema.get_field_index(head)
    col = _replace(batch.column(idx), rest, value)
    return batch.set_column(idx, batch.schema.field(idx).with_type(col.type), col)


def string_leaves(schema: pa.Schema) -> Iterator[str]:
    """Dotted paths of every string leaf (struct nesting only; lists are skipped)."""

    def walk(prefix: str, t: pa.DataType) -> Iterator[str]:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            yield prefix
        elif pa.types.is_struct(t):
            for f in t:
                yield from walk(f"{prefix}.{f.name}", f.type)

    for f in schema:
        yield from walk(f.name, f.type)


def map_distinct(arr: pa.Array, fn: Callable[[str], str]) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Apply ``fn`` to each distinct non-null value once.

    Returns (mapped rows, indices, distinct values, mapped distinct values).

    ``indices`` gives each row's position in ``distinct`` (null for null rows), so callers
    can group rows by value without another pass.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    enc = pc.dictionary_encode(arr)
    distinct = enc.dictionary
    out = pa.array([fn(v) for v in distinct.to_pylist()], pa.string())
    return out.take(enc.indices), enc.indices, distinct, out


def group_rows(indices: pa.Array, n_groups: int) -> list[pa.Array]:
    """Row numbers of each group (``indices`` from :func:`map_distinct`), one array per group."""
    order = pc.array_sort_indices(indices, null_placement="at_end")
    counts = pc.value_counts(indices.drop_null()) if indices.null_count < len(indices) else None
    if counts is None:
        return [pa.array([], pa.uint64()) for _ in range(n_groups)]
    per = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    groups: list[pa.Array] = []
    pos = 0
    for g in range(n_groups):
        c = per.get(g, 0)
        groups.append(order.slice(pos, c))
        pos += c
    return groups


def _json_escaped(value: str) -> str:
    return orjson.dumps(value).decode()[1:-1]


def rewrite_raw(col: pa.Array, groups: list[pa.Array], originals: list[str], replacements: list[str],
                min_length: int) -> pa.Array:
    """Replace each original value by its replacement in the raw text of the rows holding it.

    ``groups[i]`` are the rows whose field held ``originals[i]``. Values shorter than
    ``min_length`` are only replaced as whole JSON strings (``"value"``); the JSON-escaped
    spelling of a value is replaced too.
    """
    if col.null_count == len(col):
        return col
    pieces: list[pa.Array] = []
    rows: list[pa.Array] = []
    for g, value, new in zip(groups, originals, replacements, strict=True):
        if len(g) == 0 or value == new or not value:
            continue
        sub = col.take(g)
        pairs = [(value, new)]
        esc = _json_escaped(value)
        if esc != value:
            pairs.append((esc, _json_escaped(new)))
        for old, rep in pairs:
            if len(value) >= min_length:
                sub = pc.replace_substring(sub, pattern=old, replacement=rep)
            else:
                sub = pc.replace_substring(sub, pattern=f'"{old}"', replacement=f'"{rep}"')
        pieces.append(sub)
        rows.append(g)
    if not pieces:
        return col
    return scatter(col, pa.concat_arrays(rows), pa.concat_arrays(pieces))


def scatter(col: pa.Array, rows: pa.Array, values: pa.Array) -> pa.Array:
    """``col`` with ``col[rows[i]] = values[i]`` (vectorized: one concat and one take)."""
    n = len(col)
    idx = np.arange(n, dtype=np.int64)
    idx[rows.to_numpy(zero_copy_only=False)] = np.arange(n, n + len(rows), dtype=np.int64)
    merged = pa.concat_arrays([col.cast(values.type), values])
    return merged.take(pa.array(idx))
