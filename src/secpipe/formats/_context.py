"""What a shipper's envelope says about the records it carries, kept with their OCSF events.

A record of a specific format can arrive inside a shipper's document that describes where it
came from: an OpenTelemetry log record's resource (``host.name``, ``cloud.*``, ``k8s.*``,
``service.name``) around a Falco alert or a Kubernetes audit event. The format maps the record
alone; this module puts the envelope's context on the events it made:

- the context travels in the body's source as a hint, ``;ctx=<base64url JSON>`` (:func:`hint`),
  so the write-ahead log keeps it with the body and a replay stamps the same events;
- :func:`decode` (what the service, its WAL replay and ``secpipe ingest`` decode a body with)
  removes the hint, decodes the body under the source without it (dead letters name that source), then
  :func:`stamp`\\ s every batch: the OCSF paths of ``fields`` (``device.hostname``,
  ``cloud.region``...) are given to the events whose format left their object (``device``,
  ``cloud``) null: an object the record gives itself is the record's, not mixed with the
  envelope's (a CloudTrail record's ``cloud`` is its account's, not the collector's), but for
  a device of the context's own hostname (a line of the host the shipper read it on, an access
  line given the shipper's host), whose attributes it leaves null are the context's (its ``name``,
  ``uid``: :func:`_same_device`); a
  ``metadata`` field (``metadata.log_source``: the file a shipper read) where the event's is null; and
  ``unmapped`` gets the ``unmapped`` object's keys (an event without ``unmapped`` gets that
  object), so what has no OCSF place, or found its place taken, is kept too.

A context is one per body: the wire routes split the records of one request by context
(:func:`secpipe.server.wire.by_host`) and such bodies are mapped alone, not with other requests'.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats.base import UNREADABLE, Decoded, Format, decode_document
from secpipe.schema.ocsf import SchemaError, assemble, class_of

log = logging.getLogger(__name__)

#: what opens the hint in a source
HINT = ";ctx="
_HINTED = re.compile(r";ctx=([A-Za-z0-9_-]+)")


class Context(msgspec.Struct, forbid_unknown_fields=True):
    """OCSF paths to fill (string values) and an object whose keys go into ``unmapped``."""

    fields: dict[str, str] = {}
    unmapped: dict[str, Any] = {}


_DECODE = msgspec.json.Decoder(Context)


#: where OCSF places an OpenTelemetry resource attribute (the semantic conventions' host, cloud and
#: container attributes; ``k8s.pod.uid`` is the pod a container runs in)
OTEL_PLACES = {
    "host.name": "device.hostname", "host.id": "device.uid",
    "cloud.provider": "cloud.provider", "cloud.region": "cloud.region", "cloud.availability_zone": "cloud.zone",
    "cloud.account.id": "cloud.account.uid",
    "container.id": "device.container.uid", "container.name": "device.container.name",
    "container.image.name": "device.container.image.name", "container.runtime": "device.container.runtime",
    "k8s.pod.uid": "device.container.pod_uuid",
}  # fmt: skip


def otel_fields(attrs: dict[str, Any]) -> dict[str, str]:
    """The OCSF fields of OpenTelemetry resource attributes (:data:`OTEL_PLACES`; non-empty strings)."""
    return {path: v for key, path in OTEL_PLACES.items() if isinstance(v := attrs.get(key), str) and v}


def hint(ctx: Context) -> str:
    """The hint of ``ctx`` (``;ctx=`` and its JSON in unpadded base64url)."""
    return HINT + base64.urlsafe_b64encode(msgspec.json.encode(ctx)).rstrip(b"=").decode()


def split(source: str) -> tuple[str, Context | None]:
    """(``source`` without its hint, the context it holds); the source unchanged and None when it
    holds no readable hint. The hint may be followed by others a format adds after it (syslog's
    ``;repeats=``)."""
    m = _HINTED.search(source)
    if m is None:
        return source, None
    text = m.group(1)
    try:
        ctx = _DECODE.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (*UNREADABLE, msgspec.ValidationError, binascii.Error, ValueError):
        return source, None
    return source[: m.start()] + source[m.end() :], ctx


def stamp(dec: Decoded, ctx: Context) -> Decoded:
    """Every batch of ``dec`` with the context's fields and unmapped keys (module docstring)."""
    dec.batches = [_stamped(b, ctx) for b in dec.batches]
    return dec


