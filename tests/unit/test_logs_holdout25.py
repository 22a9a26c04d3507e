"""Real samples secpipe was not developed against, round 25: cloud, runtime, infrastructure and
CI/CD logs (``tests/cases/holdout``, see its SOURCE.md heading "Round 25 (logs)").

Expectations are written from the source documents and the formats' own references (the Linux
Audit documentation's record types and auditd's record format), not from secpipe's output.
"""

from __future__ import annotations

import json

from tests.unit.test_formats_holdout import _auto, _rows


def test_auditd_audit_log_records_take_their_own_stamp() -> None:
    """Elastic's raw ``audit.log`` records (``type=... msg=audit(<epoch>.<ms>:<serial>): ...``, some
    behind ``node=<name>``) are recognized by ``--format auto`` (they were refused as unrecognized)
    and read with the record's time, type and event id; ``--format syslog`` gave them the receipt
    time. A damaged line without the ``audit(...)`` stamp is kept whole."""
    name, d = _auto("elastic-auditd-raw.log")
    assert name == "syslog" and not d.dead and d.events == 14
    rows = {r["raw_data"]: r for r in _rows(d)}
    ipsec = next(r for k, r in rows.items() if k.startswith("type=MAC_IPSEC_EVENT"))
    assert ipsec["time"] == 1485893834891  # 2017-01-31T20:17:14.891Z
    assert ipsec["metadata"]["event_code"] == "MAC_IPSEC_EVENT"
    assert ipsec["metadata"]["correlation_uid"] == "1485893834.891:18877201"
    assert ipsec["metadata"]["log_format"] == "Linux audit"
    assert ipsec["message"].startswith("op=SPD-delete auid=4294967295")
    start = next(r for k, r in rows.items() if "type=DAEMON_START" in k)
    assert start["device"]["hostname"] == "localhost.localdomain" and start["time"] == 1594053514588
    cwd, path = (next(r for k, r in rows.items() if k.startswith(f"type={t} ")) for t in ("CWD", "PATH"))
    assert cwd["metadata"]["correlation_uid"] == path["metadata"]["correlation_uid"] == "1481077231.371:479"
    assert cwd["message"] == 'cwd="/home/some_user"'
    odd = rows["type=UNKNOWN[1329] msg=g"]
    assert odd["class_uid"] == 0 and odd["metadata"]["event_code"] is None and odd["message"] == "type=UNKNOWN[1329] msg=g"
    assert {r["class_uid"] for k, r in rows.items() if "type=USER_LOG" not in k and "type=USER_AUTH" not in k} == {0}


def test_auditd_user_login_records_are_authentication() -> None:
    """USER_AUTH / USER_LOGIN (a user-space authentication, a login) and USER_LOGOUT records that
    name the account (``acct``) or uid (``id``): Authentication Logon / Logoff, ``res`` the
    status, ``addr`` the source; go-libaudit's failed sshd login names the account hex-encoded
    (``28696E76616C6964207573657229`` is ``(invalid user)``)."""
    name, d = _auto("go-libaudit-audit-ubuntu16.log")
    assert name == "syslog" and not d.dead and d.events == 3
    auth = sorted((r for r in _rows(d) if r["class_uid"] == 3002), key=lambda r: r["time"])
    assert [(r["activity_id"], r["status_id"]) for r in auth] == [(1, 1), (1, 2)]
    ok, failed = auth
    assert ok["user"]["uid"] == "1001" and ok["src_endpoint"]["ip"] == "72.83.230.100"
    assert ok["time"] == 1492810797778 and ok["service"]["name"] == "sshd"
    assert json.loads(ok["unmapped"])["tty"] == "/dev/pts/1"
    assert failed["user"]["name"] == "(invalid user)" and failed["src_endpoint"]["ip"] == "179.38.151.221"
    assert failed["is_remote"] is True and failed["metadata"]["event_code"] == "USER_LOGIN"
    name, d = _auto("elastic-auditd-raw.log")
    auth = {r["metadata"]["event_code"]: r for r in _rows(d) if r["class_uid"] == 3002}
    assert sorted(auth) == ["USER_AUTH", "USER_LOGIN", "USER_LOGOUT"]
    assert auth["USER_AUTH"]["user"]["name"] == "admin" and auth["USER_AUTH"]["src_endpoint"]["ip"] == "89.160.20.156"
    assert auth["USER_LOGIN"]["src_endpoint"]["hostname"] == "pool-96-241-146-97.washdc.fios.verizon.net"
    assert (auth["USER_LOGOUT"]["activity_id"], auth["USER_LOGOUT"]["user"]["uid"]) == (2, "1000")
