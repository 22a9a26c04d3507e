"""trivy-operator's reports: the ``aquasecurity.github.io/v1alpha1`` custom resources it writes per
Kubernetes workload (``kubectl get vulnerabilityreports -A -o json``, one report as its webhook
integration posts it, or a ``kind: List`` of them).

Kinds read (trivy-operator ``pkg/apis/aquasecurity/v1alpha1``): VulnerabilityReport,
ClusterVulnerabilityReport, ImageVulnerabilityReport (``report.vulnerabilities[]``),
ExposedSecretReport (``report.secrets[]``), ConfigAuditReport, ClusterConfigAuditReport,
RbacAssessmentReport, ClusterRbacAssessmentReport, InfraAssessmentReport,
ClusterInfraAssessmentReport (``report.checks[]``; Starboard-era reports without ``checks`` list
them as ``podChecks`` and ``containerChecks``); ClusterComplianceReport (``status.detailReport`` or
``status.summaryReport``: read as the Trivy compliance report it was made from, see
:func:`as_compliance`) and, before trivy-operator 0.9, ClusterComplianceDetailReport
(:func:`as_detail_compliance`). SbomReport and ClusterSbomReport hold a package inventory, a CycloneDX
BOM (``report.components``): it is read by the sbom format, so, as a BOM without vulnerabilities, it
holds no event (no OCSF class here records a container image's packages; Software Inventory Info
describes a device), and is no dead letter either. Starboard's (trivy-operator's predecessor) CISKubeBenchReport
(kube-bench's sections of a node: each result a misconfiguration, :func:`_bench`) and KubeHunterReport
(kube-hunter's vulnerabilities of the cluster, :func:`_hunted`) are read too, its ``starboard.resource.*``
labels naming the workload as trivy-operator's do. The operator's webhook message with
``webhookSendDeletedReports`` (``{"verb", "operatorObject"}``) is read as its report; a ``delete`` closes
its findings (:func:`closed`).

Each report is rewritten as the ``trivy k8s`` report of its one workload and mapped by
:class:`~secpipe.formats.trivy.Trivy` as such, so a finding has the columns a Trivy report gives it:
the workload (labels ``trivy-operator.resource.kind/name/namespace``, else the owner reference) is
``resources[0]`` with the image (``registry.server/artifact.repository:tag``, its digest, the OS) as
its repo tags, digests and ``os``; ``report.updateTimestamp`` (else the report's
creationTimestamp) is the time; ``scanner.version`` the product version; the report's
``metadata.uid`` the ``correlation_uid``. Keys are renamed to Trivy's (a vulnerability's
``resource`` is the package, ``primaryLink`` the PrimaryURL, ``links`` the References,
``cvsssource`` the SeveritySource, ``packagePURL``/``packagePath`` the package's purl and path;
``target``/``class``/``packageType`` its result, an empty target the image); a check is a misconfiguration (``checkID``,
``success`` PASS/FAIL, ``messages`` joined as the Message, ``remediation`` the Resolution, ``category``
its Type). A key Trivy's report does not have (``score``, a check's ``scope`` ...) is kept as it is and
stays in ``unmapped``; ``raw_data`` is the finding as rewritten. A document item of another kind is
dead-lettered with the reason.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import captions
from secpipe.formats.base import event_uids
from secpipe.formats.base import object_or_empty as _obj
from secpipe.formats.base import text_or_none as _text

#: the report kinds read, by the list of findings they hold
_VULN_KINDS = frozenset(("VulnerabilityReport", "ClusterVulnerabilityReport", "ImageVulnerabilityReport"))
_SECRET_KINDS = frozenset(("ExposedSecretReport",))
_CHECK_KINDS = frozenset(("ConfigAuditReport", "ClusterConfigAuditReport", "RbacAssessmentReport",
                          "ClusterRbacAssessmentReport", "InfraAssessmentReport", "ClusterInfraAssessmentReport"))  # fmt: skip
COMPLIANCE = "ClusterComplianceReport"
DETAIL = "ClusterComplianceDetailReport"  # (trivy-operator before 0.9: a compliance report's failures)
#: package inventories (``report.components``: a CycloneDX BOM), read by the sbom format
SBOM_KINDS = frozenset(("SbomReport", "ClusterSbomReport"))
#: Starboard's (trivy-operator's predecessor) reports of kube-bench (a node's CIS benchmark) and kube-hunter
_BENCH, _HUNTER = "CISKubeBenchReport", "KubeHunterReport"
KINDS = _VULN_KINDS | _SECRET_KINDS | _CHECK_KINDS | SBOM_KINDS | {COMPLIANCE, DETAIL, _BENCH, _HUNTER}
_GROUP = "aquasecurity.github.io/"

_VULN_KEYS = {"vulnerabilityID": "VulnerabilityID", "resource": "PkgName", "installedVersion": "InstalledVersion",
              "fixedVersion": "FixedVersion", "publishedDate": "PublishedDate", "lastModifiedDate": "LastModifiedDate",
              "severity": "Severity", "title": "Title", "description": "Description", "cvsssource": "SeveritySource",
              "primaryLink": "PrimaryURL", "links": "References", "cvss": "CVSS", "packagePath": "PkgPath"}  # fmt: skip
_SECRET_KEYS = {"ruleID": "RuleID", "title": "Title", "category": "Category", "severity": "Severity", "match": "Match"}
_CHECK_KEYS = {"checkID": "ID", "title": "Title", "description": "Description", "severity": "Severity",
               "category": "Type", "remediation": "Resolution"}  # fmt: skip
_RESULT_KEYS = ("target", "class", "packageType")
_SUMMARY_KEYS = {"id": "ID", "name": "Name", "description": "Description", "severity": "Severity", "totalFail": "TotalFail",
                 "failTotal": "TotalFail", "passTotal": "TotalPass"}  # fmt: skip


#: the YAML of such a report (``kubectl get -o yaml``): its apiVersion and kind lines (a List's items' too)
_YAML_API = re.compile(rb'(?m)^[ \t-]*apiVersion:[ \t]*["\']?aquasecurity\.github\.io/')
_YAML_KIND = re.compile(rb'(?m)^[ \t-]*kind:[ \t]*["\']?(?:' + b"|".join(k.encode() for k in sorted(KINDS)) + rb')\b')


def is_operator(head: bytes) -> bool:
    """Whether a document's head opens a trivy-operator report or a list of them, as JSON or YAML."""
    h = bytes(head[:8192])  # (a memoryview body's head is one too)
    if b'"aquasecurity.github.io/' in h:
        return any(f'"{k}"'.encode() in h for k in KINDS)
    return b"aquasecurity.github.io/" in h and _YAML_API.search(h) is not None and _YAML_KIND.search(h) is not None


