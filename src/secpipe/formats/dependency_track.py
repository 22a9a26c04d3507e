"""Dependency-Track Finding Packaging Format (FPF): a project's findings exported from Dependency-Track
(``GET /api/v1/finding/project/{uuid}/export``, FPF 1.0-1.3), and the REST API's findings array
(``GET /api/v1/finding/project/{uuid}``: the same finding objects, with no ``meta`` or ``project``).

One **Vulnerability Finding (2002)** per ``findings[]`` entry (a vulnerability of one component):

- ``vulnerability``: ``vulnId`` that is a CVE (else the first ``aliases[].cveId``) is ``cve.uid``;
  without one the ``vulnId`` (GHSA-, OSV, npm or Snyk ids, by ``source``) is the ``advisory``
  (OCSF 1.8.0 allows one of advisory / cve / cwe; its CWEs in ``related_cwes``); the other alias ids
  are ``related_vulnerabilities``; ``cvssV3BaseScore``/``cvssV3Vector``, ``cvssV2...`` and
  ``cvssV4...`` -> ``cve.cvss[]`` (only with a base score, which OCSF requires; the version from the
  vector, else the field's); ``epssScore``/``epssPercentile`` -> ``cve.epss``; ``cweId`` (else
  ``cwes[0]``) -> the CWE; title (else the id), description, recommendation -> remediation,
  ``published`` -> created time; ``severity`` (CRITICAL ... UNASSIGNED) -> ``severity_id``.
- ``component`` -> ``affected_packages[0]`` (name ``group/name`` for a namespaced package, version,
  purl, uid = its uuid; only with the name and version OCSF requires); the ``project`` is
  ``resources[0]`` (name, version in ``data``, uid).
- ``analysis`` (the auditing state): suppressed, NOT_AFFECTED or FALSE_POSITIVE -> Suppressed (3),
  RESOLVED -> Resolved (4), IN_TRIAGE -> In Progress (2), EXPLOITABLE, NOT_SET or none -> New (1),
  the state word as ``status_code``, its ``detail`` (the auditor's comment, where given) as ``status_detail``.

``time`` is the export's ``meta.timestamp`` (else the receipt time and its label);
``metadata.product`` is Dependency-Track with ``meta.version``; the API's findings, with no ``project``, name
theirs by its uuid in each ``component.project`` (``resources[0]`` uid); ``finding_info.uid`` is the finding's
``matrix`` (project:component:vulnerability uuids), else ``<vulnId>|<component uuid>``;
``attribution`` (the analyzer that found it) stays in ``unmapped``; ``raw_data`` is the finding.

Dead letters: a document that is not JSON or not of the format's shape whole; one finding of the
wrong shape alone. An export without findings holds no event. Recognized by the ``meta`` naming
the application Dependency-Track, or an array whose first finding has a ``vulnerability`` object and its
``matrix`` of three ids.
"""

from __future__ import annotations

import functools
import re

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    RESOURCES,
    STR_LIST,
    Distinct,
    ReportFormat,
    S,
    Split,
    TopLevel,
    array_text,
    captions,
    decode_top,
    distinct_uids,
    nest,
    only_where,
    raw_data,
    reject_rows,
    report_time,
    severity_ids,
    singleton_list,
    struct_lists,
)
from secpipe.formats.base import Decoded, base_columns, const, event_uids, parse_times, strs, to_batch


class _Component(msgspec.Struct, gc=False):
    uuid: str | None = None
    name: str | None = None
    group: str | None = None
    version: str | None = None
    purl: str | None = None
    project: str | None = None  # the project's uuid (the REST API's findings name no project else)


class _Alias(msgspec.Struct, gc=False):
    cveId: str | None = None  # noqa: N815 (Dependency-Track's keys)
    ghsaId: str | None = None  # noqa: N815
    sonatypeId: str | None = None  # noqa: N815
    osvId: str | None = None  # noqa: N815
    snykId: str | None = None  # noqa: N815
    gsdId: str | None = None  # noqa: N815
    vulnDbId: str | None = None  # noqa: N815


class _Cwe(msgspec.Struct, gc=False):
    cweId: int | None = None  # noqa: N815


