"""CycloneDX XML documents (1.0-1.6) read as the CycloneDX JSON the sbom format maps.

CycloneDX defines one object model in two encodings; the XML schema writes each JSON array as a
wrapper element of repeated items (``<components><component>``, ``<ratings><rating>``,
``<affects><target>``, ``<analysis><responses><response>`` for JSON's ``response``), attributes for
some keys (``bom-ref``, ``type``, a property's ``name``, a hash's ``alg``) and text for every
scalar. :func:`to_json` rewrites a document into that JSON by those rules (the wrappers below, the
few typed scalars: ``cwe`` and the bom ``version`` integers, scores numbers), so one mapping (the
sbom format's) serves both encodings: same events, same uids for the same BOM; ``raw_data`` of a
finding is then its vulnerability as JSON. Vulnerabilities stated with the 1.0-1.3 era vulnerability
extension inside its components, are read as 1.4's (:mod:`._sbom_xml_vuln`).

Cost: ElementTree's C parser, then one Python step per element (~20 MB of XML a CPU-second,
against the JSON path's native ~300): XML BOMs are an interchange form, not a stream.

Safety: a document with a DTD (``<!DOCTYPE``) is refused (CycloneDX uses none; no entity is ever
expanded); expat (2.4+) bounds what is left. XML that does not parse, or whose root is not a
CycloneDX ``bom``, raises :class:`ValueError` with the parser's reason.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec

from secpipe.formats import _sbom_xml_vuln as vuln_ext

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

#: wrapper element -> (item element, JSON key when it differs from the wrapper's)
_LISTS: dict[str, tuple[str, str | None]] = {
    "components": ("component", None), "services": ("service", None), "vulnerabilities": ("vulnerability", None),
    "references": ("reference", None), "ratings": ("rating", None), "cwes": ("cwe", None),
    "advisories": ("advisory", None), "affects": ("target", None), "versions": ("version", None),
    "responses": ("response", "response"), "tools": ("tool", None), "properties": ("property", None),
    "hashes": ("hash", None), "externalReferences": ("reference", None), "dependencies": ("dependency", None),
    "authors": ("author", None), "organizations": ("organization", None), "individuals": ("individual", None),
    "tags": ("tag", None), "licenses": ("", None),
}  # fmt: skip
_NUMBERS = frozenset({"score", "baseScore"})
_HEAD = re.compile(rb'<bom\b[^>]*\bxmlns\s*=\s*"http://cyclonedx\.org/schema/bom/(\d+\.\d+)"')


def is_cyclonedx_xml(head: bytes) -> bool:
    """An XML document whose root is a CycloneDX ``bom``."""
    return head.lstrip()[:1] == b"<" and _HEAD.search(head[:4096]) is not None


def to_json(data: bytes) -> bytes:
    """The CycloneDX JSON of one XML BOM (see the module docstring)."""
    import xml.etree.ElementTree as ET  # (here: a JSON BOM never needs the XML parser)

    if b"<!DOCTYPE" in data:
        msg = "a CycloneDX XML document has no DTD (<!DOCTYPE refused)"
        raise ValueError(msg)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        msg = f"not XML: {exc}"
        raise ValueError(msg) from exc
    ns, tag = _split(root.tag)
    if tag != "bom" or not ns.startswith("http://cyclonedx.org/schema/bom/"):
        msg = f"not a CycloneDX XML document (root element {root.tag!r})"
        raise ValueError(msg)
    doc: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": ns.rsplit("/", 1)[-1]}
    ext = vuln_ext.lift(root, ns) if vuln_ext.NS.encode() in data else []  # (the extension: components' v:vulnerabilities)
    body = _object(root)
    if isinstance(body.get("version"), str) and body["version"].isdigit():
        body["version"] = int(body["version"])
    doc.update(body)
    if ext:
        doc["vulnerabilities"] = [*(doc.get("vulnerabilities") or []), *ext]
    return msgspec.json.encode(doc)


def _split(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag (``{ns}name``)."""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _value(e: ET.Element) -> Any:
    """One element as JSON: a wrapper as its list, a leaf as its text, else an object."""
    name = _split(e.tag)[1]
    if name in _LISTS and not e.attrib:
        kids = list(e)
        if name == "licenses":  # items are <license> objects or an <expression>, each under its own key
            return [{_split(k.tag)[1]: _value(k)} for k in kids]
        if all(_split(k.tag)[1] == _LISTS[name][0] for k in kids):  # (an empty wrapper: an empty list)
            return [_value(k) for k in kids]
    if len(e) == 0:
        text = (e.text or "").strip()
        if name == "property":
            return {"name": e.get("name"), "value": text}
        if name == "hash":
            return {"alg": e.get("alg"), "content": text}
        if e.attrib:
            return {**_attrs(e), **({"value": text} if text else {})}
        if name == "cwe" and text.isdigit():
            return int(text)
        if name in _NUMBERS:
            try:
                return float(text)
            except ValueError:
                return text
        return text
    return _object(e)


def _attrs(e: ET.Element) -> dict[str, Any]:
    return {_split(k)[1]: v for k, v in e.attrib.items()}


def _object(e: ET.Element) -> dict[str, Any]:
    """An element with children as a JSON object: its attributes, then each child under its name
    (a name that repeats without a wrapper as a list)."""
    out: dict[str, Any] = _attrs(e)
    for k in e:
        name = _split(k.tag)[1]
        key = _LISTS[name][1] or name if name in _LISTS else name
        v = _value(k)
        if key in out and name not in _LISTS:
            prev = out[key]
            out[key] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[key] = v
    return out


__all__ = ["is_cyclonedx_xml", "to_json"]
