"""The fake OpenAI API as a FastAPI app: ``create_app(state)``.

Only the wire format lives here (paths, status codes, error bodies, headers); keys, faults and the
request log live in :class:`~fakes.openai.state.OpenAIState`. The app knows nothing about respx, so
it is mounted in-process by :mod:`fakes.providers_mount` and can equally be served on a port.

Every request goes through the same pipeline, in this order: queued fault → authentication →
per-key rate limit → the route. Error bodies are OpenAI's ``{"error": {"message", "type", "param",
"code"}}``; the messages are copied from real responses (see the constants' comments).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.openai.state import OpenAIState
from fakes.providers_common import Fault, mask_key, retry_after_headers

API_KEYS_URL = "https://platform.openai.com/account/api-keys"

# Verbatim from real 401 bodies (openai/openai-python#1434, chatboxai/chatbox#98): code is null.
MISSING_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) "
    "if you're accessing the API from your browser and are prompted for a username and password. "
    f"You can obtain an API key from {API_KEYS_URL}."
)
# Real 401 bodies (e.g. chatanywhere/GPT_API_free#427): type invalid_request_error, code invalid_api_key.
INCORRECT_KEY_MESSAGE = (
    "Incorrect API key provided: {masked}. You can find your API key at " + API_KEYS_URL + "."
)
# Shape of real 429 bodies (type "requests", code "rate_limit_exceeded"); the limit name used for
# GET /v1/models is not confirmed.
RATE_LIMIT_MESSAGE = (
    "Rate limit reached for requests in organization {org} on requests per min (RPM): Limit 3, Used 3, "
    "Requested 1. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits "
    "to learn more."
)
# 500: the message clients match on ("...Sorry about that!"), type server_error.
SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"
# 503 body reported verbatim in ikechan8370/chatgpt-plugin#125 (type server_error, code null).
OVERLOADED_MESSAGE = (
    "That model is currently overloaded with other requests. You can retry your request, or contact us "
    "through our help center at help.openai.com if the error persists. (Please include the request ID "
    "{request_id} in your message.)"
)

Reply = tuple[int, dict[str, Any], dict[str, str]]


def error_body(
    message: str, type_: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def fault_reply(fault: Fault, state: OpenAIState, request_id: str) -> Reply:
    """The body and headers OpenAI sends for an injected status."""
    status = fault.status
    assert status is not None
    headers = {**retry_after_headers(fault.retry_after, fault.retry_after_ms), **fault.headers}
    if status == 429:
        return 429, rate_limit_body(state, fault.retry_after), {**headers, **rate_limit_headers(fault)}
    if status == 503:
        return status, error_body(OVERLOADED_MESSAGE.format(request_id=request_id), "server_error"), headers
    if status >= 500:
        return status, error_body(SERVER_ERROR_MESSAGE, "server_error"), headers
    return status, error_body(HTTPStatus(status).phrase, "invalid_request_error"), headers


def _wait(retry_after: float | str | None) -> str:
    return f"{retry_after:g}s" if isinstance(retry_after, int | float) else "20s"


def rate_limit_body(state: OpenAIState, retry_after: float | str | None) -> dict[str, Any]:
    wait = _wait(retry_after)
    message = RATE_LIMIT_MESSAGE.format(org=state.organization, wait=wait)
    return error_body(message, "requests", code="rate_limit_exceeded")


def rate_limit_headers(fault: Fault | None = None) -> dict[str, str]:
    reset = _wait(fault.retry_after if fault else None)
    return {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": reset,
    }


def bearer_key(request: Request) -> str | None:
    """The API key from ``Authorization: Bearer`` (or Basic with a blank username), else None."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def create_app(state: OpenAIState) -> FastAPI:
    """Build the fake OpenAI API over ``state`` (one app per state; the state may be shared)."""
    app = FastAPI(title="Fake OpenAI API", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.provider_state = state

    def serve(request: Request, route: Callable[[], tuple[int, dict[str, Any]]]) -> Response:
        request_id = state.new_request_id()
        fault = state.take_fault()
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.status is not None:
            return finish(request, request_id, fault_reply(fault, state, request_id), delay, fault=True)
        key = bearer_key(request)
        if key is None:
            reply: Reply = 401, error_body(MISSING_KEY_MESSAGE, "invalid_request_error"), {}
        elif not state.is_valid(key):
            message = INCORRECT_KEY_MESSAGE.format(masked=mask_key(key))
            reply = 401, error_body(message, "invalid_request_error", code="invalid_api_key"), {}
        elif (limit := state.rate_limit_for(key)) is not None:
            headers = {**retry_after_headers(limit.retry_after, None), **rate_limit_headers()}
            reply = 429, rate_limit_body(state, limit.retry_after), headers
        else:
            status, body = route()
            reply = status, body, {"openai-organization": state.organization}
        return finish(request, request_id, reply, delay)

    def finish(
        request: Request, request_id: str, reply: Reply, delay: float, *, fault: bool = False
    ) -> Response:
        status, body, extra = reply
        state.record(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers=request.headers.items(),
            request_id=request_id,
            status=status,
            delay=delay,
            fault=fault,
        )
        headers = {"x-request-id": request_id, "openai-version": "2020-10-01", "openai-processing-ms": "7"}
        return JSONResponse(body, status_code=status, headers={**headers, **extra})

    @app.get("/v1/models")
    def list_models(request: Request) -> Response:
        return serve(request, lambda: (200, {"object": "list", "data": [dict(m) for m in state.models]}))

    @app.get("/v1/models/{model_id:path}")
    def retrieve_model(model_id: str, request: Request) -> Response:
        def route() -> tuple[int, dict[str, Any]]:
            model = state.model(model_id)
            if model is not None:
                return 200, dict(model)
            # Not confirmed against the real API.
            message = f"The model '{model_id}' does not exist"
            return 404, error_body(message, "invalid_request_error", param="model", code="model_not_found")

        return serve(request, route)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def unknown(path: str, request: Request) -> Response:
        # "Invalid URL (POST /v1/chat/completion)" is OpenAI's answer to an unknown path.
        message = f"Invalid URL ({request.method} {request.url.path})"
        return serve(request, lambda: (404, error_body(message, "invalid_request_error")))

    return app
