"""The optional native ingest hot path (``secpipe.formats._columnar``, Rust, ``native/``).

Design: formats decode with msgspec structs on their Python path. With the extension, a
format that declares its struct fields as a *spec* (dotted path -> mode, see
:func:`extract`) has each record walked once in Rust, straight into Arrow column buffers,
and the ``unmapped`` JSON built in the same pass; :func:`uids` hashes records with SHA-256
(SHA-NI where the CPU has it) without a Python call per record. The buffers become pyarrow
arrays without a copy per value.

Guarantees: the same columns as the msgspec path (tests compare both on the real samples,
the benchmark corpus and fuzzed records). A record the native walker does not decide the
same way as msgspec (a value of another JSON type, a duplicate or escaped key, a lone
surrogate) makes :func:`extract` return None, and the caller decodes the batch on its
Python path, which dead-letters exactly the bad records with msgspec's reason.

The extension is built by ``pip install`` where a Rust toolchain exists (setup.py; it is
optional). ``SECPIPE_NATIVE=0`` turns it off (the Python paths give the same output).
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe._arrays import from_numpy

#: mode of a spec path: str | null, str | bool | null ("true"/"false"), raw JSON text, int | null
#: (int64), bool | null, a list (its items' fields are paths below it; ``a[].@`` is the item itself).
STR, STR_BOOL, RAW, INT, BOOL, LIST = "s", "b", "r", "i", "B", "l"


@functools.cache
def _module() -> ModuleType | None:
    if os.environ.get("SECPIPE_NATIVE", "1") == "0":
        return None
    try:
        return importlib.import_module("secpipe.formats._columnar")
    except ImportError:
        return None


def available() -> bool:
    """True when the native hot path is built and not turned off."""
    return _module() is not None


def json_rows(lines: list[bytes]) -> dict[str, pa.Array] | None:
    """Arrow columns of JSON lines that msgspec wrote from typed values (one row a line), in the
    order their keys first appear, as ``pyarrow.json.read_json`` infers them but for a string
    (which stays one: Arrow's reader makes a date-like text a timestamp) and without what it types
    from no value (an array that never holds an item; a struct of such alone). None without the
    extension or when the native reader declines the lines (a ``null``, a key twice, a path of two
    kinds: see ``native/src/json_rows.rs``): the caller reads them with Arrow's reader."""
    mod = _module()
    read = getattr(mod, "json_rows", None)  # (an extension built before it has none)
    if read is None or not lines:
        return None
    got = read(lines)
    return None if got is None else {name: _nested(col) for name, col in got}


def ocsf_tree(specs: Callable[[], list[list[tuple[bytes, int, bool, int, int]]]]) -> Any | None:
    """An OCSF class's attribute tables for :func:`ocsf_lines` (``specs()``, see ``native/src/ocsf_lines.rs``),
    or None without the extension (or with one built before it)."""
    make = getattr(_module(), "OcsfTree", None)
    return None if make is None else make(specs())


def ocsf_lines(tree: Any, raws: list[bytes], class_uid: int) -> list[tuple[bytes, bytes | None] | None] | None:
    """Per record of ``raws``, its line of OCSF attributes and its own ``unmapped`` JSON text, as the ocsf
    format's typed decode and re-encode make them, or None where the native walk declines it (the
    format's path reads that one); None without the extension."""
    mod = _module()
    if mod is None or tree is None:
        return None
    return mod.ocsf_lines(tree, raws, class_uid)  # type: ignore[no-any-return]


_ROW_TYPES = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_()}


def _nested(col: tuple[Any, ...]) -> pa.Array:
    """An array of :func:`json_rows`' buffers (kind, rows, nulls, validity, offsets, data, names, children)."""
    kind, n, nulls, valid, offsets, data, names, kids = col
    v = None if valid is None else pa.py_buffer(valid)
    if kind == 111:  # o: a struct
        children = [_nested(k) for k in kids]
        t = pa.struct([pa.field(name, c.type) for name, c in zip(names, children, strict=True)])
        return pa.Array.from_buffers(t, n, [v], nulls, children=children)
    if kind == 108:  # l: a list
        item = _nested(kids[0])
        return pa.Array.from_buffers(pa.list_(item.type), n, [v, pa.py_buffer(offsets)], nulls, children=[item])
    t = _ROW_TYPES[chr(kind)]
    bufs = [v, pa.py_buffer(offsets), pa.py_buffer(data)] if kind == 115 else [v, pa.py_buffer(data)]
    return pa.Array.from_buffers(t, n, bufs, nulls)


