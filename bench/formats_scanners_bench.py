"""Throughput of the scanner/runtime formats (trivy, snyk, sarif, sonarqube, falco, opa, alertmanager, gitlab_security,
grype, osv_scanner, npm_audit, pip_audit, dependency_track, govulncheck, code_quality, semgrep,
gitleaks, policy_report, bandit, checkov, tfsec, asff, guardduty, ocsf).

Builds a large realistic input per format by replicating and varying the real samples under
../shared/data/real (ids, versions, lines and times are varied so no two findings are
identical), then times ``decode`` (decode + OCSF mapping + assemble) on one core.
Each finding/alert/decision counts as one event. Prints one JSON object per format and a summary.
``events_per_second`` is events per CPU-second of this process pinned to one core (process
time, so other load on a shared machine does not skew it); ``events_per_wall_second`` is the
best wall-clock figure.

Usage: taskset -c 0 python bench/formats_scanners_bench.py [--events 100000] [--only trivy,sarif]
(the script also pins itself to CPU 0 with sched_setaffinity when it can).

``--one`` measures instead the HTTP routes' case: one record a ``decode`` call (one Falco alert from
``http_output``, one GitHub or GitLab webhook, one Alertmanager notification, one Kubernetes audit event
from the webhook backend), where a batch's fixed costs dominate: per format, microseconds of thread CPU
time a call (best of 5 runs of ``--calls``, the bodies cycled), one JSON line each.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from secpipe import formats
from secpipe.runtime import memory

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
FLOOR = 50_000


def _load(rel: str) -> object:
    return json.loads((REAL / rel).read_text())


def gen_trivy(n: int) -> list[bytes]:
    """One report with n findings (vulnerabilities of every real Trivy sample): 90% vulnerabilities,
    8% misconfigurations, 2% secrets."""
    img = _load("trivy/debian-stretch.json.golden")
    vulns = [v for p in sorted((REAL / "trivy").glob("*.json.golden")) for r in _load(f"trivy/{p.name}").get("Results") or []
             for v in r.get("Vulnerabilities") or []]  # fmt: skip
    mis = [m for r in _load("trivy/helm_testchart.json.golden")["Results"] for m in r.get("Misconfigurations") or []]
    sec = [s for r in _load("trivy/secrets.json.golden")["Results"] for s in r.get("Secrets") or []]
    nv, nm = int(n * 0.9), int(n * 0.08)
    ns = n - nv - nm
    per = 1000
    results = []
    for t in range(0, nv, per):
        items = []
        for i in range(t, min(nv, t + per)):
            v = copy.deepcopy(vulns[i % len(vulns)])
            v["VulnerabilityID"] = f"CVE-2024-{10000 + i}"
            v["InstalledVersion"] = f"1.{i % 97}.{i % 13}"
            v.pop("Fingerprint", None)
            items.append(v)
        results.append({"Target": f"layer-{t}", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": items})
    ms = []
    for i in range(nm):
        m = copy.deepcopy(mis[i % len(mis)])
        m["ID"] = f"KSV{i:06d}"
        ms.append(m)
    results.append({"Target": "chart/templates/deployment.yaml", "Class": "config", "Type": "helm", "Misconfigurations": ms})
    ss = []
    for i in range(ns):
        s = copy.deepcopy(sec[i % len(sec)])
        s["StartLine"] = s["EndLine"] = i + 1
        ss.append(s)
    results.append({"Target": "deploy.sh", "Class": "secret", "Secrets": ss})
    img["Results"] = results
    return [json.dumps(img, indent=2).encode()]


def gen_snyk(n: int) -> list[bytes]:
    """A multi-project array with n vulnerabilities (drawn from every real snyk test report) in projects of 1000."""
    vulns, base = [], None
    for p in sorted((REAL / "snyk-to-html").glob("*.json")):
        try:
            d = json.loads(p.read_text())
        except ValueError:
            continue
        for proj in d if isinstance(d, list) else [d]:
            if isinstance(proj, dict) and proj.get("vulnerabilities"):
                vulns.extend(proj["vulnerabilities"])
                base = base or proj
    assert base is not None
    projects = []
    for t in range(0, n, 1000):
        p = copy.deepcopy(base)
        items = []
        for i in range(t, min(n, t + 1000)):
            v = copy.deepcopy(vulns[i % len(vulns)])
            v["id"] = f"SNYK-JS-BENCH-{i}"
            v["version"] = f"1.{i % 50}.0"
            items.append(v)
        p["vulnerabilities"] = items
        p["projectName"] = f"bench-{t}"
        projects.append(p)
    return [json.dumps(projects, indent=2).encode()]


def gen_sarif(n: int) -> list[bytes]:
    """One SARIF log per real 2.1.0 sample (Snyk Code, Trivy, sarif-sdk converters), its results
    replicated in proportion to the sample's size, so the mix of tools and result sizes is real."""
    paths = sorted((REAL / "sarif-sdk").rglob("ConverterTestData/**/*.sarif"))
    paths += sorted((REAL / "snyk-to-html").glob("test-code-*.json")) + [REAL / "trivy/sarif/alpine-310.sarif.golden"]
    logs = [_load(str(p.relative_to(REAL))) for p in paths]
    total = sum(len(r.get("results") or []) for lg in logs for r in lg["runs"])
    out, made = [], 0
    for k, lg in enumerate(logs):
        for run in lg["runs"]:
            src = run.get("results") or []
            want = n - made if k == len(logs) - 1 else round(n * len(src) / total)
            res = []
            for i in range(want):
                r = copy.deepcopy(src[i % len(src)])
                r.setdefault("properties", {})["benchOrdinal"] = i
                res.append(r)
            run["results"] = res
            made += want
        out.append(json.dumps(lg, indent=2).encode())
    return out


