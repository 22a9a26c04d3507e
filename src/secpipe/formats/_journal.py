"""journalctl's text output timestamps (for :mod:`secpipe.formats.syslog`).

``journalctl -o short`` writes the BSD ``Mmm dd hh:mm:ss`` header syslog already reads, and
``short-precise`` the same with microseconds; ``short-iso``/``short-iso-precise`` an RFC 3339
time with an offset (``+0100`` before systemd 254, ``+01:00`` after). The others, read here:

- ``short-full``: ``Tue 2023-01-24 12:09:21 CET`` (weekday, date, time, zone abbreviation;
  locale-independent). The zone is resolved from a table of common abbreviations, or a numeric
  offset; an abbreviation not in it is taken as UTC, as a BSD time without zone is.
- ``short-unix``: ``1674558561.123456`` seconds since the epoch (UTC).
- ``short-monotonic``: ``[  123.456789]`` seconds since boot: no wall time, so the line gets the
  receipt time (``secpipe:time_from_receipt``).
- the marker lines journalctl writes between entries (``-- Boot <id> --``, ``-- Reboot --``,
  ``-- No entries --``, ``-- Logs begin at ... --``) are lines of the output too: :data:`MARKER`
  reads them as a message without header (Base Event, receipt time), so nothing is dropped.

Month names: journalctl (and rsyslog/syslog-ng templates using ``%b``) write the month in the
reader's locale: ``nov. 07`` (fr_FR), ``Okt 30`` (de_DE), ``ноя 30`` (ru_RU). :data:`MONTH` lists
the abbreviations of glibc's English, French, German, Spanish, Italian, Portuguese, Dutch and
Russian locales (any case, an optional trailing dot); :func:`english_months` maps them to the
English ones the BSD time parser reads. No two locales use one abbreviation for two months.

Guarantees: every function is columnar (Arrow kernels over the batch); a stamp that does not
parse gives a null time (the line then takes the receipt time), never an error.

``journalctl -o export`` (the Journal Export Format systemd-journal-remote reads: ``FIELD=value``
lines, binary fields sized, an empty line after each entry) is read as the same entries
(:func:`export_entries`), each entry its lines.

``journalctl -o json`` (one entry a line; also what Fluent Bit's ``systemd`` input and Vector's
``journald`` source forward, and ``systemd-journal-gatewayd``'s ``Accept: application/json``):
the entry's fields (systemd.journal-fields(7)) give the syslog header -- ``PRIORITY`` the
severity, ``SYSLOG_FACILITY`` the facility, ``SYSLOG_IDENTIFIER`` (else ``_COMM``) the program,
``SYSLOG_PID`` (else ``_PID``) the pid, ``_HOSTNAME`` the host, ``MESSAGE_ID`` the event code,
``MESSAGE`` the message, ``_SOURCE_REALTIME_TIMESTAMP`` (else ``__REALTIME_TIMESTAMP``,
microseconds since the epoch) the time -- and are mapped as syslog messages (sshd/sudo/su
authentication included), ``metadata.log_format`` ``journal JSON``; ``raw_data`` is the entry. Its unit,
executable, command line, uid, boot and machine ids and receipt time have OCSF places too (:func:`place`).
journalctl writes a value that is not UTF-8 text as an array of byte values and a field given
more than once as an array of its values: the bytes are read as text (invalid bytes ``\\xNN``, as
for syslog lines), the first of several values is taken. A line that is not a JSON object is
dead-lettered alone. The entries are decoded by msgspec in one call; the per-entry Python work
is picking each field's text (a type test for the common plain string).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa
from msgspec.structs import astuple

from secpipe import _compute as pc
from secpipe.formats._text import group
from secpipe.formats.base import DeadLetter, Decoded, parse_times

S = pa.string()

#: ``short-full``: weekday, ``YYYY-MM-DD hh:mm:ss[.frac]`` and an upper-case zone abbreviation or offset.
FULL_TS = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?(?: (?:[A-Z]{1,5}|[+-]\d\d:?\d\d))?"
#: ``short-unix``: epoch seconds with microseconds.
UNIX_TS = r"\d{9,11}\.\d{1,9}"
#: ``short-monotonic``: seconds since boot in brackets.
MONO_TS = r"\[ *\d+\.\d{1,9}\]"
#: a journalctl marker line (``-- Boot 8e4c... --``).
MARKER = r"(?s)^-- (?P<msg>.*\S) --$"
#: what starts a journal stamp (the rest of the syslog grammar reads BSD and RFC 3339 ones).
STARTS = r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-|\d{9,11}\.|\[)"

_MONTHS = {
    1: "jan janv januar jän ene gen янв", 2: "feb févr fév fev февр фев", 3: "mar mars mär mrt мар",
    4: "apr avr avril abr апр", 5: "may mai mei mag мая май", 6: "jun juin giu июн", 7: "jul juil lug июл",
    8: "aug août aoû ago авг", 9: "sep sept set сен сент", 10: "oct okt ott out окт", 11: "nov ноя",
    12: "dec déc dez dic дек",
}  # fmt: skip
_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TOKENS = {t: _ABBR[m - 1] for m, ts in _MONTHS.items() for t in ts.split()}
#: a month abbreviation of the locales above (longest first: RE2 alternation is leftmost-first)
MONTH = "(?i:" + "|".join(sorted(_TOKENS, key=lambda t: (-len(t), t))) + r")\.?"
_TOKEN_KEYS = pa.array(list(_TOKENS), S)
_TOKEN_ABBR = pa.array(list(_TOKENS.values()), S)


def english_months(mon: pa.Array) -> pa.Array:
    """English ``Mmm`` of month abbreviations matched by :data:`MONTH` (null for anything else)."""
    key = pc.utf8_lower(pc.utf8_rtrim(mon, "."))
    return _TOKEN_ABBR.take(pc.index_in(key, value_set=_TOKEN_KEYS))


_FULL_PARTS = (
    r"^\w{3} (?P<date>\d{4}-\d\d-\d\d) (?P<time>\d\d:\d\d:\d\d(?:\.\d{1,9})?)(?: (?P<zone>[A-Z]{1,5}|[+-]\d\d:?\d\d))?$"
)
#: zone abbreviations journalctl prints (strftime %Z of the host's zone) -> UTC offset
_ZONES = {
    "UTC": "+00:00", "GMT": "+00:00", "UT": "+00:00", "Z": "+00:00", "WET": "+00:00", "WEST": "+01:00",
    "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00", "MET": "+01:00", "MEST": "+02:00", "EET": "+02:00",
    "EEST": "+03:00", "MSK": "+03:00", "SAST": "+02:00", "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00",
    "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00", "AKST": "-09:00",
    "AKDT": "-08:00", "HST": "-10:00", "JST": "+09:00", "KST": "+09:00", "HKT": "+08:00", "SGT": "+08:00",
    "AWST": "+08:00", "ACST": "+09:30", "ACDT": "+10:30", "AEST": "+10:00", "AEDT": "+11:00",
    "NZST": "+12:00", "NZDT": "+13:00",
}  # fmt: skip
_ZONE_KEYS = pa.array(list(_ZONES), S)
_ZONE_OFFS = pa.array(list(_ZONES.values()), S)
_ZONE_MS = pa.array([(-1 if o[0] == "-" else 1) * (int(o[1:3]) * 60 + int(o[4:6])) * 60_000 for o in _ZONES.values()],
                    pa.int64())


def zone_offsets(zone: pa.Array) -> pa.Array:
    """UTC offsets (int64 ms) of zone abbreviations (:data:`_ZONES`); null for any other."""
    return _ZONE_MS.take(pc.index_in(zone, value_set=_ZONE_KEYS))


def times(ts: pa.Array) -> pa.Array:
    """int64 ms of ``short-full`` and ``short-unix`` stamps; null for any other (and monotonic) stamp."""
    n = len(ts)
    full = pc.extract_regex(ts, _FULL_PARTS)
    zone = group(full, "zone")
    named = pc.index_in(zone, value_set=_ZONE_KEYS)
    offset = pc.coalesce(_ZONE_OFFS.take(named), pc.if_else(pc.match_substring_regex(zone, r"^[+-]"), zone, "+00:00"),
                         pa.scalar("+00:00", S))  # fmt: skip
    iso = pc.binary_join_element_wise(group(full, "date"), "T", group(full, "time"), offset, "")
    out = parse_times(iso)
    unix = pc.if_else(pc.fill_null(pc.match_substring_regex(ts, rf"^{UNIX_TS}$"), False), ts, pa.scalar(None, S))
    if unix.null_count < n:
        out = pc.coalesce(out, pc.round(pc.multiply(unix.cast(pa.float64()), 1000.0)).cast(pa.int64()))
    return out


__all__ = ["FULL_TS", "MARKER", "MONO_TS", "MONTH", "STARTS", "UNIX_TS", "english_months", "place", "times", "zone_offsets"]


#: the journal fields the mapping reads (``journalctl -o json`` names)
_JSON_KEYS = {
    "msg": "MESSAGE", "prio": "PRIORITY", "fac": "SYSLOG_FACILITY", "ident": "SYSLOG_IDENTIFIER", "spid": "SYSLOG_PID",
    "pid": "_PID", "comm": "_COMM", "host": "_HOSTNAME", "msgid": "MESSAGE_ID", "src_us": "_SOURCE_REALTIME_TIMESTAMP",
    "rt_us": "__REALTIME_TIMESTAMP", "unit": "_SYSTEMD_UNIT", "user_unit": "_SYSTEMD_USER_UNIT", "exe": "_EXE",
    "cmdline": "_CMDLINE", "uid": "_UID", "boot": "_BOOT_ID", "machine": "_MACHINE_ID",
}  # fmt: skip
_Entry = msgspec.defstruct("_Entry", [(k, Any, msgspec.field(default=None, name=v)) for k, v in _JSON_KEYS.items()],
                           gc=False)  # fmt: skip
_ENTRIES = msgspec.json.Decoder(list[_Entry])  # type: ignore[valid-type]
_ENTRY = msgspec.json.Decoder(_Entry)
#: the same fields where each is a string (or absent): what journalctl writes for text values
_TextEntry = msgspec.defstruct("_TextEntry", [(k, str | None, msgspec.field(default=None, name=v)) for k, v in _JSON_KEYS.items()],
                               gc=False)  # fmt: skip
_TEXT_ENTRIES = msgspec.json.Decoder(list[_TextEntry])  # type: ignore[valid-type]
#: an entry of journalctl's JSON output: an object with the journal's own address fields, or a
#: MESSAGE with the trusted fields journald adds
_JSON_HEAD = re.compile(rb'^[ \t\r\n]*\{[^\n]*"(?:__CURSOR|__REALTIME_TIMESTAMP)"|^[ \t\r\n]*\{(?=[^\n]*"MESSAGE")'
                        rb'[^\n]*"(?:_HOSTNAME|SYSLOG_IDENTIFIER|_SYSTEMD_UNIT|_TRANSPORT)"')  # fmt: skip


def is_json(data: bytes) -> bool:
    """Whether ``data`` opens with a ``journalctl -o json`` entry."""
    return data[:1] in (b"{", b" ", b"\t", b"\r", b"\n") and _JSON_HEAD.match(data[:65536]) is not None


#: the Journal Export Format (``journalctl -o export``, systemd-journal-remote's input): an entry opens
#: with its cursor or realtime stamp
_EXPORT_HEAD = re.compile(rb"^[\r\n]*(?:__CURSOR=s=|__REALTIME_TIMESTAMP=\d)")


def is_export(data: bytes) -> bool:
    """Whether ``data`` opens with an entry of ``journalctl -o export``."""
    return data[:1] in (b"_", b"\n", b"\r") and _EXPORT_HEAD.match(data[:256]) is not None


def export_entries(data: bytes) -> tuple[list[bytes], list[int], list[dict[str, Any]], list[tuple[int, bytes, str]]]:
    """The entries of a Journal Export Format document (systemd.io/JOURNAL_EXPORT_FORMATS: ``FIELD=value``
    lines, a binary field as its name, a newline, its size as a little-endian 64-bit integer, the data and
    a newline; entries apart by a blank line): (each entry's bytes, its offset, its fields as
    ``journalctl -o json`` gives them -- a value that is not UTF-8 as its byte values --, and
    (offset, bytes, reason) of an entry cut short). Plain Python over the document: a format of transfers
    and archives, not of a hot stream."""
    raws: list[bytes] = []
    offs: list[int] = []
    entries: list[dict[str, Any]] = []
    broken: list[tuple[int, bytes, str]] = []
    pos, n = 0, len(data)
    while pos < n:
        while pos < n and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        start, fault = pos, None
        fields: dict[str, Any] = {}
        while pos < n and data[pos : pos + 1] != b"\n":
            end = data.find(b"\n", pos)
            end = n if end < 0 else end
            line = data[pos:end]
            name, eq, value = line.partition(b"=")
            if not eq:  # a binary field: its size, then its data
                if end + 9 > n:
                    fault = "journal export entry cut short (a binary field without its size)"
                    break
                size = int.from_bytes(data[end + 1 : end + 9], "little")
                value = data[end + 9 : end + 9 + size]
                if len(value) < size:
                    fault = "journal export entry cut short (a binary field shorter than its size)"
                    break
                end = end + 9 + size
            try:
                fields.setdefault(name.decode("ascii"), value.decode("utf-8"))
            except UnicodeDecodeError:
                fields.setdefault(name.decode("ascii", "replace"), list(value))
            pos = end + 1
        if fault is not None:
            broken.append((start, data[start:], fault))
            break
        if fields:
            raws.append(data[start:pos].rstrip(b"\n"))
            offs.append(start)
            entries.append(fields)
    return raws, offs, entries, broken


def _text(v: Any) -> str | None:
    """A journal field's value as text: a string as it is, an array of byte values decoded (invalid
    UTF-8 as ``\\xNN``), the first of several values, a number as its digits."""
    if v is None or type(v) is str:
        return v
    if type(v) is list:
        if v and all(type(b) is int and 0 <= b < 256 for b in v):
            return bytes(v).decode("utf-8", "backslashreplace")
        return _text(v[0]) if v else None
    return None if type(v) is dict else str(v)


def _ints(values: list[str | None]) -> pa.Array:
    text = pa.array(values, S)
    return pc.if_else(pc.fill_null(pc.match_substring_regex(text, r"^\d{1,18}$"), False), text,
                      pa.scalar(None, S)).cast(pa.int64())  # fmt: skip


def json_fields(lines: pa.Array, offs: pa.Array, out: Decoded, source: str, fmt: str) -> dict[str, pa.Array] | None:
    """The syslog header columns of ``journalctl -o json`` lines (see the module docstring); lines
    that are not a journal entry go to ``out.dead``. None when no line is one."""
    raws: list[bytes] = lines.to_pylist()
    joined = b"[" + b",".join(raws) + b"]"
    try:  # the common document: every field a string, decoded and split into columns in C
        texts = _TEXT_ENTRIES.decode(joined)
    except (msgspec.DecodeError, msgspec.ValidationError):
        texts = None
    if texts is not None and len(texts) == len(raws) and texts:
        return _columns(lines, raws, dict(zip(_JSON_KEYS, zip(*map(astuple, texts), strict=True), strict=True)))
    try:  # one call for the whole document; a line holding more than one value breaks the count
        entries: list[Any] = _ENTRIES.decode(joined)
    except (msgspec.DecodeError, msgspec.ValidationError):
        entries = []
    if len(entries) != len(raws):  # some line is not one entry: each line alone
        entries, keep = [], []
        for i, raw in enumerate(raws):
            try:
                entries.append(_ENTRY.decode(raw))
                keep.append(i)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                out.dead.append(DeadLetter(f"not a journal JSON entry: {exc}", source, offs[i].as_py(), raws[i], fmt))
        raws = [raws[i] for i in keep]
        lines = lines.take(pa.array(keep, pa.int64()))
    if not entries:
        return None
    # the common plain string (or absent field) taken as it is, without a call per value
    return _columns(lines, raws, {k: [v if (v := getattr(e, k)) is None or type(v) is str else _text(v) for e in entries]
                                  for k in _JSON_KEYS})  # fmt: skip


def _columns(lines: pa.Array, raws: list[bytes], col: dict[str, Any]) -> dict[str, pa.Array]:
    """:func:`json_fields`' columns of the entries ``raws`` (``lines``), from each field's values ``col``."""
    n = len(raws)
    prio = _ints(col["prio"])
    sev = pc.if_else(pc.less_equal(prio, 7), prio, pa.scalar(None, pa.int64())).cast(pa.int32())
    fac = _ints(col["fac"])
    fac = pc.if_else(pc.less_equal(fac, 23), fac, pa.scalar(None, pa.int64())).cast(pa.int32())
    micros = pc.coalesce(_ints(col["src_us"]), _ints(col["rt_us"]))
    try:  # the entries as text: one cast where all are UTF-8 (JSON text is)
        text = lines.cast(S)
    except pa.ArrowInvalid:
        text = pa.array([r.decode("utf-8", "backslashreplace") for r in raws], S)
    nulls = pa.nulls(n, S)
    exe = pa.array(col["exe"], S)
    exe_name = group(pc.extract_regex(exe, r"(?P<v>[^/]+)$"), "v")
    exe = pc.if_else(pc.is_valid(exe_name), exe, nulls)  # a path naming no file ("", "/usr/bin/") is none: a File has a name
    trusted = {  # the entry's own fields placed in OCSF by :func:`place` (their keys: ``journal_`` and the OCSF path)
        "journal_actor.app_name": pc.coalesce(pa.array(col["unit"], S), pa.array(col["user_unit"], S)),
        "journal_actor.process.file.path": exe,
        "journal_actor.process.file.name": exe_name,
        "journal_actor.process.cmd_line": pa.array(col["cmdline"], S),
        "journal_actor.process.user.uid": pc.if_else(pc.is_valid(_ints(col["uid"])), pa.array(col["uid"], S), nulls),
        "journal_device.boot_uid": pa.array(col["boot"], S), "journal_device.os_machine_uuid": pa.array(col["machine"], S),
        "journal_metadata.logged_time": pc.divide(_ints(col["rt_us"]), 1000),
    }  # fmt: skip
    return trusted | {
        "lines": lines, "text": text, "host": pa.array(col["host"], S),
        "app": pc.coalesce(pa.array(col["ident"], S), pa.array(col["comm"], S)),
        "procid": pc.coalesce(pa.array(col["spid"], S), pa.array(col["pid"], S)), "msgid": pa.array(col["msgid"], S),
        "msg": pa.array(col["msg"], S), "times": pc.divide(micros, 1000), "sev": sev, "fac": fac, "sd": nulls,
        "fmt": pa.array(["journal JSON"] * n, S), "seq": nulls,
    }  # fmt: skip


def place(cols: dict[str, pa.Array], f: dict[str, pa.Array]) -> None:
    """Put a journal entry's own fields (the ``journal_`` columns of :func:`json_fields`) in their OCSF
    places (systemd.journal-fields(7) -> OCSF 1.8.0), where the entry has them: ``_SYSTEMD_UNIT`` (else
    ``_SYSTEMD_USER_UNIT``) ``actor.app_name`` (the service the process runs as: OCSF's app, "distinct from
    the process"); ``_EXE`` ``actor.process.file`` (path, name, Regular File); ``_CMDLINE``
    ``actor.process.cmd_line``; ``_UID`` ``actor.process.user.uid``; ``_BOOT_ID`` ``device.boot_uid`` (OCSF's
    example is that very id); ``_MACHINE_ID`` ``device.os_machine_uuid`` (``/etc/machine-id``);
    ``__REALTIME_TIMESTAMP`` (when journald received the entry) ``metadata.logged_time``, the entry's
    ``time`` being the sender's ``_SOURCE_REALTIME_TIMESTAMP`` where it has one. ``SYSLOG_IDENTIFIER``
    (else ``_COMM``), ``SYSLOG_PID`` (else ``_PID``) and ``_HOSTNAME`` are the syslog header's (the
    process name and pid, the device's hostname): ``_COMM`` (the kernel's name, cut to 15 characters)
    beside an identifier, and every other field, stay in ``raw_data``. A device named by its boot or
    machine id alone gets the required ``type_id`` (Unknown)."""
    for key, col in f.items():
        if key.startswith("journal_") and col.null_count < len(col):
            cols[key[8:]] = col
    if "journal_actor.process.file.path" in f and "actor.process.file.path" in cols:
        cols["actor.process.file.type_id"] = pc.if_else(pc.is_valid(cols["actor.process.file.name"]),
                                                        pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32()))  # fmt: skip
    if "device.boot_uid" in cols or "device.os_machine_uuid" in cols:
        named = pc.or_kleene(pc.is_valid(cols.get("device.boot_uid", pa.nulls(len(f["lines"]), S))),
                             pc.is_valid(cols.get("device.os_machine_uuid", pa.nulls(len(f["lines"]), S))))
        cols["device.type_id"] = pc.coalesce(cols["device.type_id"], pc.if_else(named, pa.scalar(0, pa.int32()),
                                                                                  pa.scalar(None, pa.int32())))
        cols["device.type"] = pc.if_else(pc.is_valid(cols["device.type_id"]), pc.coalesce(cols["device.type"], "Unknown"),
                                         pa.scalar(None, S))  # fmt: skip
