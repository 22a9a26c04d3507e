"""More of Zeek's logs as their OCSF classes: SMB, DCE/RPC, files, NTLM, SMTP, x509, weird, intel, tunnel, NTP...

The logs :mod:`._zeek_classes` reads besides its own (which registers these: their fields, the
keys that tell a record without ``_path``, the class and the mapping). As there, the classes follow
the OCSF project's Zeek mappings (github.com/ocsf/examples ``mappings/markdown/Zeek``: smtp, x509)
and Tenzir's (github.com/tenzir/library ``zeek-ocsf``: smb_files, smtp) where they have one, for
OCSF 1.8.0; the fields are Zeek's (docs.zeek.org, ``scripts/base/protocols/*/main.zeek``):

- ``smb_files`` -> SMB Activity (4006): ``SMB::FILE_OPEN`` / ``PIPE_OPEN`` / ``PRINT_OPEN`` File Open,
  every other action (read, write, delete, rename, set attribute, close) Other, as Tenzir's mapping;
  ``share`` the ``path`` (``\\\\host\\share``), ``share_type`` by the action's kind (FILE, PIPE,
  PRINT), ``file`` the ``name`` (relative to the share, as Zeek logs it), ``fuid``, ``size`` and the
  times the server gave (``times.modified`` / ``accessed`` / ``created``; a pipe's type Named Pipe);
- ``smb_mapping`` -> SMB Activity (4006), Other (a tree connect is none of its file activities):
  ``share`` and ``share_type`` (DISK File, PIPE Pipe, PRINT Print);
- ``dce_rpc`` -> Network Activity (4001), Traffic, ``app_protocol_name`` ``dce_rpc`` (the name
  conn.log gives the service): OCSF's ``dce_rpc`` object requires the interface's UUID and the
  call's flags, which dce_rpc.log does not write (its ``endpoint``, ``operation`` and
  ``named_pipe`` stay in ``unmapped``);
- ``files`` -> Network File Activity (4010): Upload where the connection's originator sent the
  file (``is_orig``), Download where the responder did; ``file`` (``filename``, ``fuid``,
  ``mime_type``, ``total_bytes`` else ``seen_bytes``, the MD5 / SHA-1 / SHA-256 hashes), the
  analyzer that saw it (``source``: HTTP, SMB, FTP_DATA...) as ``app_protocol_name``; the
  endpoints: the connection's (Zeek 5+), else of Zeek before 5 the sender (``tx_hosts``) and
  receiver (``rx_hosts``), the sender the source where ``is_orig``. Not File System Activity
  (1001), which reports a process acting on a host's file system (its actor and device required):
  Zeek sees a file cross the network;
- ``ntlm`` -> Authentication (3002), Logon, protocol NTLM: ``username`` / ``domainname`` the user,
  the client's ``hostname`` the source's, the server's names from its CHALLENGE (NetBIOS name,
  DNS name, tree name) the destination's ``name``, ``hostname``, ``domain``; ``success`` the status;
- ``smtp`` -> Email Activity (4009), Send (Zeek sees a client hand a message to a server; the OCSF
  project's mapping says Scan, which is a mail scanner's verdict): ``email`` (From, To, Cc,
  Reply-To, Message-ID, Subject headers; the envelope's MAIL FROM and RCPT TO), ``smtp_hello``,
  the server's ``last_reply`` as ``status_detail``, ``direction_id`` by ``local_orig`` /
  ``local_resp`` where a record has them (Inbound, Outbound, Internal; smtp.log itself does not),
  protocol SMTP;
- ``x509`` -> Network Activity (4001), Other, as the OCSF project's mapping: ``tls.certificate``
  (serial number, subject, issuer, version, validity as ``created_time`` / ``expiration_time``,
  the ``fingerprint``) and its subject alternative names (``san.dns``, ``san.ip``, ``san.uri``,
  ``san.email``) as ``tls.sans`` typed DNS, IP Address, URI, Email. The log names no connection nor TLS
  version (ssl.log rows name the certificates they saw by ``cert_chain_fps``, this fingerprint); Corelight's
  sensor adds the hosts: ``tx`` the one that sent the certificate, ``rx`` the one that got it, so the server
  is the destination and the client the source (reversed for a ``client_cert``);
- ``weird``: Zeek's Weird framework logs traffic that breaks its protocol or Zeek's expectations (a
  malformed header, a bad checksum, data after a reset, an evasion attempt); by its ``Weird::actions``
  (base/frameworks/notice/weird.zeek) most are only logged, a few also raised as a notice
  (``Weird::Activity``: "notice-worthy weird activity", FIN_storm, SYN_after_partial, a site's own), which
  the row's ``notice`` says. A noticed weird -> Detection Finding (2004), Create, as a notice is: the
  ``name`` as title and analytic, ``addl`` as description, the connection's addresses as the evidence's
  endpoints. The others -> Network Activity (4001), Other: what Zeek saw of a connection (its endpoints
  and uid; many have none), the weird's name as ``activity_name``, ``addl`` as ``status_detail``, the
  analyzer (``source``) as ``app_protocol_name``;
- ``intel`` -> Detection Finding (2004), Create: the indicator seen (``seen.indicator``) as title,
  where it was seen (``seen.where``) as description, the intel types it matched (``matched``) as
  ``finding_info.types``, the feeds it came from (``sources``) as ``data_sources``, the connection's
  addresses as the evidence's endpoints;
- ``suricata_corelight`` (Corelight's sensors log each Suricata alert beside Zeek's logs, by the connection's
  ``uid``; corelight/Chronicle ``log-schemas/suricata_corelight``) -> Detection Finding (2004), Create: the
  ``alert.signature`` as title and analytic (``gid:signature_id:rev`` its uid), ``alert.category`` as description
  and type, ``alert.severity`` 1 High, 2 Medium, 3 Low (Suricata's priorities; others Informational), the
  connection's addresses as the evidence's endpoints; the product Suricata (OISF);
- ``tunnel`` -> Tunnel Activity (4014): ``Tunnel::DISCOVER`` Open, ``CLOSE`` and ``EXPIRE`` Close; the
  encapsulation (``Tunnel::GRE``, ``TEREDO``, ``HTTP``...) as ``protocol_name``;
- ``ntp`` -> NTP Activity (4013), one row a message: its mode (RFC 5905's 1-7 are OCSF's activity ids), ``version``,
  the stratum (``stratum_id``: 0 unspecified Unknown, 1 primary, 2-15 secondary, 16 unsynchronized, 17-255
  reserved), ``precision`` in log2 seconds (Zeek logs 2^precision seconds), root delay and dispersion in ms;
- ``radius`` -> Authentication (3002), Logon, protocol RADIUS: the ``username``, ``result`` (success, failed,
  unknown) as the status, ``reply_msg`` as ``status_detail``;
- ``signature`` (a match of Zeek's signature engine) -> Detection Finding (2004), Create, as notice: the signature's
  ``sig_id`` as title and analytic, ``event_msg`` (and ``sub_msg``) as description, its addresses as the evidence's;
- ``smb_cmd`` -> SMB Activity (4006), Other: the ``command``, its NT status (``SUCCESS`` Success, another Other with
  its name as ``status``), the dialect (``version``), the ``tree`` as the share, the file it refers to;
- ``software`` -> Software Inventory Info (5020), Log: the host running it as the ``device``, the software as the
  ``package`` (its version Zeek's parsed major.minor.minor2.minor3);
- ``known_hosts``, ``known_services`` -> Device Inventory Info (5001), Log: the host as the ``device`` (a service's
  port and protocol stay in ``unmapped``); these logs' device is that host, not the sensor;
- ``known_certs`` -> Network Activity (4001), Other, as x509: the server (``host``, ``port_num``) as the destination,
  the certificate it offered (subject, issuer, serial number) as ``tls.certificate``;
- ``dpd`` and ``analyzer`` (Zeek 6.1+): a protocol analyzer found a connection's traffic was not its protocol after
  all -> Network Activity (4001), Other, the analyzer as ``app_protocol_name``, status Failure with the
  ``failure_reason``; an analyzer.log row about a file (no connection) stays a Base Event;
- ``snmp``, ``sip``, ``mysql``, ``socks``, ``irc``, ``ldap`` / ``ldap_search``, ``quic``, ``rfb``, ``modbus``,
  ``dnp3``: application protocols OCSF has no class of -> Network Activity (4001), Traffic, the protocol (as
  conn.log's ``service`` names it) as ``app_protocol_name``: a row stays searchable by its endpoints and
  connection, its fields in ``unmapped``.

Severity: noticed weird, intel and signature rows say none (Unknown, 0, as notice); the others Informational.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._zeek_kernels import (
    F64,
    I32,
    I64,
    STATUS,
    B,
    Mapper,
    S,
    by,
    const,
    endpoints_evidence,
    field,
    fingerprint,
    hex_fingerprints,
    ms,
    status,
    true_false,
    where,
)
from secpipe.schema.ocsf import enum_captions

L = pa.list_(S)
#: log -> the fields its mapping reads, as Zeek's JSON writer types them (besides conn_id and uid)
FIELDS: dict[str, list[tuple[str, pa.DataType]]] = {
    "smb_files": [("fuid", S), ("action", S), ("path", S), ("name", S), ("size", I64)],
    "smb_mapping": [("path", S), ("share_type", S)],
    "dce_rpc": [("endpoint", S), ("operation", S)],
    "files": [("fuid", S), ("tx_hosts", L), ("rx_hosts", L), ("source", S), ("mime_type", S), ("filename", S),
              ("is_orig", B), ("seen_bytes", I64), ("total_bytes", I64), ("md5", S), ("sha1", S),
              ("sha256", S)],
    "ntlm": [("username", S), ("hostname", S), ("domainname", S), ("server_nb_computer_name", S),
             ("server_dns_computer_name", S), ("server_tree_name", S), ("success", B)],
    "smtp": [("helo", S), ("mailfrom", S), ("rcptto", L), ("from", S), ("to", L), ("cc", L), ("reply_to", S),
             ("msg_id", S), ("subject", S), ("last_reply", S)],
    "x509": [("fingerprint", S), ("certificate.version", I64), ("certificate.serial", S), ("certificate.subject", S),
             ("certificate.issuer", S), ("san.dns", L), ("san.uri", L), ("san.email", L), ("san.ip", L), ("tx", S),
             ("rx", S), ("client_cert", B)],
    "weird": [("name", S), ("addl", S), ("source", S)],
    "suricata_corelight": [("alert.signature", S), ("alert.signature_id", I64), ("alert.gid", I64), ("alert.rev", I64),
                           ("alert.category", S), ("alert.severity", I64), ("alert.action", S), ("service", S)],
    "intel": [("seen.indicator", S), ("seen.where", S), ("matched", L), ("sources", L)],
    "tunnel": [("tunnel_type", S), ("action", S)],
    "ntp": [("version", I64), ("mode", I64), ("stratum", I64), ("precision", F64), ("root_delay", F64),
            ("root_disp", F64)],
    "radius": [("username", S), ("result", S), ("reply_msg", S)],
    "signature": [("src_addr", S), ("src_port", I64), ("dst_addr", S), ("dst_port", I64), ("sig_id", S),
                  ("event_msg", S), ("sub_msg", S)],
    "smb_cmd": [("command", S), ("status", S), ("version", S), ("tree", S), ("referenced_file.name", S),
                ("referenced_file.size", I64)],
    "software": [("host", S), ("name", S), ("version.major", I64), ("version.minor", I64), ("version.minor2", I64),
                 ("version.minor3", I64)],
    "known_hosts": [("host", S)],
    "known_services": [("host", S)],
    "known_certs": [("host", S), ("port_num", I64), ("subject", S), ("issuer_subject", S), ("serial", S)],
    "dpd": [("analyzer", S), ("failure_reason", S)],
    "analyzer": [("analyzer_name", S), ("failure_reason", S)],
}  # fmt: skip
#: logs of an application protocol OCSF has no class of (nor Zeek a log with more than its messages' fields) ->
#: Network Activity, Traffic, the protocol (as conn.log's ``service`` names it) as ``app_protocol_name``
APPS = {"snmp": "snmp", "sip": "sip", "mysql": "mysql", "socks": "socks", "irc": "irc", "ldap": "ldap",
        "ldap_search": "ldap", "quic": "quic", "rfb": "rfb", "modbus": "modbus", "dnp3": "dnp3"}
FIELDS.update(dict.fromkeys(APPS, []))
FIELDS["weird_activity"] = FIELDS["weird"]  # weird.log's rows Zeek raised no notice for (:func:`weird_logs`)
#: log -> its fields of Zeek's ``time`` type other than ``ts``, read as ``ts`` is (epoch seconds, or the ISO-8601
#: text of a writer with ``JSON::TS_ISO8601``, Corelight's) into ms since the epoch
TIMES = {"x509": ("certificate.not_valid_before", "certificate.not_valid_after"),
         "smb_files": ("times.modified", "times.accessed", "times.created")}
CLASSES = {"smb_files": "smb_activity", "smb_mapping": "smb_activity", "dce_rpc": "network_activity",
           "files": "network_file_activity", "ntlm": "authentication", "smtp": "email_activity",
           "x509": "network_activity", "weird": "detection_finding", "weird_activity": "network_activity",
           "intel": "detection_finding", "suricata_corelight": "detection_finding",
           "tunnel": "tunnel_activity", "ntp": "ntp_activity", "radius": "authentication",
           "signature": "detection_finding", "smb_cmd": "smb_activity", "software": "software_info",
           "known_hosts": "inventory_info", "known_services": "inventory_info", "known_certs": "network_activity",
           "dpd": "network_activity", "analyzer": "network_activity",
           **dict.fromkeys(APPS, "network_activity")}  # fmt: skip
#: keys only one log's record has (see :data:`._zeek_classes._KEYS`; these are tried first: a SIP request has an
#: HTTP request's ``method`` and ``uri``)
KEYS = (("sip", ("call_id", "seq")), ("sip", ("call_id", "request_from")), ("snmp", ("community", "get_requests")),
        ("snmp", ("get_bulk_requests",)), ("mysql", ("cmd", "arg")), ("socks", ("request_p", "bound_p")),
        ("irc", ("nick", "command", "value")), ("ldap", ("message_id", "opcode")), ("ldap_search", ("message_id", "scope")),
        ("quic", ("client_initial_dcid",)), ("rfb", ("client_major_version",)), ("modbus", ("func",)),
        ("dnp3", ("fc_request",)), ("dnp3", ("fc_reply",)), ("signature", ("sig_id", "event_msg")),
        ("smb_cmd", ("command", "version", "tree")), ("smb_cmd", ("command", "version", "status")),
        ("software", ("software_type", "host")), ("known_certs", ("port_num", "serial")),
        ("known_services", ("port_num", "port_proto")), ("dpd", ("analyzer", "failure_reason")),
        ("analyzer", ("analyzer_name", "failure_reason")),
        ("smb_files", ("action", "name")), ("smb_mapping", ("share_type", "path")), ("dce_rpc", ("endpoint", "operation")),
        ("dce_rpc", ("named_pipe", "rtt")), ("files", ("fuid", "seen_bytes")), ("ntlm", ("domainname",)),
        ("ntlm", ("server_nb_computer_name",)), ("ntlm", ("server_dns_computer_name",)), ("smtp", ("mailfrom",)),
        ("smtp", ("rcptto",)), ("smtp", ("helo", "trans_depth")), ("smtp", ("last_reply", "trans_depth")),
        ("x509", ("certificate.serial",)), ("weird", ("name", "notice")), ("intel", ("seen.indicator",)),
        ("suricata_corelight", ("suri_id", "alert.signature_id")),
        ("tunnel", ("tunnel_type", "action")), ("ntp", ("stratum", "ref_id")), ("ntp", ("mode", "stratum", "poll")),
        ("radius", ("username", "result")))  # fmt: skip
#: logs whose rows need not name a connection (their own addresses, or none: x509)
UNCONNECTED = frozenset({"files", "x509", "weird", "weird_activity", "intel", "suricata_corelight", "signature", "software", "known_hosts", "known_services",
                         "known_certs"})
#: logs whose class has no connection_info (Authentication, Email Activity; Detection Finding: the connection is the
#: evidence's; x509: none)
NO_CONNECTION_INFO = frozenset({"x509", "weird", "intel", "suricata_corelight", "ntlm", "smtp", "radius", "signature", "software",
                                "known_hosts", "known_services", "known_certs"})
#: logs whose ``device`` is the host they are about (an inventory's), not the sensor (``_system_name``)
OWN_DEVICE = frozenset({"software", "known_hosts", "known_services"})
#: logs whose class has no endpoints of its own (the evidence's, or none; x509's are Corelight's tx/rx, not a conn_id)
NO_ENDPOINTS = frozenset({"weird", "suricata_corelight", "intel", "signature", "software", "known_hosts", "known_services"})

#: the kinds of an SMB share (a tree's ``share_type``, a file action's prefix) -> share_type_id
_SHARE_TYPES = {"DISK": 1, "FILE": 1, "PIPE": 2, "PRINT": 3}
_SHARE_CAPTIONS = pa.array(["Unknown", "File", "Pipe", "Print"], S)


def _share(kind: pa.Array) -> dict[str, pa.Array]:
    ids = by(kind, _SHARE_TYPES, 0, 0)
    return {"share_type_id": ids, "share_type": _SHARE_CAPTIONS.take(ids)}


def _smb_files(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    parts = pc.extract_regex(field(s, "action"), r"^(?:SMB::)?(?P<kind>[A-Z]+)_(?P<op>[A-Z_]+)$")
    kind, op = parts.field("kind"), parts.field("op")
    name, pipe = field(s, "name"), pc.fill_null(pc.equal(kind, "PIPE"), False)
    type_id = pc.if_else(pipe, pa.scalar(6, I32), pa.scalar(0, I32))
    return pc.if_else(pc.fill_null(pc.equal(op, "OPEN"), False), pa.scalar(2, I32), pa.scalar(99, I32)), 1, {
        "share": field(s, "path"), **_share(kind),
        "file.name": name, "file.uid": field(s, "fuid"), "file.size": field(s, "size"),
        **{f"file.{k}_time": where(pc.is_valid(name), field(s, f"times.{k}")) for k in ("modified", "accessed", "created")},
        "file.type_id": where(pc.is_valid(name), type_id),
        "file.type": where(pc.is_valid(name), pc.if_else(pipe, "Named Pipe", "Unknown")),
    }  # fmt: skip


def _smb_mapping(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    return 99, 1, {"share": field(s, "path"), **_share(pc.utf8_upper(field(s, "share_type")))}


def _dce_rpc(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    return 6, 1, {"app_protocol_name": const("dce_rpc", len(s), S), "start_time": times}


def _first(hosts: pa.ListArray) -> pa.Array:
    """The first address of each row's set (null where it is empty or null)."""
    some = pc.fill_null(pc.greater(pc.list_value_length(hosts), 0), False)
    return pc.list_element(pc.if_else(some, hosts, pa.scalar(None, hosts.type)), 0) if len(hosts) else pa.nulls(0, S)


