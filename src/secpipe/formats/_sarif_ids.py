"""Identity and weakness of SARIF results (for :mod:`secpipe.formats.sarif`).

Identity (``finding_info.uid``): the first non-empty ``fingerprints`` value (a producer's
stable id of the result; Semgrep OSS's ``"requires login"``, the same for every result, is none); else the rule id, file and the ``partialFingerprints`` values in key
order (a partial fingerprint alone is not unique: CodeQL's ``primaryLocationLineHash`` is
the same for every rule matching one line and for equal lines in two files, SARIF §3.27.17
leaves combining them to the result manager); else rule, file, line and the result's
position in the log. Producers repeat these across distinct results (Flawfinder's
``contextHash/v1`` hashes the line text; gitleaks' partial fingerprints are the commit's sha,
author and date), so a uid two results of one run share gets the result's
``|file:line:column`` (then ``#<occurrence>``: ``_findings.distinct_uids``); a uid no other
result shares is the producer's as it is. ``finding_info.tags`` lists every fingerprint and
partial fingerprint. A value is a string (SARIF §3.27.16-§3.27.17); Black Duck's export wraps
each as ``{"value": "<hash>"}``, read as that string; a value of any other type makes the result
a dead letter, as any wrong type does.

Weakness (CWE):

SARIF has no CWE field of its own; producers name a result's weakness in one of five ways,
all read here:

- a taxon reference in the result's ``taxa[]`` (SARIF 2.1.0 §3.27.8) or in its rule's
  ``relationships[].target`` (§3.49.15, as Flawfinder and gosec write), pointing into a
  taxonomy named ``CWE`` (by ``toolComponent.name``, or by ``toolComponent.index``/``guid``
  into ``run.taxonomies``); the taxon id is ``CWE-79`` or ``79``;
- the rule's ``properties.cwe`` (Snyk Code: ``["CWE-916"]``), or the result's own
  ``properties.cwe``/``tags`` (njsscan, mobsfscan: ``"CWE-798: Use of Hard-coded Credentials"``);
- the rule's ``properties.tags``: CodeQL ``external/cwe/cwe-079``, Semgrep
  ``CWE-89: Improper Neutralization ...`` (the text after the colon is the caption).

Guarantees: ids are normalized to ``CWE-<n>`` (leading zeros dropped), the first one found
is the finding's (result taxa, then result properties, then rule relationships, properties.cwe, tags: the order the
producers list their primary weakness in); the caption is the producer's (the Semgrep tag
text, else the CWE taxonomy's taxon ``name``/``shortDescription``), never invented.
Malformed references (a taxon of another taxonomy, an id that is no CWE number, a value of
the wrong JSON type) are skipped, never an error: the result is mapped without a CWE.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import CWE_ID, nonempty, or_null, strs, struct_lists

S = pa.string()
_TAG = re.compile(r"^(?:external/cwe/)?cwe[-_ ]?0*(\d+)\b\s*(?::\s*(.*\S))?", re.IGNORECASE)
_ANY = msgspec.json.Decoder()

Cwe = tuple[str, str | None]


def _text(obj: Any) -> str | None:
    return obj.get("text") or obj.get("markdown") if isinstance(obj, dict) else None


class CweTaxonomy:
    """A run's CWE taxonomies (``run.taxonomies[]`` named CWE): their indexes, guids and captions."""

    def __init__(self, taxonomies: Any) -> None:
        self.indexes: set[int] = set()
        self.guids: set[str] = set()
        self.taxa: dict[int, list[Any]] = {}
        self.captions: dict[str, str] = {}
        for i, tax in enumerate(taxonomies if isinstance(taxonomies, list) else []):
            if not isinstance(tax, dict) or str(tax.get("name", "")).upper() != "CWE":
                continue
            self.indexes.add(i)
            if isinstance(tax.get("guid"), str):
                self.guids.add(tax["guid"].lower())
            listed = tax.get("taxa")
            taxa: list[Any] = listed if isinstance(listed, list) else []
            self.taxa[i] = taxa
            for t in taxa:
                m = CWE_ID.match(str(t.get("id", ""))) if isinstance(t, dict) else None
                cap = (t.get("name") if isinstance(t.get("name"), str) else None) or _text(t.get("shortDescription")) \
                    if m else None  # fmt: skip
                if m and cap:
                    self.captions.setdefault(m.group(1), cap)

    def ref(self, ref: Any) -> Cwe | None:
        """The CWE a ``reportingDescriptorReference`` points at, or None (another taxonomy's taxon)."""
        if not isinstance(ref, dict):
            return None
        comp = ref.get("toolComponent")
        comp = comp if isinstance(comp, dict) else {}
        index = comp.get("index")
        guid = comp.get("guid")
        named = str(comp.get("name", "")).upper() == "CWE"
        in_run = isinstance(index, int) and index in self.indexes
        by_guid = isinstance(guid, str) and guid.lower() in self.guids
        rid = ref.get("id")
        if rid is None and isinstance(index, int) and in_run and isinstance(ref.get("index"), int):  # taxon by index
            taxa = self.taxa[index]
            j = ref["index"]
            rid = taxa[j].get("id") if 0 <= j < len(taxa) and isinstance(taxa[j], dict) else None
        if not isinstance(rid, str):
            return None
        if not (named or in_run or by_guid or (not comp and rid.upper().startswith("CWE"))):
            return None
        m = CWE_ID.match(rid.strip())
        return (f"CWE-{m.group(1)}", self.captions.get(m.group(1))) if m else None

    def of_rule(self, relationships: Any, properties: dict[str, Any] | None) -> Cwe | None:
        """A rule's first CWE: relationships to a CWE taxon, then ``properties.cwe``, then tags."""
        for rel in relationships if isinstance(relationships, list) else []:
            got = self.ref(rel.get("target")) if isinstance(rel, dict) else None
            if got:
                return got
        props = properties or {}
        for key in ("cwe", "tags"):
            vals = props.get(key)
            for v in [vals] if isinstance(vals, str) else vals if isinstance(vals, list) else []:
                m = _TAG.match(v.strip()) if isinstance(v, str) else None
                if m:
                    return f"CWE-{m.group(1)}", m.group(2) or self.captions.get(m.group(1))
        return None

    def of_taxa(self, raw: str | None) -> Cwe | None:
        """The first CWE among a result's ``taxa`` (its raw JSON text), or None."""
        if raw is None:
            return None
        try:
            taxa = _ANY.decode(raw)
        except msgspec.DecodeError:
            return None
        for t in taxa if isinstance(taxa, list) else []:
            got = self.ref(t)
            if got:
                return got
        return None

    def of_properties(self, raw: str | None) -> Cwe | None:
        """The first CWE of a result's own property bag (its raw JSON text): ``cwe`` then ``tags``,
        read as a rule's are (libsast tools, njsscan and mobsfscan, put ``"cwe": "CWE-798: ..."`` there)."""
        try:
            props = _ANY.decode(raw) if raw is not None else None
        except msgspec.DecodeError:
            return None
        return self.of_rule(None, props) if isinstance(props, dict) else None

    def properties_column(self, props: pa.Array) -> tuple[pa.Array, pa.Array]:
        """(CWE id, caption) per result from its raw ``properties`` texts (:meth:`of_properties`),
        read only where the text names a CWE, once per distinct value."""
        named = pc.fill_null(pc.match_substring(props, "cwe", ignore_case=True), False)
        if not pc.any(named).as_py():
            return pa.nulls(len(props), S), pa.nulls(len(props), S)
        enc = pc.dictionary_encode(pc.if_else(named, props, pa.scalar(None, S)))
        got = [self.of_properties(v) for v in enc.dictionary.to_pylist()]
        ids = pa.array([g[0] if g else None for g in got], S).take(enc.indices)
        caps = pa.array([g[1] if g else None for g in got], S).take(enc.indices)
        return ids, caps

    def column(self, taxa: pa.Array) -> tuple[pa.Array, pa.Array]:
        """(CWE id, caption) per result from its raw ``taxa`` texts, decoded once per distinct value."""
        if taxa.null_count == len(taxa):
            return pa.nulls(len(taxa), S), pa.nulls(len(taxa), S)
        enc = pc.dictionary_encode(taxa)
        got = [self.of_taxa(v) for v in enc.dictionary.to_pylist()]
        ids = pa.array([g[0] if g else None for g in got], S).take(enc.indices)
        caps = pa.array([g[1] if g else None for g in got], S).take(enc.indices)
        return ids, caps


