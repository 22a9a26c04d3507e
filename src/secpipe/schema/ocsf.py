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
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources
from typing import Any

import msgspec
import pyarrow as pa

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


@functools.cache
def ocsf() -> dict[str, Any]:
    """Return the compiled OCSF schema (loaded once, from the package)."""
    ref = resources.files("secpipe.schema").joinpath(f"ocsf-{OCSF_VERSION}.json.gz")
    with ref.open("rb") as fh:
        return msgspec.json.decode(gzip.decompress(fh.read()))


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
    """Check and cast a nested value (struct or list<struct>) given for an object path."""
    t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = arr.values
        if pa.types.is_struct(inner.type):
            fixed = _conform_struct(class_name, path, inner)
            return pa.ListArray.from_arrays(arr.offsets, fixed, mask=arr.is_null())
        return arr.cast(arrow_type(class_name, path))
    if pa.types.is_struct(t):
        return _conform_struct(class_name, path, arr)
    return arr.cast(arrow_type(class_name, path))


def _conform_struct(class_name: str, path: str, arr: pa.Array) -> pa.Array:
    fields = []
    children = []
    for i in range(arr.type.num_fields):
        f = arr.type.field(i)
        child = arr.field(i)
        children.append(_conform_nested(class_name, f"{path}.{f.name}", child))
        fields.append(f.name)
    return pa.StructArray.from_arrays(children, names=fields, mask=arr.is_null() if arr.null_count else None)


def _leaf(class_name: str, path: str, value: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if pa.types.is_struct(value.type) or (
        pa.types.is_list(value.type) and pa.types.is_struct(value.type.value_type)
    ):
        return _conform_nested(class_name, path, value)
    want = arrow_type(class_name, path)
    if value.type == want:
        return value
    try:
        return value.cast(want)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        msg = f"{class_name}: {path!r} cannot be {value.type} (OCSF wants {want}): {exc}"
        raise SchemaError(msg) from exc


def assemble(class_name: str, columns: dict[str, pa.Array | pa.ChunkedArray]) -> pa.RecordBatch:
    """Build a nested OCSF RecordBatch from flat dotted-path columns, checked against OCSF."""
    tree: dict[str, Any] = {}
    n = None
    for path, value in columns.items():
        arr = _leaf(class_name, path, value)
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

    def build(node: dict[str, Any]) -> pa.Array:
        names = list(node)
        arrays = [build(v) if isinstance(v, dict) else v for v in node.values()]
        return pa.StructArray.from_arrays(arrays, names=names)

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
    """Vectorized enum id -> caption (``activity_id`` -> ``activity_name``)."""
    import pyarrow.compute as pc

    keys, vals = _enum_table(class_name, attribute)
    idx = pc.index_in(ids.cast(pa.int32()), value_set=keys)
    return vals.take(idx)


@functools.cache
@functools.cache
def class_name_of(uid: int) -> str:
    """Class name for a class_uid (6003 -> ``api_activity``)."""
    for name, c in ocsf()["classes"].items():
        if c.get("uid") == uid:
            return str(name)
    msg = f"no OCSF class with uid {uid}"
    raise SchemaError(msg)


def class_of(batch: pa.RecordBatch | pa.Table) -> str:
    """Class name of an assembled batch (from its ``class_uid`` column)."""
    return class_name_of(batch.column("class_uid")[0].as_py())
