"""Real samples secpipe was not developed against, fifth round (``tests/cases/holdout``, see its SOURCE.md).

Nothing lost, nothing merged: N distinct events or findings of a file are N stored rows with N
distinct ``metadata.uid`` (the lake deduplicates by it) and N distinct ``finding_info.uid``; the
same file ingested again stores nothing new. Expectations are written from the source
documents and the format specifications, not from secpipe's output.

Regressions covered: SARIF results that share a producer fingerprint (gitleaks' partial
fingerprints are the commit's sha, author and date; Flawfinder's ``contextHash/v1`` hashes the
line text) got one ``finding_info.uid``; one Snyk issue in two projects of an ``--all-projects``
report, one CVE in two jars of a Trivy target, a SonarQube key repeated in one answer, likewise;
Alertmanager's API v2 answers (``/api/v2/alerts``, ``/api/v2/alerts/groups``: JSON arrays) were
dead-lettered.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from tests.unit.test_formats_holdout import CASES, _auto, _rows


def _lake_twice(tmp: Path, files: list[Path], fmt: str = "auto") -> tuple[dict[str, tuple[int, int, int]], dict[str, int]]:
    """Ingest ``files`` into a fresh lake twice: ({class: (rows, distinct metadata.uid, distinct
    finding_info.uid)} after the first ingest, what the second one stored)."""
    for _ in range(2):
        pipe = Pipeline(tmp, [], max_rows=500_000, raw_data=True)
        ingest_files(pipe, [str(f) for f in files], fmt)
        pipe.flush()
        if _ == 0:
            counts: dict[str, tuple[int, int, int]] = {}
            for cls in sorted(p for p in (tmp / "lake").iterdir() if p.is_dir()):
                t = pa.concat_tables([pq.read_table(x) for x in sorted(cls.rglob("*.parquet"))])
                fuid = (len(pc.unique(pc.struct_field(t.column("finding_info").combine_chunks(), "uid")))
                        if "finding_info" in t.column_names else len(t))  # fmt: skip
                counts[cls.name] = (len(t), len(pc.unique(pc.struct_field(t.column("metadata").combine_chunks(), "uid"))), fuid)
    return counts, dict(pipe.totals.stored)


def _fuids(d: Decoded) -> list[str]:
    return [r["finding_info"]["uid"] for r in _rows(d)]


# --------------------------------------------------------------------------------------
# SARIF from gitleaks: partial fingerprints are the commit's, not the result's
# --------------------------------------------------------------------------------------

GITLEAKS = "gitleaks-sarif-simple.sarif"


def _gitleaks_two_results(tmp: Path) -> Path:
    """gitleaks' own SARIF test report with a second secret in the same file and commit (line 7):
    what gitleaks writes for two leaks of one commit (same rule, file and partialFingerprints)."""
    log = json.loads((CASES / GITLEAKS).read_bytes())
    second = copy.deepcopy(log["runs"][0]["results"][0])
    second["locations"][0]["physicalLocation"]["region"].update({"startLine": 7, "endLine": 7, "startColumn": 5,
                                                                  "endColumn": 45})  # fmt: skip
    log["runs"][0]["results"].append(second)
    out = tmp / "gitleaks-two.sarif"
    out.write_text(json.dumps(log, indent=1))
    return out


def test_gitleaks_sarif_real_report() -> None:
    name, d = _auto(GITLEAKS)
    assert name == "sarif" and not d.dead
    (r,) = _rows(d)
    # rule, file, then the partial fingerprints in key order (author, commitMessage, commitSha, date, email)
    assert r["finding_info"]["uid"] == "test-rule|auth.py|John Doe|opps|0000000000000000|10-19-2003|johndoe@gmail.com"
    assert r["metadata"]["product"]["name"] == "gitleaks" and r["metadata"]["product"]["version"] == "v8.0.0"
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert (code["file"]["path"], code["start_line"], code["end_line"]) == ("auth.py", 1, 2)


def test_gitleaks_sarif_two_leaks_of_one_commit_stay_two(tmp_path: Path) -> None:
    path = _gitleaks_two_results(tmp_path)
    d = formats.get("sarif").decode(path.read_bytes(), str(path))
    uids = _fuids(d)
    assert uids == ["test-rule|auth.py|John Doe|opps|0000000000000000|10-19-2003|johndoe@gmail.com|auth.py:1:1",
                    "test-rule|auth.py|John Doe|opps|0000000000000000|10-19-2003|johndoe@gmail.com|auth.py:7:5"]
    counts, again = _lake_twice(tmp_path / "lake", [path])
    assert counts == {"application_security_posture_finding": (2, 2, 2)}
    assert again == {}


def test_sarif_identical_results_get_occurrence_numbers() -> None:
    """Two results equal in rule, fingerprint and location (a producer listing one leak twice):
    still two events, told apart by their occurrence."""
    res = {"ruleId": "r", "message": {"text": "m"}, "partialFingerprints": {"commitSha": "abc"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 3}}}]}
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gitleaks"}}, "results": [res, res]}]}
    d = formats.get("sarif").decode(json.dumps(log).encode(), "s")
    assert _fuids(d) == ["r|a.py|abc|a.py:3:None#1", "r|a.py|abc|a.py:3:None#2"]
    assert len({r["metadata"]["uid"] for r in _rows(d)}) == 2


# --------------------------------------------------------------------------------------
# Scanner reports: one finding in two places
# --------------------------------------------------------------------------------------


def test_snyk_all_projects_same_issue_in_two_projects(real: Path, tmp_path: Path) -> None:
    """snyk-to-html's nuget --all-projects report: SNYK-DOTNET-AZUREIDENTITY-6009155 through the
    same dependency path in two projects (BankAccounts.Database and Rules.Database)."""
    path = real / "snyk-to-html" / "test-report-nuget-multi-project.json"
    d = formats.get("snyk").decode(path.read_bytes(), str(path))
    chain = "DotNetMultiProject@1.0.0>Microsoft.EntityFrameworkCore.SqlServer@7.0.11>Microsoft.Data.SqlClient@5.1.1>Azure.Identity@1.7.0"
    assert _fuids(d) == [
        f"SNYK-DOTNET-AZUREIDENTITY-6009155|{chain}|SomeProject.RandomProject.BankAccounts.Database/obj/project.assets.json",
        "SNYK-DOTNET-MICROSOFTRESTCLIENTRUNTIME-5768475|DotNetMultiProject@1.0.0>Microsoft.Rest.ClientRuntime@2.3.18",
        f"SNYK-DOTNET-AZUREIDENTITY-6009155|{chain}|SomeProject.RandomProject.Rules.Database/obj/project.assets.json",
    ]
    counts, again = _lake_twice(tmp_path, [path])
    assert counts == {"vulnerability_finding": (3, 3, 3)} and again == {}


def test_trivy_same_cve_in_two_jars_of_one_target(real: Path, tmp_path: Path) -> None:
    """Trivy's spring4shell golden with the vulnerable jar also in a second WAR (Trivy lists one
    vulnerability per PkgPath in the ``Java`` target, PkgID absent), as a Trivy before the
    ``Fingerprint`` field writes it."""
    report = json.loads((real / "trivy" / "spring4shell-jre8.json.golden").read_bytes())
    java = next(r for r in report["Results"] if r["Target"] == "Java")
    java["Vulnerabilities"][0].pop("Fingerprint")
    other = copy.deepcopy(java["Vulnerabilities"][0])
    other["PkgPath"] = "usr/local/tomcat/webapps/other.war/WEB-INF/lib/spring-beans-5.3.15.jar"
    java["Vulnerabilities"].append(other)
    path = tmp_path / "two-jars.json"
    path.write_text(json.dumps(report))
    d = formats.get("trivy").decode(path.read_bytes(), str(path))
    vulns = [u for u in _fuids(d) if u.startswith("CVE-2022-22965|")]
    assert vulns == [
        "CVE-2022-22965|org.springframework:spring-beans|Java|usr/local/tomcat/webapps/helloworld.war/WEB-INF/lib/spring-beans-5.3.15.jar",
        "CVE-2022-22965|org.springframework:spring-beans|Java|usr/local/tomcat/webapps/other.war/WEB-INF/lib/spring-beans-5.3.15.jar",
    ]
    counts, again = _lake_twice(tmp_path / "lake", [path])
    assert all(rows == uids == fuids for rows, uids, fuids in counts.values()), counts
    assert again == {}


def test_sonarqube_key_repeated_in_one_answer() -> None:
    """DefectDojo's findings-over-API page: two different issues share the anonymized key
    ``fjioefjwoefisdfjo``; both are kept, told apart by their occurrence."""
    _, d = _auto("sonarqube-findings-over-api-defectdojo.json")
    assert _fuids(d) == ["fjioefjwoefijo", "asdfwfewfwefewf", "fjoiewfjoweifjoihugu-", "fjioefjwoefisdfjo#1",
                         "fjioefjwoefisdfjo#2"]  # fmt: skip


# --------------------------------------------------------------------------------------
# Alertmanager API v2: /api/v2/alerts and /api/v2/alerts/groups
# --------------------------------------------------------------------------------------

GROUPS = "karma-alertmanager-v2-alerts-groups.json"


def _flat_alerts() -> bytes:
    """The ``/api/v2/alerts`` answer of the same Alertmanager: each alert of the groups once."""
    seen: dict[str, Any] = {}
    for g in json.loads((CASES / GROUPS).read_bytes()):
        for a in g["alerts"]:
            seen.setdefault(a["fingerprint"], a)
    return json.dumps(list(seen.values()), indent=2).encode()


def test_alertmanager_api_groups_real_answer() -> None:
    name, d = _auto(GROUPS)
    assert name == "alertmanager" and not d.dead and d.events == 4
    rows = _rows(d)
    assert [r["finding_info"]["uid"] for r in rows] == ["aae7a1432b5d2f1b", "54c2f185e49cfccb", "5cb0dd95e7f3d9c0",
                                                         "aae7a1432b5d2f1b"]  # fmt: skip
    # the alert routed to two receivers is listed in two groups: two events of one finding
    assert len({r["metadata"]["uid"] for r in rows}) == 4
    assert all(r["class_uid"] == 2004 and r["activity_id"] == 1 for r in rows)
    assert [(r["status_id"], r["status"], r["status_detail"]) for r in rows] == [
        (1, "New", "active"), (3, "Suppressed", "suppressed"), (1, "New", "active"), (1, "New", "active")]
    r = rows[1]
    assert r["finding_info"]["title"] == "Example summary" and r["message"] == "Example summary"
    assert r["finding_info"]["analytic"]["name"] == "HTTP_Probe_Failed" and r["finding_info"]["analytic"]["type_id"] == 1
    assert r["time"] == 1709199592576  # startsAt 2024-02-29T09:39:52.576Z
    assert r["finding_info"]["modified_time"] == 1709199632627 == r["finding_info"]["last_seen_time"]  # updatedAt
    assert r["finding_info"]["src_url"] == "http://localhost/prometheus"
    assert {t["name"]: t["value"] for t in r["finding_info"]["tags"]}["instance"] == "web1"
    assert r["metadata"]["product"]["name"] == "Alertmanager" and r["metadata"]["log_name"] == "api/v2/alerts/groups"
    extra = json.loads(r["unmapped"])
    assert extra["status"]["silencedBy"] == ["b6beb8fc-bcd7-4b56-a0be-d2c15633600c"]
    assert extra["endsAt"] == "2024-02-29T09:45:32.627Z"  # the expected expiry, not an end: no end_time
    assert r.get("end_time") is None
    assert extra["receivers"] == [{"name": "by-cluster-service"}, {"name": "by-name"}]
    assert extra["group"] == {"labels": {"alertname": "HTTP_Probe_Failed"}, "receiver": {"name": "by-name"}}
    assert rows[0]["finding_info"]["title"] == "Free_Disk_Space_Too_Low"  # no summary annotation: the alert name


def test_alertmanager_api_alerts_flat_by_name_and_auto(tmp_path: Path) -> None:
    data = _flat_alerts()
    fmt = formats.detect(data[:65536])
    assert fmt is not None and fmt.name == "alertmanager"
    d = formats.get("alertmanager").decode(data, "alerts.json")
    assert not d.dead and d.events == 3
    assert _fuids(d) == ["aae7a1432b5d2f1b", "54c2f185e49cfccb", "5cb0dd95e7f3d9c0"]
    assert {r["metadata"]["log_name"] for r in _rows(d)} == {"api/v2/alerts"}
    path = tmp_path / "alerts.json"
    path.write_bytes(data)
    counts, again = _lake_twice(tmp_path / "lake", [path])
    assert counts == {"detection_finding": (3, 3, 3)} and again == {}
    compact = json.dumps(json.loads(data)).encode()  # the same answer, not indented: the same events
    assert [r["metadata"]["uid"] for r in _rows(formats.get("alertmanager").decode(compact, "x"))] == \
        [r["metadata"]["uid"] for r in _rows(d)]  # fmt: skip


def test_alertmanager_api_bad_items_dead_lettered() -> None:
    alert = json.loads(_flat_alerts())[0]
    bad_status = dict(alert, status="active")  # state must be an object
    data = json.dumps([alert, 7, {"labels": 3}, bad_status, {"alerts": "x", "labels": {}}]).encode()
    d = formats.get("alertmanager").decode(data, "s")
    assert d.events == 5 and len(_rows(d)) == 1
    reasons = sorted(x.reason for x in d.dead)
    assert len(reasons) == 4
    assert any("at `$.status`" in x for x in reasons) and any("at `$.labels`" in x for x in reasons)
    assert any(x.startswith("not an Alertmanager alert group") for x in reasons)
    empty = formats.get("alertmanager").decode(b"[]", "s")
    assert not empty.batches and len(empty.dead) == 1 and "empty array" in empty.dead[0].reason


@pytest.mark.parametrize("head", [b'[{"decision_id": "x", "labels": {}, "input": {}}]', b'[{"vulnerabilities": []}]'])
def test_alertmanager_api_sniff_leaves_other_arrays(head: bytes) -> None:
    assert formats.get("alertmanager").sniff(head) == 0


# --------------------------------------------------------------------------------------
# Syslog / journalctl: month names in any case and locale, journalctl's output modes
# --------------------------------------------------------------------------------------

# journalctl(1) OUTPUT OPTIONS, one line per mode (systemd 252-256 writes these headers), the
# marker lines it prints between entries, and localized ``%b`` months (glibc abmon of fr_FR,
# de_DE, ru_RU: what journalctl writes in those locales).
JOURNAL = """\
-- Logs begin at Wed 2026-11-25 05:30:37 UTC, end at Mon 2026-11-30 02:42:42 UTC. --
nov 29 03:24:00 web1 sshd[1234]: Accepted publickey for alice from 10.0.0.5 port 52311 ssh2
NOV 29 03:24:01 web1 sshd[1234]: Failed password for root from 10.0.0.6 port 52312 ssh2
Nov 29 03:24:02.123456 web1 sshd[1234]: Failed password for root from 10.0.0.6 port 52313 ssh2
2026-11-29T03:24:03+0100 web1 sshd[1234]: Failed password for bob from 10.0.0.7 port 52314 ssh2
2026-11-29T03:24:04.654321+01:00 web1 sudo[99]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls
Sun 2026-11-29 03:24:05 UTC web1 systemd[1]: Started Session 5 of user alice.
Sun 2026-11-29 04:24:06 CET web1 systemd[1]: Stopped Session 5 of user alice.
Sun 2026-11-29 04:24:06.500000 +0530 web1 systemd[1]: Reached target Timers.
1764386647.250000 web1 systemd[1]: Reached target Multi-User System.
[  123.456789] web1 kernel: Linux version 6.1.0
-- Boot 0123456789abcdef0123456789abcdef --
nov. 07 16:04:39 node1.tp2.linux systemd[1]: Starting vsftpd FTP server...
Okt 30 10:00:00 host1 sshd[5]: Accepted password for bob from 10.1.1.1 port 22 ssh2
ноя 29 10:00:01 host2 CRON[7]: (root) CMD (run-parts /etc/cron.hourly)
"""


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def test_journalctl_output_modes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from secpipe.formats import _syslog_header

    monkeypatch.setattr(_syslog_header, "_clock", lambda: _ms("2026-11-30T04:00:00+00:00") / 1000)
    data = JOURNAL.encode()
    fmt = formats.detect(data[:65536])
    assert fmt is not None and fmt.name == "syslog"
    d = fmt.decode(data, "journal.log")
    assert not d.dead and d.events == 15
    rows = sorted(_rows(d), key=lambda r: r["raw_data"] and data.index(r["raw_data"].encode()))
    assert len(rows) == 15
    got = [(r["time"] if not r["metadata"].get("labels") else None, (r.get("device") or {}).get("hostname"),
            ((r.get("actor") or {}).get("process") or {}).get("name")) for r in rows]  # fmt: skip
    assert got == [
        (None, None, None),  # marker: receipt time, no header
        (_ms("2026-11-29T03:24:00+00:00"), "web1", "sshd"),
        (_ms("2026-11-29T03:24:01+00:00"), "web1", "sshd"),
        (_ms("2026-11-29T03:24:02.123+00:00"), "web1", "sshd"),
        (_ms("2026-11-29T03:24:03+01:00"), "web1", "sshd"),
        (_ms("2026-11-29T03:24:04.654+01:00"), "web1", "sudo"),
        (_ms("2026-11-29T03:24:05+00:00"), "web1", "systemd"),
        (_ms("2026-11-29T04:24:06+01:00"), "web1", "systemd"),
        (_ms("2026-11-29T04:24:06.500+05:30"), "web1", "systemd"),
        (1764386647250, "web1", "systemd"),
        (None, "web1", "kernel"),  # short-monotonic: seconds since boot, no wall time
        (None, None, None),
        (_ms("2026-11-07T16:04:39+00:00"), "node1.tp2.linux", "systemd"),
        (_ms("2026-10-30T10:00:00+00:00"), "host1", "sshd"),
        (_ms("2026-11-29T10:00:01+00:00"), "host2", "CRON"),
    ]
    assert [r["class_uid"] for r in rows] == [0, 3002, 3002, 3002, 3002, 3002, 0, 0, 0, 0, 0, 0, 0, 3002, 0]
    assert rows[1]["user"]["name"] == "alice" and rows[1]["status_id"] == 1
    assert rows[2]["user"]["name"] == "root" and rows[2]["status_id"] == 2
    assert rows[11]["message"] == "Boot 0123456789abcdef0123456789abcdef"
    path = tmp_path / "journal.log"
    path.write_bytes(data)
    counts, again = _lake_twice(tmp_path / "lake", [path])
    assert sum(c[0] for c in counts.values()) == 15 and all(c[0] == c[1] for c in counts.values())
    assert again == {}


@pytest.mark.parametrize("line", ["Foo 29 03:24:00 web1 sshd[1]: x", "nov 29 03:24 web1 sshd[1]: x"])
def test_not_a_month_is_no_timestamp(line: str) -> None:
    # no BSD header: the whole line is the message (RFC 3164 4.3.3), with no host or program read from it
    d = formats.get("syslog").decode(line.encode(), "s")
    assert not d.dead and [b.num_rows for b in d.batches] == [1]
    row = d.batches[0].to_pylist()[0]
    assert row["message"] == line and row["device"] is None and row["actor"] is None


def test_gitleaks_7_sarif_every_leak_kept(tmp_path: Path) -> None:
    """Gitleaks 7 (DefectDojo's fixture): eight results naming no rule, the same key in one file
    at two lines and in two commits; each is its own finding, titled by its message."""
    name, d = _auto("gitleaks-7.5.0-defectdojo.sarif")
    assert name == "sarif" and not d.dead and d.events == 8
    rows = _rows(d)
    assert len({r["metadata"]["uid"] for r in rows}) == 8 and len({r["finding_info"]["uid"] for r in rows}) == 8
    assert [r["finding_info"]["title"] for r in rows[:3]] == ["AWS Access Key secret detected", "AWS Access Key secret detected",
                                                              "Asymmetric Private Key secret detected"]  # fmt: skip
    assert [r["vulnerabilities"][0]["affected_code"][0]["start_line"] for r in rows] == [13, 13, 13, 44, 37, 13, 44, 37]
    assert json.loads(rows[0]["unmapped"])["properties"]["commit"] == "6d127980966808f7413935678e079dcd7fedf9c2"
    counts, again = _lake_twice(tmp_path, [CASES / "gitleaks-7.5.0-defectdojo.sarif"])
    assert counts == {"application_security_posture_finding": (8, 8, 8)} and again == {}


def test_trivy_k8s_report_by_scanner(tmp_path: Path) -> None:
    """``trivy k8s`` before 0.40 (DefectDojo's fixture): per-scanner resource lists instead of
    ``Resources``; was dead-lettered as "no SchemaVersion". Each finding names its workload."""
    name, d = _auto("trivy-k8s-by-scanner-defectdojo.json")
    assert name == "trivy" and not d.dead and d.events == 5
    rows = _rows(d)
    assert sorted(r["class_uid"] for r in rows) == [2002, 2002, 2002, 2002, 2003]
    assert {(r["resources"][0]["type"], r["resources"][0]["name"], r["resources"][0]["namespace"]) for r in rows} == \
        {("Deployment", "redis-follower", "default")}  # fmt: skip
    vulns = [r for r in rows if r["class_uid"] == 2002]
    assert [r["vulnerabilities"][0]["cve"]["uid"] for r in vulns] == ["CVE-2020-27350", "CVE-2011-3374"] * 2
    (mis,) = [r for r in rows if r["class_uid"] == 2003]
    assert mis["compliance"]["control"] == "KSV014" and mis["finding_info"]["title"] == "Root file system is not read-only"
    # the Deployment is listed twice (byte-identical): both copies kept, told apart
    assert len({r["finding_info"]["uid"] for r in rows}) == 5
    counts, again = _lake_twice(tmp_path, [CASES / "trivy-k8s-by-scanner-defectdojo.json"])
    assert sum(c[0] for c in counts.values()) == 5 and all(c[0] == c[1] == c[2] for c in counts.values()) and again == {}
    # one image run by two workloads: the same CVE is a finding of each, named by its workload
    doc = json.loads((CASES / "trivy-k8s-by-scanner-defectdojo.json").read_bytes())
    doc["Vulnerabilities"][1]["Name"] = "redis-leader"
    uids = _fuids(formats.get("trivy").decode(json.dumps(doc).encode(), "k8s"))
    assert uids[0] == "CVE-2020-27350|apt|docker.io/redis:6.0.5 (debian 10.4)|None|1.8.2.1|Deployment/redis-follower"
    assert uids[2] == "CVE-2020-27350|apt|docker.io/redis:6.0.5 (debian 10.4)|None|1.8.2.1|Deployment/redis-leader"
