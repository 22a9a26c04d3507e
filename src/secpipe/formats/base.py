"""Contracts every input format follows, and the shared columnar helpers.

A format turns one *document* (a file body, an HTTP body, a chunk of NDJSON lines) into
OCSF RecordBatches, one class per batch, plus dead letters for what it could not read:

    decode(data: bytes, source: str) -> Decoded

Guarantees a format gives: every record it reads is either in a batch or in ``dead`` with a
reason and its bytes (nothing silently dropped), ``metadata.uid`` is a stable hash of the
format kind and the record's canonical bytes (:func:`event_uids`), ``time`` comes from the
record (a record without one is dead-lettered, never stamped with "now"), and fields the
mapping does not place stay in ``unmapped`` and ``raw_data``.

``framing`` tells readers how a large input may be split before decoding: ``"lines"`` (any
run of whole lines is a valid document: NDJSON, syslog) or ``"document"`` (must be decoded
whole: a CloudTrail file, a scanner report).
"""

from __future__ import annotations

import abc
import datetime as dt
import decimal
import functools
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy
from secpipe.formats import _fast
from secpipe.formats._uids import event_uids as event_uids  # re-exported (identity lives in _uids)
from secpipe.formats._uids import uid_column as uid_column
from secpipe.formats._uids import uid_hasher as uid_hasher
from secpipe.formats._uids import uid_prefix as uid_prefix
from secpipe.schema.ocsf import (
    OCSF_VERSION,
    assemble,
    category_name,
    category_uid,
    class_caption,
    class_uid,
    enum_captions,
    keep,
    kept,
)

Framing = Literal["lines", "document"]

#: metadata.labels entry on an event whose source record carried no time of its own.
TIME_FROM_RECEIPT = "secpipe:time_from_receipt"
BOM = b"\xef\xbb\xbf"  # the UTF-8 byte-order mark


@dataclass(slots=True)
class DeadLetter:
    """A record or body that could not be turned into OCSF, with why and where."""

    reason: str
    source: str
    offset: int
    raw: bytes
    format: str = ""

    def __post_init__(self) -> None:
        if type(self.raw) is not bytes:  # a view of a record (msgspec.Raw, memoryview) is kept as its bytes
            self.raw = bytes(self.raw)


@dataclass(slots=True)
class Decoded:
    """What a format produced from one document."""

    batches: list[pa.RecordBatch] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    events: int = 0  # records read (stored + dead-lettered)

    def extend(self, other: Decoded) -> None:
        """Merge another result into this one."""
        self.batches.extend(other.batches)
        self.dead.extend(other.dead)
        self.events += other.events


class Format(abc.ABC):
    """Base class for input formats; subclasses set the class vars and implement decode."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    framing: ClassVar[Framing] = "document"
    product: ClassVar[str] = ""
    vendor: ClassVar[str] = ""
    #: True for formats that accept anything of a kind (generic JSON): auto-detection skips
    #: them unless asked (see ``formats.detect``).
    catch_all: ClassVar[bool] = False

    def sniff(self, head: bytes) -> int:
        """Confidence 0..100 that ``head`` (the first bytes of a document) is this format."""
        return 0

    def claim(self, head: bytes) -> int:
        """A catch-all format's confidence in a shape it reads specifically (0..100), what
        auto-detection asks it where it skips its :meth:`sniff` (``formats.detect``)."""
        return 0

    @abc.abstractmethod
    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document into OCSF batches and dead letters."""


_T = TypeVar("_T")


def decode_document(fmt: Format, data: bytes, source: str) -> Decoded:
    """``fmt.decode`` that never raises: a document nested deeper than msgspec can read
    (RecursionError), one that is not UTF-8 where the format reads it whole, or a decoder
    bug, dead-letters the whole document with the reason, so nothing accepted is lost and
    the rest of the input goes on.

    A body holding several JSON documents back to back (reports one a line, ``cat a.json
    b.json``, pretty-printed ones one after the other), which a format reading one document
    refuses as a whole ("trailing characters"), is decoded document by document
    (:func:`json_documents`): each is stored or dead-lettered on its own, as when it comes alone.
    Pretty-printed ones of which one is damaged (msgspec refuses the body at the damage) are cut
    where a printer begins each (:func:`_pretty_objects`), ones a line at the lines
    (:func:`_object_lines`), and read so, the damaged one dead-lettered alone.
    A document refused for a lone surrogate escape is read with U+FFFD in its place
    (:func:`lone_surrogates_mended`), alone or among others (the documents are then found in the
    mended text, which has the same length, and each taken from ``data``).
    """
    res, again = _mended_read(fmt, data, source)
    if again is not None and not _refused(again):
        return again
    if isinstance(res, Decoded) and len(res.dead) == 1 and not res.batches and not isinstance(fmt, RecordFormat):
        redo = again.dead[0] if again is not None and len(again.dead[0].raw) == len(data) else None
        whole, why = (data, res.dead[0].reason) if redo is None else (redo.raw, redo.reason)
        docs = _same_cuts(data, json_documents(whole)) if _TRAILING in why else []
        parts = (_object_lines(docs[-1]) or _pretty_objects(docs[-1].strip())) if docs else []
        if len(parts) > 1 and not _is_json(docs[-1]):  # the unreadable rest: documents one a line or pretty-printed, one damaged
            docs[-1:] = parts
        elif not docs and res.dead[0].raw == data and not _is_json(data):
            docs = _object_lines(data.removeprefix(BOM)) or _pretty_objects(data.removeprefix(BOM).strip())
        if len(docs) > 1:
            out = Decoded()
            for doc in docs:
                alone, mended = _mended_read(fmt, doc, source)
                out.extend(alone if mended is None or _refused(mended) else mended)
            return out
    return res


def _mended_read(fmt: Format, data: bytes, source: str) -> tuple[Decoded, Decoded | None]:
    """``fmt.decode`` of ``data`` (guarded), and, when it refused the whole document and that holds
    a lone surrogate escape, the decode of it with U+FFFD in the escape's place (else None)."""
    res = guarded(fmt, data, source, lambda: fmt.decode(data, source))
    if _refused(res) and res.dead[0].raw == data and (mended := lone_surrogates_mended(data)):
        return res, guarded(fmt, mended, source, lambda: fmt.decode(mended, source))
    return res, None


def _refused(d: Decoded) -> bool:
    """Whether ``d`` is one document refused whole (one dead letter, nothing stored)."""
    return len(d.dead) == 1 and not d.batches


def _same_cuts(data: bytes, pieces: list[bytes]) -> list[bytes]:
    """``data`` cut where ``pieces`` (of a text as long as ``data``, its documents) are cut."""
    if sum(map(len, pieces)) != len(data):
        return pieces
    out, at = [], 0
    for p in pieces:
        out.append(data[at : at + len(p)])
        at += len(p)
    return out


#: a \\uXXXX escape of a UTF-16 surrogate, with the backslashes before it (an even run escapes itself)
_SURROGATE_ESCAPE = re.compile(rb"(\\+)u[dD][89a-fA-F][0-9a-fA-F]{2}")
_REPLACEMENT = rb"\ufffd"  # U+FFFD as an escape: six bytes, as the escape it replaces
_HIGH = frozenset((b"8", b"9", b"a", b"b", b"A", b"B"))  # the third hex digit of a high surrogate (D800-DBFF)


