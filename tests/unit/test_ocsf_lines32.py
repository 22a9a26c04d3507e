"""The native walk of OCSF records (``_fast.ocsf_lines``, ``native/src/ocsf_lines.rs``) against the
ocsf format's typed decode and re-encode it replaces (``ocsf_json._typed`` + ``_Group.typed``): a
record it gives a line for is one the typed decode takes, and the columns of its line (read by
``_fast.json_rows``) and its own ``unmapped`` are the typed path's; a record the typed decode refuses
is declined. Records: the samples of ``tests/cases/cloud31`` (SOURCES.md) changed at random from a
fixed seed (values nulled, emptied, retyped, escaped; keys added or given twice) and values built
from OCSF 1.8.0's attribute types and RFC 8259 (escapes, numbers)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats import ocsf_json as oj

pytestmark = pytest.mark.skipif(oj._tree("authentication") is None or _fast.json_rows([b'{"a":1}']) is None,
                                reason="extension without ocsf_lines")  # fmt: skip

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"
OKTA = json.loads((CASES / "ocsf-okta-authentication.ocsf").read_text())
PROWLER = json.loads((CASES / "ocsf-prowler-api-manual.ocsf.json").read_text())
VALUES: list[Any] = [None, {}, [], 7, -0, 2**31, 2**40, 1.5, -0.0, 1e300, True, "", "é \"\\\n\u2028\x01 😀",
                     "2024-01-02T03:04:05Z", {"b": 1, "a": [2, {"d": None, "c": "x\ty"}]}, ["x", 1]]  # fmt: skip


def _typed(cls: str, raw: bytes) -> tuple[bytes, bytes | None] | None:
    """What the format's typed path makes of ``raw`` (None: refused, the walk reads it)."""
    try:
        rec = oj._typed(cls).decode(raw)
    except msgspec.ValidationError:
        return None
    if rec.class_uid != oj._HEAD.decode(raw).class_uid:
        return None
    g = oj._Group()
    g.typed(raw, ("x", 0), rec, oj._STRUCT_ENC.encode)
    return g.lines[0], g.unmapped[0]


def _check(recs: list[bytes]) -> tuple[int, int]:
    """Each record's native line against the typed path's; how many the walk gave a line for, and
    how many of them the typed decode takes."""
    cls = oj._class(oj._HEAD.decode(recs[0]).class_uid)
    got = _fast.ocsf_lines(oj._tree(cls), recs, oj._HEAD.decode(recs[0]).class_uid)
    assert got is not None
    lines = taken = 0
    for raw, native in zip(recs, got, strict=True):
        want = _typed(cls, raw) if oj._HEAD.decode(raw).class_uid == oj._HEAD.decode(recs[0]).class_uid else None
        taken += want is not None
        if native is None:
            continue
        assert want is not None, raw  # (a line only for a record the typed decode takes)
        lines += 1
        assert native[1] == want[1]
        a, b = _fast.json_rows([native[0]]), _fast.json_rows([want[0]])
        assert a is not None and b is not None and list(a) == list(b), raw
        for k in a:
            assert a[k].equals(b[k]), (k, raw)
    return lines, taken


def _mutate(x: Any, rnd: random.Random) -> Any:
    if isinstance(x, dict):
        for k in list(x):
            r = rnd.random()
            if r < 0.02:
                x[k] = copy.deepcopy(rnd.choice(VALUES))
            elif r < 0.025:
                x[k + "_x"] = 1
            else:
                _mutate(x[k], rnd)
    elif isinstance(x, list):
        for v in x:
            _mutate(v, rnd)
    return x


def _raw(rec: dict[str, Any]) -> bytes:
    return msgspec.json.encode(rec)


def test_the_samples_read_as_the_typed_path_reads_them() -> None:
    assert _check([_raw(r) for r in PROWLER]) == (3, 3)
    assert _check([_raw(OKTA), _raw({**OKTA, "time": None, "time_dt": "2024-08-13T15:58:20Z"})]) == (2, 2)


def test_changed_records_read_as_the_typed_path_reads_them() -> None:
    rnd = random.Random(32)
    lines = taken = 0
    for _ in range(150):
        recs = [_raw(_mutate(copy.deepcopy(rnd.choice([OKTA, *PROWLER])), rnd)) for _ in range(4)]
        recs = [r for r in recs if type(oj._HEAD.decode(r).class_uid) is int and oj._HEAD.decode(r).class_uid in (2004, 3002)]
        if recs:
            got = _check(recs)
            lines, taken = lines + got[0], taken + got[1]
    assert taken > 100 and lines > 0.9 * taken, (lines, taken)  # (the walk takes nearly all the typed decode takes)


