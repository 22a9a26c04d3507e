"""CloudWatch Logs subscription envelopes: the log events inside, as records of their own.

A CloudWatch Logs subscription (to Kinesis, Firehose or Lambda; and what those write to S3)
delivers log events in an envelope: ``{"messageType": "DATA_MESSAGE", "owner", "logGroup",
"logStream", "subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}``
(AWS "Using CloudWatch Logs subscription filters"). EKS control-plane audit logs arrive this
way (log group ``/aws/eks/<cluster>/cluster``, stream ``kube-apiserver-audit-*``), each
``message`` one audit Event as JSON text. ``CONTROL_MESSAGE`` envelopes (CloudWatch checking
that the destination is reachable) hold no log events.

The CloudWatch Logs API's answers hold log events too, and are how such logs are usually
pulled by hand (EKS's documentation reads audit logs with ``aws logs filter-log-events``):
``FilterLogEvents`` (``{"events": [{"logStreamName", "timestamp", "message", "ingestionTime",
"eventId"}], "searchedLogStreams", "nextToken"}``) and ``GetLogEvents`` (``{"events":
[{"timestamp", "message", "ingestionTime"}], "nextForwardToken", "nextBackwardToken"}``), as
the AWS CLI prints them (a boto3 answer dumped as JSON adds ``ResponseMetadata``); also their
log events alone (``--query events``: an array of them). Both are unwrapped the same way.
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

import re
from dataclasses import replace
from typing import Any

import msgspec

from secpipe.formats import _fast
from secpipe.formats.base import DeadLetter, Records, split_json_records


class _LogEvent(msgspec.Struct, gc=False):
    message: str


class _Envelope(msgspec.Struct, gc=False):
    messageType: str
    logEvents: list[msgspec.Raw] | None = None  # each read alone (_LogEvent): a bad one is dead-lettered alone


class _ApiEvent(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A log event as the CloudWatch Logs API gives it (FilteredLogEvent / OutputLogEvent)."""

    message: str
    timestamp: int | None = None
    ingestionTime: int | None = None
    logStreamName: str | None = None
    eventId: str | None = None


class _ApiAnswer(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A FilterLogEvents or GetLogEvents answer."""

    events: list[_ApiEvent]
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


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_API_ANSWER = msgspec.json.Decoder(_ApiAnswer)
_API_EVENT = msgspec.json.Decoder(_ApiEvent)
_INSIGHTS = msgspec.json.Decoder(_InsightsAnswer)
#: bytes one of which every envelope, API answer or API log event holds (a cheap test first:
#: both answers' log events carry ingestionTime; an answer without events, its tokens; an
#: Insights answer, its cells' field names)
KEYS = (b'"logEvents"', b'"ingestionTime"', b'"nextForwardToken"', b'"searchedLogStreams"', b'"field"')


def _messages(raw: bytes) -> list[str | bytes] | None:
    """The messages ``raw`` wraps when it is an envelope, an API answer or an API log event
    (the latter one's own), else None; an Insights row without ``@message`` is its cells' JSON
    (bytes) instead."""
    try:
        if b'"logEvents"' in raw and b'"messageType"' in raw:
            env = _ENVELOPE.decode(raw)
            if env.messageType not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
                return None
            return [_log_event(e) for e in env.logEvents or ()] if env.messageType == "DATA_MESSAGE" else []
        if b'"events"' in raw:
            return [e.message for e in _API_ANSWER.decode(raw).events]
        if b'"results"' in raw and b'"field"' in raw:
            rows = _INSIGHTS.decode(raw).results
            return [next((c.value for c in row if c.field == "@message" and c.value is not None), None)
                    or msgspec.json.encode(row) for row in rows]  # fmt: skip
        if b'"ingestionTime"' in raw and b'"message"' in raw:
            return [_API_EVENT.decode(raw).message]
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return None


_NO_MESSAGE = "CloudWatch Logs Insights result row without @message: no log event to map"
_LOG_EVENT = msgspec.json.Decoder(_LogEvent)
_NOT_EVENT = "CloudWatch Logs subscription log event without a string message: no log event to map"


class _BadEvent(bytes):
    """A log event of an envelope that is not an object with a string ``message`` (its JSON)."""


def _log_event(raw: msgspec.Raw) -> str | bytes:
    """A subscription envelope's log event's message, or the event's JSON (a :class:`_BadEvent`)
    when it has none: that event is dead-lettered alone, its envelope's other events unwrapped."""
    try:
        return _LOG_EVENT.decode(raw).message
    except msgspec.DecodeError:
        return _BadEvent(raw)


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
        logged = _messages(raw) if any(k in raw for k in KEYS) else None
        if logged is None:
            raws.append(raw)
            locs.append(loc)
            continue
        events -= 1  # the envelope is no event; its messages are
        for message in logged:
            if isinstance(message, bytes):
                why = _NOT_EVENT if isinstance(message, _BadEvent) else _NO_MESSAGE
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
