"""Speed changes of the finding-style formats keep their output (issue 3's per-format floors).

``raw_data`` copies records into a buffer of Arrow's pool instead of a fresh join (same column,
same refusal of bytes that are not UTF-8). ``raw_json_col`` copies the raw fragments of canonical records instead of re-formatting each
one: it must give exactly what ``msgspec.json.format(fragment, indent=-1)`` gave, for records
split out of pretty-printed, NDJSON and array documents with escapes, unicode, nesting and
JSON nulls. ``CheckedRecordFormat.decode`` pauses the cyclic GC for the split too: same
batches, and the GC is on again afterwards (also after a document that is dead-lettered).
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from secpipe.formats import get
from secpipe.formats._findings import raw_data, raw_json_col
from secpipe.formats.base import Decoded, decode_typed

_VALUES = [
    None, True, 0, -1.5e-7, "", "é \u2028 \\\" \n", [], {}, [1, [2, {"a": None}]],
    {"x": {"y": ["z", 3.25, False]}, "k\\ey": "v\u00e9\U0001F600"}, {"allow": True}, "null",
]  # fmt: skip


def _docs() -> list[bytes]:
    recs = []
    for i, v in enumerate(_VALUES):
        rec = {"decision_id": f"d{i}", "path": "authz/allow", "input": v, "result": v,
               "output_fields": {"proc.name": "sh", "evt.arg": v}}  # fmt: skip
        if i % 3 == 0:
            del rec["input"]
        recs.append(rec)
    return [
        json.dumps(recs, indent=2, ensure_ascii=False).encode(),
        "\n".join(json.dumps(r, ensure_ascii=i % 2 == 0) for i, r in enumerate(recs)).encode(),
        json.dumps(recs, separators=(", ", " : ")).encode(),
    ]


@pytest.mark.parametrize("doc", _docs(), ids=["pretty-array", "ndjson", "spaced-array"])
def test_raw_json_col_is_the_formatted_fragment(doc: bytes) -> None:
    fmt = get("opa")
    recs = fmt.split_records(doc, "src")
    assert not recs.dead and recs.raws
    typed = decode_typed(recs.raws, recs.locs, dict, Decoded(), "src", "opa", "a record")
    for key in ("input", "result", "output_fields"):
        frags = [t.get(key) for t in typed.tops]
        want = pa.array([None if v is None or bytes(v) == b"null"
                         else msgspec.json.format(bytes(v), indent=-1).decode() for v in frags], pa.string())  # fmt: skip
        assert raw_json_col(frags).equals(want), key


@pytest.mark.parametrize("name", ["opa", "falco"])
def test_checked_decode_pauses_gc_and_restores_it(name: str, real: Path) -> None:
    sample = {"opa": "opa-docs/management-decision-logs.example1.json",
              "falco": "falco/test/output_files/single_rule_with_cat_write.json"}[name]  # fmt: skip
    data = (real / sample).read_bytes()
    fmt = get(name)
    seen = []
    split = type(fmt).split_records

    def spy(self, d, s):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return split(self, d, s)

    assert gc.isenabled()
    type(fmt).split_records = spy  # type: ignore[method-assign]
    try:
        out = fmt.decode(data, "src")
        bad = fmt.decode(b'{"decision_id": ', "src")
    finally:
        type(fmt).split_records = split  # type: ignore[method-assign]
    assert seen == [False, False]
    assert gc.isenabled()
    assert sum(b.num_rows for b in out.batches) > 0 and not out.dead
    assert bad.dead and not bad.batches


def _joined_reference(raws: list[bytes]) -> pa.Array:
    """The former ``raw_data``: one join, validated unless all ASCII."""
    return pa.array([r.decode() for r in raws], pa.string())


@pytest.mark.parametrize("raws", [
    [b'{"a":1}', b'{"b":"x"}' * 300, b"{}"],
    [b'{"t":"\xc3\xa9t\xc3\xa9"}', b'{"e":"\xf0\x9f\x98\x80"}' * 200],
    [b'{"n":%d,"pad":"%s"}' % (i, b"y" * (i % 3000)) for i in range(500)],
])  # fmt: skip
def test_raw_data_keeps_the_records(raws: list[bytes]) -> None:
    got = raw_data(raws)
    assert got.type == pa.string()
    assert got.equals(_joined_reference(raws))


@pytest.mark.parametrize("avg", [10, 4000])
def test_raw_data_refuses_bytes_that_are_not_utf8(avg: int) -> None:
    with pytest.raises(pa.ArrowInvalid):
        raw_data([b'{"a":"' + b"x" * avg + b'"}', b'{"b":"\xff\xfe"}' + b" " * avg])
