"""Column plumbing for the protect stages: read and replace nested string leaves of a batch.

OCSF batches nest fields in struct columns (``actor.user.name`` is leaf ``name`` of struct
``user`` of struct ``actor``). :func:`get_path` reads a leaf as a flat array (null where any
parent is null); :func:`set_path` returns a new batch where that leaf is replaced, rebuilding
only the structs on the path (siblings and validity bitmaps are reused, nothing is copied
per row). :func:`string_leaves` lists every string leaf path (not inside lists); :func:`list_roots`,
:func:`list_leaves` and :func:`rebuild_list` read and replace the string leaves inside list columns.
:func:`map_distinct` applies a Python function to the DISTINCT values of a string array
only, then scatters the results back with one vectorized ``take``. :func:`rewrite_raw`
replaces each row's own field values in raw JSON text (per-row patterns: the compiled
rewrite of :mod:`._native` where built, else one vectorized DuckDB ``replace`` per field).
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy
from secpipe.transforms.protect import _native

if TYPE_CHECKING:
    import duckdb


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


def _paths(schema: pa.Schema, found: Callable[[pa.DataType], bool]) -> Iterator[str]:
    """Dotted paths of the columns of a type ``found`` accepts, reached through structs only."""

    def walk(prefix: str, t: pa.DataType) -> Iterator[str]:
        if found(t):
            yield prefix
        elif pa.types.is_struct(t):
            for f in t:
                yield from walk(f"{prefix}.{f.name}", f.type)

    for f in schema:
        yield from walk(f.name, f.type)


def string_leaves(schema: pa.Schema) -> Iterator[str]:
    """Dotted paths of every string leaf (struct nesting only; lists are skipped)."""
    return _paths(schema, lambda t: pa.types.is_string(t) or pa.types.is_large_string(t))


def list_roots(schema: pa.Schema) -> Iterator[str]:
    """Dotted paths of the list columns reached through structs only (``evidences``, ``finding_info.types``); the
    string leaves inside them are read with :func:`list_leaves` and replaced with :func:`rebuild_list`."""
    return _paths(schema, lambda t: pa.types.is_list(t) or pa.types.is_large_list(t))


def list_leaves(arr: pa.Array, path: str, rows: np.ndarray) -> Iterator[tuple[str, pa.Array, np.ndarray]]:
    """(path, flat values, the batch row of each value) of every string leaf of ``arr``, whose element ``i`` is
    of batch row ``rows[i]``; a list adds ``[]`` to the path (``evidences[].process.cmd_line``)."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        yield path, arr, rows
    elif pa.types.is_struct(t):
        for f in t:
            yield from list_leaves(pc.struct_field(arr, f.name), f"{path}.{f.name}", rows)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
        yield from list_leaves(arr.flatten(), f"{path}[]", rows[parents])


def rebuild_list(arr: pa.Array, path: str, new: dict[str, pa.Array]) -> pa.Array:
    """``arr`` with the string leaves named in ``new`` replaced by those flat values (as :func:`list_leaves` gives
    them: a list's logical values in order); lists, structs and their nulls keep their shape."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return new.get(path, arr)
    if not any(p.startswith(path) for p in new):
        return arr
    if pa.types.is_struct(t):
        children = [rebuild_list(pc.struct_field(arr, f.name), f"{path}.{f.name}", new) for f in t]
        fields = [f.with_type(c.type) for f, c in zip(t, children, strict=True)]
        return pa.StructArray.from_arrays(children, fields=fields, mask=arr.is_null() if arr.null_count else None)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        values = rebuild_list(arr.flatten(), f"{path}[]", new)
        lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64 if pa.types.is_large_list(t) else np.int32)
        cls = pa.LargeListArray if pa.types.is_large_list(t) else pa.ListArray
        return cls.from_arrays(pa.array(offsets), values, type=t if values.type == t.value_type else None,
                               mask=arr.is_null() if arr.null_count else None)
    return arr


#: the most values of one list field per event whose occurrences in the raw text are rewritten (one pass each)
MAX_LIST_VALUES = 32


def field_values(batch: pa.RecordBatch, path: str) -> tuple[pa.Array, np.ndarray | None] | None:
    """The values at ``path`` as a flat array and, for a path inside a list (``email.to[]``,
    ``actor.user.groups[].name``), the batch row of each value (None for a plain leaf: one value a row);
    None when the batch lacks the path."""
    if "[]" not in path:
        arr = get_path(batch, path)
        return None if arr is None else (arr, None)
    root = path.split("[]", 1)[0]
    arr = get_path(batch, root)
    if arr is None or not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        return None
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return next(((flat, rows) for p, flat, rows in list_leaves(arr, root, np.arange(len(arr), dtype=np.int64))
                 if p == path), None)


def put_values(batch: pa.RecordBatch, path: str, values: pa.Array) -> pa.RecordBatch:
    """``batch`` with the values at ``path`` replaced by ``values`` (as :func:`field_values` gave them)."""
    if "[]" not in path:
        return set_path(batch, path, values)
    root = path.split("[]", 1)[0]
    arr = get_path(batch, root)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return set_path(batch, root, rebuild_list(arr, root, {path: values}))


def list_replacements(indices: pa.Array, rows: np.ndarray, n: int, originals: pa.Array, replacements: pa.Array,
                      embedded: bool) -> list[Replacement]:
    """The :class:`Replacement` s of a list field's values for :func:`rewrite_raw`, which takes one value a row: the
    first value of each row, the second, ... (at most :data:`MAX_LIST_VALUES` a row)."""
    if not len(rows):
        return []
    idx = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    ordinal = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")  # rows ascend, as list_leaves gives them
    out = []
    for k in range(min(int(ordinal.max()) + 1, MAX_LIST_VALUES)):
        sel = (ordinal == k) & (idx >= 0)
        per_row = np.full(n, -1, np.int64)
        per_row[rows[sel]] = idx[sel]
        out.append(Replacement(pa.array(per_row, mask=per_row < 0), originals, replacements, embedded))
    return out


def encode_distinct(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(per-row index into ``distinct`` (null for null rows), distinct non-null values as strings)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    enc = pc.dictionary_encode(arr)
    return enc.indices, enc.dictionary


def map_distinct(arr: pa.Array, fn: Callable[[str], str]) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Apply ``fn`` to each distinct non-null value once.

    Returns (mapped rows, indices, distinct values, mapped distinct values).

    ``indices`` gives each row's position in ``distinct`` (null for null rows), so callers
    can group rows by value without another pass.
    """
    indices, distinct = encode_distinct(arr)
    out = pa.array([fn(v) for v in distinct.to_pylist()], pa.string())
    return out.take(indices), indices, distinct, out


