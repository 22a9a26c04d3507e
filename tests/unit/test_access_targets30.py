"""HTTP access log lines: the X-Forwarded-For field of nginx's ``main`` format, and request targets
in absolute and authority form (noticed in round 30's threat-intel sweep: a forward proxy's
``GET http://host/path`` put the whole URL in ``url.path``, and the forwarded address was lost).

nginx's ``main`` format is the one the official nginx Docker image's ``nginx.conf`` defines
(``'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
"$http_user_agent" "$http_x_forwarded_for"'``); the first line is one such image wrote, as quoted in
public Docker tutorials (``docker logs`` of a fresh ``nginx`` container), the others follow the same
format with a forwarded address and the request targets RFC 9112 3.2 defines (absolute form: a
forward proxy's request, as open-proxy scanners send them; authority form: ``CONNECT``).
"""

from __future__ import annotations

from secpipe import formats

LINES = [
    '172.17.0.1 - - [13/Sep/2020:11:13:47 +0000] "GET / HTTP/1.1" 200 612 "-" '
    '"Mozilla/5.0 (X11; Linux x86_64; rv:81.0) Gecko/20100101 Firefox/81.0" "-"',
    '10.0.0.5 - - [13/Sep/2020:11:13:48 +0000] "GET /api/v1/users?id=3 HTTP/1.1" 200 42 "-" "curl/7.68.0" '
    '"203.0.113.9, 198.51.100.7"',
    '192.0.2.10 - - [13/Sep/2020:11:13:49 +0000] "GET http://Example.COM:8080/x/y.sh?a=1 HTTP/1.1" 400 157 "-" "-"',
    '192.0.2.11 - - [13/Sep/2020:11:13:50 +0000] "CONNECT internal.example:443 HTTP/1.1" 400 157 "-" "-"',
    '192.0.2.12 - - [13/Sep/2020:11:13:51 +0000] "GET http://[2001:db8::1] HTTP/1.0" 400 157 "-" "-" "somehost"',
]


def _rows() -> list[dict]:
    dec = formats.get("syslog").decode("\n".join(LINES).encode(), "t")
    assert not dec.dead
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert [r["class_uid"] for r in rows] == [4002] * len(LINES)
    return sorted(rows, key=lambda r: r["time"])


def test_forwarded_for_is_read_where_it_lists_addresses() -> None:
    rows = _rows()
    assert [r["http_request"].get("x_forwarded_for") for r in rows] == [
        None, ["203.0.113.9", "198.51.100.7"], None, None, None]  # "-" and a host name are no XFF
    # the client is still the peer that connected (XFF is what the client says: it can be forged)
    assert [r["src_endpoint"]["ip"] for r in rows] == ["172.17.0.1", "10.0.0.5", "192.0.2.10", "192.0.2.11", "192.0.2.12"]


def test_request_targets_in_absolute_and_authority_form() -> None:
    urls = [r["http_request"]["url"] for r in _rows()]
    pick = [(u["scheme"], u["hostname"], u["port"], u["path"], u["query_string"], u["url_string"]) for u in urls]
    assert pick == [
        (None, None, None, "/", None, None),
        (None, None, None, "/api/v1/users", "id=3", None),
        ("http", "Example.COM", 8080, "/x/y.sh", "a=1", "http://Example.COM:8080/x/y.sh?a=1"),
        (None, "internal.example", 443, None, None, None),
        ("http", "2001:db8::1", None, "/", None, "http://[2001:db8::1]"),
    ]
