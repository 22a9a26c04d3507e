"""``GET /v1/metrics`` on a real `secpipe up`: Prometheus text that Prometheus' own parser reads,
values that follow what was sent, and the same authentication as every route."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Server, cli

#: what Prometheus 2.x/3.x sends when it scrapes (OpenMetrics preferred)
ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"


def _scrape(srv: Server, token: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(f"{srv.url}/v1/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    om = httpx.get(f"{srv.url}/v1/metrics", headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT}, timeout=10)
    assert om.headers["content-type"].startswith("application/openmetrics-text") and om.text.endswith("# EOF\n")
    assert {f.name for f in openmetrics_families(om.text)} >= {"secpipe_events", "secpipe_stored", "secpipe_wal_bytes"}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(r.text) for s in fam.samples}  # fmt: skip


def test_metrics_follow_ingest_and_need_a_token(data_dir: Path, real: Path) -> None:
    body = (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    with Server(data_dir) as srv:
        viewer = cli("tokens", "create", "--name", "prometheus", "--role", "viewer", "--data", str(data_dir)).stdout.split()[-1]
        before = _scrape(srv, srv.admin_token)
        assert before[("secpipe_events_total", ())] == 0
        assert before[("secpipe_build_info", (("version", __import__("secpipe").__version__),))] == 1
        h = {"Authorization": f"Bearer {srv.ingest_token}"}
        assert httpx.post(f"{srv.url}/v1/ingest/cloudtrail", content=body, headers=h, timeout=30).status_code == 200
        r = httpx.post(f"{srv.url}/v1/ingest/cloudtrail", content=b'{"Records": [{"eventVersion": 7}', headers=h, timeout=30)
        assert r.status_code == 400
        deadline = time.monotonic() + 20
        while True:  # the lake commits within max_seconds (2 s by default)
            m = _scrape(srv, viewer)
            if m[("secpipe_lake_pending_rows", ())] == 0 and m[("secpipe_lake_commits_total", ())] >= 1:
                break
            assert time.monotonic() < deadline, m
            time.sleep(0.3)
        assert m[("secpipe_events_total", ())] == 272  # 271 records + the unreadable body
        stored = {dict(k[1])["class"]: v for k, v in m.items() if k[0] == "secpipe_stored_total"}
        # 271 records, 3 repeated; 14 ConsoleLogin + 1 ExternalIdPDirectoryLogin + 1 Identity Center CreateToken
        assert stored == {"api_activity": 252.0, "authentication": 16.0}
        assert m[("secpipe_duplicates_total", ())] == 3
        assert m[("secpipe_dead_letters_total", ())] >= 1
        assert m[("secpipe_inputs_total", ())] == 2  # both bodies are durable: one stored, one dead-lettered
        assert m[("secpipe_lake_commit_failures_total", ())] == 0
        assert abs(m[("secpipe_lake_last_commit_timestamp_seconds", ())] - time.time()) < 60
        assert m[("secpipe_wal_segments", ())] >= 1
        assert m[("secpipe_pushed_waiting", ())] == 0  # nothing sent one payload a POST
        assert httpx.get(f"{srv.url}/v1/metrics", timeout=10).status_code == 401
        forbidden = httpx.get(f"{srv.url}/v1/metrics", headers=h, timeout=10)  # an ingest token may only send
        assert forbidden.status_code == 403
