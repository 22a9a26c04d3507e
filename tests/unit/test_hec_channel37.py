"""HEC channels must be GUIDs: Splunk refuses another with 400 ``{"text": "Invalid data channel", "code": 11}``.

Reference: Splunk "About HTTP Event Collector Indexer Acknowledgment" (a channel is a GUID the client picks),
and OpenTelemetry's ``splunkhecreceiver``, which follows it (``validateChannelHeader``: ``uuid.Parse``, else
code 11; checked on ``/event``, ``/raw`` and ``/ack``, from the ``X-Splunk-Request-Channel`` header or the
``channel`` query parameter). secpipe also keeps the refused body as a dead letter with the reason (nothing
accepted is lost; the sender was told 400, so it is not stored), and keys acks by the GUID whatever its case.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from secpipe.store.query import run
from tests.unit.test_wire_context31 import _app

GUID = "3c1f6a5e-9d1c-4b56-9a53-6a1bbd3d5a55"
INVALID = {"text": "Invalid data channel", "code": 11}


def _requests(data_dir: Path, calls: list[tuple[str, bytes, dict[str, str]]]) -> list[httpx.Response]:
    svc, app, token = _app(data_dir)

    async def send() -> list[httpx.Response]:
        out = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            for path, body, headers in calls:
                out.append(await client.post(path, content=body, headers={"Authorization": f"Splunk {token}",
                                                                          **headers}))
        return out

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def _table(data_dir: Path, sql: str) -> list[Any]:
    try:
        return run(data_dir, sql)[1]
    except Exception as exc:  # (no table before anything was stored)
        if "does not exist" in str(exc) or "No files found" in str(exc):
            return []
        raise


@pytest.mark.parametrize("channel", ["c1", "not-a-guid", "3c1f6a5e9d1c4b569a536a1bbd3d5a5",
                                     "3c1f6a5e-9d1c-4b56-9a53-6a1bbd3d5a55x", "x" * 300, "g" * 32])
@pytest.mark.parametrize("where", ["header", "query"])
@pytest.mark.parametrize("path", ["/services/collector/event", "/services/collector", "/services/collector/raw"])
def test_a_channel_that_is_no_guid_is_refused_and_the_body_dead_lettered(tmp_path: Path, channel: str, where: str,
                                                                        path: str) -> None:
    body = b'{"event": {"message": "chan-probe-1"}}' if "raw" not in path else b"chan-probe-1 a raw line\n"
    headers = {"X-Splunk-Request-Channel": channel} if where == "header" else {}
    url = path + (f"?channel={channel}" if where == "query" else "")
    (answer,) = _requests(tmp_path, [(url, body, headers)])
    assert answer.status_code == 400 and answer.json() == INVALID
    dead = _table(tmp_path, "select reason, raw from dead_letter")
    assert len(dead) == 1 and "Invalid data channel" in dead[0][0] and "GUID" in dead[0][0]
    assert b"chan-probe-1" in bytes(dead[0][1])
    assert not _table(tmp_path, "select * from api_activity") and not _table(tmp_path, "select * from base_event")


@pytest.mark.parametrize("where", ["header", "query"])
def test_an_ack_query_on_a_channel_that_is_no_guid_is_refused(tmp_path: Path, where: str) -> None:
    headers = {"X-Splunk-Request-Channel": "c1"} if where == "header" else {}
    url = "/services/collector/ack" + ("?channel=c1" if where == "query" else "")
    (answer,) = _requests(tmp_path, [(url, b'{"acks": [0]}', headers)])
    assert answer.status_code == 400 and answer.json() == INVALID


@pytest.mark.parametrize("channel", [GUID, GUID.upper(), "{" + GUID + "}", "urn:uuid:" + GUID, GUID.replace("-", "")])
def test_a_guid_channel_is_taken_and_acked_whatever_its_spelling(tmp_path: Path, channel: str) -> None:
    sent, asked = _requests(tmp_path, [
        ("/services/collector/event", b'{"event": {"message": "ok"}}', {"X-Splunk-Request-Channel": channel}),
        (f"/services/collector/ack?channel={GUID}", b'{"acks": [0]}', {})])  # fmt: skip
    assert sent.status_code == 200 and sent.json() == {"text": "Success", "code": 0, "ackId": 0}
    assert asked.json() == {"acks": {"0": True}}  # the same GUID, however the sender spelt it


def test_the_header_wins_over_the_query_string(tmp_path: Path) -> None:
    ok, bad = _requests(tmp_path, [
        ("/services/collector/event?channel=nope", b'{"event": "a"}', {"X-Splunk-Request-Channel": GUID}),
        (f"/services/collector/event?channel={GUID}", b'{"event": "b"}', {"X-Splunk-Request-Channel": "nope"})])
    assert ok.status_code == 200 and ok.json()["ackId"] == 0
    assert bad.status_code == 400 and bad.json() == INVALID


def test_no_channel_is_still_no_ack(tmp_path: Path) -> None:
    sent, asked = _requests(tmp_path, [("/services/collector/event", b'{"event": "a"}', {}),
                                       ("/services/collector/ack", b'{"acks": [0]}', {})])
    assert sent.json() == {"text": "Success", "code": 0}
    assert asked.status_code == 400 and asked.json() == {"text": "Data channel is missing", "code": 10}
