"""Falco alerts in syslog messages, read as the alerts: the JSON alert (Falco's ``syslog_output`` with
``json_output``, Falcosidekick's syslog output in its default ``json`` format) and Falcosidekick's CEF output.

A MSG that is a JSON object with Falco's alert keys (a ``rule`` string with a ``priority`` or an ``output``, what
:mod:`.falco` requires) is the alert itself, mapped as a file of Falco's JSON lines is (an alert without a
``hostname``, as Falco wrote them before 0.32, takes the syslog header's host).

Falcosidekick (``outputs/syslog.go``, ``SyslogPost``) writes each alert it forwards as one syslog message
(Go's ``log/syslog``: ``<PRI>RFC3339-time host tag[pid]: MSG``) whose MSG is::

    CEF:0|Falcosecurity|Falco|1.0|Falco Event|<rule>|<severity>|uuid=<uuid> start=<RFC 3339 time>
    msg=<output> source=<source>[ hostname=<hostname>] outputfields=<field>:<value> ...[ tags=<t1>,<t2>]

(one line). Its values are written as they are, not CEF-escaped, and ``msg`` is Falco's output text, which
itself holds ``key=value`` pairs (``user=root command=bash``): read by CEF's extension rule, the output would
be cut into made-up keys. So these messages are read by the layout Falcosidekick writes, key by key in its
order. The severity is its ``getCEFSeverity`` of the priority (Debug 0, Informational 3, Notice 4, Warning 6,
Error 7, Critical 8, Alert 9, Emergency 10), read back to the priority. ``outputfields`` is the alert's
``output_fields`` map, each entry ``key:value`` and a space, in Go's map order; a value may hold spaces, so
an entry starts where a Falco field name (``class.field``, ``proc.aname[2]``) and its colon follow a space.
Go's ``%v`` prints a JSON number as a float64 (``1.234567e+06`` for a pid of 1234567): such a value is read
back as the number it is.

Each alert is then the Falco alert JSON (:mod:`.falco`) it came from and is mapped as Falco's own: Detection
Finding (2004), the rule, priority -> severity, the output, the output fields as evidence; the syslog line is
its ``raw_data``. A message of another shape stays the CEF event syslog reads (nothing invented). The host is
the alert's ``hostname``, else the syslog header's.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats.base import DeadLetter, Decoded

S = pa.string()

_PREFIX = "CEF:0|Falcosecurity|Falco|"
_LINE = re.compile(
    r"^CEF:0\|Falcosecurity\|Falco\|[^|]*\|Falco Event\|(?P<rule>.+)\|(?P<sev>[^|]*)\|uuid=(?P<uuid>\S*) "
    r"start=(?P<start>\S*) msg=(?P<msg>.*?) source=(?P<source>\S*)(?: hostname=(?P<host>\S*))? "
    r"outputfields=(?P<fields>.*?)(?:(?:^| |(?<==))tags=(?P<tags>\S*))?$",
    re.S,
)
#: Falcosidekick's ``getCEFSeverity``, read back: CEF severity -> Falco priority
_PRIORITIES = {"0": "Debug", "3": "Informational", "4": "Notice", "6": "Warning", "7": "Error", "8": "Critical",
               "9": "Alert", "10": "Emergency"}  # fmt: skip
#: where an output field starts: a Falco field name (class.field, with an optional [arg]) and its colon
_FIELD = re.compile(r"(?:^|(?<= ))([A-Za-z_][\w-]*(?:\.[\w-]+)+(?:\[[^\]\s]*\])?):")
#: a number as Go's ``%v`` prints a float64
_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:e[+-]\d+)?$")


def _value(text: str) -> object:
    if _NUMBER.match(text):
        f = float(text)
        return int(f) if f.is_integer() and abs(f) < 2**63 else f
    return text


def _fields(text: str) -> dict[str, object]:
    """The ``outputfields`` entries: ``key:value`` separated by spaces (the first key whatever its name)."""
    text = text.strip(" ")
    if not text:
        return {}
    starts = [(m.start(), m.end(), m.group(1)) for m in _FIELD.finditer(text)]
    if not starts or starts[0][0] != 0:  # the first entry: its key up to its colon
        key, colon, _ = text.partition(":")
        if not colon:
            return {}
        starts.insert(0, (0, len(key) + 1, key))
    out: dict[str, object] = {}
    for (_, end, key), nxt in zip(starts, [s[0] for s in starts[1:]] + [len(text) + 1], strict=True):
        out[key] = _value(text[end : nxt - 1])
    return out


def _alert(m: re.Match[str], host: str | None) -> bytes:
    """The Falco alert JSON of a Falcosidekick CEF message."""
    doc: dict[str, object] = {"uuid": m["uuid"] or None, "time": m["start"] or None, "rule": m["rule"],
                              "priority": _PRIORITIES.get(m["sev"].strip()), "output": m["msg"],
                              "source": m["source"] or None, "hostname": m["host"] or host,
                              "output_fields": _fields(m["fields"])}  # fmt: skip
    if m["tags"]:
        doc["tags"] = m["tags"].split(",")
    return msgspec.json.encode({k: v for k, v in doc.items() if v is not None})


def take(fields: dict[str, pa.Array], out: Decoded) -> dict[str, pa.Array] | None:
    """Map the Falco alerts (JSON, Falcosidekick CEF) among a syslog batch's lines (``fields``: its columns, ``msg``,
    ``text``, ``host`` read) into ``out``; the columns of the other lines, None where none is left. A batch
    without such a MSG pays one prefix test of the column."""
    found = _alerts(fields["msg"], fields["text"], fields["host"])
    if found is None:
        return fields
    hit, batches, dead = found
    out.batches.extend(batches)
    out.dead.extend(dead)
    rest = pc.invert(hit)
    return {k: v.filter(rest) for k, v in fields.items()} if pc.any(rest).as_py() else None


class _Probe(msgspec.Struct, gc=False):
    """The keys that make a JSON object a Falco alert (``falco.Falco.is_valid``)."""

    rule: Any = None
    priority: Any = None
    output: Any = None


_PROBE = msgspec.json.Decoder(_Probe)


def _json_alert(text: str) -> bytes | None:
    """A MSG that is Falco's JSON alert, as its bytes; None for any other JSON (or none)."""
    try:
        p = _PROBE.decode(text)
    except msgspec.DecodeError:
        return None
    ok = isinstance(p.rule, str) and p.rule and (isinstance(p.priority, str) or isinstance(p.output, str))
    return text.encode() if ok else None