def uids(prefix: bytes, raws: list[bytes], contexts: list[bytes] | None = None) -> pa.Array | None:
    """metadata.uid per record (see ``base.event_uids``), or None without the extension."""
    mod = _module()
    if mod is None:
        return None
    return _hex_column(mod.uids(prefix, raws, contexts), len(raws))


def _hex_column(hexes: bytes, n: int) -> pa.Array:
    """A string column of ``n`` 32-character uids given back to back (hex digits: ASCII): the
    bytes as its data, every 32nd offset (two casts of a fixed-size binary column did the same
    with two kernel calls and a copy, ~20 us a batch)."""
    if len(hexes) != 32 * n:
        msg = f"expected {n} uids of 32 characters, got {len(hexes)} bytes"
        raise ValueError(msg)
    return pa.Array.from_buffers(_UTF8, n, [None, pa.py_buffer(_hex_offsets(n)), pa.py_buffer(hexes)])


def _hex_offsets(n: int) -> np.ndarray:
    """The int32 offsets of ``n`` strings of 32 bytes (a view of a run made once for small batches)."""
    if n < len(_OFFSETS32):
        return _OFFSETS32[: n + 1]
    return np.arange(0, 32 * (n + 1), 32, dtype=np.int32)


_UTF8 = pa.string()
_OFFSETS32 = np.arange(0, 32 * ((1 << 16) + 1), 32, dtype=np.int32)  # 256 KiB


def concat(raws: list[bytes], *, validate: bool) -> pa.Array | None:
    """A string column of the records, or None (no extension, > 2 GiB, or with ``validate``
    a record that is not UTF-8)."""
    mod = _module()
    if mod is None:
        return None
    bufs = mod.concat(raws, validate)
    if bufs is None:
        return None
    return pa.StringArray.from_buffers(len(raws), pa.py_buffer(bufs[0]), pa.py_buffer(bufs[1]))


def compact_each(items: Sequence[Any]) -> list[bytes] | None:
    """Each of ``items`` (JSON texts msgspec has decoded, so valid: bytes or ``msgspec.Raw``)
    compacted, as ``msgspec.json.format(item, indent=-1)`` gives it; None without the extension.
    Not a validator: text that is not JSON comes back with whitespace dropped, not refused."""
    mod = _module()
    return None if mod is None else mod.compact_each(items if isinstance(items, list) else list(items))


def evtx_xml_scan(text: str) -> tuple[list[bytes | None], list[str | None], list[tuple[int, str]]] | None:
    """A Windows event XML document's events (``secpipe.formats.evtx_xml``'s fast path, natively): each
    event's compact JSON record and ``SystemTime`` (None in both for one handed back), and the
    ``(index, piece)`` of the events the Python path reads; None without the extension or where the
    framing is the Python path's (a non-ASCII character after ``<Event``)."""
    mod = _module()
    return None if mod is None else mod.evtx_xml_scan(text)  # type: ignore[no-any-return]


def objects_array(data: bytes) -> bytes | None:
    """JSON objects written back to back a newline apart (``{..}\\n{..}``) as one JSON array's text:
    ``b"[" + data.replace(b"}\\n{", b"},{") + b"]"`` in one SIMD pass; None without the extension."""
    mod = _module()
    return None if mod is None else mod.objects_array(data)


def json_depth(data: bytes, *, lines: bool = False) -> int | None:
    """The deepest nesting of JSON text ``data`` (per line with ``lines``), as
    ``secpipe.security.limits.json_depth`` counts it, in one native pass; None without the extension."""
    mod = _module()
    if mod is None:
        return None
    return mod.json_depth(data, lines)  # type: ignore[no-any-return]


