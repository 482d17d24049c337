"""The fake Anthropic API as a FastAPI app: ``create_app(state)``.

Only the wire format lives here; keys, faults and the request log live in
:class:`~fakes.anthropic.models.AnthropicState`. No respx here: the same app is mounted in-process by
:mod:`fakes.providers.mount` or served on a port.

Pipeline per request: queued fault → API key (and its scope: admin key on an Admin API endpoint)
→ ``anthropic-version`` → per-key rate limit → the route. The key is read from ``x-api-key`` (the
documented header) or ``Authorization: Bearer`` (what anthropic SDK 2.x sends). Errors are
``{"type": "error", "error": {"type", "message"}, "request_id"}``; every response carries
``request-id``, authenticated ones ``anthropic-organization-id``, as the real API documents.

Usage & Cost Admin API (admin keys only), as documented on platform.claude.com and used by
Anthropic's own cookbook (``observability/usage_cost_api.ipynb``):

* ``GET /v1/organizations/usage_report/messages`` — ``starting_at`` (RFC 3339, required; snapped to
  the start of its minute/hour/day), ``ending_at`` (buckets that end by it; default now),
  ``bucket_width`` ``1d``/``1h``/``1m`` (default ``1d``), ``limit`` buckets per page (1d: default 7,
  max 31; 1h: 24/168; 1m: 60/1440), ``group_by[]`` (``api_key_id workspace_id model service_tier
  context_window inference_geo speed account_id service_account_id``), filters ``models[]``,
  ``workspace_ids[]``, ``api_key_ids[]``, ``service_tiers[]``, ``context_window[]``,
  ``inference_geos[]``, and ``page`` (the previous ``next_page``);
* ``GET /v1/organizations/cost_report`` — same time parameters, ``bucket_width`` ``1d`` only,
  ``limit`` 1..31 (default 7), ``group_by[]`` of ``workspace_id description``; ``amount`` is a
  decimal string in cents ("123.45" USD = $1.2345).

Array parameters must use brackets (``group_by[]=model``); every bucket of the range is returned,
empty ones with ``"results": []``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.anthropic.models import (
    COST_DIMS,
    COST_GROUP_BY,
    DESCRIPTION_DIMS,
    SUPPORTED_VERSIONS,
    USAGE_DIMS,
    AnthropicState,
)
from fakes.providers.faults import Fault
from fakes.providers.paging import (
    BUCKET_WIDTHS,
    bucket_day,
    bucket_page,
    decode_cursor,
    encode_cursor,
    query_list,
)
from fakes.providers.ratelimits import retry_after_headers
from fakes.providers.usage import UsageRow, format_decimal, group_rows

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
# The anthropic-version whose ModelInfo requires ``lifecycle`` (the one anthropic SDK 2.x sends).
LIFECYCLE_VERSION = "2026-10-21"

Reply = tuple[int, dict[str, Any], dict[str, str]]


# ------------------------------------------------------------------------ usage & cost queries

# Seen quoted (as the API's answer to ``group_by=model``) in a public client's test suite; not in
# Anthropic's docs.
BRACKETS_MESSAGE = "Invalid parameter `{name}`. Use `{name}[]` for array parameters."


@dataclass(frozen=True)
class ReportSpec:
    widths: Mapping[str, tuple[int, int]]
    group_by: tuple[str, ...]
    filters: Mapping[str, str]


MESSAGES_USAGE = ReportSpec(
    widths={"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)},
    group_by=USAGE_DIMS,
    filters={
        "models": "model",
        "workspace_ids": "workspace_id",
        "api_key_ids": "api_key_id",
        "service_tiers": "service_tier",
        "context_window": "context_window",
        "inference_geos": "inference_geo",
    },
)
COST_REPORT = ReportSpec(
    widths={"1d": (7, 31)}, group_by=COST_GROUP_BY, filters={"workspace_ids": "workspace_id"}
)


class BadRequest(Exception):
    """A 400 ``invalid_request_error``. The wording copies the ``field: problem`` validation style
    of Anthropic's other endpoints (e.g. "max_tokens: Field required"); not confirmed for these."""


@dataclass(frozen=True)
class ReportQuery:
    start: datetime
    stop: datetime
    width: timedelta
    limit: int
    group_by: list[str]
    cursor: datetime | None
    filters: dict[str, set[Any]]


def literal_list(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def timestamp_param(params: Any, name: str, *, required: bool = False) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise BadRequest(f"{name}: Field required")
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: Input should be a valid datetime") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name}: Input should have timezone info")
    return moment.astimezone(UTC)


def array_param(params: Any, name: str) -> list[str] | None:
    if name in params:
        raise BadRequest(BRACKETS_MESSAGE.format(name=name))
    return query_list(params, name)


def parse_query(params: Any, spec: ReportSpec, now: datetime) -> ReportQuery:
    start = timestamp_param(params, "starting_at", required=True)
    assert start is not None
    stop = timestamp_param(params, "ending_at") or now
    width_name = params.get("bucket_width", "1d")
    if width_name not in spec.widths:
        raise BadRequest(f"bucket_width: Input should be {literal_list(list(spec.widths))}")
    default_limit, max_limit = spec.widths[width_name]
    limit = default_limit
    if (raw_limit := params.get("limit")) is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise BadRequest(
                "limit: Input should be a valid integer, unable to parse string as an integer"
            ) from None
        if limit < 1:
            raise BadRequest("limit: Input should be greater than or equal to 1")
        if limit > max_limit:
            raise BadRequest(f"limit: Input should be less than or equal to {max_limit}")
    group_by = array_param(params, "group_by") or []
    for index, value in enumerate(group_by):
        if value not in spec.group_by:
            raise BadRequest(f"group_by.{index}: Input should be {literal_list(spec.group_by)}")
    cursor = None
    if (page := params.get("page")) is not None:
        cursor = decode_cursor(page)
        if cursor is None:  # Not confirmed against the real API.
            raise BadRequest("page: Invalid page token")
    filters: dict[str, set[Any]] = {}
    for name, dim in spec.filters.items():
        values = array_param(params, name)
        if values is not None:
            filters[dim] = set(values)
    return ReportQuery(start, stop, BUCKET_WIDTHS[width_name], limit, group_by, cursor, filters)


