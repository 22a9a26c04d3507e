"""Kubernetes audit: kubectl 1.30+ opens ``exec``, ``attach`` and ``port-forward`` streams over WebSocket, an HTTP GET
the apiserver logs with verb ``get`` on ``pods/exec`` (``pods/attach``, ``pods/portforward``), where SPDY's POST was
a ``create`` (sapcc/kubernikus#996: "kubectl 1.30 switched to websockets instead of SPDY, which changes exec from a
POST to a GET request"; kubernetes/kubectl#1761). Such an event was activity Read: an exec into a container looked
like reading a pod. It is a Create as the ``create`` one is (the verb as logged stays ``api.operation``).

Events: Falco's exec and attach traces (tests/cases/holdout/exec_pod.json, attach_pod.json, SOURCE.md) with the
verb a WebSocket client's request is logged with, and the exec one on ``portforward`` (its URI with ``ports``, as
kubectl port-forward asks); a ``get`` of ``pods/log`` and of the pod itself stay Read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"
EXEC = json.loads((CASES / "exec_pod.json").read_bytes())
ATTACH = json.loads((CASES / "attach_pod.json").read_bytes())


def _ref(event: dict, sub: str | None) -> dict:
    ref = {k: v for k, v in event["objectRef"].items() if k != "subresource"}
    return ref | ({"subresource": sub} if sub else {})


def test_websocket_streams_are_creates(monkeypatch: pytest.MonkeyPatch) -> None:
    name = EXEC["objectRef"]["name"]
    events = [EXEC | {"verb": "get"}, ATTACH | {"verb": "get"},
              EXEC | {"verb": "get", "auditID": "pf", "objectRef": _ref(EXEC, "portforward"),
                      "requestURI": f"/api/v1/namespaces/default/pods/{name}/portforward?ports=8080"},
              EXEC | {"auditID": "spdy"},  # the create, as before
              EXEC | {"verb": "get", "auditID": "log", "objectRef": _ref(EXEC, "log"),
                      "requestURI": f"/api/v1/namespaces/default/pods/{name}/log"},
              EXEC | {"verb": "get", "auditID": "pod", "objectRef": _ref(EXEC, None),
                      "requestURI": f"/api/v1/namespaces/default/pods/{name}"}]  # fmt: skip
    dec = same_both_ways("k8s_audit", b"\n".join(json.dumps(e).encode() for e in events), monkeypatch, "streams")
    assert not dec.dead
    rows = [r for b in dec.batches for r in b.to_pylist()]
    got = [(r["resources"][0]["type"], r["api"]["operation"], r["activity_id"], r["type_uid"]) for r in rows]
    assert got == [("pods/exec", "get", 1, 600301), ("pods/attach", "get", 1, 600301),
                   ("pods/portforward", "get", 1, 600301), ("pods/exec", "create", 1, 600301),
                   ("pods/log", "get", 2, 600302), ("pods", "get", 2, 600302)]  # fmt: skip
    assert {r["activity_name"] for r in rows[:4]} == {"Create"}


def test_exec_compliance_control_sees_websocket_streams() -> None:
    """K8S-1 (rules/compliance/k8s/k8s_1_exec_attach.yml) matched ``create`` only: a kubectl 1.30+ exec was missed."""
    from secpipe.detect.compliance.catalog import load_controls
    from secpipe.detect.compliance.evaluate import evaluate_batches
    from secpipe.formats import get

    name = EXEC["objectRef"]["name"]
    events = [EXEC | {"verb": "get"}, ATTACH | {"verb": "get"},
              EXEC | {"verb": "get", "auditID": "log", "objectRef": _ref(EXEC, "log"),
                      "requestURI": f"/api/v1/namespaces/default/pods/{name}/log"}]  # fmt: skip
    dec = get("k8s_audit").decode(b"\n".join(json.dumps(e).encode() for e in events), "t")
    rows = {r["metadata"]["original_event_uid"]: r["metadata"]["uid"] for b in dec.batches for r in b.to_pylist()}
    matched = evaluate_batches(load_controls(), dec.batches).get("k8s-1-exec-attach", set())
    assert matched == {rows[EXEC["auditID"]], rows[ATTACH["auditID"]]}  # not the log read
