"""Log readers of the twenty-ninth round: Zeek's TSV logs (tests/cases/zeek_tsv, see its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import sigma_rows as _rows

ZEEK = Path(__file__).resolve().parents[1] / "cases" / "zeek_tsv"


def _records(body: bytes) -> list[dict]:
    dec = formats.get("zeek_tsv").decode(body, "t")
    assert not dec.dead, dec.dead
    return [orjson.loads(r) for b in dec.batches for r in b.column("raw_data").to_pylist()]


# -- Zeek TSV logs: the rows Zeek's JSON writer writes, stored by the json format -------------------

def test_auto_detection_reads_zeek_tsv_logs() -> None:
    # each was dead-lettered as "unrecognized input": no format knew the ASCII writer's header
    for path in sorted(ZEEK.glob("*.log")):
        got = formats.detect(path.read_bytes()[:65536])
        assert got is not None and got.name == "zeek_tsv", path.name
    assert formats.detect(b"#separator is a word\nfoo\n") is None


def test_dns_rows_are_the_json_writers_records() -> None:
    rows = _records((ZEEK / "zeek-ipv6-frag-dns.log").read_bytes())
    assert len(rows) == 2
    assert rows[0] == {
        "_path": "dns", "ts": 1331084278.438444, "uid": "UWkUyAuUGXf",
        "id.orig_h": "2001:470:1f11:81f:d138:5f55:6d4:1fe2", "id.orig_p": 51850,
        "id.resp_h": "2607:f740:b::f93", "id.resp_p": 53, "proto": "udp", "trans_id": 3903,
        "query": "txtpadding_323.n1.netalyzr.icsi.berkeley.edu", "qclass": 1, "qclass_name": "C_INTERNET",
        "qtype": 16, "qtype_name": "TXT", "rcode": 0, "rcode_name": "NOERROR", "AA": True, "TC": False,
        "RD": True, "RA": False, "Z": 0, "answers": ["This TXT record should be ignored"], "TTLs": [1.0],
        "rejected": False}
    dec = formats.get("zeek_tsv").decode((ZEEK / "zeek-ipv6-frag-dns.log").read_bytes(), "t")
    assert dec.batches[0].column("time").to_pylist() == [1331084278438, 1331084293592]
    assert dec.batches[0].column("metadata").to_pylist()[0]["log_name"] == "json"  # where product zeek rules run


def test_unset_empty_sets_and_escapes() -> None:
    conn = _records((ZEEK / "brim-conn.log").read_bytes())[0]
    for unset in ("service", "local_orig", "local_resp", "tunnel_parents"):
        assert unset not in conn  # '-': no key, as the JSON writer omits unset fields
    assert conn["duration"] == 0.004266 and conn["orig_bytes"] == 97 and conn["id.resp_p"] == 3389
    http = _records((ZEEK / "zeek-ayiya-http.log").read_bytes())
    assert http[0]["tags"] == [] and "proxied" not in http[0] and http[1]["referrer"] == "http://ipv6.google.com/"
    assert http[1]["uri"].startswith("/csi?v=3&s=webhp")  # commas of a string column are no set separators
    ssh = _records((ZEEK / "zeek-ascii-binary-ssh.log").read_bytes())  # LogAscii::separator = "|"
    assert [r["data"] for r in ssh] == ["abc\n\\xffdef", "abc|\\xffdef", "abc\\xff|def"]
    assert {r["_path"] for r in ssh} == {"ssh"}


def test_bad_rows_are_dead_lettered_alone_and_logs_may_follow_each_other() -> None:
    dns = (ZEEK / "zeek-ipv6-frag-dns.log").read_bytes()
    conn = (ZEEK / "brim-conn.log").read_bytes()
    broken = dns.replace(b"\t3903\t", b"\tabc\t").replace(b"\tF\n#close", b"\n#close")
    dec = formats.get("zeek_tsv").decode(b"1.0\tstray\n" + broken + conn, "t")
    reasons = [d.reason for d in dec.dead]
    assert len(reasons) == 3, reasons
    assert "a row before the log's #fields header" in reasons[0]
    assert "line 10: trans_id: b'abc' is no count" in reasons[1] and "line 11: 22 values where #fields names 23" in reasons[2]
    rows = [orjson.loads(r) for b in dec.batches for r in b.column("raw_data").to_pylist()]
    assert [r["_path"] for r in rows] == ["conn"]  # the conn.log after the dns.log typed by its own header


# -- Sigma: product zeek rules read the rows ---------------------------------------------------------

def test_zeek_dns_rule_fires_on_tsv_rows(tmp_path: Path) -> None:
    rule = tmp_path / "zeek.yml"
    rule.write_text("title: t\nid: 8d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: zeek, service: dns}\n"
                    "detection:\n  sel:\n    query|endswith: '.netalyzr.icsi.berkeley.edu'\n"
                    "    id.orig_h|cidr: 2001:470::/32\n    qtype_name: TXT\n  condition: sel\n")
    assert _rows(load_rules([rule]), (ZEEK / "zeek-ipv6-frag-dns.log").read_bytes(), "zeek_tsv") == [0, 1]


def test_auto_ingest_of_a_zeek_tsv_log_then_hunt(tmp_path: Path) -> None:
    _register()
    data = tmp_path / "data"
    runner = CliRunner()
    got = runner.invoke(app, ["ingest", "--format", "auto", "--data", str(data), str(ZEEK / "brim-conn.log")])
    assert got.exit_code == 0, got.output
    rule = tmp_path / "r.yml"
    rule.write_text("title: t\nid: 9d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: zeek, service: conn}\n"
                    "detection:\n  sel:\n    id.resp_p: 3389\n    conn_state: RSTR\n  condition: sel\nlevel: low\n")
    got = runner.invoke(app, ["hunt", "--data", str(data), "-r", str(rule), "--json"])
    assert got.exit_code == 0, got.output
    assert orjson.loads(got.output.strip().splitlines()[-1])["findings"] == 1


# -- yearless BSD stamps of shipped lines: the year of the shipper's time -----------------------------

WIRE = Path(__file__).resolve().parents[1] / "cases" / "wire_holdout"
NOW = 1796212800.0  # 2026-12-02T12:00:00Z: the receipt clock the year was guessed from


def _times(bodies: list) -> list[str]:
    import datetime as dt

    rows = [r for fmt, src, body in bodies for b in fmt.decode(body, src).batches for r in b.to_pylist()]
    return sorted(dt.datetime.fromtimestamp(r["time"] / 1000, dt.UTC).isoformat()[:19] for r in rows)


def test_filebeat_documents_give_their_lines_the_year_of_their_timestamp(monkeypatch) -> None:
    from secpipe.formats import syslog
    from secpipe.server.shipped import shipped_bodies

    monkeypatch.setattr(syslog, "_clock", lambda: NOW)
    docs = (WIRE / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()  # @timestamp 2023-11-20
    assert _times(shipped_bodies(docs, "t")[0]) == ["2023-02-21T21:54:44", "2023-02-21T21:56:12"]  # not 2026
    # a Dec 31 line shipped on Jan 1 is the year before; one of Jan 1 that year's
    rollover = [orjson.loads(d) for d in docs]
    rollover[0].update({"@timestamp": "2022-01-01T00:00:03.120Z",
                        "message": rollover[0]["message"].replace("Feb 21 21:54:44", "Dec 31 23:59:58")})
    rollover[1].update({"@timestamp": "2022-01-01T00:00:03.120Z",
                        "message": rollover[1]["message"].replace("Feb 21 21:56:12", "Jan  1 00:00:02")})
    got = _times(shipped_bodies([orjson.dumps(d) for d in rollover], "t")[0])
    assert got == ["2021-12-31T23:59:58", "2022-01-01T00:00:02"]


def test_vector_and_hec_times_give_the_year(monkeypatch) -> None:
    from secpipe.formats import syslog
    from secpipe.server.hec import build_items
    from secpipe.server.shipped import grouped, shipped_bodies

    monkeypatch.setattr(syslog, "_clock", lambda: NOW)
    vector = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()[0]  # timestamp 2020-10-10
    line = orjson.loads(vector)
    line["message"] = "Oct  9 17:07:30 my-host sshd[7483]: Invalid user test from 10.0.2.2"
    assert _times(shipped_bodies([orjson.dumps(line)], "t")[0]) == ["2020-10-09T17:07:30"]
    # Fluent Bit's splunk output: the tail record nested as the event, the envelope's time 2018-09-03
    _raw, nested, typed = (WIRE / "fluent-bit-splunk-payloads.ndjson").read_bytes().splitlines()
    names, docs = build_items([nested, typed], None, {})
    names = [names] * len(docs) if isinstance(names, str) else names
    assert _times(grouped(names, docs, "hec:t")) == ["2018-02-20T08:35:22", "2018-02-23T00:13:35"]


def test_file_of_filebeat_documents_then_auth_rows(tmp_path: Path, monkeypatch) -> None:
    from secpipe.formats import syslog

    monkeypatch.setattr(syslog, "_clock", lambda: NOW)
    _register()
    data = tmp_path / "data"
    got = CliRunner().invoke(app, ["ingest", "--format", "auto", "--data", str(data),
                                   str(WIRE / "filebeat-filestream-auth.ndjson")])
    assert got.exit_code == 0, got.output
    got = CliRunner().invoke(app, ["query", "--data", str(data), "--format", "json",
                                   "select strftime(epoch_ms(time), '%Y-%m-%d') d from authentication order by time"])
    assert got.exit_code == 0, got.output
    assert [r["d"] for r in orjson.loads(got.output)] == ["2023-02-21", "2023-02-21"]
