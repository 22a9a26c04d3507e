"""CloudWatch Logs subscription envelopes: the log events inside, as records of their own.

A CloudWatch Logs subscription (to Kinesis, Firehose or Lambda; and what those write to S3)
delivers log events in an envelope: ``{"messageType": "DATA_MESSAGE", "owner", "logGroup",
"logStream", "subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}``
(AWS "Using CloudWatch Logs subscription filters"). EKS control-plane audit logs arrive this
way (log group ``/aws/eks/<cluster>/cluster``, stream ``kube-apiserver-audit-*``), each
``message`` one audit Event as JSON text. ``CONTROL_MESSAGE`` envelopes (CloudWatch checking
that the destination is reachable) hold no log events. A Lambda function subscribed to a log
group receives the envelope as ``{"awslogs": {"data": "<base64 of the gzip-compressed
envelope>"}}``, and teams forward that event as is: it is read as the envelope it holds, its
data inflated within :data:`MAX_INFLATED` (a gzip bomb, bad base64 or bad gzip dead-letters
that record with the reason); detection looks at what the data holds (:func:`awslogs_head`).

:func:`log_events` is the one reader of envelopes, Lambda events and Logs API answers: the
JSON formats take each log event's message (:func:`unwrap`); syslog's envelopes of text lines
take its id, timestamp and the envelope's owner/logGroup/logStream too. Decoding the log
events' extra fields costs nothing measurable next to their messages (4,000 CloudTrail records
in 80 envelopes: ~3.8 us an event either way, session 19).

The CloudWatch Logs API's answers hold log events too, and are how such logs are usually
pulled by hand (EKS's documentation reads audit logs with ``aws logs filter-log-events``):
``FilterLogEvents`` (``{"events": [{"logStreamName", "timestamp", "message", "ingestionTime",
"eventId"}], "searchedLogStreams", "nextToken"}``) and ``GetLogEvents`` (``{"events":
[{"timestamp", "message", "ingestionTime"}], "nextForwardToken", "nextBackwardToken"}``), as
the AWS CLI prints them (a boto3 answer dumped as JSON adds ``ResponseMetadata``); also their
log events alone (``--query events``: an array of them), also with only their ``timestamp`` and
``message`` (a projection such as ``--query 'events[].{timestamp: timestamp, message: message}'``,
or a log group's events saved one a line). All are unwrapped the same way.
A Logs Insights ``GetQueryResults`` answer (``{"results": [[{"field", "value"}, ...]],
"statistics", "status"}``, as ``aws logs get-query-results`` prints a ``fields @timestamp,
@message`` query) gives each row's ``@message``; a row without one (a query that did not select
it) holds no record to map and is dead-lettered alone. An object is taken for an answer or a
log event only when it has no key besides these, so a record that merely holds an ``events``,
``results`` or ``message`` field is left as it is. A subscription envelope's log event
that is not an object with a string ``message`` is dead-lettered alone (its envelope's other
log events are unwrapped as ever).

A log group exported to S3 (``CreateExportTask``) is written one log event a line, its
timestamp, a space, then its message (``2024-01-10T10:00:00.123Z {"kind":"Event",...}``; the
CloudWatch Logs guide sorts such files on that leading timestamp). :func:`take_exported` reads
such lines, which the JSON splitter dead-letters, as their messages.

:func:`unwrap` replaces each envelope record by its messages (their source offset is the
envelope's; a message that is not JSON is dead-lettered); records of any other shape are kept
as they are, in order. An envelope whose
``logEvents`` is not a list is left as it is (the format then dead-letters it with its own reason). Cost: a byte test per record; only envelopes are
decoded.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import replace
from typing import Any

import msgspec

from secpipe._gzip import ERRORS, decompressobj, gunzip_limited
from secpipe.errors import LimitExceeded
from secpipe.formats import _fast
from secpipe.formats.base import DeadLetter, Records, split_json_records


class LogEvent(msgspec.Struct, gc=False):
    """A log event: a subscription's (``id``) or the Logs API's (``eventId``; ``logStreamName``
    in a FilterLogEvents answer)."""

    message: str
    id: str | None = None
    eventId: str | None = None
    timestamp: int | None = None
    ingestionTime: int | None = None
    logStreamName: str | None = None


class _ApiEvent(LogEvent, forbid_unknown_fields=True):
    """A log event as the CloudWatch Logs API gives it (FilteredLogEvent / OutputLogEvent),
    nothing else (:func:`log_events` with ``strict``)."""


class _Awslogs(msgspec.Struct, gc=False):
    data: str


class Envelope(msgspec.Struct, gc=False):
    """What holds log events: a subscription envelope (``messageType``, ``logEvents``), a Logs
    API answer (``events``) or a Lambda event (``awslogs``); the keys that name their origin."""

    messageType: str | None = None
    logEvents: list[msgspec.Raw] | None = None
    events: list[msgspec.Raw] | None = None
    owner: str | None = None
    logGroup: str | None = None
    logStream: str | None = None
    awslogs: _Awslogs | None = None


class _ApiAnswer(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A FilterLogEvents or GetLogEvents answer (its keys only)."""

    events: list[msgspec.Raw]
    searchedLogStreams: list[Any] | None = None
    nextToken: str | None = None
    nextForwardToken: str | None = None
    nextBackwardToken: str | None = None
    ResponseMetadata: dict[str, Any] | None = None


