"""Amazon GuardDuty findings in GuardDuty's own shape (finding schema 2.0), not wrapped in ASFF:
the ``GetFindings`` answer (``aws guardduty get-findings``: ``{"Findings": [...]}``, PascalCase keys
as the API writes them), a finding alone or a JSON array / NDJSON of findings, the EventBridge
event (``"detail-type": "GuardDuty Finding"``, the finding in ``detail``), and the S3 export (JSON
Lines of findings, camelCase keys as EventBridge writes them). Each record may be in either case;
ASFF-wrapped GuardDuty findings (``SchemaVersion`` 2018-10-08) are the ``asff`` format's.

One finding is one **Detection Finding (2004)**:

- ``Id`` -> ``finding_info.uid``, ``Arn`` -> ``finding_info.uid_alt``, ``Title`` (also ``message``),
  ``Description``, ``Type`` (``finding_info.types``), ``CreatedAt``/``UpdatedAt`` ->
  ``finding_info.created_time``/``modified_time``, ``Service.EventFirstSeen``/``EventLastSeen`` ->
  ``first_seen_time``/``last_seen_time``, ``Service.Count`` -> ``count``; ``time`` is ``UpdatedAt``
  (else ``CreatedAt``: a finding with neither is dead-lettered);
- ``Severity`` (a number) in GuardDuty's documented bands: 1.0-3.9 Low, 4.0-6.9 Medium, 7.0-8.9 High,
  9.0-10.0 Critical (below 1.0: Low; none: Unknown);
- ``Service.Archived`` true -> ``status_id`` Archived (5) and ``activity_id`` Close (3), else New (1)
  and Create (1) while ``UpdatedAt`` is ``CreatedAt``, else Update (2);
- ``AccountId``, ``Region``, ``Partition`` -> ``cloud`` (provider AWS);
- ``Resource`` -> ``resources[]``: the EC2 instance (``InstanceDetails``: id, tags), the access key
  (``AccessKeyDetails``: key id, its owner's name and principal id), each S3 bucket
  (``S3BucketDetails[]``: ARN, name, tags), the EKS cluster, ECS cluster, RDS DB instance and Lambda
  function, each with GuardDuty's type word; the Kubernetes workload of an EKS Runtime Monitoring or audit
  finding (``KubernetesWorkloadDetails``: its type as GuardDuty writes it, ``pods``, ``deployments``..., uid,
  name, namespace) and its containers, the container of an ECS / EC2 runtime finding (``ContainerDetails``:
  id, name) as ``Container``; the access key's user, else the Kubernetes user, ->
  ``actor.user`` (name, uid, the access key as ``credential_uid``);
- ``Service.Action`` -> ``evidences[0]``, as the ``asff`` format maps the same action objects: a
  network connection (by its direction), a port probe (inbound), an AWS API call from a remote
  address (operation, service), a DNS request (``query.hostname``), and here also a Kubernetes API
  call (its remote address, else its first source IP, and verb) and an RDS login attempt (its
  remote address), so threat intel matches the remote address and domain.

Top-level keys not placed stay in ``unmapped``; ``raw_data`` is the finding's own JSON (compact):
``Service.AdditionalInfo``, ``Service.Evidence``, ``RuntimeDetails`` and the rest of the resource
details are there. Dead letters: a record that is neither a finding (no ``Id``) nor an envelope of
findings (``Findings``/``findings``, an EventBridge event's ``detail``), or a finding without time.

Malware Protection for S3's object scan results (EventBridge "GuardDuty Malware Protection Object Scan
Result" events) are Scan Activity: :mod:`._guardduty_scan`.

Recognized by ``"schemaVersion": "2.0"`` (either case) with a GuardDuty ARN or service name in the
head, or an EventBridge "GuardDuty Finding" (or object scan result) event. A batch of findings (per key case)
is walked natively: the string fields the columns read become Arrow columns, and Severity, Service and
Resource JSON text, each distinct value typed once by msgspec (GuardDuty names the same instance, access key
or cluster, and the same remote address, in many findings): the resources, user, evidence and service
columns are made from the distinct values. A batch the walk declines, or holding a value that does not type,
is typed whole by msgspec (the same columns, and msgspec's reason for each bad finding's first bad value).
"""

from __future__ import annotations

