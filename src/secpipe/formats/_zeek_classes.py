"""Zeek's logs as their OCSF classes: the records the ``json`` format keeps, by the log they come from.

Zeek writes one log per protocol analyzer; its JSON writer (and :mod:`.zeek_tsv`, which reads
the ASCII writer's rows as those JSON records) names the log ``_path`` where the sensor writes
it (Corelight, Security Onion, the TSV header's ``#path``), else the log is told by the keys
only its record has (``conn_state``, ``qtype_name``, ``method`` and ``uri``...). The OCSF
classes follow the OCSF project's own Zeek mappings (github.com/ocsf/examples,
``mappings/markdown/Zeek``) for OCSF 1.8.0:

- ``conn`` -> Network Activity (4001): activity by ``conn_state`` (SF, RSTO, RSTR, RSTRH, SH,
  SHR Close; S0 Fail; REJ Refuse; any other Traffic), ``status_code`` the state itself,
  ``connection_info.flag_history`` the ``history`` letters, ``community_uid`` the Community ID,
  ``app_protocol_name`` the ``service``, ``duration`` (ms), ``start_time`` / ``end_time``,
  ``traffic`` (bytes and packets each way: the originator's out, the responder's in; their sums;
  ``missed_bytes``), the endpoints' MAC (``orig_l2_addr``, ``resp_l2_addr``) and, as Corelight sensors log
  them, country (``orig_cc``, ``resp_cc``);
- ``dns`` -> DNS Activity (4003): Traffic where a response was seen (``rcode``), else Query;
  ``query`` (hostname, type, class, the transaction id as ``packet_uid``), ``rcode_id`` (the
  DNS RCODE; one OCSF has no id for is 99 Other with Zeek's name), ``answers[]`` (``rdata``
  with its ``TTLs`` entry as ``ttl``), ``query_time``, ``response_time`` (``ts`` + ``rtt``);
- ``http`` -> HTTP Activity (4002): activity by method (another is Other), ``http_request``
  (method, user agent, referrer, version, body length; the URL: ``host``, the responder's port,
  the ``uri``'s path and query, and the whole URL as Zeek's ``HTTP::build_url_http`` writes it,
  ``http://host[:port]uri``, or the ``uri`` itself where it is absolute, a proxy's request),
  ``http_response`` (``status_code``, ``status_msg``, body length);
- ``ssl`` -> Network Activity (4001) with ``tls`` (OCSF has no TLS class; its Zeek mapping
  puts ssl.log there): Traffic where ``established``, Fail where the handshake was aborted;
  where the server chose a ``version`` (tls's required attribute): version, cipher, ``sni``
  (``server_name``), the server certificate's subject, issuer and the fingerprint
  ``cert_chain_fps`` lists first (SHA-1 or SHA-256 by its length), JA3 / JA3S; the SNI also as
  ``dst_endpoint.hostname`` (the name the client asked for, also of a hello left unanswered);
- ``ssh`` -> SSH Activity (4007): Open where ``auth_success``, Fail where authentication
  failed, else Traffic; ``status_id`` Success / Failure, ``protocol_ver``, the HASSH
  fingerprints, ``direction`` (INBOUND / OUTBOUND);
- ``notice`` -> Detection Finding (2004), Create: the ``note`` as title and analytic, ``msg``
  as description, the addresses it names (``src`` / ``dst`` / ``p``, else the connection's) as
  the evidence's endpoints;
- ``kerberos`` -> Authentication (3002), protocol Kerberos: AS requests Authentication Ticket, TGS
  requests Service Ticket Request; the client principal (``name/REALM``) as ``user.name`` and
  ``user.domain``, the service principal as ``service.name``, ``success`` as ``status_id``,
  ``error_msg`` as ``status_detail``;
- ``ftp`` -> FTP Activity (4008): activity by command (STOR/STOU/APPE Put, RETR Get, MLST Poll,
  DELE/RMD Delete, RNFR/RNTO Rename, LIST/NLST/MLSD List, another Other), ``command``, the reply
  (``codes``, ``status_code``, ``status_detail``), the file a transfer names (``arg``, its size and
  MIME type), the data channel's ``port``. The password Zeek logs stays in ``unmapped`` only;
- ``rdp`` -> RDP Activity (4005), Traffic: the client's name (``client_name``), the cookie the client
  sent (``mstshash=``, the user name it logs on with) as ``user.name``, ``auth_success`` as
  ``status_id``, ``result`` as ``status_detail``, ``security_protocol`` as ``protocol_ver``;
- ``dhcp`` -> DHCP Activity (4004): the activity of the exchange's last message (``msg_types``), the
  client (``client_addr``, ``mac``, ``host_name``, ``client_fqdn``) and the server as the endpoints,
  ``lease_time`` as ``lease_dur`` (a row names its connections by ``uids``: no ``connection_info``).

The rows of a log with a connection (all but notice, whose addresses are its evidence's, and
dhcp) have its endpoints (``id.orig_h`` / ``id.orig_p`` -> ``src_endpoint``, ``id.resp_h`` /
``id.resp_p`` -> ``dst_endpoint``; a row naming neither stays a Base Event) and, but in
Authentication (kerberos), ``connection_info``:
``uid`` (Zeek's connection uid, which ties a connection's conn, dns, http... rows together;
``metadata.uid`` stays secpipe's event identity), ``protocol_name`` / ``protocol_num``
(``proto``), ``protocol_ver_id`` (IPv4 or IPv6, by the address), ``direction_id`` (by
``local_orig`` / ``local_resp``, Unknown where they are unset). ``device.hostname`` is the
sensor (``_system_name``), never a record's ``host`` (http.log's is the web server's name).
The whole record stays in ``unmapped`` (SigmaHQ's ``product: zeek`` rules read its fields
there) and ``raw_data``. smb_files, smb_mapping, dce_rpc, files, ntlm, smtp, x509, weird, intel, tunnel, ntp,
radius, signature, smb_cmd, software, known_hosts/services/certs and the application protocols OCSF has no class of
(sip, snmp, mysql...), dpd and analyzer are :mod:`._zeek_more`'s; other logs (pe, ocsp, stats...) stay Base Events. A writer that
nests Zeek's records (VAST, Tenzir: ``"id": {"orig_h": ...}``, x509's ``"certificate": {...}``) is read as
Zeek's dotted names.

Columnar: the records of one log become one Arrow struct column in one conversion
(``pa.array`` over their dicts, the fields a class reads typed as Zeek's JSON writer writes
them); everything else is Arrow kernels over that batch. A log whose records do not all
convert (a custom writer's port as text) is converted record by record: a record that does
not stays a Base Event, whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _zeek_kernels as zk
from secpipe.formats import _zeek_more as _more
from secpipe.formats._findings import singleton_list
from secpipe.formats._zeek_kernels import F64, I32, I64, B, S, endpoints_evidence, hex_fingerprints
from secpipe.formats.base import UNREADABLE, Decoded, base_columns, json_value, parse_times, to_batch
from secpipe.schema.ocsf import enum_captions

_f, _where, _ms, _by, _true_false, _status, _fingerprint = (zk.field, zk.where, zk.ms, zk.by, zk.true_false, zk.status,
                                                       zk.fingerprint)

#: the fields of every log with a connection (``conn_id`` and the connection's uid)
_CONN_ID = [("_system_name", S), ("uid", S), ("id.orig_h", S), ("id.orig_p", I64), ("id.resp_h", S),
            ("id.resp_p", I64), ("proto", S), ("local_orig", B), ("local_resp", B)]  # fmt: skip
#: log -> the fields its class reads, as Zeek's JSON writer types them (``port``/``count`` integers,
#: ``interval`` numbers, ``vector[T]`` lists)
_FIELDS: dict[str, list[tuple[str, pa.DataType]]] = {
    "conn": [("service", S), ("duration", F64), ("orig_bytes", I64), ("resp_bytes", I64), ("conn_state", S),
             ("missed_bytes", I64), ("history", S), ("orig_pkts", I64), ("resp_pkts", I64), ("community_id", S),
             ("orig_l2_addr", S), ("resp_l2_addr", S), ("orig_cc", S), ("resp_cc", S)],
    "dns": [("trans_id", I64), ("rtt", F64), ("query", S), ("qclass_name", S), ("qtype_name", S), ("rcode", I64),
            ("rcode_name", S), ("answers", pa.list_(S)), ("TTLs", pa.list_(F64))],
    "http": [("method", S), ("host", S), ("uri", S), ("referrer", S), ("version", S), ("user_agent", S),
             ("request_body_len", I64), ("response_body_len", I64), ("status_code", I64), ("status_msg", S)],
    "ssl": [("version", S), ("cipher", S), ("server_name", S), ("established", B), ("subject", S), ("issuer", S),
            ("issuer_subject", S), ("cert_hash", S),
            ("cert_chain_fps", pa.list_(S)), ("ja3", S), ("ja3s", S)],
    "ssh": [("version", I64), ("auth_success", B), ("direction", S), ("hassh", S), ("hasshServer", S)],
    "notice": [("note", S), ("msg", S), ("sub", S), ("src", S), ("dst", S), ("p", I64)],
    "kerberos": [("request_type", S), ("client", S), ("service", S), ("success", B), ("error_msg", S)],
    "ftp": [("command", S), ("arg", S), ("mime_type", S), ("file_size", I64), ("reply_code", I64), ("reply_msg", S),
            ("data_channel.resp_p", I64)],
    "rdp": [("cookie", S), ("result", S), ("security_protocol", S), ("client_name", S), ("auth_success", B)],
    "dhcp": [("client_addr", S), ("server_addr", S), ("client_port", I64), ("server_port", I64), ("mac", S),
             ("host_name", S), ("client_fqdn", S), ("domain", S), ("lease_time", F64), ("msg_types", pa.list_(S)),
             ("assigned_ip", S)],
    **_more.FIELDS,
}  # fmt: skip
_TYPES = {log: pa.struct([pa.field(k, t) for k, t in _CONN_ID + fields]) for log, fields in _FIELDS.items()}
#: log -> its OCSF class
CLASSES = {"conn": "network_activity", "dns": "dns_activity", "http": "http_activity", "ssl": "network_activity",
           "ssh": "ssh_activity", "notice": "detection_finding", "kerberos": "authentication", "ftp": "ftp_activity",
           "rdp": "rdp_activity", "dhcp": "dhcp_activity", **_more.CLASSES}  # fmt: skip
#: log -> its ``time`` fields besides ``ts`` a mapping reads (:func:`_timed`): ssl.log's certificate validity before
#: Bro 2.3 (which moved it to x509.log), and :data:`._zeek_more.TIMES`
_TIMES = {"ssl": ("not_valid_before", "not_valid_after"), **_more.TIMES}
#: a log's name as sensors write ``_path``: Zeek's own, Corelight's reduced logs (``conn_red``); notice_alarm.log
#: holds the notices with Notice::ACTION_ALARM, Notice::Info records as notice.log's; the interim records of
#: connections still open, Conn::Info (SSL::Info, HTTP::Info) as their log's: corelight/zeek-long-connections'
#: conn_long.log, activecm/zeek-open-connections' open_conn.log, open_ssl.log, open_http.log
_PATHS = {**{log: log for log in _FIELDS}, **{f"{log}_red": log for log in _FIELDS}, "notice_alarm": "notice",
          "conn_long": "conn", "open_conn": "conn", "open_ssl": "ssl", "open_http": "http"}
#: keys only one log's record has (a record without ``_path``): the first log whose every key is there (a
#: record of a log with a connection must also name one, :func:`groups`; a notice its Notice::Info actions)
_KEYS = (*_more.KEYS, ("conn", ("conn_state",)), ("dns", ("qtype_name",)), ("dns", ("query", "trans_id")),
         ("http", ("method", "uri")), ("http", ("trans_depth", "status_code")), ("ssl", ("established", "cipher")),
         ("ssl", ("established", "server_name")), ("ssh", ("auth_success",)), ("ssh", ("hassh", "client")),
         ("notice", ("note", "msg", "actions")), ("notice", ("note", "msg", "suppress_for")),
         ("kerberos", ("request_type", "service")), ("ftp", ("command", "reply_code")),
         ("rdp", ("cookie", "security_protocol")), ("rdp", ("result", "security_protocol")), ("dhcp", ("msg_types", "uids")))  # fmt: skip
#: a record the ``json`` format keeps may be Zeek's if its text holds one of these keys (``uid``: a writer that
#: nests records, ``"id": {"orig_h": ...}``; files.log before Zeek 5 names its connections ``conn_uids``, x509.log none)
_MARK = re.compile(rb'"(?:_path|id\.orig_h|(?:conn_|f)?uids?|note|notice|certificate(?:\.serial)?|seen\.indicator|software_type|port_num)"')
#: the records of Zeek's logs a writer may nest (``"id": {"orig_h": ...}``) where Zeek's JSON writer names their
#: fields ``id.orig_h``: conn_id, x509.log's certificate, SANs and constraints, intel.log's Seen, ftp.log's data channel
_NESTED = ("id", "certificate", "san", "basic_constraints", "seen", "data_channel")
#: logs whose rows need not name a connection; the others' rows that name none stay Base Events (:func:`groups`)
_UNCONNECTED = frozenset({"notice", "dhcp", *_more.UNCONNECTED})
#: logs whose class has no connection_info (Authentication; the findings: the connection is the evidence's)
_NO_CONNECTION_INFO = frozenset({"notice", "kerberos", *_more.NO_CONNECTION_INFO})
#: logs whose class has no endpoints from the conn_id (a finding's are its evidence's; dhcp names its own)
_NO_ENDPOINTS = frozenset({"notice", *_more.NO_ENDPOINTS})


@dataclass
class Group:
    """The rows of one Zeek log in a batch: their OCSF class, activity, severity and columns."""

    class_name: str
    rows: np.ndarray
    activity: pa.Array | int
    severity: int
    columns: dict[str, pa.Array]


def candidates(raws: Sequence[bytes]) -> list[int]:
    """Indices of the records whose text may be a Zeek log's (the others are no Zeek record)."""
    search = _MARK.search
    return [i for i, r in enumerate(raws) if search(r)]


