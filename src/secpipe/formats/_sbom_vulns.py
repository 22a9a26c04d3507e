"""CycloneDX vulnerabilities as field columns (for :mod:`.sbom`): the ``vulnerabilities[]`` structs, and the
columns both decode paths give for them (:func:`native_cols`: one native pass; :func:`typed_cols`: msgspec's
typed structs), one set per vulnerability, with its events' rows (one per ``affects[]`` entry) and refs.

Guarantees: the two paths give the same columns for a vulnerability either decides (the native walk declines,
``None``, whatever msgspec would decide otherwise); ratings, CWEs, analyses and affected versions are read once
per distinct value; a rating's severity is its word, else its score's CVSS band; VEX ``analysis.state`` gives
the finding status as :mod:`.sbom` documents it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import (
    CVSS_LIST,
    SEVERITY_WORDS,
    Distinct,
    S,
    captions,
    nonempty,
    str_lists,
    strs,
)
from secpipe.formats.base import Strict, unmapped_from

_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


class Source(msgspec.Struct, gc=False):
    name: str | None = None
    url: str | None = None


class Rating(msgspec.Struct, gc=False):
    source: Source | None = None
    score: float | None = None
    severity: str | None = None
    method: str | None = None
    vector: str | None = None


class _RatingsRaw(msgspec.Struct, gc=False):
    """A vulnerability's ``ratings`` as they came (kept in ``unmapped`` where it names no CVE)."""

    ratings: msgspec.Raw = _NONE


_RATINGS_RAW = msgspec.json.Decoder(_RatingsRaw)


class _Ref(msgspec.Struct, gc=False):
    id: str | None = None
    source: Source | None = None


class _Advisory(msgspec.Struct, gc=False):
    title: str | None = None
    url: str | None = None


class _Version(msgspec.Struct, gc=False):
    version: str | None = None
    range: str | None = None
    status: str | None = None


#: ``affects[].versions``: an array (the schema); one object alone is read as a one-element array
#: (CycloneDX's own VEX use-case 5 example writes it so)
_Versions = list[_Version] | _Version | None


class _Affect(msgspec.Struct, gc=False):
    ref: str
    versions: _Versions = None


class _Analysis(msgspec.Struct, gc=False, omit_defaults=True):
    state: str | None = None
    justification: str | None = None
    response: list[str] | str | None = None  # an array in the spec; some producers write one word
    detail: str | None = None
    firstIssued: str | None = None  # noqa: N815 (CycloneDX key)
    lastUpdated: str | None = None  # noqa: N815


