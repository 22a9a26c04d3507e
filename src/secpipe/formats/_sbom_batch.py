"""The Vulnerability Finding batch of a CycloneDX BOM's vulnerabilities (for :mod:`.sbom`): one event per
vulnerability x ``affects[]`` entry, from the field columns of :mod:`._sbom_vulns` and the packages their refs
resolve to (:mod:`._sbom_components`), with the BOM's metadata (its tool: product, vendor and version; its
subject component: the first ``resources`` entry and the message; its timestamp: the findings' time).
"""

from __future__ import annotations

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import (
    RESOURCES,
    STR_LIST,
    S,
    json_col,
    nest,
    nonempty,
    objects_where,
    only_where,
    or_null,
    raw_data,
    report_time,
    singleton_list,
    unmapped_items,
)
from secpipe.formats._sbom_components import Component, Packages
from secpipe.formats._sbom_components import props as _props
from secpipe.formats._sbom_vulns import VulnCols, kept
from secpipe.formats.base import (
    Format,
    TimeField,
    base_columns,
    const,
    event_uids,
    parse_times,
    to_batch,
    uid_prefix,
)


class _Org(msgspec.Struct, gc=False):
    name: str | None = None


class _Tool(msgspec.Struct, gc=False):
    """A 1.4 ``tools[]`` entry (``vendor``) or a 1.5+ ``tools.components[]`` component, whose maker is its
    ``publisher``, ``supplier``, ``manufacturer`` (1.6) or, deprecated in 1.6 but written (Grype), ``author``."""

    vendor: str | None = None
    publisher: str | None = None
    supplier: _Org | None = None
    manufacturer: _Org | None = None
    group: str | None = None
    author: str | None = None
    name: str | None = None
    version: str | None = None

    def maker(self) -> str | None:
        """The tool's vendor as the BOM names it (None when it names none)."""
        orgs = (self.supplier, self.manufacturer)
        return self.vendor or self.publisher or next((o.name for o in orgs if o and o.name), None) or self.group or self.author


class _Tools(msgspec.Struct, gc=False):
    components: list[_Tool] | None = None
    services: list[_Tool] | None = None


class Meta(msgspec.Struct, gc=False):
    timestamp: TimeField = None
    tools: list[_Tool] | _Tools | None = None
    component: Component | None = None


class MetaShell(msgspec.Struct, gc=False):
    """:class:`Meta` with its component left raw: read when ``Meta`` is refused, so a subject of the wrong
    type is dead-lettered alone (a timestamp or tools of the wrong type still refuse the BOM)."""

    timestamp: TimeField = None
    tools: list[_Tool] | _Tools | None = None
    component: msgspec.Raw = msgspec.Raw(b"")


_RESOURCES = RESOURCES


def _tool(meta: Meta) -> _Tool | None:
    t = meta.tools
    if isinstance(t, _Tools):
        items = (t.components or []) + (t.services or [])
    else:
        items = t or []
    return next((x for x in items if x.name), None)


