"""How a syslog document becomes lines, and what its source says about them (see :mod:`.syslog`).

Octet-counted framing (RFC 6587 section 3.4.1), a message's continuation lines (macOS's tab-indented
lines), the hints a source carries (a shipper's host and time, a file's mtime, the listener's peer,
the offsets and counts :class:`Repeats` writes for lines seen before), the CloudWatch Logs envelope
test, and the sniff of a document's first lines for auto-detection. Nothing here maps a field.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import threading
from collections import Counter, OrderedDict

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _journal
from secpipe.formats._text import split_lines
from secpipe.formats.base import (
    BOM,
)

_OCTET = re.compile(rb"\s*(\d{1,9}) ")
_MON = _journal.MONTH.encode()
_JOURNAL = "|".join((_journal.FULL_TS, _journal.UNIX_TS, _journal.MONO_TS)).encode()


class SyslogError(ValueError):
    """Internal: a framing problem in an octet-counted buffer."""


def _split_octets(data: bytes) -> tuple[list[bytes], list[int], bytes | None, int]:
    """RFC 6587 octet counting: frames, their offsets, and the unparsable tail (if any)."""
    frames: list[bytes] = []
    offs: list[int] = []
    pos, n = 0, len(data)
    match = _OCTET.match
    while pos < n:
        if data[pos:].strip() == b"":
            break
        m = match(data, pos)
        if m is None:
            return frames, offs, data[pos:], pos
        size = int(m.group(1))
        start = m.end()
        if start + size > n:
            return frames, offs, data[pos:], pos
        frames.append(data[start : start + size].rstrip(b"\r\n"))
        offs.append(start)
        pos = start + size
    return frames, offs, None, pos


def _frames(data: bytes, source: str) -> tuple[pa.Array, pa.Array, bytes | None, int]:
    """The messages of a (non-journal) buffer as the decoder frames them: (lines as binary,
    their offsets, the broken octet-counted tail or None, its offset)."""
    if _is_octet_counted(data, source):
        frames, offs_l, tail, at = _split_octets(data)
        return pa.array(frames, pa.binary()), pa.array(offs_l, pa.int64()), tail, at
    if _CONTINUED in data:
        lines, offs_l = _continued_lines(data)
        return pa.array(lines, pa.binary()), pa.array(offs_l, pa.int64()), None, 0
    lines_b, offs = split_lines(data)
    return lines_b, offs, None, 0


#: a line opening with a tab: the continuation of the message above it (a message holding
#: newlines, as macOS's syslogd writes one: each further line indented with tabs)
_CONTINUED = b"\n\t"


def _continued_lines(data: bytes) -> tuple[list[bytes], list[int]]:
    """Newline framing as :func:`~secpipe.formats._text.split_lines` (CR and blank lines
    dropped, offsets of the whole text), where a line opening with a tab right below a message
    that opens with none is that message's continuation: joined to it with its newline (Elastic's
    system syslog test of macOS's multi-line messages). The rare path: a buffer holding ``\\n\\t``."""
    first = 3 if data[:3] == BOM else 0
    out: list[bytes] = []
    offs: list[int] = []
    pos = first
    open_ = False  # whether the last message may take a continuation line
    for part in (data[first:] if first else data).split(b"\n"):
        line = part[:-1] if part[-1:] == b"\r" else part
        if not line.strip():
            open_ = False
        elif open_ and line[:1] == b"\t":
            out[-1] += b"\n" + line
        else:
            out.append(line)
            offs.append(pos)
            open_ = not line[:1].isspace()
        pos += len(part) + 1
    return out, offs


_HINT = ";repeats="
#: What :class:`Repeats` writes after the marker: ``offset:count`` pairs, ASCII digits, a count of
#: at least 1; 15 digits at most (offset + in-batch rank never near int64's end). ``int()`` alone
#: took ``-3`` (copies merged), ``1_0``, Arabic digits and 30 digits (OverflowError).
_HINT_LIST = re.compile(r"(?:\d{1,15}:[1-9]\d{0,14}(?:,\d{1,15}:[1-9]\d{0,14})*)?", re.ASCII)


