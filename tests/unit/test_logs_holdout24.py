"""Real samples secpipe was not developed against, round 24: cloud, runtime, infrastructure and
CI/CD logs (``tests/cases/holdout``, see its SOURCE.md heading "Round 24 (logs)").

Expectations are written from the source documents and the formats' own references (AWS's
CloudTrail guide, Jenkins' message catalogues, Junos's System Log Explorer), not from
secpipe's output.
"""

from __future__ import annotations

import json

from tests.unit.test_formats_holdout import _auto, _rows


def test_cloudtrail_insights_lookup_answer_with_records_inline() -> None:
    """AWS's Insights guide prints ``aws cloudtrail lookup-events --event-category insight`` as
    ``{"NextToken", "Events": [<Insights record>, ...]}``: each item the record itself, not the
    ``CloudTrailEvent`` string. The whole answer was dead-lettered (no eventName/eventSource)."""
    name, d = _auto("aws-docs-lookup-events-insight.json")
    assert name == "cloudtrail" and not d.dead
    rows = _rows(d)
    assert [r["metadata"]["original_event_uid"] for r in rows] == [
        "18378b1e-3653-433d-ba1e-aa11a5958f0c", "b32f10a0-f039-419a-bad7-e95468930a4f"]
    for r, when in zip(rows, (1733935920000, 1733935980000), strict=True):  # 2024-12-11T16:52:00Z / 16:53:00Z
        assert r["class_uid"] == 6003 and r["time"] == when
        assert r["api"]["operation"] == "DescribeQuery" and r["api"]["service"]["name"] == "cloudtrail.amazonaws.com"
        assert r["cloud"]["account"]["uid"] == "888888888888" and r["cloud"]["region"] == "us-east-1"
        extra = json.loads(r["unmapped"])
        assert extra["eventCategory"] == "Insight" and extra["insightDetails"]["insightType"] == "ApiErrorRateInsight"
    assert [json.loads(r["unmapped"])["insightDetails"]["state"] for r in rows] == ["Start", "End"]


def test_cloudtrail_lookup_record_items_same_uid_as_s3_file() -> None:
    """A record read from such an answer is the same event as read from a ``{"Records": [...]}``
    file or a ``CloudTrailEvent`` string (same uid); an item that is neither is dead-lettered."""
    from secpipe import formats
    from tests.unit.test_formats_holdout import CASES

    events = json.loads((CASES / "aws-docs-lookup-events-insight.json").read_bytes())["Events"]
    ct = formats.get("cloudtrail")
    uids = []
    for doc in ({"Records": events}, {"Events": events},
                {"Events": [{"EventId": e["eventID"], "CloudTrailEvent": json.dumps(e)} for e in events]}):
        d = ct.decode(json.dumps(doc, indent=2).encode(), "src")
        assert not d.dead
        uids.append([r["metadata"]["uid"] for r in _rows(d)])
    assert uids[0] == uids[1] == uids[2] and len(uids[0]) == 2
    d = ct.decode(json.dumps({"Events": [{"EventId": "x", "EventName": "y"}]}).encode(), "src")
    assert not _rows(d) and [x.reason for x in d.dead] == ["lookup-events CloudTrailEvent is not a CloudTrail JSON record"]


def test_jenkins_console_log_of_a_german_jenkins() -> None:
    """A Pipeline console log of a Jenkins in German (its README's "Console output"): the build's
    cause line is ``Gestartet durch Benutzer <name>`` (core's Messages_de ``Cause.UserIdCause``),
    the Start of the build as ``Started by user`` is; it was activity Other."""
    name, d = _auto("jenkins-console-de-allure-pipeline.log")
    assert name == "jenkins_log" and not d.dead
    rows = _rows(d)
    assert rows[0]["message"] == "Gestartet durch Benutzer Rene Erdmann"
    assert (rows[0]["activity_id"], rows[0]["activity_name"]) == (6, "Start")
    assert [r["activity_id"] for r in rows[1:-1]] == [99] * (len(rows) - 2)
    assert rows[-1]["message"] == "Finished: SUCCESS" and rows[-1]["status_id"] == 1
    stages = {json.loads(r["unmapped"]).get("stage") for r in rows}
    assert {"Checkout", "Build and Run Tests"} <= stages


