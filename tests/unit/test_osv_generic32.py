"""OSV-Scanner v2's ``experimental_generic_findings`` (OSV-SCALIBR detectors' findings: weak credentials, CIS
checks ...) are stored, one Vulnerability Finding each, where they were dropped unread.

Input built from OSV-Scanner's documentation (google/osv-scanner ``docs/manual-plugin-selection.md``, "Example
detector run", Apache-2.0): its ``experimental_generic_findings`` entry verbatim, in a report whose results hold
no package (the page's package entry is abridged there: vulnerability ids for records, a number for its groups;
and its image metadata is no JSON as printed, its escapes lost); the entry's shape is OSV-SCALIBR's
``GenericFinding`` (``Adv`` {``ID`` {Publisher, Reference}, Title, Description, Recommendation, ``Sev``},
``Target`` {Extra}, ``Plugins``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.unit.holdout_support import auto_decoded, conformant_rows

_FINDING: dict[str, Any] = {
    "Adv": {
        "ID": {"Publisher": "SCALIBR", "Reference": "etc-shadow-weakcredentials"},
        "Title": "Ensure all users have strong passwords configured",
        "Description": "The /etc/shadow file contains user account password hashes. These passwords must be strong and "
                       "not easily guessable.",
        "Recommendation": "Run the following command to reset password for the reported users:/n# change password for "
                          "USER: sudo passwd USER",
        "Sev": 5,
    },
    "Target": {"Extra": "/etc/shadow: The following users have weak passwords:/nuser-bcrypt/n"},
    "Plugins": ["weakcredentials/etcshadow"],
    "ExploitabilitySignals": None,
}  # fmt: skip


def _report(*findings: object) -> bytes:
    return orjson.dumps({"results": [], "experimental_config": {"licenses": {"summary": False, "allowlist": None}},
                         "experimental_generic_findings": list(findings)}, option=orjson.OPT_INDENT_2)  # fmt: skip


def test_detector_finding(tmp_path: Path) -> None:
    d = auto_decoded(_report(_FINDING), tmp_path, "osv_scanner")
    assert not d.dead
    [r] = conformant_rows(d)["vulnerability_finding"]
    assert (r["severity_id"], r["severity"]) == (5, "Critical")
    assert r["finding_info"]["title"] == "Ensure all users have strong passwords configured"
    assert r["finding_info"]["types"] == ["weakcredentials/etcshadow"]
    assert r["message"].endswith(": /etc/shadow: The following users have weak passwords:/nuser-bcrypt/n")
    [v] = r["vulnerabilities"]
    assert (v["advisory"]["uid"], v["vendor_name"]) == ("etc-shadow-weakcredentials", "SCALIBR")
    assert v["remediation"]["desc"].startswith("Run the following command")
    assert orjson.loads(r["unmapped"]) == {"ExploitabilitySignals": None}
    assert orjson.loads(r["raw_data"]) == _FINDING


def test_bad_detector_finding_alone(tmp_path: Path) -> None:
    # one entry of the wrong shape (its advisory no object) is dead-lettered alone; a severity by name is read
    named = {**_FINDING, "Adv": {**_FINDING["Adv"], "Sev": "SEVERITY_HIGH"}}
    d = auto_decoded(_report({"Adv": "weak"}, named), tmp_path, "osv_scanner")
    assert len(d.dead) == 1 and "generic finding" in d.dead[0].reason
    [r] = conformant_rows(d)["vulnerability_finding"]
    assert r["severity_id"] == 4
    assert d.events == 2
