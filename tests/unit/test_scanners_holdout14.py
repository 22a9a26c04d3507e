"""Scanner formats against shapes found in the public repositories of the holdout (session 14).

Each case is built from a specification or from the shape of a public file (cited per test),
not from the file itself; expected values were written from the specification.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from secpipe import formats
from secpipe.formats.base import decode_document

_SCHEMA = "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.6.json"


def test_sarif_log_without_runs_holds_no_result() -> None:
    # SARIF 2.1.0 §3.13.4: `runs` is null when the tool failed before any run. sarif-sdk's
    # validator inputs (GH1013...MissingRunsArray_Invalid.sarif) hold a log with only $schema and
    # version: neither has a result to store, and neither is a damaged record.
    fmt = formats.get("sarif")
    for log in ({"$schema": _SCHEMA, "version": "2.1.0"}, {"$schema": _SCHEMA, "version": "2.1.0", "runs": None}):
        body = json.dumps(log, indent=2).encode()
        assert formats.detect(body) is fmt  # recognized by $schema and version alone
        res = decode_document(fmt, body, "t")
        assert not res.batches and not res.dead and res.events == 0


def test_sarif_external_property_file_is_not_a_log() -> None:
    # SARIF 2.1.0 §4: an external property file carries a run's results outside the log that
    # references it; read alone, its results have no tool or run: dead-lettered, with the reason.
    body = json.dumps({
        "$schema": "https://schemastore.azurewebsites.net/schemas/json/sarif-external-property-file-2.1.0.json",
        "version": "2.1.0", "guid": "00000000-0000-0000-0000-000000000001",
        "results": [{"ruleId": "X1", "message": {"text": "m"}}],
    }).encode()  # fmt: skip
    fmt = formats.get("sarif")
    res = decode_document(fmt, body, "t")
    assert not res.batches and len(res.dead) == 1
    assert "external property file" in res.dead[0].reason


def test_sarif_other_versions_without_runs_still_dead_lettered() -> None:
    body = json.dumps({"$schema": "http://json.schemastore.org/sarif-1.0.0", "version": "1.0.0"}).encode()
    fmt = formats.get("sarif")
    assert formats.detect(body) is fmt
    res = decode_document(fmt, body, "t")
    assert not res.batches and "SARIF version '1.0.0' is not supported" in res.dead[0].reason


_GO_ZERO = "0001-01-01T00:00:00Z"  # Go's zero time.Time: what a Go tool writes for a time it never set


def _trivy_report(created: str) -> bytes:
    # shape of aquasecurity/trivy integration/testdata/busybox-with-lockfile-and-location-data.json.golden
    vuln = {"VulnerabilityID": "CVE-2019-15542", "PkgID": "ammonia@1.9.0", "PkgName": "ammonia",
            "InstalledVersion": "1.9.0", "FixedVersion": ">= 2.1.0", "Status": "fixed", "Severity": "HIGH",
            "Title": "Uncontrolled recursion leads to abort in HTML serialization"}  # fmt: skip
    return json.dumps({
        "SchemaVersion": 2, "CreatedAt": created, "ArtifactName": "busybox.tar.gz", "ArtifactType": "container_image",
        "Results": [{"Target": "Cargo.lock", "Class": "lang-pkgs", "Type": "cargo", "Vulnerabilities": [vuln]}],
    }, indent=2).encode()  # fmt: skip


def test_trivy_go_zero_created_at_is_no_report_time() -> None:
    # Trivy's Report.CreatedAt is a time.Time: a report whose time was never set (a report built
    # by a library user, `trivy convert` of a report without one) carries Go's zero time.
    fmt = formats.get("trivy")
    before = int(time.time() * 1000)
    row = decode_document(fmt, _trivy_report(_GO_ZERO), "t").batches[0].to_pylist()[0]
    assert row["time"] >= before  # the receipt time, not year 1
    assert "secpipe:time_from_receipt" in row["metadata"]["labels"]
    dated = decode_document(fmt, _trivy_report("2021-08-25T12:20:30.000000005Z"), "t").batches[0].to_pylist()[0]
    assert dated["time"] == 1629894030000 and not dated["metadata"].get("labels")


def test_sarif_go_zero_invocation_time_is_no_run_time() -> None:
    log = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "gosec"}},
        "invocations": [{"executionSuccessful": True, "startTimeUtc": _GO_ZERO, "endTimeUtc": _GO_ZERO}],
        "results": [{"ruleId": "G101", "level": "error", "message": {"text": "Potential hardcoded credentials"}}],
    }]}  # fmt: skip
    before = int(time.time() * 1000)
    row = decode_document(formats.get("sarif"), json.dumps(log).encode(), "t").batches[0].to_pylist()[0]
    assert row["time"] >= before and "secpipe:time_from_receipt" in row["metadata"]["labels"]


def test_trivy_check_status_is_the_caption_of_its_status_id() -> None:
    # OCSF 1.8.0 check.status / compliance.status: "normalized to the caption of the status_id
    # value" (for Other, the source's word). Trivy writes Status PASS (--include-non-failures),
    # FAIL, and EXCEPTION (a check excepted by policy: dockerfile-rule-exception.json.golden).
    def misconf(avd: str, status: str) -> dict[str, object]:
        return {"Type": "Dockerfile Security Check", "ID": avd[4:].replace("-", ""), "AVDID": avd, "Title": "t",
                "Severity": "HIGH", "Status": status, "Layer": {}, "CauseMetadata": {"Provider": "Dockerfile"}}  # fmt: skip

    body = json.dumps({"SchemaVersion": 2, "ArtifactName": "fs", "ArtifactType": "filesystem", "Results": [
        {"Target": "Dockerfile", "Class": "config", "Type": "dockerfile", "Misconfigurations": [
            misconf("AVD-DS-0001", "PASS"), misconf("AVD-DS-0002", "FAIL"), misconf("AVD-DS-0026", "EXCEPTION")]}]})  # fmt: skip
    res = decode_document(formats.get("trivy"), body.encode(), "t")
    rows = sorted((r for b in res.batches for r in b.to_pylist()), key=lambda r: r["compliance"]["checks"][0]["uid"])
    got = [((c := r["compliance"])["status_id"], c["status"], c["checks"][0]["status_id"], c["checks"][0]["status"])
           for r in rows]  # fmt: skip
    assert got == [(1, "Pass", 1, "Pass"), (3, "Fail", 3, "Fail"), (99, "EXCEPTION", 99, "EXCEPTION")]


def test_sarif_prerelease_suppression_state_is_read_as_status() -> None:
    # sarif-2.1.0-rtm.4 and earlier (version "2.1.0", e.g. sarif-sdk converter outputs of 2019)
    # name a suppression's status `state`; rtm.5 renamed it (oasis-tcs/sarif-spec#449).
    def result(sups: list[dict[str, str]]) -> dict[str, object]:
        return {"ruleId": "X1", "level": "error", "message": {"text": "m"}, "suppressions": sups}

    log = {"$schema": "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.4.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "T"}}, "results": [
               result([{"kind": "inSource", "state": "rejected"}]), result([{"kind": "external", "state": "underReview"}]),
               result([{"kind": "inSource", "state": "accepted"}]), result([{"kind": "inSource"}])]}]}  # fmt: skip
    res = decode_document(formats.get("sarif"), json.dumps(log).encode(), "t")
    rows = [r for b in res.batches for r in b.to_pylist()]
    assert [r["status_id"] for r in sorted(rows, key=lambda r: r["finding_info"]["uid"])] == [1, 1, 3, 3]


def test_cyclonedx_go_zero_timestamp_is_no_report_time() -> None:
    # A CycloneDX BOM written by a Go tool (Trivy, cyclonedx-gomod, syft) whose metadata.timestamp
    # was never set carries Go's zero time, as Trivy's report CreatedAt does.
    case = Path(__file__).resolve().parents[1] / "cases" / "sbom" / "fluentd-multiple-lockfiles-short.cdx.json.golden"
    bom = json.loads(case.read_bytes())
    fmt = formats.get("sbom")
    dated = decode_document(fmt, json.dumps(bom).encode(), "t").batches[0].to_pylist()[0]
    assert dated["time"] == 1629894030000  # 2021-08-25T12:20:30+00:00
    bom["metadata"]["timestamp"] = _GO_ZERO
    before = int(time.time() * 1000)
    row = decode_document(fmt, json.dumps(bom).encode(), "t").batches[0].to_pylist()[0]
    assert row["time"] >= before and "secpipe:time_from_receipt" in row["metadata"]["labels"]


def test_sarif_pass_result_is_resolved_not_new() -> None:
    # SARIF §3.27.9: kind "pass" means the rule was evaluated and no problem was found (compliance
    # tools such as CIS-CAT report every check so). It is no open finding: status Resolved, as a
    # Trivy misconfiguration with Status PASS; "fail" (and no kind) stays New, suppression wins.
    results = [{"ruleId": "1.1", "kind": "pass", "message": {"text": "ok"}},
               {"ruleId": "1.2", "kind": "fail", "level": "error", "message": {"text": "bad"}},
               {"ruleId": "1.3", "message": {"text": "bad"}},
               {"ruleId": "1.4", "kind": "pass", "message": {"text": "ok"},
                "suppressions": [{"kind": "external"}]}]  # fmt: skip
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CIS-CAT"}}, "results": results}]}
    rows = decode_document(formats.get("sarif"), json.dumps(log).encode(), "t").batches[0].to_pylist()
    got = {r["finding_info"]["analytic"]["uid"]: (r["status_id"], r["status"]) for r in rows}
    assert got == {"1.1": (4, "Resolved"), "1.2": (1, "New"), "1.3": (1, "New"), "1.4": (3, "Suppressed")}
