"""CloudTrail ``userIdentity`` members no OCSF attribute takes are kept in ``unmapped.userIdentity``
(round 31), as the OCSF project's CloudTrail mapping leaves them in unmapped: they were dropped
(the typed walk reads the placed members only), so a role session's ``sourceIdentity`` (who assumed
the role, kept through role chaining) was in no column.

Samples: tests/cases/runtime27/aws-docs-cloudtrail-vpce-web-identity.json (AWS's documentation
records: an EKS IRSA web identity session, an EC2 instance role with ``ec2RoleDelivery``) and
tests/cases/holdout/elastic-cloudtrail-user-authentication.log (Elastic's IAM Identity Center
sign-in: ``onBehalfOf.identityStoreArn``, ``credentialId``). The source identity and ``inScopeOf``
record is the first documentation record with the members CloudTrail's userIdentity reference
lists (``sessionContext.sourceIdentity``; ``inScopeOf``'s issuerType, credentialsIssuedTo, sourceArn,
sourceAccount) written in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases"
VPCE = CASES / "runtime27" / "aws-docs-cloudtrail-vpce-web-identity.json"


def _rows(doc: bytes, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    dec = same_both_ways("cloudtrail", doc, monkeypatch, "userIdentity")
    assert not dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def _kept(row: dict) -> object:
    return json.loads(row["unmapped"]).get("userIdentity") if row["unmapped"] else None


def test_web_identity_and_ec2_role_members_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    plain, irsa, ec2, web_user = _rows(VPCE.read_bytes(), monkeypatch)
    assert _kept(plain) is None and _kept(web_user) is None  # every member placed
    assert irsa["actor"]["idp"]["name"].startswith("arn:aws:iam::123456789012:oidc-provider/oidc.eks.")
    assert _kept(irsa) == {"sessionContext": {"webIdFederationData": {"attributes": {}}}}
    assert _kept(ec2) == {"sessionContext": {"ec2RoleDelivery": "1.0"}}
    assert ec2["actor"]["session"]["issuer"] == "arn:aws:iam::123456789012:role/Alice"


def test_identity_center_store_and_credential_id_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    (row,) = _rows((CASES / "holdout" / "elastic-cloudtrail-user-authentication.log").read_bytes(), monkeypatch)
    assert row["class_uid"] == 3002 and row["user"]["uid"] == "redacted"  # onBehalfOf.userId
    assert _kept(row) == {"onBehalfOf": {"identityStoreArn": "arn:aws:identitystore::redacted:identitystore/redacted"},
                          "credentialId": "redacted"}
    assert list(json.loads(row["unmapped"]))[0] == "userIdentity"  # before the record's raw fields


def test_source_identity_and_in_scope_of_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = json.loads(VPCE.read_bytes())["Records"][0]
    rec["userIdentity"]["sessionContext"]["sourceIdentity"] = "Admin"
    rec["userIdentity"]["inScopeOf"] = {"issuerType": "AWS::Lambda::Function", "credentialsIssuedTo":
                                        "arn:aws:lambda:us-east-1:012345678910:function:f1",
                                        "sourceArn": "arn:aws:lambda:us-east-1:012345678910:function:f1",
                                        "sourceAccount": "012345678910"}
    rec["userIdentity"]["credentialId"] = None  # a JSON null member: kept as written
    (row,) = _rows(json.dumps({"Records": [rec]}).encode(), monkeypatch)
    assert _kept(row) == {"sessionContext": {"sourceIdentity": "Admin"}, "credentialId": None,
                          "inScopeOf": rec["userIdentity"]["inScopeOf"]}
    assert row["actor"]["user"]["uid"] == "AROAREDACTEDREDACTED:user@domain.com"
    assert json.loads(row["unmapped"])["eventType"] == "AwsVpceEvent"
