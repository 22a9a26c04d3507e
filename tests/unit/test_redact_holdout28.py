"""Holdout sweep round 28: secrets on command lines and in API-gateway headers that reached the lake unredacted.

- curl's ``-u`` / ``--user USER:PASS`` (combined short options ``-su``, quoted whole or in parts, on a continuation
  line): gitleaks' curl-auth-user true positives (gitleaks/gitleaks cmd/generate/config/rules/curl.go, verbatim);
  its false positives (variables, templates, placeholders, a user without a password) stay;
- ``sshpass -p PASS`` (sshpass(1): its options come before the command, so ``ssh -p 2222`` after it stays);
- Sysinternals PsExec's ``-u USER -p PASS`` and Windows' ``net use [DRIVE:] \\\\HOST\\SHARE PASS /user:...``
  (lateral movement as Sysmon / Security 4688 process command lines record it; PsExec's and net use's documented
  syntax; ``*`` prompts, a ``/switch`` is no password);
- database, directory and file-share clients' password options as their manuals give them: ``redis-cli -a PASS`` /
  ``--pass``, SQL Server's ``sqlcmd -P PASS``, the OpenLDAP clients' ``-w PASS`` (ldapsearch, ldapadd, ...), Samba's
  ``smbclient`` / ``rpcclient -U USER%PASS``, OpenSSL's ``-passin`` / ``-passout pass:PASS`` and gpg's ``--passphrase``;
  a variable, ``env:VAR``, ``--passphrase-file`` and an empty password (``guest%``) stay;
- the MySQL / MariaDB clients' ``-pPASS`` (MySQL's manual, "Specifying a password on the command line": no space;
  ``-p db`` prompts and names a database, and stays);
- Azure API Management's ``Ocp-Apim-Subscription-Key`` header and ``subscription-key`` query parameter (Microsoft
  Learn, "Subscriptions in Azure API Management");
- Twilio API keys (``SK`` + 32 hex, gitleaks' twilio-api-key);
- more issuers' prefixed tokens, in the shapes gitleaks' rules give (cmd/generate/config/rules/*.go): Pulumi, Postman,
  Linear, Doppler (and its documented dp.st./dp.sa./... formats), 1Password service-account tokens (gitleaks' true
  positive, verbatim), Heroku v2 keys (gitleaks' true positives, verbatim), PlanetScale, RubyGems, Telegram bot tokens
  (in the Bot API's https://api.telegram.org/bot<token>/METHOD URLs and gitleaks' .env/constructor forms), Mailchimp,
  Brevo, Dynatrace, Square, Sentry and Mapbox secret tokens.
The compiled first screen picks the same rows as RE2 for each (test_protect_vectorized's ``_anchor_spellings``).
"""

from __future__ import annotations

import pytest

from tests.unit.holdout_support import redact_lines

#: gitleaks' 1password-service-account-token and heroku-api-key-v2 true positives (verbatim); the other tokens are made
#: up in the issuers' shapes
OP_TOKEN = ("ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSIsInVzZXJBdXRoIjp7Im1ldGhvZCI6IlNSUGctNDA5NiIsImFsZyI6IlBCRVMy"
            "Zy1IUzI1NiIsIml0ZXJhdGlvbnMiOjY1MdAwMCwic2FsdCI6InE2dE0tYzNtRDhiNUp2OHh1YVzsUmcifSwiZW1haWwiOiJ5Z3hmcm0zb21oY3Nt"
            "QDFwYXNzd29yZHNlcnZpY2VhY2NvdW50cy5jb20iLCJzcnBYIjoiM2E5NDdhZmZhMDQ5NTAxZjkxYzk5MGFiY2JiYWRlZjFjMjM5Y2Q3YTMxYmI1"
            "MmQyZjUzOTA2Y2UxOTA1OTYwYiIsIm11ayI6eyJhbGciOiJBMjU2R0NNIiwiZXh0Ijp0cnVlLCJrIjoiVVpleERsLVgyUWxpa0VqRjVUUjRoODhO"
            "d29ZcHRqSHptQmFTdlNrWGZmZyIsImtleV9vcHMiOlsiZW5jcnlwdCIsImRlY3J5cHQiXSwia3R5Ijoib2N0Iiwia2lkIjoibXAifSwic2VjcmV0"
            "S2V5IjoiQTMtNDZGUUVNLUVZS1hTQS1NUU0yUy04U0JSUS01QjZGUC1HS1k2ViIsInRocm90dGxlU2VjcmV0Ijp7InNlZWQiOiJjZmU2ZTU0NGUx"
            "ZTlmY2NmZjJlYjBhYWZmYTEzNjZlMmE2ZmUwZDVlZGI2ZTUzOTVkZTljZmY0NDY3NDUxOGUxIiwidXVpZCI6IjNVMjRMNVdCNkpFQ0pEQlhJNFZO"
            "STRCUzNRIn0sImRldmljZVV1aWQiOiJqaGVlY3F4cm41YTV6ZzRpMnlkbjRqd3U3dSJ9")
