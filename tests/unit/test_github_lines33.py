"""A kept GitHub document read line by line by the scan (``HookScanner.scan_line``).

The contract (``formats/github.py``, ``GitHub._map``): one kept NDJSON document is not bounded by
a pass over it first (``line_bounds``): each line is found by the walk that reads it, which ends
where the line's object does. ``scan_line`` must give the lines ``line_bounds`` gives (offset,
trimmed start and end, blank lines skipped) and, for each, what ``scan_checked`` answers there; a
decode must give what the split gives (batches, dead letters, counts).

The documents are built to the JSON Lines / NDJSON conventions (https://jsonlines.org: one JSON
value a line, lines ended by ``\\n``, a ``\\r\\n`` ending read as the same line, the last line's
newline optional) from octokit/webhooks payloads (../shared/data/real/octokit-webhooks), with the
lines a reader meets that break them: blank and space-only lines, spaces around a line, an
object with more on its line, a line cut short, bytes that are not UTF-8, a duplicate key (valid
JSON the scan leaves to msgspec), ``{}``, a one-line document.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import get
from secpipe.formats import github as gh
from secpipe.formats.base import RecordFormat
from tests.unit.native_support import assert_same_decoded, native_mode

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("github")
CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
FILES = [CORPUS / "push/payload.json", CORPUS / "issues/opened.payload.json", CORPUS / "pull_request/opened.payload.json"]


def _payloads() -> list[bytes]:
    if not all(f.is_file() for f in FILES):
        pytest.skip("octokit corpus not found")
    return [json.dumps(json.loads(f.read_bytes()), separators=(",", ":"), ensure_ascii=False).encode() for f in FILES]


def _docs() -> dict[str, bytes]:
    push, issue, pr = _payloads()
    return {
        "plain": b"\n".join([push, issue, pr]),
        "trailing newline": b"\n".join([push, issue]) + b"\n",
        "crlf": push + b"\r\n" + issue + b"\r\n",
        "blank and padded lines": push + b"\n\n  \t\n \x0b\x0c" + issue + b" \r \n\n" + pr + b"  ",
        "more after the object": push + b"\n" + issue + b"x\n" + pr,
        "more after spaces": push + b"\n" + issue + b"  {}\n" + pr,
        "objects back to back": push + b"\n" + issue + issue + b"\n" + pr,
        "cut short": push + b"\n" + issue[:-9] + b"\n" + pr,
        "not UTF-8": push + b"\n" + issue.replace(b'"body":"', b'"body":"\xff', 1) + b"\n" + pr,
        "duplicate key": push + b"\n" + issue[:-1] + b',"action":"closed"}\n' + pr,
        "empty object": push + b"\n{}\n" + pr,
        "space inside": push + b"\n" + issue.replace(b'":', b'": ', 1) + b"\n" + pr,
        "one line": push + b"\n",
        "blank ending": push + b"\n" + issue + b"\n \n\t",
    }


@pytest.mark.parametrize("name", sorted(_docs()) if all(f.is_file() for f in FILES) else [])
def test_scan_line_gives_the_lines_and_answers_of_line_bounds_and_scan_checked(name: str) -> None:
    doc = _docs()[name]
    scanner = gh._scanner()
    if scanner is None or not hasattr(scanner, "scan_line"):
        pytest.skip("no native scanner with scan_line")
    want: list[tuple[Any, ...]] = []
    for off, start, end in scanner.line_bounds(doc):
        got = scanner.scan_checked(doc, start, end, gh._HEAD)
        want.append((off, start, end, None if got is None else (got, scanner.values(), scanner.rest([]))))
    seen: list[tuple[Any, ...]] = []
    pos = 0
    while (line := scanner.scan_line(doc, pos, gh._HEAD)) is not None:
        off, start, end, pos, got = line
        seen.append((off, start, end, None if got is None else (got, scanner.values(), scanner.rest([]))))
    assert seen == want


@pytest.mark.parametrize("name", sorted(_docs()) if all(f.is_file() for f in FILES) else [])
@pytest.mark.parametrize("src", ["file", "http;github-event=issues"])
def test_kept_document_read_by_lines_same_as_split(monkeypatch: pytest.MonkeyPatch, name: str, src: str) -> None:
    doc = _docs()[name]
    with native_mode(monkeypatch, True):
        kept, split = FMT.decode(doc, src), RecordFormat.decode(FMT, doc, src)
    assert_same_decoded(kept, split, name)


def test_a_deferred_line_is_hashed_as_the_record() -> None:
    """A line read by ``scan_line`` is hashed (metadata.uid) over its trimmed text alone, as a split record is."""
    push, issue, _ = _payloads()
    scanner = gh._scanner()
    if scanner is None or not hasattr(scanner, "scan_line"):
        pytest.skip("no native scanner with scan_line")
    doc = b"  " + push + b" \r\n\n" + issue
    scanner.digests()
    pos = 0
    while (line := scanner.scan_line(doc, pos, gh._HEAD, True)) is not None:
        pos = line[3]
    direct = [scanner.scan_head(r, 0, len(r), gh._HEAD)[2] for r in (push, issue)]
    assert scanner.digests() == direct
