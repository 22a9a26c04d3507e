"""Parse indicator feeds into one columnar indicator table.

Every loader returns a :class:`Loaded`: an Arrow table with the columns of :data:`SCHEMA`
(``kind`` ip|domain|url|hash|asn|email|ja3|x509, normalized ``value``, ``confidence`` 0-100, ``labels``,
``valid_until`` ms or null, ``description``, ``ref``, ``valid_from`` ms or null) and the number of entries it skipped
(unsupported STIX patterns, non-IOC MISP attributes, unparseable lines) so status can say so.
This module reads the line and team lists and dispatches the rest: the table and the value rules
all loaders share are in :mod:`.indicators`, MISP in :mod:`.misp`, STIX in :mod:`.stix`, abuse.ch
and other vendor CSV/JSON in :mod:`.tabular` and :mod:`.vendor`.

Formats:

- ``stix``: STIX 2.0/2.1 bundles. Indicators with ``pattern_type`` stix: the alternatives of
  the pattern that one field value can soundly match (``=``/``IN``/``ISSUBSET`` on
  ipv4/ipv6-addr, domain-name, url, email-addr (and an email-message's ``from_ref``/``sender_ref``),
  autonomous-system numbers,
  file and artifact hashes, ``network-traffic:*_ref.value``); an ``AND`` is loaded only when its other terms
  are implied by the indicator (a ``*_ref.type``, more hashes or content properties of the same
  file), never split into an ``OR``. See :mod:`.stix_pattern`. Revoked indicators, those typed
  only ``benign`` and OpenCTI's with detection off (``x_opencti_detection: false`` or its property
  extension's ``detection``, OpenCTI's ``to_ids``) are skipped; without ``confidence``, OpenCTI's
  ``x_opencti_score`` is the confidence; ``valid_from``/``valid_until`` kept (matched only in between). A bundle with no ``indicator`` object at all
  (MITRE ATT&CK, a report or observables only) is refused, naming the object types it has.
- ``misp``: MISP event exports (``{"Event": ...}``, bare events, ``{"response": [...]}``);
  attributes in the event and its objects with ``to_ids`` set (``true`` or the ``"1"`` of older
  exports), of types ip-src/ip-dst(|port), domain, hostname(|port), domain|ip, url,
  email/email-src/email-dst/email-reply-to, ja3-fingerprint-md5, x509-fingerprint-md5/sha1/sha256, AS,
  md5/sha1/sha224/sha256/sha384/sha512(/224, /256)/sha3-*, ``filename|<hash>`` and ``malware-sample`` (its MD5).
  ``threat_level_id`` 1/2/3 give confidence 90/70/50; event and attribute tags become labels. An event with
  ``"published": false`` (a draft) gives none unless the feed sets ``unpublished: true``: its attributes count as context.
  Attribute sightings count as MISP defines them: an attribute whose latest report is a
  false-positive sighting (type 1) is skipped; an expiration sighting (type 2) is its ``valid_until``.
  MISP's CSV export of attributes (``uuid,event_id,category,type,value,comment,to_ids,...``), as ``csv``,
  ``misp`` or sniffed, follows the same ``to_ids`` and type rules.
- ``misp_feed``: a MISP feed directory (``manifest.json`` + ``<uuid>.json``); events listed
  but missing are skipped and counted (all missing is an error).
- ``abusech_csv``: abuse.ch CSV exports (Feodo, SSLBL IP/SHA1/JA3, URLhaus, ThreatFox): see
  :mod:`.tabular` for the header and indicator-column rules.
- ``spamhaus_drop``: DROP/EDROP ``CIDR ; SBLnnn`` lines (``;`` comments) or NDJSON, and
  ASN-DROP (``ASnnn ; CC | NAME`` or NDJSON ``{"asn": ...}``) as ``asn`` indicators.
- ``plain``: one indicator per line (``#``/``;``/``!`` comments); kind from the value; an Adblock/AdGuard rule for a
  whole host (``||evil.example^``) is that host. A line that
  is not one IOC falls back to its first token (``IOC note``, ``hash  file``), or its second
  for hosts-file lines (``0.0.0.0 name``) and the Tor exit list's ``ExitAddress ip date time``; a tab-, ``;``- or
  ``|``-separated line to its first field that is one (DataPlane.org's ``ASN | ASname | saddr | utc | category``,
  netlab 360's ``family<TAB>domain<TAB>...``).
- ``csv`` / ``yaml`` / ``json``: team lists (``auto`` tells YAML by its extension or its first line: ``---``,
  ``- key: ...`` or a top key) with ``value`` (or ``indicator``) and optional
  ``kind``/``type``, ``confidence``, ``labels``, ``valid_until`` (or ``expiration``), ``description``, keys in any
  case; Microsoft Defender for Endpoint's indicators (the portal's CSV import/export ``IndicatorType,IndicatorValue,
  ExpirationTime,Action,...`` and the ``{"value": [...]}`` answer of its API; ``Allowed`` entries are allow
  entries, skipped and counted) and Maltiverse collection downloads (``ip_addr``/``hostname``/``url``/``sha256``
  by ``type``; ``whitelist`` entries skipped) read the same way; STIX/OTX type names are understood; JSON also
  takes Feodo ``ipblocklist.json``, AbuseIPDB's blacklist (``{"data": [{"ipAddress", "abuseConfidenceScore"}]}``,
  the score the confidence), ThreatFox and PhishTank exports (see :mod:`.tabular`; PhishTank's ``target``
  brand is a label, ``phish_id`` the ref, an unverified submission skipped),
  AlienVault OTX pulses and CrowdSec decisions (see :mod:`.vendor`).
- STIX also arrives as TAXII 2.1 envelopes (``{"more": ..., "objects": [...]}``).
- ``misp_warninglist``: for allowlists; ``cidr``, ``string`` (exact), ``hostname`` (the name
  and its subdomains, also the host of a URL), ``substring`` and ``regex`` lists (the last two
  matched with RE2; PHP ``/.../i`` delimiters understood, entries RE2 cannot compile are
  skipped and counted). See :func:`load_warninglist`.

Everywhere, ``ip:port`` and ``[v6]:port`` values become the address, and a top-level
domain label needs a letter, so a malformed address (``999.1.1.1``) is skipped, never a domain.

A body downloaded as a zip archive (one file) or gzip is read as the file it holds; one that starts with a
byte-order mark (UTF-8, UTF-16 or UTF-32, as Windows tools write lists), or in Windows-1252, as the UTF-8 text
it holds (:func:`as_utf8`).

Bulk paths (plain, spamhaus, abuse.ch CSV, team CSV) are parsed by Arrow's CSV reader and
Arrow kernels, so a million-line list loads in about a second.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import zipfile
import zlib
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from secpipe import _compute as pc
from secpipe.transforms.enrich._ip import parse_networks
from secpipe.transforms.enrich.intel import stix as _stix
from secpipe.transforms.enrich.intel import tabular as _tab
from secpipe.transforms.enrich.intel.indicators import (
    CASELESS_KINDS,
    KINDS,
    SCHEMA,
    FeedError,
    Loaded,
    _const_labels,
    _first_line,
    _lines,
    _mask,
    _ms,
    _put,
    _rows,
    _table,
    _uncomment,
    _where,
    asn_values,
    canonical_urls,
    classify,
    malformed,
    normalize,
)
from secpipe.transforms.enrich.intel.misp import (
    HOST,
    PATTERN,
    URL_HOST,
    is_misp_csv,
    load_misp,
    load_misp_csv,
    load_misp_feed,
    load_warninglist,
)
from secpipe.transforms.enrich.intel.stix_pattern import stix_pattern_terms
from secpipe.transforms.enrich.intel.vendor import CROWDSEC_RAW_HEADER, crowdsec_raw_rows, vendor_rows

__all__ = ["CASELESS_KINDS", "HOST", "KINDS", "PATTERN", "SCHEMA", "URL_HOST", "FeedError", "Loaded", "canonical_urls",
           "classify", "load", "load_misp", "load_misp_feed", "load_plain", "load_spamhaus", "load_team",
           "load_team_rows", "load_warninglist", "normalize", "sniff", "stix_pattern_terms", "unpack"]


# --------------------------------------------------------------------------------------
# Line and CSV lists
# --------------------------------------------------------------------------------------


def load_plain(data: bytes, conf: int, kind: str = "auto", labels: list[str] | None = None) -> Loaded:
    """One indicator per line; ``#``/``;`` comments and trailing ``# ...`` notes ignored.

    An IPv4 range line (``start-end``, or ``start<TAB>end ...`` as in the DShield block list) is
    the networks that cover exactly that range, never just its first address.
    """
    lines = _uncomment(_lines(data), "#;!")
    parts = []
    used = 0  # lines that gave indicators
    # Classify in slices so the temporaries of a million-line list stay small.
    for start in range(0, len(lines), _SLICE):
        chunk = lines.slice(start, _SLICE)
        adblock = pc.starts_with(chunk, "||")
        if pc.any(adblock).as_py():
            chunk = pc.if_else(adblock, pc.replace_substring_regex(chunk, _ADBLOCK_RE, r"\1"), chunk)
        noted = pc.or_(pc.match_substring(chunk, "#"), pc.match_substring(chunk, ";"))
        if pc.any(noted).as_py():
            chunk = pc.if_else(noted, pc.replace_substring_regex(chunk, r"\s[#;].*$", ""), chunk)
        values = pc.utf8_trim_whitespace(chunk)
        k, v = classify(values)
        is_range, nets = _ranges(values, k)
        k, v = _token_fallback(values, k, v)
        if is_range.any():
            k = pc.if_else(pa.array(is_range), pa.scalar(None, pa.string()), k)
            if kind in ("auto", "ip"):
                used += int(is_range.sum())
                parts.append(_table(pa.array(["ip"] * len(nets), pa.string()), pa.array(nets, pa.string()), conf,
                                    _const_labels(labels, len(nets))))
        if kind != "auto":
            ok = pc.fill_null(pc.equal(k, kind), False)
            k = pc.if_else(ok, k, pa.scalar(None, pa.string()))
        t = _table(k, v, conf, _const_labels(labels, len(v)))
        used += t.num_rows
        parts.append(t)
    t = pa.concat_tables(parts).combine_chunks() if parts else SCHEMA.empty_table()
    return Loaded(t, len(lines) - used)


_RANGE_RE = r"^(\d{1,3}(?:\.\d{1,3}){3})(?:\s*-\s*|\s+)(\d{1,3}(?:\.\d{1,3}){3})(?:\s|$)"


def _ranges(values: pa.Array, kind: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Lines that are an IPv4 range ``start end`` / ``start-end`` (start <= end, not a hosts-file sink).

    Returns the mask of those lines and the CIDRs covering all of them (in line order).
    Only the few lines of that shape reach Python.
    """
    cand = _where(_mask(pc.is_null(kind)), values, lambda x: _mask(pc.match_substring_regex(x, _RANGE_RE)))
    nets: list[str] = []
    if not cand.any():
        return cand, nets
    for i, line in zip(np.flatnonzero(cand).tolist(), values.filter(pa.array(cand)).to_pylist(), strict=True):
        m = re.match(_RANGE_RE, line)
        try:
            lo, hi = ipaddress.IPv4Address(m[1]), ipaddress.IPv4Address(m[2])  # type: ignore[index]
        except ValueError:
            cand[i] = False
            continue
        if lo > hi or lo.is_unspecified or lo.is_loopback:  # "0.0.0.0 1.2.3.4" is a hosts-file line, not a range
            cand[i] = False
            continue
        nets.extend(str(n) for n in ipaddress.summarize_address_range(lo, hi))
    return cand, nets


