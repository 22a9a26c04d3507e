"""AWS Security Finding Format (ASFF) findings: Security Hub's ``GetFindings`` answer
(``{"Findings": [...]}``, also ``findings``), its EventBridge events ("Security Hub Findings -
Imported" / "- Custom Action": ``detail.findings[]``, one event, several back to back or one a
line as Firehose delivers them), a bare array or NDJSON of findings (Prowler's ``-M json-asff``,
Trivy's ``--format template --template @contrib/asff.tpl``, old and new).

One finding is one event, of the class its content says (as AWS's own ASFF -> OCSF mapping of
Security Hub CSPM):

- with ``Vulnerabilities[]`` -> **Vulnerability Finding (2002)**, one ``vulnerabilities[]`` entry
  each: a CVE id is ``cve.uid`` (``Cvss[]`` -> ``cve.cvss[]``, ``EpssScore`` -> ``cve.epss``), another
  id (GHSA-, ALAS- ...) the ``advisory``; ``VulnerablePackages[]`` -> ``affected_packages[]`` (name,
  version, epoch, release, architecture, package manager, fixed-in version, path, remediation),
  ``Vendor`` -> vendor_name and severity, ``ReferenceUrls``, ``RelatedVulnerabilities``,
  ``FixAvailable``/``ExploitAvailable`` YES -> ``is_fix_available``/``is_exploit_available``. Trivy's
  template has no ``Vulnerabilities``: its resource's ``Details.Other`` ("CVE ID", "PkgName",
  "Installed Package", "Patched Package", "NvdCvssScoreV3"/"NvdCvssVectorV3") gives the one entry;
- else with ``Compliance`` -> **Compliance Finding (2003)**: ``SecurityControlId`` (else the
  ``ProductFields.ControlId`` of a finding from before consolidated controls, else the ``GeneratorId``:
  Prowler's check) the control,
  ``AssociatedStandards[].StandardsId`` (else ``ProductFields.StandardsArn``) the standards,
  ``RelatedRequirements`` the requirements, ``Status`` PASSED / WARNING / FAILED -> Pass (1) /
  Warning (2) / Fail (3), NOT_AVAILABLE Other (99), the word in ``status_code``;
  ``StatusReasons[]`` the status details;
- else -> **Detection Finding (2004)** (GuardDuty, Macie, Access Analyzer, a secret Trivy found), its
  ``Action`` (a network connection by its direction, a port probe coming in, an AWS API call from a
  remote address, a DNS request) or ``Network`` -> ``evidences[0]``: the endpoints (address, port,
  domain, the remote one's ISP), ``connection_info`` (protocol, direction), ``api`` (operation,
  service), ``query.hostname``; the rest of them (geolocation, AS) stays in ``raw_data``; ``Malware[]``
  -> ``malware[]`` (name, path, its type as classification: COIN_MINER Resource-Exploitation, TROJAN
  Trojan ..., another type Other with its word as the classification).

Every finding: ``Id`` -> ``finding_info.uid``; ``Title``, ``Description``, ``Types`` (else
``FindingProviderFields.Types``), ``SourceUrl``, ``GeneratorId`` (the analytic's uid) and
``CreatedAt``/``UpdatedAt``/``FirstObservedAt``/``LastObservedAt`` -> ``finding_info``; ``time`` is
``UpdatedAt`` (else ``CreatedAt``: a finding with neither is dead-lettered); ``Severity.Label``
(else ``FindingProviderFields.Severity.Label``, else ``Normalized`` in AWS's bands 0 / 1-39 /
40-69 / 70-89 / 90-100) -> ``severity_id``; ``Confidence`` -> ``confidence_score``;
``Workflow.Status`` (else the legacy ``WorkflowState``) NEW / NOTIFIED / SUPPRESSED / RESOLVED ->
``status_id`` New / In Progress / Suppressed / Resolved, an ``ARCHIVED`` ``RecordState`` of an open
finding Archived (5), the words in ``status_code`` / ``status_detail``; ``activity_id`` Close (3)
when archived, else Create (1) while ``UpdatedAt`` is ``CreatedAt``, else Update (2);
``AwsAccountId`` (a number in Trivy's old template), ``AwsAccountName``, ``Region`` (else the first
resource's), the first resource's ``Partition`` -> ``cloud`` (provider AWS); ``Resources[]`` ->
``resources[]`` (type, uid, region, partition, tags, ``Details`` as data); ``Remediation.
Recommendation`` -> ``remediation`` (2003, 2004) or the vulnerabilities' remediation (2002);
``ProductName``/``CompanyName`` (else the product ARN's ``product/<company>/<product>``) ->
``metadata.product`` and ``finding_info.product``, ``ProductArn`` their uid. Keys not placed
(``ProductFields``, ``Note``, ``UserDefinedFields``, ``Process``, ``Threats`` ...) stay in
``unmapped``; ``raw_data`` is the finding's own JSON (compact).

Dead letters: a record that is neither a finding (no ``Id``) nor an envelope of findings, one of
the wrong shape, or one without time: each alone, the others going on. A finding that is not UTF-8
is dead-lettered alone, the other findings of its envelope (a ``GetFindings`` page) kept.

Recognized by ``"SchemaVersion": "2018-10-08"`` (every finding's) in the head, or a ``GetFindings``
answer with no findings (``{"Findings": []}``: no event). A document's findings are walked natively
once, in class order, for their strings, lists (types, resources, vulnerabilities with their packages
and scores, compliance), ``unmapped``, raw_data and uids; the columns every class shares are made
once and each class's batch takes its run of rows. msgspec types a finding (one call a finding) only
for the few fields read as Python values (:class:`_Rest`: times and id for the envelope test, account,
confidence, actions, network, malware; ``Vulnerabilities`` and ``Compliance`` kept raw, to tell the
class; Trivy's ``Details.Other`` decoded for its findings alone): every msgspec object a finding made
and freed costs (~35 an Inspector finding's vulnerabilities took ~3.5 us). Without the extension, or
for a batch the walk does not decide (a value msgspec's types refuse, a duplicate or escaped key),
msgspec types the whole findings (:class:`_Finding`): same columns, same dead letters (tests compare
both paths).
"""

from __future__ import annotations

import itertools
import re
from typing import Any, cast

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._asff_vulns import (
    REC_TEXT,
    REC_URL,
    VULN_LISTS,
    VULN_PATHS,
    _Cvss,
    _Package,
    _urls,
    _Vuln,
    numbers,
    pylists,
    vulnerabilities,
    walked_vulnerabilities,
)
from secpipe.formats._findings import (
    _TOP_NATIVE_MIN,
    S,
    _no_null,
    captions,
    decode_top,
    either,
    kv_list,
    nest,
    nonempty,
    only_where,
    or_null,
    paused_gc,
    raw_data,
    raw_json_col,
    severity_ids,
    singleton_list,
    str_lists,
    struct_lists,
)
from secpipe.formats._uids import uid_prefix
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    RecordFormat,
    Records,
    Typed,
    _utf8_only,
    base_columns,
    event_uids,
    parse_times,
    strs,
    to_batch,
)

