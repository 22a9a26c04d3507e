"""GitLab mixed batches: the webhooks walked natively, the rest decoded with msgspec, same output.

``GitLab._mixed`` takes a batch where webhooks (records holding ``"object_kind"``) sit among
audit events, request logs and system hooks: the webhooks go through
``_gitlab_native.decode_hooks``, the rest through the msgspec grouping, and the batches are
put back in order of their group's first record. Compared with ``SECPIPE_NATIVE=0`` (the one
msgspec pass over everything) on the benchmark's mix, on mixes with bad records, with a
system push hook that shares a webhook group's key (the split must step back), with records
naming ``object_kind`` only inside a nested object, and with too few webhooks to walk.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _cicd, _fast, _gitlab_native, get
from secpipe.formats.base import Decoded
from tests.unit.native_support import same_both_ways

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

CICD = Path(__file__).resolve().parents[1] / "cases" / "cicd"
HOOKS = ("gitlab_push.json", "gitlab_merge_request.json", "gitlab_pipeline.json", "gitlab_deployment.json")
OTHERS = ("gitlab_audit_stream.json", "gitlab_api_json.log")
N = _gitlab_native.MIN_BATCH


def _load(name: str) -> dict[str, Any]:
    return json.loads((CICD / name).read_bytes())


def _panther(real: Path) -> list[dict[str, Any]]:
    lines = (real / "panther-analysis/extracted/gitlab.jsonl").read_bytes().splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def _doc(recs: list[Any]) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode() for r in recs)


def _mix(real: Path, n: int, hooks_every: int = 2) -> list[Any]:
    """n records: every ``hooks_every``-th a webhook, the others audit events and request logs."""
    hooks = [_load(x) for x in HOOKS]
    others = _panther(real) + [_load(x) for x in OTHERS]
    out: list[Any] = []
    for i in range(n):
        rec = copy.deepcopy(hooks[i // hooks_every % len(hooks)] if i % hooks_every == 0 else others[i % len(others)])
        rec["_seq"] = i
        out.append(rec)
    return out


def _split_was_used(doc: bytes) -> bool:
    fmt = get("gitlab")
    return fmt._mixed(fmt.split_records(doc, "src"), Decoded()) is not None  # type: ignore[attr-defined]


def _rows(d: Decoded) -> int:
    return sum(b.num_rows for b in d.batches)


@pytest.mark.parametrize("every", [2, 3, 5])
def test_mixed_batch_same_as_msgspec(real: Path, every: int, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(_mix(real, 6 * N, every))
    assert _split_was_used(doc)
    out = same_both_ways("gitlab", doc, monkeypatch, every)
    assert _rows(out) == 6 * N and not out.dead
    assert len(out.batches) > 4  # webhook groups and audit/request groups, interleaved by first record


def test_mixed_batch_with_bad_records(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _mix(real, 4 * N)
    recs[3] = {"neither": "audit nor hook"}  # no GitLab shape: dead-lettered
    recs[7] = b'{"author_id": 1, "entity_type": '  # not JSON
    recs[9] = {"author_id": "not an int", "entity_type": "Project", "details": []}  # wrong types
    recs.insert(0, {"created_at": "2024-01-01T00:00:00Z"})
    doc = _doc(recs)
    assert _split_was_used(doc)
    out = same_both_ways("gitlab", doc, monkeypatch, "bad records")
    assert len(out.dead) >= 2


def test_system_push_hook_sharing_a_group_steps_back(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _mix(real, 4 * N)
    system_push = _load("gitlab_push.json")
    del system_push["object_kind"]  # a push system hook: named by event_name, no object_kind
    recs.insert(5, system_push)
    doc = _doc(recs)
    assert not _split_was_used(doc)
    same_both_ways("gitlab", doc, monkeypatch, "system push")


def test_object_kind_only_nested_is_not_a_webhook(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _mix(real, 4 * N)
    for i in range(1, len(recs), 2):  # the audit events and logs carry the key, nested
        recs[i]["meta"] = {"object_kind": "push"}
    doc = _doc(recs)
    assert not _split_was_used(doc)  # the walker finds no top-level object_kind there: declines
    same_both_ways("gitlab", doc, monkeypatch, "nested object_kind")


def test_too_few_webhooks_are_decoded_with_the_rest(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(_mix(real, N, 2))
    assert not _split_was_used(doc)
    assert _rows(same_both_ways("gitlab", doc, monkeypatch, "few")) == N


def test_walk_gives_each_groups_raw_data_and_uids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interleaved webhook kinds with non-ASCII text: each walked group's raw_data and
    metadata.uid (made in the walk, taken per group) are its records' own, as event_uids makes
    them, and the batches equal the msgspec path's."""
    from secpipe.formats.base import event_uids

    hooks = [_load(x) for x in HOOKS]
    recs = []
    for i in range(4 * N):
        rec = copy.deepcopy(hooks[i % len(hooks)])
        rec["_seq"] = i
        rec["note"] = f"h\u00e9llo \u2713 \U0001f680 {i}"  # 2-, 3- and 4-byte UTF-8
        recs.append(rec)
    doc = _doc(recs)
    fmt = get("gitlab")
    split = fmt.split_records(doc, "src")
    groups = _gitlab_native.decode_hooks(split.raws, lambda: [_cicd.TOP.decode(r) for r in split.raws])
    assert groups is not None and len(groups) == len(HOOKS)  # walked, one group per kind
    out = same_both_ways("gitlab", doc, monkeypatch, "interleaved kinds")
    assert [b.num_rows for b in out.batches] == [N] * len(HOOKS)
    for k, batch in enumerate(out.batches):
        mine = [split.raws[i] for i in range(k, 4 * N, len(HOOKS))]
        assert batch.column("raw_data").to_pylist() == [r.decode() for r in mine]
        assert batch.column("metadata").field("uid").to_pylist() == event_uids("gitlab", mine).to_pylist()
