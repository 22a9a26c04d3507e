"""Shared pieces of the CI/CD formats (github, gitlab, jenkins): row building and batching.

Design: a CI/CD format decodes its JSON records with msgspec into small typed structs (the
C decoder skips every field it does not name), then a per-type mapper returns the OCSF leaves
of one record as a flat ``{dotted path: value}`` dict. Records are grouped by OCSF class
and each group becomes one batch through :func:`build_batch`, which adds the base columns
(class, time, metadata.uid, raw_data) with Arrow and turns the row dicts into columns in one
pass per path. Webhook and audit traffic arrives one payload per request and CI systems
emit a few events per build, so the per-record mapper is small-batch work; the expensive
parts (JSON decode, hashing, column building) run in C.

Guarantees: ``metadata.uid`` hashes the canonical record bytes; a record without a usable
time of its own gets the receipt time and the ``secpipe:time_from_receipt`` label; values a
mapper returns as None are left out (the column is null), never invented.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _fast
from secpipe.formats._findings import paused_gc
from secpipe.formats.base import (
    SMALL_ROWS,
    base_columns,
    epoch_ms,
    event_uids,
    json_array,
    small_base_columns,
    string_column,
    to_batch,
    uid_column,
)
from secpipe.schema.ocsf import SchemaError, arrow_type, keep

_STR = pa.string()

#: status_id -> caption (API/job/lifecycle classes) and finding status_id -> caption
STATUS = {0: "Unknown", 1: "Success", 2: "Failure", 99: "Other"}
FINDING_STATUS = {0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 99: "Other"}
RUN_STATE = {0: "Unknown", 1: "Ready", 2: "Queued", 3: "Running", 4: "Stopped", 99: "Other"}

#: tool severity words -> OCSF severity_id
SEVERITY = {
    "unknown": 0, "info": 1, "informational": 1, "note": 2, "low": 2, "warning": 3, "medium": 3,
    "moderate": 3, "error": 4, "high": 4, "critical": 5,
}  # fmt: skip

CREATE_WORDS = frozenset({
    "created", "opened", "added", "reopened", "published", "requested", "submitted", "started", "create",
    "add", "new", "open", "invite", "member_added", "added_to_repository", "generated",
})  # fmt: skip
READ_WORDS = frozenset({"clone", "fetch", "download", "view", "read", "export", "access", "get", "list"})
DELETE_WORDS = frozenset({
    "deleted", "removed", "destroyed", "destroy", "delete", "remove", "member_removed", "removed_from_repository",
    "revoke", "revoked",
})  # fmt: skip


UPDATE_WORDS = ("update", "edit", "change", "rename", "transfer", "set", "modify", "archive", "unarchive", "publicize",
                "privatize", "enable", "disable", "move", "merge", "close", "approve", "lock", "unlock", "push", "reset", "resolve")


@functools.lru_cache(maxsize=4096)
def verb_activity(action: str | None, default: int = 99) -> int:
    """API Activity id from an action word (``repo.create`` uses its last part, ``org.saml_enabled``
    the verb ending it): 1/2/3/4, else ``default``. Enabling and disabling a setting are both
    Update (the resource changes; nothing is created)."""
    if not action:
        return default
    word = action.rsplit(".", 1)[-1].lower()
    if word in CREATE_WORDS or word.startswith(("create", "add", "invite")):
        return 1
    if word in DELETE_WORDS or word.startswith(("destroy", "delete", "remove", "revoke")):
        return 4
    # "read" as a whole word only: ``ready_for_review`` (a draft pull request marked ready) is no read
    if word in READ_WORDS or word.startswith(("clone", "fetch", "download", "view", "read_", "export")):
        return 2
    if word.startswith(UPDATE_WORDS):
        return 3
    tail = word.rpartition("_")[2]  # the verb ending a compound word: ``saml_enabled``, ``runner_group_created``
    if tail != word and tail in _TAIL_VERBS:
        return verb_activity(tail, default)
    return default


#: past-tense verbs read at the end of a compound action word (see verb_activity)
_TAIL_VERBS = frozenset({"enabled", "disabled", "created", "deleted", "added", "removed", "updated", "changed",
                         "renamed", "destroyed", "revoked", "archived", "transferred"})  # fmt: skip


def gc_paused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a ``map_records`` with the cyclic GC paused: mapping allocates a dict or struct per
    record and no cycles, and the collector's scans over them cost a quarter of the time."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return fn(*args, **kwargs)

    return run


_DIGITS = re.compile(r"\d*")
_SPACED_OFFSET = re.compile(r"\s+([+-]\d\d:?\d\d)$")


def iso_ms(value: Any) -> int | None:
    """An ISO-8601 string, epoch seconds or epoch milliseconds -> int ms (None if unusable)."""
    if type(value) is str and (native := _iso_native()) is not None and (got := native(value)) is not None:
        return got  # GitHub's own form (``2019-05-15T15:20:33Z``), parsed natively: the same milliseconds
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return epoch_ms(float(value))
    if not isinstance(value, str):
        return None
    try:  # fast path: what fromisoformat reads as is (most ISO forms, "Z", offsets, space separator)
        t = dt.datetime.fromisoformat(value[:-4] if value.endswith(" UTC") else value)
    except ValueError:
        return _iso_slow(value)
    # what int(t.timestamp() * 1000) gives (naive = UTC), without building an aware copy
    return int((t - (_EPOCH if t.tzinfo is None else _EPOCH_UTC)).total_seconds() * 1000)


@functools.cache
def _gather() -> Callable[[list[Any], int], Any] | None:
    """``HookScanner.gather`` of the native extension (None without it): :func:`_copied`'s copy loop."""
    return getattr(getattr(_fast._module(), "HookScanner", None), "gather", None)


