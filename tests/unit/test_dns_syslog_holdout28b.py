"""DNS servers' query logs over syslog (BIND, dnsmasq, Unbound) as OCSF DNS Activity, and
``category: dns`` Sigma rules on them (samples: tests/cases/dns_syslog28/SOURCES.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pyarrow as pa

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.schema.conformance import check_rows
from tests.unit.holdout_support import sigma_rows as _rows

CASES = Path(__file__).parents[1] / "cases"
SYSLOG_WIDE = tuple(f"{o} constraint" for o in ("device", "src_endpoint", "dst_endpoint", "actor.process"))
LOG = (CASES / "dns_syslog28" / "queries.log").read_bytes()


def _dns(body: bytes) -> list[dict]:
    dec = formats.get("syslog").decode(body, "test")
    assert not dec.dead
    rows = [r for b in dec.batches if b.column("class_uid")[0].as_py() == 4003 for r in pa.Table.from_batches([b]).to_pylist()]
    # every syslog row's endpoints and device name no uid, a program without a pid: the format's, not these lines'
    problems = [p for p in check_rows("dns_activity", rows) if not p.startswith(SYSLOG_WIDE)]
    assert not problems, problems
    return rows


def test_bind_dnsmasq_and_unbound_lines_are_dns_activity() -> None:
    rows = _dns(LOG)
    assert len(rows) == 13  # every line was a Base Event with no DNS field
    got = [(r["activity_id"], r["query"]["hostname"], r["query"]["type"], r["query"]["class"],
            (r["src_endpoint"] or {}).get("ip"), (r["src_endpoint"] or {}).get("port"), (r["dst_endpoint"] or {}).get("ip"),
            [a["rdata"] for a in r["answers"] or []], r["rcode_id"], r["rcode"]) for r in rows]  # fmt: skip
    assert got == [
        (1, "example.org", "NS", "IN", "192.168.117.234", 53311, "192.168.36.217", [], None, None),
        (1, "example.org", "NS", "IN", "192.168.1.130", 63565, "192.168.1.130", [], None, None),
        (2, "ricreig.com", "NS", "IN", "194.145.196.18", 4795, None, [], 5, "Refused"),
        (2, ".", "NS", "IN", "62.109.4.89", 9334, None, [], 5, "Refused"),
        (2, "openquery.eu", "AXFR", "IN", "223.252.23.219", 56275, None, [], 5, "Refused"),
        (1, "video-edge-b1fd44.muc01.abs.hls.ttvnw.net", "AAAA", None, "192.168.1.185", None, None, [], None, None),
        (1, "video-edge-8b17e9.pdx01.abs.hls.ttvnw.net", None, None, None, None, "208.67.222.222", [], None, None),
        (2, "science-edge-external-prod-73889260.us-west-2.elb.amazonaws.com", None, None, None, None, None,
         ["35.162.12.228"], 0, "NoError"),
        (2, "nx.example.net", None, None, None, None, None, [], 3, "NXDomain"),
        (1, "google.com.", "A", "IN", "127.0.0.1", None, None, [], None, None),
        (2, "google.com.", "A", "IN", "127.0.0.1", None, None, [], 0, "NoError"),
        (1, "ttvnw.net", "DS", None, None, None, "208.67.222.222", [], None, None),
        (2, "tags.tiqcdn.com", None, None, None, None, None, ["0.0.0.0"], 0, "NoError"),
    ]
    # BIND's refusals and the name Pi-hole blocked: Denied, Blocked (nothing said of the others)
    assert [(r["action"], r["disposition_id"]) for r in rows if r["action_id"]] == [("Denied", 2)] * 4
    assert [r["query"]["hostname"] for r in rows if r["action_id"]][-1] == "tags.tiqcdn.com"
    assert {r["activity_name"] for r in rows} == {"Query", "Response"}
    # the server is the host that logged the line, but where dnsmasq forwarded the query upstream
    assert [(r["dst_endpoint"] or {}).get("hostname") for r in rows][:7] == ["ns1", "ns1", "raid5", "raid5", "catinthehat", "pihole", None]
    assert all(r["actor"]["process"]["name"] in ("named", "dnsmasq", "unbound") for r in rows)


def test_other_programs_lines_stay_as_they_were() -> None:
    # dnsmasq's DHCP lines, another program's line shaped like a query, named's other messages
    body = (b"Jul  7 19:39:45 pihole dnsmasq-dhcp[536]: DHCPACK(eth0) 192.168.1.185 aa:bb:cc:dd:ee:ff host\n"
            b"Jul  7 19:39:45 pihole sshd[9]: query[A] evil.example from 192.168.1.185\n"
            b"Jul  7 19:39:45 ns1 named[812]: zone example.org/IN: loaded serial 2021070401\n")
    assert _dns(body) == []


def test_sigmahq_dns_rules_fire_on_syslog_query_lines(tmp_path: Path) -> None:
    # SigmaHQ rules/network/dns/net_dns_mal_cobaltstrike.yml (query|startswith 'aaa.stage.'):
    # a BIND query line for a beacon's staging name fires it, the same line for another name not
    rs = load_rules([CASES / "sigma_holdout" / "net_dns_mal_cobaltstrike.yml"])
    line = LOG.splitlines()[1]
    assert _rows(rs, line, "syslog") == []
    assert _rows(rs, line.replace(b"example.org", b"aaa.stage.14011.example.org"), "syslog") == [0]
    # rules/network/dns/net_dns_tunneling_null_record_query (qtype_name: NULL, iodine's record type)
    rs = load_rules([CASES / "sigma_holdout" / "net_dns_tunneling_null_record_query.yml"])
    masq = LOG.splitlines()[5]
    assert _rows(rs, masq, "syslog") == []
    assert _rows(rs, masq.replace(b"query[AAAA]", b"query[NULL]"), "syslog") == [0]
    # the taxonomy's ``answer`` and ``src_ip`` on DNS Activity rows; an sshd login from the same
    # address is no DNS query
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: DNS answer and client
        logsource: {category: dns}
        detection:
            answer: {answer: 35.162.12.228}
            client: {src_ip: 192.168.1.185}
            condition: answer or client
        """))
    rs = load_rules([rule])
    sshd = b"Jul  7 19:39:45 pihole sshd[9]: Accepted password for pi from 192.168.1.185 port 50022 ssh2"
    assert _rows(rs, b"\n".join([LOG.splitlines()[5], LOG.splitlines()[7], LOG.splitlines()[8], sshd]), "syslog") == [0, 1]


