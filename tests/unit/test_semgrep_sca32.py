"""Semgrep Supply Chain matches (``semgrep ci --json``, logged in): the dependency a match found is its affected
package (name, version, ecosystem, lockfile, the fixed version its rule names), where only the CVE stood for it.

Input: the JSON example with all the fields for Semgrep Supply Chain in Semgrep's documentation ("Semgrep Supply
Chain", JSON example output, Semgrep 1.122.0), its one match; and an early ``found_dependency`` as Semgrep's own
test of ``RuleMatch`` to app findings writes it (``name`` / ``namespace``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.unit.holdout_support import auto_decoded, conformant_rows

_MATCH: dict[str, Any] = {
    "check_id": "ssc-parity-0ddf890152a281f12fd6d01c3953da8d88ce2e7b",
    "path": "go.mod",
    "start": {"line": 6, "col": 1, "offset": 0},
    "end": {"line": 6, "col": 1, "offset": 0},
    "extra": {
        "metavars": {},
        "message": "Affected versions of github.com/gin-gonic/gin are vulnerable to Download of Code Without Integrity Check.",
        "metadata": {
            "confidence": "LOW", "category": "security", "cve": "CVE-2023-29401",
            "cwe": ["CWE-494: Download of Code Without Integrity Check"], "ghsa": "GHSA-2c4m-59x9-fr2g",
            "owasp": ["A06:2021 - Vulnerable and Outdated Components", "A08:2021 - Software and Data Integrity Failures"],
            "publish-date": "2023-05-12T20:19:25Z",
            "references": ["https://github.com/advisories/GHSA-2c4m-59x9-fr2g", "https://nvd.nist.gov/vuln/detail/CVE-2023-29401"],
            "sca-fix-versions": [{"github.com/gin-gonic/gin": "1.9.1"}], "sca-kind": "legacy", "sca-schema": 20230302,
            "sca-severity": "MODERATE", "sca-vuln-database-identifier": "CVE-2023-29401", "technology": ["go"],
            "license": "Semgrep Rules License v1.0. For more details, visit semgrep.dev/legal/rules-license",
            "vulnerability_class": ["Cryptographic Issues"],
            "semgrep.dev": {"rule": {"r_id": 109470, "rv_id": 953164, "rule_id": "4bURlK3", "version_id": "w8TKlRo",
                                     "url": "https://semgrep.dev/orgs/-/supply-chain/advisories?q=ssc-parity-0ddf890152a281f12fd6d01c3953da8d88ce2e7b",
                                     "origin": "custom", "rule_name": "ssc-parity-0ddf890152a281f12fd6d01c3953da8d88ce2e7b"},
                            "src": "unchanged"},
            "source": "https://semgrep.dev/orgs/-/supply-chain/advisories?q=ssc-parity-0ddf890152a281f12fd6d01c3953da8d88ce2e7b",
            "semgrep.url": "https://semgrep.dev/orgs/-/supply-chain/advisories?q=ssc-parity-0ddf890152a281f12fd6d01c3953da8d88ce2e7b",
            "dev.semgrep.actions": [],
        },
        "severity": "WARNING",
        "fingerprint": "...",
        "lines": "\tgithub.com/gin-gonic/gin v1.6.3 // indirect",
        "is_ignored": False,
        "sca_info": {
            "reachability_rule": False, "sca_finding_schema": 20220913,
            "dependency_match": {
                "dependency_pattern": {"ecosystem": "gomod", "package": "github.com/gin-gonic/gin",
                                       "semver_range": ">=1.3.1-0.20190301021747-ccb9e902956d, <1.9.1"},
                "found_dependency": {"package": "github.com/gin-gonic/gin", "version": "1.6.3", "ecosystem": "gomod",
                                     "allowed_hashes": {}, "resolved_url": "github.com/gin-gonic/gin",
                                     "transitivity": "transitive", "manifest_path": "go.mod", "lockfile_path": "go.mod",
                                     "line_number": 6},
                "lockfile": "go.mod",
            },
            "reachable": False,
        },
        "engine_kind": "OSS",
    },
}  # fmt: skip


def _report(*matches: dict[str, Any]) -> bytes:
    return orjson.dumps({"version": "1.122.0", "results": list(matches), "errors": [], "paths": {"scanned": ["go.mod"]},
                         "interfile_languages_used": [], "skipped_rules": []}, option=orjson.OPT_INDENT_2)  # fmt: skip


def test_supply_chain_match(tmp_path: Path) -> None:
    [r] = conformant_rows(auto_decoded(_report(_MATCH), tmp_path, "semgrep"))["application_security_posture_finding"]
    [v] = r["vulnerabilities"]
    assert v["cve"]["uid"] == "CVE-2023-29401"
    [pkg] = v["affected_packages"]
    assert (pkg["name"], pkg["version"], pkg["package_manager"]) == ("github.com/gin-gonic/gin", "1.6.3", "gomod")
    assert (pkg["path"], pkg["fixed_in_version"]) == ("go.mod", "1.9.1")
    assert v["affected_code"][0]["file"]["path"] == "go.mod"


def test_early_dependency_keys_and_a_code_match_beside(tmp_path: Path) -> None:
    early = {**_MATCH, "extra": {**_MATCH["extra"], "sca_info": {"dependency_match": {
        "dependency_pattern": {"namespace": "pypi", "package_name": "awscli", "semver_range": "== 1.11.82"},
        "found_dependency": {"allowed_hashes": {}, "name": "awscli", "namespace": "pypi", "resolved_url": None,
                             "version": "1.11.82"},
        "lockfile": "targets/dependency_aware/Pipfile.lock"}}}}  # fmt: skip
    code = {k: v for k, v in _MATCH.items() if k != "extra"} | {"extra": {"message": "m", "severity": "ERROR"}}
    a, b = conformant_rows(auto_decoded(_report(early, code), tmp_path, "semgrep"))["application_security_posture_finding"]
    [pkg] = a["vulnerabilities"][0]["affected_packages"]
    assert (pkg["name"], pkg["version"], pkg["package_manager"]) == ("awscli", "1.11.82", "pypi")
    assert pkg["path"] == "targets/dependency_aware/Pipfile.lock" and pkg["fixed_in_version"] is None
    assert b["vulnerabilities"][0]["affected_packages"] is None
