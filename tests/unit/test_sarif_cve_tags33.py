"""A SARIF rule named by an id that is no CVE, whose tags name its CVE (govulncheck's SARIF: the rule is the GO-
advisory, ``properties.tags`` its CVE aliases): the finding's vulnerability is that CVE (``cve.uid``), the rule's
own id a related vulnerability, as the govulncheck JSON format maps the same entry (where the GO- id was the
advisory and the CVE only a finding type).

Input: ``tests/cases/scanners33/govulncheck-1.3.0-defectdojo.sarif`` (see SOURCES.md), and the spec's rule
properties (SARIF 2.1.0 §3.8.2 ``tags``) built around it for the cases no CVE is tagged."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.holdout_support import auto_decoded, conformant_rows

_LOG = Path(__file__).parents[1] / "cases" / "scanners33" / "govulncheck-1.3.0-defectdojo.sarif"


def _vulns(doc: bytes, tmp_path: Path) -> list[dict]:
    rows = conformant_rows(auto_decoded(doc, tmp_path, "sarif"))["application_security_posture_finding"]
    return [r["vulnerabilities"][0] for r in rows]


def test_govulncheck_rule_tags_give_the_cve(tmp_path: Path) -> None:
    vulns = _vulns(_LOG.read_bytes(), tmp_path)
    assert [(v["cve"]["uid"], v["related_vulnerabilities"], v.get("advisory")) for v in vulns] == [
        ("CVE-2026-32282", ["GO-2026-4864"], None),
        ("CVE-2026-32289", ["GO-2026-4865"], None),
        ("CVE-2026-32288", ["GO-2026-4869"], None),
    ]


def test_a_tag_that_is_no_cve_id_leaves_the_rule_the_advisory(tmp_path: Path) -> None:
    log = json.loads(_LOG.read_bytes())
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    rules[0]["properties"]["tags"] = ["security", "CVE-2026-32282 (alias)"]  # not a CVE id whole
    del rules[1]["properties"]
    vulns = _vulns(json.dumps(log).encode(), tmp_path)
    assert [(v.get("cve"), (v.get("advisory") or {}).get("uid"), v.get("related_vulnerabilities")) for v in vulns] == [
        (None, "GO-2026-4864", None),
        (None, "GO-2026-4865", None),
        ({"uid": "CVE-2026-32288", "cwe": None}, None, ["GO-2026-4869"]),
    ]
