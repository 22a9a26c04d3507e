"""Trivy compliance reports (``trivy image|k8s|aws --compliance <spec> --format json``).

A compliance spec (docker-cis-1.6.0, k8s-cis-1.23, k8s-nsa-1.0, aws-cis-1.4, a custom
``@spec.yaml``) curates Trivy's checks into controls; the report holds, per control, the results
that failed it (Trivy's ``pkg/compliance/report``):

- ``--report all``: ``{ID, Title, Description, Version, RelatedResources, Results: [{ID, Name,
  Description, DefaultStatus, Severity, Results: <Trivy results>}]}``, each control's results the
  ordinary ``Results[]`` of a Trivy report (one finding each: vulnerabilities, misconfigurations,
  secrets);
- ``--report summary``: ``{SchemaVersion, ID, Title, SummaryControls: [{ID, Name, Severity,
  TotalFail}]}``, TotalFail left out for a manual control; earlier releases wrote ``TotalPass``
  beside it, or a ``Status`` word instead.

Go reads JSON keys in any case and early releases wrote them in lower case (``id``,
``relatedResources``, ``results``): the report's and a control's keys are matched in any case.

Mapping (:class:`~secpipe.formats.trivy.Trivy` decodes the findings as in any Trivy report):

- every finding of a control -> its usual class, with the control as its ``policy`` (uid = control
  ID, name, desc, ``group`` = the spec: uid = spec ID, name = Title; version = the spec's Version):
  OCSF's "policy that pertains to the control that triggered the event". A Compliance Finding
  (a misconfiguration) also names the control as ``compliance.control`` and the spec as
  ``compliance.standards`` (its check, the AVD id, stays ``compliance.checks[0]``);
- a control of an ``all`` report without results, and each summary control -> one Compliance
  Finding of the control itself: ``compliance.status`` Fail (TotalFail > 0, Status FAIL, or
  results), Pass (TotalFail 0, Status PASS, no result), Warning (WARN), Unknown (a manual control:
  no TotalFail, or "Manual" in the name of a control without results, as Trivy's summary has it;
  its ``DefaultStatus`` when it gives one); finding status Resolved (4) for a Pass, else New (1);
  severity the control's; ``raw_data`` the control's JSON.

The report has no time: every event gets the receipt time (labelled), unless it was trivy-operator's
(``CreatedAt``: its ClusterComplianceReport's updateTimestamp, see :mod:`._trivy_operator`). ``RelatedResources`` goes to
``unmapped``. A report or control whose fields have the wrong JSON type is dead-lettered with the
reason (a control alone; the other controls are stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    S,
    captions,
    json_col,
    nest,
    report_time,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
    unmapped_with,
)
from secpipe.formats.base import DeadLetter, Decoded, base_columns, const, event_uids, to_batch

_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_TEXT = msgspec.json.Decoder(str | None)
_TEXTS = msgspec.json.Decoder(list[str] | None)
_COUNT = msgspec.json.Decoder(int | None)
_RAWS = msgspec.json.Decoder(list[msgspec.Raw] | None)
#: Trivy's control status words (ControlStatus; a summary's Status) -> OCSF compliance.status_id
_STATUS = {"PASS": 1, "WARN": 2, "FAIL": 3}
_WORD = {0: "Unknown", 1: "Pass", 2: "Warning", 3: "Fail"}


def is_compliance(head: bytes) -> bool:
    """Whether a document's head opens a Trivy compliance report (either kind, keys in any case)."""
    h = bytes(head[:4096])  # (a memoryview body's head is one too)
    if b'ummaryControls"' in h:
        return b'"ID"' in h or b'"id"' in h
    return b'elatedResources"' in h and (b'"Results"' in h or b'"results"' in h) and b'"ArtifactName"' not in h


@dataclass
class Control:
    """One control of the report, its fields read (``results``: its Trivy results, raw)."""

    raw: bytes
    id: str | None = None
    name: str | None = None
    description: str | None = None
    severity: str | None = None
    default_status: str | None = None
    status: str | None = None
    total_fail: int | None = None
    results: list[msgspec.Raw] | None = None


