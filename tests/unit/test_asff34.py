"""A findings envelope that is not UTF-8 (one byte of Latin-1 in one finding's title, as a producer
writing its own text unencoded leaves it) dead-letters that finding alone, at its index, saying
where its bad byte is; every other finding of the page is stored, with the identity (uid) it has
in a page without the bad one. Before, the whole page was dead-lettered. Bad bytes outside every
finding (the answer's ``NextToken``) dead-letter the document and keep its findings.

The findings are the real DefectDojo samples (tests/cases/scanners30: Security Hub's GetFindings
answer of GuardDuty, Inspector and Config findings, and its export with a lowercase ``findings``
key), pretty-printed as the AWS CLI writes them (indent 4); the EventBridge envelope is the AWS
Security Hub User Guide's (test_scanners_holdout30)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats.base import Decoded
from tests.unit.native_support import same_both_ways
from tests.unit.test_scanners_holdout30 import _EVENTBRIDGE

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners30"
KINDS = ["asff-guardduty-defectdojo.json", "asff-securityhub-config-one-finding-defectdojo.json",
         "asff-inspector-ec2-cve-defectdojo.json"]  # fmt: skip
BAD = "\udce9"  # a lone byte 0xE9 (Latin-1 'e' with acute) once encoded with surrogateescape


def _findings(n: int, bad: set[int]) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        doc = json.loads((CASES / KINDS[i % len(KINDS)]).read_text())
        f = copy.deepcopy((doc.get("Findings") or doc["findings"])[0])
        f["Id"] = f"{f['Id']}-{i}"
        if i in bad:
            f["Title"] = f"Caf{BAD} {f['Title']}"
        out.append(f)
    return out


def _encode(doc: Any) -> bytes:
    return json.dumps(doc, indent=4, ensure_ascii=False).encode("utf-8", "surrogateescape")


def _uids(res: Decoded) -> dict[str, str]:
    """finding_info.uid -> metadata.uid of every stored finding."""
    out: dict[str, str] = {}
    for b in res.batches:
        rows = b.select(["finding_info", "metadata"]).to_pylist()
        out.update({r["finding_info"]["uid"]: r["metadata"]["uid"] for r in rows})
    return out


@pytest.mark.parametrize("key", ["Findings", "findings"])
def test_only_the_finding_that_is_not_utf8_is_dead_lettered(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fs = _findings(20, {7, 13})
    doc = _encode({key: fs, "NextToken": None})
    res = same_both_ways("asff", doc, monkeypatch, key)
    assert res.events == 20
    assert [d.offset for d in res.dead] == [7, 13]
    for d, i in zip(res.dead, (7, 13), strict=True):
        at = d.raw.index(b"\xe9")
        assert d.reason == f"not valid UTF-8 at byte {at}"
        assert d.source == "src"
        assert json.loads(d.raw.decode("utf-8", "surrogateescape"))["Id"] == fs[i]["Id"]
    stored = _uids(res)
    assert sorted(stored) == sorted(f["Id"] for i, f in enumerate(fs) if i not in (7, 13))
    # the same identities as in the page without the bad findings' bytes (the native split's compaction)
    clean = _uids(same_both_ways("asff", _encode({key: _findings(20, set()), "NextToken": None}), monkeypatch, key))
    assert stored == {k: v for k, v in clean.items() if k in stored}


def test_an_eventbridge_event_keeps_its_other_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    fs = _findings(4, {2})
    doc = (_EVENTBRIDGE % ",".join(json.dumps(f, ensure_ascii=False) for f in fs)).encode("utf-8", "surrogateescape")
    res = same_both_ways("asff", doc, monkeypatch, "eventbridge")
    assert sorted(_uids(res)) == sorted(f["Id"] for i, f in enumerate(fs) if i != 2)
    assert [(d.offset, d.reason.startswith("not valid UTF-8 at byte")) for d in res.dead] == [(2, True)]


def test_a_bad_byte_outside_the_findings_dead_letters_the_document_and_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    fs = _findings(20, set())
    doc = _encode({"Findings": fs, "NextToken": f"tok{BAD}"})
    res = same_both_ways("asff", doc, monkeypatch, "next token")
    assert sorted(_uids(res)) == sorted(f["Id"] for f in fs)
    assert res.events == 21
    [d] = res.dead
    assert d.offset == 0
    assert json.loads(d.raw.decode("utf-8", "surrogateescape")) == json.loads(doc.decode("utf-8", "surrogateescape"))
    at = d.raw.index(b"\xe9")
    assert d.reason == f"not valid UTF-8 at byte {at}, outside its findings (kept)"


def test_events_one_a_line_each_keep_their_other_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """(EventBridge -> Firehose -> S3: one event a line; a finding is placed at its event's line.)"""
    fs = _findings(6, {4})
    lines = [(_EVENTBRIDGE % ",".join(json.dumps(f, ensure_ascii=False) for f in fs[k : k + 3])) for k in (0, 3)]
    doc = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"
    res = same_both_ways("asff", doc, monkeypatch, "lines")
    assert sorted(_uids(res)) == sorted(f["Id"] for i, f in enumerate(fs) if i != 4)
    second = len(lines[0].encode("utf-8", "surrogateescape")) + 1
    assert [(d.offset, d.reason.startswith("not valid UTF-8 at byte"), d.reason.endswith("(its finding 1)"))
            for d in res.dead] == [(second, True, True)]  # fmt: skip
    assert res.events == 6


def test_a_document_neither_utf8_nor_json_is_dead_lettered_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _encode({"Findings": _findings(20, {3})})[:-40]  # cut
    res = same_both_ways("asff", doc, monkeypatch, "cut")
    assert not res.batches
    assert [(d.offset, d.raw) for d in res.dead] == [(0, doc)]
