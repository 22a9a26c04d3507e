"""Snyk CLI ``snyk test --json`` / ``snyk iac test --json`` reports: one project object or an array.

One event per issue:

- ``vulnerabilities[]`` with a security issue -> Vulnerability Finding (2002): ``cve.uid`` is the
  first CVE identifier; an issue without a CVE is Snyk's own advisory (OCSF 1.8.0: just one of
  advisory / cve / cwe per vulnerability): ``advisory`` uid its id (``SNYK-JS-...``), title, created
  time, its CWE in ``related_cwes``, and its CVSS/EPSS keys, which OCSF holds only in a ``cve``, kept in
  ``unmapped`` as they came; every other CVE/GHSA/Snyk id goes to ``related_vulnerabilities``; CVSS from ``CVSSv3`` + ``cvssScore`` (Snyk's rating) and
  ``cvssDetails[]`` (per assigner), or, where the issue has them, from ``cvssSources[]`` (each
  rating with its own version, vector, score and assigner; ``cvssScore`` may then be a CVSS 4.0
  score next to a 3.x ``CVSSv3`` vector); ``epssDetails`` -> ``cve.epss`` (score, percentile,
  model version); ``affected_packages[0]`` = packageName, version, fixedIn
  (joined; else ``nearestFixedInVersion``, which ``snyk container test`` gives an OS package), package manager, install path (``__filename``); ``dependency_chain`` = the ``from``
  path joined with `` > ``;
  exploit maturity (``exploitDetails.maturityLevels``: the primary level, else the one given;
  else ``exploit``) -> ``is_exploit_available``; upgradable/patchable/a fixed version -> ``is_fix_available``;
  a ``cvssSources`` version (``3.1`` or ``CVSSv31``) is written as OCSF does (``3.1``).
  OCSF conformance: a CVSS entry without a base score (OCSF requires it) is left out (the vector
  stays in ``raw_data``); ``cve.cwe`` (the CVE's weakness: OCSF 1.8.0 allows just one of advisory / cve / cwe per vulnerability) is emitted only with a CWE id; an issue without ``version``
  (unmanaged C/C++ issues) takes the one its ``name`` ends with (``...|cpio@2.12``), and with no
  version at all gets no ``affected_packages`` (OCSF requires the version; the package name stays
  in ``message`` and ``raw_data``).
- ``vulnerabilities[]`` with ``type: license`` (license policy issues) and
  ``infrastructureAsCodeIssues[]`` -> Compliance Finding (2003) with ``compliance.status`` Fail,
  the rule as ``compliance.checks[0]`` (its ``severity`` the OCSF caption of its ``severity_id``, as
  for Trivy's checks; Snyk's word stays in ``raw_data``), resolution in ``remediation.desc`` (no ``remediation``
  object for an issue without one: OCSF requires its ``desc``).

The project (projectName, path, targetFile, packageManager, org; for an image its platform and
base image) is ``resources[0]``. ``snyk container test`` reports hold the image's OS packages as
the project and each application found in it (a Go binary, a lockfile) as a project of its own in
``applications[]``: every application's issues are findings too, with that application as their
project (product ``Snyk Container`` for all of an image's issues). A Snyk
report carries no scan time, so ``time`` is the receipt time (labelled
``secpipe:time_from_receipt``); the issue's own dates go to ``finding_info`` (created/modified)
and ``cve`` (publication). Identity hashes project, ordinal and issue bytes: Snyk repeats the same
issue id once per dependency path, and each path stays its own event.

A Snyk REST Issues API page (``GET /rest/orgs/{org_id}/issues``: JSON:API ``data[]`` of issue
resources, what DefectDojo's "Snyk Issue API" import reads) is read by :mod:`._snyk_issues`:
one event per issue, package vulnerabilities as Vulnerability Finding, Snyk Code issues as
Application Security Posture Finding, license and IaC issues as Compliance Finding.

A JSON document that is not a ``snyk test`` report (no ``vulnerabilities`` or
``infrastructureAsCodeIssues``, e.g. a single vulnerability object) is dead-lettered with the
reason. SARIF from Snyk Code is handled by the ``sarif`` format.

Performance: with the native walk (``_findings.walk_report``, :meth:`Snyk._as_given`) each issue
of the report as it came is compacted, checked, walked into its class's field columns and
``unmapped`` and copied into ``raw_data`` in one Rust pass over the report (no bytes object an
issue, msgspec decodes only the skeleton: the report with its issue lists emptied), license issues
told apart by their walked ``type``; the uids are then hashed from ``raw_data`` with each list's
context. A report that pass does not decide (a key twice, lists out of project order) is decoded
by msgspec and its issues walked the same way from msgspec's slices (``walk_issues``,
:meth:`Snyk._walked`). Without either the report is
compacted once and each issue copied once to bytes; with the older extension (``_fast``) the issues are walked once in Rust into their field columns and ``unmapped``
(:func:`_native_fields`; identifiers, CVSS details, references, paths kept raw and decoded once per
distinct value), split by class before the walk so no column is copied to split it; otherwise, or
when an issue is irregular, msgspec types them and :func:`_issue_fields` gives the same columns.
One builder per class maps the columns (compliance issues also read typed issues); tests compare
both paths. Identifiers, CVSS entries and dependency paths are mapped once per distinct value and
taken into columns; ``raw_data`` is copied into Arrow's pool (``base.string_column``), whose pages
are reused from one report to the next.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import operator
import re
from typing import Any, cast

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import (
    CVSS_LIST,
    STR_LIST,
    Distinct,
    IssueGroup,
    ReportFormat,
    S,
    can_walk,
    captions,
    compact,
    distinct_uids,
    either,
    issue_uids,
    json_col,
    json_texts,
    nest,
    nonempty,
    objects_where,
    only_where,
    or_null,
    paused_gc,
    record_bytes,
    reject_distinct,
    severity_ids,
    singleton_list,
    strs,
    texts,
    typed_records,
    unmapped_items,
    walk_issues,
    walk_report,
)
from secpipe.formats._snyk_issues import decode_page, is_empty_page, is_issues_page
from secpipe.formats.base import (
    Decoded,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    not_utf8,
    parse_times,
    string_column,
    text_or_none,
    to_batch,
    unmapped_from,
)

_log = logging.getLogger("secpipe.formats.snyk")


class _Project(msgspec.Struct):
    vulnerabilities: list[msgspec.Raw] | None = None
    infrastructureAsCodeIssues: list[msgspec.Raw] | None = None
    projectName: str | None = None
    path: str | None = None
    targetFile: str | None = None
    displayTargetFile: str | None = None
    packageManager: str | None = None
    projectType: str | None = None
    org: str | None = None
    ok: bool | None = None
    error: Any = None  # a project `snyk test --all-projects` could not test: {"ok": false, "error": ..., "path": ...}
    docker: Any = None  # `snyk container test`: the image's base image and its advice
    platform: str | None = None  # `snyk container test`: the image's platform (linux/amd64)


class _Image(_Project):
    """A report; ``snyk container test`` puts the image's application projects in ``applications``."""

    applications: list[_Project] | None = None


