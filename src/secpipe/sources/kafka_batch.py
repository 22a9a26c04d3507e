"""Kafka messages -> OCSF batches: one decode per format for a whole poll, each event tagged
with the message it came from.

:func:`decode_messages` takes the messages of one consumer poll (:class:`Message`: topic,
partition, offset, key, timestamp, value) and returns what :meth:`Service.accept_many` stores:
the decoded batches and dead letters, and the poll's WAL record. It imports no Kafka client,
so it is tested without a broker.

- Format: the topic's (config), or ``auto``: detected per message shape
  (:func:`secpipe.server.wire.detect_many`, as ``_bulk`` items are; JSON that no specific
  format reads is dead-lettered, as file auto-detection does), after a shipper's document
  (Filebeat's, Fluent Bit's, Vector's ``message``/``log``/``event.original``) is read as the
  line it wraps (:func:`secpipe.server.shipped.shipped_lines`; for a named text format
  :func:`~secpipe.server.shipped.text_lines`), and a Kafka Connect JsonConverter envelope
  (``{"schema": ..., "payload": ...}``: what Connect source connectors write by default) is
  read as its payload (:func:`connect_payload`), a Vector ``native_json`` log event as its
  fields (:func:`vector_native_log`); a value its producer gzip-compressed is
  inflated first (within :data:`MAX_INFLATED`). A value that is an OTLP logs request (the
  OpenTelemetry Collector's ``kafka`` exporter: ``otlp_proto``, its default, or ``otlp_json``)
  is its records, each read as ``POST /v1/logs`` reads it, whatever the topic's format
  (:func:`_otlp_records`), the events of a specific format's records with their resource
  (:mod:`secpipe.formats._context`; decoded apart per resource). A value may be one JSON event, an array or NDJSON
  of them, a scanner report, or lines of a line format.
- One decode per format for the whole poll: record formats split each value
  (``split_records``) and map all records in one pass; line formats decode the values joined
  one a line; a document format (a scanner report) decodes each value on its own.
- Each event gets ``metadata.loggers`` = ``[{name: "kafka", log_provider: "Apache Kafka",
  log_name: <topic>, event_uid: "<topic>-<partition>@<offset>", logged_time: <message
  timestamp, ms>}]`` (the OCSF logger object: an intermediate store-and-forward log), and in
  ``metadata.tags`` the message's key (``{name: "kafka.key", value: <key>}``) and each of its
  headers, in order, a repeated one each time (``{name: "kafka.header.<name>", value: <value>}``:
  what the producer says of the record beside it, such as rsyslog omkafka's ``KafkaHeader``,
  Filebeat's ``output.kafka.headers``, Vector's ``headers_key`` field, a Connect
  ``InsertHeader``, a client's content type), text as UTF-8 (a byte that is not:
  ``\\xNN``), a null value null. A row is
  matched to its message by its ``raw_data`` (the record or line it was read from); a row
  whose record no message holds as such gets none (nothing is dropped for that).
- A value that cannot be read goes to the dead-letter store with the reason, source
  ``kafka:<topic>/<partition>@<offset>`` and offset = the message's offset; the others go on.
  A null value (a tombstone of a compacted topic) or a Connect envelope of a null payload
  holds no event: skipped (and committed).
- The WAL keeps a poll as one record (format :data:`WAL_FORMAT`: each message's coordinates,
  key, timestamp, resolved format, repeat hint, value as read, headers and context hint), so a replay after an unclean
  stop decodes it in one pass again, to the same events, tags and ``metadata.uid``
  (:func:`replay`).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
import orjson
import pyarrow as pa

from secpipe import formats
from secpipe._gzip import gunzip_limited
from secpipe.errors import LimitExceeded
from secpipe.formats._context import in_context
from secpipe.formats.base import DeadLetter, Decoded, Format, RecordFormat, Records, decode_document, guarded
from secpipe.sources.files import FileRepeats
from secpipe.store.wal import WalRecord, now_ms

#: the marker of a syslog repeat hint in a source (``secpipe.formats.syslog``'s ``_HINT``)
REPEATS_HINT = ";repeats="

log = logging.getLogger("secpipe.sources.kafka")
#: why a value no format recognizes is dead-lettered (as file and ``/v1/ingest/auto`` say it)
NO_FORMAT = ("unrecognized input: no format matched (name the topic's format in the kafka source's "
             "topic_formats; json stores any JSON object)")
_PREFIX = "kafka:"
#: ``WalRecord.format`` of a poll's record (see :func:`replay`)
WAL_FORMAT = "kafka-poll"
#: a record or line (as ``raw_data`` holds it) -> the poll's messages holding it, in order
Index = dict[str, list[int]]


@dataclass(slots=True)
class Message:
    """One Kafka message (the fields the source keeps of a ``confluent_kafka.Message``)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None
    timestamp_ms: int | None = None  # CreateTime or LogAppendTime, as the topic sets it
    headers: list[tuple[str, bytes | None]] | None = None  # in order; a key may repeat

    @property
    def source(self) -> str:
        """``kafka:<topic>/<partition>@<offset>`` (a topic name is ASCII letters, digits, ``.``, ``_``
        and ``-``: Kafka refuses any other)."""
        return f"{_PREFIX}{self.topic}/{self.partition}@{self.offset}"


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """Kafka Connect's JsonConverter envelope (``schemas.enable=true``, its default): exactly
    ``schema`` (null or the Connect schema) and ``payload`` (the record)."""

    schema: msgspec.Raw
    payload: msgspec.Raw


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_SCHEMA_TYPE = msgspec.json.Decoder(dict[str, msgspec.Raw])


