"""OCSF events as JSON (``tests/cases/cloud31/SOURCES.md``): Prowler's json-ocsf array and an OCSF
mapping's event were dead-lettered as unrecognized; the ocsf format stores each as the class its
class_uid names. Expected values are read in the samples."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.base import Decoded
from tests.unit.holdout_support import auto_decoded, conformant_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"


def _case(name: str) -> bytes:
    return (CASES / name).read_bytes()


def _auto(doc: bytes, tmp_path: Path) -> Decoded:
    return auto_decoded(doc, tmp_path, "ocsf")


_rows = conformant_rows


def test_prowler_json_ocsf(tmp_path: Path) -> None:
    d = _auto(_case("ocsf-prowler-api-manual.ocsf.json"), tmp_path)
    assert not d.dead and d.events == 3
    first, *_ = rows = _rows(d)["detection_finding"]
    assert len(rows) == 3
    assert (first["class_uid"], first["type_uid"], first["activity_id"], first["severity_id"]) == (2004, 200401, 1, 2)
    assert first["time"] == 1735570800000  # Prowler writes epoch seconds
    assert first["time_dt"].isoformat() == "2024-12-30T15:00:00+00:00"
    m = first["metadata"]
    assert (m["version"], m["log_version"], m["event_code"]) == ("1.8.0", "1.4.0", "accessanalyzer_enabled")
    assert (m["product"]["name"], m["product"]["vendor_name"], m["log_name"]) == ("Prowler", "Prowler", "ocsf")
    fi = first["finding_info"]
    assert fi["uid"] == "prowler-aws-accessanalyzer_enabled-123456789012-us-east-1-123456789012"
    assert (fi["created_time"], fi["types"]) == (1735570800000, ["IAM"])
    assert fi["created_time_dt"].isoformat() == "2024-12-30T15:00:00+00:00"
    assert (first["status_code"], first["cloud"]["account"]["type_id"]) == ("FAIL", 10)
    [res] = first["resources"]
    assert (res["uid"], res["group"]["name"]) == ("arn:aws:iam::123456789012:root", "accessanalyzer")
    assert json.loads(res["data"])["metadata"]["status"] == "NOT_AVAILABLE"  # json_t: its JSON text
    assert json.loads(first["unmapped"])["compliance"]["CIS-1.4"] == ["1.20"]
    assert json.loads(first["raw_data"])["class_name"] == "Detection Finding"


def test_ocsf_mapping_event_authentication(tmp_path: Path) -> None:
    d = _auto(_case("ocsf-okta-authentication.ocsf"), tmp_path)
    [r] = _rows(d)["authentication"]
    assert (r["class_uid"], r["activity_name"], r["logon_type_id"], r["status_id"]) == (3002, "Logon", 99, 1)
    assert r["time_dt"].isoformat() == "2024-08-13T15:58:20+00:00"
    assert (r["actor"]["user"]["email_addr"], r["src_endpoint"]["ip"]) == ("john.doe@example.com", "10.0.0.1")
    assert r["src_endpoint"]["location"]["long"] == -74.01
    assert [o["name"] for o in r["observables"]] == ["src_endpoint.ip", "http_request.user_agent", "actor.user.name"]
    assert r["metadata"]["uid"] != "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a"  # secpipe's identity of the record
    un = json.loads(r["unmapped"])
    assert un["metadata.uid"] == "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a" and un["securityContext"] == {"isProxy": False}


def test_unknown_keys_and_types_kept_in_unmapped() -> None:
    # the Okta event with a key OCSF 1.8.0 does not have and a port that is not a number: kept aside
    doc = json.loads(_case("ocsf-okta-authentication.ocsf"))
    doc["src_endpoint"]["port"] = "https"
    doc["src_endpoint"]["vendor_zone"] = "corp"
    doc["observables"][0]["extra"] = 1
    d = formats.get("ocsf").decode(json.dumps(doc).encode(), "x")
    [r] = _rows(d)["authentication"]
    un = json.loads(r["unmapped"])
    assert (un["src_endpoint.port"], un["src_endpoint.vendor_zone"], un["observables[0].extra"]) == ("https", "corp", 1)
    assert un["securityContext"] == {"isProxy": False}  # (the record's own unmapped, merged)
    assert r["src_endpoint"]["ip"] == "10.0.0.1" and r["src_endpoint"].get("port") is None


def test_classes_apart_and_bad_records_dead_lettered() -> None:
    okta = json.loads(_case("ocsf-okta-authentication.ocsf"))
    prowler = json.loads(_case("ocsf-prowler-api-manual.ocsf.json"))
    lines = [okta, prowler[0], {**okta, "class_uid": 9999}, {**okta, "class_uid": "3002"}, {"note": 1}, prowler[1]]
    d = formats.get("ocsf").decode(("\n".join(json.dumps(x) for x in lines) + "\n").encode(), "x")
    assert d.events == 6
    rows = _rows(d)
    assert (len(rows["authentication"]), len(rows["detection_finding"])) == (1, 2)
    assert sorted(x.reason for x in d.dead) == [
        "not an OCSF event: class_uid 9999 is not a class of OCSF 1.8.0",
        "not an OCSF event: no integer class_uid",
        "not an OCSF event: no integer class_uid",
    ]


#: prowler-cloud/prowler docs/tutorials/reporting.md (commit 01e2786e), "JSON-OCSF": Prowler 3's example
#: Security Finding (OCSF 1.0.0-rc.3), its compliance requirements and labels shortened
_PROWLER3 = {
    "finding": {"title": "Check if ACM Certificates are about to expire in specific days or less",
                "desc": "Check if ACM Certificates are about to expire in specific days or less",
                "supporting_data": {"Risk": "Expired certificates can impact service availability.", "Notes": ""},
                "remediation": {"kb_articles": ["https://docs.aws.amazon.com/config/latest/developerguide/acm-certificate-expiration-check.html"],
                                "desc": "Monitor certificate expiration and take automated action to renew; replace or remove."},
                "types": ["Data Protection"],
                "src_url": "https://docs.aws.amazon.com/config/latest/developerguide/acm-certificate-expiration-check.html",
                "uid": "prowler-aws-acm_certificates_expiration_check-012345678912-eu-west-1-*.xxxxxxxxxxxxxx",
                "related_events": []},
    "resources": [{"group": {"name": "acm"}, "region": "eu-west-1", "name": "xxxxxxxxxxxxxx",
                   "uid": "arn:aws:acm:eu-west-1:012345678912:certificate/xxxxxxxxxxxxxx",
                   "labels": [{"Key": "project", "Value": "prowler-pro"}], "type": "AwsCertificateManagerCertificate",
                   "details": ""}],
    "status_detail": "ACM Certificate for xxxxxxxxxxxxxx expires in 111 days.",
    "compliance": {"status": "Success", "requirements": ["CISA: ['your-data-2']", "SOC2: ['cc_6_7']"],
                   "status_detail": "ACM Certificate for xxxxxxxxxxxxxx expires in 111 days."},
    "message": "ACM Certificate for xxxxxxxxxxxxxx expires in 111 days.", "severity_id": 4, "severity": "High",
    "cloud": {"account": {"name": "", "uid": "012345678912"}, "region": "eu-west-1", "org": {"uid": "", "name": ""},
              "provider": "aws", "project_uid": ""},
    "time": "2023-06-30 10:28:55.297615",
    "metadata": {"original_time": "2023-06-30T10:28:55.297615", "profiles": ["dev"],
                 "product": {"language": "en", "name": "Prowler", "version": "3.6.1", "vendor_name": "Prowler/ProwlerPro",
                             "feature": {"name": "acm_certificates_expiration_check", "uid": "acm_certificates_expiration_check",
                                         "version": "3.6.1"}},
                 "version": "1.0.0-rc.3"},
    "state_id": 0, "state": "New", "status_id": 1, "status": "Success", "type_uid": 200101,
    "type_name": "Security Finding: Create", "impact_id": 0, "impact": "Unknown", "confidence_id": 0,
    "confidence": "Unknown", "activity_id": 1, "activity_name": "Create", "category_uid": 2,
    "category_name": "Findings", "class_uid": 2001, "class_name": "Security Finding",
}  # fmt: skip


def test_prowler3_security_finding_empty_object_array_and_text_time() -> None:
    # an empty array of objects (finding.related_events: []) was an Arrow list<null> the schema refused,
    # which dead-lettered the record; a time as text; labels of another shape kept in unmapped
    d = formats.get("ocsf").decode(json.dumps([_PROWLER3], indent=4).encode(), "x")
    assert not d.dead and d.events == 1
    [b] = d.batches
    [r] = b.to_pylist()
    assert (r["class_uid"], r["finding"]["uid"][:40], r["time"]) == (2001, "prowler-aws-acm_certificates_expiration_", 1688120935297)
    assert json.loads(r["finding"]["supporting_data"])["Notes"] == ""
    assert r["resources"][0]["uid"] == "arn:aws:acm:eu-west-1:012345678912:certificate/xxxxxxxxxxxxxx"
    un = json.loads(r["unmapped"])
    assert un["resources[0].labels[0]"] == {"Key": "project", "Value": "prowler-pro"}
    assert un["metadata.product.language"] == "en"


def test_records_of_one_class_with_more_attributes_later() -> None:
    # the typed decode reads a class's records by Structs of the attributes its records have had first
    # (ocsf_json._Typed): an attribute first seen empty ([] of objects), then with items, a nested object
    # and a base attribute first seen in a later record, are stored as a first record's are
    okta = json.loads(_case("ocsf-okta-authentication.ocsf"))
    first = {**okta, "observables": []}
    later = {**okta, "count": 3, "start_time": 1723564700, "device": {**okta["device"], "os": {"name": "Mac OS X", "type_id": 300}}}
    lines = [first, okta, later, {**later, "src_endpoint": {**okta["src_endpoint"], "vendor_zone": "corp"}}]
    d = formats.get("ocsf").decode(("\n".join(json.dumps(x) for x in lines) + "\n").encode(), "x")
    assert not d.dead
    rows = _rows(d)["authentication"]
    assert [len(r["observables"] or []) for r in rows] == [0, 3, 3, 3]
    assert [r["count"] for r in rows] == [None, None, 3, 3]
    assert rows[2]["start_time"] == 1723564700000 and rows[2]["device"]["os"]["name"] == "Mac OS X"
    assert rows[1]["device"].get("os") is None
    assert json.loads(rows[3]["unmapped"])["src_endpoint.vendor_zone"] == "corp"


def test_a_record_with_time_dt_alone_keeps_its_time_beside_records_with_time() -> None:
    # the OCSF examples' Okta event once with its time, once with only time_dt (as an export that drops the
    # epoch writes it): the batch's time_dt column was left out where some record had time, so the second
    # took the receipt time
    okta = json.loads(_case("ocsf-okta-authentication.ocsf"))
    timed = {**okta, "time": 1735570800000}
    dated = {k: v for k, v in okta.items() if k != "time"} | {"time_dt": "2024-06-01T10:00:00Z"}
    d = formats.get("ocsf").decode(f"{json.dumps(timed)}\n{json.dumps(dated)}".encode(), "x")
    assert not d.dead
    assert sorted(r["time"] for r in _rows(d)["authentication"]) == [1717236000000, 1735570800000]
