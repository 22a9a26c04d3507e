"""runtime.memory: glibc allocator settings at process start."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import textwrap

import pytest

from secpipe.runtime import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings are glibc's")
def test_tune_applies_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in [k for k in os.environ if k.startswith("MALLOC_")]:
        monkeypatch.delenv(k)
    assert memory.tune() is True


def test_operator_malloc_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert memory.tune() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings are glibc's")
def test_large_buffers_are_reused_not_faulted_in_again() -> None:
    """After tune, a freed 100 MB buffer is reused by the next one (a scanner report's
    document and copies are that size): five in a row fault their pages in about once, where
    glibc's defaults map and fault each afresh."""
    code = textwrap.dedent("""
        import resource, sys
        from secpipe.runtime import memory
        if sys.argv[1] == "tuned":
            assert memory.tune()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(5):
            b = bytearray(100 << 20)
            del b
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    faults = {mode: int(subprocess.run([sys.executable, "-c", code, mode], env=env, check=True,
                                       capture_output=True, text=True).stdout) for mode in ("default", "tuned")}  # fmt: skip
    pages = 5 * (100 << 20) // resource.getpagesize()
    assert faults["default"] >= pages * 0.9
    assert faults["tuned"] < pages * 0.4
