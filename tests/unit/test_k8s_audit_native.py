"""Kubernetes audit decode with the native walker (``_fast``) against the msgspec path.

The contract (``formats/_fast.py``): both paths give the same batches and the same dead
letters. Compared here on the real samples (Panther's k8s audit events, Falco's k8s audit
trace files) and on records mutated from them: every typed path given each JSON type, null
or removed; extra, escaped, non-ASCII and duplicated keys; escapes in the strings the
mapping re-encodes (objectRef, the Status' rest); EventLists, foreign kinds, legacy lines.
Each mutated record is decoded alone and within a batch of regular records (where one
irregular record sends the whole batch to msgspec). Compared with
``tests/unit/native_support.py``.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from secpipe.formats import _fast, get, k8s_audit
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("k8s_audit")


def _files(real: Path) -> list[Path]:
    return [real / "panther-analysis/extracted/k8s_audit.jsonl",
            *sorted((real / "falco/test/trace_files/k8s_audit").glob("*.json"))]  # fmt: skip


def _events(real: Path) -> list[dict[str, Any]]:
    """Every real audit event that is one JSON object per line."""
    out = []
    for path in _files(real):
        for line in path.read_text().splitlines():
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(ev, dict) and ev.get("kind", "Event") == "Event":
                out.append(ev)
    return out


def _decode_both(docs: list[bytes], python_only) -> list[tuple[Decoded, Decoded]]:  # type: ignore[no-untyped-def]
    native = [FMT.decode(d, f"doc{n}") for n, d in enumerate(docs)]
    python_only()
    assert not _fast.available()
    reference = [FMT.decode(d, f"doc{n}") for n, d in enumerate(docs)]
    return list(zip(native, reference, strict=True))


def test_real_samples_same_with_and_without_native(real: Path, python_only) -> None:  # type: ignore[no-untyped-def]
    files = _files(real)
    assert len(files) >= 40
    docs = [p.read_bytes() for p in files]
    docs.append(b"\n".join(docs))  # one batch of everything (the malformed trace dead-letters its lines)
    for path, (a, b) in zip([*files, "all"], _decode_both(docs, python_only), strict=True):
        assert_same_decoded(a, b, path)


def test_native_path_takes_the_real_samples(real: Path) -> None:
    """The real events are regular: the native path maps them (no fallback to msgspec)."""
    docs = [json.dumps(e).encode() for e in _events(real)]
    assert len(docs) >= 150
    recs = FMT.split_records(b"\n".join(docs), "real")  # type: ignore[attr-defined]
    out = Decoded()
    assert k8s_audit._native(recs, out, FMT)  # type: ignore[arg-type]
    assert sum(b.num_rows for b in out.batches) == len(docs) and not out.dead


# --------------------------------------------------------------------------------------
# mutated records
# --------------------------------------------------------------------------------------

#: every path the mapping reads, with the JSON values put there.
_PATHS = [
    ("kind",), ("apiVersion",), ("auditID",), ("verb",), ("requestURI",), ("userAgent",),
    ("requestReceivedTimestamp",), ("stageTimestamp",), ("timestamp",), ("p_event_time",),
    ("user",), ("user", "username"), ("user", "uid"), ("user", "groups"), ("user", "extra"),
    ("sourceIPs",), ("objectRef",), ("objectRef", "resource"), ("objectRef", "namespace"), ("objectRef", "name"),
    ("objectRef", "uid"), ("objectRef", "apiGroup"), ("objectRef", "apiVersion"), ("objectRef", "subresource"),
    ("objectRef", "resourceVersion"), ("responseStatus",), ("responseStatus", "code"), ("responseStatus", "message"),
    ("responseStatus", "reason"), ("responseStatus", "status"), ("responseStatus", "details"),
    ("level",), ("stage",), ("impersonatedUser",), ("annotations",), ("requestObject",), ("responseObject",),
    ("metadata",),
]  # fmt: skip

_VALUES: list[Any] = [
    None, True, False, 0, -1, 404, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 1.5, 200.0, 1e3, "", "x", "Failure",
    "Success", 'q"uote', "back\\slash", "new\nline", "\u0001ctl", "caf\u00e9", "\u2028", "\U0001f600", "/a/b",
    [], [None], ["a"], ["10.0.0.1", "10.0.0.2", "::1"], [1], [[]], {}, {"a": 1}, {"code": 1}, {"username": "u"},
    {"resource": "pods", "name": "n\u00e9\"x", "extra": 1}, {"status": "", "reason": "r"}, {"details": None},
    {"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": "no \"way\" \\ here"},
    {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "caf\u00e9"},
]  # fmt: skip


def _set(ev: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    ev = json.loads(json.dumps(ev))
    obj = ev
    for key in path[:-1]:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    obj[path[-1]] = value
    return ev


def _drop(ev: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    ev = json.loads(json.dumps(ev))
    obj = ev
    for key in path[:-1]:
        obj = obj.get(key)
        if not isinstance(obj, dict):
            return ev
    obj.pop(path[-1], None)
    return ev


def _mutants(events: list[dict[str, Any]], seed: int, count: int) -> list[bytes]:
    """JSON lines of mutated events (see module docstring), some ASCII-escaped, some not."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        ev = rnd.choice(events)
        for _k in range(rnd.randint(1, 3)):
            path = rnd.choice(_PATHS)
            roll = rnd.random()
            if roll < 0.6:
                ev = _set(ev, path, rnd.choice(_VALUES))
            elif roll < 0.8:
                ev = _drop(ev, path)
            else:
                ev = _set(ev, (rnd.choice(["zz_extra", "a_extra", "p_any", "\u00e9t\u00e9", "items"]),), rnd.choice(_VALUES))
        out.append(json.dumps(ev, ensure_ascii=rnd.random() < 0.5).encode())
    return out


