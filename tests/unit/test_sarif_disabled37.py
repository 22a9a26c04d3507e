"""SARIF 2.1.0 disabled rules (§3.50.2 ``enabled``, §3.51.3): which results' rules the configuration switched off.

The run is §3.51 EXAMPLE 1's (see test_sarif_overrides36: rule ``CA2101``, results as §3.27's examples write them),
with ``configuration.enabled`` given by an invocation's ``ruleConfigurationOverrides`` or a rule's
``defaultConfiguration``. :meth:`RunCtx.disabled` says per result whether its rule is disabled (an override's
``enabled`` wins over the default's; a value that is no boolean says nothing); the results themselves are kept.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import formats
from secpipe.formats._sarif_config import default_enabled, disabled_rules, enabled_overrides
from secpipe.formats._sarif_model import Component, Result, Rule, Run
from secpipe.formats._sarif_run import RunCtx

_RUN: dict[str, Any] = {
    "tool": {"driver": {"name": "CodeScanner", "rules": [{"id": "CA2101", "defaultConfiguration": {"level": "error"}},
                                                           {"id": "CA1000"}]}},
    "invocations": [{"executionSuccessful": True, "ruleConfigurationOverrides": [
        {"descriptor": {"index": 0}, "configuration": {"enabled": False}}]}],
    "results": [{"ruleId": "CA2101", "rule": {"index": 0}, "message": {"text": "first"}},
                {"ruleId": "CA1000", "message": {"text": "second"}},
                {"ruleId": "CA2101", "message": {"text": "third"}}],
}  # fmt: skip
def _disabled(run_doc: dict[str, Any]) -> list[bool] | None:
    run = msgspec.json.decode(json.dumps(run_doc), type=Run)
    ctx = RunCtx(run)
    raws = [json.dumps(r).encode() for r in run_doc["results"]]
    results = msgspec.json.decode(b"[" + b",".join(raws) + b"]", type=list[Result])
    rules: list[tuple[Rule, str | None]] = []
    group = []
    for res in results:
        got = (ctx.rule(res), res.ruleId)
        if got not in rules:
            rules.append(got)
        group.append(rules.index(got))
    off = ctx.disabled(rules, np.array(group), raws)
    return None if off is None else off.to_pylist()


def test_an_override_disabling_a_rule_marks_its_results() -> None:
    assert _disabled(_RUN) == [True, False, True]  # by index, and by id for the result giving no index


def test_no_configuration_disables_nothing_and_costs_nothing() -> None:
    plain = copy.deepcopy(_RUN)
    del plain["invocations"][0]["ruleConfigurationOverrides"]
    assert _disabled(plain) is None
    on = copy.deepcopy(_RUN)
    on["invocations"][0]["ruleConfigurationOverrides"][0]["configuration"] = {"enabled": True, "level": "note"}
    assert _disabled(on) is None
    odd = copy.deepcopy(_RUN)
    odd["invocations"][0]["ruleConfigurationOverrides"][0]["configuration"] = {"enabled": "false"}  # no boolean
    assert _disabled(odd) is None


def test_a_default_disabled_rule_is_disabled_unless_an_override_enables_it() -> None:
    run = copy.deepcopy(_RUN)
    run["tool"]["driver"]["rules"][1]["defaultConfiguration"] = {"enabled": False}
    del run["invocations"][0]["ruleConfigurationOverrides"]
    assert _disabled(run) == [False, True, False]
    # §3.51.3: an override's enabled wins; one giving only a level leaves the default's enabled
    run["invocations"][0]["ruleConfigurationOverrides"] = [
        {"descriptor": {"id": "CA1000"}, "configuration": {"level": "note"}}]
    assert _disabled(run) == [False, True, False]
    run["invocations"][0]["ruleConfigurationOverrides"][0]["configuration"]["enabled"] = True
    assert _disabled(run) == [False, False, False]


def test_the_format_marks_a_disabled_rules_results_suppressed() -> None:
    """End to end: the results are all stored, a disabled rule's as analytic state Suppressed (2)."""
    doc = {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [_RUN]}
    out = formats.get("sarif").decode(json.dumps(doc).encode(), "test")
    assert not out.dead
    t = pa.Table.from_batches(out.batches)
    analytic = t.column("finding_info").combine_chunks().field("analytic")
    assert analytic.field("state_id").to_pylist() == [2, None, 2]
    assert analytic.field("state").to_pylist() == ["Suppressed", None, "Suppressed"]
    assert analytic.field("uid").to_pylist() == ["CA2101", "CA1000", "CA2101"]


def test_each_result_in_its_own_invocation() -> None:
    run = copy.deepcopy(_RUN)
    run["invocations"].append({"executionSuccessful": True})  # the second invocation overrides nothing
    run["results"] = [{**r, "provenance": {"invocationIndex": i % 2}} for i, r in enumerate(run["results"])]
    run["results"].append({"ruleId": "CA2101", "message": {"text": "no invocation named"}})
    # invocation 0 disabled CA2101 (results 0, 2); result 3 names none of the two: no override is known to apply
    assert _disabled(run) == [True, False, True, False]


def test_the_helpers_read_leniently() -> None:
    comps = [Component(name="d", rules=[Rule(id="A"), Rule(id="B")])]
    got = enabled_overrides([{"descriptor": {"index": 1}, "configuration": {"enabled": False}},
                             {"descriptor": {"index": 1}, "configuration": {"enabled": True}},  # the first wins
                             {"descriptor": "x", "configuration": {"enabled": False}}, 5], comps, "rules")  # fmt: skip
    assert got == {(0, 1): False}
    assert default_enabled({"defaultConfiguration": {"enabled": False}}) is False  # a notification descriptor
    assert default_enabled({"defaultConfiguration": {"enabled": 0}}) is None
    assert default_enabled(Rule(id="A")) is None
    assert disabled_rules([(0, 0), (0, 1), None], [False, None, False], {(0, 0): True}) == [False, False, True]
