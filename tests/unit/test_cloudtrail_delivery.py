"""CloudTrail records as they arrive by routes other than S3 files, and Insights records.

The record inside every wrapper is the real one of the Falco trace file (see
tests/cases/core/SOURCE.md); the wrappers follow the shapes AWS documents:
- EventBridge "AWS API Call via CloudTrail" events (EventBridge user guide: ``version``, ``id``,
  ``detail-type``, ``source``, ``account``, ``time``, ``region``, ``resources``, ``detail``);
- CloudWatch Logs subscription data (CloudWatch Logs user guide, "Subscription filters":
  ``messageType`` DATA_MESSAGE / CONTROL_MESSAGE, ``owner``, ``logGroup``, ``logStream``,
  ``subscriptionFilters``, ``logEvents[]`` with ``id``, ``timestamp``, ``message``), which
  Firehose writes to S3 back to back with no separator;
- ``aws cloudtrail lookup-events`` output (CLI reference: ``Events[]`` with ``EventId``,
  ``EventName``, ``ReadOnly``, ``Username``, ``EventTime``, ``EventSource``, ``Resources``,
  ``CloudTrailEvent`` holding the record as a JSON string).
Insights records follow "CloudTrail record contents for Insights events for trails".
A wrapped record must come out exactly as the record read from an S3 file: same uid, same row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats.cloudtrail import CloudTrail


@pytest.fixture
def record(real: Path) -> dict:
    return json.loads((real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes())["Records"][0]


def _rows(data: bytes) -> tuple[list[dict], list]:
    dec = CloudTrail().decode(data, "test")
    return [r for b in dec.batches for r in b.to_pylist()], dec.dead


def _eventbridge(rec: dict) -> dict:
    return {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ec2", "account": "123456789012", "time": rec["eventTime"], "region": rec["awsRegion"],
            "resources": [], "detail": rec}


def _cwl(*recs: dict) -> dict:
    return {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "aws-cloudtrail-logs",
            "logStream": "123456789012_CloudTrail_us-east-2", "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": f"3195310660696698337880902507980421114328961542429EXAMPL{i}", "timestamp": 1394140974000,
                           "message": json.dumps(r)} for i, r in enumerate(recs)]}


def test_every_wrapper_gives_the_s3_record(record: dict) -> None:
    (direct,), dead = _rows(json.dumps({"Records": [record]}).encode())
    assert dead == []
    lookup = {"Events": [{"EventId": "6a7e8feb-0000-4cf7-a9f1-bf3703467718", "EventName": record["eventName"], "ReadOnly": "false",
                          "Username": "Alice", "EventTime": "2014-03-06T21:22:54+00:00",
                          "EventSource": record["eventSource"], "Resources": [], "CloudTrailEvent": json.dumps(record)}]}
    for wrapped in (_eventbridge(record), _cwl(record), lookup):
        data = json.dumps(wrapped, indent=2).encode()
        assert formats.detect(data[:4096]).name == "cloudtrail"
        rows, dead = _rows(data)
        assert dead == [] and rows == [direct], wrapped.get("detail-type") or wrapped.get("messageType") or "lookup"


def test_eventbridge_ndjson_and_firehose_concatenation(record: dict) -> None:
    other = dict(record, eventID="b5ab2b63-7a35-4d36-a3f8-1d8c9c5e0e8a", eventName="StopInstances")
    ndjson = (json.dumps(_eventbridge(record)) + "\n" + json.dumps(_eventbridge(other)) + "\n").encode()
    rows, dead = _rows(ndjson)
    assert dead == [] and [r["api"]["operation"] for r in rows] == ["StartInstances", "StopInstances"]
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [
                   {"id": "", "timestamp": 1432826855000,
                    "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
    firehose = (json.dumps(control) + json.dumps(_cwl(record)) + json.dumps(_cwl(other, record))).encode()
    dec = CloudTrail().decode(firehose, "s3://bucket/firehose/2026/11/29/part")
    assert dec.dead == [] and dec.events == 3  # the control message holds no event
    ops = [r["api"]["operation"] for b in dec.batches for r in b.to_pylist()]
    assert sorted(ops) == ["StartInstances", "StartInstances", "StopInstances"]


def test_cwl_message_that_is_not_cloudtrail_is_dead_lettered(record: dict) -> None:
    msg = _cwl(record)
    msg["logEvents"].append({"id": "x", "timestamp": 1, "message": "START RequestId: 8c2b Version: $LATEST"})
    rows, dead = _rows(json.dumps(msg).encode())
    # the Lambda log line goes alone; the CloudTrail record in the same envelope is stored
    assert len(rows) == 1 and rows[0]["api"]["operation"] == record["eventName"] and len(dead) == 1
    assert "not a JSON object" in dead[0].reason and dead[0].raw.startswith(b"START RequestId")


def test_insights_record_is_api_activity_other() -> None:
    insight = {"eventVersion": "1.07", "eventTime": "2019-11-14T00:51:00Z", "awsRegion": "us-east-1",
               "eventID": "a9edc959-9488-4790-be0f-05d60e56b547", "eventType": "AwsCloudTrailInsight",
               "recipientAccountId": "123456789012", "sharedEventID": "12edc982-3348-4794-83d3-a3db26525049",
               "insightDetails": {"state": "Start", "eventSource": "ssm.amazonaws.com",
                                  "eventName": "UpdateInstanceAssociationStatus", "insightType": "ApiCallRateInsight",
                                  "insightContext": {"statistics": {"baseline": {"average": 1.7561507937e-05},
                                                                    "insight": {"average": 0.6}},
                                                     "attributions": []}},
               "eventCategory": "Insight"}
    (row,), dead = _rows(json.dumps({"Records": [insight]}).encode())
    assert dead == []
    assert row["class_uid"] == 6003 and row["activity_id"] == 99 and row["type_uid"] == 600399
    assert row["api"]["operation"] == "UpdateInstanceAssociationStatus"
    assert row["api"]["service"]["name"] == "ssm.amazonaws.com"
    assert row["cloud"]["region"] == "us-east-1" and row["cloud"]["account"]["uid"] == "123456789012"
    unmapped = json.loads(row["unmapped"])
    assert unmapped["insightDetails"]["insightType"] == "ApiCallRateInsight"
    assert unmapped["eventCategory"] == "Insight" and unmapped["sharedEventID"] == insight["sharedEventID"]
    del insight["insightDetails"]["eventName"]
    rows, dead = _rows(json.dumps({"Records": [insight]}).encode())
    assert rows == [] and "without eventName/eventSource" in dead[0].reason


def test_digest_file_holds_no_event() -> None:
    """A digest file (fields per "CloudTrail digest file structure") is recognized: no event, no dead letter."""
    digest = {"awsAccountId": "111122223333", "digestStartTime": "2015-08-17T14:01:31Z",
              "digestEndTime": "2015-08-17T15:01:31Z", "digestS3Bucket": "S3-bucket-name",
              "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/"
                                "111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
              "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
              "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": "2015-08-17T14:52:27Z",
              "oldestEventTime": "2015-08-17T14:42:27Z", "previousDigestS3Bucket": "S3-bucket-name",
              "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/"
                                        "111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
              "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
              "previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": "50887ccffad4c002b97caa37cb",
              "logFiles": [{"s3Bucket": "S3-bucket-name",
                            "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/"
                                        "111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
                            "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
                            "hashAlgorithm": "SHA-256", "newestEventTime": "2015-08-17T14:52:27Z",
                            "oldestEventTime": "2015-08-17T14:42:27Z"}]}
    data = json.dumps(digest).encode()
    assert formats.detect(data[:4096]).name == "cloudtrail"
    dec = CloudTrail().decode(data, "digest")
    assert dec.batches == [] and dec.dead == [] and dec.events == 0


def _delivery_files(real: Path) -> list[bytes]:
    """Real S3-delivery-shaped files ({"Records": [...]}) of the Falco trace files."""
    files = [real / "falco/test/trace_files/plugins/alice_start_instances.json",
             real / "falco/test/trace_files/plugins/alice_start_instances_bigevent.json"]  # fmt: skip
    return [json.dumps(json.loads(p.read_bytes()), separators=(",", ":")).encode() for p in files]


@pytest.mark.parametrize("native", [True, False])
def test_delivery_files_back_to_back_map_as_their_records(real: Path, native: bool, python_only) -> None:  # type: ignore[no-untyped-def]
    """Files concatenated (``zcat *.json.gz``, a multi-member gzip), one a line, or pretty-printed
    back to back: each file's records are stored as when the file comes alone (same uids)."""
    if not native:
        python_only()
    files = _delivery_files(real)
    alone = [CloudTrail().decode(f, "alone") for f in files]
    want = sorted(u for d in alone for b in d.batches for u in b.column("metadata").field("uid").to_pylist())
    assert len(want) == sum(d.events for d in alone) >= 2
    pretty = [json.dumps(json.loads(f), indent=2).encode() for f in files]
    for joined in (b"".join(files), b"\n".join(files) + b"\n", b"\n".join(pretty), b"".join(files[::-1]) + files[0]):
        dec = CloudTrail().decode(joined, "joined")
        got = sorted(u for b in dec.batches for u in b.column("metadata").field("uid").to_pylist())
        assert dec.dead == [], dec.dead[:1]
        assert dec.events == len(got)
        assert set(got) == set(want) and len(got) >= len(want)


def test_a_line_of_records_null_is_still_a_dead_letter(real: Path) -> None:
    """Only a list under ``Records`` is opened: ``{"Records": null}`` holds no records and is no event."""
    (f, _other) = _delivery_files(real)
    dec = CloudTrail().decode(f + b'\n{"Records":null,"note":"x"}\n', "mixed")
    assert dec.events == len(json.loads(f)["Records"]) + 1
    assert [d.reason for d in dec.dead] == ["CloudTrail record without eventName/eventSource (nor insightDetails naming them)"]
