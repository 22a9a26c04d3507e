"""OCSF 1.8.0 conformance of everything secpipe stores (issue #3: "every event as OCSF").

Every real sample (../shared/data/real, the files ``secpipe ingest --format auto`` reads: JSON,
NDJSON, logs, SARIF, gzip; not the Sigma rules, threat-intel feeds or MaxMind databases, which
are no events) and the repo's own test cases are ingested once per module into a lake, with the
native extension and again without it, and the stored Parquet tables are checked by
:mod:`secpipe.schema.conformance` (required attributes, enum ids, captions, type_uid).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from secpipe.formats import _fast
from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from secpipe.schema.conformance import check_lake, check_rows
from tests.conftest import CASES, REAL

_SUFFIXES = (".json", ".jsonl", ".log", ".golden", ".sarif", ".ndjson", ".json.gz")
_NOT_EVENTS = ("sigma", "threat-intel", "maxmind")
_CASE_DIRS = ("cicd", "holdout", "sonarqube", "sbom", "compliance_report", "runtime27")

_ENDPOINT = "constraint at_least_one ['name', 'uid'] none present"

#: problems the source cannot avoid: (message, the products allowed to have it) -> why. A gap
#: that appears for another product, or another problem, fails the test.
ALLOWED: dict[tuple[str, frozenset[str]], str] = {
    ("required privileges missing", frozenset({"GitHub"})):
        # octokit's member webhooks: 'added' without ``changes`` and 'edited' with only the old
        # permission name no permission the user now holds; inventing one would be false
        "the payload names no granted permission",
    (f"src_endpoint {_ENDPOINT}", frozenset({"CloudTrail", "GitHub", "GitLab", "Kubernetes", "Open Policy Agent", "Snyk",
                                             "Azure Monitor", "Entra ID", "Google Cloud Audit Logs", "syslog", "Jenkins",
                                             "Gatekeeper"})):
        # the compiled OCSF 1.8.0 endpoint (and device) objects carry _entity's constraint
        # (name or uid); these sources name an endpoint by its address or hostname only
        "the source names the endpoint by address only",
    (f"dst_endpoint {_ENDPOINT}", frozenset({"syslog", "Open Policy Agent"})):
        # sshd's server; the service an Envoy ext_authz check is for (input.attributes.destination)
        "the source names the server by address and port only",
    (f"device {_ENDPOINT}", frozenset({"syslog", "Falco", "Generic JSON"})): "the source names the device by hostname only",
    ("actor.process constraint at_least_one ['pid', 'uid', 'cpid'] none present", frozenset({"syslog"})):
        "a syslog TAG names the process without a pid",
    ("evidences.process constraint at_least_one ['pid', 'uid', 'cpid'] none present", frozenset({"Falco"})):
        "the alert's output fields name the process without a pid",
    (f"evidences.src_endpoint {_ENDPOINT}", frozenset({"Falco", "syslog"})):
        "fd.cip, a firewall's srcip name the client by address only",
    (f"evidences.dst_endpoint {_ENDPOINT}", frozenset({"Falco", "syslog"})):
        "fd.sip, a firewall's dstip name the server by address only",
    ("required evidences.container.image.uid missing", frozenset({"Falco"})):
        "the alert names the image by repository and tag, without container.image.id",
    (f"resources {_ENDPOINT}", frozenset({"CloudTrail", "Kubernetes"})):
        # CloudTrail resources[] entries with type and accountId but no ARN; k8s requests on a
        # collection (list pods in a namespace) name no object
        "the source names the resource's type, not the resource",
    (f"resources.owner {_ENDPOINT}", frozenset({"CloudTrail"})): "the owner is named by its account id only",
    ("required user missing", frozenset({"syslog"})):
        # pam_unix "authentication failure; logname= uid=0 ... rhost=x" lines without ``user=``
        # (LogHub's sshd logs): uid=0 is sshd's own uid, not the account tried
        "the line names no account",
    ("required api.operation missing", frozenset({"Kubernetes"})): "falco's test traces hold events without a verb",
    ("required cloud missing", frozenset({"GitHub", "GitLab", "Kubernetes", "Open Policy Agent", "Snyk", "Jenkins",
                                          "Gatekeeper"})):
        # OCSF 1.8.0 tags ``api`` with the cloud profile, so an event carrying api lists the
        # profile (else a validator reports api as unknown), and the profile requires cloud
        "the source names no cloud provider",
    ("required device missing", frozenset({"GitHub", "GitLab"})):
        # ``actor`` is a host-profile attribute; Scheduled Job Activity then requires the device
        "a workflow event does not name the runner's device",
    ("vulnerabilities constraint just_one ['advisory', 'cve', 'cwe'] 0 present",
     frozenset({"Gitleaks", "SonarQube", "StaticDriverVerifier"})):
        # a code finding's rule is its advisory (SARIF, SonarQube, GitLab SAST, GitHub code scanning);
        # these name none: gitleaks 7's SARIF results (tests/cases/holdout/gitleaks-7.5.0-defectdojo.sarif),
        # the hotspots of SonarQube's Web API example (no ruleKey), sarif-sdk's StaticDriverVerifier result
        "a code finding naming no rule, CVE or CWE",
    ("vulnerabilities constraint just_one ['advisory', 'cve', 'cwe'] 0 present", frozenset({"Trivy"})):
        "a Trivy vulnerability without VulnerabilityID (tests/cases/holdout/trivy-legacy-mix.json)",
    ("required vulnerabilities.affected_packages.version missing", frozenset({"Trivy"})):
        "a Trivy vulnerability without InstalledVersion (tests/cases/holdout/trivy-legacy-mix.json)",
}  # fmt: skip


def _allowed(key: tuple[str, str, str]) -> bool:
    _cls, product, msg = key
    return any(msg == m and product in products for m, products in ALLOWED)


def _corpus() -> list[str]:
    if not REAL.is_dir():
        pytest.fail(f"real samples not found at {REAL}: the shared/ folder must sit beside the repo")
    files = [p for p in REAL.rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES)
             and not any(part in _NOT_EVENTS for part in p.relative_to(REAL).parts)]  # fmt: skip
    for d in _CASE_DIRS:
        files += [p for p in (CASES / d).rglob("*") if p.is_file() and p.suffix not in (".md", ".yml", ".yaml")
                  and not p.name.startswith("expected")]  # fmt: skip
    return sorted(map(str, files))


@pytest.fixture(scope="module", params=["native", "python"])
def lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Pipeline]]:
    """A data dir holding every sample, ingested with (``native``) or without the extension."""
    data = tmp_path_factory.mktemp(f"ocsf_{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        if request.param == "python":
            mp.setenv("SECPIPE_NATIVE", "0")
        _fast._module.cache_clear()
        try:
            pipe = Pipeline(data)
            ingest_files(pipe, _corpus(), "auto")
            pipe.flush()
        finally:
            mp.undo()
            _fast._module.cache_clear()
    yield data, pipe


def test_every_stored_event_conforms(lake: tuple[Path, Pipeline]) -> None:
    data, pipe = lake
    assert sum(pipe.totals.stored.values()) > 1500  # the corpus really was ingested
    found = check_lake(data)
    unexpected = {k: n for k, n in found.items() if not _allowed(k)}
    assert unexpected == {}
    # every event lists its profiles, datetime at least (time_dt is always filled)
    import pyarrow.parquet as pq

    for cdir in (data / "lake").iterdir():
        profiles = pq.read_table(cdir, columns=["metadata"]).column("metadata").combine_chunks().field("profiles")
        assert profiles.null_count == 0 and all("datetime" in p for p in profiles.to_pylist()), cdir.name


def test_checker_reports_each_kind_of_problem() -> None:
    # a hand-written Compliance Finding with one problem of every kind the sweep knows
    row = {
        "class_uid": 2003, "activity_id": 1, "type_uid": 200302, "category_uid": 2, "severity_id": 9,
        "time": 0, "metadata": {"version": "1.8.0"},
        "finding_info": {"uid": "x"},
        "compliance": {"checks": [{"severity_id": 4, "severity": "HIGH"}, {"severity_id": 99, "severity": "odd"}]},
        "remediation": {"references": ["https://example.org"]},
    }  # fmt: skip
    got = check_rows("compliance_finding", [row])
    assert got == {
        "type_uid != class_uid*100+activity_id": 1,
        "severity_id=9 not in enum": 1,
        "compliance.checks.severity_id=4 caption 'HIGH' != 'High'": 1,  # 99 Other keeps its word
        "required remediation.desc missing": 1,
        "required metadata.product missing": 1,
    }
    # the cloud profile's required attribute counts only where the event applies the profile
    assert "required cloud missing" not in got
    row["metadata"]["profiles"] = ["cloud"]
    assert check_rows("compliance_finding", [row])["required cloud missing"] == 1
    assert check_rows("no_such_class", [row]) == {"unknown class": 1}


def _rows(data: Path, cls: str, product: str) -> list[dict]:
    import pyarrow.parquet as pq

    rows = pq.read_table(data / "lake" / cls).to_pylist()
    return [r for r in rows if r["metadata"]["product"]["name"] == product]


def test_fixed_mappings_keep_what_the_source_says(lake: tuple[Path, Pipeline]) -> None:
    data, _pipe = lake
    # Snyk unmanaged C/C++ issue: no "version" key; the name ends with it
    # ("name": "https://ftp.gnu.org|cpio@2.12", test-report-unmanaged-cpp.json)
    cpio = [r for r in _rows(data, "vulnerability_finding", "Snyk")
            if json.loads(r["raw_data"]).get("id") == "SNYK-UNMANAGED-CPIO-2319543"]  # fmt: skip
    assert cpio and all(r["vulnerabilities"][0]["affected_packages"][0]["version"] == "2.12" for r in cpio)
    assert all(r["vulnerabilities"][0]["cve"]["cwe"]["uid"] == "CWE-59" for r in cpio)
    # Trivy misconfiguration check: Severity "HIGH" -> severity_id 4, caption "High"
    checks = [r["compliance"]["checks"][0] for r in _rows(data, "compliance_finding", "Trivy")]
    assert {"severity_id": 4, "severity": "High"}.items() <= next(c for c in checks if c["severity_id"] == 4).items()
    # GitHub webhooks: no caller address -> src_endpoint type Unknown, no ip
    gh = _rows(data, "api_activity", "GitHub")
    hooks = [r for r in gh if r["api"]["service"]["name"] == "GitHub webhooks"]
    assert hooks and all(r["src_endpoint"]["type_id"] == 0 and r["src_endpoint"]["ip"] is None for r in hooks)
    # branch_protection_rule -> entity.type_id 5 Policy
    ents = [r for r in _rows(data, "entity_management", "GitHub") if r["metadata"]["event_code"] == "branch_protection_rule"]
    assert ents and all((r["entity"]["type_id"], r["entity"]["type"]) == (5, "Policy") for r in ents)
    # workflow runs: run_state is the OCSF caption, the file a Regular File
    jobs = _rows(data, "scheduled_job_activity", "GitHub")
    states = {(r["job"]["run_state_id"], r["job"]["run_state"]) for r in jobs}
    assert {(2, "Queued"), (4, "Stopped")} <= states and all(s[1] in {"Ready", "Queued", "Running", "Stopped"} for s in states)
    files = [r["job"]["file"] for r in jobs if r["job"].get("file")]
    assert files and all(f["type_id"] == 1 and f["name"] for f in files)
