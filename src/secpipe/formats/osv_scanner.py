"""OSV-Scanner JSON reports (``osv-scanner scan --format json``, v1 and v2).

A report lists, per scanned source (``results[].source``: a lockfile, an SBOM, a directory or a
container image), the packages found with their OSV vulnerability records and license findings:

- Each vulnerability **group** of a package (``packages[].groups[]``: the ids OSV-Scanner found
  to be one vulnerability, with their aliases and ``max_severity``) is one **Vulnerability Finding
  (2002)**; a package without ``groups`` (older reports) has one group per record. ``cve.uid`` is
  the first CVE among the group's ids and aliases; without one the group's first id (GHSA-,
  PYSEC-, GO-, RUSTSEC-, MAL- ...) is the ``advisory`` (OSV's records are advisories; OSV 1.8.0
  allows one of advisory / cve / cwe); the other ids and aliases are ``related_vulnerabilities``.
  The group's first record gives title (``summary``, else its id), desc (``details``), times
  (``published``/``modified``), ``references[].url``, the CWE (``database_specific.cwe_ids``, GitHub's
  advisories) and the fixed version (the first ``fixed`` event of a version range, not a GIT range's
  commit, of its ``affected[]`` entry for the package's name); beside a CVE, its ``severity[]``
  CVSS v3 vectors -> ``cve.cvss[]`` with the base score computed from the vector (OSV gives none,
  OCSF requires it: :mod:`._cvss`); v2 and v4 vectors, and an advisory's (OCSF holds CVSS only in
  a cve), stay in ``raw_data``. Severity: ``max_severity`` (a CVSS score) scored as CVSS, else the
  record's ``database_specific.severity`` word (GitHub's LOW/MODERATE/HIGH/CRITICAL), else Unknown.
- Each ``license_violations[]`` entry of a package (``--licenses`` with an allow list) is a
  **Compliance Finding (2003)**: the license as the control and check, status Fail.
- Each ``experimental_generic_findings[]`` entry (v2, an OSV-SCALIBR detector's finding with
  ``--experimental-plugins``: weak credentials, CIS checks ...; Go field names) is a **Vulnerability Finding**:
  the advisory it names (``Adv.ID.Reference`` the ``advisory`` uid, ``Publisher`` the ``vendor_name``),
  ``Title``, ``Description``, ``Recommendation`` (``remediation.desc``), ``Sev`` (SCALIBR's 0-5, OCSF's own
  scale: Unknown .. Critical) -> severity; ``Target.Extra`` in the message and ``finding_info.uid``
  (``<Reference>|<Extra>``), ``Plugins`` -> ``finding_info.types``; one of the wrong shape dead-lettered alone.

Every finding: ``affected_packages[0]`` = name, version (a commit-only package, which has no
version, gets none: OCSF requires it), ecosystem as ``package_manager``, the source path as
``path``; ``resources[0]`` = the source (type: lockfile, sbom, docker ..., name: its path);
``finding_info.uid`` = ``<group's first id>|<ecosystem>/<name>@<version>|<source path>``; status
New; ``dependency_groups`` (dev, optional ...) as the ``finding_info.tags`` entry of that name (joined). The report has no
scan time: the receipt time and its label. ``raw_data`` is the finding's own part of the report
(source, package, group and its records, or the license), compact.

Dead letters: a document that is not JSON or not of the report's shape whole; one package entry
of the wrong shape alone (its findings), the others going on. A report without vulnerabilities
or license violations holds no event.

Recognized by ``results[].source.path`` beside ``packages`` (or the ``experimental_config`` of an
empty report). Packages are typed with msgspec and each column built with one comprehension
(no native walk: a report holds the packages of a few lockfiles).
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._cvss import base_score
from secpipe.formats._findings import (
    CVSS_LIST,
    RESOURCES,
    STR_LIST,
    ReportFormat,
    S,
    captions,
    compact,
    decode_top,
    distinct_uids,
    kv_list,
    nest,
    only_where,
    paused_gc,
    raw_data,
    score_severity_ids,
    severity_ids,
    singleton_list,
    str_lists,
)
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    Typed,
    base_columns,
    const,
    decode_typed,
    event_uids,
    json_array,
    parse_times,
    strs,
    to_batch,
)


class _Pkg(msgspec.Struct, gc=False):
    name: str | None = None
    version: str | None = None
    ecosystem: str | None = None


class _Group(msgspec.Struct, gc=False):
    ids: list[str] | None = None
    aliases: list[str] | None = None
    max_severity: str | None = None


class _Ref(msgspec.Struct, gc=False):
    url: str | None = None


class _Event(msgspec.Struct, gc=False):
    fixed: str | None = None


class _Range(msgspec.Struct, gc=False):
    type: str | None = None
    events: list[_Event] | None = None


class _Affected(msgspec.Struct, gc=False):
    package: _Pkg | None = None
    ranges: list[_Range] | None = None


class _Specific(msgspec.Struct, gc=False):
    severity: str | None = None
    cwe_ids: list[str] | None = None


class _Severity(msgspec.Struct, gc=False):
    type: str | None = None
    score: str | None = None


class _Record(msgspec.Struct, gc=False):
    id: str | None = None
    aliases: list[str] | None = None
    summary: str | None = None
    details: str | None = None
    published: str | None = None
    modified: str | None = None
    references: list[_Ref] | None = None
    affected: list[_Affected] | None = None
    database_specific: _Specific | None = None
    severity: list[_Severity] | None = None


class _Package(msgspec.Struct, gc=False):
    package: _Pkg | None = None
    vulnerabilities: list[msgspec.Raw] | None = None
    groups: list[msgspec.Raw] | None = None
    license_violations: list[str] | None = None
    dependency_groups: list[str] | None = None


class _Source(msgspec.Struct):
    path: str | None = None
    type: str | None = None


class _Result(msgspec.Struct):
    source: _Source | None = None
    packages: list[msgspec.Raw] | None = None


class _Report(msgspec.Struct):
    results: list[_Result]
    experimental_generic_findings: list[msgspec.Raw] | None = None


class _TypedPackage(_Package, gc=False):
    """A package entry of :meth:`OsvScanner.decode`'s one call, its groups typed there too (a group of
    the wrong shape fails that call, and :meth:`OsvScanner.map_report`'s path dead-letters its entry)."""

    groups: list[_Group] | None = None  # type: ignore[assignment]


