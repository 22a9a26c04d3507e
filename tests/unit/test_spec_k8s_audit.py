"""Kubernetes audit shapes from the audit.k8s.io API reference, beyond the visible samples.

Sources (expected values written from these texts and the OCSF 1.8.0 schema):
- kubernetes/website ``reference/config-api/apiserver-audit.v1.md``: Event (level, auditID,
  stage, requestURI, verb, user{username,uid,groups,extra}, impersonatedUser, sourceIPs,
  userAgent, objectRef, responseStatus (meta/v1 Status: status, message, reason, details,
  code), requestObject, responseObject, requestReceivedTimestamp, stageTimestamp,
  annotations) and EventList (items). Stages: RequestReceived, ResponseStarted,
  ResponseComplete, Panic.
- kubernetes "Auditing" task page: the webhook backend POSTs EventLists; the log backend writes
  one JSON Event per line; the authorizer adds the ``authorization.k8s.io/decision``
  (allow|forbid) and ``authorization.k8s.io/reason`` audit annotations.
"""

from __future__ import annotations

import json

from secpipe import formats
from tests.unit.spec_support import detected, rows

EVENT = {
    "level": "Metadata", "auditID": "6c1c4ff5-7d1e-4c3a-9f58-1f6f5c1e0d01", "stage": "ResponseComplete",
    "requestURI": "/api/v1/namespaces/prod/pods/web/exec?command=sh&container=web&stdin=true",
    "verb": "create",
    "user": {"username": "system:serviceaccount:ci:deployer", "uid": "0d3c",
             "groups": ["system:serviceaccounts", "system:authenticated"],
             "extra": {"authentication.kubernetes.io/pod-name": ["runner-1"]}},
    "impersonatedUser": {"username": "bob", "groups": ["dev"]},
    "sourceIPs": ["10.0.0.7", "192.168.1.1"], "userAgent": "kubectl/v1.29.2 (linux/amd64)",
    "objectRef": {"resource": "pods", "namespace": "prod", "name": "web", "apiVersion": "v1", "subresource": "exec"},
    "responseStatus": {"metadata": {}, "status": "Failure", "message": 'pods "web" is forbidden: User "bob" cannot create',
                       "reason": "Forbidden", "details": {"name": "web", "kind": "pods"}, "code": 403},
    "requestReceivedTimestamp": "2024-03-01T10:00:00.123456Z", "stageTimestamp": "2024-03-01T10:00:00.130000Z",
    "annotations": {"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": ""},
}  # fmt: skip


def test_webhook_eventlist_with_impersonation_and_forbidden_status() -> None:
    doc = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": [EVENT]}).encode()
    assert detected(doc) == "k8s_audit"
    (r,) = rows(formats.get("k8s_audit").decode(doc, "webhook"))
    assert r["class_uid"] == 6003 and r["activity_id"] == 1  # create
    assert r["status"] == "Failure" and r["status_code"] == "403"
    assert r["status_detail"] == 'pods "web" is forbidden: User "bob" cannot create'
    assert r["actor"]["user"]["name"] == "system:serviceaccount:ci:deployer"
    assert r["src_endpoint"]["ip"] == "10.0.0.7" and r["src_endpoint"]["intermediate_ips"] == ["192.168.1.1"]
    assert r["time"] == 1709287200123 and r["end_time"] == 1709287200130
    assert r["authorizations"] == [{"decision": "denied", "policy": None}]  # no reason: no policy object
    assert r["action_id"] == 2 and r["action"] == "Denied"
    left = json.loads(r["unmapped"])
    assert left["impersonatedUser"] == EVENT["impersonatedUser"]
    assert left["user"] == {"extra": EVENT["user"]["extra"]}
    assert left["responseStatus"] == {"status": "Failure", "reason": "Forbidden", "details": {"name": "web", "kind": "pods"}}
    assert left["objectRef"]["subresource"] == "exec"


def test_log_backend_ndjson_all_stages() -> None:
    stages = []
    for i, stage in enumerate(("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")):
        ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": f"id-{i}",
              "stage": stage, "requestURI": "/api/v1/pods?watch=true", "verb": "watch", "user": {"username": "u"},
              "sourceIPs": ["::1"], "requestReceivedTimestamp": "2024-03-01T10:00:00.000000Z",
              "stageTimestamp": "2024-03-01T10:00:01.000000Z"}
        if stage == "ResponseComplete":
            ev["responseStatus"] = {"metadata": {}, "code": 200}
        if stage == "Panic":  # a panic status carries no code, only status/reason
            ev["responseStatus"] = {"metadata": {}, "status": "Failure", "reason": "InternalError"}
        stages.append(json.dumps(ev))
    doc = ("\n".join(stages) + "\n").encode()
    assert detected(doc) == "k8s_audit"
    got = rows(formats.get("k8s_audit").decode(doc, "audit.log"))
    assert [r["status"] for r in got] == ["Unknown", "Unknown", "Success", "Failure"]
    assert {r["activity_id"] for r in got} == {2} and {r["metadata"]["log_version"] for r in got} == {"audit.k8s.io/v1"}
    assert [json.loads(r["unmapped"])["stage"] for r in got] == ["RequestReceived", "ResponseStarted", "ResponseComplete",
                                                                 "Panic"]


