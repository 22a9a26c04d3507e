"""Sigma correlations decided at a window's close, with events that come out of order (round 31).

The specification counts a correlation's events "within the given time frame" (a ``timespan``),
whatever order the log delivers them in. A condition that more events can turn false (``lt``,
``lte``, ``eq``, a range) is decided when the watermark passes the window's end plus the
``correlation_grace_seconds`` a stream may lag by. A group's event past the window's end closed
it at once, grace or not: events within the grace that came after it were counted in the next
window (one spanning more than the timespan), and the first was decided without them; an event older
than the window's start joined it, however much older.

Rule: the specification's range condition (tests/cases/sigma_holdout/spec_correlation_range_condition.yml,
"101 to 200" with small numbers: more than 2 and at most 4 failed logons by a user in 1 h, over the
specification's "Single failed login" rule). Events: failed logons (EventID 4625) as in
test_sigma_round3, one batch per delivery. Each stream is compared with the same events in time order
and with a hunt over the lake (all events there).
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine, correlate_matches

RULE = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout" / "spec_correlation_range_condition.yml"
WALL = 1795946400.0 + 86400  # the wall clock: a day after 2026-11-29T10:00Z (moves no stream time)


def _logon(hhmm: str, user: str = "bob") -> bytes:
    return msgspec.json.encode({"TimeCreated": f"2026-11-29T{hhmm}:00Z", "EventID": 4625, "User": user})


def _stream(deliveries: list[list[str]], grace_s: float = 900) -> list[tuple[int, int, str]]:
    """(delivery, events counted, window start) of each finding of the stream."""
    rs = load_rules([RULE])
    eng = CorrelationEngine(rs, None, clock=lambda: WALL, grace_s=grace_s)
    out = []
    for i, times in enumerate(deliveries):
        (b,) = formats.get("json").decode(b"\n".join(_logon(t) for t in times), "t").batches
        got = eng.process(b, rs.matches(b))
        for u in [] if got is None else got.column("unmapped").to_pylist():
            f = json.loads(u)
            out.append((i, f["events"], _hhmm(f["window"]["start"])))
    return out


def _hunt(times: list[str]) -> list[tuple[int, str]]:
    rs = load_rules([RULE])
    (b,) = formats.get("json").decode(b"\n".join(_logon(t) for t in times), "t").batches
    got = correlate_matches(rs, [(b, rs.matches(b))], now=WALL)
    return [] if got is None else [(f["events"], _hhmm(f["window"]["start"]))
                                   for f in map(json.loads, got.column("unmapped").to_pylist())]


def _hhmm(ms: int) -> str:
    return f"{(ms // 60000) % 1440 // 60:02d}:{(ms // 60000) % 60:02d}"


def test_late_events_within_the_grace_count_in_their_window() -> None:
    # 10:00-10:20, then 11:10 (past the window's end, within its grace), then 10:30 and 10:40: five
    # failures in 10:00-11:00, which is not "at most 4"; it fired on three, then on 10:30, 10:40 and
    # 11:10 as a window of 11:10 (70 minutes of events)
    late = [["10:00", "10:10", "10:20"], ["11:10"], ["10:30", "10:40"], ["13:00"]]
    assert _stream(late) == [] == _hunt([t for d in late for t in d])
    assert _stream([["10:00", "10:10", "10:20", "10:30", "10:40"], ["11:10"], ["13:00"]]) == []
    # one late failure: four in the window, decided once the watermark passes 11:15 (13:00 here)
    four = [["10:00", "10:10", "10:20"], ["11:10"], ["10:30"], ["13:00"]]
    assert _stream(four) == [(3, 4, "10:00")] and _hunt([t for d in four for t in d]) == [(4, "10:00")]


def test_an_event_older_than_the_window_start_opens_the_window_it_belongs_to() -> None:
    # 10:50, 11:00, 11:10, then 10:00 (within the grace): in time order the window is 10:00-11:00
    # (three failures: it fires) and 11:10 starts the next; it counted four over 70 minutes
    late = [["10:50", "11:00", "11:10"], ["10:00"], ["13:00"]]
    assert _stream(late) == [(2, 3, "10:00")]
    assert _hunt([t for d in late for t in d]) == [(3, "10:00")]


def test_an_event_past_the_grace_counts_in_no_later_window() -> None:
    # no grace: 11:10 closes 10:00-11:00 (three: fires); 10:30 and 10:40 come after that decision and
    # belong to no later window (they made one of 10:30-11:10 with 11:10: three, fired again)
    assert _stream([["10:00", "10:10", "10:20"], ["11:10"], ["10:30", "10:40"], ["13:00"]], grace_s=0) == [
        (1, 3, "10:00")]