class Wrapped(msgspec.Struct, gc=False):
    """A fingerprint value written as an object ``{"value": "<hash>"}`` (Black Duck's SARIF
    export) where SARIF 2.1.0 §3.27.16/§3.27.17 has the string itself: read as that string."""

    value: str | None = None


#: a ``fingerprints``/``partialFingerprints`` property as decoded: string values, or Black Duck's wrappers
Fingerprints = dict[str, str | Wrapped]
#: what Semgrep OSS writes as a result's ``matchBasedId/v1`` fingerprint (the id is made only logged in to Semgrep's
#: platform): the same for every result, so no identity
_NO_ID = "requires login"


def _values(maps: list[Fingerprints]) -> pa.Array:
    """Every value of ``maps`` in order, a wrapped one as its string (null without one)."""
    values = list(itertools.chain.from_iterable(map(dict.values, maps)))
    try:
        return strs(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # some value is wrapped: unwrap (only then: one more pass)
        return strs([v.value if isinstance(v, Wrapped) else v for v in values])


def fingerprints(fps: list[Fingerprints | None],
                  pfps: list[Fingerprints | None]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(first non-empty fingerprint value; the partial fingerprint values in key order joined
    by ``|``, null when none is non-empty; ``finding_info.tags``: ``fingerprint:<k>`` then
    ``partialFingerprint:<k>`` entries). A value wrapped as ``{"value": ...}`` counts as its
    string (:class:`Wrapped`)."""
    n = len(fps)
    fs = [d or _NO_FP for d in fps]
    ps = [d or _NO_FP for d in pfps]
    flen = np.fromiter(map(len, fs), np.int64, n)
    plen = np.fromiter(map(len, ps), np.int64, n)
    if not flen.any() and not plen.any():
        return pa.nulls(n, S), pa.nulls(n, S), struct_lists(flen, {"name": pa.array([], S), "value": pa.array([], S)})
    fn = strs(list(itertools.chain.from_iterable(fs)))
    fv = _values(fs)
    pn = strs(list(itertools.chain.from_iterable(ps)))
    pv = _values(ps)
    foff = np.zeros(n + 1, np.int64)
    np.cumsum(flen, out=foff[1:])
    poff = np.zeros(n + 1, np.int64)
    np.cumsum(plen, out=poff[1:])
    first_f = fv.take(pa.array(np.minimum(foff[:-1], len(fv) - 1), pa.int64(), mask=flen == 0)) if len(fv) else pa.nulls(n, S)
    first = or_null(first_f)
    if pc.any(pc.equal(first, _NO_ID)).as_py():  # a placeholder identifies nothing: the result is told by its place
        first = pc.if_else(pc.fill_null(pc.equal(first, _NO_ID), False), pa.scalar(None, S), first)
    partial = _partial_keys(pn, pv, poff, plen)
    # per row: its fingerprint entries, then its partial ones (positions into fingerprints + partial)
    lens = flen + plen
    out = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=out[1:])
    order = np.empty(int(out[-1]), np.int64)
    row_f = np.repeat(np.arange(n), flen)
    order[out[:-1][row_f] + (np.arange(len(row_f)) - foff[:-1][row_f])] = np.arange(len(row_f))
    row_p = np.repeat(np.arange(n), plen)
    order[out[:-1][row_p] + flen[row_p] + (np.arange(len(row_p)) - poff[:-1][row_p])] = len(row_f) + np.arange(len(row_p))
    names = pa.concat_arrays([pc.binary_join_element_wise("fingerprint:", fn, ""),
                              pc.binary_join_element_wise("partialFingerprint:", pn, "")]).take(pa.array(order))
    values = pa.concat_arrays([fv, pv]).take(pa.array(order))
    return first, partial, struct_lists(lens, {"name": names, "value": values})


def _partial_keys(names: pa.Array, values: pa.Array, offsets: np.ndarray, lens: np.ndarray) -> pa.Array:
    """Per result, its partial fingerprint values sorted by key and joined by ``|`` (null when
    it has none, or all are empty)."""
    n = len(lens)
    if not len(values):
        return pa.nulls(n, S)
    rows = np.repeat(np.arange(n), lens)
    order = pc.sort_indices(pa.table({"r": rows, "k": names}), sort_keys=[("r", "ascending"), ("k", "ascending")])
    listed = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values.take(order))
    joined = pc.binary_join(listed, "|")
    return pc.if_else(nonempty(pc.replace_substring(joined, "|", "")), joined, pa.scalar(None, S))


_NO_FP: Fingerprints = {}


def fallback_uids(rids: pa.Array, paths: pa.Array, lines: pa.Array, ri: int, ords: list[int]) -> pa.Array:
    """``<rule id>|<path>|<start line>|<run>.<ordinal>`` ("None" for an absent part)."""
    ordinal = pc.binary_join_element_wise(f"{ri}", pa.array(ords, pa.int64()).cast(S), ".")
    return pc.binary_join_element_wise(rids, paths, lines.cast(S), ordinal, "|", null_handling="replace",
                                       null_replacement="None")  # fmt: skip


__all__ = ["CweTaxonomy", "Fingerprints", "Wrapped", "fallback_uids", "fingerprints"]
