"""GitHub audit-log events mapped in columns (``formats._github_audit``) = the msgspec path.

The reference is the record-by-record path (``_github_map.audit_columns`` on msgspec typed
views), which batches below ``_github_audit.MIN_ROWS`` records, every batch the walk declines
and every batch without the extension still take. Inputs: Panther's GitHub.Audit test events
(../shared/data/real/panther-analysis/extracted/github_audit.jsonl, Apache-2.0), alone, as the
benchmark varies them, and mutated by hypothesis (keys dropped, nulls, values of other JSON
types, unicode and escapes, the request fields of ``api.request`` events, time texts of every
shape ``iso_ms`` reads or refuses, ``team``/``data.team``, webhook payloads mixed in).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast, get
from secpipe.formats import _github_audit as audit
from secpipe.formats.base import Decoded
from tests.conftest import REAL
from tests.unit.native_support import assert_same_decoded, decode_with

FMT = get("github")
SAMPLES = REAL / "panther-analysis/extracted/github_audit.jsonl"
pytestmark = pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")


def _events() -> list[dict[str, Any]]:
    return [json.loads(x) for x in SAMPLES.read_bytes().splitlines() if x.strip()]


def _doc(events: list[Any]) -> bytes:
    return b"\n".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() for e in events)


@contextmanager
def _columns(on: bool) -> Iterator[None]:
    """The column path for every batch (``on``), or for none (the msgspec reference)."""
    with mock.patch.object(audit, "MIN_ROWS", 1 if on else 10**9), mock.patch.object(audit, "likely", lambda raws: on):
        yield


def _both(doc: bytes, what: object) -> Decoded:
    with _columns(True):
        got = FMT.decode(doc, "src")
    with _columns(False):
        want = FMT.decode(doc, "src")
    assert_same_decoded(got, want, what)
    return got


def test_real_samples_in_columns_as_in_msgspec(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (real / "panther-analysis/extracted/github_audit.jsonl").read_bytes()
    raws = [json.dumps(json.loads(x), separators=(",", ":")).encode() for x in data.splitlines() if x.strip()]
    assert audit.likely(raws)  # records are compact when mapped
    walked = audit.walk(FMT, raws)
    assert walked is not None and walked[1] == [] and walked[0] is not None and walked[0].num_rows == 60
    got = _both(data, "real")
    assert sum(b.num_rows for b in got.batches) == 60 and got.dead == []
    # without the extension: the msgspec path, the same batch
    assert_same_decoded(decode_with("github", data, monkeypatch, False), got, "no native")


def test_bench_corpus_in_columns(real: Path) -> None:
    """The benchmark's document (each event varied by a sequence number), decoded as the bench does."""
    events = _events()
    doc = _doc([{**events[i % len(events)], "_bench_seq": i} for i in range(600)])
    got = _both(doc, "bench")
    (batch,) = got.batches
    assert batch.num_rows == 600


def test_golden_values_from_columns(real: Path) -> None:
    """What the column path gives for known events of the real file (read from the samples)."""
    with _columns(True):
        (batch,) = FMT.decode(SAMPLES.read_bytes(), "t").batches
    rows = batch.to_pylist()
    clone = next(r for r in rows if r["api"]["operation"] == "git.clone")
    assert clone["activity_id"] == 2 and clone["api"]["service"]["name"] == "git"
    # (no actor_is_bot/actor_is_agent in this event: no type; the batch has the columns for others)
    assert clone["actor"]["user"] == {"name": "acme-inc-user", "uid": "123456789", "type_id": None, "type": None}
    assert clone["src_endpoint"]["ip"] == "5.6.7.8" and clone["src_endpoint"]["location"]["country"] == "US"
    assert clone["http_request"]["user_agent"] == "git/2.30.2"
    assert clone["resources"][0] == {"type": "repository", "name": "acme-inc/a-repo", "uid": None}
    assert json.loads(clone["unmapped"])["hashed_token"] == "0771cae4d170dc02a6ff393d9946cd684d6145c1="
    at = next(r for r in rows if r["time"] == 1623971719091)  # "@timestamp": 1623971719091
    assert at["metadata"]["labels"] is None
    first = rows[0]  # workflows.completed_workflow_run: created_at "2023-01-31 18:58:27.638", naive = UTC
    assert first["time"] == 1675191507638
    assert first["metadata"]["tenant_uid"] == "panther-labs" and first["activity_id"] == 3  # operation_type modify
    assert list(json.loads(first["unmapped"]))[:3] == ["at_sign_timestamp", "business", "completed_at"]  # document order


