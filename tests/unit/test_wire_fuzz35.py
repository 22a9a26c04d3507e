"""The wire-route fuzz (:mod:`tests.unit.wire_mutate`, session 35) as tests: real samples wrapped as shippers send
them (``_bulk``, HEC event and raw, OTLP JSON and protobuf, Firehose, webhooks, ``/v1/ingest``), mutated inside
and outside the envelope and at the HTTP level (gzip/deflate bodies, a Content-Length the body does not match, a
wrong Content-Type, small chunks), sent to the app in-process. A short campaign here; a longer one in ``make
test-slow``. Each round must end in an answer (no exception, no 5xx but 503), every event the pipeline is given
stored or dead-lettered, every refusal of a body (400, 408, 413, 415, 422) dead-lettered with a reason."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.unit import wire_mutate


def test_a_short_wire_campaign_breaks_no_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUZZ_KEEP", str(tmp_path / "found"))
    logs: list[str] = []
    assert wire_mutate.campaign(3321, 30, log=logs.append) == 0, logs


def test_the_harness_sees_a_refusal_that_stored_nothing(tmp_path: Path) -> None:
    """A body refused before anything was read from it (an unsupported Content-Encoding: 415) is dead-lettered;
    the harness reports one that is not (here: the dead letter store written to nowhere)."""
    h = wire_mutate.Harness(tmp_path)
    try:
        body, headers = b"<13>Feb  5 17:32:18 host app: hi\n", {"content-type": "text/plain", "content-encoding": "br"}
        assert h.request("/v1/ingest/syslog", body, {**headers, "content-length": str(len(body))}, 1 << 20) == []
        assert [x.reason for x in h.letters] == ["unsupported Content-Encoding 'br': send gzip, deflate, zstd, snappy, lz4 or identity"]
        h.svc.pipeline.dlq.write = lambda dead: len(dead)  # type: ignore[method-assign]
        errs = h.request("/v1/ingest/syslog", body, {**headers, "content-length": str(len(body))}, 1 << 20)
        assert errs and errs[0].startswith("answered 415 with nothing dead-lettered")
    finally:
        h.close()


def test_a_hec_request_of_no_readable_event_is_refused_and_dead_lettered(tmp_path: Path) -> None:
    """Found by seed 3314 round 7 (an octokit webhook payload as HEC events, its envelope damaged) once 7abbff35 set
    bad events apart: a request none of whose events is readable (no JSON, or an envelope cut short) raised
    IndexError out of the route, a 500 with nothing dead-lettered. Splunk answers 400, code 6 (Invalid data
    format), with the event's number; the body is dead-lettered."""
    h = wire_mutate.Harness(tmp_path)
    try:
        for body in (b"xyz", b'{"event":'):
            headers = {"content-type": "application/json", "content-length": str(len(body))}
            assert h.request("/services/collector/event", body, headers, 1 << 20) == []
            assert h.last[0] == 400 and orjson.loads(h.last[1])["code"] == 6
            assert h.letters
    finally:
        h.close()


@pytest.mark.slow
def test_a_long_wire_campaign_breaks_no_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUZZ_KEEP", str(tmp_path / "found"))
    logs: list[str] = []
    assert wire_mutate.campaign(3318, 1000, log=logs.append) == 0, logs
