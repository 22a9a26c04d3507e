"""RFC 5424 structured data a shipper parsed (Elastic's ``syslog`` processor: ``log.syslog.structured_data``,
Filebeat and Elastic Agent's Custom TCP/UDP Logs) is kept as secpipe's own syslog format keeps it.

The document is Elastic's own example of the processor (elastic.co "Syslog processor": the RFC 5424 line below and
the document it produces, tests/cases/wire_holdout/SOURCE.md). The oracle is the syslog format's row for that
same line: its ``unmapped.structured_data`` (``{SD-ID: {PARAM-NAME: value}}``) must be the shipped document's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from tests.unit.test_wire_context31 import _app, _post
from tests.unit.test_wire_fuzz34 import _send
from tests.unit.test_wire_holdout30 import _rows

WIRE = Path(__file__).parents[1] / "cases" / "wire_holdout"
ELASTIC = json.loads((WIRE / "shipper-syslog-records.ndjson").read_bytes().splitlines()[0])
LINE = (b'<165>1 2022-01-11T22:14:15.003Z mymachine.example.com eventslog 1024 ID47 [exampleSDID@32473 iut="3" '
        b'eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] this is the message')


def _line_sd() -> Any:
    (batch,) = formats.get("syslog").decode(LINE, "t").batches
    return json.loads(batch.to_pylist()[0]["unmapped"])["structured_data"]


def _bulk(tmp_path: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = b'{"create":{"_index":"logs-syslog"}}\n' + json.dumps(doc).encode() + b"\n"
    answer = _post(tmp_path, "/_bulk", body, "application/x-ndjson")
    assert answer.status_code == 200 and answer.json()["errors"] is False, answer.text
    return _rows(tmp_path, "base_event")


def test_the_oracle_line_holds_the_structured_data() -> None:
    assert _line_sd() == {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                          "examplePriority@32473": {"class": "high"}}


def test_elastic_syslog_structured_data_is_kept_as_the_syslog_format_keeps_it(tmp_path: Path) -> None:
    (row,) = _bulk(tmp_path, {**ELASTIC, "agent": {"type": "filebeat"}})
    unmapped = json.loads(row["unmapped"])
    assert unmapped["structured_data"] == _line_sd()
    assert unmapped["agent"] == {"type": "filebeat"} and unmapped["facility"] == "local4"  # the rest as before
    assert row["actor"]["process"]["name"] == "eventslog" and row["metadata"]["event_code"] == "ID47"


def test_elastic_syslog_structured_data_through_hec(tmp_path: Path) -> None:
    svc, app, token = _app(tmp_path)
    try:
        answer = _send(app, "/services/collector/event", json.dumps({"event": ELASTIC}).encode(),
                       {"Authorization": f"Splunk {token}"})
    finally:
        svc.close()
    assert answer.status_code == 200, answer.text
    (row,) = _rows(tmp_path, "base_event")
    assert json.loads(row["unmapped"])["structured_data"] == _line_sd()


@pytest.mark.parametrize("sd", [None, {}, "[x@1 a=\"b\"]", ["x"]])
def test_no_structured_data_object_adds_nothing(tmp_path: Path, sd: Any) -> None:
    doc = json.loads(json.dumps(ELASTIC))
    if sd is None:
        del doc["log"]["syslog"]["structured_data"]
    else:
        doc["log"]["syslog"]["structured_data"] = sd
    (row,) = _bulk(tmp_path, doc)
    assert "structured_data" not in json.loads(row["unmapped"])


def test_a_document_key_of_the_same_name_is_kept_beside_it(tmp_path: Path) -> None:
    (row,) = _bulk(tmp_path, {**ELASTIC, "structured_data": "the shipper's own"})
    unmapped = json.loads(row["unmapped"])
    assert unmapped["structured_data"] == "the shipper's own"
    assert unmapped["log.syslog.structured_data"] == _line_sd()
