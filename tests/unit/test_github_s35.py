"""Session 35: a batch's ``unmapped`` is written into its column as each payload is mapped.

``HookScanner.rest_into`` writes the scan's top-level entries (but the common ones and the keys a
mapping places) straight into the column of the payload's batch, and ``sink_add`` the JSON of a
payload mapped off the scan path; the column is handed to Arrow as it is (no bytes object a
payload, no second copy). The batches must be the msgspec path's, null values (a payload with
nothing left over) and batches of more than ``_cicd._SMALL`` rows included, on real octokit
payloads (../shared/data/real/octokit-webhooks, see SOURCES.md): a webhook with its other
top-level keys removed is a payload GitHub sends for such types (``star``: sender, repository,
action and ``starred_at`` only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _github_map as m
from secpipe.formats import get, github
from tests.unit.native_support import assert_same_decoded, native_mode
from tests.unit.test_github_scan import _both  # native against the msgspec path

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("github")
CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
_TYPES = ("star", "pull_request", "push", "issues", "secret_scanning_alert", "ping", "workflow_run", "check_run")


def _compact(p: dict[str, Any]) -> bytes:
    return json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode()


def _payloads() -> list[dict[str, Any]]:
    out = []
    for name in _TYPES:
        out += [json.loads(f.read_bytes()) for f in sorted((CORPUS / name).glob("*.json"))[:3]]
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason="octokit corpus not found")
def test_unmapped_columns_with_nulls_as_the_msgspec_path(monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = _payloads()
    bare = [{k: v for k, v in p.items() if k in m._COMMON} for p in payloads]  # nothing left unmapped
    mixed = [_compact(p) for pair in zip(payloads, bare, strict=True) for p in pair]
    assert len(mixed) > 2 * 16  # batches past _cicd._SMALL rows: the column is the sink's
    docs = [("mixed", b"\n".join(mixed)), ("mixed;github-event=star", b"\n".join(mixed)),
            ("bare", b"\n".join(_compact(p) for p in bare)), ("twice", b"\n".join(mixed + mixed))]  # fmt: skip
    docs += [(f"one{n}", raw) for n, raw in enumerate(mixed[:6])]  # one payload a decode (the HTTP route's)
    _both(monkeypatch, docs)
    with native_mode(monkeypatch, True):
        got = FMT.decode(docs[0][1], "mixed")
    unmapped = [b.column("unmapped") for b in got.batches if "unmapped" in b.schema.names]
    assert any(col.null_count for col in unmapped) and any(len(col) > 16 for col in unmapped)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="octokit corpus not found")
def test_split_records_write_the_same_unmapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records out of the split (not a kept document) take the same path into the columns."""
    payloads = _payloads()
    doc = b"\n".join(_compact(p) for p in payloads + [{k: v for k, v in p.items() if k in m._COMMON} for p in payloads])
    with native_mode(monkeypatch, True):
        kept = FMT.decode(doc, "d")
        split = FMT.map_records(FMT.split_records(doc, "d"))
    assert_same_decoded(split, kept, "split")


def test_scanner_without_its_unmapped_made() -> None:
    """``scan_head(..., rest=False)`` leaves ``unmapped`` to ``rest``/``rest_into``: the same JSON."""
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("no native extension")
    raw = _compact({"action": "created", "sender": {"login": "a", "id": 1}, "starred_at": "2024-01-01T00:00:00Z", "x": [1, {"y": 2}]})
    got = scanner.scan_head(raw, 0, len(raw), github._HEAD)
    assert got[1] == b'{"starred_at":"2024-01-01T00:00:00Z","x":[1,{"y":2}]}'
    lazy = scanner.scan_head(raw, 0, len(raw), github._HEAD, False, False)
    assert lazy[1] is None and lazy[3] == got[3] and scanner.rest([]) == got[1]
    scanner.sink_open(len(raw))
    k = scanner.sink_new()
    scanner.rest_into(k, [])
    scanner.rest_into(k, ["starred_at", "x"])  # nothing left: a null
    scanner.sink_add(k, b'{"z":1}')
    scanner.sink_add(k, None)
    col = github._column(scanner.sink_take(k), 4)
    assert col.to_pylist() == [got[1].decode(), None, '{"z":1}', None]
    with pytest.raises(ValueError, match="no such unmapped column"):
        scanner.sink_add(k + 1, None)
