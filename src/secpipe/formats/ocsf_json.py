"""OCSF events that already are OCSF, as JSON: Prowler's ``--output-formats json-ocsf`` (a JSON array of
Detection Findings), Amazon Security Lake records exported as JSON, the OCSF output of Cribl, Tenzir
or any mapper (NDJSON, one event a line, or pretty-printed back to back).

Each record is stored as the class its integer ``class_uid`` names in OCSF 1.8.0 (the lake's schema),
every attribute the class has (at any depth, walked in the compiled schema) in the table's columns,
with the type OCSF gives it:

- a string attribute given a number or boolean keeps its text; an object or array given for a
  ``json_t``/``object`` attribute (``unmapped``, ``resources[].data``, ``enrichments[].data``) is its
  compact JSON text; an integer attribute given digits as text is that integer;
- a ``timestamp_t`` given as epoch seconds (Prowler writes ``time`` so) is read as seconds, as every
  secpipe format reads an epoch number (``base.epoch_ms``: below 10,000,000,000 seconds); an
  ISO-8601 text is read too; a ``datetime_t`` (``*_dt``) is its ISO-8601 text, UTC when it has no
  zone;
- ``class_uid``, ``category_uid``, ``type_uid`` and the captions (``class_name``, ``activity_name``,
  ``severity``...) are derived from ``class_uid``, ``activity_id`` and ``severity_id`` as 1.8.0 has
  them (``activity_id`` missing: 0 Unknown); ``time`` is the record's (else ``time_dt``'s; without
  either the receipt time, labelled so); ``metadata.version`` is the lake's (1.8.0) and the record's
  own goes to ``metadata.log_version`` unless it gives one; ``metadata.uid`` is secpipe's identity
  of the record (the record's own goes to ``unmapped``), ``metadata.log_name`` this format's;
- a key the class does not have, or a value OCSF's type cannot hold (text for an integer, an
  integer past int32, an object for a string list), is kept in ``unmapped`` under its dotted path
  (``resources[0].details``), merged with the record's own ``unmapped`` object.

``raw_data`` is the record's own JSON (compact); its ``raw_data`` attribute, if any, is in there.

Dead letters: a record that is not an object, has no integer ``class_uid``, or one that OCSF 1.8.0
does not define (the reason names it), each alone, the others going on.

Recognized by an integer ``class_uid`` with ``metadata`` and one of ``category_uid``, ``type_uid``
or ``activity_id`` in the head.

How (a class's records of a batch at once): each record is decoded by a msgspec Struct made from the
compiled schema for its class (one per class and object, unknown keys refused, ``json_t`` values as
their JSON text, the record's own ``unmapped`` kept as it came) and re-encoded with its OCSF
attributes alone, in C; a record the Struct refuses (another key or type somewhere) is walked in
Python against the same attribute tables, what it cannot keep set aside for ``unmapped``. Arrow's
JSON reader reads the re-encoded records into nested columns in one pass (their types consistent by
construction: a batch it cannot read together is read record by record, one that still fails
dead-lettered with Arrow's reason); timestamps and date-times are made ms over the columns. The
attributes secpipe derives are not re-encoded (nor read); the typed decode reads by Structs of the
attributes the class's records have had first (:class:`_Typed`).

With the native extension the typed decode and re-encode of the first record's class's records is
one walk in Rust against the same attribute tables (:func:`_native`, ``native/src/ocsf_lines.rs``:
a record it does not decide as the Struct would, or of another class, goes the way above), and the
lines are read into columns by ``native/src/json_rows.rs`` in place of Arrow's reader (which stays
the path without it). Measured ~60-63k events per CPU-second on one core (bench
``formats_scanners_bench --only ocsf``: Prowler arrays and OCSF NDJSON, 2-3 KB a record; ~40k
without the extension, load ~7); per 1000 records before the native paths: the split ~4.7 ms, the
typed decode ~6.5 (~8.5 by the whole class's Structs: msgspec's cost grows with a Struct's field
count), the re-encode ~3, Arrow's read ~7.5, columns/uids/assembly ~5. Tried without gain: Structs
kept and encoded together (encode_lines; ~10% slower: the records leave the cache), Arrow's reader
without threads, the time columns' structs left unbuilt when they hold no time.
"""

from __future__ import annotations

import functools
import io
import keyword
import math
import re
import threading
from collections.abc import Callable
from typing import Annotated, Any, cast

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import paused_gc, raw_data
from secpipe.formats.base import (
    UNREADABLE,
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    _cast_ms,
    _parse_one,
    base_columns,
    event_uids,
    parse_times,
    string_column,
    to_batch,
)
from secpipe.schema.ocsf import SchemaError, class_name_of, ocsf

