"""Domain errors: a stable code, an HTTP status and a message a user can act on.

The services turn these into ``{"error": code, "message": ..., "error_id": ...}`` bodies; the
domain never imports the web framework.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "INVALID_REQUEST"
    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers or {}


class InvalidRequest(DomainError):
    code = "INVALID_REQUEST"
    status = 400


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404


class Conflict(DomainError):
    code = "CONFLICT"
    status = 409


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    status = 401


class Forbidden(DomainError):
    code = "FORBIDDEN"
    status = 403


class UpstreamUnavailable(DomainError):
    """A dependency (warehouse, KMS, provider) failed in a way the caller may retry."""

    code = "UPSTREAM_UNAVAILABLE"
    status = 503