_P = {"rename": "pascal", "gc": False}


class _Severity(msgspec.Struct, **_P):  # type: ignore[call-arg]
    label: str | None = None
    normalized: float | None = None


class _Provider(msgspec.Struct, **_P):  # type: ignore[call-arg]
    severity: _Severity | None = None
    types: list[str] | None = None


class _Recommendation(msgspec.Struct, **_P):  # type: ignore[call-arg]
    text: str | None = None
    url: str | None = None


class _Remediation(msgspec.Struct, **_P):  # type: ignore[call-arg]
    recommendation: _Recommendation | None = None


class _Details(msgspec.Struct, **_P):  # type: ignore[call-arg]
    """A resource as a finding typed beside the native walk holds it: its ``Details`` (Trivy's CVE)."""

    details: msgspec.Raw = msgspec.Raw(b"")


class _Resource(_Details):
    """A resource as msgspec's path reads it (the native walk reads these fields into columns)."""

    type: str | None = None
    id: str | None = None
    partition: str | None = None
    region: str | None = None
    tags: dict[str, Any] | None = None


class _Standard(msgspec.Struct, **_P):  # type: ignore[call-arg]
    standards_id: str | None = None


class _Reason(msgspec.Struct, **_P):  # type: ignore[call-arg]
    reason_code: str | None = None
    description: str | None = None


class _Compliance(msgspec.Struct, **_P):  # type: ignore[call-arg]
    status: str | None = None
    security_control_id: str | None = None
    related_requirements: list[str] | None = None
    associated_standards: list[_Standard] | None = None
    status_reasons: list[_Reason] | None = None


class _Fields(msgspec.Struct, gc=False):
    """The ``ProductFields`` keys read (a map of strings; the others are skipped, not built)."""

    sh_name: Any = msgspec.field(default=None, name="aws/securityhub/ProductName")
    sh_company: Any = msgspec.field(default=None, name="aws/securityhub/CompanyName")
    trivy_name: Any = msgspec.field(default=None, name="Product Name")
    prowler_name: Any = msgspec.field(default=None, name="ProviderName")
    control: Any = msgspec.field(default=None, name="ControlId")
    rule: Any = msgspec.field(default=None, name="RuleId")
    standards: Any = msgspec.field(default=None, name="StandardsArn")
    guide: Any = msgspec.field(default=None, name="StandardsGuideArn")


class _Org(msgspec.Struct, **_P):  # type: ignore[call-arg]
    isp: str | None = None


class _Ip(msgspec.Struct, **_P):  # type: ignore[call-arg]
    ip_address_v4: str | None = None
    organization: _Org | None = None


class _Port(msgspec.Struct, **_P):  # type: ignore[call-arg]
    port: int | None = None


class _Connection(msgspec.Struct, **_P):  # type: ignore[call-arg]
    connection_direction: str | None = None
    protocol: str | None = None
    local_ip_details: _Ip | None = None
    local_port_details: _Port | None = None
    remote_ip_details: _Ip | None = None
    remote_port_details: _Port | None = None


class _ApiCall(msgspec.Struct, **_P):  # type: ignore[call-arg]
    api: str | None = None
    service_name: str | None = None
    remote_ip_details: _Ip | None = None


class _Dns(msgspec.Struct, **_P):  # type: ignore[call-arg]
    domain: str | None = None
    protocol: str | None = None


class _Probe(msgspec.Struct, **_P):  # type: ignore[call-arg]
    port_probe_details: list[_Connection] | None = None


class _Action(msgspec.Struct, **_P):  # type: ignore[call-arg]
    network_connection_action: _Connection | None = None
    aws_api_call_action: _ApiCall | None = None
    dns_request_action: _Dns | None = None
    port_probe_action: _Probe | None = None


class _Network(msgspec.Struct, **_P):  # type: ignore[call-arg]
    direction: str | None = None
    protocol: str | None = None
    source_ip_v4: str | None = None
    source_ip_v6: str | None = None
    source_port: int | str | None = None
    source_domain: str | None = None
    destination_ip_v4: str | None = None
    destination_ip_v6: str | None = None
    destination_port: int | str | None = None
    destination_domain: str | None = None


class _Malware(msgspec.Struct, **_P):  # type: ignore[call-arg]
    name: str | None = None
    path: str | None = None
    type: str | None = None


class _Workflow(msgspec.Struct, **_P):  # type: ignore[call-arg]
    status: str | None = None


class _Rest(msgspec.Struct, **_P):  # type: ignore[call-arg]
    """A finding's fields the mapping reads from typed values (the others are columns: :data:`_STRS`)."""

    schema_version: str | None = None
    id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    aws_account_id: str | int | None = None
    confidence: int | None = None
    #: (typed by the walk; its first ``Details`` decoded for a Trivy template's finding alone: :func:`_details`)
    resources: msgspec.Raw = msgspec.Raw(b"")
    #: (typed by the walk, :data:`_COMPLIANCE_PATHS`; msgspec only finds where it ends)
    compliance: msgspec.Raw = msgspec.Raw(b"")
    #: (typed by the walk, :data:`~secpipe.formats._asff_vulns.VULN_PATHS`; msgspec only finds where it ends)
    vulnerabilities: msgspec.Raw = msgspec.Raw(b"")
    action: _Action | None = None
    network: _Network | None = None
    malware: list[_Malware] | None = None


class _Finding(_Rest):
    """A whole finding as msgspec's path types it (no extension, or a batch the walk does not decide)."""

    product_arn: str | None = None
    product_name: str | None = None
    company_name: str | None = None
    generator_id: str | None = None
    aws_account_name: str | None = None
    region: str | None = None
    first_observed_at: str | None = None
    last_observed_at: str | None = None
    title: str | None = None
    description: str | None = None
    source_url: str | None = None
    workflow: _Workflow | None = None
    workflow_state: str | None = None
    record_state: str | None = None
    product_fields: _Fields | None = None
    compliance: _Compliance | None = None  # type: ignore[assignment]
    remediation: _Remediation | None = None
    types: list[str] | None = None
    severity: _Severity | None = None
    finding_provider_fields: _Provider | None = None
    resources: list[_Resource] | None = None  # type: ignore[assignment]
    vulnerabilities: list[_Vuln] | None = None  # type: ignore[assignment]


#: the string fields read as columns (the native walk's, else from the typed findings): path -> attribute
_STRS = {"Id": "id", "ProductArn": "product_arn", "ProductName": "product_name", "CompanyName": "company_name",
         "GeneratorId": "generator_id", "AwsAccountName": "aws_account_name", "Region": "region", "Title": "title",
         "Description": "description", "SourceUrl": "source_url", "FirstObservedAt": "first_observed_at",
         "LastObservedAt": "last_observed_at", "CreatedAt": "created_at", "UpdatedAt": "updated_at",
         "RecordState": "record_state", "WorkflowState": "workflow_state"}  # fmt: skip