def _flat(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    """The batch's columns by dotted OCSF path (structs flattened; their nulls carried down)."""
    table = pa.Table.from_batches([batch])
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return {name: col.combine_chunks() for name, col in zip(table.column_names, table.columns, strict=True)}


def _stamped(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    n = batch.num_rows
    if not n:
        return batch
    cols = _flat(batch)
    cols.pop("metadata.profiles", None)  # derived again from the columns, the new ones with them
    empty: dict[str, pa.Array | None] = {}  # per object, the rows the format left it null in (None: all)
    given_device = False
    for path, value in ctx.fields.items():
        top = path.partition(".")[0]
        if any(path.startswith(p + ".") for p in cols):  # a parent given as a value of its own: left as it is
            continue
        had = cols.get(path)
        if top == "metadata":  # every event has its metadata: a field of it where the event's own is null
            rows = None if had is None or pa.types.is_null(had.type) else had.is_null()
        else:
            if top not in empty:
                empty[top] = _empty(batch, (top, *_ALSO_EMPTY.get(top, ())))
                if top == "device":
                    empty[top] = _same_device(empty[top], cols, ctx)
            rows = empty[top]
        if rows is not None and not rows.true_count:  # every event has its own
            continue
        if rows is None:
            cols[path] = pa.array([value] * n, pa.string())
        elif had is None or pa.types.is_null(had.type):
            cols[path] = pc.if_else(rows, pa.scalar(value, pa.string()), pa.scalar(None, pa.string()))
        else:  # (where the event has a value of its own, a device of the context's hostname keeps it)
            cols[path] = pc.if_else(pc.and_(rows, had.is_null()), pa.scalar(value, had.type), had)
        if top == "device":
            given_device = True
    if given_device:  # a device the context gives is of an Unknown type (OCSF requires device.type_id)
        rows = empty["device"]
        fills: tuple[tuple[str, int | str], ...] = (("device.type_id", 0), ("device.type", "Unknown"))
        for path, fill in fills:
            kind = pa.int32() if path.endswith("_id") else pa.string()
            had = cols.get(path)
            if rows is None or had is None or pa.types.is_null(had.type):
                cols[path] = pa.array([fill] * n, kind) if rows is None else pc.if_else(
                    rows, pa.scalar(fill, kind), pa.scalar(None, kind))
            else:
                cols[path] = pc.if_else(pc.and_(rows, had.is_null()), pa.scalar(fill, had.type), had)
    if ctx.unmapped:
        cols["unmapped"] = _with_unmapped(cols.get("unmapped"), ctx.unmapped, n)
    return assemble(class_of(batch), cols)


#: objects whose context applies only where the record names none of these either: a record that
#: names its cloud (a CloudTrail record) comes from the cloud's API, not from the host that shipped it
_ALSO_EMPTY = {"device": ("cloud",)}


def _same_device(rows: pa.Array | None, cols: dict[str, pa.Array], ctx: Context) -> pa.Array | None:
    """``rows`` (where the event names no device) and the rows whose device is the context's: its
    ``device.hostname`` the context's hostname or name, in any case (RFC 4343: host names compare so;
    the context then fills what that device leaves null)."""
    names = {v.lower() for k in ("device.hostname", "device.name") if (v := ctx.fields.get(k))}
    had = cols.get("device.hostname")
    if rows is None or not names or had is None or not pa.types.is_string(had.type):
        return rows
    same = pc.is_in(pc.utf8_lower(had), pa.array(sorted(names), pa.string()))
    return pc.or_(rows, pc.fill_null(same, False))


def _empty(batch: pa.RecordBatch, objects: tuple[str, ...]) -> pa.Array | None:
    """The rows where the batch's ``objects`` are all null (None: every row, none is a column)."""
    masks = [batch.column(o).is_null() for o in objects if o in batch.schema.names]
    out = masks[0] if masks else None
    for m in masks[1:]:
        out = pc.and_(out, m)
    return out


def _with_unmapped(col: pa.Array | None, extra: dict[str, Any], n: int) -> pa.Array:
    """``unmapped`` (JSON object text per row, or null) with ``extra``'s keys; a key the row has
    already keeps the row's value."""
    whole = msgspec.json.encode(extra).decode()
    if col is None or col.null_count == n:
        return pa.array([whole] * n, pa.string())
    out = []
    for text in col.to_pylist():
        if text is None:
            out.append(whole)
            continue
        try:
            obj = msgspec.json.decode(text)
        except UNREADABLE:
            obj = None
        if obj.__class__ is not dict:  # not an object: kept beside the context's keys
            obj = {"unmapped": text}
        out.append(msgspec.json.encode({**extra, **obj}).decode())
    return pa.array(out, pa.string())


def decode(fmt: Format, data: bytes, source: str) -> Decoded:
    """``decode_document`` of ``data`` under ``source``; a source holding a context hint is decoded
    without it (its dead letters name the source alone) and its events stamped with the context
    (:func:`stamped_safely`)."""
    if HINT in source:
        base, ctx = split(source)
        if ctx is not None:
            return stamped_safely(decode_document(fmt, data, base), ctx, base)
    return decode_document(fmt, data, source)


def in_context(dec: Decoded, text: str) -> Decoded:
    """``dec`` stamped with the context of hint ``text`` (:func:`hint`'s), as it is when that
    holds none readable (what a Kafka poll's WAL record keeps per message)."""
    _rest, ctx = split(text)
    return dec if ctx is None else stamped_safely(dec, ctx, "a Kafka poll")


def stamped_safely(dec: Decoded, ctx: Context, where: str) -> Decoded:
    """:func:`stamp`, or ``dec`` as the format mapped it when its columns and the context's cannot
    be joined (logged: the events are kept, their context only in the WAL's source)."""
    try:
        return stamp(dec, ctx)
    except (SchemaError, pa.ArrowException) as exc:
        log.warning("context of %s not applied to its events: %s", where, exc)
        return dec
