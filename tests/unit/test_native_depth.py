"""The native JSON depth scan (``_fast.json_depth``) gives the figure the Python scan gives
(``wire.json_depth``, per line for NDJSON) on any bytes, valid JSON or not, so the depth
limit holds the same with and without the extension; and ``check_depth`` uses it. The same
for the longest string (``_fast.json_longest_string``) and the numpy scan of
``security.limits``, which the limit checks fall back to without the extension."""

from __future__ import annotations

import json
import random

import pytest

from secpipe.errors import LimitExceeded
from secpipe.formats import _fast
from secpipe.security import limits
from secpipe.server import wire
from secpipe.server.http import HTTPError

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built")


def _per_line(data: bytes) -> int:
    return max([wire.json_depth(line) for line in data.split(b"\n")] or [0])


def test_same_depth_as_the_python_scan_on_random_bytes() -> None:
    rnd = random.Random(11)
    alphabet = b'{}[]"\\\n ab,:'  # structure, strings, escapes, newlines and filler
    for _ in range(30_000):
        data = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80)))
        assert _fast.json_depth(data) == wire.json_depth(data), data
        assert _fast.json_depth(data, lines=True) == _per_line(data), data


def test_same_depth_on_json_with_brackets_in_strings() -> None:
    doc = {"a": [{"b": [1, 2, {"c": 'x]\\"[ {{', "d": "\u00e9\n["}]}] * 3, "e": {"f": {"g": []}}}
    lines = b"\n".join(json.dumps(doc).encode() for _ in range(50))
    assert _fast.json_depth(lines, lines=True) == _per_line(lines) == 5
    assert _fast.json_depth(b"[" * 5000 + b"]" * 5000) == 5000


def test_check_depth_refuses_a_deep_line_of_a_large_bulk_body() -> None:
    ok = b'{"index":{}}\n' + b'{"a":{"b":{"c":"{[{[{["}}}\n' * 4000  # > 64 KiB: the native scan
    wire.check_depth(ok, 4, ndjson=True)
    deep = ok + b'{"x":' * 9 + b"1" + b"}" * 9 + b"\n"
    with pytest.raises(HTTPError) as exc:
        wire.check_depth(deep, 4, ndjson=True)
    assert exc.value.status == 400 and "depth 9 exceeds the limit of 4" in str(exc.value.body)


def _numpy_figures(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(longest string, depth) as the numpy scan measures them (the extension turned off)."""
    with monkeypatch.context() as m:
        m.setattr(_fast, "json_longest_string", lambda _data: None)
        m.setattr(_fast, "json_depth", lambda _data, lines=False: None)
        return limits._longest_string(data), limits._depth(data)


def test_same_longest_string_and_depth_as_the_numpy_scan_on_random_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(12)
    alphabet = b'{}[]"\\\n ab,:'
    for _ in range(20_000):
        data = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        assert (limits._longest_string(data), limits._depth(data)) == _numpy_figures(data, monkeypatch), data


def test_the_limits_refuse_the_same_with_and_without_the_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b'{"index":{}}\n' + b'{"msg":"' + b"x\\\"" * 400 + b'"}\n' + b'{"a":[[[[1]]]]}\n'  # a 1,200-byte string
    for native in (True, False):
        with monkeypatch.context() as m:
            if not native:
                m.setattr(_fast, "json_longest_string", lambda _data: None)
                m.setattr(_fast, "json_depth", lambda _data, lines=False: None)
            limits.check_json_limits(body, 10, 1200)
            with pytest.raises(LimitExceeded, match="JSON string of 1200 bytes exceeds the limit of 1199"):
                limits.check_json_limits(body, 10, 1199)
            with pytest.raises(LimitExceeded, match="JSON nesting depth 5 exceeds the limit of 4"):
                limits.check_json_limits(body, 4, 1200)
            with pytest.raises(LimitExceeded, match="JSON string of 9 bytes"):  # unterminated: runs to the end
                limits.check_json_limits(b'  "abcdefghi', 100, 8)


def test_contains_any_finds_what_in_finds() -> None:
    rnd = random.Random(13)
    needles = (b'"detail-type"', b'"logEvents"', b"ab", b"\x00")
    for _ in range(5_000):
        data = bytes(rnd.choice(b'"detail-typ logEvnsab\x00') for _ in range(rnd.randint(0, 40)))
        picked = tuple(rnd.sample(needles, rnd.randint(0, len(needles))))
        assert _fast.contains_any(data, picked) == any(n in data for n in picked), (data, picked)
    assert _fast.contains_any(b"x" * 100_000 + b'"logEvents"', needles)
