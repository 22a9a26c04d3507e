"""A real size-limited disk for the fault tests: a tmpfs mount, filled and freed on demand.

``small_disk(tmp_path)`` mounts a tmpfs (needs root, as CI has; the test is skipped with the
reason otherwise). ``fill(mnt)`` takes every free byte with a filler file (the next write
that needs a new page fails with ENOSPC), ``Filler.free()`` gives the space back.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(tmp_path: Path, size: str = "8m", mnt: Path | None = None) -> Iterator[Path]:
    """Mount a ``size`` tmpfs on ``mnt`` (default ``tmp_path/mnt``) for the duration of the block."""
    mnt = mnt or tmp_path / "mnt"
    mnt.mkdir(parents=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a size-limited tmpfs needs root (mount -t tmpfs): not available here")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


class Filler:
    """A file holding every free byte of a disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def free(self) -> None:
        """Give the space back."""
        self.path.unlink(missing_ok=True)

    def leave(self, nbytes: int) -> None:
        """Give ``nbytes`` back (room for a file to open, not for the work to finish)."""
        os.truncate(self.path, max(0, self.path.stat().st_size - nbytes))


def fill(mnt: Path) -> Filler:
    """Write a filler file until the disk is full (ENOSPC)."""
    path = mnt / ".filler"
    block = b"\0" * 65536
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, block[:size])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return Filler(path)
