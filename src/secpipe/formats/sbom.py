"""Software bills of materials: CycloneDX JSON (1.2-1.6) and SPDX 2.x JSON.

Scanners and SBOM tools in CI (``trivy --format cyclonedx|spdx-json``, Syft, Grype, cdxgen,
Dependency-Track exports) emit these documents; one format recognizes both.

What becomes an event:

- CycloneDX ``vulnerabilities[]`` (spec 1.4+, also VEX documents) -> Vulnerability Finding
  (2002), one event per vulnerability x ``affects[].ref`` (a vulnerability without ``affects``
  is one event with no package). The columns are the ones :mod:`secpipe.formats.trivy` builds
  for the same CVE: ``vulnerabilities[0]`` with ``cve.uid`` = id, ``cve.cvss[]`` from the CVSS
  ratings (method CVSSv2/v3/v31/v4 -> version; score, vector, rating source as
  ``vendor_name``), ``cwe.uid`` ``CWE-<n>``, references = advisory URLs,
  ``related_vulnerabilities`` = ``references[].id`` (GHSA, SNYK ...), ``remediation.desc`` =
  recommendation, published/updated times, and ``affected_packages[0]`` resolved from the ref:
  ``components[]`` (nested components too) and ``metadata.component`` by ``bom-ref``, a BOM-link
  (``urn:cdx:<serial>/<version>#<bom-ref>``) by its fragment, and an unresolvable ref that is a
  package URL by parsing the purl. Trivy's component properties give the package type
  (``aquasecurity:trivy:PkgType``), uid (``PkgID``) and path (``FilePath``), as in its JSON report.
- Severity: the highest of the vulnerability's ratings (critical 5, high 4, medium 3, low 2,
  info/none 1, unknown 0; a rating with a score but no severity word is scored like CVSS).
- VEX: ``analysis.state`` not_affected / false_positive -> status Suppressed (3), resolved /
  resolved_with_pedigree -> Resolved (4), in_triage -> In Progress (2), exploitable or no
  analysis -> New (1), anything else -> Other (99, ``status`` = the state word). The state word
  goes to ``status_code``, ``analysis.detail`` to ``status_detail``; the whole analysis (with
  justification and response) stays in ``unmapped``.
- ``resources[0]`` is the BOM subject (``metadata.component``: type, name, uid = Trivy ImageID
  property, purl or bom-ref), ``resources[1]`` the affected component (type, name, uid = ref).
  ``time`` and ``finding_info.created_time`` are ``metadata.timestamp`` (without it, the receipt
  time and the ``secpipe:time_from_receipt`` label); ``metadata.product`` is the first tool of
  ``metadata.tools`` (1.4 list or 1.5+ object), else "CycloneDX".

What does not: a CycloneDX BOM without vulnerabilities, and every SPDX 2.x document, hold no
security event. ``decode`` checks their shape and returns a result with 0 events and no dead
letter (the ingest summary still counts the file). The component inventory is not stored as
events because no OCSF event class is a per-component inventory record in this pipeline yet
(Inventory Info 5001 describes a device, not a software package list); storing components as
findings would invent findings that the document does not state.

Guarantees: a document that is not JSON, or whose keys have the wrong JSON types, is
dead-lettered whole with msgspec's reason and path; one vulnerability of the wrong shape is
dead-lettered alone (``source``, ordinal) and the others go on. Event identity hashes the BOM
serial number, subject, ref and the vulnerability's canonical bytes, so a redelivered BOM
collapses while one CVE in two components stays two events. XML CycloneDX, SPDX tag-value and
SPDX 3 JSON-LD are not recognized (they fall to the unrecognized-input dead letter).

Performance: only the top-level keys are read first (one msgspec pass that skips values), so
an inventory-only BOM costs one scan and its components are never compacted or decoded. With
vulnerabilities, the ``vulnerabilities`` array alone is compacted (canonical slices for identity
and ``raw_data``) and decoded in one msgspec call into a struct listing every CycloneDX 1.6 key
(unknown keys or a wrong type fall back to the per-record strict decode, which keeps extra keys
in ``unmapped`` and isolates bad records); components are decoded into a small struct only
then, each ref resolved once; columns are built per vulnerability and expanded to events with
one ``take``, and the cyclic GC is paused while a document is mapped.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.errors import DecodeError
from secpipe.formats._findings import (
    CVSS_LIST,
    RESOURCES,
    SEVERITY_WORDS,
    STR_LIST,
    ReportFormat,
    S,
    captions,
    json_col,
    nest,
    paused_gc,
    raw_data,
    record_bytes,
    singleton_list,
    str_lists,
    strs,
)
from secpipe.formats.base import (
    BOM,
    Decoded,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    parse_times,
    to_batch,
    unmapped_from,
)

_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


class _Source(msgspec.Struct, gc=False):
    name: str | None = None
    url: str | None = None


class _Rating(msgspec.Struct, gc=False):
    source: _Source | None = None
    score: float | None = None
    severity: str | None = None
    method: str | None = None
    vector: str | None = None


class _Ref(msgspec.Struct, gc=False):
    id: str | None = None
    source: _Source | None = None


class _Advisory(msgspec.Struct, gc=False):
    title: str | None = None
    url: str | None = None


class _Version(msgspec.Struct, gc=False):
    version: str | None = None
    range: str | None = None
    status: str | None = None


class _Affect(msgspec.Struct, gc=False):
    ref: str
    versions: list[_Version] | None = None


class _Analysis(msgspec.Struct, gc=False, omit_defaults=True):
    state: str | None = None
    justification: str | None = None
    response: list[str] | str | None = None  # an array in the spec; some producers write one word
    detail: str | None = None
    firstIssued: str | None = None  # noqa: N815 (CycloneDX key)
    lastUpdated: str | None = None  # noqa: N815


class _Vuln(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every CycloneDX 1.6 vulnerability key: mapped ones typed, the rest raw for ``unmapped``."""

    bom_ref: str | None = msgspec.field(default=None, name="bom-ref")
    id: str | None = None
    source: _Source | None = None
    references: list[_Ref] | None = None
    ratings: list[_Rating] | None = None
    cwes: list[int] | None = None
    description: str | None = None
    recommendation: str | None = None
    advisories: list[_Advisory] | None = None
    published: str | None = None
    updated: str | None = None
    analysis: _Analysis | None = None
    affects: list[_Affect] | None = None
    detail: _R = _NONE
    workaround: _R = _NONE
    proofOfConcept: _R = _NONE  # noqa: N815
    created: _R = _NONE
    rejected: _R = _NONE
    credits: _R = _NONE
    tools: _R = _NONE
    properties: _R = _NONE


