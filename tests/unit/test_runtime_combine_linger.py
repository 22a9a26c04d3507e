"""How long a request waits for company before its records are mapped (runtime/combine.py):
only for requests on their way or expected (the recent peak of requests inside the server
at once), never for a lone sender, never past the linger, and a linger that ran out lowers
the expectation for a while.

The waits are driven by explicit events (a count of queued jobs the test sets, requests
that enter and leave), with long lingers where a wait must end by company, so no assertion
depends on the host's speed. The clock is a fake where the expectation's expiry is checked.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded, Records
from secpipe.runtime import combine
from secpipe.runtime.combine import CAP_SECONDS, Arrivals, Job
from secpipe.runtime.service import Service


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float = 1000.1) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _job() -> Job:
    fmt = formats.get("cloudtrail")
    assert isinstance(fmt, formats.base.RecordFormat)
    return Job(fmt, "test", b"", Records())


def _were_inside(arr: Arrivals, n: int) -> None:
    """``n`` requests inside at once, then all answered (as senders between two requests)."""
    with ExitStack() as stack:
        for _ in range(n):
            stack.enter_context(arr.request())
        assert (arr.inside, arr.coming) == (n, n)
    assert (arr.inside, arr.coming) == (0, 0)


def _waiter(arr: Arrivals, job: Job, seconds: float, queued: list[int]) -> threading.Thread:
    t = threading.Thread(target=arr.wait, args=(job, (seconds, seconds), lambda: queued[0]), daemon=True)
    t.start()
    return t


def test_a_lone_sender_never_waits() -> None:
    arr = Arrivals()
    for _ in range(3):  # one request after the other: one inside at a time
        _were_inside(arr, 1)
    with arr.request():
        arr.arrived()
        t0 = time.monotonic()
        arr.wait(_job(), (30.0, 30.0), lambda: 1)
        assert time.monotonic() - t0 < 10, "a lone sender waited for company that cannot come"


def test_a_pass_waits_for_the_senders_that_were_inside_together() -> None:
    arr = Arrivals(Clock())  # the clock stands still: the expectation cannot fade, nor the linger run out
    _were_inside(arr, 4)  # four senders; now answered and on their way back
    queued = [2]
    t = _waiter(arr, _job(), 30.0, queued)
    t.join(0.3)
    assert t.is_alive(), "two of four expected requests queued: the pass waits for the others"
    queued[0] = 4
    arr.notify()
    t.join(10)
    assert not t.is_alive(), "all four queued: the pass goes"


def test_requests_on_their_way_are_waited_for() -> None:
    arr = Arrivals()
    reading, done = threading.Event(), threading.Event()

    def sender() -> None:  # a request whose body is being read: on its way to the combiner
        with arr.request():
            reading.set()
            done.wait(30)
            arr.arrived()

    s = threading.Thread(target=sender, daemon=True)
    s.start()
    assert reading.wait(10)
    t = _waiter(arr, _job(), 30.0, [1])
    t.join(0.3)
    assert t.is_alive(), "another request is on its way: the pass waits for it"
    done.set()
    t.join(10)
    s.join(10)
    assert not t.is_alive() and not s.is_alive()


def test_a_job_another_pass_took_waits_no_more() -> None:
    arr = Arrivals()
    _were_inside(arr, 4)
    job = _job()
    job.taken = True
    t0 = time.monotonic()
    arr.wait(job, (30.0, 30.0), lambda: 1)
    assert time.monotonic() - t0 < 10


def test_a_linger_that_runs_out_caps_the_expectation_for_a_while() -> None:
    clock = Clock()
    arr = Arrivals(clock)
    _were_inside(arr, 4)
    t = clock.now
    assert arr.expected(t) == 4
    arr.wait(_job(), (0.0, 0.0), lambda: 2)  # the linger ran out with two queued
    first, most = CAP_SECONDS
    assert arr.expected(t) == 2
    assert arr.expected(t + first * 0.9) == 2
    assert arr.expected(t + first * 1.1) == 4, "the cap ends: four are expected again"
    # running out again (a lasting mismatch, e.g. a sender that went quiet): a longer cap
    clock.now = t2 = t + first * 1.1
    arr.wait(_job(), (0.0, 0.0), lambda: 3)
    assert arr.expected(t2 + first * 1.9) == 3
    assert arr.expected(t2 + first * 2.1) == 4
    # the expected company came (uncapped): the next cap is short again
    clock.now = t3 = t2 + first * 2.1
    arr.wait(_job(), (0.0, 0.0), lambda: 4)
    arr.wait(_job(), (0.0, 0.0), lambda: 1)
    assert arr.expected(t3 + first * 0.9) == 1
    assert arr.expected(t3 + first * 1.1) == 4
    assert first < most


def _asleep(arr: Arrivals) -> None:
    """Until one waiter sleeps on the condition (so a change of the fake clock is seen after it)."""
    deadline = time.monotonic() + 30
    while not arr.cond._waiters and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.002)
    assert arr.cond._waiters  # type: ignore[attr-defined]


def _arrive(arr: Arrivals) -> None:
    """One more request reaches the combiner (it was read, then queued its records)."""
    with arr.request():
        arr.arrived()


def test_arrivals_one_after_another_keep_the_pass_waiting_up_to_the_bound() -> None:
    clock = Clock(0.0)  # fake times stay within one half-window of the expectation
    arr = Arrivals(clock)
    _were_inside(arr, 4)
    job = _job()
    t = threading.Thread(target=arr.wait, args=(job, (0.05, 0.1), lambda: 1), daemon=True)
    t.start()
    _asleep(arr)
    clock.now = 0.04
    _arrive(arr)  # 40 ms after the start: the pass may wait until 90 ms
    _asleep(arr)
    clock.now = 0.08
    _arrive(arr)  # past the first 50 ms, within 50 ms of the last arrival: still waiting
    _asleep(arr)
    t.join(0.2)
    assert t.is_alive()
    clock.now = 0.105
    _arrive(arr)  # past the bound in all: the pass goes, whatever keeps arriving
    t.join(10)
    assert not t.is_alive()


def test_without_arrivals_the_pass_goes_after_the_linger() -> None:
    clock = Clock(0.0)
    arr = Arrivals(clock)
    _were_inside(arr, 4)
    t = threading.Thread(target=arr.wait, args=(_job(), (0.05, 0.1), lambda: 1), daemon=True)
    t.start()
    _asleep(arr)
    clock.now = 0.055
    arr.notify()
    t.join(10)
    assert not t.is_alive()
    assert arr.expected(clock.now) == 1, "what came is expected for a while"


def test_the_linger_counts_from_the_end_of_the_pass_that_held_the_gate() -> None:
    """A request queued while another caller maps (the gate is held: it could not be mapped
    anyway) waits that pass out, then lingers for the senders that pass answered."""
    clock = Clock(0.0)  # fake times stay within one half-window of the expectation
    arr = Arrivals(clock)
    _were_inside(arr, 4)
    t = threading.Thread(target=arr.wait, args=(_job(), (0.05, 0.1), lambda: 1), daemon=True)
    with arr.mapping():
        t.start()
        _asleep(arr)
        clock.now = 0.3  # far past both bounds: they do not count while the pass runs
        arr.notify()
        t.join(0.2)
        assert t.is_alive(), "a pass holds the gate: the queued request waits it out"
    _asleep(arr)
    clock.now = 0.34  # within the linger after the pass ended at 0.3
    arr.notify()
    t.join(0.2)
    assert t.is_alive(), "the answered senders are on their way back: the pass waits for them"
    clock.now = 0.36
    arr.notify()
    t.join(10)
    assert not t.is_alive()


def test_the_expectation_fades_once_the_senders_are_gone() -> None:
    clock = Clock(1000.1)
    arr = Arrivals(clock)
    _were_inside(arr, 4)
    half = combine.WINDOW_SECONDS / 2
    assert arr.expected(clock.now + half) == 4, "remembered over the next half-window"
    assert arr.expected(clock.now + 2.5 * half) == 0, "forgotten after a whole window without requests"
    with arr.request():  # one sender alone now
        arr.arrived()
        assert arr.expected(clock.now + 2.5 * half) == 1


def _bodies(real: Path) -> list[bytes]:
    base = json.loads((real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes())["Records"][0]
    return [b"\n".join(json.dumps({**base, "eventID": f"linger{k}-{i}"}).encode() for i in range(3)) for k in range(4)]


def test_senders_that_come_back_one_by_one_are_mapped_in_one_pass(tmp_path: Path, real: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Four senders had requests inside at once; their next requests reach the combiner one
    after the other, nobody on its way in between and the gate free: the first waits for the
    other three, and one pass maps all (the clock stands still: the linger cannot run out)."""
    fmt = formats.get("cloudtrail")
    assert isinstance(fmt, formats.base.RecordFormat)
    arr = Arrivals(Clock())
    monkeypatch.setattr(combine, "ARRIVALS", arr)
    calls: list[int] = []
    mapper = type(fmt).map_records

    def counted(self: object, recs: Records) -> Decoded:
        calls.append(len(recs.raws))
        return mapper(self, recs)  # type: ignore[arg-type]

    monkeypatch.setattr(type(fmt), "map_records", counted)
    svc = Service(tmp_path)
    _were_inside(arr, 4)
    results: dict[int, Decoded] = {}

    def send(k: int, body: bytes) -> None:
        with arr.request():
            recs = fmt.split_records(body, f"req{k}")
            results[k] = svc.accept_records(fmt, f"req{k}", body, recs)

    threads = []
    for k, body in enumerate(_bodies(real)):
        threads.append(threading.Thread(target=send, args=(k, body), daemon=True))
        threads[-1].start()
        deadline = time.monotonic() + 60  # a cap for a loaded host: the loop ends once the request is queued
        while k < 3 and svc._combiner._count < k + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        if k < 3:
            assert svc._combiner._count == k + 1 and arr.coming == 0, "queued and waiting, nobody on the way"
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert calls == [12], "one mapping pass over the four requests' records"
    assert {k: (r.events, len(r.dead)) for k, r in results.items()} == {k: (3, 0) for k in range(4)}
    svc.close()
