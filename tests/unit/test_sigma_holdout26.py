"""Sigma rules of SigmaHQ's network/dns and web/product/apache folders (twenty-sixth round).

Rules: tests/cases/sigma_holdout (see SOURCE.md "Round 26 (sigma)"). DNS events are Amazon Route 53
Resolver query logs (elastic/integrations' test file, and records written in its layout) and Zeek
dns.log records as Zeek's JSON writer writes them (``id.orig_h`` one key); web events are Apache
access and error log lines.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec

from secpipe import formats
from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import ndjson as _ndjson
from tests.unit.holdout_support import sigma_rows as _rows

RULES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"
ROUTE53 = RULES / "elastic-route53-resolver.log"






def _route53(name: str, qtype: str, answers: list[tuple[str, str]], src: str = "172.31.86.159", i: int = 0) -> dict:
    """A Route 53 Resolver query log record (the layout of the sample's records)."""
    return {"version": "1.100000", "account_id": "626345947581", "region": "us-east-1", "vpc_id": "vpc-01e31a7c",
            "query_timestamp": f"2021-12-11T22:49:{i % 60:02d}Z", "query_name": name, "query_type": qtype,
            "query_class": "IN", "rcode": "NOERROR", "answers": [{"Rdata": r, "Type": t, "Class": "IN"} for r, t in answers],
            "srcaddr": src, "srcport": str(40000 + i), "transport": "UDP", "srcids": {"instance": "i-079c44232510ca8ff"}}


def _zeek(query: str, qtype: str, answers: list[str] | None, orig: str = "10.2.9.133", i: int = 0) -> dict:
    """A Zeek dns.log record as its JSON writer writes it (Zeek's DNS::Info fields)."""
    return {"ts": 1637226000.0 + i, "uid": f"CWb7Iv2BSLQS2X2x{i:02d}", "id.orig_h": orig, "id.orig_p": 49700 + i,
            "id.resp_h": "10.2.9.9", "id.resp_p": 53, "proto": "udp", "trans_id": 13551 + i, "query": query,
            "qclass": 1, "qclass_name": "C_INTERNET", "qtype": {"TXT": 16, "NULL": 10, "A": 1}[qtype],
            "qtype_name": qtype, "rcode": 0, "rcode_name": "NOERROR", "AA": False, "TC": False, "RD": True,
            "RA": True, "Z": 0, "answers": answers, "TTLs": [60.0] * len(answers or []), "rejected": False}


# -- category: dns (the taxonomy names the category, SigmaHQ's rules the fields) -----------------

def test_dns_rules_read_route53_and_zeek_records() -> None:
    sample = ROUTE53.read_bytes().splitlines()  # five real records: A, PTR, AAAA, A, PTR (no TXT, no NULL)
    events = [msgspec.json.decode(line) for line in sample] + [
        _route53("x1.t.example.net.", "TXT", [('"IEX(New-Object Net.WebClient).DownloadString(1)"', "TXT")], i=1),
        _route53("x2.t.example.net.", "TXT", [('"v=spf1 include:_spf.example.net ~all"', "TXT")], i=2),
        _zeek("x3.t.example.net", "TXT", ["cmd.exe /c whoami"], i=3),
        _zeek("x4.t.example.net", "A", ["198.51.100.7"], i=4),
        _route53("vaaaakat2.t.example.net.", "NULL", [], i=5),
        _zeek("paaaadgz.t.example.net", "NULL", None, i=6),
    ]
    body = _ndjson(events)
    assert _rows(load_rules([RULES / "net_dns_susp_txt_exec_strings.yml"]), body) == [5, 7]
    assert _rows(load_rules([RULES / "net_dns_tunneling_null_record_query.yml"]), body) == [9, 10]


def test_dns_names_match_with_the_root_dot(tmp_path: Path) -> None:
    # Route 53 writes the absolute name (``abcd.example.com.``): the same DNS name as without the dot
    events = [_route53("10.0.0.1.nip.io.", "A", [("10.0.0.1", "A")]),
              _zeek("app.10-0-0-1.sslip.io", "A", ["10.0.0.1"]),
              _route53("nip.io.example.com.", "A", [("198.51.100.7", "A")]),  # the service name, not at the end
              _route53("aaa.stage.14231723.example.net.", "TXT", []),
              _zeek("post.1000.14231723.example.net", "A", None),
              _route53("www.example.com.", "A", [("198.51.100.8", "A")])]
    body = _ndjson(events)
    assert _rows(load_rules([RULES / "net_dns_wildcard_dns_service.yml"]), body) == [0, 1]
    assert _rows(load_rules([RULES / "net_dns_mal_cobaltstrike.yml"]), body) == [3, 4]
    # the real sample's names: a whole-name comparison and an end comparison both find the dotted form
    rule = textwrap.dedent("""\
        title: a name and a zone
        id: 3c5e7a9b-1d3f-4a5b-8c7d-9e0f1a2b3c4d
        logsource: {category: dns}
        detection:
            name: {query: abcd.example.com}
            zone: {query|endswith: '.in-addr.arpa'}
            both: {query|endswith|all: ['.com', '.example.com']}
            condition: name or zone or both
        level: low
    """)
    (tmp_path / "r.yml").write_text(rule)
    rs = load_rules([tmp_path / "r.yml"])
    # rows 1 and 4 are PTR queries of in-addr.arpa, row 3 abcd.example.com.; values linked with
    # `all` are left as written (row 2's amazonaws.com. ends in neither without the dot)
    assert _rows(rs, ROUTE53.read_bytes()) == [1, 3, 4]


def test_dns_rate_correlation_groups_by_the_source_address() -> None:
    from secpipe.detect.sigma.correlation import CorrelationEngine

    rs = load_rules([RULES / "net_dns_high_null_records_requests_rate.yml"])
    assert not rs.unsupported, rs.unsupported

    def fired(sources: list[str], zeek: bool = False) -> int:
        events = [_zeek(f"p{i:04d}.t.example.net", "NULL", None, orig=s, i=i) if zeek
                  else _route53(f"p{i:04d}.t.example.net.", "NULL", [], src=s, i=i) for i, s in enumerate(sources)]
        eng = CorrelationEngine(rs, None, clock=lambda: 1639262999.0)
        n = 0
        for b in formats.get("json").decode(_ndjson(events), "t").batches:
            out = eng.process(b, rs.matches(b))
            n += 0 if out is None else out.num_rows
        return n

    assert fired(["172.31.86.159"] * 51) == 1
    assert fired(["172.31.86.159"] * 26 + ["172.31.86.160"] * 25) == 0  # two hosts, neither above 50
    assert fired(["172.31.86.159"] * 50) == 0
    assert fired(["10.2.9.133"] * 51, zeek=True) == 1  # Zeek's id.orig_h


def test_route53_records_keep_their_query_time() -> None:
    # the json format reads a Route 53 Resolver record's query_timestamp as the event time (it took
    # the receipt time: every record of a file fell into one correlation window)
    dec = formats.get("json").decode(ROUTE53.read_bytes(), "test")
    (batch,) = dec.batches
    assert batch.column("time").to_pylist() == [1639262783000, 1639262783000, 1639262786000, 1639262913000,
                                               1612461115000]  # 2021-12-11T22:46:23Z ... 2021-02-04T17:51:55Z
    from secpipe.detect.sigma.correlation import CorrelationEngine

    rs = load_rules([RULES / "net_dns_high_null_records_requests_rate.yml"])
    events = [_route53(f"p{i:04d}.t.example.net.", "NULL", []) | {"query_timestamp": f"2021-12-11T22:{40 + i // 20:02d}:"
                                                                                       f"{i % 20 * 3:02d}Z"}
              for i in range(51)]  # one every 3 s: at most 20 within a minute
    eng = CorrelationEngine(rs, None, clock=lambda: 1639263000.0)
    out = [eng.process(b, rs.matches(b)) for b in formats.get("json").decode(_ndjson(events), "t").batches]
    assert sum(0 if o is None else o.num_rows for o in out) == 0


# -- service: apache (SigmaHQ's web/product/apache rules) -----------------------------------------

def test_apache_webshell_rule_reads_the_query_string() -> None:
    # Apache's combined format: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
    lines = ['198.51.100.23 - - [05/Aug/2023:09:14:02 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 57 "-" '
             '"python-requests/2.31.0"',
             '198.51.100.23 - - [05/Aug/2023:09:14:03 +0000] "GET /docs/whoami.html HTTP/1.1" 200 5120 "-" "Mozilla/5.0"',
             '<190>Aug  5 09:14:04 web1 apache2: www.example.com:443 198.51.100.23 - - [05/Aug/2023:09:14:04 +0000] '
             '"POST /wp-content/x.php?c=WHOAMI&x=1 HTTP/1.1" 200 12 "-" "curl/8.0"']
    rs = load_rules([RULES / "web_apache_webshell.yml"])
    assert _rows(rs, "\n".join(lines).encode(), "syslog") == [0, 2]
    # a JSON event with the rule's own field is read as before
    assert _rows(rs, _ndjson([{"uri_query": "cmd=whoami"}, {"uri_query": "q=who"}])) == [0]


def test_apache_error_log_keyword_rule() -> None:
    # Apache 2.4's error log: [time] [module:level] [pid N:tid T] AHnnnnn: message
    lines = ["[Sat Aug 12 04:05:51.123456 2023] [core:notice] [pid 1234:tid 140000000000000] AH00052: child pid 5678 "
             "exit signal Segmentation fault (11)",
             "[Sat Aug 12 04:05:52.123456 2023] [mpm_event:notice] [pid 1234:tid 140000000000000] AH00489: "
             "Apache/2.4.57 (Unix) configured -- resuming normal operations"]
    assert _rows(load_rules([RULES / "web_apache_segfault.yml"]), "\n".join(lines).encode(), "syslog") == [0]


def test_taxonomy_apache_product_reads_access_lines(tmp_path: Path) -> None:
    # the taxonomy's log source for httpd's access log is product: apache, service: access; its
    # lines are syslog-format events (HTTP Activity), not JSON
    rule = tmp_path / "r.yml"
    rule.write_text((RULES / "web_apache_webshell.yml").read_text().replace(
        "    service: apache\n", "    product: apache\n    service: access\n"))
    rs = load_rules([rule])
    assert rs.rules[0].formats == ("json", "syslog")
    lines = ['198.51.100.23 - - [05/Aug/2023:09:14:02 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 57 "-" "curl/8.0"',
             '198.51.100.23 - - [05/Aug/2023:09:14:03 +0000] "GET /search?q=who HTTP/1.1" 200 57 "-" "Mozilla/5.0"']
    assert _rows(rs, "\n".join(lines).encode(), "syslog") == [0]
    # a rule naming apache both as product and service is mapped once: its null test reads each
    # spelling once, ANDed (absent only when absent in all of them)
    rule.write_text(textwrap.dedent("""\
        title: request without a path
        id: 8a0c2e4a-6c8e-4a0c-92e4-7b9d1f3a5c7e
        logsource: {product: apache, service: apache}
        detection: {nil: {uri_path: null}, condition: nil}
        level: low
    """))
    rs = load_rules([rule])
    assert len([leaf for leaf in rs.rules[0].compiled.leaves if leaf.field == "http_request.url.path"]) == 1
    assert _rows(rs, _ndjson([{"uri_path": "/x", "c-ip": "203.0.113.9"}, {"uri_path": None, "c-ip": "203.0.113.9"}])) == [1]


# -- odd rule files: a reason that says what to change ------------------------------------------

def test_unquoted_wildcard_value_is_refused_with_the_fix(tmp_path: Path) -> None:
    # the 2018 shape of "Reconnaissance Activity with Net Command" (P4T12ICK/Sigma-Rule-Repository
    # detection-rules/T1087/win_susp_commands_recon_activity.yml): plain values beginning with '*',
    # which YAML reads as aliases of anchors the file never defines
    (tmp_path / "recon.yml").write_text(textwrap.dedent("""\
        title: Reconnaissance Activity with Net Command
        logsource: {category: process_creation, product: windows}
        detection:
            selection:
                CommandLine:
                    - *tasklist
                    - qprocess
            condition: selection
        level: medium
    """))
    (tmp_path / "ok.yml").write_text((RULES / "web_apache_segfault.yml").read_text())
    rs = load_rules([tmp_path])
    assert rs.total == 2 and len(rs.rules) == 1
    (u,) = rs.unsupported
    assert u.rule.endswith("recon.yml") and "found undefined alias 'tasklist'" in u.reason
    assert "quote the value ('*tasklist')" in u.reason