@functools.cache
def _iso_native() -> Callable[[Any], int | None] | None:
    """``HookScanner.iso_ms`` of the native extension (None without it): the milliseconds of a
    ``YYYY-MM-DDTHH:MM:SS`` then ``Z`` or ``+HH:MM``/``-HH:MM`` text, as :func:`iso_ms` gives them
    (~0.1 us against ~0.5 for ``fromisoformat`` and the arithmetic), None for any other text."""
    return getattr(getattr(_fast._module(), "HookScanner", None), "iso_ms", None)


_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - the naive epoch, for naive (UTC) times
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _iso_slow(value: str) -> int | None:
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if " UTC" in value:  # GitLab system hooks: "2024-01-01 10:00:00 UTC"
        text = value.replace(" UTC", "").strip().replace(" ", "T", 1) + "+00:00"
    text = _SPACED_OFFSET.sub(r"\1", text)  # "2021-04-28 21:50:00 +0200"
    head, sep, frac = text.partition(".")
    if sep:
        m = _DIGITS.match(frac)
        digits = m.group(0) if m else ""
        text = f"{head}.{digits[:6].ljust(6, '0')}{frac[len(digits):]}"
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(t.timestamp() * 1000)


def first_time(*values: Any) -> int | None:
    """The first of ``values`` that parses as a time (see :func:`iso_ms`)."""
    for v in values:
        ms = iso_ms(v)
        if ms is not None:
            return ms
    return None


def sid(value: Any) -> str | None:
    """An id as a string (GitHub/GitLab ids are numbers; OCSF uids are strings)."""
    if type(value) is str:
        return value or None
    return None if value is None else str(value)


_ENC = msgspec.json.Encoder()


def json_or_none(value: Any) -> str | None:
    """Compact JSON of a value, None for None/empty containers."""
    if value is None or value == {} or value == []:
        return None
    return _ENC.encode(value).decode()


def unmapped_of(top: dict[str, msgspec.Raw], mapped: frozenset[str], extra: dict[str, Any] | None = None) -> bytes | None:
    """JSON (bytes) of the top-level keys not in ``mapped`` (raw bytes re-emitted) plus ``extra``."""
    keep: dict[str, Any] = {k: v for k, v in top.items() if k not in mapped}
    if extra:
        keep.update({k: v for k, v in extra.items() if v is not None})
    return _ENC.encode(keep) if keep else None


def unmapped_pop(top: dict[str, msgspec.Raw], mapped: frozenset[str]) -> bytes | None:
    """:func:`unmapped_of` for a ``top`` map that is not used again: the mapped keys are
    deleted from it in place (cheaper than building a filtered copy; same JSON)."""
    for k in top.keys() & mapped:
        del top[k]
    return _ENC.encode(top) if top else None


