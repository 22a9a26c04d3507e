"""Durable small-file writes without heavy imports (state files, blobs): fsync and atomic rename."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename inside it is durable (or a file, so its data is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path: Path, data: bytes, tmp: Path, mode: int = 0o666) -> None:
    """Write ``data`` to ``tmp``, fsync, rename it to ``path``, fsync the directory: the file is
    whole or absent. A failed write (disk full) removes ``tmp`` and raises."""
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
