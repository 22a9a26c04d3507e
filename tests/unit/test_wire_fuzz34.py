"""What the wire-route fuzz of session 34 found: real samples wrapped as shippers send them (a ``_bulk``, HEC
event and raw, OTLP, Firehose, webhook body), mutated by :mod:`tests.unit.mutate`'s mutations, posted to the app
in-process (seeds 3305 up).

- Firehose ``/v1/firehose``: a request whose JSON holds a string that is not UTF-8 (``"requestId": "r\\xed\\xb0\\x80"``,
  a surrogate's bytes; seed 3305 round 425) raised UnicodeDecodeError (msgspec's, not a DecodeError) out of the
  route: a 500 with nothing dead-lettered. Now a 400 in the spec's shape, dead-lettered with the byte it failed at.
- HEC ``/services/collector/ack``: the same in an ack query, a 500; now HEC's code 6 (Invalid data format).
- OTLP ``/v1/logs`` (JSON): a ``timeUnixNano`` past 2**64 (``1e30`` as a JSON number, or a string of 31 digits; no
  ``fixed64`` holds it) raised OverflowError making the record's time (seed 3307 round 359): a 500. Such a time is
  none now: the record takes its observed time, as one without ``timeUnixNano`` does.
- A body split into records by the server and mapped by the combiner (``_bulk``, HEC, Firehose) counted the events
  the split saw, not those its mapping read: a CloudWatch Logs envelope of EKS audit events counted one event for
  its two log events (stored two), OPA's runtime log lines counted as events though the format reads them as none
  (seed 3305 rounds 2447, 4328: ``events read`` no longer equal to what was stored and dead-lettered). The
  events are the mapping's count now, as ``secpipe ingest`` counts them.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import orjson

from secpipe import formats
from secpipe.runtime.combine import Job, map_jobs
from secpipe.store.query import run
from tests.unit.test_wire_context31 import _app, _post

CASES = Path(__file__).parents[1] / "cases"
HOLDOUT = CASES / "holdout"
#: a CONTROL_MESSAGE, then a DATA_MESSAGE of two EKS audit events (falco's trace files; see holdout/SOURCE.md)
EKS = (HOLDOUT / "eks_audit_cloudwatch_envelopes.jsonl").read_bytes()
#: an OPA 1.11 Envoy sidecar's console log: two runtime log lines, a decision, the decision log line
OPA = (HOLDOUT / "opa-envoy-console-log.jsonl").read_bytes()


def _dead(data_dir: Path) -> list[str]:
    return [r[0] for r in run(data_dir, "select reason from dead_letter")[1]]


def _send(app: Any, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(send())


def test_a_firehose_request_not_utf8_is_refused_and_dead_lettered(tmp_path: Path) -> None:
    record = base64.b64encode(EKS.splitlines()[1]).decode()
    body = b'{"requestId": "r\xed\xb0\x80-1", "timestamp": 1700000000000, "records": [{"data": "' + record.encode() + b'"}]}'
    answer = _post(tmp_path, "/v1/firehose", body, "application/json")
    assert answer.status_code == 400, answer.text
    assert "not valid UTF-8 at byte 16" in answer.json()["errorMessage"]
    assert _dead(tmp_path) == [answer.json()["errorMessage"]]


def test_a_hec_ack_query_not_utf8_is_invalid_data(tmp_path: Path) -> None:
    svc, app, token = _app(tmp_path)
    try:
        answer = _send(app, "/services/collector/ack", b'{"acks": [0], "\xff": 1}', {
            "Authorization": f"Splunk {token}", "X-Splunk-Request-Channel": "0b9e8d3a-8d43-4c6a-9a43-2b8b3f1a7e11"})
    finally:
        svc.close()
    assert answer.status_code == 400 and answer.json() == {"text": "Invalid data format", "code": 6}


def test_an_otlp_time_past_fixed64_is_no_time(tmp_path: Path) -> None:
    # opentelemetry-proto's examples/logs.json (tests/cases/wire_holdout/SOURCE.md): observed 1544712660300000000
    text = (CASES / "wire_holdout" / "otlp-logs.json").read_text()
    for n, big in enumerate(["1" + "0" * 30, '"1' + "0" * 30 + '"']):
        body = text.replace('"timeUnixNano": 1544712660300000000', f'"timeUnixNano": {big}', 1)
        assert body != text
        answer = _post(tmp_path / str(n), "/v1/logs", body.encode(), "application/json")
        assert answer.status_code == 200, answer.text
        ((when, message),) = run(tmp_path / str(n), "select time, message from base_event")[1]
        assert when == 1544712660300 and message == "Example log record"


def _totals(data_dir: Path, path: str, body: bytes, kind: str) -> tuple[int, int, int]:
    """(events read, rows stored, dead letters) of one request, as the service's totals count them (a row the
    lake held already, by event identity, counts as stored)."""
    svc, app, token = _app(data_dir)
    try:
        assert _send(app, path, body, {"Authorization": f"Bearer {token}", "Content-Type": kind}).status_code == 200
        svc.flush()
        totals = svc.pipeline.totals
        return totals.events, sum(totals.stored.values()) + totals.duplicates, totals.dead_letter
    finally:
        svc.close()


def test_events_are_what_the_mapping_read_on_hec_raw_and_firehose(tmp_path: Path) -> None:
    data = EKS.splitlines()[1]  # one envelope, two log events
    assert _totals(tmp_path / "hec", "/services/collector/raw", data, "text/plain") == (2, 2, 0)  # was (1, 2, 0)
    fh = orjson.dumps({"requestId": "q", "timestamp": 1, "records": [{"data": base64.b64encode(data).decode()}] * 2})
    assert _totals(tmp_path / "fh", "/v1/firehose", fh, "application/json") == (4, 4, 0)  # was (2, 4, 0)
    # OPA's runtime log lines (the release check, the request handler's) are no events; its decision is one
    assert _totals(tmp_path / "opa", "/services/collector/raw", OPA, "text/plain") == (1, 1, 0)  # was (4, 1, 0)


def test_a_combined_pass_counts_the_events_its_mapping_read() -> None:
    fmt = formats.get("k8s_audit")
    jobs = [Job(fmt, f"s{i}", body, fmt.split_records(body, f"s{i}")) for i, body in enumerate([EKS, EKS.splitlines()[1]])]  # type: ignore[arg-type]
    assert [j.recs.events for j in jobs] == [2, 1]
    out = map_jobs(jobs)
    assert out.events == sum(b.num_rows for b in out.batches) == 4
    alone = map_jobs(jobs[1:])
    assert alone.events == jobs[1].events == 2
