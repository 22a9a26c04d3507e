"""Alert latency: event ingested over HTTP -> alert delivered at a loopback webhook.

Starts a real ``secpipe up`` (streaming mode: every HTTP ingest runs the transform chain at
once) with a Sigma rule (``--rule-stage sigma``, default: Kubernetes Deployment created) or the
built-in ``match`` stage (``--rule-stage match``) and an ``alert`` route to a generic webhook
served by this script on 127.0.0.1 (``group_by: [fingerprint]``, ``group_wait: 0s``: one
notification per alert). It then POSTs ``--alerts`` Kubernetes audit events (variants of the real Falco
sample ``create_deployment.json``), one event per request, paced at ``--rate`` per second
from ``--threads`` clients, and measures for each event the time from just before its POST
to the arrival of the webhook request that carries its alert. It also splits that time into
the ingest acknowledgement (HTTP answer after the WAL fsync; the transform chain and the
alert store commit run inside it) and ack -> delivery (dispatcher + outbox + webhook).

Alerts are matched to their events by the event's ``metadata.uid`` (computed here with the
same k8s_audit decoder) carried in the alert's ``related_events``.

Usage: python bench/alert_latency_bench.py [--alerts 1000] [--rate 200] [--threads 4] [--rule-stage sigma|match]
Prints one JSON object: p50/p90/p99/max latency in ms, alerts delivered, duplicates.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import yaml

from secpipe import formats

REPO = Path(__file__).resolve().parents[1]
SIGMA_RULE = """title: Kubernetes Deployment Created
id: 0b0c5a43-6f31-4a58-9d57-2b4fb1a2a9c1
status: test
description: A Deployment object was created through the Kubernetes API (alert latency benchmark rule).
logsource:
  product: kubernetes
  service: audit
detection:
  selection:
    verb: create
    objectRef.resource: deployments
  condition: selection
level: high
"""
SAMPLE = REPO.parent / "shared/data/real/falco/test/trace_files/k8s_audit/create_deployment.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """The loopback webhook: records arrival time per alert summary."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.total = 0
        self.lock = threading.Lock()
        rec = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # headers and body are separate writes: no Nagle delay
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                now = time.perf_counter()
                with rec.lock:
                    for a in json.loads(body)["alerts"]:
                        rec.total += 1
                        rec.arrived.setdefault(a["annotations"]["related_events"][0], now)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=200.0, help="events per second offered")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rule-stage", choices=["sigma", "match"], default="sigma")
    args = ap.parse_args()
    base = json.loads(SAMPLE.read_text())
    rec = Receiver()
    tmp = Path(tempfile.mkdtemp(prefix="secpipe-alert-bench-"))
    data = tmp / "data"
    data.mkdir(parents=True)
    (tmp / "deploy.yml").write_text(SIGMA_RULE)
    rules: dict[str, object] = (
        {"type": "sigma", "rules": [str(tmp / "deploy.yml")]} if args.rule_stage == "sigma" else
        {"type": "match", "rules": [{"id": "deploy-created", "title": "Deployment created", "severity": "high",
                                     "where": {"api.operation": "create", "resources.type": "deployments"}}]})
    cfg = {
        "data_dir": str(data),
        "transforms": {
            "rules": rules,
            "alerts": {"type": "alert", "inputs": ["rules"], "receivers": {"hook": {"webhook": {"url_env": "BENCH_HOOK"}}},
                       "route": {"receiver": "hook", "group_by": ["fingerprint"], "group_wait": "0s", "group_interval": "5m"}},
        },
    }
    (tmp / "pipeline.yaml").write_text(yaml.safe_dump(cfg))
    port = free_port()
    env = {**os.environ, "BENCH_HOOK": rec.url}
    proc = subprocess.Popen([sys.executable, "-m", "secpipe.cli.main", "up", "--config", str(tmp / "pipeline.yaml"),
                             "--listen", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    token = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ingest token:"):
            token = line.split()[-1]
        if "listening" in line:
            break
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # drain output
    url = f"http://127.0.0.1:{port}/v1/ingest/k8s_audit"
    sent: dict[str, float] = {}
    acked: dict[str, float] = {}
    bodies = [json.dumps(dict(base, auditID=f"bench-{i}", objectRef=dict(base["objectRef"], name=f"bench-{i:06d}"))).encode()
              for i in range(args.alerts)]
    k8s = formats.get("k8s_audit")
    uids = [k8s.decode(b, "bench").batches[0].column("metadata")[0]["uid"].as_py() for b in bodies]
    clients = [httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) for _ in range(args.threads)]
    start = time.perf_counter()

    def post(i: int) -> None:
        name, body = uids[i], bodies[i]
        due = start + i / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[name] = time.perf_counter()
        r = clients[i % args.threads].post(url, content=body)
        r.raise_for_status()
        acked[name] = time.perf_counter()

    try:
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(post, range(args.alerts)))
        deadline = time.time() + 60
        while time.time() < deadline and len(rec.arrived) < args.alerts:
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(30)
        for c in clients:
            c.close()
    lat = sorted((rec.arrived[n] - t) * 1000 for n, t in sent.items() if n in rec.arrived)
    ack = sorted((acked[n] - t) * 1000 for n, t in sent.items() if n in acked)
    after_ack = sorted(max(0.0, rec.arrived[n] - acked[n]) * 1000 for n in acked if n in rec.arrived)

    def pct(p: float, xs: list[float] | None = None) -> float:
        xs = lat if xs is None else xs
        return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 1) if xs else float("nan")

    print(json.dumps({"bench": "alert_latency", "mode": "streaming", "rule_stage": args.rule_stage,
                      "alerts_sent": args.alerts, "alerts_delivered": len(lat), "duplicates": rec.total - len(rec.arrived),
                      "rate_per_s": args.rate, "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
                      "max_ms": round(lat[-1], 1) if lat else None, "floor_p99_ms": 2000,
                      "ingest_ack_p50_ms": pct(50, ack), "ingest_ack_p99_ms": pct(99, ack),
                      "ack_to_delivery_p50_ms": pct(50, after_ack), "ack_to_delivery_p99_ms": pct(99, after_ack),
                      "ok": bool(lat) and len(lat) == args.alerts and pct(99) < 2000}))


if __name__ == "__main__":
    main()
