"""Usage and cost pulls against the provider fakes, mounted in-process (no sockets, no sleeping).

Three layers are checked: the clients (``harness.providers.usage_*``) against the fakes' independent
truth (``state.expected_usage`` / ``expected_costs``, computed from the generator, not from HTTP);
the fakes' query forms and error bodies; and the fakes' wire shapes (exact field sets, and the
official ``openai`` SDK parsing them). Anthropic's SDK (2.x) exposes only the newer analytics
endpoints, not ``usage_report/messages`` / ``cost_report``, so there is no SDK check for those.

Sources for shapes and errors: the ``openai`` SDK's ``types/admin/organization/usage_*`` (fields,
limits per bucket width); Anthropic's API reference and its cookbook
``anthropics/claude-cookbooks:observability/usage_cost_api.ipynb`` (fields, cents as decimal
strings, ``group_by[]``); OpenAI's missing-scope 403 body as quoted verbatim by public client test
suites. The fakes' errors are asserted by class (``fakes/<provider>/exceptions.py``): a message is
written out here only when its class is confirmed; an unconfirmed one follows the provider's usual
wording and is compared only through the class that renders it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
import respx
from starlette.testclient import TestClient

from fakes.anthropic import AnthropicState
from fakes.anthropic import create_app as create_anthropic_app
from fakes.anthropic import exceptions as anthropic_errors
from fakes.errors import text_is_confirmed
from fakes.openai import OpenAIState
from fakes.openai import create_app as create_openai_app
from fakes.openai import exceptions as openai_errors
from fakes.provider_mocks import ProviderMocks
from fakes.providers.paging import decode_cursor, encode_cursor
from fakes.providers.usage import CORRUPTION_KINDS, COST_MISMATCH_USD
from harness.clock import ManualClock
from harness.ports import (
    CostRecord,
    Provider,
    ProviderAuthError,
    ProviderUnavailableError,
    UsagePull,
    UsageRecord,
    UsageSource,
)
from harness.providers import usage_source_for, validator_for
from harness.providers.http import MALFORMED_KEY_MESSAGE, RetryPolicy
from harness.providers.reports import ProviderRequestError, ReportSource
from harness.providers.usage_anthropic import AnthropicUsageSource, cents_to_dollars
from harness.providers.usage_openai import OpenAIUsageSource, line_item_model

PROVIDERS = ["openai", "anthropic"]
START, MID, END = date(2025, 2, 26), date(2025, 2, 27), date(2025, 2, 28)
OPENAI_SCOPE_MESSAGE = "You have insufficient permissions for this operation. Missing scopes: api.usage.read."


pytestmark = pytest.mark.usefixtures("no_sockets")


def assert_openai_error(response: httpx.Response, error: openai_errors.OpenAIError) -> None:
    """The fake sent exactly the body of ``error``'s class (its text stands for the class only)."""
    assert response.status_code == error.status
    assert response.json() == error.body()


