"""The alerting example config builds; config mistakes name their key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe.config.models import check, load_config
from secpipe.errors import ConfigError
from secpipe.runtime.topology import build_stages

REPO = Path(__file__).resolve().parents[2]


def test_example_builds(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    for k in ("SLACK_WEBHOOK", "PD_ROUTING_KEY", "HOOK_URL", "HOOK_SECRET"):
        monkeypatch.setenv(k, f"https://example.invalid/{k}")
    cfg = load_config(REPO / "examples/alerting.yaml")
    stages = build_stages(cfg, tmp_path)
    assert [s.name for s in stages] == ["rules", "deploy_risk", "alerts"]
    alerts = stages[-1]
    assert sorted(alerts.channels) == ["oncall/pagerduty", "secops/slack", "siem/webhook"]
    assert alerts.playbooks["label-workload"].approval_required
    for s in stages:
        getattr(s, "close", lambda: None)()


def test_mistakes_name_the_key(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("X_URL", "http://127.0.0.1:9/")
    base = {"type": "alert", "receivers": {"r": {"webhook": {"url_env": "X_URL"}}}, "route": {"receiver": "r"}}
    cfg, errors = check({"data_dir": str(tmp_path), "transforms": {"a": {**base, "recievers": {}}}})
    assert cfg is None and any(e.path == "transforms.a.recievers" for e in errors)
    bad = {**base, "route": {"receiver": "r", "playbooks": ["nope"]}}
    cfg, errors = check({"data_dir": str(tmp_path), "transforms": {"a": bad}})
    assert cfg is not None
    with pytest.raises(ConfigError, match="unknown playbook 'nope'"):
        build_stages(cfg, tmp_path)
    cfg, _ = check({"data_dir": str(tmp_path), "transforms": {"a": {**base, "receivers": {"r": {}}}}})
    with pytest.raises(ConfigError, match="transforms.a.receivers.r: a receiver needs at least one channel"):
        build_stages(cfg, tmp_path)