class _Ref(msgspec.Struct, gc=False):
    url: str | None = None
    title: str | None = None


class _Idents(msgspec.Struct, gc=False):
    """The identifier lists the mapping reads (other identifier kinds are not placed)."""

    CVE: Any = None
    CWE: Any = None
    GHSA: Any = None
    ALTERNATIVE: Any = None


class _CvssDetail(msgspec.Struct, gc=False):
    assigner: str | None = None
    cvssV3Vector: str | None = None
    cvssV3BaseScore: float | None = None


class _CvssSource(msgspec.Struct, gc=False):
    """One entry of ``cvssSources`` (newer Snyk): a rating with its own version, vector and score."""

    type: str | None = None
    vector: str | None = None
    assigner: str | None = None
    baseScore: float | None = None
    cvssVersion: str | None = None


class _Epss(msgspec.Struct, gc=False):
    probability: Any = None  # Snyk writes numbers as strings ("0.00504")
    percentile: Any = None
    modelVersion: Any = None


_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


_UNMAPPED = (
    "disclosureTime", "alternativeIds", "credit", "semver", "patches", "upgradePath", "moduleName", "bundled",
    "parentDepType", "functions", "functions_new", "insights", "malicious", "socialTrendAlert", "exploitDetails",
    "severityWithCritical", "severityBasedOn", "riskScore", "isDisputed", "proprietary",
    "licenseTemplateUrl", "mavenModuleName", "method", "packageRepositoryURL", "isPinnable", "isRuntime",
    "impact", "lineNumber", "isIgnored", "isGeneratedByCustomRule", "remediation",
)  # fmt: skip


class _VulnBase(msgspec.Struct, gc=False):
    """The Snyk issue keys the mapping places (typed)."""

    id: str | None = None
    title: str | None = None
    description: msgspec.Raw = _NONE  # decoded per distinct value (see _FIELDS)
    severity: str | None = None
    type: str | None = None
    packageName: str | None = None
    name: str | None = None
    version: str | None = None
    packageManager: str | None = None
    language: str | None = None
    license: str | None = None
    identifiers: msgspec.Raw = _NONE
    CVSSv3: str | None = None
    cvssScore: float | None = None
    cvssDetails: msgspec.Raw = _NONE
    cvssSources: msgspec.Raw = _NONE
    epssDetails: msgspec.Raw = _NONE
    fixedIn: list[str] | None = None
    nearestFixedInVersion: str | None = None  # (an OS package's fix in a container test, without fixedIn)
    isUpgradable: bool | None = None
    isPatchable: bool | None = None
    exploit: str | None = None
    references: msgspec.Raw = _NONE
    creationTime: str | None = None
    modificationTime: str | None = None
    publicationTime: str | None = None
    # IaC issue fields
    publicId: str | None = None
    subType: str | None = None
    msg: str | None = None
    issue: str | None = None
    resolve: str | None = None
    documentation: str | None = None
    path: list[Any] | None = None
    iacDescription: dict[str, Any] | None = None
    from_: msgspec.Raw = msgspec.field(default=_NONE, name="from")
    filename_: str | None = msgspec.field(default=None, name="__filename")


#: Every other known Snyk issue key, kept raw (trailing fields, for ``unmapped_from``).
#: (``defstruct`` is typed as returning ``type[Struct]``; it is a ``_VulnBase`` subclass by ``bases``.)
_Vuln = cast(type[_VulnBase], msgspec.defstruct(
    "_Vuln", [(k, msgspec.Raw, _NONE) for k in _UNMAPPED], bases=(_VulnBase,), forbid_unknown_fields=True, gc=False
))

#: The same report with its issues typed, decoded from the compact document in one C call.
#: (Types built at run time: ``_Vuln`` is made by ``defstruct``, so it cannot appear in annotations.)
_ISSUES: Any = list.__class_getitem__(_Vuln) | None
_TypedApp: Any = msgspec.defstruct("_TypedApp", [
    ("vulnerabilities", _ISSUES, None), ("infrastructureAsCodeIssues", _ISSUES, None),
], gc=False)  # fmt: skip
_TypedProject: Any = msgspec.defstruct("_TypedProject", [
    ("applications", list.__class_getitem__(_TypedApp) | None, None),
], bases=(_TypedApp,), gc=False)  # fmt: skip
_TYPED = msgspec.json.Decoder(_TypedProject | list.__class_getitem__(_TypedProject))
_REPORT = msgspec.json.Decoder(_Image | list[_Image])

_PROJECT_KEYS = (b'"vulnerabilities"', b'"infrastructureAsCodeIssues"')
#: ``snyk test --json``'s answer when it could not test (src/cli/commands/test: ``{ok: false, error,
#: path}``, ``code`` since CLI 1.497; ``--all-projects``: an array of them): it opens with ``ok: false``, ``error``
_ERROR_ANSWER = re.compile(rb'\s*\[?\s*\{\s*"ok"\s*:\s*false\s*,\s*"error"\s*:\s*"')
_SNYK_HINTS = (b'"packageManager"', b'"upgradePath"', b'"isUpgradable"', b'"dependencyCount"', b'"uniqueCount"',
               b'"projectType"', b'"publicId"', b'"snyk')  # fmt: skip
_VULN_HINTS = (b'"packageName"', b'"semver"', b'"CVSSv3"', b'"alternativeIds"')
_EXPLOITED = {"mature", "proof of concept", "functional", "high", "attacked"}
_RES = pa.list_(pa.struct([("type", pa.string()), ("name", pa.string()), ("uid", pa.string()), ("data", pa.string())]))


