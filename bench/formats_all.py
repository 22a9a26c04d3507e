"""Every format's decode throughput, each format in a process of its own (issue #3's per-format floor).

Runs the four format benchmarks (``formats_core_bench``, ``formats_cicd_bench``,
``formats_scanners_bench``, ``formats_sbom_bench``) once per format with ``--only``, each in a
fresh interpreter pinned to one core, and prints their JSON lines unchanged followed by one
summary line: per workload, events per CPU-second and whether it meets the 50,000 floor.

Why a process per format: run one after the other in one interpreter, the later formats often
read 20-40% slower than alone (SonarQube 31-48k after SARIF's 400 MB of reports vs 58-64k alone,
same minutes; not every time, and the cause is not pinned down: the earlier runs leave a heap
grown to ~1.4 GB, Arrow's pool and msgspec's caches). A process decoding one kind of input, which
is what the per-format figure stands for, starts from none of that.

Workloads without a floor: GitHub "one payload a decode call" (what one webhook POST costs the
HTTP route, a per-request latency figure, not a throughput one) and the inventory-only SBOM (no
event in it).

Usage: python bench/formats_all.py [--core 0] [--events 100000]   (``make bench-formats``)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOOR = 50_000

#: (benchmark script, its --only values)
RUNS = [
    ("formats_core_bench.py", ["cloudtrail", "k8s_audit"]),
    ("formats_cicd_bench.py", ["github", "github_actions", "gitlab", "jenkins", "jenkins_log", "github_actions_log", "syslog",
                                "evtx_xml", "zeek_tsv"]),
    ("formats_scanners_bench.py", ["trivy", "snyk", "sarif", "sonarqube", "falco", "opa", "alertmanager", "gitlab_security",
                                   "grype", "osv_scanner", "npm_audit", "pip_audit", "dependency_track", "govulncheck",
                                   "code_quality", "semgrep", "gitleaks", "policy_report", "bandit",
                                   "checkov", "tfsec", "asff", "guardduty", "ocsf"]),
    ("formats_sbom_bench.py", [""]),
]


def _rate(line: dict) -> float | None:
    """Events per CPU-second of a result line: ``events_per_cpu_second`` (core, CI/CD), else
    ``events_per_second`` (the scanner and SBOM benchmarks' name for the same CPU-time figure)."""
    rate = line.get("events_per_cpu_second", line.get("events_per_second"))
    return None if rate is None else float(rate)


def _name(line: dict) -> str:
    name = line.get("format", "?")
    what = line.get("workload") or line.get("case")
    return f"{name}: {what}" if what else name


def main() -> None:
    """Run every format benchmark, one process per format, and print the summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--core", default="0")
    ap.add_argument("--events", type=int, default=100_000)
    a = ap.parse_args()
    pin = ["taskset", "-c", a.core] if shutil.which("taskset") else []
    summary: dict[str, dict[str, object]] = {}
    for script, names in RUNS:
        for only in names:
            cmd = [*pin, sys.executable, str(HERE / script), "--events", str(a.events), *(["--only", only] if only else [])]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            for text in out.splitlines():
                line = json.loads(text)
                if "summary" in line or "steps" in line or line.get("events") is None:
                    continue
                print(json.dumps(line), flush=True)
                rate = _rate(line)
                floor = None if not line.get("events") or "one payload" in str(line.get("workload")) else FLOOR
                summary[_name(line)] = {"events_per_cpu_second": None if rate is None else round(rate),
                                        "floor": floor, "meets_floor": None if floor is None else (rate or 0) >= floor}  # fmt: skip
    floored = [v for v in summary.values() if v["floor"] is not None]
    print(json.dumps({"summary": summary, "all_meet_floor": all(v["meets_floor"] for v in floored)}))


if __name__ == "__main__":
    main()
