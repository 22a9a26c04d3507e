"""Sigma detection throughput on a generated CloudTrail corpus (100 and 1,000 rules).

Corpus: ``bench/gen_cloudtrail.py`` records (seeded), decoded once by the ``cloudtrail``
format into batches of ``--batch`` events; only the ``sigma`` stage's ``process()`` (rule
evaluation + detection findings) is timed. Rules: the SigmaHQ AWS CloudTrail rules in
shared/data/real plus generated variants (same detections with the ``eventName``/
``eventSource`` values drawn from the generator's services and a per-variant suffix on the
other string values, so a variant is a distinct rule that costs the same to evaluate but does
not duplicate its base rule's hits), written to a temp dir and loaded like any rule directory.

Each run reports the best of ``--repeat`` passes (after one warm-up batch, which fills the
engine's per-value leaf cache) as wall ``events_per_second`` and ``events_per_cpu_second``
(user+sys CPU of the process: the floors are per core, and the wall clock is inflated when
other processes share the core). ``rules`` is the number of rules actually loaded.

``--correlation-rules 100`` adds a run with ``event_count`` correlations over every rule (grouped
by ``userIdentity.arn``, 1h), one per ``--correlation-ops`` operator (default ``gte: 20``, fired on
the event reaching it, and ``lt: 20``, decided when the window closes): the stream path of
:mod:`secpipe.detect.sigma.correlation`.

Run pinned to one core:  taskset -c 0 python bench/detect_bench.py  -> one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import gen_cloudtrail  # noqa: E402

from secpipe import formats  # noqa: E402
from secpipe.detect.sigma.options import SigmaOptions  # noqa: E402
from secpipe.detect.sigma.stage import SigmaStage  # noqa: E402

HERE = Path(__file__).resolve().parent
SIGMA = HERE.parent.parent / "shared" / "data" / "real" / "sigmahq-sigma" / "rules" / "cloud" / "aws" / "cloudtrail"


def _mutate(det: Any, r: random.Random, i: int) -> Any:
    if isinstance(det, dict):
        out = {}
        for k, v in det.items():
            base = k.split("|")[0]
            if base == "eventName":
                svc = r.choice(list(gen_cloudtrail.SERVICES))
                ops = gen_cloudtrail.SERVICES[svc]
                out[k] = r.sample(ops, min(len(ops), r.randint(1, 4)))
            elif base == "eventSource":
                out[k] = f"{r.choice(list(gen_cloudtrail.SERVICES))}.amazonaws.com"
            elif isinstance(v, str) and k != "condition":
                out[k] = f"{v}-variant{i}"
            elif isinstance(v, list) and v and all(isinstance(x, str) for x in v) and base != "eventName":
                out[k] = [f"{x}-variant{i}" for x in v]
            else:
                out[k] = _mutate(v, r, i)
        return out
    if isinstance(det, list):
        return [_mutate(x, r, i) for x in det]
    return det


def write_rules(out: Path, n: int, seed: int = 11, correlations: tuple[str, ...] = ()) -> int:
    r = random.Random(seed)
    base = [yaml.safe_load(p.read_text()) for p in sorted(SIGMA.glob("*.yml"))]
    ids = []
    for k in range(n):
        doc = dict(base[k % len(base)])
        if k >= len(base):
            doc["id"] = f"00000000-0000-4000-8000-{k:012d}"
            doc["title"] = f"{doc['title']} (variant {k})"
            doc["detection"] = _mutate(doc["detection"], r, k)
        ids.append(str(doc["id"]))
        (out / f"rule_{k:04d}.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    if correlations:  # gte: fired on reaching its count; lt (and eq...): decided at window close
        docs = [{"title": f"bench {op}", "id": f"00000000-0000-4000-9000-00000000000{i}",
                 "correlation": {"type": "event_count", "rules": ids, "generate": True,
                                 "group-by": ["userIdentity.arn"], "timespan": "1h", "condition": {op: 20}}}
                for i, op in enumerate(correlations)]
        (out / "correlations.yml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return n


def corpus(n: int, batch: int) -> list[Any]:
    fmt = formats.get("cloudtrail")
    recs = list(gen_cloudtrail.records(n, seed=7))
    out = []
    for i in range(0, n, batch):
        dec = fmt.decode(msgspec.json.encode({"Records": recs[i:i + batch]}), "bench")
        out.extend(dec.batches)
    return out


def run(batches: list[Any], nrules: int, repeat: int, correlations: tuple[str, ...] = ()) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        write_rules(Path(d), nrules, correlations=correlations)
        t0 = time.perf_counter()
        stage = SigmaStage("bench", SigmaOptions(rules=[d]))
        load_s = time.perf_counter() - t0
    assert not stage.ruleset.unsupported, stage.ruleset.unsupported[:3]
    c0 = time.process_time()
    for b in batches[:1]:
        stage.process(b)  # warm the per-value leaf cache (compiles the leaf queries)
    warm_cpu = time.process_time() - c0
    events = sum(b.num_rows for b in batches)
    best, best_cpu, findings = float("inf"), float("inf"), 0
    gc.disable()
    try:
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            findings = 0
            for b in batches:
                out = stage.process(b)
                findings += sum(x.num_rows for x in out[1:])
            best_cpu = min(best_cpu, time.process_time() - c0)
            best = min(best, time.perf_counter() - t0)
    finally:
        gc.enable()
    return {"rules": len(stage.ruleset.rules), "correlations": len(stage.ruleset.correlations), "events": events, "seconds": round(best, 3),
            "events_per_second": round(events / best), "cpu_seconds": round(best_cpu, 3),
            "events_per_cpu_second": round(events / best_cpu), "findings": findings,
            "load_seconds": round(load_s, 2), "warmup_cpu_seconds": round(warm_cpu, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--rules", type=int, nargs="*", default=[100, 1000])
    ap.add_argument("--correlation-rules", type=int, nargs="*", default=[],
                    help="also run these rule counts plus two event_count correlations over all of them "
                         "(gte: fired on reaching the count; lt: decided at window close)")
    ap.add_argument("--correlation-ops", nargs="+", default=["gte", "lt"], choices=["gt", "gte", "lt", "lte", "eq", "neq"],
                    help="the condition operator of each of those correlations (count 20)")
    a = ap.parse_args()
    batches = corpus(a.events, a.batch)
    res = {"corpus": {"events": sum(b.num_rows for b in batches), "batch": a.batch,
                      "raw_bytes_per_event": round(sum(b.column("raw_data").nbytes for b in batches) / a.events)},
           "runs": [run(batches, n, a.repeat) for n in a.rules]
           + [run(batches, n, a.repeat, correlations=tuple(a.correlation_ops)) for n in a.correlation_rules],
           "floors": {"100": 100_000, "1000": 30_000}}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
