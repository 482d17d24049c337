"""Queued faults of a fake provider: the next requests fail with a status, or answer slowly.

Delays are *recorded*, never slept; the in-process mount turns a delay longer than the client's
read timeout into ``ReadTimeout``, the served emulator waits it out (``fakes.providers.served``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

# A timeout fault "takes" this long: longer than any sane client read timeout.
NEVER = math.inf


@dataclass
class Fault:
    """The next ``remaining`` requests answer ``status`` (or, with ``status=None``, answer normally
    but take ``delay`` seconds). ``retry_after`` is seconds, or a raw header value such as an
    HTTP-date; ``headers`` are added to the faulty response (e.g. ``x-should-retry``)."""

    status: int | None
    remaining: int
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


class FaultQueue:
    """Faults in the order they were queued; the app takes one use of the head per request."""

    _lock: threading.RLock

    def _clear_faults(self) -> None:
        self._faults: list[Fault] = []

    def add_fault(
        self,
        status: int | None,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        retry_after_ms: int | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a fault: the next ``times`` requests answer ``status`` (429, 500, 503, 529...).

        ``status=None`` with a ``delay`` answers normally but slowly; faults queue in order.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"a fault status must be 4xx or 5xx, got {status}")
        if delay < 0:
            raise ValueError("delay must be >= 0")
        with self._lock:
            self._faults.append(Fault(status, times, retry_after, retry_after_ms, delay, dict(headers or {})))

    def add_timeout(self, *, times: int = 1, delay: float = NEVER) -> None:
        """The next ``times`` requests take ``delay`` seconds (default: never answer), which the
        in-process mount turns into ``ReadTimeout`` when it exceeds the client's read timeout."""
        self.add_fault(None, times=times, delay=delay)

    def take_fault(self) -> Fault | None:
        """Consume one use of the head fault; the app calls this once per request."""
        with self._lock:
            if not self._faults:
                return None
            head = self._faults[0]
            head.remaining -= 1
            if head.remaining == 0:
                self._faults.pop(0)
            return replace(head, headers=dict(head.headers))

    def clear_faults(self) -> int:
        """Drop every queued fault (the control plane's ``DELETE``); returns how many there were."""
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [replace(f) for f in self._faults]
