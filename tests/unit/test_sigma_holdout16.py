"""Sigma rules in the shapes of older SigmaHQ releases, fired on events of their log sources (sixteenth round).

The rules are written here (each test names the SigmaHQ rule that showed the gap); the events
are written as their programs log them (pam_unix's ``authentication failure`` line of
Linux-PAM's ``modules/pam_unix/support.c``, CloudTrail records) or are the real samples of
``shared/data/real``. Expectations follow the Sigma specification.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.engine import RuleSet


def _rule(tmp_path: Path, text: str, name: str = "r.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _pam(ts: int, user: str | None, rhost: str, host: str = "web1") -> str:
    """A pam_unix failure as Linux-PAM writes it: "authentication failure; logname=%s uid=%d euid=%d
    tty=%s ruser=%s rhost=%s" then " user=%s" when the user is known (support.c)."""
    tail = f"  user={user}" if user is not None else ""
    return (f"<38>Nov 29 10:00:{ts:02d} {host} sshd[4242]: pam_unix(sshd:auth): authentication failure; "
            f"logname= uid=0 euid=0 tty=ssh ruser= rhost={rhost}{tail}")


# SigmaHQ rules/linux/builtin/auth/lnx_auth_susp_failed_logons_single_source.yml (and its
# rules/linux/other/lnx_susp_failed_logons_single_source.yml versions since 2017) name the PAM
# message's parts pam_message, pam_user and pam_rhost.
_PAM_RULE = """\
    title: failed logins with different accounts from one source
    id: 5b8f3a1e-2c4d-4e6f-8a9b-0c1d2e3f4a5b
    logsource: {product: linux, service: auth}
    detection:
        selection:
            pam_message: authentication failure
            pam_user: '*'
            pam_rhost: '*'
        timeframe: 24h
        condition: selection | count(pam_user) by pam_rhost > 3
    level: medium
"""


def test_pam_fields_read_the_pam_unix_failure_line(tmp_path: Path) -> None:
    rs = load_rules([_rule(tmp_path, _PAM_RULE)])
    assert not rs.unsupported
    lines = [_pam(1, "root", "203.0.113.5"), _pam(2, None, "203.0.113.5"),
             _pam(3, "admin", "scanner.example.net"),
             "<38>Nov 29 10:00:04 web1 sshd[4242]: Accepted publickey for deploy from 10.0.0.8 port 5555 ssh2"]
    b = formats.get("syslog").decode("\n".join(lines).encode(), "t").batches[0]
    # the line without user= has no pam_user; the accepted login is no PAM failure
    assert sorted(rs.matches(b).column("row").to_pylist()) == [0, 2]
    sql = RuleSet(rs.rules, distinct_values=False)  # the SQL path agrees with the distinct-value one
    assert sorted(sql.matches(b).column("row").to_pylist()) == [0, 2]


def test_failed_logons_from_one_source_fire_the_count(tmp_path: Path) -> None:
    rs = load_rules([_rule(tmp_path, _PAM_RULE)])

    def fired(lines: list[str]) -> int:
        eng = CorrelationEngine(rs, None, clock=lambda: 1795946400.0)
        b = formats.get("syslog").decode("\n".join(lines).encode(), "t").batches[0]
        out = eng.process(b, rs.matches(b))
        return 0 if out is None else out.num_rows

    users = ["root", "admin", "oracle", "test"]
    assert fired([_pam(i, u, "203.0.113.5") for i, u in enumerate(users)]) == 1  # 4 distinct users > 3
    assert fired([_pam(i, "root", "203.0.113.5") for i in range(6)]) == 0  # one user, many tries
    assert fired([_pam(i, u, f"203.0.113.{i}") for i, u in enumerate(users)]) == 0  # four sources
