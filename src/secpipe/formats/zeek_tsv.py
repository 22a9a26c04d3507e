"""Zeek's TSV logs (the default ASCII writer), read as the Zeek JSON records the ``json`` format maps.

Zeek writes each log (``conn``, ``dns``, ``http``, ``ssl``, ``files``, ``notice``, ``weird``,
``x509``...) as tab-separated values by default, under a header that describes the columns::

    #separator \\x09
    #set_separator	,
    #empty_field	(empty)
    #unset_field	-
    #path	conn
    #open	2019-11-08-11-44-16
    #fields	ts	uid	id.orig_h	id.orig_p	...
    #types	time	string	addr	port	...
    1521911721.255387	C8Tful1TvM3Zf5x8fl	10.164.94.120	39681	...
    #close	2019-11-08-11-44-16

With ``LogAscii::use_json`` the same rows are JSON objects, which the ``json`` format stores and
SigmaHQ's ``product: zeek`` rules read. Each row here becomes that JSON record and is stored as the
``json`` format stores it (:meth:`secpipe.formats.generic_json.GenericJSON.map_records`): the same
rows, the same Sigma fields, as the log written as JSON. The JSON writer's rules, by ``#types``: the dotted
column names are the keys (``id.orig_h``); an unset value (``#unset_field``, ``-``) is no key;
``count`` / ``int`` / ``port`` are integers, ``time`` (epoch seconds; the ISO-8601 text
``zeek-cut -d`` / ``-u`` puts there stays text, read as the time all the same), ``interval`` and ``double``
numbers, ``bool`` (``T`` / ``F``) true / false, ``set[T]`` / ``vector[T]`` / ``table[T]`` arrays of
their elements split at ``#set_separator`` (``#empty_field`` the empty array), every other type
(``string``, ``addr``, ``subnet``, ``enum``...) a string, ``#empty_field`` the empty string. The
writer escapes non-printable bytes and the separators as ``\\xHH``: they are unescaped, and the
bytes read as UTF-8 (an invalid byte kept as ``\\xHH``, as the JSON writer writes it). The log's
``#path`` is the record's ``_path`` key (as Corelight sensors and Security Onion write it), so
``conn`` and ``dns`` rows stay told apart, and each log is stored as its OCSF class (conn Network
Activity, dns DNS Activity, http HTTP Activity...: :mod:`._zeek_classes`, straight from the rows, their
JSON not decoded again; the rows of other logs by the ``json`` format itself).

Framing: header lines may come again anywhere (``cat conn.log dns.log``, a rotated file appended):
each ``#fields`` / ``#types`` pair types the rows after it. A row with another number of values
than its ``#fields`` names, a value its type cannot be (``count`` ``abc``), or a row before any
``#fields`` is dead-lettered alone with the reason; its neighbours are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _zeek_classes
from secpipe.formats.base import (
    BOM,
    DeadLetter,
    Decoded,
    Format,
    Records,
    event_uids,
    parse_times,
    string_column,
)
from secpipe.formats.generic_json import GenericJSON

#: a Zeek ASCII log's first header line (``#separator \x09``, or the character itself)
_HEAD = re.compile(rb"#separator[ \t](?:\\x[0-9a-fA-F]{2}|[^\r\n])+\r?\n")
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_INTS = frozenset({"count", "int", "port", "counter"})
_FLOATS = frozenset({"interval", "double"})
_ISO = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?$")
_CONTAINER = re.compile(r"(?:set|vector|table)\[(\w+)\]")
#: the json format's mapping, which stores the records
_JSON = GenericJSON()

Convert = Callable[[bytes], Any]


class ZeekTSV(Format):
    """Zeek logs written by the ASCII writer as tab-separated values (its default)."""

    name = "zeek_tsv"
    description = "Zeek TSV logs (conn, dns, http, ssl, files, notice...) -> the json format's Zeek JSON records"
    product = "Zeek"
    vendor = "Zeek"

    def sniff(self, head: bytes) -> int:
        """High for a head that opens with the writer's ``#separator`` line and has ``#fields``."""
        head = head.removeprefix(BOM)
        return 90 if _HEAD.match(head) and b"\n#fields" in head[:8192] else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Each row as its Zeek JSON record, mapped by the ``json`` format."""
        recs = Records()
        header = _Header()
        rows: list[dict[str, Any]] = []
        for i, line in enumerate(data.removeprefix(BOM).split(b"\n")):
            line = line.removesuffix(b"\r")
            if not line:
                continue
            if line[:1] == b"#" and header.directive(line):
                continue
            recs.events += 1
            try:
                row = header.record(line)
                recs.raws.append(msgspec.json.encode(row))
                recs.locs.append((source, i))
                rows.append(row)
            except ValueError as exc:
                recs.dead.append(DeadLetter(f"Zeek TSV log line {i + 1}: {exc}", source, i, line, self.name))
        return _mapped(recs, rows)


def _mapped(recs: Records, rows: list[dict[str, Any]]) -> Decoded:
    """The rows as the ``json`` format stores their JSON records: the logs :mod:`._zeek_classes` maps
    as their classes straight from the rows (their time ``ts``, the records not decoded again), the
    others by the json format itself."""
    out = Decoded(dead=recs.dead, events=recs.events)
    if not rows:
        return out
    text = string_column(recs.raws, checked=True)  # msgspec's JSON of text read as UTF-8
    cols = {"metadata.uid": event_uids(_JSON.name, recs.raws), "message": pa.array([_message(r) for r in rows], pa.string()),
            "unmapped": text, "raw_data": text}
    taken = _zeek_classes.mapped(rows, range(len(rows)), cols, _times(rows), _JSON.name, out)
    if not taken.all():  # rows of the logs stored as Base Events
        rest = np.flatnonzero(~taken).tolist()
        base = _JSON.map_records(Records(raws=[recs.raws[i] for i in rest], locs=[recs.locs[i] for i in rest]),
                                 [rows[i] for i in rest])
        out.batches.extend(base.batches)
        out.dead.extend(base.dead)
    return out


def _message(row: dict[str, Any]) -> str | None:
    """The json format's message of a Zeek record (its ``message``, else ``msg``: a notice's)."""
    for key in ("message", "msg"):
        v = row.get(key)
        if isinstance(v, str):
            return v
    return None


def _times(rows: list[dict[str, Any]]) -> pa.Array:
    """Each row's ``ts`` as epoch ms (the ISO-8601 text of ``zeek-cut -d`` read as the json format reads it)."""
    ts = [r.get("ts") for r in rows]
    seconds = np.array([v if v.__class__ is float else np.nan for v in ts], np.float64)
    missing = np.isnan(seconds)
    times = pa.array(np.where(missing, 0, seconds * 1000).astype(np.int64), pa.int64(), mask=missing)
    if missing.any():
        times = pc.coalesce(times, parse_times(pa.array([v if isinstance(v, str) else None for v in ts], pa.string())))
    return times


