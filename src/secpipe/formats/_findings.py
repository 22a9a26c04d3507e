"""Shared building blocks for finding-style formats (scanners, runtime alerts, policy logs).

Design: a format decodes its records with msgspec into small structs, builds one flat Arrow
column per OCSF leaf with a list comprehension (C-speed per field, no per-event dicts), and
uses :func:`nest` + :func:`singleton_list` to turn flat leaves into the one-element
``list<struct>`` columns OCSF wants for ``vulnerabilities[]`` or ``resources[]``.

Guarantees: severity words map to OCSF ``severity_id`` the same way in every format
(:data:`SEVERITY_WORDS`); event identity (:func:`~secpipe.formats.base.event_uids` with
contexts) hashes the record's canonical bytes together with the report context it came from
(artifact, target, ordinal), so the same
finding in two different images stays two events while a redelivered report collapses.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import gc
import itertools
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats.base import (
    BOM,
    DeadLetter,
    Decoded,
    Format,
    RecordFormat,
    Records,
    Strict,
    Typed,
    base_columns,
    decode_strict,
    decode_typed,
    json_array,
    not_utf8,
    parse_times,
    string_column,
    strs,
    uid_prefix,
    unmapped_json,
)
from secpipe.schema.ocsf import enum_captions

#: Severity words of every supported tool -> OCSF severity_id (0 Unknown .. 6 Fatal). ``danger`` is
#: Polaris' blocking level above ``warning`` (its only two), as Starboard's ConfigAuditReports carry it.
SEVERITY_WORDS: dict[str, int] = {
    "unknown": 0, "unspecified": 0,
    "debug": 1, "info": 1, "informational": 1, "information": 1, "none": 1, "negligible": 1,
    "note": 2, "notice": 2, "low": 2, "minor": 2,
    "medium": 3, "moderate": 3, "warning": 3, "warn": 3, "major": 3,
    "high": 4, "error": 4, "important": 4, "danger": 4, "blocker": 5,
    "critical": 5, "alert": 5, "page": 5,
    "fatal": 6, "emergency": 6,
}  # fmt: skip

#: a CWE id as tools write it (``79``, ``CWE-79``, ``cwe_079``): group 1 the number
CWE_ID = re.compile(r"^(?:cwe[-_ ]?)?0*(\d+)$", re.IGNORECASE)

_SEV_KEYS = pa.array(list(SEVERITY_WORDS), pa.string())
_SEV_VALS = pa.array(list(SEVERITY_WORDS.values()), pa.int32())

S = pa.string()


def severity_ids(words: pa.Array | Sequence[str | None]) -> pa.Array:
    """Severity words (any case) -> int32 severity_id; unknown words and nulls -> 0 Unknown.

    A Python list is mapped through a memo of the words already seen (each new word goes
    through the Arrow kernels once), so a small batch costs one Arrow call instead of six.
    """
    if isinstance(words, pa.Array):
        return _severity_arrow(words)
    return pa.array(severity_list(words), pa.int32())


def severity_list(words: Sequence[str | None]) -> list[int]:
    """:func:`severity_ids` of a Python list, as a Python list (a memo key for :func:`finding_base`)."""
    memo = _SEV_MEMO
    new = list({w for w in words if w not in memo})
    if new:
        if len(memo) + len(new) > _SEV_MEMO_MAX:  # bounded: arbitrary label values cannot grow it
            memo.clear()
        memo.update(zip(new, _severity_arrow(strs(new)).to_pylist(), strict=True))
    return [memo[w] for w in words]


def _severity_arrow(arr: pa.Array) -> pa.Array:
    idx = pc.index_in(pc.utf8_lower(pc.utf8_trim_whitespace(arr)), value_set=_SEV_KEYS)
    return pc.fill_null(_SEV_VALS.take(idx), pa.scalar(0, pa.int32()))


_SEV_MEMO: dict[str | None, int] = {}
_SEV_MEMO_MAX = 4096


#: Batches up to this many rows have their constant columns memoized (:func:`memo_columns`).
MEMO_ROWS = 4096
_MEMO: dict[Hashable, dict[str, pa.Array]] = {}
_MEMO_MAX = 256


def memo_columns(key: Hashable, build: Callable[[], dict[str, pa.Array]]) -> dict[str, pa.Array]:
    """Columns that depend only on ``key`` (constants and per-row ids of a small batch), built
    once per key: a webhook payload of a few alerts otherwise pays one Arrow call or more per
    constant column at every request (~5-15 us each). Arrow arrays are immutable, so batches
    share them. Bounded: emptied when ``_MEMO_MAX`` keys are held; keep keys to batches of at
    most :data:`MEMO_ROWS` rows."""
    got = _MEMO.get(key)
    if got is None:
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        got = _MEMO[key] = build()
    return got


def finding_base(class_name: str, *, kind: str, product: str, vendor: str | None, uids: pa.Array,
                 times_ms: pa.Array, raws: list[bytes], activity_ids: Sequence[int],
                 severity: Sequence[int]) -> dict[str, pa.Array]:
    """:func:`~secpipe.formats.base.base_columns` of a small batch whose rows all carry their own
    time, with activity and severity ids given as Python lists: the columns that depend only on
    the class, kind, product, vendor and those ids (about 35 Arrow calls) are memoized
    (:func:`memo_columns`), then time, uid and raw_data put in their places. Any other batch (a
    row on receipt time, more than :data:`MEMO_ROWS` rows) is built by ``base_columns`` itself;
    a test holds both ways equal."""
    n = len(activity_ids)
    if times_ms.null_count or n > MEMO_ROWS:
        return base_columns(class_name, kind=kind, product=product, vendor=vendor, uids=uids, times_ms=times_ms,
                            raws=raws, activity_id=pa.array(activity_ids, pa.int32()),
                            severity_id=pa.array(severity, pa.int32()))  # fmt: skip

    def build() -> dict[str, pa.Array]:
        return base_columns(class_name, kind=kind, product=product, vendor=vendor, uids=pa.nulls(n, S),
                            times_ms=pa.nulls(n, pa.int64()).fill_null(0), raws=None,
                            activity_id=pa.array(activity_ids, pa.int32()), severity_id=pa.array(severity, pa.int32()))  # fmt: skip

    cols = dict(memo_columns(("base", class_name, kind, product, vendor, tuple(activity_ids), tuple(severity)), build))
    cols["time"] = times_ms
    cols["time_dt"] = times_ms.cast(_TIME_DT)
    cols["metadata.uid"] = uids
    cols["raw_data"] = string_column(raws)
    return cols


_TIME_DT = pa.timestamp("ms", tz="UTC")


def score_severity_ids(scores: pa.Array) -> pa.Array:
    """CVSS-style 0-10 scores -> severity_id (>=9 Critical, >=7 High, >=4 Medium, >0 Low, 0 Info)."""
    s = scores.cast(pa.float64())
    out = pc.if_else(pc.greater_equal(s, 9.0), 5, pc.if_else(pc.greater_equal(s, 7.0), 4,
          pc.if_else(pc.greater_equal(s, 4.0), 3, pc.if_else(pc.greater(s, 0.0), 2, 1))))  # fmt: skip
    return out.cast(pa.int32())


def captions(class_name: str, attribute: str, ids: pa.Array) -> pa.Array:
    """Enum captions of an id column (``status_id`` -> ``status``)."""
    return enum_captions(class_name, attribute, ids)


def nest(cols: dict[str, pa.Array]) -> pa.StructArray:
    """Flat dotted leaves (``cve.uid``) -> one StructArray with nested struct children."""
    tree: dict[str, Any] = {}
    for path, arr in cols.items():
        node = tree
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = arr

    def build(node: dict[str, Any]) -> pa.StructArray:
        return pa.StructArray.from_arrays(
            [build(v) if isinstance(v, dict) else v for v in node.values()], names=list(node)
        )

    return build(tree)


def only_where(values: pa.StructArray, key: pa.Array) -> pa.StructArray:
    """``values`` with each row null where ``key`` (the object's required attribute) is null.

    OCSF objects are not emitted without their required key (no ``cve`` without its ``uid``).
    """
    if key.null_count == 0:
        return values
    mask = pc.or_(values.is_null(), key.is_null())
    return pa.StructArray.from_arrays(values.flatten(), fields=list(values.type), mask=mask)


def objects_where(values: pa.StructArray, keys: dict[str, pa.Array]) -> pa.StructArray:
    """``values`` with each named struct child null where its key (that object's required attribute) is null."""
    children = [only_where(values.field(i), keys[f.name]) if f.name in keys else values.field(i)
                for i, f in enumerate(values.type)]  # fmt: skip
    return pa.StructArray.from_arrays(children, fields=list(values.type), mask=values.is_null())


def singleton_list(values: pa.Array, valid: pa.Array | None = None) -> pa.Array:
    """Each row's value wrapped in a one-element list; rows where ``valid`` is false are null."""
    n = len(values)
    offsets = pa.array(range(n + 1), pa.int32())
    mask = None if valid is None else pc.invert(valid)
    return pa.ListArray.from_arrays(offsets, values, mask=mask)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while one report is mapped.

    Mapping allocates hundreds of thousands of short-lived lists and strings and no reference
    cycles; the collector's generation scans over them cost 20-90% of the mapping time. It is
    re-enabled (if it was on) when the block ends, also on errors.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def compact(data: bytes) -> bytes:
    """Whitespace-free JSON of a whole document (one C pass), so every nested record sliced
    out of it is canonical; raises ``msgspec.DecodeError`` when ``data`` is not JSON. A leading
    UTF-8 byte-order mark (Windows tools, PowerShell ``Out-File``) is not content: RFC 8259 lets
    a parser ignore it, as :func:`split_json_records` does."""
    return msgspec.json.format(data.removeprefix(BOM), indent=-1)


_ENC = msgspec.json.Encoder(order="sorted")


class Split:
    """A report :func:`split_report` read: the report typed without its records (their array
    empty), the records as compact bytes, and their JSON array as it lies in the compact text."""

    __slots__ = ("array", "items", "report")

    def __init__(self, report: Any, items: list[bytes], array: memoryview) -> None:
        self.report, self.items, self.array = report, items, array


def split_report(data: bytes, key: str, type_: Any) -> Split | None:
    """A JSON object report compacted, checked (JSON, UTF-8) and cut into the items of its
    top-level array ``key`` in one native pass (:func:`_fast.compact_doc`), its other members then
    typed as ``type_`` with ``key`` an empty array: where :func:`compact` and a decode of the whole
    report with its records as ``msgspec.Raw`` read the document twice and copied each record out
    again. None without the extension, or for a document not decided there (not an object, no
    such array, an escaped top-level key, not UTF-8, not of ``type_``): the caller reads it as
    before, and gives its reasons."""
    if type(data) is not bytes or (data[:1] != b"{" and data.lstrip()[:1] != b"{"):
        return None
    got = _fast.compact_doc(data.removeprefix(BOM), key, utf8=True)
    if got is None:
        return None
    buf, items, members = got
    if items is None or members is None:
        return None
    view, name = memoryview(buf), key.encode()
    parts: list[bytes | memoryview] = []
    array = None
    for a, b, c, d in members:
        if view[a:b] == name:
            array = view[c:d]
            parts.append(b'"' + name + b'":[]')
        else:
            parts.append(view[a - 1 : d])
    if array is None:
        return None
    try:
        return Split(_decoder(type_).decode(b"{" + b",".join(parts) + b"}"), items, array)
    except msgspec.DecodeError:
        return None


def json_col(values: Sequence[Any]) -> pa.Array:
    """Python values -> compact JSON text (sorted keys); None and empty containers -> null."""
    enc = _ENC.encode
    return pa.array([enc(v).decode() if v else None for v in values], S)


def json_texts(col: pa.Array) -> pa.Array:
    """Each value of a column as JSON text (null stays null), encoded once per distinct value."""
    enc = pc.dictionary_encode(col)
    return pa.array([_ENC.encode(v).decode() for v in enc.dictionary.to_pylist()], S).take(enc.indices)


def raw_json_col(values: Sequence[msgspec.Raw | None]) -> pa.Array:
    """Raw JSON fragments kept as compact text (null where absent or JSON null).

    The fragments are slices of canonical records (whitespace-free, UTF-8 checked when they
    were split), so they are compact already: their bytes are copied as they are."""
    return string_column([None if v is None or (b := bytes(v)) == b"null" else b for v in values], checked=True)


def kv_list(maps: Sequence[dict[str, Any] | None]) -> pa.Array:
    """Dicts -> OCSF ``key_value_object[]`` (name/value; non-string values as JSON text), built
    from flat name/value arrays and offsets gathered in C (no per-entry Python; values
    converted by Arrow unless one is not a string)."""
    ms = [m or _NO_MAP for m in maps]
    lens = np.fromiter(map(len, ms), np.int32, len(ms))
    names = list(itertools.chain.from_iterable(ms))
    values = list(itertools.chain.from_iterable(map(dict.values, ms)))
    try:
        vals = strs(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        vals = None
    if vals is None or vals.null_count:  # a non-string value: JSON text, one by one
        enc = _ENC.encode
        vals = strs([v if isinstance(v, str) else enc(v).decode() for v in values])
    return struct_lists(lens, {"name": strs(names), "value": vals})


_NO_MAP: dict[str, Any] = {}


def offsets_of(lens: Sequence[int] | np.ndarray) -> pa.Array:
    """int32 list offsets from per-row lengths."""
    off = np.zeros(len(lens) + 1, np.int32)
    np.cumsum(lens if isinstance(lens, np.ndarray) else np.fromiter(lens, np.int32, len(lens)), out=off[1:])
    return pa.array(off)


def str_lists(values: Sequence[Sequence[str] | None]) -> pa.Array:
    """Lists of strings (empty -> null), converted by Arrow in one C pass over the nested lists."""
    return pa.array([v or None for v in values], _STR_LIST)


_STR_LIST = pa.list_(S)
STR_LIST = _STR_LIST
#: ``cve.cvss[]`` built directly (one entry per scoring source and CVSS version).
CVSS_LIST = pa.list_(pa.struct([("version", S), ("base_score", pa.float64()), ("vector_string", S), ("vendor_name", S)]))
#: ``resources[]`` of a package finding (the affected package and its image/target).
RESOURCES = pa.list_(pa.struct([("type", S), ("name", S), ("uid", S), ("labels", pa.list_(S)), ("data", S)]))


def struct_lists(lens: Sequence[int] | np.ndarray, fields: dict[str, pa.Array]) -> pa.Array:
    """Per-row lists of structs from flat child columns (row i owns ``lens[i]`` entries; 0 -> null)."""
    mask = pa.array(np.asarray(lens) == 0)
    return pa.ListArray.from_arrays(offsets_of(lens), nest(fields), mask=mask)


class Distinct:
    """One raw JSON field (``msgspec.Raw``) of many records, decoded once per distinct value.

    Scanner reports repeat the same description, reference list or CVSS block for every
    package or path a vulnerability is found in. Keeping such a field raw in the record struct
    (msgspec skips it without allocating) and decoding here turns the per-finding work into a
    byte-keyed dict lookup; derived values (joined lists, parsed scores) are computed per
    distinct value with :meth:`derive`, and columns are a ``take`` of a small array.

    ``values[k]`` is the decoded k-th distinct value (None for an absent field or JSON null),
    ``idx[i]`` the distinct position of record i, ``errors`` maps a distinct position whose
    value does not fit ``type_`` to msgspec's reason, with the field's path; ``texts[k]`` is the
    k-th distinct value's compact JSON text as it came (None where absent).
    """

    __slots__ = ("errors", "idx", "texts", "values")

    def __init__(self, raws: Iterable[msgspec.Raw], type_: Any, field: str) -> None:
        seen: dict[bytes, int] = {}
        add = seen.setdefault
        self.idx = [add(bytes(r), len(seen)) for r in raws]
        dec = _decoder(type_)
        self.values: list[Any] = []
        self.errors: dict[int, str] = {}
        self.texts: list[bytes | str | None] = list(seen)  # (the keys: no copy; b"" where absent)
        for k, key in enumerate(seen):
            if not key:
                self.values.append(None)
                continue
            try:
                self.values.append(dec.decode(key))
            except msgspec.DecodeError as exc:  # a ValidationError: wrong type (the record was valid JSON)
                self.errors[k] = _at(str(exc), field)
                self.values.append(None)

    @classmethod
    def from_column(cls, col: pa.Array, type_: Any, field: str) -> Distinct:
        """The same from a column of raw JSON texts (the native walker's raw mode; null where
        absent): distinct values found by Arrow's hash kernel, each decoded once."""
        enc = pc.dictionary_encode(col)
        new = object.__new__(Distinct)
        texts: list[str] = enc.dictionary.to_pylist()
        absent = len(texts)
        new.idx = pc.fill_null(enc.indices, absent).to_numpy(zero_copy_only=False).tolist()
        dec = _decoder(type_)
        new.values, new.errors, new.texts = [], {}, [*texts, None]
        for k, text in enumerate(texts):
            try:
                new.values.append(dec.decode(text))
            except msgspec.DecodeError as exc:
                new.errors[k] = _at(str(exc), field)
                new.values.append(None)
        new.values.append(None)  # absent
        return new

    @classmethod
    def each(cls, values: list[Any]) -> Distinct:
        """Values already typed, one a record, taken as they are (no distinct search: a format's path that typed
        its records whole, so both of its paths read the field alike)."""
        new = object.__new__(Distinct)
        new.values, new.errors, new.texts, new.idx = values, {}, [None] * len(values), list(range(len(values)))
        return new

    def reasons(self) -> list[str | None] | None:
        """Per record: msgspec's reason when its value has the wrong type, else None (None: all fit)."""
        if not self.errors:
            return None
        err = self.errors.get
        return [err(k) for k in self.idx]

    def take(self, rows: Sequence[int]) -> Distinct:
        """The same field for the given records only (distinct values shared)."""
        new = object.__new__(Distinct)
        new.values, new.errors, new.texts, new.idx = self.values, self.errors, self.texts, [self.idx[i] for i in rows]
        return new

    def derive(self, fn: Callable[[Any], Any]) -> list[Any]:
        """``fn`` applied once per distinct value (None for absent values is passed through too)."""
        return [fn(v) for v in self.values]

    def column(self, type_: pa.DataType, fn: Callable[[Any], Any] | None = None) -> pa.Array:
        """One row per record: the (derived) distinct values converted once, then taken."""
        vals = self.values if fn is None else self.derive(fn)
        return self.taken(pa.array(vals, type_))

    def taken(self, col: pa.Array) -> pa.Array:
        """A column of one row a distinct value as one row a record."""
        return col.take(pa.array(self.idx, pa.int32()))

    def text_column(self) -> pa.Array:
        """One row per record: the value's JSON text as it came (null where absent or JSON null),
        for a field the mapping does not place and keeps in ``unmapped``."""
        texts = [t.decode() if type(t) is bytes else t for t in self.texts]
        return pa.array([t if t and t != "null" else None for t in texts], S).take(pa.array(self.idx, pa.int32()))

    def per_row(self, derived: Sequence[Any]) -> list[Any]:
        """A per-distinct derived list expanded to one item per record."""
        return [derived[k] for k in self.idx]


def _at(msg: str, field: str) -> str:
    """msgspec's reason for a value, located at the record's ``field``."""
    at = f" - at `$.{field}"
    return msg.replace(" - at `$", at, 1) if " - at `$" in msg else f"{msg}{at}`"


def record_bytes(raws: Sequence[Any]) -> list[bytes]:
    """Each record slice (``msgspec.Raw`` of the compact report) as its own bytes, copied once:
    the native calls (uids, extract) borrow bytes, and would copy a view at every call."""
    return [r if type(r) is bytes else bytes(r) for r in raws]


def raw_data(raws: list[bytes]) -> pa.Array:
    """``raw_data`` of canonical records: their bytes copied once, checked as UTF-8; a record that
    is not UTF-8 raises ``ArrowInvalid``. Over 2 GiB: ``large_string``.

    With the native extension one Rust copy into a malloc'd buffer (``_fast.concat``): with the
    allocator settings of :mod:`secpipe.runtime.memory` its pages stay in the process for the
    next report, where a 250 MB buffer of Arrow's pool (:func:`~secpipe.formats.base.string_column`,
    the fallback) was faulted in afresh on most reports (CycloneDX bench: raw_data 0.12-0.68 s
    -> ~0.06 s a 100k-finding report)."""
    native = _fast.concat(raws, validate=True) if raws else None  # (Rust's UTF-8 check runs at memory speed)
    return native if native is not None else string_column(raws, checked=all(map(bytes.isascii, raws)))


def can_walk() -> bool:
    """Whether :func:`walk_issues` can run (the extension is built and has that call)."""
    return hasattr(_fast._module(), "walk_issues")


#: One group of a report's issues for :func:`walk_issues`: (uid context, second class, issues).
IssueGroup = tuple[bytes, bool, list[Any]]


def walk_issues(groups: list[IssueGroup], spec: _fast.Spec, kind: str, split: tuple[str, str, bytes] | None,
                shapes: tuple[Hashable, Hashable]) -> list[tuple[list[int], _fast.Columns]] | None:  # fmt: skip
    """A report's issues walked into the columns of up to two classes in one native pass (Rust
    ``walk_issues``): each issue (a JSON text msgspec has decoded, pretty or compact) is compacted
    and, while in the CPU cache, walked with ``spec``, copied into its class's ``raw_data``
    (``Columns.raw``) and hashed (``Columns.uids``: :func:`~secpipe.formats.base.event_uids` of
    the compact issue with context ``group context + its ordinal in the group``), so the report's
    bytes are read once and raw_data written once (no bytes object an issue).

    A group's issues go to the second class when it says so; else, with ``split`` = (top-level
    string path of ``spec``, value, prefix), those whose walked value there is ``value`` (an issue
    starting with ``prefix`` is tried there first) and the others to the first. ``shapes``: each
    class's reservation key (see ``_fast.extract``). Returns per class (the batch-wide numbers of
    its issues, their columns), or None without the extension (or one that predates this call) or
    when the walk does not decide an issue (irregular, not UTF-8, a raw_data past 2 GiB): the
    caller's path decides, with the same columns (tests)."""
    n = sum(len(g[2]) for g in groups)
    if not can_walk() or not n:
        return None
    walk = _fast._module().walk_issues  # type: ignore[union-attr]
    paths, unmapped, known, _route, _reserve = _fast._args(spec, None, n)
    keys = [(spec, shape) for shape in shapes]
    got = walk(groups, paths, unmapped, known, _split_at(spec, split), _reserved(keys, n), uid_prefix(kind))
    if got is None:
        return None
    return [(taken, _walked(key, n, cols, unmapped_, raw, hexes))
            for (taken, cols, unmapped_, raw, hexes), key in zip(got, keys, strict=True)]  # fmt: skip


def _split_at(spec: _fast.Spec, split: tuple[str, str, bytes] | None) -> tuple[int, bytes, bytes] | None:
    """A walk's ``split`` as the native calls take it: (spec index of the path, value, prefix)."""
    return None if split is None else ([p for p, _m in spec.paths].index(split[0]), split[1].encode(), split[2])


#: bytes a unit (an issue, a document byte) of each buffer of a class's last walk, per (spec, shape)
_WALKED: dict[tuple[_fast.Spec, Hashable], list[float]] = {}


def _reserved(keys: list[tuple[_fast.Spec, Hashable]], units: int) -> tuple[list[int] | None, ...]:
    """Per class, the bytes to reserve for each buffer of a walk of ``units`` (None: no walk yet)."""
    return tuple(None if (b := _WALKED.get(key)) is None else [int(x * units * 1.1) + 64 for x in b] for key in keys)


def _walked(key: tuple[_fast.Spec, Hashable], units: int, cols: Any, unmapped: Any, raw: Any,
            hexes: Any) -> _fast.Columns:  # fmt: skip
    """A class's walked buffers as columns, each buffer's bytes a unit noted for the next walk's
    reservation: a column grows by copies past its reservation, and a reservation far past the
    need is given back to the kernel when freed (glibc trims a free heap top over 1 GiB), then
    faulted in afresh."""
    _WALKED[key] = [len(c[2]) / units for c in (*cols, unmapped, raw)]
    return _fast._columns(key[0], (-1, cols, unmapped, [], raw, hexes))

#: A report list walked by :func:`walk_report`: (top-level project, application or -1, list, issues).
WalkedList = tuple[int, int, int, int]


def walk_report(doc: bytes, spec: _fast.Spec, split: tuple[str, str, bytes] | None, shapes: tuple[Hashable, Hashable],
                layout: str = "snyk") -> tuple[bytes, list[WalkedList], list[tuple[list[int], _fast.Columns]]] | None:  # fmt: skip
    """A Snyk report (``layout`` ``trivy``: a Trivy report, the vulnerabilities of each result, result
    k as project k) as it came, its issues walked in one native pass without msgspec reading them
    first (Rust ``walk_report``): each issue compacted, walked strictly (which checks it is JSON)
    into its class's columns (as :func:`walk_issues`; an IaC issue in the second class) and copied
    into that class's ``raw_data``. Returns (the skeleton: the document with its issue lists
    emptied, for msgspec to decode and check; the lists in document order; per class the issues'
    numbers and columns, without uids: :func:`issue_uids` makes them once the skeleton gave each
    list its context), or None (no extension with this call, or a document it does not decide as
    msgspec would: the caller reads it the usual way)."""
    walk = getattr(_fast._module(), "walk_report", None)
    if walk is None or type(doc) is not bytes:  # (the call borrows bytes only)
        return None
    paths, unmapped, known, _route, _reserve = _fast._args(spec, None, 1)
    keys: list[tuple[_fast.Spec, Hashable]] = [(spec, ("doc", shape)) for shape in shapes]
    got = walk(doc, paths, unmapped, known, _split_at(spec, split), _reserved(keys, len(doc)), layout)
    if got is None:
        return None
    skeleton, lists, classes = got
    return skeleton, lists, [(taken, _walked(key, len(doc), cols, unmapped_, raw, None))
                             for (taken, cols, unmapped_, raw), key in zip(classes, keys, strict=True)]  # fmt: skip


def issue_uids(kind: str, contexts: list[bytes], counts: list[int], taken: list[int], raw: pa.Array) -> pa.Array:
    """The uids of one class's issues :func:`walk_report` walked (``taken``: their numbers, ``raw``
    their raw_data), as :func:`walk_issues` makes them: each list's ``contexts[g]`` holds its
    ``counts[g]`` issues, numbered on across the lists in document order."""
    bufs = raw.buffers()
    assert raw.offset == 0 and bufs[1] is not None and bufs[2] is not None
    offsets, data = (memoryview(b).cast("B") for b in bufs[1:3])  # (Arrow exports signed bytes)
    hexes = _fast._module().issue_uids(uid_prefix(kind), contexts, counts, taken, offsets, data)  # type: ignore[union-attr]
    return _fast._hex_column(hexes, len(taken))


def texts(col: pa.Array) -> list[bytes]:
    """The rows of a string column without nulls as bytes (one copy of its data)."""
    off = np.frombuffer(col.buffers()[1], np.int32)[col.offset : col.offset + len(col) + 1].tolist()
    data = col.buffers()[2].to_pybytes()
    return [data[a:b] for a, b in zip(off[:-1], off[1:], strict=True)]


def first_items(lists: pa.Array) -> pa.Array:
    """The first item of each list (null for a null or empty list)."""
    off = lists.offsets.to_numpy()
    empty = off[1:] == off[:-1]
    if lists.null_count:
        empty |= lists.is_null().to_numpy(zero_copy_only=False)
    return lists.values.take(pa.array(off[:-1], pa.int32(), mask=empty))


def nonempty(col: pa.Array) -> pa.Array:
    """True where a string is present and not empty (Python truthiness, as ``a or b`` uses it)."""
    return pc.fill_null(pc.not_equal(col, ""), False)


def either(a: pa.Array, b: pa.Array) -> pa.Array:
    """``a or b`` per row for string columns."""
    return pc.if_else(nonempty(a), a, b)


def or_null(col: pa.Array) -> pa.Array:
    """A string column with its empty strings as nulls (``x or None`` per row)."""
    return pc.if_else(nonempty(col), col, pa.scalar(None, col.type))


def distinct_uids(uids: pa.Array, *parts: pa.Array) -> pa.Array:
    """``finding_info.uid`` made unique within one report: a uid shared by several findings
    (a producer's fingerprint that hashes only the line text, one issue in two projects,
    the same CVE in two jars of one target) gets the next of ``parts`` that tells them apart
    appended (``|``-joined, an absent part as ``None``); where all parts are equal too, the
    occurrence number within the group (``#1``, ``#2`` ..., in report order). A uid no other
    finding shares is kept as it is, so one report maps to the same uids every time."""
    n = len(uids)
    if n < 2:
        return uids
    for part in (*parts, None):
        idx = np.asarray(pc.dictionary_encode(pc.fill_null(uids, "None")).indices, np.int64)
        counts = np.bincount(idx)
        dup = counts[idx] > 1
        if not dup.any():
            return uids
        if part is None:  # occurrence number within each group of equal uids
            order = np.argsort(idx, kind="stable")
            starts = np.zeros(len(counts) + 1, np.int64)
            np.cumsum(counts, out=starts[1:])
            rank = np.empty(n, np.int64)
            rank[order] = np.arange(n) - starts[idx[order]]
            tagged = pc.binary_join_element_wise(uids, pa.array(rank + 1).cast(S), "#", null_handling="replace",
                                                 null_replacement="None")  # fmt: skip
        else:
            tagged = pc.binary_join_element_wise(uids, part.cast(S), "|", null_handling="replace",
                                                 null_replacement="None")  # fmt: skip
        uids = pc.if_else(pa.array(dup), tagged, uids)
    return uids


def reject_distinct(st: Strict, fields: dict[str, Distinct], out: Decoded, fmt: str,
                    what: str) -> tuple[Strict, dict[str, Distinct], list[int] | None]:
    """Dead-letter the records whose distinct-decoded fields have a wrong type (msgspec's reason,
    as ``not <what>: ...``). Returns the records kept, their fields, and their positions (None
    when all were kept)."""
    per = [r for r in (f.reasons() for f in fields.values()) if r is not None]
    if not per:
        return st, fields, None
    reasons = [next((f"not {what}: {r[i]}" for r in per if r[i] is not None), None) for i in range(len(st.recs))]
    keep = [i for i, r in enumerate(reasons) if r is None]
    return st.reject(reasons, out, fmt), {k: f.take(keep) for k, f in fields.items()}, keep


def reject_rows(reasons: list[str | None] | None, raws: Sequence[bytes], locs: Sequence[tuple[str, int]], out: Decoded,
                fmt: str, what: str) -> list[int] | None:  # fmt: skip
    """Dead-letter the records whose distinct-decoded field has a wrong type (``reasons``: :meth:`Distinct.reasons`,
    said as ``not <what>: ...``, as msgspec's reason for the rest of a record); the positions of the others,
    or None when all are kept."""
    if reasons is None:
        return None
    for why, raw, (src, off) in zip(reasons, raws, locs, strict=True):
        if why is not None:
            out.dead.append(DeadLetter(f"not {what}: {why}", src, off, raw, fmt))
    return [i for i, why in enumerate(reasons) if why is None]


def looks_json_object(head: bytes) -> bool:
    """True when ``head`` starts (after whitespace) with ``{`` or ``[``."""
    return head.lstrip()[:1] in (b"{", b"[")


def unmapped_with(col: pa.Array, key: str, value: Any) -> pa.Array:
    """Add one key with the same JSON value to every row of an ``unmapped`` column (string-level,
    in Arrow: rows are JSON objects without that key, so no row is parsed again)."""
    if not value:
        return col
    item = _ENC.encode(key).decode() + ":" + _ENC.encode(value).decode()
    joined = pc.binary_join_element_wise(pc.utf8_slice_codeunits(col, 0, -1), pa.scalar("," + item + "}"), "")
    return pc.if_else(pc.is_null(col), pa.scalar("{" + item + "}"), joined)


def unmapped_items(col: pa.Array, items: pa.Array) -> pa.Array:
    """Add to each row of an ``unmapped`` column its own pre-encoded ``"key":value`` item (null: none),
    string-level as :func:`unmapped_with` (rows are JSON objects without that key)."""
    head = pc.binary_join_element_wise(pc.utf8_slice_codeunits(col, 0, -1), items, ",")
    joined = pc.binary_join_element_wise(head, pa.scalar("}"), "")
    alone = pc.binary_join_element_wise(pa.scalar("{"), items, pa.scalar("}"), "")
    empty = pc.fill_null(pc.equal(col, "{}"), True)
    return pc.if_else(pc.is_null(items), col, pc.if_else(empty, alone, joined))


@functools.cache
def _decoder(type_: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(type_)


class ReportFormat(Format):
    """A format whose document is one JSON report, decoded whole (scanner reports, webhook payloads).

    ``decode`` compacts the document (one C pass, so every record sliced out of it is canonical
    for identity and ``raw_data``), decodes it into ``report_type`` with the GC paused, and hands
    it to :meth:`map_report`; a body that is not JSON or does not fit ``report_type`` is
    dead-lettered whole as "not <what>: <msgspec's reason>".
    """

    report_type: ClassVar[Any] = None
    what: ClassVar[str] = ""
    #: the top-level array of a report's records, where :meth:`decode` first tries to compact the report
    #: and cut them out in one native pass (:func:`split_report`, the rest typed as ``split_type``) and
    #: hands them to :meth:`map_split`; None: every report takes the path below
    split_key: ClassVar[str | None] = None
    split_type: ClassVar[Any] = None

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one report document."""
        with paused_gc():
            if self.split_key is not None and (got := split_report(data, self.split_key, self.split_type)) is not None:
                return self.map_split(got, source)
            try:
                data = compact(data)
                doc = _decoder(self.report_type).decode(data)
            except msgspec.DecodeError as exc:
                # text that is not UTF-8 is no JSON: said as the Python compactor's path says it (the
                # native compactor does not read strings' bytes and stops at a later fault)
                return self.dead(not_utf8(data) or f"not {self.what}: {exc}", source, data)
            return self.map_report(doc, data, source)

    @abc.abstractmethod
    def map_report(self, doc: Any, data: bytes, source: str) -> Decoded:
        """Map one decoded report (``data`` is its compact bytes) to batches and dead letters."""

    def map_split(self, split: Split, source: str) -> Decoded:
        """Map one report :func:`split_report` read (a format that sets ``split_key``): its records put back
        as ``split_key`` and the report given to :meth:`map_report` with its compact text. A format that
        types the records' array in place (``split.array``) maps it itself."""
        setattr(split.report, self.split_key or "", split.items)
        return self.map_report(split.report, split.array.obj, source)  # type: ignore[arg-type]  # (the compact report)

    def map_each(self, records: Iterable[Any], type_: Any, mapped: frozenset[str], what: str, source: str,
                 batch: Callable[[list[Any], list[bytes], pa.Array], pa.RecordBatch]) -> Decoded:  # fmt: skip
        """A report's records (raw JSON) typed as ``type_`` (:func:`decode_top`: one of the wrong shape
        dead-lettered alone as not ``what``; ``mapped``: the keys kept out of ``unmapped``) and made
        one batch by ``batch(records, their raw JSON, their unmapped column)``."""
        raws = [bytes(r) for r in records]
        out = Decoded(events=len(raws))
        if raws:
            typed, top = decode_top(raws, list(range(len(raws))), type_, mapped, (), out, source, self.name, what)
            if typed.recs:
                out.batches.append(batch(typed.recs, typed.raws, top.unmapped))
        return out

    def dead(self, why: str, source: str, data: bytes) -> Decoded:
        """The whole document dead-lettered with ``why``."""
        return Decoded(dead=[DeadLetter(why, source, 0, data, self.name)], events=1)


def typed_records(data: bytes, whole: msgspec.json.Decoder, pick: Callable[[Any], list[Any]], raws: list[Any],
                  source: str, type_: Any, out: Decoded, fmt: str, what: str) -> tuple[Strict, list[int]]:
    """The records of a report typed, with each one's index into ``raws``; bad ones dead-lettered.

    ``raws`` are the records' slices of the compact document ``data`` (``msgspec.Raw``, no
    copy). Fast path: ``data`` decoded once more with ``whole`` (a report view whose record
    lists are typed as ``type_``) and ``pick`` returns its records in ``raws`` order: one C
    call, no join. When that fails (an unknown key or a value of the wrong type somewhere),
    :func:`decode_strict` runs over the record slices and isolates the bad ones.
    """
    try:
        recs = pick(whole.decode(data))
    except msgspec.DecodeError:
        recs = None
    n = len(raws)
    if recs is not None and len(recs) == n:
        return Strict(recs, [None] * n, raws, [(source, i) for i in range(n)]), list(range(n))
    copies = [bytes(r) for r in raws]
    st = decode_strict(copies, [(source, i) for i in range(n)], type_, out, fmt, what)
    pos = {id(r): i for i, r in enumerate(copies)}
    return st, [pos[id(r)] for r in st.raws]


def keep_records(typed: Any, recs: Records, ok: Sequence[bool], reason: str, out: Decoded, fmt: str) -> list[int]:
    """Indexes of decoded records that passed ``ok``; the others are dead-lettered with ``reason``
    at their original (source, offset)."""
    keep = [i for i, good in enumerate(ok) if good]
    if len(keep) != len(ok):
        pos = {id(r): i for i, r in enumerate(recs.raws)}
        for i, good in enumerate(ok):
            if not good:
                raw = typed.raws[i]
                src, off = recs.locs[pos[id(raw)]]
                out.dead.append(DeadLetter(reason, src, off, raw, fmt))
    return keep


class TopLevel:
    """Per record: its ``unmapped`` JSON (the top-level keys a format does not map, sorted, as
    :func:`~secpipe.formats.base.unmapped_json` writes them) and the raw JSON text of some
    top-level fields (``raw[name]``, compact, null where absent or JSON null); where
    :func:`decode_top` was asked and its native walk made them, the records' ``raw_data``
    column and their ``metadata.uid`` (else None: the caller makes them)."""

    __slots__ = ("raw", "raw_data", "uids", "unmapped")

    def __init__(self, unmapped: pa.Array, raw: dict[str, pa.Array], raw_data: pa.Array | None = None,
                 uids: pa.Array | None = None) -> None:  # fmt: skip
        self.unmapped, self.raw, self.raw_data, self.uids = unmapped, raw, raw_data, uids

    @classmethod
    def from_tops(cls, tops: Sequence[dict[str, msgspec.Raw]], mapped: frozenset[str], fields: Sequence[str]) -> TopLevel:
        """The same from each record's top-level map (msgspec's path)."""
        return cls(unmapped_json(list(tops), mapped), {f: raw_json_col([t.get(f) for t in tops]) for f in fields})

    def take(self, rows: Sequence[int]) -> TopLevel:
        """The same for the given records only."""
        idx = pa.array(rows, pa.int32())
        return TopLevel(self.unmapped.take(idx), {k: v.take(idx) for k, v in self.raw.items()},
                        None if self.raw_data is None else self.raw_data.take(idx),
                        None if self.uids is None else self.uids.take(idx))  # fmt: skip


@functools.cache
def _top_spec(mapped: frozenset[str], fields: tuple[str, ...]) -> _fast.Spec:
    return _fast.Spec(tuple((f, _fast.RAW) for f in fields), (), tuple(sorted(mapped)))


def decode_top(raws: list[bytes], locs: list[int] | list[tuple[str, int]], type_: Any, mapped: frozenset[str],
               fields: tuple[str, ...], out: Decoded, source: str, fmt: str, what: str, *,
               array: Any = None, whole: bool = False, kind: str | None = None) -> tuple[Typed, TopLevel]:  # fmt: skip
    """:func:`~secpipe.formats.base.decode_typed` plus each record's :class:`TopLevel` (``mapped``:
    the keys kept out of ``unmapped``; ``fields``: the top-level fields wanted as raw JSON text).

    With the native extension the top level is walked in Rust (``_fast.extract``: the unmapped
    JSON and the raw fields in one pass, no per-record map of raw values in Python) and the
    records are typed in one msgspec call; a batch the walker declines (a duplicate or escaped
    key, see ``_fast.extract``) or that does not type takes msgspec's path, which decodes each
    record's top-level map and dead-letters the bad records. Both give the same columns (tests).

    ``array``: the records' JSON array as it lies in the document (:func:`array_text`), typed in
    place of a join of ``raws`` (a copy of every record). ``whole`` / ``kind``: the walk also
    copies the records into their ``raw_data`` column (as :func:`raw_data` makes it) / makes
    their uids (:func:`~secpipe.formats.base.event_uids` of ``kind``, no contexts) while each
    record is in the CPU cache (``TopLevel.raw_data`` / ``.uids``; None on msgspec's path).
    """
    cols = (_fast.extract(raws, _top_spec(mapped, fields), whole=whole, uid_prefix=None if kind is None else uid_prefix(kind))
            if len(raws) >= _TOP_NATIVE_MIN else None)  # fmt: skip
    if cols is not None:
        try:
            recs = _decoder(list[type_]).decode(json_array(raws) if array is None else array)
        except msgspec.DecodeError:
            recs = None
        if recs is not None and len(recs) == len(raws):
            where = [o if isinstance(o, tuple) else (source, o) for o in locs]
            return Typed(recs, [], raws, where), TopLevel(cols.unmapped, {f: _no_null(cols.strings[f]) for f in fields},
                                                          cols.raw, cols.uids)  # fmt: skip
    typed = decode_typed(raws, locs, type_, out, source, fmt, what)
    return typed, TopLevel.from_tops(typed.tops, mapped, fields)


def array_text(data: bytes, items: Sequence[msgspec.Raw]) -> memoryview | None:
    """The JSON array ``[item,item,...]`` as it lies in ``data`` (a view, no copy), where ``items``
    are all the items of one array of the compact document ``data`` as msgspec decoded them
    (``msgspec.Raw`` views of it, in order); None when they are not views of ``data`` (no item, a
    copy). A view's address inside ``data``'s bytes is a view of them: no content is compared."""
    if not items or type(data) is not bytes:
        return None
    at = np.frombuffer(data, np.uint8).ctypes.data
    first = np.frombuffer(items[0], np.uint8).ctypes.data - at - 1
    last = np.frombuffer(items[-1], np.uint8).ctypes.data - at
    end = last + len(items[-1]) + 1
    if first < 0 or last < 0 or end > len(data) or data[first] != 0x5B or data[end - 1] != 0x5D:  # [ ... ]
        return None
    return memoryview(data)[first:end]


#: Batches this small take msgspec's path (one native call and its spec cost more than they save).
_TOP_NATIVE_MIN = 16


def _no_null(col: pa.Array) -> pa.Array:
    """A raw JSON text column with the JSON ``null`` texts made null (as :func:`raw_json_col` does)."""
    null = pc.equal(col, "null")
    return pc.if_else(null, pa.scalar(None, S), col) if pc.any(null).as_py() else col


class CheckedRecordFormat(RecordFormat):
    """A record format (NDJSON, array or one object) whose records must pass :meth:`is_valid`.

    ``map_records`` decodes all records in one msgspec call into ``record_type`` with the GC
    paused; records of the wrong shape are dead-lettered with msgspec's reason, records failing
    :meth:`is_valid` with ``invalid_reason``; the rest go to :meth:`map_valid` as one batch.
    """

    record_type: ClassVar[Any] = None
    what: ClassVar[str] = ""
    invalid_reason: ClassVar[str] = ""

    @abc.abstractmethod
    def is_valid(self, rec: Any) -> bool:
        """Whether a decoded record is really of this format."""

    @abc.abstractmethod
    def map_valid(self, recs: list[Any], tops: list[dict[str, msgspec.Raw]],
                  raws: list[bytes]) -> pa.RecordBatch | list[pa.RecordBatch]:  # fmt: skip
        """Map the valid records (typed, top-level raw keys, canonical bytes) to one batch (a format whose
        records map to several classes: a batch a class)."""

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document, the cyclic GC paused for the split too (its per-record location
        tuples would otherwise trigger collections that scan everything allocated so far)."""
        with paused_gc():
            return super().decode(data, source)

    def map_records(self, recs: Records) -> Decoded:
        """Map accumulated records to one OCSF batch plus dead letters."""
        with paused_gc():
            out = Decoded(dead=list(recs.dead), events=recs.events)
            if not recs.raws:
                return out
            typed, extra = self._decode(recs, out)
            ok = [self.is_valid(r) for r in typed.recs]
            keep = keep_records(typed, recs, ok, self.invalid_reason, out, self.name)
            if keep:
                kept = self._map_kept(typed, extra, keep)
                out.batches.extend(kept if isinstance(kept, list) else (kept,))
            return out

    def _decode(self, recs: Records, out: Decoded) -> tuple[Typed, Any]:
        """The records typed (bad ones dead-lettered into ``out``), and what :meth:`_map_kept`
        needs besides them (nothing here: the top-level maps are in ``Typed.tops``)."""
        return decode_typed(recs.raws, recs.locs, self.record_type, out, "", self.name, self.what), None

    def _map_kept(self, typed: Typed, _extra: Any, keep: list[int]) -> pa.RecordBatch | list[pa.RecordBatch]:
        """The batch of the records at ``keep`` (those :meth:`is_valid` passed; a format whose
        records map to several classes gives a batch a class)."""
        return self.map_valid([typed.recs[i] for i in keep], [typed.tops[i] for i in keep], [typed.raws[i] for i in keep])


class CheckedTopFormat(CheckedRecordFormat):
    """A :class:`CheckedRecordFormat` whose mapping reads the records' top level only as their
    ``unmapped`` JSON and a few raw fields (:class:`TopLevel`, made natively where it can be:
    :func:`decode_top`): subclasses set ``mapped`` and ``top_fields`` and implement :meth:`map_top`."""

    mapped: ClassVar[frozenset[str]] = frozenset()
    top_fields: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def map_top(self, recs: list[Any], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
        """Map the valid records (typed, their top level, canonical bytes) to one batch."""

    def map_valid(self, recs: list[Any], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        """:meth:`map_top` of records decoded with their top-level maps."""
        return self.map_top(recs, TopLevel.from_tops(tops, self.mapped, self.top_fields), raws)

    def _decode(self, recs: Records, out: Decoded) -> tuple[Typed, TopLevel]:
        """The records typed and their :class:`TopLevel` (:func:`decode_top`)."""
        return decode_top(recs.raws, recs.locs, self.record_type, self.mapped, self.top_fields, out, "", self.name,
                          self.what)  # fmt: skip

    def _map_kept(self, typed: Typed, top: TopLevel, keep: list[int]) -> pa.RecordBatch | list[pa.RecordBatch]:
        """:meth:`map_top` of the records at ``keep``."""
        if len(keep) == len(typed.recs):
            return self.map_top(typed.recs, top, typed.raws)
        return self.map_top([typed.recs[i] for i in keep], top.take(keep), [typed.raws[i] for i in keep])


#: 0001-01-01T00:00:00Z in ms: Go's zero ``time.Time``, what a Go tool (Trivy, gitleaks, ...)
#: writes for a time it never set (``omitempty`` does not omit a struct)
_GO_ZERO_MS = -62135596800000


@functools.lru_cache(maxsize=1024)
def report_time(value: str | float | None) -> int | None:
    """A report's own time (ISO 8601, or an epoch number: see ``parse_times``) in ms since the epoch, or None when it has none: absent,
    unparseable, or Go's zero time (an unset time, not a scan made in year 1: taking it would file
    the findings under the day 0001-01-01, which a class's retention TTL deletes at its first run)."""
    ms: int | None = parse_times([value])[0].as_py()
    return None if ms is not None and ms <= _GO_ZERO_MS else ms