@dataclass
class Report:
    """A compliance report: the spec's fields and its controls (``summary``: a --report summary)."""

    id: str | None = None
    title: str | None = None
    description: str | None = None
    version: str | None = None
    related: list[str] | None = None
    created: str | None = None  # (no Trivy report has one: trivy-operator's updateTimestamp, see _trivy_operator)
    summary: bool = False
    controls: list[Control] = field(default_factory=list)


def _fields(raw: bytes) -> dict[str, msgspec.Raw]:
    """An object's members by lower-cased key (the first of two spellings wins)."""
    out: dict[str, msgspec.Raw] = {}
    for k, v in _KEYS.decode(raw).items():
        out.setdefault(k.lower(), v)
    return out


def _read(f: dict[str, msgspec.Raw], key: str, dec: msgspec.json.Decoder) -> Any:
    raw = f.get(key)
    if raw is None:
        return None
    try:
        return dec.decode(raw)
    except msgspec.ValidationError as exc:
        msg = f"{key}: {exc}"
        raise ValueError(msg) from exc


def parse(data: bytes, source: str, fmt: str, out: Decoded) -> Report:
    """The compliance report in ``data`` (compact JSON); a control of the wrong shape is
    dead-lettered into ``out``. Raises ``ValueError`` (or msgspec's DecodeError) when the report
    itself is not one."""
    top = _fields(data)
    rep = Report(id=_read(top, "id", _TEXT), title=_read(top, "title", _TEXT),
                 description=_read(top, "description", _TEXT), version=_read(top, "version", _TEXT),
                 related=_read(top, "relatedresources", _TEXTS), created=_read(top, "createdat", _TEXT))  # fmt: skip
    raws = _read(top, "summarycontrols", _RAWS)
    rep.summary = raws is not None
    if raws is None:
        raws = _read(top, "results", _RAWS)
    if raws is None:
        msg = "no Results or SummaryControls (produce it with `trivy ... --compliance <spec> --format json`)"
        raise ValueError(msg)
    for i, raw in enumerate(raws):
        b = bytes(raw)
        try:
            f = _fields(b)
            rep.controls.append(Control(
                b, id=_read(f, "id", _TEXT), name=_read(f, "name", _TEXT), description=_read(f, "description", _TEXT),
                severity=_read(f, "severity", _TEXT), default_status=_read(f, "defaultstatus", _TEXT),
                status=_read(f, "status", _TEXT), total_fail=_read(f, "totalfail", _COUNT),
                results=None if rep.summary else _read(f, "results", _RAWS)))  # fmt: skip
        except (ValueError, msgspec.DecodeError) as exc:
            out.dead.append(DeadLetter(f"not a Trivy compliance control: {exc}", source, i, b, fmt))
    return rep


def _status(c: Control, summary: bool) -> int:
    """OCSF compliance.status_id of a control itself (see the module docstring)."""
    if c.status and c.status.upper() in _STATUS:
        return _STATUS[c.status.upper()]
    if summary:
        return 0 if c.total_fail is None else 3 if c.total_fail > 0 else 1
    if c.results:
        return 3
    if c.default_status and c.default_status.upper() in _STATUS:
        return _STATUS[c.default_status.upper()]
    return 0 if "manual" in (c.name or "").lower() else 1


def policy_columns(rep: Report, controls: list[Control]) -> dict[str, pa.Array]:
    """``policy`` (the control, its group the spec) of events, one control each."""
    n = len(controls)
    return {
        "policy.uid": strs([c.id for c in controls]),
        "policy.name": strs([c.name for c in controls]),
        "policy.desc": strs([c.description or None for c in controls]),
        "policy.version": strs([rep.version or None] * n),
        "policy.group.uid": strs([rep.id] * n),
        "policy.group.name": strs([rep.title] * n),
    }


