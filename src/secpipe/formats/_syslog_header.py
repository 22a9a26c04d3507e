"""The syslog header grammars and their times (see :mod:`.syslog` for what each reads).

RFC 5424 (HEADER, STRUCTURED-DATA, MSG), RFC 3164 with and without a TAG, Cisco's headers, Meraki's,
bare CEF/LEEF and the fallbacks, as RE2 patterns the columnar path runs with ``extract_regex``; the
STRUCTURED-DATA of a distinct SD string as JSON; BSD, RFC 3339, Cisco-zoned, CEF/LEEF payload and
Kiwi relay stamps to epoch ms (a BSD stamp without a year dated by the receipt clock :data:`_clock`
or a reference time, at most a day ahead).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import time
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _journal
from secpipe.formats._syslog_common import _I32, _I64, S, _nil_empty, _number
from secpipe.formats._text import group
from secpipe.formats.base import (
    parse_times,
)

#: RFC 5424 HEADER + SD + MSG. The field length limits of section 6 (HOSTNAME 255, APP-NAME 48,
#: PROCID 128, MSGID 32 characters) are checked after the match (:data:`_R5424_LIMITS`), not by
#: counted repetitions in the pattern: ``\S{1,255} `` expands to hundreds of RE2 instructions,
#: which pushed every matching line onto RE2's slow NFA (10 us a line, a third of the format's
#: decode). ``\S+ `` followed by a space matches exactly where ``\S{1,N} `` does when the field
#: has at most N characters (``\S`` cannot take the space), so the two checks are equivalent.
#: After the MSGID, no valid STRUCTURED-DATA (a parameter value with an unescaped ``"`` or ``]``, or
#: unquoted, or a SP after ``=``; no SP after the last element; no SD at all, not even the NILVALUE):
#: the header is still read and the rest (``unsd``) kept whole as the MSG, the fault named in
#: ``unmapped.structured_data_error`` (the alternative costs the valid lines nothing).
_R5424 = (
    r"(?s)^(?:<(?P<pri>\d{1,3})>)?(?P<ver>[1-9]\d{0,2}) (?P<ts>-|\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) "
    r"(?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+)(?: (?:"
    r"(?P<sd>-|(?:\[[^\]\s=\"]+(?: [^\]\s=\"]+=\"(?:[^\"\\]|\\.)*\")*\])+)(?: (?P<msg>.*))?|(?P<unsd>.*)))?$"
)
_R5424_LIMITS = {"host": 255, "app": 48, "procid": 128, "msgid": 32}
_SD_BROKEN = "STRUCTURED-DATA not as RFC 5424 section 6.3 writes it: kept in the message"
_SD_MISSING = "no STRUCTURED-DATA (RFC 5424 section 6.3: '-' or SD-ELEMENTs after the MSGID)"
#: BSD timestamp: ``Mmm dd hh:mm:ss``, optionally with fractional seconds (syslog-ng
#: ``frac-digits``, Cisco ``msec``) and a year before the month or after the day (Cisco/ASA
#: ``year``, NX-OS).
_BSD_TS = rf"(?:\d{{4}} )?{_journal.MONTH} +\d{{1,2}}(?: \d{{4}})? \d\d:\d\d:\d\d(?:\.\d{{1,9}})?"
#: HOSTNAME: a name or IPv4 address, or an IPv6 address (rsyslog writes the peer's address when
#: it has no name).
_HOST = r"[^\s:\[\],]+|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*[0-9A-Fa-f]"  # no comma: no host name or address has one
#: an RFC 3339 stamp, or macOS's unified log as ``log show|stream --style syslog`` prints it (a space for
#: the ``T``, the zone's offset always there: ``2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: ...``)
_ISO_TS = r"\d{4}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?| \d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:?\d\d)"
_R3164 = (
    rf"(?s)^(?:<(?P<pri>\d{{1,3}})> ?)?(?P<ts>{_BSD_TS}|{_ISO_TS}|{_journal.FULL_TS}|{_journal.UNIX_TS}|{_journal.MONO_TS}):? +"
    rf"(?:(?P<host>{_HOST}) )?(?P<tag>[^\s:\[\]]{{1,64}})(?:\[(?P<pid>[^\]\s]*)\](?:: ?| )|: ?)(?P<msg>.*)$"
)
#: :data:`_R3164` up to the MSG, the header captured whole as ``_head`` (the MSG is then the
#: rest of the line: :func:`~secpipe.formats._text.with_rest`, half the cost of capturing it).
#: The same matches and groups: ``(?P<msg>.*)$`` takes any rest, so it never changes which
#: header the leftmost-first match picks.
_R3164_HEAD = _R3164.replace("(?s)^", "(?s)^(?P<_head>", 1).replace("(?P<msg>.*)$", ")", 1)
#: RFC 3164 without a TAG: the timestamp (BSD or RFC 3339), then HOSTNAME and MSG, each of which may
#: be missing at the end of the line (rsyslog's ``weird.parse1`` cases: ``<14>Aug 30 23:00:05 X4711``,
#: ``<14>2010-08-30T23:00:05Z``); the header still gives the time and host.
_R3164_NOTAG = (
    rf"(?s)^(?:<(?P<pri>\d{{1,3}})> ?)?(?P<ts>{_BSD_TS}|{_ISO_TS}):?"
    rf"(?: (?P<host>{_HOST})?(?: (?P<msg>.*))?)?$"
)
#: RFC 3164 without a HOSTNAME whose MSG opens with a CSV record (a PAN-OS log a relay sent on
#: without the device's name: ``<14>Apr  8 01:47:32 1,2012/04/08 01:47:32,0016...,THREAT,...``): the
#: first word holds a comma, so it is no HOSTNAME (nor a TAG: no ``[PID]`` or colon follows)
_R3164_CSV = rf"(?s)^(?:<(?P<pri>\d{{1,3}})> ?)?(?P<ts>{_BSD_TS}|{_ISO_TS}):? (?P<msg>[^\s,]*,.*)$"
#: Cisco IOS / IOS XE / NX-OS / ASA messages: ``[count: ][seq: ][host[:] ][seq: ][*|.]timestamp[ TZ]: %FAC-SEV-MNEMONIC: text``,
#: optionally behind a BSD header added by a relay (``Mmm dd hh:mm:ss host[ host:]``) or the ASA device id
#: (``timestamp host : %ASA-...``); the timestamp is absent without ``service timestamps``, or the
#: uptime (``service timestamps log uptime``: ``1d02h``, ``2y10w``, ``00:01:23``); an empty sequence
#: number's colon may touch the stamp (``<166>:Oct 08 17:27:49 MSK: %ASA-auth-6-113015``). As
#: Elastic's Cisco IOS pipeline reads the headers its tests hold from real devices: a message count
#: before the relay's header (``<190>3132517: Jul 13 08:23:43 ...``), the ``logging origin-id``
#: host with or without a colon and a sequence number after it (``<182>: host-1: 115649616: Jan
#: 23 ...``; the host has a character other than a digit: ``3132517: 3132513:`` are two numbers,
#: the count and the sequence number), an IPv6 host, and a zone with an offset (``UTC+1``,
#: ``UTC+07:30``) or in lower case (``mdt``). A word in capitals right after a relay-or-ASA stamp
#: and before its colon is the stamp's zone (``Apr 15 2014 09:34:34 EDT: %ASA-...``), not a host.
#: An ASA / FTD with ``logging timestamp rfc5424`` stamps it in RFC 3339 (``2025-09-01T12:00:00Z firepower :
#: %FTD-6-430003: ...``, as Elastic's Cisco FTD pipeline test ``test-sgt.log`` holds it); with
#: ``logging device-id`` off, spaces and no device id follow the stamp (``2023-03-27T08:41:37Z   %FTD-1-430003:``).
#: IOS XR: the node before the stamp, the process after it, a space before the code's colon
#: (``RP/0/RP0/CPU0:Oct 7 07:19:43.630 UTC: ipv4_acl_mgr[310]: %ACL-IPV4_ACL-6-IPACCESSLOGP : ...``).
#: (a host has a character other than a digit, and does not open with ``*``: that is a WLC task's mark)
_CISCO_HOST = (r"[^\s:%<*\d][^\s:%<]*|\d[^\s:%<]*[^\s:%<\d][^\s:%<]*"
               r"|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4}|::[0-9A-Fa-f]{0,4}){1,7}")
_CISCO_TZ = r"[A-Za-z]{2,6}(?:[+-]\d{1,2}(?::\d\d)?)?"
_CISCO_UPTIME = r"\d{1,2}:\d\d:\d\d|\d+[ywd]\d+[wdh]"
#: an AireOS wireless controller's task, ``*`` and its name (``spamApTask0``, ``Dot1x_NW_MsgTask_0``,
#: ``CDP Main``, ``DHCP Socket Task``) before the stamp, as the controller writes every message:
#: ``*spamApTask1: May 26 18:52:01.958: %CAPWAP-4-DISC_INTF_ERR2: [PA]capwap_ac_sm.c:2053 ...``; its
#: code may open with ``#`` instead of ``%`` (``#APF-6-MOBILE_EXCLUDED``)
_WLC_TASK = r"[A-Za-z][\w.-]*(?: [A-Za-z][\w.-]*){0,3}"
_RCISCO = (
    r"(?s)^(?:<(?P<pri>\d{1,3})>)?(?:(?P<cnt>\d+): )?"
    rf"(?:(?P<ts0>{_BSD_TS}|{_ISO_TS}) +(?:(?P<tz0>[A-Z]{{2,6}}(?:[+-]\d{{1,2}}(?::\d\d)?)?): |(?P<host0>[^\s:%]+) ?:? )?)?"
    rf"(?:(?P<seq>\d+): |: ?)?(?:(?P<host>{_CISCO_HOST}):? )?(?:(?P<seq2>\d+): )?(?:\*(?P<task>{_WLC_TASK}): )?"
    rf"(?:(?P<node>[A-Z]{{2}}/\d+(?:/[A-Za-z0-9]+)+):)?(?:[*.]?(?P<ts>{_BSD_TS})(?: (?P<tz>{_CISCO_TZ}))?: |(?:{_CISCO_UPTIME}): )?"
    r"(?:(?P<proc>[A-Za-z][\w.-]*)\[(?P<pid>\d+)\]: )?[%#](?P<code>[A-Z][A-Z0-9_]*(?:-[A-Za-z0-9_]+)*-[0-7]-[A-Z0-9_]+) ?: ?(?P<msg>.*)$"
)
#: a Cisco message without a mnemonic (``NTP Core (NOTICE): Clock synchronization lost.``, ``last
#: message repeated 66 times``) behind the same header: ``<PRI>`` and a sequence number (maybe
#: empty) first, then a timestamp ending with a colon
_RCISCO_TEXT = (
    rf"(?s)^<(?P<pri>\d{{1,3}})>(?P<seq>\d*): (?:(?P<host>{_CISCO_HOST}):? )?(?:(?P<seq2>\d+): )?"
    rf"[*.]?(?P<ts>{_BSD_TS})(?: (?P<tz>{_CISCO_TZ}))?: (?P<msg>.*)$"
)
#: CEF / LEEF written straight to a file or socket, without a syslog header.
_RBARE = r"(?s)^(?P<msg>(?:CEF: ?\d+|LEEF:[12]\.\d+)\|.*)$"
_PAYLOAD_TAGS = pa.array(["CEF", "LEEF"], S)
_RPRI = r"(?s)^<(?P<pri>\d{1,3})>(?P<msg>.*)$"
#: Cisco Meraki's syslog header (MX, MR, MS: ``<PRI>1 <epoch s.ns> <device name> <event type> ...``,
#: RFC 5424's VERSION but an epoch time and no APP-NAME/PROCID/MSGID/SD; the event type is
#: ``flows``, ``firewall``, ``urls``, ``ids-alerts``, ``events``, ``ip_flow_start`` ...)
_RMERAKI = r"(?s)^<(?P<pri>\d{1,3})>1 (?P<s>\d{9,10})\.(?P<f>\d{1,9}) (?P<host>\S+) (?P<type>[a-z][a-z0-9_-]*)(?: (?P<msg>.*))?$"
#: a line no header grammar takes: all of it is the MSG (RFC 3164 section 4.3.3), or, when it
#: opens with ``TAG[PID]: `` (a local program's line without the timestamp), the TAG and PID too
_RTAG = r"(?s)^(?P<tag>[\w./-]{1,48})\[(?P<pid>\d{1,10})\]: (?P<msg>.*)$"
_RTEXT = r"(?s)^(?P<msg>.*)$"
#: Solaris syslogd's message ID before the text (``sshd[20247]: [ID 800047 auth.notice] Failed none for root ...``:
#: ``[ID <msgid> <facility>.<level>]``, the ``log_msgid`` of syslog.conf's messages)
_SOLARIS_ID = r"(?s)^\[ID (?P<id>\d{1,10}) (?P<fac>[a-z0-9-]+)\.(?P<level>[a-z]+)\] (?P<rest>.*)$"
#: a Linux audit record as auditd writes ``/var/log/audit/audit.log`` (``log_format = RAW``/``ENRICHED``):
#: ``[node=<name> ]type=<TYPE> msg=audit(<epoch s>.<ms>:<serial>): <fields>``; the records of one
#: event share the ``audit(...)`` stamp (auditd's event id, as ausearch groups them).
_RAUDIT = (
    r"(?s)^(?:node=(?P<node>\S+) )?type=(?P<type>[A-Z][A-Z0-9_]*(?:\[\d{1,6}\])?) "
    r"msg=audit\((?P<id>(?P<sec>\d{1,12})\.(?P<frac>\d{1,9}):\d{1,20})\): ?(?P<msg>.*)$"
)
#: such a record as a syslog MSG, after a TAG the header grammars did not take (rsyslog's imfile
#: writes ``web audit type=...`` when its tag has no colon)
_RAUDIT_IN = (
    r"^(?:[\w.-]{1,48}:? )?(?:node=(?P<node>\S+) )?type=(?P<type>[A-Z][A-Z0-9_]*(?:\[\d{1,6}\])?) "
    r"msg=audit\((?P<id>(?P<sec>\d{1,12})\.(?P<frac>\d{1,9}):\d{1,20})\):"
)

_SEV_WORDS = pa.array(["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"], S)
_SEV_OCSF = pa.array([6, 5, 5, 4, 3, 2, 1, 1], _I32)
_FACILITIES = pa.array(
    ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
     "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
     "local6", "local7"], S,
)  # fmt: skip

_BOM = "\ufeff"

_SD_ELEM = re.compile(r'\[([^\]\s=\"]+)((?: [^\]\s=\"]+="(?:[^"\\]|\\.)*")*)\]')
_SD_PARAM = re.compile(r'([^\]\s=\"]+)="((?:[^"\\]|\\.)*)"')
_SD_UNESC = re.compile(r"\\([\"\\\]])")


def _origin_ip(sd: pa.Array) -> pa.Array:
    """The first ``ip`` of the RFC 5424 ``origin`` SD-ELEMENT (section 7.2.1), columnar."""
    if sd.null_count == len(sd) or not pc.any(pc.fill_null(pc.match_substring(sd, "[origin "), False)).as_py():
        return pa.nulls(len(sd), S)
    return group(pc.extract_regex(sd, r'\[origin (?:[^\]"]*"(?:[^"\\]|\\.)*" )*?ip="(?P<ip>[0-9A-Fa-f.:]+)"'), "ip")


def _sd_json(sd: pa.Array) -> pa.Array:
    """Structured data -> JSON ``{SD-ID: {name: value}}``, parsed once per distinct value."""
    enc = msgspec.json.encode
    dic = pc.dictionary_encode(sd)
    out: list[str | None] = []
    for text in dic.dictionary.to_pylist():
        if text is None or text == "-":
            out.append(None)
            continue
        doc: dict[str, dict[str, str | list[str]]] = {}
        for m in _SD_ELEM.finditer(text):
            params = doc.setdefault(m.group(1), {})
            for p in _SD_PARAM.finditer(m.group(2)):
                name, value = p.group(1), _SD_UNESC.sub(r"\1", p.group(2))
                if name not in params:
                    params[name] = value
                else:  # a repeated PARAM-NAME (RFC 5424 7.2.1: several origin ip) keeps every value
                    prev = params[name]
                    params[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
        out.append(enc(doc).decode())
    return pa.array(out, S).take(dic.indices)


#: a CEF date's ``zzz`` (ArcSight CEF, "Date Formats": ``MMM dd [yyyy ]HH:mm:ss[.SSS][ zzz]``) as an
#: offset: UTC/GMT, or a numeric one (``+0200``, ``GMT+02:00``). A named zone (``PST``, ``CEST``) is
#: ambiguous and not read: such a time stays unparsed (the receipt time is used, and labelled so).
_CEF_ZONE = r"^(?P<t>.*?) (?:(?P<utc>UTC|GMT|UT|Z)|(?:GMT|UTC)?(?P<sign>[+-])(?P<hh>\d\d):?(?P<mm>\d\d))$"


def _payload_times(text: pa.Array) -> pa.Array:
    """CEF ``rt``/``start`` and LEEF ``devTime``: epoch milliseconds, a BSD-style date
    (``MMM dd [yyyy ]HH:mm:ss[.SSS][ zzz]``) or ISO 8601."""
    if text.null_count == len(text):
        return pa.nulls(len(text), pa.int64())
    digits = pc.fill_null(pc.match_substring_regex(text, r"^\d{10,13}$"), False)
    epoch = pc.if_else(digits, text, pa.scalar(None, S)).cast(pa.int64())
    epoch = pc.if_else(pc.less(epoch, 10**11), pc.multiply(epoch, 1000), epoch)  # seconds -> ms
    dates = pc.if_else(digits, pa.scalar(None, S), text)
    zone = pc.extract_regex(dates, _CEF_ZONE)
    if zone.null_count == len(text):
        return pc.coalesce(epoch, _bsd_times(dates))
    sign = pc.if_else(pc.equal(group(zone, "sign"), "-"), -60_000, 60_000)
    minutes = pc.add(pc.multiply(group(zone, "hh").cast(pa.int64()), 60), group(zone, "mm").cast(pa.int64()))
    offset = pc.fill_null(pc.multiply(sign, minutes), 0)  # ms east of UTC; 0 for UTC/GMT
    local = _bsd_times(pc.coalesce(group(zone, "t"), dates))
    return pc.coalesce(epoch, pc.subtract(local, offset))


_BSD_PARTS = (
    rf"^(?:(?P<y1>\d{{4}}) )?(?P<mon>{_journal.MONTH}) +(?P<day>\d{{1,2}})(?: (?P<y2>\d{{4}}))? "
    r"(?P<hms>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,9}))?$"
)


#: the receipt clock a BSD timestamp without a year is read against (seconds since the epoch)
_clock = time.time


#: Kiwi Syslog's relay tag: a forwarded message gets ``Original Address=<sender>`` straight after its
#: ``<PRI>`` (Kiwi Syslog Daemon's help, "Source IP address": an IP address or a name), and Kiwi Syslog
#: NG puts its own RFC 5424 header without STRUCTURED-DATA after the tag (``1 <time> <relay> <app>
#: <procid> <msgid> ``, as Elastic's Cisco IOS pipeline test ``test-kiwi.log`` holds it); the message the
#: device sent follows.
_KIWI = (r"(?s)^(?P<pri><\d{1,3}>)(?i:original address)=(?P<address>[^\s=]+) "
         rf"(?:1 (?P<at>{_ISO_TS}) \S+ \S+ \S+ \S+ )?(?P<rest>.*)$")


def _kiwi(lines: pa.Array) -> tuple[pa.Array, dict[str, pa.Array] | None]:
    """The lines with a Kiwi relay's tag and header taken out (``<PRI>`` and the device's message
    stay), and per line the sender the tag names and the relay's time (ms); None where no line
    has the tag (a cheap substring test first)."""
    maybe = pc.match_substring(pc.binary_slice(lines.cast(pa.binary()), 0, 22), b"ddress=")  # in ``<PRI>Original Address=``
    if not pc.any(maybe).as_py():
        return lines, None
    found = pc.extract_regex(pc.if_else(maybe, lines, pa.scalar(None, S)), _KIWI)
    tagged = found.is_valid()
    if not pc.any(tagged).as_py():
        return lines, None
    stripped = pc.binary_join_element_wise(group(found, "pri"), group(found, "rest"), "")
    at = parse_times(_nil_empty(group(found, "at")))
    return pc.if_else(tagged, stripped, lines), {"address": group(found, "address"), "at": at.cast(_I64)}


def _bsd_times(ts: pa.Array, ref: pa.Array | None = None) -> pa.Array:
    """BSD ``Mmm dd hh:mm:ss[.frac]`` with an optional year (else inferred: the latest of the
    previous, current and next year that is at most a day ahead), taken as UTC; or RFC 3339
    -> int64 ms. ``ref``: each line's own reference time (ms), where a transport stamped it (a
    CloudWatch log event's ``timestamp``): the year is then the one that puts the line at most a
    day after it, not the receipt clock's (a replayed export of 2023 stays in 2023, and a
    ``Dec 31`` line stamped Jan 1 is the year before)."""
    n = len(ts)
    if ts.null_count == n:
        return pa.nulls(n, pa.int64())
    iso = pc.fill_null(pc.match_substring_regex(ts, r"^\d{4}-"), False)
    journal = pc.fill_null(pc.match_substring_regex(ts, _journal.STARTS), False)
    parts = pc.extract_regex(pc.if_else(pc.or_(iso, journal), pa.scalar(None, S), ts), _BSD_PARTS)
    day = pc.utf8_lpad(pc.struct_field(parts, "day"), 2, "0")
    mon = _journal.english_months(pc.struct_field(parts, "mon"))  # "nov", "NOV", "nov.", "Okt" -> "Nov", "Oct"
    rest = pc.binary_join_element_wise(mon, day, pc.struct_field(parts, "hms"), " ")
    given = group(parts, "y1")
    given = pc.coalesce(given, group(parts, "y2"))
    frac = group(parts, "frac")
    frac_ms = pc.utf8_slice_codeunits(pc.utf8_rpad(frac, 3, "0"), 0, 3).cast(pa.int64())

    def at(years: pa.Array | str) -> pa.Array:
        text = pc.binary_join_element_wise(years, rest, " ")
        return pc.strptime(text, format="%Y %b %d %H:%M:%S", unit="ms", error_is_null=True).cast(pa.int64())

    out = at(given)
    guess = pc.and_(pc.is_null(given), pc.is_valid(rest))
    if pc.any(guess).as_py():
        now_s = _clock()
        now = dt.datetime.fromtimestamp(now_s, dt.UTC)
        tomorrow = int((now_s + 86400) * 1000)
        # the latest year that does not put the line more than a day ahead: on Dec 31 a sender whose
        # clock runs ahead can already log Jan 1, which is then the next year (each line with a
        # reference time reads its year from that instead)
        for year in (now.year - 1, now.year, now.year + 1) if ref is None or ref.null_count else ():
            ms = at(str(year))
            out = pc.if_else(pc.fill_null(pc.and_(guess, pc.less_equal(ms, tomorrow)), False), ms, out)
        leap = pc.and_(guess, pc.fill_null(pc.starts_with(rest, "Feb 29"), False))
        if pc.any(leap).as_py():  # Feb 29 exists only in a leap year: the latest one not ahead
            year = next(y for y in range(now.year, now.year - 8, -1)
                        if calendar.isleap(y) and dt.datetime(y, 2, 29, tzinfo=dt.UTC) <= now + dt.timedelta(days=1))  # fmt: skip
            out = pc.if_else(leap, at(str(year)), out)
        if ref is not None and ref.null_count < n:
            out = _bsd_years_by(ref, guess, at, out)
    dd = pc.struct_field(parts, "day").cast(pa.int8())
    late = pc.fill_null(pc.greater_equal(dd, 29), False)
    if pc.any(late).as_py():  # strptime rolls Feb 29 of a common year (or Apr 31) into the next month
        rolled = pc.not_equal(pc.day(out.cast(pa.timestamp("ms"))).cast(pa.int8()), dd)
        out = pc.if_else(pc.fill_null(pc.and_(late, rolled), False), pa.scalar(None, pa.int64()), out)
    out = pc.if_else(pc.is_valid(frac_ms), pc.add(out, frac_ms), out)
    if pc.any(iso).as_py():
        out = pc.if_else(iso, parse_times(pc.if_else(iso, ts, pa.scalar(None, S))), out)
    if pc.any(journal).as_py():  # journalctl short-full / short-unix (short-monotonic: no wall time)
        out = pc.if_else(journal, _journal.times(pc.if_else(journal, ts, pa.scalar(None, S))), out)
    return out


def _bsd_years_by(ref: pa.Array, guess: pa.Array, at: Any, out: pa.Array) -> pa.Array:
    """``out`` where each yearless stamp (``guess``) with a reference time is read in the latest
    of the reference's previous, own and next year that puts it at most a day after the reference
    (``at``: years -> ms of the stamps in them)."""
    year = pc.year(ref.cast(pa.timestamp("ms", "UTC")))
    ahead = pc.add(ref, 86_400_000)
    for delta in (-1, 0, 1):
        ms = at(pc.add(year, delta).cast(S))
        out = pc.if_else(pc.fill_null(pc.and_(guess, pc.less_equal(ms, ahead)), False), ms, out)
    return out


def _yearless(ts3: pa.Array, times5: pa.Array) -> pa.Array:
    """Whether each line's time came from a BSD stamp without a year (``Mmm dd hh:mm:ss``, its
    year guessed: see :func:`_bsd_times`)."""
    bsd = pc.fill_null(pc.match_substring_regex(ts3, r"^\S+ +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?$"), False)
    return pc.and_(bsd, pc.is_null(times5))


def _zone_ms(zone: pa.Array) -> pa.Array:
    """UTC offsets (int64 ms) of Cisco stamps' zones: an abbreviation :mod:`._journal` knows (in any
    case: ``mdt``; another is taken as UTC) plus the offset written after it (``UTC+1``, ``UTC+07:30``)."""
    parts = pc.extract_regex(zone, r"^(?P<name>[A-Za-z]+)(?:(?P<sign>[+-])(?P<h>\d{1,2})(?::(?P<m>\d\d))?)?$")
    base = pc.fill_null(_journal.zone_offsets(pc.utf8_upper(group(parts, "name"))), 0)
    mins = pc.add(pc.multiply(_number(group(parts, "h"), _I64), 60), pc.fill_null(_number(group(parts, "m"), _I64), 0))
    signed = pc.if_else(pc.fill_null(pc.equal(group(parts, "sign"), "-"), False), pc.negate(mins), mins)
    return pc.add(base, pc.fill_null(pc.multiply(signed, 60_000), 0))


def _own_time(f: dict[str, pa.Array], own: pa.Array) -> pa.Array:
    """The lines' times given a payload's own time ``own`` (FortiOS ``eventtime``, CEF ``rt``,
    LEEF ``devTime``): where the header's time is a yearless BSD stamp, the payload's (it has the
    year and the zone the header lacks); else the header's, the payload's where the header gave none."""
    yearless = f.get("yearless")
    if yearless is None:
        return pc.coalesce(f["times"], own)
    return pc.coalesce(pc.if_else(yearless, own, pa.scalar(None, own.type)), f["times"], own)