def unmapped_rest(tops: list[dict[str, msgspec.Raw]], mapped: frozenset[str]) -> list[bytes | None]:
    """:func:`unmapped_pop` over a batch's top maps in one loop (no call and no key set per
    record: each mapped key is tested, then deleted where present; same JSON)."""
    enc = _ENC.encode
    keys = tuple(mapped)
    out: list[bytes | None] = []
    add = out.append
    for top in tops:
        for k in keys:
            if k in top:
                del top[k]
        add(enc(top) if top else None)
    return out


def bytes_column(values: Sequence[bytes | None]) -> pa.Array:
    """A string column from UTF-8 byte strings (None -> null): ``base.string_column``, unchecked.

    The values are ``unmapped`` JSON: raw values out of UTF-8-checked records (see
    ``split_json_records``) and keys and values msgspec encoded, so they are not checked again.
    """
    return checked_strings(values)


#: a batch of at most this many records (one webhook a POST) has its string and uid columns
#: converted by one ``pa.array`` call: the numpy and buffer set-up of the bulk builders costs
#: more than the values (string column 4.5 -> 2.6 us, uids 23 -> 3 us for one payload)
_SMALL = 16


def checked_strings(values: Sequence[bytes | None]) -> pa.Array:
    """``base.string_column(values, checked=True)``: UTF-8 byte strings already checked (None -> null);
    values of ``_COPY_MIN_AVG`` bytes or more on average are copied as :func:`copied_strings` copies them."""
    if len(values) == 1 and type(v := values[0]) is bytes and len(v) < 2**31:
        return _one_string(v)
    if len(values) <= _SMALL and sum(len(v) for v in values if v is not None) < 2**31:
        return pa.array(values, _STR)
    return _copied(values, _COPY_MIN_AVG)


def _one_string(value: bytes) -> pa.Array:
    """``pa.array([value], pa.string())`` of one UTF-8 value already checked (a one-payload batch's
    raw_data, unmapped, uid), on the bytes object's own memory: ~1.5 us against 3.5-6 for the
    conversion (a copy, and its UTF-8 checked again)."""
    return pa.StringArray.from_buffers(1, pa.py_buffer(_OFFSETS.pack(0, len(value))), pa.py_buffer(value), None, 0)


_OFFSETS = struct.Struct("<ii")  # a one-value string column's offsets


#: where :func:`copied_strings` puts the bytes of a column: the system allocator, which secpipe's
#: CLI tunes to keep the pages a freed batch used for the next one (``runtime.memory``). Arrow's
#: default pool (mimalloc) gives an allocation of more than a few MiB back to the kernel once it
#: is freed, so each batch of 10 KB webhook payloads faulted its raw_data and unmapped pages in
#: afresh (3,000 payloads a batch: ~350 page faults a decode, zeroed huge pages, against ~20 here).
_COPY_POOL = pa.system_memory_pool()
_COPY_MIN_AVG = 1024  # ``base._POOL_MIN_AVG``: smaller values are joined natively (``base.string_column``)


def copied_strings(values: Sequence[Any]) -> pa.Array:
    """A string column of UTF-8 byte strings, or of views of them (``memoryview``), already checked
    (None -> null): each value copied once into memory of the system allocator (no bytes object made
    of a view first): natively into one buffer (``HookScanner.gather``), else into one of ``_COPY_POOL``."""
    if len(values) <= _SMALL:
        return checked_strings([v if v is None or type(v) is bytes else bytes(v) for v in values])
    return _copied(values, 0)


def _copied(values: Sequence[Any], min_avg: int) -> pa.Array:
    """:func:`copied_strings` of ``values`` (more than ``_SMALL``) natively when they take ``min_avg``
    bytes or more on average, else ``base.string_column`` (its copy of large values into ``_COPY_POOL``)."""
    gather = _gather()
    if gather is not None:  # the copy loop natively, into memory of the system allocator (a Rust Vec)
        got = gather(values if type(values) is list else list(values), min_avg)
        if got is not None:
            offsets_buf, data, valid_buf, nulls = got
            return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets_buf), pa.py_buffer(data),
                                               None if valid_buf is None else pa.py_buffer(valid_buf), nulls)  # fmt: skip
    return string_column(values, checked=True, pool=_COPY_POOL)


