"""Plumbing shared by the wire-compatible ingest endpoints (ES _bulk, Splunk HEC, webhooks).

- :func:`read_body_limited`: the body within ``max_body_bytes``, inflated (gzip) within
  ``max_decompressed_bytes``, read within ``server.request_timeout_seconds`` (a slow client
  gets 408), with JSON nesting checked against ``max_json_depth`` when asked. Every refusal
  is dead-lettered with its reason (the refused bytes when we hold them; an oversized body
  is refused unread, so only the reason is kept) and raised as :class:`HTTPError`, which the
  protocol module turns into its own error shape.
- :func:`accept_items` / :func:`accept_docs`: many small documents of one request (bulk
  items, HEC events), each with a format name or ``None`` for auto-detection (or one name
  for all), grouped by format into one body per format (a JSON array for record formats,
  NDJSON for line formats, one body per document otherwise), each body made durable with
  :meth:`Service.accept` (WAL fsync) before this returns. Detection and decoding hold the
  service's decode gate (:attr:`Service.cpu`); the fsync wait does not. It answers, per
  item, ``None`` (stored) or the reason it was dead-lettered: a dead letter is matched to
  its item by its bytes (or its NDJSON offset), so one bad document fails only its item.
  WAL replay decodes each stored body with the same format, so a restart maps it the same.
  A line a shipper wrapped in a document naming its host (:class:`ShippedLine`) is accepted
  under its source with ``;host=<name>`` appended, one body per host, which the syslog format
  reads as the host of the lines that name none (an access-log line Filebeat read on web-01).
- :func:`check_depth` / :func:`check_parts_depth`: JSON nesting limits without scanning
  every byte: a text nests at most as deep as it has opening brackets, counted per NDJSON
  line or per event with numpy, and only texts over the limit get the exact scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
from starlette.requests import Request

from secpipe import formats
from secpipe.config.ingest import IngestConfig
from secpipe.errors import LimitExceeded
from secpipe.formats import _fast
from secpipe.formats.base import (
    UNREADABLE,
    DeadLetter,
    Decoded,
    Format,
    RecordFormat,
    json_array,
    split_guarded,
)
from secpipe.security.limits import check_json_limits, json_depth
from secpipe.server.http import AppContext, HTTPError, inflate, read_raw_within, request_timeout
from secpipe.server.workers import in_thread
from secpipe.store.wal import WalRecord, now_ms


class ShippedLine(bytes):
    """A line (or record) taken out of a shipper's document, with the host that document names
    (Filebeat's ``host.name``, a HEC envelope's ``host``...) when it is a plain host name or
    address, the time it names (epoch ms: ``@timestamp``, a HEC envelope's ``time``), if any,
    and the context hint of what else it says (``context``: an OpenTelemetry record's resource,
    :mod:`secpipe.formats._context`)."""

    host: str | None
    at: int | None
    context: str | None

    def __new__(cls, line: bytes, host: Any, at: int | None = None, context: str | None = None) -> ShippedLine:
        self = super().__new__(cls, line)
        self.host = host if isinstance(host, str) and _HOST.fullmatch(host) else None
        self.at = at
        self.context = context
        return self


#: a host name, IPv4 or IPv6 address as a shipper names it: what a ``;host=`` source hint may hold
_HOST = re.compile(r"[A-Za-z0-9._:-]{1,253}")


def with_hosts(docs: Sequence[bytes], hosts: Sequence[Any], times: Sequence[int | None] | None = None) -> list[bytes]:
    """``docs`` with each one whose ``hosts`` entry is a host name (or ``times`` entry a time, epoch
    ms) a :class:`ShippedLine` naming it."""
    if times is None:
        return [ShippedLine(d, h) if h.__class__ is str else d for d, h in zip(docs, hosts, strict=True)]
    return [ShippedLine(d, h, t) if h.__class__ is str or t is not None else d
            for d, h, t in zip(docs, hosts, times, strict=True)]  # fmt: skip


#: the most hosts whose lines one request's documents are split by (each is one more decode, ~9 ms)
MAX_HOSTS = 8


def by_host(fmt: Format, source: str, docs: Sequence[bytes], idx: list[int], *,
            contexts: bool = False) -> list[tuple[str, list[int]]]:  # fmt: skip
    """The documents ``idx`` by the host their :class:`ShippedLine` names: (source, indexes),
    the source with ``;host=<name>`` where one is named, for a format of text lines (a record
    format reads its records' own fields). One C pass when none is a ShippedLine. A request with
    lines of more than :data:`MAX_HOSTS` hosts (an aggregator relaying many, whose lines name
    their own host as relayed syslog does) stays one body without the host hint: a decode per
    host would cost it ~9 ms a host.

    The documents' times split them further by 30 days (:data:`_SPAN_MS`), each part's source with
    ``;at=<epoch ms>`` before the host, the latest time its documents name: the year of a syslog
    stamp without one is the one that puts the line at most a day after it, right for every line
    logged less than ~11 months before its document's time (a ``Dec 31`` line shipped on Jan 1 is
    the year before; an archive shipped today keeps its year).

    ``contexts`` (an OpenTelemetry request's records, HEC events): documents of any format are split by
    the context hint they carry too (:attr:`ShippedLine.context`), appended last: one context a
    body (:mod:`secpipe.formats._context`)."""
    lines = not isinstance(fmt, RecordFormat) and fmt.framing == "lines"
    if not lines and not contexts:
        return [(source, idx)]
    if ShippedLine not in set(map(type, [docs[i] for i in idx] if len(idx) < len(docs) else docs)):
        return [(source, idx)]
    hosts = {getattr(docs[i], "host", None) for i in idx} if lines else set()
    named = len(hosts - {None}) <= MAX_HOSTS
    by: dict[tuple[str | None, int | None, str | None], list[int]] = {}
    latest: dict[tuple[str | None, int | None, str | None], int] = {}
    for i in idx:
        at = getattr(docs[i], "at", None) if lines else None
        key = (getattr(docs[i], "host", None) if named and lines else None, None if at is None else at // _SPAN_MS,
               getattr(docs[i], "context", None))  # fmt: skip
        by.setdefault(key, []).append(i)
        if at is not None and (key not in latest or at > latest[key]):  # (a time before 1970 is negative)
            latest[key] = at
    return [(source + ("" if key[1] is None else f";at={latest[key]}") + ("" if key[0] is None else f";host={key[0]}")
             + (key[2] or ""), part) for key, part in by.items()]  # fmt: skip


#: the span of document times one ``;at=`` hint stands for (:func:`by_host`)
_SPAN_MS = 30 * 86_400_000


def ingest_config(ctx: AppContext) -> IngestConfig:
    """The ``ingest:`` config section (defaults when the server runs without a config)."""
    cfg = ctx.extras.get("config")
    return getattr(cfg, "ingest", None) or IngestConfig()


def who(request: Request) -> str:
    """The sender name in source strings: the token's bound source, else its name."""
    info = request.state.token
    return info.source or info.name


_BIG = 1 << 16  # texts this long are scanned with numpy (SIMD passes) rather than per byte
_BLOCK = 1 << 16


def _opening_brackets(data: bytes) -> int:
    """How many ``{`` and ``[`` bytes ``data`` holds (an upper bound of its JSON depth)."""
    if len(data) < _BIG:
        return data.count(b"{") + data.count(b"[")
    return len(_bracket_positions(data))


def _offsets(data: bytes, hit: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Offsets of the bytes of ``data`` where ``hit`` (a vectorized test) holds.

    Scanned in 64 KiB blocks: the temporaries stay in cache and in reused heap memory (a
    whole-body mask costs fresh pages on every request, about twice the time).
    """
    a = np.frombuffer(data, np.uint8)
    found = [np.flatnonzero(hit(a[i : i + _BLOCK])) + i for i in range(0, len(a), _BLOCK)]
    return np.concatenate(found) if found else np.zeros(0, np.intp)


def _is_opening(block: np.ndarray) -> np.ndarray:
    return (block | 32) == 123  # "[" (0x5B) | 0x20 == "{" (0x7B); nothing else maps there


def _is_newline(block: np.ndarray) -> np.ndarray:
    return block == 10


def _bracket_positions(data: bytes) -> np.ndarray:
    """Offsets of every ``{`` and ``[`` of ``data``."""
    return _offsets(data, _is_opening)


def _crowded(where: np.ndarray, starts: np.ndarray, limit: int) -> list[int]:
    """Indexes of the parts (part i starts at byte ``starts[i]``) holding more than ``limit``
    of the opening brackets at offsets ``where``."""
    counts = np.bincount(np.searchsorted(starts, where, side="right") - 1, minlength=len(starts))
    return np.flatnonzero(counts > limit).tolist()


def _too_deep(depth: int, limit: int) -> HTTPError:
    return HTTPError(400, f"JSON nesting depth {depth} exceeds the limit of {limit} (server.max_json_depth)")


def check_depth_figure(depth: int, limit: int) -> None:
    """Raise :func:`check_depth`'s 400 for a text whose nesting ``depth`` was measured already."""
    if depth > limit:
        raise _too_deep(depth, limit)


def check_strings(data: bytes, max_string: int | None) -> None:
    """Raise :class:`HTTPError` 413 when ``data`` holds a JSON string longer than ``max_string``."""
    if max_string is not None and len(data) > max_string:
        try:
            check_json_limits(data, len(data), max_string)  # strings only: depth is checked apart
        except LimitExceeded as exc:
            raise HTTPError(413, f"{exc} (server.max_string_bytes)") from None


def check_depth(data: bytes, limit: int, max_string: int | None = None, *, ndjson: bool = False) -> None:
    """Raise :class:`HTTPError` when ``data`` nests deeper than ``limit`` (400) or holds a
    JSON string longer than ``max_string`` bytes (413).

    A text can only nest as deep as it has opening brackets, so most texts skip the scan.
    ``ndjson``: every line is a JSON text of its own (a ``_bulk`` body); each line is bounded
    by its own bracket count and only a line with more than ``limit`` brackets is scanned.
    """
    if len(data) >= _BIG and (depth := _fast.json_depth(data, lines=ndjson)) is not None:
        if depth > limit:  # one native pass (the numpy scan below costs ~4x more)
            raise _too_deep(depth, limit)
    elif len(data) >= _BIG and ndjson:
        where = _bracket_positions(data)
        if len(where) > limit:
            crowded = _crowded(where, np.concatenate(([0], _offsets(data, _is_newline) + 1)), limit)
            lines = data.split(b"\n") if crowded else []
            depth = max((json_depth(lines[i]) for i in crowded), default=0)
            if depth > limit:
                raise _too_deep(depth, limit)
    elif _opening_brackets(data) > limit:
        if ndjson:
            depth = max((json_depth(ln) for ln in data.split(b"\n") if _opening_brackets(ln) > limit), default=0)
        else:
            depth = json_depth(data)
        if depth > limit:
            raise _too_deep(depth, limit)
    check_strings(data, max_string)


def check_parts_depth(array: bytes, parts: Sequence[bytes], limit: int) -> None:
    """:func:`check_depth` of the JSON texts ``parts``, which ``array`` holds as a JSON array
    separated by two bytes (``[p0\\n,p1...]``, as HEC's splitter builds it): each part is
    bounded by its own bracket count; only parts over ``limit`` are scanned."""
    if len(array) < _BIG:
        crowded = [i for i, p in enumerate(parts) if _opening_brackets(p) > limit]
    else:
        where = _bracket_positions(array)
        if len(where) <= limit + 1:
            return
        lens = np.fromiter(map(len, parts), np.int64, len(parts))
        if int(lens.sum()) + 2 * len(parts) == len(array):  # the layout above: part starts from lengths
            crowded = _crowded(where, np.concatenate(([0], 1 + np.cumsum(lens + 2)[:-1])), limit)  # "[" in part 0
        else:
            crowded = [i for i, p in enumerate(parts) if _opening_brackets(p) > limit]
    depth = max((json_depth(parts[i]) for i in crowded), default=0)
    if depth > limit:
        raise _too_deep(depth, limit)


async def dead_letter(ctx: AppContext, reason: str, source: str, raw: bytes, fmt: str) -> None:
    """Persist a refused body (or just the reason) in the dead-letter store."""
    await in_thread(ctx.service.dead_letter, [DeadLetter(reason, source, 0, raw, fmt)])


async def read_body_limited(ctx: AppContext, request: Request, source: str, fmt: str, *,
                            json_body: bool = True, dead_letters: bool = True) -> bytes:
    """The request body within every limit (see module docstring); HTTPError otherwise.

    ``dead_letters=False`` for a sender not yet authenticated (a signature over the body is
    checked after reading): its refusals are not stored, so strangers cannot fill the DLQ.
    """
    async def refuse(exc: HTTPError, raw: bytes) -> HTTPError:
        if dead_letters:
            await dead_letter(ctx, str(exc), source, raw, fmt)
        return exc

    try:
        raw = await read_raw_within(request, ctx.limits, request_timeout(ctx))
    except HTTPError as exc:  # too big (413), too slow (408), the client gone
        raise await refuse(exc, b"") from None
    try:
        body = inflate(request, raw, ctx.limits)
        if json_body:
            check_depth(body, ctx.limits.max_json_depth, ctx.limits.max_string_bytes)
    except HTTPError as exc:
        raise await refuse(exc, raw) from None
    return body


def resolve_format(name: str) -> Format:
    """A registered format by name; HTTPError 503 naming the missing format otherwise."""
    if name not in formats.REGISTRY:
        raise HTTPError(503, f"format {name!r} is not available in this build — see `secpipe formats`")
    return formats.get(name)


_ONE_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])


#: a document's shape: its top-level keys (see :func:`_shapes`)
Shape = bytes | tuple[str, ...]


def _shapes(datas: list[bytes]) -> list[Shape | None]:
    """Top-level keys of each JSON-object document, in order (None when it is not one), as
    their signature: ``"`` before each distinct key, in the order of first appearance, encoded
    (what the native ``top_keys`` gives, native/src/shapes.rs, without a dict per document), or
    the keys as a tuple when one holds a ``"``. Documents the native pass does not decide (not
    compact, escaped keys, no extension) are decoded with msgspec, as before."""
    top_keys = getattr(_fast._module(), "top_keys", None)
    out: list[Shape | None] = top_keys(datas) if top_keys is not None else [None] * len(datas)
    rest = [i for i, s in enumerate(out) if s is None]
    if rest:
        for i, keys in zip(rest, _decoded_shapes([datas[i] for i in rest]), strict=True):
            out[i] = None if keys is None else _signature(keys)
    return out


def _signature(keys: tuple[str, ...]) -> Shape:
    """The signature ``top_keys`` gives for these (distinct, ordered) keys, or the keys when one
    holds a ``"`` (no signature names them)."""
    if any('"' in k for k in keys):
        return keys
    return "".join(['"' + k for k in keys]).encode("utf-8", "surrogatepass")


def _decoded_shapes(datas: list[bytes]) -> list[tuple[str, ...] | None]:
    """:func:`_shapes` with msgspec: the keys of each JSON object (None when it is not one,
    or when a key is not UTF-8: msgspec raises UnicodeDecodeError for that, not DecodeError).

    One by one: decoding the documents joined as one JSON array (what this did) gave a list
    of another length when a document was empty or held a top-level comma (``{"a":1},{"b":2}``
    as a ``_bulk`` line; the request then failed), and could give a document pieces of two."""
    out: list[tuple[str, ...] | None] = []
    for d in datas:
        try:
            out.append(tuple(_ONE_TOP.decode(d)))
        except UNREADABLE:
            out.append(None)
    return out


def detect_many(datas: Sequence[bytes], *, catch_all: bool = True) -> list[Format | None]:
    """The format of each document, detected once per distinct top-level key sequence.

    JSON objects of one shape (a shipper's documents) share the format detected on the first
    of them: sniffers recognize formats by their characteristic keys, and running every
    sniffer on every document cost more than decoding it. Documents that are not JSON
    objects are detected one by one.
    """
    by_shape: dict[Shape, Format | None] = {}
    out: list[Format | None] = []
    for data, shape in zip(datas, _shapes(list(datas)), strict=True):
        if shape is not None and shape in by_shape:
            out.append(by_shape[shape])
            continue
        fmt = formats.detect(data[: 64 * 1024], catch_all=catch_all)
        if shape is not None:
            by_shape[shape] = fmt
        out.append(fmt)
    return out


def _groups(names: Sequence[str | None], docs: Sequence[bytes], source: str,
            reasons: list[str | None]) -> tuple[dict[str, list[int]], list[DeadLetter]]:
    """Item indexes per format name (auto-detected where the name is None), plus the undetected."""
    groups: dict[str, list[int]] = {}
    undetected: list[DeadLetter] = []
    auto = [i for i, name in enumerate(names) if name is None]
    found = dict(zip(auto, detect_many([docs[i] for i in auto]), strict=True)) if auto else {}
    for i, name in enumerate(names):
        if name is None:
            fmt = found[i]
            if fmt is None:
                why = "unrecognized input: no format matched"
                reasons[i] = why
                undetected.append(DeadLetter(why, source, i, docs[i], "auto"))
                continue
            name = fmt.name
        groups.setdefault(name, []).append(i)
    return groups, undetected


def accept_items(ctx: AppContext, source: str, items: Sequence[tuple[str | None, bytes]]) -> list[str | None]:
    """Store many small documents durably; per item ``None`` (stored) or why it was dead-lettered.

    Blocking (decode + WAL fsync): call it from a worker thread (``workers.in_thread``).
    """
    return accept_docs(ctx, source, [name for name, _d in items], [d for _n, d in items])


def accept_docs(ctx: AppContext, source: str, names: str | Sequence[str | None], docs: Sequence[bytes], *,
                contexts: bool = False) -> list[str | None]:  # fmt: skip
    """:func:`accept_items` with the format names apart: one name for every document (a
    ``_bulk`` request to one mapped index costs no per-document grouping) or one per document;
    ``contexts``: documents may carry a context hint (:func:`by_host`)."""
    service = ctx.service
    reasons: list[str | None] = [None] * len(docs)
    if isinstance(names, str):
        groups: dict[str, list[int]] = {names: list(range(len(docs)))}
    else:
        with service.cpu:
            groups, undetected = _groups(names, docs, source, reasons)
        if undetected:
            service.dead_letter(undetected)
    held: list[tuple[WalRecord, Decoded]] = []
    for name, all_idx in groups.items():
        fmt = formats.get(name)
        for src, idx in by_host(fmt, source, docs, all_idx, contexts=contexts):
            if fmt.framing == "lines" or isinstance(fmt, RecordFormat):
                part = list(docs) if len(idx) == len(docs) else [docs[i] for i in idx]
                _accept_group(service, fmt, src, part, idx, reasons, held)
            else:
                for i in idx:
                    _accept_group(service, fmt, src, [docs[i]], [i], reasons, held)
    if held:  # the bodies of a context each (one per resource or HEC envelope metadata): one WAL sync
        both = Decoded()
        for _rec, dec in held:
            both.extend(dec)
        service.accept_many([rec for rec, _dec in held], both)
    return reasons


def _as_array(fmt: Format, docs: list[bytes]) -> bool:
    """Whether a group of JSON documents may go as one JSON array (one C pass to split)."""
    return (len(docs) > 1 and isinstance(fmt, RecordFormat)
            and type(fmt).split_records is RecordFormat.split_records)  # fmt: skip


def _accept_group(service: Any, fmt: Format, source: str, docs: list[bytes], idx: list[int],
                  reasons: list[str | None], held: list[tuple[WalRecord, Decoded]]) -> None:
    """Store one body of ``docs`` (``held``: a body with a context hint decoded, to be made durable
    by the caller with the others) and set the reasons of the documents it dead-lettered."""
    array = _as_array(fmt, docs)
    body = json_array(docs) if array else b"\n".join(docs)
    if isinstance(fmt, RecordFormat) and ";ctx=" not in source:  # split here; mapped with the other
        # requests waiting (combine.py); a body with a context is decoded alone (its events stamped with it)
        with service.cpu:
            recs = split_guarded(fmt, body, source)
            if array and not recs.raws and len(recs.dead) == 1 and recs.events == 1:
                # one unreadable document spoils the whole array: fall back to lines, so only it fails
                array, body = False, b"\n".join(docs)
                recs = split_guarded(fmt, body, source)
        decoded = service.accept_records(fmt, source, body, recs)
        stored = decoded.events > len(decoded.dead)
    else:
        _n, source = service.sender_stream(fmt.name, body, source)
        _f, decoded = service.decode(fmt.name, body, source)
        if ";ctx=" in source:
            held.append((WalRecord(fmt.name, source, now_ms(), body), decoded))
        else:
            service.accept(fmt.name, source, body, decoded)
        stored = bool(decoded.batches)
    if not decoded.dead:
        return
    by_raw: dict[bytes, int] = {}
    by_off: dict[int, int] = {}  # where a dead letter's offset points: record index or line start
    off = 0
    for k, (i, d) in enumerate(zip(idx, docs, strict=True)):
        by_raw.setdefault(d.strip(), i)
        try:  # formats keep records in canonical (compact) JSON: match that form too
            by_raw.setdefault(msgspec.json.format(d, indent=-1), i)
        except UNREADABLE:
            pass
        by_off[k if array else off] = i
        off += len(d) + 1
    unmatched: list[str] = []
    for dl in decoded.dead:
        hit = by_raw.get(dl.raw.strip())
        if hit is None:
            hit = by_off.get(dl.offset) if array or (dl.raw and body.startswith(dl.raw[:32], dl.offset)) else None
        if hit is None:
            unmatched.append(dl.reason)
        else:
            reasons[hit] = dl.reason
    if unmatched and not stored:
        # The whole body failed as one piece (e.g. a decoder error): every item failed.
        for i in idx:
            reasons[i] = reasons[i] or unmatched[0]
