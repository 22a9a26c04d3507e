"""Routing, grouping, dedup, silences, thresholds, retries and rate limits with an injected clock."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from secpipe.errors import ConfigError
from secpipe.respond.base import Alert, DeliveryError, DeliveryRejected
from secpipe.respond.delivery import RetryPolicy, TokenBucket, Worker
from secpipe.respond.dispatch import Dispatcher
from secpipe.respond.outbox import OutboxError, Store
from secpipe.respond.router import build_route, match_routes, seconds
from secpipe.respond.thresholds import ThresholdRule, observe

RECEIVERS = {"default", "oncall", "team", "cloud"}


class Clock:
    """A settable clock (seconds)."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def alert(fp: str, sev: str = "high", rule: str = "r1", status: str = "firing", **labels: str) -> Alert:
    return Alert(fp, {"severity": sev, "rule": rule, **labels}, {"summary": f"alert {fp}"}, status, 1000)


TREE = {
    "receiver": "default", "group_by": ["rule"], "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
    "routes": [
        {"match": {"severity": ["critical", "fatal"]}, "receiver": "oncall", "continue": True},
        {"match": {"rule": "r-team"}, "receiver": "team",
         "routes": [{"match_re": {"account": "prod-.*"}, "receiver": "oncall", "group_by": ["account"]}]},
        {"match": {"tags": "cloud"}, "receiver": "cloud"},
    ],
}  # fmt: skip


def test_route_tree_first_match_continue_and_nesting() -> None:
    root = build_route(TREE, RECEIVERS)
    ids = lambda a: [(r.id, r.receiver) for r in match_routes(root, a)]  # noqa: E731
    assert ids(alert("a", "high")) == [("root", "default")]
    # critical matches the oncall child with continue: the next siblings are tried too
    assert ids(alert("a", "critical", tags="x,cloud")) == [("root.0", "oncall"), ("root.2", "cloud")]
    assert ids(alert("a", "critical")) == [("root.0", "oncall")]
    # nested: r-team goes to team unless the account matches the child regex (full match)
    assert ids(alert("a", rule="r-team", account="dev-1")) == [("root.1", "team")]
    assert ids(alert("a", rule="r-team", account="prod-1")) == [("root.1.0", "oncall")]
    assert ids(alert("a", rule="r-team", account="xprod-1")) == [("root.1", "team")]
    # inherited settings, overridden group_by
    child = root.children[1].children[0]
    assert (child.group_wait, child.group_interval, child.repeat_interval) == (30.0, 300.0, 14400.0)
    assert child.group_by == ("account",)
    per_alert = build_route({"receiver": "default", "group_by": ["fingerprint", "rule"]}, RECEIVERS)
    assert per_alert.group_labels(alert("fp-1")) == {"fingerprint": "fp-1", "rule": "r1"}
    everything = build_route({"receiver": "default", "group_by": ["..."]}, RECEIVERS)
    assert everything.group_labels(alert("fp-1", tags="a")) == {"rule": "r1", "severity": "high", "tags": "a"}


def test_route_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"route.routes\[0\].receiver"):
        build_route({"receiver": "default", "routes": [{"receiver": "nobody"}]}, RECEIVERS)
    with pytest.raises(ConfigError, match=r"route.routes\[0\].match_re.rule"):
        build_route({"receiver": "default", "routes": [{"match_re": {"rule": "("}}]}, RECEIVERS)
    with pytest.raises(ConfigError, match="route.group_wiat"):
        build_route({"receiver": "default", "group_wiat": "1s"}, RECEIVERS)
    assert seconds("250ms") == 0.25 and seconds("2h") == 7200 and seconds(5) == 5.0
    with pytest.raises(ConfigError, match="duration"):
        seconds("soon")


def _dispatcher(tmp_path: Path, clock: Clock, tree: dict | None = None, approval: dict | None = None) -> Dispatcher:
    store = Store(tmp_path)
    queues = {r: [f"{r}/webhook"] for r in RECEIVERS}
    return Dispatcher(store, build_route(tree or TREE, RECEIVERS), queues, approval, clock)


def _sent(store: Store, queue: str = "default/webhook") -> list[dict]:
    return [r.payload for r in reversed(store.rows(queue=queue, limit=1000))]


