"""``base.concatenated_objects``: its split at line breaks (checked by msgspec) gives what the stdlib's
``raw_decode`` walk gives, for back-to-back and pretty-printed objects and for what is no such sequence."""

from __future__ import annotations

import json
import random

import pytest

from secpipe.formats.base import concatenated_objects


def _reference(data: bytes) -> list[bytes]:
    """The objects as the stdlib's ``raw_decode`` walk finds them (the function's only path before session 27)."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return []
    dec, out, pos = json.JSONDecoder(), [], 0
    while pos < len(text):
        if text[pos] != "{":
            return []
        try:
            _obj, end = dec.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return []
        out.append(text[pos:end].encode())
        pos = end
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
    return out


EDGES = [b'{"a":1}{"b":2}', b'{"a":1}\n{"b":2}\n', b'{"a":1} \n\t {"b":[{"c":1},\n{"d":2}]}', b' {"a":1}\n{"b":2}',
         b'{"a":NaN}\n{"b":2}', b'{"a":1}\n[1]', b'{"a":1}\nx', b'{"a":"}\\n{"}\n{"b":2}', b"{}\n{}\n{}",
         b'{"a":1}\n{"b":', b'\xff{"a":1}', '{"a":"\u00e9"}\n{"b":2}'.encode(), b"{" * 3000 + b"}" * 3000 + b"\n{}",
         json.dumps({"x": [1, {"y": 2}]}, indent=2).encode() * 3]


@pytest.mark.parametrize("data", EDGES)
def test_edges_as_the_stdlib_reads_them(data: bytes) -> None:
    assert concatenated_objects(data) == _reference(data)


def test_random_streams_as_the_stdlib_reads_them() -> None:
    rnd = random.Random(27)
    found = 0
    for _ in range(2000):
        parts = [json.dumps({"k": rnd.choice([1, "a}\n{b", [1, {"z": None}], {"q": "}"}])}, indent=rnd.choice([None, 2]))
                 for _ in range(rnd.randrange(1, 5))]
        data = (rnd.choice(["", "\n", " \n ", "\r\n", " "]).join(parts) + rnd.choice(["", "\n", " x", "{"])).encode()
        got = concatenated_objects(data)
        assert got == _reference(data), data
        found += bool(got)
    assert 800 < found < 1900  # both sequences and refusals
