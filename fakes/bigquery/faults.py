"""Which real BigQuery error each warehouse fault kind answers (``harness.faults``' vocabulary).

One table for both faces: the fake tier raises the error at the port, the REST emulator renders
the same class on the wire (``job_failed`` and ``timeout`` as a job that was accepted and then
failed, as BigQuery does)."""

from __future__ import annotations

from fakes.bigquery import exceptions as bq
from harness.faults.backend import BackendFault, PortCall

ERRORS: dict[str, type[bq.BigQueryError]] = {
    "rate_limit_exceeded": bq.RateLimitExceeded,
    "quota_exceeded": bq.QuotaExceeded,
    "backend_error": bq.BackendError,
    "service_unavailable": bq.ServiceUnavailable,
    "invalid_query": bq.QuerySyntaxError,
    "job_failed": bq.JobBackendError,
    "timeout": bq.JobTimeout,
}

JOB_FAILURES = frozenset({"job_failed", "timeout"})
"""Kinds BigQuery reports on a job it accepted, not as the answer to the request."""


def error_for(fault: BackendFault, call: PortCall | None = None) -> bq.BigQueryError:
    """The error a fault answers. ``invalid_query`` reads like a syntax error at the start."""
    cls = ERRORS[fault.error]
    if cls is bq.QuerySyntaxError:
        return cls(detail="Unexpected keyword FAULT at [1:1]")
    return cls()


__all__ = ["ERRORS", "JOB_FAILURES", "error_for"]