def findings_batch(fmt: Format, v: VulnCols, meta: Meta, pk: Packages, serial: str | None,
              spec: str, origin: tuple[str, str] | None = None) -> pa.RecordBatch:
    """The batch from the vulnerabilities' columns of either path (:func:`native_cols`, :func:`typed_cols`);
    ``origin``: the product named when no tool is, and the log version, of a document read as the
    CycloneDX it stands for (SPDX 3)."""
    # one event per vulnerability x affects[] entry (one with no package when affects is empty)
    rows, refs = v.rows, v.refs
    take = pa.array(rows)
    n = len(rows)
    subject = meta.component or Component()
    tool = _tool(meta) or _Tool()
    product = tool.name or (origin[0] if origin else fmt.product)
    if origin:
        spec = origin[1]
    ids = v.ids
    raws = [v.raws[i] for i in rows.tolist()]
    ref_col = refs
    created = const(report_time(meta.timestamp), n, pa.int64())  # Go's zero time is no time
    cols = base_columns(
        "vulnerability_finding", kind=fmt.name, product=product, vendor=tool.maker(),
        uids=_uids(fmt.name, raws, f"{serial}\0{subject.bom_ref or subject.name}\0", ref_col), times_ms=created,
        raws=None, activity_id=1,
        severity_id=v.sev_id.take(take),
    )  # fmt: skip
    cols["raw_data"] = raw_data(raws)
    desc = v.desc
    pub = parse_times(v.published)
    mod = parse_times(v.updated)
    rec = v.recommendation
    has_fix = pc.or_(nonempty(rec), v.update)  # a recommendation, or an "update" response
    taken: dict[int, pa.Array] = {}

    def per_event(arr: pa.Array) -> pa.Array:
        """A per-vulnerability column taken to events once (desc is used three times)."""
        got = taken.get(id(arr))
        if got is None:
            got = taken[id(arr)] = arr.take(take)
        return got

    # OCSF 1.8.0: a cve's uid is a CVE id, and a vulnerability has just one of advisory / cve / cwe: an id
    # that is no CVE (GHSA-, OSV's PYSEC-/GO-, SNYK- ...) is the advisory, its weakness in related_cwes
    is_cve = pc.fill_null(pc.match_substring_regex(ids, "^CVE-"), False)
    none_s = pa.scalar(None, S)
    cve_id = pc.if_else(is_cve, ids, none_s)
    adv = pc.if_else(is_cve, none_s, or_null(ids))
    adv_cwe = pc.if_else(is_cve, none_s, v.cwe)
    per_vuln = {
        "title": ids,
        "desc": desc,
        "severity": v.sev_word,
        "vendor_name": v.source_name,
        "references": v.advisories,
        "related_vulnerabilities": v.references,
        "is_fix_available": has_fix,
        "cve.uid": cve_id,
        # the CVE's weakness; no cwe object without its uid, no remediation object without its
        "cve.cwe": only_where(nest({"uid": v.cwe}), v.cwe),
        "cve.title": ids,
        "cve.desc": desc,
        "cve.created_time": pub,
        "cve.modified_time": mod,
        "cve.references": kept(np.arange(len(v.source_url) + 1), v.source_url),
        "cve.cvss": v.cvss,
        "advisory.uid": adv,
        "advisory.title": ids,
        "advisory.desc": desc,
        "advisory.created_time": pub,
        "advisory.modified_time": mod,
        "advisory.src_url": v.source_url,
        "advisory.related_cwes": singleton_list(nest({"uid": adv_cwe}), adv_cwe.is_valid()),
        "remediation": only_where(nest({"desc": rec}), rec),  # required key (OCSF 1.8.0)
    }  # fmt: skip
    vuln = objects_where(nest({k: per_event(a) for k, a in per_vuln.items()}),
                         {"cve": per_event(cve_id), "advisory": per_event(adv)})  # fmt: skip
    # an advisory's ratings: OCSF holds CVSS only in a cve, so they stay in unmapped as they came
    aside = pc.if_else(pc.and_(pc.invert(is_cve), pc.is_valid(v.ratings)),
                       pc.binary_join_element_wise('"ratings":', v.ratings, ""), none_s)
    names = pk.name
    pkg = nest({
        "name": names,
        "version": pc.if_else(nonempty(pk.version), pk.version, v.affected),
        "fixed_in_version": pa.nulls(n, S),
        "type": pk.type,
        "purl": pk.purl,
        "uid": pk.uid,
        "path": pk.path,
    })  # fmt: skip
    has_pkg = pc.is_valid(pkg.field("uid"))  # uid is the ref itself when nothing better is known
    # OCSF requires a package's name and version: a ref that resolves to neither stays a resource
    has_pkg = pc.and_(has_pkg, pc.and_(pc.is_valid(pkg.field("name")), pc.is_valid(pkg.field("version"))))
    children = [vuln.field(i) for i in range(vuln.type.num_fields)] + [singleton_list(pkg, has_pkg)]
    vuln = pa.StructArray.from_arrays(children, names=[*(f.name for f in vuln.type), "affected_packages"])
    res = _resources(subject, pkg.field("name"), pk.component_type, ref_col)
    vid = per_event(pc.if_else(nonempty(ids), ids, v.bom_refs))  # id or bom-ref
    # "<vid>|<ref>" where the event has a ref (a vulnerability with neither id nor bom-ref reads "None")
    fuid = pc.if_else(nonempty(ref_col), pc.binary_join_element_wise(pc.fill_null(vid, "None"), ref_col, "|"), vid)
    cols.update({
        "status_id": v.status_id.take(take),
        "status": v.status.take(take),
        "status_code": v.state.take(take),
        "status_detail": v.detail.take(take),
        "finding_info.uid": fuid,
        "finding_info.uid_alt": v.bom_refs.take(take),
        "finding_info.title": per_event(ids),
        "finding_info.desc": per_event(desc),
        "finding_info.types": const(["Vulnerability"], n, STR_LIST),
        "finding_info.src_url": v.source_url.take(take),
        "finding_info.created_time": created,
        "finding_info.first_seen_time": per_event(pub),
        "finding_info.modified_time": per_event(mod),
        "finding_info.product.name": const(product, n),
        "metadata.product.version": const(tool.version, n),
        "metadata.log_version": const(spec, n),
        "message": message(per_event(ids), names, subject.name),
        "vulnerabilities": singleton_list(vuln),
        "resources": res,
        "unmapped": unmapped_items(v.unmapped, aside).take(take),
    })  # fmt: skip
    return to_batch("vulnerability_finding", cols)