def _idl(got: Any) -> list[str]:
    """One identifier kind as a list of strings (a bare value becomes a one-item list)."""
    if not got:
        return []
    if type(got) is list:
        for x in got:
            if type(x) is not str:
                return [str(x) for x in got]
        return got
    return [str(got)]


def _untested(p: _Project) -> bool:
    """A project entry that is only Snyk's error for a target it could not test."""
    return p.error is not None and p.vulnerabilities is None and p.infrastructureAsCodeIssues is None


def _projects(doc: Any) -> list[Any]:
    """The projects of a report in order: each top-level one followed by its ``applications``."""
    return [q for p in (doc if isinstance(doc, list) else [doc]) for q in (p, *(p.applications or ()))]


def _issues_of(typed: Any) -> list[Any]:
    """The typed issues of a decoded report, in the order ``map_report`` lists their slices."""
    return [x for p in _projects(typed)
            for items in (p.vulnerabilities, p.infrastructureAsCodeIssues) if items for x in items]  # fmt: skip


def _cvss_version(vec: str | None) -> str:
    return vec[5:].split("/", 1)[0] if vec and vec.startswith("CVSS:") else "3.0"


def _source_version(version: str | None, vec: str | None) -> str:
    """A ``cvssSources`` rating's CVSS version as OCSF writes it (``3.1``): the vector's own
    ``CVSS:x.y`` prefix, else ``cvssVersion`` normalized (Snyk writes ``3.1`` or ``CVSSv31``)."""
    if vec and vec.startswith("CVSS:") or not version:
        return _cvss_version(vec)
    m = _VERSION_DIGITS.search(version)
    return f"{m.group(1)}.{m.group(2) or '0'}" if m else version


_VERSION_DIGITS = re.compile(r"(\d)\.?(\d)?")


#: Issue keys kept raw in ``_Vuln`` and decoded once per distinct value: (name, attribute, type).
_FIELDS = (
    ("description", "description", str | None),
    ("identifiers", "identifiers", _Idents | None),
    ("cvssDetails", "cvssDetails", list[_CvssDetail] | None),
    ("cvssSources", "cvssSources", list[_CvssSource] | None),
    ("epssDetails", "epssDetails", _Epss | None),
    ("exploitDetails", "exploitDetails", Any),  # read leniently (see _maturity); it also stays in unmapped
    ("references", "references", list[_Ref | str] | None),  # IaC issues list bare URLs
    ("from", "from_", list[str] | None),
)


def _or_none(text: str | None) -> str | None:
    return text or None


def _id_parts(ids: _Idents | None) -> tuple[str | None, list[str], list[str] | None]:
    """(first CVE or None, the other related ids, those sorted and unique or None)."""
    if ids is None:
        return None, [], None
    cves, ghsa, alt = _idl(ids.CVE), _idl(ids.GHSA), _idl(ids.ALTERNATIVE)
    rel = cves[1:] + ghsa + alt
    return (cves[0] if cves else None), rel, sorted(set(rel)) or None


def _first_cwe(ids: _Idents | None) -> str | None:
    cwes = _idl(ids.CWE) if ids is not None else []
    return cwes[0] if cwes else None


def _with_id(rel: list[str], vid: str) -> list[str]:
    """The related ids plus the issue's own id (when it has a CVE), sorted and unique."""
    return sorted({*rel, vid})


def _cvss_entries(vec: str | None, score: float | None, details: list[_CvssDetail] | None,
                  sources: list[_CvssSource] | None = None) -> list[dict[str, Any]] | None:
    """``cve.cvss[]``: Snyk's own rating, then one entry per assigner (None when there is none).

    Newer reports list every rating with its own version in ``cvssSources`` (the primary one first;
    ``cvssScore`` is then the primary score, which may be a CVSS 4.0 one while ``CVSSv3`` is the 3.x
    vector): those entries are the ratings, as given."""
    if sources:
        got = [{"version": _source_version(x.cvssVersion, x.vector), "base_score": x.baseScore,
                "vector_string": x.vector, "vendor_name": x.assigner}
               for x in sources if x.baseScore is not None]  # fmt: skip
        if got:
            return got
    out = []
    if score is not None:  # OCSF cvss requires base_score: a vector alone stays in raw_data
        out.append({"version": _cvss_version(vec), "base_score": score, "vector_string": vec, "vendor_name": "Snyk"})
    for d in details or ():
        if d.cvssV3BaseScore is None:
            continue
        out.append({"version": _cvss_version(d.cvssV3Vector), "base_score": d.cvssV3BaseScore,
                    "vector_string": d.cvssV3Vector, "vendor_name": d.assigner})  # fmt: skip
    return out or None


_EPSS = pa.struct([("score", S), ("percentile", pa.float64()), ("version", S)])


def _epss(e: _Epss | None) -> dict[str, Any] | None:
    """``cve.epss`` from ``epssDetails`` (OCSF: score is a string, percentile a float); None without a score."""
    if e is None or e.probability is None:
        return None
    try:
        pct = None if e.percentile is None else float(e.percentile)
    except (TypeError, ValueError):
        pct = None
    return {"score": str(e.probability), "percentile": pct, "version": None if e.modelVersion is None else str(e.modelVersion)}


def _maturity(details: Any) -> str | None:
    """The exploit maturity of ``exploitDetails.maturityLevels`` (newer Snyk, which may leave out
    ``exploit``): the primary rating's level, else the first level given; None without one."""
    levels = details.get("maturityLevels") if isinstance(details, dict) else None
    got = [x for x in levels if isinstance(x, dict) and isinstance(x.get("level"), str)] if isinstance(levels, list) else []
    primary = [x for x in got if x.get("type") == "primary"]
    return (primary or got)[0]["level"] if got else None


def _urls(refs: list[_Ref | str] | None) -> list[str] | None:
    if not refs:
        return None
    urls = [r if isinstance(r, str) else r.url for r in refs]
    return [u for u in urls if u] or None


def _named_version(names: pa.Array) -> pa.Array:
    """The version a Snyk issue ``name`` ends with (``https://ftp.gnu.org|cpio@2.12``: unmanaged
    C/C++ issues carry no ``version`` key), else null."""
    got = pc.extract_regex(names, r"[^@|/]@(?P<v>[^@|/]+)$")
    return pc.if_else(got.is_valid(), pc.struct_field(got, "v"), pa.scalar(None, S))