def _alerts(msg: pa.Array, text: pa.Array, host: pa.Array) -> tuple[pa.Array, list[pa.RecordBatch], list[DeadLetter]] | None:
    """(the lines that are Falco alerts, their Falco batches, dead letters) of a syslog batch's MSG column,
    or None where no MSG is one."""
    data = msg.buffers()[2]
    if data is None or not _fast.contains_any(data, (b"Falco", b'"rule"')):  # (one SIMD search a batch)
        return None
    cef = pc.fill_null(pc.starts_with(msg, _PREFIX), False)
    js = pc.fill_null(pc.and_(pc.starts_with(msg, "{"), pc.match_substring(msg, '"rule"')), False)
    cand = pc.or_(cef, js)
    if not pc.any(cand).as_py():
        return None
    from secpipe.formats.falco import Falco  # (falco imports the finding helpers: only where an alert came)

    idx = pc.indices_nonzero(cand)
    hit = [False] * len(msg)
    docs: list[bytes] = []
    lines: dict[str, str] = {}
    for i, m_text, line, h in zip(idx.to_pylist(), msg.take(idx).to_pylist(), text.take(idx).to_pylist(),
                                  host.take(idx).to_pylist(), strict=True):  # fmt: skip
        if m_text[:1] == "{":
            doc = _json_alert(m_text.rstrip())
            if doc is not None and h and b'"hostname"' not in doc and doc.endswith(b"}"):  # (Falco before 0.32 wrote
                doc = doc[:-1] + b',"hostname":' + msgspec.json.encode(h) + b"}"  # none: the syslog header's host)
        else:
            m = _LINE.match(m_text)
            doc = None if m is None else _alert(m, h)
        if doc is None:  # another shape: the event syslog reads
            continue
        hit[i] = True
        docs.append(doc)
        lines[doc.decode()] = line
    if not docs:
        return None
    dec = Falco().decode(b"\n".join(docs), "syslog: Falco alerts")
    for dl in dec.dead:  # (an alert Falco's mapping refuses: its line, as it came)
        dl.raw = lines.get(dl.raw.decode(), dl.raw.decode()).encode()
    batches = []
    for b in dec.batches:  # the syslog line as the alert's raw_data
        at = b.schema.get_field_index("raw_data")
        if at >= 0:
            raws = pa.array([lines.get(r, r) for r in b.column(at).to_pylist()], b.schema.field(at).type)
            b = b.set_column(at, b.schema.field(at), raws)
        batches.append(b)
    return pa.array(hit), batches, dec.dead


__all__ = ["take"]
