"""GitHub webhooks mapped from the native scan (``_columnar.HookScanner``) against the msgspec path.

The contract (``formats/github.py``, "Speed:"): a payload of a generically mapped type is mapped
from one native pass (keys, typed leaves, ``unmapped``, SHA-256); every other payload, and any
record the scan does not decide exactly as msgspec would, takes the msgspec path. Both must give
the same batches and dead letters as ``SECPIPE_NATIVE=0`` (the msgspec path alone). Compared on
the octokit/webhooks corpus and on payloads from it mutated by hypothesis: values of every JSON
type at the paths the scan reads (escaped and non-ASCII strings, huge and fractional numbers,
deep nesting), duplicate and escaped keys written into the text, bytes that are not UTF-8, and
text that is not JSON at all.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _cicd, _fast, _github_scan, get, github
from secpipe.formats import _github_map as m
from tests.unit.native_support import assert_same_decoded, native_mode

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("github")
CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"


def _payloads() -> list[dict[str, Any]]:
    files = sorted(CORPUS.glob("*/*.json"))
    assert len(files) >= 250, CORPUS
    return [json.loads(f.read_bytes()) for f in files]


PAYLOADS = _payloads() if CORPUS.is_dir() else []


def _both(monkeypatch: pytest.MonkeyPatch, docs: list[tuple[str, bytes]]) -> None:
    with native_mode(monkeypatch, True):
        assert _fast.available()
        native = [FMT.decode(d, src) for src, d in docs]
    with native_mode(monkeypatch, False):
        reference = [FMT.decode(d, src) for src, d in docs]
    for (src, _), a, b in zip(docs, native, reference, strict=True):
        assert_same_decoded(a, b, src)


def test_scan_spec_checks_every_field_of_the_typed_view() -> None:
    """The scan reads every field msgspec's typed view would type-check (a field it did not
    read could make msgspec refuse a payload the scan maps), but for ``alert``, whose payloads
    take the msgspec path; the view built from the scan is a ``_Hook``."""
    paths = {p for p, _ in _github_scan._SCAN_SPEC}

    def walk(struct: Any, prefix: str) -> None:
        for f in msgspec.structs.fields(struct):
            assert f"{prefix}{f.encode_name}" in paths, (prefix, f.name)
            info = msgspec.inspect.type_info(f.type)
            for t in info.types if isinstance(info, msgspec.inspect.UnionType) else (info,):
                if isinstance(t, msgspec.inspect.StructType):
                    walk(t.cls, f"{prefix}{f.encode_name}.")

    assert github._SCAN_UNCHECKED == {"alert"}
    for f in msgspec.structs.fields(github._Hook):
        if f.name in github._TYPED_PRIMARY:
            assert {f"{f.name}.updated_at", f"{f.name}.submitted_at", f"{f.name}.created_at"} <= paths
        elif f.name != "alert":
            assert f.name in paths
            info = msgspec.inspect.type_info(f.type)
            for t in info.types if isinstance(info, msgspec.inspect.UnionType) else (info,):
                if isinstance(t, msgspec.inspect.StructType):
                    walk(t.cls, f"{f.name}.")
    assert list(_github_scan._SCAN_SPEC[: len(m.SCAN_HEAD)]) == list(m.SCAN_HEAD)


def test_octokit_corpus_same_as_msgspec_path(monkeypatch: pytest.MonkeyPatch) -> None:
    compact = [json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode() for p in PAYLOADS]
    docs = [(f"one{n}", c) for n, c in enumerate(compact)]
    docs.append(("all", b"\n".join(compact)))
    docs.append(("all;github-event=issues", b"\n".join(compact)))
    _both(monkeypatch, docs)
    scanner = github._scanner()
    assert scanner is not None
    fast = sum(github._from_scan(g, None, c, scanner) is not None for c in compact
               if (g := scanner.scan_head(c, 0, len(c), github._HEAD)) is not None)  # fmt: skip
    assert fast > len(compact) * 3 // 4  # the payloads mapped from the scan alone


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["", "2024-05-06T07:08:09Z", "é ✓ \u2028", 'q"u\\o', "\U0001f600", "-0"]),
)  # fmt: skip
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["id", "login", "name", "full_name", "updated_at", "created_at", "owner", "x"]), inner, max_size=4),
    max_leaves=8)  # fmt: skip
_PATHS = [p for p, _ in _github_scan._SCAN_SPEC] + ["action", "zz", "actor", "sender", "pull_request", "commits"]


@st.composite
def _mutated(draw: Callable[..., Any]) -> bytes:
    payload = json.loads(json.dumps(draw(st.sampled_from(PAYLOADS))))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_PATHS)).split(".")
        node = payload
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if draw(st.booleans()) and path[-1] in node:
            del node[path[-1]]
        else:
            node[path[-1]] = draw(_VALUES)
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=draw(st.booleans())).encode()
    edit = draw(st.sampled_from(["none", "dup", "dup-nested", "escaped-key", "deep", "not-utf8", "not-json", "surrogate"]))
    if edit == "dup":  # a duplicate top-level key (first place, last value)
        key = draw(st.sampled_from(["action", "sender", "zz", "repository"]))
        text = text[:-1] + b',"' + key.encode() + b'":' + json.dumps(draw(_VALUES)).encode() + b"}"
    elif edit == "dup-nested" and b'"sender":{' in text:
        text = text.replace(b'"sender":{', b'"sender":{"login":"first",', 1)
    elif edit == "escaped-key":
        text = b'{"\\u0061ction":"created",' + text[1:] if len(text) > 2 else text
    elif edit == "deep":
        depth = draw(st.integers(50, 1200))
        text = text[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}"
    elif edit == "not-utf8":
        text = text.replace(b'"action":"', b'"action":"\xff', 1)
    elif edit == "not-json":
        text = text[: draw(st.integers(1, max(1, len(text) - 1)))]
    elif edit == "surrogate":
        text = text[:-1] + b',"s":"\\ud800' + (b"\\udc00" if draw(st.booleans()) else b"") + b'"}'
    return text


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(_mutated(), min_size=1, max_size=6), st.sampled_from(["file", "http;github-event=issues", "x;github-event=push"]))
def test_mutated_payloads_same_as_msgspec_path(monkeypatch: pytest.MonkeyPatch, lines: list[bytes], src: str) -> None:
    docs = [(src, line) for line in lines] + [(src, b"\n".join(lines))]
    _both(monkeypatch, docs)


def test_scan_declines_what_it_does_not_decide() -> None:
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("native extension not built")
    scan = scanner.scan
    ok = b'{"action":"created","sender":{"login":"a","id":7},"issue":{"updated_at":"2024-01-01T00:00:00Z"},"x":[1]}'
    got = scan(ok)
    assert got is not None
    keys, rest, digest, v = got
    assert keys == ("action", "sender", "issue", "x") and rest == b'{"issue":{"updated_at":"2024-01-01T00:00:00Z"},"x":[1]}'
    assert v[m.ACTION] == "created" and v[:3] == (True, "a", "7")
    for bad in (b'{"a":1,"a":2}', b'{"\\u0061":1}', b'{"sender":{"id":1.5}}', b'{"sender":{"id":12345678901234567890}}',
                b'{"sender":{"login":"a","login":"b"}}', b'{"x":"\\ud800"}', b'{"x":' + b"[" * 80 + b"]" * 80 + b"}",
                b'{"sender":[]}', b'{"issue":5}', b'{"sender":{"id":-0}}', b"[1]", b'{"a":1}x'):  # fmt: skip
        assert scan(bad) is None, bad
    assert scan(b'{"sender":null,"issue":"s","action":null}') is not None
    h = github.uid_hasher("github").copy()
    h.update(ok)
    assert digest == h.digest()


def test_one_payload_a_call_same_as_msgspec_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    picked = rng.sample(PAYLOADS, 40)
    _both(monkeypatch, [("http:/github/webhook", json.dumps(p).encode()) for p in picked])


_EDGE_VALUES: tuple[Any, ...] = (None, True, False, 0, -0.0, 7, -7, 2**63, 1.5, 1e300, "", "x", "0", "2024-05-06T07:08:09Z",
                                 "é ✓", 'q"u\\o', "\U0001f600", [], ["a"], {}, {"login": "z", "id": 3, "updated_at": ""})  # fmt: skip


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
def test_every_scanned_path_given_every_kind_of_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each path the scan reads (and a few it does not), set to each edge value or removed, in
    generic payloads (issues, label, star, installation ...) and in mapped ones (push, pull_request)."""
    wanted = ("issues", "label", "star", "installation", "release", "fork", "watch", "create", "push", "pull_request")
    bases = [p for p in PAYLOADS if github.infer_event(frozenset(p), None) in wanted][::3]
    generic = [p for p in PAYLOADS if github.infer_event(frozenset(p), None) in ("issues", "star", "label")][:3]
    assert len(bases) >= 8 and len(generic) == 3
    owner = {}  # a payload holding each top-level object (its event type's mapping reads it)
    for p in PAYLOADS:
        for k in p:
            owner.setdefault(k, p)
    head = {p for p, _ in m.SCAN_HEAD}
    lines = []
    for n, (path, _mode) in enumerate(_github_scan._SCAN_SPEC):
        top = path.split(".", 1)[0]
        values = _EDGE_VALUES if path in head or top not in github._TYPED_PRIMARY else _EDGE_VALUES[::3]
        for k, value in enumerate((*values, "<removed>")):
            for base in [bases[(n + k) % len(bases)], *(generic if path in head else ()), *([owner[top]] if top in owner else ())]:
                p = json.loads(json.dumps(base))
                node = p
                parts = path.split(".")
                for part in parts[:-1]:
                    if not isinstance(node.get(part), dict):
                        node[part] = {}
                    node = node[part]
                if value == "<removed>":
                    node.pop(parts[-1], None)
                else:
                    node[parts[-1]] = value
                lines.append(json.dumps(p, separators=(",", ":"), ensure_ascii=k % 2 == 0).encode())
    _both(monkeypatch, [("all", b"\n".join(lines)), ("hint;github-event=issues", b"\n".join(lines[::7]))])


