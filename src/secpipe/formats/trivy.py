"""Trivy JSON reports (``trivy image|fs|repo|config|k8s --format json``, SchemaVersion 2).

One event per finding, in three OCSF classes:

- ``Results[].Vulnerabilities[]`` -> Vulnerability Finding (2002): ``vulnerabilities[0]`` holds
  the CVE id (``cve.uid``), CVSS per source (``cve.cvss[]``: version from the vector,
  base score, vector, source as ``vendor_name``), CWE, references; a VulnerabilityID that is no
  CVE (GHSA-, DLA-, ALAS-, RUSTSEC-, GO-, TEMP- ...) is the ``advisory`` instead (OCSF 1.8.0: just one
  of advisory / cve / cwe per vulnerability; uid, title, desc, times, ``src_url`` the PrimaryURL, the CWE
  in ``related_cwes``), its ``CVSS`` block, which OCSF holds only in a cve, kept in ``unmapped``; fixed/installed versions and
  the package (``affected_packages[0]``: name, version, fixed_in_version, type = result Type,
  purl, uid = PkgID else ``PkgIdentifier.UID``, path = PkgPath; the ``PkgIdentifier`` stays in
  ``unmapped`` when it holds a ``BOMRef``, ``trivy sbom``'s bom-ref of the component scanned, or a
  UID beside the PkgID: OCSF's package has no place for them). The vendor ``Status`` (Trivy 0.44+) is ``status_code``
  and gives ``vulnerabilities[0].fix_coverage_id``: fixed Complete (1); affected, will_not_fix,
  fix_deferred, end_of_life (what ``--ignore-unfixed`` drops) None (3); unknown,
  under_investigation Unknown (0); another word Other (99, the word as ``fix_coverage``);
  ``is_fix_available`` is a FixedVersion or Status fixed; not_affected is finding status
  Suppressed (3, as a CycloneDX VEX not_affected), the others New (1).
- ``Results[].Misconfigurations[]`` -> Compliance Finding (2003): ``compliance.status_id`` from
  ``Status`` (PASS -> Pass 1, FAIL -> Fail 3, EXCEPTION -> Other 99); the check (ID/AVDID, title,
  severity, the same status_id) in ``compliance.checks[0]``; both statuses are the caption of
  their status_id, for Other Trivy's word (``EXCEPTION``), as OCSF defines them; a PASS finding
  gets finding status Resolved (4), others New (1); resolution in ``remediation.desc``. The
  resource at fault, ``CauseMetadata.Resource`` (a Terraform resource or module address, a
  CloudFormation logical id; not when it is the Target again, as a ``trivy aws`` ARN), is one more
  ``resources`` entry (type its Service, else Provider; labels its Provider; data provider, service,
  start and end line); the whole CauseMetadata stays in ``unmapped``.
- ``Results[].Secrets[]`` -> Data Security Finding (2006). OCSF 1.8.0 describes that class as the
  one for "Secrets Management" detections, unlike Vulnerability Finding (software weaknesses):
  ``data_security.detection_pattern`` = RuleID, ``pattern_match`` = Trivy's (already masked)
  Match, ``detection_system_id`` 11 Developer Security, ``data_lifecycle_state_id`` 1 at-Rest,
  ``category_id`` 6 Security; the file goes to ``file`` (``type_id`` 1 Regular File: a secret is
  found in a file's content; StartLine/EndLine/Code stay in ``unmapped``).

- ``Results[].Licenses[]`` (``--scanners license``: a package's license, or a loose license file
  under the Target ``Loose File License(s)``) -> Compliance Finding (2003) as a license-policy
  check: ``compliance.control`` and the check are the license name, the status from Trivy's
  category (Google license classification); forbidden/restricted fail, notice/permissive/
  unencumbered pass, reciprocal/unknown are Other with the category as the status word (of
  ``compliance`` and of its check, which carries the same status_id); a license that passes is,
  like a PASS misconfiguration, finding status Resolved (4), the others New (1);
  the license file is ``evidences[0].file`` (Compliance Finding has no ``file``).

- ``Results[].CustomResources[]`` (what a Trivy module read from the files it asked for, in a result of Class
  ``custom``): no findings, but the facts the module's post-scan judged the findings by: ``resources`` entries of
  each finding of the report; in a report with no finding, File Query (5007) events (:mod:`._trivy_custom`).

- ``Results[].ExperimentalModifiedFindings[]`` (``--show-suppressed``: findings a VEX statement or an
  ignore file set aside) -> the class of the finding each holds, status Suppressed (3; Resolved for a
  VEX ``fixed``) with the statement as ``status_detail`` (:mod:`._trivy_vex`).

``trivy k8s --format json`` reports (``ClusterName`` and ``Resources`` with ``--report all`` or
``Findings`` with ``--report summary``; SchemaVersion left out when 0; before Trivy 0.40 one
list of resources per scanner, ``Vulnerabilities`` and ``Misconfigurations``, read as the
``Resources`` of both) hold per Kubernetes resource
(Namespace, Kind, Name, image Metadata: an object, or since Trivy 0.4x a list of one per image) the results
of its scan: each finding's ``resources[0]`` is then that workload (type = Kind, name, namespace; cluster
and image in ``data``; of several images every repo tag and digest, the image id and OS where one); a resource
Trivy could not scan (``Error``) holds no finding and is logged. A value of the wrong JSON type
inside one resource dead-letters that result (or resource) alone, with its path; the other
resources' findings are stored (:mod:`._trivy_k8s`, only after msgspec refused the report).

OCSF conformance: ``cve.cwe`` (just one of advisory / cve / cwe per vulnerability) is emitted only with a CWE id (its required ``uid``); a check's
``severity`` is the OCSF caption of its ``severity_id`` (Trivy's own word stays in the
finding's ``raw_data``).

Every event carries the scanned artifact in ``resources[0]`` (type = ArtifactType: container_image,
repository, filesystem, vm ...; name = ArtifactName; uid = image id or ArtifactID; labels = repo
tags; data = OS and repo digests, for ``trivy repo`` the repository URL, branch, tags, commit and
author) and the result target in ``resources[1]`` (name = Target, type =
Type or Class). ``ReportID`` (Trivy 0.63+) -> ``metadata.correlation_uid``; ``Trivy.Version`` (Trivy 0.50+; a cosign
record's ``scanner.version``) -> ``metadata.product.version`` and ``finding_info.product.version``.
A cosign vulnerability scan record (``--format cosign-vuln``: the report as ``scanner.result``,
beside ``metadata.scanStartedOn/scanFinishedOn``), or the in-toto statement cosign attests it in
(the record as ``predicate``), is read as the report it holds; a report without ``CreatedAt`` takes
the record's ``scanFinishedOn`` as its time. ``time`` = report ``CreatedAt`` (reports without it, or with Go's zero time
``0001-01-01T00:00:00Z`` that Trivy writes when it never set one, get the receipt time and the
``secpipe:time_from_receipt`` label). Finding keys not placed (Layer, DataSource, VendorSeverity,
a misconfiguration's Code, CauseMetadata ...) stay in ``unmapped``; ``raw_data`` is the finding's own JSON (compact).

Performance: with the native walk a report is read as it came (:meth:`Trivy._as_given`: no
compact copy of the whole): its vulnerabilities (most of a report) compacted, checked, walked into
their field columns and ``unmapped`` and copied into ``raw_data`` in one Rust pass over the report
(``_findings.walk_report``; msgspec decodes the skeleton, the report with those lists emptied, and
the uids are hashed from ``raw_data``), or, where that pass does not decide, from msgspec's slices
(``walk_issues``, :func:`_walked_vulns`); the other findings compacted each. Otherwise the
report is compacted once (so every finding slice is canonical) and, with the extension (``_fast``),
the vulnerabilities walked in Rust (:func:`_native_vulns`); otherwise, or when a vulnerability is
irregular (a value of another JSON type, no VulnerabilityID, a CVSS block of the wrong shape),
findings are decoded in one msgspec call into structs that list every known key
(``forbid_unknown_fields``; a finding with an unknown key falls back to a per-finding decode
that keeps the extra key in ``unmapped``) and :func:`_vuln_fields` gives the same columns. One
builder (``Trivy._vulns``) maps those columns with Arrow kernels, so the mapping exists once;
tests compare both paths. Each finding is copied once to bytes (the native uids and walker
borrow them), ``raw_data`` is one joined buffer (the walker copies each vulnerability into it,
UTF-8 checked, while it is in the CPU cache), and the cyclic GC is paused while a report is
mapped. Bounded by bytes: compaction, SHA-256 and the ``raw_data`` copy are about half the time.

``trivy aws --format json`` (and the trivy-aws plugin's) writes the report without SchemaVersion
(``ArtifactType`` aws_account, ``ArtifactName`` the account, a result per resource ARN; no
``CreatedAt`` in early releases): read as any report, ``metadata.log_version`` null.

A compliance report (``trivy image|k8s|aws --compliance <spec> --format json``, ``--report all`` or
``summary``: no SchemaVersion, its controls each holding the results that failed it) is read by
:mod:`._trivy_compliance`: each finding as above with its control as ``policy`` (and
``compliance.control``), and one Compliance Finding of each control that holds none.

trivy-operator's reports (VulnerabilityReport, ExposedSecretReport, ConfigAuditReport and the RBAC and
infra assessment reports, the compliance reports, SbomReports; Starboard's kube-bench and kube-hunter
reports: ``aquasecurity.github.io`` custom resources, one or a ``kind: List``, as JSON or as
``kubectl get -o yaml`` writes them) are read by :mod:`._trivy_operator`, each as the ``trivy k8s``
report of its workload.

Trivy's output before 0.20 (``--format json``: a bare JSON array of results, no SchemaVersion)
is read as a report of those results: it names no artifact and no report time, so each finding
gets the receipt time (labelled), a null ``metadata.log_version``, and as ``resources[0]`` the
artifact named by the first OS result's Target (``<image or path> (<os> <version>)``, e.g.
``alpine:3.9 (alpine 3.9.4)`` -> ``alpine:3.9``; null when no result is an OS one).

Event identity: hash of artifact, target, finding ordinal and the finding bytes, so one CVE found
in two images is two events, and a redelivered report collapses. A document that is not a
Trivy report, or a finding of the wrong JSON shape, is dead-lettered with the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast, _trivy_compliance, _trivy_operator, _trivy_vex
from secpipe.formats._findings import (
    CVSS_LIST,
    RESOURCES,
    STR_LIST,
    Distinct,
    IssueGroup,
    ReportFormat,
    S,
    WalkedList,
    can_walk,
    captions,
    compact,
    distinct_uids,
    either,
    first_items,
    issue_uids,
    json_col,
    nest,
    nonempty,
    objects_where,
    only_where,
    or_null,
    paused_gc,
    raw_data,
    record_bytes,
    reject_distinct,
    report_time,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
    unmapped_items,
    walk_issues,
    walk_report,
)
from secpipe.formats._trivy_custom import custom_batch, custom_resources
from secpipe.formats._trivy_k8s import mend
from secpipe.formats.base import (
    BOM,
    DeadLetter,
    Decoded,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    parse_times,
    text_or_none,
    to_batch,
    unmapped_from,
)

_REGULAR_FILE = 1  # OCSF file.type_id Regular File


class _Meta(msgspec.Struct):
    ImageID: str | None = None
    RepoTags: list[str] | None = None
    RepoDigests: list[str] | None = None
    OS: dict[str, Any] | None = None
    # `trivy repo` (a Git repository): where and what was scanned
    RepoURL: Any = None  # (typed Any: a report is not refused for a value of another shape here)
    Branch: Any = None
    Tags: Any = None
    Commit: Any = None
    Author: Any = None


class _Result(msgspec.Struct):
    Target: str | None = None
    Class: str | None = None
    Type: str | None = None
    Vulnerabilities: list[msgspec.Raw] | None = None
    Misconfigurations: list[msgspec.Raw] | None = None
    Secrets: list[msgspec.Raw] | None = None
    Licenses: list[msgspec.Raw] | None = None
    CustomResources: list[msgspec.Raw] | None = None  # what modules found (read by :mod:`._trivy_custom`)
    # `--show-suppressed`: the findings set aside (read by :mod:`._trivy_vex`; raw: any value is taken here)
    ExperimentalModifiedFindings: msgspec.Raw = msgspec.Raw(b"")


class _Workload(msgspec.Struct):
    """One Kubernetes resource of a ``trivy k8s`` report, with the results of its scan."""

    Namespace: str | None = None
    Kind: str | None = None
    Name: str | None = None
    Metadata: _Meta | list[_Meta] | None = None  # (Trivy 0.4x+: one per image of the workload)
    Results: list[_Result] | None = None
    Error: str | None = None


class _Report(msgspec.Struct):
    SchemaVersion: int | None = None
    Trivy: Any = None  # Trivy 0.50+: {"Version": "<the version that wrote the report>"}
    ReportID: str | None = None  # Trivy 0.63+: one id per report
    CreatedAt: str | None = None
    ArtifactID: str | None = None
    ArtifactName: str | None = None
    ArtifactType: str | None = None
    Metadata: _Meta | None = None
    Results: list[_Result] | None = None
    ClusterName: str | None = None  # `trivy k8s --format json`: the cluster, and per resource ...
    Resources: list[_Workload] | None = None  # ... its results (`--report all`)
    Findings: list[_Workload] | None = None  # ... or (`--report summary`)


class _CVSS(msgspec.Struct, gc=False):
    V2Vector: str | None = None
    V3Vector: str | None = None
    V40Vector: str | None = None
    V2Score: float | None = None
    V3Score: float | None = None
    V40Score: float | None = None


class _PkgIdent(msgspec.Struct, gc=False):
    PURL: str | None = None
    UID: str | None = None
    BOMRef: str | None = None  # (trivy sbom: the package's bom-ref in the SBOM scanned)


_R = msgspec.Raw
_log = logging.getLogger("secpipe.formats.trivy")
_NONE = msgspec.Raw(b"")


class _Vuln(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every Trivy vulnerability key: mapped ones typed (or raw and decoded once per distinct value,
    see ``_V_FIELDS``), the rest kept raw for ``unmapped``."""

    VulnerabilityID: str
    PkgID: str | None = None
    PkgName: str | None = None
    PkgPath: str | None = None
    PkgIdentifier: _PkgIdent | None = None
    InstalledVersion: str | None = None
    FixedVersion: str | None = None
    SeveritySource: str | None = None
    PrimaryURL: str | None = None
    Title: str | None = None
    Description: _R = _NONE
    Severity: str | None = None
    CweIDs: list[str] | None = None
    VendorIDs: list[str] | None = None
    CVSS: _R = _NONE
    References: _R = _NONE
    PublishedDate: str | None = None
    LastModifiedDate: str | None = None
    Fingerprint: str | None = None
    Status: str | None = None
    Layer: _R = _NONE
    DataSource: _R = _NONE
    VendorSeverity: _R = _NONE
    Custom: _R = _NONE
    PkgRef: _R = _NONE


