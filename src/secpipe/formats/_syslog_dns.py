"""DNS servers' query log lines in syslog (BIND ``queries``, dnsmasq ``log-queries``, Unbound
``log-queries``/``log-replies``) -> DNS Activity (4003): the query, its type and class, the client, the
answer and rcode where the line gives them. See :mod:`.syslog`.
"""

from __future__ import annotations

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import captions, singleton_list
from secpipe.formats._syslog_common import _I32, _I64, S, _nil_empty
from secpipe.formats._text import group

#: DNS servers' query logs as syslog messages: BIND's ``queries`` category (``client [@0x...]
#: IP#PORT[ (NAME)]: [view V: ]query: NAME CLASS TYPE FLAGS (SERVER)``, after ``queries: info: ``
#: where ``print-category``/``print-severity`` are on) and its refusals (``query [(cache)]
#: 'NAME/TYPE/CLASS' denied``, ``zone transfer '...' denied``) and its ``query-errors`` category's SERVFAIL
#: responses (``query failed (REASON) for NAME/CLASS/TYPE at FILE:LINE``); dnsmasq's ``log-queries`` lines (its
#: ``log_query``: ``SOURCE NAME VERB DEST``, after ``SERIAL IP/PORT `` with ``log-queries=extra``; Pi-hole's
#: FTL, a dnsmasq, adds its blocking sources: ``gravity blocked NAME is 0.0.0.0``);
#: Unbound's ``log-queries`` / ``log-replies`` (``[PID:TID] info: IP[@PORT] NAME TYPE CLASS[ RCODE
#: SECONDS CACHED SIZE]``; ``query:`` / ``reply:`` for ``info:`` with ``log-tag-queryreply``)
_IP = r"[0-9A-Fa-f.:]+"
_BIND_QUERY = (rf"^(?:[a-z-]{{1,32}}: )?(?:(?:info|notice|warning|error|critical|debug \d{{1,2}}): )?client (?:@0x[0-9A-Fa-f]+ )?(?P<ip>{_IP})#(?P<port>\d+)"
               rf"(?: \([^)]*\))?: (?:view [^:]+: )?(?:query: (?P<name>\S+) (?P<cls>\w+) (?P<type>\w+) [-+]\S* \((?P<server>{_IP})\)"
               r"|(?:query(?: \(cache\))?|zone transfer) '(?P<dname>[^'/]*)/(?P<dtype>\w+)/(?P<dcls>\w+)' denied"
               r"|query failed \((?P<why>[^)]*)\) for (?P<ename>[^/\s]*)/(?P<ecls>\w+)/(?P<etype>\w+))")
_DNSMASQ_QUERY = (rf"^(?:\d+ (?P<xip>{_IP})/(?P<xport>\d+) )?(?:query\[(?P<qtype>[^\]]+)\] (?P<qname>\S+) from (?P<from>{_IP})"
                  rf"|forwarded (?P<fname>\S+) to (?P<to>{_IP})(?:#\d+)?|dnssec-query\[(?P<stype>[^\]]+)\] (?P<sname>\S+) to (?P<sto>{_IP})(?:#\d+)?"
                  r"|(?P<source>reply|cached|cached-stale|config|auth|DHCP|/\S+|(?:gravity|exactly|regex) (?:blocked|denied|blacklisted)"
                  r"|blacklisted|special domain) (?P<rname>\S+) is (?P<rdata>not implemented|\S+))"
                  r"(?: \(.*\))?$")
_UNBOUND_QUERY = (rf"^(?:\[\d+:[0-9a-f]+\] )?(?:info|query|reply): (?P<ip>{_IP})(?:@(?P<port>\d+))? (?P<name>\S+) (?P<type>[A-Z][A-Z0-9]*) "
                  r"(?P<cls>IN|CH|HS|NONE|ANY|CLASS\d+)(?: (?P<rcode>[A-Z]+) \d+\.\d+ \d \d+)?$")