class _Native(msgspec.Struct, forbid_unknown_fields=True):
    """A log event in Vector's ``native_json`` codec (its data model: ``{"log": {...}}``), what a
    Vector ``kafka`` sink writes with ``encoding.codec = "native_json"`` for another Vector."""

    log: msgspec.Raw


_NATIVE = msgspec.json.Decoder(_Native)


def vector_native_log(value: bytes) -> bytes:
    """The log event object a Vector ``native_json`` event holds (its ``message``, ``host``,
    ``timestamp``...: read as the shipper's document it is); any other value as it is."""
    if value[:1] != b"{" or b'"log"' not in value[:16]:
        return value
    try:
        event = bytes(_NATIVE.decode(value).log)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return value
    return event if event[:1] == b"{" else value


def connect_payload(value: bytes) -> bytes | None:
    """The record a Kafka Connect JsonConverter envelope holds: a string payload as its text (a
    line a FileStreamSource or syslog connector read, or JSON as text), a ``bytes`` one
    base64-decoded, an object or array as its JSON; None for a null payload (no record). Any
    other value is returned as it is."""
    if value[:1] != b"{" or b'"payload"' not in value or b'"schema"' not in value:
        return value
    try:
        env = _ENVELOPE.decode(value)
        payload = bytes(env.payload)
        if payload[:1] != b'"':
            return None if payload == b"null" else payload if payload[:1] in (b"{", b"[") else value
        text: str = msgspec.json.decode(payload)
        if bytes(env.schema)[:1] == b"{" and bytes(_SCHEMA_TYPE.decode(env.schema).get("type", b"")) == b'"bytes"':
            return base64.b64decode(text, validate=True)
    except (msgspec.DecodeError, UnicodeDecodeError, binascii.Error):
        return value
    return text.encode("utf-8", "surrogatepass")


#: the most a gzip-compressed value may inflate to (as ``server.max_decompressed_bytes``)
MAX_INFLATED = 256 << 20


def _inflated(m: Message, value: bytes, out: Decoded) -> bytes | None:
    """A value gzip-compressed by its producer (a CloudWatch Logs subscription's data relayed
    from Kinesis, a compressed file's bytes) inflated; one that does not inflate within
    :data:`MAX_INFLATED` is dead-lettered (None). Any other value as it is."""
    if value[:2] != b"\x1f\x8b":  # the gzip magic
        return value
    try:
        return gunzip_limited(value, MAX_INFLATED)
    except (ValueError, LimitExceeded) as exc:
        out.dead.append(DeadLetter(f"gzip value could not be inflated: {exc}", m.source, m.offset, value, "gzip"))
        out.events += 1
        return None


