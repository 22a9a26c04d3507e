"""GuardDuty Malware Protection for S3: the object scan result EventBridge sends for every object it scans.

GuardDuty's Malware Protection for S3 scans each object uploaded to a protected bucket and publishes the
outcome as an EventBridge event (GuardDuty User Guide, "Monitoring S3 object scans with Amazon EventBridge"):
``"detail-type": "GuardDuty Malware Protection Object Scan Result"``, ``source`` ``aws.guardduty``, the
protection plan's ARN in ``resources``, and ``detail``: ``schemaVersion`` 1.0, ``scanStatus`` (``COMPLETED``,
``SKIPPED``, ``FAILED``), ``resourceType`` ``S3_OBJECT``, ``s3ObjectDetails`` (``bucketName``, ``objectKey``,
``eTag``, ``versionId``, ``s3Throttled``) and ``scanResultDetails`` (``scanResultStatus``:
``NO_THREATS_FOUND``, ``THREATS_FOUND``, ``UNSUPPORTED``, ``ACCESS_DENIED``, ``FAILED``; ``threats[]`` of
``name``). It is no finding (GuardDuty reports a malicious object as its own ``Object:S3/MaliciousFile``
finding); each event is one **Scan Activity (6007)**:

- ``scanStatus`` COMPLETED -> activity Completed (2), FAILED -> Error (6), SKIPPED -> Other (99); the
  event's ``time``; ``scanResultStatus`` -> ``status_code`` (NO_THREATS_FOUND and THREATS_FOUND status
  Success, the others Failure) and ``status_detail``;
- ``scan``: the scanned object as its name (``s3://bucket/key``), the event's ``id`` as uid, type Other
  ("Object upload": GuardDuty scans an object when it is put); ``policy``: the protection plan (its ARN);
- each threat -> ``malware[]`` (its name, classification Unknown, the object as its file: path, name,
  ``versionId`` as uid), ``num_detections``; THREATS_FOUND is an alert (``is_alert``) of severity High, any
  other result Informational;
- ``cloud``: the event's account and region (provider AWS).

The whole event stays in ``raw_data``; ``eTag`` and ``s3Throttled`` in ``unmapped``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    Records,
    base_columns,
    event_uids,
    parse_times,
    strs,
    to_batch,
)

DETAIL_TYPE = b'"GuardDuty Malware Protection Object Scan Result"'
_CLS = "scan_activity"
_ACTIVITY = {"COMPLETED": 2, "FAILED": 6, "SKIPPED": 99}
_OK = frozenset({"NO_THREATS_FOUND", "THREATS_FOUND"})
_MALWARE = pa.list_(pa.struct([
    ("name", pa.string()), ("classification_ids", pa.list_(pa.int32())),
    ("files", pa.list_(pa.struct([("name", pa.string()), ("path", pa.string()), ("uid", pa.string()),
                                  ("type_id", pa.int32())]))),
]))  # fmt: skip


class _Object(msgspec.Struct, gc=False):
    bucketName: str | None = None  # noqa: N815 (GuardDuty's keys)
    objectKey: str | None = None  # noqa: N815
    eTag: str | None = None  # noqa: N815
    versionId: str | None = None  # noqa: N815
    s3Throttled: Any = None  # noqa: N815


class _Threat(msgspec.Struct, gc=False):
    name: str | None = None


class _Result(msgspec.Struct, gc=False):
    scanResultStatus: str | None = None  # noqa: N815
    threats: list[_Threat] | None = None


class _Detail(msgspec.Struct, gc=False):
    schemaVersion: str | None = None  # noqa: N815
    scanStatus: str | None = None  # noqa: N815
    resourceType: str | None = None  # noqa: N815
    s3ObjectDetails: _Object | None = None  # noqa: N815
    scanResultDetails: _Result | None = None  # noqa: N815


class _Event(msgspec.Struct, gc=False, rename={"detail_type": "detail-type"}):
    id: str | None = None
    detail_type: str | None = None
    account: str | None = None
    time: str | None = None
    region: str | None = None
    resources: list[str] | None = None
    detail: _Detail | None = None


_DECODER = msgspec.json.Decoder(_Event)


def map_scans(recs: Records, kind: str, out: Decoded) -> None:
    """The scan result events among ``recs`` (:data:`DETAIL_TYPE` in the record) mapped into ``out``; each
    taken from ``recs`` (the others stay for the findings). One that does not decode is dead-lettered."""
    take = [i for i, r in enumerate(recs.raws) if DETAIL_TYPE in r]
    if not take:
        return
    evs: list[_Event] = []
    raws: list[bytes] = []
    for i in take:
        try:
            ev = _DECODER.decode(recs.raws[i])
        except msgspec.DecodeError as exc:
            src, at = recs.locs[i]
            out.dead.append(DeadLetter(f"not a GuardDuty Malware Protection scan result: {exc}", src, at, recs.raws[i], kind))
            continue
        if ev.detail is None:
            src, at = recs.locs[i]
            out.dead.append(DeadLetter("not a GuardDuty Malware Protection scan result: no `detail`", src, at,
                                       recs.raws[i], kind))  # fmt: skip
            continue
        evs.append(ev)
        raws.append(recs.raws[i])
    keep = set(take)
    recs.raws = [r for i, r in enumerate(recs.raws) if i not in keep]
    recs.locs = [r for i, r in enumerate(recs.locs) if i not in keep]
    if evs:
        out.batches.append(_batch(evs, raws, kind))


def _batch(evs: list[_Event], raws: list[bytes], kind: str) -> pa.RecordBatch:
    details = [e.detail or _Detail() for e in evs]
    objs = [d.s3ObjectDetails or _Object() for d in details]
    results = [d.scanResultDetails or _Result() for d in details]
    found = [r.scanResultStatus == "THREATS_FOUND" for r in results]
    paths = [f"s3://{o.bucketName}/{o.objectKey}" if o.bucketName and o.objectKey else None for o in objs]
    activity = [_ACTIVITY.get((d.scanStatus or "").upper(), 0) for d in details]
    cols = base_columns(_CLS, kind=kind, product="GuardDuty", vendor="AWS", uids=event_uids(kind, raws),
                        times_ms=parse_times(strs([e.time for e in evs])), raws=raws,
                        activity_id=pa.array(activity, pa.int32()),
                        severity_id=pa.array([4 if f else 1 for f in found], pa.int32()))  # fmt: skip
    status = [None if r.scanResultStatus is None else 1 if r.scanResultStatus in _OK else 2 for r in results]
    malware = []
    for r, o, path in zip(results, objs, paths, strict=True):
        files = [{"name": (o.objectKey or "").rsplit("/", 1)[-1] or None, "path": path, "uid": o.versionId,
                  "type_id": 1}] if path else None  # fmt: skip
        names = [t.name for t in r.threats or () if t.name]
        malware.append([{"name": n, "classification_ids": [0], "files": files} for n in names] or None)
    n = len(evs)
    cols.update({
        "activity_name": pc.coalesce(strs(["Skipped" if (d.scanStatus or "").upper() == "SKIPPED" else None
                                           for d in details]), cols["activity_name"]),
        "status_id": pa.array(status, pa.int32()),
        "status": strs([None if s is None else "Success" if s == 1 else "Failure" for s in status]),
        "status_code": strs([r.scanResultStatus for r in results]),
        "status_detail": strs([d.scanStatus for d in details]),
        "message": strs([f"{r.scanResultStatus}: {p}" if r.scanResultStatus and p else None
                         for r, p in zip(results, paths, strict=True)]),
        "scan.name": strs(paths), "scan.uid": strs([e.id for e in evs]),
        "scan.type_id": pa.array([99] * n, pa.int32()), "scan.type": strs(["Object upload"] * n),
        "policy.uid": strs([e.resources[0] if e.resources else None for e in evs]),
        "num_detections": pa.array([len(r.threats or ()) for r in results], pa.int32()),
        "is_alert": pa.array([True if f else None for f in found], pa.bool_()),
        "malware": pa.array(malware, _MALWARE),
        "cloud.provider": strs(["AWS"] * n), "cloud.account.uid": strs([e.account for e in evs]),
        "cloud.region": strs([e.region for e in evs]),
        "unmapped": strs([msgspec.json.encode({"eTag": o.eTag, "s3Throttled": o.s3Throttled}).decode()
                          if o.eTag is not None or o.s3Throttled is not None else None for o in objs]),
    })  # fmt: skip
    return to_batch(_CLS, cols)


__all__ = ["DETAIL_TYPE", "map_scans"]
