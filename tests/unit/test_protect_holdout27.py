"""Holdout sweep round 27: protection of the secrets secpipe is handed.

- GitHub REST API secret scanning alerts (``GET /repos/{owner}/{repo}/secret-scanning/alerts``, PyGithub's
  recorded answer in tests/cases/holdout) carry the secret itself in ``secret`` (unless fetched with
  ``hide_secret=true``); it was stored verbatim in ``raw_data``, which spreads the credential the finding
  reports to every reader of the lake. The alert keeps every other byte, and its ``metadata.uid``.
- Public certificates are no secrets: a Kubernetes audit event of a CSR's approval (tests/cases/protect27) carries
  the request and the issued certificate as base64 PEM (as a webhook's caBundle does); both were redacted as
  generic secrets, each a "Secret leaked ... rotate the credential" finding. A private key so encoded still is one.
- Values after a password key that are no password (JSON null/true/false, CloudTrail's ``****``, ``<redacted>``,
  ``$DB_PASSWORD``, ``$(cat ...)``) stay: ``"refresh_token": null`` became ``[REDACTED:password]``, which also
  broke the JSON of raw_data.
- String leaves inside lists were never scanned: a Falco alert's ``evidences[].process.cmd_line`` (and
  ``evidences[].data``) kept a token that raw_data, message and desc had redacted.
- Tokenize and mask fields inside lists (``src_endpoint.intermediate_ips[]``, ``actor.user.groups[].name``) were
  skipped without a word; they are tokenized/masked in the column and in raw_data like any field.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secpipe import formats
from secpipe.security.keys import generate_key
from secpipe.transforms.protect.mask import MaskStage
from secpipe.transforms.protect.redact import RedactStage
from secpipe.transforms.protect.tokenize import TokenizeStage
from tests.unit.holdout_support import redact_lines

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
CASES = Path(__file__).resolve().parents[1] / "cases" / "protect27"
SECRET = "aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def _decoded(body: bytes) -> list[dict]:
    dec = formats.get("github").decode(body, "alerts.json")
    assert not dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def test_a_rest_secret_scanning_alert_keeps_its_secret_out_of_raw_data() -> None:
    body = (HOLDOUT / "pygithub-secret-scanning-alerts.json").read_bytes()
    alerts = json.loads(body)
    assert alerts[0]["secret"] == SECRET
    forms = {"array": body, "ndjson": b"\n".join(msgspec.json.encode(a) for a in alerts),
             "pretty": json.dumps(alerts, indent=2).encode()}
    uids = set()
    for form, data in forms.items():
        (row,) = _decoded(data)
        assert SECRET not in row["raw_data"], form
        assert json.loads(row["raw_data"]) == {**alerts[0], "secret": "[REDACTED:adafruit_io_key]"}, form
        assert row["finding_info"]["title"] == "Secret detected: Adafruit IO Key"
        uids.add(row["metadata"]["uid"])
    assert uids == {"c891afb1f3bf03327cf120803f209d44"}  # the alert as received, as before the mask


def test_only_the_alerts_own_secret_key_is_masked() -> None:
    (alert,) = json.loads((HOLDOUT / "pygithub-secret-scanning-alerts.json").read_bytes())
    alert = {**alert, "resolution_comment": 'the "secret": "aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX" is a test key',
             "secret": 'ab\\"c"d'}
    (row,) = _decoded(msgspec.json.encode(alert))
    got = json.loads(row["raw_data"])
    assert got["secret"] == "[REDACTED:adafruit_io_key]"
    assert got["resolution_comment"] == alert["resolution_comment"]


def test_public_certificates_in_base64_are_no_secrets() -> None:
    line = (CASES / "k8s-audit-csr-approval.json").read_text().strip()
    messages, raws, kinds = redact_lines([line])
    assert messages == [line] and raws == [line] and kinds == []
    csr = json.loads(line)["responseObject"]
    assert base64.b64decode(csr["spec"]["request"]).startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    # the DER of a certificate as base64 (a JWKS x5c, a SAML signing certificate) is public too
    der = base64.b64encode(base64.b64decode("".join(base64.b64decode(csr["status"]["certificate"]).decode().splitlines()[1:-1])))
    assert redact_lines([json.dumps({"x5c": [der.decode()]})])[2] == []


def test_a_private_key_in_base64_is_still_redacted() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    for enc, fmt in ((serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
                     (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8)):
        blob = base64.b64encode(key.private_bytes(enc, fmt, serialization.NoEncryption())).decode()
        line = json.dumps({"kind": "Secret", "data": {"tls.key": blob}})
        messages, _, kinds = redact_lines([line])
        assert blob not in messages[0] and kinds == ["generic_secret"]


def test_values_that_are_no_password_stay() -> None:
    lines = [
        # an OAuth access token answer without a refresh token (django-oauth-toolkit's AccessToken as DRF renders it)
        '{"user": 4, "refresh_token": null, "application": null, "expires": "3021-10-21T13:00:15.865046Z", "scope": "write"}',
        '{"requires_2fa": true, "access_token": null, "refresh_token": null, "token_type": "bearer"}',
        '{"masterUserPassword":"****","masterUsername":"myawsuser"}',
        '{"client_secret": "<redacted>", "api_key": "REDACTED"}',
        "mysql -h db --password=$MYSQL_PASSWORD app",
        "mysql -h db --password=$(cat /run/secrets/db_password) app",
    ]
    messages, raws, kinds = redact_lines(lines)
    assert messages == lines and kinds == []
    assert json.loads(raws[1]) == json.loads(lines[1])
    # a password that only starts like one of them is still one
    real = ["password=nullified-Zx9q", "password: $ecretP4ss", '{"password": "xXx_h4x0r"}']
    assert redact_lines(real)[0] == ["password=[REDACTED:password]", "password: [REDACTED:password]",
                                     '{"password": "[REDACTED:password]"}']


def test_secrets_inside_list_columns_are_redacted(real: Path) -> None:
    # falco's own test output (single_rule_with_cat_write.json) with the command a process ran: a curl with the
    # example token of GitHub's "Behind GitHub's new authentication token formats" post
    first = (real / "falco/test/output_files/single_rule_with_cat_write.json").read_text().splitlines()[0]
    alert = json.loads(first)
    cmd = 'curl -s -H "Authorization: token ghp_16C7e42F292c6912E7710c838347Ae178B4a" https://api.github.com/user'
    alert["output_fields"]["proc.cmdline"] = cmd
    alert["output"] = alert["output"].replace("cat /dev/null", cmd)
    body = "\n".join([first, json.dumps(alert), first]).encode()
    (batch,) = formats.get("falco").decode(body, "falco.json").batches
    out = RedactStage("r", {"type": "redact"}).process(batch)
    rows, before = out[0].to_pylist(), batch.to_pylist()
    assert "ghp_16C7e42F292c6912E7710c838347Ae178B4a" not in json.dumps(rows[1], default=str)
    assert rows[1]["evidences"][0]["process"]["cmd_line"] == \
        'curl -s -H "Authorization: token [REDACTED:github_token]" https://api.github.com/user'
    assert rows[0] == before[0] and rows[2] == before[2] and out[0].schema.equals(batch.schema)
    fields = {(r["metadata"]["correlation_uid"], json.loads(r["unmapped"])["field"]) for r in out[1].to_pylist()}
    uid = before[1]["metadata"]["uid"]
    assert {(uid, "evidences[].process.cmd_line"), (uid, "evidences[].data"), (uid, "raw_data")} <= fields


@pytest.fixture
def tokenize_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_key()
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", key)
    return key


def test_fields_inside_lists_are_tokenized_and_masked(real: Path, tokenize_key: str) -> None:
    # a configured field inside a list (the X-Forwarded-For hops of a k8s audit event's sourceIPs, its user's
    # groups) was skipped without a word: the values stayed in the column and in raw_data
    lines = (real / "panther-analysis/extracted/k8s_audit.jsonl").read_bytes().splitlines()
    hops = [ln for ln in lines if len(json.loads(ln).get("sourceIPs") or []) > 1]
    grouped = [ln for ln in lines if (json.loads(ln).get("user") or {}).get("groups")][:3]
    body = b"\n".join(hops + grouped)
    (batch,) = formats.get("k8s_audit").decode(body, "audit.jsonl").batches
    fields = {"src_endpoint.intermediate_ips[]": "ip", "actor.user.groups[].name": "hmac"}
    out = TokenizeStage("p", {"type": "tokenize", "fields": fields}).process(batch)[0]
    assert out.schema.equals(batch.schema)
    for before, after in zip(batch.to_pylist(), out.to_pylist(), strict=True):
        raw = after["raw_data"]
        for ip, tok in zip(before["src_endpoint"].get("intermediate_ips") or [], after["src_endpoint"].get("intermediate_ips") or [],
                           strict=True):
            assert tok != ip and ipaddress.ip_address(tok).version == ipaddress.ip_address(ip).version
            assert f'"{ip}"' not in raw
        for g, tok in zip(before["actor"]["user"].get("groups") or [], after["actor"]["user"].get("groups") or [], strict=True):
            assert tok["name"].startswith("tok:") and f'"{g["name"]}"' not in raw
    assert any(r["src_endpoint"].get("intermediate_ips") for r in batch.to_pylist())
    masked = MaskStage("m", {"type": "mask", "fields": ["actor.user.groups[].name"], "keep_last": 4}).process(batch)[0]
    names = [g["name"] for r in masked.to_pylist() for g in r["actor"]["user"].get("groups") or []]
    assert names and all(n.startswith("*") for n in names)