#: nested string fields read as columns: path -> attributes
_NESTED = {"Workflow.Status": ("workflow", "status"), "Severity.Label": ("severity", "label"),
           "FindingProviderFields.Severity.Label": ("finding_provider_fields", "severity", "label"),
           "Remediation.Recommendation.Text": ("remediation", "recommendation", "text"),
           "Remediation.Recommendation.Url": ("remediation", "recommendation", "url")}  # fmt: skip
#: the ``ProductFields`` keys read as columns (a map of strings; another value: msgspec's path, which
#: reads it as none): path -> attribute of :class:`_Fields`
_PRODUCT_FIELDS = {f"ProductFields.{f.encode_name}": f.name for f in msgspec.structs.fields(_Fields)}
#: resource fields read as columns: path below ``Resources[]`` -> attribute
_RES_STRS = {"Type": "type", "Id": "id", "Region": "region", "Partition": "partition"}


class _Detail(msgspec.Struct):
    findings: list[msgspec.Raw] | None = None


class _Envelope(msgspec.Struct):
    Findings: list[msgspec.Raw] | None = None  # noqa: N815 (GetFindings' key)
    findings: list[msgspec.Raw] | None = None
    detail: _Detail | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_MAPPED = frozenset({
    "SchemaVersion", "Id", "ProductArn", "ProductName", "CompanyName", "GeneratorId", "AwsAccountId", "AwsAccountName",
    "Region", "Types", "FirstObservedAt", "LastObservedAt", "CreatedAt", "UpdatedAt", "Severity", "Confidence", "Title",
    "Description", "SourceUrl", "Remediation", "Resources", "Compliance", "Workflow", "WorkflowState", "RecordState",
    "Vulnerabilities", "FindingProviderFields", "Action", "Network", "Malware",
})  # fmt: skip
#: a workflow word (Workflow.Status, else the legacy WorkflowState) -> status_id
_WORKFLOW = {"NEW": 1, "NOTIFIED": 2, "ASSIGNED": 2, "IN_PROGRESS": 2, "SUPPRESSED": 3, "DEFERRED": 3, "RESOLVED": 4}
_WORKFLOW_WORDS = pa.array(list(_WORKFLOW), pa.string())
_WORKFLOW_IDS = pa.array(list(_WORKFLOW.values()), pa.int64())
#: Compliance.Status -> compliance.status_id (NOT_AVAILABLE: the check could not run, Other)
_COMPLIANCE = {"PASSED": 1, "WARNING": 2, "FAILED": 3, "NOT_AVAILABLE": 99}
_COMPLIANCE_CAPTION = {0: "Unknown", 1: "Pass", 2: "Warning", 3: "Fail", 99: "Other"}
#: a product ARN's ``product/<company>/<product>`` (RE2)
_PRODUCT_ARN = r":product/(?P<company>[^/]+)/(?P<product>[^/]+)"
_NO_SEV = _Severity()
_NO_PROVIDER = _Provider()
_NO_COMPLIANCE = _Compliance()
_RESOURCES = msgspec.json.Decoder(list[_Details] | None)
_NO_FIELDS = _Fields()
_OTHER = msgspec.json.Decoder(dict[str, Any])
_TAGS = msgspec.json.Decoder(dict[str, Any] | None)
#: one finding's :class:`_Rest` (each decoded alone: joining the findings into one array to decode it
#: cost more than the calls, ~1.4 us a 3.5 KB finding)
_REST = msgspec.json.Decoder(_Rest)
_FINDING = msgspec.json.Decoder(_Finding)
_VULNS = msgspec.json.Decoder(list[_Vuln])
#: the ``Compliance`` paths the walk reads (:func:`_walked_compliance`)
_CP, _CR, _CA, _CS = "Compliance.", "Compliance.RelatedRequirements[]", "Compliance.AssociatedStandards[]", \
    "Compliance.StatusReasons[]"
_COMPLIANCE_PATHS = ((f"{_CP}Status", _fast.STR), (f"{_CP}SecurityControlId", _fast.STR), (_CR, _fast.LIST),
                     (f"{_CR}.@", _fast.STR), (_CA, _fast.LIST), (f"{_CA}.StandardsId", _fast.STR), (_CS, _fast.LIST),
                     (f"{_CS}.ReasonCode", _fast.STR), (f"{_CS}.Description", _fast.STR))  # fmt: skip
#: lists of strings the walk reads: ``Types``, else the finding provider's
_LISTS = ("Types", "FindingProviderFields.Types")
#: the severity numbers the walk reads as raw JSON (numbers, :func:`~secpipe.formats._asff_vulns.numbers`): the
#: finding's, and its provider's (msgspec's path types it: the walk checks it is a number)
_NORMALIZED = ("Severity.Normalized", "FindingProviderFields.Severity.Normalized")
#: the keys of the walk's (or the typed findings') per-finding Python values: types (a list), Severity.Normalized
_TYPES, _NORMAL = " types", " normalized"
_SPEC = _fast.Spec(
    (*((k, _fast.STR) for k in (*_STRS, *_NESTED, *_PRODUCT_FIELDS)), ("Resources[]", _fast.LIST),
     *((f"Resources[].{k}", _fast.STR) for k in _RES_STRS), ("Resources[].Tags", _fast.RAW),
     ("Resources[].Details", _fast.RAW), *VULN_PATHS, *_COMPLIANCE_PATHS, *((f"{k}[]", _fast.LIST) for k in _LISTS),
     *((f"{k}[].@", _fast.STR) for k in _LISTS), *((k, _fast.RAW) for k in _NORMALIZED)),
    (), tuple(sorted(_MAPPED)), ("ProductFields",),
)  # fmt: skip


def _severity_ids(c: dict[str, Any]) -> pa.Array:
    """severity_id of the severity word: Label, else the finding provider's, else Normalized's band."""
    label = either(c["Severity.Label"], c["FindingProviderFields.Severity.Label"])
    bands = [] if pc.all(nonempty(label)).as_py() else label.to_pylist()
    normal = c[_NORMAL]
    if bands and isinstance(normal, pa.Array):
        normal = normal.to_pylist()
    for i, word in enumerate(bands):
        n = None if word else normal[i]
        if n is not None:
            bands[i] = "informational" if n <= 0 else "low" if n < 40 else "medium" if n < 70 else "high" if n < 90 else "critical"
    return severity_ids(strs(bands) if bands else label)


