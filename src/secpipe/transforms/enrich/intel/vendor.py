"""Vendor JSON feed documents mapped onto team-list rows: AlienVault OTX pulses, CrowdSec decisions.

Both arrive through the ``json`` format (``auto`` sniffs them as JSON); :func:`vendor_rows`
recognises the document shape and returns team-list rows (see ``loaders.load_team_rows``)
plus the number of entries that are not indicators this pipeline can match, which are
skipped and counted (never a feed error: a pulse with a YARA rule or a CVE still loads its
addresses and hashes).

- AlienVault OTX: a pulse (``{"name", "tags", "indicators": [{"indicator", "type", ...}]}``),
  the subscribed-pulses page (``{"results": [pulse, ...], "next": ...}``), a pulse's
  indicator page (``{"results": [indicator, ...]}``) or a list of pulses. Types IPv4/IPv6/
  CIDR -> ip, domain/hostname -> domain, URL/URI -> url, FileHash-MD5/SHA1/SHA256 -> hash, email ->
  email, JA3 -> ja3, SSLCertFingerprint -> x509; others (FileHash-PEHASH/IMPHASH, CVE, YARA, Mutex, FilePath, ...) are skipped.
  ``is_active: 0`` indicators are skipped; ``expiration`` becomes ``valid_until``; pulse
  tags, malware families (names, or the pulse API's ``{"display_name"}`` objects) and adversary become labels,
  the pulse name the description and the pulse id the ref.
- CrowdSec: the LAPI/CAPI decisions stream (``{"new": [decision], "deleted": [decision]}``;
  only ``new`` decisions are indicators), ``GET /v1/decisions`` (a list of decisions) and
  ``cscli decisions list -o json`` or LAPI ``/v1/alerts`` (alerts with ``decisions``; an alert with none,
  ``null``, is skipped and counted), and the CSV of ``cscli decisions list -o raw`` (``ip`` written
  ``<scope>:<value>``, see :func:`crowdsec_raw_rows`). Scope Ip/Range -> ip, AS -> asn; other scopes (Country, Username, ...)
  are skipped. The scenario becomes a label and the decision uuid/id the ref. A decision holds until its
  ``until`` date, else for its ``duration`` (a Go duration such as ``3h59m50.27s``: the time it has left
  when LAPI answered, negative once it expired) counted from ``fetched_ms``, the time the body was
  fetched (or written); a ``simulated`` decision (a scenario in simulation mode: shown, never enforced)
  is skipped.
"""

from __future__ import annotations

import re
from typing import Any

from secpipe.transforms.enrich.intel.indicators import _ms

_OTX_KIND = {"ipv4": "ip", "ipv6": "ip", "cidr": "ip", "domain": "domain", "hostname": "domain", "url": "url",
             "uri": "url", "filehash-md5": "hash", "filehash-sha1": "hash", "filehash-sha256": "hash",
             "email": "email", "ja3": "ja3", "sslcertfingerprint": "x509"}
#: the other OTX indicator types (IndicatorTypes.py of the OTX SDK, plus YARA/JA3/...): skipped
_OTX_OTHER = {"filehash-pehash", "filehash-imphash", "filepath", "mutex", "cve", "yara", "bitcoinaddress",
              "osquery"}
_CS_KIND = {"ip": "ip", "range": "ip", "as": "asn"}


def vendor_rows(doc: Any, fetched_ms: int | None = None) -> tuple[list[dict[str, Any]], int] | None:
    """(team rows, skipped) of an OTX or CrowdSec document; None for any other shape.

    ``fetched_ms``: when the body was fetched, the start of CrowdSec's relative ``duration``
    (None: such decisions get no expiry)."""
    if isinstance(doc, dict) and ("new" in doc or "deleted" in doc) and _all_dicts(doc.get("new"), doc.get("deleted")):
        return _crowdsec(doc.get("new") or [], fetched_ms)
    if isinstance(doc, list) and doc and all(_is_alert(a) for a in doc):  # an alert may carry no decision (null)
        found, skipped = _crowdsec([d for a in doc for d in a["decisions"] or [] if isinstance(d, dict)], fetched_ms)
        return found, skipped + sum(1 for a in doc if not a["decisions"])
    if isinstance(doc, list) and doc and all(_is_decision(d) for d in doc):
        return _crowdsec(doc, fetched_ms)
    pulses = _otx_pulses(doc)
    if pulses is None:
        return None
    rows: list[dict[str, Any]] = []
    skipped = 0
    for pulse, indicators in pulses:
        labels = _pulse_labels(pulse)
        for ind in indicators:
            kind = _OTX_KIND.get(str(ind.get("type", "")).strip().lower())
            if kind is None or ind.get("is_active", 1) in (0, False, "0") or not ind.get("indicator"):
                skipped += 1
                continue
            rows.append({"value": str(ind["indicator"]), "kind": kind, "labels": list(labels),
                         "valid_until": ind.get("expiration"),
                         "description": pulse.get("name") or ind.get("title") or ind.get("description") or None,
                         "ref": str(pulse["id"]) if pulse.get("id") else None})
    return rows, skipped