def test_mixed_batch_sets_webhooks_aside(real: Path) -> None:
    hook = json.loads((real / "octokit-webhooks/payload-examples/api.github.com/push/payload.json").read_bytes())
    events = _events()
    doc = _doc([events[0], hook, events[1], {"action": "x", "actor": {"login": "o"}}, events[2], {"a": 1}])
    got = _both(doc, "mixed")
    assert sorted(b.num_rows for b in got.batches) == [1, 3] and len(got.dead) == 2


def test_without_the_extension_the_walk_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = b'{"action":"a.b","actor":"x"}\n{"action":"a.c","actor":"y"}'
    monkeypatch.setattr(_fast, "_module", lambda: None)
    assert audit.walk(FMT, doc.split(b"\n")) is None and audit.walk_doc(FMT, doc) is None
    monkeypatch.setattr(_fast, "_module", lambda: object())  # an older build, without the walk
    assert audit.walk(FMT, doc.split(b"\n")) is None and audit.walk_doc(FMT, doc) is None


def test_irregular_record_declines_the_batch() -> None:
    raws = [b'{"action":"a.create","actor":"x"}', b'{"action":"a.b","actor":"x","org":5}']
    assert audit.walk(FMT, raws) is None  # org must be a string: msgspec's reason dead-letters it
    dec = _both(b"\n".join(raws), "irregular")
    assert len(dec.dead) == 1 and "not a GitHub audit-log event" in dec.dead[0].reason


# --- hypothesis: the real events mutated ----------------------------------------------------

#: past 1e305 seconds ``_cicd.iso_ms`` raises OverflowError on both paths (``v * 1000`` is inf): left out here
_FLOATS = st.floats(-1e305, 1e305)
_TIMES = st.one_of(
    st.sampled_from([
        "2023-01-31 18:58:27.638", "2023-01-31T18:58:27", "2023-01-31T18:58:27Z", "2023-01-31T18:58:27.1+02:00",
        "2023-01-31T18:58:27.123456-01:30", "2023-01-31T18:58:27.1234567", "2023-02-30 00:00:00",
        "2023-01-31 23:59:60", "0000-01-01 00:00:00", "0001-01-01 00:00:00", "9999-12-31T23:59:59.999999",
        "2023-01-31", "2023-01-31T18", "2023-01-31 18:58:27 UTC", "2023-01-31t18:58:27z", "", " ", "now",
        "2021-04-28 21:50:00 +0200", "1969-12-31T23:59:59.999Z", "2023-01-31T18:58:27.638+00", "2023-01-31T18:58:27\u00b2",
        "2025-10-15 18:45:47.048000000", "1969-12-31T23:59:59.1234567", "1969-12-31 23:59:59.999999999Z",
        "1700-01-01T00:00:00+23:59", "1699-12-31 23:59:59", "2199-12-31T23:59:59.999999999-23:59", "2200-01-01 00:00:00",
        "2024-12-17 00:00:00000000", "2023-01-31T18:58:27.1234567890",
    ]),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")), st.datetimes(timezones=st.timezones()).map(str),
    st.integers(-(2**63), 2**64), st.sampled_from([1623971719091, 1671111111, 0, -1, 10_000_000_000, 10_000_000_001]),
    _FLOATS, st.booleans(), st.none(), st.lists(st.integers(), max_size=2),
)  # fmt: skip
_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", "a.b", "repo.create", "org.update_member", "\u00e9\u00df", "\\", '"']))
_ODD = st.one_of(st.integers(-(2**70), 2**70), _FLOATS, st.booleans(), st.none(),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))  # fmt: skip
_ID = st.one_of(st.integers(-(2**65), 2**65), _TEXT, st.none(), st.sampled_from([1.5, 0.0, True]))
_KEYS = ["action", "actor", "actor_id", "actor_ip", "actor_location", "user", "org", "repo", "repository", "business",
         "team", "data", "user_agent", "created_at", "@timestamp", "at_sign_timestamp", "p_event_time", "_document_id",
         "operation_type", "request_method", "url_path", "route", "status_code", "org_id", "repo_id", "user_id"]  # fmt: skip
