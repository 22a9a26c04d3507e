"""The lake's Parquet writer without ``pyarrow.parquet`` (session 20).

``store._files.write_parquet`` calls ``pyarrow._parquet.ParquetWriter`` with the options
``pyarrow.parquet.write_table`` gives it, so a batch ingest no longer imports ``pyarrow.parquet``
(and with it pyarrow.fs, the cloud filesystems and ssl). The files must be the same bytes as
``pyarrow.parquet.write_table`` wrote before, for every shape the lake stores: CloudTrail
batches of Panther's real records (nested structs, lists of structs, raw_data), maps,
timestamps with a zone, empty and all-null columns; written to an OS file and to a Python file
object (sealed lakes). A pyarrow whose private writer drifts from its public one fails here.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from secpipe import formats
from secpipe.store import _files


def _before(table: pa.Table, sink: object, compression: str = "zstd") -> None:
    """What write_parquet did until session 20 (pyarrow.parquet.write_table, same options)."""
    stats, dictionary = _files._column_options(table.schema)
    pq.write_table(table, sink, compression=compression, row_group_size=128 * 1024,
                   write_statistics=stats or False, use_dictionary=dictionary or False)  # fmt: skip


def _cloudtrail_tables(real: Path) -> list[pa.Table]:
    doc = (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    res = formats.get("cloudtrail").decode(doc, "ct.json")
    assert res.batches and not res.dead
    return [pa.Table.from_batches([b]) for b in res.batches]


def _other_tables() -> list[pa.Table]:
    ts = pa.array([0, 1_700_000_000_000, None], pa.timestamp("ms", tz="UTC"))
    return [
        pa.table({"m": pa.array([{"a": "1"}, None, {}], pa.map_(pa.string(), pa.string())), "t": ts,
                  "l": pa.array([[1, 2], [], None], pa.list_(pa.int64())), "raw_data": ["x", "y" * 5000, None]}),
        pa.table({"time": pa.array([], pa.int64()), "s": pa.array([], pa.struct([("uid", pa.string())]))}),
        pa.table({"n": pa.nulls(70_000, pa.string()), "i": pa.array(range(70_000), pa.int32())}),  # pages, nulls
        pa.table({"x": pa.array(range(140_000), pa.int64())}),  # more than one row group
    ]


@pytest.mark.parametrize("compression", ["zstd", "snappy", "none"])
def test_same_bytes_as_pyarrow_parquet(real: Path, tmp_path: Path, compression: str) -> None:
    tables = _cloudtrail_tables(real) + _other_tables()
    for i, table in enumerate(tables):
        old, new = tmp_path / f"old{i}.parquet", tmp_path / f"new{i}.parquet"
        with pa.OSFile(str(old), "wb") as sink:
            _before(table, sink, compression)
        with pa.OSFile(str(new), "wb") as sink:
            _files.write_parquet(table, sink, compression)
        assert new.read_bytes() == old.read_bytes(), (i, table.schema)
        assert pq.read_table(new).equals(table)
        buf_old, buf_new = io.BytesIO(), io.BytesIO()  # a Python file object (crypto.parquet_bytes)
        _before(table, buf_old, compression)
        _files.write_parquet(table, buf_new, compression)
        assert buf_new.getvalue() == buf_old.getvalue()


def test_atomic_write_same_rows(real: Path, tmp_path: Path) -> None:
    table = _cloudtrail_tables(real)[0]
    path = _files.write_parquet_atomic(table, tmp_path / "part")
    assert pq.read_table(path).equals(table)
    assert [p.name for p in (tmp_path / "part").iterdir()] == [path.name]  # no temp file left


def test_refused_options_raise_as_before() -> None:
    table = pa.table({"x": [1, 2]})
    for write in (_before, _files.write_parquet):
        with pytest.raises(pa.ArrowException, match="Unsupported compression"):
            write(table, io.BytesIO(), "no-such-codec")


def test_ingest_does_not_import_pyarrow_parquet(real: Path, tmp_path: Path) -> None:
    """A batch ingest writes its lake without loading pyarrow.parquet."""
    src = tmp_path / "ct.json"
    src.write_bytes((real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from secpipe.runtime.batch import ingest_files\n"
        "from secpipe.runtime.pipeline import Pipeline\n"
        f"pipe = Pipeline(Path({str(tmp_path / 'data')!r}))\n"
        f"ingest_files(pipe, [{str(src)!r}])\n"
        "pipe.flush()\n"
        "print(json.dumps([pipe.totals.stored, 'pyarrow.parquet' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True)
    stored, loaded = json.loads(out.stdout)
    assert stored and sum(stored.values()) > 0
    assert loaded is False
