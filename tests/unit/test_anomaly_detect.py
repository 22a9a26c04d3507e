"""Anomaly detection: rate (robust z), first-seen, rare; warm-up; restart persistence.

Events are real CloudTrail records (Panther's test corpus) re-stamped with the times,
principals, IPs and operations each scenario needs, then decoded by the real CloudTrail
format, so the detectors see genuine OCSF API Activity batches. Time is event time; the
stage clock is injected (no sleeping).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from secpipe.config.models import check
from secpipe.detect.anomaly import AnomalyStage, build_stage, parse_duration
from secpipe.detect.anomaly.state import FILE_NAME
from secpipe.formats import get
from secpipe.runtime.pipeline import Pipeline
from secpipe.runtime.topology import build_stages
from secpipe.schema.ocsf import validate_batch
from secpipe.store.query import run

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


class Clock:
    """Injected wall clock for created_time and checkpoint cadence."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def template(real: Path) -> dict:
    """Record 254 of Panther's CloudTrail tests: an IAMUser CreateServiceLinkedRole call."""
    recs = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    return recs[254]


def records(template: dict, rows: list[tuple[dt.datetime, str, str, str]]) -> list[dict]:
    """Variants of the template: (time, user, source IP, eventName) per record."""
    out = []
    for i, (t, user, ip, op) in enumerate(rows):
        r = copy.deepcopy(template)
        r["eventTime"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        r["userIdentity"]["userName"] = user
        r["userIdentity"]["arn"] = f"arn:aws:iam::123456789012:user/{user}"
        r["sourceIPAddress"] = ip
        r["eventName"] = op
        r["eventID"] = f"{user}-{i}-{t.timestamp()}"
        out.append(r)
    return out


def batch_of(recs: list[dict]) -> pa.RecordBatch:
    dec = get("cloudtrail").decode(orjson.dumps({"Records": recs}), "test")
    assert not dec.dead
    (b,) = dec.batches
    return b


def hourly(user: str, hours: range, per_hour, ip: str = "198.51.100.7", op: str = "ListBuckets"):
    rows = []
    for h in hours:
        n = per_hour(h) if callable(per_hour) else per_hour
        rows += [(T0 + h * HOUR + dt.timedelta(seconds=k * 3600 // n), user, ip, op) for k in range(n)]
    return rows


def findings(out: list[pa.RecordBatch]) -> list[dict]:
    return [r for b in out[1:] for r in b.to_pylist()]


RATE = {"rate": [{"entity": ["actor.user.name", "user.name"], "window": "1h", "min_history": 24}], "checkpoint_seconds": 0}


def test_rate_spike_explains_baseline_and_deviation(template, data_dir):
    stage = build_stage("ueba", RATE, data_dir=data_dir, clock=Clock())
    # 30 hours of history: alice 10..14 calls an hour (median 12, MAD 1), bob a steady 20.
    hist = hourly("alice", range(30), lambda h: 10 + h % 5) + hourly("bob", range(30), 20)
    out = stage.process(batch_of(records(template, hist)))
    assert len(out) == 1, "steady history must not alert"
    spike = hourly("alice", range(30, 31), 340) + hourly("bob", range(30, 31), 21)
    out = stage.process(batch_of(records(template, spike)))
    (f,) = findings(out)
    assert f["class_uid"] == 2004 and f["type_uid"] == 200401 and f["activity_name"] == "Create"
    # baseline: counts 10,11,12,13,14 repeating over 30 hours -> median 12, MAD 1;
    # z = 0.6745 * (340 - 12) / 1 = 221.2
    assert f["message"] == (
        "alice made 340 events in 1h from 2026-11-02T06:00:00Z; baseline over 30 active windows: "
        "median 12, MAD 1, robust z 221.2 (alerts at 3.5)"
    )
    assert f["finding_info"]["analytic"]["type"] == "Statistical"
    assert f["finding_info"]["related_events_count"] == 20  # max_evidence
    assert f["count"] == 340
    (ana,) = f["anomaly_analyses"]
    assert ana["analysis_targets"] == [{"name": "alice", "type": "actor.user.name|user.name"}]
    assert ana["baselines"][0]["observed_pattern"] == "median 12, MAD 1 over 30 windows of 1h"
    assert ana["anomalies"][0]["observations"] == [{"value": "2026-11-02T06:00:00Z", "count": 340}]
    details = json.loads(f["unmapped"])
    assert details["median"] == 12 and details["mad"] == 1 and details["baseline_windows"] == 30
    assert f["time"] == int((T0 + 30 * HOUR + dt.timedelta(seconds=339 * 3600 // 340)).timestamp() * 1000)
    assert f["finding_info"]["created_time"] == 1_800_000_000_000
    assert validate_batch("detection_finding", out[1].schema) == []
    # Evidence uids are real event uids of alice's spike window.
    uids = set(out[0].column("metadata").field("uid").to_pylist())
    assert {e["uid"] for e in f["finding_info"]["related_events"]} <= uids
    # More events in the same window: already reported, no second finding.
    more = stage.process(batch_of(records(template, hourly("alice", range(30, 31), 5, op="GetObject"))))
    assert len(more) == 1


def test_rate_warmup_needs_min_history(template, data_dir):
    stage = build_stage("ueba", RATE, data_dir=data_dir, clock=Clock())
    stage.process(batch_of(records(template, hourly("alice", range(10), 12))))
    out = stage.process(batch_of(records(template, hourly("alice", range(10, 11), 500))))
    assert len(out) == 1, "10 windows < min_history 24: still warming up"
    stage.process(batch_of(records(template, hourly("alice", range(11, 30), 12))))
    out = stage.process(batch_of(records(template, hourly("alice", range(30, 31), 500))))
    (f,) = findings(out)
    # history: 10 windows of 12, 1 of 500, 19 of 12 -> median 12, MAD 0 (floored to 1)
    assert "baseline over 30 active windows: median 12, MAD 0, robust z 329.2" in f["message"]


def test_baselines_survive_restart(template, data_dir):
    clock = Clock()
    opts = {**RATE, "checkpoint_seconds": 60}
    a = build_stage("ueba", opts, data_dir=data_dir, clock=clock)
    a.process(batch_of(records(template, hourly("alice", range(30), 12))))
    state_file = data_dir / "state" / "anomaly" / "ueba" / FILE_NAME
    assert not state_file.exists(), "checkpoint_seconds=60 and the clock has not moved"
    clock.t += 61
    a.process(batch_of(records(template, hourly("carol", range(1), 3))))
    assert state_file.exists()
    # A restarted stage reloads the baseline and alerts at once; a fresh one is warming up.
    b = build_stage("ueba", opts, data_dir=data_dir, clock=clock)
    spike = batch_of(records(template, hourly("alice", range(30, 31), 300)))
    (f,) = findings(b.process(spike))
    assert f["message"].startswith("alice made 300 events in 1h")
    fresh = build_stage("ueba", opts, data_dir=data_dir / "other", clock=clock)
    assert len(fresh.process(spike)) == 1
    # Replaying after a crash raises the same finding uid (the lake keeps one copy).
    c = build_stage("ueba", opts, data_dir=data_dir, clock=clock)
    (g,) = findings(c.process(spike))
    assert g["metadata"]["uid"] == f["metadata"]["uid"] == f["finding_info"]["uid"]


def test_pipeline_flush_saves_learning(template, data_dir):
    clock = Clock()
    stage = build_stage("ueba", {**RATE, "checkpoint_seconds": 3600}, data_dir=data_dir, clock=clock)
    pipe = Pipeline(data_dir, [stage])
    pipe.submit(get("cloudtrail").decode(orjson.dumps({"Records": records(template, hourly("alice", range(3), 5))}), "t"))
    state_file = data_dir / "state" / "anomaly" / "ueba" / FILE_NAME
    assert not state_file.exists()
    pipe.flush()  # the sync hook runs before WAL segments are released
    assert state_file.exists()
    h0 = int(T0.timestamp()) // 3600
    again = build_stage("ueba", RATE, data_dir=data_dir, clock=clock)
    assert again.baselines.rate["rate:actor.user.name|user.name:3600"]["alice"] == {h0: 5, h0 + 1: 5, h0 + 2: 5}


def test_close_saves_unsaved_learning(template, data_dir):
    clock = Clock()
    a = build_stage("ueba", {**RATE, "checkpoint_seconds": 3600}, data_dir=data_dir, clock=clock)
    a.process(batch_of(records(template, hourly("alice", range(30), 12))))
    a.close()
    b = build_stage("ueba", RATE, data_dir=data_dir, clock=clock)
    h0 = int(T0.timestamp()) // 3600
    assert b.baselines.rate["rate:actor.user.name|user.name:3600"]["alice"] == {h0 + h: 12 for h in range(30)}


FIRST = {
    "first_seen": [{"entity": "actor.user.name", "values": ["src_endpoint.ip", "api.operation"], "warmup": "7d"}],
    "checkpoint_seconds": 0,
}


def test_first_seen_new_ip_after_warmup(template, data_dir):
    stage = build_stage("ueba", FIRST, data_dir=data_dir, clock=Clock())
    day = dt.timedelta(days=1)
    rows = [(T0 + d * day, "alice", "198.51.100.7", "ListBuckets") for d in range(9)]
    assert len(stage.process(batch_of(records(template, rows[:1])))) == 1  # alice is new: learning
    assert len(stage.process(batch_of(records(template, rows[1:])))) == 1  # known values only
    # Day 3 (within the 7-day warm-up of alice): a new IP is learned silently.
    early = [(T0 + 3 * day, "alice", "203.0.113.9", "ListBuckets")]
    assert len(stage.process(batch_of(records(template, early)))) == 1
    late = [(T0 + 9 * day, "alice", "192.0.2.44", "ListBuckets"), (T0 + 9 * day, "alice", "203.0.113.9", "ListBuckets")]
    out = stage.process(batch_of(records(template, late)))
    (f,) = findings(out)
    assert f["message"] == (
        "alice used a new src_endpoint.ip '192.0.2.44': first time in 9d of history for this actor.user.name "
        "(10 earlier events, 2 known values, latest: 198.51.100.7, 203.0.113.9)"
    )
    assert f["finding_info"]["analytic"]["type"] == "Behavioral"
    assert f["finding_info"]["types"] == ["Anomaly", "first_seen"]
    # A new API for a role: same detector keyed by the session issuer.
    assert json.loads(f["unmapped"])["value_path"] == "src_endpoint.ip"


def test_first_seen_new_api_for_role(real, data_dir):
    recs = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    role = next(r for r in recs if (r.get("userIdentity") or {}).get("type") == "AssumedRole"
                and (r["userIdentity"].get("sessionContext") or {}).get("sessionIssuer", {}).get("arn"))
    issuer = role["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
    opts = {"first_seen": [{"id": "role-api", "entity": "actor.session.issuer", "values": ["api.operation"], "warmup": "1d"}],
            "checkpoint_seconds": 0}
    stage = build_stage("ueba", opts, data_dir=data_dir, clock=Clock())

    def at(days: float, op: str) -> dict:
        r = copy.deepcopy(role)
        r["eventTime"] = (T0 + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r["eventName"] = op
        r["eventID"] = f"{op}-{days}"
        return r

    stage.process(batch_of([at(0, "DescribeInstances"), at(0.5, "GetObject")]))
    assert len(stage.process(batch_of([at(2, "DescribeInstances")]))) == 1
    (f,) = findings(stage.process(batch_of([at(3, "CreateAccessKey")])))
    assert f["message"].startswith(f"{issuer} used a new api.operation 'CreateAccessKey': first time in 3d")
    assert f["finding_info"]["analytic"]["uid"] == "role-api/api.operation"


RARE = {"rare": [{"values": ["api.service.name", "api.operation"], "max_count": 2, "warmup": "2d", "min_events": 50}],
        "checkpoint_seconds": 0}


def test_rare_operation_across_fleet(template, data_dir):
    stage = build_stage("ueba", RARE, data_dir=data_dir, clock=Clock())
    rows = hourly("alice", range(0, 72, 3), 3) + hourly("bob", range(1, 72, 3), 2, op="GetObject")
    assert len(stage.process(batch_of(records(template, rows)))) == 1  # first batch: no fleet history
    odd = [(T0 + 80 * HOUR, "bob", "198.51.100.8", "PutBucketPolicy")]
    (f,) = findings(stage.process(batch_of(records(template, odd))))
    assert f["message"] == (
        "api.service.name api.operation 'iam.amazonaws.com PutBucketPolicy' is rare across the fleet: "
        "seen 0 time(s) before in 120 events over 2.9d (rare below 2); 1 event(s) now"
    )
    assert f["finding_info"]["types"] == ["Anomaly", "rare"]
    # Seen once before: still rare (< 2); seen twice before: no longer rare.
    assert len(findings(stage.process(batch_of(records(template, odd))))) == 1
    assert len(stage.process(batch_of(records(template, odd)))) == 1
    common = [(T0 + 81 * HOUR, "carol", "198.51.100.9", "ListBuckets")]
    assert len(stage.process(batch_of(records(template, common)))) == 1


def test_rare_warmup_by_events(template, data_dir):
    stage = build_stage("ueba", {**RARE, "rare": [{**RARE["rare"][0], "min_events": 1000}]}, data_dir=data_dir, clock=Clock())
    stage.process(batch_of(records(template, hourly("alice", range(0, 72, 3), 3))))
    odd = [(T0 + 80 * HOUR, "bob", "198.51.100.8", "PutBucketPolicy")]
    assert len(stage.process(batch_of(records(template, odd)))) == 1, "72 fleet events < min_events 1000"


def test_config_registers_anomaly_and_builds_with_data_dir(data_dir):
    cfg, errors = check({
        "data_dir": str(data_dir),
        "sources": {"edge": {"type": "http"}},
        "transforms": {"ueba": {"type": "anomaly", "inputs": ["edge"], **RATE}},
    })
    assert errors == [] and cfg is not None
    (stage,) = build_stages(cfg)
    assert isinstance(stage, AnomalyStage)
    assert stage.state_dir == data_dir / "state" / "anomaly" / "ueba"
    _, errors = check({"transforms": {"u": {"type": "anomaly", "rate": [{"entity": "x", "window": "1 fortnight"}]}}})
    assert any("transforms.u.rate[0].window" in str(e) and "write e.g. 30s" in str(e) for e in errors)
    _, errors = check({"transforms": {"u": {"type": "anomaly", "rate": [{"entity": "x", "windw": "1h"}]}}})
    assert any("transforms.u.rate[0].windw" in str(e) for e in errors)


def test_parse_duration():
    assert parse_duration("90s") == 90 and parse_duration("15m") == 900 and parse_duration("2w") == 1_209_600
    assert parse_duration(3600) == 3600 and parse_duration("1.5h") == 5400
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_findings_reach_the_lake(template, data_dir):
    stage = build_stage("ueba", RATE, data_dir=data_dir, clock=Clock())
    pipe = Pipeline(data_dir, [stage])
    for b in (hourly("alice", range(30), 12), hourly("alice", range(30, 31), 400)):
        dec = get("cloudtrail").decode(orjson.dumps({"Records": records(template, b)}), "t")
        pipe.submit(dec)
    pipe.flush()
    cols, rows = run(data_dir, "SELECT finding_info.title, count FROM detection_finding")
    assert rows == [("Unusual event rate for alice", 400)]
    _, n = run(data_dir, "SELECT count(*) FROM api_activity")
    assert n == [(30 * 12 + 400,)]


def test_new_country_and_asn_after_geoip(template, real, data_dir):
    """Config-built chain: geoip (MaxMind test databases) then anomaly on country and ASN."""
    mm = real / "maxmind-db" / "test-data"
    cfg, errors = check({
        "data_dir": str(data_dir),
        "sources": {"edge": {"type": "http"}},
        "transforms": {
            "geo": {"type": "geoip", "inputs": ["edge"], "city": str(mm / "GeoIP2-City-Test.mmdb"),
                    "asn": str(mm / "GeoLite2-ASN-Test.mmdb")},
            "ueba": {"type": "anomaly", "inputs": ["geo"], "checkpoint_seconds": 0, "first_seen": [
                {"entity": "actor.user.name", "values": ["src_endpoint.location.country",
                                                         "src_endpoint.autonomous_system.number"], "warmup": "2d"}]},
        },
    })
    assert errors == [], errors
    geo, ueba = build_stages(cfg)
    day = dt.timedelta(days=1)

    def run(rows):
        out = []
        for b in geo.process(batch_of(records(template, rows))):
            out.extend(ueba.process(b))
        return findings(out)

    # alice works from Sweden (89.160.20.112, AS29518) for three days: learning, then known.
    assert run([(T0 + d * day, "alice", "89.160.20.112", "ListBuckets") for d in range(3)]) == []
    # Day 4: a login from the US (216.160.83.56, AS209): new country and new ASN.
    got = run([(T0 + 4 * day, "alice", "216.160.83.56", "ListBuckets")])
    assert sorted(f["message"] for f in got) == [
        "alice used a new src_endpoint.autonomous_system.number '209': first time in 4d of history for this "
        "actor.user.name (3 earlier events, 1 known values, latest: 29518)",
        "alice used a new src_endpoint.location.country 'US': first time in 4d of history for this "
        "actor.user.name (3 earlier events, 1 known values, latest: SE)",
    ]
