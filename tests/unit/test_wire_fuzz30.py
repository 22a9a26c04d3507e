"""A shipper's document stamped before 1970 (``0001-01-01T00:00:00Z``, a zero time a shipper wrote;
found by the mutation fuzzer, seed 3002 round 2502): its line is grouped by host and time like any
other (``wire.by_host``), not a KeyError that stopped the whole ingest. Sample: Vector's file source
example events (tests/cases/wire_holdout/SOURCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.server.shipped import shipped_lines
from secpipe.server.wire import by_host

WIRE = Path(__file__).parents[1] / "cases" / "wire_holdout"


def test_a_document_time_before_1970_groups_like_any_other() -> None:
    line = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()[0]  # an Apache access line
    first, second = json.loads(line), json.loads(line)
    first["timestamp"] = "0001-01-01T00:00:00Z"
    second["timestamp"] = "1969-12-31T23:59:59Z"
    names, docs = shipped_lines([None, None], [json.dumps(d).encode() for d in (first, second)])
    assert names == ["syslog", "syslog"]
    assert all(d.at is not None and d.at < 0 for d in docs)
    parts = by_host(formats.get("syslog"), "es_bulk:t", docs, [0, 1])
    assert sorted(i for _, part in parts for i in part) == [0, 1]
    at = {int(src.split(";at=")[1].split(";")[0]) for src, _ in parts}
    assert at == {docs[0].at, docs[1].at}  # each part's latest time, negative as it is
