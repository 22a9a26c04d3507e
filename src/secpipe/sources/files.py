"""Reading input files for batch ingest: plain or gzip, files, directory trees, stdin.

Each input becomes one or more *documents* for a format's ``decode``:
- ``document`` formats get the whole (decompressed) file, up to ``max_document`` bytes;
- ``lines`` formats get chunks of about ``chunk`` bytes cut at line ends, so a 1 GB NDJSON
  file never sits in memory whole; a single line over ``max_record`` bytes is dead-lettered
  (whole, in the DLQ blob store) with its offset, and reading goes on after it. A file that
  opens with a JSON text spread over lines (``{`` or ``[`` and more of it on the next lines, as
  ``json.dumps(indent=...)``, ``jq`` and the AWS CLI print: a k8s EventList, a CloudWatch Logs
  answer) is no run of lines: it is read whole, as a ``document`` (a cut at a line end made
  its pieces unreadable, and past the 64 KiB head its last line was cut off when the file did
  not end with a newline); so is ``journalctl -o export`` output (entries of several lines).
A truncated or corrupt gzip stream: in ``lines`` framing, the complete lines before the
damage are kept and the rest is dead-lettered; a ``document`` is dead-lettered whole.
Auto-detection sniffs the first 64 KiB of decompressed content of each file. A file of
Splunk HEC event envelopes (``{"event": ..., "time", "host", "source", "sourcetype"}``, as a
HEC capture or EOPA's Splunk decision-log sink writes them) is read as the HEC route reads a
request (``server.hec``): each event a document of the format its sourcetype names or
detection finds in it. A file of a shipper's documents one a line (Filebeat's or Elastic
Agent's output file, Vector's file sink, Logstash's ``json_lines``) that no format recognizes is
read as the wire routes read them (``server.shipped``): each the line or record it wraps, with the
format that reads it (an auth.log line Authentication, an audit.log line API Activity); a file of
OTLP JSON log requests (the OpenTelemetry Collector's ``file`` exporter) as ``POST /v1/logs``
reads them (``server.otlp``). A node's container log file (Kubernetes' CRI logging format, every line
behind the runtime's ``<time> <stdout|stderr> <F|P>`` header) is read as the lines the pod wrote
(:mod:`secpipe.formats._cri`), where a format recognizes them; else as it is.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from secpipe import formats
from secpipe._gzip import ERRORS, GZIP_MAGIC, decompressobj, not_a_member
from secpipe.formats import _cri
from secpipe.formats.base import BOM, UNREADABLE, DeadLetter, Format, split_json_records

if TYPE_CHECKING:
    from secpipe.formats.syslog import Repeats
_SNIFF = 64 * 1024  # bytes of decompressed content auto-detection looks at
_GZ_READ = 1 << 20
_SIZED_MAX = 256 << 20  # the largest first inflate sized from the gzip trailer
_DEFLATE_RATIO = 1032  # deflate's most output per input byte: a trailer claiming more lies


@dataclass
class Document:
    """One unit handed to a format: bytes, where they came from, the format to use."""

    fmt: Format | None
    data: bytes
    source: str
    offset: int = 0
    dead: DeadLetter | None = None  # set instead of fmt/data when the input itself is bad
    size_in: int = 0  # compressed bytes consumed (for progress)


def expand(paths: list[str]) -> list[str]:
    """Files under the given paths (directories recursively, sorted); ``-`` is stdin."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(str(f) for f in sorted(path.rglob("*")) if f.is_file() and not f.name.startswith("."))
        else:
            out.append(str(path))
    return out


