"""Dead-letter store: every record or body secpipe could not accept, with why and where.

Layout: ``<root>/day=YYYY-MM-DD/part-<uuid>.parquet`` with columns time, source, format,
offset, reason, size, sha256, raw (bytes) and blob. Records up to ``inline_limit`` bytes
keep their bytes inline; larger ones (a 100 MB line) are written whole to
``<root>/blobs/<sha256>`` and ``blob`` names that file, so nothing rejected is lost.
Queryable as the ``dead_letter`` view. Writes are atomic and fsynced like the lake's; each
write is a file, and `secpipe up` merges a day's small files (:mod:`secpipe.store.compact`).

A dead letter's identity is (source, format, offset, sha256 of its bytes): a WAL replay after
a crash decodes again bodies whose dead letters were already stored, and :meth:`stored` lets
it write only those that are not (counted, so two identical letters stay two).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from secpipe.formats.base import DeadLetter
from secpipe.security._settings import cipher_for
from secpipe.store import compact
from secpipe.store._durable import write_file_atomic
from secpipe.store._files import write_parquet_atomic

SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("ms", tz="UTC")),
        ("source", pa.string()),
        ("format", pa.string()),
        ("offset", pa.int64()),
        ("reason", pa.string()),
        ("size", pa.int64()),
        ("sha256", pa.string()),
        ("raw", pa.binary()),
        ("blob", pa.string()),
    ]
)


IDENTITY = ("source", "format", "offset", "sha256")


def identity(d: DeadLetter) -> tuple[str, str, int, str]:
    """A dead letter's identity as :meth:`DeadLetterStore.stored` counts it."""
    import hashlib  # here: a run with no dead letter never loads OpenSSL (secpipe.formats._uids)

    return d.source, d.format, d.offset, hashlib.sha256(d.raw).hexdigest()


class DeadLetterStore:
    """Durable store of dead letters."""

    def __init__(self, root: Path, inline_limit: int = 1 << 20) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.inline_limit = inline_limit
        self.cipher = cipher_for(self.root.parent)  # None unless the data dir is encrypted (crypto imported then)
        compact.tidy(self.root, compact.DLQ_PARTITIONS)  # temp files and compactions a crash left
        for tmp in self.root.glob("blobs/.tmp-*"):  # a blob write a crash cut short
            tmp.unlink(missing_ok=True)

    def write(self, letters: Iterable[DeadLetter]) -> int:
        """Persist dead letters now (fsynced before returning); returns how many."""
        import hashlib  # here, not at the top: see identity()

        rows: dict[str, list] = {f.name: [] for f in SCHEMA}
        now = dt.datetime.now(dt.UTC)
        n = 0
        for d in letters:
            n += 1
            digest = hashlib.sha256(d.raw).hexdigest()
            blob = None
            raw: bytes | None = d.raw
            if len(d.raw) > self.inline_limit:
                blob = self._blob(digest, d.raw)
                raw = d.raw[: self.inline_limit]
            for k, v in (
                ("time", now), ("source", d.source), ("format", d.format), ("offset", d.offset),
                ("reason", d.reason), ("size", len(d.raw)), ("sha256", digest), ("raw", raw), ("blob", blob),
            ):  # fmt: skip
                rows[k].append(v)
        if n:
            table = pa.table(rows, schema=SCHEMA)
            write_parquet_atomic(table, self.root / f"day={now:%Y-%m-%d}", cipher=self.cipher)
        return n

    def stored(self) -> Counter[tuple[str, str, int, str]]:
        """How many stored dead letters have each identity (source, format, offset, sha256)."""
        seen: Counter[tuple[str, str, int, str]] = Counter()
        for path in sorted(self.root.glob(f"{compact.DLQ_PARTITIONS}/part-*.parquet")):
            from secpipe.security import crypto  # with the first file (a new store has none)

            t = crypto.read_parquet(path, self.cipher, columns=list(IDENTITY))
            seen.update(zip(*(t.column(c).to_pylist() for c in IDENTITY), strict=True))
        return seen

    def _blob(self, digest: str, raw: bytes) -> str:
        d = self.root / "blobs"
        d.mkdir(parents=True, exist_ok=True)
        path = d / digest
        if not path.exists():  # whole or absent: a failed write (disk full) leaves no half blob
            write_file_atomic(path, self.cipher.seal(raw) if self.cipher is not None else raw, d / f".tmp-{digest}")
        return str(path.relative_to(self.root))
