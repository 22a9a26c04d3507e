"""How Sigma field names find their values: presence, field-name case, built-in mappings.

Published rules (tests/cases/sigma_holdout, SigmaHQ; SOURCE.md) over real events
(../shared/data/real: panther-analysis Kubernetes/GitHub audit samples, falco Kubernetes audit
traces) or, where no sample holds a matching event, events written in the source's format.
Expectations come from reading each rule and event:

- ``|exists`` tests the key, whatever its value (the modifiers appendix: "only verifies the
  presence of a field, not its value, be it empty or null");
- a field name is read as spelled and, where the record lacks that spelling, with another
  case (pre-2026 Okta rules say ``displaymessage`` for Okta's ``displayMessage``);
- SigmaHQ Kubernetes rules naming ``apiGroup`` / ``hostPath`` / ``capabilities`` read
  ``objectRef.apiGroup`` and the pod spec's volumes / containers.

Each case runs on both evaluation paths (distinct-value fast path and SQL path).
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.detect.sigma.engine import RuleSet

CASES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"
K8S = "panther-analysis/extracted/k8s_audit.jsonl"
GH = "panther-analysis/extracted/github_audit.jsonl"
TRACES = "falco/test/trace_files/k8s_audit/"
SIGMAHQ = "sigmahq-sigma/rules/application/"


def _hits(rule: Path, fmt: str, body: bytes, placeholders: dict[str, list[str]] | None = None) -> list[int]:
    """Matched rows, asserting both evaluation paths agree (also used by test_sigma_holdout14)."""
    rs = load_rules([rule], placeholders=placeholders)
    assert not rs.unsupported, rs.unsupported
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead, dec.dead
    out = []
    for sql_only in (False, True):
        engine = RuleSet(rs.rules, distinct_values=False) if sql_only else rs
        out.append(sorted({r for b in dec.batches for r in engine.matches(b).column("row").to_pylist()}))
    assert out[0] == out[1], out
    return out[0]


def _ndjson(*events: dict) -> bytes:
    return b"\n".join(msgspec.json.encode(e) for e in events)


def _rule(tmp_path: Path, detection: str, logsource: str = "{product: secpipe, service: json}") -> Path:
    p = tmp_path / "r.yml"
    p.write_text(f"title: t\nid: 5f1a1111-2222-4333-8444-555566667778\nstatus: test\nlogsource: {logsource}\n"
                 f"level: low\ndetection:\n{detection}")
    return p


# -- |exists: a key holding null exists ------------------------------------------------

def test_exists_counts_json_null_as_present(tmp_path: Path) -> None:
    events = [{"User": "admin"}, {"User": ""}, {"User": None}, {"Image": "x"}]
    assert _hits(_rule(tmp_path, "  sel: {User|exists: true}\n  condition: sel"), "json", _ndjson(*events)) == [0, 1, 2]
    assert _hits(_rule(tmp_path, "  sel: {User|exists: false}\n  condition: sel"), "json", _ndjson(*events)) == [3]
    # `field: null` keeps its meaning: missing or JSON null
    assert _hits(_rule(tmp_path, "  sel: {User: null}\n  condition: sel"), "json", _ndjson(*events)) == [2, 3]


def test_exists_on_nested_and_array_paths(tmp_path: Path) -> None:
    events = [{"a": {"b": None}}, {"a": {}}, {"a": [{"c": 1}, {"b": None}]}, {"a": [{"c": 1}]}, {"a": None}]
    body = _ndjson(*events)
    assert _hits(_rule(tmp_path, "  sel: {a.b|exists: true}\n  condition: sel"), "json", body) == [0, 2]
    assert _hits(_rule(tmp_path, "  sel: {a.b|exists: false}\n  condition: sel"), "json", body) == [1, 3, 4]
    assert _hits(_rule(tmp_path, "  sel: {a|exists: true}\n  condition: sel"), "json", body) == [0, 1, 2, 3, 4]


def test_exists_on_syslog_key_value_pairs(tmp_path: Path) -> None:
    lines = b"<13>Nov 29 10:00:00 host useradd[1]: new user: name=eve, UID=0\n<13>Nov 29 10:00:01 host sshd[2]: hello"
    rule = _rule(tmp_path, "  sel: {UID|exists: true}\n  condition: sel", "{product: linux}")
    assert _hits(rule, "syslog", lines) == [0]


# -- field-name case -------------------------------------------------------------------

def _okta(**over: object) -> dict:
    ev = {"uuid": "f0c1", "published": "2026-11-29T10:00:00.000Z", "eventType": "user.account.lock",
          "displayMessage": "Max sign in attempts exceeded", "severity": "WARN",
          "actor": {"id": "00u1", "type": "User", "alternateId": "eve@example.com", "displayName": "Eve"},
          "outcome": {"result": "FAILURE", "reason": "LOCKED_OUT"}}
    ev.update(over)
    return ev


def test_old_okta_rule_lowercase_names_read_camel_case_events() -> None:
    body = _ndjson(_okta(), _okta(displayMessage="User login to Okta"), _okta(displaymessage="Max sign in attempts exceeded"))
    assert _hits(CASES / "okta_user_account_locked_out.yml", "json", body) == [0, 2]


def test_exact_spelling_wins_over_another_case(tmp_path: Path) -> None:
    # a record with both spellings is read by the one the rule names
    body = _ndjson({"eventtype": "a", "eventType": "b"}, {"eventType": "a"}, {"EventType": "a"})
    assert _hits(_rule(tmp_path, "  sel: {eventtype: a}\n  condition: sel"), "json", body) == [0, 1, 2]
    assert _hits(_rule(tmp_path, "  sel: {eventType: a}\n  condition: sel"), "json", body) == [1, 2]
    assert _hits(_rule(tmp_path, "  sel: {eventType: b}\n  condition: sel"), "json", body) == [0]


def test_okta_nested_and_array_fields_any_case() -> None:
    def ev(behaviors: str, app: str = "Okta Admin Console") -> dict:
        return _okta(eventType="policy.evaluate_sign_on", displayMessage="Evaluation of sign-on policy",
                     target=[{"id": "0oa1", "type": "AppInstance", "alternateId": app, "displayName": app}],
                     debugContext={"debugData": {"behaviors": behaviors, "logOnlySecurityData": "{}"}})

    body = _ndjson(ev("{New Geo-Location=POSITIVE}"), ev("{New Geo-Location=NEGATIVE}"),
                   ev("{New Device=POSITIVE}", "Okta Dashboard"))
    assert _hits(CASES / "okta_new_behaviours_admin_console.yml", "json", body) == [0]


@pytest.mark.parametrize("idx", [59, 61])
def test_lowercased_cloudtrail_keys_match_camel_case_rule(real: Path, idx: int) -> None:
    """Panther's CloudTrail samples 59 and 61 write ``userIdentity.sessioncontext.sessionissuer.type``
    in lower case; the SigmaHQ rule names ``sessionContext.sessionIssuer.type`` (Role): a match."""
    rec = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"][idx]
    assert rec["userIdentity"]["sessioncontext"]["sessionissuer"]["type"] == "Role"
    rule = real / "sigmahq-sigma/rules/cloud/aws/cloudtrail/aws_sts_assumerole_misuse.yml"
    assert _hits(rule, "cloudtrail", msgspec.json.encode({"Records": [rec]})) == [0]


def test_okta_rules_lowercase_names_regex_and_boolean() -> None:
    failed = _okta(eventType="user.session.start", legacyEventType="core.user_auth.login_failed",
                   actor={"id": "unknown", "type": "User", "alternateId": "Hunter2!Spring"})
    email = failed | {"actor": {"id": "unknown", "type": "User", "alternateId": "bob@example.com"}}
    service = failed | {"actor": {"id": "0oa1x", "type": "PublicClientApp", "alternateId": "0oa1xyz"}}
    body = _ndjson(failed, email, service, _okta())
    # legacyeventtype / actor.alternateid: a password-like alternateId is neither an email nor an 0oa id
    assert _hits(CASES / "okta_password_in_alternateid_field.yml", "json", body) == [0]
    proxy = _okta(securityContext={"isProxy": True}, debugContext={"debugData": {"requestUri": "/api/v1/admin/users"}})
    direct = proxy | {"securityContext": {"isProxy": False}}
    # securityContext.isProxy: 'true' matches the JSON boolean true
    assert _hits(CASES / "okta_admin_activity_from_proxy_query.yml", "json", _ndjson(proxy, direct)) == [0]


def test_okta_mfa_fatigue_count_by_lowercase_fields() -> None:
    """``count(actor.alternateid) by eventtype > 20``: distinct alternateIds per eventType."""
    rs = load_rules([CASES / "okta_mfa_fatigue.yml"])
    assert not rs.unsupported and len(rs.correlations) == 1
    eng = CorrelationEngine(rs, None, clock=lambda: 1795946400.0)
    fired = []
    for i in range(22):
        ev = _okta(uuid=f"p{i}", published=f"2026-11-29T10:00:{i:02d}.000Z", eventType="system.push.send_factor_verify_push",
                   actor={"id": f"00u{i}", "type": "User", "alternateId": f"user{i}@example.com"})
        b = formats.get("json").decode(msgspec.json.encode(ev), "t").batches[0]
        if eng.process(b, rs.matches(b)) is not None:
            fired.append(i)
    assert fired == [20]  # the 21st distinct alternateId within 10 minutes


def test_bedrock_filter_errorcode_exists_even_when_null() -> None:
    def ct(**f: object) -> dict:
        rec = {"eventVersion": "1.09", "eventTime": "2026-11-29T10:00:00Z", "eventSource": "bedrock.amazonaws.com",
               "eventName": "InvokeModel", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
               "userAgent": "Boto3/1.34.0", "eventID": "e1", "eventType": "AwsApiCall", "recipientAccountId": "111122223333",
               "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}}
        return rec | f

    recs = [ct(), ct(errorCode="AccessDenied", errorMessage="denied"), ct(eventName="ListFoundationModels"),
            ct(errorCode=None)]
    body = msgspec.json.encode({"Records": recs})
    assert _hits(CASES / "aws_cloudtrail_bedrock_multiple_invokemodel_requests.yml", "cloudtrail", body) == [0]


# -- Kubernetes audit: SigmaHQ rules on real events -------------------------------------

def _line(real: Path, sample: str, idx: int) -> bytes:
    return (real / sample).read_text().splitlines()[idx].encode()


def _k8s_event(**over: object) -> dict:
    """A kube-apiserver audit.k8s.io/v1 Event at ResponseComplete (fields as the API server writes them)."""
    ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse", "auditID": "8f1c",
          "stage": "ResponseComplete", "requestURI": "/", "verb": "create",
          "user": {"username": "alice", "groups": ["system:authenticated"]}, "sourceIPs": ["10.0.0.8"],
          "userAgent": "kubectl/v1.30.1", "responseStatus": {"metadata": {}, "code": 201},
          "requestReceivedTimestamp": "2026-11-29T10:00:00.000000Z", "stageTimestamp": "2026-11-29T10:00:00.010000Z"}
    ev.update(over)
    return ev


K8S_REAL = [
    # verb create, objectRef.resource pods, a volume with hostPath
    ("kubernetes_audit_hostpath_mount.yml", K8S, 56, True),
    ("kubernetes_audit_hostpath_mount.yml", K8S, 57, True),
    ("kubernetes_audit_hostpath_mount.yml", TRACES + "create_nginx_pod_sensitive_mount.json", 0, True),
    ("kubernetes_audit_hostpath_mount.yml", TRACES + "create_nginx_pod_unsensitive_mount.json", 0, False),  # verb get
    ("kubernetes_audit_hostpath_mount.yml", K8S, 47, False),  # a pod without volumes
    ("kubernetes_audit_pod_in_system_namespace.yml", K8S, 57, True),  # pods create in kube-system
    ("kubernetes_audit_pod_in_system_namespace.yml", K8S, 56, False),  # namespace default
    ("kubernetes_audit_rolebinding_modification.yml", TRACES + "create_clusterrolebinding.json", 0, True),
    ("kubernetes_audit_rolebinding_modification.yml", TRACES + "create_clusterrole.json", 0, False),
    ("kubernetes_audit_secrets_enumeration.yml", K8S, 82, True),  # list secrets
    ("kubernetes_audit_unauthorized_unauthenticated_actions.yml", K8S, 48, True),  # responseStatus.code 403
    ("kubernetes_audit_unauthorized_unauthenticated_actions.yml", K8S, 47, False),  # 201
    # no objectRef.apiGroup in Panther's cronjob / webhook samples (only apiVersion 'batch/v1'): no match
    ("kubernetes_audit_cronjob_modification.yml", K8S, 24, False),
    ("kubernetes_audit_change_admission_controller.yml", K8S, 13, False),
]


@pytest.mark.parametrize(("rule", "sample", "idx", "expected"), K8S_REAL)
def test_k8s_rule_on_real_event(real: Path, rule: str, sample: str, idx: int, expected: bool) -> None:
    assert _hits(CASES / rule, "k8s_audit", _line(real, sample, idx)) == ([0] if expected else [])


def test_k8s_privileged_pod_capabilities_read_the_pod_spec(real: Path) -> None:
    rule = real / SIGMAHQ / "kubernetes/audit/kubernetes_audit_privileged_pod_creation.yml"
    # pods create whose container adds SYS_ADMIN (securityContext.capabilities)
    assert _hits(rule, "k8s_audit", _line(real, K8S, 47)) == [0]
    assert _hits(rule, "k8s_audit", _line(real, K8S, 56)) == []  # hostPath volume, no capabilities
    pod = json.loads(_line(real, K8S, 47))
    pod["requestObject"]["spec"]["initContainers"] = pod["requestObject"]["spec"].pop("containers")
    assert _hits(rule, "k8s_audit", msgspec.json.encode(pod)) == [0]


def test_k8s_api_group_rules_read_object_ref(real: Path) -> None:
    review = _k8s_event(requestURI="/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                        objectRef={"resource": "selfsubjectrulesreviews", "apiGroup": "authorization.k8s.io",
                                   "apiVersion": "v1"})
    other = _k8s_event(objectRef={"resource": "selfsubjectrulesreviews", "apiGroup": "example.io", "apiVersion": "v1"})
    rule = real / SIGMAHQ / "kubernetes/audit/kubernetes_audit_rbac_permisions_listing.yml"
    assert _hits(rule, "k8s_audit", _ndjson(review, other)) == [0]
    patch = _k8s_event(verb="patch", requestURI="/apis/apps/v1/namespaces/default/deployments/web",
                       objectRef={"resource": "deployments", "namespace": "default", "name": "web", "apiGroup": "apps",
                                  "apiVersion": "v1"})
    rule = real / SIGMAHQ / "kubernetes/audit/kubernetes_audit_sidecar_injection.yml"
    assert _hits(rule, "k8s_audit", _ndjson(patch, _k8s_event(objectRef={"resource": "deployments", "apiGroup": "apps"}))) == [0]
    cron = _k8s_event(objectRef={"resource": "cronjobs", "namespace": "default", "name": "backup", "apiGroup": "batch",
                                 "apiVersion": "v1"})
    assert _hits(CASES / "kubernetes_audit_cronjob_modification.yml", "k8s_audit", _ndjson(cron)) == [0]


# -- GitHub audit log: SigmaHQ rules on real events -------------------------------------

GH_REAL = [
    ("github_delete_action_invoked.yml", 43, True),  # repo.destroy
    ("github_delete_action_invoked.yml", 50, True),
    ("github_delete_action_invoked.yml", 0, False),  # workflows.completed_workflow_run
    ("github_disable_high_risk_configuration.yml", 6, True),  # business_advanced_security.disabled
    ("github_disable_high_risk_configuration.yml", 10, True),  # org.disable_two_factor_requirement
    ("github_repo_or_org_transferred.yml", 38, True),  # repo.transfer_outgoing
    ("github_protected_branch_policy_bypassed.yml", 7, True),  # protected_branch.policy_override
    ("github_org_member_role_changed_to_admin.yml", 48, False),  # org.update_member naming no permission
]


@pytest.mark.parametrize(("rule", "idx", "expected"), GH_REAL)
def test_github_rule_on_real_event(real: Path, rule: str, idx: int, expected: bool) -> None:
    assert _hits(CASES / rule, "github", _line(real, GH, idx)) == ([0] if expected else [])


def test_github_rules_with_second_fields(real: Path) -> None:
    base = json.loads(_line(real, GH, 48))
    admin = base | {"permission": "admin"}
    member = base | {"permission": "read"}
    assert _hits(CASES / "github_org_member_role_changed_to_admin.yml", "github", _ndjson(admin, member)) == [0]
    public = base | {"action": "repo.change_visibility", "visibility": "public", "previous_visibility": "private"}
    internal = public | {"visibility": "internal"}
    assert _hits(CASES / "github_repository_visibility_changed_to_public.yml", "github", _ndjson(public, internal)) == [0]
    stream = base | {"action": "audit_log_streaming.destroy"}
    assert _hits(CASES / "github_audit_log_stream_modified.yml", "github", _ndjson(stream, base)) == [0]


def test_every_k8s_and_github_rule_loads(real: Path) -> None:
    rs = load_rules([CASES, real / SIGMAHQ])
    assert not rs.unsupported, rs.unsupported
    names = {Path(r.path).name for r in rs.rules}
    assert len([n for n in names if n.startswith(("kubernetes_", "github_"))]) == 34
