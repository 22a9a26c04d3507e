"""Round 29 of the holdout sweep, wire side (samples and sources: tests/cases/wire_holdout/SOURCE.md).

- OpenTelemetry log records stored whole (``POST /v1/logs``, the Collector's ``elasticsearch``
  exporter's documents): their SeverityNumber is the Base Event's ``severity_id`` (it was 0,
  Unknown, for every record, an ERROR or FATAL one too) and their SeverityText ``metadata.log_level``.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa

from secpipe import formats
from secpipe.server.otlp import json_records

CASES = Path(__file__).parents[1] / "cases"
WIRE = CASES / "wire_holdout"


def _levels(t: pa.Table) -> list[str | None]:
    return [m["log_level"] for m in t.column("metadata").to_pylist()]


def _mapped(body: bytes) -> pa.Table:
    dec = formats.get("json").decode(body, "test")
    assert not dec.dead
    return pa.Table.from_batches(dec.batches)


def test_otel_es_exporter_documents_keep_their_severity() -> None:
    # the exporter's golden otel and none documents (severity_number / SeverityNumber 9, INFO);
    # its ecs document names none of those fields: Unknown
    t = _mapped((WIRE / "otel-es-exporter-golden-logs.ndjson").read_bytes())
    assert t.column("severity_id").to_pylist() == [1, 1, 0]
    assert t.column("severity").to_pylist()[:2] == ["Informational", "Informational"]
    assert _levels(t) == ["INFO", "INFO", None]


def test_otlp_severity_ranges_as_the_log_data_model_maps_syslog() -> None:
    # OTel log data model: SeverityNumber 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR,
    # 21-24 FATAL; its syslog mapping (Appendix B): Debug DEBUG, Informational INFO, Notice INFO2,
    # Warning WARN, Error ERROR, Critical ERROR2, Alert ERROR3, Emergency FATAL. OCSF as the syslog
    # format maps those severities (info/debug 1, notice 2, warning 3, err 4, crit/alert 5, emerg 6).
    numbers = [1, 5, 9, 10, 13, 17, 18, 19, 21, 24, 0]
    request = {"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1700000000000000000", "severityNumber": n, "severityText": f"S{n}",
         "body": {"stringValue": f"record {n}"}} for n in numbers]}]}]}  # fmt: skip
    docs = json_records(orjson.dumps(request))
    t = _mapped(b"\n".join(orjson.dumps(d) for d in docs))
    assert t.column("severity_id").to_pylist() == [1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 0]
    assert _levels(t)[4] == "S13"


def test_otlp_spec_event_example_is_informational() -> None:
    (event,) = json_records((WIRE / "otlp-events.json").read_bytes())
    t = _mapped(orjson.dumps(event))
    assert t.column("severity_id").to_pylist() == [1]
