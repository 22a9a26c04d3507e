"""GuardDuty's container and Kubernetes workload resources (Runtime Monitoring, EKS audit log findings)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"


def _resources(data: bytes) -> list[list[tuple]]:
    dec = formats.get("guardduty").decode(data, "t")
    assert dec.dead == []
    return [[(x["type"], x["uid"], x["name"], x["namespace"]) for x in r["resources"] or []]
            for b in dec.batches for r in b.to_pylist()]


def test_runtime_finding_names_its_container() -> None:
    # Elastic's sample: PrivilegeEscalation:Runtime/DockerSocketAccessed, ResourceType Container (ContainerDetails)
    line = (CASES / "guardduty-elastic-s3export.log").read_bytes().splitlines()[4]
    assert _resources(line) == [[("Container", "abcd1234", None, None), ("Instance", "i-abcd1234", None, None)]]


def test_eks_finding_names_its_workload_and_containers() -> None:
    # the same EKS finding of Elastic's sample with its KubernetesWorkloadDetails as the GuardDuty API reference
    # defines them (Name, Type, Uid, Namespace, Containers[] of Name, Image, ...)
    rec = json.loads((CASES / "guardduty-elastic-s3export.log").read_bytes().splitlines()[1])
    rec["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"] = {
        "name": "nginx-7c5ddbdf54-xk2lp", "type": "pods", "uid": "0c2b6d8e-1f5a-4c1e-9d1b-3b0f2a9d7e11",
        "namespace": "default", "hostNetwork": False,
        "containers": [{"name": "nginx", "image": "nginx:1.25", "imagePrefix": "", "id": "containerd://4f2c1d"}]}
    got = _resources(json.dumps(rec).encode())
    assert got == [[("EKSCluster", "GeneratedFindingEKSClusterArn", "GeneratedFindingEKSClusterName", None),
                    ("pods", "0c2b6d8e-1f5a-4c1e-9d1b-3b0f2a9d7e11", "nginx-7c5ddbdf54-xk2lp", "default"),
                    ("Container", "containerd://4f2c1d", "nginx", "default")]]
