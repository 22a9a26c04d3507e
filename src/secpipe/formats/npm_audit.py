"""npm audit JSON reports (``npm audit --json``): npm 7+ (``auditReportVersion`` 2) and npm 6 (v1).

One **Vulnerability Finding (2002)** per advisory a package is vulnerable to:

- npm 7+: each ``vulnerabilities.<package>.via[]`` entry that is an advisory object (an entry that
  is a package name says the package is vulnerable through that dependency, whose own entry
  holds the advisory: not a second finding). The advisory's GitHub id (``url``
  ``https://github.com/advisories/GHSA-...``) is the vulnerability's ``advisory`` (uid, title,
  ``src_url``, its CWEs in ``related_cwes``; npm names no CVE: OCSF 1.8.0 allows one of advisory /
  cve / cwe and holds CVSS only in a cve, so ``cvss`` stays in ``raw_data``); npm's advisory number
  (``source``) is in ``related_vulnerabilities``. npm 7 gives no installed version, so no
  ``affected_packages`` (OCSF requires the version): the package is ``resources[0]`` (type
  ``npm package``, name, data = the vulnerable ``range``, ``nodes``, ``isDirect``); ``fixAvailable``
  -> ``is_fix_available`` (and the fixing package and version as ``remediation.desc``).
- npm 6: each ``advisories.<id>.findings[]`` entry (one installed version and its paths): the
  first of ``cves`` is ``cve.uid`` (else the GHSA ``github_advisory_id``, else npm's advisory id is
  the advisory), ``cvss`` {score, vectorString} (the bulk advisory endpoint's reports, pnpm's too) ->
  ``cve.cvss[0]`` beside a CVE (version from the vector; npm's 0 with no vector is none), ``cwe``
  (a string, a list, or a list written as JSON text), ``affected_packages[0]`` = ``module_name`` at the
  finding's version (``fixed_in_version`` the ``patched_versions`` range, ``is_fix_available`` unless
  it is ``<0.0.0``, npm's word for none), the paths as
  ``dependency_chain``; ``overview`` -> desc, ``recommendation`` -> ``remediation.desc``, ``created``
  / ``updated`` -> times.

Severity: the advisory's word (info, low, moderate, high, critical). A report carries no time: the
receipt time and its label (npm 6's advisory times go to ``finding_info``). ``finding_info.uid`` is
``<CVE, else advisory id>|<package>`` (npm 6: ``<package>@<version>``). ``raw_data`` is the package entry
with that one advisory (npm 7) or the advisory with that one finding (npm 6), compact.

Dead letters: a document that is not JSON or not of the report's shape whole; a package entry or
advisory of the wrong shape alone. An audit that found nothing holds no event. An audit npm could not
run is no clean audit: npm's error document in place of a report (npm 6-10 with ``--json``: ``{"error":
{"code": "ENOLOCK", "summary": ..., "detail": ...}}``, npm's exit handler; or a ``message`` beside an
``error``) is dead-lettered whole, its reason npm's own: "npm audit failed (ENOLOCK): This command requires
an existing lockfile." Recognized by ``auditReportVersion`` or npm 6's ``actions`` beside ``advisories``;
npm's error document by its ``error`` object's ``summary`` (after an E-code, if any).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    CVSS_LIST,
    RESOURCES,
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
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    base_columns,
    const,
    event_uids,
    parse_times,
    strs,
    to_batch,
)


class _Via(msgspec.Struct, gc=False):
    source: int | str | None = None
    name: str | None = None
    title: str | None = None
    url: str | None = None
    severity: str | None = None
    cwe: list[str] | str | None = None
    range: str | None = None


class _Entry(msgspec.Struct, gc=False):
    name: str | None = None
    severity: str | None = None
    isDirect: bool | None = None  # noqa: N815 (npm's key)
    via: list[_Via | str] | None = None
    range: str | None = None
    nodes: list[str] | None = None
    fixAvailable: Any = None  # noqa: N815 (true, false or {name, version, isSemVerMajor})


class _Found(msgspec.Struct, gc=False):
    version: str | None = None
    paths: list[str] | None = None


class _Cvss(msgspec.Struct, gc=False):
    score: float | None = None
    vectorString: str | None = None  # noqa: N815 (npm's key)


class _Advisory(msgspec.Struct, gc=False):
    id: int | str | None = None
    title: str | None = None
    module_name: str | None = None
    cves: list[str] | None = None
    github_advisory_id: str | None = None
    severity: str | None = None
    cwe: list[str] | str | None = None
    overview: str | None = None
    recommendation: str | None = None
    patched_versions: str | None = None
    url: str | None = None
    created: str | None = None
    updated: str | None = None
    cvss: _Cvss | None = None
    findings: list[_Found] | None = None


class _Report(msgspec.Struct):
    auditReportVersion: int | None = None  # noqa: N815
    vulnerabilities: dict[str, msgspec.Raw] | None = None
    advisories: dict[str, msgspec.Raw] | None = None
    error: Any = None  # npm's own failure (no report): {code, summary, detail}
    message: Any = None


class _Finding(msgspec.Struct, gc=False):
    """One (package, advisory) finding before its columns."""

    package: str | None
    version: str | None
    adv_id: str | None  # the advisory's own id: a GHSA id, else npm's number
    npm_id: str | None
    cve: str | None
    title: str | None
    severity: str | None
    cwes: list[str]
    url: str | None
    desc: str | None
    fix: str | None
    fixed: bool | None
    fixed_in: str | None
    chain: str | None
    created: str | None
    updated: str | None
    resource: dict[str, Any] | None
    raw: bytes
    cvss: list[dict[str, Any]] | None = None


_CLS = "vulnerability_finding"
_GHSA = re.compile(r"(GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CWE = re.compile(r"^(?:CWE-)?0*(\d+)$", re.IGNORECASE)
_CVSS = re.compile(r"^CVSS:(\d+\.\d+)/")
_ENTRY = msgspec.json.Decoder(_Entry)
_ADVISORY = msgspec.json.Decoder(_Advisory)
_ENC = msgspec.json.Encoder()


def _cwes(value: Any) -> list[str]:
    """An advisory's CWEs: a list, one id, or (the bulk advisory endpoint's npm 6 / pnpm reports) a list
    written as JSON text (``"[\\"CWE-915\\",\\"CWE-1321\\"]"``)."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError:
            return [value]
    if isinstance(value, str):
        return [value]
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def _cvss(c: _Cvss | None) -> list[dict[str, Any]] | None:
    """An npm 6 advisory's CVSS as ``cve.cvss[]`` (version from the vector's ``CVSS:x.y/`` prefix, ``2.0``
    for one with ``Au:``); none for npm's "no score" (0 and no vector) or a vector of no known version."""
    if c is None or c.score is None or not c.vectorString:
        return None
    m = _CVSS.match(c.vectorString)
    version = m.group(1) if m else "2.0" if "Au:" in c.vectorString else None
    if version is None:
        return None
    return [{"version": version, "base_score": float(c.score), "vector_string": c.vectorString, "vendor_name": "npm"}]  # fmt: skip


