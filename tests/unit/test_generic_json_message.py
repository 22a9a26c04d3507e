"""Generic JSON: the message of events shippers send as objects.

Shapes: Fluent Bit's out_splunk sends ``{"time": ..., "event": {"log": ...}}`` (plugins/out_splunk,
event_key unset: the whole record under "event"); Splunk HEC's documented object event
``{"event": {"message": ..., "severity": ...}}``; the OpenTelemetry Collector's Elasticsearch
exporter (raw/none mapping) writes log records with ``@timestamp`` and ``Body``.
"""

from __future__ import annotations

import json

from secpipe.formats.generic_json import GenericJSON


def test_message_from_object_events_and_otel_body() -> None:
    docs = [
        {"time": 1764410400.5, "host": "fb-1", "event": {"log": "fluent-bit line", "kubernetes": {"pod_name": "p"}}},
        {"time": 1426279439, "host": "localhost", "event": {"message": "Something happened", "severity": "INFO"}},
        {"@timestamp": "2026-11-29T10:00:00.000000000Z", "Body": "otel record body", "SeverityText": "INFO"},
        {"event": {"count": 3}},
    ]
    data = "\n".join(json.dumps(d) for d in docs).encode()
    dec = GenericJSON().decode(data, "hec")
    assert dec.dead == []
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert [r["message"] for r in rows] == ["fluent-bit line", "Something happened", "otel record body", None]
    assert rows[0]["device"]["hostname"] == "fb-1" and rows[0]["time"] == 1764410400500


def test_time_from_the_time_keys_of_common_security_sources() -> None:
    """Windows events as JSON (``TimeCreated``), Sysmon (``UtcTime``, space-separated UTC), Entra
    ID sign-ins (``createdDateTime``), Okta System Log (``published``), Serilog CLEF (``@t``, 7
    fractional digits): each event's own time, not the receipt time (expectations read off
    the documented example values)."""
    docs = [
        {"TimeCreated": "2021-04-27T19:29:21.4373925Z", "EventID": 4625},
        {"UtcTime": "2021-04-27 19:29:21.437", "Image": "C:\\Windows\\System32\\cmd.exe"},
        {"createdDateTime": "2021-04-27T19:29:21Z", "userPrincipalName": "a@contoso.com"},
        {"published": "2021-04-27T19:29:21.437Z", "eventType": "user.session.start"},
        {"@t": "2021-04-27T19:29:21.4370000Z", "@mt": "Signed in {User}"},
    ]
    dec = GenericJSON().decode("\n".join(json.dumps(d) for d in docs).encode(), "hec")
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert [r["time"] for r in rows] == [1619551761437, 1619551761437, 1619551761000, 1619551761437, 1619551761437]
    assert all("secpipe:time_from_receipt" not in (r["metadata"].get("labels") or []) for r in rows)
