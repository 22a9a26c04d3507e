"""Sigma rules of the twenty-seventh round: the modifiers appendix's time modifiers, Google Workspace
rules that name an event parameter, FortiGate rules on FortiOS log lines, Windows rules on evtx records
as JSON.

Rules: tests/cases/sigma_holdout (see SOURCE.md "Round 27 (sigma)"). Events: Panther's CloudTrail test
events (../shared/data/real/panther-analysis/extracted, Apache-2.0), Panther's Workspace ``LogEntry``
(panther-gcp-add-group-member.jsonl) and LogEntries written in its layout, Elastic's FortiGate 7.6 and
traffic test lines (elastic-fortinet-7-6.log, ../holdout/elastic-fortigate-traffic.log), SigmaHQ's regression
data (sigmahq-regression-*.json: evtx records as the evtx crate writes them as JSON).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec
import orjson
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from tests.unit.holdout_support import ndjson as _ndjson
from tests.unit.holdout_support import sigma_rows as _rows
from tests.unit.holdout_support import workspace_entry as _entry

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
CLOUDTRAIL = REAL / "panther-analysis" / "extracted" / "cloudtrail.json"
RULES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"


def _rule(tmp_path: Path, detection: str, logsource: str = "product: aws\n  service: cloudtrail") -> Path:
    p = tmp_path / "rule.yml"
    p.write_text(f"title: t\nid: 0d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource:\n  {logsource}\n"
                 "detection:\n" + textwrap.indent(textwrap.dedent(detection), "  ") + "level: low\n")
    return p


# -- time modifiers (sigma-specification sigma-appendix-modifiers.md v2.1.0, "Time Modifiers") ----

def test_time_modifier_compared_with_a_number(tmp_path: Path) -> None:
    # The appendix's time modifiers "extract a numeric value from a date"; chained with gte (a
    # console login at 17h or later) pySigma gives a comparison of that part, which was compared
    # as the whole date text cast to a number: no event ever matched.
    body = CLOUDTRAIL.read_bytes()  # the 16 ConsoleLogin records are one Authentication batch
    evening = _rule(tmp_path, """
        selection:
          eventName: ConsoleLogin
          eventTime|hour|gte: 17
        condition: selection
        """)
    assert _rows(load_rules([evening]), body, "cloudtrail") == [2, 9]  # 19:41:40 and 17:16:36
    night = _rule(tmp_path, """
        selection:
          eventName: ConsoleLogin
          eventTime|hour: 0
          eventTime|year|lt: 2020
        condition: selection
        """)
    assert _rows(load_rules([night]), body, "cloudtrail") == [4, 5, 6, 7, 10, 11, 12, 13]


# -- Google Workspace audit logs: rules that name an event parameter --------------------------------

_ADMIN = "admin.googleapis.com"


def test_mfa_disabled_rule_reads_the_new_value_parameter() -> None:
    # SigmaHQ's gcp_gworkspace_mfa_disabled: new_value is the event's NEW_VALUE parameter (the Admin
    # SDK's admin-security-settings ENFORCE_STRONG_AUTHENTICATION / ALLOW_STRONG_AUTHENTICATION);
    # a LogEntry has no such key, the rule found nothing.
    events = [
        _entry(_ADMIN, "google.admin.AdminService.enforceStrongAuthentication", "SECURITY_SETTINGS",
               "ENFORCE_STRONG_AUTHENTICATION", {"NEW_VALUE": "false", "OLD_VALUE": "true", "ORG_UNIT_NAME": "Sales"}, 0),
        _entry(_ADMIN, "google.admin.AdminService.enforceStrongAuthentication", "SECURITY_SETTINGS",
               "ENFORCE_STRONG_AUTHENTICATION", {"NEW_VALUE": "true", "OLD_VALUE": "false", "ORG_UNIT_NAME": "Sales"}, 1),
        _entry(_ADMIN, "google.admin.AdminService.allowStrongAuthentication", "SECURITY_SETTINGS",
               "ALLOW_STRONG_AUTHENTICATION", {"NEW_VALUE": False}, 2),
        _entry(_ADMIN, "google.admin.AdminService.changeApplicationSetting", "APPLICATION_SETTINGS",
               "CHANGE_APPLICATION_SETTING", {"SETTING_NAME": "Password Management - Enforce strong password",
                                              "NEW_VALUE": "false"}, 3)]
    body = _ndjson(events)
    mfa = load_rules([RULES / "gcp_gworkspace_mfa_disabled.yml"])
    assert _rows(mfa, body, "k8s_audit") == [0, 2]  # --format auto stores LogEntries as k8s_audit
    assert _rows(mfa, body) == [0, 2]  # and the catch-all json format keeps them whole
    assert _rows(load_rules([RULES / "gcp_gworkspace_password_policy_changed.yml"]), body, "k8s_audit") == [3]


def test_blind_rule_names_its_own_fields_not_the_parameter_reads() -> None:
    # over events stored without raw_data the rule is not run; the missing fields it reports are
    # the rule's, not the parameter pseudo-fields (NUL-prefixed names) it also reads
    rs = load_rules([RULES / "gcp_gworkspace_mfa_disabled.yml"])
    entry = _entry(_ADMIN, "m", "SECURITY_SETTINGS", "ENFORCE_STRONG_AUTHENTICATION", {"NEW_VALUE": "false"}, 0)
    (batch,) = formats.get("k8s_audit").decode(_ndjson([entry]), "t").batches
    assert rs.matches(batch.drop_columns(["raw_data"])).num_rows == 0
    assert {"new_value", "eventName"} <= rs.blind[rs.rules[0].id]
    assert not any(f.startswith("\x00") for f in rs.blind[rs.rules[0].id])


def test_drive_rule_reads_a_parameter_named_as_an_event_key() -> None:
    # gcp_gworkspace_drive_file_shared_externally names Drive's visibility parameter
    # protoPayload.metadata.event.visibility (the Admin SDK's drive activity, acl_change)
    drive = "drive.googleapis.com"
    events = [_entry(drive, "google.drive.DriveService.changeAclEditors", "acl_change", "change_acl_editors",
                     {"doc_id": "1AbC", "visibility": "people_with_link", "old_visibility": "private"}, 0),
              _entry(drive, "google.drive.DriveService.changeAclEditors", "acl_change", "change_acl_editors",
                     {"doc_id": "1AbD", "visibility": "private", "old_visibility": "people_with_link"}, 1),
              _entry(drive, "google.drive.DriveService.changeDocumentVisibility", "acl_change",
                     "change_document_visibility", {"doc_id": "1AbE", "visibility": "public_on_the_web"}, 2)]
    rs = load_rules([RULES / "gcp_gworkspace_drive_file_shared_externally.yml"])
    assert _rows(rs, _ndjson(events), "k8s_audit") == [0]


def test_parameter_rule_on_panthers_log_entry(tmp_path: Path) -> None:
    # Panther's "GCP User Added to Privileged Group" as a Sigma rule: its GROUP_EMAIL parameter
    rule = _rule(tmp_path, """
        selection:
          protoPayload.serviceName: admin.googleapis.com
          protoPayload.metadata.event.eventName: ADD_GROUP_MEMBER
          group_email: admins@example.com
        condition: selection
        """, "product: gcp\n  service: google_workspace.admin")
    body = (RULES / "panther-gcp-add-group-member.jsonl").read_bytes()
    assert _rows(load_rules([rule]), body, "k8s_audit") == [0]


def test_parameter_lists_presence_and_absence(tmp_path: Path) -> None:
    # a multiStrValue parameter matches by any element; exists tests the parameter's presence, and
    # exists: false holds only when neither the key nor the parameter is there
    events = [_entry("login.googleapis.com", "google.login.LoginService.loginFailure", "login", "login_failure",
                     {"login_type": "google_password", "login_challenge_method": ["password", "idv_preregistered_phone"]}, 0),
              _entry("login.googleapis.com", "google.login.LoginService.loginSuccess", "login", "login_success",
                     {"login_type": "google_password", "login_challenge_method": ["password"]}, 1),
              _entry("login.googleapis.com", "google.login.LoginService.loginSuccess", "login", "login_success",
                     {"login_type": "saml"}, 2)]
    body = _ndjson(events)
    login = "product: gcp\n  service: google_workspace.login"
    phone = _rule(tmp_path, "selection:\n  login_challenge_method: idv_preregistered_phone\ncondition: selection\n", login)
    assert _rows(load_rules([phone]), body, "k8s_audit") == [0]
    without = _rule(tmp_path, "selection:\n  protoPayload.metadata.event.eventName: login_success\n"
                    "  login_challenge_method|exists: false\ncondition: selection\n", login)
    assert _rows(load_rules([without]), body, "k8s_audit") == [2]
    saml = _rule(tmp_path, "selection:\n  login_type: saml\n  login_challenge_method|exists: true\n"
                 "condition: not selection\n", login)
    assert _rows(load_rules([saml]), body, "k8s_audit") == [0, 1, 2]


# -- FortiGate (SigmaHQ rules/network/fortinet): FortiOS key=value log lines ------------------------

def test_fortigate_config_rules_fire_on_fortios_lines(tmp_path: Path) -> None:
    # product: fortigate / fortinet ran only on the catch-all json format; FortiOS logs are syslog
    # key=value lines (Elastic's 7.6 sample: config changes logid 0100044547, as rsyslog stores them)
    _register()
    data = tmp_path / "d"
    r = CliRunner()
    out = r.invoke(app, ["ingest", "--format", "auto", "--json", "--data", str(data),
                         str(RULES / "elastic-fortinet-7-6.log")])
    assert msgspec.json.decode(out.stdout)["dead_letter"] == 0
    rules = ["fortinet_fortigate_new_local_user_created.yml", "fortinet_fortigate_new_firewall_policy_added.yml",
             "fortinet_firewall_admin_user_creation.yml"]  # the last: product fortinet, category firewall
    out = r.invoke(app, ["hunt", "--json", "--data", str(data), *[a for f in rules for a in ("-r", str(RULES / f))]])
    assert msgspec.json.decode(out.stdout)["hits"] == {"ddbbe845-1d74-43a8-8231-2156d180234d": 1,  # Add user.local
                                                      "f24ab7a8-f09a-4319-82c1-915586aa642b": 1,  # Add firewall.policy
                                                      "cd0a4943-0edd-42cf-b50c-06f77a10d4c1": 0}  # system.admin: Edit only


def test_firewall_rule_reads_fortios_traffic_names() -> None:
    # the taxonomy's dst_port is FortiOS's dstport: SigmaHQ's cleartext-protocol rule fires on the
    # accepted session to port 80 (line 5), not on the closed one (line 1), nor on 443 or 7878
    body = (RULES / "elastic-fortinet-7-4-traffic.log").read_bytes()
    assert _rows(load_rules([RULES / "net_firewall_cleartext_protocols.yml"]), body, "syslog") == [4]


def test_a_lines_own_pair_comes_before_the_ocsf_column(tmp_path: Path) -> None:
    # a FortiOS traffic line's action="deny" is stored as OCSF action "Denied": the rule's action
    # reads the line's own pair, as it names it (the OCSF column of that name was read first)
    rule = _rule(tmp_path, """
        selection:
          action: deny
          dstport: 161
        condition: selection
        """, "product: fortigate\n  service: traffic")
    body = (RULES.parent / "holdout" / "elastic-fortigate-traffic.log").read_bytes()
    assert _rows(load_rules([rule]), body, "syslog") == [0]


def test_correlation_groups_a_line_by_its_own_pair(tmp_path: Path) -> None:
    # as the rules read it: group-by action is the line's action="deny", not OCSF's "Denied"

    p = tmp_path / "c.yml"
    p.write_text(textwrap.dedent("""
        title: traffic
        name: fgt_traffic
        id: 2d0a4943-0edd-42cf-b50c-06f77a10d4c1
        logsource: {product: fortigate, service: traffic}
        detection:
          selection:
            type: traffic
          condition: selection
        ---
        title: by action
        id: 3d0a4943-0edd-42cf-b50c-06f77a10d4c1
        correlation:
          type: event_count
          rules: [fgt_traffic]
          group-by: [action]
          timespan: 1d
          condition: {gte: 1}
        level: low
        """))
    rs = load_rules([p])
    eng = CorrelationEngine(rs, None, clock=lambda: 1587300000.0)
    groups = set()
    for b in formats.get("syslog").decode((RULES.parent / "holdout" / "elastic-fortigate-traffic.log").read_bytes(),
                                          "t").batches:
        out = eng.process(b, rs.matches(b))
        groups |= {orjson.loads(u)["group"][0] for u in ([] if out is None else out.column("unmapped").to_pylist())}
    assert groups == {"accept", "close", "deny", "dns", "ip-conn"}


# -- product: windows on evtx records as JSON (SigmaHQ regression_data) ----------------------------

_WINDOWS = {"proc_creation_win_apt_wocao": "1cfac73c-be78-4f9a-9b08-5bde0c3953ab",
            "win_security_audit_log_cleared": "d99b79d2-0a6f-4f46-ad8b-260b6e17f982",
            "win_security_pua_nssm_service_installation": "42cfbb02-230b-431e-b352-4ec7876ca03b",
            "win_system_service_starttype_change_for_phantom_dll_abuse": "92eb3dc3-8a47-4c94-b0e2-51cfa9af1aaf"}


def test_windows_rules_fire_on_their_regression_records() -> None:
    # each SigmaHQ rule on the regression record SigmaHQ keeps for it (Event.System / Event.EventData,
    # EventID 1 / 1102 / 4697, 7040 as {"#attributes": {"Qualifiers"}, "#text"}), and on none of the others'
    # (each record alone, and the others together: their rows are stored in batches of their classes)
    events = {name: orjson.loads((RULES / f"sigmahq-regression-{name}.json").read_bytes()) for name in _WINDOWS}
    for name in _WINDOWS:
        rs = load_rules([RULES / f"{name}.yml"])
        assert rs.rules[0].id == _WINDOWS[name]
        assert _rows(rs, _ndjson([events[name]])) == [0], name
        assert _rows(rs, _ndjson([e for n, e in events.items() if n != name])) == [], name
    # the pretty-printed file as SigmaHQ stores it, read by the json format
    assert _rows(load_rules([RULES / "proc_creation_win_apt_wocao.yml"]),
                 (RULES / "sigmahq-regression-proc_creation_win_apt_wocao.json").read_bytes()) == [0]


def test_hunt_over_a_lake_of_regression_records(tmp_path: Path) -> None:
    # the records ingested as SigmaHQ stores them (pretty-printed files, --format json), then hunted:
    # each rule finds its own record once
    _register()
    data, r = tmp_path / "d", CliRunner()
    classes = {"proc_creation_win_apt_wocao": "process_activity", "win_security_audit_log_cleared": "event_log_actvity"}
    for name in _WINDOWS:
        out = r.invoke(app, ["ingest", "--format", "json", "--json", "--data", str(data),
                             str(RULES / f"sigmahq-regression-{name}.json")])
        assert msgspec.json.decode(out.stdout)["stored"] == {classes.get(name, "base_event"): 1}
    out = r.invoke(app, ["hunt", "--json", "--data", str(data), *[a for n in _WINDOWS for a in ("-r", str(RULES / f"{n}.yml"))]])
    assert msgspec.json.decode(out.stdout)["hits"] == dict.fromkeys(_WINDOWS.values(), 1)


def test_windows_rules_read_winlogbeat_and_nxlog_records() -> None:
    # the 4697 record's values as Winlogbeat ships them (winlog.event_id / event_data) and as
    # NXLog's im_msvistalog writes them (flat, provider as SourceName); a legit path stays filtered
    nssm = orjson.loads((RULES / "sigmahq-regression-win_security_pua_nssm_service_installation.json").read_bytes())
    data = nssm["Event"]["EventData"]
    winlogbeat = {"@timestamp": "2025-12-19T10:12:26.191Z", "winlog": {
        "channel": "Security", "event_id": "4697", "provider_name": "Microsoft-Windows-Security-Auditing",
        "computer_name": "swachchhanda", "record_id": 31717, "event_data": data}}
    nxlog = {"EventTime": "2025-12-19 10:12:26", "Hostname": "swachchhanda", "EventID": 4697,
             "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security", **data}
    legit = winlogbeat | {"winlog": winlogbeat["winlog"] | {"event_data": data | {
        "ServiceFileName": "C:\\Program Files\\nssm\\nssm.exe"}}}
    rs = load_rules([RULES / "win_security_pua_nssm_service_installation.yml"])
    assert _rows(rs, _ndjson([winlogbeat, nxlog, legit])) == [0, 1]
    cleared = load_rules([RULES / "win_security_audit_log_cleared.yml"])
    assert _rows(cleared, _ndjson([nxlog | {"EventID": 1102, "SourceName": "Microsoft-Windows-Eventlog"}])) == [0]


def test_windows_category_runs_on_its_event_ids_only() -> None:
    # process_creation is Sysmon's event 1 (or Security 4688): the network connection Sysmon logged
    # for the same image (event 3, its schema's fields) is no process creation, however it is shipped
    scanner = orjson.loads((RULES / "sigmahq-regression-proc_creation_win_pua_advanced_ip_scanner.json").read_bytes())
    image = scanner["Event"]["EventData"]["Image"]
    connect = {"UtcTime": "2025-10-23 10:02:05.114", "ProcessGuid": "14207D89-FD0C-68F9-D610-000000003F02",
               "ProcessId": 2064, "Image": image, "User": "MIDGARDNET\\SwachchhandaP", "Protocol": "tcp",
               "Initiated": "true", "SourceIsIpv6": "false", "SourceIp": "10.0.0.12", "SourcePort": 50514,
               "DestinationIsIpv6": "false", "DestinationIp": "10.0.0.1", "DestinationPort": 445}
    as_evtx = {"Event": {"System": scanner["Event"]["System"] | {"EventID": 3, "Task": 3}, "EventData": connect}}
    as_winlogbeat = {"winlog": {"event_id": "3", "channel": "Microsoft-Windows-Sysmon/Operational",
                                "provider_name": "Microsoft-Windows-Sysmon", "event_data": connect}}
    flat = {"EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational", **connect}
    without_id = {"Image": image}  # an EDR's process event names no event ID: still read
    rs = load_rules([RULES / "proc_creation_win_pua_advanced_ip_scanner.yml"])
    # (the process creation, the network connections and the event without an ID are batches of their classes)
    assert _rows(rs, _ndjson([scanner])) == [0] and _rows(rs, _ndjson([without_id])) == [0]
    assert _rows(rs, _ndjson([as_evtx, as_winlogbeat, flat])) == []


def test_process_creation_rule_reads_a_security_4688_record() -> None:
    # the scanner's start as the Security log audits it (event 4688's schema: NewProcessName,
    # ParentProcessName), in the evtx JSON layout and flat (NXLog): Image is NewProcessName there
    scanner = orjson.loads((RULES / "sigmahq-regression-proc_creation_win_pua_advanced_ip_scanner.json").read_bytes())
    sysmon = scanner["Event"]["EventData"]
    data = {"SubjectUserSid": "S-1-5-21-1004336348-1177238915-682003330-1105", "SubjectUserName": "SwachchhandaP",
            "SubjectDomainName": "MIDGARDNET", "SubjectLogonId": "0x46940f", "NewProcessId": "0x810",
            "NewProcessName": sysmon["Image"], "TokenElevationType": "%%1938", "ProcessId": "0xca8",
            "CommandLine": sysmon["CommandLine"], "TargetUserSid": "S-1-0-0", "TargetUserName": "-",
            "TargetDomainName": "-", "TargetLogonId": "0x0", "ParentProcessName": sysmon["ParentImage"],
            "MandatoryLabel": "S-1-16-8192"}
    system = scanner["Event"]["System"] | {"EventID": 4688, "Channel": "Security", "Provider": {"#attributes": {
        "Name": "Microsoft-Windows-Security-Auditing", "Guid": "54849625-5478-4994-A5BA-3E3B0328C30D"}}}
    audit = {"Event": {"System": system, "EventData": data}}
    nxlog = {"EventID": 4688, "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security", **data}
    rs = load_rules([RULES / "proc_creation_win_pua_advanced_ip_scanner.yml"])
    assert _rows(rs, _ndjson([audit, nxlog, audit | {"Event": audit["Event"] | {"System": system | {"EventID": 4689}}}])) \
        == [0, 1]  # a 4689 (process exit) is no process creation


def test_powershell_classic_rule_reads_unnamed_data_of_its_event_only() -> None:
    # Windows PowerShell's classic log writes unnamed <Data> elements (evtx JSON: EventData.Data.#text,
    # a list) and its EventID with Qualifiers; ps_classic_provider_start is event 600, not the
    # engine start (400) that carries the same HostApplication
    record = orjson.loads((RULES / "sigmahq-regression-posh_pc_tamper_windows_defender_set_mp.json").read_bytes())
    system = record["Event"]["System"]
    engine_start = {"Event": record["Event"] | {"System": system | {"EventID": system["EventID"] | {"#text": 400}}}}
    rs = load_rules([RULES / "posh_pc_tamper_windows_defender_set_mp.yml"])
    assert _rows(rs, _ndjson([record, engine_start])) == [0]


def test_correlation_windows_follow_evtx_record_times() -> None:
    # an evtx record as JSON keeps its time at Event.System.TimeCreated.#attributes.SystemTime: the
    # json format took the receipt time, so failed logons an hour apart fell into one 5m window of
    # Hayabusa's password-guessing correlation (event_count gte 5 by IpAddress)
    rs = load_rules([RULES / "hayabusa_pw_guessing.yml"])
    regression = orjson.loads((RULES / "sigmahq-regression-win_security_audit_log_cleared.json").read_bytes())
    system = regression["Event"]["System"] | {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}}

    def failed(minute: int) -> dict:
        return {"Event": {"System": system | {"EventID": 4625, "TimeCreated": {"#attributes": {
            "SystemTime": f"2019-02-13T18:{minute:02d}:41.593830Z"}}}, "EventData": {
            "TargetUserName": "admin01", "Status": "0xc000006d", "SubStatus": "0xc000006a", "LogonType": 3,
            "IpAddress": "10.0.0.5", "IpPort": "50311"}}}

    def fired(minutes: list[int]) -> int:
        eng = CorrelationEngine(rs, None, clock=lambda: 1550084400.0)
        n = 0
        for b in formats.get("json").decode(_ndjson([failed(m) for m in minutes]), "t").batches:
            assert b.column("time").to_pylist() == [1550080841593 + m * 60_000 for m in minutes]  # 18:00:41.593 + m
            out = eng.process(b, rs.matches(b))
            n += 0 if out is None else out.num_rows
        return n

    assert fired([1, 2, 3, 4, 5]) == 1
    assert fired([1, 2, 3, 20, 21]) == 0  # three, then two a quarter of an hour later