def decode_messages(msgs: Sequence[Message], format_of: Callable[[str], str],
                    repeats: FileRepeats | None = None) -> tuple[Decoded, list[WalRecord]]:
    """The OCSF batches and dead letters of a poll's messages, and its WAL record (see module
    docstring). ``format_of(topic)``: the topic's format name or ``auto``; ``repeats``: the
    source's stream of syslog lines (:func:`_repeat_hints`; None: a line repeated verbatim in
    another message is one event)."""
    out = Decoded()
    opened = []
    for m in msgs:
        if m.value:
            value = _inflated(m, bytes(m.value), out)
            opened.append((m, None if value is None else connect_payload(vector_native_log(value))))
    msgs = [m for m, doc in opened if doc]
    docs = [doc for _m, doc in opened if doc]
    msgs, docs, known = _otlp_records(msgs, docs)
    names: list[str | None] = [None if (n := format_of(m.topic)) == "auto" else n for m in msgs]
    names, docs = _resolved(names, docs, known)
    for m, name, doc in zip(msgs, names, docs, strict=True):
        if name is None:  # dead-lettered now: no part of the WAL record (nothing to replay)
            out.dead.append(DeadLetter(NO_FORMAT, m.source, m.offset, doc, "auto"))
            out.events += 1
    keep = [i for i, n in enumerate(names) if n is not None]
    if not keep:
        return out, []
    msgs, names, docs = [msgs[i] for i in keep], [names[i] for i in keep], [docs[i] for i in keep]
    hint_of = None if repeats is None else (lambda m, v: repeats.source("syslog", v, m.source)[len(m.source) :])
    contexts = [getattr(d, "context", None) for d in docs]  # an OTLP record's resource (_otlp_records)
    dec, hints = _decode_resolved(msgs, [str(n) for n in names], docs, hint_of, contexts)
    out.extend(dec)
    stored = [_Stored(m.topic, m.partition, m.offset, m.key, m.timestamp_ms, str(n), hints.get(i, ""), bytes(d),
                      m.headers, c)
              for i, (m, n, d, c) in enumerate(zip(msgs, names, docs, contexts, strict=True))]  # fmt: skip
    source = f"{msgs[0].source};messages={len(msgs)}"
    return out, [WalRecord(WAL_FORMAT, source, now_ms(), msgspec.msgpack.encode(stored))]


class _Stored(msgspec.Struct, array_like=True):
    """A message as a poll's WAL record keeps it: resolved (format, value as read), its repeat
    hint, its headers (last: a record written before they were kept has none)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    timestamp_ms: int | None
    format: str
    hint: str
    value: bytes
    headers: list[tuple[str, bytes | None]] | None = None
    context: str | None = None  # the context hint of an OTLP record (secpipe.formats._context)


_POLL = msgspec.msgpack.Decoder(list[_Stored])


def replay(body: bytes) -> Decoded:
    """A poll's WAL record decoded again (after an unclean stop): the same batches, tags, dead
    letters and ``metadata.uid`` as when it was accepted."""
    stored = _POLL.decode(body)
    msgs = [Message(s.topic, s.partition, s.offset, None, s.key, s.timestamp_ms, s.headers) for s in stored]
    hints = {id(m): s.hint for m, s in zip(msgs, stored, strict=True)}  # (an OTLP request's records share coordinates)
    dec, _hints = _decode_resolved(msgs, [s.format for s in stored], [s.value for s in stored],
                                   lambda m, v: hints[id(m)], [s.context for s in stored])  # fmt: skip
    return dec


#: what gives a message's syslog repeat hint (``;repeats=...`` or ""): the stream, or a WAL record
HintOf = Callable[[Message, bytes], str]


def _decode_resolved(msgs: list[Message], names: list[str], docs: list[bytes], hint_of: HintOf | None,
                     contexts: list[str | None]) -> tuple[Decoded, dict[int, str]]:  # fmt: skip
    """Messages whose format is known decoded, one pass per format and context (an OTLP record's
    resource: the events of its records stamped with it, :mod:`secpipe.formats._context`);
    returns also each syslog message's repeat hint (by position)."""
    out = Decoded()
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (name, ctx) in enumerate(zip(names, contexts, strict=True)):
        groups.setdefault((name, ctx), []).append(i)
    hints: dict[int, str] = {}
    for (name, ctx), idx in groups.items():
        fmt = formats.get(name)
        part = [msgs[i] for i in idx]
        values = [docs[i] for i in idx]
        if isinstance(fmt, RecordFormat):
            dec = _records(fmt, part, values)
        elif fmt.framing == "lines":
            dec, line_hints = _lines(fmt, part, values, hint_of if name == "syslog" else None)
            hints.update(zip(idx, line_hints, strict=True))
        else:
            dec = _each(fmt, part, values)
        out.extend(dec if ctx is None else in_context(dec, ctx))
    return out, hints


