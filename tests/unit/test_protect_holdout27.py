"""Holdout sweep round 27: protection of the secrets secpipe is handed.

- GitHub REST API secret scanning alerts (``GET /repos/{owner}/{repo}/secret-scanning/alerts``, PyGithub's
  recorded answer in tests/cases/holdout) carry the secret itself in ``secret`` (unless fetched with
  ``hide_secret=true``); it was stored verbatim in ``raw_data``, which spreads the credential the finding
  reports to every reader of the lake. The alert keeps every other byte, and its ``metadata.uid``.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from secpipe import formats

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
SECRET = "aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def _decoded(body: bytes) -> list[dict]:
    dec = formats.get("github").decode(body, "alerts.json")
    assert not dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def test_a_rest_secret_scanning_alert_keeps_its_secret_out_of_raw_data() -> None:
    body = (HOLDOUT / "pygithub-secret-scanning-alerts.json").read_bytes()
    alerts = json.loads(body)
    assert alerts[0]["secret"] == SECRET
    forms = {"array": body, "ndjson": b"\n".join(msgspec.json.encode(a) for a in alerts),
             "pretty": json.dumps(alerts, indent=2).encode()}
    uids = set()
    for form, data in forms.items():
        (row,) = _decoded(data)
        assert SECRET not in row["raw_data"], form
        assert json.loads(row["raw_data"]) == {**alerts[0], "secret": "[REDACTED:adafruit_io_key]"}, form
        assert row["finding_info"]["title"] == "Secret detected: Adafruit IO Key"
        uids.add(row["metadata"]["uid"])
    assert uids == {"c891afb1f3bf03327cf120803f209d44"}  # the alert as received, as before the mask


def test_only_the_alerts_own_secret_key_is_masked() -> None:
    (alert,) = json.loads((HOLDOUT / "pygithub-secret-scanning-alerts.json").read_bytes())
    alert = {**alert, "resolution_comment": 'the "secret": "aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX" is a test key',
             "secret": 'ab\\"c"d'}
    (row,) = _decoded(msgspec.json.encode(alert))
    got = json.loads(row["raw_data"])
    assert got["secret"] == "[REDACTED:adafruit_io_key]"
    assert got["resolution_comment"] == alert["resolution_comment"]
