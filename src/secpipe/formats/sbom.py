"""Software bills of materials: CycloneDX JSON (1.2-1.6) and XML, SPDX 2.x JSON and SPDX 3 JSON-LD; OpenVEX.

Scanners and SBOM tools in CI (``trivy --format cyclonedx|spdx-json``, Syft, Grype, cdxgen,
Dependency-Track exports) emit these documents; one format recognizes both.

What becomes an event:

- CycloneDX ``vulnerabilities[]`` (spec 1.4+, also VEX documents) -> Vulnerability Finding
  (2002), one event per vulnerability x ``affects[].ref`` (a vulnerability without ``affects``
  is one event with no package). The columns are the ones :mod:`secpipe.formats.trivy` builds
  for the same CVE: ``vulnerabilities[0]`` with ``cve.uid`` = id (an id that is no CVE, GHSA- or an
  OSV id, is the ``advisory`` instead, its ``ratings`` kept in ``unmapped``: OCSF 1.8.0 allows one of
  advisory / cve / cwe and holds CVSS only in a cve), ``cve.cvss[]`` from the CVSS
  ratings (method CVSSv2/v3/v31/v4 -> version; score, vector, rating source as
  ``vendor_name``), ``cve.cwe.uid`` ``CWE-<n>``, references = advisory URLs,
  ``related_vulnerabilities`` = ``references[].id`` (GHSA, SNYK ...), ``remediation.desc`` =
  recommendation (``cwe`` and ``remediation`` only where the source gives their required key),
  published/updated times, and ``affected_packages[0]`` (only with the name and version OCSF
  requires; the ref is always ``resources[1]``) resolved from the ref:
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
  property, purl or bom-ref; left out when the BOM names none), then the affected component (type, name, uid = ref).
  ``metadata.product`` vendor: a 1.4 tool's ``vendor``, a 1.5+ tool component's publisher, supplier,
  manufacturer, group or author.
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
collapses while one CVE in two components stays two events. A CycloneDX XML document is rewritten
into the JSON it stands for (:mod:`._sbom_xml`: the same mapping, ``raw_data`` its vulnerabilities as
JSON) and read as such; so is an SPDX 3 JSON-LD document's Security profile (:mod:`._spdx3`: its
vulnerabilities, CVSS and VEX assessments as CycloneDX vulnerabilities, one a VEX assessment; product
its creating tool, else ``SPDX``; ``metadata.log_version`` ``SPDX-<specVersion>``; one of no Security
element holds no event), and an OpenVEX document's statements (:mod:`._openvex`: one CycloneDX VEX vulnerability a
statement, ``govulncheck -format openvex`` among its writers; product its tooling, else ``OpenVEX``). SPDX
tag-value is not recognized (its dead letter names it, :mod:`._unread`).

Performance: a document that names the ``vulnerabilities`` key (and not only as an empty array
at its end, which Trivy writes into every inventory BOM) is checked and compacted whole in one
native pass (:func:`_fast.compact_doc`: the text ``msgspec.json.format`` would give, each
vulnerability's bytes split and each top-level member located in the same pass, so the top
level is views of the compact text with no second decode); that replaced four passes
(msgspec's top-level decode, formatting the vulnerabilities and the components, the split's
check: 100k findings ~1.2 -> ~0.26 CPU-s). Any other document has only its top-level keys read
(one msgspec pass that skips values), so an inventory-only BOM costs one scan and its
components are never compacted or decoded; without the extension, or for a document the pass
does not decide, the ``vulnerabilities`` array alone is then compacted and split. With the
native extension (``_fast``) each vulnerability is walked once in Rust into its columns
(:func:`_native`; ratings, analysis, cwes and affected versions kept raw and decoded once per
distinct value: severity, ``cve.cvss`` and the VEX status columns are built per distinct value
and taken); otherwise, or when one is irregular, they are decoded in one msgspec call into a
struct listing every CycloneDX 1.6 key (unknown keys or a wrong type fall back to the
per-record strict decode, which keeps extra keys in ``unmapped`` and isolates bad records) and
:func:`_typed_cols` gives the same columns. One builder (``Sbom._findings``) maps them; tests
compare both paths. Components are read only then (:mod:`secpipe.formats._sbom_components`):
walked natively into columns and refs resolved with Arrow, else decoded into small structs and
each ref resolved once in Python. Columns are built per vulnerability (Arrow arrays, no Python
list a vulnerability) and expanded to events with one ``take`` per column; per-event text
(message, finding uid, uid contexts) is joined by Arrow kernels; ``raw_data`` is one native
copy; the cyclic GC is paused while a document is mapped. Measured (bench/formats_sbom_bench.py,
100k findings, one core, shared host): 2.16-2.35 -> 1.83-1.89 CPU-s (session 12), then
1.99-2.52 -> 1.32-1.77 CPU-s alternated with the session-12 code (session 13, whole-document
pass); steady decodes ~1.3 CPU-s in a quiet minute, of which the pass ~0.27, the native walks
of vulnerabilities and components ~0.3 and ~0.17, uid hashing ~0.2 (a design decision).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.errors import DecodeError
from secpipe.formats import _fast
from secpipe.formats._findings import (
    CVSS_LIST,
    RESOURCES,
    SEVERITY_WORDS,
    STR_LIST,
    Distinct,
    ReportFormat,
    S,
    captions,
    json_col,
    nest,
    nonempty,
    objects_where,
    only_where,
    or_null,
    paused_gc,
    raw_data,
    record_bytes,
    report_time,
    singleton_list,
    str_lists,
    strs,
    unmapped_items,
)
from secpipe.formats._openvex import is_openvex
from secpipe.formats._openvex import to_json as openvex_json
from secpipe.formats._sbom_components import (
    Component,
    Packages,
    component_table,
    packages_native,
    packages_py,
)
from secpipe.formats._sbom_components import props as _props
from secpipe.formats._sbom_components import walk as _walk
from secpipe.formats._sbom_xml import is_cyclonedx_xml, to_json
from secpipe.formats._sniff import sbom as _sniff_sbom
from secpipe.formats._spdx3 import is_spdx3
from secpipe.formats._spdx3 import to_json as spdx3_json
from secpipe.formats.base import (
    BOM,
    Decoded,
    Strict,
    TimeField,
    base_columns,
    const,
    decode_strict,
    event_uids,
    not_utf8,
    parse_times,
    to_batch,
    uid_prefix,
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


class _RatingsRaw(msgspec.Struct, gc=False):
    """A vulnerability's ``ratings`` as they came (kept in ``unmapped`` where it names no CVE)."""

    ratings: msgspec.Raw = _NONE