import functools
import operator
import re
import typing
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import (
    _TOP_NATIVE_MIN,
    Distinct,
    S,
    TopLevel,
    captions,
    decode_top,
    kv_list,
    paused_gc,
    raw_data,
    str_lists,
    struct_lists,
)
from secpipe.formats._guardduty_scan import DETAIL_TYPE, map_scans
from secpipe.formats.asff import (
    _NO_EVIDENCE,
    Asff,
    _Action,
    _activity,
    _Evidence,
    _Ip,
    _Org,
    action_evidence,
    evidence_columns,
)
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    base_columns,
    event_uids,
    int32_or_none,
    parse_times,
    strs,
    to_batch,
    uid_prefix,
)

_C = {"rename": "camel", "gc": False}


class _Tag(msgspec.Struct, **_C):  # type: ignore[call-arg]
    key: str | None = None
    value: Any = None


class _Instance(msgspec.Struct, **_C):  # type: ignore[call-arg]
    instance_id: str | None = None
    availability_zone: str | None = None
    tags: list[_Tag] | None = None


class _AccessKey(msgspec.Struct, **_C):  # type: ignore[call-arg]
    access_key_id: str | None = None
    principal_id: str | None = None
    user_name: str | None = None
    user_type: str | None = None


class _Named(msgspec.Struct, **_C):  # type: ignore[call-arg]
    """An S3 bucket, EKS or ECS cluster: its ARN, name and tags."""

    arn: str | None = None
    name: str | None = None
    tags: list[_Tag] | None = None


class _Rds(msgspec.Struct, **_C):  # type: ignore[call-arg]
    db_instance_identifier: str | None = None
    db_instance_arn: str | None = None


class _Lambda(msgspec.Struct, **_C):  # type: ignore[call-arg]
    function_name: str | None = None
    function_arn: str | None = None
    tags: list[_Tag] | None = None


class _K8sUser(msgspec.Struct, **_C):  # type: ignore[call-arg]
    username: str | None = None
    uid: str | None = None


class _Container(msgspec.Struct, **_C):  # type: ignore[call-arg]
    """A container (``Resource.ContainerDetails``, a workload's ``Containers[]``)."""

    id: str | None = None
    name: str | None = None
    image: str | None = None


class _Workload(msgspec.Struct, **_C):  # type: ignore[call-arg]
    """The Kubernetes workload of an EKS finding (``KubernetesDetails.KubernetesWorkloadDetails``)."""

    name: str | None = None
    type: str | None = None
    uid: str | None = None
    namespace: str | None = None
    containers: list[_Container] | None = None


class _K8s(msgspec.Struct, **_C):  # type: ignore[call-arg]
    kubernetes_user_details: _K8sUser | None = None
    kubernetes_workload_details: _Workload | None = None


class _Resource(msgspec.Struct, **_C):  # type: ignore[call-arg]
    resource_type: str | None = None
    instance_details: _Instance | None = None
    access_key_details: _AccessKey | None = None
    s3_bucket_details: list[_Named] | None = None
    eks_cluster_details: _Named | None = None
    ecs_cluster_details: _Named | None = None
    rds_db_instance_details: _Rds | None = None
    lambda_details: _Lambda | None = None
    kubernetes_details: _K8s | None = None
    container_details: _Container | None = None


class _K8sCall(msgspec.Struct, **_C):  # type: ignore[call-arg]
    verb: str | None = None
    source_ips: list[str] | None = msgspec.field(default=None, name="sourceIPs")
    remote_ip_details: _Ip | None = None


class _RdsLogin(msgspec.Struct, **_C):  # type: ignore[call-arg]
    remote_ip_details: _Ip | None = None


class _GuardDutyAction(_Action):
    """``Service.Action``: ASFF's ``Action`` (GuardDuty's own objects) and the actions it lacks."""

    kubernetes_api_call_action: _K8sCall | None = None
    rds_login_attempt_action: _RdsLogin | None = None


class _Process(msgspec.Struct, **_C):  # type: ignore[call-arg]
    """Runtime Monitoring's process (``Service.RuntimeDetails.Process``)."""

    name: str | None = None
    executable_path: str | None = None
    executable_sha256: str | None = None
    pid: int | None = None
    pwd: str | None = None
    uuid: str | None = None
    user: str | None = None
    user_id: int | None = None