class _Vulnerability(msgspec.Struct, gc=False):
    uuid: str | None = None
    source: str | None = None
    vulnId: str | None = None  # noqa: N815
    title: str | None = None
    severity: str | None = None
    cweId: int | None = None  # noqa: N815
    cwes: list[_Cwe] | None = None
    description: str | None = None
    recommendation: str | None = None
    aliases: msgspec.Raw = msgspec.Raw(b"")  # decoded per distinct value (_Aliases)
    cvssV2BaseScore: float | None = None  # noqa: N815
    cvssV2Vector: str | None = None  # noqa: N815
    cvssV3BaseScore: float | None = None  # noqa: N815
    cvssV3Vector: str | None = None  # noqa: N815
    cvssV4BaseScore: float | None = None  # noqa: N815
    cvssV4Vector: str | None = None  # noqa: N815
    epssScore: float | None = None  # noqa: N815
    epssPercentile: float | None = None  # noqa: N815
    published: str | None = None


class _Analysis(msgspec.Struct, gc=False):
    state: str | None = None
    isSuppressed: bool | None = None  # noqa: N815
    detail: str | None = None  # the auditor's comment on the state, where the export gives it


class _Finding(msgspec.Struct, gc=False):
    component: _Component | None = None
    vulnerability: _Vulnerability | None = None
    analysis: _Analysis | None = None
    matrix: str | None = None


class _Meta(msgspec.Struct):
    application: str | None = None
    version: str | None = None
    timestamp: str | None = None


class _Project(msgspec.Struct):
    uuid: str | None = None
    name: str | None = None
    version: str | None = None


class _Report(msgspec.Struct):
    meta: _Meta | None = None
    project: _Project | None = None
    findings: list[msgspec.Raw] | None = None
    version: str | None = None


_CLS = "vulnerability_finding"
_MAPPED = frozenset({"component", "vulnerability", "analysis", "matrix"})
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_VERSION = re.compile(r"^CVSS:(\d+\.\d+)/")
#: analysis state -> finding status_id (as a CycloneDX VEX analysis state)
_STATUS = {"NOT_AFFECTED": 3, "FALSE_POSITIVE": 3, "RESOLVED": 4, "IN_TRIAGE": 2}
_NO_COMP = _Component()
_NO_VULN = _Vulnerability()
_NO_ANALYSIS = _Analysis()


class _Aliases:
    """A vulnerability's ``aliases``: their ids in order, each once, and the first CVE among them; made
    once per distinct value (a vulnerability's aliases repeat in every component it is found in)."""

    __slots__ = ("cve", "ids")

    def __init__(self, aliases: list[_Alias] | None) -> None:
        self.ids = list(dict.fromkeys(x for a in aliases or () for x in (a.cveId, a.ghsaId, a.osvId, a.snykId,
                                                                         a.sonatypeId, a.gsdId, a.vulnDbId) if x))  # fmt: skip
        self.cve = next((x for x in self.ids if _CVE.match(x)), None)


def _ids(v: _Vulnerability, aliases: _Aliases) -> tuple[str | None, str | None, list[str]]:
    """(CVE id, advisory id where there is no CVE, the other ids) of one vulnerability."""
    own = v.vulnId
    cve = own if own and _CVE.match(own) else aliases.cve
    adv = None if cve else own
    rest = [x for x in aliases.ids if x != own and x != cve and x != adv]
    return cve, adv, [own, *rest] if own and own != cve and own != adv else rest


def _cvss(v: _Vulnerability) -> list[tuple[str, float, str | None]]:
    """(version, base score, vector) of each rating with a base score (v4, v3, v2)."""
    out = []
    if v.cvssV4BaseScore is not None:
        out.append((_version(v.cvssV4Vector, "4.0"), v.cvssV4BaseScore, v.cvssV4Vector))
    if v.cvssV3BaseScore is not None:
        out.append((_version(v.cvssV3Vector, "3.0"), v.cvssV3BaseScore, v.cvssV3Vector))
    if v.cvssV2BaseScore is not None:
        out.append((_version(v.cvssV2Vector, "2.0"), v.cvssV2BaseScore, v.cvssV2Vector))
    return out


@functools.lru_cache(maxsize=4096)
def _version(vector: str | None, default: str) -> str:
    """A rating's CVSS version: its vector's ``CVSS:x.y/`` prefix, else the field's (one regex match a vector)."""
    m = _VERSION.match(vector or "")
    return m.group(1) if m else default