def kept(row: UsageRow, filters: Mapping[str, set[Any]]) -> bool:
    return all(row.dims.get(dim) in values for dim, values in filters.items())


def usage_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **dims,
        "uncached_input_tokens": metrics["uncached_input_tokens"],
        "cache_creation": {
            "ephemeral_1h_input_tokens": metrics["cache_creation.ephemeral_1h_input_tokens"],
            "ephemeral_5m_input_tokens": metrics["cache_creation.ephemeral_5m_input_tokens"],
        },
        "cache_read_input_tokens": metrics["cache_read_input_tokens"],
        "output_tokens": metrics["output_tokens"],
        "server_tool_use": {"web_search_requests": metrics["server_tool_use.web_search_requests"]},
    }


def cost_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {"currency": "USD", "amount": format_decimal(metrics["amount"]), **dims}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def model_object(model: Mapping[str, Any], version: str | None) -> dict[str, Any]:
    """A model as served under ``anthropic-version: version``. Under :data:`LIFECYCLE_VERSION` the
    object carries ``lifecycle`` (``"active"`` unless the stored model says otherwise): the anthropic
    SDK 2.x pins that version and its ``ModelInfo`` type requires the field, so a strict client
    (``_strict_response_validation=True``) rejects a model without it. Under older versions the
    stored object is served as is (whether they omit ``lifecycle`` is not confirmed)."""
    served = dict(model)
    if version == LIFECYCLE_VERSION:
        served.setdefault("lifecycle", "active")
    return served


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

    def serve(
        request: Request, route: Callable[[str], tuple[int, dict[str, Any]]], *, admin: bool | None = False
    ) -> Response:
        """``admin=True``: an Admin API endpoint (admin keys only); ``False``: an inference endpoint
        (admin keys refused unless ``state.admin_keys_list_models``); ``None``: any key."""
        request_id = state.new_request_id()
        fault = state.take_fault()
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.status is not None:
            return finish(request, request_id, fault_reply(fault, request_id), delay, fault=True)
        key = api_key(request)
        version = request.headers.get("anthropic-version")
        if not key:
            reply: Reply = 401, error_body("authentication_error", MISSING_KEY_MESSAGE, request_id), {}
        elif (
            not state.is_valid(key)
            or (admin and not state.is_admin(key))
            or (admin is False and state.is_admin(key) and not state.admin_keys_list_models)
        ):
            # A key of the wrong kind is answered like an unknown key: Anthropic documents admin
            # keys as a separate kind that only the Admin API accepts, and a public client treats
            # "401 invalid x-api-key" from cost_report as "not an Admin API key". Not confirmed.
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
            version = request.headers.get("anthropic-version")
            body = page(
                [model_object(m, version) for m in state.sorted_models()],
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
                return 200, model_object(model, request.headers.get("anthropic-version"))
            # The Messages API answers an unknown model like this; not confirmed for /v1/models.
            return 404, error_body("not_found_error", f"model: {model_id}", request_id)

        return serve(request, route)

    def report(
        request: Request,
        spec: ReportSpec,
        dims: Sequence[str],
        rows_for: Callable[[str, Any], list[UsageRow]],
        result: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
    ) -> Response:
        def route(request_id: str) -> tuple[int, dict[str, Any]]:
            try:
                query = parse_query(request.query_params, spec, state.now())
            except BadRequest as exc:
                return 400, error_body("invalid_request_error", str(exc), request_id)
            key = api_key(request)
            group_by = list(query.group_by)
            if "description" in group_by:
                group_by += DESCRIPTION_DIMS
            page = bucket_page(
                query.start,
                query.stop,
                query.width,
                query.limit,
                cursor=query.cursor,
                whole_buckets_only=True,
            )
            data: list[dict[str, Any]] = []
            for start in page.starts:
                day = bucket_day(start, query.width)
                rows = [r for r in rows_for(key, day) if kept(r, query.filters)] if day else []
                bucket = {
                    "starting_at": rfc3339(start),
                    "ending_at": rfc3339(start + query.width),
                    "results": [result(d, m) for d, m in group_rows(rows, group_by, dims)],
                }
                data.extend(dict(bucket) for _ in range(state.bucket_copies(day) if day else 1))
            next_page = encode_cursor(page.next_start) if page.next_start else None
            return 200, {"data": data, "has_more": page.has_more, "next_page": next_page}

        return serve(request, route, admin=True)

    @app.get("/v1/organizations/usage_report/messages")
    def usage_report(request: Request) -> Response:
        return report(request, MESSAGES_USAGE, USAGE_DIMS, state.usage_rows, usage_result)

    @app.get("/v1/organizations/cost_report")
    def cost_report(request: Request) -> Response:
        return report(request, COST_REPORT, COST_DIMS, state.cost_rows, cost_result)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def unknown(path: str, request: Request) -> Response:
        # Not confirmed against the real API.
        return serve(
            request,
            lambda request_id: (404, error_body("not_found_error", "Not Found", request_id)),
            admin=None,
        )

    return app
