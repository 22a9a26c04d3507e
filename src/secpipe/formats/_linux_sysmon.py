"""Sysmon for Linux events (its XML ``<Event>`` in a syslog MSG), mapped to their OCSF classes.

Sysmon for Linux (microsoft/SysmonForLinux) writes each event to syslog (TAG ``sysmon``) as one line of the
Windows event XML: ``<Event><System><Provider Name="Linux-Sysmon" .../><EventID>1</EventID>...<TimeCreated
SystemTime="..."/>...<Computer>host</Computer>...</System><EventData><Data Name="UtcTime">...</Data>...``. The
``Data`` names are Sysmon's event schema's (the same as Windows Sysmon's); Sysmon writes ``-`` for no value
and escapes ``& < > " '`` as XML entities. By ``EventID`` (the events Sysmon for Linux logs):

- 1 ProcessCreate -> Process Activity (1007) Launch: ``Image`` (path; its base name the name),
  ``ProcessId``, ``ProcessGuid`` (uid), ``CommandLine``, ``CurrentDirectory`` (working directory), ``User``,
  ``Hashes`` (the image's fingerprints) the new ``process``; the ``Parent*`` ones its parent and the actor;
- 5 ProcessTerminate -> Process Activity Terminate: the process (``Image``, ``ProcessId``, ``ProcessGuid``,
  ``User``), also the actor (the event names no other);
- 3 NetworkConnect -> Network Activity (4001) Open: ``Source*`` / ``Destination*`` (ip, port, host name) the
  endpoints, ``Protocol`` (its IANA number for tcp/udp), ``Initiated`` the direction (true Outbound, false
  Inbound), the process (``Image``, ``ProcessId``, ``ProcessGuid``, ``User``) the actor;
- 11 FileCreate -> File System Activity (1001) Create, 23 FileDelete -> Delete, 9 RawAccessRead -> Read:
  ``TargetFilename`` (9: the ``Device``, a Block Device) the file (11: ``CreationUtcTime`` its creation time,
  23: ``Hashes``), the process and ``User`` the actor.

Other events (4 service state, 16 configuration change, 255 error) stay Base Events. ``UtcTime`` is the
time (else ``TimeCreated``), ``Computer`` the host where the syslog header has none, the event id
``metadata.event_code``, the product Sysmon for Linux (Microsoft), ``Level`` 4 Informational. The line
stays the ``raw_data`` (every ``Data`` value in it). The ``Data`` elements of the Sysmon lines are split out once and
read by name (:class:`_Data`); a batch without such a line pays a byte search.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats.base import parse_times

S = pa.string()
_I32 = pa.int32()
_MARK = 'Provider Name="Linux-Sysmon"'
#: event id -> (OCSF class, activity_id)
_EVENTS = {"1": ("process_activity", 1), "5": ("process_activity", 2), "3": ("network_activity", 1),
           "11": ("file_activity", 1), "23": ("file_activity", 4), "9": ("file_activity", 2)}  # fmt: skip
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&#39;", "'"), ("&amp;", "&"))
_NONE = pa.array(["", "-"], S)
#: Sysmon's ``Hashes`` algorithm names -> OCSF fingerprint algorithm_id
_ALGORITHMS = {"MD5": (1, "MD5"), "SHA1": (2, "SHA-1"), "SHA256": (3, "SHA-256"), "IMPHASH": (18, "Imphash")}
_FINGERPRINTS = pa.list_(pa.struct([("algorithm_id", _I32), ("algorithm", S), ("value", S)]))
_PROTOCOLS = pa.array(["icmp", "tcp", "udp", "icmpv6"], S)
_PROTOCOL_NUMS = pa.array([1, 6, 17, 58], _I32)


def _unescape(values: pa.Array) -> pa.Array:
    if not pc.any(pc.fill_null(pc.match_substring(values, "&"), False)).as_py():
        return values
    for entity, char in _ENTITIES:
        values = pc.replace_substring(values, entity, char)
    return values


def _text(values: pa.Array) -> pa.Array:
    """Sysmon's ``-`` and an empty value are no value."""
    return pc.if_else(pc.fill_null(pc.is_in(values, value_set=_NONE), True), pa.scalar(None, S), values)


