"""Kubernetes Events (core v1, events.k8s.io/v1) read by the Kubernetes audit format, session 28.

``kubectl get events -o json``, the API's ``/api/v1/events`` and the event exporters that ship
them one a line were dead-lettered ('no format matched'; with ``--format k8s_audit`` as no audit
event). Payloads: the kubelet Event in open-telemetry/opentelemetry-collector-contrib
``pkg/stanza/docs/operators/k8s_event_input.md`` (its ``body``, as an exporter writes it, and in a
``kubectl get events -o json`` List and a watch event), and an events.k8s.io/v1 Event of a
docker-desktop cluster quoted in a public Go project's event type (``managedFields`` left out).
"""

from __future__ import annotations

import json

from secpipe import formats
from secpipe.formats.k8s_audit import K8sAudit

KUBELET = {
    "count": 1, "eventTime": None, "firstTimestamp": "2020-08-13T16:43:57Z",
    "involvedObject": {"apiVersion": "v1", "fieldPath": "spec.containers{stanza}", "kind": "Pod",
                       "name": "stanza-g6rzd", "namespace": "default", "resourceVersion": "18292818",
                       "uid": "47d965e6-4bb3-4c58-a089-1a8b16bf21b0"},
    "lastTimestamp": "2020-08-13T16:43:57Z", "message": "Pulling image \"observiq/stanza:dev\"",
    "metadata": {"creationTimestamp": "2020-08-13T16:43:57Z", "name": "stanza-g6rzd.162ae19292cebe25",
                 "namespace": "default", "resourceVersion": "29923",
                 "selfLink": "/api/v1/namespaces/default/events/stanza-g6rzd.162ae19292cebe25",
                 "uid": "d210b74b-5c58-473f-ac51-3e21f6f8e2d1"},
    "reason": "Pulling", "reportingComponent": "", "reportingInstance": "",
    "source": {"component": "kubelet", "host": "kube-master-1"}, "type": "Normal",
}  # fmt: skip

SCHEDULER_V1 = {
    "metadata": {"name": "recovery-6f86dc46dc-288hv.182a25008603f337", "namespace": "stradvision",
                 "uid": "ea24c536-a48c-4047-a0ef-a44eb092f1ae", "resourceVersion": "209584",
                 "creationTimestamp": "2025-03-06T07:08:10Z"},
    "eventTime": None, "reportingController": "default-scheduler", "reason": "Scheduled",
    "regarding": {"kind": "Pod", "namespace": "stradvision", "name": "recovery-6f86dc46dc-288hv",
                  "uid": "829030cc-8a1c-4d8f-8cc0-67d3b9c493c4", "apiVersion": "v1", "resourceVersion": "209579"},
    "note": "Successfully assigned stradvision/recovery-6f86dc46dc-288hv to docker-desktop", "type": "Normal",
    "deprecatedSource": {"component": "default-scheduler"}, "deprecatedFirstTimestamp": "2025-03-06T07:08:10Z",
    "deprecatedLastTimestamp": "2025-03-06T07:08:10Z", "deprecatedCount": 1,
}  # fmt: skip


def _rows(body: bytes) -> list[dict]:
    dec = K8sAudit().decode(body, "test")
    assert dec.dead == []
    return [r for b in dec.batches for r in b.to_pylist()]


def test_kubelet_event_is_a_base_event_with_its_reason_component_and_node() -> None:
    (row,) = _rows(json.dumps(KUBELET).encode())
    assert (row["class_uid"], row["severity_id"], row["time"]) == (0, 1, 1597337037000)
    assert row["message"] == 'Pulling image "observiq/stanza:dev"'
    assert (row["metadata"]["event_code"], row["status_detail"]) == ("Pulling", "Pulling")
    assert (row["actor"]["app_name"], row["device"]["hostname"], row["count"]) == ("kubelet", "kube-master-1", 1)
    assert row["metadata"]["original_event_uid"] == "d210b74b-5c58-473f-ac51-3e21f6f8e2d1"
    assert row["metadata"]["product"]["name"] == "Kubernetes"
    assert json.loads(row["unmapped"])["involvedObject"]["name"] == "stanza-g6rzd"


def test_event_list_watch_event_and_a_warning() -> None:
    listed = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
              "items": [dict(KUBELET, apiVersion="v1", kind="Event"),
                        dict(KUBELET, type="Warning", reason="BackOff", message="Back-off pulling image")]}  # fmt: skip
    rows = _rows(json.dumps(listed).encode())
    assert [(r["metadata"]["event_code"], r["severity_id"]) for r in rows] == [("Pulling", 1), ("BackOff", 3)]
    (row,) = _rows(json.dumps({"type": "ADDED", "object": KUBELET}).encode())
    assert row["metadata"]["event_code"] == "Pulling" and "involvedObject" in json.loads(row["unmapped"])