#: attribute kinds of the walk
_STR, _INT, _LONG, _TS, _DT, _FLOAT, _BOOL, _JSON, _OBJ = range(9)
_KINDS = {"integer_t": _INT, "port_t": _INT, "long_t": _LONG, "timestamp_t": _TS, "datetime_t": _DT,
          "float_t": _FLOAT, "boolean_t": _BOOL, "json_t": _JSON, "object": _JSON}  # fmt: skip
_LIMIT = {_INT: 2**31, _LONG: 2**63}
#: one attribute: (kind, is_array, object name for _OBJ)
_Attr = tuple[int, bool, str]
#: the top-level attributes derived from the record's ids, or given by secpipe (see the module docstring)
_DERIVED = frozenset(("class_uid", "category_uid", "type_uid", "class_name", "category_name", "activity_name",
                      "type_name", "severity", "time", "time_dt", "raw_data"))  # fmt: skip
#: paths given by secpipe or derived (``metadata.profiles``: from the attributes the row has, as every format's)
_SKIP = frozenset(("metadata.version", "metadata.uid", "metadata.log_name", "metadata.profiles", "unmapped", "activity_id",
                   "severity_id"))  # fmt: skip
_ENC = msgspec.json.Encoder(order="sorted")
_DEC = msgspec.json.Decoder()


@functools.cache
def _attributes(owner: str, is_class: bool) -> dict[str, _Attr]:
    """A class's or object's attributes as the walk reads them."""
    spec = ocsf()["classes"][owner] if is_class else ocsf()["objects"][owner]
    objects = ocsf()["objects"]
    out: dict[str, _Attr] = {}
    for name, a in spec["attributes"].items():
        t = str(a.get("object_type") or a.get("type") or "string_t")
        if t in objects and t != "object":
            out[name] = (_OBJ, bool(a.get("is_array")), t)
        else:
            out[name] = (_KINDS.get(t, _STR), bool(a.get("is_array")), "")
    return out


class _Nope(Exception):
    """A value OCSF's type for its attribute cannot hold (kept in ``unmapped``)."""


