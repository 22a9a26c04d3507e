"""Session 36: a generic payload's row found by the scan's template id, batches built from distinct rows.
The contracts (``native/src/github.rs``, ``formats/github.py``):
- ``HookScanner.template(slots)``: the values tuple of ``scan_head``/``scan_checked``/``scan_line`` ends with
  one more item, an int that is the same for records with the same top-level keys in the same order and the
  same values at ``slots`` (None, a bool, a str of the same text), another for any difference in either;
  None when one of those values is of another kind; unique across scanners (threads), never reused.
- ``github._from_scan`` maps a generic payload whose (template id, event hint) it has seen to that payload's
  row, activity and main object (its time read from this payload), as the route and ``generic_scanned`` would.
- ``github._build_batch`` is ``_cicd.build_batch`` of the same rows (the same batch) when many rows are one dict.
- A decoded GitHub document gives the batches it gave without either (receipt times fixed), also with the
  memos cleared every few payloads.
"""

from __future__ import annotations

import json
import random
import threading
import types
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _github_scan, base, github
from tests.unit.test_github_s23 import _Forgetful  # (a memo that keeps nothing)

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
PAYLOADS = [json.loads(f.read_bytes()) for f in sorted(CORPUS.glob("*/*.json"))]


def _scanner() -> Any:
    s = github._scanner()
    if s is None or not hasattr(s, "template"):
        pytest.skip("native extension without HookScanner.template")
    return s


def _tid(scanner: Any, rec: dict[str, Any]) -> Any:
    raw = json.dumps(rec, separators=(",", ":"), ensure_ascii=False).encode()
    got = scanner.scan_head(raw, 0, len(raw), github._HEAD, False, False)
    assert got is not None
    v = got[3]
    assert len(v) == github._HEAD + 1
    return v[github._HEAD]


BASE = {"action": "opened", "sender": {"login": "octo", "id": 1, "type": "User"},
        "repository": {"id": 7, "name": "r", "full_name": "o/r", "private": False, "owner": {"login": "o"}},
        "organization": {"login": "o", "id": 9}, "_seq": 1}  # fmt: skip


def test_template_id_same_for_same_layout_and_values() -> None:
    s = _scanner()
    a = _tid(s, BASE)
    assert isinstance(a, int)
    assert _tid(s, {**BASE, "_seq": 2}) == a  # a value not in the template
    assert _tid(s, {**BASE, "sender": {**BASE["sender"], "email": "x@y"}}) == a  # (sender.email is not either)
    assert _tid(s, {**BASE, "repository": {**BASE["repository"], "html_url": "u"}}) == a


@pytest.mark.parametrize(("path", "value"), [
    ("action", "closed"), ("action", None), ("sender.login", "octo2"), ("sender.id", 2), ("sender.id", "1 "),
    ("sender.type", "Bot"), ("repository.private", True), ("repository.private", None), ("repository.name", "r "),
    ("repository.full_name", "o/r2"), ("repository.visibility", "public"), ("repository.owner", None),
    ("repository.owner.login", "o2"), ("organization", None), ("organization.login", "ö"), ("organization.id", 10),
    ("repository", None), ("sender", None),
])  # fmt: skip
def test_template_id_differs_for_any_template_value(path: str, value: Any) -> None:
    s = _scanner()
    rec = json.loads(json.dumps(BASE))
    *parents, last = path.split(".")
    at = rec
    for p in parents:
        at = at[p]
    at[last] = value
    assert _tid(s, rec) != _tid(s, BASE)


def test_template_id_differs_for_another_layout() -> None:
    s = _scanner()
    a = _tid(s, BASE)
    assert _tid(s, dict(reversed(BASE.items()))) != a  # the same keys in another order
    assert _tid(s, {**BASE, "extra": 1}) != a
    assert _tid(s, {k: v for k, v in BASE.items() if k != "_seq"}) != a


