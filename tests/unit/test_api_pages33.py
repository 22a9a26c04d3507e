"""Pages of SaaS audit APIs read as their records by the json format (session 33).

A poller of the Admin SDK Reports API (``activities.list``) or of OneLogin's Events API
(``GET /api/1/events``) writes the API's answer as it came: a page around the records. The
Workspace page was stored as ONE Base Event (its activities inside, at the receipt time, no rule
reading them); OneLogin's events, paged or not, were dead-lettered by ``--format auto`` ("no format
matched"), so SigmaHQ's ``product: onelogin`` rules had nothing to fire on. Cases: tests/cases/identity33
(SOURCE.md: a OneLogin page from Cortex XSOAR's OneLogin collector tests, a Workspace page written from
the Reports API reference, SigmaHQ's OneLogin rule).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from secpipe import formats
from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import ingest_file, sigma_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "identity33"
WORKSPACE = CASES / "workspace-activities-page.json"
ONELOGIN = CASES / "onelogin-events-page.json"


def test_workspace_page_is_stored_as_its_activities(tmp_path: Path) -> None:
    dead, rows = ingest_file(WORKSPACE, tmp_path / "data")
    assert not dead and sorted(r["time"] for r in rows) == [1709892000000, 1709892300000, 1709892600000]
    kept = sorted(orjson.loads(r["raw_data"])["id"]["uniqueQualifier"] for r in rows)
    assert kept == sorted(a["id"]["uniqueQualifier"] for a in orjson.loads(WORKSPACE.read_bytes())["items"])


def test_pages_one_a_line_and_an_empty_page(tmp_path: Path) -> None:
    # a poller appending each page compact on a line; the Reports API leaves items out of a page without activity
    page = orjson.loads(WORKSPACE.read_bytes())
    second = {**page, "items": page["items"][:1], "nextPageToken": None}
    second["items"][0] = {**second["items"][0], "id": {**second["items"][0]["id"], "uniqueQualifier": "1"}}
    empty = {"kind": "admin#reports#activities", "etag": page["etag"]}
    f = tmp_path / "pages.json"
    f.write_bytes(b"\n".join(orjson.dumps(p) for p in (page, second, empty)) + b"\n")
    dead, rows = ingest_file(f, tmp_path / "data")
    assert not dead and len(rows) == 4
    f.write_bytes(orjson.dumps(empty))
    dead, rows = ingest_file(f, tmp_path / "empty")
    assert not dead and not rows


def test_onelogin_page_and_event_are_stored_at_their_time(tmp_path: Path) -> None:
    dead, rows = ingest_file(ONELOGIN, tmp_path / "data")
    assert not dead and sorted(orjson.loads(r["raw_data"])["id"] for r in rows) == [1, 2, 3, 4]
    assert {r["time"] for r in rows} == {1659956400000}  # created_at, 2022-08-08T11:00:00.000Z
    one = tmp_path / "one.json"
    one.write_bytes(orjson.dumps(orjson.loads(ONELOGIN.read_bytes())["data"][0]))
    dead, rows = ingest_file(one, tmp_path / "one")
    assert not dead and len(rows) == 1


def test_a_page_like_object_without_records_is_kept_whole(tmp_path: Path) -> None:
    # a pagination object beside a "data" that is no list of records is one JSON object, kept as it came
    f = tmp_path / "p.json"
    f.write_bytes(b'{"status": {"code": 200}, "pagination": {"next_link": null}, "data": {"event_type_id": 5},'
                  b' "account_id": 1, "actor_user_id": 2}')
    dead, rows = ingest_file(f, tmp_path / "data")
    assert not dead and len(rows) == 1 and orjson.loads(rows[0]["raw_data"])["data"] == {"event_type_id": 5}


def test_sigmahq_onelogin_rule_fires_on_the_pages_events() -> None:
    page = orjson.loads(ONELOGIN.read_bytes())
    page["data"][2]["event_type_id"] = 553  # "Locked via API"
    rs = load_rules([CASES / "onelogin_user_account_locked.yml"])
    assert sigma_rows(rs, orjson.dumps(page)) == [2]


def test_okta_event_hook_delivery_is_stored_as_its_events(tmp_path: Path) -> None:
    # an event hook's request body (Okta's sample): its System Log events, each at its published time
    hook = CASES / "okta-event-hook.json"
    dead, rows = ingest_file(hook, tmp_path / "data")
    assert not dead and [r["time"] for r in rows] == [1522275787777]
    assert orjson.loads(rows[0]["raw_data"])["uuid"] == "f790999f-fe87-467a-9880-6982a583986c"
    rs = load_rules([Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout" / "okta_user_account_locked_out.yml"])
    locked = hook.read_bytes().replace(b'"User login to Okta"', b'"Max sign in attempts exceeded"')
    assert sigma_rows(rs, locked) == [0] and sigma_rows(rs, hook.read_bytes()) == []


def test_graph_risk_detections_are_stored_and_sigmahq_riskdetection_rule_fires(tmp_path: Path) -> None:
    # Microsoft Graph's List riskDetections answer (an OData collection) was dead-lettered "no format matched",
    # as was one riskDetection; each is stored at its activityDateTime
    graph = CASES / "graph-riskdetections.json"
    dead, rows = ingest_file(graph, tmp_path / "data")
    assert not dead and [r["time"] for r in rows] == [1536106158782]
    one = tmp_path / "one.json"
    one.write_bytes(orjson.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#riskDetections",
                                  **orjson.loads(graph.read_bytes())}))
    dead, rows = ingest_file(one, tmp_path / "context")
    assert not dead and len(rows) == 1 and orjson.loads(rows[0]["raw_data"])["riskEventType"] == "unfamiliarFeatures"
    rs = load_rules([CASES / "azure_identity_protection_unfamilar_sign_in.yml"])
    assert sigma_rows(rs, graph.read_bytes()) == [0]


def test_an_object_with_a_value_list_beside_other_keys_is_kept_whole() -> None:
    doc = b'{"riskEventType": "x", "detectionTimingType": "offline", "value": [{"a": 1}, {"a": 2}]}'
    [batch] = formats.get("json").decode(doc, "x").batches
    assert batch.num_rows == 1
