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


def test_nginx_access_lines_forwarded_by_syslog_are_http_activity() -> None:
    """nginx's ``access_log syslog:...,tag=nginx_access`` lines as an rsyslog server files them
    (RFC 3339 header): the MSG is nginx's ``combined`` line, now HTTP Activity (Get, the status,
    the client, the user agent); they were Base Events. The ``nginx_error`` line beside them stays
    a Base Event."""
    name, d = _auto("otus-rsyslog-nginx-access-error.log")
    assert name == "syslog" and not d.dead and d.events == 3
    rows = sorted(_rows(d), key=lambda r: r["time"])
    assert [r["class_uid"] for r in rows] == [4002, 4002, 0]
    first, second = rows[0], rows[1]
    assert first["time"] == 1718533728000  # 2024-06-16T13:28:48+03:00
    assert (first["activity_id"], first["activity_name"]) == (3, "Get")
    assert first["http_request"]["http_method"] == "GET" and first["http_request"]["url"]["path"] == "/"
    assert first["http_request"]["version"] == "HTTP/1.1" and first["http_request"]["referrer"] is None
    assert first["http_request"]["user_agent"].endswith("YaBrowser/24.4.0.0 Safari/537.36")
    assert (first["http_response"]["code"], first["http_response"]["body_length"]) == (200, 409)
    assert first["src_endpoint"]["ip"] == "192.168.65.1" and first["device"]["hostname"] == "web"
    assert first["actor"]["process"]["name"] == "nginx_access" and first["status_id"] == 1
    assert (second["http_response"]["code"], second["http_response"]["body_length"], second["status_id"]) == (304, 0, 1)
    assert rows[2]["actor"]["process"]["name"] == "nginx_error"


def test_apache_access_log_file_is_http_activity() -> None:
    """Elastic's Apache access log (bare lines, Common and Combined formats, IPv6 and named
    clients, ``%u``, ``vhost_combined``, and requests that are none: ``"-"`` 408s, a TLS
    handshake, a scanner's ``<SCRIPT>``): recognized by ``--format auto`` (it was refused as
    unrecognized) and every line HTTP Activity at its ``%t``, with its zone."""
    name, d = _auto("elastic-apache-access-basic.log")
    assert name == "syslog" and not d.dead and d.events == 17
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4002}
    by = {r["raw_data"]: r for r in rows}
    common = by['::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209']
    assert common["time"] == 1482761789000 and common["src_endpoint"]["ip"] == "::1"
    assert (common["http_response"]["code"], common["http_response"]["body_length"]) == (404, 209)
    assert (common["status_id"], common["status_code"]) == (2, "404")
    frank = next(r for k, r in by.items() if k.startswith("127.0.0.1 user-identity frank"))
    assert frank["time"] == 971211336000  # 10/Oct/2000:13:55:36 -0700
    assert frank["actor"]["user"]["name"] == "frank" and frank["http_request"]["version"] == "HTTP/1.0"
    named = next(r for k, r in by.items() if k.startswith("monitoring-server - - [29/May/2017:19:02:48 +0000] \"GET /status"))
    assert named["src_endpoint"]["hostname"] == "monitoring-server" and named["src_endpoint"]["ip"] is None
    timeout = by['::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -']
    assert timeout["activity_id"] == 0 and timeout["http_response"]["code"] == 408
    assert timeout["http_response"]["body_length"] is None and json.loads(timeout["unmapped"])["request"] == "-"
    xss = next(r for k, r in by.items() if "NXSSTEST" in k)
    assert json.loads(xss["unmapped"])["request"] == "<SCRIPT>NXSSTEST</SCRIPT> / HTTP/1.1"
    tls = next(r for k, r in by.items() if k.startswith("127.0.1.1:80 127.0.0.1"))
    assert tls["src_endpoint"]["ip"] == "127.0.0.1" and tls["dst_endpoint"]["hostname"] == "127.0.1.1"
    assert tls["dst_endpoint"]["port"] == 80 and tls["activity_id"] == 0 and tls["http_request"] is None