def test_events_k8s_io_v1_event() -> None:
    (row,) = _rows(json.dumps(SCHEDULER_V1).encode())
    assert row["message"] == "Successfully assigned stradvision/recovery-6f86dc46dc-288hv to docker-desktop"
    assert (row["actor"]["app_name"], row["count"], row["time"]) == ("default-scheduler", 1, 1741244890000)
    assert json.loads(row["unmapped"])["regarding"]["kind"] == "Pod"


def test_auto_detection_and_audit_events_unchanged() -> None:
    for doc in (KUBELET, SCHEDULER_V1, {"kind": "List", "items": [KUBELET]}):
        assert formats.detect(json.dumps(doc, indent=2).encode()).name == "k8s_audit"
    audit = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "a1", "stage": "ResponseComplete",
             "requestURI": "/api/v1/namespaces/default/events", "verb": "create", "user": {"username": "system:node:n1"},
             "objectRef": {"resource": "events", "namespace": "default"}, "requestReceivedTimestamp": "2020-08-13T16:43:57.000000Z"}  # fmt: skip
    (row,) = _rows(json.dumps(audit).encode())
    assert row["class_uid"] == 6003


def test_out_of_range_count_and_bad_time_do_not_lose_the_batch() -> None:
    odd = dict(KUBELET, count=2**40, lastTimestamp="garbage", firstTimestamp=None, metadata={})
    rows = _rows(json.dumps([odd, KUBELET]).encode())
    assert [r.get("count") for r in rows] == [None, 1]
    assert rows[0]["metadata"]["labels"] == ["secpipe:time_from_receipt"] and rows[1]["time"] == 1597337037000


#: A Gatekeeper audit violation Event as its audit manager writes it (open-policy-agent/gatekeeper
#: pkg/audit/manager.go emitEvent: the log line's fields as annotations, reason AuditViolation,
#: the message "Timestamp: ..., Resource Namespace: ..., Constraint: ..., Message: ..."), for the
#: violation of website/docs/audit.md.
GATEKEEPER_AUDIT = {
    "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "AuditViolation",
    "metadata": {"name": "default.17a2c7d3f1e0b9a1", "namespace": "gatekeeper-system",
                 "creationTimestamp": "2019-05-11T01:46:14Z",
                 "annotations": {"process": "audit", "auditTimestamp": "2019-05-11T01:46:13Z",
                                 "event_type": "violation_audited", "constraint_group": "constraints.gatekeeper.sh",
                                 "constraint_api_version": "v1beta1", "constraint_kind": "K8sRequiredLabels",
                                 "constraint_name": "ns-must-have-gk", "constraint_namespace": "",
                                 "constraint_action": "deny", "resource_group": "", "resource_api_version": "v1",
                                 "resource_kind": "Namespace", "resource_namespace": "", "resource_name": "default"}},
    "involvedObject": {"kind": "Namespace", "name": "default", "namespace": "gatekeeper-system",
                       "uid": "Namespace//default/K8sRequiredLabels//ns-must-have-gk"},
    "message": 'Timestamp: 2019-05-11T01:46:13Z, Resource Namespace: , Constraint: ns-must-have-gk, Message: you must '
               'provide labels: {"gatekeeper"}',
    "source": {"component": "gatekeeper-audit"}, "firstTimestamp": "2019-05-11T01:46:14Z",
    "lastTimestamp": "2019-05-11T01:46:14Z", "count": 1,
}  # fmt: skip


def test_gatekeeper_violation_event_is_its_compliance_finding() -> None:
    rows = _rows(json.dumps([GATEKEEPER_AUDIT, KUBELET]).encode())
    by_class = {r["class_uid"]: r for r in rows}
    assert sorted(by_class) == [0, 2003]
    finding = by_class[2003]
    assert finding["finding_info"]["uid"] == "K8sRequiredLabels/ns-must-have-gk:Namespace/default"
    assert finding["message"] == 'you must provide labels: {"gatekeeper"}'
    assert finding["time"] == 1557539173000 and finding["compliance"]["status"] == "Fail"
    assert finding["metadata"]["product"]["name"] == "Gatekeeper"


def test_an_event_whose_type_is_a_list_or_object_is_read_not_raised() -> None:
    """The kubelet Event with ``type`` (Normal/Warning: a string) a list or an object (json-key on these Events,
    session 35): looking the type up among the watch event types raised TypeError (unhashable) out of the
    mapping, and ``secpipe ingest`` stopped there. Such an Event is read as one (Normal's severity: the type is
    not Warning), the Event after it too."""
    for odd in ([], ["Warning"], {"a": 1}):
        body = json.dumps(dict(KUBELET, type=odd)).encode() + b"\n" + json.dumps(KUBELET).encode() + b"\n"
        rows = _rows(body)
        assert [r["severity_id"] for r in rows] == [1, 1]
        assert [r["metadata"]["event_code"] for r in rows] == ["Pulling", "Pulling"]
