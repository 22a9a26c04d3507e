"""Decode throughput of the CI/CD formats (GitHub Actions API answers too), syslog, Windows event XML and Zeek TSV logs, events/s on one core.

Run pinned: ``taskset -c 0 python bench/formats_cicd_bench.py [--events N]``. Prints one JSON
line per workload: format, workload, events, seconds (best of --repeat), events_per_second,
mb_per_second and the average record size. Inputs are built from the real samples under
../shared/data/real (octokit webhook payloads, Panther GitHub/GitLab audit events, the RFC 5424
examples), from tests/cases/cicd (GitLab/Jenkins payloads written from vendor docs) and
tests/cases/evtx_xml (Microsoft's, OSSEM's and ATC's event XML), each record varied by a sequence
number so no two are identical. Measures ``Format.decode`` of one
document (split, typed decode, OCSF mapping, Arrow batch assembly); no disk I/O. GitHub delivers
one webhook a POST and the route decodes each body alone, so the GitHub webhooks are also
measured one payload a ``decode`` call (the per-call costs of building a batch then dominate).
``events_per_cpu_second`` divides by the process CPU time, so it stays the per-core figure when
other work shares the machine; ``events_per_second`` is wall clock. ``--steps`` prints instead the
CPU microseconds per payload of each step of GitHub webhook decoding (and the lake's Parquet write):
the msgspec reads are what the payloads the native scan declines (and every payload without the
extension) cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import time
from pathlib import Path

from secpipe import formats
from secpipe.runtime import memory

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
CICD = REPO / "tests" / "cases" / "cicd"


def _compact(obj: object) -> bytes:
    """Compact JSON with UTF-8 text as the senders write it (GitHub, GitLab and Jenkins send
    UTF-8; ``\\uXXXX`` escapes of every non-ASCII character would keep the batch pure ASCII
    and skip the UTF-8 check a real batch with one emoji in a PR title or description gets)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _vary_json(records: list[dict], n: int, key: str = "_bench_seq") -> bytes:
    out = []
    for i in range(n):
        rec = dict(records[i % len(records)])
        rec[key] = i
        out.append(_compact(rec))
    return b"\n".join(out)


def github_webhooks(n: int) -> bytes:
    files = sorted((REAL / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))
    return _vary_json([json.loads(f.read_bytes()) for f in files], n)


def github_webhooks_each(n: int) -> list[bytes]:
    """The webhook corpus as separate bodies, one payload each (what the HTTP route decodes)."""
    return github_webhooks(n).split(b"\n")


def github_audit(n: int) -> bytes:
    lines = (REAL / "panther-analysis/extracted/github_audit.jsonl").read_bytes().splitlines()
    return _vary_json([json.loads(x) for x in lines if x.strip()], n)


def gitlab(n: int) -> bytes:
    recs = [json.loads(x) for x in (REAL / "panther-analysis/extracted/gitlab.jsonl").read_bytes().splitlines() if x.strip()]
    for name in ("gitlab_audit_stream.json", "gitlab_api_json.log", "gitlab_push.json", "gitlab_merge_request.json",
                 "gitlab_pipeline.json", "gitlab_deployment.json"):  # fmt: skip
        recs.append(json.loads((CICD / name).read_bytes()))
    return _vary_json(recs, n)


def gitlab_logs(n: int) -> bytes:
    recs = [json.loads(x) for x in (REAL / "panther-analysis/extracted/gitlab.jsonl").read_bytes().splitlines() if x.strip()]
    recs += [json.loads((CICD / name).read_bytes()) for name in ("gitlab_audit_stream.json", "gitlab_api_json.log")]
    return _vary_json(recs, n)


def gitlab_hooks(n: int) -> bytes:
    names = ("gitlab_push.json", "gitlab_merge_request.json", "gitlab_pipeline.json", "gitlab_deployment.json")
    return _vary_json([json.loads((CICD / name).read_bytes()) for name in names], n)


def jenkins(n: int) -> bytes:
    api = json.loads((CICD / "jenkins_api_build.json").read_bytes())
    note = json.loads((CICD / "jenkins_notification.json").read_bytes())
    out = []
    for i in range(n):
        rec = json.loads(json.dumps(api if i % 2 else note))
        if "build" in rec:
            rec["build"]["number"] = i
        else:
            rec["number"] = i
        out.append(_compact(rec))
    return b"\n".join(out)


