"""Atomic file commits: write to a temp name, fsync, rename, fsync the directory.

Parquet is written by ``pyarrow._parquet.ParquetWriter``, the writer ``pyarrow.parquet``'s own
``write_table`` wraps, given the same options it passes: the files are the same bytes
(tests/unit/test_files_writer_s20.py), but a process that only writes never imports
``pyarrow.parquet``, which loads pyarrow.fs and with it Arrow's S3, GCS, Azure and HDFS
bindings and ssl (~25 ms of CPU, 1% of a 200 MB ``secpipe ingest``). The writer module is
imported by the first write, not with this module.
"""

from __future__ import annotations

import functools
import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe.store._durable import fsync_dir as fsync_dir  # re-exported


def write_parquet(table: pa.Table, sink: Any, compression: str = "zstd") -> None:
    """Write ``table`` as Parquet to a file object: zstd, 128k-row groups.

    Min/max statistics are kept for the top-level scalar columns (time, ids, status: what
    row-group pruning uses) and skipped for nested objects and the large free-text
    ``raw_data``/``unmapped``, where they cost write time and prune nothing. Dictionary
    encoding is skipped for the columns that are unique per event (uids, times, raw text):
    it would hash every value only to fall back to plain encoding.
    """
    from pyarrow._parquet import ParquetWriter  # here, not at the top: see the module docstring

    stats, dictionary = _column_options(table.schema)
    # what pyarrow.parquet.write_table passes its writer (format version, writer engine, page
    # version are its defaults; no filesystem: ``sink`` is a file already)
    writer = ParquetWriter(sink, table.schema, compression=compression, version="2.6", data_page_version="1.0",
                           writer_engine_version="V2", write_statistics=stats or False,
                           use_dictionary=dictionary or False)  # fmt: skip
    try:
        writer.write_table(table, row_group_size=128 * 1024)
    finally:
        writer.close()


_NO_STATS = frozenset({"raw_data", "unmapped"})
_UNIQUE = frozenset({"raw_data", "unmapped", "time", "time_dt", "metadata.uid", "metadata.original_event_uid",
                     "metadata.original_time", "api.request.uid"})  # fmt: skip


@functools.lru_cache(maxsize=256)
def _column_options(schema: pa.Schema) -> tuple[list[str], list[str]]:
    """(columns with statistics, leaf column paths to dictionary-encode) for a schema."""
    stats = [f.name for f in schema if not (pa.types.is_nested(f.type) or f.name in _NO_STATS)]
    return stats, [p for f in schema for p in _leaves(f, "") if p not in _UNIQUE]


def _leaves(f: pa.Field, prefix: str) -> list[str]:
    """Parquet leaf column paths under a field (lists as ``name.list.element``)."""
    path = prefix + f.name
    if pa.types.is_struct(f.type):
        return [p for c in f.type for p in _leaves(c, path + ".")]
    if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
        return _leaves(pa.field("element", f.type.value_type), path + ".list.")
    if pa.types.is_map(f.type):
        return [path + ".key_value.key", *_leaves(pa.field("value", f.type.item_type), path + ".key_value.")]
    return [path]


def write_parquet_atomic(table: pa.Table, directory: Path, compression: str = "zstd", cipher: Any = None,
                         name: str | None = None) -> Path:
    """Write ``table`` as ``name`` (default ``part-<uuid>.parquet``) in ``directory``; visible
    only when complete.

    With a ``cipher`` (:class:`secpipe.security.crypto.Cipher`) the file is sealed
    (AES-256-GCM envelope) instead of plain Parquet.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = name or f"part-{uuid.uuid4().hex}.parquet"
    tmp = directory / f".tmp-{name}"
    try:
        if cipher is not None:
            from secpipe.security.crypto import parquet_bytes

            with open(tmp, "wb") as fh:
                cipher.seal_to(parquet_bytes(table, compression), fh)
        else:  # Arrow's own file stream: a Python file object costs ~8% of the write
            with pa.OSFile(str(tmp), "wb") as sink:
                write_parquet(table, sink, compression)
        fsync_dir(tmp)  # the data is durable before the rename makes it visible
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write (disk full) leaves no half file taking space
        raise
    final = directory / name
    os.replace(tmp, final)
    fsync_dir(directory)
    return final
