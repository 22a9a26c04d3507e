"""Syslog format: the RFC 5424 section 6.5 examples, RFC 3164 lines, sshd/sudo/su -> Authentication.

Expected values were written by reading each line and RFC 5424/3164 and the OCSF 1.8.0
Authentication and Base Event classes. The sshd/sudo lines are written here in the exact
format OpenSSH and sudo log them (no real auth.log of a third party is in the corpus).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import detect
from secpipe.formats.base import TIME_FROM_RECEIPT
from secpipe.formats.syslog import Syslog
from secpipe.schema.ocsf import class_name_of, validate_batch


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def decode(data: bytes, source: str = "t") -> tuple[list[dict], list[dict], list]:
    dec = Syslog().decode(data, source)
    auth, base = [], []
    for b in dec.batches:
        cls = class_name_of(b.column("class_uid")[0].as_py())
        assert validate_batch(cls, b.schema) == []
        (auth if cls == "authentication" else base).extend(b.to_pylist())
    return auth, base, dec.dead


def test_rfc5424_examples(real: Path) -> None:
    data = (real / "rfc5424-spec/rfc5424_section6.5_examples.log").read_bytes()
    auth, base, dead = decode(data)
    assert dead == [] and len(auth) + len(base) == 4
    (su,) = auth  # example 1: 'su root' failed for lonvick
    assert su["class_uid"] == 3002 and su["activity_id"] == 7 and su["account_switch_type_id"] == 1
    assert su["time"] == ms("2003-10-11T22:14:15.003Z")
    assert su["severity_id"] == 5 and su["metadata"]["log_level"] == "crit"  # <34>: auth.crit
    assert su["status_id"] == 2 and su["user"]["name"] == "root" and su["actor"]["user"]["name"] == "lonvick"
    assert su["device"]["hostname"] == "mymachine.example.com" and su["metadata"]["event_code"] == "ID47"
    assert su["message"] == "'su root' failed for lonvick on /dev/pts/8"  # BOM removed
    assert json.loads(su["unmapped"]) == {"facility": "auth", "tty": "/dev/pts/8"}
    donuts, app, sd_only = base
    assert donuts["time"] == ms("2003-08-24T05:14:15.000003-07:00") // 1 and donuts["time"] == 1061727255000
    assert donuts["device"]["ip"] == "192.0.2.1" and donuts["actor"]["process"] == {"name": "myproc", "pid": 8710}
    assert donuts["metadata"]["event_code"] is None  # MSGID "-"
    assert donuts["message"] == "%% It's time to make the do-nuts." and donuts["severity_id"] == 2  # local4.notice
    assert donuts["class_uid"] == 0 and donuts["category_name"] == "Uncategorized"
    assert app["message"] == "An application event log entry..."
    assert json.loads(app["unmapped"])["structured_data"] == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}
    }
    assert sd_only["message"] is None
    assert json.loads(sd_only["unmapped"])["structured_data"]["examplePriority@32473"] == {"class": "high"}
    assert all(r["metadata"]["log_format"] == "RFC 5424" for r in auth + base)


def test_literal_bom_file_parses(real: Path) -> None:
    auth, base, dead = decode((real / "rfc5424-spec/rfc5424_section6.5_examples.literal-BOM.log").read_bytes())
    assert dead == [] and len(auth) + len(base) == 4


SSHD = b"""<38>Nov 29 07:00:01 web1 sshd[1234]: Accepted publickey for alice from 10.0.0.5 port 51234 ssh2: RSA SHA256:abc
<38>Nov 29 07:00:02 web1 sshd[1235]: Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2
<38>Nov 29 07:00:03 web1 sshd[1236]: Failed password for root from 2001:db8::7 port 4243 ssh2
<38>Nov 29 07:00:04 web1 sshd[1237]: Invalid user oracle from 198.51.100.7 port 50000
<86>Nov 29 07:00:05 web1 sshd[1238]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
<38>Nov 29 07:00:06 web1 sshd[1238]: Disconnected from user alice 10.0.0.5 port 51234
<38>Nov 29 07:00:07 web1 sshd[1239]: Server listening on 0.0.0.0 port 22.
"""


def test_sshd_lines() -> None:
    auth, base, dead = decode(SSHD)
    assert dead == [] and len(auth) == 6 and len(base) == 1
    ok, bad_invalid, bad_root, invalid, opened, disconnected = auth
    assert ok["activity_id"] == 1 and ok["status_id"] == 1 and ok["status"] == "Success"
    assert ok["user"]["name"] == "alice" and ok["src_endpoint"] == {"ip": "10.0.0.5", "port": 51234}
    assert ok["auth_protocol"] == "publickey" and ok["auth_protocol_id"] == 99 and ok["is_remote"] is True
    assert ok["service"]["name"] == "sshd" and ok["actor"]["process"]["pid"] == 1234
    assert ok["dst_endpoint"]["hostname"] == "web1" and ok["metadata"]["log_format"] == "RFC 3164"
    year = dt.datetime.now(dt.UTC).year
    assert ok["time"] in (ms(f"{year}-11-29T07:00:01+00:00"), ms(f"{year - 1}-11-29T07:00:01+00:00"))
    assert bad_invalid["status_id"] == 2 and bad_invalid["status_detail"] == "invalid user"
    assert bad_invalid["user"]["name"] == "admin" and bad_invalid["auth_protocol"] == "password"
    assert bad_root["status_id"] == 2 and bad_root["status_detail"] is None
    assert bad_root["src_endpoint"] == {"ip": "2001:db8::7", "port": 4243}
    assert invalid["status_id"] == 2 and invalid["user"]["name"] == "oracle" and invalid["auth_protocol"] is None
    assert opened["activity_id"] == 1 and opened["status_id"] == 1 and opened["user"]["name"] == "alice"
    assert disconnected["activity_id"] == 2 and disconnected["activity_name"] == "Logoff"
    assert base[0]["message"] == "Server listening on 0.0.0.0 port 22." and base[0]["class_uid"] == 0


SUDO = b"""<85>Nov 29 07:01:00 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update
<85>Nov 29 07:01:01 web1 sudo:      bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/cat /etc/shadow
<85>Nov 29 07:01:02 web1 sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob
<86>Nov 29 07:01:03 web1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)
<86>Nov 29 07:01:04 web1 sudo: pam_unix(sudo:session): session closed for user root
"""


def test_sudo_lines() -> None:
    auth, base, dead = decode(SUDO)
    assert dead == [] and base == [] and len(auth) == 5
    cmd, wrong_pw, pam_fail, opened, closed = auth
    for ev in auth:
        assert ev["activity_id"] == 7 and ev["account_switch_type"] == "Substitute User"
    assert cmd["status_id"] == 1 and cmd["user"]["name"] == "root" and cmd["actor"]["user"]["name"] == "alice"
    assert json.loads(cmd["unmapped"]) == {"facility": "authpriv", "command": "/usr/bin/apt update", "tty": "pts/0"}
    assert cmd["message"].startswith("alice : TTY=pts/0")
    assert wrong_pw["status_id"] == 2 and wrong_pw["status_detail"] == "3 incorrect password attempts"
    assert wrong_pw["actor"]["user"]["name"] == "bob"
    assert pam_fail["status_id"] == 2 and pam_fail["user"]["name"] == "bob" and pam_fail["status_detail"] == "authentication failure"
    assert opened["status_id"] == 1 and opened["user"]["name"] == "root" and opened["actor"]["user"]["name"] == "alice"
    assert closed["status_id"] == 1 and closed["user"]["name"] == "root"


def test_without_pri_iso_and_nilvalues() -> None:
    data = (
        b"1 2026-11-29T07:00:04Z web1 app - - - no pri 5424\n"
        b"<14>1 - - - - - -\n"
        b"Nov  9 07:00:03 web1 cron[7]: (root) CMD (run-parts /etc/cron.hourly)\n"
        b"2026-11-29T07:00:05.123456+01:00 web1 kernel: eth0 up\n"
    )
    auth, base, dead = decode(data)
    assert dead == [] and auth == [] and len(base) == 4
    a, nil, cron, iso = base
    assert a["time"] == ms("2026-11-29T07:00:04Z") and a["severity_id"] == 0 and a["unmapped"] is None
    assert nil["message"] is None and nil["device"] is None and nil["actor"] is None  # objects with no field are absent
    assert TIME_FROM_RECEIPT in nil["metadata"]["labels"]  # TIMESTAMP is NILVALUE
    assert cron["actor"]["process"] == {"name": "cron", "pid": 7} and cron["message"].startswith("(root) CMD")
    assert iso["time"] == ms("2026-11-29T07:00:05.123+01:00") and iso["device"]["hostname"] == "web1"


def test_octet_counted_stream_keeps_embedded_newlines() -> None:
    m1 = b"<13>1 2026-11-29T07:00:00Z h app 1 - - line one\nline two"
    m2 = b"<13>Nov 29 07:00:00 h app: second"
    data = b"%d %s%d %s" % (len(m1), m1, len(m2), m2)
    _auth, base, dead = decode(data)
    assert dead == [] and [r["message"] for r in base] == ["line one\nline two", "second"]
    _auth, base, dead = decode(data + b"99 <13>truncated", "syslog+tcp://x;framing=octet-counted")
    assert len(base) == 2 and len(dead) == 1 and "octet-counted" in dead[0].reason


@pytest.mark.parametrize(
    ("line", "message", "severity"),
    [  # RFC 3164 4.3.3: an unidentifiable PRI makes the whole line the CONTENT
        (b"<999>1 2026-11-29T07:00:00Z h a - - - x", "<999>1 2026-11-29T07:00:00Z h a - - - x", 0),
        # 4.3.2: a valid PRI with an invalid TIMESTAMP keeps the PRI, the rest is the CONTENT
        (b"<13>1 2026-13-45T99:00:00Z h a - - - x", "1 2026-13-45T99:00:00Z h a - - - x", 2),
    ],
)
def test_invalid_pri_or_timestamp_is_kept_whole(line: bytes, message: str, severity: int) -> None:
    good = b"<13>Nov 29 07:00:00 h app: fine"
    auth, base, dead = decode(good + b"\n" + line + b"\n" + good)
    assert dead == [] and len(base) == 3
    kept = base[1]
    assert kept["message"] == message and kept["severity_id"] == severity and kept["raw_data"] == line.decode()
    assert kept["device"] is None and kept["actor"] is None and TIME_FROM_RECEIPT in kept["metadata"]["labels"]


def test_lines_without_header_are_kept_with_the_receipt_time() -> None:
    """RFC 3164 section 4.3.3: a relay keeps a message with no PRI and no header, the whole of it
    as the CONTENT, and stamps it with its own clock; a leading ``TAG[PID]: `` still names the program."""
    good = b"<13>Nov 29 07:00:00 h app: fine"
    auth, base, dead = decode(good + b"\nthis is not syslog\nsshd[42]: Failed password for root from 203.0.113.9 port 22 ssh2")
    assert dead == [] and len(base) == 2 and len(auth) == 1
    text = base[1]
    assert text["message"] == "this is not syslog" and text["device"] is None and text["actor"] is None
    assert text["severity_id"] == 0 and TIME_FROM_RECEIPT in text["metadata"]["labels"]
    assert auth[0]["actor"]["process"] == {"name": "sshd", "pid": 42} and auth[0]["status_id"] == 2
    assert auth[0]["src_endpoint"]["ip"] == "203.0.113.9"


def test_sniff_past_lines_without_header() -> None:
    doc = b"a first line with no header\nanother\n<13>Nov 29 07:00:00 h app: fine\n"
    assert detect(doc).name == "syslog"
    assert detect(b"a first line with no header\nanother\nand a third\n") is None


def test_sniff(real: Path) -> None:
    assert detect((real / "rfc5424-spec/rfc5424_section6.5_examples.log").read_bytes()).name == "syslog"
    assert detect(SSHD).name == "syslog" and detect(b"Nov 29 07:00:03 web1 cron[7]: x").name == "syslog"
    assert detect(b"120 <13>1 2026-11-29T07:00:00Z h a - - - x").name == "syslog"


#: RFC 5424's header with the section 6 length limits as counted repetitions (what _R5424 was)
_R5424_COUNTED = (
    r"(?s)^(?:<(?P<pri>\d{1,3})>)?(?P<ver>[1-9]\d{0,2}) (?P<ts>-|\d{4}-\d\d-\d\dT\S+) (?P<host>\S{1,255}) "
    r"(?P<app>\S{1,48}) (?P<procid>\S{1,128}) (?P<msgid>\S{1,32}) "
    r"(?P<sd>-|(?:\[[^\]\s=\"]+(?: [^\]\s=\"]+=\"(?:[^\"\\]|\\.)*\")*\])+)(?: (?P<msg>.*))?$"
)


def _limited_5424(lines: list[str]) -> list[dict | None]:
    """What Syslog takes as RFC 5424 with valid structured data: _R5424 matches with its ``sd``
    group (not the ``unsd`` rest kept for a broken SD) and every group is within _R5424_LIMITS."""
    import pyarrow as pa

    from secpipe import _compute as pc
    from secpipe.formats._syslog_header import _R5424, _R5424_LIMITS

    out = pc.extract_regex(pa.array(lines, pa.string()), _R5424).to_pylist()
    valid = [None if m is None or not m["sd"] else {k: v for k, v in m.items() if k != "unsd"} for m in out]
    return [None if m is None or any(len(m[k]) > n for k, n in _R5424_LIMITS.items()) else m for m in valid]


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 60), st.integers(0, 140), st.integers(0, 40),
                          st.sampled_from(["a", "é", "\u4e2d", "😀"]), st.booleans()), min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_5424_length_limits_match_counted_repetitions(fields: list[tuple[int, int, int, int, str, bool]]) -> None:
    """The header regex without counted repetitions plus the length check after it takes
    exactly the lines the counted-repetition grammar takes, fields counted in characters
    (one- to four-byte UTF-8), on both sides of each limit, with or without a message."""
    import pyarrow as pa

    from secpipe import _compute as pc

    lines = [f"<34>1 2003-10-11T22:14:15.003Z {c * h} {c * a} {c * p} {c * m} - " + ("msg x" if msg else "")
             for h, a, p, m, c, msg in fields]  # fmt: skip
    lines = [line.rstrip(" ") if not msg else line for line, (*_, msg) in zip(lines, fields, strict=True)]
    want = pc.extract_regex(pa.array(lines, pa.string()), _R5424_COUNTED).to_pylist()
    assert _limited_5424(lines) == want


def test_5424_header_fields_over_their_limits_are_not_5424() -> None:
    """An APP-NAME of 49 characters (limit 48) is not an RFC 5424 header: the line is kept
    under the next grammar that takes it, as before the limits moved out of the pattern."""
    _auth, base, dead = decode(b"<34>1 2003-10-11T22:14:15.003Z host " + b"a" * 49 + b" - - - hello\n")
    assert dead == [] and len(base) == 1 and base[0]["metadata"]["log_format"] != "RFC 5424"
    _auth, base, dead = decode(b"<34>1 2003-10-11T22:14:15.003Z host " + b"a" * 48 + b" - - - hello\n")
    assert base[0]["metadata"]["log_format"] == "RFC 5424" and base[0]["message"] == "hello"


_CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"
_BSD_FILES = ["loghub_Linux_head.log", "loghub_OpenSSH_head.log", "elastic-system-auth.log",
              "rfc3164_section5.4_examples.log", "elastic-falco-syslog-sample.log"]  # fmt: skip


def _bsd_lines() -> list[str]:
    return [x for f in _BSD_FILES for x in (_CASES / f).read_text(encoding="utf-8", errors="replace").splitlines()]


def _header_and_rest_match_whole(lines: list[str]) -> None:
    """The RFC 3164 header-only regex plus the rest of the line gives, field by field, what the
    whole-line regex (header + ``(?P<msg>.*)$``) captures."""
    import pyarrow as pa

    from secpipe import _compute as pc
    from secpipe.formats._syslog_header import _R3164, _R3164_HEAD
    from secpipe.formats._text import with_rest

    arr = pa.array(lines, pa.string())
    whole = pc.extract_regex(arr, _R3164)
    split = with_rest(arr, pc.extract_regex(arr, _R3164_HEAD), "_head", "msg")
    assert split.null_count == whole.null_count
    for name in ("pri", "ts", "host", "tag", "pid", "msg"):
        assert pc.struct_field(split, name).equals(pc.struct_field(whole, name)), name


def test_3164_header_then_rest_is_the_whole_line_regex() -> None:
    """On the real BSD syslog samples (Linux and OpenSSH logs from loghub, Elastic's auth and
    Falco samples, RFC 3164's examples), also as one array sliced at an odd offset."""
    lines = _bsd_lines()
    assert len(lines) > 50
    _header_and_rest_match_whole(lines)
    import pyarrow as pa

    from secpipe import _compute as pc
    from secpipe.formats._syslog_header import _R3164, _R3164_HEAD
    from secpipe.formats._text import with_rest

    arr = pa.array(lines, pa.string()).slice(7, 50)
    whole = pc.extract_regex(arr, _R3164)
    split = with_rest(arr, pc.extract_regex(arr, _R3164_HEAD), "_head", "msg")
    assert pc.struct_field(split, "msg").equals(pc.struct_field(whole, "msg"))


@given(st.lists(st.tuples(st.integers(0, 10_000), st.text(max_size=30), st.integers(0, 80), st.sampled_from(["", " ", ": ", "[", "]"])),
                min_size=1, max_size=25))  # fmt: skip
@settings(max_examples=80, deadline=None)
def test_3164_header_then_rest_on_mutated_lines(edits: list[tuple[int, str, int, str]]) -> None:
    """Real lines with text spliced in anywhere (header or message, any characters) and tags
    stretched across the 64-character limit still split into the same groups."""
    base = _bsd_lines()
    lines = []
    for k, text, stretch, sep in edits:
        line = base[k % len(base)]
        at = (k * 7919) % (len(line) + 1)
        line = line[:at] + text + sep + line[at:]
        if stretch and ": " in line:  # lengthen the token before the first colon (the tag, mostly)
            i = line.index(": ")
            line = line[:i] + "t" * stretch + line[i:]
        lines.append(line)
    _header_and_rest_match_whole(lines)
