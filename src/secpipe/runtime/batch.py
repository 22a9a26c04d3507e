"""Batch ingest of files into a pipeline (what `secpipe ingest` runs).

Documents are read one at a time (never a whole 1 GB input in memory). For record formats
(:class:`~secpipe.formats.base.RecordFormat`) the records of consecutive documents are
accumulated, per format, up to ``batch_records`` records or ``batch_bytes`` bytes and mapped
in one columnar pass (documents the format walks whole, ``RecordFormat.defer``, are kept
unsplit until then); other formats, and records a shipper's context goes with
(:mod:`secpipe.formats._context`), decode each document on its own. Offsets of dead
letters from chunked ``lines`` documents are made file-absolute. Syslog chunks of one file are
one stream: a :class:`~secpipe.sources.files.FileRepeats` counts verbatim repeats across them.
"""

from __future__ import annotations

from collections.abc import Callable

from secpipe.formats import _context
from secpipe.formats.base import Decoded, RecordFormat, Records, split_guarded
from secpipe.runtime.pipeline import Pipeline
from secpipe.sources.files import FileRepeats, read_documents


def ingest_files(
    pipe: Pipeline,
    files: list[str],
    fmt: str = "auto",
    *,
    progress: Callable[[int], None] | None = None,
    batch_records: int = 25_000,
    batch_bytes: int = 24 << 20,
) -> None:
    """Read, decode and submit every file; the caller flushes the pipeline."""
    pending: dict[str, tuple[RecordFormat, Records, list[int]]] = {}

    def drain(name: str) -> None:
        f, recs, _size = pending.pop(name)
        pipe.submit(f.map_records(recs))

    for path in files:
        done = 0
        repeats = FileRepeats(path=path)
        for doc in read_documents(path, fmt):
            if doc.dead is not None:
                pipe.submit(Decoded(dead=[doc.dead], events=1))
            elif isinstance(doc.fmt, RecordFormat) and _context.HINT not in doc.source:  # (with a context: alone)
                recs = None if doc.offset else doc.fmt.defer(doc.data, doc.source)
                if recs is None:
                    recs = split_guarded(doc.fmt, doc.data, doc.source)  # (what it raises: the document dead-lettered)
                if doc.offset:
                    recs.locs = [(s, o + doc.offset) for s, o in recs.locs]
                    for d in recs.dead:
                        d.offset += doc.offset
                entry = pending.setdefault(doc.fmt.name, (doc.fmt, Records(), [0]))
                entry[1].extend(recs)
                entry[2][0] += len(doc.data)
                if len(entry[1].raws) >= batch_records or entry[2][0] >= batch_bytes:
                    drain(doc.fmt.name)
            else:
                assert doc.fmt is not None
                res = _context.decode(doc.fmt, doc.data, repeats.source(doc.fmt.name, doc.data, doc.source))
                if doc.offset:
                    for d in res.dead:
                        d.offset += doc.offset
                pipe.submit(res)
            if progress and doc.size_in > done:
                progress(doc.size_in - done)
                done = doc.size_in
    for name in list(pending):
        drain(name)