def lone_surrogates_mended(data: bytes) -> bytes | None:
    """``data`` with each unpaired surrogate escape (``\\ud800`` not followed by a low one, a
    low one alone) replaced by ``\\ufffd``, or None when it has none.

    RFC 8259 §8.2 lets a JSON string hold an unpaired surrogate (JavaScript's JSON.stringify
    writes one for a string cut inside an emoji: Node producers such as the Snyk CLI); msgspec
    refuses the whole document for it, and an OCSF string must be UTF-8, which cannot hold it.
    The Unicode Standard's practice for an ill-formed code unit sequence (§3.9, U+FFFD
    substitution) is what Go's encoding/json applies when reading one. The escape keeps its
    length, so every byte offset (and record index) of the document stays where it was. A
    scan of the text on the path of a refused document only, never the hot path."""
    escapes = [m.end(1) - 1 for m in _SURROGATE_ESCAPE.finditer(data) if len(m.group(1)) % 2]
    if not escapes:
        return None
    lone: list[int] = []
    k = 0
    while k < len(escapes):
        at = escapes[k]
        if data[at + 3 : at + 4] in _HIGH and k + 1 < len(escapes) and escapes[k + 1] == at + 6 \
                and data[at + 9 : at + 10] not in _HIGH:  # fmt: skip
            k += 2  # a high and a low surrogate: one character
            continue
        lone.append(at)
        k += 1
    if not lone:
        return None
    out = bytearray(data)
    for at in lone:
        out[at : at + 6] = _REPLACEMENT
    return bytes(out)


_TRAILING = "trailing characters (byte "  # msgspec's reason for a second document after the first
_ANY_JSON = msgspec.json.Decoder(msgspec.Raw)  # one JSON value, passed over (not built)


def json_documents(data: bytes) -> list[bytes]:
    """The JSON documents of ``data`` when it holds more than one back to back (whitespace or
    nothing between them); ``[]`` when its first document does not end where a second begins.

    msgspec finds each boundary: passing over one value of the rest, it stops with "trailing
    characters (byte N)" where the next begins (N counts from 1, the whitespace between stays
    with the first). A rest that is not JSON ends the list as one piece (the format
    dead-letters it alone). A pass per document, on the path of a body its format refused
    (never the hot path); the stdlib's ``raw_decode`` would build every value of a report of
    hundreds of MB as Python objects.
    """
    out: list[bytes] = []
    rest = memoryview(data)
    while len(rest):
        try:
            _ANY_JSON.decode(rest)
        except RecursionError:  # nested deeper than msgspec reads: the last piece (dead-lettered as such)
            if not out:
                return []
            out.append(bytes(rest))
            break
        except msgspec.DecodeError as exc:
            text = str(exc)
            at = text.find(_TRAILING)
            if at < 0:  # not JSON: the last piece
                if not out:
                    return []
                out.append(bytes(rest))
                break
            end = int(text[at + len(_TRAILING) : text.index(")", at)]) - 1  # past the whitespace between
            out.append(bytes(rest[:end]))
            rest = rest[end:]
            continue
        out.append(bytes(rest))
        break
    return out


def not_utf8(data: bytes) -> str | None:
    """Why ``data`` is no JSON text (RFC 8259 section 8.1: JSON exchanged is UTF-8), or None when it
    is UTF-8 (an ASCII body is told in one pass without a copy)."""
    if data.isascii():
        return None
    try:
        data.decode()
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 at byte {bad.start} (a JSON document must be UTF-8, RFC 8259)"
    return None


def guarded(fmt: Format, data: bytes, source: str, run: Callable[[], _T]) -> _T | Decoded:
    """``run()`` (decoding or splitting ``data``), with :func:`decode_document`'s guarantee:
    what it raises becomes a :class:`Decoded` dead-lettering the whole of ``data`` with the reason."""
    try:
        return run()
    except RecursionError:
        reason = "invalid JSON: nested too deeply"
    except Exception as exc:  # a decoder bug must not lose the body
        why = not_utf8(data)
        if why is not None:  # what the decoder tripped on: say so, no stack trace
            reason = why
        else:
            import logging  # here: only a decoder bug logs (~3 ms of start-up otherwise)

            logging.getLogger("secpipe.formats").exception("decoder %s failed on %s", fmt.name, source)
            reason = f"decoder error: {type(exc).__name__}: {exc}"
    return Decoded(dead=[DeadLetter(reason, source, 0, data, fmt.name)], events=1)


def split_guarded(fmt: RecordFormat, data: bytes, source: str) -> Records:
    """``fmt.split_records`` that never raises (as :func:`decode_document`): what it raises
    dead-letters the whole of ``data`` with the reason instead."""
    res = guarded(fmt, data, source, lambda: fmt.split_records(data, source))
    return res if isinstance(res, Records) else Records(dead=res.dead, events=res.events)


# ---------------------------------------------------------------------------------------
# Record splitting
# ---------------------------------------------------------------------------------------

_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


class _Envelope(msgspec.Struct):
    Records: list[msgspec.Raw] | None = None
    items: list[msgspec.Raw] | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def split_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Non-blank lines of ``data`` with their byte offsets (``\\r\\n`` tolerated)."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    for line in data.split(b"\n"):
        stripped = line.strip()
        if stripped:
            out.append((pos, stripped))
        pos += len(line) + 1
    return out


#: what msgspec raises for input it cannot read: malformed JSON, nesting deeper than the
#: interpreter's recursion limit (RecursionError), or a string that is not UTF-8 where msgspec
#: decodes it to a Python str (UnicodeDecodeError: ``{"title": "caf\xc0"}``); a document must never crash the ingest
UNREADABLE = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)


def _compact(data: bytes) -> bytes:
    """Whitespace-free JSON (msgspec, one C pass); the input unchanged if it is not JSON."""
    try:
        return msgspec.json.format(data, indent=-1)
    except UNREADABLE:
        return data


