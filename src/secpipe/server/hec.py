"""Splunk HTTP Event Collector (HEC) compatible ingest.

Routes (token with ``ingest``; ``Authorization: Splunk <token>``, also ``Bearer``, Basic
with the token as password, and ``?token=`` as Splunk's ``allowQueryStringAuth`` allows
(``ingest.hec.allow_query_string_auth``, off by default); errors are Splunk's ``{"text", "code"}`` with its
HTTP status: 401 code 2 no token, 401 code 3 unreadable credentials, 403 code 4 unknown
token, 400 code 16 query token refused, 503 code 9 (with ``Retry-After``) over the token's
rate):
- ``POST /services/collector``, ``/services/collector/event`` (and ``/1.0``): one or more
  event envelopes ``{"event": ..., "time", "host", "source", "sourcetype", "index",
  "fields"}`` concatenated (with or without whitespace between them), gzip allowed. An event
  that is no JSON (up to the next line opening an object), over a JSON limit (depth, string
  length) or no envelope Splunk takes (no ``event``, a blank one) is dead-lettered alone with its reason and the others are stored;
  the answer is then Splunk's for such a request: 400 with the first refused event's code
  (6, 12, 13) and ``invalid-event-number`` (Splunk indexes the events before it and drops
  the rest; a sender that resends the request, or the events after it, stores nothing twice:
  the lake keeps one row per ``metadata.uid``, which hashes the event).
- ``POST /services/collector/raw`` (and ``/1.0``): the body is data itself (lines);
  ``?sourcetype=`` picks the format, else auto-detection; text no format recognizes is
  stored one event per line (generic ``json``, with ``host``/``source``/``sourcetype``/``index``
  from the query string), as Splunk indexes any raw text; a JSON object line, or JSON objects
  back to back (Vector's raw endpoint target), is an event object as on ``/event`` (:func:`raw_events`).
- ``GET /services/collector/health`` (and ``/1.0``): ``{"text": "HEC is healthy", "code": 17}``,
  without a token too, as Splunk answers a load balancer's probe; a token sent is checked.
- ``POST /services/collector/ack`` with a channel (header or ``?channel=``; 400 code 10
  without) and ``{"acks": [ids]}``: answers ``{"acks": {"<id>": bool}}`` (:class:`AckLedger`).
  An ``ackId`` is handed out (per channel, from 0) only when the request names a channel and
  only once its data is durable, so it is ``true`` at the first query, then forgotten, as
  Splunk does; an id never handed out on that channel is ``false``.
- A channel (``X-Splunk-Request-Channel``, else ``?channel=``) is a GUID the sender picks (Splunk's "About
  channels and sending data"): one that is not is refused on every route with Splunk's 400 code 11 (Invalid
  data channel), as Splunk and OpenTelemetry's HEC receiver answer; the body of an ``/event`` or ``/raw``
  request so refused is dead-lettered with the reason (its sender was told it is not taken). A GUID is taken
  as ``uuid.Parse`` spells one (hyphenated, in braces, after ``urn:uuid:``, 32 hex digits; any case) and acks
  are kept per GUID, however it is spelt.

Format per event: ``sourcetype`` through the built-in map plus ``ingest.hec.sourcetype_formats``,
else auto-detection on the event (an event object wrapping one read line, such as Fluent Bit's
``{"log": line}`` or Vector's ``{"message": line}``, is that line when a specific format reads
it: :func:`~secpipe.server.shipped.lines_in`). Events that only the generic ``json`` format recognizes
are stored as their whole envelope (so HEC's time, host, source and fields are kept); the
events of a specific format keep them too (:func:`_in_context`: ``host`` and the OpenTelemetry
attributes of ``fields`` in ``device``/``cloud`` where the format left those empty, a ``source`` that is a
file path (or ``fields``' ``log.file.path``) as ``metadata.log_source``, all of it in ``unmapped`` as ``hec``;
an event object's own context wins: a Filebeat document's host and file); a
``time`` sent as a string of epoch seconds (Splunk takes ``"1700000000.123"`` too) is made a
number there, so it is read as the event time. Answers are sent once everything is durable
(WAL fsync): ``{"text": "Success", "code": 0}``; data that could not be made durable answers
503 code 9 (Server is busy), which senders retry.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats._context import Context, hint, otel_fields, split
from secpipe.formats.base import BOM, DeadLetter, not_utf8
from secpipe.formats.generic_json import GenericJSON
from secpipe.server.http import (
    STORE_ERRORS,
    AppContext,
    HTTPError,
    Limits,
    authenticate,
    json_response,
    route,
    store_failed,
)
from secpipe.server.shipped import LINE_KEYS, TEXT_FORMATS, lines_in, text_lines
from secpipe.server.wire import (
    ShippedLine,
    accept_docs,
    check_depth,
    check_depth_figure,
    check_parts_depth,
    check_strings,
    dead_letter,
    detect_many,
    ingest_config,
    read_body_limited,
    who,
    with_hosts,
)
from secpipe.server.workers import in_thread

#: sourcetype -> secpipe format (formats that are not installed are skipped at lookup).
SOURCETYPES = {
    "aws:cloudtrail": "cloudtrail", "aws:cloudtrail:json": "cloudtrail",
    "kube:apiserver:audit": "k8s_audit", "k8s:audit": "k8s_audit", "kubernetes:audit": "k8s_audit",
    "falco": "falco", "falco:alert": "falco", "opa:decision": "opa", "opa": "opa",
    "github:webhook": "github", "gitlab:webhook": "gitlab", "alertmanager": "alertmanager",
    "syslog": "syslog", "linux_secure": "syslog", "linux_messages_syslog": "syslog", "nix:syslog": "syslog",
    "kube:apiserver-audit": "k8s_audit", "trivy": "trivy", "snyk": "snyk", "sarif": "sarif",
    "_json": None, "json": "json",
}  # fmt: skip

# Splunk's codes: https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector
_TEXT = {0: "Success", 2: "Token is required", 3: "Invalid authorization", 4: "Invalid token", 5: "No data",
         6: "Invalid data format", 8: "Internal server error", 9: "Server is busy", 10: "Data channel is missing",
         11: "Invalid data channel", 12: "Event field is required", 13: "Event field cannot be blank",
         16: "Query string authorization is not enabled", 17: "HEC is healthy"}  # fmt: skip
_SPLIT = re.compile(rb"}\s*{")
#: where an event that is no JSON ends: before the next line that opens an object
_NEXT_OBJECT = re.compile(r"\n\s*(?=\{)")
_STRING_TIME = re.compile(rb'"time"\s*:\s*"')


class _Envelope(msgspec.Struct):
    event: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    sourcetype: str | None = None
    time: Any = None  # epoch seconds, a number or (Splunk allows it) a string
    host: Any = None
    source: Any = None
    index: Any = None
    fields: Any = None

    def meta(self) -> dict[str, Any]:
        """What the envelope says of its event besides its time and sourcetype (HEC's ``host``,
        ``source``, ``index``, ``fields``: those it has)."""
        return {k: v for k, v in (("host", self.host), ("source", self.source), ("index", self.index),
                                  ("fields", self.fields)) if v is not None}  # fmt: skip


_ENVELOPES = msgspec.json.Decoder(list[_Envelope])
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_RAW = msgspec.json.Decoder(msgspec.Raw)
_ENVELOPE = msgspec.json.Decoder(_Envelope)


class HecError(HTTPError):
    """A HEC answer other than success: HTTP status, Splunk code, text."""

    def __init__(self, status: int, code: int, text: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(status, text or _TEXT.get(code, "Invalid data format"))
        self.body = {"text": text or _TEXT.get(code, "Invalid data format"), "code": code, **extra}
        self.headers = headers


class _BadChannel(HecError):
    """Splunk's answer to a channel that is no GUID (400 code 11, its text alone), with what was wrong (``detail``:
    the dead letter's reason)."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, 11)
        self.detail = detail