class Vuln(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every CycloneDX 1.6 vulnerability key: mapped ones typed, the rest raw for ``unmapped``."""

    bom_ref: str | None = msgspec.field(default=None, name="bom-ref")
    id: str | None = None
    source: Source | None = None
    references: list[_Ref] | None = None
    ratings: list[Rating] | None = None
    cwes: list[int] | None = None
    description: str | None = None
    recommendation: str | None = None
    advisories: list[_Advisory] | None = None
    published: str | None = None
    updated: str | None = None
    analysis: _Analysis | None = None
    affects: list[_Affect] | None = None
    detail: _R = _NONE
    workaround: _R = _NONE
    proofOfConcept: _R = _NONE  # noqa: N815
    created: _R = _NONE
    rejected: _R = _NONE
    credits: _R = _NONE
    tools: _R = _NONE
    properties: _R = _NONE


_UNMAPPED = ("detail", "workaround", "proofOfConcept", "created", "rejected", "credits", "tools", "properties")

#: analysis.state -> finding status_id (OCSF Vulnerability Finding status enum).
_STATE = {"not_affected": 3, "false_positive": 3, "resolved": 4, "resolved_with_pedigree": 4, "in_triage": 2,
          "exploitable": 1}  # fmt: skip
_CVSS_VERSION = {"cvssv2": "2.0", "cvssv3": "3.0", "cvssv31": "3.1", "cvssv4": "4.0"}


def _score_sev(score: float) -> int:
    """One CVSS-style score -> severity_id, with the thresholds of ``_findings.score_severity_ids``
    (that one works on Arrow columns; a rating without a severity word is rare and scalar here)."""
    return 5 if score >= 9 else 4 if score >= 7 else 3 if score >= 4 else 2 if score > 0 else 1


def rate(ratings: list[Rating] | None) -> tuple[int, str | None, list[dict[str, Any]] | None]:
    """(severity_id, severity word) of the highest rating ((0, None) without ratings), and the
    ``cve.cvss[]`` entries of the CVSS ratings (None when there are none)."""
    best, word, cvss = -1, None, []
    for r in ratings or ():
        w = r.severity
        sev = SEVERITY_WORDS.get(w.lower(), 0) if w else _score_sev(r.score) if r.score is not None else 0
        if sev > best:
            best, word = sev, w
        ver = _CVSS_VERSION.get(r.method.lower()) if r.method else None
        if ver and (r.vector or r.score is not None):
            cvss.append({"version": ver, "base_score": r.score, "vector_string": r.vector,
                         "vendor_name": r.source.name if r.source else None})  # fmt: skip
    return max(best, 0), word, cvss or None


def _affected_version(a: _Affect | None) -> str | None:
    return _first_affected(a.versions) if a else None


def _first_affected(versions: list[_Version] | _Version | None) -> str | None:
    for v in [versions] if isinstance(versions, _Version) else versions or ():
        if v.version and v.status in (None, "affected"):
            return v.version
    return None


@dataclass(slots=True)
class VulnCols:
    """The vulnerabilities' fields as both paths give them: per vulnerability (lists or Arrow
    columns), and per event (``rows``: the vulnerability of each event; ``refs`` and
    ``affected``: its affects[] ref and affected version, None for a vulnerability without)."""

    raws: list[bytes]
    ids: pa.Array
    bom_refs: pa.Array
    desc: pa.Array
    published: pa.Array
    updated: pa.Array
    source_name: pa.Array
    source_url: pa.Array
    recommendation: pa.Array
    advisories: pa.Array
    references: pa.Array
    cwe: pa.Array
    sev_id: pa.Array  # int32 severity_id of the highest rating
    sev_word: pa.Array  # its severity word
    cvss: pa.Array  # cve.cvss[] of the CVSS ratings
    ratings: pa.Array  # the ratings' JSON text as it came (null: none)
    state: pa.Array  # analysis.state (status_code)
    status_id: pa.Array  # int32 finding status of the state
    status: pa.Array  # its caption (the state word for Other)
    detail: pa.Array  # analysis.detail (status_detail)
    update: pa.Array  # bool: "update" is one of analysis.response
    unmapped: pa.Array
    rows: np.ndarray
    refs: pa.Array
    affected: pa.Array


def typed_cols(st: Strict) -> VulnCols:
    """The msgspec path's columns of typed vulnerabilities."""
    vs: list[Vuln] = st.recs
    rows: list[int] = []
    affects: list[_Affect | None] = []
    for i, v in enumerate(vs):
        a: list[_Affect | None] = list(v.affects) if v.affects else [None]
        rows.extend([i] * len(a))
        affects.extend(a)
    analysis = [b'"analysis":' + msgspec.json.encode(v.analysis) if v.analysis else None for v in vs]
    return VulnCols(
        raws=st.raws, ids=strs([v.id for v in vs]), bom_refs=strs([v.bom_ref for v in vs]),
        desc=strs([v.description for v in vs]), published=strs([v.published for v in vs]),
        updated=strs([v.updated for v in vs]), source_name=strs([v.source.name if v.source else None for v in vs]),
        source_url=strs([v.source.url if v.source else None for v in vs]),
        recommendation=strs([v.recommendation for v in vs]),
        advisories=str_lists([[a.url for a in v.advisories or () if a.url] for v in vs]),
        references=str_lists([[r.id for r in v.references or () if r.id] for v in vs]),
        cwe=strs([f"CWE-{v.cwes[0]}" if v.cwes else None for v in vs]), **rated([rate(v.ratings) for v in vs]),
        **_analysed([v.analysis for v in vs]), unmapped=unmapped_from(st, _UNMAPPED, analysis),
        ratings=strs([_ratings_text(r) if v.ratings else None for v, r in zip(vs, st.raws, strict=True)]),
        rows=np.asarray(rows, np.int32), refs=strs([a.ref if a else None for a in affects]),
        affected=strs([_affected_version(a) for a in affects]),
    )  # fmt: skip


