"""Kubernetes policy reports: wgpolicyk8s.io PolicyReport / ClusterPolicyReport and openreports.io Report / ClusterReport.

The Policy Working Group's report resources (``wgpolicyk8s.io`` v1alpha1, v1alpha2, v1beta1, and
their successor ``openreports.io/v1alpha1``) are what Kyverno, Falco's and kube-bench's report
adapters, Trivy Operator and other policy engines write into a cluster; ``kubectl get polr,cpolr -A
-o json`` saves them as a ``List`` (``items``), one as the object itself, several as an array.
Each ``results[]`` entry (a policy rule's outcome on one resource) is one **Compliance Finding (2003)**, but a
vulnerability scanner's result (``category`` ``Vulnerability Scan``: trivy-operator-polr-adapter's VulnerabilityReport
results, ``pkg/adapters/vulnr``; an image scanner's ``vulnerability``) is a **Vulnerability Finding (2002)** with the
same finding, time, product and resources, and ``vulnerabilities[0]``: the ``policy`` (the vulnerability id) as
``cve.uid`` where it is a CVE's, the message as title, the severity, the package from ``properties`` (``resource`` or
``pkgName``, ``installedVersion``, ``fixedVersion`` as ``fixed_in_version`` and ``is_fix_available``), the
``primaryLink`` / ``primaryURL`` as reference, the ``<source>.v3_score`` / ``v3_vector`` (and v2) CVSS scores:

- ``policy`` -> ``compliance.control``; ``rule`` -> ``compliance.checks[0]`` (uid and name, with the
  result's status); ``category`` -> ``compliance.category`` and ``finding_info.types``;
  ``result`` (v1alpha1: ``status``) pass / warn / fail -> ``compliance.status_id`` Pass (1),
  Warning (2), Fail (3), error and skip Other (99), the word in ``compliance.status_code``.
- ``message`` -> ``message``, ``finding_info.desc`` and title (else "<policy> <rule>");
  ``severity`` (info, low, medium, high, critical) -> ``severity_id``; ``source`` (kyverno,
  kube-bench, Falco ...; else the report's own ``source``) -> ``metadata.product.name`` and
  ``finding_info.product`` (vendor: the Kubernetes Policy Working Group, whose API it is); ``timestamp`` {seconds, nanos} -> ``time`` (else the report's
  ``metadata.creationTimestamp``, else the receipt time and its label).
- The resources the result names (``resources[]``, v1alpha1 ``subjects[]``; else the report's
  ``scope``, the one resource a per-resource report is about, as Kyverno 1.10+ writes them) ->
  ``resources[]`` (kind as type, name, namespace (else the report's), uid, apiVersion as version).
- ``finding_info.uid`` is ``<policy>|<rule>|<kind>/<namespace>/<name>`` of the first resource (a key
  several results of a document share gets their source, then their occurrence number); status New.

``raw_data`` is the result with its report's header (``{"report": {apiVersion, kind, metadata,
scope, source}, "result": ...}``), so the same result of two reports stays two events; the result's
keys not placed (``properties``, ``scored``, ``resourceSelector`` ...) stay in ``unmapped``.
Dead letters: a document that is not JSON or not a report, list or array of them whole; a report
of the wrong shape (its results) or one result of the wrong shape alone. A report without results
holds no event. Recognized by the ``apiVersion`` of either API group beside ``results``.
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
    const,
    decode_typed,
    event_uids,
    parse_times,
    strs,
    to_batch,
)


class _Ref(msgspec.Struct, gc=False):
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    apiVersion: str | None = None  # noqa: N815 (Kubernetes' key)


class _Time(msgspec.Struct, gc=False):
    seconds: int | None = None
    nanos: int | None = None


class _Result(msgspec.Struct, gc=False):
    policy: str | None = None
    rule: str | None = None
    result: str | None = None
    status: str | None = None  # (v1alpha1's name for result)
    severity: str | None = None
    category: str | None = None
    message: str | None = None
    source: str | None = None
    timestamp: _Time | None = None
    resources: list[_Ref] | None = None
    subjects: list[_Ref] | None = None
    properties: dict[str, Any] | None = None  # (read for a vulnerability; kept in unmapped)


class _Meta(msgspec.Struct, gc=False):
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    creationTimestamp: str | None = None  # noqa: N815


class _Report(msgspec.Struct, gc=False):
    apiVersion: str | None = None  # noqa: N815
    kind: str | None = None
    metadata: _Meta | None = None
    scope: _Ref | None = None
    source: str | None = None
    results: list[msgspec.Raw] | None = None


class _Doc(msgspec.Struct):
    items: list[msgspec.Raw] | None = None
    results: Any = None


class _Found(msgspec.Struct, gc=False):
    """One result with its report, before its columns."""

    report: _Report
    result: _Result
    raw: bytes
    unmapped: str | None


_CLS = "compliance_finding"
_MAPPED = frozenset({"policy", "rule", "result", "status", "severity", "category", "message", "source", "timestamp",
                     "resources", "subjects"})  # fmt: skip
#: a result's word -> compliance.status_id and its OCSF caption
_STATUS = {"pass": (1, "Pass"), "warn": (2, "Warning"), "fail": (3, "Fail"), "error": (99, "Other"), "skip": (99, "Other")}  # fmt: skip
_UNKNOWN = (0, "Unknown")
_RES = pa.list_(pa.struct([("type", S), ("name", S), ("namespace", S), ("uid", S), ("version", S)]))
_ENC = msgspec.json.Encoder()
_REPORT = msgspec.json.Decoder(_Report)
_NO_META = _Meta()
_NO_REF = _Ref()


def _header(r: _Report) -> bytes:
    """The report's identity and scope, compact, as ``raw_data``'s ``report``."""
    m = r.metadata or _NO_META
    meta = {k: v for k, v in (("name", m.name), ("namespace", m.namespace), ("uid", m.uid),
                              ("creationTimestamp", m.creationTimestamp)) if v is not None}  # fmt: skip
    head = {k: v for k, v in (("apiVersion", r.apiVersion), ("kind", r.kind), ("metadata", meta or None),
                              ("scope", r.scope), ("source", r.source)) if v is not None}  # fmt: skip
    return _ENC.encode(head)


def _refs(f: _Found) -> list[_Ref]:
    """The resources a result names, else its report's scope."""
    refs = f.result.resources or f.result.subjects
    return refs if refs else [f.report.scope] if f.report.scope else []