_UNMAPPED = ("detail", "workaround", "proofOfConcept", "created", "rejected", "credits", "tools", "properties")


class _Prop(msgspec.Struct, gc=False):
    name: str | None = None
    value: str | None = None


class _Comp(msgspec.Struct, gc=False):
    bom_ref: str | None = msgspec.field(default=None, name="bom-ref")
    type: str | None = None
    group: str | None = None
    name: str | None = None
    version: str | None = None
    purl: str | None = None
    properties: list[_Prop] | None = None
    components: list[_Comp] | None = None


class _Tool(msgspec.Struct, gc=False):
    vendor: str | None = None
    group: str | None = None
    name: str | None = None
    version: str | None = None


class _Tools(msgspec.Struct, gc=False):
    components: list[_Tool] | None = None
    services: list[_Tool] | None = None


class _Meta(msgspec.Struct, gc=False):
    timestamp: str | None = None
    tools: list[_Tool] | _Tools | None = None
    component: _Comp | None = None


class _Spdx(msgspec.Struct):
    """The SPDX 2.x keys whose JSON types are checked (the document holds no event)."""

    spdxVersion: str  # noqa: N815
    SPDXID: str  # noqa: N815
    name: str | None = None
    documentNamespace: str | None = None  # noqa: N815
    creationInfo: dict[str, Any] | None = None  # noqa: N815
    packages: list[dict[str, Any]] | None = None
    files: list[dict[str, Any]] | None = None
    relationships: list[dict[str, Any]] | None = None


class _BadKey(DecodeError):
    """A top-level key of the wrong JSON type (msgspec's reason with the key's path); the
    document is dead-lettered with it."""


_DECODERS: dict[Any, msgspec.json.Decoder] = {}