_VALUES: dict[str, Any] = {
    "action": _TEXT, "actor": st.one_of(_TEXT, _ODD), "actor_id": st.one_of(_ID, _ODD), "actor_ip": _TEXT,
    "actor_location": st.one_of(st.none(), st.fixed_dictionaries({}, optional={"country_code": st.one_of(_TEXT, st.none())})),
    "user": _TEXT, "org": _TEXT, "repo": _TEXT, "repository": st.one_of(_TEXT, _ODD), "business": _TEXT,
    "team": st.one_of(_TEXT, _ODD), "data": st.one_of(st.none(), st.fixed_dictionaries({}, optional={"team": st.one_of(_TEXT, _ODD)})),
    "user_agent": _TEXT, "created_at": _TIMES, "@timestamp": _TIMES, "at_sign_timestamp": _TIMES, "p_event_time": _TIMES,
    "_document_id": _TEXT, "operation_type": st.one_of(st.sampled_from(["create", "access", "modify", "remove", "transfer"]), _TEXT),
    "request_method": st.one_of(st.sampled_from(["GET", "post", "Delete", "PATCH", "ß"]), _TEXT, st.none()),
    "url_path": _TEXT, "route": st.one_of(_TEXT, st.none()),
    "status_code": st.one_of(st.sampled_from([200, 201, 204, 399, 400, 404, 500]), st.none(), st.integers(-5, 2**40)),
    "org_id": _ID, "repo_id": _ID, "user_id": _ID,
}  # fmt: skip
_STRINGS = {"action", "actor_ip", "user", "org", "repo", "business", "user_agent", "_document_id", "operation_type", "url_path"}


@st.composite
def _event(draw: st.DrawFn, odd: bool) -> Any:
    ev = dict(draw(st.sampled_from(_EVENTS)))
    for key in draw(st.lists(st.sampled_from(_KEYS), max_size=6, unique=True)):
        what = draw(st.sampled_from(["drop", "null", "set", "set"] + (["odd"] if odd else [])))
        if what == "drop":
            ev.pop(key, None)
        elif what == "null":
            ev[key] = None
        elif what == "odd":
            ev[key] = draw(_ODD)
        else:
            value = draw(_VALUES[key])
            if not odd and key in _STRINGS:
                value = value if isinstance(value, str) else None
            ev[key] = value
    if draw(st.integers(0, 9)) == 0:
        ev[draw(st.sampled_from(["extra_\u00e9", "zz", "aa", "p_any_usernames"]))] = draw(_ODD)
    if odd and draw(st.integers(0, 14)) == 0:
        ev["sender"] = {"login": "octocat", "id": 1}
    return ev


_EVENTS = _events() if SAMPLES.is_file() else [{"action": "a.b", "actor": "x"}]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_event(odd=True), min_size=1, max_size=12))
def test_mutated_events_same_as_msgspec(events: list[Any]) -> None:
    _both(_doc(events), events)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_event(odd=False), min_size=1, max_size=12))
def test_regular_mutations_take_the_column_path(events: list[Any]) -> None:
    """Mutations of the types GitHub writes (strings, nulls, missing keys, any time): the walk
    keeps them (no fallback), and its batch is the msgspec path's."""
    raws = [json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() for e in events]
    walked = audit.walk(FMT, raws)
    regular = all(isinstance(e.get("actor"), str) for e in events)
    if regular and all(_plain(e) for e in events):
        assert walked is not None and walked[1] == []
    _both(_doc(events), events)


def _plain(ev: dict[str, Any]) -> bool:
    """No value of a type the walk declines (those take the msgspec path, tested above)."""
    ids = all(not isinstance(ev.get(k), float | bool) for k in ("org_id", "repo_id", "user_id"))
    code = ev.get("status_code")
    return ids and "action" in ev and (code is None or -(2**31) <= code < 2**31)
