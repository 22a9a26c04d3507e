"""The compiled OCSF 1.8.0 schema, turned into Arrow types on demand.

Design: formats produce *flat* columns keyed by OCSF dotted paths (``actor.user.name``) as
Arrow arrays; :func:`assemble` checks every path against the class in the compiled schema,
casts each leaf to the Arrow type derived from its OCSF type, and nests the columns into
struct columns, so a batch is one OCSF class and queries read ``actor.user.name`` natively.
A column may also be a whole nested array (a ``list<struct>`` for ``resources``); its child
fields are checked the same way. Types:

    integer_t, port_t -> int32      long_t, timestamp_t -> int64 (ms since epoch, as OCSF)
    datetime_t -> timestamp[ms, UTC] float_t -> float64   boolean_t -> bool
    object / json_t -> string (compact JSON)   everything else -> string

Files of one class written by different formats carry different subsets of fields; the
query layer unions them by name (DuckDB unifies nested structs by field name).

Two guarantees :func:`assemble` adds to every batch, columnar (a few Arrow kernels per batch,
none per row; the common batch, where some leaf of each object is never null, costs a
null-count look per leaf):

- **No empty objects.** An object row whose every field is absent (null, or an empty list) is
  a null object, not a struct of nulls, at every depth and inside lists, so a reader never sees
  ``src_endpoint: {ip: null, ...}`` for an event that names no endpoint (a validator reads such
  a struct as a present object missing its required fields).
- **metadata.profiles.** Each row lists the OCSF profiles whose attributes it carries: an
  attribute is a profile's when the compiled schema tags it ``profile`` (``cloud`` for ``api``
  and ``cloud``, ``host`` for ``actor`` and ``device``, ``datetime`` for every ``*_dt``, ...), at
  any depth; names are sorted. A caller that gives ``metadata.profiles`` itself keeps its own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy
from secpipe.errors import SecpipeError

OCSF_VERSION = "1.8.0"

_SCALARS: dict[str, pa.DataType] = {
    "integer_t": pa.int32(),
    "port_t": pa.int32(),
    "long_t": pa.int64(),
    "timestamp_t": pa.int64(),
    "datetime_t": pa.timestamp("ms", tz="UTC"),
    "float_t": pa.float64(),
    "boolean_t": pa.bool_(),
    "json_t": pa.string(),
    "object": pa.string(),
}


class SchemaError(SecpipeError):
    """A field path that does not exist in the OCSF class, or a value of the wrong shape."""


class _Members(Mapping[str, Any]):
    """A JSON object of the schema whose members are decoded when first read (a run uses a
    few of the 83 classes and 178 objects: decoding all of them cost ~25 ms at every start)."""

    def __init__(self, raw: dict[str, msgspec.Raw]) -> None:
        self._raw = raw
        self._done: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        try:
            return self._done[key]
        except KeyError:
            value = self._done[key] = msgspec.json.decode(self._raw[key])
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def decoded(self) -> dict[str, Any]:
        """The members decoded so far (read-only use: the cache itself)."""
        return self._done

    def view(self, key: str, type_: type[Any]) -> Any:
        """Member ``key`` decoded as ``type_`` only (a struct naming the fields wanted), not kept."""
        return msgspec.json.decode(self._raw[key], type=type_)


class _Top(msgspec.Struct):
    """The compiled schema's top level, read in one pass: ``classes`` and ``objects`` split into
    their members as they are met (4.2 MB of the 4.3 skipped once: splitting the top level and
    then each of the two cost ~4.7 ms more at every start), the other members kept raw. Fields
    in the file's order; an absent one is UNSET (test_ocsf_schema_load checks that these are
    the file's every key)."""

    version: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    classes: dict[str, msgspec.Raw] | msgspec.UnsetType = msgspec.UNSET
    objects: dict[str, msgspec.Raw] | msgspec.UnsetType = msgspec.UNSET
    types: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    base_event: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    profiles: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    extensions: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    categories: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_LAZY = frozenset(("classes", "objects"))


class _Uid(msgspec.Struct):
    uid: int | None = None


@functools.cache
def ocsf() -> dict[str, Any]:
    """Return the compiled OCSF schema (loaded once, from the package); ``classes`` and
    ``objects`` are read-only mappings decoded member by member as they are used."""
    # beside this module (importlib.resources would load ~5 ms of modules for the same path;
    # the package holds native extensions, so it is never imported from a zip). Stored as it is
    # published (the same bytes as the shared ocsf-1.8.0.json): reading its 4.3 MB costs ~0.4 ms,
    # inflating it from gzip (ISA-L) cost ~5-6 ms at every start.
    ref = Path(__file__).with_name(f"ocsf-{OCSF_VERSION}.json")
    top = msgspec.json.decode(ref.read_bytes(), type=_Top)
    out: dict[str, Any] = {}
    for k in top.__struct_fields__:
        v = getattr(top, k)
        if v is not msgspec.UNSET:
            out[k] = _Members(v) if k in _LAZY else msgspec.json.decode(v)
    return out