#: the host a shipper named for the lines of a batch, at the end of its source (see module docstring)
_SHIPPED_HOST = re.compile(r";host=([A-Za-z0-9._:-]{1,253})$")


def _shipped_host(source: str) -> str | None:
    """The ``;host=`` hint ending ``source`` (the source without its ``;repeats=`` hint), if any."""
    found = _SHIPPED_HOST.search(source)
    return found.group(1) if found else None


#: the latest time (epoch ms) the shipper's documents of a batch name, before its ``;host=`` hint
_SHIPPED_AT = re.compile(r";at=(\d{1,15})(?:;host=[A-Za-z0-9._:-]{1,253})?$")


def _shipped_at(source: str) -> int | None:
    """The ``;at=`` hint of ``source`` (the source without its ``;repeats=`` hint), if any."""
    found = _SHIPPED_AT.search(source)
    return int(found.group(1)) if found else None


#: the time (epoch ms) a file read by ``secpipe ingest`` or the file source was last written, ending its source
_FILE_MTIME = re.compile(r";mtime=(\d{1,15})$")


def _file_mtime(source: str) -> int | None:
    """The ``;mtime=`` hint ending ``source`` (the source without its ``;repeats=`` hint), if any."""
    found = _FILE_MTIME.search(source)
    return int(found.group(1)) if found else None


#: the sender's address the listener names in its source (``syslog+udp://0.0.0.0:514/peer=10.0.0.9:514;...``)
_PEER = re.compile(r"^syslog\+(?:udp|tcp|tls)://[^/]*/peer=([0-9A-Fa-f.:]+):\d+;")


def _peer_ip(source: str) -> str | None:
    """The sender's IP address named in a listener's ``source``, if any."""
    found = _PEER.match(source)
    if found is None:
        return None
    try:
        return str(ipaddress.ip_address(found.group(1)))
    except ValueError:
        return None


def _hints(source: str) -> tuple[str, dict[int, int]]:
    """Split a :class:`Repeats` hint off ``source``: (the source, {offset: copies before});
    anything after the marker that is not what :class:`Repeats` writes is no hint (the source
    is taken whole)."""
    head, sep, tail = source.rpartition(_HINT)
    if not sep or _HINT_LIST.fullmatch(tail) is None:
        return source, {}
    if not tail:
        return head, {}
    pairs = (item.partition(":") for item in tail.split(","))
    return head, {int(o): int(c) for o, _, c in pairs}


def _bases(hints: dict[int, int], lines_b: pa.Array, offs: pa.Array) -> pa.Array | None:
    """Per line, how many copies of it came earlier in the stream (from the hints, which name
    each such line by the offset of its first copy in this buffer); None when none did."""
    if not hints:
        return None
    codes = pc.dictionary_encode(lines_b).indices.to_numpy(zero_copy_only=False)
    at = offs.to_numpy(zero_copy_only=False)
    per_code = np.zeros(int(codes.max()) + 1, np.int64)
    for i in np.flatnonzero(np.isin(at, np.fromiter(hints, np.int64, len(hints)))):
        per_code[codes[i]] = hints[int(at[i])]
    return pa.array(per_code[codes])


