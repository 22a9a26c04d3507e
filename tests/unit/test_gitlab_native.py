"""GitLab webhooks: the native, column-by-column path (``_gitlab_native``) against the msgspec path.

The contract (``formats/_fast.py``): both give the same batches and the same dead letters.
Compared on batches of the webhook cases (push, merge request, pipeline, deployment, written
from GitLab's docs) varied the way the benchmark varies them, on other webhook kinds, and on
batches where one payload is mutated: each mapped field given each JSON type, null, empty or
removed; the user/project/object_attributes objects removed, emptied or replaced; extra,
escaped and non-ASCII keys. Rows with the receipt time are compared without ``time``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _cicd, _fast, _gitlab_native
from secpipe.formats.base import json_array
from tests.unit.native_support import assert_same_decoded, decode_with, same_both_ways

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")

CICD = Path(__file__).resolve().parents[1] / "cases" / "cicd"
HOOKS = ("gitlab_push.json", "gitlab_merge_request.json", "gitlab_pipeline.json", "gitlab_deployment.json")
N = _gitlab_native.MIN_BATCH


def _protos() -> list[dict[str, Any]]:
    return [json.loads((CICD / name).read_bytes()) for name in HOOKS]


def _doc(recs: list[dict[str, Any]]) -> bytes:
    return b"\n".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode() for r in recs)


def _batch(n: int = N, first: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    protos = _protos()
    out = [] if first is None else [first]
    for i in range(n - len(out)):
        rec = copy.deepcopy(protos[i % len(protos)])
        rec["_seq"] = i
        out.append(rec)
    return out


def _walked(doc: bytes) -> bool:
    raws = doc.split(b"\n")
    return _gitlab_native.decode_hooks(raws, lambda: _tops(raws)) is not None


def _tops(raws: list[bytes]) -> Any:
    return _cicd.TOPS.decode(json_array(raws))


def test_webhook_batch_is_walked_and_same(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(_batch(4 * N))
    assert _walked(doc)
    d = same_both_ways("gitlab", doc, monkeypatch, "webhook batch")
    assert not d.dead
    assert sorted(b.num_rows for b in d.batches) == [N, N, N, N]
    kinds = {b.column("metadata").field("event_code")[0].as_py() for b in d.batches}
    assert kinds == {"push", "merge_request", "pipeline", "deployment"}


def test_small_or_mixed_batches_stay_on_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _walked(_doc(_batch(N - 1)))
    audit = json.loads((CICD / "gitlab_audit_stream.json").read_bytes())
    mixed = _doc(_batch(N, first=audit))
    assert not _walked(mixed)
    same_both_ways("gitlab", mixed, monkeypatch, "audit among webhooks")


OTHER_KINDS: list[dict[str, Any]] = [
    {"object_kind": "tag_push", "before": "0" * 40, "after": "a" * 40, "ref": "refs/tags/v1", "user_name": "A", "user_username": "a",
     "user_id": 4, "project_id": 1, "project": {"id": 1, "name": "p", "path_with_namespace": "g/p"}, "total_commits_count": 0},
    {"object_kind": "push", "before": "b" * 40, "after": "0" * 40, "ref": "refs/heads/x", "user_id": "7"},
    {"object_kind": "issue", "user": {"id": 1, "name": "A", "username": "a", "email": "a@example.com"},
     "project": {"id": 2, "path_with_namespace": ""}, "object_attributes": {"id": 9, "iid": 3, "title": "", "name": "n", "action": "open",
     "updated_at": "2024-01-01 10:00:00 UTC"}},
    {"object_kind": "note", "user": {}, "object_attributes": {"id": "x", "title": "t", "action": "create", "created_at": "2024-05-06T07:08:09Z"}},
    {"object_kind": "merge_request", "user": None, "user_id": 5, "object_attributes": {"iid": 0, "title": None, "action": "merge"}},
    {"object_kind": "merge_request", "object_attributes": {"iid": 12, "title": "Fix", "action": "approved", "id": 3.5}},
    {"object_kind": "pipeline", "project": {"path_with_namespace": None}, "object_attributes": {"status": "running", "ref": "main",
     "duration": 1.25, "finished_at": "2021-04-28 21:50:00 +0200", "id": True}},
    {"object_kind": "pipeline", "user": {"username": "", "name": ""}, "user_username": "u"},
    {"object_kind": "deployment", "status": 3, "deployment_id": "d-1", "status_changed_at": "bad time"},
    {"object_kind": "deployment", "status": "success", "project": {"path_with_namespace": "g/p"}, "status_changed_at": 1700000000},
    {"object_kind": "release", "user": {"id": [1, 2], "email": "not-an-email"}, "project": {"id": {"a": 1}, "name": "r"}},
    {"object_kind": "build", "object_attributes": {}, "project": {}, "a\\u00e9key": 1, "ünï": "ç"},
]  # fmt: skip


@pytest.mark.parametrize("rec", OTHER_KINDS, ids=lambda r: r["object_kind"])
def test_other_kinds_and_shapes_same(rec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(_batch(N, first=rec))
    same_both_ways("gitlab", doc, monkeypatch, rec)


VALUES: list[Any] = ["", "x", "0" * 40, "2024-01-01T00:00:00Z", 0, 7, 2.5, True, None, [], ["a"], {}, {"k": "v"}]
PATHS = [
    ("object_kind",), ("user_name",), ("user_username",), ("user_id",), ("ref",), ("before",), ("after",),
    ("total_commits_count",), ("status",), ("deployment_id",), ("environment",), ("short_sha",), ("status_changed_at",),
    ("user",), ("user", "id"), ("user", "username"), ("user", "email"), ("project",), ("project", "id"),
    ("project", "path_with_namespace"), ("project", "visibility_level"), ("object_attributes",),
    ("object_attributes", "id"), ("object_attributes", "iid"), ("object_attributes", "status"),
    ("object_attributes", "title"), ("object_attributes", "action"), ("object_attributes", "duration"),
    ("object_attributes", "created_at"), ("details",), ("created_at",), ("id",),
]  # fmt: skip


def _set(rec: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    rec = copy.deepcopy(rec)
    node = rec
    for p in path[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    if value is _REMOVE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return rec


_REMOVE = object()


@pytest.mark.parametrize("path", PATHS, ids=".".join)
def test_mutated_payload_same_both_ways(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    walked = 0
    for proto in _protos():
        for value in [*VALUES, _REMOVE]:
            doc = _doc(_batch(N, first=_set(proto, path, value)))
            native = decode_with("gitlab", doc, monkeypatch, True)
            reference = decode_with("gitlab", doc, monkeypatch, False)
            assert_same_decoded(native, reference, (path, value, proto["object_kind"]))
            walked += _walked(doc)
    assert walked  # some mutations keep the batch on the native path