def _cwe(f: _Finding) -> str | None:
    """The first CWE of an advisory as ``CWE-<n>``."""
    m = _CWE.match(f.cwes[0].strip()) if f.cwes else None
    return f"CWE-{m.group(1)}" if m else None


def _related(f: _Finding) -> list[str] | None:
    """The advisory's ids other than the one that is its cve or advisory uid."""
    primary = f.cve or f.adv_id
    return [x for x in dict.fromkeys((f.cve, f.adv_id, f.npm_id)) if x and x != primary] or None


def _ghsa(url: str | None) -> str | None:
    m = _GHSA.search(url or "")
    return m.group(1) if m else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _v2(name: str, raw: bytes, e: _Entry) -> list[_Finding]:
    """The advisories of one npm 7+ package entry."""
    fix = e.fixAvailable
    how = (f"update {fix.get('name')} to {fix.get('version')}" if isinstance(fix, dict) and fix.get("name") else None)
    data = {k: v for k, v in (("range", e.range), ("nodes", e.nodes), ("isDirect", e.isDirect)) if v is not None}
    res = {"type": "npm package", "name": e.name or name, "data": _ENC.encode(data).decode() if data else None}
    doc = msgspec.json.decode(raw) if len(e.via or ()) > 1 else None
    out = []
    for i, v in enumerate(e.via or ()):
        if isinstance(v, str):
            continue
        one = raw if doc is None else _ENC.encode({**doc, "via": [doc["via"][i]]})
        ghsa = _ghsa(v.url)
        out.append(_Finding(v.name or e.name or name, None, ghsa or _text(v.source), _text(v.source), None, v.title,
                            v.severity or e.severity, _cwes(v.cwe), v.url, None, how, bool(fix), None, None, None,
                            None, res, one))  # fmt: skip
    return out