class _ScanFile(msgspec.Struct, **_C):  # type: ignore[call-arg]
    file_path: str | None = None
    file_name: str | None = None
    hash: str | None = None


class _ThreatName(msgspec.Struct, **_C):  # type: ignore[call-arg]
    name: str | None = None
    severity: str | None = None
    item_count: int | None = None
    file_paths: list[_ScanFile] | None = None


class _ByName(msgspec.Struct, **_C):  # type: ignore[call-arg]
    threat_names: list[_ThreatName] | None = None


class _Detections(msgspec.Struct, **_C):  # type: ignore[call-arg]
    threat_detected_by_name: _ByName | None = None


class _EbsScan(msgspec.Struct, **_C):  # type: ignore[call-arg]
    """Malware Protection's EBS volume scan (``Service.EbsVolumeScanDetails``)."""

    scan_detections: _Detections | None = None


class _Runtime(msgspec.Struct, **_C):  # type: ignore[call-arg]
    process: _Process | None = None


class _Service(msgspec.Struct, **_C):  # type: ignore[call-arg]
    action: _GuardDutyAction | None = None
    runtime_details: _Runtime | None = None
    ebs_volume_scan_details: _EbsScan | None = None
    archived: bool | None = None
    count: int | None = None
    event_first_seen: str | None = None
    event_last_seen: str | None = None


class _Finding(msgspec.Struct, **_C):  # type: ignore[call-arg]
    schema_version: str | None = None
    account_id: str | None = None
    region: str | None = None
    partition: str | None = None
    id: str | None = None
    arn: str | None = None
    type: str | None = None
    resource: _Resource | None = None
    service: _Service | None = None
    severity: float | None = None
    created_at: str | None = None
    updated_at: str | None = None
    title: str | None = None
    description: str | None = None


def _swap(t: Any, style: str) -> Any:
    """``t`` with each Struct type in it replaced by its ``style`` variant (:func:`_variant`)."""
    if isinstance(t, type) and issubclass(t, msgspec.Struct):
        return _variant(t, style)
    args = typing.get_args(t)
    if not args:
        return t
    swapped = tuple(_swap(a, style) for a in args)
    if typing.get_origin(t) is list:
        return list[swapped[0]]  # type: ignore[valid-type]
    return functools.reduce(operator.or_, swapped)  # a union (X | None)


@functools.cache
def _variant(cls: type[msgspec.Struct], style: str) -> type[msgspec.Struct]:
    """``cls`` (and the Structs it holds) with each JSON key's first letter upper ("pascal") or lower
    ("camel"): GuardDuty writes the same finding both ways (the API/CLI PascalCase, EventBridge and
    the S3 export camelCase), and ASFF's ``Action`` objects are GuardDuty's own in PascalCase."""
    case = str.upper if style == "pascal" else str.lower
    fields = [(f.name, _swap(f.type, style), msgspec.field(default=f.default, name=case(f.encode_name[0]) + f.encode_name[1:]))
              for f in msgspec.structs.fields(cls)]  # fmt: skip
    return msgspec.defstruct(f"{cls.__name__}_{style}", fields, gc=False)


#: the finding's type by key case
_TYPES = {style: _variant(_Finding, style) for style in ("camel", "pascal")}
_KEYS = tuple(f.encode_name for f in msgspec.structs.fields(_Finding))
_MAPPED = {"camel": frozenset(_KEYS), "pascal": frozenset(k[0].upper() + k[1:] for k in _KEYS)}
#: a finding's string fields the columns read (as :class:`_Finding` names them), and its fields read as JSON
#: text: each distinct value typed once (:class:`~secpipe.formats._findings.Distinct`)
_STRS = ("account_id", "region", "partition", "id", "arn", "type", "created_at", "updated_at", "title", "description")
_TEXTS = ("severity", "service", "resource")
#: the finding's JSON key of each field, by key case
_KEY = {style: {f.name: f.encode_name for f in msgspec.structs.fields(_TYPES[style])} for style in _TYPES}
#: the types of the fields read as text, by key case
_TEXT_TYPES = {style: {"severity": float | None, "service": _variant(_Service, style) | None,
                       "resource": _variant(_Resource, style) | None} for style in _TYPES}  # fmt: skip