def gen_sonarqube(n: int) -> list[bytes]:
    """Issue search pages of 500 (the API's max page size), shaped as the documented response."""
    docs = []
    for t in range(0, n, 500):
        issues = [{
            "key": f"AX{i:010d}", "rule": f"java:S{2000 + i % 300}", "severity": ["MAJOR", "CRITICAL", "MINOR"][i % 3],
            "component": f"proj:src/main/java/App{i % 40}.java", "project": "proj", "line": i % 900 + 1,
            "hash": f"{i:032x}", "textRange": {"startLine": i % 900 + 1, "endLine": i % 900 + 1, "startOffset": 4, "endOffset": 20},
            "flows": [], "status": "OPEN", "message": f"Remove this unused local variable x{i}.", "effort": "5min",
            "debt": "5min", "author": "dev@example.com", "tags": ["unused"], "creationDate": "2024-05-13T17:55:39+0200",
            "updateDate": "2024-05-14T10:00:00+0200", "type": "CODE_SMELL",
        } for i in range(t, min(n, t + 500))]  # fmt: skip
        docs.append(json.dumps({"total": n, "p": t // 500 + 1, "ps": 500, "paging": {"pageIndex": t // 500 + 1,
                                "pageSize": 500, "total": n}, "issues": issues, "components": []}).encode())  # fmt: skip
    return docs


def gen_gitlab_security(n: int) -> list[bytes]:
    """GitLab security reports of 1,000 vulnerabilities: half SAST (code findings), half dependency
    scanning (package findings), replicating the real reports under tests/cases/holdout."""
    holdout = Path(__file__).resolve().parents[1] / "tests" / "cases" / "holdout"
    docs = []
    for kind, name in (("sast", "gl-sast-report-cwe-defectdojo.json"),
                       ("dependency_scanning", "gl-dependency-scanning-report-2-vuln-defectdojo.json")):  # fmt: skip
        real = json.loads((holdout / name).read_text())
        part = n // 2 if kind == "sast" else n - n // 2
        for t in range(0, part, 1000):
            vulns = []
            for i in range(t, min(part, t + 1000)):
                v = copy.deepcopy(real["vulnerabilities"][i % len(real["vulnerabilities"])])
                v["id"] = f"{kind}-{i:012d}"
                v["location"]["start_line" if kind == "sast" else "file"] = i % 900 + 1 if kind == "sast" else f"svc{i % 50}/go.sum"
                vulns.append(v)
            docs.append(json.dumps({**real, "vulnerabilities": vulns}).encode())
    return docs


