"""A UTF-8 byte-order mark before a JSON document (PowerShell and other Windows tools write
one) is not content: RFC 8259 section 8.1 lets a parser ignore it. The documents are real samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats.base import BOM

CASES = ["falco/test/trace_files/plugins/alice_start_instances.json", "falco/test/output_files/single_rule_with_cat_write.json",
         "opa-docs/management-decision-logs.example1.json"]


@pytest.mark.parametrize("rel", CASES)
def test_bom_is_ignored(real: Path, rel: str) -> None:
    data = (real / rel).read_bytes()
    fmt = formats.detect(BOM + data[: 64 * 1024])
    assert fmt is not None and fmt is formats.detect(data[: 64 * 1024])
    plain, marked = fmt.decode(data, rel), fmt.decode(BOM + data, rel)
    assert marked.dead == [] and marked.events == plain.events > 0
    uids = [b.column("metadata").field("uid").to_pylist() for b in plain.batches]
    assert [b.column("metadata").field("uid").to_pylist() for b in marked.batches] == uids
