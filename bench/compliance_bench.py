"""Compliance pack throughput: the ``compliance`` stage on a generated CloudTrail corpus.

Corpus: ``bench/gen_cloudtrail.py`` records (seeded; ~6% errors, root, ConsoleLogin, IAM,
network and S3 changes), decoded once by the ``cloudtrail`` format into batches of
``--batch`` events. Timed: ``ComplianceStage.process()`` (the 24 pack rules through the Sigma
engine + Compliance Finding rows). Prints one JSON object.

Run pinned to one core:  taskset -c 0 python bench/compliance_bench.py [--events 200000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).parent))
import gen_cloudtrail  # noqa: E402

from secpipe.detect.compliance.stage import build_stage  # noqa: E402
from secpipe.formats import get  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=20_000)
    args = ap.parse_args()
    recs = list(gen_cloudtrail.records(args.events, seed=7))
    fmt = get("cloudtrail")
    batches = []
    for i in range(0, len(recs), args.batch):
        batches.extend(fmt.decode(msgspec.json.encode({"Records": recs[i : i + args.batch]}), "bench").batches)
    stage = build_stage("bench", {"type": "compliance"})
    stage.process(batches[0])  # warm: compile plans for this schema
    findings: dict[str, int] = {}
    t = time.perf_counter()
    for b in batches:
        for out in stage.process(b)[1:]:
            for c in out.column("compliance").field("control").to_pylist():
                findings[c] = findings.get(c, 0) + 1
    secs = time.perf_counter() - t
    print(json.dumps({"bench": "compliance", "events": args.events, "batch": args.batch, "rules": len(stage.rules.rules),
                      "seconds": round(secs, 3), "events_per_second": round(args.events / secs),
                      "findings": dict(sorted(findings.items()))}))


if __name__ == "__main__":
    main()
