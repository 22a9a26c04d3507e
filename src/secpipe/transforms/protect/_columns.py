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

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
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


@dataclass
class Replacement:
    """One field's values in a batch: per-row dictionary index, distinct originals and their replacements."""

    indices: pa.Array
    originals: pa.Array
    replacements: pa.Array
    embedded: bool  # also replace inside ARNs (low-cardinality fields)


def rewrite_raw(col: pa.Array, fields: list[Replacement], min_length: int = 4) -> pa.Array:
    """Rewrite raw JSON text so the fields' original values no longer appear in it.

    Two vectorized strategies, chosen per field by its number of distinct values:

    - low cardinality (``embedded``: user names, account ids): rows are sorted once by
      their combination of these fields' values, and each value is replaced with one
      ``replace_substring`` over the contiguous slice of rows holding it, so a row's value
      goes wherever it appears in its own text (plain string, ARN, principal id, message);
      values shorter than ``min_length`` only as whole JSON strings. A field whose rows all
      hold the same values as an earlier field (actor and cloud account) is skipped.
    - high cardinality (IPs): the text is split at quotes (lossless: joining with quotes
      restores it), every segment equal to a value of the batch is found with one hash
      lookup (``index_in``) and swapped for its replacement, and the segments are joined.
    """
    if col.null_count == len(col) or not fields:
        return col
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    # one RE2 pass over the alternation of every value picks the rows that hold any of them
    values = sorted({v for f in fields for v in f.originals.to_pylist() if v}, key=len, reverse=True)
    if not values:
        return col
    if len(values) > 512:  # a huge alternation costs more than it saves
        return _rewrite_all(col, fields, min_length)
    holds = pc.fill_null(pc.match_substring_regex(col, "|".join(re.escape(v) for v in values)), False)
    n_hold = pc.sum(holds.cast(pa.int64())).as_py() or 0
    if n_hold == 0:
        return col
    if n_hold < len(col) // 2:  # rewrite only those rows, then put them back
        rows = pc.indices_nonzero(holds)
        sub_fields = [Replacement(f.indices.take(rows), f.originals, f.replacements, f.embedded) for f in fields]
        return scatter(col, rows, _rewrite_all(col.take(rows), sub_fields, min_length))
    return _rewrite_all(col, fields, min_length)


def _rewrite_all(col: pa.Array, fields: list[Replacement], min_length: int) -> pa.Array:
    whole = [f for f in fields if not f.embedded]
    if whole:
        col = _rewrite_whole(col, whole, min_length)
    own: list[Replacement] = []
    seen: list[pa.Array] = []
    for f in fields:
        if f.embedded:
            rows_vals = f.originals.take(f.indices)
            if not any(rows_vals.equals(v) for v in seen):
                seen.append(rows_vals)
                own.append(f)
    return _rewrite_own(col, own, min_length) if own else col


def _rewrite_own(col: pa.Array, fields: list[Replacement], min_length: int) -> pa.Array:
    """Sort rows by their combination of values once; replace each field's value per slice."""
    key = None
    for f in fields:
        k = pc.fill_null(f.indices.cast(pa.int64()), -1)
        key = k if key is None else pc.add(pc.multiply(key, len(f.originals) + 1), k)
    enc = pc.dictionary_encode(key)
    order = pc.array_sort_indices(enc.indices)
    counts = np.bincount(enc.indices.to_numpy(zero_copy_only=False), minlength=len(enc.dictionary))
    first = order.to_numpy(zero_copy_only=False)[np.concatenate(([0], np.cumsum(counts)[:-1]))] if len(counts) else []
    work = col.take(order)
    originals = [f.originals.to_pylist() for f in fields]
    replacements = [f.replacements.to_pylist() for f in fields]
    row_idx = [f.indices for f in fields]
    pieces: list[pa.Array] = []
    pos = 0
    for g, c in enumerate(counts.tolist()):
        sub = work.slice(pos, c)
        pos += c
        r = int(first[g])
        for fi in range(len(fields)):
            i = row_idx[fi][r].as_py()
            if i is None:
                continue
            value, new = originals[fi][i], replacements[fi][i]
            if value and value != new:
                if len(value) >= min_length:
                    sub = pc.replace_substring(sub, pattern=value, replacement=new)
                else:
                    sub = pc.replace_substring(sub, pattern=f'"{value}"', replacement=f'"{new}"')
        pieces.append(sub)
    inverse = np.empty(len(col), dtype=np.int64)
    inverse[order.to_numpy(zero_copy_only=False)] = np.arange(len(col), dtype=np.int64)
    return pa.concat_arrays(pieces).take(pa.array(inverse))


def _rewrite_whole(col: pa.Array, fields: list[Replacement], min_length: int) -> pa.Array:
    parts = pc.split_pattern(col, '"')
    segs = parts.flatten()
    originals = pa.concat_arrays([f.originals for f in fields])
    replacements = pa.concat_arrays([f.replacements for f in fields])
    keep = pc.greater_equal(pc.utf8_length(originals), min_length)
    originals, replacements = originals.filter(keep), replacements.filter(keep)
    idx = pc.index_in(segs, value_set=originals)
    hit = pc.is_valid(idx)
    if not pc.any(hit).as_py():
        return col
    out = pc.if_else(hit, replacements.take(idx), segs)
    rebuilt = pa.ListArray.from_arrays(parts.offsets, out, mask=parts.is_null() if parts.null_count else None)
    return pc.binary_join(rebuilt, '"')


def scatter(col: pa.Array, rows: pa.Array, values: pa.Array) -> pa.Array:
    """``col`` with ``col[rows[i]] = values[i]`` (vectorized: one concat and one take)."""
    n = len(col)
    idx = np.arange(n, dtype=np.int64)
    idx[rows.to_numpy(zero_copy_only=False)] = np.arange(n, n + len(rows), dtype=np.int64)
    base = col if col.type == values.type else col.cast(values.type)
    return pa.chunked_array([base, values]).take(pa.array(idx)).combine_chunks()