def _uids(kind: str, raws: list[bytes], head: str, refs: pa.Array) -> pa.Array:
    """``event_uids`` of the events with contexts ``head + ref`` (``"None"`` for no ref), the
    contexts joined and encoded by Arrow (native hashing; ``event_uids`` itself without it)."""
    ctx = pc.binary_join_element_wise(head, pc.fill_null(refs, "None"), "")
    got = _fast.uids(uid_prefix(kind), raws, ctx.cast(pa.binary()).to_pylist())
    return got if got is not None else event_uids(kind, raws, ctx.to_pylist())


def message(ids: pa.Array, names: pa.Array, subject: str | None) -> pa.Array:
    """``"<id> in <package> in <subject>"`` per event, the empty parts left out (and the subject
    when it is the package), with Arrow string kernels."""
    given = [or_null(ids), or_null(names)]
    if subject:  # the subject's name unless it is the package's
        given.append(pc.if_else(pc.fill_null(pc.equal(names, subject), False), pa.scalar(None, S), subject))
    out = given[0]
    for part in given[1:]:
        both = pc.and_(pc.is_valid(out), pc.is_valid(part))
        out = pc.if_else(both, pc.binary_join_element_wise(out, part, " in "), pc.coalesce(out, part))
    return pc.fill_null(out, "")


def _resources(subject: Component, names: pa.Array, types: pa.Array, refs: pa.Array) -> pa.Array:
    """``resources[]`` per event: the BOM subject, then the affected component when there is a ref
    (built from flat columns: one subject row, the component rows, a take and offsets)."""
    props = _props(subject)
    data = {k: v for k, v in (("version", subject.version), ("purl", subject.purl)) if v}
    subj = {"type": subject.type, "name": subject.name,
            "uid": props.get("aquasecurity:trivy:ImageID") or subject.purl or subject.bom_ref,
            "labels": None, "data": json_col([data]).to_pylist()[0]}  # fmt: skip
    item = _RESOURCES.value_type
    n = len(refs)
    comp = nest({"type": types, "name": names, "uid": refs, "labels": pa.nulls(n, STR_LIST), "data": pa.nulls(n, S)})
    values = pa.concat_arrays([pa.array([subj], item), comp.cast(item)])
    has = np.asarray(pc.is_valid(refs).to_numpy(zero_copy_only=False), bool)
    # a BOM naming no subject (no metadata.component: Grype's, Syft's of a directory) has none to list
    # (OCSF: a resource needs a name or uid); an event with neither a subject nor a ref has no resources
    own = int(bool(subj["name"] or subj["uid"]))
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(own + has, out=offsets[1:])
    idx = np.zeros(offsets[-1], np.int32)  # 0: the subject row
    idx[offsets[:-1][has] + own] = 1 + np.flatnonzero(has)
    empty = offsets[1:] == offsets[:-1]
    return pa.ListArray.from_arrays(pa.array(offsets), values.take(pa.array(idx)), mask=pa.array(empty) if empty.any() else None)


__all__ = ["Meta", "findings_batch", "message"]
