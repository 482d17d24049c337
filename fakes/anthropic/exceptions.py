"""The Anthropic API's own error bodies, one class per real error the fake sends (moto's discipline).

Each class carries the HTTP status, Anthropic's error ``type`` (the documented type per status,
platform.claude.com/docs/en/api/errors), the message template, and says where the text was seen
(``confirmed``) or what was searched when no real response was found (``searched``); an unconfirmed
text is our wording in Anthropic's style and must not be matched on as Anthropic's
(:func:`fakes.errors.text_is_confirmed`). The class also renders the real JSON body,
``{"type": "error", "error": {"type", "message"}, "request_id"}``, so the routes only raise.

These are wire errors of a fake server: no domain code catches them (the domain sees the HTTP
answer through ``harness.providers``), so they subclass ``Exception``, not a ``harness.ports`` class.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from fakes.errors import RealError

# Documented error type per status (platform.claude.com/docs/en/api/errors).
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_REPORT_400 = (
    'the wording copies the "field: problem" validation style of Anthropic\'s other endpoints '
    '(e.g. "max_tokens: Field required"); not confirmed for the usage and cost reports'
)


class AnthropicError(RealError, Exception):
    """An Anthropic error body."""

    status: int = 400
    error_type: ClassVar[str] = "invalid_request_error"
    template: ClassVar[str] = ""

    def __init__(self, *, status: int | None = None, **values: object) -> None:
        self.message = self.template.format(**values)
        super().__init__(self.message)
        if status is not None:  # a fault injected with another status of the same kind (502...)
            self.status = status

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body Anthropic sends for this error."""
        error = {"type": self.error_type, "message": self.message}
        return {"type": "error", "error": error, "request_id": request_id}


# ------------------------------------------------------------------------------------------ 401
class MissingApiKey(AnthropicError):
    status = 401
    error_type = "authentication_error"
    template = "x-api-key header is required"
    confirmed = "n8n-io/n8n#37930, karthink/gptel#354"


class InvalidApiKey(AnthropicError):
    """An unknown key; also a key of the wrong kind (an admin key on an inference endpoint, a plain
    key on the Admin API): Anthropic documents admin keys as a separate kind only the Admin API
    accepts, and a public client treats "401 invalid x-api-key" from cost_report as "not an Admin
    API key" (that use of this body is not confirmed, the text is)."""

    status = 401
    error_type = "authentication_error"
    template = "invalid x-api-key"
    confirmed = "abi/screenshot-to-code#272"


# ------------------------------------------------------------------------- 400 on the headers
class MissingVersion(AnthropicError):
    template = "anthropic-version: header is required"
    confirmed = "envoyproxy/ai-gateway#1909"


class InvalidVersion(AnthropicError):
    template = 'anthropic-version: "{version}" is not a valid version'
    confirmed = "directus-labs/extensions#285"


# ------------------------------------------------------------------------------------ 429 / 5xx
class RateLimited(AnthropicError):
    status = 429
    error_type = "rate_limit_error"
    template = "This request would exceed your account's rate limit. Please try again later."
    confirmed = "gsd-build/gsd-2#32"


class Overloaded(AnthropicError):
    status = 529
    error_type = "overloaded_error"
    template = "Overloaded"
    confirmed = "anthropics/claude-code#35792 (529)"


class ApiError(AnthropicError):
    status = 500
    error_type = "api_error"
    template = "Internal server error"
    confirmed = "anthropics/claude-code#61368 (500)"


class InjectedStatus(AnthropicError):
    """A queued fault with a 4xx status Anthropic has no fixed body for: the documented type for the
    status and the HTTP reason phrase."""

    template = "{phrase}"
    searched = "no single real body exists for an arbitrary status; the text is the HTTP reason phrase"

    def __init__(self, status: int) -> None:
        super().__init__(status=status, phrase=HTTPStatus(status).phrase)

    def body(self, request_id: str) -> dict[str, Any]:
        error = {"type": ERROR_TYPES.get(self.status, "invalid_request_error"), "message": self.message}
        return {"type": "error", "error": error, "request_id": request_id}


# ------------------------------------------------------------------------------------------ 404
class ModelNotFound(AnthropicError):
    status = 404
    error_type = "not_found_error"
    template = "model: {model_id}"
    searched = (
        'the Messages API answers an unknown model like this (404 not_found_error "model: sonnet4", '
        "anthropics/claude-code#5349); searched issues for GET /v1/models/{id} with an unknown id and "
        "found no body, so not confirmed for that endpoint"
    )


class NotFound(AnthropicError):
    status = 404
    error_type = "not_found_error"
    template = "Not Found"
    searched = "no real answer to an unknown path was found; the HTTP reason phrase"


# ------------------------------------------------------------------------- 400 on GET /v1/models
class ModelsLimitOutOfRange(AnthropicError):
    template = "limit: Input should be between 1 and {maximum}"
    searched = (
        "no real answer to an out-of-range limit on GET /v1/models was found; the wording copies "
        'the "field: problem" validation style of Anthropic\'s other endpoints'
    )


# --------------------------------------------------------------- 400 on the usage and cost reports
class BracketsRequired(AnthropicError):
    template = "Invalid parameter `{name}`. Use `{name}[]` for array parameters."
    confirmed = (
        "quoted in a public client's test suite as the API's answer to group_by=model; "
        "not in Anthropic's docs"
    )


class FieldRequired(AnthropicError):
    template = "{name}: Field required"
    searched = _REPORT_400


class InvalidDatetime(AnthropicError):
    template = "{name}: Input should be a valid datetime"
    searched = _REPORT_400


class MissingTimezone(AnthropicError):
    template = "{name}: Input should have timezone info"
    searched = _REPORT_400


class InvalidLiteral(AnthropicError):
    """A value outside an enumeration (``bucket_width``, ``group_by.N``)."""

    template = "{name}: Input should be {choices}"
    searched = _REPORT_400


class LimitNotInteger(AnthropicError):
    template = "limit: Input should be a valid integer, unable to parse string as an integer"
    searched = _REPORT_400


class LimitBelowMinimum(AnthropicError):
    template = "limit: Input should be greater than or equal to 1"
    searched = _REPORT_400


class LimitAboveMaximum(AnthropicError):
    template = "limit: Input should be less than or equal to {maximum}"
    searched = _REPORT_400


class InvalidPageToken(AnthropicError):
    template = "page: Invalid page token"
    searched = (
        "no real answer to a forged page cursor was found; the wording copies the "
        '"field: problem" validation style of Anthropic\'s other endpoints'
    )
