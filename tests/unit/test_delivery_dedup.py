"""Delivery-id deduplication of the webhook and Firehose routes (``server.webhooks.Recent``).

A sender retries a delivery whose answer it did not get in time while the first attempt may
still be storing it. The retry must not be acknowledged before the first attempt's outcome is
known: if that attempt then fails, a retry answered "duplicate" would be a delivery lost.
"""

from __future__ import annotations

import asyncio

import pytest

from secpipe.server.webhooks import Recent

DISK_FULL = "disk full"


def test_a_stored_delivery_is_a_duplicate_and_a_failed_one_is_not() -> None:
    async def main() -> None:
        seen, stored = Recent(4), []

        async def store(tag: str) -> str:
            stored.append(tag)
            return tag

        async def fail() -> str:
            raise OSError(DISK_FULL)

        with pytest.raises(OSError):
            await seen.once("d1", fail)
        assert await seen.once("d1", lambda: store("retry")) == "retry"  # the failure was not remembered
        assert await seen.once("d1", lambda: store("again")) is None
        assert await seen.once("", lambda: store("no id")) == "no id"
        assert await seen.once("", lambda: store("no id 2")) == "no id 2"
        for i in range(5):  # capacity 4: the oldest id is forgotten
            await seen.once(f"x{i}", lambda: store("x"))
        assert await seen.once("d1", lambda: store("forgotten")) == "forgotten"
        assert stored == ["retry", "no id", "no id 2", "x", "x", "x", "x", "x", "forgotten"]

    asyncio.run(main())


@pytest.mark.parametrize("first_fails", [False, True])
def test_a_retry_during_the_first_attempt_waits_for_its_outcome(first_fails: bool) -> None:
    async def main() -> None:
        seen, gate, calls = Recent(8), asyncio.Event(), []

        async def first() -> str:
            calls.append("first")
            await gate.wait()
            if first_fails:
                raise OSError(DISK_FULL)
            return "first"

        async def retry() -> str:
            calls.append("retry")
            return "retry"

        a = asyncio.create_task(seen.once("d", first))
        await asyncio.sleep(0)
        b = asyncio.create_task(seen.once("d", retry))
        await asyncio.sleep(0.01)
        assert calls == ["first"] and not b.done()  # the retry is not answered yet
        gate.set()
        if first_fails:
            with pytest.raises(OSError):
                await a
            assert await b == "retry" and calls == ["first", "retry"]  # stored by the retry
        else:
            assert await a == "first" and await b is None and calls == ["first"]

    asyncio.run(main())


def test_a_waiting_retry_cancelled_does_not_cancel_the_first_attempt() -> None:
    async def main() -> None:
        seen, gate = Recent(8), asyncio.Event()

        async def first() -> str:
            await gate.wait()
            return "first"

        a = asyncio.create_task(seen.once("d", first))
        await asyncio.sleep(0)
        b = asyncio.create_task(seen.once("d", first))
        await asyncio.sleep(0.01)
        b.cancel()  # the retry's client went away
        await asyncio.sleep(0)
        gate.set()
        assert await a == "first"
        assert await seen.once("d", first) is None

    asyncio.run(main())