_SLICE = 1 << 17
#: an Adblock Plus / AdGuard network rule for a whole host (``||evil.example^``, options after ``$``), as the
#: malware-filter lists (urlhaus-filter, phishing-filter) publish them; a rule with a path (``||host/path^``) names
#: a URL of a host that is not itself bad, and stays unread (skipped, counted)
_ADBLOCK_RE = r"^\|\|([^/^$|*]+)\^(?:\$[^/]*)?$"
#: a first token that is not the indicator but says the next one is: a hosts-file sink address (``0.0.0.0 name``),
#: or the ``ExitAddress`` keyword of the Tor Project's exit list (TorDNSEL ``exit-addresses``: ``ExitAddress <ip>
#: <date> <time>``; its ``ExitNode <fingerprint>`` lines are relay ids, never hashes of a file)
_LEADER = r"^(?:0\.0\.0\.0|127\.0\.0\.1|::1?|ExitAddress)\s+"


def _token_fallback(values: pa.Array, kind: pa.Array, value: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Lines that are not one IOC: hosts-file ``0.0.0.0 name`` and Tor ``ExitAddress ip ...`` -> the second token,
    else ``IOC note`` / ``hash  file`` -> the first."""
    retry = _where(_mask(pc.is_null(kind)), values, lambda x: _mask(pc.match_substring_regex(x, r"\s")))
    if not retry.any():
        return kind, value
    lines = values.filter(pa.array(retry))
    sink = pc.fill_null(pc.match_substring_regex(lines, _LEADER), False)
    rest = pc.replace_substring_regex(lines, _LEADER, "")
    named = pc.if_else(sink, rest, lines)  # a hosts-file line past its sink address: never that address
    token = pc.list_element(pc.split_pattern_regex(named, r"\s+", max_splits=1), 0)
    k2, v2 = classify(token)
    k2, v2 = _field_fallback(named, k2, v2)
    return _put(kind, retry, k2), _put(value, retry, v2)


def _field_fallback(lines: pa.Array, kind: pa.Array, value: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Tab-, ``;``- or ``|``-separated lines whose first token is no IOC -> their first field that is one:
    DataPlane.org's reports (``ASN  |  ASname  |  saddr  |  utc  |  category``) and netlab 360's DGA list
    (``family<TAB>domain<TAB>start<TAB>end``) put a number or a family name first, and a list saved by Excel where
    the list separator is ``;`` (de-DE, fr-FR) is ``IOC;note`` without a space. Lines split by spaces only keep their first token (the
    Tor list's ``ExitNode <fingerprint>`` is a relay id, never a file hash)."""
    retry = _where(_mask(pc.is_null(kind)), lines, lambda x: _mask(pc.match_substring_regex(x, r"[\t|;]")))
    if not retry.any():
        return kind, value
    fields = pc.split_pattern_regex(lines.filter(pa.array(retry)), r"\s*[\t|;]\s*")
    k2, v2 = classify(pc.utf8_trim_whitespace(pc.list_flatten(fields)))
    hit = np.flatnonzero(_mask(pc.is_valid(k2)))
    if not len(hit):
        return kind, value
    parent = pc.list_parent_indices(fields).to_numpy()[hit]
    lines_hit, first = np.unique(parent, return_index=True)  # the first field that is an IOC, per line
    at = np.zeros(len(fields), bool)
    at[lines_hit] = True
    pick = pa.array(hit[first])
    found = np.zeros(len(lines), bool)
    found[np.flatnonzero(retry)[at]] = True
    return _put(kind, found, k2.take(pick)), _put(value, found, v2.take(pick))


def load_spamhaus(data: bytes, conf: int, labels: list[str] | None = None) -> Loaded:
    """Spamhaus DROP/EDROP/ASN-DROP, text (``CIDR ; SBLnnn``, ``ASnnn ; CC | NAME``) or NDJSON.

    NDJSON lines are ``{"cidr": ..., "sblid": ..., "rir": ...}`` (DROP) or ``{"asn": ...,
    "rir": ..., "domain": ..., "cc": ..., "asname": ...}`` (ASN-DROP); the closing ``{"type":
    "metadata", ...}`` line is not an entry. ASN-DROP entries are ``asn`` indicators (the
    decimal number), matched against ``asn_fields`` (``<ep>.autonomous_system.number``, which
    the geoip stage fills: put threat_intel after geoip).
    """
    lines = _lines(data)
    desc: Any = None
    if len(lines) and lines[0].as_py().startswith("{"):
        rows = [_json_line(x) for x in lines.to_pylist()]
        rows = [r for r in rows if r.get("type") != "metadata"]
        values = pa.array([str(r.get("cidr") or r.get("asn") or "") for r in rows], pa.string())
        is_asn = pa.array([r.get("asn") is not None and r.get("cidr") is None for r in rows], pa.bool_())
        refs = pa.array([r.get("sblid") for r in rows], pa.string())
        desc = pa.array([_asn_desc(r) if r.get("asn") is not None else None for r in rows], pa.string())
    else:
        lines = _uncomment(lines, ";#")
        parts = pc.split_pattern(lines, ";", max_splits=1)
        values = pc.utf8_trim_whitespace(pc.list_element(parts, 0))
        has_ref = pc.greater(pc.list_value_length(parts), 1)
        refs = pc.if_else(has_ref, pc.utf8_trim_whitespace(pc.list_element(pc.if_else(has_ref, parts, pa.scalar(["", ""], parts.type)), 1)),
                          pa.scalar(None, pa.string()))
        is_asn = pc.fill_null(pc.match_substring_regex(values, r"^[Aa][Ss]\d+$"), False)
        desc, refs = pc.if_else(is_asn, refs, pa.scalar(None, pa.string())), pc.if_else(is_asn, pa.scalar(None, pa.string()), refs)
    asn = asn_values(values)
    ok = pa.array(parse_networks(values).ok)
    kind = pc.if_else(is_asn, pc.if_else(pc.is_valid(asn), "asn", pa.scalar(None, pa.string())),
                      pc.if_else(ok, "ip", pa.scalar(None, pa.string())))
    t = _table(kind, pc.if_else(is_asn, asn, values), conf, _const_labels(labels, len(values)), ref=refs,
               description=desc)
    return Loaded(t, len(values) - t.num_rows)


def _json_line(line: str) -> dict[str, Any]:
    """One NDJSON entry; a line that is not a JSON object is an empty entry (skipped, counted)."""
    try:
        row = json.loads(line)
    except ValueError:
        return {}
    return row if isinstance(row, dict) else {}


def _asn_desc(r: dict[str, Any]) -> str:
    where = ", ".join(str(r[k]) for k in ("domain", "cc", "rir") if r.get(k))
    return f"{r.get('asname') or 'AS' + str(r['asn'])}" + (f" ({where})" if where else "")


def load_team_rows(rows: list[dict[str, Any]], conf: int, labels: list[str] | None = None) -> Loaded:
    """Team lists (YAML/JSON/CSV rows): value/indicator, kind/type, confidence, labels, valid_until."""
    out: list[dict[str, Any]] = []
    other = 0  # vendor entries of an IOC type with no kind here, and allow entries
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            msg = f"entry {i}: expected a mapping with `value`, got {type(r).__name__}"
            raise FeedError(msg)
        if any(isinstance(k, str) and not k.islower() for k in r):  # "Value", Defender's "indicatorValue"
            r = {k.lower() if isinstance(k, str) else k: v for k, v in r.items()}
        if (str(r.get("action") or "").strip().lower() in _ALLOW_ACTIONS
                or str(r.get("classification") or "").strip().lower() in _tab.BENIGN_CLASSES):
            other += 1  # an allow entry (Defender "Allowed", CrowdStrike "allow", Maltiverse "whitelist"): no threat
            continue
        if "phish_id" in r and str(r.get("verified") or "").strip().lower() == "no":
            other += 1  # a PhishTank submission its community has not verified as a phish
            continue
        value, kind, extra = _tab.team_row(r)
        if value in (None, ""):
            msg = f"entry {i}: no `value` (or `indicator`, `ioc_value`, `ip_address`, ...) — every entry needs the indicator itself"
            raise FeedError(msg)
        lab = r.get("labels", [])
        lab = [x.strip() for x in re.split(r"[;|]", lab) if x.strip()] if isinstance(lab, str) else list(lab or [])
        if kind is not None and kind not in KINDS:
            if "kind" not in r and any(k in r for k in _tab.VENDOR_KIND_KEYS):  # a vendor's vocabulary: skip, count
                other += 1
                continue
            msg = f"entry {i}: kind {kind!r} — use one of {', '.join(KINDS)}"
            raise FeedError(msg)
        c = next((r[k] for k in _CONFIDENCE_KEYS if r.get(k) is not None), None)
        row = {"kind": kind, "value": str(value), "confidence": int(c) if c is not None and _is_int(c) else conf,
               "labels": (labels or []) + lab + extra,
               "valid_until": _ms(next((r[k] for k in _UNTIL_KEYS if r.get(k) not in (None, "")), None)),
               "description": r.get("description"), "ref": _ref(r)}
        out.append(row)
        if kind in (None, "hash"):
            out.extend({**row, "kind": "hash", "value": h} for h in _tab.sample_hashes(r, value))
    loaded = _rows(out, conf)
    loaded.skipped += other
    return loaded


#: an entry's confidence 0-100: team lists, ThreatFox's ``confidence_level``, AbuseIPDB's ``abuseConfidenceScore``
_CONFIDENCE_KEYS = ("confidence", "confidence_level", "abuseconfidencescore")
#: the end of an entry's validity: team lists, OTX/CrowdStrike ``expiration``, Defender's ``expirationTime``
_UNTIL_KEYS = ("valid_until", "expires", "expiration", "expirationtime", "expiration_time")
#: ``action`` values that make an entry an allow entry, not an indicator (Defender for Endpoint, CrowdStrike)
_ALLOW_ACTIONS = frozenset({"allowed", "allow"})


def _ref(r: dict[str, Any]) -> str | None:
    """The record's own id: ``ref``, the ``ioc_id``/``id`` of ThreatFox export/API records, PhishTank's ``phish_id``."""
    ref = next((r[k] for k in ("ref", "ioc_id", "id", "phish_id") if r.get(k) not in (None, "")), None)
    return None if ref is None else str(ref)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def load_team(data: bytes, fmt: str, conf: int, labels: list[str] | None = None,
              fetched_ms: int | None = None) -> Loaded:
    """Team list in CSV (header row), YAML or JSON (a list, or ``{indicators: [...]}``); ``fetched_ms`` dates
    the relative expiry of CrowdSec decisions (see :mod:`.vendor`)."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        rows: Any = list(reader)
        if is_misp_csv(reader.fieldnames or []):
            return load_misp_csv(rows, conf, labels)
        raw = crowdsec_raw_rows(list(reader.fieldnames or []), rows, fetched_ms)
        if raw is not None:  # cscli decisions list -o raw
            out = load_team_rows(raw[0], conf, labels)
            out.skipped += raw[1]
            return out
    else:
        try:
            rows = yaml.safe_load(data) if fmt == "yaml" else json.loads(data)
        except (yaml.YAMLError, ValueError) as exc:
            msg = f"{fmt.upper()} list does not parse: {exc}"
            raise FeedError(msg) from exc
    if isinstance(rows, dict) and rows and all(isinstance(v, dict) and "info" in v for v in rows.values()):
        msg = "this is a MISP feed manifest.json — use `format: misp_feed` with `path:` the feed directory"
        raise FeedError(msg)
    vendor = vendor_rows(rows, fetched_ms)
    if vendor is not None:  # AlienVault OTX pulses, CrowdSec decisions
        out = load_team_rows(vendor[0], conf, labels)
        out.skipped += vendor[1]
        return out
    status = rows.get("query_status") if isinstance(rows, dict) else None
    detail = rows.get("data") if isinstance(rows, dict) and isinstance(rows.get("data"), str) else None
    rows = _tab.json_records(rows)
    if isinstance(status, str) and (not isinstance(rows, list) or (not rows and status != "ok")):  # abuse.ch APIs
        msg = (f"the API answered query_status {status!r}{f' ({detail})' if detail else ''} and no entries — check"
               " the query and the Auth-Key (abuse.ch: no_result(s) means nothing matched)")
        raise FeedError(msg)
    if not isinstance(rows, list):
        msg = (f"{fmt.upper()} list: expected a list of entries, {{indicators: [...]}}, a ThreatFox export, an OTX pulse"
               " or CrowdSec decisions — for STIX/MISP set `format: stix` / `misp`")
        raise FeedError(msg)
    return load_team_rows(rows, conf, labels)


#: a TAXII 2.1 envelope with no objects: ``{}`` (what the OASIS reference server, medallion, answers for an empty
#: page) or only its ``more`` / ``next``
_EMPTY_ENVELOPE = rb'\{\s*(?:"(?:more|next)"\s*:\s*(?:true|false|"[^"]*")\s*,?\s*)*\}\s*'


#: the first line of a YAML team list: a document start, a list of mappings (``- value: ...``) or a top key
#: (``indicators:``); no IOC line starts so (``host:port`` has a dot or digit before its colon, a URL ``://``)
_YAML_START = rb"---\s*$|-\s+[A-Za-z_][\w-]*:(?:\s|$)|[A-Za-z_][\w-]*:\s*$"


def sniff(data: bytes, name: str = "") -> str:
    """Guess a feed format from its first bytes (and file name)."""
    head = data[:65536].lstrip()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if head[:1] in (b"{", b"["):
        if re.fullmatch(_EMPTY_ENVELOPE, head):
            return "stix"
        if (b'"type": "bundle"' in head or b'"type":"bundle"' in head or b'"pattern"' in head
                or (b'"objects"' in head and (b'"spec_version"' in head or b'"more"' in head))):  # bundles, TAXII 2.1 envelopes
            return "stix"
        if b'"matching_attributes"' in head or (b'"list"' in head and b'"Event"' not in head):
            return "misp_warninglist"
        if b'"Attribute"' in head or b'"Event"' in head or b'"Object"' in head or re.match(rb'\{\s*"response"\s*:', head):
            return "misp"
        if (b'"cidr"' in head and b'"sblid"' in head) or re.match(rb'\{\s*"asn"\s*:', head):
            return "spamhaus_drop"
        return "json"
    if re.search(rb"^\s*(?:[0-9a-fA-F:.]+/\d+\s*;\s*SBL|AS\d+\s*;)", head, re.M):
        return "spamhaus_drop"
    body = [ln for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith((b"#", b";", b"!"))]
    if body and re.match(_YAML_START, body[0]):
        return "yaml"
    if body and b"," in body[0]:
        crowdsec = body[0].lower().startswith(b",".join(x.encode() for x in CROWDSEC_RAW_HEADER))
        # Defender: IndicatorValue; PhishTank's data files: phish_id,url,...,target (read as records: brand, id)
        team = re.search(rb"\b(value|indicator)\b|(?i:\bindicator_?value\b)|^phish_id,", body[0])
        return "csv" if crowdsec or team else "abusech_csv"
    return "plain"


def _parse(data: bytes, fmt: str, conf: int, labels: list[str] | None, kind: str, column: str | None,
           max_age_ms: int | None, fetched_ms: int | None, unpublished: bool) -> Loaded:
    if fmt == "stix":
        return _stix.load_stix(data, conf)
    if fmt == "misp":
        if data.lstrip()[:1] not in (b"{", b"["):  # MISP's CSV export (load() adds the feed's labels)
            return load_team(data, "csv", conf)
        return load_misp(data, conf, max_age_ms, unpublished)
    if fmt == "misp_warninglist":
        return load_warninglist(data)
    if fmt == "abusech_csv":
        return _tab.load_abusech_csv(data, conf, labels, column)
    if fmt == "spamhaus_drop":
        return load_spamhaus(data, conf, labels)
    if fmt == "plain":
        return load_plain(data, conf, kind, labels)
    if fmt in ("csv", "yaml", "json"):
        return load_team(data, fmt, conf, labels, fetched_ms)
    msg = f"format {fmt!r} cannot be read from one body — use a directory path for misp_feed"
    raise FeedError(msg)


#: the most bytes a compressed feed may expand to (the line reader's own limit); a bigger one is refused
MAX_UNPACKED = (1 << 31) - 1


def unpack(data: bytes, name: str = "") -> tuple[bytes, str]:
    """A feed downloaded compressed, as abuse.ch serves its full dumps (URLhaus ``csv.txt`` and ThreatFox
    ``full.csv`` zipped, MalwareBazaar ``full.zip``) or a gzip file: the one file of a zip archive or the
    gunzipped body, with its name (for sniffing by extension); any other body as it is. Expansion stops at
    :data:`MAX_UNPACKED` bytes (a zip or gzip bomb is refused, never inflated)."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                files = [i for i in zf.infolist() if not i.is_dir()]
                if len(files) != 1:
                    msg = (f"zip archive holds {len(files)} files ({', '.join(i.filename for i in files[:5])}) — "
                           "a feed archive must hold one list; point the feed at that file")
                    raise FeedError(msg)
                with zf.open(files[0]) as f:
                    body = f.read(MAX_UNPACKED + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError) as exc:
            msg = f"zip archive does not open ({_first_line(exc)}) — a password-protected or damaged download?"
            raise FeedError(msg) from exc
        name = files[0].filename
    elif data[:2] == b"\x1f\x8b":
        body, rest = b"", data
        try:
            while rest and len(body) <= MAX_UNPACKED:  # concatenated gzip members, as `cat a.gz b.gz`
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body += d.decompress(rest, MAX_UNPACKED + 1 - len(body))
                if not d.eof and len(body) <= MAX_UNPACKED:
                    raise zlib.error("the stream ends before its end marker")  # noqa: EM101, TRY301
                rest = d.unused_data
        except zlib.error as exc:
            msg = f"gzip body does not decompress ({exc}) — a truncated download?"
            raise FeedError(msg) from exc
        name = name.removesuffix(".gz")
    else:
        return data, name
    if len(body) > MAX_UNPACKED:
        msg = f"compressed feed expands past {MAX_UNPACKED} bytes — refused (a compression bomb, or split the list)"
        raise FeedError(msg)
    return body, name


#: byte-order marks and their codecs (UTF-32 before UTF-16: its little-endian mark starts with UTF-16's)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def as_utf8(data: bytes) -> bytes:
    """A body as UTF-8 text: one that starts with a byte-order mark without it (decoded from UTF-16/32), one that is
    not UTF-8 but Windows-1252 text decoded from it; any other body as it is.

    Windows tools write lists that way: Notepad's and Excel's "UTF-8" put a BOM first, Windows PowerShell 5.1's
    ``Out-File`` and ``>`` write UTF-16LE with a BOM, and Excel's plain "CSV" is in the ANSI code page. Read as it
    came, the BOM hid the first entry of a list and the opening brace of a JSON document (a STIX bundle was then
    read as a plain list of nothing), and one accented description refused the whole list. A body with NUL bytes, or
    bytes Windows-1252 leaves undefined, is no such text and stays as it is (its reader says why)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if codec == "utf-8":
                return data[len(bom):]
            try:
                return data[len(bom):].decode(codec).encode()
            except UnicodeDecodeError as exc:
                msg = f"feed body starts with a {codec.upper()} byte-order mark but does not decode as {codec.upper()} ({exc})"
                raise FeedError(msg) from exc
    if data.isascii() or b"\x00" in data or _is_utf8(data):
        return data
    try:
        return data.decode("cp1252").encode()
    except UnicodeDecodeError:
        return data


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (Arrow's validation over the bytes in place, no decoded copy)."""
    text = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, len(data)], np.int64)), pa.py_buffer(data))
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def load(data: bytes, fmt: str, *, conf: int, labels: list[str] | None = None, kind: str = "auto",
         column: str | None = None, max_age_ms: int | None = None, name: str = "",
         fetched_ms: int | None = None, unpublished: bool = False) -> Loaded:
    """Parse a feed body in ``fmt`` (``auto``: sniffed) and apply the feed's defaults.

    ``fetched_ms``: when the body was fetched (or its file written); expiries a feed gives relative to
    that moment (CrowdSec decision durations) count from it, and are left open without it. A zip or gzip
    body is read as the file it holds (:func:`unpack`), a body with a byte-order mark as UTF-8 (:func:`as_utf8`).
    ``unpublished``: also the indicators of MISP events not yet published (see :func:`.misp.load_misp`).
    """
    data, name = unpack(data, name)
    data = as_utf8(data)
    if fmt in ("auto", "plain", "csv", "abusech_csv") and data.lstrip()[:1] == b"<":
        msg = ("feed body is XML or HTML (STIX 1.x, OpenIOC, or an error/login page) — not supported: "
               "use the STIX 2.1 / TAXII 2.1, MISP or CSV/text export of the feed, and check the URL")
        raise FeedError(msg)
    if fmt == "auto":
        fmt = sniff(data, name)
    with malformed(fmt):
        out = _parse(data, fmt, conf, labels, kind, column, max_age_ms, fetched_ms, unpublished)
    if labels and fmt in ("stix", "misp"):
        t = out.table
        merged = pa.array([labels + (x or []) for x in t.column("labels").to_pylist()], pa.list_(pa.string()))
        out.table = t.set_column(t.schema.get_field_index("labels"), "labels", merged)
    if kind != "auto" and fmt != "plain":
        t = out.table
        keep = pc.equal(t.column("kind"), kind)
        out.skipped += t.num_rows - int(pc.sum(keep).as_py() or 0)
        out.table = t.filter(keep)
    return out
