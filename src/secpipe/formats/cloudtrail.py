"""AWS CloudTrail: ``{"Records": [...]}`` files (as delivered to S3; also several back to back
or one a line, as ``zcat *.json.gz`` or a multi-member gzip gives them), arrays, NDJSON.

Mapping: every record -> API Activity (6003); the sign-in events (``ConsoleLogin`` and the
steps AWS sign-in logs around it: ``UserAuthentication``, ``CredentialChallenge``,
``CredentialVerification``, ``CheckMfa``, ``SwitchRole``, ...) -> Authentication (3002), activity
by step (:data:`SIGN_IN`); IAM Identity Center's, whose names other services use too, by
eventSource and eventName (:data:`SIGN_IN_AT`: the access portal's ``Authenticate``, ``Federate``
and ``Logout``, ``CreateToken`` of its OIDC service for the CLI).
Columnar path: the whole file is decoded by msgspec in two C passes, once as raw record
bytes (for ``raw_data`` and ``metadata.uid``) and once as typed records holding only the
mapped fields; columns are then built per field, and activity/status are computed with
Arrow kernels. Top-level keys the mapping does not place (requestParameters,
responseElements, additionalEventData, p_* fields, ...) are kept in ``unmapped`` as JSON,
re-emitted from their raw bytes without being parsed. A record whose mapped fields have
the wrong JSON type is dead-lettered alone; the rest of the file goes on.

Besides S3 delivery files, the other ways CloudTrail records reach a team are unwrapped to
the record itself (which becomes ``raw_data``, so the same event has the same uid by every
route; the wrapper's own fields are transport metadata repeating the record's):
EventBridge events (``detail-type`` + ``detail``), CloudWatch Logs subscription messages
(``logEvents[].message``, also as Firehose writes them back to back, and the CloudWatch Logs
API's ``filter-log-events``/``get-log-events``/``get-query-results`` answers and its exports
to S3, unwrapped by :mod:`._cwlogs`: a
message that is not JSON goes alone to the dead letters; ``CONTROL_MESSAGE``
holds no event), ``lookup-events`` output (``Events[].CloudTrailEvent``, or each item the record
itself as AWS's Insights guide prints it), SNS notifications
(``Message``: an EventBridge event as an EventBridge rule's SNS target sends it, or a record;
CloudTrail's own log-delivery notification, ``s3Bucket``/``s3ObjectKey``, holds no event), the
Lambda events of an SNS or SQS trigger (``{"Records": [...]}`` of ``EventSource`` ``aws:sns``
records, their notification in ``Sns``, or ``eventSource`` ``aws:sqs`` records, the message in
``body``: a notification, an EventBridge event or a record), and
CloudTrail Lake query results (``get-query-results``: a record per row, see :mod:`._lake`). The wrapper
check costs nothing on ``{"Records": [...]}`` files. CloudTrail Insights records (no
eventName/eventSource, ``insightDetails`` instead) are API Activity with activity Other,
their operation and service taken from ``insightDetails``. Digest files (``CloudTrail-Digest/``,
the hourly integrity manifests delivered beside the logs) are recognized and hold no event,
so pointing secpipe at a whole ``AWSLogs/`` tree dead-letters nothing; their signatures are
not verified here.

Actor: ``userIdentity`` (principalId, else the IAM Identity Center user ``onBehalfOf.userId``,
else the ARN as uid; empty strings, as Identity Center records write for arn and accessKeyId,
are no value); the caller's identity provider (``userIdentity.identityProvider`` of a SAML or web
identity user, else the role session's ``webIdFederationData.federatedProvider``: EKS IRSA pods,
GitHub Actions OIDC) -> ``actor.idp.name``. The userIdentity members no OCSF attribute takes (the
session's ``sourceIdentity``, ``webIdFederationData.attributes``, ``ec2RoleDelivery``,
``assumedRoot``, ``onBehalfOf.identityStoreArn``, ``credentialId``, ``inScopeOf``) stay in
``unmapped.userIdentity`` as written (:data:`_IDENTITY_REST`), as the OCSF project's mapping
leaves them. The VPC endpoint the call came through
(``vpcEndpointId``: network activity events, calls through an interface endpoint) ->
``src_endpoint.uid``, as the OCSF project's CloudTrail mapping places them. Status: Failure with an errorCode (an empty one is none), or where the event
gives its own outcome under its name as ``Failure``: in ``responseElements`` (``{"ConsoleLogin": "Failure"}``,
``{"PasswordUpdated": "Failure"}``) or in ``serviceEventDetails`` (``{"CredentialVerification":
"Failure"}``, as IAM Identity Center writes it). Resources: ``resources[]``
(uid = ARN, ``arn`` as Panther's CloudTrail events write it, else ``ARNPrefix`` as S3 data
events on many objects write it).

activity_id from the eventName verb: Create/Put/Run/Add/... -> Create (1),
Get/Describe/List/Head/Lookup/... -> Read (2), Update/Modify/Set/Attach/Start/Stop/Enable/... -> Update (3),
Delete/Remove/Terminate/Detach/... -> Delete (4), otherwise Other (99).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy, json_object, nonempty, nonempty_rows, valid_rows
from secpipe.formats import _cwlogs, _fast, _lake
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    parse_times,
    regex_mask,
    strs,
    to_batch,
    uid_prefix,
    unmapped_from,
)

_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


class _Issuer(msgspec.Struct, gc=False):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    userName: str | None = None


class _SessAttrs(msgspec.Struct, gc=False):
    mfaAuthenticated: str | bool | None = None
    creationDate: str | None = None


class _WebIdentity(msgspec.Struct, gc=False):
    federatedProvider: str | None = None  # the OIDC provider (EKS IRSA, GitHub Actions, Cognito)
    attributes: _R = _NONE


class _Session(msgspec.Struct, gc=False):
    sessionIssuer: _Issuer | None = None
    attributes: _SessAttrs | None = None
    sourceIdentity: _R = _NONE
    webIdFederationData: _WebIdentity | None = None
    ec2RoleDelivery: _R = _NONE
    assumedRoot: _R = _NONE


class _OnBehalfOf(msgspec.Struct, gc=False):
    userId: str | None = None
    identityStoreArn: _R = _NONE


class _Identity(msgspec.Struct, gc=False):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    accessKeyId: str | None = None
    userName: str | None = None
    invokedBy: str | None = None
    identityProvider: str | None = None  # SAMLUser and WebIdentityUser callers
    sessionContext: _Session | None = None
    onBehalfOf: _OnBehalfOf | None = None  # IAM Identity Center users: the identity-store user
    credentialId: _R = _NONE
    inScopeOf: _R = _NONE


class _Resource(msgspec.Struct, gc=False):
    ARN: str | None = None
    ARNPrefix: str | None = None  # S3 data events on many objects (ListObjects, DeleteObjects): the key prefix
    accountId: str | None = None
    type: str | None = None
    arn: str | None = None  # Panther's CloudTrail events name the ARN so (its data lake's schema)


class _Record(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every documented CloudTrail record field: mapped ones typed, the rest kept raw."""

    eventVersion: str | None = None
    eventTime: str | None = None
    eventSource: str | None = None
    eventName: str | None = None
    awsRegion: str | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None
    errorCode: str | None = None
    errorMessage: str | None = None
    requestID: str | None = None
    eventID: str | None = None
    apiVersion: str | None = None
    recipientAccountId: str | None = None
    userIdentity: _Identity | None = None
    resources: list[_Resource] | None = None
    p_event_time: str | None = None
    vpcEndpointId: str | None = None
    requestParameters: _R = _NONE
    responseElements: _R = _NONE
    additionalEventData: _R = _NONE
    eventType: _R = _NONE
    readOnly: _R = _NONE
    managementEvent: _R = _NONE
    eventCategory: _R = _NONE
    tlsDetails: _R = _NONE
    sharedEventID: _R = _NONE
    vpcEndpointAccountId: _R = _NONE
    serviceEventDetails: _R = _NONE
    sessionCredentialFromConsole: _R = _NONE
    edgeDeviceDetails: _R = _NONE
    insightDetails: _R = _NONE
    addendum: _R = _NONE