@dataclass
class Replacement:
    """One field's values in a batch: per-row dictionary index, distinct originals and their replacements."""

    indices: pa.Array
    originals: pa.Array
    replacements: pa.Array
    embedded: bool  # also replace inside ARNs (low-cardinality fields)


def rewrite_raw(cols: list[pa.Array], fields: list[Replacement], min_length: int = 4,
                sparse: Sequence[bool] = ()) -> list[pa.Array]:
    """Rewrite raw JSON text so each row's own field values no longer appear in it.

    Per row and per field, in order (whole-string fields first, then embedded ones):

    - ``embedded`` fields (low cardinality: user names, account ids): every occurrence of the
      row's value is replaced by its replacement, wherever it appears in the row's text
      (plain string, ARN, principal id, message); a value shorter than ``min_length`` only
      as a whole JSON string (``"v"``). A value equal to an earlier embedded field's value
      in the same row (actor and cloud account) is not replaced twice.
    - other fields (high cardinality: IPs): every JSON string equal to the row's value
      (``"v"``), for values of ``min_length`` characters or more.

    The per-row patterns and replacements are built with ``pyarrow.compute``; the
    replacement itself is one vectorized ``replace`` per field in DuckDB over all columns
    at once (small batches: ``str.replace`` per row). Every column keeps its type.
    ``sparse[i]`` marks a column where few rows hold the values (``unmapped``: what the
    format did not map), see :func:`replace_rows`.
    """
    live = [i for i, c in enumerate(cols) if c.null_count < len(c)]
    if not live or not fields:
        return cols
    pairs = _patterns([*(f for f in fields if not f.embedded), *(f for f in fields if f.embedded)], min_length)
    if not pairs:
        return cols
    out = list(cols)
    flags = [bool(sparse[i]) if i < len(sparse) else False for i in live]
    if _native.available():
        done = [_native.replace_indexed(_flat(cols[i]), pairs) for i in live]
    else:
        done = replace_rows([_flat(cols[i]) for i in live], [(_per_row(r, p), _per_row(r, q)) for r, p, q in pairs], flags)
    for i, new in zip(live, done, strict=True):
        out[i] = new if new.type == cols[i].type else new.cast(cols[i].type)
    return out


def rewrite_raw_columns(batch: pa.RecordBatch, names: tuple[str, ...], fields: list[Replacement],
                        min_length: int = 4) -> pa.RecordBatch:
    """``batch`` with its top-level raw text columns ``names`` (those present) rewritten by :func:`rewrite_raw`."""
    idx = [batch.schema.get_field_index(c) for c in names]
    idx = [i for i in idx if i >= 0]
    if not idx:
        return batch
    new = rewrite_raw([batch.column(i) for i in idx], fields, min_length,
                      [batch.schema.field(i).name not in DENSE_RAW for i in idx])
    for i, col in zip(idx, new, strict=True):
        if col is not batch.column(i):
            batch = batch.set_column(i, batch.schema.field(i), col)
    return batch


