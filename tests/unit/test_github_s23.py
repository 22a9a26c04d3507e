"""Session 23: a batch's ``resources`` converted once per distinct item list, same batches.

The contracts (``formats/_cicd.py``, ``formats/_github_map.py``):
- ``_github_map.generic_scanned`` gives every generically mapped payload with the same repository and
  organization (as the scan read them) the same ``resources`` list object, equal to the one it built
  for each before, and a row copied from the one made for the same event type, sender, action,
  repository and organization, with its own ``unmapped`` (bounded: each memo is cleared when full,
  which changes nothing but sharing).
- ``_cicd._shared_resources`` of rows many of which hold the same list object is the column
  ``_cicd._resources`` converts from every row (type, struct field order, values, nulls); None when
  fewer than half the rows share one (the caller converts them all).
- A decoded GitHub document gives the batches it gave without either (receipt times fixed).
"""

from __future__ import annotations

import copy
import json
import random
import types
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _github_map, base, github

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
PAYLOADS = [json.loads(f.read_bytes()) for f in sorted(CORPUS.glob("*/*.json"))]


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "time", types.SimpleNamespace(time=lambda: 1764600000.123))


def _item_lists(rng: random.Random) -> list[Any]:
    """Item lists as the CI/CD mappings write them: repositories with or without labels and owner,
    organizations, pull requests with ``data``, names or uids missing, empty objects; and None."""
    out: list[Any] = [None]
    for k in range(12):
        repo: dict[str, Any] = {"type": "repository", "name": rng.choice([f"o/r{k}", None]), "uid": rng.choice([str(k), None])}
        if rng.random() < 0.5:
            repo["labels"] = rng.sample(["public", "private", "internal"], rng.randint(1, 2))
        if rng.random() < 0.5:
            repo["owner"] = {"name": rng.choice(["o", None])}
        items = [repo]
        if rng.random() < 0.5:
            items.append({"type": "organization", "name": "o", "uid": rng.choice(["9", None])})
        if rng.random() < 0.2:
            items.append({"type": "pull_request", "name": f"#{k}", "uid": None, "data": '{"state":"open"}'})
        out.append(items)
    out.append([{"type": "organization", "name": "o", "uid": "9"}])
    return out


@pytest.mark.parametrize("seed", range(60))
def test_shared_resources_is_resources(seed: int) -> None:
    rng = random.Random(seed)
    pool = _item_lists(rng)
    rng.shuffle(pool)  # (the first appearance of each key layout decides the struct's field order)
    if rng.random() < 0.2:  # only the three plain fields: the simple path's type
        pool = [None if v is None else [{k: i[k] for k in ("type", "name", "uid")} for i in v] for v in pool]
    n = rng.randint(40, 400)  # (at most 14 distinct lists: more than half the rows share)
    vals = [rng.choice(pool[: rng.randint(1, len(pool))]) for _ in range(n)]
    want = _cicd._resources("api_activity", copy.deepcopy(vals))
    got = _cicd._shared_resources("api_activity", vals)
    assert got is not None
    assert got.type == want.type
    assert got.equals(want)
    fresh = [copy.deepcopy(v) for v in vals if v is not None]  # rows that share nothing: left to the caller
    assert _cicd._shared_resources("api_activity", fresh) is None


def _document(seed: int) -> bytes:
    rng = random.Random(seed)
    lines = []
    for k in range(400):
        p = dict(rng.choice(PAYLOADS))
        if "repository" in p and rng.random() < 0.3:  # repositories seen once among ones seen often
            p["repository"] = {**p["repository"], "id": 10**6 + k, "full_name": f"org/repo{k}"}
        p["_seq"] = k
        lines.append(json.dumps(p, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines).encode()


class _Forgetful(dict):  # type: ignore[type-arg]
    """A memo that keeps nothing."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def _batches(data: bytes) -> list[pa.RecordBatch]:
    dec = github.GitHub().decode(data, "test")
    assert not dec.dead
    return dec.batches


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("memo", [4096, 3])
def test_document_batches_unchanged(seed: int, memo: int, fixed_clock: None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _document(seed)
    monkeypatch.setattr(_cicd, "_shared_resources", lambda cls, vals: None)
    monkeypatch.setattr(_github_map, "_RESOURCES", _Forgetful())  # every payload builds its own list
    monkeypatch.setattr(_github_map, "_TEMPLATES", _Forgetful())  # and its own row
    monkeypatch.setattr(github, "_GENERIC", _Forgetful())  # (found by the scan's template id: session 36)
    want = _batches(data)
    monkeypatch.undo()
    monkeypatch.setattr(base, "time", types.SimpleNamespace(time=lambda: 1764600000.123))
    monkeypatch.setattr(_github_map, "_RESOURCES_MAX", memo)
    monkeypatch.setattr(_github_map, "_TEMPLATES_MAX", memo)
    _github_map._RESOURCES.clear()
    _github_map._TEMPLATES.clear()
    got = _batches(data)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.schema.equals(w.schema, check_metadata=True)
        assert g.equals(w)