#: records written by hand for what generated ones rarely hit.
_HANDMADE = [
    b'{"kind":"Event","auditID":"a","user":{"username":"a"},"user":{"uid":"b"}}',  # msgspec keeps the last user
    b'{"kind":"Event","auditID":"a","user":{"username":"a"},"user":null}',
    b'{"kind":"Event","auditID":"a","objectRef":{"name":"a"},"objectRef":{}}',
    b'{"kind":"Event","auditID":"a","responseStatus":{"code":500},"responseStatus":{"status":"Success"}}',
    b'{"kind":"Event","auditID":"a","\\u0075ser":{"username":"esc"}}',  # an escaped known key
    b'{"kind":"Event","auditID":"a","\\u007a":1}',  # an escaped extra key
    b'{"kind":"Event","auditID":"a","objectRef":{}}',
    b'{"kind":"Event","auditID":"a","objectRef":null}',
    b'{"kind":"Event","auditID":"a","objectRef":{"unknown":{"x":1}}}',
    b'{"kind":"Event","auditID":"a","objectRef":{"name":"\\u00e9\\"\\\\\\n\\u0001\\/"}}',
    b'{"kind":"Event","auditID":"a","responseStatus":{"status":"","reason":"\\t"}}',
    b'{"kind":"Event","auditID":"a","responseStatus":{"details":null}}',
    b'{"kind":"Event","auditID":"a","responseStatus":{"code":9223372036854775808}}',
    b'{"kind":"Event","auditID":"a","responseStatus":{"code":99999999999}}',
    b'{"kind":"Event","auditID":"a","user":{"groups":[]},"sourceIPs":[]}',
    b'{"kind":"Event","auditID":"a","level":null,"stage":null,"annotations":null,"user":{"extra":null}}',
    b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":null}',
    b'{"kind":"Pod","auditID":"a"}',
    b'{"kind":"Event","auditID":"","verb":"","requestURI":""}',
    b'{"kind":"Event"}',
    b"{}",
    b'{"verb":"get","timestamp":"","p_event_time":"2024-01-01T00:00:00Z"}',
    b'2024-03-01T10:00:00.123456789Z AUDIT: id="x1" stage="ResponseComplete" ip="10.0.0.1" method="get" '
    b'user="alice" groups="\\"dev\\",\\"ops\\"" as="<self>" asgroups="<lookup>" user-agent="kubectl" '
    b'namespace="default" uri="/api/v1/pods" response="200"',
    b"not json at all",
]