def decoded(raws: Sequence[bytes], rows: Sequence[int]) -> list[Any]:
    """The records at ``rows`` as Python values (a record is a JSON object: the json format decoded it);
    None for one msgspec does not take as a value (a number past a double's range, 1e999: it stays a Base Event)."""
    try:
        return [msgspec.json.decode(raws[i]) for i in rows]
    except (*UNREADABLE, msgspec.ValidationError):
        return [json_value(raws[i]) for i in rows]


def split(records: Sequence[Any], rows: Sequence[int], cols: dict[str, pa.Array], times_ms: pa.Array, kind: str,
          out: Decoded) -> dict[str, pa.Array] | None:
    """The batches of the Zeek logs among ``records`` (the records at ``rows`` of a batch of Base
    Event columns ``cols``, their own times ``times_ms``) appended to ``out``; the columns of the
    batch's other rows, None where there are none."""
    taken = mapped(records, rows, cols, times_ms, kind, out)
    if not taken.any():
        return cols
    if taken.all():
        return None
    rest = pa.array(np.flatnonzero(~taken))
    return {k: v.take(rest) for k, v in cols.items()}


def mapped(records: Sequence[Any], rows: Sequence[int], cols: dict[str, pa.Array], times_ms: pa.Array, kind: str,
           out: Decoded) -> np.ndarray:
    """The batches of the Zeek logs among ``records`` (as :func:`split`; ``cols`` needs only
    ``metadata.uid``, ``message``, ``unmapped`` and ``raw_data``) appended to ``out``; which rows of
    the batch they hold."""
    taken = np.zeros(len(times_ms), bool)
    for g in groups(records, rows, times_ms):
        at = pa.array(g.rows)

        def take(arr: pa.Array, at: pa.Array = at) -> pa.Array:
            return arr if len(at) == len(times_ms) else arr.take(at)

        part = base_columns(g.class_name, kind=kind, product="Zeek", vendor="Zeek", uids=take(cols["metadata.uid"]),
                            times_ms=take(times_ms), raws=None, activity_id=g.activity, severity_id=g.severity)
        part["message"] = take(cols["message"])
        part.update(g.columns)
        if g.class_name == "detection_finding":  # required: a notice has no id of its own
            part["finding_info.uid"] = part["metadata.uid"]
        sensor = part.pop("device.hostname", None)
        if sensor is not None and sensor.null_count < len(sensor):  # device.type_id required (OCSF 1.8.0): Unknown
            part["device.hostname"] = sensor
            part["device.type_id"] = pc.if_else(pc.is_valid(sensor), pa.scalar(0, I32), pa.scalar(None, I32))
            part["device.type"] = pc.if_else(pc.is_valid(sensor), "Unknown", pa.scalar(None, S))
        part["unmapped"], part["raw_data"] = take(cols["unmapped"]), take(cols["raw_data"])
        out.batches.append(to_batch(g.class_name, part))
        taken[g.rows] = True
    return taken