def is_json(data: bytes) -> bool:
    """Whether a report document is JSON (else the YAML ``kubectl get -o yaml`` writes)."""
    return bytes(data[:4096]).lstrip()[:1] in (b"{", b"[")


@functools.cache
def _loader() -> Any:
    """PyYAML's safe loader (libyaml's where built) resolving no timestamps: a value stays the string
    kubectl wrote (it quotes one that would read as another type, as the API's JSON has it)."""
    import yaml  # (only for a YAML report: no start-up cost)

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
                 for k, v in base.yaml_implicit_resolvers.items()}  # fmt: skip
    return type("KubectlYamlLoader", (base,), {"yaml_implicit_resolvers": resolvers})


#: how deep a YAML report may nest (a Kubernetes object is a few levels deep; libyaml's parse of deeper
#: flow nesting grows with the square of the depth: 200,000 levels took minutes)
_YAML_DEPTH = 64


def from_yaml(data: bytes) -> list[Any]:
    """The objects of a YAML stream (one report, a ``kind: List``, ``---``-separated reports). Raises
    ValueError with the reason: not YAML, an alias (kubectl writes none, and aliases would be expanded
    without bound when the report is encoded again), or nesting deeper than ``_YAML_DEPTH``. PyYAML
    reads ~0.5 MB a CPU-second (its constructor is Python): ``kubectl get -o json`` is the fast path."""
    import yaml

    loader = _loader()
    opens, closes = (yaml.SequenceStartEvent, yaml.MappingStartEvent), (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    try:
        depth = 0
        for event in yaml.parse(data, Loader=loader):  # (checked first, in libyaml's pass: ~15% of the load)
            if isinstance(event, opens):
                depth += 1
                if depth > _YAML_DEPTH:
                    msg = f"YAML nested deeper than {_YAML_DEPTH} levels: not read"
                    raise ValueError(msg)
            elif isinstance(event, closes):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                msg = "a YAML alias (kubectl writes none): not read"
                raise ValueError(msg)
        return [d for d in yaml.load_all(data, Loader=loader) if d is not None]
    except yaml.YAMLError as exc:
        msg = f"not YAML: {exc}"
        raise ValueError(msg) from exc


def items(doc: Any) -> list[tuple[Any, str | None]]:
    """The objects of a document with the verb they came with: a ``kind: List`` (or any object with
    ``items``)'s items, else the one; trivy-operator's webhook message with ``webhookSendDeletedReports``
    (``{"verb": "update"|"delete", "operatorObject": <report>}``, pkg/webhook) its report and verb."""
    if isinstance(doc, dict) and isinstance(doc.get("items"), list) and "report" not in doc:
        return [(x, None) for x in doc["items"]]
    if isinstance(doc, dict) and isinstance(doc.get("operatorObject"), dict) and "report" not in doc:
        return [(doc["operatorObject"], _text(doc.get("verb")))]
    return [(doc, None)]


def closed(batch: pa.RecordBatch, kind: str) -> pa.RecordBatch:
    """The findings of a report the operator deleted (its webhook message's verb ``delete``: the workload is
    gone or its report replaced): activity Close (3), status Archived (5), and an event of their own (the
    uid of the report's event hashed with the verb; a redelivery collapses as before)."""
    n = batch.num_rows
    cls = str(batch.column("class_name")[0]).lower().replace(" ", "_")

    def put(b: pa.RecordBatch, name: str, arr: pa.Array) -> pa.RecordBatch:
        return b.set_column(b.schema.get_field_index(name), b.schema.field(name), arr.cast(b.schema.field(name).type))

    act, stat = pa.array([3] * n, pa.int32()), pa.array([5] * n, pa.int32())
    meta = batch.column("metadata")
    uids = event_uids(kind, [u.encode() for u in meta.field("uid").to_pylist()], ["delete"] * n)
    meta = pa.StructArray.from_arrays([uids if f.name == "uid" else meta.field(f.name) for f in meta.type],
                                      fields=list(meta.type))  # fmt: skip
    for name, arr in (("activity_id", act), ("activity_name", captions(cls, "activity_id", act)),
                      ("type_uid", pc.add(pc.multiply(batch.column("class_uid").cast(pa.int64()), 100), 3)),
                      ("status_id", stat), ("status", captions(cls, "status_id", stat)), ("metadata", meta)):  # fmt: skip
        batch = put(batch, name, arr)
    return batch


def why_not(item: Any) -> str | None:
    """Why an item is no report read here (None when it is one)."""
    if not isinstance(item, dict):
        return f"a list item is a JSON {type(item).__name__}, not a report object"
    kind, api = item.get("kind"), item.get("apiVersion")
    if not (isinstance(api, str) and api.startswith(_GROUP)) or kind not in KINDS:
        return f"apiVersion {api!r} kind {kind!r} is no trivy-operator report ({', '.join(sorted(KINDS))})"
    if kind == COMPLIANCE:
        status = item.get("status")
        if not isinstance(status, dict) or not (isinstance(status.get("detailReport") or status.get("summaryReport"), dict)
                                                or isinstance(status.get("controlCheck"), list)):
            return f"{kind} without status.detailReport, summaryReport or controlCheck (not generated yet)"
    elif not isinstance(item.get("report"), dict):
        return f"{kind} without a report object"
    elif kind in SBOM_KINDS and not isinstance(item["report"].get("components"), dict):
        return f"{kind} without report.components (its CycloneDX BOM)"
    return None


def _renamed(obj: Any, keys: dict[str, str]) -> Any:
    """An object with its keys in Trivy's spelling (others as they are; a non-object as it is)."""
    return {keys.get(k, k): v for k, v in obj.items()} if isinstance(obj, dict) else obj


def _workload(item: dict[str, Any]) -> dict[str, Any]:
    """The report's workload (namespace, kind, name) and image, as a ``trivy k8s`` resource."""
    meta = _obj(item.get("metadata"))
    labels = _obj(meta.get("labels"))
    owners = meta.get("ownerReferences") if isinstance(meta.get("ownerReferences"), list) else []
    owner = owners[0] if owners and isinstance(owners[0], dict) else {}
    rep = item["report"]
    art = _obj(rep.get("artifact"))
    server = _text(_obj(rep.get("registry")).get("server"))
    repo = _text(art.get("repository"))
    image = f"{server}/{repo}" if server and repo else repo
    os_ = _obj(rep.get("os"))
    md: dict[str, Any] = {}
    if image and _text(art.get("tag")):
        md["RepoTags"] = [f"{image}:{art['tag']}"]
    elif image:
        md["RepoTags"] = [image]
    if image and _text(art.get("digest")):
        md["RepoDigests"] = [f"{image}@{art['digest']}"]
    if _text(os_.get("family")):
        md["OS"] = {"Family": os_["family"], "Name": os_.get("name")} | ({"EOSL": True} if os_.get("eosl") else {})
    def label(key: str) -> str | None:  # (trivy-operator's label, else Starboard's)
        return _text(labels.get(f"trivy-operator.resource.{key}")) or _text(labels.get(f"starboard.resource.{key}"))

    return {
        "Namespace": label("namespace") or _text(meta.get("namespace")),
        "Kind": label("kind") or _text(owner.get("kind")) or item.get("kind"),
        "Name": label("name") or _text(owner.get("name")) or _text(meta.get("name")),
        "Metadata": md or None,
    }


def _results(item: dict[str, Any], w: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's findings as Trivy results (vulnerabilities and secrets by their target)."""
    kind, rep = item["kind"], item["report"]
    if kind == _BENCH:
        return _bench(rep, w)
    if kind == _HUNTER:
        found = rep.get("vulnerabilities")
        rep = {"vulnerabilities": [_hunted(v) for v in (found if isinstance(found, list) else ())]}
    if kind in _CHECK_KINDS:
        checks = rep.get("checks")
        if not isinstance(checks, list):  # Starboard-era: pod checks and checks per container
            per = rep.get("containerChecks")
            checks = [*(rep.get("podChecks") or ()), *(c for cs in (per.values() if isinstance(per, dict) else ())
                                                        for c in (cs if isinstance(cs, list) else ()))]  # fmt: skip
        misconfs = []
        for c in checks:
            m = _renamed(c, _CHECK_KEYS)
            if isinstance(c, dict):
                m.pop("success", None)
                m.pop("messages", None)
                if isinstance(c.get("success"), bool):
                    m["Status"] = "PASS" if c["success"] else "FAIL"
                msgs = c.get("messages")
                if isinstance(msgs, list) and msgs:
                    m["Message"] = "; ".join(str(x) for x in msgs)
            misconfs.append(m)
        return [{"Target": f"{w['Kind']}/{w['Name']}", "Class": "config", "Type": "kubernetes",
                 "Misconfigurations": misconfs}] if misconfs else []  # fmt: skip
    key, keys, field = ("vulnerabilities", _VULN_KEYS, "Vulnerabilities") if kind in _VULN_KINDS | {_HUNTER} else \
        ("secrets", _SECRET_KEYS, "Secrets")
    found = rep.get(key)
    image = ((w["Metadata"] or {}).get("RepoTags") or [None])[0]  # a finding without a target is the image's
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in found if isinstance(found, list) else ():
        where = tuple(f.get(k) for k in _RESULT_KEYS) if isinstance(f, dict) else (None, None, None)
        r = out.get(where)
        if r is None:
            target, cls, ptype = where
            r = out[where] = {"Target": _text(target) or image, "Class": cls or ("secret" if field == "Secrets" else None),
                              "Type": ptype, field: []}  # fmt: skip
        x = _renamed(f, keys)
        if isinstance(f, dict):
            for k in _RESULT_KEYS:
                x.pop(k, None)
            if _text(f.get("packagePURL")):
                x.pop("packagePURL")
                x["PkgIdentifier"] = {"PURL": f["packagePURL"]}
        r[field].append(x)
    return list(out.values())


def _bench(rep: dict[str, Any], w: dict[str, Any]) -> list[dict[str, Any]]:
    """A CISKubeBenchReport's results (kube-bench's JSON: ``sections[].tests[].results[]``) as the
    misconfigurations of its node: the test number its ID, the description its Title, kube-bench's status
    (PASS, FAIL, WARN, INFO) its Status, the remediation its Resolution, the section's text its Type; the
    group (``section``), ``node_type`` and ``scored`` kept."""
    misconfs = []
    for sec in rep.get("sections") or ():
        sec = _obj(sec)
        for t in sec.get("tests") or ():
            t = _obj(t)
            for r in t.get("results") or ():
                if not isinstance(r, dict):
                    misconfs.append(r)  # (dead-lettered as a misconfiguration of the wrong shape)
                    continue
                m = {"ID": r.get("test_number"), "Title": r.get("test_desc"), "Status": r.get("status"),
                     "Resolution": r.get("remediation"), "Type": sec.get("text"), "section": t.get("section"),
                     "node_type": sec.get("node_type"), "scored": r.get("scored")}  # fmt: skip
                misconfs.append({k: v for k, v in m.items() if v is not None})
    return [{"Target": f"{w['Kind']}/{w['Name']}", "Class": "config", "Type": "kube-bench",
             "Misconfigurations": misconfs}] if misconfs else []  # fmt: skip


def _hunted(v: Any) -> Any:
    """A KubeHunterReport's vulnerability in the operator's vulnerability spelling: ``vid`` (kube-hunter's
    KHV id; its vulnerability's name where it gives none, ``None``) the vulnerabilityID, ``vulnerability``
    the title, ``avd_reference`` the primary link, ``location`` the target; category, evidence, hunter kept."""
    if not isinstance(v, dict):
        return v
    vid = _text(v.get("vid") or v.get("id"))
    out = {k: x for k, x in v.items() if k not in ("vid", "id", "vulnerability", "avd_reference", "location")}
    return out | {"vulnerabilityID": vid if vid and vid != "None" else v.get("vulnerability"), "title": v.get("vulnerability"),
                  "primaryLink": v.get("avd_reference"), "target": v.get("location")}  # fmt: skip


def as_trivy(item: dict[str, Any]) -> bytes:
    """One report rewritten as the ``trivy k8s`` JSON report of its workload (see the module docstring)."""
    rep = item["report"]
    meta = _obj(item.get("metadata"))
    w = _workload(item)
    scanner = _obj(rep.get("scanner"))
    when = _text(rep.get("updateTimestamp")) or _text(rep.get("generatedAt")) or _text(meta.get("creationTimestamp"))
    doc: dict[str, Any] = {"ClusterName": "", "CreatedAt": when}
    if _text(scanner.get("version")):
        doc["Trivy"] = {"Version": scanner["version"]}
    if _text(meta.get("uid")):
        doc["ReportID"] = meta["uid"]
    doc["Resources"] = [w | {"Results": _results(item, w)}]
    return msgspec.json.encode(doc)


def as_detail_compliance(item: dict[str, Any]) -> bytes:
    """A ClusterComplianceDetailReport (trivy-operator before 0.9: ``report.controlCheck[]``, each control's
    ``checkResults[]`` of one check (``id``) and object kind (``objectType``) with the ``details`` of each
    resource, its report's ``name``, ``namespace``, ``status`` and ``msg``) as the ``--report all`` Trivy
    compliance report it stands for: a detail is a misconfiguration (the check, its status, the message;
    ``objectType`` kept) of the target ``<namespace>/<name>`` (a detail without a resource, e.g. "Resource
    do not exist in cluster", of its objectType); the spec is ``report.type`` (name, description, version),
    the time ``updateTimestamp``."""
    rep = item["report"]
    spec = _obj(rep.get("type"))
    controls: list[Any] = []
    for c in rep.get("controlCheck") or ():
        if not isinstance(c, dict):
            controls.append(c)  # (dead-lettered as a control of the wrong shape)
            continue
        results = []
        for cr in c.get("checkResults") or ():
            cr = _obj(cr)
            for d in cr.get("details") or ():
                d = _obj(d)
                name, ns = _text(d.get("name")), _text(d.get("namespace"))
                target = f"{ns}/{name}" if ns and name else name or _text(cr.get("objectType"))
                m = {"ID": cr.get("id"), "Status": d.get("status"), "Message": d.get("msg"), "objectType": cr.get("objectType")}
                results.append({"Target": target, "Class": "config", "Type": "kubernetes",
                                "Misconfigurations": [{k: v for k, v in m.items() if v is not None}]})  # fmt: skip
        controls.append({"ID": c.get("id"), "Name": c.get("name"), "Description": c.get("description"),
                         "Severity": c.get("severity"), "Results": results})  # fmt: skip
    return msgspec.json.encode({"CreatedAt": _text(rep.get("updateTimestamp")), "ID": spec.get("name"),
                                "Title": spec.get("description"), "Version": spec.get("version"), "Results": controls})  # fmt: skip


def as_compliance(item: dict[str, Any]) -> bytes:
    """A ClusterComplianceReport's status rewritten as the Trivy compliance report it was made from
    (:mod:`._trivy_compliance`): ``detailReport`` (each failed check a misconfiguration of the target it
    names; the operator's ``{"success": true}`` placeholder of a passed control no finding) as a
    ``--report all`` report, else ``summaryReport`` (its ``controlCheck`` list; before trivy-operator
    0.10 ``status.controlCheck`` with ``failTotal``) as a summary; ``updateTimestamp`` its time."""
    status = item["status"]
    detail, summary = status.get("detailReport"), status.get("summaryReport")
    doc: dict[str, Any] = {"CreatedAt": _text(status.get("updateTimestamp"))}
    if isinstance(detail, dict):
        doc |= {"ID": detail.get("id"), "Title": detail.get("title"), "Description": detail.get("description"),
                "Version": detail.get("version"), "RelatedResources": detail.get("relatedVersion"), "Results": []}  # fmt: skip
        for c in detail.get("results") or ():
            if not isinstance(c, dict):
                doc["Results"].append(c)  # (dead-lettered as a control of the wrong shape)
                continue
            results = []
            for chk in c.get("checks") or ():
                if isinstance(chk, dict) and chk.get("success") is True and not chk.get("checkID"):
                    continue  # the placeholder of a control no check failed
                m = _renamed(chk, _CHECK_KEYS)
                if isinstance(chk, dict):
                    m.pop("target", None)
                    m.pop("messages", None)
                    m.pop("success", None)
                    m["Status"] = "PASS" if chk.get("success") is True else "FAIL"
                    msgs = chk.get("messages")
                    if isinstance(msgs, list) and any(msgs):
                        m["Message"] = "; ".join(str(x) for x in msgs if x)
                target = chk.get("target") if isinstance(chk, dict) else None
                results.append({"Target": target, "Class": "config", "Type": "kubernetes", "Misconfigurations": [m]})
            doc["Results"].append({"ID": c.get("id"), "Name": c.get("name"), "Description": c.get("description"),
                                   "DefaultStatus": c.get("status"), "Severity": c.get("severity"), "Results": results})  # fmt: skip
    else:  # (before trivy-operator 0.10: the controls as status.controlCheck, their spec's name as its id)
        spec = _obj(item.get("spec"))
        named = _obj(spec.get("compliance")) or spec
        summary = summary if isinstance(summary, dict) else {"controlCheck": status.get("controlCheck")}
        doc |= {"ID": summary.get("id") or named.get("id") or named.get("name"),
                "Title": summary.get("title") or named.get("title") or named.get("description"),
                "SummaryControls": [_renamed(c, _SUMMARY_KEYS) for c in summary.get("controlCheck") or ()]}  # fmt: skip
    return msgspec.json.encode(doc)


__all__ = ["COMPLIANCE", "DETAIL", "KINDS", "SBOM_KINDS", "as_compliance", "as_detail_compliance", "as_trivy", "closed",
           "from_yaml", "is_json", "is_operator", "items", "why_not"]
