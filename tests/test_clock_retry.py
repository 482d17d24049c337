"""``harness.backends.clock_retry``: a Google client's own retry policy, waiting on the injected
clock, kept through the copies the clients make of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions as gexc
from google.cloud.bigquery import retry as bq_retry

from harness.backends.clock_retry import ClockRetry, clock_retry
from harness.clock import ManualClock

UNAVAILABLE = gexc.ServiceUnavailable("down", errors=[{"reason": "backendError"}])


class Flaky:
    """Fails with ``error`` ``failures`` times, then answers ``"ok"``; counts the attempts."""

    def __init__(self, failures: int, error: Exception = UNAVAILABLE) -> None:
        self.failures = failures
        self.error = error
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        return "ok"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 1, 1, tzinfo=UTC))


def _on(clock: ManualClock) -> tuple[ClockRetry, list[float]]:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    return clock_retry(clock, sleep)(bq_retry.DEFAULT_RETRY), waits


def test_the_clients_policy_waits_its_backoff_on_the_clock(clock: ManualClock) -> None:
    retry, waits = _on(clock)
    flaky = Flaky(4)
    assert retry(flaky)() == "ok"
    assert flaky.attempts == 5 and waits == [1, 2, 4, 8]
    assert clock.now() == datetime(2025, 1, 1, 0, 0, 15, tzinfo=UTC)


def test_past_the_deadline_it_raises_retry_error_with_the_last_error(clock: ManualClock) -> None:
    retry, waits = _on(clock)
    short = retry.with_deadline(5)
    assert isinstance(short, ClockRetry) and short.timeout == 5
    flaky = Flaky(100)
    with pytest.raises(gexc.RetryError) as gave_up:
        short(flaky)()
    assert gave_up.value.cause is UNAVAILABLE and "Timeout of 5.0s exceeded" in gave_up.value.message
    assert flaky.attempts == 3 and waits == [1, 2]  # the next wait (4) would end past 5 s


def test_copies_keep_the_clock(clock: ManualClock) -> None:
    retry, waits = _on(clock)
    never = retry.with_predicate(lambda exc: False)
    flaky = Flaky(1)
    with pytest.raises(gexc.ServiceUnavailable):
        never(flaky)()
    assert flaky.attempts == 1 and waits == []
    slow = retry.with_timeout(None).with_delay(initial=3, multiplier=1)
    assert slow(Flaky(3))() == "ok" and waits == [3, 3, 3]


def test_on_error_sees_every_retried_error(clock: ManualClock) -> None:
    retry, _ = _on(clock)
    seen: list[Exception] = []
    assert retry(Flaky(2), on_error=seen.append)() == "ok"
    assert seen == [UNAVAILABLE, UNAVAILABLE]
