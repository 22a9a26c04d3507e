"""Snyk REST Issues API pages (``GET /rest/orgs/{org_id}/issues``, ``/groups/{group_id}/issues``).

A JSON:API page (``jsonapi``, ``links``, ``data[]``) of issue resources, each ``{"id", "type":
"issue", "attributes", "relationships"}``: the issues Snyk holds for an organization's projects,
as DefectDojo's "Snyk Issue API" import reads them. Unlike ``snyk test --json`` an issue here is
one record per issue (not per dependency path) and has its own times and status. One event per
issue, its class by ``attributes.type``:

- ``package_vulnerability`` -> Vulnerability Finding (2002): ``cve.uid`` the first ``problems[]``
  id that is a CVE (NVD's), else the issue is Snyk's own ``advisory`` (uid ``key``, the
  ``SNYK-...`` id; OCSF 1.8.0 allows one of advisory / cve / cwe); the other problem ids are
  ``related_vulnerabilities``, their urls ``references``; ``severities[]`` (one CVSS rating per
  source: Snyk, NVD, Red Hat, SUSE ...) -> ``cve.cvss[]`` (version, score, vector, source as
  ``vendor_name``; a rating without a score is left out, OCSF requires it); the first CWE of
  ``classes[]`` -> ``cve.cwe`` (``advisory.related_cwes`` without a CVE); the package of the first
  coordinate (``representations[].dependency`` package_name/package_version, or a ``package``
  name/version) -> ``affected_packages[0]`` (only with both: OCSF requires them);
  ``is_fix_available`` any coordinate fixable (upgradeable, patchable, pinnable or
  ``is_fixable_*``); ``is_exploit_available`` from ``exploit_details.maturity_levels`` (a level
  Snyk rates as exploited: High, Functional, Proof of Concept, Attacked ...).
- ``code`` (Snyk Code) -> Application Security Posture Finding (2007), as a SARIF result: the
  ``sourceLocation`` of the first coordinate -> ``affected_code[0]`` (file, start/end line and
  column; ``commit_id`` stays in ``unmapped``); the first CWE is the vulnerability's ``cwe``,
  else the issue key its ``advisory``.
- ``license``, ``config``, ``cloud``, ``custom`` (license policy and IaC/cloud misconfigurations)
  -> Compliance Finding (2003): the issue key as ``compliance.control`` and check, status Fail while
  the issue is open and Pass once resolved, the type as ``compliance.category``.

Every class: ``finding_info`` uid = the issue id (a UUID), title, desc (``description``),
created/modified time (``created_at``/``updated_at``), types = the issue type; ``time`` =
``updated_at`` (else ``created_at``, else the receipt time and its label); severity from
``effective_severity_level``; status: ``ignored`` Suppressed (3), ``resolved`` Resolved (4),
``open`` New (1), Snyk's word as ``status_code``; ``risk.score.value`` (Snyk's risk score,
0-1000) -> ``risk_score``; the scan item (``relationships.scan_item``, a project or an
environment) -> ``resources[0]`` (uid, type; the organization id in ``data``).
Event identity hashes the issue alone (not its place on the page): an unchanged issue fetched again
on another page collapses. Attribute keys not placed (``key_asset``, ``resolution``, ``coordinates`` ...) and the issue's
relationships stay in ``unmapped``. A page with no issues holds no event; an issue of the wrong
shape is dead-lettered alone.

An API page is at most 100 issues (``limit``), so issues are typed with msgspec and each column
built with one comprehension (no native walk).
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    CWE_ID,
    STR_LIST,
    S,
    captions,
    nest,
    only_where,
    severity_ids,
    singleton_list,
    str_lists,
    struct_lists,
)
from secpipe.formats.base import (
    BOM,
    Decoded,
    base_columns,
    decode_typed,
    event_uids,
    int32_or_none,
    parse_times,
    strs,
    to_batch,
)


class _Point(msgspec.Struct, gc=False):
    line: int | None = None
    column: int | None = None


class _Region(msgspec.Struct, gc=False):
    start: _Point | None = None
    end: _Point | None = None


class _Source(msgspec.Struct, gc=False):
    file: str | None = None
    region: _Region | None = None


class _Dependency(msgspec.Struct, gc=False):
    package_name: str | None = None
    package_version: str | None = None


class _Package(msgspec.Struct, gc=False):
    name: str | None = None
    version: str | None = None


class _Representation(msgspec.Struct, gc=False):
    dependency: _Dependency | None = None
    package: _Package | None = None
    sourceLocation: _Source | None = None  # noqa: N815 (Snyk's key)


class _Coordinate(msgspec.Struct, gc=False):
    is_fixable_manually: bool | None = None
    is_fixable_snyk: bool | None = None
    is_fixable_upstream: bool | None = None
    is_patchable: bool | None = None
    is_pinnable: bool | None = None
    is_upgradeable: bool | None = None
    representations: list[_Representation] | None = None


class _Ref(msgspec.Struct, gc=False):
    id: str | None = None
    source: str | None = None
    url: str | None = None


class _Rating(msgspec.Struct, gc=False):
    score: float | None = None
    source: str | None = None
    vector: str | None = None
    version: str | None = None


class _Level(msgspec.Struct, gc=False):
    level: str | None = None


class _Exploit(msgspec.Struct, gc=False):
    maturity_levels: list[_Level] | None = None


class _Score(msgspec.Struct, gc=False):
    value: float | None = None


class _Risk(msgspec.Struct, gc=False):
    score: _Score | None = None


class _Attributes(msgspec.Struct, gc=False):
    key: str | None = None
    title: str | None = None
    description: str | None = None
    type: str | None = None
    status: str | None = None
    ignored: bool | None = None
    effective_severity_level: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    classes: list[_Ref] | None = None
    problems: list[_Ref] | None = None
    severities: list[_Rating] | None = None
    coordinates: list[_Coordinate] | None = None
    exploit_details: _Exploit | None = None
    risk: _Risk | None = None


class _Linked(msgspec.Struct, gc=False):
    id: str | None = None
    type: str | None = None


class _Relation(msgspec.Struct, gc=False):
    data: _Linked | None = None


class _Relationships(msgspec.Struct, gc=False):
    organization: _Relation | None = None
    scan_item: _Relation | None = None


class _Issue(msgspec.Struct, gc=False):
    id: str | None = None
    attributes: _Attributes | None = None
    relationships: _Relationships | None = None


class _Page(msgspec.Struct):
    data: list[msgspec.Raw]


class _Tops(msgspec.Struct):
    attributes: dict[str, msgspec.Raw] | None = None
    relationships: msgspec.Raw = msgspec.Raw(b"null")


_PAGE = msgspec.json.Decoder(_Page)
_TOPS = msgspec.json.Decoder(list[_Tops])
_ENC = msgspec.json.Encoder()
#: attribute keys placed in columns (the others, and the relationships, stay in unmapped)
_PLACED = frozenset({"key", "title", "description", "type", "status", "ignored", "effective_severity_level",
                     "created_at", "updated_at", "classes", "problems", "severities"})  # fmt: skip
_VULN, _CODE, _COMP = "vulnerability_finding", "application_security_posture_finding", "compliance_finding"
_CLASS = {"package_vulnerability": _VULN, "code": _CODE}
_PRODUCT = {"code": "Snyk Code", "config": "Snyk IaC", "cloud": "Snyk IaC", "custom": "Snyk IaC"}
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CVSS_VERSION = re.compile(r"^CVSS:(\d+\.\d+)/")
#: maturity levels Snyk rates as exploited (CVSSv3 E: High, Functional, Proof of Concept; CVSSv4 E: Attacked, PoC)
_EXPLOITED = frozenset({"mature", "high", "functional", "proof of concept", "attacked", "poc"})
_NO_ATTRS = _Attributes()
_NO_REL = _Relationships()
_HEAD = re.compile(rb'"type"\s*:\s*"issue"')
_EMPTY = re.compile(rb'"data"\s*:\s*\[\s*\]')


def is_issues_page(head: bytes) -> bool:
    """A JSON:API page of Snyk issue resources (its issue attributes are Snyk's REST names)."""
    h = head.removeprefix(BOM).lstrip()[:65536]
    return (h[:1] == b"{" and b'"data"' in h and _HEAD.search(h) is not None
            and (b'"effective_severity_level"' in h or b'"coordinates"' in h and b'"problems"' in h))  # fmt: skip


def is_empty_page(head: bytes) -> bool:
    """A JSON:API page with no resources, naming no other endpoint than issues (what the Issues API
    answers for an organization or filter with none: ``{"jsonapi": {...}, "data": []}``)."""
    h = head.removeprefix(BOM).lstrip()[:4096]
    return (h[:1] == b"{" and b'"jsonapi"' in h and _EMPTY.search(h) is not None
            and (b'"links"' not in h or b"/issues" in h))  # fmt: skip


def decode_page(data: bytes, source: str, fmt: str) -> Decoded:
    """Map one issues page (``data`` compact) to one batch per class; bad issues dead-lettered alone."""
    page = _PAGE.decode(data)
    raws = [bytes(r) for r in page.data]
    out = Decoded(events=len(raws))
    if not raws:
        return out
    typed = decode_typed(raws, list(range(len(raws))), _Issue, out, source, fmt, "a Snyk REST issue")
    if not typed.recs:
        return out
    issues: list[_Issue] = typed.recs
    tops = _TOPS.decode(b"[" + b",".join(typed.raws) + b"]")
    classes = [_CLASS.get((i.attributes or _NO_ATTRS).type or "", _COMP) for i in issues]
    for cls in (_VULN, _CODE, _COMP):
        rows = [k for k, c in enumerate(classes) if c == cls]
        if rows:
            out.batches.append(_batch(cls, fmt, [issues[k] for k in rows], [typed.raws[k] for k in rows],
                                      [tops[k] for k in rows]))  # fmt: skip
    return out


def _status(a: _Attributes) -> int:
    if a.ignored:
        return 3  # Suppressed
    return {"open": 1, "resolved": 4}.get(a.status or "", 99 if a.status else 1)


def _first_cwe(a: _Attributes) -> str | None:
    for c in a.classes or ():
        m = CWE_ID.match(c.id or "") if (c.source or "CWE").upper() == "CWE" else None
        if m:
            return f"CWE-{m.group(1)}"
    return None


def _problems(a: _Attributes) -> tuple[str | None, list[str], list[str]]:
    """(the first CVE id, the other problem ids, the problems' urls) of one issue."""
    ids = [p.id for p in a.problems or () if p.id]
    cve = next((i for i in ids if _CVE.match(i)), None)
    # without a CVE the issue key is the advisory (a Snyk Code issue's one problem is its own key)
    other = [i for i in ids if i != cve and (cve or i != a.key)]
    return cve, other, [p.url for p in a.problems or () if p.url]


def _representations(a: _Attributes) -> list[_Representation]:
    coords = a.coordinates or ()
    return (coords[0].representations or []) if coords else []


def _package(a: _Attributes) -> tuple[str | None, str | None]:
    for r in _representations(a):
        if r.dependency is not None:
            return r.dependency.package_name, r.dependency.package_version
        if r.package is not None:
            return r.package.name, r.package.version
    return None, None


def _fixable(a: _Attributes) -> bool:
    return any(c.is_upgradeable or c.is_patchable or c.is_pinnable or c.is_fixable_snyk or c.is_fixable_upstream
               or c.is_fixable_manually for c in a.coordinates or ())  # fmt: skip


def _exploited(a: _Attributes) -> bool | None:
    levels = (
        [m.level.lower() for m in (a.exploit_details.maturity_levels or ()) if m.level]
        if a.exploit_details
        else []
    )
    return any(x in _EXPLOITED for x in levels) if levels else None


def _cvss_version(r: _Rating) -> str | None:
    m = _CVSS_VERSION.match(r.vector or "")
    return m.group(1) if m else r.version


def _source(a: _Attributes) -> _Source | None:
    return next((r.sourceLocation for r in _representations(a) if r.sourceLocation is not None), None)


def _unmapped(top: _Tops) -> bytes | None:
    attrs = top.attributes or {}
    kept = {k: attrs[k] for k in sorted(attrs.keys() - _PLACED)}
    if bytes(top.relationships) != b"null":
        kept["relationships"] = top.relationships
    return _ENC.encode(kept) if kept else None


def _risk_score(a: Any) -> int | None:
    """An issue's risk score (Snyk's 0-1000) as OCSF's int32: None when absent, not finite or past
    int32 (the record keeps it in raw_data)."""
    v = None if a.risk is None or a.risk.score is None else a.risk.score.value
    return None if v is None or not math.isfinite(v) else int32_or_none(int(v))


def _batch(cls: str, fmt: str, issues: list[_Issue], raws: list[bytes], tops: list[_Tops]) -> pa.RecordBatch:
    at = [i.attributes or _NO_ATTRS for i in issues]
    rel = [i.relationships or _NO_REL for i in issues]
    sev = severity_ids([a.effective_severity_level for a in at])
    created = parse_times([a.created_at for a in at])
    modified = parse_times([a.updated_at for a in at])
    status = pa.array([_status(a) for a in at], pa.int32())
    cols = base_columns(
        cls, kind=fmt, product="Snyk", vendor="Snyk",
        uids=event_uids(fmt, raws, ["rest"] * len(raws)), times_ms=pc.coalesce(modified, created),
        raws=raws, activity_id=1, severity_id=sev,
    )  # fmt: skip
    title = strs([a.title or a.key for a in at])
    types = [a.type for a in at]
    items = [r.scan_item.data if r.scan_item and r.scan_item.data else None for r in rel]
    orgs = [r.organization.data.id if r.organization and r.organization.data else None for r in rel]
    cols["resources"] = pa.array([
        [{"type": s.type, "uid": s.id, "data": _ENC.encode({"org_id": o}).decode() if o else None}] if s and s.id else None
        for s, o in zip(items, orgs, strict=True)
    ], pa.list_(pa.struct([("type", S), ("uid", S), ("data", S)])))  # fmt: skip
    cols.update({
        "message": title,
        "status_id": status,
        "status": captions(cls, "status_id", status),
        "status_code": strs(["ignored" if a.ignored else a.status for a in at]),
        "risk_score": pa.array([_risk_score(a) for a in at], pa.int32()),
        "finding_info.uid": strs([i.id for i in issues]),
        "finding_info.title": title,
        "finding_info.desc": strs([a.description for a in at]),
        "finding_info.created_time": created,
        "finding_info.modified_time": modified,
        "finding_info.types": str_lists([[t] if t else None for t in types]),
        "finding_info.product.name": strs([_PRODUCT.get(t or "", "Snyk") for t in types]),
        "unmapped": pa.array([_unmapped(t) for t in tops], pa.binary()).cast(S),
    })  # fmt: skip
    if cls == _COMP:
        cols.update(_compliance(at, sev, status))
    else:
        cols["vulnerabilities"] = singleton_list(_vulnerability(cls, at, title, sev))
    return to_batch(cls, cols)


def _vulnerability(cls: str, at: list[_Attributes], title: pa.Array, sev: pa.Array) -> pa.StructArray:
    probs = [_problems(a) for a in at]
    cve = strs([p[0] for p in probs])
    cwe = strs([_first_cwe(a) for a in at])
    none = pa.scalar(None, S)
    has_cve = cve.is_valid()
    adv = pc.if_else(has_cve, none, pc.if_else(cwe.is_valid(), none, strs([a.key for a in at])) if cls == _CODE
                     else strs([a.key for a in at]))  # fmt: skip
    adv_cwe = pc.if_else(has_cve, none, cwe) if cls == _VULN else pa.nulls(len(at), S)
    lone_cwe = pc.if_else(pc.or_(has_cve, adv.is_valid()), none, cwe)
    ratings = [[r for r in a.severities or () if r.score is not None] for a in at]
    flat = [r for rs in ratings for r in rs]
    cvss = struct_lists([len(rs) for rs in ratings], {
        "version": strs([_cvss_version(r) for r in flat]),
        "base_score": pa.array([r.score for r in flat], pa.float64()),
        "vector_string": strs([r.vector for r in flat]),
        "vendor_name": strs([r.source for r in flat]),
    })  # fmt: skip
    vuln: dict[str, pa.Array] = {
        "title": title,
        "desc": strs([a.description for a in at]),
        "severity": captions(cls, "severity_id", sev),
        "vendor_name": strs(["Snyk"] * len(at)),
        "references": str_lists([p[2] for p in probs]),
        "related_vulnerabilities": pa.array([p[1] or None for p in probs], STR_LIST),
        "cve": only_where(
            nest({"uid": cve, "title": title, "cvss": cvss, "cwe": only_where(nest({"uid": cwe}), cwe)}), cve
        ),  # fmt: skip
        "advisory": only_where(
            nest(
                {
                    "uid": adv,
                    "title": title,
                    "related_cwes": singleton_list(nest({"uid": adv_cwe}), adv_cwe.is_valid()),
                }
            ),
            adv,
        ),  # fmt: skip
        "cwe": only_where(nest({"uid": lone_cwe}), lone_cwe),
    }
    if cls == _VULN:
        pkgs = [_package(a) for a in at]
        names, versions = strs([p[0] for p in pkgs]), strs([p[1] for p in pkgs])
        vuln["affected_packages"] = singleton_list(nest({"name": names, "version": versions}),
                                                   pc.and_(names.is_valid(), versions.is_valid()))  # fmt: skip
        vuln["is_fix_available"] = pa.array([_fixable(a) for a in at], pa.bool_())
        vuln["is_exploit_available"] = pa.array([_exploited(a) for a in at], pa.bool_())
    else:
        vuln["affected_code"] = _affected_code([_source(a) for a in at])
    return nest(vuln)


def _affected_code(srcs: list[_Source | None]) -> pa.Array:
    files = strs([s.file if s else None for s in srcs])
    has = files.is_valid()
    regions = [s.region if s and s.region else None for s in srcs]

    def point(end: bool, col: bool) -> pa.Array:
        pts = [None if r is None else (r.end if end else r.start) for r in regions]
        return pa.array(
            [None if p is None else int32_or_none(p.column if col else p.line) for p in pts], pa.int32()
        )

    return singleton_list(nest({
        "file.path": files,
        "file.name": strs([f.rsplit("/", 1)[-1] if f else None for f in files.to_pylist()]),
        "file.type_id": pc.if_else(has, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
        "file.type": pc.if_else(has, pa.scalar("Regular File", S), pa.scalar(None, S)),
        "start_line": point(False, False),
        "end_line": point(True, False),
        "start_column": point(False, True),
        "end_column": point(True, True),
    }), has)  # fmt: skip


def _compliance(at: list[_Attributes], sev: pa.Array, status: pa.Array) -> dict[str, Any]:
    passed = pc.equal(status, 4)
    cstatus = pc.if_else(passed, pa.scalar(1, pa.int32()), pa.scalar(3, pa.int32()))
    words = pc.if_else(passed, pa.scalar("Pass", S), pa.scalar("Fail", S))
    keys = strs([a.key for a in at])
    check = nest({
        "uid": keys,
        "name": strs([a.title for a in at]),
        "severity": captions(_COMP, "severity_id", sev),
        "severity_id": sev,
        "status": words,
        "status_id": cstatus,
    })  # fmt: skip
    return {
        "compliance.status_id": cstatus,
        "compliance.status": words,
        "compliance.control": keys,
        "compliance.category": strs([a.type for a in at]),
        "compliance.checks": singleton_list(check, keys.is_valid()),
        "finding_info.analytic.uid": keys,
        "finding_info.analytic.name": strs([a.title for a in at]),
        "finding_info.analytic.type_id": pc.if_else(
            keys.is_valid(), pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())
        ),
        "finding_info.analytic.type": pc.if_else(keys.is_valid(), pa.scalar("Rule", S), pa.scalar(None, S)),
    }


__all__ = ["decode_page", "is_empty_page", "is_issues_page"]