class Repeats:
    """The lines one stream has delivered so far (see module docstring): :meth:`source` gives
    the source to decode a batch under, hinted with the copies each of its lines had before.
    Remembers the last ``limit`` to 2 x ``limit`` distinct lines (two generations), and at most
    ``max_bytes`` of lines in a generation (default ``limit`` x 512: the listener's 64 KiB
    messages would otherwise hold 8 GiB), so memory stays bounded; a line last seen before that
    counts from 0 again (verbatim copies carry the same timestamp, so they are close together in
    any log). CloudWatch Logs envelopes are not lines (their log events carry an id): passed by."""

    def __init__(self, limit: int = 1 << 16, max_bytes: int | None = None) -> None:
        self.limit = limit
        self.max_bytes = limit * 512 if max_bytes is None else max_bytes
        self._new: dict[bytes, int] = {}
        self._old: dict[bytes, int] = {}
        self._bytes = 0  # bytes of the lines in _new, at most (some counted twice)

    def source(self, data: bytes, source: str) -> str:
        """``source`` with this batch's hint (unchanged when no line of it was seen before);
        counts the batch's lines in. Framed as the decoder frames (:func:`_frames`), in plain
        Python: ``bytes.split``, a ``Counter`` and set algebra run in C, ~0.4 us a line, and
        offsets are worked out only for a batch that holds a line seen before."""
        if _journal.is_json(data) or _journal.is_export(data) or _is_cwlogs(data):  # entries, log events: ids of their own
            return source + _HINT if _HINT in source else source
        if _is_octet_counted(data, source):
            lines, offs, _tail, _at = _split_octets(data)
            keys, first = lines, 0
        elif _CONTINUED in data:  # messages of several lines: framed as the decoder frames them
            keys, offs = _continued_lines(data)
            lines, first = keys, 0
        else:
            first = 3 if data[:3] == BOM else 0
            lines = (data[first:] if first else data).split(b"\n")
            keys = [x[:-1] if x[-1:] == b"\r" else x for x in lines] if b"\r" in data else lines
            offs = None
        counts = Counter(keys)
        counts.pop(b"", None)  # the piece after the last newline, blank lines: no message
        new, old = self._new, self._old
        seen = (new.keys() | old.keys()) & counts.keys() if old else new.keys() & counts.keys()
        before = {line: new.get(line) or old[line] for line in seen}
        self._bytes += sum(map(len, counts))  # lines seen before counted again: a bound, at no cost
        new.update(counts)
        hints = []
        if before:
            pos = first
            for i, key in enumerate(keys):
                if key in before:
                    hints.append(f"{offs[i] if offs is not None else pos}:{before[key]}")
                    new[key] = before.pop(key) + counts[key]
                    if not before:
                        break
                pos += len(lines[i]) + 1
        if len(new) > self.limit or self._bytes > self.max_bytes:
            self._old, self._new, self._bytes = new, {}, 0
        return source + _HINT + ",".join(hints) if hints or _HINT in source else source


_CW_FIRST = re.compile(rb'"(?:logEvents|events)"\s*:\s*\[\s*\{')
_WS = rb"(?:\\[nrt]|\s)*"  # blanks in a JSON string: escaped or not
#: The first log event's message, and whether it opens a JSON text: ``{`` then a key or ``}``,
#: ``[`` then a value (an object, a string, an array; a number or literal before ``,``, or before
#: the ``]`` that ends the message).
#: Text that opens with a bracket is text: Lambda's Python runtime writes ``[ERROR]\t<time>...``,
#: AWS's own subscription example is ``[ERROR] First test message``, a web server ``[2024/...]``.
_CW_MESSAGE = re.compile(
    rb'"message"\s*:\s*"' + _WS + rb'(\{' + _WS + rb'(?:\\"|\})|\[' + _WS
    + rb'(?:[{\[]|\\"|(?:(?:-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)' + _WS + rb')?(?:,|\]' + _WS + rb'")))?'
)
_NOT_CW = "JSON record in a syslog input that is no CloudWatch Logs envelope (messageType + logEvents, or events)"
_CW_NO_MESSAGE = "CloudWatch Logs log event without a string message: no log line to map"


#: A Logs API answer's first log event as the API (and the AWS CLI) writes it: ``logStreamName``
#: (filter-log-events), ``timestamp``, then ``message``; its ``ingestionTime`` comes after the
#: message, which may be longer than the head.
_CW_API_FIRST = re.compile(rb'"events"\s*:\s*\[\s*\{\s*(?:"logStreamName"\s*:\s*"[^"\\]*"\s*,\s*)?"timestamp"\s*:\s*\d+\s*,\s*"message"\s*:')


def _cw_shape(head: bytes) -> bool:
    """Whether ``head`` holds the keys of a CloudWatch Logs subscription envelope, Logs API
    answer, or Lambda event (``{"awslogs": {"data": ...}}``)."""
    return (b'"messageType"' in head and b'"logEvents"' in head) or b'"awslogs"' in head[:256] or (
        b'"events"' in head and (b'"ingestionTime"' in head or _CW_API_FIRST.search(head) is not None))