def _ms(t: _Time | None) -> int | None:
    """A result's ``timestamp`` (protobuf Timestamp: seconds, nanos) in ms; None where absent or outside
    the Timestamp's own range (years 1-9999: a number no int64 column holds is no time)."""
    if t is None or t.seconds is None or not _MIN_SECONDS <= t.seconds <= _MAX_SECONDS:
        return None
    nanos = t.nanos if t.nanos is not None and 0 <= t.nanos < 1_000_000_000 else 0  # (out of its range: none)
    return t.seconds * 1000 + nanos // 1_000_000


_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z


class PolicyReport(ReportFormat):
    """Kubernetes policy reports (wgpolicyk8s.io, openreports.io)."""

    name = "policy_report"
    report_type = msgspec.Raw
    what = "a Kubernetes policy report"
    description = ("Kubernetes PolicyReport / ClusterPolicyReport (wgpolicyk8s.io, openreports.io Report; one, a List "
                   "or an array) -> Compliance Finding (2003) per result")  # fmt: skip
    framing = "document"
    product = "Policy Report"
    vendor = "Kubernetes Policy WG"

    def sniff(self, head: bytes) -> int:
        """Recognize the apiVersion of either report API group beside ``results``."""
        h = head[:65536]
        return 90 if h.lstrip()[:1] in (b"{", b"[") and b'"results"' in h and _API.search(h) else 0

    def map_report(self, doc: msgspec.Raw, data: bytes, source: str) -> Decoded:
        """Map every result of every report; a bad report or result is dead-lettered alone."""
        out = Decoded()
        found: list[_Found] = []
        for i, rep in enumerate(self._reports(bytes(doc), source, out)):
            results = [bytes(r) for r in rep.results or ()]
            if not results:
                continue
            typed, top = decode_top(results, [(source, i)] * len(results), _Result, _MAPPED, (), out, source, self.name,
                                    "a policy report result")  # fmt: skip
            head = _header(rep)
            found += [_Found(rep, r, b'{"report":' + head + b',"result":' + x + b"}", u)
                      for r, x, u in zip(typed.recs, typed.raws, top.unmapped.to_pylist(), strict=True)]  # fmt: skip
        out.events = len(found) + len(out.dead)
        vulns = [f for f in found if (f.result.category or "").lower() in _VULN_CATEGORIES]
        if vulns:
            found = [f for f in found if (f.result.category or "").lower() not in _VULN_CATEGORIES]
            out.batches.append(self._vulnerabilities(vulns))
        if found:
            out.batches.append(self._batch(found))
        return out

    def _reports(self, doc: bytes, source: str, out: Decoded) -> list[_Report]:
        """The document's reports (a List's items, an array's entries, or itself); bad ones dead-lettered."""
        if doc.lstrip()[:1] == b"[":
            raws = [bytes(r) for r in msgspec.json.decode(doc, type=list[msgspec.Raw])]
        else:
            top = msgspec.json.decode(doc, type=_Doc)
            raws = [bytes(r) for r in top.items] if top.items is not None and top.results is None else [doc]
        typed = decode_typed(raws, list(range(len(raws))), _Report, out, source, self.name, "a policy report")
        return typed.recs

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document; one that is not a report, List or array of them is dead-lettered whole."""
        try:
            return super().decode(data, source)
        except msgspec.DecodeError as exc:  # a List or array whose top level is not of the shape
            return self.dead(f"not {self.what}: {exc}", source, data)

    def _finding(self, cls: str, fs: list[_Found]) -> dict[str, pa.Array]:
        """The columns a result's finding has whatever its class: time, product, resources, title, uid."""
        n = len(fs)
        rs = [f.result for f in fs]
        sev = severity_ids([r.severity for r in rs])
        raws = [f.raw for f in fs]
        reported = parse_times([(f.report.metadata or _NO_META).creationTimestamp for f in fs])
        times = pc.coalesce(pa.array([_ms(r.timestamp) for r in rs], pa.int64()), reported)
        cols = base_columns(cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=times, raws=raws, activity_id=1, severity_id=sev)  # fmt: skip
        products = strs([r.source or f.report.source or None for r, f in zip(rs, fs, strict=True)])
        cols["metadata.product.name"] = pc.fill_null(products, self.product)
        refs = [_refs(f) for f in fs]
        spaces = [(f.report.metadata or _NO_META).namespace for f in fs]
        resources = pa.array([[{"type": x.kind, "name": x.name, "namespace": x.namespace or ns, "uid": x.uid,
                                "version": x.apiVersion} for x in rf] or None
                              for rf, ns in zip(refs, spaces, strict=True)], _RES)  # fmt: skip
        msg = strs([r.message or None for r in rs])
        # (not binary_join_element_wise's null_handling="skip": pyarrow 26 drops a row whose inputs are all null)
        title = pc.coalesce(msg, strs([" ".join(x for x in (r.policy, r.rule) if x) or None for r in rs]))
        first = [rf[0] if rf else _NO_REF for rf in refs]
        where = [f"{x.kind}/{x.namespace or ns or ''}/{x.name}" for x, ns in zip(first, spaces, strict=True)]
        key = strs([f"{r.policy}|{r.rule}|{w}" for r, w in zip(rs, where, strict=True)])
        status = const(1, n, pa.int32())
        cols.update({
            "status_id": status,
            "status": captions(cls, "status_id", status),
            "message": title,
            "finding_info.uid": distinct_uids(key, products),
            "finding_info.title": title,
            "finding_info.desc": msg,
            "finding_info.types": pa.array([[r.category] if r.category else None for r in rs], STR_LIST),
            "finding_info.product.name": pc.fill_null(products, self.product),
            "resources": resources,
            "unmapped": strs([f.unmapped for f in fs]),
        })  # fmt: skip
        return cols

    def _batch(self, fs: list[_Found]) -> pa.RecordBatch:
        cols = self._finding(_CLS, fs)
        rs = [f.result for f in fs]
        words = [(r.result or r.status or "").lower() for r in rs]
        got = [_STATUS.get(w, _UNKNOWN) for w in words]
        cstatus, ccaption = pa.array([g[0] for g in got], pa.int32()), strs([g[1] for g in got])
        policy, rule = strs([r.policy for r in rs]), strs([r.rule for r in rs])
        check = nest({"uid": rule, "name": rule, "status": ccaption, "status_id": cstatus})
        cols.update({
            "compliance.control": policy,
            "compliance.category": strs([r.category or None for r in rs]),
            "compliance.status_id": cstatus,
            "compliance.status": ccaption,
            "compliance.status_code": strs([w or None for w in words]),
            "compliance.checks": singleton_list(only_where(check, rule), rule.is_valid()),
        })  # fmt: skip
        return to_batch(_CLS, cols)

    def _vulnerabilities(self, fs: list[_Found]) -> pa.RecordBatch:
        """Vulnerability Findings of the results of a vulnerability scan (module docstring)."""
        cols = self._finding(_VULN_CLS, fs)
        cols["vulnerabilities"] = pa.array([[_vulnerability(f.result)] for f in fs], _VULN)
        return to_batch(_VULN_CLS, cols)


