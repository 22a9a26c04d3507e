"""Cloud Audit Logs entries in Pub/Sub messages, read as the entries (session 33).

A log sink routes audit logs to a Pub/Sub topic; a push subscription POSTs each message to an HTTPS
endpoint as ``{"message": {"attributes", "data", "messageId", "message_id", "publishTime",
"publish_time"}, "subscription"}`` (Google's "Push subscriptions" reference), a pull answers
``{"receivedMessages": [{"ackId", "message", "deliveryAttempt"}]}`` (``gcloud pubsub subscriptions pull
--format=json``: a list of those entries), the ``LogEntry`` base64 in ``data``. Such a body was
dead-lettered "no format matched" by ``--format auto``. The entry: Elastic's GCP audit pipeline test line
(tests/cases/sigma_holdout/elastic-gcp-iamcredentials.log), in the message as a sink publishes it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import orjson

from secpipe import formats
from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import ingest_file, sigma_rows

RULES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"
ENTRY = (RULES / "elastic-gcp-iamcredentials.log").read_bytes().strip()


def _message(entry: bytes, n: int = 1) -> dict:
    return {"attributes": {"logging.googleapis.com/timestamp": "2021-06-15T19:09:16.466Z"},
            "data": base64.b64encode(entry).decode(), "messageId": f"253771883296{n}", "message_id": f"253771883296{n}",
            "publishTime": "2021-06-15T19:09:17.123Z", "publish_time": "2021-06-15T19:09:17.123Z"}


def _push(entry: bytes) -> bytes:
    return orjson.dumps({"message": _message(entry), "subscription": "projects/project-id/subscriptions/audit-push"})


def test_push_body_is_stored_as_its_log_entry(tmp_path: Path) -> None:
    f = tmp_path / "push.json"
    f.write_bytes(_push(ENTRY))
    dead, rows = ingest_file(f, tmp_path / "data")
    assert not dead and len(rows) == 1
    (row,) = rows
    direct = formats.get("k8s_audit").decode(ENTRY, "x").batches[0].to_pylist()[0]
    assert row["raw_data"] == direct["raw_data"] and row["metadata"]["uid"] == direct["metadata"]["uid"]
    assert row["class_uid"] == 6003 and row["api"]["service"]["name"] == "iamcredentials.googleapis.com"


def test_sigmahq_gcp_rule_fires_on_the_pushed_entry() -> None:
    doc = json.loads(ENTRY)
    doc["protoPayload"]["methodName"] = "google.iam.credentials.v1.IAMCredentials.GenerateAccessToken"
    rs = load_rules([RULES / "gcp_service_account_impersonation.yml"])
    assert sigma_rows(rs, _push(orjson.dumps(doc)), "k8s_audit") == [0]
    assert sigma_rows(rs, _push(ENTRY), "k8s_audit") == []


def test_pull_answers_and_a_bad_message(tmp_path: Path) -> None:
    pulled = {"receivedMessages": [{"ackId": "RUFeQBJMJxhESVMrQwsqWBFOBCEhPjA", "message": _message(ENTRY), "deliveryAttempt": 1},
                                   {"ackId": "RUFeQBJMJxhESVMrQwsqWBFOBCEhPjB", "message": {**_message(ENTRY, 2), "data": "@@"}}]}
    f = tmp_path / "pull.json"
    f.write_bytes(orjson.dumps(pulled))
    dead, rows = ingest_file(f, tmp_path / "data")
    assert dead == ["Pub/Sub message data is not base64"] and len(rows) == 1
    f.write_bytes(json.dumps(pulled["receivedMessages"][:1], indent=2).encode())  # gcloud's list of entries
    dead, rows = ingest_file(f, tmp_path / "list")
    assert not dead and len(rows) == 1


def test_eventarc_cloudevent_in_structured_mode_is_stored_as_its_log_entry(tmp_path: Path) -> None:
    # Eventarc's audit log event (type google.cloud.audit.log.v1.written) in the CloudEvents JSON event format:
    # the entry as data (or base64 as data_base64, the format's binary data); in binary mode the body is the entry
    event = {"specversion": "1.0", "id": "projects/project-id/logs/cloudaudit.googleapis.com%2Fdata_access-15djrryd6bap",
             "source": "//cloudaudit.googleapis.com/projects/project-id/logs/data_access",
             "type": "google.cloud.audit.log.v1.written", "time": "2021-06-15T19:09:16.466Z",
             "datacontenttype": "application/json; charset=utf-8", "subject": "iamcredentials.googleapis.com/projects/-",
             "serviceName": "iamcredentials.googleapis.com", "data": json.loads(ENTRY)}
    encoded = {k: v for k, v in event.items() if k != "data"} | {"data_base64": base64.b64encode(ENTRY).decode()}
    f = tmp_path / "events.json"
    f.write_bytes(orjson.dumps(event) + b"\n" + orjson.dumps({**encoded, "id": "2"}) + b"\n")
    dead, rows = ingest_file(f, tmp_path / "data")
    direct = formats.get("k8s_audit").decode(ENTRY, "x").batches[0].to_pylist()[0]
    assert not dead and [r["raw_data"] for r in rows] == [direct["raw_data"]]  # the same entry twice: one event
