"""NDJSON lines and objects printed over several lines in one body (``cat`` of an NDJSON file
and a ``jq``-printed one; found by the mutation fuzzer, seed 3001 round 90): each printed object is
one record, not each of its lines a broken NDJSON record (``base._printed_object``), with and without
the native split. Input: the real CloudTrail records of Panther's test data
(../shared/data/real/panther-analysis/extracted/cloudtrail.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats.base import split_json_records


def _records(real: Path) -> list[dict]:
    return json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]


def _body(recs: list[dict]) -> bytes:
    """The first record one a line (NDJSON), the others as jq prints them (two-space indent)."""
    return b"\n".join([json.dumps(recs[0], separators=(",", ":")).encode(),
                       *(json.dumps(r, indent=2).encode() for r in recs[1:])]) + b"\n"  # fmt: skip


@pytest.fixture(params=["native", "python"])
def split_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(_fast, "split_lines", lambda data: None)
    elif _fast.split_lines(b"{}") is None:
        pytest.skip("native extension not built")
    return str(request.param)


def test_printed_objects_after_ndjson_lines_are_one_record_each(real: Path, split_path: str) -> None:
    recs = _records(real)
    body = _body(recs)
    got, offsets, dead = split_json_records(body, "t", "cloudtrail")
    assert dead == []
    assert [json.loads(g) for g in got] == recs
    assert offsets == sorted(offsets) and all(body[o : o + 1] == b"{" for o in offsets)
    # stored as when the same records come one a line
    fmt = formats.get("cloudtrail")
    alone = fmt.decode(b"\n".join(json.dumps(r, separators=(",", ":")).encode() for r in recs), "t")
    mixed = fmt.decode(body, "t")
    uids = [sorted(u for b in d.batches for u in b.column("metadata").field("uid").to_pylist()) for d in (alone, mixed)]
    assert uids[0] == uids[1] and len(uids[0]) == len(recs) and not mixed.dead


def test_a_damaged_printed_object_is_dead_lettered_alone(real: Path, split_path: str) -> None:
    recs = _records(real)[:6]
    body = _body(recs)
    third = body.index(b'\n{\n', body.index(b'\n{\n') + 1) + 1  # the third record's first line
    broken = body[:third] + body[third:].replace(b'",\n', b'"\n', 1)  # a comma lost inside it
    got, _, dead = split_json_records(broken, "t", "cloudtrail")
    assert len(got) == 5 and len(dead) == 1
    assert dead[0].reason.startswith("invalid JSON") and dead[0].offset == third
    assert dead[0].raw.startswith(b"{\n") and dead[0].raw.endswith(b"}")


def test_a_lone_brace_line_among_ndjson_lines_stays_a_line(split_path: str) -> None:
    """A line ``{`` whose next lines are not indented is no printed object: each line on its own."""
    body = b'{"a":1}\n{\n{"b":2}\n}\n{"c":3}\n'
    got, _, dead = split_json_records(body, "t", "json")
    assert got == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    assert [d.raw for d in dead] == [b"{", b"}"]


def test_github_kept_document_reads_printed_objects_as_its_split_does(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub's kept NDJSON documents (read where they lie, ``GitHub._read_docs``) take a printed object among
    their lines as the split does (the long fuzz test, mix seed 28433: a damaged printed payload was one dead
    letter without the extension and its first line's with it). Octokit's branch_protection_rule payloads."""
    files = sorted((real / "octokit-webhooks/payload-examples/api.github.com/branch_protection_rule").glob("*.json"))
    docs = [json.loads(f.read_bytes()) for f in files[:3]]
    good = b"\n".join([json.dumps(docs[0], separators=(",", ":")).encode(), json.dumps(docs[1], indent=2).encode(),
                       json.dumps(docs[2], separators=(",", ":")).encode()]) + b"\n"  # fmt: skip
    broken = good.replace(b'"action": ', b'"action" ', 1)  # the printed payload damaged
    fmt = formats.get("github")

    def seen(body: bytes) -> tuple[list[tuple[str, int]], list[str]]:
        dec = fmt.decode(body, "t")
        return [(d.reason, d.offset) for d in dec.dead], sorted(u for b in dec.batches for u in b.column("metadata").field("uid").to_pylist())

    native = (seen(good), seen(broken))
    monkeypatch.setattr(_fast, "_module", lambda: None)
    assert (seen(good), seen(broken)) == native
    assert native[0][0] == [] and len(native[0][1]) == 3
    assert len(native[1][0]) == 1 and len(native[1][1]) == 2