_RATINGS_RAW = msgspec.json.Decoder(_RatingsRaw)


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


#: ``affects[].versions``: an array (the schema); one object alone is read as a one-element array
#: (CycloneDX's own VEX use-case 5 example writes it so)
_Versions = list[_Version] | _Version | None


class _Affect(msgspec.Struct, gc=False):
    ref: str
    versions: _Versions = None


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


class _Meta(msgspec.Struct, gc=False):
    timestamp: TimeField = None
    tools: list[_Tool] | _Tools | None = None
    component: Component | None = None


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
#: how much of a document's head tells SPDX 3 JSON-LD or OpenVEX (its @context: its key within the first 4 KiB,
#: first in the serializations seen and in key-sorted ones)
_SPDX3_HEAD = 65536
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_VULNS = msgspec.json.Decoder(list[_Vuln])


_VULN_KEY = b'"vulnerabilities"'
#: an empty vulnerabilities array closing the document (Trivy writes one into every BOM; CycloneDX
#: tools and key-sorted files put the key last)
_EMPTY_LAST = re.compile(rb'"vulnerabilities"\s*:\s*\[\s*\]\s*\}\s*\Z')


def _with_vulnerabilities(data: bytes) -> bool:
    """Whether the document may hold vulnerabilities, so is worth compacting whole: it names the
    key, and not only as an empty array at its end (an inventory-only BOM then costs msgspec's
    top-level pass alone, as before). A guess either way gives the same output."""
    return _EMPTY_LAST.search(data[-256:]) is None and _fast.contains_any(data, (_VULN_KEY,))


