"""What the session-36 fuzz found (the structure-aware JSON mutations of :mod:`tests.unit.struct_mutate` and the wire
probes of :mod:`tests.unit.wire_probe36`, seeds 4001 up), each failing before its fix, and short seeded campaigns of
both (the longer ones in ``make test-slow``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats.base import const
from secpipe.runtime.batch import ingest_files
from tests.unit import struct_mutate, wire_probe36
from tests.unit.mutate import CASES, REAL, _Collect
from tests.unit.wire_mutate import Harness

#: the syslog messages shippers parsed into fields (tests/cases/wire_holdout/SOURCE.md): Elastic's syslog processor,
#: Vector's syslog source (twice), Fluent Bit's syslog-rfc3164 parser, Logstash's syslog input without ECS
WIRE = Path(__file__).resolve().parents[1] / "cases" / "wire_holdout"
PARSED = [*(WIRE / "shipper-syslog-records.ndjson").read_bytes().splitlines(),
          (WIRE / "logstash-syslog-legacy.ndjson").read_bytes().strip()]  # fmt: skip


def _bulk_rows(h: Harness, docs: list[bytes]) -> list[dict[str, Any]]:
    body = b"".join(b'{"create":{}}\n' + d + b"\n" for d in docs)
    assert h.request("/_bulk", body, {"content-type": "application/x-ndjson", "content-length": str(len(body))}, 1 << 20) == []
    assert h.last[0] == 200 and not orjson.loads(h.last[1])["errors"]
    rows = [r for d in h.given for b in d.batches for r in b.to_pylist()]
    return sorted(rows, key=lambda r: (r["time"], r["raw_data"]))


def test_a_syslog_message_a_shipper_parsed_keeps_the_shippers_other_fields(tmp_path: Path) -> None:
    """Found by the wire probe (seed 4101 round 2: a Logstash syslog document with one more field, over ``_bulk``):
    a syslog message a shipper parsed into fields is stored as the journal entry of its header, and every other
    field of the document was dropped: Vector's ``source_ip`` (the sender) and the structured data parameters it
    puts at the top (``iut``, ``eventSource``, ``eventID``), a ``tags`` or any field a pipeline added. They are the
    line's context now, in ``unmapped``, as a Filebeat document's fields around a line are; the entry (raw_data)
    and the uid are as before."""
    h = Harness(tmp_path)
    try:
        plain = _bulk_rows(h, PARSED)
        tagged = _bulk_rows(h, [orjson.dumps({**orjson.loads(d), "tags": ["edge", f"n{i}"]}) for i, d in enumerate(PARSED)])
    finally:
        h.close()
    assert [r["metadata"]["uid"] for r in tagged] == [r["metadata"]["uid"] for r in plain]
    assert [r["raw_data"] for r in tagged] == [r["raw_data"] for r in plain]
    assert sorted(r["class_name"] for r in plain) == ["Authentication"] * 3 + ["Base Event"] * 2
    extra = {r["raw_data"]: {k: v for k, v in json.loads(r["unmapped"]).items() if k != "facility"} for r in plain}
    # (session 37: Elastic's parsed structured data kept as the syslog format keeps a line's)
    elastic_sd = {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                  "examplePriority@32473": {"class": "high"}}
    assert sorted(extra.values(), key=len) == [{}, {}, {"structured_data": elastic_sd}, {"source_ip": "192.0.2.22"},
                                              {"source_ip": "192.0.2.10", "iut": "3", "eventSource": "Application", "eventID": "1011"}]  # fmt: skip
    assert sorted(json.loads(r["unmapped"])["tags"][1] for r in tagged) == ["n0", "n1", "n2", "n3", "n4"]


def test_a_document_string_of_megabytes_is_not_copied_thousands_of_times() -> None:
    """Found by the structure-aware fuzz (seed 4003 round 1382, "longer"): prometheus-msteams' Alertmanager webhook
    (prom_post_request_label.json) with a ``groupKey`` of 8 MiB + 1 byte stopped the decode with ArrowMemoryError
    (malloc of 32 GiB: the whole document dead-lettered as a decoder error; the fuzz run before it, without a
    memory limit, took 22 GB and was killed by the kernel). A document's value written in every row
    (``base.const``) was cached as 4096 copies, whatever its length; a long string is not cached now."""
    path = REAL / "prometheus-msteams" / "alert" / "testdata" / "prom_post_request_label.json"
    doc = json.loads(path.read_bytes())
    doc["groupKey"] = "z" * ((8 << 20) + 1)
    before = pa.total_allocated_bytes()
    d = formats.get("alertmanager").decode(json.dumps(doc).encode(), "test")
    rows = sum(b.num_rows for b in d.batches)
    assert not d.dead and rows == d.events == len(doc["alerts"])
    assert pa.total_allocated_bytes() - before < (rows + 4) * (9 << 20)
    # (session 37: a groupKey over 4 KiB is kept once, in the first alert's unmapped.webhook, its SHA-256 the
    # correlation uid of every alert: test_alertmanager_context37)
    want = "sha256:" + hashlib.sha256(doc["groupKey"].encode()).hexdigest()
    got = [r for b in d.batches for r in b.to_pylist()]
    assert {r["metadata"]["correlation_uid"] for r in got} == {want}
    assert json.loads(got[0]["unmapped"])["webhook"]["groupKey"] == doc["groupKey"]
    small = const("x" * 300, 3)
    assert small.to_pylist() == ["x" * 300] * 3 and pa.total_allocated_bytes() - before < (rows + 5) * (9 << 20)


def test_a_bulk_action_line_naming_two_actions_is_refused_on_every_path(tmp_path: Path) -> None:
    """Found by the wire probe (seed 4104 rounds 227, 349): ``{"index":{},"create":{}}`` was stored as an ``index``
    when every action line of the body was the same or all were plain (the fast paths: ``_uniform``, the decoded
    heads), and refused whole (400) when another line sent the body down the slow path. Elasticsearch refuses such a
    line (``expected END_OBJECT``); now every path does, and the body is dead-lettered with why."""
    doc = b'{"message":"<13>Feb  5 17:32:18 host app: hi"}'
    two, one = b'{"index":{},"create":{}}\n' + doc + b"\n", b'{"index":{}}\n' + doc + b"\n"
    h = Harness(tmp_path)
    try:
        for body in (two, two + two, one + two, two + b'{"delete":{"_id":"x"}}\n'):
            assert h.request("/_bulk", body, {"content-type": "application/x-ndjson", "content-length": str(len(body))}, 1 << 20) == []
            assert h.last[0] == 400 and b"names [index], [create]: one action a line" in h.last[1]
            assert [x.raw for x in h.letters] == [body]
    finally:
        h.close()


def test_a_lookup_events_item_that_is_no_record_is_dead_lettered_alone() -> None:
    """Found by the structure-aware fuzz (seed 4007 round 1168, "null"): AWS's Insights guide's ``lookup-events``
    answer (tests/cases/holdout/aws-docs-lookup-events-insight.json) with one item's ``eventVersion`` null, or one
    item no object or with a ``CloudTrailEvent`` that is no CloudTrail JSON: the whole answer was dead-lettered
    with that item's reason, the good records with it. The item is dead-lettered alone now, the others stored."""
    doc = json.loads((CASES / "holdout" / "aws-docs-lookup-events-insight.json").read_bytes())
    good = doc["Events"]
    for bad in (dict(good[1], eventVersion=None), 5, "x", None, [], {"CloudTrailEvent": "not json"}):
        d = formats.get("cloudtrail").decode(json.dumps(dict(doc, Events=[good[0], bad, good[1]])).encode(), "t")
        rows = [r for b in d.batches for r in b.to_pylist()]
        assert d.events == 3 and len(d.dead) == 1 and d.dead[0].reason.startswith("lookup-events"), bad
        assert sorted(json.loads(r["raw_data"])["eventID"] for r in rows) == sorted(e["eventID"] for e in good)


