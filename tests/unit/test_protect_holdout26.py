"""Holdout sweep round 26, protect (redact): issuer-prefixed tokens the threat-intel sweep found unredacted.

Formats as the issuers document them (OpenAI's key prefixes; Anthropic's sk-ant-api03-/admin01-; Vault 1.10's
hvs./hvb./hvr. and the legacy s. tokens; Google's ya29. access tokens; SendGrid's 69-character SG. keys; Shopify's
shpat_/shpca_/shppa_/shpss_ + 32 hex (Shopify change log, April 2020); DigitalOcean's dop_v1_/doo_v1_/dor_v1_
(release note, March 2022); Hugging Face's hf_ tokens; Databricks' dapi + 32 hex; Grafana's glsa_/glc_), with the
lengths and alphabets of gitleaks' rules. Example values are the issuers' documentation examples, gitleaks'
test fixtures (cmd/generate/config/rules/*.go, fake by design) and GitGuardian's detector examples, else our own
characters in the documented shape (marked "ours"); none is a live credential. Near-misses are gitleaks' false
positive fixtures and identifiers real code and logs carry (hf_hub_download, "dapibus", o.s.b.f.s.Default...).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from secpipe.transforms.protect import _native
from secpipe.transforms.protect.redact import AWS_KEY, PREFILTER, redact_text
from tests.unit.holdout_support import redact_lines

TOKENS = {
    # gitleaks openai.go fixtures (project, service-account and admin keys); a legacy key, ours (20 + T3BlbkFJ + 20)
    "openai_key": ["sk-proj-SevzWEV_NmNnMndQ5gn6PjFcX_9ay5SEKse8AL0EuYAB0cIgFW7Equ3vCbUbYShvii6L3rBw3WT3BlbkFJdD9FqO9Z3BoBu9F"
                   "-KFR6YJtvW6fUfqg2o2Lfel3diT3OCRmBB24hjcd_uLEjgr9tCqnnerVw8A",
                   "sk-svcacct-0Zkr4NUd4f_6LkfHfi3LlC8xKZQePXJCb21UiUWGX0F3_-6jv9PpY9JtaoooN9CCUPltpFiamwT3BlbkFJZVaaY7Z2aq_-I96d"
                   "wiXeKVhRNi8Hs7uGmCFv5VTi2SxzmUsRgJoUJCbgPFWSXYDPPbYHJAuwIA",
                   "sk-admin-JWARXiHjpLXSh6W_0pFGb3sW7yr0cKheXXtWGMY0Q8kbBNqsxLskJy0LCOT3BlbkFJgTJWgjMvdi6YlPvdXRqmSlZ4dLK-nFxUG2d9T"
                   "gaz5Q6weGVNBaLuUmMV4A",
                   "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"],
    # gitleaks anthropic.go fixtures (API key, admin key)
    "anthropic_key": ["sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA",
                      "sk-ant-admin01-abc12fake-456def789ghij-klmnopqrstuvwx-3456yza789bcde-12fakehijklmnopby56aaaogaopaaaabc123xyzAA"],
    # gitleaks hashicorp_vault.go fixtures (a server-side consistent service token, a batch token); a root token in
    # the 24-character shape `vault login` prints, ours; a recovery token, ours
    "vault_token": ["hvs.CAESIP2jTxc9S2K7Z6CtcFWQv7-044m_oSsxnPE1H3nF89l3GiYKHGh2cy5sQmlIZVNyTWJNcDRsYWJpQjlhYjVlb1cQh6PL8wEYAg",
                    "hvb.AAAAAQJgxDgqsGNorpoOR7hPZ5SU-ynBvCl764jyRP_fnX7WvkdkDzGjbLNGdPdtlY33Als2P36yDZueqzfdGw9RsaTeaYXSH7E4RYSWuRoQ9YR"
                    "KIw8o7mDDY2ZcT3KOB7RwtW1w1FN2eDqcy_sbCjXPaM1iBVH-mqMSYRmRd2nb5D1SJPeBzIYRqSglLc31wUGN7xEzyrKUczqOKsIcybQA",
                    "hvs.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8", "hvr.Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6"],
    # Google OAuth 2.0 access token, ours in the ya29. shape
    "gcp_oauth_token": ["ya29.a0AfB_byAb1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3-Ab4Cd5Ef6Gh7Ij8Kl9Mn0Op1Qr2St3Uv4Wx5Yz6_0171"],
    # SendGrid: "SG." + 22 + "." + 43 (69 characters, SendGrid's API key docs), ours
    "sendgrid_key": ["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"],
    # GitGuardian's Shopify private-app example; a public-app token, ours
    "shopify_token": ["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", "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"],
    # GitGuardian's DigitalOcean personal token example; an OAuth token, ours
    "digitalocean_token": ["dop_v1_fbc6b13d4d3a05d70e2ce78f284acc9a91bfe157acde781304adc25aafa5d605",
                           "doo_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
    # gitleaks huggingface.go fixtures
    "huggingface_token": ["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", "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"],
    # Databricks CLI docs (Microsoft Learn, tokens create) example, and one with hex letters, ours
    "databricks_token": ["dapi12345678901234567890123456789012", "dapi0a1b2c3d4e5f60718293a4b5c6d7e8f9"],
    # gitleaks grafana.go fixtures (service account token, Grafana Cloud token)
    "grafana_token": ["glsa_pITqMOBIfNH2KL4PkXJqmTyQl0D9QGxF_486f63e1",
                      "glc_eyJvIjoiNzQ0NTg3IiwibiI7InN0YWlrLTQ3NTgzMC1obC13cml0ZS1oYW5kc29uJG9raSIsImsiOiI4M2w3cmdYUlBoMTUyMW1lMU0"
                      "23nl5UDUiLCJtIjp7IOIiOiJ1cyJ9fQ=="],
}

CONTEXTS = [  # a log line, a JSON value, a URL query, a header
    "2026-01-12T10:04:05Z worker[311]: loaded credential {} for the nightly export",
    '{{"level":"info","msg":"client configured","token":"{}","retries":3}}',
    "10.0.0.7 - - [12/Jan/2026:10:04:05 +0000] \"GET /v1/export?token={}&page=2 HTTP/1.1\" 200 512",
    "Authorization: Bearer {}",
]

# Where the token is no more than its context says: the header names the credential (legacy Vault tokens only
# count after a Vault header or variable), the API-key header, OAuth refresh tokens (RFC 6749 sections 5.1 and 6).
IN_CONTEXT = {
    'curl --header "X-Vault-Token: s.ZC9Ecf4M5g9o34Q6RkzGsj0z" http://127.0.0.1:8200/v1/secret/data/app': "vault_token",
    "export VAULT_TOKEN=s.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8": "vault_token",
    '{"auth":{"client_token":"s.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8","accessor":"x"}}': "vault_token",
    'curl -H "X-API-Key: 9d2f7a1c4e8b6035fa9c2d1e7b4a6c08" https://api.example.com/v2/items': "password",
    "GET /v2/items?x-api-key=9d2f7a1c4e8b6035fa9c2d1e7b4a6c08 HTTP/1.1": "password",
    '{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"example","expires_in":3600,'
    '"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","example_parameter":"example_value"}': "password",
    "POST /token HTTP/1.1 grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA": "password",
}

NEAR_MISSES = [
    # prose and identifiers around the prefixes
    "pip install scikit-learn; sk-learn and the sk-SK locale; risk-based task-admin-panel disk-proj-7",
    "helm upgrade sk-proj-dashboard-deployment-production-eu-west-one-blue --install",  # a kebab-case name
    "from huggingface_hub import hf_hub_download; path = hf_hub_download(repo_id='bert-base-uncased')",
    "- (id)hf_requiredCharacteristicTypesForDisplayMetadata;",  # gitleaks huggingface.go false positives
    "  M_UINT       (ServingCellPriorityParametersDescription_t,  H_PRIO,  2, &hf_servingcellpriorityparametersdescription_h_prio),",
    'os.environ.get("HF_AUTH_TOKEN", "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),',
    "Lorem ipsum dolor sit amet, dapibus nec; getDapiVersion() returned dapi_v2",
    "INFO 4 --- [           main] o.s.b.f.s.DefaultListableBeanFactory     : Overriding bean definition for bean",
    "  credentials: new AWS.SharedIniFileCredentials({ profile: '<YOUR_PROFILE>' })",  # gitleaks vault false positives
    "resolved hvs.internal-secrets-cluster-east.example.com to 10.1.2.3",
    "static void GLC_CreateLightmapTextureArray(void); glc_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "mailer: SG.Name=primary SG.exe ya29 DigitalOcean droplet do_v1_api shpat_ shop_pay",
    '{"type":"response","auth":{"client_token":"hmac-sha256:5bd4e2a79d1a6e7ab0b1c0e0f4fca7c5c6d0e3c0a6b3f1e8d4c2b1a0f9e8d7c6"}}',
    "grant_type=refresh_token&client_id=s6BhdRkqt3",  # the grant type names the refresh token; none is sent
    '{"refresh_token_expires_in":15811200,"x-api-key-id":"k-1"}',
]


_redact = redact_lines


def _cases() -> list[tuple[str, str, str]]:
    return [(kind, tok, ctx.format(tok)) for kind, toks in TOKENS.items() for tok in toks for ctx in CONTEXTS]


def test_issuer_prefixed_tokens_are_redacted_in_every_context() -> None:
    cases = _cases()
    msgs, raws, kinds = _redact([line for _, _, line in cases])
    for (kind, tok, line), msg, raw in zip(cases, msgs, raws, strict=True):
        assert tok not in msg and tok not in raw, (kind, line)
        assert f"[REDACTED:{kind}]" in msg, (kind, msg)
    assert sorted(kinds) == sorted(kind for kind, _, _ in cases)  # one finding each, of the issuer's type
    assert msgs[1] == '{"level":"info","msg":"client configured","token":"[REDACTED:openai_key]","retries":3}'
    assert msgs[2].endswith("GET /v1/export?token=[REDACTED:openai_key]&page=2 HTTP/1.1\" 200 512")
    assert msgs[3] == "Authorization: Bearer [REDACTED:openai_key]"  # typed, not only http_auth


def test_tokens_named_by_their_context_are_redacted() -> None:
    lines = list(IN_CONTEXT)
    msgs, raws, kinds = _redact(lines)
    assert sorted(kinds) == sorted(IN_CONTEXT.values())
    assert msgs[0].startswith('curl --header "X-Vault-Token: [REDACTED:vault_token]" http://127.0.0.1:8200/')
    assert msgs[3] == 'curl -H "X-API-Key: [REDACTED:password]" https://api.example.com/v2/items'
    assert msgs[5] == ('{"access_token":"[REDACTED:password]","token_type":"example","expires_in":3600,'
                       '"refresh_token":"[REDACTED:password]","example_parameter":"example_value"}')
    assert msgs[6] == "POST /token HTTP/1.1 grant_type=refresh_token&refresh_token=[REDACTED:password]"
    for line, msg, raw in zip(lines, msgs, raws, strict=True):
        assert msg == raw and "s.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8" not in msg and "tGzv3JOkF0XG5Qx2TlKWIA" not in msg, line


def test_near_misses_stay() -> None:
    msgs, raws, kinds = _redact(NEAR_MISSES)
    assert kinds == []
    assert msgs == NEAR_MISSES and raws == NEAR_MISSES
    assert [redact_text(x) for x in NEAR_MISSES] == NEAR_MISSES  # the console-log filter too


def test_cloudtrail_masked_tokens_are_no_secret(real: Path) -> None:
    # panther-analysis' CloudTrail sample: an IAM Identity Center CreateToken event whose responseElements carry
    # CloudTrail's own mask for accessToken / idToken / refreshToken (and requestParameters.clientSecret)
    records = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"]
    event = next(r for r in records if r["eventName"] == "CreateToken")
    assert event["responseElements"]["refreshToken"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    lines = [json.dumps(event), json.dumps(event, indent=1)]
    msgs, raws, kinds = _redact(lines)
    assert kinds == [] and msgs == lines and raws == lines
    # a value after the same keys is still redacted
    leaked = lines[0].replace('"refreshToken": "HIDDEN_DUE_TO_SECURITY_REASONS"', '"refreshToken": "tGzv3JOkF0XG5Qx2TlKWIA"')
    assert _redact([leaked])[2] == ["password"]


def _lines() -> list[str]:
    return [line for _, _, line in _cases()] + list(IN_CONTEXT) + NEAR_MISSES


@pytest.mark.parametrize("engine", ["native", "re2"])
def test_both_screens_give_the_same_redaction(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine == "native" and not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    if engine == "re2":
        monkeypatch.setattr(_native, "screen_available", lambda: False)
    lines = _lines()
    msgs, raws, kinds = _redact(lines)
    monkeypatch.undo()
    ref_msgs, ref_raws, ref_kinds = _redact(lines)
    assert (msgs, raws, kinds) == (ref_msgs, ref_raws, ref_kinds)


# fragments of the new anchors and their near-misses, for the compiled screen against RE2 with PREFILTER
FRAGMENTS = ["sk-", "sk-proj-", "sk-proj", "sk-svcacct-", "sk-admin-", "sk-admi-", "sk-ant-", "sk-ant", "sk-an-",
             "sk-Ab1Cd2Ef3Gh4Ij5Kl6Mn", "sk-Ab1Cd2Ef3Gh4Ij5Kl6M", "T3BlbkFJ", "T3BlbkF", "hvs.", "hvb.", "hvr.", "hvx.",
             "hv", "hvs.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8", "hvs.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op", "hvs.ab_-cd", "ya29.", "ya29", "ya2",
             "SG.", "SG.Ab1Cd2Ef3Gh4Ij5Kl6Mn7O.", "SG.Ab1Cd2Ef3Gh4Ij5Kl6Mn7.", "SG.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op.", "SG",
             "shpat_", "shpca_", "shppa_", "shpss_", "shpua_", "shp", "dop_v1_", "doo_v1_", "dor_v1_", "dox_v1_", "do_v1_",
             "dop_v2_", "dapi", "dapi0123456789abcdef0123456789abcdef", "dapi0123456789abcdef0123456789abcde",
             "dapi0123456789abcdef0123456789abcdeg", "hf_", "hf_" + "aB" * 17, "hf_" + "aB" * 16 + "a", "hf_" + "aB" * 16 + "a1",
             "glsa_", "gls_", "glc_", "glc_" + "aB1+" * 8, "glc_" + "aB1+" * 7 + "aB1", "glc_" + "aB1-" * 8,
             "vault_token", "VAULT_TOKEN", "vault-token", "X-Vault-Token", "vaulttoken", "vault token", "client_token",
             "Client_To\u212aen", "vault_tokens", "clienttoken", "s.", "b.", "r.", "x.", "api-key", "API-KEY", "api-\u212aey",
             "api--key", "refresh_token", "RefreshToken", "refreſh_token", "refresh-token", "ref", "= ", ":", "=", "\\", "\"",
             "'", " ", "\t", "\n", "\\\"", "é", "x", "sk-Ab1Cd2Ef3Gh4Ij5Kl6MnT3BlbkFJ", "sk-Ab1Cd2Ef3Gh4Ij5Kl6MT3BlbkFJ",
             "sk-Ab1Cd2Ef3Gh4Ij5Kl6_nT3BlbkFJ", "vault_token=", "X-Vault-Token: ", '"client_token":"', "VAULT_TOKEN='",
             'vault-token\\"= \\"', "client_token :\t", "vault_token= x",
             "vault_token=s.", "X-Vault-Token: b.", '"client_token":"r.', "VAULT_TOKEN='s.", "client_token: S.",
             "vault_token=x.", 'vault-token\\"=\\"s.', "vault_token\\'= s."]


def _fuzz(n: int, seed: int) -> list[str | None]:
    from tests.unit.test_protect_vectorized import _FRAGMENTS

    rnd = random.Random(seed)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
    pool = FRAGMENTS * 3 + _FRAGMENTS
    out: list[str | None] = [None, ""]
    for _ in range(n):
        parts = []
        for _ in range(rnd.randrange(1, 8)):
            r = rnd.random()
            if r < 0.7:
                parts.append(rnd.choice(pool))
            else:
                parts.append("".join(rnd.choice(b64) for _ in range(rnd.choice([1, 5, 19, 20, 21, 22, 23, 24, 33, 34, 40]))))
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("seed", [26, 27])
def test_native_screen_matches_re2_on_the_new_anchors(seed: int) -> None:
    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    texts = _fuzz(8000, seed) + _lines()
    for typ in (pa.string(), pa.large_string()):
        col = pa.array(texts, typ)
        hit, _keys = _native.screen(col, True)
        expected = pc.fill_null(pc.match_substring_regex(col, PREFILTER), False).to_pylist()
        assert hit.to_pylist() == expected
        assert 0.2 < sum(expected) / len(expected) < 0.95
        _, counts = _native.screen(col, False)
        assert counts.to_pylist() == pc.fill_null(pc.count_substring_regex(col, AWS_KEY), 0).to_pylist()
