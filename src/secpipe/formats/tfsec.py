"""tfsec JSON reports (``tfsec --format json``): Terraform static analysis results.

A report is ``{"results": [...]}`` (``null`` when nothing was found); each result is one rule's
finding on one block: ``rule_id`` (``aws-vpc-no-public-egress-sgr``; tfsec 0.x ``AWS007``, kept
as ``legacy_rule_id`` later), ``long_id``, ``rule_description``, ``rule_provider`` /
``rule_service``, ``description``, ``impact``, ``resolution``, ``links``, ``severity``,
``status`` (``"failed"``, or tfsec 1.x's number: 0 failed, 1 passed, 2 ignored; ``passed`` in 0.x),
``resource`` and ``location`` {filename, start_line, end_line}. Like the same result in ``tfsec
--format sarif`` (which the sarif format reads), each one is an **Application Security Posture
Finding (2007)**:

- ``rule_id`` -> ``finding_info.analytic`` (uid; name ``long_id`` else the rule) and
  ``affected_code[0].rule``, and the vulnerability's ``advisory`` (uid, title the
  ``rule_description``, ``src_url`` the first link); ``description`` -> ``message`` and
  ``finding_info.desc``; ``rule_description`` -> the titles; ``resolution`` ->
  ``remediation.desc`` (with ``links`` as its references); ``rule_provider`` / ``rule_service`` ->
  ``finding_info.types``.
- ``location`` -> ``affected_code[0]`` (file, start and end line); ``resource`` -> ``resources[0]``.
- Severity: CRITICAL, HIGH, MEDIUM, LOW (0.x's ERROR High, WARNING Medium, INFO Low, as its SARIF
  levels). Status: failed New (1), ignored Suppressed (3), passed Resolved (4).
- ``finding_info.uid`` is ``<rule_id>|<file>:<start_line>`` (+ the resource for two results there).

The report has no scan time: the receipt time and its label. ``raw_data`` is the result's JSON; its
keys not placed (``impact``, ``legacy_rule_id``, ``warning`` ...) stay in ``unmapped``. Dead letters:
a document that is not a JSON object with a ``results`` list (or null) whole; one result of the
wrong shape alone. Recognized by a result's ``rule_id`` beside ``rule_description`` or
``rule_provider``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    STR_LIST,
    ReportFormat,
    S,
    captions,
    distinct_uids,
    nest,
    only_where,
    severity_ids,
    singleton_list,
    str_lists,
)
from secpipe.formats.base import Decoded, base_columns, event_uids, int32_or_none, strs, to_batch


class _Location(msgspec.Struct, gc=False):
    filename: str | None = None
    start_line: int | None = None
    end_line: int | None = None


class _Result(msgspec.Struct, gc=False):
    rule_id: str | None = None
    long_id: str | None = None
    rule_description: str | None = None
    rule_provider: str | None = None
    rule_service: str | None = None
    description: str | None = None
    resolution: str | None = None
    links: list[str] | None = None
    link: str | None = None  # (0.x: "See https://tfsec.dev/docs/... for more information.")
    severity: str | None = None
    status: Any = None
    passed: bool | None = None
    resource: str | None = None
    location: _Location | None = None


class _Report(msgspec.Struct):
    results: list[msgspec.Raw] | None = None


_CLS = "application_security_posture_finding"
_MAPPED = frozenset({"rule_id", "long_id", "rule_description", "rule_provider", "rule_service", "description",
                     "resolution", "links", "link", "severity", "status", "passed", "resource", "location"})  # fmt: skip
#: tfsec 0.x's levels, as its SARIF output writes them (error, warning, note)
_OLD = {"ERROR": "HIGH", "WARNING": "MEDIUM", "INFO": "LOW"}
#: status -> finding status_id (failed New, ignored Suppressed, passed Resolved)
_STATUS: dict[Any, int] = {0: 1, 1: 4, 2: 3, "failed": 1, "passed": 4, "ignored": 3}
_URL = re.compile(r"https?://\S+")
_NO_LOC = _Location()


def _status(r: _Result) -> int:
    if r.status is not None:
        return _STATUS.get(r.status.lower() if isinstance(r.status, str) else r.status, 1)
    return 4 if r.passed else 1


def _links(r: _Result) -> list[str] | None:
    links = [x for x in r.links or () if isinstance(x, str)]
    if not links and r.link:
        links = _URL.findall(r.link)
    return links or None


class Tfsec(ReportFormat):
    """tfsec JSON reports."""

    name = "tfsec"
    report_type = _Report
    what = "a tfsec JSON report"
    description = "tfsec JSON report (tfsec --format json) -> Application Security Posture Finding (2007) per result"  # fmt: skip
    framing = "document"
    product = "tfsec"
    vendor = "Aqua Security"

    def sniff(self, head: bytes) -> int:
        """Recognize a result's ``rule_id`` beside ``rule_description`` or ``rule_provider``."""
        h = head[:65536]
        if not h.lstrip().startswith(b"{") or b'"results"' not in h or b'"rule_id"' not in h:
            return 0
        return 88 if b'"rule_description"' in h or b'"rule_provider"' in h else 0

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map each result; one of the wrong shape is dead-lettered alone."""
        return self.map_each(report.results or (), _Result, _MAPPED, "a tfsec result", source, self._batch)

    def _batch(self, rs: list[_Result], raws: list[bytes], unmapped: pa.Array) -> pa.RecordBatch:
        n = len(rs)
        sev = severity_ids([_OLD.get((r.severity or "").upper(), r.severity) for r in rs])
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=sev)  # fmt: skip
        none = pa.scalar(None, S)
        locs = [r.location or _NO_LOC for r in rs]
        files = strs([x.filename or None for x in locs])
        has_file = files.is_valid()
        rule = strs([r.rule_id for r in rs])
        name = pc.coalesce(strs([r.long_id for r in rs]), rule)
        title = pc.coalesce(strs([r.rule_description for r in rs]), rule)
        desc = strs([r.description for r in rs])
        links = [_links(r) for r in rs]
        fix = strs([r.resolution or None for r in rs])
        code = nest({
            "file.path": files,
            "file.name": strs([x.filename.rsplit("/", 1)[-1] if x.filename else None for x in locs]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), none),
            "start_line": pa.array([int32_or_none(x.start_line) for x in locs], pa.int32()),
            "end_line": pa.array([int32_or_none(x.end_line if x.end_line is not None else x.start_line) for x in locs],
                                 pa.int32()),  # fmt: skip
            "rule.uid": rule,
            "rule.name": name,
        })  # fmt: skip
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", sev),
            "references": str_lists(links),
            "remediation": only_where(nest({"desc": fix, "references": str_lists(links)}), fix),
            "advisory": only_where(nest({"uid": rule, "title": title, "src_url": strs([x[0] if x else None for x in links])}),
                                   rule),  # fmt: skip
            "affected_code": singleton_list(code, has_file),
        })  # fmt: skip
        status = pa.array([_status(r) for r in rs], pa.int32())
        ruled = rule.is_valid()
        uid = strs([f"{r.rule_id}|{x.filename}:{x.start_line}" for r, x in zip(rs, locs, strict=True)])
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": pc.coalesce(desc, title),
            "finding_info.uid": distinct_uids(uid, strs([r.resource for r in rs])),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.types": pa.array([[t for t in (r.rule_provider, r.rule_service) if t] or None for r in rs],
                                           STR_LIST),  # fmt: skip
            "finding_info.product.name": strs([self.product] * n),
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": name,
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), none),
            "resources": pa.array([[{"name": r.resource}] if r.resource else None for r in rs],
                                  pa.list_(pa.struct([("name", S)]))),  # fmt: skip
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


__all__ = ["Tfsec"]