def _field(top: dict[str, msgspec.Raw], key: str, type_: Any, default: Any = None) -> Any:
    raw = top.get(key)
    if raw is None:
        return default
    dec = _DECODERS.get(type_)
    if dec is None:
        dec = _DECODERS[type_] = msgspec.json.Decoder(type_)
    try:
        return dec.decode(raw)
    except msgspec.DecodeError as exc:
        msg = str(exc)
        raise _BadKey(msg.replace("`$", f"`$.{key}", 1) if "`$" in msg else f"{msg} - at `$.{key}`") from exc


#: analysis.state -> finding status_id (OCSF Vulnerability Finding status enum).
_STATE = {"not_affected": 3, "false_positive": 3, "resolved": 4, "resolved_with_pedigree": 4, "in_triage": 2,
          "exploitable": 1}  # fmt: skip
_CVSS_VERSION = {"cvssv2": "2.0", "cvssv3": "3.0", "cvssv31": "3.1", "cvssv4": "4.0"}
_RESOURCES = RESOURCES
_SPEC = re.compile(r"^1\.\d+$")
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_VULNS = msgspec.json.Decoder(list[_Vuln])


def _score_sev(score: float) -> int:
    """One CVSS-style score -> severity_id, with the thresholds of ``_findings.score_severity_ids``
    (that one works on Arrow columns; a rating without a severity word is rare and scalar here)."""
    return 5 if score >= 9 else 4 if score >= 7 else 3 if score >= 4 else 2 if score > 0 else 1


def _rate(ratings: list[_Rating] | None) -> tuple[int, str | None, list[dict[str, Any]] | None]:
    """(severity_id, severity word) of the highest rating ((0, None) without ratings), and the
    ``cve.cvss[]`` entries of the CVSS ratings (None when there are none)."""
    best, word, cvss = -1, None, []
    for r in ratings or ():
        w = r.severity
        sev = SEVERITY_WORDS.get(w.lower(), 0) if w else _score_sev(r.score) if r.score is not None else 0
        if sev > best:
            best, word = sev, w
        ver = _CVSS_VERSION.get(r.method.lower()) if r.method else None
        if ver and (r.vector or r.score is not None):
            cvss.append({"version": ver, "base_score": r.score, "vector_string": r.vector,
                         "vendor_name": r.source.name if r.source else None})  # fmt: skip
    return max(best, 0), word, cvss or None


def _purl(p: str) -> tuple[str | None, str | None, str | None]:
    """(type, name, version) of a package URL (``pkg:type/ns/name@version?q#sub``)."""
    body = p[4:].split("#", 1)[0].split("?", 1)[0]
    path, _, ver = body.rpartition("@") if "@" in body else (body, "", "")
    ptype, *parts = [unquote(x) for x in path.split("/")]
    if not parts:
        return ptype or None, None, unquote(ver) or None
    sep = _NS_JOIN.get(ptype.lower())
    name = sep.join(parts) if sep and len(parts) > 1 else parts[-1]
    return ptype or None, name, unquote(ver) or None


#: purl types whose namespace is part of the package name (as Trivy names them); others (deb,
#: rpm, apk: the namespace is the distro) keep the last segment.
_NS_JOIN = {"maven": ":", "npm": "/", "golang": "/", "composer": "/", "swift": "/", "github": "/", "cocoapods": "/"}


def _walk(comps: list[_Comp] | None, into: dict[str, _Comp]) -> None:
    stack = list(comps or ())
    while stack:
        c = stack.pop()
        if c.bom_ref is not None:
            into.setdefault(c.bom_ref, c)
        if c.components:
            stack.extend(c.components)


_TRIVY_PROPS = frozenset(f"aquasecurity:trivy:{k}" for k in ("PkgType", "PkgID", "FilePath", "ImageID"))


def _props(c: _Comp) -> dict[str, str]:
    """The Trivy properties the mapping reads (first value of each)."""
    out: dict[str, str] = {}
    for p in c.properties or ():
        if p.name in _TRIVY_PROPS and p.value is not None:
            out.setdefault(p.name, p.value)
    return out


