"""OpenVEX documents read as the CycloneDX JSON the sbom format maps.

An OpenVEX document (``{"@context": "https://openvex.dev/ns/v0.2.0", "@id", "author", "timestamp", "version",
"tooling", "statements": [...]}``, OpenVEX specification v0.2.0; ``govulncheck -format openvex`` writes one)
states, per statement, the status of one vulnerability in products: ``vulnerability`` (``name``, ``@id``,
``description``, ``aliases``; a bare name in v0.0.x), ``products`` (``@id`` and ``identifiers.purl``, with the
``subcomponents`` the vulnerability is in; bare ids in v0.0.x, whose statement holds the ``subcomponents``),
``status`` (not_affected, affected, fixed, under_investigation), ``justification``, ``impact_statement``,
``action_statement``, ``status_notes``, ``timestamp`` / ``last_updated``.

:func:`to_json` rewrites it into the CycloneDX 1.6 JSON it stands for, so the sbom format's one mapping serves it,
as for SPDX 3 (:mod:`._spdx3`) and CycloneDX XML (:mod:`._sbom_xml`): one CycloneDX vulnerability a statement,
``id`` the first CVE among its name and aliases (else its name; the other ids ``references``), ``source.url``
its ``@id`` where that is a URL, ``affects`` the subcomponents of its products (a product without any: the
product), each by its purl where it names one (the sbom mapping reads the package's name and version from
it; another id is a component of that name); ``analysis``: ``state`` not_affected, exploitable, resolved or in_triage (status Suppressed, New, Resolved
or In Progress), ``justification`` OpenVEX's word, ``detail`` the impact or action statement or the status
notes, ``firstIssued`` / ``lastUpdated`` the statement's times; the status word as stated the property
``openvex:status`` (in ``unmapped``). The document: ``serialNumber`` its ``@id``,
``metadata.timestamp`` its ``timestamp`` (a statement without one takes it), the tool its ``tooling`` (a URL's
last path part: ``govulncheck``).

``raw_data`` of a finding is then that CycloneDX vulnerability as JSON. A document that is not JSON or
whose ``statements`` is no list of objects raises :class:`ValueError` (dead-lettered whole).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from secpipe.formats._sniff import OPENVEX_CONTEXT
from secpipe.formats.base import as_list as _list
from secpipe.formats.base import text_or_none as _str

_STATES = {"not_affected": "not_affected", "affected": "exploitable", "fixed": "resolved",
           "under_investigation": "in_triage"}  # fmt: skip
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_DOC = msgspec.json.Decoder(dict[str, Any])


def is_openvex(head: bytes) -> bool:
    """Whether ``head`` begins an OpenVEX document."""
    return OPENVEX_CONTEXT.search(head) is not None


def _ref(item: Any) -> str | None:
    """A product or subcomponent: its purl where it names one, else its @id (a bare string in v0.0.x)."""
    if isinstance(item, dict):
        ids = item.get("identifiers")
        purl = _str(ids.get("purl")) if isinstance(ids, dict) else None
        return purl or _str(item.get("@id"))
    return _str(item)


def _vulnerability(v: Any) -> dict[str, Any]:
    """The CycloneDX identity of a statement's vulnerability."""
    if not isinstance(v, dict):
        v = {"name": v}
    name, iri = _str(v.get("name")), _str(v.get("@id"))
    ids = [i for i in dict.fromkeys([name, *(_str(a) for a in _list(v.get("aliases")))]) if i]
    main = next((i for i in ids if _CVE.match(i)), ids[0] if ids else iri)
    out: dict[str, Any] = {}
    if main:
        out["id"] = main
    if iri and iri.startswith(("https://", "http://")):
        out["source"] = {"url": iri}
    if refs := [{"id": i} for i in ids if i != main]:
        out["references"] = refs
    if desc := _str(v.get("description")):
        out["description"] = desc
    return out


def _analysis(st: dict[str, Any], when: str | None) -> dict[str, Any]:
    status = str(st.get("status"))
    out: dict[str, Any] = {"state": _STATES.get(status, status)}
    if just := _str(st.get("justification")):
        out["justification"] = just
    detail = next((s for k in ("impact_statement", "action_statement", "status_notes") if (s := _str(st.get(k)))), None)
    if detail:
        out["detail"] = detail
    if first := _str(st.get("timestamp")) or when:
        out["firstIssued"] = first
    if last := _str(st.get("last_updated")):
        out["lastUpdated"] = last
    return out


def _tool(tooling: Any) -> str | None:
    """The tool a document names: a URL's last path part (``.../cmd/govulncheck``: govulncheck), else the text."""
    t = _str(tooling)
    if t and t.startswith(("https://", "http://")):
        return t.rstrip("/").rsplit("/", 1)[-1] or t
    return t


def to_json(data: bytes) -> tuple[bytes, str | None]:
    """The CycloneDX 1.6 JSON an OpenVEX document stands for (see the module docstring), and the OpenVEX
    version its @context names (``v0.2.0``). Raises :class:`ValueError` for a document that is not JSON or
    whose ``statements`` is no list of objects."""
    try:
        doc = _DOC.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc
    statements = doc.get("statements")
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise ValueError("its statements are not a list of objects (OpenVEX specification)")  # noqa: EM101
    when = _str(doc.get("timestamp"))
    out = []
    named: dict[str, None] = {}
    for st in statements:
        affects: list[str] = []
        for p in _list(st.get("products")):
            subs = [r for s in _list(p.get("subcomponents") if isinstance(p, dict) else None) if (r := _ref(s))]
            if not subs and (r := _ref(p)):
                subs = [r]
            affects.extend(subs)
        affects.extend(r for s in _list(st.get("subcomponents")) if (r := _ref(s)))  # v0.0.x: the statement's
        vuln = {**_vulnerability(st.get("vulnerability")), "analysis": _analysis(st, when),
                "properties": [{"name": "openvex:status", "value": str(st.get("status"))}]}  # the word as stated
        if affects:
            vuln["affects"] = [{"ref": r} for r in dict.fromkeys(affects)]
            named.update(dict.fromkeys(r for r in affects if not r.startswith("pkg:")))
        out.append(vuln)
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.6"}
    if serial := _str(doc.get("@id")):
        bom["serialNumber"] = serial
    meta: dict[str, Any] = {}
    if when:
        meta["timestamp"] = when
    if tool := _tool(doc.get("tooling")):
        meta["tools"] = {"components": [{"type": "application", "name": tool}]}
    # a product named by no purl is a component of that name (a purl gives the package's name and version)
    components = [{"bom-ref": r, "type": "application", "name": r} for r in named]
    bom.update({"metadata": meta, "components": components, "vulnerabilities": out})
    context = next((c for c in _list(doc.get("@context")) if isinstance(c, str)), "")
    version = context.rstrip("/").rsplit("/", 1)[-1] if "openvex.dev/ns/" in context else None
    return msgspec.json.encode(bom), version


__all__ = ["is_openvex", "to_json"]
