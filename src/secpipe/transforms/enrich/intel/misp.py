"""MISP into indicator rows: event exports (``misp``), feed directories (``misp_feed``) and warninglists.

Event exports (``{"Event": ...}``, bare events, ``{"response": [...]}``, an attribute search's
``{"response": {"Attribute": [...]}}`` whose attributes name their event's ``info``): attributes in the event
and its objects with ``to_ids`` set (``true`` or the ``"1"`` of older exports) and of a type in
:data:`_MISP_KIND` (or a compound ``ip|port``, ``domain|ip``, ``filename|<hash>``, or a ``malware-sample``,
``filename|md5``) are indicators;
``threat_level_id`` 1/2/3 give confidence 90/70/50, event and attribute tags become labels, and
sightings count as MISP defines them (:func:`_sightings`). An event that says it is not published
(``"published": false`` / ``"0"``: a draft its analysts have not released) gives no indicator unless asked
(``unpublished``): MISP releases an event to its sharing partners, feeds (PyMISP's feed generator filters on
``published``) and IDS exports when it is published, so its attributes are context until then, counted as
``to_ids``-off attributes are. An event without the key (other tools' exports) counts as published. MISP's CSV export of attributes is read
with the same rules (:func:`load_misp_csv`). A feed directory is its ``manifest.json``
and ``<uuid>.json`` events. Warninglists are allow entries with MISP's matching semantics per list
``type`` (:func:`load_warninglist`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.transforms.enrich.intel.indicators import (
    KINDS,
    SCHEMA,
    FeedError,
    Loaded,
    _first_line,
    _flag,
    _json,
    _ms,
    _rows,
    _table,
    classify,
    malformed,
    normalize,
)

__all__ = ["HOST", "PATTERN", "URL_HOST", "is_misp_csv", "load_misp", "load_misp_csv", "load_misp_feed",
           "load_warninglist"]
log = logging.getLogger("secpipe.enrich.intel")


_MISP_KIND = {"ip-src": "ip", "ip-dst": "ip", "domain": "domain", "hostname": "domain", "url": "url",
              "email": "email", "email-src": "email", "email-dst": "email", "email-reply-to": "email",
              "ja3-fingerprint-md5": "ja3", "AS": "asn",
              "x509-fingerprint-md5": "x509", "x509-fingerprint-sha1": "x509", "x509-fingerprint-sha256": "x509",
              "md5": "hash", "sha1": "hash", "sha224": "hash", "sha256": "hash", "sha384": "hash", "sha512": "hash",
              "sha512/224": "hash", "sha512/256": "hash", "sha3-224": "hash", "sha3-256": "hash", "sha3-384": "hash",
              "sha3-512": "hash"}
_THREAT_CONF = {1: 90, 2: 70, 3: 50}


def _misp_events(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        return [e for d in doc for e in _misp_events(d)]
    if not isinstance(doc, dict):
        return []
    if "response" in doc:
        return _misp_events(doc["response"])
    if "Event" in doc and isinstance(doc["Event"], dict):
        return [doc["Event"]]
    if "Attribute" in doc or "Object" in doc:
        return [doc]
    return []


def _misp_attr(a: dict[str, Any]) -> list[tuple[str, str]]:
    t = str(a.get("type", ""))
    v = str(a.get("value", ""))
    if t in _MISP_KIND:
        return [(_MISP_KIND[t], v)]
    if t in ("ip-src|port", "ip-dst|port"):
        return [("ip", v.rsplit("|", 1)[0])]
    if t == "hostname|port":
        return [("domain", v.rsplit("|", 1)[0])]
    if t == "domain|ip" and "|" in v:
        d, ip = v.split("|", 1)
        return [("domain", d), ("ip", ip)]
    if t.startswith("filename|") and t.split("|", 1)[1] in _MISP_KIND and "|" in v:
        return [("hash", v.rsplit("|", 1)[1])]
    if t == "malware-sample" and "|" in v:  # the sample MISP holds, named "filename|md5" (its MD5)
        return [("hash", v.rsplit("|", 1)[1])]
    return []


def load_misp(data: bytes, conf: int, max_age_ms: int | None = None, unpublished: bool = False) -> Loaded:
    """MISP event export(s); only ``to_ids`` attributes of published events (all events with ``unpublished``) are
    indicators.

    Attributes without ``to_ids`` are context, not counted as skipped, except in an export that has no
    indicator at all: there they are the skipped entries, so an event shared for context only is an empty
    feed (status says why), not a body that "parsed to no indicators"."""
    doc = _json(data, "MISP")
    events = _misp_events(doc)
    if not events and isinstance(doc, dict) and doc.get("response") == []:
        return Loaded(SCHEMA.empty_table(), empty=True)  # a restSearch that matched no event (`last: 1d`, none new)
    if not events:
        raise FeedError("MISP: no Event found — expected {\"Event\": {...}} or an event with Attribute")  # noqa: EM101
    rows: list[dict[str, Any]] = []
    skipped = context = drafts = 0
    for ev in events:
        tags = [t.get("name") for t in ev.get("Tag", []) if isinstance(t, dict) and t.get("name")]
        try:
            level = int(ev.get("threat_level_id") or 4)
        except ValueError:
            level = 4
        c = _THREAT_CONF.get(level, conf)
        attrs = list(ev.get("Attribute", []))
        for obj in ev.get("Object", []) or []:
            if not _flag(obj.get("deleted")):
                attrs.extend(obj.get("Attribute", []) or [])
        draft = not unpublished and "published" in ev and not _flag(ev.get("published"))
        drafts += draft
        for a in attrs:
            if _flag(a.get("deleted")):
                continue
            # an attribute search ({"response": {"Attribute": [...]}}) names each attribute's event in its "Event"
            owner = a.get("Event") if isinstance(a.get("Event"), dict) else {}
            if draft or not _flag(a.get("to_ids")) or (not unpublished and not _flag(owner.get("published", True))):
                context += 1
                continue
            terms = _misp_attr(a)
            false_positive, expired_at = _sightings(a.get("Sighting"))
            if not terms or false_positive:
                skipped += 1
                continue
            atags = [t.get("name") for t in a.get("Tag", []) if isinstance(t, dict) and t.get("name")]
            ts = _ms(a.get("timestamp"))
            until = ts + max_age_ms if ts is not None and max_age_ms is not None else None
            if expired_at is not None:
                until = expired_at if until is None else min(until, expired_at)
            info = owner.get("info") or ev.get("info")
            for kind, value in terms:
                rows.append({"kind": kind, "value": value, "confidence": c, "labels": tags + atags,
                             "valid_until": until, "description": info, "ref": a.get("uuid")})
    out = _rows(rows, conf)
    out.skipped += skipped if out.table.num_rows or skipped else context
    if drafts:
        log.info("MISP: %d of %d events are not published (drafts): their attributes are context, not indicators — "
                 "set `unpublished: true` on the feed to use them", drafts, len(events))
    return out


#: the columns that mark MISP's CSV export of attributes (``/events/csv/download``, restSearch
#: ``returnFormat: csv``): ``uuid,event_id,category,type,value,comment,to_ids,date[,object_relation,attribute_tag,...]``
_MISP_CSV_COLUMNS = frozenset({"type", "value", "to_ids", "category"})
#: ``event_threat_level_id`` of CSV exports with event context, as a number or MISP's name for it
_THREAT_NAMES = {"high": 1, "medium": 2, "low": 3, "undefined": 4}


def is_misp_csv(columns: Any) -> bool:
    """True for the header of MISP's CSV export of attributes."""
    return _MISP_CSV_COLUMNS <= {str(c).strip().lower() for c in columns if c is not None}


