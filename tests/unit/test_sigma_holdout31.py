"""Sigma field resolution (thirty-first round): SigmaHQ's Azure Activity Log rules over the Activity
Log's three shapes, and absence over a field's built-in spellings.

Diagnostic settings export the Activity Log with ``operationName`` a string; the REST API (``az
monitor activity-log list``, ``Get-AzActivityLog``, pollers built on it) gives ``operationName``,
``category``, ``status``, ``resourceProviderName``... as ``{"value", "localizedValue"}`` objects;
Log Analytics' ``AzureActivity`` table names them ``OperationNameValue``, ``CategoryValue``,
``ResourceProviderValue``. A ``product: azure`` rule's field is read in all three
(``secpipe.detect.sigma.mappings.AZURE_ACTIVITY``, after Azure Monitor's schema page table).

Rules: tests/cases/sigma_holdout (SigmaHQ, SOURCE.md "Round 31"). Events: Microsoft's REST samples
(tests/cases/holdout/azure-docs-activity-log-rest.json: an NSG write, a service health event) and
Elastic's diagnostic-settings record (elastic-azure-activitylogs-sp.log); the AD FS events change only
the operation, provider and resource of those records.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import msgspec

from tests.unit.test_sigma_holdout24 import CASES, _hits

NSG = "azure_network_security_modified_or_deleted.yml"
ADFS = "azure_aadhybridhealth_adfs_new_server.yml"
ADFS_OP = "Microsoft.ADHybridHealthService/services/servicemembers/action"
ADFS_ID = ("/subscriptions/s1/resourcegroups/default-activedirectory/providers/Microsoft.ADHybridHealthService"
           "/services/AdFederationService-contoso.com")


def _rest() -> list[dict]:
    return json.loads((CASES / "holdout" / "azure-docs-activity-log-rest.json").read_bytes())


def _lines(events: list[dict]) -> bytes:
    return b"\n".join(msgspec.json.encode(e) for e in events)


def test_rest_operation_object_is_read_as_its_value() -> None:
    body = (CASES / "holdout" / "azure-docs-activity-log-rest.json").read_bytes()
    for fmt in ("k8s_audit", "json"):  # the NSG write, not the service health event
        assert _hits(NSG, body, fmt) == [0], fmt


def test_diagnostic_settings_string_still_matches_and_a_read_does_not() -> None:
    diag = json.loads((CASES / "holdout" / "elastic-azure-activitylogs-sp.log").read_bytes())
    nsg = dict(diag, operationName="MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/DELETE")
    read = dict(diag, operationName="MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ")
    rest_read = _rest()[0]
    rest_read["operationName"] = {"value": "Microsoft.Network/networkSecurityGroups/read",
                                  "localizedValue": "Microsoft.Network/networkSecurityGroups/write"}
    assert _hits(NSG, _lines([nsg, read, rest_read])) == [0]  # the localized text is no operation


def test_azure_activity_columns_rule_fires_on_rest_event_and_table_row() -> None:
    rest = _rest()[0]
    rest.update(operationName={"value": ADFS_OP, "localizedValue": "Update server"}, resourceId=ADFS_ID,
                resourceProviderName={"value": "Microsoft.ADHybridHealthService",
                                      "localizedValue": "Microsoft.ADHybridHealthService"})
    other = copy.deepcopy(rest)
    other["resourceProviderName"]["value"] = "Microsoft.Network"
    row = {"CategoryValue": "Administrative", "ResourceProviderValue": "Microsoft.ADHybridHealthService",
           "ResourceId": ADFS_ID.upper(), "OperationNameValue": ADFS_OP.upper(), "ActivityStatusValue": "Success"}
    assert _hits(ADFS, _lines([rest, other])) == [0]
    assert _hits(ADFS, _lines([rest, other, row]), "json") == [0, 2]


def _rule(tmp_path: Path, logsource: str, selection: str) -> str:
    rule = tmp_path / "rule.yml"
    rule.write_text(f"title: t\nid: 4f1e9a52-3c1d-4c55-9d0b-0d7a3c9b1e31\nlogsource: {logsource}\n"
                    f"detection:\n  selection:\n    {selection}\n  condition: selection\n")
    return str(rule)  # _hits joins it to RULES: an absolute path stays itself


def test_absent_operation_means_absent_in_every_shape(tmp_path: Path) -> None:
    body = (CASES / "holdout" / "azure-docs-activity-log-rest.json").read_bytes()
    assert _hits(_rule(tmp_path, "{product: azure, service: activitylogs}", "operationName: null"), body) == []
    assert _hits(_rule(tmp_path, "{product: azure, service: activitylogs}", "resourceProviderName: null"), body) == []


def test_windows_computer_absent_only_when_every_spelling_is(tmp_path: Path) -> None:
    """``Computer`` is also read as NXLog's flat ``Hostname``, which the windows prefixes read again
    under ``Event.EventData.`` / ``winlog.event_data.``: the null test over those alternatives was
    ORed (absence_of_all saw another list) and held for every record that named its computer."""
    events = [{"EventID": 4624, "Computer": "ws1.contoso.com", "Channel": "Security"},
              {"EventID": 4624, "Hostname": "ws1.contoso.com", "SourceName": "Microsoft-Windows-Security-Auditing"},
              {"EventID": 4624, "Channel": "Security"}]
    rule = _rule(tmp_path, "{product: windows}", "EventID: 4624\n    Computer: null")
    assert _hits(rule, _lines(events), "json") == [2]