def _bad_event(n: int, **more: Any) -> dict[str, Any]:
    """The ``invalid-event-number`` detail of a HecError (hyphenated, so passed as ``**``)."""
    return {"invalid-event-number": n, **more}


def hec_token(request: Request, query_string_auth: bool = False) -> str:
    """The token from ``Splunk``/``Bearer``/Basic credentials, else from ``?token=`` when
    ``query_string_auth``; HecError otherwise (401 code 2 none, 401 code 3 unreadable,
    400 code 16 a query-string token while that is off)."""
    header = request.headers.get("authorization", "")
    if not header:
        token = request.query_params.get("token")
        if token and query_string_auth:
            return token
        if token:
            raise HecError(400, 16)
        raise HecError(401, 2)
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("splunk", "bearer") and value:
        return value
    if scheme == "basic" and value:
        try:
            return base64.b64decode(value, validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            raise HecError(401, 3) from None
    raise HecError(401, 3)


def split_events(body: bytes, limits: Limits | None = None) -> list[bytes]:
    """Concatenated JSON objects -> one raw object each; HecError 400 (code 6) when malformed."""
    return _split(body, limits)[0]


def _split(body: bytes, limits: Limits | None) -> tuple[list[bytes], bytes]:
    """:func:`_events` of a body every event of which is JSON; HecError 400 (code 6) otherwise."""
    raws, array, unreadable = _events(body, limits, apart=False)
    if unreadable:
        raise HecError(400, 6, **_bad_event(min(unreadable)))
    return raws, array


def _events(body: bytes, limits: Limits | None, *, apart: bool = True,
            ) -> tuple[list[bytes], bytes, dict[int, tuple[bytes, str]]]:
    """The raw events, the same events as one JSON array (decoded once more by the caller), and
    the events set apart by their number in the body (0 the first), with their text and why.

    An event that is no JSON (cut short, a stray line) ends where the next line opening an object
    begins (shippers write one event a line): the events after it are read on, as Splunk would
    not (it indexes those before and answers code 6 with ``invalid-event-number``). On the fast
    paths an event over a JSON limit is set apart too (:func:`_within`), unless not ``apart``
    (the limit's HTTPError then).

    Fast path: cut at ``}<whitespace>{`` and decode as one array joined by ``\\n,`` -- a cut
    inside a string would leave a raw newline inside that string, which JSON forbids, so the
    fast path never misreads; on any failure the exact incremental parser decides.
    ``limits``: JSON depth and string length are checked (HTTPError), per event on the fast
    path, on the whole body before the incremental parser (which recurses) runs.

    With the native extension a body of compact JSON objects (what shippers send) is cut,
    checked and measured in one pass (``hec_split``, native/src/bulk.rs: the same events,
    array and depth as these paths give it); any other body takes them.
    """
    native = getattr(_fast._module(), "hec_split", None)
    found = native(body) if native is not None else None
    if found is not None:
        depth, raws, array = found
        return _checked(body, raws, array, limits, apart, depth)
    text = body.strip()
    if not text:
        raise HecError(400, 5)
    array = b"".join((b"[", _SPLIT.sub(b"}\n,{", text), b"]"))  # one copy of the cut body
    try:
        raws = [bytes(r) for r in _RAWS.decode(array)]
    except msgspec.DecodeError:
        pass
    except RecursionError:  # msgspec's own nesting guard (~1000 levels): deeper than any limit allows
        if limits is not None:
            check_depth(body, limits.max_json_depth, limits.max_string_bytes)
        raise HecError(400, 6, "JSON nesting too deep") from None
    else:
        return _checked(body, raws, array, limits, apart)
    if limits is not None:
        check_depth(body, limits.max_json_depth, limits.max_string_bytes)
    dec = json.JSONDecoder()
    s = text.decode("utf-8", "replace")
    out: list[bytes] = []
    unreadable: dict[int, tuple[bytes, str]] = {}
    pos = 0
    while pos < len(s):
        try:
            _obj, end = dec.raw_decode(s, pos)
        except json.JSONDecodeError as exc:
            found = _NEXT_OBJECT.search(s, pos)
            end = found.end() if found is not None else len(s)
            unreadable[len(out) + len(unreadable)] = (s[pos:end].rstrip().encode(), f"not JSON: {exc.msg}")
        else:
            out.append(s[pos:end].encode())
        pos = end
        while pos < len(s) and s[pos].isspace():
            pos += 1
    return out, b"[" + b",".join(out) + b"]", unreadable


def raw_line_events(body: bytes, meta: dict[str, str]) -> list[bytes]:
    """Raw HEC text that no format recognizes -> one event envelope per non-blank line
    (``{"event": line, "host", "source", "sourcetype", "index"}`` from the query string),
    for the generic ``json`` format; undecodable bytes are replaced (U+FFFD)."""
    lines = [ln for ln in body.decode("utf-8", "replace").splitlines() if ln.strip()]
    return [bytes(b) for b in _RAWS.decode(msgspec.json.encode([{"event": ln, **meta} for ln in lines]))]


def _is_json(line: bytes) -> bool:
    try:
        _RAW.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def raw_events(body: bytes, meta: dict[str, str]) -> tuple[str | list[str | None], list[bytes]]:
    """Raw HEC data no format reads whole -> a format name and a document per non-blank line.

    A line that is a JSON object is an event object, as ``/services/collector/event`` takes one
    (Vector's ``splunk_hec_logs`` with ``endpoint_target: raw`` and a JSON codec sends its events
    JSON-encoded, back to back: such a body is cut into its objects): stored with the format that
    reads it, or as the line it wraps
    (:func:`~secpipe.server.shipped.lines_in`), else whole as the event of an envelope
    with the query string's ``host``/``source``/``sourcetype``/``index`` (generic ``json``).
    Other lines are :func:`raw_line_events`."""
    lines = [ln.strip() for ln in body.split(b"\n") if ln.strip()]
    if body.lstrip()[:1] == b"{" and body.rstrip()[-1:] == b"}" and not all(_is_json(ln) for ln in lines):
        try:  # objects back to back, not a line each (Vector's raw endpoint target joins its events so)
            lines = split_events(body)
        except HecError:
            pass
    objs = [n for n, ln in enumerate(lines) if ln[:1] == b"{" and _is_json(ln)]
    if not objs:
        return GenericJSON.name, raw_line_events(body, meta)
    docs = [lines[n] for n in objs]
    found = [f.name if f is not None else None for f in detect_many(docs)]  # generic json for any object
    generic = [i for i, name in enumerate(found) if name == GenericJSON.name]
    for i, line in zip(generic, lines_in([docs[i] for i in generic]), strict=True):
        if line is not None and line[0] != GenericJSON.name:  # (a line json claims: the object stays whole)
            found[i], docs[i] = line
    names: list[str | None] = [GenericJSON.name] * len(lines)
    out = [msgspec.json.encode({"event": ln.decode("utf-8", "replace"), **meta}) for ln in lines]
    for n, name, doc in zip(objs, found, docs, strict=True):
        if name not in (None, GenericJSON.name):  # a wrapped line names the host of ?host= where it names none
            names[n], out[n] = name, doc if getattr(doc, "host", None) else with_hosts([doc], [meta.get("host")])[0]
        elif name is not None:  # a JSON object only the generic format reads: the event of an envelope
            out[n] = msgspec.json.encode({"event": msgspec.Raw(doc), **meta})
    return names, out


#: a GUID as a channel is spelt (the forms Go's ``uuid.Parse`` takes, as OpenTelemetry's HEC receiver checks it):
#: 8-4-4-4-12 hex digits, in braces or after ``urn:uuid:``, or 32 hex digits
_GUID = re.compile(r"(?i)(?:urn:uuid:)?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})"
                   r"|\{([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}|([0-9a-f]{32})")


def _channel(request: Request) -> str | None:
    """The request's HEC channel (``X-Splunk-Request-Channel``, else ``?channel=``; None: neither, or blank) as
    one GUID spelling (lower case, hyphenated), so acks are kept per GUID however a sender spells it. A channel
    that is no GUID raises Splunk's 400 code 11 (Invalid data channel)."""
    given = request.headers.get("x-splunk-request-channel") or request.query_params.get("channel") or None
    if given is None:
        return None
    m = _GUID.fullmatch(given.strip())
    if m is None:
        where = "X-Splunk-Request-Channel" if request.headers.get("x-splunk-request-channel") else "?channel="
        why = f"{where} {given[:64]!r} is no GUID (a channel is a GUID the sender picks: 3c1f6a5e-9d1c-4b56-...)"
        raise _BadChannel(why)
    hexed = "".join(g for g in m.groups() if g).lower()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


class _AckQuery(msgspec.Struct, forbid_unknown_fields=True):
    acks: list[int]


class AckLedger:
    """Indexer acknowledgement, Splunk's way: ``ackId`` counts from 0 per channel, and an ack
    query answers ``true`` for an id handed out on that channel (secpipe hands one out only
    once the request is durable, so every id it has given is already acknowledged) and
    forgets it; ``false`` for any other id (never given, already reported, or on another
    channel). Bounded: the least recently used channels and each channel's oldest ids are
    dropped past the caps (a dropped id answers ``false``; the client then re-sends, and
    the lake's dedup by content absorbs the copy)."""

    def __init__(self, max_channels: int = 10_000, max_ids: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._channels: OrderedDict[str, tuple[itertools.count[int], dict[int, None]]] = OrderedDict()
        self.max_channels = max_channels
        self.max_ids = max_ids

    def issue(self, channel: str) -> int:
        """A new ``ackId`` on ``channel`` for a request already durable."""
        with self._lock:
            entry = self._channels.get(channel)
            if entry is None:
                entry = self._channels[channel] = (itertools.count(), {})
                if len(self._channels) > self.max_channels:
                    self._channels.popitem(last=False)
            self._channels.move_to_end(channel)
            ack_id = next(entry[0])
            pending = entry[1]
            pending[ack_id] = None
            if len(pending) > self.max_ids:
                del pending[next(iter(pending))]
            return ack_id

    def query(self, channel: str, ids: list[int]) -> dict[str, bool]:
        """``{"<id>": acknowledged}`` for each id asked about on ``channel``."""
        with self._lock:
            entry = self._channels.get(channel)
            pending = entry[1] if entry is not None else {}
            return {str(i): pending.pop(i, False) is None for i in ids}


def _format_of(sourcetype: str | None, extra: dict[str, str]) -> str | None:
    if not sourcetype:
        return None
    name = extra.get(sourcetype, SOURCETYPES.get(sourcetype))
    return name if name in formats.REGISTRY else None


def build_items(raws: list[bytes], default_st: str | None, extra: dict[str, str],
                array: bytes | None = None) -> tuple[str | list[str | None], list[bytes]]:
    """HEC envelopes -> format name(s) and documents; HecError 400 on the first bad one.

    Returns one name for every document when the envelopes agree (one sourcetype, the
    common case: nothing is looked up per event), else one name per document. Events only
    the generic ``json`` format recognizes are their whole envelope. ``array``: the
    envelopes as one JSON array when the caller has it (saves a join).
    """
    try:
        envs = _ENVELOPES.decode(array if array is not None else b"[" + b",".join(raws) + b"]")
    except (msgspec.DecodeError, UnicodeDecodeError):  # (a string of an envelope that is no UTF-8:
        envs = []  # the route checks the body first, a file of envelopes is read as it is)
        for n, raw in enumerate(raws):
            try:
                envs.append(_ENVELOPE.decode(raw))
            except (msgspec.DecodeError, UnicodeDecodeError):
                raise HecError(400, 6, **_bad_event(n)) from None
    events = [bytes(env.event) for env in envs]  # a Raw value: no whitespace around it
    bad = [(events.index(v), code) for v, code in ((b"null", 12), (b'""', 13), (b"{}", 13)) if v in events]
    if bad:
        n, code = min(bad)
        raise HecError(400, code, **_bad_event(n))
    if b'"' in b"".join([ev[:1] for ev in events]):  # string events: their text is the document
        try:
            events = [msgspec.json.decode(ev, type=str).encode() if ev[:1] == b'"' else ev for ev in events]
        except UnicodeDecodeError:
            n = next(n for n, ev in enumerate(events) if ev[:1] == b'"' and not_utf8(ev))
            raise HecError(400, 6, **_bad_event(n)) from None
    types = [env.sourcetype for env in envs]
    generic = GenericJSON.name
    if types.count(types[0]) == len(types):
        one = _format_of(types[0] or default_st, extra)
        if one in TEXT_FORMATS:
            return one, _in_context([one], _hosted(text_lines(events, one, array), envs), envs)
        if one not in (None, generic):
            return one, _in_context([one], text_lines(events, one, array), envs)
        names: list[str | None] = [one] * len(events)
    else:
        known = {t: _format_of(t or default_st, extra) for t in set(types)}
        names = [known[t] for t in types]
        events = text_lines(events, names)
    auto = [n for n, name in enumerate(names) if name is None]
    for n, fmt in zip(auto, detect_many([events[n] for n in auto], catch_all=False), strict=True):
        names[n] = fmt.name if fmt is not None else None
    # an event object that wraps one read line (Fluent Bit's {"log": line}, Vector's {"message": line}):
    # the line, when a specific format reads it (as a string event's text is)
    objs = [n for n in auto if names[n] is None and events[n][:1] == b"{"]
    if objs and _fast.contains_any(b"".join([events[n] for n in objs]), LINE_KEYS):
        for n, found in zip(objs, lines_in([events[n] for n in objs]), strict=True):
            if found is not None:
                names[n], events[n] = found
    docs = [raw if name in (None, generic) else ev for name, ev, raw in zip(names, events, raws, strict=True)]
    text = [n for n, name in enumerate(names) if name in TEXT_FORMATS]
    if text:
        for n, doc in zip(text, _hosted([docs[n] for n in text], [envs[n] for n in text]), strict=True):
            docs[n] = doc
    if _STRING_TIME.search(array if array is not None else b"".join(raws)):  # one C scan, rarely true
        for n in [n for n, env in enumerate(envs) if isinstance(env.time, str)]:
            if names[n] in (None, generic):
                docs[n] = _numeric_time(docs[n])
    return [generic if name is None else name for name in names], _in_context(names, docs, envs)


def _checked(body: bytes, raws: list[bytes], array: bytes, limits: Limits | None, apart: bool,
             depth: int | None = None) -> tuple[list[bytes], bytes, dict[int, tuple[bytes, str]]]:
    """:func:`_events` of a body cut on a fast path: its events checked against ``limits`` (their
    deepest nesting ``depth`` when measured, else each part's), those over set apart
    (:func:`_within`) or, unless ``apart``, the limit's HTTPError raised."""
    if limits is None:
        return raws, array, {}
    try:
        if depth is None:
            check_parts_depth(array, raws, limits.max_json_depth)
        else:
            check_depth_figure(depth, limits.max_json_depth)
        check_strings(body, limits.max_string_bytes)
    except HTTPError as exc:
        if not apart:
            raise
        return _within(raws, limits, exc)
    return raws, array, {}


def _within(raws: list[bytes], limits: Limits, exc: HTTPError) -> tuple[list[bytes], bytes, dict[int, tuple[bytes, str]]]:
    """:func:`_events` of events some of which are over a JSON limit (``exc``: the body's check
    said so), each checked alone: those within, as a JSON array too, and those over, with why."""
    over: dict[int, tuple[bytes, str]] = {}
    for n, raw in enumerate(raws):
        try:
            check_depth(raw, limits.max_json_depth, limits.max_string_bytes)
        except HTTPError as one:
            over[n] = (raw, str(one))
    if not over:  # (no event alone is over: the body's figure said more than its events do)
        raise exc
    kept = [raw for n, raw in enumerate(raws) if n not in over]
    return kept, b"[" + b",".join(kept) + b"]", over


def _event_error(raw: bytes) -> tuple[int, str] | None:
    """The Splunk code :func:`build_items` refuses one envelope with (6 not an envelope, 12 no
    event, 13 a blank one, 6 a string event that is no UTF-8) and why; None for one it takes."""
    try:
        event = bytes(_ENVELOPE.decode(raw).event)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return 6, f"not an event envelope: {exc}"
    if event[:1] == b'"':
        try:
            msgspec.json.decode(event, type=str)
        except UnicodeDecodeError:
            return 6, "a string event that is not UTF-8"
    return (12, "no event") if event == b"null" else (13, "a blank event") if event in (b'""', b"{}") else None


def screened_items(raws: list[bytes], unreadable: dict[int, tuple[bytes, str]], default_st: str | None,
                   extra: dict[str, str], array: bytes | None = None,
                   ) -> tuple[str | list[str | None], list[bytes], Sequence[int], dict[int, tuple[int, bytes, str]]]:
    """:func:`build_items` of the envelopes it takes, the others set apart: the format name(s) and
    documents, each document's event number in the body (0 the first), and the Splunk code, text
    and why of each refused event by its number (``unreadable``: those :func:`_events` set apart,
    code 6). The envelopes are built together (one decode) unless one is refused."""
    refused = {n: (6, text, why) for n, (text, why) in unreadable.items()}
    numbers: Sequence[int] = range(len(raws))
    if unreadable:
        numbers = [n for n in range(len(raws) + len(unreadable)) if n not in unreadable]
    if not raws:  # (every event set apart: nothing to build)
        return [], [], numbers, refused
    try:
        names, docs = build_items(raws, default_st, extra, None if unreadable else array)
        return names, docs, numbers, refused
    except HecError:
        pass
    codes = [_event_error(raw) for raw in raws]
    refused.update((n, (code[0], raw, code[1])) for n, code, raw in zip(numbers, codes, raws, strict=True) if code)
    kept = [raw for raw, code in zip(raws, codes, strict=True) if code is None]
    numbers = [n for n, code in zip(numbers, codes, strict=True) if code is None]
    names, docs = build_items(kept, default_st, extra) if kept else ([], [])
    return names, docs, numbers, refused


def screened_events(body: bytes, limits: Limits | None, default_st: str | None, extra: dict[str, str],
                    ) -> tuple[str | list[str | None], list[bytes], Sequence[int], dict[int, tuple[int, bytes, str]]]:
    """The events of a ``/event`` body (:func:`_events`) screened (:func:`screened_items`): what the route
    and a file of HEC envelopes (``sources.files``) store, and the refused events by their number."""
    raws, array, unreadable = _events(body, limits)
    return screened_items(raws, unreadable, default_st, extra, array)


def refusal(code: int, n: int, why: str, of: str) -> str:
    """What the dead letter of a refused event says: HEC's text and code, its number in the ``of``
    (the request, the file) and why."""
    return f"{_TEXT[code]} (code {code}): event {n} of the {of}: {why}"


def _in_context(names: list[str | None], docs: list[bytes], envs: list[_Envelope]) -> list[bytes]:
    """The events a specific format reads (``names``: one per event, or one for all), each with
    the context hint of what its envelope says besides (:mod:`secpipe.formats._context`): its
    ``host`` the device's host name (where the event names none), its ``fields`` (what the OpenTelemetry Collector's
    ``splunk_hec`` exporter makes of a record's resource: ``k8s.pod.uid``, ``cloud.region``...,
    by their OTel names) in their OCSF places, all of it in ``unmapped`` as ``hec``. An event object
    that says where it came from itself (a Filebeat document around its line: its ``host``, ``log.file.path``,
    ``agent``, the context of :func:`~secpipe.server.shipped.envelope_hint`) keeps what it says: the envelope
    only fills what the event leaves out (:func:`_merged`). An event only the generic ``json`` format reads is
    its whole envelope already; envelopes that say nothing more (``event``, ``time``, ``sourcetype``) cost
    one look at each (~0.08 us; a C scan of the envelopes for those keys cost ~0.4 us an event)."""
    if all(e.host is None and e.source is None and e.index is None and e.fields is None for e in envs):
        return docs
    hints: dict[tuple[bytes, str | None, str | None], str] = {}
    out = list(docs)
    for n, env in enumerate(envs):
        if names[n if len(names) > 1 else 0] in (None, GenericJSON.name) or not (meta := env.meta()):
            continue
        doc = out[n]
        own, host = getattr(doc, "context", None), getattr(doc, "host", None)
        key = (msgspec.json.encode(meta), own, host)
        found = hints.get(key)
        if found is None:
            fields = otel_fields(env.fields) if env.fields.__class__ is dict else {}
            if host is not None or isinstance(env.host, str) and env.host:
                fields["device.hostname"] = host or env.host
            if (path := _file_of(env)) is not None:
                fields["metadata.log_source"] = path
            found = hints[key] = _merged(own, Context(fields, {"hec": meta}))
        out[n] = ShippedLine(doc, host, getattr(doc, "at", None), found)
    return out


#: a file path as a HEC ``source`` names the file its events were read from (Splunk's file monitor inputs, Splunk
#: Connect for Kubernetes' ``/var/log/containers/...``): absolute POSIX or Windows
_FILE_PATH = re.compile(r"/[^\x00]*[^/]|[A-Za-z]:\\.+")


def _file_of(env: _Envelope) -> str | None:
    """The file an envelope's events were read from (OCSF ``metadata.log_source``, "a file path"): its ``fields``'
    ``log.file.path`` (the OpenTelemetry Collector's ``splunk_hec`` exporter puts a record's attributes there), else its
    ``source`` when that is a file path (what Splunk sets it to for a monitored file; any other source names an app)."""
    path = env.fields.get("log.file.path") if env.fields.__class__ is dict else None
    if isinstance(path, str) and path:
        return path
    return env.source if isinstance(env.source, str) and _FILE_PATH.fullmatch(env.source) else None


def _merged(own: str | None, envelope: Context) -> str:
    """The hint of an event's own context (``own``, a hint; None: it has none) with what its HEC envelope
    says where the event's says nothing: the event's fields and ``unmapped`` keys win."""
    mine = split(own)[1] if own is not None else None
    if mine is None:
        return hint(envelope)
    return hint(Context({**envelope.fields, **mine.fields}, {**envelope.unmapped, **mine.unmapped}))


def _hosted(lines: list[bytes], envs: list[_Envelope]) -> list[bytes]:
    """Lines bound for a text format, each naming the host the object it came out of named (a
    Filebeat document's ``host.name``: :class:`~secpipe.server.wire.ShippedLine`, whose context it keeps),
    else its envelope's ``host`` (the host the sender read it on), and likewise the time (the year of a
    syslog stamp without one): the event's own first, the envelope filling what it leaves out."""
    out = []
    for ln, env in zip(lines, envs, strict=True):
        host, at = getattr(ln, "host", None) or env.host, getattr(ln, "at", None)
        if at is None and env.time is not None:
            at = _ms(env.time)
        out.append(ShippedLine(ln, host, at, getattr(ln, "context", None)) if host.__class__ is str or at is not None
                   else ln)  # fmt: skip
    return out


def _ms(time: Any) -> int | None:
    """An envelope's ``time`` (epoch seconds, a number or a string of one) as epoch ms."""
    try:
        sec = float(time)
    except (TypeError, ValueError):
        return None
    return int(sec * 1000) if 0 < sec < 1e11 and time.__class__ is not bool else None


def _numeric_time(envelope: bytes) -> bytes:
    """The envelope with a string ``time`` (``"1700000000.123"``: Splunk takes epoch seconds as
    a string too) as a JSON number, so it is read as epoch seconds; unchanged when the string
    is not a number (the generic format then tries it as an ISO-8601 time), or when the envelope is
    no UTF-8 (a file's envelopes are not checked before: the generic format dead-letters it)."""
    try:
        env = msgspec.json.decode(envelope)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return envelope
    try:
        env["time"] = float(env["time"])
    except ValueError:
        return envelope
    return msgspec.json.encode(env)


def routes(ctx: AppContext) -> list[Route]:
    """The HEC routes (none when ``ingest.hec.enabled`` is false)."""
    conf = ingest_config(ctx).hec
    if not conf.enabled:
        return []
    acks = AckLedger()

    def endpoint(fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                token = hec_token(request, conf.allow_query_string_auth)
                try:
                    authenticate(ctx, request, "ingest", token=token)
                except HTTPError as exc:  # unknown token, a role without ingest, or over the rate
                    if exc.status == 429:  # Splunk's "Server is busy": shippers back off and retry
                        raise HecError(503, 9, headers=exc.headers) from None
                    raise HecError(403, 4, None if exc.status == 401 else f"Invalid token: {exc}") from None
                out = await fn(request)
            except HecError as exc:
                return json_response(exc.body, exc.status, headers=exc.headers)
            except STORE_ERRORS as exc:  # not durable: Splunk's "Server is busy", which senders retry
                store_failed(exc)
                return json_response({"text": _TEXT[9], "code": 9}, 503)
            except HTTPError as exc:  # limits (408/413/415), unreadable gzip (400), missing format (503)
                return json_response({"text": str(exc), "code": 9 if exc.status == 503 else 6}, exc.status)
            return out if isinstance(out, Response) else json_response(out)

        return handler

    def ack_id(channel: str | None) -> dict[str, Any]:
        return {"ackId": acks.issue(channel)} if channel else {}

    async def channel_of(request: Request, source: str, body: bytes) -> str | None:
        """The request's channel; one that is no GUID refuses the request (400 code 11, as Splunk), its body
        dead-lettered with the reason (the sender was told it is not taken; nothing of it is stored)."""
        try:
            return _channel(request)
        except _BadChannel as exc:
            if body.strip():
                await dead_letter(ctx, f"HEC Invalid data channel: {exc.detail}", source, body, "auto")
            raise

    async def event(request: Request) -> dict[str, Any]:
        source = f"hec:{who(request)}"
        body = (await read_body_limited(ctx, request, source, "auto", json_body=False)).removeprefix(BOM)  # RFC 8259 8.1
        channel = await channel_of(request, source, body)
        try:
            # (JSON limits are checked per event here)
            names, docs, numbers, refused = screened_events(body, ctx.limits, request.query_params.get("sourcetype"),
                                                            conf.sourcetype_formats)  # fmt: skip
        except HecError as exc:
            await dead_letter(ctx, f"HEC {exc.body['text']}: {exc.body}", source, body, "auto")
            raise
        except HTTPError as exc:
            await dead_letter(ctx, str(exc), source, body, "auto")
            raise
        reasons = await in_thread(lambda: accept_docs(ctx, source, names, docs, contexts=True)) if docs else []
        if refused:  # stored the others first: a retry of the request (a 503 here) finds them in the lake
            dead = [DeadLetter(f"HEC {refusal(code, n, why, 'request')}", source, n, raw, "auto")
                    for n, (code, raw, why) in sorted(refused.items())]  # fmt: skip
            await in_thread(ctx.service.dead_letter, dead)
            # as Splunk answers (its number the first refused event's), though every event it takes is stored
            first = min(refused)
            raise HecError(400, refused[first][0], **_bad_event(first))
        bad = [n for n, r in enumerate(reasons) if r is not None]
        if bad and len(bad) == len(reasons):
            raise HecError(400, 6, **_bad_event(numbers[bad[0]], reason=reasons[bad[0]]))
        return {"text": "Success", "code": 0, **ack_id(channel)}

    async def raw(request: Request) -> dict[str, Any]:
        source = f"hec_raw:{who(request)}"
        body = await read_body_limited(ctx, request, source, "auto", json_body=False)
        channel = await channel_of(request, source, body)
        if not body.strip():
            raise HecError(400, 5)
        params = request.query_params
        name = _format_of(params.get("sourcetype"), conf.sourcetype_formats)
        found = formats.detect(body[: 64 * 1024]) if name is None else None
        if name is None and found is None:
            # text no format knows: one event per line, as Splunk indexes raw data
            meta = {k: params[k] for k in ("host", "source", "sourcetype", "index") if k in params}
            if b"{" in body:  # JSON object lines (an encoder's events): their depth and strings within the limits
                try:
                    check_depth(body, ctx.limits.max_json_depth, ctx.limits.max_string_bytes, ndjson=True)
                except HTTPError as exc:  # refused whole, as /event refuses its body: kept with the reason
                    await dead_letter(ctx, str(exc), source, body, "auto")
                    raise
            names, docs = raw_events(body, meta)
        else:  # the lines of one host (?host=): the device of those that name none; what the query string says
            # of them (host, a file path source, index) their context, as an event envelope's
            names, docs = [name], with_hosts([body], [params.get("host")])
            env = _Envelope(host=params.get("host"), source=params.get("source"), index=params.get("index"))
            docs = _in_context([name or found.name], docs, [env])  # type: ignore[union-attr]
        reasons = await in_thread(lambda: accept_docs(ctx, source, names, docs, contexts=True))
        bad = [r for r in reasons if r is not None]
        if bad and len(bad) == len(reasons):
            raise HecError(400, 6, reason=bad[0])
        return {"text": "Success", "code": 0, **ack_id(channel)}

    async def health(_request: Request) -> dict[str, Any]:
        return {"text": "HEC is healthy", "code": 17}

    async def ack(request: Request) -> dict[str, Any]:
        channel = _channel(request)
        if not channel:
            raise HecError(400, 10)
        raw = await read_body_limited(ctx, request, f"hec_ack:{who(request)}", "json", dead_letters=False)
        try:
            query = msgspec.json.decode(raw, type=_AckQuery)
        except (msgspec.DecodeError, UnicodeDecodeError):  # (msgspec: a string not UTF-8)
            raise HecError(400, 6) from None
        return {"acks": acks.query(channel, query.acks)}

    out = []
    for base in ("/services/collector", "/services/collector/event", "/services/collector/event/1.0"):
        out.append(route("POST", base, "ingest", endpoint(event)))
    for path in ("/services/collector/raw", "/services/collector/raw/1.0"):
        out.append(route("POST", path, "ingest", endpoint(raw)))
    checked_health = endpoint(health)

    async def any_health(request: Request) -> Response:
        # Splunk answers a load balancer's probe without a token; a sender that sends its token
        # has it checked (Vector's healthcheck finds a wrong token so)
        if request.headers.get("authorization") or request.query_params.get("token"):
            return await checked_health(request)
        return json_response({"text": "HEC is healthy", "code": 17})

    for path in ("/services/collector/health", "/services/collector/health/1.0"):
        out.append(route("GET", path, "public", any_health))
    out.append(route("POST", "/services/collector/ack", "ingest", endpoint(ack)))
    return out