def jenkins_log(n: int) -> bytes:
    tpl = (CICD / "jenkins_console.log").read_bytes().splitlines()
    body = tpl[1:-1]
    lines = [tpl[0]]
    i = 0
    while len(lines) < n - 1:
        line = body[i % len(body)]
        lines.append(b"[2026-11-29T07:%02d:%02d.%03dZ] " % ((i // 60000) % 60, (i // 1000) % 60, i % 1000) + line + (b" #%d" % i if line.startswith(b"+") else b""))
        i += 1
    lines.append(tpl[-1])
    return b"\n".join(lines) + b"\n"


def github_actions_log(n: int) -> bytes:
    """A GitHub Actions job log of ``n`` lines: the real job log's lines (tests/cases/github_actions_log30,
    BOM first as the archive's files are) repeated, each at its own runner time (100 ns steps)."""
    real = (REPO / "tests/cases/github_actions_log30/0_build.txt").read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines()
    body = [line.split(b" ", 1)[1] for line in real if line[:4] == b"2022" and b" " in line]
    lines = [b"2026-11-29T07:%02d:%02d.%07dZ " % ((i // 600_000_000) % 60, (i // 10_000_000) % 60, i % 10_000_000)
             + body[i % len(body)] for i in range(n)]  # fmt: skip
    return b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n"


def jenkins_audit(n: int) -> bytes:
    """An Audit Trail plugin log: the real sample's request, build-start and build-end lines
    (tests/cases/holdout, a server at UTC+05:30, empty separator) and the plugin's login and other
    request messages, varied by time, job, build number, user and address."""
    real = (REPO / "tests/cases/holdout/jenkins-audit-trail-khannashiv.log").read_text().splitlines()
    msgs = [re.sub(r"^\w+ \d+, \d+ [\d:,]+ [AP]M", "", line) for line in real] + [
        "/job/team-a/job/api-service/build by ci-bot from 10.1.2.3",
        "Successful login for user 'user2'",
        "/job/team-a/job/api-service/doDelete by admin from 192.0.2.44",
        "Failed login attempt for user 'admin'",
        "/createItem by user2 from [2001:db8::7]",
        "/script by admin from 10.1.2.3",
        "Logout for user 'user2'",
        "/credentials/store/system/domain/_/createCredentials by admin from 10.1.2.3",
    ]
    t0 = dt.datetime(2026, 1, 8, 0, 28, tzinfo=dt.UTC)  # the server's wall clock
    out = []
    for i in range(n):
        local = t0 + dt.timedelta(milliseconds=i * 997)
        started = (local - dt.timedelta(hours=5, minutes=30, milliseconds=160980)).strftime("%Y-%m-%dT%H:%M:%SZ")
        msg = msgs[i % len(msgs)].replace("monitor-jenkins", f"svc{i % 97}").replace("#49", f"#{i}")
        msg = msg.replace("user2", f"user{i % 13}").replace(".44 ", f".{i % 250} ")
        msg = msg.replace("2026-01-07T18:58:04Z", started)
        stamp = f"{local:%b} {local.day}, {local.year} {local.hour % 12 or 12}:{local:%M:%S},{local.microsecond // 1000:03d} {local:%p}"
        out.append((stamp + msg).encode())
    return b"\n".join(out) + b"\n"


def syslog(n: int) -> bytes:
    rfc = [x for x in (REAL / "rfc5424-spec/rfc5424_section6.5_examples.log").read_bytes().splitlines() if x.strip()]
    extra = [
        b"<38>Nov 29 07:00:01 web1 sshd[1234]: Accepted publickey for alice from 10.0.0.5 port 51234 ssh2: RSA SHA256:abc",
        b"<38>Nov 29 07:00:02 web1 sshd[1235]: Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2",
        b"<85>Nov 29 07:00:03 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
        b"<86>Nov 29 07:00:03 web1 sshd[77]: pam_unix(sshd:session): session opened for user bob(uid=1001) by (uid=0)",
        b"<30>1 2026-11-29T07:00:04.123456+00:00 web1 nginx 999 - - GET /index.html 200",
        b"<13>Nov 29 07:00:05 web1 kernel: [12345.678] eth0: link up",
    ]
    base = rfc + extra
    return b"\n".join(base[i % len(base)] + b" seq=%d" % i for i in range(n)) + b"\n"


def _actions_pages(n: int, case: str, key: str) -> list[bytes]:
    """REST API pages of 100 items (pretty, as api.github.com answers) from a real answer
    (tests/cases/github_actions28), ids and numbers varied."""
    item = json.loads((REPO / "tests" / "cases" / "github_actions28" / case).read_bytes())[key][0]
    pages = []
    for t in range(0, n, 100):
        items = []
        for i in range(t, min(n, t + 100)):
            rec = dict(item, id=item["id"] + i)
            if "run_number" in rec:
                rec["run_number"] = i
            items.append(rec)
        pages.append(json.dumps({"total_count": n, key: items}, indent=2).encode())
    return pages


def github_actions_runs(n: int) -> list[bytes]:
    return _actions_pages(n, "runs-psf-requests.json", "workflow_runs")


def github_actions_jobs(n: int) -> list[bytes]:
    return _actions_pages(n, "jobs-luoda.json", "jobs")


#: Windows events as XML: Security 4624/4625/4672/4688, Sysmon 1/3/11, System 7045 (tests/cases/evtx_xml)
_EVTX_XML = ("ms-docs-4624.xml", "ms-docs-4625.xml", "ms-docs-4672.xml", "ms-docs-4688.xml", "sigmahq-wocao-sysmon1.xml",
             "ossem-sysmon3.xml", "ossem-sysmon11.xml", "atc-7045.xml")  # fmt: skip


def _evtx_events(n: int) -> list[str]:
    """``n`` events from the real samples as Windows renders them (no whitespace between elements,
    single-quoted attributes), what differs from event to event in a real log varied: record id, time,
    the writer's thread, and the process, logon and port values of the EventData."""
    base = []
    for name in _EVTX_XML:
        text = re.sub(r">\s+<", "><", (REPO / "tests/cases/evtx_xml" / name).read_text().strip())
        base.append(re.sub(r"<[^>]*>", lambda m: re.sub(r'="([^"]*)"', r"='\1'", m[0]), text))
    vary = re.compile(r"(<EventRecordID>|ThreadID='|SystemTime='2026-11-29T07:|Name='(?:ProcessId|NewProcessId|TargetLogonId|"
                      r"SubjectLogonId|SourcePort|IpPort|ProcessGuid|UtcTime)'>)[^<']*")
    out = []
    for i in range(n):
        ev = base[i % len(base)].replace("SystemTime='", "SystemTime='2026-11-29T07:")
        stamp = f"{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}4567Z"
        out.append(vary.sub(lambda m, i=i, stamp=stamp: m[1] + (stamp if m[1].startswith("SystemTime") else
                                                                 f"2026-11-29 07:{stamp[:9]}" if "UtcTime" in m[1] else
                                                                 f"{{{i:08X}-0000-0000-0000-000000000000}}" if "Guid" in m[1] else
                                                                 f"0x{i:x}" if "LogonId" in m[1] else str(1000 + i)), ev))
    return out


def evtx_xml_lines(n: int) -> list[bytes]:
    """``wevtutil qe <log> /f:xml`` output: one ``<Event>`` a line (CRLF), files of 10,000 events."""
    evs = _evtx_events(n)
    return ["\r\n".join(evs[i : i + 10_000]).encode() + b"\r\n" for i in range(0, n, 10_000)]


def evtx_xml_document(n: int) -> list[bytes]:
    """Event Viewer's "Save as XML": an ``<Events>`` document (declaration, no line breaks), files of 10,000 events."""
    evs = _evtx_events(n)
    head = '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\r\n<Events>'
    return [(head + "".join(evs[i : i + 10_000]) + "</Events>").encode() for i in range(0, n, 10_000)]


def _zeek_log(name: str, n: int) -> list[bytes]:
    """Zeek ASCII-writer logs of 10,000 rows under the real log's header (tests/cases/zeek_tsv), its
    rows repeated with the time and uid varied as in a live log."""
    lines = (REPO / "tests/cases/zeek_tsv" / name).read_bytes().splitlines()
    head, rows = [x for x in lines if x.startswith(b"#") and not x.startswith(b"#close")], [x for x in lines if not x.startswith(b"#")]
    docs = []
    for t in range(0, n, 10_000):
        body = []
        for i in range(t, min(n, t + 10_000)):
            cells = rows[i % len(rows)].split(b"\t")
            cells[0], cells[1] = b"%.6f" % (1521911721.255387 + i * 0.013), b"C%017d" % i
            body.append(b"\t".join(cells))
        docs.append(b"\n".join(head + body) + b"\n")
    return docs


def zeek_conn(n: int) -> list[bytes]:
    return _zeek_log("brim-conn.log", n)


def zeek_dns(n: int) -> list[bytes]:
    return _zeek_log("zeek-ipv6-frag-dns.log", n)


WORKLOADS = [
    ("github", "webhooks (octokit corpus mix)", github_webhooks),
    ("github", "webhooks, one payload a decode call (as the HTTP route gets them)", github_webhooks_each),
    ("github", "audit log (Panther GitHub.Audit)", github_audit),
    ("github_actions", "REST API workflow runs, pages of 100", github_actions_runs),
    ("github_actions", "REST API jobs, pages of 100", github_actions_jobs),
    ("gitlab", "audit + request log + webhooks mix", gitlab),
    ("gitlab", "audit events + request logs", gitlab_logs),
    ("gitlab", "webhooks (push, MR, pipeline, deployment)", gitlab_hooks),
    ("jenkins", "JSON API + notification plugin", jenkins),
    ("jenkins_log", "pipeline console log", jenkins_log),
    ("jenkins_log", "Audit Trail plugin log", jenkins_audit),
    ("github_actions_log", "a job's log (the runner's timestamped lines)", github_actions_log),
    ("syslog", "RFC 5424/3164, sshd/sudo mix", syslog),
    ("evtx_xml", "wevtutil /f:xml, one event a line (Security, Sysmon, System mix)", evtx_xml_lines),
    ("evtx_xml", "Event Viewer Save as XML <Events> document (same mix)", evtx_xml_document),
    ("zeek_tsv", "conn.log (Zeek's ASCII writer, brimdata/zed's sample)", zeek_conn),
    ("zeek_tsv", "dns.log (zeek/zeek's testing baseline)", zeek_dns),
]


def _walk_spec(type_: type, prefix: str = "") -> list[tuple[str, str]]:
    """``_fast.extract`` paths for every field of a msgspec struct (str/int/bool leaves typed, nested
    structs and lists of structs walked, any other type taken as raw JSON text)."""
    import msgspec
    import msgspec.inspect as mi

    out: list[tuple[str, str]] = []
    for f in msgspec.structs.fields(type_):
        name = prefix + f.encode_name
        info = mi.type_info(f.type)
        types = info.types if isinstance(info, mi.UnionType) else (info,)
        kinds = {type(t) for t in types} - {mi.NoneType}
        leaf = {frozenset({mi.StrType}): "s", frozenset({mi.IntType}): "i", frozenset({mi.BoolType}): "B"}.get(frozenset(kinds))
        if leaf:
            out.append((name, leaf))
        elif kinds == {mi.StructType}:
            out += _walk_spec(next(t for t in types if isinstance(t, mi.StructType)).cls, name + ".")
        elif kinds == {mi.ListType} and isinstance(item := next(t for t in types if isinstance(t, mi.ListType)).item_type, mi.StructType):
            out += [(name + "[]", "l"), *_walk_spec(item.cls, name + "[].")]
        else:
            out.append((name, "r"))
    return out


def github_steps(n: int, repeat: int) -> dict[str, float]:
    """CPU us per payload of each step of GitHub webhook decoding (best of ``repeat``)."""
    import pyarrow as pa

    from secpipe.formats import _cicd, _fast, _github_scan, github
    from secpipe.formats._findings import paused_gc
    from secpipe.formats.base import Decoded, Records, string_column, uid_hasher
    from secpipe.store._files import write_parquet

    data = github_webhooks(n)
    fmt = formats.get("github")

    def cpu(fn):  # type: ignore[no-untyped-def]
        best, out = float("inf"), None
        for _ in range(repeat):
            c0 = time.process_time()
            out = fn()
            best = min(best, time.process_time() - c0)
        return round(best / n * 1e6, 2), out

    steps: dict[str, float] = {}
    steps["split (native validate + split)"], recs = cpu(lambda: fmt.split_records(data, "bench"))
    raws = recs.raws
    if github._scanner() is not None:  # what decode does instead for an NDJSON document (GitHub.defer)
        kept = Records(docs=[(data, "bench")])
        steps["kept document read in place (HookScanner.lines, views)"], _ = cpu(lambda: fmt._read_docs(kept, Decoded(dead=[], events=0)))
    steps["top-level raw maps"], _ = cpu(lambda: [_cicd.TOP.decode(r) for r in raws])
    steps["typed views"], _ = cpu(lambda: [github._HOOK.decode(r) for r in raws])
    steps["both, record by record"], _ = cpu(lambda: [(_cicd.TOP.decode(r), github._HOOK.decode(r)) for r in raws])
    spec = _fast.Spec(paths=tuple(_walk_spec(github._Hook)), unmapped=(), known=())
    if _fast.available() and _fast.extract(raws[:50], spec) is not None:
        # what a native walk costs for every path the typed view reads (the prototype of one native
        # pass replacing both msgspec reads; its unmapped has extra keys sorted, not in document order)
        steps["native walk of the typed view's paths (_fast.extract)"], _ = cpu(lambda: _fast.extract(raws, spec))
    scanner = github._scanner()
    if scanner is not None:
        # what map_records now reads of every payload: one native pass (keys, the typed view's
        # leaves, unmapped, SHA-256), one call a payload
        # (the cyclic GC paused, as map_records runs)
        scan = scanner.scan
        with paused_gc():
            steps["native scan (HookScanner: keys, typed leaves, unmapped, SHA-256)"], gots = cpu(lambda: [scan(r) for r in raws])
            steps["typed views built from the scans"], _ = cpu(lambda: [_github_scan._scan_view(g[3]) for g in gots if g is not None])
            # what map_records calls: the head values only (the others stay with the scanner)
            head = scanner.scan_head
            steps["native scan, head values (HookScanner.scan_head, as map_records reads)"], _ = cpu(
                lambda: [head(r, 0, len(r), github._HEAD) for r in raws])
            if hasattr(scanner, "scan_checked"):
                # what decode does with a kept document: its lines checked (HookScanner.lines) then
                # scanned, against the lines' bounds alone and the scan as the check (session 19)
                lines, bounds, checked = scanner.lines, scanner.line_bounds, scanner.scan_checked
                steps["kept document: lines checked, then scanned (lines + scan_head)"], _ = cpu(
                    lambda: [head(data, s, e, github._HEAD) for _, s, e, _ in lines(data)])
                steps["kept document: the scan as the check (line_bounds + scan_checked)"], _ = cpu(
                    lambda: [checked(data, s, e, github._HEAD) for _, s, e in bounds(data)])
    seeded = uid_hasher("github").copy
    steps["SHA-256 over the (cold) batch"], _ = cpu(lambda: [(h := seeded(), h.update(r), h.digest()) for r in raws])
    steps["SHA-256 of one payload again and again (hot)"], _ = cpu(lambda: [(h := seeded(), h.update(raws[0]), h.digest()) for _ in raws])
    if _fast.available():
        steps["SHA-256 uids natively (_fast.uids)"], _ = cpu(lambda: _fast.uids(b"github", raws))
    steps["raw_data column"], _ = cpu(lambda: string_column(raws, checked=True))
    emit = _cicd.emit
    _cicd.emit = lambda *a, **k: None  # type: ignore[assignment]
    try:
        steps["map_records without the batches (one pass)"], _ = cpu(lambda: fmt.map_records(recs))
    finally:
        _cicd.emit = emit
    steps["map_records"], dec = cpu(lambda: fmt.map_records(recs))
    steps["decode (split + map_records)"], dec = cpu(lambda: fmt.decode(data, "bench"))
    few = raws[:500]
    each, _ = cpu(lambda: [fmt.decode(r, "bench") for r in few])
    steps["decode one payload a call (500 calls)"] = round(each * n / len(few), 2)

    def parquet() -> None:
        for b in dec.batches:
            write_parquet(pa.Table.from_batches([b]), pa.BufferOutputStream())

    steps["lake Parquet write (zstd)"], _ = cpu(parquet)
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--steps", action="store_true", help="per-step CPU us of GitHub webhook decoding")
    a = ap.parse_args()
    memory.tune()  # the allocator settings secpipe's CLI applies at start (runtime.memory)
    if a.steps:
        print(json.dumps({"format": "github", "workload": "webhooks, us per payload by step",
                          "steps": github_steps(a.events // 10, max(a.repeat, 5))}))  # fmt: skip
        return
    only = {x for x in a.only.split(",") if x}
    for name, workload, make in WORKLOADS:
        if only and name not in only:
            continue
        n = a.events // (50 if "one payload" in workload else 10 if workload.startswith("webhooks") else 1)
        data = make(n)
        bodies = data if isinstance(data, list) else [data]
        fmt = formats.get(name)
        best = cpu_best = float("inf")
        stored = 0
        for _ in range(a.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            decs = [fmt.decode(body, "bench") for body in bodies]
            best = min(best, time.perf_counter() - t0)
            cpu_best = min(cpu_best, time.process_time() - c0)
            stored = sum(b.num_rows for dec in decs for b in dec.batches)
            assert not any(dec.dead for dec in decs), [dec.dead[:1] for dec in decs if dec.dead][:1]
        size = sum(map(len, bodies))
        print(json.dumps({
            "format": name, "workload": workload, "events": stored, "seconds": round(best, 4),
            "cpu_seconds": round(cpu_best, 4), "events_per_second": round(stored / best),
            "events_per_cpu_second": round(stored / cpu_best), "mb_per_cpu_second": round(size / cpu_best / 1e6, 1),
            "avg_record_bytes": round(size / max(stored, 1)), "cpu_affinity": sorted(os.sched_getaffinity(0)),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
