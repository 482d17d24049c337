"""The official ``openai`` and ``anthropic`` SDKs against the provider emulators over real HTTP.

The fakes claim to speak the providers' wire format; the strongest check of that claim is the
providers' own clients. Every client here is the real SDK given only ``base_url`` and keys, with
``_strict_response_validation=True`` so a body that does not fit the SDK's generated types fails the
test instead of being silently ``construct``-ed. Covered: the models endpoints, the organization
usage and cost reports (OpenAI through its typed ``client.admin.organization.usage`` methods;
Anthropic, whose SDK types only the Enterprise analytics reports, through the SDK's generic
``get_api_list`` with its own ``SyncReportPageCursor``), real pagination across pages, error bodies
mapped to the SDKs' exception classes, retries driven by ``retry-after`` headers, and request ids.

Usage and cost figures are compared with ``expected_usage`` / ``expected_costs``, which the fakes
compute from their generator and never from the HTTP layer.
"""

from __future__ import annotations

import re
import ssl
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import anthropic
import httpx
import openai
import pytest
from anthropic.pagination import SyncReportPageCursor

from fakes.anthropic import DEFAULT_MODELS as ANTHROPIC_MODELS
from fakes.anthropic import AnthropicState
from fakes.anthropic import exceptions as anthropic_errors
from fakes.openai import DEFAULT_MODELS as OPENAI_MODELS
from fakes.openai import OpenAIState
from fakes.openai import exceptions as openai_errors
from harness.backends.held_responses import HeldResponseTransport
from harness.clock import ManualClock
from harness.emulators import Emulators
from harness.faults.held import TIMEOUT_FAULT_HEADER
from harness.ports import UsageRecord

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 3, 10, tzinfo=UTC)  # exclusive: nine whole days, 2025-03-01 .. 2025-03-09
DAYS = 9
LAST_DAY = date(2025, 3, 9)
ONE_DAY = 86_400

OPENAI_REQUEST_ID = re.compile(r"req_[0-9a-f]{32}")
ANTHROPIC_REQUEST_ID = re.compile(r"req_011C[A-Za-z0-9]{20}")


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    with Emulators(clock=ManualClock(NOW), seed=7) as served:
        yield served


@pytest.fixture(autouse=True)
def fresh_fakes(emulators: Emulators) -> Iterator[None]:
    """Each test starts from freshly built provider states (no keys, faults or request log), and
    must consume every fault it arms: a leftover fault would fail an unrelated later request."""
    states = (openai_state(emulators), anthropic_state(emulators))
    for state in states:
        state.reset()
    yield
    assert [state.pending_faults for state in states] == [[], []]


def openai_state(emulators: Emulators) -> OpenAIState:
    assert emulators.openai is not None
    return emulators.openai


def anthropic_state(emulators: Emulators) -> AnthropicState:
    assert emulators.anthropic is not None
    return emulators.anthropic


def openai_client(
    emulators: Emulators, *, api_key: str, admin_api_key: str | None = None, max_retries: int = 0
) -> openai.OpenAI:
    """The SDK exactly as a user points it at the emulator: ``OPENAI_BASE_URL`` (ends in ``/v1``)."""
    return openai.OpenAI(
        base_url=emulators.env()["OPENAI_BASE_URL"],
        api_key=api_key,
        admin_api_key=admin_api_key,
        max_retries=max_retries,
        _strict_response_validation=True,
    )


def anthropic_client(emulators: Emulators, *, api_key: str, max_retries: int = 0) -> anthropic.Anthropic:
    """The SDK pointed at ``ANTHROPIC_BASE_URL`` (the root: the SDK adds ``/v1`` itself)."""
    return anthropic.Anthropic(
        base_url=emulators.env()["ANTHROPIC_BASE_URL"],
        api_key=api_key,
        max_retries=max_retries,
        _strict_response_validation=True,
    )