def _same_view(built: Any, decoded: Any, path: str = "") -> None:
    """``built`` (from the scan) is msgspec's typed view ``decoded``, up to what the mappings
    cannot tell apart: ids as their decimal text (read through ``c.sid``), ``commits`` by its
    length, a main object that is not an object as None."""
    if isinstance(decoded, msgspec.Struct) and not isinstance(decoded, github._Times):
        assert type(built) is type(decoded), path
        for f in decoded.__struct_fields__:
            a, b = getattr(built, f), getattr(decoded, f)
            where = f"{path}.{f}"
            if f == "id" or f.endswith("_id"):
                assert _cicd.sid(a) == _cicd.sid(b), where
            elif f == "commits":
                assert len(a or []) == len(b or []), where
            elif f in github._TYPED_PRIMARY and not path:
                assert a == (b if isinstance(b, github._Times) else None), where
            else:
                _same_view(a, b, where)
    else:
        assert built == decoded and type(built) is type(decoded), (path, built, decoded)


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
def test_view_built_from_the_scan_is_msgspecs(monkeypatch: pytest.MonkeyPatch) -> None:
    scanner = github._scanner()
    assert scanner is not None
    rng = random.Random(5)
    raws = [json.dumps(p, separators=(",", ":")).encode() for p in PAYLOADS]
    for _ in range(2000):  # and payloads with one scanned path given an edge value
        p = json.loads(json.dumps(rng.choice(PAYLOADS)))
        path = rng.choice(_github_scan._SCAN_SPEC)[0].split(".")
        node = p
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = rng.choice(_EDGE_VALUES)
        raws.append(json.dumps(p, separators=(",", ":")).encode())
    compared = 0
    for raw in raws:
        got = scanner.scan(raw)
        if got is None or frozenset(got[0]) & github._SCAN_UNCHECKED:
            continue
        try:
            decoded = github._HOOK.decode(raw)
        except msgspec.ValidationError:
            pytest.fail(f"the scan read a payload msgspec refuses: {raw[:200]!r}")
        _same_view(_github_scan._scan_view(got[3]), decoded)
        compared += 1
    assert compared > len(raws) // 3


def test_each_thread_has_its_own_scanner() -> None:
    """A scanner keeps the record it read last (``_ScannedTop`` reads its spans): two threads
    decoding at once must not share one."""
    import threading

    mine = github._scanner()
    if mine is None:
        pytest.skip("native extension not built")
    theirs: list[Any] = []
    t = threading.Thread(target=lambda: theirs.append(github._scanner()))
    t.start()
    t.join()
    assert theirs[0] is not None and theirs[0] is not mine and github._scanner() is mine
