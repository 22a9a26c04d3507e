"""GitLab Code Quality reports (the Code Climate issue format): a JSON array of issues.

GitLab's ``codequality`` report artifact (``gl-code-quality-report.json``) is what linters with a
GitLab formatter (ESLint, Stylelint, PHPStan, mypy, golangci-lint ...), Code Climate engines and
Trivy's ``gitlab-codequality`` template write: one object per issue with ``description``,
``check_name``, ``fingerprint``, ``severity`` and a ``location`` (``path`` and ``lines.begin``, or
``positions.begin.line``). Like a SARIF result, each issue is one **Application Security Posture
Finding (2007)**:

- ``fingerprint`` -> ``finding_info.uid`` (GitLab tells issues apart by it; a fingerprint two issues
  share gets the file and line appended); ``description`` -> title and ``message``; ``content.body``
  (or ``content`` as text, as Trivy's template writes it) -> desc; ``categories`` -> ``finding_info.types``; ``engine_name`` -> the product (else "Code Quality").
- ``check_name`` -> ``finding_info.analytic`` (uid and name, type Rule) and ``affected_code[0].rule``;
  the location -> ``affected_code[0]`` (file, start and end line; only with a path: OCSF requires
  the file). A description that opens with a CVE id (Trivy's template: ``CVE-2019-1549: openssl:
  ...``) gives ``cve.uid``; otherwise the check is the vulnerability's ``advisory`` (OCSF 1.8.0
  allows one of advisory / cve / cwe).
- ``severity``: Code Climate's scale info 1, minor 2, major 3, critical 4, blocker 5 (others Unknown).

A report carries no time: the receipt time and its label. ``raw_data`` is the issue's JSON.
Dead letters: a document that is not a JSON array of objects whole; one issue of the wrong shape
alone. An empty array is not recognized (it names no format). Recognized by a first issue with
``check_name`` or ``fingerprint`` and a ``location`` with a ``path``.
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
    singleton_list,
    str_lists,
)
from secpipe.formats.base import Decoded, base_columns, const, event_uids, int32_or_none, strs, to_batch


class _Line(msgspec.Struct, gc=False):
    line: int | None = None


class _Positions(msgspec.Struct, gc=False):
    begin: _Line | None = None
    end: _Line | None = None


class _Lines(msgspec.Struct, gc=False):
    begin: int | None = None
    end: int | None = None


class _Location(msgspec.Struct, gc=False):
    path: str | None = None
    lines: _Lines | None = None
    positions: _Positions | None = None


class _Content(msgspec.Struct, gc=False):
    body: str | None = None


class _Issue(msgspec.Struct, gc=False):
    description: str | None = None
    check_name: str | None = None
    fingerprint: str | None = None
    severity: str | None = None
    categories: list[str] | None = None
    engine_name: str | None = None
    content: _Content | str | None = None  # (Code Climate's {"body": ...}; Trivy's template writes the text)
    location: _Location | None = None


_CLS = "application_security_posture_finding"
_MAPPED = frozenset({"description", "check_name", "fingerprint", "severity", "categories", "engine_name", "content",
                     "location"})  # fmt: skip
#: Code Climate's severity scale -> OCSF severity_id
_SEVERITY = {"info": 1, "minor": 2, "major": 3, "critical": 4, "blocker": 5}
_CVE = re.compile(r"^(CVE-\d{4}-\d{4,})\b")
_NO_LOC = _Location()
_NO_LINES = _Lines()
_NO_POS = _Positions()


def _lines(loc: _Location) -> tuple[int | None, int | None]:
    """(start, end) line of a location: ``lines``, else ``positions``; an absent end is the start."""
    if loc.lines is not None:
        start, end = loc.lines.begin, loc.lines.end
    else:
        pos = loc.positions or _NO_POS
        start, end = pos.begin.line if pos.begin else None, pos.end.line if pos.end else None
    return int32_or_none(start), int32_or_none(end if end is not None else start)


class CodeQuality(ReportFormat):
    """GitLab Code Quality (Code Climate) reports."""

    name = "code_quality"
    report_type = list[msgspec.Raw]
    what = "a GitLab Code Quality report"
    description = "GitLab Code Quality (Code Climate) report -> Application Security Posture Finding (2007) per issue"
    framing = "document"
    product = "Code Quality"
    vendor = "GitLab"

    def sniff(self, head: bytes) -> int:
        """Recognize a first issue with a check name or fingerprint and a location path."""
        h = head[:65536]
        if b'"location"' not in h or (b'"check_name"' not in h and b'"fingerprint"' not in h):
            return 0
        return 80 if _HEAD.match(h) else 0

    def map_report(self, issues: list[msgspec.Raw], data: bytes, source: str) -> Decoded:
        """Map each issue; one of the wrong shape is dead-lettered alone."""
        return self.map_each(issues, _Issue, _MAPPED, "a Code Quality issue", source, self._batch)

    def _batch(self, issues: list[_Issue], raws: list[bytes], unmapped: pa.Array) -> pa.RecordBatch:
        n = len(issues)
        sev = pa.array([_SEVERITY.get((i.severity or "").lower(), 0) for i in issues], pa.int32())
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=sev)  # fmt: skip
        engines = strs([i.engine_name for i in issues])
        cols["metadata.product.name"] = pc.fill_null(engines, self.product)
        locs = [i.location or _NO_LOC for i in issues]
        lines = [_lines(loc) for loc in locs]
        files = strs([loc.path or None for loc in locs])
        has_file = files.is_valid()
        rule = strs([i.check_name for i in issues])
        title = strs([i.description for i in issues])
        desc = strs([i.content if isinstance(i.content, str) else i.content.body if i.content else None for i in issues])
        cve = strs([m.group(1) if (m := _CVE.match(i.description or "")) else None for i in issues])
        adv = pc.if_else(cve.is_valid(), pa.scalar(None, S), rule)
        code = nest({
            "file.path": files,
            "file.name": strs([f.rsplit("/", 1)[-1] if f else None for f in files.to_pylist()]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), pa.scalar(None, S)),
            "start_line": pa.array([x[0] for x in lines], pa.int32()),
            "end_line": pa.array([x[1] for x in lines], pa.int32()),
            "rule.uid": rule,
            "rule.name": rule,
        })  # fmt: skip
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", sev),
            "cve": only_where(nest({"uid": cve, "title": title}), cve),
            "advisory": only_where(nest({"uid": adv, "title": title}), adv),
            "affected_code": singleton_list(code, has_file),
        })  # fmt: skip
        uid = pc.coalesce(strs([i.fingerprint or None for i in issues]), rule)
        where = pc.binary_join_element_wise(pc.fill_null(files, "None"), strs([str(x[0]) for x in lines]), ":")
        ruled = rule.is_valid()
        status = const(1, n, pa.int32())
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": title,
            "finding_info.uid": distinct_uids(uid, where),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.types": str_lists([i.categories for i in issues]),
            "finding_info.product.name": pc.fill_null(engines, self.product),
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": rule,
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), pa.scalar(None, S)),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


_HEAD = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\[\s*\{.{0,8192}?"(?:check_name|fingerprint)"\s*:.{0,8192}?"location"\s*:\s*\{\s*"path"',
                   re.S)  # fmt: skip

__all__ = ["CodeQuality"]
