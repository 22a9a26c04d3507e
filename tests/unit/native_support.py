"""Comparing a format's decode with the native extension and without it (``SECPIPE_NATIVE=0``).

The contract of ``secpipe.formats._fast``: both paths give the same batches and the same dead
letters. Rows stamped with the receipt time (``metadata.labels`` set) differ in ``time`` and
``time_dt`` only; those two columns are compared for the other rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import strategies as st

from secpipe.formats import _fast, detect, get
from secpipe.formats.base import Decoded


def _result(d: Decoded) -> tuple[list[pa.RecordBatch], list[pa.Array], list[tuple[str, str, int, bytes]], int]:
    """(batches without time columns, time of rows with their own time, dead letters, events)."""
    batches, times = [], []
    for b in d.batches:
        meta = b.schema.field("metadata").type
        own = pc.is_null(b.column("metadata").field("labels")) if "labels" in meta.names else pa.array([True] * b.num_rows)
        times.append(b.column("time").filter(own))
        batches.append(b.drop_columns(["time", "time_dt"]))
    return batches, times, [(x.reason, x.source, x.offset, bytes(x.raw)) for x in d.dead], d.events


def assert_same_decoded(native: Decoded, reference: Decoded, what: object) -> None:
    """Assert two decodes of the same input are identical (see module docstring); ``what``
    names the input in the failure message."""
    nb, nt, nd, ne = _result(native)
    rb, rt, rd, re_ = _result(reference)
    assert nd == rd, what
    assert ne == re_, what
    assert len(nb) == len(rb), what
    for x, y in zip(nb, rb, strict=True):
        assert x.schema == y.schema, what
        for name in x.schema.names:
            assert x.column(name).equals(y.column(name)), (what, name, x.column(name).to_pylist()[:3],
                                                           y.column(name).to_pylist()[:3])  # fmt: skip
    assert all(a.equals(b) for a, b in zip(nt, rt, strict=True)), what


@contextlib.contextmanager
def native_mode(monkeypatch: pytest.MonkeyPatch, native: bool) -> Iterator[None]:
    """The native extension on or off for the block (then back to on)."""
    if native:
        monkeypatch.delenv("SECPIPE_NATIVE", raising=False)
    else:
        monkeypatch.setenv("SECPIPE_NATIVE", "0")
    _fast._module.cache_clear()
    try:
        yield
    finally:
        monkeypatch.delenv("SECPIPE_NATIVE", raising=False)
        _fast._module.cache_clear()


def decode_with(fmt: str, doc: bytes, monkeypatch: pytest.MonkeyPatch, native: bool) -> Decoded:
    """``fmt``'s decode of ``doc`` with the native extension on or off (then back to on)."""
    with native_mode(monkeypatch, native):
        return get(fmt).decode(doc, "src")


def same_both_ways(fmt: str, doc: bytes, monkeypatch: pytest.MonkeyPatch, what: object) -> Decoded:
    """Decode ``doc`` both ways, assert they agree, return the native decode."""
    native = decode_with(fmt, doc, monkeypatch, True)
    assert_same_decoded(native, decode_with(fmt, doc, monkeypatch, False), what)
    return native


def detected_both_ways(fmt: str, doc: bytes, monkeypatch: pytest.MonkeyPatch, what: object) -> Decoded:
    """:func:`same_both_ways` of a sample that ``--format auto`` must also take for ``fmt``."""
    assert detect(doc) is get(fmt), what
    return same_both_ways(fmt, doc, monkeypatch, what)


def spaced(text: str, draw: Callable[[], str]) -> bytes:
    """Compact JSON ``text`` re-emitted with whitespace runs (``draw()``) around its tokens
    (outside strings): the input a compactor must give back as ``text``."""
    out, in_str, esc = [draw()], False, False
    for ch in text:
        out.append(ch)
        if in_str:
            in_str, esc = (not (ch == '"' and not esc)), (ch == "\\" and not esc)
        elif ch == '"':
            in_str = True
        elif ch in ",:[]{}":
            out.append(draw())
    out.append(draw())
    return "".join(out).encode()


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\ud800"), max_size=12) | st.sampled_from(
    ['"', "\\", '\\"', "\\\\", "a\"b", "\n", "\t", "\u00e9", "\U0001f600", "\u2028", " : , { } [ ] "])
#: JSON values for a compactor's tests: strings with quotes, escapes, non-ASCII and JSON punctuation
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_TEXT, kids, max_size=4),
    max_leaves=25,
)
#: a run of JSON whitespace (RFC 8259's four), maybe empty
JSON_SPACE = st.text(st.sampled_from(" \t\n\r"), max_size=3)