class _Raw:
    """A byte stream that transparently gunzips, reporting damage instead of raising."""

    def __init__(self, path: str) -> None:
        self.fh = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
        head = self.fh.read(2)
        self.pending = head
        self.gz = head == GZIP_MAGIC
        self.z = decompressobj() if self.gz else None
        self.error: str | None = None
        self.consumed = 0
        self.done = False
        self.sized = _isize(self.fh) if self.gz else 0

    def _inflate(self, raw: bytes) -> bytes:
        """Inflate ``raw`` (all of it: members that follow are started here too).

        The first call asks for the output size the file's gzip trailer gives (ISIZE), so a
        whole-file member inflates into one buffer of its size: ISA-L's growing output
        blocks and the join that ends them cost ~40% of inflating a CloudTrail file. The
        trailer is only a hint (it belongs to the last member and may lie): the size asked
        is capped by what deflate can produce from the file, and input left over
        (``unconsumed_tail``) is inflated on, so the output is the same whatever it says.
        """
        assert self.z is not None
        if self.sized:
            cap, self.sized = self.sized, 0
            out = self.z.decompress(raw, cap)
            if len(out) >= cap:  # the trailer was not this member's size: inflate the rest
                out += self.z.decompress(self.z.unconsumed_tail)
        else:
            out = self.z.decompress(raw)
        while self.z.eof and self.z.unused_data:  # concatenated gzip members
            rest = self.z.unused_data
            if not_a_member(rest):
                # (gzip(1) warns "trailing garbage ignored"): what the members held is returned, the rest refused
                self.done = True
                self.error = (f"trailing garbage: the bytes from byte {self.consumed - len(rest)} of the file, after "
                              "its gzip data, are not a gzip member")
                break
            self.z = decompressobj()
            out += self.z.decompress(rest)
        return out

    def read(self, n: int) -> bytes:
        """Up to about n decompressed bytes; b'' at the end (check ``error`` then)."""
        while not self.done:
            # a gzip file is read 1 MiB of compressed bytes at a time at least: a CloudTrail
            # file (~200 KB) comes out whole from one call, so the document is that one bytes
            # object, not a join of pieces (a copy into fresh pages, ~3% of an ingest)
            raw = self.pending + self.fh.read(n if self.z is None else max(n, _GZ_READ))
            self.pending = b""
            self.consumed += len(raw)
            if self.z is None:
                if not raw:
                    self.done = True
                return raw
            if not raw:
                self.done = True
                if not self.z.eof:
                    self.error = "truncated gzip stream (ended before the gzip trailer)"
                return b""
            try:
                out = self._inflate(raw)
            except ERRORS as exc:
                self.done = True
                self.error = f"corrupt gzip stream: {exc}"
                return b""
            if out:
                return out
        return b""

    def close(self) -> None:
        """Close the underlying file (not stdin)."""
        if self.fh is not sys.stdin.buffer:
            self.fh.close()


class FileRepeats:
    """The verbatim-repeat counts of one file's syslog chunks (one stream: see
    :class:`secpipe.formats.syslog.Repeats`), shared by ``secpipe ingest`` and the file source.
    The :class:`~secpipe.formats.syslog.Repeats` is made (and the syslog module imported) with
    the first syslog chunk: a file of any other format loads only its own. Given the ``path`` of
    a finished file (not one being tailed), a syslog chunk read from it (its source the path) is
    also hinted ``;mtime=<epoch ms>``, :func:`written_by`: the year of a BSD stamp without one."""

    def __init__(self, limit: int = 1 << 16, path: str | None = None) -> None:
        self.limit = limit
        self.path = path
        self._repeats: Repeats | None = None
        self._mtime = ""

    def source(self, fmt: str, data: bytes, source: str) -> str:
        """The source to decode a chunk of format ``fmt`` under: a syslog chunk's hinted with its
        file's time and its repeats, any other's as is."""
        if fmt != "syslog":
            return source
        if self._repeats is None:
            from secpipe.formats.syslog import Repeats

            self._repeats = Repeats(self.limit)
            written = None if self.path is None else written_by(self.path)
            self._mtime = "" if written is None else f";mtime={written}"
        return self._repeats.source(data, source + self._mtime if source == self.path else source)


#: a file time before 2000 is no bound on its lines (``/nix/store``'s 1, a reproducible archive's 0 or 1980)
_SANE_MTIME = 946_684_800