def _scalar(kind: int, v: Any) -> Any:
    """``v`` as OCSF's ``kind`` holds it; raises :class:`_Nope` when it cannot."""
    if kind == _STR:
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        raise _Nope
    if kind in (_INT, _LONG):
        if isinstance(v, str) and v.lstrip("-").isdigit():
            v = int(v)
        if type(v) is int and -_LIMIT[kind] <= v < _LIMIT[kind]:
            return v
        raise _Nope
    if kind == _TS:  # (ms; an epoch number in seconds is made ms by _times, as the typed path's)
        got = _parse_one(v) if isinstance(v, str) else int(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 2**62 else None
        if got is None:
            raise _Nope
        return got
    if kind == _DT:  # (its text, read by _times)
        if not isinstance(v, str) or _parse_one(v) is None:
            raise _Nope
        return v
    if kind == _FLOAT:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
        raise _Nope
    if kind == _BOOL:
        if isinstance(v, bool):
            return v
        raise _Nope
    return _ENC.encode(v).decode()  # _JSON: its compact text


def _value(attr: _Attr, v: Any, path: str, extra: dict[str, Any]) -> Any:
    """One attribute's value as OCSF holds it (None: nothing kept; what cannot be kept is in ``extra``)."""
    kind, array, obj = attr
    if array and kind != _JSON:
        if not isinstance(v, list):
            v = [v]
        if kind == _OBJ:
            items = [_object(obj, x, f"{path}[{i}]", extra) if isinstance(x, dict) else _no(x, f"{path}[{i}]", extra)
                     for i, x in enumerate(v)]  # fmt: skip
            return [x for x in items if x is not None]
        out = []
        for i, x in enumerate(v):
            if x is None:
                continue
            try:
                out.append(_scalar(kind, x))
            except _Nope:
                extra[f"{path}[{i}]"] = x
        return out
    if kind == _OBJ:
        return _object(obj, v, path, extra) if isinstance(v, dict) else _no(v, path, extra)
    try:
        return _scalar(kind, v)
    except _Nope:
        extra[path] = v
        return None


def _no(v: Any, path: str, extra: dict[str, Any]) -> Any:
    """``v`` set aside under ``path`` (a value of the wrong shape); nothing kept (None)."""
    extra[path] = v
    return None


def _object(owner: str, d: dict[str, Any], path: str, extra: dict[str, Any]) -> dict[str, Any] | None:
    """An object's attributes as OCSF holds them (nested dicts; None when none is left)."""
    out: dict[str, Any] = {}
    _fill(_attributes(owner, False), d, path + ".", extra, out, False)
    return out or None


#: the Python type of a value each scalar kind takes as it is (the walk's fast path)
_AS_IS = {_STR: str, _FLOAT: float, _BOOL: bool}


def _fill(attrs: dict[str, _Attr], d: dict[str, Any], prefix: str, extra: dict[str, Any], out: dict[str, Any],
          flat: bool) -> None:
    """``d``'s attributes into ``out`` (``flat``: objects opened into dotted paths, from ``prefix``; else
    keyed by name, nested); what cannot be kept into ``extra`` by its dotted path."""
    for k, v in d.items():
        if v is None:
            continue
        a = attrs.get(k)
        if a is None:
            extra[prefix + k] = v
            continue
        kind, array, obj = a
        key = prefix + k if flat else k
        if not array:
            want = _AS_IS.get(kind)
            if want is not None and type(v) is want:
                out[key] = v
                continue
            if kind == _OBJ and flat and type(v) is dict:
                _fill(_attributes(obj, False), v, prefix + k + ".", extra, out, True)
                continue
        elif kind == _STR and type(v) is list and all(type(x) is str for x in v):
            out[key] = v
            continue
        got = _value(a, v, prefix + k, extra)
        if got is not None:
            out[key] = got


def _walked(cls: str, rec: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A record's class attributes as OCSF holds them (nested dicts), what the typed decode gives a
    record it takes; what cannot be kept into ``extra`` by its dotted path."""
    out: dict[str, Any] = {}
    _fill(_attributes(cls, True), rec, "", extra, out, False)
    return out


# -- the typed decode: one msgspec Struct per OCSF object and class, made from the compiled schema --


class _Js(str):
    """A ``json_t``/``object`` attribute's value: its compact JSON text (a string as it is)."""


_I32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
_I64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
#: a timestamp is an integer and a date-time its text in the typed decode; both are made ms by
#: :func:`_times`, over the columns (another form of time: the record is walked)
_ANNOTATION = {_STR: "str", _INT: "_I32", _LONG: "_I64", _TS: "_I64", _DT: "str", _FLOAT: "float", _BOOL: "bool",
               _JSON: "_Js"}  # fmt: skip


def _dec_hook(t: type, obj: Any) -> Any:
    return _Js(obj if isinstance(obj, str) else _ENC.encode(obj).decode())


def _enc_hook(obj: Any) -> Any:
    return str(obj)


_STRUCT_ENC = msgspec.json.Encoder(enc_hook=_enc_hook)
_NO_RAW = msgspec.Raw(b"")


def _struct_name(owner: str, is_class: bool) -> str:
    return f"_{'C' if is_class else 'O'}_{owner.replace('/', '__')}"  # (an extension's: win/reg_key)


@functools.cache
def _objects() -> None:
    """Every object's Struct, each named in this module (the classes' and objects' fields name them:
    the object graph has cycles, a process's parent process, resolved when a decoder is made)."""
    for name in ocsf()["objects"]:
        if name != "object":
            _struct(name, False)


def _struct(owner: str, is_class: bool, keep: frozenset[str] | None = None, prefix: str = "") -> type[msgspec.Struct]:
    """The Struct of a class or object: unknown keys refused, absent attributes left out of
    :func:`msgspec.to_builtins`' dicts. ``keep``/``prefix``: a narrow one (:class:`_Typed`), of these
    attributes alone, its objects' Structs named with ``prefix``."""
    fields: list[tuple[str, Any, Any]] = []
    for name, (kind, array, obj) in _attributes(owner, is_class).items():
        if keep is not None and name not in keep:
            continue
        if kind == _OBJ:
            t = prefix + _struct_name(obj, False)
        else:
            t = _ANNOTATION[kind]
        if array and kind != _JSON:
            t = f"list[{t}]"
        if is_class and name == "unmapped":  # (its JSON text as it came, the largest json_t of a record: not re-encoded)
            fields.append((name, msgspec.Raw, msgspec.field(default=_NO_RAW)))
            continue
        fields.append((name + "_" if keyword.iskeyword(name) else name, f"{t} | None", msgspec.field(default=None, name=name)))
    cls = msgspec.defstruct(prefix + _struct_name(owner, is_class), fields, module=__name__, omit_defaults=True,
                            forbid_unknown_fields=True, gc=False)  # fmt: skip
    globals()[cls.__name__] = cls
    _OWNERS[cls] = (owner, is_class)
    return cls


#: each Struct's class or object (:meth:`_Typed.learn`)
_OWNERS: dict[type, tuple[str, bool]] = {}


@functools.cache
def _decoder(cls: str) -> msgspec.json.Decoder[Any]:
    _objects()
    return msgspec.json.Decoder(_struct(cls, True), dec_hook=_dec_hook)


class _Typed:
    """A class's typed decode, narrow first: msgspec's cost grows with a Struct's field count (each
    absent attribute filled, and checked again on encode), so a record is read first by Structs of the
    attributes this class's records have had (declared in the same order, of the same types: the same
    Struct values and JSON), and by the whole class's when they refuse it (``ValidationError`` out of
    both: the walk). What a record the whole Struct takes has is learnt, and the narrow Structs made
    again, at most ``_BUILDS`` times a class; then the whole class's Structs alone (each build's Structs
    stay defined in this module: a few dozen a class). Always in the narrow one: the attributes
    :meth:`_Group.typed` reads or sets (``unmapped``, ``_DERIVED``)."""

    __slots__ = ("builds", "cls", "full", "lock", "narrow", "seen")

    def __init__(self, cls: str) -> None:
        self.cls = cls
        self.full = _decoder(cls).decode
        self.seen: dict[tuple[str, bool], set[str]] = {(cls, True): set(_DERIVED) | {"unmapped"}}
        self.builds = 0
        self.lock = threading.Lock()
        self.narrow = self._build()

    def decode(self, raw: bytes) -> Any:
        try:
            return self.narrow(raw)
        except msgspec.ValidationError:
            rec = self.full(raw)  # (ValidationError: the caller walks the record)
            if self.narrow is not self.full:
                with self.lock:  # (formats are shared by threads)
                    if self.learn(rec):
                        self.narrow = self._build()
            return rec

    def learn(self, rec: msgspec.Struct) -> bool:
        """Add the attributes ``rec`` has, at any depth, to :attr:`seen`; whether some were new."""
        grew = False
        todo = [rec]
        while todo:
            one = todo.pop()
            seen = self.seen.setdefault(_OWNERS[type(one)], set())
            for field, name in zip(one.__struct_fields__, one.__struct_encode_fields__, strict=True):
                v = getattr(one, field)
                if v is None or v is _NO_RAW:
                    continue
                if name not in seen:
                    seen.add(name)
                    grew = True
                if isinstance(v, msgspec.Struct):
                    todo.append(v)
                elif type(v) is list:
                    todo.extend(x for x in v if isinstance(x, msgspec.Struct))
        return grew

    def _build(self) -> Callable[[bytes], Any]:
        if self.builds >= _BUILDS:
            return self.full
        self.builds += 1
        _objects()
        prefix = f"_N{self.builds}_{self.cls.replace('/', '__')}"  # (a name: an extension's class is win/...)
        top = None
        for (owner, is_class), names in self.seen.items():
            made = _struct(owner, is_class, frozenset(names), prefix)
            if is_class:
                top = made
        for (owner, is_class), names in list(self.seen.items()):  # (an object seen only as [] holds no attribute)
            for name in names:
                obj = _attributes(owner, is_class)[name][2]
                if obj and (obj, False) not in self.seen:
                    self.seen[obj, False] = set()
                    _struct(obj, False, frozenset(), prefix)
        return msgspec.json.Decoder(top, dec_hook=_dec_hook).decode


#: how many times a class's narrow Structs are made (see :class:`_Typed`)
_BUILDS = 8


@functools.cache
def _typed(cls: str) -> _Typed:
    return _Typed(cls)


class _Group:
    """One class's records of a batch: each as it came, and re-encoded with its OCSF attributes alone;
    by row, what the walk could not keep (with the record's own ``unmapped`` object)."""

    __slots__ = ("aside", "lines", "locs", "raws", "unmapped")

    def __init__(self) -> None:
        self.raws: list[bytes] = []
        self.locs: list[tuple[str, int]] = []
        self.lines: list[bytes] = []
        self.unmapped: list[bytes | None] = []  # the record's own unmapped (JSON text)
        self.aside: dict[int, dict[str, Any]] = {}

    def typed(self, raw: bytes, loc: tuple[str, int], rec: Any, enc: Callable[[Any], bytes]) -> None:
        """A record the typed decode read: its own ``unmapped`` taken as it came, the rest re-encoded."""
        own = rec.unmapped
        if own is not _NO_RAW:
            rec.unmapped = _NO_RAW
        # the attributes secpipe derives (_DERIVED; time_dt when there is a time) are not encoded for Arrow's read
        rec.class_uid = rec.category_uid = rec.type_uid = rec.class_name = rec.category_name = rec.activity_name = None
        rec.type_name = rec.severity = rec.raw_data = None
        if rec.time is not None:
            rec.time_dt = None
        self.raws.append(raw)
        self.locs.append(loc)
        self.lines.append(enc(rec))
        self.unmapped.append(None if own is _NO_RAW or (text := bytes(own)) == b"null" else text)


class _Head(msgspec.Struct, gc=False):
    class_uid: Any = None


_HEAD = msgspec.json.Decoder(_Head)


class OcsfJson(RecordFormat):
    """OCSF events as JSON (Prowler json-ocsf, Security Lake exports, Cribl/Tenzir OCSF output)."""

    name = "ocsf"
    description = ("OCSF events as JSON (Prowler json-ocsf, Amazon Security Lake exports, Cribl/Tenzir OCSF output) "
                   "-> the class each record's class_uid names, OCSF 1.8.0")  # fmt: skip
    product = "OCSF"
    vendor = ""

    def sniff(self, head: bytes) -> int:
        """Recognize an integer ``class_uid`` beside ``metadata`` and an OCSF id in the head."""
        h = head[:65536]
        if h.lstrip()[:1] not in (b"{", b"[") or not _CLASS.search(h):
            return 0
        return 88 if b'"metadata"' in h and _IDS.search(h) else 0

    def map_records(self, recs: Records) -> Decoded:
        """Map records, one batch a class."""
        with paused_gc():
            return self._map(recs)

    def _map(self, recs: Records) -> Decoded:
        out = Decoded(dead=list(recs.dead), events=recs.events)
        groups: dict[str, _Group] = {}
        enc = _STRUCT_ENC.encode
        cur: tuple[Any, int, _Group] | None = None  # (typed decoder, class_uid, group) of the last record
        cls, pre = _native(recs.raws)  # (the first record's class's records read at once natively)
        all_read = pre is not None and None not in pre  # every record read natively (a document of one class)
        if pre is not None:
            first = groups[cls] = _Group()
            if all_read:  # taken at once, not record by record below
                first.raws, first.locs = list(recs.raws), list(recs.locs)
                read = cast("list[tuple[bytes, bytes | None]]", pre)  # (no None in it)
                first.lines, first.unmapped = [line for line, _own in read], [own for _line, own in read]
        for k, (raw, (src, off)) in enumerate(zip(recs.raws, recs.locs, strict=True)):
            if all_read:
                break
            if pre is not None and (line := pre[k]) is not None:
                first.raws.append(raw)
                first.locs.append((src, off))
                first.lines.append(line[0])
                first.unmapped.append(line[1])
                continue
            if cur is not None:  # a record of the last one's class, of OCSF's keys and types: read once, in C
                try:
                    got = cur[0](raw)
                except msgspec.ValidationError:
                    got = None
                if got is not None and got.class_uid == cur[1]:
                    cur[2].typed(raw, (src, off), got, enc)
                    continue
            try:
                cuid = _HEAD.decode(raw).class_uid
            except msgspec.DecodeError:  # (not an object: the split gives JSON values only)
                cuid = None
            if type(cuid) is not int:
                why = "not a JSON object" if raw[:1] != b"{" else "no integer class_uid"
                out.dead.append(DeadLetter(f"not an OCSF event: {why}", src, off, raw, self.name))
                continue
            try:
                cls = _class(cuid)
            except SchemaError:
                out.dead.append(DeadLetter(f"not an OCSF event: class_uid {cuid} is not a class of OCSF 1.8.0", src, off,
                                           raw, self.name))  # fmt: skip
                continue
            group = groups.get(cls) or groups.setdefault(cls, _Group())
            dec = _typed(cls).decode
            cur = (dec, cuid, group)
            try:
                got = dec(raw)
            except msgspec.ValidationError:  # another key or type somewhere: walked, what it cannot keep aside
                try:
                    whole = _DEC.decode(raw)
                except (*UNREADABLE, msgspec.ValidationError) as exc:  # a number past 64 bits: no OCSF value
                    out.dead.append(DeadLetter(f"not an OCSF event: {exc}", src, off, raw, self.name))
                    continue
                extra: dict[str, Any] = {}
                rec = _walked(cls, whole, extra)
                rec.pop("unmapped", None)
                own = whole.get("unmapped")
                if extra:
                    group.aside[len(group.raws)] = {**(own if isinstance(own, dict) else {} if own is None else
                                                       {"unmapped": own}), **extra}  # fmt: skip
                group.raws.append(raw)
                group.locs.append((src, off))
                group.lines.append(enc(rec))
                group.unmapped.append(None if own is None else _ENC.encode(own))
            else:
                group.typed(raw, (src, off), got, enc)
        for cls, group in groups.items():
            if not group.raws:  # (its records all dead-lettered)
                continue
            try:
                out.batches.append(self._batch(cls, group))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, SchemaError):
                out.extend(self._apart(cls, group))
        return out

    def _apart(self, cls: str, group: _Group) -> Decoded:
        """A class's records Arrow could not read together (a value of two types at one path): each
        read alone, the one that still fails dead-lettered with the reason."""
        out = Decoded()
        for i, raw in enumerate(group.raws):
            one = _Group()
            one.raws, one.lines, one.unmapped, one.locs = [raw], [group.lines[i]], [group.unmapped[i]], [group.locs[i]]
            if i in group.aside:
                one.aside[0] = group.aside[i]
            try:
                out.batches.append(self._batch(cls, one))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, SchemaError) as exc:
                src, off = group.locs[i]
                out.dead.append(DeadLetter(f"not an OCSF event: {exc}", src, off, raw, self.name))
        return out

    def _batch(self, cls: str, group: _Group) -> pa.RecordBatch:
        """One class's records, re-encoded with their OCSF attributes alone, read by Arrow's JSON reader."""
        raws, lines, aside = group.raws, group.lines, group.aside
        top = {name: _times(col, cls, True, name) for name, col in _read(lines, cls).items()
               if name not in _DERIVED or name in ("time", "time_dt")}
        meta: dict[str, pa.Array] = {}
        if "metadata" in top:
            _struct_leaves(top.pop("metadata"), "metadata.", meta)
        if "metadata.version" in meta and "metadata.log_version" not in meta:
            meta["metadata.log_version"] = meta["metadata.version"]
        n = len(raws)
        times = _coalesced(top.get("time"), top.get("time_dt"))  # a record's time, else its time_dt
        cols = base_columns(cls, kind=self.name, product="", vendor=None, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()) if times is None else times.cast(pa.int64()), raws=raw_data(raws),
                            activity_id=_ids(top.get("activity_id"), n), severity_id=_ids(top.get("severity_id"), n))  # fmt: skip
        del cols["metadata.product.name"], cols["metadata.product.vendor_name"]  # (the record's own, below)
        own = group.unmapped
        for k in ("metadata.uid", "metadata.log_name"):  # (secpipe's own; the record's kept in unmapped)
            got = meta.pop(k, None)
            if got is not None and got.null_count < n:
                own = list(own)
                key, enc = _ENC.encode(k), _ENC.encode
                head = b"{" + key + b":"  # (a row without its own unmapped: _with's first case, without the call)
                for i, v in enumerate(got.to_pylist()):
                    if v is None:
                        continue
                    if i in aside:
                        aside[i][k] = v
                    else:
                        text = own[i]
                        own[i] = head + enc(v) + b"}" if text is None else _with(text, key, enc(v))
        cols.update({k: v for k, v in meta.items() if k not in _SKIP})
        cols.update({k: v for k, v in top.items() if k not in _DERIVED and k not in _SKIP})
        if aside:
            own = list(own)
            for i, x in aside.items():
                own[i] = _ENC.encode(x)
        if any(u is not None for u in own):
            cols["unmapped"] = string_column(own, checked=True)
        return to_batch(cls, cols)


