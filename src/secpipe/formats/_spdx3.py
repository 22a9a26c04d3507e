"""SPDX 3 JSON-LD documents read as the CycloneDX JSON the sbom format maps.

An SPDX 3 document (``{"@context": ".../spdx-context.jsonld", "@graph": [elements]}``, SPDX 3.0
§ "JSON-LD serialization") states vulnerabilities with its Security profile: a ``security_Vulnerability``
element (its CVE or other id among ``externalIdentifier``, ``summary`` / ``description``,
``security_publishedTime`` / ``modifiedTime`` / ``withdrawnTime``, advisories in ``externalRef``), and
relationships from it: CVSS assessments (``security_CvssV2/V3/V4VulnAssessmentRelationship``: score,
severity, vector) and VEX assessments of the elements it is found in (``security_VexAffected``,
``VexFixed``, ``VexNotAffected``, ``VexUnderInvestigation``; ``to`` the packages, or the
``security_assessedElement`` within them), beside the plain ``hasAssociatedVulnerability`` relationship
from a package to the vulnerabilities it has. Yocto's ``create-spdx-3.0`` writes every CVE a recipe was
checked for so (patched: VexFixed; unpatched: VexAffected; ignored: VexNotAffected).

:func:`to_json` rewrites the document into the CycloneDX 1.6 JSON it stands for, so the sbom format's one
mapping serves both, as for CycloneDX XML (:mod:`._sbom_xml`):

- one CycloneDX vulnerability per VEX assessment (``affects`` its elements; ``analysis.state`` exploitable,
  resolved, not_affected or in_triage by its type, so status New, Resolved, Suppressed or In Progress;
  ``justification`` SPDX's own word, ``detail`` its impact or action statement or status notes, ``firstIssued``
  its published time, else its own creation time, ``lastUpdated`` its modified time), one per
  vulnerability for its associated elements no VEX assessment names (no analysis: New), and one with no
  ``affects`` for a vulnerability nothing relates to anything;
- its ``id``: the ``cve`` external identifier, else the first other one, else the element's name, else its
  spdxId (``bom-ref``); the other identifiers ``references``; the first locator of its id ``source.url``;
  external references' locators ``advisories``; CVSS assessments ``ratings``; EPSS, SSVC and exploit
  catalog assessments ``properties`` (``spdx:<type>``, the element as JSON), left in ``unmapped``;
- the elements named: ``components`` (name, ``software_packageVersion``, purl from ``software_packageUrl``
  or a ``packageUrl`` identifier, type from ``software_primaryPurpose``); the document's root (through an
  Sbom or Bom) ``metadata.component``; its creation time ``metadata.timestamp``, the tools that created it
  ``metadata.tools``; its spdxId ``serialNumber``.

``raw_data`` of a finding is then that CycloneDX vulnerability as JSON. Read leniently, as the SPDX
project's own examples write it: a type with or without its profile prefix (``Vulnerability``, 3.0.0's
context) or as a full IRI, property names without the ``security_`` / ``software_`` prefix, one value where
the model has a list, an element given inline where a reference is expected. A document that is not JSON,
or whose ``@graph`` is not a list of objects, raises :class:`ValueError` (the whole document is
dead-lettered); one of no Security element holds no event, as an SPDX 2 document.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from secpipe.formats._sniff import SPDX3_CONTEXT
from secpipe.formats.base import as_list as _list
from secpipe.formats.base import text_or_none as _str

#: VEX assessment type (its last name part) -> CycloneDX analysis.state
_VEX_STATES = {
    "VexAffectedVulnAssessmentRelationship": "exploitable",
    "VexFixedVulnAssessmentRelationship": "resolved",
    "VexNotAffectedVulnAssessmentRelationship": "not_affected",
    "VexUnderInvestigationVulnAssessmentRelationship": "in_triage",
}
#: the same by relationshipType, for an assessment typed only VexVulnAssessmentRelationship
_VEX_RELATIONS = {"affects": "exploitable", "fixedIn": "resolved", "doesNotAffect": "not_affected",
                  "underInvestigationFor": "in_triage"}  # fmt: skip
_CVSS = {"CvssV2VulnAssessmentRelationship": "CVSSv2", "CvssV3VulnAssessmentRelationship": "CVSSv3",
         "CvssV4VulnAssessmentRelationship": "CVSSv4"}  # fmt: skip
#: software_primaryPurpose -> CycloneDX component type
_PURPOSES = {"application": "application", "library": "library", "framework": "framework",
             "operatingSystem": "operating-system", "firmware": "firmware", "container": "container",
             "device": "device", "file": "file", "data": "data"}  # fmt: skip
_GRAPH = msgspec.json.Decoder(dict[str, Any])
#: the properties whose value may be an element given inline (JSON-LD lets an object stand for its reference)
_INLINE_KEYS = ("from", "to", "creationInfo", "security_assessedElement", "assessedElement")


def is_spdx3(head: bytes) -> bool:
    """Whether ``head`` begins an SPDX 3 JSON-LD document."""
    return SPDX3_CONTEXT.search(head) is not None


def _kind(el: dict[str, Any]) -> str:
    """An element's type without its profile prefix or IRI (``security_Vulnerability``, ``Vulnerability``,
    ``https://spdx.org/rdf/3.0.1/terms/Security/Vulnerability``: ``Vulnerability``)."""
    t = el.get("type") or el.get("@type")
    if not isinstance(t, str):
        t = next((x for x in _list(t) if isinstance(x, str)), "")
    got = _KINDS.get(t)
    if got is None:
        got = _KINDS[t] = _TYPE_PREFIX.split(t)[-1]
    return got


