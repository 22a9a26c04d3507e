"""Checkov JSON reports (``checkov -o json``): infrastructure-as-code policy checks.

A report is one framework's ``{"check_type", "results": {"passed_checks", "failed_checks",
"skipped_checks", "parsing_errors"}, "summary": {..., "checkov_version"}}``, or a JSON array of
them when several frameworks ran (terraform, kubernetes, dockerfile, secrets ...). Like the same
check in ``checkov -o sarif`` (which the sarif format reads), each check result is an
**Application Security Posture Finding (2007)**:

- ``check_id`` (CKV_AWS_20 ...) -> ``finding_info.analytic`` (uid, name, type Rule),
  ``affected_code[0].rule`` and the vulnerability's ``advisory`` (uid, ``src_url`` the
  ``guideline``); ``check_name`` -> ``finding_info.title``, the vulnerability's title and, with the
  resource, ``message``; ``bc_category`` and the ``check_type`` -> ``finding_info.types``.
- ``repo_file_path`` (else ``file_path``) and ``file_line_range`` -> ``affected_code[0]``;
  ``resource`` (``google_storage_bucket.terragoat_website``) -> ``resources[0]`` (name; its type
  the part before the first dot, for a Terraform address).
- An SCA check (``sca_package``, ``sca_image``: a platform key's package scan) names what it found in
  ``vulnerability_details``: its ``id`` is the vulnerability's ``cve`` (a CVE: with ``description``,
  ``published_date`` and the ``cvss`` score at the version its ``vector`` names) or else its ``advisory``
  (GHSA-, PRISMA- ...; ``src_url`` the ``link``), in place of the check; ``package_name`` /
  ``package_version`` -> ``affected_packages[0]`` (``lowest_fixed_version`` as ``fixed_in_version``, not
  ``N/A``); its ``severity`` where the check names none. A license check keeps the check as its advisory,
  with the package it names. ``vulnerability_details`` stays in ``unmapped`` whole.
- Status: a failed check New (1), a skipped one (a ``#checkov:skip`` suppression) Suppressed (3), a
  passed one Resolved (4), as a SARIF ``kind: pass`` result. ``severity`` (LOW .. CRITICAL, given
  only with a platform API key) -> ``severity_id``, else Unknown.
- ``finding_info.uid`` is ``<check_id>|<file>|<resource>`` (a uid two results share gets their
  line range, then their occurrence number).

The report has no scan time: the receipt time and its label; ``summary.checkov_version`` ->
``metadata.product.version``. ``raw_data`` is the check's JSON; its keys not placed
(``code_block``, ``check_result``, ``evaluations``, ``benchmarks`` ...) stay in ``unmapped``.
``parsing_errors`` (files Checkov could not parse) are no findings. Dead letters: a document that
is not a report or an array of them whole; one report of the wrong shape (its checks) or one check
of the wrong shape alone. Recognized by ``check_type`` beside ``failed_checks`` / ``passed_checks``, or
the bare summary (``{"passed": 0, "failed": 0, ..., "checkov_version"}``, ``Report.get_summary()``) that
``checkov -o json`` prints when no framework found anything to check: no event, no dead letter.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    CVSS_LIST,
    STR_LIST,
    ReportFormat,
    S,
    captions,
    decode_top,
    distinct_uids,
    nest,
    only_where,
    severity_ids,
    singleton_list,
)
from secpipe.formats.base import (
    Decoded,
    base_columns,
    decode_typed,
    event_uids,
    int32_or_none,
    parse_times,
    strs,
    to_batch,
)


class _VulnDetails(msgspec.Struct, gc=False):
    """An SCA check's ``vulnerability_details`` (checkov/common/sca/output.py; a license check's holds the
    package and its license alone)."""

    id: str | None = None
    severity: str | None = None
    package_name: str | None = None
    package_version: str | None = None
    link: str | None = None
    cvss: float | str | None = None
    vector: str | None = None
    description: str | None = None
    published_date: str | None = None
    lowest_fixed_version: str | None = None


class _Check(msgspec.Struct, gc=False):
    check_id: str | None = None
    check_name: str | None = None
    file_path: str | None = None
    repo_file_path: str | None = None
    file_line_range: list[int] | None = None
    resource: str | None = None
    severity: str | None = None
    guideline: str | None = None
    bc_category: str | None = None
    vulnerability_details: _VulnDetails | None = None


class _Results(msgspec.Struct, gc=False):
    passed_checks: list[msgspec.Raw] | None = None
    failed_checks: list[msgspec.Raw] | None = None
    skipped_checks: list[msgspec.Raw] | None = None


class _Summary(msgspec.Struct, gc=False):
    checkov_version: str | None = None


class _Report(msgspec.Struct, gc=False):
    check_type: str | None = None
    results: _Results | None = None
    summary: _Summary | None = None


class _Found(msgspec.Struct, gc=False):
    check: _Check
    status: int
    check_type: str | None
    version: str | None
    raw: bytes
    unmapped: str | None


_CLS = "application_security_posture_finding"
_MAPPED = frozenset({"check_id", "check_name", "file_path", "repo_file_path", "file_line_range", "resource",
                     "severity", "guideline", "bc_category"})  # fmt: skip
#: (the results' list, the finding status it gives: failed New, skipped Suppressed, passed Resolved)
_LISTS = (("failed_checks", 1), ("skipped_checks", 3), ("passed_checks", 4))


_NO_DETAILS = _VulnDetails()
_CVSS_VERSION = re.compile(r"^CVSS:(\d+\.\d+)/")


def _cvss(vd: _VulnDetails) -> list[dict[str, Any]] | None:
    """The cve's CVSS of an SCA check: its score with the version its vector names (OCSF requires both)."""
    try:
        score = float(vd.cvss) if vd.cvss is not None else None
    except ValueError:
        score = None
    m = _CVSS_VERSION.match(vd.vector or "")
    if score is None or m is None:
        return None
    return [{"version": m.group(1), "base_score": score, "vector_string": vd.vector, "vendor_name": None}]