def finding_columns(rep: Report, cls: str, controls: list[Control], have: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """The columns a control gives the events of its findings (``have``: their columns so far):
    ``policy``; the spec's RelatedResources in ``unmapped``; a Compliance Finding's ``compliance.control`` and ``standards``; the control's
    severity where the finding gives none (Trivy leaves a check's severity out of some reports)."""
    cols = policy_columns(rep, controls)
    cols["unmapped"] = unmapped_with(have["unmapped"], "RelatedResources", rep.related)
    if cls == "compliance_finding":
        cols["compliance.control"] = strs([c.id for c in controls])
        cols["compliance.standards"] = standards(rep, len(controls))
    sev = have["severity_id"]
    if pc.any(pc.equal(sev, 0)).as_py():
        sev = pc.if_else(pc.equal(sev, 0), severity_ids(strs([c.severity for c in controls])), sev)
        cols["severity_id"] = sev
        cols["severity"] = captions(cls, "severity_id", sev)
    return cols


def standards(rep: Report, n: int) -> pa.Array:
    """``compliance.standards``: the spec (its Title, else its ID)."""
    name = rep.title or rep.id
    return str_lists([[name] if name else None] * n)


def related(rep: Report, n: int) -> pa.Array:
    """``unmapped`` holding the spec's RelatedResources (null without any)."""
    return json_col([{"RelatedResources": rep.related} if rep.related else None] * n)


def control_batch(rep: Report, controls: list[Control], kind: str, product: str, vendor: str) -> pa.RecordBatch:
    """One Compliance Finding per control, of the control itself (see the module docstring)."""
    n = len(controls)
    cstat = pa.array([_status(c, rep.summary) for c in controls], pa.int32())
    raws = [c.raw for c in controls]
    sev = severity_ids(strs([c.severity for c in controls]))
    cols = base_columns("compliance_finding", kind=kind, product=product, vendor=vendor,
                        uids=event_uids(kind, raws, [f"{rep.id}\0{rep.title}\0control\0{i}" for i in range(n)]),
                        times_ms=const(report_time(rep.created), n, pa.int64()), raws=raws, activity_id=1,
                        severity_id=sev)  # fmt: skip
    words = strs([_WORD[s] for s in cstat.to_pylist()])
    fstat = pa.array([4 if s == 1 else 1 for s in cstat.to_pylist()], pa.int32())
    detail = [None if c.total_fail is None else f"{c.total_fail} failed" if rep.summary
              else f"{len(c.results or ())} failed" for c in controls]  # fmt: skip
    check = {"uid": strs([c.id for c in controls]), "name": strs([c.name for c in controls]),
             "severity": captions("compliance_finding", "severity_id", sev), "severity_id": sev,
             "status": words, "status_id": cstat}  # fmt: skip
    cols.update(policy_columns(rep, controls))
    cols.update({
        "status_id": fstat,
        "status": captions("compliance_finding", "status_id", fstat),
        "compliance.status_id": cstat,
        "compliance.status": words,
        "compliance.status_code": strs([c.status or c.default_status or None for c in controls]),
        "compliance.status_detail": strs(detail),
        "compliance.control": strs([c.id for c in controls]),
        "compliance.desc": strs([c.description or c.name for c in controls]),
        "compliance.standards": standards(rep, n),
        "compliance.checks": singleton_list(nest(check)),
        "finding_info.uid": strs([f"{rep.id}|{c.id}" for c in controls]),
        "finding_info.title": strs([c.name or c.id for c in controls]),
        "finding_info.desc": strs([c.description or None for c in controls]),
        "finding_info.types": const(["Compliance Control"], n, pa.list_(S)),
        "finding_info.product.name": strs([product] * n),
        "message": strs([f"{c.id} {c.name}: {_WORD[s]}" for c, s in zip(controls, cstat.to_pylist(), strict=True)]),
        "unmapped": related(rep, n),
    })  # fmt: skip
    return to_batch("compliance_finding", cols)


__all__ = ["Control", "Report", "control_batch", "finding_columns", "is_compliance", "parse"]
