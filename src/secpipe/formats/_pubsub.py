"""Pub/Sub messages around Cloud Logging entries: the ``LogEntry`` a message's data holds, as the record.

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
"without the wrapper" are the entries themselves already.
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


_ENVELOPE = msgspec.json.Decoder(_Envelope)


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


def rescue(out: Decoded, remap: Callable[[Records], Decoded], fmt: str, reason: str) -> Decoded:
    """Map the messages of the Pub/Sub push bodies and pull answers among ``out``'s dead letters of
    ``reason`` (no record of the format) with ``remap``, as the documents their data hold (each split
    as a JSON document of its own: canonical records); a message whose data is missing or not base64
    is dead-lettered alone, with the envelope's bytes. Costs nothing when no record was dead-lettered."""
    keep: list[DeadLetter] = []
    inner = Records()
    opened = 0
    for d in out.dead:
        datas = _datas(d.raw) if d.reason == reason and b'"message"' in d.raw else None
        if datas is None:
            keep.append(d)
            continue
        opened += 1
        for data in datas:
            try:
                doc = base64.b64decode(data, validate=True) if data else b""
            except (binascii.Error, ValueError):
                doc = b""
            if not doc:
                why = "Pub/Sub message data is not base64" if data else "Pub/Sub message without data"
                keep.append(DeadLetter(why, d.source, d.offset, d.raw, fmt))
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
