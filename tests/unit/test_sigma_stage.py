"""The sigma stage in a pipeline config, `rules test`, and every correlation type."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.config.models import check
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.transforms.base import STAGES

HERE = Path(__file__).resolve().parent


def _cli(*args: str):
    _register()
    return CliRunner().invoke(app, list(args))


def test_sigma_stage_from_config_writes_findings(real: Path, tmp_path: Path) -> None:
    rules = real / "sigmahq-sigma/rules/cloud/aws/cloudtrail/aws_update_login_profile.yml"
    cfg = tmp_path / "p.yml"
    cfg.write_text(textwrap.dedent(f"""\
        data_dir: {tmp_path / 'd'}
        sources: {{in: {{type: file, paths: [x]}}}}
        transforms: {{detect: {{type: sigma, inputs: [in], rules: ["{rules}"]}}}}
        """))
    ok, errs = check(__import__("yaml").safe_load(cfg.read_text()))
    assert not errs
    out = _cli("ingest", "--data", str(tmp_path / "d"), "--config", str(cfg), "--json",
               str(real / "panther-analysis/extracted/cloudtrail.json"))
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stored"]["detection_finding"] == 3  # records 17, 258, 259
    q = _cli("query", "--data", str(tmp_path / "d"), "--format", "json",
             "select finding_info.analytic.uid AS rid, severity_id from detection_finding")
    rows = json.loads(q.stdout)
    assert {r["rid"] for r in rows} == {"055fb148-60f8-462d-ad16-26926ce050f1"} and {r["severity_id"] for r in rows} == {4}


def test_stage_options_are_checked() -> None:
    _, errs = check({"sources": {"in": {"type": "file", "paths": ["x"]}},
                     "transforms": {"d": {"type": "sigma", "inputs": ["in"], "rule": ["x"]}}})
    assert any("rule" in str(e) for e in errs)


def test_stage_passes_findings_through(real: Path) -> None:
    stage = STAGES["sigma"]("s", {"rules": [str(real / "sigmahq-sigma/rules/cloud")]})
    body = (real / "panther-analysis/extracted/cloudtrail.json").read_bytes()
    batch = formats.get("cloudtrail").decode(body, "t").batches[0]
    out = stage.process(batch)
    assert out[0] is batch and len(out) == 2
    assert stage.process(out[1]) == [out[1]]  # findings are not evaluated again


def test_rules_test_command() -> None:
    res = _cli("rules", "test", "--json", str(HERE.parent / "rules" / "sigma"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"cases": 2, "passed": 2, "failed": []}


def test_rules_test_reports_a_false_positive(tmp_path: Path, real: Path) -> None:
    rule = real / "sigmahq-sigma/rules/cloud/aws/cloudtrail/aws_sts_getcalleridentity_trufflehog.yml"
    (tmp_path / "t.yml").write_text(json.dumps({"tests": [{"name": "fp", "rule": str(rule), "format": "cloudtrail",
        "events": [{"eventVersion": "1.08", "eventTime": "2024-01-15T10:00:00Z", "eventSource": "sts.amazonaws.com",
                    "eventName": "GetCallerIdentity", "userAgent": "TruffleHog"}], "expect": []}]}))
    res = _cli("rules", "test", str(tmp_path))
    assert res.exit_code == 1 and "false positive" in res.stdout


BASE = """
title: login
id: 11111111-2222-4333-8444-0000000000a1
name: login
status: test
logsource: {product: secpipe, service: json}
detection: {sel: {action: login}, condition: sel}
level: low
---
title: sudo
id: 11111111-2222-4333-8444-0000000000a2
name: sudo
status: test
logsource: {product: secpipe, service: json}
detection: {sel: {action: sudo}, condition: sel}
level: low
---
"""


_LIVE = 1704067200.0 + 30 * 60  # 2024-01-01T00:30:00Z, the minute of _ev's latest events


def _corr(kind: str, cond: str, rules: str = "[login]", group: str = "[user]") -> str:
    return BASE + textwrap.dedent(f"""\
        title: corr
        id: 11111111-2222-4333-8444-0000000000c1
        status: test
        correlation:
          type: {kind}
          rules: {rules}
          group-by: {group}
          timespan: 10m
          {cond}
        level: high
        """)


def _feed(tmp_path: Path, text: str, events: list[dict], state: Path, clock: float | list[float] = _LIVE) -> list[int]:
    """The events at which the correlation fired, each event in a batch of its own and ``clock``
    the wall clock then (one for all, or one per event; by default the last event's minute)."""
    (tmp_path / "r.yml").write_text(text)
    rs = load_rules([tmp_path / "r.yml"])
    assert not rs.unsupported and len(rs.correlations) == 1
    fired = []
    clocks = clock if isinstance(clock, list) else [clock] * len(events)
    for i, ev in enumerate(events):
        eng = CorrelationEngine(rs, state, clock=lambda now=clocks[i]: now)  # a new engine per event: a restart in between
        body = msgspec.json.encode(ev)
        b = formats.get("json").decode(body, "t").batches[0]
        out = eng.process(b, rs.matches(b))
        if out is not None:
            fired.append(i)
    return fired


def _ev(t: int, user: str, action: str, ip: str = "1.1.1.1") -> dict:
    return {"time": f"2024-01-01T00:{t:02d}:00Z", "user": user, "action": action, "ip": ip}


@pytest.mark.parametrize(("kind", "cond", "rules", "events", "fired"), [
    ("event_count", "condition: {gte: 3}", "[login]",
     [_ev(0, "a", "login"), _ev(1, "b", "login"), _ev(2, "a", "login"), _ev(3, "a", "login")], [3]),
    ("event_count", "condition: {gte: 2}", "[login]",  # 2nd login of a is outside the 10m window
     [_ev(0, "a", "login"), _ev(20, "a", "login")], []),
    ("value_count", "condition: {gte: 2, field: ip}", "[login]",
     [_ev(0, "a", "login", "1.1.1.1"), _ev(1, "a", "login", "1.1.1.1"), _ev(2, "a", "login", "2.2.2.2")], [2]),
    ("temporal", "", "[login, sudo]",
     [_ev(0, "a", "sudo"), _ev(1, "b", "login"), _ev(2, "a", "login")], [2]),
    ("temporal_ordered", "", "[login, sudo]",
     [_ev(0, "a", "sudo"), _ev(1, "a", "login"), _ev(2, "b", "sudo"), _ev(3, "a", "sudo")], [3]),
])
def test_correlation_types_survive_restarts(tmp_path: Path, kind, cond, rules, events, fired) -> None:
    state = tmp_path / "state" / "sigma" / "s.json"
    assert _feed(tmp_path, _corr(kind, cond, rules), events, state) == fired


def test_correlation_state_expires_by_clock(tmp_path: Path) -> None:
    events = [_ev(0, "a", "login"), _ev(1, "a", "login")]
    text = _corr("event_count", "condition: {gte: 2}")
    assert _feed(tmp_path, text, events, tmp_path / "s1.json") == [1]
    later = 1704067200.0 + 3600  # an hour after the events: a replay, counted on the events' own time
    assert _feed(tmp_path, text, events, tmp_path / "s2.json", clock=later) == [1]
    # a group is dropped once the stream's time is past its window: by a later event (another
    # user's), or by the wall time that passed while the stream was quiet (b's too, then)
    for state, second, clock, left in (("s3.json", _ev(30, "b", "login"), [later, later], ['["b"]']),
                                       ("s4.json", _ev(0, "b", "login"), [later, later + 3600], [])):
        assert _feed(tmp_path, text, [events[0], second], tmp_path / state, clock=clock) == []
        assert list(json.loads((tmp_path / state).read_text())["11111111-2222-4333-8444-0000000000c1"]) == left
