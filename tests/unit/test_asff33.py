"""asff's split checks UTF-8 on the native pass that compacts a ``GetFindings`` answer
(``compact_doc(..., utf8=True)``), where it read the pretty document once more: a document that is
not UTF-8 is not split there, and goes the JSON split's way (as when the check was the format's own). The findings are the real Security Hub sample's
(tests/cases/scanners30), pretty-printed as the AWS CLI writes them (indent 4)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import _fast

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners30"


def _doc(titles: list[str]) -> bytes:
    """A pretty ``GetFindings`` answer of the sample finding once a title, each title's bytes ``\\udcXX``
    escapes written as the lone bytes they stand for (a document that is not UTF-8)."""
    f = json.loads((CASES / "asff-securityhub-config-one-finding-defectdojo.json").read_text())["findings"][0]
    fs: list[dict[str, Any]] = [{**f, "Id": f"{f['Id']}-{i}", "Title": t} for i, t in enumerate(titles)]
    return json.dumps({"Findings": fs}, indent=4, ensure_ascii=False).encode("utf-8", "surrogateescape")


@pytest.mark.skipif(_fast._module() is None, reason="native extension not built")
def test_compact_doc_refuses_a_document_that_is_not_utf8_only_when_asked() -> None:
    good, bad = _doc(["caf\u00e9 \u2603"]), _doc(["caf\udce9"])
    assert _fast.compact_doc(good, "Findings", utf8=True) is not None
    assert _fast.compact_doc(bad, "Findings", utf8=True) is None
    assert _fast.compact_doc(bad, "Findings") is not None  # (its other callers check it themselves)


def test_an_extension_built_before_the_check_is_checked_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    got = (b"[]", [b"{}"], None)
    monkeypatch.setattr(_fast, "_module", lambda: SimpleNamespace(compact_doc=lambda doc, key: got))
    assert _fast.compact_doc(_doc(["caf\u00e9"]), "Findings", utf8=True) is got
    assert _fast.compact_doc(_doc(["caf\udce9"]), "Findings", utf8=True) is None


def test_a_document_that_is_not_utf8_goes_the_json_split_way() -> None:
    """(Since session 34 that way cuts it into its findings and dead-letters only the one not UTF-8:
    test_asff34.)"""
    titles = [f"check {i}" for i in range(20)]
    titles[7] = "caf\udce9"
    doc = _doc(titles)
    res = formats.get("asff").decode(doc, "s")
    assert sum(b.num_rows for b in res.batches) == 19
    assert [(d.reason.startswith("not valid UTF-8 at byte"), d.offset) for d in res.dead] == [(True, 7)]
    res = formats.get("asff").decode(_doc(["caf\u00e9"] * 20), "s")
    assert sum(b.num_rows for b in res.batches) == 20
    assert not res.dead