def _pulse_labels(pulse: dict[str, Any]) -> list[str]:
    """An OTX pulse's tags, malware family names and adversary, in that order, once each."""
    families = [f.get("display_name") or f.get("id") if isinstance(f, dict) else f
                for f in pulse.get("malware_families") or []]
    words = [*(pulse.get("tags") or []), *families, pulse.get("adversary")]
    return list(dict.fromkeys(str(w).strip() for w in words if w not in (None, "") and str(w).strip()))


#: the first columns of ``cscli decisions list -o raw`` (CSV: ``id,source,ip,reason,action,country,as,events_count,
#: expiration[,simulated,alert_id]``): ``ip`` is ``<scope>:<value>``, ``reason`` the scenario, ``action`` the type,
#: ``expiration`` the Go duration left
CROWDSEC_RAW_HEADER = ("id", "source", "ip", "reason", "action")


def crowdsec_raw_rows(columns: list[str], rows: list[dict[str, Any]],
                      fetched_ms: int | None = None) -> tuple[list[dict[str, Any]], int] | None:
    """(team rows, skipped) of a ``cscli decisions list -o raw`` CSV, read as its decisions; None for another CSV."""
    if tuple(c.strip().lower() for c in columns[:5]) != CROWDSEC_RAW_HEADER or "expiration" not in columns:
        return None
    decisions = []
    for r in rows:
        scope, _, value = str(r.get("ip") or "").partition(":")  # "Ip:2001:db8::1" -> Ip, 2001:db8::1
        decisions.append({"id": r.get("id"), "origin": r.get("source"), "scope": scope, "value": value,
                          "scenario": r.get("reason"), "type": r.get("action"), "duration": r.get("expiration"),
                          "simulated": str(r.get("simulated") or "").strip().lower() == "true"})
    return _crowdsec(decisions, fetched_ms)


def _is_alert(a: Any) -> bool:
    """A CrowdSec alert (cscli alerts/decisions list -o json, LAPI /v1/alerts): ``decisions`` a list or null."""
    return (isinstance(a, dict) and "decisions" in a and (isinstance(a["decisions"], list)
            or (a["decisions"] is None and "scenario" in a and "source" in a)))


def _is_decision(d: Any) -> bool:
    return isinstance(d, dict) and "scope" in d and "value" in d and ("scenario" in d or "origin" in d)


def _all_dicts(*lists: Any) -> bool:
    return all(x is None or (isinstance(x, list) and all(isinstance(d, dict) for d in x)) for x in lists)


def _is_indicator(x: Any) -> bool:
    return isinstance(x, dict) and "indicator" in x and "type" in x


def _is_pulse(x: Any) -> bool:
    return isinstance(x, dict) and isinstance(x.get("indicators"), list) and all(map(_is_indicator, x["indicators"]))


def _otx_pulses(doc: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]] | None:
    """(pulse, its indicators) pairs of an OTX document; None when it is not one."""
    if _is_pulse(doc):
        return [(doc, doc["indicators"])]
    items = doc.get("results") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not items:
        return None
    if all(_is_pulse(p) for p in items):
        return [(p, p["indicators"]) for p in items]
    otx_types = {str(i.get("type", "")).lower() for i in items if isinstance(i, dict)}
    otx_only = {t for t in otx_types if t in _OTX_OTHER or t.startswith("filehash-") or t == "cidr"}
    if all(_is_indicator(i) for i in items) and (isinstance(doc, dict) or otx_only):
        return [({}, items)]  # a pulse's indicator page, or a bare list using OTX type names
    return None


#: a Go duration (time.ParseDuration): an optional sign, then decimal numbers each with a unit
_GO_DURATION = re.compile(r"([+-]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+|0)")
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_GO_UNIT_MS = {"ns": 1e-6, "us": 1e-3, "\u00b5s": 1e-3, "\u03bcs": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def go_duration_ms(text: Any) -> int | None:
    """``"3h59m50.276482904s"`` -> milliseconds (negative for ``-37m7.3s``); None if it is no Go duration."""
    m = _GO_DURATION.fullmatch(str(text).strip()) if isinstance(text, str) else None
    if m is None:
        return None
    total = sum(float(n) * _GO_UNIT_MS[u] for n, u in _GO_PART.findall(m[2]))
    return int(-total if m[1] == "-" else total)


def _decision_until(d: dict[str, Any], fetched_ms: int | None) -> float | None:
    """A decision's end in epoch seconds (as team rows take it): its ``until`` date, else ``fetched_ms`` + its
    remaining ``duration``."""
    until = _ms(d.get("until"))
    if until is None:
        left = go_duration_ms(d.get("duration"))
        until = None if left is None or fetched_ms is None else fetched_ms + left
    return None if until is None else until / 1000


def _crowdsec(decisions: list[dict[str, Any]], fetched_ms: int | None) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    skipped = 0
    for d in decisions:
        kind = _CS_KIND.get(str(d.get("scope", "")).strip().lower())
        if kind is None or not d.get("value") or d.get("simulated") is True:
            skipped += 1
            continue
        scenario = d.get("scenario")
        rows.append({"value": str(d["value"]), "kind": kind, "labels": [str(scenario)] if scenario else [],
                     "valid_until": _decision_until(d, fetched_ms),
                     "description": f"crowdsec {d.get('type') or 'ban'} ({d.get('origin') or 'unknown origin'})",
                     "ref": str(d.get("uuid") or d.get("id") or "") or None})
    return rows, skipped
