"""The server's worker threads: blocking request work (decode, WAL fsync, lake reads) is run
here from the event loop, with :func:`in_thread`."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")
#: the worker threads of blocking request work (decode, WAL fsync, lake reads); 40 like anyio's
#: default limit, as a request may wait in the combiner for others (runtime/combine.py)
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="secpipe-http")


async def in_thread(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking ``fn`` in a worker thread, in a copy of the caller's context (the combiner's
    request mark flows in: :meth:`Arrivals.request`), and await its result.

    asyncio's own executor hand-off: Starlette's ``run_in_threadpool`` (anyio's
    ``to_thread.run_sync``: a capacity limiter, cancel scopes, async-library detection, each
    asking the running loop and so calling ``getpid``) cost 76-80 us of CPU a hand-off on this
    project's test host where this costs 50-54 (uvloop, a no-op function, 20k hand-offs, pinned;
    session 36), and ~11% of the GIL time of 125-record ``_bulk`` requests. As there, the work
    runs to its end even if the awaiting request is cancelled: what it stored stays stored."""
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, partial(ctx.run, fn, *args, **kwargs))
