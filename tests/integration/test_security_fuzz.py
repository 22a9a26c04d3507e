"""Fuzzing every registered format decoder and the HTTP ingest route (hypothesis).

Properties: no crash (no exception escapes a decoder; the server never answers 5xx), no
hang (each decode under 2 s of CPU time, plus the pytest timeout; CPU time, not wall time, so a
loaded host does not fail it), and every input is
accounted for: a non-blank input yields stored rows or dead letters, and everything the
server refuses is in the dead-letter store or got an error answer.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe import formats
from secpipe.server.auth import TokenStore
from secpipe.server.http import Limits
from secpipe.store.query import run
from tests.integration._security_server import serve

KEYS = ["Records", "eventName", "eventTime", "eventSource", "userIdentity", "kind", "apiVersion", "auditID", "verb",
        "objectRef", "user", "output", "priority", "rule", "time", "decision_id", "input", "result", "alerts",
        "labels", "status", "runs", "results", "Results", "vulnerabilities", "issues", "action", "repository",
        "sender", "object_kind", "project", "timestamp", "message", "level", "@timestamp", "host", "id", "name"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False),
                    st.text(max_size=40), st.sampled_from(["2024-01-02T03:04:05Z", "1.2.3.4", "", "null", "\x00"]))
json_values = st.recursive(
    scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=5),
                           st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), kids, max_size=6)),
    max_leaves=25,
)
documents = st.one_of(
    st.binary(max_size=3000),
    json_values.map(lambda v: orjson.dumps(v)),
    st.lists(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6), max_size=6).map(
        lambda rows: b"\n".join(orjson.dumps(r) for r in rows)),
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8).map(lambda d: orjson.dumps({"Records": [d, d]})),
    st.text(max_size=400).map(lambda t: ("<134>1 2024-01-02T03:04:05Z host app - - - " + t).encode()),
    st.binary(max_size=200).map(lambda b: b'{"a": "' + b + b'"}'),
)


@pytest.mark.parametrize("name", sorted(formats.REGISTRY))
def test_decoder_fuzz(name: str) -> None:
    fmt = formats.get(name)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(documents)
    def check(data: bytes) -> None:
        t0 = time.thread_time()
        out = fmt.decode(data, "fuzz")
        assert time.thread_time() - t0 < 2
        rows = sum(b.num_rows for b in out.batches)
        for d in out.dead:
            assert d.reason and isinstance(d.raw, bytes)
        if data.strip() and rows == 0 and not out.dead:
            # a decoder may skip only what it can prove is nothing (e.g. an empty envelope)
            stripped = data.strip()
            assert stripped in (b"[]", b"{}", b'{"Records":[]}') or out.events == 0, (name, data[:200])

    check()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz") / "data"
    data.mkdir()
    tok = TokenStore(data).create("fuzzer", "ingest")
    with serve(data, Limits(max_body_bytes=1 << 20, max_decompressed_bytes=2 << 20, max_json_depth=32,
                            max_string_bytes=64 << 10, rate_per_token=0)) as (url, ctx):
        yield url, tok, ctx, data


def test_http_ingest_fuzz(server) -> None:
    """Fuzzed bodies, formats and encodings over HTTP; then every dead letter the server
    reported is in the dead-letter store (checked in the same test: no reliance on test order)."""
    url, tok, ctx, data = server
    tally = {"dead_reported": 0, "refused": 0, "requests": 0}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(documents, st.sampled_from(["auto", *sorted(formats.REGISTRY)]),
           st.sampled_from(["", "gzip", "gzip-bad", "br"]), st.integers(0, 40))  # fmt: skip
    def check(body: bytes, fmt: str, encoding: str, depth: int) -> None:
        body = b"[" * depth + body + b"]" * depth if depth > 30 else body
        headers = {"Authorization": f"Bearer {tok}"}
        if encoding == "gzip":
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        elif encoding == "gzip-bad":
            body, headers["Content-Encoding"] = gzip.compress(body)[: max(1, len(body) // 2)], "gzip"
        elif encoding == "br":
            headers["Content-Encoding"] = "br"
        with httpx.Client(base_url=url, timeout=20) as c:
            r = c.post(f"/v1/ingest/{fmt}", content=body, headers=headers)
        tally["requests"] += 1
        assert r.status_code < 500, r.text[:300]
        assert r.status_code in (200, 400, 404, 408, 413, 415), r.status_code
        info = r.json()
        if r.status_code == 200:
            assert info["accepted"] + info["dead_letter"] >= (1 if body.strip() else 0) or info["events"] == 0
            tally["dead_reported"] += info["dead_letter"]
        else:
            assert info["error"]
            tally["refused"] += 1
            tally["dead_reported"] += info.get("dead_letter", 0)

    check()
    assert tally["requests"] > 0
    ctx.service.flush()
    stored = run(Path(data), "SELECT count(*) FROM dead_letter")[1][0][0]
    assert stored >= tally["dead_reported"]
