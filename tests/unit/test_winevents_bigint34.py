"""A Windows event whose field holds an integer past int64 (the mutation fuzzer's json-value, seed 46675,
on winlogbeat-4768.evtx.golden.json: its ServiceName made a 20-digit number) crashed the decode with
OverflowError in ``_winevents._col``; the value is read as its text like any other number."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

CASE = Path(__file__).parent.parent / "cases/winevents31/winlogbeat-4768.evtx.golden.json"


def test_an_integer_past_int64_is_text() -> None:
    events = json.loads(CASE.read_bytes())
    events[0]["winlog"]["event_data"]["ServiceName"] = 123456789012345678901234567890
    out = formats.get("json").decode(json.dumps(events).encode(), "t")  # red before: OverflowError
    assert not out.dead and sum(b.num_rows for b in out.batches) == len(events)
    names = [n for b in out.batches for n in b.column("service").field("name").to_pylist()]
    assert "123456789012345678901234567890" in names