class _TypedResult(msgspec.Struct):
    """A result with its package entries typed (the report read in one call: :meth:`OsvScanner.decode`)."""

    source: _Source | None = None
    packages: list[_TypedPackage] | None = None


class _TypedReport(msgspec.Struct):
    results: list[_TypedResult]
    experimental_generic_findings: list[msgspec.Raw] | None = None


class _AdvisoryId(msgspec.Struct, gc=False):
    Publisher: str | None = None
    Reference: str | None = None


class _Advisory(msgspec.Struct, gc=False):
    ID: _AdvisoryId | None = None
    Title: str | None = None
    Description: str | None = None
    Recommendation: str | None = None
    Sev: int | str | None = None  # SCALIBR's SeverityEnum (a number; its name read too)


class _Target(msgspec.Struct, gc=False):
    Extra: str | None = None


class _Generic(msgspec.Struct, gc=False):
    """An ``experimental_generic_findings[]`` entry: an OSV-SCALIBR detector's finding (Go field names)."""

    Adv: _Advisory | None = None
    Target: _Target | None = None
    Plugins: list[str] | None = None


_VULN, _COMP = "vulnerability_finding", "compliance_finding"
_GENERIC_MAPPED = frozenset({"Adv", "Target", "Plugins"})
#: SCALIBR's SeverityEnum (unspecified, minimal, low, medium, high, critical) -> severity_id
_SCALIBR_SEV = {"MINIMAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_IS_CVE = _CVE.match
_CWE = re.compile(r"^(?:CWE-)?0*(\d+)$", re.IGNORECASE)
_NO_PKG = _Pkg()
_NO_SRC = _Source()
_RECORDS = msgspec.json.Decoder(list[_Record])
_PACKAGES = msgspec.json.Decoder(list[_Package])
_TYPED = msgspec.json.Decoder(_TypedReport)
_NO_GROUP = _Group()
_GROUPS = msgspec.json.Decoder(list[_Group])
_ENC = msgspec.json.Encoder()


class _Finding(msgspec.Struct, gc=False):
    """One finding before its columns: its source, package, group or license, records and raw JSON."""

    source: _Source
    pkg: _Pkg
    tags: list[str] | None
    group: _Group | None
    records: list[_Record]
    license: str | None
    raw: bytes


def _groups(p: _Package, records: list[_Record]) -> list[tuple[_Group, list[msgspec.Raw], list[_Record]]]:
    """The package's vulnerability groups, each with its records' raw JSON and typed records."""
    raws = p.vulnerabilities or []
    by_id = {r.id: (raw, r) for raw, r in zip(raws, records, strict=True) if r.id}
    if isinstance(p, _TypedPackage):  # (typed with the report)
        typed = p.groups
    else:
        typed = _GROUPS.decode(_join(p.groups)) if p.groups else None
    groups = typed or [_Group(ids=[r.id]) for r in records if r.id]
    out = []
    for g in groups:
        if g.ids and len(g.ids) == 1:  # (most groups: one id, one record)
            hit = by_id.get(g.ids[0])
            out.append((g, [hit[0]], [hit[1]]) if hit else (g, [], []))
            continue
        hits = [by_id[i] for i in g.ids or () if i in by_id]
        out.append((g, [h[0] for h in hits], [h[1] for h in hits]))
    return out


def _join(raws: list[msgspec.Raw]) -> bytes:
    """The JSON array of raw JSON values (read in place: ``msgspec.Raw`` is a buffer)."""
    return b"[" + b",".join(raws) + b"]"


def _findings(src: _Source, raw_src: bytes, p: _Package) -> list[_Finding]:
    """The findings of one package entry (raises msgspec's error for a record of the wrong shape)."""
    pkg = p.package or _NO_PKG
    records = _RECORDS.decode(_join(p.vulnerabilities)) if p.vulnerabilities else []
    head = b'{"source":' + raw_src + b',"package":' + _ENC.encode(pkg)
    out = [_Finding(src, pkg, p.dependency_groups, g, recs, None,
                    b"".join((head, b',"group":', _ENC.encode(g), b',"vulnerabilities":[',
                              raws[0] if len(raws) == 1 else b",".join(raws), b"]}")))
           for g, raws, recs in _groups(p, records)]  # fmt: skip
    out += [_Finding(src, pkg, p.dependency_groups, None, [], lic, head + b',"license_violation":' + _ENC.encode(lic) + b"}")
            for lic in p.license_violations or ()]  # fmt: skip
    return out


def _packages(raws: list[bytes], offset: int, out: Decoded, source: str, fmt: str) -> Typed:
    """One result's package entries typed in one msgspec call (their top-level maps are not needed); when
    one is of the wrong shape, :func:`~secpipe.formats.base.decode_typed` dead-letters it alone."""
    where = list(range(offset, offset + len(raws)))
    try:
        return Typed(_PACKAGES.decode(json_array(raws)), [], raws, [(source, o) for o in where])
    except msgspec.DecodeError:
        return decode_typed(raws, where, _Package, out, source, fmt, "an OSV-Scanner package entry")


def _ids(f: _Finding) -> tuple[str | None, str | None, list[str]]:
    """(CVE id, advisory id where there is no CVE, the other ids and aliases) of one group: in order, each
    once (most groups have one record and two or three ids: no generator, and the pattern only tried on
    what starts as a CVE id does)."""
    g = f.group or _NO_GROUP
    every = [*(g.ids or ()), *(g.aliases or ())]
    for r in f.records:
        if r.aliases:
            every += r.aliases
    if len(every) > 2 or (len(every) == 2 and every[0] == every[1]):  # (most: two ids, distinct)
        every = list(dict.fromkeys(every))
    cve = adv = None
    for i in every:
        if i[:4] == "CVE-" and _IS_CVE(i):
            cve = i
            break
    else:
        if not every:
            return None, None, []
        adv = every[0]
    return cve, adv, [i for i in every if i != cve and i != adv]


def _fixed(f: _Finding) -> str | None:
    """The first fixed version of the first record's version ranges (ECOSYSTEM, SEMVER; a GIT range's
    are commits) for the package's name."""
    if not f.records:
        return None
    name = f.pkg.name
    for a in f.records[0].affected or ():
        if a.package is None or a.package.name is None or a.package.name == name:
            for r in a.ranges or ():
                if r.type != "GIT":
                    for e in r.events or ():
                        if e.fixed:
                            return e.fixed
    return None


def _references(f: _Finding) -> list[str]:
    """The reference URLs of a group's records, each once (most groups: one record, its URLs distinct)."""
    urls = [x.url for r in f.records for x in r.references or () if x.url]
    return list(dict.fromkeys(urls)) if len(urls) > 1 else urls


def _cwe(r: _Record | None) -> str | None:
    for c in (r.database_specific.cwe_ids or ()) if r and r.database_specific else ():
        m = _CWE.match(c.strip())
        if m:
            return f"CWE-{m.group(1)}"
    return None


def _cvss(r: _Record | None) -> list[dict[str, object]] | None:
    """``cve.cvss[]`` of a record's CVSS v3 vectors, each with its base score computed from it (:mod:`._cvss`)."""
    out = []
    for sv in (r.severity or ()) if r else ():
        scored = base_score(sv.score) if sv.type == "CVSS_V3" and sv.score else None
        if scored:
            out.append({"version": scored[0], "base_score": scored[1], "vector_string": sv.score})
    return out or None


def _resources(fs: list[_Finding]) -> pa.Array:
    """``resources[0]`` of each finding: its result's source, converted once a result (its findings share it)."""
    place: dict[int, int] = {}
    idx = [place.setdefault(id(f.source), len(place)) for f in fs]
    srcs = list({id(f.source): f.source for f in fs}.values())
    return pa.array([[{"type": s.type, "name": s.path}] if s.path else None for s in srcs], RESOURCES).take(
        pa.array(idx, pa.int32()))


def _score(g: _Group | None) -> float | None:
    try:
        return float(g.max_severity) if g and g.max_severity else None
    except ValueError:
        return None


class OsvScanner(ReportFormat):
    """Google OSV-Scanner JSON reports."""

    name = "osv_scanner"
    report_type = _Report
    what = "an OSV-Scanner JSON report"
    description = ("OSV-Scanner JSON report -> Vulnerability Finding (2002) per package vulnerability group, "
                   "Compliance Finding (2003) per license violation")  # fmt: skip
    framing = "document"
    product = "OSV-Scanner"
    vendor = "Google"

    def sniff(self, head: bytes) -> int:
        """Recognize the results' source path beside packages, or an empty report's config."""
        h = head[:65536]
        if not _RESULTS.match(h):
            return 0
        if _SOURCE.search(h) and b'"packages"' in h:
            return 90
        return 85 if b'"experimental_config"' in h else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """One report typed whole, its package entries too, in one msgspec call; a report with an entry
        of the wrong shape (or that is no JSON) takes :meth:`map_report`'s path, which dead-letters the
        entry alone."""
        with paused_gc():
            found: list[_Finding] = []
            try:
                rep = _TYPED.decode(compact(data))
                for res in rep.results:
                    src = res.source or _NO_SRC
                    raw_src = _ENC.encode(src)
                    for p in res.packages or ():
                        found.extend(_findings(src, raw_src, p))
            except msgspec.DecodeError:
                return super().decode(data, source)
            return self._map(found, Decoded(), rep.experimental_generic_findings, source)

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map one report's package entries; one of the wrong shape is dead-lettered alone."""
        found: list[_Finding] = []
        out = Decoded()
        offset = 0
        for res in report.results:
            src = res.source or _NO_SRC
            raw_src = _ENC.encode(src)
            raws = [bytes(r) for r in res.packages or ()]
            typed = _packages(raws, offset, out, source, self.name)
            offset += len(raws)
            for p, raw, loc in zip(typed.recs, typed.raws, typed.locs, strict=True):
                try:
                    found.extend(_findings(src, raw_src, p))
                except msgspec.DecodeError as exc:
                    out.dead.append(DeadLetter(f"not an OSV-Scanner package entry: {exc}", loc[0], loc[1], raw, self.name))
        return self._map(found, out, report.experimental_generic_findings, source)

    def _map(self, found: list[_Finding], out: Decoded, generic: list[msgspec.Raw] | None = None,
             source: str = "") -> Decoded:  # fmt: skip
        """The batches of a report's findings (vulnerability groups, license violations, detectors' findings)."""
        vulns = [f for f in found if f.license is None]
        lics = [f for f in found if f.license is not None]
        if vulns:
            out.batches.append(self._batch(_VULN, vulns))
        if lics:
            out.batches.append(self._batch(_COMP, lics))
        kept = 0
        if generic:
            raws = [bytes(r) for r in generic]
            typed, top = decode_top(raws, list(range(len(raws))), _Generic, _GENERIC_MAPPED, (), out, source,
                                    self.name, "an OSV-Scanner generic finding")  # fmt: skip
            if kept := len(typed.recs):
                out.batches.append(self._generic(typed.recs, typed.raws, top.unmapped))
        out.events = len(found) + kept + len(out.dead)
        return out

    def _generic(self, gs: list[_Generic], raws: list[bytes], unmapped: pa.Array) -> pa.RecordBatch:
        """One Vulnerability Finding an OSV-SCALIBR detector's finding (``experimental_generic_findings``): the
        advisory it names (Publisher, Reference) with its title, description and recommendation, its severity;
        the target's detail in the message; the detector plugins as ``finding_info.types``."""
        n = len(gs)
        advs = [g.Adv or _Advisory() for g in gs]
        ids = [a.ID or _AdvisoryId() for a in advs]
        sev = pa.array([_scalibr_severity(a.Sev) for a in advs], pa.int32())
        cols = base_columns(_VULN, kind=self.name, product=self.product, vendor=self.vendor,
                            uids=event_uids(self.name, raws), times_ms=pa.nulls(n, pa.int64()), raws=raw_data(raws),
                            activity_id=1, severity_id=sev)  # fmt: skip
        ref = strs([i.Reference for i in ids])
        title = pc.coalesce(strs([a.Title or None for a in advs]), ref)
        desc = strs([a.Description or None for a in advs])
        extra = strs([g.Target.Extra or None if g.Target else None for g in gs])
        fix = strs([a.Recommendation or None for a in advs])
        status = const(1, n, pa.int32())
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_VULN, "severity_id", sev),
            "vendor_name": strs([i.Publisher for i in ids]),
            "remediation": only_where(nest({"desc": fix}), fix),
            "advisory": only_where(nest({"uid": ref, "title": title, "desc": desc}), ref),
        })  # fmt: skip
        cols.update({
            "status_id": status,
            "status": captions(_VULN, "status_id", status),
            "message": pc.coalesce(pc.binary_join_element_wise(title, extra, ": "), title),
            "finding_info.uid": distinct_uids(pc.binary_join_element_wise(pc.fill_null(ref, "None"),
                                                                          pc.fill_null(extra, ""), "|")),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.types": str_lists([g.Plugins or None for g in gs]),
            "finding_info.product.name": const(self.product, n, S),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped,
        })  # fmt: skip
        return to_batch(_VULN, cols)

    def _batch(self, cls: str, fs: list[_Finding]) -> pa.RecordBatch:
        n = len(fs)
        ids = [_ids(f) for f in fs]
        first = [f.records[0] if f.records else None for f in fs]
        key = strs([f.group.ids[0] if f.group and f.group.ids else f.license for f in fs])
        if cls == _VULN:
            score = pa.array([_score(f.group) for f in fs], pa.float64())
            words = severity_ids([r.database_specific.severity if r and r.database_specific else None for r in first])
            sev = pc.if_else(score.is_valid(), score_severity_ids(score), words)
        else:
            sev = const(0, n, pa.int32())
        raws = [f.raw for f in fs]
        cols = base_columns(cls, kind=self.name, product=self.product, vendor=self.vendor,
                            uids=event_uids(self.name, raws), times_ms=pa.nulls(n, pa.int64()), raws=raw_data(raws),
                            activity_id=1, severity_id=sev)  # fmt: skip
        names, versions = strs([f.pkg.name for f in fs]), strs([f.pkg.version or None for f in fs])
        paths = strs([f.source.path for f in fs])
        at = pc.binary_join_element_wise(strs([f.pkg.ecosystem for f in fs]), names, "/", null_handling="replace",
                                         null_replacement="None")  # fmt: skip
        at = pc.binary_join_element_wise(at, pc.fill_null(versions, "None"), "@")
        title = pc.coalesce(strs([r.summary if r else None for r in first]), key)
        status = const(1, n, pa.int32())
        cols.update({
            "status_id": status,
            "status": captions(cls, "status_id", status),
            "message": pc.binary_join_element_wise(title, at, " in "),
            "finding_info.uid": distinct_uids(pc.binary_join_element_wise(pc.fill_null(key, "None"), at,
                                                                          pc.fill_null(paths, "None"), "|")),
            "finding_info.title": title,
            "finding_info.tags": kv_list([{"dependency_groups": ", ".join(f.tags)} if f.tags else None for f in fs]),
            "finding_info.product.name": const(self.product, n, S),
            "resources": _resources(fs),
        })  # fmt: skip
        pkg = nest({"name": names, "version": versions, "package_manager": strs([f.pkg.ecosystem for f in fs]),
                    "path": paths, "fixed_in_version": strs([_fixed(f) for f in fs])})  # fmt: skip
        has_pkg = pc.and_(names.is_valid(), versions.is_valid())
        if cls == _COMP:
            fail = const(3, n, pa.int32())
            check = nest({"uid": key, "name": key, "status": const("Fail", n, S), "status_id": fail})
            cols.update({
                "compliance.control": key, "compliance.status": const("Fail", n, S), "compliance.status_id": fail,
                "compliance.category": const("license", n, S), "compliance.checks": singleton_list(check),
                "finding_info.types": const(["License"], n, STR_LIST),
                "finding_info.title": pc.binary_join_element_wise(key, "license", " "),
            })  # fmt: skip
            return to_batch(cls, cols)
        cve, adv = strs([x[0] for x in ids]), strs([x[1] for x in ids])
        cwe = strs([_cwe(r) for r in first])
        desc = strs([r.details if r else None for r in first])
        created = parse_times([r.published if r else None for r in first])
        modified = parse_times([r.modified if r else None for r in first])
        none = pa.scalar(None, S)
        adv_cwe = pc.if_else(cve.is_valid(), none, cwe)
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(cls, "severity_id", sev),
            "references": str_lists([_references(f) for f in fs]),
            "related_vulnerabilities": pa.array([x[2] or None for x in ids], STR_LIST),
            "is_fix_available": pc.is_valid(pkg.field("fixed_in_version")),
            "cve": only_where(nest({"uid": cve, "title": title, "desc": desc, "created_time": created,
                                    "modified_time": modified, "cwe": only_where(nest({"uid": cwe}), cwe),
                                    "cvss": pa.array([_cvss(r) if c else None for r, c in zip(first, cve.is_valid().to_pylist(), strict=True)],
                                                     CVSS_LIST)}), cve),  # fmt: skip
            "advisory": only_where(nest({"uid": adv, "title": title, "desc": desc, "created_time": created,
                                         "modified_time": modified,
                                         "related_cwes": singleton_list(nest({"uid": adv_cwe}), adv_cwe.is_valid())}),
                                   adv),  # fmt: skip
            "affected_packages": singleton_list(pkg, has_pkg),
        })  # fmt: skip
        cols.update({
            "finding_info.desc": desc,
            "finding_info.created_time": created,
            "finding_info.modified_time": modified,
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "vulnerabilities": singleton_list(vuln),
        })  # fmt: skip
        return to_batch(cls, cols)


def _scalibr_severity(v: int | str | None) -> int:
    """A SCALIBR SeverityEnum (0 unspecified .. 5 critical, the number OCSF's severity_id is; or its name,
    ``SEVERITY_HIGH``) as severity_id (Unknown for anything else)."""
    if isinstance(v, int):
        return v if 0 <= v <= 5 else 0
    return _SCALIBR_SEV.get((v or "").upper().removeprefix("SEVERITY_"), 0)


_RESULTS = re.compile(rb'^\s*\{\s*"results"\s*:\s*\[')
_SOURCE = re.compile(rb'"source"\s*:\s*\{\s*"path"\s*:')


__all__ = ["OsvScanner"]