def test_allow_decision_with_escaped_reason() -> None:
    reason = 'RBAC: allowed by ClusterRoleBinding "admin" of ClusterRole "cluster-admin" to User "alice"'
    ev = {**EVENT, "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": reason,
                                   "pod-security.kubernetes.io/enforce-policy": "restricted:latest"},
          "responseStatus": {"metadata": {}, "code": 201}}
    (r,) = rows(formats.get("k8s_audit").decode(json.dumps(ev).encode(), "spec"))
    # the RBAC binding the reason names is the policy's name (OCSF policy needs a name or uid)
    assert r["authorizations"] == [{"decision": "allowed", "policy": {"name": "admin", "desc": reason}}]
    assert r["action"] == "Allowed" and r["status"] == "Success"
    assert "responseStatus" not in json.loads(r["unmapped"])  # nothing beyond the mapped code


def test_v1beta1_event_and_empty_eventlists() -> None:
    ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1beta1", "metadata": {"creationTimestamp": "2019-01-01T00:00:00Z"},
          "level": "Metadata", "timestamp": "2019-01-01T00:00:00Z", "auditID": "b1", "stage": "ResponseComplete",
          "requestURI": "/apis/apps/v1/namespaces/x/deployments/d", "verb": "delete", "user": {"username": "admin"},
          "objectRef": {"resource": "deployments", "namespace": "x", "name": "d", "apiGroup": "apps", "apiVersion": "v1"},
          "responseStatus": {"metadata": {}, "status": "Success", "details": {"name": "d", "group": "apps"}, "code": 200},
          "requestReceivedTimestamp": "2019-01-01T00:00:00.000001Z", "stageTimestamp": "2019-01-01T00:00:00.000002Z"}
    (r,) = rows(formats.get("k8s_audit").decode(json.dumps(ev).encode(), "spec"))
    assert r["metadata"]["log_version"] == "audit.k8s.io/v1beta1" and r["activity_id"] == 4
    assert r["api"]["group"]["name"] == "apps" and r["status"] == "Success"
    for items in ("[]", "null"):
        res = formats.get("k8s_audit").decode(b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":'
                                              + items.encode() + b"}", "webhook")  # fmt: skip
        assert (res.events, res.dead, rows(res)) == (0, [], [])


def test_not_an_audit_event_is_dead_lettered() -> None:
    res = formats.get("k8s_audit").decode(b'{"kind":"Policy","apiVersion":"audit.k8s.io/v1","rules":[]}', "spec")
    assert res.events == 1 and [d.reason for d in res.dead] == [
        "not a Kubernetes audit event: kind 'Policy' is not an audit Event"]


def test_non_resource_request_verbs_are_http_methods() -> None:
    lines = [json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": f"n-{verb}",
                         "stage": "ResponseComplete", "requestURI": "/healthz", "verb": verb, "user": {"username": "probe"},
                         "responseStatus": {"metadata": {}, "code": 200},
                         "requestReceivedTimestamp": "2024-03-01T10:00:00Z", "stageTimestamp": "2024-03-01T10:00:00Z"})
             for verb in ("get", "head", "post", "put", "options", "impersonate")]  # fmt: skip
    got = rows(formats.get("k8s_audit").decode("\n".join(lines).encode(), "spec"))
    assert [r["activity_id"] for r in got] == [2, 2, 1, 3, 2, 99]
    assert {r["resources"] is None for r in got} == {True}  # no objectRef on non-resource requests


LEGACY = (
    # k8s.io/apiserver pkg/audit/format.go EventString, written by --audit-log-format=legacy
    b'2024-03-01T10:00:00.123456789Z AUDIT: id="c939d2a7-1c37-4ef1-b2f7-4ba9b1e43b53" stage="ResponseComplete" '
    b'ip="127.0.0.1" method="list" user="admin" groups="\\"system:masters\\",\\"system:authenticated\\"" as="<self>" '
    b'asgroups="<lookup>" user-agent="kubectl/v1.29.2" namespace="default" uri="/api/v1/namespaces/default/pods" '
    b'response="200"\n'
    b'2024-03-01T10:00:01.5-04:00 AUDIT: id="x2" stage="RequestReceived" ip="10.0.0.1" method="create" user="alice" '
    b'groups="\\"dev\\"" as="bob" asgroups="\\"ops\\"" user-agent="curl/8" namespace="<none>" uri="/apis/x" '
    b'response="<deferred>"\n'
)


def test_legacy_log_format_lines() -> None:
    assert detected(LEGACY) == "k8s_audit"
    res = formats.get("k8s_audit").decode(LEGACY, "audit.log")
    assert res.events == 2 and not res.dead
    a, b = rows(res)
    assert a["metadata"]["original_event_uid"] == "c939d2a7-1c37-4ef1-b2f7-4ba9b1e43b53" and a["activity_id"] == 2
    assert a["actor"]["user"]["name"] == "admin"
    assert [g["name"] for g in a["actor"]["user"]["groups"]] == ["system:masters", "system:authenticated"]
    assert a["src_endpoint"]["ip"] == "127.0.0.1" and a["status"] == "Success" and a["status_code"] == "200"
    assert a["http_request"]["url"]["path"] == "/api/v1/namespaces/default/pods"
    assert a["time"] == 1709287200123
    assert json.loads(a["unmapped"])["legacy_line"] == LEGACY.split(b"\n")[0].decode()
    assert b["time"] == 1709301601500 and b["status"] == "Unknown" and b["resources"] is None  # <none>, <deferred>
    assert json.loads(b["unmapped"])["impersonatedUser"] == {"username": "bob", "groups": ["ops"]}
    bad = formats.get("k8s_audit").decode(b"2024-03-01T10:00:00Z something else\n", "audit.log")
    assert [d.reason for d in bad.dead] == ["not a JSON object"]
