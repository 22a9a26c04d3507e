"""CloudTrail, Kubernetes audit and syslog against other shapes their producers write (session 17).

- An empty ``errorCode`` is no error code: CloudTrail writes ``errorCode`` only when the call
  failed, and Panther's own test event for a deleted S3 bucket (``aws_s3_bucket_deleted.yml``, in
  ``shared/data/real``) carries ``"errorCode": ""`` for the successful ``DeleteBucket`` its rule
  fires on. It was stored as a Failure with an empty status code.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

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
