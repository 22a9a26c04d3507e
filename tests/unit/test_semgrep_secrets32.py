"""Semgrep secret rules' matches keep the secret they found out of the lake (as gitleaks' leaks do).

Input constructed from Semgrep's own documents: the match shape of ``semgrep_output_v1.atd`` (semgrep/semgrep-interfaces:
``cli_match_extra`` with ``lines``, ``metavars`` {``abstract_content``, ``propagated_value``}, ``validation_state``); the
registry rule ``generic/secrets/security/detected-aws-access-key-id-value.yaml`` (semgrep/semgrep-rules: its message,
severity and metadata, ``technology: [secrets, aws]``); the Semgrep Secrets sample rule of Semgrep's "Semgrep Secrets rule
sample and structure" page (``github_example``: ``$REGEX`` bound to the token, ``metadata.secret_type``), its message quoting
``$REGEX`` as Semgrep's message interpolation allows. The OSS code match beside them is as a real OSS 1.13x report writes
one (``"lines": "requires login"``, ``"validation_state": "NO_VALIDATOR"`` on every match). The keys are AWS's documented
example key and a made-up token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from tests.unit.holdout_support import auto_decoded, conformant_rows

_AWS_KEY = "AKIAI44QH8DHBEXAMPLE"
_TOKEN = "ghp_Zq3b7N1xVw0Lr8Kt4Hs6Dp2Fg9Jc5My1Ae7B"
_AWS: dict[str, Any] = {
    "check_id": "generic.secrets.security.detected-aws-access-key-id-value.detected-aws-access-key-id-value",
    "path": "deploy/settings.env",
    "start": {"line": 3, "col": 19, "offset": 61},
    "end": {"line": 3, "col": 39, "offset": 81},
    "extra": {
        "metavars": {},
        "message": "AWS Access Key ID Value detected",
        "metadata": {"owasp": ["A03:2017 - Sensitive Data Exposure"],
                     "source-rule-url": "https://github.com/grab/secret-scanner/blob/master/scanner/signatures/pattern.go",
                     "category": "security", "technology": ["secrets", "aws"]},
        "severity": "ERROR",
        "fingerprint": "0b6a3c5d0f9c2a4e",
        "lines": f"AWS_ACCESS_KEY_ID={_AWS_KEY}",
        "validation_state": "NO_VALIDATOR",
        "engine_kind": "OSS",
    },
}  # fmt: skip
_GITHUB: dict[str, Any] = {
    "check_id": "github_example",
    "path": "ci/release.sh",
    "start": {"line": 12, "col": 14, "offset": 301},
    "end": {"line": 12, "col": 54, "offset": 341},
    "extra": {
        "metavars": {"$REGEX": {"start": {"line": 12, "col": 14, "offset": 301}, "end": {"line": 12, "col": 54, "offset": 341},
                                "abstract_content": _TOKEN,
                                "propagated_value": {"svalue_abstract_content": _TOKEN}}},
        "message": f"GitHub token {_TOKEN} is valid",
        "metadata": {"product": "secrets", "secret_type": "GitHub", "technology": ["secrets"]},
        "severity": "WARNING",
        "fingerprint": "7f2e9d1c",
        "lines": f'export GITHUB_TOKEN="{_TOKEN}"',
        "validation_state": "CONFIRMED_VALID",
        "engine_kind": "PRO",
    },
}  # fmt: skip
_CODE: dict[str, Any] = {
    "check_id": "java.spring.security.injection.tainted-sql-string.tainted-sql-string",
    "path": "app/src/main/java/Blind.java",
    "start": {"line": 56, "col": 17, "offset": 2688},
    "end": {"line": 56, "col": 52, "offset": 2723},
    "extra": {
        "metavars": {"$SQL": {"start": {"line": 56, "col": 17, "offset": 2688}, "end": {"line": 56, "col": 52, "offset": 2723},
                              "abstract_content": '"select * from users where id=" + id'}},
        "message": "User data flows into this manually-constructed SQL string.",
        "metadata": {"category": "security", "technology": ["spring"], "subcategory": ["vuln"]},
        "severity": "ERROR",
        "fingerprint": "requires login",
        "lines": '    String q = "select * from users where id=" + id;',
        "validation_state": "NO_VALIDATOR",
        "engine_kind": "OSS",
    },
}  # fmt: skip


def _report(*matches: dict[str, Any]) -> bytes:
    return orjson.dumps({"version": "1.130.0", "results": list(matches), "errors": [],
                         "paths": {"scanned": [m["path"] for m in matches]}}, option=orjson.OPT_INDENT_2)  # fmt: skip


def _rows(tmp_path: Path, *matches: dict[str, Any]) -> list[dict[str, Any]]:
    return conformant_rows(auto_decoded(_report(*matches), tmp_path, "semgrep"))["application_security_posture_finding"]


def test_secret_matches_keep_the_secret_out(tmp_path: Path) -> None:
    aws, gh, code = _rows(tmp_path, _AWS, _GITHUB, _CODE)
    for row in (aws, gh):
        stored = row["raw_data"] + row["unmapped"] + json.dumps(row["vulnerabilities"]) + row["message"]
        assert _AWS_KEY not in stored and _TOKEN not in stored
    assert json.loads(aws["raw_data"])["extra"]["lines"] == f"[REDACTED:{_AWS['check_id']}]"
    extra = json.loads(gh["unmapped"])["extra"]
    assert extra["lines"] == "[REDACTED:github_example]"
    assert extra["metavars"]["$REGEX"]["abstract_content"] == "[REDACTED:github_example]"
    assert extra["metavars"]["$REGEX"]["propagated_value"]["svalue_abstract_content"] == "[REDACTED:github_example]"
    assert extra["message"] == gh["message"] == gh["finding_info"]["title"] == "GitHub token [REDACTED:github_example] is valid"
    assert extra["metadata"] == _GITHUB["extra"]["metadata"] and extra["metavars"]["$REGEX"]["end"]["col"] == 54
    # a code rule's match keeps the code it points at
    assert json.loads(code["raw_data"]) == _CODE


def test_secret_uid_is_of_the_match_as_received(tmp_path: Path) -> None:
    [a] = _rows(tmp_path, _AWS)
    other = json.loads(json.dumps(_AWS).replace(_AWS_KEY, "AKIAIOSFODNN7EXAMPLE"))
    [b] = _rows(tmp_path, other)
    assert a["raw_data"] == b["raw_data"] and a["metadata"]["uid"] != b["metadata"]["uid"]


def test_oss_requires_login_and_validator_states(tmp_path: Path) -> None:
    oss = {**_AWS, "extra": {**_AWS["extra"], "lines": "requires login"}}
    [row] = _rows(tmp_path, oss)
    assert json.loads(row["raw_data"])["extra"]["lines"] == "requires login"
    # a validator's verdict marks a secret rule whatever its metadata; NO_VALIDATOR alone does not
    bare = {**_CODE, "check_id": "custom.tokens.slack", "extra": {**_CODE["extra"], "metadata": {}}}
    checked = {**bare, "extra": {**bare["extra"], "validation_state": "CONFIRMED_INVALID"}}
    kept, hidden = _rows(tmp_path, bare, checked)
    assert json.loads(kept["raw_data"])["extra"]["lines"] == _CODE["extra"]["lines"]
    assert json.loads(hidden["raw_data"])["extra"]["lines"] == "[REDACTED:custom.tokens.slack]"


def _sarif_result(rule: str, line: str) -> dict[str, Any]:
    """A result as Semgrep's SARIF formatter writes one (cli/src/semgrep/formatter/sarif.py, _rule_match_to_sarif)."""
    return {"ruleId": rule, "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "deploy/settings.env", "uriBaseId": "%SRCROOT%"},
                                                "region": {"snippet": {"text": line}, "startLine": 3, "startColumn": 19,
                                                           "endLine": 3, "endColumn": 39}}}],
            "fingerprints": {"matchBasedId/v1": "9f2c"}, "properties": {}}  # fmt: skip


def test_semgrep_sarif_secret_rule_snippet(tmp_path: Path) -> None:
    from secpipe import formats

    doc = {"version": "2.1.0", "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
           "runs": [{"tool": {"driver": {"name": "Semgrep OSS", "semanticVersion": "1.130.0", "rules": []}},
                     "results": [_sarif_result(_AWS["check_id"], _AWS["extra"]["lines"]),
                                 _sarif_result(_CODE["check_id"], _CODE["extra"]["lines"])]}]}  # fmt: skip
    d = formats.get("sarif").decode(json.dumps(doc).encode(), "semgrep.sarif")
    secret, code = [r for b in d.batches for r in b.to_pylist()]
    region = json.loads(secret["raw_data"])["locations"][0]["physicalLocation"]["region"]
    assert region["snippet"]["text"] == f"[REDACTED:{_AWS['check_id']}]" and _AWS_KEY not in secret["raw_data"]
    assert json.loads(code["raw_data"])["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == _CODE["extra"]["lines"]