class _Header:
    """The header in force: separators, the log's path, and each column's name and converter."""

    def __init__(self) -> None:
        self.sep, self.set_sep, self.empty, self.unset = b"\t", b",", b"(empty)", b"-"
        self.path: str | None = None
        self.names: list[str] = []
        self.types: list[str] = []
        self.columns: list[tuple[str, str, Convert]] = []

    def directive(self, line: bytes) -> bool:
        """Take a header line (``#separator``, ``#fields``...) into the header; False for a row
        that merely starts with ``#``."""
        if line.startswith(b"#separator"):
            self.sep = _unescape(line[len(b"#separator") + 1:])
            return True
        key, _, value = line[1:].partition(self.sep)
        if key == b"set_separator":
            self.set_sep = _unescape(value)
        elif key == b"empty_field":
            self.empty = value
        elif key == b"unset_field":
            self.unset = value
        elif key == b"path":
            self.path = _text(value)
        elif key == b"fields":
            self.names, self.types = [_text(v) for v in value.split(self.sep)], []
            self._typed()
        elif key == b"types":
            self.types = [_text(v) for v in value.split(self.sep)]
            self._typed()
        elif key not in (b"open", b"close", b"start", b"end"):
            return False
        return True

    def _typed(self) -> None:
        """Columns of the ``#fields`` names with their ``#types`` (all strings until they come)."""
        types = self.types if len(self.types) == len(self.names) else ["string"] * len(self.names)
        self.columns = [(n, t, self._convert(t)) for n, t in zip(self.names, types, strict=True)]

    def _convert(self, type_: str) -> Convert:
        """The converter of a value of Zeek type ``type_`` to its JSON value."""
        inner = _CONTAINER.fullmatch(type_)
        if inner is None:
            return _scalar(type_, self.empty)
        element = _scalar(inner[1], b"")
        empty, set_sep, unset = self.empty, self.set_sep, self.unset

        def container(v: bytes) -> list[Any]:
            if v == empty:
                return []
            return [None if e == unset else element(e) for e in v.split(set_sep)]

        return container

    def record(self, line: bytes) -> dict[str, Any]:
        """The JSON record of one row."""
        if not self.columns:
            msg = "a row before the log's #fields header (no column names)"
            raise ValueError(msg)
        values = line.split(self.sep)
        if len(values) != len(self.columns):
            msg = f"{len(values)} values where #fields names {len(self.columns)}"
            raise ValueError(msg)
        out: dict[str, Any] = {} if self.path is None else {"_path": self.path}
        unset = self.unset
        for (name, type_, convert), v in zip(self.columns, values, strict=True):
            if v != unset:
                try:
                    out[name] = convert(v)
                except ValueError:
                    msg = f"{name}: {v[:64]!r} is no {type_}"
                    raise ValueError(msg) from None
        return out

def _scalar(type_: str, empty: bytes) -> Convert:
    """The converter of a value of the scalar Zeek type ``type_``."""
    if type_ in _INTS:
        return int
    if type_ == "time":
        return _time
    if type_ in _FLOATS:
        return float
    if type_ == "bool":
        return _bool

    def text(v: bytes) -> str:
        if v == empty:
            return ""
        return _text(v) if b"\\x" in v else v.decode("utf-8", "backslashreplace")

    return text


def _time(v: bytes) -> float | str:
    """A ``time``: epoch seconds, or the ISO-8601 text ``zeek-cut -d`` / ``-u`` writes in its place
    (``2018-03-24T17:15:21+0000``: kept as text, which the ``json`` format reads as the time)."""
    try:
        return float(v)
    except ValueError:
        if _ISO.match(v) is None:
            raise
        return v.decode()


def _bool(v: bytes) -> bool:
    if v in (b"T", b"F"):
        return v == b"T"
    msg = "not T or F"
    raise ValueError(msg)


def _unescape(v: bytes) -> bytes:
    """``v`` with the writer's ``\\xHH`` escapes as their bytes."""
    return _ESCAPE.sub(lambda m: bytes.fromhex(m[1].decode()), v) if b"\\x" in v else v


def _text(v: bytes) -> str:
    """An escaped value as text: UTF-8, an invalid byte written ``\\xHH`` as Zeek's JSON writer does."""
    return _unescape(v).decode("utf-8", "backslashreplace")
