"""Lake compaction: the many small part files of a day partition become a few large ones.

Why: `secpipe up` commits the lake every few seconds, so a steady trickle of events writes
thousands of small files per class and day; every query reads every file's footer and a
restart reads every file's uids. Compaction keeps that cost to a few files per partition.

What: in each ``lake/<class>/event_day=D`` (and each dead-letter ``dlq/day=D``: a flood of bad
input writes a file per request), part files smaller than ``small_bytes`` are
merged when there are ``min_files`` or more of them, in groups of at most ``group_bytes``
of input (bounded memory), each group into one new part file. Rows are unchanged: same
columns (differing file layouts are unified by field name, as the query views do), same
values, same ``metadata.uid`` (the lake's dedup index needs no change). Encrypted lakes stay
encrypted (files are read and written through the data directory's cipher).

Crash safety: before a merged file becomes visible, a journal ``.compact-<id>.json`` naming
its inputs and output is fsynced in the partition. After the output's atomic rename the
inputs are deleted and then the journal. A crash leaves either no output (the temp file is
removed at the next open of the lake; inputs untouched) or the output with some inputs left:
:func:`recover` (run when a lake opens and before each compaction) finishes the deletion,
so rows are never lost and never stay doubled. A concurrent reader may see a group's rows
twice in the moment between the output's rename and the inputs' unlink.

Retention deletes whole partitions: both hold the store's ``.maintenance.lock`` (``flock``, so also
across processes: `secpipe retention apply` beside `secpipe up`), so a partition is never
merged while it is being deleted, and a merged file never brings deleted rows back.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from secpipe.store._files import fsync_dir, write_parquet_atomic

if TYPE_CHECKING:
    import logging


def _log() -> logging.Logger:
    """The module's logger; logging is imported on the first message (~3 ms of every start)."""
    import logging

    return logging.getLogger("secpipe.compact")


SMALL_BYTES = 8 << 20
GROUP_BYTES = 32 << 20
MIN_FILES = 8


@dataclass
class CompactResult:
    """What one compaction run merged."""

    partitions: int = 0
    files_in: int = 0
    files_out: int = 0
    rows: int = 0


@contextlib.contextmanager
def maintenance_lock(lake_root: Path) -> Iterator[None]:
    """Exclusive lock of a lake's maintenance (compaction, retention), across processes."""
    lake_root.mkdir(parents=True, exist_ok=True)
    fd = os.open(lake_root / ".maintenance.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


#: Day partitions below a store's root: the lake's ``<class>/event_day=D``, the dead-letter
#: store's ``day=D``.
LAKE_PARTITIONS = "*/event_day=*"
DLQ_PARTITIONS = "day=*"


def tidy(root: Path, partitions: str = LAKE_PARTITIONS) -> None:
    """What a store does when it opens: remove the temp files of writes a crash cut short, and
    finish or drop an interrupted compaction (:func:`recover`, under the maintenance lock)."""
    for tmp in root.glob(f"{partitions}/.tmp-*"):
        tmp.unlink(missing_ok=True)
    if any(root.glob(f"{partitions}/.compact-*.json")):
        with maintenance_lock(root):
            recover(root, partitions)


def recover(lake_root: Path, partitions: str = LAKE_PARTITIONS) -> int:
    """Finish or drop the journals an interrupted compaction left; returns how many."""
    n = 0
    for journal in lake_root.glob(f"{partitions}/.compact-*.json"):
        import orjson  # here, not at the top: every lake opening calls recover, few find a journal (~12 ms)

        part = journal.parent
        try:
            plan = orjson.loads(journal.read_bytes())
        except (orjson.JSONDecodeError, OSError):
            plan = None  # written but not fsynced whole: its output never became visible
        if isinstance(plan, dict) and (part / str(plan.get("output"))).exists():
            for name in plan.get("inputs") or []:
                (part / str(name)).unlink(missing_ok=True)
            fsync_dir(part)
            _log().warning("finished an interrupted compaction in %s", part)
        journal.unlink(missing_ok=True)
        n += 1
    return n


def compact(lake_root: Path, cipher: Any = None, *, small_bytes: int = SMALL_BYTES, group_bytes: int = GROUP_BYTES,
            min_files: int = MIN_FILES, compression: str = "zstd", partitions: str = LAKE_PARTITIONS) -> CompactResult:
    """Merge the small part files of every partition that has ``min_files`` or more of them
    (``partitions``: :data:`DLQ_PARTITIONS` for the dead-letter store, which has one schema)."""
    res = CompactResult()
    with maintenance_lock(lake_root):
        recover(lake_root, partitions)
        for part in sorted(lake_root.glob(partitions)):
            files = [(f, f.stat().st_size) for f in sorted(part.glob("part-*.parquet"))]
            small = [(f, size) for f, size in files if size < small_bytes]
            if len(small) < min_files:
                continue
            res.partitions += 1
            for group in _groups(small, group_bytes):
                if len(group) > 1:
                    res.rows += _merge(part, group, cipher, compression)
                    res.files_in += len(group)
                    res.files_out += 1
    if res.files_in:
        _log().info("compacted %d part files into %d (%d rows, %d partitions)", res.files_in, res.files_out, res.rows,
                 res.partitions)
    return res


def _groups(files: list[tuple[Path, int]], budget: int) -> Iterator[list[Path]]:
    group: list[Path] = []
    size = 0
    for f, n in files:
        if group and size + n > budget:
            yield group
            group, size = [], 0
        group.append(f)
        size += n
    if group:
        yield group


def _merge(part: Path, inputs: list[Path], cipher: Any, compression: str) -> int:
    from secpipe.security import crypto  # here: every lake opening imports this module (~4 ms)

    tables = [crypto.read_parquet(f, cipher) for f in inputs]
    key = part.name.split("=", 1)[0]  # the partition column is the directory, never stored in a file
    tables = [t.drop_columns([key]) if key in t.column_names else t for t in tables]
    table = pa.concat_tables(tables, promote_options="permissive")
    import orjson

    output = f"part-{uuid.uuid4().hex}.parquet"
    journal = part / f".compact-{uuid.uuid4().hex}.json"
    with open(journal, "wb") as fh:
        fh.write(orjson.dumps({"output": output, "inputs": [f.name for f in inputs]}))
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(part)
    try:
        write_parquet_atomic(table, part, compression, cipher, name=output)
    except BaseException:  # no output (disk full): the inputs stay, the journal goes
        journal.unlink(missing_ok=True)
        raise
    for f in inputs:
        f.unlink(missing_ok=True)
    fsync_dir(part)
    journal.unlink(missing_ok=True)
    return table.num_rows
