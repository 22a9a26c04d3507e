"""Enrichment benchmark (issue 7, section 6). Prints JSON lines.

1. Generates (or reuses) the seeded CloudTrail corpus of the core ingest benchmark
   (bench/gen_cloudtrail.py, ``--size-mb``) and, under bench/out/enrich-<seed>/:
   - ``ioc_ips.txt``: 500,000 IP indicators (400k IPv4 addresses, 60k IPv4 CIDRs /20-/30,
     40k IPv6 addresses and prefixes /32-/128), seeded random;
   - ``ioc_other.txt``: 500,000 indicators (250k domains, 125k MD5, 125k SHA-256);
   - ``assets.csv``: 100,000 accounts (the corpus' 4 accounts among them) with name, owner,
     team, environment, criticality and classification;
   - ``pipeline.yaml``: threat_intel (both feeds + the real RFC 1918 and public-DNS MISP
     warninglists as allowlists), geoip (MaxMind GeoIP2-City-Test + GeoLite2-ASN-Test, the only
     MaxMind databases available here) on src/dst endpoints, and lookup (cloud.account.uid ->
     account name + environment/criticality labels).
2. Feed load: a child process pinned to one core loads the 1M indicators (parse + compile the
   index) and reports seconds and its peak RSS.
3. Runs ``secpipe ingest --json`` on the corpus pinned to one core, without and with the
   enrichment config, and prints both throughputs and their ratio: ``ratio`` from wall time
   (includes the one-time feed/table/database load of the enriched run) and
   ``ratio_in_process`` from ingest's own timer (steady state, after startup). The variants
   alternate and the best run of each is kept. As a cross-check that neighbours on a shared
   machine cannot skew, the three stages are also timed alone on decoded batches
   (``stage_seconds_per_1k_events``) next to the core's in-process cost per 1k events.

Floors (issue): enriched >= 75% of the core throughput (``ok`` judges the steady-state
in-process ratio; ``ok_wall`` the wall-clock one, which also pays the one-time load of 1M
indicators and is therefore corpus-size dependent); 1M indicators load in < 10 s using
< 500 MB RSS.

Usage: python bench/enrich_bench.py [--size-mb 100] [--seed 7] [--core 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_cloudtrail import ACCOUNTS, write_corpus  # noqa: E402

REAL = HERE.parent.parent / "shared" / "data" / "real"


def gen_feeds(out: Path, seed: int) -> None:
    """Write the two IOC lists and the asset table (seeded)."""
    r = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# generated IP indicators (bench)"]
    for _ in range(400_000):
        lines.append(f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)}")
    for _ in range(60_000):
        plen = r.randrange(20, 31)
        addr = r.getrandbits(32) & ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)
        lines.append(f"{addr >> 24}.{addr >> 16 & 255}.{addr >> 8 & 255}.{addr & 255}/{plen}")
    for _ in range(40_000):
        groups = ":".join(f"{r.getrandbits(16):x}" for _ in range(8))
        lines.append(groups if r.random() < 0.5 else f"2{r.getrandbits(12):03x}:{r.getrandbits(16):x}::/{r.choice([32, 48, 56, 64])}")
    (out / "ioc_ips.txt").write_text("\n".join(lines) + "\n")
    tlds = ["com", "net", "org", "info", "io", "ru", "cn", "xyz", "top", "biz"]
    other = ["# generated domain and hash indicators (bench)"]
    for i in range(250_000):
        other.append(f"{'x' * r.randrange(1, 3)}{r.getrandbits(40):x}{i}.{r.choice(tlds)}")
    for _ in range(125_000):
        other.append(f"{r.getrandbits(128):032x}")
    for _ in range(125_000):
        other.append(f"{r.getrandbits(256):064x}")
    (out / "ioc_other.txt").write_text("\n".join(other) + "\n")
    envs = ["prod", "staging", "dev"]
    rows = ["account_id,account_name,owner,team,environment,criticality,classification"]
    ids = set(ACCOUNTS)
    while len(ids) < 100_000:
        ids.add(f"{r.randrange(10**11, 10**12)}")
    for i, acct in enumerate(sorted(ids)):
        rows.append(f"{acct},acct-{i},owner{i % 997}@example.com,team{i % 113},{envs[i % 3]},"
                    f"{['high', 'medium', 'low'][i % 3]},{['confidential', 'internal', 'public'][i % 3]}")
    (out / "assets.csv").write_text("\n".join(rows) + "\n")


def write_config(out: Path) -> Path:
    """The enrichment pipeline config used by the enriched run."""
    wl = REAL / "threat-intel" / "misp-warninglists" / "lists"
    mm = REAL / "maxmind-db" / "test-data"
    cfg = f"""data_dir: {out}/data
transforms:
  intel:
    type: threat_intel
    background_refresh: false
    feeds:
      - {{name: bench-ips, path: {out}/ioc_ips.txt, format: plain, confidence: 80}}
      - {{name: bench-other, path: {out}/ioc_other.txt, format: plain, confidence: 60}}
    allowlists:
      - {{name: rfc1918, path: {wl}/rfc1918/list.json}}
      - {{name: public-dns, path: {wl}/public-dns-v4/list.json}}
  geo:
    type: geoip
    inputs: [intel]
    city: {mm}/GeoIP2-City-Test.mmdb
    asn: {mm}/GeoLite2-ASN-Test.mmdb
  assets:
    type: lookup
    inputs: [geo]
    path: {out}/assets.csv
    key: account_id
    field: cloud.account.uid
    set: {{cloud.account.name: account_name}}
    labels: [environment, criticality]
