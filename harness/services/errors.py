"""One error shape for every failure: ``{"error", "message", "error_id"}`` (+ ``details``).

Validation errors, unknown routes, domain errors, backend failures and unexpected exceptions all
leave in that shape; the ``error_id`` is logged with the failure so a user's report can be traced.
No stack trace or secret ever reaches a response body.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.onboarding.errors import DomainError
from harness.ports import KeyManagerError, WarehouseError

log = logging.getLogger("harness.services")

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
    exc: BaseException | None = None,
) -> JSONResponse:
    error_id = str(uuid.uuid4())
    body: dict[str, Any] = {"error": code, "message": message, "error_id": error_id}
    if details is not None:
        body["details"] = details
    if code == "INTERNAL_ERROR":
        log.error("error_id=%s status=%s code=%s: %s", error_id, status, code, message, exc_info=exc)
    elif status >= 500:
        # A known failure upstream (warehouse, KMS, provider): the message says it all, no traceback.
        log.warning("error_id=%s status=%s code=%s: %s", error_id, status, code, message)
    else:
        log.info("error_id=%s status=%s code=%s: %s", error_id, status, code, message)
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(WarehouseError, _warehouse)
    app.add_exception_handler(KeyManagerError, _kms)
    app.add_exception_handler(Exception, _unexpected)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: pydantic's "input" would echo submitted values, secrets included.
    problems: list[dict[str, str]] = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ()))
        problem = {"field": field, "message": error.get("msg", "invalid")}
        if problem not in problems:  # a path parameter shared by a route and its auth dependency
            problems.append(problem)
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return error_response(422, "VALIDATION_ERROR", f"Invalid request: {summary}", details=problems)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _warehouse(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WarehouseError)
    if exc.retryable:
        return error_response(
            503, "WAREHOUSE_UNAVAILABLE", f"The warehouse is unavailable: {exc.message}", exc=exc
        )
    return error_response(
        502, "WAREHOUSE_ERROR", f"The warehouse refused the operation: {exc.message}", exc=exc
    )


async def _kms(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KeyManagerError)
    status = 503 if exc.retryable else 502
    return error_response(status, "KMS_ERROR", f"Cloud KMS failed: {exc.code}: {exc.message}", exc=exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return error_response(
        500, "INTERNAL_ERROR", "Internal error; quote the error_id when reporting it", exc=exc
    )
