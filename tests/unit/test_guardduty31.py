"""Amazon GuardDuty findings in GuardDuty's own shape (``tests/cases/cloud31/SOURCES.md``).

The GetFindings answer (``aws guardduty get-findings``, PascalCase), the S3 export / EventBridge
detail (camelCase JSON Lines) and the EventBridge event were dead-lettered as unrecognized; the
guardduty format maps each finding to a Detection Finding. Expected values are read in the samples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.formats.base import Decoded
from tests.unit.holdout_support import auto_decoded, conformant_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"

#: GuardDuty User Guide, "Creating custom responses to GuardDuty findings with Amazon EventBridge":
#: the GuardDuty Finding event's envelope (its documented fields), around a finding (%s)
_EVENTBRIDGE = (
    '{"version":"0","id":"c8c4daa7-a20c-2f03-0070-b7393dd542ad","detail-type":"GuardDuty Finding",'
    '"source":"aws.guardduty","account":"123412341234","time":"2022-11-22T12:22:21Z","region":"us-east-1",'
    '"resources":[],"detail":%s}'
)


def _case(name: str) -> bytes:
    return (CASES / name).read_bytes()


def _auto(doc: bytes, tmp_path: Path) -> Decoded:
    return auto_decoded(doc, tmp_path, "guardduty")


def _rows(d: Decoded) -> list[dict[str, Any]]:
    got = conformant_rows(d)
    assert set(got) <= {"detection_finding"}, set(got)
    return got.get("detection_finding", [])


def _awscli() -> dict[str, Any]:
    return json.loads(_case("guardduty-awscli-get-findings.json"))["Findings"][0]  # type: ignore[no-any-return]


def test_get_findings_answer_pascal_case(tmp_path: Path) -> None:
    d = _auto(_case("guardduty-awscli-get-findings.json"), tmp_path)
    assert not d.dead and d.events == 1
    [r] = _rows(d)
    assert r["time_dt"].isoformat() == "2020-05-26T22:55:21.703000+00:00"  # UpdatedAt
    assert (r["severity_id"], r["severity"], r["status_id"], r["activity_id"]) == (3, "Medium", 1, 2)  # 5: Medium
    assert (r["metadata"]["product"]["name"], r["metadata"]["product"]["vendor_name"]) == ("GuardDuty", "AWS")
    fi = r["finding_info"]
    assert (fi["uid"], fi["types"]) == ("1ab92989eaf0e742df4a014d5example", ["Recon:IAMUser/UserPermissions"])
    assert fi["uid_alt"].startswith("arn:aws:guardduty:us-east-1:111122223333:detector/")
    assert fi["title"] == r["message"] == "Unusual user permission reconnaissance activity by testuser."
    assert (fi["first_seen_time"], fi["last_seen_time"]) == (1590530544000, 1590532435000)
    assert r["count"] == 5
    assert (r["cloud"]["account"]["uid"], r["cloud"]["region"], r["cloud"]["cloud_partition"]) == (
        "111122223333", "us-east-1", "aws")  # fmt: skip
    [res] = r["resources"]
    assert (res["type"], res["uid"], res["owner"]["name"]) == ("AccessKey", "ASIASZ4SI7REEEXAMPLE", "testuser")
    assert (r["actor"]["user"]["name"], r["actor"]["user"]["uid"]) == ("testuser", "AIDACKCEVSQ6C2EXAMPLE")
    [ev] = r["evidences"]
    assert (ev["src_endpoint"]["ip"], ev["src_endpoint"]["isp"]) == ("52.94.36.7", "Amazon.com")
    assert (ev["api"]["operation"], ev["api"]["service"]["name"]) == ("ListPolicyVersions", "iam.amazonaws.com")
    assert json.loads(r["raw_data"])["Id"] == "1ab92989eaf0e742df4a014d5example"


def test_s3_export_camel_case_lines(tmp_path: Path) -> None:
    d = _auto(_case("guardduty-elastic-s3export.log"), tmp_path)
    assert not d.dead and d.events == 5  # the last line, an empty findings list, holds none
    dns, anon, tor, rds, runtime = _rows(d)
    assert dns["finding_info"]["types"] == ["Trojan:EC2/BlackholeTraffic!DNS"]
    assert dns["evidences"][0]["query"]["hostname"] == "GeneratedFindingDomainName"
    [inst] = dns["resources"]
    assert (inst["type"], inst["uid"], inst["region"]) == ("Instance", "i-99999999", "us-east-1")
    assert len(inst["tags"]) == 9
    # Kubernetes API calls: the remote address and verb; the cluster, then the access key
    assert (anon["severity_id"], anon["actor"]["user"]["name"]) == (4, "system:anonymous")  # 8: High
    assert (anon["evidences"][0]["src_endpoint"]["ip"], anon["evidences"][0]["api"]["operation"]) == ("175.16.199.1", "get")
    assert [x["type"] for x in tor["resources"]] == ["EKSCluster", "AccessKey"]
    assert tor["resources"][0]["name"] == "GeneratedFindingEKSClusterName"
    # an RDS login attempt: created once, from a remote address
    assert (rds["activity_id"], rds["resources"][0]["type"]) == (1, "RDSDBInstance")
    assert rds["evidences"][0]["src_endpoint"]["ip"] == "175.16.199.1"
    # a Runtime Monitoring finding (an empty action): its process is the actor, its executable's
    # SHA-256 where threat intel reads hashes (actor.process.file.hashes[].value)
    assert runtime["evidences"] is None and runtime["count"] == 9
    proc = runtime["actor"]["process"]
    assert (proc["name"], proc["pid"], proc["working_directory"], proc["user"]["name"]) == ("sshd", 2345, "/home/user", "admin")
    assert (proc["file"]["path"], proc["file"]["name"]) == ("/usr/bin/ssh", "ssh")
    assert proc["file"]["hashes"] == [{"algorithm_id": 3, "algorithm": "SHA-256", "value": "d2" * 32}]
    assert "runtimeDetails" in runtime["raw_data"]


def test_eventbridge_events_and_port_probe(tmp_path: Path) -> None:
    # Recon:EC2/PortProbeUnprotectedPort: Service.Action as the GuardDuty API reference gives
    # PortProbeAction (PortProbeDetails[]: LocalPortDetails, RemoteIpDetails), in the CLI's finding
    probe = {**_awscli(), "Id": "probe", "Type": "Recon:EC2/PortProbeUnprotectedPort", "Severity": 2,
             "Resource": {"ResourceType": "Instance", "InstanceDetails": {"InstanceId": "i-0abc"}},
             "Service": {"Archived": True, "Count": 3, "Action": {"ActionType": "PORT_PROBE", "PortProbeAction": {
                 "Blocked": False, "PortProbeDetails": [{"LocalPortDetails": {"Port": 22, "PortName": "SSH"},
                                                         "RemoteIpDetails": {"IpAddressV4": "198.51.100.7"}}]}}}}  # fmt: skip
    camel = _case("guardduty-elastic-s3export.log").splitlines()[0].decode()
    lines = [_EVENTBRIDGE % camel, _EVENTBRIDGE % json.dumps(probe)]
    d = _auto(("\n".join(lines) + "\n").encode(), tmp_path)
    assert not d.dead and d.events == 2
    rows = {r["finding_info"]["uid"]: r for r in _rows(d)}
    assert rows["d6012345678912345678912349f831b8f"]["severity_id"] == 3
    p = rows["probe"]
    assert (p["severity_id"], p["status_id"], p["status"], p["activity_id"]) == (2, 5, "Archived", 3)  # 2: Low
    [ev] = p["evidences"]
    assert (ev["src_endpoint"]["ip"], ev["dst_endpoint"]["port"], ev["connection_info"]["direction_id"]) == (
        "198.51.100.7", 22, 1)  # fmt: skip
    # the finding alone is its raw_data (the envelope is not the event)
    assert json.loads(p["raw_data"])["Id"] == "probe"


def test_severity_bands() -> None:
    base = _awscli()
    scores = [1.0, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0]
    docs = [{**base, "Id": str(s), "Severity": s} for s in scores] + [{k: v for k, v in base.items() if k != "Severity"}]
    d = formats.get("guardduty").decode(json.dumps(docs).encode(), "x")
    assert [r["severity_id"] for r in _rows(d)] == [2, 2, 3, 3, 4, 4, 5, 5, 0]


def test_bad_records_are_dead_lettered_alone() -> None:
    good = _awscli()
    timeless = {k: v for k, v in good.items() if k not in ("CreatedAt", "UpdatedAt")}
    wrong = {**good, "Severity": "HIGH"}
    d = formats.get("guardduty").decode(json.dumps([good, timeless, {"note": 1}, wrong]).encode(), "x")
    assert d.events == 4
    reasons = sorted(x.reason for x in d.dead)
    assert len(reasons) == 3
    assert "not a GuardDuty finding: no CreatedAt or UpdatedAt time" in reasons
    assert "not a GuardDuty finding: no Id, nor a findings list or detail" in reasons
    assert any("Severity" in x for x in reasons)
    assert len(_rows(d)) == 1


def test_asff_guardduty_stays_asff() -> None:
    # a GuardDuty finding wrapped in ASFF (Security Hub) is the asff format's, not this one's
    doc = (Path(__file__).resolve().parents[1] / "cases" / "scanners30" / "asff-guardduty-defectdojo.json").read_bytes()
    assert formats.get("guardduty").sniff(doc) == 0
    assert formats.detect(doc) is formats.get("asff")


def test_malware_protection_scan_detections() -> None:
    # Execution:EC2/MaliciousFile: Service.EbsVolumeScanDetails as the GuardDuty API reference gives
    # ScanDetections.ThreatDetectedByName.ThreatNames[] (Name, Severity, ItemCount, FilePaths[]), in the CLI's finding
    scan = {"ScanId": "s-1", "ScanDetections": {"ThreatDetectedByName": {"ItemCount": 1, "UniqueThreatNameCount": 1, "ThreatNames": [
        {"Name": "EICAR-Test-File (not a virus)", "Severity": "MEDIUM", "ItemCount": 1, "FilePaths": [
            {"FilePath": "/tmp/eicar.com", "FileName": "eicar.com", "VolumeArn": "arn:aws:ec2:us-east-1:111122223333:volume/vol-1",
             "Hash": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}]}]}}}  # fmt: skip
    doc = {**_awscli(), "Type": "Execution:EC2/MaliciousFile", "Service": {"EbsVolumeScanDetails": scan}}
    [r] = _rows(formats.get("guardduty").decode(json.dumps(doc).encode(), "x"))
    [m] = r["malware"]
    assert (m["name"], m["severity"], m["num_infected"], m["path"], m["classification_ids"]) == (
        "EICAR-Test-File (not a virus)", "MEDIUM", 1, "/tmp/eicar.com", [0])  # fmt: skip
    [f] = m["files"]
    assert (f["name"], f["hashes"][0]["value"][:8]) == ("eicar.com", "275a021b")
