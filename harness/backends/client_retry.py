"""The Google clients' retry policies, on the injected clock.

On the emulator and gcp tiers google-cloud-bigquery and google-cloud-kms retry transient errors
themselves (their ``DEFAULT_RETRY`` / ``DEFAULT_JOB_RETRY`` and the KMS methods' default retry).
The fake tier has no client, so without this module a BigQuery 503 would reach the domain at once
on the fake tier and only after ten minutes of retries on the emulator tier. Here the same policies
(predicates and backoff values read from the libraries, kept equal by
``tests/test_client_retry.py``) wrap the fake tier's ports, and :func:`backoff` is the one
schedule both tiers wait by: no jitter, so a run replays exactly, and every wait is a move of the
injected clock (slept only on gcp, where the clock is real).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from harness.faults.proxy import PortProxy
from harness.ports import Clock, KeyManager, KeyManagerError, Warehouse, WarehouseError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    initial: float
    maximum: float
    multiplier: float
    deadline: float
    """Seconds of the clock after the first attempt past which no new attempt starts."""


BIGQUERY_RETRY = RetryPolicy(initial=1.0, maximum=60.0, multiplier=2.0, deadline=600.0)
"""google.cloud.bigquery.retry.DEFAULT_RETRY: every API call."""
BIGQUERY_JOB_RETRY = RetryPolicy(initial=1.0, maximum=60.0, multiplier=2.0, deadline=2400.0)
"""google.cloud.bigquery.retry.DEFAULT_JOB_RETRY: a query job is re-run."""
KMS_RETRY = RetryPolicy(initial=0.1, maximum=60.0, multiplier=1.3, deadline=60.0)
"""The default retry google-cloud-kms gives Encrypt, Decrypt and GetCryptoKey."""

BIGQUERY_RETRY_REASONS = frozenset({"rateLimitExceeded", "backendError", "internalError", "badGateway"})
"""google.cloud.bigquery.retry._RETRYABLE_REASONS."""
BIGQUERY_JOB_RETRY_REASONS = frozenset({"jobBackendError", "jobInternalError", "jobRateLimitExceeded"})
"""google.cloud.bigquery.retry.job_retry_reasons (on top of the API reasons)."""
KMS_RETRY_CODES = frozenset({"UNAVAILABLE"})
"""What the KMS methods' predicate (ServiceUnavailable, DeadlineExceeded) matches over REST, the
transport the adapters use: a 504 DEADLINE_EXCEEDED arrives as ``GatewayTimeout``, which it does
not match, so the real client does not retry it (the gRPC transport would)."""

_JOB_METHODS = frozenset({"query", "execute", "insert_rows"})
"""Port methods that run a query job (``insert_rows`` writes with an INSERT job by default)."""


def backoff(policy: RetryPolicy) -> Iterator[float]:
    """The waits between attempts: ``initial``, times ``multiplier`` each time, capped."""
    delay = policy.initial
    while True:
        yield min(delay, policy.maximum)
        delay *= policy.multiplier


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    retryable: Callable[[Exception], bool],
    clock: Clock,
    sleep: Callable[[float], None],
    on_error: Callable[[Exception], object] | None = None,
    give_up: Callable[[Exception], BaseException] | None = None,
) -> T:
    """``fn()`` until it succeeds, fails with what the policy does not retry, or the next attempt
    would start past the deadline (an infinite deadline never passes). Past the deadline the
    error ``give_up`` builds from the last one is raised (the real clients' ``RetryError``), else
    the last error itself, as the port sees it once the ``RetryError`` is unwrapped."""
    deadline = clock.now() + timedelta(seconds=policy.deadline) if math.isfinite(policy.deadline) else None
    for delay in backoff(policy):
        try:
            return fn()
        except Exception as exc:
            if not retryable(exc):
                raise
            if on_error is not None:
                on_error(exc)
            if deadline is not None and clock.now() + timedelta(seconds=delay) > deadline:
                if give_up is None:
                    raise
                raise give_up(exc) from exc
        sleep(delay)
    raise AssertionError("unreachable: backoff() never ends")


def bigquery_retryable(exc: Exception, *, job: bool) -> bool:
    if not isinstance(exc, WarehouseError):
        return False
    reasons = BIGQUERY_RETRY_REASONS | (BIGQUERY_JOB_RETRY_REASONS if job else frozenset())
    return exc.reason in reasons


def kms_retryable(exc: Exception) -> bool:
    return isinstance(exc, KeyManagerError) and exc.code in KMS_RETRY_CODES


class _Retrying(PortProxy):
    def __init__(self, inner: Any, clock: Clock, sleep: Callable[[float], None]) -> None:
        super().__init__(inner)
        self._clock = clock
        self._sleep = sleep

    @abstractmethod
    def _policy(self, name: str) -> tuple[RetryPolicy, Callable[[Exception], bool]]:
        """The policy and predicate the client applies to the port method ``name``."""

    def _call(
        self, name: str, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if name == "close":
            return method(*args, **kwargs)
        policy, retryable = self._policy(name)
        return call_with_retry(
            lambda: method(*args, **kwargs),
            policy=policy,
            retryable=retryable,
            clock=self._clock,
            sleep=self._sleep,
        )


class RetryingWarehouse(_Retrying):
    """A ``Warehouse`` that retries as google-cloud-bigquery does (job retry for query jobs)."""

    def __init__(self, inner: Warehouse, clock: Clock, sleep: Callable[[float], None]) -> None:
        super().__init__(inner, clock, sleep)
        self.project = inner.project

    def _policy(self, name: str) -> tuple[RetryPolicy, Callable[[Exception], bool]]:
        job = name in _JOB_METHODS
        return (BIGQUERY_JOB_RETRY if job else BIGQUERY_RETRY), (lambda exc: bigquery_retryable(exc, job=job))


class RetryingKeyManager(_Retrying):
    """A ``KeyManager`` that retries as google-cloud-kms does."""

    def __init__(self, inner: KeyManager, clock: Clock, sleep: Callable[[float], None]) -> None:
        super().__init__(inner, clock, sleep)
        self.key_name = inner.key_name

    def _policy(self, name: str) -> tuple[RetryPolicy, Callable[[Exception], bool]]:
        return KMS_RETRY, kms_retryable


__all__ = [
    "BIGQUERY_JOB_RETRY",
    "BIGQUERY_JOB_RETRY_REASONS",
    "BIGQUERY_RETRY",
    "BIGQUERY_RETRY_REASONS",
    "KMS_RETRY",
    "KMS_RETRY_CODES",
    "RetryPolicy",
    "RetryingKeyManager",
    "RetryingWarehouse",
    "backoff",
    "call_with_retry",
]
