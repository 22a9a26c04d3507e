"""CloudWatch Logs envelopes of text lines whose first message opens with a bracket (h3, s18).

Lambda's Python runtime writes each log line as ``[LEVEL]\\t<time>\\t<request id>\\t<message>``,
AWS's own example of a subscription's ``DATA_MESSAGE`` carries ``[ERROR] ...`` messages, web
servers write ``[2024/01/10 ...] [error]``: text that opens with ``[`` (or ``{``). The envelope
test took any bracket for JSON, so such an envelope was claimed by no format and dead-lettered
whole as unrecognized. A message is JSON when the bracket opens a JSON value.

The lines are the real OpenSSH log of ``tests/cases/holdout`` (loghub, see its SOURCE.md), put
in the runtime's documented line format; the envelopes are built to the documented shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from tests.unit.test_formats_holdout import _rows

CASES = Path(__file__).parents[1] / "cases" / "holdout"
LINES = (CASES / "loghub_OpenSSH_head.log").read_text().splitlines()
T0 = 1765349746000
REQ = "8f5e2b1a-4c1d-4e0b-9a51-3f2d6c7b8a90"


def _envelope(messages: list[str]) -> bytes:
    env: dict[str, Any] = {
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/auth-audit",
        "logStream": "2025/12/10/[$LATEST]0123456789abcdef0123456789abcdef", "subscriptionFilters": ["all"],
        "logEvents": [{"id": str(38000000000000000000000000000000000000000000000000000000 + i), "timestamp": T0 + i,
                       "message": m} for i, m in enumerate(messages)],
    }  # fmt: skip
    return json.dumps(env).encode()


def _runtime(level: str, line: str) -> str:
    """A line as Lambda's Python runtime logs it: ``[LEVEL]\\t<ISO time>\\t<request id>\\t<msg>\\n``."""
    return f"[{level}]\t2025-12-10T06:55:46.{len(line) % 1000:03d}Z\t{REQ}\t{line}\n"


def test_lambda_runtime_lines_are_syslog_lines() -> None:
    """Red before: detect found no format (the ``[`` of ``[INFO]`` was taken for JSON)."""
    msgs = [_runtime("INFO", x) for x in LINES[:6]] + [_runtime("ERROR", LINES[6])]
    msgs += [f"END RequestId: {REQ}\n", f"REPORT RequestId: {REQ}\tDuration: 26.73 ms\tBilled Duration: 27 ms\t\n"]
    body = _envelope(msgs)
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "syslog"
    d = fmt.decode(body, "lambda")
    rows = _rows(d)
    assert not d.dead and d.events == len(msgs) == len(rows)
    assert {r["raw_data"] for r in rows} == {m.rstrip("\n") for m in msgs}
    assert {r["time"] for r in rows} == {T0 + i for i in range(len(msgs))}  # the log events' times
    # what names the function (START/END/REPORT lines do not): the envelope's group and stream
    origin = {"owner": "123456789012", "logGroup": "/aws/lambda/auth-audit",
              "logStream": "2025/12/10/[$LATEST]0123456789abcdef0123456789abcdef"}  # fmt: skip
    assert all(json.loads(r["unmapped"]) == {"cloudwatch": origin} for r in rows)


def test_bracketed_text_and_json_messages() -> None:
    text = ["[ERROR] " + LINES[0], "[2025/12/10 06:55:46] [error] " + LINES[1], "[1] " + LINES[2],
            "{sshd} " + LINES[3]]  # fmt: skip
    for first in text:
        fmt = formats.detect(_envelope([first, LINES[4]]))
        assert fmt is not None and fmt.name == "syslog", first
    event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "x"}
    for first in (json.dumps(event), "  " + json.dumps(event), json.dumps([event]), '["a", "b"]', "[1, 2]", "[]",
                  "[ true ]", "{}"):  # fmt: skip
        fmt = formats.detect(_envelope([first]))
        assert fmt is None or fmt.name != "syslog", first


def _answer(messages: list[str]) -> bytes:
    """``aws logs filter-log-events`` as the CLI prints it (four-space indent, no newline at the end)."""
    events = [{"logStreamName": "i-0123456789abcdef0", "timestamp": T0 + i, "message": m, "ingestionTime": T0 + 900,
               "eventId": str(37000000000000000000000000000000000000000000000000000000 + i)} for i, m in enumerate(messages)]  # fmt: skip
    return json.dumps({"events": events, "searchedLogStreams": []}, indent=4).encode()


def test_logs_api_answer_whose_first_message_is_long() -> None:
    """The CloudWatch agent joins a multi-line event (``multi_line_start_pattern``) into one log
    event; the first message may be longer than the 4 KiB the decoder looked at for the answer's
    ``ingestionTime``. Red before: detection (64 KiB) said syslog, the decoder did not see an
    answer and stored each line of the printed JSON as a log line."""
    long = "\n".join(LINES) * 3
    assert len(long) > 4096
    body = _answer([long, *LINES[:3]])
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "syslog"
    d = fmt.decode(body, "cli")
    assert not d.dead and d.events == 4
    assert sorted(r["raw_data"] for r in _rows(d)) == sorted([long, *LINES[:3]])
    assert {json.loads(r["unmapped"])["cloudwatch"]["logStream"] for r in _rows(d)} == {"i-0123456789abcdef0"}


def test_a_later_chunk_of_envelopes_is_envelopes() -> None:
    """A Firehose file of newline-delimited envelopes from several log groups is read in
    chunks: one may open with an envelope whose first message is JSON. Red before: that chunk
    was read as syslog lines (each envelope one event of JSON text)."""
    event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "x", "verb": "get"}
    body = _envelope([json.dumps(event), LINES[0], LINES[1]]) + b"\n" + _envelope(LINES[2:4]) + b"\n"
    d = formats.get("syslog").decode(body, "firehose chunk")
    assert not d.dead and d.events == 5
    assert sorted(r["raw_data"] for r in _rows(d)) == sorted([json.dumps(event), *LINES[:4]])