def test_jenkins_localized_cause_lines_start_the_build() -> None:
    """The cause lines of Jenkins' message catalogues (core hudson/model Messages_de/fr/es/ja,
    hudson/triggers Messages_de) are activity Start; a line only holding such words later is not;
    a localized first line followed by ``Finished:`` is recognized as a console log."""
    from secpipe import formats

    starts = ["Gestartet durch vorgelagertes Projekt \"a\", Build 3", "Build wurde zeitgesteuert ausgelöst.",
              "Build wurde durch eine SCM-Änderung ausgelöst.", "Démarré par l'utilisateur Marie",
              "Démarré à distance par 10.0.0.1", "Lanzada por el usuario ana", "ユーザーadminが実行",
              "リモートホスト10.0.0.1が実行"]  # fmt: skip
    body = "\n".join([*starts, "echo Gestartet durch Benutzer x", "Finished: FAILURE"]).encode()
    assert formats.detect(body) is formats.get("jenkins_log")
    rows = _rows(formats.get("jenkins_log").decode(body, "job/app/7/consoleText"))
    assert [r["activity_id"] for r in rows] == [6] * len(starts) + [99, 2]
    assert rows[-1]["status_id"] == 2 and rows[0]["metadata"]["correlation_uid"] == "app#7"


def _syslog_rows(name: str) -> list[dict]:
    fmt, d = _auto(name)
    assert fmt == "syslog" and not d.dead
    return sorted(_rows(d), key=lambda r: r["raw_data"])


def test_junos_log_file_lines_two_spaces_after_the_time() -> None:
    """Junos writes its log files (``show log messages``) with two spaces between the time and
    the hostname: ``Apr  3 08:27:50  DC-L36-GTWY04 sshd[30062]: ...``. The header was not read
    (host, TAG and PID left in the MSG), so the sshd failure was no Authentication either."""
    rows = {r["raw_data"][:36]: r for r in _syslog_rows("junos-bsd-auth-lines.log")}
    sshd = rows["Apr  3 08:27:50  DC-L36-GTWY04 sshd["]
    assert sshd["device"]["hostname"] == "DC-L36-GTWY04" and sshd["actor"]["process"]["name"] == "sshd"
    assert sshd["actor"]["process"]["pid"] == 30062 and sshd["message"].startswith("Failed password for mpcl")
    assert sshd["class_uid"] == 3002 and sshd["status_id"] == 2 and sshd["user"]["name"] == "mpcl"
    assert sshd["src_endpoint"]["ip"] == "106.51.66.192" and sshd["src_endpoint"]["port"] == 54888
    inetd = rows["Apr  3 08:27:51  DC-L36-GTWY04 inetd"]
    assert inetd["actor"]["process"]["name"] == "inetd" and inetd["message"] == "/usr/sbin/sshd[30062]: exited, status 255"


def test_junos_bsd_authentication_messages() -> None:
    """Junos messages whose MSGID opens a BSD line's MSG (System Log Explorer texts):
    ``SSHD_LOGIN_FAILED`` a failed Logon, ``UI_LOGIN_EVENT`` a Logon with the ssh-connection's
    source address and port; ``UI_AUTH_EVENT`` stays a Base Event (not in the set)."""
    rows = {r["raw_data"][:36]: r for r in _syslog_rows("junos-bsd-auth-lines.log")}
    failed = rows["Apr  3 08:27:50  DC-L36-GTWY04 sshd:"]
    assert (failed["class_uid"], failed["activity_id"], failed["status_id"]) == (3002, 1, 2)
    assert failed["user"]["name"] == "mpcl" and failed["src_endpoint"]["ip"] == "106.51.66.192"
    assert failed["is_remote"] is True and failed["service"]["name"] == "sshd"
    assert failed["device"]["hostname"] == "DC-L36-GTWY04"
    login = next(r for r in rows.values() if "UI_LOGIN_EVENT" in r["raw_data"])
    assert (login["class_uid"], login["activity_id"], login["status_id"]) == (3002, 1, 1)
    assert login["user"]["name"] == "support" and login["service"]["name"] == "mgd"
    assert login["src_endpoint"]["ip"] == "10.71.0.254" and login["src_endpoint"]["port"] == 34882
    assert login["dst_endpoint"]["hostname"] == "R1"
    assert next(r for r in rows.values() if "UI_AUTH_EVENT" in r["raw_data"])["class_uid"] == 0