def uid_strings(digests: Sequence[bytes]) -> pa.Array:
    """``metadata.uid`` from SHA-256 digests (``_uids.uid_column``: the first 128 bits in hex)."""
    if len(digests) == 1:
        return _one_string(digests[0][:16].hex().encode())
    if len(digests) <= _SMALL:
        return pa.array([d[:16].hex() for d in digests], _STR)
    return uid_column(digests)


def build_batch(cls: str, *, rows: Sequence[dict[str, Any]], unmapped: pa.Array | None = None, **common: Any) -> pa.RecordBatch:
    """One OCSF batch of ``cls`` from per-record leaf dicts (None values are left out);
    ``common`` are the other arguments of :func:`leaves_batch` (kind, product, raws, times, ...).
    ``unmapped``: the rows' ``unmapped`` column when the caller made it (GitHub's, written as each
    payload was scanned), in the place the rows' keys give it (their own values are not read)."""
    layouts = dict.fromkeys(map(tuple, rows))  # the rows' key layouts, in order of first appearance
    columns: dict[str, Sequence[Any]]
    if len(layouts) == 1:  # one key layout: transpose in C
        columns = dict(zip(next(iter(layouts)), zip(*(r.values() for r in rows), strict=True), strict=True))
    else:  # the keys in order of first appearance (as a key-by-key union over the rows gives them)
        keys: dict[str, None] = {}
        for layout in layouts:
            keys.update(dict.fromkeys(layout))
        get = dict.get
        columns = {k: list(map(get, rows, itertools.repeat(k))) if k != "unmapped" or unmapped is None else () for k in keys}
    if unmapped is not None and "unmapped" in columns:  # (no row has the key: no value, the column is left out)
        columns["unmapped"] = unmapped
    return leaves_batch(cls, columns=columns, **common)


def leaves_batch(
    cls: str,
    *,
    kind: str,
    product: str,
    vendor: str,
    raws: Sequence[bytes],
    times: Sequence[int | None],
    activity: Sequence[int] | int,
    severity: Sequence[int] | int,
    columns: dict[str, Sequence[Any] | pa.Array],
    checked: bool = False,
    uids: pa.Array | None = None,
    raw_data: pa.Array | None = None,
) -> pa.RecordBatch:
    """One OCSF batch of ``cls`` from leaf columns (path -> per-record values, or a ready Arrow
    array); a column whose values are all None (null) is left out, as :func:`build_batch` does.
    ``checked``: ``raws`` are records out of ``split_json_records`` (UTF-8 checked there);
    ``uids``: their ``metadata.uid`` when the caller hashed them (else ``event_uids``);
    ``raw_data``: their string column when the caller made it (else from ``raws``)."""
    if uids is None:
        uids = event_uids(kind, raws)
    if len(times) <= SMALL_ROWS and type(times) is list and type(activity) in _PLAIN and type(severity) in _PLAIN:
        # the columns that depend on the class and ids alone made once (one webhook a POST)
        cols = small_base_columns(
            cls, kind=kind, product=product, vendor=vendor, uids=uids if isinstance(uids, pa.Array) else pa.array(uids, _STR),
            times=times, activity=(activity,) * len(times) if isinstance(activity, int) else activity,
            severity=(severity,) * len(times) if isinstance(severity, int) else severity,
        )  # fmt: skip
    else:
        sev = pa.array(severity, pa.int32()) if not isinstance(severity, int) else severity
        act = pa.array(activity, pa.int32()) if not isinstance(activity, int) else activity
        cols = base_columns(
            cls, kind=kind, product=product, vendor=vendor, uids=uids, times_ms=pa.array(times, pa.int64()), raws=None,
            activity_id=act, severity_id=sev,
        )  # fmt: skip
    if raw_data is None:
        raw_data = checked_strings(raws) if checked else string_column(raws)
    cols["raw_data"] = raw_data
    for k, vals in columns.items():
        if isinstance(vals, pa.Array):
            if vals.null_count < len(vals):
                cols[k] = vals
            continue
        if all(v is None for v in vals):  # stops at the first value in the common case
            continue
        if k == "unmapped":
            cols[k] = bytes_column(vals)
        elif k == "resources" and len(vals) == 1:  # one payload: its repository and organization, often seen before
            cols[k] = _one_resources(cls, vals)
        elif k == "resources":
            cols[k] = _shared_resources(cls, vals) if len(vals) > _SMALL else None
            if cols[k] is None:
                cols[k] = _resources(cls, vals)
        elif len(vals) == 1 and type(v := vals[0]) in _ONE_KINDS:  # a one-payload batch's value, often seen before
            cols[k] = _one_row(cls, k, v)
        else:
            cols[k] = pa.array(vals, _type(cls, k))
    return to_batch(cls, cols)


