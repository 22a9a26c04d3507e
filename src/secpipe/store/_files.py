"""Atomic file commits: write to a temp name, fsync, rename, fsync the directory.

pyarrow.parquet is imported by the first write, not with this module: it loads pyarrow.fs and
with it Arrow's S3, GCS, Azure and HDFS bindings and ssl (~15-20 ms of CPU), which a process
that writes nothing (an ingest of an empty file, a WAL replay with nothing to commit) skips.
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
    import pyarrow.parquet as pq  # here, not at the top: see the module docstring

    stats, dictionary = _column_options(table.schema)
    pq.write_table(table, sink, compression=compression, row_group_size=128 * 1024,
                   write_statistics=stats or False, use_dictionary=dictionary or False)  # fmt: skip


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
                fh.write(cipher.seal(parquet_bytes(table, compression)))
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
