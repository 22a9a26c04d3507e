"""GitHub audit-log actors typed from ``actor_is_bot`` / ``actor_is_agent`` (session 18).

Audit-log streaming marks each event's actor: ``actor_is_bot`` (a GitHub App's bot account, as
``github-actions[bot]``) and, for Copilot's agentic events, ``actor_is_agent`` ("whether the actor is
an AI agent", GitHub's "Audit log events for agents"). Before, neither was read (both stayed in
``unmapped``; ``actor.user`` had no type). Panther's real streamed events
(``panther-analysis/extracted/github_audit.jsonl``: one bot, five users) and those events with the
flags mutated, on the column path and the msgspec path.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from secpipe.formats import _fast, get
from secpipe.formats import _github_audit as audit
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
SAMPLES = REAL / "panther-analysis/extracted/github_audit.jsonl"
EVENTS = [json.loads(x) for x in SAMPLES.read_bytes().splitlines() if x.strip()]
FMT = get("github")


@contextmanager
def _columns(on: bool) -> Iterator[None]:
    with mock.patch.object(audit, "MIN_ROWS", 1 if on else 10**9), mock.patch.object(audit, "likely", lambda raws: on):
        yield


def _decode(events: list[dict[str, Any]], what: object) -> Decoded:
    doc = "\n".join(json.dumps(e) for e in events).encode()
    with _columns(False):
        want = FMT.decode(doc, "src")
    if _fast.available():
        with _columns(True):
            got = FMT.decode(doc, "src")
        assert_same_decoded(got, want, what)
    assert not want.dead
    return want


def _types(d: Decoded) -> list[tuple[Any, Any, Any, Any, str]]:
    out = []
    for b in d.batches:
        for r in b.to_pylist():
            raw = json.loads(r["raw_data"])
            unmapped = json.loads(r["unmapped"] or "{}")
            assert "actor_is_bot" not in unmapped and "actor_is_agent" not in unmapped
            out.append((raw.get("actor_is_bot"), raw.get("actor_is_agent"), r["actor"]["user"]["type_id"],
                        r["actor"]["user"]["type"], raw.get("_mark")))  # fmt: skip
    return out


def test_real_streamed_actors_typed() -> None:
    got = _types(_decode(EVENTS, "real"))
    flagged = [v[:4] for v in got if v[0] is not None]
    assert sorted(flagged, key=repr) == sorted([(False, None, 1, "User")] * 5 + [(True, False, 4, "Service")], key=repr)
    assert all(v[2:4] == (None, None) for v in got if v[0] is None and v[1] is None)  # older exports: no type
    assert len(got) == len(EVENTS) > len(flagged)


@pytest.mark.parametrize(("bot", "agent", "want"), [
    (True, None, (4, "Service")), (False, False, (1, "User")), (False, True, (99, "Agent")), (True, True, (99, "Agent")),
    (None, True, (99, "Agent")), (None, False, None), ("true", None, None), (1, None, None), (False, "yes", None),
])  # fmt: skip
def test_flags_mutated(bot: Any, agent: Any, want: tuple[int, str] | None) -> None:
    events = copy.deepcopy(EVENTS)
    bot_event = next(e for e in events if e.get("actor_is_bot") is True)
    bot_event["_mark"] = "the bot's event"  # (an unknown key: kept in unmapped, told apart here)
    for key, value in (("actor_is_bot", bot), ("actor_is_agent", agent)):
        if value is None:
            bot_event.pop(key, None)
        else:
            bot_event[key] = value
    got = _types(_decode(events, (bot, agent)))
    (row,) = [v for v in got if v[4] == "the bot's event"]
    assert row[2:4] == (want or (None, None))