def _flat(col: pa.Array) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _quoted(arr: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', arr, '"', "")


def _per_row(rows: np.ndarray, values: pa.Array) -> pa.Array:
    """``values[rows[i]]`` for each row, ``""`` where ``rows[i]`` is negative (the engines other than the compiled
    one take a string a row)."""
    return pa.concat_arrays([values, pa.array([""], values.type)]).take(from_numpy(np.where(rows < 0, len(values), rows)))


def _patterns(fields: list[Replacement], min_length: int) -> list[tuple[np.ndarray, pa.Array, pa.Array]]:
    """Per field, (per row, the position of its pattern and replacement, -1 for none; the patterns; the
    replacements): one pattern a distinct value, ``""`` where nothing is replaced.

    Patterns are decided once per distinct value, and rows point at them. A value
    that JSON writes escaped (a quote, a backslash, a control character, non-ASCII text, Go's
    ``<``/``>``/``&``) also gets a pair per escaped spelling (:func:`_json_spellings`): raw text is
    JSON as the source wrote it, where ``CORP\\alice`` or ``Jos\u00e9`` would keep the value.
    """
    pairs: list[tuple[np.ndarray, pa.Array, pa.Array]] = []
    earlier: list[tuple[pa.Array, np.ndarray]] = []  # the embedded fields so far: (distinct values, row -> index)
    empty = pa.scalar("", pa.string())
    for f in fields:
        value, new = f.originals, f.replacements
        if value.type != pa.string():
            value, new = value.cast(pa.string()), new.cast(pa.string())
        length = pc.utf8_length(value)
        long = pc.greater_equal(length, min_length)
        keep = pc.and_(pc.not_equal(value, new), pc.greater(length, 0))
        if not f.embedded:
            keep = pc.and_(keep, long)
        keep = pc.fill_null(keep, False)
        if not pc.any(keep).as_py():
            continue
        rows = np.asarray(pc.fill_null(f.indices, -1).to_numpy(zero_copy_only=False), np.int64)  # -1: a null row
        if f.embedded:
            same = np.zeros(len(rows), bool)
            for prev, prev_rows in earlier:  # the row's value was already replaced by an earlier field
                same |= _same_value(value, rows, prev, prev_rows)
            earlier.append((value, rows))
            if same.all():
                continue
            if same.any():
                rows = np.where(same, -1, rows)
        for spelling in (value, *_json_spellings(value)):
            if f.embedded:  # bare where long enough to be told apart, else as a whole JSON string
                pat, rep = pc.if_else(long, spelling, _quoted(spelling)), pc.if_else(long, new, _quoted(new))
            else:
                pat, rep = _quoted(spelling), _quoted(new)
            use = pc.fill_null(pc.and_(keep, pc.not_equal(spelling, "")), False)
            if spelling is not value and not pc.any(use).as_py():
                continue
            pairs.append((rows, pc.if_else(use, pat, empty), pc.if_else(use, rep, empty)))
    return pairs


def _same_value(value: pa.Array, rows: np.ndarray, prev: pa.Array, prev_rows: np.ndarray) -> np.ndarray:
    """Per row: do two fields hold the same string there, from their distinct values and row -> index arrays
    (-1: null), by the distinct values' places in the other field's (no string per row is made)."""
    at = np.asarray(pc.fill_null(pc.index_in(value, value_set=prev), -1).to_numpy(zero_copy_only=False), np.int64)
    mine = np.where(rows >= 0, at[np.maximum(rows, 0)], -1) if len(at) else np.full(len(rows), -1, np.int64)
    return (mine >= 0) & (mine == prev_rows)


#: a character JSON encoders may write escaped: a quote, a backslash, a control character, non-ASCII, Go's <>&
_ESCAPABLE = r'["\\\x00-\x1f<>&]|[^\x00-\x7f]'
#: per byte: is it (part of) such a character
_ESCAPABLE_BYTE = np.array([c < 0x20 or c >= 0x80 or chr(c) in '"\\<>&' for c in range(256)])


def text_bytes(arr: pa.Array) -> memoryview:
    """The bytes of a string array's values, all rows together (a view, no copy)."""
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])] if data is not None else memoryview(b"")