def gen_falco(n: int) -> list[bytes]:
    """NDJSON alerts (json_output), in 8 MiB-ish chunks like the file reader cuts them."""
    lines = (REAL / "falco/test/output_files/single_rule_with_cat_write.json").read_text().splitlines()
    protos = [json.loads(x) for x in lines if x.strip()]
    out = []
    for i in range(n):
        a = copy.deepcopy(protos[i % len(protos)])
        a["time"] = f"2024-08-04T16:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 10**9:09d}Z"  # RFC 3339, nanoseconds
        a["output_fields"].update({"proc.pid": i, "container.id": f"{i % 500:012x}", "k8s.ns.name": "default",
                                   "k8s.pod.name": f"web-{i % 300}"})  # fmt: skip
        out.append(json.dumps(a))
    return _chunks(out)


def gen_opa(n: int) -> list[bytes]:
    """NDJSON decision logs."""
    proto = _load("opa-docs/management-decision-logs.example1.json")[0]
    out = []
    for i in range(n):
        d = copy.deepcopy(proto)
        d["decision_id"] = f"4ca636c1-55e4-417a-b1d8-{i:012x}"
        d["input"] = {"method": ["GET", "POST", "DELETE"][i % 3], "path": f"/salary/user{i % 1000}"}
        d["result"] = i % 4 != 0
        out.append(json.dumps(d))
    return _chunks(out)


def gen_alertmanager(n: int) -> list[bytes]:
    """Webhook payloads of 100 alerts each (Alertmanager groups alerts per notification)."""
    base = _load("prometheus-msteams/alert/testdata/large_prom_post_request.json")
    protos = base["alerts"]
    docs = []
    for t in range(0, n, 100):
        p = copy.deepcopy(base)
        alerts = []
        for i in range(t, min(n, t + 100)):
            a = copy.deepcopy(protos[i % len(protos)])
            a["labels"] = {**a.get("labels", {}), "instance": f"10.0.{i // 250 % 250}.{i % 250}:9100"}
            a["fingerprint"] = f"{i:016x}"
            alerts.append(a)
        p["alerts"] = alerts
        docs.append(json.dumps(p).encode())
    return docs


CASES = Path(__file__).resolve().parents[1] / "tests" / "cases" / "scanners27"


def _case(name: str) -> dict:
    return json.loads((CASES / name).read_text())  # type: ignore[no-any-return]


def gen_grype(n: int) -> list[bytes]:
    """Grype JSON reports (grype -o json) of 1000 matches each, the real samples' matches varied."""
    base = _case("grype-json-presenter-image.json")
    matches = base["matches"] + _case("grype-0.28-check-all-fields-defectdojo.json")["matches"]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            m = copy.deepcopy(matches[i % len(matches)])
            m["vulnerability"]["id"] = f"CVE-2024-{10000 + i}"
            m["artifact"]["version"] = f"1.{i % 97}.{i % 13}"
            items.append(m)
        docs.append(json.dumps({**base, "matches": items}, indent=1).encode())
    return docs


def gen_osv_scanner(n: int) -> list[bytes]:
    """OSV-Scanner JSON reports (osv-scanner --format json): packages of 10 vulnerabilities, 100 packages a report."""
    base = _case("osv-scanner-some-findings-defectdojo.json")
    pkgs = [p for r in base["results"] for p in r["packages"]]
    vulns = [v for p in pkgs for v in p["vulnerabilities"]]
    docs, k = [], 0
    while k < n:
        packages = []
        for j in range(100):
            if k >= n:
                break
            p = copy.deepcopy(pkgs[j % len(pkgs)])
            p["package"]["version"] = f"2.{k % 89}.{j}"
            p["vulnerabilities"] = []
            for _ in range(min(10, n - k)):
                v = copy.deepcopy(vulns[k % len(vulns)])
                v["id"] = f"GHSA-{k:04x}-bench-{j:04x}"
                p["vulnerabilities"].append(v)
                k += 1
            p["groups"] = [{"ids": [v["id"]]} for v in p["vulnerabilities"]]
            packages.append(p)
        docs.append(json.dumps({"results": [{"source": base["results"][0]["source"], "packages": packages}]}).encode())
    return docs


def gen_npm_audit(n: int) -> list[bytes]:
    """npm audit --json (v2, npm 7+) reports of 500 vulnerable packages, each from the real sample's advisory."""
    base = _case("npm-audit-7-one-vuln-defectdojo.json")
    (name, vuln), = base["vulnerabilities"].items()
    docs = []
    for t in range(0, n, 500):
        vs = {}
        for i in range(t, min(n, t + 500)):
            v = copy.deepcopy(vuln)
            v["name"] = f"{name}-{i}"
            for via in v["via"]:
                if isinstance(via, dict):
                    via["source"] = 1_000_000 + i
                    via["url"] = f"https://github.com/advisories/GHSA-bench-{i:06x}"
            vs[v["name"]] = v
        docs.append(json.dumps({**base, "vulnerabilities": vs}, indent=2).encode())
    return docs


