"""Session 20: GitHub webhook decoding with fewer page faults and a leaner typed view.

The contracts (``formats/_cicd.py``, ``formats/github.py``):
- ``_cicd.copied_strings`` (the raw_data of a kept document's records, views of it) and
  ``_cicd.checked_strings`` of values of 1 KiB or more on average (``unmapped`` of webhooks) give the
  column ``base.string_column(values, checked=True)`` gives, nulls included; only the allocator of
  its bytes differs (the system one, whose freed pages the next batch reuses).
- ``github._lean_view``, the typed view a payload mapped from its view gets, is ``_scan_view``'s
  with the main objects of the generically mapped types (``_Primary`` fields) left None, built from
  the spec values before them; no route that maps from the typed view reads those fields.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from secpipe.formats import _cicd, github
from secpipe.formats import _github_map as m
from secpipe.formats.base import string_column

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
PAYLOADS = [json.loads(f.read_bytes()) for f in sorted(CORPUS.glob("*/*.json"))]


def _values(rng: random.Random, n: int, size: int, nulls: bool) -> list[bytes | None]:
    out: list[bytes | None] = []
    for _ in range(n):
        if nulls and rng.random() < 0.2:
            out.append(None)
        else:
            out.append(("é" * rng.randint(0, size) + "x" * rng.randint(0, size)).encode())
    return out


@pytest.mark.parametrize("size", [0, 3, 600, 3000])
@pytest.mark.parametrize("n", [0, 1, 16, 17, 300])
@pytest.mark.parametrize("nulls", [False, True])
def test_checked_strings_is_string_column(size: int, n: int, nulls: bool) -> None:
    values = _values(random.Random(size * 1000 + n), n, size, nulls)
    want = string_column(values, checked=True)
    got = _cicd.checked_strings(values)
    got.validate(full=True)
    assert got.type == want.type and got.equals(want) and got.null_count == want.null_count


@pytest.mark.parametrize("n", [0, 1, 16, 17, 300])
@pytest.mark.parametrize("size", [0, 40, 3000])
def test_copied_strings_of_views_is_string_column(n: int, size: int) -> None:
    values = [v or b"" for v in _values(random.Random(n + size), n, size, False)]
    doc = b"\n".join(values)
    views, pos = [], 0
    for v in values:
        views.append(memoryview(doc)[pos : pos + len(v)])
        pos += len(v) + 1
    want = string_column(values, checked=True)
    got = _cicd.copied_strings(views)
    got.validate(full=True)
    assert got.type == want.type and got.equals(want)
    with_nulls = [None if k % 3 == 0 else v for k, v in enumerate(views)]
    want_nulls = string_column([None if v is None else bytes(v) for v in with_nulls], checked=True)
    assert _cicd.copied_strings(with_nulls).equals(want_nulls)


def test_copied_strings_bytes_come_from_the_system_allocator() -> None:
    pool = pa.system_memory_pool()
    before = pool.bytes_allocated()
    col = _cicd.copied_strings([b"x" * 5000] * 40)
    assert pool.bytes_allocated() - before >= 200_000
    del col


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")
def test_lean_view_is_the_scanned_view_without_main_objects() -> None:
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("no native extension")
    primary = {name: None for name in github._TYPED_PRIMARY}
    compared = 0
    for p in PAYLOADS:
        raw = json.dumps(p, separators=(",", ":")).encode()
        got = scanner.scan_head(raw, 0, len(raw), github._HEAD)
        if got is None:
            continue
        lean = github._lean_view(scanner.slots(0, github._LEAN))
        full = github._scan_view(scanner.values())
        assert lean == msgspec.structs.replace(full, **primary)  # (full is msgspec's view: test_github_scan)
        compared += 1
    assert compared > len(PAYLOADS) // 2


def test_no_route_mapped_from_the_typed_view_reads_a_main_object() -> None:
    """A payload is mapped from its typed view (not generically) only when its type has a mapping
    of its own or its main object is no ``_Primary`` field: so the lean view's None there is never read."""
    events = {*m._MAPPERS, *github._SINGLE_KEYS.values(), *github._PRIMARY, *github._TYPED_PRIMARY,
              "unknown", "installation", "public", "watch", "ping", "meta", "whatever"}  # fmt: skip
    keysets = [("sender",), ("sender", "action", "repository")]
    keysets += [("sender", "action", key) for key in github._TYPED_PRIMARY]
    for event in sorted(events):
        for keys in keysets:
            keyset, got_event, _slot, generic = github._route(keys, "created", event)
            if keyset is None or not got_event or generic:
                continue
            assert github._PRIMARY.get(got_event, got_event) not in github._TYPED_PRIMARY, (event, keys)
