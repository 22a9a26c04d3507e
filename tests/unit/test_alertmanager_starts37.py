"""An alert's ``startsAt`` as Alertmanager itself treats it (prometheus/alertmanager ``api/v2/api.go``
``postAlertsHandler``, "Ensure StartsAt is set"): a zero or absent start is the alert's ``endsAt`` where it has
one, else the time Alertmanager received it; a time it cannot parse is refused (the request's JSON is no
``PostableAlert``: 400 ``bad_data``), so no alert Alertmanager sends holds one.

secpipe: a zero (``0001-01-01T00:00:00Z``, Go's zero ``time.Time``), empty or absent ``startsAt`` takes
``endsAt``, else the receipt time, said in ``unmapped.secpipe_startsAt`` ("endsAt" / "receipt", with the
``secpipe:time_from_receipt`` label for the latter, whose ``start_time`` stays null); a ``startsAt`` or ``endsAt`` that is no time dead-letters
that alert alone with the reason (it was taken as the receipt time without a word before).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded

START, END = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"
START_MS, END_MS = 1714557600000, 1714561200000
ZERO = "0001-01-01T00:00:00Z"


def _alert(fp: str, **kw: Any) -> dict[str, Any]:
    a = {"status": "firing", "labels": {"alertname": "A", "severity": "warning"}, "annotations": {"summary": "s"},
         "startsAt": START, "endsAt": ZERO, "generatorURL": "http://prom/graph", "fingerprint": fp}
    a.update(kw)
    return {k: v for k, v in a.items() if v is not ...}


def _decode(*alerts: dict[str, Any]) -> Decoded:
    doc = {"version": "4", "status": "firing", "receiver": "r", "groupKey": "{}:{}", "alerts": list(alerts)}
    return formats.get("alertmanager").decode(json.dumps(doc).encode(), "am.json")


def _rows(res: Decoded) -> dict[str, dict[str, Any]]:
    return {r["finding_info"]["uid"]: r for b in res.batches for r in b.to_pylist()}


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-45T10:00:00Z", "1714557600", "2024-05-01 10:00 +99:99"])
@pytest.mark.parametrize("key", ["startsAt", "endsAt"])
def test_a_time_that_is_no_time_dead_letters_its_alert_alone(key: str, bad: str) -> None:
    res = _decode(_alert("good"), _alert("bad", **{key: bad, "status": "resolved"}))
    assert set(_rows(res)) == {"good"}
    (dead,) = res.dead
    assert dead.offset == 1 and f"`$.{key}`" in dead.reason and repr(bad) in dead.reason and "RFC 3339" in dead.reason
    assert json.loads(dead.raw)["fingerprint"] == "bad"
    assert res.events == 2


@pytest.mark.parametrize("start", [..., None, "", ZERO])
def test_no_start_takes_the_end_as_alertmanager_does(start: Any) -> None:
    res = _decode(_alert("r", status="resolved", startsAt=start, endsAt=END))
    row = _rows(res)["r"]
    assert not res.dead
    assert row["start_time"] == END_MS and row["end_time"] == END_MS and row["time"] == END_MS
    assert json.loads(row["unmapped"])["secpipe_startsAt"] == "endsAt"
    assert not row["metadata"].get("labels")


@pytest.mark.parametrize("start", [..., None, "", ZERO])
@pytest.mark.parametrize("end", [..., None, "", ZERO])
def test_no_start_and_no_end_take_the_receipt_time_said_so(start: Any, end: Any) -> None:
    res = _decode(_alert("f", startsAt=start, endsAt=end), _alert("ok"))
    rows = _rows(res)
    row = rows["f"]
    assert not res.dead
    assert row["time"] > END_MS  # now, not the year 1
    assert row["start_time"] is None and row["end_time"] is None  # (time holds the receipt time, labelled)
    assert json.loads(row["unmapped"])["secpipe_startsAt"] == "receipt"
    assert row["metadata"]["labels"] == ["secpipe:time_from_receipt"]
    ok = rows["ok"]  # an alert with its own start is as before: no flag, no label
    assert ok["time"] == ok["start_time"] == START_MS and "secpipe_startsAt" not in json.loads(ok["unmapped"])
    assert not ok["metadata"].get("labels")
