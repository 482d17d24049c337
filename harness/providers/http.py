"""HTTP plumbing shared by the provider clients: client construction, bounded retries.

Why one module: OpenAI and Anthropic fail the same ways (429 with ``retry-after``, 5xx, 529
overloaded, timeouts), and a credential check must neither hang a request handler nor give up on
the first blip. So every provider call goes through :func:`send_with_retries`:

* at most ``RetryPolicy.max_attempts`` requests in total;
* retried: 408, 409, 429 and every 5xx (529 included), timeouts and network errors; the server's
  ``x-should-retry: true|false`` overrides the status (both providers' SDKs honour it);
* the wait before a retry is the server's hint — ``retry-after-ms``, else ``retry-after`` as
  seconds or an HTTP-date (measured against the injected clock) — when it is positive and at most
  ``max_retry_after``; otherwise exponential backoff ``initial_backoff * 2**n`` capped at
  ``max_backoff`` (the SDKs' convention);
* waits go through an injected ``sleep`` (``time.sleep`` in production, a recorder in tests), so
  tests assert the waits without waiting;
* when the budget is spent: :class:`~harness.ports.ProviderUnavailableError`.
"""

from __future__ import annotations

import functools
import math
import os
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx

from harness.clock import SystemClock
from harness.ports import Clock, CredentialCheck, Provider, ProviderUnavailableError

Sleep = Callable[[float], None]

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "cloudact-harness/0.1"
MALFORMED_KEY_MESSAGE = (
    "The API key contains characters that cannot be sent in an HTTP header; nothing was sent."
)

# Exceptions worth another attempt: the request may not have reached the provider, or its answer
# did not reach us. Everything else (bad URL, a strict mock's AssertionError...) propagates.
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts requests, not retries (4 = 1 + 3 retries)."""

    max_attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("backoff and retry-after bounds must be >= 0")

    def backoff(self, retry_number: int) -> float:
        """Wait before retry ``retry_number`` (1-based) when the server gave no usable hint."""
        return min(self.max_backoff, self.initial_backoff * 2 ** (retry_number - 1))


def build_client(
    base_url: str = "",
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` with explicit timeouts (httpx's 5 s default is implicit and reads as a
    hang to users) and no redirects (an API that redirects is misconfigured, not to be followed)."""
    return httpx.Client(
        base_url=base_url,
        timeout=timeout,
        transport=transport,
        headers={"user-agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
        verify=tls_context(),
    )


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context of the current CA source, shared: a transport built apart from
    :func:`build_client` (a client given a transport ignores ``verify``) takes this one too."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """One TLS context per CA source (httpx's own choice: ``SSL_CERT_FILE``, ``SSL_CERT_DIR``,
    else certifi), shared by every client: loading the CA bundle costs tens of milliseconds, and a
    client is built for each credential check and pipeline run. An ``SSLContext`` is safe to share
    between connections and threads."""
    return httpx.create_ssl_context()


def parse_retry_after(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, else ``retry-after`` (seconds or an
    HTTP-date, compared with ``now``). None when absent or unparseable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return (when - now).total_seconds()
    return value if math.isfinite(value) else None


def should_retry(response: httpx.Response) -> bool:
    flag = response.headers.get("x-should-retry")
    if flag == "true":
        return True
    if flag == "false":
        return False
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def retry_wait(
    policy: RetryPolicy, retry_number: int, response: httpx.Response | None, now: datetime
) -> float:
    """The wait before retry ``retry_number``: the server's hint if sane, else backoff."""
    if response is not None:
        hint = parse_retry_after(response.headers, now)
        if hint is not None and 0 < hint <= policy.max_retry_after:
            return hint
    return policy.backoff(retry_number)


def send_with_retries(
    client: httpx.Client,
    request: httpx.Request,
    *,
    provider: Provider,
    policy: RetryPolicy,
    sleep: Sleep,
    clock: Clock,
) -> httpx.Response:
    """Send ``request``; retry per ``policy``; return the first non-retryable response.

    Raises :class:`ProviderUnavailableError` (``status`` = the last HTTP status, None after a
    timeout) once ``policy.max_attempts`` requests have all failed retryably.
    """
    request.read()
    failure = ""
    status: int | None = None
    for attempt in range(1, policy.max_attempts + 1):
        response: httpx.Response | None
        try:
            response = client.send(request)
        except RETRYABLE_ERRORS as exc:
            response, status, failure = None, None, f"{type(exc).__name__}: {exc}"
        else:
            if not should_retry(response):
                return response
            status, failure = response.status_code, describe_failure(response)
        if attempt < policy.max_attempts:
            sleep(retry_wait(policy, attempt, response, clock.now()))
    raise ProviderUnavailableError(
        provider,
        f"{provider.value} {request.method} {request.url.path} failed {policy.max_attempts} "
        f"time(s); last failure: {failure}",
        status=status,
    )


def describe_failure(response: httpx.Response) -> str:
    error_type, message = parse_error(response)
    return f"{response.status_code} {error_type or response.reason_phrase}: {message or ''}".strip()


def parse_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """``(type, message)`` from either provider's error body; both nest them under ``"error"``
    (OpenAI ``{"error": {...}}``, Anthropic ``{"type": "error", "error": {...}}``). A non-JSON
    body (a proxy's HTML page) yields ``(None, first 200 characters)``."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return None, text[:200] or None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        type_, message = error.get("type"), error.get("message")
        return (type_ if isinstance(type_, str) else None, message if isinstance(message, str) else None)
    return None, None


def sendable_header_value(value: str) -> bool:
    """True when ``value`` can travel in an HTTP header (visible ASCII and spaces)."""
    return all(" " <= ch <= "~" for ch in value)


class ProviderHttpClient(ABC):
    """What every provider client shares: a base URL, an httpx client (built lazily, or the
    caller's, which is never closed here), timeouts, the retry policy, and an injectable sleep and
    clock so retry waits are asserted, not waited for."""

    provider: Provider
    default_base_url: str

    def __init__(
        self,
        *,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock or SystemClock()

    @abstractmethod
    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The provider's authentication headers for ``api_key``."""

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = build_client(timeout=self._timeout)
        return self._client

    def close(self) -> None:
        """Close the client built here (a client passed in belongs to the caller)."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ModelsEndpointValidator(ProviderHttpClient):
    """Validate a key with ``GET {base}/v1/models``, the cheapest authenticated call both providers
    offer. Subclasses supply the auth headers and the default base URL.

    Outcome: 2xx → valid; any other non-retryable status → invalid with the provider's error type
    and message (401/403 are the expected ones; a 400 means *our* request was wrong and is reported
    the same way so the caller sees it); retries exhausted → ``ProviderUnavailableError``. A key
    that cannot be put in a header at all is rejected locally with ``status=0`` (nothing sent).
    """

    path = "/v1/models"

    def validate(self, api_key: str) -> CredentialCheck:
        key = api_key.strip()
        if not sendable_header_value(key):
            return CredentialCheck(
                valid=False,
                status=0,
                error_type="malformed_api_key",
                message=MALFORMED_KEY_MESSAGE,
            )
        request = self.client.build_request("GET", self.base_url + self.path, headers=self.auth_headers(key))
        response = send_with_retries(
            self.client,
            request,
            provider=self.provider,
            policy=self.retry,
            sleep=self._sleep,
            clock=self._clock,
        )
        if response.is_success:
            return CredentialCheck(valid=True, status=response.status_code)
        error_type, message = parse_error(response)
        return CredentialCheck(
            valid=False, status=response.status_code, error_type=error_type, message=message
        )