def _top_level(compact: Any, _items: Any, members: _fast.Members | None) -> dict[str, msgspec.Raw] | None:
    """The top-level keys of a document :func:`_fast.compact_doc` compacted: views of its members
    where it found them (as msgspec's dict: the last of a repeated key wins; a key that is not
    UTF-8 raises as msgspec raises), else msgspec's decode of the compact text; None when msgspec
    refuses it (not an object): the caller decodes the original text, for its own reason."""
    if members is not None:
        view = memoryview(compact)
        return {bytes(view[a:b]).decode(): msgspec.Raw(view[c:d]) for a, b, c, d in members}
    try:
        return _TOP.decode(compact)
    except msgspec.DecodeError:
        return None


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


def _affected_version(a: _Affect | None) -> str | None:
    return _first_affected(a.versions) if a else None


def _first_affected(versions: list[_Version] | _Version | None) -> str | None:
    for v in [versions] if isinstance(versions, _Version) else versions or ():
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
    description = ("CycloneDX (JSON, XML) / SPDX JSON SBOM (3: JSON-LD), OpenVEX -> Vulnerability Finding (2002) per "
                   "vulnerability x component (VEX aware)")
    framing = "document"
    product = "CycloneDX"
    vendor = "OWASP"

    def sniff(self, head: bytes) -> int:
        """Recognize the CycloneDX or SPDX 2.x header keys (either may sit far down in a key-sorted file).

        The function detect() asks without importing this module (formats._SNIFFERS)."""
        return _sniff_sbom(head)

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one SBOM document: only its top-level keys are read first (the component
        inventory, often most of the bytes, is neither compacted nor decoded unless there are
        vulnerabilities to resolve). A document that is not UTF-8 is dead-lettered whole (RFC 8259
        section 8.1), on both decode paths: its parts are not read (the native walk and msgspec
        would meet its bad bytes at different places, or not at all in parts neither decodes)."""
        why = not_utf8(data)  # (one pass without a copy for an ASCII document; the byte counted in the file)
        data = data.removeprefix(BOM)  # a UTF-8 byte-order mark (PowerShell, some Windows tools) is not content
        if why is not None:
            return self.dead(why, source, data)
        origin = None  # (product, log version) of a document read as the CycloneDX it stands for
        if is_cyclonedx_xml(data[:4096]):  # the XML encoding: mapped as the JSON it stands for
            try:
                data = to_json(data)
            except ValueError as exc:
                return self.dead(f"not {self.what}: {exc}", source, data)
        elif (jsonld := b'"@context"' in data[:4096]) and is_spdx3(data[:_SPDX3_HEAD]):  # SPDX 3's Security profile: mapped as the CycloneDX it stands for
            try:
                with paused_gc():  # (a dict an element, none of them cyclic)
                    data, spdx = spdx3_json(data)
            except ValueError as exc:
                return self.dead(f"not an SPDX 3 JSON-LD document: {exc}", source, data)
            origin = ("SPDX", f"SPDX-{spdx}" if spdx else "SPDX-3")
        elif jsonld and is_openvex(data[:_SPDX3_HEAD]):  # OpenVEX statements: mapped as the CycloneDX VEX they stand for
            try:
                data, vex = openvex_json(data)
            except ValueError as exc:
                return self.dead(f"not an OpenVEX document: {exc}", source, data)
            origin = ("OpenVEX", f"OpenVEX-{vex}" if vex else "OpenVEX")
        with paused_gc():
            # a BOM with vulnerabilities is compacted and checked natively in one pass (its top level
            # then decoded from the compact text, and its vulnerabilities split in the same pass)
            doc = _fast.compact_doc(data, "vulnerabilities") if _with_vulnerabilities(data) else None
            try:
                top = _top_level(*doc) if doc is not None else None
                if top is None:
                    doc, top = None, _TOP.decode(data)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # (a top-level key that is not UTF-8)
                return self.dead(f"not {self.what}: {exc}", source, data)
            return self._report(top, data, source, None if doc is None else doc[1], compact=doc is not None,
                                origin=origin)

    def map_report(self, top: dict[str, msgspec.Raw], data: bytes, source: str) -> Decoded:
        """Map one SBOM document (vulnerability findings for CycloneDX, nothing for SPDX)."""
        return self._report(top, data, source)

    def _report(self, top: dict[str, msgspec.Raw], data: bytes, source: str, items: list[bytes] | None = None, *,
                compact: bool = False, origin: tuple[str, str] | None = None) -> Decoded:  # fmt: skip
        """:meth:`map_report`; ``compact``: ``top``'s values are compact text (:func:`_fast.compact_doc`'s),
        ``items``: the vulnerabilities' bytes it split."""
        try:
            if "bomFormat" in top:
                return self._cyclonedx(top, data, source, items, compact, origin)
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

    def _cyclonedx(self, top: dict[str, msgspec.Raw], data: bytes, source: str, items: list[bytes] | None,
                   compact: bool, origin: tuple[str, str] | None = None) -> Decoded:  # fmt: skip
        fmt = _field(top, "bomFormat", str)
        spec = _field(top, "specVersion", str)
        if fmt != "CycloneDX" or spec is None or not _SPEC.match(spec):
            why = (f"not a CycloneDX BOM: bomFormat {fmt!r}, specVersion {spec!r} "
                   "(expected bomFormat \"CycloneDX\" and specVersion \"1.x\")")  # fmt: skip
            return self.dead(why, source, data)
        found = top.get("vulnerabilities")
        # canonical slices: the compact document's (its pass split the vulnerabilities), else formatted here
        vjson: Any = found if items is not None else msgspec.json.format(found, indent=-1) if found is not None else b"[]"
        # each vulnerability's bytes: one native pass over the array, else msgspec's slices copied
        raws = items if items is not None else _fast.split_array(vjson) if found is not None else []
        if raws is None:
            raws = record_bytes(_field({"vulnerabilities": msgspec.Raw(vjson)}, "vulnerabilities", list[msgspec.Raw]) or [])
        meta = _field(top, "metadata", _Meta) or _Meta()
        if not raws:
            return Decoded()
        # the components as native columns, else decoded (which dead-letters a BOM of the wrong shape)
        table = component_table(top.get("components"), compact=compact)
        comps: dict[str, Component] = {}
        if table is None:
            _walk(_field(top, "components", list[Component]), comps)
        meta_comps: dict[str, Component] = {}
        if meta.component is not None:
            _walk([meta.component], meta_comps)
        serial = _field(top, "serialNumber", str)
        out = Decoded()
        vc = _native(raws) if _fast.available() else None
        if vc is None:
            locs = [(source, i) for i in range(len(raws))]
            try:  # one C call over the vulnerabilities; per record (isolating bad ones) only when that fails
                st = Strict(_VULNS.decode(vjson), [None] * len(raws), raws, locs)
            except msgspec.DecodeError:
                st = decode_strict(raws, locs, _Vuln, out, self.name, "a CycloneDX vulnerability")
            vc = _typed_cols(st) if st.recs else None
        if vc is not None:
            if table is not None:
                pk = packages_native(table, meta_comps, vc.refs)
            else:
                for ref, c in meta_comps.items():  # after the components: the first met for a bom-ref wins
                    comps.setdefault(ref, c)
                pk = packages_py(vc.refs.to_pylist(), comps)
            out.batches.append(self._findings(vc, meta, pk, serial, spec, origin))
            out.events = out.batches[0].num_rows
        out.events += len(out.dead)
        return out

    def _findings(self, v: _VulnCols, meta: _Meta, pk: Packages, serial: str | None,
                  spec: str, origin: tuple[str, str] | None = None) -> pa.RecordBatch:
        """The batch from the vulnerabilities' columns of either path (:func:`_native`, :func:`_typed_cols`);
        ``origin``: the product named when no tool is, and the log version, of a document read as the
        CycloneDX it stands for (SPDX 3)."""
        # one event per vulnerability x affects[] entry (one with no package when affects is empty)
        rows, refs = v.rows, v.refs
        take = pa.array(rows)
        n = len(rows)
        subject = meta.component or Component()
        tool = _tool(meta) or _Tool()
        product = tool.name or (origin[0] if origin else self.product)
        if origin:
            spec = origin[1]
        ids = v.ids
        raws = [v.raws[i] for i in rows.tolist()]
        ref_col = refs
        created = const(report_time(meta.timestamp), n, pa.int64())  # Go's zero time is no time
        cols = base_columns(
            "vulnerability_finding", kind=self.name, product=product, vendor=tool.maker(),
            uids=_uids(self.name, raws, f"{serial}\0{subject.bom_ref or subject.name}\0", ref_col), times_ms=created,
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
            "cve.references": _kept(np.arange(len(v.source_url) + 1), v.source_url),
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
            "message": _message(per_event(ids), names, subject.name),
            "vulnerabilities": singleton_list(vuln),
            "resources": res,
            "unmapped": unmapped_items(v.unmapped, aside).take(take),
        })  # fmt: skip
        return to_batch("vulnerability_finding", cols)