def _chain(path: list[str] | None) -> str | None:
    return " > ".join(path) if path else None


def _cvss_column(vectors: pa.Array, scores: pa.Array, details: Distinct, sources: Distinct) -> pa.Array:
    """``cve.cvss``: :func:`_cvss_entries` once per distinct (vector, score, details, sources) combination."""
    key = np.asarray(details.idx, np.int64) * (len(sources.values) + 1) + np.asarray(sources.idx, np.int64)
    for col in (vectors, scores):
        enc = pc.dictionary_encode(col)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        key = key * (len(enc.dictionary) + 1) + codes
    _u, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    take = pa.array(first)
    entries = [_cvss_entries(v, sc, details.values[details.idx[i]], sources.values[sources.idx[i]])
               for v, sc, i in zip(vectors.take(take).to_pylist(), scores.take(take).to_pylist(), first.tolist(), strict=True)]  # fmt: skip
    return pa.array(entries, CVSS_LIST).take(pa.array(inverse.astype(np.int32)))


#: the issue keys that hold ``cve.cvss`` / ``cve.epss``: kept in ``unmapped`` where there is no cve
_SCORE_KEYS = ("CVSSv3", "cvssScore", "cvssDetails", "cvssSources", "epssDetails")


def _scores_aside(f: dict[str, Any], fields: dict[str, Distinct], no_cve: pa.Array) -> pa.Array:
    """Per issue without a CVE, its CVSS and EPSS keys as ``"key":value`` items for ``unmapped``
    (OCSF 1.8.0 holds scores only in ``cve``; an advisory has none): the key's JSON as it came
    (the score as JSON writes the number), null where there are none."""
    none_s = pa.scalar(None, S)
    items = []
    for key in _SCORE_KEYS:  # each '"key":value,' or ""
        text = json_texts(f[key]) if key in ("CVSSv3", "cvssScore") else fields[key].text_column()
        items.append(pc.fill_null(pc.binary_join_element_wise(f'"{key}":', text, ",", ""), ""))
    got = pc.binary_join_element_wise(*items, "")
    return pc.if_else(pc.and_(no_cve, pc.not_equal(got, "")), pc.utf8_slice_codeunits(got, 0, -1), none_s)


def _arrow_path(path: list[str] | None) -> str:
    return ">".join(path or [])


_EXPLOITED_SET = pa.array(sorted(_EXPLOITED), pa.string())
_format = msgspec.json.format
_LICENSE = b'"type":"license"'


#: (bytes method, argument) telling a license issue from its bytes: Snyk writes them starting with
#: the ``license`` key; else any compact ``"type":"license"`` (each mapped over the issues in C).
_LICENSE_GUESSES = ((bytes.startswith, b'{"license":'), (bytes.__contains__, _LICENSE))
_CLASSES = ("vulnerability_finding", "compliance_finding")
#: license issues are compliance findings: told by their walked ``type``, guessed by their first key
_SPLIT = ("type", "license", _LICENSE_GUESSES[0][1])


def _raw_data(raws: list[bytes]) -> pa.Array:
    """``raw_data``: :func:`~secpipe.formats._findings.raw_data`'s column, its bytes copied into a
    buffer of Arrow's pool (which keeps freed pages for the next report: a fresh 300 MB join costs
    more in page faults than in copying); checked as UTF-8 unless all ASCII."""
    return string_column(raws, checked=all(map(bytes.isascii, raws)))  # (> 2 GiB: large_string, as raw_data)


def _picker(sel: list[int]) -> Any:
    """A function giving the items of a list at the positions ``sel`` (in C: ``itemgetter``)."""
    get = operator.itemgetter(*sel)
    return (lambda seq: [get(seq)]) if len(sel) == 1 else (lambda seq: list(get(seq)))
#: string fields of an issue read as they are (both paths).
_STRS = ("id", "title", "severity", "type", "packageName", "name", "version", "packageManager", "language",
         "license", "CVSSv3", "exploit", "creationTime", "modificationTime", "publicationTime", "publicId",
         "subType", "msg", "issue", "resolve", "documentation", "__filename", "nearestFixedInVersion")  # fmt: skip
#: issue fields kept raw by the native walker and decoded once per distinct value: (name, type).
_RAWS = (*((name, type_) for name, _attr, type_ in _FIELDS if name != "description"),
         ("cvssScore", float | None), ("path", list[Any] | None), ("iacDescription", dict[str, Any] | None))
_SPEC = _fast.Spec(
    (*((k, _fast.STR) for k in _STRS), ("description", _fast.STR), ("fixedIn[]", _fast.LIST), ("fixedIn[].@", _fast.STR),
     ("isUpgradable", _fast.BOOL), ("isPatchable", _fast.BOOL), *((k, _fast.RAW) for k, _t in _RAWS)),
    _UNMAPPED, tuple(f.encode_name for f in msgspec.structs.fields(_Vuln)),
)  # fmt: skip


def _native_fields(raws: list[bytes], cls: str) -> tuple[dict[str, Any], dict[str, Distinct]] | None:
    """The issues' field columns in one native pass, or None when the msgspec path must decide
    (no extension, an irregular issue, a raw field of the wrong shape). Each class's columns are
    reserved from that class's last batch (``shape``): a license issue's description is ~1/50
    of a vulnerability's, and the vulnerabilities' grew by copies into the licenses' reservation
    (100k issues: ~0.2 GB copied, ~9% of the decode)."""
    cols = _fast.extract(raws, _SPEC, whole=True, shape=cls)
    return None if cols is None else _fields_of(cols)