def gen_pip_audit(n: int) -> list[bytes]:
    """pip-audit -f json reports of 1000 dependencies with one vulnerability each, from the real sample's."""
    deps = [d for d in _case("pip-audit-many-vulns-new-defectdojo.json")["dependencies"] if d.get("vulns")]
    vulns = [v for d in deps for v in d["vulns"]]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            v = copy.deepcopy(vulns[i % len(vulns)])
            v["id"] = f"PYSEC-2024-{i}"
            items.append({"name": f"{deps[i % len(deps)]['name']}-{i}", "version": f"1.{i % 50}", "vulns": [v]})
        docs.append(json.dumps({"dependencies": items, "fixes": []}).encode())
    return docs


def gen_dependency_track(n: int) -> list[bytes]:
    """Dependency-Track findings exports (FPF) of 1000 findings each, from the real sample's."""
    base = _case("dependency-track-4.10-defectdojo.json")
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            f = copy.deepcopy(base["findings"][i % len(base["findings"])])
            f["vulnerability"]["vulnId"] = f"CVE-2024-{10000 + i}"
            f["vulnerability"]["uuid"] = f"00000000-0000-4000-8000-{i:012d}"
            f["component"]["version"] = f"1.{i % 97}.{i % 13}"
            items.append(f)
        docs.append(json.dumps({**base, "findings": items}, indent=2).encode())
    return docs


def gen_govulncheck(n: int) -> list[bytes]:
    """govulncheck -json streams of 1000 findings each: the config, then an osv entry and its finding per
    vulnerability (the real sample's, ids varied), as govulncheck writes objects back to back."""
    from secpipe.formats.base import concatenated_objects

    objs = [json.loads(x) for x in concatenated_objects((CASES / "govulncheck-1.1.4-defectdojo.json").read_bytes())]
    config = next(o for o in objs if "config" in o)
    osv = next(o["osv"] for o in objs if "osv" in o)
    finding = next(o["finding"] for o in objs if "finding" in o)
    docs = []
    for t in range(0, n, 1000):
        parts = [json.dumps(config, indent=2)]
        for i in range(t, min(n, t + 1000)):
            o = {**osv, "id": f"GO-2024-{i:05d}", "aliases": [f"CVE-2024-{20000 + i}"]}
            parts += [json.dumps({"osv": o}, indent=2), json.dumps({"finding": {**finding, "osv": o["id"]}}, indent=2)]
        docs.append("\n".join(parts).encode())
    return docs


def gen_code_quality(n: int) -> list[bytes]:
    """GitLab Code Quality reports (Trivy's gitlab-codequality template) of 1000 issues each, the real sample's."""
    issues = json.loads((CASES / "trivy-alpine-310-gitlab-codequality.golden").read_text())
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            c = copy.deepcopy(issues[i % len(issues)])
            c["fingerprint"] = f"{i:040x}"
            c["description"] = f"CVE-2024-{10000 + i}: " + c.get("description", "")
            items.append(c)
        docs.append(json.dumps(items, indent=4).encode())
    return docs


def gen_semgrep(n: int) -> list[bytes]:
    """semgrep --json reports of 1000 matches each: the real 1.30 match (tests/cases/scanners28), its
    fingerprint, rule, path and lines varied."""
    doc = json.loads((CASES.parent / "scanners28" / "semgrep-1.30-defectdojo.json").read_text())
    match = doc["results"][0]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            m = copy.deepcopy(match)
            m["check_id"] += f".r{i % 50}"
            m["path"] = f"pkg{i % 40}/file{i}.go"
            m["start"]["line"], m["end"]["line"] = 10 + i % 500, 12 + i % 500
            m["extra"]["fingerprint"] = f"{i:0128x}_0"
            items.append(m)
        docs.append(json.dumps({**doc, "version": "1.56.0", "results": items}, indent=4).encode())
    return docs