@dataclass(slots=True)
class _VulnCols:
    """The vulnerabilities' fields as both paths give them: per vulnerability (lists or Arrow
    columns), and per event (``rows``: the vulnerability of each event; ``refs`` and
    ``affected``: its affects[] ref and affected version, None for a vulnerability without)."""

    raws: list[bytes]
    ids: pa.Array
    bom_refs: pa.Array
    desc: pa.Array
    published: pa.Array
    updated: pa.Array
    source_name: pa.Array
    source_url: pa.Array
    recommendation: pa.Array
    advisories: pa.Array
    references: pa.Array
    cwe: pa.Array
    sev_id: pa.Array  # int32 severity_id of the highest rating
    sev_word: pa.Array  # its severity word
    cvss: pa.Array  # cve.cvss[] of the CVSS ratings
    ratings: pa.Array  # the ratings' JSON text as it came (null: none)
    state: pa.Array  # analysis.state (status_code)
    status_id: pa.Array  # int32 finding status of the state
    status: pa.Array  # its caption (the state word for Other)
    detail: pa.Array  # analysis.detail (status_detail)
    update: pa.Array  # bool: "update" is one of analysis.response
    unmapped: pa.Array
    rows: np.ndarray
    refs: pa.Array
    affected: pa.Array


def _typed_cols(st: Strict) -> _VulnCols:
    """The msgspec path's columns of typed vulnerabilities."""
    vs: list[_Vuln] = st.recs
    rows: list[int] = []
    affects: list[_Affect | None] = []
    for i, v in enumerate(vs):
        a: list[_Affect | None] = list(v.affects) if v.affects else [None]
        rows.extend([i] * len(a))
        affects.extend(a)
    analysis = [b'"analysis":' + msgspec.json.encode(v.analysis) if v.analysis else None for v in vs]
    return _VulnCols(
        raws=st.raws, ids=strs([v.id for v in vs]), bom_refs=strs([v.bom_ref for v in vs]),
        desc=strs([v.description for v in vs]), published=strs([v.published for v in vs]),
        updated=strs([v.updated for v in vs]), source_name=strs([v.source.name if v.source else None for v in vs]),
        source_url=strs([v.source.url if v.source else None for v in vs]),
        recommendation=strs([v.recommendation for v in vs]),
        advisories=str_lists([[a.url for a in v.advisories or () if a.url] for v in vs]),
        references=str_lists([[r.id for r in v.references or () if r.id] for v in vs]),
        cwe=strs([f"CWE-{v.cwes[0]}" if v.cwes else None for v in vs]), **_rated([_rate(v.ratings) for v in vs]),
        **_analysed([v.analysis for v in vs]), unmapped=unmapped_from(st, _UNMAPPED, analysis),
        ratings=strs([_ratings_text(r) if v.ratings else None for v, r in zip(vs, st.raws, strict=True)]),
        rows=np.asarray(rows, np.int32), refs=strs([a.ref if a else None for a in affects]),
        affected=strs([_affected_version(a) for a in affects]),
    )  # fmt: skip


