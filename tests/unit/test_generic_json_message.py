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