def gen_gitleaks(n: int) -> list[bytes]:
    """gitleaks 8 JSON reports of 1000 leaks each: the real leak (tests/cases/scanners28), its commit, file,
    line and rule varied (its secret stays: the format hides it in every one)."""
    leak = json.loads((CASES.parent / "scanners28" / "gitleaks-defectdojo.json").read_text())[0]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            k = dict(leak)
            k["Commit"] = f"{i:064x}"
            k["File"] = f"src/mod{i % 30}/conf{i}.py"
            k["StartLine"] = k["EndLine"] = 1 + i % 400
            k["RuleID"] = f"rule-{i % 25}"
            items.append(k)
        docs.append(json.dumps(items, indent=1).encode())
    return docs


def gen_policy_report(n: int) -> list[bytes]:
    """Kyverno openreports.io ClusterReports of 1000 results each: the real sample's results
    (tests/cases/scanners28), their resource, rule and time varied."""
    doc = json.loads((CASES.parent / "scanners28" / "kyverno-many-defectdojo.json").read_text())
    results = doc["results"]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            r = copy.deepcopy(results[i % len(results)])
            r["resources"][0]["name"] = f"app-{i}"
            r["resources"][0]["namespace"] = f"ns-{i % 20}"
            r["rule"] += f"-{i % 12}"
            r["timestamp"]["seconds"] += i
            items.append(r)
        docs.append(json.dumps({**doc, "results": items}, indent=2).encode())
    return docs


def gen_bandit(n: int) -> list[bytes]:
    """bandit -f json reports of 1000 issues each: the real issue (tests/cases/scanners28), its test, file and
    line varied, with bandit 1.7.5+'s issue_cwe and columns."""
    doc = json.loads((CASES.parent / "scanners28" / "bandit-defectdojo.json").read_text())
    issue = doc["results"][0]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            x = dict(issue)
            x["filename"] = f"pkg{i % 30}/mod{i}.py"
            x["line_number"] = 1 + i % 500
            x["line_range"] = [x["line_number"]]
            x["test_id"] = f"B{101 + i % 60}"
            x["col_offset"], x["end_col_offset"] = i % 8, 20 + i % 8
            x["issue_cwe"] = {"id": 703, "link": "https://cwe.mitre.org/data/definitions/703.html"}
            items.append(x)
        docs.append(json.dumps({**doc, "results": items}, indent=2).encode())
    return docs


def gen_checkov(n: int) -> list[bytes]:
    """checkov -o json reports of 1000 checks each (3 failed to 1 passed): the real failed check
    (tests/cases/scanners28), its id, file, resource and lines varied."""
    doc = json.loads((CASES.parent / "scanners28" / "checkov-defectdojo.json").read_text())
    check = doc["results"]["failed_checks"][0]
    docs = []
    for t in range(0, n, 1000):
        failed, passed = [], []
        for i in range(t, min(n, t + 1000)):
            c = copy.deepcopy(check)
            c["check_id"] = f"CKV_GCP_{i % 90}"
            c["file_path"] = c["repo_file_path"] = f"/mod{i % 25}/main{i}.tf"
            c["resource"] = f"google_storage_bucket.b{i}"
            c["file_line_range"] = [1 + i % 300, 9 + i % 300]
            (passed if i % 4 == 3 else failed).append(c)
        results = {**doc["results"], "failed_checks": failed, "passed_checks": passed}
        docs.append(json.dumps({**doc, "results": results}, indent=3).encode())
    return docs


def gen_tfsec(n: int) -> list[bytes]:
    """tfsec --format json reports of 1000 results each: the real result (tests/cases/scanners28), its rule,
    file and line varied."""
    doc = json.loads((CASES.parent / "scanners28" / "tfsec-defectdojo.json").read_text())
    result = doc["results"][0]
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            r = copy.deepcopy(result)
            r["rule_id"] = f"GEN{i % 40:03d}"
            r["location"] = {"filename": f"mod{i % 20}/main{i}.tf", "start_line": 1 + i % 400, "end_line": 3 + i % 400}
            items.append(r)
        docs.append(json.dumps({"results": items}, indent="\t").encode())
    return docs