def load_misp_csv(rows: list[dict[str, Any]], conf: int, labels: list[str] | None = None) -> Loaded:
    """MISP's CSV export, one attribute per row, read as the JSON export is: only rows with ``to_ids`` set
    (``1``) are indicators, of the attribute types :func:`_misp_attr` knows (others, such as
    ``whois-registrant-email`` or ``user-agent``, are skipped and counted); ``attribute_tag`` and
    ``event_tag`` (comma-separated) become labels, ``event_threat_level_id`` the confidence, ``uuid`` the ref
    and ``event_info`` the description when the export carries event context."""
    out: list[dict[str, Any]] = []
    skipped = context = 0
    for raw in rows:
        r = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        if not _flag(r.get("to_ids")):
            context += 1  # context, not for detection (counted as in the JSON export)
            continue
        terms = _misp_attr({"type": str(r.get("type") or "").strip(), "value": str(r.get("value") or "").strip()})
        if not terms:
            skipped += 1
            continue
        tags = [t.strip() for col in ("event_tag", "attribute_tag") for t in str(r.get(col) or "").split(",") if t.strip()]
        level = str(r.get("event_threat_level_id") or "").strip().lower()
        c = _THREAT_CONF.get(_THREAT_NAMES.get(level, int(level) if level.isdigit() else 4), conf)
        for kind, value in terms:
            out.append({"kind": kind, "value": value, "confidence": c, "labels": (labels or []) + tags,
                        "description": r.get("event_info") or None, "ref": r.get("uuid") or None})
    loaded = _rows(out, conf)
    loaded.skipped += skipped if loaded.table.num_rows or skipped else context
    return loaded


