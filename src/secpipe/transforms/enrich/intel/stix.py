"""STIX 2.0/2.1 indicators into indicator rows (the ``stix`` feed format of :mod:`.loaders`).

Accepted: bundles, TAXII 2.1 envelopes, a list of objects, a single object, and vendor pages
``{"items": [...]}`` (the SEKOIA.IO Intelligence Center API). Only ``indicator`` objects with
``pattern_type`` stix are indicators; their patterns are read by :mod:`.stix_pattern`. Skipped
and counted: revoked indicators, those typed only ``benign``, and OpenCTI's with detection off
(``x_opencti_detection: false`` or the ``detection`` of OpenCTI's property extension). Without a
STIX ``confidence``, OpenCTI's score stands in; a confidence written as a word of the None/Low/Med/High scale
takes that scale's value (Appendix A.1), one out of 0-100 is clamped, another odd value is the feed's default.
``indicator_types``, ``labels`` and ``kill_chain_phases`` (``<kill_chain_name>:<phase_name>``) are labels, and so
are the names of what an indicator ``indicates`` (a ``relationship`` to a malware, threat actor, intrusion set,
campaign, tool, attack pattern or infrastructure of the bundle). An indicator given in several versions counts at its
latest ``modified`` (older versions are skipped). A bundle without any indicator is refused
(:class:`~.loaders.FeedError`) naming the object types it has; one with no object at all (an empty bundle, a TAXII
2.1 page with nothing in it: ``{}`` as the OASIS reference server answers, or only ``more``/``next``) is an empty
feed, not an error.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from secpipe.transforms.enrich.intel.indicators import SCHEMA, FeedError, Loaded, _flag, _json, _ms, _rows
from secpipe.transforms.enrich.intel.stix_pattern import RELAXED_LABEL, stix_pattern_values

__all__ = ["OPENCTI_EXTENSION", "load_stix"]


def load_stix(data: bytes, conf: int) -> Loaded:
    """STIX 2.0/2.1 bundle (or a single indicator, a list of objects, or a vendor page ``{"items": [...]}``)."""
    doc = _json(data, "STIX")
    objs = _stix_objects(doc)
    if not isinstance(objs, list):
        raise FeedError("STIX: expected a bundle with an `objects` list — is this a STIX 2 bundle?")  # noqa: EM101
    if not objs:  # an empty bundle, a TAXII page with nothing (new)
        return Loaded(SCHEMA.empty_table(), empty=True)
    types = [o.get("type") if isinstance(o, dict) else type(o).__name__ for o in objs]
    if "indicator" not in types:
        have = ", ".join(f"{t} x{n}" for t, n in sorted(Counter(map(str, types)).items()))
        msg = (f"STIX: no `indicator` object in the bundle ({have}) — only indicators carry patterns to match;"
               " ATT&CK, report-only and observable-only bundles have none: use the producer's indicator export")
        raise FeedError(msg)
    rows: list[dict[str, Any]] = []
    current = _current_versions(objs)
    skipped = sum(1 for o in objs if isinstance(o, dict) and o.get("type") == "indicator") - len(current)
    indicates = _indicates(objs)
    for o in current:
        detection, score = _opencti(o)
        if o.get("revoked") or o.get("pattern_type", "stix") != "stix" or _benign(o) or detection is False:
            skipped += 1
            continue
        got = stix_pattern_values(str(o.get("pattern", "")))
        if got is None:
            skipped += 1
            continue
        terms, relaxed = got
        labels = list(dict.fromkeys([*o.get("indicator_types", []), *o.get("labels", []), *_phases(o),
                                     *indicates.get(o.get("id"), []), *([RELAXED_LABEL] if relaxed else [])]))
        c = _confidence(o.get("confidence", score), conf)
        for kind, value in terms:
            rows.append({"kind": None if kind == "auto" else kind, "value": value, "confidence": c, "labels": labels,
                         "valid_until": _ms(o.get("valid_until")), "description": o.get("name") or o.get("description"),
                         "ref": o.get("id"), "valid_from": _ms(o.get("valid_from"))})
    out = _rows(rows, conf)
    out.skipped += skipped
    return out


#: the None/Low/Med/High scale's values on STIX's 0-100 confidence (STIX 2.1 Appendix A.1)
_SCALE = {"none": 0, "low": 15, "med": 50, "medium": 50, "high": 85}


def _confidence(value: Any, default: int) -> int:
    """An indicator's confidence 0-100: its integer (a number written as text too, clamped to 0-100), or the word of
    the None/Low/Med/High scale some producers write instead (Appendix A.1's value for it); anything else, or none,
    is the feed's ``default`` — one odd value never refuses the feed."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _SCALE:
            return _SCALE[word]
        try:
            value = float(word)
        except ValueError:
            return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return default
    return max(0, min(100, int(value)))


#: the objects an indicator ``indicates`` (STIX 2.1 4.7.2) whose name says what a match means
_INDICATED = frozenset({"malware", "threat-actor", "intrusion-set", "campaign", "tool", "attack-pattern", "infrastructure"})


def _indicates(objs: list[Any]) -> dict[Any, list[str]]:
    """indicator id -> the names of the bundle's objects it ``indicates`` (a ``relationship`` of that type): the
    malware family, actor or campaign an analyst reads a match as (``Poison Ivy``, ``APT1``)."""
    names = {o.get("id"): o["name"] for o in objs if isinstance(o, dict) and o.get("type") in _INDICATED
             and isinstance(o.get("name"), str) and o["name"]}
    out: dict[Any, list[str]] = {}
    for r in objs:
        if (isinstance(r, dict) and r.get("type") == "relationship" and r.get("relationship_type") == "indicates"
                and r.get("target_ref") in names and isinstance(r.get("source_ref"), str)):
            out.setdefault(r["source_ref"], []).append(names[r["target_ref"]])
    return out


def _phases(o: dict[str, Any]) -> list[str]:
    """An indicator's kill chain phases as ``<kill_chain_name>:<phase_name>`` labels (``mitre-attack:command-and-control``,
    ``lockheed-martin-cyber-kill-chain:delivery``): where in an intrusion the indicator is seen."""
    phases = o.get("kill_chain_phases")
    if not isinstance(phases, list):
        return []
    return [f"{p['kill_chain_name']}:{p['phase_name']}" for p in phases
            if isinstance(p, dict) and isinstance(p.get("kill_chain_name"), str) and isinstance(p.get("phase_name"), str)]


def _current_versions(objs: list[Any]) -> list[dict[str, Any]]:
    """The indicators of a bundle, each at its current version: STIX 2.1 (3.6) versions an object by keeping
    its ``id`` and advancing ``modified``, and the version with the latest ``modified`` is the object (a
    TAXII ``match[version]=all`` answer or a stream carries older ones, e.g. before a revocation). Order kept."""
    latest: dict[str, tuple[int, int]] = {}
    inds = [o for o in objs if isinstance(o, dict) and o.get("type") == "indicator"]
    for i, o in enumerate(inds):
        oid = o.get("id")
        if isinstance(oid, str):
            stamp = _ms(o.get("modified") or o.get("created")) or 0
            if oid not in latest or stamp >= latest[oid][0]:
                latest[oid] = (stamp, i)
    return [o for i, o in enumerate(inds) if not isinstance(o.get("id"), str) or latest[o["id"]][1] == i]


def _stix_objects(doc: Any) -> Any:
    """The objects of a bundle / TAXII envelope (none in an empty one), of a vendor page (``{"items": [...]}``, the SEKOIA.IO
    Intelligence Center API), a list, or the document itself."""
    if not isinstance(doc, dict):
        return doc
    if "objects" in doc:
        return doc["objects"]
    if doc.keys() <= {"more", "next"}:  # a TAXII 2.1 envelope with no objects (the reference server answers `{}`)
        return []
    items = doc.get("items")
    if isinstance(items, list) and items and all(isinstance(o, dict) and "type" in o for o in items):
        return items
    return [doc]


#: OpenCTI's STIX property extension (OpenCTI 5.12+ exports and streams): ``detection``, ``score``, ...
OPENCTI_EXTENSION = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"


def _opencti(o: dict[str, Any]) -> tuple[bool | None, int | None]:
    """(detection, score) of an OpenCTI indicator: the custom ``x_opencti_detection``/``x_opencti_score``
    properties of older exports and pycti, or the same fields of OpenCTI's property extension; None when absent.

    OpenCTI's detection flag says whether the indicator is meant for detection (the MISP connector sets it
    from ``to_ids``); the score (0-100) is how malicious the platform rates it.
    """
    ext = o.get("extensions")
    ext = ext.get(OPENCTI_EXTENSION) if isinstance(ext, dict) else None
    ext = ext if isinstance(ext, dict) else {}
    detection = o.get("x_opencti_detection", ext.get("detection"))
    score = o.get("x_opencti_score", ext.get("score"))
    return (None if detection is None else _flag(detection),
            int(score) if isinstance(score, int | float) and not isinstance(score, bool) else None)


def _benign(o: dict[str, Any]) -> bool:
    """An indicator typed only ``benign`` (STIX 2.1 ``indicator_types``; 2.0 ``labels``): a pattern of
    benign activity (indicator-type-ov), not a threat to match."""
    types = o["indicator_types"] if "indicator_types" in o else None if "spec_version" in o else o.get("labels")
    return isinstance(types, list) and bool(types) and all(str(t).lower() == "benign" for t in types)