class _Data:
    """The ``<Data Name=...>`` values of a batch of events, by name: the elements are split out of every
    line once (one split, one anchored regex over the short items), a name's column is then a take."""

    def __init__(self, msg: pa.Array) -> None:
        items = pc.split_pattern(msg, '<Data Name="')  # (the first item: the System part; a value holds no <)
        self.n = len(msg)
        self.rows = pc.list_parent_indices(items).to_numpy()
        pairs = pc.extract_regex(pc.list_flatten(items), r'^(?P<n>[^"]*)">(?P<v>[^<]*)</Data>')
        self.names = pc.struct_field(pairs, "n")
        self.values = _text(_unescape(pc.struct_field(pairs, "v")))
        self.memo: dict[str, pa.Array] = {}

    def __call__(self, name: str) -> pa.Array:
        """The ``name`` value of each event (unescaped), null where it has none (the first, if twice)."""
        col = self.memo.get(name)
        if col is None:
            at = np.flatnonzero(pc.fill_null(pc.equal(self.names, name), False).to_numpy(zero_copy_only=False))
            pos = np.full(self.n, -1, np.int64)
            pos[self.rows[at][::-1]] = at[::-1]
            col = self.memo[name] = self.values.take(pa.array(pos, mask=pos < 0))
        return col


def _system(msg: pa.Array, regex: str) -> pa.Array:
    return _text(_unescape(pc.struct_field(pc.extract_regex(msg, regex), "v")))


def _base(paths: pa.Array) -> pa.Array:
    """A path's last segment (``/usr/bin/bash`` -> ``bash``)."""
    return pc.replace_substring_regex(paths, r"^.*/", "")