def spy_retry_waits(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every wait the SDK computes before a retry (what it then sleeps), so a test can prove
    the wait came from the response's headers and not from the SDK's own backoff (0.375-0.5 s)."""
    waits: list[float] = []
    original: Callable[..., float] = client._calculate_retry_timeout

    def recording(*args: Any, **kwargs: Any) -> float:
        wait = original(*args, **kwargs)
        waits.append(wait)
        return wait

    monkeypatch.setattr(client, "_calculate_retry_timeout", recording)
    return waits


def bucket_days(starts: list[datetime]) -> list[date]:
    return [moment.astimezone(UTC).date() for moment in starts]


# ------------------------------------------------------------------------------------ OpenAI


def test_openai_models_list_and_retrieve_parse_into_sdk_types(emulators: Emulators) -> None:
    """``GET /v1/models`` and ``/v1/models/{id}`` as the SDK's ``SyncPage[Model]`` / ``Model``."""
    with openai_client(emulators, api_key=openai_state(emulators).issue_key()) as client:
        page = client.models.list()
        assert [model.id for model in page] == [m["id"] for m in OPENAI_MODELS]
        assert all(isinstance(model, openai.types.Model) and model.object == "model" for model in page)

        model = client.models.retrieve("gpt-4o-mini")
        assert isinstance(model, openai.types.Model)
        assert (model.id, model.created, model.owned_by) == ("gpt-4o-mini", 1721172741, "system")
    assert [r.path for r in openai_state(emulators).requests] == ["/v1/models", "/v1/models/gpt-4o-mini"]


def test_openai_request_ids_reach_the_sdk(emulators: Emulators) -> None:
    """The SDK surfaces ``x-request-id`` as ``_request_id`` on results and ``request_id`` on errors;
    each must be the id the fake logged for that very request."""
    state = openai_state(emulators)
    with openai_client(emulators, api_key=state.issue_key()) as client:
        model = client.models.retrieve("gpt-4o")
        assert model._request_id is not None and OPENAI_REQUEST_ID.fullmatch(model._request_id)
        assert model._request_id == state.requests[-1].request_id
        page = client.models.list()
        assert page._request_id == state.requests[-1].request_id != model._request_id
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve("gpt-nonexistent")
    assert caught.value.request_id == state.requests[-1].request_id


def test_openai_completions_usage_pages_through_next_page(emulators: Emulators) -> None:
    """``client.admin.organization.usage.completions``: 1d buckets, three per page, followed through
    ``next_page`` until ``has_more`` is false; the per-(day, model) totals equal the fake's truth."""
    state = openai_state(emulators)
    admin = state.issue_admin_key()
    pages = []
    with openai_client(emulators, api_key=state.issue_key(), admin_api_key=admin) as client:
        cursor: str | openai.Omit = openai.omit
        while True:
            page = client.admin.organization.usage.completions(
                start_time=int(START.timestamp()),
                end_time=int(END.timestamp()),
                bucket_width="1d",
                group_by=["model"],
                limit=3,
                page=cursor,
            )
            pages.append(page)
            if not page.has_more:
                break
            assert page.next_page is not None
            cursor = page.next_page

    assert [(p.object, len(p.data), p.has_more) for p in pages] == [
        ("page", 3, True),
        ("page", 3, True),
        ("page", 3, False),
    ]
    assert pages[-1].next_page is None
    # The SDK sent each page's token back as ``page`` (and array parameters with brackets).
    queries = [parse_qs(r.query) for r in state.requests]
    assert queries[0]["group_by[]"] == ["model"] and "page" not in queries[0]
    assert [q["page"] for q in queries[1:]] == [[p.next_page] for p in pages[:-1]]

    buckets = [bucket for page in pages for bucket in page.data]
    starts = [bucket.start_time for bucket in buckets]
    assert starts == [int(START.timestamp()) + n * ONE_DAY for n in range(DAYS)]
    assert all(b.object == "bucket" and b.end_time - b.start_time == ONE_DAY for b in buckets)

    served: dict[tuple[date, str], UsageRecord] = {}
    for bucket in buckets:
        day = datetime.fromtimestamp(bucket.start_time, UTC).date()
        for result in bucket.results:
            assert result.object == "organization.usage.completions.result"
            assert result.project_id is None and result.api_key_id is None  # not grouped on
            assert result.model is not None and result.input_cached_tokens is not None
            served[(day, result.model)] = UsageRecord(
                day=day,
                model=result.model,
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
                cached_input_tokens=result.input_cached_tokens,
                requests=result.num_model_requests,
            )
    assert served == state.expected_usage(admin, START.date(), LAST_DAY)


def test_openai_costs_by_line_item_add_up_to_the_expected_dollars(emulators: Emulators) -> None:
    """``client.admin.organization.usage.costs`` grouped by line item: amounts in lowercase ``usd``,
    token quantities, and per-day sums equal to the fake's priced usage; pages follow ``next_page``."""
    state = openai_state(emulators)
    admin = state.issue_admin_key()
    buckets = []
    with openai_client(emulators, api_key=state.issue_key(), admin_api_key=admin) as client:
        first = client.admin.organization.usage.costs(
            start_time=int(START.timestamp()), end_time=int(END.timestamp()), group_by=["line_item"], limit=5
        )
        assert (len(first.data), first.has_more) == (5, True) and first.next_page
        second = client.admin.organization.usage.costs(
            start_time=int(START.timestamp()),
            end_time=int(END.timestamp()),
            group_by=["line_item"],
            limit=5,
            page=first.next_page,
        )
        assert (len(second.data), second.has_more, second.next_page) == (4, False, None)
        buckets = [*first.data, *second.data]

    assert [b.start_time for b in buckets] == [int(START.timestamp()) + n * ONE_DAY for n in range(DAYS)]
    per_day: dict[date, float] = defaultdict(float)
    for bucket in buckets:
        for result in bucket.results:
            assert result.object == "organization.costs.result"
            assert result.amount is not None and result.amount.currency == "usd"
            assert result.line_item is not None and result.line_item.endswith((", input", ", output"))
            assert result.quantity_unit == "tokens" and result.quantity is not None and result.quantity > 0
            assert result.amount.value is not None
            per_day[datetime.fromtimestamp(bucket.start_time, UTC).date()] += result.amount.value

    expected: dict[date, Decimal] = defaultdict(Decimal)
    for (day, _model), dollars in state.expected_costs(admin, START.date(), LAST_DAY).items():
        expected[day] += dollars
    assert set(per_day) == set(expected)
    for day, dollars in expected.items():
        assert per_day[day] == pytest.approx(float(dollars), rel=1e-9)


def test_openai_usage_with_a_project_key_is_permission_denied(emulators: Emulators) -> None:
    """A project key on the Admin API: 403 whose ``error`` is a bare string. The SDK still maps it
    to ``PermissionDeniedError``, with no ``code``/``type`` to extract."""
    state = openai_state(emulators)
    key = state.issue_key()
    with (
        openai_client(emulators, api_key=key, admin_api_key=key) as client,
        pytest.raises(openai.PermissionDeniedError) as caught,
    ):
        client.admin.organization.usage.completions(start_time=int(START.timestamp()))
    error = caught.value
    assert error.status_code == 403
    assert isinstance(error.body, str) and error.body.endswith("Missing scopes: api.usage.read.")
    assert (error.code, error.type) == (None, None)


def test_openai_invalid_key_is_authentication_error_with_the_real_body(emulators: Emulators) -> None:
    """401 ``invalid_request_error`` / ``invalid_api_key`` with the key masked in the message."""
    bogus = "sk-proj-" + "x" * 40 + "WXYZ"
    with (
        openai_client(emulators, api_key=bogus) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.models.list()
    error = caught.value
    assert (error.status_code, error.type, error.code, error.param) == (
        401,
        "invalid_request_error",
        "invalid_api_key",
        None,
    )
    assert isinstance(error.body, dict)
    assert error.body["message"].startswith("Incorrect API key provided: sk-proj-")
    assert bogus not in error.message and "WXYZ" in error.message  # masked, last four shown


def test_openai_unknown_model_is_not_found(emulators: Emulators) -> None:
    with (
        openai_client(emulators, api_key=openai_state(emulators).issue_key()) as client,
        pytest.raises(openai.NotFoundError) as caught,
    ):
        client.models.retrieve("gpt-nonexistent")
    error = caught.value
    assert (error.status_code, error.type, error.code, error.param) == (
        404,
        "invalid_request_error",
        "model_not_found",
        "model",
    )
    # ModelNotFound's text is not confirmed: compared only through the class that renders it.
    assert (
        error.body == openai_errors.ModelNotFound(param="model", model_id="gpt-nonexistent").body()["error"]
    )


def test_openai_armed_429_is_rate_limit_error_without_retries(emulators: Emulators) -> None:
    state = openai_state(emulators)
    state.add_fault(429, retry_after=2)
    with (
        openai_client(emulators, api_key=state.issue_key()) as client,
        pytest.raises(openai.RateLimitError) as caught,
    ):
        client.models.list()
    error = caught.value
    assert (error.type, error.code) == ("requests", "rate_limit_exceeded")
    assert error.response.headers["retry-after"] == "2"
    assert [(r.status, r.fault) for r in state.requests] == [(429, True)]  # max_retries=0: one request


def test_openai_retry_honours_retry_after_ms(emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one retry allowed the SDK waits what the 429 says and succeeds. ``retry-after-ms`` (10 ms)
    takes precedence over ``retry-after`` (1 s), so the wait is 0.01 s, not 1 s or the backoff."""
    state = openai_state(emulators)
    state.add_fault(429, retry_after=1, retry_after_ms=10)
    with openai_client(emulators, api_key=state.issue_key(), max_retries=1) as client:
        waits = spy_retry_waits(client, monkeypatch)
        models = client.models.list()
    assert [m.id for m in models] == [m["id"] for m in OPENAI_MODELS]
    assert waits == [0.01]
    log = state.requests
    assert [(r.status, r.fault, r.headers["x-stainless-retry-count"]) for r in log] == [
        (429, True, "0"),
        (200, False, "1"),
    ]
    assert models._request_id == log[-1].request_id


@pytest.mark.parametrize("status", [500, 503])
def test_openai_server_errors_are_internal_server_error(emulators: Emulators, status: int) -> None:
    state = openai_state(emulators)
    state.add_fault(status)
    with (
        openai_client(emulators, api_key=state.issue_key()) as client,
        pytest.raises(openai.InternalServerError) as caught,
    ):
        client.models.list()
    assert (caught.value.status_code, caught.value.type, caught.value.code) == (status, "server_error", None)
    assert caught.value.request_id == state.requests[-1].request_id


# --------------------------------------------------------------------------------- Anthropic

# The Usage & Cost Admin API's documented shapes. The anthropic SDK has no types for these two
# endpoints, so they are declared here on the SDK's own BaseModel and validated strictly by it.


class CacheCreation(anthropic.BaseModel):
    ephemeral_1h_input_tokens: int
    ephemeral_5m_input_tokens: int


class ServerToolUse(anthropic.BaseModel):
    web_search_requests: int


class MessagesUsageResult(anthropic.BaseModel):
    uncached_input_tokens: int
    cache_creation: CacheCreation
    cache_read_input_tokens: int
    output_tokens: int
    server_tool_use: ServerToolUse
    api_key_id: str | None
    workspace_id: str | None
    model: str | None
    service_tier: str | None
    context_window: str | None


class MessagesUsageBucket(anthropic.BaseModel):
    starting_at: datetime
    ending_at: datetime
    results: list[MessagesUsageResult]


class CostResult(anthropic.BaseModel):
    currency: str
    amount: str
    workspace_id: str | None
    description: str | None
    cost_type: str | None
    context_window: str | None
    model: str | None
    service_tier: str | None
    token_type: str | None


class CostBucket(anthropic.BaseModel):
    starting_at: datetime
    ending_at: datetime
    results: list[CostResult]


def report_params(**extra: Any) -> dict[str, Any]:
    return {"starting_at": START.isoformat(), "ending_at": END.isoformat(), **extra}


def test_anthropic_models_list_autopaginates_and_retrieve_parses(emulators: Emulators) -> None:
    """``client.models.list`` follows ``has_more``/``last_id`` across pages into ``ModelInfo``s
    (which require ``lifecycle`` under the SDK's ``anthropic-version``); ``retrieve`` parses one."""
    state = anthropic_state(emulators)
    newest_first = sorted(ANTHROPIC_MODELS, key=lambda m: m["created_at"], reverse=True)
    with anthropic_client(emulators, api_key=state.issue_key()) as client:
        first = client.models.list(limit=2)
        assert (len(first.data), first.has_more, first.last_id) == (2, True, newest_first[1]["id"])
        models = list(first)  # iterating a page fetches the following ones
        assert [m.id for m in models] == [m["id"] for m in newest_first]
        assert all(isinstance(m, anthropic.types.ModelInfo) and m.lifecycle == "active" for m in models)

        model = client.models.retrieve("claude-sonnet-4-20250514")
        assert isinstance(model, anthropic.types.ModelInfo)
        assert (model.display_name, model.created_at) == (
            "Claude Sonnet 4",
            datetime(2025, 5, 22, tzinfo=UTC),
        )
    log = state.requests
    assert log[1].query == f"limit=2&after_id={newest_first[1]['id']}"
    assert all(r.headers["anthropic-version"] == "2026-10-21" for r in log)


def test_anthropic_request_ids_reach_the_sdk(emulators: Emulators) -> None:
    """``request-id`` becomes ``_request_id`` on results and ``request_id`` on errors, equal to the
    id in the error body and to the one the fake logged."""
    state = anthropic_state(emulators)
    with anthropic_client(emulators, api_key=state.issue_key()) as client:
        model = client.models.retrieve("claude-opus-4-20250514")
        assert model._request_id is not None and ANTHROPIC_REQUEST_ID.fullmatch(model._request_id)
        assert model._request_id == state.requests[-1].request_id
        page = client.models.list()
        assert page._request_id == state.requests[-1].request_id != model._request_id
        with pytest.raises(anthropic.NotFoundError) as caught:
            client.models.retrieve("claude-nonexistent")
    error = caught.value
    assert error.request_id == state.requests[-1].request_id
    assert isinstance(error.body, dict) and error.body["request_id"] == error.request_id


def test_anthropic_usage_report_pages_with_the_sdk_report_cursor(emulators: Emulators) -> None:
    """``GET /v1/organizations/usage_report/messages`` through ``get_api_list`` and the SDK's
    ``SyncReportPageCursor``: iteration follows ``next_page`` while ``has_more``; per-(day, model)
    totals equal the fake's truth."""
    state = anthropic_state(emulators)
    admin = state.issue_admin_key()
    with anthropic_client(emulators, api_key=admin) as client:
        first = client.get_api_list(
            "/v1/organizations/usage_report/messages",
            model=MessagesUsageBucket,
            page=SyncReportPageCursor[MessagesUsageBucket],
            options={"params": report_params(bucket_width="1d", limit=4, **{"group_by": ["model"]})},
        )
        assert (len(first.data), first.has_more) == (4, True) and first.next_page
        assert first._request_id == state.requests[-1].request_id
        buckets = list(first)
    log = state.requests
    assert len(log) == 3  # 4 + 4 + 1 buckets
    assert "group_by%5B%5D=model" in log[0].query and "page=" not in log[0].query
    assert all("page=page_" in r.query for r in log[1:])

    starts = [b.starting_at for b in buckets]
    assert starts == [START + timedelta(days=n) for n in range(DAYS)]
    assert all(b.ending_at - b.starting_at == timedelta(days=1) for b in buckets)

    served: dict[tuple[date, str], UsageRecord] = {}
    for day, bucket in zip(bucket_days(starts), buckets, strict=True):
        for result in bucket.results:
            assert result.model is not None and result.workspace_id is None  # grouped on model only
            creation = result.cache_creation
            served[(day, result.model)] = UsageRecord(
                day=day,
                model=result.model,
                input_tokens=result.uncached_input_tokens
                + creation.ephemeral_5m_input_tokens
                + creation.ephemeral_1h_input_tokens,
                output_tokens=result.output_tokens,
                cached_input_tokens=result.cache_read_input_tokens,
            )
    assert served == state.expected_usage(admin, START.date(), LAST_DAY)


def test_anthropic_cost_report_amounts_are_cents_adding_up_to_the_expected_dollars(
    emulators: Emulators,
) -> None:
    """``GET /v1/organizations/cost_report`` grouped by description: ``USD`` amounts as decimal
    strings in cents whose per-day sums, divided by 100, equal the fake's priced usage exactly."""
    state = anthropic_state(emulators)
    admin = state.issue_admin_key()
    with anthropic_client(emulators, api_key=admin) as client:
        buckets = list(
            client.get_api_list(
                "/v1/organizations/cost_report",
                model=CostBucket,
                page=SyncReportPageCursor[CostBucket],
                options={"params": report_params(limit=5, **{"group_by": ["description"]})},
            )
        )
    assert len(state.requests) == 2  # 5 + 4 buckets
    assert [b.starting_at for b in buckets] == [START + timedelta(days=n) for n in range(DAYS)]

    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for bucket in buckets:
        for result in bucket.results:
            assert result.currency == "USD" and result.cost_type == "tokens"
            assert result.model is not None and result.description is not None
            assert result.token_type in {
                "uncached_input_tokens",
                "output_tokens",
                "cache_read_input_tokens",
                "cache_creation.ephemeral_5m_input_tokens",
                "cache_creation.ephemeral_1h_input_tokens",
            }
            per_day[bucket.starting_at.date()] += Decimal(result.amount)
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for (day, _model), dollars in state.expected_costs(admin, START.date(), LAST_DAY).items():
        expected[day] += dollars
    assert {day: cents / 100 for day, cents in per_day.items()} == expected


def test_anthropic_usage_report_with_a_non_admin_key_is_authentication_error(emulators: Emulators) -> None:
    state = anthropic_state(emulators)
    with (
        anthropic_client(emulators, api_key=state.issue_key()) as client,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        client.get_api_list(
            "/v1/organizations/usage_report/messages",
            model=MessagesUsageBucket,
            page=SyncReportPageCursor[MessagesUsageBucket],
            options={"params": report_params()},
        )
    assert (caught.value.type, caught.value.api_message) == ("authentication_error", "invalid x-api-key")


def test_anthropic_invalid_key_is_authentication_error_with_the_real_body(emulators: Emulators) -> None:
    with (
        anthropic_client(emulators, api_key="sk-ant-api03-not-issued") as client,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        client.models.list()
    error = caught.value
    assert (error.status_code, error.type, error.api_message) == (
        401,
        "authentication_error",
        "invalid x-api-key",
    )
    assert error.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": error.request_id,
    }


def test_anthropic_unknown_model_is_not_found(emulators: Emulators) -> None:
    with (
        anthropic_client(emulators, api_key=anthropic_state(emulators).issue_key()) as client,
        pytest.raises(anthropic.NotFoundError) as caught,
    ):
        client.models.retrieve("claude-nonexistent")
    assert (caught.value.status_code, caught.value.type) == (404, "not_found_error")
    # ModelNotFound's text is not confirmed: compared only through the class that renders it.
    assert caught.value.api_message == anthropic_errors.ModelNotFound(model_id="claude-nonexistent").message


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_anthropic_armed_faults_map_to_the_sdk_classes(
    emulators: Emulators, status: int, error_class: type[anthropic.APIStatusError], error_type: str
) -> None:
    """429 → ``RateLimitError``; 500 → ``InternalServerError``; 529 → ``OverloadedError`` (an
    ``InternalServerError``), each with the documented ``error.type``; no retry with max_retries=0."""
    state = anthropic_state(emulators)
    state.add_fault(status, retry_after=3)
    with (
        anthropic_client(emulators, api_key=state.issue_key()) as client,
        pytest.raises(error_class) as caught,
    ):
        client.models.list()
    error = caught.value
    assert (error.status_code, error.type) == (status, error_type)
    assert error.response.headers["retry-after"] == "3"
    assert isinstance(error, anthropic.InternalServerError) == (status >= 500)
    assert [(r.status, r.fault) for r in state.requests] == [(status, True)]


@pytest.mark.parametrize("status", [429, 529])
def test_anthropic_retry_honours_a_fractional_retry_after(
    emulators: Emulators, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """With one retry allowed the SDK waits the ``retry-after`` the fault sends (0.01 s, a float the
    SDK accepts) and the second attempt succeeds."""
    state = anthropic_state(emulators)
    state.add_fault(status, retry_after=0.01)
    with anthropic_client(emulators, api_key=state.issue_key(), max_retries=1) as client:
        waits = spy_retry_waits(client, monkeypatch)
        model = client.models.retrieve("claude-opus-4-20250514")
    assert model.id == "claude-opus-4-20250514"
    assert waits == [0.01]
    assert [(r.status, r.headers["x-stainless-retry-count"]) for r in state.requests] == [
        (status, "0"),
        (200, "1"),
    ]


# ---------------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_an_armed_timeout_is_the_sdk_timeout_error(emulators: Emulators, provider: str) -> None:
    """``add_timeout()`` on a served fake holds the response until the client gives up: the SDK's
    own read timeout (0.2 s here) fires as ``APITimeoutError``, and no retry is made."""
    state: OpenAIState | AnthropicState
    client: openai.OpenAI | anthropic.Anthropic
    expected: type[Exception]
    if provider == "openai":
        state = openai_state(emulators)
        client = openai_client(emulators, api_key=state.issue_key()).with_options(timeout=0.2)
        expected = openai.APITimeoutError
    else:
        state = anthropic_state(emulators)
        client = anthropic_client(emulators, api_key=state.issue_key()).with_options(timeout=0.2)
        expected = anthropic.APITimeoutError
    state.add_timeout()
    with client, pytest.raises(expected):
        client.models.list()
    assert [(r.path, r.delay) for r in state.requests] == [("/v1/models", float("inf"))]


def test_the_emulator_tiers_own_transport_is_told_of_a_held_response_at_once(emulators: Emulators) -> None:
    """A request that asks (``harness.faults.held``) gets the held response's 504 marker at once, and
    the emulator tier's transport raises the ``ReadTimeout`` the wait would have ended in: the
    message is the transport's own, not httpx's, so the hold was never waited out. The fault still
    counts as fired on the emulator."""
    state = openai_state(emulators)
    key = state.issue_key()
    state.add_timeout()
    with (
        httpx.Client(transport=HeldResponseTransport(), timeout=httpx.Timeout(60.0)) as client,
        pytest.raises(httpx.ReadTimeout, match="holds this response"),
    ):
        client.get(f"{emulators.openai_url}/v1/models", headers={"authorization": f"Bearer {key}"})
    assert [(r.path, r.delay) for r in state.requests] == [("/v1/models", float("inf"))]
    with httpx.Client(transport=HeldResponseTransport()) as client:  # no fault armed: untouched
        answer = client.get(f"{emulators.openai_url}/v1/models", headers={"authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and TIMEOUT_FAULT_HEADER not in answer.headers


def test_the_emulator_tiers_transports_verify_with_the_provider_clients_shared_tls_context() -> None:
    """Four held-response transports are built per emulator-tier platform: each verifies with the
    one context the provider clients share (a CA bundle is loaded once, not per transport), and
    that context still verifies certificates and host names."""
    from harness.providers import build_client

    def tls(transport: httpx.BaseTransport) -> Any:
        return transport._pool._ssl_context  # type: ignore[attr-defined]

    first, second = HeldResponseTransport(), HeldResponseTransport()
    with build_client() as client:
        assert tls(first._inner) is tls(second._inner) is tls(client._transport)
    assert tls(first._inner).verify_mode is ssl.CERT_REQUIRED and tls(first._inner).check_hostname