#: raw fields that go to ``unmapped`` as they are.
_UNMAPPED = (
    "requestParameters", "responseElements", "additionalEventData", "eventType", "readOnly", "managementEvent",
    "eventCategory", "tlsDetails", "sharedEventID", "vpcEndpointAccountId", "serviceEventDetails",
    "sessionCredentialFromConsole", "edgeDeviceDetails", "insightDetails", "addendum",
)  # fmt: skip

_UI = "userIdentity."
#: the userIdentity members no OCSF attribute takes (CloudTrail's userIdentity reference), kept in
#: ``unmapped.userIdentity`` as written, as the OCSF project's CloudTrail mapping leaves them in
#: unmapped: the session's source identity (the name the caller set when assuming the role, kept
#: through role chaining), the web identity token's attributes, an EC2 instance role's credential
#: delivery, assumed root, the Identity Center identity store, the bearer token's credentialId, and
#: what inScopeOf says the credentials were issued to. The issuer's type, principalId and accountId
#: are not repeated: its ARN (actor.session.issuer) names its type and account, and its principalId
#: is the role id that begins the caller's principalId (actor.user.uid)
_IDENTITY_REST: tuple[tuple[str, ...], ...] = (
    ("sessionContext", "sourceIdentity"), ("sessionContext", "webIdFederationData", "attributes"),
    ("sessionContext", "ec2RoleDelivery"), ("sessionContext", "assumedRoot"), ("onBehalfOf", "identityStoreArn"),
    ("credentialId",), ("inScopeOf",))  # fmt: skip


class _LoginExtra(msgspec.Struct, gc=False):
    MFAUsed: str | None = None


class _Insight(msgspec.Struct, gc=False):
    eventSource: str | None = None
    eventName: str | None = None


_INSIGHT = msgspec.json.Decoder(_Insight)


class _Lookup(msgspec.Struct, gc=False):
    CloudTrailEvent: str | None = None
    eventVersion: str | None = None  # an item that is the record itself (see _lookup_records)
    eventTime: str | None = None


_LOOKUP = msgspec.json.Decoder(_Lookup)


class _Notification(msgspec.Struct, gc=False):
    """An SNS notification: Type, TopicArn, Message (its text)."""

    Type: str | None = None
    TopicArn: str | None = None
    Message: str | None = None


class _Wrapper(_Notification, gc=False, rename={"detail_type": "detail-type"}):
    detail_type: str | None = None
    detail: _R = _NONE
    Events: list[msgspec.Raw] | None = None
    EventSource: str | None = None  # a Lambda event's SNS record: "aws:sns" and the notification in Sns
    Sns: _Notification | None = None
    eventSource: str | None = None  # a Lambda event's SQS record: "aws:sqs" and the message text in body
    body: str | None = None