def _cw_text(head: bytes) -> bool:
    """Whether ``head`` opens a CloudWatch Logs subscription envelope or Logs API answer whose
    first message is text, not JSON."""
    if not _cw_shape(head):
        return False
    first = _CW_FIRST.search(head)
    m = _CW_MESSAGE.search(head, first.end()) if first else None
    return m is not None and m.group(1) is None


def _is_cwlogs(data: bytes) -> bool:
    """Whether ``data`` is CloudWatch Logs envelopes (or Logs API answers): what detection took
    for envelopes of text lines, or a later chunk of the same file (back-to-back envelopes from
    several log groups), whose first message may be JSON; never a run of syslog lines."""
    return data[:4096].lstrip()[:1] == b"{" and _cw_shape(data[: 64 * 1024])  # the head detection sees


class Streams:
    """One :class:`Repeats` per source, for bodies POSTed over HTTP (a source names the token
    and the endpoint, so there are few). A body seen again from the same source is a sender's
    retry (its answer was lost): it gets the hinted source it got the first time, so it
    collapses onto what was stored instead of counting its lines as new copies. Thread-safe."""

    def __init__(self, limit: int = 1 << 14, bodies: int = 256) -> None:
        self.limit = limit
        self.bodies = bodies
        self._lock = threading.Lock()
        self._streams: dict[str, Repeats] = {}
        self._seen: OrderedDict[bytes, str] = OrderedDict()  # blake2b(source, body) -> hinted source

    def source(self, data: bytes, source: str) -> str:
        h = hashlib.blake2b(source.encode() + b"\0", digest_size=16)
        h.update(data)
        key = h.digest()
        with self._lock:
            hinted = self._seen.get(key)
            if hinted is not None:
                self._seen.move_to_end(key)
                return hinted
            reps = self._streams.get(source)
            if reps is None:
                reps = self._streams[source] = Repeats(self.limit)
            hinted = self._seen[key] = reps.source(data, source)
            if len(self._seen) > self.bodies:
                self._seen.popitem(last=False)
            return hinted


def _is_octet_counted(data: bytes, source: str) -> bool:
    if "framing=octet-counted" in source:
        return True
    if "framing=" in source:
        return False
    m = _OCTET.match(data)
    return m is not None and data[m.end() : m.end() + 1] == b"<"


