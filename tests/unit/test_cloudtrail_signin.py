"""CloudTrail sign-in events -> OCSF Authentication (3002), activity by step, outcome by name.

AWS sign-in logs more than ``ConsoleLogin``: the credential challenge/verification steps,
``UserAuthentication`` once every challenge is passed (IAM Identity Center and smart-card
sign-in), ``CheckMfa``, role switching (``SwitchRole``/``ExitRole``), ``ExternalIdPDirectoryLogin``
(AWS docs "AWS sign-in events" and "Understanding sign-in events for smart card users"). Each
reports its outcome under its own name, in ``responseElements`` (console events) or
``serviceEventDetails`` (Identity Center), usually without an errorCode. The records are the
real ones in ../shared/data/real/panther-analysis (``extracted/cloudtrail.json``) and the
Identity Center record of tests/cases/holdout; expectations come from those docs and OCSF 1.8.0
(Authentication activity_id: 1 Logon, 6 Preauth, 7 Account Switch, 99 Other).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import _rows
from tests.unit.test_formats_holdout4 import _idc_record


def _panther(real: Path, name: str) -> list[dict[str, Any]]:
    doc = json.loads((real / "panther-analysis" / "extracted" / "cloudtrail.json").read_text())
    return [r for r in doc["Records"] if r.get("eventName") == name]


def test_console_sign_in_events_by_name(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ExternalIdPDirectoryLogin is a logon (its Failure given only in responseElements); a
    console event that is not a sign-in (PasswordUpdated) stays API Activity, and its
    ``{"PasswordUpdated": "Failure"}`` response is a failure too."""
    idp = _panther(real, "ExternalIdPDirectoryLogin")
    pw = _panther(real, "PasswordUpdated")
    console = _panther(real, "ConsoleLogin")
    assert idp and len(pw) >= 2 and console
    recs = [*idp, *pw, *console]
    d = same_both_ways("cloudtrail", json.dumps({"Records": recs}).encode(), monkeypatch, "console sign-in")
    rows = _rows(d)
    assert not d.dead and len(rows) == len(recs)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_name.setdefault(r["metadata"]["event_code"], []).append(r)
    [login] = by_name["ExternalIdPDirectoryLogin"]
    assert (login["class_uid"], login["activity_id"], login["status_id"]) == (3002, 1, 2)
    for r, src in zip(by_name["PasswordUpdated"], pw, strict=True):
        want = src["responseElements"]["PasswordUpdated"]
        assert (r["class_uid"], r["status"]) == (6003, want)
    for r, src in zip(by_name["ConsoleLogin"], console, strict=True):
        told = (src.get("responseElements") or {}).get("ConsoleLogin")
        assert r["class_uid"] == 3002 and r["status"] == ("Failure" if told == "Failure" else "Success")


@pytest.mark.parametrize(("name", "activity"), [("CredentialChallenge", 6), ("CredentialVerification", 6),
                                                ("CheckMfa", 6), ("SwitchRole", 7), ("ExitRole", 7),
                                                ("RenewRole", 99), ("UserAuthentication", 1)])  # fmt: skip
def test_sign_in_steps_are_authentication(name: str, activity: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step of the real Identity Center record's sign-in, succeeded and failed, beside an
    ordinary API call that stays API Activity."""
    ok, failed = _idc_record(), _idc_record()
    for rec, outcome in ((ok, "Success"), (failed, "Failure")):
        rec["eventName"] = name
        rec["serviceEventDetails"] = {name: outcome}
    api = copy.deepcopy(ok)
    api.update(eventName="GetCallerIdentity", eventSource="sts.amazonaws.com", serviceEventDetails=None)
    d = same_both_ways("cloudtrail", json.dumps({"Records": [ok, api, failed]}).encode(), monkeypatch, name)
    rows = _rows(d)
    assert not d.dead and len(rows) == 3
    auth = [r for r in rows if r["class_uid"] == 3002]
    assert [(r["activity_id"], r["status_id"]) for r in auth] == [(activity, 1), (activity, 2)]
    [call] = [r for r in rows if r["class_uid"] == 6003]
    assert call["api"]["operation"] == "GetCallerIdentity" and call["status_id"] == 1