def _utc(values: pa.Array) -> pa.Array:
    """Sysmon's ``2022-11-24 08:30:01.467`` (UTC) -> ms since the epoch."""
    return parse_times(pc.replace_substring_regex(values, r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$", r"\1T\2Z"))


def _typed(names: pa.Array, type_id: int) -> pa.Array:
    return pc.if_else(pc.is_valid(names), pa.scalar(type_id, _I32), pa.scalar(None, _I32))


def _hashes(values: pa.Array) -> pa.Array:
    """``SHA1=..,MD5=..,SHA256=..`` -> OCSF fingerprints (made once a distinct value)."""
    enc = pc.dictionary_encode(values)
    distinct = []
    for text in enc.dictionary.to_pylist():
        prints = []
        for part in (text or "").split(","):
            algo, eq, value = part.strip().partition("=")
            if eq and value:
                aid, caption = _ALGORITHMS.get(algo.upper(), (99, algo))
                prints.append({"algorithm_id": aid, "algorithm": caption, "value": value})
        distinct.append(prints or None)
    return pa.array(distinct, _FINGERPRINTS).take(enc.indices)


def _process(d: _Data, prefix: str, pre: str = "") -> dict[str, pa.Array]:
    """A process entity's columns under ``prefix`` from the ``{pre}Image`` ... names."""
    path = d(pre + "Image")
    name = _base(path)
    return {f"{prefix}.file.path": path, f"{prefix}.file.name": name, f"{prefix}.file.type_id": _typed(name, 1),
            f"{prefix}.name": name, f"{prefix}.pid": _pid(d(f"{pre}ProcessId")),
            f"{prefix}.uid": d(f"{pre}ProcessGuid"), f"{prefix}.user.name": d(f"{pre}User")}  # fmt: skip


def _pid(texts: pa.Array) -> pa.Array:
    ok = pc.fill_null(pc.match_substring_regex(texts, r"^\d{1,9}$"), False)
    return pc.if_else(ok, texts, pa.scalar(None, S)).cast(_I32)


def _launched(d: _Data) -> dict[str, pa.Array]:
    cols = _process(d, "process")
    parent = _process(d, "process.parent_process", "Parent")
    cols.update(parent)
    cols.update({k.replace("process.parent_process", "actor.process"): v for k, v in parent.items()})
    hashes = d("Hashes")
    cols.update({"process.cmd_line": d("CommandLine"), "process.working_directory": d("CurrentDirectory"),
                 "process.file.hashes": _hashes(hashes),
                 "process.parent_process.cmd_line": d("ParentCommandLine"),
                 "actor.process.cmd_line": d("ParentCommandLine")})  # fmt: skip
    return cols


def _terminated(d: _Data) -> dict[str, pa.Array]:
    cols = _process(d, "process")
    cols.update({k.replace("process.", "actor.process.", 1): v for k, v in cols.items()})
    return cols


def _connected(d: _Data) -> dict[str, pa.Array]:
    initiated = pc.utf8_lower(d("Initiated"))
    direction = pc.fill_null(pc.if_else(pc.equal(initiated, "true"), pa.scalar(2, _I32),
                                        pc.if_else(pc.equal(initiated, "false"), pa.scalar(1, _I32), pa.scalar(0, _I32))), 0)  # fmt: skip
    proto = pc.utf8_lower(d("Protocol"))
    cols = {k.replace("process.", "actor.process.", 1): v for k, v in _process(d, "process").items()}
    cols.update({
        "src_endpoint.ip": d("SourceIp"), "src_endpoint.port": _pid(d("SourcePort")),
        "src_endpoint.hostname": d("SourceHostname"),
        "dst_endpoint.ip": d("DestinationIp"), "dst_endpoint.port": _pid(d("DestinationPort")),
        "dst_endpoint.hostname": d("DestinationHostname"),
        "connection_info.protocol_name": proto,
        "connection_info.protocol_num": _PROTOCOL_NUMS.take(pc.index_in(proto, value_set=_PROTOCOLS)),
        "connection_info.direction_id": direction,
        "connection_info.direction": pc.take(pa.array(["Unknown", "Inbound", "Outbound"], S), direction),
    })  # fmt: skip
    return cols


def _filed(d: _Data, eid: pa.Array) -> dict[str, pa.Array]:
    raw = pc.fill_null(pc.equal(eid, "9"), False)
    path = pc.coalesce(d("TargetFilename"), d("Device"))
    name = _base(path)
    cols = {k.replace("process.", "actor.process.", 1): v for k, v in _process(d, "process").items()}
    cols.update({
        "actor.user.name": cols["actor.process.user.name"],
        "file.path": path, "file.name": name,
        "file.type_id": pc.if_else(raw, _typed(name, 4), _typed(name, 1)),
        "file.type": pc.if_else(pc.is_valid(name), pc.if_else(raw, "Block Device", "Regular File"), pa.scalar(None, S)),
        "file.created_time": _utc(d("CreationUtcTime")),
        "file.hashes": _hashes(d("Hashes")),
    })  # fmt: skip
    return cols


def events(msg: pa.Array) -> list[tuple[str, pa.Array, dict[str, pa.Array]]]:
    """[(OCSF class, the lines of that class, their columns with ``_activity``, ``_severity``, ``_time`` and
    ``_host``)] for the lines whose MSG is a Sysmon for Linux event of the ids the module docstring maps."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b"Linux-Sysmon",)):
        return []
    cand = pc.fill_null(pc.and_(pc.starts_with(msg, "<Event"), pc.match_substring(msg, _MARK)), False)
    idx = pc.indices_nonzero(cand)
    if not len(idx):
        return []
    sub = msg.take(idx)
    eid = _system(sub, r"<EventID(?: [^>]*)?>(?P<v>\d+)</EventID>")
    out = []
    for cls in ("process_activity", "network_activity", "file_activity"):
        ids = [k for k, v in _EVENTS.items() if v[0] == cls]
        mine = pc.fill_null(pc.is_in(eid, value_set=pa.array(ids, S)), False)
        if not pc.any(mine).as_py():
            continue
        m, e = sub.filter(mine), eid.filter(mine)
        mask = np.zeros(len(msg), bool)
        mask[idx.filter(mine).to_numpy()] = True
        n = len(m)
        activity = pa.array([_EVENTS[x][1] for x in e.to_pylist()], _I32)
        d = _Data(m)
        own = pc.coalesce(_utc(d("UtcTime")), parse_times(_system(m, r'<TimeCreated SystemTime="(?P<v>[^"]*)"')))
        cols = {
            "_activity": activity, "_severity": pa.array(np.ones(n, np.int32)), "_time": own,
            "_host": _system(m, r"<Computer>(?P<v>[^<]*)</Computer>"), "metadata.event_code": e,
            "metadata.product.name": pa.array(["Sysmon for Linux"] * n, S),
            "metadata.product.vendor_name": pa.array(["Microsoft"] * n, S),
            "metadata.log_provider": pa.array(["Linux-Sysmon"] * n, S),
        }  # fmt: skip
        cols.update(_processes(d, e) if cls == "process_activity" else _connected(d) if cls == "network_activity"
                    else _filed(d, e))  # fmt: skip
        out.append((cls, pa.array(mask), cols))
    return out


def _processes(d: _Data, eid: pa.Array) -> dict[str, pa.Array]:
    """Process Activity columns of a batch of launches and terminations (each event its own)."""
    launched, ended = _launched(d), _terminated(d)
    is_launch = pc.equal(eid, "1")
    return {k: pc.if_else(is_launch, v, ended[k]) if k in ended else
            pc.if_else(is_launch, v, pa.scalar(None, v.type)) for k, v in launched.items()}


__all__ = ["events"]
