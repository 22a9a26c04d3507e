"""split_report / array_text (session 36): the one-pass split of a report gives the batches the
whole-report path gives, on the real samples (tests/cases/scanners27, dependency_track32: their
sources in those folders' notes), and declines what it does not decide."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats._findings import ReportFormat, array_text, compact, split_report

CASES = Path(__file__).resolve().parents[1] / "cases"
SAMPLES = [
    ("grype", CASES / "scanners27" / "grype-json-presenter-image.json"),
    ("grype", CASES / "scanners27" / "grype-0.28-check-all-fields-defectdojo.json"),
    ("dependency_track", CASES / "scanners27" / "dependency-track-4.10-defectdojo.json"),
    ("dependency_track", CASES / "scanners27" / "dependency-track-one-finding-defectdojo.json"),
]
needs_native = pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")


def _rows(res: formats.base.Decoded) -> list[object]:
    out: list[object] = [b.drop_columns(["time", "time_dt"]).to_pylist() for b in res.batches]
    return [*out, [(d.reason, d.offset) for d in res.dead], res.events]


@needs_native
@pytest.mark.parametrize(("name", "path"), SAMPLES, ids=lambda x: getattr(x, "name", x))
def test_split_path_gives_the_report_path_batches(name: str, path: Path) -> None:
    fmt = formats.get(name)
    data = path.read_bytes()
    key = "matches" if name == "grype" else "findings"
    assert split_report(data, key, fmt.report_type if name == "grype" else type(fmt).report_type.__args__[0]) is not None
    assert _rows(fmt.decode(data, "s")) == _rows(ReportFormat.decode(fmt, data, "s"))


@needs_native
def test_split_report_declines_what_it_does_not_decide() -> None:
    class Rep(msgspec.Struct):
        items: list[msgspec.Raw]
        n: int = 0

    assert split_report(b'[{"items": []}]', "items", Rep) is None  # not an object
    assert split_report(b'{"other": [1]}', "items", Rep) is None  # no such array
    assert split_report(b'{"items": {"a": 1}}', "items", Rep) is None  # not an array
    assert split_report(b'{"items": [1], "n": "x"}', "items", Rep) is None  # not of the type
    assert split_report(b'{"items": [1], "n": 2, ', "items", Rep) is None  # not JSON
    got = split_report(b'{ "n": 2, "items": [ {"a": 1} , [2] ] }', "items", Rep)
    assert got is not None and got.report.n == 2 and got.items == [b'{"a":1}', b"[2]"]
    assert bytes(got.array) == b'[{"a":1},[2]]'


def test_array_text_is_a_view_of_the_array_or_none() -> None:
    class Rep(msgspec.Struct):
        items: list[msgspec.Raw]

    doc = compact(b'{"x": [0], "items": [ {"a": [1, 2]}, "b" , 3 ]}')
    items = msgspec.json.decode(doc, type=Rep).items
    assert bytes(array_text(doc, items) or b"") == b'[{"a":[1,2]},"b",3]'
    assert array_text(doc, items[:2]) is None  # (not its whole array: no closing bracket after it)
    assert array_text(doc, [msgspec.Raw(bytes(r)) for r in items]) is None  # copies, not views of doc
    assert array_text(doc, []) is None