def _fields_of(cols: _fast.Columns) -> tuple[dict[str, Any], dict[str, Distinct]] | None:
    """:func:`_native_fields` of columns walked natively (None: a raw field of the wrong shape)."""
    fields = {k: Distinct.from_column(cols.strings[k], t, k) for k, t in _RAWS}
    if any(d.errors for d in fields.values()):
        return None
    f: dict[str, Any] = {k: cols.strings[k] for k in (*_STRS, "isUpgradable", "isPatchable")}
    desc = cols.strings["description"]
    empty = pc.equal(desc, "")  # (compares lengths: no copy of the texts unless one is empty)
    f["description"] = pc.if_else(empty, pa.scalar(None, S), desc) if pc.any(empty).as_py() else desc
    offsets, _mask = cols.lists["fixedIn[]"]
    f["fixedIn"] = pa.ListArray.from_arrays(pa.array(offsets), cols.strings["fixedIn[].@"],
                                            mask=pa.array(offsets[1:] == offsets[:-1]))  # fmt: skip
    score = fields.pop("cvssScore")
    f["cvssScore"] = score.column(pa.float64())
    f["unmapped"] = cols.unmapped
    if cols.raw is not None:  # raw_data made in the walk, each issue still in the CPU cache
        f["raw_data"] = cols.raw
    if cols.uids is not None:
        f["uids"] = cols.uids
    for k in ("path", "iacDescription"):  # checked above; the compliance mapping reads them from typed issues
        fields.pop(k)
    return f, fields


def _issue_fields(st: Strict, fields: dict[str, Distinct]) -> dict[str, Any]:
    """The msgspec path's field columns, as :func:`_native_fields` gives them."""
    vs: list[_VulnBase] = st.recs
    f: dict[str, Any] = {k: strs([getattr(v, "filename_" if k == "__filename" else k) for v in vs]) for k in _STRS}
    f["description"] = fields["description"].column(S, _or_none)
    f["fixedIn"] = pa.array([v.fixedIn or None for v in vs], STR_LIST)
    f["isUpgradable"] = pa.array([v.isUpgradable for v in vs], pa.bool_())
    f["isPatchable"] = pa.array([v.isPatchable for v in vs], pa.bool_())
    f["cvssScore"] = pa.array([v.cvssScore for v in vs], pa.float64())
    f["unmapped"] = unmapped_from(st, _UNMAPPED)
    return f