def json_longest_string(data: bytes) -> int | None:
    """The longest JSON string of ``data`` in bytes, as ``secpipe.security.limits.check_json_limits``
    measures it, in one native pass; None without the extension."""
    mod = _module()
    if mod is None:
        return None
    return mod.json_longest_string(data)  # type: ignore[no-any-return]


def contains_any(data: bytes | pa.Buffer, needles: tuple[bytes, ...]) -> bool:
    """Whether ``data`` (bytes or a buffer, such as a string column's data) holds any of
    ``needles``: one SIMD search a needle natively (CPython's ``in`` runs a two-way search, ~10x
    slower on a megabyte body), ``in`` without the extension."""
    mod = _module()
    hay = data if isinstance(data, bytes) else memoryview(data).cast("B")  # Arrow exports signed bytes
    if mod is None:
        whole = bytes(hay)
        return any(n in whole for n in needles)
    return mod.contains_any(hay, needles)  # type: ignore[no-any-return]


def iso_ms_column(col: pa.Array) -> pa.Array | None:
    """The int64 milliseconds of a string column of times in GitHub's form (``2024-01-01T00:00:00Z``,
    or ``+HH:MM``/``-HH:MM`` for the ``Z``), nulls kept, in one native pass: what ``_cicd.iso_ms`` gives
    each value. None without the extension or when a value is in another form (parse it in Python)."""
    parse = getattr(_module(), "iso_ms_column", None)  # (None too with an extension built before it)
    if parse is None or col.type != pa.string():
        return None
    valid, offsets, data = (None if b is None else memoryview(b).cast("B") for b in col.buffers())
    got = parse(offsets, b"" if data is None else data, valid if col.null_count else None, col.offset, len(col))
    if got is None:
        return None
    values, mask = got
    return pa.Array.from_buffers(pa.int64(), len(col), [None if mask is None else pa.py_buffer(mask), pa.py_buffer(values)],
                                 col.null_count)  # fmt: skip


def int_text_column(col: pa.Array) -> pa.Array | None:
    """An int64 column as its decimal text (``col.cast(pa.string())``, nulls kept) in one native pass
    (~1 us for 100 values, Arrow's cast ~10); None without the extension or for another type."""
    write = getattr(_module(), "int_text_column", None)  # (None too with an extension built before it)
    if write is None or col.type != pa.int64():
        return None
    valid, data = (None if b is None else memoryview(b).cast("B") for b in col.buffers())
    offsets, text, mask = write(b"" if data is None else data, valid if col.null_count else None, col.offset, len(col))
    return pa.Array.from_buffers(pa.string(), len(col), [None if mask is None else pa.py_buffer(mask),
                                                         pa.py_buffer(offsets), pa.py_buffer(text)], col.null_count)


def split_envelope(doc: bytes, key: str, also: tuple[str, ...] = ("items",), *, strict: bool = False) -> list[bytes] | None:
    """The items of compact ``doc``'s top-level array ``key``, or None (no extension, or a
    document that is not simply such an envelope: see the Rust ``split_envelope``).

    ``strict``: ``doc`` is not known to be valid compact JSON yet; it is checked in the same
    pass (None when it is not), so a compact document needs no ``msgspec.json.format``.
    """
    mod = _module()
    if mod is None:
        return None
    return mod.split_envelope(doc, key.encode(), [a.encode() for a in also], strict)  # type: ignore[no-any-return]


def split_array(doc: bytes) -> list[bytes] | None:
    """The items of ``doc``'s top-level JSON array when ``doc`` is valid compact JSON (checked
    in the same pass); None without the extension or for anything else."""
    mod = _module()
    if mod is None:
        return None
    return mod.split_array(doc)  # type: ignore[no-any-return]


Members = list[tuple[int, int, int, int]]