def _sightings(sightings: Any) -> tuple[bool, int | None]:
    """(false positive, expiry ms) from an attribute's MISP sightings.

    MISP sighting ``type`` 0 is a sighting, 1 a false positive, 2 an expiration: the attribute
    is a false positive when its latest sighting/false-positive report is a false positive, and
    expires at its earliest expiration sighting.
    """
    if not isinstance(sightings, list) or not sightings:
        return False, None
    latest: tuple[int, str] | None = None
    expiry: int | None = None
    for s in sightings:
        if not isinstance(s, dict):
            continue
        kind, when = str(s.get("type", "0")), _ms(s.get("date_sighting"))
        if when is None:
            continue
        if kind == "2":
            expiry = when if expiry is None else min(expiry, when)
        elif kind in ("0", "1") and (latest is None or when >= latest[0]):
            latest = (when, kind)
    return latest is not None and latest[1] == "1", expiry


def load_misp_feed(directory: Path, conf: int, max_age_ms: int | None = None, unpublished: bool = False) -> Loaded:
    """A MISP feed directory: every event listed in ``manifest.json`` (see :func:`load_misp`)."""
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        msg = f"MISP feed: {manifest} not found — point `path` at a MISP feed directory"
        raise FeedError(msg)
    uuids = list(_json(manifest.read_bytes(), "MISP manifest"))
    present = [u for u in uuids if (directory / f"{u}.json").is_file()]
    if uuids and not present:
        msg = f"MISP feed: none of the {len(uuids)} events in {manifest} has its <uuid>.json file — re-sync the feed"
        raise FeedError(msg)
    if len(present) < len(uuids):
        log.warning("MISP feed %s: %d of %d events listed in manifest.json have no <uuid>.json (skipped, counted)",
                    directory, len(uuids) - len(present), len(uuids))
    parts = []
    for u in present:
        with malformed(f"misp_feed {u}.json"):
            parts.append(load_misp((directory / f"{u}.json").read_bytes(), conf, max_age_ms, unpublished))
    return Loaded(pa.concat_tables([p.table for p in parts]) if parts else SCHEMA.empty_table(),
                  sum(p.skipped for p in parts) + len(uuids) - len(present))


#: a warninglist's MISP attribute types -> kinds: the event attributes' (:data:`_MISP_KIND`) and the
#: compound types warninglists also name
_WL_KIND = {**_MISP_KIND, "domain|ip": "ip", "ip-src|port": "ip", "ip-dst|port": "ip", "uri": "url"}


#: kind of the allow entries of ``substring``/``regex`` warninglists; ``labels`` holds the observable kinds
PATTERN = "pattern"
#: kind of the domain entries of ``string`` warninglists: that exact name, not its subdomains
HOST = "host"
#: kind of the domain entries of ``hostname`` warninglists that also apply to the host of a URL
URL_HOST = "url_host"
_DELIMITED = re.compile(r"^/(?P<re>.*)/(?P<flags>[a-zA-Z]*)$", re.S)


