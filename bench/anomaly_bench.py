"""Anomaly stage throughput: events/s through rate + first-seen + rare detectors.

Synthetic API Activity batches (assembled OCSF columns, 5,000 principals working from ~3 IPs each,
300 operations, one week of event time) go through one stage with the three detectors;
prints one JSON line. Run pinned to one core: ``taskset -c 0 python bench/anomaly_bench.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

from secpipe.detect.anomaly import build_stage
from secpipe.formats.base import base_columns, to_batch


def make_batch(rng: np.random.Generator, n: int, t0: int, t1: int, seq: int) -> pa.RecordBatch:
    times = pa.array(np.sort(rng.integers(t0, t1, n)), pa.int64())
    uid = rng.zipf(1.3, n) % 5000
    users = pa.array([f"user{i}" for i in uid])
    # each principal works from a few addresses of its own; 0.1% of events from anywhere
    ip_ids = np.where(rng.random(n) < 0.001, rng.integers(0, 65536, n), (uid * 7 + rng.integers(0, 3, n)) % 65536)
    ips = pa.array([f"10.0.{i // 256}.{i % 256}" for i in ip_ids])
    ops = pa.array([f"Op{i}" for i in rng.zipf(1.5, n) % 300])
    cols = base_columns("api_activity", kind="bench", product="bench", vendor="bench",
                        uids=[f"{seq}-{i}" for i in range(n)], times_ms=times, raws=None, activity_id=2)
    cols.update({"actor.user.name": users, "src_endpoint.ip": ips, "api.operation": ops})
    return to_batch("api_activity", cols)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    batches = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rng = np.random.default_rng(7)
    week = 7 * 86400 * 1000
    t0 = 1_790_000_000_000
    data = [make_batch(rng, n, t0 + i * week // batches, t0 + (i + 1) * week // batches, i) for i in range(batches)]
    opts = {
        "rate": [{"entity": "actor.user.name", "window": "1h", "min_history": 24}],
        "first_seen": [{"entity": "actor.user.name", "values": ["src_endpoint.ip", "api.operation"], "warmup": "2d"}],
        "rare": [{"values": ["api.operation"], "max_count": 3, "warmup": "2d", "min_events": 10000}],
        "checkpoint_seconds": 5,
    }
    with tempfile.TemporaryDirectory() as d:
        stage = build_stage("bench", opts, data_dir=d)
        findings = 0
        t = time.perf_counter()
        for b in data:
            out = stage.process(b)
            findings += sum(x.num_rows for x in out[1:])
        stage.close()
        secs = time.perf_counter() - t
    events = n * batches
    print(json.dumps({"bench": "anomaly", "events": events, "batch_rows": n, "seconds": round(secs, 3),
                      "events_per_second": round(events / secs), "findings": findings}))


if __name__ == "__main__":
    main()
