"""ASFF vulnerabilities (``Vulnerabilities[]``) -> OCSF ``vulnerabilities[]``, for :mod:`secpipe.formats.asff`.

Design: the native walk of a document's findings reads each vulnerability's fields (:data:`VULN_PATHS`; its scores
as raw JSON numbers, :func:`floats`) and :func:`walked_vulnerabilities` builds the entries from those columns,
with no msgspec object a vulnerability, package or score (making and freeing them cost more than the mapping);
:func:`vulnerabilities` builds the same entries from typed vulnerabilities (msgspec's path, Trivy's template).
Both end in one builder, so the two give the same columns (tests compare them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import nest, only_where, or_null, str_lists, struct_lists
from secpipe.formats.base import strs

_P = {"rename": "pascal", "gc": False}


class _Package(msgspec.Struct, **_P):  # type: ignore[call-arg]
    name: str | None = None
    version: str | None = None
    epoch: str | None = None
    release: str | None = None
    architecture: str | None = None
    package_manager: str | None = None
    fixed_in_version: str | None = None
    remediation: str | None = None
    file_path: str | None = None


class _Cvss(msgspec.Struct, **_P):  # type: ignore[call-arg]
    version: str | None = None
    base_score: float | None = None
    base_vector: str | None = None
    source: str | None = None


class _Vendor(msgspec.Struct, **_P):  # type: ignore[call-arg]
    name: str | None = None
    url: str | None = None
    vendor_severity: str | None = None


class _Vuln(msgspec.Struct, **_P):  # type: ignore[call-arg]
    id: str | None = None
    vulnerable_packages: list[_Package] | None = None
    cvss: list[_Cvss] | None = None
    vendor: _Vendor | None = None
    reference_urls: list[str] | None = None
    related_vulnerabilities: list[str] | None = None
    fix_available: str | None = None
    exploit_available: str | None = None
    epss_score: float | None = None
    title: str | None = None  # (Trivy's template: "CVE Title")


#: the ``Vulnerabilities[]`` paths the walk reads (its lists' offsets, each entry's fields: :func:`walked_vulnerabilities`)
_V, _VP, _VC = "Vulnerabilities[]", "Vulnerabilities[].VulnerablePackages[]", "Vulnerabilities[].Cvss[]"
_VR, _VRV = "Vulnerabilities[].ReferenceUrls[]", "Vulnerabilities[].RelatedVulnerabilities[]"
VULN_LISTS = (_V, _VP, _VC, _VR, _VRV)
VULN_PATHS = (
    (_V, _fast.LIST), *((f"{_V}.{k}", _fast.STR) for k in ("Id", "Title", "FixAvailable", "ExploitAvailable",
                                                          "Vendor.Name", "Vendor.Url", "Vendor.VendorSeverity")),
    (f"{_V}.EpssScore", _fast.RAW),
    (_VP, _fast.LIST), *((f"{_VP}.{k}", _fast.STR) for k in ("Name", "Version", "Epoch", "Release", "Architecture",
                                                            "PackageManager", "FixedInVersion", "FilePath", "Remediation")),
    (_VC, _fast.LIST), *((f"{_VC}.{k}", _fast.STR) for k in ("Version", "BaseVector", "Source")), (f"{_VC}.BaseScore", _fast.RAW),
    (_VR, _fast.LIST), (f"{_VR}.@", _fast.STR), (_VRV, _fast.LIST), (f"{_VRV}.@", _fast.STR),
)  # fmt: skip
#: the recommendation's text and URL among :func:`~secpipe.formats.asff._shared`'s columns
REC_TEXT, REC_URL = " Remediation.Recommendation.Text", " Remediation.Recommendation.Url"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_NO_VENDOR = _Vendor()


def vulnerabilities(vulns: list[list[_Vuln]], part: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """``vulnerabilities[]``: one entry per ASFF vulnerability of each finding, from typed vulnerabilities
    (msgspec's path, Trivy's template)."""
    flat = [v for vs in vulns for v in vs]
    scored = [[c for c in v.cvss or () if c.base_score is not None] for v in flat]
    cs = [c for x in scored for c in x]
    pk = [p for v in flat for p in v.vulnerable_packages or ()]
    vendors = [v.vendor or _NO_VENDOR for v in flat]
    return _vuln_entries(len(vulns), [len(vs) for vs in vulns], part, {
        "ids": [v.id for v in flat],
        "title": strs([v.title for v in flat]),
        "epss": [v.epss_score for v in flat],
        "severity": strs([x.vendor_severity for x in vendors]),
        "vendor_name": strs([x.name for x in vendors]),
        "urls": [x.url for x in vendors],
        "refs": [v.reference_urls for v in flat],
        "related": [v.related_vulnerabilities for v in flat],
        "fix": [v.fix_available for v in flat],
        "exploit": [v.exploit_available for v in flat],
        "cvss": ([len(x) for x in scored], {
            "version": strs([c.version for c in cs]),
            "base_score": pa.array([c.base_score for c in cs], pa.float64()),
            "vector_string": strs([c.base_vector for c in cs]),
            "vendor_name": strs([c.source for c in cs]),
        }),
        "packages": ([len(v.vulnerable_packages or ()) for v in flat], {
            "name": strs([p.name for p in pk]),
            "version": strs([p.version for p in pk]),
            "epoch": [p.epoch for p in pk],
            "release": strs([p.release for p in pk]),
            "architecture": strs([p.architecture for p in pk]),
            "package_manager": strs([p.package_manager for p in pk]),
            "fixed_in_version": strs([p.fixed_in_version for p in pk]),
            "path": strs([p.file_path for p in pk]),
            "remediation": strs([p.remediation for p in pk]),
        }),
    })  # fmt: skip


def walked_vulnerabilities(n: int, c: dict[str, Any], part: dict[str, pa.Array]) -> dict[str, pa.Array] | None:
    """:func:`vulnerabilities` of the findings the walk read (the first ``len(fs)`` of ``c``'s rows, which
    hold every ``Vulnerabilities[]`` entry of them; ``n``: how many): no msgspec object a vulnerability, package or score
    (making and freeing them took ~3.5 us an Inspector finding), the walk's columns taken as they are.
    None where a score is not a plain JSON number (msgspec's path decides those)."""
    voff = c[_V]
    counts = np.diff(voff[: n + 1])
    nv = int(voff[n])
    cut = lambda k: c[k].slice(0, nv) if len(c[k]) != nv else c[k]  # noqa: E731 (the entries of these rows)
    epss = floats(cut(f"{_V}.EpssScore").to_pylist())
    coff = c[_VC][: nv + 1]
    scores = numbers(c[f"{_VC}.BaseScore"].slice(0, int(coff[-1])))
    if epss is None or scores is None:
        return None
    if isinstance(scores, list):
        scores = pa.array(scores, pa.float64())
    scored = scores.is_valid().to_numpy(zero_copy_only=False)
    kept = np.concatenate(([0], np.cumsum(scored, dtype=np.int64)))
    at = pa.array(np.flatnonzero(scored).astype(np.int32))
    poff = c[_VP][: nv + 1]
    np_ = int(poff[-1])
    pcut = lambda k: c[f"{_VP}.{k}"].slice(0, np_)  # noqa: E731
    scored_all = bool(scored.all())
    return _vuln_entries(n, counts, part, {
        "ids": cut(f"{_V}.Id").to_pylist(),
        "title": cut(f"{_V}.Title"),
        "epss": epss,
        "severity": cut(f"{_V}.Vendor.VendorSeverity"),
        "vendor_name": cut(f"{_V}.Vendor.Name"),
        "urls": cut(f"{_V}.Vendor.Url").to_pylist(),
        "refs": pylists(c[_VR][: nv + 1], c[f"{_VR}.@"]),
        "related": pylists(c[_VRV][: nv + 1], c[f"{_VRV}.@"]),
        "fix": cut(f"{_V}.FixAvailable").to_pylist(),
        "exploit": cut(f"{_V}.ExploitAvailable").to_pylist(),
        "cvss": (kept[coff[1:]] - kept[coff[:-1]], {
            "version": c[f"{_VC}.Version"].slice(0, len(scores)) if scored_all else c[f"{_VC}.Version"].take(at),
            "base_score": scores if scored_all else scores.take(at),
            "vector_string": c[f"{_VC}.BaseVector"].slice(0, len(scores)) if scored_all else c[f"{_VC}.BaseVector"].take(at),
            "vendor_name": c[f"{_VC}.Source"].slice(0, len(scores)) if scored_all else c[f"{_VC}.Source"].take(at),
        }),
        "packages": (np.diff(poff), {
            "name": pcut("Name"),
            "version": pcut("Version"),
            "epoch": pcut("Epoch").to_pylist(),
            "release": pcut("Release"),
            "architecture": pcut("Architecture"),
            "package_manager": pcut("PackageManager"),
            "fixed_in_version": pcut("FixedInVersion"),
            "path": pcut("FilePath"),
            "remediation": pcut("Remediation"),
        }),
    })  # fmt: skip


def floats(texts: list[str | None]) -> list[float | None] | None:
    """JSON number texts (the walk's raw ones: ``null`` or absent is None) as msgspec's ``float`` reads them;
    None where one is not a number (a string, ``true``, an object ...: msgspec refuses it), or one past a
    float's range. (Of the texts of JSON values, ``float`` reads the numbers alone: the others are quoted,
    ``true``, ``false``, objects or arrays; JSON has no ``nan``, ``inf`` or ``1_0``.)"""
    try:
        out = [None if t is None or t == "null" else float(t) for t in texts]
    except ValueError:
        return None
    return None if _INF in out or -_INF in out else out


_INF = float("inf")


def numbers(texts: pa.Array) -> pa.Array | list[float | None] | None:
    """:func:`floats` of a column of raw JSON texts, as one Arrow cast where it takes them all (a float()
    a value cost ~1 us a finding a column): of JSON values' texts the cast reads the numbers alone
    (correctly rounded, as float()), a finite one the same float; else (a ``null``, a value not a number,
    one past a float's range) :func:`floats` decides."""
    if texts.null_count == len(texts):
        return pa.nulls(len(texts), pa.float64())
    try:
        got = texts.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return floats(texts.to_pylist())
    ends = pc.min_max(got)
    if ends["min"].as_py() == -_INF or ends["max"].as_py() == _INF:
        return floats(texts.to_pylist())
    return got


def pylists(offsets: np.ndarray, values: pa.Array) -> list[list[Any]]:
    """Each row's values of a walked list (``offsets``: its rows', into ``values``; an absent or null list: none)."""
    first = int(offsets[0])
    vs = values.slice(first, int(offsets[-1]) - first).to_pylist()
    if not vs:
        return [[]] * (len(offsets) - 1)
    return [vs[a - first : b - first] for a, b in itertools.pairwise(offsets.tolist())]


def _vuln_entries(n: int, counts: Sequence[int] | np.ndarray, part: dict[str, pa.Array],
                  v: dict[str, Any]) -> dict[str, pa.Array]:  # fmt: skip
    """``vulnerabilities[]`` from each finding's vulnerabilities' values (``counts`` a finding; ``v``: per
    vulnerability, the fields as :func:`vulnerabilities` or :func:`walked_vulnerabilities` gives them;
    ``part``: the findings' :func:`~secpipe.formats.asff._shared` columns: descriptions and recommendations)."""
    owner = np.repeat(np.arange(n, dtype=np.int32), counts)
    named = [(i, i is not None and _CVE.match(i) is not None) for i in v["ids"]]  # (id, is a CVE's)
    ids = strs(v["ids"])
    cve = strs([i if c else None for i, c in named])
    adv = strs([None if c else i or None for i, c in named])
    at = pa.array(owner)
    desc = part["finding_info.desc"].take(at)
    cvss = struct_lists(*v["cvss"])
    epss = strs([None if x is None else str(x) for x in v["epss"]])
    plens, pk = v["packages"]
    fix_text = pk["remediation"]
    packages = struct_lists(plens, {
        **pk,
        "epoch": pa.array([_epoch(x) for x in pk["epoch"]], pa.int32()),
        "fixed_in_version": or_null(pk["fixed_in_version"]),
        "remediation": only_where(nest({"desc": fix_text}), fix_text),
    })  # fmt: skip
    fix = part[REC_TEXT].take(at)
    entry = nest({
        "title": pc.coalesce(v["title"], ids),
        "desc": desc,
        "severity": v["severity"],
        "vendor_name": v["vendor_name"],
        "references": str_lists([r or ([u] if u else None) for r, u in zip(v["refs"], v["urls"], strict=True)]),
        "related_vulnerabilities": str_lists(v["related"]),
        "is_fix_available": pa.array([_yes(x) for x in v["fix"]], pa.bool_()),
        "is_exploit_available": pa.array([_yes(x) for x in v["exploit"]], pa.bool_()),
        "remediation": only_where(nest({"desc": fix, "references": _urls(part[REC_URL].take(at).to_pylist())}), fix),
        "cve": only_where(nest({"uid": cve, "title": cve, "desc": desc, "cvss": cvss,
                                "epss": only_where(nest({"score": epss}), epss)}), cve),  # fmt: skip
        "advisory": only_where(nest({"uid": adv, "title": adv, "desc": desc}), adv),
        "affected_packages": packages,
    })  # fmt: skip
    return {"vulnerabilities": struct_lists(counts, {k.name: entry.field(k.name) for k in entry.type})}


def _urls(urls: list[str | None]) -> pa.Array:
    """Each URL as a list of one (none where absent or empty)."""
    return str_lists([[u] if u else None for u in urls])


def _epoch(v: str | None) -> int | None:
    return int(v) if v and v.isdigit() and len(v) < 10 else None


def _yes(v: str | None) -> bool | None:
    return None if v is None else v.upper() == "YES"
