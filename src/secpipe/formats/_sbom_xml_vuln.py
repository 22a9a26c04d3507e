"""CycloneDX's vulnerability extension 1.0 (XML, BOMs 1.0-1.3) read as CycloneDX 1.4 vulnerabilities.

Before vulnerabilities joined the core (1.4), a BOM stated them with the extension schema
``http://cyclonedx.org/schema/ext/vulnerability/1.0`` (CycloneDX/specification ``schema/ext/vulnerability-1.0.xsd``):
a ``v:vulnerabilities`` element inside a component, each ``v:vulnerability`` (``ref`` attribute, "references a
component by the component's bom-ref") with ``id``, ``source`` (``name`` attribute, ``url``), ``ratings`` /
``rating`` (``score`` {``base``, ``impact``, ``exploitability``}, ``severity`` None/Low/Medium/High/Critical/Unknown,
``method`` CVSSv2/CVSSv3/OWASP Risk/Open FAIR/PCI DSS/Other, ``vector``; the schema's draft spells these
``vulnerabilityScore`` / ``score`` with ``source`` for the method), ``cwes`` / ``cwe`` (integers), ``description``,
``recommendations`` / ``recommendation`` and ``advisories`` / ``advisory`` (URLs). Sonatype's jake and nancy,
cyclonedx-python-lib (schema 1.0-1.3) and Grype before 0.35 (``-o cyclonedx``, BOM 1.2) wrote it; KICS still writes
it (``--report-formats cyclonedx``, any BOM version), with its own slips read as meant: the source's ``name`` and
``url`` as child elements in the BOM's namespace, ``v:cwe`` items without their ``cwes`` wrapper, a recommendation's
text inside a ``Recommendation`` child.

:func:`lift` takes them out of the document's components as the 1.4 ``vulnerabilities`` they stand for, so the sbom
format maps them as it maps a 1.4 BOM's: ``affects`` the enclosing component (its ``bom-ref``; one without gets its
purl, else its first vulnerability's ``ref``, as its ``bom-ref``, so the ref resolves to its name and version; a
vulnerability's own ``ref`` that differs, as Grype's per-vulnerability UUIDs do, is kept as the property
``cdx:ext:vulnerability:ref``), ratings with ``score`` the base score, ``severity`` and ``method`` in 1.4's words
(CVSSv2, CVSSv3, OWASP, other), ``advisories`` ``{url}``, the recommendations joined as ``recommendation``
(a rating's impact and exploitability subscores follow from its vector and are not carried over).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

NS = "http://cyclonedx.org/schema/ext/vulnerability/1.0"
_V = "{" + NS + "}"
#: the extension's rating methods -> CycloneDX 1.4's (scoreSourceType; 1.4 has no Open FAIR or PCI DSS)
_METHODS = {"CVSSv2": "CVSSv2", "CVSSv3": "CVSSv3", "OWASP Risk": "OWASP"}


def lift(root: ET.Element, bom_ns: str) -> list[dict[str, Any]]:
    """The extension's vulnerabilities of every component under ``root`` as CycloneDX 1.4 vulnerabilities; each
    ``v:vulnerabilities`` element is taken out of its component, which gets a ``bom-ref`` where it has none."""
    out: list[dict[str, Any]] = []
    for comp in root.iter("{" + bom_ns + "}component"):
        for block in comp.findall(_V + "vulnerabilities"):
            comp.remove(block)
            vulns = block.findall(_V + "vulnerability")
            ref = comp.get("bom-ref") or _text(comp.find("{" + bom_ns + "}purl")) or next(
                (r for v in vulns if (r := (v.get("ref") or "").strip())), None)
            if ref and not comp.get("bom-ref"):
                comp.set("bom-ref", ref)
            out.extend(_vulnerability(v, ref) for v in vulns)
    return out


def _kids(e: ET.Element) -> dict[str, list[ET.Element]]:
    """An element's children by local name (writers put some in the BOM's namespace, KICS its source's name and url)."""
    out: dict[str, list[ET.Element]] = {}
    for k in e:
        out.setdefault(k.tag.rpartition("}")[2], []).append(k)
    return out


def _text(e: ET.Element | None) -> str | None:
    """An element's text (all of it: KICS nests a recommendation's in a ``Recommendation`` child), stripped."""
    t = "".join(e.itertext()).strip() if e is not None else ""
    return t or None


def _first(kids: dict[str, list[ET.Element]], name: str) -> str | None:
    return _text(kids[name][0]) if name in kids else None


def _items(kids: dict[str, list[ET.Element]], wrapper: str, item: str) -> list[ET.Element]:
    """The items of a wrapper (``<cwes><cwe>``), and items given bare (KICS' ``<v:cwe>``)."""
    return [i for w in kids.get(wrapper, ()) for i in w if i.tag.rpartition("}")[2] == item] + kids.get(item, [])


def _vulnerability(v: ET.Element, ref: str | None) -> dict[str, Any]:
    kids = _kids(v)
    out: dict[str, Any] = {}
    if (vid := _first(kids, "id")) is not None:
        out["id"] = vid
    if "source" in kids:
        src = kids["source"][0]
        sk = _kids(src)
        out["source"] = {k: x for k, x in (("name", src.get("name") or _first(sk, "name")), ("url", _first(sk, "url"))) if x}
    ratings = [_rating(r, "method") for r in _items(kids, "ratings", "rating")]
    ratings += [_rating(r, "source") for r in _items(kids, "vulnerabilityScore", "score")]
    if ratings:
        out["ratings"] = ratings
    cwes = [int(t) for c in _items(kids, "cwes", "cwe") if (t := _text(c)) and t.isdigit()]
    if cwes:
        out["cwes"] = cwes
    if (desc := _first(kids, "description")) is not None:
        out["description"] = desc
    recs = [t for r in _items(kids, "recommendations", "recommendation") if (t := _text(r))]
    if recs:
        out["recommendation"] = "\n".join(recs)
    advisories = [{"url": t} for a in _items(kids, "advisories", "advisory") if (t := _text(a))]
    if advisories:
        out["advisories"] = advisories
    if ref:
        out["affects"] = [{"ref": ref}]
    own = (v.get("ref") or "").strip()
    if own and own != ref:
        out["properties"] = [{"name": "cdx:ext:vulnerability:ref", "value": own}]
    return out


def _rating(r: ET.Element, method_key: str) -> dict[str, Any]:
    """One rating (``scoreType``) in 1.4's form: the base score as the score."""
    kids = _kids(r)
    out: dict[str, Any] = {}
    base = _first(_kids(kids["score"][0]), "base") if "score" in kids else None
    if base is not None:
        try:
            out["score"] = float(base)
        except ValueError:
            out["score"] = base
    if (sev := _first(kids, "severity")) is not None:
        out["severity"] = sev.lower()
    if (method := _first(kids, method_key)) is not None:
        out["method"] = _METHODS.get(method, "other")
    if (vector := _first(kids, "vector")) is not None:
        out["vector"] = vector
    return out


__all__ = ["NS", "lift"]
