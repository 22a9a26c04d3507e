"""Linux rules with a ``service`` run on that service's lines only (fifteenth round).

SigmaHQ's ``logsource: {product: linux, service: cron}`` means "the cron daemon's log"; the
rules under it are mostly bare keywords (``lnx_cron_crontab_file_modification.yml`` is the word
``REPLACE``, which cron logs when a user replaces a crontab). Read over every syslog line, the
keyword fired on whatever else said "replace" (apt, dpkg). A rule of a scoped service
(:data:`secpipe.detect.sigma.routing.SERVICE_PROGRAMS`) now also requires the line's program
(syslog TAG / APP-NAME, ``actor.process.name``) to be one of that service's, or absent: a line
without a TAG, and JSON events, are read as before. The rules are the real SigmaHQ files of
``shared/data/real``; the lines are written as the programs log them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.detect.sigma import load_rules


def _hits(rules: list[Path], body: bytes, fmt: str = "syslog") -> dict[str, list[str]]:
    """rule title -> the messages (or raw lines) it matched."""
    rs = load_rules(rules)
    assert not rs.unsupported, rs.unsupported
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead
    title = {r.id: r.title for r in rs.rules}
    out: dict[str, list[str]] = {}
    for b in dec.batches:
        texts = b.column("raw_data").to_pylist()
        for m in rs.matches(b).to_pylist():
            out.setdefault(title[m["rule_id"]], []).append(texts[m["row"]])
    return out


def test_cron_keyword_rule_reads_cron_lines_only(real: Path) -> None:
    rule = real / "sigmahq-sigma/rules/linux/builtin/cron/lnx_cron_crontab_file_modification.yml"
    lines = [
        "<78>Nov 29 10:00:00 host CRON[123]: (root) REPLACE (root)",  # Debian's cron, upper-case TAG
        "<78>Nov 29 10:00:01 host crond[77]: (alice) REPLACE (alice)",  # cronie
        "<30>Nov 29 10:00:02 host apt[9]: REPLACE of package foo",
        "<30>Nov 29 10:00:03 host dpkg: status half-installed; REPLACE",
        "(bob) REPLACE (bob)",  # no header at all: which program wrote it is unknown
    ]
    got = _hits([rule], "\n".join(lines).encode())
    assert got == {"Modifying Crontab": [lines[0], lines[1], lines[4]]}


def test_sshd_field_rule_and_openssh_session_processes(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: ssh failed password
        id: 6a0d2c3e-1b4f-4e6a-9c1d-2f3e4a5b6c7d
        logsource: {product: linux, service: sshd}
        detection:
            sel:
                message|contains: 'Failed password'
            condition: sel
        level: low
        """))
    lines = [
        "<38>Nov 29 10:00:00 host sshd[123]: Failed password for root from 198.51.100.1 port 22 ssh2",
        "<38>Nov 29 10:00:01 host sshd-session[124]: Failed password for root from 198.51.100.1 port 22 ssh2",
        "<30>Nov 29 10:00:02 host myapp[9]: Failed password for root from 198.51.100.1 port 22 ssh2",
    ]
    got = _hits([rule], "\n".join(lines).encode())
    assert got == {"ssh failed password": lines[:2]}


@pytest.mark.parametrize("service", ["auth", "syslog", "auditd"])
def test_unscoped_services_read_every_line(tmp_path: Path, service: str) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent(f"""\
        title: any replace
        id: 7b1e3d4f-2c5a-4f7b-8d2e-3a4b5c6d7e8f
        logsource: {{product: linux, service: {service}}}
        detection:
            keywords: ['REPLACE']
            condition: keywords
        level: low
        """))
    lines = ["<78>Nov 29 10:00:00 host CRON[123]: (root) REPLACE (root)", "<30>Nov 29 10:00:02 host apt[9]: REPLACE"]
    assert _hits([rule], "\n".join(lines).encode()) == {"any replace": lines}