#: what the native walk reads of a finding, by key case
_SPEC = {style: _fast.Spec((*((_KEY[style][f], _fast.STR) for f in _STRS), *((_KEY[style][f], _fast.RAW) for f in _TEXTS)),
                           (), tuple(sorted(_MAPPED[style])))
         for style in _TYPES}  # fmt: skip
_NO_RESOURCE = _Resource()
_NO_SERVICE = _Service()


class _Detail(msgspec.Struct):
    detail: msgspec.Raw = msgspec.Raw(b"")
    Findings: list[msgspec.Raw] | None = None  # noqa: N815 (GetFindings' key)
    findings: list[msgspec.Raw] | None = None


_ENVELOPE = msgspec.json.Decoder(_Detail)


def _items(raw: bytes) -> list[bytes] | None:
    """The findings of an envelope record (``Findings``/``findings``, an EventBridge event's ``detail``)."""
    try:
        env = _ENVELOPE.decode(raw)
    except msgspec.DecodeError:
        return None
    for got in (env.Findings, env.findings, [env.detail] if bytes(env.detail)[:1] == b"{" else None):
        if got is not None:
            return [bytes(r) for r in got]
    return None


def _severity(score: float | None) -> int:
    """GuardDuty's severity bands (User Guide, "Severity levels of GuardDuty findings")."""
    if score is None or score <= 0:
        return 0
    return 2 if score < 4 else 3 if score < 7 else 4 if score < 9 else 5


def _evidence(a: Any) -> _Evidence:
    """``Service.Action`` as one evidence: ASFF's actions as the asff format reads them, else a
    Kubernetes API call (its remote address, else its first source IP) or an RDS login attempt."""
    if a is None:
        return _NO_EVIDENCE
    got = action_evidence(a, None)
    if got is not _NO_EVIDENCE:
        return got
    k, r = a.kubernetes_api_call_action, a.rds_login_attempt_action
    remote = k.remote_ip_details if k is not None else r.remote_ip_details if r is not None else None
    ip = remote.ip_address_v4 if remote is not None else None
    if k is not None and not ip and k.source_ips:
        ip = k.source_ips[0]
    if not ip:
        return _NO_EVIDENCE
    org = (remote.organization if remote is not None else None) or _Org()
    return (ip, None, None, None, None, None, None, 1, k.verb if k is not None else None, None, None, org.isp)


#: one resource: (type, uid, name, tags, owner name, owner uid, namespace)
_Res = tuple[str, str | None, str | None, dict[str, Any] | None, str | None, str | None, str | None]


def _tags(tags: list[_Tag] | None) -> dict[str, Any] | None:
    return {t.key: t.value for t in tags if t.key} if tags else None


def _resources(r: _Resource) -> list[_Res]:
    """What a finding's ``Resource`` names, most specific first (ResourceType's own before the others)."""
    out: list[_Res] = []
    if (i := r.instance_details) is not None and i.instance_id:
        out.append(("Instance", i.instance_id, None, _tags(i.tags), None, None, None))
    if (k := r.access_key_details) is not None and (k.access_key_id or k.principal_id):
        out.append(("AccessKey", k.access_key_id, None, None, k.user_name, k.principal_id, None))
    out += [("S3Bucket", b.arn, b.name, _tags(b.tags), None, None, None) for b in r.s3_bucket_details or ()
            if b.arn or b.name]  # fmt: skip
    for kind, c in (("EKSCluster", r.eks_cluster_details), ("ECSCluster", r.ecs_cluster_details)):
        if c is not None and (c.arn or c.name):
            out.append((kind, c.arn, c.name, _tags(c.tags), None, None, None))
    w = r.kubernetes_details.kubernetes_workload_details if r.kubernetes_details is not None else None
    if w is not None and (w.name or w.uid):
        # (Runtime Monitoring and EKS audit findings: the pod or workload, and its containers, in its namespace)
        out.append((w.type or "KubernetesWorkload", w.uid, w.name, None, None, None, w.namespace))
        out += [("Container", x.id, x.name, None, None, None, w.namespace) for x in w.containers or () if x.id or x.name]
    if (box := r.container_details) is not None and (box.id or box.name):
        out.append(("Container", box.id, box.name, None, None, None, None))
    if (d := r.rds_db_instance_details) is not None and (d.db_instance_arn or d.db_instance_identifier):
        out.append(("RDSDBInstance", d.db_instance_arn, d.db_instance_identifier, None, None, None, None))
    if (fn := r.lambda_details) is not None and (fn.function_arn or fn.function_name):
        out.append(("Lambda", fn.function_arn, fn.function_name, _tags(fn.tags), None, None, None))
    if r.resource_type and len(out) > 1:
        out.sort(key=lambda x: x[0] != r.resource_type)
    return out


