"""Detections of the thirtieth round: a Sigma correlation's stream time, an anomaly baseline, and a
clock far ahead.

Events: OpenSSH lines of Elastic's system auth test log (tests/cases/holdout/elastic-system-auth.log);
the bad clock is RFC 5424's first example line (section 6.5, /work/shared/data/real/rfc5424-spec),
stamped years ahead. Rules: the SSH brute force keywords (tests/cases/sigma_holdout).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from secpipe import formats
from secpipe.detect.anomaly import build_stage
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine, correlate_matches
from secpipe.detect.sigma.options import SigmaOptions
from secpipe.detect.sigma.stage import SigmaStage

CASES = Path(__file__).resolve().parents[1] / "cases"
WALL = 1900000000.0  # 2030-03-17: the wall clock of a replay of the log's lines
BRUTE = CASES / "sigma_holdout/lnx_syslog_ssh_bruteforce.yml"


def _lines(real: Path) -> tuple[list[str], str]:
    """The sshd[2738] burst (16:45:20 and :26), the sudo line at 17:04:51; mymachine's `su` line of
    RFC 5424 from a host whose clock says 2033."""
    log = (CASES / "holdout/elastic-system-auth.log").read_text().splitlines()
    burst = [x for x in log if "sshd[2738]: Failed password" in x or "sshd[2738]: PAM 4 more" in x]
    sudo = next(x for x in log if "slave22 sudo: " in x)
    rfc = (real / "rfc5424-spec/rfc5424_section6.5_examples.log").read_text().splitlines()[0]
    return [*burst, sudo], rfc.replace("2003-10-11T", "2033-10-11T")


def _correlation(tmp_path: Path, condition: str, group_by: str = "[]") -> Path:
    p = tmp_path / "burst.yml"
    p.write_text(textwrap.dedent(f"""\
        title: SSH authentication failures in a burst
        id: 4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7c
        correlation:
            type: event_count
            rules: [8d9c5b6a-9b42-4d71-9b3f-sshbruteforce01]
            group-by: {group_by}
            timespan: 5m
            condition: {condition}
        level: high
        """))
    return p


def _batch(line: str):
    (b,) = formats.get("syslog").decode(f"{line}\n".encode(), "t").batches
    return b


def test_an_event_years_ahead_does_not_expire_the_open_groups(real: Path, tmp_path: Path) -> None:
    """gte 2 in 5 m: the bad clock's line between the two failures (a batch of its own) moved the
    stream time to 2033, which dropped the group of the first failure: the burst went unseen."""
    rs = load_rules([_correlation(tmp_path, "{gte: 2}"), BRUTE])
    assert not rs.unsupported, rs.unsupported
    (first, second, _), ahead = _lines(real)
    eng = CorrelationEngine(rs, None, clock=lambda: WALL)
    fired = [i for i, line in enumerate([first, ahead, second])
             if eng.process(b := _batch(line), rs.matches(b)) is not None]
    assert fired == [2]
    assert eng.high < WALL * 1000  # the 2033 line is not the stream's time


def test_an_event_years_ahead_does_not_close_the_open_windows(real: Path, tmp_path: Path) -> None:
    """2 to 3 failures in 5 m (decided at the window's close): the bad clock's line closed the
    window of the first failure at once (1 failure: nothing); the window holds both failures and
    closes on the sudo line, 19 minutes later in the log."""
    rules = _correlation(tmp_path, "{gte: 2, lte: 3}")
    stage = SigmaStage("s", SigmaOptions(rules=[str(rules), str(BRUTE)]), None, clock=lambda: WALL)
    (first, second, sudo), ahead = _lines(real)
    out = [stage.process(_batch(line))[1:] for line in [first, ahead, second, sudo]]
    assert [[b.column("message")[0].as_py() for b in o] for o in out] == [
        [], [], [], ["Sigma correlation fired: SSH authentication failures in a burst"]]
    # the bound is an option: with a year's tolerance the 2033 line is the stream's time again
    loose = SigmaStage("s", SigmaOptions(rules=[str(rules), str(BRUTE)], correlation_max_ahead_seconds=10 * 365 * 86400),
                       None, clock=lambda: WALL)
    assert [len(loose.process(_batch(line))) for line in [first, ahead, second, sudo]] == [1, 1, 1, 1]


def test_a_hunt_decides_windows_before_its_last_match_however_far_past_its_now(real: Path, tmp_path: Path) -> None:
    """Over the lake every event is there: a window closes before the last match even when the
    events are all later than the hunt's now (a lake of lines dated after the hunt's clock): slave22's
    window closes on host.name's June failure."""
    rs = load_rules([_correlation(tmp_path, "{gte: 2, lte: 3}", "[device.hostname]"), BRUTE])
    (first, second, _), _ = _lines(real)
    log = (CASES / "holdout/elastic-system-auth.log").read_text().splitlines()
    june = next(x for x in log if "sudo[654321]: pam_unix(sudo:auth): authentication failure" in x)
    (batch,) = formats.get("syslog").decode(f"{first}\n{second}\n{june}\n".encode(), "t").batches
    before = min(batch.column("time").to_pylist()) / 1000 - 86400
    out = correlate_matches(rs, [(batch, rs.matches(batch))], now=before)
    (f,) = [json.loads(u) for u in out.column("unmapped").to_pylist()] if out is not None else [None]
    assert f is not None and f["group"] == ["slave22"] and f["events"] == 2


