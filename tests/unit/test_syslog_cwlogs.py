"""Syslog lines inside CloudWatch Logs envelopes (session 18).

The CloudWatch agent ships ``/var/log/secure`` and the like to a log group; a subscription
(Kinesis, Firehose, Lambda) delivers them in the envelope the CloudWatch Logs guide documents
("Using CloudWatch Logs subscription filters": ``messageType``, ``owner``, ``logGroup``,
``logStream``, ``subscriptionFilters``, ``logEvents[]`` of ``id``/``timestamp``/``message``), and
``aws logs filter-log-events`` prints them as ``events[]`` with ``eventId``/``ingestionTime``.
Such envelopes of text lines were recognized by no format (dead-lettered whole); CloudTrail
and EKS envelopes, whose messages are JSON, stay theirs.

The messages are the real OpenSSH log of ``tests/cases/holdout`` (loghub, see its SOURCE.md);
the envelopes are built to the documented shape around them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from secpipe import formats
from tests.unit.test_formats_holdout import _rows

CASES = Path(__file__).parents[1] / "cases" / "holdout"
LINES = (CASES / "loghub_OpenSSH_head.log").read_text().splitlines()
T0 = 1765349740000  # 2025-12-10T06:55:40Z: the log's own lines are of Dec 10 06:55


def _envelope(messages: list[str], first_id: int = 0, **kw: Any) -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/var/log/secure",
            "logStream": "i-0123456789abcdef0", "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": str(37000000000000000000000000000000000000000000000000000000 + first_id + i),
                           "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)], **kw}  # fmt: skip


def _uids(d: Any) -> list[str]:
    return sorted(r["metadata"]["uid"] for r in _rows(d))


def test_subscription_envelopes_of_syslog_lines() -> None:
    fmt = formats.get("syslog")
    failed = next(x for x in LINES if "Failed password" in x)
    one = _envelope([*LINES[:8], failed, "START RequestId: 8f5e2b1a Version: $LATEST\n"])
    two = _envelope(LINES[8:12], first_id=100)
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": T0,
               "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}  # fmt: skip
    body = b"".join(json.dumps(e).encode() for e in (one, control, two))  # Firehose writes them back to back
    assert formats.detect(body).name == "syslog"
    d = fmt.decode(body, "firehose")
    assert not d.dead and d.events == 14
    rows = _rows(d)
    assert len(rows) == 14 and len(set(_uids(d))) == 14  # the repeated failure is an event of its own
    by_msg = {r["raw_data"]: r for r in rows}
    auth = [r for r in rows if r["class_uid"] == 3002]
    assert {r["status"] for r in auth} >= {"Failure"}
    assert all(r["device"]["hostname"] == "LabSZ" for r in rows if r["raw_data"].startswith("Dec"))
    lam = by_msg["START RequestId: 8f5e2b1a Version: $LATEST"]  # no time of its own: the log event's
    assert lam["time"] == T0 + 9 and lam["class_uid"] == 0
    # a redelivered envelope collapses (CloudWatch's id is the identity), under any source
    assert _uids(fmt.decode(json.dumps(two).encode(), "retry")) == sorted(
        r["metadata"]["uid"] for r in rows if r["raw_data"] in LINES[8:12])


def test_logs_api_answer_and_bad_log_event() -> None:
    fmt = formats.get("syslog")
    answer = {"events": [{"logStreamName": "i-0123", "timestamp": T0, "message": m, "ingestionTime": T0 + 500,
                          "eventId": str(900 + i)} for i, m in enumerate(LINES[:3])], "searchedLogStreams": []}  # fmt: skip
    raw = json.dumps(answer).encode()
    assert formats.detect(raw).name == "syslog"
    d = fmt.decode(raw, "cli")
    assert not d.dead and len(_rows(d)) == 3
    env = _envelope(LINES[:2])
    env["logEvents"].insert(1, {"id": "x", "timestamp": T0, "message": {"not": "a string"}})
    d = fmt.decode(json.dumps(env).encode(), "bad")
    assert len(_rows(d)) == 2 and d.events == 3
    assert [x.reason for x in d.dead] == ["CloudWatch Logs log event without a string message: no log line to map"]


def test_json_message_envelopes_stay_with_their_formats(real: Path) -> None:
    """CloudTrail records and EKS audit events inside envelopes are JSON text: not syslog."""
    rec = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"][0]
    env = _envelope([json.dumps(rec)])
    assert formats.detect(json.dumps(env).encode()).name == "cloudtrail"
    spaced = json.dumps(_envelope(["  " + json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1"})])).encode()
    found = formats.detect(spaced)  # a JSON message after blanks is JSON still
    assert found is None or found.name != "syslog"


def test_secpipe_ingest_of_a_firehose_file(tmp_path: Path) -> None:
    """``secpipe ingest --format auto`` of a gzip file as Firehose writes it to S3."""
    body = b"".join(json.dumps(_envelope(LINES[i : i + 7], first_id=i)).encode() for i in range(0, 21, 7))
    path = tmp_path / "secure-firehose-1-2025-12-10-06-55-40.gz"
    path.write_bytes(gzip.compress(body))
    out = subprocess.run([sys.executable, "-m", "secpipe.cli.main", "ingest", "--json", "--data", str(tmp_path / "d"), str(path)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    summary = json.loads(out.stdout)
    assert summary["events"] == 21 and summary["dead_letter"] == 0
    assert sum(summary["stored"].values()) == 21
