"""SARIF 2.1.0 configuration overrides (session 36): an invocation's ``ruleConfigurationOverrides`` (§3.20.5, §3.51)
change the level of its results that give none (§3.27.10), and its ``notificationConfigurationOverrides`` (§3.20.6)
that of its notifications (§3.58.6); a notification without a level takes its descriptor's
``defaultConfiguration.level`` (§3.49.14) from the tool component's ``notifications``.

Inputs are the spec's own examples (oasis-tcs/sarif-spec; the 2.2 working draft's prose,
``sarif-2.2/prose/edit/src/file-format-51-configurationoverride-object.md`` §3.51 EXAMPLE 1, has the text and example of
2.1.0 §3.51): rule ``CA2101`` with default level error, "treated as a warning rather than an error" by the run's
invocation; its results as the spec's §3.27 examples write them (``ruleId`` CA2101, ``rule.index`` 0). The
``descriptor`` given as ``{"id", "index"}`` is how the C# compiler writes its overrides (dotnet/roslyn
``SarifV2ErrorLogger.WriteInvocations``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import _fast

#: §3.51 EXAMPLE 1, the run, with results as §3.27's examples write them
_RUN: dict[str, Any] = {
    "tool": {"driver": {"name": "CodeScanner", "rules": [{"id": "CA2101", "defaultConfiguration": {"level": "error"}}]}},
    "invocations": [{"executionSuccessful": True, "ruleConfigurationOverrides": [
        {"descriptor": {"index": 0}, "configuration": {"level": "warning"}}]}],
    "results": [{"ruleId": "CA2101", "rule": {"index": 0}, "message": {"text": "first"}}],
}  # fmt: skip


def _log(*runs: dict[str, Any]) -> bytes:
    return json.dumps({"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                       "runs": list(runs)}).encode()  # fmt: skip


def _severities(data: bytes) -> list[str]:
    out = formats.get("sarif").decode(data, "test")
    assert not out.dead, out.dead
    return [s for b in out.batches if b.schema.field("class_uid") and b.column("class_uid")[0].as_py() == 2007
            for s in b.column("severity").to_pylist()]  # fmt: skip


@pytest.fixture(params=["native", "msgspec"])
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "msgspec":
        monkeypatch.setattr(_fast, "_module", lambda: None)
    elif not _fast.available():
        pytest.skip("native extension not built")
    return str(request.param)


def test_the_spec_example_treats_ca2101_as_a_warning(walk: str) -> None:
    run = copy.deepcopy(_RUN)
    run["results"] += [
        {"ruleId": "CA2101", "rule": {"index": 0}, "level": "note", "message": {"text": "own level"}},  # its own wins
        {"ruleId": "CA2101", "kind": "pass", "message": {"text": "a pass"}},  # kind pass: none (§3.27.10)
    ]
    assert _severities(_log(run)) == ["Medium", "Low", "Informational"]
    plain = copy.deepcopy(run)
    del plain["invocations"][0]["ruleConfigurationOverrides"]
    assert _severities(_log(plain)) == ["High", "Low", "Informational"]  # the default, error


def test_override_named_by_id_and_index_and_for_one_invocation(walk: str) -> None:
    # the C# compiler's form: {"id", "index"}; an override whose configuration gives no level leaves the default
    run = copy.deepcopy(_RUN)
    run["tool"]["driver"]["rules"].append({"id": "CA1000", "defaultConfiguration": {"level": "note"}})
    run["invocations"][0]["ruleConfigurationOverrides"] = [
        {"descriptor": {"id": "CA1000", "index": 1}, "configuration": {"level": "error"}},
        {"descriptor": {"id": "CA2101"}, "configuration": {"enabled": True}},
    ]
    run["results"].append({"ruleId": "CA1000", "message": {"text": "second"}})
    assert _severities(_log(run)) == ["High", "High"]  # CA2101 its default (error), CA1000 raised to error
    # two invocations: a result's provenance.invocationIndex picks the one whose overrides apply; naming none, none do
    run["invocations"].append({"executionSuccessful": True, "ruleConfigurationOverrides": [
        {"descriptor": {"index": 0}, "configuration": {"level": "note"}}]})  # fmt: skip
    run["results"] = [
        {"ruleId": "CA2101", "provenance": {"invocationIndex": 1}, "message": {"text": "a"}},
        {"ruleId": "CA2101", "provenance": {"invocationIndex": 0}, "message": {"text": "b"}},
        {"ruleId": "CA2101", "message": {"text": "c"}},
        {"ruleId": "CA1000", "provenance": {"invocationIndex": 0}, "message": {"text": "d"}},
    ]
    assert _severities(_log(run)) == ["Low", "High", "High", "High"]


def test_a_tool_listing_no_rules_overrides_them_by_id(walk: str) -> None:
    run = {"tool": {"driver": {"name": "CodeScanner"}},
           "invocations": [{"executionSuccessful": True, "ruleConfigurationOverrides": [
               {"descriptor": {"id": "CA2101"}, "configuration": {"level": "error"}},
               {"descriptor": {"id": "OTHER"}, "configuration": {"level": "bogus"}}]}],
           "results": [{"ruleId": "CA2101", "message": {"text": "x"}}, {"ruleId": "OTHER", "message": {"text": "y"}}]}  # fmt: skip
    assert _severities(_log(run)) == ["High", "Medium"]  # a level that is none of SARIF's four is no override


def _failures(run: dict[str, Any]) -> list[str | None]:
    out = formats.get("sarif").decode(_log(run), "test")
    assert not out.dead, out.dead
    return [m for b in out.batches if b.column("class_uid")[0].as_py() == 6007 for m in b.column("status_detail").to_pylist()]


def test_notification_levels_from_descriptor_and_override() -> None:
    """§3.58.6: a notification without a level takes the result procedure's, with notificationConfigurationOverrides;
    the descriptors are the tool component's ``notifications`` (§3.19.24)."""
    notes = [{"descriptor": {"id": "CFG0001"}, "message": {"text": "Rule configuration is missing."}},
             {"descriptor": {"index": 1}, "message": {"text": "A file could not be parsed."}},
             {"descriptor": {"id": "TRACE"}, "message": {"text": "no descriptor: warning"}}]  # fmt: skip
    run = {"tool": {"driver": {"name": "CodeScanner", "notifications": [
               {"id": "CFG0001", "defaultConfiguration": {"level": "error"}},
               {"id": "PARSE", "defaultConfiguration": {"level": "note"}}]}},
           "invocations": [{"executionSuccessful": True, "toolConfigurationNotifications": notes}], "results": []}  # fmt: skip
    assert _failures(run) == ["CFG0001"]  # its descriptor's default level is error; PARSE a note
    run["invocations"][0]["notificationConfigurationOverrides"] = [
        {"descriptor": {"id": "CFG0001"}, "configuration": {"level": "warning"}},
        {"descriptor": {"index": 1}, "configuration": {"level": "error"}},
    ]
    assert _failures(run) == ["PARSE"]
