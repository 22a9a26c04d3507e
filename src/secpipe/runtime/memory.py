"""Process-wide allocator settings for a batch pipeline (glibc malloc; a no-op elsewhere).

Design: secpipe allocates and frees many large short-lived buffers (a decompressed file, the
joined records of a batch, encoded columns). glibc hands blocks over its mmap threshold
straight to the kernel and unmaps them on free, and trims the heap top above 128 KiB, so
every batch pays page faults again for memory the previous batch just returned: measured
as 0.3-0.4 s of system time on the 200 MB CloudTrail benchmark (~8% of the run). Raising
the mmap threshold and the trim threshold to 1 GiB keeps those pages in the process for
reuse. The threshold is 1 GiB, not the 32 MiB older glibc caps it at, because one scanner
report is often hundreds of MB (its document, its compact copy, its record list): at 32 MiB
every Snyk or Trivy report was mapped and faulted in afresh (measured: Snyk 47-51k -> 55-58k,
Trivy 66-70k -> 77-90k findings per CPU-second). Where glibc refuses 1 GiB, 32 MiB is used.

Transparent huge pages (:func:`no_huge_pages`): Arrow's allocator (mimalloc) reserves its arenas
with ``MADV_HUGEPAGE``, so where THP is in ``madvise`` mode (the usual default) the first touch
of each 2 MiB of them faults a huge page the kernel zeroes whole, and memory mimalloc purges and
takes back is zeroed 2 MiB at a time again. The protect stages (redact, tokenize, mask) rewrite
``raw_data`` and other text columns batch after batch, and on this project's VM (session 26) a
200 MB CloudTrail ingest with tokenize + redact + encryption spent 0.9-2.1 s of system time with
THP against 0.38-0.66 s without (quiet window, alternated: 5.68/5.29 against 4.41/4.21 CPU-s;
loaded: 6.7 against 5.6). Without those stages THP pays off when the host is quiet (2.61/2.29/2.65
with against 2.72/2.54/2.86 CPU-s without: fewer TLB misses) and costs when it is loaded (memory
compaction: 2.88-3.31 against 2.53-2.95). So a pipeline with a protect stage turns THP off for
its process (``runtime.topology.build_stages``), as Redis and MongoDB do for themselves; others
keep the kernel's setting. ``prctl(PR_SET_THP_DISABLE)`` applies to the process and those it
starts, from the next page fault on, in every mapping; ``SECPIPE_THP=1`` keeps huge pages.

Guarantees: call :func:`tune` once at process start, :func:`no_huge_pages` when the pipeline is known; they never raise,
change nothing where the C library is not glibc or the kernel not Linux, and leave an
operator's own ``MALLOC_*`` (``SECPIPE_THP``) environment settings alone. Peak memory is
unchanged (the pages were needed at the peak anyway); what changes is that the process does
not hand them back between batches, and takes them 4 KiB at a time.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP = 1 << 30
_MMAP_OLD_MAX = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: what glibc before 2.26 accepts at most
_TRIM = 1 << 30
_PR_SET_THP_DISABLE = 41  # linux/prctl.h


def tune() -> bool:
    """Apply the settings above; True when glibc took them."""
    if any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:  # the process's own symbols: libc is loaded already (find_library would run ldconfig)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): keep the defaults
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mapped = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP)) or bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_OLD_MAX))
    return mapped and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM))


def no_huge_pages() -> bool:
    """Turn transparent huge pages off for this process (see the module docstring); True when
    the kernel took it."""
    if os.environ.get("SECPIPE_THP", "") not in ("", "0"):
        return False
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):  # not Linux's C library
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
