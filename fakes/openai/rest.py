"""The fake OpenAI API as a FastAPI app: ``create_app(state)``.

Only the wire format lives here (paths, status codes, headers); keys, faults and the request log
live in :class:`~fakes.openai.models.OpenAIState`, the error bodies in ``fakes.openai.exceptions``
(one class per real error, with its provenance) and the report parameters in
``fakes.openai.reports``. The app knows nothing about respx, so
it is mounted in-process by :mod:`fakes.provider_mocks` and can equally be served on a port.

Every request goes through the same pipeline, in this order: queued fault → authentication →
key scope (admin key on an admin endpoint) → per-key rate limit → the route. Error bodies are
OpenAI's ``{"error": {"message", "type", "param", "code"}}``, rendered by the error classes.

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
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.openai.exceptions import (
    IncorrectApiKey,
    InjectedStatus,
    InvalidUrl,
    MissingApiKey,
    MissingUsageScope,
    ModelNotFound,
    OpenAIError,
    Overloaded,
    RateLimitReached,
    ServerError,
)
from fakes.openai.models import OpenAIState
from fakes.openai.reports import COMPLETIONS, COSTS, ReportSpec, cost_result, kept, parse_query, usage_result
from fakes.providers.faults import Fault
from fakes.providers.keys import mask_key
from fakes.providers.paging import (
    bucket_day,
    bucket_page,
    encode_cursor,
)
from fakes.providers.ratelimits import retry_after_headers
from fakes.providers.usage import UsageRow, group_rows

Reply = tuple[int, dict[str, Any], dict[str, str]]


def fault_reply(fault: Fault, state: OpenAIState, request_id: str) -> Reply:
    """The body and headers OpenAI sends for an injected status."""
    status = fault.status
    assert status is not None
    headers = {**retry_after_headers(fault.retry_after, fault.retry_after_ms), **fault.headers}
    if status == 429:
        return 429, rate_limit_body(state, fault.retry_after), {**headers, **rate_limit_headers(fault)}
    error: OpenAIError
    if status == 503:
        error = Overloaded(request_id=request_id)
    elif status >= 500:
        error = ServerError(status=status)
    else:
        error = InjectedStatus(status)
    return error.status, error.body(), headers


def _wait(retry_after: float | str | None) -> str:
    return f"{retry_after:g}s" if isinstance(retry_after, int | float) else "20s"


def rate_limit_body(state: OpenAIState, retry_after: float | str | None) -> dict[str, Any]:
    return RateLimitReached(org=state.organization, wait=_wait(retry_after)).body()


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
        refused: OpenAIError | None = None
        if key is None:
            refused = MissingApiKey()
        elif not state.is_valid(key) or (
            admin is False and state.is_admin(key) and not state.admin_keys_list_models
        ):
            # An admin key refused on an inference endpoint is answered like an unknown key (see
            # IncorrectApiKey for what is confirmed).
            refused = IncorrectApiKey(masked=mask_key(key))
        elif admin and not state.is_admin(key):
            refused = MissingUsageScope()
        if refused is not None:
            reply: Reply = refused.status, refused.body(), {}
        elif (limit := state.rate_limit_for(key or "")) is not None:
            headers = {**retry_after_headers(limit.retry_after, None), **rate_limit_headers()}
            reply = 429, rate_limit_body(state, limit.retry_after), headers
        else:
            try:
                status, body = route()
            except OpenAIError as exc:
                status, body = exc.status, exc.body()
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
            if model is None:
                raise ModelNotFound(param="model", model_id=model_id)
            return 200, dict(model)

        return serve(request, route)

    def report(
        request: Request,
        spec: ReportSpec,
        rows_for: Callable[[str, Any], list[UsageRow]],
        result: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
    ) -> Response:
        def route() -> tuple[int, dict[str, Any]]:
            query = parse_query(request.query_params, spec, state.now())
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
        def route() -> tuple[int, dict[str, Any]]:
            raise InvalidUrl(method=request.method, path=request.url.path)

        return serve(request, route, admin=None)

    return app