def _read(lines: list[bytes], cls: str) -> dict[str, pa.Array]:
    """The re-encoded records' columns, without what Arrow's reader types from no value (:func:`_pruned`):
    read natively (:func:`_fast.json_rows`: ~1.5 ms per 1000 records where Arrow's reader takes ~5-9),
    else by Arrow's JSON reader. Arrow's reader makes any ISO-8601-like string a timestamp: where it did
    so in an attribute that is not a date-time the batch is read again with its times as the texts they
    are (a string attribute's ``2024-01-02T03:04:05Z`` was stored as ``2024-01-02 03:04:05``); a
    date-time's is its time either way (:func:`_times`)."""
    got = _fast.json_rows(lines)
    if got is not None:
        return got
    data = b"\n".join(lines)
    options = pj.ReadOptions(block_size=len(data) + 64)
    table = pj.read_json(io.BytesIO(data), read_options=options)
    attrs = _attributes(cls, True)
    if any((a := attrs.get(f.name)) is not None and _misread(a[0], a[2], f.type) for f in table.schema):
        texts = pa.schema([f.with_type(_texts(f.type)) for f in table.schema])
        table = pj.read_json(io.BytesIO(data), read_options=options, parse_options=pj.ParseOptions(explicit_schema=texts))
    return {name: col for name in table.column_names if (col := _pruned(table.column(name).combine_chunks())) is not None}