HEROKU = "HRKU-AAy9Ppr_HD2pPuTyIiTYInO0hbzhoERRSO93ZQusSYHgaD7_WQ07FnF7L9FX"
PULUMI = "pul-" + "3f9c1a7e5b2d4f6a8c0e" * 2
POSTMAN = "PMAK-" + "5f8a3b2c1d4e6f7a8b9c0d1e" + "-" + "0a1b2c3d4e5f60718293a4b5c6d7e8f901"
LINEAR = "lin_api_" + "Zq7Lw2Nd8vKpR4tYs1Hb6Xm9Cj3Ue5Gf0AiWn2Qx"
DOPPLER = "dp.st.prd." + "Zq7Lw2Nd8vKpR4tYs1Hb6Xm9Cj3Ue5Gf0AiWn2Qx7Ro"
PSCALE = "pscale_tkn_" + "Zq7Lw2Nd8vKpR4tYs1Hb6Xm9Cj3Ue5Gf0Ai_-.Wn2Qx"
RUBYGEMS = "rubygems_" + "3f9c1a7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d"
TELEGRAM = "5439173652:AAHfMl_Gq8Kx0F2cJd-Q7zV4yR1tP3wE6uI"
MAILCHIMP = "3f9c1a7e5b2d4f6a8c0e1b3d5f7a9c2e-us21"
BREVO = "xkeysib-" + "3f9c1a7e5b2d4f6a8c0e1b3d5f7a9c2e" * 2 + "-Zq7Lw2Nd8vKpR4tY"
DYNATRACE = "dt0c01.ST2EY72KQINMH574WMNVI7YN.G3DFPBEJYMODIDAEX454M7YWBUVEFOWKPRVMWFASS64NFH52PX6BNDVFFM572RZM"
SQUARE = "sq0atp-Zq7Lw2Nd8vKpR4tYs1Hb6X"
SENTRY = "sntryu_" + "3f9c1a7e5b2d4f6a8c0e1b3d5f7a9c2e" * 2
MAPBOX = "sk.eyJ1IjoibXl1c2VyIiwiYSI6ImNrMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjMifQ.Zq7Lw2Nd8vKpR4tYs1Hb6X"

#: gitleaks' curl-auth-user true positives and the password each must lose
CURL_TPS = [
    ("curl --cacert ca.crt -u elastic:P@ssw0rd$1 https://localhost:9200", "P@ssw0rd$1"),
    ("sh-5.0$ curl -k -X POST https://infinispan:11222/rest/v2/caches/default/hello \\\n  -H 'Content-type: text/plain' "
     "\\\n  -d 'world' \\\n  -u developer:yqDVtkqPECriaLRi", "yqDVtkqPECriaLRi"),
    ('curl -u ":d2LkV78zLx!t" https://localhost:9200', "d2LkV78zLx!t"),
    ("curl -sw '%{http_code}' -X POST --user  'johns:h0pk1ns~21s' $GItHUB_API_URL/$GIT_COMMIT --data", "h0pk1ns~21s"),
    ("curl --user roger23@gmail.com:pQ9wTxu4Fg https://www.dropbox.com/cli_link?host_id=abcdefg -v", "pQ9wTxu4Fg"),
    ("curl -s --user 'api:d2LkV78zLx!t' \\\n    https://api.mailgun.net/v2/sandbox91d3515882ecfaa1c65be642.mailgun.org/"
     "messages", "d2LkV78zLx!t"),
    ('curl -s -v --user "j.smith:dB2yF6@qL9vZm1P#4J" "https://api.contoso.org/user/me"', "dB2yF6@qL9vZm1P#4J"),
    ('curl -X POST --user "{acd3c08b-74e8-4f44-a2d0-80694le24f46}":"{ZqL5kVrX1n8tA2}" --header "Accept: '
     'application/json" https://gateway.watsonplatform.net/language-translator/api', "ZqL5kVrX1n8tA2"),
    ("curl --user kevin:'pRf7vG2h1L8nQkW9' -iX PATCH -H \"Content-Type: application/json\" -d", "pRf7vG2h1L8nQkW9"),
    ("$ curl https://api.dropbox.com/oauth2/token \\\n  --user c28wlsosanujy2z:qgsnai0xokrw4j1 --data "
     "grant_type=authorization_code", "qgsnai0xokrw4j1"),
]


