"""The fake OpenAI API as a FastAPI app: ``create_app(state)``.

Only the wire format lives here (paths, status codes, error bodies, headers); keys, faults and the
request log live in :class:`~fakes.openai.models.OpenAIState`. The app knows nothing about respx, so
it is mounted in-process by :mod:`fakes.providers.mount` and can equally be served on a port.

Every request goes through the same pipeline, in this order: queued fault → authentication →
key scope (admin key on an admin endpoint) → per-key rate limit → the route. Error bodies are
OpenAI's ``{"error": {"message", "type", "param", "code"}}``; the messages are copied from real
responses (see the constants' comments).

Organization usage and costs (Admin API, admin keys only):

* ``GET /v1/organization/usage/completions`` — ``start_time`` (unix seconds, required, inclusive),
  ``end_time`` (exclusive, default now), ``bucket_width`` ``1m``/``1h``/``1d`` (default ``1d``),
  ``limit`` buckets per page (1d: default 7, max 31; 1h: 24/168; 1m: 60/1440), ``group_by[]`` of
  ``project_id user_id api_key_id model batch service_tier api_source``, filters ``models[]``,
  ``project_ids[]``, ``api_key_ids[]``, ``user_ids[]``, ``batch``, and ``page`` (the previous
  ``next_page``);
* ``GET /v1/organization/costs`` — same time parameters, ``bucket_width`` ``1d`` only, ``limit``
  1..180 (default 7), ``group_by[]`` of ``project_id user_id line_item api_key_id api_source``.

Those ranges are the ones the official ``openai`` SDK (``types/admin/organization``) documents.
Array parameters are accepted as ``name[]=a&name[]=b`` (what the SDK sends) and as ``name=a,b``.
Every bucket of the range is returned, empty ones with ``"results": []``; buckets snap to the
start of their UTC minute/hour/day.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.openai.models import COST_DIMS, USAGE_DIMS, OpenAIState
from fakes.providers.faults import Fault
from fakes.providers.keys import mask_key
from fakes.providers.paging import (
    BUCKET_WIDTHS,
    bucket_day,
    bucket_page,
    decode_cursor,
    encode_cursor,
    query_list,
)
from fakes.providers.ratelimits import retry_after_headers
from fakes.providers.usage import UsageRow, group_rows

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

# A non-admin key on an organization usage/cost endpoint: 403 whose "error" is a bare *string*,
# quoted as the verbatim live response in several public client test suites (2026). Older reports
# show a 401 with the usual object form and a longer message; OpenAI does not document either.
MISSING_USAGE_SCOPE_MESSAGE = (
    "You have insufficient permissions for this operation. Missing scopes: api.usage.read."
)

Reply = tuple[int, dict[str, Any], dict[str, str]]


# ------------------------------------------------------------------------ usage & cost queries


@dataclass(frozen=True)
class ReportSpec:
    """What one report endpoint accepts: bucket widths with (default, max) limit, group_by values,
    the dimensions its results carry, and its filter parameters (query name -> dimension)."""

    widths: Mapping[str, tuple[int, int]]
    dims: tuple[str, ...]
    filters: Mapping[str, str]


COMPLETIONS = ReportSpec(
    widths={"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)},
    dims=USAGE_DIMS,
    filters={
        "models": "model",
        "project_ids": "project_id",
        "api_key_ids": "api_key_id",
        "user_ids": "user_id",
    },
)
COSTS = ReportSpec(
    widths={"1d": (7, 180)},
    dims=COST_DIMS,
    filters={"project_ids": "project_id", "api_key_ids": "api_key_id", "line_items": "line_item"},
)


class BadRequest(Exception):
    """A 400 in OpenAI's words. The wording follows the patterns OpenAI uses for the same mistakes
    on other endpoints (``missing_required_parameter``, ``invalid_type``, ``invalid_value``,
    ``integer_above_max_value``); not confirmed for the usage endpoints."""

    def __init__(self, message: str, param: str, code: str) -> None:
        super().__init__(message)
        self.body = error_body(message, "invalid_request_error", param=param, code=code)


@dataclass(frozen=True)
class ReportQuery:
    start: datetime
    stop: datetime
    width: timedelta
    limit: int
    group_by: list[str]
    cursor: datetime | None
    filters: dict[str, set[Any]]


def supported(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def int_param(params: Any, name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise BadRequest(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
        return None
    try:
        return int(raw)
    except ValueError:
        message = f"Invalid type for '{name}': expected an integer, but got a string instead."
        raise BadRequest(message, name, "invalid_type") from None


def parse_query(params: Any, spec: ReportSpec, now: datetime) -> ReportQuery:
    start_time = int_param(params, "start_time", required=True)
    end_time = int_param(params, "end_time")
    width_name = params.get("bucket_width", "1d")
    if width_name not in spec.widths:
        message = f"Invalid value: '{width_name}'. Supported values are: {supported(list(spec.widths))}."
        raise BadRequest(message, "bucket_width", "invalid_value")
    default_limit, max_limit = spec.widths[width_name]
    limit = int_param(params, "limit")
    if limit is None:
        limit = default_limit
    elif limit < 1:
        message = (
            f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {limit} instead."
        )
        raise BadRequest(message, "limit", "integer_below_min_value")
    elif limit > max_limit:
        message = (
            f"Invalid 'limit': integer above maximum value. Expected a value <= {max_limit}, "
            f"but got {limit} instead."
        )
        raise BadRequest(message, "limit", "integer_above_max_value")
    group_by = query_list(params, "group_by", plain=True) or []
    for value in group_by:
        if value not in spec.dims:
            message = f"Invalid value: '{value}'. Supported values are: {supported(spec.dims)}."
            raise BadRequest(message, "group_by", "invalid_value")
    cursor = None
    if (page := params.get("page")) is not None:
        cursor = decode_cursor(page)
        if cursor is None:  # Not confirmed against the real API.
            raise BadRequest(f"Invalid value for 'page': '{page}'.", "page", "invalid_value")
    filters: dict[str, set[Any]] = {}
    for name, dim in spec.filters.items():
        values = query_list(params, name, plain=True)
        if values is not None:
            filters[dim] = set(values)
    if "batch" in params and "batch" in spec.dims:
        filters["batch"] = {params["batch"].lower() == "true"}
    start = datetime.fromtimestamp(start_time, UTC)
    stop = datetime.fromtimestamp(end_time, UTC) if end_time is not None else now
    return ReportQuery(start, stop, BUCKET_WIDTHS[width_name], limit, group_by, cursor, filters)


def kept(row: UsageRow, filters: Mapping[str, set[Any]]) -> bool:
    return all(row.dims.get(dim) in values for dim, values in filters.items())


def usage_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {"object": "organization.usage.completions.result", **metrics, **dims}


def cost_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    by_line_item = dims.get("line_item") is not None
    return {
        "object": "organization.costs.result",
        "amount": {"value": float(metrics["amount"]), "currency": "usd"},
        **dims,
        "quantity": float(metrics["quantity"]) if by_line_item else None,
        "quantity_unit": "tokens" if by_line_item else None,
    }


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

    def serve(
        request: Request, route: Callable[[], tuple[int, dict[str, Any]]], *, admin: bool | None = False
    ) -> Response:
        """``admin=True``: an Admin API endpoint (admin keys only); ``False``: an inference endpoint
        (admin keys refused unless ``state.admin_keys_list_models``); ``None``: any key."""
        request_id = state.new_request_id()
        fault = state.take_fault()
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.status is not None:
            return finish(request, request_id, fault_reply(fault, state, request_id), delay, fault=True)
        key = bearer_key(request)
        if key is None:
            reply: Reply = 401, error_body(MISSING_KEY_MESSAGE, "invalid_request_error"), {}
        elif not state.is_valid(key) or (
            admin is False and state.is_admin(key) and not state.admin_keys_list_models
        ):
            # An admin key refused on an inference endpoint is answered like an unknown key: the
            # real answer is not confirmed (OpenAI documents only that admin keys "cannot be used
            # for non-administration endpoints").
            message = INCORRECT_KEY_MESSAGE.format(masked=mask_key(key))
            reply = 401, error_body(message, "invalid_request_error", code="invalid_api_key"), {}
        elif admin and not state.is_admin(key):
            reply = 403, {"error": MISSING_USAGE_SCOPE_MESSAGE}, {}
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

    def report(
        request: Request,
        spec: ReportSpec,
        rows_for: Callable[[str, Any], list[UsageRow]],
        result: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
    ) -> Response:
        def route() -> tuple[int, dict[str, Any]]:
            try:
                query = parse_query(request.query_params, spec, state.now())
            except BadRequest as exc:
                return 400, exc.body
            key = bearer_key(request) or ""
            page = bucket_page(query.start, query.stop, query.width, query.limit, cursor=query.cursor)
            data: list[dict[str, Any]] = []
            for start in page.starts:
                day = bucket_day(start, query.width)
                rows = [r for r in rows_for(key, day) if kept(r, query.filters)] if day else []
                results = [result(d, m) for d, m in group_rows(rows, query.group_by, spec.dims)]
                bucket = {
                    "object": "bucket",
                    "start_time": int(start.timestamp()),
                    "end_time": int((start + query.width).timestamp()),
                    "results": results,
                }
                data.extend(dict(bucket) for _ in range(state.bucket_copies(day) if day else 1))
            next_page = encode_cursor(page.next_start) if page.next_start else None
            return 200, {"object": "page", "data": data, "has_more": page.has_more, "next_page": next_page}

        return serve(request, route, admin=True)

    @app.get("/v1/organization/usage/completions")
    def usage_completions(request: Request) -> Response:
        return report(request, COMPLETIONS, state.usage_rows, usage_result)

    @app.get("/v1/organization/costs")
    def costs(request: Request) -> Response:
        return report(request, COSTS, state.cost_rows, cost_result)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def unknown(path: str, request: Request) -> Response:
        # "Invalid URL (POST /v1/chat/completion)" is OpenAI's answer to an unknown path.
        message = f"Invalid URL ({request.method} {request.url.path})"
        return serve(request, lambda: (404, error_body(message, "invalid_request_error")), admin=None)

    return app