def _misread(kind: int, obj: str, t: pa.DataType) -> bool:
    """Whether Arrow's reader took a text for a time in a column of an attribute of ``kind`` (``obj``: its
    object), of Arrow type ``t``, at some depth, where the attribute is not a date-time."""
    if pa.types.is_list(t):
        t = t.value_type
    if pa.types.is_timestamp(t):
        return kind != _DT
    if kind != _OBJ or not pa.types.is_struct(t):
        return False
    attrs = _attributes(obj, False)
    return any((a := attrs.get(f.name)) is not None and _misread(a[0], a[2], f.type) for f in t)


def _texts(t: pa.DataType) -> pa.DataType:
    """``t`` with each timestamp a string."""
    if pa.types.is_timestamp(t):
        return pa.string()
    if pa.types.is_list(t):
        return pa.list_(_texts(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_texts(f.type)) for f in t])
    return t


def _native(raws: list[bytes]) -> tuple[str, list[tuple[bytes, bytes | None] | None] | None]:
    """The class of the first record and, by the native walk (:func:`_fast.ocsf_lines`), what
    :meth:`_Group.typed` makes of each record of it (its line and own ``unmapped``; None for one the
    walk declines, which the typed decode or the walk reads as before); None without the extension."""
    cls, cuid = "", 0
    try:
        got = _HEAD.decode(raws[0]).class_uid if raws else None
        if type(got) is int:
            cls, cuid = _class(got), got
    except (msgspec.DecodeError, SchemaError):
        cls = ""
    return cls, (_fast.ocsf_lines(_tree(cls), raws, cuid) if cls else None)