#: the native walker's spec of ``Vuln``: strings, lists of objects (every typed leaf, so the
#: walker checks the types msgspec checks), and raw fields decoded once per distinct value.
_RAW_FIELDS = {"ratings": list[Rating] | None, "cwes": list[int] | None, "analysis": _Analysis | None,
               "affects[].versions": _Versions}  # fmt: skip
_VSPEC = _fast.Spec(
    (*((k, _fast.STR) for k in ("bom-ref", "id", "source.name", "source.url", "description", "recommendation",
                                  "published", "updated")),
     ("references[]", _fast.LIST), ("references[].id", _fast.STR), ("references[].source.name", _fast.STR),
     ("references[].source.url", _fast.STR), ("advisories[]", _fast.LIST), ("advisories[].title", _fast.STR),
     ("advisories[].url", _fast.STR), ("affects[]", _fast.LIST), ("affects[].ref", _fast.STR),
     *((k, _fast.RAW) for k in (*_RAW_FIELDS, *_UNMAPPED))),
    (), tuple(f.encode_name for f in msgspec.structs.fields(Vuln)),
)  # fmt: skip


def native_cols(raws: list[bytes]) -> VulnCols | None:
    """The vulnerabilities' columns in one native pass, or None when the msgspec path must decide
    (no extension, an irregular vulnerability, an affects[] entry without a ref, a raw field of
    the wrong shape)."""
    cols = _fast.extract(raws, _VSPEC)
    if cols is None or cols.strings["affects[].ref"].null_count:
        return None
    raw = {k: Distinct.from_column(cols.strings[k], t, k.split("[]")[0]) for k, t in _RAW_FIELDS.items()}
    if any(d.errors for d in raw.values()):
        return None
    col = cols.strings
    nv = len(raws)
    aff_off, _mask = cols.lists["affects[]"]
    lens = np.diff(aff_off)
    per = np.maximum(lens, 1)
    rows = np.repeat(np.arange(nv, dtype=np.int32), per)
    first = np.zeros(nv + 1, np.int64)
    np.cumsum(per, out=first[1:])
    item = np.repeat(aff_off[:-1].astype(np.int64), per) + (np.arange(len(rows)) - np.repeat(first[:-1], per))
    none = np.repeat(lens == 0, per)
    at = pa.array(item, pa.int64(), mask=none)
    refs = col["affects[].ref"].take(at)
    versions = raw["affects[].versions"]  # per affects[] item: its first affected version, per distinct value
    affected_at = strs(versions.derive(_first_affected)).take(pa.array(versions.idx, pa.int32())).take(at)
    enc = raw["analysis"].column(S, lambda a: None if a is None else '"analysis":' + msgspec.json.encode(a).decode())
    unmapped = _unmapped([(f'"{k}":', col[k]) for k in _UNMAPPED], enc, cols.unmapped)
    url = col["source.url"]
    return VulnCols(
        raws=raws, ids=col["id"], bom_refs=col["bom-ref"], desc=col["description"],
        published=col["published"], updated=col["updated"], source_name=col["source.name"],
        source_url=url, recommendation=col["recommendation"],
        advisories=kept(cols.lists["advisories[]"][0], col["advisories[].url"]),
        references=kept(cols.lists["references[]"][0], col["references[].id"]),
        cwe=raw["cwes"].column(S, lambda c: f"CWE-{c[0]}" if c else None),
        **rated(raw["ratings"].derive(rate), pa.array(raw["ratings"].idx, pa.int32())),
        **_analysed(raw["analysis"].values, pa.array(raw["analysis"].idx, pa.int32())), unmapped=unmapped,
        ratings=raw["ratings"].text_column(), rows=rows, refs=refs, affected=affected_at,
    )  # fmt: skip


