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

Guarantees: a document that is not JSON, or whose top-level keys have the wrong JSON types, is
dead-lettered whole with msgspec's reason and path; one vulnerability of the wrong shape is
dead-lettered alone (``source``, ordinal) and the others go on; so is one component of the wrong shape
(``components[]`` at any depth, or ``metadata.component``: the BOM goes on without it, its refs resolved
as unknown refs; a number where the schema wants a string is read as its text, see
:mod:`._sbom_components`); ``components: null`` holds none. Event identity hashes the BOM
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
(:func:`._sbom_vulns.native_cols`; ratings, analysis, cwes and affected versions kept raw and decoded once per
distinct value: severity, ``cve.cvss`` and the VEX status columns are built per distinct value
and taken); otherwise, or when one is irregular, they are decoded in one msgspec call into a
struct listing every CycloneDX 1.6 key (unknown keys or a wrong type fall back to the
per-record strict decode, which keeps extra keys in ``unmapped`` and isolates bad records) and
:func:`._sbom_vulns.typed_cols` gives the same columns. One builder (:func:`._sbom_batch.findings_batch`) maps them; tests
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
from typing import Any

import msgspec

from secpipe.errors import DecodeError
from secpipe.formats import _fast
from secpipe.formats._findings import ReportFormat, paused_gc, record_bytes
from secpipe.formats._openvex import is_openvex
from secpipe.formats._openvex import to_json as openvex_json
from secpipe.formats._sbom_batch import Meta, MetaShell, findings_batch
from secpipe.formats._sbom_components import (
    Component,
    component_table,
    decode_components,
    decode_subject,
    packages_native,
    packages_py,
)
from secpipe.formats._sbom_components import walk as _walk
from secpipe.formats._sbom_vulns import Vuln, native_cols, typed_cols
from secpipe.formats._sbom_xml import is_cyclonedx_xml, to_json
from secpipe.formats._sniff import sbom as _sniff_sbom
from secpipe.formats._spdx3 import is_spdx3
from secpipe.formats._spdx3 import to_json as spdx3_json
from secpipe.formats.base import BOM, Decoded, Strict, decode_strict, not_utf8


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


_SPEC = re.compile(r"^1\.\d+$")
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
#: how much of a document's head tells SPDX 3 JSON-LD or OpenVEX (its @context: its key within the first 4 KiB,
#: first in the serializations seen and in key-sorted ones)
_SPDX3_HEAD = 65536
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_VULNS = msgspec.json.Decoder(list[Vuln])


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
        out = Decoded()
        meta = self._meta(top, source, out)
        if not raws:
            out.events = len(out.dead)
            return out
        # the components as native columns, else decoded (a component of the wrong type dead-lettered alone)
        table = component_table(top.get("components"), compact=compact)
        comps: dict[str, Component] = {}
        if table is None:
            _walk(decode_components(top.get("components"), source, self.name, out.dead), comps)
        meta_comps: dict[str, Component] = {}
        if meta.component is not None:
            _walk([meta.component], meta_comps)
        serial = _field(top, "serialNumber", str)
        vc = native_cols(raws) if _fast.available() else None
        if vc is None:
            locs = [(source, i) for i in range(len(raws))]
            try:  # one C call over the vulnerabilities; per record (isolating bad ones) only when that fails
                st = Strict(_VULNS.decode(vjson), [None] * len(raws), raws, locs)
            except msgspec.DecodeError:
                st = decode_strict(raws, locs, Vuln, out, self.name, "a CycloneDX vulnerability")
            vc = typed_cols(st) if st.recs else None
        if vc is not None:
            if table is not None:
                pk = packages_native(table, meta_comps, vc.refs)
            else:
                for ref, c in meta_comps.items():  # after the components: the first met for a bom-ref wins
                    comps.setdefault(ref, c)
                pk = packages_py(vc.refs.to_pylist(), comps)
            out.batches.append(findings_batch(self, vc, meta, pk, serial, spec, origin))
            out.events = out.batches[0].num_rows
        out.events += len(out.dead)
        return out

    def _meta(self, top: dict[str, msgspec.Raw], source: str, out: Decoded) -> Meta:
        """``metadata``; a subject (``metadata.component``) of the wrong type is dead-lettered alone into
        ``out`` and the BOM goes on without it (any other key of the wrong type raises :class:`_BadKey`)."""
        try:
            return _field(top, "metadata", Meta) or Meta()
        except _BadKey:
            shell = _field(top, "metadata", MetaShell)  # (raises where the subject is not what Meta refused)
            subject = None
            if bytes(shell.component) not in (b"", b"null"):
                subject = decode_subject(shell.component, source, self.name, out.dead)
            return Meta(shell.timestamp, shell.tools, subject)
