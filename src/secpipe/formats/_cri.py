"""A node's container log files: Kubernetes' CRI logging format.

The container runtime (containerd, CRI-O) writes each line a container prints to
``/var/log/containers/<pod>_<namespace>_<container>-<id>.log`` behind a header of its own, ``<RFC 3339
time> <stdout|stderr> <F|P> `` (kubelet ``pkg/kubelet/kuberuntime/logs``' ``parseCRILog``: the tag
``F`` a full line, ``P`` a part of a longer one; the runtime cuts a line longer than its buffer, 16 KiB
in containerd, into ``P`` records ended by an ``F`` one, and kubelet's ``ReadLogs`` joins their contents).
A node's log collector picks the pods' output up there: Falco's alerts, OPA's decision logs, Gatekeeper's
lines, an API server's audit log, any tool's JSON. The header is the runtime's transport metadata (the
records carry their own time).

Two ways to read such a file: Falco and OPA blank the headers out (:func:`blank_headers`: spaces, every
record keeps its offset in the file) before splitting their records; batch ingest with ``--format auto``
unwraps any file whose first line has the header (:func:`is_cri`, :class:`Unwrapped`): each line's
content, the ``P`` parts joined into the line they were cut from, so the format detected on the contents
reads them as it reads the tool's own output. Offsets are then the unwrapped stream's. A tailed file (the
``file`` source following ``/var/log/containers/*.log``) is unwrapped chunk by chunk alike, its checkpoint
offsets the file's own.
"""

from __future__ import annotations

import re
from typing import Protocol

_TIME = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)"
_HEAD = re.compile(_TIME + rb" (?:stdout|stderr) [FP] ", re.MULTILINE)
_LINE_HEAD = re.compile(rb"^" + _TIME + rb" (?:stdout|stderr) [FP] ", re.MULTILINE)
_PARTIAL = re.compile(rb"^" + _TIME + rb" (?:stdout|stderr) P ", re.MULTILINE)
_RECORD = re.compile(rb"^" + _TIME + rb" (?:stdout|stderr) ([FP]) ([^\n]*\n?)", re.MULTILINE)


def blank_headers(data: bytes) -> bytes:
    """``data`` with the CRI header of each line replaced by spaces; ``data`` itself when its first
    lines hold none (one search of the head: a document of another shape pays a byte test)."""
    first = data[:4096].lstrip(b" \t\r\n\xef\xbb\xbf")[:1]  # (the head only: no copy of a large document)
    if not first.isdigit() or _HEAD.search(data, 0, 4096) is None:
        return data
    return _HEAD.sub(lambda m: b" " * (m.end() - m.start()), data)


def is_cri(head: bytes) -> bool:
    """Whether ``head`` opens with a CRI log record (a digit first: most heads pay one byte test)."""
    return head[:1].isdigit() and _LINE_HEAD.match(head) is not None


def _part(m: re.Match[bytes]) -> bytes:
    body = m[2]
    return body[:-1] if m[1] == b"P" and body.endswith(b"\n") else body


def unwrap(data: bytes) -> bytes:
    """The contents of CRI records (whole lines: a ``P`` record's content runs on into the next one's);
    a line without the header is kept as it is."""
    if _PARTIAL.search(data) is None:
        return _LINE_HEAD.sub(b"", data)
    return _RECORD.sub(_part, data)


def whole_lines(buf: bytes, end: int | None = None) -> int:
    """Where the whole lines of ``buf[:end]`` (cut at a line end) end: before an incomplete last record, and
    before ``P`` records that wait for the rest of their line."""
    cut = buf.rfind(b"\n", 0, end) + 1
    while cut:
        start = buf.rfind(b"\n", 0, cut - 1) + 1
        if _PARTIAL.match(buf, start) is None:
            break
        cut = start
    return cut


class _Reader(Protocol):
    error: str | None
    consumed: int

    def read(self, n: int) -> bytes: ...

    def close(self) -> None: ...


class Unwrapped:
    """A byte stream's CRI records unwrapped (:func:`unwrap`), read as the stream is: ``read(n)`` gives
    whole unwrapped lines (an incomplete last line, and ``P`` records waiting for the rest of their line,
    are kept for the next read). ``head`` is the unwrapped form of the bytes already read."""

    def __init__(self, raw: _Reader, head: bytes) -> None:
        self.raw = raw
        self.carry = b""
        self.head = self._take(head, final=False)

    @property
    def error(self) -> str | None:
        """The stream's error (a damaged gzip member)."""
        return self.raw.error

    @property
    def consumed(self) -> int:
        """Bytes of the stream read."""
        return self.raw.consumed

    def close(self) -> None:
        """Close the stream."""
        self.raw.close()

    def _take(self, more: bytes, final: bool) -> bytes:
        buf = self.carry + more
        if final:
            self.carry = b""
            return unwrap(buf)
        cut = whole_lines(buf)
        self.carry = buf[cut:]
        return unwrap(buf[:cut])

    def read(self, n: int) -> bytes:
        """About ``n`` bytes of unwrapped lines; b'' at the end."""
        while True:
            more = self.raw.read(n)
            out = self._take(more, final=not more)
            if out or not more:
                return out


__all__ = ["Unwrapped", "blank_headers", "is_cri", "unwrap", "whole_lines"]
