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

Guarantees: call :func:`tune` once at process start; it never raises, changes nothing where
the C library is not glibc, and leaves an operator's own ``MALLOC_*`` environment settings
alone. Peak memory is unchanged (the pages were needed at the peak anyway); what changes is
that the process does not hand them back between batches.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP = 1 << 30
_MMAP_OLD_MAX = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: what glibc before 2.26 accepts at most
_TRIM = 1 << 30


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