class GuardDuty(RecordFormat):
    """Amazon GuardDuty findings (GetFindings, EventBridge, S3 export) -> Detection Finding (2004).

    The documents are split as the asff format splits its own (a ``GetFindings`` answer in one native
    pass, else JSON records): only the mapping differs."""

    name = "guardduty"
    description = ("Amazon GuardDuty findings (GetFindings / aws guardduty get-findings, EventBridge "
                   "'GuardDuty Finding' events, S3 export JSONL) -> Detection Finding (2004)")  # fmt: skip
    product = "GuardDuty"
    vendor = "AWS"

    def sniff(self, head: bytes) -> int:
        """Recognize GuardDuty's finding schema 2.0 with a GuardDuty ARN or service name, or its EventBridge event."""
        h = head[:65536]
        if h.lstrip()[:1] not in (b"{", b"["):
            return 0
        if _EVENT.search(h):
            return 90
        return 90 if _SCHEMA.search(h) and _GUARDDUTY.search(h) else 0

    def split_records(self, data: bytes, source: str) -> Records:
        """Split as the asff format splits a document (the same envelope, ``Findings``), dead letters said ours."""
        recs = _SPLITTER.split_records(data, source)
        for d in recs.dead:
            d.format = self.name
        return recs

    def map_records(self, recs: Records) -> Decoded:
        """Map findings, each key case walked (or typed) as one batch; envelopes (``Findings``, an EventBridge
        event's ``detail``) are opened and their findings mapped with the others."""
        with paused_gc():
            out = self._findings(recs, scans=True)
            if out is not None:
                return out
            scans = Decoded()  # Malware Protection's scan results among them (:mod:`._guardduty_scan`): taken out first
            map_scans(recs, self.name, scans)
            out = self._findings(recs, scans=False)
            assert out is not None  # (only a look for scan results gives None)
            out.batches += scans.batches
            out.dead += scans.dead
            return out

    def _findings(self, recs: Records, *, scans: bool) -> Decoded | None:
        """The findings' batches; None where ``scans`` and a record holds a scan result's detail type
        (looked for in the walk's raw_data, one SIMD search a batch, where each record was searched)."""
        out = Decoded(dead=list(recs.dead), events=recs.events)
        inner = Records()
        # (PascalCase: a record's first key starts with an upper-case letter, or it has no key)
        pascal = [len(r) < 3 or 64 < r[2] < 91 for r in recs.raws]
        every = list(range(len(pascal)))
        for style, want in (("camel", False), ("pascal", True)):
            rows = every if (all(pascal) if want else not any(pascal)) else [i for i, p in enumerate(pascal) if p is want]
            if not rows:
                continue
            raws = recs.raws if len(rows) == len(recs.raws) else [recs.raws[i] for i in rows]
            locs = recs.locs if len(rows) == len(recs.raws) else [recs.locs[i] for i in rows]
            b = self._batch(raws, locs, style, out)
            if scans and _has_scan(raws, b.top):
                return None
            ids, upd, cre = b.strings["id"], b.strings["updated_at"], b.strings["created_at"]
            timed = pc.and_(ids.is_valid(), pc.or_(pc.fill_null(pc.not_equal(upd, ""), False),
                                                   pc.fill_null(pc.not_equal(cre, ""), False)))  # fmt: skip
            ok = timed.to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(~ok).tolist():  # envelopes, or not findings
                self._open(b.raws[i], b.locs[i], ids[i].is_valid, len(b.raws) == 1, inner, out)
            if not ok.any():
                continue
            if not ok.all():
                b = b.take(np.flatnonzero(ok).tolist())
            out.batches.append(to_batch("detection_finding", self._finding_columns(b)))
        if inner.raws:
            more = self._findings(inner, scans=False)
            assert more is not None  # (only a look for scan results gives None)
            out.extend(more)
        return out

    def _batch(self, raws: list[bytes], locs: list[tuple[str, int]], style: str, out: Decoded) -> _Batch:
        """The findings as :meth:`_finding_columns` reads them: walked natively (their string fields as
        columns, each distinct severity, Service and Resource typed once; raw_data, uids and unmapped in the
        same pass); where the walk does not decide or a value does not type, typed whole by msgspec
        (:class:`_Finding`), which dead-letters exactly the bad findings with msgspec's reason for the first
        bad value of each."""
        cols = (_fast.extract(raws, _SPEC[style], whole=True, uid_prefix=uid_prefix(self.name))
                if len(raws) >= _TOP_NATIVE_MIN else None)  # fmt: skip
        if cols is not None:
            key, types = _KEY[style], _TEXT_TYPES[style]
            got = {f: Distinct.from_column(cols.strings[key[f]], types[f], key[f]) for f in _TEXTS}
            if not any(d.errors for d in got.values()):
                return _Batch(raws, locs, {f: cols.strings[key[f]] for f in _STRS},
                              got,
                              TopLevel(cols.unmapped, {}, cols.raw, cols.uids))  # fmt: skip
        typed, top = decode_top(raws, locs, _TYPES[style], _MAPPED[style], (), out, "", self.name, "a GuardDuty finding",
                                whole=True, kind=self.name)  # fmt: skip
        fs = typed.recs
        return _Batch(typed.raws, typed.locs, {f: strs([getattr(x, f) for x in fs]) for f in _STRS},
                      {f: Distinct.each([getattr(x, f) for x in fs]) for f in _TEXTS}, top)  # fmt: skip

    def _open(self, raw: bytes, loc: tuple[str, int], has_id: bool, alone: bool, inner: Records, out: Decoded) -> None:
        """A record that is not a finding with a time: an envelope's findings into ``inner`` (each at its
        index when the envelope is the whole document), else a dead letter with the reason."""
        items = _items(raw)  # (an EventBridge event has an id of its own)
        if items is None:
            why = "no CreatedAt or UpdatedAt time" if has_id else "no Id, nor a findings list or detail"
            out.dead.append(DeadLetter(f"not a GuardDuty finding: {why}", loc[0], loc[1], raw, self.name))
            return
        inner.raws += items
        inner.locs += [(loc[0], j) for j in range(len(items))] if alone else [loc] * len(items)
        inner.events += len(items)
        out.events -= 1  # (the envelope was counted as one record)

    def _finding_columns(self, b: _Batch) -> dict[str, pa.Array]:
        cls = "detection_finding"
        raws, top, c, res, svcs = b.raws, b.top, b.strings, b.texts["resource"], b.texts["service"]
        n = len(raws)
        created = parse_times(c["created_at"])
        updated = parse_times(c["updated_at"])
        one = [s or _NO_SERVICE for s in svcs.values]
        svc = [one[k] for k in svcs.idx]
        archived = strs(["ARCHIVED" if s.archived else None for s in svc])
        status = pa.array([5 if s.archived else 1 for s in svc], pa.int32())
        scores = b.texts["severity"]
        bands = [_severity(x) for x in scores.values]  # (a few distinct scores)
        sev = pa.array([bands[k] for k in scores.idx], pa.int32())
        uids = event_uids(self.name, raws) if top.uids is None else top.uids
        cols = base_columns(cls, kind=self.name, product=self.product, vendor=self.vendor, uids=uids,
                            times_ms=pc.coalesce(updated, created), raws=raw_data(raws) if top.raw_data is None else top.raw_data,
                            activity_id=_activity(created, updated, archived), severity_id=sev)  # fmt: skip
        title = c["title"]
        users = [_user(r or _NO_RESOURCE) for r in res.values]  # (one a distinct resource, then taken)
        cols.update({
            "status_id": status,
            "status": captions(cls, "status_id", status),
            "message": title,
            "count": pa.array([int32_or_none(s.count) for s in svc], pa.int32()),  # (past int32: in raw_data)
            "finding_info.uid": c["id"],
            "finding_info.uid_alt": c["arn"],
            "finding_info.title": title,
            "finding_info.desc": c["description"],
            "finding_info.types": str_lists([[t] if t else None for t in c["type"].to_pylist()]),
            "finding_info.created_time": created,
            "finding_info.modified_time": updated,
            "finding_info.first_seen_time": parse_times([s.event_first_seen for s in svc]),
            "finding_info.last_seen_time": parse_times([s.event_last_seen for s in svc]),
            "cloud.provider": pa.nulls(n, S).fill_null("AWS"),
            "cloud.account.uid": c["account_id"],
            "cloud.region": c["region"],
            "cloud.cloud_partition": c["partition"],
            "actor.user.name": res.taken(strs([u[0] for u in users])),
            "actor.user.uid": res.taken(strs([u[1] for u in users])),
            "actor.user.credential_uid": res.taken(strs([u[2] for u in users])),
            "resources": _resource_column(res, c["region"].to_pylist(), c["partition"].to_pylist()),
            "unmapped": top.unmapped,
        })  # fmt: skip
        evs = [_evidence(s.action) for s in one]  # (one a distinct Service; the columns from each row's, as before)
        cols.update(evidence_columns([evs[k] for k in svcs.idx]))
        cols.update(_process_columns([s.runtime_details.process if s.runtime_details else None for s in svc]))
        scans = [s.ebs_volume_scan_details for s in svc]
        if any(scans):  # (Malware Protection's EBS scans: few findings)
            cols.update(_malware_columns([_threats(x) for x in scans]))
        return cols