def test_group_wait_interval_repeat_dedup_and_resolve(tmp_path: Path) -> None:
    clock = Clock()
    t0 = clock.t
    d = _dispatcher(tmp_path, clock)
    assert d.ingest([alert("a1")]) == 1
    clock.t = t0 + 10
    assert d.flush_due() == 0  # still in group_wait
    clock.t = t0 + 30
    assert d.flush_due() == 1
    sent = _sent(d.store)
    assert [a["fingerprint"] for a in sent[0]["alerts"]] == ["a1"] and sent[0]["status"] == "firing"
    assert sent[0]["group_labels"] == {"rule": "r1"}
    # a second alert of the group waits for group_interval
    clock.t = t0 + 40
    d.ingest([alert("a2")])
    clock.t = t0 + 100
    assert d.flush_due() == 0
    clock.t = t0 + 330
    assert d.flush_due() == 1
    assert sorted(a["fingerprint"] for a in _sent(d.store)[1]["alerts"]) == ["a1", "a2"]
    # repeats of the same alerts are deduplicated: nothing new before repeat_interval
    clock.t = t0 + 400
    assert d.ingest([alert("a1"), alert("a2")]) == 0
    clock.t = t0 + 630
    assert d.flush_due() == 0
    clock.t = t0 + 330 + 4 * 3600
    assert d.flush_due() == 1  # repeat_interval reached while still firing
    # the source reports a1 clear: one notification carrying the resolved alert
    d.ingest([alert("a1", status="resolved")])
    clock.t += 300
    assert d.flush_due() == 1
    last = _sent(d.store)[-1]
    assert {a["fingerprint"]: a["status"] for a in last["alerts"]} == {"a1": "resolved", "a2": "firing"}
    assert [a["fingerprint"] for a in d.store.group_alerts("root", '{"rule":"r1"}')] == ["a2"]
    # resolving the last one sends "resolved" and deletes the group
    d.ingest([alert("a2", status="resolved")])
    clock.t += 300
    assert d.flush_due() == 1
    assert _sent(d.store)[-1]["status"] == "resolved"
    assert d.store.due_groups(int(clock.t * 1000) + 10**9) == []
    assert len(_sent(d.store)) == 5


def test_resolved_before_first_notification_sends_nothing(tmp_path: Path) -> None:
    clock = Clock()
    d = _dispatcher(tmp_path, clock)
    d.ingest([alert("a1")])
    d.ingest([alert("a1", status="resolved")])
    d.ingest([alert("never-seen", status="resolved")])
    clock.t += 60
    assert d.flush_due() == 0
    assert _sent(d.store) == []


def test_continue_sends_to_both_receivers_with_their_own_groups(tmp_path: Path) -> None:
    clock = Clock()
    d = _dispatcher(tmp_path, clock)
    d.ingest([alert("c1", "critical", tags="cloud")])
    clock.t += 30
    assert d.flush_due() == 2
    assert len(_sent(d.store, "oncall/webhook")) == 1 and len(_sent(d.store, "cloud/webhook")) == 1
    assert _sent(d.store) == []


def test_silence_mutes_until_expiry(tmp_path: Path) -> None:
    clock = Clock()
    d = _dispatcher(tmp_path, clock)
    now_ms = int(clock.t * 1000)
    sid = d.store.add_silence({"match": {"rule": "noisy"}, "match_re": {}}, now_ms, now_ms + 3600_000, "t", "maint", now_ms)
    d.store.add_silence({"match": {"rule": "r1"}, "match_re": {}}, now_ms - 10, now_ms - 5, "t", "expired", now_ms)
    d.ingest([alert("n1", rule="noisy"), alert("a1")])
    clock.t += 30
    assert d.flush_due() == 1  # only r1: the noisy group is silenced; the expired silence does nothing
    assert [p["group_labels"]["rule"] for p in _sent(d.store)] == ["r1"]
    clock.t += 300
    assert d.flush_due() == 0
    d.store.expire_silence(sid, int(clock.t * 1000))
    clock.t += 300
    assert d.flush_due() == 1
    assert _sent(d.store)[-1]["group_labels"] == {"rule": "noisy"}
    with pytest.raises(OutboxError, match="no active silence"):
        d.store.expire_silence(sid, int(clock.t * 1000))


