"""Per-key rate limits of a fake provider, and the ``retry-after`` headers both providers send."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from fakes.providers.keys import key_digest


@dataclass(frozen=True)
class RateLimit:
    """A key that is over its limit until cleared."""

    retry_after: float | None = None


def retry_after_headers(retry_after: float | str | None, retry_after_ms: int | None) -> dict[str, str]:
    """``retry-after`` in whole seconds when integral (what servers send) or verbatim when given as
    text (an HTTP-date), plus ``retry-after-ms``."""
    headers: dict[str, str] = {}
    if isinstance(retry_after, str):
        headers["retry-after"] = retry_after
    elif retry_after is not None:
        headers["retry-after"] = (
            str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        )
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return headers


class RateLimits(ABC):
    """Keys that answer 429 until cleared (unlike a queued fault, which hits any key once); keyed
    by the key's digest, like the key store."""

    _lock: threading.RLock

    @abstractmethod
    def _changed(self) -> None:
        """Called after every change (a persistent fake saves itself)."""

    def _clear_rate_limits(self) -> None:
        self.rate_limited: dict[str, RateLimit] = {}

    def rate_limit(self, key: str, *, retry_after: float | None = None) -> None:
        """Every request with ``key`` answers 429 until :meth:`clear_rate_limit`."""
        with self._lock:
            self.rate_limited[key_digest(key)] = RateLimit(retry_after)
            self._changed()

    def clear_rate_limit(self, key: str) -> None:
        with self._lock:
            self.rate_limited.pop(key_digest(key), None)
            self._changed()

    def rate_limit_for(self, key: str) -> RateLimit | None:
        with self._lock:
            return self.rate_limited.get(key_digest(key))