#: a line of BIND's own log file: a channel's ``print-time`` stamp (``DD-Mon-YYYY hh:mm:ss.mmm``), then the message
_BIND_FILE = r"^(?P<d>\d\d-[A-Z][a-z]{2}-\d{4}) (?P<t>\d\d:\d\d:\d\d)\.(?P<ms>\d{3}) (?P<rest>.*)$"
#: a response code as the servers write it -> its OCSF ``rcode_id`` (RFC 1035 4.1.1, RFC 2136 2.2)
_RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "NOTIMPL": 4, "not implemented": 4,
           "REFUSED": 5, "YXDOMAIN": 6, "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9, "NOTZONE": 10}
#: what dnsmasq writes where an answer's data would be that is none: a response code, no data, or
#: a record it does not print (``<CNAME>``)
_DNSMASQ_NO_RDATA = r"^(?:NXDOMAIN|NODATA(?:-IPv[46])?|SERVFAIL|REFUSED|not implemented|\d{1,4}|<\w+>)$"


def _dns_queries(app: pa.Array, msg: pa.Array, host: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are BIND, dnsmasq or Unbound query log lines, their DNS Activity
    columns with ``_activity``), or None. A query received or forwarded is a Query, an answer
    (dnsmasq's ``reply``/``cached``/``config``, Unbound's reply, BIND's refusal) a Response: the
    name, type and class asked, the client the source (address, port), the server (the host that
    logged it, with the address BIND names) or the upstream dnsmasq forwarded to the destination,
    dnsmasq's answer data ``answers[].rdata`` and the response code (``NXDOMAIN``, a refusal
    ``REFUSED``; an answer with data NoError); a refusal or a name Pi-hole blocked Denied, Blocked. A line of BIND's own log file (no syslog header: its
    channel's ``print-time`` stamp first) is named's, the stamp its time (``_time``, ``_app``)."""
    tags = app.buffers()[2]  # the programs first: most batches hold no DNS server's lines
    tagged = app.null_count < len(app) and tags is not None and _fast.contains_any(tags, (b"named", b"dnsmasq", b"unbound"))
    data = msg.buffers()[2]
    filed = app.null_count > 0 and data is not None and _fast.contains_any(data, (b"client ",))
    if not (tagged or filed):
        return None
    none = pa.scalar(None, S)
    bind_msg = pc.if_else(pc.fill_null(pc.is_in(app, value_set=pa.array(["named", "named-pkcs11"])), False), msg, none)
    own = pc.extract_regex(pc.if_else(pc.is_null(app), msg, none), _BIND_FILE) if filed else None
    if own is not None:
        bind_msg = pc.coalesce(bind_msg, group(own, "rest"))
    bind = pc.extract_regex(bind_msg, _BIND_QUERY)
    masq = pc.extract_regex(pc.if_else(pc.fill_null(pc.equal(app, "dnsmasq"), False), msg, none), _DNSMASQ_QUERY)
    unb = pc.extract_regex(pc.if_else(pc.fill_null(pc.equal(app, "unbound"), False), msg, none), _UNBOUND_QUERY)
    hit = pc.fill_null(pc.or_(pc.or_(bind.is_valid(), masq.is_valid()), unb.is_valid()), False)
    if not pc.any(hit).as_py():
        return None
    bind, masq, unb = bind.filter(hit), masq.filter(hit), unb.filter(hit)
    extra: dict[str, pa.Array] = {}
    if own is not None:  # BIND's own file: its stamp (local time, no zone: taken as UTC) and program
        own = own.filter(hit)
        stamp = pc.strptime(pc.binary_join_element_wise(group(own, "d"), group(own, "t"), " "), format="%d-%b-%Y %H:%M:%S",
                            unit="ms", error_is_null=True).cast(_I64)
        extra = {"_time": pc.add(stamp, group(own, "ms").cast(_I64)), "_app": pc.if_else(pc.is_valid(stamp), "named", none)}
    rdata = _nil_empty(group(masq, "rdata"))
    has_rdata = pc.fill_null(pc.invert(pc.match_substring_regex(rdata, _DNSMASQ_NO_RDATA)), False)
    denied = pc.is_valid(_nil_empty(group(bind, "dtype")))
    # dnsmasq's answer is data, no data (NODATA, ``<CNAME>``: NoError), a code's name or its number
    failed = pc.is_valid(_nil_empty(group(bind, "why")))  # BIND logs each SERVFAIL response so (ARM, query-errors)
    said = pc.coalesce(pc.if_else(denied, "REFUSED", none), pc.if_else(failed, "SERVFAIL", none), group(unb, "rcode"), rdata)
    rcode_id = pc.take(pa.array(list(_RCODES.values()), _I32), pc.index_in(said, value_set=pa.array(list(_RCODES), S)))
    number = pc.if_else(pc.fill_null(pc.match_substring_regex(said, r"^\d{1,4}$"), False), said, none).cast(_I32)
    number = pc.if_else(pc.fill_null(pc.greater(number, 23), False), pa.scalar(99, _I32), number)
    rcode_id = pc.coalesce(rcode_id, number, pc.if_else(pc.is_valid(said), pa.scalar(0, _I32), pa.scalar(None, _I32)))
    asked = pc.or_(pc.is_valid(_nil_empty(group(masq, "qname"))), pc.is_valid(_nil_empty(group(masq, "fname"))))
    asked = pc.or_(asked, pc.is_valid(_nil_empty(group(masq, "sname"))))
    # a refusal (BIND) or a name Pi-hole blocks: Denied, Blocked
    blocked = pc.or_(denied, pc.fill_null(pc.match_substring_regex(group(masq, "source"), r"blocked|denied|blacklisted|^special"), False))
    query = pc.fill_null(pc.or_(pc.is_valid(_nil_empty(group(bind, "name"))), asked), False)
    query = pc.or_(query, pc.fill_null(pc.and_(unb.is_valid(), pc.is_null(_nil_empty(group(unb, "rcode")))), False))
    port = pc.coalesce(*(_nil_empty(group(g, k)) for g, k in ((bind, "port"), (masq, "xport"), (unb, "port"))))
    upstream = pc.coalesce(_nil_empty(group(masq, "to")), _nil_empty(group(masq, "sto")))
    answer = pa.StructArray.from_arrays([pc.if_else(has_rdata, rdata, none)], names=["rdata"])
    return hit, {
        "_activity": pc.if_else(query, pa.scalar(1, _I32), pa.scalar(2, _I32)),
        "query.hostname": pc.coalesce(*(_nil_empty(group(g, k)) for g, k in (
            (bind, "name"), (bind, "dname"), (bind, "ename"), (masq, "qname"), (masq, "fname"), (masq, "sname"), (masq, "rname"), (unb, "name")))),
        "query.type": pc.coalesce(*(_nil_empty(group(g, k)) for g, k in (
            (bind, "type"), (bind, "dtype"), (bind, "etype"), (masq, "qtype"), (masq, "stype"), (unb, "type")))),
        "query.class": pc.coalesce(*(_nil_empty(group(g, k)) for g, k in ((bind, "cls"), (bind, "dcls"), (bind, "ecls"), (unb, "cls")))),
        "status_detail": _nil_empty(group(bind, "why")),
        "src_endpoint.ip": pc.coalesce(*(_nil_empty(group(g, k)) for g, k in ((bind, "ip"), (masq, "from"), (masq, "xip"), (unb, "ip")))),
        "src_endpoint.port": port.cast(_I32),
        "dst_endpoint.ip": pc.coalesce(_nil_empty(group(bind, "server")), upstream),
        "dst_endpoint.hostname": pc.if_else(pc.is_valid(upstream), none, host.filter(hit)),
        "answers": singleton_list(answer, has_rdata),
        "rcode_id": rcode_id,
        "rcode": captions("dns_activity", "rcode_id", rcode_id),
        "action_id": pc.if_else(blocked, pa.scalar(2, _I32), pa.scalar(None, _I32)),
        "action": pc.if_else(blocked, "Denied", none),
        "disposition_id": pc.if_else(blocked, pa.scalar(2, _I32), pa.scalar(None, _I32)),
        "disposition": pc.if_else(blocked, "Blocked", none), **extra,
    }  # fmt: skip