def test_playbook_jobs_only_for_new_alerts_and_wait_for_approval(tmp_path: Path) -> None:
    tree = {"receiver": "default", "group_by": ["rule"], "group_wait": "0s", "group_interval": "1m",
            "routes": [{"match": {"severity": "critical"}, "receiver": "oncall", "playbooks": ["isolate"]}]}
    clock = Clock()
    d = _dispatcher(tmp_path, clock, tree, {"isolate": True})
    d.ingest([alert("c1", "critical")])
    assert d.flush_due() == 1
    jobs = d.store.rows(queue="playbook:isolate")
    assert len(jobs) == 1 and jobs[0].state == "approval" and jobs[0].payload["alerts"][0]["fingerprint"] == "c1"
    d.ingest([alert("c1", "critical"), alert("c2", "critical")])
    clock.t += 60
    assert d.flush_due() == 1
    jobs = d.store.rows(queue="playbook:isolate")
    assert len(jobs) == 2 and [a["fingerprint"] for a in jobs[0].payload["alerts"]] == ["c2"]
    with pytest.raises(OutboxError, match="only dead"):
        d.store.transition(jobs[0].id, ("dead",), "pending", 0)


def test_token_bucket_delays_instead_of_dropping() -> None:
    clock = Clock(0.0)
    b = TokenBucket(per_minute=60, burst=2, clock=clock)
    assert b.take() == 0 and b.take() == 0
    assert b.take() == pytest.approx(1.0)
    clock.t = 0.5
    assert b.take() == pytest.approx(0.5)
    clock.t = 1.0
    assert b.take() == 0


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    p = RetryPolicy(max_attempts=5, base_seconds=1, max_seconds=10)
    rng = random.Random(1)
    for attempt, cap in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)]:
        d = p.delay(attempt, None, rng)
        assert cap * 0.5 <= d <= cap
    assert p.delay(3, 42.0, rng) == 42.0
    assert p.delay(3, 10**9, rng) == p.max_retry_after