def test_mutated_records_same_with_and_without_native(real: Path, python_only) -> None:  # type: ignore[no-untyped-def]
    events = _events(real)
    mutants = _mutants(events, seed=7, count=400) + _HANDMADE
    regular = [json.dumps(e).encode() for e in events[:20]]
    docs = list(mutants)  # each alone
    docs += [b"\n".join([*regular[:10], m, *regular[10:]]) for m in mutants]  # each within a batch
    rnd = random.Random(11)
    docs += [b"\n".join(rnd.sample(mutants, 25)) for _ in range(20)]  # many together
    docs.append(json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                            "items": [json.loads(m) for m in mutants if m.startswith(b"{") and b"\\u0075" not in m
                                      and json.loads(m) != {}]}).encode())  # fmt: skip
    pairs = _decode_both(docs, python_only)
    for doc, (a, b) in zip(docs, pairs, strict=True):
        assert_same_decoded(a, b, doc[:300])


def test_mutants_exercise_both_paths(real: Path) -> None:
    """The mutations are not all irregular: many are mapped natively, many fall back."""
    mutants = _mutants(_events(real), seed=7, count=400) + _HANDMADE
    taken = [k8s_audit._native(FMT.split_records(m, "m"), Decoded(), FMT) for m in mutants]  # type: ignore[attr-defined]
    assert 100 < sum(taken) < len(taken) - 50


def test_duplicated_object_keys_fall_back() -> None:
    """A duplicated object-valued key (msgspec keeps the last one; the walker would merge both)."""
    for raw in _HANDMADE[:4]:
        assert not k8s_audit._native(FMT.split_records(raw, "d"), Decoded(), FMT)  # type: ignore[attr-defined]


def test_status_code_out_of_int64_is_dead_lettered(python_only) -> None:  # type: ignore[no-untyped-def]
    doc = b'{"kind":"Event","auditID":"a","responseStatus":{"code":9223372036854775808}}\n{"kind":"Event","auditID":"b"}'
    for d in (FMT.decode(doc, "c"), (python_only(), FMT.decode(doc, "c"))[1]):
        assert [x.offset for x in d.dead] == [0] and "responseStatus.code" in d.dead[0].reason
        assert d.batches[0].column("api").field("request").field("uid").to_pylist() == ["b"]


def test_eventlists_one_a_line_map_as_their_events(real: Path, python_only) -> None:  # type: ignore[no-untyped-def]
    """EventLists one a line (as a receiver of the audit webhook backend logs its POSTs) hold
    events: each is stored as when it comes alone, on both paths; an EventList whose items is
    null holds none. Nothing is dropped without a dead letter."""
    events = _events(real)[:12]
    assert len(events) == 12
    lists = [{"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": events[i : i + 4]}
             for i in range(0, 12, 4)]  # fmt: skip
    lists.append({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": None})
    doc = "\n".join(json.dumps(x) for x in lists).encode() + b"\n"
    alone = FMT.decode("\n".join(json.dumps(e) for e in events).encode(), "alone")
    for got, ref in _decode_both([doc], python_only):
        for dec in (got, ref):
            assert dec.dead == [] and dec.events == 12
            uids = [u for b in dec.batches for u in b.column("metadata").field("uid").to_pylist()]
            assert sorted(uids) == sorted(u for b in alone.batches for u in b.column("metadata").field("uid").to_pylist())
        assert_same_decoded(got, ref, "eventlists")
