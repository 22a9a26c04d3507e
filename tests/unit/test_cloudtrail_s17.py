"""CloudTrail, Kubernetes audit and syslog against other shapes their producers write (session 17).

- An empty ``errorCode`` is no error code: CloudTrail writes ``errorCode`` only when the call
  failed, and Panther's own test event for a deleted S3 bucket (``aws_s3_bucket_deleted.yml``, in
  ``shared/data/real``) carries ``"errorCode": ""`` for the successful ``DeleteBucket`` its rule
  fires on. It was stored as a Failure with an empty status code.
- CloudWatch Logs API answers: CloudTrail trails and EKS control planes deliver to CloudWatch
  Logs, from which logs are pulled with ``aws logs filter-log-events`` / ``get-log-events`` (EKS's
  documentation reads its audit log so). The answers (``{"events": [{"timestamp", "message",
  "ingestionTime", ...}], "nextForwardToken"/"searchedLogStreams", ...}``, CloudWatch Logs API
  reference: FilterLogEvents, GetLogEvents) and their events alone (``--query events``), Logs
  Insights answers and a log group exported to S3 (``<timestamp> <message>`` lines) were not
  recognized for CloudTrail and dead-lettered as no audit event for Kubernetes. The cases
  wrap the real Panther records of ``shared/data/real`` in those shapes (spec-built).
- SNS notifications (an EventBridge rule's SNS target, as an HTTPS or SQS subscriber receives
  them: ``{"Type": "Notification", "TopicArn", "Message": "<the EventBridge event as text>"}``,
  Amazon SNS message format) were recognized by no format; CloudTrail's own log-delivery
  notification (``{"s3Bucket", "s3ObjectKey": [...]}``, CloudTrail's SNS documentation) holds
  no event and must not be dead-lettered.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import _rows


def _panther(real: Path) -> list[dict[str, Any]]:
    recs: list[dict[str, Any]] = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"]
    return recs


def test_empty_error_code_is_no_error(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _panther(real)
    deleted = next(r for r in recs if r.get("errorCode") == "" and r.get("eventName") == "DeleteBucket")
    denied = next(r for r in recs if r.get("errorCode") == "AccessDenied")
    absent = copy.deepcopy(deleted)
    del absent["errorCode"]
    absent["eventID"] = "no-error-code"
    doc = json.dumps({"Records": [deleted, denied, absent]}).encode()
    rows = {r["metadata"]["original_event_uid"]: r for r in _rows(same_both_ways("cloudtrail", doc, monkeypatch, "errorCode"))}
    ok = rows[deleted["eventID"]]
    assert (ok["status_id"], ok["status"], ok["status_code"]) == (1, "Success", None)
    assert {k: ok[k] for k in ("status_id", "status", "status_code", "status_detail")} == {
        k: rows["no-error-code"][k] for k in ("status_id", "status", "status_code", "status_detail")}
    bad = rows[denied["eventID"]]
    assert (bad["status_id"], bad["status"], bad["status_code"]) == (2, "Failure", "AccessDenied")


def _filter_answer(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """A FilterLogEvents answer as the AWS CLI prints it."""
    return {"events": [{"logStreamName": "s", "timestamp": 1700000000000 + i, "message": json.dumps(r),
                        "ingestionTime": 1700000001000, "eventId": str(i)} for i, r in enumerate(recs)],
            "searchedLogStreams": [{"logStreamName": "s", "searchedCompletely": True}], "nextToken": "t"}  # fmt: skip


def _get_answer(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """A GetLogEvents answer as boto3 gives it (with its ResponseMetadata)."""
    return {"events": [{"timestamp": 1700000000000 + i, "message": json.dumps(r), "ingestionTime": 1700000001000}
                       for i, r in enumerate(recs)],
            "nextForwardToken": "f/1", "nextBackwardToken": "b/1", "ResponseMetadata": {"HTTPStatusCode": 200}}  # fmt: skip


def _insights_answer(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """A Logs Insights GetQueryResults answer of ``fields @timestamp, @message``."""
    return {"results": [[{"field": "@timestamp", "value": "2023-11-14 22:13:20.000"},
                         {"field": "@message", "value": json.dumps(r)}, {"field": "@ptr", "value": f"p{i}"}]
                        for i, r in enumerate(recs)],
            "statistics": {"recordsMatched": float(len(recs)), "recordsScanned": 9.0, "bytesScanned": 9.0},
            "status": "Complete"}  # fmt: skip


def _shapes(recs: list[dict[str, Any]]) -> dict[str, bytes]:
    fil, get = _filter_answer(recs), _get_answer(recs)
    return {"filter-log-events": json.dumps(fil, indent=4).encode(), "get-log-events": json.dumps(get).encode(),
            "get-query-results": json.dumps(_insights_answer(recs), indent=4).encode(),
            "--query events": json.dumps(fil["events"], indent=2).encode(),
            "events one a line": b"".join(json.dumps(e).encode() + b"\n" for e in get["events"]),
            # a log group exported to S3 (CreateExportTask): "<timestamp> <message>" lines
            "export to S3": b"".join(b"2023-11-14T22:13:2%d.000Z %s\n" % (i % 10, json.dumps(r).encode())
                                     for i, r in enumerate(recs))}  # fmt: skip


@pytest.mark.parametrize("fmt", ["cloudtrail", "k8s_audit"])
def test_cloudwatch_logs_api_answers(real: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    if fmt == "cloudtrail":
        recs = [r for r in _panther(real) if r.get("eventTime")][:5]
        bare = json.dumps({"Records": recs}).encode()
    else:
        recs = [json.loads(x) for x in (real / "panther-analysis/extracted/k8s_audit.jsonl").read_text().splitlines()[:5]]
        bare = b"".join(json.dumps(r).encode() + b"\n" for r in recs)
    want = sorted(r["metadata"]["uid"] for r in _rows(formats.get(fmt).decode(bare, "bare")))
    for shape, doc in _shapes(recs).items():
        assert formats.detect(doc[:65536]) is formats.get(fmt), shape
        d = same_both_ways(fmt, doc, monkeypatch, shape)
        assert not d.dead and d.events == len(recs), shape
        assert sorted(r["metadata"]["uid"] for r in _rows(d)) == want, shape  # the record's own uid


def test_cloudwatch_logs_lookalike_is_not_unwrapped(real: Path) -> None:
    """An object with a key no CloudWatch Logs answer has is no answer: left as it is."""
    recs = _panther(real)[:2]
    doc = dict(_filter_answer(recs), note="mine")
    d = formats.get("cloudtrail").decode(json.dumps(doc).encode(), "x")
    assert d.events == 1 and len(d.dead) == 1 and not d.batches
    event = dict(_filter_answer(recs)["events"][0], extra=1)
    d = formats.get("cloudtrail").decode(json.dumps(event).encode(), "x")
    assert len(d.dead) == 1 and not d.batches


def test_cloudwatch_logs_answer_without_events_holds_none() -> None:
    for doc in ({"events": [], "searchedLogStreams": []}, {"events": [], "nextForwardToken": "f", "nextBackwardToken": "b"}):
        d = formats.get("cloudtrail").decode(json.dumps(doc).encode(), "x")
        assert (d.events, d.dead, d.batches) == (0, [], []), doc


def test_cloudwatch_logs_insights_row_without_message(real: Path) -> None:
    """A query that did not select @message gives rows with no log event: each dead-lettered alone."""
    recs = _panther(real)[:2]
    doc = _insights_answer(recs)
    doc["results"].append([{"field": "@timestamp", "value": "2023-11-14 22:13:20.000"}, {"field": "eventName", "value": "X"}])
    d = formats.get("cloudtrail").decode(json.dumps(doc).encode(), "x")
    assert d.events == 3 and sum(b.num_rows for b in d.batches) == 2
    assert [x.reason for x in d.dead] == ["CloudWatch Logs Insights result row without @message: no log event to map"]
    assert json.loads(d.dead[0].raw) == doc["results"][-1]


def _sns(message: dict[str, Any]) -> dict[str, Any]:
    """An SNS notification as an HTTPS or SQS (raw delivery off) subscriber receives it."""
    return {"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail", "Subject": None, "Message": json.dumps(message),
            "Timestamp": "2024-01-10T10:00:00.000Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}  # fmt: skip


def test_sns_notifications(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = [r for r in _panther(real) if r.get("eventTime")][:3]
    want = sorted(r["metadata"]["uid"] for r in _rows(formats.get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "b")))
    bridged = [{"version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "account": "1",
                "time": r["eventTime"], "region": "us-east-1", "resources": [], "detail": r} for r in recs]  # fmt: skip
    for shape, doc in (("EventBridge event", b"".join(json.dumps(_sns(b)).encode() + b"\n" for b in bridged)),
                       ("record", json.dumps([_sns(r) for r in recs], indent=2).encode())):
        assert formats.detect(doc[:65536]) is formats.get("cloudtrail"), shape
        d = same_both_ways("cloudtrail", doc, monkeypatch, shape)
        assert not d.dead and d.events == len(recs), shape
        assert sorted(r["metadata"]["uid"] for r in _rows(d)) == want, shape


def test_cloudtrail_delivery_notification_holds_no_event() -> None:
    key = "AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_Ln.json.gz"
    doc = json.dumps(_sns({"s3Bucket": "bucket", "s3ObjectKey": [key]})).encode()
    assert formats.detect(doc) is formats.get("cloudtrail")
    d = formats.get("cloudtrail").decode(doc, "x")
    assert (d.events, d.dead, d.batches) == (0, [], [])
    d = formats.get("cloudtrail").decode(json.dumps(_sns({"hello": "world"})).encode(), "x")
    assert d.events == 1 and len(d.dead) == 1 and not d.batches  # another message: no CloudTrail record


@pytest.mark.parametrize("fmt", ["cloudtrail", "k8s_audit"])
def test_export_line_that_is_no_json_stays_dead(fmt: str) -> None:
    doc = b'2023-11-14T22:13:20.000Z {"not json\n2023-11-14T22:13:20.000Z plain text\n'
    d = formats.get(fmt).decode(doc, "x")
    assert d.events == 2 and len(d.dead) == 2 and not d.batches
    assert [x.offset for x in d.dead] == [0, doc.index(b"2023", 1)]
