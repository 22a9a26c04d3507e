"""Gatekeeper audit results as the constraints hold them (``status.violations``), session 28.

Gatekeeper's documented place for audit results is each constraint's ``status`` (``kubectl get
constraints -o json``); such a document was dead-lettered ('no format matched'). Payload: the
constraint with violations of open-policy-agent/gatekeeper ``website/docs/audit.md`` (its YAML as
``kubectl -o json`` writes it, in a ``List``).
"""

from __future__ import annotations

import json

from secpipe import formats
from secpipe.formats.opa import Opa

VIOLATION = {"enforcementAction": "deny", "kind": "Namespace", "message": 'you must provide labels: {"gatekeeper"}'}
CONSTRAINT = {
    "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels",
    "metadata": {"name": "ns-must-have-gk"},
    "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Namespace"]}]}, "parameters": {"labels": ["gatekeeper"]}},
    "status": {"auditTimestamp": "2019-05-11T01:46:13Z", "enforced": True,
               "violations": [dict(VIOLATION, name=n) for n in ("default", "gatekeeper-system", "kube-public", "kube-system")]},
}  # fmt: skip
LISTED = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [CONSTRAINT]}


def test_each_violation_is_an_audit_compliance_finding() -> None:
    dec = Opa().decode(json.dumps(LISTED, indent=4).encode(), "test")
    assert dec.dead == [] and dec.events == 4
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert {r["class_uid"] for r in rows} == {2003}
    assert [r["resources"][0]["name"] for r in rows] == ["default", "gatekeeper-system", "kube-public", "kube-system"]
    first = rows[0]
    assert first["time"] == 1557539173000  # the constraint's auditTimestamp
    assert first["finding_info"]["uid"] == "K8sRequiredLabels/ns-must-have-gk:Namespace/default"
    assert first["finding_info"]["title"] == 'you must provide labels: {"gatekeeper"}'
    assert first["compliance"]["control"] == "K8sRequiredLabels" and first["compliance"]["status"] == "Fail"
    assert first["resources"][0]["type"] == "Namespace"


def test_one_constraint_auto_detected_and_none_violated_is_dead_lettered() -> None:
    assert formats.detect(json.dumps(CONSTRAINT, indent=2).encode()).name == "opa"
    clean = dict(CONSTRAINT, status={"auditTimestamp": "2019-05-11T01:46:13Z", "enforced": True, "totalViolations": 0})
    dec = Opa().decode(json.dumps({"kind": "List", "items": [clean]}).encode(), "test")
    assert dec.batches == [] and len(dec.dead) == 1 and "no audit violation" in dec.dead[0].reason