class Snyk(ReportFormat):
    """Snyk CLI test reports (open source and IaC)."""

    name = "snyk"
    report_type = _Image | list[_Image]
    what = "a snyk test --json report"
    description = ("snyk test --json (one project or an array), REST Issues API pages -> Vulnerability Finding (2002) / "
                   "Compliance Finding (2003) / Application Security Posture Finding (2007)")  # fmt: skip
    framing = "document"
    product = "Snyk"
    vendor = "Snyk"

    def sniff(self, head: bytes) -> int:
        """Recognize Snyk report keys; a bare Snyk issue object is claimed weakly (to dead-letter it)."""
        h = head[:65536]
        if h.lstrip()[:1] not in (b"{", b"["):
            return 0
        if is_issues_page(h):
            return 90
        if is_empty_page(h):
            return 30  # (no issue to tell it by: claimed weakly, an empty page of another JSON:API answer holds no event either)
        if any(k in h for k in _PROJECT_KEYS) and any(k in h for k in _SNYK_HINTS):
            return 90
        if b'"issueId"' in h and b'"fixInfo"' in h:  # unmanaged (C/C++) report: issues come first
            return 90
        if sum(k in h for k in _VULN_HINTS) >= 3:
            return 40
        if _ERROR_ANSWER.match(h) and b'"path"' in h:  # `snyk test --json` tested nothing: dead-lettered
            # with Snyk's own error as the reason. Below the generic ``json`` format's 5: the
            # shape is common in application logs, which wire endpoints must store, not refuse.
            return 4
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one report: a regular one (every project tested, each with its issue lists) is
        decoded as it came and each issue compacted on its own (:meth:`map_report` with
        ``formatted``), which gives the same bytes as slicing the compacted report without
        writing a compact copy of the whole (for a large report, fresh pages cost as much as the
        copy); any other document takes :class:`ReportFormat`'s path."""
        head = bytes(data[:65536])  # (a body may come as any buffer)
        if is_issues_page(head) or is_empty_page(head):
            return self._issues_page(data, source)
        with paused_gc():
            got = self._as_given(data, source)
            if got is not None:
                return got
            try:
                doc = _REPORT.decode(data)
            except msgspec.DecodeError:
                return super().decode(data, source)
            projects = _projects(doc)
            if not projects or any(_untested(p) or p.vulnerabilities is None and p.infrastructureAsCodeIssues is None
                                   for p in projects):  # fmt: skip
                return super().decode(data, source)
            return self.map_report(doc, data, source, formatted=False)

    def _issues_page(self, data: bytes, source: str) -> Decoded:
        """A Snyk REST Issues API page (:mod:`._snyk_issues`); one not of the page's shape is dead-lettered whole."""
        with paused_gc():
            try:
                data = compact(data)
                return decode_page(data, source, self.name)
            except msgspec.DecodeError as exc:
                return self.dead(not_utf8(data) or f"not a Snyk REST issues page: {exc}", source, data)

    def map_report(self, doc: _Image | list[_Image], data: bytes, source: str, *, formatted: bool = True) -> Decoded:
        """Decode one report into finding batches (``formatted``: ``data`` is compact already)."""
        projects: list[_Project] = _projects(doc)
        failed = [p for p in projects if _untested(p)]
        if failed:
            if len(failed) == len(projects):
                where_ = "; ".join(f"{p.path or p.projectName or 'a project'}: {p.error}" for p in failed)
                return self.dead(f"snyk test tested nothing ({where_})", source, data)
            for p in failed:  # the projects it could test are in the report; these hold no issues
                _log.warning("snyk report %s: %s was not tested: %s", source, p.path or p.projectName or "a project", p.error)
            projects = [p for p in projects if not _untested(p)]
        if not projects or any(p.vulnerabilities is None and p.infrastructureAsCodeIssues is None for p in projects):
            why = ("not a snyk test --json report: a project object needs `vulnerabilities` or "
                   "`infrastructureAsCodeIssues` (a single issue object is not a report; run `snyk test --json`)")  # fmt: skip
            return self.dead(why, source, data)
        raws: list[Any] = []  # msgspec.Raw slices of the document (no copy)
        where: list[int] = []
        groups: list[IssueGroup] = []  # (uid context before the ordinal, IaC, issues)
        iac: list[bool] = []
        for pi, p in enumerate(projects):
            base = f"{p.projectName}\0{p.path}\0{p.targetFile}\0{pi}"
            for key, items in ((False, p.vulnerabilities), (True, p.infrastructureAsCodeIssues)):
                if items:
                    raws.extend(items)
                    where.extend([pi] * len(items))
                    groups.append((f"{base}\0{int(key)}\0".encode(), key, items))
                    iac.extend([key] * len(items))
        out = Decoded(events=len(raws))
        if not raws or can_walk() and self._walked(groups, projects, where, iac, source, out):
            return out
        ctx = [f"{c.decode()}{k}" for c, _key, items in groups for k in range(len(items))]
        if formatted:
            raws = record_bytes(raws)
        else:  # each issue's compact text: natively (a whitespace-only pass; 100k issues 0.47 -> 0.39 CPU-s, memory-bound) or by msgspec
            raws = _fast.compact_each(raws) or [_format(r, indent=-1) for r in raws]
        if _fast.available() and self._native(raws, iac, projects, where, ctx, source, out):
            return out
        if not formatted:  # the typed issues' raw fields are slices of the report: compact ones
            data = compact(data)
        st, idx = typed_records(data, _TYPED, _issues_of, raws, source, _Vuln, out, self.name, "a Snyk issue")
        fields = {name: Distinct([getattr(r, attr) for r in st.recs], type_, name) for name, attr, type_ in _FIELDS}
        st, fields, kept = reject_distinct(st, fields, out, self.name, "a Snyk issue")
        if kept is not None:
            idx = [idx[i] for i in kept]
        rtype_l = [iac[i] or rec.type == "license" for i, rec in zip(idx, st.recs, strict=True)]
        for want, cls in ((False, "vulnerability_finding"), (True, "compliance_finding")):
            sel = [j for j, t in enumerate(rtype_l) if t is want]
            if not sel:
                continue
            whole = len(sel) == len(rtype_l)
            part = st if whole else st.take(sel)
            pf = fields if whole else {k: x.take(sel) for k, x in fields.items()}
            src = idx if whole else [idx[j] for j in sel]
            self._emit(cls, out, _issue_fields(part, pf), pf, projects, [where[i] for i in src], part.raws,
                       [ctx[i] for i in src], part, [iac[i] for i in src])  # fmt: skip
        return out

    def _as_given(self, data: bytes, source: str) -> Decoded | None:
        """A regular report decoded in one native pass over it as it came
        (:func:`~secpipe.formats._findings.walk_report`: the issues compacted, checked, walked and
        copied into raw_data; msgspec decodes and checks the rest, the skeleton), then the uids
        hashed with each list's context; None where that does not decide (the usual path then)."""
        walked = walk_report(data, _SPEC, _SPLIT, _CLASSES)
        if walked is None:
            return None
        skeleton, lists, classes = walked
        try:
            doc = _REPORT.decode(skeleton)
        except msgspec.DecodeError:
            return None
        projects = _projects(doc)
        if not projects or any(_untested(p) or p.vulnerabilities is None and p.infrastructureAsCodeIssues is None
                               for p in projects):  # fmt: skip
            return None
        labels = [(k, j) for k, p in enumerate(doc if isinstance(doc, list) else [doc])
                  for j in range(-1, len(p.applications or ()))]  # fmt: skip
        counts = {(t, a, key): c for t, a, key, c in lists}
        ctxs: list[bytes] = []
        sizes: list[int] = []
        where: list[int] = []
        iac: list[bool] = []
        for pi, (p, (k, j)) in enumerate(zip(projects, labels, strict=True)):
            base = f"{p.projectName}\0{p.path}\0{p.targetFile}\0{pi}"
            for key in (0, 1):
                c = counts.pop((k, j, key), 0)
                if c:
                    ctxs.append(f"{base}\0{key}\0".encode())
                    sizes.append(c)
                    where.extend([pi] * c)
                    iac.extend([bool(key)] * c)
        if any(counts.values()):  # a list no project holds (not expected: the same document)
            return None
        out = Decoded(events=len(where))
        if not where:
            return out
        got = [(sel, cols if not sel or cols.raw is None else dataclasses.replace(cols, uids=issue_uids(
            self.name, ctxs, sizes, sel, cols.raw))) for sel, cols in classes]  # fmt: skip
        return out if self._emit_walked(got, projects, where, iac, source, out) else None

    def _walked(self, groups: list[IssueGroup], projects: list[_Project], where: list[int], iac: list[bool],
                source: str, out: Decoded) -> bool:
        """The fused native path (:func:`~secpipe.formats._findings.walk_issues`: each issue compacted,
        walked, copied into raw_data and hashed in one pass, license issues told apart by their
        walked ``type``); False when it does not apply (the paths below decide)."""
        got = walk_issues(groups, _SPEC, self.name, _SPLIT, _CLASSES)
        return got is not None and self._emit_walked(got, projects, where, iac, source, out)

    def _emit_walked(self, got: list[tuple[list[int], _fast.Columns]], projects: list[_Project], where: list[int],
                     iac: list[bool], source: str, out: Decoded) -> bool:
        """The batches of natively walked issues (per class: their numbers, their columns with
        raw_data and uids); False when one of their fields has the wrong shape (nothing emitted)."""
        batches = []
        for (sel, cols), cls in zip(got, _CLASSES, strict=True):
            if not sel:
                continue
            native = _fields_of(cols)
            if native is None:
                return False
            part = None
            if cls == "compliance_finding":  # license and IaC issues: typed for the compliance mapping
                scratch = Decoded()
                part = decode_strict(texts(native[0]["raw_data"]), [(source, i) for i in sel], _Vuln, scratch,
                                     self.name, "a Snyk issue")  # fmt: skip
                if scratch.dead:
                    return False
            batches.append((cls, sel, native, part))
        for cls, sel, (f, fields), part in batches:
            pick = (lambda seq: seq) if len(sel) == len(where) else _picker(sel)
            self._emit(cls, out, f, fields, projects, pick(where), None, None, part, pick(iac))
        return True

    def _native(self, raws: list[bytes], iac: list[bool], projects: list[_Project], where: list[int], ctx: list[str],
                source: str, out: Decoded) -> bool:
        """The native path (:func:`_native_fields`); False when it does not apply (the msgspec path decides).

        Issues are split by class before they are walked, so no column is copied to split it: IaC
        issues by their list, license issues by their bytes (Snyk writes them starting with the
        ``license`` key; else any compact ``"type":"license"``). The walked ``type`` must confirm
        the split; when it does not, the next, wider guess is tried.
        """
        mixed = any(iac)
        for guess, mark in _LICENSE_GUESSES:
            comp = list(map(guess, raws, itertools.repeat(mark)))
            if mixed:
                comp = [i or c for i, c in zip(iac, comp, strict=True)]
            batches = self._split(raws, comp, iac, source)
            if batches is None:
                return False
            if batches:
                break
        else:
            return False
        for cls, sel, (f, fields), part in batches:
            if len(sel) == len(raws):
                self._emit(cls, out, f, fields, projects, where, raws, ctx, part, iac)
                continue
            pick = _picker(sel)
            self._emit(cls, out, f, fields, projects, pick(where), pick(raws), pick(ctx), part, pick(iac))
        return True

    def _split(self, raws: list[bytes], comp: list[bool], iac: list[bool], source: str) -> list[Any] | None:
        """Each class's issues walked natively (with typed issues for compliance); [] when the walked
        ``type`` contradicts ``comp``, None when the native path does not apply."""
        batches = []
        for cls, want in (("vulnerability_finding", False), ("compliance_finding", True)):
            sel = list(itertools.compress(range(len(comp)), comp if want else map(operator.not_, comp)))
            if not sel:
                continue
            sub = raws if len(sel) == len(raws) else _picker(sel)(raws)
            native = _native_fields(sub, cls)
            if native is None:
                return None
            lic = pc.fill_null(pc.equal(native[0]["type"], "license"), False)
            if want is False and pc.any(lic).as_py():
                return []
            part = None
            if want:  # license and IaC issues: typed for the compliance mapping
                if not all(iac[i] or ok for i, ok in zip(sel, lic.to_pylist(), strict=True)):
                    return []
                scratch = Decoded()
                part = decode_strict(sub, [(source, i) for i in sel], _Vuln, scratch, self.name, "a Snyk issue")
                if scratch.dead:
                    return None
            batches.append((cls, sel, native, part))
        return batches

    def _emit(self, cls: str, out: Decoded, f: dict[str, Any], fields: dict[str, Distinct], projects: list[_Project],
              where: list[int], raws: list[bytes] | None, ctx: list[str] | None, part: Strict | None,
              iac: list[bool]) -> None:  # fmt: skip
        """One batch of ``cls`` from the issues' field columns (``part``: typed issues, for compliance;
        ``raws`` and ``ctx`` for the uids and raw_data unless ``f`` holds them)."""
        cols = self._common(cls, f, projects, where, raws, ctx)
        if cls == "vulnerability_finding":
            cols.update(self._vulns(f, fields, [projects[i].packageManager for i in where], cols))
        else:
            assert part is not None
            cols.update(self._compliance(part.recs, fields, iac, cols["severity_id"]))
        if len(projects) > 1:  # one issue in two projects of an --all-projects report: its target file tells them apart
            take = pa.array(where, pa.int32())
            target = strs([p.displayTargetFile or p.targetFile for p in projects]).take(take)
            cols["finding_info.uid"] = distinct_uids(cols["finding_info.uid"], target, strs([p.path for p in projects]).take(take))
        cols.setdefault("unmapped", f["unmapped"])
        out.batches.append(to_batch(cls, cols))

    def _common(self, cls: str, f: dict[str, Any], projects: list[_Project], where: list[int], raws: list[bytes] | None,
                ctx: list[str] | None) -> dict[str, pa.Array]:
        n = len(where)
        uids = f["uids"] if "uids" in f else event_uids(self.name, raws or [], ctx)
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=uids,
            times_ms=pa.nulls(n, pa.int64()), raws=None, activity_id=1, severity_id=severity_ids(f["severity"]),
        )  # fmt: skip
        cols["raw_data"] = f["raw_data"] if "raw_data" in f else _raw_data(raws or [])
        res = []
        for p in projects:
            extra = {"targetFile": p.displayTargetFile or p.targetFile, "org": p.org,
                     "packageManager": p.packageManager, "projectType": p.projectType, "platform": p.platform,
                     "baseImage": p.docker.get("baseImage") if isinstance(p.docker, dict) else None}  # fmt: skip
            # a resource needs a name or uid (OCSF 1.8.0): a report naming neither project nor path is
            # named by its target file, and without any of them it has no resource (raw_data keeps it)
            name = p.projectName or p.path or extra["targetFile"]
            res.append([{"type": "project", "name": name, "uid": p.path,
                         "data": json_col([{k: x for k, x in extra.items() if x}]).to_pylist()[0]}]
                       if name else None)  # fmt: skip
        take = pa.array(where, pa.int32())
        cols["resources"] = pa.array(res, _RES).take(take)
        cols["finding_info.created_time"] = parse_times(f["creationTime"])
        cols["finding_info.modified_time"] = parse_times(f["modificationTime"])
        cols["finding_info.title"] = either(f["title"], f["id"])
        desc = f["description"]
        cols["finding_info.desc"] = pc.coalesce(desc, f["msg"]) if desc.null_count else desc
        # an IaC project lists infrastructureAsCodeIssues (newer CLIs write an empty vulnerabilities list beside them)
        product = ["Snyk IaC" if p.vulnerabilities is None or p.infrastructureAsCodeIssues is not None
                   else "Snyk Container" if p.docker is not None else "Snyk Open Source" for p in projects]  # fmt: skip
        cols["finding_info.product.name"] = strs(product).take(take)
        return cols

    def _vulns(self, f: dict[str, Any], fields: dict[str, Distinct], managers: list[str | None],
               cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
        """Vulnerability columns from the field columns of either path (see :func:`_issue_fields`)."""
        n = len(f["id"])
        ids = f["id"]
        ident = fields["identifiers"]
        parts = ident.derive(_id_parts)  # per distinct identifiers: (first CVE, related, related sorted)
        at = pa.array(ident.idx, pa.int32())
        cve = pa.array([c for c, _r, _s in parts], S).take(at)
        related = pa.array([rs for _c, _r, rs in parts], STR_LIST).take(at)
        need = np.flatnonzero(pc.and_(pc.is_valid(cve), nonempty(ids)).to_numpy(zero_copy_only=False))
        if len(need):  # an issue with a CVE also lists its own id: sorted({*related, id}) for those rows
            kk = np.asarray(ident.idx)[need].tolist()
            own = [_with_id(parts[k][1], v) for k, v in zip(kk, ids.take(pa.array(need)).to_pylist(), strict=True)]
            pos = np.arange(n, dtype=np.int64)
            pos[need] = n + np.arange(len(need))
            related = pa.concat_arrays([related, pa.array(own, STR_LIST)]).take(pa.array(pos))
        details = fields["cvssDetails"]
        cvss = _cvss_column(f["CVSSv3"], f["cvssScore"], details, fields["cvssSources"])
        chains = fields["from"]
        fixed_in = f["fixedIn"]
        nearest = f["nearestFixedInVersion"]
        nearest = or_null(nearest)
        fixed = pc.coalesce(pc.binary_join(fixed_in, ", "), nearest)
        fixable = pc.or_(pc.is_valid(fixed), pc.or_(pc.fill_null(f["isUpgradable"], False),
                                                    pc.fill_null(f["isPatchable"], False)))  # fmt: skip
        pkg_name = either(f["packageName"], f["name"])
        version = either(f["version"], _named_version(f["name"]))
        pkg = nest({
            "name": pkg_name,
            "version": version,
            "fixed_in_version": fixed,
            "package_manager": either(f["packageManager"], strs(managers)),
            "path": f["__filename"],
            "type": f["language"],
        })  # fmt: skip
        title = cols["finding_info.title"]  # title, else the issue id
        published = parse_times(f["publicationTime"])
        exploit = pc.coalesce(fields["exploitDetails"].column(S, _maturity), f["exploit"])
        cwe = ident.column(S, _first_cwe)
        # OCSF 1.8.0 wants just one of advisory / cve / cwe: an issue without a CVE is Snyk's own
        # advisory (its id, SNYK-JS-...), its weakness then among the advisory's related_cwes
        none_s = pa.scalar(None, S)
        adv = pc.if_else(pc.is_valid(cve), none_s, or_null(ids))
        adv_cwe = pc.if_else(pc.is_valid(cve), none_s, cwe)
        lone_cwe = pc.if_else(pc.is_valid(adv), none_s, adv_cwe)  # neither a CVE nor an id: the weakness alone
        vuln = nest({
            "title": title,
            "desc": cols["finding_info.desc"],  # vulnerabilities carry a description, never an IaC msg
            "severity": f["severity"],
            "vendor_name": const("Snyk", n),
            "references": fields["references"].column(STR_LIST, _urls),
            "related_vulnerabilities": related,
            "is_fix_available": fixable,
            "is_exploit_available": pc.if_else(pc.is_null(exploit), pa.scalar(None, pa.bool_()),
                                               pc.is_in(pc.utf8_lower(exploit), value_set=_EXPLOITED_SET)),
            "dependency_chain": chains.column(S, _chain),
            "cve.uid": cve,
            "cve.cwe": only_where(nest({"uid": cwe}), cwe),
            "cve.title": title,
            "cve.created_time": published,
            "cve.cvss": cvss,
            "cve.epss": fields["epssDetails"].column(_EPSS, _epss),
            "advisory.uid": adv,
            "advisory.title": title,
            "advisory.created_time": published,
            "advisory.related_cwes": singleton_list(nest({"uid": adv_cwe}), adv_cwe.is_valid()),
            "cwe.uid": lone_cwe,
            "affected_packages": singleton_list(pkg, version.is_valid()),
        })  # fmt: skip
        vuln = objects_where(vuln, {"cve": cve, "advisory": adv, "cwe": lone_cwe})
        none = "None"  # as an f-string shows an absent value
        at = pc.binary_join_element_wise(pc.fill_null(pkg_name, none), pc.fill_null(f["version"], none), "@")
        return {
            "status_id": const(1, n, pa.int32()),
            "status": const("New", n),
            "finding_info.uid": pc.binary_join_element_wise(pc.fill_null(f["id"], none), chains.column(S, _arrow_path), "|"),
            "finding_info.types": const(["Vulnerability"], n, pa.list_(pa.string())),
            "finding_info.first_seen_time": published,
            "message": pc.binary_join_element_wise(title, at, " in "),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped_items(f["unmapped"], _scores_aside(f, fields, pc.is_null(cve))),
        }

    def _compliance(self, vs: list[_VulnBase], fields: dict[str, Distinct], iac: list[bool],
                    sev: pa.Array) -> dict[str, pa.Array]:  # fmt: skip
        n = len(vs)
        chains = fields["from"]
        joined = chains.per_row(chains.derive(_arrow_path))
        desc = [v.iacDescription or {} for v in vs]
        # iacDescription's issue/resolve: text only (an object or array there raised ArrowTypeError, the report lost)
        detail = strs([text_or_none(d.get("issue")) or v.issue or v.msg or (f"license {v.license}" if v.license else None)
                       for d, v in zip(desc, vs, strict=True)])  # fmt: skip
        check = nest({
            "uid": strs([v.publicId or v.id for v in vs]),
            "name": strs([v.title for v in vs]),
            # OCSF: the caption of its severity_id (Snyk's word stays in raw_data), as for Trivy's checks
            "severity": captions("compliance_finding", "severity_id", sev),
            "severity_id": sev,
            "status": strs(["Fail"] * n),
            "status_id": pa.array([3] * n, pa.int32()),
        })  # fmt: skip
        status_id = pa.array([1] * n, pa.int32())
        resolve = strs([text_or_none(d.get("resolve")) or v.resolve for d, v in zip(desc, vs, strict=True)])
        return {
            "status_id": status_id,
            "status": captions("compliance_finding", "status_id", status_id),
            "compliance.status_id": pa.array([3] * n, pa.int32()),
            "compliance.status": strs(["Fail"] * n),
            "compliance.status_detail": detail,
            "compliance.control": strs([v.publicId or v.id for v in vs]),
            "compliance.category": strs([v.subType or ("license" if not i else "iac") for v, i in zip(vs, iac, strict=True)]),
            "compliance.checks": singleton_list(check),
            "finding_info.uid": strs([
                f"{v.publicId or v.id}|{'.'.join(map(str, v.path or []))}|{j}" for v, j in zip(vs, joined, strict=True)
            ]),
            "finding_info.types": pa.array([["Misconfiguration"] if i else ["License"] for i in iac], pa.list_(pa.string())),
            "finding_info.src_url": strs([v.documentation for v in vs]),
            "message": strs([v.msg or v.title for v in vs]),
            "remediation": only_where(nest({"desc": resolve}), resolve),
        }


__all__ = ["Snyk"]