def _fixed(v: str | None) -> str | None:
    """An SCA check's lowest fixed version (Checkov's ``N/A``: none)."""
    return v if v and v.upper() != "N/A" else None


def _sca_vulnerabilities(cs: list[_Check], rule: pa.Array, title: pa.Array, url: pa.Array, sev: pa.Array,
                         code: pa.Array, has_file: pa.Array) -> pa.Array:
    """The vulnerabilities of checks some of which are SCA checks (see the module docstring)."""
    none = pa.scalar(None, S)
    vds = [c.vulnerability_details or _NO_DETAILS for c in cs]
    # an SCA check (sca_package, sca_image) names the vulnerability it found: a CVE is the cve (OCSF 1.8.0: one
    # of advisory / cve / cwe), another id (GHSA-, PRISMA-) the advisory in place of the check
    vid = strs([vd.id or None for vd in vds])
    cve = pc.if_else(pc.fill_null(pc.match_substring_regex(vid, r"^CVE-\d{4}-\d+$"), False), vid, none)
    adv = pc.if_else(cve.is_valid(), none, pc.coalesce(vid, rule))
    vdesc = strs([vd.description or None for vd in vds])
    link = strs([vd.link or None for vd in vds])
    cvss = pa.array([_cvss(vd) for vd in vds], CVSS_LIST)
    pkg = nest({"name": strs([vd.package_name or None for vd in vds]),
                "version": strs([vd.package_version or None for vd in vds]),
                "fixed_in_version": strs([_fixed(vd.lowest_fixed_version) for vd in vds])})  # fmt: skip
    has_pkg = pc.and_(pkg.field("name").is_valid(), pkg.field("version").is_valid())
    return nest({
        "title": pc.coalesce(title, rule),
        "desc": vdesc,
        "severity": captions(_CLS, "severity_id", sev),
        "references": pa.array([[vd.link] if vd.link else None for vd in vds], STR_LIST),
        "cve": only_where(nest({"uid": cve, "desc": vdesc, "created_time": parse_times([vd.published_date for vd in vds]),
                                "cvss": cvss}), cve),  # fmt: skip
        "advisory": only_where(nest({"uid": adv, "title": pc.coalesce(title, rule),
                                     "src_url": pc.if_else(vid.is_valid(), link, url)}), adv),  # fmt: skip
        "affected_packages": singleton_list(pkg, has_pkg),
        "affected_code": singleton_list(code, has_file),
    })  # fmt: skip


def _lines(c: _Check) -> tuple[int | None, int | None]:
    r = [x for x in c.file_line_range or () if isinstance(x, int)]
    return (int32_or_none(r[0]), int32_or_none(r[-1])) if r else (None, None)