_ONE_KINDS = frozenset((str, int))
_ONES: dict[tuple[str, str, type, Any], pa.Array] = {}  # (class, path, value type, value) -> its one-row column
_ONES_MAX = 2048


def _resources(cls: str, vals: Sequence[Any]) -> pa.Array:
    """The ``resources`` column of these records' item lists: the typed fast paths, else inferred."""
    got = _simple_resources(vals)
    if got is None:
        got = _typed_resources(vals)
    return pa.array(vals, _type(cls, "resources")) if got is None else got


def _shared_resources(cls: str, vals: Sequence[Any]) -> pa.Array | None:
    """:func:`_resources` of rows many of which hold the same list object (``_github_map.generic_scanned``
    gives every payload with the same repository and organization one list): each distinct list converted
    once (in order of first appearance, so the struct's fields come in the same order), then taken for
    every row; None when fewer than half the rows share, or than half the first 64 (the caller converts
    them all: the rows of other formats' batches, each its own list, are looked at no further)."""
    head = vals[:64]
    if len(set(map(id, head))) * 2 > len(head):
        return None
    ids = list(map(id, vals))
    first = dict(zip(ids, vals, strict=True))  # (the rows hold them: an id stands for one object throughout)
    if len(first) * 2 > len(vals):
        return None
    where = dict(zip(first, range(len(first)), strict=True))
    return _resources(cls, list(first.values())).take(pa.array(list(map(where.__getitem__, ids)), pa.int32()))


def _one_resources(cls: str, vals: Sequence[Any]) -> pa.Array:
    """The ``resources`` column of one record, kept like :func:`_one_row`'s leaves, by the items' JSON
    (their keys in order: the struct's field order follows them); built as for any batch."""
    key = (cls, "resources", bytes, _ENC.encode(vals))
    got = _ONES.get(key)
    if got is None:
        got = _resources(cls, vals)
        if len(_ONES) >= _ONES_MAX:
            _ONES.clear()
        _ONES[key] = got = keep(got)
    return got


def _one_row(cls: str, path: str, value: str | int) -> pa.Array:
    """``pa.array([value], _type(cls, path))``, kept for the next one-row batch with the same value there
    (``api.service.name``, ``src_endpoint.type``, an event type, an organization, a sender: most leaves of
    one webhook; ~0.2 us a leaf against ~4 for the conversion); at most ``_ONES_MAX`` kept (then cleared)."""
    key = (cls, path, type(value), value)
    got = _ONES.get(key)
    if got is None:
        got = keep(pa.array([value], _type(cls, path)))  # (assemble remembers what it makes of it)
        if len(_ONES) >= _ONES_MAX:
            _ONES.clear()
        _ONES[key] = got
    return got


_PLAIN = frozenset((int, list, tuple))  # activity or severity given as Python values (not an array)


def _simple_resources(vals: Sequence[Any]) -> pa.Array | None:
    """The ``resources`` column when every item is a plain {type, name, uid} (typed fast path:
    one pass into flat arrays, no inference); None when some item has more keys."""
    types: list[str] = []
    names: list[str | None] = []
    uids: list[str | None] = []
    offsets = [0]
    valid: list[bool] = []
    for v in vals:
        if v:
            for d in v:
                if len(d) != 3:
                    return None
                name, uid = d["name"], d["uid"]
                if name is not None or uid is not None:
                    types.append(d["type"])
                    names.append(name)
                    uids.append(uid)
        offsets.append(len(types))
        valid.append(offsets[-1] > offsets[-2])
    return _resources_array(types, names, uids, offsets, valid)


_RES_STR = ("type", "name", "uid", "data")
_RES_KEYS = frozenset({*_RES_STR, "labels", "owner"})