_TYPE_PREFIX = re.compile(r"[/_:#]")
_KINDS: dict[str, str] = {}  # type as written -> its last name part (a document names few types)


def _get(el: dict[str, Any], name: str) -> Any:
    """A property by its name in the 3.0.1 context (``security_score``) or without the prefix (3.0.0's)."""
    got = el.get(name)
    return el.get(name.split("_", 1)[1]) if got is None else got


def _id(v: Any) -> str | None:
    """A reference: an IRI or blank node id, or an inline element's id."""
    if isinstance(v, dict):
        return _str(v.get("spdxId")) or _str(v.get("@id"))
    return _str(v)


class _Graph:
    """The elements of one document by id, and the ones each kind of mapping reads."""

    def __init__(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise ValueError("an SPDX 3 document is a JSON object")  # noqa: EM101
        graph = doc.get("@graph", [doc] if "@graph" not in doc and ("type" in doc or "@type" in doc) else [])
        if not isinstance(graph, list) or not all(isinstance(e, dict) for e in graph):
            raise ValueError("its @graph is not a list of objects (SPDX 3 JSON-LD serialization)")  # noqa: EM101
        self.by_id: dict[str, dict[str, Any]] = {}
        self.items: list[tuple[str, dict[str, Any]]] = []
        for el in graph:
            self._add(el)

    def _add(self, el: dict[str, Any]) -> None:
        self.items.append((_kind(el), el))
        eid = el.get("spdxId") or el.get("@id")
        if isinstance(eid, str):
            self.by_id.setdefault(eid, el)
        for key in _INLINE_KEYS:
            v = el.get(key)
            if v is None or isinstance(v, str):
                continue
            for x in _list(v):
                if isinstance(x, dict) and (xid := _id(x)) is not None and xid not in self.by_id:
                    self._add(x)  # an element given inline where a reference is expected

    def deref(self, v: Any) -> dict[str, Any] | None:
        if isinstance(v, dict):
            return v
        return self.by_id.get(v) if isinstance(v, str) else None


def _identity(vuln: dict[str, Any]) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """(id, its first locator, the other identifiers as CycloneDX references) of a Vulnerability."""
    ids: list[tuple[str, str | None]] = []
    main: tuple[str | None, str | None] | None = None
    for x in _list(vuln.get("externalIdentifier")):
        if not isinstance(x, dict) or (ident := _str(x.get("identifier"))) is None:
            continue
        loc = next((u for u in _list(x.get("identifierLocator")) if isinstance(u, str)), None)
        if main is None and x.get("externalIdentifierType") == "cve":
            main = (ident, loc)
        else:
            ids.append((ident, loc))
    if main is None:
        main = ids.pop(0) if ids else (_str(vuln.get("name")), None)
    first = main[0]
    refs = [{"id": i, **({"source": {"url": u}} if u else {})} for i, u in ids if i != first]
    return first, main[1], refs


def _vulnerability(vid: str, vuln: dict[str, Any], extra: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The CycloneDX vulnerability (without analysis or affects) of one Vulnerability element."""
    ident, loc, refs = _identity(vuln)
    out: dict[str, Any] = {"bom-ref": vid}
    if ident:
        out["id"] = ident
    if loc:
        out["source"] = {"url": loc}
    if refs:
        out["references"] = refs
    ratings = []
    props = []
    for kind, a in extra:
        if kind in _CVSS:
            vector = _str(_get(a, "security_vectorString"))
            method = "CVSSv31" if kind.startswith("CvssV3") and vector and vector.startswith("CVSS:3.1") else _CVSS[kind]
            score = _get(a, "security_score")
            sev = _str(_get(a, "security_severity"))
            ratings.append({"method": method, **({"score": score} if isinstance(score, int | float) else {}),
                            **({"severity": sev.lower()} if sev else {}), **({"vector": vector} if vector else {})})
        else:  # EPSS, SSVC, exploit catalog: kept as they came (unmapped)
            props.append({"name": f"spdx:{kind}", "value": msgspec.json.encode(a).decode()})
    if ratings:
        out["ratings"] = ratings
    desc = _str(vuln.get("description")) or _str(vuln.get("summary"))
    if desc:
        out["description"] = desc
    advisories = [{"url": u} for r in _list(vuln.get("externalRef")) if isinstance(r, dict)
                  for u in _list(r.get("locator")) if isinstance(u, str)]  # fmt: skip
    if advisories:
        out["advisories"] = advisories
    for key, name in (("published", "security_publishedTime"), ("updated", "security_modifiedTime"),
                      ("rejected", "security_withdrawnTime")):
        if (t := _str(_get(vuln, name))) is not None:
            out[key] = t
    if props:
        out["properties"] = props
    return out


#: where an assessment states its detail: a not-affected one's impact, an affected one's action, any one's notes
_DETAILS = ("security_impactStatement", "security_actionStatement", "security_statusNotes")


def _analysis(g: _Graph, kind: str, a: dict[str, Any]) -> dict[str, Any]:
    state = _VEX_STATES.get(kind) or _VEX_RELATIONS.get(str(a.get("relationshipType")), "in_triage")
    out: dict[str, Any] = {"state": state}
    if (just := _str(_get(a, "security_justificationType"))) is not None:
        out["justification"] = just
    detail = next((s for k in _DETAILS if (s := _str(_get(a, k)))), None)
    if detail:
        out["detail"] = detail
    # when the assessment was stated: its published time, else its own creation time (an assessment amended
    # by a later one keeps the time it was made)
    first = _str(_get(a, "security_publishedTime")) or _str((g.deref(a.get("creationInfo")) or {}).get("created"))
    if first is not None:
        out["firstIssued"] = first
    if (last := _str(_get(a, "security_modifiedTime"))) is not None:
        out["lastUpdated"] = last
    return out


def _component(g: _Graph, ref: str) -> dict[str, Any]:
    el = g.by_id.get(ref) or {}
    out: dict[str, Any] = {"bom-ref": ref, "type": _PURPOSES.get(str(_get(el, "software_primaryPurpose")),
                                                                 "file" if _kind(el) == "File" else "library")}
    if (name := _str(el.get("name"))) is not None:
        out["name"] = name
    if (version := _str(_get(el, "software_packageVersion"))) is not None:
        out["version"] = version
    purl = _str(_get(el, "software_packageUrl")) or next(
        (x.get("identifier") for x in _list(el.get("externalIdentifier"))
         if isinstance(x, dict) and x.get("externalIdentifierType") == "packageUrl" and _str(x.get("identifier"))),
        None)  # fmt: skip
    if purl:
        out["purl"] = purl
    return out


def _metadata(g: _Graph, components: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], str | None, str | None]:
    """(CycloneDX metadata, serialNumber, SPDX spec version) of the document."""
    doc = next((el for kind, el in g.items if kind == "SpdxDocument"), None)
    info = g.deref((doc or {}).get("creationInfo")) or next((el for kind, el in g.items if kind == "CreationInfo"), {})
    meta: dict[str, Any] = {}
    if (created := _str(info.get("created"))) is not None:
        meta["timestamp"] = created
    tools = [{"name": name} for t in _list(info.get("createdUsing"))
             if (name := _str((g.deref(t) or {}).get("name")))]  # fmt: skip
    if tools:
        meta["tools"] = {"components": [{"type": "application", **t} for t in tools]}
    root = next(iter(_list((doc or {}).get("rootElement"))), None)
    seen = set()
    while (el := g.deref(root)) is not None and _kind(el) in ("Sbom", "Bom", "Bundle") and id(el) not in seen:
        seen.add(id(el))
        root = next(iter(_list(el.get("rootElement"))), None)
    if (rid := _id(root)) is not None and g.deref(root) is not None:
        meta["component"] = components.get(rid) or _component(g, rid)
    return meta, _id(doc) if doc else None, _str(info.get("specVersion"))


def to_json(data: bytes) -> tuple[bytes, str | None]:
    """The CycloneDX 1.6 JSON an SPDX 3 JSON-LD document stands for (see the module docstring), and the
    document's SPDX spec version. Raises :class:`ValueError` for a document that is not JSON or whose
    ``@graph`` is no list of objects."""
    try:
        g = _Graph(_GRAPH.decode(data))
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc
    vulns = {eid: el for kind, el in g.items if kind == "Vulnerability" and (eid := _id(el)) is not None}
    assessed: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # vulnerability -> its VEX assessments
    extra: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # vulnerability -> its other assessments
    associated: dict[str, list[str]] = {}  # vulnerability -> the elements it is associated with
    for kind, el in g.items:
        if kind.endswith("VulnAssessmentRelationship"):
            if (vid := _id(el.get("from"))) in vulns and vid is not None:
                vex = kind in _VEX_STATES or (kind == "VexVulnAssessmentRelationship")
                (assessed if vex else extra).setdefault(vid, []).append((kind, el))
        elif kind == "Relationship" and el.get("relationshipType") == "hasAssociatedVulnerability":
            if (frm := _id(el.get("from"))) is not None:
                for to in _list(el.get("to")):
                    if (vid := _id(to)) in vulns and vid is not None:
                        associated.setdefault(vid, []).append(frm)
    out: list[dict[str, Any]] = []
    refs: list[str] = []
    for vid, vuln in vulns.items():
        base = _vulnerability(vid, vuln, extra.get(vid, []))
        named: set[str] = set()
        for kind, a in assessed.get(vid, []):
            where = _list(_get(a, "security_assessedElement")) or _list(a.get("to"))
            targets = [t for t in (_id(w) for w in where) if t is not None]
            named.update(targets)
            refs.extend(targets)
            out.append({**base, "analysis": _analysis(g, kind, a), "affects": [{"ref": t} for t in targets]})
        rest = [r for r in dict.fromkeys(associated.get(vid, [])) if r not in named]
        refs.extend(rest)
        if rest or not assessed.get(vid):
            out.append({**base, "affects": [{"ref": r} for r in rest]} if rest else base)
    components = {r: _component(g, r) for r in dict.fromkeys(refs)}
    meta, serial, spec = _metadata(g, components)
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.6"}
    if serial:
        bom["serialNumber"] = serial
    bom.update({"metadata": meta, "components": list(components.values()), "vulnerabilities": out})
    return msgspec.json.encode(bom), spec


__all__ = ["is_spdx3", "to_json"]
