"""Atomic file commits: write to a temp name, fsync, rename, fsync the directory."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(table: pa.Table, sink: Any, compression: str = "zstd") -> None:
    """Write ``table`` as Parquet to a file object: zstd, 128k-row groups.

    Min/max statistics are kept for the top-level scalar columns (time, ids, status: what
    row-group pruning uses) and skipped for nested objects and the large free-text
    ``raw_data``/``unmapped``, where they cost write time and prune nothing.
    """
    stats = [f.name for f in table.schema
             if not (pa.types.is_nested(f.type) or f.name in _NO_STATS)]  # fmt: skip
    pq.write_table(table, sink, compression=compression, row_group_size=128 * 1024, write_statistics=stats or False)


_NO_STATS = frozenset({"raw_data", "unmapped"})


def write_parquet_atomic(table: pa.Table, directory: Path, compression: str = "zstd", cipher: Any = None) -> Path:
    """Write ``table`` as ``part-<uuid>.parquet`` in ``directory``; visible only when complete.

    With a ``cipher`` (:class:`secpipe.security.crypto.Cipher`) the file is sealed
    (AES-256-GCM envelope) instead of plain Parquet.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    tmp = directory / f".tmp-{name}"
    with open(tmp, "wb") as fh:
        if cipher is not None:
            from secpipe.security.crypto import parquet_bytes

            fh.write(cipher.seal(parquet_bytes(table, compression)))
        else:
            write_parquet(table, fh, compression)
        fh.flush()
        os.fsync(fh.fileno())
    final = directory / name
    os.replace(tmp, final)
    fsync_dir(directory)
    return final