def _class(name: str) -> dict[str, Any]:
    try:
        return ocsf()["classes"][name]
    except KeyError:
        msg = f"unknown OCSF class {name!r}"
        raise SchemaError(msg) from None


def class_uid(name: str) -> int:
    """OCSF class_uid of a class name, e.g. ``api_activity`` -> 6003."""
    return int(_class(name)["uid"])


def category_uid(name: str) -> int:
    """OCSF category_uid of a class name, e.g. ``api_activity`` -> 6."""
    return int(class_uid(name) // 1000)


def class_caption(name: str) -> str:
    """Human caption of a class, e.g. ``API Activity``."""
    return str(_class(name)["caption"])


def category_name(name: str) -> str:
    """Caption of the category a class belongs to."""
    cat = _class(name)["category"]
    # base_event (class 0) belongs to no listed category: OCSF calls category 0 "Uncategorized".
    return str(ocsf()["categories"].get(cat, {}).get("caption", "Uncategorized"))


def enum_caption(class_name: str, attribute: str, value: int) -> str | None:
    """Caption of an enum value of a class attribute (``activity_id`` 1 -> ``Create``)."""
    enum = _class(class_name)["attributes"].get(attribute, {}).get("enum") or {}
    item = enum.get(str(value))
    return None if item is None else str(item["caption"])


def _attributes(owner: str, is_class: bool) -> dict[str, Any]:
    if is_class:
        return _class(owner)["attributes"]
    try:
        return ocsf()["objects"][owner]["attributes"]
    except KeyError:
        msg = f"unknown OCSF object {owner!r}"
        raise SchemaError(msg) from None


def _resolve(class_name: str, path: str) -> dict[str, Any]:
    """The attribute definition at a dotted path, walking objects from the class."""
    owner, is_class = class_name, True
    parts = path.split(".")
    attr: dict[str, Any] = {}
    for i, part in enumerate(parts):
        attrs = _attributes(owner, is_class)
        if part not in attrs:
            where = ".".join(parts[:i]) or class_name
            msg = f"{class_name}: {path!r} is not an OCSF attribute ({part!r} not in {where}); put it in unmapped"
            raise SchemaError(msg)
        attr = attrs[part]
        if i < len(parts) - 1:
            otype = str(attr.get("object_type") or attr.get("type"))
            if otype in _SCALARS or otype not in ocsf()["objects"]:
                msg = f"{class_name}: {'.'.join(parts[: i + 1])!r} is a scalar; cannot descend into {path!r}"
                raise SchemaError(msg)
            owner, is_class = otype, False
    return attr


@functools.cache
def arrow_type(class_name: str, path: str) -> pa.DataType:
    """Arrow type for a scalar (or array-of-scalar) OCSF attribute at ``path``."""
    attr = _resolve(class_name, path)
    t = attr.get("type", "string_t")
    if t in ocsf()["objects"] and t != "object":
        msg = f"{class_name}: {path!r} is an object ({t}); give its fields, not the object"
        raise SchemaError(msg)
    base = _SCALARS.get(t, pa.string())
    return pa.list_(base) if attr.get("is_array") else base


def _object_of(class_name: str, path: str) -> tuple[str, bool]:
    attr = _resolve(class_name, path)
    t = str(attr.get("object_type") or attr.get("type"))
    if t not in ocsf()["objects"]:
        msg = f"{class_name}: {path!r} is not an object attribute"
        raise SchemaError(msg)
    return t, bool(attr.get("is_array"))


def _conform_nested(class_name: str, path: str, arr: pa.Array) -> pa.Array:
    """Check and cast a nested value (struct or list<struct>) given for an object path: ``arr`` itself
    when that changes nothing (its leaves of OCSF's types, no object without a present field, fields
    as ``from_arrays`` names them), so a column made right (``_findings.nest``) is not built again."""
    t = arr.type
    if t.id in _LIST_IDS:
        inner = arr.values
        if inner.type.id == _STRUCT_ID:
            fixed = _conform_struct(class_name, path, inner)
            if t.id != _LIST_ID:  # a large list: made a list (int32 offsets), as from_arrays casts them
                return pa.ListArray.from_arrays(arr.offsets, fixed, mask=arr.is_null() if arr.null_count else None)
            if fixed is inner and _plain(t.value_field, "item"):
                return arr
            if arr.null_count == 0:
                return pa.ListArray.from_arrays(arr.offsets, fixed)
            return _list_of(arr, fixed)
        return _cast(arr, arrow_type(class_name, path))
    if t.id == _STRUCT_ID:
        return _conform_struct(class_name, path, arr)
    return _cast(arr, arrow_type(class_name, path))


def _plain(f: pa.Field, name: str) -> bool:
    """Whether ``f`` is the field ``from_arrays`` makes for a child named ``name`` (nullable, no metadata)."""
    return f.nullable and f.metadata is None and f.name == name


def _list_of(arr: pa.Array, values: pa.Array) -> pa.Array:
    """``arr`` (a list<struct> column) over ``values`` (its values conformed): its offsets and nulls kept, what
    ``ListArray.from_arrays(arr.offsets, values, mask=arr.is_null())`` gives without the kernel calls
    of the mask (``is_null``, and the ``invert`` that call makes of it: ~25 us a column whatever its size)."""
    n = len(arr)
    offsets = arr.offsets  # the rows' n + 1 offsets into the whole of arr.values (a view: arr.offset on)
    buf = offsets.buffers()[1]
    if offsets.offset:
        buf = buf.slice(offsets.offset * 4)
    valid = _validity(arr, (n + 7) // 8)
    return pa.Array.from_buffers(pa.list_(values.type), n, [None if valid is None else pa.py_buffer(valid), buf],
                                 children=[values])  # fmt: skip


def _cast(arr: pa.Array, want: pa.DataType) -> pa.Array:
    """``arr.cast(want)``, without the kernel call (~10 us) when ``arr`` is of that type already."""
    return arr if arr.type == want else arr.cast(want)


def _conform_struct(class_name: str, path: str, arr: pa.Array) -> pa.Array:
    """``arr`` (a struct column) with its fields conformed, null where it is or where no field is present
    (as ``StructArray.from_arrays`` with ``is_null() | ~present`` for a mask gives it, bits and-ed with
    numpy where that cost three kernel calls); ``arr`` itself when that changes nothing."""
    t = arr.type
    names: list[str] = []
    children: list[pa.Array] = []
    same = True  # every field conformed to itself, and named as from_arrays names it
    for i in range(t.num_fields):
        f = t.field(i)
        child = arr.field(i)
        fixed = _conform_nested(class_name, f"{path}.{f.name}", child)
        same = same and fixed is child and f.nullable and f.metadata is None
        names.append(f.name)
        children.append(fixed)
    n = len(arr)
    if arr.null_count == 0:  # valid where some child is present: its bits as the bitmap
        bits = _valid_bits(children, n)
        if bits is None:
            return arr if same else pa.StructArray.from_arrays(children, names=names)
        return _struct_from(children, names, n, bits)
    own = _validity(arr, (n + 7) // 8)
    assert own is not None  # (some row is null)
    present = _bits(children, n)
    if present is None or _count(np.bitwise_and(own, present), n) == n - arr.null_count:
        if same:  # every valid row has a present field already
            return arr
        return _struct_from(children, names, n, pa.py_buffer(own))
    return _struct_from(children, names, n, pa.py_buffer(np.bitwise_and(own, present)))


_LIST_ID = pa.list_(pa.int8()).id
_LIST_IDS = frozenset((_LIST_ID, pa.large_list(pa.int8()).id))
_STRUCT_ID = pa.struct([]).id


def _is_list(t: pa.DataType) -> bool:
    return t.id in _LIST_IDS


def _validity(arr: pa.Array, nbytes: int) -> np.ndarray | None:
    """The validity bits of ``arr`` packed from its first row (bit i of byte i // 8, numpy, no kernel
    call); None when no row is null. Bits past the last row are unspecified (a bitmap's own)."""
    nulls = arr.null_count
    if nulls == 0:
        return None
    n = len(arr)
    if nulls == n:  # (a NullArray has no bitmap at all)
        return np.zeros(nbytes, np.uint8)
    off = arr.offset
    buf = arr.buffers()[0]
    if off & 7 == 0:
        return np.frombuffer(buf, np.uint8, nbytes, off >> 3)
    bits = np.unpackbits(np.frombuffer(buf, np.uint8, (off + n + 7) // 8), bitorder="little")
    return np.packbits(bits[off : off + n], bitorder="little")


def _offsets(arr: pa.Array) -> np.ndarray:
    """The n + 1 offsets of the rows of a list column, as numpy (a view of its buffer)."""
    offsets = arr.offsets
    dtype = np.dtype(np.int32 if arr.type.id == _LIST_ID else np.int64)
    return np.frombuffer(offsets.buffers()[1], dtype, len(arr) + 1, offsets.offset * dtype.itemsize)


def _present(arr: pa.Array) -> np.ndarray | None:
    """Rows where ``arr`` carries a value (not null, not an empty list), packed as :func:`_validity`
    packs them; None when every row does. A list's row lengths are read off its offsets (numpy)."""
    n = len(arr)
    nbytes = (n + 7) // 8
    valid = _validity(arr, nbytes)
    if arr.type.id not in _LIST_IDS:
        return valid
    offs = _offsets(arr)
    rows = offs[1:] > offs[:-1]
    if valid is not None:
        rows &= np.unpackbits(valid, count=n, bitorder="little").view(bool)
    return None if rows.all() else np.packbits(rows, bitorder="little")


def _bits(columns: list[pa.Array], n: int, rows: tuple[np.ndarray, ...] = ()) -> np.ndarray | None:
    """Rows where some column is present or some ``rows`` bits are set, as packed bits; None = all.

    Bits are OR-ed as bytes (numpy, no kernel call per column): a column's validity bitmap, or
    for a list its non-empty rows. The common case, a column that is never null, is one look.
    """
    for c in columns:
        if c.null_count == 0 and c.type.id not in _LIST_IDS:
            return None
    if n == 1:  # one row (a webhook, an alert): a column is present or not, numpy's calls cost more than the looks
        for c in columns:
            if c.null_count == 0 and (offs := _offsets(c))[1] > offs[0]:  # (only lists are left non-null)
                return None
        return None if any(m[0] & 1 for m in rows) else np.zeros(1, np.uint8)
    nbytes = (n + 7) // 8
    acc = np.zeros(nbytes, np.uint8)
    for c in columns:
        if c.type.id in _LIST_IDS or c.offset & 7:
            p = _present(c)
            if p is None:
                return None
            rows = (*rows, p)
        elif c.null_count != n:  # an all-null column adds nothing (a NullArray has no bitmap at all)
            np.bitwise_or(acc, np.frombuffer(c.buffers()[0], np.uint8, nbytes, c.offset >> 3), out=acc)
    for m in rows:
        np.bitwise_or(acc, m, out=acc)
    return acc


def _count(bits: np.ndarray, n: int) -> int:
    """The set bits among the first ``n`` of packed ``bits``."""
    if n <= 512:  # a Python int's popcount: numpy's reduction costs ~10 us whatever the size
        return (int.from_bytes(bits[: (n + 7) // 8].tobytes(), "little") & ((1 << n) - 1)).bit_count()
    full, rest = divmod(n, 8)
    count = int(np.bitwise_count(bits[:full]).sum())
    return count + int(bits[full] & ((1 << rest) - 1)).bit_count() if rest else count


def _valid_bits(children: list[pa.Array], n: int) -> pa.Buffer | None:
    """Validity bitmap of an object: valid where some child is present; None = all valid."""
    if not children:
        return None
    acc = _bits(children, n)
    return None if acc is None or _count(acc, n) == n else pa.py_buffer(acc)


def _struct(arrays: list[pa.Array], names: list[str], n: int) -> pa.Array:
    """A struct column of ``arrays``, null where every child is absent."""
    bits = _valid_bits(arrays, n)
    if bits is None:
        return pa.StructArray.from_arrays(arrays, names=names)
    return _struct_from(arrays, names, n, bits)


def _struct_from(arrays: list[pa.Array], names: list[str], n: int, bits: pa.Buffer) -> pa.Array:
    """A struct column of ``arrays`` with validity bitmap ``bits``."""
    t = pa.struct([pa.field(nm, a.type) for nm, a in zip(names, arrays, strict=True)])
    return pa.Array.from_buffers(t, n, [bits], children=arrays)


def _leaf(class_name: str, path: str, value: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``value`` checked and cast to the OCSF type of ``path`` (nested values field by field)."""
    return _conform(class_name, path, value)[0]


def _conform(class_name: str, path: str, value: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, bool]:
    """:func:`_leaf`, and whether the value is nested (a struct or a list of structs)."""
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    t = value.type
    if t.id == _STRUCT_ID or (t.id in _LIST_IDS and t.value_type.id == _STRUCT_ID):
        return _conform_nested(class_name, path, value), True
    want = arrow_type(class_name, path)
    if t == want:
        return value, False
    try:
        return value.cast(want), False
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        msg = f"{class_name}: {path!r} cannot be {t} (OCSF wants {want}): {exc}"
        raise SchemaError(msg) from exc


@functools.cache
def _path_profiles(class_name: str, path: str) -> tuple[str, ...]:
    """Profiles tagging ``path`` or any object on the way to it (``actor.user.name`` -> host)."""
    parts = path.split(".")
    out: list[str] = []
    for i in range(1, len(parts) + 1):
        prof = _resolve(class_name, ".".join(parts[:i])).get("profile")
        if prof and prof not in out:
            out.append(str(prof))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _plan(class_name: str, paths: tuple[str, ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(profile, indices of the columns under its attributes) of a batch's columns (cached per layout)."""
    by: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        for prof in _path_profiles(class_name, p):
            by.setdefault(prof, []).append(i)
    return tuple((prof, tuple(idx)) for prof, idx in by.items())


@functools.cache
def _nested_profiles(class_name: str, path: str, t: pa.DataType) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(profile, field steps) of the profile attributes inside a nested column given for ``path``."""
    out: list[tuple[str, tuple[str, ...]]] = []

    def walk(prefix: str, steps: tuple[str, ...], t: pa.DataType) -> None:
        if _is_list(t):
            t = t.value_type
        if not pa.types.is_struct(t):
            return
        for f in t:
            p, st = f"{prefix}.{f.name}", (*steps, f.name)
            prof = _resolve(class_name, p).get("profile")
            if prof:
                out.append((str(prof), st))
            walk(p, st, f.type)

    walk(path, (), t)
    return tuple(out)


def _rows_with(arr: pa.Array, steps: tuple[str, ...]) -> np.ndarray | None:
    """Rows of ``arr`` (a nested column) where the field at ``steps`` is present, packed as
    :func:`_validity` packs them; None = all rows. Numpy over offsets and bitmaps (no kernel call):
    a list's row has the field where one of its items has it; a null row (list or object) never has it."""
    if not steps:
        return _present(arr)
    n = len(arr)
    if arr.type.id in _LIST_IDS:
        offs = _offsets(arr)
        lo, items = int(offs[0]), int(offs[-1] - offs[0])
        inner = _rows_with(arr.values.slice(lo, items), steps)
        if inner is None:  # every item has it: the non-empty rows
            rows = offs[1:] > offs[:-1]
        else:  # some item of the row has it: the count of such items before each offset grows over the row
            upto = np.zeros(items + 1, np.int64)
            np.cumsum(np.unpackbits(inner, count=items, bitorder="little"), dtype=np.int64, out=upto[1:])
            at = upto[offs - lo]
            rows = at[1:] > at[:-1]
    else:
        inner = _rows_with(arr.field(arr.type.get_field_index(steps[0])), steps[1:])
        if inner is None:
            return _validity(arr, (n + 7) // 8)
        rows = np.unpackbits(inner, count=n, bitorder="little").view(bool)
    valid = _validity(arr, (n + 7) // 8)
    if valid is not None:
        rows = rows & np.unpackbits(valid, count=n, bitorder="little").view(bool)
    return None if rows.all() else np.packbits(rows, bitorder="little")


_CONST_ROWS = 1 << 16
_SMALL = 256


@functools.cache
def _const_lists(names: tuple[str, ...], rows: int) -> pa.Array:
    """``rows`` copies of one list of names (sliced per batch: a constant column costs nothing)."""
    k = len(names)
    offsets = from_numpy(np.arange(rows + 1, dtype=np.int32) * k)
    values = pa.array(list(names), pa.string()).take(from_numpy(np.tile(np.arange(k, dtype=np.int32), rows)))
    return pa.ListArray.from_arrays(offsets, values)


def _profiles_column(hits: dict[str, list[pa.Array]], masks: dict[str, list[pa.Array | None]], n: int) -> pa.Array:
    """metadata.profiles from each profile's attribute columns and row masks (None = every row)."""
    whole: list[str] = []
    partial: dict[str, np.ndarray] = {}
    for prof in sorted(hits.keys() | masks.keys()):
        rows = masks.get(prof, [])
        if any(r is None for r in rows):
            whole.append(prof)
            continue
        bits = _bits(hits.get(prof, []), n, tuple(r for r in rows if r is not None))
        count = n if bits is None else _count(bits, n)
        if count == n:
            whole.append(prof)
        elif count:
            assert bits is not None
            partial[prof] = np.unpackbits(bits, count=n, bitorder="little")
    if not partial:
        size = _CONST_ROWS if n <= _CONST_ROWS else n
        return _const_lists(tuple(whole), size).slice(0, n)
    # rows differ: a code per row (bit i = the i-th partial profile); one list per code, taken
    names = sorted(partial)
    code: np.ndarray = np.zeros(n, np.int32)
    for i, name in enumerate(names):
        code |= partial[name].astype(np.int32) << i
    distinct: np.ndarray
    if len(names) > 8:
        distinct, code = np.unique(code, return_inverse=True)
    else:
        distinct = np.arange(1 << len(names))
    lists = [sorted(whole + [nm for i, nm in enumerate(names) if c >> i & 1]) for c in distinct.tolist()]
    if n <= _SMALL:  # a small batch: building its few lists directly beats a list take
        return pa.array([lists[c] for c in code.tolist()], pa.list_(pa.string()))
    return pa.array(lists, pa.list_(pa.string())).take(from_numpy(code))


def assemble(class_name: str, columns: dict[str, pa.Array | pa.ChunkedArray],
             made: frozenset[str] = frozenset()) -> pa.RecordBatch:  # fmt: skip
    """Build a nested OCSF RecordBatch from flat dotted-path columns, checked against OCSF.

    All-absent objects become null and ``metadata.profiles`` is derived (module docstring).
    The struct tree of a set of paths, and the type each path wants, are worked out once
    (:func:`_layout`, cached per class and paths): a batch then costs the type check of its
    leaves and the building of its structs (the tree made path by path, each path split and
    resolved, cost ~150 us a batch whatever its size). Same batch as :func:`assemble_fresh`.
    ``made``: paths whose object columns :func:`object_rows` made (of OCSF's types, no object
    without a present field): taken as they are, not walked again (a one-alert batch's evidence,
    ~40 fields, cost ~0.4 ms to walk).
    """
    paths = tuple(columns)
    layout = _layout(class_name, paths)
    if layout is None:  # a path that is not OCSF, given twice, or both a value and an object: the error
        return assemble_fresh(class_name, columns)
    leaves: list[pa.Array] = []
    masks: dict[str, list[pa.Array | None]] = {}
    n = -1
    for path, value, want in zip(paths, columns.values(), layout.wants, strict=True):
        if want is not None and type(value) is not pa.ChunkedArray and value.type == want:
            arr = value  # the common case: a leaf of the type OCSF wants already
        else:
            remembered = kept(value)
            seen = _ONE_ROW.get((class_name, path, id(value))) if remembered else None
            if seen is None:
                arr, nested = (value, True) if path in made else _conform(class_name, path, value)
                rows = [(prof, _rows_with(arr, steps)) for prof, steps in _nested_profiles(class_name, path, arr.type)] if nested else []
                if remembered:
                    _ONE_ROW[class_name, path, id(value)] = (value, keep(arr), rows)
            else:
                _, arr, rows = seen
            for prof, mask in rows:
                masks.setdefault(prof, []).append(mask)
        if n < 0:
            n = len(arr)
        elif len(arr) != n:
            msg = f"{class_name}: column {path!r} has {len(arr)} rows, expected {n}"
            raise SchemaError(msg)
        leaves.append(arr)
    if layout.profiles:
        hits = {prof: [leaves[i] for i in idx] for prof, idx in _plan(class_name, paths)}
        leaves.append(_profiles_column(hits, masks, n))  # the last leaf (_Layout.profiles)

    top = layout.top
    return pa.RecordBatch.from_arrays([leaves[x] if type(x) is int else _build(x, leaves, n) for x in top.items],
                                      names=top.names)  # fmt: skip


#: columns a format gives again to later batches (``keep``), by id; and what conforming such a column
#: (with its rows' profile masks) or building an object's struct of such children gave (``_ONE_ROW``):
#: a one-payload batch whose leaves are columns a format kept (``_cicd._ONES``, ``base._fixed_columns``)
#: is not conformed and built again. Each entry holds the objects its key names (their ids stay theirs
#: while it lives); only kept columns are remembered, so a batch of new values adds nothing.
_KEPT: dict[int, pa.Array] = {}
_ONE_ROW: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_KEPT_MAX = 16384


def kept(arr: pa.Array) -> bool:
    """Whether ``arr`` is marked by :func:`keep` (and not cleared since)."""
    return _KEPT.get(id(arr)) is arr


def keep(arr: pa.Array) -> pa.Array:
    """``arr``, marked as a column its format gives again to later batches (a one-row column of a
    value seen before): :func:`assemble` then remembers what it makes of it (at most ``_KEPT_MAX``
    columns, then both are cleared)."""
    if len(_KEPT) >= _KEPT_MAX:
        _KEPT.clear()
        _ONE_ROW.clear()
    _KEPT[id(arr)] = arr
    return arr


def _build(node: _Node, leaves: list[pa.Array], n: int) -> pa.Array:
    """The struct column of ``node`` over the batch's ``leaves`` (:func:`assemble`). A module
    function, not a closure: a recursive closure over ``leaves`` is a reference cycle, which kept
    every batch's columns alive until the cycle collector ran (peak RSS of the 200 MB CloudTrail
    ingest 330 -> 600 MB; ``tests/unit/test_memory_cycles.py``)."""
    arrays = [leaves[x] if type(x) is int else _build(x, leaves, n) for x in node.items]
    if n == 1 and all(map(kept, arrays)):  # kept children: their struct made once (_ONE_ROW)
        key = (id(node), *map(id, arrays))
        seen = _ONE_ROW.get(key)
        if seen is not None:
            return seen[-1]  # type: ignore[no-any-return]
        built = keep(_struct_of(node, arrays, n))
        _ONE_ROW[key] = (node, *arrays, built)
        return built
    return _struct_of(node, arrays, n)


def _struct_of(node: _Node, arrays: list[pa.Array], n: int) -> pa.Array:
    for a in arrays:  # the common case inline: a field never null makes every row an object
        if a.null_count == 0 and a.type.id not in _LIST_IDS:
            return _valid_struct(node, arrays, n)
    return _struct(arrays, node.names, n)


#: per layout node (by id: a node lives as long as its cached layout, and holds itself here), the children's
#: types and the struct type of the last batch: a batch of the same types takes the type as it is
_NODE_TYPES: dict[int, tuple[_Node, list[pa.DataType], pa.DataType]] = {}


def _valid_struct(node: _Node, arrays: list[pa.Array], n: int) -> pa.Array:
    """``StructArray.from_arrays(arrays, names=node.names)`` (every row valid): with the struct type of the
    node's last batch when its children's types are the same (``from_buffers`` with a ready type ~1.8 us, where
    ``from_arrays`` makes the type of its names and children, ~3.4 us a struct of a one-record batch)."""
    seen = _NODE_TYPES.get(id(node))
    if seen is not None and seen[0] is node and len(seen[1]) == len(arrays):
        for a, t in zip(arrays, seen[1], strict=True):
            if a.type != t:
                break
        else:
            return pa.Array.from_buffers(seen[2], n, [None], children=arrays)
    out = pa.StructArray.from_arrays(arrays, names=node.names)
    if len(_NODE_TYPES) >= _KEPT_MAX:
        _NODE_TYPES.clear()
    _NODE_TYPES[id(node)] = (node, [a.type for a in arrays], out.type)
    return out


class _Node(msgspec.Struct, frozen=True, gc=False):
    """An object of the tree: its field names and, per field, a leaf's index or an object."""

    names: list[str]
    items: tuple[Any, ...]  # int (an index in the leaves) | _Node


class _Layout(msgspec.Struct, frozen=True, gc=False):
    """How :func:`assemble` nests a batch of given paths (see :func:`_layout`)."""

    top: _Node
    wants: tuple[pa.DataType | None, ...]  # per path: its OCSF Arrow type (None: an object path)
    profiles: bool  # metadata.profiles is derived: its leaf comes after the given ones


@functools.lru_cache(maxsize=1024)
def _layout(class_name: str, paths: tuple[str, ...]) -> _Layout | None:
    """The struct tree of ``paths`` (nested dicts in first-seen order, as assemble_fresh builds
    it) and each path's Arrow type; None when the paths are not a valid set (no path, a path
    OCSF lacks, one given twice, one both a value and an object): assemble_fresh says why."""
    if not paths:
        return None
    tree: dict[str, Any] = {}
    wants: list[pa.DataType | None] = []
    try:
        for i, path in enumerate(paths):
            attr = _resolve(class_name, path)
            t = attr.get("type", "string_t")
            wants.append(None if t in ocsf()["objects"] and t != "object" else arrow_type(class_name, path))
            node = tree
            parts = path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    return None
            if parts[-1] in node:
                return None
            node[parts[-1]] = i
    except SchemaError:
        return None
    meta = tree.get("metadata")
    profiles = isinstance(meta, dict) and "profiles" not in meta
    if profiles:
        meta["profiles"] = len(paths)  # type: ignore[index]  # dict when profiles is True

    def node_of(d: dict[str, Any]) -> _Node:
        return _Node(list(d), tuple(v if isinstance(v, int) else node_of(v) for v in d.values()))

    return _Layout(node_of(tree), tuple(wants), profiles)


@functools.lru_cache(maxsize=256)
def object_type(class_name: str, path: str, leaves: tuple[str, ...]) -> pa.DataType:
    """The Arrow type :func:`assemble` conforms an object column given for ``path`` to, when the column
    holds the dotted ``leaves`` (under ``path``, their objects in first-seen order, as ``_findings.nest``
    builds them): each leaf of its OCSF type, an array attribute (of objects) a list."""
    tree: dict[str, Any] = {}
    for leaf in leaves:
        node = tree
        for part in leaf.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[leaf.rpartition(".")[2]] = None

    def of(prefix: str, node: dict[str, Any]) -> pa.DataType:
        t = pa.struct([pa.field(k, arrow_type(class_name, f"{prefix}.{k}") if v is None else of(f"{prefix}.{k}", v))
                       for k, v in node.items()])  # fmt: skip
        return pa.list_(t) if _object_of(class_name, prefix)[1] else t

    return of(path, tree)


def _pruned(value: Any) -> Any:
    """A row's object value as conforming leaves it: an object (dict) without a present field (every
    field None or an empty list) None, inner objects first; a list's items each pruned."""
    if type(value) is dict:
        out = {k: _pruned(v) for k, v in value.items()}
        for v in out.values():
            if v is not None and (type(v) is not list or v):
                return out
        return None
    if type(value) is list:
        return [_pruned(v) for v in value]
    return value


def object_rows(class_name: str, path: str, leaves: tuple[str, ...], rows: list[Any]) -> pa.Array:
    """The object column of ``path`` from Python values (a dict a row, a list of them for an array
    attribute, None for none; their keys the ``leaves`` of :func:`object_type`), as :func:`assemble` would
    conform it: give ``path`` in its ``made``. For small batches (one alert a POST): one conversion,
    where columns of ``_findings.nest`` cost a struct a field and assemble's walk of every object."""
    return pa.array([_pruned(r) for r in rows], object_type(class_name, path, leaves))


def assemble_fresh(class_name: str, columns: dict[str, pa.Array | pa.ChunkedArray]) -> pa.RecordBatch:
    """:func:`assemble` without the cached layout: the tree built from the paths of this batch
    (the reference the cached path is tested against, and what reports a bad set of paths)."""
    tree: dict[str, Any] = {}
    leaves: list[pa.Array] = []
    masks: dict[str, list[pa.Array | None]] = {}
    n = None
    for path, value in columns.items():
        arr, nested = _conform(class_name, path, value)
        leaves.append(arr)
        if nested:
            for prof, steps in _nested_profiles(class_name, path, arr.type):
                masks.setdefault(prof, []).append(_rows_with(arr, steps))
        if n is None:
            n = len(arr)
        elif len(arr) != n:
            msg = f"{class_name}: column {path!r} has {len(arr)} rows, expected {n}"
            raise SchemaError(msg)
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                msg = f"{class_name}: {path!r} given both as a value and as an object"
                raise SchemaError(msg)
        if parts[-1] in node:
            msg = f"{class_name}: {path!r} given twice"
            raise SchemaError(msg)
        node[parts[-1]] = arr
    meta = tree.get("metadata")
    if isinstance(meta, dict) and "profiles" not in meta and n is not None:
        hits = {prof: [leaves[i] for i in idx] for prof, idx in _plan(class_name, tuple(columns))}
        meta["profiles"] = _profiles_column(hits, masks, n)

    def build(node: dict[str, Any]) -> pa.Array:
        names = list(node)
        arrays = [build(v) if isinstance(v, dict) else v for v in node.values()]
        for a in arrays:  # the common case inline: a field never null makes every row an object
            if a.null_count == 0 and a.type.id not in _LIST_IDS:
                return pa.StructArray.from_arrays(arrays, names=names)
        return _struct(arrays, names, n or 0)

    names = list(tree)
    arrays = [build(v) if isinstance(v, dict) else v for v in tree.values()]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def validate_batch(class_name: str, schema: pa.Schema) -> list[str]:
    """Return the paths in ``schema`` that are not attributes of the class (empty when valid)."""
    bad: list[str] = []

    def walk(prefix: str, t: pa.DataType) -> None:
        if pa.types.is_list(t):
            t = t.value_type
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                f = t.field(i)
                p = f"{prefix}.{f.name}"
                try:
                    _resolve(class_name, p)
                except SchemaError:
                    bad.append(p)
                    continue
                walk(p, f.type)

    for f in schema:
        try:
            _resolve(class_name, f.name)
        except SchemaError:
            bad.append(f.name)
            continue
        walk(f.name, f.type)
    return bad


@functools.cache
def _enum_table(class_name: str, attribute: str) -> tuple[pa.Array, pa.Array]:
    enum = _class(class_name)["attributes"].get(attribute, {}).get("enum") or {}
    keys = pa.array([int(k) for k in enum], pa.int32())
    vals = pa.array([v["caption"] for v in enum.values()], pa.string())
    return keys, vals


def enum_captions(class_name: str, attribute: str, ids: pa.Array) -> pa.Array:
    """Vectorized enum id -> caption (``activity_id`` -> ``activity_name``).

    int32 ids without nulls (what base_columns gives) are positions in a dense table of the
    captions (:func:`_enum_dense`): one take, where the cast, the hash lookup (its table built
    at every call) and the take cost three kernel calls a batch; the same captions, null for
    an id the enum lacks."""
    dense = _enum_dense(class_name, attribute)
    if dense is not None and type(ids) is pa.Int32Array and ids.null_count == 0:
        lo, table = dense
        pos = np.frombuffer(ids.buffers()[1], np.int32, len(ids), ids.offset * 4).astype(np.int64) - lo
        outside = len(table) - 1
        pos[(pos < 0) | (pos > outside)] = outside  # the table's last entry is null
        return table.take(from_numpy(pos))
    keys, vals = _enum_table(class_name, attribute)
    idx = pc.index_in(ids.cast(pa.int32()), value_set=keys)
    return vals.take(idx)


@functools.cache
def _enum_dense(class_name: str, attribute: str) -> tuple[int, pa.Array] | None:
    """(lowest id, captions by id - lowest plus a last null), or None for an empty or sparse enum."""
    enum = _class(class_name)["attributes"].get(attribute, {}).get("enum") or {}
    ids = [int(k) for k in enum]
    if not ids or max(ids) - min(ids) > 4096:
        return None
    lo = min(ids)
    table: list[str | None] = [None] * (max(ids) - lo + 2)
    for k, v in zip(ids, enum.values(), strict=True):
        table[k - lo] = v["caption"]
    return lo, pa.array(table, pa.string())


@functools.cache
def class_name_of(uid: int) -> str:
    """Class name for a class_uid (6003 -> ``api_activity``)."""
    classes = ocsf()["classes"]
    for name, value in classes.decoded().items():  # a batch's class was decoded when it was built
        if value.get("uid") == uid:
            return str(name)
    for name in classes:  # each class's uid alone (not every class decoded: api_activity is the 52nd)
        if classes.view(name, _Uid).uid == uid:
            return str(name)
    msg = f"no OCSF class with uid {uid}"
    raise SchemaError(msg)


def class_of(batch: pa.RecordBatch | pa.Table) -> str:
    """Class name of an assembled batch (from its ``class_uid`` column)."""
    return class_name_of(batch.column("class_uid")[0].as_py())