def _warning_patterns(entries: list[str], kind_of: str, name: str) -> tuple[list[str], int]:
    """RE2 patterns of a ``substring`` / ``regex`` warninglist, and how many entries were refused."""
    out: list[str] = []
    bad = 0
    for e in entries:
        if not e:
            bad += 1
            continue
        if kind_of == "substring":
            out.append(re.escape(e))
            continue
        m = _DELIMITED.match(e)  # MISP evaluates these with PHP preg_match: "/.../i"
        rx = (("(?i)" if "i" in m["flags"] else "") + m["re"]) if m else e
        try:
            pc.match_substring_regex(pa.array([""]), rx)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            bad += 1
            log.warning("MISP warninglist %s: regex %r is not supported (%s) — entry skipped", name, e, _first_line(exc))
            continue
        out.append(rx)
    return out, bad


def load_warninglist(data: bytes) -> Loaded:
    """MISP warninglist JSON as allow entries, with MISP's matching semantics per list ``type``.

    - ``cidr``: networks (an address is allowed when a network contains it);
    - ``string``: exact values; a domain entry allows that name only (kind :data:`HOST`), never
      its subdomains, and an entry with a ``/`` is the literal string, never a network;
    - ``hostname``: a domain entry allows the name and its subdomains (``.example.com`` and
      ``*.example.com`` mean the same); when ``matching_attributes`` names ``url``/``uri`` (or
      is absent), the host of a URL is checked too (kind :data:`URL_HOST`);
    - ``substring`` / ``regex``: one ``pattern`` row each (``labels`` = the observable kinds
      from ``matching_attributes``), matched with RE2 on the distinct values.

    This follows MISP (``Warninglist.php``) and PyMISPWarningLists ``_slow_search``.
    """
    doc = _json(data, "MISP warninglist")
    if not isinstance(doc, dict) or not isinstance(doc.get("list"), list):
        raise FeedError("MISP warninglist: expected an object with a `list` array")  # noqa: EM101
    kind_of = doc.get("type", "string")
    attrs = doc.get("matching_attributes") or []
    allowed = {_WL_KIND[a] for a in attrs if a in _WL_KIND} or set(KINDS)
    if kind_of in ("substring", "regex"):
        pats, bad = _warning_patterns([str(v) for v in doc["list"]], kind_of, str(doc.get("name")))
        kinds = sorted(allowed)
        t = _table(pa.array([PATTERN] * len(pats), pa.string()), pa.array(pats, pa.string()), 100,
                   [kinds] * len(pats), description=doc.get("name"))
        return Loaded(t, bad)
    if kind_of not in ("cidr", "string", "hostname"):
        msg = f"MISP warninglist type {kind_of!r} — supported: cidr, string, hostname, substring, regex"
        raise FeedError(msg)
    raw = pa.array([str(v) for v in doc["list"]], pa.string())
    values = raw
    if kind_of == "hostname":  # ".example.com" = example.com and below (PyMISP: v.lstrip("."))
        values = pc.utf8_ltrim(pc.utf8_trim_whitespace(raw), characters=".")
    kind, norm = classify(values)
    if kind_of == "hostname":
        kind = pc.if_else(pc.is_valid(kind), pc.if_else(pc.equal(kind, "ip"), "ip", "domain"), kind)
        norm = normalize(kind, values)
    kind = pc.if_else(pc.is_in(kind, value_set=pa.array(sorted(allowed))), kind, pa.scalar(None, pa.string()))
    if kind_of == "string":
        literal_net = pc.and_(pc.equal(kind, "ip"), pc.match_substring(norm, "/"))
        kind = pc.if_else(pc.fill_null(literal_net, False), pa.scalar(None, pa.string()), kind)
        kind = pc.if_else(pc.fill_null(pc.equal(kind, "domain"), False), HOST, kind)
    t = _table(kind, norm, 100, description=doc.get("name"))
    if kind_of == "hostname" and "url" in allowed:
        doms = t.filter(pc.equal(t.column("kind"), "domain"))
        t = pa.concat_tables([t, doms.set_column(0, "kind", pa.repeat(pa.scalar(URL_HOST), doms.num_rows))])
        return Loaded(t, len(values) - t.num_rows + doms.num_rows)
    return Loaded(t, len(values) - t.num_rows)