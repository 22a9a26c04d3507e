"""The SARIF 2.1.0 objects :mod:`.sarif` reads, as msgspec structs (SARIF 2.1.0 §3.13 sarifLog, §3.14 run,
§3.19 toolComponent, §3.27 result, §3.28 location ...), and their decoders.

A log is decoded once whole (:data:`LOG`: each run's results kept as raw slices) and, when the native walker cannot
read a run's results, once more with every result typed (:data:`TYPED_LOG`, :class:`Result`: every result property
named, those not mapped kept raw, so a result with an unknown key is told apart and dead-lettered alone).
"""

from __future__ import annotations

from typing import Any

import msgspec

from secpipe.formats._sarif_ids import Fingerprints
from secpipe.formats.base import TimeField


class Text(msgspec.Struct):
    text: str | None = None
    markdown: str | None = None


class Cfg(msgspec.Struct):
    level: str | None = None
    parameters: Any = None  # a property bag (§3.50.4); read leniently: only qodanaSeverity is used
    enabled: Any = None  # §3.50.2 (a boolean; read leniently: see _sarif_config)


class Rule(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    shortDescription: Text | None = None
    fullDescription: Text | None = None
    helpUri: str | None = None
    defaultConfiguration: Cfg | None = None
    messageStrings: dict[str, Text] | None = None
    properties: dict[str, Any] | None = None
    relationships: Any = None  # links to taxa (a CWE taxonomy); read leniently (see _sarif_ids.CweTaxonomy.of_rule)


class Component(msgspec.Struct):
    name: str | None = None
    version: str | None = None
    semanticVersion: str | None = None
    organization: str | None = None
    rules: list[Rule] | None = None
    globalMessageStrings: Any = None  # message strings of no one rule (§3.19.22); read leniently
    notifications: Any = None  # notification descriptors (§3.19.24); read leniently (see _sarif_config)


class Tool(msgspec.Struct):
    driver: Component | None = None
    extensions: list[Component] | None = None


class ArtLoc(msgspec.Struct):
    uri: str | None = None
    uriBaseId: str | None = None
    index: int | None = None


class Artifact(msgspec.Struct):
    location: ArtLoc | None = None


class Invocation(msgspec.Struct):
    startTimeUtc: TimeField = None
    endTimeUtc: TimeField = None
    # how the run went (read leniently: see _sarif_notifications)
    executionSuccessful: Any = None
    exitCode: Any = None
    exitCodeDescription: Any = None
    exitSignalName: Any = None
    exitSignalNumber: Any = None
    toolExecutionNotifications: msgspec.Raw = msgspec.Raw(b"")
    toolConfigurationNotifications: msgspec.Raw = msgspec.Raw(b"")
    # the run's changes to its rules' and notifications' default configuration (read leniently: see _sarif_config)
    ruleConfigurationOverrides: Any = None
    notificationConfigurationOverrides: Any = None


class Run(msgspec.Struct):
    tool: Tool | None = None
    logicalLocations: Any = None  # read leniently (see _sarif_run.cached_logical)
    results: list[msgspec.Raw] | None = None
    artifacts: list[Artifact] | None = None
    invocations: list[Invocation] | None = None
    taxonomies: Any = None  # read leniently: only a CWE taxonomy's taxa are used (captions)
    versionControlProvenance: Any = None  # read leniently (see _sarif_run.repositories)
    originalUriBaseIds: Any = None  # read leniently (see _sarif_uris.base_uris)


class Log(msgspec.Struct):
    version: Any = None
    runs: list[Run] | None = None
    results: Any = None  # only an external property file (not a log) has top-level results


class Head(msgspec.Struct):
    version: Any = None


class Region(msgspec.Struct):
    startLine: int | None = None
    endLine: int | None = None
    startColumn: int | None = None
    endColumn: int | None = None


class PhysLoc(msgspec.Struct):
    artifactLocation: ArtLoc | None = None
    region: Region | None = None


class LogLoc(msgspec.Struct):
    name: str | None = None
    fullyQualifiedName: str | None = None
    kind: str | None = None
    index: int | None = None


class Location(msgspec.Struct):
    physicalLocation: PhysLoc | None = None
    logicalLocations: list[LogLoc] | None = None


class Message(msgspec.Struct):
    text: str | None = None
    id: str | None = None
    arguments: list[Any] | None = None


class ToolRef(msgspec.Struct):
    index: int | None = None


class RuleRef(msgspec.Struct):
    id: str | None = None
    index: int | None = None
    toolComponent: ToolRef | None = None


_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


class Result(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every SARIF 2.1.0 ``result`` property: mapped ones typed, the rest kept raw."""

    ruleId: str | None = None
    ruleIndex: int | None = None
    rule: RuleRef | None = None
    level: str | None = None
    kind: str | None = None
    message: _R = _NONE  # decoded once per distinct message (see sarif.Sarif._batch)
    locations: list[Location] | None = None
    fingerprints: Fingerprints | None = None
    partialFingerprints: Fingerprints | None = None
    suppressions: list[Any] | None = None
    baselineState: str | None = None
    properties: _R = _NONE
    analysisTarget: _R = _NONE
    guid: _R = _NONE
    correlationGuid: _R = _NONE
    occurrenceCount: _R = _NONE
    stacks: _R = _NONE
    codeFlows: _R = _NONE
    graphs: _R = _NONE
    graphTraversals: _R = _NONE
    relatedLocations: _R = _NONE
    rank: _R = _NONE
    attachments: _R = _NONE
    hostedViewerUri: _R = _NONE
    workItemUris: _R = _NONE
    provenance: _R = _NONE
    fixes: _R = _NONE
    taxa: _R = _NONE
    webRequest: _R = _NONE
    webResponse: _R = _NONE


UNMAPPED = (
    "properties", "analysisTarget", "guid", "correlationGuid", "occurrenceCount", "stacks", "codeFlows", "graphs",
    "graphTraversals", "relatedLocations", "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance",
    "fixes", "taxa", "webRequest", "webResponse",
)  # fmt: skip


class TypedRun(msgspec.Struct, gc=False):
    results: list[Result] | None = None


class TypedLog(msgspec.Struct, gc=False):
    """The log again with every result typed: one C call for all runs (no per-result join)."""

    runs: list[TypedRun] | None = None


LOG = msgspec.json.Decoder(Log)
HEAD = msgspec.json.Decoder(Head)
TYPED_LOG = msgspec.json.Decoder(TypedLog)
NO_RULE = Rule()
#: the rule reference and first-location fields of a result (both paths give them as these columns).
REF_INTS = ("ruleIndex", "rule.index", "rule.toolComponent.index")
LOC_INTS = ("startLine", "endLine", "startColumn", "endColumn")
NO_REF = RuleRef()
NO_LOGICAL = LogLoc()
NO_ART = ArtLoc()


__all__ = ["ArtLoc", "Artifact", "Cfg", "Component", "HEAD", "Head", "Invocation", "LOC_INTS", "LOG", "Location", "Log", "LogLoc", "Message", "NO_ART", "NO_LOGICAL", "NO_REF", "NO_RULE", "PhysLoc", "REF_INTS", "Region", "Result", "Rule", "RuleRef", "Run", "TYPED_LOG", "Text", "Tool", "ToolRef", "TypedLog", "TypedRun", "UNMAPPED"]