def split_json_records(
    data: bytes, source: str, fmt: str, envelope: str | None = None
) -> tuple[list[bytes], list[int], list[DeadLetter]]:
    """Split a JSON document into raw records: envelope key, array, one object, NDJSON, or
    objects pretty-printed back to back (``jq '.Records[]'`` output).

    Records come back canonical (compact, whitespace-free JSON: the same event pretty-printed
    or compact gives the same bytes, hence the same ``metadata.uid``); ``raw_data`` keeps
    this form. Returns (records, offsets, dead): offsets are byte offsets for NDJSON lines
    and record indexes for arrays and envelopes. Invalid JSON is dead-lettered.
    """
    if data[:3] == BOM:  # RFC 8259 lets a parser ignore it; spaces keep every offset where it was
        data = b"   " + data[3:]
    text = data.lstrip()
    dead: list[DeadLetter] = []
    if not text:
        return [], [], []
    if text[:1] in (b"[", b"{"):
        # a compact array or envelope document is checked and split in one native pass, no formatting
        if text[:1] == b"[":
            items = _fast.split_array(text)
            if items is None and (doc := _fast.compact_doc(text, "")) is not None:
                items = doc[1]  # a pretty-printed array: checked, compacted and split in one native pass
        elif envelope:
            items = _fast.split_envelope(text, envelope, strict=True)
        else:
            items = None
        if items is not None:
            idx = list(range(len(items)))
            return (items, idx, dead) if text.isascii() else _utf8_only(items, idx, dead, source, fmt)
        compact = _compact(text)
        # (the search for an escape natively: CPython's ``in`` took ~2 ms a 3 MB NDJSON document, which fails here
        # for its second line and not for a surrogate: more than half of its split)
        if compact is text and _fast.contains_any(text, (b"\\u",)) and (mended := lone_surrogates_mended(text)) is not None \
                and _is_json(mended):  # fmt: skip
            # refused for a lone surrogate escape alone: read with U+FFFD in its place, as decode_document reads a
            # document (a record holding one is still stored: no field's value can keep it out of the detections)
            return split_json_records(mended, source, fmt, envelope)
        if compact is not text or text[:1] == b"[":
            if compact[:1] == b"[":
                try:
                    raws = _RAW_LIST.decode(compact)
                except UNREADABLE as exc:
                    return [], [], [DeadLetter(f"invalid JSON array: {_reason(exc)}", source, 0, data, fmt)]
                return _utf8_only([bytes(r) for r in raws], list(range(len(raws))), dead, source, fmt)
            items = _fast.split_envelope(compact, envelope) if envelope else None
            if items is not None:
                idx = list(range(len(items)))
                return (items, idx, dead) if compact.isascii() else _utf8_only(items, idx, dead, source, fmt)
            try:
                env = _ENVELOPE.decode(compact)
            except msgspec.DecodeError:  # e.g. {"Records": false}: one object, mapped (or dead-lettered) as such
                env = None
            key = getattr(env, envelope) if envelope and env is not None else None
            if key is not None:
                return _utf8_only([bytes(r) for r in key], list(range(len(key))), dead, source, fmt)
            return _utf8_only([compact], [0], dead, source, fmt)
        if text[:1] == b"{" and _pretty_first_line(text):  # objects pretty-printed back to back (jq's output)
            parts = concatenated_objects(text) or _pretty_objects(text)
            if parts:
                recs, idx = [], []
                for i, part in enumerate(parts):
                    try:
                        recs.append(msgspec.json.format(part, indent=-1))
                        idx.append(i)
                    except UNREADABLE as exc:  # a damaged object; or what the stdlib reads but msgspec refuses
                        dead.append(DeadLetter(f"invalid JSON: {_reason(exc)}", source, i, part, fmt))
                return _utf8_only(recs, idx, dead, source, fmt)
    records: list[bytes] = []
    offsets: list[int] = []
    native = _fast.split_lines(data)
    if native is not None:  # compact lines are checked natively; the others go line by line below
        lines, starts, todo = native
        if not todo:
            return _utf8_only(lines, starts, dead, source, fmt)  # type: ignore[arg-type]  # no None when todo == 0
        past = 0  # the end of the last object read as printed over several lines (_printed_object)
        for rec, off in zip(lines, starts, strict=True):
            if off < past:
                continue
            if rec is None:
                end = data.find(b"\n", off)
                end = len(data) if end < 0 else end
                past = _printed_object(data, off, end, records, offsets, dead, source, fmt)
                if not past:
                    _ndjson_line(data[off:end].strip(), off, records, offsets, dead, source, fmt)
            else:
                records.append(rec)
                offsets.append(off)
        return _utf8_only(records, offsets, dead, source, fmt)
    # Lines are compacted straight from views of ``data`` (no copy of each line first); a
    # line with whitespace around it is stripped as bytes (rare).
    view, size, find = memoryview(data), len(data), data.find
    pos = 0
    while pos < size:
        off = pos
        end = find(b"\n", pos)
        end = size if end < 0 else end
        pos = end + 1
        if off == end:
            continue
        past = _printed_object(data, off, end, records, offsets, dead, source, fmt)
        if past:
            pos = past + 1
            continue
        line: bytes | memoryview
        if data[off] in _SPACE or data[end - 1] in _SPACE:
            line = data[off:end].strip()
            if not line:
                continue
        else:
            line = view[off:end]
        _ndjson_line(line, off, records, offsets, dead, source, fmt)
    return _utf8_only(records, offsets, dead, source, fmt)


def _pretty_first_line(text: bytes) -> bool:
    """Whether ``text``'s first line is not a JSON value of its own (NDJSON's always is)."""
    end = text.find(b"\n")
    if end < 0:
        return False
    try:
        msgspec.json.decode(text[:end])
    except (ValueError, RecursionError):  # DecodeError, or UnicodeDecodeError on bytes that are not UTF-8
        return True
    return False


#: where a printer begins a top-level object: a ``{`` at the start of a line (a nested one is indented)
_PRETTY_START = re.compile(rb"(?m)^\{")