def _ratings_text(raw: bytes) -> str | None:
    """The ``ratings`` of one vulnerability's canonical bytes, as they came."""
    got = bytes(_RATINGS_RAW.decode(raw).ratings)
    return got.decode() if got and got != b"null" else None


def rated(got: list[tuple[int, str | None, list[dict[str, Any]] | None]],
          idx: pa.Array | None = None) -> dict[str, pa.Array]:
    """The severity columns of :func:`rate`'s results: one per vulnerability, or (native path)
    one per distinct ratings value, converted once and taken to the vulnerabilities by ``idx``."""
    cols = {"sev_id": pa.array([r[0] for r in got], pa.int32()), "sev_word": strs([r[1] for r in got]),
            "cvss": pa.array([r[2] for r in got], CVSS_LIST)}  # fmt: skip
    return cols if idx is None else {k: c.take(idx) for k, c in cols.items()}


def _analysed(analyses: list[_Analysis | None], idx: pa.Array | None = None) -> dict[str, pa.Array]:
    """The status columns of each analysis (VEX state -> status, see the module docstring): one per
    vulnerability, or (native path) one per distinct analysis value, taken to the vulnerabilities by ``idx``."""
    states = [a.state if a else None for a in analyses]
    sid = [_STATE.get(s, 99) if s else 1 for s in states]
    status = captions("vulnerability_finding", "status_id", pa.array(sid, pa.int32())).to_pylist()
    cols = {"state": strs(states), "status_id": pa.array(sid, pa.int32()),
            "status": strs([w if i != 99 else s for w, i, s in zip(status, sid, states, strict=True)]),
            "detail": strs([a.detail if a else None for a in analyses]),
            "update": pa.array(["update" in _responses(a) for a in analyses], pa.bool_())}  # fmt: skip
    return cols if idx is None else {k: c.take(idx) for k, c in cols.items()}


def kept(offsets: np.ndarray, values: pa.Array) -> pa.Array:
    """Per-row lists of the non-empty values (a row with none is null), from a LIST path's items."""
    keep = nonempty(values)
    counts = np.zeros(len(values) + 1, np.int64)
    np.cumsum(keep.to_numpy(zero_copy_only=False), out=counts[1:])
    off = counts[offsets].astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(off), values.filter(keep), mask=pa.array(off[1:] == off[:-1]))


def _unmapped(fields: list[tuple[str, pa.Array]], more: pa.Array, extras: pa.Array) -> pa.Array:
    """``unmapped`` as :func:`~secpipe.formats.base.unmapped_from` writes it: the raw fields in
    order, then ``more`` (an encoded ``"key":value`` item), then the extra keys (a JSON object of
    them, sorted), built with Arrow string kernels; null when there is nothing."""
    # each part is "" or its item and a comma (null_handling="skip" was seen dropping rows, pyarrow 26);
    # a field no vulnerability has adds nothing
    parts = [pc.fill_null(pc.binary_join_element_wise(pa.scalar(k), v, ",", ""), "") for k, v in fields
             if v.null_count < len(v)]
    parts.append(pc.fill_null(pc.binary_join_element_wise(more, ",", ""), ""))
    parts.append(pc.fill_null(pc.utf8_slice_codeunits(extras, 1, -1), ""))
    body = pc.binary_join_element_wise(*parts, "")
    return pc.if_else(pc.equal(body, ""), pa.scalar(None, S),
                      pc.binary_join_element_wise("{", pc.utf8_rtrim(body, characters=","), "}", ""))


def _responses(a: _Analysis | None) -> list[str]:
    if a is None or a.response is None:
        return []
    return [a.response] if isinstance(a.response, str) else a.response


__all__ = ["Rating", "Source", "Vuln", "VulnCols", "kept", "native_cols", "rate", "rated", "typed_cols"]
