"""SigmaHQ's GCP and Azure cloud rules over the records secpipe stores (twenty-fourth round).

Google Cloud Audit Logs ``LogEntry`` records and Azure Monitor Activity Log records are read by
the ``k8s_audit`` format (``secpipe.formats._cloud_audit``: GKE's and AKS's audit streams carry
them), so their ``metadata.log_name`` is ``k8s_audit``. SigmaHQ's ``product: gcp`` and
``product: azure, service: activitylogs`` rules were routed to the catch-all ``json`` format only,
and none of them fired on such a record. SigmaHQ's ``gcp.audit`` rules also name the fields as
Elastic's GCP integration renames them (``gcp.audit.method_name`` for the AuditLog's
``methodName``, Filebeat's gcp ``audit`` pipeline) or as a Pub/Sub message's ``data`` holds the
``LogEntry`` (``data.protoPayload.serviceName``); a Cloud Audit Logs export gives the ``LogEntry``
itself (``protoPayload.methodName``).

Rules: tests/cases/sigma_holdout (SigmaHQ/sigma, see SOURCE.md "Round 24 (sigma)"). Events: real
samples where one exists (Elastic's GCP audit pipeline test ``test-iamcredentials-googleapis-com.log``,
Panther's ``k8s_ioc_activity`` test logs in tests/cases/holdout), else a ``LogEntry`` / Activity Log
record written as the clouds' references document them (AuditLog ``methodName``,
``authorizationInfo[].granted``; Activity Log ``operationName``, ``resultType``).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.engine import RuleSet

CASES = Path(__file__).resolve().parents[1] / "cases"
RULES = CASES / "sigma_holdout"
T0 = 1795946400.0  # 2026-11-29T10:00:00Z


def _correlated(rs: RuleSet, fmt: str, body: bytes, now: float) -> int:
    """Correlation findings of ``rs`` over ``body`` read by format ``fmt``, at clock ``now``."""
    eng = CorrelationEngine(rs, None, clock=lambda: now)
    n = 0
    for b in formats.get(fmt).decode(body, "t").batches:
        out = eng.process(b, rs.matches(b))
        n += 0 if out is None else out.num_rows
    return n


def _log_entry(method: str, service: str, *, permission: str | None = None, granted: bool = True,
               principal: str = "alice@example.com", i: int = 0) -> dict:
    """A Cloud Audit Logs LogEntry with an AuditLog protoPayload (admin activity)."""
    return {"insertId": f"id{i}", "logName": "projects/proj-1/logs/cloudaudit.googleapis.com%2Factivity",
            "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "status": {},
                             "authenticationInfo": {"principalEmail": principal},
                             "requestMetadata": {"callerIp": "203.0.113.9", "callerSuppliedUserAgent": "gcloud"},
                             "serviceName": service, "methodName": method,
                             "authorizationInfo": [{"permission": permission or method, "granted": granted,
                                                    "resource": "projects/proj-1"}],
                             "resourceName": "projects/proj-1"},
            "resource": {"type": "audited_resource", "labels": {"project_id": "proj-1"}},
            "timestamp": f"2026-11-29T10:00:{i:02d}Z", "severity": "NOTICE"}


def _activity(operation: str) -> dict:
    """An Azure Monitor Activity Log record (diagnostic settings' schema)."""
    return {"time": "2026-11-29T10:00:00.0000000Z", "operationName": operation, "category": "Administrative",
            "resourceId": "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG1/PROVIDERS/"
                          "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1",
            "resultType": "Success", "callerIpAddress": "203.0.113.9", "correlationId": "c1",
            "identity": {"claims": {"name": "alice@contoso.com"}}, "level": "Information"}


def _hits(rule: str, body: bytes, fmt: str = "k8s_audit") -> list[int]:
    """Rows of the decoded body the rule matches (both evaluation paths agree)."""
    rs = load_rules([RULES / rule])
    assert not rs.unsupported, rs.unsupported
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead, dec.dead
    rows: list[int] = []
    ref = RuleSet(rs.rules, distinct_values=False)
    base = 0
    for b in dec.batches:
        got = sorted(rs.matches(b).column("row").to_pylist())
        assert got == sorted(ref.matches(b).column("row").to_pylist())
        rows += [base + r for r in got]
        base += b.num_rows
    return rows


def _ndjson(events: list[dict]) -> bytes:
    return b"\n".join(msgspec.json.encode(e) for e in events)


def test_gcp_rule_routes_to_cloud_audit_records() -> None:
    rs = load_rules([RULES / "gcp_kubernetes_secrets_modified_or_deleted.yml"])
    assert rs.rules[0].formats == ("json", "k8s_audit")
    assert "Google Cloud Audit Logs records" in rs.rules[0].warnings[0]


def test_gke_secret_change_fires_on_the_log_entry() -> None:
    events = [_log_entry("io.k8s.core.v1.secrets.delete", "k8s.io", i=0),
              _log_entry("io.k8s.core.v1.secrets.get", "k8s.io", i=1),  # a read, no change
              _log_entry("io.k8s.core.v1.secrets.patch", "k8s.io", i=2),
              _log_entry("io.k8s.core.v1.configmaps.delete", "k8s.io", i=3)]
    assert _hits("gcp_kubernetes_secrets_modified_or_deleted.yml", _ndjson(events)) == [0, 2]
    # an Elastic-shaped document (the rule's own field names) still matches, as json
    elastic = {"gcp": {"audit": {"method_name": "io.k8s.core.v1.secrets.create"}}}
    assert _hits("gcp_kubernetes_secrets_modified_or_deleted.yml", _ndjson([elastic]), "json") == [0]


def test_gcp_rules_on_panther_samples() -> None:
    # Panther's k8s_ioc_activity test logs: a GKE pods.list, a compute instances.list, EKS and AKS
    # Events and an Azure Activity record; no bucket, secret or impersonation method among them
    body = (CASES / "holdout" / "k8s_ioc_activity.jsonl").read_bytes()
    for rule in ("gcp_kubernetes_secrets_modified_or_deleted.yml", "gcp_bucket_enumeration.yml",
                 "gcp_service_account_impersonation.yml", "azure_network_security_modified_or_deleted.yml"):
        assert _hits(rule, body) == [], rule


def test_data_protopayload_names_read_the_log_entry() -> None:
    # SigmaHQ gcp_access_policy_deleted names the LogEntry of a Pub/Sub message's data
    perm = "accesscontextmanager.accessPolicies.accessLevels.delete"
    events = [_log_entry("google.identity.accesscontextmanager.v1.AccessContextManager.DeleteAccessLevel",
                         "accesscontextmanager.googleapis.com", permission=perm, i=0),
              _log_entry("google.identity.accesscontextmanager.v1.AccessContextManager.DeleteAccessLevel",
                         "accesscontextmanager.googleapis.com", permission=perm, granted=False, i=1),  # denied
              _log_entry("google.identity.accesscontextmanager.v1.AccessContextManager.GetAccessLevel",
                         "accesscontextmanager.googleapis.com",
                         permission="accesscontextmanager.accessPolicies.accessLevels.get", i=2)]
    assert _hits("gcp_access_policy_deleted.yml", _ndjson(events)) == [0]
    # the same record delivered in its Pub/Sub message's data: the rule's own names
    assert _hits("gcp_access_policy_deleted.yml", _ndjson([{"data": e} for e in events]), "json") == [0]


def test_impersonation_rule_on_elastic_iamcredentials_sample() -> None:
    # Elastic's sample logs methodName "GenerateAccessToken", not the rule's full RPC name
    sample = (RULES / "elastic-gcp-iamcredentials.log").read_bytes()
    assert _hits("gcp_service_account_impersonation.yml", sample) == []
    doc = json.loads(sample)
    doc["protoPayload"]["methodName"] = "google.iam.credentials.v1.IAMCredentials.GenerateAccessToken"
    assert _hits("gcp_service_account_impersonation.yml", _ndjson([doc])) == [0]


def test_azure_activity_rules_fire_on_activity_records() -> None:
    events = [_activity("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE"),
              _activity("Microsoft.Network/networkSecurityGroups/delete"),  # case differs: Sigma is case-insensitive
              _activity("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ"),
              _activity("MICROSOFT.AUTHORIZATION/ELEVATEACCESS/ACTION")]
    body = json.dumps({"records": events}).encode()
    assert _hits("azure_network_security_modified_or_deleted.yml", body) == [0, 1]
    assert _hits("azure_subscription_permissions_elevation_via_activitylogs.yml", body) == [3]
    assert _hits("azure_subscription_permissions_elevation_via_activitylogs.yml", _ndjson(events), "json") == [3]


def test_negated_gcp_rule_stays_off_kubernetes_events(tmp_path: Path) -> None:
    # a rule that holds without its fields runs only on events that have one of them: the plain
    # Kubernetes Events the k8s_audit format also holds are no Cloud Audit Logs records
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: non-storage activity
        id: 6a1d3c5e-7f90-4b2a-8c4d-1e2f3a4b5c6d
        logsource: {product: gcp, service: gcp.audit}
        detection:
            storage:
                gcp.audit.service_name: storage.googleapis.com
            condition: not storage
        level: low
    """))
    rs = load_rules([rule])
    events = [_log_entry("v1.compute.instances.insert", "compute.googleapis.com"),
              _log_entry("storage.buckets.delete", "storage.googleapis.com", i=1),
              {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a1", "verb": "get",
               "requestURI": "/api/v1/pods", "stage": "ResponseComplete"}]
    dec = formats.get("k8s_audit").decode(_ndjson(events), "t")
    assert sorted(r for b in dec.batches for r in rs.matches(b).column("row").to_pylist()) == [0]


def test_correlation_groups_by_the_elastic_name_on_log_entries(tmp_path: Path) -> None:
    rule = tmp_path / "c.yml"
    rule.write_text((RULES / "gcp_bucket_enumeration.yml").read_text() + textwrap.dedent("""\
        ---
        title: many bucket listings by one principal
        id: 0c4e6a8b-1d3f-4a5b-9c7d-2e4f6a8b0c1d
        correlation:
            type: event_count
            rules: [e2feb918-4e77-4608-9697-990a1aaf74c3]
            group-by: [gcp.audit.authentication_info.principal_email]
            timespan: 10m
            condition: {gte: 3}
        level: medium
    """))
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported

    def fired(principals: list[str]) -> int:
        events = [_log_entry("storage.buckets.list", "storage.googleapis.com", principal=p, i=i)
                  for i, p in enumerate(principals)]
        return _correlated(rs, "k8s_audit", _ndjson(events), T0)

    assert fired(["a@x.com", "a@x.com", "a@x.com"]) == 1
    assert fired(["a@x.com", "b@x.com", "c@x.com"]) == 0  # three principals, one listing each


def test_hunt_over_a_lake_of_cloud_audit_records(tmp_path: Path) -> None:
    _register()
    src = tmp_path / "gke.json"
    src.write_bytes(_ndjson([_log_entry("io.k8s.core.v1.secrets.delete", "k8s.io", i=0),
                             _log_entry("io.k8s.core.v1.secrets.list", "k8s.io", i=1)]))
    data = tmp_path / "d"
    r = CliRunner()
    out = r.invoke(app, ["ingest", "--format", "auto", "--json", "--data", str(data), str(src)])
    assert json.loads(out.stdout)["stored"] == {"api_activity": 2}
    out = r.invoke(app, ["hunt", "--json", "--data", str(data), "-r",
                         str(RULES / "gcp_kubernetes_secrets_modified_or_deleted.yml")])
    assert json.loads(out.stdout)["hits"] == {"2f0bae2d-bf20-4465-be86-1311addebaa3": 1}


# -- Sysmon for Linux: each event written to syslog as its XML <Event> -------------------------
# SigmaHQ's ``product: linux`` process_creation / network_connection / file_event rules are written
# for Sysmon for Linux, which logs every event to syslog (TAG ``sysmon``) as the Windows-style XML
# ``<Event><System>...<EventID>1</EventID>...</System><EventData><Data Name="Image">...``. The fields
# the rules name (Image, CommandLine, User, ParentImage...) are the EventData's ``Data`` elements.

SYSMON = CASES / "sigma_holdout" / "sigmacatch-sysmon-linux.log"


def _sysmon(event_id: int, data: dict[str, str], second: int = 20) -> str:
    """A Sysmon for Linux syslog line (the layout of the real lines in ``SYSMON``)."""
    body = "".join(f'<Data Name="{k}">{v}</Data>' for k, v in data.items())
    return (f'<134>Aug 23 10:30:{second:02d} host1 sysmon: <Event><System><Provider Name="Linux-Sysmon" '
            f'Guid="{{ff032593-a8d3-4f13-b0d6-01fc615a0f97}}"/><EventID>{event_id}</EventID><Version>5</Version>'
            f'<Level>4</Level><TimeCreated SystemTime="2026-08-23T08:30:{second:02d}.100Z"/>'
            f'<EventRecordID>{75960 + second}</EventRecordID><Channel>Linux-Sysmon/Operational</Channel>'
            f'<Computer>host1</Computer></System><EventData>{body}</EventData></Event>')


def test_sigmahq_process_creation_rules_on_sysmon_for_linux_lines() -> None:
    body = SYSMON.read_bytes()  # line 0: sudo -u#-1 id; line 1: wget -O /tmp/art_marker.txt
    assert _hits("proc_creation_lnx_exploit_cve_2019_14287.yml", body, "syslog") == [0]
    assert _hits("proc_creation_lnx_wget_download_suspicious_directory.yml", body, "syslog") == [1]
    # wget writing to the working directory: no /tmp/ in the command line
    other = _sysmon(1, {"Image": "/usr/bin/wget", "CommandLine": "wget -O out.sh https://x.example/a"}).encode()
    assert _hits("proc_creation_lnx_wget_download_suspicious_directory.yml", other, "syslog") == []


def test_sysmon_xml_entities_are_decoded(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(textwrap.dedent("""\
        title: shell redirection into tmp
        id: 1b3d5f7a-9c2e-4a6b-8d0f-3e5a7c9b1d2f
        logsource: {product: linux, category: process_creation}
        detection:
            selection:
                CommandLine|contains: '> /tmp/'
                ParentImage: '/usr/bin/bash'
            condition: selection
        level: low
    """))
    rs = load_rules([rule])
    lines = [_sysmon(1, {"Image": "/usr/bin/sh", "CommandLine": "sh -c &quot;id &gt; /tmp/o&quot;", "ParentImage": "/usr/bin/bash"}),
             _sysmon(1, {"Image": "/usr/bin/sh", "CommandLine": "sh -c id", "ParentImage": "/usr/bin/bash"}, 21)]
    dec = formats.get("syslog").decode("\n".join(lines).encode(), "t")
    for ruleset in (rs, RuleSet(rs.rules, distinct_values=False)):
        assert sorted(r for b in dec.batches for r in ruleset.matches(b).column("row").to_pylist()) == [0]


def test_category_keeps_a_rule_to_its_sysmon_event(tmp_path: Path) -> None:
    # the same Image in a ProcessCreate (1) and a NetworkConnect (3): each category its own event
    def rule(category: str) -> Path:
        path = tmp_path / f"{category}.yml"
        path.write_text(textwrap.dedent(f"""\
            title: netcat {category}
            id: 2c4e6a8b-0d1f-4b3c-9e5a-7c9b1d3f5a{len(category):02d}
            logsource: {{product: linux, category: {category}}}
            detection:
                selection:
                    Image|endswith: '/nc'
                condition: selection
            level: low
        """))
        return path
    lines = [_sysmon(1, {"Image": "/usr/bin/nc", "CommandLine": "nc 203.0.113.5 4444", "User": "root"}),
             _sysmon(3, {"Image": "/usr/bin/nc", "Protocol": "tcp", "DestinationIp": "203.0.113.5",
                         "DestinationPort": "4444"}, 21),
             "<86>Aug 23 10:30:22 host1 sshd[1]: Accepted publickey for root from 10.0.0.8 port 5555 ssh2"]
    body = "\n".join(lines).encode()
    for category, expected in (("process_creation", [0]), ("network_connection", [1]), ("file_event", [])):
        rs = load_rules([rule(category)])
        dec = formats.get("syslog").decode(body, "t")
        for ruleset in (rs, RuleSet(rs.rules, distinct_values=False)):
            # (the lines that matched: each Sysmon event is a batch of its class, its rows its own)
            got = sorted(lines.index(b.column("raw_data")[r].as_py()) for b in dec.batches
                         for r in ruleset.matches(b).column("row").to_pylist())
            assert got == expected, category
    # JSON events without an EventID (auditbeat, an EDR's export) are read as before
    rs = load_rules([rule("process_creation")])
    dec = formats.get("json").decode(b'{"Image": "/usr/bin/nc", "CommandLine": "nc -l 4444"}', "t")
    assert [r for b in dec.batches for r in rs.matches(b).column("row").to_pylist()] == [0]


def test_correlation_groups_sysmon_lines_by_an_eventdata_field(tmp_path: Path) -> None:
    rule = tmp_path / "c.yml"
    rule.write_text((RULES / "proc_creation_lnx_exploit_cve_2019_14287.yml").read_text() + textwrap.dedent("""\
        ---
        title: repeated sudo -u# by one user
        id: 3d5f7a9c-1e2b-4c4d-8f6a-8b0c2d4e6f8a
        correlation:
            type: event_count
            rules: [f74107df-b6c6-4e80-bf00-4170b658162b]
            group-by: [User]
            timespan: 10m
            condition: {gte: 2}
        level: high
    """))
    rs = load_rules([rule])
    assert not rs.unsupported, rs.unsupported

    def fired(users: list[str]) -> int:
        lines = [_sysmon(1, {"Image": "/usr/bin/sudo", "CommandLine": "sudo -u#-1 id", "User": u}, 20 + i)
                 for i, u in enumerate(users)]
        return _correlated(rs, "syslog", "\n".join(lines).encode(), 1787474000.0)

    assert fired(["alice", "alice"]) == 1
    assert fired(["alice", "bob"]) == 0


def test_auto_detection_reads_other_services_cloud_audit_records(tmp_path: Path) -> None:
    # --format auto recognized GKE's LogEntries and AKS's kube-audit records only: a Cloud Audit
    # Logs record of another service (Elastic's iamcredentials sample) or an Azure Activity Log
    # record was dead-lettered as unrecognized, and no GCP/Azure rule could see it
    _register()
    r = CliRunner()
    azure = tmp_path / "activity.json"
    azure.write_text(json.dumps({"records": [_activity("MICROSOFT.AUTHORIZATION/ELEVATEACCESS/ACTION"),
                                             _activity("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ")]}))
    for src, stored in ((RULES / "elastic-gcp-iamcredentials.log", 1), (azure, 2)):
        data = tmp_path / src.stem
        out = r.invoke(app, ["ingest", "--format", "auto", "--json", "--data", str(data), str(src)])
        summary = json.loads(out.stdout)
        assert summary["stored"] == {"api_activity": stored} and summary["dead_letter"] == 0, summary
    out = r.invoke(app, ["hunt", "--json", "--data", str(tmp_path / azure.stem), "-r",
                         str(RULES / "azure_subscription_permissions_elevation_via_activitylogs.yml")])
    assert json.loads(out.stdout)["hits"] == {"09438caa-07b1-4870-8405-1dbafe3dad95": 1}


def _signin(result: str) -> dict:
    """An Entra ID sign-in record as diagnostic settings export it (Azure Monitor's SignInLogs schema)."""
    return {"time": "2026-11-29T10:00:00.0000000Z", "resourceId": "/tenants/aaaa-bbbb/providers/Microsoft.aadiam",
            "operationName": "Sign-in activity", "operationVersion": "1.0", "category": "SignInLogs",
            "tenantId": "aaaa-bbbb", "resultType": result, "resultSignature": "None",
            "resultDescription": "Account is locked" if result == "50053" else "", "durationMs": 0,
            "callerIpAddress": "203.0.113.5", "correlationId": "c2", "identity": "Alice", "Level": 4,
            "location": "US", "properties": {"userPrincipalName": "alice@contoso.com", "appDisplayName": "Azure Portal"}}


def test_signin_rule_reads_the_exported_signin_record() -> None:
    # SigmaHQ names the Log Analytics column ResultType; the exported record writes resultType
    # (the field-name case fallback of fields.py reads it there)
    body = json.dumps({"records": [_signin("50053"), _signin("0"), _signin("50126")]}).encode()
    assert _hits("azure_account_lockout.yml", body) == [0]
    assert _hits("azure_account_lockout.yml", _ndjson([_signin("50053")]), "json") == [0]
