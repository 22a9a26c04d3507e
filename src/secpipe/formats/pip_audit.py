"""pip-audit JSON reports (``pip-audit -f json``): ``{"dependencies": [...], "fixes": [...]}``, or the
bare list of dependencies pip-audit 1.x wrote.

One **Vulnerability Finding (2002)** per vulnerability of an audited dependency
(``dependencies[].vulns[]``): ``affected_packages[0]`` = the dependency's name and version (PyPI;
``fix_versions`` joined as ``fixed_in_version``, ``is_fix_available`` when there is one); the first
CVE among the vulnerability's ``id`` and ``aliases`` is ``cve.uid``, else its id (PYSEC-, GHSA-,
OSV ids) is the ``advisory`` (OCSF 1.8.0 allows one of advisory / cve / cwe); the other ids are
``related_vulnerabilities``; ``description`` -> desc (pip-audit gives no title: the id is the
title). pip-audit rates no severity (Unknown) and writes no time (the receipt time and its
label). A dependency pip-audit skipped (``skip_reason``: not on PyPI, an editable install) holds
no finding. ``finding_info.uid`` = ``<id>|<name>@<version>``; ``raw_data`` the dependency with that
one vulnerability, compact.

Dead letters: a document that is not JSON or not of the report's shape whole; one dependency of
the wrong shape alone. A report without vulnerabilities holds no event. Recognized by the
``dependencies`` list whose first entry is a name beside a version or skip reason.
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    STR_LIST,
    ReportFormat,
    S,
    captions,
    distinct_uids,
    nest,
    only_where,
    singleton_list,
)
from secpipe.formats.base import BOM, DeadLetter, Decoded, base_columns, const, event_uids, strs, to_batch


class _Vuln(msgspec.Struct, gc=False):
    id: str | None = None
    fix_versions: list[str] | None = None
    aliases: list[str] | None = None
    description: str | None = None


class _Dependency(msgspec.Struct, gc=False):
    name: str | None = None
    version: str | None = None
    vulns: list[_Vuln] | None = None


class _Report(msgspec.Struct):
    dependencies: list[msgspec.Raw]


_CLS = "vulnerability_finding"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_DEPENDENCY = msgspec.json.Decoder(_Dependency)
_ENC = msgspec.json.Encoder()


def _one(raw: bytes, d: _Dependency, i: int) -> bytes:
    """The dependency's JSON with its ``i``-th vulnerability alone."""
    if len(d.vulns or ()) == 1:
        return raw
    doc = msgspec.json.decode(raw)
    return _ENC.encode({**doc, "vulns": [doc["vulns"][i]]})


class PipAudit(ReportFormat):
    """pip-audit JSON reports."""

    name = "pip_audit"
    report_type = _Report
    what = "a pip-audit JSON report"
    description = "pip-audit -f json -> Vulnerability Finding (2002) per dependency vulnerability"
    framing = "document"
    product = "pip-audit"
    vendor = "PyPA"

    def sniff(self, head: bytes) -> int:
        """Recognize the dependencies list (or pip-audit 1.x's bare list) by its first entry's keys."""
        return 90 if _HEAD.match(head[:65536]) else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one report; pip-audit 1.x's bare list as the report's dependencies."""
        if bytes(data[:4096]).removeprefix(BOM).lstrip()[:1] == b"[":  # (a body may come as any buffer)
            data = b'{"dependencies":' + bytes(data).removeprefix(BOM) + b"}"
        return super().decode(data, source)

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map each dependency's vulnerabilities; a dependency of the wrong shape is dead-lettered alone."""
        out = Decoded()
        found: list[tuple[_Dependency, _Vuln, bytes]] = []
        for i, r in enumerate(report.dependencies):
            raw = bytes(r)
            try:
                d = _DEPENDENCY.decode(raw)
            except msgspec.DecodeError as exc:
                out.dead.append(DeadLetter(f"not a pip-audit dependency: {exc}", source, i, raw, self.name))
                continue
            found.extend((d, v, _one(raw, d, k)) for k, v in enumerate(d.vulns or ()))
        out.events = len(found) + len(out.dead)
        if found:
            out.batches.append(self._batch(found))
        return out

    def _batch(self, found: list[tuple[_Dependency, _Vuln, bytes]]) -> pa.RecordBatch:
        n = len(found)
        raws = [r for _d, _v, r in found]
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=0)  # fmt: skip
        ids = strs([v.id for _d, v, _r in found])
        every = [list(dict.fromkeys(x for x in (v.id, *(v.aliases or ())) if x)) for _d, v, _r in found]
        cve = strs([next((x for x in e if _CVE.match(x)), None) for e in every])
        adv = pc.if_else(cve.is_valid(), pa.scalar(None, S), ids)
        primary = pc.coalesce(cve, ids)
        names, versions = strs([d.name for d, _v, _r in found]), strs([d.version for d, _v, _r in found])
        fixed = strs([", ".join(v.fix_versions) if v.fix_versions else None for _d, v, _r in found])
        desc = strs([v.description for _d, v, _r in found])
        pkg = nest({"name": names, "version": versions, "package_manager": const("PyPI", n, S), "fixed_in_version": fixed})
        vuln = nest({
            "title": ids,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", const(0, n, pa.int32())),
            "related_vulnerabilities": pa.array([[x for x in e if x != p] or None
                                                 for e, p in zip(every, primary.to_pylist(), strict=True)], STR_LIST),
            "is_fix_available": fixed.is_valid(),
            "cve": only_where(nest({"uid": cve, "title": ids, "desc": desc}), cve),
            "advisory": only_where(nest({"uid": adv, "title": ids, "desc": desc}), adv),
            "affected_packages": singleton_list(pkg, pc.and_(names.is_valid(), versions.is_valid())),
        })  # fmt: skip
        at = pc.binary_join_element_wise(pc.fill_null(names, "None"), pc.fill_null(versions, "None"), "@")
        status = const(1, n, pa.int32())
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": pc.binary_join_element_wise(pc.fill_null(ids, "None"), at, " in "),
            "finding_info.uid": distinct_uids(pc.binary_join_element_wise(pc.fill_null(ids, "None"), at, "|")),
            "finding_info.title": ids,
            "finding_info.desc": desc,
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "finding_info.product.name": const(self.product, n, S),
            "vulnerabilities": singleton_list(vuln),
        })  # fmt: skip
        return to_batch(_CLS, cols)


#: the dependencies list (or pip-audit 1.x's bare list) opening with a name beside a version or skip reason
_HEAD = re.compile(rb'^(?:\xef\xbb\xbf)?\s*(?:\{\s*"dependencies"\s*:\s*)?\[\s*\{\s*"name"\s*:\s*"[^"]*"\s*,\s*'
                   rb'(?:"version"\s*:\s*"[^"]*"\s*,\s*"vulns"|"skip_reason")\s*:')  # fmt: skip

__all__ = ["PipAudit"]
