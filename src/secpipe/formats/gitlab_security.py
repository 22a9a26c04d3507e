"""GitLab security report JSON: the ``gl-sast-report.json``, ``gl-dependency-scanning-report.json``,
``gl-container-scanning-report.json``, ``gl-secret-detection-report.json`` and ``gl-dast-report.json``
artifacts GitLab's analyzers (and third-party tools integrating with GitLab) write, schema 2.x to
15.x (gitlab-org/security-products/security-report-schemas). One event per ``vulnerabilities[]`` entry.

Class: the report's kind (``scan.type``; reports before schema 14 give it per vulnerability as
``category``) decides it, as for the tools the kinds stand for:

- ``dependency_scanning``, ``container_scanning``, ``cluster_image_scanning``: a vulnerable
  package, **Vulnerability Finding (2002)** as Trivy's and Snyk's vulnerabilities:
  ``location.dependency.package.name`` and ``.version`` -> ``affected_packages[0]`` (only with both:
  OCSF requires them; ``path`` the lock file ``location.file``), ``location.image`` -> ``resources[0]``
  (type ``container_image``) with ``location.operating_system``.
- every other kind (``sast``, ``secret_detection``, ``dast``, ``api_fuzzing``, ``coverage_fuzzing``):
  a weakness of the code or the running application, **Application Security Posture Finding
  (2007)** as SARIF results: ``location.file``, ``start_line``, ``end_line`` -> ``affected_code[0]``
  (only with a file: OCSF requires it).

A kind-less vulnerability (schema 2.x without ``category``) is a package finding when its location
names a dependency's package, else a code finding.

Both: ``id`` (else the legacy ``cve`` compare key) -> ``finding_info.uid``; ``name`` (else the
legacy ``message``, else the first identifier's name) -> ``finding_info.title`` and ``message``;
``description`` -> ``finding_info.desc``; the kind -> ``finding_info.types``; the first identifier
(GitLab's primary one) of a code finding -> ``finding_info.analytic`` (uid its value, name its
name, type Rule) and ``affected_code[0].rule`` (a package finding's first identifier is its
advisory, no rule); with neither a ``cve`` nor a ``cwe`` identifier the first identifier is the
vulnerability's ``advisory``, uid its value and title its name (OCSF 1.8.0 wants one of advisory,
cve, cwe per vulnerability); ``severity`` (Critical 5, High 4, Medium 3, Low 2, Info 1, Unknown 0) ->
``severity_id``; ``solution`` -> ``vulnerabilities[0].remediation.desc``; ``links[].url`` and the
identifiers' urls -> ``references``; the first ``cve`` identifier (else a legacy ``cve`` key that
is a CVE id, as schema 2.x reports wrote it) -> ``cve.uid`` (its
``cvss_vectors`` -> ``cve.cvss``, version from the vector's ``CVSS:x.y/`` prefix, ``2.0`` for a
vector with ``Au:``; a vulnerability's vectors stay in ``unmapped`` when it has no CVE, as OCSF 1.8.0
has no other place for them, or when one of them has no known version), the first ``cwe`` identifier -> ``cwe.uid`` ``CWE-<n>`` (``cve.cwe`` beside a
CVE: OCSF 1.8.0 allows one of them per vulnerability); ``scan.scanner`` (else the vulnerability's
own ``scanner``) name, version and vendor -> ``metadata.product`` and ``finding_info.product``;
``scan.end_time`` (else ``start_time``; GitLab writes them without a zone: UTC) -> ``time``,
else the vulnerability's ``discovered_at`` (DAST), else the receipt time and its label;
``discovered_at`` -> ``finding_info.first_seen_time``; the report's ``version`` -> ``metadata.log_version``.
Status is New (1): a report lists what its scan found. Keys not placed (``location`` and
``identifiers`` whole, ``details``, ``tracking``, ``flags``, ``evidence``, ``confidence`` ...) stay
in ``unmapped``.

A secret detection finding's ``raw_source_code_extract`` is the secret it found: ``raw_data`` and
``unmapped`` hold ``[REDACTED:<first identifier's value>]`` (the gitleaks rule) in its place
(:mod:`._found_secrets`; ``metadata.uid`` is still the hash of the finding as received).

Dead letters: a document that is not JSON or not of the report's shape whole; one vulnerability
of the wrong shape alone, the others going on. A report without vulnerabilities holds no event.

The deprecated SAST report (before schema 2.0, GitLab 11.x: a bare array of vulnerabilities, each
with the old ``cve`` compare key, ``message``, ``priority``, ``file``, ``line``, ``tool`` beside
``location`` and ``identifiers``) is read as GitLab's parser reads it, as the report's
``vulnerabilities`` (no scan, version or time: the receipt time and its label); its extra keys stay
in ``unmapped``. Recognized by a leading ``[`` with the list-form identifiers, a location and a
scanner or category.

Recognized by ``"vulnerabilities"`` with GitLab's list-form ``"identifiers": [`` and a
``"location"`` (Snyk's identifiers are an object, CycloneDX's vulnerabilities have no location),
or, in a report with no vulnerabilities, beside the top-level ``"remediations"`` or the
``"scan"`` with its ``"scanner"``, or (a first vulnerability whose DAST ``evidence`` fills the
8 KB head) by GitLab's capitalized ``"severity": "High"`` (Snyk, CycloneDX and SonarQube write
theirs in other cases; Trivy's key is ``Severity``) or the DAST vulnerability's ``"discovered_at"``
(written before its evidence when the keys are sorted).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _found_secrets as found_secrets
from secpipe.formats._findings import (
    CWE_ID,
    ReportFormat,
    S,
    captions,
    decode_top,
    distinct_uids,
    either,
    nest,
    only_where,
    report_time,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
    struct_lists,
    unmapped_items,
)
from secpipe.formats.base import (
    BOM,
    Decoded,
    TimeField,
    base_columns,
    const,
    event_uids,
    int32_or_none,
    parse_times,
    to_batch,
)


class _Vendor(msgspec.Struct):
    name: str | None = None


class _Tool(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    version: str | None = None
    vendor: _Vendor | None = None


class _Scan(msgspec.Struct):
    scanner: _Tool | None = None
    analyzer: _Tool | None = None
    type: str | None = None
    start_time: TimeField = None
    end_time: TimeField = None


class _Report(msgspec.Struct):
    version: Any = None
    vulnerabilities: list[msgspec.Raw] | None = None
    scan: _Scan | None = None


class _Identifier(msgspec.Struct):
    type: str | None = None
    name: str | None = None
    value: str | int | None = None
    url: str | None = None


class _Link(msgspec.Struct):
    name: str | None = None
    url: str | None = None


class _Package(msgspec.Struct):
    name: str | None = None


class _Dependency(msgspec.Struct):
    package: _Package | None = None
    version: str | None = None


class _Location(msgspec.Struct):
    file: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    dependency: _Dependency | None = None
    image: str | None = None
    operating_system: str | None = None


class _Cvss(msgspec.Struct):
    vendor: str | None = None
    vector: str | None = None


class _Vuln(msgspec.Struct):
    id: str | None = None
    category: str | None = None
    name: str | None = None
    message: str | None = None
    description: str | None = None
    cve: str | None = None
    severity: str | None = None
    solution: str | None = None
    scanner: _Tool | None = None
    identifiers: list[_Identifier] | None = None
    links: list[_Link] | None = None
    location: _Location | None = None
    cvss_vectors: list[_Cvss] | None = None
    discovered_at: TimeField = None  # (DAST: when the scan found it)


_MAPPED = frozenset({"id", "category", "name", "message", "description", "cve", "severity", "solution", "scanner",
                     "links", "cvss_vectors", "discovered_at"})  # fmt: skip
_PACKAGE_KINDS = frozenset({"dependency_scanning", "container_scanning", "cluster_image_scanning"})
_VULN = "vulnerability_finding"
_CODE = "application_security_posture_finding"
_CVSS = re.compile(r"^CVSS:(\d+\.\d+)/")
_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
_NO_LOC = _Location()
_NO_DEP = _Dependency()
_NO_TOOL = _Tool()
_KINDS = frozenset({"cve", "cwe"})
_EXTRACT = found_secrets.value_after(rb'"raw_source_code_extract"\s*:\s*')


@functools.lru_cache(maxsize=4096)
def _cwe_id(value: str, name: str | None) -> str | None:
    """A ``cwe`` identifier as ``CWE-<n>``: by its value (``"79"``, ``89``), else its name."""
    m = CWE_ID.match(value.strip())
    if m is None and name:  # ("value": "node_nosqli_injection", "name": "CWE-943")
        m = CWE_ID.match(name.strip())
    return f"CWE-{m.group(1)}" if m else None


def _identifiers(v: _Vuln) -> tuple[str | None, str | None, list[str]]:
    """(first ``cve`` identifier's value, first ``cwe`` identifier as ``CWE-<n>``, the links' and
    identifiers' urls without repeats) of one vulnerability, in one pass over its identifiers."""
    cve = cwe = None
    urls = [x.url for x in v.links or () if x.url]
    for i in v.identifiers or ():
        kind = i.type
        if kind is not None and i.value is not None:
            kind = kind if kind in _KINDS else kind.lower()
            if kind == "cve" and cve is None:
                cve = str(i.value)
            elif kind == "cwe" and cwe is None:
                cwe = _cwe_id(str(i.value), i.name)
        if i.url:
            urls.append(i.url)
    if cve is None and v.cve and _CVE_ID.match(v.cve):  # schema 2.x: the CVE in the legacy ``cve`` key
        cve = v.cve
    return cve, cwe, list(dict.fromkeys(urls)) if len(urls) > 1 else urls


def _names_package(v: _Vuln) -> bool:
    """Whether a kind-less vulnerability's location names a package (schema 2.x SAST reports
    write an empty ``"dependency": {"package": {}}`` beside a file and lines)."""
    dep = (v.location or _NO_LOC).dependency
    return bool(dep and dep.package and dep.package.name)


class _Vectors(msgspec.Struct):
    cvss_vectors: msgspec.Raw = msgspec.Raw(b"null")


_VECTORS = msgspec.json.Decoder(_Vectors)


def _with_vectors(unmapped: pa.Array, rows: list[int], raws: list[bytes]) -> pa.Array:
    """``unmapped`` with each of ``rows``' own ``cvss_vectors`` (from its record ``raws``, verbatim)."""
    items: list[str | None] = [None] * len(unmapped)
    for i, raw in zip(rows, raws, strict=True):
        items[i] = '"cvss_vectors":' + bytes(_VECTORS.decode(raw).cvss_vectors).decode()
    return unmapped_items(unmapped, pa.array(items, S))


def _cvss_version(vector: str) -> str | None:
    m = _CVSS.match(vector)
    return m.group(1) if m else "2.0" if "Au:" in vector else None


class GitLabSecurity(ReportFormat):
    """GitLab security reports (SAST, dependency and container scanning, secret detection, DAST)."""

    name = "gitlab_security"
    report_type = _Report
    what = "a GitLab security report"
    description = ("GitLab security reports (gl-sast, dependency/container scanning, secret detection, DAST) -> "
                   "Vulnerability Finding (2002) / Application Security Posture Finding (2007)")  # fmt: skip
    framing = "document"
    product = "GitLab"
    vendor = "GitLab"

    def sniff(self, head: bytes) -> int:
        """Recognize a report by its vulnerabilities' list of identifiers and their location."""
        h = head[:8192]
        if _deprecated(h):
            return 70
        if b'"vulnerabilities"' not in h or b'"bomFormat"' in h:
            return 0
        if b'"location"' in h and _IDENTIFIERS.search(h):
            return 88
        if b'"remediations"' in h or (b'"scan"' in h and b'"scanner"' in h):
            return 88  # (a report with no vulnerabilities: its top-level remediations, its scan)
        if _SEVERITY.search(h) or b'"discovered_at"' in h:
            return 80  # (a first vulnerability whose evidence fills the head: its severity word, DAST's discovered_at)
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one report; the deprecated form (a bare array of vulnerabilities) as a report of those."""
        head = data[:8192]
        old = _deprecated(head)
        if not old and head.removeprefix(BOM).lstrip()[:1] != b"[":
            return super().decode(data, source)
        try:
            items = _ARRAY.decode(data)
        except msgspec.DecodeError as exc:
            return self.dead(f"not {self.what} (a deprecated array of vulnerabilities): {exc}", source, data)
        if not old and not (items and _deprecated(b"[" + bytes(items[0]))):  # (a first item longer than the head: its keys)
            return super().decode(data, source)  # an array of something else: refused as no report
        return super().decode(b'{"vulnerabilities":' + data.removeprefix(BOM) + b"}", source)

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map one report's vulnerabilities."""
        raws = [bytes(r) for r in report.vulnerabilities or []]
        out = Decoded(events=len(raws))
        if not raws:
            return out
        typed, top = decode_top(raws, list(range(len(raws))), _Vuln, _MAPPED, (), out, source, self.name,
                                "a GitLab vulnerability")  # fmt: skip
        if not typed.recs:
            return out
        pos = {id(r): i for i, r in enumerate(raws)}
        ords = [pos[id(r)] for r in typed.raws]
        scan = report.scan or _Scan()
        vs: list[_Vuln] = typed.recs
        kinds = [scan.type or v.category or None for v in vs]
        package = [k in _PACKAGE_KINDS if k else _names_package(v) for v, k in zip(vs, kinds, strict=True)]
        for cls, want in ((_VULN, True), (_CODE, False)):
            rows = [i for i, p in enumerate(package) if p is want]
            if rows:
                out.batches.append(self._batch(cls, report, scan, [vs[i] for i in rows], [kinds[i] for i in rows],
                                               [typed.raws[i] for i in rows], [ords[i] for i in rows],
                                               top.unmapped.take(pa.array(rows, pa.int64()))))  # fmt: skip
        return out

    def _batch(self, cls: str, report: _Report, scan: _Scan, vs: list[_Vuln], kinds: list[str | None],
               raws: list[bytes], ords: list[int], unmapped: pa.Array) -> pa.RecordBatch:  # fmt: skip
        n = len(vs)
        sev = severity_ids([v.severity for v in vs])
        tool = [scan.scanner or v.scanner or _NO_TOOL for v in vs]
        found = parse_times([v.discovered_at for v in vs])
        when = report_time(scan.end_time or scan.start_time)
        # a secret detection finding's raw_source_code_extract (the secret found) is kept out of raw_data and unmapped
        rules = [str(v.identifiers[0].value) if v.identifiers and v.identifiers[0].value is not None else None for v in vs]
        stored, unmapped = found_secrets.hide(raws, unmapped, (b'"raw_source_code_extract"',), _EXTRACT, rules)
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, raws, [f"{t.name}\0{o}" for t, o in zip(tool, ords, strict=True)]),
            times_ms=found if when is None else const(when, n, pa.int64()), raws=stored, activity_id=1,
            severity_id=sev,
        )  # fmt: skip
        names = strs([t.name for t in tool])
        versions = strs([t.version for t in tool])
        cols["metadata.product.name"] = pc.fill_null(names, self.product)
        cols["metadata.product.vendor_name"] = pc.fill_null(strs([t.vendor.name if t.vendor else None for t in tool]),
                                                            self.vendor)  # fmt: skip
        cols["metadata.product.version"] = versions
        cols["metadata.log_name"] = const(self.name, n, S)
        cols["metadata.log_version"] = const(None if report.version is None else str(report.version), n, S)
        first = [v.identifiers[0] if v.identifiers else None for v in vs]
        rule = strs([None if i is None or i.value is None else str(i.value) for i in first])
        rule_name = strs([i.name if i else None for i in first])
        title = either(either(strs([v.name for v in vs]), strs([v.message for v in vs])), rule_name)
        desc = strs([v.description for v in vs])
        ids = [_identifiers(v) for v in vs]
        cve = strs([x[0] for x in ids])
        cwe = strs([x[1] for x in ids])
        has_cve = cve.is_valid()
        on_cve = pc.if_else(has_cve, cwe, pa.scalar(None, S))
        alone = pc.if_else(has_cve, pa.scalar(None, S), cwe)
        vectors = [[c for c in v.cvss_vectors or [] if c.vector and _cvss_version(c.vector)] for v in vs]
        # vectors cve.cvss cannot hold (no CVE: OCSF's cve requires its uid and no other object has
        # a cvss; or a vector of no known version) stay in unmapped
        kept = [i for i, (v, cs, (c, _w, _u)) in enumerate(zip(vs, vectors, ids, strict=True))
                if v.cvss_vectors and (c is None or len(cs) < len(v.cvss_vectors))]
        if kept:
            unmapped = _with_vectors(unmapped, kept, [raws[i] for i in kept])
        flat = [c for cs in vectors for c in cs]
        cvss = struct_lists([len(cs) for cs in vectors], {
            "version": strs([_cvss_version(c.vector or "") for c in flat]),
            "vector_string": strs([c.vector for c in flat]),
            "vendor_name": strs([c.vendor for c in flat]),
        })  # fmt: skip
        vuln: dict[str, pa.Array] = {
            "title": title,
            "desc": desc,
            "severity": captions(cls, "severity_id", sev),
            "references": str_lists([x[2] for x in ids]),
            "remediation.desc": strs([v.solution for v in vs]),
            "cve": only_where(nest({"uid": cve, "cvss": cvss,
                                    "cwe": only_where(nest({"uid": on_cve}), on_cve)}), cve),  # fmt: skip
            "cwe": only_where(nest({"uid": alone}), alone),
        }
        # no CVE and no CWE: the advisory is the first identifier (a package finding's Gemnasium or
        # distribution advisory id, a code finding's rule; OCSF 1.8.0 wants one of advisory, cve, cwe
        # per vulnerability)
        adv = pc.if_else(pc.or_(has_cve, pc.is_valid(cwe)), pa.scalar(None, S), rule)
        vuln["advisory"] = only_where(nest({"uid": adv, "title": rule_name}), adv)
        locs = [v.location or _NO_LOC for v in vs]
        files = strs([loc.file for loc in locs])
        cols_res = None
        if cls == _VULN:
            deps = [loc.dependency or _NO_DEP for loc in locs]
            pkg_names = strs([d.package.name if d.package else None for d in deps])
            pkg_versions = strs([d.version for d in deps])
            has_pkg = pc.and_(pc.is_valid(pkg_names), pc.is_valid(pkg_versions))
            pkg = nest({"name": pkg_names, "version": pkg_versions, "path": files})
            vuln["affected_packages"] = singleton_list(pkg, has_pkg)
            vuln["is_fix_available"] = pc.is_valid(vuln["remediation.desc"])
            images = strs([loc.image for loc in locs])
            res = nest({"type": pc.if_else(images.is_valid(), pa.scalar("container_image", S), pa.scalar(None, S)),
                        "name": images, "data": strs([None if loc.operating_system is None else
                                                      msgspec.json.encode({"operating_system": loc.operating_system}).decode()
                                                      for loc in locs])})  # fmt: skip
            cols_res = singleton_list(res, images.is_valid())
        else:
            has_file = files.is_valid()
            code = nest({
                "file.path": files,
                "file.name": strs([f.rsplit("/", 1)[-1] if f else None for f in (loc.file for loc in locs)]),
                "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
                "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), pa.scalar(None, S)),
                "start_line": pa.array([int32_or_none(loc.start_line) for loc in locs], pa.int32()),
                "end_line": pa.array([int32_or_none(loc.end_line) for loc in locs], pa.int32()),
                "rule.uid": rule,
                "rule.name": rule_name,
            })  # fmt: skip
            vuln["affected_code"] = singleton_list(code, has_file)
        if cls == _VULN:  # the first identifier of a package finding is its advisory (the cve, a Gemnasium id), no rule
            rule = rule_name = pa.nulls(n, S)
        uid = either(strs([v.id for v in vs]), strs([v.cve for v in vs]))
        if uid.null_count:  # neither: the rule, file and line, and the vulnerability's place in the report
            where = [f"{r}|{loc.file}|{loc.start_line}|{o}" for r, loc, o in zip(rule.to_pylist(), locs, ords, strict=True)]
            uid = pc.coalesce(uid, strs(where))
        ruled = pc.or_(pc.is_valid(rule), pc.is_valid(rule_name))
        cols.update({
            "status_id": const(1, n, pa.int32()),
            "status": captions(cls, "status_id", const(1, n, pa.int32())),
            "message": title,
            "finding_info.uid": distinct_uids(uid, files),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.first_seen_time": found,
            "finding_info.types": str_lists([[k] if k else None for k in kinds]),
            "finding_info.product.name": names,
            "finding_info.product.version": versions,
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": rule_name,
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), pa.scalar(None, S)),
            "vulnerabilities": singleton_list(nest(vuln)),
            "unmapped": unmapped,
        })  # fmt: skip
        if cols_res is not None:
            cols["resources"] = cols_res
        return to_batch(cls, cols)


_IDENTIFIERS = re.compile(rb'"identifiers"\s*:\s*\[')
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def _deprecated(head: bytes) -> bool:
    """A SAST report in GitLab's deprecated form (before schema 2.0, GitLab 11): a bare JSON array of
    vulnerabilities (each with its list of identifiers, location, scanner or category), which
    GitLab's parser reads as the report's ``vulnerabilities``; not Trivy's legacy array (``Target``)
    nor Snyk's array of projects (``vulnerabilities``)."""
    h = head.removeprefix(BOM).lstrip()
    return (h[:1] == b"[" and b'"location"' in h and _IDENTIFIERS.search(h) is not None
            and (b'"category"' in h or b'"scanner"' in h) and b'"vulnerabilities"' not in h and b'"Target"' not in h)  # fmt: skip


_SEVERITY = re.compile(rb'"severity"\s*:\s*"(?:Critical|High|Medium|Low|Info|Unknown)"')

__all__ = ["GitLabSecurity"]