def test_a_native_column_reservation_is_bounded_by_its_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Found by the structure-aware fuzz (seeds 4006 round 973, 4007 round 1822, "longer": Falco's CloudTrail plugin
    trace alice_start_instances.json, Panther's cloudtrail_scenarios.json, one record's ``userIdentity.principalId``
    8 MiB): the native extraction reserves each column the bytes a record took in the last batch times the records
    it expects; after one 8 MiB record, the same document read again was estimated at 8,193 records (a byte count
    / 1024) and principalId reserved 80 GiB: Rust's allocation failed and aborted the process (secpipe ingest, the
    server). A column's reservation is at most its input's bytes now. (The spy below passes the native walk a
    bounded reservation, so that the test fails rather than aborting without the fix.)"""
    doc = json.loads((REAL / "falco" / "test" / "trace_files" / "plugins" / "alice_start_instances.json").read_bytes())
    doc["Records"][0]["userIdentity"]["principalId"] = "z" * ((8 << 20) + 1)
    path = tmp_path / "ct.json"
    path.write_text(json.dumps(doc))
    real = _fast._module()
    if real is None:
        pytest.skip("no native extension")
    asked: list[tuple[int, int]] = []

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def extract(self, items: list[bytes], paths: Any, unmapped: Any, known: Any, route: Any, reserve: Any,
                    *rest: Any, **kw: Any) -> Any:  # fmt: skip
            total = sum(map(len, items))
            asked.append((total, max(reserve or [0])))
            reserve = None if reserve is None else [min(r, total + 64) for r in reserve]
            return real.extract(items, paths, unmapped, known, route, reserve, *rest, **kw)

    monkeypatch.setattr(_fast, "_module", Spy)
    for _ in range(2):
        got = _Collect()
        ingest_files(got, [str(path)], "cloudtrail")  # type: ignore[arg-type]
        assert not got.out.dead and sum(b.num_rows for b in got.out.batches) == got.out.events == 1
    assert len(asked) >= 2 and all(r <= total + 64 for total, r in asked), asked


def test_a_deprecated_gitlab_sast_array_is_read_whatever_its_first_item_length() -> None:
    """Found by the structure-aware fuzz (seed 4007 round 586, how=long): GitLab's deprecated SAST report (a bare array
    of vulnerabilities) whose first item is longer than the 8 KiB head was refused whole ("Expected 'object', got
    'array'"), as its keys came after the head; an array of something else is still refused."""
    items = json.loads((CASES / "holdout" / "gitlabhq-gl-sast-report-deprecated.json").read_bytes())
    items[0]["message"] = "m" * 70_000
    fmt = formats.get("gitlab_security")
    got = fmt.decode(json.dumps(items).encode(), "t")
    assert not got.dead and sum(b.num_rows for b in got.batches) == len(items) == 4
    assert [r["message"] for b in got.batches for r in b.to_pylist()][0].startswith("m" * 100)
    other = fmt.decode(b'[{"Target": "x", "Vulnerabilities": []}]', "t")
    assert not other.batches and len(other.dead) == 1


def test_a_short_structure_aware_campaign_breaks_no_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every JSON format's real samples, one field of one record another type, very long, nested to the readers'
    limits, a duplicate key, NaN, a lone surrogate, a NUL, or the text with a BOM, CRLF or NULs: no exception,
    every record stored or dead-lettered, the neighbours of a damaged record stored, ``--format auto`` reading it
    as its own format or as none."""
    monkeypatch.setenv("FUZZ_KEEP", str(tmp_path / "found"))
    logs: list[str] = []
    assert struct_mutate.campaign(4005, 45, log=logs.append) == 0, logs


def test_a_short_wire_probe_campaign_breaks_no_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_bulk`` of mixed actions and damaged items, HEC raw with channels, EventLists and OPA uploads with bad items,
    octet-counted syslog with wrong counts: an answer, and every document marked stored or dead-lettered."""
    logs: list[str] = []
    assert wire_probe36.campaign(4103, 20, log=logs.append) == 0, logs


def test_auto_detection_keeps_a_format_whose_keys_change_type() -> None:
    """Each top-level key of one sample of every JSON format another type or dropped: ``--format auto`` reads it as
    its own format, or as none, or as one that dead-letters all of it; never as another that stores it."""
    firsts: dict[str, tuple[Path, str]] = {}
    for path, fmt in struct_mutate.json_samples():
        firsts.setdefault(fmt, (path, fmt))
    assert len(firsts) >= 30
    assert struct_mutate.auto_sweep(list(firsts.values())) == []


@pytest.mark.slow
def test_auto_detection_keeps_every_sample_whose_keys_change_type() -> None:
    assert struct_mutate.auto_sweep(list(struct_mutate.json_samples())) == []


@pytest.mark.slow
def test_a_long_structure_aware_campaign_breaks_no_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUZZ_KEEP", str(tmp_path / "found"))
    logs: list[str] = []
    assert struct_mutate.campaign(4002, 1500, log=logs.append) == 0, logs


@pytest.mark.slow
def test_a_long_wire_probe_campaign_breaks_no_contract() -> None:
    logs: list[str] = []
    assert wire_probe36.campaign(4104, 400, log=logs.append) == 0, logs
