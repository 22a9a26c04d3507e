"""Shared fixtures: paths to the shared real samples, temp data dirs, a running server."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings

# Hypothesis: no per-example deadline and no "too slow" health check (both measure wall time,
# which a loaded 2-core CI host stretches; a hang is still caught by pytest-timeout). In CI
# (CI set, as .ci/run does) the examples are derandomized: every run tries the same inputs, so a
# run's result never depends on luck; local runs keep exploring new ones.
settings.register_profile("secpipe", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True,
                          derandomize=bool(os.environ.get("CI")))
settings.load_profile("secpipe")

# httpx gives up after 5 s by default; a loaded 2-core CI host can take longer to answer a big
# ingest or a first query on loopback. The tests check what the servers answer, not how fast,
# so calls without their own timeout wait up to 60 s (a hang is still caught by pytest-timeout).
# Only the tests' calls change: secpipe's own clients pass their timeouts explicitly.
_httpx_default = httpx._config.DEFAULT_TIMEOUT_CONFIG
_httpx_default.connect = _httpx_default.read = _httpx_default.write = _httpx_default.pool = 60.0

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
