"""Values of a legal JSON type but outside what the OCSF column holds, found by a mutation fuzz
over the real samples (session 16: each numeric or string leaf of each sample replaced in turn by
huge, negative, fractional, boolean, empty and structured values; a decoder exception dead-letters
the whole document, so the other records of the body were not stored).

Such a value is not the field's: the field is left empty and the record kept whole in
``raw_data``; every other record of the document is stored as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded, decode_document, int32_or_none
from tests.unit.native_support import same_both_ways

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def test_int32_or_none_bounds() -> None:
    assert [int32_or_none(v) for v in (None, 0, -(2**31), 2**31 - 1, 2**31, -(2**31) - 1, 2**63 + 7)] == [
        None, 0, -(2**31), 2**31 - 1, None, None, None]  # fmt: skip


@pytest.mark.parametrize("tags", [7, 2**63 + 7, 1.5, True, {"a": "b"}, "external/cwe/cwe-79"])
def test_sarif_rule_tags_not_an_array(tags: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # SARIF 2.1.0 §3.8.2: a property bag's tags SHALL be an array of strings. A rule whose tags are
    # not one was a TypeError that dead-lettered the whole log (Trivy's SARIF golden, 4 results).
    doc = json.loads((REAL / "trivy" / "sarif" / "alpine-310.sarif.golden").read_bytes())
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    before = _rows(same_both_ways("sarif", json.dumps(doc).encode(), monkeypatch, "unmutated"))
    rules[1]["properties"]["tags"] = tags
    d = same_both_ways("sarif", json.dumps(doc).encode(), monkeypatch, f"tags {tags!r}")
    assert not d.dead
    rows = _rows(d)
    assert len(rows) == len(before) == sum(len(r["results"]) for r in doc["runs"])
    uid = rules[1]["id"]
    got = [(r["finding_info"]["analytic"]["uid"], r["finding_info"]["types"]) for r in rows]
    want = [(r["finding_info"]["analytic"]["uid"], None if r["finding_info"]["analytic"]["uid"] == uid
             else r["finding_info"]["types"]) for r in before]  # fmt: skip
    assert got == want and any(t is None for _u, t in got) and any(t for _u, t in got)


@pytest.mark.parametrize("line", [2**31 + 7, 2**63 + 7, -(2**40)])
def test_github_code_scanning_line_out_of_range(line: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # octokit's code_scanning_alert 'created' example gives its location in instances[] only; a line
    # beyond int32 (OCSF affected_code.end_line is an integer) was an ArrowInvalid or OverflowError
    # that dead-lettered the document with every payload beside it.
    path = REAL / "octokit-webhooks" / "payload-examples" / "api.github.com" / "code_scanning_alert" / "created.payload.json"
    good = json.loads(path.read_bytes())
    bad = json.loads(path.read_bytes())
    bad["alert"]["instances"][0]["location"]["end_line"] = line
    bad["alert"]["number"] += 1  # another alert: not a redelivery of the first
    body = b"\n".join(json.dumps(x).encode() for x in (good, bad))
    d = same_both_ways("github", body, monkeypatch, f"end_line {line}")
    assert not d.dead
    codes = [r["vulnerabilities"][0]["affected_code"][0] for r in _rows(d)]
    loc = good["alert"]["instances"][0]["location"]
    assert [(c["start_line"], c["end_line"]) for c in codes] == [(loc["start_line"], loc["end_line"]),
                                                                  (loc["start_line"], None)]  # fmt: skip


def test_auto_detected_document_keeps_its_other_records() -> None:
    # the same through --format auto's path (detect, then decode_document), as `secpipe ingest` runs it
    path = REAL / "trivy" / "sarif" / "alpine-310.sarif.golden"
    doc = json.loads(path.read_bytes())
    doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = 9
    body = json.dumps(doc).encode()
    fmt = formats.detect(body[:65536])
    assert fmt is not None and fmt.name == "sarif"
    d = decode_document(fmt, body, "fuzz")
    assert not d.dead and sum(b.num_rows for b in d.batches) == sum(len(r["results"]) for r in doc["runs"])


@pytest.mark.parametrize("status", ["affected", "unaffected"])
def test_cyclonedx_affects_versions_as_one_object(status: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # CycloneDX 1.4+ schema: affects[].versions is an array of {version|range, status}. CycloneDX's
    # own bom-examples VEX use case 5 writes one object instead; its vulnerabilities were
    # dead-lettered. One object is read as a one-element array: the same finding as the array form.
    cases = Path(__file__).resolve().parents[1] / "cases" / "sbom"
    doc = json.loads((cases / "vex.json").read_bytes())
    version = {"version": "2.10.0", "status": status}
    as_list, as_object = json.loads(json.dumps(doc)), json.loads(json.dumps(doc))
    as_list["vulnerabilities"][0]["affects"][0]["versions"] = [version]
    as_object["vulnerabilities"][0]["affects"][0]["versions"] = version
    want = same_both_ways("sbom", json.dumps(as_list).encode(), monkeypatch, "versions as an array")
    got = same_both_ways("sbom", json.dumps(as_object).encode(), monkeypatch, "versions as one object")
    assert not got.dead and not want.dead
    vulns = [[r["vulnerabilities"] for r in _rows(d)] for d in (want, got)]
    assert vulns[0] == vulns[1] and len(vulns[0]) == 1