"""
    p = out / "pipeline.yaml"
    p.write_text(cfg)
    return p


_LOAD = """
import json, resource, sys, time
from secpipe.transforms.enrich.intel.feeds import IntelStore
from secpipe.transforms.enrich.options import FeedOptions
out = sys.argv[1]
t0 = time.perf_counter()
store = IntelStore([FeedOptions(name="ips", path=out + "/ioc_ips.txt", format="plain"),
                    FeedOptions(name="other", path=out + "/ioc_other.txt", format="plain")], [])
store.refresh(force=True)
dt = time.perf_counter() - t0
print(json.dumps({"indicators": store.index.size, "by_kind": store.index.counts(), "seconds": dt,
                  "errors": [f["error"] for f in store.status() if f["error"]],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


_STAGES = """
import glob, json, sys, tempfile, time
from pathlib import Path
from secpipe.config.models import load_config
from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from secpipe.runtime.topology import build_stages
from secpipe.transforms.base import run_chain

class Capture(Pipeline):
    def submit(self, decoded):
        self.got.extend(decoded.batches)

corpus, cfg = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(corpus + "/AWSLogs/**/*.json.gz", recursive=True))[:40]
with tempfile.TemporaryDirectory() as tmp:
    cap = Capture(Path(tmp))
    cap.got = []
    ingest_files(cap, files)
    stages = build_stages(load_config(cfg), Path(tmp))
    n = sum(b.num_rows for b in cap.got)
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        for b in cap.got:
            run_chain(stages, b)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
print(json.dumps({"events": n, "stage_ms_per_1k": round(best / n * 1e6, 3)}))
"""


def stage_overhead(corpus: Path, cfg: Path, pin: list[str], py: str) -> dict:
    """Time the three stages alone on decoded batches (a cross-check that is robust to noise)."""
    out, _wall = run([*pin, py, "-c", _STAGES, str(corpus), str(cfg)])
    return out


def run(cmd: list[str]) -> tuple[dict, float]:
    """Run a command; return (its last-line JSON, wall seconds)."""
    t0 = time.perf_counter()
    pr = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if pr.returncode != 0:
        sys.stderr.write(pr.stderr)
        pr.check_returncode()
    return json.loads(pr.stdout.strip().splitlines()[-1]), wall


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--core", default="0")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each variant; the best is kept")
    a = ap.parse_args()
    corpus = HERE / "out" / f"cloudtrail-{int(a.size_mb)}mb-{a.seed}"
    if not (corpus / "stats.json").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        stats = write_corpus(corpus, a.size_mb, a.seed)
        (corpus / "stats.json").write_text(json.dumps(stats))
    stats = json.loads((corpus / "stats.json").read_text())
    feeds = HERE / "out" / f"enrich-{a.seed}"
    if not (feeds / "assets.csv").exists():
        gen_feeds(feeds, a.seed)
    cfg = write_config(feeds)
    pin = ["taskset", "-c", a.core] if shutil.which("taskset") else []
    py = sys.executable

    load, _wall = run([*pin, py, "-c", _LOAD, str(feeds)])
    print(json.dumps({"bench": "enrich_feed_load", **{k: (round(v, 3) if isinstance(v, float) else v)
                                                      for k, v in load.items()},
                      "floor_seconds": 10, "floor_rss_mb": 500,
                      "ok": load["seconds"] < 10 and load["peak_rss_mb"] < 500}))

    results: dict[str, float] = {}
    inproc: dict[str, float] = {}
    summaries: dict[str, dict] = {}
    # Alternate the variants so a noisy neighbour hurts both alike; keep the best of each.
    for _ in range(a.repeat):
        for variant in ("core", "enriched"):
            with tempfile.TemporaryDirectory() as tmp:
                extra = ["--config", str(cfg)] if variant == "enriched" else []
                summary, wall = run([*pin, py, "-m", "secpipe.cli.main", "ingest", "--json", "--data", f"{tmp}/data",
                                     *extra, str(corpus / "AWSLogs")])
            eps = summary["events"] / wall
            if eps > results.get(variant, 0.0):
                results[variant], summaries[variant] = eps, {**summary, "wall_seconds": round(wall, 3)}
            inproc[variant] = max(inproc.get(variant, 0.0), summary["events"] / summary["seconds"])
    ratio = results["enriched"] / results["core"]
    ratio_in = inproc["enriched"] / inproc["core"]
    stage = stage_overhead(corpus, cfg, pin, py)
    enriched = summaries["enriched"]
    print(json.dumps({
        "bench": "enrich_ingest_cloudtrail",
        "input_mb": round(stats["bytes"] / 2**20, 1),
        "events": enriched["events"],
        "core_events_per_second": round(results["core"]),
        "enriched_events_per_second": round(results["enriched"]),
        "ratio": round(ratio, 3),
        "core_events_per_second_in_process": round(inproc["core"]),
        "enriched_events_per_second_in_process": round(inproc["enriched"]),
        "ratio_in_process": round(ratio_in, 3),
        "floor_ratio": 0.75,
        "ok": ratio_in >= 0.75,
        "ok_wall": ratio >= 0.75,
        "stored": enriched.get("stored"),
        "core_wall_seconds": summaries["core"]["wall_seconds"],
        "enriched_wall_seconds": enriched["wall_seconds"],
        "stage_seconds_per_1k_events": stage["stage_ms_per_1k"] / 1000,
        "core_seconds_per_1k_events_in_process": round(1000 / inproc["core"], 4),
        "ratio_from_stage_cost": round((1000 / inproc["core"]) / (1000 / inproc["core"] + stage["stage_ms_per_1k"] / 1000), 3),
        "indicators": load["indicators"],
        "asset_rows": 100_000,
        "geoip": "GeoIP2-City-Test + GeoLite2-ASN-Test (MaxMind test databases)",
        "pinned_core": a.core if pin else None,
        "cpu": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
