"""The fake Anthropic API as a FastAPI app: ``create_app(state)``.

Only the wire format lives here; keys, faults and the request log live in
:class:`~fakes.anthropic.state.AnthropicState`. No respx here: the same app is mounted in-process by
:mod:`fakes.providers_mount` or served on a port.

Pipeline per request: queued fault → API key → ``anthropic-version`` → per-key rate limit → the
route. The key is read from ``x-api-key`` (the documented header) or ``Authorization: Bearer`` (what
anthropic SDK 2.x sends). Errors are ``{"type": "error", "error": {"type", "message"},
"request_id"}``; every response carries ``request-id``, authenticated ones
``anthropic-organization-id``, as the real API documents.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.anthropic.state import SUPPORTED_VERSIONS, AnthropicState
from fakes.providers_common import Fault, retry_after_headers

# Messages copied from real responses (sources in the module docstring of the tests and the report):
MISSING_KEY_MESSAGE = "x-api-key header is required"  # n8n-io/n8n#37930, karthink/gptel#354
INVALID_KEY_MESSAGE = "invalid x-api-key"  # abi/screenshot-to-code#272
MISSING_VERSION_MESSAGE = "anthropic-version: header is required"  # envoyproxy/ai-gateway#1909
INVALID_VERSION_MESSAGE = (
    'anthropic-version: "{version}" is not a valid version'  # directus-labs/extensions#285
)
RATE_LIMIT_MESSAGE = (
    "This request would exceed your account's rate limit. Please try again later."  # gsd-2#32
)
OVERLOADED_MESSAGE = "Overloaded"  # anthropics/claude-code#35792 (529)
API_ERROR_MESSAGE = "Internal server error"  # anthropics/claude-code#61368 (500)

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

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000

Reply = tuple[int, dict[str, Any], dict[str, str]]


def error_body(type_: str, message: str, request_id: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": request_id}


def rate_limit_headers(retry_after: float | str | None) -> dict[str, str]:
    headers = retry_after_headers(retry_after, None)
    headers.update(
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
        }
    )
    return headers


def fault_reply(fault: Fault, request_id: str) -> Reply:
    status = fault.status
    assert status is not None
    headers = {**retry_after_headers(fault.retry_after, fault.retry_after_ms), **fault.headers}
    if status == 429:
        headers = {**rate_limit_headers(fault.retry_after), **headers}
        return 429, error_body("rate_limit_error", RATE_LIMIT_MESSAGE, request_id), headers
    if status == 529:
        return 529, error_body("overloaded_error", OVERLOADED_MESSAGE, request_id), headers
    if status >= 500:
        return status, error_body("api_error", API_ERROR_MESSAGE, request_id), headers
    type_ = ERROR_TYPES.get(status, "invalid_request_error")
    return status, error_body(type_, HTTPStatus(status).phrase, request_id), headers


def page(
    models: list[dict[str, Any]], *, limit: int, after_id: str | None, before_id: str | None
) -> dict[str, Any]:
    """One page of the cursor-paginated list (``after_id`` / ``before_id`` are model ids)."""
    ids = [m["id"] for m in models]
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
        window = models[start : start + limit]
        has_more = start + limit < len(models)
    elif before_id is not None:
        end = ids.index(before_id) if before_id in ids else 0
        window = models[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        window = models[:limit]
        has_more = limit < len(models)
    return {
        "data": [dict(m) for m in window],
        "has_more": has_more,
        "first_id": window[0]["id"] if window else None,
        "last_id": window[-1]["id"] if window else None,
    }


def parse_limit(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= MAX_LIMIT else None


def api_key(request: Request) -> str:
    """``x-api-key``, else the token of ``Authorization: Bearer``; empty when neither is sent."""
    key = request.headers.get("x-api-key", "").strip()
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def create_app(state: AnthropicState) -> FastAPI:
    """Build the fake Anthropic API over ``state``."""
    app = FastAPI(title="Fake Anthropic API", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.provider_state = state

    def serve(request: Request, route: Callable[[str], tuple[int, dict[str, Any]]]) -> Response:
        request_id = state.new_request_id()
        fault = state.take_fault()
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.status is not None:
            return finish(request, request_id, fault_reply(fault, request_id), delay, fault=True)
        key = api_key(request)
        version = request.headers.get("anthropic-version")
        if not key:
            reply: Reply = 401, error_body("authentication_error", MISSING_KEY_MESSAGE, request_id), {}
        elif not state.is_valid(key):
            reply = 401, error_body("authentication_error", INVALID_KEY_MESSAGE, request_id), {}
        elif version is None:
            reply = 400, error_body("invalid_request_error", MISSING_VERSION_MESSAGE, request_id), {}
        elif version not in SUPPORTED_VERSIONS:
            message = INVALID_VERSION_MESSAGE.format(version=version)
            reply = 400, error_body("invalid_request_error", message, request_id), {}
        elif (limit := state.rate_limit_for(key)) is not None:
            body = error_body("rate_limit_error", RATE_LIMIT_MESSAGE, request_id)
            reply = 429, body, rate_limit_headers(limit.retry_after)
        else:
            status, body = route(request_id)
            reply = status, body, {"anthropic-organization-id": state.organization_id}
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
        return JSONResponse(body, status_code=status, headers={"request-id": request_id, **extra})

    @app.get("/v1/models")
    def list_models(request: Request) -> Response:
        def route(request_id: str) -> tuple[int, dict[str, Any]]:
            params = request.query_params
            limit = parse_limit(params.get("limit"))
            if limit is None:
                # Not confirmed against the real API.
                message = f"limit: Input should be between 1 and {MAX_LIMIT}"
                return 400, error_body("invalid_request_error", message, request_id)
            body = page(
                state.sorted_models(),
                limit=limit,
                after_id=params.get("after_id"),
                before_id=params.get("before_id"),
            )
            return 200, body

        return serve(request, route)

    @app.get("/v1/models/{model_id:path}")
    def retrieve_model(model_id: str, request: Request) -> Response:
        def route(request_id: str) -> tuple[int, dict[str, Any]]:
            model = state.model(model_id)
            if model is not None:
                return 200, dict(model)
            # The Messages API answers an unknown model like this; not confirmed for /v1/models.
            return 404, error_body("not_found_error", f"model: {model_id}", request_id)

        return serve(request, route)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def unknown(path: str, request: Request) -> Response:
        # Not confirmed against the real API.
        return serve(
            request, lambda request_id: (404, error_body("not_found_error", "Not Found", request_id))
        )

    return app
