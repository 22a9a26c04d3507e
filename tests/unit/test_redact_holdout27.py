"""Holdout sweep round 27: credentials the redact stage's first screen did not look for (each a real secret that
reached the lake), in the forms their issuers and secret scanners document.

- passwords under other names: ``api_token`` / ``apiToken`` (Jira, Cloudflare), an ODBC / ADO.NET connection
  string's ``;Pwd=`` (connectionstrings.com's MySQL Connector/ODBC and SQL Server samples), ``MYSQL_PWD=`` (MySQL's
  environment variable), the hyphenated API-token headers ``X-Auth-Token`` (OpenStack Keystone), ``PRIVATE-TOKEN``
  (GitLab's REST API docs) and ``X-Access-Token``; sudo's ``PWD=/home/...`` (a working directory) stays;
- a command line's ``--password VALUE`` / ``--token VALUE`` (docker login, kubeadm join; ``--password-stdin`` stays);
- a quoted password with a space (``"password": "correct horse battery staple"``) is redacted whole, not up to the
  space;
- a URL whose user is empty: Celery's and redis-py's ``redis://:password@host:port/db``;
- a token or secret in a URL's query (Jenkins' remote build trigger ``job/NAME/build?token=TOKEN_NAME``);
- Microsoft Entra ID (Azure AD) client secrets (gitleaks' azure-ad-client-secret true positives; its false
  positives stay);
- Discord and Microsoft Teams incoming webhooks (Teams: the URLs of SonarSource's and Nosey Parker's rule examples);
- Atlassian API tokens (ATATT3 + 186: the length and alphabet gitleaks' rule gives), New Relic user keys (NRAK- + 27)
  and age identities (AGE-SECRET-KEY-1 + 58 Bech32, as age-keygen writes them).
The compiled first screen picks the same rows as RE2 for each (test_protect_vectorized's ``_anchor_spellings``).
"""

from __future__ import annotations

import pytest

from tests.unit.holdout_support import redact_lines

#: a token of the shape each issuer documents (no live credential: the characters are made up)
ATLASSIAN = "ATATT3xFfGF0" + "Zq7Lw2Nd_8vKpR4-tYs1Hb6Xm9Cj3Ue5Gf0Ai" * 4 + "Wn2Qx7Ro" + "=5E1A9C3F"
NEWRELIC = "NRAK-7YQ2L6VFKUP3ZCI8XN1WB4MDT0E"
AGE = "AGE-SECRET-KEY-1N84CR29PJTUQA22ALHP4YDL5ZFMXPW5GVETVY3UK58ZD6NPNPDLS4MCZFS"
DISCORD = "https://discord.com/api/webhooks/1179755759676956763/Xq3vRzT8kLmN2pWc7YhJ5sGd0FbA9eUoK4iQ1tZxC6nVyB8rM-HjP_wE3aLsDf7u"
TEAMS = ("https://companyname.webhook.office.com/webhookb2/5bf015e2-ce92-42a8-8e90-92552d6ef161@0c6aa5a3-6531-4e28-9c0b"
         "-33ba1a8aa1ff/IncomingWebhook/f7fb2308e5f14431ace5b7cd0e670e42/4563618c-b03b-4e80-b093-28bb4ff11de8")
TEAMS_LEGACY = ("https://outlook.office.com/webhook/9da5da9c-4218-4c22-aed6-b5c8baebfff5@2f2b54b7-0141-4ba7-8fcd-ab7d17a60547"
                "/IncomingWebhook/1bf66ccbb8e745e791fa6e6de0cf465b/4361420b-8fde-48eb-b62a-0e34fec63f5c")