def groups(records: Sequence[Any], rows: Sequence[int], times_ms: pa.Array) -> list[Group]:
    """The Zeek logs among ``records`` (the records at ``rows`` of a batch whose times are
    ``times_ms``), one :class:`Group` per log this module maps, rows in batch order."""
    by_log: dict[str, Sequence[int]] = {}
    paths = [rec.get("_path") if type(rec) is dict else None for rec in records]
    if paths and type(paths[0]) is str and paths[0] in _PATHS and paths.count(paths[0]) == len(paths):
        by_log[_PATHS[paths[0]]] = range(len(records))  # one log's records (a TSV log, a Corelight stream)
    else:
        each: dict[str, list[int]] = {}
        for k, rec in enumerate(records):
            log = _log(rec) if type(rec) is dict else None
            if log is not None:
                each.setdefault(log, []).append(k)
        by_log.update(each)
    if "weird" in by_log:  # a weird Zeek raised a notice of is a finding, the others Network Activity
        by_log.update(_more.weird_logs(records, by_log.pop("weird")))
    out = []
    for log, ks in by_log.items():
        typed, ok = _typed(log, records if len(ks) == len(records) else [records[k] for k in ks])
        if not len(typed):
            continue
        named = None
        if log not in _UNCONNECTED:  # a row naming no connection (a log of another shape under the name) stays Base
            named = pc.or_(pc.is_valid(_f(typed, "id.orig_h")), pc.is_valid(_f(typed, "id.resp_h")))
        elif log == "dhcp":  # a DHCP exchange's client and server (its uids name the connections)
            named = pc.or_(pc.or_(pc.is_valid(_f(typed, "client_addr")), pc.is_valid(_f(typed, "server_addr"))),
                           pc.is_valid(_f(typed, "mac")))
        if named is not None and not pc.all(named).as_py():
            ok[ok] = named.to_numpy(zero_copy_only=False)
            typed = typed.filter(named)
            if not len(typed):
                continue
        at = np.asarray(rows, np.int64)[np.asarray(ks, np.int64)[ok]]
        times = times_ms if len(at) == len(times_ms) else times_ms.take(pa.array(at))  # every row (in order): no take
        try:
            activity, severity, cols = _columns(log, typed, times)
        except _UNFIT:  # a value no attribute of the class holds (a port past int32): that record stays a Base Event
            fits = np.array([_fits(log, typed.slice(i, 1), times.slice(i, 1)) for i in range(len(typed))], bool)
            if not fits.any():
                continue
            typed, times, at = typed.filter(pa.array(fits)), times.filter(pa.array(fits)), at[fits]
            activity, severity, cols = _columns(log, typed, times)
        out.append(Group(CLASSES[log], at, activity, severity, cols))
    return out