def _json_spellings(value: pa.Array) -> list[pa.Array]:
    """Per escaped spelling JSON encoders give a string (Python's ``ensure_ascii`` off and on, Go's
    ``encoding/json`` with its HTML escapes), an array aligned with ``value``: the spelling inside
    the quotes where it differs from the value and from the spellings before it, else ``""``. Only
    the distinct values holding an escapable character are encoded (few: none in most batches)."""
    if not len(value) or not _ESCAPABLE_BYTE[np.frombuffer(text_bytes(value), np.uint8)].any():
        return []  # (the common case, one numpy pass over the values' bytes: IP addresses, ids, names)
    hit = pc.fill_null(pc.match_substring_regex(value, _ESCAPABLE), False)
    if not pc.any(hit).as_py():
        return []
    rows = pc.indices_nonzero(hit).to_pylist()
    texts = value.take(pa.array(rows, pa.int64())).to_pylist()
    forms: list[list[str]] = [[], [], []]
    for text in texts:
        plain = json.dumps(text, ensure_ascii=False)[1:-1]
        ascii_ = json.dumps(text)[1:-1]
        go = plain.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        go = go.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        seen = {text}
        for k, form in enumerate((plain, ascii_, go)):
            forms[k].append("" if form in seen else form)
            seen.add(form)
    out = []
    for k in range(3):
        if any(forms[k]):
            col = np.array([""] * len(value), dtype=object)
            col[rows] = forms[k]
            out.append(pa.array(col, pa.string()))
    return out


#: raw text columns that hold every mapped value (the event as received); others are sparse.
DENSE_RAW = frozenset({"raw_data"})
#: below this many rows a per-row ``str.replace`` beats DuckDB (its per-query cost is ~ms).
SMALL_BATCH = 2048
_DB_LOCK = threading.Lock()


@functools.cache
def _duckdb(pid: int) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB connection per process (``pid``: a forked child opens its own)."""
    import duckdb  # imported on first use: a plain ingest does not pay for it

    return duckdb.connect(":memory:", config={"threads": 1})


def replace_rows(cols: list[pa.Array], pairs: list[tuple[pa.Array, pa.Array]],
                 sparse: Sequence[bool] = ()) -> list[pa.Array]:
    """Each column with ``text.replace(pattern[row], replacement[row])`` applied per pair, in order.

    An empty pattern leaves the row unchanged; null text stays null. Where the optional C
    accelerator is built (:mod:`._native`: one call per column over the Arrow buffers) it
    does the work; otherwise DuckDB runs the replacements vectorized
    (``replace(replace(x, p0, r0), p1, r1)``) and small batches use ``str.replace`` per row
    (same left-to-right, non-overlapping semantics). In a ``sparse`` column each DuckDB
    replace is guarded by ``contains`` (a fast search): rows without the pattern pass
    through uncopied.
    """
    if _native.available():
        return [_native.replace_rows(_flat(c), pairs) for c in cols]
    n = len(cols[0])
    if n < SMALL_BATCH:
        pats = [(p.to_pylist(), r.to_pylist()) for p, r in pairs]
        out = []
        for col in cols:
            texts = col.to_pylist()
            for row, text in enumerate(texts):
                if text is not None:
                    for p, r in pats:
                        if p[row]:
                            text = text.replace(p[row], r[row])
                    texts[row] = text
            out.append(pa.array(texts, pa.string()))
        return out
    names = {f"x{i}": c for i, c in enumerate(cols)}
    for k, (p, r) in enumerate(pairs):
        names[f"p{k}"], names[f"r{k}"] = p, r
    # one projection per pair (stacked, so no expression is duplicated); rows without a
    # pattern pass through without a copy
    src = "secpipe_rewrite"
    guard = [f" OR NOT contains(x{i}, p{{k}})" if i < len(sparse) and sparse[i] else "" for i in range(len(cols))]
    for k in range(len(pairs)):
        cols_k = [f"CASE WHEN p{k} = ''{guard[i].format(k=k)} THEN x{i} ELSE replace(x{i}, p{k}, r{k}) END AS x{i}"
                  for i in range(len(cols))]
        carry = [f"{c}{j}" for j in range(k + 1, len(pairs)) for c in "pr"]
        src = f"(SELECT {', '.join(cols_k + carry)} FROM {src})"
    table = pa.table(names)
    with _DB_LOCK:
        con = _duckdb(os.getpid())
        con.register("secpipe_rewrite", table)
        try:
            res = con.sql(f"SELECT {', '.join(f'x{i}' for i in range(len(cols)))} FROM {src}").to_arrow_table()
        finally:
            con.unregister("secpipe_rewrite")
    return [_one_chunk(res.column(i)) for i in range(len(cols))]


def _one_chunk(col: pa.ChunkedArray) -> pa.Array:
    """The column as one array; no copy when it already is one chunk (``combine_chunks`` copies)."""
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def scatter(col: pa.Array, rows: pa.Array, values: pa.Array) -> pa.Array:
    """``col`` with ``col[rows[i]] = values[i]`` (vectorized: one concat and one take)."""
    n = len(col)
    idx = np.arange(n, dtype=np.int64)
    idx[rows.to_numpy(zero_copy_only=False)] = np.arange(n, n + len(rows), dtype=np.int64)
    base = col if col.type == values.type else col.cast(values.type)
    return _one_chunk(pa.chunked_array([base, values]).take(from_numpy(idx)))