def _typed_resources(vals: Sequence[Any]) -> pa.Array | None:
    """The ``resources`` column of items with string type/name/uid/data, ``labels`` (strings)
    and ``owner`` ({name}): the array ``pa.array`` infers (struct fields in first-seen order,
    a record's None -> null), converted with that type given (no per-value inference; one
    C pass, 2x faster than a column per field and 4x for one payload).
    None when an item has another key or value type (the caller infers)."""
    items: list[dict[str, Any]] = []
    for v in vals:
        if v is not None:
            items.extend(v)
    order: dict[str, None] = {}
    for layout in dict.fromkeys(map(tuple, items)):  # the items' key layouts, in order of first appearance
        order.update(dict.fromkeys(layout))  # new keys appended as first seen, as Arrow's inference orders them
    if not order.keys() <= _RES_KEYS:
        return None
    if not order:  # no item, or only empty objects
        offsets = [0, *itertools.accumulate(0 if v is None else len(v) for v in vals)]
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array([{}] * len(items)),
                                        mask=pa.array([v is None for v in vals]))  # fmt: skip
    if "owner" in order and any(o is not None and (type(o) is not dict or o.keys() != {"name"})
                                for o in map(dict.get, items, itertools.repeat("owner"))):  # fmt: skip
        return None
    try:
        return pa.array(vals, _resources_type(tuple(order)))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value that is not a str (or list of str)
        return None


_RES_TYPES = {"labels": pa.list_(_STR), "owner": pa.struct([("name", _STR)])}


@functools.lru_cache(maxsize=256)
def _resources_type(keys: tuple[str, ...]) -> pa.DataType:
    """The list<struct> type of ``resources`` items with these keys in this order (made once)."""
    return pa.list_(pa.struct([(k, _RES_TYPES.get(k, _STR)) for k in keys]))


@functools.cache
def _type(cls: str, path: str) -> pa.DataType | None:
    """The Arrow type of a scalar OCSF path (None for objects: inferred, then conformed)."""
    try:
        return arrow_type(cls, path)
    except SchemaError:
        return None


def resource(type_: str, name: Any, uid: Any = None, **more: Any) -> dict[str, Any] | None:
    """A ``resources[]`` item (resource_details) or None when it names nothing."""
    if name is None and uid is None:
        return None
    item: dict[str, Any] = {"type": type_, "name": sid(name), "uid": sid(uid)}
    if more:
        item.update({k: v for k, v in more.items() if v is not None})
    return item


def compact(items: list[dict[str, Any] | None]) -> list[dict[str, Any]] | None:
    """Drop None items; None for an empty list."""
    kept = [i for i in items if i]
    return kept or None


TOPS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])


@dataclass(slots=True)
class Group:
    """Records of one OCSF class waiting to become a batch."""

    idx: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    times: list[int | None] = field(default_factory=list)
    acts: list[int] = field(default_factory=list)
    sevs: list[int] = field(default_factory=list)

    def add(self, i: int, row: dict[str, Any], when: int | None, act: int, sev: int) -> None:
        """Append one mapped record."""
        self.idx.append(i)
        self.rows.append(row)
        self.times.append(when)
        self.acts.append(act)
        self.sevs.append(sev)


def group(groups: dict[Any, Group], key: Any) -> Group:
    """The group for ``key``, created on first use (``setdefault`` would build a Group per record)."""
    g = groups.get(key)
    if g is None:
        g = groups[key] = Group()
    return g


def emit(groups: dict[Any, Group], fmt: Any, recs: Any, out: Any, *, checked: bool = False,
         digests: Sequence[bytes] | None = None) -> None:  # fmt: skip
    """One batch per group into ``out``; a group key is the class name or (class name, subkind);
    ``checked`` as for :func:`leaves_batch`; ``digests``: each record's SHA-256 for ``metadata.uid``
    (``base.uid_hasher``) by position in ``recs``, when the caller hashed them."""
    for key, g in groups.items():
        cls = key[0] if isinstance(key, tuple) else key
        uids = None if digests is None else uid_strings([digests[i] for i in g.idx])
        out.batches.append(
            build_batch(cls, kind=fmt.name, product=fmt.product, vendor=fmt.vendor, raws=[recs.raws[i] for i in g.idx],
                        times=g.times, activity=g.acts, severity=g.sevs, rows=g.rows, checked=checked, uids=uids)
        )  # fmt: skip


