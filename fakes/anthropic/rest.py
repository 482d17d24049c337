"""The fake Anthropic API as a FastAPI app: ``create_app(state)``.

Only the wire format lives here; keys, faults and the request log live in
:class:`~fakes.anthropic.models.AnthropicState`, the error bodies in ``fakes.anthropic.exceptions``
(one class per real error, with its provenance) and the report parameters in
``fakes.anthropic.reports``. No respx here: the same app is mounted in-process by
:mod:`fakes.provider_mocks` or served on a port.

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
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.anthropic.exceptions import (
    AnthropicError,
    ApiError,
    InjectedStatus,
    InvalidApiKey,
    InvalidVersion,
    MissingApiKey,
    MissingVersion,
    ModelNotFound,
    ModelsLimitOutOfRange,
    NotFound,
    Overloaded,
    RateLimited,
)
from fakes.anthropic.models import (
    COST_DIMS,
    DESCRIPTION_DIMS,
    SUPPORTED_VERSIONS,
    USAGE_DIMS,
    AnthropicState,
)
from fakes.anthropic.reports import (
    COST_REPORT,
    MESSAGES_USAGE,
    ReportSpec,
    cost_result,
    kept,
    parse_query,
    usage_result,
)
from fakes.providers.faults import Fault
from fakes.providers.paging import (
    bucket_day,
    bucket_page,
    encode_cursor,
)
from fakes.providers.ratelimits import retry_after_headers
from fakes.providers.usage import UsageRow, group_rows

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
# The anthropic-version whose ModelInfo requires ``lifecycle`` (the one anthropic SDK 2.x sends).
LIFECYCLE_VERSION = "2026-10-21"

Reply = tuple[int, dict[str, Any], dict[str, str]]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    error: AnthropicError
    if status == 429:
        headers = {**rate_limit_headers(fault.retry_after), **headers}
        error = RateLimited()
    elif status == 529:
        error = Overloaded()
    elif status >= 500:
        error = ApiError(status=status)
    else:
        error = InjectedStatus(status)
    return error.status, error.body(request_id), headers


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
        refused: AnthropicError | None = None
        if not key:
            refused = MissingApiKey()
        elif (
            not state.is_valid(key)
            or (admin and not state.is_admin(key))
            or (admin is False and state.is_admin(key) and not state.admin_keys_list_models)
        ):
            # A key of the wrong kind is answered like an unknown key (see InvalidApiKey).
            refused = InvalidApiKey()
        elif version is None:
            refused = MissingVersion()
        elif version not in SUPPORTED_VERSIONS:
            refused = InvalidVersion(version=version)
        if refused is not None:
            reply: Reply = refused.status, refused.body(request_id), {}
        elif (limit := state.rate_limit_for(key)) is not None:
            reply = 429, RateLimited().body(request_id), rate_limit_headers(limit.retry_after)
        else:
            try:
                status, body = route(request_id)
            except AnthropicError as exc:
                status, body = exc.status, exc.body(request_id)
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
                raise ModelsLimitOutOfRange(maximum=MAX_LIMIT)
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
            if model is None:
                raise ModelNotFound(model_id=model_id)
            return 200, model_object(model, request.headers.get("anthropic-version"))

        return serve(request, route)

    def report(
        request: Request,
        spec: ReportSpec,
        dims: Sequence[str],
        rows_for: Callable[[str, Any], list[UsageRow]],
        result: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
    ) -> Response:
        def route(request_id: str) -> tuple[int, dict[str, Any]]:
            query = parse_query(request.query_params, spec, state.now())
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
        def route(request_id: str) -> tuple[int, dict[str, Any]]:
            raise NotFound()

        return serve(request, route, admin=None)

    return app