#: roles of a class's attributes in the native walk (``native/src/ocsf_lines.rs``; _DERIVED's others: checked, not written)
_ROLES = {"unmapped": 2, "time_dt": 3, "time": 4, "class_uid": 5}


def _tree(cls: str) -> Any:
    """The class's attribute tables and its objects' (0: the class), for the native walk (None without it:
    not remembered, so a process that turns the extension on later uses it)."""
    tree = _TREES.get(cls)
    if tree is None:
        tree = _fast.ocsf_tree(functools.partial(_tables, cls))
        if tree is not None:
            _TREES[cls] = tree
    return tree


#: each class's tables for the native walk (:func:`_tree`)
_TREES: dict[str, Any] = {}


def _tables(cls: str) -> list[list[tuple[bytes, int, bool, int, int]]]:
    """The tables :func:`_fast.ocsf_tree` takes: per object, its attributes as (name, kind, is_array,
    object index or -1, role)."""
    index = {(cls, True): 0}
    order = [(cls, True)]
    specs = []
    for owner, is_class in order:  # (grows as objects are found)
        attrs = []
        for name, (kind, array, obj) in _attributes(owner, is_class).items():
            child = -1
            if kind == _OBJ:
                child = index.setdefault((obj, False), len(order))
                if child == len(order):
                    order.append((obj, False))
            role = _ROLES.get(name, 1 if name in _DERIVED else 0) if is_class else 0
            attrs.append((name.encode(), kind, array, child, role))
        specs.append(attrs)
    return specs


