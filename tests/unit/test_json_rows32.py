"""The native reader of typed JSON lines (``_fast.json_rows``, ``native/src/json_rows.rs``) against
Arrow's JSON reader, the reference it replaces in the ocsf format (``ocsf_json._read``): the same
columns (names in order of first appearance, types, values, nulls) but for what Arrow types from no
value (taken away, as ``ocsf_json._pruned`` does) and a date-like string (Arrow makes it a timestamp).
Lines are made by msgspec's encoder from Python values (compact JSON, RFC 8259), as the format makes
them; random ones from a fixed seed."""

from __future__ import annotations

import io
import json
import random
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.json as pj
import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats.ocsf_json import _pruned

pytestmark = pytest.mark.skipif(_fast.json_rows([b'{"a":1}']) is None, reason="extension without json_rows")

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"


def _arrow(lines: list[bytes]) -> dict[str, pa.Array]:
    table = pj.read_json(io.BytesIO(b"\n".join(lines)))
    return {n: c for n in table.column_names if (c := _pruned(table.column(n).combine_chunks())) is not None}


def _same(lines: list[bytes]) -> None:
    want, got = _arrow(lines), _fast.json_rows(lines)
    assert got is not None
    assert list(got) == list(want)
    for name, col in want.items():
        assert got[name].type == col.type, name
        assert got[name].equals(col), name


def _enc(*rows: dict[str, Any]) -> list[bytes]:
    return [msgspec.json.encode(r) for r in rows]


def test_nested_rows_as_arrow_reads_them() -> None:
    _same(_enc({"a": "x", "n": 1, "f": 1.5, "t": True, "o": {"p": "q", "l": [{"k": 1}, {"j": "z"}]}, "s": ["a", "b"]},
               {"n": -7, "o": {}, "s": [], "e": {"x": []}, "u": "é \"\\\n\u2028 😀", "f": -2.5e-300},
               {"o": {"l": [], "p": "r"}, "t": False, "z": {}, "m": [{}, {"k": 2}]},
               {"a": "late", "o": {"l": [{"k": 3, "j": "y"}]}, "f": 1e300}))  # fmt: skip


def test_what_arrow_types_from_no_value_is_left_out() -> None:
    got = _fast.json_rows(_enc({"a": [], "b": {"c": []}, "d": {}, "e": [{}], "k": 1}, {"a": [], "k": 2}))
    assert got is not None and list(got) == ["d", "e", "k"]  # (an empty object stays an empty struct, as Arrow's)
    _same(_enc({"a": [], "b": {"c": []}, "d": {}, "e": [{}], "k": 1}, {"a": [], "k": 2}))


def test_date_like_text_stays_text() -> None:
    got = _fast.json_rows(_enc({"a": "2024-01-02T03:04:05Z"}, {"a": "2024-01-02"}))
    assert got is not None and got["a"].to_pylist() == ["2024-01-02T03:04:05Z", "2024-01-02"]
    assert pa.types.is_timestamp(_arrow(_enc({"a": "2024-01-02T03:04:05Z"}))["a"].type)  # (Arrow's reader)


@pytest.mark.parametrize("lines", [
    [b'{"a":null}'], [b'{"a":1,"a":2}'], [b'{"a":1}', b'{"a":1.5}'], [b'{"a":"x"}', b'{"a":{"b":1}}'],
    [b'{"a":[[1]]}'], [b'{"a\\u0062":1}'], [b'{"a":1} '], [b'{"a":1'], [b'[1]'], [b'{"a":tru}'], [b'{"a":[1,"x"]}'],
    [b'{"a":' * 80 + b"1" + b"}" * 80],
])  # fmt: skip
def test_declines_what_it_does_not_decide(lines: list[bytes]) -> None:
    assert _fast.json_rows(lines) is None


def _row(rnd: random.Random, path: str, depth: int) -> dict[str, Any]:
    """A random object whose values are of one shape per path (a typed record's: the path names it)."""
    out: dict[str, Any] = {}
    for k in rnd.sample("abcdefgh", rnd.randint(0, 6)):
        p = f"{path}.{k}"
        shape = zlib.crc32(p.encode()) % (4 if depth > 2 else 7)
        text = rnd.choice(["s", "ü\n\"\\", "", "x" * 40])
        if shape == 4:
            out[k] = _row(rnd, p, depth + 1)
        elif shape == 5:
            out[k] = [_row(rnd, p, depth + 1) for _ in range(rnd.randint(0, 3))]
        elif shape == 6:
            out[k] = [text] * rnd.randint(0, 3)
        else:
            out[k] = [text, rnd.randint(-(2**63), 2**63 - 1), rnd.uniform(-1e6, 1e6), rnd.random() < 0.5][shape]
    return out


def test_random_rows_as_arrow_reads_them() -> None:
    rnd = random.Random(32)
    for _ in range(40):
        _same(_enc(*(_row(rnd, "", 0) for _ in range(rnd.randint(1, 40))), {"z": 1}))


def test_ocsf_batches_the_same_without_the_native_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    okta = json.loads((CASES / "ocsf-okta-authentication.ocsf").read_text())
    prowler = json.loads((CASES / "ocsf-prowler-api-manual.ocsf.json").read_text())
    doc = b"\n".join(json.dumps({**r, "message": "2024-01-02T03:04:05Z"}).encode() for r in [okta, *prowler, okta])
    fmt = formats.get("ocsf")
    native = fmt.decode(doc, "x")
    monkeypatch.setattr(_fast, "json_rows", lambda lines: None)
    arrow = fmt.decode(doc, "x")
    assert len(native.batches) == len(arrow.batches) == 2 and not native.dead
    for a, b in zip(native.batches, arrow.batches, strict=True):
        assert a.equals(b)
