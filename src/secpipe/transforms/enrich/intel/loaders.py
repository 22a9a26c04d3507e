"""Parse indicator feeds into one columnar indicator table.

Every loader returns a :class:`Loaded`: an Arrow table with the columns of :data:`SCHEMA`
(``kind`` ip|domain|url|hash|asn|email|ja3|x509, normalized ``value``, ``confidence`` 0-100, ``labels``,
``valid_until`` ms or null, ``description``, ``ref``, ``valid_from`` ms or null) and the number of entries it skipped
(unsupported STIX patterns, non-IOC MISP attributes, unparseable lines) so status can say so.

Formats:

- ``stix``: STIX 2.0/2.1 bundles. Indicators with ``pattern_type`` stix: the alternatives of
  the pattern that one field value can soundly match (``=``/``IN``/``ISSUBSET`` on
  ipv4/ipv6-addr, domain-name, url, email-addr (and an email-message's ``from_ref``/``sender_ref``),
  autonomous-system numbers,
  file hashes, ``network-traffic:*_ref.value``); an ``AND`` is loaded only when its other terms
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
  md5/sha1/sha224/sha256/sha384/sha512(/224, /256)/sha3-* and ``filename|<hash>``.
  ``threat_level_id`` 1/2/3 give confidence 90/70/50; event and attribute tags become labels.
  Attribute sightings count as MISP defines them: an attribute whose latest report is a
  false-positive sighting (type 1) is skipped; an expiration sighting (type 2) is its ``valid_until``.
- ``misp_feed``: a MISP feed directory (``manifest.json`` + ``<uuid>.json``); events listed
  but missing are skipped and counted (all missing is an error).
- ``abusech_csv``: abuse.ch CSV exports (Feodo, SSLBL IP/SHA1/JA3, URLhaus, ThreatFox): see
  :mod:`.tabular` for the header and indicator-column rules.
- ``spamhaus_drop``: DROP/EDROP ``CIDR ; SBLnnn`` lines (``;`` comments) or NDJSON, and
  ASN-DROP (``ASnnn ; CC | NAME`` or NDJSON ``{"asn": ...}``) as ``asn`` indicators.
- ``plain``: one indicator per line (``#``/``;`` comments); kind from the value. A line that
  is not one IOC falls back to its first token (``IOC note``, ``hash  file``), or its second
  for hosts-file lines (``0.0.0.0 name``).
- ``csv`` / ``yaml`` / ``json``: team lists with ``value`` (or ``indicator``) and optional
  ``kind``/``type``, ``confidence``, ``labels``, ``valid_until``, ``description``; JSON also
  takes Feodo ``ipblocklist.json``, ThreatFox and PhishTank exports (see :mod:`.tabular`),
  AlienVault OTX pulses and CrowdSec decisions (see :mod:`.vendor`).
- STIX also arrives as TAXII 2.1 envelopes (``{"more": ..., "objects": [...]}``).
- ``misp_warninglist``: for allowlists; ``cidr``, ``string`` (exact), ``hostname`` (the name
  and its subdomains, also the host of a URL), ``substring`` and ``regex`` lists (the last two
  matched with RE2; PHP ``/.../i`` delimiters understood, entries RE2 cannot compile are
  skipped and counted). See :func:`load_warninglist`.

Everywhere, ``ip:port`` and ``[v6]:port`` values become the address, and a top-level
domain label needs a letter, so a malformed address (``999.1.1.1``) is skipped, never a domain.

Bulk paths (plain, spamhaus, abuse.ch CSV, team CSV) are parsed by Arrow's CSV reader and
Arrow kernels, so a million-line list loads in about a second.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from secpipe import _compute as pc
from secpipe.errors import TerminalError
from secpipe.transforms.enrich._ip import parse_networks
from secpipe.transforms.enrich.intel.stix_pattern import stix_pattern_terms
from secpipe.transforms.enrich.intel.vendor import vendor_rows

SCHEMA = pa.schema([
    ("kind", pa.string()), ("value", pa.string()), ("confidence", pa.int32()),
    ("labels", pa.list_(pa.string())), ("valid_until", pa.int64()), ("description", pa.string()),
    ("ref", pa.string()), ("valid_from", pa.int64()),
])  # fmt: skip

KINDS = ("ip", "domain", "url", "hash", "asn", "email", "ja3", "x509")
#: kinds whose values compare case-insensitively (stored lower-cased; event values lower-cased to match)
CASELESS_KINDS = frozenset({"domain", "hash", "email", "ja3", "x509"})
__all__ = ["CASELESS_KINDS", "KINDS", "SCHEMA", "FeedError", "Loaded", "canonical_urls", "load", "stix_pattern_terms"]
log = logging.getLogger("secpipe.enrich.intel")


class FeedError(TerminalError):
    """A feed body that cannot be parsed in the configured format."""


@dataclass(slots=True)
class Loaded:
    """A parsed feed."""

    table: pa.Table
    skipped: int = 0


_HEX_RE = r"^[0-9a-f]+$"
_HASH_LENS = pa.array([32, 40, 56, 64, 96, 128], pa.int32())
#: the top-level label has a letter (RFC 3696 2), so "999.1.1.1" or "1.2.3.4.5" is never a domain
_DOMAIN_RE = r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*\.?$"
#: an e-mail address: a dot-atom local part (RFC 5322 3.4.1) at a domain as above
_EMAIL_RE = r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" + _DOMAIN_RE[1:]
_IP_SHAPE = r"^(?:[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?:%[^/]*)?(?:/\d{1,3})?$"


def _where(todo: np.ndarray, values: pa.Array, test: Any) -> np.ndarray:
    """Run a vectorized ``test`` only on the values still undecided (``todo``); False elsewhere."""
    out = np.zeros(len(values), bool)
    at = np.flatnonzero(todo)
    if len(at):
        out[at] = np.asarray(test(values.take(pa.array(at))), bool)
    return out


def _mask(arr: pa.Array) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def classify(values: pa.Array, *, refang: bool = True) -> tuple[pa.Array, pa.Array]:
    """Vectorized kind detection and normalization: (kind, normalized value), null if not an IOC.

    Cheap tests first (substring, length), and each regex only on the values still undecided,
    so a million-line list costs a few passes of C string kernels. A value that is no IOC as
    written but defanged (``evil[.]example``, ``user[at]evil[.]example``), or a URL whose scheme
    is ``hxxp(s)``, is classified refanged; a URL with a real scheme is never rewritten.
    """
    v = pc.utf8_trim_whitespace(values.cast(pa.string()))
    low = pc.utf8_lower(v)
    todo = _mask(pc.greater(pc.utf8_length(v), 0))
    is_url = _where(todo & _mask(pc.match_substring(v, "://")), v,
                    lambda x: _mask(pc.match_substring_regex(x, r"^[A-Za-z][A-Za-z0-9+.-]*://")))
    todo &= ~is_url
    colon = _where(todo, v, lambda x: _mask(pc.match_substring(x, ":")))
    if colon.any():  # ThreatFox/feed "ip:port" and "[v6]:port" -> the address
        at = np.flatnonzero(colon)
        raw = v.take(pa.array(at))
        stripped = _strip_port(raw)
        changed = _mask(pc.not_equal(raw, stripped))
        if changed.any():
            where = np.zeros(len(v), bool)
            where[at[changed]] = True
            fix = stripped.filter(pa.array(changed))
            v, low = _put(v, where, fix), _put(low, where, pc.utf8_lower(fix))
    is_hash = _where(todo & _mask(pc.is_in(pc.binary_length(low), value_set=_HASH_LENS)), low,
                     lambda x: _mask(pc.match_substring_regex(x, _HEX_RE)))
    todo &= ~is_hash
    is_ip = _where(todo, v, lambda x: _ip_mask(x).to_numpy(zero_copy_only=False))
    todo &= ~is_ip
    is_dom = _where(todo, low, lambda x: _mask(pc.match_substring_regex(x, _DOMAIN_RE)))
    todo &= ~is_dom
    is_email = _where(todo, low, lambda x: _mask(pc.match_substring_regex(x, _EMAIL_RE)))
    todo &= ~is_email
    names = np.array([None, "url", "hash", "ip", "domain", "email"], dtype=object)
    code = np.select([is_url, is_hash, is_ip, is_dom, is_email], [1, 2, 3, 4, 5], 0)
    kind = pa.array(names[code], pa.string()) if len(code) else pa.array([], pa.string())
    value = normalize(kind, v, low)
    fanged = _where(todo, low, lambda x: _mask(pc.match_substring_regex(x, _DEFANGED)))
    fanged |= is_url & _mask(pc.starts_with(low, "hxxp"))  # a prefix test: URL lists stay cheap
    if refang and fanged.any():  # report/OTX/CSV exports often carry hxxp://evil[.]example
        k2, v2 = classify(_refang(v.filter(pa.array(fanged))), refang=False)
        kind, value = _put(kind, fanged, k2), _put(value, fanged, v2)
    return kind, value


#: defanged IOCs: hxxp(s)://, [.] (.) {.} [dot], [:], [@] [at] (tested on lower-cased values)
_DEFANGED = r"^hxxps?\[?:|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\[:\]|\[://\]|\[@\]|\[at\]"
_REFANG = ((r"^[hH][xX]{2}[pP][sS]\[?:\]?", "https:"), (r"^[hH][xX]{2}[pP]\[?:\]?", "http:"),
           (r"\[\.\]|\(\.\)|\{\.\}|\[[dD][oO][tT]\]", "."), (r"\[://\]", "://"), (r"\[:\]", ":"),
           (r"\[@\]|\[[aA][tT]\]", "@"))


def _refang(values: pa.Array) -> pa.Array:
    for rx, repl in _REFANG:
        values = pc.replace_substring_regex(values, rx, repl)
    return values


def _strip_port(values: pa.Array) -> pa.Array:
    out = pc.replace_substring_regex(values, r"^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$", r"\1")
    return pc.replace_substring_regex(out, r"^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$", r"\1")


def _put(values: pa.Array, where: np.ndarray, new: pa.Array) -> pa.Array:
    """``values`` with the positions of ``where`` replaced by ``new`` (in order)."""
    pos = np.cumsum(where) - 1
    filled = new.take(pa.array(np.where(where, pos, 0)))
    return pc.if_else(pa.array(where), filled, values)


def _ip_mask(values: pa.Array) -> pa.Array:
    """True where the value is an IP address or network (only IP-shaped values are parsed)."""
    shaped = _mask(pc.match_substring_regex(values, _IP_SHAPE))
    return pa.array(_where(shaped, values, lambda x: parse_networks(x).ok))


def normalize(kind: pa.Array, value: pa.Array, low: pa.Array | None = None) -> pa.Array:
    """Normalize values per kind: domains/hashes/e-mail addresses lower-case (domains without ``*.`` and final dot).

    ``low`` may pass the already lower-cased, trimmed ``value`` (then ``value`` must be trimmed).
    """
    v = value.cast(pa.string()) if low is not None else pc.utf8_trim_whitespace(value.cast(pa.string()))
    low = pc.utf8_lower(v) if low is None else low
    is_dom = pc.fill_null(pc.equal(kind, "domain"), False)
    dom = low
    if pc.any(pc.and_(is_dom, pc.or_(pc.starts_with(low, "*."), pc.ends_with(low, ".")))).as_py():
        dom = pc.if_else(pc.starts_with(low, "*."), pc.utf8_slice_codeunits(low, 2), low)
        dom = pc.if_else(pc.ends_with(dom, "."), pc.utf8_slice_codeunits(dom, 0, -1), dom)
    is_low = pc.fill_null(pc.or_(pc.equal(kind, "hash"), pc.equal(kind, "email")), False)
    out = pc.if_else(is_dom, dom, pc.if_else(is_low, low, v))
    is_url = pc.fill_null(pc.equal(kind, "url"), False)
    if pc.any(is_url).as_py():
        out = pc.if_else(is_url, canonical_urls(out), out)
    return out


#: scheme://[userinfo@]host[:port]rest of an absolute URL (RFC 3986 3), the host possibly an [IPv6] literal
_URL_PARTS = (r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^@/?#]*@)?(?P<host>\[[^\]/?#]*\]|[^:/?#]*)"
              r"(?P<port>:[0-9]*)?(?P<rest>.*)$")


#: an absolute URL that :func:`canonical_urls` may change: an upper-case scheme letter, or an authority with an
#: upper-case letter or a ':' (port, userinfo, IPv6), or with no path after it
_URL_NOT_CANONICAL = (r"^(?:[a-z][a-z0-9+.-]*[A-Z][A-Za-z0-9+.-]*://|[A-Z][A-Za-z0-9+.-]*://"
                      r"|[a-z][a-z0-9+.-]*://[^/?#]*(?:[A-Z:]|$|[?#]))")


def canonical_urls(values: pa.Array) -> pa.Array:
    """URLs in the form both sides of a match take (RFC 3986 6.2.2-6.2.3): scheme and host lower-cased
    (they are case-insensitive), the scheme's default port (http :80, https :443) and an empty port dropped,
    an empty path written ``/``. Path, query and userinfo are kept as written; values that are no absolute
    URL are returned unchanged. Vectorized (one regex pass)."""
    values = values.cast(pa.string())
    if not len(values):
        return values
    todo = _mask(pc.match_substring_regex(values, _URL_NOT_CANONICAL))  # a DFA pass; most feed URLs are canonical
    if not todo.any():
        return values
    if not todo.all():
        return _put(values, todo, canonical_urls(values.filter(pa.array(todo))))
    parts = pc.extract_regex(values, _URL_PARTS)
    ok = pc.fill_null(pc.is_valid(parts), False)
    if not pc.any(ok).as_py():
        return values
    f = {n: pc.fill_null(parts.field(n), "") for n in ("scheme", "user", "host", "port", "rest")}
    scheme, port, rest = pc.utf8_lower(f["scheme"]), f["port"], f["rest"]
    default = pc.or_(pc.equal(port, ":"), pc.or_(pc.and_(pc.equal(scheme, "http"), pc.equal(port, ":80")),
                                                pc.and_(pc.equal(scheme, "https"), pc.equal(port, ":443"))))
    port = pc.if_else(default, "", port)
    rest = pc.if_else(pc.or_(pc.equal(rest, ""), pc.match_substring_regex(rest, r"^[?#]")),
                      pc.binary_join_element_wise("/", rest, ""), rest)
    url = pc.binary_join_element_wise(scheme, "://", f["user"], pc.utf8_lower(f["host"]), port, rest, "")
    return pc.if_else(ok, url, values)


def _table(kind: pa.Array, value: pa.Array, confidence: Any, labels: Any = None, valid_until: Any = None,
           description: Any = None, ref: Any = None, valid_from: Any = None) -> pa.Table:
    n = len(value)

    def col(x: Any, t: pa.DataType) -> pa.Array:
        if x is None:
            return pa.nulls(n, t)
        if isinstance(x, pa.Array | pa.ChunkedArray):
            return x.cast(t)
        if isinstance(x, list):
            return pa.array(x, t)
        return pa.array(np.full(n, x)).cast(t) if not isinstance(x, str) else pa.array([x] * n, t)

    t = pa.table([kind.cast(pa.string()), value.cast(pa.string()), col(confidence, pa.int32()),
                  col(labels, pa.list_(pa.string())), col(valid_until, pa.int64()),
                  col(description, pa.string()), col(ref, pa.string()), col(valid_from, pa.int64())], schema=SCHEMA)
    return t.filter(pc.and_(pc.is_valid(t.column("kind")), pc.is_valid(t.column("value"))))


def _rows(rows: list[dict[str, Any]], default_conf: int) -> Loaded:
    """Per-indicator dicts (small feeds: STIX, MISP, YAML) -> table."""
    if not rows:
        return Loaded(SCHEMA.empty_table())
    kinds = pa.array([r.get("kind") for r in rows], pa.string())
    values = pa.array([r["value"] for r in rows], pa.string())
    is_x509 = pc.fill_null(pc.equal(kinds, "x509"), False)
    if pc.any(is_x509).as_py():  # certificate fingerprints are also written AB:CD:...
        values = pc.if_else(is_x509, pc.replace_substring(values, ":", ""), values)
    auto_kind, auto_val = classify(values)
    # A declared kind is kept only when the value has that shape (URLs may lack a scheme; a JA3
    # fingerprint is an MD5-shaped hash, a certificate fingerprint any hash).
    is_ja3 = pc.fill_null(pc.and_(pc.equal(kinds, "ja3"), pc.equal(auto_kind, "hash")), False)
    is_ja3 = pc.and_(is_ja3, pc.equal(pc.fill_null(pc.binary_length(auto_val), 0), 32))
    is_fp = pc.or_(is_ja3, pc.and_(is_x509, pc.fill_null(pc.equal(auto_kind, "hash"), False)))
    agree = pc.fill_null(pc.or_kleene(pc.or_kleene(pc.equal(kinds, auto_kind), pc.equal(kinds, "url")), is_fp), False)
    kind = pc.if_else(pc.is_null(kinds), auto_kind, pc.if_else(agree, kinds, pa.scalar(None, pa.string())))
    same = pc.or_(pc.fill_null(pc.equal(kind, auto_kind), False), is_fp)
    value = pc.if_else(same, auto_val, normalize(kind, values))
    is_asn = pc.fill_null(pc.equal(kinds, "asn"), False)
    if pc.any(is_asn).as_py():  # ASNs have no shape classify() knows: declared only
        asn = asn_values(values)
        kind = pc.if_else(is_asn, pc.if_else(pc.is_valid(asn), "asn", pa.scalar(None, pa.string())), kind)
        value = pc.if_else(is_asn, asn, value)
    t = _table(kind, value, [r.get("confidence", default_conf) for r in rows],
               [r.get("labels") or None for r in rows], [r.get("valid_until") for r in rows],
               [r.get("description") for r in rows], [r.get("ref") for r in rows], [r.get("valid_from") for r in rows])
    return Loaded(t, len(rows) - t.num_rows)


def _ms(value: Any) -> int | None:
    """ISO-8601 / epoch seconds -> ms since epoch (None if absent or unparseable)."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return int(float(value) * 1000)
    if isinstance(value, dt.datetime | dt.date):
        d = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        return int((d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp() * 1000)
    text = str(value).strip().replace("Z", "+00:00")
    if text.isdigit():
        return int(text) * 1000
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return int((d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp() * 1000)


# --------------------------------------------------------------------------------------
# MISP
# --------------------------------------------------------------------------------------

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
    return []


def _flag(value: Any) -> bool:
    """MISP booleans: ``true``/``false`` or, in older exports, ``"1"``/``"0"``."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def load_misp(data: bytes, conf: int, max_age_ms: int | None = None) -> Loaded:
    """MISP event export(s); only ``to_ids`` attributes are indicators."""
    events = _misp_events(_json(data, "MISP"))
    if not events:
        raise FeedError("MISP: no Event found — expected {\"Event\": {...}} or an event with Attribute")  # noqa: EM101
    rows: list[dict[str, Any]] = []
    skipped = 0
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
        for a in attrs:
            if not _flag(a.get("to_ids")) or _flag(a.get("deleted")):
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
            for kind, value in terms:
                rows.append({"kind": kind, "value": value, "confidence": c, "labels": tags + atags,
                             "valid_until": until, "description": ev.get("info"), "ref": a.get("uuid")})
    out = _rows(rows, conf)
    out.skipped += skipped
    return out


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


def load_misp_feed(directory: Path, conf: int, max_age_ms: int | None = None) -> Loaded:
    """A MISP feed directory: every event listed in ``manifest.json``."""
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
            parts.append(load_misp((directory / f"{u}.json").read_bytes(), conf, max_age_ms))
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


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


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


# --------------------------------------------------------------------------------------
# Line and CSV lists
# --------------------------------------------------------------------------------------


def _lines(data: bytes) -> pa.Array:
    """Non-empty lines of a text body as an Arrow string array (zero-copy over ``data``)."""
    if not data.strip():
        return pa.array([], pa.string())
    if len(data) >= 1 << 31:
        msg = "feed body over 2 GiB — split the list into several feeds"
        raise FeedError(msg)
    nl = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate(([0], nl + 1)).astype(np.int32)
    # Line i is data[starts[i]:starts[i + 1]]; its trailing newline is dropped by trimming.
    offsets = np.empty(len(starts) + 1, np.int32)
    offsets[:-1] = starts
    offsets[-1] = len(data)
    arr = pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid as exc:
        msg = f"feed body is not UTF-8 text ({exc}) — check `format` and the source"
        raise FeedError(msg) from exc
    arr = pc.utf8_trim_whitespace(arr)
    return arr.filter(pc.greater(pc.utf8_length(arr), 0))


def _const_labels(labels: list[str] | None, n: int) -> pa.Array | None:
    if not labels:
        return None
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1) * len(labels), pa.int32()),
                                    pa.array(labels * n, pa.string()))


def _uncomment(lines: pa.Array, marks: str) -> pa.Array:
    keep = pc.invert(pc.match_substring_regex(lines, "^[" + re.escape(marks) + "]"))
    return lines.filter(keep)


def load_plain(data: bytes, conf: int, kind: str = "auto", labels: list[str] | None = None) -> Loaded:
    """One indicator per line; ``#``/``;`` comments and trailing ``# ...`` notes ignored.

    An IPv4 range line (``start-end``, or ``start<TAB>end ...`` as in the DShield block list) is
    the networks that cover exactly that range, never just its first address.
    """
    lines = _uncomment(_lines(data), "#;")
    parts = []
    used = 0  # lines that gave indicators
    # Classify in slices so the temporaries of a million-line list stay small.
    for start in range(0, len(lines), _SLICE):
        chunk = lines.slice(start, _SLICE)
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
_HOSTS_SINK = r"^(?:0\.0\.0\.0|127\.0\.0\.1|::1?)\s+"


def _token_fallback(values: pa.Array, kind: pa.Array, value: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Lines that are not one IOC: hosts-file ``0.0.0.0 name`` -> name, else ``IOC note`` / ``hash  file`` -> IOC."""
    retry = _where(_mask(pc.is_null(kind)), values, lambda x: _mask(pc.match_substring_regex(x, r"\s")))
    if not retry.any():
        return kind, value
    lines = values.filter(pa.array(retry))
    sink = pc.fill_null(pc.match_substring_regex(lines, _HOSTS_SINK), False)
    rest = pc.replace_substring_regex(lines, _HOSTS_SINK, "")
    token = pc.list_element(pc.split_pattern_regex(pc.if_else(sink, rest, lines), r"\s+", max_splits=1), 0)
    k2, v2 = classify(token)
    return _put(kind, retry, k2), _put(value, retry, v2)


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


_ASN_RE = r"^(?:[Aa][Ss])?\s*(\d{1,10})$"


def asn_values(values: pa.Array) -> pa.Array:
    """``AS64500`` / ``as64500`` / ``64500`` -> ``"64500"`` (decimal, no leading zeros); null if not an ASN."""
    v = pc.utf8_trim_whitespace(values.cast(pa.string()))
    ok = pc.fill_null(pc.match_substring_regex(v, _ASN_RE), False)
    digits = pc.if_else(ok, pc.replace_substring_regex(v, _ASN_RE, r"\1"), pa.scalar(None, pa.string()))
    num = digits.cast(pa.uint64())
    in_range = pc.fill_null(pc.less_equal(num, 0xFFFFFFFF), False)
    return pc.if_else(in_range, num.cast(pa.string()), pa.scalar(None, pa.string()))


def load_team_rows(rows: list[dict[str, Any]], conf: int, labels: list[str] | None = None) -> Loaded:
    """Team lists (YAML/JSON/CSV rows): value/indicator, kind/type, confidence, labels, valid_until."""
    out: list[dict[str, Any]] = []
    other = 0  # ThreatFox entries of an IOC type with no kind here
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            msg = f"entry {i}: expected a mapping with `value`, got {type(r).__name__}"
            raise FeedError(msg)
        value, kind, extra = _tab.team_row(r)
        if value in (None, ""):
            msg = f"entry {i}: no `value` (or `indicator`, `ioc_value`, `ip_address`, ...) — every entry needs the indicator itself"
            raise FeedError(msg)
        lab = r.get("labels", [])
        lab = [x.strip() for x in re.split(r"[;|]", lab) if x.strip()] if isinstance(lab, str) else list(lab or [])
        if kind is not None and kind not in KINDS:
            if "ioc_type" in r and "kind" not in r:  # a vendor's type vocabulary (ThreatFox's grows): skip, count
                other += 1
                continue
            msg = f"entry {i}: kind {kind!r} — use one of {', '.join(KINDS)}"
            raise FeedError(msg)
        c = r.get("confidence", r.get("confidence_level"))
        row = {"kind": kind, "value": str(value), "confidence": int(c) if c is not None and _is_int(c) else conf,
               "labels": (labels or []) + lab + extra, "valid_until": _ms(r.get("valid_until", r.get("expires"))),
               "description": r.get("description"), "ref": _ref(r)}
        out.append(row)
        if kind in (None, "hash"):
            out.extend({**row, "kind": "hash", "value": h} for h in _tab.sample_hashes(r, value))
    loaded = _rows(out, conf)
    loaded.skipped += other
    return loaded


def _ref(r: dict[str, Any]) -> str | None:
    """The record's own id: ``ref``, or the ``ioc_id``/``id`` of ThreatFox export/API records."""
    ref = next((r[k] for k in ("ref", "ioc_id", "id") if r.get(k) not in (None, "")), None)
    return None if ref is None else str(ref)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def load_team(data: bytes, fmt: str, conf: int, labels: list[str] | None = None) -> Loaded:
    """Team list in CSV (header row), YAML or JSON (a list, or ``{indicators: [...]}``)."""
    if fmt == "csv":
        rows: Any = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        try:
            rows = yaml.safe_load(data) if fmt == "yaml" else json.loads(data)
        except (yaml.YAMLError, ValueError) as exc:
            msg = f"{fmt.upper()} list does not parse: {exc}"
            raise FeedError(msg) from exc
    if isinstance(rows, dict) and rows and all(isinstance(v, dict) and "info" in v for v in rows.values()):
        msg = "this is a MISP feed manifest.json — use `format: misp_feed` with `path:` the feed directory"
        raise FeedError(msg)
    vendor = vendor_rows(rows)
    if vendor is not None:  # AlienVault OTX pulses, CrowdSec decisions
        out = load_team_rows(vendor[0], conf, labels)
        out.skipped += vendor[1]
        return out
    rows = _tab.json_records(rows)
    if not isinstance(rows, list):
        msg = (f"{fmt.upper()} list: expected a list of entries, {{indicators: [...]}}, a ThreatFox export, an OTX pulse"
               " or CrowdSec decisions — for STIX/MISP set `format: stix` / `misp`")
        raise FeedError(msg)
    return load_team_rows(rows, conf, labels)


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        msg = f"{what}: body is not valid JSON ({exc}) — check the feed URL/path and format"
        raise FeedError(msg) from exc


def sniff(data: bytes, name: str = "") -> str:
    """Guess a feed format from its first bytes (and file name)."""
    head = data[:65536].lstrip()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if head[:1] in (b"{", b"["):
        if (b'"type": "bundle"' in head or b'"type":"bundle"' in head or b'"pattern"' in head
                or (b'"objects"' in head and b'"spec_version"' in head)):  # bundles, TAXII 2.1 envelopes
            return "stix"
        if b'"matching_attributes"' in head or (b'"list"' in head and b'"Event"' not in head):
            return "misp_warninglist"
        if b'"Attribute"' in head or b'"Event"' in head or b'"Object"' in head:
            return "misp"
        if (b'"cidr"' in head and b'"sblid"' in head) or re.match(rb'\{\s*"asn"\s*:', head):
            return "spamhaus_drop"
        return "json"
    if re.search(rb"^\s*(?:[0-9a-fA-F:.]+/\d+\s*;\s*SBL|AS\d+\s*;)", head, re.M):
        return "spamhaus_drop"
    body = [ln for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith((b"#", b";"))]
    if body and b"," in body[0]:
        return "csv" if re.search(rb"\b(value|indicator)\b", body[0]) else "abusech_csv"
    return "plain"


@contextmanager
def malformed(fmt: str) -> Iterator[None]:
    """Turn a body whose structure is not the format's (a string where a list belongs, an
    attribute that is not an object...) into a :class:`FeedError` naming the format, so a bad
    refresh keeps the last good copy instead of escaping the refresh."""
    try:
        yield
    except (TypeError, AttributeError, KeyError, IndexError, pa.ArrowException) as exc:
        if isinstance(exc, FeedError):
            raise
        msg = (f"{fmt}: the body does not have the {fmt} layout ({type(exc).__name__}: {_first_line(exc)[:200]})"
               " — check the source and `format`")
        raise FeedError(msg) from exc


def _parse(data: bytes, fmt: str, conf: int, labels: list[str] | None, kind: str, column: str | None,
           max_age_ms: int | None) -> Loaded:
    if fmt == "stix":
        return _stix.load_stix(data, conf)
    if fmt == "misp":
        return load_misp(data, conf, max_age_ms)
    if fmt == "misp_warninglist":
        return load_warninglist(data)
    if fmt == "abusech_csv":
        return _tab.load_abusech_csv(data, conf, labels, column)
    if fmt == "spamhaus_drop":
        return load_spamhaus(data, conf, labels)
    if fmt == "plain":
        return load_plain(data, conf, kind, labels)
    if fmt in ("csv", "yaml", "json"):
        return load_team(data, fmt, conf, labels)
    msg = f"format {fmt!r} cannot be read from one body — use a directory path for misp_feed"
    raise FeedError(msg)


def load(data: bytes, fmt: str, *, conf: int, labels: list[str] | None = None, kind: str = "auto",
         column: str | None = None, max_age_ms: int | None = None, name: str = "") -> Loaded:
    """Parse a feed body in ``fmt`` (``auto``: sniffed) and apply the feed's defaults."""
    if fmt in ("auto", "plain", "csv", "abusech_csv") and data.lstrip()[:1] == b"<":
        msg = ("feed body is XML or HTML (STIX 1.x, OpenIOC, or an error/login page) — not supported: "
               "use the STIX 2.1 / TAXII 2.1, MISP or CSV/text export of the feed, and check the URL")
        raise FeedError(msg)
    if fmt == "auto":
        fmt = sniff(data, name)
    with malformed(fmt):
        out = _parse(data, fmt, conf, labels, kind, column, max_age_ms)
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


# tabular.py and stix.py build on the helpers above; imported last (as modules) so either side can be imported first.
from secpipe.transforms.enrich.intel import stix as _stix  # noqa: E402
from secpipe.transforms.enrich.intel import tabular as _tab  # noqa: E402
