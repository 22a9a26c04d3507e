"""AWS CloudTrail: ``{"Records": [...]}`` files (as delivered to S3), arrays, NDJSON.

Mapping: every record -> API Activity (6003); ``ConsoleLogin`` -> Authentication (3002).
Columnar path: the whole file is decoded by msgspec in two C passes, once as raw record
bytes (for ``raw_data`` and ``metadata.uid``) and once as typed records holding only the
mapped fields; columns are then built per field, and activity/status are computed with
Arrow kernels. Top-level keys the mapping does not place (requestParameters,
responseElements, additionalEventData, p_* fields, ...) are kept in ``unmapped`` as JSON,
re-emitted from their raw bytes without being parsed. A record whose mapped fields have
the wrong JSON type is dead-lettered alone; the rest of the file goes on.

activity_id from the eventName verb: Create/Put/Run/Start/Add/... -> Create (1),
Get/Describe/List/Head/Lookup/... -> Read (2), Update/Modify/Set/Attach/... -> Update (3),
Delete/Remove/Terminate/Detach/... -> Delete (4), otherwise Other (99).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    base_columns,
    decode_typed,
    event_uids,
    parse_times,
    to_batch,
    unmapped_json,
)


class _Issuer(msgspec.Struct):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    userName: str | None = None


class _SessAttrs(msgspec.Struct):
    mfaAuthenticated: Any = None
    creationDate: str | None = None


class _Session(msgspec.Struct):
    sessionIssuer: _Issuer | None = None
    attributes: _SessAttrs | None = None
    sourceIdentity: str | None = None


class _Identity(msgspec.Struct):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    accessKeyId: str | None = None
    userName: str | None = None
    invokedBy: str | None = None
    sessionContext: _Session | None = None


class _Resource(msgspec.Struct):
    ARN: str | None = None
    accountId: str | None = None
    type: str | None = None


class _ConsoleResp(msgspec.Struct):
    ConsoleLogin: str | None = None


class _Record(msgspec.Struct):
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
    eventType: str | None = None
    apiVersion: str | None = None
    recipientAccountId: str | None = None
    userIdentity: _Identity | None = None
    resources: list[_Resource] | None = None
    p_event_time: str | None = None
    responseElements: Any = None
    additionalEventData: Any = None



#: top-level keys the mapping places; everything else goes to ``unmapped``.
_MAPPED = frozenset(
    {
        "eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
        "userAgent", "errorCode", "errorMessage", "requestID", "eventID", "apiVersion",
        "recipientAccountId", "userIdentity", "resources",
    }
)  # fmt: skip

_VERBS: list[tuple[int, tuple[str, ...]]] = [
    (1, ("Create", "Put", "Run", "Start", "Add", "Register", "Import", "Enable", "Allocate",
         "Associate", "Request", "Issue", "Generate", "Invoke", "Copy", "Upload", "Publish", "Send")),
    (2, ("Get", "Describe", "List", "Head", "Lookup", "Search", "Select", "Scan", "Query",
         "BatchGet", "Check", "Validate", "Preview", "Estimate", "Download", "Test", "View")),
    (3, ("Update", "Modify", "Set", "Attach", "Change", "Edit", "Replace", "Reset", "Tag",
         "Untag", "Assume", "Authorize", "Rotate", "Restore", "Reboot", "Stop", "Apply",
         "Accept", "Reject", "Cancel", "Disable", "Revoke", "Deregister", "Disassociate")),
    (4, ("Delete", "Remove", "Terminate", "Detach", "Destroy", "Purge", "Release", "Deactivate",
         "Schedule")),
]  # fmt: skip


_VERB_KEYS = pa.array([p for _act, ps in _VERBS for p in ps], pa.string())
_VERB_VALS = pa.array([act for act, ps in _VERBS for _p in ps], pa.int32())
_VERB_RE = r"^(?P<verb>(?:Batch)?[A-Z][a-z]+)"


def _activity(names: pa.Array) -> pa.Array:
    """Vectorized verb classification of eventName (see module docstring)."""
    verbs = pc.struct_field(pc.extract_regex(names, _VERB_RE), [0])
    acts = _VERB_VALS.take(pc.index_in(verbs, value_set=_VERB_KEYS))
    return pc.fill_null(acts, pa.scalar(99, pa.int32()))


_IP_RE = r"^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"


def _col(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.string())


class CloudTrail(RecordFormat):
    """AWS CloudTrail management and data events."""

    name = "cloudtrail"
    description = "AWS CloudTrail records ({\"Records\": [...]} files, arrays, NDJSON) -> API Activity / Authentication"
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
        return 0

    envelope = "Records"

    def map_records(self, records: Records) -> Decoded:
        """Map CloudTrail records to API Activity and Authentication batches."""
        out = Decoded(dead=records.dead, events=records.events)
        if not records.raws:
            return out
        typed = decode_typed(records.raws, records.locs, _Record, out, "", self.name, "a CloudTrail record")
        recs, tops, raws, locs = typed.recs, typed.tops, typed.raws, typed.locs
        if not recs:
            return out
        # Records missing eventName/eventSource are not CloudTrail: dead-letter them.
        good = [i for i, r in enumerate(recs) if r.eventName and r.eventSource]
        if len(good) != len(recs):
            gs = set(good)
            for i in range(len(recs)):
                if i not in gs:
                    out.dead.append(
                        DeadLetter("CloudTrail record without eventName/eventSource", *locs[i], raws[i], self.name)
                    )
            recs = [recs[i] for i in good]
            tops = [tops[i] for i in good]
            raws = [raws[i] for i in good]
        if not recs:
            return out
        names = _col([r.eventName for r in recs])
        is_login = pc.equal(names, "ConsoleLogin")
        if pc.any(is_login).as_py():
            mask = is_login.to_pylist()
            idx_auth = [i for i, m in enumerate(mask) if m]
            idx_api = [i for i, m in enumerate(mask) if not m]
            for cls, idx in (("api_activity", idx_api), ("authentication", idx_auth)):
                if idx:
                    out.batches.append(
                        self._batch(cls, [recs[i] for i in idx], [tops[i] for i in idx], [raws[i] for i in idx])
                    )
        else:
            out.batches.append(self._batch("api_activity", recs, tops, raws))
        return out

    def _batch(self, cls: str, recs: list[_Record], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        ids = [r.userIdentity or _Identity() for r in recs]
        sess = [(u.sessionContext or _Session()) for u in ids]
        issuer = [s.sessionIssuer or _Issuer() for s in sess]
        attrs = [s.attributes or _SessAttrs() for s in sess]
        names = _col([r.eventName for r in recs])
        times = parse_times(_col([r.eventTime or r.p_event_time for r in recs]))
        err = _col([r.errorCode for r in recs])
        failed = pc.is_valid(err)
        if cls == "authentication":
            outcome = _col([getattr(r.responseElements, "get", lambda _k: None)("ConsoleLogin") if isinstance(r.responseElements, dict) else None for r in recs])
            failed = pc.or_(failed, pc.fill_null(pc.equal(outcome, "Failure"), False))
            activity = pa.array([1] * len(recs), pa.int32())
        else:
            activity = _activity(names)
        status_id = pc.if_else(failed, pa.scalar(2, pa.int32()), pa.scalar(1, pa.int32()))
        cols = base_columns(
            cls,
            kind=self.name,
            product=self.product,
            vendor=self.vendor,
            uids=event_uids(self.name, raws),
            times_ms=times,
            raws=raws,
            activity_id=activity,
            severity_id=1,
        )
        user_name = [u.userName or (i.userName if u.type in ("AssumedRole", "FederatedUser") else None) for u, i in zip(ids, issuer, strict=True)]
        src = _col([r.sourceIPAddress for r in recs])
        is_ip = pc.fill_null(pc.match_substring_regex(src, _IP_RE), False)
        user_prefix = "user" if cls == "authentication" else "actor.user"
        cols.update(
            {
                "status_id": status_id,
                "status": pc.if_else(failed, "Failure", "Success"),
                "status_code": err,
                "status_detail": _col([r.errorMessage for r in recs]),
                "metadata.original_event_uid": _col([r.eventID for r in recs]),
                "metadata.event_code": names,
                "metadata.log_version": _col([r.eventVersion for r in recs]),
                "metadata.original_time": _col([r.eventTime for r in recs]),
                f"{user_prefix}.name": _col(user_name),
                f"{user_prefix}.uid": _col([u.principalId for u in ids]),
                f"{user_prefix}.type": _col([u.type for u in ids]),
                f"{user_prefix}.uid_alt": _col([u.arn for u in ids]),
                f"{user_prefix}.credential_uid": _col([u.accessKeyId for u in ids]),
                f"{user_prefix}.account.uid": _col([u.accountId for u in ids]),
                "actor.invoked_by": _col([u.invokedBy for u in ids]),
                "actor.session.issuer": _col([i.arn for i in issuer]),
                "actor.session.is_mfa": pc.equal(_col([None if a.mfaAuthenticated is None else str(a.mfaAuthenticated).lower() for a in attrs]), "true"),
                "actor.session.created_time": parse_times(_col([a.creationDate for a in attrs])),
                "src_endpoint.ip": pc.if_else(is_ip, src, pa.scalar(None, pa.string())),
                "src_endpoint.domain": pc.if_else(is_ip, pa.scalar(None, pa.string()), src),
                "http_request.user_agent": _col([r.userAgent for r in recs]),
                "api.operation": names,
                "api.service.name": _col([r.eventSource for r in recs]),
                "api.request.uid": _col([r.requestID for r in recs]),
                "api.version": _col([r.apiVersion for r in recs]),
                "cloud.provider": pa.array(["AWS"] * len(recs), pa.string()),
                "cloud.region": _col([r.awsRegion for r in recs]),
                "cloud.account.uid": _col([r.recipientAccountId for r in recs]),
                "unmapped": unmapped_json(tops, _MAPPED),
            }
        )
        if cls == "authentication":
            cols["is_mfa"] = pc.equal(
                _col([r.additionalEventData.get("MFAUsed") if isinstance(r.additionalEventData, dict) else None for r in recs]), "Yes"
            )
            cols["service.name"] = cols.pop("api.service.name")
            for k in ("api.operation", "api.request.uid", "api.version"):
                cols.pop(k)
            cols["api.operation"] = names
        else:
            cols["resources"] = _resources(recs)
        return to_batch(cls, cols)


_RES_TYPE = pa.list_(pa.struct([("uid", pa.string()), ("type", pa.string()), ("owner", pa.struct([("account", pa.struct([("uid", pa.string())]))]))]))


def _resources(recs: list[_Record]) -> pa.Array:
    vals = []
    for r in recs:
        if not r.resources:
            vals.append(None)
            continue
        vals.append([{"uid": x.ARN, "type": x.type, "owner": {"account": {"uid": x.accountId}}} for x in r.resources])
    return pa.array(vals, _RES_TYPE)
