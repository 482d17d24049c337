"""The OpenAI API's own error bodies, one class per real error the fake sends (moto's discipline).

Each class carries the HTTP status, OpenAI's ``type`` and ``code``, the message template, and says
where the text was seen (``confirmed``) or what was searched when no real response was found
(``searched``); an unconfirmed text is our wording in OpenAI's style and must not be matched on
as OpenAI's (:func:`fakes.errors.text_is_confirmed`). The class also renders the real JSON body,
``{"error": {"message", "type", "param", "code"}}``, so the routes only raise.

These are wire errors of a fake server: no domain code catches them (the domain sees the HTTP
answer through ``harness.providers``), so they subclass ``Exception``, not a ``harness.ports`` class.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from fakes.errors import RealError

API_KEYS_URL = "https://platform.openai.com/account/api-keys"

_USAGE_400 = (
    "the wording follows the patterns OpenAI uses for the same mistakes on other endpoints "
    "(missing_required_parameter, invalid_type, invalid_value, integer_above_max_value); not "
    "confirmed for the organization usage/cost endpoints"
)


class OpenAIError(RealError, Exception):
    """An OpenAI error body; ``param`` is given where OpenAI names the offending parameter."""

    status: int = 400
    error_type: ClassVar[str] = "invalid_request_error"
    code: ClassVar[str | None] = None
    template: ClassVar[str] = ""

    def __init__(self, *, param: str | None = None, status: int | None = None, **values: object) -> None:
        self.message = self.template.format(**values)
        super().__init__(self.message)
        self.param = param
        if status is not None:  # a fault injected with another status of the same kind (502...)
            self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON body OpenAI sends for this error."""
        error = {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}
        return {"error": error}


# ------------------------------------------------------------------------------------ 401 / 403
class MissingApiKey(OpenAIError):
    status = 401
    template = (
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
        "blank username) if you're accessing the API from your browser and are prompted for a "
        f"username and password. You can obtain an API key from {API_KEYS_URL}."
    )
    confirmed = "verbatim in real 401 bodies: openai/openai-python#1434, chatboxai/chatbox#98 (code null)"


class IncorrectApiKey(OpenAIError):
    """An unknown or revoked key; also an admin key on an inference endpoint, for which OpenAI only
    documents that admin keys "cannot be used for non-administration endpoints" (that use of this
    body is not confirmed, the text is)."""

    status = 401
    code = "invalid_api_key"
    template = "Incorrect API key provided: {masked}. You can find your API key at " + API_KEYS_URL + "."
    confirmed = (
        "real 401 bodies, e.g. chatanywhere/GPT_API_free#427 "
        "(type invalid_request_error, code invalid_api_key)"
    )


class MissingUsageScope(OpenAIError):
    """A non-admin key on an organization usage/cost endpoint: the ``error`` is a bare string."""

    status = 403
    template = "You have insufficient permissions for this operation. Missing scopes: api.usage.read."
    confirmed = (
        "quoted as the verbatim live response in several public client test suites (2026); older "
        "reports show a 401 with the usual object form and a longer message; OpenAI documents neither"
    )

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


# ------------------------------------------------------------------------------------------ 404
class InvalidUrl(OpenAIError):
    status = 404
    template = "Invalid URL ({method} {path})"
    confirmed = (
        "verbatim 404 bodies (type invalid_request_error, param and code null) in "
        "chatboxai/chatbox#199 and ChatGPTNextWeb/NextChat#423; a later report shows code "
        '"unknown_url" with "Unknown request URL: ..." (artificial-julien/docker-nginx-openai-api-cache#2)'
    )


class ModelNotFound(OpenAIError):
    status = 404
    code = "model_not_found"
    template = "The model '{model_id}' does not exist"
    searched = (
        "no real GET /v1/models/{id} 404 body was found (searched issues and find_string for "
        'model_not_found bodies); inference endpoints word it "The model `gpt-4o` does not exist or you '
        'do not have access to it." (rd-1-2022/ai-openai-helloworld#9, Aider-AI/aider#2030), with '
        "backticks, so ours follows their opening only"
    )


# ------------------------------------------------------------------------------------ 429 / 5xx
class RateLimitReached(OpenAIError):
    """The figures and the limit name (requests per min) are illustrative: a real body names the
    account's own limit, and the one used for GET /v1/models is not confirmed."""

    status = 429
    error_type = "requests"
    code = "rate_limit_exceeded"
    template = (
        "Rate limit reached for requests in organization {org} on requests per min (RPM): Limit 3, "
        "Used 3, Requested 1. Please try again in {wait}. Visit "
        "https://platform.openai.com/account/rate-limits to learn more."
    )
    confirmed = (
        'the shape of real 429 bodies in many public reports: type "requests", code '
        '"rate_limit_exceeded", "Rate limit reached for requests in organization ... Please try '
        'again in ..."'
    )


class ServerError(OpenAIError):
    status = 500
    error_type = "server_error"
    template = "The server had an error while processing your request. Sorry about that!"
    confirmed = (
        "verbatim 500 body (type server_error, param and code null) in github/gh-models#98; the "
        "same text in langbot-app/LangBot#126 and LlmKira/Openaibot#177"
    )


class Overloaded(OpenAIError):
    status = 503
    error_type = "server_error"
    template = (
        "That model is currently overloaded with other requests. You can retry your request, or "
        "contact us through our help center at help.openai.com if the error persists. (Please "
        "include the request ID {request_id} in your message.)"
    )
    confirmed = "503 body reported verbatim in ikechan8370/chatgpt-plugin#125 (type server_error, code null)"


class InjectedStatus(OpenAIError):
    """A queued fault with a 4xx status OpenAI has no fixed body for: the HTTP reason phrase."""

    template = "{phrase}"
    searched = "no single real body exists for an arbitrary status; the text is the HTTP reason phrase"

    def __init__(self, status: int) -> None:
        super().__init__(status=status, phrase=HTTPStatus(status).phrase)


# --------------------------------------------------------------------- 400 on the usage reports
class MissingRequiredParameter(OpenAIError):
    code = "missing_required_parameter"
    template = "Missing required parameter: '{name}'."
    searched = _USAGE_400


class InvalidType(OpenAIError):
    code = "invalid_type"
    template = "Invalid type for '{name}': expected an integer, but got a string instead."
    searched = _USAGE_400


class InvalidValue(OpenAIError):
    code = "invalid_value"
    template = "Invalid value: '{value}'. Supported values are: {supported}."
    searched = _USAGE_400


class IntegerBelowMinValue(OpenAIError):
    code = "integer_below_min_value"
    template = "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {value} instead."
    searched = _USAGE_400


class IntegerAboveMaxValue(OpenAIError):
    code = "integer_above_max_value"
    template = (
        "Invalid 'limit': integer above maximum value. Expected a value <= {maximum}, "
        "but got {value} instead."
    )
    searched = _USAGE_400


class InvalidPage(OpenAIError):
    code = "invalid_value"
    template = "Invalid value for 'page': '{page}'."
    searched = "no real answer to a forged page cursor was found; our wording in OpenAI's invalid_value style"