def _files(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    orig = field(s, "is_orig")
    tx, rx = _first(field(s, "tx_hosts")), _first(field(s, "rx_hosts"))
    sender_first = pc.fill_null(orig, True)
    name, uid = field(s, "filename"), field(s, "fuid")
    known = pc.or_(pc.is_valid(name), pc.is_valid(uid))
    return true_false(orig, 1, 2, 0), 1, {
        "file.name": name, "file.uid": uid, "file.mime_type": field(s, "mime_type"),
        "file.size": pc.coalesce(field(s, "total_bytes"), field(s, "seen_bytes")),
        **_unknown_type("file", known),
        "file.hashes": _hashes([field(s, k) for k in ("md5", "sha1", "sha256")]),
        "app_protocol_name": field(s, "source"), "start_time": times,
        "src_endpoint.ip": pc.coalesce(field(s, "id.orig_h"), pc.if_else(sender_first, tx, rx)),
        "dst_endpoint.ip": pc.coalesce(field(s, "id.resp_h"), pc.if_else(sender_first, rx, tx)),
    }  # fmt: skip


def _hashes(digests: list[pa.Array]) -> pa.Array:
    """``hashes[]`` of each row's MD5, SHA-1 and SHA-256 digests, in that order, the ones it lacks left out."""
    n, k = len(digests[0]), len(digests)
    every = pa.concat_arrays([fingerprint(d, alg) for d, alg in zip(digests, (1, 2, 3), strict=True)])
    each = every.take(pa.array(np.arange(n * k).reshape(k, n).T.ravel()))  # row by row: its k digests
    valid = pc.is_valid(each).to_numpy(zero_copy_only=False)
    counts = valid.reshape(n, k).sum(axis=1)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), I32)
    return pa.ListArray.from_arrays(offsets, each.filter(pa.array(valid)), mask=pa.array(counts == 0))


