"""Real samples secpipe was not developed against, round 30: cloud and runtime logs
(``tests/cases/holdout``, see its SOURCE.md).

Expectations are written from the source documents (Microsoft's sign-in log schema in Azure
Monitor, the Graph ``signIn`` resource), not from secpipe's output.

Regressions covered: Entra ID sign-ins as Azure Monitor diagnostic settings export them were
API Activity with status Success whatever their error code (``resultType`` "50140" was only the
status detail) and no user (``identity`` is a display name, the user is in ``properties``).
"""

from __future__ import annotations

from tests.unit.test_formats_holdout import _auto, _rows


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
