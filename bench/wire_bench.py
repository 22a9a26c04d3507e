"""Wire-ingest throughput over loopback: Elasticsearch ``_bulk`` and Splunk HEC, durable acks.

Starts a real ``secpipe up`` pinned to one core (``taskset -c 0``); the clients run pinned to
the other core(s). Every request is answered only after its WAL fsync, so events/s counts
durably acknowledged events. CloudTrail records from the seeded generator (~1 KB each).

Runs:
- ``es_bulk_filebeat_auto``: Filebeat-shaped ECS documents (~290 bytes), index without a
  format mapping (auto-detection per document shape -> generic ``json``), sent with the
  official client's ``bulk(operations=<pre-built NDJSON>)`` from threads;
- ``es_bulk_filebeat_wire``: the same documents as Filebeat 8 puts them on the wire:
  ``create`` actions to its data stream, gzip, ``filter_path=errors,items.*.error,items.*.status``;
- ``es_bulk_cloudtrail``: CloudTrail records (~1.2 KB) to an index mapped to ``cloudtrail``;
- ``es_bulk_cloudtrail_auto``: the same records, auto-detected;
- ``es_bulk_cloudtrail_125``: CloudTrail records 125 a request (Logstash's default batch)
  from the client threads: concurrent requests are mapped together (runtime/combine.py);
- ``es_bulk_cloudtrail_125_x8``: the same from 8 senders (Logstash's workers on an 8-core
  host): the combiner waits for all of them, so a pass maps ~1,000 records;
- ``es_bulk_client_helper``: ``helpers.parallel_bulk`` with dict actions (the client
  serializes JSON itself, so its own cost shows too);
- ``hec_cloudtrail``: httpx keep-alive clients posting concatenated HEC envelopes
  (sourcetype ``aws:cloudtrail``); ``hec_json_auto``: the Filebeat-shaped documents as HEC
  events (``_json``: auto-detected, stored whole as generic JSON).
- ``falco_http_output_sequential``: Falco alerts (the real ``single_rule_with_cat_write.json``
  alerts, a distinct pid each) one per POST from one keep-alive connection, each sent after
  the last was answered, as Falco's ``http_output`` sends them: nothing to combine, so this is
  the per-request cost (HTTP, the split of one alert, WAL fsync; the alerts are mapped after the
  answer, those of each ~50 ms together: ``Service.accept_push``) and the latency a sender sees
  (``p50_ms``/``p99_ms``). At most 3,000 alerts.

Each run reports wall-clock events/s and events per second of *server CPU time* (from
/proc: the server's user+system time, lake commits included), which stays meaningful when
other work shares the machine, split into the event-loop thread (HTTP, limits, request
parsing) and the worker threads (decode, WAL, lake) as microseconds per event.

Usage: python bench/wire_bench.py [--events 200000] [--batch 1000] [--threads 4] [--only run1,run2]
(``--only`` takes whole names or parts of names: ``--only bulk`` runs every ``es_bulk_*``.)
Prints one JSON object per run, plus a summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from elasticsearch import Elasticsearch, helpers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_cloudtrail import records  # noqa: E402
from tests.integration.wire_server import start  # noqa: E402

CONFIG = """
ingest:
  elasticsearch: {index_formats: {"cloudtrail-*": cloudtrail}}
"""


def filebeat_docs(n: int, seed: int = 5) -> list[bytes]:
    """Filebeat-shaped ECS documents (~290 bytes): auth.log lines with host/agent/log metadata."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        doc = {"@timestamp": f"2024-05-0{r.randint(1, 9)}T10:{r.randint(10, 59)}:{r.randint(10, 59)}.{r.randint(100, 999)}Z",
               "message": f"sshd[{r.randint(100, 9999)}]: Accepted publickey for user{r.randint(1, 50)} from "
                          f"10.0.{r.randint(0, 255)}.{r.randint(0, 255)} port {r.randint(1024, 65535)} ssh2",
               "host": {"name": f"web-{r.randint(1, 20)}"}, "log": {"file": {"path": "/var/log/auth.log"},
               "offset": r.randint(0, 10**7)}, "agent": {"type": "filebeat", "version": "8.17.0"},
               "ecs": {"version": "8.0.0"}}  # fmt: skip
        out.append(json.dumps(doc, separators=(",", ":")).encode())
    return out


FALCO_ALERTS = Path(__file__).resolve().parents[2] / "shared/data/real/falco/test/output_files/single_rule_with_cat_write.json"