def _ntlm(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    n = len(s)
    return 1, 1, {
        "auth_protocol_id": const(1, n, I32), "auth_protocol": const("NTLM", n, S),
        "user.name": field(s, "username"), "user.domain": field(s, "domainname"),
        "src_endpoint.hostname": field(s, "hostname"), "dst_endpoint.name": field(s, "server_nb_computer_name"),
        "dst_endpoint.hostname": field(s, "server_dns_computer_name"), "dst_endpoint.domain": field(s, "server_tree_name"),
        **status(field(s, "success")),
    }  # fmt: skip


_EMAIL_DIRECTIONS = pa.array(["Unknown", "Inbound", "Outbound", "Internal"], S)


def _smtp(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    lo, lr = field(s, "local_orig"), field(s, "local_resp")
    direction = pc.fill_null(pc.if_else(lo, true_false(lr, 3, 2, 2), true_false(lr, 1, 0, 0)), true_false(lr, 1, 0, 0))
    email = {"email.from": field(s, "from"), "email.to": field(s, "to"), "email.cc": field(s, "cc"),
             "email.reply_to": field(s, "reply_to"), "email.message_uid": field(s, "msg_id"),
             "email.subject": field(s, "subject"), "email.smtp_from": field(s, "mailfrom"),
             "email.smtp_to": field(s, "rcptto")}
    return 1, 1, {
        **email, "smtp_hello": field(s, "helo"), "status_detail": field(s, "last_reply"),
        "direction_id": direction, "direction": _EMAIL_DIRECTIONS.take(direction),
        "protocol_name": const("SMTP", len(s), S),
    }  # fmt: skip


#: x509.log's subject alternative names (``san.*``: GeneralNames of RFC 5280 4.2.1.6) -> OCSF ``san.type``
_SAN_TYPES = (("san.dns", "DNS"), ("san.ip", "IP Address"), ("san.uri", "URI"), ("san.email", "Email"))


def _sans(s: pa.StructArray) -> pa.Array:
    """Every subject alternative name of each certificate (DNS names, addresses, URIs, e-mail addresses), typed."""
    lists = [(field(s, k), kind) for k, kind in _SAN_TYPES]
    lists = [(v, kind) for v, kind in lists if pc.sum(pc.fill_null(pc.list_value_length(v), 0)).as_py()] or lists[:1]
    if len(lists) == 1:  # (the common case: DNS names only)
        dns, kind = lists[0]
        sans = pa.StructArray.from_arrays([dns.values, const(kind, len(dns.values), S)], names=["name", "type"])
        return pa.ListArray.from_arrays(dns.offsets, sans, mask=pc.is_null(dns))
    rows: list[list[dict[str, str]] | None] = [None] * len(s)
    for values, kind in lists:
        for i, names in enumerate(values.to_pylist()):
            if names:
                rows[i] = (rows[i] or []) + [{"name": n, "type": kind} for n in names]
    return pa.array(rows, pa.list_(pa.struct([("name", S), ("type", S)])))


def _x509(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """x509.log: the certificate and its names; where Corelight's sensor logs who sent it (``tx``) and who got it
    (``rx``), the server as the destination (a client certificate's sender the source)."""
    client = pc.fill_null(field(s, "client_cert"), False)
    tx, rx = field(s, "tx"), field(s, "rx")
    return 99, 1, {
        "src_endpoint.ip": pc.if_else(client, tx, rx), "dst_endpoint.ip": pc.if_else(client, rx, tx),
        "tls.certificate.serial_number": field(s, "certificate.serial"),
        "tls.certificate.subject": field(s, "certificate.subject"), "tls.certificate.issuer": field(s, "certificate.issuer"),
        "tls.certificate.version": field(s, "certificate.version").cast(S),
        "tls.certificate.created_time": field(s, "certificate.not_valid_before"),
        "tls.certificate.expiration_time": field(s, "certificate.not_valid_after"),
        "tls.certificate.fingerprints": hex_fingerprints(field(s, "fingerprint")),
        "tls.sans": _sans(s),
    }  # fmt: skip


def _evidence(s: pa.StructArray) -> pa.Array:
    port = [field(s, k).cast(I32) for k in ("id.orig_p", "id.resp_p")]
    return endpoints_evidence(field(s, "id.orig_h"), port[0], field(s, "id.resp_h"), port[1])


def _analytic(name: pa.Array) -> dict[str, pa.Array]:
    n, named = len(name), pc.is_valid(name)
    return {"finding_info.analytic.name": name, "finding_info.analytic.type_id": where(named, const(1, n, I32)),
            "finding_info.analytic.type": where(named, const("Rule", n, S))}


def _weird(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    name = field(s, "name")
    return 1, 0, {"finding_info.title": name, "finding_info.desc": field(s, "addl"), **_analytic(name),
                  "evidences": _evidence(s)}


def _weird_activity(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """A weird Zeek only logged: Network Activity, Other, the weird's name as the activity's (OCSF: an Other
    activity's name is the source's), ``addl`` as the status detail, the analyzer that saw it (``source``) as
    ``app_protocol_name``; its connection's endpoints and uid as any connection's."""
    return 99, 1, {"activity_name": pc.coalesce(field(s, "name"), pa.scalar("Other", S)), "status_detail": field(s, "addl"),
                   "app_protocol_name": field(s, "source")}


def weird_logs(records: Sequence[Any], ks: Sequence[int]) -> dict[str, list[int]]:
    """weird.log's rows (``ks`` of ``records``) by what Zeek made of them: ``weird`` (a Detection Finding) where
    the row says Zeek also raised a notice of it (``notice`` true: its ``Weird::actions`` entry is one of the
    ``ACTION_NOTICE*`` actions, base/frameworks/notice/weird.zeek: "notice-worthy weird activity"),
    ``weird_activity`` (Network Activity) for the rest, ``ACTION_LOG*`` weirds: protocol oddities and
    malformed or unexpected traffic logged for the record, no alert by Zeek's own judgement."""
    out: dict[str, list[int]] = {}
    for k in ks:
        flag = records[k].get("notice") if type(records[k]) is dict else None
        out.setdefault("weird" if flag is True or flag == "T" else "weird_activity", []).append(k)
    return out


#: Suricata's alert severity (its rules' ``priority``, 1 the highest: Suricata's ``classification.config``) -> severity_id
_SURICATA_SEVERITY = {1: 4, 2: 3, 3: 2}
_SEVERITY_CAPTIONS = pa.array(["Unknown", "Informational", "Low", "Medium", "High"], S)


def _suricata(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """suricata_corelight.log (Corelight's sensor logs each Suricata alert beside Zeek's logs, by the connection's
    uid): the signature as title and analytic (its ``gid:signature_id:rev`` the analytic's uid), the category as
    the finding's type, the alert's severity (1 High, 2 Medium, 3 Low; a rule's other priorities Informational),
    the connection's addresses as the evidence's endpoints."""
    sig, sev = field(s, "alert.signature"), field(s, "alert.severity")
    ids = pc.fill_null(pc.take(pa.array([0, 4, 3, 2], I32), pc.if_else(
        pc.and_(pc.greater_equal(sev, 1), pc.less_equal(sev, 3)), sev, pa.scalar(None, sev.type))), 1)
    ids = pc.if_else(pc.is_null(sev), pa.scalar(0, I32), ids)
    uid = pc.binary_join_element_wise(*(field(s, k).cast(S) for k in ("alert.gid", "alert.signature_id", "alert.rev")), ":")
    category = field(s, "alert.category")
    return 1, 0, {"finding_info.title": sig, "finding_info.desc": category, **_analytic(sig),
                  "finding_info.analytic.uid": uid,
                  "finding_info.types": pa.ListArray.from_arrays(
                      pa.array(np.arange(len(s) + 1, dtype=np.int32)), category.cast(S), mask=pc.is_null(category)),
                  "severity_id": ids, "severity": _SEVERITY_CAPTIONS.take(ids), "evidences": _evidence(s),
                  "metadata.product.name": const("Suricata", len(s), S), "metadata.product.vendor_name": const("OISF", len(s), S)}


def _intel(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    return 1, 0, {
        "finding_info.title": field(s, "seen.indicator"), "finding_info.desc": field(s, "seen.where"),
        "finding_info.types": field(s, "matched"), "finding_info.data_sources": field(s, "sources"),
        "evidences": _evidence(s),
    }  # fmt: skip


#: Zeek's tunnel actions -> Tunnel Activity's activity (DISCOVER Open; CLOSE, and EXPIRE: no traffic for
#: ``Tunnel::expiration_interval``, the tunnel is gone, Close)
_TUNNEL_ACTIVITY = {"DISCOVER": 1, "CLOSE": 2, "EXPIRE": 2}


def _tunnel(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """tunnel.log: the action as the activity, the encapsulation (``Tunnel::GRE``, ``Tunnel::TEREDO``...) as
    ``protocol_name`` (OCSF's ``tunnel_type`` is a split or full tunnel, which Zeek does not see)."""
    action = pc.extract_regex(field(s, "action"), r"^(?:Tunnel::)?(?P<a>.*)$").field("a")
    kind = pc.extract_regex(field(s, "tunnel_type"), r"^(?:Tunnel::)?(?P<t>.*)$").field("t")
    return by(action, _TUNNEL_ACTIVITY, 99, 0), 1, {"protocol_name": kind, "start_time": times}


#: RFC 5905's strata -> OCSF's stratum_id: 0 unspecified (Unknown), 1 primary, 2-15 secondary, 16 unsynchronized,
#: 17-255 reserved
_STRATA = np.array([0, 1, *[2] * 14, 16, *[17] * 239], np.int32)


def _ntp(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """ntp.log (one row a message): its mode (RFC 5905: 1-7, OCSF's activity ids) as the activity, the stratum,
    the precision Zeek logs as seconds (2^precision) as log2 seconds, root delay and dispersion in ms."""
    mode, stratum = field(s, "mode"), field(s, "stratum")
    valid = pc.and_(pc.greater_equal(stratum, 0), pc.less_equal(stratum, 255))
    stratum_id = pc.if_else(pc.fill_null(valid, False), pa.array(_STRATA).take(pc.fill_null(stratum, 0)),
                            pa.scalar(None, I32))
    precision = field(s, "precision")
    log2 = pc.if_else(pc.greater(precision, 0.0), pc.round(pc.log2(pc.max_element_wise(precision, 1e-300))),
                      pa.scalar(None, F64))
    in_range = pc.fill_null(pc.and_(pc.greater_equal(mode, 0), pc.less_equal(mode, 7)), False)
    return pc.if_else(in_range, mode.cast(I32), pc.if_else(pc.is_valid(mode), pa.scalar(99, I32), pa.scalar(0, I32))), 1, {
        "version": field(s, "version").cast(S), "stratum_id": stratum_id,
        "stratum": enum_captions("ntp_activity", "stratum_id", stratum_id),
        "precision": log2.cast(I32), "delay": ms(field(s, "root_delay")).cast(I32),
        "dispersion": ms(field(s, "root_disp")).cast(I32), "start_time": times,
    }  # fmt: skip


def _radius(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """radius.log (one row an authentication attempt): the user, its ``result`` (success, failed, unknown) as the
    status, the server's reply message. The connection's originator is the network access server, not the user's
    device: the device's ``mac``, the address the user was given (``framed_addr``) stay in ``unmapped``."""
    n = len(s)
    ok = by(field(s, "result"), {"success": 1, "failed": 2}, 0, 0)
    return 1, 1, {
        "auth_protocol_id": const(10, n, I32), "auth_protocol": const("RADIUS", n, S), "user.name": field(s, "username"),
        "status_id": ok, "status": STATUS.take(ok), "status_detail": field(s, "reply_msg"),
    }  # fmt: skip


def _signature(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """signature.log (a match of Zeek's signature engine): the signature's id as title and analytic, its message
    (``event_msg``, ``sub_msg``) as description, the packet's addresses as the evidence's endpoints."""
    sig = field(s, "sig_id")
    desc = pc.if_else(pc.fill_null(pc.not_equal(field(s, "sub_msg"), ""), False),
                      pc.binary_join_element_wise(field(s, "event_msg"), field(s, "sub_msg"), ": "), field(s, "event_msg"))
    port = [field(s, k).cast(I32) for k in ("src_port", "dst_port")]
    return 1, 0, {"finding_info.title": sig, "finding_info.desc": desc, **_analytic(sig),
                  "evidences": endpoints_evidence(field(s, "src_addr"), port[0], field(s, "dst_addr"), port[1])}


def _smb_cmd(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """smb_cmd.log (one row a command): the command, its NT status (``SUCCESS`` Success, another Other with its
    name), the dialect (``version``: SMB1, SMB2), the tree as the share, the file it refers to."""
    st, name = field(s, "status"), field(s, "referenced_file.name")
    ids = pc.if_else(pc.is_null(st), pa.scalar(0, I32), pc.if_else(pc.equal(st, "SUCCESS"), pa.scalar(1, I32),
                                                                       pa.scalar(99, I32)))
    return 99, 1, {
        "command": field(s, "command"), "status_id": ids, "status_code": st,
        "status": pc.if_else(pc.equal(ids, 99), st, STATUS.take(pc.if_else(pc.equal(ids, 99), pa.scalar(0, I32), ids))),
        "dialect": field(s, "version"), "share": field(s, "tree"),
        "file.name": name, "file.size": where(pc.is_valid(name), field(s, "referenced_file.size")),
        **_unknown_type("file", pc.is_valid(name)),
    }  # fmt: skip


def _device(s: pa.StructArray) -> dict[str, pa.Array]:
    """The host a record names (``host``) as the device (its type unknown)."""
    host = field(s, "host")
    return {"device.ip": host, **_unknown_type("device", pc.is_valid(host))}


def _unknown_type(obj: str, present: pa.Array) -> dict[str, pa.Array]:
    """An object's required ``type_id`` (Unknown: Zeek does not say) where the object is ``present``."""
    n = len(present)
    return {f"{obj}.type_id": where(present, const(0, n, I32)), f"{obj}.type": where(present, const("Unknown", n, S))}


def _software(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """software.log: the host running it as the device, the software as the package (its version Zeek's parsed
    major.minor.minor2.minor3; the text it came from, ``unparsed_version``, stays in ``unmapped``)."""
    parts = [field(s, f"version.{k}").cast(S) for k in ("major", "minor", "minor2", "minor3")]
    version = pc.binary_join_element_wise(*parts, ".", null_handling="skip")
    version = pc.if_else(pc.equal(version, ""), pa.scalar(None, S), version)
    return 1, 1, {**_device(s), "package.name": field(s, "name"), "package.version": version}


def _known(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """known_hosts / known_services.log: the host as the device (a service's port and protocol in ``unmapped``)."""
    return 1, 1, _device(s)


def _known_certs(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
    """known_certs.log: the server (``host``, ``port_num``) and the certificate it offered (as x509)."""
    return 99, 1, {
        "dst_endpoint.ip": field(s, "host"), "dst_endpoint.port": field(s, "port_num").cast(I32),
        "tls.certificate.subject": field(s, "subject"), "tls.certificate.issuer": field(s, "issuer_subject"),
        "tls.certificate.serial_number": field(s, "serial"),
    }  # fmt: skip


def _violation(name: str) -> Mapper:
    """dpd.log / analyzer.log (Zeek 6.1+: its ``analyzer_name``): a protocol analyzer that found the connection's
    traffic was not its protocol after all: Other, the analyzer as ``app_protocol_name``, Failure, the reason."""

    def mapper(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
        n = len(s)
        failed = const(2, n, I32)
        return 99, 1, {"app_protocol_name": field(s, name), "status_id": failed, "status": STATUS.take(failed),
                       "status_detail": field(s, "failure_reason"), "start_time": times}

    return mapper


def _app(protocol: str) -> Mapper:
    def mapper(s: pa.StructArray, times: pa.Array) -> tuple[pa.Array, int, dict[str, pa.Array]]:
        return 6, 1, {"app_protocol_name": const(protocol, len(s), S), "start_time": times}

    return mapper


MAPPERS: dict[str, Mapper] = {"smb_files": _smb_files, "smb_mapping": _smb_mapping, "dce_rpc": _dce_rpc, "files": _files,
                              "ntlm": _ntlm, "smtp": _smtp, "x509": _x509, "weird": _weird,
                              "weird_activity": _weird_activity, "intel": _intel, "suricata_corelight": _suricata,
                              "tunnel": _tunnel, "ntp": _ntp, "radius": _radius, "signature": _signature,
                              "smb_cmd": _smb_cmd, "software": _software, "known_hosts": _known,
                              "known_services": _known, "known_certs": _known_certs, "dpd": _violation("analyzer"),
                              "analyzer": _violation("analyzer_name"),
                              **{log: _app(protocol) for log, protocol in APPS.items()}}