def gen_asff(n: int) -> list[bytes]:
    """AWS CLI ``securityhub get-findings`` answers (its pages merged, indent 4) of 1000 findings each:
    40% Inspector vulnerabilities, 40% Security Hub control checks, 20% GuardDuty detections."""
    cases = Path(__file__).resolve().parents[1] / "tests" / "cases" / "scanners30"

    def first(name: str) -> dict:
        doc = json.loads((cases / name).read_text())
        return (doc.get("Findings") or doc["findings"])[0]  # type: ignore[no-any-return]

    kinds = [first("asff-inspector-ec2-cve-defectdojo.json"), first("asff-securityhub-config-one-finding-defectdojo.json"),
             first("asff-guardduty-defectdojo.json")]  # fmt: skip
    docs = []
    for t in range(0, n, 1000):
        items = []
        for i in range(t, min(n, t + 1000)):
            f = copy.deepcopy(kinds[(0, 0, 1, 1, 2)[i % 5]])
            f["Id"] = f"{f['Id']}-{i}"
            f["UpdatedAt"] = f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07.123Z"
            items.append(f)
        docs.append(json.dumps({"Findings": items}, indent=4).encode())
    return docs


def _ndjson(items: list[dict]) -> bytes:
    return ("\n".join(json.dumps(x, separators=(",", ":")) for x in items) + "\n").encode()