_V_UNMAPPED = ("Layer", "DataSource", "VendorSeverity", "Custom", "PkgRef")
#: Trivy's vulnerability Status (its filtering docs) -> OCSF vulnerability fix_coverage_id: fixed is
#: Complete (1); affected, will_not_fix, fix_deferred and end_of_life (what ``--ignore-unfixed``
#: leaves out) None (3); unknown and under_investigation Unknown (0); another word Other (99).
_FIX_COVERAGE = {"fixed": 1, "affected": 3, "will_not_fix": 3, "fix_deferred": 3, "end_of_life": 3,
                 "unknown": 0, "under_investigation": 0}  # fmt: skip
_FIX_CAPTION = {0: "Unknown", 1: "Complete", 3: "None"}
#: Vulnerability keys kept raw and decoded once per distinct value (a CVE repeats per package and target).
_V_FIELDS = (("Description", str | None), ("CVSS", dict[str, _CVSS] | None), ("References", list[str] | None))


class _Misconf(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    ID: str | None = None
    AVDID: str | None = None
    Type: str | None = None
    Title: str | None = None
    Description: str | None = None
    Message: str | None = None
    Resolution: str | None = None
    Severity: str | None = None
    PrimaryURL: str | None = None
    References: list[str] | None = None
    Status: str | None = None
    Namespace: _R = _NONE
    Query: _R = _NONE
    Layer: _R = _NONE
    CauseMetadata: _R = _NONE


_M_UNMAPPED = ("Namespace", "Query", "Layer", "CauseMetadata")


class _Cause(msgspec.Struct, gc=False):
    """What a misconfiguration's CauseMetadata names: the resource at fault (a Terraform resource or
    module address, a CloudFormation logical id, a cloud ARN) and where it is defined."""

    Resource: Any = None  # (typed Any: a finding is not refused for a value of another shape here)
    Provider: Any = None
    Service: Any = None
    StartLine: Any = None
    EndLine: Any = None


_CAUSE = msgspec.json.Decoder(_Cause)


def _cause_resource(raw: msgspec.Raw, target: str | None) -> dict[str, Any] | None:
    """The resource entry a misconfiguration's CauseMetadata adds: ``name`` its Resource, ``type``
    its Service (else Provider), ``labels`` its Provider, ``data`` provider, service and the lines
    that define it; None without a Resource of its own (none, or the result's Target again)."""
    if not raw:
        return None
    try:
        c = _CAUSE.decode(raw)
    except msgspec.DecodeError:
        return None
    name = text_or_none(c.Resource)
    if not name or name == target:
        return None
    provider, service = text_or_none(c.Provider), text_or_none(c.Service)
    data = {k: v for k, v in (("provider", provider), ("service", service), ("start_line", c.StartLine),
                              ("end_line", c.EndLine)) if v is not None and v != ""}  # fmt: skip
    return {"type": service or provider, "name": name, "uid": None, "labels": [provider] if provider else None,
            "data": json_col([data]).to_pylist()[0]}


class _Secret(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    RuleID: str | None = None
    Category: str | None = None
    Severity: str | None = None
    Title: str | None = None
    Match: str | None = None
    StartLine: _R = _NONE
    EndLine: _R = _NONE
    Code: _R = _NONE
    Layer: _R = _NONE
    Offset: _R = _NONE


_S_UNMAPPED = ("StartLine", "EndLine", "Code", "Layer", "Offset")


class _License(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A detected license (``--scanners license``): of a package, or of a loose file (Class license-file)."""

    Severity: str | None = None
    Category: str | None = None
    PkgName: str | None = None
    FilePath: str | None = None
    Name: str | None = None
    Link: str | None = None
    Confidence: _R = _NONE
    Text: _R = _NONE
    Layer: _R = _NONE


_L_UNMAPPED = ("Confidence", "Text", "Layer")
#: Google license classification (Trivy's license categories) -> OCSF compliance status_id: the
#: categories Trivy's default policy rates CRITICAL/HIGH (forbidden, restricted) fail, the ones it
#: rates LOW (notice, permissive, unencumbered) pass; reciprocal (obligations) and unknown (not
#: recognized) are Other (99) with Trivy's category as ``compliance.status``.
_LICENSE_STATUS = {"forbidden": 3, "restricted": 3, "notice": 1, "permissive": 1, "unencumbered": 1}
_EVIDENCE_FILE = pa.list_(pa.struct([("name", pa.string()), ("file", pa.struct([
    ("path", pa.string()), ("name", pa.string()), ("type_id", pa.int32()), ("type", pa.string())]))]))  # fmt: skip


class _TypedResult(msgspec.Struct, gc=False):
    Vulnerabilities: list[_Vuln] | None = None
    Misconfigurations: list[_Misconf] | None = None
    Secrets: list[_Secret] | None = None
    Licenses: list[_License] | None = None


class _TypedWorkload(msgspec.Struct, gc=False):
    Results: list[_TypedResult] | None = None


class _TypedReport(msgspec.Struct, gc=False):
    """The report again with every finding typed: one C call for the whole document (no join)."""

    Results: list[_TypedResult] | None = None
    Resources: list[_TypedWorkload] | None = None
    Findings: list[_TypedWorkload] | None = None


_TYPED = msgspec.json.Decoder(_TypedReport)
_LEGACY_REPORT = msgspec.json.Decoder(_Report)


class _CosignScanner(msgspec.Struct):
    result: msgspec.Raw = msgspec.Raw(b"null")
    version: Any = None  # (the Trivy that scanned, e.g. "v0.30.1-8-gf9cb8a28")


class _CosignMetadata(msgspec.Struct):
    scanStartedOn: str | None = None
    scanFinishedOn: str | None = None


class _CosignVuln(msgspec.Struct):
    """A cosign vulnerability scan record (``trivy ... --format cosign-vuln``; cosign's
    COSIGN_VULN_ATTESTATION_SPEC predicate): the Trivy report is ``scanner.result``."""

    scanner: _CosignScanner | None = None
    metadata: _CosignMetadata | None = None


class _Statement(msgspec.Struct):
    """An in-toto statement holding such a record as its ``predicate`` (the attestation cosign
    makes of it, as ``cosign verify-attestation`` decodes it)."""

    predicate: _CosignVuln | None = None
    scanner: _CosignScanner | None = None  # (the record itself, not wrapped in a statement)
    metadata: _CosignMetadata | None = None


class _Created(msgspec.Struct):
    CreatedAt: Any = None
    Trivy: Any = None


_STATEMENT = msgspec.json.Decoder(_Statement)
_CREATED = msgspec.json.Decoder(_Created)


def _cosign_report(data: bytes) -> bytes | None:
    """The Trivy report inside a cosign vulnerability scan record or its in-toto statement; a
    report without ``CreatedAt`` (Trivy before 0.51 wrote none there) gets the record's
    ``metadata.scanFinishedOn`` (else ``scanStartedOn``) as its time, one without ``Trivy`` the
    record's ``scanner.version`` as its ``Trivy.Version``. None for any other document."""
    try:
        doc = _STATEMENT.decode(data)
    except msgspec.DecodeError:
        return None
    rec = doc.predicate or _CosignVuln(doc.scanner, doc.metadata)
    raw = bytes(rec.scanner.result).strip() if rec.scanner else b""
    if not raw.startswith(b"{") or raw.rstrip(b" \t\r\n}") == b"{":
        return None
    meta = rec.metadata or _CosignMetadata()
    when = meta.scanFinishedOn or meta.scanStartedOn
    try:
        head = _CREATED.decode(raw)
    except msgspec.DecodeError:
        return None
    if head.CreatedAt is None and when:
        raw = b'{"CreatedAt":' + msgspec.json.encode(when) + b"," + raw[1:]
    version = rec.scanner.version if rec.scanner else None
    if head.Trivy is None and isinstance(version, str) and version:  # the scanner's version, as Trivy 0.50+ writes it
        raw = b'{"Trivy":{"Version":' + msgspec.json.encode(version) + b"}," + raw[1:]
    return raw
_PRETTY = _LEGACY_REPORT  # a report as it came (see Trivy._as_given)
_WORKLOAD = msgspec.json.Decoder(_Workload)  # a k8s report's parts (see Trivy._mended)
_RESULT = msgspec.json.Decoder(_Result)
_V_SHAPES = ("vulnerability_finding", None)
#: columns a batch gets from the results its rows come from (see Trivy._map)
Context = Callable[[str, list[int], dict[str, pa.Array]], dict[str, pa.Array]]


def _version(trivy: Any) -> str | None:
    """The report's ``Trivy.Version`` (None when absent or not a string)."""
    return text_or_none(trivy.get("Version")) if isinstance(trivy, dict) else None


def _line(raw: msgspec.Raw) -> str:
    """A raw JSON line number as text ("" when absent); ``f"{raw}"`` would give the object's repr."""
    return bytes(raw).decode()
#: Trivy misconfiguration Status -> OCSF compliance.status caption (compliance object enum); WARN is
#: kube-bench's (a Starboard CISKubeBenchReport's results, see _trivy_operator).
_COMPLIANCE_STATUS = {"PASS": "Pass", "FAIL": "Fail", "WARN": "Warning", "EXCEPTION": "Other", "": "Unknown", "?": "Other"}
_COMPLIANCE_ID = {"Pass": 1, "Warning": 2, "Fail": 3, "Other": 99, "Unknown": 0}
_OTHER_STATUS = frozenset(("EXCEPTION", "?"))  # Other (99): the status word is Trivy's own

_RESOURCES = RESOURCES
#: resources of a ``trivy k8s`` report: the workload has a namespace
_K8S_RESOURCES = pa.list_(pa.struct([*RESOURCES.value_type, pa.field("namespace", S)]))


def _workloads(rep: Any) -> list[Any]:
    """The Kubernetes resources of a ``trivy k8s`` report (both report kinds), [] for other reports."""
    return [*(rep.Resources or ()), *(rep.Findings or ())]


_K8S_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
#: the per-scanner resource lists of a ``trivy k8s --format json`` report before Trivy 0.40
_K8S_SCANNERS = ("Vulnerabilities", "Misconfigurations", "Secrets")


def _k8s_by_scanner(data: bytes) -> bytes | None:
    """A ``trivy k8s`` report of Trivy before 0.40 (``ClusterName`` with ``Vulnerabilities`` and
    ``Misconfigurations``: each a list of resources holding that scanner's results) rewritten as
    the later ``Resources`` report of the same resources; None for any other document."""
    try:
        top = _K8S_TOP.decode(compact(data))
    except msgspec.DecodeError:
        return None
    if "ClusterName" not in top or "Resources" in top or "Findings" in top or "Results" in top:
        return None
    lists: list[bytes] = []
    for key in _K8S_SCANNERS:
        raw = bytes(top.get(key) or b"")
        if raw[:1] == b"[" and raw != b"[]":
            lists.append(raw[1:-1])
    if not lists:
        return None
    rest = b"".join(b"," + msgspec.json.encode(k) + b":" + bytes(v) for k, v in top.items() if k not in _K8S_SCANNERS)
    return b'{"Resources":[' + b",".join(lists) + b"]" + rest + b"}"


def _results(rep: Any) -> tuple[list[Any], list[int]]:
    """Every result of a report with the index of its Kubernetes resource (-1: the report's artifact)."""
    if rep.Results is not None or not (rep.Resources or rep.Findings):
        return list(rep.Results or ()), [-1] * len(rep.Results or ())
    results: list[Any] = []
    owner: list[int] = []
    for wi, w in enumerate(_workloads(rep)):
        results.extend(w.Results or ())
        owner.extend([wi] * len(w.Results or ()))
    return results, owner


def _cvss_entries(cvss: dict[str, _CVSS] | None) -> list[dict[str, Any]] | None:
    """``cve.cvss[]`` of one CVSS block: one entry per source and CVSS version (None when empty)."""
    out = []
    for name, c in (cvss or {}).items():
        if c.V40Vector or c.V40Score is not None:
            out.append({"version": "4.0", "base_score": c.V40Score, "vector_string": c.V40Vector, "vendor_name": name})
        if c.V3Vector or c.V3Score is not None:
            x = c.V3Vector
            out.append({"version": x[5:8] if x and x.startswith("CVSS:3.") else "3.0", "base_score": c.V3Score,
                        "vector_string": x, "vendor_name": name})  # fmt: skip
        if c.V2Vector or c.V2Score is not None:
            out.append({"version": "2.0", "base_score": c.V2Score, "vector_string": c.V2Vector, "vendor_name": name})
    return out or None


def _list_or_none(items: list[str] | None) -> list[str] | None:
    return items or None


class _Group:
    """Findings of one kind gathered across all results, with their result index."""

    def __init__(self) -> None:
        self.raws: list[Any] = []  # msgspec.Raw slices of the compact report (no copy)
        self.where: list[int] = []
        self.ctx: list[str] = []
        self.typed: list[Any] = []


#: string fields of a vulnerability read as they are (both paths).
_V_STRS = ("VulnerabilityID", "PkgID", "PkgName", "PkgPath", "InstalledVersion", "FixedVersion", "SeveritySource",
           "PrimaryURL", "Title", "Severity", "PublishedDate", "LastModifiedDate", "Fingerprint", "Status")  # fmt: skip
#: the native walker's spec of ``_Vuln``: strings, the package identifier, lists of strings, CVSS raw.
_V_SPEC = _fast.Spec(
    (*((k, _fast.STR) for k in _V_STRS), ("PkgIdentifier.PURL", _fast.STR), ("PkgIdentifier.UID", _fast.STR),
     ("PkgIdentifier.BOMRef", _fast.STR),
     ("Description", _fast.STR), ("CVSS", _fast.RAW),
     *(p for k in ("CweIDs", "VendorIDs", "References") for p in ((f"{k}[]", _fast.LIST), (f"{k}[].@", _fast.STR)))),
    _V_UNMAPPED, tuple(f.name for f in msgspec.structs.fields(_Vuln)),
)  # fmt: skip


def _walked_vulns(groups: list[IssueGroup]) -> dict[str, pa.Array] | None:
    """:func:`_native_vulns` of the vulnerabilities as given (pretty or compact slices of the report),
    compacted, walked, copied into ``raw_data`` and hashed (``uids``) in one fused native pass
    (:func:`~secpipe.formats._findings.walk_issues`); None where that does not decide."""
    got = walk_issues(groups, _V_SPEC, "trivy", None, _V_SHAPES)
    if got is None:
        return None
    f = _vuln_columns(got[0][1])
    if f is not None and got[0][1].uids is not None:
        f["uids"] = got[0][1].uids
    return f


def _native_vulns(raws: list[bytes]) -> dict[str, pa.Array] | None:
    """The vulnerabilities' field columns in one native pass, or None when the msgspec path must
    decide (no extension, an irregular finding, no VulnerabilityID, a CVSS block of the wrong shape);
    ``raw_data`` among them unless the findings take 2 GiB or more (then :func:`raw_data` makes it)."""
    cols = _fast.extract(raws, _V_SPEC, whole=True)
    return None if cols is None else _vuln_columns(cols)


def _vuln_columns(cols: _fast.Columns) -> dict[str, pa.Array] | None:
    """The field columns of walked vulnerabilities (None: one without VulnerabilityID, a CVSS
    block of the wrong shape)."""
    if cols.strings["VulnerabilityID"].null_count:
        return None
    cvss = Distinct.from_column(cols.strings["CVSS"], dict[str, _CVSS] | None, "CVSS")
    if cvss.errors:
        return None
    f = {k: v for k, v in cols.strings.items() if "[]" not in k}
    f["CVSS"] = cvss.column(CVSS_LIST, _cvss_entries)
    f["CVSS_text"] = cvss.text_column()
    for k in ("CweIDs", "VendorIDs", "References"):
        offsets, _mask = cols.lists[f"{k}[]"]
        f[k] = pa.ListArray.from_arrays(pa.array(offsets), cols.strings[f"{k}[].@"], mask=pa.array(offsets[1:] == offsets[:-1]))
    f["unmapped"] = cols.unmapped
    if cols.raw is not None:
        f["raw_data"] = cols.raw
    return f


def _vuln_fields(st: Strict, fields: dict[str, Distinct]) -> dict[str, pa.Array]:
    """The msgspec path's field columns, as :func:`_native_vulns` gives them."""
    vs: list[_Vuln] = st.recs
    f = {k: strs([getattr(v, k) for v in vs]) for k in _V_STRS}
    ident = [v.PkgIdentifier or _PkgIdent() for v in vs]
    f["PkgIdentifier.PURL"] = strs([p.PURL for p in ident])
    f["PkgIdentifier.UID"] = strs([p.UID for p in ident])
    f["PkgIdentifier.BOMRef"] = strs([p.BOMRef for p in ident])
    f["Description"] = fields["Description"].column(S)
    f["CVSS"] = fields["CVSS"].column(CVSS_LIST, _cvss_entries)
    f["CVSS_text"] = fields["CVSS"].text_column()
    f["CweIDs"] = str_lists([v.CweIDs for v in vs])
    f["VendorIDs"] = str_lists([v.VendorIDs for v in vs])
    f["References"] = fields["References"].column(STR_LIST, _list_or_none)
    f["unmapped"] = unmapped_from(st, _V_UNMAPPED)
    return f


def _with_identifier(f: dict[str, pa.Array]) -> pa.Array:
    """The vulnerabilities' ``unmapped`` with their ``PkgIdentifier`` where it holds what the package
    does not: its ``BOMRef`` (``trivy sbom``: the component's bom-ref in the SBOM scanned; OCSF's
    affected package has no place for it) or a ``UID`` beside the ``PkgID`` (the package's uid)."""
    bom, uid, purl = f["PkgIdentifier.BOMRef"], f["PkgIdentifier.UID"], f["PkgIdentifier.PURL"]
    keep = pc.or_(nonempty(bom), pc.and_(nonempty(uid), nonempty(f["PkgID"])))
    keep = pc.fill_null(keep, False)
    if not pc.any(keep).as_py():
        return f["unmapped"]
    rows = np.flatnonzero(keep.to_numpy(zero_copy_only=False)).tolist()
    items: list[str | None] = [None] * len(keep)
    p, u, b = purl.to_pylist(), uid.to_pylist(), bom.to_pylist()
    for i in rows:
        ident = {k: v for k, v in (("PURL", p[i]), ("UID", u[i]), ("BOMRef", b[i])) if v is not None}
        items[i] = '"PkgIdentifier":' + msgspec.json.encode(ident).decode()
    return unmapped_items(f["unmapped"], pa.array(items, S))


def _fix_coverage(status: pa.Array) -> pa.Array:
    """OCSF ``fix_coverage_id`` of Trivy's vulnerability Status words (null where none is given)."""
    words = pa.array(list(_FIX_COVERAGE), S)
    known = pa.array(list(_FIX_COVERAGE.values()), pa.int32()).take(pc.index_in(status, words))
    return pc.if_else(pc.and_(pc.is_null(known), pc.is_valid(status)), pa.scalar(99, pa.int32()), known)


def _fix_captions(cover: pa.Array) -> pa.Array:
    """The caption of each ``fix_coverage_id`` (Other's word is set by the caller)."""
    ids = pa.array(list(_FIX_CAPTION), pa.int32())
    return pa.array(list(_FIX_CAPTION.values()), S).take(pc.index_in(cover, ids))


#: a CVE id (CVE-YYYY-NNNN+): the only kind of id a cve object's uid holds
_CVE_ID = r"^CVE-"
_OS_TARGET = re.compile(r"^(.*\S) \([a-z][\w.-]* [^()]+\)$")


def _legacy(head: bytes) -> bool:
    """Whether a document opens like Trivy's pre-0.20 output: an array of ``{"Target", "Type", ...}``."""
    head = bytes(head)  # (a memoryview body's head is one too)
    return head.removeprefix(BOM).lstrip()[:1] == b"[" and b'"Target"' in head and b'"SchemaVersion"' not in head \
        and (b'"Vulnerabilities"' in head or b'"Type"' in head)


def _merged(metas: list[_Meta]) -> _Meta:
    """The images of a ``trivy k8s`` workload (its Metadata list, Trivy 0.4x+) as one: every repo tag and
    digest; the image id and OS where they are the same for all."""
    if len(metas) == 1:
        return metas[0]
    ids = {m.ImageID for m in metas}
    oses = {msgspec.json.encode(m.OS) for m in metas}
    return _Meta(ImageID=ids.pop() if len(ids) == 1 else None,
                 RepoTags=list(dict.fromkeys(t for m in metas for t in m.RepoTags or ())) or None,
                 RepoDigests=list(dict.fromkeys(d for m in metas for d in m.RepoDigests or ())) or None,
                 OS=metas[0].OS if len(oses) == 1 else None)  # fmt: skip


def _artifact(kind: str | None, name: str | None, uid: str | None, meta: _Meta | list[_Meta] | None,
              extra: dict[str, Any]) -> dict[str, Any]:
    """``resources[0]``: the scanned artifact (an image, a repository, a Kubernetes workload)."""
    meta = _merged(meta) if isinstance(meta, list) and meta else meta if isinstance(meta, _Meta) else _Meta()
    data = {**extra, "os": meta.OS, "repo_digests": meta.RepoDigests, "repo_url": meta.RepoURL, "branch": meta.Branch,
            "tags": meta.Tags, "commit": meta.Commit, "author": meta.Author}  # fmt: skip
    data = {k: v for k, v in data.items() if v}
    return {"type": kind, "name": name, "uid": meta.ImageID or uid, "labels": meta.RepoTags or None,
            "data": json_col([data]).to_pylist()[0]}  # fmt: skip


class Trivy(ReportFormat):
    """Aqua Trivy JSON scan reports."""

    name = "trivy"
    report_type = _Report
    what = "a Trivy JSON report"
    description = "Trivy JSON report -> Vulnerability (2002), Compliance (2003), Data Security (2006) Findings"
    framing = "document"
    product = "Trivy"
    vendor = "Aqua Security"

    def sniff(self, head: bytes) -> int:
        """Recognize the report header keys."""
        h = head[:8192]
        if b'"SchemaVersion"' in h and (b'"ArtifactName"' in h or b'"Results"' in h):
            return 95
        if b'"ArtifactType"' in h and b'"Results"' in h:
            return 90  # trivy aws (and the trivy-aws plugin): a report without SchemaVersion
        if b'"ClusterName"' in h and (b'"Resources"' in h or b'"Findings"' in h or b'"Vulnerabilities"' in h
                                      or b'"Misconfigurations"' in h):  # fmt: skip
            return 90  # trivy k8s (SchemaVersion is left out when 0; before 0.40 the resources by scanner)
        if _legacy(h):
            return 40  # Trivy before 0.20
        if _trivy_compliance.is_compliance(h):
            return 90  # trivy --compliance <spec> --format json (no SchemaVersion)
        if _trivy_operator.is_operator(h):
            return 90  # trivy-operator's reports (aquasecurity.github.io custom resources)
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one report; Trivy's pre-0.20 output (an array of results) as a report of those results;
        a cosign vulnerability scan record (``--format cosign-vuln``) as the report it holds."""
        head = data[:8192]
        if b'"scanner"' in head and b'"result"' in head and (report := _cosign_report(data)) is not None:
            return self.decode(report, source)
        if _trivy_compliance.is_compliance(head):
            return self._compliance(data, source)
        if _trivy_operator.is_operator(head):
            return self._operator(data, source)
        if not _legacy(head):
            return self._report(data, source)
        with paused_gc():
            try:
                data = b'{"Results":' + compact(data) + b"}"
                rep = _LEGACY_REPORT.decode(data)
            except msgspec.DecodeError as exc:
                return self.dead(f"not {self.what} (an array of Trivy results, before 0.20): {exc}", source, data)
            return self.map_report(rep, data, source, legacy=True)

    def _report(self, data: bytes, source: str) -> Decoded:
        """A report object (``trivy k8s`` ones too, and their damaged parts: see :meth:`_mended`)."""
        by_scanner = _k8s_by_scanner(data) if b'"ClusterName"' in data[:8192] else None
        got = self._as_given(data, source) if by_scanner is None else None
        doc = data if by_scanner is None else by_scanner
        got = got if got is not None else super().decode(doc, source)
        if got.batches or len(got.dead) != 1 or b'"ClusterName"' not in data[:8192]:
            return got
        return self._mended(doc, source) or got

    def _modified(self, data: bytes, source: str) -> Decoded:
        """The findings Trivy set aside (``ExperimentalModifiedFindings``, :mod:`._trivy_vex`): each
        mapped as a finding of its result, then marked Suppressed (or Resolved) with its statement."""
        with paused_gc():
            doc, mods, dead = _trivy_vex.split(data, source, self.name)
            out = Decoded(dead=dead, events=len(dead))
            if doc is not None:
                def context(cls: str, where: list[int], have: dict[str, pa.Array]) -> dict[str, pa.Array]:
                    return _trivy_vex.columns(self.name, cls, [mods[i] for i in where], have)

                out.extend(self.map_report(_LEGACY_REPORT.decode(doc), doc, source, context=context))
        return out

    def _operator(self, data: bytes, source: str) -> Decoded:
        """trivy-operator reports (:mod:`._trivy_operator`), JSON or the YAML ``kubectl get -o yaml`` writes:
        each read as the ``trivy k8s`` report of its workload; an item of another kind dead-lettered alone."""
        body = bytes(data).removeprefix(BOM)
        try:
            docs = [msgspec.json.decode(body)] if _trivy_operator.is_json(body) else _trivy_operator.from_yaml(body)
        except (msgspec.DecodeError, ValueError) as exc:
            return self.dead(f"not a trivy-operator report: {exc}", source, data)
        out = Decoded()
        for i, (item, verb) in enumerate(it for doc in docs for it in _trivy_operator.items(doc)):
            why = _trivy_operator.why_not(item)
            got = Decoded()
            if why is None and item["kind"] == _trivy_operator.COMPLIANCE:
                got = self._compliance(_trivy_operator.as_compliance(item), source)
            elif why is None and item["kind"] == _trivy_operator.DETAIL:
                got = self._compliance(_trivy_operator.as_detail_compliance(item), source)
            elif why is None and item["kind"] in _trivy_operator.SBOM_KINDS:
                from secpipe.formats import get  # (the registry imports this module)

                got = get("sbom").decode(msgspec.json.encode(item["report"]["components"]), source)
            elif why is None:
                got = self._report(_trivy_operator.as_trivy(item), source)
            else:
                out.dead.append(DeadLetter(f"not a trivy-operator report: {why}", source, i, msgspec.json.encode(item), self.name))
                out.events += 1
            if verb == "delete":  # (its webhook message: the report was deleted)
                got.batches = [_trivy_operator.closed(b, self.name) for b in got.batches]
            out.extend(got)
        return out

    def _compliance(self, data: bytes, source: str) -> Decoded:
        """A compliance report (:mod:`._trivy_compliance`): each control's findings mapped as the
        results of one report (as Trivy's output before 0.20: no artifact, no time) with the control
        as their policy, and one event of each control that holds no finding."""
        out = Decoded()
        with paused_gc():
            try:
                data = compact(bytes(data))
                rep = _trivy_compliance.parse(data, source, self.name, out)
            except (ValueError, msgspec.DecodeError) as exc:
                return self.dead(f"not a Trivy compliance report: {exc}", source, data)
            out.events += len(out.dead)
            parts: list[bytes] = []
            owner: list[_trivy_compliance.Control] = []
            for i, (c, r) in enumerate((ctl, r) for ctl in rep.controls for r in ctl.results or ()):
                try:
                    _RESULT.decode(r)
                except msgspec.DecodeError as exc:  # (offset: the result's ordinal in the report)
                    out.dead.append(DeadLetter(f"not a Trivy result (control {c.id}): {exc}", source, i, bytes(r), self.name))
                    out.events += 1
                    continue
                parts.append(bytes(r))
                owner.append(c)
            bare = [c for c in rep.controls if not c.results]
            if bare:
                out.batches.append(_trivy_compliance.control_batch(rep, bare, self.name, self.product, self.vendor))
                out.events += len(bare)
            if parts:
                created = b'"CreatedAt":' + msgspec.json.encode(rep.created) + b"," if rep.created else b""
                doc = b"{" + created + b'"Results":[' + b",".join(parts) + b"]}"

                def context(cls: str, where: list[int], have: dict[str, pa.Array]) -> dict[str, pa.Array]:
                    return _trivy_compliance.finding_columns(rep, cls, [owner[i] for i in where], have)

                out.extend(self.map_report(_LEGACY_REPORT.decode(doc), doc, source, legacy=True, context=context))
        return out

    def _mended(self, data: bytes, source: str) -> Decoded | None:
        """A ``trivy k8s`` report refused whole, decoded without its broken results or resources
        (each dead-lettered with its path, see :mod:`._trivy_k8s`); None when that is not the damage
        (also when the report is no JSON at all: the caller's dead letter says why)."""
        with paused_gc():
            try:
                whole = compact(data)
            except msgspec.DecodeError:
                return None
            got = mend(whole, _LEGACY_REPORT, _WORKLOAD, _RESULT)
        if got is None:
            return None
        mended, broken = got
        out = Decoded(dead=[DeadLetter(f"a broken part of a trivy k8s report: {why}", source, i, raw, self.name)
                            for why, raw, i in broken], events=len(broken))  # fmt: skip
        out.extend(super().decode(mended, source))
        return out

    def _as_given(self, data: bytes, source: str) -> Decoded | None:
        """A report decoded as it came (pretty-printed, not compacted whole first), its vulnerabilities
        walked and compacted one by one by the fused native walk (``walk_issues``) and its other
        findings compacted each (``compact_each``): the same bytes as slices of the compacted report,
        without writing a compact copy of the whole. None (the caller compacts the report and decodes
        it as before) without the native walk, for a document msgspec refuses here, or wherever the
        report is not a plain one that this path maps (dead letters, an irregular vulnerability)."""
        if not can_walk():
            return None
        with paused_gc():
            walked = walk_report(data, _V_SPEC, None, _V_SHAPES, "trivy")
            if walked is not None:  # the vulnerabilities walked already: msgspec reads the rest (the skeleton)
                skeleton, lists, classes = walked
                try:
                    rep = _PRETTY.decode(skeleton)
                except msgspec.DecodeError:
                    return None
                return self._map(rep, skeleton, source, False, pretty=True, walked=(lists, classes[0]))
            try:
                rep = _PRETTY.decode(data)
            except msgspec.DecodeError:
                return None
            return self._map(rep, data, source, False, pretty=True)

    def map_report(self, rep: _Report, data: bytes, source: str, legacy: bool = False,
                   context: Context | None = None) -> Decoded:
        """Decode one report into finding batches (``context``: columns each batch gets from the
        results its rows come from, see :meth:`_map`)."""
        got = self._map(rep, data, source, legacy, context=context)
        assert got is not None  # (None only for a report given as it came)
        return got

    def _map(self, rep: _Report, data: bytes, source: str, legacy: bool, *, pretty: bool = False,
             walked: tuple[list[WalkedList], tuple[list[int], _fast.Columns]] | None = None,
             context: Context | None = None) -> Decoded | None:  # fmt: skip
        """:meth:`map_report`; ``context(class, result index of each row, the batch's columns so
        far)``: columns added to (or replacing those of) each batch, e.g. a compliance report's
        control; with ``pretty`` (``data`` as it came, see :meth:`_as_given`) None where this path
        does not decide; ``walked``: the vulnerabilities :func:`walk_report` walked
        (``rep`` is then the skeleton's, its vulnerability lists empty)."""
        k8s = rep.ClusterName is not None and rep.Results is None and (rep.Resources is not None or rep.Findings is not None)
        if walked is not None and k8s:
            return None
        if legacy:
            os_targets = [m.group(1) for r in rep.Results or () if r.Target and (m := _OS_TARGET.match(r.Target))]
            rep.ArtifactName = os_targets[0] if os_targets else None
        elif not k8s and (rep.SchemaVersion is None and rep.ArtifactType is None or rep.Results is None and rep.ArtifactName is None):
            if pretty:
                return None
            why = "not a Trivy JSON report: no SchemaVersion/ArtifactName/Results (produce it with `trivy ... --format json`)"
            return self.dead(why, source, data)
        results, owner = _results(rep)
        workloads = _workloads(rep)
        for w in workloads:
            if w.Error:
                _log.warning("trivy k8s report %s: %s/%s/%s was not scanned: %s", source, w.Namespace, w.Kind, w.Name, w.Error)
        groups = {"v": _Group(), "m": _Group(), "s": _Group(), "l": _Group()}
        walk: list[IssueGroup] = []  # the vulnerabilities for walk_issues: (uid context before the ordinal, -, items)
        head = f"{rep.ArtifactName}\0{rep.ArtifactID}\0{rep.CreatedAt}"
        custom = _Group()  # the custom resources and their identity contexts
        found_in: list[dict[str, Any]] = []  # where each was found (kept in its unmapped)
        for ri, r in enumerate(results):
            if k8s:
                w = workloads[owner[ri]]
                head = f"{rep.ClusterName}\0{w.Namespace}/{w.Kind}/{w.Name}\0{rep.CreatedAt}"
            if r.CustomResources:
                at = {"ClusterName": rep.ClusterName, "Namespace": w.Namespace, "Kind": w.Kind, "Name": w.Name} if k8s \
                    else {"ArtifactName": rep.ArtifactName, "ArtifactType": rep.ArtifactType}  # fmt: skip
                custom.raws.extend(r.CustomResources)
                custom.ctx.extend(f"{head}\0{r.Target}\0{ri}\0custom\0{i}" for i in range(len(r.CustomResources)))
                found_in.extend([at | {"Target": r.Target or None}] * len(r.CustomResources))
            for key, items in (("v", r.Vulnerabilities), ("m", r.Misconfigurations), ("s", r.Secrets),
                               ("l", r.Licenses)):
                if items:
                    g = groups[key]
                    g.raws.extend(items)
                    g.where.extend([ri] * len(items))
                    if key == "v":
                        walk.append((f"{head}\0{r.Target}\0{ri}\0".encode(), False, items))
                    else:
                        g.ctx.extend([f"{head}\0{r.Target}\0{ri}\0{i}" for i in range(len(items))])
        native = None
        if walked is not None:  # the vulnerabilities' number, results and uids from the walk
            native = self._walked(walked, results, groups["v"], head)
            if native is None:
                return None
        out = Decoded(events=sum(len(g.raws) for g in groups.values()))
        if native is None and walk and can_walk():
            native = _walked_vulns(walk)
        if native is None and pretty:
            return None
        if native is None and walk:  # the vulnerabilities' contexts, for the paths below
            groups["v"].ctx = [f"{c.decode()}{i}" for c, _s, items in walk for i in range(len(items))]
        if native is None and groups["v"].raws and _fast.available():
            groups["v"].raws = record_bytes(groups["v"].raws)
            native = _native_vulns(groups["v"].raws)
        if pretty:  # the other findings are slices of the document as it came: each compacted
            for key in "msl":
                if groups[key].raws:
                    groups[key].raws = _fast.compact_each(groups[key].raws) or []
        typed = native is None and self._typed(data, groups)
        extra: list[dict[str, Any]] = []  # the custom resources, as resources of each finding of the report
        if custom.raws:
            craws = (_fast.compact_each(custom.raws) or []) if pretty else record_bytes(custom.raws)
            if any(g.raws for g in groups.values()):
                bad = len(out.dead)
                extra = custom_resources(self, craws, out, source)
                out.events += len(out.dead) - bad
            else:  # no finding to describe: each is an event of its own
                out.events += len(craws)
                common = {"time": const(report_time(rep.CreatedAt), 1, pa.int64()),
                          "metadata.product.version": strs([_version(rep.Trivy)]),
                          "metadata.log_version": strs([None if rep.SchemaVersion is None else str(rep.SchemaVersion)]),
                          "metadata.correlation_uid": strs([rep.ReportID])}  # fmt: skip
                if (batch := custom_batch(self, craws, custom.ctx, found_in, common, out, source)) is not None:
                    out.batches.append(batch)
        for key, cls, type_, what, build, unmapped in (
            ("v", "vulnerability_finding", _Vuln, "a Trivy vulnerability", None, _V_UNMAPPED),
            ("m", "compliance_finding", _Misconf, "a Trivy misconfiguration", self._misconfs, _M_UNMAPPED),
            ("s", "data_security_finding", _Secret, "a Trivy secret", self._secrets, _S_UNMAPPED),
            ("l", "compliance_finding", _License, "a Trivy license", self._licenses, _L_UNMAPPED),
        ):
            g = groups[key]
            if not g.raws:
                continue
            if key == "v" and native is not None:
                f, raws = native, g.raws  # (raws: their number; uids and raw_data are in f)
            else:
                locs = [(source, i) for i in range(len(g.raws))]
                if typed:
                    st = Strict(g.typed, [None] * len(g.raws), g.raws, locs)
                else:
                    g.raws = record_bytes(g.raws)
                    st = decode_strict(g.raws, locs, type_, out, self.name, what)
                if not st.recs:
                    continue
                if key == "v":
                    fields = {k: Distinct([getattr(r, k) for r in st.recs], t, k) for k, t in _V_FIELDS}
                    st, fields, _ = reject_distinct(st, fields, out, self.name, what)
                    if not st.recs:
                        continue
                if len(st.recs) != len(g.raws):  # some were dead-lettered: keep context aligned
                    keep = {id(r): i for i, r in enumerate(g.raws)}
                    idx = [keep[id(r)] for r in st.raws]
                    g.where = [g.where[i] for i in idx]
                    g.ctx = [g.ctx[i] for i in idx]
                raws = record_bytes(st.raws)
                f = _vuln_fields(st, fields) if key == "v" else {"Severity": strs([r.Severity for r in st.recs])}
            cols = self._common(cls, rep, results, g, raws, f["Severity"], f.get("raw_data"), f.get("uids"), extra)
            if build is None:
                cols.update(self._vulns(f, results, g.where, cols))
            else:
                cols.update(build(st.recs, [results[i] for i in g.where], cols))
            cols["unmapped"] = _with_identifier(f) if build is None else unmapped_from(st, unmapped)
            if context is not None:
                cols.update(context(cls, g.where, cols))
            out.batches.append(to_batch(cls, cols))
        if context is None and any(r.ExperimentalModifiedFindings for r in results):
            out.extend(self._modified(data, source))
        return out

    def _walked(self, walked: tuple[list[WalkedList], tuple[list[int], _fast.Columns]], results: list[_Result],
                g: _Group, head: str) -> dict[str, pa.Array] | None:
        """The field columns of the vulnerabilities :func:`walk_report` walked, with their uids (each
        result's context); ``g`` gets their results (and a placeholder a vulnerability in ``raws``,
        whose number the mapping reads). None when a list is no result's or a field does not fit."""
        lists, (sel, cols) = walked
        if any(t >= len(results) for t, _a, _k, _c in lists) or sum(c for *_x, c in lists) != len(sel) or cols.raw is None:
            return None
        f = _vuln_columns(cols)
        if f is None:
            return None
        ctxs = [f"{head}\0{results[t].Target}\0{t}\0".encode() for t, _a, _k, _c in lists]
        f["uids"] = issue_uids(self.name, ctxs, [c for *_x, c in lists], sel, cols.raw)
        g.where = [t for t, _a, _k, c in lists for _ in range(c)]
        g.raws = [b""] * len(sel)
        return f

    def _typed(self, data: bytes, groups: dict[str, _Group]) -> bool:
        """Type every finding from the compact report in one decode; False when some finding
        has an unknown key or a wrong type (then each kind is decoded strictly, per finding)."""
        try:
            rep = _TYPED.decode(data)
        except msgspec.DecodeError:
            return False
        for r in _results(rep)[0]:
            for key, items in (("v", r.Vulnerabilities), ("m", r.Misconfigurations), ("s", r.Secrets),
                               ("l", r.Licenses)):
                if items:
                    groups[key].typed.extend(items)
        return all(len(g.typed) == len(g.raws) for g in groups.values())

    def _common(
        self, cls: str, rep: _Report, results: list[_Result], g: _Group, raws: list[bytes], severity: pa.Array,
        raw: pa.Array | None = None, uids: pa.Array | None = None, extra: list[dict[str, Any]] | None = None,
    ) -> dict[str, pa.Array]:
        n = len(raws)
        created = const(report_time(rep.CreatedAt), n, pa.int64())  # one report time
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, raws, g.ctx) if uids is None else uids, times_ms=created, raws=None,
            activity_id=1, severity_id=severity_ids(severity),
        )  # fmt: skip
        cols["raw_data"] = raw_data(raws) if raw is None else raw
        arts = [_artifact(rep.ArtifactType, rep.ArtifactName, rep.ArtifactID, rep.Metadata, {})]
        results, owner = _results(rep)
        workloads = _workloads(rep)
        if rep.Results is None and workloads:  # trivy k8s: each result's artifact is its workload
            arts = [_artifact(w.Kind, w.Name, None, w.Metadata, {"cluster": rep.ClusterName}) | {"namespace": w.Namespace}
                    for w in workloads]  # fmt: skip
        per_result = [
            [arts[o], {"type": r.Type or r.Class, "name": r.Target, "uid": None,
                       "labels": [r.Class] if r.Class else None, "data": None}, *(extra or ())]
            for r, o in zip(results, owner, strict=True)
        ]  # fmt: skip
        rtype = _K8S_RESOURCES if rep.Results is None and workloads else _RESOURCES
        res_arr = pa.array(per_result, rtype).take(pa.array(g.where, pa.int32()))
        cols["resources"] = res_arr
        cols["finding_info.created_time"] = created
        cols["finding_info.product.name"] = strs([self.product] * n)
        version = strs([_version(rep.Trivy)] * n)
        cols["metadata.product.version"] = version
        cols["finding_info.product.version"] = version
        cols["metadata.log_version"] = strs([None if rep.SchemaVersion is None else str(rep.SchemaVersion)] * n)
        cols["metadata.correlation_uid"] = strs([rep.ReportID] * n)  # the findings of one report correlate
        return cols

    def _vulns(self, f: dict[str, pa.Array], results: list[_Result], where: list[int],
               cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
        """Vulnerability columns from the field columns of either path (see :func:`_vuln_fields`)."""
        n = len(f["VulnerabilityID"])
        take = pa.array(where, pa.int32())
        target = strs([f"{r.Target}" for r in results]).take(take)
        ids = f["VulnerabilityID"]
        fixed = or_null(f["FixedVersion"])
        pub = parse_times(f["PublishedDate"])
        mod = parse_times(f["LastModifiedDate"])
        title = either(f["Title"], ids)
        desc = f["Description"]
        status = or_null(f["Status"])
        cover = _fix_coverage(status)
        pkg = nest({
            "name": f["PkgName"],
            "version": f["InstalledVersion"],
            "fixed_in_version": fixed,
            "type": strs([r.Type for r in results]).take(take),
            "purl": f["PkgIdentifier.PURL"],
            "uid": either(f["PkgID"], f["PkgIdentifier.UID"]),
            "path": f["PkgPath"],
        })  # fmt: skip
        url = f["PrimaryURL"]
        cwe = first_items(f["CweIDs"])
        # OCSF 1.8.0: just one of advisory / cve / cwe per vulnerability, and a cve's uid is a CVE id:
        # a GHSA, distribution (DLA-, ALAS-, RHSA-), RUSTSEC-, GO- ... id is the advisory instead
        is_cve = pc.fill_null(pc.match_substring_regex(ids, _CVE_ID), False)
        none_s = pa.scalar(None, S)
        cve_id = pc.if_else(is_cve, ids, none_s)
        adv = pc.if_else(is_cve, none_s, ids)
        adv_cwe = pc.if_else(is_cve, none_s, cwe)
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": f["Severity"],
            "vendor_name": f["SeveritySource"],
            "references": f["References"],
            "related_vulnerabilities": f["VendorIDs"],
            # a fixed version, or Trivy's Status fixed (its other words name no fix; without one, as before)
            "is_fix_available": pc.or_(pc.is_valid(fixed), pc.fill_null(pc.equal(status, "fixed"), False)),
            "fix_coverage_id": cover,
            "fix_coverage": pc.if_else(pc.equal(cover, 99), status, _fix_captions(cover)),
            "cve.uid": cve_id,  # (each object is left out below where the finding names no such id)
            "cve.cwe": only_where(nest({"uid": cwe}), cwe),  # the CVE's weakness
            "cve.title": title,
            "cve.desc": desc,
            "cve.created_time": pub,
            "cve.modified_time": mod,
            "cve.references": singleton_list(url, nonempty(url)),
            "cve.cvss": f["CVSS"],
            "advisory.uid": adv,
            "advisory.title": title,
            "advisory.desc": desc,
            "advisory.created_time": pub,
            "advisory.modified_time": mod,
            "advisory.src_url": or_null(url),
            "advisory.related_cwes": singleton_list(nest({"uid": adv_cwe}), adv_cwe.is_valid()),
            "affected_packages": singleton_list(pkg),
        })  # fmt: skip
        vuln = objects_where(vuln, {"cve": cve_id, "advisory": adv})  # (no VulnerabilityID, seen in the wild: neither)
        # the ratings of an advisory: OCSF holds CVSS only in a cve, so Trivy's CVSS block stays in unmapped
        aside = pc.if_else(pc.and_(pc.invert(is_cve), pc.is_valid(f["CVSS_text"])),
                           pc.binary_join_element_wise('"CVSS":', f["CVSS_text"], ""), none_s)
        f["unmapped"] = unmapped_items(f["unmapped"], aside)  # (read by _with_identifier next)
        pkg_key = pc.fill_null(either(f["PkgID"], f["PkgName"]), "None")  # as an f-string shows None
        uid = pc.binary_join_element_wise(pc.fill_null(ids, "None"), pkg_key, target, "|")
        # one CVE in two jars (or versions) of a target, a fingerprint copied between them: told apart
        first = pc.list_element(cols["resources"], 0)  # a trivy k8s report: the workload (one image in two)
        workload = pc.binary_join_element_wise(pc.struct_field(first, "type"), pc.struct_field(first, "name"), "/",
                                               null_handling="replace", null_replacement="None")  # fmt: skip
        uid = distinct_uids(pc.if_else(nonempty(f["Fingerprint"]), f["Fingerprint"], uid), f["PkgPath"], f["InstalledVersion"],
                            workload)  # fmt: skip
        # Status not_affected (the vendor's or a VEX statement's word): Suppressed (3), as for a CycloneDX VEX
        suppressed = pc.fill_null(pc.equal(status, "not_affected"), False)
        return {
            "status_id": pc.if_else(suppressed, pa.scalar(3, pa.int32()), pa.scalar(1, pa.int32())),
            "status": pc.if_else(suppressed, "Suppressed", "New"),
            "status_code": status,
            "finding_info.uid": uid,
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.types": const(["Vulnerability"], n, STR_LIST),
            "finding_info.src_url": url,
            "finding_info.first_seen_time": pub,
            "finding_info.modified_time": mod,
            "message": pc.binary_join_element_wise(ids, or_null(f["PkgName"]), target, " in ", null_handling="skip"),
            "vulnerabilities": singleton_list(vuln),
        }

    def _misconfs(self, ms: list[_Misconf], res: list[_Result], cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
        n = len(ms)
        stat = [(m.Status or "").upper() if (m.Status or "").upper() in _COMPLIANCE_STATUS else "?" for m in ms]
        cstat = pa.array([_COMPLIANCE_ID[_COMPLIANCE_STATUS[s]] for s in stat], pa.int32())
        # OCSF: a status is the caption of its status_id; for Other (99) the source's word (EXCEPTION)
        words = strs([_COMPLIANCE_STATUS[s] if s not in _OTHER_STATUS or not m.Status else m.Status
                      for s, m in zip(stat, ms, strict=True)])  # fmt: skip
        check = nest({
            "uid": strs([m.AVDID or m.ID for m in ms]),
            "name": strs([m.Title for m in ms]),
            "desc": strs([m.Description for m in ms]),
            "severity": captions("compliance_finding", "severity_id", cols["severity_id"]),
            "severity_id": cols["severity_id"],
            "status": words,
            "status_id": cstat,
            "standards": str_lists([[m.Type] if m.Type else None for m in ms]),
        })  # fmt: skip
        fstat = pa.array([4 if s == "PASS" else 1 for s in stat], pa.int32())
        extra = [_cause_resource(m.CauseMetadata, r.Target) for m, r in zip(ms, res, strict=True)]
        out: dict[str, pa.Array] = {}
        if any(extra):  # the resource at fault after the artifact and the target
            have = cols["resources"]
            out["resources"] = pa.array([[*(have_row or ()), x] if x else have_row
                                         for have_row, x in zip(have.to_pylist(), extra, strict=True)], have.type)  # fmt: skip
        return out | {
            "status_id": fstat,
            "status": captions("compliance_finding", "status_id", fstat),
            "compliance.status_id": cstat,
            "compliance.status": words,
            "compliance.status_detail": strs([m.Message for m in ms]),
            "compliance.control": strs([m.ID for m in ms]),
            "compliance.category": strs([m.Type for m in ms]),
            "compliance.checks": singleton_list(check),
            "finding_info.uid": strs([f"{m.AVDID or m.ID}|{r.Target}|{i}" for i, (m, r) in enumerate(zip(ms, res, strict=True))]),
            "finding_info.title": strs([m.Title or m.ID for m in ms]),
            "finding_info.desc": strs([m.Description for m in ms]),
            "finding_info.types": pa.array([["Misconfiguration"]] * n, pa.list_(pa.string())),
            "finding_info.src_url": strs([m.PrimaryURL for m in ms]),
            "message": strs([m.Message or m.Title for m in ms]),
            "remediation.desc": strs([m.Resolution for m in ms]),
            "remediation.references": str_lists([m.References for m in ms]),
        }

    def _licenses(self, ls: list[_License], res: list[_Result], cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
        """A detected license as a license-policy check (Compliance Finding; see ``_LICENSE_STATUS``)."""
        n = len(ls)
        cats = [(x.Category or "").lower() for x in ls]
        cstat = pa.array([_LICENSE_STATUS.get(c, 99) for c in cats], pa.int32())
        where = [x.PkgName or x.FilePath or r.Target for x, r in zip(ls, res, strict=True)]
        words = strs([{1: "Pass", 3: "Fail"}.get(_LICENSE_STATUS.get(c, 99), c or None) for c in cats])
        check = nest({
            "uid": strs([x.Name for x in ls]),
            "name": strs([x.Name for x in ls]),
            "severity": captions("compliance_finding", "severity_id", cols["severity_id"]),
            "severity_id": cols["severity_id"],
            "status": words,
            "status_id": cstat,
        })  # fmt: skip
        # a license the policy passes is no open finding: Resolved, as a misconfiguration check that passed
        fstat = pc.if_else(pc.equal(cstat, 1), pa.scalar(4, pa.int32()), pa.scalar(1, pa.int32()))
        return {
            "status_id": fstat,
            "status": captions("compliance_finding", "status_id", fstat),
            "compliance.status_id": cstat,
            "compliance.status": words,
            "compliance.control": strs([x.Name for x in ls]),
            "compliance.category": strs(["license"] * n),
            "compliance.checks": singleton_list(check),
            "finding_info.uid": strs([f"license|{x.Name}|{w}|{r.Target}" for x, w, r in zip(ls, where, res, strict=True)]),
            "finding_info.title": strs([f"{x.Name} license ({x.Category})" if x.Category else f"{x.Name} license"
                                        for x in ls]),  # fmt: skip
            "finding_info.types": pa.array([["License"]] * n, pa.list_(pa.string())),
            "finding_info.src_url": strs([x.Link or None for x in ls]),
            "message": strs([f"{x.Name} license in {w}" for x, w in zip(ls, where, strict=True)]),
            "compliance.status_detail": strs([f"{x.Category or 'unclassified'} license {x.Name} in {w}"
                                              for x, w in zip(ls, where, strict=True)]),  # fmt: skip
            "evidences": pa.array([[{"name": "license file", "file": {"path": x.FilePath, "name": x.FilePath.rsplit("/", 1)[-1],
                                                                       "type_id": _REGULAR_FILE, "type": "Regular File"}}]
                                   if x.FilePath else None for x in ls], _EVIDENCE_FILE),  # fmt: skip
        }

    def _secrets(self, ss: list[_Secret], res: list[_Result], cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
        n = len(ss)
        types = [["Secret", s.Category] if s.Category else ["Secret"] for s in ss]
        lines = [_line(s.StartLine) for s in ss]
        return {
            "status_id": pa.array([1] * n, pa.int32()),
            "status": strs(["New"] * n),
            "finding_info.uid": distinct_uids(strs([f"{s.RuleID}|{r.Target}|{ln}" for s, r, ln in zip(ss, res, lines, strict=True)])),
            "finding_info.title": strs([s.Title or s.RuleID for s in ss]),
            "finding_info.types": pa.array(types, pa.list_(pa.string())),
            "message": strs([f"{s.Title or s.RuleID} in {r.Target}{':' + ln if ln else ''}"
                             for s, r, ln in zip(ss, res, lines, strict=True)]),  # fmt: skip
            "file.path": strs([r.Target for r in res]),
            "file.name": strs([(r.Target or "").rsplit("/", 1)[-1] or None for r in res]),
            "file.type_id": pa.array([_REGULAR_FILE] * n, pa.int32()),
            "file.type": strs(["Regular File"] * n),
            "data_security.detection_pattern": strs([s.RuleID for s in ss]),
            "data_security.pattern_match": strs([s.Match for s in ss]),
            "data_security.detection_system_id": pa.array([11] * n, pa.int32()),
            "data_security.detection_system": strs(["Developer Security"] * n),
            "data_security.data_lifecycle_state_id": pa.array([1] * n, pa.int32()),
            "data_security.data_lifecycle_state": strs(["Data at-Rest"] * n),
            "data_security.category_id": pa.array([6] * n, pa.int32()),
            "data_security.category": strs(["Security"] * n),
        }


__all__ = ["Trivy"]
