"""Web servers' and proxies' lines in syslog or as bare log lines -> HTTP Activity (4002) or Base
Events: the Common / Combined Log Format (Apache, nginx), HAProxy's HTTP and TCP logs, Squid's
native access log, and nginx's and Apache's error logs. A request line that is no ``METHOD target
[version]`` is kept as the line's request text (activity Unknown); nothing a line holds is dropped.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._syslog_common import _I32, _I64, S, _is_ip, _matches, _nil_empty, _number, _object
from secpipe.formats._syslog_header import (
    _own_time,
)
from secpipe.formats._text import group, json_string

#: an HTTP server's access log line in the Common or Combined Log Format (Apache's ``%h %l %u %t
#: "%r" %>s %b "%{Referer}i" "%{User-agent}i"``, nginx's ``combined``: ``$remote_addr -
#: $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
#: "$http_user_agent"``; Apache's ``vhost_combined`` puts ``%v:%p`` first), as the MSG of a syslog
#: message (nginx's ``access_log syslog:``, rsyslog ``imfile``) or a bare line of an access log;
#: more fields may follow after a space. A request line that is no ``METHOD target [version]``
#: (``"-"`` of a connection closed before a request, a TLS handshake on a plain port, a scanner's
#: junk) is kept as ``req``: the line is still the server's answer (activity Unknown).
#: The client may be a list of addresses (a format logging ``$http_x_forwarded_for`` or
#: ``$proxy_add_x_forwarded_for`` where ``$remote_addr`` stands: ``10.0.0.2, 10.0.0.1, 127.0.0.1``,
#: quoted or not, maybe followed by the peer's address): the first is the client, the others the
#: proxies it passed (see :func:`_client_list`). A quoted field after the user agent that lists
#: addresses is the X-Forwarded-For header (nginx's ``main`` format, the default of nginx's own
#: ``nginx.conf`` and its Docker image: ``... "$http_user_agent" "$http_x_forwarded_for"``). A request
#: target in absolute form (``GET http://host:port/path``: a forward proxy's request, RFC 9112 3.2.2)
#: or authority form (``CONNECT host:443``) names the URL's scheme, host and port (:func:`_targets`).
_ACCESS_REST = (
    r'(?P<ident>\S+) (?P<user>[^\s"]+) '
    r'\[(?P<t>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    r'"(?:(?P<method>[A-Z]{3,16}) (?P<path>[^\s"?]*)(?:\?(?P<query>[^\s"]*))?(?: (?P<ver>HTTP/\d(?:\.\d)?))?|(?P<req>(?:[^"\\]|\\.)*))" '
    r'(?P<code>\d{3}) (?P<size>\d{1,18}|-)(?: "(?P<ref>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)"(?: "(?P<xff>[^"]*)")?)?(?: |$)'
)
_ACCESS = r'^(?:(?P<vhost>[^\s"]+) )?(?P<client>[^\s"]+) ' + _ACCESS_REST
#: the same with an address list as the client (tried on the lines :data:`_ACCESS` does not take:
#: the list's alternatives cost RE2 a third more time a line)
_ACCESS_LIST = r'^(?:(?P<vhost>[^\s"]+) )?(?P<client>"[^"]*"(?: [^\s"]+)?|[^\s",]+(?:,? [^\s",]+)+) ' + _ACCESS_REST
_ACCESS_MARK = (b'] "',)
#: HTTP Activity's activity per request method (OCSF 1.8.0 ``http_activity.activity_id``); another method is 99 Other
_HTTP_METHODS = ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "TRACE", "PATCH")
_HTTP_METHOD_NAMES = pa.array(_HTTP_METHODS, S)
_HTTP_METHOD_IDS = pa.array(range(1, len(_HTTP_METHODS) + 1), _I32)


def _client_list(client: pa.Array, listed: pa.Array | None) -> tuple[pa.Array, pa.Array | None]:
    """(each line's client: the first address of its list, the other addresses of the list
    that are IPs or None where no line has a list). ``listed``: the lines :data:`_ACCESS_LIST`
    read (None: none); a client :data:`_ACCESS` read is a list when it holds a comma. An
    X-Forwarded-For list names the client first and appends each proxy's peer
    (``$proxy_add_x_forwarded_for`` ends with ``$remote_addr``): OCSF's ``intermediate_ips``
    (its example is X-Forwarded-For)."""
    if listed is None and not _fast.contains_any(client.buffers()[2], (b",",)):
        return client, None
    parts = pc.split_pattern_regex(pc.utf8_trim(pc.replace_substring(client, '"', ""), " "), r",? +|,")
    first = pc.list_element(parts, 0)
    flat = pc.list_flatten(parts)
    parent = pc.list_parent_indices(parts).to_numpy()
    starts = np.asarray(parts.offsets)[:-1] - parts.offsets[0].as_py()
    keep = (np.arange(len(flat)) > starts[parent]) & _is_ip(flat).to_numpy(zero_copy_only=False)
    counts = np.bincount(parent[keep], minlength=len(client))
    offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int32))
    mask = pa.array(counts == 0)
    proxies = pa.ListArray.from_arrays(offsets, flat.filter(pa.array(keep)), mask=mask)
    return first, proxies


#: a request target in absolute form (``scheme://host[:port][/path]``) and in authority form (``host:port``)
_ABSOLUTE = r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:[^@/]*@)?(?P<host>\[[^\]/]*\]|[^:/]*)(?::(?P<port>\d{1,5}))?(?P<rest>/.*)?$"
_AUTHORITY = r"^(?P<host>\[[^\]/]*\]|[^:/\[\]]+):(?P<port>\d{1,5})$"


def _targets(method: pa.Array, target: pa.Array, query: pa.Array) -> dict[str, pa.Array]:
    """The URL columns of request targets (RFC 9112 3.2; ``query`` the query string each line's target
    ends with): the origin form (``/path``, nearly every line) is the path; the absolute form
    (``http://host:port/path``, a forward proxy's request) gives the scheme, host, port, path (``/``
    where it names none) and the whole URL as ``url_string``; a ``CONNECT``'s authority form
    (``host:443``) the host and port, no path. One check when every target is in the origin form."""
    odd = pc.fill_null(pc.invert(pc.starts_with(target, "/")), False)
    if not pc.any(odd).as_py():
        return {"http_request.url.path": target}
    none = pa.scalar(None, S)
    absolute = pc.extract_regex(target, _ABSOLUTE)
    connect = pc.extract_regex(pc.if_else(pc.fill_null(pc.equal(method, "CONNECT"), False), target, none), _AUTHORITY)
    is_abs, is_conn = pc.is_valid(absolute), pc.is_valid(connect)
    host = pc.utf8_trim(pc.coalesce(group(absolute, "host"), group(connect, "host")), "[]")
    port = _nil_empty(pc.coalesce(_nil_empty(group(absolute, "port")), group(connect, "port"))).cast(_I32)
    path = pc.if_else(is_abs, pc.coalesce(_nil_empty(group(absolute, "rest")), pa.scalar("/", S)),
                      pc.if_else(is_conn, none, target))
    whole = pc.if_else(pc.is_null(query), target, pc.binary_join_element_wise(target, query, "?"))
    return {"http_request.url.path": path, "http_request.url.scheme": pc.utf8_lower(group(absolute, "scheme")),
            "http_request.url.hostname": _nil_empty(host), "http_request.url.port": port,
            "http_request.url.url_string": pc.if_else(is_abs, whole, none)}


def _forwarded_for(xff: pa.Array) -> pa.Array | None:
    """The X-Forwarded-For addresses of a quoted field after the user agent where it lists IPs
    (``"203.0.113.9, 10.0.0.1"``; ``"-"`` none): a list of them, null for any other field's value
    (the field is read as XFF only when it is a list of addresses). None when no line has one."""
    if xff.null_count == len(xff):
        return None
    parts = pc.split_pattern_regex(pc.utf8_trim(xff, " "), r",? +|,")
    flat = pc.list_flatten(parts)
    parent = pc.list_parent_indices(parts).to_numpy()
    ok = _is_ip(flat).to_numpy(zero_copy_only=False)
    bad = np.bincount(parent[~ok], minlength=len(xff)) > 0
    lists = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    mask = pa.array(bad | (pc.is_null(xff).to_numpy(zero_copy_only=False)) | (lists == 0))
    if pc.all(mask).as_py():
        return None
    return pa.ListArray.from_arrays(parts.offsets, flat, mask=mask)


def _access_log(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are access log lines, their HTTP Activity columns, ``_time`` the
    request's own time and ``_activity``), or None when there are none."""
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], _ACCESS_MARK):
        return None
    got = pc.extract_regex(msg, _ACCESS)
    hit = pc.is_valid(got)
    listed = None
    if not pc.all(hit).as_py():
        miss = pc.fill_null(pc.and_(pc.invert(hit), pc.match_substring(msg, '] "')), False)
        if pc.any(miss).as_py():  # an address list where the client stands
            st = pc.extract_regex(pc.if_else(miss, msg, pa.scalar(None, S)), _ACCESS_LIST)
            listed = pc.is_valid(st)
            got = pa.StructArray.from_arrays([pc.if_else(hit, got.field(i), st.field(i)) for i in range(got.type.num_fields)],
                                             fields=list(got.type), mask=pc.invert(pc.or_(hit, listed)))
            hit = pc.is_valid(got)
    if not pc.any(hit).as_py():
        return None
    got = got.filter(hit)
    n = len(got)
    if listed is not None:
        listed = listed.filter(hit)
    none = pa.scalar(None, S)

    def given(name: str) -> pa.Array:  # "-" is the formats' absent value
        v = group(got, name)
        return pc.if_else(pc.fill_null(pc.equal(v, "-"), True), none, v)

    client, proxies = _client_list(group(got, "client"), listed)
    is_ip = _is_ip(client)
    code = group(got, "code").cast(_I32)
    failed = pc.greater_equal(code, 400)
    method = _nil_empty(group(got, "method"))
    idx = pc.index_in(method, value_set=_HTTP_METHOD_NAMES)
    activity = pc.if_else(pc.is_null(method), pa.scalar(0, _I32), pc.fill_null(_HTTP_METHOD_IDS.take(idx), pa.scalar(99, _I32)))
    vhost = pc.extract_regex(_nil_empty(group(got, "vhost")), r"^(?P<h>.*?)(?::(?P<p>\d{1,5}))?$")
    cols = {
        "_activity": activity,
        "_time": pc.strptime(group(got, "t"), format="%d/%b/%Y:%H:%M:%S %z", unit="ms", error_is_null=True).cast(pa.int64()),
        "http_request.http_method": method,
        **_targets(method, pc.if_else(pc.is_null(method), none, group(got, "path")), _nil_empty(group(got, "query"))),
        "dst_endpoint.hostname": _nil_empty(group(vhost, "h")),
        "dst_endpoint.port": group(vhost, "p").cast(_I32),
        "http_request.url.query_string": _nil_empty(group(got, "query")),
        "http_request.version": _nil_empty(group(got, "ver")),
        "http_request.referrer": given("ref"),
        "http_request.user_agent": given("ua"),
        "http_response.code": code,
        "http_response.body_length": _number(given("size"), _I32),
        "src_endpoint.ip": pc.if_else(is_ip, client, none),
        "src_endpoint.hostname": pc.if_else(is_ip, none, client),
        "actor.user.name": given("user"),
        "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "status": pc.if_else(failed, "Failure", "Success"),
        "status_code": group(got, "code"),
    }
    if proxies is not None:
        cols["src_endpoint.intermediate_ips"] = proxies
    xff = _forwarded_for(group(got, "xff"))
    if xff is not None:
        cols["http_request.x_forwarded_for"] = xff
    req = pc.if_else(pc.is_null(method), group(got, "req"), none)
    cols["_request"] = json_string(req)  # the request line that is none, in unmapped
    for path in ("actor.user.name", "dst_endpoint.hostname", "dst_endpoint.port"):
        if cols[path].null_count == n:  # only where some line gives one (same batch shape otherwise)
            del cols[path]
    return hit, cols


