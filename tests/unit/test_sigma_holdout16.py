"""Sigma rules in the shapes of older SigmaHQ releases, fired on events of their log sources (sixteenth round).

The rules are written here (each test names the SigmaHQ rule that showed the gap); the events
are written as their programs log them (pam_unix's ``authentication failure`` line of
Linux-PAM's ``modules/pam_unix/support.c``, CloudTrail records) or are the real samples of
``shared/data/real``. Expectations follow the Sigma specification.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.engine import RuleSet
from secpipe.transforms.enrich.geoip import GeoIPStage
from secpipe.transforms.enrich.options import GeoIPOptions


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


# -- Sigma 1.x aggregation functions -------------------------------------------------
# The Sigma 1.x specification's aggregation expression, "agg-function(agg-field) [ by group-field ]
# comparison-op value", has count, min, max, avg and sum, and its early releases distcount (the
# distinct values); "it is sufficient when one group matches the condition". min and max were
# refused ("no Sigma correlation equivalent") though the engine has value_min / value_max.

def _s3_get(i: int, arn: str, size: object) -> dict:
    """An S3 GetObject data event; CloudTrail writes the bytes sent in additionalEventData."""
    return {"eventVersion": "1.08", "eventTime": f"2026-11-29T10:00:{i:02d}Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
            "eventID": f"e{i}", "eventType": "AwsApiCall", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": arn},
            "additionalEventData": {"bytesTransferredIn": 0, "bytesTransferredOut": size}}


def _agg_rule(tmp_path: Path, agg: str) -> Path:
    return _rule(tmp_path, f"""\
        title: s3 reads {agg}
        id: 7c2e4a6b-8d0f-4b1a-9c3e-5f7a9b1d3e5f
        logsource: {{product: aws, service: cloudtrail}}
        detection:
            selection:
                eventSource: s3.amazonaws.com
                eventName: GetObject
            timeframe: 1h
            condition: selection | {agg}
        level: medium
    """)


def _agg_fired(rule: Path, events: list[dict]) -> list[int]:
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported
    eng = CorrelationEngine(rs, None, clock=lambda: 1795946400.0)
    out = []
    for i, ev in enumerate(events):
        b = formats.get("cloudtrail").decode(msgspec.json.encode({"Records": [ev]}), "t").batches[0]
        if eng.process(b, rs.matches(b)) is not None:
            out.append(i)
    return out


def test_max_aggregation_is_a_value_max_correlation(tmp_path: Path) -> None:
    rule = _agg_rule(tmp_path, "max(additionalEventData.bytesTransferredOut) by userIdentity.arn > 1000000")
    a, b = "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob"
    # a sum would fire at the third event (1.2 MB); the largest single read fires at the fourth
    assert _agg_fired(rule, [_s3_get(0, a, 400000), _s3_get(1, a, 400000), _s3_get(2, a, 400000),
                             _s3_get(3, a, 5000000)]) == [3]
    assert _agg_fired(rule, [_s3_get(0, a, 900000), _s3_get(1, b, 2000000)]) == [1]  # per identity


def test_min_and_distcount_aggregations(tmp_path: Path) -> None:
    a = "arn:aws:iam::111122223333:user/alice"
    # "min < 10": the smallest read is decided as it arrives (a minimum only falls)
    rule = _agg_rule(tmp_path, "min(additionalEventData.bytesTransferredOut) by userIdentity.arn < 10")
    assert _agg_fired(rule, [_s3_get(0, a, 500), _s3_get(1, a, 3)]) == [1]
    assert _agg_fired(rule, [_s3_get(0, a, 500), _s3_get(1, a, 20)]) == []
    # distcount(field) of the early specification is count(field): distinct values
    rule = _agg_rule(tmp_path, "distcount(userIdentity.arn) > 2")
    users = [f"arn:aws:iam::111122223333:user/u{i % 3}" for i in range(5)]
    assert _agg_fired(rule, [_s3_get(i, u, 1) for i, u in enumerate(users)]) == [2]


def test_aggregation_function_needs_its_field(tmp_path: Path) -> None:
    rs = load_rules([_agg_rule(tmp_path, "max() by userIdentity.arn > 3")])
    assert [u.reason for u in rs.unsupported] == ["aggregation max() needs a field — write max(field)"]
    rs = load_rules([_agg_rule(tmp_path, "median(additionalEventData.bytesTransferredOut) > 3")])
    assert "none of the specification's" in rs.unsupported[0].reason


# -- the caller's country ------------------------------------------------------------
# SigmaHQ rules-placeholder/cloud/aws/cloudtrail/aws_cloudtrail_console_login_success_from_susp_locations.yml
# filters logins by src_country|expand: '%Legitimate_Countries%'. A CloudTrail record has no
# country; the geoip transform writes the caller address's (src_endpoint.location.country).

MMDB = "maxmind-db/test-data/GeoLite2-Country-Test.mmdb"


def _login(i: int, ip: str) -> dict:
    return {"eventVersion": "1.08", "eventTime": f"2026-11-29T10:00:0{i}Z", "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": ip, "eventID": f"e{i}",
            "eventType": "AwsConsoleSignIn", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "responseElements": {"ConsoleLogin": "Success"}}


def test_src_country_reads_the_geoip_country(tmp_path: Path, real: Path) -> None:
    rule = _rule(tmp_path, """\
        title: console login from an unexpected country
        id: 5d7f9b1c-3e5a-4c7e-9f1b-3d5f7a9c1e3b
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection:
                eventName: ConsoleLogin
                responseElements.ConsoleLogin: Success
            filter_main_country:
                src_country|expand: '%Legitimate_Countries%'
            condition: selection and not 1 of filter_main_*
        level: medium
    """)
    rs = load_rules([rule], placeholders={"Legitimate_Countries": ["GB"]})
    assert not rs.unsupported
    # MaxMind's test database: 81.2.69.142 is in GB, 89.160.20.112 in SE
    body = msgspec.json.encode({"Records": [_login(0, "81.2.69.142"), _login(1, "89.160.20.112")]})
    plain = formats.get("cloudtrail").decode(body, "t").batches[0]
    geo = GeoIPStage("geo", GeoIPOptions(country=str(real / MMDB))).process(plain)[0]
    assert [e["location"]["country"] for e in geo.column("src_endpoint").to_pylist()] == ["GB", "SE"]
    for r in (rs, RuleSet(rs.rules, distinct_values=False)):
        assert r.matches(geo).column("row").to_pylist() == [1]  # the login from GB is filtered
        assert sorted(r.matches(plain).column("row").to_pylist()) == [0, 1]  # no country known: none filtered


# -- count() by host on syslog lines ---------------------------------------------------
# SigmaHQ rules/linux/builtin/lnx_shell_priv_esc_prep.yml: "keywords | count() by host > 6"
# within 30m, the commands run on one machine. host is the syslog header's HOSTNAME.

_PRIVESC = """\
    title: privilege escalation preparation
    id: 8e0a2c4e-6a8c-4e0a-9c2e-4a6c8e0a2c4e
    logsource: {product: linux}
    detection:
        keywords:
            - 'uname -a'
            - 'cat /etc/issue'
            - 'cat /etc/passwd'
            - 'crontab -l'
            - 'ifconfig'
            - 'netstat -tulpn'
            - 'cat /etc/shadow'
            - 'iptables -L'
        timeframe: 30m
        condition: keywords | count() by host > 6
    level: medium
