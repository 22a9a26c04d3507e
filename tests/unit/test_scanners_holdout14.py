"""Scanner formats against shapes found in the public repositories of the holdout (session 14).

Each case is built from a specification or from the shape of a public file (cited per test),
not from the file itself; expected values were written from the specification.
"""

from __future__ import annotations

import json

from secpipe import formats
from secpipe.formats.base import decode_document

_SCHEMA = "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.6.json"


def test_sarif_log_without_runs_holds_no_result() -> None:
    # SARIF 2.1.0 §3.13.4: `runs` is null when the tool failed before any run. sarif-sdk's
    # validator inputs (GH1013...MissingRunsArray_Invalid.sarif) hold a log with only $schema and
    # version: neither has a result to store, and neither is a damaged record.
    fmt = formats.get("sarif")
    for log in ({"$schema": _SCHEMA, "version": "2.1.0"}, {"$schema": _SCHEMA, "version": "2.1.0", "runs": None}):
        body = json.dumps(log, indent=2).encode()
        assert formats.detect(body) is fmt  # recognized by $schema and version alone
        res = decode_document(fmt, body, "t")
        assert not res.batches and not res.dead and res.events == 0


def test_sarif_external_property_file_is_not_a_log() -> None:
    # SARIF 2.1.0 §4: an external property file carries a run's results outside the log that
    # references it; read alone, its results have no tool or run: dead-lettered, with the reason.
    body = json.dumps({
        "$schema": "https://schemastore.azurewebsites.net/schemas/json/sarif-external-property-file-2.1.0.json",
        "version": "2.1.0", "guid": "00000000-0000-0000-0000-000000000001",
        "results": [{"ruleId": "X1", "message": {"text": "m"}}],
    }).encode()  # fmt: skip
    fmt = formats.get("sarif")
    res = decode_document(fmt, body, "t")
    assert not res.batches and len(res.dead) == 1
    assert "external property file" in res.dead[0].reason


def test_sarif_other_versions_without_runs_still_dead_lettered() -> None:
    body = json.dumps({"$schema": "http://json.schemastore.org/sarif-1.0.0", "version": "1.0.0"}).encode()
    fmt = formats.get("sarif")
    assert formats.detect(body) is fmt
    res = decode_document(fmt, body, "t")
    assert not res.batches and "SARIF version '1.0.0' is not supported" in res.dead[0].reason