def _with(text: bytes | None, key: bytes, value: bytes) -> bytes:
    """A row's own ``unmapped`` JSON text with one more member (``key`` and ``value`` JSON texts): spliced
    into an object that lacks it, else decoded and merged (a value not an object kept under ``unmapped``)."""
    if text is None:
        return b"{" + key + b":" + value + b"}"
    if text[:1] == b"{" and key not in text:
        return text[:-1] + (b"," if text != b"{}" else b"") + key + b":" + value + b"}"
    got = _DEC.decode(text)
    merged = got if isinstance(got, dict) else {"unmapped": got}
    merged[_DEC.decode(key)] = _DEC.decode(value)
    return _ENC.encode(merged)


def _coalesced(time: pa.Array | None, time_dt: pa.Array | None) -> pa.Array | None:
    """Each record's ``time`` (ms), else its ``time_dt``'s; None when the batch has neither."""
    if time is None or time_dt is None:
        return time if time_dt is None else time_dt
    return pc.coalesce(time.cast(pa.int64()), time_dt.cast(pa.int64()))


def _times(arr: pa.Array, owner: str, is_class: bool, name: str) -> pa.Array:
    """Attribute ``name`` of ``owner``'s column with its timestamps in ms (an epoch number in seconds,
    as every secpipe format reads one: ``base.epoch_ms``) and its date-times' texts read, at any depth."""
    kind, _array, obj = _attributes(owner, is_class)[name]
    t = arr.type
    if kind == _TS and pa.types.is_integer(t):
        return pc.if_else(pc.less(pc.abs(arr), _SECONDS), pc.multiply(arr, 1000), arr)
    if kind == _TS and pa.types.is_list(t) and pa.types.is_integer(t.value_type):
        return pa.ListArray.from_arrays(_offsets(arr), _times(_values(arr), owner, is_class, name), mask=arr.is_null())
    if kind == _DT and pa.types.is_string(t):
        return _datetimes(arr)
    if kind == _DT and pa.types.is_timestamp(t):  # (Arrow's reader took a zoned text for a time)
        return arr.cast(pa.timestamp("ms")).cast(pa.int64())
    if kind != _OBJ or not _has_times(obj):
        return arr
    if pa.types.is_list(t) and pa.types.is_struct(t.value_type):
        return pa.ListArray.from_arrays(_offsets(arr), _times(_values(arr), owner, is_class, name), mask=arr.is_null())
    if pa.types.is_struct(t):
        children = [_times(c, obj, False, f.name) if f.name in _attributes(obj, False) else c
                    for f, c in zip(t, arr.flatten(), strict=True)]  # fmt: skip
        return pa.StructArray.from_arrays(children, names=[f.name for f in t], mask=arr.is_null())
    return arr


