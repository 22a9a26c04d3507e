"""Throughput of the ``sbom`` format (CycloneDX JSON vulnerabilities -> Vulnerability Finding).

Builds one realistic CycloneDX 1.6 BOM with ``--events`` findings by replicating and varying the
real vulnerabilities and components of tests/cases/sbom (Trivy's image scan and CycloneDX's VEX
examples): every vulnerability gets its own id, 20% affect two components (two findings), 10%
carry a VEX analysis, and refs resolve to components (5% nested under an OS component, 5% given
as BOM-links). Times ``decode`` (decode + OCSF mapping + assemble) on one core. Each finding
(vulnerability x affected ref) counts as one event. ``events_per_second`` is events per
CPU-second of this process pinned to one core (process time, so other load on a shared machine
does not skew it); ``events_per_wall_second`` is the best wall-clock figure. A second line times
an inventory-only BOM of the same size (no event; components are not decoded).

Usage: taskset -c 0 python bench/formats_sbom_bench.py [--events 100000]
(the script also pins itself to CPU 0 with sched_setaffinity when it can).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from pathlib import Path

from secpipe import formats
from secpipe.runtime import memory

CASES = Path(__file__).resolve().parents[1] / "tests" / "cases" / "sbom"
FLOOR = 50_000
SERIAL = "urn:uuid:3ff14136-e09f-4df9-80ea-000000000010"


def gen_bom(n: int, *, with_vulns: bool = True) -> tuple[bytes, int]:
    """One BOM with about n findings; returns (document, findings)."""
    base = json.loads((CASES / "fluentd-multiple-lockfiles-short.cdx.json.golden").read_text())
    vex = json.loads((CASES / "vex.json").read_text())["vulnerabilities"][0]
    vulns = [*base["vulnerabilities"], vex]
    comps_real = base["components"][1:]
    os_comp = copy.deepcopy(base["components"][0])
    os_comp["components"] = []
    comps: list[dict] = []
    out_vulns: list[dict] = []
    findings = i = 0
    while findings < n:
        v = copy.deepcopy(vulns[i % len(vulns)])
        v["id"] = f"CVE-2024-{10000 + i}"
        refs = []
        for k in range(2 if i % 5 == 0 else 1):
            c = copy.deepcopy(comps_real[(i + k) % len(comps_real)])
            c["version"] = f"1.{i % 97}.{i % 13}-{k}"
            c["bom-ref"] = c["purl"] = f"pkg:deb/debian/{c['name']}-{i}-{k}@{c['version']}?distro=debian-10.2"
            (os_comp["components"] if i % 20 == 1 else comps).append(c)
            refs.append(f"{SERIAL}/1#{c['bom-ref']}" if i % 20 == 2 else c["bom-ref"])
        v["affects"] = [{"ref": r, "versions": [{"version": "1.0", "status": "affected"}]} for r in refs]
        if i % 10 == 3:
            v["analysis"] = {"state": "not_affected", "justification": "code_not_reachable", "response": ["will_not_fix"]}
        else:
            v.pop("analysis", None)
        out_vulns.append(v)
        findings += len(refs)
        i += 1
    base["components"] = [os_comp, *comps]
    base["vulnerabilities"] = out_vulns if with_vulns else []
    return json.dumps(base, indent=2).encode(), findings if with_vulns else 0


def run(label: str, doc: bytes, expected: int) -> dict[str, object]:
    """Time decode of one document (best of 3); returns the JSON result."""
    fmt = formats.get("sbom")
    fmt.decode(doc, "warmup")
    best = best_wall = float("inf")
    stored = dead = 0
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        res = fmt.decode(doc, "bench")
        best = min(best, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
        stored = sum(b.num_rows for b in res.batches)
        dead = len(res.dead)
    if stored != expected or dead:
        msg = f"{label}: stored {stored} (expected {expected}), dead {dead}"
        raise SystemExit(msg)
    eps = stored / best if stored else None
    return {"format": "sbom", "case": label, "events": stored, "dead_letter": dead, "bytes": len(doc),
            "cpu_seconds": round(best, 3), "wall_seconds": round(best_wall, 3),
            "events_per_second": round(eps) if eps else None,
            "events_per_wall_second": round(stored / best_wall) if stored else None,
            "mb_per_cpu_second": round(len(doc) / best / 1e6, 1),
            "floor": FLOOR, "meets_floor": eps is None or eps >= FLOOR}  # fmt: skip


def main() -> None:
    """Run the benchmark and print JSON lines."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    a = ap.parse_args()
    memory.tune()  # the allocator settings secpipe's CLI applies at start (runtime.memory)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    doc, n = gen_bom(a.events)
    inv, _ = gen_bom(a.events, with_vulns=False)
    results = [run("cyclonedx-vulnerabilities", doc, n), run("cyclonedx-inventory-only", inv, 0)]
    for r in results:
        print(json.dumps(r))
    print(json.dumps({"summary": {r["case"]: r["events_per_second"] for r in results},
                      "all_meet_floor": all(r["meets_floor"] for r in results)}))  # fmt: skip


if __name__ == "__main__":
    main()