#: the native walker's spec of ``_Vuln``: strings, lists of objects (every typed leaf, so the
#: walker checks the types msgspec checks), and raw fields decoded once per distinct value.
_RAW_FIELDS = {"ratings": list[_Rating] | None, "cwes": list[int] | None, "analysis": _Analysis | None,
               "affects[].versions": _Versions}  # fmt: skip
_VSPEC = _fast.Spec(
    (*((k, _fast.STR) for k in ("bom-ref", "id", "source.name", "source.url", "description", "recommendation",
                                  "published", "updated")),
     ("references[]", _fast.LIST), ("references[].id", _fast.STR), ("references[].source.name", _fast.STR),
     ("references[].source.url", _fast.STR), ("advisories[]", _fast.LIST), ("advisories[].title", _fast.STR),
     ("advisories[].url", _fast.STR), ("affects[]", _fast.LIST), ("affects[].ref", _fast.STR),
     *((k, _fast.RAW) for k in (*_RAW_FIELDS, *_UNMAPPED))),
    (), tuple(f.encode_name for f in msgspec.structs.fields(_Vuln)),
)  # fmt: skip


def _native(raws: list[bytes]) -> _VulnCols | None:
    """The vulnerabilities' columns in one native pass, or None when the msgspec path must decide
    (no extension, an irregular vulnerability, an affects[] entry without a ref, a raw field of
    the wrong shape)."""
    cols = _fast.extract(raws, _VSPEC)
    if cols is None or cols.strings["affects[].ref"].null_count:
        return None
    raw = {k: Distinct.from_column(cols.strings[k], t, k.split("[]")[0]) for k, t in _RAW_FIELDS.items()}
    if any(d.errors for d in raw.values()):
        return None
    col = cols.strings
    nv = len(raws)
    aff_off, _mask = cols.lists["affects[]"]
    lens = np.diff(aff_off)
    per = np.maximum(lens, 1)
    rows = np.repeat(np.arange(nv, dtype=np.int32), per)
    first = np.zeros(nv + 1, np.int64)
    np.cumsum(per, out=first[1:])
    item = np.repeat(aff_off[:-1].astype(np.int64), per) + (np.arange(len(rows)) - np.repeat(first[:-1], per))
    none = np.repeat(lens == 0, per)
    at = pa.array(item, pa.int64(), mask=none)
    refs = col["affects[].ref"].take(at)
    versions = raw["affects[].versions"]  # per affects[] item: its first affected version, per distinct value
    affected_at = strs(versions.derive(_first_affected)).take(pa.array(versions.idx, pa.int32())).take(at)
    enc = raw["analysis"].column(S, lambda a: None if a is None else '"analysis":' + msgspec.json.encode(a).decode())
    unmapped = _unmapped([(f'"{k}":', col[k]) for k in _UNMAPPED], enc, cols.unmapped)
    url = col["source.url"]
    return _VulnCols(
        raws=raws, ids=col["id"], bom_refs=col["bom-ref"], desc=col["description"],
        published=col["published"], updated=col["updated"], source_name=col["source.name"],
        source_url=url, recommendation=col["recommendation"],
        advisories=_kept(cols.lists["advisories[]"][0], col["advisories[].url"]),
        references=_kept(cols.lists["references[]"][0], col["references[].id"]),
        cwe=raw["cwes"].column(S, lambda c: f"CWE-{c[0]}" if c else None),
        **_rated(raw["ratings"].derive(_rate), pa.array(raw["ratings"].idx, pa.int32())),
        **_analysed(raw["analysis"].values, pa.array(raw["analysis"].idx, pa.int32())), unmapped=unmapped,
        ratings=raw["ratings"].text_column(), rows=rows, refs=refs, affected=affected_at,
    )  # fmt: skip