def _sniff_line(head: bytes) -> int:
    """How surely the line ``head`` starts is syslog (0: no header grammar takes it)."""
    h = head[:512]
    if re.match(rb"<\d{1,3}>(\d{1,2} \d{4}-\d\d-\d\dT|\d{1,2} - | ?(\d{4} )?" + _MON + rb" [ \d]?\d (\d{4} )?\d\d:)", h):
        return 95
    if re.match(rb"\d{1,9} <\d{1,3}>", h):
        return 90
    if re.match(rb"<\d{1,3}>\S", h):
        return 60
    if re.match(rb"(\d{4} )?" + _MON + rb" +\d{1,2} (\d{4} )?\d\d:\d\d:\d\d(\.\d{1,9})? \S+ \S+", h):
        return 70
    if re.match(rb"(" + _JOURNAL + rb") \S+ [^\s:\[]+(\[\d+\])?: ", h):  # journalctl -o short-full/unix/monotonic
        return 70
    if re.match(rb"(?:CEF: ?\d+|LEEF:[12]\.\d+)\|[^|\n]*\|", h):
        return 70
    if re.match(rb"(node=\S+ )?type=[A-Z][A-Z0-9_]*(\[\d{1,6}\])? msg=audit\(\d{1,12}\.\d{1,9}:\d{1,20}\): ", h):
        return 70  # auditd's audit.log
    if re.match(rb"(?:\S+[\t ])?MSWinEventLog\t\d+\t[^\t\n]*\t\d*\t", h):
        return 60  # Snare's Windows events without a syslog header (its file, a relay that kept none)
    if re.match(rb'(?:"[^"\n]{0,256}"|[^\s"]+)(?:,? (?:"[^"\n]{0,256}"|[^\s"]+)){2,9} '
                rb'\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "[A-Z]{3,16} ', h):
        return 60  # an access log line (Common/Combined Log Format, maybe a vhost first, an address list) without a syslog header
    if re.match(rb"\d\d-" + _MON + rb"-\d{4} \d\d:\d\d:\d\d\.\d{3} (?:[a-z-]{1,32}: )?(?:(?:info|notice|warning|error|critical|debug \d{1,2}): )?"
                rb"client (?:@0x[0-9A-Fa-f]{1,16} )?[0-9A-Fa-f.:]{2,45}#\d", h):
        return 60  # a client line of BIND's own log file (a channel's print-time stamp first: the query log)
    if re.match(rb"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(emerg|alert|crit|error|warn|notice|info|debug)\] \d{1,10}#\d{1,20}: ", h):
        return 60  # an nginx error log line
    if re.match(rb"\[(?:[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d{1,6})? \d{4}|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})? [+-]\d{4})\] "
                rb"\[(?:[\w-]*:)?(?:emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\] ", h):
        return 60  # an Apache httpd error log line
    if re.match(rb" *\d{9,11}\.\d{3} +-?\d+ \S+ [A-Z_]+/\d{3} \d+ [A-Z_-]+ \S+ \S+ [A-Z_]+/\S+ \S+", h):
        return 60  # a Squid access.log line (native format)
    if re.match(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:ALLOW|DROP|OPEN|CLOSE|OPEN-INBOUND|INFO-EVENTS-LOST) \S+ [0-9A-Fa-f.:]+ ", h) or (
            h.startswith(b"#Version: ") and b"#Software: Microsoft Windows Firewall" in h[:200]):
        return 60  # a Windows Firewall log (pfirewall.log)
    if re.match(rb"(\d+: )?([^\s:%]+: )?[*.]?[A-Z][a-z]{2} +\d{1,2} [^\n]{0,40}?: [%#][A-Z][A-Z0-9_]*(-[A-Z0-9_]+)*-[0-7]-[A-Z0-9_]+: ", h):
        return 70  # (a wireless controller's code may open with #)
    if re.match(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?|" + _MON + rb" +\d{1,2} \d{4} \d\d:\d\d:\d\d) +"
                rb"([^\s:%]+ ?:? +)?%[A-Z][A-Z0-9_]*(-[A-Z0-9_]+)*-[0-7]-[A-Z0-9_]+ ?: ", h):
        return 70  # a Cisco message behind a stamp with its year (FTD's, with or without the device id)
    if re.match(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{1,9}[+-]\d{4} +\S+ [^\s:\[]+(\[\d+\])?: ", h):
        return 60  # macOS's unified log, ``log show --style syslog``
    if re.match(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ [^\s:\[]+(\[\d+\])?: ", h):
        return 60
    if re.match(rb"date=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d [a-z_]{1,32}=\S", h):
        return 60  # FortiOS log lines without a syslog header (a FortiGate's disk log, a relay that kept no header)
    # a syslog server's file line of a device that sends no TAG (RFC 3339 stamp, host, a MSG of
    # key=value pairs: FortiGate's ``date=... devname=...``)
    if re.match(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d) [\w.:-]{1,255} [a-z_]{1,32}=\S", h):
        return 60
    # no HOSTNAME: a local program's line, ``TAG[PID]`` or macOS's ``TAG[PID/THREAD]`` after an
    # RFC 3339 time with its zone (Keystone's ``2022-04-21T14:30:00Z Agent[21412/0x7000...] ...``)
    if re.match(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d) [^\s:\[\]]{1,64}"
                rb"\[\d{1,10}(/(0x)?[0-9A-Fa-f]{1,16})?\]:? \S", h):
        return 60
    return 0


def _header_below(h: bytes) -> bool:
    """Whether one of the seven lines after the first of ``h`` opens with a syslog header."""
    rest = h
    for _ in range(7):
        nl = rest.find(b"\n", 0, 4096)
        if nl < 0:
            return False
        rest = rest[nl + 1 :]
        if _sniff_line(rest) >= 60:
            return True
    return False
