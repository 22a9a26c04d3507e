"""asff (session 37, H7): the walk's JSON number texts (``Severity.Normalized``, CVSS ``BaseScore``) are read
by one Arrow cast (``_asff_vulns.numbers``) where it takes them all; it must give what ``floats`` (a
``float()`` a text) gives, bit for bit, and refuse what it refuses."""

from __future__ import annotations

import json
import random
import struct

import pyarrow as pa
import pytest

from secpipe.formats import _asff_vulns


def _bits(values: list[float | None]) -> list[bytes | None]:
    return [None if v is None else struct.pack("<d", v) for v in values]


def _read(texts: list[str | None]) -> list[bytes | None] | None:
    got = _asff_vulns.numbers(pa.array(texts, pa.string()))
    return None if got is None else _bits(got if isinstance(got, list) else got.to_pylist())


@pytest.mark.parametrize("texts", [
    ["90", "-0", "1E2", "0.000", "89.99999999999999999", "1e-400", "12345678901234567890123", None],
    ["null", "5"], ["1e400"], ["-1e400", "3"], ['"50"'], ["true"], ["[]"], ["{}"], [None, None], [],
])  # fmt: skip
def test_numbers_read_as_floats(texts: list[str | None]) -> None:
    want = _asff_vulns.floats(texts)
    assert _read(texts) == (None if want is None else _bits(want))


def test_numbers_random_texts() -> None:
    rnd = random.Random(37)
    texts = []
    for _ in range(5000):
        bits = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        texts += [repr(rnd.uniform(-1e6, 1e6)), str(rnd.randint(-10**25, 10**25)),
                  f"{rnd.randint(0, 999)}.{rnd.randint(0, 10**12)}e{rnd.choice(['', '+', '-'])}{rnd.randint(0, 330)}"]
        if bits == bits and abs(bits) != float("inf"):
            texts.append(json.dumps(bits))
    for i in range(0, len(texts), 500):
        chunk = texts[i : i + 500]
        want = _asff_vulns.floats(chunk)
        assert _read(chunk) == (None if want is None else _bits(want))
