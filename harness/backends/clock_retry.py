"""The Google clients' own retries, waiting on the injected clock.

google-cloud-bigquery and google-cloud-kms retry through ``google.api_core.retry.Retry``, which
sleeps with ``time.sleep`` (random jitter, up to ten minutes) and measures its deadline with
``time.monotonic``. On the emulator tier that would make a scenario's "BigQuery is down for 20 s"
cost 20 real seconds, and a replay would not wait the same as the run it replays.

:func:`clock_retry` gives the adapters a ``Retry`` that keeps everything the client decides (its
predicate, its initial / maximum / multiplier and its deadline, read from the client's own
default retry) and changes only how time passes: the waits are
:func:`harness.backends.client_retry.call_with_retry` (no jitter: the loop the fake tier's ports
retry by too), the deadline is measured on the injected clock, and a wait is ``sleep(delay)``, which
advances the manual clock on the emulator tier and really sleeps on gcp. Giving up past the
deadline raises ``RetryError`` with the last error as its cause, as the library does (the
clients' job retry looks inside it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, ClassVar

from google.api_core import exceptions
from google.api_core.retry import Retry

from harness.backends.client_retry import RetryPolicy, call_with_retry
from harness.ports import Clock

Sleep = Callable[[float], None]


class ClockRetry(Retry):
    """A ``Retry`` that waits on :attr:`clock`. Never built directly: :func:`clock_retry` makes a
    subclass bound to one clock and sleep, so the copies the clients make with ``with_timeout``,
    ``with_deadline``, ``with_predicate`` or ``with_delay`` (``type(self)(...)``) stay bound."""

    clock: ClassVar[Clock]
    sleep: ClassVar[Sleep]

    def __call__(
        self, func: Callable[..., Any], on_error: Callable[[Exception], Any] | None = None
    ) -> Callable[..., Any]:
        on_error = self._on_error if self._on_error is not None else on_error

        @functools.wraps(func)
        def retried(*args: Any, **kwargs: Any) -> Any:
            return self._run(functools.partial(func, *args, **kwargs), on_error)

        return retried

    def _run(self, target: Callable[[], Any], on_error: Callable[[Exception], Any] | None) -> Any:
        """``retry_target`` of google.api_core, with the clock's time and no jitter."""
        timeout = self._timeout
        policy = RetryPolicy(
            self._initial, self._maximum, self._multiplier, math.inf if timeout is None else timeout
        )
        return call_with_retry(
            target,
            policy=policy,
            retryable=self._predicate,
            clock=type(self).clock,
            sleep=type(self).sleep,
            on_error=on_error,
            give_up=lambda exc: exceptions.RetryError(f"Timeout of {timeout:0.1f}s exceeded", exc),
        )


def clock_retry(clock: Clock, sleep: Sleep) -> Callable[[Retry], ClockRetry]:
    """A converter from a client's ``Retry`` to the same policy waiting on ``clock`` by ``sleep``."""
    bound = type("ClockRetry", (ClockRetry,), {"clock": clock, "sleep": staticmethod(sleep)})

    def on_clock(retry: Retry) -> ClockRetry:
        return bound(  # type: ignore[no-any-return]
            predicate=retry._predicate,
            initial=retry._initial,
            maximum=retry._maximum,
            multiplier=retry._multiplier,
            timeout=retry._timeout,
            on_error=retry._on_error,
        )

    return on_clock


__all__ = ["ClockRetry", "Sleep", "clock_retry"]