def _alternated(n: int, item: Callable[[int, bool], dict], odd: Callable[[list[dict]], bytes],
                even: Callable[[list[dict]], bytes]) -> list[bytes]:  # fmt: skip
    """``n`` items in documents of 1000, ``item(i, odd)`` each: the odd documents encoded by ``odd``, the others by ``even``."""
    docs = []
    for t in range(0, n, 1000):
        flag = (t // 1000) % 2 == 1
        docs.append((odd if flag else even)([item(i, flag) for i in range(t, min(n, t + 1000))]))
    return docs


def gen_guardduty(n: int) -> list[bytes]:
    """GuardDuty findings in documents of 1000: S3 export JSON Lines (camelCase: Elastic's five sample
    findings in turn) and, every other document, an ``aws guardduty get-findings`` answer (PascalCase,
    indent 4: the AWS CLI example finding)."""
    cases = Path(__file__).resolve().parents[1] / "tests" / "cases" / "cloud31"
    lines = [json.loads(x) for x in (cases / "guardduty-elastic-s3export.log").read_text().splitlines()[:5]]
    cli = json.loads((cases / "guardduty-awscli-get-findings.json").read_text())["Findings"][0]

    def item(i: int, pascal: bool) -> dict:
        f = copy.deepcopy(cli if pascal else lines[i % 5])
        key = ("Id", "UpdatedAt") if pascal else ("id", "updatedAt")
        f[key[0]] = f"{f[key[0]]}-{i}"
        f[key[1]] = f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07.123Z"
        return f

    return _alternated(n, item, lambda items: json.dumps({"Findings": items}, indent=4).encode(), _ndjson)


def gen_ocsf(n: int) -> list[bytes]:
    """OCSF events as JSON in documents of 1000: Prowler json-ocsf arrays (indent 2, the three sample
    findings in turn) and, every other document, NDJSON of the OCSF examples' Okta Authentication event
    (as Cribl/Tenzir or a Security Lake export write them)."""
    cases = Path(__file__).resolve().parents[1] / "tests" / "cases" / "cloud31"
    prowler = json.loads((cases / "ocsf-prowler-api-manual.ocsf.json").read_text())
    okta = json.loads((cases / "ocsf-okta-authentication.ocsf").read_text())

    def item(i: int, lines: bool) -> dict:
        r = copy.deepcopy(okta if lines else prowler[i % 3])
        r["time"] = 1735570800 + i
        r["metadata"]["uid" if lines else "event_code"] = f"{r['metadata'].get('uid', r['metadata']['event_code'])}-{i}"
        return r

    return _alternated(n, item, _ndjson, lambda items: json.dumps(items, indent=2).encode())


def _chunks(lines: list[str], size: int = 8 << 20) -> list[bytes]:
    out, cur, cur_len = [], [], 0
    for x in lines:
        cur.append(x)
        cur_len += len(x) + 1
        if cur_len >= size:
            out.append(("\n".join(cur) + "\n").encode())
            cur, cur_len = [], 0
    if cur:
        out.append(("\n".join(cur) + "\n").encode())
    return out


GENERATORS: dict[str, Callable[[int], list[bytes]]] = {
    "trivy": gen_trivy, "snyk": gen_snyk, "sarif": gen_sarif, "sonarqube": gen_sonarqube,
    "falco": gen_falco, "opa": gen_opa, "alertmanager": gen_alertmanager, "gitlab_security": gen_gitlab_security,
    "grype": gen_grype, "osv_scanner": gen_osv_scanner, "npm_audit": gen_npm_audit, "pip_audit": gen_pip_audit,
    "dependency_track": gen_dependency_track, "govulncheck": gen_govulncheck, "code_quality": gen_code_quality,
    "semgrep": gen_semgrep, "gitleaks": gen_gitleaks, "policy_report": gen_policy_report,
    "bandit": gen_bandit, "checkov": gen_checkov, "tfsec": gen_tfsec, "asff": gen_asff,
    "guardduty": gen_guardduty, "ocsf": gen_ocsf,
}  # fmt: skip


def run(name: str, n: int) -> dict[str, object]:
    """Time decode of the generated documents; returns the JSON result."""
    docs = GENERATORS[name](n)
    fmt = formats.get(name)
    fmt.decode(docs[0], "warmup")  # warm caches (schema, decoders)
    best = best_wall = float("inf")
    stored = dead = 0
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        stored = dead = 0
        for i, d in enumerate(docs):
            res = fmt.decode(d, f"bench-{i}")
            stored += sum(b.num_rows for b in res.batches)
            dead += len(res.dead)
        best = min(best, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    eps = stored / best
    return {"format": name, "events": stored, "dead_letter": dead, "documents": len(docs),
            "bytes": sum(map(len, docs)), "cpu_seconds": round(best, 3), "wall_seconds": round(best_wall, 3),
            "events_per_second": round(eps), "events_per_wall_second": round(stored / best_wall),
            "floor": FLOOR, "meets_floor": eps >= FLOOR}  # fmt: skip


def _one_bodies() -> dict[str, list[bytes]]:
    """Real bodies the HTTP routes get, one record each."""
    cases = Path(__file__).resolve().parents[1] / "tests" / "cases"
    falco = (REAL / "falco/test/output_files/single_rule_with_cat_write.json").read_bytes().splitlines()
    return {
        "falco": [x for x in falco if x.strip()],
        "github": [p.read_bytes() for p in sorted((REAL / "octokit-webhooks").rglob("*.json"))[:60]],
        "alertmanager": [(REAL / "prometheus-msteams/alert/testdata/prom_post_request.json").read_bytes()],
        "gitlab": [p.read_bytes() for p in sorted((cases / "cicd").glob("gitlab_*.json"))],
        "k8s_audit": [(REAL / "falco/test/trace_files/k8s_audit/create_deployment.json").read_bytes()],
    }


def run_one(names: list[str], calls: int) -> list[dict[str, object]]:
    """Microseconds of thread CPU time a ``decode`` call of one record (best of 5 runs of ``calls``)."""
    bodies = _one_bodies()
    out: list[dict[str, object]] = []
    for name in names or list(bodies):
        fmt, bs = formats.get(name), bodies[name]
        for b in bs * 3:  # warm caches (layouts, kept columns, decoders)
            fmt.decode(b, "warmup")
        best = float("inf")
        for _ in range(5):
            c0 = time.thread_time()
            for i in range(calls):
                fmt.decode(bs[i % len(bs)], "bench")
            best = min(best, (time.thread_time() - c0) / calls)
        out.append({"format": name, "workload": "one record a decode call (an HTTP route's POST)", "calls": calls,
                    "bodies": len(bs), "us_per_call": round(best * 1e6, 1), "calls_per_cpu_second": round(1 / best)})
    return out


def main() -> None:
    """Run the benchmark for each format and print JSON lines."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--only", default="")
    ap.add_argument("--one", action="store_true", help="one record a decode call (falco, github, alertmanager, gitlab, k8s_audit)")
    ap.add_argument("--calls", type=int, default=400, help="decode calls a run with --one")
    a = ap.parse_args()
    memory.tune()  # the allocator settings secpipe's CLI applies at start (runtime.memory)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    if a.one:
        for r in run_one([x for x in a.only.split(",") if x], a.calls):
            print(json.dumps(r))
        return
    names = [x for x in a.only.split(",") if x] or list(GENERATORS)
    results = [run(nm, a.events) for nm in names]
    for r in results:
        print(json.dumps(r))
    print(json.dumps({"summary": {r["format"]: r["events_per_second"] for r in results},
                      "all_meet_floor": all(r["meets_floor"] for r in results)}))  # fmt: skip


if __name__ == "__main__":
    main()