def _status(a: _Analysis) -> int:
    return 3 if a.isSuppressed else _STATUS.get((a.state or "").upper(), 1)


class DependencyTrack(ReportFormat):
    """Dependency-Track findings exports (FPF) and the REST API's findings arrays."""

    name = "dependency_track"
    report_type = _Report | list[msgspec.Raw]
    split_key = "findings"
    split_type = _Report
    what = "a Dependency-Track findings export (FPF)"
    description = "Dependency-Track findings export (FPF) or REST API findings array -> Vulnerability Finding (2002) per finding"
    framing = "document"
    product = "Dependency-Track"
    vendor = "OWASP"

    def sniff(self, head: bytes) -> int:
        """Recognize the ``meta`` naming Dependency-Track, or a REST API findings array (its first finding's
        ``matrix`` of three uuids beside its ``vulnerability``)."""
        head = head[:65536]
        if _META.search(head):
            return 90
        return 88 if head.lstrip()[:1] == b"[" and b'"matrix"' in head and _API.match(head) else 0

    def map_split(self, split: Split, source: str) -> Decoded:
        """Map a report :func:`split_report` compacted and cut into its findings in one native pass."""
        return self._map(split.report, split.items, split.array, source)

    def map_report(self, report: _Report | list[msgspec.Raw], data: bytes, source: str) -> Decoded:
        """Map one export's findings (or the REST API's array of them); one of the wrong shape is
        dead-lettered alone."""
        if isinstance(report, list):
            report = _Report(findings=report)
        found = report.findings or []
        return self._map(report, [bytes(r) for r in found], array_text(data, found), source)

    def _map(self, report: _Report, raws: list[bytes], array: memoryview | None, source: str) -> Decoded:
        """The batch of a report's findings (``raws``; ``array``: their JSON array in the compact report)."""
        out = Decoded(events=len(raws))
        if not raws:
            return out
        what = "a Dependency-Track finding"
        # (the walk of the findings' top level also copies them into raw_data and hashes their uids)
        typed, top = decode_top(raws, list(range(len(raws))), _Finding, _MAPPED, (), out, source, self.name, what,
                                array=array, whole=True, kind=self.name)  # fmt: skip
        vs = [f.vulnerability or _NO_VULN for f in typed.recs]
        aliases = Distinct([v.aliases for v in vs], list[_Alias] | None, "vulnerability.aliases")
        keep = reject_rows(aliases.reasons(), typed.raws, typed.locs, out, self.name, what)
        fs, kept = typed.recs, typed.raws
        if keep is not None:
            fs, kept, vs = [fs[i] for i in keep], [kept[i] for i in keep], [vs[i] for i in keep]
            top, aliases = top.take(keep), aliases.take(keep)
        if fs:
            out.batches.append(self._batch(report, fs, vs, aliases.per_row([_Aliases(a) for a in aliases.values]),
                                           kept, top))  # fmt: skip
        return out

    def _batch(self, rep: _Report, fs: list[_Finding], vs: list[_Vulnerability], aliases: list[_Aliases],
               raws: list[bytes], top: TopLevel) -> pa.RecordBatch:  # fmt: skip
        n = len(fs)
        meta, project = rep.meta or _Meta(), rep.project or _Project()
        comps = [f.component or _NO_COMP for f in fs]
        sev = severity_ids([v.severity for v in vs])
        when = report_time(meta.timestamp)
        cols = base_columns(
            _CLS, kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, raws) if top.uids is None else top.uids,
            times_ms=pa.nulls(n, pa.int64()) if when is None else const(when, n, pa.int64()),
            raws=raw_data(raws) if top.raw_data is None else top.raw_data, activity_id=1, severity_id=sev,
        )  # fmt: skip
        cols["metadata.product.version"] = const(meta.version, n, S)
        ids = [_ids(v, a) for v, a in zip(vs, aliases, strict=True)]
        cve, adv = strs([x[0] for x in ids]), strs([x[1] for x in ids])
        cwe = strs([f"CWE-{c}" if (c := v.cweId or next((w.cweId for w in v.cwes or () if w.cweId), None)) else None
                    for v in vs])  # fmt: skip
        title = pc.coalesce(strs([v.title or None for v in vs]), strs([v.vulnId for v in vs]))
        desc = strs([v.description for v in vs])
        fix = strs([v.recommendation or None for v in vs])
        published = parse_times([v.published for v in vs])
        ratings = [_cvss(v) for v in vs]
        flat = [r for rs in ratings for r in rs]
        cvss = struct_lists([len(rs) for rs in ratings], {
            "version": strs([r[0] for r in flat]),
            "base_score": pa.array([r[1] for r in flat], pa.float64()),
            "vector_string": strs([r[2] for r in flat]),
            "vendor_name": strs([v.source for v, rs in zip(vs, ratings, strict=True) for _r in rs]),
        })  # fmt: skip
        score = strs([None if v.epssScore is None else str(v.epssScore) for v in vs])
        epss = only_where(nest({"score": score, "percentile": pa.array([v.epssPercentile for v in vs], pa.float64())}),
                          score)  # fmt: skip
        none = pa.scalar(None, S)
        names = strs([f"{c.group}/{c.name}" if c.group and c.name else c.name for c in comps])
        versions = strs([c.version for c in comps])
        pkg = nest({"name": names, "version": versions, "purl": strs([c.purl for c in comps]),
                    "uid": strs([c.uuid for c in comps])})  # fmt: skip
        adv_cwe = pc.if_else(cve.is_valid(), none, cwe)
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", sev),
            "vendor_name": strs([v.source for v in vs]),
            "related_vulnerabilities": pa.array([x[2] or None for x in ids], STR_LIST),
            "remediation": only_where(nest({"desc": fix}), fix),
            "cve": only_where(nest({"uid": cve, "title": title, "desc": desc, "created_time": published, "cvss": cvss,
                                    "epss": epss, "cwe": only_where(nest({"uid": cwe}), cwe)}), cve),  # fmt: skip
            "advisory": only_where(nest({"uid": adv, "title": title, "desc": desc, "created_time": published,
                                         "related_cwes": singleton_list(nest({"uid": adv_cwe}), adv_cwe.is_valid())}),
                                   adv),  # fmt: skip
            "affected_packages": singleton_list(pkg, pc.and_(names.is_valid(), versions.is_valid())),
        })  # fmt: skip
        analyses = [f.analysis or _NO_ANALYSIS for f in fs]
        status = pa.array([_status(a) for a in analyses], pa.int32())
        res = ({"type": "project", "name": project.name, "uid": project.uuid,
                "data": msgspec.json.encode({"version": project.version}).decode() if project.version else None}
               if project.name or project.uuid else None)  # fmt: skip
        # the REST API's findings name their project by its uuid alone, in each component
        resources = (const([res] if res else None, n, RESOURCES) if res or not any(c.project for c in comps) else
                     pa.array([[{"type": "project", "uid": c.project}] if c.project else None for c in comps],
                              RESOURCES))  # fmt: skip
        at = pc.binary_join_element_wise(pc.fill_null(names, "None"), versions, "@", null_handling="skip")
        fallback = pc.binary_join_element_wise(pc.fill_null(strs([v.vulnId for v in vs]), "None"),
                                               pc.fill_null(strs([c.uuid for c in comps]), "None"), "|")  # fmt: skip
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "status_code": strs([a.state for a in analyses]),
            "status_detail": strs([a.detail or None for a in analyses]),
            "message": pc.binary_join_element_wise(title, pc.coalesce(at, pc.fill_null(names, "None")), " in "),
            "finding_info.uid": distinct_uids(pc.coalesce(strs([f.matrix or None for f in fs]), fallback)),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.created_time": published,
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "finding_info.product.name": const(self.product, n, S),
            "finding_info.product.version": const(meta.version, n, S),
            "resources": resources,
            "vulnerabilities": singleton_list(vuln),
            "unmapped": top.unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


_META = re.compile(rb'"meta"\s*:\s*\{[^{}]*"application"\s*:\s*"Dependency-Track"')
#: ``GET /api/v1/finding/project/{uuid}``: a JSON array of findings, each with a ``vulnerability`` object and
#: its ``matrix`` (project:component:vulnerability uuids, read as any three ids)
_API = re.compile(rb'\s*\[\s*\{(?=.*?"vulnerability"\s*:\s*\{).*?"matrix"\s*:\s*"[^":]{1,64}:[^":]{1,64}:[^":]{1,64}"',
                  re.S)

__all__ = ["DependencyTrack"]
