"""Kubernetes audit: a request to a subresource is typed ``resource/subresource`` (round 31).

``kubectl exec`` and ``kubectl attach`` are creates on ``pods/exec`` and ``pods/attach``; reading a
pod's log is a get on ``pods/log``, minting a service account token a create on
``serviceaccounts/token``. The apiserver and RBAC name them so, and the OCSF project's EKS audit
mapping types ``resources[]`` as ``concat(objectRef.resource; objectRef.subresource)``. The
resource was typed ``pods`` alone: an exec into a pod and the pod's creation looked the same in
the OCSF columns (the subresource only in ``unmapped.objectRef``). The exec's ``requestObject``
(the command, where the apiserver logs it) stays in unmapped.

Samples: Falco's exec and attach traces (tests/cases/holdout/exec_pod.json, attach_pod.json) and
Panther's EKS audit test events (/work/shared/data/real/panther-analysis/extracted/k8s_audit.jsonl).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"


def _rows(doc: bytes, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    dec = same_both_ways("k8s_audit", doc, monkeypatch, "subresource")
    assert not dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def test_exec_and_attach_are_typed_with_their_subresource(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (CASES / "exec_pod.json").read_bytes().strip() + b"\n" + (CASES / "attach_pod.json").read_bytes()
    exec_, attach = _rows(doc, monkeypatch)
    assert [r["resources"][0]["type"] for r in (exec_, attach)] == ["pods/exec", "pods/attach"]
    assert exec_["resources"][0]["name"] == "nginx-deployment-7998647bdf-phvq7" and exec_["api"]["operation"] == "create"
    assert json.loads(exec_["unmapped"])["objectRef"]["subresource"] == "exec"  # the object as written, still


def test_panther_eks_events_keep_bare_resources_and_the_exec_command(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows((real / "panther-analysis/extracted/k8s_audit.jsonl").read_bytes(), monkeypatch)
    types = {r["resources"][0]["type"] for r in rows if r["resources"]}
    assert {"pods/exec", "pods/log", "pods/eviction", "serviceaccounts/token"} <= types
    assert "pods" in types and "secrets" in types  # no subresource: the resource alone
    commands = [json.loads(r["unmapped"])["requestObject"]["command"] for r in rows
                if r["resources"] and r["resources"][0]["type"] == "pods/exec"
                and (json.loads(r["unmapped"]).get("requestObject") or {}).get("command")]
    assert ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"] in commands