def _process_columns(ps: list[_Process | None]) -> dict[str, pa.Array]:
    """Runtime Monitoring's process -> ``actor.process``: name, pid, uuid, working directory, its
    executable (path, name, SHA-256, so threat intel matches the hash) and its user."""
    if not any(ps):
        return {}
    p = [x or _NO_PROCESS for x in ps]
    path = strs([x.executable_path for x in p])
    sha = [x.executable_sha256 for x in p]
    hashes = pa.array([[{"algorithm_id": 3, "algorithm": "SHA-256", "value": h}] if h else None for h in sha],
                      pa.list_(pa.struct([("algorithm_id", pa.int32()), ("algorithm", S), ("value", S)])))  # fmt: skip
    return {
        "actor.process.name": strs([x.name for x in p]),
        "actor.process.pid": pa.array([int32_or_none(x.pid) for x in p], pa.int32()),
        "actor.process.uid": strs([x.uuid for x in p]),
        "actor.process.working_directory": strs([x.pwd for x in p]),
        "actor.process.file.path": path,
        "actor.process.file.name": strs([x.executable_path.rsplit("/", 1)[-1] if x.executable_path else None for x in p]),
        "actor.process.file.type_id": pc.if_else(path.is_valid(), pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
        "actor.process.file.hashes": hashes,
        "actor.process.user.name": strs([x.user for x in p]),
        "actor.process.user.uid": strs([None if x.user_id is None else str(x.user_id) for x in p]),
    }


_NO_PROCESS = _Process()


def _threats(scan: _EbsScan | None) -> list[_ThreatName]:
    d = scan.scan_detections if scan is not None else None
    by = d.threat_detected_by_name if d is not None else None
    return [t for t in (by.threat_names if by is not None else None) or () if t.name]


_FILE = pa.struct([("name", S), ("path", S), ("type_id", pa.int32()),
                   ("hashes", pa.list_(pa.struct([("algorithm_id", pa.int32()), ("algorithm", S), ("value", S)])))])  # fmt: skip


def _malware_columns(per: list[list[_ThreatName]]) -> dict[str, pa.Array]:
    """Malware Protection's detections (``ScanDetections.ThreatDetectedByName.ThreatNames[]``) ->
    ``malware[]``: each threat's name, severity word, infected count, its first file's path and its files
    (path, name, SHA-256 as GuardDuty gives it); no classification is given: Unknown (0)."""
    if not any(per):
        return {}
    ts = [t for x in per for t in x]
    files = [[{"name": f.file_name or (f.file_path or "").rsplit("/", 1)[-1] or None, "path": f.file_path, "type_id": 1,
               "hashes": [{"algorithm_id": 3, "algorithm": "SHA-256", "value": f.hash}] if f.hash else None}
              for f in t.file_paths or () if f.file_path or f.hash] or None for t in ts]  # fmt: skip
    return {"malware": struct_lists([len(x) for x in per], {
        "name": strs([t.name for t in ts]),
        "severity": strs([t.severity for t in ts]),
        "num_infected": pa.array([int32_or_none(t.item_count) for t in ts], pa.int32()),
        "path": strs([t.file_paths[0].file_path if t.file_paths else None for t in ts]),
        "classification_ids": pa.array([[0]] * len(ts), pa.list_(pa.int32())),
        "classifications": pa.array([["Unknown"]] * len(ts), pa.list_(S)),
        "files": pa.array(files, pa.list_(_FILE)),
    })}  # fmt: skip


def _resource_column(res: Distinct, regions: list[str | None], partitions: list[str | None]) -> pa.Array:
    """``resources[]``: built once per distinct (resource, region, partition), then taken for each finding."""
    slot: dict[tuple[int, str | None, str | None], int] = {}
    at = [slot.setdefault(k, len(slot)) for k in zip(res.idx, regions, partitions, strict=True)]
    named = [_resources(r or _NO_RESOURCE) for r in res.values]
    per = [named[k] for k, _region, _partition in slot]
    owners = [(region, partition) for (_k, region, partition), x in zip(slot, per, strict=True) for _r in x]
    flat = [r for x in per for r in x]
    return struct_lists([len(x) for x in per], {
        "type": strs([r[0] for r in flat]),
        "uid": strs([r[1] for r in flat]),
        "name": strs([r[2] for r in flat]),
        "region": strs([o[0] for o in owners]),
        "cloud_partition": strs([o[1] for o in owners]),
        "tags": kv_list([r[3] for r in flat]),
        "owner.name": strs([r[4] for r in flat]),
        "owner.uid": strs([r[5] for r in flat]),
        "namespace": strs([r[6] for r in flat]),
    }).take(pa.array(at, pa.int32()))  # fmt: skip


def _has_scan(raws: list[bytes], top: TopLevel) -> bool:
    """Whether a record of ``raws`` holds :data:`DETAIL_TYPE`: one search of the walk's raw_data where it holds
    them all (the records back to back: a hit across two records is only a needless look, no miss), else one
    search a record."""
    if top.raw_data is not None and len(top.raw_data) == len(raws) and top.raw_data.offset == 0:
        return _fast.contains_any(top.raw_data.buffers()[2], (DETAIL_TYPE,))
    return any(DETAIL_TYPE in r for r in raws)


def _user(r: _Resource) -> tuple[str | None, str | None, str | None]:
    """``actor.user`` (name, uid, credential uid): the access key's user, else the Kubernetes user."""
    k = r.access_key_details
    if k and (k.user_name or k.principal_id):
        return k.user_name, k.principal_id, k.access_key_id
    u = r.kubernetes_details.kubernetes_user_details if r.kubernetes_details else None
    return (u.username, u.uid, None) if u and u.username else (None, None, None)


class _Batch:
    """Findings as the columns read them: ``strings`` (:data:`_STRS`, one column each), ``texts`` (:data:`_TEXTS`,
    each distinct value typed once), their records, places and top level (unmapped, raw_data, uids)."""

    __slots__ = ("locs", "raws", "strings", "texts", "top")

    def __init__(self, raws: list[bytes], locs: list[tuple[str, int]], strings: dict[str, pa.Array],
                 texts: dict[str, Distinct], top: TopLevel) -> None:  # fmt: skip
        self.raws, self.locs, self.strings, self.texts, self.top = raws, locs, strings, texts, top

    def take(self, rows: list[int]) -> _Batch:
        """The same for the given findings only."""
        idx = pa.array(rows, pa.int32())
        return _Batch([self.raws[i] for i in rows], [self.locs[i] for i in rows],
                      {k: v.take(idx) for k, v in self.strings.items()}, {k: v.take(rows) for k, v in self.texts.items()},
                      self.top.take(rows))  # fmt: skip


_SPLITTER = Asff()
_SCHEMA = re.compile(rb'"[sS]chemaVersion"\s*:\s*"2\.0"')
_GUARDDUTY = re.compile(rb'arn:aws[a-z-]*:guardduty:|"[sS]erviceName"\s*:\s*"guardduty"')
_EVENT = re.compile(rb'"detail-type"\s*:\s*"GuardDuty (?:Finding|Malware Protection Object Scan Result)"')

__all__ = ["GuardDuty"]
