"""Request guards used by every authenticated route: per-token rate limits and auth auditing.

- :class:`RateLimiter`: a token bucket per API token (``rate`` requests/s, bursts up to
  ``burst``). :meth:`RateLimiter.check` returns 0 when the request may go on, else the
  seconds to wait, which the server sends as ``429`` with ``Retry-After``.
- :class:`AuthAuditor`: writes ``token.use`` to the audit log the first time a token is
  used (and again after ``use_interval`` seconds), and ``auth.denied`` for refused
  credentials or permissions, at most ``denied_per_minute`` entries a minute (the number
  suppressed is carried in the next entry), so a flood of bad tokens cannot flood the log.
Both are thread-safe and keep only small per-token state in memory; without a data
directory (``None``) the auditor records nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from secpipe.security import audit


class RateLimiter:
    """Token buckets keyed by token id."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """0 when allowed (one request is taken), else seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """A Retry-After header value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(seconds)))


class AuthAuditor:
    """Audit entries for token use and denials, bounded in volume."""

    def __init__(self, data_dir: Path | None, use_interval: float = 3600.0, denied_per_minute: int = 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.data_dir = data_dir
        self.use_interval = use_interval
        self.denied_per_minute = denied_per_minute
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._window = (0.0, 0)
        self._suppressed = 0
        self._lock = threading.Lock()

    def used(self, token_id: str, name: str, role: str, path: str) -> None:
        """A token was accepted for ``path``: audited once per ``use_interval``."""
        if self.data_dir is None:
            return
        now = self.clock()
        with self._lock:
            last = self._seen.get(token_id)
            if last is not None and now - last < self.use_interval:
                return
            self._seen[token_id] = now
        audit.record(self.data_dir, name, "token.use", token_id=token_id, role=role, path=path)

    def denied(self, who: str, reason: str, path: str, remote: str | None) -> None:
        """A request was refused (bad token or missing permission)."""
        if self.data_dir is None:
            return
        now = self.clock()
        with self._lock:
            start, count = self._window
            if now - start >= 60.0:
                start, count = now, 0
            if count >= self.denied_per_minute:
                self._suppressed += 1
                self._window = (start, count)
                return
            self._window = (start, count + 1)
            suppressed, self._suppressed = self._suppressed, 0
        audit.record(self.data_dir, who, "auth.denied", reason=reason, path=path, remote=remote,
                     suppressed_before=suppressed)