class _Cell(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    field: str
    value: str | None = None


class _InsightsAnswer(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A Logs Insights GetQueryResults answer."""

    results: list[list[_Cell]]
    statistics: dict[str, Any] | None = None
    status: str | None = None
    encryptionKey: str | None = None
    ResponseMetadata: dict[str, Any] | None = None


_ENVELOPE = msgspec.json.Decoder(Envelope)
_API_ANSWER = msgspec.json.Decoder(_ApiAnswer)
_API_EVENT = msgspec.json.Decoder(_ApiEvent)
_LOG_EVENT = msgspec.json.Decoder(LogEvent)
_INSIGHTS = msgspec.json.Decoder(_InsightsAnswer)
#: bytes one of which every envelope, API answer, API log event or Lambda event holds (a cheap
#: test first: both answers' log events carry ingestionTime, a projection of them timestamp; an
#: answer without events, its tokens; an Insights answer, its cells' field names)
KEYS = (b'"logEvents"', b'"ingestionTime"', b'"nextForwardToken"', b'"searchedLogStreams"', b'"field"', b'"awslogs"',
        b'"timestamp"')
#: the most a Lambda event's ``awslogs.data`` may inflate to (what ``server.max_decompressed_bytes``
#: allows an HTTP body by default): a gzip bomb is refused, never held
MAX_INFLATED = 256 << 20


def log_events(raw: bytes, *, strict: bool = True) -> tuple[list[LogEvent | bytes], Envelope] | None:
    """The log events one JSON record holds and what holds them, or None when it is none of
    :class:`Envelope`'s kinds. A ``CONTROL_MESSAGE`` holds none; a subscription's log event that
    is not an object with a string ``message`` is its JSON (bytes, a :class:`BadEvent`), so it
    is dead-lettered alone. ``strict``: a Logs API answer is taken only when it and its log
    events have no key besides the API's (how the JSON formats tell an answer from a record that
    merely holds ``events``); otherwise any object with an ``events`` list is one, each log
    event read as a subscription's. The one reader of the JSON formats (:func:`unwrap`) and of
    syslog's envelopes of text lines. Raises ValueError when a Lambda event's ``awslogs.data`` is
    not base64 of gzip, or inflates past :data:`MAX_INFLATED`."""
    try:
        env = _ENVELOPE.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    kind = env.messageType
    if env.awslogs is not None and kind is None and env.logEvents is None and env.events is None:
        inner = log_events(_inflate(env.awslogs.data), strict=strict)
        return inner if inner is not None and inner[1].messageType is not None else None
    if kind == "CONTROL_MESSAGE":
        return [], env
    if kind == "DATA_MESSAGE":
        return None if env.logEvents is None else ([_log_event(e) for e in env.logEvents], env)
    if kind is not None or env.events is None:
        return None
    if not strict:
        return [_log_event(e) for e in env.events], env
    try:
        return [_API_EVENT.decode(e) for e in _API_ANSWER.decode(raw).events], env
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def is_control(raw: bytes) -> bool:
    """Whether ``raw`` is a ``CONTROL_MESSAGE`` envelope (CloudWatch Logs checking that a
    destination is reachable: no log events), as :func:`log_events` reads envelopes."""
    if b'"CONTROL_MESSAGE"' not in raw[:4096]:
        return False
    try:
        res = log_events(raw)
    except ValueError:  # a Lambda event whose data is no gzip: not a control message
        return False
    return res is not None and res[1].messageType == "CONTROL_MESSAGE"


def _inflate(data: str) -> bytes:
    """A Lambda event's ``awslogs.data``: base64 of a gzip member, inflated within :data:`MAX_INFLATED`."""
    try:
        return gunzip_limited(binascii.a2b_base64(data, strict_mode=True), MAX_INFLATED)
    except binascii.Error as exc:
        msg = f"CloudWatch Logs Lambda event whose awslogs.data is not base64: {exc}"
        raise ValueError(msg) from None
    except LimitExceeded as exc:
        msg = f"CloudWatch Logs Lambda event: awslogs.data {exc}"
        raise ValueError(msg) from None
    except ValueError as exc:
        msg = f"CloudWatch Logs Lambda event whose awslogs.data is not gzip: {exc}"
        raise ValueError(msg) from None


def awslogs_head(head: bytes, size: int = 64 * 1024) -> bytes | None:
    """The first ``size`` bytes a Lambda event's ``awslogs.data`` inflates to, from the head of
    the event (for detection), or None when ``head`` does not open such an event."""
    m = _AWSLOGS.match(head)
    if m is None:
        return None
    text = m.group(1)
    try:
        return bytes(decompressobj().decompress(binascii.a2b_base64(text[: len(text) // 4 * 4]), size))
    except binascii.Error:
        return None
    except ERRORS:
        return None


_AWSLOGS = re.compile(rb'\s*\{\s*"awslogs"\s*:\s*\{\s*"data"\s*:\s*"([A-Za-z0-9+/=]*)')


def _messages(raw: bytes) -> list[str | bytes] | None:
    """The messages ``raw`` wraps when it is an envelope, an API answer, a Lambda event or an
    API log event (the latter one's own), else None; an Insights row without ``@message`` is
    its cells' JSON (bytes) instead."""
    if (b'"logEvents"' in raw and b'"messageType"' in raw) or b'"events"' in raw or b'"awslogs"' in raw:
        found = log_events(raw)
        return None if found is None else [e if isinstance(e, bytes) else e.message for e in found[0]]
    try:
        if b'"results"' in raw and b'"field"' in raw:
            rows = _INSIGHTS.decode(raw).results
            return [next((c.value for c in row if c.field == "@message" and c.value is not None), None)
                    or msgspec.json.encode(row) for row in rows]  # fmt: skip
        if b'"message"' in raw and (b'"ingestionTime"' in raw or b'"timestamp"' in raw):
            return [_API_EVENT.decode(raw).message]  # (a log event's keys only, its message a string)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return None


_NO_MESSAGE = "CloudWatch Logs Insights result row without @message: no log event to map"
_NOT_EVENT = "CloudWatch Logs subscription log event without a string message: no log event to map"


class BadEvent(bytes):
    """A log event of an envelope that is not an object with a string ``message`` (its JSON)."""


def _log_event(raw: msgspec.Raw) -> LogEvent | bytes:
    """A subscription envelope's log event, or the event's JSON (a :class:`BadEvent`) when it
    has no string message: that event is dead-lettered alone, its envelope's other events read."""
    try:
        return _LOG_EVENT.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return BadEvent(raw)


def _holds_keys(raws: list[bytes]) -> bool:
    """Whether any record holds one of :data:`KEYS`: one pass over the records' bytes joined
    (the Kubernetes hot path: a search per record and key cost ~0.6 us a record)."""
    joined = b"\n".join(raws)
    return _fast.contains_any(joined, KEYS) if _fast.available() else any(k in joined for k in KEYS)


def unwrap(records: Records, fmt: str) -> Records:
    """``records`` with every CloudWatch Logs envelope (or API answer, or API log event)
    replaced by its log events' messages (each split as a JSON document of its own: canonical
    records, bad JSON dead-lettered)."""
    if not _holds_keys(records.raws):
        return records
    raws: list[bytes] = []
    locs: list[tuple[str, int]] = []
    events = records.events
    dead = list(records.dead)
    for raw, loc in zip(records.raws, records.locs, strict=True):
        try:
            logged = _messages(raw) if any(k in raw for k in KEYS) else None
        except ValueError as exc:  # a Lambda event whose data does not inflate: the record is dead
            dead.append(DeadLetter(str(exc), loc[0], loc[1], raw, fmt))
            continue
        if logged is None:
            raws.append(raw)
            locs.append(loc)
            continue
        events -= 1  # the envelope is no event; its messages are
        for message in logged:
            if isinstance(message, bytes):
                why = _NOT_EVENT if isinstance(message, BadEvent) else _NO_MESSAGE
                dead.append(DeadLetter(why, loc[0], loc[1], bytes(message), fmt))
                events += 1
                continue
            recs, _offsets, bad = split_json_records(message.encode(), loc[0], fmt)
            raws.extend(recs)
            locs.extend([loc] * len(recs))
            dead.extend(bad)
            events += len(recs) + len(bad)
    return Records(raws=raws, locs=locs, dead=dead, events=events)


#: a CloudWatch Logs export line: the log event's timestamp (RFC 3339, UTC), a space, its message
_EXPORTED = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z (?=[{\[])")


def take_exported(records: Records, fmt: str) -> Records:
    """``records`` with the CloudWatch Logs export lines among its dead letters (the JSON
    splitter's: a line that opens with a timestamp is no JSON) read as their messages' records.
    Costs nothing when no dead letter opens with a digit."""
    if not any(d.raw[:1].isdigit() for d in records.dead):
        return records
    dead = []
    for d in records.dead:
        m = _EXPORTED.match(d.raw) if d.raw[:1].isdigit() else None
        if m is None:
            dead.append(d)
            continue
        recs, _offsets, bad = split_json_records(d.raw[m.end():], d.source, fmt)
        records.raws.extend(recs)
        records.locs.extend([(d.source, d.offset)] * len(recs))
        dead.extend(replace(b, offset=d.offset) for b in bad)
        records.events += len(recs) + len(bad) - 1  # the line was counted as one
    records.dead = dead
    return records
