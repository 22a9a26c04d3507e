"""The native ``_bulk`` and HEC splitters (``bulk_split``, ``hec_split``, native/src/bulk.rs)
against the Python paths.

For any body: the depth is ``json_depth`` per NDJSON line (the Python scan), and the action
line and documents are what :func:`bulk_lines` and the uniform check of :func:`parse_lines`
give (None when the lines do not alternate one same action line and a document). And
:func:`parse_body` answers every body as the Python path does (the same items, or the same
error status and message) with the extension and without it.

Bodies: real documents (CloudTrail records of Falco's test traces, GitHub webhook payloads of
the octokit corpus, in ``../shared/data/real``) under the action lines Filebeat and Logstash
send, then mutated: another action line, a document line dropped, trailing newlines or
blank lines or none, CRLF, a line longer than the 64-byte blocks and than 64 KiB, bytes that
are not UTF-8, escapes and brackets around block edges, bytes cut, inserted or replaced.
HEC bodies: the same documents as envelopes (``sourcetype``, ``time`` as a string or not),
one after the other with or without whitespace, then mutated likewise (whitespace inside an
object, ``} {`` inside a string, an element that is not an object, deep nesting...): the
events, the array's values and the depth errors are those of the regex/msgspec path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast
from secpipe.server import hec, wire
from secpipe.server.es_bulk import Uniform, bulk_lines, parse_body, parse_lines
from secpipe.server.http import HTTPError, Limits

pytestmark = pytest.mark.skipif(getattr(_fast._module(), "bulk_split", None) is None,
                                reason="native extension without bulk_split")  # fmt: skip

REAL = Path(__file__).resolve().parents[3] / "shared/data/real"
FILEBEAT = b'{"create":{"_index":"filebeat-8.17.0"}}'
LOGSTASH = b'{"index":{"_id":null,"_index":"logstash-2024.05.01","routing":null}}'
OTHER = b'{"index":{"_index":"other"}}'


def _docs() -> list[bytes]:
    trail = json.loads((REAL / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes())["Records"]
    hooks = sorted((REAL / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))[:40]
    docs = [json.dumps(r, separators=(",", ":")).encode() for r in trail]
    docs += [json.dumps(json.loads(p.read_bytes()), separators=(",", ":")).encode() for p in hooks]
    return docs


DOCS = _docs()


def _native(body: bytes) -> tuple[int, bytes | None, list[bytes] | None]:
    return _fast._module().bulk_split(body)  # type: ignore[union-attr,no-any-return]


def _reference(body: bytes) -> tuple[int, bytes | None, list[bytes] | None]:
    depth = max(wire.json_depth(line) for line in body.split(b"\n"))
    lines = bulk_lines(body)
    heads = lines[0::2]
    if lines and len(lines) % 2 == 0 and heads.count(heads[0]) == len(heads):
        return depth, heads[0], lines[1::2]
    return depth, None, None


def _body(head: bytes, docs: list[bytes]) -> bytes:
    return b"".join(head + b"\n" + d + b"\n" for d in docs)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    head = draw(st.sampled_from([FILEBEAT, LOGSTASH, b'{"index":{}}']))
    docs = draw(st.lists(st.sampled_from(DOCS), min_size=0, max_size=12))
    lines = [ln for d in docs for ln in (head, d)]
    for _ in range(draw(st.integers(0, 3))):
        if not lines:
            break
        k = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["other action", "drop", "cut", "insert", "replace", "huge", "escape"]))
        if kind == "other action":
            lines[k] = OTHER
        elif kind == "drop":
            del lines[k]
        elif kind == "huge":  # past the 64-byte blocks, and past the 64 KiB where check_depth turns native
            lines[k] = b'{"message":"' + b"x" * draw(st.sampled_from([63, 64, 65, 70_000])) + b'","a":[{}]}'
        else:
            line = lines[k]
            at = draw(st.integers(0, len(line)))
            piece = draw(st.sampled_from([b"\\", b'"', b"{", b"]", b"\\\"", b"\\\\", b"\xff\xfe", b"\xc3", b"\n", b"\r"]))
            if kind == "cut":
                lines[k] = line[:at] + line[at + draw(st.integers(1, 70)):]
            elif kind == "insert" or kind == "escape":
                lines[k] = line[:at] + piece + line[at:]
            else:
                lines[k] = line[:at] + piece + line[at + 1:]
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    tail = draw(st.sampled_from([b"", b"\n", b"\n\n", b" \n\t\n", b"\r\n", b"  "]))
    body = eol.join(lines) + (eol if lines and draw(st.booleans()) else b"") + tail
    return body


@settings(max_examples=600)
@given(bodies())
def test_native_split_is_the_python_split(body: bytes) -> None:
    assert _native(body) == _reference(body)


def _outcome(body: bytes, limit: int, max_string: int | None) -> Any:
    try:
        parsed = parse_body(body, "dflt", limit, max_string)
    except HTTPError as exc:
        return exc.status, str(exc)
    return parsed.items() if isinstance(parsed, Uniform) else parsed, type(parsed).__name__


@settings(max_examples=300)
@given(bodies(), st.sampled_from([2, 3, 4, 64]), st.sampled_from([None, 40, 1 << 20]))
def test_parse_body_answers_as_without_the_extension(body: bytes, limit: int, max_string: int | None) -> None:
    native = _outcome(body, limit, max_string)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_fast, "_module", lambda: None)
        python = _outcome(body, limit, max_string)
    assert native == python


def test_block_edges() -> None:
    """Escapes, quotes and newlines at every offset around a 64-byte block edge."""
    base = _body(FILEBEAT, DOCS[:3])
    for at in range(40, 140):
        for piece in (b"\\", b"\\\\", b'"', b'\\"', b"\n", b"\\\n", b"{[", b"]}", b"\r\n"):
            body = base[:at] + piece + base[at:]
            assert _native(body) == _reference(body), (at, piece)


def test_a_shipper_body_is_split_once() -> None:
    body = _body(LOGSTASH, DOCS * 3)
    depth, head, docs = _native(body)
    assert head == LOGSTASH and docs == DOCS * 3
    assert depth == max(wire.json_depth(d) for d in DOCS)
    parsed = parse_body(body, None, 64)
    assert isinstance(parsed, Uniform) and parsed.docs == DOCS * 3
    assert parsed == parse_lines(bulk_lines(body), None)


def test_too_deep_and_too_long_are_refused_as_before() -> None:
    body = _body(FILEBEAT, [b'{"a":[[[[1]]]]}', b'{"msg":"' + b"y" * 100 + b'"}'])
    with pytest.raises(HTTPError, match="JSON nesting depth 5 exceeds the limit of 4") as exc:
        parse_body(body, None, 4, 1 << 20)
    assert exc.value.status == 400
    with pytest.raises(HTTPError) as exc:
        parse_body(body, None, 5, 99)
    assert exc.value.status == 413
    assert isinstance(parse_body(body, None, 5, 100), Uniform)


def test_an_action_line_that_is_not_utf8_is_malformed() -> None:
    """msgspec raises UnicodeDecodeError (not DecodeError) on such a string: a 400, not a 500."""
    for body in (b'{"index":{"_index":"\xff"}}\n{}\n', b'{"index":{"_index":"\xff"}}\n{}\n{"index":{}}\n{}\n'):
        with pytest.raises(HTTPError, match=r"Malformed action/metadata line \[1\]") as exc:
            parse_body(body, None, 64)
        assert exc.value.status == 400


def test_a_blank_line_before_a_document_is_skipped_not_a_500() -> None:
    """Blank lines are skipped (as Elasticsearch does), so the document after one is read as the
    action line: the same 400 on both paths. (Hypothesis found it: the fast path zipped the one
    document with the zero actions that ``[]`` decoded to.)"""
    for body in (b'\n{"action":"created","rule":{"id":1}}', b'\n{"action":"created"}\n', b' \n{"index":{}}\n'):
        native = _outcome(body, 64, None)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(_fast, "_module", lambda: None)
            assert _outcome(body, 64, None) == native
    with pytest.raises(HTTPError, match=r"expected field \[create\], \[delete\], \[index\] or \[update\]") as exc:
        parse_lines([b"", b'{"action":"created"}'], None)
    assert exc.value.status == 400
    assert parse_lines([b"", b'{"index":{}}', b"{}"], "i") == [("index", "i", None, b"{}")]


@st.composite
def hec_bodies(draw: st.DrawFn) -> bytes:
    events = draw(st.lists(st.sampled_from(DOCS[:12]), min_size=0, max_size=8))
    heads = [b'{"sourcetype":"aws:cloudtrail","event":', b'{"time":"1700000000.5","event":', b'{"event":']
    parts = [draw(st.sampled_from(heads)) + e + b"}" for e in events]
    for _ in range(draw(st.integers(0, 2))):
        if not parts:
            break
        k = draw(st.integers(0, len(parts) - 1))
        part = parts[k]
        at = draw(st.integers(0, len(part)))
        piece = draw(st.sampled_from([b" ", b"} {", b"\xff", b"\\", b'"', b"[1]", b"\n", b'{"a":' * 70]))
        kind = draw(st.sampled_from(["insert", "cut", "replace", "element"]))
        if kind == "element":
            parts[k] = draw(st.sampled_from([b"[1]", b'"x"', b"5", b"{}", b"null"]))
        elif kind == "cut":
            parts[k] = part[:at] + part[at + draw(st.integers(1, 40)):]
        elif kind == "insert":
            parts[k] = part[:at] + piece + part[at:]
        else:
            parts[k] = part[:at] + piece + part[at + 1:]
    sep = draw(st.sampled_from([b"", b"\n", b" ", b"\r\n", b"\x0b", b"\n\n  "]))
    edge = draw(st.sampled_from([b"", b" ", b"\n", b"\t\r\n"]))
    return edge + sep.join(parts) + edge


def _hec_outcome(body: bytes, limits: Limits | None) -> Any:
    try:
        raws, array = hec._split(body, limits)
    except (HTTPError, hec.HecError) as exc:
        return type(exc).__name__, exc.status, str(exc.body) if hasattr(exc, "body") else str(exc)
    try:  # the array's values (the two paths put different whitespace between them)
        return raws, msgspec.json.decode(array)
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec's Raw split lets bytes that are not UTF-8 by
        return raws, array


@settings(max_examples=500)
@given(hec_bodies(), st.sampled_from([None, Limits(max_json_depth=4), Limits(max_string_bytes=30), Limits()]))
def test_hec_split_is_the_python_split(body: bytes, limits: Limits | None) -> None:
    native = _hec_outcome(body, limits)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_fast, "_module", lambda: None)
        python = _hec_outcome(body, limits)
    assert native == python


def test_hec_split_takes_a_shipper_body_and_declines_the_rest() -> None:
    body = b"\n".join(b'{"sourcetype":"aws:cloudtrail","event":' + d + b"}" for d in DOCS[:20])
    found = _fast._module().hec_split(body)  # type: ignore[union-attr]
    assert found is not None
    depth, raws, array = found
    assert raws == body.split(b"\n") and msgspec.json.decode(array) == [msgspec.json.decode(r) for r in raws]
    assert depth == max(wire.json_depth(r) for r in raws)
    for other in (b"", b"  ", b'{"event": 1}', b'{"event":1} 5', b'[{"event":1}]', b'{"event":"\xff"}'):
        assert _fast._module().hec_split(other) is None, other  # type: ignore[union-attr]
