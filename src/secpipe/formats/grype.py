"""Anchore Grype JSON reports (``grype <image|dir:...|sbom:...> -o json``).

One **Vulnerability Finding (2002)** per ``matches[]`` entry (a vulnerability matched to one
package), as Trivy's vulnerabilities: the columns an analyst queries are the same for both.

- ``vulnerability.id``: a CVE id is ``cve.uid``; another id (GHSA-, ALAS-, ELSA-, GO- ...) whose
  ``relatedVulnerabilities`` name a CVE (Grype matches a language package by its GHSA and adds
  the NVD record) gives that CVE as ``cve.uid``; with no CVE at all the id is the vulnerability's
  ``advisory`` (uid, ``src_url`` its ``dataSource``; OCSF 1.8.0 allows one of advisory / cve /
  cwe). Every other id of the match is in ``related_vulnerabilities``.
- ``description`` and ``cvss`` are the matched record's, else (a distribution's record often has
  none) the related records'; ``urls`` of all of them are ``references``: ``cve.cvss[]`` per rating (version, ``metrics.baseScore``,
  vector, ``source`` else the record's ``namespace`` as ``vendor_name``; a rating without a base
  score is left out, OCSF requires it); ``epss[0]`` -> ``cve.epss`` (score, percentile, date);
  ``cwes[0]`` (Grype 0.80+) -> ``cve.cwe``; ``knownExploited`` (CISA KEV) -> ``is_exploit_available``.
- ``severity`` (Negligible, Low, Medium, High, Critical, Unknown) -> ``severity_id``; ``risk``
  (Grype 0.87+, 0-100) -> ``risk_score``.
- ``fix``: ``versions`` joined -> ``fixed_in_version``; ``state`` fixed -> ``is_fix_available`` and
  ``fix_coverage_id`` Complete (1), not-fixed / wont-fix None (3), unknown or empty Unknown (0),
  another word Other (99, the word as ``fix_coverage``).
- ``artifact`` -> ``affected_packages[0]`` (only with the name and version OCSF requires): type,
  purl, uid = Grype's package id, path = its first location, ``cpe_name`` its first CPE,
  ``license`` its licenses joined.
- ``source`` -> ``resources[0]``: an image (``container_image``: name = the user's input, uid =
  image id, labels = tags, data = manifest digest, repo digests, OS/architecture and the
  ``distro``), a directory, file or SBOM (type = source type, name = its path).
- ``descriptor``: ``timestamp`` -> ``time`` (without one, the receipt time and its label),
  ``version`` -> ``metadata.product.version``.
- ``ignoredMatches[]`` (matches an ignore rule of ``.grype.yaml`` or a VEX document set aside) are
  findings too, status Suppressed (3), or Resolved (4) where a rule is a VEX ``fixed`` statement,
  their ``appliedIgnoreRules`` in ``unmapped``; ``matches[]`` are New (1).

``finding_info.uid`` is ``<id>|<package id>`` (one CVE in two packages stays two findings; made
unique within the report with the location). ``matchDetails`` and other keys of a match not
placed stay in ``unmapped``; ``raw_data`` is the match's own JSON (compact).

Dead letters: a document that is not JSON or not of the report's shape whole; one match of the
wrong shape alone, the others going on. A report without matches holds no event.

Recognized by the top-level ``"matches"`` beside a match's ``"matchDetails"``/``"artifact"``, or
(an empty report) the ``descriptor`` naming grype.

A match is typed with msgspec and each column built with one comprehension over the matches (no
native walk: Grype reports are per image or directory, hundreds to a few thousand matches). Its
``relatedVulnerabilities`` are kept raw and decoded, with what they give a match, once per distinct
value (:class:`_Related`): Grype repeats a CVE's NVD record for every package the CVE is matched in.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    RESOURCES,
    STR_LIST,
    Distinct,
    ReportFormat,
    S,
    Split,
    TopLevel,
    array_text,
    captions,
    decode_top,
    distinct_uids,
    json_col,
    nest,
    only_where,
    raw_data,
    reject_rows,
    report_time,
    severity_ids,
    singleton_list,
    str_lists,
    struct_lists,
)
from secpipe.formats.base import (
    Decoded,
    base_columns,
    const,
    event_uids,
    strs,
    text_or_none,
    to_batch,
)


class _Metrics(msgspec.Struct, gc=False):
    baseScore: float | None = None  # noqa: N815 (Grype's key)


class _Cvss(msgspec.Struct, gc=False):
    source: str | None = None
    version: str | None = None
    vector: str | None = None
    metrics: _Metrics | None = None


class _Epss(msgspec.Struct, gc=False):
    epss: float | None = None
    percentile: float | None = None
    date: str | None = None


class _Fix(msgspec.Struct, gc=False):
    versions: list[str] | None = None
    state: str | None = None


class _Record(msgspec.Struct, gc=False):
    id: str | None = None
    dataSource: str | None = None  # noqa: N815
    namespace: str | None = None
    severity: str | None = None
    urls: list[str] | None = None
    description: str | None = None
    cvss: list[_Cvss] | None = None
    epss: list[_Epss] | None = None
    cwes: list[Any] | None = None  # ({"cve", "cwe": "CWE-79", "source", "type"}; read loosely)
    knownExploited: list[Any] | None = None  # noqa: N815
    fix: _Fix | None = None
    risk: float | None = None


class _Location(msgspec.Struct, gc=False):
    path: str | None = None


class _Artifact(msgspec.Struct, gc=False):
    id: str | None = None
    name: str | None = None
    version: str | None = None
    type: str | None = None
    locations: list[_Location] | None = None
    licenses: list[Any] | None = None
    cpes: list[str] | None = None
    purl: str | None = None


class _Rule(msgspec.Struct, gc=False):
    vex_status: str | None = msgspec.field(default=None, name="vex-status")


class _Match(msgspec.Struct, gc=False):
    vulnerability: _Record | None = None
    # (relatedVulnerabilities: left to msgspec's skip; the top-level walk gives its text, decoded per distinct value)
    artifact: _Artifact | None = None
    appliedIgnoreRules: list[_Rule] | None = None  # noqa: N815 (kept in unmapped too)


class _Source(msgspec.Struct):
    type: str | None = None
    target: Any = None


class _Distro(msgspec.Struct):
    name: str | None = None
    version: str | None = None


class _Descriptor(msgspec.Struct):
    name: str | None = None
    version: str | None = None
    timestamp: str | None = None


class _Report(msgspec.Struct):
    matches: list[msgspec.Raw]
    ignoredMatches: list[msgspec.Raw] | None = None  # noqa: N815
    source: _Source | None = None
    distro: _Distro | None = None
    descriptor: _Descriptor | None = None


_RELATED = "relatedVulnerabilities"
_MAPPED = frozenset({"vulnerability", _RELATED, "artifact"})
_CLS = "vulnerability_finding"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CWE = re.compile(r"^(?:CWE-)?0*(\d+)$", re.IGNORECASE)
#: Grype's fix states -> OCSF fix_coverage_id (Complete 1, None 3, Unknown 0; other words Other 99)
_FIX_COVERAGE = {"fixed": 1, "not-fixed": 3, "wont-fix": 3, "unknown": 0, "": 0}
_FIX_CAPTION = {0: "Unknown", 1: "Complete", 3: "None"}
_NO_REC = _Record()
_NO_ART = _Artifact()
_NO_FIX = _Fix()
_NO_EPSS = [_Epss()]


class _Related:
    """What a match's related records (``relatedVulnerabilities``, in order) give it: their ids (each
    once), the first CVE among them, the first non-empty description, EPSS, KEV and CWE lists, their
    URLs (each once) and the ratings of the first one that has scored ratings. Made once per distinct
    value: Grype repeats the same NVD record for every package a CVE is matched in."""

    __slots__ = ("cve", "cwes", "description", "epss", "ids", "known", "ratings", "urls")

    def __init__(self, recs: list[_Record] | None) -> None:
        recs = recs or []
        self.ids = list(dict.fromkeys(r.id for r in recs if r.id))
        self.cve = next((i for i in self.ids if _CVE.match(i)), None)
        self.description = next((r.description for r in recs if r.description), None)
        self.epss = next((r.epss for r in recs if r.epss), None)
        self.known = next((r.knownExploited for r in recs if r.knownExploited), None)
        self.cwes = next((r.cwes for r in recs if r.cwes), None)
        self.urls = list(dict.fromkeys(u for r in recs for u in r.urls or ()))
        self.ratings = next((got for r in recs if (got := _scored(r))), [])


def _ids(v: _Record, rel: _Related) -> tuple[str | None, str | None, list[str]]:
    """(the CVE id, the advisory id where there is no CVE, the match's other ids) of one match."""
    own = v.id
    cve = own if own and _CVE.match(own) else rel.cve
    adv = None if cve else own
    if not rel.ids:
        return cve, adv, []  # (the own id is the CVE or the advisory)
    return cve, adv, [i for i in dict.fromkeys([own, *rel.ids]) if i and i not in (cve, adv)]


def _scored(r: _Record) -> list[tuple[str | None, float, str | None, str | None]]:
    """(version, base score, vector, source else the record's namespace) of a record's ratings that have a score."""
    return [(c.version, c.metrics.baseScore, c.vector, c.source or r.namespace)
            for c in r.cvss or () if c.metrics is not None and c.metrics.baseScore is not None]  # fmt: skip


def _cwe(cwes: list[Any] | None) -> str | None:
    for c in cwes or ():
        word = c.get("cwe") if isinstance(c, dict) else c
        hit = _CWE.match(word.strip()) if isinstance(word, str) else None
        if hit:
            return f"CWE-{hit.group(1)}"
    return None


def _epss_day(day: str | None) -> int | None:
    """An EPSS score's date in ms (parsed once a day: :func:`report_time`); none for Go's zero date
    0001-01-01, which Grype writes where it has none."""
    ms = report_time(day)
    return ms if ms is not None and ms > 0 else None


def _ignored(m: _Match) -> int:
    """The status of an ignored match: Resolved (4) where a VEX statement says fixed, else Suppressed (3)."""
    return 4 if any((r.vex_status or "").lower() == "fixed" for r in m.appliedIgnoreRules or ()) else 3


def _licenses(licenses: list[Any]) -> str | None:
    """A package's license names joined (its other entries, objects of newer Syft versions, left out)."""
    try:
        return ", ".join(licenses) or None  # (all names: the common case, no filter)
    except TypeError:
        return ", ".join(x for x in licenses if isinstance(x, str)) or None


def _fix_coverage(state: str | None) -> int | None:
    return None if state is None else _FIX_COVERAGE.get(state.lower(), 99)


def _source(rep: _Report) -> dict[str, Any] | None:
    """``resources[0]``: the scanned image, directory, file or SBOM."""
    src = rep.source or _Source()
    t = src.target
    distro = " ".join(x for x in (rep.distro.name, rep.distro.version) if x) if rep.distro else ""
    if isinstance(t, dict):
        image = src.type == "image"
        data = {"manifest_digest": t.get("manifestDigest"), "repo_digests": t.get("repoDigests"), "os": t.get("os"),
                "architecture": t.get("architecture"), "distro": distro}  # fmt: skip
        name = text_or_none(t.get("userInput")) or text_or_none(t.get("path")) or text_or_none(t.get("name"))
        uid = text_or_none(t.get("imageID")) if image else None
        tags = t.get("tags")  # Syft's ImageMetadata.tags: a list of strings (other values are no tags)
        res = {"type": "container_image" if image else src.type, "name": name, "uid": uid,
               "labels": [x for x in tags if isinstance(x, str)] or None if isinstance(tags, list) else None,
               "data": json_col([{k: v for k, v in data.items() if v}]).to_pylist()[0]}  # fmt: skip
    else:
        name = text_or_none(t)
        res = {"type": src.type, "name": name, "uid": None, "labels": None,
               "data": json_col([{"distro": distro} if distro else {}]).to_pylist()[0]}  # fmt: skip
    return res if res["name"] or res["uid"] else None


class Grype(ReportFormat):
    """Anchore Grype JSON vulnerability reports."""

    name = "grype"
    report_type = _Report
    split_key = "matches"
    split_type = _Report
    what = "a Grype JSON report"
    description = "Grype JSON report (grype -o json) -> Vulnerability Finding (2002) per match"
    framing = "document"
    product = "Grype"
    vendor = "Anchore"

    def sniff(self, head: bytes) -> int:
        """Recognize the top-level ``matches`` of a report by its first match's keys, or an empty
        report by its descriptor."""
        h = head[:65536]
        if h.lstrip()[:1] != b"{" or not _MATCHES.search(h):
            return 0
        if b'"matchDetails"' in h and b'"artifact"' in h:
            return 90
        return 85 if _DESCRIPTOR.search(h) else 0

    def map_split(self, split: Split, source: str) -> Decoded:
        """Map a report :func:`split_report` compacted and cut into its matches in one native pass."""
        return self._map(split.report, split.items, split.array, source)

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map one report's matches (New) and ignored matches (Suppressed)."""
        return self._map(report, [bytes(r) for r in report.matches], array_text(data, report.matches), source)

    def _map(self, report: _Report, matches: list[bytes], array: memoryview | None, source: str) -> Decoded:
        """The batch of a report's ``matches`` (``array``: their JSON array in the compact report) and ignored matches."""
        ignored = [bytes(r) for r in report.ignoredMatches or ()]
        raws = matches + ignored
        status = [1] * len(matches) + [3] * len(ignored)
        out = Decoded(events=len(raws))
        if not raws:
            return out
        # (matches alone: their array typed in place; the walk copies them into raw_data)
        typed, top = decode_top(raws, list(range(len(raws))), _Match, _MAPPED, (_RELATED,), out, source, self.name,
                                "a Grype match", array=None if ignored else array, whole=True)  # fmt: skip
        if len(typed.raws) == len(raws):
            ords = list(range(len(raws)))
        else:
            pos = {id(r): i for i, r in enumerate(raws)}
            ords = [pos[id(r)] for r in typed.raws]
        related = Distinct.from_column(top.raw[_RELATED], list[_Record] | None, _RELATED)  # (Arrow's hash finds them)
        keep = reject_rows(related.reasons(), typed.raws, typed.locs, out, self.name, "a Grype match")
        recs, kept = typed.recs, typed.raws
        if keep is not None:
            recs, kept, ords = [recs[i] for i in keep], [kept[i] for i in keep], [ords[i] for i in keep]
            top, related = top.take(keep), related.take(keep)
        if recs:
            rels = related.per_row([_Related(v) for v in related.values])
            out.batches.append(self._batch(report, recs, rels, kept, ords, [status[i] for i in ords], top))
        return out

    def _batch(self, rep: _Report, ms: list[_Match], rels: list[_Related], raws: list[bytes], ords: list[int],
               status: list[int], top: TopLevel) -> pa.RecordBatch:  # fmt: skip
        n = len(ms)
        desc_ = rep.descriptor or _Descriptor()
        vs = [m.vulnerability or _NO_REC for m in ms]
        arts = [m.artifact or _NO_ART for m in ms]
        sev = severity_ids([v.severity for v in vs])
        when = report_time(desc_.timestamp)
        cols = base_columns(
            _CLS, kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, raws, [f"{desc_.timestamp}\0{o}" for o in ords]),
            times_ms=pa.nulls(n, pa.int64()) if when is None else const(when, n, pa.int64()),
            raws=raw_data(raws) if top.raw_data is None else top.raw_data, activity_id=1, severity_id=sev,
        )  # fmt: skip
        cols["metadata.product.version"] = const(desc_.version, n, S)
        pairs = list(zip(vs, rels, strict=True))
        ids = [_ids(v, rel) for v, rel in pairs]
        own = strs([v.id for v in vs])
        cve, adv = strs([x[0] for x in ids]), strs([x[1] for x in ids])
        cwe = strs([_cwe(v.cwes or rel.cwes) for v, rel in pairs])
        desc = strs([v.description or rel.description for v, rel in pairs])
        # (the URLs of the matched record, then the related ones', each once)
        refs = str_lists([list(dict.fromkeys([*v.urls, *rel.urls])) if v.urls else rel.urls for v, rel in pairs])
        ratings = [(_scored(v) if v.cvss else None) or rel.ratings for v, rel in pairs]
        flat = [r for rs in ratings for r in rs]
        cvss = struct_lists([len(rs) for rs in ratings], {
            "version": strs([r[0] for r in flat]),
            "base_score": pa.array([r[1] for r in flat], pa.float64()),
            "vector_string": strs([r[2] for r in flat]),
            "vendor_name": strs([r[3] for r in flat]),
        })  # fmt: skip
        epss = [(v.epss or rel.epss or _NO_EPSS)[0] for v, rel in pairs]
        scores = [e.epss for e in epss]
        # (each distinct score's text made once; 0.0 and -0.0 are one dict key: those are written each time)
        texts = {x: str(x) for x in set(scores) if x}
        score = strs([texts[x] if x else None if x is None else str(x) for x in scores])
        days = [e.date for e in epss]
        place = {d: _epss_day(d) for d in dict.fromkeys(days)}  # (a few distinct days: each parsed once)
        dated = pa.array([place[d] for d in days], pa.int64())
        epss_col = only_where(nest({"score": score, "percentile": pa.array([e.percentile for e in epss], pa.float64()),
                                    "created_time": dated}), score)  # fmt: skip
        fixes = [v.fix or _NO_FIX for v in vs]
        states = strs([f.state for f in fixes])
        words = [f.state for f in fixes]
        covers = {w: _fix_coverage(w) for w in set(words)}  # (a few distinct states)
        cover = pa.array([covers[w] for w in words], pa.int32())
        fixed_in = strs([", ".join(f.versions) if f.versions else None for f in fixes])
        names, versions, art_ids = strs([a.name for a in arts]), strs([a.version for a in arts]), strs([a.id for a in arts])
        paths = strs([a.locations[0].path if a.locations else None for a in arts])
        pkg = nest({
            "name": names,
            "version": versions,
            "fixed_in_version": fixed_in,
            "type": strs([a.type for a in arts]),
            "purl": strs([a.purl or None for a in arts]),
            "uid": art_ids,
            "path": paths,
            "cpe_name": strs([a.cpes[0] if a.cpes else None for a in arts]),
            "license": strs([_licenses(a.licenses) if a.licenses else None for a in arts]),
        })  # fmt: skip
        title = own
        src_url = strs([v.dataSource or None for v in vs])
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", sev),
            "vendor_name": strs([v.namespace for v in vs]),
            "references": refs,
            "related_vulnerabilities": pa.array([x[2] or None for x in ids], STR_LIST),
            "is_fix_available": pc.fill_null(pc.equal(pc.utf8_lower(states), "fixed"), False),
            "fix_coverage_id": cover,
            "fix_coverage": pc.if_else(pc.equal(cover, 99), states, _captions(cover)),
            "is_exploit_available": pa.array([True if v.knownExploited or rel.known else None for v, rel in pairs],
                                             pa.bool_()),  # fmt: skip
            "cve": only_where(nest({"uid": cve, "title": cve, "desc": desc, "cvss": cvss, "epss": epss_col,
                                    "cwe": only_where(nest({"uid": cwe}), cwe)}), cve),  # fmt: skip
            "advisory": only_where(nest({"uid": adv, "title": adv, "desc": desc,
                                         "src_url": src_url,
                                         "related_cwes": singleton_list(nest({"uid": cwe}), cwe.is_valid())}), adv),  # fmt: skip
            "affected_packages": singleton_list(pkg, pc.and_(names.is_valid(), versions.is_valid())),
        })  # fmt: skip
        res = _source(rep)
        cols["resources"] = const([res] if res else None, n, RESOURCES)
        st = pa.array([_ignored(m) if s == 3 else s for m, s in zip(ms, status, strict=True)], pa.int32())
        at = pc.binary_join_element_wise(pc.fill_null(names, "None"), pc.fill_null(versions, "None"), "@")
        uid = pc.binary_join_element_wise(pc.fill_null(own, "None"), pc.coalesce(art_ids, at), "|")
        cols.update({
            "status_id": st,
            "status": captions(_CLS, "status_id", st),
            "risk_score": pa.array([None if v.risk is None else round(v.risk) for v in vs], pa.int32()),
            "message": pc.binary_join_element_wise(pc.fill_null(own, "None"), at, " in "),
            "finding_info.uid": distinct_uids(uid, paths),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "finding_info.src_url": src_url,
            "finding_info.product.name": const(self.product, n, S),
            "finding_info.product.version": const(desc_.version, n, S),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": top.unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


def _captions(cover: pa.Array) -> pa.Array:
    """The caption of each ``fix_coverage_id`` (Other's word is set by the caller)."""
    ids = pa.array(list(_FIX_CAPTION), pa.int32())
    return pa.array(list(_FIX_CAPTION.values()), S).take(pc.index_in(cover, ids))


_MATCHES = re.compile(rb'^\s*\{\s*"matches"\s*:|"matches"\s*:\s*\[\s*\{\s*"vulnerability"')
_DESCRIPTOR = re.compile(rb'"descriptor"\s*:\s*\{\s*"name"\s*:\s*"grype"')

__all__ = ["Grype"]
