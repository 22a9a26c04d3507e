"""Scanner outputs of the holdout round 30 (``tests/cases/scanners30/SOURCES.md``).

AWS Security Finding Format findings (Security Hub's GetFindings answer, its EventBridge events,
Trivy's ASFF template old and new) were dead-lettered as a format secpipe does not read; the asff
format maps each finding to the class its content says. Expected values are read in the samples.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.base import Decoded
from tests.unit.holdout_support import auto_decoded, conformant_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners30"

#: AWS Security Hub User Guide, "EventBridge event formats": the Security Hub Findings - Imported
#: event's envelope (its documented fields), around a finding (%s)
_EVENTBRIDGE = (
    '{"version":"0","id":"CWE-event-id","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub",'
    '"account":"111122223333","time":"2019-04-11T21:52:17Z","region":"us-west-2","resources":["arn:aws:securityhub:'
    'us-west-2::product/aws/macie/arn:aws:macie:us-west-2:111122223333:integtest/trigger/6294d71b927c41cbab915159a8f'
    '326a3/alert/f2893b211841"],"detail":{"findings":[%s]}}'
)

#: aquasecurity/trivy integration/testdata/alpine-310.asff.golden at 05c1f06 (contrib/asff.tpl before
#: it wrapped its findings in "Findings" and wrote Severity.Label): the first finding, verbatim
_TRIVY_OLD = """[
    {
        "SchemaVersion": "2018-10-08",
        "Id": "testdata/fixtures/alpine-310.tar.gz (alpine 3.10.2)/CVE-2019-1549",
        "ProductArn": "arn:aws:securityhub:test-region::product/aquasecurity/aquasecurity",
        "GeneratorId": "Trivy",
        "AwsAccountId": 123456789012,
        "Types": [ "Software and Configuration Checks/Vulnerabilities/CVE" ],
        "CreatedAt": "2020-08-10T07:28:17.000958601Z",
        "UpdatedAt": "2020-08-10T07:28:17.000958601Z",
        "Severity": {
            "Product": 4,
            "Normalized": 40
        },
        "Title": "Trivy found a vulnerability to CVE-2019-1549 in container testdata/fixtures/alpine-310.tar.gz (alpine 3.10.2)",
        "Description": "OpenSSL 1.1.1 introduced a rewritten random number generator (RNG).",
        "Remediation": {
            "Recommendation": {
                "Text": "More information on this vulnerability is provided in the hyperlink",
                "Url": "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2019-1549"
            }
        },
        "ProductFields": { "Product Name": "Trivy" },
        "Resources": [
            {
                "Type": "Container",
                "Id": "testdata/fixtures/alpine-310.tar.gz (alpine 3.10.2)",
                "Partition": "aws",
                "Region": "test-region",
                "Details": {
                    "Container": { "ImageName": "testdata/fixtures/alpine-310.tar.gz (alpine 3.10.2)" },
                    "Other": {
                        "CVE ID": "CVE-2019-1549",
                        "CVE Title": "openssl: information disclosure in fork()",
                        "PkgName": "openssl",
                        "Installed Package": "1.1.1c-r0",
                        "Patched Package": "1.1.1d-r0",
                        "NvdCvssScoreV3": 0,
                        "NvdCvssVectorV3": "",
                        "NvdCvssScoreV2": 0,
                        "NvdCvssVectorV2": ""
                    }
                }
            }
        ],
        "RecordState": "ACTIVE"
    }
]"""


def _auto(doc: bytes, tmp_path: Path) -> Decoded:
    return auto_decoded(doc, tmp_path, "asff")


_rows = conformant_rows




def _case(name: str) -> bytes:
    return (CASES / name).read_bytes()


def test_security_hub_control_finding_is_a_compliance_finding(tmp_path: Path) -> None:
    # a Security Hub CSPM control finding (its export's lowercase "findings" key)
    d = _auto(_case("asff-securityhub-config-one-finding-defectdojo.json"), tmp_path)
    assert not d.dead and d.events == 1
    [r] = _rows(d)["compliance_finding"]
    assert r["time_dt"].isoformat() == "2020-06-14T21:02:53.454000+00:00"  # UpdatedAt
    assert (r["severity_id"], r["status_id"], r["status_code"], r["activity_id"]) == (1, 1, "NEW", 2)
    c = r["compliance"]
    assert (c["control"], c["status_id"], c["status"], c["status_code"]) == ("IAM.5", 1, "Pass", "PASSED")
    assert c["standards"] == ["arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0"]
    assert c["status_detail"] == "CONFIG_EVALUATIONS_EMPTY"
    assert r["remediation"]["references"] == ["https://docs.aws.amazon.com/console/securityhub/IAM.5/remediation"]
    assert r["cloud"]["account"]["uid"] == "012345678912" and r["cloud"]["region"] == "us-east-1"
    assert (r["metadata"]["product"]["name"], r["metadata"]["product"]["vendor_name"]) == ("Security Hub", "AWS")
    fi = r["finding_info"]
    assert fi["uid"].endswith("/IAM.5/finding/de861909-2d26-4e45-bd86-19d2ab6ceef1")
    assert fi["analytic"]["uid"] == "aws-foundational-security-best-practices/v/1.0.0/IAM.5"
    assert fi["first_seen_time"] == 1591626787560
    assert [(x["type"], x["uid"]) for x in r["resources"]] == [("AwsAccount", "AWS::::Account:012345678912")]
    assert '"ProductFields"' in r["unmapped"]


def test_inspector_finding_is_a_vulnerability_finding(tmp_path: Path) -> None:
    d = _auto(_case("asff-inspector-ec2-cve-defectdojo.json"), tmp_path)
    [r] = _rows(d)["vulnerability_finding"]
    assert (r["severity_id"], r["metadata"]["product"]["name"]) == (5, "Inspector")
    [v] = r["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2022-3643" and v["advisory"] is None
    assert [(c["version"], c["base_score"]) for c in v["cve"]["cvss"]] == [("3.1", 10.0), ("3.1", 10.0)]
    assert (v["vendor_name"], v["severity"], v["is_fix_available"]) == ("NVD", "CRITICAL", True)
    assert v["references"][0] == "https://xenbits.xenproject.org/xsa/advisory-423.txt"
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["epoch"], p["release"], p["architecture"]) == (
        "kernel", "4.14.301", 0, "224.520.amzn2", "X86_64")  # fmt: skip
    assert (p["fixed_in_version"], p["remediation"]["desc"]) == ("0:5.10.162-141.675.amzn2", "yum update kernel")
    [res] = r["resources"]
    assert res["type"] == "AwsEc2Instance" and json.loads(res["data"])["AwsEc2Instance"]["ImageId"] == "ami-11111111111111111"


def test_guardduty_finding_is_a_detection_finding(tmp_path: Path) -> None:
    d = _auto(_case("asff-guardduty-defectdojo.json"), tmp_path)
    [r] = _rows(d)["detection_finding"]
    assert (r["severity_id"], r["metadata"]["product"]["name"]) == (3, "GuardDuty")
    assert r["finding_info"]["types"] == ["TTPs/Defense Evasion/DefenseEvasion:EC2-UnusualDNSResolver"]
    assert r["finding_info"]["src_url"].endswith("fId=123456789789")
    [res] = r["resources"]
    assert {t["name"]: t["value"] for t in res["tags"]}["ManagedBy"] == "Terraform"
    assert "remoteIpDetails/ipAddressV4" in r["unmapped"]


def test_eventbridge_events_one_a_line(tmp_path: Path) -> None:
    # two "Security Hub Findings - Imported" events, one a line (EventBridge -> Firehose -> S3)
    doc = json.loads(_case("asff-securityhub-config-one-finding-defectdojo.json"))["findings"][0]
    gd = json.loads(_case("asff-guardduty-defectdojo.json"))["Findings"][0]
    lines = [_EVENTBRIDGE % json.dumps(x) for x in (doc, gd)]
    d = _auto(("\n".join(lines) + "\n").encode(), tmp_path)
    assert not d.dead and d.events == 2
    rows = _rows(d)
    assert [len(rows["compliance_finding"]), len(rows["detection_finding"])] == [1, 1]
    assert rows["compliance_finding"][0]["compliance"]["control"] == "IAM.5"
    # the finding alone is its raw_data (the envelope is not the event)
    assert json.loads(rows["detection_finding"][0]["raw_data"])["Id"] == gd["Id"]


def test_trivy_asff_template_findings(tmp_path: Path) -> None:
    d = _auto(_case("asff-trivy-alpine-310.golden.json"), tmp_path)
    first, second = _rows(d)["vulnerability_finding"]
    assert (first["severity_id"], first["metadata"]["product"]["name"]) == (3, "Trivy")
    [v] = first["vulnerabilities"]
    assert (v["cve"]["uid"], v["title"]) == ("CVE-2019-1549", "openssl: information disclosure in fork()")
    assert [(c["version"], c["base_score"]) for c in v["cve"]["cvss"]] == [("3.1", 5.3)]
    [p] = v["affected_packages"]
    assert (p["name"], p["version"], p["fixed_in_version"]) == ("libcrypto1.1", "1.1.1c-r0", "1.1.1d-r0")
    assert second["vulnerabilities"][0]["affected_packages"][0]["fixed_in_version"] == "1.1.1d-r2"
    # its secrets: no vulnerability, no compliance -> detection findings, the two kept apart
    d = _auto(_case("asff-trivy-secrets.golden.json"), tmp_path)
    rows = _rows(d)["detection_finding"]
    assert [r["finding_info"]["title"].split(": ")[-1] for r in rows] == ["AWS Access Key ID", "GitHub Personal Access Token"]
    assert len({r["metadata"]["uid"] for r in rows}) == 2 and rows[0]["severity_id"] == 5


def test_trivy_old_template_account_number_and_normalized_severity(tmp_path: Path) -> None:
    d = _auto(_TRIVY_OLD.encode(), tmp_path)
    [r] = _rows(d)["vulnerability_finding"]
    assert r["cloud"]["account"]["uid"] == "123456789012"  # a number in the old template
    assert r["severity_id"] == 3  # Normalized 40: AWS's MEDIUM band
    [v] = r["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2019-1549" and v["cve"]["cvss"] is None  # NvdCvssScoreV3 0: none


def test_workflow_and_record_state() -> None:
    base = json.loads(_case("asff-guardduty-defectdojo.json"))["Findings"][0]
    resolved = {**base, "Id": "a", "Workflow": {"Status": "RESOLVED"}}
    archived = {**base, "Id": "b", "RecordState": "ARCHIVED"}
    notified = {**base, "Id": "c", "Workflow": {"Status": "NOTIFIED"}, "UpdatedAt": base["CreatedAt"]}
    d = formats.get("asff").decode(json.dumps([resolved, archived, notified]).encode(), "x")
    rows = {r["finding_info"]["uid"]: r for r in _rows(d)["detection_finding"]}
    assert (rows["a"]["status_id"], rows["a"]["status"], rows["a"]["activity_id"]) == (4, "Resolved", 2)
    assert (rows["b"]["status_id"], rows["b"]["status"], rows["b"]["activity_id"]) == (5, "Archived", 3)
    assert (rows["c"]["status_id"], rows["c"]["status"], rows["c"]["activity_id"]) == (2, "In Progress", 1)


def test_bad_records_are_dead_lettered_alone() -> None:
    good = json.loads(_case("asff-guardduty-defectdojo.json"))["Findings"][0]
    timeless = {k: v for k, v in good.items() if k not in ("CreatedAt", "UpdatedAt")}
    wrong = {**good, "Title": 5}
    d = formats.get("asff").decode(json.dumps([good, timeless, {"note": 1}, wrong]).encode(), "x")
    assert d.events == 4
    reasons = sorted(x.reason for x in d.dead)
    assert len(reasons) == 3
    assert "not an ASFF finding: no CreatedAt or UpdatedAt time" in reasons
    assert "not an ASFF finding: no Id, nor a findings list" in reasons
    assert any("Title" in x for x in reasons)
    assert len(_rows(d)["detection_finding"]) == 1


def test_empty_get_findings_answer_holds_no_event(tmp_path: Path) -> None:
    # `aws securityhub get-findings` with nothing to report (was "no format matched")
    d = _auto(b'{\n    "Findings": [],\n    "NextToken": null\n}\n', tmp_path)
    assert (d.events, d.batches, d.dead) == (0, [], [])


#: prowler-cloud/prowler docs/tutorials/reporting.md, "JSON-ASFF": Prowler's example finding, verbatim
_PROWLER = """[{
    "SchemaVersion": "2018-10-08",
    "Id": "prowler-rds_instance_minor_version_upgrade_enabled-ACCOUNT_ID-eu-west-1-b1ade474a",
    "ProductArn": "arn:aws:securityhub:eu-west-1::product/prowler/prowler",
    "RecordState": "ACTIVE",
    "ProductFields": {
        "ProviderName": "Prowler",
        "ProviderVersion": "3.0-beta-21Nov2022",
        "ProwlerResourceName": "rds-instance-id"
    },
    "GeneratorId": "prowler-rds_instance_minor_version_upgrade_enabled",
    "AwsAccountId": "ACCOUNT_ID",
    "Types": [],
    "FirstObservedAt": "2022-12-01T13:16:57Z",
    "UpdatedAt": "2022-12-01T13:16:57Z",
    "CreatedAt": "2022-12-01T13:16:57Z",
    "Severity": {
        "Label": "LOW"
    },
    "Title": "Ensure RDS instances have minor version upgrade enabled.",
    "Description": "Ensure RDS instances have minor version upgrade enabled.",
    "Resources": [
        {
            "Type": "AwsRdsDbInstance",
            "Id": "rds-instance-id",
            "Partition": "aws",
            "Region": "eu-west-1"
        }
    ],
    "Compliance": {
        "Status": "PASSED",
        "RelatedRequirements": [
            "CISA your-systems-2 booting-up-thing-to-do-first-3",
            "CIS-1.5 2.3.2",
            "AWS-Foundational-Security-Best-Practices rds",
            "RBI-Cyber-Security-Framework annex_i_6",
            "FFIEC d3-cc-pm-b-1 d3-cc-pm-b-3"
        ],
        "AssociatedStandards": [
            {
                "StandardsId": "CISA"
            },
            {
                "StandardsId": "CIS-1.5"
            },
            {
                "StandardsId": "AWS-Foundational-Security-Best-Practices"
            },
            {
                "StandardsId": "RBI-Cyber-Security-Framework"
            },
            {
                "StandardsId": "FFIEC"
            }
        ]
    },
    "Remediation": {
        "Recommendation": {
            "Text": "Enable auto minor version upgrade for all databases and environments.",
            "Url": "https://aws.amazon.com/blogs/database/best-practices-for-upgrading-amazon-rds-to-major-and-minor-versions-of-postgresql/"
        }
    }
}]"""


def test_prowler_json_asff(tmp_path: Path) -> None:
    d = _auto(_PROWLER.encode(), tmp_path)
    [r] = _rows(d)["compliance_finding"]
    assert (r["severity_id"], r["metadata"]["product"]["name"], r["metadata"]["product"]["vendor_name"]) == (
        2, "Prowler", "prowler")  # fmt: skip
    c = r["compliance"]
    assert c["standards"] == ["CISA", "CIS-1.5", "AWS-Foundational-Security-Best-Practices",
                              "RBI-Cyber-Security-Framework", "FFIEC"]  # fmt: skip
    assert c["requirements"][1] == "CIS-1.5 2.3.2" and c["status"] == "Pass"
    assert c["control"] == "prowler-rds_instance_minor_version_upgrade_enabled"  # its check: the GeneratorId
    assert r["finding_info"]["analytic"]["uid"] == "prowler-rds_instance_minor_version_upgrade_enabled"
    assert r["finding_info"]["types"] is None  # ([] is none)


#: AWS Security Hub User Guide, "Optional top-level ASFF attributes": the Action example (PORT_PROBE),
#: verbatim, and the Network example's addresses, ports and direction (abridged)
_PROBE = {"ActionType": "PORT_PROBE", "PortProbeAction": {"PortProbeDetails": [{
    "LocalPortDetails": {"Port": 80, "PortName": "HTTP"}, "LocalIpDetails": {"IpAddressV4": "192.0.2.0"},
    "RemoteIpDetails": {"Country": {"CountryName": "Example Country"}, "City": {"CityName": "Example City"},
                        "GeoLocation": {"Lon": 0, "Lat": 0},
                        "Organization": {"AsnOrg": "ExampleASO", "Org": "ExampleOrg", "Isp": "ExampleISP", "Asn": 64496}}}],
    "Blocked": False}}  # fmt: skip
_NETWORK = {"Direction": "IN", "Protocol": "TCP", "SourceIpV4": "1.128.0.0", "SourcePort": "80",
            "DestinationIpV4": "2.128.0.0", "DestinationPort": "443", "DestinationDomain": "example2.com"}  # fmt: skip


def test_detection_evidence_from_action_and_network() -> None:
    gd = json.loads(_case("asff-guardduty-defectdojo.json"))["Findings"][0]
    conn = {"ActionType": "NETWORK_CONNECTION", "NetworkConnectionAction": {
        "ConnectionDirection": "OUTBOUND", "Protocol": "UDP", "RemoteIpDetails": {"IpAddressV4": "1.1.1.1"},
        "RemotePortDetails": {"Port": 53}, "LocalPortDetails": {"Port": 53814}, "LocalIpDetails": {"IpAddressV4": "127.0.0.1"}}}
    # (GuardDuty's connection as its ProductFields spell it out, in ASFF's Action object)
    docs = [{**gd, "Id": "probe", "Action": _PROBE}, {**gd, "Id": "net", "Network": _NETWORK}, {**gd, "Id": "out", "Action": conn}]
    d = formats.get("asff").decode(json.dumps([gd, *docs]).encode(), "x")
    rows = {r["finding_info"]["uid"]: r for r in _rows(d)["detection_finding"]}
    assert rows[gd["Id"]]["evidences"] is None
    [probe] = rows["probe"]["evidences"]
    assert (probe["dst_endpoint"]["ip"], probe["dst_endpoint"]["port"], probe["src_endpoint"]["isp"]) == (
        "192.0.2.0", 80, "ExampleISP")  # fmt: skip
    assert probe["connection_info"]["direction_id"] == 1  # a probe comes in
    [net] = rows["net"]["evidences"]
    assert (net["src_endpoint"]["ip"], net["src_endpoint"]["port"], net["dst_endpoint"]["port"]) == ("1.128.0.0", 80, 443)
    assert (net["dst_endpoint"]["domain"], net["connection_info"]["protocol_name"]) == ("example2.com", "tcp")
    [out] = rows["out"]["evidences"]
    assert (out["src_endpoint"]["ip"], out["dst_endpoint"]["ip"], out["dst_endpoint"]["port"]) == ("127.0.0.1", "1.1.1.1", 53)
    assert out["connection_info"]["direction_id"] == 2


def test_detection_malware() -> None:
    # AWS Security Hub User Guide, "Optional top-level ASFF attributes": the Malware example (its values)
    gd = json.loads(_case("asff-guardduty-defectdojo.json"))["Findings"][0]
    mal = [{"Name": "Stringler", "Path": "/usr/sbin/stringler", "State": "OBSERVED", "Type": "COIN_MINER"}]
    d = formats.get("asff").decode(json.dumps({**gd, "Malware": mal}).encode(), "x")
    [r] = _rows(d)["detection_finding"]
    [m] = r["malware"]
    assert (m["name"], m["path"], m["classification_ids"], m["classifications"]) == (
        "Stringler", "/usr/sbin/stringler", [13], ["Resource-Exploitation"])  # fmt: skip
