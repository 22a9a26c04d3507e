"""Pub/Sub messages and CloudEvents around Cloud Logging entries: the ``LogEntry`` they hold, as the record.

Google Cloud routes audit logs to a team through a log sink's Pub/Sub topic; a push subscription
POSTs each message to an HTTPS endpoint wrapped (Pub/Sub "Push subscriptions": ``{"message":
{"attributes", "data", "messageId", "message_id", "publishTime", "publish_time"}, "subscription":
"projects/.../subscriptions/..."}``), and a pull gives the same ``PubsubMessage`` in a
``receivedMessages[]`` entry (``{"ackId", "message", "deliveryAttempt"}``; ``gcloud pubsub subscriptions
pull --format=json`` prints those entries as a list). The message's ``data`` is base64 (the
``PubsubMessage`` JSON representation of ``bytes``) of the ``LogEntry`` as JSON, which the formats
read as any other (:mod:`._cloud_audit`); the envelope is transport metadata, so ``raw_data`` and the
event's uid are the entry's, as with CloudWatch Logs' envelopes (:mod:`._cwlogs`). A message whose
data is not base64 of JSON is dead-lettered alone with the reason; a push subscription's messages
"without the wrapper" are the entries themselves already. Eventarc delivers an audit log entry as a
CloudEvent (``google.cloud.audit.log.v1.written``), in binary content mode the entry itself, in
structured mode the event's JSON format (CloudEvents JSON Event Format: ``specversion``, ``type``,
``source``, ... and the entry as ``data``, or base64 as ``data_base64``): its data is read the same way.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import msgspec

from secpipe.formats.base import DeadLetter, Decoded, Records, split_json_records

#: a push body or a pull entry: an object whose ``message`` is a PubsubMessage with ``data``
#: (the head of the first, in its first 8 KiB; :func:`data_head`)
_DATA = re.compile(rb'"data"\s*:\s*"([A-Za-z0-9+/]{8,})')
#: what marks the envelope beside ``message``
_MARKS = (b'"subscription"', b'"ackId"', b'"publishTime"', b'"publish_time"', b'"receivedMessages"')


class _Message(msgspec.Struct):
    data: str | None = None


class _Envelope(msgspec.Struct):
    message: _Message | None = None
    subscription: Any = None
    ackId: Any = None
    receivedMessages: list[msgspec.Raw] | None = None


class _CloudEvent(msgspec.Struct):
    specversion: Any = None
    data: msgspec.Raw = msgspec.Raw(b"null")
    data_base64: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_CLOUD_EVENT = msgspec.json.Decoder(_CloudEvent)


def data_head(head: bytes) -> bytes | None:
    """The head of the first message's data (decoded base64) when ``head`` opens a Pub/Sub push
    body or pull answer, else None (a cheap byte test first)."""
    h = head[:8192]
    if b'"message"' not in h or not any(m in h for m in _MARKS):
        return None
    m = _DATA.search(h, h.find(b'"message"'))
    if m is None:
        return None
    text = m.group(1)
    return base64.b64decode(text[: len(text) // 4 * 4])  # (the alphabet's characters only: no error)


def _datas(raw: bytes) -> list[str | None] | None:
    """The data of the messages of a push body, pull answer or pull entry; None when ``raw`` is none."""
    try:
        env = _ENVELOPE.decode(raw)
    except msgspec.DecodeError:
        return None
    if env.receivedMessages is not None:
        out: list[str | None] = []
        for entry in env.receivedMessages:
            try:
                one = _ENVELOPE.decode(entry)
            except msgspec.DecodeError:
                one = _Envelope()
            out.append(one.message.data if one.message is not None else None)
        return out
    if env.message is not None and (env.subscription is not None or env.ackId is not None):
        return [env.message.data]
    return None


def _documents(raw: bytes) -> list[bytes | str] | None:
    """The documents the messages (or the CloudEvent) of ``raw`` hold, each a reason instead where its
    data is missing or not base64; None when ``raw`` is no such envelope."""
    if b'"specversion"' in raw:
        try:
            event = _CLOUD_EVENT.decode(raw)
        except msgspec.DecodeError:
            return None
        if isinstance(event.specversion, str) and bytes(event.data)[:1] == b"{":
            return [bytes(event.data)]
        datas = [event.data_base64] if isinstance(event.specversion, str) and event.data_base64 is not None else None
        what = "CloudEvent data_base64"
    else:
        datas = _datas(raw) if b'"message"' in raw else None
        what = "Pub/Sub message data"
    if datas is None:
        return None
    out: list[bytes | str] = []
    for data in datas:
        try:
            doc = base64.b64decode(data, validate=True) if isinstance(data, str) and data else b""
        except (binascii.Error, ValueError):
            doc = b""
        out.append(doc or (f"{what} is not base64" if data else f"{what} is missing"))
    return out


def rescue(out: Decoded, remap: Callable[[Records], Decoded], fmt: str, reason: str) -> Decoded:
    """Map the messages of the Pub/Sub push bodies and pull answers, and the CloudEvents, among ``out``'s dead
    letters of ``reason`` (no record of the format) with ``remap``, as the documents their data hold (each split
    as a JSON document of its own: canonical records); a message whose data is missing or not base64
    is dead-lettered alone, with the envelope's bytes. Costs nothing when no record was dead-lettered."""
    keep: list[DeadLetter] = []
    inner = Records()
    opened = 0
    for d in out.dead:
        docs = _documents(d.raw) if d.reason == reason else None
        if docs is None:
            keep.append(d)
            continue
        opened += 1
        for doc in docs:
            if isinstance(doc, str):  # the reason it holds no document
                keep.append(DeadLetter(doc, d.source, d.offset, d.raw, fmt))
                out.events += 1
                continue
            recs, _offsets, bad = split_json_records(doc, d.source, fmt)
            inner.raws += recs
            inner.locs += [(d.source, d.offset)] * len(recs)
            inner.dead += bad
            inner.events += len(recs) + len(bad)
    out.dead = keep
    if opened:
        out.events -= opened  # an envelope is no event; its messages' records are
        out.extend(remap(inner))
    return out
