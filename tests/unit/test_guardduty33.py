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


#: GuardDuty User Guide, "Monitoring S3 object scans with Amazon EventBridge": the object scan result event, its
#: documented fields (values the guide's placeholders)
_SCAN = {"version": "0", "id": "72c7d362-737a-6dce-fc78-9e27a0171419",
         "detail-type": "GuardDuty Malware Protection Object Scan Result", "source": "aws.guardduty",
         "account": "111122223333", "time": "2024-02-28T01:01:01Z", "region": "us-east-1",
         "resources": ["arn:aws:guardduty:us-east-1:111122223333:malware-protection-plan/b4c7f464ab3a4EXAMPLE"],
         "detail": {"schemaVersion": "1.0", "scanStatus": "COMPLETED", "resourceType": "S3_OBJECT",
                    "s3ObjectDetails": {"bucketName": "amzn-s3-demo-bucket", "objectKey": "uploads/invoice.pdf",
                                        "eTag": "ASIAI44QH8DHBEXAMPLE", "versionId": "d41d8cd98f00b204e9800998eEXAMPLE",
                                        "s3Throttled": False},
                    "scanResultDetails": {"scanResultStatus": "THREATS_FOUND",
                                          "threats": [{"name": "EICAR-Test-File (not a virus)"}]}}}


def test_malware_protection_scan_results_are_scan_activity() -> None:
    clean = json.loads(json.dumps(_SCAN))
    clean["id"], clean["detail"]["scanResultDetails"] = "8f1c", {"scanResultStatus": "NO_THREATS_FOUND", "threats": None}
    finding = (CASES / "guardduty-elastic-s3export.log").read_bytes().splitlines()[0]
    data = b"\n".join([json.dumps(_SCAN).encode(), finding, json.dumps(clean).encode()])
    assert formats.detect(json.dumps(_SCAN).encode()).name == "guardduty"  # was dead-lettered as unrecognized
    dec = formats.get("guardduty").decode(data, "t")
    assert dec.dead == [] and dec.events == 3
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert sorted(r["class_name"] for r in rows) == ["Detection Finding", "Scan Activity", "Scan Activity"]
    hit, ok = (r for r in rows if r["class_name"] == "Scan Activity")
    assert (hit["activity_name"], hit["status_code"], hit["severity"], hit["is_alert"], hit["num_detections"]) == (
        "Completed", "THREATS_FOUND", "High", True, 1)
    assert hit["scan"]["name"] == "s3://amzn-s3-demo-bucket/uploads/invoice.pdf"
    (m,) = hit["malware"]
    assert (m["name"], m["files"][0]["name"], m["files"][0]["uid"]) == (
        "EICAR-Test-File (not a virus)", "invoice.pdf", "d41d8cd98f00b204e9800998eEXAMPLE")
    assert (ok["severity"], ok["malware"], ok["num_detections"], ok["status"]) == ("Informational", None, 0, "Success")