def test_junos_login_logout_and_structured_data_forms() -> None:
    """``LOGIN_FAILED`` (login: "Login failed for user <username> from host <source-address>", the
    host an address or a name), ``UI_LOGOUT_EVENT`` (Logoff), and the RFC 5424 form whose
    ``junos@`` element gives ``username`` and ``ssh-connection`` (Junos's documented parameters)."""
    from secpipe import formats

    lines = [
        "Jun 24 12:46:25 fw1 login[93054]: LOGIN_FAILED: Login failed for user wow from host 45.67.8.9",
        "Jun 24 12:46:26 fw1 login[93055]: LOGIN_FAILED: Login failed for user root from host ttyu0",
        "Jan 19 17:18:14 R1 mgd[15886]: UI_LOGOUT_EVENT: User 'lab' logout",
        '<190>1 2024-07-25T10:34:24.316+10:00 host-a mgd 16590 UI_LOGIN_EVENT [junos@2636.1.1.1.2.18 username="ops" '
        'class-name="j-super-user" local-peer="" pid="16590" ssh-connection="192.0.2.7 50122 192.0.2.1 22" '
        "client-mode=\"cli\"] User 'ops' login, class 'j-super-user' [16590], ssh-connection '192.0.2.7 50122 "
        "192.0.2.1 22', client-mode 'cli'",
        "Jan 19 17:18:03 R1 mgd[15886]: UI_CMDLINE_READ_LINE: User 'lab', command 'show rsvp interface '",
    ]  # fmt: skip
    d = formats.get("syslog").decode("\n".join(lines).encode(), "src")
    assert not d.dead
    got = {r["raw_data"]: r for r in _rows(d)}
    r = [got[x] for x in lines]
    assert [(x["class_uid"], x["activity_id"], x.get("status_id")) for x in r] == [
        (3002, 1, 2), (3002, 1, 2), (3002, 2, 1), (3002, 1, 1), (0, 0, None)]
    assert [x.get("user", {}) and x["user"]["name"] for x in r[:4]] == ["wow", "root", "lab", "ops"]
    assert r[0]["src_endpoint"]["ip"] == "45.67.8.9"
    assert r[1]["src_endpoint"]["ip"] is None and r[1]["src_endpoint"]["hostname"] == "ttyu0"
    assert (r[3]["src_endpoint"]["ip"], r[3]["src_endpoint"]["port"]) == ("192.0.2.7", 50122)


def test_macos_multiline_message_continuation_is_one_event() -> None:
    """Elastic's macOS sample: a message of two lines, the second indented with tabs, is one
    event (the continuation joined with its newline), as Elastic's pipeline test expects; the
    continuation was an event of its own (no header, the receipt time)."""
    name, d = _auto("elastic-system-iso8601-multiline-syslog.log")
    assert name == "syslog" and not d.dead and d.events == 1
    (r,) = _rows(d)
    assert r["message"] == ("[lvl=2] -[KSUpdateEngine updateAllExceptProduct:] KSUpdateEngine updating all\n"
                            "\t\tinstalled products, except:'com.google.Keystone'.")
    assert r["raw_data"].endswith("updating all\n\t\tinstalled products, except:'com.google.Keystone'.")
    assert r["time"] == 1650551400000 and r["actor"]["process"]["name"] == "GoogleSoftwareUpdateAgent"