def _pretty_objects(text: bytes) -> list[bytes]:
    """Pretty-printed JSON objects back to back of which one at least is damaged (so
    :func:`concatenated_objects` refused them), cut where a printer begins each (a ``{`` at the
    start of a line, as ``jq`` and ``json.dumps(indent=...)`` print): each part is then read on
    its own, a damaged (or cut short) one dead-lettered alone, not every line of the body as a
    broken NDJSON record. ``[]`` when the text does not open as a printer lays an object out (its
    first line ends with ``{``, ``[``, ``,`` or ``:``): NDJSON whose first line is damaged is read
    line by line."""
    nl = text.find(b"\n")
    if text[:1] != b"{" or nl < 0 or text[:nl].rstrip()[-1:] not in (b"{", b"[", b",", b":"):
        return []
    cuts = [m.start() for m in _PRETTY_START.finditer(text, 1)]
    return [text[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def _object_lines(text: bytes) -> list[bytes]:
    """The lines of ``text`` when it holds JSON documents one a line (``jq -c``), of which one at
    least is damaged: two or more lines, each not blank opening with ``{`` or ``[`` (a
    pretty-printed document's last line is a ``}`` or ``]``); ``[]`` otherwise. Each is then read
    on its own."""
    lines = [ln for ln in text.split(b"\n") if ln.strip()]
    return lines if len(lines) > 1 and all(ln[:1] in (b"{", b"[") for ln in lines) else []


def _is_json(data: bytes) -> bool:
    """Whether ``data`` is one JSON text (a pass of msgspec's, on a path of refused bodies only)."""
    try:
        msgspec.json.format(data.removeprefix(BOM), indent=-1)
    except UNREADABLE:
        return False
    return True


#: the start of a line that is not indented (a top-level value's first or last line in printed JSON)
_UNINDENTED = re.compile(rb"\n(?=[^ \t\r\n])")


def _printed_object(data: bytes, off: int, end: int, records: list[bytes], offsets: list[int], dead: list[DeadLetter],
                    source: str, fmt: str) -> int:  # fmt: skip
    """An object printed over several lines among NDJSON lines (``cat`` of an NDJSON file and a
    ``jq``-printed one): when the line ``data[off:end]`` is a lone ``{`` at its start, and every line
    after it up to the first that begins with ``}`` is indented (as printers lay an object out), those
    lines are read as one record (into ``records``, or ``dead`` with the reason when they are no JSON
    object), not each as a broken NDJSON line. Returns the end of its last line, or 0 when it is no
    such object (the line is then read on its own)."""
    if data[off : off + 1] != b"{" or data[off:end].rstrip() != b"{":
        return 0
    nxt = _UNINDENTED.search(data, end)
    if nxt is None or data[nxt.end() : nxt.end() + 1] != b"}":
        return 0
    stop = data.find(b"\n", nxt.end())
    stop = len(data) if stop < 0 else stop
    text = data[off:stop].rstrip()
    try:
        records.append(msgspec.json.format(text, indent=-1))
    except UNREADABLE as exc:
        dead.append(DeadLetter(f"invalid JSON: {_reason(exc)}", source, off, text, fmt))
    else:
        offsets.append(off)
    return stop


def _ndjson_line(line: bytes | memoryview, off: int, records: list[bytes], offsets: list[int], dead: list[DeadLetter],
                 source: str, fmt: str) -> None:  # fmt: skip
    """One non-blank NDJSON line (stripped) into ``records`` (canonical; several when the
    line holds objects back to back) or ``dead``."""
    if line[0] != 0x7B:  # "{"
        dead.append(DeadLetter("not a JSON object", source, off, bytes(line), fmt))
        return
    try:
        records.append(msgspec.json.format(line, indent=-1))
    except UNREADABLE as exc:
        parts = concatenated_objects(bytes(line)) if isinstance(exc, msgspec.DecodeError) else []
        if len(parts) < 2:
            dead.append(DeadLetter(f"invalid JSON: {_reason(exc)}", source, off, bytes(line), fmt))
            return
        records.extend(_compact(p) for p in parts)
        offsets.extend([off] * len(parts))
        return
    offsets.append(off)


def _reason(exc: Exception) -> str:
    """msgspec's message for unreadable JSON (a RecursionError's says nothing useful)."""
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


_SPACE = frozenset(b" \t\r\x0b\x0c")  # what bytes.strip removes (besides the newline split on)
#: a checker of one JSON value (see concatenated_objects)
_RAW_OBJECT = msgspec.json.Decoder(msgspec.Raw)


def concatenated_objects(data: bytes) -> list[bytes]:
    """JSON objects written back to back (``{..}{..}``, as Firehose and HEC senders write them).

    Returns each object's bytes (whitespace between them dropped), or ``[]`` when ``data``
    is not wholly such a sequence. Objects a newline separates (``}\\n{``: what jq, Go's
    ``json.Encoder`` and govulncheck write; a raw newline is never inside a JSON string, so it is
    always between top-level values there) are split at it and each checked by msgspec (``Raw``:
    validated, no objects built); otherwise, or when one part is not an object, the stdlib's
    ``raw_decode`` finds the boundaries (msgspec has no incremental decode): 70 ms of a 16 MB
    govulncheck stream, a quarter of its decode.
    """
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return []
    if data[:1] == b"{" and b"}\n{" in data:
        pieces = data.rstrip(b" \t\r\n").split(b"}\n{")
        parts = [pieces[0] + b"}", *(b"{" + p + b"}" for p in pieces[1:-1]), b"{" + pieces[-1]]
        try:
            for part in parts:
                _RAW_OBJECT.decode(part)
        except UNREADABLE:
            pass  # (a part that is no object, NaN literals, deep nesting: as the stdlib reads it)
        else:
            return parts
    dec = json.JSONDecoder()
    out: list[bytes] = []
    pos, n = 0, len(text)
    while pos < n:
        if text[pos] != "{":
            return []
        try:
            _obj, end = dec.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):  # not such a sequence; or nested too deeply to tell
            return []
        out.append(text[pos:end].encode())
        pos = end
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
    return out


def _utf8_only(records: list[bytes], offsets: list[int], dead: list[DeadLetter], source: str,
               fmt: str) -> tuple[list[bytes], list[int], list[DeadLetter]]:
    """Dead-letter records that are not valid UTF-8: ASCII ones (nearly all) pass an ``isascii``
    check at memory speed, and only the others are decoded (copying the whole batch into Arrow
    to check it cost ~4 us a 10 KB webhook whenever one record held non-ASCII text)."""
    if all(map(bytes.isascii, records)):  # the common case, checked at memory speed
        return records, offsets, dead
    bad: dict[int, str] = {}
    for i, rec in enumerate(records):
        if not rec.isascii():
            try:
                rec.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad[i] = f"not valid UTF-8 at byte {exc.start}"
    if not bad:
        return records, offsets, dead
    good: list[bytes] = []
    good_off: list[int] = []
    for i, (rec, off) in enumerate(zip(records, offsets, strict=True)):
        if i in bad:
            dead.append(DeadLetter(bad[i], source, off, rec, fmt))
        else:
            good.append(rec)
            good_off.append(off)
    return good, good_off, dead


@dataclass(slots=True)
class Records:
    """Raw JSON records split out of one or more documents, waiting to be mapped together.

    Batch readers accumulate the records of many small documents (CloudTrail files hold a
    few hundred records each) and map them in one columnar pass, so per-batch overhead is
    paid once per ~100k records instead of once per file.
    """

    raws: list[bytes] = field(default_factory=list)
    locs: list[tuple[str, int]] = field(default_factory=list)  # (source, offset) per record
    dead: list[DeadLetter] = field(default_factory=list)
    events: int = 0
    #: (document, source) kept whole, not split (see :meth:`RecordFormat.defer`): their records
    #: are not in ``raws``, nor counted in ``events``, until ``map_records`` walks them
    docs: list[tuple[bytes, str]] = field(default_factory=list)

    def extend(self, other: Records) -> None:
        """Append another document's records."""
        self.raws.extend(other.raws)
        self.locs.extend(other.locs)
        self.dead.extend(other.dead)
        self.events += other.events
        self.docs.extend(other.docs)


class RecordFormat(Format):
    """A JSON format decoded in two steps: split a document into records, map many at once.

    Subclasses set ``envelope`` (the key holding the record list, e.g. ``Records``) and
    implement :meth:`map_records`. ``decode`` is split + map of one document.
    """

    envelope: ClassVar[str | None] = None

    def split_records(self, data: bytes, source: str) -> Records:
        """Split one document into canonical raw records."""
        raws, offsets, dead = split_json_records(data, source, self.name, envelope=self.envelope)
        return Records(raws, [(source, o) for o in offsets], dead, len(raws) + len(dead))

    def defer(self, data: bytes, source: str) -> Records | None:
        """``data`` kept whole (``Records.docs``) when this format's :meth:`map_records` walks
        such documents without splitting them first (the split's pass and a bytes object a
        record are then spared); None (the default): :meth:`split_records` splits it now."""
        return None

    @abc.abstractmethod
    def map_records(self, recs: Records) -> Decoded:
        """Map accumulated records (and any ``recs.docs``) to OCSF batches (dead letters carried over)."""

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document."""
        return self.map_records(self.split_records(data, source))

    def open_envelopes(self, raws: Sequence[bytes], locs: Sequence[tuple[str, int]], out: Decoded,
                       items_of: Callable[[bytes], list[bytes] | None] | None = None) -> list[bool]:
        """Map the records among ``raws`` that are envelope documents themselves, and say which.

        A document whose records are envelopes -- CloudTrail ``{"Records": [...]}`` files back
        to back or one a line (``zcat *.json.gz``, a multi-member gzip), Kubernetes EventLists
        one a line (as a receiver of the audit webhook logs them) -- is split into those
        envelopes, which no mapping takes as an event. Their items are mapped here, in one
        :meth:`map_records` call, into ``out``, each envelope counted as the events it holds.
        A record whose ``envelope`` key is missing or null is not one (False: the caller goes
        on with it). Callers pass only the records their mapping declined (a rare path). ``items_of``:
        a record's items when it is an envelope of another shape (a page of an API's answer), else None.
        """
        opened: list[bool] = []
        inner = Records()
        for raw, loc in zip(raws, locs, strict=True):
            if items_of is not None:
                items = items_of(raw)
            else:
                items = envelope_items(raw, self.envelope) if self.envelope else None
            opened.append(items is not None)
            if items is not None:
                inner.raws += items
                inner.locs += [loc] * len(items)
                inner.events += len(items)
                out.events -= 1  # the envelope was counted as one record
        if inner.raws:
            out.extend(self.map_records(inner))
        return opened


def envelope_items(raw: bytes, envelope: str) -> list[bytes] | None:
    """The items of a record that is an envelope document (its ``envelope`` key holds a list),
    canonical (compact) as a split makes records; None when it is not one."""
    try:
        env = _ENVELOPE.decode(raw)
    except msgspec.DecodeError:  # not JSON, or the key holds something else than a list
        return None
    items = getattr(env, envelope, None)
    return None if items is None else [_compact(bytes(r)) for r in items]


_TOPS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])


@dataclass(slots=True)
class Typed:
    """Records decoded twice: typed (mapped fields) and top-level raw (for ``unmapped``)."""

    recs: list[Any]
    tops: list[dict[str, msgspec.Raw]]
    raws: list[bytes]
    locs: list[tuple[str, int]] = field(default_factory=list)


def json_array(parts: Sequence[bytes]) -> bytes:
    """``[p0,p1,...]`` from JSON texts with one copy of them (the brackets go on the first and last)."""
    if len(parts) < 2:
        return b"[" + b"".join(parts) + b"]"
    return b",".join([b"[" + parts[0], *parts[1:-1], parts[-1] + b"]"])


def decode_typed(
    raws: list[bytes], offsets: list[int] | list[tuple[str, int]], type_: Any, out: Decoded, source: str, fmt: str,
    what: str,
) -> Typed:
    """Decode raw JSON records into ``type_`` structs in one C call, isolating bad records.

    The fast path decodes the whole list at once; only when that fails are records decoded
    one by one so that each bad one is dead-lettered with msgspec's reason (field and type).
    """
    joined = json_array(raws)
    try:
        locs = [o if isinstance(o, tuple) else (source, o) for o in offsets]
        return Typed(msgspec.json.decode(joined, type=list[type_]), _TOPS.decode(joined), raws, locs)
    except msgspec.DecodeError:
        pass
    one = msgspec.json.Decoder(type_)
    typed = Typed([], [], [])
    for raw, loc in zip(raws, offsets, strict=True):
        src, off = loc if isinstance(loc, tuple) else (source, loc)
        try:
            rec = one.decode(raw)
            top = _TOP.decode(raw)
        except msgspec.DecodeError as exc:
            out.dead.append(DeadLetter(f"not {what}: {exc}", src, off, raw, fmt))
            continue
        typed.recs.append(rec)
        typed.tops.append(top)
        typed.raws.append(raw)
        typed.locs.append((src, off))
    return typed


@dataclass(slots=True)
class Strict:
    """Records decoded into a struct that lists every key the format knows.

    ``extras[i]`` holds the top-level keys of record i that the struct does not know (raw
    JSON values), or None: records from the fast path have none.
    """

    recs: list[Any]
    extras: list[dict[str, msgspec.Raw] | None]
    raws: list[bytes]
    locs: list[tuple[str, int]]

    def reject(self, reasons: Sequence[str | None], out: Decoded, fmt: str) -> Strict:
        """Dead-letter the records whose reason is not None; the others go on."""
        keep = [i for i, r in enumerate(reasons) if r is None]
        if len(keep) == len(reasons):
            return self
        for i, why in enumerate(reasons):
            if why is not None:
                out.dead.append(DeadLetter(why, self.locs[i][0], self.locs[i][1], self.raws[i], fmt))
        return self.take(keep)

    def take(self, idx: Sequence[int]) -> Strict:
        """The records at the given positions."""
        return Strict([self.recs[i] for i in idx], [self.extras[i] for i in idx], [self.raws[i] for i in idx],
                      [self.locs[i] for i in idx])


@functools.cache
def _loose(type_: Any) -> Any:
    """The same struct with unknown fields allowed (the fallback of :func:`decode_strict`)."""
    fields = [(f.name, f.type, msgspec.field(default=f.default if f.default is not msgspec.NODEFAULT else None,
                                             name=f.encode_name))
              for f in msgspec.structs.fields(type_)]  # fmt: skip
    return msgspec.defstruct(f"{type_.__name__}Loose", fields, gc=False)


#: record types whose latest batch carried keys the type does not list (see decode_strict).
_EXTRA_KEYS: set[Any] = set()


def decode_strict(raws: list[bytes], locs: list[tuple[str, int]], type_: Any, out: Decoded, fmt: str,
                  what: str) -> Strict:
    """Decode records into ``type_`` (a struct with ``forbid_unknown_fields=True, gc=False``).

    Fast path: one C call for the whole list. When it fails because records carry keys the
    struct does not list, the batch is decoded loosely plus once as top-level key -> raw
    value maps (two C calls), and the extra keys are kept for ``unmapped``; a source whose
    last batch carried extra keys starts there. When a value has the wrong type, records are
    decoded one by one and only the bad ones are dead-lettered, with msgspec's reason.
    """
    joined = json_array(raws)
    if type_ not in _EXTRA_KEYS:
        try:
            recs = msgspec.json.decode(joined, type=list[type_])
            return Strict(recs, [None] * len(recs), raws, locs)
        except msgspec.DecodeError:  # ValidationError included
            pass
    known = frozenset(f.encode_name for f in msgspec.structs.fields(type_))  # keys as they appear in JSON
    try:
        loose_t = _loose(type_)
        recs = msgspec.json.decode(joined, type=list[loose_t])  # type: ignore[valid-type]
        tops = msgspec.json.decode(joined, type=list[dict[str, msgspec.Raw]])
    except msgspec.DecodeError:  # a value of the wrong type somewhere: find it record by record
        pass
    else:
        extras = [None if known.issuperset(t) else {k: v for k, v in t.items() if k not in known} for t in tops]
        if any(extras):
            _EXTRA_KEYS.add(type_)
        else:
            _EXTRA_KEYS.discard(type_)
        return Strict(recs, extras, raws, locs)
    strict = msgspec.json.Decoder(type_)
    loose = msgspec.json.Decoder(_loose(type_))
    res = Strict([], [], [], [])
    for raw, loc in zip(raws, locs, strict=True):
        extra = None
        try:
            rec = strict.decode(raw)
        except msgspec.DecodeError:
            try:
                rec, top = _loosely(loose, raw)
            except msgspec.DecodeError as exc:
                out.dead.append(DeadLetter(f"not {what}: {exc}", loc[0], loc[1], raw, fmt))
                continue
            extra = {k: v for k, v in top.items() if k not in known}
        res.recs.append(rec)
        res.extras.append(extra)
        res.raws.append(raw)
        res.locs.append(loc)
    return res


def text_or_none(v: Any) -> str | None:
    """A JSON value read as text: a non-empty string, else None (numbers, objects, ``""``)."""
    return v if isinstance(v, str) and v else None


def as_list(v: Any) -> list[Any]:
    """A JSON-LD value that may be one item or a list of them (``@context``, ``@type``, a property given once or
    repeated) as a list: None none, a list itself, anything else the one item."""
    return v if isinstance(v, list) else [] if v is None else [v]


def int32_or_none(v: int | None) -> int | None:
    """An integer for an OCSF integer (int32) attribute (a line, a port, a pid): None when absent
    or out of int32's range, which no real value is (the record keeps it in ``raw_data``)."""
    return v if v is not None and -(2**31) <= v < 2**31 else None


