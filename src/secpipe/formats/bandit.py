"""Bandit JSON reports (``bandit -r . -f json``): Python security linter results.

A report is ``{"errors", "generated_at", "metrics", "results": [...]}``; each result is one issue a
plugin found (``test_id`` B101 ..., ``test_name``, ``issue_text``, ``issue_severity``,
``issue_confidence``, ``issue_cwe`` {id, link} (1.7.5+), ``filename``, ``line_number``,
``line_range``, ``col_offset`` / ``end_col_offset``, ``more_info``, ``code``). Like the same issue
in ``bandit -f sarif`` (which the sarif format reads), each one is an **Application Security
Posture Finding (2007)**:

- ``test_id`` / ``test_name`` -> ``finding_info.analytic`` (uid, name, type Rule) and
  ``affected_code[0].rule``; ``issue_text`` -> ``message``, ``finding_info.title`` and the
  vulnerability's title; ``more_info`` (the plugin's page) -> ``finding_info.src_url``.
- ``filename``, ``line_number`` (start), the last of ``line_range`` (end) and the columns (Bandit's
  0-based ``col_offset`` + 1, as its SARIF formatter writes them) -> ``affected_code[0]``.
- ``issue_cwe.id`` -> the vulnerability's ``cwe`` (uid ``CWE-<id>``, ``src_url`` its link); without
  one the plugin is the ``advisory`` (OCSF 1.8.0 allows one of advisory / cve / cwe).
- ``issue_severity`` HIGH / MEDIUM / LOW -> High / Medium / Low (UNDEFINED Unknown), as its SARIF
  levels error / warning / note; ``issue_confidence`` -> ``confidence_id``.
- ``finding_info.uid`` is ``<test_id>|<filename>|<line>:<col>`` (Bandit writes no fingerprint).

``generated_at`` -> ``time`` (else the receipt time and its label). Status New. ``raw_data`` is the
result's JSON; its keys not placed (``code``, ``line_range`` ...) stay in ``unmapped``. ``errors``
(files Bandit could not read) and ``metrics`` are no findings. Dead letters: a document that is not
a JSON object with a ``results`` list whole; one result of the wrong shape alone. Recognized by
``generated_at`` beside ``metrics._totals``, or a result's ``test_id`` beside ``issue_severity``.
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    ReportFormat,
    S,
    captions,
    distinct_uids,
    nest,
    only_where,
    report_time,
    singleton_list,
)
from secpipe.formats.base import Decoded, base_columns, const, event_uids, int32_or_none, strs, to_batch


class _Cwe(msgspec.Struct, gc=False):
    id: int | None = None
    link: str | None = None


class _Issue(msgspec.Struct, gc=False):
    test_id: str | None = None
    test_name: str | None = None
    issue_text: str | None = None
    issue_severity: str | None = None
    issue_confidence: str | None = None
    issue_cwe: _Cwe | None = None
    filename: str | None = None
    line_number: int | None = None
    line_range: list[int] | None = None
    col_offset: int | None = None
    end_col_offset: int | None = None
    more_info: str | None = None


class _Report(msgspec.Struct):
    results: list[msgspec.Raw]
    generated_at: str | None = None


_CLS = "application_security_posture_finding"
_MAPPED = frozenset({"test_id", "test_name", "issue_text", "issue_severity", "issue_confidence", "issue_cwe", "filename",
                     "line_number", "col_offset", "end_col_offset", "more_info"})  # fmt: skip
_SEVERITY = {"HIGH": 4, "MEDIUM": 3, "LOW": 2}
_CONFIDENCE = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
_NO_CWE = _Cwe()


def _col(x: int | None) -> int | None:
    return int32_or_none(x + 1) if isinstance(x, int) and x >= 0 else None


class Bandit(ReportFormat):
    """Bandit JSON reports."""

    name = "bandit"
    report_type = _Report
    what = "a Bandit JSON report"
    description = "Bandit JSON report (bandit -f json) -> Application Security Posture Finding (2007) per issue"  # fmt: skip
    framing = "document"
    product = "Bandit"
    vendor = "PyCQA"

    def sniff(self, head: bytes) -> int:
        """Recognize ``generated_at`` beside ``metrics._totals``, or a result's ``test_id`` and ``issue_severity``."""
        h = head[:65536]
        if not h.lstrip().startswith(b"{") or b'"results"' not in h:
            return 0
        if b'"generated_at"' in h and _TOTALS.search(h):
            return 88
        return 85 if b'"test_id"' in h and b'"issue_severity"' in h else 0

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map each issue; one of the wrong shape is dead-lettered alone."""
        return self.map_each(report.results, _Issue, _MAPPED, "a Bandit issue", source,
                             lambda recs, raws, unmapped: self._batch(recs, raws, unmapped, report.generated_at))

    def _batch(self, xs: list[_Issue], raws: list[bytes], unmapped: pa.Array, generated: str | None) -> pa.RecordBatch:  # fmt: skip
        n = len(xs)
        sev = pa.array([_SEVERITY.get((x.issue_severity or "").upper(), 0) for x in xs], pa.int32())
        when = report_time(generated)
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()) if when is None else const(when, n, pa.int64()), raws=raws,
                            activity_id=1, severity_id=sev)  # fmt: skip
        none = pa.scalar(None, S)
        rule, names = strs([x.test_id for x in xs]), strs([x.test_name for x in xs])
        files = strs([x.filename or None for x in xs])
        has_file = files.is_valid()
        title = strs([x.issue_text for x in xs])
        url = strs([x.more_info for x in xs])
        cwes = [x.issue_cwe or _NO_CWE for x in xs]
        cwe = strs([f"CWE-{c.id}" if isinstance(c.id, int) and c.id > 0 else None for c in cwes])
        adv = pc.if_else(cwe.is_valid(), none, rule)
        code = nest({
            "file.path": files,
            "file.name": strs([x.filename.replace("\\", "/").rsplit("/", 1)[-1] if x.filename else None for x in xs]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), none),
            "start_line": pa.array([int32_or_none(x.line_number) for x in xs], pa.int32()),
            "end_line": pa.array([int32_or_none(max(x.line_range) if x.line_range else x.line_number) for x in xs], pa.int32()),  # fmt: skip
            "start_column": pa.array([_col(x.col_offset) for x in xs], pa.int32()),
            "end_column": pa.array([_col(x.end_col_offset) for x in xs], pa.int32()),
            "rule.uid": rule,
            "rule.name": pc.coalesce(names, rule),
        })  # fmt: skip
        vuln = nest({
            "title": title,
            "severity": captions(_CLS, "severity_id", sev),
            "cwe": only_where(nest({"uid": cwe, "src_url": strs([c.link for c in cwes])}), cwe),
            "advisory": only_where(nest({"uid": adv, "title": pc.coalesce(names, adv), "src_url": url}), adv),
            "affected_code": singleton_list(code, has_file),
        })  # fmt: skip
        uid = strs([f"{x.test_id}|{x.filename}|{x.line_number}:{x.col_offset}" for x in xs])
        status = const(1, n, pa.int32())
        conf = pa.array([_CONFIDENCE.get((x.issue_confidence or "").upper()) for x in xs], pa.int32())
        ruled = rule.is_valid()
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "confidence_id": conf,
            "confidence": captions(_CLS, "confidence_id", conf),
            "message": title,
            "finding_info.uid": distinct_uids(uid),
            "finding_info.title": title,
            "finding_info.src_url": url,
            "finding_info.product.name": const(self.product, n, S),
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": pc.coalesce(names, rule),
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), none),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


_TOTALS = re.compile(rb'"metrics"\s*:\s*\{\s*"_totals"\s*:')

__all__ = ["Bandit"]
