"""Channels against real loopback receivers: exact payload shapes, signatures, retries, secrecy.

Shapes checked against the public documentation:
- Slack incoming webhooks + Block Kit: top-level ``text`` + ``blocks``; ``header`` (plain_text,
  <= 150 chars), ``section`` with <= 10 mrkdwn ``fields``, ``context``, ``actions`` with a
  ``button`` carrying ``url``.
- PagerDuty Events API v2 (``/v2/enqueue``): ``routing_key``, ``event_action``
  (trigger/acknowledge/resolve), ``dedup_key`` (<= 255 chars), ``payload`` {summary (<= 1024),
  source, severity (critical/error/warning/info), timestamp, component, group, class,
  custom_details}, ``client``, ``links``; acknowledge/resolve carry only the first three.
- Teams incoming webhook: ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": AdaptiveCard}]}``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.respond import admin, webhook
from secpipe.respond.options import AlertOptions
from secpipe.respond.stage import AlertStage
from tests.integration.respond_peer import Peer


@pytest.fixture
def peers():
    made: list[Peer] = []

    def make(**kw) -> Peer:  # noqa: ANN003
        p = Peer(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def trivy_batch(real: Path):
    data = (real / "trivy" / "alpine-39-high-critical.json.golden").read_bytes()
    return formats.get("trivy").decode(data, "test").batches[0]


def stage(tmp_path: Path, receivers: dict, route: dict | None = None, **extra) -> AlertStage:  # noqa: ANN003
    opts = AlertOptions.model_validate({"type": "alert", "receivers": receivers, "tick_seconds": 0.02,
                                        "route": route or {"receiver": next(iter(receivers)), "group_by": ["class"],
                                                           "group_wait": "0s", "group_interval": "1s"}, **extra})
    return AlertStage("alerts", opts, tmp_path / "data")


def run(st: AlertStage, batch, peer: Peer, n: int = 1, timeout: float = 30):  # noqa: ANN001
    st.start()
    try:
        assert st.process(batch) == [batch]  # passes the batch through unchanged
        return peer.wait(n, timeout)
    finally:
        st.close()


def test_slack_block_kit_shape(tmp_path: Path, real: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    p = peers()
    monkeypatch.setenv("T_SLACK_URL", f"{p.url}/services/T000/B000/SLACKSECRET")
    batch = trivy_batch(real)
    seen = run(stage(tmp_path, {"secops": {"slack": {"webhook_url_env": "T_SLACK_URL"}}}), batch, p)
    assert seen[0].path == "/services/T000/B000/SLACKSECRET" and seen[0].headers["content-type"] == "application/json"
    msg = seen[0].json()
    assert set(msg) == {"text", "blocks"}
    assert [b["type"] for b in msg["blocks"]] == ["header", "section", "section", "context", "actions"]
    header, facts, lines, ctx, actions = msg["blocks"]
    assert header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    n_crit = sum(1 for r in batch.to_pylist() if r["severity_id"] == 5)
    assert header["text"]["text"].startswith(f"[FIRING:{batch.num_rows}] ")
    assert n_crit > 0 and header["text"]["text"].endswith("(critical)")
    assert all(f["type"] == "mrkdwn" for f in facts["fields"]) and len(facts["fields"]) <= 10
    texts = [f["text"] for f in facts["fields"]]
    assert "*Severity:*\ncritical" in texts
    assert any(t.startswith("*Rule:*\nCVE-") for t in texts)
    assert "*Resource:*\ntestdata/fixtures/images/alpine-39.tar.gz" in texts
    assert "*Class:*\nvulnerability_finding" in texts and "*Product:*\nTrivy" in texts
    assert lines["text"]["type"] == "mrkdwn"
    want = {f"[{ {5: 'critical', 4: 'high'}[r['severity_id']]}] {r['message']}" for r in batch.to_pylist()}
    assert set(lines["text"]["text"].split("\n")) == want
    assert ctx["elements"][0]["text"].startswith("Evidence query: `SELECT * FROM vulnerability_finding WHERE finding_info.uid")
    button = actions["elements"][0]
    assert button["type"] == "button" and button["url"].startswith("https://avd.aquasec.com/nvd/cve-")


def test_pagerduty_events_v2_trigger_and_resolve(tmp_path: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    p = peers(default=(202, {"content-type": "application/json"},
                       b'{"status":"success","message":"Event processed","dedup_key":"x"}'))
    key_file = tmp_path / "pd_key"
    key_file.write_text("R0UT1NGKEY0000000000000000000000\n")
    st = stage(tmp_path, {"oncall": {"pagerduty": {"routing_key_file": str(key_file), "url": f"{p.url}/v2/enqueue"}}},
               {"receiver": "oncall", "group_by": ["rule"], "group_wait": "0s", "group_interval": "200ms"})
    from secpipe.respond.finding import FindingRow, findings_batch

    def batch(status: int):  # a detection finding as the Sigma/anomaly stages emit it
        b = findings_batch([FindingRow("f-1", 1_764_400_000_000, 5, "Root login", "root logged in from 203.0.113.9",
                                       "aws-root-login", "sigma/aws-root-login", ["Detection"],
                                       [{"type": "user", "name": "root"}])], 0)
        import pyarrow as pa

        i = b.schema.get_field_index("status_id")
        return b.set_column(i, "status_id", pa.array([status], pa.int32()))

    st.start()
    try:
        st.process(batch(1))
        p.wait(1)
        first = st.store.rows(queue="oncall/pagerduty")[0]
        admin.acknowledge(tmp_path / "data", first.id, actor="alice")  # `secpipe alerts ack ID`
        p.wait(2)
        st.process(batch(4))  # the source reports the condition clear
        seen = p.wait(3)
    finally:
        st.close()
    trig, ack, res = seen[0].json(), seen[1].json(), seen[2].json()
    assert ack == {"routing_key": trig["routing_key"], "event_action": "acknowledge", "dedup_key": trig["dedup_key"]}
    assert seen[0].path == "/v2/enqueue"
    assert set(trig) == {"routing_key", "event_action", "dedup_key", "payload", "client"}
    assert trig["routing_key"] == "R0UT1NGKEY0000000000000000000000" and trig["event_action"] == "trigger"
    assert set(trig["payload"]) == {"summary", "source", "severity", "timestamp", "component", "group", "class",
                                    "custom_details"}
    pl = trig["payload"]
    assert pl["severity"] == "critical" and pl["source"] == "root" and pl["class"] == "sigma/aws-root-login"
    assert pl["summary"] == "[FIRING:1] sigma/aws-root-login (critical): root logged in from 203.0.113.9"
    assert dt.datetime.fromisoformat(pl["timestamp"]) == dt.datetime.fromtimestamp(1_764_400_000, dt.UTC)
    assert pl["custom_details"]["Severity"] == "critical"
    assert res == {"routing_key": trig["routing_key"], "event_action": "resolve", "dedup_key": trig["dedup_key"]}
    assert len(trig["dedup_key"]) <= 255


def test_pagerduty_severity_mapping() -> None:
    from secpipe.respond.base import Alert, Notification
    from secpipe.respond.pagerduty import dedup_key, event

    def sev(label: str) -> str:
        n = Notification("r", "root", "k", {}, [Alert("a", {"severity": label})], 1)
        return event(n, "k")["payload"]["severity"]

    assert [sev(s) for s in ("fatal", "critical", "high", "medium", "low", "informational", "unknown")] == [
        "critical", "critical", "error", "warning", "info", "info", "info"]
    n1 = Notification("r", "root", "k", {}, [Alert("a", {})], 1)
    n2 = Notification("r", "root", "k", {}, [Alert("b", {}, status="resolved")], 2)
    assert dedup_key(n1) == dedup_key(n2)  # stable per group
    assert event(n1, "k", "acknowledge") == {"routing_key": "k", "event_action": "acknowledge", "dedup_key": dedup_key(n1)}


def test_teams_adaptive_card_shape(tmp_path: Path, real: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    p = peers(default=(202, {}, b""))
    monkeypatch.setenv("T_TEAMS_URL", f"{p.url}/workflows/hook?sig=TEAMSSECRET")
    seen = run(stage(tmp_path, {"t": {"teams": {"webhook_url_env": "T_TEAMS_URL"}}}), trivy_batch(real), p)
    msg = seen[0].json()
    assert set(msg) == {"type", "attachments"} and msg["type"] == "message" and len(msg["attachments"]) == 1
    att = msg["attachments"][0]
    assert att == {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": att["content"]}
    card = att["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert [b["type"] for b in card["body"]] == ["TextBlock", "FactSet", "TextBlock", "TextBlock"]
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Severity"] == "critical" and facts["Resource"] == "testdata/fixtures/images/alpine-39.tar.gz"
    assert card["actions"][0]["type"] == "Action.OpenUrl" and card["actions"][0]["url"].startswith("https://")


def test_webhook_signed_with_custom_headers(tmp_path: Path, real: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    p = peers()
    monkeypatch.setenv("T_HOOK_URL", f"{p.url}/hook")
    monkeypatch.setenv("T_HOOK_SECRET", "s3cr3t-signing-key")
    monkeypatch.setenv("T_HOOK_AUTH", "Bearer abc")
    seen = run(stage(tmp_path, {"h": {"webhook": {"url_env": "T_HOOK_URL", "secret_env": "T_HOOK_SECRET",
                                                  "headers": {"X-Team": "secops"},
                                                  "header_envs": {"Authorization": "T_HOOK_AUTH"}}}}),
               trivy_batch(real), p)
    req = seen[0]
    assert req.headers["x-team"] == "secops" and req.headers["authorization"] == "Bearer abc"
    ts, sig = req.headers["x-secpipe-timestamp"], req.headers["x-secpipe-signature"]
    assert webhook.verify("s3cr3t-signing-key", ts, req.body, sig)
    assert not webhook.verify("wrong-key", ts, req.body, sig)
    assert not webhook.verify("s3cr3t-signing-key", ts, req.body + b" ", sig)
    assert not webhook.verify("s3cr3t-signing-key", ts, req.body, sig, now=int(ts) + 3600)  # stale
    body = req.json()
    assert body["version"] == "1" and body["status"] == "firing" and body["receiver"] == "h"
    assert {"fingerprint", "status", "labels", "annotations", "starts_at", "ends_at"} == set(body["alerts"][0])


def test_429_retry_after_honoured_and_secrets_never_logged(tmp_path: Path, real: Path, peers, monkeypatch,
                                                           caplog) -> None:  # noqa: ANN001
    secret_path = "/services/T1/B1/VERYSECRETTOKEN"
    p = peers(responses=[(429, {"Retry-After": "3"}, f"rate limited {secret_path}".encode()),
                         (500, {}, b"oops"), (200, {}, b"ok")])
    monkeypatch.setenv("T_SLACK_URL", f"{p.url}{secret_path}")
    caplog.set_level(logging.DEBUG)
    st = stage(tmp_path, {"s": {"slack": {"webhook_url_env": "T_SLACK_URL"}, "backoff_base_seconds": 0.2}})
    seen = run(st, trivy_batch(real), p, n=3, timeout=60)
    assert seen[1].at - seen[0].at >= 2.95  # waited for Retry-After: 3
    # 500 -> backoff 0.2s * 2 * [0.5, 1] = 0.4 s at most, far below Retry-After's 3 s (the margin
    # is for a loaded host: 1 s of Retry-After left 0.55 s, which a busy CI machine overran)
    assert seen[2].at - seen[1].at < 2.5
    assert st.store.counts() == {"delivered": 1}
    logs = caplog.text
    assert "429" in logs and "VERYSECRETTOKEN" not in logs and p.url not in logs
    for row in st.store.rows():
        assert "VERYSECRETTOKEN" not in row.last_error


def test_rejected_goes_to_dead_letters_and_one_failing_receiver_does_not_delay_another(
        tmp_path: Path, real: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    bad = peers(default=(404, {}, b"no_service"))
    slow = peers(default=(503, {}, b"down"), delay=3.0)
    good = peers()
    monkeypatch.setenv("T_BAD", f"{bad.url}/x")
    monkeypatch.setenv("T_SLOW", f"{slow.url}/x")
    monkeypatch.setenv("T_GOOD", f"{good.url}/x")
    st = stage(tmp_path, {"bad": {"slack": {"webhook_url_env": "T_BAD"}},
                          "slow": {"webhook": {"url_env": "T_SLOW"}, "max_attempts": 2, "backoff_base_seconds": 0.1},
                          "good": {"teams": {"webhook_url_env": "T_GOOD"}}},
               {"receiver": "good", "group_wait": "0s", "group_by": ["class"],
                "routes": [{"match": {"class": "vulnerability_finding"}, "receiver": "slow", "continue": True},
                           {"match": {"class": "vulnerability_finding"}, "receiver": "bad", "continue": True},
                           {"match": {"class": "vulnerability_finding"}, "receiver": "good"}]})
    st.start()
    try:
        t0 = time.time()
        st.process(trivy_batch(real))
        good.wait(1, 30)
        slow.wait(1, 30)
        # delivered before the slow receiver's first answer (3 s after its request): not held up by it
        assert good.seen[0].at < slow.seen[0].at, (good.seen[0].at - t0, slow.seen[0].at - t0)
        deadline = time.time() + 60
        while time.time() < deadline and st.store.counts().get("dead", 0) < 2:
            time.sleep(0.05)
    finally:
        st.close()
    dead = {r.queue: r for r in st.store.rows(state="dead")}
    assert set(dead) == {"bad/slack", "slow/webhook"}
    assert "HTTP 404" in dead["bad/slack"].last_error and dead["bad/slack"].attempts == 1
    assert dead["slow/webhook"].attempts == 2 and "HTTP 503" in dead["slow/webhook"].last_error
    # replay from the dead-letter list: the receiver is back
    slow.default, slow.delay = (200, {}, b"ok"), 0.0
    st2 = stage(tmp_path, {"bad": {"slack": {"webhook_url_env": "T_BAD"}},
                           "slow": {"webhook": {"url_env": "T_SLOW"}}, "good": {"teams": {"webhook_url_env": "T_GOOD"}}},
                {"receiver": "good"})
    st2.store.transition(dead["slow/webhook"].id, ("dead",), "pending", int(time.time() * 1000))
    st2.start()
    try:
        slow.wait(3, 30)
    finally:
        st2.close()
    assert st2.store.get(dead["slow/webhook"].id).state == "delivered"


def test_missing_secret_is_a_config_error_naming_the_variable(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from secpipe.errors import ConfigError

    monkeypatch.delenv("T_NOPE", raising=False)
    with pytest.raises(ConfigError, match=r"receivers.s.slack.webhook_url_env: environment variable T_NOPE"):
        stage(tmp_path, {"s": {"slack": {"webhook_url_env": "T_NOPE"}}})
    with pytest.raises(ConfigError, match="webhook_url_env .* or webhook_url_file"):
        stage(tmp_path, {"s": {"slack": {"webhook_url": "https://hooks.slack.com/x"}}})


def test_https_receiver_verified_with_ca_bundle(tmp_path: Path, real: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    import ssl

    from tests.integration.test_respond_email import self_signed

    cert, key = self_signed(tmp_path)
    p = peers()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    p.server.socket = ctx.wrap_socket(p.server.socket, server_side=True)
    https = p.url.replace("http://", "https://")
    monkeypatch.setenv("T_TLS_URL", f"{https}/hook")
    # default: the system CAs -> the self-signed certificate is refused, nothing is sent
    st = stage(tmp_path / "a", {"h": {"webhook": {"url_env": "T_TLS_URL"}, "max_attempts": 1}})
    st.start()
    try:
        st.process(trivy_batch(real))
        deadline = time.time() + 30
        while time.time() < deadline and not st.store.rows(state="dead"):
            time.sleep(0.05)
    finally:
        st.close()
    assert "CERTIFICATE_VERIFY_FAILED" in st.store.rows(state="dead")[0].last_error and p.seen == []
    # with the CA bundle option the same receiver is trusted
    seen = run(stage(tmp_path / "b", {"h": {"webhook": {"url_env": "T_TLS_URL"}}}, tls={"ca_bundle": str(cert)}),
               trivy_batch(real), p)
    assert seen[0].path == "/hook"


def test_receiver_rate_limit_spaces_sends(tmp_path: Path, peers, monkeypatch) -> None:  # noqa: ANN001
    from secpipe.respond.finding import FindingRow, findings_batch

    p = peers()
    monkeypatch.setenv("T_RL", f"{p.url}/x")
    st = stage(tmp_path, {"r": {"webhook": {"url_env": "T_RL"}, "rate_limit": {"per_minute": 120, "burst": 1}}},
               {"receiver": "r", "group_by": ["..."], "group_wait": "0s"})
    st.start()
    try:
        for i in range(4):
            st.process(findings_batch([FindingRow(f"rl-{i}", 1000, 4, f"T{i}", "m", "r", "x/r")], 0))
        seen = p.wait(4, 30)
    finally:
        st.close()
    at = sorted(s.at for s in seen)
    # 120/min, burst 1: one send per 0.5 s (3 gaps), none dropped; the peer stamps a send when
    # it answers, so a loaded host can stamp the first late: 0.3 s of slack on 1.5 s
    assert at[-1] - at[0] >= 1.2
