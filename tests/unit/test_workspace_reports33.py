"""SigmaHQ's Google Workspace rules over the Admin SDK Reports API's activities (session 33).

The rules (``product: gcp, service: google_workspace.*``) name the Workspace audit log as Cloud Logging
holds it (``eventService`` / ``protoPayload.serviceName: admin.googleapis.com``, the event's
``eventName``, its parameters by name); the Reports API's ``activities.list`` (what Workspace pollers
and Elastic's ``google_workspace`` integration read) gives the same activity as ``id.applicationName``
and ``events[]`` (``name``, ``type``, ``parameters[]``), and no rule found anything in it. Cases:
tests/cases/identity33 (SOURCE.md: Elastic's login pipeline test lines, a page written from the
Reports API reference); rules: tests/cases/sigma_holdout (SigmaHQ, DRL 1.1).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import orjson

from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import sigma_rows
from tests.unit.test_sigma_holdout28 import _groups

CASES = Path(__file__).resolve().parents[1] / "cases" / "identity33"
RULES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"


def _rule(name: str) -> object:
    return load_rules([RULES / f"gcp_gworkspace_{name}.yml"])


def _page_lines() -> bytes:
    """The page's activities, one a line (the records the json format reads the page into)."""
    page = orjson.loads((CASES / "workspace-activities-page.json").read_bytes())
    return b"\n".join(orjson.dumps(a) for a in page["items"])


def test_sigmahq_workspace_rules_fire_on_reports_api_activities() -> None:
    # 0: ENFORCE_STRONG_AUTHENTICATION, NEW_VALUE false; 1: GRANT_ADMIN_PRIVILEGE; 2: a Drive activity
    # of two events, change_acl_editors with visibility people_with_link
    body = _page_lines()
    assert sigma_rows(_rule("mfa_disabled"), body) == [0]
    assert sigma_rows(_rule("user_granted_admin_privileges"), body) == [1]
    assert sigma_rows(_rule("drive_file_shared_externally"), body) == [2]
    assert sigma_rows(_rule("password_policy_changed"), body) == []
    assert sigma_rows(_rule("suspicious_login"), body) == []  # admin's, not login's


def test_service_is_the_application_only_of_that_name() -> None:
    # the MFA rule's eventService admin.googleapis.com is the admin application's: a login activity
    # of the same event and parameter is not the Admin console's
    body = _page_lines().replace(b'"applicationName":"admin"', b'"applicationName":"login"', 1)
    assert sigma_rows(_rule("mfa_disabled"), body) == []
    body = _page_lines().replace(b'"value":"false"', b'"value":"true"', 1)
    assert sigma_rows(_rule("mfa_disabled"), body) == []


def test_rules_read_elastics_workspace_login_lines(tmp_path: Path) -> None:
    # Elastic's pipeline test lines give each event a record of its own (events an object)
    body = (CASES / "elastic-workspace-login.log").read_bytes()
    assert sigma_rows(_rule("suspicious_login"), body) == [1]
    p = tmp_path / "r.yml"
    p.write_text(textwrap.dedent("""
        title: parameters of each type
        id: 0b6f3c52-7d1e-4d8a-9a57-33c0d0a1e733
        logsource: {product: gcp, service: google_workspace.login}
        detection:
          suspicious: {eventName: login_success, is_suspicious: 'true'}
          key: {login_challenge_method: security_key}
          condition: 1 of them
        level: low
        """))
    assert sigma_rows(load_rules([p]), body) == [2, 3]  # a boolValue; an element of a multiValue


def test_correlation_groups_by_a_reports_api_parameter(tmp_path: Path) -> None:
    p = tmp_path / "c.yml"
    p.write_text((RULES / "gcp_gworkspace_drive_file_shared_externally.yml").read_text() + textwrap.dedent("""
        ---
        title: files shared externally per document
        id: 9f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c33
        correlation:
          type: event_count
          rules: [5e79cc2d-9f4a-4b27-d1e8-3c6a2f5b8e10]
          group-by: [doc_id]
          timespan: 1d
          condition: {gte: 1}
        level: medium
        """))
    # the Drive activity's two events name the document each: several values group as their list
    assert _groups(p, _page_lines(), "json") == [['["1A2b3C4d5E6f7G8h9I0j","1A2b3C4d5E6f7G8h9I0j"]']]