def compact_doc(doc: bytes, key: str, *, utf8: bool = False) -> tuple[Any, list[bytes] | None, Members | None] | None:
    """``doc`` compacted as ``msgspec.json.format(doc, indent=-1)`` gives it, in one native pass
    that also checks it is one JSON value (as strictly as :func:`split_array`'s check), as a
    read-only buffer msgspec decodes; with the items of its top-level array ``key`` as bytes
    (None unless ``key`` is met once, unescaped, with an array value), and where each top-level
    member lies in the buffer: (key start, key end, value start, value end), the key without
    its quotes, in document order (None unless the document is an object with no key escaped).
    None without the extension, or for a document not decided there (with ``utf8``: also one
    that is not UTF-8, checked natively on the output): the caller reads ``doc`` as before."""
    mod = _module()
    if mod is None:
        return None
    if utf8 and "utf8" not in (getattr(mod.compact_doc, "__text_signature__", None) or ""):  # (an extension built before it)
        return mod.compact_doc(doc, key.encode()) if doc.isascii() or _is_utf8(doc) else None  # type: ignore[no-any-return]
    return mod.compact_doc(doc, key.encode(), utf8)  # type: ignore[no-any-return]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def split_lines(data: bytes) -> tuple[list[bytes | None], list[int], int] | None:
    """NDJSON ``data`` as (records, line offsets, count of None), or None without the extension.

    One entry per non-blank line: its bytes (whitespace around it trimmed) when the line is
    a compact JSON object, exactly what ``msgspec.json.format(line, indent=-1)`` would give;
    None for any other line, which the caller decides on its msgspec path.
    """
    mod = _module()
    if mod is None:
        return None
    return mod.split_lines(data)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Spec:
    """What :func:`extract` reads from each record.

    ``paths``: dotted path -> mode (``a.b``; ``a[]`` with mode LIST is a list of objects
    whose fields are paths below it, ``a[].x``; ``a.@`` with mode RAW the raw text of object ``a``
    itself, besides its paths). ``unmapped``: top-level fields copied in
    this order into ``unmapped``; ``known``: the other top-level keys the format knows
    (keys in none of these are extras, appended to ``unmapped`` sorted); ``keep``: top-level keys
    of ``paths`` that stay extras all the same (read and left in ``unmapped``, in one walk).
    """

    paths: tuple[tuple[str, str], ...]
    unmapped: tuple[str, ...]
    known: tuple[str, ...]
    keep: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Columns:
    """Extracted columns by path (string, int64 or bool); a LIST path gives (int32 offsets, numpy null mask or None)."""

    strings: dict[str, pa.Array]
    lists: dict[str, tuple[np.ndarray, np.ndarray | None]]
    unmapped: pa.Array
    aside: list[int]  # indexes of the records set aside (not in the columns)
    raw: pa.Array | None = None  # the kept records as one string column (``whole``)
    uids: pa.Array | None = None  # their metadata.uid (``uid_prefix``)


def extract(raws: list[bytes], spec: Spec, aside: tuple[str, tuple[str, ...]] | None = None, *, whole: bool = False,
            uid_prefix: bytes | None = None, shape: Hashable = None) -> Columns | None:  # fmt: skip
    """Columns of canonical JSON records, or None (no extension, or an irregular record).

    ``aside`` = (top-level string path, values): the records holding one of those values there
    are left out of the columns and listed in ``Columns.aside`` (for a format that maps them
    another way, e.g. CloudTrail's sign-in events), which costs no copy of the other columns.
    ``whole``: also the kept records as one string column (``Columns.raw``, for raw_data;
    left to the caller, ``raw`` None, when the records take 2 GiB or more, past a string
    column's 32-bit offsets);
    ``uid_prefix``: also their uids (``Columns.uids``, as :func:`uids` with that prefix), made
    in the same pass while each record is in the CPU cache. With ``whole`` a record that is
    not UTF-8 is irregular (None: the caller's path decides it, as a string column would refuse it).
    ``shape``: the kind of records walked, for a caller that walks records of different sizes with
    one spec (Snyk's license issues take ~1/50 of a vulnerability's description): each column's
    bytes a record are remembered per (spec, shape) and reserved for the next batch of that
    shape, so a column does not grow by copies into a reservation the other kind made.
    """
    mod = _module()
    if mod is None or not raws:
        return None
    total = sum(map(len, raws))
    whole = whole and total < _WHOLE_MAX
    more = {"keep": _keep_arg(spec)} if spec.keep else {}
    out = mod.extract(raws, *_args(spec, aside, len(raws), shape, total=total), whole, uid_prefix, **more)
    return None if out[0] >= 0 else _columns(spec, out, shape)