def _package(ref: str | None, comps: dict[str, _Comp]) -> tuple[Any, ...]:
    """(name, version, purl, type, uid, path, component type) of one affected ref."""
    if ref is None:
        return (None,) * 7
    c = comps.get(ref)
    frag = ref.split("#", 1)[1] if ref.startswith("urn:cdx:") and "#" in ref else None
    if c is None and frag is not None:
        c = comps.get(frag)
    if c is not None:
        props = _props(c)
        name = c.name
        if c.group and name:
            name = f"{c.group}:{name}" if (c.purl or "").startswith("pkg:maven/") else f"{c.group}/{name}"
        ptype = props.get("aquasecurity:trivy:PkgType") or (_purl(c.purl)[0] if c.purl else None)
        return (name, c.version, c.purl, ptype, props.get("aquasecurity:trivy:PkgID") or c.bom_ref,
                props.get("aquasecurity:trivy:FilePath"), c.type)  # fmt: skip
    purl = frag if frag and frag.startswith("pkg:") else ref if ref.startswith("pkg:") else None
    if purl is None:
        return (None, None, None, None, ref, None, None)
    ptype, name, ver = _purl(purl)
    return (name, ver, purl, ptype, frag or ref, None, None)


def _affected_version(a: _Affect | None) -> str | None:
    for v in (a.versions or ()) if a else ():
        if v.version and v.status in (None, "affected"):
            return v.version
    return None


def _tool(meta: _Meta) -> _Tool | None:
    t = meta.tools
    if isinstance(t, _Tools):
        items = (t.components or []) + (t.services or [])
    else:
        items = t or []
    return next((x for x in items if x.name), None)