def _status(words: pa.Array, state: pa.Array) -> pa.Array:
    """status_id of the workflow words (none: New), an archived open finding Archived (5)."""
    sid = pc.fill_null(_WORKFLOW_IDS.take(pc.index_in(pc.utf8_upper(words), _WORKFLOW_WORDS)), 99)
    sid = pc.if_else(words.is_null(), 1, sid)
    archived = pc.fill_null(pc.equal(state, "ARCHIVED"), False)
    return pc.if_else(pc.and_(archived, pc.less_equal(sid, 2)), 5, sid).cast(pa.int32())


def _activity(created: pa.Array, updated: pa.Array, state: pa.Array) -> pa.Array:
    """Close (3) for an archived finding, Create (1) while it was never updated, else Update (2)."""
    fresh = pc.fill_null(pc.equal(updated, pc.coalesce(created, updated)), True)
    archived = pc.fill_null(pc.equal(state, "ARCHIVED"), False)
    return pc.if_else(archived, 3, pc.if_else(fresh, 1, 2)).cast(pa.int32())


def _products(c: dict[str, pa.Array]) -> tuple[pa.Array, pa.Array]:
    """(product name, company): the finding's, else ProductFields' (Security Hub's, Trivy's template's
    "Product Name", Prowler's "ProviderName"), else the product ARN's ``product/<company>/<product>``."""
    pf = "ProductFields."
    name = or_null(either(either(either(c["ProductName"], c[f"{pf}aws/securityhub/ProductName"]), c[f"{pf}Product Name"]),
                          c[f"{pf}ProviderName"]))  # fmt: skip
    company = or_null(either(c["CompanyName"], c[f"{pf}aws/securityhub/CompanyName"]))
    if not (name.null_count or company.null_count):
        return name, company
    company_of, product_of = pc.extract_regex(c["ProductArn"], _PRODUCT_ARN).flatten()
    return pc.coalesce(name, product_of), pc.coalesce(company, company_of)


def _details(f: _Rest, *, walk: bool) -> bytes:
    """The first resource's ``Details`` (raw JSON) where it may be a Trivy template's (it holds ``"CVE ID"``),
    else empty (a walked finding's resources are raw: a list msgspec does not type, the walk refuses too)."""
    if not walk:
        res = cast(_Finding, f).resources
        return bytes(res[0].details) if res else b""
    raw = bytes(f.resources)
    if b'"CVE ID"' not in raw:
        return b""
    try:
        res = _RESOURCES.decode(raw)
    except msgspec.DecodeError:
        return b""
    return bytes(res[0].details) if res else b""


def _trivy_vuln(raw: bytes) -> list[_Vuln] | None:
    """The one vulnerability of Trivy's ASFF template, from its resource's ``Details`` (raw JSON: ``Other``)."""
    if b'"CVE ID"' not in raw:
        return None
    try:
        other = _OTHER.decode(raw).get("Other")
    except msgspec.DecodeError:
        return None
    if not isinstance(other, dict) or not isinstance(cve := other.get("CVE ID"), str) or not cve:
        return None
    pkg = _Package(name=_text(other.get("PkgName")), version=_text(other.get("Installed Package")),
                   fixed_in_version=_text(other.get("Patched Package")))  # fmt: skip
    score = _number(other.get("NvdCvssScoreV3"))
    vector = _text(other.get("NvdCvssVectorV3"))
    cvss = [_Cvss(version=vector[5:8] if vector and vector.startswith("CVSS:") else "3", base_score=score,
                  base_vector=vector, source="nvd")] if score else None  # fmt: skip
    return [_Vuln(id=cve, vulnerable_packages=[pkg], cvss=cvss, title=_text(other.get("CVE Title")),
                  fix_available="YES" if pkg.fixed_in_version else None)]  # fmt: skip


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _number(v: Any) -> float | None:
    """A score given as a number or as its text (Trivy's template writes both); 0 is none."""
    try:
        got = float(v) if isinstance(v, (int, float, str)) and not isinstance(v, bool) else None
    except ValueError:
        return None
    return got or None