def _otlp_records(msgs: list[Message], docs: list[bytes]) -> tuple[list[Message], list[bytes], dict[int, str]]:
    """Each message that is an OTLP logs request (:func:`secpipe.server.otlp.message_records`)
    as its records, read as ``POST /v1/logs`` reads them (what a format reads, else the record
    whole as generic JSON): one message a record, at the request's coordinates, and the format
    of each (by position). Other messages as they are."""
    from secpipe.server.otlp import message_records, resolve_guarded

    found = {i: recs for i, d in enumerate(docs) if d[:1] in b"{\n" and (recs := message_records(d)) is not None}
    if not found:
        return msgs, docs, {}
    out_msgs: list[Message] = []
    out_docs: list[bytes] = []
    known: dict[int, str] = {}
    for i, (m, d) in enumerate(zip(msgs, docs, strict=True)):
        if i not in found:
            out_msgs.append(m)
            out_docs.append(d)
            continue
        try:
            encoded = [orjson.dumps(r) for r in found[i]]
        except TypeError:  # a record nested past orjson's 254 levels (resolve_guarded reads it as the document it is)
            encoded = [msgspec.json.encode(r) for r in found[i]]
        names, inner = resolve_guarded(found[i], encoded)
        for name, doc in zip(names, inner, strict=True):
            known[len(out_docs)] = name or "json"
            out_msgs.append(m)
            out_docs.append(doc)
    return out_msgs, out_docs, known


def _resolved(names: list[str | None], docs: list[bytes], known: dict[int, str]) -> tuple[list[str | None], list[bytes]]:
    """Format names for the ``auto`` values (None: no format), shippers' documents unwrapped;
    ``known``: the values whose format is already known (by position), left as they are."""
    from secpipe.server.shipped import shipped_lines, text_lines
    from secpipe.server.wire import detect_many

    if known:
        rest = [i for i in range(len(docs)) if i not in known]
        part_names, part_docs = _resolved([names[i] for i in rest], [docs[i] for i in rest], {})
        names = [known.get(i) for i in range(len(docs))]
        for i, n, d in zip(rest, part_names, part_docs, strict=True):
            names[i], docs[i] = n, d
        return names, docs
    for name in {n for n in names if n is not None}:  # a topic's format: one C scan of its values
        idx = [i for i, n in enumerate(names) if n == name]
        for i, doc in zip(idx, text_lines([docs[i] for i in idx], name), strict=True):
            docs[i] = doc
    auto = [i for i, n in enumerate(names) if n is None]
    if auto:
        names, docs = shipped_lines(names, docs)
        # the generic json format only where it claims a shape (file auto-detection's rule): JSON
        # no specific format reads is refused
        rest = [i for i in auto if names[i] in (None, "json")]
        for i, fmt in zip(rest, detect_many([docs[i] for i in rest], catch_all=False), strict=True):
            names[i] = fmt.name if fmt is not None else None
    return names, docs


def _split_joined(fmt: RecordFormat, msgs: list[Message], values: list[bytes]) -> tuple[Records, Index] | None:
    """The values split in one call when each is one JSON object on one line (what producers
    write: one event a message): joined one a line, each record and dead letter given the
    message its byte offset falls in. None when some value is not so, or a record's offset is
    not where a value begins (the caller then splits each value)."""
    # 0x0A, not b"\n": bytes.__contains__ tries a bytes needle as an integer first (a TypeError made
    # and cleared: ~400 against ~45 ns a message)
    if not all(v[:1] == b"{" and 0x0A not in v for v in values):
        return None
    starts = list(itertools.accumulate((len(v) + 1 for v in values[:-1]), initial=0))
    got = guarded(fmt, b"", msgs[0].source, lambda: fmt.split_records(b"\n".join(values), "kafka"))
    if not isinstance(got, Records) or got.docs:
        return None
    at = {o: n for n, o in enumerate(starts)}
    which = [at.get(off) for _src, off in got.locs] + [at.get(d.offset) for d in got.dead]
    if None in which:
        return None
    k = len(got.raws)
    got.locs = [(msgs[n].source, msgs[n].offset) for n in which[:k]]  # type: ignore[index]
    got.dead = [dataclasses.replace(d, source=msgs[n].source, offset=msgs[n].offset)  # type: ignore[index]
                for d, n in zip(got.dead, which[k:], strict=True)]  # fmt: skip
    index: Index = {}
    for raw, n in zip(got.raws, which, strict=False):
        index.setdefault(raw.decode("utf-8", "surrogatepass"), []).append(n)  # type: ignore[arg-type]
    return got, index


