"""Syslog: sshd's PerSourcePenalties / MaxStartups refusals and Cisco FTD 430002 / 430003 connection
events -> Network Activity (4001).

Inputs are the real lines of tests/cases/syslog34 (see SOURCE.md); expected values were read from
them, OpenSSH's sshd.c / srclimit.c and Cisco's FTD syslog guide, not from the mapping.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.syslog import Syslog
from secpipe.schema.ocsf import validate_batch

CASES = Path(__file__).parent.parent / "cases" / "syslog34"


def _rows(dec, cls_uid: int) -> list[dict]:
    out = []
    for b in dec.batches:
        if b.column("class_uid")[0].as_py() == cls_uid:
            out.extend(b.to_pylist())
    return out


def test_sshd_penalty_drops_are_refused_connections() -> None:
    dec = Syslog().decode((CASES / "sshd_penalty.log").read_bytes(), "sshd")
    assert dec.dead == [] and dec.events == 4
    for b in dec.batches:
        assert validate_batch("network_activity", b.schema) == []
    rows = _rows(dec, 4001)
    assert len(rows) == 4
    first = rows[0]
    assert first["activity_id"] == 5 and first["activity_name"] == "Refuse" and first["type_uid"] == 400105
    assert (first["action"], first["disposition"]) == ("Denied", "Blocked")
    assert first["status_detail"] == "penalty: failed authentication"
    assert first["src_endpoint"]["ip"] == "172.16.0.2" and first["src_endpoint"]["port"] == 50982
    assert first["dst_endpoint"]["ip"] == "172.16.1.3" and first["dst_endpoint"]["port"] == 22
    ci = first["connection_info"]
    assert (ci["direction_id"], ci["protocol_num"], ci["protocol_name"], ci["protocol_ver_id"]) == (1, 6, "tcp", 4)
    assert first["device"]["hostname"] == "web" and first["actor"]["process"] == {"name": "sshd", "pid": 2011}
    assert json.loads(first["unmapped"])["sshd"] == {"startups": 1}
    assert [r["src_endpoint"]["port"] for r in rows] == [50982, 50986, 51000, 51010]


def test_other_drop_reasons_and_ipv6() -> None:
    # the reasons srclimit.c and sshd.c write, an IPv6 peer (get_peer_ipaddr: bracketed), and
    # the "Maxstartups" line of https://git.cweiske.de/paste/968.git/about/ (journalctl -u ssh: the
    # paste left the stamp, host and tag out; given here) -- each a refused connection
    lines = [
        b"Jul  1 10:00:00 bastion sshd[812]: drop connection #0 from [2001:db8::7]:40000 on [2001:db8::1]:22 "
        b"penalty: exceeded LoginGraceTime",
        b"Jul  1 10:00:01 bastion sshd[812]: drop connection #0 from [198.51.100.4]:51515 on [192.0.2.1]:22 "
        b"too many penalised addresses",
        b"Jul  1 10:00:02 bastion sshd[812]: drop connection #10 from [212.99.194.59]:59789 on [159.195.22.112]:22 "
        b"Maxstartups",
        b"Jul  1 10:00:03 bastion sshd[812]: Server listening on 0.0.0.0 port 22.",
    ]
    dec = Syslog().decode(b"\n".join(lines) + b"\n", "x")
    rows = _rows(dec, 4001)
    assert [r["status_detail"] for r in rows] == ["penalty: exceeded LoginGraceTime", "too many penalised addresses",
                                                   "Maxstartups"]  # fmt: skip
    v6 = rows[0]
    assert v6["src_endpoint"]["ip"] == "2001:db8::7" and v6["connection_info"]["protocol_ver_id"] == 6
    assert json.loads(rows[2]["unmapped"])["sshd"] == {"startups": 10}
    assert len(_rows(dec, 0)) == 1  # "Server listening" stays a Base Event


def test_ftd_connection_events() -> None:
    data = (CASES / "elastic_ftd_connection.log").read_bytes()
    dec = Syslog().decode(data, "ftd")
    assert dec.dead == [] and dec.events == 8
    for b in dec.batches:
        assert validate_batch("network_activity", b.schema) == []
    rows = _rows(dec, 4001)
    assert len(rows) == 8
    got = [(r["activity_name"], r["action"], r["disposition"], r["metadata"]["event_code"]) for r in rows]
    assert got == [
        ("Close", "Allowed", "Allowed", "FTD-1-430003"),   # Allow
        ("Open", "Allowed", "Allowed", "FTD-1-430002"),
        ("Close", "Allowed", "Allowed", "FTD-1-430003"),
        ("Refuse", "Denied", "Blocked", "FTD-1-430002"),   # Block
        ("Refuse", "Denied", "Blocked", "FTD-1-430003"),   # Block, AccessControlRuleReason File Block
        ("Close", "Observed", "Logged", "FTD-1-430003"),   # Monitor
        ("Refuse", "Denied", "Reset", "FTD-1-430003"),     # Block with reset
        ("Close", "Allowed", "Allowed", "FTD-1-430003"),   # Trust
    ]  # fmt: skip
    http = rows[2]
    assert http["src_endpoint"] == {**http["src_endpoint"], "ip": "10.0.1.20", "port": 43228, "interface_name": "inside",
                                    "zone": "input-zone"}  # fmt: skip
    assert http["dst_endpoint"]["ip"] == "81.2.69.144" and http["dst_endpoint"]["port"] == 80
    assert http["dst_endpoint"]["interface_name"] == "outside" and http["dst_endpoint"]["zone"] == "output-zone"
    assert http["traffic"]["bytes_out"] == 97454 and http["traffic"]["bytes_in"] == 41319018
    assert http["traffic"]["bytes"] == 97454 + 41319018 and http["traffic"]["packets"] == 1359 + 29001
    assert http["duration"] == 1000 and http["app_name"] == "HTTP"
    assert http["connection_info"]["protocol_num"] == 6 and http["connection_info"]["protocol_name"] == "tcp"
    assert http["firewall_rule"]["name"] == "Rule-1"
    assert (http["actor"] or {}).get("user") is None  # "No Authentication Required" names no user
    ftd = json.loads(http["unmapped"])["ftd"]  # every pair kept, a value with a comma-free space whole
    assert ftd["URL"].endswith("manpages-dev_4.15-1_all.deb") and ftd["UserAgent"] == "Debian APT-HTTP/1.3 (1.6.11)"
    assert ftd["Prefilter Policy"] == "Default Prefilter Policy" and ftd["ACPolicy"] == "default"
    assert rows[0]["connection_info"]["protocol_num"] == 1 and rows[0]["src_endpoint"].get("port") is None
    assert rows[4]["firewall_rule"]["desc"] == "File Block"
    mon = rows[5]  # FTD 7.x: no host in the header, EventPriority, ConnectionID, FirstPacketSecond
    assert mon["time"] == 1679906497000 and mon["start_time"] == 1679906467000 and mon["duration"] == 30000
    assert mon["connection_info"]["uid"] == "48101" and mon["severity"] == "Low"
    assert mon["actor"]["user"]["name"] == "Default-AD\\user1"
    assert json.loads(mon["unmapped"])["ftd"]["Endpoint Profile"] == "Workstation:Microsoft-Workstation:Windows10-Workstation"
    assert (rows[6]["actor"] or {}).get("user") is None  # "Not Found"
    # the syslog level (1, Alert) is the policy's alert level, not the connection's: Informational
    assert rows[0]["severity"] == "Informational" and rows[0]["metadata"]["log_level"] == "alert"


def test_ftd_files_are_detected_as_syslog() -> None:
    for name in ("elastic_ftd_connection.log", "sshd_penalty.log"):
        fmt = formats.detect((CASES / name).read_bytes()[:4096])
        assert fmt is not None and fmt.name == "syslog", name