#: an HAProxy HTTP log line (``option httplog``, HAProxy's configuration manual "HTTP log format"):
#: ``client_ip:port [accept_date] frontend backend/server Tq/Tw/Tc/Tr/Ta status bytes_read
#: req_cookie res_cookie termination_state actconn/feconn/beconn/srv_conn/retries
#: srv_queue/backend_queue [{captured request headers}] [{captured response headers}] "request"``
#: (a ``~`` after the frontend: the connection was TLS); the accept date has milliseconds and no zone
_HAPROXY = (
    r'^(?P<client>\S+):(?P<cport>\d{1,5}|-) \[(?P<t>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d)(?:\.(?P<ms>\d{3}))?\] '
    r'(?P<fe>\S+) (?P<be>[^/\s]+)/(?P<srv>\S+) (?:\S+ )?(?P<timers>[+-]?\d+/[+-]?\d+/[+-]?\d+/[+-]?\d+/[+-]?\d+) '
    r'(?P<code>-?\d{1,3}) \+?(?P<bytes>\d+) \S+ \S+ (?P<term>\S{4}) (?P<conns>\d+/\d+/\d+/\d+/\+?\d+) (?P<queues>\d+/\d+)'
    r'(?: \{(?P<reqh>[^}]*)\})?(?: \{(?P<resh>[^}]*)\})? "(?:(?P<method>[A-Z]{3,16}) (?P<path>[^\s"?]*)(?:\?(?P<query>[^\s"]*))?'
    r'(?: (?P<ver>HTTP/\d(?:\.\d)?))?|(?P<req>[^"]*))"'
)