class Sbom(ReportFormat):
    """CycloneDX and SPDX JSON SBOMs: CycloneDX vulnerabilities (and VEX) as findings."""

    name = "sbom"
    report_type = dict[str, msgspec.Raw]
    what = "a CycloneDX or SPDX JSON document"
    description = "CycloneDX / SPDX JSON SBOM -> Vulnerability Finding (2002) per vulnerability x component (VEX aware)"
    framing = "document"
    product = "CycloneDX"
    vendor = "OWASP"

    def sniff(self, head: bytes) -> int:
        """Recognize the CycloneDX or SPDX 2.x header keys (either may sit far down in a key-sorted file)."""
        if head.lstrip()[:1] != b"{":
            return 0
        # Plain substring scans first (a regex search of a 64 KiB head costs several times more):
        # every pattern below holds '"CycloneDX"' or '"SPDX', so most heads stop after two scans.
        if b'"CycloneDX"' in head and re.search(rb'"bomFormat"\s*:\s*"CycloneDX"', head):
            return 97 if b'"specVersion"' in head else 92
        if b'"SPDX' not in head:
            return 0
        spdx = re.search(rb'"spdxVersion"\s*:\s*"SPDX-2\.', head) is not None
        doc = re.search(rb'"SPDXID"\s*:\s*"SPDXRef-DOCUMENT"', head) is not None
        if spdx and b'"SPDXID"' in head:
            return 97
        return 92 if spdx else 90 if doc else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one SBOM document: only its top-level keys are read first (the component
        inventory, often most of the bytes, is neither compacted nor decoded unless there are
        vulnerabilities to resolve)."""
        data = data.removeprefix(BOM)  # a UTF-8 byte-order mark (PowerShell, some Windows tools) is not content
        with paused_gc():
            try:
                top = _TOP.decode(data)
            except msgspec.DecodeError as exc:
                return self.dead(f"not {self.what}: {exc}", source, data)
            return self.map_report(top, data, source)

    def map_report(self, top: dict[str, msgspec.Raw], data: bytes, source: str) -> Decoded:
        """Map one SBOM document (vulnerability findings for CycloneDX, nothing for SPDX)."""
        try:
            if "bomFormat" in top:
                return self._cyclonedx(top, data, source)
            if "spdxVersion" in top:
                spdx = msgspec.json.decode(data, type=_Spdx)
                if not spdx.spdxVersion.startswith("SPDX-2."):
                    why = f"unsupported SPDX version {spdx.spdxVersion!r}: only SPDX 2.x JSON is read (export SPDX 2.3 JSON)"
                    return self.dead(why, source, data)
                return Decoded()
        except msgspec.DecodeError as exc:
            return self.dead(f"not {self.what}: {exc}", source, data)
        except _BadKey as exc:
            return self.dead(f"not {self.what}: {exc}", source, data)
        why = "not a CycloneDX or SPDX JSON document: no `bomFormat` or `spdxVersion` key (export the SBOM as JSON)"
        return self.dead(why, source, data)

    def _cyclonedx(self, top: dict[str, msgspec.Raw], data: bytes, source: str) -> Decoded:
        fmt = _field(top, "bomFormat", str)
        spec = _field(top, "specVersion", str)
        if fmt != "CycloneDX" or spec is None or not _SPEC.match(spec):
            why = (f"not a CycloneDX BOM: bomFormat {fmt!r}, specVersion {spec!r} "
                   "(expected bomFormat \"CycloneDX\" and specVersion \"1.x\")")  # fmt: skip
            return self.dead(why, source, data)
        found = top.get("vulnerabilities")
        vjson = msgspec.json.format(bytes(found), indent=-1) if found is not None else b"[]"  # canonical slices
        vraws = _field({"vulnerabilities": msgspec.Raw(vjson)}, "vulnerabilities", list[msgspec.Raw]) or []
        meta = _field(top, "metadata", _Meta) or _Meta()
        if not vraws:
            return Decoded()
        comps: dict[str, _Comp] = {}
        _walk(_field(top, "components", list[_Comp]), comps)
        if meta.component is not None:
            _walk([meta.component], comps)
        serial = _field(top, "serialNumber", str)
        out = Decoded()
        locs = [(source, i) for i in range(len(vraws))]
        try:  # one C call over the vulnerabilities; per record (isolating bad ones) only when that fails
            st = Strict(_VULNS.decode(vjson), [None] * len(vraws), vraws, locs)
        except msgspec.DecodeError:
            st = decode_strict([bytes(r) for r in vraws], locs, _Vuln, out, self.name, "a CycloneDX vulnerability")
        if st.recs:
            out.batches.append(self._findings(st, meta, comps, serial, spec))
            out.events = out.batches[0].num_rows
        out.events += len(out.dead)
        return out

    def _findings(self, st: Any, meta: _Meta, comps: dict[str, _Comp], serial: str | None, spec: str) -> pa.RecordBatch:
        vs: list[_Vuln] = st.recs
        # one event per vulnerability x affects[] entry (one with no package when affects is empty)
        rows: list[int] = []
        affects: list[_Affect | None] = []
        for i, v in enumerate(vs):
            a: list[_Affect | None] = list(v.affects) if v.affects else [None]
            rows.extend([i] * len(a))
            affects.extend(a)
        take = pa.array(np.asarray(rows, np.int32))
        n = len(rows)
        refs = [a.ref if a else None for a in affects]
        cache: dict[str | None, tuple[Any, ...]] = {}
        pk = [cache[r] if r in cache else cache.setdefault(r, _package(r, comps)) for r in refs]
        subject = meta.component or _Comp()
        tool = _tool(meta) or _Tool()
        product = tool.name or self.product
        sev = [_rate(v.ratings) for v in vs]
        ids = strs([v.id for v in vs])
        raws = record_bytes(st.raws)
        raws = [raws[i] for i in rows]
        ctx = [f"{serial}\0{subject.bom_ref or subject.name}\0{r}" for r in refs]
        created = const(parse_times(strs([meta.timestamp]))[0].as_py(), n, pa.int64())
        cols = base_columns(
            "vulnerability_finding", kind=self.name, product=product, vendor=tool.vendor or tool.group,
            uids=event_uids(self.name, raws, ctx), times_ms=created, raws=None, activity_id=1,
            severity_id=pa.array([s[0] for s in sev], pa.int32()).take(take),
        )  # fmt: skip
        cols["raw_data"] = raw_data(raws)
        desc = strs([v.description for v in vs])
        pub = parse_times(strs([v.published for v in vs]))
        mod = parse_times(strs([v.updated for v in vs]))
        src_url = strs([v.source.url if v.source else None for v in vs])
        has_fix = [bool(v.recommendation) or "update" in _responses(v.analysis) for v in vs]
        vuln = nest({
            "title": ids,
            "desc": desc,
            "severity": strs([s[1] for s in sev]),
            "vendor_name": strs([v.source.name if v.source else None for v in vs]),
            "references": str_lists([[a.url for a in v.advisories or () if a.url] for v in vs]),
            "related_vulnerabilities": str_lists([[r.id for r in v.references or () if r.id] for v in vs]),
            "is_fix_available": pa.array(has_fix, pa.bool_()),
            "cwe.uid": strs([f"CWE-{v.cwes[0]}" if v.cwes else None for v in vs]),
            "cve.uid": ids,
            "cve.title": ids,
            "cve.desc": desc,
            "cve.created_time": pub,
            "cve.modified_time": mod,
            "cve.references": str_lists([[v.source.url] if v.source and v.source.url else None for v in vs]),
            "cve.cvss": pa.array([s[2] for s in sev], CVSS_LIST),
            "remediation.desc": strs([v.recommendation for v in vs]),
        }).take(take)  # fmt: skip
        names = strs([p[0] for p in pk])
        pkg = nest({
            "name": names,
            "version": strs([p[1] or _affected_version(a) for p, a in zip(pk, affects, strict=True)]),
            "fixed_in_version": pa.nulls(n, S),
            "type": strs([p[3] for p in pk]),
            "purl": strs([p[2] for p in pk]),
            "uid": strs([p[4] for p in pk]),
            "path": strs([p[5] for p in pk]),
        })  # fmt: skip
        has_pkg = pc.is_valid(pkg.field("uid"))  # uid is the ref itself when nothing better is known
        children = [vuln.field(i) for i in range(vuln.type.num_fields)] + [singleton_list(pkg, has_pkg)]
        vuln = pa.StructArray.from_arrays(children, names=[*(f.name for f in vuln.type), "affected_packages"])
        res = _resources(subject, pkg.field("name"), strs([p[6] for p in pk]), strs(refs))
        states = [(v.analysis.state if v.analysis else None) for v in vs]
        sid = [_STATE.get(s, 99) if s else 1 for s in states]
        status = captions("vulnerability_finding", "status_id", pa.array(sid, pa.int32())).to_pylist()
        status = [s if i != 99 else st_ for s, i, st_ in zip(status, sid, states, strict=True)]
        name_of = strs([" in ".join(x for x in (v.id, p[0], subject.name if subject.name != p[0] else None) if x) for v, p in
                        zip((vs[i] for i in rows), pk, strict=True)])  # fmt: skip
        analysis = [b'"analysis":' + msgspec.json.encode(v.analysis) if v.analysis else None for v in vs]
        cols.update({
            "status_id": pa.array(sid, pa.int32()).take(take),
            "status": strs(status).take(take),
            "status_code": strs(states).take(take),
            "status_detail": strs([v.analysis.detail if v.analysis else None for v in vs]).take(take),
            "finding_info.uid": strs([f"{v.id or v.bom_ref}|{r}" if r else v.id or v.bom_ref
                                      for v, r in zip((vs[i] for i in rows), refs, strict=True)]),  # fmt: skip
            "finding_info.uid_alt": strs([v.bom_ref for v in vs]).take(take),
            "finding_info.title": ids.take(take),
            "finding_info.desc": desc.take(take),
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "finding_info.src_url": src_url.take(take),
            "finding_info.created_time": created,
            "finding_info.first_seen_time": pub.take(take),
            "finding_info.modified_time": mod.take(take),
            "finding_info.product.name": const(product, n),
            "metadata.product.version": const(tool.version, n),
            "metadata.log_version": const(spec, n),
            "message": name_of,
            "vulnerabilities": singleton_list(vuln),
            "resources": res,
            "unmapped": unmapped_from(st, _UNMAPPED, analysis).take(take),
        })  # fmt: skip
        return to_batch("vulnerability_finding", cols)


def _resources(subject: _Comp, names: pa.Array, types: pa.Array, refs: pa.Array) -> pa.Array:
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
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(1 + has, out=offsets[1:])
    idx = np.zeros(offsets[-1], np.int32)  # 0: the subject row
    idx[offsets[:-1][has] + 1] = 1 + np.flatnonzero(has)
    return pa.ListArray.from_arrays(pa.array(offsets), values.take(pa.array(idx)))


def _responses(a: _Analysis | None) -> list[str]:
    if a is None or a.response is None:
        return []
    return [a.response] if isinstance(a.response, str) else a.response