_RES3 = pa.list_(pa.struct([("type", pa.string()), ("name", pa.string()), ("uid", pa.string())]))


def resources_column(items: Sequence[Sequence[tuple[str, str | None, str | None]]]) -> pa.Array:
    """``resources`` (list of {type, name, uid}) from per-record tuples, built without inference.

    Items whose name and uid are both None are dropped; a record with no item gets null.
    """
    types: list[str] = []
    names: list[str | None] = []
    uids: list[str | None] = []
    offsets = [0]
    valid: list[bool] = []
    for rec in items:
        for t, name, uid in rec:
            if name is not None or uid is not None:
                types.append(t)
                names.append(name)
                uids.append(uid)
        offsets.append(len(types))
        valid.append(offsets[-1] > offsets[-2])
    return _resources_array(types, names, uids, offsets, valid)


def _resources_array(types: list[str], names: list[str | None], uids: list[str | None], offsets: list[int],
                     valid: list[bool]) -> pa.Array:
    values = pa.StructArray.from_arrays(
        [pa.array(types, pa.string()), pa.array(names, pa.string()), pa.array(uids, pa.string())], names=["type", "name", "uid"]
    )
    mask = pa.array([not v for v in valid])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=_RES3, mask=mask)


def columns_batch(cls: str, *, fmt: Any, raws: Sequence[bytes], times: Sequence[int | None], activity: Sequence[int],
                  severity: int | pa.Array, columns: dict[str, Any], checked: bool = False) -> pa.RecordBatch:
    """One OCSF batch from ready columns (lists are typed from the OCSF schema; arrays kept);
    ``checked`` as for :func:`leaves_batch`."""
    cols = base_columns(
        cls, kind=fmt.name, product=fmt.product, vendor=fmt.vendor, uids=event_uids(fmt.name, raws),
        times_ms=pa.array(times, pa.int64()), raws=None, activity_id=pa.array(activity, pa.int32()), severity_id=severity,
    )  # fmt: skip
    cols["raw_data"] = string_column(raws, checked=checked)
    for k, vals in columns.items():
        if isinstance(vals, pa.Array):
            cols[k] = vals
        elif k == "unmapped":
            cols[k] = bytes_column(vals)
        elif any(v is not None for v in vals):
            cols[k] = pa.array(vals, _type(cls, k))
    return to_batch(cls, cols)


@functools.cache
def _list_decoder(type_: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(list[type_])


def decode_batch(recs: Any, type_: Any, what: str, out: Any, fmt: str) -> tuple[list[int], list[Any], list[dict[str, msgspec.Raw]]]:
    """Like :func:`decode_each`, with one C call per view for the whole batch (small records).

    The records are joined into one JSON array and decoded as ``list[type_]`` and as top-level
    raw maps; when that fails (a bad record somewhere) the batch is decoded record by record
    by :func:`decode_each`, so each bad record is dead-lettered alone with its own reason.
    """
    raws = recs.raws
    joined = json_array(raws)
    try:
        views = _list_decoder(type_).decode(joined)
        tops = TOPS.decode(joined)
    except msgspec.DecodeError:
        return decode_each(recs, msgspec.json.Decoder(type_), what, out, fmt)
    return list(range(len(raws))), views, tops


def decode_each(recs: Any, typed: msgspec.json.Decoder, what: str, out: Any, fmt: str,
                idx: Sequence[int] | None = None) -> tuple[list[int], list[Any], list[dict[str, msgspec.Raw]]]:
    """Decode records one by one (typed view + top-level raw map); a bad one is dead-lettered.

    One C call per record and view: for records of kilobytes this beats joining them into one
    JSON array first (the join alone copies every byte once more).
    """
    from secpipe.formats.base import DeadLetter

    keep: list[int] = []
    views: list[Any] = []
    tops: list[dict[str, msgspec.Raw]] = []
    dec, top = typed.decode, TOP.decode
    raws = recs.raws
    for i in range(len(raws)) if idx is None else idx:
        raw = raws[i]
        try:
            views.append(dec(raw))
            tops.append(top(raw))
        except msgspec.DecodeError as exc:
            if len(views) > len(tops):
                views.pop()
            src, off = recs.locs[i]
            out.dead.append(DeadLetter(f"not {what}: {exc}", src, off, raw, fmt))
            continue
        keep.append(i)
    return keep, views, tops
