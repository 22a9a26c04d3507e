"""OPA Gatekeeper's violation log lines, read by the ``opa`` format.

Gatekeeper (open-policy-agent/gatekeeper) logs JSON lines through zap (``level``, ``ts`` epoch
seconds, ``logger``, ``msg``): its audit pod one line per violation it finds in the cluster
(``process`` audit, ``event_type`` ``violation_audited``, ``audit_id`` the audit run; its
``website/docs/audit.md``), its webhook one line per admission request a constraint denied or
warned about when run with ``--log-denies`` (``process`` admission, ``event_type`` ``violation``,
``request_username``). Both name the constraint (``constraint_kind``, ``constraint_name``,
``constraint_action`` deny/warn/dryrun) and the Kubernetes object (``resource_kind``,
``resource_namespace``, ``resource_name``). They are no OPA decision and no OPA server log line:
the opa format took them for the latter and left them out silently.

- an audit violation -> Compliance Finding (2003): the object fails the constraint
  (``compliance.control`` the constraint kind, ``compliance.status`` Fail, Warning for a ``warn``
  constraint), ``finding_info`` titled by the message, its uid the constraint and object, the
  audit run as ``metadata.correlation_uid``, the object as ``resources[0]``;
- an admission violation -> API Activity (6003), as OPA's admission decisions: the request of
  ``request_username`` on the object, ``authorizations[0]`` with the constraint as ``policy``
  (its kind as ``policy.group.name``), ``action`` Denied and status Failure for a ``deny``
  constraint (Allowed and Success for ``warn``/``dryrun``, which let the request through), the
  message as ``status_detail``.

Its webhook run with ``--log-mutations`` logs each mutation it applied to an admitted object (``msg``
``Mutation applied``; ``Oscillating mutation.`` and ``Mutation not converging`` when the mutators
do not settle and the request is refused; ``event_type`` ``mutation_applied``, the object as above,
``resource_source_type``, ``resource_labels``, ``Mutation Id`` as written into the object's
``gatekeeper.sh/mutation-id`` annotation, the mutators of each pass as ``iteration_<n>``: its
``pkg/mutation`` ``logAppliedMutations``): an API Activity (6003) Update of the object by Gatekeeper's
mutation webhook, status Success (Failure for the two refusals, the message as ``status_detail``),
the mutation id as ``metadata.correlation_uid``; the mutators stay in ``unmapped``.

The same audit results as the constraints hold them (``status.violations``: Gatekeeper's audit
writes each violation it finds there too, up to ``--constraint-violations-limit``; ``kubectl get
constraints -o json``, a ``List`` of constraints, or one constraint) are read by
:func:`constraint_violations`: each violation becomes the audit pod's log line for it (the
constraint's kind, name and group, the violation's enforcement action, object and message, the
constraint's ``status.auditTimestamp`` as ``ts``), and is mapped as one. A document whose constraints
hold no violation has nothing to report and is dead-lettered with that reason.

Product Gatekeeper (vendor OPA); severity Unknown (a constraint carries none); what no field
takes (``details``, labels, annotations, enforcement actions, ``hookType``) stays in ``unmapped``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import nest, singleton_list, strs
from secpipe.formats.base import (
    Decoded,
    Strict,
    base_columns,
    decode_strict,
    event_uids,
    parse_times,
    to_batch,
    unmapped_from,
)
from secpipe.formats.base import object_or_empty as _d

PRODUCT, VENDOR = "Gatekeeper", "OPA"


class _Line(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    ts: float | int | str | None = None
    msg: str | None = None
    process: str | None = None
    event_type: str | None = None
    audit_id: str | None = None
    constraint_kind: str | None = None
    constraint_name: str | None = None
    constraint_action: str | None = None
    resource_kind: str | None = None
    resource_namespace: str | None = None
    resource_name: str | None = None
    request_username: str | None = None
    mutation_id: str | None = msgspec.field(default=None, name="Mutation Id")
    level: msgspec.Raw = msgspec.Raw(b"")
    logger: msgspec.Raw = msgspec.Raw(b"")
    details: msgspec.Raw = msgspec.Raw(b"")
    hookType: msgspec.Raw = msgspec.Raw(b"")
    constraint_group: msgspec.Raw = msgspec.Raw(b"")
    constraint_api_version: msgspec.Raw = msgspec.Raw(b"")
    constraint_namespace: msgspec.Raw = msgspec.Raw(b"")
    constraint_enforcement_actions: msgspec.Raw = msgspec.Raw(b"")
    constraint_annotations: msgspec.Raw = msgspec.Raw(b"")
    resource_group: msgspec.Raw = msgspec.Raw(b"")
    resource_api_version: msgspec.Raw = msgspec.Raw(b"")
    resource_labels: msgspec.Raw = msgspec.Raw(b"")
    resource_source_type: msgspec.Raw = msgspec.Raw(b"")


_UNMAPPED = ("level", "logger", "details", "hookType", "constraint_group", "constraint_api_version",
             "constraint_namespace", "constraint_enforcement_actions", "constraint_annotations", "resource_group",
             "resource_api_version", "resource_labels", "resource_source_type")  # fmt: skip
MUTATION = "mutation_applied"
#: a mutation line's messages of a refused request (the mutators did not settle)
_MUTATION_FAILED = ("Oscillating mutation.", "Mutation not converging")


def is_violation(raw: bytes) -> bool:
    """Whether a record is a Gatekeeper violation line (its own keys; cheap byte tests)."""
    return b'"constraint_kind"' in raw and b'"event_type"' in raw and b"violation" in raw


def is_mutation(raw: bytes) -> bool:
    """Whether a record is a Gatekeeper mutation line (``--log-mutations``; cheap byte tests)."""
    return b'"mutation_applied"' in raw and b'"event_type"' in raw and b'"resource_kind"' in raw


def is_line(raw: bytes) -> bool:
    """Whether a record is a Gatekeeper violation or mutation line."""
    return is_violation(raw) or is_mutation(raw)


_CONSTRAINTS = b'"constraints.gatekeeper.sh/'
NO_VIOLATIONS = ("Gatekeeper constraints whose status lists no audit violation (status.violations): nothing to "
                 "report")  # fmt: skip
_ENC = msgspec.json.Encoder().encode


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def constraint_violations(raw: bytes) -> list[bytes] | None:
    """The audit violation lines of the Gatekeeper constraints in a document (one constraint, or a
    ``List``'s ``items``), one per ``status.violations`` entry; None when it holds no constraint."""
    if _CONSTRAINTS not in raw:
        return None
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    items = doc["items"] if isinstance(doc, dict) and isinstance(doc.get("items"), list) else [doc]
    constraints = [c for c in items if isinstance(c, dict) and str(c.get("apiVersion", "")).startswith(
        "constraints.gatekeeper.sh/")]  # fmt: skip
    if not constraints:
        return None
    lines: list[bytes] = []
    for c in constraints:
        meta, status = _d(c.get("metadata")), _d(c.get("status"))
        group, _, version = str(c["apiVersion"]).partition("/")
        head = {"process": "audit", "event_type": "violation_audited", "ts": status.get("auditTimestamp"),
                "constraint_group": group, "constraint_api_version": version, "constraint_kind": _text(c.get("kind")),
                "constraint_name": _text(meta.get("name"))}  # fmt: skip
        for v in status.get("violations") or ():
            if isinstance(v, dict):
                lines.append(_ENC({**head, "msg": v.get("message"), "constraint_action": v.get("enforcementAction"),
                                   "resource_group": v.get("group"), "resource_api_version": v.get("version"),
                                   "resource_kind": v.get("kind"), "resource_namespace": v.get("namespace"),
                                   "resource_name": v.get("name")}))  # fmt: skip
    return lines


def decode(raws: list[bytes], locs: list[tuple[str, int]], out: Decoded, fmt: str) -> None:
    """Map violation and mutation lines into ``out``: audit ones, admission ones and mutations, a batch each."""
    st = decode_strict(raws, locs, _Line, out, fmt, "a Gatekeeper violation line")
    st = st.reject([None if x.event_type and (x.constraint_kind or x.event_type == MUTATION) else
                    "not a Gatekeeper violation or mutation line: no `constraint_kind` and `event_type`"
                    for x in st.recs], out, fmt)  # fmt: skip
    mutation = [i for i, x in enumerate(st.recs) if x.event_type == MUTATION]
    audit = [i for i, x in enumerate(st.recs) if x.event_type != MUTATION and
             (x.process == "audit" or x.event_type == "violation_audited")]  # fmt: skip
    taken = {*audit, *mutation}
    admission = [i for i in range(len(st.recs)) if i not in taken]
    if audit:
        out.batches.append(_audit(st.take(audit), fmt))
    if admission:
        out.batches.append(_admission(st.take(admission), fmt))
    if mutation:
        out.batches.append(_mutation(st.take(mutation), fmt))


def _common(cls: str, st: Strict, fmt: str, activity: pa.Array, status_id: list[int], status: list[str]) -> dict[str, Any]:
    xs: list[_Line] = st.recs
    cols = base_columns(cls, kind=fmt, product=PRODUCT, vendor=VENDOR, uids=event_uids(fmt, st.raws),
                        times_ms=parse_times([x.ts for x in xs]), raws=st.raws, activity_id=activity, severity_id=0)  # fmt: skip
    res = nest({"type": strs([x.resource_kind for x in xs]), "name": strs([x.resource_name for x in xs]),
                "namespace": strs([x.resource_namespace or None for x in xs])})  # fmt: skip
    named = pa.array([bool(x.resource_name or x.resource_kind) for x in xs], pa.bool_())
    cols.update({
        "status_id": pa.array(status_id, pa.int32()),
        "status": strs(status),
        "message": strs([x.msg for x in xs]),
        "metadata.event_code": strs([x.event_type for x in xs]),
        "resources": singleton_list(res, named),
        "unmapped": unmapped_from(st, _UNMAPPED),
    })  # fmt: skip
    return cols


def _audit(st: Strict, fmt: str) -> pa.RecordBatch:
    cls = "compliance_finding"
    xs: list[_Line] = st.recs
    n = len(xs)
    cols = _common(cls, st, fmt, pa.array([1] * n, pa.int32()), [1] * n, ["New"] * n)
    warn = [(x.constraint_action or "").lower() == "warn" for x in xs]
    cols.update({
        "finding_info.uid": strs([f"{x.constraint_kind}/{x.constraint_name}:{x.resource_kind}/"
                                  f"{x.resource_namespace + '/' if x.resource_namespace else ''}{x.resource_name}"
                                  for x in xs]),  # fmt: skip
        "finding_info.title": strs([x.msg or f"{x.constraint_kind} {x.constraint_name}" for x in xs]),
        "finding_info.desc": strs([x.msg for x in xs]),
        "finding_info.types": pa.array([["violation_audited"]] * n, pa.list_(pa.string())),
        "compliance.control": strs([x.constraint_kind for x in xs]),
        "compliance.desc": strs([x.constraint_name for x in xs]),
        "compliance.status_id": pa.array([2 if w else 3 for w in warn], pa.int32()),
        "compliance.status": strs(["Warning" if w else "Fail" for w in warn]),
        "compliance.status_detail": strs([x.constraint_action for x in xs]),
        "metadata.correlation_uid": strs([x.audit_id for x in xs]),
    })  # fmt: skip
    return to_batch(cls, cols)


def _admission(st: Strict, fmt: str) -> pa.RecordBatch:
    cls = "api_activity"
    xs: list[_Line] = st.recs
    n = len(xs)
    deny = [(x.constraint_action or "deny").lower() == "deny" for x in xs]
    cols = _common(cls, st, fmt, pa.array([99] * n, pa.int32()), [2 if d else 1 for d in deny],
                   ["Failure" if d else "Success" for d in deny])  # fmt: skip
    policy = {"policy.name": strs([x.constraint_name for x in xs]), "policy.group.name": strs([x.constraint_kind for x in xs])}
    cols.update({
        "status_detail": strs([x.msg for x in xs]),
        "action_id": pa.array([2 if d else 1 for d in deny], pa.int32()),
        "action": strs(["Denied" if d else "Allowed" for d in deny]),
        "disposition_id": pa.array([2 if d else 1 for d in deny], pa.int32()),
        "disposition": strs(["Blocked" if d else "Allowed" for d in deny]),
        "authorizations": singleton_list(nest({"decision": strs(["denied" if d else "allowed" for d in deny]), **policy})),
        **policy,
        "actor.user.name": strs([x.request_username for x in xs]),
        "api.operation": strs([f"{x.process or 'admission'}.{x.event_type}" for x in xs]),
        **_api_service(n),
    })  # fmt: skip
    return to_batch(cls, cols)


def _api_service(n: int) -> dict[str, pa.Array]:
    """The API Activity columns every Gatekeeper line has alike: the service, and the caller endpoint's Unknown type
    (OCSF requires it: the log names no caller address)."""
    return {"api.service.name": strs(["gatekeeper"] * n), "src_endpoint.type_id": pa.array([0] * n, pa.int32()),
            "src_endpoint.type": strs(["Unknown"] * n)}


def _mutation(st: Strict, fmt: str) -> pa.RecordBatch:
    cls = "api_activity"
    xs: list[_Line] = st.recs
    n = len(xs)
    failed = [(x.msg or "") in _MUTATION_FAILED for x in xs]
    cols = _common(cls, st, fmt, pa.array([3] * n, pa.int32()), [2 if f else 1 for f in failed],
                   ["Failure" if f else "Success" for f in failed])  # fmt: skip
    cols.update({
        "status_detail": strs([x.msg if f else None for x, f in zip(xs, failed, strict=True)]),
        "metadata.correlation_uid": strs([x.mutation_id for x in xs]),
        "api.operation": strs([f"{x.process or 'mutation'}.{x.event_type}" for x in xs]),
        **_api_service(n),
    })  # fmt: skip
    return to_batch(cls, cols)