def test_continuation_lines_framing_rules() -> None:
    """Only a tab-indented line right below a message that opens with no whitespace continues it;
    a blank line ends the message; a stream's repeats are counted on the joined messages (the
    listener's hints frame as the decoder does: a repeat gets its own uid)."""
    from secpipe import formats
    from secpipe.formats.syslog import Repeats

    body = (b"<13>Mar  7 19:06:53 mac app[1]: one\n\tcontinued\n\n\tafter a blank\n"
            b"<13>Mar  7 19:06:54 mac app[1]: two\r\n\tcrlf\r\n")
    d = formats.get("syslog").decode(body, "src")
    rows = _rows(d)
    assert not d.dead and d.events == 3
    assert sorted(r["message"] for r in rows) == ["after a blank", "one\n\tcontinued", "two\n\tcrlf"]
    reps = Repeats()
    first = formats.get("syslog").decode(body, reps.source(body, "src"))
    again = formats.get("syslog").decode(body, reps.source(body, "src"))
    uids1 = {r["metadata"]["uid"] for r in _rows(first)}
    uids2 = {r["metadata"]["uid"] for r in _rows(again)}
    assert len(uids1) == len(uids2) == 3 and not uids1 & uids2


def test_jenkins_audit_trail_log_file() -> None:
    """An Audit Trail plugin log file (khannashiv/Jenkins-Practice's sample, the logger's separator
    empty): two configSubmit requests (API Activity Update by user2 from ::1), the build's start
    and its finalization (Scheduled Job Activity Start / Update, build id job#49, SUCCESS). The
    finalized line's UTC start (18:58:04Z) against its local time (00:30 next day) tells the
    server's zone, +05:30, applied to every line. It was not recognized at all."""
    name, d = _auto("jenkins-audit-trail-khannashiv.log")
    assert name == "jenkins_log" and not d.dead and d.events == 4
    rows = sorted(_rows(d), key=lambda r: r["time"])
    assert [(r["class_uid"], r["activity_id"]) for r in rows] == [(6003, 3), (6003, 3), (1006, 6), (1006, 2)]
    assert [r["time"] for r in rows] == [1767812282611, 1767812282664, 1767812284789, 1767812445795]
    req = rows[0]
    assert req["api"]["operation"] == "configSubmit" and req["actor"]["user"]["name"] == "user2"
    assert req["src_endpoint"]["ip"] == "0:0:0:0:0:0:0:1"
    assert req["resources"] == [{"type": "job", "name": "monitor-jenkins-grafana-prometheus", "uid": None}]
    assert req["http_request"]["url"]["path"] == "/job/monitor-jenkins-grafana-prometheus/configSubmit"
    assert rows[0]["metadata"]["uid"] != rows[1]["metadata"]["uid"]
    start, end = rows[2], rows[3]
    for r in (start, end):
        assert r["job"]["name"] == "monitor-jenkins-grafana-prometheus" and r["job"]["user"]["name"] == "user2"
        assert r["metadata"]["correlation_uid"] == "monitor-jenkins-grafana-prometheus#49"
    assert (end["status_id"], end["status_detail"], end["duration"]) == (1, "SUCCESS", 160980)
    assert end["job"]["last_run_time"] == 1767812284000  # started at 2026-01-07T18:58:04Z
    assert json.loads(end["unmapped"])["node"] == "Built-In Node;Slave-Agent-Node-1"


