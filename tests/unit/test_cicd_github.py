"""GitHub format: golden webhook and audit-log events, event-type inference, dead letters.

Expected values were written by reading each source payload (octokit/webhooks payload
examples, MIT; Panther's GitHub.Audit test events, Apache-2.0) and the OCSF 1.8.0 classes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from secpipe.formats import detect
from secpipe.formats.base import TIME_FROM_RECEIPT
from secpipe.formats.github import GitHub, event_hint, infer_event
from secpipe.schema.ocsf import validate_batch

HOOKS = "octokit-webhooks/payload-examples/api.github.com"


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def one(real: Path, rel: str, source: str | None = None) -> dict:
    path = real / HOOKS / rel
    dec = GitHub().decode(path.read_bytes(), source or str(path))
    assert dec.dead == [] and dec.events == 1
    (batch,) = dec.batches
    (row,) = batch.to_pylist()
    return row


def test_push_deleting_a_tag(real: Path) -> None:
    ev = one(real, "push/payload.json")
    assert (ev["class_uid"], ev["activity_id"], ev["type_uid"]) == (6003, 4, 600304)  # deleted: true
    assert ev["time"] == 1557933657 * 1000  # repository.pushed_at (epoch seconds in push payloads)
    assert ev["actor"]["user"] == {"name": "Codertocat", "uid": "21031067", "type_id": 1, "type": "User"}  # sender.type User
    assert ev["api"]["operation"] == "push" and ev["metadata"]["event_code"] == "push"
    repo, ref = ev["resources"]
    assert repo["type"] == "repository" and repo["name"] == "Codertocat/Hello-World" and repo["uid"] == "186853002"
    assert ref["type"] == "git_ref" and ref["name"] == "refs/tags/simple-tag" and ref["uid"] == "0" * 40
    assert ev["message"] == "Codertocat pushed 0 commit(s) to refs/tags/simple-tag"
    unmapped = json.loads(ev["unmapped"])
    assert unmapped["before"] == "6113728f27ae82c7b1a177c8d03f9e96e0adf246" and unmapped["deleted"] is True


def test_secret_scanning_alert_is_a_detection_finding(real: Path) -> None:
    ev = one(real, "secret_scanning_alert/reopened.payload.json")
    assert ev["class_uid"] == 2004 and ev["activity_id"] == 2  # reopened: Update
    assert ev["severity_id"] == 4  # exposed secret: High by default
    fi = ev["finding_info"]
    assert fi["uid"] == "Codertocat/Hello-World/secret-scanning/191"
    assert fi["title"] == "Secret detected: adafruit_io_key"
    assert fi["types"] == ["secret_scanning", "adafruit_io_key"]
    assert ev["status_id"] == 1 and ev["status"] == "New"  # reopened
    assert TIME_FROM_RECEIPT in ev["metadata"]["labels"]  # the payload carries no time


def test_code_scanning_alert_created(real: Path) -> None:
    ev = one(real, "code_scanning_alert/created.payload.json")
    assert ev["class_uid"] == 2002 and ev["activity_id"] == 1
    assert ev["time"] == ms("2021-02-11T03:10:43Z")
    assert ev["severity_id"] == 4  # rule.severity "error"
    assert ev["finding_info"]["uid"] == "Codertocat/Hello-World/code-scanning/10"
    assert ev["finding_info"]["title"] == "Query built from user-controlled sources"
    assert ev["finding_info"]["analytic"]["uid"] == "java/sql-injection"
    (v,) = ev["vulnerabilities"]
    assert v["vendor_name"] == "CodeQL" and v["severity"] == "error"
    assert ev["status_id"] == 1


def test_dependabot_alert_created(real: Path) -> None:
    ev = one(real, "dependabot_alert/created.payload.json")
    assert ev["class_uid"] == 2002 and ev["activity_id"] == 1 and ev["severity_id"] == 3  # medium
    assert ev["time"] == ms("2023-06-24T13:57:12Z")
    (v,) = ev["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2022-25883"
    assert v["cve"]["cvss"][0]["base_score"] == 5.3
    assert v["cve"]["cvss"][0]["vector_string"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"
    # OCSF 1.8.0: just one of cve / advisory / cwe; the CVE's weakness is cve.cwe, the GHSA a related id
    assert v["related_vulnerabilities"] == ["GHSA-c2qf-rxjj-qqgw"] and "advisory" not in v and "cwe" not in v
    assert v["cve"]["cwe"]["uid"] == "CWE-1333"
    assert "affected_packages" not in v  # OCSF requires the installed version, which an alert never names
    pkg = json.loads(ev["unmapped"])["affected_package"]
    assert pkg["name"] == "semver" and pkg["package_manager"] == "npm" and pkg["fixed_in_version"] == "7.5.2"
    assert pkg["vulnerable_version_range"] == "< 7.5.2"
    assert pkg["path"] == "package-lock.json"
    assert v["is_fix_available"] is True
    assert ev["finding_info"]["uid"] == "wolfy1339/pika-pack/dependabot/20"


def test_repository_vulnerability_alert(real: Path) -> None:
    ev = one(real, "repository_vulnerability_alert/create.payload.json")
    assert ev["class_uid"] == 2002 and ev["activity_id"] == 1 and ev["severity_id"] == 3  # moderate
    (v,) = ev["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2018-16470" and v["related_vulnerabilities"] == ["GHSA-qqgx-2p2h-9c37"]
    assert "advisory" not in v  # just one of cve / advisory / cwe (OCSF 1.8.0)
    assert "affected_packages" not in v  # no installed version: the package goes to unmapped
    pkg = json.loads(ev["unmapped"])["affected_package"]
    assert pkg == {"name": "rack", "fixed_in_version": "2.0.6", "vulnerable_version_range": ">= 2.0.4, < 2.0.6"}
    assert ev["time"] == ms("2021-03-01T01:23:45Z")


def test_member_added_is_user_access_management(real: Path) -> None:
    ev = one(real, "member/added.payload.json")
    assert ev["class_uid"] == 3005 and ev["activity_id"] == 1 and ev["activity_name"] == "Assign Privileges"
    assert ev["user"]["name"] == "hacktocat" and ev["user"]["uid"] == "39652351"
    assert ev["resource"]["name"] == "Codertocat/Hello-World" and ev["resource"]["type"] == "repository"


def test_organization_member_added_is_group_management(real: Path) -> None:
    ev = one(real, "organization/member_added.payload.json")
    assert ev["class_uid"] == 3006 and ev["activity_id"] == 3 and ev["activity_name"] == "Add User"
    assert ev["group"]["name"] == "Octocoders" and ev["group"]["uid"] == "38302899"
    assert ev["group"]["type"] == "organization"
    assert ev["user"]["name"] == "hacktocat"
    assert ev["actor"]["user"]["name"] == "Codertocat"


def test_workflow_run_completed_is_scheduled_job_activity(real: Path) -> None:
    ev = one(real, "workflow_run/completed.payload.json")
    assert ev["class_uid"] == 1006 and ev["activity_id"] == 2
    assert ev["time"] == ms("2020-10-05T16:33:49Z")
    job = ev["job"]
    assert job["name"] == "test" and job["file"]["path"] == ".github/workflows/test.yml"
    assert job["run_state_id"] == 4 and job["last_run_time"] == ms("2020-10-05T16:33:49Z")
    assert job["created_time"] == ms("2020-10-05T16:33:24Z") and job["user"]["name"] == "Codertocat"
    assert ev["status_id"] == 1 and ev["status_detail"] == "success"
    assert ev["metadata"]["correlation_uid"] == "289782451"


def test_deployment_status_is_application_lifecycle(real: Path) -> None:
    ev = one(real, "deployment_status/payload.json")
    assert ev["class_uid"] == 6002 and ev["activity_id"] == 1 and ev["activity_name"] == "Install"
    assert ev["app"]["name"] == "Codertocat/Hello-World" and ev["app"]["uid"] == "145988746"
    assert ev["app"]["version"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert ev["app"]["feature"]["name"] == "production"
    assert ev["status_id"] == 1 and ev["status_detail"] == "success"
    assert ev["time"] == ms("2019-05-15T15:20:55Z")


def test_branch_protection_rule_is_entity_management(real: Path) -> None:
    ev = one(real, "branch_protection_rule/created.payload.json")
    assert ev["class_uid"] == 3004 and ev["activity_id"] == 1
    ent = ev["entity"]
    assert ent["name"] == "production" and ent["uid"] == "21796960" and ent["type_id"] == 5
    assert json.loads(ent["data"]) == {"repository": "octo-org/octo-repo"}
    assert ev["time"] == ms("2021-08-19T12:16:32.000-04:00")


def test_header_hint_overrides_inference(real: Path) -> None:
    ev = one(real, "push/payload.json", source="http:/github/webhook;github-event=push")
    assert ev["metadata"]["event_code"] == "push"
    ev = one(real, "watch/started.payload.json", source="http:/github;github-event=star")
    assert ev["metadata"]["event_code"] == "star" and ev["api"]["operation"] == "star.started"
    assert event_hint("x;github-event=workflow_run&y=1") == "workflow_run" and event_hint("x") is None


def test_every_octokit_payload_infers_its_event_type(real: Path) -> None:
    files = sorted((real / HOOKS).glob("*/*.json"))
    assert len(files) > 250
    wrong = []
    for f in files:
        keys = json.loads(f.read_bytes()).keys()
        dec = GitHub().decode(f.read_bytes(), str(f))
        assert dec.dead == [], f
        got = dec.batches[0].column("metadata").to_pylist()[0]["event_code"]
        if got != f.parent.name:
            wrong.append((f.name, f.parent.name, got, sorted(keys)))
    assert wrong == []
    assert infer_event({"zen", "hook", "hook_id"}) == "ping"


def test_audit_log_git_clone(real: Path) -> None:
    src = real / "panther-analysis/extracted/github_audit.jsonl"
    line = next(x for x in src.read_bytes().splitlines() if b'"actor_ip": "5.6.7.8"' in x)
    dec = GitHub().decode(line, "t")
    (ev,) = dec.batches[0].to_pylist()
    assert ev["class_uid"] == 6003 and ev["activity_id"] == 2  # git.clone reads
    assert ev["api"]["operation"] == "git.clone" and ev["api"]["service"]["name"] == "git"
    assert ev["actor"]["user"] == {"name": "acme-inc-user", "uid": "123456789"}
    assert ev["src_endpoint"]["ip"] == "5.6.7.8" and ev["src_endpoint"]["location"]["country"] == "US"
    assert ev["http_request"]["user_agent"] == "git/2.30.2"
    assert ev["metadata"]["original_event_uid"] == "KCYtigpnShPBSohA4OXbRg=="
    assert ev["resources"][0] == {"type": "repository", "name": "acme-inc/a-repo", "uid": None}
    assert ev["time"] == ms("2023-11-20T21:20:09.423+00:00")  # at_sign_timestamp, taken as UTC
    unmapped = json.loads(ev["unmapped"])
    assert unmapped["hashed_token"] == "0771cae4d170dc02a6ff393d9946cd684d6145c1="


def test_audit_log_times(real: Path) -> None:
    lines = (real / "panther-analysis/extracted/github_audit.jsonl").read_bytes().splitlines()
    at = next(x for x in lines if b'"@timestamp": 1623971719091' in x)
    (ev,) = GitHub().decode(at, "t").batches[0].to_pylist()
    assert ev["time"] == 1623971719091
    created = next(x for x in lines if b'"created_at": "2022-08-16 16:56:49.309"' in x)
    (ev,) = GitHub().decode(created, "t").batches[0].to_pylist()
    assert ev["time"] == ms("2022-08-16T16:56:49.309+00:00")
    assert ev["actor"]["user"]["name"] == "bobert"


def test_whole_audit_file_and_schema(real: Path) -> None:
    data = (real / "panther-analysis/extracted/github_audit.jsonl").read_bytes()
    dec = GitHub().decode(data, "t")
    assert dec.dead == [] and sum(b.num_rows for b in dec.batches) == 60
    for b in dec.batches:
        assert validate_batch("api_activity", b.schema) == []


def test_every_written_field_exists_in_its_class(real: Path) -> None:
    from secpipe.schema.ocsf import class_name_of

    for f in sorted((real / HOOKS).glob("*/*.json")):
        for b in GitHub().decode(f.read_bytes(), str(f)).batches:
            cls = class_name_of(b.column("class_uid")[0].as_py())
            assert validate_batch(cls, b.schema) == [], f


def test_sniff(real: Path) -> None:
    for rel in ("push/payload.json", "secret_scanning_alert/reopened.payload.json", "security_advisory/published.payload.json"):
        assert detect((real / HOOKS / rel).read_bytes()[:65536]).name == "github", rel
    assert detect((real / "panther-analysis/extracted/github_audit.jsonl").read_bytes()[:65536]).name == "github"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"hello": "world"}', "not a GitHub webhook payload"),
        (b'{"action": "opened", "sender": "not-an-object", "repository": 5}', "not a GitHub webhook payload"),
        (b"{not json", "invalid JSON"),
        (b"{}", "not a GitHub webhook payload"),
    ],
)
def test_dead_letters(body: bytes, reason: str) -> None:
    dec = GitHub().decode(body, "t")
    assert dec.batches == [] and len(dec.dead) == 1
    assert reason in dec.dead[0].reason and dec.dead[0].raw


def test_bad_record_does_not_sink_the_batch(real: Path) -> None:
    good = json.dumps(json.loads((real / HOOKS / "push/payload.json").read_bytes())).encode()
    dec = GitHub().decode(good + b'\n{"x": 1}\n' + good.replace(b'"Codertocat"', b'"Other"', 1), "t")
    assert sum(b.num_rows for b in dec.batches) == 2 and len(dec.dead) == 1 and dec.events == 3