#: what a log's mapping raises for a value its class's attributes cannot hold (a number past int32)
_UNFIT = (pa.ArrowInvalid, OverflowError)


def _fits(log: str, typed: pa.StructArray, times: pa.Array) -> bool:
    """Whether :func:`_columns` maps these records (one, on the path of a batch it refused)."""
    try:
        _columns(log, typed, times)
    except _UNFIT:
        return False
    return True


def _columns(log: str, typed: pa.StructArray, times: pa.Array) -> tuple[pa.Array | int, int, dict[str, pa.Array]]:
    """The activity, severity and OCSF columns of one log's typed records (their times ``times``)."""
    activity, severity, cols = _MAPPERS[log](typed, times)
    own = cols.pop("_direction", None)
    if log != "dhcp":  # a log's own columns over the connection's (files.log's endpoints before Zeek 5)
        conn = _connection(typed, own)
        if log in _more.OWN_DEVICE:  # the device is the host the log is about, not the sensor
            del conn["device.hostname"]
        cols = {**conn, **cols}
    drop = (("src_endpoint.", "dst_endpoint.") if log in _NO_ENDPOINTS else ()) + (
        ("connection_info.",) if log in _NO_CONNECTION_INFO else ())
    for name in [c for c in cols if drop and c.startswith(drop)]:
        del cols[name]
    return activity, severity, cols