def _ratings_text(raw: bytes) -> str | None:
    """The ``ratings`` of one vulnerability's canonical bytes, as they came."""
    got = bytes(_RATINGS_RAW.decode(raw).ratings)
    return got.decode() if got and got != b"null" else None


def _rated(rated: list[tuple[int, str | None, list[dict[str, Any]] | None]],
           idx: pa.Array | None = None) -> dict[str, pa.Array]:
    """The severity columns of :func:`_rate`'s results: one per vulnerability, or (native path)
    one per distinct ratings value, converted once and taken to the vulnerabilities by ``idx``."""
    cols = {"sev_id": pa.array([r[0] for r in rated], pa.int32()), "sev_word": strs([r[1] for r in rated]),
            "cvss": pa.array([r[2] for r in rated], CVSS_LIST)}  # fmt: skip
    return cols if idx is None else {k: c.take(idx) for k, c in cols.items()}


def _analysed(analyses: list[_Analysis | None], idx: pa.Array | None = None) -> dict[str, pa.Array]:
    """The status columns of each analysis (VEX state -> status, see the module docstring): one per
    vulnerability, or (native path) one per distinct analysis value, taken to the vulnerabilities by ``idx``."""
    states = [a.state if a else None for a in analyses]
    sid = [_STATE.get(s, 99) if s else 1 for s in states]
    status = captions("vulnerability_finding", "status_id", pa.array(sid, pa.int32())).to_pylist()
    cols = {"state": strs(states), "status_id": pa.array(sid, pa.int32()),
            "status": strs([w if i != 99 else s for w, i, s in zip(status, sid, states, strict=True)]),
            "detail": strs([a.detail if a else None for a in analyses]),
            "update": pa.array(["update" in _responses(a) for a in analyses], pa.bool_())}  # fmt: skip
    return cols if idx is None else {k: c.take(idx) for k, c in cols.items()}


