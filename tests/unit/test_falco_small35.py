"""Falco alerts a few at a time (session 35): the small-batch path (:func:`secpipe.formats.falco._map_small`, plain
Python a value, what the ``http_output`` route decodes one POST at a time) gives the batch the columnar path gives.

The alerts are third-party samples: Falco's own test output (``../shared/data/real/falco``, SOURCES.md there) and the
holdout files of Elastic's, the Falco website's and the gcpaudit plugin README's alerts (tests/cases/holdout,
SOURCE.md there: syslog-wrapped and console captures among them). Each is decoded alone and three at a time, once
with the small path and once with it switched off; the batches must be equal (values, types, ``metadata.profiles``),
and their Parquet bytes (what the lake stores) the same.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from secpipe import formats
from secpipe.formats import falco

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "falco" / "test" / "output_files"
HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
FILES = [REAL / "single_rule_with_cat_write.json", HOLDOUT / "elastic-falco-alerts.log",
         HOLDOUT / "elastic-falco-syslog-sample.log", HOLDOUT / "falco-plugins-gcpaudit-readme-alerts.jsonl",
         HOLDOUT / "falco-website-k8saudit-ovh-console.log"]  # fmt: skip


def _bodies() -> list[bytes]:
    out: list[bytes] = []
    for p in FILES:
        lines = [ln for ln in p.read_bytes().splitlines() if ln.strip()]
        out += lines + [b"\n".join(lines[i : i + 3]) for i in range(0, len(lines), 3)]
    return out


def _parquet(b: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_batches([b]), sink)
    return bytes(sink.getvalue())


@pytest.mark.skipif(not REAL.exists(), reason="the real samples are not here")
def test_small_path_equals_columnar(monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = formats.get("falco")
    bodies = _bodies()
    small = [fmt.decode(b, "t") for b in bodies]
    monkeypatch.setattr(falco, "SMALL_ROWS", 0)
    columnar = [fmt.decode(b, "t") for b in bodies]
    alerts = 0
    for body, a, b in zip(bodies, small, columnar, strict=True):
        assert [d.reason for d in a.dead] == [d.reason for d in b.dead], body[:80]
        assert len(a.batches) == len(b.batches)
        for x, y in zip(a.batches, b.batches, strict=True):
            assert x.schema == y.schema
            assert x.to_pylist() == y.to_pylist(), body[:80]
            assert _parquet(x) == _parquet(y)
            alerts += x.num_rows
    assert alerts >= 40  # (every file's alerts, alone and by three)