def _datetimes(arr: pa.Array) -> pa.Array:
    """:func:`~secpipe.formats.base.parse_times` of a date-time column. One whose texts carry no zone
    (Prowler's ``2024-12-30T15:00:00.000000``, UTC) is read by one cast: ``parse_times`` tries the zoned
    cast first and then sorts the values by a regex (~1.2 ms a 1000 values, the cast ~40 us). The cast
    refuses a zoned text, so it succeeds only where every text is naive, and then gives what
    ``parse_times`` does (its naive cast of them, UTC); a refused column takes ``parse_times``."""
    if arr.null_count < len(arr):
        first = (arr if not arr.null_count else arr.drop_null())[0].as_py()
        if not _ZONE_AT_END(first):
            try:
                return _cast_ms(arr, _NAIVE)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
    return parse_times(arr)


#: a zone at a text's end, as ``parse_times`` finds one (a column starting with one takes it directly)
_ZONE_AT_END = re.compile(r"(?:[zZ]|[+-]\d\d(?::?\d\d)?)\Z", re.ASCII).search
_NAIVE = pa.timestamp("ns")


def _pruned(arr: pa.Array) -> pa.Array | None:
    """``arr`` without what Arrow's reader could type from no value (an empty array, of objects or not:
    ``list<null>``), at any depth; None when nothing is left. An empty array is an absent attribute."""
    t = arr.type
    if pa.types.is_null(t) or (pa.types.is_list(t) and pa.types.is_null(t.value_type)):
        return None
    if pa.types.is_list(t) and pa.types.is_struct(t.value_type):
        values = _pruned(_values(arr))
        return None if values is None else pa.ListArray.from_arrays(_offsets(arr), values, mask=arr.is_null())
    if not pa.types.is_struct(t) or not any(_hollow(f.type) for f in t):
        return arr
    kept = [(f.name, p) for f, c in zip(t, arr.flatten(), strict=True) if (p := _pruned(c)) is not None]
    if not kept:
        return None
    return pa.StructArray.from_arrays([c for _, c in kept], names=[n for n, _ in kept], mask=arr.is_null())


def _hollow(t: pa.DataType) -> bool:
    """Whether a type holds a ``null`` or ``list<null>`` somewhere (what :func:`_pruned` takes away)."""
    if pa.types.is_null(t):
        return True
    if pa.types.is_list(t):
        return _hollow(t.value_type)
    return pa.types.is_struct(t) and any(_hollow(f.type) for f in t)


def _values(arr: pa.ListArray) -> pa.Array:
    """A list column's items in row order (what its offsets from :func:`_offsets` index)."""
    return arr.flatten()


def _offsets(arr: pa.ListArray) -> pa.Array:
    """Offsets of :func:`_values` (from 0, without the items of null rows)."""
    lens = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    return pa.array(np.concatenate(([0], np.cumsum(lens))), pa.int32())


_SECONDS = pa.scalar(10_000_000_000, pa.int64())


@functools.cache
def _has_times(owner: str) -> bool:
    """Whether an object holds a timestamp or date-time at some depth (its columns need :func:`_times`)."""
    seen, todo = {owner}, [owner]
    while todo:
        for kind, _array, obj in _attributes(todo.pop(), False).values():
            if kind in (_TS, _DT):
                return True
            if kind == _OBJ and obj not in seen:
                seen.add(obj)
                todo.append(obj)
    return False


def _struct_leaves(arr: pa.Array, prefix: str, out: dict[str, pa.Array]) -> None:
    """A struct column's leaves (lists included) as dotted paths, each null where its parent is."""
    for f, child in zip(arr.type, arr.flatten(), strict=True):
        if pa.types.is_struct(f.type):
            _struct_leaves(child, f"{prefix}{f.name}.", out)
        else:
            out[prefix + f.name] = child


def _ids(col: pa.Array | None, n: int) -> pa.Array:
    """An id column (activity_id, severity_id): 0 (Unknown) where the record gives none."""
    return pa.array([0] * n, pa.int32()) if col is None else pc.fill_null(col.cast(pa.int32()), 0)


@functools.cache
def _class(cuid: int) -> str:
    return class_name_of(cuid)


_CLASS = re.compile(rb'"class_uid"\s*:\s*\d+\s*[,}\n]')
_IDS = re.compile(rb'"(?:category_uid|type_uid|activity_id)"\s*:\s*\d')

__all__ = ["OcsfJson"]
