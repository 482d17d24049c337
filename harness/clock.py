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


class WallClock(ManualClock):
    """Wall-clock time plus however far it has been advanced; never goes backwards.

    A served process (``harness serve``, ``harness emulators up``) should move on its own, yet a
    test control must still be able to push it ahead; being a ``ManualClock`` means everything
    built for the fake tier accepts it (retry waits advance it instead of sleeping).
    """

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._offset = timedelta(0)
        self._last = self._now

    def _read(self) -> datetime:
        """Caller holds the lock. The high-water mark hides a wall clock stepped back (NTP)."""
        self._last = max(self._last, datetime.now(UTC) + self._offset)
        return self._last

    def now(self) -> datetime:
        with self._lock:
            return self._read()

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += delta
            return self._read()

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("WallClock.set needs a timezone-aware time")
        with self._lock:
            current = self._read()
            if moment < current:
                raise ValueError("time only moves forward")
            self._offset += moment - current
            return self._read()
