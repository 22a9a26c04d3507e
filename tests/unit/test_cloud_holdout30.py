"""Real samples secpipe was not developed against, round 30: cloud and runtime logs
(``tests/cases/holdout``, see its SOURCE.md).

Expectations are written from the source documents (Microsoft's sign-in log schema in Azure
Monitor, the Graph ``signIn`` resource), not from secpipe's output.

Regressions covered: Entra ID sign-ins as Azure Monitor diagnostic settings export them were
API Activity with status Success whatever their error code (``resultType`` "50140" was only the
status detail) and no user (``identity`` is a display name, the user is in ``properties``).
"""

from __future__ import annotations

import json

from tests.unit.test_formats_holdout import CASES, _auto, _rows


def test_entra_signins_are_authentication() -> None:
    """Elastic's Azure signinlogs pipeline tests: a user's failed and successful sign-ins, a service
    principal's failed one and a managed identity's (no client address)."""
    name, d = _auto("elastic-azure-signinlogs.log")
    assert name == "k8s_audit" and not d.dead and d.events == 4
    failed, ok, sp, mi = _rows(d)
    assert {r["class_uid"] for r in (failed, ok, sp, mi)} == {3002}
    assert {r["activity_id"] for r in (failed, ok, sp, mi)} == {1}  # Logon
    assert {r["metadata"]["product"]["name"] for r in (failed, ok, sp, mi)} == {"Entra ID"}
    # 50140: "Keep me signed in" interrupt, a failed sign-in (resultType 0 is the only success)
    assert (failed["status_id"], failed["status_code"]) == (2, "50140")
    assert failed["status_detail"].startswith("This error occurred due to 'Keep me signed in' interrupt")
    assert failed["user"]["name"] == "test@elastic.co" and failed["user"]["full_name"] == "Test LTest"
    assert failed["user"]["uid"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53" and failed["user"]["type_id"] == 1
    assert failed["src_endpoint"]["ip"] == "81.2.69.144"
    place = failed["src_endpoint"]["location"]
    assert (place["city"], place["region"], place["country"]) == ("Champs-Sur-Marne", "Seine-Et-Marne", "FR")
    assert (place["lat"], place["long"]) == (48.12341234, 2.12341234)
    assert failed["service"]["name"] == "Office 365" and failed["metadata"]["event_code"] == "SignInLogs"
    assert failed["time"] == 1571391948072  # time 2019-10-18T09:45:48.0729893Z
    assert failed["metadata"]["original_event_uid"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"
    assert failed["cloud"]["provider"] == "Azure" and failed["cloud"]["org"]["uid"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"

    assert (ok["status_id"], ok["status_code"], ok["status_detail"]) == (1, "0", None)
    assert ok["user"]["name"] == "mpliftrelastic20210901@outlook.com"
    assert ok["http_request"]["user_agent"].endswith("Edg/97.0.1072.69")
    assert ok["service"] == {"name": "Azure Portal", "uid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}
    assert ok["is_mfa"] is False  # authenticationRequirement singleFactorAuthentication
    assert ok["risk_level_id"] == 0  # riskLevelDuringSignIn none

    # a service principal signs in as itself: the app is the user, the resource it asked for the service
    assert (sp["status_id"], sp["status_code"]) == (2, "7000222")
    assert sp["user"]["name"] == "ConfigMgrSvc_22222222-dfb4-4070-ad95-cf1e68280bb0"
    assert sp["user"]["uid"] == "22222222-4677-43b4-a1dc-ecb3230e9350" and sp["user"]["type"] == "Service"
    assert sp["service"]["name"] == "Configuration Manager Microservice"
    assert (sp["risk_level_id"], sp["risk_level"]) == (1, "Low")

    # a managed identity's sign-in names no address ("ipAddress": ""): the endpoint is Unknown,
    # and its empty place (countryOrRegion "", coordinates 0, 0) no location
    assert mi["status_id"] == 1 and mi["user"]["name"] == "testplatformlogslube"
    assert mi["src_endpoint"]["ip"] is None and mi["src_endpoint"]["type_id"] == 0
    assert mi["src_endpoint"]["location"] is None


def test_entra_directory_audits_name_who_did_what_to_which_object() -> None:
    """Elastic's Azure auditlogs pipeline tests: a user's ``Update device`` and a managed identity's
    ``Add service principal credentials`` (``properties`` is the Graph directoryAudit)."""
    name, d = _auto("elastic-azure-auditlogs.log")
    assert name == "k8s_audit" and not d.dead
    device, creds = _rows(d)
    assert {r["class_uid"] for r in (device, creds)} == {6003}
    assert {r["metadata"]["product"]["name"] for r in (device, creds)} == {"Entra ID"}
    # operationType Update; result "success"; the service that logged it; initiatedBy.user
    assert (device["activity_id"], device["status_id"]) == (3, 1)
    assert device["api"]["operation"] == "Update device" and device["api"]["service"]["name"] == "Core Directory"
    assert device["actor"]["user"]["name"] == "UserName" and device["actor"]["user"]["type"] == "User"
    assert device["actor"]["user"]["full_name"] == "User Registration Service"
    assert [(r["type"], r["name"]) for r in device["resources"]] == [("Device", "LAPTOP-12")]
    assert device["metadata"]["original_event_uid"] == "Directory_ESQ"
    # an app acted (initiatedBy.app): the managed identity's service principal, type Service
    user = creds["actor"]["user"]
    assert (user["name"], user["uid"], user["type_id"]) == ("Managed Service Identity", "b9814691-9ca1-4e55-a1ac-8ef5dd010ec0", 4)
    assert creds["src_endpoint"]["ip"] == "1.128.3.4" and creds["metadata"]["event_code"] == "ApplicationManagement"
    assert [(r["type"], r["name"], r["uid"]) for r in creds["resources"]] == [
        ("ServicePrincipal", "billing-test-wus", "a7d5dcbe-0627-4ddf-a2f4-86b6785bcc42")]


def test_activity_log_as_the_rest_api_answers_it() -> None:
    """Microsoft's Activity Log schema page: the Administrative and Service Health sample events,
    in the REST API's shape (``operationName``/``status``/``category`` as value objects,
    ``eventTimestamp``), as ``az monitor activity-log list`` prints them (an array)."""
    name, d = _auto("azure-docs-activity-log-rest.json")
    assert name == "k8s_audit" and not d.dead and d.events == 2
    nsg, health = _rows(d)
    assert {r["class_uid"] for r in (nsg, health)} == {6003}
    assert nsg["api"]["operation"] == "Microsoft.Network/networkSecurityGroups/write" and nsg["activity_id"] == 3
    assert nsg["api"]["service"]["name"] == "Microsoft.Network"
    assert nsg["actor"]["user"]["name"] == "rob@contoso.com"
    assert (nsg["status_id"], nsg["status_detail"]) == (1, "Succeeded")
    assert nsg["time"] == 1517258551381  # eventTimestamp 2018-01-29T20:42:31.3810679Z
    assert nsg["metadata"]["original_event_uid"] == "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"
    assert nsg["resources"][0]["uid"].endswith("/networkSecurityGroups/myNSG")
    assert nsg["cloud"]["account"]["uid"] == "<subscription ID>"
    assert health["api"]["operation"] == "Microsoft.ServiceHealth/incident/action" and health["severity_id"] == 3  # Warning


def test_activity_log_rest_event_names_its_caller_address_and_method() -> None:
    """The schema page's earlier Administrative sample (a support ticket written by PUT from
    192.168.35.115), one object: the caller's address and method are in ``httpRequest``."""
    from secpipe import formats

    doc = {"caller": "admin@contoso.com", "channels": "Operation", "correlationId": "1e121103-0ba6-4300-ac9d-952bb5d0c80f",
           "eventDataId": "44ade6b4-3813-45e6-ae27-7420a95fa2f8", "eventName": {"value": "EndRequest", "localizedValue": "End request"},
           "httpRequest": {"clientRequestId": "27003b25-91d3-418f-8eb1-29e537dcb249", "clientIpAddress": "192.168.35.115",
                           "method": "PUT"},
           "level": "Informational", "resourceUri": "/subscriptions/s1/resourceGroups/MSSupportGroup/providers/microsoft.support/supporttickets/115012112305841",
           "operationName": {"value": "microsoft.support/supporttickets/write", "localizedValue": "microsoft.support/supporttickets/write"},
           "properties": {"statusCode": "Created"}, "status": {"value": "Failed", "localizedValue": "Failed"},
           "eventTimestamp": "2015-01-21T22:14:26.9792776Z", "subscriptionId": "s1"}  # fmt: skip
    data = json.dumps(doc).encode()
    fmt = formats.detect(data)
    assert fmt is not None and fmt.name == "k8s_audit"
    (r,) = _rows(fmt.decode(data, "src"))
    assert r["src_endpoint"]["ip"] == "192.168.35.115" and r["http_request"]["http_method"] == "PUT"
    assert r["status_id"] == 2  # status Failed
    assert r["resources"][0]["uid"].endswith("/supporttickets/115012112305841")
    assert r["cloud"]["account"]["uid"] == "s1"


def test_graph_signins_are_authentication() -> None:
    """Microsoft Graph's List signIns example (v1.0): a page (``@odata.context``, ``@odata.nextLink``,
    ``value``) of one interactive sign-in; the same sign-ins as an array (the Entra admin center's
    JSON download) are read alike."""
    from secpipe import formats

    name, d = _auto("msgraph-docs-signin-list.json")
    assert name == "k8s_audit" and not d.dead and d.events == 1
    (r,) = _rows(d)
    assert (r["class_uid"], r["activity_id"], r["status_id"], r["status_code"]) == (3002, 1, 1, "0")
    assert r["user"]["name"] == "testaccount1@contoso.com" and r["user"]["uid"] == "26be570a-ae82-4189-b4e2-a37c6808512d"
    assert r["src_endpoint"]["ip"] == "131.107.159.37" and r["src_endpoint"]["location"]["city"] == "Redmond"
    assert r["service"]["name"] == "Graph explorer" and r["time"] == 1584126941619
    assert r["metadata"]["original_event_uid"] == "66ea54eb-6301-4ee5-be62-ff5a759b0100"
    page = json.loads((CASES / "msgraph-docs-signin-list.json").read_bytes())
    listed = json.dumps(page["value"]).encode()
    fmt = formats.detect(listed)
    assert fmt is not None and fmt.name == "k8s_audit"
    (again,) = _rows(fmt.decode(listed, "download.json"))
    assert again["metadata"]["uid"] == r["metadata"]["uid"]  # the same sign-in, the same event


def test_activity_log_rest_page_is_unwrapped() -> None:
    """An Activity Log list answer as Azure Resource Manager pages it (``value``, ``nextLink``)."""
    from secpipe import formats

    events = json.loads((CASES / "azure-docs-activity-log-rest.json").read_bytes())
    data = json.dumps({"value": events, "nextLink": "https://management.azure.com/next"}).encode()
    d = formats.get("k8s_audit").decode(data, "page.json")
    assert not d.dead and d.events == 2
    assert [r["api"]["operation"] for r in _rows(d)] == ["Microsoft.Network/networkSecurityGroups/write",
                                                         "Microsoft.ServiceHealth/incident/action"]  # fmt: skip


def test_graph_directory_audits_are_api_activity() -> None:
    """Microsoft Graph's List directoryAudits examples (v1.0): a page of one ``Add member to group``
    (its targets typed ``Type``, the user target named by UPN), and one page with Graph's
    ``@microsoft.graph.tips`` annotation beside ``value``."""
    from secpipe import formats

    name, d = _auto("msgraph-docs-directoryaudit-list.json")
    assert name == "k8s_audit" and not d.dead and d.events == 1
    (r,) = _rows(d)
    assert r["class_uid"] == 6003 and r["metadata"]["product"]["name"] == "Entra ID"
    assert r["api"]["operation"] == "Add member to group" and r["api"]["service"]["name"] == "Core Directory"
    assert r["actor"]["user"]["name"] == "bob@wingtiptoysonline.com" and r["src_endpoint"]["ip"] == "127.0.0.1"
    assert (r["status_id"], r["status_detail"]) == (1, "Successfully added member to group")
    assert [(t["type"], t["name"]) for t in r["resources"]] == [("Group", "Example.com"), ("User", "bob@contoso.com")]
    assert r["time"] == 1515532802721  # activityDateTime 2018-01-09T21:20:02.7215374Z
    page = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
            "@microsoft.graph.tips": "Use $select to choose only the properties your app needs",
            "value": [{"id": "SSGM_b662f17a-4e4d-4e1c-9248-cdec180024b2_MCDC4_88453290", "category": "GroupManagement",
                       "correlationId": "b662f17a-4e4d-4e1c-9248-cdec180024b2", "result": "success", "resultReason": "OK",
                       "activityDisplayName": "GroupLifecyclePolicies_Get", "activityDateTime": "2024-12-27T10:01:19.5796748Z",
                       "loggedByService": "Self-service Group Management", "operationType": "Update",
                       "initiatedBy": {"app": None, "user": {"id": "00000000-0000-0000-0000-000000000000", "displayName": None,
                                                             "userPrincipalName": None, "ipAddress": "10.0.0.0"}},
                       "targetResources": [{"id": "00000000-0000-0000-0000-000000000000", "displayName": None, "type": "N/A",
                                            "modifiedProperties": []}], "additionalDetails": []}]}  # fmt: skip
    data = json.dumps(page).encode()
    fmt = formats.detect(data)
    assert fmt is not None and fmt.name == "k8s_audit"
    d = fmt.decode(data, "page.json")
    assert not d.dead
    (r,) = _rows(d)
    assert r["activity_id"] == 3 and r["src_endpoint"]["ip"] == "10.0.0.0"  # operationType Update


def test_gcp_federated_caller_is_named_by_its_subject() -> None:
    """Google's "Example logs for Workload Identity Federation" (IAM docs): a token exchange and a
    GenerateAccessToken call whose caller has no principalEmail, only the federated principalSubject."""
    from secpipe import formats

    exchange = {"logName": "projects/my-project/logs/cloudaudit.googleapis.com%2Fdata_access",
                "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                                 "authenticationInfo": {"principalSubject": "b6112abb-5791-4507-adb5-7e8cc306eb2e"},
                                 "metadata": {"mapped_principal": "principal://iam.googleapis.com/projects/1234567890123/locations/global/workloadIdentityPools/azure-pool/subject/a1234bcd-5678-9012-efa3-4b5cd678ef9a"},
                                 "methodName": "google.identity.sts.v1.SecurityTokenService.ExchangeToken",
                                 "resourceName": "projects/1234567890123/locations/global/workloadIdentityPools/azure-pool/providers/azure",
                                 "request": {"@type": "type.googleapis.com/google.identity.sts.v1.ExchangeTokenRequest",
                                             "grantType": "urn:ietf:params:oauth:grant-type:token-exchange"}},
                "resource": {"type": "audited_resource"}}
    token = {"logName": "projects/my-project/logs/cloudaudit.googleapis.com%2Fdata_access",
             "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                              "authenticationInfo": {"principalSubject": "principal://iam.googleapis.com/projects/1234567890123/locations/global/workloadIdentityPools/aws-pool/subject/012345678901"},
                              "methodName": "GenerateAccessToken",
                              "request": {"@type": "type.googleapis.com/google.iam.credentials.v1.GenerateAccessTokenRequest",
                                          "name": "projects/-/serviceAccounts/my-service-account@my-project.iam.gserviceaccount.com"},
                              "resourceName": "projects/-/serviceAccounts/123456789012345678901"},
             "resource": {"labels": {"email_id": "my-service-account@my-project.iam.gserviceaccount.com", "project_id": "my-project",
                                     "unique_id": "123456789012345678901"}, "type": "service_account"}}  # fmt: skip
    data = b"\n".join(json.dumps(doc).encode() for doc in (exchange, token))
    fmt = formats.detect(data)
    assert fmt is not None and fmt.name == "k8s_audit"
    d = fmt.decode(data, "gcp.json")
    assert not d.dead
    ex, tok = _rows(d)
    assert ex["actor"]["user"]["name"] == "b6112abb-5791-4507-adb5-7e8cc306eb2e" and ex["actor"]["user"]["email_addr"] is None
    assert tok["actor"]["user"]["name"].endswith("/workloadIdentityPools/aws-pool/subject/012345678901")
    assert tok["api"]["operation"] == "GenerateAccessToken" and tok["cloud"]["project_uid"] == "my-project"


def test_entra_signin_with_a_us_time_takes_its_created_time() -> None:
    """Elastic's alternative-time signinlogs test: a service principal's sign-in whose Azure Monitor
    ``time`` is ``11/14/2025 1:48:53 AM`` (no service principal name either)."""
    name, d = _auto("elastic-azure-signinlogs-alt-time.log")
    assert name == "k8s_audit" and not d.dead
    (r,) = _rows(d)
    assert r["time"] == 1763084776428  # properties.createdDateTime 2025-11-14T01:46:16.4282975+00:00
    assert not r["metadata"].get("labels")  # not the receipt time
    assert r["device"]["uid"] == "55555555-5555-5555-5555-555555555555" and r["device"]["name"] == "DevicePlaceholder"
    # the app signed in as itself: named by its display name; what it signed in to is the resource
    assert (r["user"]["name"], r["user"]["uid"]) == ("Placeholder Application Name", "99999999-9999-9999-9999-999999999999")
    assert r["service"]["name"] == "MDATPNetworkScanAgent" and r["status_id"] == 1


def test_activity_log_service_principal_caller() -> None:
    """Elastic's activitylogs pipeline test: a service principal lists an Event Hubs namespace's keys;
    the record names no caller and its token has no name claim, only the object id and app id."""
    name, d = _auto("elastic-azure-activitylogs-sp.log")
    assert name == "k8s_audit" and not d.dead
    (r,) = _rows(d)
    assert r["api"]["operation"] == "MICROSOFT.EVENTHUB/NAMESPACES/AUTHORIZATIONRULES/LISTKEYS/ACTION"
    actor = r["actor"]
    assert actor["user"]["uid"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"  # the objectidentifier claim
    assert (actor["user"]["type_id"], actor["user"]["type"]) == (4, "Service")  # RBAC evidence: ServicePrincipal
    assert actor["app_uid"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"  # the appid claim
    assert r["src_endpoint"]["ip"] == "81.2.69.144" and r["cloud"]["account"]["uid"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"


def test_gcp_audit_record_places_its_region_and_zone() -> None:
    """The GKE audit records of Elastic's pipeline tests (round 23's samples): a zonal cluster
    (``location`` us-central1-a) and a regional one (``location`` us-central1)."""
    _, zonal = _auto("elastic-gke-k8s-nonmatching-resourcename.log")
    (z,) = _rows(zonal)
    assert (z["cloud"]["region"], z["cloud"]["zone"]) == ("us-central1", "us-central1-a")
    _, mixed = _auto("elastic-k8s-audit-mixed.log")
    (g,) = [r for r in _rows(mixed) if r["metadata"]["product"]["name"] == "Google Cloud Audit Logs"]
    assert (g["cloud"]["region"], g["cloud"]["zone"]) == ("us-central1", None)