def test_bind_own_log_file_is_detected_and_read_with_its_stamp() -> None:
    # a file channel's lines (print-time stamp, no syslog header): --format auto dead-lettered the
    # whole file as no format's
    body = (CASES / "dns_syslog28" / "named-file.log").read_bytes()
    found = formats.detect(body[:4096])
    assert found is not None and found.name == "syslog"
    rows = _dns(body)
    assert [(r["time"], r["activity_id"], r["query"]["hostname"], r["query"]["type"], r["src_endpoint"]["ip"],
             r["rcode"], r["actor"]["process"]["name"]) for r in rows] == [  # fmt: skip
        (1377253976621, 2, "redginseng.com.ua", "A", "82.207.95.42", "Refused", "named"),
        (1377625785330, 2, "watt.kiev.ua", "AXFR", "59.167.242.100", "Refused", "named"),
        (1376192171372, 2, "domain.com", "AXFR", "1.2.3.4", "Refused", "named"),
    ]


def test_unbound_lines_tagged_query_and_reply() -> None:
    # log-tag-queryreply: yes writes ``query:`` / ``reply:`` where ``info:`` was (Unbound's log_reply_info)
    lines = [line for line in LOG.splitlines() if b" unbound: " in line]
    tagged = b"\n".join([lines[0].replace(b"info:", b"query:"), lines[1].replace(b"info:", b"reply:")])
    assert [(r["activity_id"], r["query"]["hostname"], r["rcode"]) for r in _dns(tagged)] == [
        (1, "google.com.", None), (2, "google.com.", "NoError")]


def test_splunk_sc4s_isc_bind_lines_and_servfail_responses() -> None:
    rows = _dns((CASES / "dns_syslog28" / "sc4s-isc.log").read_bytes())
    got = [(r["activity_id"], r["query"]["hostname"], r["query"]["type"], r["src_endpoint"]["ip"], r["rcode"],
            r["status_detail"]) for r in rows]  # fmt: skip
    assert got == [  # the RFC 1918 notice is no query: a Base Event
        (1, "abc.com", "A", "192.168.1.3", None, None),
        (1, "2.1.168.192.in-addr.arpa", "PTR", "192.168.1.3", None, None),
        (1, "abc.com", "AAAA", "192.168.1.3", None, None),
        (1, "abc.com", "AAAA", "192.168.1.3", None, None),
        (2, "52.219.226.124.in-addr.arpa", "PTR", "38.87.196.34", "ServError", "SERVFAIL"),
    ]
