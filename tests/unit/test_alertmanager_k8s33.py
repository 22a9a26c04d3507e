"""The Kubernetes objects an alert's labels name are its finding's ``resources`` (webhook, API and Prometheus
answers alike: :func:`secpipe.formats.alertmanager_api.k8s_resources`). Input: tests/cases/runtime33 (SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

CASE = Path(__file__).parents[1] / "cases" / "runtime33" / "alertmanager-k8s-webhook.json"


def _resources(data: bytes) -> list:
    dec = formats.get("alertmanager").decode(data, "t")
    assert dec.dead == []
    return [r["resources"] for b in dec.batches for r in b.to_pylist()]


def _objects(found: list) -> list:
    return [None if r is None else [(x["type"], x["name"], x["namespace"]) for x in r] for r in found]


EXPECTED = [[("pod", "api-7d9f8b6c5d-xk2mn", "payments"), ("container", "api", "payments")],
            [("deployment", "api", "payments")],
            [("resourcequota", "compute", "payments")],
            [("node", "worker-3", None)],
            None]  # a `service` label without a namespace is a team's, not a Kubernetes Service


def test_webhook_alerts_name_their_kubernetes_objects() -> None:
    assert _objects(_resources(CASE.read_bytes())) == EXPECTED


def test_api_answer_alike() -> None:
    alerts = json.loads(CASE.read_bytes())["alerts"]
    for a in alerts:  # the /api/v2/alerts shape of the same alerts
        a.pop("status")
        a.update({"status": {"state": "active", "silencedBy": [], "inhibitedBy": []}, "receivers": [{"name": "k8s"}],
                  "updatedAt": a["startsAt"]})
    assert _objects(_resources(json.dumps(alerts).encode())) == EXPECTED
    quota = [dict(alerts[2], labels={"alertname": "KubeQuotaExceeded", "namespace": "payments", "severity": "info"})]
    assert _objects(_resources(json.dumps(quota).encode())) == [[("namespace", "payments", None)]]


def test_falcosidekick_alert_names_its_pod() -> None:
    # what Falcosidekick's Alertmanager output POSTs (outputs/alertmanager.go: each output field a label, its name's
    # dots made underscores; source, rule, eventsource, priority, severity; the output as description)
    posted = [{"labels": {"container_id": "3ad7b26ded6d", "container_name": "nginx", "k8s_ns_name": "default",
                          "k8s_pod_name": "nginx-7c5ddbdf54-xk2lp", "proc_cmdline": "bash -il", "user_name": "root",
                          "source": "falco", "rule": "Terminal shell in container", "eventsource": "syscall",
                          "hostname": "node-1", "priority": "Notice", "severity": "information"},
               "annotations": {"info": "A shell was spawned", "description": "A shell was spawned",
                               "summary": "Terminal shell in container"}}]
    assert _objects(_resources(json.dumps(posted).encode())) == [
        [("pod", "nginx-7c5ddbdf54-xk2lp", "default"), ("container", "nginx", "default")]]