@pytest.mark.parametrize(("line", "secret", "kind"), [
    *[(line, secret, "cli_password") for line, secret in CURL_TPS],
    ('"C:\\Windows\\System32\\curl.exe" -k -U proxyuser:Pr0xyPa55 -x http://proxy:3128 https://example.com',
     "Pr0xyPa55", "cli_password"),
    ("sshpass -p 'Sup3rSecret!' ssh -o StrictHostKeyChecking=no root@10.0.0.1", "Sup3rSecret!", "cli_password"),
    ("/usr/bin/sshpass -v -pT0pS3cret scp backup.tgz ops@10.0.0.2:/srv", "T0pS3cret", "cli_password"),
    ("mysql -h db.internal -P 3306 -u root -pMyS3cretPass shop", "MyS3cretPass", "cli_password"),
    ("psexec.exe \\\\10.0.0.5 -u CORP\\admin -p Winter2024! cmd.exe", "Winter2024!", "cli_password"),
    ('PsExec64.exe \\\\dc01 -accepteula -s -u admin -p "P@ss w0rd" powershell.exe', "w0rd", "cli_password"),
    ('{"CommandLine":"PsExec.exe \\\\\\\\dc01 -u admin -p Adm1nPass! cmd"}', "Adm1nPass!", "cli_password"),
    ("net use Z: \\\\fileserver\\share S3cretPw /user:CORP\\bob", "S3cretPw", "cli_password"),
    ('net use \\\\10.0.0.5\\IPC$ "Passw0rd!" /user:administrator', "Passw0rd!", "cli_password"),
    ("C:\\Windows\\system32\\net1.exe  use \\\\srv\\share Pa55w0rd /user:x", "Pa55w0rd", "cli_password"),
    ('{"CommandLine":"net use \\\\\\\\srv\\\\c$ Pa55w0rd /user:x"}', "Pa55w0rd", "cli_password"),
    ("redis-cli -h cache.internal -p 6379 -a Sup3rR3dis! ping", "Sup3rR3dis!", "cli_password"),
    ('redis-cli --pass "r3d1s pw" -h cache.internal info', "r3d1s pw", "cli_password"),
    ('sqlcmd -S tcp:db01,1433 -U sa -P "Str0ng!Pass" -Q "SELECT 1"', "Str0ng!Pass", "cli_password"),
    ("SQLCMD.EXE -S . -U sa -PMyP4ss -i setup.sql", "MyP4ss", "cli_password"),
    ('ldapsearch -x -H ldap://dc01 -D "cn=admin,dc=example,dc=org" -w Adm1nLdap -b dc=example,dc=org', "Adm1nLdap",
     "cli_password"),
    ("smbclient //10.0.0.5/C$ -U administrator%Winter2024! -c ls", "Winter2024!", "cli_password"),
    ('rpcclient -U "corp/bob%P@ssw0rd" 10.0.0.5', "P@ssw0rd", "cli_password"),
    ("openssl pkcs12 -export -in c.pem -inkey k.pem -out c.p12 -passout pass:Exp0rtPw", "Exp0rtPw", "cli_password"),
    ("gpg --batch --passphrase S3cretPhrase -d backup.tar.gpg", "S3cretPhrase", "password"),
    ("mysqldump -uroot -p'S3cr3t' --all-databases --single-transaction", "S3cr3t", "cli_password"),
    ("mariadb-dump --user=backup -pBkp_2024! --databases app", "Bkp_2024!", "cli_password"),
    ('{"process":{"cmd_line":"mysql -uadmin -p\\"Wq8#zLm2\\" -e \\"show databases\\""}}', "Wq8#zLm2", "cli_password"),
    ('curl -H "Ocp-Apim-Subscription-Key: 3c8e4a5b9f0d4e6a8b2c7d1e0f9a6b3c" https://contoso.azure-api.net/echo/resource',
     "3c8e4a5b9f0d4e6a8b2c7d1e0f9a6b3c", "password"),
    ("GET https://contoso.azure-api.net/conference/speakers?subscription-key=3c8e4a5b9f0d4e6a8b2c7d1e0f9a6b3c HTTP/1.1",
     "3c8e4a5b9f0d4e6a8b2c7d1e0f9a6b3c", "password"),
    ('{"headers":{"Ocp-Apim-Subscription-Key":"3c8e4a5b9f0d4e6a8b2c7d1e0f9a6b3c"}}', "3c8e4a5b9f0d4e6a8b2c7d1e0f9a6b3c",
     "password"),
    ("twilio api:core:messages:create --api-key SK2a0747ad4c3a5f58a6a1f9d5d9e0b1c2", "SK2a0747ad4c3a5f58a6a1f9d5d9e0b1c2",
     "twilio_key"),
    ('{"TWILIO_API_KEY":"SK2a0747ad4c3a5f58a6a1f9d5d9e0b1c2","region":"us1"}', "SK2a0747ad4c3a5f58a6a1f9d5d9e0b1c2",
     "twilio_key"),
    (f"### 1Password System Vault Name\nexport OP_SERVICE_ACCOUNT_TOKEN={OP_TOKEN}\n", OP_TOKEN[:64], "onepassword_token"),
    (f'const KEY = "{HEROKU}"', HEROKU, "heroku_key"),
    (f"pulumi login --cloud-url https://api.pulumi.com (PULUMI_ACCESS_TOKEN={PULUMI})", PULUMI, "pulumi_token"),
    (f'curl https://api.getpostman.com/collections -H "X-Api-Key:{POSTMAN}"', POSTMAN, "postman_key"),
    (f'{{"env":{{"LINEAR_API_KEY":"{LINEAR}"}}}}', LINEAR, "linear_key"),
    (f"doppler run --token {DOPPLER} -- ./server", DOPPLER[10:], "doppler_token"),
    (f"mysql://user@aws.connect.psdb.cloud/app?sslaccept=strict token={PSCALE}", PSCALE, "planetscale_token"),
    (f"gem push pkg.gem # GEM_HOST_API_KEY {RUBYGEMS}", RUBYGEMS, "rubygems_token"),
    (f"GET https://api.telegram.org/bot{TELEGRAM}/sendMessage?chat_id=-1001234567890&text=hi", TELEGRAM[11:],
     "telegram_bot_token"),
    (f'const bot = new Telegraf("{TELEGRAM}")', TELEGRAM[11:], "telegram_bot_token"),
    (f"mailchimp.setConfig({{apiKey: '{MAILCHIMP}', server: 'us21'}})", MAILCHIMP[:32], "mailchimp_key"),
    (f"BREVO_KEY {BREVO}", BREVO, "brevo_key"),
    (f"export DT_API_TOKEN={DYNATRACE}", DYNATRACE[7:], "dynatrace_token"),
    (f"square: access token {SQUARE}", SQUARE, "square_token"),
    (f"sentry-cli --auth-token {SENTRY} releases new 1.0", SENTRY, "sentry_token"),
    (f"MAPBOX_DOWNLOADS_TOKEN {MAPBOX}", MAPBOX, "mapbox_token"),
])  # fmt: skip
def test_command_line_and_gateway_secrets_are_redacted(line: str, secret: str, kind: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert secret not in messages[0] and secret not in raws[0]
    assert kind in kinds and f"[REDACTED:{kind}]" in messages[0]


@pytest.mark.parametrize("line", [
    # gitleaks' curl-auth-user false positives (verbatim)
    "curl -i -u 'test:test'", '   curl -sL --user "$1:$2" "$3" > "$4"', "curl -u <user:password> https://test.com/endpoint",
    "curl --user neo4j:[PASSWORD] http://[IP]:7474/db/data/", 'curl -u "myusername" http://localhost:15130/api/check_user/',
    "curl -u username:token", 'curl -u "${_username}:${_password}"', 'curl -u "${username}":"${password}"',
    'curl -k -X POST -I -u "SRVC_JENKINS:${APPID}"', 'curl -u ":" https://localhost:9200',
    "curl -sw '%{http_code}' -X POST --user '$USERNAME:$PASSWORD' $GItHUB_API_URL/$GIT_COMMIT --data",
    'curl --user "xxx:yyy"', '           curl -sL --user "$GITHUB_USERNAME:$GITHUB_PASSWORD" "$GITHUB_URL" > "$TESTS_PATH"',
    'curl --silent --fail {{- if and $.Values.username $.Values.password }} --user "{{ $.Values.username }}:'
    '{{ $.Values.password }}"',
    'curl -XGET -i -u "${{ env.ELK_ID }}:${{ build.env.ELK_PASS }}"',
    'curl -X POST --user "$(cat ./login.txt):$(cat ./password.txt)"',
    "curl http://127.0.0.1:5000/file --user user:pass --digest        # digest auth",
    'curl --insecure --ssl-reqd "smtps://smtp.gmail.com" --mail-from "src@gmail.com" --user "src@gmail.com" --upload-file x',
    # other commands' -u / -p, a user agent, a prompt for the password
    "docker run -u 1000:1000 --rm alpine id", "ps -u root:root", '{"userAgent":"curl/8.5.0 -u a:b"}',
    "sshpass -f /root/.pw ssh -p 2222 root@10.0.0.1", "sshpass -e ssh -p 22 deploy@host",
    "mysql -u root -p shop", "mysql -h db -P 3306 -u root -p", "net use \\\\srv\\share /user:bob",
    "net use Z: \\\\srv\\share *", "NET USE \\\\srv\\c$ /delete", "psexec \\\\h -s -i cmd.exe", "gpresult /p",
    "openssl rsa -in k.pem -passin env:KEYPW", "gpg --passphrase-file pw.txt -d f", "redis-cli -a $REDIS_PASSWORD ping",
    "smbclient -L //fileserver -U guest%", "sqlcmd -S db01 -E -Q 'SELECT 1'", "ldapsearch -x -b dc=example,dc=org uid=bob", "mysqladmin ping -h localhost -p$MYSQL_ROOT_PASSWORD",
    '{"eventSource":"rds.amazonaws.com","requestParameters":{"engine":"mysql","port":3306}}',
    # a 32-hex word after SK that is part of a longer one, an Azure subscription id
    "SK2a0747ad4c3a5f58a6a1f9d5d9e0b1c2ff", '{"subscriptionId":"00000000-0000-0000-0000-000000000000"}',
    # gitleaks' false positives of the 1Password rule; prefixes without a token
    "        login:\n          serviceAccountToken:\n            fn::secret: ops_eyJzaWduSW5B..[Redacted]",
    "gem install rubygems_plugin_manager", "pscale_tkn_short", "see dp.pt.docs for formats", "pul-request-1234",
    # gitleaks' Telegram false positives: an XSD type, a token with text glued on; a Mapbox public token
    '<xsd:element name="AgencyIdentificationCode" type="clm12345678:AgencyIdentificationCodeContentType"/>',
    f'telegram = "{TELEGRAM}hello"', "pk.eyJ1IjoibWFwYm94IiwiYSI6ImNpejY4M29iazA2Z2gycXA4N2pmbDZmangifQ.-g_vE53SD2WrJ6tFX7QHmA",
])  # fmt: skip
def test_lookalikes_stay(line: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert messages == [line] and raws == [line] and kinds == []
