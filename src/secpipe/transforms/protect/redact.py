"""Secret detection and redaction in every string field, raw_data and console logs.

Detectors (typed placeholders, ``AKIA...`` -> ``[REDACTED:aws_access_key]``): aws_access_key,
aws_secret_key (also ``aws configure set aws_secret_access_key KEY``), github_token, gitlab_token (every prefix of GitLab's token overview, ``GR1348941``
runner registration tokens, the ``.xx.xxxxxxxxx`` tail of routable tokens), slack_token (``xox?-``, the
browser's ``xoxc-``/``xoxd-`` and app-level ``xapp-``), npm_token (``npm_`` + 36), pypi_token (PyPI's
``pypi-AgEIcHlwaS5vcmc`` macaroons), docker_token (Docker Hub ``dckr_pat_``), slack_webhook, gcp_api_key (``AIza`` + 35), gcp_oauth_secret (Google OAuth
client secrets, ``GOCSPX-`` + 28), gcp_oauth_token (Google OAuth access tokens ``ya29.``), openai_key
(``sk-proj-``/``sk-svcacct-``/``sk-admin-`` and legacy ``sk-`` keys), anthropic_key (``sk-ant-api03-``,
``sk-ant-admin01-``, OAuth ``sk-ant-oat01-``/``sk-ant-ort01-``), vault_token (``hvs.``/``hvb.``/``hvr.``; legacy
``s.``/``b.``/``r.`` only as an ``X-Vault-Token``/``VAULT_TOKEN``/``client_token`` value), sendgrid_key (``SG.`` +
22 + ``.`` + 43), shopify_token (``shpat_``/``shpca_``/``shppa_``/``shpss_`` + 32 hex), digitalocean_token
(``dop_v1_``/``doo_v1_``/``dor_v1_`` + 64 hex), huggingface_token (``hf_`` + 34 letters), databricks_token
(``dapi`` + 32 hex), grafana_token (``glsa_`` service-account and ``glc_`` Cloud tokens), stripe_key (secret and
restricted keys ``sk_``/``rk_`` live/test, webhook secrets ``whsec_``; publishable ``pk_`` keys are
public), azure_sas (the ``sig=`` of a shared access signature, URL-encoded base64), http_auth (the
credentials of an ``Authorization: Basic``/``Bearer`` header, or of the API-token schemes issuers document:
``token``, ``SSWS``, ``Splunk``, ``Bot``, ``ApiKey``, ``Api-Token``, ``GenieKey``, ``DPoP``, ``Negotiate``,
``NTLM``), private_key, jwt, azure_ad_client_secret (Entra ID ``...8Q~...``), atlassian_token (``ATATT3``),
newrelic_key (``NRAK-``), age_secret_key (``AGE-SECRET-KEY-1``), discord_webhook, teams_webhook (``/IncomingWebhook/``),
twilio_key (``SK`` + 32 hex), pulumi_token (``pul-``), postman_key (``PMAK-``), linear_key (``lin_api_``), doppler_token
(``dp.pt.``/``dp.st.``/...), onepassword_token (``ops_eyJ`` service-account tokens), onepassword_secret_key
(``A3-XXXXXX-...`` account secret keys), heroku_key
(``HRKU-AA``), planetscale_token (``pscale_tkn_``/``pscale_pw_``/``pscale_oauth_``), rubygems_token (``rubygems_``), telegram_bot_token
(``<bot id>:AA...``), mailchimp_key (``...-us21``), brevo_key (``xkeysib-``), dynatrace_token (``dt0c01.``), square_token
(``sq0atp-``/``sq0csp-``), sentry_token (``sntryu_``/``sntrys_``), mapbox_token (``sk.eyJ``), sourcegraph_token (``sgp_``),
prefect_token (``pnu_``), artifactory_key (``AKCp``), clojars_token (``CLOJARS_``), easypost_token (``EZAK``/``EZTK``),
flutterwave_key (``FLWSECK``), cli_password (curl's ``-u USER:PASS``, ``sshpass -p PASS``, the MySQL/MariaDB clients'
``-pPASS``, PsExec's ``-p PASS``, ``net use \\\\HOST\\SHARE PASS``, ``net user NAME PASS``, 7-Zip's / RAR's ``-pPASS``, cmdkey's
``/pass:PASS``, schtasks' ``/RP PASS``, ``ConvertTo-SecureString "PASS"``, SQL*Plus's ``USER/PASS@DB``, Impacket's
``DOMAIN/USER:PASS@HOST`` and ``-hashes LM:NT``, FreeRDP's ``/p:PASS``, ``zip -P PASS``; pass-the-hash material: NetExec's /
evil-winrm's ``-H NTHASH``, Invoke-TheHash's ``-Hash``, mimikatz's / Rubeus' ``/ntlm:`` ``/rc4:`` ``/aes256:`` keys, FreeRDP's
``/pth:``, winexe's and the pth-* tools' ``-U USER%HASH``; OpenSSL's ``-k PASS`` / ``-K KEY``; the MySQL and PostgreSQL
clients' bare ``--password`` prompts: the word after it stays), query_token (``?token=``/``&secret=``), url_password (``scheme://user:PASS@host``, the user may be empty:
``redis://:PASS@host``), password (``password=...``, ``"api_key": "..."`` in JSON, ``X-API-Key:``, ``X-Auth-Token:``,
``PRIVATE-TOKEN:``, Azure API Management's ``Ocp-Apim-Subscription-Key:`` headers, OAuth ``refresh_token`` values, ``MYSQL_PWD``, connection strings and their ``;Pwd=``, wget's ``--ftp-password PASS``; masks,
JSON literals and
variable references are no password: CloudTrail's ``HIDDEN_DUE_TO_SECURITY_REASONS`` and ``****``, ``null``,
``$DB_PASSWORD``, ``%DB_PASSWORD%``, see :data:`_NOT_A_PASSWORD`) and generic_secret (a whole 32+ character base64-like word with
at least two distinct upper, lower and digit characters and Shannon entropy of at least
``entropy_min`` bits/char; public certificates and keys in base64 are none, see :data:`_PUBLIC_B64`).

How a batch is scanned (vectorized; Python only over rows that may really hold a secret):
1. over ``raw_data``, every row: one RE2 pass (``pyarrow.compute``) with the union of every
   detector's anchor (:data:`PREFILTER`) plus one literal-prefix count of AWS key ids (or the compiled screen; an older build
   of it with one RE2 pass for the anchors it does not know, :data:`NEWER_ANCHORS`). Only
   the rows they hit are classified further (:meth:`RedactStage._classify`): specific
   anchors; more key ids than the excluded credential-id columns hold and one outside an
   allowed context (:data:`AWS_KEY_LEAK`); a base64 word of 32+ characters that may pass
   the entropy test (:func:`plausible_words`, numpy histograms per word). Each test is a
   superset of what the Python detectors replace, so a batch without candidates is
   returned untouched and rows whose raw text is clean are not examined further (mapped
   fields come from ``raw_data``; rows without raw text always are);
2. for the candidate rows, every string leaf (``raw_data``, ``unmapped``, and the other
   leaves together; each leaf inside a list column, such as ``evidences[].process.cmd_line``,
   by its flat values) is classified the same way, and the rows that qualify are redacted by
   the precise Python detectors (only the families they qualified for), then scattered back.
Expected identifiers are not secrets: the caller's key id in CloudTrail
(``"accessKeyId":"ASIA..."``, :data:`KEY_ID_ALLOW`) and ``exclude_fields`` (credential ids)
stay; ids and encoded blobs after :data:`GENERIC_ALLOW` keys are not generic secrets.

A ``data_security_finding`` (OCSF 2006) is emitted per (event, field, secret type): it says
where (``metadata.correlation_uid`` = the event's uid, the field path, the type), never what
(the secret is not copied anywhere). Its uid is a hash of those three, so reprocessing the
same event gives the same finding and the lake deduplicates it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy
from secpipe.formats.base import base_columns, to_batch
from secpipe.transforms.protect import _native
from secpipe.transforms.protect._audit import argv_text, audit_only, redact_argv
from secpipe.transforms.protect._columns import (
    get_path,
    list_leaves,
    list_roots,
    rebuild_list,
    scatter,
    set_path,
    string_leaves,
    text_bytes,
)
from secpipe.transforms.protect._kube_exec import exec_text, redact_exec
from secpipe.transforms.protect._xml_text import QUOTE_REF, redact_view, view
from secpipe.transforms.protect.options import RedactOptions


@dataclass(frozen=True)
class Detector:
    """One secret type: RE2/Python pattern, replacement (``\\1`` keeps a prefix), severity."""

    name: str
    pattern: str
    replacement: str
    severity_id: int = 4


def _ph(name: str) -> str:
    return f"[REDACTED:{name}]"


#: values after a password key that are no password: CloudTrail's HIDDEN_DUE_TO_SECURITY_REASONS, JSON's null/true/false,
#: a mask or placeholder (``********``, ``xxxx``, ``<redacted>``, ``[hidden]``, ``none``) and a reference to an
#: environment variable or a command's output (``$DB_PASSWORD``, ``${DB_PASSWORD}``, ``$(cat /run/secrets/db)``, a Windows
#: batch file's ``%DB_PASSWORD%``), each the whole value
_NOT_A_PASSWORD = (r"(?:HIDDEN_DUE_TO_SECURITY_REASONS|(?i:null|true|false|none|nil|redacted|masked|hidden|removed)"
                   r"|<(?i:redacted|masked|hidden|removed)>|\[(?i:redacted|masked|hidden|removed)\]|\*{3,}|[xX]{3,}"
                   r"|\$\{?[A-Z_][A-Z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%)(?![^\s\"',;&{}\\])|\$\(")


def _anycase(word: str) -> str:
    """``word`` in any ASCII case as character classes (RE2's ``(?i)`` would also fold 's' and 'k' to U+017F and
    U+212A, which the compiled screen does not)."""
    return "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in word)


#: PowerShell's ConvertTo-SecureString, whose string argument with -AsPlainText is the password in clear
_CONVERT_SECURE = _anycase("convertto-securestring")
#: the tools whose -p takes the password as the next word (NetExec / CrackMapExec, evil-winrm, the MongoDB shell and
#: tools, docker login, az login; docker run's -p is a port, hence "docker login"; NetExec's -p may name a password
#: list file, which stays)
_P_WORD_TOOLS = r"(?:crackmapexec|cme|nxc|netexec|evil-winrm|mongo(?:sh|dump|restore|export|import)?|docker login|az login|rdesktop)"
#: more tools whose -p takes the password as the next word (THC Hydra's and Medusa's single password, -P names a list;
#: smbmap's password or LM:NT hash; enum4linux's): their anchor is one of NEWER_ANCHORS
_P_WORD_TOOLS_NEWER = r"(?:hydra|medusa|smbmap|enum4linux(?:-ng)?)"
#: SQL Server's command-line clients whose -P takes the password (bcp, and the older osql / isql; sqlcmd has its own)
_SQL_P_TOOLS = r"(?:[Bb][Cc][Pp]|[Oo][Ss][Qq][Ll]|[Ii][Ss][Qq][Ll])"
#: htpasswd's options (-C takes a number) and a positional argument (its password file, user name), for its batch mode
#: (-b: "htpasswd -b[c] FILE USER PASS", "htpasswd -nb USER PASS")
#: the Impacket example scripts whose target names the credentials, ``[[domain/]user[:password]@]target`` (psexec.py
#: and the other remote-execution scripts, secretsdump.py, smbclient.py...) or ``domain/user[:password]`` (getTGT.py,
#: GetUserSPNs.py...): as ``NAME.py`` or Kali's ``impacket-NAME`` (the compiled screen holds the same list)
IMPACKET_SCRIPTS = ("psexec", "smbexec", "wmiexec", "atexec", "dcomexec", "secretsdump", "GetUserSPNs", "GetNPUsers",
                    "getTGT", "getST", "getPac", "smbclient", "mssqlclient", "lookupsid", "reg", "services", "samrdump",
                    "rpcdump", "netview", "addcomputer", "rbcd", "dacledit", "owneredit", "findDelegation", "GetADUsers",
                    "GetADComputers", "raiseChild", "goldenPac", "changepasswd", "wmiquery", "wmipersist", "DumpNTLMInfo",
                    "net", "Get-GPPPassword", "exchanger", "keylistattack", "rdp_check", "smbpasswd", "tstool",
                    "machine_role")
_IMPACKET = r"(?:(?<![A-Za-z0-9_-])(?:" + "|".join(IMPACKET_SCRIPTS) + r")\.py|impacket-[A-Za-z])"
_HTPASSWD_OPTS = r"(?:[ ]+-[A-Za-z]+(?:[ ]+[0-9]+)?)"
_ARG = r"(?:\\?\"[^\"\\\r\n]+\\?\"|'[^'\r\n]+'|[^\s\"'|&<>;-][^\s\"'|&<>;]*)"
#: an NT hash as pass-the-hash tools take it: ``NT``, ``:NT`` or ``LM:NT`` (32 hex digits each), the whole word
_NT_HASH = r"(?:(?:[0-9a-fA-F]{32})?:)?[0-9a-fA-F]{32}(?![0-9A-Za-z])"
#: the tools whose -H takes an NT hash (NetExec / CrackMapExec, evil-winrm, lsassy): the hash, as _NT_HASH
_HASH_TOOLS = r"(?:crackmapexec|cme|nxc|netexec|evil-winrm|lsassy)"
#: mimikatz's and Rubeus' key options (sekurlsa::pth /ntlm: or /rc4:, kerberos::golden /krbtgt:, lsadump::changentlm
#: /oldntlm: /newntlm:, Rubeus asktgt /rc4: /aes128: /aes256: /des:) and FreeRDP's /pth: (any case: both tools fold
#: their option names), each followed by its key in hex
_KEY_OPTIONS = "|".join(_anycase(o) for o in ("ntlm", "rc4", "aes128", "aes256", "des", "krbtgt", "pth", "oldntlm", "newntlm"))

DETECTORS: tuple[Detector, ...] = (
    Detector("private_key", r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)",
             _ph("private_key"), 5),
    Detector("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", _ph("jwt")),
    # the caller's key id in CloudTrail (userIdentity.accessKeyId) is an expected identifier, not a leak
    Detector("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", _ph("aws_access_key")),
    Detector("aws_secret_key",
             r"((?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)\\?[\"']?\s*[:=]\s*\\?[\"']?"
             r"|[ ](?:aws_secret_access_key[ \t]+|--(?:s3-|aws-)?secret-access-key(?:[ \t]+|=))\\?[\"']?)[A-Za-z0-9/+]{40}\b",
             r"\1" + _ph("aws_secret_key"), 5),
    Detector("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})", _ph("github_token")),
    Detector("gitlab_token", r"\b(?:gl(?:pat|ptt|dt|rt|oas|cbt|soat|ffct|ft|imt|agent)-|GR1348941)[A-Za-z0-9_-]{20,}"
             r"(?:\.[0-9a-z]{2}\.[0-9a-z]{9}\b)?", _ph("gitlab_token")),
    Detector("slack_token", r"\b(?:xox[abposrecd]|xapp)-[A-Za-z0-9%-]{10,}", _ph("slack_token")),
    Detector("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{20,}", _ph("slack_webhook")),
    Detector("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", _ph("gcp_api_key")),
    Detector("gcp_oauth_secret", r"\bGOCSPX-[0-9A-Za-z_-]{28}(?![0-9A-Za-z_-])", _ph("gcp_oauth_secret")),
    # package registries' publish tokens, as CI logs and .npmrc/.pypirc echo them
    Detector("npm_token", r"\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", _ph("npm_token")),
    Detector("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", _ph("pypi_token")),
    Detector("docker_token", r"\bdckr_pat_[A-Za-z0-9_-]{27,}", _ph("docker_token")),
    # AI, cloud and SaaS issuers' prefixed tokens (lengths and alphabets as the issuers document them, else as
    # gitleaks' rules define them). OpenAI project / service-account / admin keys (a digit and an upper-case letter
    # in them, so kebab-case names after "sk-proj-" stay) and legacy keys (20 + "T3BlbkFJ" + 20); Anthropic's API,
    # admin and OAuth keys (sk-ant-api03-, sk-ant-admin01-, sk-ant-oat01-, sk-ant-ort01-)
    Detector("openai_key", r"\bsk-(?:(?:proj|svcacct|admin)-(?=[A-Za-z0-9_-]{0,80}[0-9])(?=[A-Za-z0-9_-]{0,80}[A-Z])"
             r"[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b)", _ph("openai_key")),
    Detector("anthropic_key", r"\bsk-ant-(?:api|admin|oat|ort)[0-9]{2}-[A-Za-z0-9_-]{32,}", _ph("anthropic_key")),
    # HashiCorp Vault: hvs./hvb./hvr. (Vault 1.10+: 24 base62 characters, or ~90 for server-side consistent tokens;
    # not a host name "hvs.<label>.example"); legacy s./b./r. tokens only as an X-Vault-Token / VAULT_TOKEN /
    # client_token value (bare "s.<24 letters>" is Java package prose: o.s.b.f.s.DefaultListableBeanFactory)
    Detector("vault_token", r"((?i:vault[_-]?token|client_token)\\?[\"']?\s*[:=]\s*\\?[\"']?)[sbr]\.[A-Za-z0-9_-]{24,}"
             r"|\bhv[sbr]\.[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-]|\.[A-Za-z0-9])", r"\1" + _ph("vault_token")),
    # Google OAuth 2.0 access tokens (ya29.), SendGrid API keys (69 characters: SG. + 22 + . + 43)
    Detector("gcp_oauth_token", r"\bya29\.[0-9A-Za-z_-]{20,}(?:\.[0-9A-Za-z_-]+)*", _ph("gcp_oauth_token")),
    Detector("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])", _ph("sendgrid_key")),
    # Shopify app tokens and shared secrets (prefix + 32 hex, Shopify's 2020 change log), DigitalOcean personal,
    # OAuth and refresh tokens (prefix + 64 hex), Databricks (dapi + 32 hex, an optional -N suffix)
    Detector("shopify_token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", _ph("shopify_token")),
    Detector("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}\b", _ph("digitalocean_token")),
    Detector("databricks_token", r"\bdapi[a-f0-9]{32}(?:-[0-9]+)?\b", _ph("databricks_token")),
    # Hugging Face (hf_ + 34 letters, upper and lower: hf_hub_download and other identifiers stay), Grafana service
    # account tokens (glsa_ + 32 + _ + 8 hex) and Grafana Cloud access policy tokens (glc_ + base64 with a digit)
    Detector("huggingface_token", r"\bhf_(?=[A-Za-z]{0,33}[A-Z])(?=[A-Za-z]{0,33}[a-z])[A-Za-z]{34}\b",
             _ph("huggingface_token")),
    Detector("grafana_token", r"\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|glc_(?=[A-Za-z0-9+/]{0,400}[0-9])"
             r"[A-Za-z0-9+/]{32,}={0,2})", _ph("grafana_token")),
    Detector("stripe_key", r"\b(?:[sr]k_(?:live|test)_[0-9A-Za-z]{10,247}|whsec_[0-9A-Za-z+/=]{24,})", _ph("stripe_key")),
    Detector("azure_sas", r"([?&;]sig=)[0-9A-Za-z%+/=]{16,}", r"\1" + _ph("azure_sas")),
    # RFC 7617 Basic credentials and RFC 6750 bearer tokens in an Authorization / Proxy-Authorization header, and
    # the schemes issuers document for their API tokens (RFC 7235 token68 credentials): GitHub's and Django REST
    # framework's "token", Okta's "SSWS", Splunk HEC's "Splunk", Discord's "Bot", Elasticsearch's "ApiKey",
    # Dynatrace's "Api-Token", Opsgenie's "GenieKey", RFC 9449 "DPoP", RFC 4559 "Negotiate" and NTLM. Those words
    # also start prose ("authorization: token expired"), so their credential is 16+ characters with a digit.
    Detector("http_auth", r"((?i:authorization)\\?[\"']?\s*[:=]\s*\\?[\"']?(?:(?i:basic|bearer)(?:\s+|%20|\+)"
             r"|(?i:token|ssws|splunk|bot|apikey|api-token|geniekey|dpop|negotiate|ntlm)(?:\s+|%20|\+)"
             r"(?=[A-Za-z0-9+/=._~-]{0,1024}[0-9])(?=[A-Za-z0-9+/=._~-]{16})))"
             r"[A-Za-z0-9+/=._~-]{6,}", r"\1" + _ph("http_auth")),
    # Microsoft Entra ID (Azure AD) client secrets: 3 characters, a digit, "Q~", 31-34 more (gitleaks'
    # azure-ad-client-secret; upper and lower case after "Q~": "bP88Q~xxxx..." placeholders stay)
    Detector("azure_ad_client_secret", r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}[0-9]Q~(?=[A-Za-z0-9_~.-]{0,33}[A-Z])"
             r"(?=[A-Za-z0-9_~.-]{0,33}[a-z])[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])", _ph("azure_ad_client_secret")),
    # Atlassian API tokens (ATATT3 + ~186), New Relic user keys (NRAK- + 27), age identities (Bech32, 58 characters)
    Detector("atlassian_token", r"\bATATT3[A-Za-z0-9_=-]{150,}", _ph("atlassian_token")),
    Detector("newrelic_key", r"\bNRAK-[A-Za-z0-9]{27}(?![A-Za-z0-9])", _ph("newrelic_key")),
    Detector("age_secret_key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", _ph("age_secret_key"), 5),
    # Discord webhooks (id/token, the token alone posts as the hook) and Teams incoming webhooks (the legacy
    # outlook.office.com/webhook/ and the tenant's <name>.webhook.office.com/webhookb2/ URLs)
    Detector("discord_webhook", r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/"
             r"[0-9]{17,20}/[A-Za-z0-9_-]{40,}", _ph("discord_webhook")),
    Detector("teams_webhook", r"https://[A-Za-z0-9.-]+/webhook(?:b2)?/[A-Za-z0-9@-]{20,}/IncomingWebhook/[A-Za-z0-9]{16,}"
             r"/[A-Za-z0-9-]{16,}(?:/[A-Za-z0-9_-]+)?", _ph("teams_webhook")),
    # a token or secret in a URL's query (?token=..., &secret=...: the other keys are password's; a value redacted
    # already, [REDACTED:...], stays)
    Detector("query_token", r"([?&](?:token|secret)=)(?!" + _NOT_A_PASSWORD + r")[^\s\"'&#<>\\\[][^\s\"'&#<>\\]{7,}",
             r"\1" + _ph("query_token")),
    # Twilio API keys (SK + 32 hex: the SID an API key secret is used with; gitleaks' twilio-api-key)
    Detector("twilio_key", r"\bSK[0-9a-fA-F]{32}\b", _ph("twilio_key")),
    # more issuers' prefixed tokens (gitleaks' rules; Doppler's documented token formats): Pulumi (pul- + 40 hex), Postman
    # (PMAK- + 24 + - + 34 hex), Linear (lin_api_ + 40), Doppler (dp.pt. personal, dp.ct. CLI, dp.st. service (a config
    # slug may come first), dp.sa. service account, dp.scim., dp.audit.), 1Password service-account tokens (ops_eyJ...), Heroku (HRKU-AA + 58), PlanetScale (pscale_tkn_/pscale_pw_/pscale_oauth_),
    # RubyGems (rubygems_ + 48 hex)
    Detector("pulumi_token", r"\bpul-[a-f0-9]{40}\b", _ph("pulumi_token")),
    Detector("postman_key", r"\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}\b", _ph("postman_key")),
    Detector("linear_key", r"\blin_api_[A-Za-z0-9]{40}\b", _ph("linear_key")),
    Detector("doppler_token", r"\bdp\.(?:pt|ct|st|sa|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44}\b",
             _ph("doppler_token")),
    Detector("onepassword_token", r"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}", _ph("onepassword_token")),
    # 1Password account secret keys (A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX, the older accounts' second group of 11;
    # gitleaks' 1password-secret-key), the other half of an account's credential with its password
    Detector("onepassword_secret_key", r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}"
             r"-[A-Z0-9]{5}\b", _ph("onepassword_secret_key"), 5),
    Detector("heroku_key", r"\bHRKU-AA[0-9a-zA-Z_-]{58}(?![0-9a-zA-Z_-])", _ph("heroku_key")),
    Detector("planetscale_token", r"\bpscale_(?:tkn|pw|oauth)_[\w=.-]{32,64}", _ph("planetscale_token")),
    Detector("rubygems_token", r"\brubygems_[a-f0-9]{48}\b", _ph("rubygems_token")),
    # Telegram bot tokens (bot id : AA + 33, as the Bot API's https://api.telegram.org/bot<token>/ URLs carry them),
    # Mailchimp API keys (32 hex + -us + data center), Brevo/Sendinblue (xkeysib-), Dynatrace (dt0c01.), Square
    # (sq0atp- access tokens, sq0csp- application secrets), Sentry user and org tokens (sntryu_, sntrys_), Mapbox
    # secret tokens (sk.eyJ...; pk. tokens are public)
    Detector("telegram_bot_token", r"(?<![0-9])[0-9]{5,16}:AA[0-9A-Za-z_-]{33}(?![0-9A-Za-z_-])", _ph("telegram_bot_token")),
    Detector("mailchimp_key", r"\b[0-9a-f]{32}-us[0-9]{1,2}\b", _ph("mailchimp_key")),
    Detector("brevo_key", r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b", _ph("brevo_key")),
    Detector("dynatrace_token", r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b", _ph("dynatrace_token")),
    Detector("square_token", r"\bsq0(?:atp-[0-9A-Za-z_-]{22}|csp-[0-9A-Za-z_-]{43})(?![0-9A-Za-z_-])", _ph("square_token")),
    Detector("sentry_token", r"\bsntry(?:u_[a-f0-9]{64}\b|s_eyJ[A-Za-z0-9+/=_-]{60,})", _ph("sentry_token")),
    Detector("mapbox_token", r"\bsk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}", _ph("mapbox_token")),
    # gitleaks' sourcegraph-access-token (sgp_ [+ 16 hex or local +] _ + 40 hex), prefect-api-token (pnu_ + 36),
    # artifactory-api-key (AKCp + 69), clojars-api-token (CLOJARS_ + 60), easypost-api-token / -test-api-token
    # (EZAK / EZTK + 54), flutterwave-secret-key / -encryption-key (FLWSECK[_TEST]-32 hex-X, FLWSECK_TEST + 12 hex;
    # the public FLWPUBK keys stay)
    Detector("sourcegraph_token", r"\bsgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}\b", _ph("sourcegraph_token")),
    Detector("prefect_token", r"\bpnu_[a-zA-Z0-9]{36}\b", _ph("prefect_token")),
    Detector("artifactory_key", r"\bAKCp[A-Za-z0-9]{69}\b", _ph("artifactory_key")),
    Detector("clojars_token", r"\bCLOJARS_[A-Za-z0-9]{60}\b", _ph("clojars_token")),
    Detector("easypost_token", r"\bEZ[AT]K[A-Za-z0-9]{54}\b", _ph("easypost_token")),
    Detector("flutterwave_key", r"\bFLWSECK(?:_TEST)?(?:-[a-hA-H0-9]{32}-X|[a-hA-H0-9]{12})\b", _ph("flutterwave_key")),
    # a command line's password arguments: curl's -u/--user USER:PASS (the options may be combined, -su; the
    # argument may be quoted whole or in parts; gitleaks' curl-auth-user), sshpass -p PASS (its options come before
    # the command: an ssh -p PORT after it stays), the MySQL / MariaDB clients' -pPASS (attached: "-p db" prompts
    # and names a database, MySQL's manual), Sysinternals PsExec's -p PASS and Windows' net use \\HOST\SHARE PASS (a
    # '*' prompts, a /switch is none), redis-cli -a PASS, SQL Server's sqlcmd -P PASS, the OpenLDAP clients' -w PASS,
    # Samba's smbclient/rpcclient -U USER%PASS and OpenSSL's -passin/-passout pass:PASS; Windows' net user [/add] NAME
    # PASS, 7-Zip's and RAR's attached -pPASS / -hpPASS (RAR's -p- is none), cmdkey's /pass:PASS, schtasks' /RP PASS and
    # /P PASS, PowerShell's ConvertTo-SecureString "PASS" (or "PASS" | ConvertTo-SecureString), PuTTY's -pw PASS, htpasswd
    # -b FILE USER PASS, NetExec's / evil-winrm's / mongo's / docker login's -p PASS, Info-ZIP's zip / unzip -P PASS,
    # FreeRDP's /p:PASS, Impacket's -hashes LM:NT and its scripts' [DOMAIN/]USER:PASS@HOST or DOMAIN/USER:PASS target (the
    # host after the last '@', as its parse_target reads it), SQL*Plus's USER/PASS[@DB] logon; a variable, a command's
    # output, a template and the placeholders gitleaks lists (user:pass, username:password, test:test, <user:password>,
    # xxx:yyy) are none
    Detector("cli_password",
             r"((?:\bcurl(?:\.exe)?[\\\"']{0,2}(?=\s)(?s:.){0,1024}?\s(?:-[A-Za-z]*[uU]|--(?:proxy-)?user)(?:=|[ \t]*)\\?(?P<whole>[\"'])?"
             r"[^\s:\"'\\<\[]*(?:\\?[\"'])?:\\?[\"']?"
             r"|\bsshpass(?:\s+-[A-Za-z]\S*)*?\s+-p[ \t]*\\?[\"']?"
             r"|\b(?:mysql|mariadb)[a-z-]*\b[^\r\n|;&]{0,512}?\s-p\\?[\"']?"
             r"|\b[Pp][Ss][Ee][Xx][Ee][Cc](?:64)?(?:\.[Ee][Xx][Ee])?\b[^\r\n|&]{0,512}?\s-p[ \t]+\\?[\"']?"
             r"|\b[Nn][Ee][Tt]1?(?:\.[Ee][Xx][Ee])?[\"']?[ \t]+[Uu][Ss][Ee][ \t](?:[A-Za-z]:[ \t])?\\{2,}[^\s\"']+[ \t]+"
             r"(?:/[A-Za-z]+(?::(?:\"[^\"\r\n]*\"|[^\s\"']*))?[ \t]+)*\\?[\"']?"
             r"|\bredis-cli\b[^\r\n|&]{0,512}?\s(?:-a|--pass)[ \t]+\\?[\"']?"
             r"|\b[Ss][Qq][Ll][Cc][Mm][Dd](?:\.[Ee][Xx][Ee])?\b[^\r\n|&]{0,512}?\s-P[ \t]*\\?[\"']?"
             r"|\bldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn|exop|url)\b[^\r\n|&]{0,512}?\s-w[ \t]+\\?[\"']?"
             r"|(?:\b(?:smbclient|rpcclient|winexe)|\bpth-[a-z]+)\b[^\r\n|&]{0,512}?\s(?:-U|--user(?:=|[ \t]))[ \t]*\\?(?P<smbq>[\"'])?"
             r"(?:[^\s%\"'\\]|\\(?![\"']))+%"
             r"|\s-pass(?:in|out)?[ \t]+\\?(?P<sslq>[\"'])?pass:\\?[\"']?"
             r"|\b[Nn][Ee][Tt]1?(?:\.[Ee][Xx][Ee])?\\?[\"']?[ \t]*[ ][Uu][Ss][Ee][Rr][ \t]+(?:/[Aa][Dd][Dd][ \t]+)?"
             r"(?:\\?\"[^\"\\\r\n]+\\?\"|[^\s\"'/|&<>^\\][^\s\"'\\]*)[ \t]+\\?[\"']?(?![|&<>^])"
             r"|(?<![A-Za-z0-9])(?:7z[arz]?|(?:[Ww][Ii][Nn]|[Uu][Nn])?[Rr][Aa][Rr])(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])"
             r"[^\r\n|&]{0,512}?[ ]-h?p(?!-(?![^\s\"'\\]))\\?[\"']?"
             r"|\b[Cc][Mm][Dd][Kk][Ee][Yy](?:\.[Ee][Xx][Ee])?\b[^\r\n|&]{0,512}?[ ]/[Pp][Aa][Ss][Ss]:\\?[\"']?"
             r"|\b[Ss][Cc][Hh][Tt][Aa][Ss][Kk][Ss](?:\.[Ee][Xx][Ee])?\b[^\r\n|&]{0,1024}?[ ]/[Rr]?[Pp][ \t]+\\?[\"']?"
             r"|(?<![A-Za-z0-9])(?:[Pp][Ll][Ii][Nn][Kk]|[Pp][Ss][Cc][Pp]|[Pp][Ss][Ff][Tt][Pp])(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])"
             r"[^\r\n|&]{0,512}?[ ]-pw[ \t]+\\?[\"']?"
             r"|\b(?:" + _P_WORD_TOOLS + "|" + _P_WORD_TOOLS_NEWER + r")(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])[^\r\n|&;]{0,512}?[ ]-p[ \t]+(?!-|[^\s\"']*\.(?:txt|lst|list|dic)(?![^\s\"'\\]))\\?[\"']?"
             r"|\bhtpasswd(?:\.[Ee][Xx][Ee])?(?=" + _HTPASSWD_OPTS + r"*?[ ]-[bcnmBdspDvi]*b)"
             r"(?:(?=" + _HTPASSWD_OPTS + r"*?[ ]-[A-Za-z]*n)" + _HTPASSWD_OPTS + r"+[ ]+" + _ARG + r"[ ]+"
             r"|" + _HTPASSWD_OPTS + r"+[ ]+" + _ARG + r"[ ]+" + _ARG + r"[ ]+)\\?[\"']?"
             r"|(?<![A-Za-z0-9])(?:[Uu][Nn])?[Zz][Ii][Pp](?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])[^\r\n|&;]{0,512}?[ ]-P[ \t]+\\?[\"']?"
             r"|" + _anycase("freerdp") + r"3?(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])[^\r\n|&;]{0,1024}?[ ]/p:\\?[\"']?"
             r"|[ ]--?hashes[ \t]+(?=[0-9a-fA-F]{0,32}:[0-9a-fA-F]{32}(?![0-9a-fA-F]))"
             r"|\b" + _HASH_TOOLS + r"(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])[^\r\n|&;]{0,512}?[ ]-H[ \t]+\\?[\"']?(?=" + _NT_HASH + r")"
             r"|[ ](?:-(?:" + _anycase("hash") + r"|nthash|aesKey)|--pw-nt-hash)[ \t]+\\?[\"']?(?=" + _NT_HASH
             + r"|[0-9a-fA-F]{64}(?![0-9A-Za-z]))"
             r"|[ ]/(?:" + _KEY_OPTIONS + r"):(?=[0-9a-fA-F]{16,64}(?![0-9A-Za-z]))"
             r"|\becho[ \t]+(?:-[neE]+[ \t]+)?\\?[\"']?(?=[^\"'\\\r\n|]+\\?[\"']?[ \t]*\|[ \t]*sudo(?:[ \t]+-[A-Za-z]+)*[ ]-[A-Za-z]*S)"
             r"|[ ]-(?:src|dest)?(?:storepass|keypass)[ \t]+\\?[\"']?(?!android(?![^\s\"'\\]))"
             r"|\bssh-keygen\b[^\r\n|&;]{0,512}?[ ]-[NP][ \t]+\\?[\"']?"
             r"|\bds(?:mod|add)(?:\.[Ee][Xx][Ee])?\b[^\r\n|&;]{0,512}?[ ]-pwd[ \t]+\\?[\"']?"
             r"|(?<=[ \[(.])NetworkCredential(?:\]::new)?(?:[ \t]*\(|[ \t]+-ArgumentList[ \t]+\(?)[ \t]*\\?[\"'][^\"'\\\r\n]*\\?[\"']"
             r"[ \t]*,[ \t]*\\?[\"']"
             r"|(?<![A-Za-z0-9])" + _SQL_P_TOOLS + r"(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])[^\r\n|&;]{0,512}?[ ]-P[ \t]*\\?[\"']?"
             r"|\b[Ww][Ii][Nn][Rr][Ss](?:\.[Ee][Xx][Ee])?\b[^\r\n|&;]{0,512}?[ ]-[Pp](?:[Aa][Ss][Ss][Ww][Oo][Rr][Dd])?:\\?[\"']?"
             r"|\blftp\b[^\r\n|&;]{0,512}?[ ]-u[ \t]+\\?(?P<lftpq>[\"'])?[^\s,\"'\\]+,"
             r"|\bopenssl(?:\.[Ee][Xx][Ee])?\\?[\"']?(?=[ ])[^\r\n|&;]{0,512}?[ ]-(?:k|K(?=[ \t]+\\?[\"']?[0-9a-fA-F]{16}))[ \t]+\\?[\"']?"
             r"|" + _IMPACKET + r"[A-Za-z]*\\?[\"']?(?=[ ])[^\r\n|&;]{0,1024}?[ ]\\?[\"']?(?:[^\s/:@\"'\\]+/[^\s/:@\"'\\]+:"
             r"|[^\s/:@\"'\\]+:(?=[^\s@\"'\\]+@))(?P<target>)"
             r"|(?<![A-Za-z0-9])" + _anycase("sqlplus") + r"(?:\.[Ee][Xx][Ee])?\\?[\"']?(?:[ \t]+-[A-Za-z]+(?:[ \t]+[0-9.]+)?)*[ \t]+"
             r"\\?[\"']?[^\s\"'/@\\]+/(?P<logon>)\\?[\"']?"
             r"|" + _CONVERT_SECURE + r"(?:[ \t]+-[A-Za-z]+)*[ \t]+\\?[\"']"
             r"|\\?[\"'](?=[^\"'\\\r\n]+\\?[\"'][ \t]*\|[ \t]*" + _CONVERT_SECURE + r"))"
             r"(?=[^\s\"'\\]))"
             r"(?!" + _NOT_A_PASSWORD + r"|\$[A-Za-z0-9_{(@*#?!$-]|[<\[/]|\*(?![^\s\"'\\])|\{\{|(?i:pass(?:word)?|pwd|test|token|change(?:it|me)|y{3,})(?![^\s\"'\\]))"
             r"(?:(?(whole)[^\"'\\\r\n]+(?=\\?[\"'])|(?!))|(?(smbq)[^\"'\\\r\n]+(?=\\?[\"'])|(?!))"
             r"|(?(sslq)[^\"'\\\r\n]+(?=\\?[\"'])|(?!))|(?(lftpq)[^\"'\\\r\n]+(?=\\?[\"'])|(?!))|(?(logon)(?<![\"'])[^@\s\"'\\]+|(?!))|(?(target)(?:[^\s\"'\\]+(?=@[^@\s\"'\\]*(?![^\s\"'\\]))|[^@\s\"'\\]+)|(?!))|(?<=\")[^\"\\]+(?=\\?\")|(?<=')[^'\\]+(?=\\?')|[^\s\"'\\]+)",
             r"\1" + _ph("cli_password")),
    # a URL's user may be empty (redis://:PASS@host)
    Detector("url_password", r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^:/\s\"'@\[]{0,256}:)[^@/\s\"'\[]{1,256}@",
             r"\1" + _ph("url_password") + "@"),
    # the keys (and hyphenated headers: X-Auth-Token, GitLab's PRIVATE-TOKEN, X-Access-Token; MySQL's MYSQL_PWD) and
    # the Pwd= of an ODBC / ADO.NET connection string (";Pwd=..."; a path is a working directory, sudo's PWD=); a
    # quoted value is the whole string ("p@ss w0rd", its closing quote JSON-escaped or not), else up to a delimiter;
    # a command line's --password / --token / --secret / --api-key / --client-secret VALUE (docker login, kubeadm join),
    # gpg's --passphrase VALUE; a PAM service's module type is none (the passwd program's "pam_unix(passwd:chauthtok)"),
    # nor is the file kubectl's --from-file=password=PATH reads, nor the cmdlet a PowerShell variable's value comes from
    # ($SecPassword = ConvertTo-SecureString 'PASS' ...: PASS is cli_password's)
    Detector("password",
             r"((?:(?<!--from-file=)(?i:password|passwd|client_secret|api[_-]?(?:key|token)|access[_-]?token|auth[_-]?token"
             r"|refresh_?token|secret_?key|private[_-]?token|mysql_pwd|subscription[_-]?key)\\?[\"']?\s*[:=]\s*\\?[\"']?"
             r"|;(?i:pwd)\s*=\s*(?![/~])|--(?:password|passwd|passphrase|token|secret|api-key|client-secret)(?:\s+|=)(?!-)[\"']?"
             r"|[ ]--(?:(?:ftp|http|proxy)-password|oauth2-bearer)[ \t]+(?!-)[\"']?|[ ]--oauth2-bearer=[\"']?|[ ]-password[ \t]+(?![-$(])[\"']?(?![$(])"
             r"|[ ]/[vV][ \t]+\\?[\"']?" + _anycase("defaultpassword") + r"\\?[\"']?(?:[ \t]+/[tT][ \t]+[^\s/]+)?[ \t]+/[dD][ \t]+\\?[\"']?(?!\$[A-Za-z_{(])"
             r"|[ ]-[Nn][Aa][Mm][Ee][ \t]+\\?[\"']?" + _anycase("defaultpassword") + r"\\?[\"']?[ \t]+-[Vv][Aa][Ll][Uu][Ee][ \t]+\\?[\"']?(?!\$[A-Za-z_{(])))"
             r"(?!" + _NOT_A_PASSWORD + r"|(?:chauthtok|auth|account|session|password)\)"
             r"|(?i:convert(?:to|from)-securestring|read-host|get-credential|get-content|new-object)(?![A-Za-z0-9-]))"
             r"(?:(?<=\")[^\"\\\[][^\"\\]{3,}(?=\\?\")|(?<=')[^'\\\[][^'\\]{3,}(?=\\?')"
             r"|[^\s\"',;&{}\[\\][^\s\"',;&{}\\]{3,})",
             r"\1" + _ph("password")),
)
GENERIC = Detector("generic_secret", r"(?<![A-Za-z0-9+/_.\\-])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=_.-])",
                   _ph("generic_secret"), 3)
#: text right before a high-entropy word that marks it as an id or an encoded blob, not a secret.
#: text right before an AWS key id that marks it as the caller's identity (CloudTrail), not a leak.
#: (compact and pretty-printed JSON; EKS audit events name the caller's key in ``user.extra.accessKeyId: [...]``)
KEY_ID_ALLOW = ('"accessKeyId":"', '"accesskeyid":"', '"accessKeyId": "', '"accesskeyid": "', '"accessKeyId":["',
                '"accessKeyId": ["', '"p_any_trace_ids":["')
#: JSON keys are compared as ``"key":"`` (the spacing of pretty-printed JSON is folded first).
#: GitHub's ``node_id`` (GraphQL global ids) and audit-log ``hashed_token`` (SHA-256 of a token, how
#: GitHub names a token without revealing it), OPA's bundle ``revision``, AWS pagination tokens, ASP.NET
#: form state (``__VIEWSTATE``), OpenSSH public keys (``ssh-rsa AAAA...``) and ``data:...;base64,`` URI
#: content are base64 but no secret; so are ssdeep fuzzy hashes (``6144:<b64>:<b64>``, see ``_allowed_context``) and
#: OpenSSH's key fingerprints (``SHA256:<b64>``, as sshd logs each public key login: "Accepted publickey for USER
#: from HOST port N ssh2: ED25519 SHA256:...").
GENERIC_ALLOW = ('"x-amz-id-2":"', "failure message: ", '"requestID":"', '"eventID":"', '"sharedEventID":"',
                 '"node_id":"', '"hashed_token":"', '"revision":"', '"NextToken":"', '"nextToken":"',
                 '"__VIEWSTATE":"', '"__EVENTVALIDATION":"', "__VIEWSTATE=", "__EVENTVALIDATION=",
                 "ssh-rsa ", "ssh-dss ", "ssh-ed25519 ", "ecdsa-sha2-nistp256 ", "ecdsa-sha2-nistp384 ",
                 "ecdsa-sha2-nistp521 ", "sk-ssh-ed25519@openssh.com ", "sk-ecdsa-sha2-nistp256@openssh.com ",
                 ";base64,", "SHA256:")
_SSDEEP_HEAD = re.compile(r"(?:^|[^0-9A-Za-z+/:])[0-9]{1,10}:$")
_JSON_KEY_END = re.compile(r'"\s+:\s*"$|":\s+"$')
#: the anchors of session 32's detectors, which the compiled screen of an older build (``_native``, ``secpipe_screen3``)
#: does not know (``secpipe_screen4`` does, session 33):
#: pass-the-hash tools' NT hashes (NetExec's -H, Invoke-TheHash's -Hash, Impacket's -nthash / -aesKey / --hashes,
#: smbclient's --pw-nt-hash), mimikatz's / Rubeus' / FreeRDP's /ntlm: /rc4: /aes256: /pth: keys, OpenSSL's -k / -K,
#: winexe's and the pth-* tools' -U USER%PASS, wget's --ftp-password / --http-password / --proxy-password PASS, and
#: ``aws configure set aws_secret_access_key KEY`` / --secret-access-key KEY. Each holds a space followed by
#: :data:`NEWER_SCREEN` (one memchr-driven RE2 pass finds the rows that may hold one, ~0.2 ns a byte; the exact
#: anchors then over those rows alone): ``_native.screen_rows`` adds them to screen3's rows. (A tab before winexe's -U is no anchor: the space-led screen keeps its speed.)
NEWER_ANCHORS = (
    r"[ ]-H[ \t]+\\?[\"']?:?[0-9a-fA-F]{32}",
    r"[ ](?:-(?:[Hh][Aa][Ss][Hh]|nthash|aesKey)|--pw-nt-hash)[ \t]+\\?[\"']?:?[0-9a-fA-F]{32}",
    r"[ ]/(?:" + _KEY_OPTIONS + r"):[0-9a-fA-F]{16}", r"[ ]--hashes[ \t]",
    r"openssl(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-[kK][ \t]", r"(?:winexe|pth-[a-z]+)[^\r\n]*[ ](?:-U|--user)",
    r"[ ]--(?:ftp|http|proxy)-password[ \t]", r"[ ]aws_secret_access_key[ \t]", r"[ ]--(?:s3-|aws-)?secret-access-key[\s=]",
    _P_WORD_TOOLS_NEWER + r"(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-p[ \t]", r"sudo(?:[ \t]+-[A-Za-z]+)*[ ]-[A-Za-z]*S",
    r"[ ]-(?:src|dest)?(?:storepass|keypass)[ \t]", r"ssh-keygen[^\r\n]*[ ]-[NP][ \t]",
    r"(?:^|[^A-Za-z0-9])" + _SQL_P_TOOLS + r"(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-P", r"[ ]--oauth2-bearer[\s=]",
    r"[Ww][Ii][Nn][Rr][Ss][^\r\n]*[ ]-[Pp](?:[Aa][Ss][Ss][Ww][Oo][Rr][Dd])?:", r"lftp[^\r\n]*[ ]-u[ \t]", r"[ ]-password[ \t]",
    r"[ ]/[vV][ \t]+\\?[\"']?" + _anycase("defaultpassword"), r"[ ]-[Nn][Aa][Mm][Ee][ \t]+\\?[\"']?" + _anycase("defaultpassword"),
    r"ds(?:mod|add)[^\r\n]*[ ]-pwd[ \t]", r"[ ]\[?[A-Za-z.]*NetworkCredential", r"[ ]argc=[0-9]", r"[ ]proctitle=",
    r"(?:^|[?&]|\\u0026)command=",  # (session 33) a Kubernetes pods/exec request's command (_kube_exec)
)
#: a superset of :data:`NEWER_ANCHORS`: space-led (a literal first byte: RE2 skips to each space with memchr), but for
#: the exec request's ``command=`` (session 33; only an older build's screen3 needs this pass)
NEWER_SCREEN = (r"command=|[ ](?:-[HhnaUNP]|-[kK][ \t]|-p[ \t]|-pwd|-password|-[Pp]:|-u[ \t]|-[A-Za-z]*S|-(?:src|dest|store|key)|\[?[A-Za-z.]*NetworkCredential"
                r"|--(?:pw-nt-hash|hashes|user|ftp-|http-|proxy-|s3-|aws-|secret-access-key|oauth2-bearer)"
                r"|/[A-Za-z0-9]{2,7}:|/[vV][ \t]|aws_secret_access_key|argc=|proctitle=)")
NEWER_RE2 = "|".join(NEWER_ANCHORS)
#: RE2 prefilters: one pass over a column with their union finds the rows that may hold a
#: secret (a superset of what the Python detectors match); only those rows are examined.
SPECIFIC_RE2 = "|".join((
    r"-----BEGIN", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ", r"gh[pousr]_[A-Za-z0-9]{36}", r"github_pat_",
    r"gl(?:pat|ptt|dt|rt|oas|cbt|soat|ffct|ft|imt|agent)-", r"GR1348941", r"xox[abposrecd]-", r"xapp-",
    r"npm_[A-Za-z0-9]{36}", r"pypi-AgEIcHlwaS5vcmc", r"dckr_pat_",
    r"sk-(?:proj|svcacct|admin|ant)-", r"sk-[A-Za-z0-9]{20}T3BlbkFJ", r"hv[sbr]\.[A-Za-z0-9_-]{24}",
    r"(?i:vault[_-]?token|client_token)\\?[\"']?\s*[:=]\s*\\?[\"']?[sbr]\.", r"ya29\.",
    r"SG\.[A-Za-z0-9_-]{22}\.", r"shp(?:at|ca|pa|ss)_", r"do[por]_v1_", r"dapi[a-f0-9]{32}", r"hf_[A-Za-z]{34}",
    r"glsa_", r"glc_[A-Za-z0-9+/]{32}",
    r"hooks\.slack\.com/", r"AIza", r"GOCSPX-", r"[sr]k_(?:live|test)_", r"whsec_", r"[?&;]sig=",
    r"://[^/\s\"'@]*:[^@/\s\"']+@",  # unbounded: a small RE2 program (bounded runs compile to ~2 ms)
    r"(?i:password|passwd|client_secret|api[_-]?(?:key|token)|access[_-]?token|auth[_-]?token|refresh_?token|secret_?key"
    r"|secret_?access_?key|authorization|private[_-]?token|mysql_pwd|subscription[_-]?key)\\?[\"']?\s*[:=]", r";(?i:pwd)\s*=",
    r"--(?:password|passwd|passphrase|token|secret|api-key|client-secret)[\s=]",
    r"Q~[A-Za-z0-9_~.-]{31}", r"ATATT3", r"NRAK-", r"AGE-SECRET-KEY-1", r"discord(?:app)?\.com/api/",
    r"/IncomingWebhook/", r"[?&](?:token|secret)=", r"SK[0-9a-fA-F]{32}", r"curl(?:\.exe)?[\\\"']{0,2}\s", r"sshpass",
    r"(?:mysql|mariadb)[^\r\n]*\s-p[^\s]", r"pul-[a-f0-9]{40}", r"PMAK-", r"lin_api_", r"dp\.(?:pt|ct|st|sa|scim|audit)\.",
    r"ops_eyJ", r"HRKU-AA", r"pscale_(?:tkn|pw|oauth)_", r"rubygems_", r"[0-9]{5}:AA", r"[0-9a-f]{32}-us[0-9]", r"xkeysib-",
    r"dt0c01\.", r"sq0(?:atp|csp)-", r"sntry[us]_", r"sk\.eyJ", r"sgp_", r"pnu_", r"AKCp", r"CLOJARS_", r"EZ[AT]K", r"FLWSECK", r"[Pp][Ss][Ee][Xx][Ee][Cc][^\r\n]*\s-p[ \t]",
    r"[Uu][Ss][Ee][ \t](?:[A-Za-z]:[ \t])?\\\\", r"redis-cli[^\r\n]*\s(?:-a|--pass)[ \t]", r"[Ss][Qq][Ll][Cc][Mm][Dd][^\r\n]*\s-P",
    r"ldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn|exop|url)[^\r\n]*\s-w[ \t]",
    r"(?:smbclient|rpcclient)[^\r\n]*\s(?:-U|--user)", r"pass:",
    r"[Nn][Ee][Tt]1?(?:\.[Ee][Xx][Ee])?\\?[\"']?[ \t]*[ ][Uu][Ss][Ee][Rr][ \t]",
    r"(?:7z[arz]?|[Rr][Aa][Rr])(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-h?p[^\s]",
    r"[Cc][Mm][Dd][Kk][Ee][Yy][^\r\n]*[ ]/[Pp][Aa][Ss][Ss]:", r"[Ss][Cc][Hh][Tt][Aa][Ss][Kk][Ss][^\r\n]*[ ]/[Rr]?[Pp][ \t]",
    _CONVERT_SECURE,
    r"(?:[Pp][Ll][Ii][Nn][Kk]|[Pp][Ss][Cc][Pp]|[Pp][Ss][Ff][Tt][Pp])(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-pw[ \t]",
    r"htpasswd(?:\.[Ee][Xx][Ee])?[ ](?:[^\r\n]*[ ])?-[bcnmBdspDvi]*b",
    _P_WORD_TOOLS + r"(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-p[ \t]",
    r"A3-[A-Z0-9]{6}-", _anycase("sqlplus"), r"[ ]-hashes[ \t]",
    r"(?:^|[^A-Za-z0-9_-])(?:" + "|".join(IMPACKET_SCRIPTS) + r")\.py", r"impacket-[A-Za-z]",
    r"(?:^|[^A-Za-z0-9])(?:[Uu][Nn])?[Zz][Ii][Pp](?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?-P[ \t]",
    _anycase("freerdp") + r"3?(?:\.[Ee][Xx][Ee])?\\?[\"']?[ ](?:[^\r\n]*[ ])?/p:", *NEWER_ANCHORS,
))  # fmt: skip
GENERIC_RE2 = r"(?:^|[\"'=\s,])[A-Za-z0-9+/]{32,}={0,2}(?:$|[\"'&;,\s\\])"
PREFILTER = f"{SPECIFIC_RE2}|{GENERIC_RE2}"
AWS_KEY = r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"


def _not_after(contexts: tuple[str, ...]) -> str:
    """RE2 for "the text here does not end with any of ``contexts``" (no lookbehind in RE2).

    Built from the trie of the reversed contexts: at each non-final node, the character
    before the matched suffix is not one that continues a context (or the text starts).
    """
    trie: dict[str | None, Any] = {}
    for c in contexts:
        node = trie
        for ch in reversed(c):
            node = node.setdefault(ch, {})
        node[None] = {}
    alts: list[str] = []

    def walk(node: dict[str | None, Any], suffix: str) -> None:
        if None in node:
            return  # a whole context: allowed
        kids = sorted(k for k in node if k is not None)
        alts.append(f"(?:^|[^{''.join(re.escape(k) if not k.isalnum() else k for k in kids)}]){re.escape(suffix)}")
        for k in kids:
            walk(node[k], k + suffix)

    walk(trie, "")
    return f"(?:{'|'.join(alts)})"


#: an AWS key id that is not in a :data:`KEY_ID_ALLOW` context (a superset of what ``_aws_sub`` replaces).
AWS_KEY_LEAK = _not_after(KEY_ID_ALLOW) + AWS_KEY


def _leaks(texts: pa.Array) -> pa.Array:
    """Per row: does :data:`AWS_KEY_LEAK` match (the compiled test where it is built: the same rows, a scan for the
    key ids and a suffix compare at each, where RE2 ran ~6 us a CloudTrail record)."""
    if _native.leak_available():
        return _native.key_leaks(texts, KEY_ID_ALLOW)
    return pc.fill_null(pc.match_substring_regex(texts, AWS_KEY_LEAK), False)


#: characters of a generic-secret word (``GENERIC`` matches a maximal run of them).
_EPS = 1e-9
_WORD_START = re.compile(r"[^\s\"'=:,]*$")


class _Compiled(dict[str, re.Pattern[str]]):
    """Detector name -> its Python pattern, compiled on first use: compiling them all took ~50 ms of each process's
    start, and a run whose screens find no suspect row needs none."""

    def __missing__(self, name: str) -> re.Pattern[str]:
        pattern = self[name] = re.compile(_SOURCES[name])
        return pattern


_SOURCES = {d.name: d.pattern for d in (*DETECTORS, GENERIC)}
_PY = _Compiled()


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) if n else 0.0


_UPPER, _LOWER, _DIGITS = set(string.ascii_uppercase), set(string.ascii_lowercase), set(string.digits)


def _looks_secret(tok: str, min_entropy: float, min_len: int) -> bool:
    """Long, mixing at least two distinct upper, lower and digit characters, and high entropy."""
    chars = set(tok)
    return (len(tok) >= min_len and len(chars & _UPPER) >= 2 and len(chars & _LOWER) >= 2
            and len(chars & _DIGITS) >= 2 and entropy(tok.rstrip("=")) >= min_entropy)


#: base64 words that are public though they look random: a PEM certificate (or certificate request), public key or
#: CRL as base64 (Kubernetes' caBundle of webhook configurations and APIServices, a CertificateSigningRequest's
#: spec.request and status.certificate), a DER X.509 certificate (its SEQUENCE, tbsCertificate SEQUENCE and
#: [0] version: ``MII...CCA..gAwIBAgI``; a private key's DER never reads so), and ASP.NET's page state, the
#: ``__VIEWSTATE`` / ``__EVENTVALIDATION`` of a form (ObjectStateFormatter's header 0xFF 0x01: ``/wE``), wherever the
#: page is quoted (an HTML form in a scanner's HTTP response, as the JSON keys and query values of GENERIC_ALLOW)
_PUBLIC_B64 = re.compile(r"LS0tLS1CRUdJTiBDRVJUSUZJQ0FU|LS0tLS1CRUdJTiBQVUJMSUMgS0VZ|LS0tLS1CRUdJTiBYNTA5IENS"
                         r"|LS0tLS1CRUdJTiBUUlVTVEVEIENFUlRJRklDQVRF|MII[A-Za-z0-9+/]{3}CCA[A-Za-z0-9+/]{2}gAwIBAgI|/wE")


def _allowed_context(m: re.Match[str]) -> bool:
    """True when the word holding the match follows a known non-secret key (request ids, blobs) or is a public
    certificate or key (:data:`_PUBLIC_B64`)."""
    if _PUBLIC_B64.match(m.group(0)):
        return True
    before = m.string[max(0, m.start() - 4096) : m.start()]
    word = _WORD_START.search(before)
    head = before[: word.start()] if word else before
    if _SSDEEP_HEAD.search(head[-12:]) and m.string[m.end() : m.end() + 1] == ":":
        return True  # an ssdeep (CTPH) fuzzy hash "blocksize:hash:hash", as file metadata and MISP/EDR data carry
    return _JSON_KEY_END.sub('":"', head[-64:]).endswith(GENERIC_ALLOW)


def _generic_sub(rx: re.Pattern[str], text: str, min_entropy: float, min_len: int) -> tuple[str, bool]:
    hit = False

    def repl(m: re.Match[str]) -> str:
        nonlocal hit
        if _looks_secret(m.group(0), min_entropy, min_len) and not _allowed_context(m):
            hit = True
            return GENERIC.replacement
        return m.group(0)

    return rx.sub(repl, text), hit


def _aws_sub(text: str) -> tuple[str, int]:
    """Replace AWS key ids except where they identify the caller (``KEY_ID_ALLOW`` contexts)."""
    n = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal n
        if m.string[max(0, m.start() - 24) : m.start()].endswith(KEY_ID_ALLOW):
            return m.group(0)
        n += 1
        return _ph("aws_access_key")

    return _PY["aws_access_key"].sub(repl, text), n


#: the clients whose ``--password`` takes no separate word: the MySQL / MariaDB clients' ``--password[=PASS]`` (the value
#: only attached; "--password db" prompts and names a database, MySQL's manual) and the PostgreSQL clients' ``--password``
#: (``-W``: "force a password prompt", psql's manual), looked for on the line before the option
_PROMPTING_CLIENT = re.compile(r"(?<![A-Za-z0-9_-])(?:mysql[a-z]*|mariadb[a-z-]*|psql|pg_dump(?:all)?|pg_restore"
                               r"|pg_basebackup|createdb|dropdb|createuser|dropuser|clusterdb|reindexdb|vacuumdb|pgbench)"
                               r"(?:\.exe)?[\"']?[ \t][^\r\n|;&]*$")


def _password_sub(text: str) -> tuple[str, int]:
    """The password detector, but a MySQL or PostgreSQL client's ``--password WORD`` (a prompt, then a database name,
    not a password: :data:`_PROMPTING_CLIENT`) stays."""
    n = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal n
        head = m.group(1)
        if head[:2] == "--" and "=" not in head and _PROMPTING_CLIENT.search(
                m.string, m.string.rfind("\n", 0, m.start()) + 1, m.start()):
            return m.group(0)
        n += 1
        return head + _ph("password")

    return _PY["password"].sub(repl, text), n


def redact_one(text: str, detectors: tuple[Detector, ...] | list[Detector] = DETECTORS, generic: bool = True,
               min_entropy: float = 4.5, min_len: int = 32) -> tuple[str, list[str]]:
    """Redact one string with Python ``re``; returns (clean text, secret types found)."""
    kinds: list[str] = []
    for d in detectors:
        if d.name == "aws_access_key":
            text, n = _aws_sub(text)
        elif d.name == "password":
            text, n = _password_sub(text)
        else:
            text, n = _PY[d.name].subn(d.replacement.replace("\\1", "\\g<1>"), text)
        if n:
            kinds.append(d.name)
    if generic:
        text, hit = _generic_sub(_PY[GENERIC.name], text, min_entropy, min_len)
        if hit:
            kinds.append(GENERIC.name)
    return text, kinds


def redact_text(text: str, min_entropy: float = 4.5, min_len: int = 32) -> str:
    """Redact secrets in one string (log lines, messages)."""
    return redact_one(text, DETECTORS, True, min_entropy, min_len)[0]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets in every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render, redact and freeze the message (args cleared); always keeps the record."""
        msg = record.getMessage()
        clean = redact_text(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach :class:`RedactingFilter` to every handler of ``logger`` (default: root)."""
    lg = logger or logging.getLogger()
    for h in lg.handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())


#: ``bytes.translate`` table: 1 for the base64 characters a ``GENERIC`` run is made of, else 0.
_BASE64_BYTE = bytes(int(chr(i) in string.ascii_letters + string.digits + "+/") for i in range(256))


def plausible_words(texts: pa.Array, min_entropy: float, min_len: int) -> pa.Array:
    """Per row: does the text hold a word that may pass ``_looks_secret`` (vectorized, a superset)?

    Words are the maximal runs of base64 characters (what ``GENERIC`` matches, minus up to two
    ``=``), found with numpy over the text bytes; for those of 32+ characters one histogram
    per word gives the distinct upper/lower/digit counts and the Shannon entropy. Rows
    whose text holds JSON escapes (``\\/``, ``\\u``), which could join runs once unescaped
    in a mapped field, stay plausible.
    """
    n = len(texts)
    out = np.zeros(n, dtype=bool)
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    offsets = np.frombuffer(texts.buffers()[1], np.int32)[texts.offset : texts.offset + n + 1].astype(np.int64)
    raw = bytes(text_bytes(texts))
    data = np.frombuffer(raw, np.uint8)
    offsets -= offsets[0]
    escape = np.flatnonzero(data[:-1] == 0x5C)  # a backslash followed by '/' or 'u'
    escape = escape[(data[escape + 1] == 0x2F) | (data[escape + 1] == 0x75)]
    out[np.searchsorted(offsets, escape, side="right") - 1] = True
    isw = np.frombuffer(b"\0" + raw.translate(_BASE64_BYTE) + b"\0", np.bool_)  # padded: runs end at both sides
    starts = np.flatnonzero(isw[1:-1] > isw[:-2])
    ends = np.flatnonzero(isw[1:-1] > isw[2:]) + 1
    long = (ends - starts) >= max(32, min_len - 2)
    starts, ends = starts[long], ends[long]
    if not len(starts):
        return from_numpy(out)
    row_first = np.searchsorted(offsets, starts, side="right") - 1
    row_last = np.searchsorted(offsets, ends - 1, side="right") - 1
    lengths = ends - starts
    word = np.repeat(np.arange(len(starts), dtype=np.int64), lengths)
    pos = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(len(word), dtype=np.int64)
    hist = np.bincount(word * 128 + (data[pos] & 127), minlength=len(starts) * 128).reshape(len(starts), 128)
    classes = [(hist[:, lo:hi] > 0).sum(axis=1) >= 2 for lo, hi in ((65, 91), (97, 123), (48, 58))]
    c = hist.astype(np.float64)
    plogp = (c * np.log2(np.maximum(c, 1.0))).sum(axis=1)
    ent = np.log2(lengths) - plogp / lengths
    ok = classes[0] & classes[1] & classes[2] & (ent >= min_entropy - _EPS)
    out[row_first[ok]] = True
    out[row_last[ok]] = True  # a run across two rows' texts: both stay suspect
    return from_numpy(out)


def _is_identifier(path: str) -> bool:
    """Is the leaf at ``path`` an identifier (``policy.uid``, ``policy.version``, ``metadata.correlation_uid``...)? A
    mapped identifier holds a value without the key that told it was one in the raw text (an OPA decision's bundle
    ``revision``, base64, is ``policy.version`` and ``policy.uid``): the generic detector, which reads the key before a
    word, does not look there; the prefixed tokens' detectors do."""
    last = path.rsplit(".", 1)[-1]
    return last in ("uid", "version") or last.endswith("_uid")


#: the mapped leaves whose text may come from another record than the row's raw text: screened beside raw_data
DERIVED_LEAVES = ("process.cmd_line", "process.parent_process.cmd_line", "actor.process.cmd_line")


def _audit_command(text: str) -> str | None:
    """The command lines of a Linux audit EXECVE / PROCTITLE record in ``text`` (:mod:`._audit`), or None."""
    return argv_text(text) if "type=EXECVE" in text or "type=PROCTITLE" in text else None


def _exec_command(text: str) -> str | None:
    """The command lines of a Kubernetes exec request in ``text`` (:mod:`._kube_exec`), or None."""
    return exec_text(text) if "command=" in text else None


#: :data:`._xml_text.QUOTE_REF` in RE2
QUOTE_REF_RE2 = QUOTE_REF.pattern


def _decoded(sub: pa.Array) -> pa.Array:
    """``sub`` with each text that holds an XML-escaped quote (``&quot;``: Windows' event XML inside another record)
    as its decoded view (:mod:`._xml_text`), which the detectors read; the others as they are."""
    refs = pc.match_substring_regex(sub, QUOTE_REF_RE2)
    if not pc.any(refs).as_py():  # (nulls are none: no fill for the usual batch without one)
        return sub
    idx = pc.indices_nonzero(pc.fill_null(refs, False))
    return scatter(sub, idx, pa.array([view(t)[0] for t in sub.take(idx).to_pylist()], sub.type))


def _where(hit: pa.Array, rows: pa.Array | None, sub: pa.Array, test: str | Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``hit`` or ``test`` (an RE2 pattern that matches, or a per-row check), which is looked for in the rows of
    ``sub`` that ``rows`` marks (None: all) and ``hit`` does not."""
    todo = pc.invert(hit) if rows is None else pc.and_not(rows, hit)
    if not pc.any(todo).as_py():
        return hit
    idx = pc.indices_nonzero(todo)
    part = sub.take(idx)
    found = pc.fill_null(pc.match_substring_regex(part, test), False) if isinstance(test, str) else test(part)
    return scatter(hit, idx, found)


class RedactStage:
    """Vectorized secret redaction over every string leaf of a batch, plus leak findings."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        opts = RedactOptions.model_validate(options)
        self.name = name
        wanted = set(opts.detectors) if opts.detectors is not None else None
        self.detectors = [d for d in DETECTORS if wanted is None or d.name in wanted]
        self.generic = wanted is None or GENERIC.name in wanted
        self.exclude = set(opts.exclude_fields)
        self.entropy_min = opts.entropy_min
        self.entropy_len = opts.entropy_min_length
        self.findings = opts.findings
        self.aws = any(d.name == "aws_access_key" for d in self.detectors)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Redact one batch; returns it plus a data_security_finding batch when secrets were found.

        When the batch keeps ``raw_data`` (the event as received, which every mapped field
        comes from), one RE2 pass over it picks the suspect rows and only those rows are
        examined in every column; rows without raw text are always examined. A command line a
        mapping assembles from another record than the row's own (:data:`DERIVED_LEAVES`: a Linux
        audit event's ``process.cmd_line`` is its EXECVE record's arguments, its raw text the
        SYSCALL record) is screened itself.
        """
        raw = get_path(batch, "raw_data")
        rows = None
        if raw is not None and raw.null_count < len(raw) and "raw_data" not in self.exclude:
            suspect = self._suspect(raw, self._expected(batch))
            suspect = pc.or_(suspect, pc.is_null(raw)) if raw.null_count else suspect
            for path in DERIVED_LEAVES:
                col = get_path(batch, path)
                if col is not None and col.null_count < len(col) and path not in self.exclude:
                    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
                    suspect = pc.or_(suspect, self._suspect(col, None))
            if not pc.any(suspect).as_py():
                return [batch]
            rows = pc.indices_nonzero(suspect)
            if len(rows) == len(raw):
                rows = None
        if rows is None:
            batch, hits, _changed = self._redact(batch)
        else:
            sub, hits, changed = self._redact(batch.take(rows))
            for path in changed:
                batch = set_path(batch, path, scatter(get_path(batch, path), rows, get_path(sub, path)))
            hits = [(rows.take(idx), path, d) for idx, path, d in hits]
        out = [batch]
        if hits and self.findings:
            out.append(self._finding_batch(batch, hits))
        return out

    def _expected(self, batch: pa.RecordBatch) -> pa.Array | None:
        """Per row, how often the key-id pattern occurs in the excluded credential-id columns (counted by the
        compiled screen where it is built: the same counts as RE2's, without a regex pass per column)."""
        expected = None
        if self.aws:
            native = _native.screen_available()
            for path in sorted(self.exclude):
                col = get_path(batch, path)
                if col is not None and col.null_count < len(col):
                    if native:
                        n = _native.screen_rows(col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col, False)[1]
                    else:
                        n = pc.fill_null(pc.count_substring_regex(col, AWS_KEY), 0)
                    expected = n if expected is None else pc.add(expected, n)
        return expected

    def _picked(self, col: pa.Array, expected: pa.Array | None) -> tuple[pa.Array, pa.Array | None] | None:
        """Indices of the rows the first screen picks (None when it picks none), and per picked row
        which anchor the compiled screen found (None from the RE2 screen: any may be there).

        Over all rows: one RE2 pass with every anchor (:data:`PREFILTER`) and one count of
        key ids (literal prefixes, fast), or both in one pass of the compiled screen
        (:mod:`._native`) where it is built; a row is picked when an anchor matches or it
        holds more key ids than the excluded credential-id columns (``expected``). The compiled
        screen counts the GENERIC anchor only in a row :func:`plausible_words` keeps (and not at
        all without the generic detector): the others are not suspect (:meth:`_suspect`), and
        picking them cost RE2 passes and a word histogram over ~6% of CloudTrail's records. Its
        anchor per row (``_native.screen_rows``): 1 a specific anchor (SPECIFIC_RE2 matches there,
        GENERIC not plausible), 2 GENERIC plausible (the specific anchors not looked for), 0 none
        (a row picked for its key ids).
        """
        anchors = len(self.detectors) > int(self.aws) or self.generic
        if not (anchors or self.aws):
            return None
        which = None
        if _native.screen_available():  # the same answers as the two RE2 passes below, in one C pass
            which, keys = _native.screen_rows(col, anchors, (self.entropy_min, self.entropy_len) if self.generic else False)
            hit = pc.not_equal(which, 0) if anchors else None
        else:
            hit = pc.fill_null(pc.match_substring_regex(col, PREFILTER), False) if anchors else None
            keys = pc.fill_null(pc.count_substring_regex(col, AWS_KEY), 0) if self.aws else None
        if self.aws:
            over = pc.greater(keys, expected) if expected is not None else pc.greater(keys, 0)
            hit = over if hit is None else pc.or_(hit, over)
        if hit is None or not pc.any(hit).as_py():
            return None
        rows = pc.indices_nonzero(hit)
        return rows, (None if which is None else which.take(rows))

    def _plausible(self, sub: pa.Array) -> pa.Array:
        """Per row of ``sub``: may the generic detector fire (a GENERIC anchor and a plausible word)?"""
        no = from_numpy(np.zeros(len(sub), dtype=bool))
        gen = pc.fill_null(pc.match_substring_regex(sub, GENERIC_RE2), False)
        if not pc.any(gen).as_py():
            return no
        grows = pc.indices_nonzero(gen)
        return scatter(no, grows, plausible_words(sub.take(grows), self.entropy_min, self.entropy_len))

    def _classify(self, col: pa.Array, expected: pa.Array | None) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Per row (spec, aws, generic): which detector families may fire (supersets).

        Only the rows :meth:`_picked` picks are classified further: specific anchors
        (:data:`SPECIFIC_RE2`); a key id outside a :data:`KEY_ID_ALLOW` context
        (:data:`AWS_KEY_LEAK`), in every picked row (as the Python pass applies the AWS
        detector to every row it examines); a generic-secret word that may pass the
        entropy test (:func:`plausible_words`). What the compiled screen found of a row
        (:meth:`_picked`) answers the first and the last where it can.
        """
        none = from_numpy(np.zeros(len(col), dtype=bool))
        got = self._picked(col, expected)
        if got is None:
            return none, none, none
        rows, which = got
        sub = _decoded(col.take(rows))
        no = from_numpy(np.zeros(len(rows), dtype=bool))
        generic_rows = None if which is None else pc.equal(which, 2)
        spec, gen = no, no
        if len(self.detectors) > int(self.aws):
            spec = _where(no, generic_rows, sub, SPECIFIC_RE2)
            spec = pc.or_(spec, pc.equal(which, 1)) if which is not None else spec
        aws = _leaks(sub) if self.aws else no
        if self.generic:
            gen = _where(no, generic_rows, sub, self._plausible)
        return tuple(scatter(none, rows, a) for a in (spec, aws, gen))  # type: ignore[return-value]

    def _suspect(self, col: pa.Array, expected: pa.Array | None) -> pa.Array:
        """Rows where some detector may fire: the OR of :meth:`_classify`'s three, in fewer passes.

        Over the picked rows: the specific anchors; the key-id leak and the generic screen only
        over the rows still clear. (Two RE2 passes, not one with the union: the union's DFA is
        large and its pass over CloudTrail's picked rows took 1.7x the two passes together.)
        A row the compiled screen found a specific anchor in is suspect without a pass; the
        specific anchors and the generic screen are looked for only where it found GENERIC.
        """
        none = from_numpy(np.zeros(len(col), dtype=bool))
        got = self._picked(col, expected)
        if got is None:
            return none
        rows, which = got
        sub = _decoded(col.take(rows))
        generic_rows = None if which is None else pc.equal(which, 2)
        hit = from_numpy(np.zeros(len(rows), dtype=bool))
        if len(self.detectors) > int(self.aws):
            hit = pc.equal(which, 1) if which is not None else hit
            hit = _where(hit, generic_rows, sub, SPECIFIC_RE2)
        if self.aws:
            hit = _where(hit, None, sub, _leaks)
        if self.generic:
            hit = _where(hit, generic_rows, sub, self._plausible)
        return scatter(none, rows, hit)

    def _redact(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list[tuple[pa.Array, str, Detector]], set[str]]:
        hits: list[tuple[pa.Array, str, Detector]] = []
        changed: set[str] = set()
        paths, arrays = [], []
        for path in string_leaves(batch.schema):
            if path in self.exclude or path.startswith("metadata."):
                continue
            arr = get_path(batch, path)
            if arr is not None and arr.null_count < len(arr):
                paths.append(path)
                arrays.append(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
        if not arrays:
            return self._redact_lists(batch, hits, changed)
        expected = self._expected(batch)
        big_paths = [p for p, a in zip(paths, arrays, strict=True) if p in ("raw_data", "unmapped")]
        small = [(p, a) for p, a in zip(paths, arrays, strict=True) if p not in big_paths]
        groups: list[tuple[list[str], list[pa.Array]]] = [([p], [a]) for p, a in zip(paths, arrays, strict=True)
                                                          if p in big_paths]
        if small:
            groups.append(([p for p, _ in small], [a for _, a in small]))
        for gpaths, garrays in groups:
            col = pa.concat_arrays([a.cast(pa.string()) for a in garrays]) if len(garrays) > 1 else garrays[0]
            spec_rows, aws_rows, gen_rows = self._classify(col, expected if len(garrays) == 1 else None)
            suspect = pc.or_(pc.or_(spec_rows, aws_rows), gen_rows)
            if not pc.any(suspect).as_py():
                continue
            rows = pc.indices_nonzero(suspect)
            sub = col.take(rows)  # few rows: the Python detectors each needs
            spec = spec_rows.take(rows).to_pylist()
            gen = gen_rows.take(rows).to_pylist() if self.generic else None
            new_col = self._rewrite(col, rows, sub, spec, gen, gpaths, garrays, hits)
            pos = 0
            for path, arr in zip(gpaths, garrays, strict=True):
                part = new_col.slice(pos, len(arr))
                pos += len(arr)
                if part is not arr and not part.equals(arr):
                    batch = set_path(batch, path, part)
                    changed.add(path)
        return self._redact_lists(batch, hits, changed)

    def _redact_lists(self, batch: pa.RecordBatch, hits: list[tuple[pa.Array, str, Detector]],
                      changed: set[str]) -> tuple[pa.RecordBatch, list[tuple[pa.Array, str, Detector]], set[str]]:
        """The string leaves inside list columns (a Falco alert's ``evidences[].process.cmd_line``, a finding's
        ``resources[].data``), redacted as the other leaves: each leaf's values flat, a hit reported for the event
        row that holds the value, the list column rebuilt in its shape."""
        for root in list_roots(batch.schema):
            if root.startswith("metadata."):
                continue
            arr = get_path(batch, root)
            if arr is None or arr.null_count == len(arr):
                continue
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            new: dict[str, pa.Array] = {}
            for path, flat, parents in list_leaves(arr, root, np.arange(len(arr), dtype=np.int64)):
                if path in self.exclude or not len(flat) or flat.null_count == len(flat):
                    continue
                spec_rows, aws_rows, gen_rows = self._classify(flat, None)
                suspect = pc.or_(pc.or_(spec_rows, aws_rows), gen_rows)
                if not pc.any(suspect).as_py():
                    continue
                rows = pc.indices_nonzero(suspect)
                spec = spec_rows.take(rows).to_pylist()
                gen = gen_rows.take(rows).to_pylist() if self.generic else None
                found: list[tuple[pa.Array, str, Detector]] = []
                out = self._rewrite(flat, rows, flat.take(rows), spec, gen, [path], [flat], found)
                for idx, p, d in found:
                    hits.append((pa.array(np.unique(parents[idx.to_numpy()]), pa.int64()), p, d))
                if found:
                    new[path] = out
            if new:
                batch = set_path(batch, root, rebuild_list(arr, root, new))
                changed.add(root)
        return batch, hits, changed

    def _rewrite(self, col: pa.Array, rows: pa.Array, sub: pa.Array, spec: list[bool], gen: list[bool] | None,
                 gpaths: list[str], garrays: list[pa.Array], hits: list[tuple[pa.Array, str, Detector]]) -> pa.Array:
        """Redact the suspect rows with the precise Python detectors; record (row, path, type) hits."""
        bounds = np.cumsum([0] + [len(a) for a in garrays])
        by_name = {d.name: d for d in (*self.detectors, GENERIC)}
        aws_only = [d for d in self.detectors if d.name == "aws_access_key"]
        found: dict[tuple[str, str], list[int]] = {}
        new: list[str | None] = []
        texts = sub.to_pylist()
        xml = [t is not None and QUOTE_REF.search(t) is not None for t in texts]
        work = [view(t)[0] if x and t is not None else t for t, x in zip(texts, xml, strict=True)]
        argv = self._argv_families(work, _audit_command)
        execs = self._argv_families(work, _exec_command)
        row_list = rows.to_pylist()
        ids = [_is_identifier(p) for p in gpaths]
        leaf = np.searchsorted(bounds, row_list, side="right") - 1 if gen and any(ids) else None
        for i, (r, text) in enumerate(zip(row_list, texts, strict=True)):  # suspect rows only
            if text is None:
                new.append(None)
                continue
            detectors = self.detectors if spec[i] else aws_only
            generic = bool(gen and gen[i]) and (leaf is None or not ids[int(leaf[i])])
            one = functools.partial(self._row, detectors=detectors, generic=generic, argv=argv.get(i),
                                    execs=execs.get(i))
            clean, kinds = redact_view(text, one) if xml[i] else one(text)  # an XML-escaped quote: its decoded text
            new.append(clean)
            self._found(found, bounds, gpaths, r, kinds)
        for (path, kind), idx in found.items():
            hits.append((pa.array(idx, pa.int64()), path, by_name[kind]))
        return scatter(col, rows, pa.array(new, col.type))

    def _row(self, text: str, detectors: list[Detector], generic: bool, argv: tuple[bool, bool] | None,
             execs: tuple[bool, bool] | None) -> tuple[str, list[str]]:
        """One suspect text redacted: a Linux audit record's command line (its arguments' words) and a Kubernetes exec
        request's (its ``command`` parameters), with the families ``argv`` / ``execs`` say may fire there, then the
        whole text with ``detectors`` and ``generic``; (clean text, the secret types found)."""
        aws_only = [d for d in self.detectors if d.name == "aws_access_key"]
        kinds: list[str] = []
        for fams, rewrite in ((argv, redact_argv), (execs, redact_exec)):
            if fams is not None and (fams[0] or fams[1]):
                text, more = rewrite(text, functools.partial(
                    redact_one, detectors=self.detectors if fams[0] else aws_only, generic=fams[1],
                    min_entropy=self.entropy_min, min_len=self.entropy_len))
                kinds += [k for k in more if k not in kinds]
        if argv is not None and audit_only(text):  # nothing but arguments: the key ids of quoted ones are left
            detectors, generic = aws_only, False
        clean, more = redact_one(text, detectors, generic, self.entropy_min, self.entropy_len)
        return clean, kinds + [k for k in more if k not in kinds]

    @staticmethod
    def _found(found: dict[tuple[str, str], list[int]], bounds: np.ndarray, gpaths: list[str], r: int,
               kinds: list[str]) -> None:
        """Record row ``r`` (of the concatenated leaves) under each secret type found in it."""
        if kinds:
            g = int(np.searchsorted(bounds, r, side="right")) - 1
            for k in kinds:
                found.setdefault((gpaths[g], k), []).append(r - int(bounds[g]))

    def _argv_families(self, texts: list[str | None], command: Callable[[str], str | None]) -> dict[int, tuple[bool, bool]]:
        """Per text holding a command line in an encoding of its own (``command`` gives it: :func:`_audit_command`,
        :func:`_exec_command`), by its position: may the specific detectors fire on its words, may the generic one
        (the AWS key detector always runs); the words of all of them screened in one pass (:meth:`_classify`), where
        the record itself reads as no command line."""
        argv = {i: a for i, t in enumerate(texts) if t is not None and (a := command(t)) is not None}
        if not argv:
            return {}
        spec, _aws, gen = self._classify(pa.array(list(argv.values()), pa.string()), None)
        return dict(zip(argv, zip(spec.to_pylist(), gen.to_pylist(), strict=True), strict=True))

    def _finding_batch(self, batch: pa.RecordBatch, hits: list[tuple[pa.Array, str, Detector]]) -> pa.RecordBatch:
        ev_uid = get_path(batch, "metadata.uid")
        times = batch.column("time")
        uids: list[pa.Array] = []
        tms: list[pa.Array] = []
        fields: list[str] = []
        kinds: list[str] = []
        sev: list[int] = []
        for rows, path, d in hits:
            if ev_uid is None:
                msg = "a finding batch needs metadata.uid in the event batch"
                raise ValueError(msg)
            uids.append(ev_uid.take(rows))
            tms.append(times.take(rows))
            fields += [path] * len(rows)
            kinds += [d.name] * len(rows)
            sev += [d.severity_id] * len(rows)
        event_uids = pa.concat_arrays(uids).to_pylist()
        t = pa.concat_arrays(tms).cast(pa.int64())
        fuids = [hashlib.blake2b(f"secret\0{u}\0{f}\0{k}".encode(), digest_size=16).hexdigest()
                 for u, f, k in zip(event_uids, fields, kinds, strict=True)]
        cols = base_columns(
            "data_security_finding", kind="secpipe.redact", product="secpipe", vendor="secpipe", uids=fuids,
            times_ms=t, raws=None, activity_id=pa.array([1] * len(fuids), pa.int32()),
            severity_id=pa.array(sev, pa.int32()),
        )  # fmt: skip
        cols.update({
            "metadata.correlation_uid": pa.array(event_uids, pa.string()),
            "finding_info.uid": pa.array(fuids, pa.string()),
            "finding_info.title": pa.array([f"Secret leaked in event data: {k}" for k in kinds], pa.string()),
            "finding_info.desc": pa.array(
                [f"A {k} was found in field {f} of event {u} and redacted before storage; rotate the credential."
                 for k, f, u in zip(kinds, fields, event_uids, strict=True)], pa.string()),
            "data_security.detection_pattern": pa.array(kinds, pa.string()),
            "data_security.data_lifecycle_state_id": pa.array([2] * len(fuids), pa.int32()),
            "unmapped": pa.array([f'{{"event_uid":"{u}","field":"{f}","secret_type":"{k}"}}'
                                  for u, f, k in zip(event_uids, fields, kinds, strict=True)], pa.string()),
        })  # fmt: skip
        return to_batch("data_security_finding", cols)


def make_redact(name: str, options: dict[str, Any], data_dir: Any = None) -> RedactStage:
    """STAGES factory for ``type: redact``."""
    return RedactStage(name, options)