def _kept(offsets: np.ndarray, values: pa.Array) -> pa.Array:
    """Per-row lists of the non-empty values (a row with none is null), from a LIST path's items."""
    keep = nonempty(values)
    counts = np.zeros(len(values) + 1, np.int64)
    np.cumsum(keep.to_numpy(zero_copy_only=False), out=counts[1:])
    off = counts[offsets].astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(off), values.filter(keep), mask=pa.array(off[1:] == off[:-1]))


def _unmapped(fields: list[tuple[str, pa.Array]], more: pa.Array, extras: pa.Array) -> pa.Array:
    """``unmapped`` as :func:`~secpipe.formats.base.unmapped_from` writes it: the raw fields in
    order, then ``more`` (an encoded ``"key":value`` item), then the extra keys (a JSON object of
    them, sorted), built with Arrow string kernels; null when there is nothing."""
    # each part is "" or its item and a comma (null_handling="skip" was seen dropping rows, pyarrow 26);
    # a field no vulnerability has adds nothing
    parts = [pc.fill_null(pc.binary_join_element_wise(pa.scalar(k), v, ",", ""), "") for k, v in fields
             if v.null_count < len(v)]
    parts.append(pc.fill_null(pc.binary_join_element_wise(more, ",", ""), ""))
    parts.append(pc.fill_null(pc.utf8_slice_codeunits(extras, 1, -1), ""))
    body = pc.binary_join_element_wise(*parts, "")
    return pc.if_else(pc.equal(body, ""), pa.scalar(None, S),
                      pc.binary_join_element_wise("{", pc.utf8_rtrim(body, characters=","), "}", ""))


def _uids(kind: str, raws: list[bytes], head: str, refs: pa.Array) -> pa.Array:
    """``event_uids`` of the events with contexts ``head + ref`` (``"None"`` for no ref), the
    contexts joined and encoded by Arrow (native hashing; ``event_uids`` itself without it)."""
    ctx = pc.binary_join_element_wise(head, pc.fill_null(refs, "None"), "")
    got = _fast.uids(uid_prefix(kind), raws, ctx.cast(pa.binary()).to_pylist())
    return got if got is not None else event_uids(kind, raws, ctx.to_pylist())


def _message(ids: pa.Array, names: pa.Array, subject: str | None) -> pa.Array:
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


def _responses(a: _Analysis | None) -> list[str]:
    if a is None or a.response is None:
        return []
    return [a.response] if isinstance(a.response, str) else a.response
