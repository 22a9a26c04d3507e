"""Snyk CLI ``snyk test --json`` / ``snyk iac test --json`` reports: one project object or an array.

One event per issue:

- ``vulnerabilities[]`` with a security issue -> Vulnerability Finding (2002): ``cve.uid`` is the
  first CVE identifier (the Snyk id when the issue has no CVE); every other CVE/GHSA/CWE/Snyk id
  goes to ``related_vulnerabilities``; CVSS from ``CVSSv3`` + ``cvssScore`` (Snyk's rating) and
  ``cvssDetails[]`` (per assigner); ``affected_packages[0]`` = packageName, version, fixedIn
  (joined), package manager, install path (``__filename``); ``dependency_chain`` = the ``from``
  path joined with `` > ``;
  exploit maturity -> ``is_exploit_available``; upgradable/patchable/fixedIn -> ``is_fix_available``.
- ``vulnerabilities[]`` with ``type: license`` (license policy issues) and
  ``infrastructureAsCodeIssues[]`` -> Compliance Finding (2003) with ``compliance.status`` Fail,
  the rule as ``compliance.checks[0]``, resolution in ``remediation.desc``.

The project (projectName, path, targetFile, packageManager, org) is ``resources[0]``. A Snyk
report carries no scan time, so ``time`` is the receipt time (labelled
``secpipe:time_from_receipt``); the issue's own dates go to ``finding_info`` (created/modified)
and ``cve`` (publication). Identity hashes project, ordinal and issue bytes: Snyk repeats the same
issue id once per dependency path, and each path stays its own event.

A JSON document that is not a ``snyk test`` report (no ``vulnerabilities`` or
``infrastructureAsCodeIssues``, e.g. a single vulnerability object) is dead-lettered with the
reason. SARIF from Snyk Code is handled by the ``sarif`` format.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats._findings import (
    ReportFormat,
    captions,
    json_col,
    nest,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
    struct_lists,
    typed_records,
)
from secpipe.formats.base import (
    Decoded,
    base_columns,
    const,
    event_uids,
    parse_times,
    to_batch,
    unmapped_from,
)


class _Project(msgspec.Struct):
    vulnerabilities: list[msgspec.Raw] | None = None
    infrastructureAsCodeIssues: list[msgspec.Raw] | None = None
    projectName: str | None = None
    path: str | None = None
    targetFile: str | None = None
    displayTargetFile: str | None = None
    packageManager: str | None = None
    projectType: str | None = None
    org: str | None = None
    ok: bool | None = None


class _Ref(msgspec.Struct, gc=False):
    url: str | None = None
    title: str | None = None


class _Idents(msgspec.Struct, gc=False):
    """The identifier lists the mapping reads (other identifier kinds are not placed)."""

    CVE: Any = None
    CWE: Any = None
    GHSA: Any = None
    ALTERNATIVE: Any = None


class _CvssDetail(msgspec.Struct, gc=False):
    assigner: str | None = None
    cvssV3Vector: str | None = None
    cvssV3BaseScore: float | None = None


_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


_UNMAPPED = (
    "disclosureTime", "alternativeIds", "credit", "semver", "patches", "upgradePath", "moduleName", "bundled",
    "parentDepType", "functions", "functions_new", "insights", "malicious", "socialTrendAlert", "exploitDetails",
    "epssDetails", "severityWithCritical", "severityBasedOn", "riskScore", "isDisputed", "proprietary",
    "licenseTemplateUrl", "mavenModuleName", "method", "packageRepositoryURL", "isPinnable", "isRuntime",
    "nearestFixedInVersion", "impact", "lineNumber", "isIgnored", "isGeneratedByCustomRule", "remediation",
)  # fmt: skip


class _VulnBase(msgspec.Struct, gc=False):
    """The Snyk issue keys the mapping places (typed)."""

    id: str | None = None
    title: str | None = None
    description: str | None = None
    severity: str | None = None
    type: str | None = None
    packageName: str | None = None
    name: str | None = None
    version: str | None = None
    packageManager: str | None = None
    language: str | None = None
    license: str | None = None
    identifiers: _Idents | None = None
    CVSSv3: str | None = None
    cvssScore: float | None = None
    cvssDetails: list[_CvssDetail] | None = None
    fixedIn: list[str] | None = None
    isUpgradable: bool | None = None
    isPatchable: bool | None = None
    exploit: str | None = None
    references: list[_Ref] | None = None
    creationTime: str | None = None
    modificationTime: str | None = None
    publicationTime: str | None = None
    # IaC issue fields
    publicId: str | None = None
    subType: str | None = None
    msg: str | None = None
    issue: str | None = None
    resolve: str | None = None
    documentation: str | None = None
    path: list[Any] | None = None
    iacDescription: dict[str, Any] | None = None
    from_: list[str] | None = msgspec.field(default=None, name="from")
    filename_: str | None = msgspec.field(default=None, name="__filename")


#: Every other known Snyk issue key, kept raw (trailing fields, for ``unmapped_from``).
#: (``defstruct`` is typed as returning ``type[Struct]``; it is a ``_VulnBase`` subclass by ``bases``.)
_Vuln = cast(type[_VulnBase], msgspec.defstruct(
    "_Vuln", [(k, msgspec.Raw, _NONE) for k in _UNMAPPED], bases=(_VulnBase,), forbid_unknown_fields=True, gc=False
))

#: The same report with its issues typed, decoded from the compact document in one C call.
#: (Types built at run time: ``_Vuln`` is made by ``defstruct``, so it cannot appear in annotations.)
_ISSUES: Any = list.__class_getitem__(_Vuln) | None
_TypedProject: Any = msgspec.defstruct("_TypedProject", [
    ("vulnerabilities", _ISSUES, None), ("infrastructureAsCodeIssues", _ISSUES, None),
], gc=False)  # fmt: skip
_TYPED = msgspec.json.Decoder(_TypedProject | list.__class_getitem__(_TypedProject))

_PROJECT_KEYS = (b'"vulnerabilities"', b'"infrastructureAsCodeIssues"')
_SNYK_HINTS = (b'"packageManager"', b'"upgradePath"', b'"isUpgradable"', b'"dependencyCount"', b'"uniqueCount"',
               b'"projectType"', b'"publicId"', b'"snyk')  # fmt: skip
_VULN_HINTS = (b'"packageName"', b'"semver"', b'"CVSSv3"', b'"alternativeIds"')
_EXPLOITED = {"mature", "proof of concept", "functional", "high", "attacked"}
_CVSS_T = pa.list_(pa.struct([("version", pa.string()), ("base_score", pa.float64()),
                              ("vector_string", pa.string()), ("vendor_name", pa.string())]))  # fmt: skip
_RES = pa.list_(pa.struct([("type", pa.string()), ("name", pa.string()), ("uid", pa.string()), ("data", pa.string())]))


def _idl(got: Any) -> list[str]:
    """One identifier kind as a list of strings (a bare value becomes a one-item list)."""
    if not got:
        return []
    if type(got) is list:
        for x in got:
            if type(x) is not str:
                return [str(x) for x in got]
        return got
    return [str(got)]


def _issues_of(typed: Any) -> list[Any]:
    """The typed issues of a decoded report, in the order ``map_report`` lists their slices."""
    return [x for p in (typed if isinstance(typed, list) else [typed])
            for items in (p.vulnerabilities, p.infrastructureAsCodeIssues) if items for x in items]  # fmt: skip


def _cvss_version(vec: str | None) -> str:
    return vec[5:].split("/", 1)[0] if vec and vec.startswith("CVSS:") else "3.0"


class Snyk(ReportFormat):
    """Snyk CLI test reports (open source and IaC)."""

    name = "snyk"
    report_type = _Project | list[_Project]
    what = "a snyk test --json report"
    description = "snyk test --json (one project or an array) -> Vulnerability Finding (2002) / Compliance Finding (2003)"
    framing = "document"
    product = "Snyk"
    vendor = "Snyk"

    def sniff(self, head: bytes) -> int:
        """Recognize Snyk report keys; a bare Snyk issue object is claimed weakly (to dead-letter it)."""
        h = head[:65536]
        if h.lstrip()[:1] not in (b"{", b"["):
            return 0
        if any(k in h for k in _PROJECT_KEYS) and any(k in h for k in _SNYK_HINTS):
            return 90
        if b'"issueId"' in h and b'"fixInfo"' in h:  # unmanaged (C/C++) report: issues come first
            return 90
        if sum(k in h for k in _VULN_HINTS) >= 3:
            return 40
        return 0

    def map_report(self, doc: _Project | list[_Project], data: bytes, source: str) -> Decoded:
        """Decode one report into finding batches."""
        projects = doc if isinstance(doc, list) else [doc]
        if not projects or any(p.vulnerabilities is None and p.infrastructureAsCodeIssues is None for p in projects):
            why = ("not a snyk test --json report: a project object needs `vulnerabilities` or "
                   "`infrastructureAsCodeIssues` (a single issue object is not a report; run `snyk test --json`)")  # fmt: skip
            return self.dead(why, source, data)
        raws: list[Any] = []  # msgspec.Raw slices of the compact document (no copy)
        where: list[int] = []
        ctx: list[str] = []
        iac: list[bool] = []
        for pi, p in enumerate(projects):
            base = f"{p.projectName}\0{p.path}\0{p.targetFile}\0{pi}"
            for key, items in ((False, p.vulnerabilities), (True, p.infrastructureAsCodeIssues)):
                if items:
                    raws.extend(items)
                    where.extend([pi] * len(items))
                    ctx.extend([f"{base}\0{int(key)}\0{i}" for i in range(len(items))])
                    iac.extend([key] * len(items))
        out = Decoded(events=len(raws))
        if not raws:
            return out
        st, idx = typed_records(data, _TYPED, _issues_of, raws, source, _Vuln, out, self.name, "a Snyk issue")
        rtype = [iac[i] or rec.type == "license" for i, rec in zip(idx, st.recs, strict=True)]
        for want, cls in ((False, "vulnerability_finding"), (True, "compliance_finding")):
            sel = [j for j, t in enumerate(rtype) if t is want]
            if not sel:
                continue
            part = st if len(sel) == len(rtype) else st.take(sel)
            src = idx if len(sel) == len(idx) else [idx[j] for j in sel]
            cols = self._common(cls, part.recs, projects, [where[i] for i in src], part.raws, [ctx[i] for i in src])
            if cls == "vulnerability_finding":
                cols.update(self._vulns(part.recs, [projects[where[i]] for i in src], cols))
            else:
                cols.update(self._compliance(part.recs, [iac[i] for i in src]))
            cols["unmapped"] = unmapped_from(part, _UNMAPPED)
            out.batches.append(to_batch(cls, cols))
        return out

    def _common(self, cls: str, vs: list[_VulnBase], projects: list[_Project], where: list[int], raws: list[Any],
                ctx: list[str]) -> dict[str, pa.Array]:
        n = len(vs)
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws, ctx),
            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=severity_ids([v.severity for v in vs]),
        )  # fmt: skip
        res = []
        for p in projects:
            extra = {"targetFile": p.displayTargetFile or p.targetFile, "org": p.org,
                     "packageManager": p.packageManager, "projectType": p.projectType}  # fmt: skip
            res.append([{"type": "project", "name": p.projectName or p.path, "uid": p.path,
                         "data": json_col([{k: x for k, x in extra.items() if x}]).to_pylist()[0]}])  # fmt: skip
        take = pa.array(where, pa.int32())
        cols["resources"] = pa.array(res, _RES).take(take)
        cols["finding_info.created_time"] = parse_times(strs([v.creationTime for v in vs]))
        cols["finding_info.modified_time"] = parse_times(strs([v.modificationTime for v in vs]))
        cols["finding_info.title"] = strs([v.title or v.id for v in vs])
        cols["finding_info.desc"] = strs([v.description or v.msg for v in vs])
        product = ["Snyk Open Source" if p.vulnerabilities is not None else "Snyk IaC" for p in projects]
        cols["finding_info.product.name"] = strs(product).take(take)
        return cols

    def _vulns(self, vs: list[_VulnBase], ps: list[_Project], cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
        n = len(vs)
        primary: list[str | None] = []
        related: list[list[str] | None] = []
        cwe: list[str | None] = []
        lens: list[int] = []
        ver: list[str] = []
        score: list[float | None] = []
        vec: list[str | None] = []
        src: list[str | None] = []
        for v in vs:
            ids = v.identifiers
            if ids is None:
                cves = ghsa = alt = cwes = []
            else:
                cves, ghsa, alt, cwes = _idl(ids.CVE), _idl(ids.GHSA), _idl(ids.ALTERNATIVE), _idl(ids.CWE)
            primary.append(cves[0] if cves else v.id)
            rel = cves[1:] + ghsa + alt + ([v.id] if cves and v.id else [])
            related.append(sorted(set(rel)) or None)
            cwe.append(cwes[0] if cwes else None)
            k = 0
            if v.CVSSv3 or v.cvssScore is not None:
                ver.append(_cvss_version(v.CVSSv3))
                score.append(v.cvssScore)
                vec.append(v.CVSSv3)
                src.append("Snyk")
                k = 1
            if v.cvssDetails:
                for d in v.cvssDetails:
                    ver.append(_cvss_version(d.cvssV3Vector))
                    score.append(d.cvssV3BaseScore)
                    vec.append(d.cvssV3Vector)
                    src.append(d.assigner)
                k += len(v.cvssDetails)
            lens.append(k)
        fixed = strs([", ".join(v.fixedIn) if v.fixedIn else None for v in vs])
        fixable = pa.array([bool(v.fixedIn or v.isUpgradable or v.isPatchable) for v in vs], pa.bool_())
        pkg = nest({
            "name": strs([v.packageName or v.name for v in vs]),
            "version": strs([v.version for v in vs]),
            "fixed_in_version": fixed,
            "package_manager": strs([v.packageManager or p.packageManager for v, p in zip(vs, ps, strict=True)]),
            "path": strs([v.filename_ for v in vs]),
            "type": strs([v.language for v in vs]),
        })  # fmt: skip
        title = cols["finding_info.title"]  # title, else the issue id
        published = parse_times(strs([v.publicationTime for v in vs]))
        vuln = nest({
            "title": title,
            "desc": cols["finding_info.desc"],  # vulnerabilities carry a description, never an IaC msg
            "severity": strs([v.severity for v in vs]),
            "vendor_name": const("Snyk", n),
            "references": str_lists([[r.url for r in v.references if r.url] if v.references else None for v in vs]),
            "related_vulnerabilities": pa.array(related, pa.list_(pa.string())),
            "is_fix_available": fixable,
            "is_exploit_available": pa.array(
                [None if v.exploit is None else v.exploit.lower() in _EXPLOITED for v in vs], pa.bool_()),
            "dependency_chain": strs([" > ".join(v.from_) if v.from_ else None for v in vs]),
            "cwe.uid": strs(cwe),
            "cve.uid": strs(primary),
            "cve.title": title,
            "cve.created_time": published,
            "cve.cvss": struct_lists(lens, {"version": strs(ver), "base_score": pa.array(score, pa.float64()),
                                            "vector_string": strs(vec), "vendor_name": strs(src)}),
            "affected_packages": singleton_list(pkg),
        })  # fmt: skip
        return {
            "status_id": const(1, n, pa.int32()),
            "status": const("New", n),
            "finding_info.uid": strs([f"{v.id}|{'>'.join(v.from_ or [])}" for v in vs]),
            "finding_info.types": const(["Vulnerability"], n, pa.list_(pa.string())),
            "finding_info.first_seen_time": published,
            "message": pc.binary_join_element_wise(title, strs([f"{v.packageName or v.name}@{v.version}" for v in vs]), " in "),
            "vulnerabilities": singleton_list(vuln),
        }

    def _compliance(self, vs: list[_VulnBase], iac: list[bool]) -> dict[str, pa.Array]:
        n = len(vs)
        desc = [v.iacDescription or {} for v in vs]
        detail = strs([d.get("issue") or v.issue or v.msg or (f"license {v.license}" if v.license else None)
                       for d, v in zip(desc, vs, strict=True)])  # fmt: skip
        check = nest({
            "uid": strs([v.publicId or v.id for v in vs]),
            "name": strs([v.title for v in vs]),
            "severity": strs([v.severity for v in vs]),
            "status": strs(["Fail"] * n),
            "status_id": pa.array([3] * n, pa.int32()),
        })  # fmt: skip
        status_id = pa.array([1] * n, pa.int32())
        return {
            "status_id": status_id,
            "status": captions("compliance_finding", "status_id", status_id),
            "compliance.status_id": pa.array([3] * n, pa.int32()),
            "compliance.status": strs(["Fail"] * n),
            "compliance.status_detail": detail,
            "compliance.control": strs([v.publicId or v.id for v in vs]),
            "compliance.category": strs([v.subType or ("license" if not i else "iac") for v, i in zip(vs, iac, strict=True)]),
            "compliance.checks": singleton_list(check),
            "finding_info.uid": strs([
                f"{v.publicId or v.id}|{'.'.join(map(str, v.path or []))}|{'>'.join(v.from_ or [])}" for v in vs
            ]),
            "finding_info.types": pa.array([["Misconfiguration"] if i else ["License"] for i in iac], pa.list_(pa.string())),
            "finding_info.src_url": strs([v.documentation for v in vs]),
            "message": strs([v.msg or v.title for v in vs]),
            "remediation.desc": strs([d.get("resolve") or v.resolve for d, v in zip(desc, vs, strict=True)]),
        }


__all__ = ["Snyk"]