@functools.cache
def _keep_arg(spec: Spec) -> list[bytes]:
    """``Spec.keep`` as the native walk takes it (encoded once a spec)."""
    return [k.encode() for k in spec.keep]


@dataclass(frozen=True, slots=True)
class DocColumns:
    """:func:`extract_docs`' result: the columns (None when a document was declined, or no
    document held a record), where each record set aside lies (document index, record index
    in it, start, end), how many records each document held, and the index of the document
    the walk declined (a record or the envelope it does not decide), if one was."""

    columns: Columns | None
    aside: list[tuple[int, int, int, int]]
    counts: list[int]
    failed: int | None = None

    def doc_of(self, records: np.ndarray | list[int]) -> np.ndarray:
        """The index of the document each of ``records`` (batch-wide numbers) came from."""
        return _doc_of(_starts(self.counts), records)


def _starts(counts: list[int]) -> np.ndarray:
    """Each document's first record, batch-wide (and the total last)."""
    return np.cumsum([0, *counts])


def _doc_of(starts: np.ndarray, records: np.ndarray | list[int]) -> np.ndarray:
    return np.searchsorted(starts, records, side="right") - 1


def extract_docs(docs: list[bytes], key: str, spec: Spec, aside: tuple[str, tuple[str, ...]] | None = None, *,
                 also: tuple[str, ...] = ("items",), whole: bool = False,
                 uid_prefix: bytes | None = None) -> DocColumns | None:  # fmt: skip
    """:func:`extract` over whole envelope documents (``{"<key>": [records...]}``, compact) without
    splitting them first: each record is walked where it lies, and the walk is also the check
    that it is valid compact JSON (the split's own pass, as :func:`split_envelope` with
    ``strict`` makes it). None without the extension, or ``whole`` past 2 GiB: the caller
    splits the documents as before; ``DocColumns.failed`` names a document the walk declined
    (the caller splits that one and may walk the others again). ``Columns.aside`` holds the
    batch-wide numbers of the records set aside.
    """
    mod = _module()
    total = sum(map(len, docs))
    if mod is None or not docs or (whole and total >= _WHOLE_MAX):
        return None
    out = mod.extract(docs, *_args(spec, aside, total // 1024 + 1, total=total), whole, uid_prefix,
                      (key.encode(), [a.encode() for a in also]))  # fmt: skip
    if out[0] >= 0:
        return DocColumns(None, [], list(out[7]), len(out[7]))
    if not sum(out[7]):
        return DocColumns(None, [], list(out[7]))
    cols, counts = _columns(spec, out), list(out[7])
    starts = _starts(counts)
    where = [(int(d), n - int(starts[d]), s, e)
             for d, n, (s, e) in zip(_doc_of(starts, cols.aside), cols.aside, out[6], strict=True)]  # fmt: skip
    return DocColumns(cols, where, counts)


def _args(spec: Spec, aside: tuple[str, tuple[str, ...]] | None, records: int,
          shape: Hashable = None, *, total: int | None = None) -> tuple:  # type: ignore[type-arg]
    """The native spec, unmapped, known, aside and reserve arguments of an extraction (``total``: the input's bytes,
    which no column's values exceed: a column of one 8 MiB record last time is not reserved 8 MiB for each of the
    8,193 records a document's size estimates next time, 80 GiB, which aborted the process)."""
    names, unmapped, known = _spec_args(spec)
    route = None if aside is None else (names.index(aside[0]), [v.encode() for v in aside[1]])
    sizes = _SIZES.get((spec, shape))  # bytes a record of the last batch took per column: reserved up front
    cap = total if total is not None else 1 << 62
    reserve = None if sizes is None else [min(int(b * records * 1.25), cap) + 64 for b in sizes]
    return list(spec.paths), list(unmapped), list(known), route, reserve


@functools.lru_cache(maxsize=256)
def _spec_args(spec: Spec) -> tuple[tuple[str, ...], tuple[bytes, ...], tuple[bytes, ...]]:
    """A spec's path names and its top-level names encoded, made once (~90 names a call for CloudTrail)."""
    return (tuple(p for p, _m in spec.paths), tuple(u.encode() for u in spec.unmapped),
            tuple(k.encode() for k in spec.known))  # fmt: skip


def _columns(spec: Spec, out: tuple, shape: Hashable = None) -> Columns:  # type: ignore[type-arg]
    """Columns from a native extraction's buffers (``bad`` < 0)."""
    _bad, cols, unmapped, set_aside, raw, hexes = out[:6]
    rows = unmapped[3] + len(set_aside)  # unmapped has a row per record kept
    if rows:
        _SIZES[spec, shape] = [len(c[2]) / rows for c in cols]
    strings: dict[str, pa.Array] = {}
    lists: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for (path, mode), buffers in zip(spec.paths, cols, strict=True):
        if mode == LIST:
            valid, offsets, _data, n, nulls = buffers
            mask = _nulls(valid, n) if nulls else None
            lists[path] = (np.frombuffer(offsets, np.int32), mask)
        elif mode == INT:
            valid, _offsets, data, n, nulls = buffers
            strings[path] = pa.Array.from_buffers(pa.int64(), n, [None if valid is None else pa.py_buffer(valid),
                                                                 pa.py_buffer(data)], nulls)  # fmt: skip
        elif mode == BOOL:
            valid, _offsets, data, n, nulls = buffers
            values = bools(np.frombuffer(data, np.bool_))
            strings[path] = values if valid is None else pa.BooleanArray.from_buffers(
                pa.bool_(), n, [pa.py_buffer(valid), values.buffers()[1]], nulls)
        else:
            strings[path] = _strings(buffers)
    kept = unmapped[3]
    return Columns(strings, lists, _strings(unmapped), set_aside, None if raw is None else _strings(raw),
                   None if hexes is None else _hex_column(hexes, kept))  # fmt: skip


_SIZES: dict[tuple[Spec, Hashable], list[float]] = {}
_WHOLE_MAX = 2**31 - 2**20  # the walker's raw_data column has 32-bit offsets


def bools(values: np.ndarray) -> pa.Array:
    """A numpy bool array as an Arrow bool array (see :func:`secpipe._arrays.from_numpy`)."""
    return from_numpy(values)


def _nulls(valid: bytes, n: int) -> np.ndarray:
    """A validity bitmap (LSB first) as a numpy null mask."""
    return ~np.unpackbits(np.frombuffer(valid, np.uint8), bitorder="little")[:n].astype(bool)


def _strings(buffers: tuple[bytes | None, bytes, bytes, int, int]) -> pa.Array:
    valid, offsets, data, n, nulls = buffers
    return pa.Array.from_buffers(_UTF8, n, [None if valid is None else pa.py_buffer(valid), pa.py_buffer(offsets),
                                            pa.py_buffer(data)], nulls)  # fmt: skip


@functools.cache
def fields(type_: type) -> tuple[Any, ...]:
    """``msgspec.structs.fields(type_)``, read once per struct: each call evaluates the struct's
    string annotations again (``from __future__ import annotations``: a ``compile`` per field,
    ~0.4 ms for CloudTrail's record at every start). The field infos are not to be changed."""
    import msgspec

    return msgspec.structs.fields(type_)


#: the field types :func:`_quick_kind` reads (exactly these classes: an int enum is not int)
_PLAIN_KINDS: dict[Any, str] = {str: STR, int: INT, bool: BOOL}


def _quick_kind(t: Any) -> tuple[str, Any] | None:
    """What :func:`struct_spec` makes of field type ``t`` when it is one of its common forms,
    read from the evaluated type itself: ``Raw`` (or ``Raw | None``) -> (RAW, None); ``X | None``
    for X str, str | bool, int, bool -> (kind, None); a struct -> ("struct", cls); a list of
    structs or of str -> (LIST, item). None for anything else (msgspec.inspect reads it, as
    before): the same result for every form handled, at no annotation evaluation of the
    nested structs (``msgspec.inspect.type_info`` translates a nested struct whole)."""
    import types
    import typing

    import msgspec

    origin = typing.get_origin(t)
    args = typing.get_args(t) if origin is typing.Union or origin is types.UnionType else (t,)
    if msgspec.Raw in args:
        return (RAW, None) if all(a is msgspec.Raw or a is type(None) for a in args) else None
    if type(None) not in args:
        return None  # struct_spec's error: the walker gives null for an absent value
    rest = [a for a in args if a is not type(None)]
    plain = [_PLAIN_KINDS[a] for a in rest if isinstance(a, type) and a in _PLAIN_KINDS]
    if len(plain) == len(rest):
        if len(plain) == 2 and set(plain) == {STR, BOOL}:
            return STR_BOOL, None
        return (plain[0], None) if len(plain) == 1 else None
    if len(rest) != 1:
        return None
    (a,) = rest
    if typing.get_origin(a) is list and len(typing.get_args(a)) == 1:
        (item,) = typing.get_args(a)
        return (LIST, item) if item is str or _is_struct(item) else None
    return ("struct", a) if _is_struct(a) else None


def _is_struct(t: Any) -> bool:
    """``t`` is a plain msgspec struct class (not a parametrized generic, not an alias)."""
    import typing

    import msgspec

    return typing.get_origin(t) is None and isinstance(t, type) and issubclass(t, msgspec.Struct)


def struct_spec(type_: type, prefix: str = "", *, quick: bool = True) -> list[tuple[str, str]]:
    """Spec paths for a msgspec struct's typed fields (str, str|bool, int, bool, nested structs,
    lists of structs or of str; each optional).

    Raw fields (``msgspec.Raw``) are left to :class:`Spec`'s ``unmapped``. Raises
    ValueError for a field type the native walker does not decode. The common forms are read
    from the types themselves (:func:`_quick_kind`), the others by ``msgspec.inspect`` (every one
    with ``quick=False``: what tests compare the quick reading with).
    """
    import msgspec

    out: list[tuple[str, str]] = []
    for f in fields(type_):
        name = prefix + f.encode_name
        known = _quick_kind(f.type) if quick else None
        if known is not None:
            kind, sub_type = known
            if kind == RAW:
                continue
            if kind == "struct":
                out.extend(struct_spec(sub_type, name + "."))
            elif kind == LIST:
                out.append((name + "[]", LIST))
                out.extend(struct_spec(sub_type, name + "[].") if sub_type is not str else [(name + "[].@", STR)])
            else:
                out.append((name, kind))
            continue
        info = msgspec.inspect.type_info(f.type)
        types = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
        kinds = {type(t) for t in types} - {msgspec.inspect.NoneType}
        if kinds == {msgspec.inspect.RawType}:
            continue
        if not any(isinstance(t, msgspec.inspect.NoneType) for t in types):
            msg = f"{name}: the native walker gives null for an absent or null value; type it `X | None`"
            raise ValueError(msg)
        if kinds == {msgspec.inspect.StrType}:
            out.append((name, STR))
        elif kinds == {msgspec.inspect.StrType, msgspec.inspect.BoolType}:
            out.append((name, STR_BOOL))
        elif kinds == {msgspec.inspect.IntType}:
            out.append((name, INT))
        elif kinds == {msgspec.inspect.BoolType}:
            out.append((name, BOOL))
        elif kinds == {msgspec.inspect.StructType}:
            sub = next(t for t in types if isinstance(t, msgspec.inspect.StructType))
            out.extend(struct_spec(sub.cls, name + ".", quick=quick))
        elif kinds == {msgspec.inspect.ListType}:
            item = next(t for t in types if isinstance(t, msgspec.inspect.ListType)).item_type
            out.append((name + "[]", LIST))
            if isinstance(item, msgspec.inspect.StructType):
                out.extend(struct_spec(item.cls, name + "[].", quick=quick))
            elif isinstance(item, msgspec.inspect.StrType):
                out.append((name + "[].@", STR))
            else:
                msg = f"{name}: only lists of structs or of str are decoded natively"
                raise ValueError(msg)
        else:
            msg = f"{name}: type {f.type} is not decoded natively"
            raise ValueError(msg)
    return out


def list_items(cols: Columns, path: str, fields: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None, list[pa.Array]]:
    """A LIST path's (offsets, null mask, one string column per item field)."""
    offsets, mask = cols.lists[path + "[]"]
    return offsets, mask, [cols.strings[f"{path}[].{f}"] for f in fields]