def json_value(text: bytes | str | memoryview) -> Any:
    """A JSON text decoded; None where msgspec takes it for no value (not JSON, nested past its guard,
    a number past a double's range such as ``1e999``), so a caller that reads records again for a
    mapping leaves such a record as it was stored."""
    try:
        return msgspec.json.decode(text)
    except (*UNREADABLE, msgspec.ValidationError):
        return None


def object_or_empty(v: Any) -> dict[str, Any]:
    """A JSON value read as an object: a dict, else ``{}`` (so ``.get`` chains never fail)."""
    return v if isinstance(v, dict) else {}


#: msgspec's complaint about a number where the type wants text, and where
_NUMBER_FOR_TEXT = re.compile(r"^Expected `str(?: \| null)?`, got `(?:int|float)` - at `\$((?:\.\w+|\[\d+\])+)`$")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")


def _loosely(loose: msgspec.json.Decoder, raw: bytes) -> tuple[Any, dict[str, msgspec.Raw]]:
    """(record, top-level raw values) of ``raw`` decoded with ``loose``, a number where a
    field wants text read as the number's JSON text (an account id or event version written
    unquoted, as some exporters and hand-written tests do: nothing in the value is lost, and
    ``raw_data`` keeps the record as it came). Raises the first DecodeError when another kind
    of value is wrong, or when the record cannot be read so."""
    try:
        return loose.decode(raw), _TOP.decode(raw)
    except msgspec.DecodeError as first:
        doc: Any = None
        err: msgspec.DecodeError = first
        for _ in range(32):  # one field a round; a record with more unquoted numbers than this is refused
            m = _NUMBER_FOR_TEXT.match(str(err))
            if m is None:
                raise first from None
            *steps, last = [name or int(i) for name, i in _STEP.findall(m.group(1))]
            try:
                if doc is None:  # a fraction as its own digits: 1.10 stays "1.10" (a float made it "1.1")
                    doc = _EXACT_READ.decode(raw)
                node = doc
                for step in steps:
                    node = node[step]
                value = node[last]
            except (msgspec.DecodeError, LookupError, TypeError):  # msgspec's path is not the document's
                raise first from None
            if isinstance(value, bool) or not isinstance(value, int | decimal.Decimal):
                raise first from None
            node[last] = str(value)
            text = _EXACT.encode(doc)
            try:
                return loose.decode(text), _TOP.decode(text)
            except msgspec.DecodeError as exc:
                err = exc
        raise first from None