def test_template_id_unique_across_threads() -> None:
    mine = _scanner()
    rec = {**BASE, "action": f"unique-{random.random()}"}
    theirs: list[Any] = []
    t = threading.Thread(target=lambda: theirs.append(_tid(github._scanner(), rec)))
    t.start()
    t.join()
    assert _tid(mine, rec) != theirs[0]  # (each scanner its own table, one counter)


def test_template_refuses_a_slot_past_the_spec() -> None:
    s = _scanner()
    with pytest.raises(ValueError, match="template slot"):
        s.template([len(_github_scan._SCAN_SPEC)])


def _document(seed: int) -> bytes:
    rng = random.Random(seed)
    lines = []
    for k in range(400):
        p = dict(rng.choice(PAYLOADS))
        if "repository" in p and rng.random() < 0.3:
            p["repository"] = {**p["repository"], "id": 10**6 + k, "full_name": f"org/repo{k}"}
        if "sender" in p and rng.random() < 0.1:
            p["sender"] = {**p["sender"], "login": rng.choice(["a", "b", "c"])}
        p["_seq"] = k
        lines.append(json.dumps(p, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines).encode()


def _batches(data: bytes, source: str = "test") -> list[pa.RecordBatch]:
    dec = github.GitHub().decode(data, source)
    assert not dec.dead
    return dec.batches


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("memo", [4096, 3])
@pytest.mark.parametrize("source", ["test", "http:/github/webhook;github-event=push"])
def test_document_batches_unchanged(seed: int, memo: int, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "time", types.SimpleNamespace(time=lambda: 1764600000.123))
    data = _document(seed)
    with monkeypatch.context() as mp:
        mp.setattr(github, "_GENERIC", _Forgetful())  # the route and template of every payload
        mp.setattr(github, "_build_batch", _cicd.build_batch)
        mp.setattr(github, "_keep", lambda *_: None)  # (nor a template the scanner keeps: session 37's scan_kept)
        if hasattr(github._scanner(), "forget"):
            github._scanner().forget()
        want = _batches(data, source)
    monkeypatch.setattr(github, "_CACHE_MAX", memo)
    github._GENERIC.clear()
    got = _batches(data, source) + _batches(data, source)
    assert len(got) == 2 * len(want)
    for g, w in zip(got, want + want, strict=True):
        assert g.schema.equals(w.schema, check_metadata=True)
        assert g.equals(w)


@pytest.mark.parametrize("seed", range(8))
def test_build_batch_of_shared_rows_is_build_batchs(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    a, b, c = "actor.user.name", "api.operation", "actor.user.type_id"
    pool: list[dict[str, Any]] = [{a: "1", b: "x"}, {a: "2", b: None}, {b: "y", c: 3}, {a: None},
                                  {"unmapped": None, a: "4"}, {a: "5", b: "z"}]  # fmt: skip
    pool = pool[: rng.randint(1, len(pool))]
    n = rng.randint(2, 200)
    rows = [rng.choice(pool) for _ in range(n)]
    common = {"kind": "github", "product": "GitHub", "vendor": "GitHub", "raws": [b"{}"] * n, "times": [None] * n,
              "activity": 1, "severity": 1, "checked": True}  # fmt: skip
    seen: list[dict[str, Any]] = []
    real = _cicd.leaves_batch

    def leaves(cls: str, *, columns: dict[str, Any], **kw: Any) -> pa.RecordBatch:
        seen.append({k: v.to_pylist() if isinstance(v, pa.Array) else list(v) for k, v in columns.items()})  # (values)
        return real(cls, columns=columns, **kw)

    monkeypatch.setattr(_cicd, "leaves_batch", leaves)
    monkeypatch.setattr(base, "time", types.SimpleNamespace(time=lambda: 1764600000.123))
    got = github._build_batch("api_activity", rows=rows, **common)
    want = _cicd.build_batch("api_activity", rows=rows, **common)
    assert list(seen[0]) == list(seen[1])
    assert seen[0] == seen[1]
    assert got.equals(want)
