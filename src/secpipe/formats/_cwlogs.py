"""CloudWatch Logs subscription envelopes: the log events inside, as records of their own.

A CloudWatch Logs subscription (to Kinesis, Firehose or Lambda; and what those write to S3)
delivers log events in an envelope: ``{"messageType": "DATA_MESSAGE", "owner", "logGroup",
"logStream", "subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}``
(AWS "Using CloudWatch Logs subscription filters"). EKS control-plane audit logs arrive this
way (log group ``/aws/eks/<cluster>/cluster``, stream ``kube-apiserver-audit-*``), each
``message`` one audit Event as JSON text. ``CONTROL_MESSAGE`` envelopes (CloudWatch checking
that the destination is reachable) hold no log events.

:func:`unwrap` replaces each envelope record by its messages (their source offset is the
envelope's; a message that is not JSON is dead-lettered); records of any other shape are kept
as they are, in order. An envelope whose
``logEvents`` is not a list of objects with a string ``message`` is left as it is (the format
then dead-letters it with its own reason). Cost: a byte test per record; only envelopes are
decoded.
"""

from __future__ import annotations

import msgspec

from secpipe.formats.base import Records, split_json_records


class _LogEvent(msgspec.Struct, gc=False):
    message: str


class _Envelope(msgspec.Struct, gc=False):
    messageType: str
    logEvents: list[_LogEvent] | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def unwrap(records: Records, fmt: str) -> Records:
    """``records`` with every CloudWatch Logs envelope replaced by its log events' messages
    (each split as a JSON document of its own: canonical records, bad JSON dead-lettered)."""
    if not any(b'"logEvents"' in r and b'"messageType"' in r for r in records.raws):
        return records
    raws: list[bytes] = []
    locs: list[tuple[str, int]] = []
    events = records.events
    dead = list(records.dead)
    for raw, loc in zip(records.raws, records.locs, strict=True):
        env = None
        if b'"logEvents"' in raw and b'"messageType"' in raw:
            try:
                env = _ENVELOPE.decode(raw)
            except msgspec.DecodeError:
                env = None
        if env is None or env.messageType not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
            raws.append(raw)
            locs.append(loc)
            continue
        events -= 1  # the envelope is no event; its messages are
        for e in env.logEvents or () if env.messageType == "DATA_MESSAGE" else ():
            recs, _offsets, bad = split_json_records(e.message.encode(), loc[0], fmt)
            raws.extend(recs)
            locs.extend([loc] * len(recs))
            dead.extend(bad)
            events += len(recs) + len(bad)
    return Records(raws=raws, locs=locs, dead=dead, events=events)
