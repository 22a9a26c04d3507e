"""Where a wire body's bad event ends and what is kept around it (the routes: tests/integration/test_wire_bad_items35.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from secpipe.server.hec import HecError, _events, screened_items, split_events
from secpipe.server.http import Limits
from secpipe.server.shipped import json_objects


def test_hec_event_that_is_no_json_ends_at_the_next_line_opening_an_object() -> None:
    raws, _array, bad = _events(b'{"event":"a"}\n{"event": bro\n{"event":"c"} {"event":"d"}', None)
    assert [json.loads(r)["event"] for r in raws] == ["a", "c", "d"]
    assert bad == {1: (b'{"event": bro', "not JSON: Expecting value")}
    raws, _array, bad = _events(b'{"event":"a"} nope', None)
    assert len(raws) == 1 and bad == {1: (b"nope", "not JSON: Expecting value")}
    pretty = b'{\n  "event": "a"\n}\n{\n  "event": broken\n}\n{\n  "event": "c"\n}\n'
    raws, _array, bad = _events(pretty, None)
    assert [json.loads(r)["event"] for r in raws] == ["a", "c"] and bad[1][0] == b'{\n  "event": broken\n}'
    with pytest.raises(HecError) as err:  # split_events (the raw endpoint's) still refuses such a body
        split_events(b'{"event":"a"} nope')
    assert err.value.body["invalid-event-number"] == 1


def test_hec_screened_items_sets_apart_what_splunk_refuses() -> None:
    raws = [b'{"event":"one"}', b'{"event":null}', b'{"event":""}', b"5", b'{"event":{}}', b'{"event":"six"}']
    names, docs, numbers, refused = screened_items(raws[:3] + raws[4:], {3: (b"x", "not JSON")}, None, {})
    assert numbers == [0, 5] and docs == [b'{"event":"one"}', b'{"event":"six"}'] and names == ["json", "json"]
    assert {n: code for n, (code, _raw, _why) in refused.items()} == {1: 12, 2: 13, 3: 6, 4: 13}
    assert refused[1][1:] == (b'{"event":null}', "no event") and refused[3][1:] == (b"x", "not JSON")
    assert screened_items([], {0: (b"xyz", "not JSON")}, None, {}) == ([], [], [], {0: (6, b"xyz", "not JSON")})
    names, docs, numbers, refused = screened_items([raws[3], raws[0]], {}, None, {})
    assert numbers == [1] and refused[0][:2] == (6, b"5") and refused[0][2].startswith("not an event envelope")


def test_hec_event_over_a_json_limit_is_set_apart_alone() -> None:
    deep = b'{"event":' + b'{"a":' * 30 + b"1" + b"}" * 30 + b"}"
    long = b'{"event":"' + b"x" * 300 + b'"}'
    body = b"\n".join([b'{"event":"a"}', deep, b'{"event":"c"}', long, b'{"event":"e"}'])
    raws, _array, bad = _events(body, Limits(max_json_depth=20, max_string_bytes=200))
    assert [json.loads(r)["event"] for r in raws] == ["a", "c", "e"]
    assert {n: raw for n, (raw, _why) in bad.items()} == {1: deep, 3: long}
    assert "max_json_depth" in bad[1][1] and "max_string_bytes" in bad[3][1]
    raws, _array, bad = _events(deep, Limits(max_json_depth=20))  # alone: set apart too (the route dead-letters it)
    assert raws == [] and list(bad) == [0]


def test_json_objects_keeps_a_few_lines_that_are_no_object() -> None:
    def listed(found: tuple[list[bytes], Sequence[int]] | None) -> tuple[list[bytes], list[int]] | None:
        return None if found is None else (found[0], list(found[1]))

    body = b'{"log":"a"}\n\nnot json\n{"log":"b"}\n{"log": "c\n'
    assert listed(json_objects(body)) == ([b'{"log":"a"}', b"not json", b'{"log":"b"}', b'{"log": "c'], [1, 3, 4, 5])
    assert listed(json_objects(body.replace(b"\n\n", b"\n"))) == (json_objects(body) or ([],))[:1] + ([1, 2, 3, 4],)
    found = json_objects(b'[{"log":"a"}, 42, {"log":"b"}]')
    assert listed(found) == ([b'{"log":"a"}', b"42", b'{"log":"b"}'], [1, 2, 3])
    assert json_objects(b'{\n  "a": {"b": 1},\n  "c": 2\n}\n') is None  # a pretty-printed object
    assert json_objects(b'line one\n{"log":"a"}\nline two\n') is None  # text with a JSON line in it
    assert json_objects(b'[{"log":"a"}, 1, 2]') is None