_EXACT_READ = msgspec.json.Decoder(float_hook=decimal.Decimal)
_EXACT = msgspec.json.Encoder(decimal_format="number")  # the document's other fractions written back as numbers


@functools.cache
def _trailing(type_: Any, fields: tuple[str, ...]) -> tuple[int, Any]:
    """(index of the first of ``fields`` in ``type_``, a struct of just those fields).

    The struct shares the record type's field defaults (the same ``msgspec.Raw`` objects)
    and omits them when encoding, so an absent field is left out and a JSON ``null`` kept.
    """
    all_fields = msgspec.structs.fields(type_)
    start = len(all_fields) - len(fields)
    if tuple(f.name for f in all_fields[start:]) != fields:
        msg = f"unmapped fields {fields} are not the trailing fields of {type_.__name__}"
        raise ValueError(msg)
    sub = msgspec.defstruct(f"{type_.__name__}Unmapped", [(f.name, f.type, f.default) for f in all_fields[start:]],
                            omit_defaults=True, gc=False)  # fmt: skip
    return start, sub


def unmapped_from(strict: Strict, fields: tuple[str, ...], more: Sequence[bytes | None] | None = None) -> pa.Array:
    """``unmapped`` JSON built from raw struct fields (``msgspec.Raw``) and extra keys.

    ``fields`` must be the struct's trailing fields, in declaration order: each record's
    trailing values become one small struct (one C-level ``astuple``) that msgspec encodes
    in C, copying the raw values verbatim and omitting absent ones. ``more`` gives per record
    one more pre-encoded ``"key":value`` item (or None); extra keys (records decoded loosely)
    are appended in key order. Records with nothing unmapped get null.
    """
    if not strict.recs:
        return pa.array([], pa.string())
    start, sub = _trailing(type(strict.recs[0]), fields)  # type: ignore[arg-type]
    astuple = msgspec.structs.astuple
    enc = _ENC.encode
    out = [enc(sub(*astuple(rec)[start:])) for rec in strict.recs]
    if more is not None or any(strict.extras):
        for n, extra in enumerate(strict.extras):
            first = more[n] if more is not None else None
            items: list[bytes] = [first] if first is not None else []
            if extra:
                items.extend(enc(k) + b":" + v for k, v in sorted(extra.items()))
            if items:
                body = out[n]
                out[n] = (body[:-1] + (b"," if len(body) > 2 else b"") + b",".join(items) + b"}")
    col = string_column(out, checked=True)  # raw values of UTF-8-checked records
    return pc.if_else(pc.equal(col, "{}"), pa.scalar(None, col.type), col)


def string_column(raws: Sequence[bytes | None], *, checked: bool = False, pool: pa.MemoryPool | None = None) -> pa.Array:
    """A string column from byte strings (None -> null), their bytes copied once (no per-item
    Arrow append).

    The bytes are validated as UTF-8 unless ``checked`` says they already were (records
    out of :func:`split_json_records`, and raw JSON values taken from them); a value that is
    not UTF-8 raises ``ArrowInvalid``. Values of ``_POOL_MIN_AVG`` bytes or more on average
    (webhook payloads, scanner issues) are copied into a buffer of Arrow's pool: its allocator
    keeps the pages a freed batch used for the next one, where a join of a large batch maps
    fresh memory from the kernel every time (for 10k webhooks of 10 KB the page faults cost
    three times the copy: 5.6 vs 2 us a record). Smaller values are joined natively
    (``_fast.concat``), where the copy loop would cost more than the faults it saves.
    ``pool``: where that buffer is allocated (Arrow's default pool when None). A value may
    also be a contiguous buffer of bytes (a ``memoryview`` of a document).
    """
    n = len(raws)
    mask = None
    if None in raws:
        mask = np.fromiter((v is None for v in raws), np.bool_, n)
        raws = [v or b"" for v in raws]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, raws), np.int64, n), out=offsets[1:])  # type: ignore[arg-type]
    total = int(offsets[-1])
    if total < _POOL_MIN_AVG * n or not n:
        arr = _joined(raws, offsets, checked)  # type: ignore[arg-type]
        return arr if mask is None else pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
    data = pa.allocate_buffer(total, memory_pool=pool)
    view = memoryview(data).cast("B")  # type: ignore[arg-type]
    pos = 0
    for v in raws:
        end = pos + len(v)  # type: ignore[arg-type]
        view[pos:end] = v  # type: ignore[index,assignment]
        pos = end
    valid = None if mask is None else pa.py_buffer(np.packbits(~mask, bitorder="little"))
    nulls = 0 if mask is None else int(mask.sum())
    if total < 2**31:
        arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), data, valid, nulls)
    else:
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data, valid, nulls)
    if not checked:
        arr.validate(full=True)
    return arr


_POOL_MIN_AVG = 1024


def _joined(raws: Sequence[bytes], offsets: np.ndarray, checked: bool) -> pa.Array:
    """:func:`string_column` of small values: one native concatenation, else one join."""
    if (native := _fast.concat(raws if type(raws) is list else list(raws), validate=not checked)) is not None:
        return native
    arr = pa.LargeStringArray.from_buffers(len(raws), pa.py_buffer(offsets), pa.py_buffer(b"".join(raws)))
    if not checked:
        arr.validate(full=True)
    return arr.cast(pa.string()) if offsets[-1] < 2**31 else arr


def unmapped_json(tops: list[dict[str, msgspec.Raw]], mapped: frozenset[str]) -> pa.Array:
    """JSON of each record's top-level keys not in ``mapped`` (re-emitted from raw bytes)."""
    enc = _ENC.encode
    out: list[bytes | None] = []
    for t in tops:
        extra = t.keys() - mapped
        out.append(enc({k: t[k] for k in sorted(extra)}) if extra else None)
    return pa.array(out, pa.binary()).cast(pa.string())


_ENC = msgspec.json.Encoder()


# ---------------------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------------------


_FRACTION = re.compile(r"(\.\d+)")


def _parse_one(value: str | None) -> int | None:
    if not value:
        return None
    # upper case: RFC 3339 (section 5.6) allows a lower-case "t" and "z", fromisoformat reads no "z"
    text = _FRACTION.sub(lambda m: m.group(1)[:7], value.strip().replace(" ", "T", 1).upper())
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(t.timestamp() * 1000)


#: a typed view's time field: ISO-8601 text, or an epoch number (seconds or ms: :func:`epoch_ms`) that
#: :func:`parse_times` and ``_cicd.iso_ms`` read as the instant (a record is not dead-lettered whole
#: for a time in that form)
TimeField: TypeAlias = str | float | None