"""
_CMDS = ["uname -a", "cat /etc/issue", "cat /etc/passwd", "crontab -l", "ifconfig", "netstat -tulpn",
         "cat /etc/shadow", "iptables -L"]


def test_count_by_host_groups_syslog_lines_by_their_hostname(tmp_path: Path) -> None:
    rs = load_rules([_rule(tmp_path, _PRIVESC)])
    assert not rs.unsupported

    def groups(lines: list[str]) -> list[str]:
        eng = CorrelationEngine(rs, None, clock=lambda: 1796032800.0)
        out = []
        for line in lines:  # one line per batch, as a stream
            b = formats.get("syslog").decode(line.encode(), "t").batches[0]
            f = eng.process(b, rs.matches(b))
            if f is not None:
                out += [msgspec.json.decode(u)["group"] for u in f.column("unmapped").to_pylist()]
        return out

    def line(i: int, host: str, cmd: str) -> str:
        return f"<13>Nov 30 10:{i // 60:02d}:{i % 60:02d} {host} bash[999]: HISTORY: PID=999 UID=0 {cmd}"

    web1 = [line(i, "web1", c) for i, c in enumerate(_CMDS)]  # 8 on one machine
    spread = [line(20 + i, f"web{2 + i % 2}", c) for i, c in enumerate(_CMDS)]  # 4 each on two others
    assert groups(web1) == [["web1"]]  # fires at the seventh
    assert groups(spread) == []  # before: one group of 8 lines, fired


def _journal(i: int, user: str, rhost: str) -> str:
    """The pam_unix failure as `journalctl -o json` exports it (systemd.journal-fields(7))."""
    return msgspec.json.encode({
        "__REALTIME_TIMESTAMP": str(1796032800000000 + i * 1000000), "_HOSTNAME": "web1", "PRIORITY": "5",
        "SYSLOG_FACILITY": "10", "SYSLOG_IDENTIFIER": "sshd", "SYSLOG_PID": "4242", "_PID": "4242", "_COMM": "sshd",
        "MESSAGE": f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={rhost}"
                   f"  user={user}"}).decode()


def test_correlation_reads_ocsf_columns_of_json_records_as_the_rules_do(tmp_path: Path) -> None:
    # A journal entry is a JSON record without pam_user / pam_rhost: the base search matches through
    # the OCSF columns (user.name, src_endpoint.ip); the count read only the record and saw no value.
    rs = load_rules([_rule(tmp_path, _PAM_RULE)])
    body = "\n".join(_journal(i, u, "203.0.113.5") for i, u in enumerate(["root", "admin", "oracle", "test"]))
    b = formats.get("syslog").decode(body.encode(), "t").batches[0]
    assert b.num_rows == 4 and len(rs.matches(b)) == 4
    out = CorrelationEngine(rs, None, clock=lambda: 1796032900.0).process(b, rs.matches(b))
    assert out is not None and [msgspec.json.decode(u)["group"] for u in out.column("unmapped").to_pylist()] == [
        ["203.0.113.5"]]