@pytest.mark.parametrize(("line", "secret", "kind"), [
    ("Driver={MySQL ODBC 8.0 Unicode Driver};Server=myServerAddress;Database=myDataBase;User=myUsername;"
     "Pwd=myPassword;Option=3;", "myPassword", "password"),
    ("Server=tcp:srv.database.windows.net,1433;Uid=app;PWD = Xk9#pLm2vQ;Encrypt=yes", "Xk9#pLm2vQ", "password"),
    ("env MYSQL_PWD=my-secret-pw mysqldump -uroot shop", "my-secret-pw", "password"),
    ('curl --header "PRIVATE-TOKEN: 9koXpg98eAheJpvBs5tK" "https://gitlab.example.com/api/v4/projects"',
     "9koXpg98eAheJpvBs5tK", "password"),
    ('{"headers":{"X-Auth-Token":"gAAAAABeA8Xn7qvKpL2mR9sT4uW6yZ1bC3dE5fG7hJ9kL"}}',
     "gAAAAABeA8Xn7qvKpL2mR9sT4uW6yZ1bC3dE5fG7hJ9kL", "password"),
    ("GET /api/v1/status x-access-token: 3f9a1c7e5b2d4f6a8c0e", "3f9a1c7e5b2d4f6a8c0e", "password"),
    ('{"jira":{"url":"https://example.atlassian.net","apiToken":"Zx9Yq8Wv7Ut6Sr5Qp4"}}', "Zx9Yq8Wv7Ut6Sr5Qp4", "password"),
    ("export CLOUDFLARE_API_TOKEN=Zx9Yq8Wv7Ut6Sr5Qp4On3Ml2", "Zx9Yq8Wv7Ut6Sr5Qp4On3Ml2", "password"),
    # a quoted password is the whole string: its part after a space was left ("[REDACTED:password] w0rd")
    ('{"username": "admin", "password": "correct horse battery staple"}', "battery staple", "password"),
    ('{"log":"{\\"password\\":\\"p@ss w0rd\\",\\"user\\":\\"bob\\"}"}', "w0rd", "password"),
    # a command line's secret flags (Docker's and kubeadm's documented forms)
    ("docker login --username bob --password S3cr3tPw registry.example.com", "S3cr3tPw", "password"),
    ("kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234",
     "abcdef.0123456789abcdef", "password"),
    ("celery worker broker_url=redis://:s3cr3tP4ss@redis.internal:6379/0", "s3cr3tP4ss", "url_password"),
    ("POST https://jenkins.example.com/job/deploy/build?token=TOKEN_NAME&cause=push", "TOKEN_NAME", "query_token"),
    ("GET /hooks/ingest?source=ci&secret=Zm9vYmFyYmF6cXV4 HTTP/1.1", "Zm9vYmFyYmF6cXV4", "query_token"),
    ("client_secret: .IQ8Q~79R7TOWOspFnWcEG-dYt4KXqFqxK16cxr", ".IQ8Q~79R7TOWOspFnWcEG-dYt4KXqFqxK16cxr",
     "azure_ad_client_secret"),
    ('"the_value": "QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn"', "QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn",
     "azure_ad_client_secret"),
    ("(use the client secret: QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn)", "QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn",
     "azure_ad_client_secret"),
    (f'notify: {{"url": "{DISCORD}"}}', "Xq3vRzT8kLmN2pWc7YhJ5sGd0FbA9eUoK4iQ1tZxC6nVyB8rM-HjP_wE3aLsDf7u", "discord_webhook"),
    (f"var webhookUrl = \"{TEAMS}\";", "f7fb2308e5f14431ace5b7cd0e670e42", "teams_webhook"),
    (f"url = '{TEAMS_LEGACY}';", "1bf66ccbb8e745e791fa6e6de0cf465b", "teams_webhook"),
    (f"jira.auth user=ops@example.com token {ATLASSIAN}", ATLASSIAN[:40], "atlassian_token"),
    (f"export NEW_RELIC_USER_KEY {NEWRELIC}", NEWRELIC, "newrelic_key"),
    (f"# public key: age1c3jdepjm05aey2dq9dgkfn4utj9a776zwqzqcar3879smuh04ysqttvmyd\n{AGE}", AGE, "age_secret_key"),
])  # fmt: skip
def test_documented_credentials_are_redacted(line: str, secret: str, kind: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert secret not in messages[0] and secret not in raws[0]
    assert kind in kinds and f"[REDACTED:{kind}]" in messages[0]


@pytest.mark.parametrize("line", [
    "Dec  2 11:02:03 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    "cd ;PWD=/srv/app; make",
    ".ui.visible.right.sidebar~.ui.visible.left.sidebar~.pusher{transform:translate3d(0,0,0)}",
    '+ "<Trust Comment=\\"\\" Identity=\\"USK@u2vn3Lh6Kte2-TgBSNKorbsKkuAt34ckoLmgx0ndXO0,4~q8Q~3wIHjX9DT0yCNfQmr9oxmYrDZoQVLOdNg~yk0,AQACAAE/WebOfTrustRC2/2\\" Value=\\"100\\"/>"',
    "client_id=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "GET /login?token=null&next=/ HTTP/1.1",
    "GET /search?q=a&token=short HTTP/1.1",
    "https://discord.com/api/webhooks/0123456789/all",
    "age1c3jdepjm05aey2dq9dgkfn4utj9a776zwqzqcar3879smuh04ysqttvmyd",
    "echo $PW | docker login --password-stdin -u bob", "cmd --token $TOKEN --token-file /etc/tok --secret --verbose",
    '{"requestParameters":{"access-token-ttl":3600,"privateTokenCount":2}}',
])  # fmt: skip
def test_lookalikes_stay(line: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert messages == [line] and raws == [line] and kinds == []
