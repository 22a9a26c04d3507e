"""Shared fixtures: paths to the shared real samples, temp data dirs, a running server."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL = SHARED / "data" / "real"
CASES = REPO / "tests" / "cases"


@pytest.fixture
def real() -> Path:
    """The real third-party samples (../shared/data/real)."""
    if not REAL.is_dir():
        pytest.fail(f"real samples not found at {REAL}: the shared/ folder must sit beside the repo")
    return REAL


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh secpipe data directory."""
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def python_only(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A function that turns the native extension (``secpipe.formats._fast``) off for the rest
    of the test, so a format's msgspec path can be compared with its native one."""
    from secpipe.formats import _fast

    def off() -> None:
        monkeypatch.setenv("SECPIPE_NATIVE", "0")
        _fast._module.cache_clear()

    yield off
    monkeypatch.delenv("SECPIPE_NATIVE", raising=False)
    _fast._module.cache_clear()