def test_worker_retries_dead_letters_and_replays(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    store = Store(tmp_path)
    outcomes: list[Exception | None] = [DeliveryError("HTTP 429", retry_after=7), DeliveryError("HTTP 503"), None]
    calls: list[int] = []

    def handler(row):  # noqa: ANN001, ANN202
        calls.append(row.id)
        exc = outcomes.pop(0)
        if exc:
            raise exc
        return ""

    w = Worker(store, "q", handler, RetryPolicy(3, 2, 60), clock=clock)
    rid = store.enqueue("q", "notify", {"x": 1}, int(clock.t * 1000))
    assert w.run_once()
    row = store.get(rid)
    assert row.state == "pending" and row.next_ms == int((clock.t + 7) * 1000) and "429" in row.last_error
    assert not w.run_once()  # not ready before Retry-After
    clock.t += 7
    assert w.run_once()
    row = store.get(rid)
    assert row.state == "pending" and 2000 <= row.next_ms - int(clock.t * 1000) <= 4000  # 2s * 2**1 * [0.5, 1]
    clock.t += 4
    assert w.run_once() and store.get(rid).state == "delivered"
    # terminal answer -> dead at once; transient until max_attempts -> dead; replay -> pending
    outcomes[:] = [DeliveryRejected("HTTP 404"), DeliveryError("e1"), DeliveryError("e2"), DeliveryError("e3"), None]
    r2 = store.enqueue("q", "notify", {"x": 2}, int(clock.t * 1000))
    assert w.run_once() and store.get(r2).state == "dead" and "404" in store.get(r2).last_error
    r3 = store.enqueue("q", "notify", {"x": 3}, int(clock.t * 1000))
    for _ in range(3):
        clock.t += 100
        w.run_once()
    assert store.get(r3).state == "dead" and store.get(r3).attempts == 3
    assert [r.id for r in store.rows(state="dead")] == [r3, r2]
    store.transition(r3, ("dead",), "pending", int(clock.t * 1000))
    assert w.run_once() and store.get(r3).state == "delivered"
    assert store.counts() == {"delivered": 2, "dead": 1}


def test_threshold_fires_once_per_window_and_key(tmp_path: Path) -> None:
    store = Store(tmp_path)
    rule = ThresholdRule.build({"name": "crit", "match": {"severity": "critical"}, "group_by": ["repository"],
                                "window": "1h", "count_gt": 2}, "thresholds[0]")
    hour = 3600_000
    t = 1000 * hour + 10
    crit = [alert(f"c{i}", "critical", repository="org/a") for i in range(2)]
    assert observe(store, [rule], crit, t) == ([], [])
    fired, rows = observe(store, [rule], [alert("c3", "critical", repository="org/a"), alert("h", "high", repository="org/a"),
                                          alert("b1", "critical", repository="org/b")], t + 5)
    assert len(fired) == 1 and fired[0].labels["repository"] == "org/a" and fired[0].labels["rule"] == "threshold/crit"
    assert rows[0].details["count"] == 3 and rows[0].uid == fired[0].fingerprint
    assert observe(store, [rule], [alert("c4", "critical", repository="org/a")], t + 6) == ([], [])
    # next window counts afresh; the same window replayed gives the same fingerprint
    again, _ = observe(store, [rule], crit * 2, t + hour)
    assert len(again) == 1 and again[0].fingerprint != fired[0].fingerprint
    with pytest.raises(ConfigError, match=r"thresholds\[0\].count_gt"):
        ThresholdRule.build({"name": "x"}, "thresholds[0]")


def test_stage_passes_batches_and_emits_threshold_findings(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from secpipe.respond.finding import FindingRow, findings_batch
    from secpipe.respond.options import AlertOptions
    from secpipe.respond.stage import AlertStage

    monkeypatch.setenv("T_URL", "http://127.0.0.1:9/unused")
    clock = Clock()
    opts = AlertOptions.model_validate({
        "type": "alert", "receivers": {"r": {"webhook": {"url_env": "T_URL"}}},
        "route": {"receiver": "r", "group_by": ["rule"], "group_wait": "0s"},
        "thresholds": [{"name": "crit-burst", "match": {"severity": "critical"}, "window": "1h", "count_gt": 2}]})
    st = AlertStage("alerts", opts, tmp_path, clock=clock)
    batch = findings_batch([FindingRow(f"u{i}", 1000, 5, "T", "m", "r", "x/r") for i in range(3)], 0)
    out = st.process(batch)
    assert out[0] is batch and len(out) == 2
    f = out[1].to_pylist()[0]
    assert f["finding_info"]["title"] == "Threshold exceeded: crit-burst" and f["severity_id"] == 5
    assert st.dispatcher.flush_due() == 2  # the rule's group and the threshold alert's group
    rules = sorted(r.payload["group_labels"]["rule"] for r in st.store.rows())
    assert rules == ["threshold/crit-burst", "x/r"]
    st.close()


def test_stale_alerts_leave_quietly_and_old_rows_are_pruned(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path)
    d = Dispatcher(store, build_route({**TREE, "repeat_interval": "1h"}, RECEIVERS),
                   {r: [f"{r}/webhook"] for r in RECEIVERS}, None, clock, resolve_timeout=7200)
    d.ingest([alert("a1")])
    clock.t += 30
    assert d.flush_due() == 1
    clock.t += 3600
    assert d.flush_due() == 1  # repeat_interval while it is still considered firing
    clock.t += 3600 + 300
    assert d.flush_due() == 0  # not seen for > resolve_timeout: leaves without a "resolved"
    assert store.due_groups(int(clock.t * 1000) + 10**9) == []
    assert [p["status"] for p in _sent(store)] == ["firing", "firing"]
    now = int(clock.t * 1000)
    for r in store.rows():
        store.done(r.id, now - 8 * 86400_000)
    dead = store.enqueue("q", "notify", {}, now)
    store.dead(dead, now - 8 * 86400_000, "x")
    assert store.prune(now - 7 * 86400_000, now - 28 * 86400_000) == 2
    assert [r.id for r in store.rows()] == [dead]


def test_two_trees_in_one_store_keep_their_groups(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path)
    q = {r: [f"{r}/webhook"] for r in RECEIVERS}
    a = Dispatcher(store, build_route({"receiver": "default", "group_wait": "0s"}, RECEIVERS, rid="a"), q, None, clock)
    b = Dispatcher(store, build_route({"receiver": "team", "group_wait": "10s"}, RECEIVERS, rid="b"), q, None, clock)
    a.ingest([alert("x")])
    b.ingest([alert("x")])
    assert b.flush_due() == 0 and a.flush_due() == 1  # b's group is not a's, and is not dropped as unknown
    clock.t += 10
    assert b.flush_due() == 1
    assert len(_sent(store, "team/webhook")) == 1 and len(_sent(store)) == 1
