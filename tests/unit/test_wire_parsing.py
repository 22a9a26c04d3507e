"""Wire-protocol parsing without a server: JSON depth, bulk NDJSON, HEC concatenation, grouping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.runtime.service import Service
from secpipe.server.es_bulk import parse_bulk
from secpipe.server.hec import HecError, split_events
from secpipe.server.http import AppContext, HTTPError, Limits
from secpipe.server.wire import accept_items, json_depth
from secpipe.store.query import run


def _depth(v: object) -> int:
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab{}[]"\\\n ', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='k{["\\', max_size=3), inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_json_depth_matches_a_recursive_count(value: object) -> None:
    assert json_depth(json.dumps(value).encode()) == _depth(value)


def test_json_depth_several_documents() -> None:
    assert json_depth(b'{"a":[{"b":"]]]]"}]}\n{"c":"\\\\"}\n[[[[]]]]') == 4


def test_parse_bulk_fast_and_slow_paths() -> None:
    fast = parse_bulk(b'{"index":{"_index":"a","_id":"1"}}\n{"x":1}\n{"create":{}}\r\n{"y":2}\r\n', "dflt")
    assert fast == [("index", "a", "1", b'{"x":1}'), ("create", "dflt", None, b'{"y":2}')]
    slow = parse_bulk(b'{"delete":{"_index":"a","_id":"9"}}\n\n{"index":{}}\n{"z":3}\n{"update":{"_id":"2"}}\n{"doc":{}}\n', None)
    assert slow == [("delete", "a", "9", None), ("index", "", None, b'{"z":3}'), ("update", "", "2", b'{"doc":{}}')]
    with pytest.raises(HTTPError, match=r"line \[3\]"):
        parse_bulk(b'{"index":{}}\n{"a":1}\n{"bogus":{}}\n{"b":2}\n', None)
    with pytest.raises(HTTPError, match="no document line"):
        parse_bulk(b'{"index":{}}\n{"a":1}\n{"index":{}}\n', None)


def test_split_events_concatenated_and_strings_with_braces() -> None:
    body = b'{"event":"a}{b"}{"event":{"k":"} {"}}\n\n {"event":3}'
    assert [json.loads(e) for e in split_events(body)] == [{"event": "a}{b"}, {"event": {"k": "} {"}}, {"event": 3}]
    with pytest.raises(HecError) as err:
        split_events(b'{"event":1}{"event":')
    assert err.value.body == {"text": "Invalid data format", "code": 6, "invalid-event-number": 1}
    with pytest.raises(HecError) as err:
        split_events(b"  ")
    assert err.value.body["code"] == 5


def test_accept_items_maps_dead_letters_to_items(data_dir: Path, real: Path) -> None:
    svc = Service(data_dir)
    ctx = AppContext(service=svc, tokens=None, limits=Limits())
    ct = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    good = [r for r in ct if r.get("eventName") and r.get("eventSource")][:3]
    items: list[tuple[str | None, bytes]] = [
        (None, json.dumps(good[0]).encode()),
        ("cloudtrail", json.dumps({"eventVersion": "1.08", "userIdentity": {}}).encode()),  # no eventName: dead
        (None, b'{"message": "generic", "@timestamp": "2024-01-01T00:00:00Z"}'),
        (None, b"not json at all"),
        ("cloudtrail", json.dumps(good[1]).encode()),
    ]
    reasons = accept_items(ctx, "test", items)
    assert reasons[0] is None and reasons[2] is None and reasons[4] is None
    assert reasons[1] is not None and "eventName" in reasons[1]
    assert reasons[3] is not None and "unrecognized" in reasons[3]
    svc.close()
    assert run(data_dir, "SELECT count(*) FROM dead_letter")[1][0][0] == 2