def _log(rec: dict[str, Any]) -> str | None:
    """The Zeek log a record is from: its ``_path``, else the keys only that log's record has. The
    log a record's keys tell is kept by its keys (a log's records share a few shapes: the writer's
    order, the unset fields left out), so the key tables are read once a shape, not once a record."""
    path = rec.get("_path")
    if isinstance(path, str):
        return _PATHS.get(path)
    shape = tuple(rec)
    known = _SHAPES.get(shape)
    if known is None:
        known = (not _NESTED_KEYS.isdisjoint(shape), None)
        if not known[0]:
            known = (False, _by_keys(rec))
        if len(_SHAPES) >= 4096:  # bounded: a stream of ever-new shapes is no log's
            _SHAPES.clear()
        _SHAPES[shape] = known
    if not known[0]:
        return known[1]
    for key in _NESTED:  # a writer that nests records (``"id": {"orig_h": ...}``, VAST's and Tenzir's export)
        if isinstance(rec.get(key), dict):
            rec.update({f"{key}.{k}": v for k, v in rec[key].items()})
    flat = tuple(rec)  # the shape with the nested records' fields dotted
    hit = _FLAT.get(flat)  # one lookup: another thread may clear the cache meanwhile
    if hit is None:
        if len(_FLAT) >= 4096:
            _FLAT.clear()
        hit = _FLAT[flat] = (_by_keys(rec),)
    return hit[0]


#: a record's keys (in order) -> (whether it has a key a writer may nest, the log its keys tell)
_SHAPES: dict[tuple[str, ...], tuple[bool, str | None]] = {}
#: the keys of a record whose nested records were dotted -> (the log they tell,)
_FLAT: dict[tuple[str, ...], tuple[str | None]] = {}
_NESTED_KEYS = frozenset(_NESTED)


def _by_keys(rec: dict[str, Any]) -> str | None:
    """The first log whose keys (:data:`_KEYS`) the record has all of (a record without ``ts`` is none)."""
    if "ts" not in rec:
        return None
    for log, keys in _KEYS:
        if all(k in rec for k in keys):
            return log
    return None


def _typed(log: str, recs: Sequence[Any]) -> tuple[pa.StructArray, np.ndarray]:
    """The records as one struct column of the log's fields, and which records it holds (a record
    whose field has another type than Zeek writes stays out, as a Base Event)."""
    t = _TYPES[log]
    try:
        return _timed(log, pa.array(recs, t), recs), np.ones(len(recs), bool)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        ok = np.zeros(len(recs), bool)
        for i, r in enumerate(recs):
            try:
                pa.array([r], t)
                ok[i] = True
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                continue
        kept = [r for r, good in zip(recs, ok, strict=True) if good]
        return _timed(log, pa.array(kept, t), kept), ok


def _timed(log: str, typed: pa.StructArray, recs: Sequence[Any]) -> pa.StructArray:
    """``typed`` with the log's other ``time`` fields (:data:`_TIMES`) as ms since the epoch."""
    names = _TIMES.get(log, ())
    if not names:
        return typed
    times = [_time_ms([r.get(k) for r in recs]) for k in names]
    return pa.StructArray.from_arrays([*typed.flatten(), *times], names=[*(f.name for f in typed.type), *names])