class Asff(RecordFormat):
    """AWS Security Finding Format (ASFF) findings (Security Hub, EventBridge, Prowler, Trivy)."""

    name = "asff"
    description = ("AWS Security Finding Format (Security Hub GetFindings, EventBridge findings events, Prowler/Trivy "
                   "json-asff) -> Vulnerability (2002) / Compliance (2003) / Detection Finding (2004) per finding")  # fmt: skip
    framing = "document"
    product = "Security Hub"
    vendor = "AWS"

    def sniff(self, head: bytes) -> int:
        """Recognize the ASFF schema version every finding carries, or an empty ``GetFindings`` answer."""
        h = head[:65536]
        if h.lstrip()[:1] not in (b"{", b"["):
            return 0
        return 90 if _SCHEMA.search(h) else 70 if _EMPTY.match(h) else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one document, the cyclic GC paused (many small structs a finding)."""
        with paused_gc():
            return super().decode(data, source)

    def split_records(self, data: bytes, source: str) -> Records:
        """A ``GetFindings`` answer (pretty, as the AWS CLI writes it, or compact) compacted and cut
        into its findings in one native pass; any other document split as JSON records are."""
        key = "Findings" if b'"Findings"' in data[:256] else "findings" if b'"findings"' in data[:256] else None
        got = _fast.compact_doc(data, key, utf8=True) if key and data.lstrip()[:1] == b"{" else None
        items = got[1] if got is not None else None
        if items is None:  # (also one that is not UTF-8: the split's path dead-letters it, and it is opened below)
            return self._opened(super().split_records(data, source))
        return Records(items, [(source, i) for i in range(len(items))], [], len(items))

    def _opened(self, recs: Records) -> Records:
        """``recs`` with each record dead-lettered as not UTF-8 that is a findings envelope (a
        ``GetFindings`` answer, an EventBridge event) opened: a finding of it that is not UTF-8 is
        dead-lettered alone (the reason naming the byte of the compact finding where it stops being
        UTF-8), the others are kept, placed as :meth:`map_records` places an envelope's findings (at
        their index in a document that is the envelope, else at the envelope's place). The bad bytes
        outside every finding (the envelope's own keys): the envelope stays dead-lettered, its
        findings kept too. A rare path: only for a split that dead-lettered such a record."""
        if not any(d.reason.startswith(_NOT_UTF8) for d in recs.dead):
            return recs
        out = Records(recs.raws, recs.locs, [], recs.events, recs.docs)
        for d in recs.dead:
            items = _items(d.raw) if d.reason.startswith(_NOT_UTF8) else None
            if items is None:
                out.dead.append(d)
                continue
            whole = recs.events == 1  # (the document is the envelope: its findings at their index)
            raws, idx, bad = _utf8_only(items, list(range(len(items))), [], d.source, self.name)
            out.raws += raws
            out.locs += [(d.source, i if whole else d.offset) for i in idx]
            out.dead += [x if whole else DeadLetter(f"{x.reason} (its finding {x.offset})", d.source, d.offset, x.raw,
                                                    self.name) for x in bad]  # fmt: skip
            out.events += len(items) - 1
            if not bad:  # (the findings are UTF-8: the bad bytes are the envelope's)
                out.dead.append(DeadLetter(f"{d.reason}, outside its findings (kept)", d.source, d.offset, d.raw, self.name))
                out.events += 1
        return out

    def map_records(self, recs: Records) -> Decoded:
        """Map findings; records that are envelopes (``findings``, an EventBridge event's
        ``detail.findings``) are opened and their findings mapped with the others.

        A batch of findings is typed by msgspec only where the mapping reads typed values
        (:class:`_Rest`) and each class's findings are walked natively for the rest (:func:`_walked`:
        string fields, resources, ``unmapped``, raw_data and uids in one pass); where either does not
        decide (no extension, a small batch, a finding msgspec or the walk refuses), msgspec's path
        maps the batch from the start (:class:`_Finding`), with the same columns and dead letters."""
        if len(recs.raws) >= _TOP_NATIVE_MIN and (out := self._map(recs, native=True)) is not None:
            return out
        return self._map(recs, native=False)  # type: ignore[return-value]

    def _map(self, recs: Records, *, native: bool) -> Decoded | None:
        """:meth:`map_records` on one path (None: the native one does not decide the batch)."""
        out = Decoded(dead=list(recs.dead), events=recs.events)
        if not recs.raws:
            return out
        unmapped = None
        if native:
            try:
                fs = list(map(_REST.decode, recs.raws))
            except msgspec.DecodeError:
                return None
            typed = Typed(fs, [], recs.raws, recs.locs)
        else:
            typed, top = decode_top(recs.raws, recs.locs, _Finding, _MAPPED, (), out, "", self.name, "an ASFF finding")
            unmapped = top.unmapped
        keep: list[int] = []
        inner = Records()
        for i, (f, raw) in enumerate(zip(typed.recs, typed.raws, strict=True)):
            if f.id is not None and (f.updated_at or f.created_at):
                keep.append(i)
                continue
            if native and not _whole_finding(raw):
                return None  # (msgspec's path dead-letters it with its reason)
            items = None if f.id is not None else _items(raw)
            loc = typed.locs[i]
            src, off = loc if isinstance(loc, tuple) else ("", loc)
            if items is not None:
                inner.raws += items
                # (a document that is one envelope: each finding at its index, as the native split places it)
                inner.locs += [(src, j) for j in range(len(items))] if len(typed.raws) == 1 else [(src, off)] * len(items)
                inner.events += len(items)
                out.events -= 1  # (the envelope was counted as one record)
            else:
                why = "no CreatedAt or UpdatedAt time" if f.id is not None else "no Id, nor a findings list"
                out.dead.append(DeadLetter(f"not an ASFF finding: {why}", src, off, raw, self.name))
        if keep:
            whole = len(keep) == len(typed.recs)
            fs = typed.recs if whole else [typed.recs[i] for i in keep]
            raws = typed.raws if whole else [typed.raws[i] for i in keep]
            if unmapped is not None and not whole:
                unmapped = unmapped.take(pa.array(keep, pa.int32()))
            batches = self._batches(fs, raws, unmapped)
            if batches is None:
                return None
            out.batches.extend(batches)
        if inner.raws:
            out.extend(self.map_records(inner))
        return out

    def _batches(self, fs: list[_Rest], raws: list[bytes], unmapped: pa.Array | None) -> list[pa.RecordBatch] | None:
        """One batch a class: findings with vulnerabilities, with compliance, the others; ``unmapped``
        None: the findings walked natively (None: a walk that does not decide).

        The findings are put in class order (each class's in their own order) and their columns every
        class shares made once for all of them, each class's batch taking its run of rows (a slice, no
        copy): a class a walk and ~100 Arrow calls each cost ~6 ms a 1,000-finding document of three
        classes (a call ~20-40 us on this host, whatever its rows)."""
        walk = unmapped is None
        # (the walk's findings hold their vulnerabilities as raw JSON: a list of one or more is 3 bytes or more;
        # only a 4-byte one copied to be compared with null, not an Inspector finding's whole list)
        listed = [len(v) > 2 and (len(v) != 4 or bytes(v) != b"null") for v in (f.vulnerabilities for f in fs)] if walk \
            else [bool(f.vulnerabilities) for f in fs]  # fmt: skip
        complied = [len(r) > 0 and (len(r) != 4 or bytes(r) != b"null") for r in (f.compliance for f in fs)] if walk \
            else [f.compliance is not None for f in fs]  # fmt: skip
        vulns = [None if x or y else _trivy_vuln(_details(f, walk=walk)) for f, x, y in zip(fs, listed, complied, strict=True)]
        kinds = [0 if x or v else 1 if y else 2 for x, v, y in zip(listed, vulns, complied, strict=True)]
        counts = [kinds.count(k) for k in range(3)]
        if any(a > b for a, b in itertools.pairwise(kinds)):
            order = sorted(range(len(kinds)), key=kinds.__getitem__)  # (stable: each class's findings in their order)
            fs, raws, vulns = [fs[i] for i in order], [raws[i] for i in order], [vulns[i] for i in order]
            listed = [listed[i] for i in order]
            if unmapped is not None:
                unmapped = unmapped.take(pa.array(order, pa.int32()))
        c = _walked(raws, self.name, None) if walk else _typed_columns(fs, raws, unmapped, self.name)  # type: ignore[arg-type]
        if c is None:
            return None
        shared = _shared(fs, c)
        out = []
        start = 0
        for kind, cls in enumerate(("vulnerability_finding", "compliance_finding", "detection_finding")):
            n = counts[kind]
            if not n:
                continue
            if n == len(fs):
                sub, subv, part = fs, vulns, shared
            else:
                sub, subv = fs[start : start + n], vulns[start : start + n]
                part = {k: v.slice(start, n) for k, v in shared.items()}
            start += n
            cols = self._common(cls, part)
            if kind == 0:
                got = self._vulns(sub, subv, listed[:n], c, part, walk=walk)
                if got is None:
                    return None
                cols.update(got)
            else:
                cols["remediation"] = _remediation(part)
                reqs = _walked_compliance(c, start - n, n) if walk else _typed_compliance(sub)  # type: ignore[arg-type]
                cols.update(_compliance(reqs, part) if kind == 1 else {**_evidences(sub), **_malware(sub)})
            out.append(to_batch(cls, cols))
        return out

    @staticmethod
    def _vulns(fs: list[_Rest], trivy: list[list[_Vuln] | None], listed: list[bool], c: dict[str, Any],
               part: dict[str, pa.Array], *, walk: bool) -> dict[str, pa.Array] | None:  # fmt: skip
        """``vulnerabilities[]`` of the vulnerability findings (the first of ``c``'s rows): the walk's columns,
        else (a Trivy template's finding among them, or msgspec's path) from typed vulnerabilities (None: one
        the walk read that msgspec does not type)."""
        if walk and not any(trivy):
            return walked_vulnerabilities(len(fs), c, part)
        try:
            vulns = [(_VULNS.decode(f.vulnerabilities) if walk else cast(_Finding, f).vulnerabilities or []) if x else t or []
                     for f, t, x in zip(fs, trivy, listed, strict=True)]  # fmt: skip
        except msgspec.DecodeError:
            return None
        return vulnerabilities(vulns, part)

    def _common(self, cls: str, part: dict[str, pa.Array]) -> dict[str, pa.Array]:
        """The columns every class takes from a finding: the class's own (base columns, status captions)
        and the shared ones (:func:`_shared`) of its rows."""
        cols = base_columns(cls, kind=self.name, product=self.product, vendor=self.vendor, uids=part[_UIDS],
                            times_ms=part[_TIME], raws=part[_RAW], activity_id=part[_ACTIVITY],
                            severity_id=part[_SEVERITY])  # fmt: skip
        cols.update({k: v for k, v in part.items() if k[0] != " "})
        cols["status"] = captions(cls, "status_id", part["status_id"])
        return cols


#: the keys of :func:`_shared`'s columns that are not OCSF columns (a leading space: no OCSF name has one)
_UIDS, _TIME, _RAW, _ACTIVITY, _SEVERITY = " uids", " time", " raw_data", " activity_id", " severity_id"
_STANDARDS, _GUIDE, _CONTROL, _RULE, _GENERATOR = (" ProductFields.StandardsArn", " ProductFields.StandardsGuideArn",
                                                   " ProductFields.ControlId", " ProductFields.RuleId", " GeneratorId")  # fmt: skip


def _shared(fs: list[_Rest], c: dict[str, Any]) -> dict[str, pa.Array]:
    """The columns every class takes from a finding (but its base columns and status captions, which
    :meth:`Asff._common` makes a class), for all findings at once, and the values those and the classes'
    own columns are made from (keys with a leading space)."""
    n = len(fs)
    created = parse_times(c["CreatedAt"])
    updated = parse_times(c["UpdatedAt"])
    words = either(c["Workflow.Status"], c["WorkflowState"])
    state = c["RecordState"]
    name, company = _products(c)
    pname = pc.fill_null(name, Asff.product)
    pvendor = pc.fill_null(company, Asff.vendor)
    parn = c["ProductArn"]
    st = _status(words, state)
    account = strs([None if f.aws_account_id is None else str(f.aws_account_id) for f in fs])
    title = c["Title"]
    gen = c["GeneratorId"]
    pf = "ProductFields."
    return {
        _UIDS: c["uids"],
        _TIME: pc.coalesce(updated, created),
        _RAW: c["raw_data"],
        _ACTIVITY: _activity(created, updated, state),
        _SEVERITY: _severity_ids(c),
        _STANDARDS: c[f"{pf}StandardsArn"],
        _GUIDE: c[f"{pf}StandardsGuideArn"],
        _CONTROL: c[f"{pf}ControlId"],
        _RULE: c[f"{pf}RuleId"],
        _GENERATOR: gen,
        REC_TEXT: c["Remediation.Recommendation.Text"],
        REC_URL: c["Remediation.Recommendation.Url"],
        "metadata.product.name": pname,
        "metadata.product.vendor_name": pvendor,
        "metadata.product.uid": parn,
        "status_id": st,
        "status": st,  # (its place: each class's captions of it, :meth:`Asff._common`)
        "status_code": words,
        "status_detail": state,
        "confidence_score": pa.array([f.confidence for f in fs], pa.int32()),
        "message": title,
        "finding_info.uid": c["Id"],
        "finding_info.title": title,
        "finding_info.desc": c["Description"],
        "finding_info.types": str_lists(c[_TYPES]),
        "finding_info.src_url": c["SourceUrl"],
        "finding_info.created_time": created,
        "finding_info.modified_time": updated,
        "finding_info.first_seen_time": parse_times(c["FirstObservedAt"]),
        "finding_info.last_seen_time": parse_times(c["LastObservedAt"]),
        "finding_info.product.name": pname,
        "finding_info.product.vendor_name": pvendor,
        "finding_info.product.uid": parn,
        "finding_info.analytic": only_where(nest({"uid": gen, "type_id": pa.nulls(n, pa.int32()).fill_null(0),
                                                  "type": pa.nulls(n, S).fill_null("Unknown")}), gen),  # fmt: skip
        "cloud.provider": pa.nulls(n, S).fill_null("AWS"),
        "cloud.account.uid": account,
        "cloud.account.name": c["AwsAccountName"],
        "cloud.region": or_null(either(c["Region"], c["Resources[0].Region"])),
        "cloud.cloud_partition": c["Resources[0].Partition"],
        "resources": c["resources"],
        "unmapped": c["unmapped"],
    }  # fmt: skip


def _walked(raws: list[bytes], kind: str, shape: str | None) -> dict[str, Any] | None:
    """The findings' columns in one native walk (:data:`_STRS`, ``Workflow.Status``, ``resources`` and
    the first resource's region and partition, ``unmapped``, ``raw_data``, ``uids``), or None where it
    does not decide (no extension, an irregular finding, a resource's ``Tags`` that is not an object)."""
    got = _fast.extract(raws, _SPEC, whole=True, uid_prefix=uid_prefix(kind), shape=shape)
    if got is None:
        return None
    s = got.strings
    text = s["Resources[].Tags"]
    tags: list[dict[str, Any] | None] = [None] * len(text)
    if text.null_count < len(text):
        try:
            tags = [None if t is None else _TAGS.decode(t) for t in text.to_pylist()]
        except msgspec.DecodeError:  # (msgspec's path dead-letters the finding with its reason)
            return None
    cols = {k: s[k] for k in (*_STRS, *_NESTED, *_PRODUCT_FIELDS)}
    offsets = got.lists["Resources[]"][0]
    cols.update(_resource_columns(np.diff(offsets).astype(np.int32), {k: s[f"Resources[].{k}"] for k in _RES_STRS}, tags,
                                  _no_null(s["Resources[].Details"])))  # fmt: skip
    cols["unmapped"] = got.unmapped
    cols["raw_data"] = raw_data(raws) if got.raw is None else got.raw
    cols["uids"] = event_uids(kind, raws) if got.uids is None else got.uids
    cols.update({k: got.lists[k][0] for k in (*VULN_LISTS, _CR, _CA, _CS)})
    cols.update({p: s[p] for p, mode in (*VULN_PATHS, *_COMPLIANCE_PATHS) if mode != _fast.LIST})
    normal, provided = (numbers(s[k]) for k in _NORMALIZED)
    if normal is None or provided is None:  # (msgspec's path dead-letters the finding with its reason)
        return None
    cols[_NORMAL] = normal
    types, given = (pylists(got.lists[f"{k}[]"][0], s[f"{k}[].@"]) for k in _LISTS)
    cols[_TYPES] = [t or g for t, g in zip(types, given, strict=True)]
    return cols


def _typed_columns(fs: list[_Finding], raws: list[bytes], unmapped: pa.Array, kind: str) -> dict[str, pa.Array]:
    """The columns of :func:`_walked` from findings msgspec typed whole."""
    cols = {k: strs([getattr(f, a) for f in fs]) for k, a in _STRS.items()}
    cols.update({k: strs([_attrs(f, a) for f in fs]) for k, a in _NESTED.items()})
    pfs = [f.product_fields or _NO_FIELDS for f in fs]
    cols.update({k: strs([_text(getattr(p, a)) for p in pfs]) for k, a in _PRODUCT_FIELDS.items()})
    rs = [r for f in fs for r in f.resources or ()]
    cols.update(_resource_columns(np.fromiter((len(f.resources or ()) for f in fs), np.int32, len(fs)),
                                  {k: strs([getattr(r, a) for r in rs]) for k, a in _RES_STRS.items()}, [r.tags for r in rs],
                                  raw_json_col([r.details if bytes(r.details) else None for r in rs])))  # fmt: skip
    cols["unmapped"] = unmapped
    cols["raw_data"] = raw_data(raws)
    cols["uids"] = event_uids(kind, raws)
    cols[_TYPES] = [f.types or (f.finding_provider_fields or _NO_PROVIDER).types for f in fs]
    cols[_NORMAL] = [(f.severity or _NO_SEV).normalized for f in fs]
    return cols


def _attrs(v: Any, names: tuple[str, ...]) -> Any:
    """``v.a.b...`` (None where one is None)."""
    for name in names:
        v = getattr(v, name) if v is not None else None
    return v


def _resource_columns(lens: np.ndarray, s: dict[str, pa.Array], tags: list[dict[str, Any] | None],
                      data: pa.Array) -> dict[str, pa.Array]:  # fmt: skip
    """``resources[]`` (each ASFF resource's type, id, region, partition, tags and ``Details`` as data)
    and the first resource's region and partition, from the resources' columns (``lens`` a finding)."""
    first = pa.array(np.cumsum(lens) - lens, pa.int32(), mask=lens == 0)
    return {
        "resources": struct_lists(lens, {
            "type": s["Type"],
            "uid": s["Id"],
            "region": or_null(s["Region"]),
            "cloud_partition": s["Partition"],
            "tags": kv_list(tags),
            "data": data,
        }),
        "Resources[0].Region": s["Region"].take(first),
        "Resources[0].Partition": s["Partition"].take(first),
    }  # fmt: skip


def _whole_finding(raw: bytes) -> bool:
    """Whether msgspec types ``raw`` as a whole finding (a record the mapping does not keep, which
    :class:`_Rest` typed: a field only :class:`_Finding` types may be of the wrong type)."""
    try:
        _FINDING.decode(raw)
    except msgspec.DecodeError:
        return False
    return True


def _items(raw: bytes) -> list[bytes] | None:
    """The findings of an envelope record (``Findings``/``findings``, or an EventBridge event's
    ``detail.findings``), as they are in it (a record is compact: its slices are)."""
    try:
        env = _ENVELOPE.decode(raw)
    except msgspec.DecodeError:
        return None
    got = env.Findings if env.Findings is not None else env.findings
    if got is None and env.detail is not None:
        got = env.detail.findings
    return None if got is None else [bytes(r) for r in got]


def _remediation(part: dict[str, pa.Array]) -> pa.Array:
    """``remediation`` of the findings of ``part`` (:func:`_shared`'s): the recommendation's text and URL."""
    text = part[REC_TEXT]
    return only_where(nest({"desc": text, "references": _urls(part[REC_URL].to_pylist())}), text)


#: a finding's compliance as :func:`_compliance` reads it: (status, control id, requirements, the standards'
#: ids (None: no standard listed), the reasons' (code, description) (None: no reason listed))
_Checks = tuple[list[str | None], list[str | None], list[list[str] | None], list[list[str | None] | None],
                list[list[tuple[str | None, str | None]] | None]]  # fmt: skip


def _typed_compliance(fs: list[_Finding]) -> _Checks:
    """:data:`_Checks` of typed findings (msgspec's path)."""
    cs = [f.compliance or _NO_COMPLIANCE for f in fs]
    return ([c.status for c in cs], [c.security_control_id for c in cs], [c.related_requirements for c in cs],
            [[s.standards_id for s in c.associated_standards] if c.associated_standards else None for c in cs],
            [[(r.reason_code, r.description) for r in c.status_reasons] if c.status_reasons else None for c in cs])  # fmt: skip


def _walked_compliance(c: dict[str, Any], start: int, n: int) -> _Checks:
    """:data:`_Checks` of the walk's rows ``start`` to ``start + n``."""
    row = lambda k: c[f"{_CP}{k}"].slice(start, n).to_pylist()  # noqa: E731
    at = lambda k: c[k][start : start + n + 1]  # noqa: E731
    codes, descs = (pylists(at(_CS), c[f"{_CS}.{k}"]) for k in ("ReasonCode", "Description"))
    return (row("Status"), row("SecurityControlId"), cast(list[list[str] | None], pylists(at(_CR), c[f"{_CR}.@"])),
            [x or None for x in pylists(at(_CA), c[f"{_CA}.StandardsId"])],
            [list(zip(a, b, strict=True)) or None for a, b in zip(codes, descs, strict=True)])  # fmt: skip


def _compliance(checks: _Checks, cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """``compliance``: control, standards, requirements, status and reasons (``cols``: :func:`_shared`'s)."""
    status, ids, requirements, listed, reasons = checks
    words = [(w or "").upper() for w in status]
    sid = pa.array([_COMPLIANCE.get(w, 0) for w in words], pa.int32())
    named = or_null(either(cols[_STANDARDS], cols[_GUIDE])).to_pylist()
    standards = [[x for x in got if x] if got else [x] if (x := named[i]) else None for i, got in enumerate(listed)]
    control = either(either(strs(ids), cols[_CONTROL]), cols[_RULE])
    return {
        "compliance.control": either(control, cols[_GENERATOR]),
        "compliance.standards": str_lists(standards),
        "compliance.requirements": str_lists(requirements),
        "compliance.status_id": sid,
        "compliance.status": strs([_COMPLIANCE_CAPTION[_COMPLIANCE.get(w, 0)] for w in words]),
        "compliance.status_code": strs([w or None for w in words]),
        "compliance.status_detail": strs([r[0][0] if r else None for r in reasons]),
        "compliance.status_details": str_lists([[x for code, desc in r if (x := desc or code)] if r else None
                                                for r in reasons]),  # fmt: skip
    }


#: one evidence: (src ip, src port, src domain, dst ip, dst port, dst domain, protocol, direction_id,
#: api operation, api service, dns query, the remote address' ISP)
_Evidence = tuple[Any, ...]
_NO_EVIDENCE: _Evidence = (None,) * 12
_DIRECTION = {"IN": 1, "INBOUND": 1, "OUT": 2, "OUTBOUND": 2}


def _evidence(f: _Rest) -> _Evidence:
    """What a finding's ``Action`` (network connection, API call, DNS request, port probe) or
    ``Network`` says of the activity it saw."""
    return action_evidence(f.action, f.network)


def action_evidence(a: _Action | None, net: _Network | None) -> _Evidence:
    """:func:`_evidence` of an ``Action`` (GuardDuty's own action objects, which ASFF's copy) and a ``Network``."""
    if a is not None:
        probes = a.port_probe_action.port_probe_details if a.port_probe_action else None
        c = a.network_connection_action or (probes[0] if probes else None)
        if c is not None:
            remote, local = c.remote_ip_details, c.local_ip_details
            rport, lport = c.remote_port_details, c.local_port_details
            rip, lip = remote.ip_address_v4 if remote else None, local.ip_address_v4 if local else None
            rp, lp = rport.port if rport else None, lport.port if lport else None
            d = _DIRECTION.get((c.connection_direction or "").upper(), 0 if a.network_connection_action else 1)
            src, dst = ((rip, rp), (lip, lp)) if d != 2 else ((lip, lp), (rip, rp))
            org = (remote.organization if remote else None) or _Org()
            return (*src, None, *dst, None, c.protocol, d, None, None, None, org.isp)
        if (api := a.aws_api_call_action) is not None:
            remote = api.remote_ip_details
            org = (remote.organization if remote else None) or _Org()
            return (remote.ip_address_v4 if remote else None, None, None, None, None, None, None, 0, api.api,
                    api.service_name, None, org.isp)  # fmt: skip
        if (dns := a.dns_request_action) is not None:
            return (None, None, None, None, None, None, dns.protocol, 2, None, None, dns.domain, None)
    if net is not None:
        return (net.source_ip_v4 or net.source_ip_v6, _port(net.source_port), net.source_domain,
                net.destination_ip_v4 or net.destination_ip_v6, _port(net.destination_port), net.destination_domain,
                net.protocol, _DIRECTION.get((net.direction or "").upper(), 0), None, None, None, None)  # fmt: skip
    return _NO_EVIDENCE


#: ASFF Malware.Type -> OCSF malware classification (id, caption); another word: Other (99) with the word
_MALWARE = {"ADWARE": (1, "Adware"), "BOTNET_AGENT": (3, "Bot"), "EXPLOIT_KIT": (8, "Exploit-Kit"),
            "KEYLOGGER": (9, "Keylogger"), "RANSOMWARE": (10, "Ransomware"), "REMOTE_ACCESS": (11, "Remote-Access-Trojan"),
            "COIN_MINER": (13, "Resource-Exploitation"), "ROOTKIT": (15, "Rootkit"), "SPYWARE": (17, "Spyware"),
            "TROJAN": (18, "Trojan"), "VIRUS": (19, "Virus"), "WORM": (22, "Worm")}  # fmt: skip


def _malware(fs: list[_Rest]) -> dict[str, pa.Array]:
    """``malware[]``: each ASFF ``Malware`` entry that names it (name, path, its type's classification)."""
    if not any(f.malware for f in fs):
        return {}
    per = [[m for m in f.malware or () if m.name] for f in fs]
    ms = [m for x in per for m in x]
    got = [_MALWARE.get(m.type.upper(), (99, m.type)) if m.type else (0, "Unknown") for m in ms]
    return {"malware": struct_lists([len(x) for x in per], {
        "name": strs([m.name for m in ms]),
        "path": strs([m.path for m in ms]),
        "classification_ids": pa.array([[g[0]] for g in got], pa.list_(pa.int32())),
        "classifications": str_lists([[g[1]] for g in got]),
    })}  # fmt: skip


def _port(v: int | str | None) -> int | None:
    if isinstance(v, str):
        v = int(v) if v.isdigit() and len(v) < 6 else None
    return v if v is not None and 0 <= v < 65536 else None


def _evidences(fs: list[_Rest]) -> dict[str, pa.Array]:
    """``evidences[0]`` of a detection: its endpoints, connection, API call or DNS query."""
    return evidence_columns([_evidence(f) if f.action is not None or f.network is not None else _NO_EVIDENCE for f in fs])


def evidence_columns(ev: list[_Evidence]) -> dict[str, pa.Array]:
    """``evidences[0]`` of each row's evidence tuple (none where it is :data:`_NO_EVIDENCE`)."""
    if all(e is _NO_EVIDENCE for e in ev):
        return {}
    col = [strs, pa.int32, strs, strs, pa.int32, strs, strs, pa.int32, strs, strs, strs, strs]
    c = [strs([e[i] for e in ev]) if t is strs else pa.array([e[i] for e in ev], t()) for i, t in enumerate(col)]
    direction = pc.if_else(pc.equal(c[7], 0), pa.scalar(None, pa.int32()), c[7])
    proto = pc.utf8_lower(c[6])
    endpoint = {"src_endpoint.ip": c[0], "src_endpoint.port": c[1], "src_endpoint.domain": c[2],
                "dst_endpoint.ip": c[3], "dst_endpoint.port": c[4], "dst_endpoint.domain": c[5]}  # fmt: skip
    outbound = pc.fill_null(pc.equal(c[7], 2), False)  # (the remote address is the source unless it went out)
    none = pa.scalar(None, S)
    evid = nest({
        **endpoint,
        "src_endpoint.isp": pc.if_else(outbound, none, c[11]),
        "dst_endpoint.isp": pc.if_else(outbound, c[11], none),
        "connection_info.protocol_name": proto,
        "connection_info.direction_id": direction,
        "api.operation": c[8],
        "api.service.name": c[9],
        "query.hostname": c[10],
    })  # fmt: skip
    valid = pc.or_(pc.or_(c[0].is_valid(), c[3].is_valid()), pc.or_(c[8].is_valid(), c[10].is_valid()))
    valid = pc.or_(valid, pc.or_(c[2].is_valid(), c[5].is_valid()))
    return {"evidences": singleton_list(evid, valid)}


#: how the split dead-letters a record that is not UTF-8 (base._utf8_only)
_NOT_UTF8 = "not valid UTF-8 at byte "
_SCHEMA = re.compile(rb'"SchemaVersion"\s*:\s*"2018-10-08"')
#: ``{"Findings": []}``, with the answer's ``NextToken`` (null) or not
_EMPTY = re.compile(rb'\s*\{\s*"Findings"\s*:\s*\[\s*\]\s*(?:,\s*"NextToken"\s*:\s*null\s*)?\}\s*\Z')

__all__ = ["Asff"]