def written_by(path: str) -> int | None:
    """The time (epoch ms) file ``path``'s lines were all written by: its mtime, or a gzip file's
    own MTIME header field where earlier (the time of the file gzip compressed, which a copy of the
    ``.gz`` keeps: logrotate's ``auth.log.2.gz``); never later than now. A time before 2000 is
    none; None for stdin, a file that cannot be read, and one with no time."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(10)
            mtime = os.fstat(fh.fileno()).st_mtime
    except OSError:
        return None
    times = [mtime]
    if head[:2] == GZIP_MAGIC and len(head) == 10:
        times.append(struct.unpack("<I", head[4:8])[0])  # 0: gzip -n or a stream, no time
    sane = [t for t in times if t >= _SANE_MTIME]
    return int(min(*sane, time.time()) * 1000) if sane else None


def _isize(fh: object) -> int:
    """The output size a regular gzip file's trailer gives, plus one (0: none to trust).

    Read with ``pread`` (the stream's position is untouched); 0 for pipes, for files whose
    trailer claims more than deflate can produce from them, and over ``_SIZED_MAX``.
    """
    try:
        fd = fh.fileno()  # type: ignore[attr-defined]
        size = os.fstat(fd).st_size
        if size < 18:  # header + trailer
            return 0
        isize = struct.unpack("<I", os.pread(fd, 4, size - 4))[0]
    except (OSError, AttributeError, ValueError, struct.error):
        return 0
    return isize + 1 if isize < min(_SIZED_MAX, _DEFLATE_RATIO * size) else 0


def read_documents(
    path: str,
    fmt_name: str = "auto",
    *,
    chunk: int = 8 << 20,
    max_record: int = 32 << 20,
    max_document: int = 1 << 30,
) -> Iterator[Document]:
    """Yield the documents of one input file (see module docstring)."""
    src = "<stdin>" if path == "-" else path
    r = _Raw(path)
    try:
        head = r.read(_SNIFF)
        if fmt_name == "auto" and _hec_head(head[:_SNIFF]):
            yield from _hec_documents(r, src, max_document, head)
            return
        if fmt_name == "auto" and _EXPORT_HEAD.match(head[:_SNIFF]) and b'"_source"' in head[:_SNIFF]:
            rest = _drain(r, max_document, head)  # an index's documents exported: a format's sniff sees the wrapped record
            listed = None if r.error or len(rest) > max_document else _shipped_list(rest)
            if listed is not None:
                yield from _listed_documents(listed, src, r.consumed)
                return
            head = rest
        fmt = None
        if fmt_name == "auto" and _cri.is_cri(head):  # a node's container log: the records the pod wrote
            unwrapped = _cri.Unwrapped(r, head)
            fmt = formats.detect(unwrapped.head[:_SNIFF])
            if fmt is not None:  # (else read as it is: syslog takes its lines)
                r, head = unwrapped, unwrapped.head  # type: ignore[assignment]
        if fmt_name == "auto":
            if fmt is None:  # (a gzip read can return more: the same 64 KiB as a plain file)
                fmt = formats.detect(head[:_SNIFF])
            if fmt is None and otlp_head(head[:_SNIFF]):
                yield from _otlp_documents(r, src, head, chunk, max_record, max_document)
                return
            if fmt is None and shipped_head(head[:_SNIFF]):
                yield from _shipped_documents(r, src, head, chunk, max_record)
                return
            if fmt is None:
                rest = _drain(r, max_document, head)
                listed = None if r.error or len(rest) > max_document else _shipped_list(rest)
                if listed is not None:
                    yield from _listed_documents(listed, src, r.consumed)
                    return
                why = r.error or _unrecognized(head[:_SNIFF])  # (a gzip file unreadable from its start: why)
                yield Document(None, b"", src, dead=DeadLetter(why, src, 0, rest, "auto"))
                return
        else:
            fmt = formats.get(fmt_name)
        if fmt.framing == "document" or _spread_json(head) or _JOURNAL_EXPORT.match(head[:256]):
            data = _drain(r, max_document, head)
            if r.error:
                yield Document(fmt, b"", src, dead=DeadLetter(r.error, src, 0, data, fmt.name), size_in=r.consumed)
                return
            if len(data) > max_document:
                yield Document(fmt, b"", src, dead=DeadLetter(
                    f"document larger than max_document ({max_document} bytes)", src, 0, data, fmt.name))  # fmt: skip
                return
            yield Document(fmt, data, src, size_in=r.consumed)
            return
        yield from _lines(r, fmt, src, head, chunk, max_record)
    finally:
        r.close()


#: the keys of a Splunk HEC event envelope (Splunk's "Format events for HTTP Event Collector")
_HEC_KEYS = frozenset({"event", "time", "host", "source", "sourcetype", "index", "fields"})


def _hec_head(head: bytes) -> bool:
    """Whether ``head`` opens with a Splunk HEC event envelope (an object with ``event`` and
    no key but HEC's), as a HEC capture or a decision-log Splunk sink saved to a file writes
    them: one a line, concatenated, or printed over lines. A byte test first; then the first
    line, else the first JSON text of the head, is decoded (an envelope longer than the head
    is not seen as one)."""
    text = head.removeprefix(BOM).lstrip()
    if text[:1] != b"{" or b'"event"' not in text:
        return False
    line = text.split(b"\n", 1)[0]
    try:
        first = msgspec.json.decode(line)
    except (RecursionError, UnicodeDecodeError):  # nested past msgspec's guard, or not UTF-8:
        return False  # no envelope (the format detected says why)
    except msgspec.DecodeError:
        try:
            first = json.JSONDecoder().raw_decode(text.decode("utf-8", "replace"))[0]
        except (ValueError, RecursionError):
            return False
    return isinstance(first, dict) and "event" in first and first.keys() <= _HEC_KEYS


def _hec_documents(r: _Raw, src: str, max_document: int, head: bytes) -> Iterator[Document]:
    """The events of a file of HEC event envelopes, as the HEC route reads a request
    (``server.hec``: the format by ``sourcetype``, else detected on the event; an event only
    the generic ``json`` format takes is its whole envelope, HEC's time, host, source and
    fields kept): one document each. An event HEC refuses (no JSON, no envelope, no or a blank
    ``event``) is dead-lettered alone with HEC's reason and its number, the others read on, as the
    route does (``screened_events``); a file with no event at all is one dead letter."""
    from secpipe.server.hec import HecError, refusal, screened_events  # the server only for such files

    data = _drain(r, max_document, head)
    if r.error or len(data) > max_document:
        reason = r.error or f"document larger than max_document ({max_document} bytes)"
        yield Document(None, b"", src, dead=DeadLetter(reason, src, 0, data, "auto"), size_in=r.consumed)
        return
    try:
        names, docs, _numbers, refused = screened_events(data.removeprefix(BOM), None, None, {})
    except HecError as exc:
        n = exc.body.get("invalid-event-number")
        reason = f"Splunk HEC envelopes: {exc.body['text']}" + ("" if n is None else f" (event {n})")
        yield Document(None, b"", src, dead=DeadLetter(reason, src, 0, data, "auto"), size_in=r.consumed)
        return
    for k, (n, (code, raw, why)) in enumerate(sorted(refused.items()), 1):
        reason = f"Splunk HEC envelopes: {refusal(code, n, why, 'file')}"
        size_in = r.consumed if not docs and k == len(refused) else 0
        yield Document(None, b"", src, dead=DeadLetter(reason, src, n, raw, "auto"), size_in=size_in)
    each = [names] * len(docs) if isinstance(names, str) else names
    for k, (name, doc) in enumerate(zip(each, docs, strict=True)):
        # build_items names every event (the generic ``json`` where none is detected)
        yield Document(formats.get(name or "json"), doc, src, size_in=r.consumed if k == len(docs) - 1 else 0)


#: the format name a tailed file of a shipper's documents is remembered by (no format's: each
#: chunk is read with :func:`shipped_chunk`)
SHIPPED = "shipped:auto"
#: the same for a tailed file of OTLP JSON log requests (:func:`otlp_chunk`)
OTLP = "otlp:auto"
#: the keys a shipper puts the line it read in (:data:`secpipe.server.shipped.LINE_KEYS`)
_LINE_KEYS = (b'"message"', b'"log"', b'"original"', b'"body"', b'"Body"')


#: a line of Fluent Bit's ``file`` output in its default ``out_file`` format (plugins/out_file:
#: ``"%s: [%f, %s]"``: the tag, the record's time and the record as JSON)
_FLUENT_BIT_LINE = re.compile(rb"[^\s\[\]{}]+: \[\d+(?:\.\d+)?, (\{.*\})\]\s*", re.S)


def _record_of(line: bytes) -> bytes:
    """The JSON object a line of a shipper's output file holds: the line itself, or the record of
    a Fluent Bit ``out_file`` line (:data:`_FLUENT_BIT_LINE`; its tag and time are the shipper's)."""
    if line[:1] == b"{":
        return line
    m = _FLUENT_BIT_LINE.fullmatch(line)
    return line if m is None else m.group(1)


def shipped_head(head: bytes) -> bool:
    """Whether ``head`` (no format recognized it) opens a file of a shipper's documents, one a
    line, wrapping lines or records a format reads (:func:`secpipe.server.shipped.lines_in`): a
    byte test, then the head's first complete lines (at most 16) as the wire routes read them."""
    text = head.removeprefix(BOM).lstrip()
    if not any(k in text for k in _LINE_KEYS):
        return False
    lines = text.split(b"\n")
    if len(head) >= _SNIFF:  # the last line may be cut
        lines.pop()
    docs = [d for d in (_record_of(ln.strip()) for ln in lines[:16]) if d[:1] == b"{"]
    if not docs:
        return False
    from secpipe.server.shipped import lines_in  # the server only for such files

    return any(found is not None for found in lines_in(docs))


def shipped_chunk(data: bytes, src: str, offset: int) -> tuple[list[tuple[Format, str, bytes]], list[DeadLetter]]:
    """A chunk of whole lines of a shipper's documents (:func:`shipped_head`) at file offset
    ``offset``, read as the wire routes read them (:func:`secpipe.server.shipped.shipped_bodies`):
    (format, source, body) per format and host, and a dead letter with its offset for each line no
    specific format reads. Shared by :func:`read_documents` and the tailing file source."""
    from secpipe.server.shipped import shipped_bodies

    lines, offsets, pos = [], [], offset
    for line in data.split(b"\n"):
        if line.strip():
            lines.append(line.strip())
            offsets.append(pos)
        pos += len(line) + 1
    bodies, rest = shipped_bodies([_record_of(line) for line in lines], src)
    return bodies, [DeadLetter(_NO_FORMAT, src, offsets[i], lines[i], "auto") for i in rest]


class _Hit(msgspec.Struct):
    source: msgspec.Raw = msgspec.field(default=msgspec.Raw(b"null"), name="_source")
    index: str | None = msgspec.field(default=None, name="_index")


class _Hits(msgspec.Struct):
    hits: list[_Hit] = []


class _SearchAnswer(msgspec.Struct):
    """An Elasticsearch (or OpenSearch) search answer: the documents are ``hits.hits[]._source``."""

    hits: _Hits | None = None


_SEARCH_ANSWER = msgspec.json.Decoder(_SearchAnswer)
_HIT = msgspec.json.Decoder(_Hit)
#: what an export of an Elasticsearch / OpenSearch index opens with: a search (or scroll) answer, or
#: its hits (``_index`` first, as the engines and elasticdump write them) one a line or in an array
_EXPORT_HEAD = re.compile(rb'(?:\xef\xbb\xbf)?\s*(?:\{\s*"(?:took|timed_out|_scroll_id|_shards|hits|pit_id)"\s*:|\[?\s*\{\s*"_index"\s*:)')


def _hit_sources(docs: list[bytes]) -> list[bytes] | None:
    """The ``_source`` documents of search hits one a line or in an array (elasticdump's output,
    ``jq '.hits.hits[]'`` of a search answer, a scroll saved hit by hit): every document an object
    with ``_index`` and an object ``_source``; None when one is not."""
    out = []
    for doc in docs:
        if b'"_source"' not in doc:
            return None
        try:
            hit = _HIT.decode(doc)
        except (*UNREADABLE, msgspec.ValidationError, UnicodeDecodeError):
            return None
        if hit.index is None or bytes(hit.source)[:1] != b"{":
            return None
        out.append(bytes(hit.source))
    return out or None


def _one_line(doc: bytes) -> bytes:
    """A JSON object on one line (a ``_source`` printed over lines in a pretty search answer), so
    documents joined by newlines are NDJSON."""
    return msgspec.json.format(doc, indent=0) if b"\n" in doc else doc


def _shipped_list(data: bytes) -> list[bytes] | None:
    """The documents of a JSON array of a shipper's documents (a ``jq -s`` of its output file, a
    Fluent Bit ``http`` body saved), of such documents printed back to back (Filebeat's ``file``
    output with ``codec.json.pretty``), or of an Elasticsearch search answer saved from the index the
    shipper wrote (``hits.hits[]._source``), when the first of them wrap lines a format reads
    (:func:`secpipe.server.shipped.lines_in`); None otherwise.

    Documents an Elasticsearch or OpenSearch index holds, exported: a search answer
    (``hits.hits[]._source``), or its hits one a line or in an array (elasticdump, a scroll saved
    hit by hit: ``_index`` and ``_source`` each), give their ``_source`` documents also when those
    are records a format reads (CloudTrail records, Kubernetes audit events, Falco alerts indexed as
    they are: what ``_bulk`` stores them as, each document by the format detected on it)."""
    text = data.removeprefix(BOM).strip()
    lined = any(k in text[:_SNIFF] for k in _LINE_KEYS)
    if text[:1] not in (b"[", b"{") or not lined and b'"_source"' not in text[:_SNIFF]:
        return None  # neither a shipper's documents nor an index's (read no further)
    hits = None
    if text[:1] == b"{" and b'"hits"' in text[:4096]:
        try:
            hits = _SEARCH_ANSWER.decode(text).hits
        except (*UNREADABLE, msgspec.ValidationError, UnicodeDecodeError):
            hits = None
    exported = hits is not None
    if hits is not None:
        docs = [_one_line(d) for d in (bytes(h.source) for h in hits.hits) if d[:1] == b"{"]
    else:  # an array, or objects printed back to back (Filebeat's file output with codec.json.pretty)
        docs, _offsets, dead = split_json_records(text, "", "auto")
        if dead:
            return None
        sources = _hit_sources(docs) if b'"_index"' in text[:4096] else None
        if sources is not None:
            docs, exported = sources, True
    if not docs or not all(d[:1] == b"{" for d in docs):
        return None
    if not exported and not lined:
        return None
    from secpipe.server.shipped import lines_in

    if any(found is not None for found in lines_in(docs[:16])):
        return docs
    if exported:
        from secpipe.server.wire import detect_many

        return docs if any(f is not None for f in detect_many(docs[:16], catch_all=False)) else None
    return None


def _listed_documents(docs: list[bytes], src: str, size_in: int) -> Iterator[Document]:
    """:func:`_shipped_list`'s documents as :func:`shipped_chunk` reads lines: one document per
    format and host, a dead letter per document no specific format reads (its offset its index)."""
    from secpipe.server.shipped import grouped, shipped_bodies
    from secpipe.server.wire import detect_many

    bodies, rest = shipped_bodies(docs, src)
    if rest:  # documents that are records themselves (an index's exported documents), by the format detected
        found = detect_many([docs[i] for i in rest], catch_all=False)
        bodies += grouped([None if f is None else f.name for f in found], [docs[i] for i in rest], src, contexts=True)
        rest = [i for i, f in zip(rest, found, strict=True) if f is None]
    for k, (fmt, source, body) in enumerate(bodies):
        yield Document(fmt, body, source, size_in=size_in if k == 0 else 0)
    yield from (Document(None, b"", src, dead=DeadLetter(_NO_FORMAT, src, i, docs[i], "auto")) for i in rest)


def _shipped_documents(r: _Raw, src: str, head: bytes, chunk: int, max_record: int) -> Iterator[Document]:
    """The documents of a file of a shipper's documents (:func:`shipped_head`): each chunk of
    lines as :func:`shipped_chunk` reads it, one document per format and host (its offset the
    chunk's: the lines are not the file's bytes), a dead letter per line no format reads."""
    for doc in _lines(r, formats.get("json"), src, head, chunk, max_record):
        if doc.dead is not None:
            yield doc
            continue
        bodies, dead = shipped_chunk(doc.data, src, doc.offset)
        for k, (fmt, source, body) in enumerate(bodies):
            yield Document(fmt, body, source, offset=doc.offset, size_in=doc.size_in if k == 0 else 0)
        yield from (Document(None, b"", src, dead=d) for d in dead)


#: what a file of OTLP JSON log requests opens with (the OpenTelemetry Collector's ``file``
#: exporter: one ``ExportLogsServiceRequest`` a line; a request saved pretty-printed)
_OTLP_HEAD = re.compile(rb'(?:\xef\xbb\xbf)?\s*\{\s*"resourceLogs"\s*:\s*\[')


def otlp_chunk(data: bytes, src: str, offset: int, *, whole: bool = False) -> tuple[list[tuple[Format, str, bytes]],
                                                                               list[DeadLetter]]:
    """A chunk of OTLP JSON log requests one a line (``whole``: one request) at file offset
    ``offset``, each log record read as ``POST /v1/logs`` reads it
    (:func:`secpipe.server.otlp.resolve`): (format, source, body) per format and host, and a dead
    letter with its offset for each line that is no request. Shared by :func:`read_documents`
    and the tailing file source."""
    from secpipe.server import otlp
    from secpipe.server.shipped import grouped

    records: list[dict[str, object]] = []
    dead: list[DeadLetter] = []
    pos = offset
    for text in [data] if whole else data.split(b"\n"):
        if text.strip():
            try:
                records += otlp.json_records(text)
            except ValueError as exc:
                dead.append(DeadLetter(f"not an OTLP ExportLogsServiceRequest (JSON): {exc}", src, pos, text, "auto"))
        pos += len(text) + 1
    names, docs = otlp.resolve_guarded(records, [msgspec.json.encode(rec) for rec in records])
    return grouped(names, docs, src, contexts=True), dead


def _otlp_documents(r: _Raw, src: str, head: bytes, chunk: int, max_record: int,
                    max_document: int) -> Iterator[Document]:
    """The documents of a file of OTLP JSON log requests (:func:`otlp_chunk`): one document per
    format and host; a request that is none is dead-lettered with its offset."""
    whole = _spread_json(head)  # a request printed over lines: one text
    pieces: Iterable[Document] = (
        [Document(None, _drain(r, max_document, head), src, size_in=r.consumed)] if whole
        else _lines(r, formats.get("json"), src, head, chunk, max_record))  # fmt: skip
    for doc in pieces:
        if doc.dead is not None:
            yield doc
            continue
        bodies, dead = otlp_chunk(doc.data, src, doc.offset, whole=whole)
        yield from (Document(None, b"", src, dead=d) for d in dead)
        for k, (fmt, source, body) in enumerate(bodies):
            yield Document(fmt, body, source, offset=doc.offset, size_in=doc.size_in if k == 0 else 0)


def otlp_head(head: bytes) -> bool:
    """Whether ``head`` opens a file of OTLP JSON log requests (:data:`_OTLP_HEAD`)."""
    return _OTLP_HEAD.match(head) is not None


#: a ``journalctl -o export`` document (entries of several lines, binary fields sized): read whole,
#: as a cut at a line end may fall inside an entry
_JOURNAL_EXPORT = re.compile(rb"[\r\n]*(?:__CURSOR=s=|__REALTIME_TIMESTAMP=\d)")
_JSON_OPENING = re.compile(rb"\s*(?:\{\s*(?:\"|$)|\[\s*(?:[\[{]|$))")


def _spread_json(head: bytes) -> bool:
    """Whether ``head`` opens a JSON text spread over lines: its first line opens an object
    (``{`` then a key or nothing) or an array (``[`` then an object, an array or nothing), ends
    where a printer breaks a line (after ``{``, ``[``, ``,`` or ``:``) and is not a JSON text by
    itself (NDJSON's first line is)."""
    head = head.removeprefix(BOM)
    nl = head.find(b"\n")
    if nl < 0 or not _JSON_OPENING.match(head, 0, nl) or head[:nl].rstrip()[-1:] not in (b"{", b"[", b",", b":"):
        return False  # an NDJSON line ends with its object's brace, even a broken one
    try:
        msgspec.json.decode(head[:nl])
    except UNREADABLE:  # (nested past msgspec's guard too: no JSON text alone either)
        return True
    return False


_NO_FORMAT = "unrecognized input: no format matched (give --format NAME; see `secpipe formats`)"
#: what a threat-intelligence feed opens with: a STIX 2.x bundle (or TAXII 2.1 envelope), a MISP
#: event, event list or warninglist (the intel loaders' own sniff is looser: it names any JSON a feed)
_INTEL_HEADS = (
    ("a STIX 2.x bundle", "a feed", re.compile(rb'^\s*\{.{0,4096}?"type"\s*:\s*"bundle"|"spec_version"\s*:\s*"2\.', re.S)),
    ("a MISP event", "a feed", re.compile(rb'^\s*[\[{]\s*(?:"response"\s*:\s*\[\s*\{\s*)?"Event"\s*:\s*\{')),
    ("a MISP warninglist", "an allowlist", re.compile(rb'"matching_attributes"\s*:\s*\[')),
)


def _unrecognized(head: bytes) -> str:
    """The dead-letter reason of input no format recognized; a threat-intelligence feed (which
    holds indicators, not events) or a scanner output no format reads (:mod:`secpipe.formats._unread`)
    is named, with where it goes instead."""
    head = head.removeprefix(BOM)
    for what, role, pattern in _INTEL_HEADS:
        if pattern.search(head):
            return (f"unrecognized input: {what} is threat intelligence, not events: load it as {role} of a "
                    "threat_intel transform (see examples/enrich.yaml)")
    from secpipe.formats._unread import unread  # (only for input no format claimed)

    return unread(head) or _NO_FORMAT


def _drain(r: _Raw, limit: int, head: bytes) -> bytes:
    """``head`` and the rest of the stream (reading stops once over ``limit``), joined with one copy."""
    parts = [head]
    size = 0
    while size <= limit:
        b = r.read(8 << 20)
        if not b:
            break
        parts.append(b)
        size += len(b)
    return b"".join(parts)


def _lines(r: _Raw, fmt: Format, src: str, head: bytes, chunk: int, max_record: int) -> Iterator[Document]:
    buf = head
    offset = 0  # decompressed offset of buf[0]
    oversized: list[bytes] | None = None  # collecting a line longer than max_record
    while True:
        more = r.read(chunk)
        if more:
            buf += more
        if oversized is not None:
            nl = buf.find(b"\n")
            if nl < 0 and more:
                oversized.append(buf)
                offset += len(buf)
                buf = b""
                continue
            take = buf if nl < 0 else buf[: nl + 1]
            oversized.append(take)
            line = b"".join(oversized)
            yield Document(fmt, b"", src, dead=DeadLetter(
                f"record of {len(line)} bytes exceeds max_record ({max_record} bytes)",
                src, offset - sum(map(len, oversized[:-1])), line, fmt.name), size_in=r.consumed)  # fmt: skip
            oversized = None
            offset += len(take)
            buf = buf[len(take):]
            if not more and not buf:
                break
            continue
        cut = buf.rfind(b"\n") + 1 if more else len(buf)
        if more and cut == 0:
            if len(buf) > max_record:
                oversized = [buf]
                offset += len(buf)
                buf = b""
            continue
        if more and cut < len(buf) and len(buf) - cut > max_record:
            pass  # the tail will be handled on the next read
        doc, buf = buf[:cut], buf[cut:]
        if doc.strip():
            big = _split_oversized(doc, max_record)
            if big is None:
                yield Document(fmt, doc, src, offset=offset, size_in=r.consumed)
            else:
                for off, piece, is_dead in big:
                    if is_dead:
                        yield Document(fmt, b"", src, dead=DeadLetter(
                            f"record of {len(piece)} bytes exceeds max_record ({max_record} bytes)",
                            src, offset + off, piece, fmt.name), size_in=r.consumed)  # fmt: skip
                    elif piece.strip():
                        yield Document(fmt, piece, src, offset=offset + off, size_in=r.consumed)
        offset += cut
        if not more:
            break
    if r.error:
        yield Document(fmt, b"", src, dead=DeadLetter(r.error, src, offset, buf, fmt.name), size_in=r.consumed)


def _split_oversized(doc: bytes, max_record: int) -> list[tuple[int, bytes, bool]] | None:
    """Split a chunk around lines longer than max_record; None when it has none."""
    if len(doc) <= max_record:
        return None
    out: list[tuple[int, bytes, bool]] = []
    start = 0
    pos = 0
    for line in doc.split(b"\n"):
        if len(line) > max_record:
            if pos > start:
                out.append((start, doc[start:pos], False))
            out.append((pos, line, True))
            start = pos + len(line) + 1
        pos += len(line) + 1
    if not any(d for _, _, d in out):
        return None
    if start < len(doc):
        out.append((start, doc[start:], False))
    return out


def open_text(path: str) -> bytes:
    """Whole content of a small (possibly gzipped) file."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