class Checkov(ReportFormat):
    """Checkov JSON reports."""

    name = "checkov"
    report_type = msgspec.Raw
    what = "a Checkov JSON report"
    description = "Checkov JSON report (checkov -o json, one framework or an array) -> Application Security Posture Finding (2007) per check"  # fmt: skip
    framing = "document"
    product = "Checkov"
    vendor = "Bridgecrew"

    def sniff(self, head: bytes) -> int:
        """Recognize ``check_type`` beside ``failed_checks`` or ``passed_checks``, or the bare summary Checkov
        prints when no framework had anything to check."""
        h = head[:65536]
        if h.lstrip()[:1] not in (b"{", b"["):
            return 0
        if _TYPE.search(h) and _CHECKS.search(h):
            return 88
        return 85 if b'"checkov_version"' in h and _SUMMARY_ONLY.match(h) else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document; one that is not a report or an array of them is dead-lettered whole."""
        try:
            return super().decode(data, source)
        except msgspec.DecodeError as exc:
            return self.dead(f"not {self.what}: {exc}", source, data)

    def map_report(self, doc: msgspec.Raw, data: bytes, source: str) -> Decoded:
        """Map every check of every framework's report; a bad report or check is dead-lettered alone."""
        out = Decoded()
        raw = bytes(doc)
        raws = [bytes(r) for r in msgspec.json.decode(raw, type=list[msgspec.Raw])] if raw.lstrip()[:1] == b"[" else [raw]  # fmt: skip
        reports = decode_typed(raws, list(range(len(raws))), _Report, out, source, self.name, "a Checkov report").recs  # fmt: skip
        found: list[_Found] = []
        for i, rep in enumerate(reports):
            res = rep.results or _Results()
            version = rep.summary.checkov_version if rep.summary else None
            for key, status in _LISTS:
                checks = [bytes(r) for r in getattr(res, key) or ()]
                if not checks:
                    continue
                typed, top = decode_top(checks, [(source, i)] * len(checks), _Check, _MAPPED, (), out, source,
                                        self.name, "a Checkov check")  # fmt: skip
                found += [_Found(c, status, rep.check_type, version, x, u)
                          for c, x, u in zip(typed.recs, typed.raws, top.unmapped.to_pylist(), strict=True)]  # fmt: skip
        out.events = len(found) + len(out.dead)
        if found:
            out.batches.append(self._batch(found))
        return out

    def _batch(self, fs: list[_Found]) -> pa.RecordBatch:
        n = len(fs)
        cs = [f.check for f in fs]
        sev = severity_ids([c.severity or (c.vulnerability_details.severity if c.vulnerability_details else None)
                            for c in cs])  # fmt: skip
        raws = [f.raw for f in fs]
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=sev)  # fmt: skip
        cols["metadata.product.version"] = strs([f.version for f in fs])
        none = pa.scalar(None, S)
        rule, title = strs([c.check_id for c in cs]), strs([c.check_name for c in cs])
        paths = [c.repo_file_path or c.file_path or None for c in cs]
        files = strs(paths)
        has_file = files.is_valid()
        lines = [_lines(c) for c in cs]
        url = strs([c.guideline for c in cs])
        code = nest({
            "file.path": files,
            "file.name": strs([p.rsplit("/", 1)[-1] if p else None for p in paths]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), none),
            "start_line": pa.array([x[0] for x in lines], pa.int32()),
            "end_line": pa.array([x[1] for x in lines], pa.int32()),
            "rule.uid": rule,
            "rule.name": pc.coalesce(title, rule),
        })  # fmt: skip
        if any(c.vulnerability_details for c in cs):
            vuln = _sca_vulnerabilities(cs, rule, title, url, sev, code, has_file)
        else:
            vuln = nest({
                "title": pc.coalesce(title, rule),
                "severity": captions(_CLS, "severity_id", sev),
                "advisory": only_where(nest({"uid": rule, "title": pc.coalesce(title, rule), "src_url": url}), rule),
                "affected_code": singleton_list(code, has_file),
            })  # fmt: skip
        resources: list[Any] = [[{"type": c.resource.split(".", 1)[0] if "." in c.resource else None, "name": c.resource}]
                                if c.resource else None for c in cs]  # fmt: skip
        status = pa.array([f.status for f in fs], pa.int32())
        ruled = rule.is_valid()
        uid = strs([f"{c.check_id}|{p}|{c.resource}" for c, p in zip(cs, paths, strict=True)])
        span = strs([f"{a}-{b}" for a, b in lines])
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": strs([f"{c.check_name or c.check_id}: {c.resource}" if c.resource else c.check_name or c.check_id
                             for c in cs]),  # fmt: skip
            "finding_info.uid": distinct_uids(uid, span),
            "finding_info.title": pc.coalesce(title, rule),
            "finding_info.src_url": url,
            "finding_info.types": pa.array([[t for t in (c.bc_category, f.check_type) if t] or None
                                            for c, f in zip(cs, fs, strict=True)], STR_LIST),  # fmt: skip
            "finding_info.product.name": strs([self.product] * n),
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": pc.coalesce(title, rule),
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), none),
            "resources": pa.array(resources, pa.list_(pa.struct([("type", S), ("name", S)]))),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": strs([f.unmapped for f in fs]),
        })  # fmt: skip
        return to_batch(_CLS, cols)


_TYPE = re.compile(rb'"check_type"\s*:\s*"')
_CHECKS = re.compile(rb'"(?:failed|passed)_checks"\s*:')
#: the whole document is one flat summary (Report.get_summary(): passed, failed, skipped, parsing_errors,
#: resource_count, checkov_version), as ``checkov -o json`` prints it when no framework produced a report
_SUMMARY_ONLY = re.compile(rb'\s*\{(?=[^{}]*"checkov_version"\s*:)(?=[^{}]*"passed"\s*:)[^{}\[\]]*\}\s*\Z')

__all__ = ["Checkov"]