# -- the anomaly stage: an event of a clock years ahead does not wipe an entity's baseline -------

def test_rate_baseline_survives_an_event_years_ahead(real: Path, data_dir: Path) -> None:
    """Panther's CloudTrail record re-stamped as in test_anomaly_detect: alice's 30 hours of history,
    then one call of hers stamped 2033 (a bad clock), then her spike. The 2033 window moved the
    baseline's horizon there and dropped her 30 hours: the spike went unseen."""
    from tests.unit.test_anomaly_detect import RATE, Clock, batch_of, findings, hourly, records

    template = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"][254]
    stage = build_stage("ueba", RATE, data_dir=data_dir, clock=Clock())
    assert len(stage.process(batch_of(records(template, hourly("alice", range(30), lambda h: 10 + h % 5))))) == 1
    ahead = hourly("alice", range(7 * 365 * 24, 7 * 365 * 24 + 1), 1)
    assert ahead[0][0].year == 2033 and len(stage.process(batch_of(records(template, ahead)))) == 1
    (f,) = findings(stage.process(batch_of(records(template, hourly("alice", range(30, 31), 340)))))
    assert f["count"] == 340 and json.loads(f["unmapped"])["baseline_windows"] == 30


# -- at-once correlations: an event delivered late counts only with the events of its timespan ----

def test_a_late_event_completes_no_count_over_a_longer_span(tmp_path: Path) -> None:
    """3 failures in 5 m by a stream whose third failure came late (a later batch, an earlier time):
    10:00, 10:04 then 09:56 are three failures over eight minutes, which fired; 10:00, 10:04 then
    10:02 (or 09:59:30) are three in five. The failure line of Elastic's auth test log, re-stamped."""
    rs = load_rules([_correlation(tmp_path, "{gte: 3}"), BRUTE])
    log = (CASES / "holdout/elastic-system-auth.log").read_text().splitlines()
    failed = next(x for x in log if "sshd[2738]: Failed password" in x)

    def fired(times: list[str]) -> list[int]:
        eng = CorrelationEngine(rs, None, clock=lambda: WALL)
        return [i for i, t in enumerate(times)
                if eng.process(b := _batch(failed.replace("16:45:20", t)), rs.matches(b)) is not None]

    assert fired(["10:00:00", "10:04:00", "09:56:00"]) == []
    assert fired(["10:00:00", "10:04:00", "10:02:00"]) == [2]
    assert fired(["10:00:00", "10:04:00", "09:59:30"]) == [2]
    assert fired(["10:00:00", "10:04:00", "09:56:00", "10:05:00"]) == [3]  # 10:00, 10:04, 10:05


# -- the same event delivered twice counts once ------------------------------------------------

_LOGINS = """\
    title: Console login
    name: console_login
    id: 4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a80
    logsource: {product: aws, service: cloudtrail}
    detection:
        selection: {eventSource: signin.amazonaws.com, eventName: ConsoleLogin}
        condition: selection
    ---
    title: Two console logins in 5 minutes
    id: 4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a81
    correlation:
        type: event_count
        rules: [console_login]
        timespan: 5m
        condition: {%s: 2}
    level: high
    """


def test_an_event_delivered_twice_counts_once(real: Path, tmp_path: Path) -> None:
    """A CloudTrail file read twice (an S3 notification delivered again) repeats its ConsoleLogin
    (Panther's record, its eventID the event's uid): two logins, which fired; another login (another
    eventID) is a second. Also for a condition decided at the window's close (eq 2)."""
    recs = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"]
    login = next(r for r in recs if r["eventName"] == "ConsoleLogin" and "eventID" in r)
    other = dict(login, eventID="0f0b0bd1-4d2b-4e40-9c57-8a0a5b6a7c01")
    later = dict(login, eventID="0f0b0bd1-4d2b-4e40-9c57-8a0a5b6a7c02", eventTime=login["eventTime"][:10] + "T23:59:59Z")
    for cond, close in (("gte", False), ("eq", True)):
        p = tmp_path / f"{cond}.yml"
        p.write_text(textwrap.dedent(_LOGINS % cond))
        rs = load_rules([p])
        assert not rs.unsupported, rs.unsupported
        for second, fires in ((login, False), (other, True)):
            eng = CorrelationEngine(rs, None, clock=lambda: WALL)
            out = []
            for rec in [login, second, *([later] if close else [])]:
                (b,) = formats.get("cloudtrail").decode(json.dumps({"Records": [rec]}).encode(), "t").batches
                out.append(eng.process(b, rs.matches(b)))
            assert (out[-1] is not None) == fires, (cond, second["eventID"])