def falco_alerts(n: int) -> list[bytes]:
    """``n`` real Falco alerts (JSON output), each with a distinct ``proc.pid`` so none is a redelivery."""
    lines = [json.loads(x) for x in FALCO_ALERTS.read_bytes().splitlines() if x.strip()]
    out = []
    for i in range(n):
        alert = dict(lines[i % len(lines)])
        alert["output_fields"] = {**alert["output_fields"], "proc.pid": i}
        out.append(json.dumps(alert, separators=(",", ":")).encode())
    return out


def _chunks(lines: list[bytes], n: int) -> list[bytes]:
    return [b"".join(lines[i : i + n]) for i in range(0, len(lines), n)]


def _cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads), or of one of its threads, from /proc."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _passes(url: str, token: str) -> tuple[float, float]:
    """The server's mapping passes and the requests they mapped so far (``/v1/metrics``)."""
    text = httpx.get(f"{url}/v1/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30).text
    got = dict.fromkeys(("secpipe_mapping_passes_total", "secpipe_mapped_requests_total"), 0.0)
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in got:
            got[name] = float(value)
    return got["secpipe_mapping_passes_total"], got["secpipe_mapped_requests_total"]


def _run(name: str, fn, events: int, pid: int, passes=None) -> dict:  # type: ignore[no-untyped-def]
    """Wall-clock events/s, and events per second of server CPU (robust to a busy machine).

    ``event_loop_us``: server CPU per event on the main thread (HTTP, body limits, request
    parsing); ``workers_us``: on every other thread (decode, WAL, lake commits).
    ``requests_per_pass``: how many requests a mapping pass took on average (``passes()``
    gives the server's counters): each pass costs a fixed ~2-3 ms, so a run whose senders
    were slowed (a busy client core) pays it more often and shows fewer events per CPU-s.
    """
    time.sleep(3)  # let the previous run's lake commit finish
    p0 = passes() if passes else None
    c0, m0, t0 = _cpu_seconds(pid), _cpu_seconds(pid, pid), time.perf_counter()
    lat = fn()
    secs = time.perf_counter() - t0
    time.sleep(2.5)  # include the lake commit of this run's data in the server CPU time
    cpu, main_cpu = _cpu_seconds(pid) - c0, _cpu_seconds(pid, pid) - m0
    p1 = passes() if passes else None
    out = {"bench": name, "events": events, "seconds": round(secs, 3), "events_per_s": round(events / secs),
           "server_cpu_s": round(cpu, 3), "events_per_server_cpu_s": round(events / cpu) if cpu else None,
           "event_loop_us": round(main_cpu * 1e6 / events, 2), "workers_us": round((cpu - main_cpu) * 1e6 / events, 2),
           "load_avg_1m": os.getloadavg()[0]}  # fmt: skip
    if p0 is not None and p1 is not None and p1[0] > p0[0]:
        out["requests_per_pass"] = round((p1[1] - p0[1]) / (p1[0] - p0[0]), 2)
    if lat:  # per-request latencies (s), sorted here
        lat.sort()
        out |= {"p50_ms": round(lat[len(lat) // 2] * 1e3, 2), "p99_ms": round(lat[int(len(lat) * 0.99)] * 1e3, 2)}
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpus", default="1")
    ap.add_argument("--only", default="", help="comma-separated run names (default: every run)")
    args = ap.parse_args()
    only = {n for n in args.only.split(",") if n}
    # distinct records per run: a repeated record would be dropped by the lake's identity dedup
    recs = list(records(args.events, seed=11))
    ct = {seed: [json.dumps(r, separators=(",", ":")).encode() for r in records(args.events, seed=seed)]
          for seed in (12, 13, 14, 15, 16, 17)}  # fmt: skip
    docs = ct[12]
    with tempfile.TemporaryDirectory() as tmp:
        srv = start(Path(tmp), CONFIG, taskset=args.server_cpu)
        os.sched_setaffinity(0, {int(c) for c in args.client_cpus.split(",")})
        try:
            es = Elasticsearch(srv.url, basic_auth=("elastic", srv.ingest), request_timeout=120,
                               connections_per_node=args.threads)  # fmt: skip
            es.info()
            results = []

            def client_bulk() -> None:
                acts = ({"_index": "cloudtrail-a", "_source": r} for r in recs)
                for ok, item in helpers.parallel_bulk(es, acts, chunk_size=args.batch, thread_count=args.threads):
                    assert ok, item

            gz = Elasticsearch(srv.url, basic_auth=("elastic", srv.ingest), request_timeout=120,
                               connections_per_node=args.threads, http_compress=True)  # fmt: skip

            es8 = Elasticsearch(srv.url, basic_auth=("elastic", srv.ingest), request_timeout=120,
                                connections_per_node=8)  # fmt: skip

            def raw_bulk(index: str, payload: list[bytes], op: str = "index", filebeat: bool = False,
                         batch: int | None = None, senders: int | None = None) -> None:  # fmt: skip
                action = json.dumps({op: {"_index": index}}).encode() + b"\n"
                bodies = _chunks([action + d + b"\n" for d in payload], batch or args.batch)
                client = es8 if senders == 8 else es

                def send(body: bytes) -> None:
                    if filebeat:
                        resp = gz.bulk(operations=body, filter_path="errors,items.*.error,items.*.status")
                    else:
                        resp = client.bulk(operations=body)
                    assert not resp["errors"]

                with ThreadPoolExecutor(senders or args.threads) as pool:
                    list(pool.map(send, bodies))

            def hec(sourcetype: bytes, payload: list[bytes]) -> None:
                bodies = _chunks([b'{"sourcetype":"' + sourcetype + b'","event":' + d + b"}" for d in payload], args.batch)
                clients = [httpx.Client(headers={"Authorization": f"Splunk {srv.ingest}"}, timeout=120)
                           for _ in range(args.threads)]  # fmt: skip

                def send(i: int) -> None:
                    c = clients[i % len(clients)]
                    r = c.post(f"{srv.url}/services/collector/event", content=bodies[i])
                    assert r.status_code == 200, r.text

                with ThreadPoolExecutor(args.threads) as pool:
                    list(pool.map(send, range(len(bodies))))
                for c in clients:
                    c.close()

            def falco_sequential() -> list[float]:
                lat = []
                with httpx.Client(headers={"Authorization": f"Bearer {srv.ingest}"}, timeout=120) as c:
                    for body in falco:
                        t0 = time.perf_counter()
                        r = c.post(f"{srv.url}/v1/falco", content=body)
                        lat.append(time.perf_counter() - t0)
                        assert r.status_code == 200, r.text
                return lat

            falco = falco_alerts(min(len(docs), 3000))
            fb = filebeat_docs(len(docs))
            pid = srv.proc.pid
            for index, payload in (("filebeat-warmup", filebeat_docs(2000, seed=99)), ("cloudtrail-warmup", ct[15][:2000])):
                raw_bulk(index, payload)  # warm-up: imports, schema, first lake commit
            fb2 = filebeat_docs(len(docs), seed=6)
            fb3 = filebeat_docs(len(docs), seed=7)
            runs = {
                "es_bulk_filebeat_auto": lambda: raw_bulk("filebeat-8.17.0", fb),
                "es_bulk_filebeat_wire": lambda: raw_bulk("filebeat-8.17.0", fb3, "create", filebeat=True),
                "es_bulk_cloudtrail": lambda: raw_bulk("cloudtrail-b", docs),
                "es_bulk_cloudtrail_auto": lambda: raw_bulk("unmapped-logs", ct[13]),
                # Logstash's default pipeline.batch.size: 125 events a request, from several workers
                "es_bulk_cloudtrail_125": lambda: raw_bulk("cloudtrail-c", ct[16], batch=125),
                "es_bulk_cloudtrail_125_x8": lambda: raw_bulk("cloudtrail-d", ct[17], batch=125, senders=8),
                "es_bulk_client_helper": client_bulk,
                "hec_cloudtrail": lambda: hec(b"aws:cloudtrail", ct[14]),
                "hec_json_auto": lambda: hec(b"_json", fb2),
                "falco_http_output_sequential": falco_sequential,
            }
            for name, run in runs.items():
                if not only or any(part in name for part in only):
                    results.append(_run(name, run, len(falco) if name.startswith("falco") else len(docs), pid,
                                        lambda: _passes(srv.url, srv.admin)))  # fmt: skip
        finally:
            srv.stop()
    floor = 30_000
    # per core = per second of the (pinned) server's CPU time; wall-clock equals it on an idle machine
    bulk = [r["events_per_server_cpu_s"] or 0 for r in results if r["bench"].startswith("es_bulk")]
    print(json.dumps({"summary": {r["bench"]: [r["events_per_s"], r["events_per_server_cpu_s"]] for r in results},
                      "columns": ["events_per_s (wall)", "events_per_server_cpu_s"], "server_cores": 1,
                      "es_bulk_floor": floor, "es_bulk_best_meets_floor": max(bulk, default=0) >= floor,
                      "es_bulk_every_run_meets_floor": bool(bulk) and min(bulk) >= floor}))  # fmt: skip


if __name__ == "__main__":
    main()