def _records(fmt: RecordFormat, msgs: list[Message], values: list[bytes]) -> Decoded:
    """The values split into records (:func:`_split_joined`, else each on its own), all mapped
    in one pass; rows tagged by their record."""
    joined = _split_joined(fmt, msgs, values)
    recs, index = joined if joined is not None else _split_each(fmt, msgs, values)
    try:
        dec = fmt.map_records(recs)
    except Exception:  # a mapping bug: each value decoded alone, so only the one it trips on fails
        log.exception("format %s failed on a poll's records; decoding its %d message(s) one by one", fmt.name, len(msgs))
        return _each(fmt, msgs, values)
    dec.batches = [_tagged(b, msgs, index) for b in dec.batches]
    return dec


def _split_each(fmt: RecordFormat, msgs: list[Message], values: list[bytes]) -> tuple[Records, Index]:
    """Each value split on its own (an array, NDJSON or a pretty-printed object a message)."""
    recs = Records()
    index: Index = {}
    for n, (m, v) in enumerate(zip(msgs, values, strict=True)):
        got = guarded(fmt, v, m.source, lambda m=m, v=v: fmt.split_records(v, m.source))  # type: ignore[misc]
        one = got if isinstance(got, Records) else Records(dead=got.dead, events=got.events)
        one.locs = [(m.source, m.offset)] * len(one.raws)
        one.dead = [dataclasses.replace(d, source=m.source, offset=m.offset) for d in one.dead]
        for raw in one.raws:
            index.setdefault(raw.decode("utf-8", "surrogatepass"), []).append(n)
        recs.extend(one)
    return recs, index


def _each(fmt: Format, msgs: list[Message], values: list[bytes]) -> Decoded:
    """Each value decoded on its own (a document format: a scanner report a message)."""
    out = Decoded()
    for m, v in zip(msgs, values, strict=True):
        dec = _at_message(decode_document(fmt, v, m.source), m)
        dec.batches = [_tagged(b, [m], None) for b in dec.batches]
        out.extend(dec)
    return out


def _lines(fmt: Format, msgs: list[Message], values: list[bytes], hint_of: HintOf | None) -> tuple[Decoded, list[str]]:
    """The values decoded joined one a line; rows tagged by their line, dead letters by the
    message their byte offset falls in. Returns also each message's repeat hint (its WAL
    record's source ends with it: :func:`_repeat_hints`)."""
    values = [v.rstrip(b"\r\n") for v in values]
    body = b"\n".join(values)
    starts = list(itertools.accumulate((len(v) + 1 for v in values[:-1]), initial=0))
    index: Index = {}
    for n, v in enumerate(values):
        for line in v.decode("utf-8", "replace").split("\n"):
            index.setdefault(line.removesuffix("\r"), []).append(n)
    hints, source = _repeat_hints(msgs, values, starts, hint_of) if hint_of is not None else ([""] * len(msgs), "")
    dec = decode_document(fmt, body, f"{_PREFIX}lines{source}")
    dec.dead = [_at_message([d], msgs[max(0, bisect.bisect_right(starts, d.offset) - 1)]).dead[0] for d in dec.dead]
    dec.batches = [_tagged(b, msgs, index) for b in dec.batches]
    return dec, hints


def _repeat_hints(msgs: list[Message], values: list[bytes], starts: list[int], hint_of: HintOf) -> tuple[list[str], str]:
    """Syslog lines repeated verbatim stay distinct events (as a file's do): ``hint_of`` gives
    each message's hint (the copies each of its lines had before: the stream's
    :class:`~secpipe.formats.syslog.Repeats` counting the messages in order, or the poll's WAL
    record on replay, which keeps them, so a replay gives the same ``metadata.uid``). The
    joined body's hint is made of them: a line's first copy in the body is in the first
    message holding it, whose hint counts the copies before the poll. Returns (each message's
    hint, the body's)."""
    hints: list[str] = []
    body: list[str] = []
    seen: set[bytes] = set()
    for m, v, start in zip(msgs, values, starts, strict=True):
        hint = hint_of(m, v)
        hints.append(hint)
        for item in hint.removeprefix(REPEATS_HINT).split(",") if hint else ():
            off, _, copies = item.partition(":")
            line = v[int(off) :].split(b"\n", 1)[0].removesuffix(b"\r")
            if line not in seen:
                body.append(f"{start + int(off)}:{copies}")
        seen.update(x.removesuffix(b"\r") for x in v.split(b"\n"))
    return hints, (REPEATS_HINT + ",".join(body)) if body else ""


