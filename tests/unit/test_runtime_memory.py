"""runtime.memory: glibc allocator settings at process start."""

from __future__ import annotations

import os
import platform

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