_VULN_CLS = "vulnerability_finding"
#: the ``category`` of a vulnerability scanner's results: trivy-operator-polr-adapter's (``Vulnerability Scan``,
#: ``pkg/adapters/vulnr``), and the word other image scanners' reports use
_VULN_CATEGORIES = frozenset({"vulnerability scan", "vulnerability"})
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
#: a CVSS score a property gives (the adapter's ``<source>.v3_score`` / ``v3_vector``, ``v2_*``)
_CVSS_KEY = re.compile(r"^(?P<source>[\w-]+)\.v(?P<v>[23])_score$")
_CVSS = pa.struct([("version", S), ("base_score", pa.float64()), ("vector_string", S), ("vendor_name", S)])
_VULN = pa.list_(pa.struct([
    ("cve", pa.struct([("uid", S), ("cvss", pa.list_(_CVSS))])), ("title", S), ("severity", S), ("vendor_name", S),
    ("affected_packages", pa.list_(pa.struct([("name", S), ("version", S), ("fixed_in_version", S)]))),
    ("references", pa.list_(S)), ("is_fix_available", pa.bool_()),
]))  # fmt: skip


def _prop(props: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = props.get(k)
        if v is not None and v != "":
            return str(v)
    return None


def _vulnerability(r: _Result) -> dict[str, Any]:
    """The vulnerability a scanner's result names: the policy its id (a CVE's as ``cve.uid``), the message its
    title, the package and versions from the properties (the adapter's ``resource``, ``installedVersion``,
    ``fixedVersion``, ``primaryLink``; Kyverno image scanners' ``pkgName``, ``primaryURL``), the CVSS scores."""
    props = r.properties or {}
    cvss = []
    for k, v in props.items():
        m = _CVSS_KEY.match(k)
        if m is None:
            continue
        try:
            score = float(v)
        except (TypeError, ValueError):
            continue
        vector = _prop(props, f"{m['source']}.v{m['v']}_vector")
        version = vector[5:8] if vector and vector.startswith("CVSS:") else f"{m['v']}.0"
        cvss.append({"version": version, "base_score": score, "vector_string": vector, "vendor_name": m["source"]})
    fixed = _prop(props, "fixedVersion", "fixed_version")
    name = _prop(props, "resource", "pkgName", "package", "pkg_name")
    link = _prop(props, "primaryLink", "primaryURL", "primary_url")
    uid = r.policy if r.policy and _CVE.match(r.policy) else None
    return {
        "cve": {"uid": uid, "cvss": cvss or None} if uid or cvss else None,
        "title": r.message or r.policy, "severity": r.severity.title() if r.severity else None,
        "vendor_name": r.source,
        "affected_packages": [{"name": name, "version": _prop(props, "installedVersion", "installed_version"),
                               "fixed_in_version": fixed}] if name else None,
        "references": [link] if link else None, "is_fix_available": True if fixed else None,
    }  # fmt: skip


_API = re.compile(rb'"apiVersion"\s*:\s*"(?:wgpolicyk8s\.io|openreports\.io)/')

__all__ = ["PolicyReport"]
