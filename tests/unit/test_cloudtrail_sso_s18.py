"""IAM Identity Center sign-ins in CloudTrail (session 18): Authentication, known by source and name.

The access portal's ``Authenticate`` (sign-in), ``Federate`` (into an account or application: a new
session there) and ``Logout``, and ``CreateToken`` (the OIDC token ``aws sso login`` gets; from
``sso-oauth.amazonaws.com``, ``sso.amazonaws.com`` before) were API Activity. Their names are not
unique to sign-in, so only with IAM Identity Center's eventSource are they Authentication. The
records are Panther's real ``CreateToken`` (``panther-analysis/extracted/cloudtrail.json``) and that
record with its eventName/eventSource changed to the documented ones.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.native_support import same_both_ways

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
RECORDS = json.loads((REAL / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())["Records"]
TOKEN = next(r for r in RECORDS if r["eventName"] == "CreateToken")
LOGIN = next(r for r in RECORDS if r["eventName"] == "ConsoleLogin")
API = next(r for r in RECORDS if r["eventName"] == "UpdateFunctionConfiguration20150331v2")


def _as(source: str, name: str, base: dict[str, Any] = TOKEN) -> dict[str, Any]:
    rec = copy.deepcopy(base)
    rec["eventSource"], rec["eventName"] = source, name
    return rec


CASES = [  # (source, name, class_uid, activity_id)
    ("sso.amazonaws.com", "CreateToken", 3002, 1),
    ("sso-oauth.amazonaws.com", "CreateToken", 3002, 1),
    ("sso.amazonaws.com", "Authenticate", 3002, 1),
    ("sso.amazonaws.com", "Federate", 3002, 1),
    ("sso.amazonaws.com", "Logout", 3002, 2),
    ("example.amazonaws.com", "Logout", 6003, None),  # another service's Logout: an API call
    ("example.amazonaws.com", "CreateToken", 6003, None),
]


def _rows(records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, what: object) -> list[dict[str, Any]]:
    d = same_both_ways("cloudtrail", json.dumps({"Records": records}).encode(), monkeypatch, what)
    assert not d.dead and d.events == len(records)
    return [r for b in d.batches for r in b.to_pylist()]


@pytest.mark.parametrize(("source", "name", "class_uid", "activity_id"), CASES)
def test_identity_center_sign_ins(source: str, name: str, class_uid: int, activity_id: int | None,
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # alone, and among an API call and a console sign-in (the walker's aside and the batch split)
    for records in ([_as(source, name)], [API, _as(source, name), LOGIN]):
        rows = _rows(records, monkeypatch, (source, name))
        (r,) = [r for r in rows if json.loads(r["raw_data"])["eventName"] == name]
        assert r["class_uid"] == class_uid
        if class_uid == 3002:
            assert r["activity_id"] == activity_id and r["type_uid"] == 300200 + activity_id
            assert r["user"]["uid"] == "<internal victim user id>" and r["user"]["name"] == "<victim display name>"
            assert r["status_id"] == 1
            assert r["service"]["name"] == source
        else:
            assert r["api"]["operation"] == name
        assert {x["class_uid"] for x in rows if json.loads(x["raw_data"])["eventName"] == "ConsoleLogin"} <= {3002}


def test_identity_center_sign_in_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = _as("sso.amazonaws.com", "Authenticate")
    rec["errorCode"], rec["errorMessage"] = "AccessDenied", "Authentication failed"
    (r,) = _rows([rec], monkeypatch, "failed")
    assert (r["class_uid"], r["status_id"]) == (3002, 2)
