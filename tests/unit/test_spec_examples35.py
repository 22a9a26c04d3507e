"""Official examples of the formats' specifications and documentation, run as given (session 35).

Each test names the example it copies (abridged where it says so); expected values were read from
the specification text cited beside it and the OCSF 1.8.0 schema, not from the mapping.
"""

from __future__ import annotations

import json

from secpipe import formats
from tests.unit.spec_support import detected, rows

# microsoft/sarif-tutorials samples/DefaultRuleConfiguration.sarif (commit 403dd17359, MIT; the
# "properties" comments left out): "This result is an error according to the default rule
# configuration." Its results name rules (TUT1001, TUT1002) the run does not define, and point by
# ruleIndex at the rules it does (TUT0001 error, TUT0002 warning). SARIF 2.1.0 §3.27.6: ruleIndex is
# the index of the rule's descriptor in the tool component's rules; §3.27.10: a result without
# ``level`` takes its rule's defaultConfiguration.level (§3.50.3), else "warning".
SARIF_DEFAULT_RULE_CONFIGURATION = {
    "$schema": "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.5.json",
    "version": "2.1.0",
    "runs": [{
        "tool": {"driver": {"name": "SarifSamples", "rules": [
            {"id": "TUT0001", "defaultConfiguration": {"level": "error"}},
            {"id": "TUT0002", "defaultConfiguration": {"level": "warning"}},
        ]}},
        "results": [
            {"ruleId": "TUT1001", "ruleIndex": 0,
             "message": {"text": "This result is an error according to the default rule configuration."},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///C:/code/myProject/io/kb.c"}}}]},
            {"ruleId": "TUT1002", "ruleIndex": 1,
             "message": {"text": "This result is a warning according to the default rule configuration."},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///C:/code/myProject/io/file.c"}}}]},
        ],
        "columnKind": "utf16CodeUnits",
    }],
}  # fmt: skip


def test_sarif_rule_index_resolves_a_rule_id_the_run_does_not_define() -> None:
    doc = json.dumps(SARIF_DEFAULT_RULE_CONFIGURATION).encode()
    assert detected(doc) == "sarif"
    res = formats.get("sarif").decode(doc, "spec")
    assert res.dead == []
    error, warning = rows(res)
    # before: the unknown ruleId left both results without a rule, both "warning" (Medium)
    assert (error["severity_id"], error["severity"]) == (4, "High")
    assert (warning["severity_id"], warning["severity"]) == (3, "Medium")
    # the result's own ruleId stays what it reports
    assert error["finding_info"]["analytic"]["uid"] == "TUT1001"
    assert error["vulnerabilities"][0]["affected_code"][0]["file"]["path"] == "C:/code/myProject/io/kb.c"


def test_sarif_rule_id_still_wins_over_an_index_that_disagrees() -> None:
    # a ruleId the run defines decides, whatever the index says (Snyk Code's ruleIndex can point
    # elsewhere; SARIF §3.27.5: ruleId identifies the rule)
    log = json.loads(json.dumps(SARIF_DEFAULT_RULE_CONFIGURATION))
    log["runs"][0]["results"][1]["ruleId"] = "TUT0002"
    log["runs"][0]["results"][1]["ruleIndex"] = 0
    _, warning = rows(formats.get("sarif").decode(json.dumps(log).encode(), "spec"))
    assert warning["severity"] == "Medium"
