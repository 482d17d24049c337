"""The clocks behind the ``Clock`` port.

Every time-dependent rule (streaming buffer, partition expiration, quotas, idempotency TTL) reads
one injected clock, so tests and scenarios move time forward instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    """Wall-clock time, for the live tiers."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe because the emulators serve threads."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2025, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        moment = moment.astimezone(UTC)
        with self._lock:
            if moment < self._now:
                raise ValueError("time only moves forward")
            self._now = moment
            return self._now