def _at_message(dec: Decoded | list[DeadLetter], m: Message) -> Decoded:
    """Dead letters named by the message (source and Kafka offset)."""
    out = dec if isinstance(dec, Decoded) else Decoded(dead=dec)
    out.dead = [dataclasses.replace(d, source=m.source, offset=m.offset) for d in out.dead]
    return out


_LOGGER = pa.struct([("name", pa.string()), ("log_provider", pa.string()), ("log_name", pa.string()),
                     ("event_uid", pa.string()), ("logged_time", pa.int64())])  # fmt: skip
_TAG = pa.struct([("name", pa.string()), ("value", pa.string())])


def _text(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8", "backslashreplace")


def _tags(m: Message) -> list[tuple[str, str | None]]:
    """A message's key and headers as (name, value) tags (module docstring)."""
    tags = [] if m.key is None else [("kafka.key", _text(m.key))]
    return tags + [(f"kafka.header.{k}", _text(v)) for k, v in m.headers] if m.headers else tags


def _per_message(msgs: Sequence[Message]) -> tuple[pa.Array, pa.Array]:
    """``metadata.loggers`` and ``metadata.tags`` of each message (one logger; tags null without
    a key or header)."""
    n = len(msgs)
    loggers = pa.StructArray.from_arrays([
        pa.array(["kafka"] * n), pa.array(["Apache Kafka"] * n), pa.array([m.topic for m in msgs]),
        pa.array([f"{m.topic}-{m.partition}@{m.offset}" for m in msgs]),
        pa.array([m.timestamp_ms for m in msgs], pa.int64()),
    ], fields=list(_LOGGER))  # fmt: skip
    one = pa.array(range(n + 1), pa.int32())
    if not any(m.headers for m in msgs):  # the key alone, if any: one-item lists
        keys = pa.array([_text(m.key) for m in msgs], pa.string())
        tags = pa.StructArray.from_arrays([pa.array(["kafka.key"] * n), keys], fields=list(_TAG))
        return pa.ListArray.from_arrays(one, loggers), pa.ListArray.from_arrays(one, tags, mask=keys.is_null())
    each = [_tags(m) for m in msgs]
    flat = [t for tags in each for t in tags]
    tags = pa.StructArray.from_arrays([pa.array([k for k, _v in flat], pa.string()),
                                       pa.array([v for _k, v in flat], pa.string())], fields=list(_TAG))  # fmt: skip
    ends = pa.array(list(itertools.accumulate((len(t) for t in each), initial=0)), pa.int32())
    return (pa.ListArray.from_arrays(one, loggers),
            pa.ListArray.from_arrays(ends, tags, mask=pa.array([not t for t in each])))  # fmt: skip


def _tagged(batch: pa.RecordBatch, msgs: Sequence[Message], index: Index | None) -> pa.RecordBatch:
    """``batch`` with each row's ``metadata.loggers``/``metadata.tags`` from its message: all rows
    from ``msgs[0]`` when ``index`` is None or there is one message, else the message ``index``
    names for the row's ``raw_data`` (the k-th row of a record or line: the k-th message holding it)."""
    names = batch.schema.names
    if "metadata" not in names or not batch.num_rows:
        return batch
    if index is None or len(msgs) == 1:
        rows = pa.array([0] * batch.num_rows, pa.int32())
    elif "raw_data" in names:
        rows = pa.array(_owners(batch.column("raw_data").to_pylist(), index), pa.int32())
    else:
        return batch
    loggers, tags = _per_message(msgs)
    meta = batch.column("metadata")
    kids = {f.name: meta.field(i) for i, f in enumerate(meta.type)}
    kids["loggers"] = loggers.take(rows)
    if tags.null_count < len(tags):
        kids["tags"] = tags.take(rows)
    merged = pa.StructArray.from_arrays(list(kids.values()), names=list(kids),
                                        mask=meta.is_null() if meta.null_count else None)  # fmt: skip
    return batch.set_column(names.index("metadata"), "metadata", merged)


def _owners(raws: list[str | None], index: Index) -> list[int | None]:
    """The message of each row by its record or line, copies given to the messages in order."""
    seen: dict[str, int] = {}
    out: list[int | None] = []
    for r in raws:
        holders = index.get(r) if r is not None else None
        if holders is None:
            out.append(None)
        elif len(holders) == 1:
            out.append(holders[0])
        else:
            k = seen.get(r, 0)  # type: ignore[arg-type]
            seen[r] = k + 1  # type: ignore[index]
            out.append(holders[min(k, len(holders) - 1)])
    return out