def epoch_ms(value: float) -> int | None:
    """An epoch number as int ms: milliseconds past 10,000,000,000 (a time after 2286 in seconds,
    before April 1970 in ms), else seconds; None beyond an int64 column (no usable time)."""
    ms = value if value > 10_000_000_000 else value * 1000  # (a JSON number past ~1.8e305 s is infinite in ms)
    return int(ms) if -_MS_RANGE <= ms < _MS_RANGE else None


_MS_RANGE = 2**63


def _time_ms(value: Any) -> int | None:
    """One value of a typed time field: ISO-8601 text, or an epoch number (:func:`epoch_ms`)."""
    if isinstance(value, str):
        return _parse_one(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_ms(float(value))
    return None


def parse_times(values: pa.Array | Sequence[Any]) -> pa.Array:
    """ISO-8601 strings -> int64 ms since epoch (null where absent or unparseable).

    Vectorized Arrow cast first; only the values it rejects are parsed one by one.
    Timestamps without a zone are taken as UTC. A sequence holding numbers (a typed view's
    ``str | float`` time field given as epoch seconds or ms) is read value by value
    (:func:`epoch_ms` for a number): only a batch that has one pays for it.
    """
    if isinstance(values, pa.Array):
        arr = values
    else:
        try:
            arr = pa.array(values, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # a number among the strings
            return pa.array([_time_ms(v) for v in values], pa.int64())
    if pa.types.is_integer(arr.type):
        return arr.cast(pa.int64())
    if arr.null_count == len(arr):  # nothing to parse (an optional field no record of the batch has)
        return pa.nulls(len(arr), pa.int64())
    try:
        return _cast_ms(arr, _ZONED)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:  # some or all without a zone (UTC): each kind cast on its own
        zoned = _zoned(arr)
        none = pa.scalar(None, arr.type)
        return pc.coalesce(_cast_ms(pc.if_else(zoned, arr, none), _ZONED), _cast_ms(pc.if_else(zoned, none, arr), _NAIVE))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([_parse_one(v) for v in arr.to_pylist()], pa.int64())


_ZONED = pa.timestamp("ns", tz="UTC")
_NAIVE = pa.timestamp("ns")
_ZONE_RE = r"([zZ]|[+-]\d\d(:?\d\d)?)$"
#: _ZONE_RE for Python's re: ASCII digits as RE2's \d, and \Z where RE2 reads $ (Python's $
#: would also match before a final newline)
_ZONE_SEARCH = re.compile(_ZONE_RE[:-1] + r"\Z", re.ASCII).search
_TEXT_IDS = frozenset((pa.string().id, pa.large_string().id))
FEW_ROWS = 64  # values up to which regex_mask runs Python's re: Arrow's regex kernel compiles its pattern at every call (~150 us)


def regex_mask(arr: pa.Array, pattern: str, py_match: Callable[[str], Any]) -> pa.Array:
    r"""True where ``pattern`` (RE2, as ``match_substring_regex`` reads it) matches a string of
    ``arr``; False where it does not or the value is null. A small batch is matched value by value
    with ``py_match``, the same pattern compiled for Python's re (the caller keeps the two equal:
    ASCII digits as RE2's ``\d``, ``\Z`` or ``fullmatch`` where RE2 reads ``$``)."""
    if len(arr) <= FEW_ROWS and arr.type.id in _TEXT_IDS:
        return pa.array([v is not None and py_match(v) is not None for v in arr.to_pylist()], pa.bool_())
    return pc.fill_null(pc.match_substring_regex(arr, pattern), False)


def _zoned(arr: pa.Array) -> pa.Array:
    """True where a timestamp string ends with a zone (``Z``, ``+hh``, ``+hh:mm``, ``+hhmm``);
    False where it does not or is null."""
    return regex_mask(arr, _ZONE_RE, _ZONE_SEARCH)


def _cast_ms(arr: pa.Array, unit: pa.DataType) -> pa.Array:
    """ISO-8601 strings -> int64 ms via an Arrow cast (raises on any unparseable value).

    One kernel besides the parse: the timestamps are read as their int64 (a view, where a
    cast cost ~25 us a batch whatever its size) and divided by a ready scalar (int64 / int64
    is int64, truncated as the kernel always did)."""
    return pc.divide(pc.cast(arr, unit).view(pa.int64()), _NS_PER_MS)


_NS_PER_MS = pa.scalar(1_000_000, pa.int64())


def strs(values: Sequence[Any]) -> pa.Array:
    """A string column from Python values (None stays null)."""
    return pa.array(values, pa.string())


def const(value: Any, n: int, type_: pa.DataType | None = None) -> pa.Array:
    """A column holding one value n times (cheap: built by Arrow, not a Python list).

    A scalar value of a small batch is a slice of a column made once per (value, type)
    (:func:`_const_rows`): ~2 us where building it cost ~25 us (the scalar's conversion and
    ``pa.repeat``), a fixed cost of every batch paid for each constant column. A long string is
    not cached (its :data:`_CONST_ROWS` copies: an 8 MiB Alertmanager ``groupKey`` asked for 32 GiB)."""
    if value is None:
        return pa.nulls(n, type_ or pa.string())
    if n <= _CONST_ROWS and type(value) in _CONST_KINDS and (type_ is None or type_.id in _CONST_TYPE_IDS) \
            and (type(value) is not str or len(value) <= _CONST_CHARS):  # fmt: skip
        return _const_rows(value, type(value).__name__, type_).slice(0, n)
    scalar = pa.scalar(value, type_)
    if not pa.types.is_nested(scalar.type):
        return pa.repeat(scalar, n)  # one C call (a take of a one-row array costs ~10x more per batch)
    return pa.array([value], type_).take(pa.array(np.zeros(n, np.int32))) if n else pa.array([], type_)


_CONST_ROWS = 4096  # rows of a cached constant column: the batches whose fixed costs count
_CONST_CHARS = 256  # the longest string cached (1 MiB a column at most, 512 MiB for the whole cache)
_CONST_KINDS = frozenset((str, int, bool, float))
_CONST_TYPE_IDS = frozenset(t.id for t in (pa.string(), pa.int32(), pa.int64(), pa.bool_(), pa.float64()))


@functools.lru_cache(maxsize=512)
def _const_rows(value: Any, kind: str, type_: pa.DataType | None) -> pa.Array:
    """:data:`_CONST_ROWS` copies of ``value`` (``kind`` in the key: ``True`` and ``1`` are equal
    keys of different columns). Without a type, the type pyarrow infers for the value is given
    (:data:`_INFERRED`): its inference imports ``dateutil`` on first use (~2.3 ms of every start)."""
    if type_ is None and (kind != "int" or -(2**63) <= value < 2**63):
        type_ = _INFERRED[kind]
    return pa.repeat(pa.scalar(value, type_), _CONST_ROWS)


#: the type pyarrow infers for a value of each kind (an int within int64's range)
_INFERRED = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "float": pa.float64()}


def base_columns(
    class_name: str,
    *,
    kind: str,
    product: str,
    vendor: str | None,
    uids: pa.Array | Sequence[str],
    times_ms: pa.Array,
    raws: Sequence[bytes] | pa.Array | None,
    activity_id: pa.Array | int,
    severity_id: pa.Array | int = 1,
) -> dict[str, pa.Array]:
    """The columns every OCSF event carries (class, category, type, time, metadata, raw_data).
    An id every row shares is best given as an int: its caption and type_uid are then constants."""
    n = len(uids)
    cuid = class_uid(class_name)
    missing = times_ms.null_count
    if missing:
        # The record has no time of its own: keep it, stamped with when we received it, and
        # say so in metadata.labels so nobody mistakes the receipt time for the event time.
        received = pa.scalar(int(time.time() * 1000), pa.int64())
        labels = pc.if_else(
            times_ms.is_null(), pa.scalar([TIME_FROM_RECEIPT], pa.list_(pa.string())), pa.scalar(None, pa.list_(pa.string()))
        )
        times_ms = pc.coalesce(times_ms, received)
    act = _int32(activity_id if isinstance(activity_id, pa.Array) else const(activity_id, n, pa.int32()))
    sev = _int32(severity_id if isinstance(severity_id, pa.Array) else const(severity_id, n, pa.int32()))
    one_act = activity_id if type(activity_id) is int else None
    cols: dict[str, pa.Array] = {
        "class_uid": const(cuid, n, pa.int32()),
        "category_uid": const(category_uid(class_name), n, pa.int32()),
        "activity_id": act,
        # class_uid * 100 + activity_id: one kernel over the activity (a null activity stays null)
        "type_uid": _type_uids(act, cuid) if one_act is None else const(cuid * 100 + one_act, n, pa.int64()),
        "activity_name": _captions(class_name, "activity_id", activity_id, act),
        "class_name": const(class_caption(class_name), n),
        "category_name": const(category_name(class_name), n),
        "severity_id": sev,
        "severity": _captions(class_name, "severity_id", severity_id, sev),
        "time": times_ms,
        "time_dt": _as_datetime(times_ms),
        "metadata.version": const(OCSF_VERSION, n),
        "metadata.uid": uids if isinstance(uids, pa.Array) else pa.array(uids, pa.string()),
        "metadata.log_name": const(kind, n),
        "metadata.product.name": const(product, n),
        "metadata.product.vendor_name": const(vendor, n),
    }
    if missing:
        cols["metadata.labels"] = labels
    if isinstance(raws, pa.Array):  # the raw_data column already (a native walker made it)
        cols["raw_data"] = raws
    elif raws is not None:
        cols["raw_data"] = string_column(list(raws))
    return cols


def _captions(class_name: str, attribute: str, given: pa.Array | int, ids: pa.Array) -> pa.Array:
    """The enum captions of ``ids``: of one id given as an int (``severity_id=1``), a constant
    column of its caption (looked up once per id: the take over ``ids`` costs ~10 us a batch)."""
    if type(given) is int:
        return const(_caption(class_name, attribute, given), len(ids), pa.string())
    return enum_captions(class_name, attribute, ids)


@functools.lru_cache(maxsize=1024)
def _caption(class_name: str, attribute: str, id_: int) -> str | None:
    return enum_captions(class_name, attribute, pa.array([id_], pa.int32()))[0].as_py()  # type: ignore[no-any-return]


#: rows up to which :func:`small_base_columns` applies (one webhook or alert a POST, a few concurrent ones)
SMALL_ROWS = 16


def small_base_columns(
    class_name: str,
    *,
    kind: str,
    product: str,
    vendor: str | None,
    uids: pa.Array,
    times: Sequence[int | None],
    activity: Sequence[int],
    severity: Sequence[int],
) -> dict[str, pa.Array]:
    """:func:`base_columns` of a small batch (:data:`SMALL_ROWS` rows at most) from Python values:
    the same columns in the same order. What depends only on the class, the source and the rows'
    activity and severity ids (ids, captions, names, version: 13 columns, ~20 Arrow calls) is made
    once per such key by :func:`base_columns` itself (:func:`_fixed_columns`); the receipt time and
    its label of a row without a time of its own in Python (no kernel call)."""
    head, version, tail = _fixed_columns(class_name, kind, product, vendor, tuple(activity), tuple(severity))
    if not kept(version):  # (assemble's memo of kept columns was cleared since they were made)
        for arr in (version, *(a for _, a in head), *(a for _, a in tail)):
            keep(arr)
    labels = None
    if None in times:
        received = int(time.time() * 1000)
        labels = pa.array([_RECEIPT_LABEL if t is None else None for t in times], _LABELS)
        times = [received if t is None else t for t in times]
    times_ms = pa.array(times, pa.int64())
    cols = dict(head)
    cols["time"] = times_ms
    cols["time_dt"] = _as_datetime(times_ms)
    cols["metadata.version"] = version
    cols["metadata.uid"] = uids
    cols.update(tail)
    if labels is not None:
        cols["metadata.labels"] = labels
    return cols


_LABELS = pa.list_(pa.string())
_RECEIPT_LABEL = [TIME_FROM_RECEIPT]
_AFTER_TIME = ("metadata.version", "metadata.uid", "metadata.log_name", "metadata.product.name",
               "metadata.product.vendor_name")  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _fixed_columns(class_name: str, kind: str, product: str, vendor: str | None, activity: tuple[int, ...],
                   severity: tuple[int, ...]) -> tuple[tuple[tuple[str, pa.Array], ...], pa.Array, tuple[tuple[str, pa.Array], ...]]:  # fmt: skip
    """:func:`base_columns`' columns of rows of these activity and severity ids that neither time nor
    uid changes: (those before ``time``, ``metadata.version``, those after ``metadata.uid``)."""
    n = len(activity)
    cols = base_columns(
        class_name, kind=kind, product=product, vendor=vendor, uids=pa.nulls(n, pa.string()),
        times_ms=pa.array([0] * n, pa.int64()), raws=None, activity_id=pa.array(activity, pa.int32()),
        severity_id=pa.array(severity, pa.int32()),
    )  # fmt: skip
    names = list(cols)
    at = names.index("time")
    assert names[at : at + 2] == ["time", "time_dt"] and tuple(names[at + 2 :]) == _AFTER_TIME, names
    return (tuple((k, keep(cols[k])) for k in names[:at]), keep(cols["metadata.version"]),
            tuple((k, keep(cols[k])) for k in _AFTER_TIME[2:]))  # fmt: skip


def _int32(arr: pa.Array) -> pa.Array:
    """``arr`` as int32 (the array itself when it is: a cast to the same type is a ~10 us kernel call)."""
    return arr if arr.type.id == _INT32_ID else arr.cast(pa.int32())


_INT32_ID = pa.int32().id
_DATETIME = pa.timestamp("ms", tz="UTC")


def _as_datetime(ms: pa.Array) -> pa.Array:
    """int64 ms since the epoch as ``timestamp[ms, UTC]``: the same values and nulls, viewed (the
    cast it equals copies nothing either, but costs a kernel call)."""
    return ms.view(_DATETIME) if ms.type.id == _INT64_ID and isinstance(ms, pa.Array) else ms.cast(_DATETIME)


_INT64_ID = pa.int64().id


@functools.cache
def _type_base(cuid: int) -> pa.Scalar:
    return pa.scalar(cuid * 100, pa.int64())


def _type_uids(act: pa.Array, cuid: int) -> pa.Array:
    """type_uid = class_uid * 100 + activity_id (int64; null where the activity is): numpy for an
    int32 activity without nulls (the usual batch), where the cast and the add are two kernel
    calls (~20 us a batch)."""
    if act.null_count or act.type.id != _INT32_ID or not len(act):
        return pc.add(act.cast(pa.int64()), _type_base(cuid))
    ids = np.frombuffer(act.buffers()[1], np.int32, len(act), act.offset * 4)
    return from_numpy(ids.astype(np.int64) + cuid * 100)


def rows_to_columns(rows: Iterable[dict[str, Any]], types: dict[str, pa.DataType] | None = None) -> dict[str, pa.Array]:
    """Per-record dicts of OCSF dotted paths -> columns (for small batches: scanner reports).

    Paths missing from a row are null. ``types`` overrides inference for given paths.
    """
    rows = list(rows)
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    types = types or {}
    return {k: pa.array([r.get(k) for r in rows], types.get(k)) for k in keys}


def to_batch(class_name: str, columns: dict[str, pa.Array]) -> pa.RecordBatch:
    """Assemble checked OCSF columns into one nested RecordBatch of ``class_name``."""
    return assemble(class_name, columns)