def _haproxy_log(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are HAProxy HTTP log lines, their HTTP Activity columns, ``_time`` the
    accept date and ``_activity``), or None when there are none: the client as the source, the
    method's activity, the request's path, query and version, the status (``-1``, no response:
    none) and its outcome, the bytes sent to the client as ``http_response.length``, the total
    time ``Ta`` as ``duration``; the frontend, backend, server, timers, termination state and
    captured headers in ``unmapped.haproxy``."""
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], (b"] ",)):
        return None
    cand = pc.fill_null(pc.match_substring_regex(msg, r"^\S+:(?:\d{1,5}|-) \[\d\d/"), False)
    if (found := _matches(cand, msg, _HAPROXY)) is None:
        return None
    hit, got = found
    none = pa.scalar(None, S)
    client = group(got, "client")
    is_ip = _is_ip(client)
    named = pc.and_(pc.invert(is_ip), pc.not_equal(client, "-"))
    code = _number(group(got, "code"), _I32)
    failed = pc.fill_null(pc.greater_equal(code, 400), True)
    method = _nil_empty(group(got, "method"))
    idx = pc.index_in(method, value_set=_HTTP_METHOD_NAMES)
    activity = pc.if_else(pc.is_null(method), pa.scalar(0, _I32), pc.fill_null(_HTTP_METHOD_IDS.take(idx), pa.scalar(99, _I32)))
    secs = pc.strptime(group(got, "t"), format="%d/%b/%Y:%H:%M:%S", unit="ms", error_is_null=True).cast(_I64)
    total = group(pc.extract_regex(group(got, "timers"), r"/\+?(?P<ta>\d+)$"), "ta")
    items = [(k, json_string(_nil_empty(group(got, g)))) for k, g in (
        ("frontend", "fe"), ("backend", "be"), ("server", "srv"), ("timers", "timers"), ("termination_state", "term"),
        ("connections", "conns"), ("queues", "queues"), ("request_headers", "reqh"), ("response_headers", "resh"))]  # fmt: skip
    cols = {
        "_activity": activity,
        "_time": pc.add(secs, pc.fill_null(_number(group(got, "ms"), _I64), 0)),
        "_haproxy": _object(items, len(got)),
        "_request": json_string(pc.if_else(pc.is_null(method), group(got, "req"), none)),
        "http_request.http_method": method,
        "http_request.url.path": pc.if_else(pc.is_null(method), none, group(got, "path")),
        "http_request.url.query_string": _nil_empty(group(got, "query")),
        "http_request.version": _nil_empty(group(got, "ver")),
        "http_response.code": code,
        "http_response.length": _number(group(got, "bytes"), _I32),
        "src_endpoint.ip": pc.if_else(is_ip, client, none),
        "src_endpoint.hostname": pc.if_else(named, client, none),
        "src_endpoint.port": _number(group(got, "cport"), _I32),
        "duration": _number(total, _I64),
        "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "status": pc.if_else(failed, "Failure", "Success"),
        "status_code": pc.if_else(pc.is_valid(code), group(got, "code"), none),
    }
    return hit, cols


#: a Squid ``access.log`` line in its native format (``logformat squid``, Squid's
#: ``Log::Format::SquidNative``: ``%9ld.%03d %6d %s %s%s/%03d %ld %s %s %s %s%s/%s %s``): the time
#: (epoch s.ms, padded), the elapsed ms (padded), the client, the result code and status, the bytes
#: sent to the client, the method, the URL (``host:port`` for CONNECT), the user, the hierarchy code
#: and the server it went to, the content type
_SQUID = (
    r"^ *(?P<s>\d{9,11})\.(?P<ms>\d{3}) +(?P<elapsed>-?\d+) (?P<client>\S+) (?P<result>[A-Z_]+)/(?P<code>\d{3}) "
    r"(?P<bytes>\d+) (?P<method>[A-Z_-]+) (?P<url>\S+) (?P<user>\S+) (?:TIMEOUT_)?(?P<hier>[A-Z_]+)/(?P<peer>\S+) (?P<type>\S+)"
)
_URL_PARTS = r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>[^/:?#\s]+)(?::(?P<port>\d{1,5}))?(?P<path>/[^?#\s]*)?(?:\?(?P<q>[^#\s]*))?"


def _squid_log(msg: pa.Array) -> tuple[pa.Array, dict[str, pa.Array]] | None:
    """(the messages that are Squid native access log lines, their HTTP Activity columns,
    ``_time`` the line's own epoch time and ``_activity``), or None when there are none: the
    client as the source, the URL's host (and port) as the destination with the server Squid went
    to as its address, the method's activity, the URL (whole, scheme, host, port, path, query), the
    status and its outcome (a ``_DENIED`` result Denied), the bytes sent as
    ``http_response.length``, the content type, the user, the elapsed ms as the duration; the
    result and hierarchy codes in ``unmapped.squid``."""
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], (b"TCP_", b"NONE", b"UDP_")):
        return None
    cand = pc.fill_null(pc.match_substring_regex(msg, r"^ *\d{9,11}\.\d{3} +-?\d+ "), False)
    if (found := _matches(cand, msg, _SQUID)) is None:
        return None
    hit, got = found
    none = pa.scalar(None, S)

    def given(name: str) -> pa.Array:  # "-" is Squid's absent value
        v = group(got, name)
        return pc.if_else(pc.fill_null(pc.equal(v, "-"), True), none, v)

    client = group(got, "client")
    is_ip = _is_ip(client)
    url = group(got, "url")
    parts = pc.extract_regex(url, _URL_PARTS)
    peer = given("peer")
    code = _number(group(got, "code"), _I32)
    failed = pc.fill_null(pc.or_(pc.greater_equal(code, 400), pc.equal(code, 0)), True)
    denied = pc.fill_null(pc.match_substring(group(got, "result"), "DENIED"), False)
    method = given("method")
    idx = pc.index_in(method, value_set=_HTTP_METHOD_NAMES)
    activity = pc.if_else(pc.is_null(method), pa.scalar(0, _I32), pc.fill_null(_HTTP_METHOD_IDS.take(idx), pa.scalar(99, _I32)))
    secs = _number(group(got, "s"), _I64)
    items = [("result_code", json_string(group(got, "result"))), ("hierarchy_code", json_string(group(got, "hier")))]
    cols = {
        "_activity": activity,
        "_time": pc.add(pc.multiply(secs, 1000), _number(group(got, "ms"), _I64)),
        "_squid": _object(items, len(got)),
        "_request": pa.nulls(len(got), S),
        "http_request.http_method": method,
        "http_request.url.url_string": url,
        "http_request.url.scheme": group(parts, "scheme"),
        "http_request.url.hostname": group(parts, "host"),
        "http_request.url.port": _number(group(parts, "port"), _I32),
        "http_request.url.path": group(parts, "path"),
        "http_request.url.query_string": _nil_empty(group(parts, "q")),
        "http_response.code": code,
        "http_response.length": _number(group(got, "bytes"), _I32),
        "http_response.content_type": given("type"),
        "src_endpoint.ip": pc.if_else(is_ip, client, none),
        "src_endpoint.hostname": pc.if_else(is_ip, none, client),
        "dst_endpoint.hostname": group(parts, "host"),
        "dst_endpoint.ip": pc.if_else(_is_ip(peer), peer, none),
        "actor.user.name": given("user"),
        "duration": _number(group(got, "elapsed"), _I64),
        "action_id": pc.if_else(denied, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "action": pc.if_else(denied, "Denied", "Allowed"),
        "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(1, _I32)),
        "status": pc.if_else(failed, "Failure", "Success"),
        "status_code": group(got, "code"),
    }
    return hit, cols


#: an nginx error log line (``ngx_log_error_core``): ``YYYY/MM/DD HH:MM:SS [level] PID#TID: [*CID ]``
#: then the text; an HTTP request's context follows it (``ngx_http_log_error``: ``, client: A,
#: server: S, request: "R", [subrequest: "R", ]upstream: "U", host: "H", referrer: "F"``, each
#: where known; the stream module's ``, client: A, server: S, upstream: U``).
_NGINX_ERROR = (
    r"(?s)^(?P<t>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>emerg|alert|crit|error|warn|notice|info|debug)\] "
    r"(?P<pid>\d{1,10})#(?P<tid>\d{1,20}): (?:\*(?P<cid>\d{1,20}) )?(?P<text>.*)$"
)
_NGINX_CONTEXT = (
    r'(?s), client: (?P<client>[^\s,]+)(?:, server: (?P<server>[^,"]*?))?(?:, request: "(?P<request>(?:[^"\\]|\\.)*)")?'
    r'(?:, subrequest: "(?P<subrequest>(?:[^"\\]|\\.)*)")?(?:, upstream: "?(?P<upstream>[^",]*)"?)?'
    r'(?:, host: "(?P<host>(?:[^"\\]|\\.)*)")?(?:, referrer: "(?P<referrer>(?:[^"\\]|\\.)*)")?$'
)
#: nginx's levels in syslog's severity order (nginx sends level L with syslog severity L - 1)
_NGINX_LEVELS = pa.array(["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"], S)


def _nginx_error(f: dict[str, pa.Array]) -> None:
    """Read the messages that are nginx error log lines (bare lines of ``error.log``, or the MSG of
    nginx's ``error_log syslog:``, which sends the line with its own stamp) into ``f``, in place:
    the level is the severity where no ``<PRI>`` gave one, the pid the process's, ``nginx`` the
    program where no TAG named one, the stamp the time where no header gave one (it has no zone:
    taken as UTC, as a BSD header's), the text after the prefix the message of a bare line;
    ``f["nginx"]`` (for ``unmapped.nginx``) the thread and connection ids and the request's
    context (client, server, request, upstream, host, referrer)."""
    msg = f["msg"]
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], (b"] ",)):
        return
    cand = pc.fill_null(pc.equal(pc.utf8_slice_codeunits(msg, 4, 5), "/"), False)  # YYYY/: the regex runs on those only
    if not pc.any(cand).as_py():
        return
    got = pc.extract_regex(pc.if_else(cand, msg, pa.scalar(None, S)), _NGINX_ERROR)
    hit = pc.is_valid(got)
    if not pc.any(hit).as_py():
        return
    none = pa.scalar(None, S)
    bare = pc.and_(hit, pc.is_null(f["fmt"]))  # no syslog header: the line is nginx's alone
    stamp = pc.strptime(group(got, "t"), format="%Y/%m/%d %H:%M:%S", unit="ms", error_is_null=True).cast(pa.int64())
    f["times"] = pc.coalesce(f["times"], stamp)
    f["sev"] = pc.coalesce(f["sev"], pc.index_in(group(got, "level"), value_set=_NGINX_LEVELS))
    f["app"] = pc.if_else(hit, pc.coalesce(f["app"], pa.scalar("nginx", S)), f["app"])
    f["procid"] = pc.coalesce(f["procid"], group(got, "pid"))
    f["msg"] = pc.if_else(bare, group(got, "text"), msg)
    f["fmt"] = pc.if_else(bare, pa.scalar("nginx error", S), f["fmt"])
    ctx = pc.extract_regex(group(got, "text"), r"(?s)^.*?(?P<ctx>, client: [^\s,]+(?:, .*)?)$")
    parts = pc.extract_regex(group(ctx, "ctx"), _NGINX_CONTEXT)
    items = [("tid", json_string(group(got, "tid"))), ("connection", json_string(group(got, "cid")))]
    items += [(k, json_string(group(parts, k))) for k in ("client", "server", "request", "subrequest", "upstream", "host", "referrer")]
    f["nginx"] = pc.if_else(hit, _object(items, len(msg)), none)


#: an Apache httpd error log line (``ErrorLogFormat``'s default, 2.2 and 2.4): ``[Www Mmm dd
#: hh:mm:ss[.usec] yyyy] [[module]:level] [pid P[:tid T]] [source(line): ][client A[:port]] text``,
#: or with ``%{cu}t`` the ISO stamp with its zone (``[2025-07-22 15:45:51.323610 +0200]``)
_APACHE_ERROR = (
    r"(?s)^\[(?:[A-Z][a-z]{2} (?P<mon>[A-Z][a-z]{2}) (?P<d>[ \d]?\d) (?P<hms>\d\d:\d\d:\d\d)(?:\.(?P<us>\d{1,6}))? (?P<y>\d{4})"
    r"|(?P<iso>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(?P<us2>\d{1,6}))? (?P<tz>[+-]\d{4}))\] "
    r"\[(?:(?P<module>[\w-]*):)?(?P<level>emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\]"
    r"(?: \[pid (?P<pid>\d{1,10})(?::tid (?P<tid>\d{1,20}))?\])?(?: (?P<source>\S+\(\d+\)):)?"
    r"(?: \[client (?P<client>[^\]\s]+)\])? (?P<text>.*)$"
)
#: Apache's levels in syslog's severity order (trace1-8 below debug: debug)
_APACHE_LEVELS = pa.array(["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"], S)


def _apache_error(f: dict[str, pa.Array]) -> None:
    """Read the messages that are Apache httpd error log lines (bare lines of ``error_log``, or
    a syslog MSG) into ``f``, in place, as :func:`_nginx_error` does nginx's: the level as the
    severity where no ``<PRI>`` gave one (``traceN`` debug), the pid, ``httpd`` the program where
    no TAG named one, the stamp (it has the year; no zone unless ``%{cu}t``: UTC) the time where
    the header gave none or a yearless one, an ``AHnnnnn:`` code as the event code, the text the
    message of a bare line; ``f["apache"]`` (for ``unmapped.apache``) the module, thread, the
    source file and line of a trace and the client."""
    msg = f["msg"]
    if msg.null_count == len(msg) or not _fast.contains_any(msg.buffers()[2], (b"] [",)):
        return
    cand = pc.fill_null(pc.starts_with(msg, "["), False)
    if not pc.any(cand).as_py():
        return
    got = pc.extract_regex(pc.if_else(cand, msg, pa.scalar(None, S)), _APACHE_ERROR)
    hit = pc.is_valid(got)
    if not pc.any(hit).as_py():
        return
    none = pa.scalar(None, S)
    bare = pc.and_(hit, pc.is_null(f["fmt"]))  # no syslog header: the line is httpd's alone
    day = pc.utf8_lpad(pc.utf8_trim_whitespace(group(got, "d")), 2, "0")
    local = pc.strptime(pc.binary_join_element_wise(group(got, "y"), group(got, "mon"), day, group(got, "hms"), " "),
                        format="%Y %b %d %H:%M:%S", unit="ms", error_is_null=True).cast(_I64)  # fmt: skip
    zoned = pc.strptime(pc.binary_join_element_wise(group(got, "iso"), group(got, "tz"), " "),
                        format="%Y-%m-%d %H:%M:%S %z", unit="ms", error_is_null=True).cast(_I64)  # fmt: skip
    micros = pc.coalesce(group(got, "us"), group(got, "us2"))
    ms = pc.fill_null(_number(pc.utf8_slice_codeunits(pc.utf8_rpad(micros, 3, "0"), 0, 3), _I64), 0)
    stamp = pc.add(pc.coalesce(local, zoned), ms)
    level = pc.replace_substring_regex(group(got, "level"), r"^trace\d$", "debug")
    text = group(got, "text")
    code = group(pc.extract_regex(text, r"^(?P<c>AH\d{5}): "), "c")
    f["times"] = _own_time(f, stamp)
    f["sev"] = pc.coalesce(f["sev"], pc.index_in(level, value_set=_APACHE_LEVELS))
    f["app"] = pc.if_else(hit, pc.coalesce(f["app"], pa.scalar("httpd", S)), f["app"])
    f["procid"] = pc.coalesce(f["procid"], group(got, "pid"))
    f["msgid"] = pc.coalesce(f["msgid"], code)
    f["msg"] = pc.if_else(bare, text, msg)
    f["fmt"] = pc.if_else(bare, pa.scalar("Apache error", S), f["fmt"])
    items = [(k, json_string(_nil_empty(group(got, k)))) for k in ("module", "tid", "source", "client")]
    f["apache"] = pc.if_else(hit, _object(items, len(msg)), none)