class _Delivered(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """The message of CloudTrail's own SNS notification: which log files it delivered."""

    s3Bucket: str
    s3ObjectKey: list[str]


_WRAPPER = msgspec.json.Decoder(_Wrapper)
_DELIVERED = msgspec.json.Decoder(_Delivered)
_WRAPPED = (b'"detail-type"', b'"logEvents"', b'"CloudTrailEvent"', b'"TopicArn"', b'"Events"')
_SQS = b'"aws:sqs"'


def _lambda_event(head: bytes) -> bool:
    """Whether ``head`` opens a Lambda event of SNS or SQS records (``{"Records": [{"EventSource":
    "aws:sns", "Sns": {...}}]}``, ``{"Records": [{"eventSource": "aws:sqs", "body": "..."}]}``)."""
    return b'"aws:sns"' in head or _SQS in head
#: the keys that make split_records look for wrappers: theirs and CloudWatch Logs API answers'
_WRAPPERS = (*_WRAPPED, *(k for k in _cwlogs.KEYS if k not in _WRAPPED), _lake.KEY)


def _unwrap(raw: bytes) -> list[bytes | tuple[str, bytes]] | str | None:
    """The CloudTrail records inside one wrapper record (see module docstring).

    None when ``raw`` is not a wrapper (a record as it is); a reason when it is one whose
    content is not CloudTrail JSON; (reason, bytes) in the list for a record of several that is not.
    """
    if not any(k in raw for k in _WRAPPED) and _SQS not in raw:
        return None
    try:
        w = _WRAPPER.decode(raw)
    except msgspec.DecodeError:
        return None
    if w.detail_type is not None and bytes(w.detail)[:1] == b"{":
        return [bytes(w.detail)]
    if w.Type == "Notification" and w.TopicArn is not None and w.detail_type is None and w.Events is None:
        return _sns(w.Message)
    if w.EventSource == "aws:sns" and w.Sns is not None and w.Sns.Type == "Notification":
        return _sns(w.Sns.Message)
    if w.eventSource == "aws:sqs" and w.body is not None:
        rec = _canonical(w.body)
        if rec is None:
            return "SQS message body is not a CloudTrail JSON record"
        inner = _unwrap(rec)  # an SNS notification (SNS -> SQS without raw delivery), an EventBridge event
        return [rec] if inner is None else inner
    if w.Events is not None and w.detail_type is None:
        return _lookup_records(w.Events)
    return None


def _lookup_records(events: list[msgspec.Raw]) -> list[bytes | tuple[str, bytes]]:
    """The records of a ``lookup-events`` / ``list-insights-data`` answer's ``Events``: each
    item's ``CloudTrailEvent`` (the record as a JSON string, as the API returns it), or the
    item itself where it is the record (``eventVersion`` and ``eventTime``, no
    ``CloudTrailEvent``: the answers as AWS's Insights guide prints them, the string decoded).
    An item that is neither is (why, its bytes): dead-lettered alone, the others read on."""
    out: list[bytes | tuple[str, bytes]] = []
    for raw in events:
        try:
            item = _LOOKUP.decode(raw)
        except msgspec.DecodeError:
            out.append(("lookup-events Events item is not a JSON object", bytes(raw)))
            continue
        if item.CloudTrailEvent is None and item.eventVersion is not None and item.eventTime is not None:
            out.append(msgspec.json.format(bytes(raw), indent=-1))
            continue
        rec = _canonical(item.CloudTrailEvent)
        out.append(("lookup-events CloudTrailEvent is not a CloudTrail JSON record", bytes(raw)) if rec is None else rec)
    return out


def _sns(message: str | None) -> list[bytes | tuple[str, bytes]] | str:
    """The records of an SNS notification's Message: an EventBridge event (a rule's SNS target)
    or a record itself; CloudTrail's own log-delivery notification (``s3Bucket``/``s3ObjectKey``)
    holds no event."""
    rec = _canonical(message)
    if rec is None:
        return "SNS notification Message is not a CloudTrail JSON record"
    try:
        _DELIVERED.decode(rec)
        return []
    except msgspec.DecodeError:
        pass
    inner = _unwrap(rec)
    return [rec] if inner is None else inner


def _is_digest(head: bytes) -> bool:
    """A CloudTrail digest file (integrity manifest of the log files, no events)."""
    return b'"digestSignatureAlgorithm"' in head and b'"logFiles"' in head and b'"digestStartTime"' in head


def _canonical(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        rec = msgspec.json.format(text.encode(), indent=-1)
    except msgspec.DecodeError:
        return None
    return rec if rec[:1] == b"{" else None


_LOGIN_EXTRA = msgspec.json.Decoder(_LoginExtra)


def _sub(dec: msgspec.json.Decoder, raw: msgspec.Raw) -> Any:
    if not raw or bytes(raw) == b"null":
        return None
    try:
        return dec.decode(raw)
    except msgspec.DecodeError:
        return None


_VERBS: list[tuple[int, tuple[str, ...]]] = [
    (1, ("Create", "Put", "Run", "Add", "Register", "Import", "Allocate",
         "Associate", "Request", "Issue", "Generate", "Invoke", "Copy", "Upload", "Publish", "Send")),
    (2, ("Get", "Describe", "List", "Head", "Lookup", "Search", "Select", "Scan", "Query",
         "BatchGet", "Check", "Validate", "Preview", "Estimate", "Download", "Test", "View")),
    (3, ("Update", "Modify", "Set", "Attach", "Change", "Edit", "Replace", "Reset", "Tag", "Start", "Enable",
         "Untag", "Assume", "Authorize", "Rotate", "Restore", "Reboot", "Stop", "Apply",
         "Accept", "Reject", "Cancel", "Disable", "Revoke", "Deregister", "Disassociate")),
    (4, ("Delete", "Remove", "Terminate", "Detach", "Destroy", "Purge", "Release", "Deactivate",
         "Schedule")),
]  # fmt: skip


_VERB_KEYS = pa.array([p for _act, ps in _VERBS for p in ps], pa.string())
_VERB_VALS = pa.array([act for act, ps in _VERBS for _p in ps], pa.int32())
_VERB_RE = r"^(?P<verb>(?:Batch)?[A-Z][a-z]+)"


def _activity(names: pa.Array) -> pa.Array:
    """Vectorized verb classification of eventName (see module docstring), over the batch's
    distinct names (a few hundred: the regex runs on those, not on every record).

    A small batch is classified name by name with :func:`_activity_of` (cached per name):
    Arrow's regex kernel compiles its pattern at every call (~120 us, the fixed cost of a
    batch of one record), and the kernels cost ~460 us a pass at 125 to 500 records against
    65-175 us name by name (1,000 records: even)."""
    if len(names) <= _FEW_ROWS:
        return pa.array([_activity_of(nm) for nm in names.to_pylist()], pa.int32())
    if len(names) <= _FEW_NAMES:  # name by name over the distinct names (a pass of 500 records has ~130)
        enc = pc.dictionary_encode(names)
        acts = pa.array([_activity_of(nm) for nm in enc.dictionary.to_pylist()], pa.int32()).take(enc.indices)
        return pc.fill_null(acts, _OTHER) if acts.null_count else acts  # a null name: Other, as _activity_of(None)
    enc = pc.dictionary_encode(names)
    verbs = pc.struct_field(pc.extract_regex(enc.dictionary, _VERB_RE), [0])
    acts = _VERB_VALS.take(pc.index_in(verbs, value_set=_VERB_KEYS))
    return pc.fill_null(acts.take(enc.indices), pa.scalar(99, pa.int32()))


#: rows up to which _activity classifies name by name (cached per name: the six kernel calls
#: cost more up to ~500-1,000 rows; a pass of four 125-event _bulk requests is 500)
_FEW_NAMES = 512
_FEW_ROWS = 64  # rows up to which each name is classified as it comes (no kernel call at all)
_VERB_MATCH = re.compile(_VERB_RE, re.ASCII).match
_VERB_ACT: dict[str, int] = {}
for _act, _ps in _VERBS:
    for _p in _ps:
        _VERB_ACT.setdefault(_p, _act)  # index_in finds a value's first place in the value set


@functools.lru_cache(maxsize=4096)
def _activity_of(name: str | None) -> int:
    """:func:`_activity` of one eventName (Python's re on the same pattern, ASCII as RE2's)."""
    m = _VERB_MATCH(name) if name is not None else None
    return _VERB_ACT.get(m.group(1), 99) if m else 99


def _name_insights(recs: Sequence[_Record]) -> None:
    """Insights records (no eventName): the API the insight is about, from insightDetails."""
    for r in recs:
        if not r.eventName and r.insightDetails:
            ins = _sub(_INSIGHT, r.insightDetails)
            if ins is not None and ins.eventName and ins.eventSource:
                r.eventName, r.eventSource = ins.eventName, ins.eventSource


#: CloudTrail's top-level keys by their lower-case spelling (see :func:`_recased`)
_KEY_CASE = {f.encode_name.lower(): f.encode_name for f in _fast.fields(_Record)}
_TOP_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _recase(raw: bytes) -> bytes | None:
    """``raw`` with its top-level keys spelled as CloudTrail spells them, when it names its
    eventName and eventSource only in another case (``eventname``, ``EVENTSOURCE``); else None.
    Two keys that differ only in case make it None (which one is meant is not known)."""
    try:
        top = _TOP_KEYS.decode(raw)
    except msgspec.DecodeError:
        return None
    keys = [_KEY_CASE.get(k.lower(), k) for k in top]
    if len(set(keys)) < len(keys) or "eventName" not in keys or "eventSource" not in keys:
        return None
    enc = msgspec.json.encode
    return b"{" + b",".join(enc(k) + b":" + v for k, v in zip(keys, top.values(), strict=True)) + b"}"


def _recased(st: Strict, out: Decoded) -> Strict:
    """``st`` with its records that lack eventName/eventSource read again with their top-level
    keys in CloudTrail's case, where that names them (:func:`_recase`).

    Panther's data lake queries CloudTrail as columns of a case-insensitive SQL table, and its
    rule tests give such rows with the column names lower-cased (``eventname``, ``awsregion``,
    ``p_event_time``); Panther's detections read events case-insensitively. Only the top
    level is re-cased (the columns; the nested objects such rows hold keep CloudTrail's
    keys, ``useridentity: {arn: ...}``). The record keeps its own bytes as ``raw_data`` and uid; the keys that are no
    CloudTrail field stay in ``unmapped`` as written. A rare path: only records the mapping
    would otherwise dead-letter as nameless."""
    idx = [i for i, r in enumerate(st.recs) if not (r.eventName and r.eventSource)]
    fixed = {i: c for i in idx if (c := _recase(st.raws[i])) is not None}
    if not fixed:
        return st
    dead = len(out.dead)
    orig = {id(c): st.raws[i] for i, c in fixed.items()}  # decode_strict keeps the bytes objects it is given
    again = decode_strict(list(fixed.values()), [st.locs[i] for i in fixed], _Record, out, CloudTrail.name,
                          "a CloudTrail record")  # fmt: skip
    for d in out.dead[dead:]:  # a value of the wrong type: dead-lettered as the record came
        d.raw = orig.get(id(d.raw), d.raw)
    _name_insights(again.recs)
    rest = st.take([i for i in range(len(st.recs)) if i not in fixed])
    return Strict(rest.recs + again.recs, rest.extras + again.extras, rest.raws + [orig[id(c)] for c in again.raws],
                  rest.locs + again.locs)  # fmt: skip


_EMPTY = re.compile(rb'\s*\{\s*"Records"\s*:\s*\[\s*\]\s*\}\s*')
_IP_RE = r"^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"
#: _IP_RE for Python's re: ASCII digits as RE2's \d, and fullmatch where RE2 reads ^...$
#: (Python's $ would also match before a final newline)
_IP_MATCH = re.compile(_IP_RE[1:-1], re.ASCII).fullmatch


def _is_ip(src: pa.Array) -> pa.Array:
    """True where ``src`` (sourceIPAddress) is an IPv4 or IPv6 address; False where it is a
    name or null (a small batch matched value by value: :func:`~secpipe.formats.base.regex_mask`)."""
    return regex_mask(src, _IP_RE, _IP_MATCH)



class CloudTrail(RecordFormat):
    """AWS CloudTrail management and data events."""

    name = "cloudtrail"
    description = ("AWS CloudTrail records ({\"Records\": [...]} files, arrays, NDJSON; EventBridge, CloudWatch Logs/Firehose "
                   "and lookup-events wrappers; Insights) -> API Activity / Authentication")
    framing = "document"
    product = "CloudTrail"
    vendor = "AWS"

    def sniff(self, head: bytes) -> int:
        """Recognize the Records envelope or records with eventSource/eventName."""
        h = head[:4096]
        if b'"Records"' in h and (b'"eventSource"' in head or b'"eventVersion"' in head or b'"eventName"' in head):
            return 95
        if b'"eventSource"' in h and b'"eventName"' in h and b'amazonaws.com' in h:
            return 85
        low = h.lower()  # keys in another case (a SQL data lake's columns, see _recased)
        if b'"eventsource"' in low and b'"eventname"' in low and b'amazonaws.com' in low:
            return 85 if b'"records"' in low else 80
        if ((b'"logEvents"' in h or b'"ingestionTime"' in h or b'"@message"' in h or b'"TopicArn"' in h)
                and b'eventSource\\"' in h) or (
                b'"CloudTrailEvent"' in h and b'"EventName"' in h):
            return 90  # CloudWatch Logs messages (subscription, API answers) / lookup-events output holding CloudTrail JSON
        if _lake.KEY in h and (b'"QueryStatus"' in h or b'"QueryStatistics"' in h or b'"eventSource"' in h):
            return 85  # a CloudTrail Lake query's results (aws cloudtrail get-query-results)
        if _is_digest(h) or (b'"TopicArn"' in h and b's3ObjectKey\\"' in h and b'_CloudTrail_' in h):
            return 80  # digest files and CloudTrail's log-delivery notifications: no events
        if _EMPTY.fullmatch(h):  # CloudTrail delivers files with no records: zero events, nothing dead
            return 60
        return 0

    envelope = "Records"

    def split_records(self, data: bytes, source: str) -> Records:
        """Split one document; records that are EventBridge/CloudWatch Logs/lookup wrappers are unwrapped."""
        if _is_digest(data[:4096]):
            return Records()
        recs = super().split_records(data, source)
        if recs.dead and data[:1].isdigit():  # a CloudWatch Logs export: "<timestamp> <record>" lines
            recs = _cwlogs.take_exported(recs, self.name)
        if b'"Records"' in data[:64]:  # S3 delivery files; a Lambda event of SNS/SQS records opens so too
            if not _lambda_event(data[:4096]):
                return recs
        elif not _fast.contains_any(data, _WRAPPERS):  # a _bulk body: one SIMD pass a key
            return recs
        recs = _cwlogs.unwrap(recs, self.name)  # CloudWatch Logs envelopes: a record per log event
        recs = _lake.unwrap(recs, self.name)  # CloudTrail Lake query results: a record per row
        out = Records(dead=recs.dead, events=recs.events)
        for raw, loc in zip(recs.raws, recs.locs, strict=True):
            inner = _unwrap(raw)
            if isinstance(inner, str):
                out.dead.append(DeadLetter(inner, loc[0], loc[1], raw, self.name))
                continue
            inner = [raw] if inner is None else inner
            for rec in inner:
                if isinstance(rec, tuple):  # one of a lookup answer's items that is no record: alone
                    out.dead.append(DeadLetter(rec[0], loc[0], loc[1], rec[1], self.name))
                else:
                    out.raws.append(rec)
                    out.locs.append(loc)
            out.events += len(inner) - 1  # the wrapper counted as one
        return out

    def defer(self, data: bytes, source: str) -> Records | None:
        """A compact ``{"Records": [...]}`` file (as S3 delivery writes them) is kept whole for
        :func:`_walk_docs` when the native path is there."""
        if (_fast.available() and data[:1] == b"{" and b'"Records"' in data[:64] and not _is_digest(data[:4096])
                and not _lambda_event(data[:4096])):
            return Records(docs=[(data, source)])
        return None

    def map_records(self, records: Records) -> Decoded:
        """Map CloudTrail records to API Activity and Authentication batches."""
        out = Decoded(dead=records.dead, events=records.events)
        if records.docs:
            records = self._walk_docs(records, out)
        if not records.raws:
            return out
        if _native(records, out):
            return out
        st = decode_strict(records.raws, records.locs, _Record, out, self.name, "a CloudTrail record")
        _name_insights(st.recs)
        nameless = [i for i, r in enumerate(st.recs) if not (r.eventName and r.eventSource)]
        if nameless:  # {"Records": [...]} files one a line or back to back are mapped as their records
            opened = self.open_envelopes([st.raws[i] for i in nameless], [st.locs[i] for i in nameless], out)
            gone = {i for i, o in zip(nameless, opened, strict=True) if o}
            st = st.take([i for i in range(len(st.recs)) if i not in gone]) if gone else st
            st = _recased(st, out)
            st = st.reject([None if r.eventName and r.eventSource else _NAMELESS for r in st.recs], out, self.name)
        if not st.recs:
            return out
        recs = st.recs
        names = [r.eventName for r in recs]
        if not _SIGN_IN_ACTIVITY.keys().isdisjoint(names):
            mask = [signs_in(r.eventSource, r.eventName) for r in recs]
            idx_auth = [i for i, m in enumerate(mask) if m]
            idx_api = [i for i, m in enumerate(mask) if not m]
            for cls, idx in (("api_activity", idx_api), ("authentication", idx_auth)):
                if idx:
                    part = st.take(idx)
                    out.batches.append(_batch(cls, part))
        else:
            out.batches.append(_batch("api_activity", st))
        return out

    def _walk_docs(self, records: Records, out: Decoded) -> Records:
        """Map ``records.docs`` in one native pass over the files themselves (no split).

        A file the walk declines (a record it does not decide, see ``_fast.extract``) or that
        holds a record the native mapping does not take (Insights, no eventName/eventSource:
        :func:`_unfit`) is split as before and the others walked again, at most
        :data:`_WALKS` times (a batch of many such files is then split whole). Returns the
        records still to map: ``records.raws`` and those of the split files.
        """
        docs, split = list(records.docs), []
        for _ in range(_WALKS):
            res = _fast.extract_docs([d for d, _s in docs], "Records", _SPEC, aside=("eventName", _SIGN_IN_NAMES),
                                     whole=True, uid_prefix=_UID_PREFIX)  # fmt: skip
            if res is None:
                break
            if res.failed is not None:
                split.append(docs.pop(res.failed))
            elif res.columns is None:  # no file held a record
                docs = []
            else:
                cols, total = res.columns, sum(res.counts)
                kept = np.delete(np.arange(total), cols.aside)
                unfit = kept[_unfit(cols)]
                if unfit.size:
                    bad = set(res.doc_of(unfit).tolist())
                    split.extend(docs[i] for i in sorted(bad))
                    docs = [d for i, d in enumerate(docs) if i not in bad]
                else:
                    where = res.aside  # where the records set aside lie, in the order of cols.aside
                    found = ([docs[d][0][a:b] for d, _n, a, b in where], [(docs[d][1], n) for d, n, _a, _b in where])
                    if _mapped(cols, total, lambda: found, out, checked=True):  # noqa: B023 (called before the loop goes on)
                        out.events += total
                    else:  # a record set aside by name is no sign-in (Logout of another service): split them all
                        split.extend(docs)
                    docs = []
                    break
            if not docs:
                break
        rest = Records(records.raws, records.locs, out.dead)
        for data, source in (*split, *docs):
            rest.extend(self.split_records(data, source))
        out.events += rest.events
        return rest


_WALKS = 4  # walks of a batch's files at most, each without the files the last one turned down


def _native(records: Records, out: Decoded) -> bool:
    """The native path (``_fast``): the batch's columns in one Rust pass, then :func:`_mapped`.
    False when it does not apply: the msgspec path then decodes the batch."""
    raws = records.raws
    cols = _fast.extract(raws, _SPEC, aside=("eventName", _SIGN_IN_NAMES), whole=True, uid_prefix=_UID_PREFIX)
    if cols is None:
        return False
    kept = None
    if cols.raw is None:  # records past 2 GiB together: raw_data is made from the list
        aside = set(cols.aside)
        kept = [r for i, r in enumerate(raws) if i not in aside]
    return _mapped(cols, len(raws), lambda: ([raws[i] for i in cols.aside], [records.locs[i] for i in cols.aside]),
                   out, kept)  # fmt: skip


def _mapped(cols: _fast.Columns, n: int, aside: Callable[[], tuple[list[bytes], list[tuple[str, int]]]],
            out: Decoded, kept: list[bytes] | None = None, *, checked: bool = False) -> bool:  # fmt: skip
    """The batches of ``n`` records from their native columns. False when they do not apply
    (an irregular record, Insights, a record without eventName or eventSource; ``checked``:
    the caller found none with :func:`_unfit`). Sign-in
    records are set aside by the walker (few; no copy of the others) and go through the
    msgspec path for their Authentication batch: ``aside()`` gives their (raws, locs).
    ``kept``: the records kept, when the walker did not make their raw_data column."""
    if not checked and _unfit(cols).any():
        return False
    if cols.aside:
        raws, locs = aside()
        if not _all_sign_ins(raws):  # (rare) the msgspec path sorts them by source and name
            return False
    f = _fields(cols)
    offsets, _mask, (arn, prefix, type_, account, low) = _fast.list_items(
        cols, "resources", ("ARN", "ARNPrefix", "type", "accountId", "arn"))
    f["resources"] = _resource_list(offsets, _uid_of(arn, prefix, low), type_, account)
    done = {"uids": cols.uids, "raw": cols.raw}  # made by the walker in its pass
    if len(cols.aside) < n:
        out.batches.append(_ocsf("api_activity", f, cols.raw if kept is None else kept, **done))
    if not cols.aside:
        return True
    if _signed_in(raws, out):
        return True
    st = decode_strict(raws, locs, _Record, out, CloudTrail.name, "a CloudTrail record")
    st = _recased(st, out)  # a sign-in record with its top-level keys in another case, as the msgspec path reads it
    st = st.reject([None if r.eventSource else _NAMELESS for r in st.recs], out, CloudTrail.name)
    if st.recs:
        out.batches.append(_batch("authentication", st))
    return True


def _signed_in(raws: list[bytes], out: Decoded) -> bool:
    """The Authentication batch of sign-in records from one native pass (as :func:`_batch`
    maps them; ``additionalEventData.MFAUsed`` read from each one's unmapped text). False
    when that does not apply (irregular, Insights, no eventSource): the msgspec path then."""
    cols = _fast.extract(raws, _SPEC, whole=True, uid_prefix=_UID_PREFIX)
    if cols is None or cols.raw is None or _unfit(cols).any():
        return False
    f = _fields(cols)
    extra = [_NONE if t is None else _AUTH_EXTRA.decode(t).additionalEventData for t in cols.unmapped.to_pylist()]
    login = {"mfa_used": strs([getattr(_sub(_LOGIN_EXTRA, x), "MFAUsed", None) for x in extra])}
    out.batches.append(_ocsf("authentication", f, cols.raw, None, login, uids=cols.uids, raw=cols.raw))
    return True


class _Unmapped(msgspec.Struct, gc=False):
    additionalEventData: _R = _NONE


_AUTH_EXTRA = msgspec.json.Decoder(_Unmapped)


def _fields(cols: _fast.Columns) -> dict[str, pa.Array]:
    """The per-record columns of a native extraction by record path (item fields, per item, left
    out), and ``unmapped`` (null where nothing is unmapped, never "{}")."""
    f = {k: v for k, v in cols.strings.items() if "[]" not in k}
    f["unmapped"] = cols.unmapped
    return f


def _unfit(cols: _fast.Columns) -> np.ndarray:
    """Per record kept: True where the native mapping does not take it (an Insights record,
    or no eventName/eventSource): the msgspec path maps those (or dead-letters them)."""
    s = cols.strings
    name, source, insight = s["eventName"], s["eventSource"], s["insightDetails"]
    if name.type.id != _STRING_ID or source.type.id != _STRING_ID:
        ok = pc.and_(pc.and_(nonempty(name), nonempty(source)), pc.is_null(insight))
        return ~ok.to_numpy(zero_copy_only=False)
    # numpy over the columns' offsets and bitmaps: the three kernel calls cost ~30 us a batch,
    # a fixed cost paid twice a pass (API Activity and sign-in records)
    rows = nonempty_rows(name) & nonempty_rows(source)
    if insight.null_count != len(insight):  # an Insights record (rare): not null there
        rows &= insight.is_null().to_numpy(zero_copy_only=False)
    return ~rows


#: the AWS sign-in events (Authentication) and their OCSF activity: Logon, Preauth for the
#: challenge/MFA steps before it, Account Switch for role switching, Other (99) for a renewal
SIGN_IN = {"ConsoleLogin": 1, "UserAuthentication": 1, "ExternalIdPDirectoryLogin": 1, "CheckMfa": 6,
           "CredentialChallenge": 6, "CredentialVerification": 6, "SwitchRole": 7, "ExitRole": 7, "RenewRole": 99}  # fmt: skip
#: IAM Identity Center's sign-ins whose names other services use too, so known by eventSource and
#: eventName: the AWS access portal's sign-in (Authenticate), a user's federation from it into an
#: account or application (Federate: a new session there), its sign-out (Logout), and the OIDC token
#: the AWS CLI gets for `aws sso login` (CreateToken: sso-oauth, sso before it was split out)
SIGN_IN_AT = {("sso.amazonaws.com", "Authenticate"): 1, ("sso.amazonaws.com", "Federate"): 1,
              ("sso.amazonaws.com", "Logout"): 2, ("sso-oauth.amazonaws.com", "CreateToken"): 1,
              ("sso.amazonaws.com", "CreateToken"): 1}  # fmt: skip
_SIGN_IN_ACTIVITY = SIGN_IN | {name: a for (_src, name), a in SIGN_IN_AT.items()}
#: the names the native walker sets aside: every sign-in's, and names shared with other services
_SIGN_IN_NAMES = tuple(_SIGN_IN_ACTIVITY)
_SIGN_IN_KEYS = pa.array(_SIGN_IN_NAMES, pa.string())
_SIGN_IN_IDS = pa.array(_SIGN_IN_ACTIVITY.values(), pa.int32())


def signs_in(source: str | None, name: str | None) -> bool:
    """Whether a record of ``source`` and ``name`` is a sign-in (Authentication)."""
    return name in SIGN_IN or (source, name) in SIGN_IN_AT


class _Which(msgspec.Struct, gc=False):
    eventSource: Any = None
    eventName: Any = None


_WHICH = msgspec.json.Decoder(_Which)


def _all_sign_ins(raws: list[bytes]) -> bool:
    """Whether every record the walker set aside by name is a sign-in by source and name too."""
    for raw in raws:
        try:
            w = _WHICH.decode(raw)
        except msgspec.DecodeError:
            return False
        if not (isinstance(w.eventName, str) and isinstance(w.eventSource, str) and signs_in(w.eventSource, w.eventName)):
            return False
    return True
_TELLERS = ("serviceEventDetails", "responseElements")  # raw fields that may hold an event's outcome by its name
_NAMELESS = "CloudTrail record without eventName/eventSource (nor insightDetails naming them)"
_UID_PREFIX = uid_prefix(CloudTrail.name)  # metadata.uid made by the walker


#: typed paths of _Record for the native walker; the raw fields go to unmapped.
_SPEC = _fast.Spec((*_fast.struct_spec(_Record), ("insightDetails", _fast.RAW),
                    *((_UI + ".".join(p), _fast.RAW) for p in _IDENTITY_REST)), _UNMAPPED,
                   tuple(f.name for f in _fast.fields(_Record)))  # fmt: skip


def _mfa_text(v: str | bool | None) -> str | None:
    """mfaAuthenticated as the native walker gives it: a string as is, a boolean as "true"/"false"."""
    return ("true" if v else "false") if isinstance(v, bool) else v


def _batch(cls: str, st: Strict) -> pa.RecordBatch:
    """The msgspec path: columns from the typed records, then :func:`_ocsf`."""
    recs: list[_Record] = st.recs
    ids = [r.userIdentity or _Identity() for r in recs]
    sess = [(u.sessionContext or _Session()) for u in ids]
    issuer = [s.sessionIssuer or _Issuer() for s in sess]
    attrs = [s.attributes or _SessAttrs() for s in sess]
    top = ("eventName", "eventSource", "eventTime", "p_event_time", "errorCode", "errorMessage", "eventID",
           "eventVersion", "sourceIPAddress", "userAgent", "requestID", "apiVersion", "awsRegion", "recipientAccountId",
           "vpcEndpointId")
    f = {k: strs([getattr(r, k) for r in recs]) for k in top}
    for k in ("userName", "principalId", "type", "arn", "accessKeyId", "accountId", "invokedBy", "identityProvider"):
        f[f"userIdentity.{k}"] = strs([getattr(u, k) for u in ids])
    f["userIdentity.sessionContext.sessionIssuer.arn"] = strs([i.arn for i in issuer])
    f["userIdentity.sessionContext.sessionIssuer.userName"] = strs([i.userName for i in issuer])
    f["userIdentity.sessionContext.attributes.mfaAuthenticated"] = strs([_mfa_text(a.mfaAuthenticated) for a in attrs])
    f["userIdentity.sessionContext.attributes.creationDate"] = strs([a.creationDate for a in attrs])
    web = [s.webIdFederationData for s in sess]
    f["userIdentity.sessionContext.webIdFederationData.federatedProvider"] = strs([w.federatedProvider if w else None
                                                                                   for w in web])  # fmt: skip
    f["userIdentity.onBehalfOf.userId"] = strs([u.onBehalfOf.userId if u.onBehalfOf else None for u in ids])
    for path in _IDENTITY_REST:
        f[_UI + ".".join(path)] = strs([_raw_at(u, path) for u in ids])
    f["resources"] = _resources(recs)
    f["unmapped"] = unmapped_from(st, _UNMAPPED)
    insight = np.array([bool(r.insightDetails) for r in recs])
    login: dict[str, pa.Array] = {}
    if cls == "authentication":
        login["mfa_used"] = strs([getattr(_sub(_LOGIN_EXTRA, r.additionalEventData), "MFAUsed", None) for r in recs])
    return _ocsf(cls, f, st.raws, insight if insight.any() else None, login)


_STRING_ID = pa.string().id
_FALSE = pa.scalar(False, pa.bool_())


def _blank(col: pa.Array) -> pa.Array:
    """``col`` with empty strings as null (IAM Identity Center records write ``"arn": ""`` and
    ``"accessKeyId": ""``: no value, not an identifier). The column itself when it holds no
    empty string, found from its offsets (no kernel call: the check runs per batch on the hot path)."""
    n = len(col)
    if col.null_count == n:
        return col
    offsets = np.frombuffer(col.buffers()[1], np.int32, n + 1, col.offset * 4)
    empty = offsets[1:] == offsets[:-1]
    if empty.any() and col.null_count:
        empty &= valid_rows(col)
    if not empty.any():
        return col
    return pc.if_else(_fast.bools(empty), pa.scalar(None, pa.string()), col)


def _raw_at(ident: _Identity, path: tuple[str, ...]) -> str | None:
    """The raw JSON text of the typed record's userIdentity member at ``path`` (None when absent)."""
    node: Any = ident
    for key in path:
        node = getattr(node, key, None)
        if node is None:
            return None
    return bytes(node).decode() or None if isinstance(node, msgspec.Raw) else None


def _identity_rest(f: dict[str, pa.Array], n: int) -> pa.Array | None:
    """``unmapped.userIdentity`` of each record (JSON text, null where it has nothing of
    :data:`_IDENTITY_REST`); None when no record of the batch has. The members are the walk's
    raw JSON texts (valid JSON as written), joined into objects by Arrow's string kernels: no
    Python per record."""
    cols = [(p, c) for p in _IDENTITY_REST if (c := f[_UI + ".".join(p)]).null_count < n]
    return _json_object(cols) if cols else None


def _json_object(members: list[tuple[tuple[str, ...], pa.Array]]) -> pa.Array:
    """A JSON object per row of ``members`` ((key path, raw JSON text column), paths sharing a
    first key together, in order; :func:`~secpipe._arrays.json_object` at each level): null where
    every member is null."""
    items: list[tuple[str | None, pa.Array]] = []
    for key, group in itertools.groupby(members, key=lambda m: m[0][0]):
        level = list(group)
        items.append((key, level[0][1] if len(level[0][0]) == 1 else _json_object([(p[1:], c) for p, c in level])))
    return json_object(items)


def _with_identity(unmapped: pa.Array, rest: pa.Array | None) -> pa.Array:
    """``unmapped`` with ``"userIdentity": rest`` first where ``rest`` holds something."""
    if rest is None or rest.null_count == len(rest):
        return unmapped
    head = pc.binary_join_element_wise('{"userIdentity":', rest, "")
    if unmapped.null_count == len(unmapped):
        return pc.binary_join_element_wise(head, "}", "")
    joined = pc.binary_join_element_wise(head, ",", pc.utf8_slice_codeunits(unmapped, 1), "")
    if unmapped.null_count:
        joined = pc.if_else(pc.is_null(unmapped), pc.binary_join_element_wise(head, "}", ""), joined)
    return pc.if_else(pc.is_null(rest), unmapped, joined) if rest.null_count else joined


def _told_failed(texts: pa.Array, names: pa.Array) -> pa.Array | None:
    """True where ``unmapped`` (the raw fields, JSON) gives the event's own outcome as Failure
    under the event's name, in ``serviceEventDetails`` as sign-in service events write it
    (``{"CredentialVerification": "Failure"}``, no errorCode) or in ``responseElements``
    (``{"ConsoleLogin": "Failure"}``); None when no record says so.

    Only the records whose text holds a ``"Failure"`` value are parsed (few: a failed sign-in
    step); the rest is one SIMD search over the column's bytes, then the rows of the
    occurrences found from the column's offsets (Arrow's substring kernel took ~50 ms a
    26k-row batch).
    """
    if texts.null_count == len(texts) or not _fast.contains_any(texts.buffers()[2], (_FAILURE,)):
        return None  # one SIMD pass over the column's bytes: the usual batch has no failed step
    at = _rows_holding(texts, _FAILURE)
    if not at.size:
        return None
    failed = np.zeros(len(texts), bool)
    rows = from_numpy(at)
    for i, text, name in zip(at.tolist(), texts.take(rows).to_pylist(), names.take(rows).to_pylist(), strict=True):
        try:
            told = msgspec.json.decode(text)
        except msgspec.DecodeError:
            continue
        if isinstance(told, dict):
            failed[i] = any(isinstance(d, dict) and d.get(name) == "Failure" for d in map(told.get, _TELLERS))
    return _fast.bools(failed)


_FAILURE = b':"Failure"'


def _rows_holding(texts: pa.Array, needle: bytes) -> np.ndarray:
    """Indexes of the rows of string column ``texts`` whose text holds ``needle``."""
    if not pa.types.is_string(texts.type):
        hit = pc.fill_null(pc.match_substring(texts, needle.decode()), False)
        return np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    offsets = np.frombuffer(texts.buffers()[1], np.int32, len(texts) + 1, texts.offset * 4)
    data = memoryview(texts.buffers()[2])[offsets[0] : offsets[-1]].tobytes()
    found, pos = [], data.find(needle)
    while pos >= 0:
        found.append(pos)
        pos = data.find(needle, pos + 1)
    starts = np.asarray(found, np.int64)
    ends = offsets.astype(np.int64) - offsets[0]
    rows = np.searchsorted(ends, starts, side="right") - 1  # the row whose text the match starts in
    inside = starts + len(needle) <= ends[rows + 1]  # and ends in (not across two rows' texts)
    rows = rows[inside]  # ascending (matches are found in order): each row once, without
    return rows[np.flatnonzero(np.diff(rows, prepend=-1))]  # np.unique, whose import of numpy.ma costs ~10 ms


def _ocsf(cls: str, f: dict[str, pa.Array], raws: Sequence[bytes] | pa.Array, insight: np.ndarray | None = None,
          login: dict[str, pa.Array] | None = None, uids: pa.Array | None = None,
          raw: pa.Array | None = None) -> pa.RecordBatch:  # fmt: skip
    """The OCSF batch from CloudTrail field columns (keyed by record path; see :func:`_batch`);
    ``uids`` and ``raw`` (raw_data) when the native walker made them already."""
    n = len(raws)
    null = _NULL_STR
    names = f["eventName"]
    event_time = f["eventTime"]
    timed = nonempty(event_time)
    if timed.false_count == 0:  # every record has its eventTime (the usual batch): no if_else
        times = parse_times(event_time)
    else:
        times = parse_times(pc.if_else(timed, event_time, f["p_event_time"]))
    err = _blank(f["errorCode"])  # "errorCode": "" (Panther's S3 bucket test event) is no error
    status_id, status = _status(err, _told_failed(f["unmapped"], names))
    unmapped = _with_identity(f["unmapped"], _identity_rest(f, n))
    if cls == "authentication":
        activity = _sign_in_activity(names)
    else:
        activity = _activity(names)
        if insight is not None:  # an Insight reports on the API; it is not the API call itself
            activity = pc.if_else(_fast.bools(insight), _OTHER, activity)
    cols = base_columns(
        cls,
        kind=CloudTrail.name,
        product=CloudTrail.product,
        vendor=CloudTrail.vendor,
        uids=event_uids(CloudTrail.name, raws) if uids is None else uids,
        times_ms=times,
        raws=raws if raw is None else raw,
        activity_id=activity,
        severity_id=1,
    )
    uid = "userIdentity."
    issuer = uid + "sessionContext.sessionIssuer."
    attrs = uid + "sessionContext.attributes."
    assumed = _assumed(f[uid + "type"])
    user_name = pc.if_else(nonempty(f[uid + "userName"]), f[uid + "userName"],
                           pc.if_else(assumed, f[issuer + "userName"], null))  # fmt: skip
    arn = _blank(f[uid + "arn"])
    src = f["sourceIPAddress"]
    is_ip = _is_ip(src)
    user_prefix = "user" if cls == "authentication" else "actor.user"
    cols.update(
        {
            "status_id": status_id,
            "status": status,
            "status_code": err,
            "status_detail": f["errorMessage"],
            "metadata.original_event_uid": f["eventID"],
            "metadata.event_code": names,
            "metadata.log_version": f["eventVersion"],
            "metadata.original_time": event_time,
            f"{user_prefix}.name": user_name,
            # no principalId (some assumed-role records): the ARN is the user's unique id (OCSF user
            # needs a name or uid); an IAM Identity Center user has neither: its identity-store user id
            f"{user_prefix}.uid": _first_present(_blank(f[uid + "principalId"]), f[uid + "onBehalfOf.userId"], arn),
            f"{user_prefix}.type": f[uid + "type"],
            f"{user_prefix}.uid_alt": arn,
            f"{user_prefix}.credential_uid": _blank(f[uid + "accessKeyId"]),
            f"{user_prefix}.account.uid": _blank(f[uid + "accountId"]),
            "actor.invoked_by": f[uid + "invokedBy"],
            "actor.idp.name": _idp(f[uid + "identityProvider"], f[uid + "sessionContext.webIdFederationData.federatedProvider"]),
            "actor.session.issuer": f[issuer + "arn"],
            "actor.session.is_mfa": _is_true(f[attrs + "mfaAuthenticated"]),
            "actor.session.created_time": parse_times(f[attrs + "creationDate"]),
            "src_endpoint.ip": pc.if_else(is_ip, src, null),
            "src_endpoint.domain": pc.if_else(is_ip, null, src),
            "src_endpoint.uid": f["vpcEndpointId"],  # the VPC endpoint the call came through
            "http_request.user_agent": f["userAgent"],
            "api.operation": names,
            "api.service.name": f["eventSource"],
            "api.request.uid": f["requestID"],
            "api.version": f["apiVersion"],
            "cloud.provider": const("AWS", n),
            "cloud.region": f["awsRegion"],
            "cloud.account.uid": f["recipientAccountId"],
            "unmapped": unmapped,
        }
    )
    if cls == "authentication":
        assert login is not None
        cols["is_mfa"] = pc.equal(login["mfa_used"], _YES_TEXT)
        cols["service.name"] = cols.pop("api.service.name")
        for k in ("api.operation", "api.request.uid", "api.version"):
            cols.pop(k)
        cols["api.operation"] = names
    else:
        cols["resources"] = f["resources"]
        # OCSF requires src_endpoint in API Activity: a record naming no caller address gets the
        # endpoint type Unknown and nothing else (as GitHub and GitLab API Activity do)
        if src.null_count:
            unknown = pc.is_null(src)
            cols["src_endpoint.type_id"] = pc.if_else(unknown, _ZERO, _NULL_INT)
            cols["src_endpoint.type"] = pc.if_else(unknown, _UNKNOWN_TEXT, null)
        else:  # every record names its caller (the usual batch): the same null columns, no kernel call
            cols["src_endpoint.type_id"] = pa.nulls(n, pa.int32())
            cols["src_endpoint.type"] = pa.nulls(n, pa.string())
    return to_batch(cls, cols)


def _status(err: pa.Array, told: pa.Array | None) -> tuple[pa.Array, pa.Array]:
    """status_id and status: Failure where the record has an errorCode (``err``) or ``told`` (see
    :func:`_told_failed`) says so, Success elsewhere. Constant columns when no record failed (the
    usual sign-in batch: is_valid and two if_else spared, ~80k instructions a batch)."""
    if told is None and err.null_count == len(err):
        return const(_STATUS_SUCCESS.as_py(), len(err), pa.int32()), const(_SUCCESS_TEXT.as_py(), len(err))
    failed = pc.is_valid(err)
    if told is not None:
        failed = pc.or_(failed, told)
    return pc.if_else(failed, _STATUS_FAILURE, _STATUS_SUCCESS), pc.if_else(failed, _FAILURE_TEXT, _SUCCESS_TEXT)


def _sign_in_activity(names: pa.Array) -> pa.Array:
    """The Authentication activity_id of each eventName (Other where it is none of
    :data:`_SIGN_IN_ACTIVITY`'s, or null). A small batch (the usual one: a pass's few sign-ins)
    name by name: the hash kernel builds its value set at each call (index_in, take and
    fill_null cost ~40 us a batch)."""
    if len(names) <= _FEW_ROWS:
        return pa.array([_SIGN_IN_ACTIVITY.get(nm, 99) for nm in names.to_pylist()], pa.int32())
    return pc.fill_null(_SIGN_IN_IDS.take(pc.index_in(names, _SIGN_IN_KEYS)), _OTHER)


def _assumed(types: pa.Array) -> pa.Array:
    """True where userIdentity.type is an assumed role or a federated user, False elsewhere (and
    where null). A small batch value by value: is_in builds its hash set at each call (~25 us)."""
    if len(types) <= _FEW_ROWS:
        return pa.array([t in _ASSUMED_NAMES for t in types.to_pylist()], pa.bool_())
    assumed = pc.is_in(types, value_set=_ASSUMED)
    return pc.fill_null(assumed, _FALSE) if assumed.null_count else assumed


def _is_true(texts: pa.Array) -> pa.Array:
    """``lower(texts) == "true"`` (null where ``texts`` is), without the two kernel calls when every
    value is null (no session context in the batch)."""
    if texts.null_count == len(texts):
        return pa.nulls(len(texts), pa.bool_())
    return pc.equal(pc.utf8_lower(texts), _TRUE_TEXT)


def _idp(saml: pa.Array, web: pa.Array) -> pa.Array:
    """The caller's identity provider: ``userIdentity.identityProvider`` (a SAML or web identity
    user), else the session's ``webIdFederationData.federatedProvider`` (a role assumed with a
    web identity token). ``saml`` itself when no record has the latter (the usual batch)."""
    return saml if web.null_count == len(web) else pc.coalesce(saml, web)


def _first_present(principal: pa.Array, on_behalf: pa.Array, arn: pa.Array) -> pa.Array:
    """``coalesce(principal, _blank(on_behalf), arn)``: ``principal`` itself when no record lacks
    it (the usual batch: one kernel call and its copy spared)."""
    if principal.null_count == 0:
        return principal
    return pc.coalesce(principal, _blank(on_behalf), arn)


_ASSUMED_NAMES = frozenset(("AssumedRole", "FederatedUser"))
_ASSUMED = pa.array(sorted(_ASSUMED_NAMES), pa.string())
# the scalars _ocsf passes to kernels, made once (a Python value converted at each call cost
# up to ~15 us: a fixed cost of every batch)
_NULL_STR = pa.scalar(None, pa.string())
_NULL_INT = pa.scalar(None, pa.int32())
_ZERO = pa.scalar(0, pa.int32())
_OTHER = pa.scalar(99, pa.int32())
_STATUS_SUCCESS = pa.scalar(1, pa.int32())
_STATUS_FAILURE = pa.scalar(2, pa.int32())
_FAILURE_TEXT = pa.scalar("Failure", pa.string())
_SUCCESS_TEXT = pa.scalar("Success", pa.string())
_TRUE_TEXT = pa.scalar("true", pa.string())
_YES_TEXT = pa.scalar("Yes", pa.string())
_UNKNOWN_TEXT = pa.scalar("Unknown", pa.string())


def _resources(recs: list[_Record]) -> pa.Array:
    """resources[] of typed records (see :func:`_resource_list`)."""
    counts = [len(r.resources) if r.resources else 0 for r in recs]
    flat = [x for r in recs if r.resources for x in r.resources]
    offsets = np.zeros(len(recs) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return _resource_list(offsets, _uid_of(strs([x.ARN for x in flat]), strs([x.ARNPrefix for x in flat]),
                                           strs([x.arn for x in flat])),
                          strs([x.type for x in flat]), strs([x.accountId for x in flat]))  # fmt: skip


def _uid_of(arn: pa.Array, prefix: pa.Array, low: pa.Array) -> pa.Array:
    """A resource's uid: its ARN (``arn`` as Panther writes it), else its ``ARNPrefix`` (the
    objects under a key prefix)."""
    if low.null_count < len(low):
        arn = pc.coalesce(arn, low)
    return arn if prefix.null_count == len(prefix) else pc.coalesce(arn, prefix)


def _resource_list(offsets: np.ndarray, arn: pa.Array, type_: pa.Array, account: pa.Array) -> pa.Array:
    """resources[] as list<struct<uid, type, owner.account.uid>> from flat item columns; a
    record with no resource (absent, null or []) gets null."""
    owner = pa.StructArray.from_arrays([pa.StructArray.from_arrays([account], names=["uid"])], names=["account"])
    items = pa.StructArray.from_arrays([arn, type_, owner], names=["uid", "type", "owner"])
    mask = _fast.bools(np.diff(offsets) == 0)
    return pa.ListArray.from_arrays(pa.Array.from_buffers(pa.int32(), len(offsets), [None, pa.py_buffer(offsets)]),
                                    items, mask=mask)
