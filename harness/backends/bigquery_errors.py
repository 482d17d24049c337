"""Google API errors as the port's error taxonomy, for the google-cloud-bigquery adapter.

The status, the reason of the error body's first entry and its message are kept, so domain code
sees the same errors on the ``emulator`` and ``gcp`` tiers as on the in-process fake. Never imports
``fakes``: it runs against real BigQuery.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from google.api_core import exceptions as gexc

from harness.ports import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    ResourceInUseError,
    StreamingBufferError,
    TransientError,
    WarehouseError,
)

STREAMING_BUFFER_MARKER = "would affect rows in the streaming buffer"
_TRANSIENT_REASONS = frozenset(
    {
        "rateLimitExceeded",
        "quotaExceeded",
        "backendError",
        "internalError",
        "jobRateLimitExceeded",
        "jobBackendError",
        "jobInternalError",
    }
)
_JOB_ERROR_STATUS = {"jobBackendError": 400, "jobInternalError": 400, "timeout": 400, "stopped": 499}
"""A failed job's ``errorResult`` reaches the caller through the client as the exception of the
reason's status in google-cloud-bigquery's own table, where these reasons are missing (so 500) or
``stopped`` maps to 200. BigQuery answers them with 400 (``stopped``: 499, a cancelled job) on
``jobs.getQueryResults``; the port reports that status, as the in-process fake does."""


def _error_detail(exc: gexc.GoogleAPICallError) -> tuple[str | None, str]:
    """``(reason, message)`` from the error body (``error.errors[0]``), falling back to the
    exception's own message without the ``METHOD url:`` prefix the client adds."""
    reason: str | None = None
    message: str | None = None
    for err in exc.errors or ():
        if isinstance(err, Mapping):
            reason = reason or err.get("reason")
            message = message or err.get("message")
    if message is None:
        message = exc.message or str(exc)
        response = getattr(exc, "response", None)
        request = getattr(response, "request", None)
        if request is not None:
            prefix = f"{request.method} {request.url}: "
            if message.startswith(prefix):
                message = message[len(prefix) :]
    return reason, message


def map_google_error(exc: gexc.GoogleAPICallError) -> WarehouseError:
    """The port's error for a Google API error (status, reason and message kept)."""
    reason, message = _error_detail(exc)
    status = _JOB_ERROR_STATUS.get(reason or "") or (int(exc.code) if exc.code is not None else 500)
    if STREAMING_BUFFER_MARKER in message:
        return StreamingBufferError(message, reason=reason or "invalidQuery", status=status)
    if status >= 500 or status == 429 or (reason in _TRANSIENT_REASONS):
        return TransientError(message, reason=reason or "backendError", status=status)
    if status == 404 or isinstance(exc, gexc.NotFound):
        return NotFoundError(message, reason=reason or "notFound")
    if status == 409 or isinstance(exc, gexc.Conflict):
        return AlreadyExistsError(message, reason=reason or "duplicate")
    if reason == "resourceInUse":
        return ResourceInUseError(message)
    if status == 400:
        return InvalidRequestError(message, reason=reason or "invalid")
    return WarehouseError(message, reason=reason or "invalid", status=status)


@contextmanager
def mapped() -> Iterator[None]:
    """Google's errors as the port's. A retry that ran out of time (``RetryError``) is the error of
    its last attempt: the caller sees the same error with or without the client's retries."""
    try:
        yield
    except gexc.GoogleAPICallError as exc:
        raise map_google_error(exc) from exc
    except gexc.RetryError as exc:
        if isinstance(exc.cause, gexc.GoogleAPICallError):
            raise map_google_error(exc.cause) from exc
        raise TransientError(f"BigQuery did not answer: {exc.message}") from exc