def _v1(raw: bytes, a: _Advisory) -> list[_Finding]:
    """The findings (installed versions) of one npm 6 advisory."""
    cve = next((c for c in a.cves or () if _CVE.match(c)), None)
    patched = None if a.patched_versions in (None, "<0.0.0") else a.patched_versions  # ("<0.0.0": no fix)
    doc = msgspec.json.decode(raw) if len(a.findings or ()) > 1 else None
    out = []
    for i, f in enumerate(a.findings or [_Found()]):
        one = raw if doc is None else _ENC.encode({**doc, "findings": [doc["findings"][i]]})
        out.append(_Finding(a.module_name, f.version, a.github_advisory_id or _text(a.id), _text(a.id), cve, a.title,
                            a.severity, _cwes(a.cwe), a.url, a.overview, a.recommendation, patched is not None, patched,
                            " > ".join(f.paths) if f.paths else None, a.created, a.updated,
                            {"type": "npm package", "name": a.module_name, "data": None} if a.module_name else None,
                            one, _cvss(a.cvss)))  # fmt: skip
    return out


def _words(value: Any) -> str | None:
    """A message of npm's as one line (npm joins its lines with newlines)."""
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def _failure(report: _Report) -> str | None:
    """The reason of npm's error document (npm's ``{"error": {code, summary, detail}}``, or a ``message`` beside an
    ``error``), else None."""
    err = report.error
    if isinstance(err, dict):
        code = err.get("code") if isinstance(err.get("code"), str | int) else None
        said = _words(err.get("summary")) or _words(err.get("message")) or _words(err.get("detail"))
    else:
        code, said = None, _words(err)
    said = _words(report.message) or said
    if err is None or not said and code is None:
        return None
    return f"npm audit failed{f' ({code})' if code is not None else ''}: {said or 'no report'}"