def assert_anthropic_error(response: httpx.Response, error: anthropic_errors.AnthropicError) -> None:
    """The fake sent exactly the body of ``error``'s class (its text stands for the class only)."""
    assert response.status_code == error.status
    assert response.json() == error.body(response.headers["request-id"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def mocks(clock: ManualClock) -> Iterator[ProviderMocks]:
    with ProviderMocks(OpenAIState(seed=11, clock=clock), AnthropicState(seed=11, clock=clock)) as active:
        yield active


@pytest.fixture
def sleeps() -> list[float]:
    return []


def state_of(mocks: ProviderMocks, provider: str) -> OpenAIState | AnthropicState:
    return mocks.openai if provider == "openai" else mocks.anthropic


def source(provider: str, sleeps: list[float], clock: ManualClock, **options: Any) -> ReportSource:
    return usage_source_for(provider, sleep=sleeps.append, clock=clock, **options)  # type: ignore[return-value]


def by_key(pull: UsagePull) -> dict[tuple[date, str], Any]:
    """Records keyed by (day, model); fails if a key repeats (the clean data never does)."""
    keys = [(r.day, r.model) for r in pull.records]
    assert len(keys) == len(set(keys)), f"duplicate (day, model) records: {Counter(keys).most_common(3)}"
    return {(r.day, r.model): (r.cost_usd if isinstance(r, CostRecord) else r) for r in pull.records}


# ------------------------------------------------------------------------- exact totals


@pytest.mark.parametrize("provider", PROVIDERS)
class TestExactTotals:
    def test_usage_equals_the_generator(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        pull = source(provider, sleeps, clock).usage(key, START, END)
        expected = state.expected_usage(key, START, END)
        assert by_key(pull) == expected
        assert all(isinstance(r, UsageRecord) for r in pull.records)
        assert {day for day, _ in expected} == {START, MID, END}
        assert (pull.pages, pull.requests, sleeps) == (1, 1, [])
        assert len(state.requests) == 1

    def test_costs_equal_the_generator_exactly(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        pull = source(provider, sleeps, clock).costs(key, START, END)
        expected = state.expected_costs(key, START, END)
        assert by_key(pull) == expected
        assert all(isinstance(r.cost_usd, Decimal) and r.cost_usd > 0 for r in pull.records)
        assert set(expected) == set(state.expected_usage(key, START, END))
        assert (pull.pages, pull.requests) == (1, 1)

    def test_costs_equal_priced_usage(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        usage = by_key(source(provider, sleeps, clock).usage(key, START, END))
        costs = by_key(source(provider, sleeps, clock).costs(key, START, END))
        assert costs == {k: state.price_usage(record) for k, record in usage.items()}

    def test_finer_grouping_is_summed_to_the_same_records(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        extra = (
            ("project_id", "api_key_id", "batch")
            if provider == "openai"
            else ("workspace_id", "service_tier")
        )
        fine = source(provider, sleeps, clock, group_by=("model", *extra)).usage(key, START, END)
        assert by_key(fine) == state.expected_usage(key, START, END)
        last = state.requests[-1]
        assert all(f"group_by%5B%5D={name}" in last.query for name in extra)
        # The fake really did split the rows: the report has more result rows than records.
        base = "https://api.openai.com" if provider == "openai" else "https://api.anthropic.com"
        headers = mocks.calls.last.request.headers
        raw = httpx.get(f"{base}{last.path}?{last.query}", headers=headers).json()
        assert sum(len(bucket["results"]) for bucket in raw["data"]) > len(fine.records)

    def test_the_mapping_is_the_documented_one(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        day_rows = [r for r in state.usage_rows(key, MID) if r.dims["model"] == state.usage_models()[0]]
        [record] = [
            r
            for r in source(provider, sleeps, clock).usage(key, MID, MID).records
            if r.model == state.usage_models()[0]
        ]

        def total(name: str) -> int:
            return sum(r.metrics[name] for r in day_rows)

        if provider == "openai":
            assert record.input_tokens == total("input_tokens")  # includes cached, as reported
            assert record.cached_input_tokens == total("input_cached_tokens") <= record.input_tokens
            assert record.requests == total("num_model_requests")
        else:
            assert record.input_tokens == (
                total("uncached_input_tokens")
                + total("cache_creation.ephemeral_5m_input_tokens")
                + total("cache_creation.ephemeral_1h_input_tokens")
            )
            assert record.cached_input_tokens == total("cache_read_input_tokens")
            assert record.requests is None
        assert record.output_tokens == total("output_tokens")


# --------------------------------------------------------------------------- pagination


@pytest.mark.parametrize("provider", PROVIDERS)
class TestPagination:
    @pytest.mark.parametrize(("page_size", "pages"), [(1, 3), (2, 2), (3, 1), (None, 1)])
    def test_pages_give_the_same_records(self, provider, mocks, sleeps, clock, page_size, pages) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        one_page = source(provider, sleeps, clock).usage(key, START, END)
        before = len(state.requests)
        paged = source(provider, sleeps, clock, page_size=page_size).usage(key, START, END)
        assert paged.records == one_page.records
        assert (paged.pages, paged.requests) == (pages, pages)
        queries = [r.query for r in state.requests[before:]]
        assert len(queries) == pages
        assert "page=" not in queries[0] and all("page=page_" in q for q in queries[1:])
        costs = source(provider, sleeps, clock, page_size=page_size).costs(key, START, END)
        assert by_key(costs) == state.expected_costs(key, START, END)
        assert costs.pages == pages

    def test_twenty_models_thirty_days(self, provider, sleeps, clock) -> None:
        cls = OpenAIState if provider == "openai" else AnthropicState
        state = cls(seed=5, clock=clock, usage_model_count=20)
        args = (state,) if provider == "openai" else (None, state)
        first, last = date(2025, 1, 1), date(2025, 1, 30)
        with ProviderMocks(*args):
            key = state.issue_admin_key()
            usage = source(provider, sleeps, clock).usage(key, first, last)
            costs = source(provider, sleeps, clock, page_size=7).costs(key, first, last)
        expected = state.expected_usage(key, first, last)
        assert by_key(usage) == expected
        assert by_key(costs) == state.expected_costs(key, first, last)
        assert usage.pages == 1 and costs.pages == 5  # 30 days: one page of 31, or 7+7+7+7+2
        models = state.usage_models()
        assert len(set(models)) == 20 and {m for _, m in expected} == set(models)
        assert 300 < len(expected) < 600  # some models idle on some days...
        assert all((day, models[0]) in expected for day in (first + timedelta(n) for n in range(30)))

    def test_a_cursor_that_does_not_advance_is_an_error(self, provider, sleeps, clock) -> None:
        url = (
            "https://api.openai.com/v1/organization/usage/completions"
            if provider == "openai"
            else "https://api.anthropic.com/v1/organizations/usage_report/messages"
        )
        with respx.mock:
            respx.get(url__startswith=url).respond(json={"data": [], "has_more": True, "next_page": "page_x"})
            with pytest.raises(ValueError, match="pagination did not advance"):
                source(provider, sleeps, clock).usage("sk-admin-x", START, END)


# ---------------------------------------------------------------------- keys and auth


@pytest.mark.parametrize("provider", PROVIDERS)
class TestAuth:
    def test_revoked_admin_key(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        state.revoke(key)
        with pytest.raises(ProviderAuthError) as caught:
            source(provider, sleeps, clock).usage(key, START, END)
        assert caught.value.status == 401 and caught.value.provider is Provider(provider)
        if provider == "openai":
            assert caught.value.message.startswith("Incorrect API key provided: sk-admin")
        else:
            assert caught.value.message == "invalid x-api-key"
        assert sleeps == []  # an answer, not a failure

    def test_a_non_admin_key_is_refused(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        project_key = state.issue_key()
        with pytest.raises(ProviderAuthError) as caught:
            source(provider, sleeps, clock).costs(project_key, START, END)
        if provider == "openai":
            assert (caught.value.status, caught.value.message) == (403, OPENAI_SCOPE_MESSAGE)
        else:
            assert (caught.value.status, caught.value.message) == (401, "invalid x-api-key")
        assert len(state.requests) == 1

    def test_unsendable_key_is_refused_locally(self, provider, mocks, sleeps, clock) -> None:
        with pytest.raises(ProviderAuthError) as caught:
            source(provider, sleeps, clock).usage("sk-\u00e9", START, END)
        assert (caught.value.status, caught.value.message) == (0, MALFORMED_KEY_MESSAGE)
        assert mocks.calls.call_count == 0

    def test_admin_keys_look_real_and_are_deterministic(self, provider) -> None:
        cls = OpenAIState if provider == "openai" else AnthropicState
        key = cls(seed=3).issue_admin_key()
        pattern = (
            r"sk-admin-[A-Za-z0-9_-]{58}T3BlbkFJ[A-Za-z0-9_-]{58}"
            if provider == "openai"
            else r"sk-ant-admin01-[A-Za-z0-9_-]{93}AA"
        )
        assert re.fullmatch(pattern, key)
        assert cls(seed=3).issue_admin_key() == key
        assert cls(seed=4).issue_admin_key() != key
        state = cls(seed=3)
        state.issue_admin_key()
        state.reset()
        assert state.admin_keys == set() and state.issue_admin_key() == key

    def test_an_admin_key_also_validates_by_default(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        assert validator_for(provider, sleep=sleeps.append, clock=clock).validate(key).valid

    def test_admin_keys_can_be_refused_on_models_like_the_real_apis(
        self, provider, mocks, sleeps, clock
    ) -> None:
        state = state_of(mocks, provider)
        state.admin_keys_list_models = False
        key = state.issue_admin_key()
        check = validator_for(provider, sleep=sleeps.append, clock=clock).validate(key)
        assert (check.valid, check.status) == (False, 401)
        assert (
            validator_for(provider, clock=clock).validate(state.issue_key()).valid
        )  # project keys still work
        assert by_key(source(provider, sleeps, clock).usage(key, START, START))  # and the admin key pulls


# ------------------------------------------------------------------------------ faults


@pytest.mark.parametrize("provider", PROVIDERS)
class TestFaults:
    def test_429_with_retry_after_then_success(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        state.add_fault(429, retry_after=2)
        pull = source(provider, sleeps, clock).usage(key, START, END)
        assert by_key(pull) == state.expected_usage(key, START, END)
        assert sleeps == [2.0]
        assert (pull.pages, pull.requests) == (1, 2)
        assert [r.status for r in state.requests] == [429, 200]

    def test_a_fault_on_a_later_page_is_retried_too(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        src = source(provider, sleeps, clock, page_size=1)
        state.add_fault(None, delay=0.0)  # page 1: normal
        state.add_fault(503, retry_after=1)  # page 2: one 503
        pull = src.costs(key, START, END)
        assert by_key(pull) == state.expected_costs(key, START, END)
        assert (pull.pages, pull.requests, sleeps) == (3, 4, [1.0])

    def test_persistent_500_is_unavailable(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        state.add_fault(500, times=100)
        with pytest.raises(ProviderUnavailableError) as caught:
            source(provider, sleeps, clock).costs(state.issue_admin_key(), START, END)
        assert caught.value.status == 500 and caught.value.provider is Provider(provider)
        assert len(state.requests) == 4 and sleeps == [0.5, 1.0, 2.0]

    def test_timeouts_are_retried(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        state.add_timeout()
        pull = source(provider, sleeps, clock).usage(key, START, END)
        assert by_key(pull) == state.expected_usage(key, START, END)
        assert (pull.requests, sleeps) == (2, [0.5])

    def test_persistent_timeouts_are_unavailable(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        state.add_timeout(times=10)
        with pytest.raises(ProviderUnavailableError) as caught:
            source(provider, sleeps, clock, retry=RetryPolicy(max_attempts=2)).usage(
                state.issue_admin_key(), START, END
            )
        assert caught.value.status is None and "ReadTimeout" in caught.value.message

    def test_a_slow_answer_within_the_timeout_is_delivered(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        state.add_fault(None, delay=3.0)
        assert by_key(source(provider, sleeps, clock).usage(key, START, END))
        assert sleeps == [] and state.requests[0].delay == 3.0

    def test_a_rate_limited_key_is_unavailable(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        state.rate_limit(key, retry_after=1)
        with pytest.raises(ProviderUnavailableError) as caught:
            source(provider, sleeps, clock).usage(key, START, END)
        assert caught.value.status == 429 and sleeps == [1.0, 1.0, 1.0]

    def test_a_refused_request_is_not_retried(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        state.add_fault(400)
        with pytest.raises(ProviderRequestError) as caught:
            source(provider, sleeps, clock).usage(state.issue_admin_key(), START, END)
        assert caught.value.status == 400 and sleeps == []


# ------------------------------------------------------------------------------ money


class TestMoney:
    @pytest.mark.parametrize(
        ("cents", "dollars"),
        [
            ("123.45", "1.2345"),
            ("0.0003", "0.000003"),
            ("100", "1"),
            ("0", "0"),
            ("98765.4321", "987.654321"),
        ],
    )
    def test_anthropic_cents_to_dollars_is_exact(self, cents: str, dollars: str) -> None:
        assert cents_to_dollars(cents) == Decimal(dollars)

    def test_anthropic_cost_report_end_to_end(self, sleeps, clock) -> None:
        body = {
            "data": [
                {
                    "starting_at": "2025-02-26T00:00:00Z",
                    "ending_at": "2025-02-27T00:00:00Z",
                    "results": [
                        {"currency": "USD", "amount": "123.45", "model": "claude-x", "description": "X"},
                        {"currency": "USD", "amount": "0.01", "model": "claude-x", "description": "Y"},
                        {"currency": "USD", "amount": "50", "model": None, "description": "Web Search Usage"},
                    ],
                }
            ],
            "has_more": False,
            "next_page": None,
        }
        with respx.mock:
            respx.get(url__startswith="https://api.anthropic.com/v1/organizations/cost_report").respond(
                json=body
            )
            pull = AnthropicUsageSource(sleep=sleeps.append, clock=clock).costs(
                "sk-ant-admin01-x", START, START
            )
        assert pull.records == [
            CostRecord(day=START, model="Web Search Usage", cost_usd=Decimal("0.5")),
            CostRecord(day=START, model="claude-x", cost_usd=Decimal("1.2346")),
        ]

    def test_openai_amounts_never_pass_through_floats(self, sleeps, clock) -> None:
        text = (
            '{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket",'
            '"start_time":1740528000,"end_time":1740614400,"results":['
            '{"object":"organization.costs.result","amount":{"value":0.1,"currency":"usd"},'
            '"line_item":"m, input"},'
            '{"object":"organization.costs.result","amount":{"value":0.2,"currency":"usd"},'
            '"line_item":"m, output"}'
            "]}]}"
        )
        with respx.mock:
            respx.get(url__startswith="https://api.openai.com/v1/organization/costs").respond(
                text=text, headers={"content-type": "application/json"}
            )
            pull = OpenAIUsageSource(sleep=sleeps.append, clock=clock).costs("sk-admin-x", START, START)
        assert pull.records == [
            CostRecord(day=START, model="m", cost_usd=Decimal("0.3"))
        ]  # not 0.30000000000000004

    def test_a_foreign_currency_is_refused(self, sleeps, clock) -> None:
        body = {
            "data": [{"starting_at": "2025-02-26T00:00:00Z", "results": [{"currency": "EUR", "amount": "1"}]}]
        }
        with respx.mock:
            respx.get(url__startswith="https://api.anthropic.com/").respond(json=body)
            with pytest.raises(ValueError, match="EUR"):
                AnthropicUsageSource(sleep=sleeps.append, clock=clock).costs("k", START, START)

    @pytest.mark.parametrize(
        ("line_item", "model"),
        [
            ("gpt-4o-2024-08-06, input", "gpt-4o-2024-08-06"),
            ("ft:gpt-4o:org::x, output", "ft:gpt-4o:org::x"),
            ("web search", "web search"),
            (None, "unknown"),
        ],
    )
    def test_openai_line_item_model(self, line_item, model) -> None:
        assert line_item_model(line_item) == model


# ------------------------------------------------------------------- fake query forms


@pytest.fixture
def openai_app(clock: ManualClock) -> Iterator[tuple[OpenAIState, TestClient, str]]:
    state = OpenAIState(seed=2, clock=clock)
    with TestClient(create_openai_app(state), base_url="https://api.openai.com") as client:
        client.headers["authorization"] = f"Bearer {state.issue_admin_key()}"
        yield state, client, client.headers["authorization"][7:]


@pytest.fixture
def anthropic_app(clock: ManualClock) -> Iterator[tuple[AnthropicState, TestClient, str]]:
    state = AnthropicState(seed=2, clock=clock)
    with TestClient(create_anthropic_app(state), base_url="https://api.anthropic.com") as client:
        key = state.issue_admin_key()
        client.headers.update({"x-api-key": key, "anthropic-version": "2023-06-01"})
        yield state, client, key


def unix(day: date, hours: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hours, tzinfo=UTC).timestamp())


def rfc(day: date, hours: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hours, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


USAGE = "/v1/organization/usage/completions"
COSTS = "/v1/organization/costs"
A_USAGE = "/v1/organizations/usage_report/messages"
A_COSTS = "/v1/organizations/cost_report"


class TestOpenAIQueryForms:
    @pytest.mark.parametrize(
        ("path", "width", "supported"),
        [(USAGE, "2d", "'1m', '1h', and '1d'"), (USAGE, "1D", "'1m', '1h', and '1d'"), (COSTS, "1h", "'1d'")],
    )
    def test_invalid_bucket_width(self, openai_app, path, width, supported) -> None:
        _, client, _ = openai_app
        response = client.get(path, params={"start_time": unix(START), "bucket_width": width})
        assert_openai_error(
            response, openai_errors.InvalidValue(param="bucket_width", value=width, supported=supported)
        )
        assert response.json()["error"]["type"] == "invalid_request_error"

    @pytest.mark.parametrize(
        ("path", "width", "span", "default", "maximum"),
        [
            (USAGE, "1d", timedelta(days=200), 7, 31),
            (USAGE, "1h", timedelta(days=10), 24, 168),
            (USAGE, "1m", timedelta(days=2), 60, 1440),
            (COSTS, "1d", timedelta(days=200), 7, 180),
        ],
    )
    def test_limit_defaults_and_maxima(self, openai_app, path, width, span, default, maximum) -> None:
        _, client, _ = openai_app
        params = {"start_time": unix(date(2024, 6, 1)), "bucket_width": width}
        params["end_time"] = params["start_time"] + int(span.total_seconds())
        body = client.get(path, params=params).json()
        assert len(body["data"]) == default and body["has_more"] is True
        assert len(client.get(path, params={**params, "limit": maximum}).json()["data"]) == maximum
        too_many = client.get(path, params={**params, "limit": maximum + 1})
        assert_openai_error(
            too_many, openai_errors.IntegerAboveMaxValue(param="limit", value=maximum + 1, maximum=maximum)
        )
        assert too_many.json()["error"]["code"] == "integer_above_max_value"
        assert_openai_error(
            client.get(path, params={**params, "limit": 0}),
            openai_errors.IntegerBelowMinValue(param="limit", value=0),
        )

    def test_group_by_is_validated_per_endpoint(self, openai_app) -> None:
        _, client, _ = openai_app
        bad = client.get(COSTS, params={"start_time": unix(START), "group_by[]": "model"})
        supported = "'project_id', 'user_id', 'line_item', 'api_key_id', and 'api_source'"
        assert_openai_error(
            bad, openai_errors.InvalidValue(param="group_by", value="model", supported=supported)
        )
        assert (
            client.get(USAGE, params={"start_time": unix(START), "group_by[]": "line_item"}).status_code
            == 400
        )
        plain = client.get(
            USAGE, params={"start_time": unix(START), "end_time": unix(MID), "group_by": "model,batch"}
        )
        assert plain.status_code == 200 and plain.json()["data"][0]["results"][0]["batch"] is not None

    def test_missing_and_malformed_parameters(self, openai_app) -> None:
        _, client, _ = openai_app
        missing = client.get(USAGE)
        assert_openai_error(
            missing, openai_errors.MissingRequiredParameter(param="start_time", name="start_time")
        )
        assert (missing.json()["error"]["param"], missing.json()["error"]["code"]) == (
            "start_time",
            "missing_required_parameter",
        )
        assert client.get(USAGE, params={"start_time": "yesterday"}).json()["error"]["code"] == "invalid_type"
        bad_page = client.get(USAGE, params={"start_time": unix(START), "page": "page_nonsense"})
        assert bad_page.status_code == 400 and bad_page.json()["error"]["param"] == "page"
        assert_openai_error(bad_page, openai_errors.InvalidPage(param="page", page="page_nonsense"))

    def test_ungrouped_results_sum_every_model(self, openai_app) -> None:
        state, client, key = openai_app
        body = client.get(USAGE, params={"start_time": unix(MID), "end_time": unix(END)}).json()
        [result] = body["data"][0]["results"]
        assert result["model"] is None and result["project_id"] is None
        expected = state.expected_usage(key, MID, MID).values()
        assert result["input_tokens"] == sum(r.input_tokens for r in expected)
        assert result["num_model_requests"] == sum(r.requests or 0 for r in expected)

    def test_hourly_buckets_add_up_to_the_day(self, openai_app) -> None:
        _, client, _ = openai_app
        params = {"start_time": unix(MID), "end_time": unix(END), "group_by[]": "model"}
        daily = client.get(USAGE, params=params).json()["data"]
        hourly = client.get(USAGE, params={**params, "bucket_width": "1h"}).json()["data"]
        assert len(daily) == 1 and len(hourly) == 24
        assert [b["start_time"] - unix(MID) for b in hourly] == [3600 * h for h in range(24)]
        busy = [b for b in hourly if b["results"]]
        assert len(busy) == 1 and busy[0]["start_time"] == unix(MID, 12)
        assert busy[0]["results"] == daily[0]["results"]

    def test_filters_and_snapping(self, openai_app) -> None:
        state, client, _ = openai_app
        model = state.usage_models()[1]
        params = {"start_time": unix(MID, 7), "end_time": unix(END), "models[]": model, "group_by[]": "model"}
        body = client.get(USAGE, params=params).json()
        assert body["data"][0]["start_time"] == unix(MID)  # snapped to the start of the UTC day
        assert {r["model"] for b in body["data"] for r in b["results"]} <= {model}

    def test_cursor_round_trip(self) -> None:
        moment = datetime(2025, 5, 14, tzinfo=UTC)
        assert encode_cursor(moment) == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="  # Anthropic's documented example
        assert decode_cursor(encode_cursor(moment)) == moment
        assert decode_cursor("page_!!") is None and decode_cursor("cursor") is None


class TestAnthropicQueryForms:
    @pytest.mark.parametrize(
        ("path", "width", "choices"),
        [(A_USAGE, "1w", "'1d', '1h' or '1m'"), (A_COSTS, "1h", "'1d'")],
    )
    def test_invalid_bucket_width(self, anthropic_app, path, width, choices) -> None:
        _, client, _ = anthropic_app
        response = client.get(path, params={"starting_at": rfc(START), "bucket_width": width})
        assert_anthropic_error(
            response, anthropic_errors.InvalidLiteral(name="bucket_width", choices=choices)
        )
        assert response.json()["error"]["type"] == "invalid_request_error"

    @pytest.mark.parametrize(
        ("path", "width", "span", "default", "maximum"),
        [
            (A_USAGE, "1d", timedelta(days=200), 7, 31),
            (A_USAGE, "1h", timedelta(days=10), 24, 168),
            (A_USAGE, "1m", timedelta(days=2), 60, 1440),
            (A_COSTS, "1d", timedelta(days=200), 7, 31),
        ],
    )
    def test_limit_defaults_and_maxima(self, anthropic_app, path, width, span, default, maximum) -> None:
        _, client, _ = anthropic_app
        first = datetime(2024, 6, 1, tzinfo=UTC)
        params = {
            "starting_at": rfc(first.date()),
            "ending_at": (first + span).isoformat(),
            "bucket_width": width,
        }
        body = client.get(path, params=params).json()
        assert len(body["data"]) == default and body["has_more"] is True
        assert body["next_page"].startswith("page_")
        assert len(client.get(path, params={**params, "limit": maximum}).json()["data"]) == maximum
        too_many = client.get(path, params={**params, "limit": maximum + 1})
        assert_anthropic_error(too_many, anthropic_errors.LimitAboveMaximum(maximum=maximum))

    def test_array_parameters_need_brackets(self, anthropic_app) -> None:
        _, client, _ = anthropic_app
        response = client.get(A_USAGE, params={"starting_at": rfc(START), "group_by": "model"})
        assert_anthropic_error(response, anthropic_errors.BracketsRequired(name="group_by"))
        assert text_is_confirmed(anthropic_errors.BracketsRequired)
        assert response.json()["error"]["message"] == (
            "Invalid parameter `group_by`. Use `group_by[]` for array parameters."
        )

    def test_group_by_is_validated_per_endpoint(self, anthropic_app) -> None:
        _, client, _ = anthropic_app
        bad = client.get(A_COSTS, params={"starting_at": rfc(START), "group_by[]": "model"})
        choices = "'workspace_id' or 'description'"
        assert_anthropic_error(bad, anthropic_errors.InvalidLiteral(name="group_by.0", choices=choices))
        assert (
            client.get(A_USAGE, params={"starting_at": rfc(START), "group_by[]": "description"}).status_code
            == 400
        )

    def test_missing_and_malformed_parameters(self, anthropic_app) -> None:
        _, client, _ = anthropic_app
        assert_anthropic_error(client.get(A_USAGE), anthropic_errors.FieldRequired(name="starting_at"))
        assert_anthropic_error(
            client.get(A_USAGE, params={"starting_at": "soon"}),
            anthropic_errors.InvalidDatetime(name="starting_at"),
        )
        bad_page = client.get(A_USAGE, params={"starting_at": rfc(START), "page": "x"})
        assert bad_page.status_code == 400
        assert_anthropic_error(bad_page, anthropic_errors.InvalidPageToken())

    def test_only_whole_buckets_before_ending_at(self, anthropic_app) -> None:
        _, client, _ = anthropic_app
        body = client.get(A_USAGE, params={"starting_at": rfc(START, 5), "ending_at": rfc(END, 12)}).json()
        assert [b["starting_at"] for b in body["data"]] == [rfc(START), rfc(MID)]  # snapped; END is partial
        assert body == {**body, "has_more": False, "next_page": None}

    def test_cost_without_description_has_no_model(self, anthropic_app) -> None:
        state, client, key = anthropic_app
        body = client.get(A_COSTS, params={"starting_at": rfc(MID), "ending_at": rfc(END)}).json()
        [result] = body["data"][0]["results"]
        assert result["model"] is None and result["description"] is None and result["token_type"] is None
        total = sum(state.expected_costs(key, MID, MID).values())
        assert Decimal(result["amount"]) == total * 100


# --------------------------------------------------------------------------- wire shapes

OPENAI_USAGE_FIELDS = {
    "object", "input_tokens", "output_tokens", "input_cached_tokens", "input_audio_tokens",
    "output_audio_tokens", "num_model_requests", "project_id", "user_id", "api_key_id", "model",
    "batch", "service_tier", "api_source",
}  # fmt: skip
OPENAI_COST_FIELDS = {
    "object", "amount", "line_item", "project_id", "user_id", "api_key_id", "api_source", "quantity",
    "quantity_unit",
}  # fmt: skip
ANTHROPIC_USAGE_FIELDS = {
    "api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo", "speed",
    "account_id", "service_account_id", "uncached_input_tokens", "cache_creation",
    "cache_read_input_tokens", "output_tokens", "server_tool_use",
}  # fmt: skip
ANTHROPIC_COST_FIELDS = {
    "amount", "context_window", "cost_type", "currency", "description", "inference_geo", "model",
    "service_tier", "token_type", "workspace_id",
}  # fmt: skip


class TestWireShapes:
    def test_openai_usage(self, openai_app) -> None:
        _, client, _ = openai_app
        params = {
            "start_time": unix(START),
            "end_time": unix(END),
            "group_by[]": ["model", "project_id"],
            "limit": 1,
        }
        body = client.get(USAGE, params=params).json()
        assert set(body) == {"object", "data", "has_more", "next_page"} and body["object"] == "page"
        assert body["has_more"] is True and body["next_page"].startswith("page_")
        [bucket] = body["data"]
        assert set(bucket) == {"object", "start_time", "end_time", "results"} and bucket["object"] == "bucket"
        assert bucket["end_time"] - bucket["start_time"] == 86400
        for result in bucket["results"]:
            assert set(result) == OPENAI_USAGE_FIELDS
            assert result["object"] == "organization.usage.completions.result"
            assert result["project_id"].startswith("proj_") and result["api_key_id"] is None
            assert result["input_cached_tokens"] <= result["input_tokens"]

    def test_openai_costs(self, openai_app) -> None:
        _, client, _ = openai_app
        body = client.get(
            COSTS, params={"start_time": unix(START), "end_time": unix(MID), "group_by[]": "line_item"}
        )
        for result in body.json()["data"][0]["results"]:
            assert set(result) == OPENAI_COST_FIELDS
            assert result["object"] == "organization.costs.result"
            assert set(result["amount"]) == {"value", "currency"} and result["amount"]["currency"] == "usd"
            assert isinstance(result["amount"]["value"], float)
            assert re.fullmatch(r".+, (input|output)", result["line_item"])

    def test_anthropic_usage(self, anthropic_app) -> None:
        _, client, _ = anthropic_app
        params = {"starting_at": rfc(START), "ending_at": rfc(END), "group_by[]": ["model", "workspace_id"]}
        body = client.get(A_USAGE, params=params).json()
        assert set(body) == {"data", "has_more", "next_page"}
        for bucket in body["data"]:
            assert set(bucket) == {"starting_at", "ending_at", "results"}
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", bucket["starting_at"])
            for result in bucket["results"]:
                assert set(result) == ANTHROPIC_USAGE_FIELDS
                assert set(result["cache_creation"]) == {
                    "ephemeral_1h_input_tokens",
                    "ephemeral_5m_input_tokens",
                }
                assert set(result["server_tool_use"]) == {"web_search_requests"}
                assert result["workspace_id"] is None or result["workspace_id"].startswith("wrkspc_01")
                assert result["api_key_id"] is None  # not grouped on

    def test_anthropic_costs(self, anthropic_app) -> None:
        _, client, _ = anthropic_app
        params = {"starting_at": rfc(START), "ending_at": rfc(MID), "group_by[]": "description"}
        results = client.get(A_COSTS, params=params).json()["data"][0]["results"]
        token_types = set()
        for result in results:
            assert set(result) == ANTHROPIC_COST_FIELDS
            assert result["currency"] == "USD" and isinstance(result["amount"], str)
            assert re.fullmatch(r"\d+(\.\d+)?", result["amount"])
            assert result["cost_type"] == "tokens" and result["description"].startswith("Claude ")
            token_types.add(result["token_type"])
        assert {"uncached_input_tokens", "output_tokens", "cache_read_input_tokens"} <= token_types
        assert token_types <= {
            "uncached_input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation.ephemeral_5m_input_tokens",
            "cache_creation.ephemeral_1h_input_tokens",
        }

    def test_the_openai_sdk_parses_the_fake(self, mocks: ProviderMocks) -> None:
        key = mocks.openai.issue_admin_key()
        client = openai.OpenAI(admin_api_key=key, max_retries=0)
        usage = client.admin.organization.usage
        first = usage.completions(
            start_time=unix(START), end_time=unix(END + timedelta(1)), group_by=["model"], limit=2
        )
        assert first.has_more and first.next_page
        rest = usage.completions(
            start_time=unix(START),
            end_time=unix(END + timedelta(1)),
            group_by=["model"],
            limit=2,
            page=first.next_page,
        )
        assert not rest.has_more and rest.next_page is None
        parsed = {
            (datetime.fromtimestamp(b.start_time, UTC).date(), r.model): (
                r.input_tokens,
                r.input_cached_tokens,
            )
            for page in (first, rest)
            for b in page.data
            for r in b.results
        }
        expected = mocks.openai.expected_usage(key, START, END)
        assert parsed == {k: (v.input_tokens, v.cached_input_tokens) for k, v in expected.items()}
        assert "group_by%5B%5D=model" in mocks.openai.requests[0].query  # the SDK sends brackets
        costs = usage.costs(start_time=unix(START), end_time=unix(MID), group_by=["line_item"])
        result = costs.data[0].results[0]
        assert type(result).__name__ == "DataResultOrganizationCostsResult"
        assert result.amount is not None and result.amount.currency == "usd" and result.line_item

    def test_the_openai_sdk_sees_the_missing_scope(self, mocks: ProviderMocks) -> None:
        client = openai.OpenAI(admin_api_key=mocks.openai.issue_key(), max_retries=0)
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.admin.organization.usage.costs(start_time=unix(START))
        assert caught.value.status_code == 403
        assert caught.value.body == OPENAI_SCOPE_MESSAGE


# ------------------------------------------------------------------------- corruption


@pytest.mark.parametrize("provider", PROVIDERS)
class TestCorruption:
    def test_negative_tokens(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        corruption = state.corrupt(MID, "negative_tokens")
        assert (corruption.day, corruption.model) == (MID, state.usage_models()[0])
        pulled = by_key(source(provider, sleeps, clock).usage(key, START, END))
        expected = state.expected_usage(key, START, END)
        target = (MID, corruption.model)
        assert pulled[target].output_tokens == -expected[target].output_tokens < 0
        assert pulled[target].input_tokens == expected[target].input_tokens
        assert {k: v for k, v in pulled.items() if k != target} == {
            k: v for k, v in expected.items() if k != target
        }
        assert by_key(source(provider, sleeps, clock).costs(key, START, END)) == state.expected_costs(
            key, START, END
        )

    def test_duplicate_row(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        assert state.corrupt(MID, "duplicate_row").model is None
        expected = state.expected_usage(key, START, END)
        for pull, truth in (
            (source(provider, sleeps, clock).usage(key, START, END), expected),
            (
                source(provider, sleeps, clock, page_size=1).costs(key, START, END),
                state.expected_costs(key, START, END),
            ),
        ):
            counts = Counter((r.day, r.model) for r in pull.records)
            assert {k for k, n in counts.items() if n == 2} == {k for k in truth if k[0] == MID}
            assert set(counts.values()) == {1, 2}
            twins = [r for r in pull.records if r.day == MID]
            assert twins[: len(twins) // 2] == twins[len(twins) // 2 :]  # identical, back to back
            assert {(r.day, r.model) for r in pull.records} == set(truth)

    def test_cost_mismatch(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        corruption = state.corrupt(END, "cost_mismatch")
        target = (END, corruption.model)
        costs = by_key(source(provider, sleeps, clock).costs(key, START, END))
        expected = state.expected_costs(key, START, END)
        assert costs[target] == expected[target] + COST_MISMATCH_USD == expected[target] + Decimal("1.00")
        assert {k: v for k, v in costs.items() if k != target} == {
            k: v for k, v in expected.items() if k != target
        }
        usage = by_key(source(provider, sleeps, clock).usage(key, START, END))
        assert usage == state.expected_usage(key, START, END)
        assert state.price_usage(usage[target]) != costs[target]

    def test_bad_requests_and_reset(self, provider) -> None:
        state = OpenAIState() if provider == "openai" else AnthropicState()
        with pytest.raises(ValueError, match="unknown corruption"):
            state.corrupt(MID, "late_data")
        with pytest.raises(ValueError, match="not one of"):
            state.corrupt(MID, "negative_tokens", model="nope")
        for kind in CORRUPTION_KINDS:
            state.corrupt(MID, kind)
        assert [c.kind for c in state.corruptions] == list(CORRUPTION_KINDS)
        state.reset()
        assert state.corruptions == []


# ------------------------------------------------------------------------ determinism


@pytest.mark.parametrize("provider", PROVIDERS)
class TestGenerator:
    def test_seeded_per_org_and_day(self, provider) -> None:
        cls = OpenAIState if provider == "openai" else AnthropicState
        a, b = cls(seed=1), cls(seed=1)
        key_a, key_b = a.issue_admin_key(), b.issue_admin_key()
        assert key_a == key_b and a.expected_usage(key_a, START, END) == b.expected_usage(key_b, START, END)
        other_org = a.issue_admin_key()
        assert a.expected_usage(other_org, START, END) != a.expected_usage(key_a, START, END)
        assert cls(seed=2).expected_usage(key_a, START, END) != a.expected_usage(key_a, START, END)
        assert a.expected_usage(key_a, START, MID) == {
            k: v for k, v in a.expected_usage(key_a, START, END).items() if k[0] <= MID
        }

    def test_activity(self, provider) -> None:
        cls = OpenAIState if provider == "openai" else AnthropicState
        idle = cls(activity_rate=0.0, usage_model_count=5).expected_usage("k", START, END)
        assert {model for _, model in idle} == {cls().usage_models()[0]}
        busy = cls(activity_rate=1.0, usage_model_count=5).expected_usage("k", START, END)
        assert len(busy) == 15
        with pytest.raises(ValueError):
            cls(usage_model_count=0)
        with pytest.raises(ValueError):
            cls(activity_rate=1.5)


# ---------------------------------------------------------------------- construction


class TestUsageSourceFor:
    def test_builds_the_provider_source(self, clock) -> None:
        openai_source = usage_source_for(Provider.OPENAI, base_url="https://gw.test/openai/", page_size=3)
        assert isinstance(openai_source, OpenAIUsageSource) and isinstance(openai_source, UsageSource)
        assert openai_source.base_url == "https://gw.test/openai" and openai_source.page_size == 3
        anthropic_source = usage_source_for("anthropic", clock=clock)
        assert isinstance(anthropic_source, AnthropicUsageSource)
        assert anthropic_source.provider is Provider.ANTHROPIC
        assert anthropic_source.base_url == "https://api.anthropic.com"

    def test_bad_options(self) -> None:
        with pytest.raises(ValueError, match="model"):
            OpenAIUsageSource(group_by=("project_id",))
        with pytest.raises(ValueError):
            AnthropicUsageSource(page_size=0)
        with pytest.raises(ValueError, match="after"):
            OpenAIUsageSource().usage("k", END, START)

    @pytest.mark.parametrize("provider", PROVIDERS)
    def test_requests_on_the_wire(self, provider, mocks, sleeps, clock) -> None:
        state = state_of(mocks, provider)
        key = state.issue_admin_key()
        source(provider, sleeps, clock).usage(key, START, END)
        request = mocks.calls.last.request
        params = httpx.QueryParams(request.url.query)
        if provider == "openai":
            assert request.url.path == "/v1/organization/usage/completions"
            assert request.headers["authorization"] == f"Bearer {key}"
            assert (params["start_time"], params["end_time"]) == (
                str(unix(START)),
                str(unix(END + timedelta(1))),
            )
            assert params["limit"] == "31"
        else:
            assert request.url.path == "/v1/organizations/usage_report/messages"
            assert (request.headers["x-api-key"], request.headers["anthropic-version"]) == (key, "2023-06-01")
            assert (params["starting_at"], params["ending_at"]) == (
                "2025-02-26T00:00:00Z",
                "2025-03-01T00:00:00Z",
            )
            assert params["limit"] == "31"
        assert params["bucket_width"] == "1d" and params.get_list("group_by[]") == ["model"]

    def test_a_client_passed_in_is_used_and_left_open(self, mocks, sleeps, clock) -> None:
        key = mocks.anthropic.issue_admin_key()
        with httpx.Client(headers={"x-trace": "t1"}) as client:
            with AnthropicUsageSource(client=client, sleep=sleeps.append, clock=clock) as src:
                assert src.usage(key, START, START).records
            assert not client.is_closed
        assert mocks.anthropic.requests[-1].headers["x-trace"] == "t1"
