"""Lines a shipper wraps (ECS ``message``, Fluent Bit ``log``) are detected once per line shape
(``server.shipped._detect_lines``): the shape must give each line the format detecting it alone
gives. Lines of real files of several formats (tests/cases/holdout, see its SOURCE.md: system
auth, OpenSSH, Linux, macOS, Junos and ASA syslog, Apache access, auditd, Jenkins Audit Trail
and console logs), interleaved as a shipper reading several files sends them."""

from __future__ import annotations

import random
from pathlib import Path

from secpipe import formats
from secpipe.server import shipped

CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"
FILES = ("elastic-system-auth.log", "loghub_OpenSSH_head.log", "loghub_Linux_head.log", "loghub_Mac_head.log",
         "junos-bsd-auth-lines.log", "elastic-asa-hostnames.log", "elastic-apache-access-basic.log",
         "elastic-auditd-raw.log", "jenkins-audit-trail-khannashiv.log", "otus-rsyslog-nginx-access-error.log",
         "pterodaktel-rsyslog-audit-imfile.log", "rfc3164_section5.4_examples.log")  # fmt: skip


def _lines() -> list[bytes]:
    lines = [x for name in FILES for x in (CASES / name).read_bytes().splitlines() if x.strip()]
    random.Random(25).shuffle(lines)
    return lines


def test_each_line_gets_the_format_it_gets_alone() -> None:
    lines = _lines()
    assert len(lines) > 100
    want = [formats.detect(x, catch_all=False) for x in lines]
    assert len({f.name for f in want if f is not None}) >= 2  # more than one format in the mix
    assert shipped._detect_lines(lines) == want