def test_audit_records_forwarded_by_rsyslog_keep_their_stamp() -> None:
    """auditd's records as an rsyslog server files them (``imfile`` with the tag ``audit`` and no
    colon, ENRICHED fields escaped ``#035``): one event's five records (SYSCALL, CWD, two PATHs,
    PROCTITLE) share its id and take its exact stamp (the BSD header has no year: it was read in
    the current year); the type is the event code; the MSG stays whole."""
    name, d = _auto("pterodaktel-rsyslog-audit-imfile.log")
    assert name == "syslog" and not d.dead and d.events == 5
    rows = _rows(d)
    assert sorted(r["metadata"]["event_code"] for r in rows) == ["CWD", "PATH", "PATH", "PROCTITLE", "SYSCALL"]
    assert {r["metadata"]["correlation_uid"] for r in rows} == {"1740223525.615:103"}
    assert {r["time"] for r in rows} == {1740223525615}  # 2025-02-22T11:25:25.615Z
    assert {r["device"]["hostname"] for r in rows} == {"web"} and {r["class_uid"] for r in rows} == {0}
    cwd = next(r for r in rows if r["metadata"]["event_code"] == "CWD")
    assert cwd["message"] == 'audit type=CWD msg=audit(1740223525.615:103): cwd="/etc/nginx"'
    assert cwd["metadata"]["log_format"] == "RFC 3164"


def test_jenkins_brazilian_portuguese_cause_lines_start_the_build() -> None:
    """A Jenkins in Brazilian Portuguese writes its causes from core's pt_BR catalogues
    (hudson/model ``Cause.UserIdCause``, ``UpstreamCause``, ``RemoteCause`` and its
    ``ShortDescriptionWithNote``; hudson/triggers ``SCMTriggerCause``, ``TimerTriggerCause``):
    activity Start, as the English ``Started by``; they were Other. A console opening with one and
    ``Rodando como SISTEMA`` (``Run.running_as_SYSTEM``) is recognized as a console log."""
    from secpipe import formats

    starts = ["Iniciado pelo usuário Ana Souza", 'Iniciado pelo projeto superior "app", construção número 3',
              "Iniciado pelo hospedeiro remoto 10.0.0.1", "Hospedeiro remoto 10.0.0.1 iniciado com a nota: deploy",
              "Iniciado por uma mudança no SCM", "Iniciado pelo temporizador"]  # fmt: skip
    body = "\n".join([starts[0], "Rodando como SISTEMA", *starts[1:], "echo Iniciado pelo usuário x",
                      "Finished: SUCCESS"]).encode()  # fmt: skip
    assert formats.detect(body) is formats.get("jenkins_log")
    rows = _rows(formats.get("jenkins_log").decode(body, "job/app/9/consoleText"))
    assert [r["activity_id"] for r in rows] == [6, 99, 6, 6, 6, 6, 6, 99, 2]
    assert rows[-1]["status_id"] == 1 and rows[0]["metadata"]["correlation_uid"] == "app#9"


def test_alerts_posted_to_alertmanager_by_falcosidekick() -> None:
    """falcosidekick's Alertmanager output POSTs Alertmanager API alerts (``postableAlerts``:
    labels, annotations, no fingerprint, status or ``startsAt``): ``--format auto`` took the body
    for a Falco alert (its labels name ``rule`` and ``priority``) and dead-lettered it. It is an
    Alertmanager alert: a Detection Finding, severity from ``labels.severity``, title and
    description from the annotations, status Unknown (not yet processed), the receipt time."""
    name, d = _auto("falcosidekick-alertmanager-drop-event.json")
    assert name == "alertmanager" and not d.dead and d.events == 1
    (r,) = _rows(d)
    assert (r["class_uid"], r["severity_id"], r["status_id"]) == (2004, 5, 0)
    assert r["finding_info"]["title"] == "Falco internal: syscall event drop"
    assert r["finding_info"]["desc"] == "Falco internal: syscall event drop. 815508 system calls dropped in last second."
    tags = {t["name"]: t["value"] for t in r["finding_info"]["tags"]}
    assert tags["source"] == "falco" and tags["priority"] == "Critical" and tags["n_drops"] == ">10000"
    assert "secpipe:time_from_receipt" in r["metadata"]["labels"]
    assert json.loads(r["unmapped"])["endsAt"] == "0001-01-01T00:00:00Z"