class NpmAudit(ReportFormat):
    """npm audit JSON reports."""

    name = "npm_audit"
    report_type = _Report
    what = "an npm audit JSON report"
    description = "npm audit --json (npm 7+ and npm 6) -> Vulnerability Finding (2002) per package advisory"
    framing = "document"
    product = "npm audit"
    vendor = "npm"

    def sniff(self, head: bytes) -> int:
        """Recognize ``auditReportVersion`` or npm 6's ``actions`` beside ``advisories``; npm's error document (its
        ``error`` object's ``summary``, after an E-code) to dead-letter it with npm's words."""
        h = head[:65536]
        if _V2.match(h):
            return 90
        if _V1.match(h) and b'"advisories"' in h:
            return 85
        return 60 if _ERROR.match(h) else 0

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map one report's package entries (npm 7+) or advisories (npm 6); a bad one dead-lettered alone;
        npm's error document (no report) dead-lettered with npm's own words."""
        if report.vulnerabilities is None and report.advisories is None:
            failed = _failure(report)
            if failed:
                return self.dead(failed, source, data)
        out = Decoded()
        found: list[_Finding] = []
        items = [(k, bytes(r), True) for k, r in (report.vulnerabilities or {}).items()]
        items += [(k, bytes(r), False) for k, r in (report.advisories or {}).items()]
        for i, (key, raw, v2) in enumerate(items):
            try:
                found.extend(_v2(key, raw, _ENTRY.decode(raw)) if v2 else _v1(raw, _ADVISORY.decode(raw)))
            except msgspec.DecodeError as exc:
                what = "an npm audit package entry" if v2 else "an npm audit advisory"
                out.dead.append(DeadLetter(f"not {what} ({key}): {exc}", source, i, raw, self.name))
        out.events = len(found) + len(out.dead)
        if found:
            out.batches.append(self._batch(found))
        return out

    def _batch(self, fs: list[_Finding]) -> pa.RecordBatch:
        n = len(fs)
        sev = severity_ids([f.severity for f in fs])
        raws = [f.raw for f in fs]
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=sev)  # fmt: skip
        title = pc.coalesce(strs([f.title for f in fs]), strs([f.adv_id for f in fs]))
        cve = strs([f.cve for f in fs])
        adv = pc.if_else(cve.is_valid(), pa.scalar(None, S), strs([f.adv_id for f in fs]))
        cwe = strs([_cwe(f) for f in fs])
        created, modified = parse_times([f.created for f in fs]), parse_times([f.updated for f in fs])
        names, versions = strs([f.package for f in fs]), strs([f.version for f in fs])
        desc = strs([f.desc for f in fs])
        fix = strs([f.fix for f in fs])
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", sev),
            "vendor_name": const("npm", n, S),
            "references": str_lists([[f.url] if f.url else None for f in fs]),
            "related_vulnerabilities": pa.array([_related(f) for f in fs], STR_LIST),
            "is_fix_available": pa.array([f.fixed for f in fs], pa.bool_()),
            "dependency_chain": strs([f.chain for f in fs]),
            "remediation": only_where(nest({"desc": fix}), fix),
            "cve": only_where(nest({"uid": cve, "title": title, "desc": desc, "created_time": created,
                                    "modified_time": modified, "cwe": only_where(nest({"uid": cwe}), cwe),
                                    "cvss": pa.array([f.cvss if f.cve else None for f in fs], CVSS_LIST)}), cve),  # fmt: skip
            "advisory": only_where(nest({
                "uid": adv, "title": title, "desc": desc, "src_url": strs([f.url for f in fs]), "created_time": created,
                "modified_time": modified, "related_cwes": singleton_list(nest({"uid": cwe}), cwe.is_valid()),
            }), adv),  # fmt: skip
            "affected_packages": singleton_list(
                nest({"name": names, "version": versions, "package_manager": const("npm", n, S),
                      "fixed_in_version": strs([f.fixed_in for f in fs])}),
                pc.and_(names.is_valid(), versions.is_valid())),  # fmt: skip
        })  # fmt: skip
        at = pc.binary_join_element_wise(pc.fill_null(names, "None"), versions, "@", null_handling="skip")
        key = strs([f.cve or f.adv_id or f.url for f in fs])
        status = const(1, n, pa.int32())
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": pc.binary_join_element_wise(title, pc.coalesce(at, pc.fill_null(names, "None")), " in "),
            "finding_info.uid": distinct_uids(pc.binary_join_element_wise(pc.fill_null(key, "None"),
                                                                          pc.coalesce(at, pc.fill_null(names, "None")), "|")),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.created_time": created,
            "finding_info.modified_time": modified,
            "finding_info.src_url": strs([f.url for f in fs]),
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "finding_info.product.name": const(self.product, n, S),
            "resources": pa.array([[f.resource] if f.resource else None for f in fs], RESOURCES),
            "vulnerabilities": singleton_list(vuln),
        })  # fmt: skip
        return to_batch(_CLS, cols)


_V2 = re.compile(rb'^\s*\{\s*"auditReportVersion"\s*:\s*2\b')
_V1 = re.compile(rb'^\s*\{\s*"actions"\s*:\s*\[')
#: npm's JSON error (lib/utils/exit-handler.js: code, summary and detail in that order; no code: none written)
_ERROR = re.compile(rb'^\s*\{\s*"error"\s*:\s*\{\s*(?:"code"\s*:\s*(?:"E[A-Z0-9_]*"|null|-?\d+)\s*,\s*)?"summary"\s*:')

__all__ = ["NpmAudit"]
