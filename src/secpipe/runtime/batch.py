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
from secpipe.formats.base import Decoded, RecordFormat, Records, guarded, split_guarded
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
        pipe.submit(map_guarded(f, recs))

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


def map_guarded(fmt: RecordFormat, recs: Records) -> Decoded:
    """``fmt.map_records(recs)`` that never raises: where the mapping raises (a decoder bug), the records are mapped
    in halves, down to the record (or document kept whole) that raises, which is dead-lettered alone with the
    reason (as :func:`~secpipe.formats.base.guarded` dead-letters a document): the records of the other files in
    the batch are stored and the run goes on, as the server's combined mapping does (``combine._one_by_one``)."""
    n, k = len(recs.raws), len(recs.docs)
    if n + k == 1:
        return _map_one(fmt, recs)
    try:
        return fmt.map_records(recs)
    except Exception:  # a decoder bug: find the record (below)
        if n + k == 0:  # only the split's dead letters
            return Decoded(dead=list(recs.dead), events=len(recs.dead))
    h, hd = n // 2, k // 2
    out = map_guarded(fmt, Records(recs.raws[:h], recs.locs[:h], recs.dead, recs.events - (n - h), recs.docs[:hd]))
    out.extend(map_guarded(fmt, Records(recs.raws[h:], recs.locs[h:], [], n - h, recs.docs[hd:])))
    return out


def _map_one(fmt: RecordFormat, recs: Records) -> Decoded:
    """One record (or document kept whole) mapped; dead-lettered at its offset with the reason where that raises."""
    raw, src, off = (recs.raws[0], *recs.locs[0]) if recs.raws else (recs.docs[0][0], recs.docs[0][1], 0)
    mapped: list[Decoded] = []

    def run() -> Decoded:
        mapped.append(fmt.map_records(recs))
        return mapped[0]

    out = guarded(fmt, raw, src, run)
    if not mapped:  # it raised: the record dead-lettered (and the split's letters kept)
        out.dead[0].offset = off
        out.dead[:0] = recs.dead
        out.events += len(recs.dead)
    return out