def test_jenkins_audit_trail_messages_of_the_plugin() -> None:
    """The plugin's other messages (AuthenticationAuditListener's logins and logouts, an older
    version's ``on node`` and start lines without parameters, a folder job's display name, a
    queued item's task), a verbatim repeat; a line without the plugin's time (the rest of a
    message of several lines, or a damaged line) is dead-lettered alone; the finalized line's UTC
    start agrees with the lines' times: read as UTC."""
    from secpipe import formats

    lines = [
        "Jul 31, 2019 10:47:32,727 AM job/02-02.Jobs/ #12 Started by user GyuSeok.Lee",
        "Jul 31, 2019 10:47:42,738 AM /job/03-04.WebhookBuild Triggering/configSubmit by gyulee",
        "Jul 31, 2019 10:48:09,001 AM Successful login for user 'gyulee'",
        "Jul 31, 2019 10:48:10,002 AM Failed login attempt for user 'mallory'",
        "Jul 31, 2019 10:48:11,003 AM Logout for user 'gyulee'",
        "Jul 31, 2019 10:48:12,004 AM /job/team/job/app/doDelete by admin",
        "Jul 31, 2019 10:48:13,005 AM /queue/item/7/cancelQueue (job/app/) by admin",
        "Jul 31, 2019 10:48:14,006 AM team » app #3 Started by timer on node agent-1 started at "
        "2019-07-31T10:48:00Z completed in 14006ms completed: FAILURE",
        "Jul 31, 2019 10:48:15,007 AM Script console used by admin:",
        "println 'hi'",
        "Jul 31, 2019 10:48:15,007 AM Logout for user 'gyulee'",
        "Jul 31, 2019 10:48:15,007 AM Logout for user 'gyulee'",
    ]  # fmt: skip
    body = "\n".join(lines).encode()
    assert formats.detect(body) is formats.get("jenkins_log")
    d = formats.get("jenkins_log").decode(body, "audit.log.0")
    assert d.events == 12 and [(x.raw, x.offset) for x in d.dead] == [(b"println 'hi'", body.index(b"println"))]
    assert "without the plugin's time" in d.dead[0].reason
    rows = sorted(_rows(d), key=lambda r: (r["time"], r["metadata"]["uid"]))

    def by(prefix: str) -> dict:
        (hit,) = [r for r in rows if r["message"].startswith(prefix)][:1]
        return hit

    assert by("job/02-02.Jobs/ #12 Start")["time"] == 1564570052727  # 10:47:32.727 taken as UTC
    assert by("job/02-02.Jobs/ #12 Start")["metadata"]["correlation_uid"] == "02-02.Jobs#12"
    cfg = by("/job/03-04.WebhookBuild T")
    assert cfg["resources"][0]["name"] == "03-04.WebhookBuild Triggering" and cfg["actor"]["user"]["name"] == "gyulee"
    assert cfg["src_endpoint"].get("ip") is None
    auth = [by("Successful login for user"), by("Failed login attempt for ")]
    assert [(r["class_uid"], r["activity_id"], r["status_id"], r["user"]["name"]) for r in auth] == [
        (3002, 1, 1, "gyulee"), (3002, 1, 2, "mallory")]
    assert by("/job/team/job/app/doDelet")["activity_id"] == 4
    assert by("/job/team/job/app/doDelet")["resources"][0]["name"] == "team/app"
    assert json.loads(by("/queue/item/7/cancelQueue")["unmapped"]) == {"queued_task": "job/app/"}
    fin = by("team » app #3 Started by")
    assert (fin["class_uid"], fin["status_id"], fin["severity_id"]) == (1006, 2, 4)
    assert fin["job"]["name"] == "team/app" and fin["metadata"]["correlation_uid"] == "team/app#3"
    script = by("Script console used by ad")
    assert script["class_uid"] == 0 and script["message"] == "Script console used by admin:"
    logouts = [r for r in rows if r["raw_data"].endswith("Logout for user 'gyulee'")]
    assert len(logouts) == 3 and len({r["metadata"]["uid"] for r in logouts}) == 3
    assert {r["activity_id"] for r in logouts} == {2}


def test_jenkins_audit_trail_times_are_calendar_exact() -> None:
    """Audit Trail line times from the clock's fields, vectorized (numpy day numbers): the
    calendar's own ms for any date, None for a date or clock that does not exist."""
    import datetime as dt
    import random

    import numpy as np

    from secpipe.formats._jenkins_audit import epoch_ms

    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    rng = random.Random(24)
    fields = [[rng.randint(*r) for r in ((1, 9999), (1, 12), (1, 31), (0, 23), (0, 61), (0, 61), (0, 999))]
              for _ in range(20_000)]  # fmt: skip
    fields += [[2000, 2, 29, 0, 0, 0, 0], [1900, 2, 29, 0, 0, 0, 0], [2024, 12, 31, 23, 59, 59, 999], [1, 1, 1, 0, 0, 0, 0]]
    got, valid = epoch_ms(*np.array(fields, np.int64).T)
    for (y, mo, d, h, mi, s, ms), value, ok in zip(fields, got.tolist(), valid.tolist(), strict=True):
        try:
            want = (dt.datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=dt.UTC) - epoch) // dt.timedelta(milliseconds=1)
        except ValueError:
            want = None
        assert (value if ok else None) == want, (y, mo, d, h, mi, s, ms)