def _time_ms(values: list[Any]) -> pa.Array:
    """A ``time`` field's values as ms since the epoch: numbers (Zeek's writers: epoch seconds; ms past 1e10, as
    :func:`.base.epoch_ms` reads them) in one Arrow pass, text (ISO-8601) by :func:`.base.parse_times`."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # text and numbers mixed, a number past int64
        return parse_times(values)
    if not (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)):
        return parse_times(arr) if pa.types.is_string(arr.type) else pa.nulls(len(arr), I64)
    v = arr.cast(F64)
    ms = pc.trunc(pc.if_else(pc.greater(v, 1e10), v, pc.multiply(v, 1000.0)))
    fits = pc.and_(pc.greater_equal(ms, -9.2e18), pc.less(ms, 9.2e18))
    return pc.if_else(fits, ms, pa.scalar(None, F64)).cast(I64)


_PROTO_NUMS = {"tcp": 6, "udp": 17, "icmp": 1}
_DIRECTIONS = pa.array(["Unknown", "Inbound", "Outbound", "Lateral"], S)


def _connection(s: pa.StructArray, own: pa.Array | None = None) -> dict[str, pa.Array]:
    """The endpoints and connection_info every log with a ``conn_id`` has (module docstring);
    ``own`` the direction a log says itself (ssh.log's), where ``local_orig``/``local_resp`` do not."""
    orig, resp = _f(s, "id.orig_h"), _f(s, "id.resp_h")
    v6 = pc.fill_null(pc.match_substring(pc.coalesce(orig, resp), ":"), False)
    any_ip = pc.is_valid(pc.coalesce(orig, resp))
    proto = _f(s, "proto")
    num = _by(proto, _PROTO_NUMS, -1, -1)
    num = pc.if_else(pc.and_(pc.equal(num, 1), v6), pa.scalar(58, I32), num)  # Zeek's icmp over IPv6: ICMPv6
    lo, lr = _f(s, "local_orig"), _f(s, "local_resp")
    direction = pc.fill_null(pc.if_else(lo, pc.if_else(lr, pa.scalar(3, I32), pa.scalar(2, I32)),
                                        pc.if_else(lr, pa.scalar(1, I32), pa.scalar(0, I32))), pa.scalar(0, I32))  # fmt: skip
    if own is not None:
        direction = pc.if_else(pc.equal(direction, 0), own, direction)
    # required of a connection_info: only where the record names a connection
    direction = pc.if_else(pc.or_(any_ip, pc.is_valid(_f(s, "uid"))), direction, pa.scalar(None, I32))
    return {
        "src_endpoint.ip": orig, "src_endpoint.port": _f(s, "id.orig_p").cast(I32),
        "dst_endpoint.ip": resp, "dst_endpoint.port": _f(s, "id.resp_p").cast(I32),
        "connection_info.uid": _f(s, "uid"),
        "connection_info.protocol_name": proto,
        "connection_info.protocol_num": pc.if_else(pc.equal(num, -1), pa.scalar(None, I32), num),
        "connection_info.protocol_ver_id": pc.if_else(any_ip, pc.if_else(v6, pa.scalar(6, I32), pa.scalar(4, I32)),
                                                      pa.scalar(None, I32)),
        "connection_info.direction_id": direction,
        "connection_info.direction": _DIRECTIONS.take(direction),
        "device.hostname": _f(s, "_system_name"),
    }  # fmt: skip


_CONN_ACTIVITY = {**dict.fromkeys(("SF", "RSTO", "RSTR", "RSTRH", "SH", "SHR"), 2), "S0": 4, "REJ": 5}


def _conn(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    dur = _ms(_f(s, "duration"))
    ob, rb, op, rp = (_f(s, k) for k in ("orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts"))
    return _by(_f(s, "conn_state"), _CONN_ACTIVITY, 6, 6), 1, {
        "status_code": _f(s, "conn_state"), "app_protocol_name": _f(s, "service"), "duration": dur,
        "start_time": times, "end_time": pc.add(times, dur),
        "connection_info.flag_history": _f(s, "history"), "connection_info.community_uid": _f(s, "community_id"),
        "traffic.bytes_out": ob, "traffic.bytes_in": rb, "traffic.packets_out": op, "traffic.packets_in": rp,
        "traffic.bytes": pc.add(ob, rb), "traffic.packets": pc.add(op, rp), "traffic.bytes_missed": _f(s, "missed_bytes"),
        "src_endpoint.mac": _f(s, "orig_l2_addr"), "dst_endpoint.mac": _f(s, "resp_l2_addr"),
        # Corelight's: the endpoints' countries (GeoIP)
        "src_endpoint.location.country": _f(s, "orig_cc"), "dst_endpoint.location.country": _f(s, "resp_cc"),
    }  # fmt: skip


#: the DNS RCODEs OCSF 1.8.0's ``rcode_id`` names (another is 99 Other)
_RCODE_IDS = pa.array([*range(12), *range(16, 24)], I64)


def _dns(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    rcode = _f(s, "rcode")
    known = pc.is_in(rcode, value_set=_RCODE_IDS)
    rcode_id = pc.if_else(pc.is_null(rcode), pa.scalar(None, I32),
                          pc.if_else(known, rcode.cast(I32), pa.scalar(99, I32)))  # fmt: skip
    caption = enum_captions("dns_activity", "rcode_id", rcode_id)
    answers, asked = _f(s, "answers"), pc.is_valid(_f(s, "query"))
    return pc.if_else(pc.is_valid(rcode), pa.scalar(6, I32), pa.scalar(1, I32)), 1, {
        "query.hostname": _f(s, "query"), "query.type": _where(asked, _f(s, "qtype_name")),
        "query.class": _where(asked, _f(s, "qclass_name")), "query.packet_uid": _where(asked, _f(s, "trans_id").cast(I32)),
        "rcode_id": rcode_id, "rcode": pc.if_else(pc.equal(rcode_id, 99), _f(s, "rcode_name"), caption),
        "answers": _answers(answers, _f(s, "TTLs")),
        "query_time": times, "response_time": pc.add(times, _ms(_f(s, "rtt"))),
    }  # fmt: skip


def _answers(answers: pa.ListArray, ttls: pa.ListArray) -> pa.Array:
    """``answers[]`` of ``answers`` with each one's ``TTLs`` entry (whole seconds) as its ``ttl``."""
    rdata = answers.flatten()
    lengths = pc.fill_null(pc.list_value_length(answers), 0)
    if pc.all(pc.equal(lengths, pc.fill_null(pc.list_value_length(ttls), 0))).as_py() is not False:
        ttl = ttls.flatten()
    else:  # a row whose TTLs are not one per answer: none of its TTLs (per row, only in such a batch)
        ttl = pa.array([t for n, row in zip(lengths.to_pylist(), ttls.to_pylist(), strict=True)
                        for t in (row if row is not None and len(row) == n else [None] * n)], F64)  # fmt: skip
    items = pa.StructArray.from_arrays([rdata, pc.round(ttl).cast(I32)], names=["rdata", "ttl"])
    return pa.ListArray.from_arrays(answers.offsets, items, mask=pc.is_null(answers))


_HTTP_METHODS = {"CONNECT": 1, "DELETE": 2, "GET": 3, "HEAD": 4, "OPTIONS": 5, "POST": 6, "PUT": 7, "TRACE": 8, "PATCH": 9}
_TARGET = r"^(?P<abs>[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*)?(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?"


def _http(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    method, host, uri, port = _f(s, "method"), _f(s, "host"), _f(s, "uri"), _f(s, "id.resp_p")
    parts = pc.extract_regex(uri, _TARGET)
    absolute = pc.fill_null(pc.not_equal(parts.field("abs"), ""), False)
    none = pa.scalar(None, S)
    path = pc.if_else(pc.equal(parts.field("path"), ""), none, parts.field("path"))
    query = pc.if_else(pc.equal(parts.field("query"), ""), none, parts.field("query"))
    # Zeek's HTTP::build_url: the host (else the responder's address), ":port" unless 80, the uri
    at = pc.if_else(pc.fill_null(pc.equal(port, 80), True), "", pc.binary_join_element_wise(":", port.cast(S), ""))
    origin = pc.binary_join_element_wise("http://", host, at, "")
    in_origin = pc.fill_null(pc.starts_with(uri, "/"), False)
    url = pc.if_else(absolute, uri, pc.if_else(in_origin, pc.binary_join_element_wise(origin, uri, ""), none))
    code, has_url = _f(s, "status_code"), pc.or_(pc.is_valid(path), pc.is_valid(url))
    return _by(method, _HTTP_METHODS, 99, 0), 1, {
        "http_request.http_method": method, "http_request.user_agent": _f(s, "user_agent"),
        "http_request.referrer": _f(s, "referrer"), "http_request.version": _f(s, "version"),
        "http_request.body_length": _f(s, "request_body_len").cast(I32),
        "http_request.url.hostname": _where(has_url, host), "http_request.url.port": _where(has_url, port.cast(I32)),
        "http_request.url.path": path, "http_request.url.query_string": query, "http_request.url.url_string": url,
        "http_request.url.scheme": pc.if_else(pc.is_valid(url), pc.if_else(absolute, none, "http"), none),
        "http_response.code": code.cast(I32),
        "http_response.message": pc.if_else(pc.is_valid(code), _f(s, "status_msg"), none),
        "http_response.body_length": pc.if_else(pc.is_valid(code), _f(s, "response_body_len"),
                                                pa.scalar(None, I64)).cast(I32),
        "start_time": times,
    }  # fmt: skip


def _ssl(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    fps = _f(s, "cert_chain_fps")
    leaf = pc.list_element(pc.if_else(pc.fill_null(pc.greater(pc.list_value_length(fps), 0), False), fps,
                                      pa.scalar(None, fps.type)), 0) if len(fps) else pa.nulls(0, S)  # fmt: skip
    leaf = pc.coalesce(leaf, _f(s, "cert_hash"))  # Bro 2.1-2.2: the server certificate's MD5
    # tls where the server chose a version (its required attribute); the name the client asked for
    # (SNI) is the server's hostname also where the handshake went no further
    v = pc.is_valid(_f(s, "version"))
    tls = {"tls.version": _f(s, "version"), "tls.cipher": _f(s, "cipher"), "tls.sni": _f(s, "server_name"),
           "tls.certificate.subject": _f(s, "subject"),
           "tls.certificate.issuer": pc.coalesce(_f(s, "issuer"), _f(s, "issuer_subject")),  # Bro before 2.3
           "tls.certificate.created_time": _f(s, "not_valid_before"),
           "tls.certificate.expiration_time": _f(s, "not_valid_after"),
           "tls.certificate.fingerprints": hex_fingerprints(leaf),
           "tls.ja3_hash": _fingerprint(_f(s, "ja3"), 1), "tls.ja3s_hash": _fingerprint(_f(s, "ja3s"), 1)}
    return _true_false(_f(s, "established"), 6, 4, 0), 1, {
        **{k: _where(v, a) for k, a in tls.items()}, "dst_endpoint.hostname": _f(s, "server_name"), "start_time": times}


def _ssh(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    ok = _f(s, "auth_success")
    hassh = [pa.StructArray.from_arrays([_fingerprint_hassh(_f(s, k))], names=["fingerprint"], mask=pc.is_null(_f(s, k)))
             for k in ("hassh", "hasshServer")]
    direction = _by(_f(s, "direction"), {"INBOUND": 1, "OUTBOUND": 2}, 0, 0)
    return _true_false(ok, 1, 4, 6), 1, {
        **_status(ok),
        "protocol_ver": _f(s, "version").cast(S), "client_hassh": hassh[0], "server_hassh": hassh[1],
        "_direction": direction, "start_time": times,
    }  # fmt: skip


def _fingerprint_hassh(value: pa.Array) -> pa.Array:
    """HASSH's fingerprint (OCSF 1.8.0's algorithm 20, HASSH: an MD5 of the key exchange's algorithms)."""
    n = len(value)
    return pa.StructArray.from_arrays([value, pa.array(np.full(n, 20, np.int32)), pa.repeat(pa.scalar("HASSH"), n)],
                                      names=["value", "algorithm_id", "algorithm"], mask=pc.is_null(value))


def _notice(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    n = len(s)
    note = _f(s, "note")
    src, dst = pc.coalesce(_f(s, "src"), _f(s, "id.orig_h")), pc.coalesce(_f(s, "dst"), _f(s, "id.resp_h"))
    dport = pc.coalesce(_f(s, "p"), _f(s, "id.resp_p")).cast(I32)
    sport = pc.if_else(pc.is_valid(_f(s, "src")), pa.scalar(None, I32), _f(s, "id.orig_p").cast(I32))
    return 1, 0, {
        "finding_info.title": note, "finding_info.desc": _f(s, "msg"),
        "finding_info.analytic.name": note, "finding_info.analytic.type_id": pa.array(np.ones(n, np.int32)),
        "finding_info.analytic.type": pa.repeat(pa.scalar("Rule"), n),
        "evidences": endpoints_evidence(src, sport, dst, dport),
    }  # fmt: skip


#: Kerberos' request types (``AS``, ``TGS``) -> Authentication's activity (Authentication Ticket, Service Ticket Request)
_KRB_ACTIVITY = {"AS": 3, "TGS": 4}


def _kerberos(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """kerberos.log: the client principal (``name/REALM``) as the user, the service principal as the service."""
    client = pc.extract_regex(_f(s, "client"), r"^(?P<name>.*?)(?:/(?P<realm>[^/]*))?$")
    none = pa.scalar(None, S)
    name, realm = (pc.if_else(pc.equal(client.field(k), ""), none, client.field(k)) for k in ("name", "realm"))
    ok = _f(s, "success")
    return _by(_f(s, "request_type"), _KRB_ACTIVITY, 99, 0), 1, {
        "auth_protocol_id": pa.array(np.full(len(s), 2, np.int32)), "auth_protocol": pa.repeat(pa.scalar("Kerberos"), len(s)),
        "user.name": name, "user.domain": realm, "service.name": _f(s, "service"),
        **_status(ok),
        "status_detail": _f(s, "error_msg"),
    }  # fmt: skip


#: FTP commands -> FTP Activity's activity (Put, Get, Poll, Delete, Rename, List); another command is Other
_FTP_ACTIVITY = {**dict.fromkeys(("STOR", "STOU", "APPE"), 1), "RETR": 2, "MLST": 3, **dict.fromkeys(("DELE", "RMD"), 4),
                 **dict.fromkeys(("RNFR", "RNTO"), 5), **dict.fromkeys(("LIST", "NLST", "MLSD"), 6)}  # fmt: skip


def _ftp(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """ftp.log: the command, its reply, and the file a transfer, deletion or rename names (``arg``)."""
    activity = _by(pc.utf8_upper(_f(s, "command")), _FTP_ACTIVITY, 99, 0)
    on_file = pc.and_(pc.is_in(activity, value_set=pa.array([1, 2, 4, 5], I32)), pc.is_valid(_f(s, "arg")))
    code = _f(s, "reply_code")
    return activity, 1, {
        "command": _f(s, "command"), "codes": singleton_list(code.cast(I32), pc.is_valid(code)),
        "status_code": code.cast(S), "status_detail": _f(s, "reply_msg"),
        "file.name": _where(on_file, _f(s, "arg")), "file.type_id": _where(on_file, pa.array(np.zeros(len(s), np.int32))),
        "file.type": _where(on_file, pa.repeat(pa.scalar("Unknown"), len(s))),
        "file.size": _where(on_file, _f(s, "file_size")), "file.mime_type": _where(on_file, _f(s, "mime_type")),
        "port": _f(s, "data_channel.resp_p").cast(I32),
    }  # fmt: skip


def _rdp(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """rdp.log: Traffic (one row a connection, as the OCSF project's mapping), the client's name, the
    cookie the client sent (``mstshash=``: the user name it logs on with) as ``user.name``, the result."""
    ok = _f(s, "auth_success")
    return 6, 1, {
        "src_endpoint.hostname": _f(s, "client_name"), "user.name": _f(s, "cookie"),
        **_status(ok),
        "status_detail": _f(s, "result"), "protocol_ver": _f(s, "security_protocol"), "start_time": times,
    }  # fmt: skip


#: DHCP message types -> DHCP Activity's activity
_DHCP_ACTIVITY = {t: i for i, t in enumerate(("DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"), 1)}


def _dhcp(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """dhcp.log (one row an exchange, its ``msg_types`` in order): the activity of its last message; the
    client (address, MAC, host name, FQDN) and the server as the endpoints; ``lease_time`` as ``lease_dur``.
    Bro 2.0-2.5's dhcp.log (one row a connection, client to server: ``id``, ``assigned_ip``, no ``msg_types``)
    logged a lease when the server acknowledged it (its ``dhcp_ack`` event): Ack, the connection's endpoints."""
    types = _f(s, "msg_types")
    ends = np.asarray(types.offsets)  # the last message type of each row: its list's last value
    some = ends[1:] > ends[:-1]
    last = types.values.take(pa.array(np.where(some, ends[1:] - 1, 0), mask=~some)) if len(types.values) else pa.nulls(len(s), S)
    acked = pc.and_(pc.is_null(last), pc.is_valid(_f(s, "assigned_ip")))
    return pc.if_else(acked, pa.scalar(5, I32), _by(last, _DHCP_ACTIVITY, 99, 0)), 1, {
        "src_endpoint.ip": pc.coalesce(_f(s, "client_addr"), _f(s, "id.orig_h")),
        "src_endpoint.port": pc.coalesce(_f(s, "client_port"), _f(s, "id.orig_p")).cast(I32),
        "src_endpoint.mac": _f(s, "mac"), "src_endpoint.hostname": _f(s, "host_name"),
        "src_endpoint.domain": _f(s, "client_fqdn"),
        "dst_endpoint.ip": pc.coalesce(_f(s, "server_addr"), _f(s, "id.resp_h")),
        "dst_endpoint.port": pc.coalesce(_f(s, "server_port"), _f(s, "id.resp_p")).cast(I32),
        "dst_endpoint.domain": _f(s, "domain"),
        "lease_dur": pc.round(_f(s, "lease_time")).cast(I32), "device.hostname": _f(s, "_system_name"),
    }  # fmt: skip


_MAPPERS: dict[str, zk.Mapper] = {
    "conn": _conn, "dns": _dns, "http": _http, "ssl": _ssl, "ssh": _ssh, "notice": _notice, "kerberos": _kerberos,
    "ftp": _ftp, "rdp": _rdp, "dhcp": _dhcp, **_more.MAPPERS}
