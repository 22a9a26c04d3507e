"""OCSF finding batches -> :class:`~secpipe.respond.base.Alert` objects.

Only finding classes (2001-2007) become alerts: ``vulnerability_finding`` (2002),
``compliance_finding`` (2003), ``detection_finding`` (2004), ``data_security_finding`` (2006),
``application_security_posture_finding`` (2007) ... Finding batches are small (detections, scanner reports),
so this reads the few columns it needs with ``to_pylist`` once per batch; a non-finding batch
is recognised from its ``class_uid`` column without touching rows.

Labels (what routing matches on): ``severity`` (OCSF severity caption, lower case), ``rule``
and ``rule_uid`` (analytic name/uid, else the finding title), ``title``, ``class``,
``product``, ``account`` (cloud.account.uid), ``cluster``, ``repository``, ``resource`` (the
first resource's name or uid), ``resource_type``, ``namespace``, ``image``, ``tags``
(metadata.labels + finding types, comma-joined, matched element-wise). Labels carried by the
source (``finding_info.tags`` name/value pairs, e.g. Alertmanager labels, or ``labels`` kept in
``unmapped``) are added without overriding these.

Status: a finding whose ``status_id`` is 4 (Resolved) is a resolved alert; everything else
fires. The fingerprint is ``finding_info.uid`` (stable across repeats, so repeats dedup),
falling back to ``metadata.uid``; for sources in :data:`LABEL_IDENTITY` (Alertmanager, whose
resolved notification is a different event) it is a hash of the product and the label set,
so the resolved alert meets its firing one.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.respond.base import SEVERITY_LABELS, Alert

FINDING_CLASSES = {2001: "security_finding", 2002: "vulnerability_finding", 2003: "compliance_finding",
                   2004: "detection_finding", 2005: "incident_finding", 2006: "data_security_finding",
                   2007: "application_security_posture_finding"}
#: sources whose alerts are identified by their label set (they report firing and resolved
#: as separate events with different uids): the fingerprint is a hash of product + labels.
LABEL_IDENTITY = {"alertmanager"}
RESOLVED_STATUS = 4
_WANT = ("class_uid", "class_name", "severity_id", "status_id", "time", "end_time", "message", "metadata",
         "finding_info", "cloud", "resources", "unmapped", "vulnerabilities", "compliance")


def is_finding_batch(batch: pa.RecordBatch) -> bool:
    """True when the batch holds a finding class (looked up once, not per row)."""
    if "class_uid" not in batch.schema.names or batch.num_rows == 0:
        return False
    first = batch.column("class_uid")[0].as_py()
    if first in FINDING_CLASSES:
        return True
    uniq = pc.unique(batch.column("class_uid")).to_pylist()
    return any(u in FINDING_CLASSES for u in uniq)


def dig(obj: Any, path: str) -> Any:
    """``a.b.c`` lookup through nested dicts (lists: first element); None when absent."""
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[0] if obj else None
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _unmapped(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    if isinstance(value, dict):
        return value
    try:
        out = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return out if isinstance(out, dict) else {}


def _first_str(*vals: Any) -> str:
    for v in vals:
        if v not in (None, "", []):
            return str(v)
    return ""


def _image(resources: list[dict[str, Any]] | None) -> str:
    for r in resources or []:
        if r.get("type") in ("container_image", "image"):
            labels = r.get("labels") or []
            return _first_str(labels[0] if labels else None, r.get("name"), r.get("uid"))
    return ""


def _repository(resources: list[dict[str, Any]] | None, um: dict[str, Any]) -> str:
    for r in resources or []:
        if r.get("type") in ("repository", "git_repository", "code_repository"):
            return _first_str(r.get("name"), r.get("uid"))
    return _first_str(um.get("repository"), dig(um, "repository.full_name"), dig(um, "project.path_with_namespace"))


def row_to_alert(row: dict[str, Any]) -> Alert:
    """One finding row (as a dict) -> Alert."""
    um = _unmapped(row.get("unmapped"))
    fi = row.get("finding_info") or {}
    resources = row.get("resources") or []
    res0 = resources[0] if resources else {}
    sev = SEVERITY_LABELS.get(row.get("severity_id") or 0, "unknown")
    tags = list(dig(row, "metadata.labels") or []) + list(fi.get("types") or [])
    title = _first_str(fi.get("title"), row.get("message"), "finding")
    labels = {
        "severity": sev,
        "rule": _first_str(dig(fi, "analytic.name"), fi.get("title"), row.get("message")),
        "rule_uid": _first_str(dig(fi, "analytic.uid"), fi.get("title")),
        "title": title,
        "class": FINDING_CLASSES.get(row.get("class_uid") or 0, ""),
        "product": _first_str(dig(row, "metadata.product.name")),
        "account": _first_str(dig(row, "cloud.account.uid"), um.get("account")),
        "cluster": _first_str(um.get("cluster"), dig(um, "labels.cluster")),
        "repository": _repository(resources, um),
        "resource": _first_str(res0.get("name"), res0.get("uid")),
        "resource_type": _first_str(res0.get("type")),
        "namespace": _first_str(res0.get("namespace"), dig(um, "labels.namespace")),
        "image": _image(resources),
        "tags": ",".join(dict.fromkeys(str(t) for t in tags if t)),
    }
    raw_labels = um.get("labels")
    src_labels: dict[str, Any] = dict(raw_labels) if isinstance(raw_labels, dict) else {}
    for t in fi.get("tags") or []:
        if isinstance(t, dict) and t.get("name"):
            src_labels.setdefault(str(t["name"]), t.get("value"))
    for k, v in src_labels.items():
        if isinstance(v, str) and k not in labels:
            labels[k] = v
    labels = {k: v for k, v in labels.items() if v}
    related = [e.get("uid") for e in (fi.get("related_events") or []) if isinstance(e, dict) and e.get("uid")]
    fp = _first_str(fi.get("uid"), dig(row, "metadata.uid"))
    if dig(row, "metadata.log_name") in LABEL_IDENTITY and src_labels:
        ident = orjson.dumps([dig(row, "metadata.product.name"), src_labels], option=orjson.OPT_SORT_KEYS)
        fp = hashlib.blake2b(ident, digest_size=16).hexdigest()
    cls = labels.get("class", "detection_finding")
    fuid = _first_str(fi.get("uid"), dig(row, "metadata.uid")).replace("'", "''")
    query = f"SELECT * FROM {cls} WHERE finding_info.uid = '{fuid}'"
    annotations: dict[str, Any] = {
        "summary": _first_str(row.get("message"), title),
        "description": _first_str(fi.get("desc")),
        "link": _first_str(fi.get("src_url"), um.get("generatorURL"), dig(um, "annotations.runbook_url")),
        "evidence_query": query,
    }
    if related:
        annotations["related_events"] = related[:20]
        quoted = ", ".join("'" + str(u).replace("'", "''") + "'" for u in related[:20])
        ev_class = um.get("event_class") if isinstance(um.get("event_class"), str) else "<event class>"
        annotations["related_query"] = f"SELECT * FROM {ev_class} WHERE metadata.uid IN ({quoted})"
    if row.get("vulnerabilities"):
        annotations["cve"] = _first_str(dig(row, "vulnerabilities.cve.uid"))
    annotations = {k: v for k, v in annotations.items() if v}
    resolved = row.get("status_id") == RESOLVED_STATUS
    t = int(row.get("time") or 0)
    end = int(row.get("end_time") or 0)
    return Alert(fp, labels, annotations, "resolved" if resolved else "firing", t, (end or t) if resolved else 0)


def alerts_from_batch(batch: pa.RecordBatch) -> list[Alert]:
    """Every finding row of ``batch`` as an Alert (empty for non-finding batches)."""
    if not is_finding_batch(batch):
        return []
    cols = [c for c in _WANT if c in batch.schema.names]
    sub = batch.select(cols)
    mask = pc.is_in(sub.column("class_uid"), value_set=pa.array(list(FINDING_CLASSES), pa.int32()))
    sub = sub.filter(mask)
    return [row_to_alert(r) for r in sub.to_pylist()]