@pytest.mark.parametrize("value", [
    {"b": "\\u00e9", "a": {"z": 1, "y": [True, None, -0]}}, "te\\/xt", "\\ud83d\\ude00", 5, True, ["b", "a"],
])  # fmt: skip
def test_json_t_values_as_msgspec_writes_them(value: Any) -> None:
    rec = copy.deepcopy(PROWLER[0])
    rec["resources"][0]["data"] = value
    raw = _raw(rec).replace(b"\\\\u", b"\\u").replace(b"\\\\/", b"\\/")  # (escapes as a sender writes them)
    assert _check([raw]) == (1, 1)


@pytest.mark.parametrize("raw", [
    b'{"class_uid":3002,"activity_id":1,"activity_id":1}', b'{"class_uid":3002,"act\\u0069vity_id":1}',
    b'{"class_uid":3002,"activity_id":1.0}', b'{"class_uid":3002,"activity_id":2147483648}', b'{"class_uid":3002,"x":1}',
    b'{"class_uid":2004}', b'{"activity_id":1}', b'{"class_uid":null}', b'{"class_uid":3002,"user":{"groups":[null]}}',
    b'{"class_uid":3002,"src_endpoint":{"location":{"lat":-0}}}',
    b'{"class_uid":3002,"src_endpoint":{"location":{"lat":12345678901234567}}}',
    b'{"class_uid":3002,"enrichments":[{"name":"n","value":"v","data":{"f":1.5}}]}', b'[1]', b'{"class_uid":3002} ',
    b'{"class_uid":3002,"enrichments":[{"name":"n","value":"v","data":' + b"[" * 80 + b"]" * 80 + b"}]}",
])  # fmt: skip
def test_declines_what_it_does_not_decide(raw: bytes) -> None:
    got = _fast.ocsf_lines(oj._tree("authentication"), [raw], 3002)
    assert got == [None]


def test_float_given_an_integer_and_an_exponent() -> None:
    rec = {"class_uid": 3002, "src_endpoint": {"location": {"lat": 40, "long": -7.4E+1}}}
    [got] = _fast.ocsf_lines(oj._tree("authentication"), [_raw(rec)], 3002) or [None]
    assert got is not None
    cols = _fast.json_rows([got[0]])
    assert cols is not None and cols["src_endpoint"].to_pylist() == [{"location": {"lat": 40.0, "long": -74.0}}]


def test_ocsf_batches_the_same_without_the_native_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(7)
    recs = [OKTA, *PROWLER, OKTA] + [_mutate(copy.deepcopy(rnd.choice([OKTA, *PROWLER])), rnd) for _ in range(40)]
    doc = b"\n".join(_raw(r) for r in recs)
    fmt = formats.get("ocsf")
    native = fmt.decode(doc, "x")
    monkeypatch.setattr(_fast, "ocsf_lines", lambda tree, raws, cuid: None)
    typed = fmt.decode(doc, "x")
    assert [d.reason for d in native.dead] == [d.reason for d in typed.dead]
    assert len(native.batches) == len(typed.batches) >= 2
    for a, b in zip(native.batches, typed.batches, strict=True):
        assert a.equals(b)


_VALUES = {oj._STR: ["x", "é\n\"", "2024-01-02T03:04:05Z"], oj._INT: [0, -5, 2**31 - 1], oj._LONG: [-(2**63), 2**63 - 1],
           oj._TS: [0, 2**40], oj._DT: ["2024-01-02T03:04:05Z"], oj._FLOAT: [1.5, 7, -0.25e-3], oj._BOOL: [True, False],
           oj._JSON: [{"b": [1, "x"], "a": {"z": None}}, "text", 5, [True]]}  # fmt: skip


def _record(owner: str, is_class: bool, rnd: random.Random, depth: int) -> dict[str, Any]:
    """Attributes of ``owner`` at random, each a value of its OCSF type (objects 3 deep)."""
    out: dict[str, Any] = {}
    attrs = oj._attributes(owner, is_class)
    for name in rnd.sample(sorted(attrs), min(len(attrs), rnd.randint(1, 12))):
        kind, array, obj = attrs[name]
        if kind == oj._OBJ and depth > 2:
            continue
        def one(kind: int = kind, obj: str = obj) -> Any:
            return _record(obj, False, rnd, depth + 1) if kind == oj._OBJ else rnd.choice(_VALUES[kind])
        out[name] = [one() for _ in range(rnd.randint(0, 2))] if array and kind != oj._JSON else one()
    return out


def test_every_eighth_class_of_ocsf_read_as_the_typed_path_reads_it() -> None:
    # (all 83 classes and their objects, 5 records each, took ~5 s: 415 lines, each the typed path's)
    from secpipe.schema.ocsf import ocsf

    rnd = random.Random(8)
    for name, spec in sorted(ocsf()["classes"].items())[::8]:
        recs = [_raw({**_record(name, True, rnd, 0), "class_uid": spec["uid"]}) for _ in range(3)]
        assert _check(recs) == (3, 3), name
